//! What [`crate::install`], [`crate::uninstall`] and [`crate::list`] return: what happened
//! ([`Status`]), to which certificate, in which file, by which steps, confirmed how, and what
//! the user should know. Typed for the caller to render as text; serialised as the JSON
//! document `pki install-ca --json` (and `uninstall-ca`, `list-ca`) prints.

use std::fmt;
use std::path::PathBuf;

use serde::{Serialize, Serializer};
use time::OffsetDateTime;

use crate::cert::{Fingerprint, StoreCertificate};
use crate::detect::TrustSystem;
use crate::plan::{Action, Confirm, Note, Plan, Privilege, Step, StoreTarget};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Installed, and confirmed in the store.
    Installed,
    /// pki installed it before: nothing changed.
    AlreadyInstalled,
    /// The store holds it already, not from pki: nothing changed.
    AlreadyInStore,
    /// The file is in place; the store's refresh must still run inside the image.
    RefreshPending,
    /// Removed, and confirmed gone from the store.
    Removed,
    /// pki did not install it: nothing changed.
    NotInstalled,
    /// Nothing was done: the report shows the steps.
    DryRun,
}

/// What a runtime that does not read the OS store needs to be told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuntimeHint {
    /// Node.js reads `NODE_EXTRA_CA_CERTS`.
    NodeJs {
        /// The certificate's file, as the system names it.
        file: PathBuf,
    },
    /// Python requests reads `REQUESTS_CA_BUNDLE`.
    PythonRequests {
        /// The store's bundle (or the certificate's file), as the system names it.
        bundle: PathBuf,
    },
    /// IoT Edge modules get `trust_bundle_cert` from IoT Edge's config.toml
    /// (/etc/aziot/config.toml on Linux).
    IotEdge {
        /// The certificate's file, as the system names it.
        file: PathBuf,
    },
}

impl fmt::Display for RuntimeHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuntimeHint::NodeJs { file } => {
                write!(
                    f,
                    "Node.js:          NODE_EXTRA_CA_CERTS={}",
                    file.display()
                )
            }
            RuntimeHint::PythonRequests { bundle } => {
                write!(
                    f,
                    "Python requests:  REQUESTS_CA_BUNDLE={}",
                    bundle.display()
                )
            }
            RuntimeHint::IotEdge { file } => match windows_path(file) {
                Some(uri) => write!(
                    f,
                    "IoT Edge modules: trust_bundle_cert = \"{uri}\" in IoT Edge's config.toml, then `iotedge config apply` from an elevated prompt",
                ),
                None => write!(
                    f,
                    "IoT Edge modules: trust_bundle_cert = \"file://{}\" in /etc/aziot/config.toml, then `sudo iotedge config apply`",
                    file.display()
                ),
            },
        }
    }
}

/// A Windows path (`C:\\...`, whatever this build's platform) as a `file:///C:/...` URI;
/// `None` for any other path.
fn windows_path(file: &std::path::Path) -> Option<String> {
    let text = file.to_str()?;
    let mut chars = text.chars();
    let drive = chars.next().filter(char::is_ascii_alphabetic)?;
    (chars.next() == Some(':')).then(|| {
        let rest = text[2..].replace('\\', "/").replace(' ', "%20");
        format!("file:///{drive}:{rest}")
    })
}

/// What installing or removing a certificate did (or, with a dry run, would do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreReport {
    /// Install or uninstall.
    pub action: Action,
    /// What happened.
    pub status: Status,
    /// The system's layout.
    pub system: TrustSystem,
    /// The device image acted on, if not this machine.
    pub root: Option<PathBuf>,
    /// The certificate, when known (removing by a fingerprint pki did not install: unknown).
    pub certificate: Option<StoreCertificate>,
    /// The fingerprint asked for (uninstall).
    pub fingerprint: Option<Fingerprint>,
    /// The store's file for the certificate (or the bundle that holds it already).
    pub file: Option<PathBuf>,
    /// The steps, done or (dry run) to do.
    pub steps: Vec<Step>,
    /// How the result is (or was) confirmed.
    pub confirm: Option<Confirm>,
    /// The privilege the steps need.
    pub requires: Option<Privilege>,
    /// What the user should know.
    pub notes: Vec<Note>,
    /// For runtimes that do not read the OS store (after an install).
    pub hints: Vec<RuntimeHint>,
    /// What the steps said along the way (entries of an image's configuration a bundle build
    /// left out, as update-ca-certificates warns about them). Not part of the JSON document.
    pub warnings: Vec<String>,
}

impl StoreReport {
    pub(crate) fn new(action: Action, status: Status, target: &StoreTarget) -> Self {
        StoreReport {
            action,
            status,
            system: target.system,
            root: target.root.clone(),
            certificate: None,
            fingerprint: None,
            file: None,
            steps: Vec::new(),
            confirm: None,
            requires: None,
            notes: Vec::new(),
            hints: Vec::new(),
            warnings: Vec::new(),
        }
    }

    pub(crate) fn with_plan(mut self, plan: &Plan) -> Self {
        self.file = Some(plan.file.clone());
        self.steps = plan.steps.clone();
        self.confirm = plan.confirm.clone();
        self.requires = Some(plan.requires);
        self.notes = plan.notes.clone();
        self
    }

