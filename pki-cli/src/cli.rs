//! Every clap type of the `pki` command line: commands, their flags, help texts and examples.

use std::path::PathBuf;
use std::time::Duration;

use clap::builder::TypedValueParser;
use clap::{Args, Parser, Subcommand, ValueEnum};
use pki_core::{CaRole, KeyType, Threshold};
use time::OffsetDateTime;

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
        env = "PKI_DIR",
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
        env = "PKI_REGISTER",
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
    #[arg(long, global = true, env = "PKI_PKCS11_MODULE", value_name = "PATH")]
    pub(crate) pkcs11_module: Option<PathBuf>,
    /// The command.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create (or import) the owner / root CA.
    #[command(after_long_help = concat!(
        "Writes certs/azure-iot-test-only.root.ca.cert.pem and private/azure-iot-test-only.root.ca.key.pem.\n\n",
        "EXAMPLES:\n",
        "  pki create-owner-ca --cn \"Contoso Owner CA\" --days 3650\n",
        "  pki create-owner-ca --key-type rsa-4096 --pathlen 2\n",
        "  pki create-owner-ca --import root.pem --key root.key.pem --key-password-file pw.txt\n\n",
        "EXIT CODES:\n  0  success\n  1  negative verdict (for example a key that does not match)\n  2  could not run (bad usage, unreadable input, an existing file without --force)"))]
    CreateOwnerCa(OwnerCaArgs),
    /// Create the intermediate CA, signed by the owner CA.
    #[command(after_long_help = concat!(
        "Writes certs/azure-iot-test-only.intermediate.cert.pem, its -full-chain file and its key.\n\n",
        "EXAMPLES:\n",
        "  pki create-intermediate-ca\n",
        "  pki create-intermediate-ca --cn \"Contoso Intermediate\" --pathlen 1\n",
        "  pki create-intermediate-ca --import inter.pem --key inter.key.pem\n\n",
        "EXIT CODES:\n  0  success\n  2  could not run"))]
    CreateIntermediateCa(IntermediateCaArgs),
    /// Create an Azure IoT Edge device CA (CA:TRUE, pathlen:0, CN NAME.ca).
    #[command(after_long_help = concat!(
        "Signed by the intermediate CA when there is one, else by the owner CA. The CN is NAME.ca and\n",
        "must differ from the gateway's hostname and from every device id (IoT Edge requires it).\n",
        "Point config.toml's [edge_ca] cert at certs/iot-edge-device-ca-NAME-full-chain.cert.pem\n",
        "and pk at private/iot-edge-device-ca-NAME.key.pem.\n\n",
        "EXAMPLES:\n",
        "  pki create-edge-ca gateway1\n",
        "  pki create-edge-ca gateway1 --key-type rsa-2048 --days 90\n\n",
        "EXIT CODES:\n  0  success\n  2  could not run"))]
    CreateEdgeCa(EdgeCaArgs),
    /// Issue a gateway server or downstream device certificate.
    #[command(subcommand)]
    Issue(IssueCommand),
    /// Create a proof-of-possession certificate (CN = the verification code).
    #[command(after_long_help = concat!(
        "Signed by the CA being proven (the owner CA unless --issuer says otherwise). Upload\n",
        "certs/iot-device-verification-code.cert.pem to IoT Hub or Cumulocity to prove you hold the CA key.\n\n",
        "EXAMPLES:\n",
        "  pki create-verification-cert 5D2E8A0B7C...\n",
        "  pki create-verification-cert 5D2E8A0B7C... --issuer intermediate --force\n\n",
        "EXIT CODES:\n  0  success\n  2  could not run"))]
    CreateVerificationCert(VerificationArgs),
    /// Create a thin-edge style self-signed device certificate (CN = device id).
    #[command(after_long_help = concat!(
        "CA:TRUE pathlen:0 with clientAuth, as Cumulocity requires of a trusted device certificate.\n",
        "Written to certs/iot-device-ID.cert.pem and its key, or where --out-cert and --out-key say;\n",
        "either way recorded in the CA directory's register (with the absolute path it was written\n",
        "to), so that `pki renew ID` renews it where it is. `pki guide ID --sdk tedge` prints the\n",
        "thin-edge.io set-up for Cumulocity.\n\n",
        "EXAMPLES:\n",
        "  pki self-signed my-device-0001\n",
        "  pki self-signed my-device-0001 --org \"Thin Edge\" --unit Device \\\n",
        "      --out-cert /etc/tedge/device-certs/tedge-certificate.pem \\\n",
        "      --out-key /etc/tedge/device-certs/tedge-private-key.pem\n\n",
        "EXIT CODES:\n  0  success\n  2  could not run"))]
    SelfSigned(SelfSignedArgs),
    /// Create or sign certificate signing requests.
    #[command(subcommand)]
    Csr(CsrCommand),
    /// Show certificates: subject, issuer, status, serial, thumbprints, key, extensions, chain.
    #[command(after_long_help = concat!(
        "Reads PEM (bundles too) and DER. Prints what `tedge cert show` prints and more. A CRL (PEM\n",
        "`X509 CRL`, or DER) is shown with its issuer, number, dates, authority key identifier and every\n",
        "revoked serial with its date and reason.\n\n",
        "EXAMPLES:\n",
        "  pki show pki/crl/intermediate.crl.pem\n",
        "  pki show pki/certs/azure-iot-test-only.root.ca.cert.pem\n",
        "  pki show device.pem --key device.key.pem\n",
        "  pki show --json chain.pem | jq -r '.certificates[].sha1'\n\n",
        "EXIT CODES:\n  0  shown (and the key matches, with --key)\n  1  the key does not match the certificate\n  2  could not run (unreadable or invalid input)"))]
    Show(ShowArgs),
    /// Verify a gateway (HOST:PORT) or certificate files as a downstream device would.
    #[command(after_long_help = concat!(
        "Online, it resolves the name, connects, handshakes (SNI = HOST), records exactly the chain the\n",
        "server sent, and judges it twice: as OpenSSL-based devices do (the same code and depth as\n",
        "`openssl s_client -verify_return_error -verify_hostname HOST`), and as rustls clients do. It checks\n",
        "the name, the clock, whether the server demands a client certificate, and a connection string's\n",
        "GatewayHostName, and says in plain words what to change. Offline (--chain), it gives the verdicts\n",
        "of `openssl verify` for files.\n\n",
        "EXAMPLES:\n",
        "  pki verify gw.contoso.com:8883 --ca-file pki/certs/azure-iot-test-only.root.ca.cert.pem\n",
        "  pki verify 10.0.0.4:8883 --servername gw.contoso.com --os-store --showcerts\n",
        "  pki verify gw.contoso.com:8883 --ca-file root.pem \\\n",
        "      --connection-string 'HostName=hub.azure-devices.net;DeviceId=d1;x509=true;GatewayHostName=gw.contoso.com' \\\n",
        "      --cert pki/certs/iot-device-d1-full-chain.cert.pem --key pki/private/iot-device-d1.key.pem\n",
        "  pki verify --chain leaf.pem --untrusted chain.pem --ca-file root.pem --purpose server --hostname gw\n",
        "  pki verify --chain leaf.pem --untrusted chain.pem --ca-file root.pem --crl intermediate.crl.pem\n",
        "  pki verify gw.contoso.com:8883 --ca-file root.pem --crl all.crl.pem --crl-check-all\n\n",
        "EXIT CODES:\n  0  the device would accept the gateway (verified OK)\n  1  it would not\n",
        "  2  the check could not run (bad input, name does not resolve, connection refused, timeout)"))]
    Verify(VerifyArgs),
    /// Say whether certificates need renewing (exit 0 when one does, as step and tedge do).
    #[command(after_long_help = concat!(
        "Judges the first certificate of each file (the leaf of a full-chain file), as\n",
        "`step certificate needs-renewal` does without --bundle. By default a certificate needs renewal\n",
        "once two thirds of its lifetime (notAfter - notBefore) have passed; --expires-in 30d renews when\n",
        "30 days or less are left, --expires-in 75% when three quarters have passed. The instant of the\n",
        "threshold counts; an expired certificate always needs renewal. The exit codes are step's and\n",
        "tedge's, so a systemd unit's ExecCondition= runs the renewal only when it is due.\n\n",
        "EXAMPLES:\n",
        "  pki needs-renewal pki/certs/iot-edge-server-gw.contoso.com.cert.pem && pki renew ...\n",
        "  pki needs-renewal /etc/mosquitto/certs/*.pem --expires-in 30d\n",
        "  pki needs-renewal device.pem --expires-in 12h --at 2027-03-01T00:00:00Z --json\n\n",
        "EXIT CODES:\n  0  at least one certificate needs renewal (or has expired)\n",
        "  1  none does\n",
        "  2  could not run (a missing, unreadable or invalid file: nothing is judged)"))]
    NeedsRenewal(NeedsRenewalArgs),
    /// Renew a certificate of the register without an outage (and roll back if the gateway
    /// does not take it).
    #[command(after_long_help = concat!(
        "Re-issues with the same subject, SANs, profile, extensions and issuer, a new random serial,\n",
        "a fresh key of the same type (--reuse-key keeps the old one) and the original's lifetime\n",
        "starting now (--days to change it; never beyond the issuer). The new files go to the\n",
        "standard paths, so a gateway's configuration keeps working; the replaced ones are kept as\n",
        "certs/PREFIX.OLDSERIAL.cert.pem, certs/PREFIX.OLDSERIAL-full-chain.cert.pem and\n",
        "private/PREFIX.OLDSERIAL.key.pem (0600). The register marks the old certificate superseded\n",
        "by the new one. All of it is one transaction: --exec CMD runs (sh -c) once the new files are\n",
        "in place; --verify HOST:PORT then checks that the gateway serves the NEW certificate and that\n",
        "a device (OpenSSL and rustls) accepts it, trusting the directory's root (and presenting --cert\n",
        "and --key, to a gateway that requires a client certificate). If the hook or the check fails,\n",
        "the old files are put back, the hook runs again so the gateway serves them, and the register\n",
        "is left as it was; the files are then read back, and any the hook removed or changed is named.\n",
        "The renewal holds the register's write lock until the hook and the check confirm it: a hook\n",
        "may read the register (pki list, pki show) but a pki in it that writes the register (pki crl,\n",
        "issue, revoke) fails at once, naming the lock; run those after pki renew returns.\n\n",
        "FILE is a certificate file; DEVICE_ID a device id or gateway host name (its certificate in\n",
        "service; of several, the one expiring last); root, intermediate or edge-ca:NAME a CA of the\n",
        "directory. Renewing a CA gives it a new key under the same parent; what it signed keeps\n",
        "verifying with its full-chain files (pki list --issuer OLD_CA_FILE shows what still hangs from\n",
        "the old one). Renewing the root is a rollover: a new root and certs/PREFIX.transition.pem\n",
        "with both roots, to install on every device before re-issuing what the report lists.\n",
        "A CA whose key is on a PKCS#11 token gets its fresh key on the same token (labelled\n",
        "LABEL-RENEWED-AT), or keeps its token key with --reuse-key; what it signs is signed there.\n",
        "The PIN comes from PKI_PKCS11_PIN or a prompt, and never reaches --exec's environment.\n",
        "A self-signed device written elsewhere (pki self-signed --out-cert FILE --out-key FILE) is\n",
        "renewed there, in place: FILE.OLDSERIAL.pem and its key kept beside them, owner and mode\n",
        "kept. A Cumulocity tenant trusts the old certificate, not the new one: --c8y-upload (with\n",
        "--url, --user as `pki c8y upload`) registers it before it is put in place; the old one\n",
        "stays trusted until you remove it.\n\n",
        "EXAMPLES:\n",
        "  pki renew pki/certs/iot-edge-server-gw.contoso.com.cert.pem \\\n",
        "      --exec 'systemctl reload mosquitto' --verify gw.contoso.com:8883\n",
        "  pki renew gw.contoso.com --exec 'systemctl reload mosquitto' --verify gw.contoso.com:8883 \\\n",
        "      --cert pki/certs/iot-device-probe-full-chain.cert.pem --key pki/private/iot-device-probe.key.pem\n",
        "  pki renew sensor-17 --reuse-key\n",
        "  pki renew --expiring 30d --json\n",
        "  pki renew old-device.pem --adopt\n",
        "  C8Y_PASSWORD=... pki renew /etc/tedge/device-certs/tedge-certificate.pem --c8y-upload \\\n",
        "      --url https://t123.eu-latest.cumulocity.com --user admin --exec 'tedge reconnect c8y'\n\n",
        "EXIT CODES:\n  0  every certificate renewed\n",
        "  1  a renewal was rolled back (the hook or the gateway check failed) or failed\n",
        "  2  could not run (unknown device id, a certificate not in the register, a bad file, a\n",
        "     tenant that did not take the new certificate with --c8y-upload: nothing renewed)"))]
    Renew(RenewArgs),
    /// List the register: every certificate pki issued, with its state.
    #[command(after_long_help = concat!(
        "States: valid, expiring (in service, notAfter within --expiring, 30 days by default),\n",
        "expired, superseded (replaced by a renewal or a new PKI), revoked. Rows come by notAfter.\n",
        "With --json: JSON Lines, one certificate a line (the register's fields and its state),\n",
        "the export of what index.jsonl held.\n\n",
        "EXAMPLES:\n",
        "  pki list --expiring 30d\n",
        "  pki list --profile device --cn 'line-7-*' --json > lot.jsonl\n",
        "  pki list --issuer edge-ca:gw --expired\n",
        "  pki --register postgres://pki@db.example/pki list --superseded\n\n",
        "EXIT CODES:\n  0  listed (also when nothing matched)\n  2  could not run (no CA directory, an unreachable or foreign register)"))]
    List(ListArgs),
    /// Revoke certificates: mark them revoked in the register, for `pki crl` to list.
    #[command(after_long_help = concat!(
        "Names a certificate by its file, its serial (hex, with or without colons) or its device id\n",
        "(every certificate with that CN: a renewed device has several). --batch FILE revokes a recalled\n",
        "lot, one certificate file, serial or device id a line ('#' comments), in one transaction: an\n",
        "unknown line changes nothing. Rows are never deleted; revoking again says when it was done.\n",
        "Revoking a CA lists every certificate below it. The gateway refuses a revoked certificate once\n",
        "it reads a new CRL: run `pki crl --all` and reload it.\n\n",
        "REASONS:\n  unspecified (default), keyCompromise, cACompromise, affiliationChanged, superseded,\n",
        "  cessationOfOperation, certificateHold, privilegeWithdrawn, aACompromise\n\n",
        "EXAMPLES:\n",
        "  pki revoke sensor-0042 --reason keyCompromise\n",
        "  pki revoke 4A:3F:9C:...:01 --reason superseded\n",
        "  pki revoke pki/certs/iot-device-sensor-0042.cert.pem\n",
        "  pki revoke --batch recalled-lot-7.txt --reason cessationOfOperation && pki crl --all\n\n",
        "EXIT CODES:\n  0  revoked (or already revoked)\n",
        "  2  could not run (an unknown serial or device id, a bad --batch line: nothing is revoked)"))]
    Revoke(RevokeArgs),
    /// Write a CA's certificate revocation list (CRL) into pki/crl/, as PEM and DER.
    #[command(after_long_help = concat!(
        "Lists every certificate of the register the CA issued and `pki revoke` revoked, with its\n",
        "revocation date and reason; version 2, signed with the CA's key, a CRL number one more than the\n",
        "last (kept in the register), valid --days from now (nextUpdate: write a new one before then).\n",
        "Files: crl/<CA prefix>.crl.pem and .crl.der, replaced atomically. --all writes the CRL of every\n",
        "CA that may sign one (an IoT Edge device CA has no cRLSign) and crl/all.crl.pem, all of them in\n",
        "one file: point mosquitto's `crlfile` (or `openssl verify -crl_check -CRLfile`) at it, since\n",
        "mosquitto checks every certificate of a client's chain. Default CA: the intermediate, else root.\n\n",
        "EXAMPLES:\n",
        "  pki crl --all && sudo systemctl reload mosquitto\n",
        "  pki crl --issuer root --days 30\n",
        "  openssl crl -in pki/crl/azure-iot-test-only.intermediate.crl.pem -noout -text\n\n",
        "EXIT CODES:\n  0  written\n  2  could not run (no such CA, its key missing or encrypted without a password)"))]
    Crl(CrlArgs),
    /// Show or set the CRL distribution point certificates of this directory carry.
    #[command(after_long_help = concat!(
        "Certificates issued afterwards (issue, csr sign, create-intermediate-ca, create-edge-ca,\n",
        "batches) carry it unless --crl-url says otherwise. `{ca}` becomes the issuing CA's file prefix,\n",
        "so that serving pki/crl/ over HTTP serves every CA's CRL.\n\n",
        "EXAMPLES:\n",
        "  pki crl-url 'http://pki.contoso.com/crl/{ca}.crl.der'\n",
        "  pki crl-url\n",
        "  pki crl-url --unset\n\n",
        "EXIT CODES:\n  0  shown or set\n  2  could not run (a URL that is not http://, https:// or ldap://)"))]
    CrlUrl(CrlUrlArgs),
    /// Check many gateways at once: pki verify's verdicts and the days left on every certificate.
    #[command(after_long_help = concat!(
        "HOSTS_FILE holds one gateway a line: HOST[:PORT] (port 8883 by default; IPv6 as [ADDR]:PORT),\n",
        "optionally followed by servername=NAME, the SNI sent and the name checked when the gateway is\n",
        "reached by another name or address, and by cert=FILE key=FILE, the device certificate shown to a\n",
        "gateway that requires one and trusts another CA than --cert's (key= may be a pkcs11: URI; paths\n",
        "are relative to HOSTS_FILE's directory). '#' starts a comment; blank lines are ignored.\n",
        "--cert/--key (and each line's files) are read once before the first connection, the key checked\n",
        "to be the certificate's, however many gateways share them.\n\n",
        "Each host is checked as `pki verify HOST:PORT` checks it (same trust anchors for all), with at\n",
        "most --jobs hosts at a time and --timeout on each network step, so a silent gateway costs its\n",
        "timeout and no more. Every certificate a host presents (leaf and chain) is judged against\n",
        "--warn. With --json, stdout is JSON Lines: one object per host, in the file's order, each\n",
        "printed as soon as it is known (the exception to one document per run: a monitoring job reads\n",
        "a fleet's hosts as they come).\n\n",
        "EXAMPLES:\n",
        "  pki scan gateways.txt --ca-file pki/certs/azure-iot-test-only.root.ca.cert.pem\n",
        "  pki scan gateways.txt --os-store --jobs 32 --timeout 3 --warn 45d\n",
        "  pki scan gateways.txt --ca-file root.pem \\\n",
        "      --cert pki/certs/iot-device-probe-full-chain.cert.pem --key pki/private/iot-device-probe.key.pem\n",
        "  pki scan gateways.txt --ca-file root.pem --json | jq -c 'select(.status != \"ok\")'\n\n",
        "EXIT CODES:\n  0  every gateway verified and no certificate expires within --warn\n",
        "  1  a gateway failed (not verified, unreachable) or a certificate expires within --warn\n",
        "  2  could not run (the hosts file is missing, empty or has a bad line; a bad CA file; a client\n",
        "     certificate that cannot be read or whose key is not its own)"))]
    Scan(ScanArgs),
    /// Build a complete demo gateway PKI in one step and say where each file goes.
    #[command(after_long_help = concat!(
        "Creates the owner CA, an intermediate, an IoT Edge device CA, the gateway server\n",
        "certificate for HOST and one downstream device, then proves the chain with a verification.\n\n",
        "EXAMPLES:\n",
        "  pki quickstart --gateway gw.contoso.com\n",
        "  pki --dir /tmp/demo quickstart --gateway 192.168.1.10 --device sensor-1\n\n",
        "EXIT CODES:\n  0  success\n  1  the built chain did not verify\n  2  could not run"))]
    Quickstart(QuickstartArgs),
    /// Install a CA certificate where the operating system's TLS clients look for trust anchors.
    #[command(after_long_help = concat!(
        "Detects the system (/etc/os-release ID and ID_LIKE; the build target for Windows and macOS),\n",
        "puts the certificate where that system's store takes it, runs the refresh tool by absolute\n",
        "path (with a clean environment), and confirms the certificate is in the resulting bundle.\n",
        "Idempotent: an installed certificate is found by its SHA-256 fingerprint.\n\n",
        "With --root DIR (a device image) every path is resolved inside DIR and nothing of the image\n",
        "runs: an image is trusted input only as far as pki resolves it. Debian, Ubuntu, Alpine: pki\n",
        "builds the image's bundle itself; RHEL, SUSE, Arch: the certificate is written and the\n",
        "refresh is left to the image (status refresh_pending, exit 0).\n\n",
        "EXAMPLES:\n",
        "  sudo pki install-ca pki/certs/azure-iot-test-only.root.ca.cert.pem --os-store\n",
        "  pki install-ca root.pem --os-store --dry-run\n",
        "  pki install-ca root.pem --os-store --root /mnt/device-image\n\n",
        "EXIT CODES:\n  0  installed (or already installed)\n  2  could not run (bad certificate, not a CA, no privilege, missing refresh tool)"))]
    InstallCa(InstallCaArgs),
    /// Remove a CA certificate that pki installed from the operating system's store.
    #[command(after_long_help = concat!(
        "EXAMPLES:\n",
        "  sudo pki uninstall-ca pki/certs/azure-iot-test-only.root.ca.cert.pem --os-store\n",
        "  sudo pki uninstall-ca 3A9F...E1 --os-store        (SHA-256 or SHA-1 fingerprint)\n\n",
        "EXIT CODES:\n  0  removed (or was not installed)\n  2  could not run"))]
    UninstallCa(UninstallCaArgs),
    /// List the CA certificates pki installed in the operating system's store (--all: every one).
    #[command(after_long_help = concat!(
        "EXAMPLES:\n",
        "  pki list-ca --os-store\n",
        "  pki list-ca --os-store --all --json\n\n",
        "EXIT CODES:\n  0  listed\n  2  could not run"))]
    ListCa(ListCaArgs),
    /// Register CA certificates with a Cumulocity IoT tenant.
    #[command(subcommand)]
    C8y(C8yCommand),
    /// See what PKCS#11 tokens hold: `pki hsm list-tokens`, `pki hsm list-keys`.
    #[command(subcommand)]
    Hsm(HsmCommand),
    /// Export a certificate (and its key) as PKCS#12, a Java/.NET truststore, DER or PEM.
    #[command(after_long_help = concat!(
        "--p12 OUT writes a PKCS#12 keystore (.p12/.pfx) with the key and the certificate (with --chain,\n",
        "the rest of FILE too: give the -full-chain file). The key is --key, else the private/ file of\n",
        "the same name in the CA directory. --truststore OUT writes every certificate of FILE as a trusted\n",
        "entry and no key: a Java truststore (javax.net.ssl.trustStore, keytool) or a .NET one. The\n",
        "default encryption is AES-256-CBC with PBKDF2 and an HMAC-SHA-256 MAC; --legacy writes 3DES with\n",
        "an HMAC-SHA-1 MAC for Windows Server 2016 and older and Java 8. The password comes from\n",
        "--password-file (first line), the environment variable --password-env names, or a prompt; it is\n",
        "never a flag's value. An empty password is refused unless --no-password is given. --der OUT and\n",
        "--pem OUT write the certificate (with --chain and --pem, the whole file) in that encoding.\n\n",
        "EXAMPLES:\n",
        "  pki export pki/certs/iot-device-d1-full-chain.cert.pem --p12 d1.pfx --chain --name d1\n",
        "  PFX_PASSWORD=... pki export pki/certs/iot-device-d1.cert.pem --p12 d1.p12 --password-env PFX_PASSWORD --legacy\n",
        "  pki export pki/certs/azure-iot-test-only.root.ca.cert.pem --truststore truststore.p12 --password-file pw.txt\n",
        "  pki export pki/certs/azure-iot-test-only.root.ca.cert.pem --der root.cer\n\n",
        "EXIT CODES:\n  0  written\n",
        "  2  could not run (a key that does not match, an empty password, an existing OUT without --force)"))]
    Export(ExportArgs),
    /// Print what to write on a device for one SDK or client: a snippet with the real paths.
    #[command(after_long_help = concat!(
        "For DEVICE_ID of the CA directory: X.509 when its certificate is in service in the register\n",
        "(certs/iot-device-ID, or where it was written), else SAS (the key stays in IoT Hub: the\n",
        "snippet reads the connection string from IOTHUB_DEVICE_CONNECTION_STRING). Every Azure\n",
        "snippet trusts the owner CA and connects through the gateway (--gateway, or the one gateway\n",
        "server certificate in service) on port 8883. Python and Node.js run as printed with the\n",
        "Azure IoT device SDKs (azure-iot-device from PyPI; azure-iot-device and\n",
        "azure-iot-device-mqtt from npm).\n",
        "thin-edge (--sdk tedge) connects to Cumulocity or Azure (--cloud; default c8y for a\n",
        "self-signed device, found in the register wherever `pki self-signed --out-cert` wrote it,\n",
        "azure otherwise): for c8y the tedge config lines for the device's files and --c8y-url, what\n",
        "makes the tenant trust the device (its own certificate, or the CA that signed it), then\n",
        "`tedge connect c8y`; no gateway is needed.\n\n",
        "EXAMPLES:\n",
        "  pki guide sensor-1 --sdk python --hub contoso.azure-devices.net\n",
        "  pki guide sensor-1 --sdk node > send.js && node send.js\n",
        "  pki guide sensor-1 --sdk mosquitto --gateway gw.contoso.com\n",
        "  pki guide tedge-7 --sdk tedge --c8y-url mytenant.eu-latest.cumulocity.com\n\n",
        "EXIT CODES:\n  0  printed\n  2  could not run (no CA directory, no gateway known)"))]
    Guide(GuideArgs),
    /// Print shell completions.
    #[command(after_long_help = concat!(
        "EXAMPLES:\n",
        "  pki completions bash > /etc/bash_completion.d/pki\n",
        "  pki completions zsh > \"${fpath[1]}/_pki\"\n\n",
        "EXIT CODES:\n  0  success\n  2  could not run"))]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Write the man pages of pki and of every command (pki.1, pki-issue.1, ...) into DIR.
    ///
    /// Hidden: scripts/deb.sh runs it to put the pages in the Debian package.
    #[command(hide = true, after_long_help = concat!(
        "EXAMPLES:\n",
        "  pki manpages target/man/man1 && man -l target/man/man1/pki-issue.1\n\n",
        "EXIT CODES:\n  0  written\n  2  could not run (the directory cannot be made or written)"))]
    Manpages {
        /// The directory the pages are written in (made when missing).
        #[arg(value_name = "DIR")]
        out: PathBuf,
    },
}

