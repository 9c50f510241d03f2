//! Which trust-store layout a system uses: /etc/os-release's ID and ID_LIKE for Linux (this
//! machine, or an image mounted at a root), the build target for Windows and macOS.

use std::path::Path;

use serde::Serialize;

use crate::access::{MAX_CONF, StoreFs, is_missing};
use crate::error::Error;

/// The fields of an os-release file that decide the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OsRelease {
    /// `ID`, e.g. `debian`, `rhel`, `opensuse-leap`.
    pub id: String,
    /// `ID_LIKE`, split at spaces, e.g. `["rhel", "centos", "fedora"]`.
    pub id_like: Vec<String>,
    /// `PRETTY_NAME`, when present.
    pub pretty_name: Option<String>,
}

impl OsRelease {
    /// Parses os-release text (`KEY=value` lines, values optionally quoted; os-release(5)).
    pub fn parse(text: &str) -> Self {
        let mut os = OsRelease {
            id: String::new(),
            id_like: Vec::new(),
            pretty_name: None,
        };
        for line in text.lines() {
            let line = line.trim();
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let value = unquote(value.trim());
            match key.trim() {
                "ID" => os.id = value.to_ascii_lowercase(),
                "ID_LIKE" => {
                    os.id_like = value
                        .split_whitespace()
                        .map(str::to_ascii_lowercase)
                        .collect();
                }
                "PRETTY_NAME" => os.pretty_name = Some(value),
                _ => {}
            }
        }
        os
    }

    /// Reads `ROOT/etc/os-release`, else `ROOT/usr/lib/os-release` (os-release(5)'s order),
    /// resolved inside the root (on Debian /etc/os-release links to ../usr/lib/os-release: an
    /// image's link is followed inside the image, never to this machine's file), at most 1 MiB of
    /// a regular file.
    pub fn read(root: &Path) -> Result<Self, Error> {
        let fs = match StoreFs::open(Some(root)) {
            Ok(fs) => Some(fs),
            Err(Error::Io { reason, .. }) if is_missing(&reason) => None,
            Err(e) => return Err(e),
        };
        for rel in ["/etc/os-release", "/usr/lib/os-release"] {
            let Some(fs) = &fs else { break };
            if let Some(bytes) = fs.read(rel, MAX_CONF)? {
                return Ok(Self::parse(&String::from_utf8_lossy(&bytes)));
            }
        }
        let mut root = root.display().to_string();
        if !root.ends_with('/') {
            root.push('/');
        }
        Err(Error::NoOsRelease { root })
    }
}

fn unquote(v: &str) -> String {
    let v = v
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
        .unwrap_or(v);
    v.replace("\\\"", "\"").replace("\\\\", "\\")
}

/// A trust-store layout: where anchors go and which tool refreshes the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TrustSystem {
    /// Debian, Ubuntu and derivatives: /usr/local/share/ca-certificates/NAME.crt,
    /// update-ca-certificates.
    Debian,
    /// Alpine: the Debian layout, with Alpine's own update-ca-certificates (no root flags).
    Alpine,
    /// RHEL, Fedora, CentOS, Rocky, Alma, Azure Linux (Mariner):
    /// /etc/pki/ca-trust/source/anchors/NAME.pem, `update-ca-trust extract`.
    RedHat,
    /// openSUSE and SLES: /etc/pki/trust/anchors/NAME.pem, update-ca-certificates.
    Suse,
    /// Arch and derivatives: /etc/ca-certificates/trust-source/anchors/NAME.crt,
    /// `trust extract-compat`.
    Arch,
    /// Windows: LocalMachine\Root, through certutil.
    Windows,
    /// macOS: the System keychain, trusted as a root, through `security`.
    MacOs,
}

impl TrustSystem {
    /// The system an os-release describes: its ID first, then each ID_LIKE in order.
    pub fn from_os_release(os: &OsRelease) -> Result<Self, Error> {
        std::iter::once(&os.id)
            .chain(&os.id_like)
            .find_map(|id| Self::from_id(id))
            .ok_or_else(|| Error::UnknownSystem {
                id: if os.id.is_empty() {
                    "(none)".to_owned()
                } else {
                    os.id.clone()
                },
                id_like: os.id_like.join(" "),
            })
    }

