//! The CA behind the EST server: what an enrolment request becomes, without HTTP. A request
//! arrives as its label, its body and its credentials; [`Authority::enroll`] authorises it,
//! issues the certificate and records it in the register in one transaction, and returns a
//! [`Verdict`] (the certificate, or why not, with who asked for the audit line). Blocking: the
//! server calls it on tokio's blocking pool.

use std::net::IpAddr;
use std::sync::Arc;

use pki_core::register::{FailureKey, Query, Register, SecretRefusal, Status};
use pki_core::{CaDir, Certificate, Csr, Issuer, KeyType, Profile, Record, SanEntry, SubjectKey};
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use super::register::{Connections, Entry, Written};
use crate::authorise::{Allowed, SanRule, check_request};
use crate::route::Label;

/// The CA that signs what one label issues, and the CRL distribution point it writes.
pub struct LabelIssuer {
    /// The CA.
    pub issuer: Issuer,
    /// Where clients fetch its CRL, if anywhere.
    pub crl_url: Option<String>,
}

/// What the server decides by (the command line's flags, as data).
pub struct Policy {
    /// The label of requests whose path names none.
    pub default_label: Label,
    /// Validity in days (the profile's default when `None`).
    pub days: Option<u32>,
    /// The key types a CSR may have.
    pub key_types: Vec<KeyType>,
    /// The CAs whose certificates may enrol as bootstrap (factory) identities.
    pub bootstrap: Vec<Certificate>,
    /// How long after its notAfter a certificate may still re-enrol.
    pub reenroll_grace: Duration,
    /// Failed secret attempts (per device id, per address) within [`Policy::rate_window`]
    /// before requests are refused with 429.
    pub rate_limit: u64,
    /// The window the rate limit counts over.
    pub rate_window: Duration,
}

/// How a request proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthKind {
    /// Nothing (or nothing usable).
    None,
    /// A one-time enrolment secret over HTTP Basic.
    Secret,
    /// A bootstrap (factory) client certificate.
    Bootstrap,
    /// A certificate this CA issued, over mutual TLS (re-enrolment).
    Certificate,
}

/// The credentials a request came with.
pub struct Credentials {
    /// HTTP Basic user and password, if sent.
    pub basic: Option<(String, Zeroizing<String>)>,
    /// The TLS client certificate chain (leaf first), if one was presented. The handshake
    /// proved its key's possession; whether it is trusted is decided here.
    pub client_chain: Vec<Vec<u8>>,
    /// Where the request came from (for the rate limit).
    pub peer: IpAddr,
    /// Whether it came to `simplereenroll` (renew the client certificate itself) rather than
    /// `simpleenroll`.
    pub reenroll: bool,
}

/// Why a request was not served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// No usable credentials (401).
    Unauthenticated(String),
    /// Too many failed attempts (429), with the seconds to wait.
    RateLimited(u64),
    /// Credentials good, request not allowed (403).
    Forbidden(String),
    /// The request cannot be read (400).
    BadRequest(String),
    /// The server failed (500); the reason is logged, not sent.
    Internal(String),
}

/// What came of an enrolment request.
pub struct Verdict {
    /// Who asked (device id or certificate subject), when known.
    pub who: Option<String>,
    /// How they proved it.
    pub auth: AuthKind,
    /// The certificate issued, or why not.
    pub outcome: Result<Certificate, Denied>,
}

/// Who a request is, once its credentials are read.
struct Identity {
    who: String,
    auth: AuthKind,
    allowed: Allowed,
    profile: Profile,
    /// The register row of the certificate that re-enrols, superseded by the new one.
    replaces: Option<Record>,
    /// Whether what is issued carries a bootstrap's authority (issued on a bootstrap
    /// certificate or on one that carries it): it may enrol under any label, as aziot-certd's
    /// EST identity certificate does.
    bootstrap: bool,
    /// The subject to issue instead of the CSR's (aziot-certd's `est-id` request: the EST
    /// identity is issued for the bootstrap certificate's device id).
    common_name: Option<String>,
    /// The register row of the client certificate (an EST identity) that authenticated a new
    /// enrolment: in service certificates of the same name and profile are superseded, but not
    /// it; and when it has that name and profile itself, only those older than it.
    presented: Option<Record>,
    /// The secret's (device id, secret), consumed in the issuing transaction.
    secret: Option<(String, Zeroizing<String>)>,
}

