//! `pki guide DEVICE_ID --sdk iotedge`: the lines of Azure IoT Edge 1.5's `/etc/aziot/config.toml`
//! for a gateway, and the commands that put its files where IoT Edge reads them. Its edge CA
//! comes from files (the default: `pki create-edge-ca`'s certificate and key, as `pki
//! quickstart` prints them), or IoT Edge enrols it and its device identity over EST from `pki est
//! serve` and renews them itself (`--issuance est`). What is printed is TOML (its comments hold
//! the commands); every value goes through `quote::toml`, every command word through
//! `quote::shell`.
//!
//! Every key is IoT Edge's own, read in its sources:
//! - Azure/iotedge `edgelet/contrib/config/linux/template.toml` (commit
//!   b6cdf8f8376e414f606422cb1a381cd45c822a34): `hostname`, `trust_bundle_cert`, `[edge_ca]`
//!   `cert`/`pk`, manual X.509 provisioning with `identity_cert = { method = "est", common_name =
//!   ... }`, `[cert_issuance.est]` `trusted_certs`, `[cert_issuance.est.auth]` `username`,
//!   `password`, `bootstrap_identity_cert`, `bootstrap_identity_pk`, `[cert_issuance.est.urls]`
//!   `default`;
//! - Azure/iotedge `edgelet/iotedge/test-files/config/ca-certs-est/super-config.toml` (commit
//!   b1daa065f8a420d985718c60bf2521b31d7922f3): `[edge_ca] method = "est"`, which `iotedge config
//!   apply` turns into aziot-certd's certificate `aziot-edged-ca` (its `certd.toml`, commit
//!   e0fe324f3d9a65ea2b89ce49065e457f26b7af51): the key of the edge CA's own URL in
//!   `[cert_issuance.est.urls]`, which aziot-certd reads before `default` (`urls.get(id)
//!   .or_else(|| urls.get("default"))`, Azure/iot-identity-service `cert/aziot-certd/src/lib.rs`);
//! - Azure/iot-identity-service `aziotctl/aziotctl-common/test-files/apply/
//!   dps-x509-est-bootstrap-auto-renew/config.toml` (commit
//!   58e4410e539727a94ffc059ce821da476dd6c5bc): `[provisioning.attestation.identity_cert]` with
//!   `method = "est"` and its `.auto_renew` table; aziot-identityd's config carries
//!   `identity_auto_renew` for DPS X.509 attestation only (manual X.509 has no such field), so a
//!   device identity is renewed by IoT Edge only when it is provisioned by DPS;
//! - Azure/iot-identity-service `cert/aziot-certd-config/src/lib.rs`: `Est`'s
//!   `identity_auto_renew`, and `expiry_days` "applies to local_ca and self_signed issuance
//!   methods" (commit dd3ce2adfeee56850b824a0bdb666034d2030f3f), so the EST blocks leave it out;
//!   cert_renewal's `AutoRenewConfig` (`rotate_key`, `threshold`, `retry`; default 80% and 4%),
//!   the `auto_renew` of `[edge_ca]` in edgelet-settings' `EdgeCa`.

use std::fmt::Write as _;

use anyhow::{Result, bail};
use pki_core::{CaDir, CaRole, KeyRecord};

use super::est_url::EstUrl;
use super::{DeviceAuth, Files, Guide, GuideArgs, Issuance, check_host, only_gateway, show};
use crate::args::BadValue;
use crate::output::{Outcome, Output};
use crate::quote::{shell, toml};

/// Where IoT Edge's packages read certificates (644, readable by aziotcs) and keys (600, owned
/// by aziotks), as `pki quickstart` and Microsoft's documentation name them.
const CERTS: &str = "/var/aziot/certs";
const SECRETS: &str = "/var/aziot/secrets";
/// The bootstrap certificate and key on the gateway (the names of Microsoft's EST documentation).
const BOOTSTRAP_CERT: &str = "est-bootstrap-id.pem";
const BOOTSTRAP_KEY: &str = "est-bootstrap-id.key.pem";
/// aziot-certd's id of the edge CA's certificate (`edgelet_settings::AZIOT_EDGED_CA_ALIAS`).
const EDGE_CA_CERT_ID: &str = "aziot-edged-ca";
/// DPS's global endpoint, as IoT Edge's template writes it.
const DPS_ENDPOINT: &str = "https://global.azure-devices-provisioning.net";
/// The EST server's address when `--est-url` is not given: the user must replace it.
pub(super) const PLACEHOLDER_EST: &str = "https://EST-SERVER:8443/.well-known/est";
/// `auto_renew`: aziot's own defaults (cert_renewal::AutoRenewConfig::default), written out.
const AUTO_RENEW: &str = "rotate_key = true\nthreshold = \"80%\"\nretry = \"4%\"\n";

