//! Carrying out [`super::Step::RebaseLinks`]: symbolic links that Debian's update-ca-certificates
//! wrote with the image's mount point in them are rewritten to the path inside the image.

use std::path::Path;

/// Rewrites each symbolic link directly in `dir` whose target starts with `root` to the same
/// target without it (`ROOT/usr/local/share/x.crt` becomes `/usr/local/share/x.crt`). Returns
/// how many were rewritten. Links are replaced atomically (a new link renamed over the old).
#[cfg(unix)]
pub fn rebase_links(dir: &Path, root: &Path) -> std::io::Result<usize> {
    let mut n = 0;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if !std::fs::symlink_metadata(&path)?.file_type().is_symlink() {
            continue;
        }
        let target = std::fs::read_link(&path)?;
        let Ok(inside) = target.strip_prefix(root) else {
            continue;
        };
        let new_target = Path::new("/").join(inside);
        let mut tmp_name = path.as_os_str().to_owned();
        tmp_name.push(".pki-relink");
        let tmp = Path::new(&tmp_name);
        let _ = std::fs::remove_file(tmp);
        std::os::unix::fs::symlink(&new_target, tmp)?;
        std::fs::rename(tmp, &path)?;
        n += 1;
    }
    Ok(n)
}

/// Symbolic links are only rewritten on Unix (a Linux image is not prepared on Windows).
#[cfg(not(unix))]
pub fn rebase_links(_dir: &Path, _root: &Path) -> std::io::Result<usize> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "rewriting symbolic links of a Linux image needs a Unix host",
    ))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn links_into_the_root_lose_the_root() {
        let d = std::env::temp_dir().join(format!("pki-relink-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        let certs = d.join("etc/ssl/certs");
        std::fs::create_dir_all(&certs).unwrap();
        std::os::unix::fs::symlink(
            d.join("usr/local/share/ca-certificates/a.crt"),
            certs.join("a.pem"),
        )
        .unwrap();
        std::os::unix::fs::symlink("a.pem", certs.join("1234abcd.0")).unwrap();
        std::os::unix::fs::symlink("/usr/share/ca-certificates/b.crt", certs.join("b.pem"))
            .unwrap();
        assert_eq!(rebase_links(&certs, &d).unwrap(), 1);
        let link = |n: &str| std::fs::read_link(certs.join(n)).unwrap();
        assert_eq!(
            link("a.pem"),
            Path::new("/usr/local/share/ca-certificates/a.crt")
        );
        assert_eq!(link("1234abcd.0"), Path::new("a.pem"));
        assert_eq!(link("b.pem"), Path::new("/usr/share/ca-certificates/b.crt"));
        std::fs::remove_dir_all(&d).unwrap();
    }
}
