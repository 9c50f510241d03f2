//! End-to-end tests: the built `pki` binary against real peers (OpenSSL as the oracle).

mod build;
mod common;
mod errors;
mod peers;
mod show;
mod verify;
