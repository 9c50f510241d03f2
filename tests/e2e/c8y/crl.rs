//! `pki c8y crl push|status` and `pki revoke --c8y` against the fake tenant's offline revocation
//! list (`tests/c8y_server.py` keeps it, validates every PUT, answers GET with a DER CRL made by
//! `openssl ca -gencrl`): exactly the register's revoked serials are sent, once; status says what
//! the tenant holds against the register; a failing tenant leaves one clear line (and a
//! revocation recorded). A real mosquitto then enforces the list exactly as GET returns it: we
//! cannot reach a real tenant's MQTT endpoint, so the stand-in signs its list as the devices'
//! CA (mosquitto, as OpenSSL, takes a CRL from the issuer of the certificate it checks only).

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::support::quickstart::{
    DEVICE, DEVICE_FULL, DEVICE_KEY, INTERMEDIATE_FULL, ROOT, SERVER_FULL, SERVER_KEY, gateway_pki,
};
use crate::support::tenant::{PASSWORD, TENANT, Tenant, c8y, c8y_command, command, hostile, run};
use crate::support::{
    MQTT_CONNACK_OK, MQTT_CONNECT_DISCONNECT, Mosquitto, Run, Server, one_error_line, openssl, pki,
    programs, run_bounded, s_client,
};

/// The path of the tenant's offline revocation list.
const CRL_PATH: &str = "/tenant/trusted-certificates/settings/crl";
/// The intermediate's key (the quickstart's, unencrypted).
const INTERMEDIATE_KEY: &str = "pki/private/azure-iot-test-only.intermediate.key.pem";
const INTERMEDIATE: &str = crate::support::quickstart::INTERMEDIATE;

/// The certificate file of device `id`.
fn cert(id: &str) -> String {
    format!("pki/certs/iot-device-{id}.cert.pem")
}

/// The serial of `file` as OpenSSL prints it (upper-case hex).
fn serial(dir: &Path, file: &str) -> String {
    openssl(dir, &["x509", "-in", file, "-noout", "-serial"])
        .expect(0)
        .stdout
        .trim()
        .trim_start_matches("serial=")
        .to_owned()
}

/// The quickstart PKI (downstream-device-1 from the intermediate) with `more` devices of the
/// intermediate, and a tenant started with `extra`.
fn fleet(more: &[&str], extra: &[&str]) -> (tempfile::TempDir, Tenant) {
    let dir = gateway_pki();
    for id in more {
        pki(dir.path(), &["issue", "device", id]).expect(0);
    }
    let t = crate::support::tenant::Tenant::start(dir.path(), extra);
    (dir, t)
}

/// Every serial the tenant was sent in PUT bodies, in order.
fn put_serials(t: &Tenant) -> Vec<String> {
    t.requests()
        .iter()
        .filter(|r| r["method"] == "PUT" && r["path"] == CRL_PATH)
        .flat_map(|r| r["body"]["crls"].as_array().cloned().unwrap_or_default())
        .map(|e| e["serialNumberInHex"].as_str().unwrap().to_owned())
        .collect()
}

/// The register's revoked rows (`pki list --revoked --json`, JSON Lines).
fn revoked_rows(dir: &Path) -> Vec<Value> {
    pki(dir, &["--json", "list", "--revoked"])
        .expect(0)
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The one `pki: error:` line of a run that could not run (exit 2), whatever warnings and
/// retries came before it; no panic.
#[track_caller]
fn error_line(r: &Run) -> String {
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    let errors: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| !l.starts_with("pki: retrying ") && !l.starts_with("pki: warning: "))
        .collect();
    assert_eq!(errors.len(), 1, "one error line expected:\n{}", r.stderr);
    assert!(errors[0].starts_with("pki: error: "), "{}", r.stderr);
    errors[0].to_owned()
}

fn set(v: &[String]) -> BTreeSet<String> {
    v.iter().cloned().collect()
}

/// The serials of a report's list (`missing`, `at_tenant`, `certificates`).
fn serials_of(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c["serial"].as_str().unwrap().to_owned())
        .collect()
}

/// PUTs `body` to the tenant's list by hand, as another tool would (curl): the status and the
/// answer.
fn curl_put(dir: &Path, t: &Tenant, body: &str) -> (String, String) {
    let mut cmd = programs::command("curl");
    cmd.current_dir(dir).args([
        "-sS",
        "--cacert",
        ROOT,
        "-u",
        &format!("admin:{PASSWORD}"),
        "-X",
        "PUT",
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        body,
        "-w",
        "\n%{http_code}",
        &format!("{}{CRL_PATH}", t.url()),
    ]);
    let r = run_bounded(cmd, b"", std::time::Duration::from_secs(20)).expect("curl hung");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (answer, status) = r.stdout.rsplit_once('\n').unwrap();
    (status.to_owned(), answer.to_owned())
}

