//! The CA directory's register as a re-run reads it: the serials it already has, so that a
//! certificate a killed run issued and recorded (but did not put in the manifest) is not
//! recorded twice when the re-run finishes its device.

use std::collections::HashSet;

use pki_core::CaDir;

use crate::error::Error;
use crate::input::id_hash;

/// The serials the CA directory's register has, as hashes.
pub(crate) fn serials(ca: &CaDir) -> Result<HashSet<u64>, Error> {
    let mut serials = HashSet::new();
    ca.register()?
        .for_each_serial(&mut |s| {
            serials.insert(id_hash(s));
        })
        .map_err(pki_core::Error::from)?;
    Ok(serials)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_register_gives_its_serials_and_an_old_index_is_migrated() {
        let d = tempfile::tempdir().unwrap();
        let ca = CaDir::create(d.path()).unwrap();
        let line = |serial: &str, sha: &str| {
            format!(
                "{{\"serial\":\"{serial}\",\"subject\":\"CN = d\",\"common_name\":\"d\",\
                 \"issuer\":\"CN = ca\",\"profile\":\"device\",\
                 \"not_before\":\"2026-01-01T00:00:00Z\",\"not_after\":\"2027-01-01T00:00:00Z\",\
                 \"sha256\":\"{sha}\",\"path\":\"certs/d.cert.pem\",\"status\":\"issued\"}}\n"
            )
        };
        // A last line cut by a kill is not part of the index.
        let whole = format!("{}{}", line("0A", "AA"), line("0C", "CC"));
        std::fs::write(ca.index_path(), format!("{whole}{{\"serial\":\"0")).unwrap();
        let s = serials(&ca).unwrap();
        assert_eq!(s, HashSet::from([id_hash("0A"), id_hash("0C")]));
        assert!(!ca.index_path().exists());
        assert_eq!(
            std::fs::read_to_string(d.path().join("index.jsonl.migrated")).unwrap(),
            format!("{whole}{{\"serial\":\"0")
        );
    }
}
