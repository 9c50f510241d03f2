//! `pki issue device --batch`: every certificate of a lot verifies with OpenSSL, serials are
//! unique, the manifest matches the files, bad lines are reported by number while the rest goes
//! on, and a run killed with SIGKILL finishes on the next run with no device issued twice.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::lot::{ca, check_lot, manifest, manifest_ids, plant, verify_sample};
use crate::support::programs;
use crate::support::{fails_cleanly, openssl_text, pki, pki_command, tmp, tree};

#[test]
fn a_lot_is_issued_with_bad_lines_reported_by_number() {
    let d = tmp();
    let p = d.path();
    ca(p);
    let mut input: Vec<String> = (1..=1500).map(|i| format!("sensor-{i:05}")).collect();
    input.insert(10, String::new());
    input.insert(20, "bad/id".into());
    input.insert(30, "sensor-00001".into());
    // The CN of an IoT Edge device CA is no device id.
    pki(p, &["create-edge-ca", "gw"]).expect(0);
    input.push("GW.ca".into());
    std::fs::write(p.join("lot.txt"), input.join("\n") + "\n").unwrap();
    let r = pki(p, &["issue", "device", "--batch", "lot.txt"]).expect(1);
    // The blank line 11 is skipped, not rejected; the lines after it keep their numbers.
    assert!(!r.stderr.contains("line 11:"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("line 21: \"bad/id\": not a valid device id"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("line 31: \"sensor-00001\": duplicate device id"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("line 1504: \"GW.ca\": gw.ca is the CN of the IoT Edge device CA"),
        "{}",
        r.stderr
    );
    assert!(
        r.stdout.contains("1500 issued") && r.stdout.contains("3 rejected"),
        "{}",
        r.stdout
    );
    let lines = manifest(&p.join("pki/manifest.jsonl"));
    check_lot(p, &lines, 1500);
    verify_sample(p, &lines);
    // The register has every certificate once: 3 CAs + the lot.
    let index = crate::support::register_lines(p);
    assert_eq!(index.lines().count(), 1503);
    // Keys 0600 in the 0700 private/.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key = p.join(lines[0]["key"].as_str().unwrap());
        assert_eq!(
            std::fs::metadata(key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // A second run finds everything done and issues nothing.
    let r = pki(p, &["issue", "device", "--batch", "lot.txt"]).expect(1);
    assert!(
        r.stdout.contains("0 issued, 1500 already done"),
        "{}",
        r.stdout
    );
    assert_eq!(manifest(&p.join("pki/manifest.jsonl")).len(), 1500);
}

#[test]
fn csv_from_stdin_into_folders_with_json_summary() {
    let d = tmp();
    let p = d.path();
    ca(p);
    let csv = "device_id,sans,days,model\ncam-1,cam-1.local;10.0.0.7,30,x\ncam-2,,,y\n";
    let mut child = crate::support::pki_command(std::path::Path::new("."), &[])
        .current_dir(p)
        .args(["--json", "issue", "device", "--batch", "-", "--out", "lot"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(csv.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(summary["summary"]["issued"], 2);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("model"),
        "unused column not mentioned"
    );
    let lines = manifest(&p.join("lot/manifest.jsonl"));
    check_lot(p, &lines, 2);
    assert!(p.join("lot/cam-1/key.pem").is_file() && p.join("lot/cam-1/full-chain.pem").is_file());
    let text = openssl_text(p, "lot/cam-1/cert.pem");
    assert!(
        text.contains("DNS:cam-1.local, IP Address:10.0.0.7"),
        "{text}"
    );
    let days = pki(p, &["--json", "show", "lot/cam-1/cert.pem"])
        .expect(0)
        .json();
    let nb = &days["certificates"][0]["not_before"];
    let na = &days["certificates"][0]["not_after"];
    let parse = |v: &serde_json::Value| {
        time::OffsetDateTime::parse(
            v.as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
    };
    assert_eq!((parse(na) - parse(nb)).whole_days(), 30);
    verify_sample(p, &lines);
}

#[test]
fn strict_stops_at_the_first_bad_line() {
    let d = tmp();
    let p = d.path();
    ca(p);
    std::fs::write(p.join("lot.txt"), "a-1\nb/2\nc-3\n").unwrap();
    let r = pki(p, &["issue", "device", "--batch", "lot.txt", "--strict"]).expect(1);
    assert!(r.stderr.contains("line 2"), "{}", r.stderr);
    assert!(!p.join("pki/certs/iot-device-c-3.cert.pem").exists());
}

#[test]
fn strict_stops_at_the_first_device_whose_files_are_not_the_batch_s() {
    let d = tmp();
    let p = d.path();
    ca(p);
    pki(p, &["csr", "create", "b-2", "--profile", "device"]).expect(0);
    std::fs::write(p.join("lot.txt"), "a-1\nb-2\nc-3\n").unwrap();
    let r = pki(p, &["issue", "device", "--batch", "lot.txt", "--strict"]).expect(1);
    assert!(
        r.stderr
            .contains("line 2: \"b-2\": pki/private/iot-device-b-2.key.pem exists"),
        "{}",
        r.stderr
    );
    assert!(
        r.stdout.contains("stopped at the first rejected line"),
        "{}",
        r.stdout
    );
    assert_eq!(manifest_ids(&p.join("pki/manifest.jsonl")), ["a-1"]);
    assert!(!p.join("pki/certs/iot-device-c-3.cert.pem").exists());
}

#[test]
fn summary_text_snapshot() {
    // What a user reads of a lot: its rejected lines by number and the summary; a second run
    // of it; the same lot with --strict; a clean lot into a folder of its own.
    let d = tmp();
    let p = d.path();
    ca(p);
    std::fs::write(p.join("ids.txt"), "dev-1\ndev-2\nbad/id\n\ndev-1\ndev-3\n").unwrap();
    std::fs::write(p.join("clean.txt"), "cam-1\ncam-2\n").unwrap();
    let settings = crate::support::snapshot::settings(&[p]);
    for (name, args, code) in [
        ("summary_rejected_lines", &["--batch", "ids.txt"][..], 1),
        ("summary_again", &["--batch", "ids.txt"][..], 1),
        (
            "summary_strict",
            &["--batch", "ids.txt", "--strict", "--out", "strict"][..],
            1,
        ),
        (
            "summary_clean_lot",
            &["--batch", "clean.txt", "--out", "lot"][..],
            0,
        ),
    ] {
        let mut all = vec!["issue", "device"];
        all.extend_from_slice(args);
        let r = pki(p, &all).expect(code);
        settings.bind(|| insta::assert_snapshot!(name, crate::support::snapshot::transcript(&r)));
    }
}

#[test]
fn a_killed_run_finishes_on_the_next_with_no_device_issued_twice() {
    let d = tmp();
    let p = d.path();
    ca(p);
    let n = 12_000;
    let input: Vec<String> = (1..=n).map(|i| format!("unit-{i:06}")).collect();
    std::fs::write(p.join("lot.txt"), input.join("\n") + "\n").unwrap();
    let mut child = crate::support::pki_command(std::path::Path::new("."), &[])
        .current_dir(p)
        .args(["issue", "device", "--batch", "lot.txt"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it with SIGKILL once some, but not all, of the lot is done.
    let manifest_path = p.join("pki/manifest.jsonl");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let done = std::fs::read_to_string(&manifest_path)
            .map(|t| t.lines().count())
            .unwrap_or(0);
        if done >= 1 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the batch finished before it could be killed"
        );
        assert!(Instant::now() < deadline, "the batch made no progress");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // Complete lines only: the kill may have cut the last one (the re-run repairs it).
    let before = std::fs::read_to_string(&manifest_path)
        .unwrap()
        .matches('\n')
        .count();
    assert!(before < n, "killed too late: {before} of {n} done");
    let certs_before: HashMap<String, Vec<u8>> = std::fs::read_dir(p.join("pki/certs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|f| {
            f.to_string_lossy().ends_with(".cert.pem")
                && !f.to_string_lossy().contains("full-chain")
        })
        .map(|f| (f.display().to_string(), std::fs::read(&f).unwrap()))
        .collect();
    // A device the killed run left torn (half a certificate, a stray key) is issued afresh.
    let last = format!("unit-{n:06}");
    let torn = p.join(format!("pki/certs/iot-device-{last}.cert.pem"));
    if !torn.exists() {
        let good =
            std::fs::read_to_string(p.join("pki/certs/azure-iot-test-only.root.ca.cert.pem"))
                .unwrap();
        std::fs::write(&torn, &good[..good.len() / 2]).unwrap();
        std::fs::write(
            p.join(format!("pki/private/iot-device-{last}.key.pem")),
            "-----BEGIN PRIV",
        )
        .unwrap();
    }
    let r = pki(p, &["issue", "device", "--batch", "lot.txt"]).expect(0);
    assert!(
        r.stdout.contains(&format!("{before} already done")),
        "{}",
        r.stdout
    );
    let lines = manifest(&manifest_path);
    check_lot(p, &lines, n);
    verify_sample(p, &lines);
    // Nothing the killed run had issued was issued again: its complete certificate files are
    // unchanged (a torn one, cut by the kill, was never issued and has been replaced).
    for (f, bytes) in certs_before
        .iter()
        .filter(|(_, b)| b.ends_with(b"-----END CERTIFICATE-----\n"))
        .filter(|(f, _)| !f.ends_with(&format!("iot-device-{last}.cert.pem")))
    {
        assert_eq!(&std::fs::read(f).unwrap(), bytes, "{f} was re-issued");
    }
    // The register holds each certificate exactly once.
    let index = crate::support::register_lines(p);
    let serials: Vec<String> = index
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["serial"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(serials.len(), n + 2);
    assert_eq!(serials.iter().collect::<HashSet<_>>().len(), n + 2);
}

/// Every file below `dir` with its bytes: to prove that a refused command touched nothing.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    tree(dir)
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(dir.join(&f)).unwrap_or_default();
            (f, bytes)
        })
        .collect()
}

#[test]
fn a_batch_never_replaces_a_key_it_did_not_create() {
    let d = tmp();
    let p = d.path();
    ca(p);
    // A CSR made for sensor-7 before the lot: its key is somebody's, not the batch's.
    pki(p, &["csr", "create", "sensor-7", "--profile", "device"]).expect(0);
    let key = p.join("pki/private/iot-device-sensor-7.key.pem");
    let csr_key = std::fs::read(&key).unwrap();
    std::fs::write(p.join("ids.txt"), "sensor-6\nsensor-7\nsensor-8\n").unwrap();
    for _ in 0..2 {
        // Rejected by number, naming the file; the rest of the lot goes on. A second run does
        // not take the key for a leftover of the first.
        let r = pki(p, &["issue", "device", "--batch", "ids.txt"]).expect(1);
        assert!(
            r.stderr.contains(
                "line 2: \"sensor-7\": pki/private/iot-device-sensor-7.key.pem exists; --force to replace"
            ),
            "{}",
            r.stderr
        );
        assert_eq!(
            std::fs::read(&key).unwrap(),
            csr_key,
            "the CSR's key was replaced"
        );
        assert!(!p.join("pki/certs/iot-device-sensor-7.cert.pem").exists());
        assert_eq!(
            manifest_ids(&p.join("pki/manifest.jsonl")),
            ["sensor-6", "sensor-8"]
        );
    }
    // --force replaces it, and only then.
    let r = pki(p, &["issue", "device", "--batch", "ids.txt", "--force"]).expect(0);
    assert!(
        r.stdout
            .contains("1 issued, 2 already done, 0 completed from an interrupted run, 0 rejected"),
        "{}",
        r.stdout
    );
    assert_ne!(std::fs::read(&key).unwrap(), csr_key);
    let lines = manifest(&p.join("pki/manifest.jsonl"));
    check_lot(p, &lines, 3);
    verify_sample(p, &lines);
}

#[test]
fn a_certificate_the_batch_did_not_issue_is_never_adopted() {
    let d = tmp();
    let p = d.path();
    ca(p);
    // Not the device's CN; the device's CN with its own key but not signed by the issuer; a
    // certificate with no key beside it.
    let victim = plant(p, "victim", "attacker");
    let twin = plant(p, "twin", "twin");
    let (lone, _) = plant(p, "lone", "lone");
    std::fs::remove_file(p.join("pki/private/iot-device-lone.key.pem")).unwrap();
    std::fs::write(p.join("ids.txt"), "victim\nok-1\ntwin\nlone\n").unwrap();
    for _ in 0..2 {
        let r = pki(p, &["issue", "device", "--batch", "ids.txt"]).expect(1);
        for (line, id) in [(1, "victim"), (3, "twin"), (4, "lone")] {
            assert!(
                r.stderr.contains(&format!(
                    "line {line}: \"{id}\": pki/certs/iot-device-{id}.cert.pem exists; --force to replace"
                )),
                "{}",
                r.stderr
            );
        }
        assert!(r.stdout.contains("3 rejected"), "{}", r.stdout);
        assert_eq!(manifest_ids(&p.join("pki/manifest.jsonl")), ["ok-1"]);
        for (id, (cert, key)) in [("victim", &victim), ("twin", &twin)] {
            assert_eq!(
                &std::fs::read(p.join(format!("pki/certs/iot-device-{id}.cert.pem"))).unwrap(),
                cert
            );
            assert_eq!(
                &std::fs::read(p.join(format!("pki/private/iot-device-{id}.key.pem"))).unwrap(),
                key
            );
        }
        assert_eq!(
            std::fs::read(p.join("pki/certs/iot-device-lone.cert.pem")).unwrap(),
            lone
        );
        // Nothing half-written: the key the batch made for `lone` before it met the
        // certificate is gone again, and no device got a chain.
        assert!(!p.join("pki/private/iot-device-lone.key.pem").exists());
        for id in ["victim", "twin", "lone"] {
            assert!(
                !p.join(format!("pki/certs/iot-device-{id}-full-chain.cert.pem"))
                    .exists()
            );
        }
        let index = crate::support::register_lines(p);
        assert_eq!(index.lines().count(), 3, "{index}");
    }
}

#[test]
fn a_leftover_the_journal_claims_is_finished_only_if_the_issuer_signed_it_for_the_device() {
    let d = tmp();
    let p = d.path();
    ca(p);
    // The journal says a killed run began `victim` and `torn` (the line it writes before a
    // device's files). A stranger's certificate took the place of victim's; torn's
    // certificate was cut short.
    let (planted, _) = plant(p, "victim", "attacker");
    std::fs::write(
        p.join("pki/certs/iot-device-torn.cert.pem"),
        "-----BEGIN CERTIFICATE-----\nMIIB",
    )
    .unwrap();
    std::fs::write(
        p.join("pki/private/iot-device-torn.key.pem"),
        "-----BEGIN PRIVATE KEY-----\n",
    )
    .unwrap();
    std::fs::write(
        p.join("pki/batch.journal"),
        "{\"creating\":\"victim\"}\n{\"creating\":\"torn\"}\n",
    )
    .unwrap();
    std::fs::write(p.join("ids.txt"), "victim\ntorn\n").unwrap();
    let r = pki(p, &["issue", "device", "--batch", "ids.txt"]).expect(1);
    // Not adopted, not replaced: it is not the batch's.
    assert!(
        r.stderr.contains(
            "line 1: \"victim\": pki/certs/iot-device-victim.cert.pem exists; --force to replace"
        ),
        "{}",
        r.stderr
    );
    let cert = p.join("pki/certs/iot-device-victim.cert.pem");
    assert_eq!(std::fs::read(&cert).unwrap(), planted);
    // The cut one was never issued: issued afresh.
    assert!(r.stdout.contains("1 issued"), "{}", r.stdout);
    assert_eq!(manifest_ids(&p.join("pki/manifest.jsonl")), ["torn"]);
    // The journal still names victim, begun and not finished.
    assert_eq!(
        std::fs::read_to_string(p.join("pki/batch.journal")).unwrap(),
        "{\"creating\":\"victim\"}\n{\"creating\":\"torn\"}\n"
    );
    // --force replaces it; the lot is complete and the journal empty.
    let r = pki(p, &["issue", "device", "--batch", "ids.txt", "--force"]).expect(0);
    assert!(
        r.stdout.contains("1 issued, 1 already done"),
        "{}",
        r.stdout
    );
    assert_ne!(std::fs::read(&cert).unwrap(), planted);
    assert_eq!(std::fs::read(p.join("pki/batch.journal")).unwrap(), b"");
    let lines = manifest(&p.join("pki/manifest.jsonl"));
    check_lot(p, &lines, 2);
    verify_sample(p, &lines);
}

#[test]
fn a_manifest_option_on_a_file_that_is_not_a_manifest_touches_nothing() {
    let d = tmp();
    let p = d.path();
    ca(p);
    std::fs::write(p.join("ids.txt"), "dev-1\ndev-2\n").unwrap();
    for notes in [
        "groceries\nmilk and eggs".to_owned(),
        "{\"device_id\":\"dev-0\",\"serial\":\"01\"}\nremember the milk".to_owned(),
        "{\"device_id\":\"dev-0\"}\n".to_owned(),
        "plain text, no newline".to_owned(),
    ] {
        std::fs::write(p.join("notes.txt"), &notes).unwrap();
        // The batch's lock file is its own and may be left, as by every run.
        let state = || {
            snapshot(p)
                .into_iter()
                .filter(|(f, _)| f != "pki/batch.lock")
                .collect::<Vec<_>>()
        };
        fails_cleanly(
            p,
            &[
                "issue",
                "device",
                "--batch",
                "ids.txt",
                "--manifest",
                "notes.txt",
            ],
            "notes.txt: not a manifest of pki",
            state,
        );
        assert_eq!(std::fs::read_to_string(p.join("notes.txt")).unwrap(), notes);
    }
}

#[test]
fn a_huge_input_line_is_rejected_by_number_without_being_held_in_memory() {
    use std::io::{BufRead, Write};
    let d = tmp();
    let p = d.path();
    ca(p);
    let mut child = crate::support::pki_command(std::path::Path::new("."), &[])
        .current_dir(p)
        .args(["issue", "device", "--batch", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // 100 MB on line 2; the input stays open so that the process can be measured alive.
    let writer = std::thread::spawn(move || {
        stdin.write_all(b"dev-1\n").unwrap();
        let mb = vec![b'x'; 1 << 20];
        for _ in 0..100 {
            stdin.write_all(&mb).unwrap();
        }
        stdin.write_all(b"\ndev-3\n").unwrap();
        stdin
    });
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut rejected = String::new();
    stderr.read_line(&mut rejected).unwrap();
    let stdin = writer.join().unwrap();
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let peak_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    drop(stdin);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        peak_kib < 50 * 1024,
        "peak memory {peak_kib} KiB for a 100 MB line"
    );
    assert_eq!(out.status.code(), Some(1), "{:.300}{rest}", rejected);
    assert!(
        rejected.starts_with("pki: rejected: line 2: \"xxxxxxxx")
            && rejected.contains("…\": line longer than 65536 bytes"),
        "{:.300}",
        rejected
    );
    assert!(
        rejected.len() < 200,
        "the line was echoed: {} bytes",
        rejected.len()
    );
    assert_eq!(
        manifest_ids(&p.join("pki/manifest.jsonl")),
        ["dev-1", "dev-3"]
    );
}

#[test]
fn a_line_that_is_not_utf8_is_rejected_by_number_and_the_lot_goes_on() {
    let d = tmp();
    let p = d.path();
    ca(p);
    std::fs::write(p.join("ids.txt"), b"dev-1\n\xff\xfe-2\ndev-3\n").unwrap();
    let r = pki(p, &["issue", "device", "--batch", "ids.txt"]).expect(1);
    assert!(
        r.stderr
            .contains("line 2: \"\u{fffd}\u{fffd}-2\": not valid UTF-8"),
        "{}",
        r.stderr
    );
    assert_eq!(
        manifest_ids(&p.join("pki/manifest.jsonl")),
        ["dev-1", "dev-3"]
    );
}

#[test]
fn device_ids_named_like_the_batch_files_are_rejected_with_out() {
    let d = tmp();
    let p = d.path();
    ca(p);
    std::fs::write(
        p.join("ids.txt"),
        "manifest.jsonl\nbatch.lock\nbatch.journal\nMANIFEST.JSONL\ndev-1\n",
    )
    .unwrap();
    let r = pki(
        p,
        &["issue", "device", "--batch", "ids.txt", "--out", "lot"],
    )
    .expect(1);
    for (line, id) in [
        (1, "manifest.jsonl"),
        (2, "batch.lock"),
        (3, "batch.journal"),
        (4, "MANIFEST.JSONL"),
    ] {
        assert!(
            r.stderr
                .contains(&format!("line {line}: \"{id}\": reserved:")),
            "{}",
            r.stderr
        );
    }
    assert_eq!(manifest_ids(&p.join("lot/manifest.jsonl")), ["dev-1"]);
    check_lot(p, &manifest(&p.join("lot/manifest.jsonl")), 1);
}

#[test]
fn jobs_is_bounded() {
    let d = tmp();
    let p = d.path();
    ca(p);
    std::fs::write(p.join("ids.txt"), "dev-1\n").unwrap();
    for n in ["0", "1025", "100000"] {
        let r = pki(p, &["issue", "device", "--batch", "ids.txt", "--jobs", n]).expect(2);
        assert!(
            r.stderr.contains(&format!("'{n}'")) && r.stderr.contains("1..=1024"),
            "{}",
            r.stderr
        );
        assert!(!p.join("pki/manifest.jsonl").exists());
    }
    pki(p, &["issue", "device", "--batch", "ids.txt", "--jobs", "1"]).expect(0);
    assert_eq!(manifest_ids(&p.join("pki/manifest.jsonl")), ["dev-1"]);
}

#[test]
fn control_characters_in_a_rejected_line_never_reach_the_terminal() {
    let d = tmp();
    let p = d.path();
    // A CA directory whose path holds an escape sequence, named in an "exists" rejection.
    let dir = p.join("ca\u{1b}[2J");
    let dir_s = dir.to_str().unwrap();
    pki(p, &["--dir", dir_s, "create-owner-ca"]).expect(0);
    std::fs::write(dir.join("private/iot-device-dev-2.key.pem"), "x").unwrap();
    std::fs::write(
        p.join("ids.txt"),
        "evil\u{1b}]0;owned\u{7}\ndev-2\nrtl\u{202e}gpj.exe\ncr\rid\n",
    )
    .unwrap();
    let r = pki(
        p,
        &["--dir", dir_s, "issue", "device", "--batch", "ids.txt"],
    )
    .expect(1);
    assert_eq!(
        r.stderr.matches("pki: rejected: line ").count(),
        4,
        "{}",
        r.stderr
    );
    for c in ['\u{1b}', '\u{7}', '\r', '\u{202e}'] {
        assert!(
            !r.stderr.contains(c),
            "{c:?} reached the terminal: {:?}",
            r.stderr
        );
    }
    assert!(
        r.stderr
            .contains("ca\\x1b[2J/private/iot-device-dev-2.key.pem exists"),
        "{}",
        r.stderr
    );
}

/// `pki ARGS` in `dir` with a terminal for its stdout and stderr (`script`, a pseudo-terminal),
/// with pki's environment variables cleared as for every run: its exit code and what the
/// terminal showed.
fn on_a_terminal(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let pki = pki_command(dir, args);
    let line = std::iter::once(pki.get_program())
        .chain(pki.get_args())
        .map(|a| format!("'{}'", a.to_str().unwrap()))
        .collect::<Vec<_>>()
        .join(" ");
    let mut cmd = programs::command("script");
    for (k, v) in pki.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let out = cmd
        .current_dir(dir)
        .env("TERM", "xterm")
        .args(["-qfec", &format!("exec {line}"), "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn the_progress_bar_shows_done_of_total_rate_and_eta_on_a_terminal_only() {
    let d = tmp();
    let p = d.path();
    ca(p);
    let ids: String = (1..=40).map(|i| format!("bar-{i}\n")).collect();
    std::fs::write(p.join("ids.txt"), format!("{ids}bad/id\n")).unwrap();
    // On a terminal: the devices of the input (the bad line is not one), the rate, the ETA.
    let (code, shown) = on_a_terminal(p, &["issue", "device", "--batch", "ids.txt", "--out", "a"]);
    assert_eq!(code, Some(1), "{shown:?}");
    assert!(shown.contains(" 0/40 devices  "), "{shown:?}");
    assert!(shown.contains("/s  ETA "), "{shown:?}");
    // Never with --json, even on a terminal.
    let (code, shown) = on_a_terminal(
        p,
        &[
            "--json", "issue", "device", "--batch", "ids.txt", "--out", "b",
        ],
    );
    assert_eq!(code, Some(1), "{shown:?}");
    assert!(shown.contains(r#""issued":40"#), "{shown:?}");
    assert!(!shown.contains("devices"), "{shown:?}");
    assert!(!shown.contains("ETA"), "{shown:?}");
    // Never without a terminal (a pipe, CI): stderr holds the rejected line only.
    let r = pki(p, &["issue", "device", "--batch", "ids.txt", "--out", "c"]).expect(1);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.starts_with("pki: rejected: "), "{}", r.stderr);
}
