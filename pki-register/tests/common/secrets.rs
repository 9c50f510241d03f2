//! Enrolment secrets and failed attempts as every backend must keep them: made, listed, used
//! once, refused for each reason, revoked, rolled back; used once by many connections racing;
//! counted and pruned failures; a register of schema version 2 upgraded with its rows.

use std::sync::{Arc, Barrier};

use pki_register::{
    Error, FailureKey, Location, Query, Register, SecretRefusal, SecretState, Status,
};
use time::{Duration, OffsetDateTime, macros::datetime};

/// The fixed "now" of these tests.
pub(crate) const NOW: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);

/// Secrets made, listed, used once, and refused for each reason.
pub(crate) fn uses_secrets_once(location: Location) {
    let mut reg = Register::open(location.clone()).unwrap();
    let s = reg
        .create_secret("dev-1", Some("device"), Duration::hours(24), NOW)
        .unwrap();
    assert_eq!(s.expose().len(), 22);
    assert_eq!(s.info().device_id, "dev-1");
    assert_eq!(s.info().expires_at, NOW + Duration::hours(24));
    let text = s.expose().to_owned();

    // The register keeps a hash, not the secret: the listing has no hash, and the secret is
    // nowhere in the row (checked in the database by each backend's test too).
    let listed = reg.list_secrets(Some("dev-1")).unwrap();
    assert_eq!(listed, [s.info().clone()]);
    assert_eq!(listed[0].state(NOW), SecretState::Active);

    // Refusals, each distinct.
    let wrong = "A".repeat(22);
    assert_eq!(
        reg.consume_secret("dev-9", &text, NOW).unwrap(),
        Err(SecretRefusal::UnknownId)
    );
    assert_eq!(
        reg.consume_secret("dev-1", &wrong, NOW).unwrap(),
        Err(SecretRefusal::WrongSecret)
    );
    assert_eq!(
        reg.consume_secret("dev-1", "not base64!", NOW).unwrap(),
        Err(SecretRefusal::WrongSecret)
    );
    // Another device's secret is wrong for this one (the id is in the hash).
    let other = reg
        .create_secret("dev-2", None, Duration::hours(1), NOW)
        .unwrap();
    assert_eq!(
        reg.consume_secret("dev-1", other.expose(), NOW).unwrap(),
        Err(SecretRefusal::WrongSecret)
    );
    // At its expiry instant it is expired.
    assert_eq!(
        reg.consume_secret("dev-1", &text, NOW + Duration::hours(24))
            .unwrap(),
        Err(SecretRefusal::Expired {
            at: NOW + Duration::hours(24)
        })
    );

    // Rolled back, a use leaves it unused.
    let mut tx = reg.transaction().unwrap();
    let grant = tx.consume_secret("dev-1", &text, NOW).unwrap().unwrap();
    drop(tx);
    assert_eq!(
        reg.list_secrets(Some("dev-1")).unwrap()[0].state(NOW),
        SecretState::Active
    );

    // Used in a transaction that issues the certificate: once.
    let used_at = NOW + Duration::minutes(5);
    let mut tx = reg.transaction().unwrap();
    let again = tx.consume_secret("dev-1", &text, used_at).unwrap().unwrap();
    assert_eq!(again, grant);
    assert_eq!(again.device_id, "dev-1");
    assert_eq!(again.label.as_deref(), Some("device"));
    assert!(tx.set_secret_serial(again.secret_id, "0A1B").unwrap());
    assert!(!tx.set_secret_serial(999_999, "0A1B").unwrap());
    tx.commit().unwrap();
    assert_eq!(
        reg.consume_secret("dev-1", &text, used_at + Duration::seconds(1))
            .unwrap(),
        Err(SecretRefusal::Used { at: used_at })
    );
    let listed = reg.list_secrets(Some("dev-1")).unwrap();
    assert_eq!(listed[0].used_at, Some(used_at));
    assert_eq!(listed[0].serial.as_deref(), Some("0A1B"));
    assert_eq!(listed[0].state(NOW), SecretState::Used);
    // A used secret is not revoked.
    assert_eq!(reg.revoke_secrets("dev-1", None, NOW).unwrap(), 0);

    // Two secrets of one device: each works once; revoking one leaves the other.
    let a = reg
        .create_secret("dev-3", None, Duration::hours(1), NOW)
        .unwrap();
    let b = reg
        .create_secret("dev-3", None, Duration::hours(1), NOW)
        .unwrap();
    assert_ne!(a.expose(), b.expose());
    assert_eq!(
        reg.revoke_secrets("dev-3", Some(a.info().id), NOW).unwrap(),
        1
    );
    assert_eq!(
        reg.consume_secret("dev-3", a.expose(), NOW).unwrap(),
        Err(SecretRefusal::Revoked { at: NOW })
    );
    assert!(
        reg.consume_secret("dev-3", b.expose(), NOW)
            .unwrap()
            .is_ok()
    );
    // Revoking all of a device's: only the unused, unrevoked ones.
    assert_eq!(reg.revoke_secrets("dev-2", None, NOW).unwrap(), 1);
    assert_eq!(
        reg.consume_secret("dev-2", other.expose(), NOW).unwrap(),
        Err(SecretRefusal::Revoked { at: NOW })
    );
    let states: Vec<_> = reg
        .list_secrets(None)
        .unwrap()
        .iter()
        .map(|i| (i.device_id.clone(), i.state(NOW)))
        .collect();
    assert_eq!(
        states,
        [
            ("dev-1".to_owned(), SecretState::Used),
            ("dev-2".to_owned(), SecretState::Revoked),
            ("dev-3".to_owned(), SecretState::Revoked),
            ("dev-3".to_owned(), SecretState::Used),
        ]
    );

    // What cannot be made.
    for (id, label, ttl) in [
        ("a:b", None, Duration::hours(1)),
        ("", None, Duration::hours(1)),
        ("dev", Some("../x"), Duration::hours(1)),
        ("dev", None, Duration::ZERO),
    ] {
        let err = reg.create_secret(id, label, ttl, NOW).unwrap_err();
        assert!(matches!(err, Error::BadEnrolmentSecret { .. }), "{err}");
    }

    // Reopened: the same rows.
    drop(reg);
    let mut reg = Register::open(location).unwrap();
    assert_eq!(reg.list_secrets(None).unwrap().len(), 4);
}

