//! The digests of the signature algorithms OpenSSL verifies, and their DigestInfo prefixes.

use der::asn1::{Null, ObjectIdentifier};
use der::{Encode as _, Header, Length, Tag};
use pki_x509::oid;
use sha2::Digest as _;

use super::der::tlv;

/// The digests the signature algorithms below use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Hash {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
    Sha512_224,
    Sha512_256,
    Sha3_224,
    Sha3_256,
    Sha3_384,
    Sha3_512,
    Sm3,
}

impl Hash {
    pub(super) fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Hash::Md5 => md5::Md5::digest(data).to_vec(),
            Hash::Sha1 => sha1::Sha1::digest(data).to_vec(),
            Hash::Sha224 => sha2::Sha224::digest(data).to_vec(),
            Hash::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Hash::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Hash::Sha512 => sha2::Sha512::digest(data).to_vec(),
            Hash::Sha512_224 => sha2::Sha512_224::digest(data).to_vec(),
            Hash::Sha512_256 => sha2::Sha512_256::digest(data).to_vec(),
            Hash::Sha3_224 => sha3::Sha3_224::digest(data).to_vec(),
            Hash::Sha3_256 => sha3::Sha3_256::digest(data).to_vec(),
            Hash::Sha3_384 => sha3::Sha3_384::digest(data).to_vec(),
            Hash::Sha3_512 => sha3::Sha3_512::digest(data).to_vec(),
            Hash::Sm3 => sm3::Sm3::digest(data).to_vec(),
        }
    }

    /// The hash's OBJECT IDENTIFIER, dotted.
    pub(super) fn oid(self) -> &'static str {
        match self {
            Hash::Md5 => oid::MD5,
            Hash::Sha1 => oid::SHA1,
            Hash::Sha224 => oid::SHA224,
            Hash::Sha256 => oid::SHA256,
            Hash::Sha384 => oid::SHA384,
            Hash::Sha512 => oid::SHA512,
            Hash::Sha512_224 => oid::SHA512_224,
            Hash::Sha512_256 => oid::SHA512_256,
            Hash::Sha3_224 => oid::SHA3_224,
            Hash::Sha3_256 => oid::SHA3_256,
            Hash::Sha3_384 => oid::SHA3_384,
            Hash::Sha3_512 => oid::SHA3_512,
            Hash::Sm3 => oid::SM3,
        }
    }

    pub(super) fn of_oid(oid: &str) -> Option<Hash> {
        use Hash::*;
        [
            Md5, Sha1, Sha224, Sha256, Sha384, Sha512, Sha512_224, Sha512_256, Sha3_224, Sha3_256,
            Sha3_384, Sha3_512, Sm3,
        ]
        .into_iter()
        .find(|h| h.oid() == oid)
    }

    /// The DER of PKCS#1's DigestInfo up to the digest itself (RFC 8017, 9.2, note 1):
    /// SEQUENCE { SEQUENCE { OID, NULL }, OCTET STRING header }.
    pub(super) fn digest_info_prefix(self, digest_len: u8) -> Vec<u8> {
        self.digest_info_prefix_der(digest_len).unwrap_or_default()
    }

    fn digest_info_prefix_der(self, digest_len: u8) -> Option<Vec<u8>> {
        let oid = ObjectIdentifier::new(self.oid()).ok()?;
        let algorithm = [oid.to_der().ok()?, Null.to_der().ok()?].concat();
        let mut inner = Vec::new();
        tlv(&mut inner, Tag::Sequence, &algorithm)?;
        let digest_header = Header::new(Tag::OctetString, Length::from(digest_len));
        let mut prefix = Vec::new();
        let total = inner.len() + usize::try_from(digest_header.encoded_len().ok()?).ok()?;
        let outer_len = Length::try_from(total + usize::from(digest_len)).ok()?;
        Header::new(Tag::Sequence, outer_len)
            .encode_to_vec(&mut prefix)
            .ok()?;
        prefix.extend_from_slice(&inner);
        digest_header.encode_to_vec(&mut prefix).ok()?;
        Some(prefix)
    }
}
