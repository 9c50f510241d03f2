//! The CA directory's guarantees under faults and hostile neighbours: explicit modes whatever
//! the umask, a `private/` that is a link or someone else's refused, no temporary key left
//! behind, a full disk that changes nothing, concurrent writers that never mix their files.
//! These tests need root (a tmpfs mount, a chown); CI runs as root, and a run without root
//! fails here rather than passing by skipping.

use std::collections::HashSet;
use std::fs;
#[cfg(unix)] // file modes, owners and links are Unix's
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};

#[cfg(unix)]
use crate::support::pki_in_shell;
use crate::support::programs;
use crate::support::{
    OpensslServer, Server, assert_root, openssl_self_signed, pki, pki_command, tmp, tree,
};

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
}

/// `pki ARGS` under `umask 000`.
#[cfg(unix)]
fn pki_umask_000(cwd: &Path, args: &[&str]) -> i32 {
    pki_in_shell(cwd, "umask 000", args)
        .status()
        .expect("sh runs")
        .code()
        .unwrap_or(-1)
}

#[test]
#[cfg(unix)]
fn every_file_and_directory_gets_its_mode_whatever_the_umask() {
    let d = tmp();
    let p = d.path();
    assert_eq!(pki_umask_000(p, &["create-owner-ca"]), 0);
    assert_eq!(pki_umask_000(p, &["issue", "device", "dev-1"]), 0);
    assert_eq!(
        pki_umask_000(p, &["csr", "create", "dev-2", "--profile", "device"]),
        0
    );
    let pki_dir = p.join("pki");
    for (rel, want) in [
        ("", 0o755),
        ("certs", 0o755),
        ("csr", 0o755),
        ("private", 0o700),
        ("register.sqlite3", 0o644),
        ("private/iot-device-dev-1.key.pem", 0o600),
        ("private/azure-iot-test-only.root.ca.key.pem", 0o600),
        ("private/iot-device-dev-2.key.pem", 0o600),
        ("certs/iot-device-dev-1.cert.pem", 0o644),
        ("certs/iot-device-dev-1-full-chain.cert.pem", 0o644),
        ("csr/iot-device-dev-2.csr.pem", 0o644),
    ] {
        assert_eq!(
            mode(&pki_dir.join(rel)),
            want,
            "{rel} under umask 000: {:o}",
            mode(&pki_dir.join(rel))
        );
    }
}

/// The batch's files get their modes under a umask that narrows them (077: the certificate's
/// 0644 would be 0600) and one that widens nothing (000): `create_new` sets the mode through the
/// descriptor only when the umask would have changed it.
#[test]
#[cfg(unix)]
fn batch_files_get_their_modes_under_a_narrowing_umask_too() {
    for umask in ["077", "000", "022"] {
        let d = tmp();
        let p = d.path();
        fs::write(p.join("ids.txt"), "dev-1\ndev-2\n").unwrap();
        let setup = format!("umask {umask}");
        for args in [
            &["create-owner-ca"][..],
            &["issue", "device", "--batch", "ids.txt"][..],
        ] {
            let status = pki_in_shell(p, &setup, args).status().expect("sh runs");
            assert!(status.success(), "pki {args:?} under umask {umask}");
        }
        for (rel, want) in [
            ("private/iot-device-dev-1.key.pem", 0o600),
            ("certs/iot-device-dev-1.cert.pem", 0o644),
            ("certs/iot-device-dev-2-full-chain.cert.pem", 0o644),
        ] {
            let got = mode(&p.join("pki").join(rel));
            assert_eq!(got, want, "{rel} under umask {umask}: {got:o}");
        }
    }
}