/// The CA, its register and its policy.
pub struct Authority {
    ca: CaDir,
    issuers: Vec<(Label, Arc<LabelIssuer>)>,
    policy: Policy,
    register: Connections,
}

impl Authority {
    /// An authority issuing from `ca` with one issuer per label.
    pub fn new(ca: CaDir, issuers: Vec<(Label, LabelIssuer)>, policy: Policy) -> Authority {
        Authority {
            register: Connections::new(ca.clone()),
            ca,
            issuers: issuers.into_iter().map(|(l, i)| (l, Arc::new(i))).collect(),
            policy,
        }
    }

    /// The label a request without one is for.
    pub fn default_label(&self) -> Label {
        self.policy.default_label
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The issuer of `label`, when this server issues under it.
    pub fn issuer(&self, label: Label) -> Option<&LabelIssuer> {
        self.issuers
            .iter()
            .find(|(l, _)| *l == label)
            .map(|(_, i)| i.as_ref())
    }

    /// The `/cacerts` answer's certificates for `label`: its issuer and the chain above it.
    pub fn ca_certs(&self, label: Label) -> Option<&[Certificate]> {
        self.issuer(label).map(|i| i.issuer.chain())
    }

    /// Runs `f` on a register connection (see [`Connections`]).
    fn with_register<T>(
        &self,
        f: impl FnOnce(&mut Register) -> pki_core::Result<T>,
    ) -> Result<T, Denied> {
        self.register.with(f)
    }

    /// Authorises and serves an enrolment (`simpleenroll` or `simplereenroll`: the credentials,
    /// not the operation, say which, as aziot-certd re-enrols with `simpleenroll`) of `label`
    /// with the CSR `body` (`cte`: its Content-Transfer-Encoding header), at `now`.
    pub fn enroll(
        &self,
        label: Label,
        body: &[u8],
        cte: Option<&str>,
        creds: Credentials,
        now: OffsetDateTime,
    ) -> Verdict {
        let mut who = None;
        let mut auth = AuthKind::None;
        let outcome = self.enroll_inner(label, body, cte, creds, now, &mut who, &mut auth);
        Verdict { who, auth, outcome }
    }

    #[allow(clippy::too_many_arguments)]
    fn enroll_inner(
        &self,
        label: Label,
        body: &[u8],
        cte: Option<&str>,
        creds: Credentials,
        now: OffsetDateTime,
        who: &mut Option<String>,
        auth: &mut AuthKind,
    ) -> Result<Certificate, Denied> {
        let Some(label_issuer) = self.issuer(label) else {
            return Err(Denied::Forbidden(format!(
                "this server does not issue under the label {label}"
            )));
        };
        if creds.basic.is_none() && creds.client_chain.is_empty() {
            return Err(Denied::Unauthenticated(
                "no credentials: send HTTP Basic DEVICE_ID:SECRET or a client certificate".into(),
            ));
        }
        let peer = creds.peer;
        let identity = self.identify(label, creds, now, who, auth)?;
        if let Some((id, _)) = &identity.secret {
            self.check_rate(id, peer, now)?;
        }
        let csr =
            crate::csr::parse_csr(body, cte).map_err(|e| Denied::BadRequest(e.to_string()))?;
        let mut identity = identity;
        if identity.auth == AuthKind::Bootstrap && csr.subject.common_name == AZIOT_EST_ID_CN {
            // aziot-certd's EST identity: a client certificate for the bootstrap's device id,
            // whatever label its URL names.
            identity.allowed.common_name = AZIOT_EST_ID_CN.to_owned();
            identity.allowed.sans = SanRule::AnyOf(Vec::new());
            identity.common_name = Some(identity.who.clone());
            identity.profile = Profile::Device;
        }
        check_request(&csr, &identity.allowed).map_err(|r| Denied::Forbidden(r.to_string()))?;
        let cn = identity
            .common_name
            .clone()
            .unwrap_or_else(|| csr.subject.common_name.clone());
        if identity.replaces.is_none() {
            // Its naming rule here; whether the name is free (no edge CA's name for a device,
            // and the reverse) in the transaction that records it.
            check_name(identity.profile, &cn)?;
        }
        let issued = self.issue(label_issuer, &identity, &csr, now)?;
        let record = self.record(&issued, identity.profile, label, identity.bootstrap);
        let written = self.register.record(Entry {
            record,
            secret: identity.secret.clone(),
            replaces: identity.replaces.clone(),
            presented: identity.presented.clone(),
            check_name: identity.replaces.is_none(),
            common_name: cn,
            profile: identity.profile,
            label,
            now,
        })?;
        match written {
            Written::Recorded => Ok(issued.certificate),
            Written::Denied(denied) => Err(denied),
            Written::Refused(refusal) => {
                let id = identity.secret.as_ref().map_or("", |(i, _)| i.as_str());
                self.count_failure(id, peer, now);
                Err(Denied::Unauthenticated(secret_refusal(&refusal)))
            }
        }
    }

    /// Reads the credentials: a client certificate this CA issued (re-enrolment), one from a
    /// bootstrap CA, or a secret (checked later, in the issuing transaction).
    fn identify(
        &self,
        label: Label,
        creds: Credentials,
        now: OffsetDateTime,
        who: &mut Option<String>,
        auth: &mut AuthKind,
    ) -> Result<Identity, Denied> {
        let identity = self.identify_inner(label, creds, now, who, auth)?;
        *who = Some(identity.who.clone());
        *auth = identity.auth;
        Ok(identity)
    }

    fn identify_inner(
        &self,
        label: Label,
        creds: Credentials,
        now: OffsetDateTime,
        who: &mut Option<String>,
        auth: &mut AuthKind,
    ) -> Result<Identity, Denied> {
        let mut presented = None;
        if let Some(leaf) = creds.client_chain.first() {
            let cert = Certificate::from_der(leaf.clone(), "the client certificate")
                .map_err(|e| Denied::Unauthenticated(e.to_string()))?;
            if let Some(row) = self.row_of(&cert)? {
                *who = Some(row.common_name.clone());
                *auth = AuthKind::Certificate;
                self.in_service(&row, now)?;
                let carries_bootstrap = row.path.starts_with(BOOTSTRAP_PATH_PREFIX);
                if carries_bootstrap && !creds.reenroll {
                    // An EST identity enrolling for another certificate of its device (an
                    // identity issued as an edge CA, `ID.ca`, is the device ID's).
                    let id = if row.profile == Profile::EdgeCa.name() {
                        pki_core::edge_ca_name(&row.common_name).to_owned()
                    } else {
                        row.common_name.clone()
                    };
                    let mut identity = self.enrols_as(label, &id, AuthKind::Certificate);
                    identity.bootstrap = true;
                    identity.presented = Some(row);
                    return Ok(identity);
                }
                return self.reenrolment(label, cert, row, carries_bootstrap);
            }
            if self.bootstrap_trusts(&creds.client_chain, now) {
                let id = cert.common_name().unwrap_or_default();
                let mut identity = self.enrols_as(label, &id, AuthKind::Bootstrap);
                identity.bootstrap = true;
                return Ok(identity);
            }
            presented = Some(cert.subject());
        }
        if let Some((id, secret)) = creds.basic {
            let mut identity = self.enrols_as(label, &id, AuthKind::Secret);
            identity.secret = Some((id, secret));
            return Ok(identity);
        }
        Err(Denied::Unauthenticated(format!(
            "the client certificate ({}) is neither one this CA issued and recorded nor one from \
             a bootstrap CA this server accepts",
            presented.unwrap_or_default()
        )))
    }

    /// The register's row of `cert`, if this CA issued it.
    fn row_of(&self, cert: &Certificate) -> Result<Option<Record>, Denied> {
        let query = Query {
            sha256: Some(cert.sha256_hex()),
            ..Query::default()
        };
        let rows = self.with_register(|r| Ok(r.records(&query)?))?;
        Ok(rows.into_iter().next())
    }

    /// Refuses a client certificate this CA issued that is revoked, superseded, or expired
    /// longer ago than the re-enrolment grace.
    fn in_service(&self, row: &Record, now: OffsetDateTime) -> Result<(), Denied> {
        let deny = |reason: String| Err(Denied::Forbidden(reason));
        if let Some(reason) = out_of_service(row) {
            return deny(reason);
        }
        if row.not_after <= now {
            let late = now - row.not_after;
            if late > self.policy.reenroll_grace {
                return deny(format!(
                    "the client certificate (serial {}) expired {} ago, more than the \
                     re-enrolment grace ({}): enrol anew",
                    row.serial,
                    pki_core::human_duration(late),
                    pki_core::human_duration(self.policy.reenroll_grace)
                ));
            }
        }
        Ok(())
    }

    /// A re-enrolment with `cert`, whose register row is `row` (in service): the same name,
    /// SANs and profile; `bootstrap` when it carries a bootstrap's authority.
    fn reenrolment(
        &self,
        label: Label,
        cert: Certificate,
        row: Record,
        bootstrap: bool,
    ) -> Result<Identity, Denied> {
        let who = row.common_name.clone();
        let deny = |reason: String| Err(Denied::Forbidden(reason));
        let profile = label_profile(label);
        if row.profile != profile.name() {
            return deny(format!(
                "the client certificate is a {} certificate; this is the {label} label",
                row.profile
            ));
        }
        let sans = pki_core::renew::sans_of(&cert).map_err(|e| Denied::Forbidden(e.to_string()))?;
        let mut identity = self.enrols_as(label, &who, AuthKind::Certificate);
        identity.allowed.sans = SanRule::Exactly(sans);
        identity.replaces = Some(row);
        identity.bootstrap = bootstrap;
        Ok(identity)
    }

    /// Whether `chain` (leaf first) chains to a bootstrap CA, for client authentication, at
    /// `now`.
    fn bootstrap_trusts(&self, chain: &[Vec<u8>], now: OffsetDateTime) -> bool {
        use rustls_pki_types::{CertificateDer, UnixTime};
        if self.policy.bootstrap.is_empty() {
            return false;
        }
        let anchors_der: Vec<CertificateDer<'_>> = self
            .policy
            .bootstrap
            .iter()
            .map(|c| CertificateDer::from(c.der()))
            .collect();
        let anchors: Vec<_> = anchors_der
            .iter()
            .filter_map(|c| webpki::anchor_from_trusted_cert(c).ok())
            .collect();
        let Some(leaf) = chain.first() else {
            return false;
        };
        let leaf = CertificateDer::from(leaf.as_slice());
        let Ok(ee) = webpki::EndEntityCert::try_from(&leaf) else {
            return false;
        };
        let intermediates: Vec<CertificateDer<'_>> = chain[1..]
            .iter()
            .map(|c| CertificateDer::from(c.as_slice()))
            .collect();
        let secs = u64::try_from(now.unix_timestamp()).unwrap_or(0);
        ee.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &anchors,
            &intermediates,
            UnixTime::since_unix_epoch(std::time::Duration::from_secs(secs)),
            webpki::KeyUsage::client_auth(),
            None,
            None,
        )
        .is_ok()
    }

