//! Private keys: the key types `pki` generates, generation, and reading the formats other tools
//! write (PKCS#8, SEC1 `EC PRIVATE KEY`, PKCS#1 `RSA PRIVATE KEY`, encrypted PKCS#8), all kept as
//! PKCS#8 because that is what the signer (rcgen on ring) loads.

use crate::oid;
use std::fmt;

use std::str::FromStr;
use zeroize::Zeroizing;

use pkcs8::der::asn1::{AnyRef, ObjectIdentifier, OctetStringRef};
use pkcs8::der::{Decode, Encode};
use pkcs8::{AlgorithmIdentifierRef, PrivateKeyInfoRef};
use rcgen::{KeyPair, PublicKeyData, SignatureAlgorithm, SigningKey};
use rustls_pki_types::PrivatePkcs8KeyDer;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap(oid::RSA_ENCRYPTION);
const OID_EC: ObjectIdentifier = ObjectIdentifier::new_unwrap(oid::EC_PUBLIC_KEY);
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap(oid::PRIME256V1);
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap(oid::SECP384R1);
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap(oid::ED25519);

/// A key type: the algorithm and, for RSA, the modulus size in bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum KeyType {
    /// ECDSA on NIST P-256 with SHA-256 (the default).
    #[default]
    EcP256,
    /// ECDSA on NIST P-384 with SHA-384.
    EcP384,
    /// Ed25519.
    Ed25519,
    /// RSA with a modulus of this many bits, signing with PKCS#1 v1.5 and SHA-256.
    Rsa(u32),
}

impl KeyType {
    /// The key types `pki` generates, by their command-line names.
    pub const GENERATED: [&'static str; 6] = [
        "ec-p256", "ec-p384", "ed25519", "rsa-2048", "rsa-3072", "rsa-4096",
    ];

    /// The signature algorithm rcgen signs with for this key type.
    pub fn signature_algorithm(self) -> &'static SignatureAlgorithm {
        match self {
            KeyType::EcP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            KeyType::EcP384 => &rcgen::PKCS_ECDSA_P384_SHA384,
            KeyType::Ed25519 => &rcgen::PKCS_ED25519,
            KeyType::Rsa(_) => &rcgen::PKCS_RSA_SHA256,
        }
    }

    /// True for RSA keys (a server certificate then also gets keyEncipherment).
    pub fn is_rsa(self) -> bool {
        matches!(self, KeyType::Rsa(_))
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyType::EcP256 => f.write_str("ec-p256"),
            KeyType::EcP384 => f.write_str("ec-p384"),
            KeyType::Ed25519 => f.write_str("ed25519"),
            KeyType::Rsa(bits) => write!(f, "rsa-{bits}"),
        }
    }
}

impl FromStr for KeyType {
    type Err = Error;

    /// Parses one of [`KeyType::GENERATED`].
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "ec-p256" | "p256" | "p-256" | "ecdsa" => Ok(KeyType::EcP256),
            "ec-p384" | "p384" | "p-384" => Ok(KeyType::EcP384),
            "ed25519" => Ok(KeyType::Ed25519),
            "rsa-2048" | "rsa" => Ok(KeyType::Rsa(2048)),
            "rsa-3072" => Ok(KeyType::Rsa(3072)),
            "rsa-4096" => Ok(KeyType::Rsa(4096)),
            _ => Err(Error::UnknownKeyType(s.to_owned())),
        }
    }
}

impl From<KeyType> for String {
    fn from(k: KeyType) -> String {
        k.to_string()
    }
}

impl TryFrom<String> for KeyType {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

/// A private key, held as PKCS#8 DER (and, once used, as the parsed signing key). Its `Debug`
/// never shows the key material.
pub struct PrivateKey {
    /// Wiped from memory when the key is dropped.
    pkcs8: Zeroizing<Vec<u8>>,
    key_type: KeyType,
    /// The parsed key: parsing checks the key (a scalar multiplication), so it is done once.
    pair: std::sync::OnceLock<KeyPair>,
    /// The raw public key, when known without parsing the key.
    public: std::sync::OnceLock<Vec<u8>>,
}

impl Clone for PrivateKey {
    fn clone(&self) -> Self {
        PrivateKey::from_parts(Zeroizing::new(self.pkcs8.to_vec()), self.key_type)
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("key_type", &self.key_type)
            .finish_non_exhaustive()
    }
}

impl PrivateKey {
    fn from_parts(pkcs8: Zeroizing<Vec<u8>>, key_type: KeyType) -> Self {
        PrivateKey {
            pkcs8,
            key_type,
            pair: std::sync::OnceLock::new(),
            public: std::sync::OnceLock::new(),
        }
    }

