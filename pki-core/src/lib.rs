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

mod child;
mod crl;
mod crl_info;
mod csr;
mod error;
pub mod files;
mod inspect;
mod issue;
mod key;
mod name_canon;
mod oid;
mod pem;
mod pkcs12;
mod policy;
mod profile;
pub mod renew;
mod renewal;
mod revoke;
mod signer;
mod store;
mod summary;
mod text;
mod verification;

pub use child::{SECRET_VARIABLES, child_command};
pub use crl::{
    COMBINED_CRL, CRL_URL_CA, CrlCa, DEFAULT_CRL_DAYS, WrittenCrl, WrittenCrls, can_sign_crls,
    check_crl_url, crl_url_for, write_crls,
};
pub use crl_info::{
    CRL_PEM_LABEL, CrlInfo, RevokedInfo, crl_reason_name, holds_crls, read_crl_file, read_crls,
};
pub use csr::{Csr, create as create_csr};
pub use error::{
    CertPart, CrlFault, CrlUrlFault, DeviceIdFault, Difference, Error, Foreign, NotCaDir, Refusal,
    Result, Unrecorded, Unreproducible,
};
pub use inspect::{
    BasicConstraintsInfo, CertInfo, ExtensionInfo, PublicKeyInfo, Status, UsageInfo, chain_links,
    human as human_duration, inspect, key_matches,
};
pub use issue::{
    DEFAULT_BACKDATE, Facts, Issued, Issuer, Request, SubjectKey, issue, random_serial,
};
pub use key::{KeyType, PrivateKey};
pub use name_canon::{canonical_name, subject_hash};
pub use oid::sig_alg_name;
pub use pem::{Certificate, PemBlock, encode as pem_encode, looks_like_pem, pem_blocks};
pub use pkcs12::{Pkcs12Cipher, TrustedEntry, pkcs12_keystore, pkcs12_truststore};
pub use pki_register::{self as register, Record};
pub use policy::{EDGE_CA_CN_SUFFIX, THROWAWAY_PROFILES, edge_ca_cn, edge_ca_name};
pub use profile::{
    DEVICE_ID_RULE, Profile, SanEntry, Subject, device_id_fault, is_valid_dns_name,
    validate_device_id,
};
pub use renewal::{Fraction, RenewalCheck, Threshold, check as check_renewal};
pub use revoke::{
    Given, MAX_BATCH_LINE, RevokeReport, RevokedCertificate, Target, read_batch, revoke,
};
pub use signer::CaSigner;
pub use store::{
    CRL_DIR, CaDir, CaRole, DIRECTORY_ID_FILE, DeviceFiles, INTERMEDIATE_PREFIX, KeptCa, KeyRecord,
    Placement, ROOT_PREFIX, StoredKey, VERIFICATION_PREFIX, Written, device_prefix, edge_ca_prefix,
    kept_prefix, pem_bundle, read_certs, read_first_cert, server_prefix, split_kept_prefix,
    write_atomic, write_files,
};
pub use summary::{Name, Serial, Summary};
pub use text::{NameStyle, hex_upper, ip_from_bytes};
pub use verification::{VERIFICATION_CODE_RULE, is_verification_code};
