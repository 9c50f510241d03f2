//! Debian's `update-ca-certificates --fresh`, done by pki itself for a device image (`--root`):
//! the bundle and the links in /etc/ssl/certs built from the image's own anchors, every path
//! resolved inside the image. Running this machine's tool on an image would let the image's
//! configuration name this machine's files (a `../..` entry in ca-certificates.conf, a link to
//! a directory of this machine) and write through the image's links; running the image's own
//! tool would run the image's code on this machine.
//!
//! What the tool does (Debian 12's script), and so what this does:
//! - /etc/ca-certificates.conf names certificates relative to /usr/share/ca-certificates, one
//!   a line; empty lines and lines starting with `#` are skipped, a leading `!` deselects (the
//!   link of that name is removed); an entry that is not a regular file is skipped with a
//!   warning;
//! - then every `*.crt` under /usr/local/share/ca-certificates, links followed (`find -L`),
//!   sorted;
//! - each of them gets a link in /etc/ssl/certs, `NAME.pem` (NAME: the file name without
//!   `.crt`, spaces and commas made `_`, parentheses `=`), to the path the image names it by;
//!   links there into the two certificate directories are cleared first, and links that do not
//!   lead to a regular file are removed;
//! - `openssl rehash`: each `.pem`, `.crt` or `.cer` file of /etc/ssl/certs holding exactly one
//!   certificate gets a `HHHHHHHH.N` link ([`subject_hash`]; N counts certificates with the same
//!   hash in file name order, a duplicate certificate gets none), the bundle excepted;
//! - /etc/ssl/certs/ca-certificates.crt: the certificates in that order, written atomically
//!   with mode 0644.
//!
//! Differences, on purpose: the bundle holds the certificates re-encoded (a file's other PEM
//! blocks and text stay out of it; a file without a PEM certificate is skipped with a warning,
//! and gets no link), it is written empty when no certificate is left (the tool would keep the
//! old one), and the image's hooks (/etc/ca-certificates/update.d) are not run.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use pki_x509::files::Dir;
use pki_x509::{Certificate, PemBlock, pem_blocks};
use serde::Serialize;

use crate::access::{MAX_BUNDLE, MAX_CERT, MAX_CONF, StoreFs};
use crate::error::{Error, io, write};
use pki_x509::subject_hash;

/// The list of the distribution's certificates to trust.
pub(crate) const CONF: &str = "/etc/ca-certificates.conf";
/// The distribution's certificates.
pub(crate) const CERTSDIR: &str = "/usr/share/ca-certificates";
/// The administrator's certificates.
pub(crate) const LOCALDIR: &str = "/usr/local/share/ca-certificates";
/// The directory of links and the bundle.
pub(crate) const ETCCERTS: &str = "/etc/ssl/certs";
/// The bundle's name in it.
const BUNDLE_NAME: &str = "ca-certificates.crt";
/// How deep directories are followed (under the local directory, and in /etc/ssl/certs).
const MAX_DEPTH: usize = 16;

/// What [`build_bundle`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Built {
    /// The bundle written (on this machine's path).
    pub(crate) bundle: PathBuf,
    /// How many certificates it holds.
    pub(crate) certificates: usize,
    /// The entries left out, each with why (as update-ca-certificates warns about them).
    pub(crate) skipped: Vec<String>,
}

/// A certificate file the tool takes.
#[derive(Debug)]
pub(crate) struct Source {
    /// The path the image names it by (the link in /etc/ssl/certs points there).
    pub(crate) path: String,
    /// Its certificates.
    blocks: Vec<PemBlock>,
}

/// What the tool would take from the image.
#[derive(Debug, Default)]
pub(crate) struct Selection {
    /// The certificate files, in the bundle's order.
    pub(crate) sources: Vec<Source>,
    /// The entries of ca-certificates.conf deselected with `!`.
    deselected: Vec<String>,
    /// The entries left out, and why.
    skipped: Vec<String>,
}