/// Options every command that creates a key and certificate takes.
#[derive(Debug, Args, Clone)]
pub(crate) struct KeyOpts {
    /// Key type: ec-p256, ec-p384, ed25519, rsa-2048, rsa-3072 or rsa-4096.
    #[arg(long, default_value = "ec-p256", value_name = "TYPE", value_parser = key_type)]
    pub(crate) key_type: KeyType,
    /// Validity in days (default depends on the certificate kind).
    #[arg(long)]
    pub(crate) days: Option<u32>,
    /// Overwrite existing certificate and key files.
    #[arg(long)]
    pub(crate) force: bool,
}

/// Where the issuing CA's key password comes from.
#[derive(Debug, Args, Clone, Default)]
pub(crate) struct PasswordOpts {
    /// Read the password of an encrypted key (a CA's, or --key's) from this file (first line).
    #[arg(long, value_name = "FILE")]
    pub(crate) key_password_file: Option<PathBuf>,
}

/// The device certificate and key presented for mutual TLS (`verify`, `scan`, `renew --verify`).
#[derive(Debug, Args, Clone, Default)]
pub(crate) struct ClientCertOpts {
    /// Present this device certificate for mutual TLS (a gateway with require_certificate): a
    /// PEM file, with its chain after it when it holds one (send the -full-chain file).
    #[arg(long, value_name = "FILE", requires = "key")]
    pub(crate) cert: Option<PathBuf>,
    /// The private key of --cert: a key file (encrypted: --key-password-file or
    /// PKI_KEY_PASSWORD), or the `pkcs11:` URI of a key on a token.
    #[arg(long, value_name = "FILE|URI", requires = "cert")]
    pub(crate) key: Option<PathBuf>,
}

