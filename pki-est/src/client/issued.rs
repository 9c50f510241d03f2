//! One enrolment from the device's side: the identity asked for (an id and SANs, or the current
//! certificate's for a re-enrolment), the CSR of a key the caller made (it never leaves the
//! device), and what the server answered checked before anything is written: a certificate
//! carrying that key, with that common name, signed by one of the server's CA certificates;
//! and its chain, in order.

use pki_core::{Certificate, PrivateKey, SanEntry, Subject};
use x509_parser::extensions::GeneralName;

use super::{Client, ClientError, Mismatch};
use crate::route::Operation;

/// What a certificate is for: the common name (the device id) and the subject alternative
/// names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The CN.
    pub common_name: String,
    /// The SANs, DNS names and IP addresses.
    pub sans: Vec<SanEntry>,
}

impl Identity {
    /// The identity of a certificate, to re-enrol it: its CN and its SANs, which the server
    /// requires unchanged. A certificate without a CN, or with another kind of SAN than a DNS
    /// name or an IP address, cannot be asked for again.
    pub fn of(cert: &Certificate) -> Result<Identity, ClientError> {
        let refuse = |reason: String| ClientError::Unrenewable {
            subject: cert.subject(),
            reason,
        };
        let common_name = cert
            .common_name()
            .ok_or_else(|| refuse("it has no common name".to_owned()))?;
        let x = cert.x509();
        let sans = match x.subject_alternative_name() {
            Ok(None) => Vec::new(),
            Err(e) => return Err(refuse(format!("its subject alternative names: {e}"))),
            Ok(Some(ext)) => ext
                .value
                .general_names
                .iter()
                .map(|n| match n {
                    GeneralName::DNSName(d) => Ok(SanEntry::Dns((*d).to_owned())),
                    GeneralName::IPAddress(b) => pki_core::ip_from_bytes(b)
                        .map(SanEntry::Ip)
                        .ok_or_else(|| refuse("an IP address SAN of an odd length".to_owned())),
                    other => Err(refuse(format!(
                        "it holds a subject alternative name a request cannot carry: {other}"
                    ))),
                })
                .collect::<Result<_, _>>()?,
        };
        Ok(Identity { common_name, sans })
    }
}

/// What an enrolment brought back, checked.
#[derive(Debug, Clone)]
pub struct Enrolled {
    /// The certificate issued.
    pub certificate: Certificate,
    /// The certificate, then the CA certificates from its issuer up (as far as the server sent
    /// them), then the other CA certificates the server sent, in its order.
    pub chain: Vec<Certificate>,
    /// What `/cacerts` answered, in its order.
    pub ca_certs: Vec<Certificate>,
}

/// Enrols `identity` with `key` through `client` (`operation`: simpleenroll or
/// simplereenroll): `/cacerts` first (so that a server that cannot send its CAs costs no
/// one-time secret), then the request, then the checks. The key never leaves: only its CSR is
/// sent.
pub fn enrol(
    client: &Client,
    operation: Operation,
    key: &PrivateKey,
    identity: &Identity,
) -> Result<Enrolled, ClientError> {
    let csr = csr_der(key, identity)?;
    let ca_certs = client.ca_certs()?;
    let issued = client.enroll(operation, &csr)?;
    let public_key = key.public_key_raw().map_err(|e| ClientError::Csr {
        reason: e.to_string(),
    })?;
    check(
        &client.url().of(operation),
        issued,
        ca_certs,
        &public_key,
        &identity.common_name,
    )
}

/// The DER of a CSR for `identity`, signed by `key`.
fn csr_der(key: &PrivateKey, identity: &Identity) -> Result<Vec<u8>, ClientError> {
    let failed = |reason: String| ClientError::Csr { reason };
    let pem = pki_core::create_csr(&Subject::cn(&identity.common_name), &identity.sans, key)
        .map_err(|e| failed(e.to_string()))?;
    let base64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    crate::body::decode(base64.as_bytes()).map_err(|e| failed(e.to_string()))
}

