//! `pki install-ca --os-store --root IMG` against hostile device images.
//!
//! Issue 9: a device image is input. Every path under --root is resolved inside the image, the
//! image's bundle is built by pki itself (no tool of this machine reads the image's
//! configuration, nothing of the image runs), reads are bounded, children get a clean
//! environment, and nothing a certificate says can start a line of pki's output.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::s;
use crate::support::image::{
    BUNDLE, LOCAL, UPDATE_CA_CERTIFICATES, bundle_fingerprints, debian_root,
    give_the_image_a_shell, in_image, links, real_update_ca_certificates, snapshot,
};
use crate::support::programs;
use crate::support::quickstart::{ROOT as ROOT_CA, gateway_pki};
use crate::support::{
    Run, assert_root, openssl, openssl_ca, pki, pki_in_shell, refused_in_one_line, run_bounded,
    sha256_fingerprint as fingerprint, testdata, tmp, tree,
};

/// `pki ARGS` with its address space capped (1 GiB) and a deadline (60 s): a read without
/// bound ends in a failed allocation or a kill, never in a hung or swapping machine. A kill is
/// exit code -1.
fn pki_bounded(cwd: &Path, args: &[&str]) -> Run {
    let cmd = pki_in_shell(cwd, "ulimit -v 1048576", args);
    run_bounded(cmd, b"", std::time::Duration::from_secs(60)).unwrap_or(Run {
        code: -1,
        stdout: String::new(),
        stderr: format!("pki {args:?} still ran after 60 s"),
    })
}

#[test]
fn an_anchor_directory_linked_to_this_machine_is_resolved_inside_the_image() {
    let d = gateway_pki();
    let p = d.path();
    let img = debian_root(p, None);
    let host = tmp();
    let hostdir = host.path().join("anchors");
    std::fs::create_dir(&hostdir).unwrap();
    std::fs::remove_dir(img.join(LOCAL)).unwrap();
    std::os::unix::fs::symlink(&hostdir, img.join(LOCAL)).unwrap();
    let r = pki(p, &["install-ca", ROOT_CA, "--os-store", "--root", s(&img)]);
    assert_eq!(
        tree(&hostdir),
        Vec::<String>::new(),
        "a file was written on this machine, outside the image: {}{}",
        r.stdout,
        r.stderr
    );
    let r = r.expect(0);
    // The image's link names a directory of the image (its /tmp/...): that is where it went.
    let inside = in_image(&img, &hostdir);
    let files = tree(&inside);
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(
        files[0].starts_with("pki-") && files[0].ends_with(".crt"),
        "{files:?}"
    );
    assert!(r.stdout.starts_with("installed CN="), "{}", r.stdout);
    assert_eq!(
        bundle_fingerprints(p, &img.join(BUNDLE)),
        [fingerprint(p, ROOT_CA)]
    );
}

#[test]
fn a_certs_directory_linked_to_this_machine_leaves_this_machines_bundle_alone() {
    let d = gateway_pki();
    let p = d.path();
    let img = debian_root(p, None);
    let other = tmp();
    pki(other.path(), &["create-owner-ca", "--cn", "Host Root"]).expect(0);
    let host = tmp();
    let hostcerts = host.path().join("certs");
    std::fs::create_dir(&hostcerts).unwrap();
    std::fs::copy(
        other.path().join(ROOT_CA),
        hostcerts.join("ca-certificates.crt"),
    )
    .unwrap();
    std::os::unix::fs::symlink("ca-certificates.crt", hostcerts.join("host.pem")).unwrap();
    let before = snapshot(&hostcerts);
    std::fs::remove_dir(img.join("etc/ssl/certs")).unwrap();
    std::os::unix::fs::symlink(&hostcerts, img.join("etc/ssl/certs")).unwrap();
    let r = pki(p, &["install-ca", ROOT_CA, "--os-store", "--root", s(&img)]);
    assert_eq!(
        snapshot(&hostcerts),
        before,
        "this machine's bundle was changed: {}{}",
        r.stdout,
        r.stderr
    );
    r.expect(0);
    let bundle = in_image(&img, &hostcerts).join("ca-certificates.crt");
    assert_eq!(bundle_fingerprints(p, &bundle), [fingerprint(p, ROOT_CA)]);
    // uninstall-ca too: this machine's bundle stays as it was.
    pki(
        p,
        &["uninstall-ca", ROOT_CA, "--os-store", "--root", s(&img)],
    )
    .expect(0);
    assert_eq!(snapshot(&hostcerts), before);
    assert_eq!(bundle_fingerprints(p, &bundle), Vec::<String>::new());
}

