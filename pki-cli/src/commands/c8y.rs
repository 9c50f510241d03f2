//! `pki c8y upload|list|remove`: a Cumulocity tenant's trusted certificates: register a CA (or a
//! self-signed device certificate), prove possession of its key, list and remove them.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use pki_core::Certificate;
use serde::Serialize;
use serde_json::Value;
use zeroize::Zeroizing;

use super::issue::{VERIFICATION_CODE_RULE, is_verification_code};
use crate::c8y::client::{ADMIN_ROLE, Client, Reply, parse_url};
use crate::c8y::model::{
    CurrentTenant, NewTrustedCertificate, SignedVerificationCode, Status, TrustedCertificate,
};
use crate::c8y::pop;
use crate::cli::{C8yCommand, C8yConn, C8yListArgs, C8yRemoveArgs, C8yUploadArgs};
use crate::commands::{read_cert, read_key};
use crate::output::{Outcome, Output, escape_line, fields};

/// How many certificates one page of the listing asks for.
const PAGE_SIZE: usize = 100;
/// The most pages of the listing pki reads (10,000 certificates): a tenant whose pages never
/// end is refused rather than read forever.
const MAX_PAGES: usize = 100;
/// The largest password file pki reads.
const MAX_PASSWORD_FILE: u64 = 64 * 1024;

/// `pki c8y ...`.
pub(crate) fn run(c: C8yCommand, out: &Output) -> Result<Outcome> {
    match c {
        C8yCommand::Upload(a) => upload(a, out),
        C8yCommand::List(a) => list(a, out),
        C8yCommand::Remove(a) => remove(a, out),
    }
}

/// A logged-in client and the tenant id its paths use.
struct Session {
    client: Client,
    tenant: String,
}

impl Session {
    /// Reads the password, connects, and finds the tenant id (`--tenant`, or
    /// `GET /tenant/currentTenant`).
    fn open(conn: &C8yConn) -> Result<Self> {
        let user = match &conn.tenant {
            Some(t) if !conn.user.contains('/') => format!("{t}/{}", conn.user),
            _ => conn.user.clone(),
        };
        let base = parse_url(&conn.url)?;
        let password = password(conn, &user, base.as_str())?;
        let mut client = Client::new(
            base,
            &user,
            &password,
            conn.ca_file.as_deref(),
            Duration::from_secs(conn.timeout),
        )?;
        drop(password);
        let tenant = match &conn.tenant {
            Some(t) => t.clone(),
            None => {
                let r = client.get("/tenant/currentTenant")?;
                if !r.status.is_success() {
                    return Err(refused(
                        &client,
                        &client.host(),
                        "cannot look up the tenant id",
                        &r,
                    ));
                }
                let t: CurrentTenant = serde_json::from_value(r.body).map_err(|_| {
                    anyhow!(
                        "{}/tenant/currentTenant answered without a tenant id (no \"name\"): is {} a Cumulocity tenant?",
                        client.base(),
                        client.base()
                    )
                })?;
                t.name
            }
        };
        client.learn_tenant(&tenant);
        Ok(Session { client, tenant })
    }

    fn path(&self, rest: &str) -> String {
        format!("/tenant/tenants/{}/trusted-certificates{rest}", self.tenant)
    }

    fn pop_path(&self, fingerprint: &str, step: &str) -> String {
        format!(
            "/tenant/tenants/{}/trusted-certificates-pop/{fingerprint}/{step}",
            self.tenant
        )
    }

    /// The error for an answer that is not what `what` needed.
    fn refused(&self, what: &str, r: &Reply) -> anyhow::Error {
        refused(&self.client, &self.tenant, what, r)
    }
}

/// The one-line error for a 4xx answer: what went wrong in the user's terms, with the tenant's
/// own message.
fn refused(client: &Client, tenant: &str, what: &str, r: &Reply) -> anyhow::Error {
    match r.status.as_u16() {
        401 => anyhow!(
            "wrong user or password for {tenant}: {} refused user {:?} ({}); check --user (USER or TENANT/USER, C8Y_USER) and the password (--password-file or C8Y_PASSWORD)",
            client.base(),
            client.user(),
            r.summary()
        ),
        403 => anyhow!(
            "{what}: user {:?} lacks the tenant management admin role ({ADMIN_ROLE}) in tenant {tenant}; the tenant said {}; ask an administrator to grant it (Administration > Roles)",
            client.user(),
            r.summary()
        ),
        422 => anyhow!(
            "{what}: the tenant rejected the certificate: {}",
            r.message()
        ),
        _ => anyhow!("{what}: the tenant answered {}", r.summary()),
    }
}

