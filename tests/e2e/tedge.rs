//! thin-edge.io devices: `pki self-signed --out-cert/--out-key` recorded in the register with
//! the absolute paths it wrote, renewed in place there (by device id or by file; a fresh key
//! unless `--reuse-key`; the replaced files kept beside them; their owner and mode kept), the
//! tenant told to trust the new certificate or made to trust it first (`renew --c8y-upload`,
//! against the fake Cumulocity tenant `tests/c8y_server.py`), and `pki guide --sdk tedge` writing
//! the Cumulocity set-up for self-signed and CA-signed devices. Every certificate is checked by
//! `openssl verify`, every key against its certificate by openssl.

use std::path::Path;

use serde_json::json;

use crate::support::quickstart::{DEVICE, DEVICE_FULL, DEVICE_KEY, INTERMEDIATE, gateway_pki};
use crate::support::tenant::{PASSWORD, Tenant, basic, c8y_command, command, run};
use crate::support::{
    openssl, pki, refused_in_one_line, register_rows, sha1_fingerprint, sha256_fingerprint, tmp,
    tree,
};

/// Where thin-edge keeps the device's certificate and key, below the test's directory.
const CERT: &str = "tedge/device-certs/tedge-certificate.pem";
const KEY: &str = "tedge/device-certs/tedge-private-key.pem";

/// `openssl x509 -serial`: upper-case hex.
fn serial(dir: &Path, cert: &str) -> String {
    let out = openssl(dir, &["x509", "-in", cert, "-noout", "-serial"]).expect(0);
    out.stdout.trim().trim_start_matches("serial=").to_owned()
}

/// The public key of a certificate, by openssl (PEM).
fn cert_public_key(dir: &Path, cert: &str) -> String {
    openssl(dir, &["x509", "-in", cert, "-noout", "-pubkey"])
        .expect(0)
        .stdout
}

/// The public key of a private key file, by openssl (PEM).
fn key_public_key(dir: &Path, key: &str) -> String {
    openssl(dir, &["pkey", "-in", key, "-pubout"])
        .expect(0)
        .stdout
}

/// The certificate's subject and extensions but for the key identifiers, by openssl: what a
/// renewal keeps.
fn kept_parts(dir: &Path, cert: &str) -> String {
    openssl(
        dir,
        &[
            "x509",
            "-in",
            cert,
            "-noout",
            "-subject",
            "-issuer",
            "-ext",
            "basicConstraints,keyUsage,extendedKeyUsage,subjectAltName",
        ],
    )
    .expect(0)
    .stdout
}

/// A self-signed certificate verifies as a TLS client's with itself as the only anchor, and
/// its key is the key file's.
#[track_caller]
fn verifies_with_its_key(dir: &Path, cert: &str, key: &str) {
    let v = openssl(
        dir,
        &["verify", "-CAfile", cert, "-purpose", "sslclient", cert],
    );
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    assert_eq!(cert_public_key(dir, cert), key_public_key(dir, key));
}

