//! How a lot is run ([`Options`]): where each device's files go ([`Layout`]), the manifest, the
//! key type and validity, what to do with files the batch did not create, when to stop, and
//! how many worker threads issue.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use pki_core::{CaDir, KeyType};

/// Where the files of each device go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// The CA directory's `certs/` and `private/`, with certGen.sh names
    /// (`iot-device-<id>.cert.pem`, `-full-chain.cert.pem`, `.key.pem`).
    CaDir,
    /// `DIR/<device id>/{cert.pem, key.pem, full-chain.pem}`; the batch's own files
    /// (manifest, lock, journal) go to `DIR` too.
    Folders(PathBuf),
}

/// What to do with a key or certificate at a device's paths that the batch did not create.
/// What a cut write leaves (an empty file, a PEM begun and never ended) holds neither, and is
/// replaced either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Existing {
    /// Leave it as it is: the device is a rejected line ([`crate::Reason::Exists`]).
    #[default]
    Keep,
    /// Replace it.
    Replace,
}

/// What to do after a rejected line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnReject {
    /// Report it and go on with the rest of the lot.
    #[default]
    Continue,
    /// Stop there: nothing after it is issued.
    Stop,
}

/// How to run a lot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Where the files of each device go.
    pub layout: Layout,
    /// The manifest (one JSON line per complete device); `None`: `manifest.jsonl` in the
    /// output directory (the CA directory, or the [`Layout::Folders`] directory).
    pub manifest: Option<PathBuf>,
    /// The type of every device key.
    pub key_type: KeyType,
    /// The validity of every certificate, in days, unless its CSV line gives `days`; `None`:
    /// the device profile's default.
    pub days: Option<u32>,
    /// Keys and certificates the batch did not create.
    pub existing: Existing,
    /// After a rejected line.
    pub on_reject: OnReject,
    /// Worker threads; `None`: one per core.
    pub jobs: Option<NonZeroUsize>,
    /// The CRL distribution point every certificate carries, if any.
    pub crl_url: Option<String>,
}

impl Options {
    /// Options with `layout` and the defaults: EC P-256 keys, the profile's validity, files the
    /// batch did not create kept, rejected lines reported and the lot going on, every core.
    pub fn new(layout: Layout) -> Options {
        Options {
            layout,
            manifest: None,
            key_type: KeyType::default(),
            days: None,
            existing: Existing::Keep,
            on_reject: OnReject::Continue,
            jobs: None,
            crl_url: None,
        }
    }
}

/// The paths of one device's files.
pub(crate) struct Paths {
    pub(crate) key: PathBuf,
    pub(crate) cert: PathBuf,
    pub(crate) chain: PathBuf,
    /// The device's folder ([`Layout::Folders`]).
    pub(crate) dir: Option<PathBuf>,
}

impl Layout {
    pub(crate) fn paths(&self, ca: &CaDir, id: &str) -> Paths {
        match self {
            Layout::CaDir => {
                let p = pki_core::device_prefix(id);
                Paths {
                    key: ca.key_path(&p),
                    cert: ca.cert_path(&p),
                    chain: ca.full_chain_path(&p),
                    dir: None,
                }
            }
            Layout::Folders(root) => {
                let d = root.join(id);
                Paths {
                    key: d.join("key.pem"),
                    cert: d.join("cert.pem"),
                    chain: d.join("full-chain.pem"),
                    dir: Some(d),
                }
            }
        }
    }

    /// The directory of the batch's own files (lock, journal, default manifest).
    pub(crate) fn home<'a>(&'a self, ca: &'a CaDir) -> &'a Path {
        match self {
            Layout::CaDir => ca.path(),
            Layout::Folders(root) => root,
        }
    }
}