    /// A first enrolment of device id `id` under `label`, authenticated by `auth`; the caller
    /// adds what the credentials carry besides.
    fn enrols_as(&self, label: Label, id: &str, auth: AuthKind) -> Identity {
        Identity {
            who: id.to_owned(),
            auth,
            allowed: self.allowed_for_id(label, id),
            profile: label_profile(label),
            replaces: None,
            bootstrap: false,
            common_name: None,
            presented: None,
            secret: None,
        }
    }

    /// What a first enrolment of device id `id` under `label` may ask for.
    fn allowed_for_id(&self, label: Label, id: &str) -> Allowed {
        let (common_name, sans) = match label {
            Label::Device => (id.to_owned(), Vec::new()),
            Label::Server => (
                id.to_owned(),
                id.parse::<SanEntry>().map(|s| vec![s]).unwrap_or_default(),
            ),
            Label::EdgeCa if id.ends_with(pki_core::EDGE_CA_CN_SUFFIX) => {
                (id.to_owned(), Vec::new())
            }
            Label::EdgeCa => (pki_core::edge_ca_cn(id), Vec::new()),
        };
        Allowed {
            common_name,
            sans: SanRule::AnyOf(sans),
            key_types: self.policy.key_types.clone(),
        }
    }

    /// Refuses (429) when the device id or the address has failed too often lately.
    fn check_rate(&self, id: &str, peer: IpAddr, now: OffsetDateTime) -> Result<(), Denied> {
        let since = now - self.policy.rate_window;
        let keys = [FailureKey::Device(id.to_owned()), FailureKey::Address(peer)];
        let counts = self.with_register(|r| {
            let mut out = Vec::new();
            for k in &keys {
                out.push(r.failures_since(k, since)?);
            }
            Ok(out)
        })?;
        if counts.iter().any(|n| *n >= self.policy.rate_limit) {
            return Err(Denied::RateLimited(
                u64::try_from(self.policy.rate_window.whole_seconds()).unwrap_or(900),
            ));
        }
        Ok(())
    }

