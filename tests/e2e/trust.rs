//! `pki install-ca / uninstall-ca / list-ca --os-store`: Debian's own update-ca-certificates run
//! for real against a temporary device root (`--root`), proved with real clients (`openssl
//! s_client -CAfile` on the bundle it generated, `pki verify --os-store` with SSL_CERT_FILE on
//! it) against `openssl s_server` serving a pki chain; the exact plan for every other system
//! from its os-release; and each failure leaving the store as it was.

// Every test here drives the Linux store (update-ca-certificates, file modes, links, root):
// Windows's store is a later issue with tests of its own.
#![cfg(unix)]

mod hostile_image;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::support::image::{
    BUNDLE, LOCAL, UPDATE_CA_CERTIFICATES, bundle_fingerprints, debian_root, snapshot,
};
use crate::support::programs;
use crate::support::quickstart::{ROOT as ROOT_CA, SERVER, SERVER_FULL, SERVER_KEY, gateway_pki};
use crate::support::{
    OpensslServer, Run, Server, is_root, openssl, pki, pki_env, s_client,
    sha256_fingerprint as fingerprint, testdata, tmp, tree,
};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `s_client` as a device: trust `ca`, check the name localhost; (exit code, verify code).
fn device_s_client(dir: &Path, port: u16, ca: &Path) -> (i32, Option<i32>) {
    let r = s_client(dir, port)
        .ca_file(ca)
        .verify_return_error()
        .servername("localhost")
        .verify_hostname("localhost")
        .run();
    (r.code, r.verify_code)
}

/// `pki verify localhost:PORT --os-store` with the OS store pointed at `bundle`.
fn verify_os_store(dir: &Path, port: u16, bundle: &Path) -> Run {
    pki_env(
        dir,
        &[
            "verify",
            &format!("127.0.0.1:{port}"),
            "--servername",
            "localhost",
            "--os-store",
        ],
        &[
            ("SSL_CERT_FILE", s(bundle)),
            ("SSL_CERT_DIR", "/nonexistent-pki-test"),
        ],
    )
}

