//! How a value is written in each language `pki guide` prints code in: one escaper per
//! language, and every value a snippet names (a device id, a hub, a gateway, a path, a file
//! name) goes through the escaper of the language it lands in, so that no value can change
//! what a snippet means.
//!
//! Every escaper returns printable ASCII only (a value's control characters, line separators
//! and other non-ASCII characters become escapes), so that its result is also safe on one line
//! of a comment (`#`, `//`, `/* */`) and is never rewritten by the terminal escaping of
//! `output::escape_text`. The tests in tests/e2e/guide_safety.rs check each with the real tool
//! (bash, python3, node, javac's parser, a C compiler); the fuzz target `guide_quote` and its
//! stable replay (pki-cli/tests/fuzz_regressions.rs) include this file by its path, so that the
//! shipped source names no test or fuzz code.

use std::fmt::Write as _;

/// A word for a POSIX shell (bash, dash, zsh): bare when it is made of characters no shell
/// reads specially (`a-z A-Z 0-9 / . _ - : @ + ,`, not starting with `-` nor `~`), else in
/// single quotes (`'` written `'\''`); a value with a backslash, a control character or
/// non-ASCII is written `$'...'` (every byte not printable ASCII as `\xHH`, `\\`, `\'`), which
/// keeps it on one line, and keeps a backslash doubled (a `\u` never reaches Java's lexer as a
/// Unicode escape when the word sits in a `//` comment).
pub(crate) fn shell(s: &str) -> String {
    let bare = |c: char| c.is_ascii_alphanumeric() || "/._-:@+,".contains(c);
    if !s.is_empty() && s.chars().all(bare) && !s.starts_with(['-', '~']) {
        return s.to_owned();
    }
    if s.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'\\') {
        return format!("'{}'", s.replace('\'', r"'\''"));
    }
    let mut out = String::from("$'");
    for b in s.bytes() {
        match b {
            b'\\' => out.push_str(r"\\"),
            b'\'' => out.push_str(r"\'"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('\'');
    out
}

/// A Python 3 string literal: `"..."` with `\\`, `\"`, `\n`, `\r`, `\t`, `\xHH` for the other
/// control characters, `\uXXXX` / `\UXXXXXXXX` for non-ASCII.
pub(crate) fn python(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str(r"\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str(r"\n"),
            '\r' => out.push_str(r"\r"),
            '\t' => out.push_str(r"\t"),
            ' '..='~' => out.push(c),
            c if (c as u32) < 0x100 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// `c` as `\uXXXX` escapes of its UTF-16 units (a surrogate pair above U+FFFF), as
/// JavaScript, C# and Java read them.
fn push_utf16_escapes(out: &mut String, c: char) {
    let mut units = [0u16; 2];
    for u in c.encode_utf16(&mut units) {
        let _ = write!(out, "\\u{u:04x}");
    }
}

/// A string literal made of the escapes JavaScript and C# read alike: `\\`, `\"`, and `\uXXXX`
/// (UTF-16 units, a surrogate pair above U+FFFF) for every character that is not printable
/// ASCII.
fn utf16_escaped(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str(r"\\"),
            '"' => out.push_str("\\\""),
            ' '..='~' => out.push(c),
            c => push_utf16_escapes(&mut out, c),
        }
    }
    out.push('"');
    out
}

/// A JavaScript (Node.js) string literal: `"..."`, as [`utf16_escaped`].
pub(crate) fn js(s: &str) -> String {
    utf16_escaped(s)
}

/// A C# regular string literal: `"..."`, as [`utf16_escaped`] (C# reads `\uXXXX`, surrogate
/// pairs included, as JavaScript does; a line separator U+2028 is escaped, as C# needs).
pub(crate) fn csharp(s: &str) -> String {
    utf16_escaped(s)
}

/// A Java string literal: `"..."` with `\\`, `\"`, `\n`, `\r`, `\t`, three-digit octal for the
/// other ASCII control characters, and `\uXXXX` for non-ASCII (UTF-16 units). Java turns
/// `\uXXXX` into its character before it reads the source, so only characters that cannot end
/// a literal or a line are written that way; a backslash of the value is doubled, which makes
/// its `\u` no escape.
pub(crate) fn java(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str(r"\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str(r"\n"),
            '\r' => out.push_str(r"\r"),
            '\t' => out.push_str(r"\t"),
            ' '..='~' => out.push(c),
            c if c.is_ascii() => {
                let _ = write!(out, "\\{:03o}", c as u32);
            }
            c => push_utf16_escapes(&mut out, c),
        }
    }
    out.push('"');
    out
}

/// A C string literal of the value's UTF-8 bytes: `"..."` with `\\`, `\"`, `\n`, `\r`, `\t`,
/// three-digit octal for every other byte that is not printable ASCII, `\?` for a `?` after a
/// `?` (no trigraph), `\057` for a `/` after a `*` and `\052` for a `*` after a `/`, so that
/// the literal is safe inside a `/* */` comment too (no `*/` ends it, no `/*` makes a compiler's
/// `-Wcomment` warn).
pub(crate) fn c(s: &str) -> String {
    let mut out = String::from("\"");
    let mut prev = 0u8;
    for b in s.bytes() {
        match b {
            b'\\' => out.push_str(r"\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str(r"\n"),
            b'\r' => out.push_str(r"\r"),
            b'\t' => out.push_str(r"\t"),
            b'?' if prev == b'?' => out.push_str(r"\?"),
            b'/' if prev == b'*' => out.push_str(r"\057"),
            b'*' if prev == b'/' => out.push_str(r"\052"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\{b:03o}");
            }
        }
        prev = b;
    }
    out.push('"');
    out
}

/// A TOML basic string (TOML 1.0): `"..."` with `\\`, `\"`, `\n`, `\r`, `\t`, `\uXXXX` for the
/// other control characters and DEL, and `\uXXXX` / `\UXXXXXXXX` for non-ASCII (a scalar value,
/// never a surrogate: TOML has no UTF-16 escapes). IoT Edge's config.toml is read by the `toml`
/// crate; tests/e2e/guide_est.rs reads every value back with python3's tomllib.
pub(crate) fn toml(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str(r"\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str(r"\n"),
            '\r' => out.push_str(r"\r"),
            '\t' => out.push_str(r"\t"),
            ' '..='~' => out.push(c),
            c if (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What every escaper returns: printable ASCII, one line.
    fn printable(s: &str) -> bool {
        s.bytes().all(|b| (0x20..0x7f).contains(&b))
    }

    const HOSTILE: &[&str] = &[
        "",
        "x$(id)",
        "a'b",
        "q\"(x)",
        "w*?!(),:=@$'%_-.",
        "a\nb\r\tc",
        "*/ /* // # ??/ ??= \\",
        "\\u000a\\u0022",
        "\u{1b}[31m\u{7}\u{0}\u{7f}\u{85}\u{2028}\u{202e}é😀",
        "-rf",
        "~root",
        "=ls",
    ];

    #[test]
    fn every_escaper_writes_printable_ascii_on_one_line() {
        for s in HOSTILE {
            for f in [shell, python, js, csharp, java, c, toml] {
                let q = f(s);
                assert!(printable(&q), "{s:?} -> {q:?}");
            }
        }
    }

    #[test]
    fn shell_words() {
        assert_eq!(shell("/etc/pki/a.pem"), "/etc/pki/a.pem");
        assert_eq!(shell("sensor-1"), "sensor-1");
        assert_eq!(shell(""), "''");
        assert_eq!(shell("x$(id)"), "'x$(id)'");
        assert_eq!(shell("a'b"), r"'a'\''b'");
        assert_eq!(shell("a*?!"), "'a*?!'");
        assert_eq!(shell("-rf"), "'-rf'");
        assert_eq!(shell("~root"), "'~root'");
        assert_eq!(shell("=ls"), "'=ls'");
        assert_eq!(shell("a\nb"), r"$'a\x0ab'");
        assert_eq!(shell(r"a\u000a'"), r"$'a\\u000a\''");
        assert_eq!(shell("é"), r"$'\xc3\xa9'");
    }

    #[test]
    fn python_literals() {
        assert_eq!(python("x$(id)"), "\"x$(id)\"");
        assert_eq!(python("q\"\\"), r#""q\"\\""#);
        assert_eq!(python("a\nb\u{0}\u{7f}"), r#""a\nb\x00\x7f""#);
        assert_eq!(python("é\u{2028}😀"), r#""\xe9\u2028\U0001f600""#);
    }

    #[test]
    fn javascript_and_csharp_literals() {
        assert_eq!(js("a'b\"c\\"), r#""a'b\"c\\""#);
        assert_eq!(js("a\nb\u{0}"), r#""a\u000ab\u0000""#);
        assert_eq!(js("\u{2028}😀"), r#""\u2028\ud83d\ude00""#);
        assert_eq!(
            csharp("h\");system(\"id\");//"),
            r#""h\");system(\"id\");//""#
        );
        assert_eq!(csharp("a\u{85}b"), r#""a\u0085b""#);
    }

    #[test]
    fn java_literals() {
        assert_eq!(java("q\"\\"), r#""q\"\\""#);
        assert_eq!(java(r"\u000a"), r#""\\u000a""#);
        assert_eq!(java("a\nb\u{0}\u{1b}\u{7f}"), r#""a\nb\000\033\177""#);
        assert_eq!(java("é😀"), r#""\u00e9\ud83d\ude00""#);
    }

    #[test]
    fn toml_basic_strings() {
        assert_eq!(toml("q\"\\"), r#""q\"\\""#);
        assert_eq!(toml("x$(id)'#"), r#""x$(id)'#""#);
        assert_eq!(
            toml("a\nb\u{0}\u{1b}\u{7f}\t"),
            r#""a\nb\u0000\u001b\u007f\t""#
        );
        assert_eq!(toml("é\u{2028}😀"), r#""\u00e9\u2028\U0001f600""#);
    }

    #[test]
    fn c_literals() {
        assert_eq!(c("q\"\\"), r#""q\"\\""#);
        assert_eq!(c("??/??="), r#""?\?/?\?=""#);
        assert_eq!(c("a*/b/*"), r#""a*\057b/\052""#);
        assert_eq!(c("/*/"), r#""/\052\057""#);
        assert_eq!(c("a\nb\u{0}1"), r#""a\nb\0001""#);
        assert_eq!(c("é"), r#""\303\251""#);
    }
}
