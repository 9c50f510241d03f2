//! Planning a renewal: what a selection names (a file, a CN, everything expiring soon), and
//! for each certificate how it is renewed (its profile, subject, SANs, issuer, key, lifetime),
//! or why it cannot be.

use std::path::Path;

use pki_register::{Query, Record, Status};
use time::OffsetDateTime;
use x509_parser::extensions::GeneralName;

use super::execute::placed_prefix;
use super::{Options, Plan, Renewal, Selection, Skipped};
use crate::error::{CertPart, Error, Refusal, Result, Unreproducible};
use crate::issue::{DEFAULT_BACKDATE, Facts};
use crate::profile::{Profile, SanEntry, Subject};
use crate::store::{
    CaDir, INTERMEDIATE_PREFIX, KeyRecord, ROOT_PREFIX, device_prefix, edge_ca_prefix,
    read_first_cert, server_prefix,
};
use pki_x509::Certificate;
use pki_x509::key_type_of_spki;
use pki_x509::oid;

/// Finds what `selection` names and plans each renewal. A single certificate that cannot be
/// renewed is an error (a file not in the register names `--adopt`); of `--expiring`, it is
/// [`Plan::skipped`].
pub fn plan(ca: &CaDir, selection: &Selection, opts: &Options) -> Result<Plan> {
    let mut plan = Plan::default();
    match selection {
        Selection::File(path) => {
            let cert = read_first_cert(path)?;
            let by_sha = Query {
                sha256: Some(cert.sha256_hex()),
                ..Query::default()
            };
            let renewal = match ca.records(&by_sha)?.into_iter().next() {
                Some(row) => renewal_of(ca, row, cert, false, opts, Vec::new())?,
                None if opts.adopt => adopt(ca, path, cert, opts)?,
                None => {
                    return Err(Error::NotRegistered {
                        input: path.display().to_string(),
                        sha256: cert.sha256_hex(),
                    });
                }
            };
            plan.renewals.push(renewal);
        }
        Selection::CommonName(cn) => {
            let query = Query {
                common_name: Some(cn.clone()),
                status: Some(Status::Issued),
                ..Query::default()
            };
            // The pattern also matches CNs with `*`, `?` or `[` where `cn` has them: exact only.
            let mut rows: Vec<Record> = ca
                .records(&query)?
                .into_iter()
                .filter(|r| &r.common_name == cn)
                .collect();
            // Rows come by notAfter: the last expires last.
            let Some(row) = rows.pop() else {
                return Err(Error::UnknownName {
                    name: cn.clone(),
                    register: ca.register_location().to_string(),
                });
            };
            let mut notes = Vec::new();
            if !rows.is_empty() {
                notes.push(format!(
                    "{} certificates in service have the CN {cn:?}: renewing the one that expires last (serial {}, {})",
                    rows.len() + 1,
                    row.serial,
                    row.path
                ));
            }
            refuse_enrolled_over_est(&row)?;
            let cert = read_first_cert(&ca.file_of(&row.path))?;
            plan.renewals
                .push(renewal_of(ca, row, cert, false, opts, notes)?);
        }
        Selection::Expiring(within) => {
            // What is in service: a proof-of-possession certificate is never renewed.
            let query = Query {
                status: Some(Status::Issued),
                expires_by: Some(opts.now + *within),
                not_profiles: crate::policy::THROWAWAY_PROFILES
                    .iter()
                    .map(|p| p.to_string())
                    .collect(),
                ..Query::default()
            };
            for row in ca.records(&query)? {
                let skip = |row: &Record, e: Error| Skipped {
                    subject: row.subject.clone(),
                    serial: row.serial.clone(),
                    path: row.path.clone(),
                    reason: e.to_string(),
                };
                match refuse_enrolled_over_est(&row)
                    .and_then(|()| read_first_cert(&ca.file_of(&row.path)))
                    .and_then(|cert| renewal_of(ca, row.clone(), cert, false, opts, Vec::new()))
                {
                    Ok(r) => plan.renewals.push(r),
                    Err(e) => plan.skipped.push(skip(&row, e)),
                }
            }
            plan.renewals
                .sort_by_key(|r| (rank(r.profile), r.old.not_after));
        }
    }
    Ok(plan)
}

/// Refuses a certificate a device enrolled for over EST: the device renews it.
fn refuse_enrolled_over_est(row: &Record) -> Result<()> {
    if row.path.starts_with(crate::EST_PATH_PREFIX) {
        return Err(Error::Refused(Refusal::EnrolledOverEst {
            subject: row.subject.clone(),
        }));
    }
    Ok(())
}

/// CAs before what they sign.
fn rank(p: Profile) -> u8 {
    rank_name(p.name())
}

/// CAs before what they sign, by profile name.
pub(super) fn rank_name(profile: &str) -> u8 {
    match profile {
        "root-ca" | "root" => 0,
        "intermediate-ca" | "intermediate" => 1,
        "edge-ca" => 2,
        _ => 3,
    }
}

