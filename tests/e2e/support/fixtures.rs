//! What the tests work on: the committed fixtures in `testdata/`, fresh temporary directories,
//! certificates the real openssl makes, and what openssl says of a certificate (its text, its
//! fingerprints).

use std::path::{Path, PathBuf};

use super::run::openssl;

/// A file under testdata/.
pub(crate) fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(rel)
}

/// A fresh temporary directory.
pub(crate) fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

/// Every file below `dir`, relative, sorted: to prove that a failed command wrote nothing.
pub(crate) fn tree(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            out.push(p.strip_prefix(base).unwrap().display().to_string());
            if p.is_dir() {
                walk(base, &p, out);
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, dir, &mut v);
    v.sort();
    v
}

/// The bodies of the `CERTIFICATE` blocks of a PEM text, whitespace removed, in order.
pub(crate) fn pem_certificates(pem: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = pem;
    while let Some(start) = rest.find("-----BEGIN CERTIFICATE-----") {
        let body = &rest[start + "-----BEGIN CERTIFICATE-----".len()..];
        let Some(end) = body.find("-----END CERTIFICATE-----") else {
            break;
        };
        out.push(body[..end].split_whitespace().collect());
        rest = &body[end..];
    }
    out
}

/// The extension section of `openssl x509 -noout -text`, for asserting exact extensions.
pub(crate) fn openssl_text(cwd: &Path, cert: &str) -> String {
    openssl(cwd, &["x509", "-in", cert, "-noout", "-text"])
        .expect(0)
        .stdout
}

/// The fingerprint `openssl x509 -fingerprint -DIGEST` prints of `cert` (relative to `dir`),
/// without its colons: upper-case hex.
fn openssl_fingerprint(dir: &Path, cert: &str, digest: &str) -> String {
    let r = openssl(
        dir,
        &["x509", "-in", cert, "-noout", "-fingerprint", digest],
    )
    .expect(0);
    r.stdout.trim().rsplit('=').next().unwrap().replace(':', "")
}

/// The SHA-256 fingerprint of a certificate file, by openssl: upper-case hex, no colons (as
/// pki's trust-store commands print it).
pub(crate) fn sha256_fingerprint(dir: &Path, cert: &str) -> String {
    openssl_fingerprint(dir, cert, "-sha256")
}

/// Cumulocity's fingerprint of a certificate file (the SHA-1 of its DER), by openssl:
/// lower-case hex, no colons.
pub(crate) fn sha1_fingerprint(dir: &Path, cert: &str) -> String {
    openssl_fingerprint(dir, cert, "-sha1").to_ascii_lowercase()
}

/// A self-signed EC P-256 certificate made by the real openssl with exactly this subject
/// (openssl's `-subj` syntax), valid 30 days, in `dir/file` and its key in `dir/file.key`;
/// `extra` goes to `openssl req` as it is (`-addext EXT`, `-utf8`, ...).
pub(crate) fn openssl_self_signed(dir: &Path, subj: &str, file: &str, extra: &[&str]) -> PathBuf {
    let out = dir.join(file);
    openssl_self_signed_at(dir, subj, &out, &dir.join(format!("{file}.key")), extra);
    out
}

/// [`openssl_self_signed`] with the certificate written to `cert` and its key to `key`.
pub(crate) fn openssl_self_signed_at(
    dir: &Path,
    subj: &str,
    cert: &Path,
    key: &Path,
    extra: &[&str],
) {
    let (key_s, cert_s) = (key.display().to_string(), cert.display().to_string());
    let mut args = vec![
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        &key_s,
        "-out",
        &cert_s,
        "-days",
        "30",
        "-subj",
        subj,
    ];
    args.extend_from_slice(extra);
    openssl(dir, &args).expect(0);
}

/// A CA made by openssl with this exact subject (openssl's `-subj` syntax), in `dir/file`.
#[cfg(unix)]
pub(crate) fn openssl_ca(dir: &Path, subj: &str, file: &str, extra: &[&str]) -> PathBuf {
    let mut args = vec!["-addext", "basicConstraints=critical,CA:TRUE"];
    args.extend_from_slice(extra);
    openssl_self_signed(dir, subj, file, &args)
}
