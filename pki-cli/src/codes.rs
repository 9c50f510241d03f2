//! The stable `code` of every error under `--json`: the one place that maps the libraries' typed
//! errors (pki-core, pki-register, pki-verify, pki-truststore, pki-c8y, pki-batch, pki-pkcs11)
//! to a machine-readable name, so that a script can branch on `.code` instead of the error line.
//!
//! A code names what went wrong, not where: `file_exists` whether a CA's key, a device's folder
//! or a batch's file is in the way. Codes are snake_case and never change meaning; a new kind of
//! failure gets a new code. Every error exits 2 (a negative verdict, exit 1, is a report, not an
//! error, and has no code). `docs/errors.md` lists them all ([`Code::ALL`]; a test keeps the
//! two the same set).
//!
//! The error line and the hint stay `hints.rs`'s; where `hints.rs` rewords a library's error into
//! a line of its own ([`Worded`]), the typed error travels with the line so that its code is
//! still found here.

use std::io::ErrorKind;

/// Declares [`Code`]: each variant with its name and its meaning, in one table.
macro_rules! codes {
    ($($variant:ident => $name:literal, $meaning:literal;)+) => {
        /// A stable, machine-readable name for why a run could not run.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum Code {
            $(
                #[doc = $meaning]
                $variant,
            )+
        }

        impl Code {
            /// Every code, in the order `docs/errors.md` lists them.
            #[cfg(test)]
            pub(crate) const ALL: &[Code] = &[$(Code::$variant),+];

            /// The code as `--json` gives it.
            pub(crate) fn name(self) -> &'static str {
                match self {
                    $(Code::$variant => $name,)+
                }
            }

            /// What the code means, one sentence (as `docs/errors.md` says it).
            #[cfg(test)]
            pub(crate) fn meaning(self) -> &'static str {
                match self {
                    $(Code::$variant => $meaning,)+
                }
            }
        }
    };
}

