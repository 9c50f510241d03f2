//! `pki report`: the HTML page opened in a real browser (Debian's headless `chromium`), its
//! numbers read from the DOM against `pki list --json`; the Prometheus textfile checked line by
//! line against the format and against the same counts; a scan's gateways (a real `pki scan
//! --json --drift` against `openssl s_server` serving the certificate in service, another the
//! certificate a renewal replaced, and a closed port) with drift marked; a CA whose CN holds
//! `<script>`; and bad input refused in one line with nothing written.
//!
//! The browser's screenshot and the page are kept as the test's artefacts in
//! `target/tmp/report/` (`fleet.png`, `fleet.html`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::support::{
    OpensslServer, Postgres, Server, closed_port, fails_cleanly, pki, pki_env, programs,
    register_rows, run_bounded, tmp,
};

/// The root CA's CN: markup, quotes and an ampersand, which no page may take as its own.
const HOSTILE_CN: &str = "Owner \"<script>alert(1)</script>\" & Root";
const ROOT: &str = "pki/certs/azure-iot-test-only.root.ca.cert.pem";

/// A fleet: a root whose CN is [`HOSTILE_CN`], the intermediate, an edge CA with its gateway
/// `gw.test`, devices valid, expiring and expired at [`at`], one renewed (its old certificate
/// superseded), one revoked.
fn fleet() -> tempfile::TempDir {
    let dir = tmp();
    let d = dir.path();
    pki(d, &["create-owner-ca", "--cn", HOSTILE_CN]).expect(0);
    pki(d, &["create-intermediate-ca"]).expect(0);
    pki(d, &["create-edge-ca", "gw1"]).expect(0);
    pki(d, &["issue", "server", "gw.test"]).expect(0);
    for i in 1..=5 {
        pki(d, &["issue", "device", &format!("dev-{i}")]).expect(0);
    }
    for (id, days) in [("soon-1", "40"), ("soon-2", "44"), ("old-1", "10")] {
        pki(d, &["issue", "device", id, "--days", days]).expect(0);
    }
    pki(d, &["renew", "dev-1"]).expect(0);
    pki(d, &["revoke", "dev-2"]).expect(0);
    dir
}

/// The instant the report and the list judge at: 15 days from now (to the second), when the
/// 40- and 44-day devices are expiring and the 10-day one has expired.
fn at() -> String {
    let t = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap() + time::Duration::days(15);
    t.format(&Rfc3339).unwrap()
}

/// `pki list --json ARGS`' rows counted by state.
fn list_states(d: &Path, args: &[&str]) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for row in register_rows(d, args) {
        *counts
            .entry(row["state"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    counts
}

/// The value of `attr` in the tag that holds `id="ID"`.
fn attr_of_id(dom: &str, id: &str, attr: &str) -> String {
    let at = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no id={id} in the DOM"));
    let start = dom[..at].rfind('<').unwrap();
    let end = at + dom[at..].find('>').unwrap();
    attr_in(&dom[start..end], attr).unwrap_or_else(|| panic!("no {attr} on #{id}"))
}

/// The value of `attr` in one tag's text.
fn attr_in(tag: &str, attr: &str) -> Option<String> {
    let key = format!(" {attr}=\"");
    let from = tag.find(&key)? + key.len();
    Some(tag[from..from + tag[from..].find('"')?].to_owned())
}

/// Every tag `<NAME ...>` of the DOM, as text.
fn tags<'a>(dom: &'a str, name: &str) -> Vec<&'a str> {
    let open = format!("<{name} ");
    let mut out = Vec::new();
    let mut rest = dom;
    while let Some(i) = rest.find(&open) {
        let end = i + rest[i..].find('>').unwrap();
        out.push(&rest[i..end]);
        rest = &rest[end..];
    }
    out
}

