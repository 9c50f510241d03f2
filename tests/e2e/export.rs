//! `pki export`: every PKCS#12 file pki writes is read by `openssl pkcs12 -info` (with and
//! without `-legacy`) and by `keytool -list`; a Java TLS client (compiled here with javac) uses a
//! pki keystore and truststore to pass an mTLS gateway (`openssl s_server` requiring a client
//! certificate); DER and PEM come out as openssl reads them; bad input is refused in one line.

use std::path::Path;
use std::time::Duration;

use crate::support::programs;
use crate::support::quickstart::{
    DEVICE, DEVICE_FULL, DEVICE_KEY, INTERMEDIATE, ROOT, SERVER, SERVER_FULL, SERVER_KEY,
    gateway_pki,
};
use crate::support::{
    OpensslServer, Run, Server, fails_cleanly, openssl, pem_certificates, pki, run_bounded, tmp,
    tree,
};

const PASSWORD: &str = "correct horse battery";

/// Writes the password file the exports read.
fn password_file(dir: &Path) -> &'static str {
    std::fs::write(dir.join("pw.txt"), format!("{PASSWORD}\n")).unwrap();
    "pw.txt"
}

/// `openssl pkcs12 -info` of FILE (with `-legacy` when asked): what it printed on stderr (the
/// algorithms) and stdout (the bags), or a failed test.
#[track_caller]
fn pkcs12_info(dir: &Path, file: &str, legacy: bool) -> String {
    let pass = format!("pass:{PASSWORD}");
    let mut args = vec!["pkcs12", "-info", "-in", file, "-passin", &pass, "-nodes"];
    if legacy {
        args.insert(1, "-legacy");
    }
    let r = openssl(dir, &args);
    assert_eq!(r.code, 0, "openssl {args:?}:\n{}\n{}", r.stdout, r.stderr);
    format!("{}{}", r.stderr, r.stdout)
}

/// Java's tools, from the JDK on PATH (a missing JDK fails the test: scripts/test.sh installs
/// default-jdk-headless).
fn java_tool(dir: &Path, tool: &str, args: &[&str]) -> Run {
    let mut cmd = programs::command(tool);
    cmd.current_dir(dir).args(args);
    run_bounded(cmd, b"", Duration::from_secs(120))
        .unwrap_or_else(|| panic!("{tool} {args:?} did not finish"))
}

#[track_caller]
fn keytool_list(dir: &Path, file: &str) -> String {
    let r = java_tool(
        dir,
        "keytool",
        &[
            "-list",
            "-v",
            "-keystore",
            file,
            "-storetype",
            "PKCS12",
            "-storepass",
            PASSWORD,
        ],
    );
    assert_eq!(
        r.code, 0,
        "keytool -list {file}:\n{}\n{}",
        r.stdout, r.stderr
    );
    r.stdout
}

