//! `pki c8y` against a fake Cumulocity tenant (`tests/c8y_server.py`): a Python standard-library
//! HTTPS server on 127.0.0.1 with a pki-made certificate, which checks Basic auth and roles,
//! examines every uploaded certificate with `openssl x509`, verifies proofs of possession with
//! `openssl dgst -sha256 -verify`, and records every request it receives. Each test asserts the
//! exact requests the tenant received and what the user saw, and that the password never shows.
//!
//! A missing python3 fails the tests (the tenant is never optional).

use std::path::Path;

use base64::Engine;
use serde_json::{Value, json};

use crate::support::quickstart::{INTERMEDIATE, ROOT};
use crate::support::tenant::{PASSWORD, TENANT, Tenant, b64, basic, c8y, command, run, setup};
use crate::support::{
    closed_port, one_error_line, openssl, pki, retries, sha1_fingerprint as fingerprint, testdata,
    tmp,
};

mod crl;
mod hostile;

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap()
}

#[test]
fn upload_owner_ca_looks_up_the_tenant_and_posts_the_pem() {
    let (dir, t) = setup(&[]);
    let d = dir.path();
    let fp = fingerprint(d, ROOT);
    let r = c8y(d, &t, &["c8y", "upload", ROOT]).expect(0);
    assert!(
        r.stdout
            .starts_with("registered CN = IoT Owner Root CA with tenant t12345\n"),
        "{}",
        r.stdout
    );
    for line in [
        format!("fingerprint:         {fp}"),
        "status:              ENABLED".into(),
        "auto-registration:   on".into(),
        "proof of possession: not proven (run again with --prove)".into(),
    ] {
        assert!(r.stdout.contains(&line), "{line}\n{}", r.stdout);
    }
    assert_eq!(r.stderr, "");

    let reqs = t.requests();
    assert_eq!(reqs.len(), 2, "{reqs:#?}");
    assert_eq!(reqs[0]["method"], "GET");
    assert_eq!(reqs[0]["path"], "/tenant/currentTenant");
    assert_eq!(reqs[0]["headers"]["authorization"], basic("admin"));
    assert_eq!(reqs[0]["status"], 200);
    assert_eq!(reqs[1]["method"], "POST");
    assert_eq!(
        reqs[1]["path"],
        "/tenant/tenants/t12345/trusted-certificates"
    );
    assert_eq!(reqs[1]["headers"]["authorization"], basic("admin"));
    assert_eq!(reqs[1]["headers"]["content-type"], "application/json");
    assert_eq!(
        reqs[1]["body"],
        json!({
            "name": "IoT Owner Root CA",
            "certInPemFormat": read(d, ROOT),
            "autoRegistrationEnabled": true,
            "status": "ENABLED",
        })
    );
    assert_eq!(reqs[1]["status"], 201);
    assert_eq!(reqs[1]["response"]["fingerprint"], fp);
}

