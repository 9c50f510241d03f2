//! A tenant's offline revocation list: the serials Cumulocity refuses whatever CA issued them.
//!
//! `GET /tenant/trusted-certificates/settings/crl` answers the list as a CRL (DER, or PEM from
//! some proxies), read here with x509-parser for its serials and dates only: its signature is
//! the tenant's business. `PUT` of the same path adds entries (`{"crls": [{"serialNumberInHex",
//! "revocationDate"}]}`) in batches of at most [`CRL_BATCH`]; entries cannot be removed at the
//! tenant, which is why the caller decides what to add and this module only carries it.
//!
//! Serials are compared as [`Serial`]s: upper-case hex without leading zero bytes, as pki's
//! register holds them, whatever case, colons or zeros the tenant or a user wrote.

use serde::Serialize;
use time::OffsetDateTime;
use time::macros::format_description;
use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;

use crate::client::Reply;
use crate::error::Error;
use crate::tenant::Tenant;

/// The tenant's offline revocation list (GET answers it, PUT adds to it).
pub const CRL_PATH: &str = "/tenant/trusted-certificates/settings/crl";
/// The most entries one PUT carries.
pub const CRL_BATCH: usize = 1000;
/// The most significant hex digits of a serial (RFC 5280: at most 20 octets).
const MAX_SERIAL_DIGITS: usize = 40;
/// What the GET asks for.
const PKIX_CRL: &str = "application/pkix-crl";

/// A certificate serial: upper-case hex, an even number of digits, no leading zero byte (`00`
/// for zero), as pki's register holds it. Two spellings of one number are one `Serial`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Serial(String);

impl Serial {
    /// A serial written in hex: any case, with or without `:` separators, leading zeros or not.
    /// `None` when it is not hex or longer than 20 octets once its leading zeros are dropped.
    pub fn parse(hex: &str) -> Option<Serial> {
        let hex: String = hex.chars().filter(|c| *c != ':').collect();
        if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let digits = hex.trim_start_matches('0');
        if digits.len() > MAX_SERIAL_DIGITS {
            return None;
        }
        Some(Serial(normal(digits)))
    }

    /// The serial whose DER INTEGER contents are `raw` (a CRL entry's), read as an unsigned
    /// number, as OpenSSL prints it.
    pub fn from_bytes(raw: &[u8]) -> Serial {
        let digits: String = raw.iter().map(|b| format!("{b:02X}")).collect();
        Serial(normal(digits.trim_start_matches('0')))
    }

    /// The upper-case hex.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Upper-case `digits` (no leading zeros) padded to whole bytes.
fn normal(digits: &str) -> String {
    let digits = digits.to_ascii_uppercase();
    if digits.is_empty() {
        "00".to_owned()
    } else if digits.len() % 2 == 1 {
        format!("0{digits}")
    } else {
        digits
    }
}

impl std::fmt::Display for Serial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One entry of a revocation list: a serial and when it was revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Revocation {
    /// The certificate's serial.
    pub serial: Serial,
    /// When it was revoked.
    #[serde(with = "time::serde::rfc3339")]
    pub revoked_at: OffsetDateTime,
}

/// The tenant's offline revocation list as GET answered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantCrl {
    /// The CRL's issuer, one-line form (the tenant's signer).
    pub issuer: String,
    /// Its thisUpdate.
    pub this_update: OffsetDateTime,
    /// Its entries, in the CRL's order.
    pub entries: Vec<Revocation>,
}

impl TenantCrl {
    /// Reads a CRL, DER or PEM: its issuer, thisUpdate and entries. The signature is not
    /// checked (the tenant signs it with a key of its own). The reason when it is not a CRL.
    pub fn parse(bytes: &[u8]) -> Result<TenantCrl, String> {
        let der = if bytes.starts_with(b"-----BEGIN") {
            let (_, pem) = x509_parser::pem::parse_x509_pem(bytes).map_err(|e| e.to_string())?;
            if pem.label != "X509 CRL" {
                return Err(format!("a PEM {} block, not an X509 CRL", pem.label));
            }
            pem.contents
        } else {
            bytes.to_vec()
        };
        if der.is_empty() {
            return Err("an empty answer".to_owned());
        }
        let (rest, crl) = CertificateRevocationList::from_der(&der).map_err(|e| e.to_string())?;
        if !rest.is_empty() {
            return Err(format!("{} bytes after the CRL", rest.len()));
        }
        let entries = crl
            .iter_revoked_certificates()
            .map(|r| Revocation {
                serial: Serial::from_bytes(r.raw_serial()),
                revoked_at: r.revocation_date.to_datetime(),
            })
            .collect();
        Ok(TenantCrl {
            issuer: crl.issuer().to_string(),
            this_update: crl.last_update().to_datetime(),
            entries,
        })
    }
}

/// One entry of a PUT body.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CrlEntryBody {
    serial_number_in_hex: String,
    revocation_date: String,
}

/// The body of `PUT /tenant/trusted-certificates/settings/crl`.
#[derive(Debug, Serialize)]
struct CrlBody {
    crls: Vec<CrlEntryBody>,
}