#[test]
fn debian_install_for_real_then_openssl_and_pki_verify_trust_it_and_uninstall_undoes_it() {
    assert!(
        Path::new(UPDATE_CA_CERTIFICATES).is_file(),
        "Debian's {UPDATE_CA_CERTIFICATES} (package ca-certificates) is required: apt-get install -y ca-certificates"
    );
    let d = gateway_pki();
    let p = d.path();
    // Another CA in the image's own list.
    let other = tmp();
    pki(other.path(), &["create-owner-ca", "--cn", "Other Root"]).expect(0);
    let other_ca = other.path().join(ROOT_CA);
    let img = debian_root(p, Some(&other_ca));
    let bundle = img.join(BUNDLE);
    let root_fp = fingerprint(p, ROOT_CA);
    let other_fp = fingerprint(p, s(&other_ca));
    let server = OpensslServer::start(p, SERVER, SERVER_KEY, Some(SERVER_FULL), &[]);
    let store = ["--os-store", "--root", s(&img)];
    let with = |cmd: &[&str]| -> Vec<String> {
        cmd.iter()
            .chain(store.iter())
            .map(|s| (*s).to_owned())
            .collect()
    };
    let run = |args: Vec<String>| pki(p, &args.iter().map(String::as_str).collect::<Vec<_>>());

    // --dry-run prints the exact steps and changes nothing. pki builds the image's bundle
    // itself (as update-ca-certificates does; the equivalence test below compares the two):
    // no tool of this machine reads the image, nothing of the image runs.
    let before = snapshot(&img);
    let r = run(with(&["install-ca", ROOT_CA, "--dry-run"])).expect(0);
    assert!(
        r.stdout.starts_with("dry run: would install CN="),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(&format!(
            "build {0}/{BUNDLE} and its links in pki from the image's /etc/ca-certificates.conf, /usr/share/ca-certificates and /usr/local/share/ca-certificates, as update-ca-certificates --fresh does (every path resolved inside {0}; nothing of the image runs)",
            img.display()
        )),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains(UPDATE_CA_CERTIFICATES), "{}", r.stdout);
    assert!(
        r.stdout.contains(&format!(
            "then: check that {} holds its SHA-256",
            bundle.display()
        )),
        "{}",
        r.stdout
    );
    assert_eq!(snapshot(&img), before, "--dry-run changed the root");

    // Install: Debian's own tool runs against the root; the bundle holds the CA.
    let r = run(with(&["install-ca", ROOT_CA])).expect(0);
    assert!(r.stdout.starts_with("installed CN="), "{}", r.stdout);
    assert!(
        r.stdout
            .contains(&format!("confirmed: {} holds it", bundle.display())),
        "{}",
        r.stdout
    );
    let installed: Vec<PathBuf> = std::fs::read_dir(img.join(LOCAL))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(installed.len(), 1, "{installed:?}");
    let file = &installed[0];
    let name = file.file_name().unwrap().to_str().unwrap().to_owned();
    assert!(name.starts_with("pki-") && name.ends_with(".crt"), "{name}");
    assert_eq!(
        std::fs::metadata(file).unwrap().permissions().mode() & 0o777,
        0o644
    );
    assert!(
        r.stdout
            .contains(&format!("NODE_EXTRA_CA_CERTS=/{LOCAL}/{name}")),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("trust_bundle_cert"), "{}", r.stdout);
    let mut fps = bundle_fingerprints(p, &bundle);
    fps.sort();
    let mut want = vec![root_fp.clone(), other_fp.clone()];
    want.sort();
    assert_eq!(
        fps, want,
        "the bundle holds the installed CA and the image's own"
    );
    // The link in /etc/ssl/certs names the file as the booted image sees it, not the mount.
    let stem = name.trim_end_matches(".crt");
    let link = std::fs::read_link(img.join("etc/ssl/certs").join(format!("{stem}.pem"))).unwrap();
    assert_eq!(link, Path::new("/").join(LOCAL).join(&name));
    let hash = openssl(p, &["x509", "-in", ROOT_CA, "-noout", "-subject_hash"])
        .expect(0)
        .stdout
        .trim()
        .to_owned();
    assert_eq!(
        std::fs::read_link(img.join("etc/ssl/certs").join(format!("{hash}.0"))).unwrap(),
        Path::new(&format!("{stem}.pem"))
    );

    // Real clients through the generated bundle.
    assert_eq!(device_s_client(p, server.port(), &bundle), (0, Some(0)));
    let r = verify_os_store(p, server.port(), &bundle);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("verified OK"), "{}", r.stdout);

    // list-ca: what pki installed; --all: the whole bundle.
    let r = run(with(&["list-ca"])).expect(0);
    assert!(
        r.stdout.starts_with("1 certificate(s) installed by pki"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(&root_fp) && r.stdout.contains("CN=") && r.stdout.contains("expires 20"),
        "{}",
        r.stdout
    );
    let j = run(with(&["--json", "list-ca"])).expect(0).json();
    assert_eq!(j["certificates"][0]["sha256"], root_fp.as_str());
    assert_eq!(j["certificates"][0]["file"], s(file));
    let j = run(with(&["--json", "list-ca", "--all"])).expect(0).json();
    let all = j["certificates"].as_array().unwrap();
    assert_eq!(all.len(), 2);
    assert!(
        all.iter()
            .any(|c| c["sha256"] == other_fp.as_str() && c["file"].is_null())
    );

    // Idempotent: a second install says so and changes nothing, under any name.
    let installed_state = snapshot(&img);
    for extra in [&[][..], &["--name", "another-name"][..]] {
        let mut args = vec!["install-ca", ROOT_CA];
        args.extend_from_slice(extra);
        let r = run(with(&args)).expect(0);
        assert!(r.stdout.starts_with("already installed:"), "{}", r.stdout);
        assert_eq!(snapshot(&img), installed_state);
    }
    let j = run(with(&["--json", "install-ca", ROOT_CA]))
        .expect(0)
        .json();
    assert_eq!(j["status"], "already_installed");

    // Uninstall: --dry-run first, then for real; exactly that certificate leaves the bundle.
    let r = run(with(&["uninstall-ca", ROOT_CA, "--dry-run"])).expect(0);
    assert!(
        r.stdout.contains(&format!("rm -f {}", file.display())),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(&format!(
            "build {}/{BUNDLE} and its links in pki",
            img.display()
        )),
        "{}",
        r.stdout
    );
    assert_eq!(snapshot(&img), installed_state);
    let r = run(with(&["uninstall-ca", ROOT_CA])).expect(0);
    assert!(r.stdout.starts_with("removed CN="), "{}", r.stdout);
    assert!(!file.exists());
    assert_eq!(bundle_fingerprints(p, &bundle), [other_fp.as_str()]);
    assert!(
        !tree(&img.join("etc/ssl/certs"))
            .iter()
            .any(|f| f.starts_with("pki-") || f.starts_with(&hash)),
        "{:?}",
        tree(&img)
    );
    let (code, verify) = device_s_client(p, server.port(), &bundle);
    assert_ne!(code, 0);
    assert!(matches!(verify, Some(19 | 20)), "{verify:?}");
    let r = verify_os_store(p, server.port(), &bundle);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    // Again, by fingerprint: nothing to remove.
    let r = run(with(&["uninstall-ca", &root_fp])).expect(0);
    assert!(
        r.stdout.starts_with("not installed by pki:"),
        "{}",
        r.stdout
    );
    let r = run(with(&["list-ca"])).expect(0);
    assert!(r.stdout.starts_with("0 certificate(s)"), "{}", r.stdout);
}