/// Which CA signs.
#[derive(Debug, Args, Clone, Default)]
pub(crate) struct IssuerOpts {
    /// The issuing CA: root, intermediate, edge-ca:NAME, or the path of a CA certificate
    /// (then --issuer-key names its key).
    #[arg(long, value_name = "CA", value_parser = IssuerSpec::parse)]
    pub(crate) issuer: Option<IssuerSpec>,
    /// The key of an --issuer given as a path (a file, or a `pkcs11:` URI).
    #[arg(long, value_name = "KEY", requires = "issuer")]
    pub(crate) issuer_key: Option<PathBuf>,
    /// Where clients fetch the issuing CA's CRL: the certificate's CRL distribution point
    /// (default: what `pki crl-url` set for the directory). `{ca}` becomes the issuing CA's
    /// file prefix.
    #[arg(long, value_name = "URL", value_parser = crl_url)]
    pub(crate) crl_url: Option<String>,
    #[command(flatten)]
    pub(crate) password: PasswordOpts,
}

/// `pki create-owner-ca`.
#[derive(Debug, Args)]
pub(crate) struct OwnerCaArgs {
    /// Common name of the CA.
    #[arg(long, default_value = "IoT Owner Root CA")]
    pub(crate) cn: String,
    /// Path length constraint (none by default; 2 leaves room for intermediate and edge CA).
    #[arg(long)]
    pub(crate) pathlen: Option<u8>,
    /// Adopt an existing CA certificate instead of creating one.
    #[arg(long, value_name = "CERT", requires = "key", conflicts_with_all = ["pathlen", "days"])]
    pub(crate) import: Option<PathBuf>,
    /// The private key of the --import certificate (PKCS#8, SEC1, PKCS#1, or encrypted PKCS#8),
    /// or the `pkcs11:` URI of a key on a token.
    #[arg(long, value_name = "KEY", requires = "import")]
    pub(crate) key: Option<PathBuf>,
    /// Generate the key on a PKCS#11 token instead of in a file: `pkcs11:token=T;object=LABEL`
    /// (PIN from the URI's pin-source=file:PATH, PKI_PKCS11_PIN, or a prompt). The CA directory
    /// records the URI; the key never leaves the token.
    #[arg(long, value_name = "URI", value_parser = pkcs11_uri, conflicts_with = "import")]
    pub(crate) key_on: Option<pki_pkcs11::Pkcs11Uri>,
    #[command(flatten)]
    pub(crate) key_opts: KeyOpts,
    #[command(flatten)]
    pub(crate) password: PasswordOpts,
}

