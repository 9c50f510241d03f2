//! Device images for the trust-store tests: a hermetic Debian root file system to install into
//! with `--root`, Debian's own update-ca-certificates run on one, and what is in an image's
//! bundle and links afterwards.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::fixtures::{sha256_fingerprint, testdata, tree};
use super::programs;

/// Debian's own refresh tool (package ca-certificates).
pub(crate) const UPDATE_CA_CERTIFICATES: &str = "/usr/sbin/update-ca-certificates";
/// The bundle of a Debian image, relative to its root.
pub(crate) const BUNDLE: &str = "etc/ssl/certs/ca-certificates.crt";
/// Where a Debian image takes local CA certificates from, relative to its root.
pub(crate) const LOCAL: &str = "usr/local/share/ca-certificates";

/// A hermetic Debian root at `dir/img`: os-release, an empty ca-certificates.conf and
/// certificate directories; with `other`, one more CA in the distribution's list (standing in
/// for Mozilla's), so update-ca-certificates always has a bundle to write.
pub(crate) fn debian_root(dir: &Path, other: Option<&Path>) -> PathBuf {
    let img = dir.join("img");
    for d in ["etc/ssl/certs", "usr/share/ca-certificates", LOCAL] {
        std::fs::create_dir_all(img.join(d)).unwrap();
    }
    std::fs::copy(testdata("os-release/debian"), img.join("etc/os-release")).unwrap();
    let mut conf = String::from("# pki test root\n");
    if let Some(other) = other {
        std::fs::create_dir_all(img.join("usr/share/ca-certificates/other")).unwrap();
        std::fs::copy(
            other,
            img.join("usr/share/ca-certificates/other/Other_Root.crt"),
        )
        .unwrap();
        conf.push_str("other/Other_Root.crt\n");
    }
    std::fs::write(img.join("etc/ca-certificates.conf"), conf).unwrap();
    img
}

/// `img` + `path` (an absolute path of this machine) as the image sees it: the same path
/// inside the image.
pub(crate) fn in_image(img: &Path, path: &Path) -> PathBuf {
    img.join(path.strip_prefix("/").unwrap())
}

/// Copies this machine's /bin/sh and the libraries it needs into `img`, so that the image can
/// run a shell script (as an image's own tool would be).
pub(crate) fn give_the_image_a_shell(img: &Path) {
    let sh = std::fs::canonicalize("/bin/sh").unwrap();
    let out = programs::command("ldd").arg(&sh).output().unwrap();
    let mut files = vec![sh.clone()];
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some(path) = line.split_whitespace().find(|w| w.starts_with('/')) {
            files.push(PathBuf::from(path));
        }
    }
    for f in files {
        let to = in_image(img, &f);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&f, &to).unwrap();
    }
    std::fs::create_dir_all(img.join("bin")).unwrap();
    std::fs::copy(&sh, img.join("bin/sh")).unwrap();
    for lib in ["lib64", "lib"] {
        let host = Path::new("/").join(lib);
        if std::fs::symlink_metadata(&host).is_ok_and(|m| m.file_type().is_symlink())
            && std::fs::symlink_metadata(img.join(lib)).is_err()
        {
            std::os::unix::fs::symlink(std::fs::read_link(&host).unwrap(), img.join(lib)).unwrap();
        }
    }
}

/// Debian's own update-ca-certificates on the image at `img`, with the directory flags and no
/// hooks, in a clean environment.
pub(crate) fn real_update_ca_certificates(img: &Path, hooks: &Path, fresh: bool) {
    let mut cmd = programs::command("update-ca-certificates");
    if fresh {
        cmd.arg("--fresh");
    }
    for (flag, dir) in [
        ("--certsconf", "etc/ca-certificates.conf"),
        ("--certsdir", "usr/share/ca-certificates"),
        ("--localcertsdir", LOCAL),
        ("--etccertsdir", "etc/ssl/certs"),
    ] {
        cmd.arg(flag).arg(img.join(dir));
    }
    let out = cmd
        .arg("--hooksdir")
        .arg(hooks)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// SHA-256 fingerprints (upper-case hex) of every certificate in a PEM bundle, by openssl.
pub(crate) fn bundle_fingerprints(dir: &Path, bundle: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(bundle).unwrap_or_default();
    let mut out = Vec::new();
    for (i, block) in text.split("-----END CERTIFICATE-----").enumerate() {
        let Some(start) = block.find("-----BEGIN CERTIFICATE-----") else {
            continue;
        };
        let f = dir.join(format!("bundle-{i}.pem"));
        std::fs::write(
            &f,
            format!("{}-----END CERTIFICATE-----\n", &block[start..]),
        )
        .unwrap();
        out.push(sha256_fingerprint(dir, f.to_str().unwrap()));
        std::fs::remove_file(f).unwrap();
    }
    out
}

/// The symbolic links in `dir`, name -> target, with `strip` taken off absolute targets.
pub(crate) fn links(dir: &Path, strip: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            std::fs::symlink_metadata(p)
                .unwrap()
                .file_type()
                .is_symlink()
        })
        .map(|p| {
            let t = std::fs::read_link(&p).unwrap();
            let t = match t.strip_prefix(strip) {
                Ok(rest) => Path::new("/").join(rest),
                Err(_) => t,
            };
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                t.display().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Every file below `dir` with its bytes (links as their targets): to prove nothing changed.
pub(crate) fn snapshot(dir: &Path) -> Vec<(String, String)> {
    tree(dir)
        .into_iter()
        .map(|rel| {
            let p = dir.join(&rel);
            let m = std::fs::symlink_metadata(&p).unwrap();
            let content = if m.file_type().is_symlink() {
                format!("-> {}", std::fs::read_link(&p).unwrap().display())
            } else if m.is_file() {
                format!(
                    "{:o} {}",
                    m.permissions().mode() & 0o7777,
                    String::from_utf8_lossy(&std::fs::read(&p).unwrap())
                )
            } else {
                "dir".to_owned()
            };
            (rel, content)
        })
        .collect()
}
