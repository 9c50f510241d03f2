//! `pki guide` never prints code an attacker controls (issue 23, finding 1): devices with
//! hostile but valid ids (`x$(id)`, quotes, `*?!`), a CA directory whose path holds a newline,
//! `*/`, quotes, `\u000a`, `??/` and non-ASCII; every snippet for every SDK is checked by the
//! real tool that reads it (bash, python3's parser, node, javac's parser, a C compiler), and
//! each value is carried unchanged: the shell's words as the commands receive them, each
//! language's string literals as the language reads them. A property test: the fixed values
//! above are case 0, then arbitrary ids, hubs, gateways and directories from a seeded
//! generator (`PKI_GUIDE_SEED=N` reproduces a failure, `PKI_GUIDE_CASES=N` runs more cases;
//! every failure names its seed and case). Ids outside Azure's rule, and hubs and gateways
//! that are no host names, are refused in one line.

mod generate;
mod readers;

use std::path::Path;

use crate::support::{one_error_line, pki, refused_in_one_line, tmp};

use generate::{
    Rng, arbitrary_dir, arbitrary_host, arbitrary_id, guide_cases, guide_seed, id_outside_rule,
    in_id_rule,
};
use readers::{Batch, Expect, bash_parses, carries, commands_in_comments, literals, shell_words};

/// One case of the property: a CA directory, its devices, and the hub and gateway the guide
/// is given (none: the default hub, the register's gateway).
#[derive(Debug)]
struct Case {
    dir: String,
    ids: Vec<String>,
    hub: Option<String>,
    gateway: Option<String>,
}

impl Case {
    /// The fixed values: a CA directory whose path holds a newline (it ends a `//` or `#`
    /// comment), `*/` (a C comment), `\u000a` (a line break to Java's lexer), `??/` (a C
    /// trigraph), quotes and non-ASCII; ids Azure allows that mean something to a shell or a
    /// language; the default hub and the register's gateway.
    fn fixed() -> Case {
        Case {
            dir: "ca\n*/\"'$(id)\\u000a??/é".to_owned(),
            ids: ["x$(id)", "a'b", "q'(x),:=@", "w*?!%_-.$'"]
                .map(str::to_owned)
                .to_vec(),
            hub: None,
            gateway: None,
        }
    }

    fn arbitrary(rng: &mut Rng) -> Case {
        let mut ids: Vec<String> = Vec::new();
        while ids.len() < rng.range(1, 3) {
            let id = arbitrary_id(rng);
            if !ids.iter().any(|i| i.eq_ignore_ascii_case(&id)) {
                ids.push(id);
            }
        }
        Case {
            dir: arbitrary_dir(rng),
            ids,
            hub: Some(arbitrary_host(rng)),
            gateway: Some(arbitrary_host(rng)),
        }
    }
}

/// The CA directory of a case with a device for each id (and, without a given gateway, a
/// gateway server certificate); the command `issue` points at carries the id.
fn setup(case: &Case, tag: &str) -> tempfile::TempDir {
    let dir = tmp();
    let d = dir.path();
    let at = format!("--dir={}", case.dir);
    pki(d, &[&at, "create-owner-ca"]).expect(0);
    if case.gateway.is_none() {
        pki(d, &[&at, "issue", "server", "gw.test"]).expect(0);
    }
    for id in &case.ids {
        let r = pki(d, &[&at, "issue", "device", id]);
        assert_eq!(r.code, 0, "{tag}: issue device {id:?}\n{}", r.stderr);
        // The command it points at, pasted into bash, passes the id unchanged.
        let line = r
            .stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix("SDK snippets: "))
            .unwrap_or_else(|| panic!("{tag}: no SDK snippets line:\n{}", r.stdout));
        let command = line.split(" --sdk ").next().unwrap_or_default();
        assert_eq!(
            shell_words(d, command, tag),
            vec!["pki", "guide", id],
            "{tag}: {line}"
        );
    }
    dir
}

