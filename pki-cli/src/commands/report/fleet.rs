//! The picture of the fleet both renderings draw: the register's summaries (counted by the
//! database), the directory's CAs as a tree with each one's own expiry, and the issuers named
//! by their CN. Nothing here is proportional to the register's size: groups, 78 weeks, at most
//! [`DUE_SHOWN`] renewals, a handful of CAs.

use std::collections::BTreeMap;

use anyhow::Result;
use pki_core::register::{Due, NextExpiry, Query, State, StateCount, Status, WeekCount, Window};
use pki_core::{CaDir, Certificate};
use time::OffsetDateTime;

/// The weeks the timeline shows: 18 months.
pub(super) const WEEKS: u32 = 78;
/// The renewals due listed by name; the rest are counted.
pub(super) const DUE_SHOWN: u32 = 200;
/// Every state, in the order a report shows them.
pub(super) const STATES: [State; 5] = [
    State::Valid,
    State::Expiring,
    State::Expired,
    State::Superseded,
    State::Revoked,
];

/// A CA of the directory, and where it hangs.
#[derive(Debug, Clone)]
pub(super) struct CaNode {
    /// Its CN (its subject when it has none).
    pub(super) name: String,
    /// Its SHA-256, upper-case hex: what the register's rows name as their issuer.
    pub(super) sha256: String,
    /// Its own notAfter.
    pub(super) not_after: OffsetDateTime,
    /// The SHA-256 of the directory's CA that signed it; none for a root (or a CA whose
    /// issuer is not in the directory).
    pub(super) parent: Option<String>,
}

/// What a report shows.
#[derive(Debug)]
pub(super) struct Fleet {
    /// The instant and the expiring window the states are judged at.
    pub(super) window: Window,
    /// Counts by state, profile and issuer.
    pub(super) counts: Vec<StateCount>,
    /// The weekly expiry histogram.
    pub(super) weeks: Vec<WeekCount>,
    /// The next expiry of each issuer and profile.
    pub(super) next: Vec<NextExpiry>,
    /// The renewals due within the window (in-service profiles).
    pub(super) due: Due,
    /// The directory's CAs, roots first then each below its parent, by name.
    pub(super) cas: Vec<CaNode>,
    /// The name of each issuer the rows name (by SHA-256; none: rows without one).
    pub(super) issuer_names: BTreeMap<Option<String>, String>,
}

impl Fleet {
    /// Gathers the picture of `ca`'s register at `window`.
    pub(super) fn gather(ca: &CaDir, window: Window) -> Result<Fleet> {
        let mut register = ca.register()?;
        let counts = register.state_counts(window)?;
        let weeks = register.weekly_expiries(window.at, WEEKS)?;
        let due_query = Query {
            status: Some(Status::Issued),
            expires_after: Some(window.at),
            expires_by: Some(window.at + window.expiring),
            not_profiles: pki_core::THROWAWAY_PROFILES
                .iter()
                .map(|p| p.to_string())
                .collect(),
            ..Query::default()
        };
        let due = register.first_of(&due_query, DUE_SHOWN)?;
        let next = next_expiries(&counts);
        let cas = ca_tree(ca.ca_certificates());
        let mut issuer_names = BTreeMap::new();
        for c in &counts {
            if issuer_names.contains_key(&c.issuer_sha256) {
                continue;
            }
            let known = c
                .issuer_sha256
                .as_ref()
                .and_then(|s| cas.iter().find(|n| &n.sha256 == s))
                .map(|n| n.name.clone());
            let name = match known {
                Some(name) => name,
                None => register
                    .issuer_named(c.issuer_sha256.as_deref())?
                    .map_or_else(|| "unknown issuer".to_owned(), |n| cn_of(&n)),
            };
            issuer_names.insert(c.issuer_sha256.clone(), name);
        }
        Ok(Fleet {
            window,
            counts,
            weeks,
            next,
            due,
            cas,
            issuer_names,
        })
    }

    /// The name of the issuer with this SHA-256.
    pub(super) fn issuer_name(&self, sha256: &Option<String>) -> &str {
        self.issuer_names
            .get(sha256)
            .map_or("unknown issuer", String::as_str)
    }

    /// How many certificates are in `state`, all profiles and issuers together.
    pub(super) fn total(&self, state: State) -> u64 {
        self.counts
            .iter()
            .filter(|c| c.state == state)
            .map(|c| c.count)
            .sum()
    }

    /// How many certificates of the issuer `sha256` are in `state`.
    pub(super) fn issued_by(&self, sha256: &Option<String>, state: State) -> u64 {
        self.counts
            .iter()
            .filter(|c| c.state == state && &c.issuer_sha256 == sha256)
            .map(|c| c.count)
            .sum()
    }