#[test]
fn removing_the_last_certificate_by_fingerprint_empties_the_bundle() {
    let d = gateway_pki();
    let p = d.path();
    let img = debian_root(p, None);
    let fp = fingerprint(p, ROOT_CA);
    let store = ["--os-store", "--root", s(&img)];
    let mut args = vec!["install-ca", ROOT_CA];
    args.extend_from_slice(&store);
    pki(p, &args).expect(0);
    assert_eq!(bundle_fingerprints(p, &img.join(BUNDLE)), [fp.as_str()]);
    // update-ca-certificates keeps the old bundle when no certificate is left; pki empties it.
    let sha1 = openssl(
        p,
        &["x509", "-in", ROOT_CA, "-noout", "-fingerprint", "-sha1"],
    )
    .expect(0);
    let sha1 = sha1
        .stdout
        .trim()
        .rsplit('=')
        .next()
        .unwrap()
        .to_ascii_lowercase();
    let mut args = vec!["--json", "uninstall-ca", &sha1];
    args.extend_from_slice(&store);
    let j = pki(p, &args).expect(0).json();
    assert_eq!(j["status"], "removed");
    assert!(
        j["notes"][0]
            .as_str()
            .unwrap()
            .contains("no other certificate is left"),
        "{j}"
    );
    assert_eq!(std::fs::read(img.join(BUNDLE)).unwrap(), b"");
    assert_eq!(tree(&img.join("etc/ssl/certs")), ["ca-certificates.crt"]);
}

#[test]
fn install_ca_text_snapshot() {
    // What a user reads of each step on a Debian image: the plan, the install, a second
    // install, the listing, the removal's plan and the removal.
    let d = gateway_pki();
    let p = d.path();
    let img = debian_root(p, None);
    let settings = crate::support::snapshot::settings(&[p]);
    for (name, args) in [
        ("install_dry_run", &["install-ca", ROOT_CA, "--dry-run"][..]),
        ("install", &["install-ca", ROOT_CA][..]),
        ("install_again", &["install-ca", ROOT_CA][..]),
        ("list", &["list-ca"][..]),
        (
            "uninstall_dry_run",
            &["uninstall-ca", ROOT_CA, "--dry-run"][..],
        ),
        ("uninstall", &["uninstall-ca", ROOT_CA][..]),
    ] {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--os-store", "--root", s(&img)]);
        let r = pki(p, &all).expect(0);
        settings.bind(|| insta::assert_snapshot!(name, crate::support::snapshot::transcript(&r)));
    }
}