/// The tenant password: `--password-file` (first line), `C8Y_PASSWORD`, or a prompt on the
/// terminal (naming `url`, without userinfo). Never a flag value, never printed; held in memory
/// that is wiped when dropped, from here to the Authorization header.
fn password(conn: &C8yConn, user: &str, url: &str) -> Result<Zeroizing<String>> {
    if let Some(file) = &conn.password_file {
        let text = read_password_file(file)
            .with_context(|| format!("cannot read the password file {}", file.display()))?;
        let first = Zeroizing::new(text.lines().next().unwrap_or("").to_owned());
        if first.is_empty() {
            bail!("the password file {} is empty", file.display());
        }
        return Ok(first);
    }
    if let Some(p) = std::env::var("C8Y_PASSWORD")
        .ok()
        .map(Zeroizing::new)
        .filter(|p| !p.is_empty())
    {
        return Ok(p);
    }
    if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        let url = url.trim_end_matches('/');
        return Ok(Zeroizing::new(rpassword::prompt_password(format!(
            "Password for {user} at {url}: "
        ))?));
    }
    bail!(
        "no password for {user}: give --password-file FILE or set C8Y_PASSWORD (there is no terminal to ask on)"
    )
}

/// A password file's text, read into memory sized once (no reallocation leaves a copy behind)
/// and wiped when dropped.
fn read_password_file(path: &Path) -> Result<Zeroizing<String>> {
    let f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    if len > MAX_PASSWORD_FILE {
        bail!(
            "it holds {len} bytes, more than a password file ({} KiB at most)",
            MAX_PASSWORD_FILE / 1024
        );
    }
    let mut text = Zeroizing::new(String::with_capacity(usize::try_from(len).unwrap_or(0) + 1));
    f.take(MAX_PASSWORD_FILE).read_to_string(&mut text)?;
    Ok(text)
}

/// Cumulocity's fingerprint of a certificate: SHA-1 of the DER, lower-case hex.
fn fingerprint(cert: &Certificate) -> String {
    cert.sha1_hex().to_ascii_lowercase()
}

/// What `pki c8y upload` reports.
#[derive(Debug, Serialize)]
struct UploadReport {
    /// `created` or `already registered`.
    result: &'static str,
    tenant: String,
    url: String,
    file: String,
    subject: String,
    fingerprint: String,
    /// `valid`, `invalid`, or `not attempted`.
    proof_of_possession: &'static str,
    /// The tenant's answer for the stored certificate, unchanged.
    certificate: Value,
}

fn upload(a: C8yUploadArgs, out: &Output) -> Result<Outcome> {
    let file = a.cert.display().to_string();
    let certs = read_cert(&a.cert)?;
    if certs.len() > 1 {
        out.warn(&format!(
            "{file} holds {} certificates; registering the first ({})",
            certs.len(),
            certs[0].subject()
        ));
    }
    let cert = &certs[0];
    let fp = fingerprint(cert);
    let name = match a.name.clone().or_else(|| cert.common_name()) {
        Some(n) => n,
        None => a
            .cert
            .file_stem()
            .map_or_else(|| fp.clone(), |s| s.to_string_lossy().into_owned()),
    };
    // Everything that can fail locally fails before anything is sent.
    let key = if a.prove {
        let key_path = match &a.key {
            Some(k) => k.clone(),
            None => ca_key_path(&a.cert).with_context(|| {
                format!(
                    "--prove needs the CA's private key: {file} is not in a CA directory (DIR/certs/NAME.cert.pem); name the key with --key"
                )
            })?,
        };
        let key_name = key_path.display().to_string();
        let key = read_key(&key_path, &a.key_password)?;
        pop::check_supported(key.key_type(), &key_name)?;
        if !pki_core::key_matches(cert, &key)? {
            bail!(
                "the key {key_name} does not belong to {file} ({})",
                cert.subject()
            );
        }
        Some((key, key_name))
    } else {
        None
    };

    let s = Session::open(&a.conn)?;
    let what = format!("cannot register {file} with tenant {}", s.tenant);
    let body = NewTrustedCertificate {
        name,
        cert_in_pem_format: cert.to_pem(),
        auto_registration_enabled: !a.no_auto_register,
        status: if a.disabled {
            Status::Disabled
        } else {
            Status::Enabled
        },
    };
    let r = s.client.post(&s.path(""), &body)?;
    let (result, mut stored) = match r.status.as_u16() {
        200 | 201 => ("created", r.body),
        409 => {
            let got = s.client.get(&s.path(&format!("/{fp}")))?;
            let stored = if got.status.is_success() {
                got.body
            } else {
                Value::Null
            };
            let have = TrustedCertificate::of(&stored);
            if have.status.is_some_and(|st| st != body.status)
                || have
                    .auto_registration_enabled
                    .is_some_and(|ar| ar != body.auto_registration_enabled)
            {
                out.warn(&format!(
                    "{file} was already registered with other settings (status {}, auto-registration {}); pki left them as they are",
                    have.status.map_or("?".to_owned(), |st| st.to_string()),
                    on_off(have.auto_registration_enabled)
                ));
            }
            ("already registered", stored)
        }
        _ => return Err(s.refused(&what, &r)),
    };

    let mut proof = "not attempted";
    if let Some((key, key_name)) = key {
        if TrustedCertificate::of(&stored).proof_of_possession_valid == Some(true) {
            proof = "valid";
        } else {
            stored = prove(&s, &fp, &file, &key, &key_name)?;
            proof = if TrustedCertificate::of(&stored).proof_of_possession_valid == Some(true) {
                "valid"
            } else {
                "invalid"
            };
        }
    }
    let report = UploadReport {
        result,
        tenant: s.tenant.clone(),
        url: s.client.base().to_owned(),
        file,
        subject: cert.subject(),
        fingerprint: fp,
        proof_of_possession: proof,
        certificate: stored,
    };
    out.emit(&report, || upload_text(&report))?;
    if proof == "invalid" {
        bail!(
            "the tenant did not accept the proof of possession for {} (proofOfPossessionValid is not true)",
            report.file
        );
    }
    Ok(Outcome::Success)
}

