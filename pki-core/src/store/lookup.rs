//! What a CA directory holds: its CAs and their roles, the certificates renewals kept, the
//! gateways and devices in service, and the chain above a certificate.

use std::fs;
use std::path::{Path, PathBuf};

use pki_register::{Query, Record};
use pki_x509::Certificate;

use super::{
    CaDir, CaRole, DeviceFiles, EDGE_CA_PREFIX, KeptCa, KeyRecord, edge_ca_prefix, file_name_of,
    kept_prefix, read_certs, read_first_cert, split_kept_prefix,
};
use crate::error::{Error, Result};
use crate::profile::Profile;

impl CaDir {
    /// The prefixes of the directory's CAs: the root, the intermediate, the edge CAs (whether
    /// their files exist or not).
    pub(crate) fn ca_prefixes(&self) -> Vec<String> {
        let roles = self
            .ca_roles()
            .unwrap_or_else(|_| vec![CaRole::Root, CaRole::Intermediate]);
        roles.iter().map(CaRole::prefix).collect()
    }

    /// The roles a CA of the directory may have: the root, the intermediate, and each edge CA
    /// whose certificate is in `certs/` (whether the root's and intermediate's files exist or
    /// not).
    pub fn ca_roles(&self) -> Result<Vec<CaRole>> {
        let mut roles = vec![CaRole::Root, CaRole::Intermediate];
        roles.extend(self.edge_ca_names()?.into_iter().map(CaRole::EdgeCa));
        Ok(roles)
    }

    /// True when this CA's certificate exists.
    pub fn has(&self, role: &CaRole) -> bool {
        self.cert_path(&role.prefix()).is_file()
    }

    /// The names of the IoT Edge device CAs in the directory, sorted.
    pub fn edge_ca_names(&self) -> Result<Vec<String>> {
        let certs = self.root.join("certs");
        let mut names = Vec::new();
        for entry in fs::read_dir(&certs).map_err(|e| Error::io(&certs, e))? {
            let entry = entry.map_err(|e| Error::io(&certs, e))?;
            let file = entry.file_name();
            let Some(file) = file.to_str() else { continue };
            if let Some(name) = file
                .strip_prefix(EDGE_CA_PREFIX)
                .and_then(|r| r.strip_suffix(".cert.pem"))
                .filter(|n| !n.ends_with("-full-chain"))
            {
                names.push(name.to_owned());
            }
        }
        // A renewal keeps the replaced certificate as `<prefix>.<OLD SERIAL>.cert.pem` beside
        // the CA's own file: that is no edge CA of its own.
        let kept = |n: &String| {
            split_kept_prefix(n)
                .is_some_and(|(base, _)| self.cert_path(&edge_ca_prefix(base)).is_file())
        };
        names.retain(|n| !kept(n));
        names.sort();
        Ok(names)
    }

    /// The previous certificates of the directory's CAs that renewals kept with their keys
    /// (a kept certificate whose key is gone can sign nothing and is left out), by CA, oldest
    /// serial first within a CA only by name.
    pub fn kept_cas(&self) -> Result<Vec<KeptCa>> {
        let roles = self.ca_roles()?;
        let certs = self.root.join("certs");
        let mut files: Vec<String> = Vec::new();
        for entry in fs::read_dir(&certs).map_err(|e| Error::io(&certs, e))? {
            let entry = entry.map_err(|e| Error::io(&certs, e))?;
            if let Ok(name) = entry.file_name().into_string() {
                files.push(name);
            }
        }
        files.sort();
        let mut kept = Vec::new();
        for role in roles {
            let prefix = role.prefix();
            for file in &files {
                let Some((base, serial)) = file
                    .strip_suffix(".cert.pem")
                    .filter(|n| !n.ends_with("-full-chain"))
                    .and_then(split_kept_prefix)
                else {
                    continue;
                };
                if base != prefix {
                    continue;
                }
                let kp = kept_prefix(&prefix, serial);
                let key = self.key_record(&kp);
                if key.path().is_file() {
                    kept.push(KeptCa {
                        role: role.clone(),
                        serial: serial.to_owned(),
                        cert: certs.join(file),
                        key,
                    });
                }
            }
        }
        Ok(kept)
    }

    /// The gateways' server certificates in service, one per host (the CN), sorted by host: the
    /// register's rows of profile `server` and status issued; of several for one host, the one
    /// that expires last. What a renewal replaced (and kept beside the new files as
    /// `<prefix>.<OLD SERIAL>.cert.pem`) is superseded, and a revoked gateway is revoked:
    /// neither is a gateway, nor is `pki est serve`'s own certificate.
    pub fn gateways(&self) -> Result<Vec<Record>> {
        let query = Query {
            profile: Some(Profile::Server.name().to_owned()),
            status: Some(pki_register::Status::Issued),
            ..Query::default()
        };
        // Rows come by notAfter: a later row of a host replaces an earlier one.
        let mut by_host = std::collections::BTreeMap::new();
        for row in self.records(&query)? {
            // The EST server's own TLS certificate serves no gateway.
            if self.prefix_in_certs(&row.path).as_deref() == Some(super::EST_SERVER_PREFIX) {
                continue;
            }
            by_host.insert(row.common_name.clone(), row);
        }
        Ok(by_host.into_values().collect())
    }

