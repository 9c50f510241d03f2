//! Windows: LocalMachine\Root (services running as SYSTEM see it; CurrentUser\Root does not
//! reach them), changed and read through crypt32 ([`crate::crypt32`]), never by parsing
//! `certutil.exe` output (localized, and a stub that does nothing under Wine); a plan shows the
//! equivalent `certutil` commands for an operator to read. pki keeps a copy of each certificate
//! it installed in its record directory, which is how it lists them and removes exactly those.
//! Plain data: built and tested on every platform.

use std::path::PathBuf;

use crate::cert::StoreCertificate;
use crate::detect::TrustSystem;
use crate::plan::{Action, Confirm, Installed, Plan, Privilege, Records, Step, record_copy};

/// certutil, by absolute path: the command a plan shows for each store step.
pub(crate) const CERTUTIL: &str = r"C:\Windows\System32\certutil.exe";
/// Where pki keeps its record of what it installed.
pub(crate) const RECORDS: &str = r"C:\ProgramData\pki\trust";
/// The local machine's store of trusted roots.
pub(crate) const STORE: &str = "Root";

pub(crate) fn records() -> Records {
    Records {
        dir: PathBuf::from(RECORDS),
        extension: ".crt",
    }
}

fn confirm(cert: &StoreCertificate) -> Confirm {
    Confirm::WindowsStore {
        store: STORE.into(),
        sha1: cert.sha1.clone(),
    }
}

/// A SHA-1 thumbprint (40 hex digits, either case) as bytes; `None` for anything else.
pub(crate) fn thumbprint(hex: &str) -> Option<[u8; 20]> {
    let digits = hex.as_bytes();
    if digits.len() != 40 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let mut out = [0u8; 20];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let pair = std::str::from_utf8(pair).ok()?;
        *byte = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

pub(crate) fn install(cert: &StoreCertificate, file: PathBuf) -> Plan {
    Plan {
        action: Action::Install,
        system: TrustSystem::Windows,
        root: None,
        steps: record_copy(RECORDS, &file, cert)
            .into_iter()
            .chain([Step::AddToWindowsStore {
                store: STORE.into(),
                file: file.clone(),
                sha1: cert.sha1.clone(),
                der: cert.der().to_vec(),
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
            Step::DeleteFromWindowsStore {
                store: STORE.into(),
                sha1: found.certificate.sha1.clone(),
                der: found.certificate.der().to_vec(),
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
        assert_eq!(
            plan.confirm,
            Some(Confirm::WindowsStore {
                store: "Root".into(),
                sha1: cert.sha1.clone(),
            })
        );
        assert!(
            matches!(&plan.steps[2], Step::AddToWindowsStore { der, sha1, .. } if der == cert.der() && *sha1 == cert.sha1)
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

    #[test]
    fn thumbprints_are_forty_hex_digits() {
        let cert = root();
        let bytes = thumbprint(&cert.sha1).unwrap();
        assert_eq!(pki_x509::hex_upper(&bytes), cert.sha1);
        assert_eq!(thumbprint(&cert.sha1.to_ascii_lowercase()), Some(bytes));
        assert_eq!(thumbprint(&cert.sha1[2..]), None);
        assert_eq!(thumbprint(&format!("{}zz", &cert.sha1[2..])), None);
        assert_eq!(thumbprint(&format!("+1{}", &cert.sha1[2..])), None);
    }
}