/// A line of ca-certificates.conf as the shell's `read` gives it: white space trimmed at both
/// ends, a backslash taken as escaping the next character.
fn shell_read(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.trim_matches([' ', '\t']).chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The certificates of a file: its certificate blocks (pki-x509's [`PemBlock::certificate`]:
/// `CERTIFICATE`, `X509 CERTIFICATE`, and `TRUSTED CERTIFICATE` with its trust settings) that
/// hold an X.509 certificate, kept as written.
fn certificate_blocks(bytes: &[u8]) -> Vec<PemBlock> {
    pem_blocks(bytes, "")
        .unwrap_or_default()
        .into_iter()
        .filter(|b| b.certificate("").is_some_and(|c| c.is_ok()))
        .collect()
}

/// What update-ca-certificates would take from the image (or this machine, at `/`).
pub(crate) fn select(fs: &StoreFs) -> Result<Selection, Error> {
    let mut sel = Selection::default();
    let conf = fs.read(CONF, MAX_CONF)?.unwrap_or_default();
    for line in String::from_utf8_lossy(&conf).split('\n') {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('!') {
            sel.deselected.push(shell_read(name));
            continue;
        }
        let path = format!("{CERTSDIR}/{}", shell_read(line));
        take(fs, path, &mut sel)?;
    }
    let mut local = Vec::new();
    if let Some(dir) = fs.dir(LOCALDIR)? {
        walk(fs, &dir, LOCALDIR, &mut Vec::new(), &mut local)?;
    }
    local.sort();
    for path in local {
        take(fs, path, &mut sel)?;
    }
    Ok(sel)
}

/// Adds the certificate file `path` (as the image names it), or says why it is left out.
fn take(fs: &StoreFs, path: String, sel: &mut Selection) -> Result<(), Error> {
    let bytes = match fs.read(&path, MAX_CERT) {
        Ok(Some(b)) => b,
        Ok(None) => {
            sel.skipped.push(format!(
                "{path} not found in the image, but listed in {CONF}"
            ));
            return Ok(());
        }
        Err(Error::Refused { reason, .. }) => {
            sel.skipped.push(format!("{path}: {reason}"));
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    let blocks = certificate_blocks(&bytes);
    if blocks.is_empty() {
        sel.skipped
            .push(format!("{path}: no PEM certificate in it"));
        return Ok(());
    }
    sel.sources.push(Source { path, blocks });
    Ok(())
}

/// Every `*.crt` regular file below `dir` (the image's `path`), links followed inside the
/// image, as `find -L PATH -type f -name '*.crt'` lists them; a directory that is its own
/// ancestor (a link loop) is not entered again.
fn walk(
    fs: &StoreFs,
    dir: &Dir,
    path: &str,
    ancestors: &mut Vec<PathBuf>,
    out: &mut Vec<String>,
) -> Result<(), Error> {
    let here = dir.path().to_owned();
    if ancestors.len() >= MAX_DEPTH || ancestors.contains(&here) {
        return Ok(());
    }
    ancestors.push(here);
    let mut names = dir.names().map_err(|e| io(dir.path(), e))?;
    names.sort();
    for name in names {
        let child = format!("{path}/{name}");
        match fs.root().dir(Path::new(&child), None) {
            Ok(sub) => walk(fs, &sub, &child, ancestors, out)?,
            Err(_) => {
                if name.ends_with(".crt") && fs.is_file(&child) {
                    out.push(child);
                }
            }
        }
    }
    ancestors.pop();
    Ok(())
}

/// The name of a certificate's link in /etc/ssl/certs, as the tool makes it.
pub(crate) fn pem_link_name(path: &str) -> String {
    let base = path.rsplit('/').next().unwrap_or(path);
    let base = match base.strip_suffix(".crt") {
        Some(b) if !b.is_empty() => b,
        _ => base,
    };
    let mangled: String = base
        .chars()
        .map(|c| match c {
            ' ' | ',' => '_',
            '(' | ')' => '=',
            c => c,
        })
        .collect();
    format!("{mangled}.pem")
}

/// How many certificate files update-ca-certificates would take once `removed` (the path the
/// system names it by) is gone.
pub(crate) fn sources_left(fs: &StoreFs, removed: &str) -> Result<usize, Error> {
    Ok(select(fs)?
        .sources
        .iter()
        .filter(|s| s.path != removed)
        .count())
}

/// Builds the bundle of the Debian-family image at `root`, and its links, from the image's own
/// anchors, as `update-ca-certificates --fresh` does (see the module's documentation); every
/// path resolved inside the image, nothing of the image run, nothing outside it read or
/// written.
pub(crate) fn build_bundle(root: &Path) -> Result<Built, Error> {
    let fs = StoreFs::open(Some(root))?;
    let sel = select(&fs)?;
    let bundle_path = fs.named(&format!("{ETCCERTS}/{BUNDLE_NAME}"));
    let mut bundle = String::new();
    let mut count = 0;
    for b in sel.sources.iter().flat_map(|s| &s.blocks) {
        bundle.push_str(&b.to_pem());
        count += 1;
        if bundle.len() as u64 > MAX_BUNDLE {
            return Err(Error::Refused {
                path: bundle_path,
                reason: format!("the image's certificates add up to more than {MAX_BUNDLE} bytes"),
            });
        }
    }
    let certs_path = fs.named(ETCCERTS);
    let certs = fs
        .root()
        .dir(Path::new(ETCCERTS), Some(0o755))
        .map_err(|e| write(&certs_path, e))?;
    let mut skipped = sel.skipped.clone();
    // `!NAME`: its link goes (named without the tool's mangling, as the tool does).
    for name in &sel.deselected {
        let path = format!("{CERTSDIR}/{name}");
        let base = path.rsplit('/').next().unwrap_or(&path);
        let link = format!("{}.pem", base.strip_suffix(".crt").unwrap_or(base));
        if certs.is_link(&link) {
            certs
                .remove(&link)
                .map_err(|e| write(&certs.join(&link), e))?;
        }
    }
    // A link for each certificate file, to the path the image names it by (a later file of
    // the same link name wins, as with the tool's `ln -sf`).
    let mut wanted: BTreeMap<String, &str> = BTreeMap::new();
    for s in &sel.sources {
        wanted.insert(pem_link_name(&s.path), &s.path);
    }
    // --fresh: the other links into the certificate directories are cleared (those that stay
    // as they are are left alone, so that a reader never misses them).
    for_each_link(&certs, ETCCERTS, 0, &mut |dir, name, path| {
        let target = dir.read_link(name).unwrap_or_default();
        let t = target.to_string_lossy();
        let kept = path == format!("{ETCCERTS}/{name}") && wanted.get(name) == Some(&&*t);
        if (t.starts_with(CERTSDIR) || t.starts_with(LOCALDIR)) && !kept {
            dir.remove(name).map_err(|e| write(&dir.join(name), e))?;
        }
        Ok(())
    })?;
    for (name, path) in &wanted {
        if certs.read_link(name).is_ok_and(|t| t == Path::new(path)) {
            continue;
        }
        if let Err(e) = certs.symlink(Path::new(path), name) {
            skipped.push(format!("{}: no link: {e}", certs.join(name).display()));
        }
    }
    // Links that do not lead to a regular file (inside the image) are removed.
    for_each_link(&certs, ETCCERTS, 0, &mut |dir, name, path| {
        if !fs.is_file(path) {
            dir.remove(name).map_err(|e| write(&dir.join(name), e))?;
        }
        Ok(())
    })?;
    rehash(&fs, &certs)?;
    certs
        .write_atomic(BUNDLE_NAME, bundle.as_bytes(), 0o644, true)
        .map_err(|e| write(&bundle_path, e))?;
    Ok(Built {
        bundle: bundle_path,
        certificates: count,
        skipped,
    })
}

/// Calls `f(dir, name, path in the image)` for every symbolic link in `dir` and the real
/// directories below it (`find . -type l`: links to directories are not entered).
fn for_each_link(
    dir: &Dir,
    path: &str,
    depth: usize,
    f: &mut dyn FnMut(&Dir, &str, &str) -> Result<(), Error>,
) -> Result<(), Error> {
    if depth >= MAX_DEPTH {
        return Ok(());
    }
    let mut names = dir.names().map_err(|e| io(dir.path(), e))?;
    names.sort();
    for name in names {
        let child = format!("{path}/{name}");
        if dir.is_link(&name) {
            f(dir, &name, &child)?;
        } else if let Ok(sub) = dir.subdir(&name, None) {
            for_each_link(&sub, &child, depth + 1, f)?;
        }
    }
    Ok(())
}

/// `HHHHHHHH.N`: a name `openssl rehash` manages.
fn is_hash_link_name(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() > 9
        && b[..8].iter().all(u8::is_ascii_hexdigit)
        && b[8] == b'.'
        && b[9..].iter().all(u8::is_ascii_digit)
}

/// The one certificate of a PEM file that holds exactly one certificate or CRL and it is a
/// certificate (`openssl rehash` skips every other file). What follows the certificate in its
/// block (the trust settings a TRUSTED CERTIFICATE adds) is dropped.
fn single_certificate(bytes: &[u8]) -> Option<Certificate> {
    let blocks = pem_blocks(bytes, "").ok()?;
    let mut items = blocks
        .iter()
        .filter(|b| b.is_certificate() || b.label() == "X509 CRL");
    match (items.next(), items.next()) {
        (Some(b), None) => Certificate::from_der_prefix(b.certificate_der()?.to_vec(), "").ok(),
        _ => None,
    }
}

/// `openssl rehash /etc/ssl/certs`: the hash links, made again from the files there.
fn rehash(fs: &StoreFs, certs: &Dir) -> Result<(), Error> {
    let mut names = certs.names().map_err(|e| io(certs.path(), e))?;
    names.sort();
    let mut old: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut candidates = Vec::new();
    for name in names {
        if certs.is_link(&name) && is_hash_link_name(&name) {
            old.insert(name.clone(), certs.read_link(&name).unwrap_or_default());
            continue;
        }
        let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
        // The bundle is never a link's target (the tool's rehash runs before it replaces the
        // bundle, and so links an old bundle that held one certificate: an artifact).
        if name != BUNDLE_NAME && matches!(ext.as_deref(), Some("pem" | "crt" | "cer")) {
            candidates.push(name);
        }
    }
    let mut next: HashMap<u32, u32> = HashMap::new();
    let mut seen: HashSet<(u32, String)> = HashSet::new();
    let mut want: BTreeMap<String, String> = BTreeMap::new();
    for name in candidates {
        let path = format!("{ETCCERTS}/{name}");
        let bytes = match fs.read(&path, MAX_CERT) {
            Ok(Some(b)) => b,
            Ok(None) | Err(Error::Refused { .. }) => continue,
            Err(e) => return Err(e),
        };
        let Some(cert) = single_certificate(&bytes) else {
            continue;
        };
        let Some(hash) = subject_hash(cert.der()) else {
            continue;
        };
        if !seen.insert((hash, cert.sha1_hex())) {
            continue;
        }
        let id = next.entry(hash).or_insert(0);
        want.insert(format!("{hash:08x}.{id}"), name);
        *id += 1;
    }
    for (link, target) in &want {
        if old.get(link).is_some_and(|t| t == Path::new(target)) {
            continue;
        }
        certs
            .symlink(Path::new(target), link)
            .map_err(|e| write(&certs.join(link), e))?;
    }
    for link in old.keys().filter(|l| !want.contains_key(*l)) {
        certs
            .remove(link)
            .map_err(|e| write(&certs.join(link), e))?;
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn link_names_are_the_tools() {
        assert_eq!(
            pem_link_name("/usr/share/ca-certificates/mozilla/X.crt"),
            "X.pem"
        );
        assert_eq!(
            pem_link_name("/usr/share/ca-certificates/m/Odd Name (Test), Inc.crt"),
            "Odd_Name_=Test=__Inc.pem"
        );
        assert_eq!(pem_link_name("/x/y.pem"), "y.pem.pem");
        assert_eq!(pem_link_name("/x/.crt"), ".crt.pem");
        assert!(is_hash_link_name("1a2b3c4d.0"));
        assert!(is_hash_link_name("1A2B3C4D.12"));
        assert!(!is_hash_link_name("1a2b3c4d.r0"));
        assert!(!is_hash_link_name("1a2b3c4d."));
        assert!(!is_hash_link_name("ca-certificates.crt"));
        assert_eq!(shell_read("  mozilla/A\\ B.crt \t"), "mozilla/A B.crt");
    }

    #[test]
    fn certificate_files_are_read_as_openssl_rehash_reads_them() {
        let trusted = include_str!("../../fuzz/seeds/certificate/trusted.pem");
        let plain = include_str!("../../fuzz/seeds/certificate/ed25519-self.pem");
        let old = plain.replace("CERTIFICATE", "X509 CERTIFICATE");
        let crl = "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n";
        let want = Certificate::parse_one(plain.as_bytes(), "p").unwrap();
        for one in [plain, trusted, old.as_str()] {
            assert_eq!(single_certificate(one.as_bytes()), Some(want.clone()));
            // The bundle keeps the block as written (a TRUSTED CERTIFICATE with its settings).
            let blocks = certificate_blocks(format!("text\n{one}{crl}").as_bytes());
            assert_eq!(blocks.len(), 1);
            assert_eq!(blocks[0].to_pem().trim(), one.trim());
        }
        assert_eq!(single_certificate(format!("{plain}{crl}").as_bytes()), None);
        assert_eq!(
            single_certificate(format!("{plain}{trusted}").as_bytes()),
            None
        );
        assert_eq!(single_certificate(crl.as_bytes()), None);
    }
}