#[test]
fn push_sends_exactly_the_revoked_serials_once_and_status_follows() {
    let (dir, t) = fleet(&["d2", "d3", "d4"], &[]);
    let d = dir.path();
    pki(
        d,
        &["revoke", "downstream-device-1", "--reason", "keyCompromise"],
    )
    .expect(0);
    pki(d, &["revoke", "d3"]).expect(0);
    let revoked = set(&[
        serial(d, &cert("downstream-device-1")),
        serial(d, &cert("d3")),
    ]);

    // Before: both missing, drift.
    let r = c8y(d, &t, &["--json", "c8y", "crl", "status"]).expect(1);
    let j = r.json();
    assert_eq!(j["drift"], true);
    assert_eq!(j["revoked"], 2);
    assert_eq!(serials_of(&j["missing"]), revoked);
    assert_eq!(serials_of(&j["at_tenant"]), BTreeSet::new());
    let r = c8y(d, &t, &["c8y", "crl", "status"]).expect(1);
    assert!(
        r.stdout
            .contains("missing at the tenant (2): it still accepts them; run `pki c8y crl push`"),
        "{}",
        r.stdout
    );

    // No terminal, no --yes: nothing is sent, and the line says why and what to do.
    let r = c8y(d, &t, &["c8y", "crl", "push"]);
    let line = one_error_line(&r);
    assert_eq!(r.code, 2);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    assert!(
        line.contains("2 serial(s) would be added") && line.contains("--yes"),
        "{line}"
    );
    // A dry run sends nothing either.
    let r = c8y(d, &t, &["c8y", "crl", "push", "--dry-run"]).expect(0);
    assert!(
        r.stdout.starts_with("would add 2 serial(s)"),
        "{}",
        r.stdout
    );
    assert!(put_serials(&t).is_empty(), "{:#?}", t.calls());

    // The push: exactly the revoked serials, once, each with its revocation date; said first.
    let r = c8y(d, &t, &["c8y", "crl", "push", "--yes"]).expect(0);
    assert!(
        r.stderr.contains("the tenant cannot remove an entry"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.starts_with("added 2 serial(s)"), "{}", r.stdout);
    let sent = put_serials(&t);
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(set(&sent), revoked);
    let put = t
        .requests()
        .into_iter()
        .find(|r| r["method"] == "PUT")
        .unwrap();
    assert_eq!(put["status"], 200);
    let rows = revoked_rows(d);
    for e in put["body"]["crls"].as_array().unwrap() {
        let row = rows
            .iter()
            .find(|r| r["serial"] == e["serialNumberInHex"])
            .unwrap_or_else(|| panic!("{e} is not revoked in the register"));
        let at = row["revoked_at"].as_str().unwrap().trim_end_matches('Z');
        let date = e["revocationDate"].as_str().unwrap();
        assert_eq!(date, format!("{at}.000Z"), "{row}");
    }
    // The tenant's CRL (as GET answers it, read by OpenSSL) lists them.
    let crl = t
        .requests()
        .into_iter()
        .filter(|r| r["method"] == "GET" && r["path"] == CRL_PATH)
        .count();
    assert!(crl >= 1);

    // Again: nothing is sent, and it says so.
    let before = t.requests().len();
    let r = c8y(d, &t, &["--json", "c8y", "crl", "push", "--yes"]).expect(0);
    let j = r.json();
    assert_eq!(
        (
            j["pushed"].as_u64(),
            j["already"].as_u64(),
            j["total"].as_u64()
        ),
        (Some(0), Some(2), Some(2))
    );
    let r = c8y(d, &t, &["c8y", "crl", "push"]).expect(0);
    assert!(r.stdout.starts_with("nothing to push:"), "{}", r.stdout);
    let after: Vec<Value> = t.requests().into_iter().skip(before).collect();
    assert!(after.iter().all(|r| r["method"] != "PUT"), "{after:#?}");
    assert_eq!(put_serials(&t).len(), 2);

    // After: no drift.
    let r = c8y(d, &t, &["--json", "c8y", "crl", "status"]).expect(0);
    let j = r.json();
    assert_eq!(j["drift"], false);
    assert_eq!(serials_of(&j["at_tenant"]), revoked);
    assert_eq!(j["not_revoked"], serde_json::json!([]));
}

/// `pki c8y ARGS` (as [`c8y`] runs it) on a terminal (`script`, a pseudo-terminal) that is
/// typed `typed`: its exit code and what the terminal showed.
fn c8y_on_a_terminal(dir: &Path, t: &Tenant, args: &[&str], typed: &[u8]) -> Run {
    let pki = c8y_command(dir, t, args);
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
    cmd.current_dir(dir)
        .env("TERM", "xterm")
        .args(["-qfec", &format!("exec {line}"), "/dev/null"]);
    run_bounded(cmd, typed, std::time::Duration::from_secs(30)).expect("script hung")
}

#[test]
fn on_a_terminal_push_asks_and_adds_only_on_yes() {
    let (dir, t) = fleet(&[], &[]);
    let d = dir.path();
    pki(d, &["revoke", "downstream-device-1"]).expect(0);
    let s = serial(d, &cert("downstream-device-1"));
    let r = c8y_on_a_terminal(d, &t, &["c8y", "crl", "push"], b"n\n");
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stdout.contains("the tenant cannot remove an entry")
            && r.stdout.contains(&s)
            && r.stdout.contains("Add them? [y/N] ")
            && r.stdout
                .contains("pki: error: not pushed: nothing was added to tenant t12345"),
        "{}",
        r.stdout
    );
    assert!(put_serials(&t).is_empty());
    let r = c8y_on_a_terminal(d, &t, &["c8y", "crl", "push"], b"y\n");
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stdout.contains("added 1 serial(s)"), "{}", r.stdout);
    assert_eq!(put_serials(&t), std::slice::from_ref(&s));
    assert!(!r.stdout.contains(PASSWORD));
}

