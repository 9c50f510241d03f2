//! `pki c8y` against a hostile tenant (`tests/hostile_tenant.py`): a real HTTPS server on
//! 127.0.0.1 that answers with endless, huge, slow or cut-off bodies, listings that never end,
//! redirects to cleartext, messages that echo the Authorization header, names full of
//! terminal control characters, and a proof of possession it does not accept. Each test asserts one clear error line (or a clean report), exit
//! code, time and, where memory is the attack, pki's peak RSS measured by the kernel
//! (`getrusage` of the reaped process, through a small python3 wrapper that also kills pki when
//! it runs past the test's limit).

use std::time::Duration;

use crate::support::quickstart::{ROOT, gateway_pki as quickstart};
use crate::support::tenant::{
    Measured, PASSWORD, TENANT, Tenant, b64, c8y, c8y_command, command, hostile, measured, run,
};
use crate::support::{Run, closed_port, one_error_line, retries, sha1_fingerprint as fingerprint};

/// The most memory pki may use against any of these tenants.
const MAX_RSS_KIB: u64 = 100 * 1024;

/// Asserts that pki stopped by itself with exit 2, within `within`, below the memory bound, and
/// returns its one error line.
#[track_caller]
fn failed_in_bounds(m: &Measured, within: Duration) -> String {
    assert!(
        !m.killed,
        "pki was still running after {:?} (peak RSS {} MiB)\nstderr:\n{}",
        m.elapsed,
        m.max_rss_kib / 1024,
        m.run.stderr
    );
    assert!(
        m.elapsed < within,
        "pki took {:?}\nstderr:\n{}",
        m.elapsed,
        m.run.stderr
    );
    assert!(
        m.max_rss_kib < MAX_RSS_KIB,
        "pki's peak RSS was {} MiB\nstderr:\n{}",
        m.max_rss_kib / 1024,
        m.run.stderr
    );
    assert_eq!(
        m.run.code, 2,
        "stdout:\n{}\nstderr:\n{}",
        m.run.stdout, m.run.stderr
    );
    assert_eq!(m.run.stdout, "");
    one_error_line(&m.run)
}

#[test]
fn an_endless_body_is_cut_at_the_limit_in_bounded_memory() {
    let dir = quickstart();
    let d = dir.path();
    let t = hostile(d, "endless", &[]);
    let m = measured(
        d,
        c8y_command(d, &t, &["c8y", "list"]),
        Duration::from_secs(40),
    );
    let line = failed_in_bounds(&m, Duration::from_secs(20));
    assert_eq!(
        line,
        format!(
            "pki: error: the tenant at {} sent more than 4 MiB in answer to GET /tenant/currentTenant, the most pki reads of one answer; is it a Cumulocity tenant?",
            t.url()
        )
    );
    assert_eq!(retries(&m.run).len(), 0, "{}", m.run.stderr);
    assert_eq!(t.requests().len(), 1);
}

#[test]
fn a_1_gib_body_is_refused_in_bounded_memory() {
    let dir = quickstart();
    let d = dir.path();
    let t = hostile(d, "huge", &[]);
    let m = measured(
        d,
        c8y_command(d, &t, &["c8y", "upload", ROOT, "--tenant", TENANT]),
        Duration::from_secs(60),
    );
    let line = failed_in_bounds(&m, Duration::from_secs(20));
    assert_eq!(
        line,
        format!(
            "pki: error: the tenant at {} sent more than 4 MiB in answer to POST /tenant/tenants/t12345/trusted-certificates, the most pki reads of one answer; is it a Cumulocity tenant?",
            t.url()
        )
    );
    let reqs = t.requests();
    assert_eq!(reqs.len(), 1, "{reqs:#?}");
    assert_eq!(reqs[0]["method"], "POST");
}

#[test]
fn endless_pages_stop_at_the_page_limit() {
    let dir = quickstart();
    let d = dir.path();
    let t = hostile(d, "pages", &[]);
    let m = measured(
        d,
        c8y_command(d, &t, &["c8y", "list"]),
        Duration::from_secs(90),
    );
    let line = failed_in_bounds(&m, Duration::from_secs(60));
    assert_eq!(
        line,
        "pki: error: cannot list the trusted certificates of tenant t12345: the listing did not end after 100 pages of 100 certificates, the most pki reads; is it a Cumulocity tenant?"
    );
    let reqs = t.requests();
    assert_eq!(reqs.len(), 1 + 100);
    assert_eq!(
        reqs[100]["path"],
        "/tenant/tenants/t12345/trusted-certificates?pageSize=100&currentPage=100"
    );
}

