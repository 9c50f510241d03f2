//! Authorisation of a CSR: whether what it asks for (common name, SANs, key type) is what the
//! credentials that sent it allow. The server builds an [`Allowed`] from the credentials (a
//! one-time secret's device id, or the client certificate of a re-enrolment) and its own
//! configuration (the key types of the label's profile); [`check_request`] says yes or why not.

use pki_core::{Csr, KeyType, SanEntry};

use crate::error::Refusal;

/// What a request may ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowed {
    /// The common name the CSR must ask for: the id of the one-time secret, or the subject CN of
    /// the client certificate for re-enrolment.
    pub common_name: String,
    /// The SANs it may ask for.
    pub sans: SanRule,
    /// The key types accepted.
    pub key_types: Vec<KeyType>,
}

/// Which SANs a CSR may ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SanRule {
    /// Exactly these, in any order (re-enrolment: the current certificate's SANs).
    Exactly(Vec<SanEntry>),
    /// Any of these, none included (enrolment: the names the label's profile allows the id).
    AnyOf(Vec<SanEntry>),
}

/// Checks `csr` against `allowed`: the first reason found to refuse it, in the order common
/// name, SANs, key type.
pub fn check_request(csr: &Csr, allowed: &Allowed) -> Result<(), Refusal> {
    if csr.subject.common_name != allowed.common_name {
        return Err(Refusal::CommonName {
            asked: csr.subject.common_name.clone(),
            allowed: allowed.common_name.clone(),
        });
    }
    match &allowed.sans {
        SanRule::Exactly(required) => {
            let same = csr.sans.len() == required.len()
                && csr.sans.iter().all(|s| required.contains(s))
                && required.iter().all(|s| csr.sans.contains(s));
            if !same {
                return Err(Refusal::SansDiffer {
                    asked: csr.sans.clone(),
                    required: required.clone(),
                });
            }
        }
        SanRule::AnyOf(allowed) => {
            if let Some(asked) = csr.sans.iter().find(|s| !allowed.contains(s)) {
                return Err(Refusal::SanNotAllowed {
                    asked: asked.clone(),
                });
            }
        }
    }
    if !allowed.key_types.contains(&csr.key_type) {
        return Err(Refusal::KeyType {
            asked: csr.key_type,
            allowed: allowed.key_types.clone(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::csr_der;

    fn csr(kt: KeyType, cn: &str, sans: &[&str]) -> Csr {
        Csr::parse(&csr_der(kt, cn, sans), "csr").unwrap()
    }

    fn sans(names: &[&str]) -> Vec<SanEntry> {
        names.iter().map(|s| s.parse().unwrap()).collect()
    }

    fn allowed(cn: &str, rule: SanRule) -> Allowed {
        Allowed {
            common_name: cn.into(),
            sans: rule,
            key_types: vec![KeyType::EcP256, KeyType::EcP384],
        }
    }

    #[test]
    fn a_request_for_what_is_allowed_passes() {
        let c = csr(KeyType::EcP256, "dev-1", &["b.local", "10.0.0.1"]);
        let exactly = SanRule::Exactly(sans(&["10.0.0.1", "b.local"]));
        assert_eq!(check_request(&c, &allowed("dev-1", exactly)), Ok(()));
        let any = SanRule::AnyOf(sans(&["b.local", "10.0.0.1", "c.local"]));
        assert_eq!(check_request(&c, &allowed("dev-1", any)), Ok(()));
        let none = csr(KeyType::EcP384, "dev-1", &[]);
        assert_eq!(
            check_request(&none, &allowed("dev-1", SanRule::AnyOf(vec![]))),
            Ok(())
        );
    }

    #[test]
    fn another_common_name_is_refused() {
        let c = csr(KeyType::EcP256, "dev-2", &[]);
        assert_eq!(
            check_request(&c, &allowed("dev-1", SanRule::AnyOf(vec![]))),
            Err(Refusal::CommonName {
                asked: "dev-2".into(),
                allowed: "dev-1".into()
            })
        );
        // Case matters: the id is the CN as registered.
        let c = csr(KeyType::EcP256, "Dev-1", &[]);
        assert!(matches!(
            check_request(&c, &allowed("dev-1", SanRule::AnyOf(vec![]))),
            Err(Refusal::CommonName { .. })
        ));
    }

    #[test]
    fn re_enrolment_needs_exactly_the_current_sans() {
        let rule = SanRule::Exactly(sans(&["a.local", "b.local"]));
        for asked in [&["a.local"][..], &["a.local", "b.local", "c.local"], &[]] {
            let c = csr(KeyType::EcP256, "gw", asked);
            assert_eq!(
                check_request(&c, &allowed("gw", rule.clone())),
                Err(Refusal::SansDiffer {
                    asked: sans(asked),
                    required: sans(&["a.local", "b.local"])
                }),
                "{asked:?}"
            );
        }
    }

    #[test]
    fn a_san_outside_the_allowed_ones_is_refused() {
        let c = csr(KeyType::EcP256, "dev-1", &["dev-1.local", "evil.example"]);
        assert_eq!(
            check_request(
                &c,
                &allowed("dev-1", SanRule::AnyOf(sans(&["dev-1.local"])))
            ),
            Err(Refusal::SanNotAllowed {
                asked: SanEntry::Dns("evil.example".into())
            })
        );
    }

    #[test]
    fn a_key_type_off_the_list_is_refused() {
        let c = csr(KeyType::Ed25519, "dev-1", &[]);
        let err = check_request(&c, &allowed("dev-1", SanRule::AnyOf(vec![]))).unwrap_err();
        assert_eq!(
            err,
            Refusal::KeyType {
                asked: KeyType::Ed25519,
                allowed: vec![KeyType::EcP256, KeyType::EcP384]
            }
        );
        assert_eq!(
            err.to_string(),
            "the request's key is ed25519; this server accepts ec-p256, ec-p384"
        );
    }

    #[test]
    fn a_common_name_with_control_characters_is_shown_escaped() {
        let err = Refusal::CommonName {
            asked: "a\u{1b}[2Jb\n".into(),
            allowed: "dev-1".into(),
        };
        let text = err.to_string();
        assert!(!text.chars().any(char::is_control), "{text:?}");
        assert!(text.contains(r"a\u{1b}[2Jb\n"), "{text}");
    }
}
