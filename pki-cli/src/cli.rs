//! The `pki` command line's top: the global options and the commands, each named by its
//! arguments' type. Each command's flags, help text and examples live beside its `run`, in
//! `commands/<command>.rs`; the flag groups several commands share and the value parsers in
//! `args.rs`.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::env;

// `main` reads a value pki refused as this type.
pub(crate) use crate::args::BadValue;
use crate::commands::c8y::C8yCommand;
use crate::commands::ca::{EdgeCaArgs, IntermediateCaArgs, OwnerCaArgs};
use crate::commands::completions::CompletionsArgs;
use crate::commands::crl::{CrlArgs, CrlUrlArgs};
use crate::commands::csr::CsrCommand;
use crate::commands::est::EstCommand;
use crate::commands::export::ExportArgs;
use crate::commands::guide::GuideArgs;
use crate::commands::hsm::HsmCommand;
use crate::commands::issue::{IssueCommand, SelfSignedArgs, VerificationArgs};
use crate::commands::list::ListArgs;
use crate::commands::manpages::ManpagesArgs;
use crate::commands::needs_renewal::NeedsRenewalArgs;
use crate::commands::quickstart::QuickstartArgs;
use crate::commands::renew::RenewArgs;
use crate::commands::report::ReportArgs;
use crate::commands::revoke::RevokeArgs;
use crate::commands::scan::ScanArgs;
use crate::commands::show::ShowArgs;
use crate::commands::trust::{InstallCaArgs, ListCaArgs, UninstallCaArgs};
use crate::commands::verify::VerifyArgs;

/// pki: certificates for IoT fleets and edge gateways.
///
/// Builds the PKI of an Azure IoT Edge transparent gateway and its downstream devices (owner CA,
/// intermediate, edge CA, gateway server and device certificates), inspects certificates, and
/// keeps everything in a CA directory whose file names follow Azure's certGen.sh.
#[derive(Debug, Parser)]
#[command(name = "pki", version, propagate_version = true, after_long_help = concat!(
    "EXAMPLES:\n",
    "  pki quickstart --gateway gw.contoso.com\n",
    "  pki create-owner-ca && pki create-intermediate-ca && pki create-edge-ca gw\n",
    "  pki issue server gw.contoso.com --san 10.0.0.4\n",
    "  pki show pki/certs/iot-edge-server-gw.contoso.com-full-chain.cert.pem\n\n",
    "EXIT CODES:\n  0  success\n  1  negative verdict\n  2  could not run"))]
pub(crate) struct Cli {
    /// The CA directory.
    #[arg(
        long,
        global = true,
        env = env::PKI_DIR,
        default_value = "pki",
        value_name = "DIR"
    )]
    pub(crate) dir: PathBuf,
    /// The register of issued certificates: a `postgres://user:password@host:port/db` URL that
    /// several build agents share, or a SQLite file (default, and without a value:
    /// register.sqlite3 in --dir). `pki needs-renewal --register` judges every certificate in it.
    #[arg(
        long,
        global = true,
        env = env::PKI_REGISTER,
        hide_env_values = true,
        value_name = "URL|FILE",
        num_args = 0..=1,
        default_missing_value = "",
        value_parser = register_location
    )]
    pub(crate) register: Option<RegisterArg>,
    /// Print one JSON document on stdout (errors included) instead of text.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// The PKCS#11 module that serves `pkcs11:` keys (for example SoftHSM2's
    /// /usr/lib/softhsm/libsofthsm2.so); a URI's module-path= overrides it.
    #[arg(long, global = true, env = env::PKI_PKCS11_MODULE, value_name = "PATH")]
    pub(crate) pkcs11_module: Option<PathBuf>,
    /// The command.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Parses the command line, as `Cli::try_parse_from` does, except that a long help (`--help`,