/// The value of the text report's field `label` (`  label:   value`).
#[track_caller]
fn field(out: &str, label: &str) -> String {
    let head = format!("{label}:");
    out.lines()
        .find_map(|l| l.trim_start().strip_prefix(&head))
        .unwrap_or_else(|| panic!("no {label:?} in\n{out}"))
        .trim()
        .to_owned()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// `pki self-signed dev-x` written where thin-edge reads it (relative paths, as a user types
/// them).
fn self_signed_for_tedge(dir: &Path, id: &str) {
    pki(
        dir,
        &["self-signed", id, "--out-cert", CERT, "--out-key", KEY],
    )
    .expect(0);
}

#[test]
fn a_self_signed_certificate_is_recorded_with_the_absolute_path_it_was_written_to() {
    let d = tmp();
    let p = d.path();
    self_signed_for_tedge(p, "dev-x");
    pki(p, &["self-signed", "dev-y"]).expect(0);
    verifies_with_its_key(p, CERT, KEY);
    #[cfg(unix)]
    assert_eq!(mode(&p.join(KEY)), 0o600);

    let rows = register_rows(p, &["--profile", "self-signed-device"]);
    assert_eq!(rows.len(), 2, "{rows:?}");
    let row = |cn: &str| {
        rows.iter()
            .find(|r| r["common_name"] == cn)
            .unwrap()
            .clone()
    };
    let x = row("dev-x");
    assert_eq!(x["path"], p.join(CERT).to_str().unwrap());
    assert_eq!(x["sha256"], sha256_fingerprint(p, CERT).as_str());
    assert_eq!(x["serial"], serial(p, CERT).as_str());
    assert_eq!(x["status"], "issued");
    // In the CA directory: relative to it, as every file there.
    assert_eq!(row("dev-y")["path"], "certs/iot-device-dev-y.cert.pem");

    // The readers of the register find the file where it is.
    let judged = pki(p, &["--json", "needs-renewal"]).expect(1).json();
    let files: Vec<&str> = judged["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["file"].as_str().unwrap())
        .collect();
    assert!(files.contains(&p.join(CERT).to_str().unwrap()), "{judged}");
    pki(p, &["revoke", "dev-y"]).expect(0);
    let revoked = register_rows(p, &["--revoked"]);
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0]["common_name"], "dev-y");
}

#[test]
fn renew_renews_a_self_signed_device_in_place_and_says_the_tenant_must_trust_it() {
    let d = tmp();
    let p = d.path();
    self_signed_for_tedge(p, "dev-x");
    let (cert, key) = (p.join(CERT), p.join(KEY));
    let old = serial(p, CERT);
    let old_key = key_public_key(p, KEY);
    let old_sha1 = sha1_fingerprint(p, CERT);
    let parts = kept_parts(p, CERT);

    let r = pki(p, &["renew", "dev-x"]).expect(0);
    let new = serial(p, CERT);
    assert_ne!(new, old);
    // The same certificate but for serial, validity and key; a fresh key, where it was.
    assert_eq!(kept_parts(p, CERT), parts);
    assert_ne!(key_public_key(p, KEY), old_key);
    verifies_with_its_key(p, CERT, KEY);
    // The replaced files kept beside them under the old serial.
    let kept_cert = format!("tedge/device-certs/tedge-certificate.{old}.pem");
    let kept_key = format!("tedge/device-certs/tedge-private-key.{old}.pem");
    assert_eq!(serial(p, &kept_cert), old);
    assert_eq!(key_public_key(p, &kept_key), old_key);
    verifies_with_its_key(p, &kept_cert, &kept_key);
    #[cfg(unix)]
    {
        assert_eq!(mode(&key), 0o600);
        assert_eq!(mode(&p.join(&kept_key)), 0o600);
    }
    // Nothing was written into the CA directory's certs/.
    assert!(
        !tree(&p.join("pki/certs"))
            .iter()
            .any(|f| f.contains("dev-x")),
        "{:?}",
        tree(&p.join("pki"))
    );
    // The report names the files and says what the tenant needs.
    let out = &r.stdout;
    assert!(
        out.starts_with(
            "renewed self-signed-device certificate: O = Thin Edge, OU = Device, CN = dev-x\n"
        ),
        "{out}"
    );
    assert_eq!(field(out, "certificate"), cert.display().to_string());
    assert_eq!(field(out, "private key"), key.display().to_string());
    assert_eq!(
        field(out, "kept"),
        format!(
            "{}, {}",
            p.join(&kept_cert).display(),
            p.join(&kept_key).display()
        )
    );
    assert_eq!(
        field(out, "tenant"),
        format!(
            "a Cumulocity tenant trusts the old certificate, not this one: upload it with `pki c8y upload {}` (or renew with --c8y-upload); the old one stays trusted until you remove it (`pki c8y remove {old_sha1}`)",
            cert.display()
        )
    );
    // The register: the old row superseded, where its file is kept; the new one in service.
    let rows = register_rows(p, &["--cn", "dev-x"]);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0]["status"], "superseded");
    assert_eq!(rows[0]["path"], p.join(&kept_cert).to_str().unwrap());
    assert_eq!(rows[1]["status"], "issued");
    assert_eq!(rows[1]["path"], cert.to_str().unwrap());
    assert_eq!(rows[1]["serial"], new.as_str());

    // By its file (relative, absolute), with the same key.
    let same_key = key_public_key(p, KEY);
    pki(p, &["renew", CERT, "--reuse-key"]).expect(0);
    let third = serial(p, CERT);
    assert_ne!(third, new);
    assert_eq!(key_public_key(p, KEY), same_key);
    verifies_with_its_key(p, CERT, KEY);
    assert!(
        !p.join(format!("tedge/device-certs/tedge-private-key.{new}.pem"))
            .exists(),
        "--reuse-key: no key to keep"
    );
    pki(p, &["renew", cert.to_str().unwrap()]).expect(0);
    verifies_with_its_key(p, CERT, KEY);
    // And with everything else in service.
    let r = pki(p, &["--json", "renew", "--expiring", "400d"]).expect(0);
    assert_eq!(r.json()["renewed"], 1);
    verifies_with_its_key(p, CERT, KEY);
    let rows = register_rows(p, &["--cn", "dev-x"]);
    assert_eq!(rows.iter().filter(|r| r["status"] == "issued").count(), 1);
}

