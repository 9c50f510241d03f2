//! A batch's lot (`pki issue device --batch`): the CA directory that issues it, its manifest,
//! the checks every lot passes (the manifest agrees with the files, serials are unique, OpenSSL
//! verifies a sample), and certificates planted where the batch would write a device's.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::fixtures::{openssl_self_signed_at, tree};
use super::run::{openssl, pki};

/// A CA directory in `dir` with an owner CA and an intermediate, which issues device lots.
pub(crate) fn ca(dir: &Path) {
    pki(dir, &["create-owner-ca"]).expect(0);
    pki(dir, &["create-intermediate-ca"]).expect(0);
}

/// Every line of the manifest at `path`, parsed.
pub(crate) fn manifest(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad manifest line {l:?}: {e}")))
        .collect()
}

/// Every manifest line agrees with its files (fingerprints and serial as `pki show` reads
/// them from the certificate file), every serial is unique, and no temporary file is left.
pub(crate) fn check_lot(dir: &Path, lines: &[serde_json::Value], expected: usize) {
    assert_eq!(lines.len(), expected, "manifest lines");
    let ids: HashSet<&str> = lines
        .iter()
        .map(|l| l["device_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids.len(),
        expected,
        "a device appears twice in the manifest"
    );
    let serials: HashSet<&str> = lines
        .iter()
        .map(|l| l["serial"].as_str().unwrap())
        .collect();
    assert_eq!(serials.len(), expected, "serials are not unique");
    for chunk in lines.chunks(400) {
        let mut args = vec!["--json", "show"];
        args.extend(chunk.iter().map(|l| l["cert"].as_str().unwrap()));
        let shown = pki(dir, &args).expect(0).json();
        let by_file: HashMap<&str, &serde_json::Value> = shown["certificates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["file"].as_str().unwrap(), c))
            .collect();
        for l in chunk {
            let c = by_file[l["cert"].as_str().unwrap()];
            assert_eq!(c["sha256"], l["sha256"], "{l}");
            assert_eq!(c["sha1"], l["sha1"], "{l}");
            assert_eq!(c["serial"]["hex"], l["serial"], "{l}");
            assert_eq!(c["common_name"], l["device_id"], "{l}");
            assert!(
                dir.join(l["key"].as_str().unwrap()).is_file()
                    || Path::new(l["key"].as_str().unwrap()).is_file()
            );
        }
    }
    let leftovers: Vec<String> = tree(dir)
        .into_iter()
        .filter(|p| p.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

/// `openssl verify` on a sample of the lot, with the chain and purpose a device presents.
pub(crate) fn verify_sample(dir: &Path, lines: &[serde_json::Value]) {
    let root = "pki/certs/azure-iot-test-only.root.ca.cert.pem";
    let step = (lines.len() / 10).max(1);
    for l in lines.iter().step_by(step) {
        let cert = l["cert"].as_str().unwrap();
        let chain = l["full_chain"].as_str().unwrap();
        let r = openssl(
            dir,
            &[
                "verify",
                "-CAfile",
                root,
                "-untrusted",
                chain,
                "-purpose",
                "sslclient",
                cert,
            ],
        );
        assert_eq!(r.stdout.trim(), format!("{cert}: OK"), "{}", r.stderr);
        let a = openssl(dir, &["x509", "-in", cert, "-noout", "-pubkey"])
            .expect(0)
            .stdout;
        let b = openssl(dir, &["pkey", "-in", l["key"].as_str().unwrap(), "-pubout"])
            .expect(0)
            .stdout;
        assert_eq!(a, b, "key of {cert}");
    }
}

/// The device ids of a manifest.
pub(crate) fn manifest_ids(path: &Path) -> Vec<String> {
    manifest(path)
        .iter()
        .map(|l| l["device_id"].as_str().unwrap().to_owned())
        .collect()
}

/// A self-signed certificate for `cn` with its key, written where the batch puts `device`'s.
pub(crate) fn plant(dir: &Path, device: &str, cn: &str) -> (Vec<u8>, Vec<u8>) {
    let cert = dir.join(format!("pki/certs/iot-device-{device}.cert.pem"));
    let key = dir.join(format!("pki/private/iot-device-{device}.key.pem"));
    openssl_self_signed_at(dir, &format!("/CN={cn}"), &cert, &key, &[]);
    (std::fs::read(cert).unwrap(), std::fs::read(key).unwrap())
}