#[test]
fn ca_certificates_conf_cannot_name_files_of_this_machine() {
    let d = gateway_pki();
    let p = d.path();
    let img = debian_root(p, None);
    // A CA certificate of this machine, readable by root only.
    let host = tmp();
    let secret = host.path().join("secret.crt");
    let other = tmp();
    pki(
        other.path(),
        &["create-owner-ca", "--cn", "Host Secret Root"],
    )
    .expect(0);
    std::fs::copy(other.path().join(ROOT_CA), &secret).unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let secret_fp = fingerprint(p, s(&secret));
    let climb = "../".repeat(16);
    std::fs::write(
        img.join("etc/ca-certificates.conf"),
        format!("{climb}{}\n", secret.strip_prefix("/").unwrap().display()),
    )
    .unwrap();
    let r = pki(p, &["install-ca", ROOT_CA, "--os-store", "--root", s(&img)]).expect(0);
    let fps = bundle_fingerprints(p, &img.join(BUNDLE));
    assert!(
        !fps.contains(&secret_fp),
        "a file of this machine named by the image's configuration went into its bundle: {}",
        r.stderr
    );
    assert_eq!(fps, [fingerprint(p, ROOT_CA)]);
    // Inside the image the entry names the image's own /tmp/...: missing, and said so.
    assert!(r.stderr.contains("not found"), "{}", r.stderr);
    assert_eq!(
        std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(
        !tree(&img.join("etc/ssl/certs"))
            .iter()
            .any(|f| f.starts_with("secret")),
        "{:?}",
        tree(&img.join("etc/ssl/certs"))
    );
}

#[test]
fn links_planted_at_temporary_names_are_never_followed() {
    let d = gateway_pki();
    let p = d.path();
    let img = debian_root(p, None);
    let host = tmp();
    let victim = host.path().join("victim");
    std::fs::write(&victim, "this machine's file\n").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).unwrap();
    // pki's pid is the shell's ($$, kept by exec): the names pki 0.1 used for its temporaries.
    let script = format!(
        "for f in {local}/.pki-planted.crt.pki-tmp-$$ {certs}/.ca-certificates.crt.pki-tmp-$$; do {ln} -s {victim} \"$f\" || exit 99; done; exec {bin} install-ca {ca} --name planted --os-store --root {img}",
        ln = programs::path("ln").display(),
        local = s(&img.join(LOCAL)),
        certs = s(&img.join("etc/ssl/certs")),
        victim = s(&victim),
        bin = env!("CARGO_BIN_EXE_pki"),
        ca = ROOT_CA,
        img = s(&img),
    );
    let out = programs::command("sh")
        .args(["-c", &script])
        .current_dir(p)
        .env_remove("PKI_DIR")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "this machine's file\n",
        "{stderr}"
    );
    assert_eq!(
        std::fs::metadata(&victim).unwrap().permissions().mode() & 0o777,
        0o600,
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let anchor = img.join(LOCAL).join("pki-planted.crt");
    let m = std::fs::symlink_metadata(&anchor).unwrap();
    assert!(m.is_file(), "the anchor is not a regular file: {m:?}");
    assert_eq!(m.permissions().mode() & 0o777, 0o644);
    assert_eq!(fingerprint(p, s(&anchor)), fingerprint(p, ROOT_CA));
}

