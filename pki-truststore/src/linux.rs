//! The Linux stores: where each family keeps its anchors and bundle, which tool refreshes it,
//! and how. On this machine: the system's own tool, by absolute path. In a device image
//! (`--root`) nothing of the image runs and no tool of this machine reads the image: for the
//! Debian layout (Debian, Ubuntu, Alpine) pki builds the bundle itself from the image's anchors
//! ([`crate::debian`]); for the others it writes the anchor and leaves the refresh to the image
//! (its build, or its first boot), and says so.

use std::path::{Path, PathBuf};

use crate::access::StoreFs;
use crate::cert::StoreCertificate;
use crate::debian;
use crate::error::Error;
use crate::plan::{Action, Confirm, Content, Installed, Note, Plan, Privilege, Step, StoreTarget};

/// A Linux family: one store layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    /// Debian, Ubuntu and derivatives.
    Debian,
    /// Alpine (Debian's layout, its own update-ca-certificates).
    Alpine,
    /// RHEL, Fedora, CentOS, Azure Linux.
    RedHat,
    /// openSUSE, SLES.
    Suse,
    /// Arch.
    Arch,
}

/// One family's store.
pub(crate) struct Layout {
    /// The directory the administrator's anchors go in.
    pub(crate) anchors: &'static str,
    /// The extension the refresh tool picks up.
    pub(crate) extension: &'static str,
    /// The PEM bundle the system's TLS clients read.
    pub(crate) bundle: &'static str,
    /// The refresh tool's name.
    tool: &'static str,
    /// Where the tool lives, absolute, most likely first.
    tool_paths: &'static [&'static str],
    /// Its arguments when installing.
    install_args: &'static [&'static str],
    /// Its arguments when removing.
    uninstall_args: &'static [&'static str],
    /// The package that provides it.
    package: &'static str,
}

const UPDATE_CA_CERTIFICATES: &[&str] = &[
    "/usr/sbin/update-ca-certificates",
    "/usr/bin/update-ca-certificates",
    "/sbin/update-ca-certificates",
];

/// Every Linux family's layout: a new family must say its own.
pub(crate) fn layout(family: Family) -> Layout {
    match family {
        // --fresh on removal: it clears the links of removed files (Debian's documentation).
        Family::Debian => Layout {
            anchors: debian::LOCALDIR,
            extension: ".crt",
            bundle: "/etc/ssl/certs/ca-certificates.crt",
            tool: "update-ca-certificates",
            tool_paths: UPDATE_CA_CERTIFICATES,
            install_args: &[],
            uninstall_args: &["--fresh"],
            package: "ca-certificates",
        },
        Family::Alpine => Layout {
            anchors: debian::LOCALDIR,
            extension: ".crt",
            bundle: "/etc/ssl/certs/ca-certificates.crt",
            tool: "update-ca-certificates",
            tool_paths: UPDATE_CA_CERTIFICATES,
            install_args: &[],
            uninstall_args: &[],
            package: "ca-certificates",
        },
        Family::RedHat => Layout {
            anchors: "/etc/pki/ca-trust/source/anchors",
            extension: ".pem",
            bundle: "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
            tool: "update-ca-trust",
            tool_paths: &["/usr/bin/update-ca-trust", "/bin/update-ca-trust"],
            install_args: &["extract"],
            uninstall_args: &["extract"],
            package: "ca-certificates",
        },
        Family::Suse => Layout {
            anchors: "/etc/pki/trust/anchors",
            extension: ".pem",
            bundle: "/var/lib/ca-certificates/ca-bundle.pem",
            tool: "update-ca-certificates",
            tool_paths: UPDATE_CA_CERTIFICATES,
            install_args: &[],
            uninstall_args: &[],
            package: "ca-certificates",
        },
        Family::Arch => Layout {
            anchors: "/etc/ca-certificates/trust-source/anchors",
            extension: ".crt",
            bundle: "/etc/ca-certificates/extracted/tls-ca-bundle.pem",
            tool: "trust",
            tool_paths: &["/usr/bin/trust"],
            install_args: &["extract-compat"],
            uninstall_args: &["extract-compat"],
            package: "p11-kit",
        },
    }
}

/// The steps that refresh the store, and what they need.
struct Refresh {
    steps: Vec<Step>,
    pending: bool,
    requires: Privilege,
    notes: Vec<Note>,
}

