//! Keys on PKCS#11 tokens, as the commands use them: the module (`--pkcs11-module`,
//! `PKI_PKCS11_MODULE`, or the URI's module-path), the PIN (the URI's pin-source file,
//! `PKI_PKCS11_PIN`, or a prompt; never a flag value, tried once), and `pki hsm list-tokens` /
//! `list-keys`.

use crate::args::pkcs11_uri;
use crate::env;
use clap::Subcommand;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Result;
use pki_core::KeyType;
use pki_pkcs11::{LoggedIn, Module, PinSource, Pkcs11Uri, TokenKey};
use serde::Serialize;
use zeroize::Zeroizing;

use super::GlobalContext;
use crate::output::{Outcome, Output, fields};

/// `pki hsm ...`.
#[derive(Debug, Subcommand)]
// Parsed once per run: the size of a URI in one variant costs nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum HsmCommand {
    /// List the tokens the PKCS#11 module sees.
    #[command(after_long_help = concat!(
        "EXAMPLES:\n",
        "  pki hsm list-tokens --pkcs11-module /usr/lib/softhsm/libsofthsm2.so\n\n",
        "EXIT CODES:\n  0  success\n  2  could not run (no module, a module that does not load)"))]
    ListTokens,
    /// List the private keys on a token (logs in: PIN from the URI's pin-source, PKI_PKCS11_PIN
    /// or a prompt).
    #[command(after_long_help = concat!(
        "EXAMPLES:\n",
        "  pki hsm list-keys 'pkcs11:token=pki?pin-source=file:/run/pki/pin'\n\n",
        "EXIT CODES:\n  0  success\n  2  could not run (no such token, a wrong PIN)"))]
    ListKeys {
        /// The token: `pkcs11:token=LABEL`.
        #[arg(value_parser = pkcs11_uri)]
        token: pki_pkcs11::Pkcs11Uri,
    },
}

/// The environment variable a PIN may come from.
const PIN_VAR: &str = env::PKI_PKCS11_PIN;

/// The modules loaded so far, by path. Process-global on purpose: a PKCS#11 module's state
/// (its initialisation, sessions and logins) belongs to the process, not to a command, so it is
/// initialised once and every use of the same module in the process shares that one load (a
/// second load would find it already initialised, and finalising either would end both).
/// Which module a key uses is not global: it comes from the URI's module-path= or the
/// command's [`GlobalContext`].
static LOADED: Mutex<Vec<Module>> = Mutex::new(Vec::new());

/// The URI a `--key` value holds, when it is one rather than a file name.
pub(crate) fn uri_of(key: &Path) -> Result<Option<Pkcs11Uri>> {
    match key.to_str().filter(|s| Pkcs11Uri::is_uri(s)) {
        Some(s) => Ok(Some(Pkcs11Uri::parse(s)?)),
        None => Ok(None),
    }
}

/// The module `uri` is served by (its module-path=, else `ctx`'s `--pkcs11-module`), loaded
/// once.
fn module(ctx: &GlobalContext, uri: &Pkcs11Uri) -> Result<Module> {
    let path = uri
        .module_path
        .clone()
        .or_else(|| ctx.pkcs11_module.clone())
        .ok_or(pki_pkcs11::Error::NoModule)?;
    let mut loaded = LOADED
        .lock()
        .map_err(|_| anyhow::anyhow!("a module load panicked"))?;
    if let Some(m) = loaded.iter().find(|m| m.path() == path) {
        return Ok(m.clone());
    }
    let m = Module::load(&path)?;
    loaded.push(m.clone());
    Ok(m)
}

/// The PIN for `token`: the URI's pin-source file (first line), else `PKI_PKCS11_PIN`, else
/// a prompt on the terminal.
fn pin(uri: &Pkcs11Uri, token: &str) -> Result<Zeroizing<String>> {
    if let Some(PinSource::File(path)) = &uri.pin_source {
        return super::first_line_of(path, "PIN file");
    }
    if let Ok(p) = std::env::var(PIN_VAR) {
        return Ok(Zeroizing::new(p));
    }
    if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        return Ok(Zeroizing::new(rpassword::prompt_password(format!(
            "PIN for token {token}: "
        ))?));
    }
    anyhow::bail!(
        "no PIN for token {token:?}: add ?pin-source=file:PATH to the URI, set {PIN_VAR}, or run on a terminal"
    )
}

/// The token `uri` names, logged in.
fn login(ctx: &GlobalContext, uri: &Pkcs11Uri) -> Result<LoggedIn> {
    let token = module(ctx, uri)?.token(uri)?;
    let pin = pin(uri, &token.info().label)?;
    Ok(token.login(&pin)?)
}

/// The key `uri` names, ready to sign.
pub(crate) fn open_key(ctx: &GlobalContext, uri: &Pkcs11Uri) -> Result<Arc<TokenKey>> {
    check(ctx, uri)?;
    Ok(Arc::new(login(ctx, uri)?.key(uri)?))
}

