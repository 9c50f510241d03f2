//! A real mosquitto broker with one TLS listener on 127.0.0.1: the transparent gateway
//! `pki verify` is tested against, with or without required client certificates.

use std::path::Path;

use super::fixtures::tmp;
use super::programs;
use super::servers::{Process, Server, absolute};

/// An MQTT 3.1.1 CONNECT (client id `e2e`, clean session, keep-alive 60 s) then DISCONNECT: what a
/// client sends to see the broker accept it.
pub(crate) const MQTT_CONNECT_DISCONNECT: &[u8] = &[
    0x10, 15, 0, 4, b'M', b'Q', b'T', b'T', 4, 0x02, 0, 60, 0, 3, b'e', b'2', b'e', 0xe0, 0,
];
/// CONNACK, connection accepted.
pub(crate) const MQTT_CONNACK_OK: &str = "\u{20}\u{2}\u{0}\u{0}";

/// A real mosquitto broker with one TLS listener on 127.0.0.1, in the foreground, until dropped.
pub(crate) struct Mosquitto {
    process: Process,
    port: u16,
    _config: tempfile::TempDir,
}

impl Mosquitto {
    /// Starts mosquitto with a TLS listener serving `certfile` (the server certificate followed
    /// by its chain, sent as it is) and `keyfile`, trusting `cafile` for client certificates.
    /// With `require_certificate`, a client must present a certificate issued under `cafile`
    /// and its subject's CN becomes its user name. Paths are relative to `dir`.
    pub(crate) fn start(
        dir: &Path,
        cafile: &str,
        certfile: &str,
        keyfile: &str,
        require_certificate: bool,
    ) -> Self {
        Self::launch(
            dir,
            [cafile, certfile, keyfile],
            require_certificate,
            None,
            None,
        )
    }

    /// As [`Mosquitto::start`], on `port` exactly (8883 for the Azure IoT SDKs, which always
    /// dial it); a taken port fails the test with that reason.
    pub(crate) fn start_on(
        dir: &Path,
        port: u16,
        cafile: &str,
        certfile: &str,
        keyfile: &str,
        require_certificate: bool,
    ) -> Self {
        Self::launch(
            dir,
            [cafile, certfile, keyfile],
            require_certificate,
            None,
            Some(port),
        )
    }

    /// Starts mosquitto as [`Mosquitto::start`] does with a client certificate required, and
    /// with `crlfile` (relative to `dir`): it then refuses a client whose certificate a CRL
    /// there lists. mosquitto (2.0) loads every CRL of the file (PEM) and checks the client's
    /// own certificate only, as OpenSSL's `-crl_check` does (not `-crl_check_all`): it needs the
    /// CRL of the client's issuing CA, and a revoked CA above it stops nobody.
    pub(crate) fn start_with_crl(
        dir: &Path,
        cafile: &str,
        certfile: &str,
        keyfile: &str,
        crlfile: &str,
    ) -> Self {
        Self::launch(dir, [cafile, certfile, keyfile], true, Some(crlfile), None)
    }

    /// As [`Mosquitto::start_with_crl`], living on `clock`: the broker judges certificates and
    /// CRLs on the day the clock shows, as it moves.
    pub(crate) fn start_on_clock(
        dir: &Path,
        [cafile, certfile, keyfile, crlfile]: [&str; 4],
        clock: &super::clock::Clock,
    ) -> Self {
        Self::launch_with(
            dir,
            [cafile, certfile, keyfile],
            true,
            Some(crlfile),
            None,
            &|cmd| {
                clock.apply(cmd);
            },
        )
    }

    fn launch(
        dir: &Path,
        files: [&str; 3],
        require_certificate: bool,
        crlfile: Option<&str>,
        fixed_port: Option<u16>,
    ) -> Self {
        Self::launch_with(
            dir,
            files,
            require_certificate,
            crlfile,
            fixed_port,
            &|_| {},
        )
    }

    fn launch_with(
        dir: &Path,
        [cafile, certfile, keyfile]: [&str; 3],
        require_certificate: bool,
        crlfile: Option<&str>,
        fixed_port: Option<u16>,
        adjust: &dyn Fn(&mut std::process::Command),
    ) -> Self {
        let config_dir = tmp();
        let config = config_dir.path().join("mosquitto.conf");
        let (cafile, certfile, keyfile) = (
            absolute(dir, cafile),
            absolute(dir, certfile),
            absolute(dir, keyfile),
        );
        let make = |port: u16| {
            let mut text = format!(
                "# Written by the pki end-to-end tests.\n\
                     # When run as root (CI containers) mosquitto would switch to the user\n\
                     # `mosquitto` before loading the certificates, which then cannot read the\n\
                     # keys in a 0700 temporary directory; `root` keeps it. As any other user\n\
                     # this line has no effect.\n\
                     user root\n\
                     persistence false\n\
                     log_dest stderr\n\
                     allow_anonymous true\n\
                     listener {port} 127.0.0.1\n\
                     cafile {}\n\
                     certfile {}\n\
                     keyfile {}\n\
                     require_certificate {require_certificate}\n",
                cafile.display(),
                certfile.display(),
                keyfile.display(),
            );
            if require_certificate {
                text.push_str("use_identity_as_username true\n");
            }
            if let Some(crl) = crlfile {
                text += &format!("crlfile {}\n", absolute(dir, crl).display());
            }
            std::fs::write(&config, text).expect("write mosquitto.conf");
            // On PATH, or in /usr/sbin where Debian's package puts it (tests/programs.txt).
            let mut cmd = programs::command("mosquitto");
            cmd.arg("-c").arg(&config);
            adjust(&mut cmd);
            cmd
        };
        let (process, port) = match fixed_port {
            Some(port) => (
                Process::start_on_port("mosquitto", " running", port, make),
                port,
            ),
            None => Process::start_on_free_port("mosquitto", " running", make),
        };
        Mosquitto {
            process,
            port,
            _config: config_dir,
        }
    }

    /// The broker's process id: `kill -HUP PID` makes mosquitto 2 reload its configuration and
    /// certificates (a certificate it cannot load leaves it serving the one it had).
    pub(crate) fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// The broker's log so far (connections, TLS errors, client user names).
    pub(crate) fn output(&self) -> String {
        self.process.output()
    }
}

impl Server for Mosquitto {
    fn port(&self) -> u16 {
        self.port
    }
}