/// The PUT bodies that add `entries`, [`CRL_BATCH`] at most each, in order.
fn bodies(entries: &[Revocation]) -> impl Iterator<Item = (usize, CrlBody)> + '_ {
    entries.chunks(CRL_BATCH).map(|chunk| {
        let crls = chunk
            .iter()
            .map(|r| CrlEntryBody {
                serial_number_in_hex: r.serial.as_str().to_owned(),
                revocation_date: revocation_date(r.revoked_at),
            })
            .collect();
        (chunk.len(), CrlBody { crls })
    })
}

/// A revocation date as Cumulocity writes dates: `2026-12-07T10:00:00.000Z` (UTC, milliseconds).
pub fn revocation_date(at: OffsetDateTime) -> String {
    let utc = at.to_offset(time::UtcOffset::UTC);
    utc.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
    // The format has no part a date can lack.
    .unwrap_or_else(|_| utc.unix_timestamp().to_string())
}

impl Tenant {
    /// The tenant's offline revocation list (`GET` [`CRL_PATH`]).
    pub fn revocations(&self) -> Result<TenantCrl, Error> {
        let r = self.client().get_as(CRL_PATH, PKIX_CRL)?;
        if !r.status.is_success() {
            return Err(self.refused(&r));
        }
        TenantCrl::parse(&r.bytes).map_err(|reason| Error::BadCrl {
            url: self.url().to_owned(),
            reason,
        })
    }

    /// Adds `entries` to the tenant's offline revocation list (`PUT` [`CRL_PATH`]), in batches
    /// of at most [`CRL_BATCH`], in order; `added` is told the size of each batch the tenant
    /// took, so that a failure part-way leaves the caller knowing what is there. Entries
    /// cannot be removed at the tenant: the caller chooses them.
    pub fn add_revocations(
        &self,
        entries: &[Revocation],
        added: &mut dyn FnMut(usize),
    ) -> Result<(), Error> {
        for (n, body) in bodies(entries) {
            let r = self.client().put(CRL_PATH, &body)?;
            if !r.status.is_success() {
                return Err(self.refused_revocations(&r));
            }
            added(n);
        }
        Ok(())
    }

    /// The error for a PUT the tenant did not take: 400 and 422 name the entries.
    fn refused_revocations(&self, r: &Reply) -> Error {
        match r.status.as_u16() {
            400 | 422 => Error::RevocationsRefused { answer: r.answer() },
            _ => self.refused(r),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn serials_compare_whatever_case_colons_or_leading_zeros() {
        let s = Serial::parse("0a1b").unwrap();
        assert_eq!(s.as_str(), "0A1B");
        for same in ["A1B", "0A:1B", "000a1b", "00:0A:1B"] {
            assert_eq!(Serial::parse(same).unwrap(), s, "{same}");
        }
        assert_eq!(Serial::from_bytes(&[0x00, 0x0a, 0x1b]), s);
        assert_eq!(Serial::from_bytes(&[0x0a, 0x1b]), s);
        assert_eq!(Serial::parse("0").unwrap().as_str(), "00");
        assert_eq!(Serial::from_bytes(&[0]).as_str(), "00");
        // A positive serial whose top bit is set keeps its DER zero byte out.
        assert_eq!(Serial::from_bytes(&[0x00, 0x80, 0x01]).as_str(), "8001");
        assert_ne!(Serial::parse("A1C").unwrap(), s);
        for bad in ["", "xyz", "0x0A", "0A 1B", ":"] {
            assert_eq!(Serial::parse(bad), None, "{bad}");
        }
        // 20 octets, plus leading zeros, is a serial; 21 is not.
        assert!(Serial::parse(&format!("0000{}", "F".repeat(40))).is_some());
        assert_eq!(Serial::parse(&"F".repeat(41)), None);
    }

    #[test]
    fn entries_go_in_batches_of_at_most_a_thousand_in_order() {
        let at = datetime!(2026-12-07 10:00:00.5 +01:00);
        let entries: Vec<Revocation> = (1..=2345u32)
            .map(|i| Revocation {
                serial: Serial::parse(&format!("{i:x}")).unwrap(),
                revoked_at: at,
            })
            .collect();
        let batches: Vec<(usize, serde_json::Value)> = bodies(&entries)
            .map(|(n, b)| (n, serde_json::to_value(b).unwrap()))
            .collect();
        let sizes: Vec<usize> = batches.iter().map(|(n, _)| *n).collect();
        assert_eq!(sizes, [1000, 1000, 345]);
        for (n, b) in &batches {
            assert_eq!(b["crls"].as_array().unwrap().len(), *n);
        }
        assert_eq!(
            batches[0].1["crls"][0],
            serde_json::json!({"serialNumberInHex": "01", "revocationDate": "2026-12-07T09:00:00.500Z"})
        );
        assert_eq!(batches[1].1["crls"][0]["serialNumberInHex"], "03E9");
        assert_eq!(batches[2].1["crls"][344]["serialNumberInHex"], "0929");
        assert_eq!(bodies(&[]).count(), 0);
    }

    #[test]
    fn what_is_not_a_crl_says_why() {
        assert_eq!(TenantCrl::parse(b"").unwrap_err(), "an empty answer");
        assert!(TenantCrl::parse(b"\x30\x03\x02\x01\x01").is_err());
        let e = TenantCrl::parse(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
            .unwrap_err();
        assert!(e.contains("CERTIFICATE"), "{e}");
    }
}
