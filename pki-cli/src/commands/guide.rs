//! `pki guide DEVICE_ID --sdk ...`: what to write on a device for one Azure IoT device SDK (Python,
//! Node.js, C, .NET, Java) or MQTT client (mosquitto, thin-edge to Azure or Cumulocity), with the
//! real paths of its files (found in the register, wherever they were written), for a device that
//! authenticates with its X.509 certificate or with a shared access key.
//!
//! The Python and Node.js snippets are programs that run as printed (tests/e2e/sdk.rs runs them
//! with the real SDKs through a mosquitto gateway). They use what each SDK needs to reach a
//! gateway: Python's `create_from_x509_certificate(..., gateway_hostname=...)` (its connection
//! string parser refuses `x509=true`), Node's `X509AuthenticationProvider` with
//! `gatewayHostName` (its connection string path drops the gateway for X.509), and an explicit
//! trusted root for both (neither reads the OS store).
//!
//! For an Azure IoT Edge gateway (`--sdk iotedge`, guide/iotedge.rs) it prints the lines of
//! `/etc/aziot/config.toml`: the edge CA from files, or (`--issuance est`) enrolled and renewed
//! by IoT Edge itself over EST from `pki est serve`; for thin-edge.io, `--issuance est` prints
//! `tedge cert download c8y` against `pki est serve` (guide/tedge_est.rs).

mod est_url;
mod iotedge;
mod tedge_est;

use crate::args::tenant_url;
use clap::Args;
use est_url::EstUrl;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use pki_core::{CaDir, CaRole, Profile};
use serde::Serialize;

use super::GlobalContext;
use crate::output::{Outcome, Output};
use crate::quote::{self, shell};

/// The SDK or client `pki guide` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Sdk {
    /// The Azure IoT device SDK for Python (azure-iot-device).
    Python,
    /// The Azure IoT device SDK for Node.js (azure-iot-device, azure-iot-device-mqtt).
    Node,
    /// The Azure IoT device SDK for C (connection string and trusted certificate option).
    C,
    /// The Azure IoT device SDK for .NET (Microsoft.Azure.Devices.Client).
    Dotnet,
    /// The Azure IoT device SDK for Java (com.microsoft.azure.sdk.iot).
    Java,
    /// mosquitto_pub / mosquitto_sub (and a mosquitto bridge).
    Mosquitto,
    /// thin-edge.io (tedge config).
    Tedge,
    /// Azure IoT Edge 1.5 on a gateway (its /etc/aziot/config.toml).
    Iotedge,
}

/// How the device gets its certificates (`pki guide --issuance`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Issuance {
    /// The files pki wrote, copied to the device.
    File,
    /// The device enrols (and IoT Edge renews) over EST from `pki est serve`.
    Est,
}

/// How the device authenticates to IoT Hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum DeviceAuth {
    /// Its X.509 certificate and key.
    X509,
    /// A shared access key (the connection string's SharedAccessKey).
    Sas,
}

/// The cloud a thin-edge.io device connects to (`pki guide --sdk tedge --cloud`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Cloud {
    /// Cumulocity: the tenant trusts the device's self-signed certificate, or the CA that
    /// signed it.
    C8y,
    /// Azure IoT Hub, through the gateway.
    Azure,
}

/// `pki guide`.
#[derive(Debug, Args)]
#[command(after_long_help = concat!(
    "For DEVICE_ID of the CA directory: X.509 when its certificate is in service in the register\n",
    "(certs/iot-device-ID, or where it was written), else SAS (the key stays in IoT Hub: the\n",
    "snippet reads the connection string from IOTHUB_DEVICE_CONNECTION_STRING). Every Azure\n",
    "snippet trusts the owner CA and connects through the gateway (--gateway, or the one gateway\n",
    "server certificate in service) on port 8883. Python and Node.js run as printed with the\n",
    "Azure IoT device SDKs (azure-iot-device from PyPI; azure-iot-device and\n",
    "azure-iot-device-mqtt from npm).\n",
    "thin-edge (--sdk tedge) connects to Cumulocity or Azure (--cloud; default c8y for a\n",
    "self-signed device, found in the register wherever `pki self-signed --out-cert` wrote it,\n",
    "azure otherwise): for c8y the tedge config lines for the device's files and --c8y-url, what\n",
    "makes the tenant trust the device (its own certificate, or the CA that signed it), then\n",
    "`tedge connect c8y`; no gateway is needed; with --issuance est, `tedge cert download c8y`\n",
    "against `pki est serve` (--est-url) instead of the files.\n",
    "IoT Edge (--sdk iotedge, DEVICE_ID the gateway's id in IoT Hub): the lines of\n",
    "/etc/aziot/config.toml for its edge CA (--edge-ca NAME, default the one named DEVICE_ID or the\n",
    "only one) from files, or with --issuance est the blocks with which IoT Edge enrols its edge\n",
    "CA and device identity from `pki est serve` and renews them (auto_renew; the identity's with\n",
    "DPS, --dps-scope). Without --est-url the server's address is a placeholder to replace.\n\n",
    "EXAMPLES:\n",
    "  pki guide sensor-1 --sdk python --hub contoso.azure-devices.net\n",
    "  pki guide sensor-1 --sdk node > send.js && node send.js\n",
    "  pki guide sensor-1 --sdk mosquitto --gateway gw.contoso.com\n",
    "  pki guide tedge-7 --sdk tedge --c8y-url mytenant.eu-latest.cumulocity.com\n",
    "  pki guide gw-1 --sdk iotedge --gateway gw.contoso.com\n",
    "  pki guide gw-1 --sdk iotedge --issuance est --est-url https://pki.contoso.com:8443\n\n",
    "EXIT CODES:\n  0  printed\n  2  could not run (no CA directory, no gateway known)"))]