    /// The certificate in service of the device `id` (profile `device` or
    /// `self-signed-device`, the one that expires last) and where its files are; `None` when
    /// the register has none.
    pub fn device(&self, id: &str) -> Result<Option<DeviceFiles>> {
        let query = Query {
            common_name: Some(id.to_owned()),
            status: Some(pki_register::Status::Issued),
            ..Query::default()
        };
        let devices = [Profile::Device.name(), Profile::SelfSignedDevice.name()];
        // Rows come by notAfter; the pattern also matches CNs with `*`, `?` or `[`: exact only.
        let Some(record) = self
            .records(&query)?
            .into_iter()
            .rfind(|r| r.common_name == id && devices.contains(&r.profile.as_str()))
        else {
            return Ok(None);
        };
        let files = if let Some(p) = self.placement(&record.path)? {
            DeviceFiles {
                cert: p.cert,
                full_chain: None,
                key: Some(KeyRecord::File(p.key)),
                placed: true,
                record,
            }
        } else if let Some(prefix) = self.prefix_in_certs(&record.path) {
            let chain = self.full_chain_path(&prefix);
            DeviceFiles {
                cert: self.cert_path(&prefix),
                full_chain: chain.is_file().then_some(chain),
                key: Some(self.key_record(&prefix)),
                placed: false,
                record,
            }
        } else {
            // Adopted from elsewhere: where its key is, pki does not know.
            DeviceFiles {
                cert: self.file_of(&record.path),
                full_chain: None,
                key: None,
                placed: false,
                record,
            }
        };
        Ok(Some(files))
    }

    /// The prefix of a register path `certs/<prefix>.cert.pem` (not a full chain's).
    pub(crate) fn prefix_in_certs(&self, path: &str) -> Option<String> {
        Path::new(path)
            .strip_prefix(&self.root)
            .unwrap_or(Path::new(path))
            .strip_prefix("certs")
            .ok()
            .and_then(|p| p.to_str())
            .and_then(|n| n.strip_suffix(".cert.pem"))
            .filter(|n| !n.contains('/') && !n.ends_with("-full-chain"))
            .map(str::to_owned)
    }

    /// The file of the directory's CA certificate whose SHA-256 is `sha256`: a CA at its
    /// role's path, or one a renewal replaced and kept (`certs/<prefix>.<OLD SERIAL>.cert.pem`).
    pub fn ca_certificate_file(&self, sha256: &str) -> Option<PathBuf> {
        // The CAs at their roles' paths first: most often it is one of them.
        let standard = self.ca_prefixes().into_iter().map(|p| self.cert_path(&p));
        standard
            .chain(self.certificate_files())
            .find(|p| read_first_cert(p).is_ok_and(|c| c.is_ca() && c.sha256_hex() == sha256))
    }

    /// Every certificate file in `certs/` (`*.cert.pem`, full-chain files aside); none when
    /// `certs/` cannot be read.
    fn certificate_files(&self) -> Vec<PathBuf> {
        fs::read_dir(self.root.join("certs"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                let name = file_name_of(p);
                name.ends_with(".cert.pem") && !name.ends_with("-full-chain.cert.pem")
            })
            .collect()
    }

    /// The chain of a CA of this directory: its certificate and those above it, read from its
    /// full-chain file when it has one.
    pub fn chain_of(&self, prefix: &str) -> Result<Vec<Certificate>> {
        let full = self.full_chain_path(prefix);
        let path = if full.is_file() {
            full
        } else {
            self.cert_path(prefix)
        };
        read_certs(&path)
    }

    /// Every CA certificate in `certs/`: the CAs at their roles' paths and the old ones a
    /// renewal kept (full-chain files aside). Unreadable files are passed over.
    pub fn ca_certificates(&self) -> Vec<Certificate> {
        self.certificate_files()
            .iter()
            .filter_map(|p| read_first_cert(p).ok())
            .filter(Certificate::is_ca)
            .collect()
    }

    /// The chain above `cert` in this directory, as its -full-chain file would hold it: the CA
    /// whose key signed it, then each CA above that one, up to a self-issued root. Empty when
    /// no CA of the directory signed it (or it is self-issued).
    pub fn issuer_chain(&self, cert: &Certificate) -> Vec<Certificate> {
        let cas = self.ca_certificates();
        let mut chain: Vec<Certificate> = Vec::new();
        let mut current = cert.clone();
        // A chain of the directory is a handful of CAs; the bound stops a loop of cross-signed
        // CAs, as does never taking a CA twice. Of a CA renewed on the same key (the kept old
        // certificate and the new one), the one valid longest: the CA's current certificate.
        while !current.is_self_issued() && chain.len() < 16 {
            let next = cas
                .iter()
                .filter(|c| current.is_signed_by(c) && !chain.iter().any(|k| k.der() == c.der()))
                .max_by_key(|c| c.x509().validity().not_after.timestamp());
            let Some(next) = next else { break };
            chain.push(next.clone());
            current = next.clone();
        }
        chain
    }
}
