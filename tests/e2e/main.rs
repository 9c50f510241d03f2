//! End-to-end tests: the built `pki` binary against real peers (OpenSSL as the oracle).
//!
//! One module per subject holds its tests; the harness they share (running pki and openssl,
//! fixtures, peers, assertions, snapshot filters) is in `support/`, and the harness's own tests
//! are in `harness.rs`.
// Tests start the programs they check against (openssl, peers, pki itself) with environments
// of their own, and only through `support::programs` (tests/programs.txt, the list of the
// programs the tests run and their packages): clippy's `disallowed-methods` (clippy.toml)
// refuses `Command::new` anywhere else here, as it does in pki outside `child_command`.

mod support;

mod batch;
mod build;
mod c8y;
mod drift;
mod errors;
mod est;
#[cfg(unix)] // file modes, and hooks in sh
mod est_client;
#[cfg(unix)] // the servers stopped with SIGTERM, openssl s_client's and PostgreSQL's peers
mod est_scale;
#[cfg(unix)]
mod est_serve;
mod export;
mod fleet;
mod guarantees;
mod guide_est;
mod guide_safety;
mod harness;
mod hsm;
mod inputs;
mod install;
mod java_nss;
mod journey;
mod needs_renewal;
mod postgres;
mod register;
mod renew;
mod repository;
mod revoke;
mod scan;
mod sdk;
mod show;
#[cfg(unix)]
mod systemd;
mod tedge;
mod trust;
mod verify;
mod verify_crl;
