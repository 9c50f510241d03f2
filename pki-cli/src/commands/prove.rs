//! The quickstart's proof: the new gateway certificate is served on a loopback port for a
//! moment, and probed and verified exactly as `pki verify` does it for a downstream device that
//! trusts the owner CA.

use std::time::Duration;

use anyhow::{Context, Result};
use pki_core::{CaDir, CaRole};
use pki_verify::{Client, GatewayRequest, NameToCheck, OneShotServer};
use serde::Serialize;

/// The outcome of the proof.
#[derive(Debug, Serialize)]
pub(crate) struct Proof {
    pub(crate) ok: bool,
    pub(crate) summary: String,
    pub(crate) details: Vec<String>,
}

/// Serves the gateway's full chain on 127.0.0.1 and verifies it as a device that trusts the
/// owner CA and connects to `gateway` would.
pub(crate) fn prove_gateway(ca: &CaDir, gateway: &str) -> Result<Proof> {
    let prefix = pki_core::server_prefix(gateway);
    let chain: Vec<Vec<u8>> = pki_core::read_certs(&ca.full_chain_path(&prefix))?
        .iter()
        .map(|c| c.der().to_vec())
        .collect();
    let key = super::read_key(&ca.key_path(&prefix), &Default::default())?;
    let root: Vec<Vec<u8>> = pki_core::read_certs(&ca.cert_path(&CaRole::Root.prefix()))?
        .iter()
        .map(|c| c.der().to_vec())
        .collect();
    let timeout = Duration::from_secs(5);
    let server = OneShotServer::start(chain, key.pkcs8_der().to_vec(), timeout)
        .map_err(|e| anyhow::anyhow!("cannot serve the gateway certificate on loopback: {e}"))?;
    let name = NameToCheck::parse(gateway);
    // The same check `pki verify` makes, as a device that trusts the owner CA.
    let checked = pki_verify::check_gateway(&GatewayRequest {
        host: server.addr().ip().to_string(),
        port: server.addr().port(),
        servername: matches!(name, NameToCheck::Dns(_)).then(|| gateway.to_owned()),
        expected_name: Some(name),
        alpn: Vec::new(),
        client_auth: None,
        timeout,
        anchors: root,
        anchors_label: "the owner CA".to_owned(),
        at: super::now(),
        auth_level: None,
        purpose: None,
        client: Client::Both,
        connection_string: None,
        revocation: None,
    })
    .context("cannot reach the loopback gateway")?;
    drop(server);
    let Some(probe) = &checked.tls else {
        anyhow::bail!("the loopback gateway was not probed");
    };
    let Some(report) = &checked.verification else {
        anyhow::bail!(
            "the loopback gateway sent no certificate{}",
            probe
                .handshake_error
                .as_ref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        );
    };
    let ok = checked.accepted;
    let mut details = vec![
        format!(
            "served the gateway certificate on {} and connected as a downstream device of {gateway} ({}, {} certificates sent)",
            server_addr(probe),
            probe.tls_version.as_deref().unwrap_or("no TLS"),
            probe.chain.len()
        ),
        format!(
            "OpenSSL:  Verify return code: {} ({})",
            report.openssl.code, report.openssl.text
        ),
        format!(
            "rustls:   {}",
            if report.webpki.is_ok() {
                "OK".to_owned()
            } else {
                format!("{:?}", report.webpki)
            }
        ),
    ];
    if !ok {
        details.push(report.diagnosis.explain());
    }
    Ok(Proof {
        ok,
        summary: if ok {
            "verified OK".into()
        } else {
            "NOT verified".into()
        },
        details,
    })
}

fn server_addr(p: &pki_verify::ProbeReport) -> String {
    p.connected_to.to_string()
}
