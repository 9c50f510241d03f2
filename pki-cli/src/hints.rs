//! The command line's words for the libraries' errors: the one place that knows pki's flags,
//! commands and environment variables when an error is shown.
//!
//! The libraries say what went wrong and name the input at fault; they never name a flag
//! ("already exists", not "use --force"). This module adds the fix in this command line's terms,
//! for each library's error variants:
//!
//! - pki-core ([`error_line`], [`hint`]): an existing file (`--force`), no CA directory
//!   (`--dir`/`PKI_DIR`), a path length constraint (`--pathlen`), an encrypted key
//!   (`--key-password-file`), an unknown key type (`--key-type`), ...;
//! - pki-batch ([`hint`], [`rejected`]): a manifest that is not one (`--manifest`), a device in
//!   the way (`--force`, `--out`);
//! - pki-c8y ([`c8y`]): the URL, user, password, timeout and CA file flags;
//! - pki-truststore ([`truststore`]): `--root`, `--name`, `--allow-leaf`, and the command to run
//!   again with `sudo` (on Windows, from an elevated prompt);
//! - pki-verify: its errors (a name that does not resolve, a refused port, a silent server)
//!   need no flag to be understood, and get none; a gateway check's [`pki_verify::Fix`] (a
//!   client certificate, a name to reissue with, a CRL) becomes `--cert`/`--key`, `--san`,
//!   `--crl` ([`check_detail`], [`fix_words`]);
//! - pki-register, pki-pkcs11: a register locked by the `pki renew` whose hook runs pki
//!   (`--exec`), no PKCS#11 module (`--pkcs11-module`).
//!
//! Every line a test or the README shows stays the line it was.

use std::io::ErrorKind;
use std::path::Path;

use pki_core::VERIFICATION_CODE_RULE;

use crate::codes::worded;

// ---------------------------------------------------------------------------------------------
// The error line and the hint of any error (pki-core, pki-batch).

/// The error line of `err`: its chain, outermost first, joined by `": "` as anyhow's `{:#}`
/// joins it, with each library error in this command line's words.
pub(crate) fn error_line(err: &anyhow::Error) -> String {
    err.chain().map(words).collect::<Vec<_>>().join(": ")
}