#[test]
fn upload_from_the_environment_with_tenant_name_and_flags_prints_the_tenant_answer() {
    let (dir, t) = setup(&[]);
    let d = dir.path();
    std::fs::write(d.join("pw.txt"), format!("{PASSWORD}\n")).unwrap();
    let fp = fingerprint(d, INTERMEDIATE);
    let mut cmd = command(
        d,
        &[
            "--json",
            "c8y",
            "upload",
            INTERMEDIATE,
            "--name",
            "Factory A",
            "--no-auto-register",
            "--disabled",
            "--password-file",
            "pw.txt",
            "--ca-file",
            ROOT,
        ],
    );
    cmd.env("C8Y_URL", t.url())
        .env("C8Y_USER", "admin")
        .env("C8Y_TENANT", TENANT);
    let r = run(cmd).expect(0);

    let reqs = t.requests();
    assert_eq!(reqs.len(), 1, "no tenant lookup with C8Y_TENANT: {reqs:#?}");
    assert_eq!(reqs[0]["method"], "POST");
    assert_eq!(
        reqs[0]["path"],
        "/tenant/tenants/t12345/trusted-certificates"
    );
    assert_eq!(reqs[0]["headers"]["authorization"], basic("t12345/admin"));
    assert_eq!(
        reqs[0]["body"],
        json!({
            "name": "Factory A",
            "certInPemFormat": read(d, INTERMEDIATE),
            "autoRegistrationEnabled": false,
            "status": "DISABLED",
        })
    );

    let j = r.json();
    assert_eq!(j["result"], "created");
    assert_eq!(j["tenant"], TENANT);
    assert_eq!(j["sha1"], fp);
    assert_eq!(j["proof_of_possession"], "not attempted");
    // The tenant's answer, unchanged.
    assert_eq!(j["certificate"], reqs[0]["response"]);
    assert_eq!(j["certificate"]["fingerprint"], fp);
    assert_eq!(j["certificate"]["status"], "DISABLED");
    assert_eq!(j["certificate"]["autoRegistrationEnabled"], false);
    assert_eq!(j["certificate"]["subject"], "CN=IoT Intermediate CA");
    assert!(
        j["certificate"]["notAfter"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
}

#[test]
fn upload_a_self_signed_device_certificate() {
    let (dir, t) = setup(&[]);
    let d = dir.path();
    pki(
        d,
        &[
            "self-signed",
            "dev-0001",
            "--out-cert",
            "dev.pem",
            "--out-key",
            "dev.key",
        ],
    )
    .expect(0);
    let r = c8y(d, &t, &["c8y", "upload", "dev.pem"]).expect(0);
    assert!(
        r.stdout.starts_with(
            "registered O = Thin Edge, OU = Device, CN = dev-0001 with tenant t12345\n"
        ),
        "{}",
        r.stdout
    );
    let reqs = t.requests();
    assert_eq!(reqs[1]["body"]["name"], "dev-0001");
    assert_eq!(reqs[1]["body"]["certInPemFormat"], read(d, "dev.pem"));
    assert_eq!(reqs[1]["status"], 201);
    assert_eq!(
        reqs[1]["response"]["fingerprint"],
        fingerprint(d, "dev.pem")
    );
}

#[test]
fn upload_twice_is_already_registered_and_exits_0() {
    let (dir, t) = setup(&[]);
    let d = dir.path();
    let fp = fingerprint(d, ROOT);
    c8y(d, &t, &["c8y", "upload", ROOT]).expect(0);
    let r = c8y(d, &t, &["c8y", "upload", ROOT, "--disabled"]).expect(0);
    assert!(
        r.stdout.starts_with(
            "already registered: CN = IoT Owner Root CA is in tenant t12345's trusted certificates (nothing changed)\n"
        ),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("status:              ENABLED"),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr.contains(
            "was already registered with other settings (status ENABLED, auto-registration on); pki left them as they are"
        ),
        "{}",
        r.stderr
    );
    let calls = t.calls();
    assert_eq!(
        calls[2..],
        [
            ("GET".into(), "/tenant/currentTenant".into(), 200),
            (
                "POST".into(),
                "/tenant/tenants/t12345/trusted-certificates".into(),
                409
            ),
            (
                "GET".into(),
                format!("/tenant/tenants/t12345/trusted-certificates/{fp}"),
                200
            ),
        ]
    );
    assert_eq!(t.requests()[3]["body"]["status"], "DISABLED");
}

#[test]
fn wrong_password_is_401_wrong_user_or_password_for_the_tenant() {
    let (dir, t) = setup(&[]);
    let d = dir.path();
    let url = t.url();
    for (extra, who) in [
        (vec![], format!("localhost:{}", t.port)),
        (vec!["--tenant", TENANT], TENANT.to_owned()),
    ] {
        let mut args = vec!["c8y", "upload", ROOT, "--url", &url, "--user", "admin"];
        args.extend_from_slice(&["--ca-file", ROOT]);
        args.extend_from_slice(&extra);
        let mut cmd = command(d, &args);
        cmd.env("C8Y_PASSWORD", "wrong-password");
        let r = run(cmd).expect(2);
        let line = one_error_line(&r);
        assert!(
            line.starts_with(&format!("pki: error: wrong user or password for {who}: ")),
            "{line}"
        );
        assert!(
            line.contains("401 Unauthorized: Invalid credentials! : Bad credentials"),
            "{line}"
        );
        assert_eq!(r.stdout, "");
    }
    let reqs = t.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0]["path"], "/tenant/currentTenant");
    assert_eq!(reqs[0]["status"], 401);
    assert_eq!(
        reqs[1]["headers"]["authorization"],
        format!("Basic {}", b64("t12345/admin:wrong-password"))
    );
    assert_eq!(reqs[1]["status"], 401);
}

