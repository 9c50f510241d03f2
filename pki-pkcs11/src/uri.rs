//! RFC 7512 `pkcs11:` URIs: which token (`token`, `manufacturer`, `serial`, `model`,
//! `slot-id`), which key (`object`, `id`, `type`), and the query attributes `pin-source` and
//! `module-path`. A `pin-value` is refused: a PIN in a URI ends up in shell histories, process
//! lists and logs.

use std::fmt;
use std::path::PathBuf;

use crate::error::{Error, Result};

/// Where the PIN comes from, when the URI says (`pin-source=`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinSource {
    /// A file whose first line is the PIN (`pin-source=file:/run/pin` or a bare path).
    File(PathBuf),
}

/// A parsed `pkcs11:` URI.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pkcs11Uri {
    /// The token's label.
    pub token: Option<String>,
    /// The token's manufacturer.
    pub manufacturer: Option<String>,
    /// The token's serial number.
    pub serial: Option<String>,
    /// The token's model.
    pub model: Option<String>,
    /// The slot's id.
    pub slot_id: Option<u64>,
    /// The key's label (CKA_LABEL).
    pub object: Option<String>,
    /// The key's id (CKA_ID).
    pub id: Option<Vec<u8>>,
    /// The object type (`private`, `public`, `cert`...): pki looks for keys whatever it says.
    pub object_type: Option<String>,
    /// Where the PIN comes from.
    pub pin_source: Option<PinSource>,
    /// The PKCS#11 module to load.
    pub module_path: Option<PathBuf>,
}

impl Pkcs11Uri {
    /// True when `s` is meant as a `pkcs11:` URI (not a file name).
    pub fn is_uri(s: &str) -> bool {
        s.get(..7)
            .is_some_and(|p| p.eq_ignore_ascii_case("pkcs11:"))
    }

    /// Parses a URI. A `pin-value` attribute is refused, and never repeated in the error.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |reason: &str| Error::BadUri {
            uri: redact(text),
            reason: reason.to_owned(),
        };
        if !Self::is_uri(text) {
            return Err(bad("it does not start with pkcs11:"));
        }
        let rest = &text[7..];
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut uri = Pkcs11Uri::default();
        for attr in path.split(';').filter(|a| !a.is_empty()) {
            let (name, value) = attr
                .split_once('=')
                .ok_or_else(|| bad(&format!("the attribute {attr:?} has no value")))?;
            let raw = decode(value).map_err(|r| bad(&r))?;
            let text = || String::from_utf8(raw.clone()).map_err(|_| bad("a value is not UTF-8"));
            match name {
                "token" => uri.token = Some(text()?),
                "manufacturer" => uri.manufacturer = Some(text()?),
                "serial" => uri.serial = Some(text()?),
                "model" => uri.model = Some(text()?),
                "object" => uri.object = Some(text()?),
                "type" => uri.object_type = Some(text()?),
                "id" => uri.id = Some(raw),
                "slot-id" => {
                    uri.slot_id = Some(
                        text()?
                            .parse()
                            .map_err(|_| bad("slot-id is not a number"))?,
                    )
                }
                // Library and slot descriptions: accepted, not used to choose.
                "library-manufacturer"
                | "library-description"
                | "library-version"
                | "slot-description"
                | "slot-manufacturer" => {}
                other => return Err(bad(&format!("unknown attribute {other:?}"))),
            }
        }
        for attr in query.split('&').filter(|a| !a.is_empty()) {
            let (name, value) = attr.split_once('=').unwrap_or((attr, ""));
            match name {
                "pin-value" => {
                    return Err(bad(
                        "pin-value puts the PIN where others read it; use pin-source=file:PATH, PKI_PKCS11_PIN or the prompt",
                    ));
                }
                "pin-source" => {
                    let v = String::from_utf8(decode(value).map_err(|r| bad(&r))?)
                        .map_err(|_| bad("pin-source is not UTF-8"))?;
                    let path = v.strip_prefix("file:").unwrap_or(&v);
                    let path = path.strip_prefix("//").unwrap_or(path);
                    if path.is_empty() {
                        return Err(bad("pin-source names no file"));
                    }
                    uri.pin_source = Some(PinSource::File(PathBuf::from(path)));
                }
                "module-path" => {
                    let v = String::from_utf8(decode(value).map_err(|r| bad(&r))?)
                        .map_err(|_| bad("module-path is not UTF-8"))?;
                    uri.module_path = Some(PathBuf::from(v));
                }
                "module-name" => {}
                other => return Err(bad(&format!("unknown query attribute {other:?}"))),
            }
        }
        Ok(uri)
    }

    /// True when the URI names a key (by label or id).
    pub fn names_object(&self) -> bool {
        self.object.is_some() || self.id.is_some()
    }

    /// The URI of the token alone (no object, no query).
    pub fn token_only(&self) -> Pkcs11Uri {
        Pkcs11Uri {
            object: None,
            id: None,
            object_type: None,
            ..self.clone()
        }
    }
}

