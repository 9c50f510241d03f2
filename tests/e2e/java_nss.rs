//! `pki install-ca --java` and `--nss`: a JDK keystore (a copy of the JDK's cacerts, or a pki
//! truststore with its own password) through keytool, and NSS databases through certutil; both
//! idempotent, listed by `list-ca` and removed by `uninstall-ca`; `keytool -list` and `certutil -L`
//! see what pki did, and NSS's `tstclnt` trusts the gateway after `--nss` and not before. A
//! missing JDK and a directory that is no NSS database are refused in one line.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::programs;
use crate::support::quickstart::{ROOT, SERVER, SERVER_FULL, SERVER_KEY, gateway_pki};
use crate::support::{OpensslServer, Run, Server, pki, pki_env, refused_in_one_line, run_bounded};

fn tool(dir: &Path, program: &str, args: &[&str]) -> Run {
    let mut cmd = programs::command(program);
    cmd.current_dir(dir).args(args);
    run_bounded(cmd, b"", Duration::from_secs(60))
        .unwrap_or_else(|| panic!("{program} {args:?} did not finish"))
}

/// The JDK's own cacerts (of the java the tests run), to copy: the test never changes the
/// machine's.
fn jdk_cacerts() -> PathBuf {
    let java = std::fs::canonicalize(programs::path("java")).expect("java's real path");
    let cacerts = java
        .parent()
        .and_then(Path::parent)
        .map(|home| home.join("lib/security/cacerts"))
        .filter(|p| p.exists())
        .unwrap_or_else(|| {
            panic!("a JDK is required (java on PATH with lib/security/cacerts): install default-jdk-headless; scripts/test.sh does")
        });
    std::fs::canonicalize(cacerts).expect("cacerts")
}

#[test]
fn java_cacerts_gets_the_ca_once_and_loses_it_again() {
    let d = gateway_pki();
    let p = d.path();
    std::fs::copy(jdk_cacerts(), p.join("cacerts")).unwrap();
    let before = tool(
        p,
        "keytool",
        &["-list", "-keystore", "cacerts", "-storepass", "changeit"],
    );
    assert_eq!(before.code, 0, "{}", before.stderr);

    let install = [
        "install-ca",
        ROOT,
        "--java",
        "--cacerts",
        "cacerts",
        "--name",
        "pki-test-root",
    ];
    let r = pki(p, &install).expect(0);
    assert!(
        r.stdout.contains("pki-test-root installed in"),
        "{}",
        r.stdout
    );
    let r = pki(p, &install).expect(0);
    assert!(r.stdout.contains("already installed"), "{}", r.stdout);
    let list = tool(
        p,
        "keytool",
        &["-list", "-keystore", "cacerts", "-storepass", "changeit"],
    );
    assert!(list.stdout.contains("pki-test-root, "), "{}", list.stdout);
    assert!(list.stdout.contains("trustedCertEntry"), "{}", list.stdout);
    let count = |s: &str| s.lines().filter(|l| l.contains("trustedCertEntry")).count();
    assert_eq!(count(&list.stdout), count(&before.stdout) + 1);

    let listed = pki(p, &["--json", "list-ca", "--java", "--cacerts", "cacerts"])
        .expect(0)
        .json();
    let certs = listed["stores"][0]["certificates"].as_array().unwrap();
    assert_eq!(certs.len(), 1, "{listed}");
    assert_eq!(certs[0]["alias"], "pki-test-root");

    let r = pki(p, &["uninstall-ca", ROOT, "--java", "--cacerts", "cacerts"]).expect(0);
    assert!(r.stdout.contains("removed from"), "{}", r.stdout);
    let after = tool(
        p,
        "keytool",
        &["-list", "-keystore", "cacerts", "-storepass", "changeit"],
    );
    assert_eq!(count(&after.stdout), count(&before.stdout));
    pki(p, &["uninstall-ca", ROOT, "--java", "--cacerts", "cacerts"]).expect(0);

    // A store with its own password, given in a file (never on keytool's command line).
    std::fs::write(p.join("pw"), "s3cret-store\n").unwrap();
    pki(
        p,
        &[
            "export",
            SERVER_FULL,
            "--truststore",
            "own.p12",
            "--password-file",
            "pw",
        ],
    )
    .expect(0);
    let with_pw = [
        "install-ca",
        ROOT,
        "--java",
        "--cacerts",
        "own.p12",
        "--storepass-file",
        "pw",
    ];
    pki(p, &with_pw).expect(0);
    let list = tool(
        p,
        "keytool",
        &[
            "-list",
            "-keystore",
            "own.p12",
            "-storepass",
            "s3cret-store",
        ],
    );
    assert_eq!(count(&list.stdout), 4, "{}", list.stdout);
    let r = pki(p, &["install-ca", ROOT, "--java", "--cacerts", "own.p12"]);
    assert_eq!(
        r.code, 2,
        "the default password is refused by this store: {}",
        r.stderr
    );
}