/// Proof of possession: get the verification code, sign it with the CA key, send the signature.
/// Returns the tenant's answer (the certificate with `proofOfPossessionValid`).
fn prove(
    s: &Session,
    fp: &str,
    file: &str,
    key: &pki_core::PrivateKey,
    key_name: &str,
) -> Result<Value> {
    let what = format!(
        "cannot prove possession of {file}'s key to tenant {}",
        s.tenant
    );
    let r = s.client.post_empty(&s.pop_path(fp, "verification-code"))?;
    if !r.status.is_success() {
        return Err(s.refused(&what, &r));
    }
    let code = TrustedCertificate::of(&r.body)
        .proof_of_possession_unsigned_verification_code
        .filter(|c| !c.is_empty())
        .with_context(|| {
            format!("{what}: the answer carries no proofOfPossessionUnsignedVerificationCode")
        })?;
    // The CA key signs the code's bytes as they are: a tenant that sends anything but a code
    // (a JWT signing input, a CSR, a challenge of another service) must not get it signed.
    if !is_verification_code(&code) {
        let shown: String = code.chars().take(80).collect();
        let more = if shown.len() < code.len() { "..." } else { "" };
        bail!(
            "{what} ({}): its verification code {shown:?}{more} is not one ({VERIFICATION_CODE_RULE}); nothing was signed",
            s.client.base()
        );
    }
    let signed = SignedVerificationCode {
        proof_of_possession_signed_verification_code: pop::sign_code(key, &code, key_name)?,
    };
    let r = s.client.post(&s.pop_path(fp, "pop"), &signed)?;
    if !r.status.is_success() {
        return Err(s.refused(&what, &r));
    }
    if r.body.is_object() {
        return Ok(r.body);
    }
    // An answer without the certificate: read it back.
    let got = s.client.get(&s.path(&format!("/{fp}")))?;
    if !got.status.is_success() {
        return Err(s.refused(&what, &got));
    }
    Ok(got.body)
}

fn on_off(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "on",
        Some(false) => "off",
        None => "?",
    }
}

fn yes_no(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "?",
    }
}

/// A value the tenant sent, for one cell or field of a text report: on one line, no controls.
fn shown(value: Option<&str>) -> String {
    escape_line(value.unwrap_or_default()).into_owned()
}