impl fmt::Display for Pkcs11Uri {
    /// The URI in its RFC 7512 form, with the attributes pki uses; never a PIN.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut path = Vec::new();
        let mut put = |name: &str, v: &Option<String>| {
            if let Some(v) = v {
                path.push(format!("{name}={}", encode(v.as_bytes(), false)));
            }
        };
        put("token", &self.token);
        put("manufacturer", &self.manufacturer);
        put("serial", &self.serial);
        put("model", &self.model);
        put("object", &self.object);
        put("type", &self.object_type);
        if let Some(s) = self.slot_id {
            path.push(format!("slot-id={s}"));
        }
        if let Some(id) = &self.id {
            path.push(format!("id={}", encode(id, true)));
        }
        write!(f, "pkcs11:{}", path.join(";"))?;
        let mut query = Vec::new();
        if let Some(PinSource::File(p)) = &self.pin_source {
            query.push(format!(
                "pin-source=file:{}",
                encode(p.to_string_lossy().as_bytes(), false)
            ));
        }
        if let Some(p) = &self.module_path {
            query.push(format!(
                "module-path={}",
                encode(p.to_string_lossy().as_bytes(), false)
            ));
        }
        if !query.is_empty() {
            write!(f, "?{}", query.join("&"))?;
        }
        Ok(())
    }
}

/// The URI text with any `pin-value` cut out, for error messages.
fn redact(text: &str) -> String {
    match text.find("pin-value") {
        Some(i) => {
            let end = text[i..].find('&').map_or(text.len(), |j| i + j);
            format!("{}pin-value=(hidden){}", &text[..i], &text[end..])
        }
        None => text.to_owned(),
    }
}

/// Percent-decoding (RFC 3986).
fn decode(value: &str) -> std::result::Result<Vec<u8>, String> {
    let b = value.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad percent escape in {value:?}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(out)
}

/// Percent-encoding of everything but RFC 3986's unreserved characters (`all`: every byte).
fn encode(bytes: &[u8], all: bool) -> String {
    let mut s = String::new();
    for &c in bytes {
        if !all && (c.is_ascii_alphanumeric() || b"-._~/:".contains(&c)) {
            s.push(c as char);
        } else {
            s.push_str(&format!("%{c:02x}"));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issues_example_parses() {
        let u =
            Pkcs11Uri::parse("pkcs11:token=pki;object=owner-ca?pin-source=file:/run/pin").unwrap();
        assert_eq!(u.token.as_deref(), Some("pki"));
        assert_eq!(u.object.as_deref(), Some("owner-ca"));
        assert_eq!(u.pin_source, Some(PinSource::File("/run/pin".into())));
        assert_eq!(
            u.to_string(),
            "pkcs11:token=pki;object=owner-ca?pin-source=file:/run/pin"
        );
    }

    #[test]
    fn ids_labels_and_modules_are_percent_decoded() {
        let u = Pkcs11Uri::parse(
            "pkcs11:token=My%20Token;id=%01%02%ab;slot-id=3?module-path=/usr/lib/softhsm/libsofthsm2.so",
        )
        .unwrap();
        assert_eq!(u.token.as_deref(), Some("My Token"));
        assert_eq!(u.id, Some(vec![1, 2, 0xab]));
        assert_eq!(u.slot_id, Some(3));
        assert_eq!(
            u.module_path,
            Some(PathBuf::from("/usr/lib/softhsm/libsofthsm2.so"))
        );
        assert_eq!(Pkcs11Uri::parse(&u.to_string()).unwrap(), u);
    }

    #[test]
    fn a_pin_value_is_refused_and_never_repeated() {
        let err = Pkcs11Uri::parse("pkcs11:token=pki;object=k?pin-value=123456").unwrap_err();
        assert!(matches!(err, Error::BadUri { .. }));
        assert!(!err.to_string().contains("123456"), "{err}");
    }

    #[test]
    fn malformed_uris_are_bad_uris() {
        for bad in [
            "pkcs12:token=x",
            "pkcs11:token",
            "pkcs11:token=%zz",
            "pkcs11:colour=red",
            "pkcs11:slot-id=x",
        ] {
            assert!(
                matches!(Pkcs11Uri::parse(bad), Err(Error::BadUri { .. })),
                "{bad}"
            );
        }
        assert!(!Pkcs11Uri::parse("pkcs11:token=pki").unwrap().names_object());
    }
}