/// Every snippet of a case: those the shell reads are checked at once, the others queued in
/// `batch` for one run of each tool.
fn check_case(case: &Case, tag: &str, s: &Path, batch: &mut Batch, n: &mut usize) {
    let dir = setup(case, tag);
    let d = dir.path();
    let at = format!("--dir={}", case.dir);
    let hub = case.hub.as_deref().unwrap_or("YOUR-HUB.azure-devices.net");
    let gw = case.gateway.as_deref().unwrap_or("gw.test");
    let strings = |xs: &[&str]| xs.iter().map(|x| (*x).to_owned()).collect::<Vec<String>>();
    for id in &case.ids {
        let id = id.as_str();
        for auth in ["x509", "sas"] {
            for (sdk, extra) in [
                ("python", None),
                ("node", None),
                ("c", None),
                ("dotnet", None),
                ("java", None),
                ("mosquitto", None),
                ("tedge", Some("azure")),
                ("tedge", Some("c8y")),
            ] {
                *n += 1;
                let mut args = vec![at.as_str(), "guide", id, "--sdk", sdk, "--auth", auth];
                if let Some(h) = &case.hub {
                    args.extend(["--hub", h]);
                }
                if let Some(g) = &case.gateway {
                    args.extend(["--gateway", g]);
                }
                if let Some(cloud) = extra {
                    args.extend(["--cloud", cloud]);
                }
                let what = format!("{tag}: {args:?}");
                let r = pki(d, &args);
                assert_eq!(r.code, 0, "{what}\n{}", r.stderr);
                let text = r.stdout;
                assert!(
                    text.bytes()
                        .all(|b| b == b'\n' || (0x20..0x7f).contains(&b)),
                    "{what}: not printable ASCII:\n{text}"
                );
                let mut json_args = vec!["--json"];
                json_args.extend(&args);
                let report = pki(d, &json_args).expect(0).json();
                assert_eq!(report["snippet"].as_str(), Some(text.as_str()), "{what}");
                let file = |k: &str| report["files"][k].as_str().unwrap_or_default().to_owned();
                let (root, chain, key) = (file("root"), file("chain"), file("key"));
                if sdk != "tedge" || extra == Some("azure") {
                    assert!(root.contains(&case.dir), "{what}: {root}");
                }
                let hello = format!("hello from {id}");
                let x509 = auth == "x509";
                let cs = format!("HostName={hub};DeviceId={id};x509=true;GatewayHostName={gw}");
                let expect = |values: &[&str]| Expect {
                    what: what.clone(),
                    values: strings(values),
                };
                match sdk {
                    "python" => {
                        let f = s.join(format!("s{n}.py"));
                        std::fs::write(&f, &text).unwrap();
                        let values = if x509 {
                            expect(&[&root, &chain, &key, hub, id, gw])
                        } else {
                            expect(&[&root, id])
                        };
                        batch.python.push((f, values));
                    }
                    "node" => {
                        let f = s.join(format!("s{n}.js"));
                        std::fs::write(&f, &text).unwrap();
                        let values = if x509 {
                            expect(&[&root, &chain, &key, hub, id, gw])
                        } else {
                            expect(&[&root, id])
                        };
                        batch.node.push((Some(f), literals(&text, true), values));
                    }
                    "c" => {
                        let values = if x509 {
                            expect(&[&cs, &root, &chain, &key])
                        } else {
                            expect(&[&root])
                        };
                        batch.c.push((text.clone(), values));
                    }
                    "dotnet" => {
                        // C#'s literals are written with the escapes JavaScript reads alike.
                        let words = shell_words(s, &commands_in_comments(&text, "//"), &what);
                        let pfx = format!("{id}.pfx");
                        let values = if x509 {
                            carries(&words, &[&chain, &pfx, &root], &what);
                            expect(&[&pfx, id, hub, gw, &hello])
                        } else {
                            carries(&words, &[&root], &what);
                            expect(&[&hello])
                        };
                        batch.node.push((None, literals(&text, false), values));
                    }
                    "java" => {
                        let f = s.join(format!("s{n}.java.txt"));
                        std::fs::write(&f, &text).unwrap();
                        let words = shell_words(s, &commands_in_comments(&text, "//"), &what);
                        let p12 = format!("{id}.p12");
                        let values = if x509 {
                            carries(&words, &[&chain, &p12, &root], &what);
                            expect(&[&p12, &cs, &hello])
                        } else {
                            carries(&words, &[&root], &what);
                            expect(&[&hello])
                        };
                        batch.java.push((f, values));
                    }
                    _ => {
                        // mosquitto and tedge: shell.
                        let f = s.join(format!("s{n}.sh"));
                        std::fs::write(&f, &text).unwrap();
                        bash_parses(s, &f, &what);
                        let mut words = shell_words(s, &text, &what);
                        words.extend(shell_words(s, &commands_in_comments(&text, "#"), &what));
                        let user = format!("{hub}/{id}/?api-version=2021-04-12");
                        let expected: Vec<&str> = match (sdk, x509, extra) {
                            ("mosquitto", true, _) => {
                                vec![&root, &chain, &key, id, gw, &hello, &user]
                            }
                            ("mosquitto", false, _) => vec![&root, id, gw, &hello, &user],
                            (_, true, Some("azure")) => vec![&root, &chain, &key, gw],
                            (_, true, _) => vec![&chain, &key],
                            (_, false, _) => vec![id],
                        };
                        carries(&words, &expected, &what);
                    }
                }
            }
        }
    }
}

