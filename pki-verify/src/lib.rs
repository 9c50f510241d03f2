//! Offline certificate-chain verification for IoT gateways and devices.
//!
//! Given a leaf, the untrusted certificates a server sends after it, and a device's trust
//! anchors, [`verify`] answers "will my device accept this chain?" twice:
//!
//! - as OpenSSL 3.0 does ([`OpensslVerdict`]): the same first error code, depth and wording as
//!   `openssl verify` and `openssl s_client -verify_return_error`, because devices built on
//!   OpenSSL (the Azure C SDK, Python, mosquitto) report exactly that;
//! - as rustls/webpki does ([`WebpkiVerdict`]), for Rust clients such as thin-edge;
//!
//! and diagnoses the result in plain words ([`Diagnosis::explain`]).
//!
//! Nothing here prints, reads the environment or the clock: the instant is an option.
//!
//! # Example
//!
//! ```
//! use pki_verify::{verify, ChainInput, NameToCheck, VerifyOptions};
//! use time::macros::datetime;
//!
//! let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/verify/missing-intermediate");
//! let read = |f: &str| std::fs::read(format!("{dir}/{f}")).unwrap();
//! let input = ChainInput::from_pem(&read("leaf.pem"), &read("chain.pem"), &read("ca.pem"))?;
//!
//! let opts = VerifyOptions::tls_client(
//!     NameToCheck::parse("gateway.example.com"),
//!     datetime!(2030-01-01 00:00 UTC),
//! );
//! let report = verify(&input, &opts)?;
//!
//! assert_eq!(report.openssl.code, 20);
//! assert_eq!(report.openssl.depth, Some(0));
//! assert_eq!(report.openssl.text, "unable to get local issuer certificate");
//! assert!(report.diagnosis.explain().starts_with("the server sends only its own certificate"));
//! # Ok::<(), pki_verify::Error>(())
//! ```
#![warn(missing_docs)]

mod chain;
mod client_auth;
mod connection_string;
mod crl;
mod diagnose;
mod error;
mod gateway;
mod name_check;
mod openssl;
mod options;
mod probe;
mod report;
mod scan;
mod serve;
mod signature;
mod webpki;

pub use crate::openssl::{
    OpensslError, OpensslVerdict, VerifyCode, error_string as openssl_error_string,
};
pub use crate::webpki::WebpkiVerdict;
pub use chain::{CertSource, CertSummary, ChainInput, pem_certificates};
pub use client_auth::{ClientAuth, ClientChainReport, ClientKey};
pub use connection_string::{ConnectionString, ConnectionStringError};
pub use diagnose::{Diagnosis, NotCaReason};
pub use error::Error;
pub use gateway::{
    Check, CheckStatus, Client, FilesRequest, Fix, GatewayReport, GatewayRequest, Mode,
    Step as CheckStep, check_files, check_gateway,
};
pub use name_check::{NameCheck, check_name};
pub use options::{CrlScope, NameToCheck, Purpose, Revocation, TLS_CLIENT_LEVEL, VerifyOptions};
pub use probe::{
    AfterHandshake, HandshakeFailure, ProbeError, ProbeOptions, ProbeReport, Step as ProbeStep,
    TlsAlert, probe,
};
pub use report::{CrlSummary, Report, RevocationReport, RevokedCertificate, verify};
pub use scan::{
    DEFAULT_PORT, HostReport, HostStatus, MAX_HOSTS_LINE, PresentedCertificate, ScanOptions,
    ScanTarget, check_host, parse_hosts, scan, split_host_port,
};
pub use serve::OneShotServer;
#[doc(hidden)]
pub use signature::{
    check_der as check_signature_der, check_parts_der as check_signature_parts_der,
};
