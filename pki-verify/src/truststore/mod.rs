//! The operating system's trust store: install a CA where the system's TLS clients look,
//! remove exactly that one, list what pki installed.
//!
//! The system is detected ([`TrustSystem::detect`]: /etc/os-release's ID and ID_LIKE under a
//! root, the build target for Windows and macOS). An operation is planned as data ([`Plan`]:
//! [`Step`]s of file writes, removals and commands by absolute path, a [`Confirm`] check, the
//! [`Privilege`] it needs); the caller prints it (`--dry-run`) or executes it. Nothing here
//! prints or reads the environment: the facts a plan depends on come in a [`StoreTarget`].
//!
//! A device image (`--root`) is input, trusted only as far as pki resolves it: every path of a
//! store is resolved inside the root it belongs to (an image's links and `..` never lead out of
//! it), every read is bounded and of regular files only, and nothing of an image runs: for the
//! Debian layout pki builds the image's bundle itself ([`build_bundle`]), for the others the
//! refresh is left to the image.
//!
//! pki knows what it installed by the file name prefix `pki-` in the store's anchor directory
//! (on Windows and macOS, in pki's record directory), and identifies a certificate by the
//! SHA-256 fingerprint of the file's content, never by serial or name.
//!
//! ```
//! use std::path::Path;
//! use pki_verify::{InstallPlan, OsRelease, StoreCertificate, StoreTarget, TrustSystem, plan_install};
//!
//! let os = OsRelease::parse("ID=ubuntu\nID_LIKE=debian\n");
//! assert_eq!(TrustSystem::from_os_release(&os)?, TrustSystem::Debian);
//!
//! // Windows' plan is plain data, built the same on every platform.
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
//! # Ok::<(), pki_verify::TrustStoreError>(())
//! ```

mod access;
mod cert;
mod debian;
mod detect;
mod error;
mod hash;
mod linux;
mod macos;
mod plan;
mod windows;

pub use cert::{Fingerprint, PREFIX, StoreCertificate, checked_name};
pub use debian::{Built, build_bundle};
pub use detect::{OsRelease, TrustSystem};
pub use error::TrustStoreError;
pub use plan::{
    Action, Already, Confirm, Content, InstallPlan, Installed, Note, Plan, Privilege, Step,
    StoreTarget, UninstallPlan, bundle_holds, installed, plan_install, plan_uninstall,
    store_certificates,
};
