//! The compact name style (`CN=x, O=y`) that `pki verify` and `pki list-ca` print is what they
//! printed before it was written in pki-core: x509-parser's `Display` of the name, for every
//! certificate of the fixtures (`testdata/`, and the fuzz seeds).

use std::path::{Path, PathBuf};

use pki_core::{Certificate, NameStyle, Summary};
use x509_parser::prelude::{FromDer, X509Certificate};

/// Every file below `dir`, depth first.
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn the_compact_style_is_what_verify_and_list_ca_printed_for_every_fixture() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut all = Vec::new();
    files(&root.join("testdata"), &mut all);
    files(&root.join("fuzz/seeds"), &mut all);
    let mut names = 0;
    for path in all {
        let bytes = std::fs::read(&path).unwrap();
        // PEM and DER files; anything else (keys, scripts, broken fixtures) does not parse.
        let Ok(certs) = Certificate::parse_all(&bytes, "fixture") else {
            continue;
        };
        for cert in certs {
            let (_, x) = X509Certificate::from_der(cert.der()).unwrap();
            let s = Summary::of(&cert);
            assert_eq!(
                s.subject.text(NameStyle::Compact),
                x.subject().to_string(),
                "{path:?}"
            );
            assert_eq!(
                s.issuer.text(NameStyle::Compact),
                x.issuer().to_string(),
                "{path:?}"
            );
            names += 2;
        }
    }
    assert!(names > 50, "only {names} names read");
}