fn upload_text(r: &UploadReport) -> String {
    let c = TrustedCertificate::of(&r.certificate);
    let tenant = escape_line(&r.tenant);
    let mut s = match r.result {
        "created" => format!("registered {} with tenant {tenant}\n", r.subject),
        _ => format!(
            "already registered: {} is in tenant {tenant}'s trusted certificates (nothing changed)\n",
            r.subject
        ),
    };
    s += &fields(&[
        ("  name", shown(c.name.as_deref())),
        ("  fingerprint", r.fingerprint.clone()),
        (
            "  status",
            c.status.map(|st| st.to_string()).unwrap_or_default(),
        ),
        (
            "  auto-registration",
            c.auto_registration_enabled
                .map(|b| on_off(Some(b)).to_owned())
                .unwrap_or_default(),
        ),
        ("  not after", shown(c.not_after.as_deref())),
        (
            "  proof of possession",
            match (r.proof_of_possession, c.proof_of_possession_valid) {
                ("not attempted", Some(true)) => "valid".to_owned(),
                ("not attempted", _) => "not proven (run again with --prove)".to_owned(),
                (p, _) => p.to_owned(),
            },
        ),
    ]);
    s
}

/// The key of a certificate in a CA directory: `DIR/certs/P.cert.pem` (or its
/// `P-full-chain.cert.pem`) has its key at `DIR/private/P.key.pem`.
fn ca_key_path(cert: &Path) -> Option<PathBuf> {
    let name = cert.file_name()?.to_str()?;
    let prefix = name.strip_suffix(".cert.pem")?;
    let prefix = prefix.strip_suffix("-full-chain").unwrap_or(prefix);
    let certs = cert.parent()?;
    if certs.file_name()? != "certs" {
        return None;
    }
    let dir = certs.parent()?;
    Some(dir.join("private").join(format!("{prefix}.key.pem")))
}

/// What `pki c8y list` reports.
#[derive(Debug, Serialize)]
struct ListReport {
    tenant: String,
    url: String,
    /// The tenant's certificates, as it answered them.
    certificates: Vec<Value>,
}

fn list(a: C8yListArgs, out: &Output) -> Result<Outcome> {
    let s = Session::open(&a.conn)?;
    let what = format!(
        "cannot list the trusted certificates of tenant {}",
        s.tenant
    );
    let mut all = Vec::new();
    for page in 1..=MAX_PAGES + 1 {
        if page > MAX_PAGES {
            bail!(
                "{what}: the listing did not end after {MAX_PAGES} pages of {PAGE_SIZE} certificates, the most pki reads; is it a Cumulocity tenant?"
            );
        }
        let r = s
            .client
            .get(&s.path(&format!("?pageSize={PAGE_SIZE}&currentPage={page}")))?;
        if !r.status.is_success() {
            return Err(s.refused(&what, &r));
        }
        let batch = match r.body.get("certificates") {
            Some(Value::Array(v)) => v.clone(),
            _ => bail!("{what}: the answer has no \"certificates\" list"),
        };
        let n = batch.len();
        all.extend(batch);
        if n < PAGE_SIZE {
            break;
        }
    }
    let report = ListReport {
        tenant: s.tenant.clone(),
        url: s.client.base().to_owned(),
        certificates: all,
    };
    out.emit(&report, || list_text(&report))?;
    Ok(Outcome::Success)
}

fn list_text(r: &ListReport) -> String {
    let tenant = escape_line(&r.tenant);
    if r.certificates.is_empty() {
        return format!("tenant {tenant} has no trusted certificates\n");
    }
    let rows: Vec<[String; 6]> = r
        .certificates
        .iter()
        .map(|v| {
            let c = TrustedCertificate::of(v);
            [
                shown(c.fingerprint.as_deref()),
                c.status.map(|s| s.to_string()).unwrap_or_default(),
                on_off(c.auto_registration_enabled).to_owned(),
                yes_no(c.proof_of_possession_valid).to_owned(),
                shown(c.not_after.as_deref()),
                format!(
                    "{}{}",
                    shown(c.name.as_deref()),
                    c.subject
                        .map(|s| format!(" ({})", shown(Some(&s))))
                        .unwrap_or_default()
                ),
            ]
        })
        .collect();
    let head = [
        "FINGERPRINT",
        "STATUS",
        "AUTO-REG",
        "PROVEN",
        "NOT AFTER",
        "NAME (SUBJECT)",
    ];
    let mut width = head.map(str::len);
    for row in &rows {
        for (w, cell) in width.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let line = |cells: [&str; 6]| {
        let mut l = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                l += cell;
            } else {
                l += &format!("{cell:<w$}  ", w = width[i]);
            }
        }
        l + "\n"
    };
    let mut s = format!("tenant {tenant}: {} trusted certificate(s)\n", rows.len());
    s += &line(head);
    for row in &rows {
        s += &line([&row[0], &row[1], &row[2], &row[3], &row[4], &row[5]].map(String::as_str));
    }
    s
}

