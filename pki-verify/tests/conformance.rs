//! pki's OpenSSL verdict against the real `openssl verify` on the unusual certificates of
//! issue 11 (testdata/verify-conformance/): legacy and weak signatures, malformed and duplicated
//! extensions, name constraints, long and looping chains, anchors OpenSSL will not use, issuers
//! whose key does not match.
//!
//! A MEASURING TOOL FOR NOW. Each case is run through `openssl verify` exactly as
//! openssl_oracle.rs runs testdata/verify (tests/common/mod.rs), at the case's options and again
//! at `-auth_level 1` and `2`, and through [`pki_verify::verify`] on the same input. The test
//! prints a table (case, OpenSSL's first error as code@depth, pki's, whether they agree) and the
//! totals: verdict agreement, and code agreement where both reject. To see it:
//! `cargo nextest run -p pki-verify --test conformance --no-capture`.
//!
//! It asserts only what holds today: every case's files and options parse; `openssl verify`
//! says, at every level, what the README's table (written by testdata/verify-conformance/
//! table.py from openssl itself) records, so a different OpenSSL is noticed; `verify` never
//! panics; and every report it returns serialises to JSON (what `pki verify --json` prints).
//!
//! The classes whose engine work is done (the case-name prefixes in [`ASSERTED`]) are held to
//! `openssl verify` exactly: first code, depth, wording and every printed error, at the case's
//! options and at `-auth_level 1` and `2`; and where OpenSSL and rustls disagree on one of their
//! cases, the diagnosis must say so in plain words.
//!
//! THE ENGINE WORK OF ISSUE 11 WILL TURN THE AGREEMENT INTO AN ASSERTION: every case the same
//! verdict, code and depth as `openssl verify`, as openssl_oracle.rs demands of testdata/verify,
//! at which point these cases move there.
//!
//! Classes already closed (extensions, anchors, name constraints, long and looping chains) are
//! asserted here, by case-name prefix (`ASSERTED_PREFIXES`): every
//! such case the same first code, depth and text and the same printed errors as `openssl verify`,
//! at the case's options and at `-auth_level 1` and `2`.
// Tests start the programs they check against (openssl, peers, pki itself) directly, with
// environments of their own; pki itself makes children only through `pki_x509::child_command`.
#![allow(clippy::disallowed_methods)]

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use pki_verify::verify;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/verify-conformance")
}

/// The cases as cases.tsv (written by gen.py) lists them, by class: (case, class).
fn listed_cases() -> Vec<(String, String)> {
    std::fs::read_to_string(fixtures().join("cases.tsv"))
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut cells = l.split('\t');
            Some((cells.next()?.to_owned(), cells.next()?.to_owned()))
        })
        .collect()
}

/// The README's table: for each case, what `openssl verify` printed at the case's options, at
/// `-auth_level 1` and at `-auth_level 2` (`N at D, ...` or `OK`).
fn readme_expectations() -> BTreeMap<String, [String; 3]> {
    let readme = std::fs::read_to_string(fixtures().join("README.md")).unwrap();
    let (_, table) = readme.split_once("<!-- table -->\n").unwrap();
    let (table, _) = table.split_once("<!-- /table -->").unwrap();
    table
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            // | `case` | what | options | openssl verify | level 1 | level 2 |
            let case = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            (cells.len() == 8).then(|| {
                (
                    case.to_owned(),
                    [cells[4], cells[5], cells[6]].map(str::to_owned),
                )
            })
        })
        .collect()
}