/// `pki create-intermediate-ca`.
#[derive(Debug, Args)]
pub(crate) struct IntermediateCaArgs {
    /// Common name of the CA.
    #[arg(long, default_value = "IoT Intermediate CA")]
    pub(crate) cn: String,
    /// Path length constraint.
    #[arg(long, default_value_t = 1)]
    pub(crate) pathlen: u8,
    /// Adopt an existing intermediate CA certificate instead of creating one.
    #[arg(long, value_name = "CERT", requires = "key")]
    pub(crate) import: Option<PathBuf>,
    /// The private key of the --import certificate, or the `pkcs11:` URI of a key on a token.
    #[arg(long, value_name = "KEY", requires = "import")]
    pub(crate) key: Option<PathBuf>,
    /// Generate the key on a PKCS#11 token instead of in a file: `pkcs11:token=T;object=LABEL`
    /// (PIN from the URI's pin-source=file:PATH, PKI_PKCS11_PIN, or a prompt). The CA directory
    /// records the URI; the key never leaves the token.
    #[arg(long, value_name = "URI", value_parser = pkcs11_uri, conflicts_with = "import")]
    pub(crate) key_on: Option<pki_pkcs11::Pkcs11Uri>,
    #[command(flatten)]
    pub(crate) key_opts: KeyOpts,
    #[command(flatten)]
    pub(crate) issuer: IssuerOpts,
}

/// `pki create-edge-ca`.
#[derive(Debug, Args)]
pub(crate) struct EdgeCaArgs {
    /// The edge CA's name; its CN becomes NAME.ca.
    pub(crate) name: String,
    /// Generate the key on a PKCS#11 token instead of in a file: `pkcs11:token=T;object=LABEL`
    /// (PIN from the URI's pin-source=file:PATH, PKI_PKCS11_PIN, or a prompt). The CA directory
    /// records the URI; the key never leaves the token.
    #[arg(long, value_name = "URI", value_parser = pkcs11_uri)]
    pub(crate) key_on: Option<pki_pkcs11::Pkcs11Uri>,
    #[command(flatten)]
    pub(crate) key_opts: KeyOpts,
    #[command(flatten)]
    pub(crate) issuer: IssuerOpts,
}

/// `pki issue ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum IssueCommand {
    /// Issue a gateway server certificate (serverAuth; SAN always carries HOST).
    #[command(after_long_help = concat!(
        "Signed by the edge CA when the directory has exactly one, else by the intermediate, else the owner CA.\n",
        "Downstream devices must connect with exactly HOST (or one of the --san names).\n\n",
        "EXAMPLES:\n",
        "  pki issue server gw.contoso.com\n",
        "  pki issue server gw.contoso.com --san gw --san 10.0.0.4 --issuer edge-ca:gateway1\n\n",
        "EXIT CODES:\n  0  success\n  2  could not run (for example HOST is not a valid DNS name or IP)"))]
    Server(ServerArgs),
    /// Issue a downstream device certificate (clientAuth; CN = device id).
    #[command(after_long_help = concat!(
        "Signed by the intermediate CA when there is one, else by the owner CA.\n\n",
        "EXAMPLES:\n",
        "  pki issue device sensor-0001\n",
        "  pki issue device sensor-0001 --key-type rsa-2048 --days 730\n",
        "  pki issue device --batch lot-42.csv                 (resumable; manifest in pki/manifest.jsonl)\n",
        "  seq -f 'sensor-%06.0f' 1 100000 | pki issue device --batch - --out /srv/lot-42\n\n",
        "EXIT CODES:\n  0  success (every device of a batch issued or already done)\n",
        "  1  a batch had rejected lines (bad input, or a key or certificate it did not create\n",
        "     in the way, kept unless --force); the rest was issued\n",
        "  2  could not run (for example an invalid device id)"))]
    Device(DeviceArgs),
}

/// `pki issue server`.
#[derive(Debug, Args)]
pub(crate) struct ServerArgs {
    /// The gateway's host name or IP address, as downstream devices connect to it.
    pub(crate) host: String,
    /// More subject alternative names (DNS names or IP addresses).
    #[arg(long = "san", value_name = "NAME")]
    pub(crate) sans: Vec<String>,
    #[command(flatten)]
    pub(crate) key_opts: KeyOpts,
    #[command(flatten)]
    pub(crate) issuer: IssuerOpts,
}

/// `pki issue device`.
#[derive(Debug, Args)]
pub(crate) struct DeviceArgs {
    /// The device id (becomes the CN; Azure requires CN = device id).
    #[arg(required_unless_present = "batch")]
    pub(crate) device_id: Option<String>,
    /// Issue for every device of FILE ('-' for stdin): one device id a line, or CSV with a
    /// header naming `device_id` (optional columns: `sans`, `days`). Resumable: run it again
    /// after an interruption and it finishes the lot. A key or certificate it did not create
    /// is a rejected line, replaced only with --force.
    #[arg(long, value_name = "FILE", conflicts_with = "device_id")]
    pub(crate) batch: Option<PathBuf>,
    /// With --batch: one folder per device under DIR (cert.pem, key.pem, full-chain.pem)
    /// instead of the CA directory's certs/ and private/.
    #[arg(long, value_name = "DIR", requires = "batch")]
    pub(crate) out: Option<PathBuf>,
    /// With --batch: the manifest (one JSON line per device; default manifest.jsonl in the
    /// output directory).
    #[arg(long, value_name = "FILE", requires = "batch")]
    pub(crate) manifest: Option<PathBuf>,
    /// With --batch: stop at the first bad input line instead of reporting it and going on.
    #[arg(long, requires = "batch")]
    pub(crate) strict: bool,
    /// With --batch: worker threads, 1 to 1024 (default: every core).
    #[arg(long, value_name = "N", requires = "batch",
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub(crate) jobs: Option<u16>,
    #[command(flatten)]
    pub(crate) key_opts: KeyOpts,
    #[command(flatten)]
    pub(crate) issuer: IssuerOpts,
}

/// `pki create-verification-cert`.
#[derive(Debug, Args)]
pub(crate) struct VerificationArgs {
    /// The verification code from IoT Hub or Cumulocity.
    pub(crate) code: String,
    #[command(flatten)]
    pub(crate) key_opts: KeyOpts,
    #[command(flatten)]
    pub(crate) issuer: IssuerOpts,
}

/// `pki self-signed`.
#[derive(Debug, Args)]
pub(crate) struct SelfSignedArgs {
    /// The device id (CN; at most 64 characters).
    pub(crate) device_id: String,
    /// Organization (O).
    #[arg(long, default_value = "Thin Edge")]
    pub(crate) org: String,
    /// Organizational unit (OU).
    #[arg(long, default_value = "Device")]
    pub(crate) unit: String,
    /// Write the certificate here instead of the CA directory.
    #[arg(long, value_name = "FILE", requires = "out_key")]
    pub(crate) out_cert: Option<PathBuf>,
    /// Write the private key here instead of the CA directory.
    #[arg(long, value_name = "FILE", requires = "out_cert")]
    pub(crate) out_key: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) key_opts: KeyOpts,
}

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

/// A `pkcs11:` URI (RFC 7512); a PIN in it (`pin-value`) is refused.
fn pkcs11_uri(s: &str) -> Result<pki_pkcs11::Pkcs11Uri, BadValue> {
    pki_pkcs11::Pkcs11Uri::parse(s).map_err(|e| BadValue(anyhow::Error::new(e)))
}

/// `pki csr ...`.
#[derive(Debug, Subcommand)]
// Parsed once per run: the size of --key-on's URI in one variant costs nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum CsrCommand {
    /// Create a key (or use --key) and a CSR for it.
    #[command(after_long_help = concat!(
        "Writes csr/<prefix>.csr.pem and, for a new key, private/<prefix>.key.pem; the prefix follows\n",
        "the profile (iot-device-ID for device, iot-edge-server-HOST for server, ...).\n\n",
        "EXAMPLES:\n",
        "  pki csr create sensor-0001\n",
        "  pki csr create gw.contoso.com --profile server --san 10.0.0.4\n",
        "  pki csr create sensor-0001 --key existing.key.pem --out sensor.csr\n\n",
        "EXIT CODES:\n  0  success\n  2  could not run"))]
    Create(CsrCreateArgs),
    /// Sign a CSR under a profile (the CSR's own signature is checked first).
    #[command(after_long_help = concat!(
        "The profile, not the CSR, decides the extensions; the CSR gives the subject, the public key\n",
        "and (for server) extra SANs.\n\n",
        "EXAMPLES:\n",
        "  pki csr sign sensor-0001.csr --profile device\n",
        "  pki csr sign gw.csr --profile server --san 10.0.0.4 --issuer edge-ca:gateway1\n\n",
        "EXIT CODES:\n  0  success\n  2  could not run (for example a CSR whose signature does not verify)"))]
    Sign(CsrSignArgs),
}