pub(crate) struct GuideArgs {
    /// The device id.
    pub(crate) device_id: String,
    /// Which SDK or client to write for.
    #[arg(long, value_enum)]
    pub(crate) sdk: Sdk,
    /// X.509 or SAS (default: X.509 when the device's certificate is in the directory).
    #[arg(long, value_enum)]
    pub(crate) auth: Option<DeviceAuth>,
    /// The IoT hub's host name.
    #[arg(
        long,
        value_name = "HOST",
        default_value = "YOUR-HUB.azure-devices.net"
    )]
    pub(crate) hub: String,
    /// The gateway's host name (default: the host of the one gateway server certificate in
    /// service in the register).
    #[arg(long, value_name = "HOST")]
    pub(crate) gateway: Option<String>,
    /// With --sdk tedge: the cloud (default: c8y for a self-signed device, azure otherwise).
    #[arg(long, value_enum)]
    pub(crate) cloud: Option<Cloud>,
    /// With --cloud c8y: the Cumulocity tenant, a host name or https:// URL (default: a
    /// placeholder).
    #[arg(long, value_name = "URL", value_parser = tenant_url)]
    pub(crate) c8y_url: Option<pki_c8y::TenantUrl>,
    /// With --sdk iotedge or tedge: files pki wrote (default), or enrolment over EST from `pki
    /// est serve`.
    #[arg(long, value_enum)]
    pub(crate) issuance: Option<Issuance>,
    /// With --issuance est: where devices reach `pki est serve`, https://HOST:PORT (default: a
    /// placeholder to replace).
    #[arg(long, value_name = "URL", value_parser = EstUrl::parse)]
    pub(crate) est_url: Option<EstUrl>,
    /// With --sdk iotedge: the edge CA's name, CN NAME.ca (default: the edge CA named like the
    /// device, else the directory's only one; with --issuance est, the device id).
    #[arg(long, value_name = "NAME", value_parser = iotedge::edge_ca_flag)]
    pub(crate) edge_ca: Option<String>,
    /// With --sdk iotedge --issuance est: the ID scope of the DPS instance that provisions the
    /// gateway, whose identity certificate IoT Edge then renews (default: manual provisioning).
    #[arg(long, value_name = "ID_SCOPE", value_parser = iotedge::dps_scope)]
    pub(crate) dps_scope: Option<String>,
}

/// The SDKs and clients `pki guide` writes for, as `--sdk` takes them.
pub(crate) const SDKS: &str = "python|node|c|dotnet|java|mosquitto|tedge";

/// The environment variable the SAS snippets read the device's connection string from (the name
/// Microsoft's samples use).
const CONNECTION_STRING_VAR: &str = "IOTHUB_DEVICE_CONNECTION_STRING";

/// The `pki guide` command that prints a device's snippets (what `issue device` and
/// `quickstart` point at).
pub(crate) fn command(device_id: &str) -> String {
    format!("pki guide {} --sdk {SDKS}", shell(device_id))
}

/// The `pki guide` command of a self-signed device (thin-edge.io's kind of certificate).
pub(crate) fn tedge_command(device_id: &str) -> String {
    format!("pki guide {} --sdk tedge", shell(device_id))
}