fn host_tool(target: &StoreTarget, l: &Layout) -> Option<PathBuf> {
    target
        .find_tool(l.tool)
        .or_else(|| l.tool_paths.iter().map(PathBuf::from).find(|p| p.is_file()))
}

fn looked(target: &StoreTarget, l: &Layout, fs: Option<&StoreFs>) -> String {
    let mut v: Vec<String> = Vec::new();
    if fs.is_none() {
        v.extend(
            target
                .tool_dirs
                .iter()
                .map(|d| d.join(l.tool).display().to_string()),
        );
    }
    for p in l.tool_paths {
        let s = match fs {
            Some(fs) => fs.named(p).display().to_string(),
            None => (*p).to_owned(),
        };
        if !v.contains(&s) {
            v.push(s);
        }
    }
    v.join(", ")
}

fn refresh(
    target: &StoreTarget,
    fs: &StoreFs,
    family: Family,
    action: Action,
) -> Result<Refresh, Error> {
    let l = layout(family);
    let args: Vec<String> = match action {
        Action::Install => l.install_args,
        Action::Uninstall => l.uninstall_args,
    }
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let missing = |image: Option<&StoreFs>| Error::MissingTool {
        tool: l.tool,
        looked: looked(target, &l, image),
        package: l.package,
        where_: if image.is_some() { " in the image" } else { "" },
    };
    let Some(root) = target.root.as_deref() else {
        let tool = host_tool(target, &l).ok_or_else(|| missing(None))?;
        return Ok(Refresh {
            steps: vec![Step::Run {
                program: tool,
                args,
            }],
            pending: false,
            requires: Privilege::Root,
            notes: Vec::new(),
        });
    };
    match family {
        // The Debian layout: pki builds the image's bundle itself.
        Family::Debian | Family::Alpine => in_pki(fs, root),
        // The others: the image's own tool, inside the image, later; pki never runs it.
        Family::RedHat | Family::Suse | Family::Arch => {
            let tool = l
                .tool_paths
                .iter()
                .find(|p| fs.exists(p))
                .ok_or_else(|| missing(Some(fs)))?;
            let command = std::iter::once((*tool).to_owned())
                .chain(args.iter().map(|a| crate::plan::quote(a)))
                .collect::<Vec<_>>()
                .join(" ");
            Ok(Refresh {
                steps: Vec::new(),
                pending: true,
                requires: Privilege::None,
                notes: vec![Note::RefreshPending { command }],
            })
        }
    }
}

/// The steps of a refresh pki does itself: the bundle and links of the image at `root`.
fn in_pki(fs: &StoreFs, root: &Path) -> Result<Refresh, Error> {
    let mut steps = Vec::new();
    if fs.dir(debian::ETCCERTS)?.is_none() {
        steps.push(Step::CreateDir {
            path: fs.named(debian::ETCCERTS),
        });
    }
    steps.push(Step::BuildBundle {
        root: root.to_owned(),
        bundle: fs.named(&format!("{}/ca-certificates.crt", debian::ETCCERTS)),
    });
    let hooks = "/etc/ca-certificates/update.d";
    let mut notes = Vec::new();
    if fs
        .dir(hooks)?
        .is_some_and(|d| d.names().is_ok_and(|n| !n.is_empty()))
    {
        notes.push(Note::HooksNotRun {
            dir: fs.named(hooks),
        });
    }
    Ok(Refresh {
        steps,
        pending: false,
        requires: Privilege::None,
        notes,
    })
}

pub(crate) fn install(
    target: &StoreTarget,
    fs: &StoreFs,
    family: Family,
    cert: &StoreCertificate,
    file: PathBuf,
) -> Result<Plan, Error> {
    let l = layout(family);
    let refresh = refresh(target, fs, family, Action::Install)?;
    let mut steps = Vec::new();
    if fs.dir(l.anchors)?.is_none() {
        steps.push(Step::CreateDir {
            path: fs.named(l.anchors),
        });
    }
    steps.push(Step::WriteFile {
        path: file.clone(),
        mode: 0o644,
        content: Content::Certificate,
        bytes: cert.to_pem().into_bytes(),
    });
    steps.extend(refresh.steps);
    Ok(Plan {
        action: Action::Install,
        system: target.system,
        root: target.root.clone(),
        steps,
        file,
        confirm: (!refresh.pending).then(|| Confirm::Bundle {
            path: fs.named(l.bundle),
        }),
        requires: refresh.requires,
        notes: refresh.notes,
    })
}

