//! `pki verify --crl` and `pki show` of a CRL, on the fixtures of testdata/verify-crl: offline,
//! pki's OpenSSL verdict equals `openssl verify -crl_check[_all] -CRLfile`; online, against
//! `openssl s_server` serving each case with one CRL, it equals what `openssl s_client
//! -crl_check[_all] -CRL FILE -verify_return_error` says of the same server (s_client takes one
//! CRL). Bad CRL files are refused in one
//! line with exit 2.

use std::path::{Path, PathBuf};

use crate::support::{OpensslServer, Server, openssl, pki, s_client, testdata, tmp};

/// Every case of testdata/verify-crl with trust anchors (pki takes no empty CA file), sorted.
fn cases() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(testdata("verify-crl"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("case.txt").is_file())
        .filter(|p| std::fs::metadata(p.join("ca.pem")).is_ok_and(|m| m.len() > 0))
        .collect();
    v.sort();
    v
}

fn option(dir: &Path, key: &str) -> Option<String> {
    std::fs::read_to_string(dir.join("case.txt"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")).map(str::to_owned))
}

fn check_all(dir: &Path) -> bool {
    option(dir, "crl_check_all").as_deref() == Some("yes")
}

/// The case's instant: as `-attime` takes it, and as `--at` does.
fn instant(dir: &Path) -> (String, String) {
    let seconds = option(dir, "attime").unwrap();
    let at = time::OffsetDateTime::from_unix_timestamp(seconds.parse().unwrap())
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    (seconds, at)
}

/// pki's arguments for the case, after the target.
fn pki_crl_args(dir: &Path) -> Vec<String> {
    let mut args: Vec<String> = ["--ca-file", "ca.pem", "--crl", "crls.pem", "--at"]
        .map(str::to_owned)
        .to_vec();
    args.push(instant(dir).1);
    if check_all(dir) {
        args.push("--crl-check-all".into());
    }
    args
}

/// `pki --json verify TARGET_ARGS... --ca-file ca.pem --crl crls.pem ...` in the case's
/// directory: its JSON, and OpenSSL's code and depth in it. Panics unless it exits 0 or 1.
fn pki_verdict(dir: &Path, target: &[&str]) -> (serde_json::Value, (i64, Option<u64>)) {
    let mut args: Vec<String> = ["--json", "verify"].map(str::to_owned).to_vec();
    args.extend(target.iter().map(|a| (*a).to_owned()));
    args.extend(pki_crl_args(dir));
    let r = pki(dir, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        r.code == 0 || r.code == 1,
        "{}: {}{}",
        dir.display(),
        r.stdout,
        r.stderr
    );
    let j = r.json();
    let both =
        j["verification"]["openssl"]["code"] == 0 && j["verification"]["webpki"]["result"] == "ok";
    assert_eq!(r.code, if both { 0 } else { 1 }, "{}", dir.display());
    let openssl = &j["verification"]["openssl"];
    let verdict = (
        openssl["code"].as_i64().unwrap_or(-1),
        openssl["depth"].as_u64(),
    );
    (j, verdict)
}

/// The first `error N at D depth lookup` of `openssl verify`, or `None` when it says OK.
fn openssl_verify_first(dir: &Path) -> Option<(i64, u64)> {
    let (seconds, _) = instant(dir);
    let mut args = vec!["verify", "-no-CApath", "-no-CAstore", "-CAfile", "ca.pem"];
    args.extend(["-untrusted", "chain.pem", "-CRLfile", "crls.pem"]);
    args.push(if check_all(dir) {
        "-crl_check_all"
    } else {
        "-crl_check"
    });
    args.extend(["-attime", &seconds, "leaf.pem"]);
    let r = openssl(dir, &args);
    let text = format!("{}{}", r.stdout, r.stderr);
    text.lines().find_map(|l| {
        let rest = l.strip_prefix("error ")?;
        let (n, rest) = rest.split_once(" at ")?;
        let (d, _) = rest.split_once(" depth lookup")?;
        Some((n.parse().ok()?, d.parse().ok()?))
    })
}

#[test]
fn offline_verdict_with_crls_equals_openssl_verify_on_every_case() {
    let cases = cases();
    assert!(cases.len() >= 30, "fixtures missing: {cases:?}");
    let mut mismatches = Vec::new();
    for dir in &cases {
        let case = dir.file_name().unwrap().to_string_lossy().into_owned();
        let (j, ours) = pki_verdict(dir, &["--chain", "leaf.pem", "--untrusted", "chain.pem"]);
        let theirs = openssl_verify_first(dir).map_or((0, None), |(c, d)| (c, Some(d)));
        if ours != theirs {
            mismatches.push(format!(
                "{case}: pki says {ours:?}, openssl verify {theirs:?}"
            ));
        }
        let revocation = &j["verification"]["revocation"];
        assert!(
            revocation["crls"].as_array().is_some_and(|c| !c.is_empty()),
            "{case}: {j}"
        );
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn online_verdict_with_crls_equals_s_client_on_every_case() {
    let mut mismatches = Vec::new();
    // s_client's `-CRL FILE` loads one CRL (the file's first): the cases with one.
    let cases: Vec<PathBuf> = cases()
        .into_iter()
        .filter(|d| {
            let crls = std::fs::read_to_string(d.join("crls.pem")).unwrap();
            crls.matches("-----BEGIN X509 CRL-----").count() == 1
        })
        .collect();
    assert!(cases.len() >= 20, "fixtures missing: {cases:?}");
    let mut seen = std::collections::BTreeSet::new();
    for dir in &cases {
        let case = dir.file_name().unwrap().to_string_lossy().into_owned();
        let server = OpensslServer::start(dir, "leaf.pem", "leaf.key.pem", Some("chain.pem"), &[]);
        let port = server.port();
        let (seconds, _) = instant(dir);
        let check = if check_all(dir) {
            "-crl_check_all"
        } else {
            "-crl_check"
        };
        let handshake = s_client(dir, port)
            .ca_file("ca.pem")
            .verify_return_error()
            .servername("gateway.example.com")
            .verify_hostname("gateway.example.com")
            .args(&[check, "-CRL", "crls.pem", "-attime", &seconds])
            .run();
        let code = handshake.verify_code.unwrap_or_else(|| {
            panic!(
                "{case}: no Verify return code from s_client:\n{}",
                handshake.text()
            )
        });
        seen.insert(code);
        let target = format!("127.0.0.1:{port}");
        let (_, (ours_code, ours_depth)) =
            pki_verdict(dir, &[&target, "--servername", "gateway.example.com"]);
        let ours = (ours_code as i32, ours_depth.map(|d| d as u32));
        if ours != (code, handshake.error_depth) {
            mismatches.push(format!(
                "{case}: pki says {ours:?}, s_client says ({code}, {:?})\n{}",
                handshake.error_depth,
                handshake.text()
            ));
        }
        drop(server);
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    // s_client did check revocation: every CRL code of the single-CRL cases came up.
    for code in [0, 3, 8, 11, 12, 23, 35, 36, 44] {
        assert!(seen.contains(&code), "s_client never said {code}: {seen:?}");
    }
}

#[test]
fn a_revoked_gateway_is_explained_in_plain_words() {
    let dir = testdata("verify-crl/revoked-leaf");
    let r = pki(
        &dir,
        &[
            "verify",
            "--chain",
            "leaf.pem",
            "--untrusted",
            "chain.pem",
            "--ca-file",
            "ca.pem",
            "--crl",
            "crl.der",
            "--at",
            "2030-01-01T00:00:00Z",
        ],
    )
    .expect(1);
    for want in [
        "OpenSSL:   error 23 at 0 depth lookup: certificate revoked",
        "rustls:    CertRevoked",
        "revocation: the leaf checked against 1 CRL",
        "reason keyCompromise",
        "OpenSSL clients with CRL checking reject it",
    ] {
        assert!(r.stdout.contains(want), "{want} missing:\n{}", r.stdout);
    }
    assert!(
        r.stdout.trim_end().ends_with("NOT verified"),
        "{}",
        r.stdout
    );
}

#[test]
fn show_prints_a_crl_in_pem_and_der() {
    let dir = testdata("verify-crl/revoked-leaf");
    let text = pki(&dir, &["show", "crls.pem"]).expect(0).stdout;
    for want in [
        "CRL:",
        "Issuer:",
        "CN = CRL Intermediate CA",
        "CRL number:",
        "Next update:",
        "Authority key:",
        "keyCompromise",
        "cessationOfOperation",
    ] {
        assert!(text.contains(want), "{want} missing:\n{text}");
    }
    let j = pki(&dir, &["--json", "show", "crl.der"]).expect(0).json();
    let crl = &j["crls"][0];
    assert_eq!(crl["issuer"], "CN = CRL Intermediate CA");
    assert_eq!(crl["version"], 2);
    assert_eq!(crl["revoked"].as_array().unwrap().len(), 2);
    // The same serials as `openssl crl -text` lists.
    let listed = openssl(&dir, &["crl", "-in", "crls.pem", "-noout", "-text"]).stdout;
    for r in crl["revoked"].as_array().unwrap() {
        let serial = r["serial"].as_str().unwrap();
        assert!(
            listed.contains(&format!("Serial Number: {serial}")),
            "{serial} not in\n{listed}"
        );
    }
}

#[test]
fn garbage_and_truncated_crl_files_are_one_line_and_exit_2() {
    let t = tmp();
    let pem = std::fs::read_to_string(testdata("verify-crl/revoked-leaf/crls.pem")).unwrap();
    std::fs::write(t.path().join("cut.crl.pem"), &pem[..pem.len() / 2]).unwrap();
    std::fs::write(t.path().join("garbage.crl"), b"\x30\x82garbage").unwrap();
    for (file, want) in [("cut.crl.pem", "truncated"), ("garbage.crl", "not a valid")] {
        let r = pki(t.path(), &["show", file]).expect(2);
        assert_eq!(
            r.stderr
                .trim_end()
                .lines()
                .filter(|l| l.starts_with("pki: error"))
                .count(),
            1,
            "{}",
            r.stderr
        );
        assert!(r.stderr.contains(want), "{file}: {}", r.stderr);
        let leaf = testdata("verify-crl/revoked-leaf/leaf.pem");
        let r = pki(
            t.path(),
            &[
                "verify",
                "--chain",
                leaf.to_str().unwrap(),
                "--ca-file",
                leaf.to_str().unwrap(),
                "--crl",
                file,
            ],
        )
        .expect(2);
        assert!(
            r.stderr.contains(file) && r.stderr.contains("not a valid CRL"),
            "{}",
            r.stderr
        );
    }
}