/// Plans the renewal of the certificate `cert` whose register row is `row`.
fn renewal_of(
    ca: &CaDir,
    row: Record,
    cert: Certificate,
    adopt: bool,
    opts: &Options,
    notes: Vec<String>,
) -> Result<Renewal> {
    if row.status != Status::Issued {
        return Err(Error::NotInService {
            subject: row.subject.clone(),
            serial: row.serial.clone(),
            status: row.status.as_str(),
            superseded_by: row.superseded_by.clone(),
        });
    }
    let profile = profile_named(&row.profile, &cert).ok_or_else(|| {
        Error::Refused(Refusal::ProfileNotRenewed {
            subject: row.subject.clone(),
            profile: row.profile.clone(),
        })
    })?;
    if !profile.in_service() {
        return Err(Error::Refused(Refusal::VerificationNotRenewed {
            subject: row.subject.clone(),
        }));
    }
    let subject = subject_of(&cert)?;
    let sans = sans_of(&cert)?;
    let key_type = key_type_of_spki(cert.x509().public_key()).map_err(|e| {
        Error::Refused(Refusal::KeyNotRenewable {
            subject: row.subject.clone(),
            reason: e.to_string(),
        })
    })?;
    let placement = ca.placement(&row.path)?;
    let prefix = match &placement {
        // The file's name stands for the prefix (a token's key label, the messages).
        Some(p) => placed_prefix(&p.cert),
        None => prefix_of(ca, &row.path, profile, &subject.common_name),
    };
    let issuer_prefix = if profile.is_self_signed() {
        None
    } else {
        Some(issuer_prefix(ca, &row, &cert)?)
    };
    let days = opts
        .days
        .unwrap_or_else(|| lifetime_days(row.not_before, row.not_after));
    Ok(Renewal {
        adopt,
        prefix: prefix.clone(),
        profile,
        key_type,
        days,
        issuer_key: issuer_prefix.as_deref().map(|p| ca.key_record(p)),
        issuer_prefix,
        key: match &placement {
            Some(p) => KeyRecord::File(p.key.clone()),
            None => ca.key_record(&prefix),
        },
        reuse_key: opts.reuse_key,
        placement,
        notes,
        subject,
        sans,
        force: opts.force,
        old: row,
        old_cert: cert,
    })
}

/// The original's lifetime (notAfter - notBefore, less pki's back-dating) in whole days, at
/// least one.
fn lifetime_days(not_before: OffsetDateTime, not_after: OffsetDateTime) -> u32 {
    let seconds = (not_after - not_before - DEFAULT_BACKDATE).whole_seconds();
    let days = (seconds + 43_200).div_euclid(86_400);
    u32::try_from(days.max(1)).unwrap_or(u32::MAX)
}

/// Records a certificate the register does not know, when a CA of the directory signed it.
fn adopt(ca: &CaDir, path: &Path, cert: Certificate, opts: &Options) -> Result<Renewal> {
    let input = path.display().to_string();
    let Some(issuer) = ca
        .ca_certificates()
        .into_iter()
        .find(|c| cert.is_signed_by(c))
    else {
        return Err(Error::NotIssuedHere {
            input,
            dir: ca.path().to_owned(),
        });
    };
    let profile = infer_profile(&cert).ok_or_else(|| {
        Error::Refused(Refusal::NoProfileMatches {
            input: input.clone(),
        })
    })?;
    let row = ca.record_of(&cert, &Facts::of(&cert), issuer.sha256_hex(), profile, path);
    renewal_of(
        ca,
        row,
        cert,
        true,
        opts,
        vec![format!(
            "{input} was not in the register: recorded (adopted)"
        )],
    )
}

/// A profile from its register name, with the path length read from the certificate.
fn profile_named(name: &str, cert: &Certificate) -> Option<Profile> {
    let pathlen = pathlen(cert);
    Some(match name {
        "root-ca" | "root" => Profile::RootCa { pathlen },
        "intermediate-ca" | "intermediate" => Profile::IntermediateCa { pathlen },
        "edge-ca" => Profile::EdgeCa,
        "server" => Profile::Server,
        "device" => Profile::Device,
        "self-signed-device" => Profile::SelfSignedDevice,
        "verification" => Profile::Verification,
        _ => return None,
    })
}

fn pathlen(cert: &Certificate) -> Option<u8> {
    cert.x509()
        .basic_constraints()
        .ok()
        .flatten()
        .and_then(|bc| bc.value.path_len_constraint)
        .and_then(|n| u8::try_from(n).ok())
}

/// The profile whose extensions a certificate made elsewhere carries.
fn infer_profile(cert: &Certificate) -> Option<Profile> {
    let x = cert.x509();
    let eku = x
        .extended_key_usage()
        .ok()
        .flatten()
        .map(|e| e.value.clone());
    let crl_sign = x
        .key_usage()
        .ok()
        .flatten()
        .is_some_and(|k| k.value.crl_sign());
    let pathlen = pathlen(cert);
    if cert.is_ca() {
        return Some(if cert.is_self_issued() {
            if eku.is_some_and(|e| e.client_auth) {
                Profile::SelfSignedDevice
            } else {
                Profile::RootCa { pathlen }
            }
        } else if pathlen == Some(0) && !crl_sign {
            Profile::EdgeCa
        } else {
            Profile::IntermediateCa { pathlen }
        });
    }
    match eku {
        Some(e) if e.server_auth => Some(Profile::Server),
        Some(e) if e.client_auth => Some(Profile::Device),
        _ => None,
    }
}