#[test]
fn a_slow_tenant_is_given_up_at_the_deadline() {
    let dir = quickstart();
    let d = dir.path();
    let t = hostile(d, "slow", &[]);
    let m = measured(
        d,
        c8y_command(d, &t, &["c8y", "list", "--timeout", "3"]),
        Duration::from_secs(40),
    );
    let line = failed_in_bounds(&m, Duration::from_secs(8));
    assert!(m.elapsed >= Duration::from_secs(3), "{:?}", m.elapsed);
    assert_eq!(
        line,
        format!(
            "pki: error: the tenant at {} did not finish within 3 s (--timeout), while reading the answer to GET /tenant/currentTenant",
            t.url()
        )
    );
}

#[test]
fn an_answer_cut_off_mid_body_is_an_error_not_an_empty_answer() {
    let dir = quickstart();
    let d = dir.path();
    let t = hostile(d, "cut", &[]);
    let r = c8y(d, &t, &["c8y", "upload", ROOT]).expect(2);
    assert_eq!(r.stdout, "");
    let line = one_error_line(&r);
    let prefix = format!(
        "pki: error: the tenant at {} broke off its answer to POST /tenant/tenants/t12345/trusted-certificates after 100 of 4000 bytes",
        t.url()
    );
    assert!(line.starts_with(&prefix), "{line}");

    let fp = fingerprint(d, ROOT);
    let r = c8y(d, &t, &["c8y", "remove", &fp]).expect(2);
    assert_eq!(r.stdout, "");
    let line = one_error_line(&r);
    assert!(
        line.contains(&format!(
            "broke off its answer to DELETE /tenant/tenants/t12345/trusted-certificates/{fp} after 100 of 4000 bytes"
        )),
        "{line}"
    );
}

#[test]
fn a_redirect_to_http_is_refused_and_https_redirects_are_followed() {
    let dir = quickstart();
    let d = dir.path();
    let plain = Tenant::plain(d);
    let location = format!("http://mallory:LocationSecret@localhost:{}", plain.port);
    let t = hostile(d, "redirect", &["--location", &location]);
    let r = c8y(d, &t, &["c8y", "list"]).expect(2);
    assert_eq!(
        one_error_line(&r),
        format!(
            "pki: error: the tenant at {} redirected GET /tenant/currentTenant to http://localhost:{}/tenant/currentTenant, which is not https://; pki follows https:// redirects only (check --url / C8Y_URL)",
            t.url(),
            plain.port
        )
    );
    assert_eq!(retries(&r).len(), 0);
    assert!(!r.stderr.contains("LocationSecret"), "{}", r.stderr);
    assert!(
        plain.requests().is_empty(),
        "the cleartext server was asked: {:#?}",
        plain.requests()
    );

    // An https:// redirect to an honest tenant is followed.
    let honest = Tenant::start(d, &[]);
    let to_honest = hostile(d, "redirect", &["--location", &honest.url()]);
    let cmd = c8y_command(d, &to_honest, &["c8y", "list"]);
    // The redirect crosses to another port, so reqwest drops the Authorization header: the
    // honest tenant answers 401, which proves the request reached it over https.
    let r = run(cmd).expect(2);
    assert!(
        one_error_line(&r).contains("401 Unauthorized"),
        "{}",
        r.stderr
    );
    assert_eq!(honest.calls()[0].0, "GET");
    assert_eq!(honest.calls()[0].1, "/tenant/currentTenant");
    assert_eq!(honest.calls()[0].2, 401);
}