#[test]
fn other_families_under_root_never_run_the_images_programs() {
    assert_root("the image's tool would run as root through chroot");
    let d = gateway_pki();
    let p = d.path();
    let img = p.join("fedora");
    std::fs::create_dir_all(img.join("etc")).unwrap();
    std::fs::copy(testdata("os-release/fedora"), img.join("etc/os-release")).unwrap();
    give_the_image_a_shell(&img);
    let tool = img.join("usr/bin/update-ca-trust");
    std::fs::create_dir_all(tool.parent().unwrap()).unwrap();
    std::fs::write(&tool, "#!/bin/sh\necho \"$@\" > /ran-by-pki\n").unwrap();
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    // The image's program can run (the peer works): chroot runs it when asked to.
    let probe = programs::command("chroot")
        .args([s(&img), "/bin/sh", "-c", "echo ok"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&probe.stdout).trim(),
        "ok",
        "the image's shell does not run: {}",
        String::from_utf8_lossy(&probe.stderr)
    );
    let r = pki(
        p,
        &[
            "--json",
            "install-ca",
            ROOT_CA,
            "--os-store",
            "--root",
            s(&img),
        ],
    );
    assert!(
        !img.join("ran-by-pki").exists(),
        "pki ran the image's own program: {}{}",
        r.stdout,
        r.stderr
    );
    let j = r.expect(0).json();
    assert_eq!(j["status"], "refresh_pending", "{j}");
    assert!(j["confirm"].is_null());
    let anchor = j["file"].as_str().unwrap();
    assert!(
        anchor.starts_with(&format!("{}/etc/pki/ca-trust/source/anchors/pki-", s(&img))),
        "{anchor}"
    );
    assert_eq!(fingerprint(p, anchor), fingerprint(p, ROOT_CA));
    let notes = j["notes"].to_string();
    assert!(
        notes.contains("/usr/bin/update-ca-trust extract") && notes.contains("inside the image"),
        "{notes}"
    );
    assert!(
        j["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["op"] != "run"),
        "{j}"
    );
}

#[test]
fn a_bundle_that_is_a_device_a_fifo_or_huge_is_refused_in_one_line() {
    assert_root("the image's /dev/zero is a device node");
    let d = gateway_pki();
    let p = d.path();
    let img = debian_root(p, None);
    let bundle = img.join(BUNDLE);
    std::fs::create_dir_all(img.join("dev")).unwrap();
    let st = programs::command("mknod")
        .args([s(&img.join("dev/zero")), "c", "1", "5"])
        .status()
        .unwrap();
    assert!(st.success(), "mknod");
    let root = s(&img).to_owned();
    let fp = fingerprint(p, ROOT_CA);
    let cases: Vec<Vec<&str>> = vec![
        vec![
            "install-ca",
            ROOT_CA,
            "--os-store",
            "--root",
            &root,
            "--dry-run",
        ],
        vec!["list-ca", "--all", "--os-store", "--root", &root],
        vec!["install-ca", ROOT_CA, "--os-store", "--root", &root],
        vec!["uninstall-ca", &fp, "--os-store", "--root", &root],
    ];
    let state = || {
        let m = std::fs::symlink_metadata(&bundle).ok();
        (
            tree(&img),
            snapshot(&img.join("usr")),
            m.map(|m| (format!("{:?}", m.file_type()), m.len())),
        )
    };
    // A link to the image's /dev/zero, a FIFO, a 65 MiB file.
    for (what, make) in [
        (
            "a link to a device",
            Box::new(|b: &Path| std::os::unix::fs::symlink("/dev/zero", b).unwrap())
                as Box<dyn Fn(&Path)>,
        ),
        (
            "a fifo",
            Box::new(|b: &Path| {
                assert!(
                    programs::command("mkfifo")
                        .arg(b)
                        .status()
                        .unwrap()
                        .success()
                )
            }),
        ),
        (
            "a huge file",
            Box::new(|b: &Path| std::fs::File::create(b).unwrap().set_len(65 << 20).unwrap()),
        ),
    ] {
        let _ = std::fs::remove_file(&bundle);
        make(&bundle);
        let says = if what == "a huge file" {
            "larger than"
        } else {
            "not a regular file"
        };
        for args in &cases {
            let before = state();
            let r = pki_bounded(p, args);
            refused_in_one_line(&r, args, says);
            assert!(
                r.stderr.contains("ca-certificates.crt"),
                "{what}: {}",
                r.stderr
            );
            assert_eq!(state(), before, "{what}: {args:?} changed the image");
        }
    }
}

#[test]
fn the_bundle_pki_builds_equals_what_update_ca_certificates_makes_of_the_same_image() {
    assert!(
        Path::new(UPDATE_CA_CERTIFICATES).is_file(),
        "Debian's {UPDATE_CA_CERTIFICATES} (package ca-certificates) is required: apt-get install -y ca-certificates"
    );
    let d = gateway_pki();
    let p = d.path();
    let img = debian_root(p, None);
    let moz = img.join("usr/share/ca-certificates/mozilla");
    std::fs::create_dir_all(&moz).unwrap();
    let cas = tmp();
    let c = cas.path();
    // Names that exercise OpenSSL's canonical form (case, runs of spaces, a multi-valued RDN,
    // UTF-8, an empty-ish value) and the tool's file name mangling (spaces, parentheses, comma).
    let make = |subj: &str, file: &str, extra: &[&str]| {
        let f = openssl_ca(c, subj, &format!("{file}.pem"), extra);
        std::fs::copy(&f, moz.join(file)).unwrap();
    };
    make(
        "/CN=  Mixed   CASE\tName  /O=Example",
        "Mixed_Case.crt",
        &[],
    );
    make(
        "/CN=Multi+OU=Valued/O=Örg Ünïcødé/C=DE",
        "Odd Name (Test), Inc.crt",
        &["-multivalue-rdn", "-utf8"],
    );
    make("/CN=Same Subject", "Same_A.crt", &[]);
    make("/CN=Same Subject", "Same_B.crt", &[]);
    make("/CN=Deselected", "Gone.crt", &[]);
    make(
        "/C=US/ST=Some State/L=Town/O=Org/OU=Unit/CN=Long Name",
        "Long.crt",
        &[],
    );
    // Other string types: T61String (Latin-1) and BMPString, as OpenSSL's default string mask
    // makes them; IA5String (an e-mail address) and PrintableString.
    let cnf = c.join("default-mask.cnf");
    std::fs::write(
        &cnf,
        "[req]\ndistinguished_name = dn\nstring_mask = default\n[dn]\n",
    )
    .unwrap();
    make(
        "/CN=Ünïcødé  T61  Name/O=Tëst",
        "T61.crt",
        &["-utf8", "-config", s(&cnf)],
    );
    make(
        "/CN=€uro 漢字  Name/O=Δ Test",
        "BMP.crt",
        &["-utf8", "-config", s(&cnf)],
    );
    make(
        "/emailAddress=Admin@Example.COM/serialNumber=12345/CN=x",
        "Email.crt",
        &[],
    );
    std::fs::write(
        img.join("etc/ca-certificates.conf"),
        "# the image's list\nmozilla/Mixed_Case.crt\nmozilla/Odd Name (Test), Inc.crt\nmozilla/Same_A.crt\nmozilla/Same_B.crt\n!mozilla/Gone.crt\nmozilla/Missing.crt\nmozilla/Long.crt\nmozilla/T61.crt\nmozilla/BMP.crt\nmozilla/Email.crt\n\n",
    )
    .unwrap();
    // Local certificates: one in a subdirectory, one a relative link to a listed one (the
    // same certificate twice), a file that is not .crt.
    let sub = img.join(LOCAL).join("site");
    std::fs::create_dir_all(&sub).unwrap();
    let f = openssl_ca(c, "/CN=Site Local/O=Local", "local.pem", &[]);
    std::fs::copy(&f, sub.join("Site_Local.crt")).unwrap();
    std::os::unix::fs::symlink(
        "../../../share/ca-certificates/mozilla/Long.crt",
        img.join(LOCAL).join("Long_Again.crt"),
    )
    .unwrap();
    std::fs::write(img.join(LOCAL).join("README.txt"), "not a certificate\n").unwrap();
    // The same image, twice.
    let copy_dir = tmp();
    let copy = copy_dir.path().join("img");
    assert!(
        programs::command("cp")
            .args(["-a", s(&img), s(&copy)])
            .status()
            .unwrap()
            .success()
    );
    let hooks = tmp();

    // pki installs into one; the real tool runs on the other with the same anchor.
    let j = pki(
        p,
        &[
            "--json",
            "install-ca",
            ROOT_CA,
            "--os-store",
            "--root",
            s(&img),
        ],
    )
    .expect(0)
    .json();
    assert_eq!(j["status"], "installed", "{j}");
    let anchor = PathBuf::from(j["file"].as_str().unwrap());
    std::fs::copy(&anchor, copy.join(LOCAL).join(anchor.file_name().unwrap())).unwrap();
    real_update_ca_certificates(&copy, hooks.path(), false);
    let compare = |when: &str| {
        let mut ours = bundle_fingerprints(p, &img.join(BUNDLE));
        let mut theirs = bundle_fingerprints(p, &copy.join(BUNDLE));
        ours.sort();
        theirs.sort();
        assert_eq!(ours, theirs, "{when}: the bundles differ");
        assert_eq!(
            links(&img.join("etc/ssl/certs"), &img),
            links(&copy.join("etc/ssl/certs"), &copy),
            "{when}: the links differ"
        );
        ours
    };
    let fps = compare("install");
    assert_eq!(fps.len(), 11, "{fps:?}");
    assert!(fps.contains(&fingerprint(p, ROOT_CA)));
    // The hash links are OpenSSL's: `openssl x509 -hash` of each names one.
    let certs = links(&img.join("etc/ssl/certs"), &img);
    for f in [
        "Mixed_Case.crt.pem",
        "Odd Name (Test), Inc.crt.pem",
        "Long.crt.pem",
        "local.pem",
        "T61.crt.pem",
        "BMP.crt.pem",
        "Email.crt.pem",
    ] {
        let h = openssl(c, &["x509", "-in", f, "-noout", "-hash"])
            .expect(0)
            .stdout
            .trim()
            .to_owned();
        assert!(
            certs.iter().any(|(n, _)| *n == format!("{h}.0")),
            "{f}: no {h}.0 in {certs:?}"
        );
    }
    let h = openssl(c, &["x509", "-in", "Same_A.crt.pem", "-noout", "-hash"])
        .expect(0)
        .stdout
        .trim()
        .to_owned();
    assert!(
        certs.contains(&(format!("{h}.1"), "Same_B.pem".to_owned())),
        "{certs:?}"
    );

    // Uninstall: the same again (the real tool with --fresh, as pki plans it on this machine).
    // The links that stay are left alone, not made again.
    let inode = |name: &str| {
        use std::os::unix::fs::MetadataExt;
        std::fs::symlink_metadata(img.join("etc/ssl/certs").join(name))
            .unwrap()
            .ino()
    };
    let kept = (inode("Long.pem"), inode(&format!("{h}.1")));
    pki(
        p,
        &["uninstall-ca", ROOT_CA, "--os-store", "--root", s(&img)],
    )
    .expect(0);
    assert_eq!((inode("Long.pem"), inode(&format!("{h}.1"))), kept);
    std::fs::remove_file(copy.join(LOCAL).join(anchor.file_name().unwrap())).unwrap();
    real_update_ca_certificates(&copy, hooks.path(), true);
    let fps = compare("uninstall");
    assert_eq!(fps.len(), 10, "{fps:?}");
}

#[test]
fn refresh_tools_on_this_machine_run_with_a_clean_environment() {
    assert_root("this machine's store, in a private mount namespace");
    assert!(
        Path::new(UPDATE_CA_CERTIFICATES).is_file(),
        "Debian's {UPDATE_CA_CERTIFICATES} (package ca-certificates) is required"
    );
    let d = gateway_pki();
    let p = d.path();
    // This machine's store as the tool sees it, with copies of its writable directories bound
    // over them in a private mount namespace (the real ones are never touched), and a hook that
    // records the environment update-ca-certificates (and so pki) gave it.
    let t = tmp();
    let copies = t.path();
    let record = copies.join("env");
    std::fs::create_dir(&record).unwrap();
    let hooks = copies.join("hooks");
    std::fs::create_dir(&hooks).unwrap();
    let hook = hooks.join("record-env");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\n{} > {}/env-$$\n{} > /dev/null\n",
            s(&programs::path("env")),
            s(&record),
            s(&programs::path("cat"))
        ),
    )
    .unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let real_local = tree(Path::new("/usr/local/share/ca-certificates"));
    let real_certs = tree(Path::new("/etc/ssl/certs"));
    let mount = programs::path("mount");
    let mut binds = String::new();
    for (dir, name) in [
        ("/etc/ssl/certs", "certs"),
        ("/usr/local/share/ca-certificates", "local"),
    ] {
        let c = copies.join(name);
        assert!(
            programs::command("cp")
                .args(["-a", dir, s(&c)])
                .status()
                .unwrap()
                .success()
        );
        binds += &format!("{} --bind {} {dir} && ", s(&mount), s(&c));
    }
    binds += &format!(
        "{} --bind {} /etc/ca-certificates/update.d && ",
        s(&mount),
        s(&hooks)
    );
    let bin = env!("CARGO_BIN_EXE_pki");
    let script = format!(
        "{binds}{bin} install-ca {ca} --os-store && {bin} uninstall-ca {ca} --os-store",
        ca = ROOT_CA
    );
    let out = programs::command("unshare")
        .arg("-m")
        .arg(programs::path("sh"))
        .args(["-c", &script])
        .current_dir(p)
        .env("PKI_KEY_PASSWORD", "key-secret-1234")
        .env("C8Y_PASSWORD", "tenant-secret-5678")
        .env("PKI_DIR", p)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !(stderr.contains("unshare:") || stderr.contains("mount:")),
        "no private mount namespace: {stderr}"
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("installed CN="), "{stdout}");
    assert!(stdout.contains("removed CN="), "{stdout}");
    assert_eq!(
        tree(Path::new("/usr/local/share/ca-certificates")),
        real_local,
        "this machine's store was touched"
    );
    assert_eq!(
        tree(Path::new("/etc/ssl/certs")),
        real_certs,
        "this machine's store was touched"
    );
    let envs = tree(&record);
    assert_eq!(envs.len(), 2, "the hook ran once per refresh: {envs:?}");
    for e in envs {
        let text = std::fs::read_to_string(record.join(&e)).unwrap();
        for secret in [
            "key-secret-1234",
            "tenant-secret-5678",
            "PKI_KEY_PASSWORD",
            "C8Y_PASSWORD",
            "PKI_DIR",
        ] {
            assert!(
                !text.contains(secret),
                "the refresh tool's environment holds {secret}:\n{text}"
            );
        }
        assert!(
            text.lines()
                .any(|l| l == "PATH=/usr/sbin:/usr/bin:/sbin:/bin"),
            "{text}"
        );
    }
}