/// Profiles a CSR can be signed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CsrProfile {
    /// Gateway server certificate.
    Server,
    /// Downstream device certificate.
    Device,
    /// IoT Edge device CA.
    EdgeCa,
    /// Intermediate CA.
    IntermediateCa,
    /// Proof-of-possession certificate.
    Verification,
}

/// `pki csr create`.
#[derive(Debug, Args)]
pub(crate) struct CsrCreateArgs {
    /// The common name (device id or host name).
    pub(crate) cn: String,
    /// What the certificate is for (decides the file prefix and the checks on CN).
    #[arg(long, value_enum, default_value = "device")]
    pub(crate) profile: CsrProfile,
    /// Subject alternative names to request.
    #[arg(long = "san", value_name = "NAME")]
    pub(crate) sans: Vec<String>,
    /// Organization (O).
    #[arg(long)]
    pub(crate) org: Option<String>,
    /// Organizational unit (OU).
    #[arg(long)]
    pub(crate) unit: Option<String>,
    /// Use this existing key instead of creating one.
    #[arg(long, value_name = "KEY")]
    pub(crate) key: Option<PathBuf>,
    /// Generate the device's key on a PKCS#11 token (a TPM's, a secure element's) and sign
    /// the CSR there: `pkcs11:token=T;object=LABEL`.
    #[arg(long, value_name = "URI", value_parser = pkcs11_uri, conflicts_with = "key")]
    pub(crate) key_on: Option<pki_pkcs11::Pkcs11Uri>,
    /// Write the CSR here instead of the CA directory's csr/.
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) key_opts: KeyOpts,
    #[command(flatten)]
    pub(crate) password: PasswordOpts,
}

/// `pki csr sign`.
#[derive(Debug, Args)]
pub(crate) struct CsrSignArgs {
    /// The CSR file (PEM or DER).
    pub(crate) csr: PathBuf,
    /// The profile to sign under.
    #[arg(long, value_enum)]
    pub(crate) profile: CsrProfile,
    /// More SANs for a server certificate.
    #[arg(long = "san", value_name = "NAME")]
    pub(crate) sans: Vec<String>,
    /// Validity in days.
    #[arg(long)]
    pub(crate) days: Option<u32>,
    /// Overwrite existing files.
    #[arg(long)]
    pub(crate) force: bool,
    #[command(flatten)]
    pub(crate) issuer: IssuerOpts,
}

/// `pki show`.
#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    /// Certificate or CRL files (PEM, PEM bundles, DER).
    #[arg(required = true)]
    pub(crate) files: Vec<PathBuf>,
    /// Check that this private key (a file, or a `pkcs11:` URI) belongs to the (first)
    /// certificate.
    #[arg(long, value_name = "KEY")]
    pub(crate) key: Option<PathBuf>,
    /// Status EXPIRES SOON when less than this many days are left.
    #[arg(long, default_value_t = 30, value_name = "DAYS")]
    pub(crate) expires_soon: u32,
    /// Judge validity at this instant (RFC 3339, or a date: its midnight UTC) instead of now.
    #[arg(long, value_name = "TIME", value_parser = instant)]
    pub(crate) at: Option<OffsetDateTime>,
    #[command(flatten)]
    pub(crate) password: PasswordOpts,
}

/// Which clients' verdict decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ClientKind {
    /// Devices built on OpenSSL (Azure C SDK, Python, mosquitto clients).
    Openssl,
    /// Rust clients on rustls/webpki (thin-edge).
    Rustls,
    /// Both must accept.
    Both,
}

/// The purpose a certificate is checked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PurposeArg {
    /// TLS server (`-purpose sslserver`).
    Server,
    /// TLS client (`-purpose sslclient`).
    Client,
    /// Any purpose.
    Any,
}

/// `pki verify`.
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The gateway, HOST:PORT (the port defaults to 8883, MQTTS).
    #[arg(required_unless_present = "chain", conflicts_with = "chain")]
    pub(crate) target: Option<String>,
    /// Offline: the leaf certificate file (a bundle's first certificate; the rest count as untrusted).
    #[arg(long, value_name = "LEAF", conflicts_with = "cert")]
    pub(crate) chain: Option<PathBuf>,
    /// Offline: untrusted intermediates.
    #[arg(long, value_name = "FILE", requires = "chain")]
    pub(crate) untrusted: Vec<PathBuf>,
    /// Trust anchors (PEM files, bundles allowed); repeatable.
    #[arg(long = "ca-file", value_name = "FILE")]
    pub(crate) ca_files: Vec<PathBuf>,
    /// Trust the operating system's store (honours SSL_CERT_FILE and SSL_CERT_DIR).
    #[arg(long, conflicts_with = "ca_files")]
    pub(crate) os_store: bool,
    /// Check the leaf for this purpose (online: server).
    #[arg(long, value_enum)]
    pub(crate) purpose: Option<PurposeArg>,
    /// Offline: check the leaf for this host name or IP.
    #[arg(long, requires = "chain")]
    pub(crate) hostname: Option<String>,
    /// Online: the SNI to send and the name to check (default: HOST).
    #[arg(long, conflicts_with = "chain")]
    pub(crate) servername: Option<String>,
    /// Online: offer these ALPN protocols.
    #[arg(long, conflicts_with = "chain")]
    pub(crate) alpn: Vec<String>,
    #[command(flatten)]
    pub(crate) client_cert: ClientCertOpts,
    /// Check a device's connection string: its GatewayHostName must be the host verified, and
    /// named by the certificate. The key in it is never printed.
    #[arg(
        long,
        env = "IOTHUB_DEVICE_CONNECTION_STRING",
        hide_env_values = true,
        value_name = "STRING"
    )]
    pub(crate) connection_string: Option<String>,
    /// Print the chain as `openssl s_client -showcerts` does.
    #[arg(long)]
    pub(crate) showcerts: bool,
    /// Judge validity at this instant (RFC 3339, or a date: its midnight UTC) instead of now.
    #[arg(long, value_name = "TIME", value_parser = instant)]
    pub(crate) at: Option<OffsetDateTime>,
    /// Seconds each network step may take.
    #[arg(long, default_value = "5", value_name = "SECONDS", value_parser = step_timeout)]
    pub(crate) timeout: Duration,
    /// Whose verdict decides the exit code.
    #[arg(long, value_enum, default_value = "both")]
    pub(crate) client: ClientKind,
    /// OpenSSL security level. Online the default is 2, what Debian's, Ubuntu's and RHEL's
    /// OpenSSL use (no SHA-1, no RSA below 2048 bits, no EC below 224 bits); 1 is upstream
    /// OpenSSL's (Yocto, Buildroot); offline the default is 0, as `openssl verify`.
    #[arg(long, value_name = "N")]
    pub(crate) auth_level: Option<u8>,
    /// Check revocation against the CRLs of this file (PEM, several CRLs allowed, or DER);
    /// repeatable. OpenSSL's verdict is then that of `-crl_check` (the leaf only), rustls' that
    /// of a client given the same CRLs.
    #[arg(long = "crl", value_name = "FILE")]
    pub(crate) crls: Vec<PathBuf>,
    /// With --crl: check every certificate of the chain (OpenSSL's `-crl_check_all`), not only
    /// the leaf.
    #[arg(long, requires = "crls")]
    pub(crate) crl_check_all: bool,
    #[command(flatten)]
    pub(crate) password: PasswordOpts,
}

/// `pki needs-renewal`.
#[derive(Debug, Args)]
pub(crate) struct NeedsRenewalArgs {
    /// Certificate files (PEM, PEM bundles, DER); the first certificate of each is judged.
    /// Without files, every certificate in service in the register (`--register`).
    #[arg(value_name = "FILE")]
    pub(crate) files: Vec<PathBuf>,
    /// Renew when this much time is left (30d, 12h, 1d12h, 90m) or this share of the lifetime
    /// has passed (66%) [default: two thirds of the lifetime].
    #[arg(long, value_name = "TIME|PERCENT", value_parser = expires_in)]
    pub(crate) expires_in: Option<Threshold>,
    /// Judge at this instant (RFC 3339, or a date: its midnight UTC) instead of now.
    #[arg(long, value_name = "TIME", value_parser = instant)]
    pub(crate) at: Option<OffsetDateTime>,
}

