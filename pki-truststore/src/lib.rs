//! The operating system's trust store: install a CA where the system's TLS clients look,
//! remove exactly that one, list what pki installed. One call per operation ([`install`],
//! [`uninstall`], [`list`]) takes a request and returns a typed report ([`StoreReport`],
//! [`ListReport`]) or an [`Error`] that carries its data; the caller renders both.
//!
//! Inside, an operation goes plan → run → confirm → roll back:
//!
//! - the system is detected ([`TrustSystem::detect`]: /etc/os-release's ID and ID_LIKE under a
//!   root, the build target for Windows and macOS);
//! - the operation is planned as data ([`Plan`]: [`Step`]s of file writes, removals and
//!   commands by absolute path, a [`Confirm`] check, the [`Privilege`] it needs), which a dry
//!   run returns as it is;
//! - a process without that privilege gets [`Error::NeedsPrivilege`] and nothing changes;
//! - the steps run (programs with a clean environment), the result is confirmed (the store's
//!   bundle holds the certificate's SHA-256, or the store's command lists it), and on any
//!   failure everything done is undone ([`Error::RolledBack`]).
//!
//! A device image (`root`) is input, trusted only as far as pki resolves it: every path of a
//! store is resolved inside the root it belongs to (an image's links and `..` never lead out of
//! it), every read is bounded and of regular files only, and nothing of an image runs: for the
//! Debian layout pki builds the image's bundle itself, as `update-ca-certificates --fresh`
//! does; for the others the refresh is left to the image ([`Status::RefreshPending`]).
//!
//! pki knows what it installed by the file name prefix `pki-` in the store's anchor directory
//! (on Windows and macOS, in pki's record directory), and identifies a certificate by the
//! SHA-256 fingerprint of the file's content, never by serial or name.
//!
//! Nothing here prints, exits or reads an environment variable: what the crate needs of the
//! caller's environment (PATH, to find refresh tools) comes in an [`Environment`].
//!
//! # Example
//!
//! Installing a CA into a Debian device image, first as a dry run:
//!
//! ```
//! use pki_truststore::{Environment, InstallRequest, Status, StoreOptions, TrustSystem, install};
//!
//! let image = tempfile::tempdir()?;
//! std::fs::create_dir(image.path().join("etc"))?;
//! std::fs::write(image.path().join("etc/os-release"), "ID=ubuntu\nID_LIKE=debian\n")?;
//!
//! let ca = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/verify/missing-intermediate/ca.pem");
//! let mut request = InstallRequest {
//!     certificate: ca.into(),
//!     name: Some("contoso-root".into()),
//!     allow_leaf: false,
//!     store: StoreOptions { root: Some(image.path().to_owned()), dry_run: true },
//! };
//! let env = Environment { path: std::env::var_os("PATH"), system_root: None };
//!
//! let plan = install(&request, &env)?;
//! assert_eq!((plan.system, plan.status), (TrustSystem::Debian, Status::DryRun));
//! let anchor = image.path().join("usr/local/share/ca-certificates/pki-contoso-root.crt");
//! assert_eq!(plan.file.as_deref(), Some(anchor.as_path()));
//! assert!(!anchor.exists());
//!
//! request.store.dry_run = false;
//! let done = install(&request, &env)?;
//! assert_eq!(done.status, Status::Installed);
//! assert!(anchor.is_file() && image.path().join("etc/ssl/certs/ca-certificates.crt").is_file());
//!
//! // Again: found by fingerprint, nothing changes.
//! assert_eq!(install(&request, &env)?.status, Status::AlreadyInstalled);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A plan is plain data, built the same on every platform:
//!
//! ```
//! use std::path::Path;
//! use pki_truststore::{InstallPlan, StoreCertificate, StoreTarget, TrustSystem, plan_install};
//!
//! let ca = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/verify/missing-intermediate/ca.pem");
//! let cert = StoreCertificate::read(Path::new(ca))?;
//! let target = StoreTarget {
//!     system: TrustSystem::Windows,
//!     root: None,
//!     privileged: true,
//!     tool_dirs: Vec::new(),
//! };
//! let name = cert.default_name();
//! if let InstallPlan::Steps(plan) = plan_install(&target, &cert, &name)? {
//!     assert_eq!(
//!         plan.steps[2].to_string(),
//!         format!(r"C:\Windows\System32\certutil.exe -addstore -f Root C:\ProgramData\pki\trust\{name}.crt")
//!     );
//! }
//! # Ok::<(), pki_truststore::Error>(())
//! ```
#![warn(missing_docs)]

mod access;
mod app;
mod cert;
mod child;
mod crypt32;
mod debian;
mod detect;
mod error;
mod execute;
mod java;
mod linux;
mod macos;
mod nss;
mod operation;
mod plan;
mod privilege;
mod report;
mod windows;

pub use app::{AppEntry, AppReport, AppStatus, AppStore};
pub use cert::{Fingerprint, StoreCertificate, checked_name};
pub use child::Environment;
pub use detect::{OsRelease, TrustSystem};
pub use error::{Error, UndoFailure, Undone, WindowsCall};
pub use java::{DEFAULT_STOREPASS, JavaStore};
pub use nss::{NssDb, nss_databases};
pub use operation::{
    InstallRequest, ListRequest, StoreOptions, UninstallRequest, Which, install, list, uninstall,
};
pub use plan::{
    Action, Already, Confirm, Content, InstallPlan, Installed, Note, Plan, Privilege, Step,
    StoreTarget, UninstallPlan, installed, plan_install, plan_uninstall, store_certificates,
};
pub use report::{ListReport, Listed, RuntimeHint, Status, StoreReport};
