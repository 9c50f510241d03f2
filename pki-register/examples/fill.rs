//! Fills a register with N synthetic device rows (for bench/batch.sh: `pki list` on a
//! register of a million certificates). Usage: fill REGISTER N
//!
//! The rows' notAfter are spread evenly over the 1,000 days from now, so that 30 days of them
//! (3%) expire within `pki list --expiring 30d`.

use pki_register::{Location, Record, Register, Status};
use time::{Duration, OffsetDateTime};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(location), Some(n)) = (args.next(), args.next()) else {
        return Err("usage: fill REGISTER N".into());
    };
    let n: u64 = n.parse()?;
    let mut register = Register::open(Location::parse(&location)?)?;
    let now = OffsetDateTime::now_utc();
    let chunk = 10_000;
    let mut i = 0;
    while i < n {
        let rows: Vec<Record> = (i..(i + chunk).min(n))
            .map(|k| {
                let not_after = now + Duration::seconds((k as i64 * 86_400 * 1_000) / n as i64);
                Record {
                    serial: format!("{k:032X}"),
                    subject: format!("CN = device-{k:07}"),
                    common_name: format!("device-{k:07}"),
                    issuer: "CN = Bench Intermediate".into(),
                    issuer_sha256: Some("AB".repeat(32)),
                    profile: "device".into(),
                    not_before: not_after - Duration::days(1_000),
                    not_after,
                    sha256: format!("{k:064X}"),
                    path: format!("certs/iot-device-device-{k:07}.cert.pem"),
                    status: Status::Issued,
                    superseded_by: None,
                    revoked_at: None,
                    revocation_reason: None,
                }
            })
            .collect();
        let mut tx = register.transaction()?;
        tx.insert(&rows)?;
        tx.commit()?;
        i += chunk;
    }
    Ok(())
}