    /// Counts a failed secret attempt against the device id and the address.
    fn count_failure(&self, id: &str, peer: IpAddr, now: OffsetDateTime) {
        let _ = self.with_register(|r| {
            r.record_failure(&FailureKey::Device(id.to_owned()), now)?;
            r.record_failure(&FailureKey::Address(peer), now)?;
            Ok(())
        });
    }

    /// Signs the CSR's key under the identity's profile.
    fn issue(
        &self,
        label_issuer: &LabelIssuer,
        identity: &Identity,
        csr: &Csr,
        now: OffsetDateTime,
    ) -> Result<pki_core::Issued, Denied> {
        let subject = match &identity.common_name {
            Some(cn) => pki_core::Subject::cn(cn),
            None => csr.subject.clone(),
        };
        let mut req = pki_core::Request::new(identity.profile, subject, now);
        if let Some(days) = self.policy.days {
            req.days = days;
        }
        req.crl_url = label_issuer.crl_url.clone();
        req.sans = match identity.profile {
            Profile::Server => {
                let cn: SanEntry = csr
                    .subject
                    .common_name
                    .parse()
                    .map_err(|e: pki_core::Error| Denied::Forbidden(e.to_string()))?;
                let mut sans = vec![cn];
                for s in &csr.sans {
                    if !sans.contains(s) {
                        sans.push(s.clone());
                    }
                }
                sans
            }
            _ => csr.sans.clone(),
        };
        let key = SubjectKey::Public {
            raw: csr.public_key.clone(),
            key_type: csr.key_type,
        };
        pki_core::issue(&req, &key, Some(&label_issuer.issuer)).map_err(|e| match e {
            pki_core::Error::Refused(r) => Denied::Forbidden(r.to_string()),
            other => internal(other),
        })
    }

