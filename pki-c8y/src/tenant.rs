//! The REST rules of a tenant's trusted certificates, in one place: which call is sent for each
//! operation, and what each answer means (201 created, 409 already registered, 404 not
//! registered, 401/403/422, paging and its cap, the proof-of-possession steps and the
//! verification-code rule).
//!
//! [`Tenant::connect`] logs in and learns the tenant id; every operation then returns a typed
//! outcome or an [`Error`] that says in one line what the tenant refused.

use base64::Engine;
use pki_core::{Certificate, is_verification_code};
use serde_json::Value;

use crate::client::{Client, Reply};
use crate::config::{Config, login_name};
use crate::error::Error;
use crate::events::Events;
use crate::model::{
    CurrentTenant, Fingerprint, NewTrustedCertificate, SignedVerificationCode, TrustedCert,
    UploadOptions, VerificationCode,
};
use crate::pop::Signer;

/// The role a user needs to manage trusted certificates.
pub const ADMIN_ROLE: &str = "ROLE_TENANT_MANAGEMENT_ADMIN";
/// How many certificates one page of the listing asks for.
pub const PAGE_SIZE: usize = 100;
/// The most pages of the listing read (10,000 certificates): a tenant whose pages never end is
/// refused rather than read forever.
pub const MAX_PAGES: usize = 100;
/// How much of a verification code that is not one an error shows.
const CODE_SHOWN: usize = 80;

/// What an upload did.
#[derive(Debug, Clone, PartialEq)]
pub enum Uploaded {
    /// 201: the certificate is now registered; the tenant's answer.
    Created(TrustedCert),
    /// 409: a certificate with the same fingerprint was registered already (nothing changed); the
    /// stored certificate as read back, empty when it could not be read.
    AlreadyRegistered(TrustedCert),
}

impl Uploaded {
    /// The stored certificate.
    pub fn certificate(&self) -> &TrustedCert {
        match self {
            Uploaded::Created(c) | Uploaded::AlreadyRegistered(c) => c,
        }
    }

    /// The stored certificate, owned.
    pub fn into_certificate(self) -> TrustedCert {
        match self {
            Uploaded::Created(c) | Uploaded::AlreadyRegistered(c) => c,
        }
    }
}

/// What a removal did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removed {
    /// The certificate was deleted.
    Removed,
    /// 404: the tenant does not have it (nothing to remove).
    NotRegistered,
}

/// What a proof of possession ended in.
#[derive(Debug, Clone, PartialEq)]
pub enum Proof {
    /// The tenant accepted the proof (`proofOfPossessionValid` is true); the stored certificate.
    Accepted(TrustedCert),
    /// The tenant took the signature but does not say the proof is valid; the stored
    /// certificate.
    Rejected(TrustedCert),
}

/// A session with one tenant, as one user: logged in, its id known.
#[derive(Debug)]
pub struct Tenant {
    client: Client,
    id: String,
}

impl Tenant {
    /// Sets up the HTTPS client and finds the tenant id: [`Config::tenant`], or `GET
    /// /tenant/currentTenant` (its `name`), which also checks the user and password. Retries
    /// are told to `events`.
    pub fn connect(config: Config, events: Box<dyn Events>) -> Result<Self, Error> {
        let Config {
            url,
            user,
            tenant,
            password,
            trust,
            timeout,
            proxies,
        } = config;
        let user = login_name(&user, tenant.as_deref());
        let mut client = Client::new(url, &user, &password, &trust, timeout, proxies, events)?;
        drop(password);
        let id = match tenant {
            Some(t) => t,
            None => {
                let r = client.get("/tenant/currentTenant")?;
                if !r.status.is_success() {
                    return Err(refused(&client, &client.host(), &r));
                }
                let t: CurrentTenant =
                    serde_json::from_value(r.body).map_err(|_| Error::NoTenantId {
                        url: client.base().to_owned(),
                    })?;
                t.name
            }
        };
        client.learn_tenant(&id);
        Ok(Tenant { client, id })
    }

    /// The tenant id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The tenant's URL, normalised (`https://host[:port]`).
    pub fn url(&self) -> &str {
        self.client.base()
    }

    /// The user as Basic auth sends it.
    pub fn user(&self) -> &str {
        self.client.user()
    }

    /// Registers `cert` (one PEM block, as `tedge cert upload c8y` sends it). A certificate
    /// registered already (409) is read back and left as it is.
    pub fn upload(&self, cert: &Certificate, opts: &UploadOptions) -> Result<Uploaded, Error> {
        let body = NewTrustedCertificate::new(cert, opts);
        let r = self.client.post(&self.path(""), &body)?;
        match r.status.as_u16() {
            200 | 201 => Ok(Uploaded::Created(TrustedCert::from_answer(r.body))),
            409 => {
                let fp = Fingerprint::of(cert);
                let got = self.client.get(&self.path(&format!("/{fp}")))?;
                let stored = if got.status.is_success() {
                    got.body
                } else {
                    Value::Null
                };
                Ok(Uploaded::AlreadyRegistered(TrustedCert::from_answer(
                    stored,
                )))
            }
            _ => Err(self.refused(&r)),
        }
    }