#[test]
fn a_url_with_userinfo_is_never_echoed() {
    let dir = quickstart();
    let d = dir.path();
    let t = Tenant::start(d, &[]);
    let port = closed_port();
    for (url, says) in [
        (
            format!("http://admin:UrlSecret@localhost:{port}"),
            format!("http://localhost:{port} is not an https:// URL"),
        ),
        (
            "https://admin:UrlSecret@localhost:99999".to_owned(),
            "\"https://localhost:99999\" is not a URL".to_owned(),
        ),
        (
            format!("https://admin:UrlSecret@localhost:{}", t.port),
            format!(
                "https://localhost:{}: the URL must not carry credentials",
                t.port
            ),
        ),
    ] {
        for json in [false, true] {
            let mut args = vec!["c8y", "list", "--url", &url, "--user", "admin"];
            if json {
                args.insert(0, "--json");
            }
            let mut cmd = command(d, &args);
            cmd.env("C8Y_PASSWORD", PASSWORD);
            let r = run(cmd).expect(2);
            for out in [&r.stdout, &r.stderr] {
                assert!(!out.contains("UrlSecret"), "{url}: {out}");
                assert!(!out.contains("admin:"), "{url}: {out}");
            }
            let line = one_error_line(&r);
            assert!(line.contains(&says), "{url}: {line}");
            if json {
                assert!(
                    r.json()["error"].as_str().unwrap().contains(&says),
                    "{}",
                    r.stdout
                );
            }
        }
    }
    assert!(t.requests().is_empty());

    // The help shows where --url comes from, never the value of C8Y_URL.
    let mut cmd = command(d, &["c8y", "list", "--help"]);
    cmd.env("C8Y_URL", "https://admin:UrlSecret@localhost");
    let r = run(cmd).expect(0);
    assert!(r.stdout.contains("[env: C8Y_URL]"), "{}", r.stdout);
    assert!(!r.stdout.contains("UrlSecret"), "{}", r.stdout);
}

#[test]
fn a_tenant_echoing_the_authorization_header_is_redacted() {
    let dir = quickstart();
    let d = dir.path();
    let redacted = "[redacted]";
    // The secrets `run` looks for, and the unpadded Basic forms the tenant quotes.
    let t = hostile(d, "echo", &[]);
    let r = c8y(d, &t, &["c8y", "list"]).expect(0);
    let retry = retries(&r);
    assert_eq!(retry.len(), 1, "{}", r.stderr);
    assert!(
        retry[0].contains(&format!(
            "rejected Authorization: Basic {redacted} for admin with password {redacted} (Basic forms {redacted}"
        )),
        "{}",
        retry[0]
    );
    assert!(
        r.stdout
            .contains(&format!("{redacted} {redacted} (CN={redacted})")),
        "{}",
        r.stdout
    );

    let t = hostile(d, "echo", &[]);
    let r = c8y(d, &t, &["--json", "c8y", "list"]).expect(0);
    let j = r.json();
    assert_eq!(
        j["certificates"][0]["name"],
        format!("{redacted} {redacted}")
    );
    assert_eq!(j["certificates"][0]["subject"], format!("CN={redacted}"));

    // Named by tenant: the user is sent as t12345/admin and both Basic forms are quoted.
    let t = hostile(d, "echo", &[]);
    let fp = "0cd89e8ecd40b6f7fbb9f3602baf82ff307f0678";
    for json in [false, true] {
        let mut args = vec!["c8y", "remove", fp, "--tenant", TENANT];
        if json {
            args.insert(0, "--json");
        }
        let r = c8y(d, &t, &args).expect(2);
        let line = one_error_line(&r);
        assert!(
            line.contains(&format!(
                "rejected Authorization: Basic {redacted} for t12345/admin with password {redacted} (Basic forms {redacted} and {redacted})"
            )),
            "{line}"
        );
        for out in [&r.stdout, &r.stderr] {
            assert!(!out.contains(&b64(&format!("admin:{PASSWORD}"))[..20]));
            assert!(!out.contains(&b64(&format!("t12345/admin:{PASSWORD}"))[..20]));
        }
    }
}

/// Asserts that nothing a tenant said reached the terminal raw: no ESC, BEL, CR, NUL or C1
/// control, and no line that the tenant started with an LF of its own.
#[track_caller]
fn no_raw_controls(r: &Run) {
    for (what, out) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
        for c in ['\u{1b}', '\u{7}', '\r', '\0', '\u{9b}'] {
            assert!(
                !out.contains(c),
                "{what} carries a raw {c:?}:\n{}",
                out.escape_debug()
            );
        }
        assert!(
            !out.lines().any(|l| l.starts_with("FAKE")),
            "{what} has a line the tenant started:\n{out}"
        );
    }
}