#[test]
fn keystores_and_truststores_are_read_by_openssl_and_keytool() {
    let d = gateway_pki();
    let p = d.path();
    let pw = password_file(p);

    // The device identity with its chain, AES-256 by default.
    let out = pki(
        p,
        &[
            "export",
            DEVICE_FULL,
            "--p12",
            "dev.p12",
            "--chain",
            "--password-file",
            pw,
        ],
    )
    .expect(0);
    assert!(out.stdout.contains("AES-256-CBC"), "{}", out.stdout);
    for legacy in [false, true] {
        let info = pkcs12_info(p, "dev.p12", legacy);
        assert!(info.contains("PBES2, PBKDF2, AES-256-CBC"), "{info}");
        assert!(info.contains("MAC: sha256"), "{info}");
        assert_eq!(info.matches("BEGIN CERTIFICATE").count(), 3, "{info}");
        assert!(info.contains("BEGIN PRIVATE KEY"), "{info}");
    }
    let list = keytool_list(p, "dev.p12");
    assert!(list.contains("Alias name: downstream-device-1"), "{list}");
    assert!(list.contains("Entry type: PrivateKeyEntry"), "{list}");
    assert!(list.contains("Certificate chain length: 3"), "{list}");
    // The key in the file is the device's key.
    let key = pkcs12_info(p, "dev.p12", false);
    let theirs = openssl(p, &["pkey", "-in", DEVICE_KEY, "-pubout"])
        .expect(0)
        .stdout;
    let ours_key = key[key.find("-----BEGIN PRIVATE KEY").unwrap()..].to_owned();
    std::fs::write(p.join("extracted.key"), ours_key).unwrap();
    let ours = openssl(p, &["pkey", "-in", "extracted.key", "-pubout"])
        .expect(0)
        .stdout;
    assert_eq!(ours, theirs);

    // --legacy: 3DES and an HMAC-SHA-1 MAC, read by OpenSSL 3 with and without -legacy.
    let key_beside = DEVICE; // the key is found in private/ beside certs/
    pki(
        p,
        &[
            "export",
            key_beside,
            "--p12",
            "old.pfx",
            "--legacy",
            "--name",
            "dev",
            "--password-file",
            pw,
        ],
    )
    .expect(0);
    for legacy in [false, true] {
        let info = pkcs12_info(p, "old.pfx", legacy);
        assert!(info.contains("pbeWithSHA1And3-KeyTripleDES-CBC"), "{info}");
        assert!(info.contains("MAC: sha1"), "{info}");
        assert_eq!(info.matches("BEGIN CERTIFICATE").count(), 1, "{info}");
    }
    assert!(keytool_list(p, "old.pfx").contains("Alias name: dev"));

    // A truststore: certificates only, each a trusted entry for keytool and JSSE.
    std::fs::write(
        p.join("cas.pem"),
        std::fs::read_to_string(p.join(ROOT)).unwrap()
            + &std::fs::read_to_string(p.join(INTERMEDIATE)).unwrap(),
    )
    .unwrap();
    for (args, file) in [
        (vec!["--name", "pki-root"], "trust.p12"),
        (vec!["--legacy"], "trust-legacy.p12"),
    ] {
        let mut cmd = vec![
            "export",
            "cas.pem",
            "--truststore",
            file,
            "--password-file",
            pw,
        ];
        cmd.extend(args);
        pki(p, &cmd).expect(0);
        for legacy in [false, true] {
            let info = pkcs12_info(p, file, legacy);
            assert_eq!(info.matches("BEGIN CERTIFICATE").count(), 2, "{info}");
            assert!(!info.contains("PRIVATE KEY"), "{info}");
        }
        let list = keytool_list(p, file);
        assert_eq!(
            list.matches("Entry type: trustedCertEntry").count(),
            2,
            "{list}"
        );
    }
    assert!(keytool_list(p, "trust.p12").contains("Alias name: pki-root-1"));

    // DER and PEM.
    pki(p, &["export", DEVICE_FULL, "--der", "dev.der"]).expect(0);
    let der = openssl(
        p,
        &[
            "x509", "-inform", "DER", "-in", "dev.der", "-noout", "-subject",
        ],
    );
    assert!(der.expect(0).stdout.contains("downstream-device-1"));
    pki(p, &["export", DEVICE_FULL, "--pem", "chain.pem", "--chain"]).expect(0);
    assert_eq!(
        std::fs::read_to_string(p.join("chain.pem")).unwrap(),
        std::fs::read_to_string(p.join(DEVICE_FULL)).unwrap()
    );

    // No password: only when asked for.
    pki(p, &["export", DEVICE, "--p12", "open.p12", "--no-password"]).expect(0);
    let r = openssl(
        p,
        &[
            "pkcs12", "-info", "-in", "open.p12", "-passin", "pass:", "-noout",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// The certificates in a PKCS#12 file as openssl reads them (base64 DER each, in order).
fn p12_certificates(dir: &Path, file: &str) -> Vec<String> {
    let pass = format!("pass:{PASSWORD}");
    let r = openssl(dir, &["pkcs12", "-in", file, "-passin", &pass, "-nokeys"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    pem_certificates(&r.stdout)
}

/// The certificates in a PEM file (base64 DER each, in order).
fn file_certificates(dir: &Path, file: &str) -> Vec<String> {
    pem_certificates(&std::fs::read_to_string(dir.join(file)).unwrap())
}

#[test]
fn a_device_id_exports_as_its_certificate_and_key_as_renew_and_guide_take_it() {
    let d = gateway_pki();
    let p = d.path();
    let pw = password_file(p);
    let id = "downstream-device-1";
    let r = pki(
        p,
        &[
            "export",
            id,
            "--p12",
            "id.p12",
            "--chain",
            "--password-file",
            pw,
        ],
    )
    .expect(0);
    assert!(r.stdout.contains("3 and the private key"), "{}", r.stdout);
    assert_eq!(
        p12_certificates(p, "id.p12"),
        file_certificates(p, DEVICE_FULL)
    );
    let info = pkcs12_info(p, "id.p12", false);
    assert!(info.contains("BEGIN PRIVATE KEY"), "{info}");
    pki(p, &["export", id, "--pem", "id.pem"]).expect(0);
    assert_eq!(file_certificates(p, "id.pem"), file_certificates(p, DEVICE));
    // With --dir elsewhere, and an id that is no device of the directory.
    std::fs::rename(p.join("pki"), p.join("fleet")).unwrap();
    pki(p, &["--dir", "fleet", "export", id, "--der", "id.der"]).expect(0);
    let r = pki(
        p,
        &[
            "--dir",
            "fleet",
            "export",
            "no-such-device",
            "--der",
            "x.der",
        ],
    );
    crate::support::refused_in_one_line(
        &r,
        &["export", "no-such-device"],
        "no-such-device: no such file, and no device no-such-device in fleet",
    );
    assert!(!p.join("x.der").exists());
}

#[test]
fn chain_of_a_single_certificate_is_built_from_the_ca_directory() {
    let d = gateway_pki();
    let p = d.path();
    let pw = password_file(p);
    // The leaf alone, --chain: the chain comes from the directory, as in the -full-chain files.
    for (leaf, full) in [(DEVICE, DEVICE_FULL), (SERVER, SERVER_FULL)] {
        pki(
            p,
            &["export", leaf, "--pem", "chain.pem", "--chain", "--force"],
        )
        .expect(0);
        assert_eq!(
            file_certificates(p, "chain.pem"),
            file_certificates(p, full),
            "{leaf}"
        );
        let v = openssl(
            p,
            &[
                "verify",
                "-CAfile",
                ROOT,
                "-untrusted",
                "chain.pem",
                "chain.pem",
            ],
        );
        assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    }
    let r = pki(
        p,
        &[
            "export",
            DEVICE,
            "--p12",
            "d.p12",
            "--chain",
            "--password-file",
            pw,
        ],
    )
    .expect(0);
    assert!(r.stdout.contains("3 and the private key"), "{}", r.stdout);
    assert_eq!(
        p12_certificates(p, "d.p12"),
        file_certificates(p, DEVICE_FULL)
    );
    // A certificate no CA of the directory issued: refused, nothing written.
    let other = tmp();
    pki(other.path(), &["create-owner-ca"]).expect(0);
    pki(other.path(), &["issue", "device", "stranger"]).expect(0);
    std::fs::copy(
        other.path().join("pki/certs/iot-device-stranger.cert.pem"),
        p.join("stranger.pem"),
    )
    .unwrap();
    let r = pki(p, &["export", "stranger.pem", "--pem", "s.pem", "--chain"]);
    crate::support::refused_in_one_line(
        &r,
        &["export", "stranger.pem", "--chain"],
        "stranger.pem holds one certificate and no CA of pki issued it",
    );
    assert!(!p.join("s.pem").exists());
}

#[test]
fn a_java_client_passes_the_mtls_gateway_with_a_pki_keystore_and_truststore() {
    let d = gateway_pki();
    let p = d.path();
    let pw = password_file(p);
    pki(
        p,
        &[
            "export",
            DEVICE_FULL,
            "--p12",
            "device.p12",
            "--chain",
            "--password-file",
            pw,
        ],
    )
    .expect(0);
    pki(
        p,
        &[
            "export",
            ROOT,
            "--truststore",
            "truststore.p12",
            "--password-file",
            pw,
        ],
    )
    .expect(0);
    std::fs::write(p.join("TlsClient.java"), JAVA_CLIENT).unwrap();
    let javac = java_tool(p, "javac", &["TlsClient.java"]);
    assert_eq!(javac.code, 0, "javac:\n{}", javac.stderr);

    let server = OpensslServer::start(
        p,
        SERVER,
        SERVER_KEY,
        Some(SERVER_FULL),
        &["-Verify", "2", "-verify_return_error", "-CAfile", ROOT],
    );
    let port = server.port().to_string();
    let java = |keystore: &str| {
        java_tool(
            p,
            "java",
            &[
                "-cp",
                ".",
                "TlsClient",
                "localhost",
                &port,
                keystore,
                "truststore.p12",
                PASSWORD,
            ],
        )
    };
    let r = java("device.p12");
    assert_eq!(
        r.code,
        0,
        "the Java client failed:\n{}\n{}\nserver:\n{}",
        r.stdout,
        r.stderr,
        server.output()
    );
    assert!(r.stdout.contains("HTTP/1.0 200 ok"), "{}", r.stdout);
    assert!(r.stdout.contains("peer: CN=localhost"), "{}", r.stdout);

    // Without its keystore the gateway refuses the client (the mTLS is real).
    let r = java("-");
    assert_ne!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
}

#[test]
fn bad_exports_are_refused_in_one_line_and_write_nothing() {
    let d = gateway_pki();
    let p = d.path();
    let pw = password_file(p);
    let state = || tree(p);
    // A key that is not the certificate's.
    fails_cleanly(
        p,
        &[
            "export",
            DEVICE,
            "--p12",
            "x.p12",
            "--key",
            SERVER_KEY,
            "--password-file",
            pw,
        ],
        "does not match the certificate",
        state,
    );
    // An empty password, from a file or the environment.
    std::fs::write(p.join("empty.txt"), "\n").unwrap();
    fails_cleanly(
        p,
        &[
            "export",
            DEVICE,
            "--p12",
            "x.p12",
            "--password-file",
            "empty.txt",
        ],
        "is empty",
        state,
    );
    let r = crate::support::pki_env(
        p,
        &[
            "export",
            ROOT,
            "--truststore",
            "t.p12",
            "--password-env",
            "STORE_PW",
        ],
        &[("STORE_PW", "")],
    );
    crate::support::refused_in_one_line(&r, &["--password-env"], "is empty");
    fails_cleanly(
        p,
        &[
            "export",
            ROOT,
            "--truststore",
            "t.p12",
            "--password-env",
            "NO_SUCH_VARIABLE_SET",
        ],
        "NO_SUCH_VARIABLE_SET",
        state,
    );
    // No terminal to prompt on and no password given.
    fails_cleanly(
        p,
        &["export", DEVICE, "--p12", "x.p12"],
        "needs a password",
        state,
    );
    // A certificate outside a CA directory needs --key.
    std::fs::copy(p.join(DEVICE), p.join("loose.pem")).unwrap();
    fails_cleanly(
        p,
        &[
            "export",
            "loose.pem",
            "--p12",
            "x.p12",
            "--password-file",
            pw,
        ],
        "name its key with --key",
        state,
    );
    // An existing file is kept without --force.
    pki(p, &["export", ROOT, "--der", "root.der"]).expect(0);
    fails_cleanly(
        p,
        &["export", ROOT, "--der", "root.der"],
        "already exists",
        state,
    );
    pki(p, &["export", ROOT, "--der", "root.der", "--force"]).expect(0);
    // The password is no flag value, and the flags that need a keystore say so.
    let r = pki(p, &["export", ROOT, "--der", "r2.der", "--legacy"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

/// A Java TLS client: connects to HOST:PORT with a PKCS#12 keystore (or `-` for none) and
/// truststore, checks the host name as HTTPS does, sends an HTTP request and prints the answer's
/// first line and the peer's subject.
const JAVA_CLIENT: &str = r#"
import java.io.*;
import java.security.KeyStore;
import javax.net.ssl.*;

public class TlsClient {
    public static void main(String[] a) throws Exception {
        char[] pw = a[4].toCharArray();
        KeyManager[] kms = null;
        if (!a[2].equals("-")) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            try (InputStream in = new FileInputStream(a[2])) { ks.load(in, pw); }
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, pw);
            kms = kmf.getKeyManagers();
        }
        KeyStore ts = KeyStore.getInstance("PKCS12");
        try (InputStream in = new FileInputStream(a[3])) { ts.load(in, pw); }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ts);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kms, tmf.getTrustManagers(), null);
        try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(a[0], Integer.parseInt(a[1]))) {
            SSLParameters params = s.getSSLParameters();
            params.setEndpointIdentificationAlgorithm("HTTPS");
            s.setSSLParameters(params);
            s.setSoTimeout(20000);
            s.startHandshake();
            System.out.println("peer: " + ((java.security.cert.X509Certificate) s.getSession().getPeerCertificates()[0]).getSubjectX500Principal().getName());
            OutputStream out = s.getOutputStream();
            out.write("GET / HTTP/1.0\r\n\r\n".getBytes("US-ASCII"));
            out.flush();
            BufferedReader r = new BufferedReader(new InputStreamReader(s.getInputStream(), "US-ASCII"));
            System.out.println(r.readLine());
        }
    }
}
"#;