/// `pki help CMD`) writes each command's EXAMPLES and EXIT CODES sections verbatim: clap wraps an
/// after-help text at the terminal's width, which would split an example's command line and
/// break its copy-paste.
pub(crate) fn parse(args: &[OsString]) -> Result<Cli, clap::Error> {
    let mut cmd = Cli::command();
    if long_help_asked(args) {
        cmd = verbatim_examples(cmd);
    }
    let mut matches = cmd.try_get_matches_from_mut(args)?;
    Cli::from_arg_matches_mut(&mut matches).map_err(|e| e.format(&mut Cli::command()))
}

/// Whether the command line asks for a long help: `--help`, or the `help` command, before any
/// `--`. (A device named `help` only makes the sections verbatim, which a run does not show.)
fn long_help_asked(args: &[OsString]) -> bool {
    args.iter()
        .skip(1)
        .take_while(|a| *a != "--")
        .any(|a| a == "--help" || a == "help")
}

/// `cmd` and every command under it with its after-help split in two: the prose before
/// "EXAMPLES:" stays the after-help (wrapped by clap), the rest is written as it is in the
/// source, as literal text of the help template (which clap does not wrap).
fn verbatim_examples(cmd: clap::Command) -> clap::Command {
    let cmd = cmd.mut_subcommands(verbatim_examples);
    let Some(text) = cmd.get_after_long_help().map(ToString::to_string) else {
        return cmd;
    };
    let Some(at) = text.find("EXAMPLES:\n") else {
        return cmd;
    };
    let (prose, verbatim) = text.split_at(at);
    let prose = prose.trim_end();
    // clap's default template, then the sections. `{after-help}` writes a blank line and the
    // prose; a prose of " " writes the blank line alone (and keeps the command's long help).
    let template = format!(
        "{{before-help}}{{about-with-newline}}\n{{usage-heading}} {{usage}}\n\n{{all-args}}{{after-help}}{}{verbatim}",
        if prose.is_empty() { "" } else { "\n\n" }
    );
    let prose = if prose.is_empty() { " " } else { prose };
    cmd.after_long_help(prose.to_owned())
        .help_template(template)
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create (or import) the owner / root CA.
    CreateOwnerCa(OwnerCaArgs),
    /// Create the intermediate CA, signed by the owner CA.
    CreateIntermediateCa(IntermediateCaArgs),
    /// Create an Azure IoT Edge device CA (CA:TRUE, pathlen:0, CN NAME.ca).
    CreateEdgeCa(EdgeCaArgs),
    /// Issue a gateway server or downstream device certificate.
    #[command(subcommand)]
    Issue(IssueCommand),
    /// Create a proof-of-possession certificate (CN = the verification code).
    CreateVerificationCert(VerificationArgs),
    /// Create a thin-edge style self-signed device certificate (CN = device id).
    SelfSigned(SelfSignedArgs),
    /// Create or sign certificate signing requests.
    #[command(subcommand)]
    Csr(CsrCommand),
    /// Show certificates: subject, issuer, status, serial, thumbprints, key, extensions, chain.
    Show(ShowArgs),
    /// Verify a gateway (HOST:PORT) or certificate files as a downstream device would.
    Verify(VerifyArgs),
    /// Say whether certificates need renewing (exit 0 when one does, as step and tedge do).
    NeedsRenewal(NeedsRenewalArgs),
    /// Renew a certificate of the register without an outage (and roll back if the gateway
    /// does not take it).
    Renew(RenewArgs),
    /// List the register: every certificate pki issued, with its state.
    List(ListArgs),
    /// Write a picture of the fleet: an HTML page (expiry timeline, CAs, states, renewals due,
    /// gateways' drift) and/or Prometheus textfile counts.
    Report(ReportArgs),
    /// Revoke certificates: mark them revoked in the register, for `pki crl` to list.
    Revoke(RevokeArgs),
    /// Write a CA's certificate revocation list (CRL) into pki/crl/, as PEM and DER.
    Crl(CrlArgs),
    /// Show or set the CRL distribution point certificates of this directory carry.
    CrlUrl(CrlUrlArgs),
    /// Check many gateways at once: pki verify's verdicts and the days left on every certificate.
    Scan(ScanArgs),
    /// Build a complete demo gateway PKI in one step and say where each file goes.
    Quickstart(QuickstartArgs),
    /// Install a CA certificate where the operating system's TLS clients look for trust anchors.
    InstallCa(InstallCaArgs),
    /// Remove a CA certificate that pki installed from the operating system's store.
    UninstallCa(UninstallCaArgs),
    /// List the CA certificates pki installed in the operating system's store (--all: every one).
    ListCa(ListCaArgs),
    /// Register CA certificates with a Cumulocity IoT tenant.
    #[command(subcommand)]
    C8y(C8yCommand),
    /// See what PKCS#11 tokens hold: `pki hsm list-tokens`, `pki hsm list-keys`.
    #[command(subcommand)]
    Hsm(HsmCommand),
    /// EST enrolment (RFC 7030): `pki est secret DEVICE_ID` makes a one-time enrolment secret;
    /// `pki est enroll` / `reenroll` are the device's client.
    #[command(subcommand)]
    Est(EstCommand),
    /// Export a certificate (and its key) as PKCS#12, a Java/.NET truststore, DER or PEM.
    Export(ExportArgs),
    /// Print what to write on a device for one SDK or client: a snippet with the real paths.
    Guide(GuideArgs),
    /// Print shell completions.
    Completions(CompletionsArgs),
    /// Write the man pages of pki and of every command (pki.1, pki-issue.1, ...) into DIR.
    ///
    /// Hidden: scripts/deb.sh runs it to put the pages in the Debian package.
    #[command(hide = true)]
    Manpages(ManpagesArgs),
}

