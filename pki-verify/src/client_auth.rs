//! The device's side of mutual TLS: the certificate chain and key a device presents
//! ([`ClientAuth`]), checked before any connection (the key must belong to the certificate); the
//! key as rustls signs with it (a file's key in memory, or a key that signs elsewhere, such as
//! on a PKCS#11 token, through pki-x509's [`CaSigner`]); and what can be told of the chain
//! presented against the CAs a server names as acceptable ([`ClientChainReport`]).

use std::sync::Arc;

use pki_x509::{CaSigner, Certificate, KeyType, NameStyle, PrivateKey};
use rustls::pki_types::CertificateDer;
use rustls::sign::{CertifiedKey, Signer, SigningKey};
use rustls::{SignatureAlgorithm, SignatureScheme};
use serde::Serialize;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::x509::X509Name;

use crate::Error;

/// The private key of a device certificate.
#[derive(Clone)]
pub enum ClientKey {
    /// A key read from a file: rustls signs with it in memory.
    File(Arc<PrivateKey>),
    /// A key that signs elsewhere (a key on a PKCS#11 token): rustls asks it for each signature.
    Signer(Arc<dyn CaSigner>),
}

impl ClientKey {
    fn public_key_raw(&self) -> pki_x509::Result<Vec<u8>> {
        match self {
            ClientKey::File(k) => k.public_key_raw(),
            ClientKey::Signer(s) => s.public_key_raw(),
        }
    }
}

/// A device's certificate and key, presented for mutual TLS.
#[derive(Clone)]
pub struct ClientAuth {
    chain: Vec<Vec<u8>>,
    key: ClientKey,
    cert_file: String,
    key_name: String,
    full_chain_file: Option<String>,
}

impl std::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientAuth")
            .field("cert_file", &self.cert_file)
            .field("chain", &self.chain.len())
            .field("key", &self.key_name)
            .finish_non_exhaustive()
    }
}

impl ClientAuth {
    /// The certificate `chain` (DER, the device's own first, then what the file holds after
    /// it) read from `cert_file`, and its `key` (named `key_name`: a file or a token's URI).
    /// Refused before any connection when the chain is empty or does not parse
    /// ([`Error::NoCertificate`], [`Error::Parse`]), and when the key is not the certificate's
    /// ([`Error::ClientKeyMismatch`]): a server would only say `decrypt error`.
    pub fn new(
        chain: Vec<Vec<u8>>,
        key: ClientKey,
        cert_file: &str,
        key_name: &str,
    ) -> Result<ClientAuth, Error> {
        let Some(leaf) = chain.first() else {
            return Err(Error::NoCertificate {
                input: cert_file.to_owned(),
            });
        };
        for (i, der) in chain.iter().enumerate() {
            X509Certificate::from_der(der).map_err(|e| Error::Parse {
                input: format!("{cert_file} (certificate #{})", i + 1),
                reason: e.to_string(),
            })?;
        }
        let cert =
            Certificate::from_der_prefix(leaf.clone(), cert_file).map_err(|e| Error::Parse {
                input: cert_file.to_owned(),
                reason: e.to_string(),
            })?;
        let public = key.public_key_raw().map_err(|e| Error::ClientKey {
            key: key_name.to_owned(),
            reason: e.to_string(),
        })?;
        if public != cert.public_key_raw() {
            return Err(Error::ClientKeyMismatch {
                cert: cert_file.to_owned(),
                key: key_name.to_owned(),
            });
        }
        Ok(ClientAuth {
            chain,
            key,
            cert_file: cert_file.to_owned(),
            key_name: key_name.to_owned(),
            full_chain_file: None,
        })
    }

    /// Names the file that holds this certificate with its chain, for a report that finds only
    /// the device's own certificate presented.
    pub fn with_full_chain_file(mut self, file: impl Into<String>) -> ClientAuth {
        self.full_chain_file = Some(file.into());
        self
    }

    /// The certificates presented, DER, the device's own first.
    pub fn chain(&self) -> &[Vec<u8>] {
        &self.chain
    }

    /// The certificate file, as given.
    pub fn cert_file(&self) -> &str {
        &self.cert_file
    }

    /// The key: its file or its token's URI, as given.
    pub fn key_name(&self) -> &str {
        &self.key_name
    }

    /// The certificate and key as rustls presents them.
    pub(crate) fn certified_key(
        &self,
        provider: &rustls::crypto::CryptoProvider,
    ) -> Result<Arc<CertifiedKey>, String> {
        let signing: Arc<dyn SigningKey> = match &self.key {
            ClientKey::File(k) => {
                let der = rustls::pki_types::PrivateKeyDer::try_from(k.pkcs8_der().to_vec())
                    .map_err(|e| format!("{}: {e}", self.key_name))?;
                provider
                    .key_provider
                    .load_private_key(der)
                    .map_err(|e| format!("{}: {e}", self.key_name))?
            }
            ClientKey::Signer(s) => Arc::new(RemoteKey(s.clone())),
        };
        Ok(Arc::new(CertifiedKey::new(
            self.chain
                .iter()
                .map(|c| CertificateDer::from(c.clone()))
                .collect(),
            signing,
        )))
    }
}