/// Where the test keeps its artefacts (the screenshot, the page).
fn artefacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Headless chromium on `page`, with no proxy and no network to reach: its DOM after the
/// page's script ran, and what it logged. A screenshot is written to `shot`.
fn chromium(page: &Path, profile: &Path, shot: &Path) -> (String, String) {
    let url = format!("file://{}", page.display());
    let run = |extra: &[String]| {
        let mut cmd = programs::command("chromium");
        cmd.args([
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--no-proxy-server",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,1600",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(&url)
        .env("HOME", profile);
        let r = run_bounded(cmd, b"", Duration::from_secs(120)).expect("chromium ends");
        assert_eq!(r.code, 0, "chromium:\n{}", r.stderr);
        r
    };
    let dom = run(&["--dump-dom".into()]);
    let screenshot = run(&[format!("--screenshot={}", shot.display())]);
    (dom.stdout, format!("{}{}", dom.stderr, screenshot.stderr))
}

#[test]
fn the_html_report_opens_in_chromium_with_the_registers_counts() {
    let dir = fleet();
    let d = dir.path();
    let at = at();
    // The scan (`pki scan --drift`): a gateway left serving the certificate a renewal
    // replaced (a broker not reloaded), one serving the certificate in service, and one that
    // does not answer.
    let old = register_rows(d, &["--profile", "server"]);
    assert_eq!(old.len(), 1);
    let old_serial = old[0]["serial"].as_str().unwrap().to_owned();
    pki(d, &["renew", "pki/certs/iot-edge-server-gw.test.cert.pem"]).expect(0);
    let kept = format!("iot-edge-server-gw.test.{old_serial}");
    let stale = OpensslServer::start(
        d,
        &format!("pki/certs/{kept}.cert.pem"),
        &format!("pki/private/{kept}.key.pem"),
        Some(&format!("pki/certs/{kept}-full-chain.cert.pem")),
        &[],
    );
    let current = OpensslServer::start(
        d,
        "pki/certs/iot-edge-server-gw.test.cert.pem",
        "pki/private/iot-edge-server-gw.test.key.pem",
        Some("pki/certs/iot-edge-server-gw.test-full-chain.cert.pem"),
        &[],
    );
    let dead = closed_port();
    std::fs::write(
        d.join("hosts.txt"),
        format!(
            "127.0.0.1:{} servername=gw.test\n127.0.0.1:{} servername=gw.test\n127.0.0.1:{dead}\n",
            stale.port(),
            current.port()
        ),
    )
    .unwrap();
    let scan = pki(
        d,
        &[
            "scan",
            "hosts.txt",
            "--ca-file",
            ROOT,
            "--json",
            "--drift",
            "--timeout",
            "2",
        ],
    );
    assert_eq!(scan.code, 1, "{}", scan.stderr);
    std::fs::write(d.join("scan.jsonl"), &scan.stdout).unwrap();
    let lines: Vec<serde_json::Value> = scan
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["drift"], "superseded", "{}", scan.stdout);
    assert_eq!(lines[1]["drift"], "in_service", "{}", scan.stdout);
    let stale_target = format!("127.0.0.1:{}", stale.port());
    let days_left = lines[0]["days_left"]
        .as_i64()
        .expect("the stale gateway's days left");

    let report = pki(
        d,
        &[
            "report",
            "--html",
            "fleet.html",
            "--scan",
            "scan.jsonl",
            "--at",
            &at,
        ],
    );
    report.expect(0);
    let html = std::fs::read_to_string(d.join("fleet.html")).unwrap();
    // Self-contained: nothing to fetch, and the one script is pki's.
    for fetch in ["http://", "https://", " src=", " href=", "url(", "@import"] {
        assert!(!html.contains(fetch), "the page holds {fetch:?}");
    }
    assert_eq!(html.matches("<script").count(), 1);
    assert!(
        html.contains("Owner &quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot; &amp; Root"),
        "the hostile CN is not escaped"
    );

    let keep = artefacts();
    std::fs::copy(d.join("fleet.html"), keep.join("fleet.html")).unwrap();
    let shot = keep.join("fleet.png");
    let _ = std::fs::remove_file(&shot);
    let (dom, log) = chromium(&keep.join("fleet.html"), &d.join("chromium"), &shot);
    assert!(
        std::fs::metadata(&shot).is_ok_and(|m| m.len() > 10_000),
        "no screenshot"
    );
    for bad in ["Uncaught", "Refused to", "Content Security Policy", "ERR_"] {
        assert!(!log.contains(bad), "chromium logged {bad:?}:\n{log}");
    }
    assert_eq!(
        attr_of_id(&dom, "js", "data-ran"),
        "yes",
        "the script did not run"
    );
    // The hostile CN is text in the DOM, not an element: still one script.
    assert_eq!(dom.matches("<script").count(), 1);

    // Counts by state: the DOM against `pki list --json` at the same instant.
    let listed = list_states(d, &["--at", &at]);
    let total: u64 = listed.values().sum();
    for state in ["valid", "expiring", "expired", "superseded", "revoked"] {
        let shown: u64 = attr_of_id(&dom, &format!("count-{state}"), "data-count")
            .parse()
            .unwrap();
        assert_eq!(shown, listed.get(state).copied().unwrap_or(0), "{state}");
        assert!(shown > 0, "the fleet has no {state} certificate");
    }
    assert_eq!(
        attr_of_id(&dom, "count-total", "data-count"),
        total.to_string()
    );
    // Renewals due: `pki list --expiring 30d`.
    let due = register_rows(d, &["--expiring", "30d", "--at", &at]);
    assert_eq!(
        attr_of_id(&dom, "due-total", "data-count"),
        due.len().to_string()
    );
    let shown: Vec<String> = tags(&dom, "tr")
        .iter()
        .filter_map(|t| attr_in(t, "data-serial"))
        .collect();
    let listed_serials: Vec<String> = due
        .iter()
        .map(|r| r["serial"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(shown, listed_serials);
    // The timeline: every certificate in service expiring within 78 weeks, week by week.
    let at_t = OffsetDateTime::parse(&at, &Rfc3339).unwrap();
    let mut weeks: BTreeMap<i64, u64> = BTreeMap::new();
    for row in register_rows(d, &["--at", &at]) {
        let state = row["state"].as_str().unwrap();
        let not_after =
            OffsetDateTime::parse(row["not_after"].as_str().unwrap(), &Rfc3339).unwrap();
        let ahead = (not_after - at_t).whole_seconds();
        if matches!(state, "valid" | "expiring") && ahead <= 78 * 7 * 86_400 {
            *weeks.entry((ahead - 1) / (7 * 86_400)).or_default() += 1;
        }
    }
    let mut drawn: BTreeMap<i64, u64> = BTreeMap::new();
    for g in tags(&dom, "g") {
        if let (Some(w), Some(n)) = (attr_in(g, "data-week"), attr_in(g, "data-count")) {
            drawn.insert(w.parse().unwrap(), n.parse().unwrap());
        }
    }
    assert_eq!(drawn, weeks);
    let segments: u64 = tags(&dom, "rect")
        .iter()
        .filter_map(|t| attr_in(t, "data-count"))
        .map(|n| n.parse::<u64>().unwrap())
        .sum();
    assert_eq!(segments, weeks.values().sum::<u64>());
    // The CA tree: the intermediate, with what it signed, and its own notAfter.
    let intermediate = register_rows(d, &["--profile", "intermediate-ca"]);
    let inter_sha = intermediate[0]["sha256"].as_str().unwrap();
    let li = tags(&dom, "li")
        .into_iter()
        .find(|t| attr_in(t, "data-sha256").as_deref() == Some(inter_sha))
        .expect("the intermediate in the CA tree");
    assert_eq!(
        attr_in(li, "data-not-after").as_deref(),
        intermediate[0]["not_after"].as_str()
    );
    let signed = register_rows(d, &["--issuer", "intermediate", "--at", &at]).len();
    let after = &dom[dom.find(li).unwrap()..];
    let block = &after[..after.find("</li>").unwrap()];
    let counted: u64 = tags(block, "span")
        .iter()
        .filter_map(|t| attr_in(t, "data-count"))
        .map(|n| n.parse::<u64>().unwrap())
        .sum();
    assert_eq!(counted, signed as u64);
    // The gateways of the scan, drift marked.
    assert_eq!(attr_of_id(&dom, "gateways-total", "data-count"), "3");
    assert_eq!(attr_of_id(&dom, "gateways-drifting", "data-count"), "1");
    assert_eq!(attr_of_id(&dom, "drift-superseded", "data-count"), "1");
    assert_eq!(attr_of_id(&dom, "drift-in_service", "data-count"), "1");
    let rows: Vec<&str> = tags(&dom, "tr")
        .into_iter()
        .filter(|t| attr_in(t, "data-gateway").is_some())
        .collect();
    assert_eq!(rows.len(), 3);
    let live_row = rows
        .iter()
        .find(|t| attr_in(t, "data-gateway").as_deref() == Some(stale_target.as_str()))
        .unwrap();
    assert!(live_row.contains("class=\"gateway drift\""), "{live_row}");
    assert_eq!(
        attr_in(live_row, "data-days-left"),
        Some(days_left.to_string())
    );
    assert!(
        !rows
            .iter()
            .any(|t| t.contains("class=\"gateway drift\"") && !std::ptr::eq(*t, *live_row)),
        "only the stale gateway drifts"
    );
}

/// One sample of the exposition: its name, labels (unescaped) and value.
type Sample = (String, BTreeMap<String, String>, f64);

/// Parses Prometheus's text format strictly: HELP and TYPE before a metric's samples, names
/// and label names as the format allows, label values escaped, no series twice.
fn parse_exposition(text: &str) -> Vec<Sample> {
    let name_ok = |n: &str| {
        !n.is_empty()
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
            && !n.starts_with(|c: char| c.is_ascii_digit())
    };
    let mut typed: Vec<String> = Vec::new();
    let mut helped: Vec<String> = Vec::new();
    let mut samples: Vec<Sample> = Vec::new();
    assert!(text.ends_with('\n'), "the exposition ends with a line feed");
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap();
            assert!(
                name_ok(name) && !helped.contains(&name.to_owned()),
                "{line}"
            );
            helped.push(name.to_owned());
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert_eq!(kind, "gauge", "{line}");
            assert!(helped.last().map(String::as_str) == Some(name), "{line}");
            typed.push(name.to_owned());
            continue;
        }
        assert!(!line.starts_with('#') && !line.is_empty(), "{line:?}");
        let (name, rest) = match line.find('{') {
            Some(i) => (&line[..i], &line[i..]),
            None => line
                .split_once(' ')
                .map(|(n, _)| (n, &line[n.len()..]))
                .unwrap(),
        };
        assert!(name_ok(name), "{line}");
        assert_eq!(typed.last().map(String::as_str), Some(name), "{line}");
        let mut labels = BTreeMap::new();
        let mut rest = rest;
        if let Some(body) = rest.strip_prefix('{') {
            let mut chars = body.char_indices().peekable();
            let end = loop {
                // name="value"
                let mut lname = String::new();
                for (_, c) in chars.by_ref() {
                    if c == '=' {
                        break;
                    }
                    lname.push(c);
                }
                assert!(name_ok(&lname), "label {lname:?} in {line}");
                assert_eq!(chars.next().map(|c| c.1), Some('"'), "{line}");
                let mut value = String::new();
                loop {
                    match chars.next().map(|c| c.1) {
                        Some('\\') => match chars.next().map(|c| c.1) {
                            Some('\\') => value.push('\\'),
                            Some('"') => value.push('"'),
                            Some('n') => value.push('\n'),
                            other => panic!("bad escape {other:?} in {line}"),
                        },
                        Some('"') => break,
                        Some('\n') | None => panic!("unterminated value in {line}"),
                        Some(c) => value.push(c),
                    }
                }
                assert!(labels.insert(lname, value).is_none(), "{line}");
                match chars.next() {
                    Some((_, ',')) => continue,
                    Some((i, '}')) => break i,
                    other => panic!("{other:?} after a label in {line}"),
                }
            };
            rest = &body[end + 1..];
        }
        let value = rest.strip_prefix(' ').unwrap_or_else(|| panic!("{line}"));
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("{line}"));
        assert!(
            !samples.iter().any(|s| s.0 == name && s.1 == labels),
            "a series twice: {line}"
        );
        samples.push((name.to_owned(), labels, value));
    }
    samples
}