/// The plan (`--dry-run --json`) for an image whose os-release is the fixture `os`, with
/// `tool` present inside it.
fn plan_for(os: &str, tool: Option<&str>) -> (tempfile::TempDir, Run) {
    let d = gateway_pki();
    let img = d.path().join("img");
    std::fs::create_dir_all(img.join("etc")).unwrap();
    std::fs::copy(
        testdata(&format!("os-release/{os}")),
        img.join("etc/os-release"),
    )
    .unwrap();
    if let Some(tool) = tool {
        let t = img.join(tool.trim_start_matches('/'));
        std::fs::create_dir_all(t.parent().unwrap()).unwrap();
        std::fs::write(t, "#!/bin/sh\n").unwrap();
    }
    let r = pki(
        d.path(),
        &[
            "--json",
            "install-ca",
            ROOT_CA,
            "--os-store",
            "--root",
            "img",
            "--dry-run",
        ],
    );
    (d, r)
}

#[test]
fn every_system_gets_its_exact_plan_from_os_release() {
    // Under --root nothing of the image runs, as root or not: the families with a Debian
    // layout get their bundle built by pki; the others get the anchor, and a note saying what
    // must run inside the image (pki 0.1 ran the image's tool through chroot as root).
    for (os, system, anchor, tool, args) in [
        (
            "rhel",
            "redhat",
            "/etc/pki/ca-trust/source/anchors/NAME.pem",
            "/usr/bin/update-ca-trust",
            " extract",
        ),
        (
            "fedora",
            "redhat",
            "/etc/pki/ca-trust/source/anchors/NAME.pem",
            "/usr/bin/update-ca-trust",
            " extract",
        ),
        (
            "centos",
            "redhat",
            "/etc/pki/ca-trust/source/anchors/NAME.pem",
            "/usr/bin/update-ca-trust",
            " extract",
        ),
        (
            "azurelinux",
            "redhat",
            "/etc/pki/ca-trust/source/anchors/NAME.pem",
            "/usr/bin/update-ca-trust",
            " extract",
        ),
        (
            "mariner",
            "redhat",
            "/etc/pki/ca-trust/source/anchors/NAME.pem",
            "/usr/bin/update-ca-trust",
            " extract",
        ),
        (
            "opensuse-leap",
            "suse",
            "/etc/pki/trust/anchors/NAME.pem",
            "/usr/sbin/update-ca-certificates",
            "",
        ),
        (
            "sles",
            "suse",
            "/etc/pki/trust/anchors/NAME.pem",
            "/usr/sbin/update-ca-certificates",
            "",
        ),
        (
            "arch",
            "arch",
            "/etc/ca-certificates/trust-source/anchors/NAME.crt",
            "/usr/bin/trust",
            " extract-compat",
        ),
    ] {
        let (d, r) = plan_for(os, Some(tool));
        let r = r.expect(0);
        let j = r.json();
        let img = d.path().canonicalize().unwrap().join("img");
        assert_eq!(j["root"], s(&img));
        assert_eq!(j["system"], system, "{os}");
        assert_eq!(j["status"], "dry_run");
        let file = j["file"].as_str().unwrap().to_owned();
        let name = Path::new(&file)
            .file_stem()
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            name.starts_with("pki-azure-iot-test-only-root-ca-") || name.starts_with("pki-"),
            "{name}"
        );
        let anchor = format!("{}{}", img.display(), anchor.replace("NAME", &name));
        let anchor_dir = Path::new(&anchor).parent().unwrap().display().to_string();
        let want = vec![
            format!("mkdir -p {anchor_dir}"),
            format!("write {anchor} (mode 0644): the certificate, PEM"),
        ];
        assert!(j["confirm"].is_null());
        assert_eq!(j["requires"], "none");
        let note = j["notes"][0].as_str().unwrap();
        assert!(
            note.contains(&format!("run `{tool}{args}` inside the image"))
                && note.contains("pki does not run an image's programs"),
            "{os}: {j}"
        );
        assert_eq!(j["commands"], serde_json::json!(want), "{os}");
        assert_eq!(j["steps"][1]["op"], "write_file");
        assert_eq!(j["steps"][1]["mode"], "0644");
        assert!(
            tree(&d.path().join("img"))
                .iter()
                .all(|f| !f.contains("pki-")),
            "{os}: the dry run wrote"
        );
    }
    // Debian, Ubuntu and Alpine: pki builds the bundle (even with the image's own tool there).
    for (os, system) in [
        ("debian", "debian"),
        ("ubuntu", "debian"),
        ("alpine", "alpine"),
    ] {
        let (d, r) = plan_for(os, Some("/usr/sbin/update-ca-certificates"));
        let j = r.expect(0).json();
        let img = d.path().canonicalize().unwrap().join("img");
        let img = s(&img);
        assert_eq!(j["system"], system);
        let cmds: Vec<String> = j["commands"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            cmds.last().unwrap(),
            &format!(
                "build {img}/etc/ssl/certs/ca-certificates.crt and its links in pki from the image's /etc/ca-certificates.conf, /usr/share/ca-certificates and /usr/local/share/ca-certificates, as update-ca-certificates --fresh does (every path resolved inside {img}; nothing of the image runs)"
            ),
            "{cmds:?}"
        );
        assert!(
            j["steps"]
                .as_array()
                .unwrap()
                .iter()
                .all(|s| s["op"] != "run"),
            "{j}"
        );
        assert_eq!(
            j["confirm"]["path"],
            format!("{img}/etc/ssl/certs/ca-certificates.crt")
        );
        assert_eq!(j["requires"], "none");
    }
    // An unknown system: a clear error naming the ID.
    let (_d, r) = plan_for("unknown", None);
    let r = r.expect(2);
    assert!(
        r.stderr
            .starts_with("pki: error: unknown system ID=plan9os (ID_LIKE=inferno)"),
        "{}",
        r.stderr
    );
}

