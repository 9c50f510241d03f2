//! The fuzz harness of `pki guide`'s escapers (pki-cli/src/quote.rs): for any value, each
//! language's literal is printable ASCII on one line, can end no comment, and reads back as the
//! value, decoded here by the rules of that language's literals (bash's `'...'` and `$'...'`,
//! Python's, JavaScript's and C#'s, Java's, C's). tests/e2e/guide_safety.rs checks the same
//! with the real tools on chosen and generated values.
//!
//! Compiled, with quote.rs, by `#[path]` into the cargo-fuzz target `guide_quote` and into the
//! stable regression test `pki-cli/tests/fuzz_regressions.rs` (never into quote.rs itself, so
//! that the shipped source names no fuzz code).

use crate::quote;

/// How a literal's escapes decode: to bytes of UTF-8 (C, bash's `$'...'`), or to characters.
#[derive(Clone, Copy, PartialEq)]
enum Unit {
    Byte,
    Char,
}

/// The value of a `"..."` or `$'...'` literal body with backslash escapes; `None` when it holds
/// an escape the escapers never write, or decodes to no text.
fn unescape(body: &str, unit: Unit) -> Option<String> {
    let mut bytes: Vec<u8> = Vec::new();
    let mut utf16: Vec<u16> = Vec::new();
    let flush = |utf16: &mut Vec<u16>, bytes: &mut Vec<u8>| -> Option<()> {
        if !utf16.is_empty() {
            let s = String::from_utf16(utf16).ok()?;
            bytes.extend_from_slice(s.as_bytes());
            utf16.clear();
        }
        Some(())
    };
    let mut it = body.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            flush(&mut utf16, &mut bytes)?;
            let mut b = [0; 4];
            bytes.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            continue;
        }
        let e = it.next()?;
        let mut hex = |n: usize| -> Option<u32> {
            let digits: String = (0..n).map(|_| it.next()).collect::<Option<String>>()?;
            u32::from_str_radix(&digits, 16).ok()
        };
        let simple = match e {
            '\\' => Some(b'\\'),
            '"' => Some(b'"'),
            '\'' => Some(b'\''),
            '?' => Some(b'?'),
            'n' => Some(b'\n'),
            'r' => Some(b'\r'),
            't' => Some(b'\t'),
            _ => None,
        };
        if let Some(b) = simple {
            flush(&mut utf16, &mut bytes)?;
            bytes.push(b);
            continue;
        }
        match e {
            'x' => {
                flush(&mut utf16, &mut bytes)?;
                let v = hex(2)?;
                match unit {
                    Unit::Byte => bytes.push(v as u8),
                    Unit::Char => {
                        let mut b = [0; 4];
                        bytes.extend_from_slice(char::from_u32(v)?.encode_utf8(&mut b).as_bytes());
                    }
                }
            }
            '0'..='7' => {
                flush(&mut utf16, &mut bytes)?;
                let mut v = e.to_digit(8)?;
                for _ in 0..2 {
                    match it.peek().and_then(|d| d.to_digit(8)) {
                        Some(d) => {
                            v = v * 8 + d;
                            it.next();
                        }
                        None => break,
                    }
                }
                match unit {
                    Unit::Byte => bytes.push(u8::try_from(v).ok()?),
                    Unit::Char => {
                        let mut b = [0; 4];
                        bytes.extend_from_slice(char::from_u32(v)?.encode_utf8(&mut b).as_bytes());
                    }
                }
            }
            'u' => utf16.push(u16::try_from(hex(4)?).ok()?),
            'U' => {
                flush(&mut utf16, &mut bytes)?;
                let mut b = [0; 4];
                bytes.extend_from_slice(char::from_u32(hex(8)?)?.encode_utf8(&mut b).as_bytes());
            }
            _ => return None,
        }
    }
    flush(&mut utf16, &mut bytes)?;
    String::from_utf8(bytes).ok()
}

/// The value of a bash word as `quote::shell` writes it: bare, `'...'` (with `'\''`), or
/// `$'...'`.
fn shell_value(word: &str) -> Option<String> {
    if let Some(body) = word.strip_prefix("$'").and_then(|w| w.strip_suffix('\'')) {
        return unescape(body, Unit::Byte);
    }
    if word.starts_with('\'') {
        // Runs of '...' joined by \' : 'a'\''b' is a'b.
        let mut out = String::new();
        let mut rest = word;
        loop {
            let inner = rest.strip_prefix('\'')?;
            let end = inner.find('\'')?;
            out += &inner[..end];
            rest = &inner[end + 1..];
            if rest.is_empty() {
                return Some(out);
            }
            rest = rest.strip_prefix("\\'")?;
            out.push('\'');
        }
    }
    Some(word.to_owned())
}

/// One value through every escaper: each literal printable ASCII, no `*/`, `/*` or `??` in C's,
/// and each reading back as the value. Always `true` for text (every value is accepted).
pub(crate) fn guide_quote(data: &[u8]) -> bool {
    let Ok(value) = std::str::from_utf8(data) else {
        return false;
    };
    let printable = |s: &str| s.bytes().all(|b| (0x20..0x7f).contains(&b));
    let shell = quote::shell(value);
    assert!(printable(&shell), "shell {shell:?}");
    assert!(!shell.starts_with(['-', '~']), "shell {shell:?}");
    assert_eq!(
        shell_value(&shell).as_deref(),
        Some(value),
        "shell {shell:?}"
    );
    for (language, literal, unit) in [
        ("python", quote::python(value), Unit::Char),
        ("js", quote::js(value), Unit::Char),
        ("csharp", quote::csharp(value), Unit::Char),
        ("java", quote::java(value), Unit::Char),
        ("c", quote::c(value), Unit::Byte),
    ] {
        assert!(printable(&literal), "{language} {literal:?}");
        let body = literal
            .strip_prefix('"')
            .and_then(|l| l.strip_suffix('"'))
            .unwrap_or_else(|| panic!("{language} {literal:?} is not a \"...\" literal"));
        assert_eq!(
            unescape(body, unit).as_deref(),
            Some(value),
            "{language} {literal:?}"
        );
        if language == "c" {
            assert!(!literal.contains("*/"), "c {literal:?}");
            assert!(!literal.contains("/*"), "c {literal:?} opens a comment");
            assert!(
                !literal.contains("??"),
                "c {literal:?} holds a trigraph's start"
            );
        }
    }
    true
}
