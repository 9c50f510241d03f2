//! EST (RFC 7030) for pki: the message formats the server parses and produces, the server
//! ([`server`]) and the device's client ([`Client`]). The formats need no HTTP stack and no
//! async; nothing here reads the environment, prints or reads the clock (the server is given
//! its clock).
//!
//! - [`certs_only`] / [`certs_only_base64`]: the certs-only PKCS#7 of `/cacerts` and of an
//!   enrolment's answer, certificates in the order given, in 64-character base64 lines;
//!   [`read_certs_only`] / [`read_certs_only_base64`] read one back, bounded, in its order.
//! - [`parse_csr`]: the body of `/simpleenroll` and `/simplereenroll`, bounded
//!   ([`MAX_CSR_BODY`]), decoded as the clients send it, its self-signature checked; each refusal
//!   an [`Error`] variant, for the 400's reason.
//! - [`check_request`]: whether a CSR asks only for what its credentials allow ([`Allowed`]);
//!   each refusal a [`Refusal`].
//! - [`csr_attrs`] / [`csr_attrs_base64`]: the `/csrattrs` answer for a key type.
//! - [`route`]: a request's path into its [`Label`] and [`Operation`].
//! - [`server`]: the authority (authorisation, issuing, the register), TLS, HTTP, the audit
//!   log and the accept loop with its bounds and drain.
//! - [`Client`] and [`enrol`]: the device's side, for devices without an EST client of their
//!   own: `/cacerts`, then `/simpleenroll` or `/simplereenroll` over HTTPS (reqwest, rustls on
//!   ring) with a one-time secret or a client certificate, the answer checked ([`Enrolled`]);
//!   each failure a [`ClientError`].
//!
//! ```
//! use pki_est::{Error, Label, Operation, parse_csr, route};
//!
//! assert_eq!(
//!     route("/.well-known/est/edge-ca/simpleenroll")?,
//!     (Some(Label::EdgeCa), Operation::SimpleEnroll)
//! );
//! assert!(matches!(route("/.well-known/est/../cacerts"), Err(Error::BadPath { .. })));
//!
//! // A CSR in PEM armour is refused: EST bodies are the base64 of the DER.
//! let pem = b"-----BEGIN CERTIFICATE REQUEST-----\nMIIB...\n-----END CERTIFICATE REQUEST-----\n";
//! assert_eq!(parse_csr(pem, None).unwrap_err(), Error::PemArmour);
//! # Ok::<(), Error>(())
//! ```
#![warn(missing_docs)]

mod authorise;
mod body;
mod client;
mod csr;
mod csrattrs;
mod error;
mod pkcs7;
mod route;
pub mod server;
#[cfg(test)]
mod testing;

pub use authorise::{Allowed, SanRule, check_request};
pub use body::LINE as BASE64_LINE;
pub use client::{
    Auth, AuthKind, Client, ClientConfig, ClientError, Enrolled, Identity, MAX_ANSWER, Mismatch,
    ServerUrl, Trust, UrlFault, enrol,
};
pub use csr::{MAX_CSR_BODY, parse_csr};
pub use csrattrs::{csr_attrs, csr_attrs_base64};
pub use error::{Error, PathFault, Pkcs7Fault, Refusal, Result};
pub use pkcs7::{
    MAX_CERTIFICATES, MAX_CERTS_ONLY, certs_only, certs_only_base64, read_certs_only,
    read_certs_only_base64,
};
pub use route::{Label, MAX_PATH, Operation, WELL_KNOWN, path, route};
