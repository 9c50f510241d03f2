//! Issuing: turning a profile, a subject, a public key and an issuer into a signed certificate,
//! with a random serial, a back-dated not_before and a validity that never outlives the issuer.

use std::sync::Arc;

use rcgen::{CertificateParams, PublicKeyData, SerialNumber, SignatureAlgorithm};
use rustls_pki_types::CertificateDer;
use time::{Duration, OffsetDateTime};

use crate::error::{Error, Refusal, Result};
use crate::profile::{Profile, SanEntry, Subject, rcgen_sans};
use crate::signing::{Held, Signing};
use pki_x509::CaSigner;
use pki_x509::Certificate;
use pki_x509::Summary;
use pki_x509::text::NameStyle;
use pki_x509::{KeyType, PrivateKey};

/// The default back-dating of not_before, for devices whose clocks run behind.
pub const DEFAULT_BACKDATE: Duration = Duration::minutes(5);

/// A CA that signs: its certificate, its key (in memory or on a token), and the chain above it
/// (issuer first, root last).
pub struct Issuer {
    chain: Vec<Certificate>,
    key_type: KeyType,
    signer: rcgen::Issuer<'static, Signing<'static>>,
    /// The issuer's notAfter: nothing it issues outlives it.
    not_after: OffsetDateTime,
    /// The issuer's subject, one-line form.
    subject: String,
    /// Why a CA (index 1) or an end entity (index 0) below it would break a path length
    /// constraint above, if it would: computed once, checked on every issue.
    path_refusal: [Option<(String, u32)>; 2],
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuer")
            .field("subject", &self.chain[0].subject())
            .finish_non_exhaustive()
    }
}

impl Issuer {
    /// Prepares an issuer. `chain[0]` is the CA's certificate, followed by its own issuers;
    /// the key must belong to `chain[0]`, and `chain[0]` must be a CA.
    ///
    /// `cert_input` and `key_input` name the files in error messages.
    pub fn new(
        chain: Vec<Certificate>,
        key: &PrivateKey,
        cert_input: &str,
        key_input: &str,
    ) -> Result<Self> {
        let public = key.public_key_raw()?;
        Self::build(
            chain,
            key.key_type(),
            &public,
            cert_input,
            key_input,
            || Ok(Signing::File(key.parse_pair()?)),
        )
    }

    /// Prepares an issuer whose key signs elsewhere (a PKCS#11 token): the same checks as
    /// [`Issuer::new`], and every signature asked of `signer`. It is shared by the threads of a
    /// batch, so it must sign from several threads at once.
    pub fn with_signer(
        chain: Vec<Certificate>,
        signer: Arc<dyn CaSigner>,
        cert_input: &str,
        key_input: &str,
    ) -> Result<Self> {
        let public = signer.public_key_raw()?;
        let key_type = signer.key_type();
        Self::build(chain, key_type, &public, cert_input, key_input, || {
            Signing::remote(Held::Shared(signer))
        })
    }

    fn build(
        chain: Vec<Certificate>,
        key_type: KeyType,
        public: &[u8],
        cert_input: &str,
        key_input: &str,
        signing: impl FnOnce() -> Result<Signing<'static>>,
    ) -> Result<Self> {
        let Some(cert) = chain.first() else {
            return Err(crate::error::bad_cert(cert_input, "no certificate"));
        };
        if cert.public_key_raw() != public {
            return Err(Error::KeyMismatch {
                key: key_input.to_owned(),
                cert: cert_input.to_owned(),
            });
        }
        if !cert.is_ca() {
            return Err(Error::IssuerNotCa {
                subject: cert.subject(),
            });
        }
        let signer = rcgen::Issuer::from_ca_cert_der(&CertificateDer::from(cert.der()), signing()?)
            .map_err(|e| {
                crate::error::bad_cert(cert_input, &format!("cannot be used as an issuer: {e}"))
            })?;
        let not_after = cert.x509().validity().not_after.to_datetime();
        let path_refusal = [path_refusal(&chain, false), path_refusal(&chain, true)];
        Ok(Issuer {
            key_type,
            subject: cert.subject(),
            chain,
            signer,
            not_after,
            path_refusal,
        })
    }

