//! Unit tests of the CA directory.

use pki_register::Query;

use super::*;
use crate::profile::Profile;

#[test]
fn write_atomic_never_clobbers_without_overwrite() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("f");
    write_atomic(&p, b"one", 0o600, false).unwrap();
    assert!(matches!(
        write_atomic(&p, b"two", 0o600, false),
        Err(Error::Exists(_))
    ));
    assert_eq!(fs::read(&p).unwrap(), b"one");
    write_atomic(&p, b"two", 0o600, true).unwrap();
    assert_eq!(fs::read(&p).unwrap(), b"two");
    // No temporary file left behind.
    assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1);
}

#[test]
fn a_kept_edge_ca_certificate_is_no_edge_ca() {
    let d = tempfile::tempdir().unwrap();
    let ca = CaDir::create(&d.path().join("pki")).unwrap();
    let certs = ca.path().join("certs");
    for f in [
        "iot-edge-device-ca-gw.cert.pem",
        "iot-edge-device-ca-gw-full-chain.cert.pem",
        "iot-edge-device-ca-gw.5900EB1F10E5093909B1D834B739E960.cert.pem",
        "iot-edge-device-ca-gw.5900EB1F10E5093909B1D834B739E960-full-chain.cert.pem",
        "iot-edge-device-ca-site.2.cert.pem",
    ] {
        fs::write(certs.join(f), b"").unwrap();
    }
    assert_eq!(ca.edge_ca_names().unwrap(), ["gw", "site.2"]);
}

#[test]
fn gateways_are_the_server_certificates_in_service_one_per_host() {
    use crate::{Issuer, KeyType, PrivateKey, Request, SanEntry, Subject, SubjectKey};
    let d = tempfile::tempdir().unwrap();
    let ca = CaDir::create(&d.path().join("pki")).unwrap();
    let now = time::macros::datetime!(2026-01-01 0:00 UTC);
    let root_key = PrivateKey::generate(KeyType::EcP256).unwrap();
    let root = crate::issue(
        &Request::new(Profile::RootCa { pathlen: None }, Subject::cn("R"), now),
        &SubjectKey::Private(&root_key),
        None,
    )
    .unwrap();
    let issuer = Issuer::new(vec![root.certificate], &root_key, "root", "root key").unwrap();
    let server = |host: &str, prefix: &str, days: u32| {
        let key = PrivateKey::generate(KeyType::EcP256).unwrap();
        let mut req = Request::new(Profile::Server, Subject::cn(host), now);
        req.sans = vec![SanEntry::Dns(host.into())];
        req.days = days;
        let issued = crate::issue(&req, &SubjectKey::Private(&key), Some(&issuer)).unwrap();
        ca.write_issued(prefix, &issued, None, Profile::Server, false)
            .unwrap()
            .1
    };
    let hosts = |ca: &CaDir| -> Vec<(String, String)> {
        ca.gateways()
            .unwrap()
            .into_iter()
            .map(|r| (r.common_name, r.serial))
            .collect()
    };
    // `pki est serve`'s own certificate is a server certificate but no gateway.
    server("localhost", EST_SERVER_PREFIX, 30);
    let gw = server("gw.example.com", "iot-edge-server-gw.example.com", 30);
    // A second certificate for the same host (a renewal's kept file aside): one gateway,
    // the certificate that expires last.
    let later = server("gw.example.com", "iot-edge-server-gw.example.com.2", 60);
    let other = server("b.example.com", "iot-edge-server-b.example.com", 30);
    assert_eq!(
        hosts(&ca),
        [
            ("b.example.com".into(), other.serial.clone()),
            ("gw.example.com".into(), later.serial.clone())
        ]
    );
    // Superseded and revoked certificates are no gateways.
    let mut register = ca.register().unwrap();
    let mut tx = register.transaction().unwrap();
    tx.supersede(&later.sha256, None).unwrap();
    tx.revoke(&other.sha256, now, pki_register::Reason::Unspecified)
        .unwrap();
    tx.commit().unwrap();
    assert_eq!(hosts(&ca), [("gw.example.com".into(), gw.serial)]);
}