#[test]
fn a_user_without_the_role_is_403_and_told_the_role() {
    let (dir, t) = setup(&[]);
    let d = dir.path();
    let url = t.url();
    let mut cmd = command(
        d,
        &[
            "c8y",
            "upload",
            ROOT,
            "--url",
            &url,
            "--user",
            "viewer",
            "--ca-file",
            ROOT,
        ],
    );
    cmd.env("C8Y_PASSWORD", PASSWORD);
    let r = run(cmd).expect(2);
    let line = one_error_line(&r);
    assert_eq!(
        line,
        "pki: error: cannot register pki/certs/azure-iot-test-only.root.ca.cert.pem with tenant t12345: \
         user \"viewer\" lacks the tenant management admin role (ROLE_TENANT_MANAGEMENT_ADMIN) in tenant t12345; \
         the tenant said 403 Forbidden: Access is denied (security/Forbidden); ask an administrator to grant it (Administration > Roles)"
    );
    assert_eq!(t.calls()[1].2, 403);
    assert_eq!(t.requests()[1]["headers"]["authorization"], basic("viewer"));
}

#[test]
fn invalid_certificates_are_422_with_the_tenant_message() {
    let (dir, t) = setup(&[]);
    let d = dir.path();
    let cases = [
        (
            testdata("show/v1.cert.pem"),
            "Certificate is not an X.509 v3 certificate (version 1) (core/Unprocessable Entity)",
        ),
        (
            testdata("show/ec-server.cert.pem"),
            "Certificate is not a CA certificate (basicConstraints CA:TRUE is missing) (core/Unprocessable Entity)",
        ),
        (
            testdata("verify/expired-anchor/ca.pem"),
            "Certificate expired on 2026-01-01T00:00:00Z (core/Unprocessable Entity)",
        ),
    ];
    for (i, (file, message)) in cases.iter().enumerate() {
        let file = file.display().to_string();
        let r = c8y(d, &t, &["c8y", "upload", &file]).expect(2);
        let line = one_error_line(&r);
        assert_eq!(
            line,
            format!(
                "pki: error: cannot register {file} with tenant t12345: the tenant rejected the certificate: {message}"
            )
        );
        let reqs = t.requests();
        let post = &reqs[2 * i + 1];
        assert_eq!(post["method"], "POST");
        assert_eq!(post["status"], 422);
        let der = openssl(d, &["x509", "-in", &file, "-outform", "PEM"]).expect(0);
        assert_eq!(post["body"]["certInPemFormat"], der.stdout, "{file}");
    }
}

#[test]
fn two_503s_are_retried_with_backoff_then_the_upload_succeeds() {
    let (dir, t) = setup(&["--fail", "2"]);
    let d = dir.path();
    let r = c8y(d, &t, &["c8y", "upload", ROOT]).expect(0);
    assert_eq!(
        retries(&r),
        [
            "pki: retrying GET /tenant/currentTenant in 0.2 s (attempt 2 of 4): 503 Service Unavailable: the tenant is under maintenance (general/Service Unavailable)",
            "pki: retrying GET /tenant/currentTenant in 0.4 s (attempt 3 of 4): 503 Service Unavailable: the tenant is under maintenance (general/Service Unavailable)",
        ]
    );
    assert_eq!(r.stderr.lines().count(), 2, "{}", r.stderr);
    assert!(r.stdout.starts_with("registered CN = IoT Owner Root CA"));
    assert_eq!(
        t.calls(),
        [
            ("GET".into(), "/tenant/currentTenant".into(), 503),
            ("GET".into(), "/tenant/currentTenant".into(), 503),
            ("GET".into(), "/tenant/currentTenant".into(), 200),
            (
                "POST".into(),
                "/tenant/tenants/t12345/trusted-certificates".into(),
                201
            ),
        ]
    );
}

