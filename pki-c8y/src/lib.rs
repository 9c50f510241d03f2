//! `pki-c8y`: a Cumulocity IoT tenant's trusted certificates: register a CA (or a self-signed
//! device certificate), prove possession of its key, list and remove them.
//!
//! A [`Tenant`] is one session: [`Tenant::connect`] sets up HTTPS (rustls on ring, always
//! verified against the [`Trust`] given), logs in with Basic auth and learns the tenant id; then
//! [`Tenant::upload`] answers [`Uploaded::Created`] or [`Uploaded::AlreadyRegistered`] (409),
//! [`Tenant::remove`] answers [`Removed::Removed`] or [`Removed::NotRegistered`] (404),
//! [`Tenant::list`] reads every page (at most [`MAX_PAGES`]), and [`Tenant::prove`] signs the
//! tenant's verification code with a [`Signer`] when, and only when, it is one
//! ([`pki_core::is_verification_code`]). [`Tenant::revocations`] reads the tenant's offline
//! revocation list and [`Tenant::add_revocations`] adds to it, [`CRL_BATCH`] entries a request.
//!
//! A tenant is not trusted to behave: every request and retry of a session shares one deadline
//! ([`Config::timeout`]), each answer is read streamed and refused past [`MAX_BODY`] (all of a
//! session's answers past [`MAX_TOTAL`]), redirects are followed to `https://` only, and
//! everything the tenant sends is redacted (the password and its Basic-auth forms become
//! `[redacted]`) before it reaches a report, an event or an [`Error`].
//!
//! The library never prints and reads no environment variable of its own: retries are told to
//! the caller's [`Events`]; proxies come from the environment only when [`Config::proxies`] says
//! so.
//!
//! ```no_run
//! use std::time::Duration;
//! use pki_c8y::{Config, Proxies, Status, Tenant, TenantUrl, Trust, UploadOptions, Uploaded};
//!
//! let ca = pki_core::read_certs("pki/certs/azure-iot-test-only.root.ca.cert.pem".as_ref())?;
//! let tenant = Tenant::connect(
//!     Config {
//!         url: TenantUrl::parse("https://t12345.eu-latest.cumulocity.com")?,
//!         user: "admin@contoso.com".into(),
//!         tenant: None,
//!         password: zeroize::Zeroizing::new("...".into()),
//!         trust: Trust::Only(pki_core::read_certs("tenant-ca.pem".as_ref())?),
//!         timeout: Duration::from_secs(120),
//!         proxies: Proxies::None,
//!     },
//!     Box::new(()),
//! )?;
//! let opts = UploadOptions {
//!     name: "IoT Owner Root CA".into(),
//!     auto_registration: true,
//!     status: Status::Enabled,
//! };
//! match tenant.upload(&ca[0], &opts)? {
//!     Uploaded::Created(c) => println!("registered {:?}", c.fingerprint),
//!     Uploaded::AlreadyRegistered(c) => println!("already there, status {:?}", c.status),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

mod client;
mod config;
mod error;
mod events;
mod model;
mod pop;
mod redact;
mod revocation;
mod tenant;
mod url;

pub use client::{MAX_BODY, MAX_TOTAL};
pub use config::{Config, Proxies, Trust, login_name};
pub use error::{Answer, Error};
pub use events::{Events, Retry};
pub use model::{
    CurrentTenant, ErrorBody, Fingerprint, MAX_SHORT_FIELD, MAX_TEXT_FIELD, Status, TrustedCert,
    UploadOptions, VerificationCode,
};
pub use pop::{CaKey, Signer};
pub use revocation::{CRL_BATCH, CRL_PATH, Revocation, Serial, TenantCrl, revocation_date};
pub use tenant::{ADMIN_ROLE, MAX_PAGES, PAGE_SIZE, Proof, Removed, Tenant, Uploaded};
pub use url::TenantUrl;
