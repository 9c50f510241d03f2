//! `pki quickstart`: the whole transparent-gateway PKI in one step (owner CA, intermediate,
//! IoT Edge device CA, gateway server certificate, one downstream device), where each file
//! goes, and a proof that the chain verifies.

use crate::args::key_type;
use anyhow::{Result, bail};
use clap::Args;
use pki_core::KeyType;
use pki_core::{
    CaDir, CaRole, Issued, Issuer, PrivateKey, Profile, Request, SanEntry, Subject, SubjectKey,
};
use serde::Serialize;

use super::GlobalContext;
use super::issue::server_sans;
use super::{IssueReport, now, write_issued};
use crate::messages;
use crate::output::{Outcome, Output};

/// `pki quickstart`.
#[derive(Debug, Args)]
#[command(after_long_help = concat!(
    "Creates the owner CA, an intermediate, an IoT Edge device CA, the gateway server\n",
    "certificate for HOST and one downstream device, then proves the chain with a verification.\n\n",
    "EXAMPLES:\n",
    "  pki quickstart --gateway gw.contoso.com\n",
    "  pki --dir /tmp/demo quickstart --gateway 192.168.1.10 --device sensor-1\n\n",
    "EXIT CODES:\n  0  success\n  1  the built chain did not verify\n  2  could not run"))]
pub(crate) struct QuickstartArgs {
    /// The gateway's host name (or IP) as downstream devices will connect to it.
    #[arg(long)]
    pub(crate) gateway: String,
    /// The downstream device to issue a certificate for.
    #[arg(long, default_value = "downstream-device-1")]
    pub(crate) device: String,
    /// The IoT Edge device CA's name (CN NAME.ca).
    #[arg(long, default_value = "edge-gateway")]
    pub(crate) edge_ca: String,
    /// Key type for every certificate.
    #[arg(long, default_value = "ec-p256", value_name = "TYPE", value_parser = key_type)]
    pub(crate) key_type: KeyType,
    /// Replace an existing PKI in the directory.
    #[arg(long)]
    pub(crate) force: bool,
}

#[derive(Serialize)]
struct QuickstartReport {
    gateway: String,
    device: String,
    certificates: Vec<IssueReport>,
    proof: super::prove::Proof,
}

/// `pki quickstart`.
pub(crate) fn run(ctx: &GlobalContext, a: QuickstartArgs, out: &Output) -> Result<Outcome> {
    let sans = server_sans(&a.gateway, &[])?;
    let gateway = sans[0].value();
    pki_core::validate_device_id(&a.device)?;
    pki_core::validate_device_id(&a.edge_ca)?;
    let edge_cn = pki_core::edge_ca_cn(&a.edge_ca);
    if edge_cn.eq_ignore_ascii_case(&gateway) || edge_cn.eq_ignore_ascii_case(&a.device) {
        bail!(
            "the edge CA's CN {edge_cn:?} must differ from the gateway hostname and the device id"
        );
    }
    let kt = a.key_type;
    let ca = super::create_ca(ctx)?;
    if ca.has(&CaRole::Root) && !a.force {
        return Err(pki_core::Error::Exists(ca.cert_path(&CaRole::Root.prefix())).into());
    }
    if a.force {
        // A fresh PKI: the certificates of the one it replaces are out of service.
        let mut register = ca.register()?;
        let mut tx = register.transaction()?;
        tx.supersede_all()?;
        tx.commit()?;
    } else {
        ca.check_name_free(&edge_cn, Profile::EdgeCa)?;
    }
    let t = now();
    let mut reports = Vec::new();
    let mut step = |prefix: &str,
                    profile: Profile,
                    subject: Subject,
                    sans: Vec<SanEntry>,
                    issuer: Option<(&Issuer, &str)>|
     -> Result<(PrivateKey, Issued)> {
        let key = PrivateKey::generate(kt)?;
        let mut req = Request::new(profile, subject, t);
        req.sans = sans;
        let issued = pki_core::issue(&req, &SubjectKey::Private(&key), issuer.map(|(i, _)| i))?;
        let label = issuer.map_or("self-signed", |(_, l)| l);
        reports.push(write_issued(
            &ca,
            prefix,
            profile,
            &issued,
            Some(&key),
            label,
            a.force,
        )?);
        Ok((key, issued))
    };
    let as_issuer = |(key, issued): (PrivateKey, Issued), name: &str| {
        Issuer::new(issued.chain, &key, name, name)
    };

    let root = as_issuer(
        step(
            &CaRole::Root.prefix(),
            Profile::RootCa { pathlen: None },
            Subject::cn("IoT Owner Root CA"),
            vec![],
            None,
        )?,
        "owner CA",
    )?;
    let inter = as_issuer(
        step(
            &CaRole::Intermediate.prefix(),
            Profile::IntermediateCa { pathlen: Some(1) },
            Subject::cn("IoT Intermediate CA"),
            vec![],
            Some((&root, "owner CA")),
        )?,
        "intermediate CA",
    )?;
    let edge = as_issuer(
        step(
            &CaRole::EdgeCa(a.edge_ca.clone()).prefix(),
            Profile::EdgeCa,
            Subject::cn(&edge_cn),
            vec![],
            Some((&inter, "intermediate CA")),
        )?,
        "edge CA",
    )?;
    step(
        &pki_core::server_prefix(&gateway),
        Profile::Server,
        Subject::cn(&gateway),
        sans,
        Some((&edge, "edge CA")),
    )?;
    step(
        &pki_core::device_prefix(&a.device),
        Profile::Device,
        Subject::cn(&a.device),
        vec![],
        Some((&inter, "intermediate CA")),
    )?;

    let proof = super::prove::prove_gateway(&ca, &gateway)?;
    let ok = proof.ok;
    for w in reports.iter().flat_map(|r| &r.warnings) {
        messages::warning(w);
    }
    let report = QuickstartReport {
        gateway: gateway.clone(),
        device: a.device.clone(),
        certificates: reports,
        proof,
    };
    out.emit(&report, || guide(&ca, &report, &a.edge_ca))?;
    Ok(if ok {
        Outcome::Success
    } else {
        Outcome::Negative
    })
}