#[test]
fn a_lot_of_1001_revoked_devices_goes_in_two_requests() {
    let (dir, t) = fleet(&[], &[]);
    let d = dir.path();
    let ids: String = (1..=1001).map(|i| format!("lot-{i:04}\n")).collect();
    std::fs::write(d.join("lot.txt"), ids).unwrap();
    pki(d, &["issue", "device", "--batch", "lot.txt"]).expect(0);
    pki(d, &["revoke", "--batch", "lot.txt"]).expect(0);
    let r = c8y(d, &t, &["--json", "c8y", "crl", "push", "--yes"]).expect(0);
    assert_eq!(r.json()["pushed"], 1001);
    let sizes: Vec<usize> = t
        .requests()
        .iter()
        .filter(|r| r["method"] == "PUT")
        .map(|r| r["body"]["crls"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [1000, 1]);
    let sent = put_serials(&t);
    let rows: BTreeSet<String> = revoked_rows(d)
        .iter()
        .map(|r| r["serial"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(sent.len(), 1001);
    assert_eq!(set(&sent), rows);
    c8y(d, &t, &["c8y", "crl", "status"]).expect(0);
}

#[test]
fn issuer_limits_push_and_status_to_one_ca() {
    let (dir, t) = fleet(&["d2"], &[]);
    let d = dir.path();
    pki(d, &["issue", "device", "by-root", "--issuer", "root"]).expect(0);
    pki(d, &["revoke", "by-root"]).expect(0);
    pki(d, &["revoke", "d2"]).expect(0);
    let (root_one, inter_one) = (serial(d, &cert("by-root")), serial(d, &cert("d2")));

    let r = c8y(
        d,
        &t,
        &[
            "--json",
            "c8y",
            "crl",
            "push",
            "--issuer",
            "intermediate",
            "--yes",
        ],
    )
    .expect(0);
    assert_eq!(r.json()["total"], 1);
    assert_eq!(put_serials(&t), std::slice::from_ref(&inter_one));
    // The root's revoked device is missing: status of the root says so, of the intermediate not.
    let j = c8y(
        d,
        &t,
        &["--json", "c8y", "crl", "status", "--issuer", "root"],
    )
    .expect(1)
    .json();
    assert_eq!(
        serials_of(&j["missing"]),
        set(std::slice::from_ref(&root_one))
    );
    // The intermediate's serial at the tenant is revoked, by a CA outside the scope.
    assert_eq!(j["not_revoked"][0]["serial"], inter_one.as_str());
    assert_eq!(j["not_revoked"][0]["register"], "revoked_elsewhere");
    c8y(d, &t, &["c8y", "crl", "status", "--issuer", "intermediate"]).expect(0);
    // By file, as `pki crl --issuer` takes it.
    c8y(d, &t, &["c8y", "crl", "push", "--issuer", ROOT, "--yes"]).expect(0);
    assert_eq!(set(&put_serials(&t)), set(&[root_one, inter_one]));
    c8y(d, &t, &["c8y", "crl", "status"]).expect(0);
}

#[test]
fn status_names_a_serial_in_service_and_an_unknown_one() {
    let (dir, t) = fleet(&["d2"], &[]);
    let d = dir.path();
    let in_service = serial(d, &cert("d2"));
    // Lower case, with a leading zero: the same serial to the tenant and to pki.
    let body = format!(
        r#"{{"crls":[{{"serialNumberInHex":"0{}","revocationDate":"2026-01-02T03:04:05.000Z"}},{{"serialNumberInHex":"0BADC0FFEE","revocationDate":"2026-01-02T03:04:05Z"}}]}}"#,
        in_service.to_lowercase()
    );
    assert_eq!(curl_put(d, &t, &body).0, "200");
    // The tenant refuses a device the register keeps in service: drift, exit 1.
    let r = c8y(d, &t, &["--json", "c8y", "crl", "status"]).expect(1);
    let j = r.json();
    assert_eq!(j["drift"], true);
    assert_eq!(j["missing"].as_array().unwrap().len(), 0);
    let extra = j["not_revoked"].as_array().unwrap();
    assert_eq!(extra.len(), 2, "{extra:#?}");
    let of = |s: &str| {
        extra
            .iter()
            .find(|e| e["serial"] == s)
            .unwrap_or_else(|| panic!("{s}: {extra:#?}"))
    };
    assert_eq!(of(&in_service)["register"], "in_service");
    assert_eq!(of(&in_service)["subject"], "CN = d2");
    assert_eq!(of("0BADC0FFEE")["register"], "unknown");
    assert_eq!(of("0BADC0FFEE")["revoked_at"], "2026-01-02T03:04:05Z");
    let r = c8y(d, &t, &["c8y", "crl", "status"]).expect(1);
    assert!(
        r.stdout.contains(&format!("  {in_service}  in service: the tenant refuses a certificate pki did not revoke (CN = d2)")),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("  0BADC0FFEE  unknown serial"),
        "{}",
        r.stdout
    );
    // The stand-in refuses what a tenant refuses.
    for (bad, says) in [
        (
            r#"{"crls":[{"serialNumberInHex":"XYZ","revocationDate":"2026-01-02T03:04:05Z"}]}"#,
            "serialNumberInHex 'XYZ' is not a hexadecimal serial number",
        ),
        (
            r#"{"crls":[{"serialNumberInHex":"0A","revocationDate":"yesterday"}]}"#,
            "revocationDate 'yesterday' is not an ISO 8601 date",
        ),
        (r#"{"crl":[]}"#, "must be {\"crls\": [...]}"),
    ] {
        let (status, answer) = curl_put(d, &t, bad);
        assert_eq!(status, "400", "{bad}");
        let answer: Value = serde_json::from_str(&answer).unwrap();
        assert!(
            answer["message"].as_str().unwrap().contains(says),
            "{answer}"
        );
    }
    // All or none of a body: the good entry before a bad one was not added.
    let (status, _) = curl_put(
        d,
        &t,
        r#"{"crls":[{"serialNumberInHex":"0C"},{"serialNumberInHex":"-1"}]}"#,
    );
    assert_eq!(status, "400");
    let j = c8y(d, &t, &["--json", "c8y", "crl", "status"])
        .expect(1)
        .json();
    assert_eq!(j["not_revoked"].as_array().unwrap().len(), 2, "{j}");
}

#[test]
fn revoke_with_c8y_records_and_pushes_in_one_step() {
    let (dir, t) = fleet(&["d2"], &[]);
    let d = dir.path();
    let s = serial(d, &cert("d2"));
    let r = c8y(d, &t, &["--json", "revoke", "d2", "--c8y"]).expect(0);
    let j = r.json();
    assert_eq!(j["revoked"], 1);
    assert_eq!(j["c8y"]["tenant"], TENANT);
    assert_eq!(j["c8y"]["pushed"], serde_json::json!([s.clone()]));
    assert_eq!(put_serials(&t), std::slice::from_ref(&s));
    // Again: already revoked, already at the tenant, nothing sent.
    let r = c8y(d, &t, &["revoke", "d2", "--c8y"]).expect(0);
    assert!(
        r.stdout.contains(&format!(
            "already on the offline revocation list of tenant t12345: {s}"
        )),
        "{}",
        r.stdout
    );
    assert_eq!(put_serials(&t).len(), 1);
    // Text: what was added, and that it is for good.
    let s1 = serial(d, &cert("downstream-device-1"));
    let r = c8y(d, &t, &["revoke", "downstream-device-1", "--c8y"]).expect(0);
    assert!(
        r.stdout.contains(&format!(
            "added to the offline revocation list of tenant t12345 (for good: the tenant cannot remove an entry): {s1}"
        )),
        "{}",
        r.stdout
    );
    // Without --c8y, the tenant options are refused by clap (they would do nothing).
    let r = pki(d, &["revoke", "d2", "--password-file", "x"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn a_failing_tenant_is_one_clear_line_and_the_revocation_stays_recorded() {
    // 500 on every request: revoke --c8y records, then says how to finish.
    let (dir, t) = fleet(&["d2"], &["--fail", "100", "--fail-status", "500"]);
    let d = dir.path();
    let r = c8y(d, &t, &["revoke", "d2", "--c8y"]);
    let line = error_line(&r);
    assert!(
        line.contains("revoked 1 certificate(s) in the register (0 already), recorded, but the tenant was not told; run `pki c8y crl push` once it answers")
            && line.contains("500 Internal Server Error"),
        "{line}"
    );
    let rows = revoked_rows(d);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["common_name"], "d2");
    drop(t);

    // 500 on the PUT only: the push says how many went and to push again.
    let t = Tenant::start(
        d,
        &[
            "--fail",
            "100",
            "--fail-status",
            "500",
            "--fail-method",
            "PUT",
        ],
    );
    let r = c8y(d, &t, &["c8y", "crl", "push", "--yes"]);
    let line = error_line(&r);
    assert!(
        line.contains("cannot add to the offline revocation list of tenant t12345 (0 of 1 entries added); run `pki c8y crl push` again once the tenant answers")
            && line.contains("500"),
        "{line}"
    );
    let puts = t.calls().into_iter().filter(|(m, _, _)| m == "PUT").count();
    assert_eq!(puts, 4, "one request and three retries");
    drop(t);

    // 403: a user with the read role only may read the list, not add to it.
    let t = Tenant::start(d, &[]);
    let url = t.url();
    let mut cmd = command(
        d,
        &[
            "c8y",
            "crl",
            "push",
            "--yes",
            "--url",
            &url,
            "--user",
            "viewer",
            "--ca-file",
            ROOT,
        ],
    );
    cmd.env("C8Y_PASSWORD", PASSWORD);
    let line = error_line(&run(cmd));
    assert!(
        line.contains("lacks the tenant management admin role") && line.contains("403"),
        "{line}"
    );
    let mut cmd = command(
        d,
        &[
            "c8y",
            "crl",
            "status",
            "--url",
            &url,
            "--user",
            "viewer",
            "--ca-file",
            ROOT,
        ],
    );
    cmd.env("C8Y_PASSWORD", PASSWORD);
    run(cmd).expect(1);
}

/// The tenant's list as GET returns it (DER, fetched with curl), written in PEM for mosquitto's
/// crlfile as `NAME.crl.pem`: the file's name.
fn tenant_crl(dir: &Path, t: &Tenant, name: &str) -> String {
    let der = format!("{name}.crl.der");
    let pem = format!("{name}.crl.pem");
    let mut cmd = programs::command("curl");
    cmd.current_dir(dir).args([
        "-sS",
        "-f",
        "--cacert",
        ROOT,
        "-u",
        &format!("admin:{PASSWORD}"),
        "-H",
        "Accept: application/pkix-crl",
        "-o",
        &der,
        &format!("{}{CRL_PATH}", t.url()),
    ]);
    let r = run_bounded(cmd, b"", std::time::Duration::from_secs(20)).expect("curl hung");
    assert_eq!(r.code, 0, "{}", r.stderr);
    openssl(dir, &["crl", "-inform", "DER", "-in", &der, "-out", &pem]).expect(0);
    pem
}

/// mosquitto_pub through `broker` with the certificate chain `chain` and `key`.
fn publish(d: &Path, broker: &Mosquitto, chain: &str, key: &str) -> Run {
    let mut cmd = programs::command("mosquitto_pub");
    cmd.current_dir(d).args([
        // The broker listens on 127.0.0.1; its certificate names localhost.
        "-h",
        "localhost",
        "-p",
        &broker.port().to_string(),
        "--cafile",
        ROOT,
        "--cert",
        chain,
        "--key",
        key,
        "-i",
        "e2e",
        "-t",
        "t",
        "-m",
        "hello",
        "-q",
        "1",
    ]);
    run_bounded(cmd, b"", std::time::Duration::from_secs(20)).expect("mosquitto_pub hung")
}

#[test]
fn a_list_that_is_not_a_crl_is_one_line_and_nothing_is_pushed() {
    let dir = gateway_pki();
    let d = dir.path();
    pki(d, &["revoke", "downstream-device-1"]).expect(0);
    let t = hostile(d, "not-a-crl", &[]);
    for args in [
        &["c8y", "crl", "push", "--yes"][..],
        &["c8y", "crl", "status"][..],
        &["revoke", "downstream-device-1", "--c8y"][..],
    ] {
        let line = error_line(&c8y(d, &t, args));
        assert!(
            line.contains("cannot read the offline revocation list of tenant t12345")
                && line.contains("is not a CRL")
                && !line.contains('\x1b'),
            "{args:?}: {line}"
        );
    }
    let requests = t.requests();
    assert!(
        requests.iter().all(|r| r["method"] != "PUT"),
        "{requests:#?}"
    );
    assert!(
        requests.iter().any(|r| r["path"] == CRL_PATH),
        "{requests:#?}"
    );
}

#[test]
fn mosquitto_enforces_the_tenants_list_as_get_returns_it() {
    let (dir, t) = fleet(
        &["d2"],
        &["--crl-cert", INTERMEDIATE, "--crl-key", INTERMEDIATE_KEY],
    );
    let d = dir.path();
    pki(
        d,
        &["revoke", "downstream-device-1", "--reason", "keyCompromise"],
    )
    .expect(0);
    let revoked = serial(d, &cert("downstream-device-1"));

    // Before the push the tenant's list is empty (a valid CRL all the same): the revoked
    // device still gets in, which is the drift the push closes.
    let before = tenant_crl(d, &t, "before");
    let text = openssl(d, &["crl", "-in", &before, "-noout", "-text"])
        .expect(0)
        .stdout;
    assert!(text.contains("No Revoked Certificates"), "{text}");
    let broker = Mosquitto::start_with_crl(d, ROOT, SERVER_FULL, SERVER_KEY, &before);
    let r = publish(d, &broker, DEVICE_FULL, DEVICE_KEY);
    assert_eq!(r.code, 0, "{}\n{}", r.stderr, broker.output());
    drop(broker);

    c8y(d, &t, &["c8y", "crl", "push", "--yes"]).expect(0);
    let after = tenant_crl(d, &t, "after");
    let text = openssl(d, &["crl", "-in", &after, "-noout", "-text"])
        .expect(0)
        .stdout;
    assert!(
        text.contains(&format!("Serial Number: {revoked}")),
        "{text}"
    );
    assert!(!text.contains(&serial(d, &cert("d2"))), "{text}");

    let broker = Mosquitto::start_with_crl(d, ROOT, SERVER_FULL, SERVER_KEY, &after);
    let publish = |chain: &str, key: &str| publish(d, &broker, chain, key);
    let ok = publish(
        "pki/certs/iot-device-d2-full-chain.cert.pem",
        "pki/private/iot-device-d2.key.pem",
    );
    assert_eq!(
        ok.code,
        0,
        "the valid device was refused: {}\n{}",
        ok.stderr,
        broker.output()
    );
    let refused = publish(DEVICE_FULL, DEVICE_KEY);
    assert_ne!(
        refused.code,
        0,
        "the revoked device published:\n{}",
        broker.output()
    );
    // Why, as the broker's TLS alert tells a client (openssl s_client sending an MQTT CONNECT).
    let why = s_client(d, broker.port())
        .ca_file(ROOT)
        .verify_return_error()
        .verify_hostname("localhost")
        .args(&[
            "-cert",
            DEVICE,
            "-cert_chain",
            INTERMEDIATE_FULL,
            "-key",
            DEVICE_KEY,
            "-ign_eof",
        ])
        .stdin(MQTT_CONNECT_DISCONNECT)
        .run();
    assert!(!why.stdout.contains(MQTT_CONNACK_OK), "{}", why.stdout);
    assert!(
        why.stderr.contains("certificate revoked")
            || broker.output().contains("certificate revoked"),
        "{}\n{}",
        why.stderr,
        broker.output()
    );
}
