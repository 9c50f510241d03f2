//! The quickstart's proof: the gateway's full chain, as the gateway would send it, checked
//! against the owner CA as a downstream device would check it.

use anyhow::Result;
use pki_core::{CaDir, CaRole, SanEntry};
use serde::Serialize;

/// The outcome of the proof.
#[derive(Debug, Serialize)]
pub(crate) struct Proof {
    pub(crate) ok: bool,
    pub(crate) summary: String,
    pub(crate) details: Vec<String>,
}

/// Checks the gateway server certificate's full chain against the owner CA: every link's
/// signature, the trust anchor, validity now, and that the certificate names `gateway`.
pub(crate) fn prove_gateway(ca: &CaDir, gateway: &str) -> Result<Proof> {
    let prefix = pki_core::server_prefix(gateway);
    let chain = pki_core::read_certs(&ca.full_chain_path(&prefix))?;
    let root = pki_core::read_certs(&ca.cert_path(&CaRole::Root.prefix()))?;
    let now = super::now();
    let mut details = Vec::new();
    let mut ok = true;
    let links = pki_core::chain_links(&chain);
    for (i, link) in links.iter().enumerate() {
        if let Some(good) = link {
            ok &= *good;
            details.push(format!(
                "depth {i}: {} {} by {}",
                chain[i].subject(),
                if *good { "signed" } else { "NOT signed" },
                chain[i + 1].subject()
            ));
        }
    }
    let anchored = chain.last() == root.first();
    ok &= anchored;
    details.push(format!(
        "the chain {} at the owner CA {}",
        if anchored { "ends" } else { "does NOT end" },
        root[0].subject()
    ));
    for c in &chain {
        let info = pki_core::inspect(c, now, time::Duration::ZERO);
        if info.status != pki_core::Status::Valid {
            ok = false;
            details.push(format!("{}: {}", info.subject, info.status_text));
        }
    }
    let leaf = pki_core::inspect(&chain[0], now, time::Duration::ZERO);
    let want = gateway.parse::<SanEntry>()?.to_string();
    let named = leaf
        .subject_alt_names
        .iter()
        .any(|s| s.eq_ignore_ascii_case(&want));
    ok &= named;
    details.push(format!(
        "the server certificate {} {want} (it carries {})",
        if named { "names" } else { "does NOT name" },
        leaf.subject_alt_names.join(", ")
    ));
    Ok(Proof {
        ok,
        summary: if ok {
            "verified OK".into()
        } else {
            "verification FAILED".into()
        },
        details,
    })
}
