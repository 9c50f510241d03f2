//! `pki guide DEVICE_ID --sdk tedge --issuance est`: thin-edge.io's `tedge cert download c8y`
//! speaks EST, and `pki est serve` answers it. Read in thin-edge/thin-edge.io:
//! - `crates/core/tedge/src/cli/certificate/c8y/download.rs` (commit
//!   d8f721ff19be5e27feefbe04d103a348656db408): it POSTs the CSR (its base64, the PEM armour
//!   stripped) to `https://{c8y_url}/.well-known/est/simpleenroll`, `c8y_url` being a host and
//!   port only, with HTTP Basic `device id : one-time password` and `content-type:
//!   application/pkcs10`, and stores the certificates of the PKCS#7 answer;
//! - `crates/core/tedge/src/cli/certificate/cli.rs` (`DownloadCertCli::C8y`, the revision with
//!   `--url`): `--device-id`, `--one-time-password` or the environment variable
//!   `DEVICE_ONE_TIME_PASSWORD`, `--url HOST[:PORT]` (else the config's `c8y.http`);
//! - tedge_config's `cloud_root_certs`: the server is trusted through `c8y.root_cert_path` (and
//!   the other clouds' `root_cert_path`), by default the OS store;
//! - `tedge cert renew c8y` renews through the c8y mapper's proxy to Cumulocity's CA
//!   (`C8yEndPoint::local_proxy`), not through `--url`: it does not reach pki.
//!
//! The one-time secret is read from the terminal into the environment, never written on a
//! command line.

use anyhow::Result;
use pki_core::{CaDir, CaRole};

use super::est_url::EstUrl;
use super::{Cloud, DeviceAuth, Files, Guide, GuideArgs, show};
use crate::output::{Outcome, Output};
use crate::quote::shell;

/// Where Debian's `update-ca-certificates` takes a local CA from (it must end in `.crt`).
const LOCAL_CA: &str = "/usr/local/share/ca-certificates/pki-root.crt";

/// The commands that enrol a thin-edge.io device over EST from `pki est serve`.
pub(super) fn enrol(id: &str, root: &str, url: Option<&EstUrl>) -> String {
    let mut s = String::from(
        "# thin-edge.io enrols over EST (RFC 7030): `tedge cert download c8y` POSTs its CSR to\n\
         # https://HOST:PORT/.well-known/est/simpleenroll with HTTP Basic DEVICE_ID:ONE-TIME-PASSWORD,\n\
         # which `pki est serve` answers under its default label (device).\n",
    );
    if url.is_none() {
        s += "# EST-SERVER:8443 below is a placeholder: replace it with the address the device reaches\n\
              # `pki est serve` at, or run this again with --est-url https://HOST:PORT.\n";
    }
    s += &format!(
        "# Where pki runs: a one-time secret for this device, printed once:\n\
         #   pki est secret {id}\n\
         # On the device: trust pki's root for the server's TLS (tedge reads c8y.root_cert_path,\n\
         # by default the OS store):\n\
         sudo install -m 644 {root} {LOCAL_CA}\n\
         sudo update-ca-certificates\n\
         # Enrol: the secret is read from the terminal, never written on a command line.\n\
         read -rs DEVICE_ONE_TIME_PASSWORD && export DEVICE_ONE_TIME_PASSWORD\n\
         sudo --preserve-env=DEVICE_ONE_TIME_PASSWORD tedge cert download c8y --device-id {id} --url {server}\n\
         # (a tedge without --url reads the server from c8y.http.) The certificate pki's CA issued\n\
         # is the device's certificate: the Cumulocity tenant trusts that CA (`pki c8y upload CA\n\
         # --prove`), then `sudo tedge connect c8y`. `tedge cert renew c8y` asks Cumulocity's CA, not\n\
         # pki: to renew from pki, enrol again with a new secret.\n",
        id = shell(id),
        root = shell(root),
        server = url.map_or_else(|| "EST-SERVER:8443".to_owned(), |u| shell(&u.host_port())),
    );
    s
}

/// `--sdk tedge --issuance est`: `tedge cert download c8y` against `pki est serve`.
pub(super) fn run(ca: &CaDir, a: &GuideArgs, out: &Output) -> Result<Outcome> {
    let root = show(&ca.cert_path(&CaRole::Root.prefix()));
    let snippet = enrol(&a.device_id, &root, a.est_url.as_ref());
    let guide = Guide {
        device: a.device_id.clone(),
        sdk: a.sdk,
        auth: DeviceAuth::X509,
        cloud: Some(Cloud::C8y),
        hub: a.hub.clone(),
        gateway: None,
        issuance: a.issuance,
        est_url: Some(a.est_url.as_ref().map(EstUrl::base)),
        files: Files {
            root: Some(root),
            chain: None,
            key: None,
        },
        snippet,
    };
    out.emit(&guide, || guide.snippet.clone())?;
    Ok(Outcome::Success)
}