    /// Generates a fresh key of the given type from the operating system's random source.
    pub fn generate(key_type: KeyType) -> Result<Self> {
        if let Some(alg) = match key_type {
            KeyType::EcP256 => Some(&ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING),
            KeyType::EcP384 => Some(&ring::signature::ECDSA_P384_SHA384_ASN1_SIGNING),
            _ => None,
        } {
            // ring's own generation, one point multiplication; the key is parsed into a
            // signing key (a second one, to check it) only if it ever signs. Most keys never
            // do: a device key's certificate is signed by its CA.
            let doc = ring::signature::EcdsaKeyPair::generate_pkcs8(
                alg,
                &ring::rand::SystemRandom::new(),
            )
            .map_err(|_| Error::Sign(format!("{key_type} key generation failed")))?;
            let pkcs8 = Zeroizing::new(doc.as_ref().to_vec());
            let public = ec_public_key(&pkcs8)
                .map_err(|e| Error::Sign(format!("{key_type} key generation: {e}")))?;
            let key = PrivateKey::from_parts(pkcs8, key_type);
            let _ = key.public.set(public);
            return Ok(key);
        }
        let pkcs8 = Zeroizing::new(match key_type {
            KeyType::Rsa(bits) => {
                use rsa::pkcs8::EncodePrivateKey;
                let key = rsa::PrivateKey::new(&mut rand::rngs::SysRng, bits as usize)
                    .map_err(|e| Error::Sign(format!("RSA-{bits} key generation failed: {e}")))?;
                key.to_pkcs8_der()
                    .map_err(|e| Error::Sign(format!("RSA key encoding failed: {e}")))?
                    .as_bytes()
                    .to_vec()
            }
            KeyType::Ed25519 => {
                let v2 = KeyPair::generate_for(key_type.signature_algorithm())
                    .map_err(|e| Error::Sign(format!("{key_type} key generation failed: {e}")))?
                    .serialize_der();
                ed25519_v1(&v2)?
            }
            _ => KeyPair::generate_for(key_type.signature_algorithm())
                .map_err(|e| Error::Sign(format!("{key_type} key generation failed: {e}")))?
                .serialize_der(),
        });
        Ok(PrivateKey::from_parts(pkcs8, key_type))
    }