    /// The register's row of a certificate issued over EST: its file is on the device, so its
    /// path says where it came from instead (`est:LABEL/CN`).
    fn record(
        &self,
        issued: &pki_core::Issued,
        profile: Profile,
        label: Label,
        bootstrap: bool,
    ) -> Record {
        let issuer = issued.chain.get(1).unwrap_or(&issued.certificate);
        let mut record = self.ca.record_of(
            &issued.certificate,
            &issued.facts,
            issuer.sha256_hex(),
            profile,
            std::path::Path::new(""),
        );
        let prefix = if bootstrap {
            BOOTSTRAP_PATH_PREFIX
        } else {
            EST_PATH_PREFIX
        };
        record.path = format!("{prefix}{label}/{}", issued.facts.common_name);
        record
    }
}

pub use pki_core::EST_PATH_PREFIX;

/// The start of the register path of a certificate issued on a bootstrap's authority
/// (`est:bootstrap:LABEL/CN`): it may enrol for the device's other certificates under any
/// label, as the bootstrap certificate could (aziot-certd's EST identity).
pub const BOOTSTRAP_PATH_PREFIX: &str = "est:bootstrap:";

/// The CN aziot-certd asks for in the CSR of its EST identity certificate when no subject is
/// configured (`cert/aziot-certd/src/lib.rs` in Azure/iot-identity-service).
pub const AZIOT_EST_ID_CN: &str = "est-id";

