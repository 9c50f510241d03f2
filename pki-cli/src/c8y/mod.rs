//! Cumulocity IoT: the REST client of a tenant's trusted certificates ([`client`]), the JSON it
//! exchanges ([`model`]), the proof-of-possession signature ([`pop`]), and what is never shown
//! of the conversation ([`redact`]). The `pki c8y` commands in `commands/c8y.rs` drive it.

pub(crate) mod client;
pub(crate) mod model;
pub(crate) mod pop;
pub(crate) mod redact;