/// Runs pki and checks: exit 2, one `pki: error:` line containing `says`, the root unchanged.
#[track_caller]
fn fails_cleanly(dir: &Path, img: &Path, args: &[&str], says: &str) -> Run {
    crate::support::fails_cleanly(dir, args, says, || snapshot(img))
}

#[test]
fn bad_input_missing_tools_and_unwritable_stores_leave_the_store_as_it_was() {
    let d = gateway_pki();
    let p = d.path();
    let img = debian_root(p, None);
    let root = s(&img).to_owned();
    let install = |cert: &str| -> Vec<String> {
        ["install-ca", cert, "--os-store", "--root", &root]
            .iter()
            .map(|s| (*s).to_owned())
            .collect()
    };
    fn args(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }

    // A broken certificate file, a truncated one, a missing one.
    std::fs::write(p.join("garbage.pem"), "not a certificate\n").unwrap();
    fails_cleanly(
        p,
        &img,
        &args(&install("garbage.pem")),
        "garbage.pem: not a certificate",
    );
    fails_cleanly(
        p,
        &img,
        &args(&install(s(&testdata("show/truncated.pem")))),
        "truncated.pem: not a certificate",
    );
    fails_cleanly(
        p,
        &img,
        &args(&install("nope.pem")),
        "cannot read the certificate nope.pem",
    );
    // A certificate that is not a CA, unless --allow-leaf.
    let r = fails_cleanly(p, &img, &args(&install(SERVER)), "is not a CA certificate");
    assert!(r.stderr.contains("--allow-leaf"), "{}", r.stderr);
    let mut leaf = install(SERVER);
    leaf.push("--allow-leaf".into());
    leaf.push("--dry-run".into());
    pki(p, &args(&leaf)).expect(0);

    // A store that cannot be written: the refresh directory is a file. The certificate file
    // written before is removed again.
    std::fs::remove_dir(img.join("etc/ssl/certs")).unwrap();
    std::fs::write(img.join("etc/ssl/certs"), "").unwrap();
    let r = fails_cleanly(p, &img, &args(&install(ROOT_CA)), "cannot create");
    assert!(r.stderr.contains("is as it was"), "{}", r.stderr);
    std::fs::remove_file(img.join("etc/ssl/certs")).unwrap();
    std::fs::create_dir(img.join("etc/ssl/certs")).unwrap();

    // A read-only store: a read-only bind mount (as root, in a private mount namespace) or a
    // read-only directory (as anyone else).
    let local = img.join(LOCAL);
    let before = snapshot(&img);
    let r = if is_root() {
        let script = format!(
            "{mount} --bind -o ro {0} {0} && exec {1} install-ca {2} --os-store --root {3}",
            s(&local),
            env!("CARGO_BIN_EXE_pki"),
            ROOT_CA,
            root,
            mount = programs::path("mount").display(),
        );
        let out = programs::command("unshare")
            .arg("-m")
            .arg(programs::path("sh"))
            .args(["-c", &script])
            .current_dir(p)
            .output()
            .unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into(),
            stderr: String::from_utf8_lossy(&out.stderr).into(),
        }
    } else {
        std::fs::set_permissions(&local, std::fs::Permissions::from_mode(0o555)).unwrap();
        let r = pki(p, &args(&install(ROOT_CA)));
        std::fs::set_permissions(&local, std::fs::Permissions::from_mode(0o755)).unwrap();
        r
    };
    // The peer (a private mount namespace) must work: the case never passes by being skipped.
    assert!(
        !(r.stderr.contains("unshare:") || r.stderr.contains("mount:")),
        "no private mount namespace for the read-only store case: {}",
        r.stderr.trim()
    );
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    let first = r.stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("pki: error: cannot write "),
        "{}",
        r.stderr
    );
    assert!(
        first.contains("read-only") || first.contains("needs root"),
        "{first}"
    );
    assert!(
        first.ends_with("is as it was (nothing was changed)"),
        "{first}"
    );
    assert_eq!(snapshot(&img), before);

    // A missing refresh tool: a Fedora image without update-ca-trust.
    let fedora = p.join("fedora");
    std::fs::create_dir_all(fedora.join("etc")).unwrap();
    std::fs::copy(testdata("os-release/fedora"), fedora.join("etc/os-release")).unwrap();
    let f = p.canonicalize().unwrap().join("fedora");
    let r = fails_cleanly(
        p,
        &fedora,
        &["install-ca", ROOT_CA, "--os-store", "--root", "fedora"],
        &format!(
            "update-ca-trust not found (looked in {0}/usr/bin/update-ca-trust, {0}/bin/update-ca-trust)",
            f.display()
        ),
    );
    assert!(
        r.stderr
            .contains("install the ca-certificates package in the image"),
        "{}",
        r.stderr
    );
    // No os-release: the error says what was looked for.
    fails_cleanly(
        p,
        &img,
        &["install-ca", ROOT_CA, "--os-store", "--root", "pki"],
        &format!(
            "cannot tell which system {}/ is",
            p.canonicalize().unwrap().join("pki").display()
        ),
    );
    // Not a directory.
    fails_cleanly(
        p,
        &img,
        &["install-ca", ROOT_CA, "--os-store", "--root", "nowhere"],
        "--root nowhere: not a directory",
    );
    // Uninstall of something that is neither a file nor a fingerprint.
    fails_cleanly(
        p,
        &img,
        &["uninstall-ca", "xyz", "--os-store", "--root", &root],
        "xyz: neither a certificate file nor",
    );
}