#[test]
fn a_tenant_that_keeps_failing_is_given_up_after_four_attempts() {
    let (dir, t) = setup(&["--fail", "100", "--fail-status", "502"]);
    let d = dir.path();
    let url = t.url();
    let r = c8y(d, &t, &["c8y", "list"]).expect(2);
    assert_eq!(retries(&r).len(), 3, "{}", r.stderr);
    assert_eq!(
        one_error_line(&r),
        format!(
            "pki: error: GET {url}/tenant/currentTenant: the tenant answered 502 Bad Gateway: the tenant is under maintenance (general/Service Unavailable) (4 attempts)"
        )
    );
    assert_eq!(t.requests().len(), 4);
}

#[test]
fn another_status_shows_the_status_and_the_tenant_message() {
    let (dir, t) = setup(&[]);
    let d = dir.path();
    let url = t.url();
    let mut cmd = command(
        d,
        &[
            "c8y",
            "list",
            "--url",
            &url,
            "--user",
            "t12345/admin",
            "--tenant",
            "t999",
            "--ca-file",
            ROOT,
        ],
    );
    cmd.env("C8Y_PASSWORD", PASSWORD);
    let r = run(cmd).expect(2);
    assert_eq!(
        one_error_line(&r),
        "pki: error: cannot list the trusted certificates of tenant t999: the tenant answered 404 Not Found: Tenant with id t999 not found (tenant/Not Found)"
    );
    let reqs = t.requests();
    assert_eq!(
        reqs[0]["path"],
        "/tenant/tenants/t999/trusted-certificates?pageSize=100&currentPage=1"
    );
    assert_eq!(reqs[0]["headers"]["authorization"], basic("t12345/admin"));
}

#[test]
fn list_shows_every_trusted_certificate() {
    let (dir, t) = setup(&[]);
    let d = dir.path();
    let r = c8y(d, &t, &["c8y", "list"]).expect(0);
    assert_eq!(r.stdout, "tenant t12345 has no trusted certificates\n");
    c8y(d, &t, &["c8y", "upload", ROOT]).expect(0);
    c8y(d, &t, &["c8y", "upload", INTERMEDIATE, "--disabled"]).expect(0);
    let (root, inter) = (fingerprint(d, ROOT), fingerprint(d, INTERMEDIATE));

    let r = c8y(d, &t, &["c8y", "list"]).expect(0);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines[0], "tenant t12345: 2 trusted certificate(s)");
    assert!(lines[1].starts_with("FINGERPRINT"), "{}", r.stdout);
    assert!(lines[2].starts_with(&format!("{root}  ENABLED   on        no      ")));
    assert!(lines[2].ends_with("IoT Owner Root CA (CN=IoT Owner Root CA)"));
    assert!(lines[3].starts_with(&format!("{inter}  DISABLED  on        no      ")));
    assert_eq!(lines.len(), 4);

    let r = c8y(d, &t, &["--json", "c8y", "list"]).expect(0);
    let j = r.json();
    assert_eq!(j["tenant"], TENANT);
    let fps: Vec<&str> = j["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(fps, [root.as_str(), inter.as_str()]);
    let last = t.requests().pop().unwrap();
    assert_eq!(last["method"], "GET");
    assert_eq!(
        last["path"],
        "/tenant/tenants/t12345/trusted-certificates?pageSize=100&currentPage=1"
    );
    assert_eq!(last["headers"]["authorization"], basic("admin"));
}

