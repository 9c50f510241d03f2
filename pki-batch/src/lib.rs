//! `pki-batch`: provisioning a production lot of IoT device certificates. [`run`] issues a key
//! and certificate per device of an input (one device id a line, or CSV with a `device_id`
//! column), on every core, streaming the input and the manifest so that memory does not grow
//! with the lot; it can be killed at any moment (even `kill -9`) and run again to finish the
//! lot with no device issued twice, no half-written device, and no file it did not create
//! replaced.
//!
//! - The manifest (`manifest.jsonl`) is the commit record: one JSON line per device whose key,
//!   certificate and full chain are complete. The journal (`batch.journal`) is the intent
//!   record: it names a device before any of its files is created, so that a re-run can tell
//!   a killed run's leftovers from files somebody else put there.
//! - A line that cannot be issued is a [`Rejected`] line with a typed [`Reason`], reported
//!   through [`Events`] as it comes; the lot goes on. What stops the lot is an [`Error`].
//! - Every file is written through [`pki_core::files`] (modes exact, links never followed);
//!   the library never prints, never reads environment variables, and takes "now" as a
//!   parameter.
//!
//! ```
//! use pki_batch::{Layout, Options, run};
//! use pki_core::{CaDir, Issuer, KeyType, PrivateKey, Profile, Request, Subject, SubjectKey};
//!
//! let dir = tempfile::tempdir()?;
//! let ca = CaDir::create(&dir.path().join("pki"))?;
//! let now = time::OffsetDateTime::now_utc();
//! let root_key = PrivateKey::generate(KeyType::EcP256)?;
//! let root = pki_core::issue(
//!     &Request::new(Profile::RootCa { pathlen: None }, Subject::cn("Owner CA"), now),
//!     &SubjectKey::Private(&root_key),
//!     None,
//! )?;
//! let issuer = Issuer::new(root.chain, &root_key, "root", "root key")?;
//!
//! let lot = dir.path().join("lot");
//! let input = "sensor-1\nsensor-2\nbad/id\n".as_bytes();
//! let summary = run(&ca, &issuer, input, &Options::new(Layout::Folders(lot.clone())), now, &mut ())?;
//! assert_eq!((summary.issued, summary.rejected), (2, 1));
//! assert!(lot.join("sensor-1/full-chain.pem").is_file());
//!
//! // Run again: nothing is issued twice.
//! let input = "sensor-1\nsensor-2\nbad/id\n".as_bytes();
//! let again = run(&ca, &issuer, input, &Options::new(Layout::Folders(lot)), now, &mut ())?;
//! assert_eq!((again.issued, again.skipped), (0, 2));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

mod engine;
mod error;
mod events;
mod index;
mod input;
mod issue;
mod journal;
mod manifest;
mod options;
mod plan;
mod writer;

pub use engine::{Summary, run};
pub use error::{Error, FileOp};
pub use events::{Events, Reason, Rejected, Warning};
pub use input::{Entry, Item, MAX_LINE, Reader};
pub use options::{Existing, Layout, OnReject, Options};