/// The property: for the fixed case (case 0) and [`CASES`]` - 1` arbitrary ones (ids, hub,
/// gateway, CA directory), every snippet of every SDK parses with the tool that reads it
/// (bash `-n`, python3's `compile`, node's check, javac's parser, cc `-fsyntax-only` and more:
/// it compiles with every warning an error) and carries each value unchanged. A failure names
/// its seed and case: `PKI_GUIDE_SEED=SEED` reproduces it.
#[test]
fn every_snippet_parses_and_carries_every_value_unchanged() {
    let seed = guide_seed();
    let mut rng = Rng(seed);
    let scratch = tmp();
    let s = scratch.path();
    let mut batch = Batch::default();
    let mut n = 0;
    for k in 0..guide_cases() {
        let case = if k == 0 {
            Case::fixed()
        } else {
            Case::arbitrary(&mut rng)
        };
        let tag = format!("PKI_GUIDE_SEED={seed:#x} case {k} {case:?}");
        check_case(&case, &tag, s, &mut batch, &mut n);
    }
    batch.run(s);
}

/// Arbitrary ids outside Azure's rule are refused, by every command that takes one, in one
/// line naming the rule.
#[test]
fn arbitrary_ids_outside_the_rule_are_refused_saying_the_rule() {
    let seed = guide_seed();
    let mut rng = Rng(seed ^ 0x0ff_1d5);
    let dir = tmp();
    let d = dir.path();
    pki(d, &["create-owner-ca"]).expect(0);
    for k in 0..12 {
        let bad = id_outside_rule(&mut rng);
        assert!(!in_id_rule(&bad), "{bad:?}");
        for args in [
            vec!["issue", "device", "--", &bad],
            vec!["guide", "--sdk", "python", "--", &bad],
        ] {
            let what = format!("PKI_GUIDE_SEED={seed:#x} id {k}: {args:?}");
            let r = pki(d, &args);
            assert_eq!(r.code, 2, "{what}\n{}", r.stderr);
            let line = one_error_line(&r);
            assert!(line.contains("is not a valid device id"), "{what}: {line}");
            assert!(line.contains("Azure IoT Hub's rule"), "{what}: {line}");
            assert!(r.stdout.is_empty(), "{what}: {}", r.stdout);
        }
    }
}

#[test]
fn ids_outside_azures_rule_are_refused_saying_the_rule() {
    let dir = tmp();
    let d = dir.path();
    pki(d, &["create-owner-ca"]).expect(0);
    for bad in [
        "q\"(x)", "a\\b", "a b", "a;b", "a`b", ".hidden", "..", "a/b",
    ] {
        for args in [
            vec!["issue", "device", "--", bad],
            vec!["self-signed", "--", bad],
        ] {
            let r = pki(d, &args);
            refused_in_one_line(&r, &args, "is not a valid device id");
            assert!(r.stderr.contains("Azure IoT Hub's rule"), "{}", r.stderr);
        }
    }
}

#[test]
fn hubs_and_gateways_that_are_no_host_names_are_refused() {
    let dir = tmp();
    let d = dir.path();
    pki(d, &["create-owner-ca"]).expect(0);
    pki(d, &["issue", "device", "dev-1"]).expect(0);
    for bad in [
        "h\");system(\"id\");//",
        "a b",
        "x'y",
        "*.wild.test",
        "h\nx",
    ] {
        for flag in ["--hub", "--gateway"] {
            let mut args = vec!["guide", "dev-1", "--sdk", "c", flag, bad];
            if flag == "--hub" {
                args.extend(["--gateway", "gw.test"]);
            }
            let r = pki(d, &args);
            refused_in_one_line(&r, &args, &format!("{flag} "));
            assert!(r.stdout.is_empty(), "{}", r.stdout);
        }
    }
    // An IP address is a gateway.
    let r = pki(
        d,
        &["guide", "dev-1", "--sdk", "c", "--gateway", "10.1.2.3"],
    )
    .expect(0);
    assert!(
        r.stdout.contains("GatewayHostName=10.1.2.3"),
        "{}",
        r.stdout
    );
}
