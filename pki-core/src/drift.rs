//! Drift: what a gateway serves against what the register says was issued. A renewal whose
//! hook ran but whose broker was not reloaded leaves the gateway serving the superseded
//! certificate; a revoked certificate still served, one the register never recorded, one from
//! another CA: each is told apart from the certificate in service.
//!
//! The certificates a gateway presents are looked up in the register by SHA-256. An Azure IoT
//! Edge gateway serves a server certificate its Edge CA issued itself, which no register holds:
//! it is judged by that Edge CA's row. Of the rows found, the worst status is the verdict
//! (revoked, then superseded): a leaf in service behind a superseded intermediate is drift too.

use pki_register::{Query, Register, Status};
use serde::Serialize;
use time::OffsetDateTime;

use crate::error::Result;
use crate::profile::Profile;
use crate::store::CaDir;
use crate::x509::Certificate;

/// How what a gateway serves stands against the register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftKind {
    /// The certificate in service (no drift).
    InService,
    /// A certificate a renewal replaced: the gateway was not given (or not reloaded with) the
    /// new one.
    Superseded,
    /// A revoked certificate.
    Revoked,
    /// Issued by one of the directory's CAs, but not recorded in the register.
    NotIssued,
    /// From a CA that is not the directory's.
    ForeignCa,
}

impl DriftKind {
    /// The word `--json` and the table use (`in_service`, `superseded`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            DriftKind::InService => "in_service",
            DriftKind::Superseded => "superseded",
            DriftKind::Revoked => "revoked",
            DriftKind::NotIssued => "not_issued",
            DriftKind::ForeignCa => "foreign_ca",
        }
    }

    /// True for everything but the certificate in service.
    pub fn is_drift(self) -> bool {
        self != DriftKind::InService
    }
}

/// The register's row of the certificate a drift verdict is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DriftRow {
    /// Its place in what the gateway sent (0: the gateway's own certificate; 1: an IoT Edge
    /// gateway's Edge CA, or an intermediate).
    pub depth: usize,
    /// Serial, upper-case hex.
    pub serial: String,
    /// The subject's CN.
    pub common_name: String,
    /// Its profile.
    pub profile: String,
    /// Its status in the register.
    pub status: Status,
    /// Where its file is (or `est:` for one a device enrolled).
    pub path: String,
    /// The serial of the certificate that replaced it (superseded).
    pub superseded_by_serial: Option<String>,
    /// When it was revoked.
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    /// Why (an RFC 5280 reason name).
    pub revocation_reason: Option<String>,
}

/// The verdict on one gateway's chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drift {
    /// How it stands.
    pub drift: DriftKind,
    /// The row it was judged by (none for `not_issued` and `foreign_ca`).
    pub register: Option<DriftRow>,
}

/// What judging needs besides the register: the directory's CA certificates (current and kept
/// by renewals, [`CaDir::ca_certificates`]), read once for a whole scan.
pub struct DriftJudge {
    cas: Vec<Certificate>,
}

impl CaDir {
    /// A judge of gateways' chains against this directory.
    pub fn drift_judge(&self) -> DriftJudge {
        DriftJudge {
            cas: self.ca_certificates(),
        }
    }
}

/// How bad a row's status is, for the worst of a chain.
fn severity(s: Status) -> u8 {
    match s {
        Status::Issued => 0,
        Status::Superseded => 1,
        Status::Revoked => 2,
    }
}

impl DriftJudge {
    /// Judges `chain` (what the gateway sent, its own certificate first) against `register`.
    /// `None` when nothing was sent.
    pub fn judge(&self, register: &mut Register, chain: &[Certificate]) -> Result<Option<Drift>> {
        let Some(leaf) = chain.first() else {
            return Ok(None);
        };
        let mut rows = Vec::with_capacity(chain.len());
        for c in chain {
            let query = Query {
                sha256: Some(c.sha256_hex()),
                ..Query::default()
            };
            rows.push(register.records(&query)?.into_iter().next());
        }
        if rows[0].is_none() {
            // Not recorded: an IoT Edge gateway's own server certificate, issued by its Edge CA
            // (recorded), or drift.
            let by_edge_ca = chain.iter().zip(&rows).skip(1).any(|(c, row)| {
                row.as_ref()
                    .is_some_and(|r| r.profile == Profile::EdgeCa.name())
                    && leaf.is_signed_by(c)
            });
            if !by_edge_ca {
                let ours = self.cas.iter().any(|ca| leaf.is_signed_by(ca))
                    || chain
                        .iter()
                        .zip(&rows)
                        .skip(1)
                        .any(|(c, row)| row.is_some() && leaf.is_signed_by(c));
                let drift = if ours {
                    DriftKind::NotIssued
                } else {
                    DriftKind::ForeignCa
                };
                return Ok(Some(Drift {
                    drift,
                    register: None,
                }));
            }
        }
        let worst = rows
            .into_iter()
            .enumerate()
            .filter_map(|(depth, r)| r.map(|r| (depth, r)))
            .max_by_key(|(depth, r)| (severity(r.status), std::cmp::Reverse(*depth)));
        let Some((depth, row)) = worst else {
            return Ok(None);
        };
        let superseded_by_serial = match &row.superseded_by {
            Some(sha) => {
                let query = Query {
                    sha256: Some(sha.clone()),
                    ..Query::default()
                };
                register
                    .records(&query)?
                    .into_iter()
                    .next()
                    .map(|r| r.serial)
            }
            None => None,
        };
        let drift = match row.status {
            Status::Issued => DriftKind::InService,
            Status::Superseded => DriftKind::Superseded,
            Status::Revoked => DriftKind::Revoked,
        };
        Ok(Some(Drift {
            drift,
            register: Some(DriftRow {
                depth,
                serial: row.serial,
                common_name: row.common_name,
                profile: row.profile,
                status: row.status,
                path: row.path,
                superseded_by_serial,
                revoked_at: row.revoked_at,
                revocation_reason: row.revocation_reason,
            }),
        }))
    }
}
