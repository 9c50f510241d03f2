use super::*;
use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};

#[test]
fn an_input_that_is_a_fifo_a_device_or_a_directory_is_refused_unread() {
    let d = tempfile::tempdir().unwrap();
    let fifo = d.path().join("fifo");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    // A FIFO nobody writes to: opening it would block without O_NONBLOCK.
    for (p, what) in [
        (fifo.as_path(), "a FIFO"),
        (Path::new("/dev/zero"), "a device"),
        (d.path(), "a directory"),
    ] {
        let err = read_input(p, Input::Document).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{p:?}: {err}");
        assert!(err.to_string().starts_with(what), "{err}");
    }
}

#[test]
fn an_input_over_its_limit_is_refused_unread_and_one_at_it_is_read() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("big");
    for (kind, max) in [
        (Input::Document, 16 << 20),
        (Input::Key, 1 << 20),
        (Input::Password, 64 << 10),
    ] {
        let f = fs::File::create(&p).unwrap();
        f.set_len(max + 1).unwrap();
        let err = read_input(&p, kind).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::FileTooLarge, "{err}");
        assert!(err.to_string().contains("the most pki reads"), "{err}");
        f.set_len(max).unwrap();
        assert_eq!(read_input(&p, kind).unwrap().len() as u64, max);
    }
    fs::write(&p, b"abc").unwrap();
    assert_eq!(&read_input(&p, Input::Password).unwrap()[..], b"abc");
}

fn mode(p: &Path) -> u32 {
    fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
}

#[test]
fn atomic_write_modes_ignore_the_umask_and_leave_no_temp() {
    let d = tempfile::tempdir().unwrap();
    let dir = Dir::open(d.path()).unwrap();
    dir.write_atomic("k", b"secret", 0o600, false).unwrap();
    dir.write_atomic("c", b"cert", 0o644, false).unwrap();
    assert_eq!(mode(&d.path().join("k")), 0o600);
    assert_eq!(mode(&d.path().join("c")), 0o644);
    let e = dir.write_atomic("k", b"other", 0o600, false).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
    assert_eq!(fs::read(d.path().join("k")).unwrap(), b"secret");
    dir.write_atomic("k", b"other", 0o600, true).unwrap();
    assert_eq!(fs::read(d.path().join("k")).unwrap(), b"other");
    let mut names = dir.names().unwrap();
    names.sort();
    assert_eq!(names, ["c", "k"]);
}

#[test]
fn a_file_taken_away_comes_back_when_the_commit_fails() {
    let d = tempfile::tempdir().unwrap();
    let dir = Dir::open(d.path()).unwrap();
    dir.write_atomic("k.uri", b"pkcs11:", 0o600, false).unwrap();
    let mut t = Transaction::default();
    t.add(dir.stage("k.pem", b"key", 0o600).unwrap());
    t.remove(&dir, "k.uri");
    t.remove(&dir, "absent");
    let failed = t.commit_then(true, || Err::<(), _>("the register"));
    assert!(matches!(failed, Err(Failed::Then("the register"))));
    assert_eq!(dir.names().unwrap(), ["k.uri"]);
    let mut t = Transaction::default();
    t.add(dir.stage("k.pem", b"key", 0o600).unwrap());
    t.remove(&dir, "k.uri");
    t.commit(true).unwrap();
    assert_eq!(dir.names().unwrap(), ["k.pem"]);
}

