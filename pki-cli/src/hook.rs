//! `pki renew --exec`: the renewal's hook as a shell command, lent to pki-core's renewal
//! ([`pki_core::renew::Hook`]). The process handling lives here, at the edge: the command run
//! through `sh -c` (`cmd /C` on Windows) in its own process group, made by
//! [`pki_core::child_command`] (so pki's secrets stay behind), its stdout and stderr on pki's
//! stderr (pki's stdout is its report), killed with what it started after its timeout.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pki_core::renew::{Hook, HookCall, HookPhase, HookRun};

/// How often a running hook is looked at.
const POLL: Duration = Duration::from_millis(20);

/// A shell command run once the new files are in place, and again after a rollback. It gets
/// `PKI_RENEW_PHASE` (`renew` or `rollback`), `PKI_RENEW_CERT`, `PKI_RENEW_OLD_SERIAL` and
/// `PKI_RENEW_NEW_SERIAL` in its environment.
#[derive(Debug, Clone)]
pub(crate) struct ShellHook {
    /// The command, as the user gave it.
    pub(crate) command: String,
    /// How long it may run before it is killed (and counts as failed).
    pub(crate) timeout: Duration,
}

impl Hook for ShellHook {
    fn run(&self, call: &HookCall<'_>) -> HookRun {
        let env = [
            ("PKI_RENEW_PHASE", call.phase.as_str().to_owned()),
            ("PKI_RENEW_CERT", call.cert.display().to_string()),
            ("PKI_RENEW_OLD_SERIAL", call.old_serial.to_owned()),
            ("PKI_RENEW_NEW_SERIAL", call.new_serial.to_owned()),
        ];
        run(&self.command, self.timeout, call.phase, &env)
    }
}

/// Runs `command` through the shell, its output to stderr, killed after `timeout`.
fn run(command: &str, timeout: Duration, phase: HookPhase, env: &[(&str, String)]) -> HookRun {
    let start = Instant::now();
    let mut run = HookRun {
        phase,
        command: command.to_owned(),
        ok: false,
        exit_code: None,
        timed_out: false,
        error: None,
        seconds: 0.0,
    };
    // The hook gets the operator's environment (PATH, a service manager's variables) but never
    // pki's secrets (`child_command`).
    let mut cmd = shell(command);
    cmd.stdin(Stdio::null()).stderr(Stdio::inherit());
    for (k, v) in env {
        cmd.env(k, v);
    }
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        use std::os::unix::process::CommandExt;
        // stdout to stderr: pki's stdout is its report.
        match std::io::stderr().as_fd().try_clone_to_owned() {
            Ok(fd) => cmd.stdout(Stdio::from(fd)),
            Err(_) => cmd.stdout(Stdio::null()),
        };
        // Its own process group, so that a timeout kills what it started too.
        cmd.process_group(0);
    }
    #[cfg(not(unix))]
    cmd.stdout(Stdio::inherit());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            run.error = Some(format!("could not be started: {e}"));
            return run;
        }
    };
    let deadline = start + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(POLL),
            Ok(None) => break None,
            Err(e) => {
                run.error = Some(format!("could not be waited for: {e}"));
                break None;
            }
        }
    };
    run.seconds = start.elapsed().as_secs_f64();
    match status {
        Some(s) => {
            run.exit_code = s.code();
            run.ok = s.success();
            if s.code().is_none() {
                run.error = Some(format!("ended by a signal ({s})"));
            }
        }
        None => {
            run.timed_out = run.error.is_none();
            kill(&mut child);
        }
    }
    run
}

fn shell(command: &str) -> Command {
    #[cfg(unix)]
    {
        let mut c = pki_core::child_command("sh");
        c.arg("-c").arg(command);
        c
    }
    #[cfg(not(unix))]
    {
        let mut c = pki_core::child_command("cmd");
        c.arg("/C").arg(command);
        c
    }
}

/// Kills the hook and what it started (its process group).
fn kill(child: &mut std::process::Child) {
    #[cfg(unix)]
    {
        if let Some(pid) = rustix::process::Pid::from_raw(child.id() as i32) {
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// The hooks of the test below in the platform's shell (sh; cmd on Windows): the phase
    /// and the certificate checked, a missing program and its status, a slow hook.
    #[cfg(unix)]
    const SHELL: [&str; 3] = [
        "test \"$PKI_RENEW_PHASE\" = renew && test \"$PKI_RENEW_CERT\" = /c.pem && test \"$PKI_RENEW_NEW_SERIAL\" = 0B",
        "/nonexistent/hook",
        "sleep 30",
    ];
    #[cfg(unix)]
    const MISSING_STATUS: i32 = 127;
    #[cfg(not(unix))]
    const SHELL: [&str; 3] = [
        r#"if "%PKI_RENEW_PHASE%"=="renew" (exit 0) else (exit 1)"#,
        r"C:\nonexistent\hook",
        "ping -n 30 127.0.0.1 > NUL",
    ];
    #[cfg(not(unix))]
    const MISSING_STATUS: i32 = 9009; // cmd's "is not recognized"

    #[test]
    fn a_hook_runs_through_the_shell_and_its_status_counts() {
        let hook = |c: &str, secs| ShellHook {
            command: c.into(),
            timeout: Duration::from_secs(secs),
        };
        let call = |phase| HookCall {
            phase,
            cert: Path::new("/c.pem"),
            old_serial: "0A",
            new_serial: "0B",
        };
        let [phase, missing, slow] = SHELL;
        let ok = hook(phase, 10).run(&call(HookPhase::Renew));
        assert!(ok.ok && ok.exit_code == Some(0), "{ok:?}");
        let wrong_phase = hook(phase, 10).run(&call(HookPhase::Rollback));
        assert!(!wrong_phase.ok, "{wrong_phase:?}");
        let failed = hook("exit 3", 10).run(&call(HookPhase::Rollback));
        assert_eq!((failed.ok, failed.exit_code), (false, Some(3)));
        assert_eq!(failed.phase, HookPhase::Rollback);
        let missing = hook(missing, 10).run(&call(HookPhase::Renew));
        assert_eq!(
            (missing.ok, missing.exit_code),
            (false, Some(MISSING_STATUS))
        );
        let start = Instant::now();
        let slow = hook(slow, 1).run(&call(HookPhase::Renew));
        assert!(slow.timed_out && !slow.ok, "{slow:?}");
        assert!(start.elapsed() < Duration::from_secs(10));
        assert!(slow.describe().starts_with("timed out after"));
    }
}