#[cfg(unix)]
#[test]
fn an_in_place_renewal_keeps_the_owners_and_modes_thin_edge_gave_the_files() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    crate::support::assert_root("to give the files another owner, as thin-edge does");
    let d = tmp();
    let p = d.path();
    self_signed_for_tedge(p, "dev-x");
    // As `tedge cert create` leaves them: owned by the broker's user, the certificate
    // read-only, the key for its owner only (uid and gid 4242 stand for that user).
    for (file, m) in [(CERT, 0o444), (KEY, 0o400)] {
        std::os::unix::fs::chown(p.join(file), Some(4242), Some(4243)).unwrap();
        std::fs::set_permissions(p.join(file), std::fs::Permissions::from_mode(m)).unwrap();
    }
    let old = serial(p, CERT);
    pki(p, &["renew", "dev-x"]).expect(0);
    verifies_with_its_key(p, CERT, KEY);
    for (file, m) in [
        (CERT.to_owned(), 0o444),
        (KEY.to_owned(), 0o400),
        (
            format!("tedge/device-certs/tedge-certificate.{old}.pem"),
            0o444,
        ),
        (
            format!("tedge/device-certs/tedge-private-key.{old}.pem"),
            0o400,
        ),
    ] {
        let meta = std::fs::metadata(p.join(&file)).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (4242, 4243), "{file}");
        assert_eq!(mode(&p.join(&file)), m, "{file}");
    }
}

