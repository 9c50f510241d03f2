//! The register's summaries (counts by state, the weekly histogram, next expiries, the first
//! renewals due) against a brute-force count of the same rows read one by one: every backend
//! must give the same answers as `Record::state` over every row.

use std::collections::BTreeMap;

use pki_register::{Location, Query, Record, Register, State, Status, Window};
use time::{Duration, OffsetDateTime, macros::datetime};

use super::row;

/// The instant the summaries are judged at.
const AT: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);

/// 600 rows over three profiles and three issuers (one unknown), expiring from 60 days before
/// `AT` to some 600 days after, some superseded, some revoked; and the edges: a notAfter
/// exactly at `AT`, exactly 30 days after, exactly one week after.
fn rows() -> Vec<Record> {
    let issuers = [Some("11".repeat(32)), Some("22".repeat(32)), None];
    let profiles = ["device", "server", "edge-ca"];
    let mut rows: Vec<Record> = (0..600u32)
        .map(|n| {
            let mut r = row(n, 0);
            r.profile = profiles[(n % 3) as usize].into();
            r.issuer_sha256 = issuers[(n / 3 % 3) as usize].clone();
            r.issuer = format!("CN = Issuer {}", n / 3 % 3);
            r.not_after =
                AT + Duration::days(i64::from(n) - 60) + Duration::hours(i64::from(n % 7));
            match n % 10 {
                3 => r.status = Status::Superseded,
                7 => {
                    r.status = Status::Revoked;
                    r.revoked_at = Some(AT);
                    r.revocation_reason = Some("keyCompromise".into());
                }
                _ => {}
            }
            r
        })
        .collect();
    for (k, at) in [AT, AT + Duration::days(30), AT + Duration::days(7)]
        .into_iter()
        .enumerate()
    {
        let mut r = row(1_000 + k as u32, 0);
        r.not_after = at;
        rows.push(r);
    }
    rows
}

/// Every summary agrees with the rows counted one by one.
pub(crate) fn summarises_as_a_register(location: Location) {
    let mut reg = Register::open(location).unwrap();
    let rows = rows();
    let mut tx = reg.transaction().unwrap();
    tx.insert(&rows).unwrap();
    tx.commit().unwrap();
    let window = Window {
        at: AT,
        expiring: Duration::days(30),
    };

    // Counts by (state, profile, issuer), and the soonest notAfter of each group.
    type Key = (&'static str, String, Option<String>);
    let mut expected: BTreeMap<Key, (u64, OffsetDateTime)> = BTreeMap::new();
    for r in &rows {
        let key = (
            r.state(AT, window.expiring).as_str(),
            r.profile.clone(),
            r.issuer_sha256.clone(),
        );
        let e = expected.entry(key).or_insert((0, r.not_after));
        e.0 += 1;
        e.1 = e.1.min(r.not_after);
    }
    let got: BTreeMap<Key, (u64, OffsetDateTime)> = reg
        .state_counts(window)
        .unwrap()
        .into_iter()
        .map(|c| {
            (
                (c.state.as_str(), c.profile, c.issuer_sha256),
                (c.count, c.first_not_after),
            )
        })
        .collect();
    assert_eq!(got, expected);
    // Every state is there, and the edges fell where `Record::state` puts them.
    let total = |s: State| -> u64 {
        got.iter()
            .filter(|(k, _)| k.0 == s.as_str())
            .map(|(_, v)| v.0)
            .sum()
    };
    for s in [
        State::Valid,
        State::Expiring,
        State::Expired,
        State::Superseded,
        State::Revoked,
    ] {
        assert!(total(s) > 0, "{s:?}");
    }
    assert_eq!(got.values().map(|v| v.0).sum::<u64>(), rows.len() as u64);

    // The weekly histogram of what is in service, 78 weeks ahead.
    let mut weeks: BTreeMap<(u32, String, Option<String>), u64> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.status == Status::Issued) {
        let ahead = (r.not_after - AT).whole_seconds();
        if ahead <= 0 || ahead > 78 * 7 * 86_400 {
            continue;
        }
        let week = ((ahead - 1) / (7 * 86_400)) as u32;
        *weeks
            .entry((week, r.profile.clone(), r.issuer_sha256.clone()))
            .or_default() += 1;
    }
    let got: BTreeMap<(u32, String, Option<String>), u64> = reg
        .weekly_expiries(AT, 78)
        .unwrap()
        .into_iter()
        .map(|w| ((w.week, w.profile, w.issuer_sha256), w.count))
        .collect();
    assert_eq!(got, weeks);
    // The row expiring exactly one week after AT is in week 0, not week 1.
    assert!(got.keys().all(|k| k.0 < 78));
    let week_0: u64 = got.iter().filter(|(k, _)| k.0 == 0).map(|(_, n)| n).sum();
    let by_hand = rows
        .iter()
        .filter(|r| {
            r.status == Status::Issued && r.not_after > AT && r.not_after <= AT + Duration::days(7)
        })
        .count() as u64;
    assert_eq!(week_0, by_hand);

    // The next expiry of each issuer and profile.
    let mut next: BTreeMap<(Option<String>, String), OffsetDateTime> = BTreeMap::new();
    for r in rows
        .iter()
        .filter(|r| r.status == Status::Issued && r.not_after > AT)
    {
        let e = next
            .entry((r.issuer_sha256.clone(), r.profile.clone()))
            .or_insert(r.not_after);
        *e = (*e).min(r.not_after);
    }
    let got: BTreeMap<(Option<String>, String), OffsetDateTime> = reg
        .next_expiries(AT)
        .unwrap()
        .into_iter()
        .map(|n| ((n.issuer_sha256, n.profile), n.not_after))
        .collect();
    assert_eq!(got, next);

    // The name of an issuer, for one the directory does not hold.
    assert_eq!(
        reg.issuer_named(Some(&"22".repeat(32))).unwrap().as_deref(),
        Some("CN = Issuer 1")
    );
    assert_eq!(
        reg.issuer_named(None).unwrap().as_deref(),
        Some("CN = Issuer 2")
    );
    assert_eq!(reg.issuer_named(Some(&"FF".repeat(32))).unwrap(), None);
    // After a summary, the connection writes as before.
    let mut tx = reg.transaction().unwrap();
    tx.insert(&[row(5_000, 400)]).unwrap();
    tx.commit().unwrap();
    assert_eq!(reg.count(&Query::default()).unwrap(), rows.len() as u64 + 1);
    let after = reg.state_counts(window).unwrap();
    assert_eq!(
        after.iter().map(|c| c.count).sum::<u64>(),
        rows.len() as u64 + 1
    );

    // The renewals due: the first 20 by notAfter, and how many there are.
    let due = Query {
        status: Some(Status::Issued),
        expires_after: Some(AT),
        expires_by: Some(AT + Duration::days(30)),
        ..Query::default()
    };
    let all = reg.records(&due).unwrap();
    let first = reg.first_of(&due, 20).unwrap();
    assert!(all.len() > 20, "{}", all.len());
    assert_eq!(first.total, all.len() as u64);
    assert_eq!(first.first, all[..20]);
    let none = reg.first_of(&due, 0).unwrap();
    assert_eq!((none.first.len(), none.total), (0, all.len() as u64));
}