/// Checks, before anything is written, that `uri` names a key and its module loads.
pub(crate) fn check(ctx: &GlobalContext, uri: &Pkcs11Uri) -> Result<()> {
    if !uri.names_object() {
        return Err(pki_pkcs11::Error::NoObject {
            uri: uri.to_string(),
        }
        .into());
    }
    module(ctx, uri).map(|_| ())
}

/// A new key of `key_type` generated on the token, as `uri` names it.
pub(crate) fn generate(
    ctx: &GlobalContext,
    uri: &Pkcs11Uri,
    key_type: KeyType,
) -> Result<Arc<TokenKey>> {
    check(ctx, uri)?;
    Ok(Arc::new(login(ctx, uri)?.generate(uri, key_type)?))
}

#[derive(Debug, Serialize)]
struct TokenRow {
    slot: u64,
    label: String,
    manufacturer: String,
    model: String,
    serial: String,
    uri: String,
}

#[derive(Debug, Serialize)]
struct KeyRow {
    label: String,
    id: String,
    key_type: Option<String>,
    sensitive: bool,
    extractable: bool,
    uri: String,
}

/// `pki hsm ...`.
pub(crate) fn run(ctx: &GlobalContext, c: HsmCommand, out: &Output) -> Result<Outcome> {
    match c {
        HsmCommand::ListTokens => {
            let m = module(ctx, &Pkcs11Uri::default())?;
            let rows: Vec<TokenRow> = m
                .tokens()?
                .into_iter()
                .map(|t| TokenRow {
                    uri: t.uri().to_string(),
                    slot: t.slot,
                    label: t.label,
                    manufacturer: t.manufacturer,
                    model: t.model,
                    serial: t.serial,
                })
                .collect();
            out.emit(&rows, || {
                rows.iter()
                    .map(|t| {
                        format!("{}\n", t.label)
                            + &fields(&[
                                ("  slot", t.slot.to_string()),
                                ("  manufacturer", t.manufacturer.clone()),
                                ("  model", t.model.clone()),
                                ("  serial", t.serial.clone()),
                                ("  uri", t.uri.clone()),
                            ])
                    })
                    .collect()
            })?;
        }
        HsmCommand::ListKeys { token } => {
            let keys = login(ctx, &token)?.keys()?;
            let rows: Vec<KeyRow> = keys
                .into_iter()
                .map(|k| KeyRow {
                    uri: Pkcs11Uri {
                        object: Some(k.label.clone()),
                        id: Some(k.id.clone()),
                        pin_source: None,
                        ..token.clone()
                    }
                    .to_string(),
                    id: pki_core::hex_upper(&k.id),
                    key_type: k.key_type.map(|t| t.to_string()),
                    label: k.label,
                    sensitive: k.sensitive,
                    extractable: k.extractable,
                })
                .collect();
            out.emit(&rows, || {
                rows.iter()
                    .map(|k| {
                        format!("{}\n", k.label)
                            + &fields(&[
                                ("  id", k.id.clone()),
                                (
                                    "  key type",
                                    k.key_type.clone().unwrap_or_else(|| "unsupported".into()),
                                ),
                                (
                                    "  protection",
                                    format!(
                                        "{}, {}",
                                        if k.sensitive {
                                            "sensitive"
                                        } else {
                                            "NOT sensitive"
                                        },
                                        if k.extractable {
                                            "EXTRACTABLE"
                                        } else {
                                            "never leaves the token"
                                        }
                                    ),
                                ),
                                ("  uri", k.uri.clone()),
                            ])
                    })
                    .collect()
            })?;
        }
    }
    Ok(Outcome::Success)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// The module a check tried to load, or `None` when it had none to load.
    fn module_tried(ctx: &GlobalContext, uri: &str) -> Option<PathBuf> {
        let uri = Pkcs11Uri::parse(uri).unwrap();
        let err = check(ctx, &uri).unwrap_err();
        match err.downcast_ref::<pki_pkcs11::Error>() {
            Some(pki_pkcs11::Error::NoModule) => None,
            Some(pki_pkcs11::Error::Module { path, .. }) => Some(path.clone()),
            other => panic!("unexpected error {other:?}: {err:#}"),
        }
    }

    #[test]
    fn each_context_brings_its_own_module() {
        let dir = tempfile::tempdir().unwrap();
        let key = "pkcs11:token=pki;object=ca";
        assert_eq!(module_tried(&GlobalContext::default(), key), None);
        // Two contexts in one process, one after the other: each is served by its own module,
        // and one without a module has none, whatever the others had.
        for name in ["a.so", "b.so"] {
            let ctx = GlobalContext {
                pkcs11_module: Some(dir.path().join(name)),
                ..GlobalContext::default()
            };
            assert_eq!(module_tried(&ctx, key), Some(dir.path().join(name)));
        }
        assert_eq!(module_tried(&GlobalContext::default(), key), None);
        // A URI's module-path= overrides the context's.
        let ctx = GlobalContext {
            pkcs11_module: Some(dir.path().join("a.so")),
            ..GlobalContext::default()
        };
        let own = dir.path().join("own.so");
        let uri = format!("{key}?module-path={}", own.display());
        assert_eq!(module_tried(&ctx, &uri), Some(own));
    }
}