#[test]
fn a_missing_jdk_is_one_line() {
    let d = gateway_pki();
    let p = d.path();
    let mut cmd = crate::support::pki_command(p, &["install-ca", ROOT, "--java"]);
    cmd.env_remove("JAVA_HOME").env("PATH", "/nonexistent");
    let r = Run::from(cmd.output().unwrap());
    refused_in_one_line(&r, &["install-ca", "--java"], "no Java found");
}

#[test]
fn nss_databases_trust_the_ca_and_tstclnt_then_trusts_the_gateway() {
    let d = gateway_pki();
    let p = d.path();
    std::fs::create_dir(p.join("db")).unwrap();
    let made = tool(p, "certutil", &["-N", "-d", "sql:db", "--empty-password"]);
    assert_eq!(made.code, 0, "certutil -N: {}", made.stderr);

    let server = OpensslServer::start(p, SERVER, SERVER_KEY, Some(SERVER_FULL), &[]);
    let port = server.port().to_string();
    let tstclnt = || {
        tool(
            p,
            "tstclnt",
            &[
                "-h",
                "127.0.0.1",
                "-a",
                "localhost",
                "-p",
                &port,
                "-d",
                "sql:db",
                "-Q",
            ],
        )
    };
    let r = tstclnt();
    assert_ne!(
        r.code, 0,
        "tstclnt trusted the gateway before --nss:\n{}",
        r.stderr
    );
    assert!(r.stderr.contains("SEC_ERROR_"), "{}", r.stderr);

    let install = ["install-ca", ROOT, "--nss", "--nss-db", "db"];
    assert!(
        pki(p, &install)
            .expect(0)
            .stdout
            .contains("installed in db")
    );
    assert!(
        pki(p, &install)
            .expect(0)
            .stdout
            .contains("already installed in db")
    );
    let listed = tool(p, "certutil", &["-L", "-d", "sql:db"]);
    let ours: Vec<&str> = listed
        .stdout
        .lines()
        .filter(|l| l.starts_with("pki-"))
        .collect();
    assert_eq!(ours.len(), 1, "{}", listed.stdout);
    assert!(ours[0].trim_end().ends_with("C,,"), "{}", listed.stdout);
    let r = tstclnt();
    assert_eq!(
        r.code, 0,
        "tstclnt after --nss:\n{}\n{}",
        r.stdout, r.stderr
    );

    let text = pki(p, &["list-ca", "--nss", "--nss-db", "db"])
        .expect(0)
        .stdout;
    assert!(text.contains("pki-iot-owner-root-ca-"), "{text}");
    pki(p, &["uninstall-ca", ROOT, "--nss", "--nss-db", "db"]).expect(0);
    let listed = tool(p, "certutil", &["-L", "-d", "sql:db"]);
    assert!(!listed.stdout.contains("pki-"), "{}", listed.stdout);
    assert_ne!(tstclnt().code, 0);

    // Without --nss-db: the user's ~/.pki/nssdb and Firefox profiles, as mkcert finds them.
    let home = p.join("home");
    for db in [
        "home/.pki/nssdb",
        "home/.mozilla/firefox/abcd.default-release",
    ] {
        std::fs::create_dir_all(p.join(db)).unwrap();
        let made = tool(
            p,
            "certutil",
            &["-N", "-d", &format!("sql:{db}"), "--empty-password"],
        );
        assert_eq!(made.code, 0, "{}", made.stderr);
    }
    let home = home.to_str().unwrap();
    let r = pki_env(
        p,
        &["--json", "install-ca", ROOT, "--nss"],
        &[("HOME", home)],
    )
    .expect(0);
    assert_eq!(
        r.json()["results"].as_array().unwrap().len(),
        2,
        "{}",
        r.stdout
    );

    // A directory that is no NSS database, and a home with none.
    std::fs::create_dir(p.join("empty")).unwrap();
    let r = pki(p, &["install-ca", ROOT, "--nss", "--nss-db", "empty"]);
    refused_in_one_line(&r, &["--nss-db", "empty"], "not an NSS database");
    let r = pki_env(
        p,
        &["install-ca", ROOT, "--nss"],
        &[("HOME", "/nonexistent")],
    );
    refused_in_one_line(&r, &["--nss"], "no NSS database found");
}

