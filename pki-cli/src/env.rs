//! Every environment variable pki reads, named once (as uv's `EnvVars`): clap's `env = ...`
//! attributes and every `std::env::var` of the CLI use these constants, and the libraries read
//! none (the CLI passes what they need).
//!
//! The constants at the top of this file are pki's own variables: the end-to-end harness
//! (tests/e2e/support/run.rs) reads this file and removes every one of them from each `pki` it
//! starts, so that a developer's shell (`PKI_REGISTER=postgres://...` exported) never reaches a
//! test. The variables of the system that pki honours as every program does are in [`system`]
//! and are left to the tests (the harness does not clear `PATH` or `SSL_CERT_FILE`).

/// The CA directory (`--dir`).
pub(crate) const PKI_DIR: &str = "PKI_DIR";
/// The register of issued certificates, a PostgreSQL URL or a SQLite file (`--register`).
pub(crate) const PKI_REGISTER: &str = "PKI_REGISTER";
/// The password of an encrypted key, when `--key-password-file` is not given.
pub(crate) const PKI_KEY_PASSWORD: &str = "PKI_KEY_PASSWORD";
/// The PKCS#11 module that serves `pkcs11:` keys (`--pkcs11-module`).
pub(crate) const PKI_PKCS11_MODULE: &str = "PKI_PKCS11_MODULE";
/// A token's PIN, when the URI has no pin-source.
pub(crate) const PKI_PKCS11_PIN: &str = "PKI_PKCS11_PIN";
/// Set by `pki renew` for its `--exec` hook: a pki the hook runs knows the renewal holds the
/// register.
pub(crate) const PKI_RENEW_PHASE: &str = "PKI_RENEW_PHASE";
/// A device's connection string (`pki verify --connection-string`).
pub(crate) const IOTHUB_DEVICE_CONNECTION_STRING: &str = "IOTHUB_DEVICE_CONNECTION_STRING";
/// The Cumulocity tenant's URL (`--url` of `pki c8y` and `pki renew --c8y-upload`).
pub(crate) const C8Y_URL: &str = "C8Y_URL";
/// The Cumulocity user (`--user`).
pub(crate) const C8Y_USER: &str = "C8Y_USER";
/// The Cumulocity tenant id (`--tenant`).
pub(crate) const C8Y_TENANT: &str = "C8Y_TENANT";
/// The Cumulocity user's password, when `--password-file` is not given.
pub(crate) const C8Y_PASSWORD: &str = "C8Y_PASSWORD";

/// The system's variables pki honours as any program does (not cleared by the test harness).
pub(crate) mod system {
    /// The trusted CA bundle of the OS store, as OpenSSL reads it (`--os-store`).
    pub(crate) const SSL_CERT_FILE: &str = "SSL_CERT_FILE";
    /// The hashed CA directory of the OS store, as OpenSSL reads it (`--os-store`).
    pub(crate) const SSL_CERT_DIR: &str = "SSL_CERT_DIR";
    /// Where the trust stores' tools (update-ca-certificates, keytool, certutil) are found.
    pub(crate) const PATH: &str = "PATH";
    /// Windows' system directory (certutil, the store's tools).
    pub(crate) const SYSTEM_ROOT: &str = "SystemRoot";
    /// The JDK whose cacerts `--java` acts on.
    pub(crate) const JAVA_HOME: &str = "JAVA_HOME";
    /// The user's home: ~/.pki/nssdb and the Firefox profiles (`--nss`).
    pub(crate) const HOME: &str = "HOME";
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::library_words::{library_sources, sources};

    /// The code of a file: its lines without the comments that take a whole line.
    fn code_lines(path: &Path) -> Vec<(usize, String)> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim_start().starts_with("//"))
            .map(|(i, l)| (i + 1, l.to_owned()))
            .collect()
    }

    #[test]
    fn every_variable_the_cli_reads_is_named_here() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        sources(&src, &mut files);
        // Built, so that this file's own patterns do not name a variable.
        let literals = [
            ["env", " = \""].concat(),
            ["env::var", "(\""].concat(),
            ["env::var_os", "(\""].concat(),
        ];
        let mut found = Vec::new();
        for file in files.iter().filter(|f| !f.ends_with("src/env.rs")) {
            for (n, line) in code_lines(file) {
                if literals.iter().any(|l| line.contains(l.as_str())) {
                    found.push(format!("{}:{n}: {}", file.display(), line.trim()));
                }
            }
        }
        assert!(
            found.is_empty(),
            "name these variables in pki-cli/src/env.rs and use the constant:\n{}",
            found.join("\n")
        );
        assert!(files.len() > 20, "the scan found the sources: {files:?}");
    }

    #[test]
    fn the_libraries_read_no_environment() {
        let files = library_sources();
        let reads = [["env::var", "("].concat(), ["env::var_os", "("].concat()];
        let found: Vec<String> = files
            .iter()
            .flat_map(|f| {
                code_lines(f)
                    .into_iter()
                    .filter(|(_, l)| reads.iter().any(|r| l.contains(r.as_str())))
                    .map(move |(n, l)| format!("{}:{n}: {}", f.display(), l.trim()))
            })
            .collect();
        assert!(
            found.is_empty(),
            "a library reads the environment:\n{}",
            found.join("\n")
        );
        assert!(files.len() > 20, "the scan found the libraries: {files:?}");
    }
}