/// What `pki c8y remove` reports.
#[derive(Debug, Serialize)]
struct RemoveReport {
    /// `removed` or `not registered`.
    result: &'static str,
    tenant: String,
    fingerprint: String,
}

fn remove(a: C8yRemoveArgs, out: &Output) -> Result<Outcome> {
    let fp = fingerprint_of(&a.cert)?;
    let s = Session::open(&a.conn)?;
    let what = format!("cannot remove {fp} from tenant {}", s.tenant);
    let r = s.client.delete(&s.path(&format!("/{fp}")))?;
    let result = match r.status.as_u16() {
        200..=299 => "removed",
        404 => "not registered",
        _ => return Err(s.refused(&what, &r)),
    };
    let report = RemoveReport {
        result,
        tenant: s.tenant.clone(),
        fingerprint: fp,
    };
    let tenant = escape_line(&report.tenant);
    out.emit(&report, || match report.result {
        "removed" => format!(
            "removed {} from tenant {tenant}'s trusted certificates\n",
            report.fingerprint
        ),
        _ => format!(
            "not registered: tenant {tenant} has no trusted certificate {} (nothing to remove)\n",
            report.fingerprint
        ),
    })?;
    Ok(Outcome::Success)
}

/// A certificate file's fingerprint, or a SHA-1 fingerprint given as hex (any case, with or
/// without `:` separators), as lower-case hex.
fn fingerprint_of(arg: &str) -> Result<String> {
    let path = Path::new(arg);
    if path.exists() {
        let certs = read_cert(path)?;
        return Ok(fingerprint(&certs[0]));
    }
    let hex: String = arg.chars().filter(|c| *c != ':').collect();
    if hex.len() == 40 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Ok(hex.to_ascii_lowercase());
    }
    bail!(
        "{arg} is neither a certificate file nor a SHA-1 fingerprint (40 hex digits, as `pki show` prints the thumbprint)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_found_in_the_ca_directory() {
        assert_eq!(
            ca_key_path(Path::new("pki/certs/azure-iot-test-only.root.ca.cert.pem")),
            Some(PathBuf::from(
                "pki/private/azure-iot-test-only.root.ca.key.pem"
            ))
        );
        assert_eq!(
            ca_key_path(Path::new(
                "/x/pki/certs/azure-iot-test-only.intermediate-full-chain.cert.pem"
            )),
            Some(PathBuf::from(
                "/x/pki/private/azure-iot-test-only.intermediate.key.pem"
            ))
        );
        assert_eq!(ca_key_path(Path::new("root.pem")), None);
        assert_eq!(ca_key_path(Path::new("elsewhere/root.cert.pem")), None);
    }

    #[test]
    fn the_password_is_held_in_memory_that_is_wiped() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw.txt");
        std::fs::write(&file, "s3cret-pw\r\nsecond line\n").unwrap();
        let conn = C8yConn {
            url: "https://t1.example.com".into(),
            user: "admin".into(),
            tenant: None,
            password_file: Some(file.clone()),
            ca_file: None,
            timeout: 120,
        };
        // The type is the point: the password is wiped when it is dropped.
        let pw: Zeroizing<String> = password(&conn, "admin", "https://t1.example.com/").unwrap();
        assert_eq!(pw.as_str(), "s3cret-pw");
        std::fs::write(&file, vec![b'x'; 100 * 1024]).unwrap();
        let e = format!("{:#}", password(&conn, "admin", "").unwrap_err());
        assert!(e.contains("more than a password file"), "{e}");
    }

    #[test]
    fn only_letters_and_digits_are_signed_as_a_verification_code() {
        for code in ["0D5A2B3C4E", "c0de1234", &"A".repeat(64)] {
            assert!(is_verification_code(code), "{code}");
        }
        for code in [
            "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0",
            "",
            "c0de-1234",
            "abc=",
            "a b",
            "code\n",
            &"A".repeat(65),
        ] {
            assert!(!is_verification_code(code), "{code:?}");
        }
    }

    #[test]
    fn fingerprints_are_normalised() {
        let upper = "0CD89E8ECD40B6F7FBB9F3602BAF82FF307F0678";
        assert_eq!(fingerprint_of(upper).unwrap(), upper.to_ascii_lowercase());
        let colons = "0C:D8:9E:8E:CD:40:B6:F7:FB:B9:F3:60:2B:AF:82:FF:30:7F:06:78";
        assert_eq!(fingerprint_of(colons).unwrap(), upper.to_ascii_lowercase());
        let e = fingerprint_of("nope").unwrap_err().to_string();
        assert!(e.contains("neither a certificate file nor"), "{e}");
    }
}