#[test]
fn upload_list_and_remove_text_snapshot() {
    // What a user reads of each step against a tenant: an empty listing, an upload, the same
    // upload with other settings (already registered), an upload proven, the listing, a
    // removal and a removal of what is gone.
    let (dir, t) = setup(&[]);
    let d = dir.path();
    let settings = crate::support::snapshot::settings(&[d]);
    for (name, args) in [
        ("list_empty", &["c8y", "list"][..]),
        ("upload", &["c8y", "upload", ROOT][..]),
        ("upload_again", &["c8y", "upload", ROOT, "--disabled"][..]),
        (
            "upload_proven",
            &["c8y", "upload", INTERMEDIATE, "--disabled", "--prove"][..],
        ),
        ("list", &["c8y", "list"][..]),
        ("remove", &["c8y", "remove", ROOT][..]),
        ("remove_again", &["c8y", "remove", ROOT][..]),
    ] {
        let r = c8y(d, &t, args).expect(0);
        settings.bind(|| insta::assert_snapshot!(name, crate::support::snapshot::transcript(&r)));
    }
}

#[test]
fn remove_by_file_and_by_fingerprint() {
    let (dir, t) = setup(&[]);
    let d = dir.path();
    c8y(d, &t, &["c8y", "upload", ROOT]).expect(0);
    c8y(d, &t, &["c8y", "upload", INTERMEDIATE]).expect(0);
    let (root, inter) = (fingerprint(d, ROOT), fingerprint(d, INTERMEDIATE));

    let r = c8y(d, &t, &["c8y", "remove", ROOT]).expect(0);
    assert_eq!(
        r.stdout,
        format!("removed {root} from tenant t12345's trusted certificates\n")
    );
    let last = t.requests().pop().unwrap();
    assert_eq!(last["method"], "DELETE");
    assert_eq!(
        last["path"],
        format!("/tenant/tenants/t12345/trusted-certificates/{root}")
    );
    assert_eq!(last["headers"]["authorization"], basic("admin"));
    assert_eq!(last["status"], 204);

    // As `openssl x509 -fingerprint` prints it: upper case with colons.
    let colons = inter
        .to_ascii_uppercase()
        .as_bytes()
        .chunks(2)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(":");
    let r = c8y(d, &t, &["--json", "c8y", "remove", &colons]).expect(0);
    assert_eq!(
        r.json(),
        json!({"result": "removed", "tenant": TENANT, "sha1": inter})
    );
    assert_eq!(
        t.requests().pop().unwrap()["path"],
        format!("/tenant/tenants/t12345/trusted-certificates/{inter}")
    );

    let r = c8y(d, &t, &["c8y", "remove", &inter]).expect(0);
    assert_eq!(
        r.stdout,
        format!(
            "not registered: tenant t12345 has no trusted certificate {inter} (nothing to remove)\n"
        )
    );
    assert_eq!(t.requests().pop().unwrap()["status"], 404);
    let r = c8y(d, &t, &["c8y", "list"]).expect(0);
    assert_eq!(r.stdout, "tenant t12345 has no trusted certificates\n");
}