/// Refuses a `--hub` or `--gateway` (or a gateway's host in the register) that is not a host
/// name or an IP address: a snippet names it in code and in connection strings.
fn check_host(what: &str, host: &str) -> Result<()> {
    let dns = pki_core::is_valid_dns_name(host) && !host.starts_with("*.");
    if !dns && host.parse::<std::net::IpAddr>().is_err() {
        bail!(
            "{what} {host:?} is not a host name (letters, digits, hyphens and dots) nor an IP address"
        );
    }
    Ok(())
}

/// What `pki guide` prints, as data.
#[derive(Serialize)]
struct Guide {
    device: String,
    sdk: Sdk,
    auth: DeviceAuth,
    /// thin-edge.io's cloud.
    #[serde(skip_serializing_if = "Option::is_none")]
    cloud: Option<Cloud>,
    hub: String,
    /// The gateway the device connects through (none for Cumulocity); IoT Edge's own hostname.
    #[serde(skip_serializing_if = "Option::is_none")]
    gateway: Option<String>,
    /// With --issuance.
    #[serde(skip_serializing_if = "Option::is_none")]
    issuance: Option<Issuance>,
    /// The EST server's base URL (`null`: the snippet holds a placeholder).
    #[serde(skip_serializing_if = "is_file_issuance")]
    est_url: Option<Option<String>>,
    files: Files,
    /// The snippet or configuration block, as printed.
    snippet: String,
}

/// Whether `Guide::est_url` is left out: no EST.
fn is_file_issuance(url: &Option<Option<String>>) -> bool {
    url.is_none()
}

/// The device's files: the root it trusts and, for X.509, its certificate chain and key.
#[derive(Serialize, Clone)]
struct Files {
    /// The owner CA the device trusts for the gateway (none for Cumulocity, whose TLS the
    /// device's OS store vouches for).
    #[serde(skip_serializing_if = "Option::is_none")]
    root: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
}

/// The device's certificate as the guide needs it.
struct DeviceCert {
    /// What the device presents: its full chain, or (self-signed) its certificate.
    chain: PathBuf,
    key: Option<PathBuf>,
    self_signed: bool,
    /// Written where the user chose (already where the device reads it).
    placed: bool,
    /// The CA that signed it, when it is a CA of the directory.
    issuer: Option<PathBuf>,
}

/// The device's certificate in service: from the register (wherever it was written), else
/// the directory's own names.
fn device_cert(ca: &CaDir, id: &str) -> Result<Option<DeviceCert>> {
    if let Some(d) = ca.device(id)? {
        let self_signed = d.record.profile == Profile::SelfSignedDevice.name();
        let issuer = match (&d.record.issuer_sha256, self_signed) {
            (Some(sha), false) => ca.ca_certificate_file(sha),
            _ => None,
        };
        return Ok(Some(DeviceCert {
            chain: d.full_chain.unwrap_or(d.cert),
            key: d.key.map(|k| k.path().to_owned()),
            self_signed,
            placed: d.placed,
            issuer,
        }));
    }
    let prefix = pki_core::device_prefix(id);
    let chain = ca.full_chain_path(&prefix);
    Ok(chain.is_file().then(|| DeviceCert {
        chain,
        key: Some(ca.key_path(&prefix)),
        self_signed: false,
        placed: false,
        issuer: None,
    }))
}