#[test]
fn the_prometheus_textfile_holds_the_registers_counts_in_the_format() {
    let dir = fleet();
    let d = dir.path();
    let at = at();
    std::fs::write(
        d.join("scan.jsonl"),
        concat!(
            r#"{"target":"gw \"one\"\\:8883","status":"ok","days_left":300,"reason":"","drift":"revoked","register":null}"#,
            "\n",
            r#"{"target":"gw2:8883","status":"unreachable","days_left":null,"reason":"refused","drift":null,"register":null,"checks":[]}"#,
            "\n"
        ),
    )
    .unwrap();
    pki(
        d,
        &[
            "report",
            "--prometheus",
            "pki.prom",
            "--scan",
            "scan.jsonl",
            "--at",
            &at,
        ],
    )
    .expect(0);
    let text = std::fs::read_to_string(d.join("pki.prom")).unwrap();
    let samples = parse_exposition(&text);
    // pki_certificates summed by state equals `pki list --json`.
    let listed = list_states(d, &["--at", &at]);
    let mut by_state: BTreeMap<String, u64> = BTreeMap::new();
    for (name, labels, v) in &samples {
        if name == "pki_certificates" {
            *by_state.entry(labels["state"].clone()).or_default() += *v as u64;
        }
    }
    by_state.retain(|_, n| *n > 0);
    assert_eq!(by_state, listed);
    // The issuer label is the CA's CN, quotes and all.
    assert!(samples.iter().any(|(n, l, v)| n == "pki_certificates"
        && l["issuer"] == HOSTILE_CN
        && l["profile"] == "intermediate-ca"
        && l["state"] == "valid"
        && *v == 1.0));
    // The next expiry of the intermediate's devices: the soonest notAfter still ahead.
    let at_t = OffsetDateTime::parse(&at, &Rfc3339).unwrap();
    let soonest = register_rows(d, &["--issuer", "intermediate", "--profile", "device"])
        .iter()
        .filter(|r| r["status"] == "issued")
        .map(|r| OffsetDateTime::parse(r["not_after"].as_str().unwrap(), &Rfc3339).unwrap())
        .filter(|t| *t > at_t)
        .min()
        .unwrap();
    assert!(
        samples
            .iter()
            .any(|(n, l, v)| n == "pki_certificate_next_expiry_seconds"
                && l["issuer"] == "IoT Intermediate CA"
                && l["profile"] == "device"
                && *v as i64 == soonest.unix_timestamp())
    );
    // The gateways: a target with a quote and a backslash survives the escaping.
    let gauge = |name: &str, gateway: &str, drift: Option<&str>| {
        samples
            .iter()
            .find(|(n, l, _)| {
                n == name
                    && l["gateway"] == gateway
                    && drift.is_none_or(|d| l.get("drift").map(String::as_str) == Some(d))
            })
            .map(|s| s.2)
    };
    assert_eq!(
        gauge("pki_gateway_days_left", "gw \"one\"\\:8883", None),
        Some(300.0)
    );
    assert_eq!(gauge("pki_gateway_days_left", "gw2:8883", None), None);
    assert_eq!(
        gauge("pki_gateway_drift", "gw \"one\"\\:8883", Some("revoked")),
        Some(1.0)
    );
    assert_eq!(
        gauge("pki_gateway_drift", "gw \"one\"\\:8883", Some("in_service")),
        Some(0.0)
    );
    assert_eq!(gauge("pki_gateway_verified", "gw2:8883", None), Some(0.0));
    // Written atomically in its directory, nothing left beside it.
    let names: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(".pki-tmp"))
        .collect();
    assert!(names.is_empty(), "{names:?}");
}

