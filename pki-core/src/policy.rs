//! The CA policy, in one place: which CA issues a certificate of each profile when the user
//! names none, what an IoT Edge device CA is called (`NAME.ca`), whether a name is free (an
//! edge CA's CN never equals a gateway host name or a device id: IoT Edge refuses that
//! configuration), and which certificates are in service (a proof-of-possession certificate is
//! a throwaway: never renewed, never watched for expiry).
//!
//! The CLI, the batch, quickstart and renewal ask here; none keeps a rule of its own. The
//! register is the one source of the names in use: what the directory's files say is what the
//! register recorded when they were written.

use pki_register::{Query, Register, Status};

use crate::error::{Error, Refusal, Result};
use crate::profile::Profile;
use crate::store::{CaDir, CaRole};

/// What an IoT Edge device CA's CN adds to its name.
pub const EDGE_CA_CN_SUFFIX: &str = ".ca";

/// The start of the register path of a certificate a device enrolled for over EST
/// (`est:LABEL/CN`): its file is on the device, not in the directory.
pub const EST_PATH_PREFIX: &str = "est:";

/// The profiles whose certificates are never in service: left out of `--expiring` views and
/// of renewal.
pub const THROWAWAY_PROFILES: &[&str] = &["verification"];

/// The CN of the IoT Edge device CA `name`: `NAME.ca`.
pub fn edge_ca_cn(name: &str) -> String {
    format!("{name}{EDGE_CA_CN_SUFFIX}")
}

/// The name of the edge CA whose CN (or name) is `cn_or_name`: `gw.ca` and `gw` both name `gw`.
pub fn edge_ca_name(cn_or_name: &str) -> &str {
    cn_or_name
        .strip_suffix(EDGE_CA_CN_SUFFIX)
        .unwrap_or(cn_or_name)
}

impl Profile {
    /// Whether certificates of this profile are in service: renewed, and watched for expiry.
    pub fn in_service(self) -> bool {
        !THROWAWAY_PROFILES.contains(&self.name())
    }
}

/// Reads the rows a query selects, each to a callback that returns false to stop (a register's
/// or a transaction's `for_each`).
pub type ReadRows<'a> = dyn FnMut(&Query, &mut dyn FnMut(pki_register::Record) -> bool) -> pki_register::Result<()>
    + 'a;

impl CaDir {
    /// The CAs that issue a certificate of `profile` when the user names none, in order of
    /// preference (the first the directory holds signs): a server certificate the directory's
    /// one edge CA, else the intermediate, else the root; a device or an edge CA the
    /// intermediate, else the root; an intermediate or a proof-of-possession certificate the
    /// root; a root or a self-signed device nobody. With several edge CAs, which one signs a
    /// server certificate is the user's choice ([`Refusal::SeveralEdgeCas`]).
    pub fn default_issuers(&self, profile: Profile) -> Result<Vec<CaRole>> {
        Ok(match profile {
            Profile::RootCa { .. } | Profile::SelfSignedDevice => Vec::new(),
            Profile::IntermediateCa { .. } | Profile::Verification => vec![CaRole::Root],
            Profile::EdgeCa | Profile::Device => vec![CaRole::Intermediate, CaRole::Root],
            Profile::Server => {
                let edge = self.edge_ca_names()?;
                if edge.len() > 1 {
                    return Err(Error::Refused(Refusal::SeveralEdgeCas {
                        dir: self.path().to_owned(),
                        names: edge,
                    }));
                }
                let mut roles: Vec<CaRole> = edge.into_iter().map(CaRole::EdgeCa).collect();
                roles.extend([CaRole::Intermediate, CaRole::Root]);
                roles
            }
        })
    }

    /// The CA that issues a certificate of `profile` when the user names none: the first of
    /// [`CaDir::default_issuers`] the directory holds.
    pub fn default_issuer(&self, profile: Profile) -> Result<CaRole> {
        let roles = self.default_issuers(profile)?;
        roles.iter().find(|r| self.has(r)).cloned().ok_or_else(|| {
            Error::Refused(Refusal::NoIssuer {
                dir: self.path().to_owned(),
                looked_for: roles.iter().map(ToString::to_string).collect(),
            })
        })
    }