/// One error of a chain, in this command line's words.
fn words(e: &(dyn std::error::Error + 'static)) -> String {
    let core = e.downcast_ref::<pki_core::Error>().or_else(|| {
        match e.downcast_ref::<pki_batch::Error>() {
            // Transparent: it reads as pki-core's error, and gets its words.
            Some(pki_batch::Error::Core(core)) => Some(core),
            _ => None,
        }
    });
    if let Some(r) = e.downcast_ref::<pki_core::register::Error>() {
        return register_words(r);
    }
    if let Some(pki_pkcs11::Error::NoModule) = e.downcast_ref::<pki_pkcs11::Error>() {
        return format!(
            "{e}: give --pkcs11-module PATH, PKI_PKCS11_MODULE, or module-path= in the URI"
        );
    }
    match core {
        Some(core) => core_words(core),
        None => e.to_string(),
    }
}

/// A register error, with the flag its fix needs.
fn register_words(e: &pki_core::register::Error) -> String {
    match e {
        pki_core::register::Error::Locked {
            in_renew_hook: true,
            ..
        } => format!("{e}, not in its --exec"),
        _ => e.to_string(),
    }
}

/// A pki-core error, with the flag that changes the outcome where its message needs one.
fn core_words(e: &pki_core::Error) -> String {
    use pki_core::{Error as E, NotCaDir, Refusal};
    match e {
        E::Exists(_) => format!("{e} (use --force to overwrite it)"),
        E::NotACaDir {
            reason: NotCaDir::Missing,
            ..
        } => format!("{e}; create one with `pki create-owner-ca` or point --dir/PKI_DIR at one"),
        E::NotACaDir {
            reason: NotCaDir::OwnedByOther { .. },
            ..
        } => format!("{e}: check who made it, or use another --dir"),
        E::RegisterLost { .. } => format!(
            "{e}, or give --register / PKI_REGISTER if this directory's register is a shared one"
        ),
        E::Refused(Refusal::SeveralEdgeCas { .. }) => {
            format!("{e}: choose one with --issuer edge-ca:NAME")
        }
        E::Refused(Refusal::NoIssuer { .. }) => {
            format!("{e}; run `pki create-owner-ca` first")
        }
        E::Refused(Refusal::RenewalGainsNothing {
            role: Some(role), ..
        }) => format!("{e}: pki renew {}", renew_target(role)),
        E::Refused(Refusal::PathLength { .. }) => {
            format!("{e}; re-create it with a larger --pathlen or issue from another CA")
        }
        E::NotRegistered { .. } => format!(
            "{e}; give --adopt to record it (if a CA of this directory issued it) and renew it"
        ),
        E::Refused(Refusal::OwnKeyNotGiven { .. }) => format!("--reuse-key: {e}"),
        E::Register(r) => register_words(r),
        E::ForeignRegister {
            reason: pki_core::Foreign::SymbolicLink | pki_core::Foreign::ServesAnother { .. },
            ..
        } => format!("{e} with --register / PKI_REGISTER"),
        E::NotRecorded {
            reason: pki_core::Unrecorded::NotInRegister,
            ..
        } => format!("{e}; see --register"),
        E::Refused(Refusal::AnotherAtStandardPath { .. }) => {
            format!("{e}; --force renews anyway and keeps it beside the new one")
        }
        _ => e.to_string(),
    }
}

/// How `pki renew` names the CA in `role`.
pub(crate) fn renew_target(role: &pki_core::CaRole) -> String {
    match role {
        pki_core::CaRole::Root => "root".to_owned(),
        pki_core::CaRole::Intermediate => "intermediate".to_owned(),
        pki_core::CaRole::EdgeCa(name) => format!("edge-ca:{name}"),
    }
}

/// The `hint:` line for an error, where the fix is known.
pub(crate) fn hint(err: &anyhow::Error) -> Option<String> {
    let batch = err
        .chain()
        .find_map(|e| e.downcast_ref::<pki_batch::Error>());
    if let Some(h) = batch.and_then(batch_hint) {
        return Some(h.to_owned());
    }
    // The first error of the chain that is pki-core's or its toolbox's gives the hint.
    let hint = err.chain().find_map(|e| {
        if let Some(x509) = e.downcast_ref::<pki_core::x509::Error>() {
            return Some(x509_hint(x509));
        }
        let core = e
            .downcast_ref::<pki_core::Error>()
            .or_else(|| e.downcast_ref::<pki_batch::Error>()?.core())?;
        Some(core_hint(core))
    })?;
    hint.map(str::to_owned)
}

/// The fix for a batch error that stopped the lot, where it is the batch's own.
fn batch_hint(err: &pki_batch::Error) -> Option<&'static str> {
    match err.root() {
        pki_batch::Error::NotAManifest { .. } => {
            Some("give --manifest a new file or one a batch wrote")
        }
        _ => None,
    }
}

/// The fix for a pki-core error, where it is known.
fn core_hint(e: &pki_core::Error) -> Option<&'static str> {
    use pki_core::Error as E;
    Some(match e {
        E::Exists(_) => "pass --force to replace it, or choose another name",
        E::NotACaDir { .. } => {
            "run `pki create-owner-ca` (or `pki quickstart`) first, or point --dir / PKI_DIR at your CA directory"
        }
        E::KeyMismatch { .. } => "give the key that was created with this certificate",
        E::BadHostName(_) => {
            "give a DNS name such as gw.contoso.com or an IP address such as 10.0.0.4"
        }
        E::BadCsr { .. } => BAD_FILE,
        E::X509(x509) => return x509_hint(x509),
        E::Register(r) => return register_hint(r),
        _ => return None,
    })
}

/// What to check of a file that does not parse.
const BAD_FILE: &str = "check that the file is complete PEM or DER (`openssl x509 -in FILE -noout -text` should read it)";

/// The fix for an error of pki-core's toolbox (keys, certificates, files), where it is known.
fn x509_hint(e: &pki_core::x509::Error) -> Option<&'static str> {
    use pki_core::x509::Error as E;
    Some(match e {
        E::KeyPasswordNeeded { .. } => {
            "give the password with --key-password-file FILE or the PKI_KEY_PASSWORD environment variable"
        }
        E::WrongKeyPassword { .. } => "check the password (certGen.sh's default is 1234)",
        E::UnknownKeyType(_) => {
            "--key-type takes ec-p256, ec-p384, ed25519, rsa-2048, rsa-3072 or rsa-4096"
        }
        E::Io { reason, .. } if reason.kind() == ErrorKind::NotFound => "check the path",
        E::Io { reason, .. } if reason.kind() == ErrorKind::PermissionDenied => {
            "run as a user who may read and write there"
        }
        E::BadCertificate { .. } | E::BadKey { .. } => BAD_FILE,
        _ => return None,
    })
}