pub(crate) fn uninstall(
    target: &StoreTarget,
    fs: &StoreFs,
    family: Family,
    found: &Installed,
) -> Result<Plan, Error> {
    let l = layout(family);
    let refresh = refresh(target, fs, family, Action::Uninstall)?;
    let mut steps = vec![Step::RemoveFile {
        path: found.path.clone(),
    }];
    let mut notes = refresh.notes;
    let built_here = refresh
        .steps
        .iter()
        .any(|s| matches!(s, Step::BuildBundle { .. }));
    steps.extend(refresh.steps);
    let bundle = fs.named(l.bundle);
    if !refresh.pending && (built_here || family == Family::Debian) && fs.is_file(l.bundle) {
        let removed = format!(
            "{}/{}",
            l.anchors,
            found
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        );
        if debian::sources_left(fs, &removed)? == 0 {
            // update-ca-certificates keeps the old bundle when no certificate is left: pki
            // empties it (when pki builds the bundle itself, it writes it empty).
            if !built_here {
                steps.push(Step::WriteFile {
                    path: bundle.clone(),
                    mode: 0o644,
                    content: Content::Empty,
                    bytes: Vec::new(),
                });
            }
            notes.push(Note::EmptyStore {
                bundle: bundle.clone(),
            });
        }
    }
    Ok(Plan {
        action: Action::Uninstall,
        system: target.system,
        root: target.root.clone(),
        steps,
        file: found.path.clone(),
        confirm: (!refresh.pending).then_some(Confirm::Bundle { path: bundle }),
        requires: refresh.requires,
        notes,
    })
}