    fn from_id(id: &str) -> Option<Self> {
        Some(match id {
            "debian" | "ubuntu" | "raspbian" | "linuxmint" | "pop" | "kali" | "devuan" => {
                Self::Debian
            }
            "alpine" | "postmarketos" => Self::Alpine,
            "rhel" | "fedora" | "centos" | "rocky" | "almalinux" | "ol" | "amzn" | "mariner"
            | "azurelinux" => Self::RedHat,
            "suse" | "sles" | "sled" | "opensuse" => Self::Suse,
            id if id.starts_with("opensuse") => Self::Suse,
            "arch" | "manjaro" | "endeavouros" | "archarm" => Self::Arch,
            _ => return None,
        })
    }

    /// The system this build runs on: Windows and macOS by build target; otherwise the
    /// os-release under `root` (`/` for this machine).
    pub fn detect(root: &Path) -> Result<Self, Error> {
        Self::detect_for(std::env::consts::OS, root)
    }

    /// As [`TrustSystem::detect`], for the target OS named as `std::env::consts::OS` names it
    /// (`windows`, `macos`, `linux`, …); `root` matters only for the others.
    pub fn detect_for(target_os: &str, root: &Path) -> Result<Self, Error> {
        match target_os {
            "windows" => Ok(Self::Windows),
            "macos" => Ok(Self::MacOs),
            _ => Self::from_os_release(&OsRelease::read(root)?),
        }
    }

    /// The lower-case name used in reports: `debian`, `alpine`, `redhat`, `suse`, `arch`,
    /// `windows`, `macos`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Debian => "debian",
            Self::Alpine => "alpine",
            Self::RedHat => "redhat",
            Self::Suse => "suse",
            Self::Arch => "arch",
            Self::Windows => "windows",
            Self::MacOs => "macos",
        }
    }
}

impl std::fmt::Display for TrustSystem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error as TrustStoreError;

    fn fixture(name: &str) -> Result<TrustSystem, TrustStoreError> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../testdata/os-release")
            .join(name);
        let text = std::fs::read_to_string(&path).unwrap();
        TrustSystem::from_os_release(&OsRelease::parse(&text))
    }

    #[test]
    fn every_fixture_maps_to_its_family() {
        use TrustSystem::*;
        for (file, want) in [
            ("debian", Debian),
            ("ubuntu", Debian),
            ("alpine", Alpine),
            ("rhel", RedHat),
            ("fedora", RedHat),
            ("centos", RedHat),
            ("azurelinux", RedHat),
            ("mariner", RedHat),
            ("rocky", RedHat),
            ("opensuse-leap", Suse),
            ("sles", Suse),
            ("arch", Arch),
        ] {
            assert_eq!(fixture(file).unwrap(), want, "{file}");
        }
    }

    #[test]
    fn an_unknown_system_is_named() {
        let err = fixture("unknown").unwrap_err();
        assert!(
            matches!(&err, TrustStoreError::UnknownSystem { id, id_like } if id == "plan9os" && id_like == "inferno"),
            "{err:?}"
        );
        assert!(err.to_string().contains("ID=plan9os"));
    }

    #[test]
    fn quoting_and_id_like_order() {
        let os = OsRelease::parse(
            "# comment\nNAME=\"Rocky Linux\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nPRETTY_NAME='Rocky 9'\n",
        );
        assert_eq!(os.id, "rocky");
        assert_eq!(os.id_like, ["rhel", "centos", "fedora"]);
        assert_eq!(os.pretty_name.as_deref(), Some("Rocky 9"));
        // An unknown ID with a known ID_LIKE is that family.
        let os = OsRelease::parse("ID=mydistro\nID_LIKE=ubuntu debian\n");
        assert_eq!(
            TrustSystem::from_os_release(&os).unwrap(),
            TrustSystem::Debian
        );
    }

    #[test]
    fn windows_and_macos_come_from_the_target() {
        let nowhere = Path::new("/nonexistent-root");
        assert_eq!(
            TrustSystem::detect_for("windows", nowhere).unwrap(),
            TrustSystem::Windows
        );
        assert_eq!(
            TrustSystem::detect_for("macos", nowhere).unwrap(),
            TrustSystem::MacOs
        );
        assert!(matches!(
            TrustSystem::detect_for("linux", nowhere),
            Err(TrustStoreError::NoOsRelease { .. })
        ));
    }
}
