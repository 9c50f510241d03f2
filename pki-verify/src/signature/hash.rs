//! The digests of the signature algorithms OpenSSL verifies, and their DigestInfo prefixes.

use sha2::Digest as _;

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
            Hash::Md5 => "1.2.840.113549.2.5",
            Hash::Sha1 => "1.3.14.3.2.26",
            Hash::Sha224 => "2.16.840.1.101.3.4.2.4",
            Hash::Sha256 => "2.16.840.1.101.3.4.2.1",
            Hash::Sha384 => "2.16.840.1.101.3.4.2.2",
            Hash::Sha512 => "2.16.840.1.101.3.4.2.3",
            Hash::Sha512_224 => "2.16.840.1.101.3.4.2.5",
            Hash::Sha512_256 => "2.16.840.1.101.3.4.2.6",
            Hash::Sha3_224 => "2.16.840.1.101.3.4.2.7",
            Hash::Sha3_256 => "2.16.840.1.101.3.4.2.8",
            Hash::Sha3_384 => "2.16.840.1.101.3.4.2.9",
            Hash::Sha3_512 => "2.16.840.1.101.3.4.2.10",
            Hash::Sm3 => "1.2.156.10197.1.401",
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

    /// The DER of the hash's OBJECT IDENTIFIER, contents only.
    pub(super) fn oid_der(self) -> Vec<u8> {
        let arcs: Vec<u64> = self
            .oid()
            .split('.')
            .filter_map(|a| a.parse().ok())
            .collect();
        let mut out = Vec::new();
        let (first, rest) = match arcs.as_slice() {
            [a, b, rest @ ..] => (a * 40 + b, rest),
            _ => return out,
        };
        for arc in std::iter::once(first).chain(rest.iter().copied()) {
            let mut groups = vec![u8::try_from(arc & 0x7f).unwrap_or(0)];
            let mut v = arc >> 7;
            while v > 0 {
                groups.push(u8::try_from(v & 0x7f).unwrap_or(0) | 0x80);
                v >>= 7;
            }
            out.extend(groups.iter().rev());
        }
        out
    }

    /// The DER of PKCS#1's DigestInfo up to the digest itself (RFC 8017, 9.2, note 1):
    /// SEQUENCE { SEQUENCE { OID, NULL }, OCTET STRING header }. Every length is below 128.
    pub(super) fn digest_info_prefix(self, digest_len: u8) -> Vec<u8> {
        let oid = self.oid_der();
        let oid_len = u8::try_from(oid.len()).unwrap_or(u8::MAX);
        let mut algorithm = vec![0x30, oid_len + 4, 0x06, oid_len];
        algorithm.extend_from_slice(&oid);
        algorithm.extend_from_slice(&[0x05, 0x00]);
        let algorithm_len = u8::try_from(algorithm.len()).unwrap_or(u8::MAX);
        let mut prefix = vec![0x30, algorithm_len + 2 + digest_len];
        prefix.extend_from_slice(&algorithm);
        prefix.extend_from_slice(&[0x04, digest_len]);
        prefix
    }
}
