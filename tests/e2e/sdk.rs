//! `pki guide`: the snippets pki prints run as printed with the real Azure IoT device SDKs
//! (Python `azure-iot-device`, Node.js `azure-iot-device` + `azure-iot-device-mqtt`) and with
//! mosquitto_pub, through a real mosquitto gateway on 127.0.0.1:8883 (the SDKs always dial 8883)
//! serving the quickstart's chain: X.509 devices (the broker requires their certificate) and SAS
//! devices (the connection string from the environment), each connecting and sending one message.
//!
//! The SDKs are installed by scripts/test.sh (scripts/lib/sdks.sh) in the build directory:
//! `target/sdk/venv` and `target/sdk/node`. Missing SDKs or a taken port 8883 fail the test with
//! that reason; it never passes without running them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::support::programs;
use crate::support::quickstart::{
    DEVICE_FULL, DEVICE_KEY, ROOT, SERVER_FULL, SERVER_KEY, gateway_pki,
};
use crate::support::{Mosquitto, Run, pki, run_bounded};

/// The port every Azure IoT SDK dials for MQTT over TLS.
const MQTTS: u16 = 8883;
/// The device of the quickstart (X.509).
const X509_DEVICE: &str = "downstream-device-1";
/// A device that authenticates with a shared access key (no certificate in the directory).
const SAS_DEVICE: &str = "sas-device-1";
/// The hub named in the snippets (the gateway stands in for it: nothing reaches Azure).
const HUB: &str = "contoso-hub.azure-devices.net";
const RUN_LIMIT: Duration = Duration::from_secs(90);

/// Where scripts/lib/sdks.sh installs the SDKs: `sdk/` in the build directory, found from this
/// test binary (`target/debug/deps/e2e-*`) or `PKI_SDK_DIR`.
fn sdk_dir() -> PathBuf {
    let dir = std::env::var_os("PKI_SDK_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            let exe = std::env::current_exe().ok()?;
            Some(exe.parent()?.parent()?.parent()?.join("sdk"))
        })
        .expect("the test binary's path");
    let python = dir.join("venv/bin/python");
    let node = dir.join("node/node_modules/azure-iot-device-mqtt");
    assert!(
        python.is_file() && node.is_dir(),
        "the Azure IoT device SDKs are not installed in {}: run scripts/test.sh, which installs \
         them (or: bash -c '. scripts/lib/sdks.sh; sdks_install {}')",
        dir.display(),
        dir.display()
    );
    dir
}

/// `pki guide DEVICE --sdk SDK --hub HUB` written to FILE in `dir`: the snippet as printed.
fn guide(dir: &Path, device: &str, sdk: &str, file: &str) -> String {
    let r = pki(dir, &["guide", device, "--sdk", sdk, "--hub", HUB]).expect(0);
    std::fs::write(dir.join(file), &r.stdout).unwrap();
    r.stdout
}

/// Runs a snippet's program in `dir`, bounded; it must exit 0 having printed `sent`.
#[track_caller]
fn runs(mut cmd: Command, what: &str, broker: &Mosquitto) -> Run {
    cmd.env("PYTHONUNBUFFERED", "1");
    let r = run_bounded(cmd, b"", RUN_LIMIT).unwrap_or_else(|| {
        panic!(
            "{what} did not finish within {RUN_LIMIT:?}:\n{}",
            broker.output()
        )
    });
    assert_eq!(
        r.code,
        0,
        "{what} failed:\nstdout:\n{}\nstderr:\n{}\nbroker:\n{}",
        r.stdout,
        r.stderr,
        broker.output()
    );
    r
}

/// PATH with the directory of `program` first: a snippet that runs it by name runs that one.
fn path_with(program: &Path) -> std::ffi::OsString {
    let dir = program.parent().map(Path::to_path_buf).unwrap_or_default();
    let rest = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(dir).chain(std::env::split_paths(&rest)))
        .expect("PATH's directories join")
}

fn python(dir: &Path, sdk: &Path, file: &str) -> Command {
    let mut cmd = programs::built(sdk.join("venv/bin/python"));
    cmd.current_dir(dir).arg(file);
    cmd
}

