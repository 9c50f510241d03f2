//! What the SQLite and PostgreSQL tests share: rows to record, and the checks every backend
//! must pass the same way.

use pki_register::{Error, Location, Query, Reason, Record, Register, Revocation, Status};
use time::{Duration, OffsetDateTime, macros::datetime};

pub(crate) mod secrets;
pub(crate) mod summary;

/// A device row: serial `n` in hex, CN `dev-n`, expiring `days` after 2026-01-01.
pub(crate) fn row(n: u32, days: i64) -> Record {
    let not_before = datetime!(2026-01-01 0:00 UTC);
    Record {
        serial: format!("{n:08X}"),
        subject: format!("CN = dev-{n}"),
        common_name: format!("dev-{n}"),
        issuer: "CN = Intermediate".into(),
        issuer_sha256: Some("11".repeat(32)),
        profile: if n.is_multiple_of(2) {
            "device"
        } else {
            "server"
        }
        .into(),
        not_before,
        not_after: not_before + Duration::days(days),
        sha256: format!("{n:064X}"),
        path: format!("certs/iot-device-dev-{n}.cert.pem"),
        status: Status::Issued,
        superseded_by: None,
        revoked_at: None,
        revocation_reason: None,
    }
}

/// Records, reads back, filters, refuses a duplicate serial and supersedes, as every backend
/// must.
pub(crate) fn behaves_as_a_register(location: Location) {
    let mut reg = Register::open(location.clone()).unwrap();
    let rows: Vec<Record> = (0..100).map(|n| row(n, 10 + i64::from(n))).collect();
    let mut tx = reg.transaction().unwrap();
    tx.insert(&rows).unwrap();
    tx.commit().unwrap();

    // Everything back, in notAfter order, equal to what was written.
    assert_eq!(reg.records(&Query::default()).unwrap(), rows);
    assert_eq!(reg.count(&Query::default()).unwrap(), 100);

    // Filters.
    let at = datetime!(2026-01-01 0:00 UTC);
    let expiring = Query {
        expires_after: Some(at + Duration::days(20)),
        expires_by: Some(at + Duration::days(30)),
        ..Query::default()
    };
    let got: Vec<String> = reg
        .records(&expiring)
        .unwrap()
        .into_iter()
        .map(|r| r.common_name)
        .collect();
    assert_eq!(
        got,
        (11..=20).map(|n| format!("dev-{n}")).collect::<Vec<_>>()
    );
    let devices = Query {
        profile: Some("device".into()),
        common_name: Some("dev-1?".into()),
        ..Query::default()
    };
    let got: Vec<String> = reg
        .records(&devices)
        .unwrap()
        .into_iter()
        .map(|r| r.common_name)
        .collect();
    assert_eq!(got, ["dev-10", "dev-12", "dev-14", "dev-16", "dev-18"]);
    // LIKE's own wildcards are literal in a CN pattern.
    let literal = Query {
        common_name: Some("dev_1".into()),
        ..Query::default()
    };
    assert_eq!(reg.count(&literal).unwrap(), 0);

    // A serial the issuer already used fails the whole transaction, naming the serial.
    let mut dup = row(500, 1);
    dup.serial = rows[3].serial.clone();
    let mut tx = reg.transaction().unwrap();
    tx.insert(&[row(501, 1)]).unwrap();
    let err = tx.insert(&[dup]).unwrap_err();
    assert!(
        matches!(err, Error::DuplicateSerial { ref serial, .. } if *serial == rows[3].serial),
        "{err}"
    );
    drop(tx);
    assert_eq!(
        reg.count(&Query::default()).unwrap(),
        100,
        "the transaction was rolled back"
    );

    // Import skips what is there.
    let mut tx = reg.transaction().unwrap();
    assert_eq!(tx.import(&[rows[0].clone(), row(600, 5)]).unwrap(), 1);
    tx.commit().unwrap();

    // Supersede.
    let mut tx = reg.transaction().unwrap();
    assert!(
        tx.supersede(&rows[5].sha256, Some(&row(600, 5).sha256))
            .unwrap()
    );
    assert!(!tx.supersede(&rows[5].sha256, None).unwrap(), "only once");
    tx.commit().unwrap();
    let superseded = Query {
        status: Some(Status::Superseded),
        ..Query::default()
    };
    let got = reg.records(&superseded).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].superseded_by.as_deref(),
        Some(row(600, 5).sha256.as_str())
    );
    assert_eq!(
        got[0].state(OffsetDateTime::now_utc(), Duration::days(30)),
        pki_register::State::Superseded
    );

    // A renewal keeps the replaced file under another name: its row says where.
    let mut tx = reg.transaction().unwrap();
    let kept = "certs/iot-device-dev-5.0A.cert.pem";
    assert!(tx.set_path(&rows[5].sha256, kept).unwrap());
    assert!(!tx.set_path(&"F".repeat(64), kept).unwrap(), "no such row");
    tx.commit().unwrap();
    assert_eq!(reg.records(&superseded).unwrap()[0].path, kept);

    // Reopened: the same rows.
    drop(reg);
    let mut reg = Register::open(location).unwrap();
    assert_eq!(reg.count(&Query::default()).unwrap(), 101);
    let mut serials = 0;
    reg.for_each_serial(&mut |_| serials += 1).unwrap();
    assert_eq!(serials, 101);
}