/// The gateway the lines are for.
pub(super) struct Gateway<'a> {
    /// Its device id in IoT Hub (and the CN of its identity certificate).
    pub(super) id: &'a str,
    /// Its host name: what downstream devices connect to (`hostname`).
    pub(super) hostname: &'a str,
    /// The IoT hub (manual provisioning).
    pub(super) hub: &'a str,
    /// The owner root CA certificate where pki keeps it.
    pub(super) root: &'a str,
}

/// Where the edge CA comes from.
pub(super) enum Source<'a> {
    /// The files of an edge CA of the directory.
    Files {
        /// Its full chain and key where pki keeps them.
        chain: &'a str,
        key: &'a str,
        /// Their file names on the gateway.
        chain_name: &'a str,
        key_name: &'a str,
    },
    /// Enrolled and renewed over EST.
    Est {
        /// The edge CA's CN (`NAME.ca`).
        common_name: &'a str,
        /// The server (a placeholder when absent).
        url: Option<&'a EstUrl>,
        /// DPS's ID scope: DPS provisioning, with the identity's auto-renewal.
        dps_scope: Option<&'a str>,
    },
}

/// `--edge-ca`: an edge CA's name, under the device id rule (as `pki create-edge-ca` takes it).
pub(super) fn edge_ca_flag(s: &str) -> Result<String, BadValue> {
    pki_core::validate_device_id(s)
        .map(|()| s.to_owned())
        .map_err(|e| BadValue(anyhow::anyhow!("--edge-ca: {e}")))
}

/// `--dps-scope`: a DPS ID scope, letters and digits (`0ne00A1B2C3`).
pub(super) fn dps_scope(s: &str) -> Result<String, BadValue> {
    if s.is_empty() || s.len() > 64 || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(BadValue(anyhow::anyhow!(
            "--dps-scope {s:?} is not a DPS ID scope (letters and digits, such as 0ne00A1B2C3): copy it from the DPS instance's overview"
        )));
    }
    Ok(s.to_owned())
}

/// `pki guide ID --sdk iotedge`.
pub(super) fn run(ca: &CaDir, a: &GuideArgs, out: &Output) -> Result<Outcome> {
    if a.auth == Some(DeviceAuth::Sas) {
        bail!(
            "--auth sas: pki guide writes an IoT Edge gateway's X.509 set-up (its edge CA, and with --issuance est its identity certificate); a symmetric key goes in config.toml's [provisioning] as IoT Edge documents it"
        );
    }
    let hostname = match &a.gateway {
        Some(g) => g.clone(),
        None => {
            let host = only_gateway(ca)?;
            check_host("the gateway server certificate's host", &host)?;
            host
        }
    };
    let root = show(&ca.cert_path(&CaRole::Root.prefix()));
    let root_name = format!("{}.cert.pem", CaRole::Root.prefix());
    let gateway = Gateway {
        id: &a.device_id,
        hostname: &hostname,
        hub: &a.hub,
        root: &root,
    };
    let est = a.issuance == Some(Issuance::Est);
    let (snippet, chain, key) = if est {
        let name = a.edge_ca.as_deref().unwrap_or(&a.device_id);
        let common_name = pki_core::edge_ca_cn(name);
        let source = Source::Est {
            common_name: &common_name,
            url: a.est_url.as_ref(),
            dps_scope: a.dps_scope.as_deref(),
        };
        (config(&gateway, &root_name, &source), None, None)
    } else {
        let name = edge_ca_name(ca, a.edge_ca.as_deref(), &a.device_id)?;
        let prefix = CaRole::EdgeCa(name.clone()).prefix();
        let key = match ca.key_record(&prefix) {
            KeyRecord::File(path) => show(&path),
            KeyRecord::Token(_) => bail!(
                "the key of edge CA {name} is on a PKCS#11 token, which IoT Edge on the gateway cannot read from files: let IoT Edge enrol its edge CA over EST (--issuance est)"
            ),
        };
        let chain = show(&ca.full_chain_path(&prefix));
        let chain_name = format!("{prefix}-full-chain.cert.pem");
        let key_name = format!("{prefix}.key.pem");
        let source = Source::Files {
            chain: &chain,
            key: &key,
            chain_name: &chain_name,
            key_name: &key_name,
        };
        let snippet = config(&gateway, &root_name, &source);
        (snippet, Some(chain), Some(key))
    };
    let guide = Guide {
        device: a.device_id.clone(),
        sdk: a.sdk,
        auth: DeviceAuth::X509,
        cloud: None,
        hub: a.hub.clone(),
        gateway: Some(hostname),
        issuance: a.issuance,
        est_url: est.then(|| a.est_url.as_ref().map(EstUrl::base)),
        files: Files {
            root: Some(root),
            chain,
            key,
        },
        snippet,
    };
    out.emit(&guide, || guide.snippet.clone())?;
    Ok(Outcome::Success)
}