fn node(dir: &Path, sdk: &Path, file: &str) -> Command {
    let mut cmd = programs::command("node");
    cmd.current_dir(dir)
        .arg(file)
        .env("NODE_PATH", sdk.join("node/node_modules"));
    cmd
}

#[test]
fn printed_snippets_connect_and_send_with_the_real_sdks_through_the_gateway() {
    // Every program the test runs, found before anything starts (a missing one fails here,
    // with its package): the snippet runs mosquitto_pub by name.
    let mosquitto_pub = programs::path("mosquitto_pub");
    let sdk = sdk_dir();
    let d = gateway_pki();
    let p = d.path();

    // X.509: the broker requires a client certificate under the root and takes its CN as the
    // user name, so each connection below proves the device's own certificate was presented.
    {
        let broker = Mosquitto::start_on(p, MQTTS, ROOT, SERVER_FULL, SERVER_KEY, true);
        let py = guide(p, X509_DEVICE, "python", "x509.py");
        assert!(py.contains("create_from_x509_certificate") && py.contains(DEVICE_FULL));
        let r = runs(
            python(p, &sdk, "x509.py"),
            "the Python X.509 snippet",
            &broker,
        );
        assert!(r.stdout.contains("sent"), "{}", r.stdout);

        let js = guide(p, X509_DEVICE, "node", "x509.js");
        assert!(js.contains("X509AuthenticationProvider") && js.contains("gatewayHostName"));
        let r = runs(
            node(p, &sdk, "x509.js"),
            "the Node.js X.509 snippet",
            &broker,
        );
        assert!(r.stdout.contains("sent"), "{}", r.stdout);

        let sh = guide(p, X509_DEVICE, "mosquitto", "x509.sh");
        assert!(sh.contains(DEVICE_KEY), "{sh}");
        // The snippet runs mosquitto_pub by name: the one the tests found comes first on PATH.
        let mut cmd = programs::command("sh");
        cmd.current_dir(p)
            .arg("-e")
            .arg("x509.sh")
            .env("PATH", path_with(&mosquitto_pub));
        runs(cmd, "the mosquitto_pub snippet", &broker);

        let log = broker.output();
        let connected = log.matches(&format!("u'{X509_DEVICE}'")).count();
        assert!(
            connected >= 3,
            "three X.509 connections as {X509_DEVICE}:\n{log}"
        );
    }

    // SAS: no certificate; the connection string (with GatewayHostName) from the environment.
    {
        let broker = Mosquitto::start_on(p, MQTTS, ROOT, SERVER_FULL, SERVER_KEY, false);
        let key = "c2FzLWRldmljZS0xLWtleS1mb3ItdGhlLXRlc3Rz"; // base64, as IoT Hub's keys are
        let cs = format!(
            "HostName={HUB};DeviceId={SAS_DEVICE};SharedAccessKey={key};GatewayHostName=localhost"
        );
        let py = guide(p, SAS_DEVICE, "python", "sas.py");
        assert!(py.contains("create_from_connection_string"), "{py}");
        let mut cmd = python(p, &sdk, "sas.py");
        cmd.env("IOTHUB_DEVICE_CONNECTION_STRING", &cs);
        runs(cmd, "the Python SAS snippet", &broker);

        guide(p, SAS_DEVICE, "node", "sas.js");
        let mut cmd = node(p, &sdk, "sas.js");
        cmd.env("IOTHUB_DEVICE_CONNECTION_STRING", &cs);
        let r = runs(cmd, "the Node.js SAS snippet", &broker);
        assert!(r.stdout.contains("sent"), "{}", r.stdout);

        let log = broker.output();
        let connected = log.matches(&format!(" as {SAS_DEVICE} ")).count();
        assert!(
            connected >= 2,
            "two SAS connections as {SAS_DEVICE}:\n{log}"
        );
    }
}

