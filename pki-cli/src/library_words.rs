//! A check of the promise `hints.rs` makes: the libraries never name one of pki's flags in a
//! message. It reads every library crate's sources (`pki-*/src`, all but this crate's; the
//! modules' test sections left out), takes their string literals, and fails on one that names a
//! long flag of the `pki` command line (`--force`, not another program's `--fresh`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clap::CommandFactory;

use crate::cli::Cli;

/// Every long flag of `pki` and its subcommands, without the dashes.
fn pki_flags() -> BTreeSet<String> {
    fn walk(c: &clap::Command, out: &mut BTreeSet<String>) {
        for a in c.get_arguments() {
            if let Some(l) = a.get_long() {
                out.insert(l.to_owned());
            }
            out.extend(a.get_all_aliases().into_iter().flatten().map(str::to_owned));
        }
        for s in c.get_subcommands() {
            walk(s, out);
        }
    }
    let mut out = BTreeSet::new();
    walk(&Cli::command(), &mut out);
    out
}

/// The `.rs` files under `dir`.
pub(crate) fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The string literals of Rust source `src` (plain, byte and raw), each with its line: comments
/// and character literals skipped.
fn string_literals(src: &str) -> Vec<(usize, String)> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    let count = |s: &[u8]| s.iter().filter(|&&c| c == b'\n').count();
    while i < b.len() {
        match b[i] {
            b'\n' => {
                line += 1;
                i += 1;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let end = src[i + 2..].find("*/").map_or(b.len(), |e| i + 2 + e + 2);
                line += count(&b[i..end]);
                i = end;
            }
            b'\'' => {
                // A character literal ('x', '\n', '\u{1F}'), or a lifetime ('a).
                if b.get(i + 1) == Some(&b'\\') {
                    let end = src[i + 2..].find('\'').map_or(b.len(), |e| i + 2 + e + 1);
                    i = end;
                } else {
                    let ch = src[i + 1..].chars().next().map_or(1, char::len_utf8);
                    if b.get(i + 1 + ch) == Some(&b'\'') {
                        i += ch + 2;
                    } else {
                        i += 1;
                    }
                }
            }
            b'r' if (b.get(i + 1) == Some(&b'"') || b.get(i + 1) == Some(&b'#'))
                && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) =>
            {
                let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
                if b.get(i + 1 + hashes) != Some(&b'"') {
                    i += 1;
                    continue;
                }
                let start = i + 2 + hashes;
                let close = format!("\"{}", "#".repeat(hashes));
                let end = src[start..].find(&close).map_or(b.len(), |e| start + e);
                out.push((line, src[start..end].to_owned()));
                line += count(&b[i..end]);
                i = (end + close.len()).min(b.len());
            }
            b'"' => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && b[j] != b'"' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                let end = j.min(b.len());
                out.push((line, src[start..end].to_owned()));
                line += count(&b[i..end]);
                i = end + 1;
            }
            _ => i += 1,
        }
    }
    out
}

/// The `--flag`s a text names: `--` at the start of a word, then a lower-case name.
fn flags_named(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    for (i, _) in text.match_indices("--") {
        if i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'-') {
            continue;
        }
        let name: String = text[i + 2..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
            .collect();
        if name.starts_with(|c: char| c.is_ascii_lowercase()) {
            out.push(name.trim_end_matches('-').to_owned());
        }
    }
    out
}

/// The sources of every library crate pki ships (`pki-*/src`): not this crate's, and not
/// pki-testkit's (the tests' support, a dev-dependency that runs programs and reads `PATH`).
pub(crate) fn library_sources() -> Vec<PathBuf> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for e in std::fs::read_dir(&workspace).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("pki-") && name != "pki-cli" && name != "pki-testkit" {
            sources(&e.path().join("src"), &mut files);
        }
    }
    assert!(files.len() > 20, "the libraries' sources are not found");
    files
}

/// A module's text without its test section (`#[cfg(test)] mod tests`, at the bottom).
fn without_tests(src: &str) -> &str {
    src.find("#[cfg(test)]\nmod ").map_or(src, |i| &src[..i])
}

#[test]
fn the_lexer_finds_literals_and_skips_comments_and_characters() {
    let src = "// \"--no\"\nlet c = '\"'; let l: &'a str = \"--force x\";\n/* \"--no\" */ r#\"a \"--key\" b\"#";
    let lits = string_literals(src);
    assert_eq!(
        lits,
        [(2, "--force x".to_owned()), (3, "a \"--key\" b".to_owned())]
    );
    assert_eq!(flags_named("give --cert and --key"), ["cert", "key"]);
    assert!(flags_named("xn--a.example.com, a -- b, --Upper").is_empty());
}

#[test]
fn no_library_names_a_pki_flag_in_a_message() {
    let flags = pki_flags();
    assert!(
        flags.contains("force") && flags.contains("adopt"),
        "{flags:?}"
    );
    let files = library_sources();
    let mut found = Vec::new();
    for f in &files {
        let src = std::fs::read_to_string(f).unwrap();
        for (line, lit) in string_literals(without_tests(&src)) {
            for flag in flags_named(&lit).into_iter().filter(|n| flags.contains(n)) {
                found.push(format!("{}:{line}: --{flag} in {lit:?}", f.display()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "libraries name pki's flags (hints.rs says the fix in the CLI's words):\n{}",
        found.join("\n")
    );
}
