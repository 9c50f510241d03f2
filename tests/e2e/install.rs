//! Installing pki like a real tool: the man pages the binary writes (`pki manpages DIR`, which
//! scripts/deb.sh puts in the Debian package) cover every command and sub-command, render
//! without a warning, and list each command's options. The commands and their options are read
//! from `pki -h`, not from the generator, so a command the pages miss is seen.
//! (The package itself and `cargo install` are checked by scripts/install-check.sh, which
//! scripts/test.sh runs: they need a release build.)

use std::path::Path;

use crate::support::{pki, programs, tmp};

/// The sub-commands `pki ARGS -h` lists (without clap's `help`).
fn subcommands(args: &[&str]) -> Vec<String> {
    let mut full = args.to_vec();
    full.push("-h");
    let help = pki(Path::new("."), &full).expect(0).stdout;
    let Some((_, list)) = help.split_once("\nCommands:\n") else {
        return Vec::new();
    };
    list.lines()
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.strip_prefix("  "))
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

/// The long names of the options `pki ARGS -h` lists (`--dir`, `--help`, ...).
fn options(args: &[&str]) -> Vec<String> {
    let mut full = args.to_vec();
    full.push("-h");
    let help = pki(Path::new("."), &full).expect(0).stdout;
    let (_, list) = help
        .split_once("\nOptions:\n")
        .unwrap_or_else(|| panic!("no Options in pki {args:?} -h:\n{help}"));
    list.lines()
        .take_while(|l| !l.trim().is_empty())
        // An option's line, not a description's continuation: `  -h, --help` or `      --dir`.
        .filter(|l| l.starts_with("  -") || l.starts_with("      --"))
        .filter_map(|l| {
            l.split_whitespace()
                .map(|w| w.trim_end_matches(','))
                .find(|w| w.starts_with("--"))
        })
        .map(str::to_owned)
        .collect()
}

/// Every command's path, `pki` itself first (`[]`, `["issue"]`, `["issue", "server"]`, ...).
fn command_paths() -> Vec<Vec<String>> {
    let mut paths = vec![Vec::new()];
    let mut i = 0;
    while i < paths.len() {
        let path: Vec<String> = paths[i].clone();
        let args: Vec<&str> = path.iter().map(String::as_str).collect();
        for sub in subcommands(&args) {
            let mut child = path.clone();
            child.push(sub);
            paths.push(child);
        }
        i += 1;
    }
    paths
}

/// `groff -man -Tutf8` of a page: its warnings (with `-ww`), and its text as plain characters
/// (no hyphenation, long lines, no bold or underline, a hyphen for groff's minus signs).
fn groff(page: &Path) -> (String, String) {
    let check = programs::command("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .arg(page)
        .output()
        .expect("groff runs");
    let render = programs::command("groff")
        .args(["-man", "-Tutf8", "-rHY=0", "-rLL=400n", "-P-cbou"])
        .arg(page)
        .output()
        .expect("groff runs");
    assert!(render.status.success(), "groff {}", page.display());
    let text =
        String::from_utf8_lossy(&render.stdout).replace(['\u{2010}', '\u{2011}', '\u{2212}'], "-");
    let warnings = String::from_utf8_lossy(&check.stderr).into_owned()
        + &String::from_utf8_lossy(&render.stderr);
    (warnings, text)
}

#[test]
fn every_command_has_a_man_page_that_renders_cleanly_and_lists_its_options() {
    let dir = tmp();
    let out = dir.path().join("man1");
    let wrote = pki(dir.path(), &["--json", "manpages", out.to_str().unwrap()])
        .expect(0)
        .json();

    let paths = command_paths();
    assert!(paths.len() > 30, "too few commands found: {paths:?}");
    let mut expected: Vec<String> = paths
        .iter()
        .map(|p| {
            let mut name = String::from("pki");
            for word in p {
                name.push('-');
                name.push_str(word);
            }
            name + ".1"
        })
        .collect();
    let mut written: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let mut reported: Vec<String> = wrote["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_owned())
        .collect();
    expected.sort();
    written.sort();
    reported.sort();
    assert_eq!(written, expected, "the pages written, against the commands");
    assert_eq!(
        reported, expected,
        "the pages reported, against the commands"
    );

    for path in &paths {
        let args: Vec<&str> = path.iter().map(String::as_str).collect();
        let name = std::iter::once("pki")
            .chain(args.iter().copied())
            .collect::<Vec<_>>()
            .join("-");
        let page = out.join(format!("{name}.1"));
        let (warnings, text) = groff(&page);
        assert!(warnings.is_empty(), "groff warns on {name}.1:\n{warnings}");
        assert!(
            text.contains("NAME") && text.contains(&name),
            "{name}.1:\n{text}"
        );
        let synopsis = format!("pki {}", args.join(" "));
        assert!(
            text.contains(synopsis.trim_end()),
            "{name}.1 has no {synopsis:?}:\n{text}"
        );
        let options_section = text
            .split_once("\nOPTIONS\n")
            .unwrap_or_else(|| panic!("{name}.1 has no OPTIONS:\n{text}"))
            .1;
        for option in options(&args) {
            assert!(
                options_section.lines().any(|l| l
                    .split(|c: char| c.is_whitespace() || c == ',')
                    .any(|w| w == option)),
                "{name}.1 does not list {option}:\n{text}"
            );
        }
        for sub in subcommands(&args) {
            let see = format!("{name}-{sub}(1)");
            assert!(text.contains(&see), "{name}.1 does not name {see}:\n{text}");
        }
        // The long help's EXAMPLES are a section of their own, set unfilled: each example is
        // one line as typed, never run into the next one nor wrapped.
        if let Some((_, examples)) = text.split_once("\nEXAMPLES\n") {
            let examples: Vec<&str> = examples
                .lines()
                .take_while(|l| l.is_empty() || l.starts_with(' '))
                .filter(|l| !l.trim().is_empty())
                .collect();
            assert!(
                !examples.is_empty(),
                "{name}.1's EXAMPLES are empty:\n{text}"
            );
            // As the long help has them (which may wrap a long one: compared word by word).
            let mut full = args.clone();
            full.push("--help");
            let help = pki(Path::new("."), &full).expect(0).stdout;
            let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
            let help = words(&help);
            for line in examples {
                assert!(
                    help.contains(&words(line)),
                    "{name}.1's EXAMPLES line {line:?} is not in pki {} --help",
                    args.join(" ")
                );
            }
        }
    }
}