#[test]
fn control_characters_in_a_subject_never_start_a_line() {
    let d = gateway_pki();
    let p = d.path();
    let img = debian_root(p, None);
    let evil = openssl_ca(
        p,
        "/CN=Evil\u{1b}[2J\u{7}\r\nFAKE: installed",
        "evil.pem",
        &[],
    );
    let root = s(&img).to_owned();
    let check = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--os-store", "--root", &root]);
        let r = pki(p, &all).expect(0);
        for c in ['\u{1b}', '\u{7}', '\r'] {
            assert!(!r.stdout.contains(c), "{args:?}: {c:?} in {:?}", r.stdout);
        }
        assert!(
            !r.stdout.lines().any(|l| l.starts_with("FAKE")),
            "{args:?}: the subject started a line:\n{}",
            r.stdout
        );
        assert!(
            r.stdout.contains("Evil\\x1b[2J\\x07\\x0d\\x0aFAKE"),
            "{args:?}: {}",
            r.stdout
        );
    };
    check(&["install-ca", s(&evil), "--dry-run"]);
    check(&["install-ca", s(&evil)]);
    check(&["list-ca"]);
    check(&["list-ca", "--all"]);
    check(&["install-ca", s(&evil)]);
    check(&["uninstall-ca", s(&evil), "--dry-run"]);
    check(&["uninstall-ca", s(&evil)]);
}