#[test]
fn bad_scan_lines_and_existing_outputs_are_refused_with_nothing_written() {
    let dir = fleet();
    let d = dir.path();
    std::fs::write(
        d.join("scan.jsonl"),
        "{\"target\":\"gw:8883\",\"status\":\"ok\"}\n{\"target\":\"gw2:8883\",\"status\":\"sideways\"}\n",
    )
    .unwrap();
    let listing = || {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    };
    fails_cleanly(
        d,
        &[
            "report",
            "--html",
            "out.html",
            "--prometheus",
            "out.prom",
            "--scan",
            "scan.jsonl",
        ],
        "scan.jsonl line 2",
        listing,
    );
    std::fs::write(d.join("out.html"), "mine").unwrap();
    fails_cleanly(
        d,
        &["report", "--html", "out.html", "--prometheus", "out.prom"],
        "out.html",
        || {
            (
                listing(),
                std::fs::read_to_string(d.join("out.html")).unwrap(),
            )
        },
    );
    // A percentage for --warn: refused in one line naming the flag.
    let r = pki(d, &["report", "--html", "x.html", "--warn", "66%"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--warn \"66%\""), "{}", r.stderr);
    // With --force, both are written.
    pki(
        d,
        &[
            "report",
            "--html",
            "out.html",
            "--prometheus",
            "out.prom",
            "--force",
        ],
    )
    .expect(0);
    assert!(
        std::fs::read_to_string(d.join("out.html"))
            .unwrap()
            .starts_with("<!DOCTYPE html>")
    );
}

