//! Cumulocity IoT: the REST client of a tenant's trusted certificates ([`client`]), the JSON it
//! exchanges ([`model`]), and the proof-of-possession signature ([`pop`]). The `pki c8y`
//! commands in `commands/c8y.rs` drive it.

pub(crate) mod client;
pub(crate) mod model;
pub(crate) mod pop;