/// The edge CA whose files the gateway gets: `--edge-ca`, else the one named like the device,
/// else the directory's only one.
fn edge_ca_name(ca: &CaDir, given: Option<&str>, id: &str) -> Result<String> {
    let names = ca.edge_ca_names()?;
    if let Some(name) = given {
        if names.iter().any(|n| n == name) {
            return Ok(name.to_owned());
        }
        bail!(
            "no edge CA {name} in {}: create it with `pki create-edge-ca {}`, or let IoT Edge enrol it over EST (--issuance est)",
            ca.path().display(),
            shell(name)
        );
    }
    if names.iter().any(|n| n == id) {
        return Ok(id.to_owned());
    }
    match names.as_slice() {
        [one] => Ok(one.clone()),
        [] => bail!(
            "no edge CA in {}: create one with `pki create-edge-ca {}`, or let IoT Edge enrol it over EST (--issuance est)",
            ca.path().display(),
            shell(id)
        ),
        many => bail!(
            "{} edge CAs in {} ({}): name the gateway's with --edge-ca NAME",
            many.len(),
            ca.path().display(),
            many.join(", ")
        ),
    }
}

/// A `file://` URI of `name` in `dir`: the name percent-encoded but for RFC 3986's unreserved
/// characters and the sub-delimiters a path segment may hold (an id's `?` or `%` would
/// otherwise end the path or begin an escape).
fn file_uri(dir: &str, name: &str) -> String {
    let mut out = format!("file://{dir}/");
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `sudo install` of one file to the gateway, as a comment line.
fn install(mode: &str, owner: bool, from: &str, dir: &str, name: &str) -> String {
    format!(
        "#   sudo install -m {mode}{} {} {}\n",
        if owner { " -o aziotks" } else { "" },
        shell(from),
        shell(&format!("{dir}/{name}"))
    )
}

/// The config.toml lines (with the commands before them as comments).
pub(super) fn config(g: &Gateway, root_name: &str, source: &Source) -> String {
    let root_uri = toml(&file_uri(CERTS, root_name));
    let top = format!(
        "hostname = {}\ntrust_bundle_cert = {root_uri}\n",
        toml(g.hostname)
    );
    match source {
        Source::Files {
            chain,
            key,
            chain_name,
            key_name,
        } => format!(
            "# Azure IoT Edge 1.5 on gateway {host}: the edge CA from files. Copy them to the gateway:\n\
             {copy_root}{copy_chain}{copy_key}\
             # then put these lines in /etc/aziot/config.toml and run `sudo iotedge config apply`.\n\
             # IoT Edge cannot renew an edge CA read from files: renew it with `pki renew`, or let\n\
             # IoT Edge enrol and renew it over EST:\n\
             #   pki guide {id} --sdk iotedge --issuance est --est-url https://HOST:PORT\n\
             {top}\n\
             [edge_ca]\n\
             cert = {cert}\n\
             pk = {pk}\n",
            host = g.hostname,
            copy_root = install("644", false, g.root, CERTS, root_name),
            copy_chain = install("644", false, chain, CERTS, chain_name),
            copy_key = install("600", true, key, SECRETS, key_name),
            id = shell(g.id),
            cert = toml(&file_uri(CERTS, chain_name)),
            pk = toml(&file_uri(SECRETS, key_name)),
        ),
        Source::Est {
            common_name,
            url,
            dps_scope,
        } => est_config(g, root_name, &top, &root_uri, common_name, *url, *dps_scope),
    }
}

/// The EST blocks: the edge CA and the device identity enrolled with the gateway's bootstrap
/// certificate, renewed by IoT Edge.
fn est_config(
    g: &Gateway,
    root_name: &str,
    top: &str,
    root_uri: &str,
    common_name: &str,
    url: Option<&EstUrl>,
    dps_scope: Option<&str>,
) -> String {
    let base = url.map_or_else(|| PLACEHOLDER_EST.to_owned(), EstUrl::base);
    let edge_url = url.map_or_else(
        || format!("{PLACEHOLDER_EST}/edge-ca"),
        |u| u.label("edge-ca"),
    );
    let mut s = format!(
        "# Azure IoT Edge 1.5 on gateway {host}: IoT Edge enrols its edge CA ({common_name}) and its\n\
         # device identity ({id}) over EST (RFC 7030) from `pki est serve`, and renews them itself.\n",
        host = g.hostname,
        id = g.id,
    );
    if url.is_none() {
        s += "# EST-SERVER:8443 below is a placeholder: replace it with the address the gateway reaches\n\
              # `pki est serve` at, or run this again with --est-url https://HOST:PORT.\n";
    }
    s += &format!(
        "# Where pki runs, the server accepts the gateway's bootstrap (factory) certificate:\n\
         #   pki est serve --name {name} --bootstrap-ca FACTORY-CA.pem\n\
         # On the gateway: pki's root (it vouches for the server and is the modules' trust bundle),\n\
         # and the bootstrap certificate (CN {id}, from the CA --bootstrap-ca names) and its key:\n\
         {copy_root}{copy_cert}{copy_key}\
         # then these lines in /etc/aziot/config.toml, in place of its [provisioning] and [edge_ca],\n\
         # and `sudo iotedge config apply`.\n\
         {top}\n",
        name = url.map_or_else(|| "EST-SERVER".to_owned(), |u| shell(u.host())),
        id = g.id,
        copy_root = install("644", false, g.root, CERTS, root_name),
        copy_cert = install("644", false, "BOOTSTRAP-CERT.pem", CERTS, BOOTSTRAP_CERT),
        copy_key = install("600", true, "BOOTSTRAP-KEY.pem", SECRETS, BOOTSTRAP_KEY),
    );
    let id = toml(g.id);
    match dps_scope {
        Some(scope) => {
            s += &format!(
                "[provisioning]\n\
                 source = \"dps\"\n\
                 global_endpoint = \"{DPS_ENDPOINT}\"\n\
                 id_scope = {scope}\n\n\
                 [provisioning.attestation]\n\
                 method = \"x509\"\n\
                 registration_id = {id}\n\n\
                 [provisioning.attestation.identity_cert]\n\
                 method = \"est\"\n\
                 common_name = {id}\n\n\
                 [provisioning.attestation.identity_cert.auto_renew]\n\
                 {AUTO_RENEW}\n",
                scope = toml(scope),
            );
        }
        None => {
            s += &format!(
                "[provisioning]\n\
                 source = \"manual\"\n\
                 iothub_hostname = {hub}\n\
                 device_id = {id}\n\n\
                 [provisioning.authentication]\n\
                 method = \"x509\"\n\
                 identity_cert = {{ method = \"est\", common_name = {id} }}\n\
                 # IoT Edge renews an identity issued over EST only when DPS provisions the device\n\
                 # ([provisioning.attestation.identity_cert.auto_renew]): --dps-scope ID_SCOPE prints that.\n\n",
                hub = toml(g.hub),
            );
        }
    }
    s += &format!(
        "[edge_ca]\n\
         method = \"est\"\n\
         common_name = {cn}\n\
         # Its validity is the server's (`pki est serve --days`, else the edge-ca profile's):\n\
         # aziot-certd's expiry_days applies to local_ca and self_signed certificates only.\n\n\
         [edge_ca.auto_renew]\n\
         {AUTO_RENEW}\n\
         [cert_issuance.est]\n\
         trusted_certs = [\n    {root_uri},\n]\n\n\
         [cert_issuance.est.auth]\n\
         bootstrap_identity_cert = {boot_cert}\n\
         bootstrap_identity_pk = {boot_key}\n\
         # Or HTTP Basic with a one-time secret (`pki est secret {id_word}`): it enrols once, and IoT\n\
         # Edge sends the same password at each renewal, which pki refuses: no auto-renewal.\n\
         # username = {id}\n\
         # password = \"THE-SECRET\"\n\n\
         [cert_issuance.est.identity_auto_renew]\n\
         {AUTO_RENEW}\n\
         [cert_issuance.est.urls]\n\
         default = {base}\n\
         {EDGE_CA_CERT_ID} = {edge_url}\n",
        cn = toml(common_name),
        boot_cert = toml(&file_uri(CERTS, BOOTSTRAP_CERT)),
        boot_key = toml(&file_uri(SECRETS, BOOTSTRAP_KEY)),
        id_word = shell(g.id),
        base = toml(&base),
        edge_url = toml(&edge_url),
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_uris_escape_what_would_end_a_path() {
        assert_eq!(
            file_uri(CERTS, "iot-edge-device-ca-gw-full-chain.cert.pem"),
            "file:///var/aziot/certs/iot-edge-device-ca-gw-full-chain.cert.pem"
        );
        assert_eq!(
            file_uri(SECRETS, "a?b%c#d é.pem"),
            "file:///var/aziot/secrets/a%3Fb%25c%23d%20%C3%A9.pem"
        );
        assert_eq!(
            file_uri(CERTS, "x$(id)'"),
            "file:///var/aziot/certs/x$(id)'"
        );
    }
}