#[test]
fn every_sdk_gets_a_snippet_with_the_directory_paths() {
    let d = gateway_pki();
    let p = d.path();
    for sdk in [
        "python",
        "node",
        "c",
        "dotnet",
        "java",
        "mosquitto",
        "tedge",
    ] {
        let x509 = pki(p, &["guide", X509_DEVICE, "--sdk", sdk])
            .expect(0)
            .stdout;
        assert!(x509.contains("localhost"), "{sdk}: {x509}");
        if sdk != "dotnet" && sdk != "java" {
            assert!(x509.contains(DEVICE_KEY), "{sdk} names the key: {x509}");
        }
        let sas = pki(p, &["guide", SAS_DEVICE, "--sdk", sdk])
            .expect(0)
            .stdout;
        assert!(!sas.contains(DEVICE_KEY), "{sdk}: {sas}");
    }
    // The C SDK takes the connection string; the others get what works for them instead.
    let c = pki(p, &["guide", X509_DEVICE, "--sdk", "c"])
        .expect(0)
        .stdout;
    assert!(c.contains(";x509=true;GatewayHostName=localhost"), "{c}");
    let dotnet = pki(p, &["guide", X509_DEVICE, "--sdk", "dotnet"])
        .expect(0)
        .stdout;
    assert!(dotnet.contains("--p12"), "{dotnet}");
    let json = pki(p, &["--json", "guide", X509_DEVICE, "--sdk", "java"])
        .expect(0)
        .json();
    assert_eq!(json["auth"], "x509");
    // Absolute: the snippet works from whatever directory the device's program runs in.
    assert_eq!(json["files"]["root"], p.join(ROOT).to_str().unwrap());

    // issue device and quickstart point at the guide.
    let issued = pki(p, &["issue", "device", "sensor-9"]).expect(0).stdout;
    assert!(
        issued.contains("pki guide sensor-9 --sdk python|node|"),
        "{issued}"
    );
    let r = pki(
        p,
        &[
            "guide",
            X509_DEVICE,
            "--sdk",
            "python",
            "--auth",
            "x509",
            "--gateway",
            "gw",
        ],
    );
    assert!(r.expect(0).stdout.contains("gateway_hostname=\"gw\""));
    let quickstart = pki(p, &["quickstart", "--gateway", "localhost", "--force"]).expect(0);
    assert!(
        quickstart
            .stdout
            .contains("pki guide downstream-device-1 --sdk python|node|"),
        "{}",
        quickstart.stdout
    );
    let r = pki(p, &["guide", "nobody", "--sdk", "python", "--auth", "x509"]);
    crate::support::refused_in_one_line(&r, &["guide"], "no certificate for device nobody");
}

#[test]
fn after_a_renewal_the_guide_still_names_the_one_gateway_in_service() {
    let d = gateway_pki();
    let p = d.path();
    // The renewal keeps the old server certificate beside the new one
    // (iot-edge-server-localhost.SERIAL.cert.pem): that file is no gateway of its own.
    pki(p, &["renew", "localhost"]).expect(0);
    let kept = std::fs::read_dir(p.join("pki/certs"))
        .unwrap()
        .flatten()
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with("iot-edge-server-localhost.") && n != "iot-edge-server-localhost.cert.pem"
        })
        .count();
    assert_eq!(kept, 2, "the kept certificate and its full chain");
    let sh = pki(p, &["guide", X509_DEVICE, "--sdk", "mosquitto"])
        .expect(0)
        .stdout;
    assert!(
        sh.starts_with("mosquitto_pub -h localhost -p 8883 "),
        "{sh}"
    );
    // Renewed twice: still one gateway.
    pki(p, &["renew", SERVER_FULL]).expect(0);
    pki(p, &["guide", X509_DEVICE, "--sdk", "python"]).expect(0);

    // A second gateway in service: the guide names both and asks which.
    pki(p, &["issue", "server", "gw2.example.com"]).expect(0);
    let r = pki(p, &["guide", X509_DEVICE, "--sdk", "mosquitto"]);
    crate::support::refused_in_one_line(
        &r,
        &["guide"],
        "2 gateway server certificates in service (gw2.example.com, localhost): name one with --gateway HOST",
    );
    // Revoked, it is no gateway any more.
    pki(p, &["revoke", "gw2.example.com"]).expect(0);
    let sh = pki(p, &["guide", X509_DEVICE, "--sdk", "mosquitto"])
        .expect(0)
        .stdout;
    assert!(sh.starts_with("mosquitto_pub -h localhost "), "{sh}");
}
