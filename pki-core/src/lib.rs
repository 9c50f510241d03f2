//! `pki-core`: keys, certificate profiles, issuing, CSRs, inspection and the CA directory of an
//! IoT Edge gateway PKI.
//!
//! The library never prints, never exits, never reads environment variables, and takes "now"
//! as a parameter.
//!
//! ```
//! use pki_core::{issue, Issuer, KeyType, PrivateKey, Profile, Request, Subject, SubjectKey};
//! let now = time::OffsetDateTime::now_utc();
//! let root_key = PrivateKey::generate(KeyType::EcP256)?;
//! let root = issue(
//!     &Request::new(Profile::RootCa { pathlen: None }, Subject::cn("Owner CA"), now),
//!     &SubjectKey::Private(&root_key),
//!     None,
//! )?;
//! let issuer = Issuer::new(root.chain, &root_key, "root", "root key")?;
//! let key = PrivateKey::generate(KeyType::EcP256)?;
//! let mut req = Request::new(Profile::Server, Subject::cn("gw.contoso.com"), now);
//! req.sans = vec!["gw.contoso.com".parse()?];
//! let server = issue(&req, &SubjectKey::Private(&key), Some(&issuer))?;
//! assert_eq!(server.chain.len(), 2);
//! # Ok::<(), pki_core::Error>(())
//! ```
#![warn(missing_docs)]

mod crl;
mod csr;
mod drift;
mod error;
mod issue;
mod pkcs12;
mod policy;
mod profile;
pub mod renew;
mod revoke;
mod signing;
mod store;
mod verification;

pub use crl::{
    COMBINED_CRL, CRL_URL_CA, CrlCa, DEFAULT_CRL_DAYS, WrittenCrl, WrittenCrls, can_sign_crls,
    check_crl_url, crl_url_for, write_crls,
};
pub use csr::{Csr, create as create_csr};
pub use drift::{Drift, DriftJudge, DriftKind, DriftRow};
pub use error::{
    CertPart, CrlFault, CrlUrlFault, DeviceIdFault, Difference, Error, Foreign, NotCaDir, Refusal,
    Result, Unrecorded, Unreproducible,
};
pub use issue::{
    DEFAULT_BACKDATE, Facts, Issued, Issuer, Request, SubjectKey, issue, random_serial,
};
pub use pkcs12::{Pkcs12Cipher, TrustedEntry, pkcs12_keystore, pkcs12_truststore};
pub use pki_register::{self as register, Record};
pub use pki_x509 as x509;
/// The X.509 toolbox this crate builds on, re-exported so that a CA user needs one import.
pub use pki_x509::{
    BasicConstraintsInfo, CRL_PEM_LABEL, CaSigner, CertInfo, Certificate, CrlInfo, ExtensionInfo,
    Fraction, KeyType, Name, NameStyle, PemBlock, PrivateKey, PublicKeyInfo, RenewalCheck,
    RevokedInfo, SECRET_VARIABLES, Serial, Status, Summary, Threshold, UsageInfo, canonical_name,
    chain_links, check_renewal, child_command, crl_reason_name, files, hex_upper, holds_crls,
    human_duration, inspect, ip_from_bytes, key_matches, looks_like_pem, pem_blocks, pem_encode,
    read_crl_file, read_crls, sig_alg_name, subject_hash,
};
pub use policy::{
    EDGE_CA_CN_SUFFIX, EST_PATH_PREFIX, ReadRows, THROWAWAY_PROFILES, edge_ca_cn, edge_ca_name,
};
pub use profile::{
    DEVICE_ID_RULE, Profile, SanEntry, Subject, device_id_fault, is_valid_dns_name,
    validate_device_id,
};
pub use revoke::{
    Given, MAX_BATCH_LINE, RevokeReport, RevokedCertificate, Target, read_batch, revoke,
};
pub use store::{
    CRL_DIR, CaDir, CaRole, DIRECTORY_ID_FILE, DeviceFiles, EST_SERVER_PREFIX, INTERMEDIATE_PREFIX,
    KeptCa, KeyRecord, Placement, ROOT_PREFIX, StoredKey, VERIFICATION_PREFIX, Written,
    device_prefix, edge_ca_prefix, kept_prefix, pem_bundle, read_certs, read_first_cert,
    server_prefix, split_kept_prefix, write_atomic, write_files,
};
pub use verification::{VERIFICATION_CODE_RULE, is_verification_code};