#[test]
fn renew_c8y_upload_makes_the_tenant_trust_the_new_certificate_before_it_is_in_place() {
    let d = gateway_pki();
    let p = d.path();
    let t = Tenant::start(p, &[]);
    self_signed_for_tedge(p, "dev-x");
    let old = serial(p, CERT);
    let old_sha1 = sha1_fingerprint(p, CERT);

    // A password the tenant refuses: nothing is renewed, nothing changed.
    let before = (tree(p), std::fs::read(p.join(CERT)).unwrap());
    let rows_before = register_rows(p, &["--cn", "dev-x"]);
    let mut cmd = c8y_command(p, &t, &["renew", "dev-x", "--c8y-upload"]);
    cmd.env("C8Y_PASSWORD", "wrong-password");
    let r = run(cmd);
    refused_in_one_line(&r, &["renew"], "401");
    assert!(r.stderr.contains("nothing was renewed"), "{}", r.stderr);
    let after_tree: Vec<String> = tree(p)
        .into_iter()
        .filter(|f| !f.starts_with("tenant-"))
        .collect();
    let before_tree: Vec<String> = before
        .0
        .into_iter()
        .filter(|f| !f.starts_with("tenant-"))
        .collect();
    assert_eq!(after_tree, before_tree);
    assert_eq!(std::fs::read(p.join(CERT)).unwrap(), before.1);
    assert_eq!(register_rows(p, &["--cn", "dev-x"]), rows_before);

    // The tenant registers the new certificate; then it is put in place.
    let skip = t.requests().len();
    let r = run(c8y_command(
        p,
        &t,
        &["--json", "renew", "dev-x", "--c8y-upload"],
    ))
    .expect(0);
    let new = serial(p, CERT);
    assert_ne!(new, old);
    verifies_with_its_key(p, CERT, KEY);
    let reqs = t.requests();
    let reqs = &reqs[skip..];
    assert_eq!(reqs.len(), 2, "{reqs:#?}");
    assert_eq!(reqs[0]["path"], "/tenant/currentTenant");
    assert_eq!(reqs[1]["method"], "POST");
    assert_eq!(
        reqs[1]["path"],
        "/tenant/tenants/t12345/trusted-certificates"
    );
    assert_eq!(reqs[1]["headers"]["authorization"], basic("admin"));
    assert_eq!(
        reqs[1]["body"],
        json!({
            "name": "dev-x",
            "certInPemFormat": std::fs::read_to_string(p.join(CERT)).unwrap(),
            "autoRegistrationEnabled": true,
            "status": "ENABLED",
        })
    );
    assert_eq!(reqs[1]["status"], 201);
    let doc = r.json();
    let one = &doc["renewals"][0];
    assert_eq!(one["result"], "renewed");
    assert_eq!(one["c8y_upload"]["result"], "created");
    assert_eq!(one["c8y_upload"]["tenant"], "t12345");
    assert_eq!(
        one["c8y_upload"]["sha1"],
        sha1_fingerprint(p, CERT).as_str()
    );
    // The old one is not removed: the device keeps connecting until it uses the new one.
    assert!(
        !t.calls().iter().any(|(m, _, _)| m == "DELETE"),
        "{:?}",
        t.calls()
    );
    assert_eq!(
        one["tenant"],
        format!(
            "registered with tenant t12345 before the files were replaced (sha1 {}); the old one stays trusted until you remove it (`pki c8y remove {old_sha1}`)",
            sha1_fingerprint(p, CERT)
        )
        .as_str()
    );

    // Text: what the tenant did, in one line; the same certificate again is already there.
    let r = run(c8y_command(p, &t, &["renew", CERT, "--c8y-upload"])).expect(0);
    assert!(
        field(&r.stdout, "tenant")
            .starts_with("registered with tenant t12345 before the files were replaced (sha1 "),
        "{}",
        r.stdout
    );

    // Registered, then the hook fails: the old files are back, and the report says the tenant
    // now trusts a certificate that is in service nowhere.
    let (before, serial_before) = (std::fs::read(p.join(CERT)).unwrap(), serial(p, CERT));
    let doc = run(c8y_command(
        p,
        &t,
        &[
            "--json",
            "renew",
            "dev-x",
            "--c8y-upload",
            "--exec",
            "exit 3",
        ],
    ))
    .expect(1)
    .json();
    let one = &doc["renewals"][0];
    assert_eq!(one["result"], "rolled_back", "{one}");
    assert_eq!(one["c8y_upload"]["result"], "created", "{one}");
    assert!(
        one["tenant"]
            .as_str()
            .unwrap()
            .contains("before the renewal was undone"),
        "{one}"
    );
    assert_eq!(std::fs::read(p.join(CERT)).unwrap(), before);
    assert_eq!(serial(p, CERT), serial_before);
    verifies_with_its_key(p, CERT, KEY);

    // Many at once: a tenant that refuses the password is asked once, not once per device,
    // and each renewal fails with its reason, nothing changed.
    for id in ["dev-a", "dev-b"] {
        let (cert, key) = (format!("fleet/{id}.pem"), format!("fleet/{id}.key"));
        pki(
            p,
            &[
                "--dir",
                "fleet/pki",
                "self-signed",
                id,
                "--out-cert",
                &cert,
                "--out-key",
                &key,
            ],
        )
        .expect(0);
    }
    let before = tree(&p.join("fleet"));
    let skip = t.requests().len();
    let mut cmd = c8y_command(
        p,
        &t,
        &[
            "--dir",
            "fleet/pki",
            "--json",
            "renew",
            "--expiring",
            "400d",
            "--c8y-upload",
        ],
    );
    cmd.env("C8Y_PASSWORD", "wrong-password");
    let doc = run(cmd).expect(1).json();
    assert_eq!(
        (doc["renewed"].as_u64(), doc["failed"].as_u64()),
        (Some(0), Some(2))
    );
    for one in doc["renewals"].as_array().unwrap() {
        assert_eq!(one["result"], "failed", "{one}");
        assert!(one["error"].as_str().unwrap().contains("401"), "{one}");
    }
    assert_eq!(t.requests().len() - skip, 1, "{:#?}", &t.requests()[skip..]);
    assert_eq!(tree(&p.join("fleet")), before);

    // The tenant's flags are only for --c8y-upload, which needs --url and --user.
    let r = run(command(p, &["renew", "dev-x", "--c8y-upload"]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--url"), "{}", r.stderr);
    std::fs::write(p.join("pw.txt"), format!("{PASSWORD}\n")).unwrap();
    let r = run(command(p, &["renew", "dev-x", "--password-file", "pw.txt"]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--c8y-upload"), "{}", r.stderr);
}

#[test]
fn guide_tedge_writes_the_cumulocity_set_up_of_a_self_signed_device() {
    let d = tmp();
    let p = d.path();
    self_signed_for_tedge(p, "dev-x");
    let (cert, key) = (p.join(CERT), p.join(KEY));
    // No gateway in this directory: Cumulocity needs none.
    let g = pki(
        p,
        &[
            "guide",
            "dev-x",
            "--sdk",
            "tedge",
            "--c8y-url",
            "https://mytenant.eu-latest.cumulocity.com/",
        ],
    )
    .expect(0)
    .stdout;
    for line in [
        format!("sudo tedge config set device.cert_path {}", cert.display()),
        format!("sudo tedge config set device.key_path {}", key.display()),
        "sudo tedge config set c8y.url mytenant.eu-latest.cumulocity.com".to_owned(),
        "sudo tedge cert upload c8y --user \"$C8Y_USER\"".to_owned(),
        format!(
            "#   pki c8y upload {} --url https://mytenant.eu-latest.cumulocity.com --user \"$C8Y_USER\"",
            cert.display()
        ),
        "sudo tedge connect c8y".to_owned(),
    ] {
        assert!(g.lines().any(|l| l == line), "{line}\n{g}");
    }
    assert!(!g.contains("az."), "{g}");
    // The files it names are the device's: the certificate verifies, the key is its key.
    verifies_with_its_key(p, CERT, KEY);

    let doc = pki(p, &["--json", "guide", "dev-x", "--sdk", "tedge"])
        .expect(0)
        .json();
    assert_eq!(doc["cloud"], "c8y");
    assert_eq!(doc["auth"], "x509");
    assert_eq!(doc["files"]["chain"], cert.to_str().unwrap());
    assert_eq!(doc["files"]["key"], key.to_str().unwrap());
    assert!(
        doc["snippet"]
            .as_str()
            .unwrap()
            .contains("c8y.url YOUR-TENANT.cumulocity.com"),
        "{doc}"
    );

    // A self-signed device in the CA directory: installed where thin-edge reads it.
    pki(p, &["self-signed", "dev-y"]).expect(0);
    let g = pki(p, &["guide", "dev-y", "--sdk", "tedge"])
        .expect(0)
        .stdout;
    let in_dir = p.join("pki/certs/iot-device-dev-y.cert.pem");
    for line in [
        format!(
            "sudo install -m 644 {} /etc/tedge/device-certs/tedge-certificate.pem",
            in_dir.display()
        ),
        "sudo tedge config set device.cert_path /etc/tedge/device-certs/tedge-certificate.pem"
            .to_owned(),
        "sudo tedge config set device.key_path /etc/tedge/device-certs/tedge-private-key.pem"
            .to_owned(),
        "sudo tedge connect c8y".to_owned(),
    ] {
        assert!(g.lines().any(|l| l == line), "{line}\n{g}");
    }
    // Azure on request: it needs the gateway.
    let r = pki(p, &["guide", "dev-x", "--sdk", "tedge", "--cloud", "azure"]);
    refused_in_one_line(&r, &["guide"], "no gateway server certificate in service");
    let g = pki(
        p,
        &[
            "guide",
            "dev-x",
            "--sdk",
            "tedge",
            "--cloud",
            "azure",
            "--gateway",
            "gw.example.com",
        ],
    )
    .expect(0)
    .stdout;
    assert!(
        g.contains("sudo tedge config set az.url gw.example.com"),
        "{g}"
    );
    // Only thin-edge goes to Cumulocity here.
    let r = pki(p, &["guide", "dev-x", "--sdk", "python", "--cloud", "c8y"]);
    refused_in_one_line(&r, &["guide"], "--cloud c8y");
}

#[test]
fn guide_tedge_writes_the_cumulocity_set_up_of_a_ca_signed_device() {
    let d = gateway_pki();
    let p = d.path();
    let device = "downstream-device-1";
    // The default for a CA-signed device stays Azure, through the gateway.
    let g = pki(p, &["guide", device, "--sdk", "tedge"])
        .expect(0)
        .stdout;
    assert!(g.contains("sudo tedge config set az.url localhost"), "{g}");

    let g = pki(
        p,
        &[
            "guide",
            device,
            "--sdk",
            "tedge",
            "--cloud",
            "c8y",
            "--c8y-url",
            "mytenant.cumulocity.com",
        ],
    )
    .expect(0)
    .stdout;
    let ca = p.join(INTERMEDIATE);
    for line in [
        format!(
            "pki c8y upload {} --prove --url https://mytenant.cumulocity.com --user \"$C8Y_USER\"",
            ca.display()
        ),
        format!(
            "sudo install -m 644 {} /etc/tedge/device-certs/tedge-certificate.pem",
            p.join(DEVICE_FULL).display()
        ),
        format!(
            "sudo install -m 600 -o tedge {} /etc/tedge/device-certs/tedge-private-key.pem",
            p.join(DEVICE_KEY).display()
        ),
        "sudo tedge config set device.cert_path /etc/tedge/device-certs/tedge-certificate.pem"
            .to_owned(),
        "sudo tedge config set device.key_path /etc/tedge/device-certs/tedge-private-key.pem"
            .to_owned(),
        "sudo tedge config set c8y.url mytenant.cumulocity.com".to_owned(),
        "sudo tedge connect c8y".to_owned(),
    ] {
        assert!(g.lines().any(|l| l == line), "{line}\n{g}");
    }
    // The device's own certificate is not uploaded: the tenant trusts its CA.
    assert!(!g.contains("tedge cert upload"), "{g}");
    // The CA it names is the device's issuer: openssl verifies the device with it as anchor.
    let v = openssl(
        p,
        &[
            "verify",
            "-partial_chain",
            "-CAfile",
            INTERMEDIATE,
            "-purpose",
            "sslclient",
            DEVICE,
        ],
    );
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    assert!(g.contains(&ca.display().to_string()));
}