/// `pki guide`.
pub(crate) fn run(ctx: &GlobalContext, a: GuideArgs, out: &Output) -> Result<Outcome> {
    pki_core::validate_device_id(&a.device_id)?;
    check_host("--hub", &a.hub)?;
    if let Some(g) = &a.gateway {
        check_host("--gateway", g)?;
    }
    check_est_flags(&a)?;
    if a.cloud.is_some() && a.sdk != Sdk::Tedge {
        bail!(
            "--cloud {}: only thin-edge (--sdk tedge) chooses its cloud; the others connect to Azure IoT Hub",
            match a.cloud {
                Some(Cloud::C8y) => "c8y",
                _ => "azure",
            }
        );
    }
    let ca = super::open_ca(ctx)?;
    if a.sdk == Sdk::Iotedge {
        return iotedge::run(&ca, &a, out);
    }
    if a.issuance == Some(Issuance::Est) {
        return tedge_est::run(&ca, &a, out);
    }
    let cert = device_cert(&ca, &a.device_id)?;
    let auth = a.auth.unwrap_or(if cert.is_some() {
        DeviceAuth::X509
    } else {
        DeviceAuth::Sas
    });
    let cert = match (auth, cert) {
        (DeviceAuth::X509, None) => bail!(
            "no certificate for device {} in {}: issue one with `pki issue device {}`, or use --auth sas",
            a.device_id,
            ca.path().display(),
            a.device_id
        ),
        (DeviceAuth::X509, Some(c)) => Some(c),
        (DeviceAuth::Sas, _) => None,
    };
    let key = match &cert {
        Some(c) => Some(c.key.as_deref().map(show).with_context(|| {
            format!(
                "where the key of device {} is, pki does not know (its certificate {} was adopted): give the device its key by hand",
                a.device_id,
                c.chain.display()
            )
        })?),
        None => None,
    };
    let self_signed = cert.as_ref().is_some_and(|c| c.self_signed);
    let cloud = (a.sdk == Sdk::Tedge).then(|| {
        a.cloud.unwrap_or(if self_signed {
            Cloud::C8y
        } else {
            Cloud::Azure
        })
    });
    let gateway = match (a.gateway, cloud) {
        (Some(g), _) => Some(g),
        (None, Some(Cloud::C8y)) => None,
        (None, _) => {
            let host = only_gateway(&ca)?;
            check_host("the gateway server certificate's host", &host)?;
            Some(host)
        }
    };
    let files = Files {
        root: (cloud != Some(Cloud::C8y)).then(|| show(&ca.cert_path(&CaRole::Root.prefix()))),
        chain: cert.as_ref().map(|c| show(&c.chain)),
        key,
    };
    let tenant = a.c8y_url.as_ref();
    let c8y = C8ySetup {
        host: tenant.map_or_else(|| PLACEHOLDER_TENANT.to_owned(), |t| t.host()),
        url: tenant.map_or_else(
            || format!("https://{PLACEHOLDER_TENANT}"),
            |t| t.as_str().to_owned(),
        ),
        placed: cert.as_ref().is_some_and(|c| c.placed),
        self_signed,
        issuer: cert.as_ref().map(|c| {
            show(
                &c.issuer
                    .clone()
                    .unwrap_or_else(|| ca.cert_path(&CaRole::Root.prefix())),
            )
        }),
    };
    let s = Snippet {
        id: &a.device_id,
        hub: &a.hub,
        gw: gateway.as_deref().unwrap_or_default(),
        files: &files,
    };
    let snippet = match (a.sdk, auth) {
        (Sdk::Python, DeviceAuth::X509) => s.python_x509(),
        (Sdk::Python, DeviceAuth::Sas) => s.python_sas(),
        (Sdk::Node, DeviceAuth::X509) => s.node_x509(),
        (Sdk::Node, DeviceAuth::Sas) => s.node_sas(),
        (Sdk::C, _) => s.c(auth),
        (Sdk::Dotnet, _) => s.dotnet(auth),
        (Sdk::Java, _) => s.java(auth),
        (Sdk::Mosquitto, _) => s.mosquitto(auth),
        (Sdk::Tedge, _) if cloud == Some(Cloud::C8y) => s.tedge_c8y(auth, &c8y),
        (Sdk::Tedge, _) => s.tedge(auth, c8y.placed),
        (Sdk::Iotedge, _) => unreachable!("run hands --sdk iotedge to iotedge::run first"),
    };
    let guide = Guide {
        device: a.device_id.clone(),
        sdk: a.sdk,
        auth,
        cloud,
        hub: a.hub.clone(),
        gateway,
        issuance: a.issuance,
        est_url: None,
        files,
        snippet,
    };
    out.emit(&guide, || guide.snippet.clone())?;
    Ok(Outcome::Success)
}

/// Absolute paths: a snippet works from whatever directory the device's program runs in.
fn show(p: &Path) -> String {
    std::path::absolute(p)
        .unwrap_or_else(|_| p.to_owned())
        .display()
        .to_string()
}

/// Refuses the EST flags where they mean nothing, in one line saying where they belong.
fn check_est_flags(a: &GuideArgs) -> Result<()> {
    let est = a.issuance == Some(Issuance::Est);
    if a.issuance.is_some() && !matches!(a.sdk, Sdk::Iotedge | Sdk::Tedge) {
        bail!(
            "--issuance: only IoT Edge (--sdk iotedge) and thin-edge (--sdk tedge) enrol over EST; the other SDKs read the files pki wrote"
        );
    }
    if a.est_url.is_some() && !est {
        bail!("--est-url names the EST server of --issuance est: add --issuance est");
    }
    if a.edge_ca.is_some() && a.sdk != Sdk::Iotedge {
        bail!("--edge-ca names the edge CA of an IoT Edge gateway: it goes with --sdk iotedge");
    }
    if a.dps_scope.is_some() && !(est && a.sdk == Sdk::Iotedge) {
        bail!(
            "--dps-scope is the DPS provisioning of an IoT Edge gateway that enrols over EST: it goes with --sdk iotedge --issuance est"
        );
    }
    if est && a.sdk == Sdk::Tedge && a.cloud == Some(Cloud::Azure) {
        bail!(
            "--issuance est with --sdk tedge is `tedge cert download c8y`, Cumulocity's enrolment: leave out --cloud azure"
        );
    }
    Ok(())
}