    /// The issuer's certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.chain[0]
    }

    /// The issuer's certificate followed by the chain above it.
    pub fn chain(&self) -> &[Certificate] {
        &self.chain
    }

    /// rcgen's signer: the CA's name, key identifier and key (for its CRLs).
    pub(crate) fn signer(&self) -> &rcgen::Issuer<'static, Signing<'static>> {
        &self.signer
    }

    /// The error of a failed rcgen call that signed with this issuer's key.
    pub(crate) fn sign_error(&self, e: rcgen::Error) -> Error {
        self.signer.key().error(e)
    }

    /// The issuer's key type (it decides the signature algorithm).
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// Refuses a profile that a path length constraint above would make invalid.
    fn check_path_length(&self, profile: Profile) -> Result<()> {
        match &self.path_refusal[usize::from(profile.is_ca())] {
            Some((subject, limit)) => Err(Error::Refused(Refusal::PathLength {
                subject: subject.clone(),
                limit: *limit,
                profile: profile.name(),
            })),
            None => Ok(()),
        }
    }
}

/// Why a certificate (a CA when `is_ca`) issued by `chain[0]` would break a path length
/// constraint of `chain`, if it would.
fn path_refusal(chain: &[Certificate], is_ca: bool) -> Option<(String, u32)> {
    for (i, ca) in chain.iter().enumerate() {
        let x = ca.x509();
        let Ok(Some(bc)) = x.basic_constraints() else {
            continue;
        };
        let Some(limit) = bc.value.path_len_constraint else {
            continue;
        };
        // CAs that would stand between `ca` and a leaf: the i issuers below it, plus the
        // new certificate itself when it is a CA.
        let below = i as u32 + u32::from(is_ca);
        if below > limit {
            return Some((ca.subject(), limit));
        }
    }
    None
}

/// The public key of the certificate to issue: a private key we hold, or a public key from a CSR.
#[derive(Clone)]
pub enum SubjectKey<'a> {
    /// A key pair we hold (generated or read).
    Private(&'a PrivateKey),
    /// A key that signs but cannot be read (on a token): a self-signed certificate is signed
    /// through it.
    Signer(&'a dyn CaSigner),
    /// A bare public key, as found in a CSR.
    Public {
        /// The raw public key bits (SubjectPublicKeyInfo BIT STRING contents).
        raw: Vec<u8>,
        /// Its type.
        key_type: KeyType,
    },
}

impl std::fmt::Debug for SubjectKey<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SubjectKey::Private(k) => f.debug_tuple("Private").field(k).finish(),
            SubjectKey::Signer(s) => f.debug_tuple("Signer").field(&s.key_type()).finish(),
            SubjectKey::Public { key_type, .. } => f
                .debug_struct("Public")
                .field("key_type", key_type)
                .finish_non_exhaustive(),
        }
    }
}

struct RawPublicKey<'a> {
    raw: &'a [u8],
    alg: &'static SignatureAlgorithm,
}

impl PublicKeyData for RawPublicKey<'_> {
    fn der_bytes(&self) -> &[u8] {
        self.raw
    }
    fn algorithm(&self) -> &'static SignatureAlgorithm {
        self.alg
    }
}

/// What to issue.
#[derive(Debug, Clone)]
pub struct Request {
    /// The profile: it fixes the extensions.
    pub profile: Profile,
    /// The subject name.
    pub subject: Subject,
    /// Subject alternative names.
    pub sans: Vec<SanEntry>,
    /// Validity in days from `now`.
    pub days: u32,
    /// How far not_before lies before `now`.
    pub backdate: Duration,
    /// The issuing instant.
    pub now: OffsetDateTime,
    /// Where clients fetch the issuer's CRL (the CRL distribution points extension), if
    /// anywhere.
    pub crl_url: Option<String>,
}