/// A key that signs elsewhere, as rustls signs with a key: the one scheme its type signs with
/// (RSA: PSS, which TLS 1.3 requires, else PKCS#1 v1.5 where the server offers only that).
struct RemoteKey(Arc<dyn CaSigner>);

impl std::fmt::Debug for RemoteKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("RemoteKey")
            .field(&self.0.key_type())
            .finish()
    }
}

impl SigningKey for RemoteKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        let wanted: &[SignatureScheme] = match self.0.key_type() {
            KeyType::EcP256 => &[SignatureScheme::ECDSA_NISTP256_SHA256],
            KeyType::EcP384 => &[SignatureScheme::ECDSA_NISTP384_SHA384],
            KeyType::Ed25519 => &[SignatureScheme::ED25519],
            KeyType::Rsa(_) => &[
                SignatureScheme::RSA_PSS_SHA256,
                SignatureScheme::RSA_PKCS1_SHA256,
            ],
        };
        let scheme = wanted.iter().find(|s| offered.contains(s))?;
        Some(Box::new(RemoteSigner {
            key: self.0.clone(),
            scheme: *scheme,
        }))
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        match self.0.key_type() {
            KeyType::EcP256 | KeyType::EcP384 => SignatureAlgorithm::ECDSA,
            KeyType::Ed25519 => SignatureAlgorithm::ED25519,
            KeyType::Rsa(_) => SignatureAlgorithm::RSA,
        }
    }
}

/// One handshake signature by a remote key, in the scheme chosen.
struct RemoteSigner {
    key: Arc<dyn CaSigner>,
    scheme: SignatureScheme,
}

impl std::fmt::Debug for RemoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteSigner")
            .field("scheme", &self.scheme)
            .finish_non_exhaustive()
    }
}

impl Signer for RemoteSigner {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rustls::Error> {
        let signed = if self.scheme == SignatureScheme::RSA_PSS_SHA256 {
            self.key.sign_rsa_pss_sha256(message)
        } else {
            // The key type's own algorithm is the scheme chosen (choose_scheme).
            self.key.sign(message)
        };
        signed.map_err(|e| rustls::Error::General(format!("the client key cannot sign: {e}")))
    }

    fn scheme(&self) -> SignatureScheme {
        self.scheme
    }
}

/// What can be told of the chain a device presented, against the CAs the server named.
#[derive(Debug, Clone, Serialize)]
pub struct ClientChainReport {
    /// The certificate file presented.
    pub file: String,
    /// The subject of each certificate presented, the device's own first.
    pub presented: Vec<String>,
    /// The issuer of the last certificate presented: the CA the server must know.
    pub issuer: String,
    /// Only the device's own certificate is presented (and it is not self-issued): a server
    /// that does not trust its issuer directly cannot build the path.
    pub leaf_only: bool,
    /// The file holding the certificate with its chain, when one was named.
    pub full_chain_file: Option<String>,
    /// Whether a certificate presented, or the issuer of one, is among the CAs the server named
    /// as acceptable (`None` when the server named none, or did not ask).
    pub reaches_acceptable_ca: Option<bool>,
}

/// A name's canonical form (OpenSSL compares names that way); the raw DER when it has none.
fn canonical(name: &X509Name<'_>) -> Vec<u8> {
    pki_x509::canonical_name(name).unwrap_or_else(|| name.as_raw().to_vec())
}