// A Linux store's paths resolve inside their root through pki_x509::files::Root: Unix only.
#[cfg(all(test, unix))]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::Error as TrustStoreError;
    use crate::cert::tests::root as root_ca;
    use crate::detect::{OsRelease, TrustSystem};
    use crate::plan::{InstallPlan, plan_install};

    /// A fresh directory, removed on drop.
    struct Dir(PathBuf);
    impl Dir {
        fn new() -> Self {
            static N: AtomicUsize = AtomicUsize::new(0);
            let p = std::env::temp_dir().join(format!(
                "pki-truststore-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::SeqCst)
            ));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).unwrap();
            Dir(p)
        }
        fn file(&self, rel: &str, text: &str) -> PathBuf {
            let p = self.0.join(rel.trim_start_matches('/'));
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, text).unwrap();
            p
        }
        fn s(&self, rel: &str) -> String {
            self.0
                .join(rel.trim_start_matches('/'))
                .display()
                .to_string()
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// An image root with the fixture's os-release, the tools given inside it, and a
    /// directory of host tools (`chroot`, and Debian's update-ca-certificates when asked).
    fn image(os: &str, image_tools: &[&str], debian_host_tool: bool) -> (Dir, Dir, TrustSystem) {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../testdata/os-release")
            .join(os);
        let text = std::fs::read_to_string(fixture).unwrap();
        let root = Dir::new();
        root.file("/etc/os-release", &text);
        for t in image_tools {
            root.file(t, "#!/bin/sh\n");
        }
        let host = Dir::new();
        host.file("chroot", "");
        if debian_host_tool {
            host.file(
                "update-ca-certificates",
                "#!/bin/sh -e\n    --localcertsdir)\n",
            );
        }
        let system = TrustSystem::from_os_release(&OsRelease::read(&root.0).unwrap()).unwrap();
        (root, host, system)
    }

    fn target(system: TrustSystem, root: &Dir, host: &Dir, privileged: bool) -> StoreTarget {
        StoreTarget {
            system,
            root: Some(root.0.clone()),
            privileged,
            tool_dirs: vec![host.0.clone()],
        }
    }

    fn shown(plan: &Plan) -> Vec<String> {
        plan.steps.iter().map(ToString::to_string).collect()
    }

    fn install_plan(t: &StoreTarget) -> Plan {
        match plan_install(t, &root_ca(), "pki-owner").unwrap() {
            InstallPlan::Steps(p) => p,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn debian_ubuntu_and_alpine_images_are_built_in_pki() {
        for os in ["debian", "ubuntu", "alpine"] {
            let (root, host, system) = image(os, &[], true);
            let t = target(system, &root, &host, true);
            let plan = install_plan(&t);
            assert_eq!(
                shown(&plan),
                [
                    format!("mkdir -p {}", root.s("/usr/local/share/ca-certificates")),
                    format!(
                        "write {} (mode 0644): the certificate, PEM",
                        root.s("/usr/local/share/ca-certificates/pki-owner.crt")
                    ),
                    format!("mkdir -p {}", root.s("/etc/ssl/certs")),
                    format!(
                        "build {} and its links in pki from the image's /etc/ca-certificates.conf, /usr/share/ca-certificates and /usr/local/share/ca-certificates, as update-ca-certificates --fresh does (every path resolved inside {}; nothing of the image runs)",
                        root.s("/etc/ssl/certs/ca-certificates.crt"),
                        root.0.display()
                    ),
                ],
                "{os}"
            );
            assert!(
                !plan.steps.iter().any(|s| matches!(s, Step::Run { .. })),
                "{os}: nothing runs"
            );
            assert_eq!(
                plan.confirm,
                Some(Confirm::Bundle {
                    path: root.0.join("etc/ssl/certs/ca-certificates.crt")
                })
            );
            assert_eq!(plan.requires, Privilege::None);
            assert!(plan.notes.is_empty());
        }
    }

    #[test]
    #[cfg(unix)] // it plants a symbolic link
    fn debian_uninstall_removes_the_file_and_builds_the_bundle_again_in_pki() {
        use crate::plan::{UninstallPlan, plan_uninstall};
        let (root, host, system) = image("debian", &[], true);
        let cert = root_ca();
        let file = root.file(
            "/usr/local/share/ca-certificates/pki-owner.crt",
            &cert.to_pem(),
        );
        root.file("/etc/ssl/certs/ca-certificates.crt", &cert.to_pem());
        std::os::unix::fs::symlink(&file, root.0.join("etc/ssl/certs/pki-owner.pem")).unwrap();
        root.file("/etc/ca-certificates/update.d/jks-keystore", "");
        let t = target(system, &root, &host, false);
        let fp = crate::cert::Fingerprint::Sha256(cert.sha256.clone());
        let UninstallPlan::Steps(plan) = plan_uninstall(&t, &fp).unwrap() else {
            panic!()
        };
        let s = shown(&plan);
        assert_eq!(s.len(), 2, "{s:?}");
        assert_eq!(s[0], format!("rm -f {}", file.display()));
        assert!(s[1].starts_with("build "), "{}", s[1]);
        assert!(
            plan.notes
                .iter()
                .any(|n| matches!(n, Note::EmptyStore { .. }))
        );
        assert!(
            plan.notes
                .iter()
                .any(|n| matches!(n, Note::HooksNotRun { .. }))
        );
        // With another certificate in the store, the bundle is not left empty.
        root.file(
            "/usr/share/ca-certificates/mozilla/Other.crt",
            &cert.to_pem(),
        );
        root.file(
            "/etc/ca-certificates.conf",
            "# comment\nmozilla/Other.crt\n!mozilla/Gone.crt\n",
        );
        let UninstallPlan::Steps(plan) = plan_uninstall(&t, &fp).unwrap() else {
            panic!()
        };
        assert!(
            !plan
                .notes
                .iter()
                .any(|n| matches!(n, Note::EmptyStore { .. }))
        );
        // Installing it again: it is there already, found by fingerprint under any name.
        assert!(matches!(
            plan_install(&t, &cert, "pki-other-name").unwrap(),
            InstallPlan::Already(crate::Already::InstalledByPki { path }) if path == file
        ));
    }

    #[test]
    fn other_families_write_the_anchor_and_leave_the_refresh_to_the_image() {
        for (os, anchor, tool, args) in [
            (
                "rhel",
                "/etc/pki/ca-trust/source/anchors/pki-owner.pem",
                "/usr/bin/update-ca-trust",
                " extract",
            ),
            (
                "fedora",
                "/etc/pki/ca-trust/source/anchors/pki-owner.pem",
                "/usr/bin/update-ca-trust",
                " extract",
            ),
            (
                "centos",
                "/etc/pki/ca-trust/source/anchors/pki-owner.pem",
                "/usr/bin/update-ca-trust",
                " extract",
            ),
            (
                "azurelinux",
                "/etc/pki/ca-trust/source/anchors/pki-owner.pem",
                "/usr/bin/update-ca-trust",
                " extract",
            ),
            (
                "mariner",
                "/etc/pki/ca-trust/source/anchors/pki-owner.pem",
                "/usr/bin/update-ca-trust",
                " extract",
            ),
            (
                "opensuse-leap",
                "/etc/pki/trust/anchors/pki-owner.pem",
                "/usr/sbin/update-ca-certificates",
                "",
            ),
            (
                "sles",
                "/etc/pki/trust/anchors/pki-owner.pem",
                "/usr/sbin/update-ca-certificates",
                "",
            ),
            (
                "arch",
                "/etc/ca-certificates/trust-source/anchors/pki-owner.crt",
                "/usr/bin/trust",
                " extract-compat",
            ),
        ] {
            // As root or not, with chroot and Debian's tool on this machine: nothing of the
            // image runs; the file goes in and the note says what must run inside the image.
            for privileged in [true, false] {
                let (root, host, system) = image(os, &[tool], true);
                let anchors = Path::new(anchor).parent().unwrap().display().to_string();
                let t = target(system, &root, &host, privileged);
                let plan = install_plan(&t);
                assert_eq!(
                    shown(&plan),
                    [
                        format!("mkdir -p {}", root.s(&anchors)),
                        format!("write {} (mode 0644): the certificate, PEM", root.s(anchor)),
                    ],
                    "{os}"
                );
                assert_eq!(plan.confirm, None, "{os}");
                assert_eq!(plan.requires, Privilege::None);
                assert_eq!(
                    plan.notes,
                    [Note::RefreshPending {
                        command: format!("{tool}{args}")
                    }],
                    "{os}"
                );
            }
            // No tool in the image: nothing can refresh it, and the error says which package.
            let (root, host, system) = image(os, &[], true);
            let err = plan_install(&target(system, &root, &host, true), &root_ca(), "pki-owner")
                .unwrap_err();
            assert!(
                matches!(
                    &err,
                    TrustStoreError::MissingTool {
                        where_: " in the image",
                        ..
                    }
                ),
                "{os}: {err:?}"
            );
            assert!(err.to_string().contains(&root.s(tool)), "{err}");
        }
    }

    #[test]
    fn every_linux_system_has_a_family() {
        for system in [
            TrustSystem::Debian,
            TrustSystem::Alpine,
            TrustSystem::RedHat,
            TrustSystem::Suse,
            TrustSystem::Arch,
        ] {
            let root = Dir::new();
            let t = StoreTarget {
                system,
                root: Some(root.0.clone()),
                privileged: false,
                tool_dirs: Vec::new(),
            };
            // Each plans with its own layout (the tool is missing in this empty image, except
            // for the Debian layout, which needs none).
            match plan_install(&t, &root_ca(), "pki-owner") {
                Ok(InstallPlan::Steps(p)) => assert!(
                    matches!(system, TrustSystem::Debian | TrustSystem::Alpine),
                    "{system}: {p:?}"
                ),
                Err(TrustStoreError::MissingTool { .. }) => assert!(
                    !matches!(system, TrustSystem::Debian | TrustSystem::Alpine),
                    "{system}"
                ),
                other => panic!("{system}: {other:?}"),
            }
        }
    }

    #[test]
    fn this_machine_runs_the_tool_found_by_absolute_path() {
        let host = Dir::new();
        for (system, tool, args) in [
            (TrustSystem::RedHat, "update-ca-trust", " extract"),
            (TrustSystem::Suse, "update-ca-certificates", ""),
            (TrustSystem::Arch, "trust", " extract-compat"),
        ] {
            host.file(tool, "");
            let t = StoreTarget {
                system,
                root: None,
                privileged: false,
                tool_dirs: vec![host.0.clone()],
            };
            let plan = install_plan(&t);
            let last = shown(&plan).pop().unwrap();
            assert_eq!(last, format!("{}{args}", host.0.join(tool).display()));
            assert_eq!(plan.requires, Privilege::Root);
        }
    }
}