    /// The profiles the rows have, sorted.
    pub(super) fn profiles(&self) -> Vec<String> {
        let mut p: Vec<String> = self.counts.iter().map(|c| c.profile.clone()).collect();
        p.sort();
        p.dedup();
        p
    }
}

/// The next expiry of each issuer and profile, from the counts: the soonest notAfter of the
/// valid and expiring groups is that of the certificates in service still ahead (what
/// [`pki_core::register::Register::next_expiries`] asks the database), without reading the
/// table again.
fn next_expiries(counts: &[StateCount]) -> Vec<NextExpiry> {
    let mut next: BTreeMap<(Option<String>, String), OffsetDateTime> = BTreeMap::new();
    for c in counts
        .iter()
        .filter(|c| matches!(c.state, State::Valid | State::Expiring))
    {
        let e = next
            .entry((c.issuer_sha256.clone(), c.profile.clone()))
            .or_insert(c.first_not_after);
        *e = (*e).min(c.first_not_after);
    }
    next.into_iter()
        .map(|((issuer_sha256, profile), not_after)| NextExpiry {
            issuer_sha256,
            profile,
            not_after,
        })
        .collect()
}

/// The CN in a one-line name (`CN = Intermediate, O = Contoso`), else the whole name.
pub(super) fn cn_of(name: &str) -> String {
    name.split(", ")
        .find_map(|part| {
            part.strip_prefix("CN = ")
                .or_else(|| part.strip_prefix("CN="))
        })
        .unwrap_or(name)
        .to_owned()
}

/// The CAs as a tree: each one's parent is the CA of the set that signed it (of several, the
/// one valid longest, as a chain would take it); the list is ordered depth first, roots
/// first, siblings by name.
pub(super) fn ca_tree(certs: Vec<Certificate>) -> Vec<CaNode> {
    let mut certs = certs;
    certs.sort_by(|a, b| a.der().cmp(b.der()));
    certs.dedup_by(|a, b| a.der() == b.der());
    let parent_of = |c: &Certificate| -> Option<String> {
        if c.is_self_issued() {
            return None;
        }
        certs
            .iter()
            .filter(|p| p.der() != c.der() && c.is_signed_by(p))
            .max_by_key(|p| p.not_after())
            .map(Certificate::sha256_hex)
    };
    let nodes: Vec<CaNode> = certs
        .iter()
        .map(|c| CaNode {
            name: c.common_name().unwrap_or_else(|| c.subject()),
            sha256: c.sha256_hex(),
            not_after: c.not_after(),
            parent: parent_of(c),
        })
        .collect();
    let mut ordered = Vec::with_capacity(nodes.len());
    let mut roots: Vec<&CaNode> = nodes
        .iter()
        .filter(|n| {
            n.parent
                .as_ref()
                .is_none_or(|p| !nodes.iter().any(|m| &m.sha256 == p))
        })
        .collect();
    roots.sort_by(|a, b| (&a.name, a.not_after).cmp(&(&b.name, b.not_after)));
    for root in roots {
        depth_first(root, &nodes, &mut ordered, 0);
    }
    ordered
}

/// `node` then its children, by name; bounded in depth (a loop of cross-signed CAs ends).
fn depth_first(node: &CaNode, all: &[CaNode], out: &mut Vec<CaNode>, depth: usize) {
    if depth > 16 || out.iter().any(|n| n.sha256 == node.sha256) {
        return;
    }
    out.push(node.clone());
    let mut children: Vec<&CaNode> = all
        .iter()
        .filter(|n| n.parent.as_deref() == Some(node.sha256.as_str()))
        .collect();
    children.sort_by(|a, b| (&a.name, a.not_after).cmp(&(&b.name, b.not_after)));
    for c in children {
        depth_first(c, all, out, depth + 1);
    }
}

/// How deep `node` hangs in `tree` (0 for a root).
pub(super) fn depth(node: &CaNode, tree: &[CaNode]) -> usize {
    let mut d = 0;
    let mut at = node;
    while let Some(p) = &at.parent {
        match tree.iter().find(|n| &n.sha256 == p) {
            Some(parent) if d < 16 => {
                d += 1;
                at = parent;
            }
            _ => break,
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_are_named_by_their_cn() {
        assert_eq!(cn_of("CN = IoT Intermediate CA"), "IoT Intermediate CA");
        assert_eq!(cn_of("O = Contoso, CN = gw.ca"), "gw.ca");
        assert_eq!(cn_of("O = Contoso"), "O = Contoso");
    }
}