#[test]
fn without_root_privilege_the_error_says_which_and_the_command_to_run() {
    // This machine's own store: as an unprivileged user (setpriv when the tests run as root).
    let d = gateway_pki();
    let p = d.path();
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
    let cert = p.join(ROOT_CA);
    for dir in [p.join("pki"), p.join("pki/certs")] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let bin = env!("CARGO_BIN_EXE_pki");
    let out = if is_root() {
        programs::command("setpriv")
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                bin,
                "install-ca",
                s(&cert),
                "--os-store",
            ])
            .current_dir(p)
            .output()
            .unwrap()
    } else {
        programs::built(bin)
            .args(["install-ca", s(&cert), "--os-store"])
            .current_dir(p)
            .output()
            .unwrap()
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    // A peer that cannot run fails the test; it never passes by being absent.
    assert!(
        !stderr.contains("setpriv:"),
        "setpriv (util-linux) could not drop privileges: {stderr}"
    );
    assert!(
        Path::new(UPDATE_CA_CERTIFICATES).is_file(),
        "Debian's {UPDATE_CA_CERTIFICATES} (package ca-certificates) is required"
    );
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let first = stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("pki: error: installing into the debian trust store needs root"),
        "{stderr}"
    );
    assert!(
        first.contains(&format!(
            "run: sudo {bin} install-ca {} --os-store",
            cert.display()
        )),
        "{stderr}"
    );
}