#[test]
fn a_placed_certificate_is_recorded_at_its_absolute_path_with_its_key() {
    use crate::{KeyType, PrivateKey, Request, Subject, SubjectKey};
    let d = tempfile::tempdir().unwrap();
    let ca = CaDir::create(&d.path().join("pki")).unwrap();
    let elsewhere = d.path().join("tedge");
    fs::create_dir(&elsewhere).unwrap();
    let at = Placement {
        cert: elsewhere.join("tedge-certificate.pem"),
        key: elsewhere.join("tedge-private-key.pem"),
    };
    let now = time::macros::datetime!(2026-01-01 0:00 UTC);
    let key = PrivateKey::generate(KeyType::EcP256).unwrap();
    let req = Request::new(Profile::SelfSignedDevice, Subject::cn("dev-x"), now);
    let issued = crate::issue(&req, &SubjectKey::Private(&key), None).unwrap();
    let pem = key.to_pem();
    let (written, row) = ca
        .write_placed(
            &issued,
            pem.as_bytes(),
            &at,
            Profile::SelfSignedDevice,
            false,
        )
        .unwrap();
    assert_eq!(written.cert, at.cert);
    assert_eq!(row.path, at.cert.to_str().unwrap());
    assert_eq!(ca.file_of(&row.path), at.cert);
    assert_eq!(ca.placement(&row.path).unwrap(), Some(at.clone()));
    assert_eq!(fs::read_to_string(&at.key).unwrap(), *pem);
    let rows = ca.records(&Query::default()).unwrap();
    assert_eq!(rows, std::slice::from_ref(&row));
    // A second one at the same paths is refused, and changes nothing.
    let again = crate::issue(&req, &SubjectKey::Private(&key), None).unwrap();
    assert!(matches!(
        ca.write_placed(
            &again,
            pem.as_bytes(),
            &at,
            Profile::SelfSignedDevice,
            false
        ),
        Err(Error::Exists(_))
    ));
    assert_eq!(
        ca.records(&Query::default()).unwrap(),
        std::slice::from_ref(&row)
    );
    // Files of the CA directory keep paths relative to it; no placement of their own.
    let inside = ca.cert_path("iot-device-d");
    assert_eq!(ca.register_path(&inside), "certs/iot-device-d.cert.pem");
    assert_eq!(ca.placement("certs/iot-device-d.cert.pem").unwrap(), None);
}

#[cfg(unix)]
#[test]
fn a_failed_write_leaves_no_partial_set() {
    use crate::{KeyType, PrivateKey, Profile, Request, Subject, SubjectKey};
    let d = tempfile::tempdir().unwrap();
    let ca = CaDir::create(&d.path().join("pki")).unwrap();
    let key = PrivateKey::generate(KeyType::EcP256).unwrap();
    let now = time::OffsetDateTime::now_utc();
    let req = Request::new(Profile::SelfSignedDevice, Subject::cn("d"), now);
    let issued = crate::issue(&req, &SubjectKey::Private(&key), None).unwrap();
    // certs/ replaced by a file: the key is written, the certificate cannot be.
    fs::remove_dir(ca.path().join("certs")).unwrap();
    fs::write(ca.path().join("certs"), b"").unwrap();
    assert!(
        ca.write_issued(
            "iot-device-d",
            &issued,
            Some(key.to_pem().as_bytes()),
            Profile::SelfSignedDevice,
            false
        )
        .is_err()
    );
    assert!(!ca.key_path("iot-device-d").exists());
}

#[cfg(unix)]
#[test]
fn private_dir_is_0700() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    let ca = CaDir::create(&d.path().join("pki")).unwrap();
    let mode = fs::metadata(ca.path().join("private"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
}

#[test]
fn open_refuses_a_directory_that_is_not_a_ca_dir() {
    let d = tempfile::tempdir().unwrap();
    assert!(matches!(
        CaDir::open(d.path()),
        Err(Error::NotACaDir { .. })
    ));
    assert!(matches!(
        CaDir::open(&d.path().join("nope")),
        Err(Error::NotACaDir { .. })
    ));
}