impl Request {
    /// The end of validity asked for: `now` + `days`, which must not pass the year 9999 (the
    /// last date X.509's GeneralizedTime holds).
    pub fn not_after(&self) -> Result<OffsetDateTime> {
        self.now
            .checked_add(Duration::days(i64::from(self.days)))
            .filter(|t| t.year() <= 9999)
            .ok_or(Error::Refused(Refusal::TooManyDays { days: self.days }))
    }

    /// A request with the profile's default validity and back-dating.
    pub fn new(profile: Profile, subject: Subject, now: OffsetDateTime) -> Self {
        Request {
            profile,
            subject,
            sans: Vec::new(),
            days: profile.default_days(),
            backdate: DEFAULT_BACKDATE,
            now,
            crl_url: None,
        }
    }
}

/// A freshly issued certificate.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The certificate.
    pub certificate: Certificate,
    /// The certificate followed by its issuers up to the root (the "full chain").
    pub chain: Vec<Certificate>,
    /// Things the user should know (for example a validity shortened to the issuer's).
    pub warnings: Vec<String>,
    /// What the index records of it, known without parsing the certificate again.
    pub facts: Facts,
}

/// The facts of a certificate that the index and a batch manifest record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// Serial, upper-case hex without leading zero bytes (as `openssl x509 -serial`).
    pub serial: String,
    /// Subject, one-line form.
    pub subject: String,
    /// Subject CN.
    pub common_name: String,
    /// Issuer, one-line form.
    pub issuer: String,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
}

impl Facts {
    /// Reads the facts from a certificate (one parse, through [`Summary`]).
    pub fn of(cert: &Certificate) -> Facts {
        let s = Summary::of(cert);
        Facts {
            serial: s.serial.hex,
            subject: s.subject.text(NameStyle::OpenSslOneline).to_owned(),
            common_name: s.common_name.unwrap_or_default(),
            issuer: s.issuer.text(NameStyle::OpenSslOneline).to_owned(),
            not_before: s.not_before,
            not_after: s.not_after,
        }
    }
}

impl Issued {
    /// An existing certificate (adopted, not issued here) with its chain.
    pub fn existing(certificate: Certificate, chain: Vec<Certificate>) -> Issued {
        Issued {
            facts: Facts::of(&certificate),
            certificate,
            chain,
            warnings: Vec::new(),
        }
    }
}

/// A random positive 16-byte serial (126 bits of entropy), never derived from the key.
pub fn random_serial() -> Result<[u8; 16]> {
    use ring::rand::SecureRandom;
    let mut b = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| pki_x509::Error::Sign("the system random source failed".into()))?;
    // Positive, and always 16 bytes long: top bit clear, next bit set.
    b[0] = (b[0] & 0x7f) | 0x40;
    Ok(b)
}

