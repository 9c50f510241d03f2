//! What can go wrong with a token: each variant names the input at fault.

use std::path::PathBuf;

/// A token could not be used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The text is not a `pkcs11:` URI pki can use.
    #[error("bad PKCS#11 URI {uri:?}: {reason}")]
    BadUri {
        /// The URI (any `pin-value` removed).
        uri: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No PKCS#11 module was named (neither by the caller nor by the URI's `module-path`).
    #[error("no PKCS#11 module")]
    NoModule,
    /// The module could not be loaded or initialised.
    #[error("cannot load the PKCS#11 module {path}: {reason}")]
    Module {
        /// The module's path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// No token matches the URI.
    #[error("no token matches {uri} (tokens present: {present})")]
    NoToken {
        /// The URI.
        uri: String,
        /// The labels of the tokens that are there.
        present: String,
    },
    /// The PIN was refused. pki tried it once, and does not try again.
    #[error("wrong PIN for token {token:?} (tried once; the token counts failed logins)")]
    WrongPin {
        /// The token's label.
        token: String,
    },
    /// The token's PIN is locked after too many failed logins.
    #[error("the PIN of token {token:?} is locked; unlock it with the token's SO PIN")]
    PinLocked {
        /// The token's label.
        token: String,
    },
    /// No key on the token matches the URI.
    #[error("no private key on token {token:?} matches {uri}; see `pki hsm list-keys`")]
    NoKey {
        /// The token's label.
        token: String,
        /// The URI.
        uri: String,
    },
    /// The URI names no key, where one is needed.
    #[error("the URI {uri} names no key: add object=LABEL or id=%HEX")]
    NoObject {
        /// The URI.
        uri: String,
    },
    /// A key already has the label or id given for a new one.
    #[error("token {token:?} already holds a key matching {uri}; choose another object= label")]
    KeyExists {
        /// The token's label.
        token: String,
        /// The URI.
        uri: String,
    },
    /// The key's type is not one pki signs with.
    #[error("the key {uri} is {reason}; pki signs with EC P-256, P-384 and RSA keys")]
    UnsupportedKey {
        /// The URI.
        uri: String,
        /// What the key is.
        reason: String,
    },
    /// The token, or the key on it, went away while pki used it (removed, its files deleted):
    /// nothing was signed. A batch stopped by it finishes when run again with the token back.
    #[error(
        "token {token:?} is gone: {operation} failed ({code}); put the token back and run the same command again"
    )]
    Gone {
        /// The token's label.
        token: String,
        /// What pki asked of it.
        operation: &'static str,
        /// The module's return code.
        code: String,
    },
    /// A call to the token failed.
    #[error("token {token:?}: {operation} failed: {reason}")]
    Token {
        /// The token's label.
        token: String,
        /// What pki asked of it.
        operation: &'static str,
        /// The token's answer.
        reason: String,
    },
}

/// A result with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