/// The fix for a register error.
fn register_hint(e: &pki_core::register::Error) -> Option<&'static str> {
    use pki_core::register::Error as R;
    Some(match e {
        R::Unreachable { .. } => {
            "check that the database runs and the URL of --register / PKI_REGISTER (host, port, user, password)"
        }
        R::NotARegister { .. } => {
            "move the file away, or name the register with --register / PKI_REGISTER"
        }
        R::Newer { .. } => "use the pki that wrote it, or a newer one",
        R::DuplicateSerial { .. } => "issue it again: a new random serial is drawn",
        R::BadLocation { .. } => {
            "--register takes postgres://user:password@host:port/db or the path of a SQLite file"
        }
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// pki-verify: a gateway check's fix.

/// A gateway check's detail, with the fix it points to in this command line's words.
pub(crate) fn check_detail(c: &pki_verify::Check) -> String {
    format!(
        "{}{}",
        c.detail,
        c.fix.as_ref().map(fix_words).unwrap_or_default()
    )
}

/// The words a check's (or a scanned host's) fix adds to its detail.
pub(crate) fn fix_words(fix: &pki_verify::Fix) -> String {
    use pki_verify::Fix;
    match fix {
        Fix::ClientCertificate => "; give --cert and --key".to_owned(),
        Fix::ReissueWithSan { name } => format!(" or reissue with --san {name}"),
        Fix::Crl { .. } => " (give it with --crl)".to_owned(),
        _ => String::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// pki-batch: a rejected line.

/// A rejected line's reason as the user reads it: the engine's words, and the option that
/// changes the outcome where there is one.
pub(crate) fn rejected(r: &pki_batch::Reason) -> String {
    use pki_batch::Reason;
    match r {
        Reason::Exists(_) => format!("{r}; --force to replace"),
        Reason::OwnFile(_) => format!("{r}; a device folder under --out cannot take it"),
        _ => r.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// pki-c8y.

/// A tenant error as one line in this command line's terms: `what` failed (the operation,
/// where the tenant refused it), and the flag to change where one would help.
pub(crate) fn c8y(e: pki_c8y::Error, what: &str) -> anyhow::Error {
    use pki_c8y::Error as E;
    let line = match &e {
        E::BadUrl { .. } | E::NotHttps { .. } | E::NoHost { .. } => {
            format!("{e} (--url / C8Y_URL)")
        }
        E::Credentials { .. } => {
            format!("{e}: give --user, and the password by --password-file or C8Y_PASSWORD")
        }
        E::Unauthorized { .. } => format!(
            "{e}; check --user (USER or TENANT/USER, C8Y_USER) and the password (--password-file or C8Y_PASSWORD)"
        ),
        E::Unreachable { .. } => format!("{e}; check --url / C8Y_URL{}", proxy_note()),
        E::Timeout {
            url,
            timeout,
            during,
        } => format!(
            "the tenant at {url} did not finish within {} s (--timeout), {during}",
            timeout.as_secs()
        ),
        E::NotHttpsRedirect { .. } => format!("{e} (check --url / C8Y_URL)"),
        E::TooManyRedirects { .. } => format!("{e}; check --url / C8Y_URL"),
        E::Untrusted { .. } => format!("{e}; for a private tenant pass its CA with --ca-file"),
        E::NoAnchors => no_os_roots(""),
        E::Forbidden { .. }
        | E::Invalid { .. }
        | E::Status { .. }
        | E::EndlessListing { .. }
        | E::NotAListing
        | E::NoVerificationCode
        | E::BadCrl { .. }
        | E::RevocationsRefused { .. } => format!("{what}: {e}"),
        E::BadVerificationCode {
            url,
            code_shown,
            cut,
        } => format!(
            "{what} ({url}): its verification code {code_shown:?}{} is not one ({VERIFICATION_CODE_RULE}); nothing was signed",
            if *cut { "..." } else { "" }
        ),
        _ => return anyhow::Error::new(e),
    };
    worded(line, e)
}

/// As [`c8y`], always starting with `what` (a step whose error must say what is done and what
/// is left to do, whatever the failure).
pub(crate) fn c8y_doing(e: pki_c8y::Error, what: &str) -> anyhow::Error {
    let said = c8y(e, what);
    if said.to_string().starts_with(what) {
        said
    } else {
        said.context(what.to_owned())
    }
}

/// No CA certificate to verify a tenant with: where they come from, and the flag that gives one.
pub(crate) fn no_os_roots(why: &str) -> String {
    format!(
        "no trusted CA certificates found in the OS store{why}; install the ca-certificates package, set SSL_CERT_FILE, or pass --ca-file"
    )
}

/// The proxy variable in use, to name it when the tenant cannot be reached.
fn proxy_note() -> String {
    ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()).map(|_| *v))
        .map(|v| format!(" and the proxy in {v} (NO_PROXY lists hosts that bypass it)"))
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// pki-est's client (`pki est enroll`, `pki est reenroll`).

/// The error line of an EST client's error, with the flag or command that fixes it; `ca_file`
/// is `--ca-file` as given.
pub(crate) fn est(e: pki_est::ClientError, ca_file: Option<&Path>) -> anyhow::Error {
    use pki_est::{AuthKind, ClientError as E};
    let line = match &e {
        E::BadUrl { .. } => format!("{e} (--server)"),
        E::BadLabel { .. } => format!("{e} (--label)"),
        E::BadAnchor { .. } => match ca_file {
            Some(path) => format!("{}: {e}", path.display()),
            None => e.to_string(),
        },
        E::NoAnchors => no_os_roots(""),
        E::ClientCertificate { .. } => format!("{e} (--cert, --key)"),
        E::Resolve { .. } => format!("{e}; check --server"),
        E::Unreachable { .. } => format!("{e}; check --server{}", proxy_note()),
        E::Timeout { .. } => format!("{e} (--timeout)"),
        E::Untrusted { .. } => format!(
            "{e}; give the CA that issued the server's certificate with --ca-file (for pki est serve, the CA directory's root certificate)"
        ),
        E::Tls { .. } => format!(
            "{e}; a server that refuses a client certificate (--cert) ends the handshake so"
        ),
        E::Unauthorized {
            auth: AuthKind::Secret,
            ..
        } => format!(
            "{e}: the secret is wrong, expired or already used; have a new one made on the CA (pki est secret ID)"
        ),
        E::Unauthorized {
            auth: AuthKind::Certificate,
            ..
        } => format!(
            "{e}: the server does not accept the certificate of --cert (not one it issued or a bootstrap CA it trusts, or revoked, superseded or expired)"
        ),
        E::NotFound { .. } => format!("{e}; check --server and --label"),
        _ => return anyhow::Error::new(e),
    };
    worded(line, e)
}

// ---------------------------------------------------------------------------------------------
// pki-truststore.

/// The error line for a failed store operation; `root` is `--root` as given (the error names
/// the resolved path).
pub(crate) fn truststore(e: pki_truststore::Error, root: Option<&Path>) -> anyhow::Error {
    worded(store_message(&e, root), e)
}

/// The error's message with the fix for each kind of failure; a cause inside (a failed step
/// that was undone) gets its own.
fn store_message(e: &pki_truststore::Error, root: Option<&Path>) -> String {
    use pki_truststore::{Error, Privilege, UndoFailure};
    let given_root = || root.unwrap_or(Path::new("")).display();
    match e {
        Error::BadCertificate { .. } => format!(
            "{e}; give one X.509 certificate in PEM or DER (`openssl x509 -in FILE -noout -text` should read it)"
        ),
        Error::SeveralCertificates { .. } => {
            format!("{e}; give a file with only the CA certificate to trust")
        }
        Error::NotCa { .. } => format!(
            "{e}; trust stores hold CAs (give the root or intermediate CA), or pass --allow-leaf to pin this certificate itself"
        ),
        Error::ReadCertificate { .. } => format!("{e}; check the path"),
        Error::CertificateRefused { .. } => {
            format!("{e}; give the certificate's file (PEM or DER)")
        }
        Error::BadRoot { root, reason } => format!("--root {}: {reason}", root.display()),
        Error::RootNotADirectory { .. } => format!(
            "--root {}: not a directory; give the mount point of the device image's root file system",
            given_root()
        ),
        Error::UnknownSystem { .. } => format!("{e}; install the certificate by hand"),
        Error::MissingTool {
            package, where_, ..
        } => format!("{e}; install the {package} package{where_}, then run pki again"),
        Error::NameTaken { .. } => format!("{e}; choose another --name"),
        Error::BadName { name } => {
            format!("--name {name:?}: use letters, digits, '.', '-' and '_' only")
        }
        Error::Refused { .. } => format!(
            "{e}; pki reads only regular files of sane size there (a bundle at most 64 MiB, any other file 1 MiB): replace it with a regular file (a bundle is what the store's refresh tool writes), or remove it"
        ),
        Error::ListUnsupported { .. } => {
            format!("{e} (pki lists what it installed without --all)")
        }
        Error::NeedsPrivilege { privilege, .. } => match privilege {
            Privilege::Administrator => format!("{e}; {}", run_elevated()),
            Privilege::Root | Privilege::None => format!("{e}; run: sudo {}", this_command()),
        },
        Error::OpenRoot { root, reason } => {
            format!("cannot open --root {}: {reason}", root.display())
        }
        Error::Write { reason, .. }
        | Error::CreateDir { reason, .. }
        | Error::Remove { reason, .. } => format!("{e}{}", io_fix(reason)),
        Error::ProgramMissing { .. } => format!(
            "{e}: install the package that provides it (ca-certificates), then run pki again"
        ),
        Error::BuildBundle { bundle, cause } => {
            format!(
                "cannot build {}: {}",
                bundle.display(),
                store_message(cause, root)
            )
        }
        Error::RolledBack {
            cause,
            system,
            undone,
        } => format!(
            "{}; the {system} trust store is as it was ({undone})",
            store_message(cause, root)
        ),
        Error::NoJdk { .. } | Error::NoNssDatabase { .. } | Error::StorePassword { .. } => {
            e.to_string()
        }
        Error::NoHome => format!("{e}: name one with --nss-db"),
        Error::NotNssDatabase { .. } => format!(
            "{e}; create one with `certutil -N -d sql:DIR --empty-password`, or name another with --nss-db"
        ),
        Error::RollbackFailed { cause, problems } => format!(
            "{}; undoing it failed too, check the store by hand: {}",
            store_message(cause, root),
            problems
                .iter()
                .map(|p| match p {
                    UndoFailure::Refresh { cause } => {
                        format!("refreshing again: {}", store_message(cause, root))
                    }
                    p => p.to_string(),
                })
                .collect::<Vec<_>>()
                .join("; ")
        ),
        Error::WindowsStore { reason, .. } if reason.kind() == ErrorKind::PermissionDenied => {
            format!("{e}; {}", run_elevated())
        }
        Error::WindowsStore { .. }
        | Error::NoOsRelease { .. }
        | Error::Io { .. }
        | Error::ReadLink { .. }
        | Error::KeepCopy { .. }
        | Error::Spawn { .. }
        | Error::ProgramFailed { .. }
        | Error::NotConfirmed { .. } => e.to_string(),
    }
}

/// The fix for a store's file that could not be written, created or removed.
fn io_fix(e: &std::io::Error) -> String {
    match e.kind() {
        // No sudo on Windows: an elevated prompt.
        ErrorKind::PermissionDenied if cfg!(windows) => {
            format!("; writing there needs an elevated process: {}", run_elevated())
        }
        ErrorKind::PermissionDenied => format!(
            "; writing there needs root: run: sudo {}",
            this_command()
        ),
        ErrorKind::ReadOnlyFilesystem => "; the store's file system is mounted read-only: remount it read-write (mount -o remount,rw MOUNTPOINT), or give --root a writable copy of the image".to_owned(),
        _ => String::new(),
    }
}

/// How to run this command again elevated on Windows.
fn run_elevated() -> String {
    format!(
        "run from a prompt opened with \"Run as administrator\": {}",
        this_command()
    )
}

/// This command line, quoted for a shell (POSIX; on Windows, for cmd and PowerShell): what to
/// run again with `sudo` or elevated.
fn this_command() -> String {
    std::env::args()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "/._-:=,+@".contains(c))
            {
                a
            } else if cfg!(windows) {
                format!("\"{}\"", a.replace('"', "\\\""))
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::anyhow;
    use std::path::PathBuf;
    use std::time::Duration;

    use pki_truststore::Error;

    #[test]
    fn library_errors_become_lines_that_name_the_flag() {
        let line = |e, what| format!("{:#}", c8y(e, what));
        let e = pki_c8y::Error::Timeout {
            url: "https://t".into(),
            timeout: Duration::from_secs(3),
            during: "while reading the answer to GET /x".into(),
        };
        assert_eq!(
            line(e, ""),
            "the tenant at https://t did not finish within 3 s (--timeout), while reading the answer to GET /x"
        );
        let e = pki_c8y::Error::Invalid {
            message: "not a CA".into(),
        };
        assert_eq!(
            line(e, "cannot register a.pem with tenant t1"),
            "cannot register a.pem with tenant t1: the tenant rejected the certificate: not a CA"
        );
        let e = pki_c8y::Error::BadVerificationCode {
            url: "https://t".into(),
            code_shown: "a.b".into(),
            cut: false,
        };
        assert_eq!(
            line(e, "cannot prove"),
            format!(
                "cannot prove (https://t): its verification code \"a.b\" is not one ({VERIFICATION_CODE_RULE}); nothing was signed"
            )
        );
    }

    #[test]
    fn errors_keep_their_lines_and_causes_their_fixes() {
        let root = Some(Path::new("img"));
        let message = |e: Error| format!("{:#}", truststore(e, root));
        let e = Error::RootNotADirectory {
            root: "/abs/img".into(),
        };
        assert_eq!(
            message(e),
            "--root img: not a directory; give the mount point of the device image's root file system"
        );
        let e = Error::RolledBack {
            cause: Box::new(Error::CreateDir {
                path: "/img/etc/ssl/certs".into(),
                reason: std::io::Error::from(ErrorKind::ReadOnlyFilesystem),
            }),
            system: pki_truststore::TrustSystem::Debian,
            undone: pki_truststore::Undone::NothingChanged,
        };
        let line = message(e);
        assert!(
            line.starts_with("cannot create /img/etc/ssl/certs: "),
            "{line}"
        );
        assert!(
            line.contains("; the store's file system is mounted read-only"),
            "{line}"
        );
        assert!(
            line.ends_with("; the debian trust store is as it was (nothing was changed)"),
            "{line}"
        );
        let e = Error::NameTaken {
            path: "/x/pki-a.crt".into(),
            other_sha256: "AB".into(),
        };
        assert_eq!(
            message(e),
            "/x/pki-a.crt already holds a different certificate (SHA-256 AB); choose another --name"
        );
    }

    #[test]
    fn pki_core_says_what_and_the_command_line_adds_the_flag() {
        let exists = pki_core::Error::Exists(PathBuf::from("pki/certs/a.pem"));
        assert_eq!(exists.to_string(), "pki/certs/a.pem: already exists");
        let err = anyhow::Error::new(exists).context("cannot write");
        assert_eq!(
            error_line(&err),
            "cannot write: pki/certs/a.pem: already exists (use --force to overwrite it)"
        );
        assert_eq!(
            hint(&err).as_deref(),
            Some("pass --force to replace it, or choose another name")
        );
        let missing = anyhow::Error::new(pki_core::Error::NotACaDir {
            dir: "pki".into(),
            reason: pki_core::NotCaDir::Missing,
        });
        assert_eq!(
            error_line(&missing),
            "pki: no CA directory here; create one with `pki create-owner-ca` or point --dir/PKI_DIR at one"
        );
        let owned = anyhow::Error::new(pki_core::Error::NotACaDir {
            dir: "pki/private".into(),
            reason: pki_core::NotCaDir::OwnedByOther { owner: 7, me: 8 },
        });
        assert_eq!(
            error_line(&owned),
            "pki/private: owned by uid 7, not by this user (uid 8); the keys in it are not yours to use: check who made it, or use another --dir"
        );
        let deep = anyhow::Error::new(pki_core::Error::Refused(pki_core::Refusal::PathLength {
            subject: "CN = R".into(),
            limit: 0,
            profile: "intermediate-ca",
        }));
        assert_eq!(
            error_line(&deep),
            "CN = R has pathlen:0, which allows no intermediate-ca at this depth; re-create it with a larger --pathlen or issue from another CA"
        );
        // Through pki-batch, which carries pki-core's error transparently, the same words.
        let batch = anyhow::Error::new(pki_batch::Error::Core(pki_core::Error::Exists(
            PathBuf::from("x.pem"),
        )));
        assert_eq!(
            error_line(&batch),
            "x.pem: already exists (use --force to overwrite it)"
        );
        // Any other error reads as anyhow's `{:#}`.
        let plain = anyhow!("inner").context("outer");
        assert_eq!(error_line(&plain), format!("{plain:#}"));
    }
}
