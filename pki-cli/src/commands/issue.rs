//! `pki issue server`, `pki issue device`, `pki create-verification-cert` and `pki self-signed`:
//! the end-entity certificates of the gateway PKI.

use anyhow::{Context, Result, bail};
use pki_core::{
    CaDir, Placement, PrivateKey, Profile, SanEntry, Subject, SubjectKey, VERIFICATION_CODE_RULE,
    is_verification_code,
};

use super::Home;
use super::{IssueReport, choose_issuer, issue_with_new_key, request};
use crate::cli::{DeviceArgs, SelfSignedArgs, ServerArgs, VerificationArgs};
use crate::output::{Outcome, Output};

/// The SANs of a server certificate: HOST first, then every --san, without repeats.
pub(crate) fn server_sans(host: &str, extra: &[String]) -> Result<Vec<SanEntry>> {
    let mut sans: Vec<SanEntry> = Vec::new();
    for name in std::iter::once(host).chain(extra.iter().map(String::as_str)) {
        let san: SanEntry = name.parse()?;
        if !sans.contains(&san) {
            sans.push(san);
        }
    }
    Ok(sans)
}

/// `pki issue server`.
pub(crate) fn server(dir: &Home, a: ServerArgs, out: &Output) -> Result<Outcome> {
    let sans = server_sans(&a.host, &a.sans)?;
    let host = sans[0].value();
    let ca = super::open_ca(dir)?;
    ca.check_name_free(&host, Profile::Server)?;
    let chosen = choose_issuer(&ca, &a.issuer, Profile::Server)?;
    let mut req = request(Profile::Server, Subject::cn(&host), &a.key_opts);
    req.sans = sans;
    let prefix = pki_core::server_prefix(&host);
    issue_with_new_key(&ca, &prefix, req, &a.key_opts, None, Some(&chosen), out)
}

/// `pki issue device`.
pub(crate) fn device(dir: &Home, a: DeviceArgs, out: &Output) -> Result<Outcome> {
    let Some(device_id) = a.device_id.clone() else {
        return super::batch::run(dir, a, out);
    };
    pki_core::validate_device_id(&device_id)?;
    let ca = super::open_ca(dir)?;
    ca.check_name_free(&device_id, Profile::Device)?;
    let chosen = choose_issuer(&ca, &a.issuer, Profile::Device)?;
    let req = request(Profile::Device, Subject::cn(&device_id), &a.key_opts);
    let prefix = pki_core::device_prefix(&device_id);
    issue_with_new_key(&ca, &prefix, req, &a.key_opts, None, Some(&chosen), out)
}

/// `pki create-verification-cert`.
pub(crate) fn verification(dir: &Home, a: VerificationArgs, out: &Output) -> Result<Outcome> {
    let code = a.code.trim();
    if !is_verification_code(code) {
        bail!("{code:?} is not a verification code: expected {VERIFICATION_CODE_RULE}");
    }
    let ca = super::open_ca(dir)?;
    let chosen = choose_issuer(&ca, &a.issuer, Profile::Verification)?;
    let req = request(Profile::Verification, Subject::cn(code), &a.key_opts);
    issue_with_new_key(
        &ca,
        pki_core::VERIFICATION_PREFIX,
        req,
        &a.key_opts,
        None,
        Some(&chosen),
        out,
    )
}

/// `pki self-signed`.
pub(crate) fn self_signed(dir: &Home, a: SelfSignedArgs, out: &Output) -> Result<Outcome> {
    pki_core::validate_device_id(&a.device_id)?;
    if a.device_id.len() > 64 {
        bail!(
            "{:?} is longer than 64 characters, the most a certificate CN can hold",
            a.device_id
        );
    }
    let subject = Subject {
        common_name: a.device_id.clone(),
        organization: Some(a.org).filter(|s| !s.is_empty()),
        organizational_unit: Some(a.unit).filter(|s| !s.is_empty()),
    };
    let req = request(Profile::SelfSignedDevice, subject, &a.key_opts);
    if let (Some(cert_path), Some(key_path)) = (&a.out_cert, &a.out_key) {
        // Recorded in the CA directory's register at the absolute path written (renewed there,
        // in place), with where its key is.
        let at = Placement {
            cert: std::path::absolute(cert_path).unwrap_or_else(|_| cert_path.clone()),
            key: std::path::absolute(key_path).unwrap_or_else(|_| key_path.clone()),
        };
        if at.cert == at.key {
            bail!(
                "--out-cert and --out-key name the same file ({}): the key needs a file of its own",
                at.cert.display()
            );
        }
        CaDir::check_free(&[&at.cert, &at.key], a.key_opts.force)?;
        let ca = super::create_ca(dir)?;
        let key = PrivateKey::generate(a.key_opts.key_type)?;
        let issued = pki_core::issue(&req, &SubjectKey::Private(&key), None)?;
        for p in [&at.cert, &at.key] {
            if let Some(parent) = p.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create {}", parent.display()))?;
            }
        }
        let key_pem = zeroize::Zeroizing::new(key.to_pem());
        let (files, _) = ca.write_placed(
            &issued,
            key_pem.as_bytes(),
            &at,
            Profile::SelfSignedDevice,
            a.key_opts.force,
        )?;
        let report = IssueReport::new(Profile::SelfSignedDevice, &issued, "self-signed", files);
        report.emit(out)?;
        return Ok(Outcome::Success);
    }
    let ca = super::create_ca(dir)?;
    let prefix = pki_core::device_prefix(&a.device_id);
    issue_with_new_key(&ca, &prefix, req, &a.key_opts, None, None, out)
}
