//! `pki guide DEVICE_ID --sdk ...`: what to write on a device for one Azure IoT device SDK (Python,
//! Node.js, C, .NET, Java) or MQTT client (mosquitto, thin-edge), with the CA directory's real
//! paths, for a device that authenticates with its X.509 certificate or with a shared access key.
//!
//! The Python and Node.js snippets are programs that run as printed (tests/e2e/sdk.rs runs them
//! with the real SDKs through a mosquitto gateway). They use what each SDK needs to reach a
//! gateway: Python's `create_from_x509_certificate(..., gateway_hostname=...)` (its connection
//! string parser refuses `x509=true`), Node's `X509AuthenticationProvider` with
//! `gatewayHostName` (its connection string path drops the gateway for X.509), and an explicit
//! trusted root for both (neither reads the OS store).

use anyhow::{Result, bail};
use pki_core::{CaDir, CaRole};
use serde::Serialize;

use super::Home;
use crate::cli::{DeviceAuth, GuideArgs, Sdk};
use crate::output::{Outcome, Output};

/// The SDKs and clients `pki guide` writes for, as `--sdk` takes them.
pub(crate) const SDKS: &str = "python|node|c|dotnet|java|mosquitto|tedge";

/// The environment variable the SAS snippets read the device's connection string from (the name
/// Microsoft's samples use).
const CONNECTION_STRING_VAR: &str = "IOTHUB_DEVICE_CONNECTION_STRING";

/// The `pki guide` command that prints a device's snippets (what `issue device` and
/// `quickstart` point at).
pub(crate) fn command(device_id: &str) -> String {
    format!("pki guide {device_id} --sdk {SDKS}")
}

/// What `pki guide` prints, as data.
#[derive(Serialize)]
struct Guide {
    device: String,
    sdk: Sdk,
    auth: DeviceAuth,
    hub: String,
    gateway: String,
    files: Files,
    /// The snippet or configuration block, as printed.
    snippet: String,
}

/// The device's files: the root it trusts and, for X.509, its certificate chain and key.
#[derive(Serialize, Clone)]
struct Files {
    root: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    chain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
}

/// `pki guide`.
pub(crate) fn run(dir: &Home, a: GuideArgs, out: &Output) -> Result<Outcome> {
    pki_core::validate_device_id(&a.device_id)?;
    let ca = super::open_ca(dir)?;
    // Absolute paths: a snippet works from whatever directory the device's program runs in.
    let show = |p: std::path::PathBuf| std::path::absolute(&p).unwrap_or(p).display().to_string();
    let prefix = pki_core::device_prefix(&a.device_id);
    let has_cert = ca.full_chain_path(&prefix).is_file();
    let auth = a.auth.unwrap_or(if has_cert {
        DeviceAuth::X509
    } else {
        DeviceAuth::Sas
    });
    if auth == DeviceAuth::X509 && !has_cert {
        bail!(
            "no certificate for device {} in {}: issue one with `pki issue device {}`, or use --auth sas",
            a.device_id,
            ca.path().display(),
            a.device_id
        );
    }
    let gateway = match a.gateway {
        Some(g) => g,
        None => only_gateway(&ca)?,
    };
    let files = Files {
        root: show(ca.cert_path(&CaRole::Root.prefix())),
        chain: (auth == DeviceAuth::X509).then(|| show(ca.full_chain_path(&prefix))),
        key: (auth == DeviceAuth::X509).then(|| show(ca.key_path(&prefix))),
    };
    let s = Snippet {
        id: &a.device_id,
        hub: &a.hub,
        gw: &gateway,
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
        (Sdk::Tedge, _) => s.tedge(auth),
    };
    let guide = Guide {
        device: a.device_id.clone(),
        sdk: a.sdk,
        auth,
        hub: a.hub.clone(),
        gateway,
        files,
        snippet,
    };
    out.emit(&guide, || guide.snippet.clone())?;
    Ok(Outcome::Success)
}

