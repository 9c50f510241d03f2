//! What pki never shows of a tenant conversation: the password and its Basic-auth forms, and the
//! userinfo of a URL.
//!
//! A tenant (or a proxy in front of it) may quote the Authorization header back in an error
//! message, or put the password in a certificate's name. Every answer passes through a
//! [`Redactor`] as it is read, before anything of it can reach an error, a warning, a text
//! report or a JSON report: the password itself, the Basic form of every user name pki knows
//! (`user:password`, `tenant/user:password`, padded or not), and any base64 token that decodes to
//! something holding the password, become `[redacted]`.

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::Value;
use zeroize::Zeroizing;

/// What a secret is replaced with.
pub(crate) const REDACTED: &str = "[redacted]";

/// The secrets of one tenant session, longest first, wiped from memory when dropped.
pub(crate) struct Redactor {
    password: Zeroizing<String>,
    /// The password, and the Basic forms (padded and unpadded base64) of every user name.
    needles: Vec<Zeroizing<String>>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redactor { .. }")
    }
}

impl Redactor {
    /// The secrets of `password` as sent for `user` (`user` or `tenant/user`).
    pub(crate) fn new(user: &str, password: &Zeroizing<String>) -> Self {
        let mut r = Redactor {
            password: password.clone(),
            needles: Vec::new(),
        };
        r.push(password.clone());
        r.add_user(user);
        if let Some((_, bare)) = user.split_once('/') {
            r.add_user(bare);
        }
        r
    }

    /// Also the Basic forms of `tenant/user` (once the tenant id is known).
    pub(crate) fn add_tenant(&mut self, tenant: &str, user: &str) {
        let bare = user.split_once('/').map_or(user, |(_, u)| u);
        self.add_user(&format!("{tenant}/{bare}"));
    }

    fn add_user(&mut self, user: &str) {
        let mut plain = Zeroizing::new(String::with_capacity(user.len() + 1 + self.password.len()));
        plain.push_str(user);
        plain.push(':');
        plain.push_str(&self.password);
        let padded = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(&*plain));
        let unpadded = Zeroizing::new(padded.trim_end_matches('=').to_owned());
        self.push(padded);
        self.push(unpadded);
    }

    fn push(&mut self, needle: Zeroizing<String>) {
        if needle.is_empty() || self.needles.contains(&needle) {
            return;
        }
        self.needles.push(needle);
        self.needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
    }

    /// `text` with every secret replaced by [`REDACTED`].
    pub(crate) fn text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for n in &self.needles {
            if out.contains(n.as_str()) {
                out = out.replace(n.as_str(), REDACTED);
            }
        }
        self.base64_tokens(&out)
    }

    /// Every string (and key) of a JSON document redacted.
    pub(crate) fn value(&self, v: &mut Value) {
        match v {
            Value::String(s) => {
                let r = self.text(s);
                if r != *s {
                    *s = r;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| self.value(i)),
            Value::Object(map) => {
                let old = std::mem::take(map);
                for (k, mut item) in old {
                    self.value(&mut item);
                    map.insert(self.text(&k), item);
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    /// Replaces the base64 tokens of `text` (runs of the standard or URL-safe alphabet, padded
    /// or not) that decode to bytes holding the password: a Basic form of a user name pki did
    /// not know.
    fn base64_tokens(&self, text: &str) -> String {
        const MIN: usize = 8;
        let b64_char = |c: char| c.is_ascii_alphanumeric() || "+/=-_".contains(c);
        let engines = [alphabet::STANDARD, alphabet::URL_SAFE].map(|a| {
            GeneralPurpose::new(
                &a,
                GeneralPurposeConfig::new()
                    .with_decode_padding_mode(DecodePaddingMode::Indifferent),
            )
        });
        let holds_password = |token: &str| {
            engines.iter().any(|e| {
                e.decode(token).is_ok_and(|bytes| {
                    let bytes = Zeroizing::new(bytes);
                    bytes
                        .windows(self.password.len())
                        .any(|w| w == self.password.as_bytes())
                })
            })
        };
        if self.password.is_empty() {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find(b64_char) {
            out.push_str(&rest[..start]);
            let tail = &rest[start..];
            let end = tail.find(|c: char| !b64_char(c)).unwrap_or(tail.len());
            let token = &tail[..end];
            if token.len() >= MIN && holds_password(token) {
                out.push_str(REDACTED);
            } else {
                out.push_str(token);
            }
            rest = &tail[end..];
        }
        out.push_str(rest);
        out
    }
}

/// A URL as the user typed it, without its userinfo (`https://admin:pw@host/x` gives
/// `https://host/x`): for every message that names a URL, also one that cannot be parsed.
pub(crate) fn strip_userinfo(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(i) => url.split_at(i + 3),
        None => ("", url),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rfind('@') {
        Some(at) => format!("{scheme}{}{path}", &authority[at + 1..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PW: &str = "s3cret-Pw";

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn the_password_and_its_basic_forms_are_redacted() {
        let mut r = Redactor::new("admin", &Zeroizing::new(PW.to_owned()));
        let said = format!("pw {PW} header Basic {}", b64(&format!("admin:{PW}")));
        assert_eq!(r.text(&said), "pw [redacted] header Basic [redacted]");
        // A user name pki did not send, padded or not: found by decoding the token.
        let other = b64(&format!("t9/someone:{PW}"));
        assert_eq!(r.text(&format!("({other})")), "([redacted])");
        assert_eq!(
            r.text(&format!("({})", other.trim_end_matches('='))),
            "([redacted])"
        );
        // Inside a longer token, once the tenant is known.
        r.add_tenant("t1", "admin");
        let inner = b64(&format!("t1/admin:{PW}"));
        assert_eq!(r.text(&format!("x{inner}y")), "x[redacted]y");
        assert_eq!(
            r.text("nothing secret: YWJjZGVmZ2g="),
            "nothing secret: YWJjZGVmZ2g="
        );
    }

    #[test]
    fn json_strings_and_keys_are_redacted() {
        let r = Redactor::new("t1/admin", &Zeroizing::new(PW.to_owned()));
        let mut v =
            serde_json::json!({"name": format!("a {PW}"), PW: [b64(&format!("admin:{PW}")), 1]});
        r.value(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"name": "a [redacted]", "[redacted]": ["[redacted]", 1]})
        );
    }

    #[test]
    fn userinfo_is_stripped() {
        assert_eq!(
            strip_userinfo("https://admin:pw@host:99999/x@y"),
            "https://host:99999/x@y"
        );
        assert_eq!(strip_userinfo("http://a@b@host"), "http://host");
        assert_eq!(strip_userinfo("admin:pw@host"), "host");
        assert_eq!(strip_userinfo("https://host/p"), "https://host/p");
    }
}