/// Checks with openssl that the pop request carried a SHA-256 signature over the verification
/// code the tenant handed out, made by `cert`'s key and by no other.
fn assert_signed_code(dir: &Path, reqs: &[Value], cert: &str, other: &str) {
    let code_req = reqs
        .iter()
        .find(|r| r["path"].as_str().unwrap().ends_with("/verification-code"))
        .expect("a verification-code request");
    let pop_req = reqs
        .iter()
        .find(|r| r["path"].as_str().unwrap().ends_with("/pop"))
        .expect("a pop request");
    let code = code_req["response"]["proofOfPossessionUnsignedVerificationCode"]
        .as_str()
        .unwrap();
    let body = pop_req["body"].as_object().unwrap();
    assert_eq!(body.len(), 1, "{body:?}");
    let sig = base64::engine::general_purpose::STANDARD
        .decode(
            body["proofOfPossessionSignedVerificationCode"]
                .as_str()
                .unwrap(),
        )
        .expect("standard base64");
    std::fs::write(dir.join("code.txt"), code).unwrap();
    std::fs::write(dir.join("code.sig"), sig).unwrap();
    for (c, ok) in [(cert, true), (other, false)] {
        let pubkey = openssl(dir, &["x509", "-in", c, "-noout", "-pubkey"]).expect(0);
        std::fs::write(dir.join("pub.pem"), pubkey.stdout).unwrap();
        let v = openssl(
            dir,
            &[
                "dgst",
                "-sha256",
                "-verify",
                "pub.pem",
                "-signature",
                "code.sig",
                "code.txt",
            ],
        );
        assert_eq!(v.code == 0, ok, "{c}: {}{}", v.stdout, v.stderr);
    }
}

#[test]
fn prove_signs_the_verification_code_with_the_ca_directory_key() {
    let (dir, t) = setup(&[]);
    let d = dir.path();
    let fp = fingerprint(d, ROOT);
    let r = c8y(d, &t, &["c8y", "upload", ROOT, "--prove"]).expect(0);
    assert!(
        r.stdout.contains("proof of possession: valid\n"),
        "{}",
        r.stdout
    );
    let pop = format!("/tenant/tenants/t12345/trusted-certificates-pop/{fp}");
    assert_eq!(
        t.calls(),
        [
            ("GET".into(), "/tenant/currentTenant".into(), 200),
            (
                "POST".into(),
                "/tenant/tenants/t12345/trusted-certificates".into(),
                201
            ),
            ("POST".into(), format!("{pop}/verification-code"), 200),
            ("POST".into(), format!("{pop}/pop"), 200),
        ]
    );
    let reqs = t.requests();
    assert_eq!(reqs[3]["response"]["proofOfPossessionValid"], true);
    assert_eq!(reqs[3]["headers"]["authorization"], basic("admin"));
    assert_signed_code(d, &reqs, ROOT, INTERMEDIATE);

    // Proven already: nothing more is sent but the upload (409) and the read-back.
    let r = c8y(d, &t, &["--json", "c8y", "upload", ROOT, "--prove"]).expect(0);
    let j = r.json();
    assert_eq!(j["result"], "already registered");
    assert_eq!(j["proof_of_possession"], "valid");
    assert_eq!(j["certificate"]["proofOfPossessionValid"], true);
    assert_eq!(t.requests().len(), 7);
}

#[test]
fn prove_with_an_encrypted_rsa_key_given_by_path() {
    let (dir, t) = setup(&[]);
    let d = dir.path();
    let cert = testdata("show/rsa-root.cert.pem").display().to_string();
    let key = testdata("show/rsa-root.key.pem").display().to_string();
    let pw = testdata("show/rsa-root.password.txt").display().to_string();
    let r = c8y(
        d,
        &t,
        &[
            "c8y",
            "upload",
            &cert,
            "--prove",
            "--key",
            &key,
            "--key-password-file",
            &pw,
        ],
    )
    .expect(0);
    assert!(
        r.stdout.contains("proof of possession: valid\n"),
        "{}",
        r.stdout
    );
    let reqs = t.requests();
    assert_eq!(reqs.len(), 4);
    assert_eq!(reqs[3]["status"], 200);
    assert_signed_code(d, &reqs, &cert, ROOT);
}