    /// The steps, as the commands they amount to.
    pub fn commands(&self) -> Vec<String> {
        self.steps.iter().map(ToString::to_string).collect()
    }
}

/// The certificate as the reports show it.
#[derive(Serialize)]
struct CertJson<'a> {
    subject: &'a str,
    #[serde(with = "time::serde::rfc3339")]
    not_after: OffsetDateTime,
    sha256: &'a str,
    sha1: &'a str,
    is_ca: bool,
}

/// The JSON document of a [`StoreReport`].
#[derive(Serialize)]
struct StoreJson<'a> {
    action: Action,
    status: Status,
    system: TrustSystem,
    root: &'a Option<PathBuf>,
    certificate: Option<CertJson<'a>>,
    fingerprint: Option<String>,
    file: &'a Option<PathBuf>,
    steps: &'a [Step],
    commands: Vec<String>,
    confirm: &'a Option<Confirm>,
    requires: Option<Privilege>,
    notes: Vec<String>,
    hints: Vec<String>,
}

impl Serialize for StoreReport {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        StoreJson {
            action: self.action,
            status: self.status,
            system: self.system,
            root: &self.root,
            certificate: self.certificate.as_ref().map(|c| CertJson {
                subject: &c.subject,
                not_after: c.not_after,
                sha256: &c.sha256,
                sha1: &c.sha1,
                is_ca: c.is_ca,
            }),
            fingerprint: self.fingerprint.as_ref().map(ToString::to_string),
            file: &self.file,
            steps: &self.steps,
            commands: self.commands(),
            confirm: &self.confirm,
            requires: self.requires,
            notes: self.notes.iter().map(ToString::to_string).collect(),
            hints: self.hints.iter().map(ToString::to_string).collect(),
        }
        .serialize(s)
    }
}

/// One certificate of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The certificate.
    pub certificate: StoreCertificate,
    /// pki's file for it, when pki installed it.
    pub file: Option<PathBuf>,
}

/// The JSON of a [`Listed`].
#[derive(Serialize)]
struct ListedJson<'a> {
    subject: &'a str,
    #[serde(with = "time::serde::rfc3339")]
    not_after: OffsetDateTime,
    sha256: &'a str,
    sha1: &'a str,
    file: &'a Option<PathBuf>,
}

impl Serialize for Listed {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = &self.certificate;
        ListedJson {
            subject: &c.subject,
            not_after: c.not_after,
            sha256: &c.sha256,
            sha1: &c.sha1,
            file: &self.file,
        }
        .serialize(s)
    }
}

/// What a listing found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListReport {
    /// The system's layout.
    pub system: TrustSystem,
    /// The device image looked at, if not this machine.
    pub root: Option<PathBuf>,
    /// The whole store (`true`), or only what pki installed.
    pub all: bool,
    /// Where the listing comes from: the anchor directory, or the bundle for the whole store.
    pub source: PathBuf,
    /// The certificates.
    pub certificates: Vec<Listed>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cert::tests::root;

    #[test]
    fn the_json_document_keeps_its_fields_and_order() {
        let cert = root();
        let target = StoreTarget {
            system: TrustSystem::Debian,
            root: None,
            privileged: true,
            tool_dirs: Vec::new(),
        };
        let mut r = StoreReport::new(Action::Uninstall, Status::NotInstalled, &target);
        r.certificate = Some(cert.clone());
        r.fingerprint = Some(Fingerprint::Sha256(cert.sha256.clone()));
        r.notes.push(Note::InStoreNotFromPki);
        r.warnings.push("not in the JSON".into());
        let text = serde_json::to_string(&r).unwrap();
        let at: Vec<usize> = [
            "action",
            "status",
            "system",
            "root",
            "certificate",
            "fingerprint",
            "file",
            "steps",
            "commands",
            "confirm",
            "requires",
            "notes",
            "hints",
        ]
        .iter()
        .map(|k| text.find(&format!("\"{k}\":")).unwrap_or(usize::MAX))
        .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
        assert!(!text.contains("warnings") && !text.contains("not in the JSON"));
        let j: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(j["status"], "not_installed");
        assert_eq!(j["fingerprint"], format!("SHA-256 {}", cert.sha256));
        assert_eq!(j["certificate"]["is_ca"], true);
        assert_eq!(
            j["notes"][0],
            "the store holds it, but not from a file pki installed: remove it the way it was added"
        );
    }

    #[test]
    fn the_iot_edge_hint_names_a_file_uri_for_each_system() {
        let linux = RuntimeHint::IotEdge {
            file: "/usr/local/share/ca-certificates/pki-x.crt".into(),
        };
        assert_eq!(
            linux.to_string(),
            "IoT Edge modules: trust_bundle_cert = \"file:///usr/local/share/ca-certificates/pki-x.crt\" in /etc/aziot/config.toml, then `sudo iotedge config apply`"
        );
        let windows = RuntimeHint::IotEdge {
            file: r"C:\ProgramData\pki\trust\pki-x y.crt".into(),
        };
        assert_eq!(
            windows.to_string(),
            "IoT Edge modules: trust_bundle_cert = \"file:///C:/ProgramData/pki/trust/pki-x%20y.crt\" in IoT Edge's config.toml, then `iotedge config apply` from an elevated prompt"
        );
    }
}