/// `pki renew`.
#[derive(Debug, Args)]
#[command(mut_arg("cert", |a| a.requires("verify")))]
pub(crate) struct RenewArgs {
    /// The certificate: a certificate file, a device id or gateway host name, or root,
    /// intermediate, edge-ca:NAME.
    #[arg(value_name = "FILE|DEVICE_ID", required_unless_present = "expiring")]
    pub(crate) target: Option<String>,
    /// Renew every certificate in service that expires within this time (30d, 12h), expired
    /// ones included; each in its own transaction.
    #[arg(long, value_name = "TIME", value_parser = expiring, conflicts_with = "target")]
    pub(crate) expiring: Option<time::Duration>,
    /// Keep the certificate's key instead of generating a fresh one.
    #[arg(long)]
    pub(crate) reuse_key: bool,
    /// Run this command (through sh -c) once the new files are in place, and again after a
    /// rollback: reload the gateway.
    #[arg(long, value_name = "CMD")]
    pub(crate) exec: Option<String>,
    /// Seconds the hook may run before it is killed (and fails).
    #[arg(long, default_value = "60", value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..=3600).map(Duration::from_secs))]
    pub(crate) exec_timeout: Duration,
    /// After the hook, check that the gateway at HOST:PORT serves the new certificate and that
    /// a device accepts it; roll back if not.
    #[arg(long, value_name = "HOST:PORT", conflicts_with = "expiring")]
    pub(crate) verify: Option<String>,
    /// With --verify: the SNI to send and the name to check (default: HOST).
    #[arg(long, requires = "verify")]
    pub(crate) servername: Option<String>,
    /// With --verify: the device certificate to present, for a gateway that requires one.
    #[command(flatten)]
    pub(crate) client_cert: ClientCertOpts,
    /// With --verify: seconds each network step may take.
    #[arg(long, default_value = "5", value_name = "SECONDS", value_parser = step_timeout)]
    pub(crate) timeout: Duration,
    /// With --verify: seconds to keep asking while the gateway still serves the old
    /// certificate or does not answer (it may be reloading).
    #[arg(long, default_value = "10", value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(0..=3600).map(Duration::from_secs))]
    pub(crate) verify_wait: Duration,
    /// Record a certificate the register does not know (when a CA of this directory signed
    /// it, checked by signature), then renew it.
    #[arg(long)]
    pub(crate) adopt: bool,
    /// Validity in days (default: the original's lifetime).
    #[arg(long, value_name = "N")]
    pub(crate) days: Option<u32>,
    /// Renew even when the files at the standard paths are not the certificate renewed, and
    /// replace kept files of the same name.
    #[arg(long)]
    pub(crate) force: bool,
    #[command(flatten)]
    pub(crate) password: PasswordOpts,
    #[command(flatten, next_help_heading = "Cumulocity (--c8y-upload)")]
    pub(crate) c8y: RenewC8yArgs,
}

/// `pki renew --c8y-upload`: the Cumulocity tenant that must trust a renewed self-signed
/// device (or CA), reached as `pki c8y upload` reaches it.
#[derive(Debug, Args)]
pub(crate) struct RenewC8yArgs {
    /// Register each renewed self-signed device certificate (and CA certificate) with the
    /// tenant's trusted certificates BEFORE it is put in place, as `pki c8y upload` does (already
    /// registered counts); if the tenant does not take it, nothing is renewed. The old
    /// certificate stays trusted until you remove it (`pki c8y remove`).
    #[arg(long, requires_all = ["url", "user"])]
    pub(crate) c8y_upload: bool,
    /// The tenant's URL, e.g. https://mytenant.eu-latest.cumulocity.com.
    // Its value is never shown in the help: a URL may carry a password (it is refused).
    #[arg(long, env = "C8Y_URL", value_name = "URL", hide_env_values = true)]
    pub(crate) url: Option<String>,
    /// The user (as given, or tenant/user).
    #[arg(long, env = "C8Y_USER", value_name = "USER")]
    pub(crate) user: Option<String>,
    /// The tenant id (looked up with GET /tenant/currentTenant when not given).
    #[arg(long, env = "C8Y_TENANT", value_name = "ID")]
    pub(crate) tenant: Option<String>,
    /// Read the tenant password from this file (first line); else C8Y_PASSWORD, else a prompt.
    #[arg(long, value_name = "FILE", requires = "c8y_upload")]
    pub(crate) password_file: Option<PathBuf>,
    /// Trust this CA for the tenant's TLS (a private tenant); TLS is always verified.
    #[arg(long, value_name = "FILE", requires = "c8y_upload")]
    pub(crate) ca_file: Option<PathBuf>,
}

/// `pki list`.
#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Only this profile: root-ca, intermediate-ca, edge-ca, server, device, self-signed-device,
    /// verification.
    #[arg(long, value_name = "PROFILE")]
    pub(crate) profile: Option<String>,
    /// Only certificates in service that expire within this time (30d, 12h, 2w).
    #[arg(long, value_name = "TIME", value_parser = expiring)]
    pub(crate) expiring: Option<time::Duration>,
    /// Only certificates in service that have expired.
    #[arg(long, conflicts_with = "expiring")]
    pub(crate) expired: bool,
    /// Only revoked certificates.
    #[arg(long, conflicts_with_all = ["expiring", "expired", "superseded"])]
    pub(crate) revoked: bool,
    /// Only superseded certificates (replaced by a renewal or a new PKI).
    #[arg(long, conflicts_with_all = ["expiring", "expired"])]
    pub(crate) superseded: bool,
    /// Only certificates signed by this CA: root, intermediate, edge-ca:NAME, or a CA
    /// certificate file (an old CA's, to see what still hangs from it).
    #[arg(long, value_name = "CA", value_parser = IssuerSpec::parse)]
    pub(crate) issuer: Option<IssuerSpec>,
    /// Only CNs (device ids, host names) matching this pattern: `*` any run, `?` one character.
    #[arg(long, value_name = "PATTERN")]
    pub(crate) cn: Option<String>,
    /// Judge states at this instant (RFC 3339, or a date: its midnight UTC) instead of now.
    #[arg(long, value_name = "TIME", value_parser = instant)]
    pub(crate) at: Option<OffsetDateTime>,
}

/// `pki scan`.
/// `pki revoke`.
#[derive(Debug, Args)]
pub(crate) struct RevokeArgs {
    /// The certificate: its file, its serial (hex, colons optional) or the device id (CN).
    #[arg(
        value_name = "FILE|SERIAL|DEVICE_ID",
        required_unless_present = "batch",
        conflicts_with = "batch"
    )]
    pub(crate) target: Option<String>,
    /// Revoke every certificate FILE names, one file, serial or device id a line.
    #[arg(long, value_name = "FILE")]
    pub(crate) batch: Option<PathBuf>,
    /// Why (an RFC 5280 reason; its code goes into the CRL).
    #[arg(long, default_value = "unspecified", value_name = "REASON", value_parser = reason)]
    pub(crate) reason: pki_core::register::Reason,
    /// When it was revoked: a date (midnight UTC) or an RFC 3339 time, default now; never in
    /// the future, nor before the certificate's notBefore.
    #[arg(long, value_name = "TIME", value_parser = instant)]
    pub(crate) at: Option<OffsetDateTime>,
}

/// `pki crl`.
#[derive(Debug, Args)]
pub(crate) struct CrlArgs {
    /// The CA whose CRL to write: root, intermediate, edge-ca:NAME, or a CA certificate file
    /// (a previous certificate of a renewed CA, `certs/<prefix>.<SERIAL>.cert.pem`, signs with
    /// its kept key; any other with --issuer-key).
    #[arg(long, value_name = "CA", value_parser = IssuerSpec::parse, conflicts_with = "all")]
    pub(crate) issuer: Option<IssuerSpec>,
    /// The key of an --issuer given as a file that is not one of the directory's CAs.
    #[arg(long, value_name = "KEY", requires = "issuer")]
    pub(crate) issuer_key: Option<PathBuf>,
    /// Days until nextUpdate.
    #[arg(long, value_name = "N", default_value_t = pki_core::DEFAULT_CRL_DAYS,
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub(crate) days: u32,
    /// Every CA's CRL, and all of them in crl/all.crl.pem.
    #[arg(long)]
    pub(crate) all: bool,
    #[command(flatten)]
    pub(crate) password: PasswordOpts,
}