#[test]
fn prove_refuses_what_it_cannot_sign_before_sending_anything() {
    let (dir, t) = setup(&[]);
    let d = dir.path();
    let ed = testdata("show/ed25519-self.cert.pem").display().to_string();
    let ed_key = testdata("show/ed25519-self.key.pem").display().to_string();
    let r = c8y(d, &t, &["c8y", "upload", &ed, "--prove", "--key", &ed_key]).expect(2);
    let line = one_error_line(&r);
    assert!(line.contains("cannot prove possession of"), "{line}");
    assert!(
        line.contains(&format!("openssl dgst -sha256 -sign {ed_key} code.txt")),
        "{line}"
    );

    let key = "pki/private/azure-iot-test-only.intermediate.key.pem";
    let r = c8y(d, &t, &["c8y", "upload", ROOT, "--prove", "--key", key]).expect(2);
    assert_eq!(
        one_error_line(&r),
        format!("pki: error: the key {key} does not belong to {ROOT} (CN = IoT Owner Root CA)")
    );

    std::fs::copy(d.join(ROOT), d.join("root.pem")).unwrap();
    let r = c8y(d, &t, &["c8y", "upload", "root.pem", "--prove"]).expect(2);
    assert!(
        one_error_line(&r).contains(
            "root.pem is not in a CA directory (DIR/certs/NAME.cert.pem); name the key with --key"
        ),
        "{}",
        r.stderr
    );
    assert!(t.requests().is_empty());
}

#[test]
fn prove_refuses_a_verification_code_that_is_not_one() {
    // A tenant that hands out a JWT signing input instead of a code would get a JWT signed by
    // the root CA key: nothing is signed and nothing is posted to /pop.
    let jwt_input = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0";
    let (dir, t) = setup(&["--verification-code", jwt_input]);
    let d = dir.path();
    let fp = fingerprint(d, ROOT);
    let r = c8y(d, &t, &["c8y", "upload", ROOT, "--prove"]).expect(2);
    assert_eq!(r.stdout, "");
    assert_eq!(
        one_error_line(&r),
        format!(
            "pki: error: cannot prove possession of {ROOT}'s key to tenant t12345 ({}): its verification code {jwt_input:?} is not one (1 to 64 letters and digits, as IoT Hub and Cumulocity hand them out); nothing was signed",
            t.url()
        )
    );
    let pop = format!("/tenant/tenants/t12345/trusted-certificates-pop/{fp}");
    assert_eq!(
        t.calls(),
        [
            ("GET".into(), "/tenant/currentTenant".into(), 200),
            (
                "POST".into(),
                "/tenant/tenants/t12345/trusted-certificates".into(),
                201
            ),
            ("POST".into(), format!("{pop}/verification-code"), 200),
        ]
    );
}

#[test]
fn a_wrong_url_is_one_clear_line_and_exit_2() {
    let dir = tmp();
    let d = dir.path();
    pki(d, &["quickstart", "--gateway", "localhost"]).expect(0);
    let attempt = |url: &str, ca_file: bool, env: &[(&str, &str)]| {
        let mut args = vec!["c8y", "list", "--url", url, "--user", "admin"];
        if ca_file {
            args.extend_from_slice(&["--ca-file", ROOT]);
        }
        let mut cmd = command(d, &args);
        cmd.env("C8Y_PASSWORD", PASSWORD);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let r = run(cmd).expect(2);
        assert_eq!(r.stdout, "");
        let line = one_error_line(&r);
        (line, retries(&r).len())
    };

    // Nothing listens: retried, then one line.
    let url = format!("https://127.0.0.1:{}", closed_port());
    let (line, n) = attempt(&url, true, &[]);
    assert_eq!(
        line,
        format!(
            "pki: error: cannot reach the tenant at {url}: connection refused (4 attempts); check --url / C8Y_URL"
        )
    );
    assert_eq!(n, 3);

    // No such host (.invalid never resolves).
    let (line, n) = attempt("https://no-such-tenant.invalid", true, &[]);
    assert!(
        line.starts_with("pki: error: cannot reach the tenant at https://no-such-tenant.invalid: "),
        "{line}"
    );
    assert_eq!(n, 3);

    // A plain-HTTP server: not TLS, said at once.
    let plain = Tenant::plain(d);
    let url = format!("https://localhost:{}", plain.port);
    let (line, n) = attempt(&url, true, &[]);
    assert!(
        line.starts_with(&format!(
            "pki: error: {url} does not speak TLS (the answer is not a TLS handshake: "
        )),
        "{line}"
    );
    assert_eq!(n, 0);

    // A tenant whose certificate the OS store does not trust (the store is made to hold one
    // unrelated root, so the test does not depend on this machine's store).
    let t = Tenant::start(d, &[]);
    let other_root = testdata("show/rsa-root.cert.pem").display().to_string();
    let (line, n) = attempt(&t.url(), false, &[("SSL_CERT_FILE", other_root.as_str())]);
    assert_eq!(
        line,
        format!(
            "pki: error: TLS to {} failed: the tenant's certificate is not trusted (UnknownIssuer); for a private tenant pass its CA with --ca-file",
            t.url()
        )
    );
    assert_eq!(n, 0);
    assert!(t.requests().is_empty());

    // http:// is refused before anything is sent.
    let (line, n) = attempt(&format!("http://localhost:{}", t.port), true, &[]);
    assert!(line.contains("is not an https:// URL"), "{line}");
    assert_eq!(n, 0);
    assert!(plain.requests().is_empty());
}

