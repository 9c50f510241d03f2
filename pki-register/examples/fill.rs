//! Fills a register with N synthetic device rows (for bench/batch.sh: `pki list` on a
//! register of a million certificates; bench/crl.sh: a CRL of a revoked lot).
//! Usage: fill REGISTER N [--issuer SHA256] [--revoked] [--start K] [--profile NAME]
//!
//! The rows' notAfter are spread evenly over the 1,000 days from now, so that 30 days of them
//! (3%) expire within `pki list --expiring 30d`. `--issuer` records them as issued by the CA
//! whose certificate has that SHA-256 (upper-case hex); `--revoked` records them revoked now
//! (cessationOfOperation: a recalled lot). `--start` numbers the rows from K (serials, CNs and
//! fingerprints), so that a second lot goes into the same register (bench/report.sh: devices,
//! gateways and a revoked lot); `--profile` records them as that profile (`device` by default).

use pki_register::{Location, Record, Register, Status};
use time::{Duration, OffsetDateTime};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let usage = "usage: fill REGISTER N [--issuer SHA256] [--revoked] [--start K] [--profile NAME]";
    let mut args = std::env::args().skip(1);
    let (Some(location), Some(n)) = (args.next(), args.next()) else {
        return Err(usage.into());
    };
    let n: u64 = n.parse()?;
    let (mut issuer_sha256, mut revoked) = ("AB".repeat(32), false);
    let (mut start, mut profile) = (0u64, "device".to_owned());
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--issuer" => issuer_sha256 = args.next().ok_or(usage)?,
            "--revoked" => revoked = true,
            "--start" => start = args.next().ok_or(usage)?.parse()?,
            "--profile" => profile = args.next().ok_or(usage)?,
            _ => return Err(usage.into()),
        }
    }
    let mut register = Register::open(Location::parse(&location)?)?;
    let now = OffsetDateTime::now_utc();
    let chunk = 10_000;
    let mut i = 0;
    while i < n {
        let rows: Vec<Record> = (i..(i + chunk).min(n))
            .map(|i| {
                let k = start + i;
                let not_after = now + Duration::seconds((i as i64 * 86_400 * 1_000) / n as i64);
                Record {
                    serial: format!("{k:032X}"),
                    subject: format!("CN = device-{k:07}"),
                    common_name: format!("device-{k:07}"),
                    issuer: "CN = Bench Intermediate".into(),
                    issuer_sha256: Some(issuer_sha256.clone()),
                    profile: profile.clone(),
                    not_before: not_after - Duration::days(1_000),
                    not_after,
                    sha256: format!("{k:064X}"),
                    path: format!("certs/iot-device-device-{k:07}.cert.pem"),
                    status: if revoked {
                        Status::Revoked
                    } else {
                        Status::Issued
                    },
                    superseded_by: None,
                    revoked_at: revoked.then_some(now),
                    revocation_reason: revoked.then(|| "cessationOfOperation".to_owned()),
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