/// The certificate of `issued` that carries `public_key`, checked against `common_name` and
/// the CA certificates, with its chain.
fn check(
    url: &str,
    issued: Vec<Certificate>,
    ca_certs: Vec<Certificate>,
    public_key: &[u8],
    common_name: &str,
) -> Result<Enrolled, ClientError> {
    let mismatch = |mismatch| ClientError::Mismatch {
        url: url.to_owned(),
        mismatch,
    };
    let Some(at) = issued.iter().position(|c| c.public_key_raw() == public_key) else {
        return Err(mismatch(Mismatch::PublicKey {
            certificates: issued.len(),
        }));
    };
    let certificate = issued[at].clone();
    let cn = certificate.common_name().unwrap_or_default();
    if cn != common_name {
        return Err(mismatch(Mismatch::CommonName {
            asked: common_name.to_owned(),
            issued: cn,
        }));
    }
    // Every other certificate the server sent, each once: the chain is made of them.
    let mut pool: Vec<Certificate> = Vec::new();
    for c in ca_certs.iter().chain(&issued) {
        if c != &certificate && !pool.contains(c) {
            pool.push(c.clone());
        }
    }
    let mut chain = vec![certificate.clone()];
    let mut current = certificate.clone();
    while !current.is_self_issued() {
        let Some(i) = pool.iter().position(|ca| current.is_signed_by(ca)) else {
            break;
        };
        current = pool.remove(i);
        chain.push(current.clone());
    }
    if chain.len() == 1 {
        return Err(mismatch(Mismatch::Issuer {
            issuer: certificate.x509().issuer().to_string(),
        }));
    }
    chain.extend(pool);
    Ok(Enrolled {
        certificate,
        chain,
        ca_certs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::chain;
    use pki_core::{Issuer, KeyType, Profile, Request, SubjectKey};
    use time::OffsetDateTime;

    /// A root and an intermediate (pki's), and a device `cn` the intermediate signs for `key`.
    fn issued(cn: &str, key: &PrivateKey, sans: &[&str]) -> (Certificate, Vec<Certificate>) {
        let now = OffsetDateTime::now_utc();
        let root_key = PrivateKey::generate(KeyType::EcP256).unwrap();
        let root = pki_core::issue(
            &Request::new(Profile::RootCa { pathlen: None }, Subject::cn("R"), now),
            &SubjectKey::Private(&root_key),
            None,
        )
        .unwrap();
        let root_issuer = Issuer::new(root.chain.clone(), &root_key, "r", "k").unwrap();
        let int_key = PrivateKey::generate(KeyType::EcP256).unwrap();
        let int = pki_core::issue(
            &Request::new(
                Profile::IntermediateCa { pathlen: None },
                Subject::cn("I"),
                now,
            ),
            &SubjectKey::Private(&int_key),
            Some(&root_issuer),
        )
        .unwrap();
        let issuer = Issuer::new(int.chain.clone(), &int_key, "i", "k").unwrap();
        let mut req = Request::new(Profile::Device, Subject::cn(cn), now);
        req.sans = sans.iter().map(|s| s.parse().unwrap()).collect();
        let leaf = pki_core::issue(&req, &SubjectKey::Private(key), Some(&issuer)).unwrap();
        (
            leaf.certificate,
            vec![int.certificate.clone(), root.certificate.clone()],
        )
    }

    fn mismatch(r: Result<Enrolled, ClientError>) -> Mismatch {
        match r {
            Err(ClientError::Mismatch { mismatch, .. }) => mismatch,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_leaf_carrying_the_key_is_chained_in_order_whatever_the_servers_order() {
        let key = PrivateKey::generate(KeyType::EcP256).unwrap();
        let public = key.public_key_raw().unwrap();
        let (leaf, cas) = issued("dev-1", &key, &[]);
        let [int, root] = [cas[0].clone(), cas[1].clone()];
        let unrelated = chain(1).remove(0);
        for ca_certs in [
            vec![int.clone(), root.clone()],
            vec![root.clone(), int.clone()],
            vec![root.clone(), unrelated.clone(), int.clone()],
        ] {
            let e = check("u", vec![leaf.clone()], ca_certs.clone(), &public, "dev-1").unwrap();
            assert_eq!(e.certificate, leaf);
            assert_eq!(e.chain[..3], [leaf.clone(), int.clone(), root.clone()]);
            let others: Vec<&Certificate> = e.chain[3..].iter().collect();
            assert_eq!(
                others,
                ca_certs
                    .iter()
                    .filter(|c| **c == unrelated)
                    .collect::<Vec<_>>()
            );
            assert_eq!(e.ca_certs, ca_certs);
        }
        // The answer holding the intermediate after the leaf, /cacerts only the root.
        let e = check(
            "u",
            vec![int.clone(), leaf.clone()],
            vec![root.clone()],
            &public,
            "dev-1",
        )
        .unwrap();
        assert_eq!(e.chain, [leaf.clone(), int.clone(), root.clone()]);
    }

    #[test]
    fn a_certificate_for_another_key_name_or_ca_is_refused() {
        let key = PrivateKey::generate(KeyType::EcP256).unwrap();
        let public = key.public_key_raw().unwrap();
        let (leaf, cas) = issued("dev-1", &key, &[]);
        let other = PrivateKey::generate(KeyType::EcP256).unwrap();
        let (not_ours, _) = issued("dev-1", &other, &[]);
        assert_eq!(
            mismatch(check("u", vec![not_ours], cas.clone(), &public, "dev-1")),
            Mismatch::PublicKey { certificates: 1 }
        );
        assert_eq!(
            mismatch(check(
                "u",
                vec![leaf.clone()],
                cas.clone(),
                &public,
                "dev-2"
            )),
            Mismatch::CommonName {
                asked: "dev-2".into(),
                issued: "dev-1".into()
            }
        );
        let elsewhere = issued("x", &other, &[]).1;
        assert!(matches!(
            mismatch(check("u", vec![leaf], elsewhere, &public, "dev-1")),
            Mismatch::Issuer { .. }
        ));
    }

    #[test]
    fn the_identity_of_a_certificate_is_its_cn_and_sans() {
        let key = PrivateKey::generate(KeyType::EcP256).unwrap();
        let (leaf, _) = issued("dev-1", &key, &["dev-1.local", "10.0.0.7", "::1"]);
        let id = Identity::of(&leaf).unwrap();
        assert_eq!(id.common_name, "dev-1");
        let want: Vec<SanEntry> = ["dev-1.local", "10.0.0.7", "::1"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(id.sans, want);
        // A CSR for it asks for exactly that (parsed back, its signature checked).
        let der = csr_der(&key, &id).unwrap();
        let csr = pki_core::Csr::parse(&der, "csr").unwrap();
        assert_eq!(csr.subject.common_name, "dev-1");
        assert_eq!(csr.sans, want);
        assert_eq!(csr.public_key, key.public_key_raw().unwrap());
    }
}