codes! {
    // The command line and the files named on it.
    Usage => "usage", "The command line is not one pki takes: an unknown flag, a missing argument, a flag value pki refused.";
    FileNotFound => "file_not_found", "A file or directory named (or one pki needs) does not exist.";
    PermissionDenied => "permission_denied", "The operating system refused access, or the operation needs root or an elevated prompt.";
    Io => "io", "A file could not be read or written for another reason (a full disk, a read-only file system, ...).";
    FileExists => "file_exists", "A file pki would write already exists (pki overwrites only with --force).";
    // Certificates, keys and names.
    BadCertificate => "bad_certificate", "A certificate file is not one certificate in PEM or DER, or holds none.";
    BadKey => "bad_key", "A private key file is not a private key pki can read.";
    BadCsr => "bad_csr", "A certificate signing request is not one.";
    BadCrl => "bad_crl", "A CRL is not one.";
    KeyPasswordNeeded => "key_password_needed", "A private key is encrypted and no password was given.";
    WrongPassword => "wrong_password", "The password of an encrypted private key is wrong.";
    UnknownKeyType => "unknown_key_type", "A key type pki does not make.";
    UnsupportedKey => "unsupported_key", "A key of a kind pki cannot sign with.";
    KeyMismatch => "key_mismatch", "A private key is not the key of the certificate given with it.";
    BadName => "bad_name", "A host name, device id, server name or store name that is not a valid one.";
    NotACa => "not_a_ca", "A certificate given as a CA (an issuer, a CA to trust) is not a CA.";
    SignFailed => "sign_failed", "Signing a certificate, a CRL, a file or a proof failed.";
    // The CA directory and its register.
    NotACaDir => "not_a_ca_dir", "No CA directory where one was expected, or a directory that is not one (or not this user's).";
    Refused => "refused", "pki refused the operation: the CA's policy does not allow it (the error line says which rule).";
    NameTaken => "name_taken", "The name is already used by another certificate or store entry.";
    NotRegistered => "not_registered", "The certificate or name is not in the register.";
    NotInService => "not_in_service", "The certificate is revoked, superseded or expired; the one in service is the one to use.";
    NotIssuedHere => "not_issued_here", "No CA of this directory issued the certificate.";
    BadCrlUrl => "bad_crl_url", "The CRL distribution point URL template is not one.";
    CorruptIndex => "corrupt_index", "A line of the CA directory's index.jsonl cannot be read.";
    RegisterUnreachable => "register_unreachable", "The register's database cannot be reached (PostgreSQL down, wrong host, port or credentials).";
    RegisterLocked => "register_locked", "The register is locked by another process.";
    RegisterIncompatible => "register_incompatible", "The register is not a register of pki, was written by a newer pki, or is another directory's.";
    RegisterLost => "register_lost", "The register of a CA directory that has issued certificates is missing or empty.";
    Register => "register", "The register's database failed (a query, a duplicate serial, a location that is not one).";
    // Batches.
    BatchLocked => "batch_locked", "Another batch is running on the same output.";
    NotAManifest => "not_a_manifest", "The manifest named is a file that is not a manifest of pki.";
    // Gateways, tenants and the network.
    UnresolvedHost => "unresolved_host", "A host name does not resolve.";
    UnreachableHost => "unreachable_host", "A host refused the connection or could not be reached.";
    Timeout => "timeout", "A host did not answer in time.";
    Tls => "tls", "A host does not speak TLS, or the TLS connection to it failed.";
    Untrusted => "untrusted", "A host's certificate is not trusted by the CAs given.";
    NoTrustAnchors => "no_trust_anchors", "No trusted CA certificate to verify a host with (the OS store is empty or unreadable).";
    BadHostsFile => "bad_hosts_file", "A hosts file (pki scan) has a line that is not a gateway, or names none.";
    ClientKey => "client_key", "The client certificate or key for mutual TLS cannot be used.";
    BadUrl => "bad_url", "A URL is not one pki can use (not https, no host).";
    Credentials => "credentials", "The user or password is missing or malformed.";
    Unauthorized => "unauthorized", "The tenant refused the user or password, or the EST server the secret or client certificate (401).";
    Forbidden => "forbidden", "The tenant refused the operation to this user, or the EST server the request to these credentials (403).";
    Tenant => "tenant", "The tenant answered with an error or with something that is not the answer expected.";
    EstServer => "est_server", "The EST server answered with an error (400, 404, 5xx) or with something that is not the answer expected (not a certs-only PKCS#7, not a certificate for the key and name asked for).";
    TryLater => "try_later", "The server refused for now: too many attempts (429), or the request awaits an operator's approval (202).";
    // Trust stores.
    BadRoot => "bad_root", "The --root given is not a usable root file system.";
    UnknownSystem => "unknown_system", "The operating system's trust store is not one pki knows.";
    MissingTool => "missing_tool", "A program pki needs (a store's refresh tool, keytool, certutil) is not installed.";
    ProgramFailed => "program_failed", "A program pki ran failed.";
    TrustStore => "trust_store", "A trust store (NSS, Java, Windows) could not be opened or used.";
    NotConfirmed => "not_confirmed", "A change to a trust store was made but could not be confirmed.";
    RollbackFailed => "rollback_failed", "An operation failed and undoing it failed too: check the store by hand.";
    Unsupported => "unsupported", "The operation is not supported here.";
    // PKCS#11 tokens.
    BadPkcs11Uri => "bad_pkcs11_uri", "A pkcs11: URI is not one.";
    Pkcs11Module => "pkcs11_module", "No PKCS#11 module was given, or it cannot be loaded.";
    NoToken => "no_token", "No token matches the URI.";
    WrongPin => "wrong_pin", "The token's PIN is wrong.";
    PinLocked => "pin_locked", "The token's PIN is locked.";
    NoKey => "no_key", "No key on the token matches the URI, or the URI names none.";
    KeyExists => "key_exists", "The token already holds a key matching the URI.";
    Token => "token", "The token failed an operation or went away.";
    // Anything else.
    Failed => "failed", "Any other failure: the error line says what.";
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// A library error in this command line's words (`hints.rs`'s line), with the error itself kept
/// for its [`Code`]. The line says it all: the error is not shown as a cause.
#[derive(Debug)]
pub(crate) struct Worded {
    /// The line.
    pub(crate) line: String,
    /// The library's error.
    pub(crate) error: Box<dyn std::error::Error + Send + Sync + 'static>,
}

impl std::fmt::Display for Worded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.line)
    }
}