    /// Refuses `cn` for a certificate of `profile` when an IoT Edge device CA's CN would equal
    /// a gateway host name or a device id (compared without regard to ASCII case): a server or
    /// device certificate whose CN is an edge CA's, or an edge CA whose CN is a server's or a
    /// device's. Read from the register's certificates in service.
    pub fn check_name_free(&self, cn: &str, profile: Profile) -> Result<()> {
        self.check_name_free_in(&mut self.register()?, cn, profile)
    }

    /// [`CaDir::check_name_free`] on the directory's register already open (a server's
    /// pooled connection), instead of a connection of its own.
    pub fn check_name_free_in(
        &self,
        register: &mut Register,
        cn: &str,
        profile: Profile,
    ) -> Result<()> {
        self.check_name_free_by(&mut |q, each| register.for_each(q, each), cn, profile)
    }

    /// [`CaDir::check_name_free`] on the rows `rows` reads (a transaction's, which sees its own
    /// writes: a server checks each enrolment in the transaction that records it).
    pub fn check_name_free_by(
        &self,
        rows: &mut ReadRows<'_>,
        cn: &str,
        profile: Profile,
    ) -> Result<()> {
        let against_edge_ca = matches!(
            profile,
            Profile::Server | Profile::Device | Profile::SelfSignedDevice
        );
        if !against_edge_ca && profile != Profile::EdgeCa {
            return Ok(());
        }
        let mut query = Query {
            status: Some(Status::Issued),
            ..Default::default()
        };
        // A server or device certificate can only clash with an edge CA: the register's profile
        // index gives those few rows, not the whole fleet (a new edge CA is the rare case that
        // looks at every server and device).
        if against_edge_ca {
            query.profile = Some(Profile::EdgeCa.name().to_owned());
        }
        let mut clash = None;
        rows(&query, &mut |e| {
            let is_clash = e.common_name.eq_ignore_ascii_case(cn)
                && if against_edge_ca {
                    e.profile == Profile::EdgeCa.name()
                } else {
                    e.profile == Profile::Server.name() || e.profile.contains("device")
                };
            if is_clash {
                clash = Some(e);
            }
            !is_clash
        })?;
        match clash {
            Some(e) => Err(Error::Refused(Refusal::NameClash {
                name: cn.to_owned(),
                profile: profile.name(),
                other_profile: e.profile,
                other_path: e.path,
            })),
            None => Ok(()),
        }
    }

    /// The CNs of the edge CAs in service, each with the edge CA's name: the device ids a batch
    /// cannot use.
    pub fn edge_ca_cns(&self) -> Result<Vec<(String, String)>> {
        let query = Query {
            status: Some(Status::Issued),
            profile: Some(Profile::EdgeCa.name().to_owned()),
            ..Default::default()
        };
        let mut cns = Vec::new();
        self.register()?.for_each(&query, &mut |e| {
            let name = edge_ca_name(&e.common_name).to_owned();
            cns.push((e.common_name, name));
            true
        })?;
        Ok(cns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edge_ca_is_named_by_its_cn_and_its_name() {
        assert_eq!(edge_ca_cn("gw"), "gw.ca");
        assert_eq!(edge_ca_name("gw.ca"), "gw");
        assert_eq!(edge_ca_name("gw"), "gw");
        assert_eq!(edge_ca_name(&edge_ca_cn("site.2")), "site.2");
    }

    #[test]
    fn only_proof_of_possession_certificates_are_out_of_service() {
        assert!(!Profile::Verification.in_service());
        for p in [
            Profile::RootCa { pathlen: None },
            Profile::IntermediateCa { pathlen: None },
            Profile::EdgeCa,
            Profile::Server,
            Profile::Device,
            Profile::SelfSignedDevice,
        ] {
            assert!(p.in_service(), "{p:?}");
        }
    }
}