/// Refuses a first enrolment whose CN breaks the profile's naming rule, as `pki issue` and
/// `create-edge-ca` do: a device id, a host name or address, `NAME.ca` with NAME a device id.
fn check_name(profile: Profile, cn: &str) -> Result<(), Denied> {
    let forbid = |e: pki_core::Error| Denied::Forbidden(e.to_string());
    match profile {
        Profile::Server => cn.parse::<SanEntry>().map(drop).map_err(forbid),
        Profile::EdgeCa => match cn.strip_suffix(pki_core::EDGE_CA_CN_SUFFIX) {
            Some(name) => pki_core::validate_device_id(name).map_err(forbid),
            None => Err(Denied::Forbidden(format!(
                "{cn:?} is not an IoT Edge device CA's name: it ends with {}",
                pki_core::EDGE_CA_CN_SUFFIX
            ))),
        },
        _ => pki_core::validate_device_id(cn).map_err(forbid),
    }
}

/// Why the certificate of register row `row` cannot re-enrol: revoked or superseded (`None`
/// when it is in service).
pub(super) fn out_of_service(row: &Record) -> Option<String> {
    match row.status {
        Status::Revoked => Some(format!(
            "the client certificate (serial {}) is revoked: it never re-enrols",
            row.serial
        )),
        Status::Superseded => Some(format!(
            "the client certificate (serial {}) was superseded by a renewal: re-enrol with the \
             certificate that replaced it",
            row.serial
        )),
        Status::Issued => None,
    }
}

/// The profile a label issues under.
pub fn label_profile(label: Label) -> Profile {
    match label {
        Label::Device => Profile::Device,
        Label::Server => Profile::Server,
        Label::EdgeCa => Profile::EdgeCa,
    }
}

fn internal(e: pki_core::Error) -> Denied {
    Denied::Internal(e.to_string())
}

/// The audit log's words for a refused secret (the client is told only 401).
fn secret_refusal(r: &SecretRefusal) -> String {
    let at = |t: &OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|_| t.to_string())
    };
    match r {
        SecretRefusal::UnknownId => "no enrolment secret was made for this device id".into(),
        SecretRefusal::WrongSecret => "the secret is not this device's".into(),
        SecretRefusal::Used { at: at_ } => format!("the secret was used already, at {}", at(at_)),
        SecretRefusal::Expired { at: at_ } => format!("the secret expired at {}", at(at_)),
        SecretRefusal::Revoked { at: at_ } => format!("the secret was revoked at {}", at(at_)),
    }
}
