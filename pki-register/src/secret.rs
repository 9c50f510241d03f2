//! One-time enrolment secrets (EST enrolment with HTTP Basic `DEVICE_ID:SECRET`, RFC 7030
//! section 3.2.3): the secret handed out once ([`Secret`]), what the register keeps of it (a
//! salted hash, never the secret), what a server learns when it presents one ([`SecretGrant`]
//! or a [`SecretRefusal`]), what an operator lists ([`SecretInfo`]), and the keys failed
//! attempts are counted under ([`FailureKey`]).
//!
//! The hash is one SHA-256 over a per-row random salt, the device id and the secret. A slow
//! password KDF (Argon2, PBKDF2) exists to make guessing a *low-entropy* password from its hash
//! expensive; a secret here is 128 bits from the operating system's generator, so whoever reads
//! the table still has 2^127 guesses to make per row whatever the hash costs, and a slow KDF
//! would only hand every unauthenticated request a lever on the server's CPU. The salt makes
//! two rows of one secret differ and precomputed tables useless; the device id in the hash ties
//! a row to its device. Hashes are compared in constant time.

use std::net::IpAddr;

use base64::Engine as _;
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// How many random bytes a secret has (128 bits).
pub(crate) const SECRET_BYTES: usize = 16;
/// How many random bytes a row's salt has.
pub(crate) const SALT_BYTES: usize = 16;
/// What the hash of a secret starts with, so that it is never the hash of anything else.
const HASH_DOMAIN: &[u8] = b"pki enrolment secret v1\0";

/// The base64url alphabet without padding, the form a secret is printed and presented in.
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A new enrolment secret, returned once by [`crate::Register::create_secret`]: the register
/// keeps only its hash. Its text is zeroized when dropped and never shown by `Debug`.
pub struct Secret {
    pub(crate) info: SecretInfo,
    pub(crate) text: Zeroizing<String>,
}

impl Secret {
    /// The secret as the device presents it: 22 characters of base64url (128 bits), which fit
    /// in an HTTP Basic password and need no quoting in a shell.
    pub fn expose(&self) -> &str {
        &self.text
    }

    /// The row the register keeps for it (no hash).
    pub fn info(&self) -> &SecretInfo {
        &self.info
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secret")
            .field("info", &self.info)
            .field("text", &"<redacted>")
            .finish()
    }
}

/// An enrolment secret as the register keeps it, without its hash: what an operator lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretInfo {
    /// The row's id, unique in the register (to revoke one secret of a device).
    pub id: i64,
    /// The device id it enrols (the HTTP Basic user).
    pub device_id: String,
    /// The EST label (the profile) it was made for; `None` for the server's default.
    pub label: Option<String>,
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it stops being accepted.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// When it was used, if it was.
    #[serde(with = "time::serde::rfc3339::option")]
    pub used_at: Option<OffsetDateTime>,
    /// When an operator revoked it, if one did.
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    /// The serial (upper-case hex) of the certificate issued with it, once recorded.
    pub serial: Option<String>,
}

impl SecretInfo {
    /// Its state at `now`.
    pub fn state(&self, now: OffsetDateTime) -> SecretState {
        if self.used_at.is_some() {
            SecretState::Used
        } else if self.revoked_at.is_some() {
            SecretState::Revoked
        } else if self.expires_at <= now {
            SecretState::Expired
        } else {
            SecretState::Active
        }
    }
}

/// What an enrolment secret is good for at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretState {
    /// It may still enrol its device, once.
    Active,
    /// It enrolled its device.
    Used,
    /// It expired unused.
    Expired,
    /// An operator revoked it unused.
    Revoked,
}

/// A secret accepted and marked used: the server may enrol `device_id` under `label`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretGrant {
    /// The secret's row (to record the serial issued with it,
    /// [`crate::Transaction::set_secret_serial`]).
    pub secret_id: i64,
    /// The device id the certificate must name.
    pub device_id: String,
    /// The label (profile) the secret was made for.
    pub label: Option<String>,
}

/// Why a secret was refused: distinct for the audit log, though a server answers each with the
/// same 401 so that a guesser learns nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRefusal {
    /// No secret was ever made for this device id.
    UnknownId,
    /// The device has secrets, but this is none of them.
    WrongSecret,
    /// The secret was used already, at `at`.
    Used {
        /// When it was used.
        at: OffsetDateTime,
    },
    /// The secret expired at `at`, unused.
    Expired {
        /// When it expired.
        at: OffsetDateTime,
    },
    /// An operator revoked the secret at `at`, unused.
    Revoked {
        /// When it was revoked.
        at: OffsetDateTime,
    },
}

/// Whose failed attempts are counted ([`crate::Register::record_failure`]): a device id, or the
/// address the request came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FailureKey {
    /// A device id presented with a wrong, used, expired or revoked secret.
    Device(String),
    /// The source address of such a request.
    Address(IpAddr),
}

impl FailureKey {
    /// The key as stored: `device:ID` or `address:IP`.
    pub(crate) fn stored(&self) -> String {
        match self {
            FailureKey::Device(id) => format!("device:{id}"),
            FailureKey::Address(ip) => format!("address:{ip}"),
        }
    }
}