fn guide(ca: &CaDir, r: &QuickstartReport, edge: &str) -> String {
    let p = |path: std::path::PathBuf| path.display().to_string();
    let root = p(ca.cert_path(&CaRole::Root.prefix()));
    let inter = p(ca.cert_path(&CaRole::Intermediate.prefix()));
    let edge_prefix = CaRole::EdgeCa(edge.to_owned()).prefix();
    let edge_chain = p(ca.full_chain_path(&edge_prefix));
    let edge_key = p(ca.key_path(&edge_prefix));
    let server_prefix = pki_core::server_prefix(&r.gateway);
    let dev_prefix = pki_core::device_prefix(&r.device);
    let mut s = String::from("Built a gateway PKI:\n");
    for c in &r.certificates {
        s += &format!(
            "  {:<18} {}  (issued by {})\n",
            c.profile, c.subject, c.issued_by
        );
    }
    let edge_chain_name = format!("{edge_prefix}-full-chain.cert.pem");
    let edge_key_name = format!("{edge_prefix}.key.pem");
    s += &format!(
        "
Where each file goes:

  Azure IoT Hub (Certificates > Add, then verify it, or use `pki create-verification-cert`):
    {root}
      the owner CA; register it (or the intermediate, {inter}) so that devices whose
      certificates it issued can authenticate with X.509.

  IoT Edge gateway {gw}: copy certificates to /var/aziot/certs (644) and keys to
  /var/aziot/secrets (600), then in /etc/aziot/config.toml:
    hostname = \"{gw}\"
    trust_bundle_cert = \"file:///var/aziot/certs/{root_name}\"
    [edge_ca]
    cert = \"file:///var/aziot/certs/{edge_chain_name}\"      <- {edge_chain}
    pk = \"file:///var/aziot/secrets/{edge_key_name}\"          <- {edge_key}
  and run `sudo iotedge config apply`. edgeHub then serves a certificate for {gw} issued by the edge CA.
  For a non-IoT-Edge broker (mosquitto) or a test server, use
    {server_chain} with {server_key}

  Downstream device {dev}:
    trusts      {root}   (install it in the device's trust store)
    presents    {dev_chain} with key {dev_key}
    connects to {gw}:8883; what to write for its SDK or client, with these paths:
      {guide}
    (the C SDK takes HostName=<your-hub>.azure-devices.net;DeviceId={dev};x509=true;GatewayHostName={gw};
    Python and Node.js need the X.509 calls the guide prints, not that string)
",
        gw = r.gateway,
        dev = r.device,
        root_name = CaRole::Root.prefix() + ".cert.pem",
        server_chain = p(ca.full_chain_path(&server_prefix)),
        server_key = p(ca.key_path(&server_prefix)),
        dev_chain = p(ca.full_chain_path(&dev_prefix)),
        dev_key = p(ca.key_path(&dev_prefix)),
        guide = super::guide::command(&r.device),
    );
    s += &format!("\nProof: {}\n", r.proof.summary);
    for line in &r.proof.details {
        s += &format!("  {line}\n");
    }
    s
}