#[test]
#[cfg(unix)]
fn a_private_directory_that_is_a_link_is_refused_and_its_target_untouched() {
    let d = tmp();
    let p = d.path();
    pki(p, &["create-owner-ca"]).expect(0);
    let elsewhere = p.join("elsewhere");
    fs::rename(p.join("pki/private"), &elsewhere).unwrap();
    fs::set_permissions(&elsewhere, fs::Permissions::from_mode(0o750)).unwrap();
    symlink(&elsewhere, p.join("pki/private")).unwrap();
    let before = tree(&elsewhere);
    for args in [
        &["issue", "device", "dev-1"][..],
        &["create-owner-ca", "--force"][..],
        &["csr", "create", "dev-2", "--profile", "device"][..],
    ] {
        let r = pki(p, args).expect(2);
        assert!(
            r.stderr.starts_with("pki: error: ") && r.stderr.contains("symbolic link"),
            "{args:?}: {}",
            r.stderr
        );
    }
    assert_eq!(tree(&elsewhere), before, "nothing written through the link");
    assert_eq!(
        mode(&elsewhere),
        0o750,
        "the link's target was not chmodded"
    );
}

#[test]
#[cfg(unix)]
fn a_private_directory_others_can_read_is_corrected_and_said() {
    let d = tmp();
    let p = d.path();
    pki(p, &["create-owner-ca"]).expect(0);
    let private = p.join("pki/private");
    fs::set_permissions(&private, fs::Permissions::from_mode(0o755)).unwrap();
    let r = pki(p, &["issue", "device", "dev-1"]).expect(0);
    assert_eq!(mode(&private), 0o700);
    assert!(
        r.stderr.contains("pki: warning: ") && r.stderr.contains("corrected to 0700"),
        "{}",
        r.stderr
    );
}

#[test]
#[cfg(unix)]
fn a_private_directory_owned_by_someone_else_is_refused() {
    assert_root("a chown to another user");
    let d = tmp();
    let p = d.path();
    pki(p, &["create-owner-ca"]).expect(0);
    let private = p.join("pki/private");
    std::os::unix::fs::chown(&private, Some(65534), Some(65534)).unwrap();
    let before = tree(&p.join("pki"));
    let r = pki(p, &["issue", "device", "dev-1"]).expect(2);
    assert!(r.stderr.contains("not by this user"), "{}", r.stderr);
    assert_eq!(tree(&p.join("pki")), before);
    assert_eq!(fs::metadata(&private).unwrap().uid(), 65534);
}

#[test]
fn a_temporary_key_left_by_a_killed_run_is_removed_by_the_next() {
    let d = tmp();
    let p = d.path();
    pki(p, &["create-owner-ca"]).expect(0);
    // What a kill -9 during a key write left with the temp-and-rename scheme.
    let stale = p.join("pki/private/.pki-tmp-Xy12ab");
    fs::write(
        &stale,
        "-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(hour_ago)
        .unwrap();
    let r = pki(p, &["issue", "device", "dev-1"]).expect(0);
    assert!(!stale.exists(), "the stale temporary key is still there");
    assert!(r.stderr.contains("temporary file"), "{}", r.stderr);
    // And pki's own writes leave none.
    let temps: Vec<String> = tree(&p.join("pki"))
        .into_iter()
        .filter(|f| f.contains(".pki-"))
        .collect();
    assert!(temps.is_empty(), "{temps:?}");
}

/// A small tmpfs, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Tmpfs {
        fs::create_dir_all(at).unwrap();
        let st = programs::command("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0755")])
            .arg("tmpfs")
            .arg(at)
            .status()
            .expect("mount runs");
        assert!(st.success(), "mount -t tmpfs failed (run as root)");
        Tmpfs(at.to_owned())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = programs::command("umount").arg("-l").arg(&self.0).status();
    }
}

/// Every file below `dir` with its content.
fn contents(dir: &Path) -> Vec<(String, String)> {
    tree(dir)
        .into_iter()
        .filter(|f| dir.join(f).is_file())
        .map(|f| {
            let b = fs::read(dir.join(&f)).unwrap();
            // Blank padding lines shown as a count, to keep a failure readable.
            let text = String::from_utf8_lossy(&b)
                .trim_end_matches('\n')
                .to_owned();
            (f, format!("{} bytes: {text}", b.len()))
        })
        .collect()
}