/// Revokes as every backend must: once (an issued and a superseded row), again (says when), an
/// unknown SHA-256, a rolled-back revocation, rows kept, and the revoked rows of one issuer.
pub(crate) fn revokes_as_a_register(location: Location) {
    let mut reg = Register::open(location.clone()).unwrap();
    let rows: Vec<Record> = (0..10).map(|n| row(n, 100)).collect();
    let mut tx = reg.transaction().unwrap();
    tx.insert(&rows).unwrap();
    assert!(tx.supersede(&rows[2].sha256, None).unwrap());
    tx.commit().unwrap();

    let at = datetime!(2026-03-01 12:00 UTC);
    let mut tx = reg.transaction().unwrap();
    assert_eq!(
        tx.revoke(&rows[1].sha256, at, Reason::KeyCompromise)
            .unwrap(),
        Revocation::Revoked
    );
    assert_eq!(
        tx.revoke(&rows[2].sha256, at, Reason::Superseded).unwrap(),
        Revocation::Revoked,
        "a superseded certificate can still be revoked"
    );
    assert_eq!(
        tx.revoke(
            &rows[1].sha256,
            at + Duration::days(1),
            Reason::CaCompromise
        )
        .unwrap(),
        Revocation::AlreadyRevoked {
            at: Some(at),
            reason: Some("keyCompromise".into())
        }
    );
    assert_eq!(
        tx.revoke(&"EE".repeat(32), at, Reason::Unspecified)
            .unwrap(),
        Revocation::NotFound
    );
    // The transaction sees its own revocations.
    let mut seen = Vec::new();
    let revoked = Query {
        status: Some(Status::Revoked),
        issuer_sha256: Some("11".repeat(32)),
        ..Query::default()
    };
    tx.for_each(&revoked, &mut |r| {
        seen.push(r.serial);
        true
    })
    .unwrap();
    assert_eq!(seen, [rows[1].serial.clone(), rows[2].serial.clone()]);
    tx.commit().unwrap();

    // Dropped without commit: nothing revoked.
    let mut tx = reg.transaction().unwrap();
    assert_eq!(
        tx.revoke(&rows[3].sha256, at, Reason::Unspecified).unwrap(),
        Revocation::Revoked
    );
    drop(tx);

    drop(reg);
    let mut reg = Register::open(location).unwrap();
    assert_eq!(reg.count(&Query::default()).unwrap(), 10, "rows are kept");
    let got = reg.records(&revoked).unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].revoked_at, Some(at));
    assert_eq!(got[0].revocation_reason.as_deref(), Some("keyCompromise"));
    assert_eq!(got[1].revocation_reason.as_deref(), Some("superseded"));
    assert_eq!(
        got[0].state(at, Duration::days(30)),
        pki_register::State::Revoked
    );
}

/// The SQL that turns a register of this build back into one of schema version 2, as pki wrote
/// before enrolment secrets (run by each backend's test with its own tool).
pub(crate) const DOWNGRADE_TO_V2: &str = "DROP TABLE enrolment_secrets; \
    DROP TABLE auth_failures; \
    UPDATE pki_register SET value = '2' WHERE key = 'version';";

/// The SQL that turns a register of this build back into one of schema version 1, as pki wrote
/// before CRL numbers (run by each backend's test with its own tool): version 2 first.
pub(crate) const DOWNGRADE_TO_V1: &str = "DROP TABLE enrolment_secrets; \
    DROP TABLE auth_failures; \
    DROP TABLE crl_numbers; \
    DROP INDEX certificates_by_status; \
    UPDATE pki_register SET value = '1' WHERE key = 'version';";

/// CRL numbers as every backend must count them (1, 2, ... per CA, none taken by a rolled-back
/// transaction), and a version-1 register (made by `downgrade`) upgraded in place with its rows.
pub(crate) fn numbers_crls_and_upgrades(location: Location, downgrade: &dyn Fn()) {
    let mut reg = Register::open(location.clone()).unwrap();
    let mut tx = reg.transaction().unwrap();
    tx.insert(&[row(1, 10), row(2, 10)]).unwrap();
    tx.commit().unwrap();
    drop(reg);
    downgrade();

    let mut reg = Register::open(location.clone()).unwrap();
    assert_eq!(reg.count(&Query::default()).unwrap(), 2, "rows kept");
    let (a, b) = ("AA".repeat(32), "BB".repeat(32));
    let mut tx = reg.transaction().unwrap();
    assert_eq!(tx.next_crl_number(&a, 0).unwrap(), 1);
    assert_eq!(tx.next_crl_number(&a, 0).unwrap(), 2);
    assert_eq!(tx.next_crl_number(&b, 0).unwrap(), 1);
    tx.commit().unwrap();
    let mut tx = reg.transaction().unwrap();
    assert_eq!(tx.next_crl_number(&a, 0).unwrap(), 3);
    drop(tx);
    drop(reg);
    // Opened again (no second migration), the rolled-back number is free.
    let mut reg = Register::open(location).unwrap();
    let mut tx = reg.transaction().unwrap();
    assert_eq!(tx.next_crl_number(&a, 0).unwrap(), 3);
    // A published CRL's number is a floor: never a number at or below it.
    assert_eq!(tx.next_crl_number(&a, 9).unwrap(), 9);
    assert_eq!(tx.next_crl_number(&a, 2).unwrap(), 10);
    assert_eq!(tx.next_crl_number(&"CC".repeat(32), 5).unwrap(), 5);
    tx.commit().unwrap();
}

/// Four threads, each on a connection of its own, record 10 transactions of 50 distinct rows
/// each (2,000 rows in all) into the register at `location` at the same time.
pub(crate) fn write_from_threads(location: &Location) {
    let threads: Vec<_> = (0..4u32)
        .map(|t| {
            let location = location.clone();
            std::thread::spawn(move || {
                let mut reg = Register::open(location).unwrap();
                for chunk in 0..10u32 {
                    let rows: Vec<_> = (0..50)
                        .map(|i| row(t * 10_000 + chunk * 100 + i, 30))
                        .collect();
                    let mut tx = reg.transaction().unwrap();
                    tx.insert(&rows).unwrap();
                    tx.commit().unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}