#[test]
fn https_proxy_is_honoured_and_no_proxy_exempts_the_tenant() {
    let (dir, t) = setup(&[]);
    let d = dir.path();
    let url = t.url();
    let proxy = format!("http://127.0.0.1:{}", closed_port());
    let args = [
        "c8y",
        "list",
        "--url",
        &url,
        "--user",
        "admin",
        "--ca-file",
        ROOT,
    ];
    let mut cmd = command(d, &args);
    cmd.env("C8Y_PASSWORD", PASSWORD)
        .env("HTTPS_PROXY", &proxy)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy");
    let r = run(cmd).expect(2);
    let line = one_error_line(&r);
    assert!(
        line.ends_with(
            "check --url / C8Y_URL and the proxy in HTTPS_PROXY (NO_PROXY lists hosts that bypass it)"
        ),
        "{line}"
    );
    assert!(
        t.requests().is_empty(),
        "the request went through the proxy"
    );

    let mut cmd = command(d, &args);
    cmd.env("C8Y_PASSWORD", PASSWORD)
        .env("HTTPS_PROXY", &proxy)
        .env("NO_PROXY", "localhost");
    run(cmd).expect(0);
    assert_eq!(t.requests().len(), 2);
}

#[test]
fn without_a_password_and_a_terminal_nothing_is_sent() {
    let (dir, t) = setup(&[]);
    let d = dir.path();
    let url = t.url();
    let cmd = command(
        d,
        &[
            "c8y",
            "upload",
            ROOT,
            "--url",
            &url,
            "--user",
            "admin",
            "--ca-file",
            ROOT,
        ],
    );
    let r = run(cmd).expect(2);
    assert_eq!(
        one_error_line(&r),
        "pki: error: no password for admin: give --password-file FILE or set C8Y_PASSWORD (there is no terminal to ask on)"
    );
    assert!(t.requests().is_empty());
}

#[test]
fn an_upload_that_fails_after_registering_prints_one_json_document_the_error() {
    // The certificate is registered (201), then the proof cannot go on: with --json, stdout
    // holds the error document alone, never the upload's report and then the error.
    let jwt_input = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0";
    let (dir, t) = setup(&["--verification-code", jwt_input]);
    let d = dir.path();
    let r = c8y(d, &t, &["--json", "c8y", "upload", ROOT, "--prove"]).expect(2);
    let line = one_error_line(&r);
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
    let doc = r.json();
    assert_eq!(
        doc["error"].as_str(),
        line.strip_prefix("pki: error: "),
        "{doc}"
    );
    assert!(doc.get("result").is_none(), "{doc}");
    assert_eq!(t.calls()[1].2, 201);
    // The run that succeeds prints its report alone.
    let r = c8y(d, &t, &["--json", "c8y", "upload", ROOT]).expect(0);
    let doc = r.json();
    assert_eq!(doc["result"], "already registered");
    assert!(doc.get("error").is_none(), "{doc}");
}