/// The tenant named in the Cumulocity snippets when `--c8y-url` is not given.
const PLACEHOLDER_TENANT: &str = "YOUR-TENANT.cumulocity.com";
/// Where thin-edge.io reads the device's certificate and key by default.
const TEDGE_CERT: &str = "/etc/tedge/device-certs/tedge-certificate.pem";
const TEDGE_KEY: &str = "/etc/tedge/device-certs/tedge-private-key.pem";

/// What the Cumulocity set-up of a thin-edge.io device names.
struct C8ySetup {
    /// The tenant's host (and port): `tedge config set c8y.url`.
    host: String,
    /// The tenant's URL: `pki c8y upload --url`.
    url: String,
    /// The files are already where the device reads them.
    placed: bool,
    self_signed: bool,
    /// The CA the tenant must trust for a CA-signed device (its issuer; the root when the
    /// issuer is not a CA of the directory).
    issuer: Option<String>,
}

/// The gateway host of the directory's one gateway server certificate in service.
fn only_gateway(ca: &CaDir) -> Result<String> {
    let hosts: Vec<String> = ca.gateways()?.into_iter().map(|r| r.common_name).collect();
    match hosts.as_slice() {
        [one] => Ok(one.clone()),
        [] => bail!(
            "no gateway server certificate in service in the register {}: name the gateway with --gateway HOST",
            ca.register_location()
        ),
        many => bail!(
            "{} gateway server certificates in service ({}): name one with --gateway HOST",
            many.len(),
            many.join(", ")
        ),
    }
}

struct Snippet<'a> {
    id: &'a str,
    hub: &'a str,
    gw: &'a str,
    files: &'a Files,
}

