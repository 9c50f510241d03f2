//! End-to-end tests: the built `pki` binary against real peers (OpenSSL as the oracle).

mod batch;
mod build;
mod c8y;
mod common;
mod errors;
mod guarantees;
mod peers;
mod show;
mod trust;
mod verify;