/// The subject as pki issues it (O, OU, CN); anything else is refused.
fn subject_of(cert: &Certificate) -> Result<Subject> {
    let mut s = Subject::default();
    let x = cert.x509();
    let refuse = |what| {
        Error::Refused(Refusal::NotReproducible {
            subject: cert.subject(),
            part: CertPart::Subject,
            what,
        })
    };
    for attr in x.subject().iter_attributes() {
        let value = attr
            .as_str()
            .map_err(|_| refuse(Unreproducible::NotText))?
            .to_owned();
        let slot = match attr.attr_type().to_id_string().as_str() {
            oid::COMMON_NAME if s.common_name.is_empty() => &mut s.common_name,
            oid::ORGANIZATION_NAME if s.organization.is_none() => {
                s.organization.insert(String::new())
            }
            oid::ORGANIZATIONAL_UNIT_NAME if s.organizational_unit.is_none() => {
                s.organizational_unit.insert(String::new())
            }
            oid => {
                return Err(refuse(Unreproducible::Attribute {
                    oid: oid.to_owned(),
                }));
            }
        };
        *slot = value;
    }
    if s.common_name.is_empty() {
        return Err(refuse(Unreproducible::NoCommonName));
    }
    Ok(s)
}

/// The SANs (DNS names and IP addresses); any other kind is refused.
pub fn sans_of(cert: &Certificate) -> Result<Vec<SanEntry>> {
    let x = cert.x509();
    let Ok(Some(san)) = x.subject_alternative_name() else {
        return Ok(Vec::new());
    };
    san.value
        .general_names
        .iter()
        .map(|n| match n {
            GeneralName::DNSName(d) => Ok(SanEntry::Dns((*d).to_owned())),
            GeneralName::IPAddress(b) => pki_x509::text::ip_from_bytes(b)
                .map(SanEntry::Ip)
                .ok_or_else(|| bad_san(cert, Unreproducible::OddIpAddress)),
            other => Err(bad_san(
                cert,
                Unreproducible::OtherName {
                    name: format!("{other:?}"),
                },
            )),
        })
        .collect()
}

fn bad_san(cert: &Certificate, what: Unreproducible) -> Error {
    Error::Refused(Refusal::NotReproducible {
        subject: cert.subject(),
        part: CertPart::SubjectAltNames,
        what,
    })
}

/// The prefix of the standard paths: the register's `certs/<prefix>.cert.pem`, else the
/// profile's name for the CN.
fn prefix_of(ca: &CaDir, path: &str, profile: Profile, cn: &str) -> String {
    if let Some(p) = ca.prefix_in_certs(path) {
        return p;
    }
    match profile {
        Profile::RootCa { .. } => ROOT_PREFIX.to_owned(),
        Profile::IntermediateCa { .. } => INTERMEDIATE_PREFIX.to_owned(),
        Profile::EdgeCa => edge_ca_prefix(crate::policy::edge_ca_name(cn)),
        Profile::Server => server_prefix(cn),
        _ => device_prefix(cn),
    }
}

/// The CA that signs the renewal: the one whose certificate the row's `issuer_sha256` names,
/// or (when that CA has been renewed since, or the row does not say) the CA of the directory
/// with the original's issuer name.
fn issuer_prefix(ca: &CaDir, row: &Record, cert: &Certificate) -> Result<String> {
    let issuer_name = cert.x509().issuer().as_raw().to_vec();
    let mut by_name = Vec::new();
    for prefix in ca.ca_prefixes() {
        let Ok(c) = read_first_cert(&ca.cert_path(&prefix)) else {
            continue;
        };
        if row.issuer_sha256.as_deref() == Some(c.sha256_hex().as_str()) {
            return Ok(prefix);
        }
        if c.x509().subject().as_raw() == issuer_name.as_slice() {
            by_name.push(prefix);
        }
    }
    match by_name.len() {
        1 => Ok(by_name.remove(0)),
        0 => Err(Error::Refused(Refusal::IssuerGone {
            subject: row.subject.clone(),
            issuer: row.issuer.clone(),
            dir: ca.path().to_owned(),
        })),
        _ => Err(Error::Refused(Refusal::IssuerAmbiguous {
            subject: row.subject.clone(),
            issuer: row.issuer.clone(),
            dir: ca.path().to_owned(),
            prefixes: by_name,
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    #[test]
    fn the_lifetime_is_the_originals_in_days() {
        let at = time::macros::datetime!(2026-01-01 0:00 UTC);
        let days = |n: i64| lifetime_days(at - DEFAULT_BACKDATE, at + Duration::days(n));
        assert_eq!(days(365), 365);
        assert_eq!(days(0), 1);
    }
}