/// Fills the file system of `filler` completely, then frees `pages` pages.
fn fill_leaving(filler: &Path, pages: u64) {
    use std::io::Write;
    let _ = fs::remove_file(filler);
    let mut f = fs::File::create(filler).unwrap();
    let block = vec![0u8; 4096];
    while f.write_all(&block).is_ok() {}
    let _ = f.flush();
    let len = f.metadata().unwrap().len();
    f.set_len(len.saturating_sub(pages * 4096)).unwrap();
}

#[test]
fn a_full_disk_leaves_the_ca_directory_as_it_was() {
    assert_root("a tmpfs mount");
    let d = tmp();
    let mnt = d.path().join("small");
    let _fs = Tmpfs::mount(&mnt, "1m");
    let dir = mnt.join("pki");
    let dir_s = dir.to_str().unwrap();
    pki(&mnt, &["--dir", dir_s, "create-owner-ca"]).expect(0);
    pki(&mnt, &["--dir", dir_s, "create-intermediate-ca"]).expect(0);
    let filler = mnt.join("filler");
    let mut failed = 0;
    for pages in 0..8u64 {
        fill_leaving(&filler, pages);
        let before = contents(&dir);
        let id = format!("dev-{pages}");
        let r = pki(&mnt, &["--dir", dir_s, "issue", "device", &id]);
        match r.code {
            0 => {
                // A complete, consistent set.
                let cert = dir.join(format!("certs/iot-device-{id}.cert.pem"));
                let key = dir.join(format!("private/iot-device-{id}.key.pem"));
                pki(
                    &mnt,
                    &[
                        "show",
                        cert.to_str().unwrap(),
                        "--key",
                        key.to_str().unwrap(),
                    ],
                )
                .expect(0);
            }
            2 => {
                failed += 1;
                assert!(
                    r.stderr.starts_with("pki: error: ") && !r.stderr.contains("panicked"),
                    "{}",
                    r.stderr
                );
                assert_eq!(
                    contents(&dir),
                    before,
                    "a failed issue with {pages} free page(s) changed the CA directory: {}",
                    r.stderr
                );
            }
            c => panic!("exit {c}: {}", r.stderr),
        }
        // With room again, every command works: nothing was left corrupt.
        fs::remove_file(&filler).unwrap();
        pki(
            &mnt,
            &["--dir", dir_s, "issue", "device", &format!("later-{pages}")],
        )
        .expect(0);
        pki(
            &mnt,
            &["--dir", dir_s, "create-edge-ca", &format!("gw{pages}")],
        )
        .expect(0);
    }
    assert!(
        failed >= 2,
        "the disk was never full enough to fail an issue"
    );
}

#[test]
fn an_old_index_is_migrated_into_the_register_once_and_its_torn_line_dropped() {
    let d = tmp();
    let p = d.path();
    // What an earlier pki left: index.jsonl lines (here another directory's owner CA) and a
    // last line cut by a kill.
    let old = p.join("old");
    fs::create_dir(&old).unwrap();
    pki(&old, &["create-owner-ca", "--cn", "Old Owner"]).expect(0);
    let line = crate::support::register_lines(&old);
    pki(p, &["create-owner-ca"]).expect(0);
    let index = p.join("pki/index.jsonl");
    fs::write(&index, format!("{line}{{\"serial\":\"01\",\"subj")).unwrap();
    pki(p, &["create-edge-ca", "gw"]).expect(0);
    assert!(!index.exists(), "migrated");
    assert!(p.join("pki/index.jsonl.migrated").is_file());
    let rows = crate::support::register_lines(p);
    let subjects: Vec<String> = rows
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["subject"].to_string())
        .collect();
    assert_eq!(subjects.len(), 3, "{rows}");
    assert!(
        rows.contains("Old Owner") && rows.contains("gw.ca"),
        "{rows}"
    );
    // Once: a second run imports nothing again.
    pki(p, &["issue", "device", "d1"]).expect(0);
    assert_eq!(crate::support::register_lines(p).lines().count(), 4);
}

