//! Whether this process may carry out a plan: it runs as root (its token elevated on Windows), or the plan
//! needs no privilege (a device image the user may write). The answer is data
//! ([`Error::NeedsPrivilege`]): the caller says how to run again with the privilege.

use crate::child::Environment;
use crate::error::Error;
use crate::plan::{Plan, Privilege, Step, StoreTarget};

/// Whether this process runs as root: the effective uid of /proc/self/status, else `id -u`.
#[cfg(unix)]
pub(crate) fn this_process(env: &Environment) -> bool {
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        // "Uid:\treal\teffective\tsaved\tfs"
        if let Some(line) = status.lines().find(|l| l.starts_with("Uid:")) {
            return line.split_whitespace().nth(2) == Some("0");
        }
    }
    crate::child::command("id", env)
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Whether this process runs elevated: its token's elevation (crypt32.rs), not the exit code
/// of `net session` (which Wine answers with 0). A token that cannot be read is not elevated.
#[cfg(windows)]
pub(crate) fn this_process(env: &Environment) -> bool {
    let _ = env;
    crate::crypt32::elevated().unwrap_or(false)
}

/// Elsewhere: never assumed.
#[cfg(not(any(unix, windows)))]
pub(crate) fn this_process(env: &Environment) -> bool {
    let _ = env;
    false
}

/// Ok when the target may carry out the plan; else what it needs, with the file the plan
/// writes and the program it runs.
pub(crate) fn check(plan: &Plan, target: &StoreTarget) -> Result<(), Error> {
    if target.privileged || plan.requires == Privilege::None {
        return Ok(());
    }
    Err(Error::NeedsPrivilege {
        action: plan.action,
        privilege: plan.requires,
        system: plan.system,
        file: plan.file.clone(),
        program: plan.steps.iter().find_map(|s| match s {
            Step::Run { program, .. } => Some(program.clone()),
            _ => None,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cert::tests::root;
    use crate::detect::TrustSystem;
    use crate::plan::{InstallPlan, plan_install};

    #[test]
    #[cfg(unix)] // a Linux store's plan reads this machine's / through pki_x509::files::Root
    fn an_unprivileged_process_is_told_what_the_plan_needs() {
        let tools = tempfile::tempdir().unwrap();
        std::fs::write(tools.path().join("update-ca-trust"), "").unwrap();
        let mut target = StoreTarget {
            system: TrustSystem::RedHat,
            root: None,
            privileged: false,
            tool_dirs: vec![tools.path().to_owned()],
        };
        let InstallPlan::Steps(plan) = plan_install(&target, &root(), "pki-owner").unwrap() else {
            panic!("a plan");
        };
        let err = check(&plan, &target).unwrap_err();
        let tool = tools.path().join("update-ca-trust");
        assert!(
            matches!(
                &err,
                Error::NeedsPrivilege {
                    action: crate::plan::Action::Install,
                    privilege: Privilege::Root,
                    system: TrustSystem::RedHat,
                    file,
                    program: Some(program),
                } if file.ends_with("etc/pki/ca-trust/source/anchors/pki-owner.pem") && *program == tool
            ),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "installing into the redhat trust store needs root (it writes /etc/pki/ca-trust/source/anchors/pki-owner.pem and runs {})",
                tool.display()
            )
        );
        target.privileged = true;
        assert!(check(&plan, &target).is_ok());
    }

    #[test]
    fn windows_needs_an_elevated_process() {
        let target = StoreTarget {
            system: TrustSystem::Windows,
            root: None,
            privileged: false,
            tool_dirs: Vec::new(),
        };
        let cert = root();
        let InstallPlan::Steps(plan) = plan_install(&target, &cert, &cert.default_name()).unwrap()
        else {
            panic!("a plan");
        };
        let err = check(&plan, &target).unwrap_err();
        assert!(matches!(
            err,
            Error::NeedsPrivilege {
                privilege: Privilege::Administrator,
                ..
            }
        ));
        assert_eq!(
            err.to_string(),
            r"installing into LocalMachine\Root needs an elevated process"
        );
    }
}