impl std::error::Error for Worded {}

/// `error` said as `line`: an error whose line is `line` and whose code is `error`'s.
pub(crate) fn worded(
    line: String,
    error: impl std::error::Error + Send + Sync + 'static,
) -> anyhow::Error {
    anyhow::Error::new(Worded {
        line,
        error: Box::new(error),
    })
}

/// The code of an error: the first error of its chain, outermost first, that has one; `fallback`
/// when none has (`failed` for a command's error, `usage` for a flag value pki refused).
pub(crate) fn code(err: &anyhow::Error, fallback: Code) -> Code {
    err.chain().find_map(of).unwrap_or(fallback)
}

/// The code of one error, if it is one of the libraries' (or an I/O error).
fn of(e: &(dyn std::error::Error + 'static)) -> Option<Code> {
    if let Some(w) = e.downcast_ref::<Worded>() {
        return of(w.error.as_ref());
    }
    if let Some(e) = e.downcast_ref::<pki_core::Error>() {
        return core(e);
    }
    if let Some(e) = e.downcast_ref::<pki_core::x509::Error>() {
        return x509_code(e);
    }
    if let Some(e) = e.downcast_ref::<pki_batch::Error>() {
        return batch(e);
    }
    if let Some(e) = e.downcast_ref::<pki_core::register::Error>() {
        return register(e);
    }
    if let Some(e) = e.downcast_ref::<pki_verify::Error>() {
        return verify(e);
    }
    if let Some(e) = e.downcast_ref::<pki_verify::ProbeError>() {
        return probe(e);
    }
    if let Some(e) = e.downcast_ref::<pki_c8y::Error>() {
        return c8y(e);
    }
    if let Some(e) = e.downcast_ref::<pki_truststore::Error>() {
        return Some(truststore(e));
    }
    if let Some(e) = e.downcast_ref::<pki_est::ClientError>() {
        return Some(est(e));
    }
    if let Some(e) = e.downcast_ref::<pki_pkcs11::Error>() {
        return Some(pkcs11(e));
    }
    if let Some(e) = e.downcast_ref::<std::io::Error>() {
        return Some(io(e));
    }
    None
}

/// An I/O error by its kind.
fn io(e: &std::io::Error) -> Code {
    match e.kind() {
        ErrorKind::NotFound => Code::FileNotFound,
        ErrorKind::PermissionDenied => Code::PermissionDenied,
        ErrorKind::AlreadyExists => Code::FileExists,
        _ => Code::Io,
    }
}

fn core(e: &pki_core::Error) -> Option<Code> {
    use pki_core::Error as E;
    Some(match e {
        E::X509(x509) => return x509_code(x509),
        E::KeyMismatch { .. } => Code::KeyMismatch,
        E::Pkcs12 { .. } => Code::Io,
        E::BadCsr { .. } => Code::BadCsr,
        E::BadHostName(_) | E::BadDeviceId { .. } => Code::BadName,
        E::Refused(_) => Code::Refused,
        E::NotACaDir { .. } => Code::NotACaDir,
        E::Exists(_) => Code::FileExists,
        E::IssuerNotCa { .. } => Code::NotACa,
        E::Crl { .. } => Code::SignFailed,
        E::Register(r) => return register(r),
        E::RegisterLost { .. } => Code::RegisterLost,
        E::ForeignRegister { .. } => Code::RegisterIncompatible,
        E::NotRegistered { .. } | E::UnknownName { .. } | E::NotRecorded { .. } => {
            Code::NotRegistered
        }
        E::NotIssuedHere { .. } => Code::NotIssuedHere,
        E::NotInService { .. } => Code::NotInService,
        E::BadCrlUrl { .. } => Code::BadCrlUrl,
        E::BadIndex { .. } => Code::CorruptIndex,
        _ => return None,
    })
}

fn x509_code(e: &pki_core::x509::Error) -> Option<Code> {
    use pki_core::x509::Error as E;
    Some(match e {
        E::Io { reason, .. } => io(reason),
        E::BadCertificate { .. } => Code::BadCertificate,
        E::BadCrl { .. } => Code::BadCrl,
        E::BadKey { .. } => Code::BadKey,
        E::KeyPasswordNeeded { .. } => Code::KeyPasswordNeeded,
        E::WrongKeyPassword { .. } => Code::WrongPassword,
        E::UnknownKeyType(_) => Code::UnknownKeyType,
        E::Sign(_) => Code::SignFailed,
        _ => return None,
    })
}

fn register(e: &pki_core::register::Error) -> Option<Code> {
    use pki_core::register::Error as R;
    Some(match e {
        R::Unreachable { .. } => Code::RegisterUnreachable,
        R::Locked { .. } => Code::RegisterLocked,
        R::NotARegister { .. } | R::Newer { .. } => Code::RegisterIncompatible,
        R::DuplicateSerial { .. } | R::Database { .. } | R::BadLocation { .. } => Code::Register,
        _ => return None,
    })
}

fn batch(e: &pki_batch::Error) -> Option<Code> {
    use pki_batch::Error as B;
    Some(match e {
        B::Core(core_error) => return core(core_error),
        B::Device { source, .. } => return batch(source),
        B::Locked { .. } => Code::BatchLocked,
        B::NotAManifest { .. } => Code::NotAManifest,
        B::File { source, .. }
        | B::Manifest { source, .. }
        | B::Journal { source, .. }
        | B::Input(source) => io(source),
        _ => return None,
    })
}

fn verify(e: &pki_verify::Error) -> Option<Code> {
    use pki_verify::Error as V;
    Some(match e {
        V::Pem { .. } | V::NoCertificate { .. } | V::Parse { .. } => Code::BadCertificate,
        V::HostsFile { .. } | V::NoHosts { .. } => Code::BadHostsFile,
        V::ClientKeyMismatch { .. } => Code::KeyMismatch,
        V::ClientKey { .. } => Code::ClientKey,
        V::Probe(p) => return probe(p),
        _ => return None,
    })
}

fn probe(e: &pki_verify::ProbeError) -> Option<Code> {
    use pki_verify::ProbeError as P;
    Some(match e {
        P::Resolve { .. } => Code::UnresolvedHost,
        P::Connect { .. } => Code::UnreachableHost,
        P::Timeout { .. } => Code::Timeout,
        P::NotTls { .. } => Code::Tls,
        P::ClientAuth(_) => Code::ClientKey,
        P::ServerName(_) => Code::BadName,
        _ => return None,
    })
}

fn c8y(e: &pki_c8y::Error) -> Option<Code> {
    use pki_c8y::Error as C;
    Some(match e {
        C::BadUrl { .. } | C::NotHttps { .. } | C::NoHost { .. } => Code::BadUrl,
        C::Credentials { .. } | C::BadUser { .. } => Code::Credentials,
        C::BadAnchor { .. } => Code::BadCertificate,
        C::NoAnchors => Code::NoTrustAnchors,
        C::Unreachable { .. } | C::Unavailable { .. } => Code::UnreachableHost,
        C::NoAnswer { .. } | C::Timeout { .. } | C::SlowAnswer { .. } => Code::Timeout,
        C::BrokenOff { .. } | C::NotTls { .. } | C::Tls { .. } => Code::Tls,
        C::Untrusted { .. } => Code::Untrusted,
        C::Unauthorized { .. } => Code::Unauthorized,
        C::Forbidden { .. } => Code::Forbidden,
        C::TooLarge { .. }
        | C::TooMuchInAll { .. }
        | C::NotHttpsRedirect { .. }
        | C::TooManyRedirects { .. }
        | C::Redirect { .. }
        | C::Invalid { .. }
        | C::Status { .. }
        | C::NoTenantId { .. }
        | C::EndlessListing { .. }
        | C::NotAListing
        | C::NoVerificationCode
        | C::BadVerificationCode { .. }
        | C::BadCrl { .. }
        | C::RevocationsRefused { .. } => Code::Tenant,
        C::UnsupportedKey { .. } => Code::UnsupportedKey,
        C::Sign { .. } => Code::SignFailed,
        _ => return None,
    })
}

/// Exhaustive: a new variant of pki-est's client gets its code here before it builds.
fn est(e: &pki_est::ClientError) -> Code {
    use pki_est::ClientError as E;
    match e {
        E::BadUrl { .. } | E::BadLabel { .. } => Code::BadUrl,
        E::BadDeviceId { .. } => Code::BadName,
        E::BadAnchor { .. } => Code::BadCertificate,
        E::NoAnchors => Code::NoTrustAnchors,
        E::ClientCertificate { .. } => Code::ClientKey,
        E::Setup { .. } | E::Csr { .. } => Code::Failed,
        E::Resolve { .. } => Code::UnresolvedHost,
        E::Unreachable { .. } => Code::UnreachableHost,
        E::Timeout { .. } => Code::Timeout,
        E::Untrusted { .. } => Code::Untrusted,
        E::Tls { .. } | E::BrokenOff { .. } => Code::Tls,
        E::Unauthorized { .. } => Code::Unauthorized,
        E::Forbidden { .. } => Code::Forbidden,
        E::RateLimited { .. } | E::Pending { .. } => Code::TryLater,
        E::BadRequest { .. }
        | E::NotFound { .. }
        | E::Status { .. }
        | E::TooLarge { .. }
        | E::NotPkcs7 { .. }
        | E::BadAnswer { .. }
        | E::Mismatch { .. } => Code::EstServer,
        E::Unrenewable { .. } => Code::Refused,
    }
}

/// Exhaustive: a new variant of pki-truststore's gets its code here before it builds.
fn truststore(e: &pki_truststore::Error) -> Code {
    use pki_truststore::Error as T;
    match e {
        T::BadCertificate { .. } | T::SeveralCertificates { .. } | T::CertificateRefused { .. } => {
            Code::BadCertificate
        }
        T::NotCa { .. } => Code::NotACa,
        T::ReadCertificate { reason, .. }
        | T::Io { reason, .. }
        | T::Write { reason, .. }
        | T::CreateDir { reason, .. }
        | T::Remove { reason, .. }
        | T::ReadLink { reason, .. }
        | T::KeepCopy { reason, .. }
        | T::WindowsStore { reason, .. } => io(reason),
        T::BadRoot { .. } | T::RootNotADirectory { .. } | T::OpenRoot { .. } => Code::BadRoot,
        T::NoOsRelease { .. } | T::UnknownSystem { .. } => Code::UnknownSystem,
        T::MissingTool { .. } | T::ProgramMissing { .. } | T::NoJdk { .. } => Code::MissingTool,
        T::NameTaken { .. } => Code::NameTaken,
        T::BadName { .. } => Code::BadName,
        T::Refused { .. } => Code::Refused,
        T::ListUnsupported { .. } => Code::Unsupported,
        T::NeedsPrivilege { .. } => Code::PermissionDenied,
        T::Spawn { .. } | T::ProgramFailed { .. } => Code::ProgramFailed,
        T::NotNssDatabase { .. }
        | T::NoNssDatabase { .. }
        | T::NoHome
        | T::StorePassword { .. } => Code::TrustStore,
        T::NotConfirmed { .. } => Code::NotConfirmed,
        T::BuildBundle { cause, .. } | T::RolledBack { cause, .. } => truststore(cause),
        T::RollbackFailed { .. } => Code::RollbackFailed,
    }
}

/// Exhaustive: a new variant of pki-pkcs11's gets its code here before it builds.
fn pkcs11(e: &pki_pkcs11::Error) -> Code {
    use pki_pkcs11::Error as P;
    match e {
        P::BadUri { .. } => Code::BadPkcs11Uri,
        P::NoModule | P::Module { .. } => Code::Pkcs11Module,
        P::NoToken { .. } => Code::NoToken,
        P::WrongPin { .. } => Code::WrongPin,
        P::PinLocked { .. } => Code::PinLocked,
        P::NoKey { .. } | P::NoObject { .. } => Code::NoKey,
        P::KeyExists { .. } => Code::KeyExists,
        P::UnsupportedKey { .. } => Code::UnsupportedKey,
        P::Gone { .. } | P::Token { .. } => Code::Token,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::path::PathBuf;

    /// The rows of `docs/errors.md`'s table: `| \`code\` | exit | meaning |`.
    fn documented() -> Vec<(String, String, String)> {
        let doc = include_str!("../../docs/errors.md");
        doc.lines()
            .filter_map(|l| {
                let cells: Vec<&str> = l.strip_prefix('|')?.split('|').map(str::trim).collect();
                let code = cells.first()?.strip_prefix('`')?.strip_suffix('`')?;
                Some((
                    code.to_owned(),
                    cells.get(1)?.to_string(),
                    cells.get(2)?.to_string(),
                ))
            })
            .collect()
    }

    #[test]
    fn the_docs_list_every_code_and_only_those() {
        let rows = documented();
        let in_docs: BTreeSet<&str> = rows.iter().map(|(c, _, _)| c.as_str()).collect();
        let in_code: BTreeSet<&str> = Code::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(in_docs, in_code);
        assert_eq!(rows.len(), Code::ALL.len(), "a code listed twice");
        for (code, exit, meaning) in &rows {
            assert_eq!(exit, "2", "{code}");
            let c = Code::ALL.iter().find(|c| c.name() == code).unwrap();
            assert_eq!(meaning, c.meaning(), "{code}");
        }
    }

    #[test]
    fn codes_are_snake_case_and_distinct() {
        let names: BTreeSet<&str> = Code::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(names.len(), Code::ALL.len());
        for n in names {
            assert!(
                n.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                    && n.starts_with(|c: char| c.is_ascii_lowercase()),
                "{n}"
            );
        }
    }

    #[test]
    fn the_typed_error_inside_a_chain_gives_the_code() {
        let exists = anyhow::Error::new(pki_core::Error::Exists(PathBuf::from("a.pem")))
            .context("cannot write");
        assert_eq!(code(&exists, Code::Failed), Code::FileExists);
        // Through pki-batch's transparent wrapper and a device's line.
        let batch = anyhow::Error::new(pki_batch::Error::Device {
            line: 3,
            device_id: "d".into(),
            source: Box::new(pki_batch::Error::Core(pki_core::Error::KeyMismatch {
                key: "k".into(),
                cert: "c".into(),
            })),
        });
        assert_eq!(code(&batch, Code::Failed), Code::KeyMismatch);
        // pki-core's register error is the register's code.
        let unreachable = anyhow::Error::new(pki_core::Error::Register(
            pki_core::register::Error::Unreachable {
                location: "postgres://h/db".into(),
                reason: "refused".into(),
            },
        ));
        assert_eq!(code(&unreachable, Code::Failed), Code::RegisterUnreachable);
        // An I/O error by its kind; a reworded error by the error it carries.
        let missing = anyhow::Error::new(std::io::Error::from(ErrorKind::NotFound)).context("x");
        assert_eq!(code(&missing, Code::Failed), Code::FileNotFound);
        let worded = anyhow::Error::new(Worded {
            line: "the tenant said no".into(),
            error: Box::new(pki_c8y::Error::NoAnchors),
        });
        assert_eq!(code(&worded, Code::Failed), Code::NoTrustAnchors);
        assert_eq!(format!("{worded:#}"), "the tenant said no");
        // Nothing typed: the fallback.
        let plain = anyhow::anyhow!("give a device id or --batch FILE");
        assert_eq!(code(&plain, Code::Failed), Code::Failed);
        assert_eq!(code(&plain, Code::Usage), Code::Usage);
        // Every refusal is `refused`.
        let refused = anyhow::Error::new(pki_core::Error::Refused(
            pki_core::Refusal::RevocationTooEarly {
                at: time::OffsetDateTime::UNIX_EPOCH,
            },
        ));
        assert_eq!(code(&refused, Code::Failed), Code::Refused);
    }
}