/// Errors as the README writes them: `N at D, N at D`, or `OK` for none.
fn render(errors: &[(i32, u32)]) -> String {
    if errors.is_empty() {
        return "OK".to_owned();
    }
    errors
        .iter()
        .map(|(c, d)| format!("{c} at {d}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What pki said of one case at one level.
enum Pki {
    /// A verdict: every error `openssl verify` would print, as (code, depth); and whether the
    /// whole report serialises to JSON (what `pki verify --json` prints).
    Verdict(Vec<(i32, u32)>, bool),
    /// `verify` returned an error: the check could not run (`pki verify` exits 2).
    NoVerdict(String),
    /// `verify` panicked.
    Panicked,
}

impl Pki {
    fn first(&self) -> String {
        match self {
            Pki::Verdict(e, _) if e.is_empty() => "OK".to_owned(),
            Pki::Verdict(e, _) => format!("{}@{}", e[0].0, e[0].1),
            Pki::NoVerdict(_) => "exit 2".to_owned(),
            Pki::Panicked => "PANIC".to_owned(),
        }
    }
}

fn first(errors: &[(i32, u32)]) -> String {
    errors
        .first()
        .map_or("OK".to_owned(), |(c, d)| format!("{c}@{d}"))
}

/// One run: a case at one level (`None`: the case's own options).
struct Run {
    case: String,
    class: String,
    level: Option<u8>,
    openssl: Vec<(i32, u32)>,
    pki: Pki,
}

impl Run {
    fn verdict_agrees(&self) -> bool {
        matches!(&self.pki, Pki::Verdict(e, _) if e.is_empty() == self.openssl.is_empty())
    }

    /// Both reject: whether the first codes (and depths) agree.
    fn both_reject(&self) -> Option<(bool, bool)> {
        match (&self.pki, self.openssl.first()) {
            (Pki::Verdict(e, _), Some(o)) if !e.is_empty() => Some((e[0].0 == o.0, e[0] == *o)),
            _ => None,
        }
    }
}

fn run(case: &str, class: &str, level: Option<u8>) -> Run {
    let dir = fixtures().join(case);
    let mut options = common::read_case(&dir);
    if let Some(level) = level {
        options.insert("auth_level".to_owned(), level.to_string());
    }
    let (opts, args) = common::options(&options);
    let openssl = common::openssl_verify(case, &dir, &args)
        .into_iter()
        .map(|(c, d, _)| (c, d))
        .collect();
    let input = common::input(&dir);
    let pki = match catch_unwind(AssertUnwindSafe(|| verify(&input, &opts))) {
        Ok(Ok(report)) => Pki::Verdict(
            report
                .openssl
                .verify_command_errors()
                .iter()
                .map(|e| (e.code.number(), e.depth))
                .collect(),
            serde_json::to_string(&report).is_ok(),
        ),
        Ok(Err(e)) => Pki::NoVerdict(e.to_string()),
        Err(_) => Pki::Panicked,
    };
    Run {
        case: case.to_owned(),
        class: class.to_owned(),
        level,
        openssl,
        pki,
    }
}

fn percent(n: usize, of: usize) -> String {
    if of == 0 {
        return "-".to_owned();
    }
    format!("{n}/{of} ({:.1}%)", 100.0 * n as f64 / of as f64)
}

/// The totals of some runs: verdicts, codes where both reject, code and depth.
fn totals(runs: &[&Run]) -> String {
    let verdicts = runs.iter().filter(|r| r.verdict_agrees()).count();
    let both: Vec<(bool, bool)> = runs.iter().filter_map(|r| r.both_reject()).collect();
    let codes = both.iter().filter(|(c, _)| *c).count();
    let depths = both.iter().filter(|(_, d)| *d).count();
    let no_verdict = runs
        .iter()
        .filter(|r| matches!(r.pki, Pki::NoVerdict(_)))
        .count();
    format!(
        "verdicts {}, codes where both reject {}, code and depth {}, no verdict (exit 2) {}",
        percent(verdicts, runs.len()),
        percent(codes, both.len()),
        percent(depths, both.len()),
        no_verdict
    )
}

fn report(runs: &[Run]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<44} {:<10} {:<10} agree",
        "case (case's options)", "openssl", "pki"
    );
    let mut class = "";
    for r in runs.iter().filter(|r| r.level.is_none()) {
        if r.class != class {
            class = &r.class;
            let _ = writeln!(out, "-- {class}");
        }
        let agree = match (r.verdict_agrees(), r.both_reject()) {
            (true, Some((true, true))) | (true, None) => "yes",
            (true, Some((true, false))) => "code (not depth)",
            (true, Some((false, _))) => "verdict (not code)",
            (false, _) => "NO",
        };
        let note = match &r.pki {
            Pki::NoVerdict(e) => format!("  [{e}]"),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "{:<44} {:<10} {:<10} {agree}{note}",
            r.case,
            first(&r.openssl),
            r.pki.first()
        );
    }
    let _ = writeln!(out);
    let agrees = |r: &Run| r.verdict_agrees() && r.both_reject().is_none_or(|(_, d)| d);
    let at_case: BTreeMap<&str, bool> = runs
        .iter()
        .filter(|r| r.level.is_none())
        .map(|r| (r.case.as_str(), agrees(r)))
        .collect();
    let only_forced: Vec<String> = runs
        .iter()
        .filter(|r| r.level.is_some() && !agrees(r))
        .filter(|r| at_case.get(r.case.as_str()) == Some(&true))
        .map(|r| {
            let level = r.level.unwrap_or_default();
            let (o, p) = (first(&r.openssl), r.pki.first());
            format!("{} at -auth_level {level}: openssl {o}, pki {p}", r.case)
        })
        .collect();
    let unserialisable: Vec<String> = runs
        .iter()
        .filter(|r| matches!(r.pki, Pki::Verdict(_, false)))
        .map(|r| format!("{} (level {:?})", r.case, r.level))
        .collect();
    for (title, lines) in [
        (
            "agreeing at the case's options but not at a forced level",
            only_forced,
        ),
        ("reports that do not serialise to JSON", unserialisable),
    ] {
        let _ = writeln!(out, "{title}: {}", lines.len());
        for line in &lines {
            let _ = writeln!(out, "  {line}");
        }
    }
    let _ = writeln!(out);
    let mut by_class: BTreeMap<&str, Vec<&Run>> = BTreeMap::new();
    for r in runs.iter().filter(|r| r.level.is_none()) {
        by_class.entry(&r.class).or_default().push(r);
    }
    for (class, rs) in &by_class {
        let _ = writeln!(out, "{class}: {}", totals(rs));
    }
    for (label, level) in [
        ("case's options", None),
        ("-auth_level 1", Some(1)),
        ("-auth_level 2", Some(2)),
    ] {
        let rs: Vec<&Run> = runs.iter().filter(|r| r.level == level).collect();
        let _ = writeln!(out, "ALL at {label}: {}", totals(&rs));
    }
    out
}

#[test]
fn openssl_verify_says_what_the_readme_records_and_pki_is_measured_against_it() {
    let names = common::case_names(&fixtures());
    assert!(names.len() >= 100, "fixtures missing: {names:?}");
    let listed = listed_cases();
    let mut sorted: Vec<&String> = listed.iter().map(|(n, _)| n).collect();
    sorted.sort();
    assert_eq!(
        sorted,
        names.iter().collect::<Vec<_>>(),
        "cases.tsv and the case directories differ: rerun testdata/verify-conformance/gen.sh"
    );
    let expected = readme_expectations();
    let mut runs = Vec::new();
    let mut failures = Vec::new();
    for (name, class) in &listed {
        let Some(columns) = expected.get(name) else {
            failures.push(format!("{name}: not in the README's table"));
            continue;
        };
        for (column, level) in [None, Some(1), Some(2)].into_iter().enumerate() {
            let r = run(name, class, level);
            let said = render(&r.openssl);
            if said != columns[column] {
                failures.push(format!(
                    "{name} (level {level:?}): openssl verify says {said}, the README records {}",
                    columns[column]
                ));
            }
            match r.pki {
                Pki::Panicked => failures.push(format!(
                    "{name} (level {level:?}): pki_verify::verify panicked"
                )),
                Pki::Verdict(_, false) => failures.push(format!(
                    "{name} (level {level:?}): the report does not serialise to JSON"
                )),
                _ => {}
            }
            runs.push(r);
        }
    }
    println!("{}", report(&runs));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The classes of issue 11 whose cases pki must now judge exactly as `openssl verify`, by
/// case-name prefix: malformed and duplicated extensions (class 2) and trust anchors OpenSSL will
/// not use (class 5), both decided by OpenSSL's `x509v3_cache_extensions` (EXFLAG_INVALID).
const ASSERTED_PREFIXES: &[&str] = &["ext-", "anchor-"];

/// The classes of issue 11 whose agreement is asserted, by case-name prefix: name constraints
/// (`NAME_CONSTRAINTS_check` and `nc_match` in crypto/x509/v3_ncons.c) and long and looping
/// chains (`build_chain` in crypto/x509/x509_vfy.c).
const ASSERTED_NAME_CONSTRAINTS_AND_CHAINS: &[&str] = &["nc-", "chain-"];

#[test]
fn extension_and_anchor_cases_agree_with_openssl_verify_at_every_level() {
    let cases: Vec<String> = listed_cases()
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| ASSERTED_PREFIXES.iter().any(|p| name.starts_with(p)))
        .collect();
    assert!(cases.len() >= 30, "cases missing: {cases:?}");
    let failures: Vec<String> = cases
        .iter()
        .flat_map(|case| [None, Some(1), Some(2)].map(|level| agrees_exactly(case, level)))
        .filter_map(Result::err)
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The cases OpenSSL rejects because a certificate is invalid to it (EXFLAG_INVALID).
const INVALID_TO_OPENSSL: &[&str] = &[
    "ext-dup-bc-",
    "ext-dup-san-",
    "ext-dup-eku-",
    "ext-dup-ku-",
    "ext-bad-",
    "ext-empty-ku-",
    "ext-negative-",
    "anchor-empty-ku",
    "anchor-dup-",
    "anchor-bad-",
];

#[test]
fn the_diagnosis_names_the_invalid_certificate_and_says_whether_rustls_accepts_it() {
    let cases: Vec<String> = listed_cases()
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| INVALID_TO_OPENSSL.iter().any(|p| name.starts_with(p)))
        .collect();
    assert!(cases.len() >= 19, "cases missing: {cases:?}");
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            let dir = fixtures().join(case);
            let (opts, _) = common::options(&common::read_case(&dir));
            let report = verify(&common::input(&dir), &opts).unwrap();
            let json = serde_json::to_value(&report.diagnosis).unwrap();
            let text = report.diagnosis.explain();
            let rustls = if report.webpki.is_ok() {
                "rustls clients accept it"
            } else {
                "rustls clients reject it too"
            };
            let ok = json["finding"] == "invalid_extensions"
                && text.starts_with("OpenSSL will not use")
                && text.contains(rustls);
            (!ok).then(|| format!("{case}: {json} / {text}"))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn where_openssl_and_rustls_disagree_the_diagnosis_says_so() {
    let mut disagreeing = 0;
    let failures: Vec<String> = listed_cases()
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| ASSERTED_PREFIXES.iter().any(|p| name.starts_with(p)))
        .filter_map(|case| {
            let dir = fixtures().join(&case);
            let (opts, _) = common::options(&common::read_case(&dir));
            let report = verify(&common::input(&dir), &opts).unwrap();
            if report.openssl.is_ok() == report.webpki.is_ok() {
                return None;
            }
            disagreeing += 1;
            let text = report.diagnosis.explain();
            let (yes, no) = if report.openssl.is_ok() {
                ("OpenSSL clients accept", "rustls clients reject")
            } else {
                ("OpenSSL clients reject", "rustls clients accept")
            };
            (!(text.contains(yes) && text.contains(no))).then(|| format!("{case}: {text}"))
        })
        .collect();
    assert!(disagreeing >= 10, "only {disagreeing} cases disagree");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn name_constraints_and_long_chains_agree_with_openssl_verify() {
    let cases: Vec<String> = listed_cases()
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| {
            ASSERTED_NAME_CONSTRAINTS_AND_CHAINS
                .iter()
                .any(|p| name.starts_with(p))
        })
        .collect();
    assert!(cases.len() >= 45, "cases missing: {cases:?}");
    let failures: Vec<String> = cases
        .iter()
        .flat_map(|case| [None, Some(1), Some(2)].map(|level| agrees_exactly(case, level).err()))
        .flatten()
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Where OpenSSL and rustls disagree on one of the cases of the asserted classes, the diagnosis
/// says so in plain words: which clients accept the chain, and no debug-formatted verdict.
#[test]
fn name_constraints_and_long_chains_explain_where_openssl_and_rustls_disagree() {
    let mut failures = Vec::new();
    for (case, _) in listed_cases() {
        if !ASSERTED_NAME_CONSTRAINTS_AND_CHAINS
            .iter()
            .any(|p| case.starts_with(p))
        {
            continue;
        }
        let dir = fixtures().join(&case);
        let (opts, _) = common::options(&common::read_case(&dir));
        let report = verify(&common::input(&dir), &opts).unwrap();
        let (openssl_ok, rustls_ok) = (report.openssl.is_ok(), report.webpki.is_ok());
        if openssl_ok == rustls_ok {
            continue;
        }
        let text = report.diagnosis.explain();
        let says = if openssl_ok {
            "OpenSSL clients accept"
        } else {
            "rustls clients accept"
        };
        if !text.contains(says) || text.contains('{') {
            failures.push(format!(
                "{case}: the diagnosis does not say \"{says}\": {text}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The classes of issue 11 whose engine work is done: every case whose name starts with one of
/// these is held to `openssl verify` exactly, as openssl_oracle.rs holds testdata/verify.
const ASSERTED: &[&str] = &[
    // Signatures: every algorithm OpenSSL 3.0 verifies, judged by security level.
    "sig-",
    // Malformed and duplicated extensions, anchors OpenSSL will not use (EXFLAG_INVALID).
    "ext-",
    "anchor-",
    // Name constraints (NAME_CONSTRAINTS_check) and long and looping chains (build_chain).
    "nc-",
    "chain-",
    // An issuer whose key cannot verify the signature (class 6).
    "issuer-key-",
];

/// One case at one level: `Err` says how pki and `openssl verify` differ.
fn agrees_exactly(case: &str, level: Option<u8>) -> Result<(), String> {
    let dir = fixtures().join(case);
    let mut options = common::read_case(&dir);
    if let Some(level) = level {
        options.insert("auth_level".to_owned(), level.to_string());
    }
    let (opts, args) = common::options(&options);
    common::check_against_openssl(case, &dir, &opts, &args)
}

#[test]
fn the_finished_classes_agree_with_openssl_verify_at_every_level() {
    let cases: Vec<String> = common::case_names(&fixtures())
        .into_iter()
        .filter(|n| ASSERTED.iter().any(|p| n.starts_with(p)))
        .collect();
    assert!(!cases.is_empty(), "no case matches {ASSERTED:?}");
    let failures: Vec<String> = cases
        .iter()
        .flat_map(|c| [None, Some(1), Some(2)].map(|l| agrees_exactly(c, l).err()))
        .flatten()
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn where_openssl_and_rustls_disagree_on_a_finished_case_the_diagnosis_says_so_in_plain_words() {
    let mut failures = Vec::new();
    for case in common::case_names(&fixtures())
        .iter()
        .filter(|n| ASSERTED.iter().any(|p| n.starts_with(p)))
    {
        let dir = fixtures().join(case);
        let (opts, _) = common::options(&common::read_case(&dir));
        let report = verify(&common::input(&dir), &opts).unwrap();
        let rustls_ok = matches!(report.webpki, pki_verify::WebpkiVerdict::Ok);
        if report.openssl.is_ok() == rustls_ok {
            continue;
        }
        let text = report.diagnosis.explain();
        let plain = text.contains("OpenSSL clients")
            && text.contains("rustls clients")
            && !text.contains("Unsupported")
            && !text.contains("Invalid");
        if !plain {
            failures.push(format!("{case}: {text}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