/// `pki crl-url`.
#[derive(Debug, Args)]
pub(crate) struct CrlUrlArgs {
    /// The URL to set (none: show the one set).
    #[arg(value_name = "URL", value_parser = crl_url)]
    pub(crate) url: Option<String>,
    /// Remove the setting: certificates carry no CRL distribution point.
    #[arg(long, conflicts_with = "url")]
    pub(crate) unset: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ScanArgs {
    /// The gateways: one HOST[:PORT] [servername=NAME] [cert=FILE key=FILE] a line; '#' comments.
    #[arg(value_name = "HOSTS_FILE")]
    pub(crate) hosts_file: PathBuf,
    /// Trust anchors (PEM files, bundles allowed); repeatable.
    #[arg(long = "ca-file", value_name = "FILE")]
    pub(crate) ca_files: Vec<PathBuf>,
    /// Trust the operating system's store (the default without --ca-file).
    #[arg(long, conflicts_with = "ca_files")]
    pub(crate) os_store: bool,
    /// How many gateways are checked at the same time (1 to 256).
    #[arg(long, value_name = "N", default_value_t = 8,
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub(crate) jobs: u16,
    /// Seconds each network step of each gateway may take.
    #[arg(long, default_value = "5", value_name = "SECONDS", value_parser = step_timeout)]
    pub(crate) timeout: Duration,
    /// Flag a certificate with this much time left or less (30d, 12h), or once this share of
    /// its lifetime has passed (66%).
    #[arg(long, default_value = "30d", value_name = "TIME|PERCENT", value_parser = warn)]
    pub(crate) warn: Threshold,
    /// Judge validity at this instant (RFC 3339, or a date: its midnight UTC) instead of now.
    #[arg(long, value_name = "TIME", value_parser = instant)]
    pub(crate) at: Option<OffsetDateTime>,
    /// The device certificate presented to every gateway whose line names none of its own.
    #[command(flatten)]
    pub(crate) client_cert: ClientCertOpts,
    #[command(flatten)]
    pub(crate) password: PasswordOpts,
}

/// Where the OS store is: this machine, or a device image mounted at --root.
#[derive(Debug, Args, Clone)]
pub(crate) struct StoreOpts {
    /// Act on the operating system's trust store (one of --os-store, --java, --nss is required).
    #[arg(long, required_unless_present_any = ["java", "nss"], conflicts_with_all = ["java", "nss"])]
    pub(crate) os_store: bool,
    /// Act on a device image or container root file system mounted here instead of this machine.
    ///
    /// The image is trusted input only as far as pki resolves it: every path is resolved inside
    /// DIR as the image itself would see it (its links and `..` never lead out of it), files
    /// are read only when they are regular files of sane size, and nothing of the image is run.
    /// For Debian, Ubuntu and Alpine images pki builds the bundle itself, as
    /// update-ca-certificates does; for the others it writes the certificate and says what must
    /// run inside the image.
    #[arg(long, value_name = "DIR")]
    pub(crate) root: Option<PathBuf>,
    /// Print the exact file operations and commands without doing them.
    #[arg(long)]
    pub(crate) dry_run: bool,
}

/// The application trust stores that ignore the OS store: a JDK's cacerts, NSS databases.
#[derive(Debug, Args, Clone, Default)]
pub(crate) struct AppStoreOpts {
    /// Act on a JDK's trust store: $JAVA_HOME/lib/security/cacerts, else that of the java on PATH.
    #[arg(long, conflicts_with = "nss")]
    pub(crate) java: bool,
    /// The Java keystore to act on instead of the JDK's cacerts.
    #[arg(long, value_name = "PATH", requires = "java")]
    pub(crate) cacerts: Option<PathBuf>,
    /// Read the Java store's password from this file (first line; default: changeit).
    #[arg(long, value_name = "FILE", requires = "java")]
    pub(crate) storepass_file: Option<PathBuf>,
    /// Act on NSS databases: ~/.pki/nssdb and every Firefox profile (as mkcert does).
    #[arg(long)]
    pub(crate) nss: bool,
    /// The NSS database directory to act on instead (one holding cert9.db).
    #[arg(long, value_name = "DIR", requires = "nss")]
    pub(crate) nss_db: Option<PathBuf>,
}

/// `pki install-ca`.
#[derive(Debug, Args)]
pub(crate) struct InstallCaArgs {
    /// The CA certificate (PEM or DER).
    pub(crate) cert: PathBuf,
    /// The file name to install it under (default: from its subject CN).
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// Also install a certificate that is not a CA (pinning a self-signed device certificate).
    #[arg(long)]
    pub(crate) allow_leaf: bool,
    #[command(flatten)]
    pub(crate) apps: AppStoreOpts,
    #[command(flatten)]
    pub(crate) store: StoreOpts,
}

/// `pki uninstall-ca`.
#[derive(Debug, Args)]
pub(crate) struct UninstallCaArgs {
    /// The certificate file, or its SHA-256 (or SHA-1) fingerprint in hex.
    pub(crate) cert: String,
    #[command(flatten)]
    pub(crate) apps: AppStoreOpts,
    #[command(flatten)]
    pub(crate) store: StoreOpts,
}

/// `pki list-ca`.
#[derive(Debug, Args)]
pub(crate) struct ListCaArgs {
    /// List the whole store, not only what pki installed.
    #[arg(long)]
    pub(crate) all: bool,
    #[command(flatten)]
    pub(crate) apps: AppStoreOpts,
    #[command(flatten)]
    pub(crate) store: StoreOpts,
}

/// How to reach a Cumulocity tenant.
#[derive(Debug, Args, Clone)]
pub(crate) struct C8yConn {
    /// The tenant's URL, e.g. https://mytenant.eu-latest.cumulocity.com.
    // Its value is never shown in the help: a URL may carry a password (it is refused).
    #[arg(long, env = "C8Y_URL", value_name = "URL", hide_env_values = true)]
    pub(crate) url: String,
    /// The user (as given, or tenant/user).
    #[arg(long, env = "C8Y_USER", value_name = "USER")]
    pub(crate) user: String,
    /// The tenant id (looked up with GET /tenant/currentTenant when not given).
    #[arg(long, env = "C8Y_TENANT", value_name = "ID")]
    pub(crate) tenant: Option<String>,
    /// Read the password from this file (first line); else C8Y_PASSWORD, else a prompt.
    #[arg(long, value_name = "FILE")]
    pub(crate) password_file: Option<PathBuf>,
    /// Trust this CA for the tenant's TLS (a private tenant); TLS is always verified.
    #[arg(long, value_name = "FILE")]
    pub(crate) ca_file: Option<PathBuf>,
    /// Give up when the tenant has not finished after this many seconds (all requests and
    /// retries of the command together).
    #[arg(long, value_name = "SECONDS", default_value = "120",
          value_parser = clap::value_parser!(u64).range(1..=3600).map(Duration::from_secs))]
    pub(crate) timeout: Duration,
}

/// `pki c8y ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum C8yCommand {
    /// Upload a CA (or a self-signed device) certificate to the tenant's trusted certificates.
    #[command(after_long_help = concat!(
        "Already registered (409) counts as success. --prove runs proof of possession with the CA's key\n",
        "from the CA directory (or --key).\n\n",
        "EXAMPLES:\n",
        "  C8Y_PASSWORD=... pki c8y upload pki/certs/azure-iot-test-only.root.ca.cert.pem \\\n",
        "      --url https://t123.eu-latest.cumulocity.com --user admin@example.com\n",
        "  pki c8y upload root.pem --prove --disabled --name \"Factory A\"\n\n",
        "EXIT CODES:\n  0  uploaded (or already there)\n  2  could not run (bad certificate, HTTP error, unreachable tenant)"))]
    Upload(C8yUploadArgs),
    /// List the tenant's trusted certificates.
    #[command(after_long_help = concat!(
        "EXAMPLES:\n  pki c8y list --url https://t123.cumulocity.com --user admin\n  pki --json c8y list\n\n",
        "EXIT CODES:\n  0  listed\n  2  could not run"))]
    List(C8yListArgs),
    /// Remove a trusted certificate (by file or SHA-1 fingerprint).
    #[command(after_long_help = concat!(
        "EXAMPLES:\n  pki c8y remove root.pem\n  pki c8y remove 0cd89e8ecd40b6f7fbb9f3602baf82ff307f0678\n\n",
        "EXIT CODES:\n  0  removed (or not there)\n  2  could not run"))]
    Remove(C8yRemoveArgs),
}

/// `pki c8y upload`.
#[derive(Debug, Args)]
pub(crate) struct C8yUploadArgs {
    /// The certificate to register.
    pub(crate) cert: PathBuf,
    /// Its name in the tenant (default: the subject CN).
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// Do not auto-register devices whose certificates it issued.
    #[arg(long)]
    pub(crate) no_auto_register: bool,
    /// Upload it disabled.
    #[arg(long)]
    pub(crate) disabled: bool,
    /// Prove possession of the CA's private key (verification code, signed proof, upload).
    #[arg(long)]
    pub(crate) prove: bool,
    /// The CA's private key for --prove (default: from the CA directory).
    #[arg(long, value_name = "KEY", requires = "prove")]
    pub(crate) key: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) key_password: PasswordOpts,
    #[command(flatten)]
    pub(crate) conn: C8yConn,
}

/// `pki c8y list`.
#[derive(Debug, Args)]
pub(crate) struct C8yListArgs {
    #[command(flatten)]
    pub(crate) conn: C8yConn,
}

/// `pki c8y remove`.
#[derive(Debug, Args)]
pub(crate) struct C8yRemoveArgs {
    /// The certificate file, or its SHA-1 fingerprint (hex).
    pub(crate) cert: String,
    #[command(flatten)]
    pub(crate) conn: C8yConn,
}

/// `pki quickstart`.
#[derive(Debug, Args)]
pub(crate) struct QuickstartArgs {
    /// The gateway's host name (or IP) as downstream devices will connect to it.
    #[arg(long)]
    pub(crate) gateway: String,
    /// The downstream device to issue a certificate for.
    #[arg(long, default_value = "downstream-device-1")]
    pub(crate) device: String,
    /// The IoT Edge device CA's name (CN NAME.ca).
    #[arg(long, default_value = "edge-gateway")]
    pub(crate) edge_ca: String,
    /// Key type for every certificate.
    #[arg(long, default_value = "ec-p256", value_name = "TYPE", value_parser = key_type)]
    pub(crate) key_type: KeyType,
    /// Replace an existing PKI in the directory.
    #[arg(long)]
    pub(crate) force: bool,
}

/// `pki export`: which file to write (exactly one).
#[derive(Debug, Args, Clone)]
#[group(required = true, multiple = false)]
pub(crate) struct ExportTarget {
    /// Write a PKCS#12 keystore (.p12/.pfx): the key and the certificate.
    #[arg(long, value_name = "OUT")]
    pub(crate) p12: Option<PathBuf>,
    /// Write a PKCS#12 truststore: every certificate of FILE as a trusted entry, no key.
    #[arg(long, value_name = "OUT")]
    pub(crate) truststore: Option<PathBuf>,
    /// Write the certificate as DER.
    #[arg(long, value_name = "OUT")]
    pub(crate) der: Option<PathBuf>,
    /// Write the certificate (with --chain, every certificate of FILE) as PEM.
    #[arg(long, value_name = "OUT")]
    pub(crate) pem: Option<PathBuf>,
}

/// `pki export`.
#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// The certificate file (PEM or DER), or the id of a device of the CA directory.
    pub(crate) file: PathBuf,
    #[command(flatten)]
    pub(crate) target: ExportTarget,
    /// The private key for --p12 (default: private/PREFIX.key.pem beside FILE's certs/ folder).
    #[arg(long, value_name = "KEY", requires = "p12")]
    pub(crate) key: Option<PathBuf>,
    /// Include the chain after the certificate: the rest of FILE's certificates, or for a
    /// file of one, the CAs above it in the CA directory.
    #[arg(long, conflicts_with_all = ["truststore", "der"])]
    pub(crate) chain: bool,
    /// The alias (friendlyName) of the entry (default: the certificate's CN).
    #[arg(long, value_name = "ALIAS", conflicts_with_all = ["der", "pem"])]
    pub(crate) name: Option<String>,
    /// 3DES with an HMAC-SHA-1 MAC instead of AES-256 (Windows Server 2016 and older, Java 8).
    #[arg(long, conflicts_with_all = ["der", "pem"])]
    pub(crate) legacy: bool,
    /// Read the PKCS#12 password from this file (first line).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["der", "pem"])]
    pub(crate) password_file: Option<PathBuf>,
    /// Read the PKCS#12 password from this environment variable.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["password_file", "der", "pem"])]
    pub(crate) password_env: Option<String>,
    /// Write the PKCS#12 with an empty password (anyone who has the file has the key).
    #[arg(long, conflicts_with_all = ["password_file", "password_env", "der", "pem"])]
    pub(crate) no_password: bool,
    #[command(flatten)]
    pub(crate) key_password: PasswordOpts,
    /// Overwrite OUT if it exists.
    #[arg(long)]
    pub(crate) force: bool,
}