/// `threads` connections, each its own [`Register`], present each of `secrets` secrets at the
/// same instant: exactly one is granted each, and every other is told it was used. Returns how
/// many grants and "used" refusals there were.
pub(crate) fn race_on_secrets(
    location: &Location,
    secrets: usize,
    threads: usize,
) -> (usize, usize) {
    let mut reg = Register::open(location.clone()).unwrap();
    let made: Vec<(String, String)> = (0..secrets)
        .map(|i| {
            let id = format!("race-{i}");
            let s = reg
                .create_secret(&id, None, Duration::hours(1), NOW)
                .unwrap();
            (id, s.expose().to_owned())
        })
        .collect();
    drop(reg);
    let made = Arc::new(made);
    // Every thread connects first, then all start each secret together.
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (location, made, barrier) = (location.clone(), made.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut reg = Register::open(location).unwrap();
                let mut outcomes = Vec::new();
                for (id, secret) in made.iter() {
                    barrier.wait();
                    outcomes.push(reg.consume_secret(id, secret, NOW).unwrap());
                }
                outcomes
            })
        })
        .collect();
    let outcomes: Vec<Vec<_>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let (mut grants, mut used) = (0, 0);
    for i in 0..secrets {
        let granted = outcomes.iter().filter(|o| o[i].is_ok()).count();
        assert_eq!(granted, 1, "secret {i} was granted {granted} times");
        for o in &outcomes {
            match &o[i] {
                Ok(grant) => {
                    assert_eq!(grant.device_id, made[i].0);
                    grants += 1;
                }
                Err(SecretRefusal::Used { at }) => {
                    assert_eq!(*at, NOW);
                    used += 1;
                }
                Err(other) => panic!("secret {i}: {other:?}"),
            }
        }
    }
    let mut reg = Register::open(location.clone()).unwrap();
    assert!(
        reg.list_secrets(None)
            .unwrap()
            .iter()
            .all(|s| s.used_at == Some(NOW))
    );
    (grants, used)
}

/// Failed attempts counted per key by the minute, looked back on, and pruned.
pub(crate) fn counts_failures(location: Location) {
    let mut reg = Register::open(location).unwrap();
    let dev = FailureKey::Device("dev-1".into());
    let addr = FailureKey::Address("192.0.2.7".parse().unwrap());
    let other = FailureKey::Address("2001:db8::1".parse().unwrap());
    assert_eq!(reg.failures_since(&dev, NOW).unwrap(), 0);
    for s in [0, 10, 70, 130] {
        reg.record_failure(&dev, NOW + Duration::seconds(s))
            .unwrap();
    }
    reg.record_failure(&addr, NOW).unwrap();
    reg.record_failure(&addr, NOW).unwrap();
    assert_eq!(reg.failures_since(&dev, NOW).unwrap(), 4);
    assert_eq!(
        reg.failures_since(&dev, NOW + Duration::seconds(60))
            .unwrap(),
        2
    );
    assert_eq!(
        reg.failures_since(&dev, NOW + Duration::seconds(121))
            .unwrap(),
        1,
        "to the minute"
    );
    assert_eq!(reg.failures_since(&addr, NOW).unwrap(), 2);
    assert_eq!(reg.failures_since(&other, NOW).unwrap(), 0);
    // A day later, a new failure drops what is older than the retention.
    let later = NOW + pki_register::FAILURE_RETENTION + Duration::minutes(5);
    reg.record_failure(&other, later).unwrap();
    assert_eq!(
        reg.failures_since(&dev, NOW - Duration::days(1)).unwrap(),
        0
    );
    assert_eq!(
        reg.failures_since(&addr, NOW - Duration::days(1)).unwrap(),
        0
    );
    assert_eq!(reg.failures_since(&other, NOW).unwrap(), 1);
}

/// A register of schema version 2 at `location`, holding `expect_rows` issued certificates, opened by this build:
/// upgraded in place to the current version, its certificates kept, secrets usable.
pub(crate) fn upgrades_a_version_2_register(location: Location, expect_rows: u64) {
    let mut reg = Register::open(location.clone()).unwrap();
    assert_eq!(reg.count(&Query::default()).unwrap(), expect_rows);
    assert_eq!(
        reg.count(&Query {
            status: Some(Status::Issued),
            ..Query::default()
        })
        .unwrap(),
        expect_rows
    );
    let s = reg
        .create_secret("after-upgrade", Some("device"), Duration::hours(1), NOW)
        .unwrap();
    assert!(
        reg.consume_secret("after-upgrade", s.expose(), NOW)
            .unwrap()
            .is_ok()
    );
    reg.record_failure(&FailureKey::Device("x".into()), NOW)
        .unwrap();
    drop(reg);
    // Opened again: already at the current version, nothing migrated twice.
    let mut reg = Register::open(location).unwrap();
    assert_eq!(reg.list_secrets(None).unwrap().len(), 1);
}
