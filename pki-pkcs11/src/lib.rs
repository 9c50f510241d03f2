//! `pki-pkcs11`: CA and device keys on PKCS#11 tokens (HSMs, smart cards, TPMs through their
//! PKCS#11 modules, SoftHSM2), through the `cryptoki` binding.
//!
//! A token's key signs as a [`pki_x509::CaSigner`], so issuing, CSRs, CRLs and the batch take
//! the same path for it as for a key file. Keys are named by RFC 7512 URIs ([`Pkcs11Uri`]);
//! the PIN is the caller's to find (a file, an environment variable, a prompt: the library
//! reads none of them) and is tried once ([`Token::login`]).
//!
//! ```no_run
//! use pki_pkcs11::{Module, Pkcs11Uri};
//! let uri = Pkcs11Uri::parse("pkcs11:token=pki;object=owner-ca")?;
//! let module = Module::load("/usr/lib/softhsm/libsofthsm2.so".as_ref())?;
//! let key = module.token(&uri)?.login("1234")?.key(&uri)?;
//! # Ok::<(), pki_pkcs11::Error>(())
//! ```
#![warn(missing_docs)]

mod der;
mod error;
mod token;
mod uri;

pub use error::{Error, Result};
pub use token::{KeyInfo, LoggedIn, Module, Token, TokenInfo, TokenKey};
pub use uri::{PinSource, Pkcs11Uri};