/// Issues one certificate. A self-signed profile needs `SubjectKey::Private` and no issuer;
/// every other profile needs an issuer.
pub fn issue(req: &Request, key: &SubjectKey<'_>, issuer: Option<&Issuer>) -> Result<Issued> {
    let mut warnings = Vec::new();
    let mut params = CertificateParams::default();
    params.distinguished_name = req.subject.to_rcgen();
    params.subject_alt_names = rcgen_sans(&req.sans)?;
    let serial = random_serial()?;
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    params.not_before = req.now - req.backdate;
    params.not_after = req.not_after()?;
    let key_type = match key {
        SubjectKey::Private(k) => k.key_type(),
        SubjectKey::Signer(s) => s.key_type(),
        SubjectKey::Public { key_type, .. } => *key_type,
    };
    req.profile.apply(&mut params, key_type);
    if let Some(url) = &req.crl_url {
        crate::crl::check_crl_url(url)?;
        params.crl_distribution_points = vec![rcgen::CrlDistributionPoint {
            uris: vec![url.clone()],
        }];
    }

    let sign_err = |e: rcgen::Error| pki_x509::Error::Sign(e.to_string());
    let (certificate, chain_above) = match (req.profile.is_self_signed(), issuer, key) {
        (true, _, SubjectKey::Private(k)) => {
            let cert = params.self_signed(k.key_pair()?).map_err(sign_err)?;
            (cert, Vec::new())
        }
        (true, _, SubjectKey::Signer(s)) => {
            let signing = Signing::remote(Held::Lent(*s))?;
            let cert = params.self_signed(&signing).map_err(|e| signing.error(e))?;
            (cert, Vec::new())
        }
        (true, _, SubjectKey::Public { .. }) => {
            return Err(Error::Refused(Refusal::SelfSignedFromCsr {
                profile: req.profile,
            }));
        }
        (false, None, _) => {
            return Err(Error::Refused(Refusal::NeedsIssuer {
                profile: req.profile,
            }));
        }
        (false, Some(issuer), key) => {
            issuer.check_path_length(req.profile)?;
            let issuer_not_after = issuer.not_after;
            if params.not_after > issuer_not_after {
                // Shortening by less than a day is the normal case of a certificate issued
                // moments after its CA with the same validity: not worth a warning.
                if params.not_after - issuer_not_after > Duration::days(1) {
                    warnings.push(format!(
                    "validity shortened to the issuer's ({}): a certificate cannot outlive its CA",
                        issuer_not_after.date()
                    ));
                }
                params.not_after = issuer_not_after;
            }
            let cert = match key {
                // A fresh key's public half is known: sign without parsing the private key.
                SubjectKey::Private(k) => match k.known_public_key() {
                    Some(raw) => params.signed_by(
                        &RawPublicKey {
                            raw,
                            alg: k.key_type().signature_algorithm(),
                        },
                        &issuer.signer,
                    ),
                    None => params.signed_by(k.key_pair()?, &issuer.signer),
                },
                SubjectKey::Signer(s) => params.signed_by(
                    &RawPublicKey {
                        raw: &s.public_key_raw()?,
                        alg: s.key_type().signature_algorithm(),
                    },
                    &issuer.signer,
                ),
                SubjectKey::Public { raw, key_type } => params.signed_by(
                    &RawPublicKey {
                        raw,
                        alg: key_type.signature_algorithm(),
                    },
                    &issuer.signer,
                ),
            }
            .map_err(|e| issuer.sign_error(e))?;
            (cert, issuer.chain.clone())
        }
    };
    // rcgen's own output: well-formed by construction, so not parsed again.
    let certificate = Certificate::from_trusted_der(certificate.der().to_vec());
    let mut chain = vec![certificate.clone()];
    chain.extend(chain_above);
    let subject = req.subject.oneline();
    let facts = Facts {
        serial: pki_x509::text::hex_upper(&serial),
        issuer: issuer.map_or_else(|| subject.clone(), |i| i.subject.clone()),
        subject,
        common_name: req.subject.common_name.clone(),
        // Certificates carry whole seconds.
        not_before: params
            .not_before
            .replace_nanosecond(0)
            .unwrap_or(params.not_before),
        not_after: params
            .not_after
            .replace_nanosecond(0)
            .unwrap_or(params.not_after),
    };
    Ok(Issued {
        certificate,
        chain,
        warnings,
        facts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use x509_parser::extensions::ParsedExtension;

    const NOW: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);

    fn root() -> (PrivateKey, Issuer) {
        let key = PrivateKey::generate(KeyType::EcP256).unwrap();
        let req = Request::new(
            Profile::RootCa { pathlen: None },
            Subject::cn("Test Root"),
            NOW,
        );
        let issued = issue(&req, &SubjectKey::Private(&key), None).unwrap();
        let issuer = Issuer::new(issued.chain, &key, "root", "root key").unwrap();
        (key, issuer)
    }

    #[test]
    fn server_certificate_carries_the_profile_extensions() {
        let (_, root) = root();
        let key = PrivateKey::generate(KeyType::EcP256).unwrap();
        let mut req = Request::new(Profile::Server, Subject::cn("gw.contoso.com"), NOW);
        req.sans = vec![
            "gw.contoso.com".parse().unwrap(),
            "10.1.2.3".parse().unwrap(),
        ];
        let issued = issue(&req, &SubjectKey::Private(&key), Some(&root)).unwrap();
        let x = issued.certificate.x509();
        assert_eq!(x.version().0, 2);
        let bc = x.basic_constraints().unwrap().unwrap();
        assert!(bc.critical && !bc.value.ca);
        let ku = x.key_usage().unwrap().unwrap();
        assert!(ku.critical && ku.value.digital_signature() && !ku.value.key_encipherment());
        let eku = x.extended_key_usage().unwrap().unwrap();
        assert!(eku.value.server_auth && !eku.value.client_auth);
        let san = x.subject_alternative_name().unwrap().unwrap();
        assert_eq!(san.value.general_names.len(), 2);
        assert!(x.iter_extensions().any(|e| matches!(
            e.parsed_extension(),
            ParsedExtension::AuthorityKeyIdentifier(_)
        )));
        assert_eq!(
            x.validity().not_before.to_datetime(),
            NOW - DEFAULT_BACKDATE
        );
        assert_eq!(issued.chain.len(), 2);
        assert!(
            x.verify_signature(Some(root.certificate().x509().public_key()))
                .is_ok()
        );
    }

    #[test]
    fn serials_are_positive_random_and_long() {
        let a = random_serial().unwrap();
        let b = random_serial().unwrap();
        assert_ne!(a, b);
        assert!(a[0] & 0x80 == 0 && a[0] != 0);
    }

    #[test]
    fn a_pathlen_zero_ca_cannot_issue_a_ca() {
        let key = PrivateKey::generate(KeyType::EcP256).unwrap();
        let req = Request::new(Profile::RootCa { pathlen: Some(0) }, Subject::cn("R0"), NOW);
        let issued = issue(&req, &SubjectKey::Private(&key), None).unwrap();
        let issuer = Issuer::new(issued.chain, &key, "r", "k").unwrap();
        let sub = PrivateKey::generate(KeyType::EcP256).unwrap();
        let req = Request::new(
            Profile::IntermediateCa { pathlen: Some(1) },
            Subject::cn("I"),
            NOW,
        );
        assert!(matches!(
            issue(&req, &SubjectKey::Private(&sub), Some(&issuer)),
            Err(Error::Refused(_))
        ));
        let req = Request::new(Profile::Device, Subject::cn("dev1"), NOW);
        assert!(issue(&req, &SubjectKey::Private(&sub), Some(&issuer)).is_ok());
    }

    #[test]
    fn a_key_that_does_not_match_is_refused() {
        let (_, root) = root();
        let other = PrivateKey::generate(KeyType::EcP256).unwrap();
        assert!(matches!(
            Issuer::new(root.chain().to_vec(), &other, "c", "k"),
            Err(Error::KeyMismatch { .. })
        ));
    }

    #[test]
    fn validity_never_outlives_the_issuer() {
        let (_, root) = root();
        let key = PrivateKey::generate(KeyType::EcP256).unwrap();
        let mut req = Request::new(Profile::Device, Subject::cn("d"), NOW);
        req.days = 100_000;
        let issued = issue(&req, &SubjectKey::Private(&key), Some(&root)).unwrap();
        assert_eq!(
            issued.certificate.x509().validity().not_after.to_datetime(),
            root.certificate().x509().validity().not_after.to_datetime()
        );
        assert_eq!(issued.warnings.len(), 1);
    }
}
