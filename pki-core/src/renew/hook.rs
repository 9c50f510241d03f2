//! The renewal's hook as pki-core sees it: a step the caller lends ([`Hook`]), told when it runs
//! and what was renewed ([`HookCall`]), and how it ran ([`HookRun`]), which decides between
//! committing and rolling back. pki-core starts no process for it: `pki renew --exec` runs a
//! shell command (pki-cli), a test may lend a closure's worth of behaviour.

use std::path::Path;

use serde::Serialize;

/// A step run once the new files are in place (reload the gateway), and again after a
/// rollback, so that the gateway serves the old files. A run that is not [`HookRun::ok`] rolls
/// the renewal back.
pub trait Hook {
    /// Runs the step for `call` and says how it ran.
    fn run(&self, call: &HookCall<'_>) -> HookRun;
}

/// What a hook is told: when it runs, and the renewal it runs for.
#[derive(Debug, Clone, Copy)]
pub struct HookCall<'a> {
    /// After the new files were put in place, or after the old ones were put back.
    pub phase: HookPhase,
    /// The certificate file renewed (its standard path, or where the user placed it).
    pub cert: &'a Path,
    /// The replaced certificate's serial, upper-case hex.
    pub old_serial: &'a str,
    /// The new certificate's serial, upper-case hex.
    pub new_serial: &'a str,
}

/// When a hook ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HookPhase {
    /// After the new files were put in place.
    Renew,
    /// After the old files were put back.
    Rollback,
}

impl HookPhase {
    /// The phase's name: `renew` or `rollback`.
    pub fn as_str(self) -> &'static str {
        match self {
            HookPhase::Renew => "renew",
            HookPhase::Rollback => "rollback",
        }
    }
}

/// How a hook ran.
#[derive(Debug, Clone, Serialize)]
pub struct HookRun {
    /// When it ran.
    pub phase: HookPhase,
    /// The command.
    pub command: String,
    /// It exited with status 0 in time.
    pub ok: bool,
    /// Its exit status, when it exited.
    pub exit_code: Option<i32>,
    /// It was killed after the timeout.
    pub timed_out: bool,
    /// Why it could not be started, or the signal that ended it.
    pub error: Option<String>,
    /// How long it ran.
    pub seconds: f64,
}

impl HookRun {
    /// The run in a few words: `exit 0 after 0.1 s`, `timed out after 60 s`.
    pub fn describe(&self) -> String {
        let took = format!("{:.1} s", self.seconds);
        match (&self.exit_code, self.timed_out, &self.error) {
            (_, true, _) => format!("timed out after {took} and was killed"),
            (Some(c), _, _) => format!("exit {c} after {took}"),
            (None, _, Some(e)) => e.clone(),
            (None, _, None) => format!("ended after {took}"),
        }
    }
}
