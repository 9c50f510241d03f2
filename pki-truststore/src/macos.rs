//! macOS: the System keychain, trusted as a root for every user and daemon, through
//! `security`. pki keeps a copy of each certificate it installed in its record directory,
//! which is how it lists them and removes exactly those. Plain data: built and tested on every
//! platform.

use std::path::PathBuf;

use crate::cert::StoreCertificate;
use crate::detect::TrustSystem;
use crate::plan::{Action, Confirm, Installed, Note, Plan, Privilege, Records, Step, record_copy};

/// security(1), by absolute path.
pub(crate) const SECURITY: &str = "/usr/bin/security";
/// The keychain every user and daemon trusts.
pub(crate) const KEYCHAIN: &str = "/Library/Keychains/System.keychain";
/// Where pki keeps its record of what it installed.
pub(crate) const RECORDS: &str = "/Library/Application Support/pki/trust";

pub(crate) fn records() -> Records {
    Records {
        dir: PathBuf::from(RECORDS),
        extension: ".pem",
    }
}

fn confirm(cert: &StoreCertificate) -> Confirm {
    Confirm::CommandOutput {
        program: SECURITY.into(),
        args: vec![
            "find-certificate".into(),
            "-a".into(),
            "-Z".into(),
            KEYCHAIN.into(),
        ],
        needle: format!("SHA-1 hash: {}", cert.sha1),
    }
}

pub(crate) fn install(cert: &StoreCertificate, file: PathBuf) -> Plan {
    // trustRoot is for self-issued certificates; an intermediate is trusted as trustAsRoot.
    let (policy, notes) = if cert.self_issued {
        ("trustRoot", Vec::new())
    } else {
        ("trustAsRoot", vec![Note::TrustAsRoot])
    };
    Plan {
        action: Action::Install,
        system: TrustSystem::MacOs,
        root: None,
        steps: record_copy(RECORDS, &file, cert)
            .into_iter()
            .chain([Step::Run {
                program: SECURITY.into(),
                args: vec![
                    "add-trusted-cert".into(),
                    "-d".into(),
                    "-r".into(),
                    policy.into(),
                    "-k".into(),
                    KEYCHAIN.into(),
                    file.display().to_string(),
                ],
            }])
            .collect(),
        file,
        confirm: Some(confirm(cert)),
        requires: Privilege::Root,
        notes,
    }
}

pub(crate) fn uninstall(found: &Installed) -> Plan {
    Plan {
        action: Action::Uninstall,
        system: TrustSystem::MacOs,
        root: None,
        steps: vec![
            // The trust setting, then the certificate itself (remove-trusted-cert leaves it in
            // the keychain), found by its SHA-1.
            Step::Run {
                program: SECURITY.into(),
                args: vec![
                    "remove-trusted-cert".into(),
                    "-d".into(),
                    found.path.display().to_string(),
                ],
            },
            Step::Run {
                program: SECURITY.into(),
                args: vec![
                    "delete-certificate".into(),
                    "-Z".into(),
                    found.certificate.sha1.clone(),
                    KEYCHAIN.into(),
                ],
            },
            Step::RemoveFile {
                path: found.path.clone(),
            },
        ],
        file: found.path.clone(),
        confirm: Some(confirm(&found.certificate)),
        requires: Privilege::Root,
        notes: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cert::tests::{leaf, root};

    #[test]
    fn install_and_uninstall_commands() {
        let cert = root();
        let file: PathBuf = format!("{RECORDS}/pki-x.pem").into();
        let plan = install(&cert, file.clone());
        let shown: Vec<String> = plan.steps.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "mkdir -p '/Library/Application Support/pki/trust'",
                "write '/Library/Application Support/pki/trust/pki-x.pem' (mode 0644): the certificate, PEM",
                "/usr/bin/security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain '/Library/Application Support/pki/trust/pki-x.pem'",
            ]
        );
        assert_eq!(plan.requires, Privilege::Root);
        // The check that follows: the System keychain lists the certificate's SHA-1.
        let Some(Confirm::CommandOutput {
            program,
            args,
            needle,
        }) = &plan.confirm
        else {
            panic!("not a command's output: {:?}", plan.confirm);
        };
        assert_eq!(program, &PathBuf::from(SECURITY));
        assert_eq!(args, &["find-certificate", "-a", "-Z", KEYCHAIN]);
        assert_eq!(*needle, format!("SHA-1 hash: {}", cert.sha1));
        // A certificate that is not self-issued is trusted as trustAsRoot.
        let p = install(&leaf(), file.clone());
        assert!(matches!(&p.steps[2], Step::Run { args, .. } if args[3] == "trustAsRoot"));
        assert_eq!(p.notes, [Note::TrustAsRoot]);
        let un = uninstall(&Installed {
            path: file,
            certificate: cert.clone(),
        });
        let shown: Vec<String> = un.steps.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "/usr/bin/security remove-trusted-cert -d '/Library/Application Support/pki/trust/pki-x.pem'".to_owned(),
                format!("/usr/bin/security delete-certificate -Z {} /Library/Keychains/System.keychain", cert.sha1),
                "rm -f '/Library/Application Support/pki/trust/pki-x.pem'".to_owned(),
            ]
        );
    }
}