#[test]
fn control_characters_from_the_tenant_never_reach_the_terminal() {
    let dir = quickstart();
    let d = dir.path();

    let t = hostile(d, "inject", &[]);
    let r = c8y(d, &t, &["c8y", "list"]).expect(0);
    no_raw_controls(&r);
    assert_eq!(retries(&r).len(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("down\\x1b[2J\\x1b]0;pwned\\x07"),
        "{}",
        r.stderr
    );
    assert!(
        r.stdout
            .starts_with("tenant t12345\\x1b[2J\\x1b]0;pwned\\x07"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("name\\x1b[2J"), "{}", r.stdout);
    assert!(r.stdout.contains("\\x0aFAKE LINE\\x00"), "{}", r.stdout);
    assert_eq!(r.stdout.lines().count(), 3, "{}", r.stdout);

    let t = hostile(d, "inject", &[]);
    let r = c8y(d, &t, &["c8y", "upload", ROOT]).expect(0);
    no_raw_controls(&r);
    assert!(r.stdout.contains("name\\x1b[2J"), "{}", r.stdout);
    assert!(r.stdout.contains("2036\\x1b[2J"), "{}", r.stdout);

    let t = hostile(d, "inject", &[]);
    let r = c8y(d, &t, &["c8y", "remove", &fingerprint(d, ROOT)]).expect(2);
    no_raw_controls(&r);
    assert!(
        one_error_line(&r).contains("refused\\x1b[2J"),
        "{}",
        r.stderr
    );
}

#[test]
fn the_deadline_covers_retries() {
    // An honest tenant that keeps failing: four attempts take 1.4 s of pauses alone, more than
    // the 1 s the command is given.
    let dir = quickstart();
    let d = dir.path();
    let t = Tenant::start(d, &["--fail", "100"]);
    let m = measured(
        d,
        c8y_command(d, &t, &["c8y", "list", "--timeout", "1"]),
        Duration::from_secs(30),
    );
    let line = failed_in_bounds(&m, Duration::from_secs(5));
    let n = t.requests().len();
    assert!((1..4).contains(&n), "{n} attempts");
    assert_eq!(retries(&m.run).len(), n - 1, "{}", m.run.stderr);
    assert_eq!(
        line,
        format!(
            "pki: error: the tenant at {} did not finish within 1 s (--timeout), retrying GET /tenant/currentTenant after {n} attempt(s): 503 Service Unavailable: the tenant is under maintenance (general/Service Unavailable)",
            t.url()
        )
    );
}

#[test]
fn a_proof_the_tenant_does_not_accept_is_one_error_and_one_json_document() {
    // The upload succeeded, the proof did not: one outcome per run, never a report followed by
    // an error (with --json, two documents on stdout).
    let dir = quickstart();
    let d = dir.path();
    for json in [false, true] {
        let t = hostile(d, "unproven", &[]);
        let mut args = vec!["c8y", "upload", ROOT, "--prove"];
        if json {
            args.insert(0, "--json");
        }
        let r = c8y(d, &t, &args).expect(2);
        let line = one_error_line(&r);
        assert!(
            line.starts_with(&format!(
                "pki: error: the tenant did not accept the proof of possession for {ROOT} (proofOfPossessionValid is not true)"
            )),
            "{line}"
        );
        if json {
            // `json()` reads stdout as exactly one JSON document.
            let doc = r.json();
            assert!(
                doc["error"]
                    .as_str()
                    .unwrap()
                    .contains("did not accept the proof of possession"),
                "{doc}"
            );
            assert!(doc.get("result").is_none(), "{doc}");
        } else {
            assert_eq!(r.stdout, "");
        }
        let paths: Vec<String> = t
            .requests()
            .iter()
            .map(|q| q["path"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(paths.len(), 4, "{paths:#?}");
        assert!(paths[3].ends_with("/pop"), "{paths:#?}");
    }
}

#[test]
fn fields_of_70000_characters_are_listed_bounded_never_a_panic() {
    // Format widths stop at 65,535: a column as wide as a tenant's field was a panic
    // ("Formatting argument out of range"). Every row is bounded; --json passes the answer on.
    let dir = quickstart();
    let d = dir.path();
    let t = hostile(d, "absurd", &[]);
    let r = c8y(d, &t, &["c8y", "list"]).expect(0);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 3, "{}", r.stdout);
    for line in r.stdout.lines() {
        assert!(
            line.chars().count() < 2_000,
            "a line of {} characters",
            line.chars().count()
        );
    }
    let row = r.stdout.lines().nth(2).unwrap();
    assert!(row.starts_with("ffffffff"), "{row:.200}");
    assert!(row.contains('…'), "{row:.200}");

    let t = hostile(d, "absurd", &[]);
    let r = c8y(d, &t, &["--json", "c8y", "list"]).expect(0);
    let doc = r.json();
    let fp = doc["certificates"][0]["fingerprint"].as_str().unwrap();
    assert_eq!(fp.len(), 70_000, "the tenant's answer, unchanged");
}