#[test]
fn a_planted_link_is_replaced_not_followed() {
    let d = tempfile::tempdir().unwrap();
    let victim = d.path().join("victim");
    fs::write(&victim, b"host file").unwrap();
    fs::set_permissions(&victim, fs::Permissions::from_mode(0o600)).unwrap();
    let sub = d.path().join("sub");
    fs::create_dir(&sub).unwrap();
    symlink(&victim, sub.join("anchor.crt")).unwrap();
    let dir = Dir::open(&sub).unwrap();
    dir.write_atomic("anchor.crt", b"ca", 0o644, true).unwrap();
    assert_eq!(fs::read(&victim).unwrap(), b"host file");
    assert_eq!(mode(&victim), 0o600);
    assert!(
        !fs::symlink_metadata(sub.join("anchor.crt"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn a_failed_transaction_puts_back_what_it_replaced() {
    let d = tempfile::tempdir().unwrap();
    let dir = Dir::open(d.path()).unwrap();
    dir.write_atomic("a", b"old a", 0o644, false).unwrap();
    dir.write_atomic("b", b"old b", 0o644, false).unwrap();
    let mut t = Transaction::default();
    t.add(dir.stage("a", b"new a", 0o644).unwrap());
    t.add(dir.stage("b", b"new b", 0o644).unwrap());
    // Without overwrite, the first target exists: nothing changes.
    assert!(t.commit(false).is_err());
    assert_eq!(fs::read(d.path().join("a")).unwrap(), b"old a");
    let mut t = Transaction::default();
    t.add(dir.stage("new", b"n", 0o644).unwrap());
    t.add(dir.stage("b", b"new b", 0o644).unwrap());
    assert!(t.commit(false).is_err());
    assert!(
        !d.path().join("new").exists(),
        "the placed file is removed again"
    );
    let mut names = dir.names().unwrap();
    names.sort();
    assert_eq!(names, ["a", "b"]);
}

#[test]
fn create_new_never_follows_a_link_nor_replaces_a_file() {
    let d = tempfile::tempdir().unwrap();
    let victim = d.path().join("victim");
    fs::write(&victim, b"host").unwrap();
    symlink(&victim, d.path().join("key.pem")).unwrap();
    assert!(create_new(&d.path().join("key.pem"), b"k", 0o600).is_err());
    assert_eq!(fs::read(&victim).unwrap(), b"host");
    let e = create_new(&victim, b"k", 0o600).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
    create_new(&d.path().join("new"), b"k", 0o640).unwrap();
    assert_eq!(mode(&d.path().join("new")), 0o640);
}

#[test]
fn stale_temps_are_removed_fresh_ones_kept() {
    let d = tempfile::tempdir().unwrap();
    let dir = Dir::open(d.path()).unwrap();
    let stale = d.path().join(".pki-tmp-dead");
    fs::write(&stale, b"key").unwrap();
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(old)
        .unwrap();
    fs::write(d.path().join(".pki-tmp-live"), b"key").unwrap();
    fs::write(d.path().join("keep"), b"x").unwrap();
    assert_eq!(dir.remove_stale_temps().unwrap(), 1);
    assert!(!stale.exists());
    assert!(d.path().join(".pki-tmp-live").exists());
}

#[test]
fn subdir_refuses_links_and_creates_with_the_mode_asked() {
    let d = tempfile::tempdir().unwrap();
    let dir = Dir::open(d.path()).unwrap();
    let p = dir.subdir("private", Some(0o700)).unwrap();
    assert_eq!(mode(p.path()), 0o700);
    let elsewhere = tempfile::tempdir().unwrap();
    symlink(elsewhere.path(), d.path().join("link")).unwrap();
    let err = dir.subdir("link", Some(0o700)).unwrap_err();
    assert!(err.to_string().contains("symbolic link"), "{err}");
}

#[test]
fn links_are_made_read_and_replaced_through_the_directory_never_followed() {
    let d = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim");
    fs::write(&victim, b"host file").unwrap();
    fs::set_permissions(&victim, fs::Permissions::from_mode(0o600)).unwrap();
    let dir = Dir::open(d.path()).unwrap();
    dir.symlink(Path::new("/usr/share/x.crt"), "x.pem").unwrap();
    assert!(dir.is_link("x.pem"));
    assert_eq!(
        dir.read_link("x.pem").unwrap(),
        Path::new("/usr/share/x.crt")
    );
    // A link to a host file is replaced, not followed; so is a regular file.
    symlink(&victim, d.path().join("v")).unwrap();
    dir.symlink(Path::new("new"), "v").unwrap();
    assert_eq!(dir.read_link("v").unwrap(), Path::new("new"));
    assert_eq!(fs::read(&victim).unwrap(), b"host file");
    assert_eq!(mode(&victim), 0o600);
    fs::write(d.path().join("f"), b"data").unwrap();
    dir.symlink(Path::new("t"), "f").unwrap();
    assert!(dir.is_link("f"));
    // A directory is not replaced.
    fs::create_dir(d.path().join("sub")).unwrap();
    assert!(dir.symlink(Path::new("t"), "sub").is_err());
    assert!(d.path().join("sub").is_dir());
    let mut names = dir.names().unwrap();
    names.sort();
    assert_eq!(names, ["f", "sub", "v", "x.pem"], "no temporary is left");
    assert!(dir.read_link("../x").is_err());
    // remove_dir: an empty directory; a link to one is not followed; missing is fine.
    fs::create_dir(outside.path().join("hostdir")).unwrap();
    symlink(outside.path().join("hostdir"), d.path().join("dl")).unwrap();
    assert!(dir.remove_dir("dl").is_err());
    assert!(outside.path().join("hostdir").is_dir());
    dir.remove_dir("sub").unwrap();
    dir.remove_dir("sub").unwrap();
    assert!(!d.path().join("sub").exists());
}

#[test]
fn refused_reads_say_why_by_their_kind() {
    let d = tempfile::tempdir().unwrap();
    let dir = Dir::open(d.path()).unwrap();
    fs::create_dir(d.path().join("sub")).unwrap();
    fs::write(d.path().join("big"), b"0123456789A").unwrap();
    let err = dir.read_bounded("sub", 100).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
    assert!(err.to_string().contains("not a regular file"), "{err}");
    let err = dir.read_bounded("big", 10).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::FileTooLarge, "{err}");
    assert_eq!(dir.read_bounded("big", 11).unwrap(), b"0123456789A");
}

#[test]
fn root_resolution_never_leaves_the_root() {
    let host = tempfile::tempdir().unwrap();
    let img = tempfile::tempdir().unwrap();
    let hostdir = host.path().join("hostdir");
    fs::create_dir(&hostdir).unwrap();
    fs::write(hostdir.join("bundle"), b"HOST").unwrap();
    fs::create_dir_all(img.path().join("etc/ssl")).unwrap();
    fs::create_dir_all(img.path().join("usr/local/share")).unwrap();
    // An absolute link to a host directory, and a relative one climbing out.
    symlink(&hostdir, img.path().join("etc/ssl/certs")).unwrap();
    symlink(
        "../../../../../../..",
        img.path().join("usr/local/share/ca-certificates"),
    )
    .unwrap();
    let root = Root::open(img.path()).unwrap();
    // /etc/ssl/certs -> <hostdir> resolves to IMG<hostdir>, which does not exist.
    assert!(
        root.read_bounded(Path::new("/etc/ssl/certs/bundle"), 100)
            .is_err()
    );
    let (d, name) = root
        .parent_of(Path::new("/etc/ssl/certs/bundle"), Some(0o755))
        .unwrap();
    d.write_atomic(&name, b"IMAGE", 0o644, true).unwrap();
    assert_eq!(fs::read(hostdir.join("bundle")).unwrap(), b"HOST");
    let inside = img
        .path()
        .join(hostdir.strip_prefix("/").unwrap())
        .join("bundle");
    assert_eq!(fs::read(inside).unwrap(), b"IMAGE");
    // ../../.. from the image's /usr/local/share is the image's root.
    let d = root
        .dir(Path::new("/usr/local/share/ca-certificates"), None)
        .unwrap();
    assert!(d.path().starts_with(img.path()));
    d.write_atomic("x.crt", b"CA", 0o644, false).unwrap();
    assert!(img.path().join("x.crt").exists());
    // A bundle that is a device is not read.
    symlink("/dev/zero", img.path().join("zero")).unwrap();
    fs::create_dir_all(img.path().join("dev")).unwrap();
    assert!(root.read_bounded(Path::new("/zero"), 100).is_err());
}