impl Snippet<'_> {
    fn chain(&self) -> &str {
        self.files.chain.as_deref().unwrap_or_default()
    }
    fn key(&self) -> &str {
        self.files.key.as_deref().unwrap_or_default()
    }
    fn root(&self) -> &str {
        self.files.root.as_deref().unwrap_or_default()
    }

    /// The SAS connection string's shape (its key stays out of every file pki writes), shown
    /// in comments: its values are a device id and host names, whose rules
    /// (`validate_device_id`, `check_host`) allow no line break, quote, backslash nor `/`.
    fn sas_connection_string(&self) -> String {
        format!(
            "HostName={};DeviceId={};SharedAccessKey=<the device's primary key>;GatewayHostName={}",
            self.hub, self.id, self.gw
        )
    }

    fn python_x509(&self) -> String {
        format!(
            r#"# pip install azure-iot-device
from azure.iot.device import IoTHubDeviceClient, Message, X509

with open({root}) as f:
    root_ca = f.read()
client = IoTHubDeviceClient.create_from_x509_certificate(
    x509=X509(cert_file={chain}, key_file={key}),
    hostname={hub},
    device_id={id},
    gateway_hostname={gw},
    server_verification_cert=root_ca,
)
client.connect()
client.send_message(Message("hello from " + {id}))
client.shutdown()
print("sent")
"#,
            root = quote::python(self.root()),
            chain = quote::python(self.chain()),
            key = quote::python(self.key()),
            hub = quote::python(self.hub),
            id = quote::python(self.id),
            gw = quote::python(self.gw),
        )
    }

    fn python_sas(&self) -> String {
        format!(
            r#"# pip install azure-iot-device
# {var}={cs}
import os
from azure.iot.device import IoTHubDeviceClient, Message

with open({root}) as f:
    root_ca = f.read()
client = IoTHubDeviceClient.create_from_connection_string(
    os.environ["{var}"], server_verification_cert=root_ca
)
client.connect()
client.send_message(Message("hello from " + {id}))
client.shutdown()
print("sent")
"#,
            var = CONNECTION_STRING_VAR,
            cs = self.sas_connection_string(),
            root = quote::python(self.root()),
            id = quote::python(self.id),
        )
    }

    fn node_x509(&self) -> String {
        format!(
            r#"// npm install azure-iot-device azure-iot-device-mqtt
const fs = require('fs');
const {{ Client, Message, X509AuthenticationProvider }} = require('azure-iot-device');
const {{ Mqtt }} = require('azure-iot-device-mqtt');

const auth = new X509AuthenticationProvider({{
  host: {hub},
  deviceId: {id},
  gatewayHostName: {gw},
  x509: {{
    cert: fs.readFileSync({chain}, 'utf8'),
    key: fs.readFileSync({key}, 'utf8'),
  }},
}});
const client = Client.fromAuthenticationProvider(auth, Mqtt);
{tail}"#,
            hub = quote::js(self.hub),
            id = quote::js(self.id),
            gw = quote::js(self.gw),
            chain = quote::js(self.chain()),
            key = quote::js(self.key()),
            tail = self.node_send(),
        )
    }

    fn node_sas(&self) -> String {
        format!(
            r#"// npm install azure-iot-device azure-iot-device-mqtt
// {var}={cs}
const fs = require('fs');
const {{ Client, Message }} = require('azure-iot-device');
const {{ Mqtt }} = require('azure-iot-device-mqtt');

const client = Client.fromConnectionString(process.env.{var}, Mqtt);
{tail}"#,
            var = CONNECTION_STRING_VAR,
            cs = self.sas_connection_string(),
            tail = self.node_send(),
        )
    }

    /// Node.js ignores the OS store: the root goes in as `ca`.
    fn node_send(&self) -> String {
        format!(
            r#"client.setOptions({{ ca: fs.readFileSync({root}, 'utf8') }})
  .then(() => client.open())
  .then(() => client.sendEvent(new Message('hello from ' + {id})))
  .then(() => client.close())
  .then(() => console.log('sent'))
  .catch((err) => {{ console.error(err); process.exit(1); }});
"#,
            root = quote::js(self.root()),
            id = quote::js(self.id),
        )
    }

    fn c(&self, auth: DeviceAuth) -> String {
        let (cs, options) = match auth {
            DeviceAuth::X509 => (
                format!(
                    "HostName={};DeviceId={};x509=true;GatewayHostName={}",
                    self.hub, self.id, self.gw
                ),
                format!(
                    "IoTHubDeviceClient_LL_SetOption(client, OPTION_X509_CERT, x509_certificate);    /* {} */\n\
                     IoTHubDeviceClient_LL_SetOption(client, OPTION_X509_PRIVATE_KEY, x509_private_key); /* {} */\n",
                    quote::c(self.chain()),
                    quote::c(self.key())
                ),
            ),
            DeviceAuth::Sas => (self.sas_connection_string(), String::new()),
        };
        format!(
            r#"/* Azure IoT C SDK (iothub_device_client_ll.h, iothubtransportmqtt.h): the strings hold the
   files' PEM text. */
static const char* connection_string = {cs};
IOTHUB_DEVICE_CLIENT_LL_HANDLE client =
    IoTHubDeviceClient_LL_CreateFromConnectionString(connection_string, MQTT_Protocol);
IoTHubDeviceClient_LL_SetOption(client, OPTION_TRUSTED_CERT, trusted_root);       /* {root} */
{options}"#,
            cs = quote::c(&cs),
            root = quote::c(self.root()),
        )
    }

    fn dotnet(&self, auth: DeviceAuth) -> String {
        match auth {
            DeviceAuth::X509 => format!(
                r#"// dotnet add package Microsoft.Azure.Devices.Client
// The device identity as a PFX (Windows needs one):
//   pki export {chain} --p12 {pfx_file} --chain --password-env PFX_PASSWORD
// Trust the root: `pki install-ca {root} --os-store` (Linux: OpenSSL's store; Windows: LocalMachine\Root).
using System.Security.Cryptography.X509Certificates;
using Microsoft.Azure.Devices.Client;

using var cert = new X509Certificate2({pfx}, Environment.GetEnvironmentVariable("PFX_PASSWORD"));
var auth = new DeviceAuthenticationWithX509Certificate({id}, cert);
using var client = DeviceClient.Create({hub}, {gw}, auth, TransportType.Mqtt);
await client.OpenAsync();
await client.SendEventAsync(new Message(System.Text.Encoding.UTF8.GetBytes({hello})));
"#,
                chain = shell(self.chain()),
                pfx_file = shell(&format!("{}.pfx", self.id)),
                pfx = quote::csharp(&format!("{}.pfx", self.id)),
                id = quote::csharp(self.id),
                root = shell(self.root()),
                hub = quote::csharp(self.hub),
                gw = quote::csharp(self.gw),
                hello = quote::csharp(&format!("hello from {}", self.id)),
            ),
            DeviceAuth::Sas => format!(
                r#"// dotnet add package Microsoft.Azure.Devices.Client
// {var}={cs}
// Trust the root: `pki install-ca {root} --os-store` (Linux: OpenSSL's store; Windows: LocalMachine\Root).
using Microsoft.Azure.Devices.Client;

using var client = DeviceClient.CreateFromConnectionString(
    Environment.GetEnvironmentVariable("{var}"), TransportType.Mqtt);
await client.OpenAsync();
await client.SendEventAsync(new Message(System.Text.Encoding.UTF8.GetBytes({hello})));
"#,
                var = CONNECTION_STRING_VAR,
                cs = self.sas_connection_string(),
                root = shell(self.root()),
                hello = quote::csharp(&format!("hello from {}", self.id)),
            ),
        }
    }

    fn java(&self, auth: DeviceAuth) -> String {
        let trust = format!(
            "//   pki export {root} --truststore truststore.p12 --password-env STORE_PASSWORD\n",
            root = shell(self.root())
        );
        match auth {
            DeviceAuth::X509 => format!(
                r#"// Maven: com.microsoft.azure.sdk.iot:iot-device-client. A keystore and a truststore for JSSE:
//   pki export {chain} --p12 {p12_file} --chain --password-env STORE_PASSWORD
{trust}char[] pw = System.getenv("STORE_PASSWORD").toCharArray();
KeyStore ks = KeyStore.getInstance("PKCS12");
ks.load(new FileInputStream({p12}), pw);
KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
kmf.init(ks, pw);
KeyStore ts = KeyStore.getInstance("PKCS12");
ts.load(new FileInputStream("truststore.p12"), pw);
TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
tmf.init(ts);
SSLContext ssl = SSLContext.getInstance("TLSv1.2");
ssl.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
DeviceClient client = new DeviceClient(
    {cs},
    IotHubClientProtocol.MQTT, ClientOptions.builder().sslContext(ssl).build());
client.open(true);
client.sendEvent(new Message({hello}));
client.close();
"#,
                chain = shell(self.chain()),
                p12_file = shell(&format!("{}.p12", self.id)),
                p12 = quote::java(&format!("{}.p12", self.id)),
                cs = quote::java(&format!(
                    "HostName={};DeviceId={};x509=true;GatewayHostName={}",
                    self.hub, self.id, self.gw
                )),
                hello = quote::java(&format!("hello from {}", self.id)),
            ),
            DeviceAuth::Sas => format!(
                r#"// Maven: com.microsoft.azure.sdk.iot:iot-device-client. A truststore for JSSE:
{trust}// {var}={cs}
char[] pw = System.getenv("STORE_PASSWORD").toCharArray();
KeyStore ts = KeyStore.getInstance("PKCS12");
ts.load(new FileInputStream("truststore.p12"), pw);
TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
tmf.init(ts);
SSLContext ssl = SSLContext.getInstance("TLSv1.2");
ssl.init(null, tmf.getTrustManagers(), null);
DeviceClient client = new DeviceClient(System.getenv("{var}"),
    IotHubClientProtocol.MQTT, ClientOptions.builder().sslContext(ssl).build());
client.open(true);
client.sendEvent(new Message({hello}));
client.close();
"#,
                var = CONNECTION_STRING_VAR,
                cs = self.sas_connection_string(),
                hello = quote::java(&format!("hello from {}", self.id)),
            ),
        }
    }

    fn mosquitto(&self, auth: DeviceAuth) -> String {
        let user = format!("{}/{}/?api-version=2021-04-12", self.hub, self.id);
        let credentials = match auth {
            DeviceAuth::X509 => {
                format!("--cert {} --key {}", shell(self.chain()), shell(self.key()))
            }
            DeviceAuth::Sas => "-P \"$IOTHUB_SAS_TOKEN\"".to_owned(),
        };
        let note = match auth {
            DeviceAuth::X509 => String::new(),
            DeviceAuth::Sas => format!(
                "# IOTHUB_SAS_TOKEN: a SAS token for {}/devices/{} (az iot hub generate-sas-token)\n",
                self.hub, self.id
            ),
        };
        format!(
            "{note}mosquitto_pub -h {gw} -p 8883 -V mqttv311 --cafile {root} {credentials} \\\n  -i {id} -u {user} \\\n  -t {topic} -q 1 -m {msg}\n",
            gw = shell(self.gw),
            root = shell(self.root()),
            id = shell(self.id),
            user = shell(&user),
            topic = shell(&format!("devices/{}/messages/events/", self.id)),
            msg = shell(&format!("hello from {}", self.id)),
        )
    }

    /// The device's certificate and key for thin-edge.io: named where they are when they are
    /// already where the device reads them (`placed`), else installed at thin-edge's paths.
    fn tedge_files(&self, placed: bool) -> String {
        let (cert, key, install) = if placed {
            (shell(self.chain()), shell(self.key()), String::new())
        } else {
            (
                TEDGE_CERT.to_owned(),
                TEDGE_KEY.to_owned(),
                format!(
                    "sudo install -m 644 {} {TEDGE_CERT}\n\
                     sudo install -m 600 -o tedge {} {TEDGE_KEY}\n",
                    shell(self.chain()),
                    shell(self.key())
                ),
            )
        };
        format!(
            "{install}sudo tedge config set device.cert_path {cert}\n\
             sudo tedge config set device.key_path {key}\n"
        )
    }

    /// thin-edge.io to Azure IoT Hub through the gateway.
    fn tedge(&self, auth: DeviceAuth, placed: bool) -> String {
        match auth {
            DeviceAuth::X509 => format!(
                "# thin-edge.io: this device's certificate and key, the gateway's root, then connect.\n\
                 {files}\
                 sudo tedge config set az.url {gw}\n\
                 sudo tedge config set az.root_cert_path {root}\n\
                 sudo tedge connect az\n",
                files = self.tedge_files(placed),
                gw = shell(self.gw),
                root = shell(self.root()),
            ),
            DeviceAuth::Sas => format!(
                "# thin-edge.io connects to Azure IoT with an X.509 certificate only: issue one with\n\
                 #   pki issue device {id}\n\
                 # then run `{guide}` again.\n",
                id = shell(self.id),
                guide = tedge_command(self.id),
            ),
        }
    }

    /// thin-edge.io to Cumulocity: the tenant trusts the device's self-signed certificate
    /// itself (`tedge cert upload c8y`, or `pki c8y upload`), or the CA that signed it (`pki c8y
    /// upload CA --prove`, with auto-registration: the device is created when it first
    /// connects); then the device's files, the tenant, and `tedge connect c8y`.
    fn tedge_c8y(&self, auth: DeviceAuth, c8y: &C8ySetup) -> String {
        if auth == DeviceAuth::Sas {
            return format!(
                "# thin-edge.io connects to Cumulocity with an X.509 certificate: make one with\n\
                 #   pki self-signed {id} --out-cert {TEDGE_CERT} --out-key {TEDGE_KEY}\n\
                 # (or `pki issue device {id}`), then run `{guide}` again.\n",
                id = shell(self.id),
                guide = tedge_command(self.id),
            );
        }
        let user = "--user \"$C8Y_USER\"";
        let mut s = String::new();
        if c8y.self_signed {
            s += "# thin-edge.io to Cumulocity with this device's self-signed certificate, which the tenant\n\
                  # trusts itself (the device is created when it first connects).\n";
        } else {
            s += &format!(
                "# thin-edge.io to Cumulocity with this device's CA-signed certificate: the tenant trusts the\n\
                 # CA that signed it, and creates the device when it first connects (auto-registration).\n\
                 pki c8y upload {ca} --prove --url {url} {user}\n",
                ca = shell(c8y.issuer.as_deref().unwrap_or_default()),
                url = shell(&c8y.url),
            );
        }
        s += &self.tedge_files(c8y.placed);
        s += &format!("sudo tedge config set c8y.url {}\n", shell(&c8y.host));
        if c8y.self_signed {
            s += &format!(
                "sudo tedge cert upload c8y {user}\n\
                 #   or, where pki runs:\n\
                 #   pki c8y upload {cert} --url {url} {user}\n",
                cert = shell(self.chain()),
                url = shell(&c8y.url),
            );
        }
        s += "sudo tedge connect c8y\n";
        if c8y.self_signed {
            s += &format!(
                "# Renewal: the tenant trusts the new certificate before it replaces the old one{where_}:\n\
                 #   pki renew {id} --c8y-upload --url {url} {user}\n\
                 #   sudo tedge reconnect c8y\n",
                id = shell(self.id),
                url = shell(&c8y.url),
                where_ = if c8y.placed {
                    " (in place)"
                } else {
                    " (then install the renewed files as above)"
                },
            );
        }
        s
    }
}
