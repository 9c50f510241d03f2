//! The programs a plan runs (refresh tools, `security`, `id -u` when /proc is absent) start
//! with a clean environment: a child never sees the caller's secrets (`C8Y_PASSWORD`,
//! `PKI_KEY_PASSWORD`) nor anything else of its environment, only a fixed system PATH and the C
//! locale (on Windows, its system directory variables, which its programs need). The little
//! this crate needs of the caller's environment comes in an [`Environment`]: the crate reads no
//! environment variable itself.

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::process::{Command, Output};

use crate::error::Error;

/// What the caller passes of its process environment: the crate reads no environment
/// variable itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    /// `PATH`: where refresh tools are looked for after the system directories (`/usr/sbin` is
    /// not on every user's PATH, so those come first).
    pub path: Option<OsString>,
    /// Windows' `SystemRoot`, handed on to the programs run there (`C:\Windows` when absent).
    pub system_root: Option<OsString>,
}

/// `program` (an absolute path, or a name found in the fixed system PATH) with a clean
/// environment (made by pki-x509's `child_command`, the one maker of child processes, and then
/// emptied).
pub(crate) fn command(program: impl AsRef<OsStr>, env: &Environment) -> Command {
    let mut c = pki_x509::child_command(program);
    c.env_clear();
    #[cfg(windows)]
    {
        let system_root = env
            .system_root
            .clone()
            .unwrap_or_else(|| r"C:\Windows".into());
        let mut path = std::path::PathBuf::from(&system_root);
        path.push("System32");
        c.env("SystemRoot", &system_root)
            .env("windir", &system_root)
            .env("PATH", path);
    }
    #[cfg(not(windows))]
    {
        let _ = env;
        c.env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("LANG", "C")
            .env("LC_ALL", "C");
    }
    c
}

/// Runs `program` (by absolute path) with `args` and a clean environment, and collects its
/// output.
pub(crate) fn output(program: &Path, args: &[String], env: &Environment) -> Result<Output, Error> {
    output_with_stdin(program, args, env, std::process::Stdio::null())
}

/// [`output`] with `stdin` as the program's standard input.
pub(crate) fn output_with_stdin(
    program: &Path,
    args: &[String],
    env: &Environment,
    stdin: std::process::Stdio,
) -> Result<Output, Error> {
    command(program, env)
        .args(args)
        .stdin(stdin)
        .output()
        .map_err(|reason| Error::Spawn {
            program: program.to_owned(),
            reason,
        })
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_child_sees_only_the_fixed_environment() {
        let env = Environment {
            path: Some("/somewhere/else".into()),
            system_root: None,
        };
        let out = command("env", &env).output().unwrap();
        let mut vars: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect();
        vars.sort();
        assert_eq!(
            vars,
            ["LANG=C", "LC_ALL=C", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"]
        );
    }
}