    /// Reads a private key from PEM or DER bytes: PKCS#8, SEC1 `EC PRIVATE KEY`, PKCS#1
    /// `RSA PRIVATE KEY`, or encrypted PKCS#8 (`ENCRYPTED PRIVATE KEY`, decrypted with `password`).
    ///
    /// `input` names the source in error messages.
    pub fn parse(bytes: &[u8], input: &str, password: Option<&str>) -> Result<Self> {
        let bad = |reason: &str| Error::BadKey {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        let (label, der) = if crate::pem::looks_like_pem(bytes) {
            let blocks = crate::pem::parse_blocks(bytes, input).map_err(|_| {
                bad("the PEM is malformed or truncated: a block lacks its END line or holds invalid base64")
            })?;
            let block = blocks
                .into_iter()
                .find(|b| b.tag().ends_with("PRIVATE KEY"))
                .ok_or_else(|| bad("no PRIVATE KEY block in the PEM"))?;
            if block.headers().get("Proc-Type").is_some() {
                return Err(bad(
                    "legacy OpenSSL-encrypted key (Proc-Type: 4,ENCRYPTED); convert it with `openssl pkcs8 -topk8 -in KEY -out KEY.p8` first",
                ));
            }
            (
                block.tag().to_owned(),
                Zeroizing::new(block.into_contents()),
            )
        } else {
            (String::new(), Zeroizing::new(bytes.to_vec()))
        };
        let z = Zeroizing::new;
        let pkcs8 = match label.as_str() {
            "PRIVATE KEY" => der,
            "ENCRYPTED PRIVATE KEY" => z(decrypt(&der, input, password)?),
            "EC PRIVATE KEY" => z(sec1_to_pkcs8(&der).map_err(|r| bad(&r))?),
            "RSA PRIVATE KEY" => z(pkcs1_to_pkcs8(&der).map_err(|r| bad(&r))?),
            "" => {
                // DER: try each form in turn.
                if PrivateKeyInfoRef::from_der(&der).is_ok() {
                    der
                } else if pkcs8::EncryptedPrivateKeyInfoRef::from_der(&der).is_ok() {
                    z(decrypt(&der, input, password)?)
                } else if let Ok(p) = sec1_to_pkcs8(&der) {
                    z(p)
                } else if let Ok(p) = pkcs1_to_pkcs8(&der) {
                    z(p)
                } else {
                    return Err(bad("neither PEM nor a DER private key"));
                }
            }
            other => return Err(bad(&format!("unsupported PEM block {other:?}"))),
        };
        let key_type = key_type_of(&pkcs8).map_err(|r| bad(&r))?;
        let key = PrivateKey::from_parts(pkcs8, key_type);
        // Prove the signer accepts it now, not at signing time. Loading checks less than
        // signing does: ring takes an RSA key whose CRT parameters (dP, dQ, qInv) disagree
        // with its primes, and then refuses every signature it makes with it (it checks each
        // one). So sign once.
        let pair = key.key_pair().map_err(|e| bad(&e.to_string()))?;
        pair.sign(b"pki: key check").map_err(|_| {
            bad("the key cannot sign: its parameters are inconsistent (is the file corrupted?)")
        })?;
        Ok(key)
    }

    /// The key's type.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// The key as unencrypted PKCS#8 DER: secret material, for a TLS stack that presents it.
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The key as unencrypted PKCS#8 PEM (`PRIVATE KEY`), in memory that is wiped when dropped.
    pub fn to_pem(&self) -> Zeroizing<String> {
        Zeroizing::new(crate::pem::encode("PRIVATE KEY", &self.pkcs8))
    }

    /// The raw public key bits (the contents of the SubjectPublicKeyInfo's BIT STRING).
    pub fn public_key_raw(&self) -> Result<Vec<u8>> {
        if let Some(p) = self.public.get() {
            return Ok(p.clone());
        }
        Ok(self.key_pair()?.der_bytes().to_vec())
    }

    /// The raw public key without parsing the private key, when it is known that way.
    pub fn known_public_key(&self) -> Option<&[u8]> {
        self.public.get().map(Vec::as_slice)
    }

    /// The parsed signing key (parsed on first use, then kept).
    pub fn key_pair(&self) -> Result<&KeyPair> {
        if let Some(pair) = self.pair.get() {
            return Ok(pair);
        }
        let pair = self.parse_pair()?;
        Ok(self.pair.get_or_init(|| pair))
    }

    /// A fresh parse of the signing key, owned (rcgen's issuer takes ownership).
    pub fn parse_pair(&self) -> Result<KeyPair> {
        KeyPair::from_pkcs8_der_and_sign_algo(
            &PrivatePkcs8KeyDer::from(&self.pkcs8[..]),
            self.key_type.signature_algorithm(),
        )
        .map_err(|e| {
            Error::Sign(format!(
                "the {} key cannot be loaded for signing: {e}",
                self.key_type
            ))
        })
    }
}

/// ring writes Ed25519 keys as PKCS#8 v2 (with the public key), which OpenSSL 3.0 refuses to
/// read ("unsupported"); v1 (RFC 8410's form, as `openssl genpkey` writes it) is read by both.
fn ed25519_v1(v2: &[u8]) -> Result<Vec<u8>> {
    let mut info = PrivateKeyInfoRef::from_der(v2)
        .map_err(|e| Error::Sign(format!("Ed25519 key encoding: {e}")))?;
    info.public_key = None;
    info.to_der()
        .map_err(|e| Error::Sign(format!("Ed25519 key encoding: {e}")))
}

fn decrypt(der: &[u8], input: &str, password: Option<&str>) -> Result<Vec<u8>> {
    let Some(password) = password else {
        return Err(Error::KeyPasswordNeeded {
            input: input.to_owned(),
        });
    };
    let info = pkcs8::EncryptedPrivateKeyInfoRef::from_der(der).map_err(|e| Error::BadKey {
        input: input.to_owned(),
        reason: format!("encrypted PKCS#8 does not parse: {e}"),
    })?;
    check_kdf_cost(&info.encryption_algorithm).map_err(|reason| Error::BadKey {
        input: input.to_owned(),
        reason,
    })?;
    let doc = info.decrypt(password).map_err(|e| match e {
        // A scheme pkcs8 cannot run (PBES1, PBKDF2 with HMAC-SHA1, an unknown cipher) is not
        // a wrong password: no password would do.
        pkcs8::Error::EncryptedPrivateKey(
            e @ (pkcs8::pkcs5::Error::UnsupportedAlgorithm { .. }
            | pkcs8::pkcs5::Error::AlgorithmParametersInvalid { .. }
            | pkcs8::pkcs5::Error::NoPbes1CryptSupport),
        ) => Error::BadKey {
            input: input.to_owned(),
            reason: format!(
                "its encryption is not supported ({e}); re-encrypt it with \
                     `openssl pkcs8 -topk8 -v2 aes-256-cbc -in KEY -out KEY.p8`"
            ),
        },
        // Bad padding (pkcs5 says "encryption failed"), or a plaintext that is not a key:
        // the password was wrong.
        _ => Error::WrongKeyPassword {
            input: input.to_owned(),
        },
    })?;
    Ok(doc.as_bytes().to_vec())
}

/// The most PBKDF2 iterations a key may ask for: pkcs5's suggestion for non-interactive use, some
/// seconds of work (OpenSSL writes 2048 by default). The field allows 2^32 - 1: hours.
const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;
/// The most memory scrypt may take for a key (its 128·r·(N + p) bytes): OpenSSL's own limit,
/// 32 MiB; `openssl pkcs8 -scrypt` writes N = 2^14, r = 8, p = 1 (16 MiB).
const MAX_SCRYPT_MEMORY: u128 = 32 << 20;
/// The most scrypt work (N·r·p) a key may ask for: 32 times `openssl pkcs8 -scrypt`'s default.
const MAX_SCRYPT_WORK: u128 = 1 << 22;

/// Refuses a key-derivation cost that would hang or exhaust memory before the password is even
/// tried; the parameters come from the file. Also refuses the scrypt cost parameters pkcs5
/// would choke on (N must be a power of two above 1; N = 0 overflows in its log2).
fn check_kdf_cost(scheme: &pkcs8::pkcs5::EncryptionScheme) -> std::result::Result<(), String> {
    use pkcs8::pkcs5::{EncryptionScheme, pbes2::Kdf};
    let EncryptionScheme::Pbes2(params) = scheme else {
        return Ok(());
    };
    match &params.kdf {
        Kdf::Pbkdf2(p) if p.iteration_count > MAX_PBKDF2_ITERATIONS => Err(format!(
            "the key asks for {} PBKDF2 iterations; pki runs at most {MAX_PBKDF2_ITERATIONS}",
            p.iteration_count
        )),
        Kdf::Scrypt(p) => {
            let (n, r, par) = (
                u128::from(p.cost_parameter),
                u128::from(p.block_size),
                u128::from(p.parallelization),
            );
            if n < 2 || !n.is_power_of_two() || r == 0 || par == 0 {
                Err(format!(
                    "invalid scrypt parameters N = {n}, r = {r}, p = {par} (N must be a power of two)"
                ))
            } else if 128 * r * (n + par) > MAX_SCRYPT_MEMORY || n * r * par > MAX_SCRYPT_WORK {
                Err(format!(
                    "the key's scrypt parameters N = {n}, r = {r}, p = {par} cost more than pki \
                     spends ({} MiB, N·r·p up to 2^22)",
                    MAX_SCRYPT_MEMORY >> 20
                ))
            } else {
                Ok(())
            }
        }
        _ => Ok(()),
    }
}

/// The public point stored in an EC PKCS#8 key (ring writes it into the `ECPrivateKey`).
fn ec_public_key(pkcs8: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let info = PrivateKeyInfoRef::from_der(pkcs8).map_err(|e| e.to_string())?;
    let ec =
        sec1::EcPrivateKey::from_der(info.private_key.as_bytes()).map_err(|e| e.to_string())?;
    ec.public_key
        .map(<[u8]>::to_vec)
        .ok_or_else(|| "the generated key lacks its public key".to_owned())
}

/// Wraps a SEC1 `ECPrivateKey` into PKCS#8 (curve from its parameters).
fn sec1_to_pkcs8(der: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let ec = sec1::EcPrivateKey::from_der(der).map_err(|e| format!("SEC1 EC key: {e}"))?;
    let curve = ec
        .parameters
        .and_then(|p| p.named_curve())
        .ok_or("the EC key does not name its curve")?;
    if ec.public_key.is_none() {
        return Err("the EC key lacks its public key; re-export it with `openssl ec`".into());
    }
    let inner = sec1::EcPrivateKey {
        private_key: ec.private_key,
        parameters: None,
        public_key: ec.public_key,
    }
    .to_der()
    .map_err(|e| e.to_string())?;
    let curve_der = curve.to_der().map_err(|e| e.to_string())?;
    let params = AnyRef::from_der(&curve_der).map_err(|e| e.to_string())?;
    PrivateKeyInfoRef::new(
        AlgorithmIdentifierRef {
            oid: OID_EC,
            parameters: Some(params),
        },
        OctetStringRef::new(&inner).map_err(|e| e.to_string())?,
    )
    .to_der()
    .map_err(|e| e.to_string())
}

/// Wraps a PKCS#1 `RSAPrivateKey` into PKCS#8.
fn pkcs1_to_pkcs8(der: &[u8]) -> std::result::Result<Vec<u8>, String> {
    pkcs1::RsaPrivateKeyRef::from_der(der).map_err(|e| format!("PKCS#1 RSA key: {e}"))?;
    PrivateKeyInfoRef::new(
        AlgorithmIdentifierRef {
            oid: OID_RSA,
            parameters: Some(AnyRef::NULL),
        },
        OctetStringRef::new(der).map_err(|e| e.to_string())?,
    )
    .to_der()
    .map_err(|e| e.to_string())
}

fn key_type_of(pkcs8: &[u8]) -> std::result::Result<KeyType, String> {
    let info = PrivateKeyInfoRef::from_der(pkcs8).map_err(|e| format!("PKCS#8: {e}"))?;
    let oid = info.algorithm.oid;
    if oid == OID_ED25519 {
        Ok(KeyType::Ed25519)
    } else if oid == OID_EC {
        let curve = info
            .algorithm
            .parameters_oid()
            .map_err(|_| "the EC key does not name its curve".to_string())?;
        if curve == OID_P256 {
            Ok(KeyType::EcP256)
        } else if curve == OID_P384 {
            Ok(KeyType::EcP384)
        } else {
            Err(format!(
                "EC curve {curve} is not supported (use P-256 or P-384)"
            ))
        }
    } else if oid == OID_RSA {
        let rsa = pkcs1::RsaPrivateKeyRef::from_der(info.private_key.as_bytes())
            .map_err(|e| format!("PKCS#1 RSA key: {e}"))?;
        let n = rsa.modulus.as_bytes();
        let bits = n.len() as u32 * 8 - n.first().map_or(0, |b| b.leading_zeros());
        if bits < 2048 {
            return Err(format!(
                "RSA-{bits} is too short; at least 2048 bits are needed"
            ));
        }
        Ok(KeyType::Rsa(bits))
    } else {
        Err(format!("key algorithm {oid} is not supported"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_types_round_trip_through_their_names() {
        for name in KeyType::GENERATED {
            let k: KeyType = name.parse().unwrap();
            assert_eq!(k.to_string(), name);
        }
        assert!(matches!(
            "dsa".parse::<KeyType>(),
            Err(Error::UnknownKeyType(_))
        ));
    }

    #[test]
    fn generated_keys_parse_back_as_the_same_type() {
        for kt in [KeyType::EcP256, KeyType::EcP384, KeyType::Ed25519] {
            let k = PrivateKey::generate(kt).unwrap();
            let back = PrivateKey::parse(k.to_pem().as_bytes(), "k", None).unwrap();
            assert_eq!(back.key_type(), kt);
            assert_eq!(back.public_key_raw().unwrap(), k.public_key_raw().unwrap());
        }
    }

    #[test]
    fn garbage_and_truncated_keys_are_bad_keys() {
        assert!(matches!(
            PrivateKey::parse(b"hello", "x", None),
            Err(Error::BadKey { .. })
        ));
        let pem = PrivateKey::generate(KeyType::EcP256).unwrap().to_pem();
        let truncated = &pem[..pem.len() / 2];
        assert!(matches!(
            PrivateKey::parse(truncated.as_bytes(), "x", None),
            Err(Error::BadKey { .. })
        ));
    }

    #[test]
    fn an_rsa_key_with_a_corrupted_crt_exponent_is_a_bad_key() {
        // fuzz/regressions/private_key/rsa-pkcs1-corrupted-dq.der: testdata/show/rsa-inter's
        // key as PKCS#1 DER with one byte of dQ zeroed. ring loads it but cannot sign with it.
        let der = include_bytes!("../../fuzz/regressions/private_key/rsa-pkcs1-corrupted-dq.der");
        assert!(matches!(
            PrivateKey::parse(der, "k", None),
            Err(Error::BadKey { ref reason, .. }) if reason.contains("cannot sign")
        ));
        let good = include_bytes!("../../fuzz/seeds/private_key/pkcs1-rsa.der");
        assert_eq!(
            PrivateKey::parse(good, "k", None).unwrap().key_type(),
            KeyType::Rsa(2048)
        );
    }

    #[test]
    fn a_key_derivation_that_would_hang_or_exhaust_memory_is_refused_before_it_runs() {
        // fuzz/regressions/private_key/: PBKDF2 with 2^32 - 1 iterations (hours), scrypt with
        // N = 2^24, r = 8 (a 16 GiB allocation) and with N = 0 (an overflow panic in pkcs5).
        let cases: [(&[u8], &str); 3] = [
            (
                include_bytes!(
                    "../../fuzz/regressions/private_key/pbkdf2-iterations-4294967295.der"
                ),
                "PBKDF2 iterations",
            ),
            (
                include_bytes!("../../fuzz/regressions/private_key/scrypt-n-2pow24-r-8.der"),
                "cost more than pki spends",
            ),
            (
                include_bytes!("../../fuzz/regressions/private_key/scrypt-n-0.der"),
                "invalid scrypt parameters",
            ),
        ];
        for (der, why) in cases {
            let start = std::time::Instant::now();
            let err = PrivateKey::parse(der, "k", Some("1234")).unwrap_err();
            assert!(
                matches!(err, Error::BadKey { ref reason, .. } if reason.contains(why)),
                "{err}"
            );
            assert!(start.elapsed() < std::time::Duration::from_secs(5));
        }
        // Within the limits, an scrypt key reads.
        assert_eq!(
            PrivateKey::parse(
                include_bytes!("../../fuzz/seeds/private_key/encrypted-pkcs8-scrypt-p256.pem"),
                "k",
                Some("1234")
            )
            .unwrap()
            .key_type(),
            KeyType::EcP256
        );
    }

    #[test]
    fn an_unsupported_encryption_is_not_a_wrong_password() {
        // PBKDF2 with HMAC-SHA1 (what OpenSSL 1.0 wrote): pkcs8 cannot decrypt it with any
        // password; the error used to say "wrong password".
        let sha1 = include_bytes!("../../fuzz/seeds/private_key/bad-encrypted-pkcs8-hmac-sha1.der");
        let err = PrivateKey::parse(sha1, "k", Some("1234")).unwrap_err();
        assert!(
            matches!(err, Error::BadKey { ref reason, .. } if reason.contains("not supported")),
            "{err}"
        );
        // PKCS#12's pbeWithSHA1And3-KeyTripleDES-CBC does not even parse as PKCS#8's.
        let pbes1 = include_bytes!("../../fuzz/seeds/private_key/bad-pbes1.pem");
        assert!(matches!(
            PrivateKey::parse(pbes1, "k", Some("1234")),
            Err(Error::BadKey { .. })
        ));
        assert!(matches!(
            PrivateKey::parse(
                include_bytes!("../../fuzz/seeds/private_key/bad-wrong-password.pem"),
                "k",
                Some("1234")
            ),
            Err(Error::WrongKeyPassword { .. })
        ));
    }

    #[test]
    fn a_generated_ec_key_knows_its_public_key_and_it_is_right() {
        for kt in [KeyType::EcP256, KeyType::EcP384] {
            let k = PrivateKey::generate(kt).unwrap();
            let known = k.known_public_key().unwrap().to_vec();
            assert_eq!(known, k.key_pair().unwrap().der_bytes());
        }
    }

    #[test]
    fn ed25519_keys_are_written_as_pkcs8_v1() {
        let k = PrivateKey::generate(KeyType::Ed25519).unwrap();
        let info = PrivateKeyInfoRef::from_der(&k.pkcs8).unwrap();
        assert!(info.public_key.is_none());
        assert_eq!(info.version(), pkcs8::Version::V1);
    }

    #[test]
    fn key_material_is_wiped_when_dropped() {
        fn wiped<T: zeroize::ZeroizeOnDrop>(_: &T) {}
        let k = PrivateKey::generate(KeyType::EcP256).unwrap();
        wiped(&k.pkcs8);
        wiped(&k.to_pem());
        let parsed = PrivateKey::parse(k.to_pem().as_bytes(), "k", None).unwrap();
        wiped(&parsed.pkcs8);
    }

    #[test]
    fn debug_hides_key_material() {
        let k = PrivateKey::generate(KeyType::EcP256).unwrap();
        let dbg = format!("{k:?}");
        assert!(!dbg.contains("pkcs8"), "{dbg}");
    }
}