#[test]
fn concurrent_forced_reissues_never_mix_their_files() {
    let d = tmp();
    let p = d.path();
    pki(p, &["create-owner-ca"]).expect(0);
    let cert = p.join("pki/certs/iot-device-ff.cert.pem");
    let chain = p.join("pki/certs/iot-device-ff-full-chain.cert.pem");
    let key = p.join("pki/private/iot-device-ff.key.pem");
    let mut mixed = 0;
    for _ in 0..12 {
        let children: Vec<_> = (0..8)
            .map(|_| {
                crate::support::pki_command(std::path::Path::new("."), &[])
                    .current_dir(p)
                    .args(["issue", "device", "ff", "--force"])
                    .env_remove("PKI_DIR")
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for mut c in children {
            assert!(c.wait().unwrap().success());
        }
        let c = fs::read_to_string(&cert).unwrap();
        let ch = fs::read_to_string(&chain).unwrap();
        let matches = pki(
            p,
            &[
                "show",
                cert.to_str().unwrap(),
                "--key",
                key.to_str().unwrap(),
            ],
        )
        .code
            == 0;
        if !ch.starts_with(&c) || !matches {
            mixed += 1;
        }
    }
    assert_eq!(
        mixed, 0,
        "rounds with key, certificate and chain from different runs"
    );
    // Every run recorded exactly one row, and superseded the one whose files it replaced: one
    // chain of successors, ending at the one certificate in service, the one on disk.
    let rows = crate::support::register_lines(p);
    assert_eq!(rows.lines().count(), 1 + 12 * 8);
    let rows: Vec<serde_json::Value> = rows
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|r: &serde_json::Value| r["common_name"] == "ff")
        .collect();
    let in_service: Vec<_> = rows.iter().filter(|r| r["status"] == "issued").collect();
    assert_eq!(in_service.len(), 1, "{rows:?}");
    let on_disk = pki(p, &["--json", "show", cert.to_str().unwrap()])
        .expect(0)
        .json();
    assert_eq!(
        in_service[0]["sha256"], on_disk["certificates"][0]["sha256"],
        "the register's certificate in service is the one on disk"
    );
    let successors: HashSet<&str> = rows
        .iter()
        .filter_map(|r| r["superseded_by"].as_str())
        .collect();
    assert_eq!(
        successors.len(),
        rows.len() - 1,
        "each replaced by a different one"
    );
}

/// `pki ARGS` with stdout going to `stdout`; returns the exit code and stderr.
fn pki_to(cwd: &Path, args: &[&str], stdout: std::process::Stdio) -> (i32, String) {
    let out = pki_command(cwd, args)
        .stdout(stdout)
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("pki runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn no_input_and_no_output_makes_pki_panic() {
    use std::io::Read;
    let d = tmp();
    let p = d.path();
    pki(p, &["create-owner-ca"]).expect(0);
    // Absurd numbers: one error line each, exit 2.
    for (args, says) in [
        (
            &["issue", "device", "x", "--days", "99999999"][..],
            "year 9999",
        ),
        (
            &["--dir", "p2", "create-owner-ca", "--days", "4294967295"][..],
            "year 9999",
        ),
        (
            &["verify", "127.0.0.1:1", "--timeout", "1e30"][..],
            "--timeout",
        ),
        (
            &["verify", "127.0.0.1:1", "--timeout", "NaN"][..],
            "--timeout",
        ),
    ] {
        let r = pki(p, args).expect(2);
        assert_eq!(r.stderr.lines().count(), 1, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{args:?}: {}", r.stderr);
    }
    assert!(!p.join("p2").exists());
    // A bundle whose report is far larger than a pipe's buffer.
    let root =
        fs::read_to_string(p.join("pki/certs/azure-iot-test-only.root.ca.cert.pem")).unwrap();
    fs::write(p.join("big.pem"), root.repeat(400)).unwrap();
    for args in [
        &["show", "big.pem", "--json"][..],
        &["show", "big.pem"][..],
        &["completions", "bash"][..],
    ] {
        // The reader takes 10 bytes and goes away: a quiet exit.
        let mut child = crate::support::pki_command(std::path::Path::new("."), &[])
            .current_dir(p)
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 10];
        child.stdout.take().unwrap().read_exact(&mut first).unwrap();
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
        // A full device: an error naming stdout, exit 2.
        let full = fs::File::options().write(true).open("/dev/full").unwrap();
        let (code, stderr) = pki_to(p, args, full.into());
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("pki: error: cannot write to standard output"),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn show_grows_linearly_with_the_bundle() {
    // Not a speed claim: the same command on n and 4n certificates, in one run. Linear work
    // takes about 4 times as long; the quadratic report of old took 16 times.
    let d = tmp();
    let p = d.path();
    pki(p, &["create-owner-ca"]).expect(0);
    pki(p, &["issue", "device", "d1"]).expect(0);
    let chain = fs::read_to_string(p.join("pki/certs/iot-device-d1-full-chain.cert.pem")).unwrap();
    fs::write(p.join("small.pem"), chain.repeat(1500)).unwrap();
    fs::write(p.join("large.pem"), chain.repeat(6000)).unwrap();
    let time = |file: &str| {
        let t = std::time::Instant::now();
        let (code, stderr) = pki_to(p, &["show", file], std::process::Stdio::null());
        assert_eq!(code, 0, "{stderr}");
        t.elapsed().as_secs_f64()
    };
    // The better of two runs each, against a noisy neighbour.
    let small = time("small.pem").min(time("small.pem"));
    let large = time("large.pem").min(time("large.pem"));
    let ratio = large / small;
    assert!(
        ratio < 8.0,
        "4 times the certificates took {ratio:.1} times as long ({small:.2} s, {large:.2} s)"
    );
}

/// The bytes that must never reach a terminal raw: ESC, BEL, CR, NUL-free (arguments cannot
/// carry NUL), and a line feed inside a value.
fn assert_no_raw_controls(what: &str, text: &str) {
    for (c, name) in [('\u{1b}', "ESC"), ('\u{7}', "BEL"), ('\r', "CR")] {
        assert!(
            !text.contains(c),
            "{what}: a raw {name} reached the terminal:\n{text:?}"
        );
    }
    assert!(
        !text.lines().any(|l| l.starts_with("INJECTED")),
        "{what}: a line feed inside a value started a line of its own:\n{text}"
    );
}

#[test]
fn control_characters_in_certificates_never_reach_the_terminal() {
    let d = tmp();
    let p = d.path();
    // A CA whose names carry terminal escapes, a bell, a carriage return and a line feed.
    let subj = "/CN=evil\u{1b}[2J\u{1b}]0;title\u{7}\r/O=org\nINJECTED verified OK";
    let san = "subjectAltName=DNS:gw\u{1b}[31m.example.com,DNS:bell\u{7}\r.example.com";
    openssl_self_signed(
        p,
        subj,
        "evil.pem",
        &[
            "-addext",
            san,
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-addext",
            "extendedKeyUsage=serverAuth",
        ],
    );
    let show = pki(p, &["show", "evil.pem"]).expect(0);
    assert_no_raw_controls("show", &show.stdout);
    assert!(show.stdout.contains("\\1B[2J"), "{}", show.stdout);
    let offline = pki(
        p,
        &[
            "verify",
            "--chain",
            "evil.pem",
            "--ca-file",
            "evil.pem",
            "--hostname",
            "gw.example.com",
        ],
    );
    assert_no_raw_controls(
        "verify --chain",
        &(offline.stdout.clone() + &offline.stderr),
    );
    // The same certificate presented by a TLS server.
    let server = OpensslServer::start(p, "evil.pem", "evil.pem.key", None, &[]);
    let target = format!("127.0.0.1:{}", server.port());
    for extra in [&[][..], &["--showcerts"][..]] {
        let mut args = vec!["verify", target.as_str(), "--ca-file", "evil.pem"];
        args.extend_from_slice(extra);
        let online = pki(p, &args);
        assert!(online.code == 0 || online.code == 1, "{}", online.stderr);
        assert_no_raw_controls("verify online", &(online.stdout.clone() + &online.stderr));
    }
    // JSON keeps the exact value (JSON escapes it).
    let json = pki(p, &["--json", "show", "evil.pem"]).expect(0).json();
    let subject = json["certificates"][0]["subject"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(subject.contains("evil"), "{subject}");
}

#[test]
fn a_chain_over_64_kib_is_called_what_it_is() {
    let d = tmp();
    let p = d.path();
    pki(p, &["create-owner-ca"]).expect(0);
    pki(p, &["create-intermediate-ca"]).expect(0);
    pki(p, &["issue", "server", "127.0.0.1"]).expect(0);
    // The intermediate sent 200 times over: far more than 64 KiB of certificates.
    let inter =
        fs::read_to_string(p.join("pki/certs/azure-iot-test-only.intermediate.cert.pem")).unwrap();
    fs::write(p.join("fat-chain.pem"), inter.repeat(200)).unwrap();
    let server = OpensslServer::start(
        p,
        "pki/certs/iot-edge-server-127.0.0.1.cert.pem",
        "pki/private/iot-edge-server-127.0.0.1.key.pem",
        Some("fat-chain.pem"),
        &[],
    );
    let target = format!("127.0.0.1:{}", server.port());
    let r = pki(
        p,
        &[
            "verify",
            &target,
            "--ca-file",
            "pki/certs/azure-iot-test-only.root.ca.cert.pem",
        ],
    );
    let all = r.stdout.clone() + &r.stderr;
    assert!(r.code != 0, "{all}");
    assert!(all.contains("larger than 64 KiB"), "{all}");
    assert!(!all.contains("does not speak TLS"), "{all}");
}

#[test]
fn a_batch_line_with_an_impossible_validity_is_rejected_and_the_lot_goes_on() {
    let d = tmp();
    let p = d.path();
    pki(p, &["create-owner-ca"]).expect(0);
    fs::write(
        p.join("lot.csv"),
        "device_id,days\ndev-1,30\ndev-2,99999999\ndev-3,\n",
    )
    .unwrap();
    for _ in 0..2 {
        // Run twice: the bad line never kills a re-run of the lot either.
        let r = pki(p, &["issue", "device", "--batch", "lot.csv"]).expect(1);
        assert!(
            r.stderr.contains("line 3") && r.stderr.contains("year 9999"),
            "{}",
            r.stderr
        );
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    }
    assert!(p.join("pki/certs/iot-device-dev-1.cert.pem").exists());
    assert!(p.join("pki/certs/iot-device-dev-3.cert.pem").exists());
    assert!(!p.join("pki/private/iot-device-dev-2.key.pem").exists());
    // A lot-wide --days no certificate can hold stops before anything is written.
    let before = tree(&p.join("pki"));
    let r = pki(
        p,
        &[
            "issue",
            "device",
            "--batch",
            "lot.csv",
            "--days",
            "4294967295",
        ],
    )
    .expect(2);
    assert!(r.stderr.contains("year 9999"), "{}", r.stderr);
    assert_eq!(tree(&p.join("pki")), before);
}