// ---------------------------------------------------------------------------------------------
// The values flags take: each string becomes its domain value here, once, at the edge.

/// `--register`: the CA directory's own register (no value), or one elsewhere.
#[derive(Debug, Clone)]
pub(crate) enum RegisterArg {
    /// `--register` alone: register.sqlite3 in the CA directory.
    Default,
    /// A PostgreSQL URL or a SQLite file.
    At(pki_core::register::Location),
}

/// `--register`: a PostgreSQL URL or a SQLite file. Refused as pki's own error (a [`BadValue`]),
/// so that clap never echoes the value: a URL may hold a password.
fn register_location(s: &str) -> Result<RegisterArg, BadValue> {
    if s.is_empty() {
        return Ok(RegisterArg::Default);
    }
    pki_core::register::Location::parse(s)
        .map(RegisterArg::At)
        .map_err(|e| BadValue(pki_core::Error::from(e).into()))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::CommandFactory;
    use pki_core::{CaRole, KeyType, Threshold};

    use super::*;
    use crate::args::{IssuerSpec, instant, threshold};
    use crate::commands::c8y::C8yCommand;
    use crate::commands::issue::IssueCommand;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn flags_take_domain_values_once_at_the_edge() {
        let cli = Cli::try_parse_from([
            "pki",
            "verify",
            "gw:8883",
            "--at",
            "2030-01-01T00:00:00Z",
            "--timeout",
            "0.5",
        ])
        .unwrap();
        let Command::Verify(v) = cli.command else {
            panic!("not verify")
        };
        assert_eq!(v.at, Some(time::macros::datetime!(2030-01-01 0:00 UTC)));
        assert_eq!(v.timeout, Duration::from_millis(500));
        let cli =
            Cli::try_parse_from(["pki", "issue", "device", "d", "--key-type", "RSA-3072"]).unwrap();
        let Command::Issue(IssueCommand::Device(d)) = cli.command else {
            panic!("not issue device")
        };
        assert_eq!(d.key_opts.key_type, KeyType::Rsa(3072));
        assert_eq!(d.issuer.issuer, None);
        let cli = Cli::try_parse_from(["pki", "c8y", "list", "--url", "u", "--user", "x"]).unwrap();
        let Command::C8y(C8yCommand::List(l)) = cli.command else {
            panic!("not c8y list")
        };
        assert_eq!(l.conn.timeout, Duration::from_secs(120));
    }

    #[test]
    fn issuers_are_roles_or_files() {
        let parse = |s| IssuerSpec::parse(s).unwrap();
        assert_eq!(parse("root"), IssuerSpec::Role(CaRole::Root));
        assert_eq!(parse("owner-ca"), IssuerSpec::Role(CaRole::Root));
        assert_eq!(
            parse("intermediate"),
            IssuerSpec::Role(CaRole::Intermediate)
        );
        assert_eq!(
            parse("edge-ca:gw1"),
            IssuerSpec::Role(CaRole::EdgeCa("gw1".into()))
        );
        assert_eq!(
            parse("edge:gw1"),
            IssuerSpec::Role(CaRole::EdgeCa("gw1".into()))
        );
        assert_eq!(parse("ca/root.pem"), IssuerSpec::File("ca/root.pem".into()));
    }

    /// The message pki prints for a value it refused, or None for clap's own refusal.
    fn refused(args: &[&str]) -> Option<String> {
        let e = Cli::try_parse_from(args).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::ValueValidation);
        std::error::Error::source(&e)
            .and_then(|s| s.downcast_ref::<BadValue>())
            .map(ToString::to_string)
    }

    #[test]
    fn refused_values_say_the_flag_the_value_and_what_is_accepted() {
        assert_eq!(
            refused(&["pki", "verify", "h", "--timeout", "0"]).as_deref(),
            Some("--timeout 0: give a number of seconds greater than 0 and at most 3600")
        );
        assert_eq!(
            refused(&["pki", "verify", "h", "--timeout", "NaN"]).as_deref(),
            Some("--timeout NaN: give a number of seconds greater than 0 and at most 3600")
        );
        assert!(
            refused(&["pki", "verify", "h", "--timeout", "1e30"])
                .unwrap()
                .starts_with("--timeout 1000000000000000000000000000000: give")
        );
        // Not a number at all: clap's own error, as for any number.
        assert_eq!(refused(&["pki", "verify", "h", "--timeout", "soon"]), None);
        assert_eq!(refused(&["pki", "c8y", "list", "--timeout", "0"]), None);
        let at = refused(&["pki", "show", "a.pem", "--at", "2030-13-01T00:00:00Z"]).unwrap();
        assert_eq!(
            at,
            "--at \"2030-13-01T00:00:00Z\" is not a date such as 2028-01-01 (midnight UTC) or an \
             RFC 3339 time such as 2026-11-22T10:00:00Z: month was not in range"
        );
        assert_eq!(
            instant("2028-01-01").unwrap(),
            time::macros::datetime!(2028-01-01 0:00 UTC)
        );
        assert_eq!(
            refused(&["pki", "create-owner-ca", "--key-type", "dsa-1024"]).as_deref(),
            Some(
                "unknown key type \"dsa-1024\": use ec-p256, ec-p384, ed25519, rsa-2048, rsa-3072 or rsa-4096"
            )
        );
    }

    #[test]
    fn thresholds_are_times_left_or_shares_of_the_lifetime() {
        let t = |s| threshold("--expires-in", s).map_err(|e| e.to_string());
        let days = |n| Threshold::Remaining(time::Duration::days(n));
        assert_eq!(t("30d"), Ok(days(30)));
        assert_eq!(t("2w"), Ok(days(14)));
        assert_eq!(
            t("1d12h"),
            Ok(Threshold::Remaining(time::Duration::hours(36)))
        );
        assert_eq!(t("0s"), Ok(Threshold::Remaining(time::Duration::ZERO)));
        let share = |n, d| Threshold::Elapsed(pki_core::Fraction::new(n, d).unwrap());
        assert_eq!(t("66%"), Ok(share(66, 100)));
        assert_eq!(t("66.5%"), Ok(share(665, 1000)));
        assert_eq!(t("100%"), Ok(share(1, 1)));
        assert_eq!(t("0%"), Ok(share(0, 1)));
        let said = "--expires-in \"30\": give a time left such as 30d, 12h or 1d12h, or a share of the lifetime such as 66%";
        assert_eq!(t("30").unwrap_err(), said);
        for bad in [
            "",
            "d",
            "30x",
            "-1d",
            "101%",
            "%",
            "6.6.6%",
            "1.2345%",
            "99999999999999999999d",
            "101y",
            "40000d",
        ] {
            assert!(t(bad).is_err(), "{bad}");
        }
        // Through clap: pki's one line naming the flag.
        assert_eq!(
            refused(&["pki", "scan", "hosts", "--warn", "soon"]).as_deref(),
            Some(
                "--warn \"soon\": give a time left such as 30d, 12h or 1d12h, or a share of the lifetime such as 66%"
            )
        );
        let cli = Cli::try_parse_from(["pki", "needs-renewal", "a.pem", "b.pem"]).unwrap();
        let Command::NeedsRenewal(n) = cli.command else {
            panic!("not needs-renewal")
        };
        assert_eq!((n.files.len(), n.expires_in), (2, None));
        let cli = Cli::try_parse_from(["pki", "scan", "hosts"]).unwrap();
        let Command::Scan(s) = cli.command else {
            panic!("not scan")
        };
        assert_eq!(
            (s.jobs, s.warn, s.timeout),
            (64, days(30), Duration::from_secs(5))
        );
    }

    #[test]
    fn every_command_help_ends_with_examples_and_exit_codes() {
        let mut cmd = Cli::command();
        cmd.build();
        fn walk(c: &clap::Command, path: &str) {
            for sub in c.get_subcommands().filter(|s| s.get_name() != "help") {
                let p = format!("{path} {}", sub.get_name());
                if sub.has_subcommands() {
                    walk(sub, &p);
                    continue;
                }
                let help = sub
                    .get_after_long_help()
                    .map(|h| h.to_string())
                    .unwrap_or_default();
                assert!(
                    help.contains("EXAMPLES:") && help.contains("EXIT CODES:"),
                    "{p}"
                );
            }
        }
        walk(&cmd, "pki");
    }

    #[test]
    fn examples_are_never_rewrapped() {
        fn leaves(c: &clap::Command, out: &mut Vec<clap::Command>) {
            out.push(c.clone());
            for sub in c.get_subcommands().filter(|s| s.get_name() != "help") {
                leaves(sub, out);
            }
        }
        let mut source = Cli::command();
        source.build();
        let mut narrow = verbatim_examples(Cli::command());
        narrow.build();
        let (mut sources, mut rendered) = (Vec::new(), Vec::new());
        leaves(&source, &mut sources);
        leaves(&narrow, &mut rendered);
        assert_eq!(sources.len(), rendered.len());
        let mut checked = 0;
        for (src, cmd) in sources.into_iter().zip(rendered) {
            let Some(text) = src.get_after_long_help().map(ToString::to_string) else {
                continue;
            };
            let examples: Vec<&str> = text
                .split_once("EXAMPLES:\n")
                .expect("every after-help has examples")
                .1
                .lines()
                .collect();
            let help = cmd.term_width(60).render_long_help().to_string();
            let shown: Vec<&str> = help
                .split_once("EXAMPLES:\n")
                .unwrap_or_else(|| panic!("no EXAMPLES in\n{help}"))
                .1
                .lines()
                .collect();
            assert_eq!(shown, examples, "{}", src.get_name());
            checked += 1;
        }
        assert!(checked > 25, "{checked}");
    }
}