impl ClientChainReport {
    /// The report of `auth`'s chain against `acceptable` (the DER names of the server's
    /// CertificateRequest; `None` when it sent none).
    pub(crate) fn of(auth: &ClientAuth, acceptable: Option<&[Vec<u8>]>) -> ClientChainReport {
        let parsed: Vec<X509Certificate<'_>> = auth
            .chain
            .iter()
            .filter_map(|d| X509Certificate::from_der(d).ok().map(|(_, c)| c))
            .collect();
        let compact = |n: &X509Name<'_>| {
            pki_x509::Name::from_der(n.as_raw())
                .map(|n| n.text(NameStyle::Compact).to_owned())
                .unwrap_or_default()
        };
        let presented = parsed.iter().map(|c| compact(c.subject())).collect();
        let issuer = parsed
            .last()
            .map(|c| compact(c.issuer()))
            .unwrap_or_default();
        let leaf_only = parsed.len() == 1
            && parsed
                .first()
                .is_some_and(|c| c.subject().as_raw() != c.issuer().as_raw());
        let acceptable: Vec<Vec<u8>> = acceptable
            .unwrap_or_default()
            .iter()
            .filter_map(|der| X509Name::from_der(der).ok().map(|(_, n)| canonical(&n)))
            .collect();
        let reaches_acceptable_ca = (!acceptable.is_empty()).then(|| {
            parsed.iter().any(|c| {
                acceptable.contains(&canonical(c.issuer()))
                    || acceptable.contains(&canonical(c.subject()))
            })
        });
        ClientChainReport {
            file: auth.cert_file.clone(),
            presented,
            issuer,
            leaf_only,
            full_chain_file: auth.full_chain_file.clone(),
            reaches_acceptable_ca,
        }
    }

    /// The chain presented, as `CN=device <- CN=Intermediate`.
    pub fn path(&self) -> String {
        self.presented.join(" <- ")
    }

    /// What is wrong with the chain presented, in plain words, when something is (`None` when
    /// the chain reaches a CA the server named, or nothing can be told).
    pub fn problem(&self, acceptable: &[String]) -> Option<String> {
        match self.reaches_acceptable_ca {
            Some(true) => None,
            Some(false) => Some(format!(
                "the server accepts client certificates issued under {}, and the chain presented ({}, issued by {}) reaches none of them: {}",
                acceptable.join("; "),
                self.path(),
                self.issuer,
                match (&self.full_chain_file, self.leaf_only) {
                    (Some(f), true) => format!(
                        "present a certificate issued under one of them (or its full chain, {f}, if its CA is one)"
                    ),
                    _ => "present a certificate issued under one of them".to_owned(),
                }
            )),
            None if self.leaf_only => Some(format!(
                "only the device's own certificate is presented ({} holds no chain): a server that trusts the root but not {}, its issuer, cannot verify it; {}",
                self.file,
                self.issuer,
                match &self.full_chain_file {
                    Some(f) => format!("present the full chain ({f})"),
                    None =>
                        "present the certificate with its chain (a -full-chain file)".to_owned(),
                }
            )),
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certs(case: &str, file: &str) -> Vec<Vec<u8>> {
        let path = format!(
            "{}/../testdata/verify/{case}/{file}",
            env!("CARGO_MANIFEST_DIR")
        );
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        crate::pem_certificates(&path, &bytes).unwrap()
    }

    fn key(case: &str) -> ClientKey {
        let path = format!(
            "{}/../testdata/verify/{case}/leaf.key.pem",
            env!("CARGO_MANIFEST_DIR")
        );
        let bytes = std::fs::read(&path).unwrap();
        ClientKey::File(Arc::new(PrivateKey::parse(&bytes, &path, None).unwrap()))
    }

    #[test]
    fn a_key_that_is_not_the_certificates_is_refused_naming_both() {
        let err = ClientAuth::new(
            certs("ok", "leaf.pem"),
            key("expired-leaf"),
            "d.pem",
            "k.pem",
        )
        .unwrap_err();
        assert!(matches!(err, Error::ClientKeyMismatch { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "the key k.pem does not belong to the certificate d.pem (their public keys differ)"
        );
        assert!(matches!(
            ClientAuth::new(Vec::new(), key("ok"), "d.pem", "k.pem"),
            Err(Error::NoCertificate { .. })
        ));
        assert!(ClientAuth::new(certs("ok", "leaf.pem"), key("ok"), "d.pem", "k.pem").is_ok());
    }

    #[test]
    fn a_leaf_alone_is_told_apart_from_a_chain_and_matched_against_the_servers_names() {
        let leaf = certs("ok", "leaf.pem");
        let inter = certs("ok", "chain.pem");
        let root = certs("ok", "ca.pem");
        let k = key("ok");
        let alone = ClientAuth::new(leaf.clone(), k.clone(), "leaf.pem", "leaf.key.pem")
            .unwrap()
            .with_full_chain_file("full.pem");
        let subject = |der: &Vec<u8>| {
            X509Certificate::from_der(der)
                .unwrap()
                .1
                .subject()
                .as_raw()
                .to_vec()
        };
        let r = ClientChainReport::of(&alone, None);
        assert!(r.leaf_only);
        assert_eq!(r.reaches_acceptable_ca, None);
        let p = r.problem(&[]).unwrap();
        assert!(
            p.starts_with(
                "only the device's own certificate is presented (leaf.pem holds no chain)"
            ),
            "{p}"
        );
        assert!(p.ends_with("present the full chain (full.pem)"), "{p}");
        // The server names the root only: the leaf alone reaches none of it.
        let r = ClientChainReport::of(&alone, Some(&[subject(&root[0])]));
        assert_eq!(r.reaches_acceptable_ca, Some(false));
        assert!(r.problem(&["CN = Root".into()]).unwrap().starts_with(
            "the server accepts client certificates issued under CN = Root, and the chain presented"
        ));
        // The server names the intermediate: its leaf alone is enough.
        let r = ClientChainReport::of(&alone, Some(&[subject(&inter[0])]));
        assert_eq!(r.reaches_acceptable_ca, Some(true));
        assert_eq!(r.problem(&[]), None);
        // With the intermediate sent, the root's name is reached.
        let mut chain = leaf;
        chain.extend(inter);
        let full = ClientAuth::new(chain, k, "full.pem", "leaf.key.pem").unwrap();
        let r = ClientChainReport::of(&full, Some(&[subject(&root[0])]));
        assert!(!r.leaf_only);
        assert_eq!(r.reaches_acceptable_ca, Some(true));
        assert_eq!(r.presented.len(), 2);
        assert_eq!(r.problem(&[]), None);
    }
}