#[test]
fn a_postgresql_register_reports_the_same_counts_as_it_lists() {
    let pg = Postgres::start();
    let url = pg.url();
    let dir = tmp();
    let d = dir.path();
    let with = |args: &[&str]| pki_env(d, args, &[("PKI_REGISTER", &url)]);
    with(&["create-owner-ca"]).expect(0);
    with(&["create-intermediate-ca"]).expect(0);
    for i in 1..=4 {
        with(&["issue", "device", &format!("pg-{i}")]).expect(0);
    }
    with(&["issue", "device", "pg-soon", "--days", "20"]).expect(0);
    with(&["renew", "pg-1"]).expect(0);
    with(&["revoke", "pg-2"]).expect(0);
    with(&["report", "--prometheus", "pki.prom", "--html", "pki.html"]).expect(0);
    let samples = parse_exposition(&std::fs::read_to_string(d.join("pki.prom")).unwrap());
    let mut by_state: BTreeMap<String, u64> = BTreeMap::new();
    for (name, labels, v) in &samples {
        if name == "pki_certificates" {
            *by_state.entry(labels["state"].clone()).or_default() += *v as u64;
        }
    }
    by_state.retain(|_, n| *n > 0);
    let listed = with(&["--json", "list"]).expect(0);
    let mut states: BTreeMap<String, u64> = BTreeMap::new();
    for l in listed.stdout.lines() {
        let row: serde_json::Value = serde_json::from_str(l).unwrap();
        *states
            .entry(row["state"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert_eq!(by_state, states);
    for s in ["valid", "expiring", "superseded", "revoked"] {
        assert!(states.contains_key(s), "{s}: {states:?}");
    }
    let html = std::fs::read_to_string(d.join("pki.html")).unwrap();
    let due = attr_of_id(&html, "due-total", "data-count");
    assert_eq!(due, "1");
    // The SQLite register in the directory was never made.
    assert!(!d.join("pki/register.sqlite3").exists());
}
