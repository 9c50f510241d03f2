//! The Linux stores: where each family keeps its anchors and bundle, which tool refreshes it,
//! and how that tool is run against this machine or a device image (`--root`): Debian's
//! update-ca-certificates through its directory flags, the others inside the image through
//! chroot.

use std::path::{Path, PathBuf};

use super::cert::StoreCertificate;
use super::detect::TrustSystem;
use super::error::TrustStoreError;
use super::plan::{
    Action, Confirm, Content, Installed, Note, Plan, Privilege, Records, Step, StoreTarget, under,
};

/// One family's store.
struct Layout {
    /// The directory the administrator's anchors go in.
    anchors: &'static str,
    /// The extension the refresh tool picks up.
    extension: &'static str,
    /// The PEM bundle the system's TLS clients read.
    bundle: &'static str,
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

fn layout(system: TrustSystem) -> Layout {
    match system {
        // --fresh on removal: it clears the links of removed files (Debian's documentation).
        TrustSystem::Debian => Layout {
            anchors: "/usr/local/share/ca-certificates",
            extension: ".crt",
            bundle: "/etc/ssl/certs/ca-certificates.crt",
            tool: "update-ca-certificates",
            tool_paths: UPDATE_CA_CERTIFICATES,
            install_args: &[],
            uninstall_args: &["--fresh"],
            package: "ca-certificates",
        },
        TrustSystem::Alpine => Layout {
            anchors: "/usr/local/share/ca-certificates",
            extension: ".crt",
            bundle: "/etc/ssl/certs/ca-certificates.crt",
            tool: "update-ca-certificates",
            tool_paths: UPDATE_CA_CERTIFICATES,
            install_args: &[],
            uninstall_args: &[],
            package: "ca-certificates",
        },
        TrustSystem::RedHat => Layout {
            anchors: "/etc/pki/ca-trust/source/anchors",
            extension: ".pem",
            bundle: "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
            tool: "update-ca-trust",
            tool_paths: &["/usr/bin/update-ca-trust", "/bin/update-ca-trust"],
            install_args: &["extract"],
            uninstall_args: &["extract"],
            package: "ca-certificates",
        },
        TrustSystem::Suse => Layout {
            anchors: "/etc/pki/trust/anchors",
            extension: ".pem",
            bundle: "/var/lib/ca-certificates/ca-bundle.pem",
            tool: "update-ca-certificates",
            tool_paths: UPDATE_CA_CERTIFICATES,
            install_args: &[],
            uninstall_args: &[],
            package: "ca-certificates",
        },
        // Windows and macOS never get here; Arch is the remaining family.
        _ => Layout {
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

pub(crate) fn records(target: &StoreTarget) -> Records {
    let l = layout(target.system);
    Records {
        dir: target.under(l.anchors),
        extension: l.extension,
        bundle: Some(target.under(l.bundle)),
    }
}

/// The steps that refresh the store, and what they need.
struct Refresh {
    steps: Vec<Step>,
    pending: bool,
    requires: Privilege,
    notes: Vec<Note>,
}

/// Debian's update-ca-certificates (a shell script) takes the directory flags; Alpine's and
/// SUSE's tools of the same name do not.
fn takes_root_flags(tool: &Path) -> bool {
    std::fs::read(tool)
        .map(|b| b.windows(15).any(|w| w == b"--localcertsdir"))
        .unwrap_or(false)
}

fn host_tool(target: &StoreTarget, l: &Layout) -> Option<PathBuf> {
    target
        .find_tool(l.tool)
        .or_else(|| l.tool_paths.iter().map(PathBuf::from).find(|p| p.is_file()))
}

fn looked(target: &StoreTarget, l: &Layout, root: Option<&Path>) -> String {
    let mut v: Vec<String> = Vec::new();
    if root.is_none() {
        v.extend(
            target
                .tool_dirs
                .iter()
                .map(|d| d.join(l.tool).display().to_string()),
        );
    }
    for p in l.tool_paths {
        let s = under(root, p).display().to_string();
        if !v.contains(&s) {
            v.push(s);
        }
    }
    v.join(", ")
}

fn refresh(target: &StoreTarget, l: &Layout, action: Action) -> Result<Refresh, TrustStoreError> {
    let args: Vec<String> = match action {
        Action::Install => l.install_args,
        Action::Uninstall => l.uninstall_args,
    }
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let missing = |root: Option<&Path>| TrustStoreError::MissingTool {
        tool: l.tool,
        looked: looked(target, l, root),
        package: l.package,
        where_: if root.is_some() { " in the image" } else { "" },
    };
    let Some(root) = target.root.as_deref() else {
        let tool = host_tool(target, l).ok_or_else(|| missing(None))?;
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
    // Debian: this machine's update-ca-certificates, pointed at the image's directories.
    if target.system == TrustSystem::Debian
        && let Some(tool) = host_tool(target, l).filter(|t| takes_root_flags(t))
    {
        return Ok(debian_with_flags(root, tool, args));
    }
    // Others: the image's own tool, inside the image.
    let in_image = l
        .tool_paths
        .iter()
        .find(|p| under(Some(root), p).is_file())
        .ok_or_else(|| missing(Some(root)))?;
    let mut chroot_args = vec![root.display().to_string(), (*in_image).to_owned()];
    chroot_args.extend(args);
    let chroot = target
        .find_tool("chroot")
        .or_else(|| Some(PathBuf::from("/usr/sbin/chroot")).filter(|p| p.is_file()));
    match chroot {
        Some(chroot) if target.privileged => Ok(Refresh {
            steps: vec![Step::Run {
                program: chroot,
                args: chroot_args,
            }],
            pending: false,
            requires: Privilege::Root,
            notes: vec![Note::InsideImage],
        }),
        _ => {
            let command = std::iter::once("chroot".to_owned())
                .chain(chroot_args.iter().map(|a| super::plan::quote(a)))
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

fn debian_with_flags(root: &Path, tool: PathBuf, mut args: Vec<String>) -> Refresh {
    let r = |p: &str| under(Some(root), p);
    let etc_certs = r("/etc/ssl/certs");
    let mut steps = Vec::new();
    if !etc_certs.is_dir() {
        steps.push(Step::CreateDir {
            path: etc_certs.clone(),
        });
    }
    for (flag, dir) in [
        ("--certsconf", "/etc/ca-certificates.conf"),
        ("--certsdir", "/usr/share/ca-certificates"),
        ("--localcertsdir", "/usr/local/share/ca-certificates"),
        ("--etccertsdir", "/etc/ssl/certs"),
    ] {
        args.push(flag.to_owned());
        args.push(r(dir).display().to_string());
    }
    // /dev/null is no directory: the image's hooks are not run on this machine.
    args.push("--hooksdir".to_owned());
    args.push("/dev/null".to_owned());
    steps.push(Step::Run {
        program: tool,
        args,
    });
    steps.push(Step::RebaseLinks {
        dir: etc_certs,
        root: root.to_owned(),
    });
    let hooks = r("/etc/ca-certificates/update.d");
    let mut notes = Vec::new();
    if std::fs::read_dir(&hooks).is_ok_and(|mut d| d.next().is_some()) {
        notes.push(Note::HooksNotRun { dir: hooks });
    }
    Refresh {
        steps,
        pending: false,
        requires: Privilege::None,
        notes,
    }
}

pub(crate) fn install(
    target: &StoreTarget,
    cert: &StoreCertificate,
    anchors: &Path,
    file: PathBuf,
) -> Result<Plan, TrustStoreError> {
    let l = layout(target.system);
    let refresh = refresh(target, &l, Action::Install)?;
    let mut steps = Vec::new();
    if !anchors.is_dir() {
        steps.push(Step::CreateDir {
            path: anchors.to_owned(),
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
            path: target.under(l.bundle),
        }),
        requires: refresh.requires,
        notes: refresh.notes,
    })
}

pub(crate) fn uninstall(target: &StoreTarget, found: &Installed) -> Result<Plan, TrustStoreError> {
    let l = layout(target.system);
    let refresh = refresh(target, &l, Action::Uninstall)?;
    let mut steps = vec![Step::RemoveFile {
        path: found.path.clone(),
    }];
    let mut notes = refresh.notes;
    let debian_flags = refresh
        .steps
        .iter()
        .any(|s| matches!(s, Step::RebaseLinks { .. }));
    if debian_flags {
        // Its link in /etc/ssl/certs was rebased to the in-image path, which --fresh resolves
        // on this machine: remove it here.
        if let Some(stem) = found.path.file_stem() {
            let link = target
                .under("/etc/ssl/certs")
                .join(format!("{}.pem", stem.to_string_lossy()));
            if std::fs::symlink_metadata(&link).is_ok() {
                steps.push(Step::RemoveFile { path: link });
            }
        }
    }
    steps.extend(refresh.steps);
    let bundle = target.under(l.bundle);
    if target.system == TrustSystem::Debian
        && !refresh.pending
        && debian_sources_left(target, &found.path) == 0
        && bundle.is_file()
    {
        steps.push(Step::WriteFile {
            path: bundle.clone(),
            mode: 0o644,
            content: Content::Empty,
            bytes: Vec::new(),
        });
        notes.push(Note::EmptyStore {
            bundle: bundle.clone(),
        });
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

/// How many certificates Debian's update-ca-certificates would still put in the bundle once
/// `removed` is gone: the `.crt` files under the local directory and the entries of
/// ca-certificates.conf that exist.
fn debian_sources_left(target: &StoreTarget, removed: &Path) -> usize {
    fn crt_files(dir: &Path, removed: &Path, n: &mut usize) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                crt_files(&p, removed, n);
            } else if p != removed && p.extension().is_some_and(|x| x == "crt") && p.is_file() {
                *n += 1;
            }
        }
    }
    let mut n = 0;
    crt_files(
        &target.under("/usr/local/share/ca-certificates"),
        removed,
        &mut n,
    );
    let certsdir = target.under("/usr/share/ca-certificates");
    if let Ok(conf) = std::fs::read_to_string(target.under("/etc/ca-certificates.conf")) {
        n += conf
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('!'))
            .filter(|l| certsdir.join(l).is_file())
            .count();
    }
    n
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::truststore::cert::tests::root as root_ca;
    use crate::truststore::detect::OsRelease;
    use crate::truststore::plan::{InstallPlan, UninstallPlan, plan_install, plan_uninstall};

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
    fn debian_and_ubuntu_images_use_the_directory_flags() {
        for os in ["debian", "ubuntu"] {
            let (root, host, system) = image(os, &[], true);
            let t = target(system, &root, &host, false);
            let plan = install_plan(&t);
            let tool = host.0.join("update-ca-certificates").display().to_string();
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
                        "{tool} --certsconf {} --certsdir {} --localcertsdir {} --etccertsdir {} --hooksdir /dev/null",
                        root.s("/etc/ca-certificates.conf"),
                        root.s("/usr/share/ca-certificates"),
                        root.s("/usr/local/share/ca-certificates"),
                        root.s("/etc/ssl/certs")
                    ),
                    format!(
                        "relink each symlink in {} that points into {} to the same path inside the image",
                        root.s("/etc/ssl/certs"),
                        root.0.display()
                    ),
                ],
                "{os}"
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
    fn debian_uninstall_removes_file_and_link_refreshes_fresh_and_empties_a_bundle_left_alone() {
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
        let fp = crate::truststore::cert::Fingerprint::Sha256(cert.sha256.clone());
        let UninstallPlan::Steps(plan) = plan_uninstall(&t, &fp).unwrap() else {
            panic!()
        };
        let s = shown(&plan);
        assert_eq!(s[0], format!("rm -f {}", file.display()));
        assert_eq!(
            s[1],
            format!("rm -f {}", root.s("/etc/ssl/certs/pki-owner.pem"))
        );
        assert!(
            s[2].contains("update-ca-certificates --fresh --certsconf"),
            "{}",
            s[2]
        );
        assert!(s[3].starts_with("relink"));
        assert_eq!(
            s[4],
            format!(
                "write {} (mode 0644): empty",
                root.s("/etc/ssl/certs/ca-certificates.crt")
            )
        );
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
        // With another certificate in the store, the tool rewrites the bundle itself.
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
        assert!(!shown(&plan).iter().any(|s| s.ends_with("empty")));
        // Installing it again: it is there already, found by fingerprint under any name.
        assert!(matches!(
            plan_install(&t, &cert, "pki-other-name").unwrap(),
            InstallPlan::Already(crate::truststore::Already::InstalledByPki { path }) if path == file
        ));
    }

    #[test]
    fn other_families_refresh_inside_the_image_through_chroot() {
        for (os, anchor, tool, args, bundle) in [
            (
                "alpine",
                "/usr/local/share/ca-certificates/pki-owner.crt",
                "/usr/sbin/update-ca-certificates",
                "",
                "/etc/ssl/certs/ca-certificates.crt",
            ),
            (
                "rhel",
                "/etc/pki/ca-trust/source/anchors/pki-owner.pem",
                "/usr/bin/update-ca-trust",
                " extract",
                "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
            ),
            (
                "fedora",
                "/etc/pki/ca-trust/source/anchors/pki-owner.pem",
                "/usr/bin/update-ca-trust",
                " extract",
                "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
            ),
            (
                "centos",
                "/etc/pki/ca-trust/source/anchors/pki-owner.pem",
                "/usr/bin/update-ca-trust",
                " extract",
                "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
            ),
            (
                "azurelinux",
                "/etc/pki/ca-trust/source/anchors/pki-owner.pem",
                "/usr/bin/update-ca-trust",
                " extract",
                "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
            ),
            (
                "mariner",
                "/etc/pki/ca-trust/source/anchors/pki-owner.pem",
                "/usr/bin/update-ca-trust",
                " extract",
                "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
            ),
            (
                "opensuse-leap",
                "/etc/pki/trust/anchors/pki-owner.pem",
                "/usr/sbin/update-ca-certificates",
                "",
                "/var/lib/ca-certificates/ca-bundle.pem",
            ),
            (
                "sles",
                "/etc/pki/trust/anchors/pki-owner.pem",
                "/usr/sbin/update-ca-certificates",
                "",
                "/var/lib/ca-certificates/ca-bundle.pem",
            ),
            (
                "arch",
                "/etc/ca-certificates/trust-source/anchors/pki-owner.crt",
                "/usr/bin/trust",
                " extract-compat",
                "/etc/ca-certificates/extracted/tls-ca-bundle.pem",
            ),
        ] {
            // Even with Debian's tool on this machine, these run their own inside the image.
            let (root, host, system) = image(os, &[tool], true);
            let anchors = Path::new(anchor).parent().unwrap().display().to_string();
            let t = target(system, &root, &host, true);
            let plan = install_plan(&t);
            assert_eq!(
                shown(&plan),
                [
                    format!("mkdir -p {}", root.s(&anchors)),
                    format!("write {} (mode 0644): the certificate, PEM", root.s(anchor)),
                    format!(
                        "{} {} {tool}{args}",
                        host.0.join("chroot").display(),
                        root.0.display()
                    ),
                ],
                "{os}"
            );
            assert_eq!(
                plan.confirm,
                Some(Confirm::Bundle {
                    path: root.0.join(bundle.trim_start_matches('/'))
                }),
                "{os}"
            );
            assert_eq!(plan.requires, Privilege::Root);
            assert_eq!(plan.notes, [Note::InsideImage]);
            // Not root: the file goes in, and the plan says what must run inside the image.
            let t = target(system, &root, &host, false);
            let plan = install_plan(&t);
            assert_eq!(plan.steps.len(), 2, "{os}");
            assert_eq!(plan.confirm, None);
            assert_eq!(plan.requires, Privilege::None);
            assert_eq!(
                plan.notes,
                [Note::RefreshPending {
                    command: format!("chroot {} {tool}{args}", root.0.display())
                }],
                "{os}"
            );
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
