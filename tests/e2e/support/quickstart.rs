//! The gateway PKI most tests start from: `pki quickstart --gateway localhost` in a fresh
//! directory, and the files it makes, by role (paths relative to that directory).

use super::fixtures::tmp;
use super::run::pki;

/// The owner (root) CA.
pub(crate) const ROOT: &str = "pki/certs/azure-iot-test-only.root.ca.cert.pem";
/// The intermediate CA.
pub(crate) const INTERMEDIATE: &str = "pki/certs/azure-iot-test-only.intermediate.cert.pem";
/// The intermediate and the root: what a device sends after its own certificate.
pub(crate) const INTERMEDIATE_FULL: &str =
    "pki/certs/azure-iot-test-only.intermediate-full-chain.cert.pem";
/// The gateway's server certificate for `localhost`.
pub(crate) const SERVER: &str = "pki/certs/iot-edge-server-localhost.cert.pem";
/// The gateway's server certificate followed by its chain up to the root.
pub(crate) const SERVER_FULL: &str = "pki/certs/iot-edge-server-localhost-full-chain.cert.pem";
/// The gateway's server key.
pub(crate) const SERVER_KEY: &str = "pki/private/iot-edge-server-localhost.key.pem";
/// The downstream device's certificate.
pub(crate) const DEVICE: &str = "pki/certs/iot-device-downstream-device-1.cert.pem";
/// The downstream device's certificate followed by its chain up to the root.
pub(crate) const DEVICE_FULL: &str = "pki/certs/iot-device-downstream-device-1-full-chain.cert.pem";
/// The downstream device's key.
pub(crate) const DEVICE_KEY: &str = "pki/private/iot-device-downstream-device-1.key.pem";

/// A fresh directory with `pki quickstart --gateway localhost` in it: a root, an intermediate,
/// an IoT Edge device CA, a server certificate for `localhost` and the device
/// `downstream-device-1`.
pub(crate) fn gateway_pki() -> tempfile::TempDir {
    let d = tmp();
    pki(d.path(), &["quickstart", "--gateway", "localhost"]).expect(0);
    d
}