/// Issue 23, finding 8: the store password reaches keytool through a descriptor (`/dev/stdin`
/// of an unlinked file), never a named file: pki killed (SIGKILL) while keytool runs leaves
/// nothing in TMPDIR. keytool here is a stand-in of a JDK of its own that records what its
/// `-storepass:file` holds, and waits.
#[test]
#[cfg(unix)] // a shell script as keytool, SIGKILL
fn pki_killed_while_keytool_runs_leaves_no_password_file_behind() {
    use std::os::unix::fs::PermissionsExt;
    use std::time::Instant;
    let d = crate::support::tmp();
    let p = d.path();
    pki(p, &["create-owner-ca"]).expect(0);
    let root = "pki/certs/azure-iot-test-only.root.ca.cert.pem";
    let (jdk, tmpdir) = (p.join("jdk"), p.join("tmpdir"));
    std::fs::create_dir_all(jdk.join("bin")).unwrap();
    std::fs::create_dir(&tmpdir).unwrap();
    std::fs::write(p.join("cacerts"), b"").unwrap();
    let (started, seen, release) = (p.join("started"), p.join("seen"), p.join("release"));
    // Its environment is cleared by pki: the paths are in the script.
    let script = format!(
        "#!/bin/sh\n\
         while [ $# -gt 0 ]; do\n\
           if [ \"$1\" = -storepass:file ]; then cat \"$2\" > '{seen}'; fi; shift\n\
         done\n\
         : > '{started}'\n\
         i=0; while [ ! -e '{release}' ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done\n",
        seen = seen.display(),
        started = started.display(),
        release = release.display(),
    );
    let keytool = jdk.join("bin/keytool");
    std::fs::write(&keytool, script).unwrap();
    std::fs::set_permissions(&keytool, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut child =
        crate::support::pki_command(p, &["install-ca", root, "--java", "--cacerts", "cacerts"])
            .env("JAVA_HOME", &jdk)
            .env("TMPDIR", &tmpdir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !started.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let running = started.exists();
    let during = crate::support::tree(&tmpdir);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let after = crate::support::tree(&tmpdir);
    std::fs::write(&release, b"").unwrap(); // keytool's stand-in ends
    assert!(running, "keytool was not run");
    assert_eq!(
        std::fs::read_to_string(&seen).unwrap(),
        "changeit\n",
        "keytool could not read the password"
    );
    assert_eq!(
        during,
        Vec::<String>::new(),
        "a file in TMPDIR while keytool ran"
    );
    assert_eq!(
        after,
        Vec::<String>::new(),
        "a file left in TMPDIR by the kill"
    );
}
