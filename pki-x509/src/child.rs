//! Every program pki starts (a renewal's hook, a trust store's refresh tool) is made here:
//! [`child_command`] is the one way to a [`Command`], and it never hands on the variables
//! through which pki takes secrets. Clippy's `disallowed-methods` (clippy.toml) refuses
//! `Command::new` anywhere else, so a new caller cannot forget.

use std::ffi::OsStr;
use std::process::Command;

/// The environment variables through which pki takes secrets: a key's password, a token's PIN,
/// a tenant's password, a device's connection string, a register URL (which may hold a
/// database password). Never passed on to a program pki runs.
pub const SECRET_VARIABLES: [&str; 5] = [
    "PKI_KEY_PASSWORD",
    "PKI_PKCS11_PIN",
    "C8Y_PASSWORD",
    "IOTHUB_DEVICE_CONNECTION_STRING",
    "PKI_REGISTER",
];

/// A command for `program` that inherits pki's environment except [`SECRET_VARIABLES`].
pub fn child_command(program: impl AsRef<OsStr>) -> Command {
    // The one place a child process is made: every other caller comes through here.
    #[allow(clippy::disallowed_methods)]
    let mut c = Command::new(program);
    for secret in SECRET_VARIABLES {
        c.env_remove(secret);
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_secret_variable_is_removed_from_a_child() {
        let c = child_command("env");
        let removed: Vec<String> = c
            .get_envs()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| k.to_string_lossy().into_owned())
            .collect();
        for s in SECRET_VARIABLES {
            assert!(removed.iter().any(|r| r == s), "{s} is not removed");
        }
    }
}