    /// Every trusted certificate, page by page, at most [`MAX_PAGES`] pages of [`PAGE_SIZE`].
    pub fn list(&self) -> Result<Vec<TrustedCert>, Error> {
        let mut all = Vec::new();
        for page in 1..=MAX_PAGES + 1 {
            if page > MAX_PAGES {
                return Err(Error::EndlessListing {
                    pages: MAX_PAGES,
                    page_size: PAGE_SIZE,
                });
            }
            let r = self
                .client
                .get(&self.path(&format!("?pageSize={PAGE_SIZE}&currentPage={page}")))?;
            if !r.status.is_success() {
                return Err(self.refused(&r));
            }
            let batch = match r.body {
                Value::Object(mut doc) => match doc.remove("certificates") {
                    Some(Value::Array(v)) => v,
                    _ => return Err(Error::NotAListing),
                },
                _ => return Err(Error::NotAListing),
            };
            let n = batch.len();
            all.extend(batch.into_iter().map(TrustedCert::from_answer));
            if n < PAGE_SIZE {
                break;
            }
        }
        Ok(all)
    }

    /// Deletes the trusted certificate `fp`; one the tenant does not have (404) is
    /// [`Removed::NotRegistered`].
    pub fn remove(&self, fp: &Fingerprint) -> Result<Removed, Error> {
        let r = self.client.delete(&self.path(&format!("/{fp}")))?;
        match r.status.as_u16() {
            200..=299 => Ok(Removed::Removed),
            404 => Ok(Removed::NotRegistered),
            _ => Err(self.refused(&r)),
        }
    }

    /// Proves possession of the key of the registered certificate `fp`: asks for a
    /// verification code, has `signer` sign its bytes (only when it is one, by
    /// [`pki_core::is_verification_code`]: anything else is refused, nothing signed, nothing
    /// sent), and sends the signature.
    pub fn prove(&self, fp: &Fingerprint, signer: &dyn Signer) -> Result<Proof, Error> {
        let r = self
            .client
            .post_empty(&self.pop_path(fp, "verification-code"))?;
        if !r.status.is_success() {
            return Err(self.refused(&r));
        }
        let code = VerificationCode::of(&r.body).ok_or(Error::NoVerificationCode)?;
        // The CA key signs the code's bytes as they are: a tenant that sends anything but a code
        // (a JWT signing input, a CSR, a challenge of another service) must not get it signed.
        if !is_verification_code(&code) {
            let shown: String = code.chars().take(CODE_SHOWN).collect();
            return Err(Error::BadVerificationCode {
                url: self.url().to_owned(),
                cut: shown.len() < code.len(),
                code_shown: shown,
            });
        }
        let signature = signer.sign_sha256(code.as_bytes())?;
        let signed = SignedVerificationCode {
            proof_of_possession_signed_verification_code: base64::engine::general_purpose::STANDARD
                .encode(signature),
        };
        let r = self.client.post(&self.pop_path(fp, "pop"), &signed)?;
        if !r.status.is_success() {
            return Err(self.refused(&r));
        }
        let stored = if r.body.is_object() {
            r.body
        } else {
            // An answer without the certificate: read it back.
            let got = self.client.get(&self.path(&format!("/{fp}")))?;
            if !got.status.is_success() {
                return Err(self.refused(&got));
            }
            got.body
        };
        let cert = TrustedCert::from_answer(stored);
        Ok(if cert.is_proven() {
            Proof::Accepted(cert)
        } else {
            Proof::Rejected(cert)
        })
    }

    fn path(&self, rest: &str) -> String {
        format!("/tenant/tenants/{}/trusted-certificates{rest}", self.id)
    }

    fn pop_path(&self, fp: &Fingerprint, step: &str) -> String {
        format!(
            "/tenant/tenants/{}/trusted-certificates-pop/{fp}/{step}",
            self.id
        )
    }

    /// The HTTPS client, for the other modules' calls.
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// The error for an answer that is not the one the call needed.
    pub(crate) fn refused(&self, r: &Reply) -> Error {
        refused(&self.client, &self.id, r)
    }
}

/// The error for a 4xx answer, in the user's terms, with the tenant's own message: 401 wrong
/// user or password, 403 a missing role, 422 a certificate the tenant rejects, else the status.
fn refused(client: &Client, tenant: &str, r: &Reply) -> Error {
    match r.status.as_u16() {
        401 => Error::Unauthorized {
            tenant: tenant.to_owned(),
            url: client.base().to_owned(),
            user: client.user().to_owned(),
            answer: r.answer(),
        },
        403 => Error::Forbidden {
            user: client.user().to_owned(),
            role: ADMIN_ROLE,
            tenant: tenant.to_owned(),
            answer: r.answer(),
        },
        422 => Error::Invalid {
            message: r.message(),
        },
        _ => Error::Status { answer: r.answer() },
    }
}