/// The SDK or client `pki guide` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Sdk {
    /// The Azure IoT device SDK for Python (azure-iot-device).
    Python,
    /// The Azure IoT device SDK for Node.js (azure-iot-device, azure-iot-device-mqtt).
    Node,
    /// The Azure IoT device SDK for C (connection string and trusted certificate option).
    C,
    /// The Azure IoT device SDK for .NET (Microsoft.Azure.Devices.Client).
    Dotnet,
    /// The Azure IoT device SDK for Java (com.microsoft.azure.sdk.iot).
    Java,
    /// mosquitto_pub / mosquitto_sub (and a mosquitto bridge).
    Mosquitto,
    /// thin-edge.io (tedge config).
    Tedge,
}

/// How the device authenticates to IoT Hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum DeviceAuth {
    /// Its X.509 certificate and key.
    X509,
    /// A shared access key (the connection string's SharedAccessKey).
    Sas,
}

/// The cloud a thin-edge.io device connects to (`pki guide --sdk tedge --cloud`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Cloud {
    /// Cumulocity: the tenant trusts the device's self-signed certificate, or the CA that
    /// signed it.
    C8y,
    /// Azure IoT Hub, through the gateway.
    Azure,
}

/// `pki guide`.
#[derive(Debug, Args)]
pub(crate) struct GuideArgs {
    /// The device id.
    pub(crate) device_id: String,
    /// Which SDK or client to write for.
    #[arg(long, value_enum)]
    pub(crate) sdk: Sdk,
    /// X.509 or SAS (default: X.509 when the device's certificate is in the directory).
    #[arg(long, value_enum)]
    pub(crate) auth: Option<DeviceAuth>,
    /// The IoT hub's host name.
    #[arg(
        long,
        value_name = "HOST",
        default_value = "YOUR-HUB.azure-devices.net"
    )]
    pub(crate) hub: String,
    /// The gateway's host name (default: the host of the one gateway server certificate in
    /// service in the register).
    #[arg(long, value_name = "HOST")]
    pub(crate) gateway: Option<String>,
    /// With --sdk tedge: the cloud (default: c8y for a self-signed device, azure otherwise).
    #[arg(long, value_enum)]
    pub(crate) cloud: Option<Cloud>,
    /// With --cloud c8y: the Cumulocity tenant, a host name or https:// URL (default: a
    /// placeholder).
    #[arg(long, value_name = "URL", value_parser = tenant_url)]
    pub(crate) c8y_url: Option<pki_c8y::TenantUrl>,
}

// ---------------------------------------------------------------------------------------------
// The values flags take: each string becomes its domain value here, once, at the edge.

/// A flag's value that pki refused, in pki's words: `main` prints it as the one error line (and
/// its hint) that a command's error gets, not as clap's usage error. The value parsers below
/// return it for what pki itself judges; a value clap's own parsers refuse stays clap's error.
#[derive(Debug)]
pub(crate) struct BadValue(pub(crate) anyhow::Error);

impl std::fmt::Display for BadValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl std::error::Error for BadValue {}

/// `--c8y-url`: a Cumulocity tenant's URL or host name, https only, never with a password in it.
fn tenant_url(s: &str) -> Result<pki_c8y::TenantUrl, BadValue> {
    pki_c8y::TenantUrl::parse(s).map_err(|e| BadValue(anyhow::anyhow!("{e} (--c8y-url)")))
}

/// `--key-type`: one of pki-core's key types, by name.
fn key_type(s: &str) -> Result<KeyType, BadValue> {
    s.parse().map_err(|e: pki_core::Error| BadValue(e.into()))
}

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

/// `--at`: an RFC 3339 instant, or a bare date (`2028-01-01`) meaning its midnight UTC.
fn instant(s: &str) -> Result<OffsetDateTime, BadValue> {
    let rfc3339 = OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339);
    let date = || {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        time::Date::parse(s, &format).map(|d| d.midnight().assume_utc())
    };
    // time's parse errors repeat their reason as their source: the reason is said once here,
    // as text (that of the form the value looks like), never chained.
    rfc3339.or_else(|full| {
        date().map_err(|bare| {
            let reason = if s.contains('T') || s.contains('t') || s.len() > 10 {
                full.to_string()
            } else {
                bare.to_string()
            };
            BadValue(anyhow::anyhow!(
                "--at {s:?} is not a date such as 2028-01-01 (midnight UTC) or an RFC 3339 time \
                 such as 2026-11-22T10:00:00Z: {reason}"
            ))
        })
    })
}

/// `pki verify --timeout`: seconds (a fraction allowed), more than 0 and at most an hour, which
/// is far beyond any network step (beyond it a timeout is a typo, and 1e30 s is not a time the
/// system can wait for). What is not a number is clap's error, as for any number.
fn reason(s: &str) -> Result<pki_core::register::Reason, BadValue> {
    pki_core::register::Reason::parse(s).ok_or_else(|| {
        let names: Vec<&str> = pki_core::register::Reason::ALL
            .iter()
            .map(|r| r.as_str())
            .collect();
        BadValue(anyhow::anyhow!(
            "--reason {s:?} is not a revocation reason: use {}",
            names.join(", ")
        ))
    })
}

fn crl_url(s: &str) -> Result<String, BadValue> {
    pki_core::check_crl_url(s)
        .map(|()| s.to_owned())
        .map_err(|e| BadValue(e.into()))
}

fn step_timeout(s: &str) -> Result<Duration, Box<dyn std::error::Error + Send + Sync>> {
    let seconds: f64 = s.parse()?;
    let refused = || {
        BadValue(anyhow::anyhow!(
            "--timeout {seconds}: give a number of seconds greater than 0 and at most 3600"
        ))
    };
    if !(seconds > 0.0 && seconds <= 3600.0) {
        return Err(refused().into());
    }
    Ok(Duration::try_from_secs_f64(seconds).map_err(|_| refused())?)
}

/// `pki needs-renewal --expires-in`: a [`threshold`].
/// `--expiring`: a time left (`30d`), not a share of the lifetime.
fn expiring(s: &str) -> Result<time::Duration, BadValue> {
    match threshold("--expiring", s)? {
        Threshold::Remaining(d) => Ok(d),
        Threshold::Elapsed(_) => Err(BadValue(anyhow::anyhow!(
            "--expiring {s:?} is a share of the lifetime: give a time left such as 30d or 12h"
        ))),
    }
}

fn expires_in(s: &str) -> Result<Threshold, BadValue> {
    threshold("--expires-in", s)
}

/// `pki scan --warn`: a [`threshold`].
fn warn(s: &str) -> Result<Threshold, BadValue> {
    threshold("--warn", s)
}

/// When a certificate needs renewing: a time left (`30d`, `12h`, `1d12h`, `90m`, `45s`, `2w`;
/// at most 100 years) or a share of its lifetime (`66%`, `66.5%`; 0 to 100).
fn threshold(flag: &str, s: &str) -> Result<Threshold, BadValue> {
    let refused = || {
        BadValue(anyhow::anyhow!(
            "{flag} {s:?}: give a time left such as 30d, 12h or 1d12h, or a share of the lifetime such as 66%"
        ))
    };
    if let Some(percent) = s.strip_suffix('%') {
        let (whole, decimals) = percent.split_once('.').unwrap_or((percent, ""));
        let digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty()
            || whole.len() > 3
            || decimals.len() > 3
            || !digits(whole)
            || !digits(decimals)
        {
            return Err(refused());
        }
        let scale = 10u32.pow(decimals.len() as u32);
        let parts = whole.parse::<u32>().ok().zip(if decimals.is_empty() {
            Some(0)
        } else {
            decimals.parse::<u32>().ok()
        });
        return parts
            .and_then(|(w, d)| pki_core::Fraction::new(w * scale + d, 100 * scale))
            .map(Threshold::Elapsed)
            .ok_or_else(refused);
    }
    const MAX_SECONDS: i64 = 100 * 366 * 86_400;
    let (mut total, mut number) = (0i64, String::new());
    for c in s.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            'w' => 7 * 86_400,
            'd' => 86_400,
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return Err(refused()),
        };
        let n: i64 = number.parse().map_err(|_| refused())?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .filter(|t| *t <= MAX_SECONDS)
            .ok_or_else(refused)?;
        number.clear();
    }
    if s.is_empty() || !number.is_empty() {
        return Err(refused());
    }
    Ok(Threshold::Remaining(time::Duration::seconds(total)))
}

/// `--issuer`: a CA of the CA directory by its role, or a CA certificate file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IssuerSpec {
    /// `root` (`owner`, `owner-ca`, `root-ca`), `intermediate` (`intermediate-ca`) or
    /// `edge-ca:NAME` (`edge:NAME`).
    Role(CaRole),
    /// Anything else: the path of a CA certificate, whose key `--issuer-key` names.
    File(PathBuf),
}

impl IssuerSpec {
    /// Reads `--issuer`'s value; every string is one or the other.
    fn parse(spec: &str) -> Result<IssuerSpec, std::convert::Infallible> {
        let role = match spec {
            "root" | "owner" | "owner-ca" | "root-ca" => Some(CaRole::Root),
            "intermediate" | "intermediate-ca" => Some(CaRole::Intermediate),
            _ => spec
                .strip_prefix("edge-ca:")
                .or_else(|| spec.strip_prefix("edge:"))
                .map(|n| CaRole::EdgeCa(n.to_owned())),
        };
        Ok(role.map_or_else(|| IssuerSpec::File(PathBuf::from(spec)), IssuerSpec::Role))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

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
            (8, days(30), Duration::from_secs(5))
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
}