/// Refuses a device id that HTTP Basic cannot carry as its user (a `:`), or that is empty or
/// has control characters.
pub(crate) fn check_device_id(device_id: &str) -> Result<()> {
    let reason = if device_id.is_empty() {
        "it is empty"
    } else if device_id.contains(':') {
        "it has a ':', which HTTP Basic authentication cannot carry in a user id"
    } else if device_id.chars().any(char::is_control) {
        "it has control characters"
    } else if device_id.len() > 256 {
        "it is longer than 256 bytes"
    } else {
        return Ok(());
    };
    Err(Error::BadEnrolmentSecret {
        device_id: device_id.escape_debug().to_string(),
        reason: reason.into(),
    })
}

/// `n` random bytes from the operating system's generator.
pub(crate) fn random<const N: usize>() -> Result<Zeroizing<[u8; N]>> {
    use rand::TryRng as _;
    let mut bytes = Zeroizing::new([0u8; N]);
    rand::rngs::SysRng
        .try_fill_bytes(bytes.as_mut())
        .map_err(|e| Error::NoRandomness {
            reason: e.to_string(),
        })?;
    Ok(bytes)
}

/// A new secret: its bytes and its text.
pub(crate) fn new_secret() -> Result<(Zeroizing<[u8; SECRET_BYTES]>, Zeroizing<String>)> {
    let bytes = random::<SECRET_BYTES>()?;
    let text = Zeroizing::new(B64.encode(bytes.as_ref()));
    Ok((bytes, text))
}

/// The bytes of a secret as presented, or `None` when it cannot be one (it is then wrong).
pub(crate) fn parse_secret(text: &str) -> Option<Zeroizing<[u8; SECRET_BYTES]>> {
    let decoded = Zeroizing::new(B64.decode(text.as_bytes()).ok()?);
    let mut bytes = Zeroizing::new([0u8; SECRET_BYTES]);
    if decoded.len() != SECRET_BYTES {
        return None;
    }
    bytes.copy_from_slice(&decoded);
    Some(bytes)
}

/// The hash stored for `secret` of `device_id` with `salt`, lower-case hex.
pub(crate) fn hash(salt: &[u8], device_id: &str, secret: &[u8; SECRET_BYTES]) -> String {
    let mut h = Sha256::new();
    h.update(HASH_DOMAIN);
    h.update(u32::try_from(salt.len()).unwrap_or(u32::MAX).to_be_bytes());
    h.update(salt);
    h.update(
        u32::try_from(device_id.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    h.update(device_id.as_bytes());
    h.update(secret);
    hex(&h.finalize())
}

/// Whether `a` and `b` (two stored hashes) are equal, in time that does not depend on where
/// they differ.
pub(crate) fn same_hash(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// `bytes` in lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// `text` (lower-case hex) as bytes; `None` when it is not hex.
pub(crate) fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_128_bits_of_base64url_and_parses_back() {
        let (bytes, text) = new_secret().unwrap();
        assert_eq!(text.len(), 22);
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{}",
            text.as_str()
        );
        assert_eq!(*parse_secret(&text).unwrap(), *bytes);
        let (other, _) = new_secret().unwrap();
        assert_ne!(*bytes, *other, "two secrets differ");
    }

    #[test]
    fn malformed_secrets_are_none() {
        for bad in [
            "",
            "short",
            "AAAAAAAAAAAAAAAAAAAAAA==",
            &"A".repeat(23),
            "!!!!",
        ] {
            assert!(parse_secret(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn the_hash_depends_on_salt_device_and_secret() {
        let secret = [7u8; SECRET_BYTES];
        let h = hash(&[1; SALT_BYTES], "dev-1", &secret);
        assert_eq!(h.len(), 64);
        assert_eq!(h, hash(&[1; SALT_BYTES], "dev-1", &secret));
        assert_ne!(h, hash(&[2; SALT_BYTES], "dev-1", &secret));
        assert_ne!(h, hash(&[1; SALT_BYTES], "dev-2", &secret));
        assert_ne!(h, hash(&[1; SALT_BYTES], "dev-1", &[8u8; SECRET_BYTES]));
        // Lengths are framed: moving a byte from the salt to the id changes the hash.
        assert_ne!(hash(b"ab", "c", &secret), hash(b"a", "bc", &secret));
        assert!(same_hash(&h, &h.clone()));
        assert!(!same_hash(&h, &hash(&[2; SALT_BYTES], "dev-1", &secret)));
    }

    #[test]
    fn hex_round_trips() {
        assert_eq!(hex(&[0, 0xab, 0xff]), "00abff");
        assert_eq!(unhex("00abff").unwrap(), [0, 0xab, 0xff]);
        assert!(unhex("0g").is_none());
        assert!(unhex("abc").is_none());
    }

    #[test]
    fn device_ids_basic_auth_cannot_carry_are_refused() {
        check_device_id("dev-1").unwrap();
        for bad in ["", "a:b", "a\nb", &"x".repeat(257)] {
            let err = check_device_id(bad).unwrap_err();
            assert!(matches!(err, Error::BadEnrolmentSecret { .. }), "{err}");
            assert!(!err.to_string().contains('\n'), "{err}");
        }
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let (_, text) = new_secret().unwrap();
        let now = OffsetDateTime::UNIX_EPOCH;
        let s = Secret {
            info: SecretInfo {
                id: 1,
                device_id: "dev".into(),
                label: None,
                created_at: now,
                expires_at: now,
                used_at: None,
                revoked_at: None,
                serial: None,
            },
            text: text.clone(),
        };
        assert!(!format!("{s:?}").contains(text.as_str()));
    }
}
