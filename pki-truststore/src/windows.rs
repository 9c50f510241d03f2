//! Windows: LocalMachine\Root through certutil (services running as SYSTEM see it; CurrentUser\Root
//! does not reach them). pki keeps a copy of each certificate it installed in its record
//! directory, which is how it lists them and removes exactly those. Plain data: built and tested
//! on every platform.

use std::path::PathBuf;

use crate::cert::StoreCertificate;
use crate::detect::TrustSystem;
use crate::plan::{Action, Confirm, Installed, Plan, Privilege, Records, Step, record_copy};

/// certutil, by absolute path.
pub(crate) const CERTUTIL: &str = r"C:\Windows\System32\certutil.exe";
/// Where pki keeps its record of what it installed.
pub(crate) const RECORDS: &str = r"C:\ProgramData\pki\trust";

pub(crate) fn records() -> Records {
    Records {
        dir: PathBuf::from(RECORDS),
        extension: ".crt",
    }
}

fn confirm(cert: &StoreCertificate) -> Confirm {
    let sha1 = cert.sha1.to_ascii_lowercase();
    Confirm::CommandOutput {
        program: CERTUTIL.into(),
        args: vec!["-store".into(), "Root".into(), sha1.clone()],
        needle: sha1,
    }
}

pub(crate) fn install(cert: &StoreCertificate, file: PathBuf) -> Plan {
    Plan {
        action: Action::Install,
        system: TrustSystem::Windows,
        root: None,
        steps: record_copy(RECORDS, &file, cert)
            .into_iter()
            .chain([Step::Run {
                program: CERTUTIL.into(),
                args: vec![
                    "-addstore".into(),
                    "-f".into(),
                    "Root".into(),
                    file.display().to_string(),
                ],
            }])
            .collect(),
        file,
        confirm: Some(confirm(cert)),
        requires: Privilege::Administrator,
        notes: Vec::new(),
    }
}

pub(crate) fn uninstall(found: &Installed) -> Plan {
    Plan {
        action: Action::Uninstall,
        system: TrustSystem::Windows,
        root: None,
        steps: vec![
            Step::Run {
                program: CERTUTIL.into(),
                args: vec![
                    "-delstore".into(),
                    "Root".into(),
                    found.certificate.sha1.clone(),
                ],
            },
            Step::RemoveFile {
                path: found.path.clone(),
            },
        ],
        file: found.path.clone(),
        confirm: Some(confirm(&found.certificate)),
        requires: Privilege::Administrator,
        notes: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cert::tests::root;
    use crate::plan::{InstallPlan, StoreTarget, UninstallPlan, plan_install};

    #[test]
    fn install_and_uninstall_commands() {
        let cert = root();
        let target = StoreTarget {
            system: TrustSystem::Windows,
            root: None,
            privileged: true,
            tool_dirs: Vec::new(),
        };
        let name = cert.default_name();
        let InstallPlan::Steps(plan) = plan_install(&target, &cert, &name).unwrap() else {
            panic!("a plan")
        };
        let file = format!(r"C:\ProgramData\pki\trust\{name}.crt");
        let shown: Vec<String> = plan.steps.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                r"mkdir -p C:\ProgramData\pki\trust".to_owned(),
                format!("write {file} (mode 0644): the certificate, PEM"),
                format!(r"C:\Windows\System32\certutil.exe -addstore -f Root {file}"),
            ]
        );
        assert_eq!(plan.requires, Privilege::Administrator);
        let sha1 = cert.sha1.to_ascii_lowercase();
        assert_eq!(
            plan.confirm,
            Some(Confirm::CommandOutput {
                program: CERTUTIL.into(),
                args: vec!["-store".into(), "Root".into(), sha1.clone()],
                needle: sha1,
            })
        );
        let found = Installed {
            path: file.clone().into(),
            certificate: cert.clone(),
        };
        let un = uninstall(&found);
        let shown: Vec<String> = un.steps.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                format!(
                    r"C:\Windows\System32\certutil.exe -delstore Root {}",
                    cert.sha1
                ),
                format!("rm -f {file}"),
            ]
        );
        // Nothing recorded on this (non-Windows or clean) machine: not installed.
        let fp = crate::cert::Fingerprint::Sha256(cert.sha256.clone());
        if !cfg!(windows) {
            assert_eq!(
                crate::plan::plan_uninstall(&target, &fp).unwrap(),
                UninstallPlan::NotInstalled { in_bundle: false }
            );
        }
    }
}
