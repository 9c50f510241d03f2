//! `pki-x509`: the X.509 toolbox of pki — PEM and DER certificates, names as OpenSSL shows and
//! hashes them, keys and signers, certificate and CRL facts, renewal thresholds, files written
//! and read safely, and the one way to start a child process.
//!
//! It holds no CA and no register: no database, no async runtime. `pki-core` (the CA) builds on
//! it; `pki-verify` and `pki-truststore` need nothing else.
//!
//! The library never prints, never exits, never reads environment variables, and takes "now"
//! as a parameter.
#![warn(missing_docs)]

mod child;
mod crl_info;
mod error;
pub mod files;
mod inspect;
mod key;
mod name_canon;
pub mod oid;
mod pem;
mod renewal;
mod signer;
mod summary;
pub mod text;

pub use child::{SECRET_VARIABLES, child_command};
pub use crl_info::{
    CRL_PEM_LABEL, CrlInfo, RevokedInfo, crl_reason_name, holds_crls, read_crl_file, read_crls,
};
pub use error::{Error, Result};
pub use inspect::{
    BasicConstraintsInfo, CertInfo, ExtensionInfo, PublicKeyInfo, Status, UsageInfo, chain_links,
    human as human_duration, inspect, key_matches, key_type_of_spki,
};
pub use key::{KeyType, PrivateKey};
pub use name_canon::{canonical_name, subject_hash};
pub use oid::sig_alg_name;
pub use pem::{
    Certificate, PemBlock, bad_cert, encode as pem_encode, looks_like_pem, parse_blocks, pem_blocks,
};
pub use renewal::{Fraction, RenewalCheck, Threshold, check as check_renewal};
pub use signer::CaSigner;
pub use summary::{Name, Serial, Summary};
pub use text::{NameStyle, hex_upper, ip_from_bytes};