/// The gateway host of the directory's one gateway server certificate in service.
fn only_gateway(ca: &CaDir) -> Result<String> {
    let hosts: Vec<String> = ca
        .gateways()?
        .into_iter()
        .map(|r| r.common_name)
        .collect();
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

/// A string literal for Python or JavaScript (JSON's escaping is valid in both).
fn lit(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
}

/// A word for a POSIX shell.
fn sh(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-:=@+,".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
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

    /// The SAS connection string's shape (its key stays out of every file pki writes).
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
            root = lit(&self.files.root),
            chain = lit(self.chain()),
            key = lit(self.key()),
            hub = lit(self.hub),
            id = lit(self.id),
            gw = lit(self.gw),
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
            root = lit(&self.files.root),
            id = lit(self.id),
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
            hub = lit(self.hub),
            id = lit(self.id),
            gw = lit(self.gw),
            chain = lit(self.chain()),
            key = lit(self.key()),
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
            root = lit(&self.files.root),
            id = lit(self.id),
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
                    self.chain(),
                    self.key()
                ),
            ),
            DeviceAuth::Sas => (self.sas_connection_string(), String::new()),
        };
        format!(
            r#"/* Azure IoT C SDK (iothub_device_client_ll.h, iothubtransportmqtt.h): the strings hold the
   files' PEM text. */
static const char* connection_string = "{cs}";
IOTHUB_DEVICE_CLIENT_LL_HANDLE client =
    IoTHubDeviceClient_LL_CreateFromConnectionString(connection_string, MQTT_Protocol);
IoTHubDeviceClient_LL_SetOption(client, OPTION_TRUSTED_CERT, trusted_root);       /* {root} */
{options}"#,
            root = self.files.root,
        )
    }

    fn dotnet(&self, auth: DeviceAuth) -> String {
        match auth {
            DeviceAuth::X509 => format!(
                r#"// dotnet add package Microsoft.Azure.Devices.Client
// The device identity as a PFX (Windows needs one):
//   pki export {chain} --p12 {id}.pfx --chain --password-env PFX_PASSWORD
// Trust the root: `pki install-ca {root} --os-store` (Linux: OpenSSL's store; Windows: LocalMachine\Root).
using System.Security.Cryptography.X509Certificates;
using Microsoft.Azure.Devices.Client;

using var cert = new X509Certificate2("{id}.pfx", Environment.GetEnvironmentVariable("PFX_PASSWORD"));
var auth = new DeviceAuthenticationWithX509Certificate("{id}", cert);
using var client = DeviceClient.Create("{hub}", "{gw}", auth, TransportType.Mqtt);
await client.OpenAsync();
await client.SendEventAsync(new Message(System.Text.Encoding.UTF8.GetBytes("hello from {id}")));
"#,
                chain = sh(self.chain()),
                id = self.id,
                root = sh(&self.files.root),
                hub = self.hub,
                gw = self.gw,
            ),
            DeviceAuth::Sas => format!(
                r#"// dotnet add package Microsoft.Azure.Devices.Client
// {var}={cs}
// Trust the root: `pki install-ca {root} --os-store` (Linux: OpenSSL's store; Windows: LocalMachine\Root).
using Microsoft.Azure.Devices.Client;

using var client = DeviceClient.CreateFromConnectionString(
    Environment.GetEnvironmentVariable("{var}"), TransportType.Mqtt);
await client.OpenAsync();
await client.SendEventAsync(new Message(System.Text.Encoding.UTF8.GetBytes("hello from {id}")));
"#,
                var = CONNECTION_STRING_VAR,
                cs = self.sas_connection_string(),
                root = sh(&self.files.root),
                id = self.id,
            ),
        }
    }

    fn java(&self, auth: DeviceAuth) -> String {
        let trust = format!(
            "//   pki export {root} --truststore truststore.p12 --password-env STORE_PASSWORD\n",
            root = sh(&self.files.root)
        );
        match auth {
            DeviceAuth::X509 => format!(
                r#"// Maven: com.microsoft.azure.sdk.iot:iot-device-client. A keystore and a truststore for JSSE:
//   pki export {chain} --p12 {id}.p12 --chain --password-env STORE_PASSWORD
{trust}char[] pw = System.getenv("STORE_PASSWORD").toCharArray();
KeyStore ks = KeyStore.getInstance("PKCS12");
ks.load(new FileInputStream("{id}.p12"), pw);
KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
kmf.init(ks, pw);
KeyStore ts = KeyStore.getInstance("PKCS12");
ts.load(new FileInputStream("truststore.p12"), pw);
TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
tmf.init(ts);
SSLContext ssl = SSLContext.getInstance("TLSv1.2");
ssl.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
DeviceClient client = new DeviceClient(
    "HostName={hub};DeviceId={id};x509=true;GatewayHostName={gw}",
    IotHubClientProtocol.MQTT, ClientOptions.builder().sslContext(ssl).build());
client.open(true);
client.sendEvent(new Message("hello from {id}"));
client.close();
"#,
                chain = sh(self.chain()),
                id = self.id,
                hub = self.hub,
                gw = self.gw,
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
client.sendEvent(new Message("hello from {id}"));
client.close();
"#,
                var = CONNECTION_STRING_VAR,
                cs = self.sas_connection_string(),
                id = self.id,
            ),
        }
    }

    fn mosquitto(&self, auth: DeviceAuth) -> String {
        let user = format!("{}/{}/?api-version=2021-04-12", self.hub, self.id);
        let credentials = match auth {
            DeviceAuth::X509 => format!("--cert {} --key {}", sh(self.chain()), sh(self.key())),
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
            gw = sh(self.gw),
            root = sh(&self.files.root),
            id = sh(self.id),
            user = sh(&user),
            topic = sh(&format!("devices/{}/messages/events/", self.id)),
            msg = sh(&format!("hello from {}", self.id)),
        )
    }

    fn tedge(&self, auth: DeviceAuth) -> String {
        match auth {
            DeviceAuth::X509 => format!(
                "# thin-edge.io: this device's certificate and key, the gateway's root, then connect.\n\
                 sudo install -m 644 {chain} /etc/tedge/device-certs/tedge-certificate.pem\n\
                 sudo install -m 600 -o tedge {key} /etc/tedge/device-certs/tedge-private-key.pem\n\
                 sudo tedge config set az.url {gw}\n\
                 sudo tedge config set az.root_cert_path {root}\n\
                 sudo tedge connect az\n",
                chain = sh(self.chain()),
                key = sh(self.key()),
                gw = sh(self.gw),
                root = sh(&self.files.root),
            ),
            DeviceAuth::Sas => format!(
                "# thin-edge.io connects to Azure IoT with an X.509 certificate only: issue one with\n\
                 #   pki issue device {id}\n\
                 # then run `pki guide {id} --sdk tedge` again.\n",
                id = self.id
            ),
        }
    }
}
