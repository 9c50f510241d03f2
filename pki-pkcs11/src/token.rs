//! The token: loading a module, finding the token a URI names, logging in once, and the keys on
//! it (found, generated, listed, and signing as a [`pki_x509::CaSigner`]).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType as CkKeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use pki_x509::{CaSigner, KeyType};
use zeroize::Zeroizing;

use crate::der;
use crate::error::{Error, Result};
use crate::uri::Pkcs11Uri;

/// A loaded and initialised PKCS#11 module (one per process).
#[derive(Debug, Clone)]
pub struct Module {
    ctx: Pkcs11,
    path: PathBuf,
}

/// What a token says of itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// The slot it is in.
    pub slot: u64,
    /// Its label.
    pub label: String,
    /// Its manufacturer.
    pub manufacturer: String,
    /// Its model.
    pub model: String,
    /// Its serial number.
    pub serial: String,
    /// A failed login has been counted since the last good one (CKF_USER_PIN_COUNT_LOW).
    pub pin_count_low: bool,
    /// The next wrong PIN locks it (CKF_USER_PIN_FINAL_TRY).
    pub pin_final_try: bool,
    /// The PIN is locked (CKF_USER_PIN_LOCKED).
    pub pin_locked: bool,
}

impl TokenInfo {
    /// The token's URI (by label, plus serial so that two tokens of one label differ).
    pub fn uri(&self) -> Pkcs11Uri {
        Pkcs11Uri {
            token: Some(self.label.clone()),
            serial: Some(self.serial.clone()),
            ..Pkcs11Uri::default()
        }
    }
}

/// A key on a token, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// Its label (CKA_LABEL).
    pub label: String,
    /// Its id (CKA_ID).
    pub id: Vec<u8>,
    /// Its type, when pki signs with that type.
    pub key_type: Option<KeyType>,
    /// CKA_SENSITIVE: the token never reveals the key's value.
    pub sensitive: bool,
    /// CKA_EXTRACTABLE: the key can be wrapped out of the token.
    pub extractable: bool,
}

fn ck<'a>(token: &'a str, operation: &'static str) -> impl Fn(CkError) -> Error + 'a {
    move |e| match e {
        // What a module answers once the token (or the key) is no longer there.
        CkError::Pkcs11(
            rv @ (RvError::DeviceRemoved
            | RvError::TokenNotPresent
            | RvError::TokenNotRecognized
            | RvError::SlotIdInvalid
            | RvError::SessionHandleInvalid
            | RvError::SessionClosed
            | RvError::ObjectHandleInvalid
            | RvError::KeyHandleInvalid
            | RvError::DeviceError),
            _,
        ) => Error::Gone {
            token: token.to_owned(),
            operation,
            code: format!("{rv:?}"),
        },
        e => Error::Token {
            token: token.to_owned(),
            operation,
            reason: e.to_string(),
        },
    }
}

impl Module {
    /// Loads the module at `path` and initialises it for use from several threads.
    pub fn load(path: &Path) -> Result<Self> {
        let fail = |reason: String| Error::Module {
            path: path.to_owned(),
            reason,
        };
        if !path.is_file() {
            return Err(fail("no such file".into()));
        }
        let ctx = Pkcs11::new(path).map_err(|e| fail(e.to_string()))?;
        match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(e) => return Err(fail(e.to_string())),
        }
        Ok(Module {
            ctx,
            path: path.to_owned(),
        })
    }

    /// The module's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The tokens present.
    pub fn tokens(&self) -> Result<Vec<TokenInfo>> {
        let module = self.path.display().to_string();
        let slots = self
            .ctx
            .get_slots_with_initialized_token()
            .map_err(ck(&module, "listing slots"))?;
        slots.into_iter().map(|s| self.info(s)).collect()
    }

    fn info(&self, slot: Slot) -> Result<TokenInfo> {
        let i = self
            .ctx
            .get_token_info(slot)
            .map_err(ck("?", "reading the token's information"))?;
        Ok(TokenInfo {
            slot: slot.id(),
            label: i.label().trim_end().to_owned(),
            manufacturer: i.manufacturer_id().trim_end().to_owned(),
            model: i.model().trim_end().to_owned(),
            serial: i.serial_number().trim_end().to_owned(),
            pin_count_low: i.user_pin_count_low(),
            pin_final_try: i.user_pin_final_try(),
            pin_locked: i.user_pin_locked(),
        })
    }

    /// The token `uri` names (the first that matches every token attribute it gives).
    pub fn token(&self, uri: &Pkcs11Uri) -> Result<Token> {
        let module = self.path.display().to_string();
        let slots = self
            .ctx
            .get_slots_with_initialized_token()
            .map_err(ck(&module, "listing slots"))?;
        let mut present = Vec::new();
        for slot in slots {
            let info = self.info(slot)?;
            let want = |w: &Option<String>, have: &str| w.as_deref().is_none_or(|w| w == have);
            if want(&uri.token, &info.label)
                && want(&uri.manufacturer, &info.manufacturer)
                && want(&uri.model, &info.model)
                && want(&uri.serial, &info.serial)
                && uri.slot_id.is_none_or(|s| s == slot.id())
            {
                return Ok(Token {
                    ctx: self.ctx.clone(),
                    slot,
                    info,
                });
            }
            present.push(format!("{:?}", info.label));
        }
        Err(Error::NoToken {
            uri: uri.token_only().to_string(),
            present: if present.is_empty() {
                "none".into()
            } else {
                present.join(", ")
            },
        })
    }
}

/// A token of a loaded module.
#[derive(Debug)]
pub struct Token {
    ctx: Pkcs11,
    slot: Slot,
    info: TokenInfo,
}

impl Token {
    /// What the token says of itself.
    pub fn info(&self) -> &TokenInfo {
        &self.info
    }

    fn label(&self) -> &str {
        &self.info.label
    }

    /// A read-write session.
    fn session(&self) -> Result<Session> {
        self.ctx
            .open_rw_session(self.slot)
            .map_err(ck(self.label(), "opening a session"))
    }

    /// Logs in as the user with `pin`, once: a wrong PIN is reported, never tried again (each
    /// failed login counts toward the token locking its PIN). The session returned stays open
    /// so that the login holds for every session pki opens after it.
    pub fn login(&self, pin: &str) -> Result<LoggedIn> {
        let session = self.session()?;
        let auth = AuthPin::from(pin.to_owned());
        match session.login(UserType::User, Some(&auth)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(LoggedIn {
                token: Token {
                    ctx: self.ctx.clone(),
                    slot: self.slot,
                    info: self.info.clone(),
                },
                session,
            }),
            Err(CkError::Pkcs11(RvError::PinIncorrect | RvError::PinLenRange, _)) => {
                Err(Error::WrongPin {
                    token: self.label().to_owned(),
                })
            }
            Err(CkError::Pkcs11(RvError::PinLocked, _)) => Err(Error::PinLocked {
                token: self.label().to_owned(),
            }),
            Err(e) => Err(ck(self.label(), "login")(e)),
        }
    }
}

/// A token with the user logged in.
#[derive(Debug)]
pub struct LoggedIn {
    token: Token,
    session: Session,
}

/// The attributes that find a key of `class` the URI names.
fn template(uri: &Pkcs11Uri, class: ObjectClass) -> Vec<Attribute> {
    let mut t = vec![Attribute::Class(class)];
    if let Some(label) = &uri.object {
        t.push(Attribute::Label(label.as_bytes().to_vec()));
    }
    if let Some(id) = &uri.id {
        t.push(Attribute::Id(id.clone()));
    }
    t
}

impl LoggedIn {
    /// The token.
    pub fn token(&self) -> &Token {
        &self.token
    }

    fn label(&self) -> &str {
        self.token.label()
    }

    /// The private keys on the token, with how well each is protected.
    pub fn keys(&self) -> Result<Vec<KeyInfo>> {
        let s = &self.session;
        let handles = s
            .find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY)])
            .map_err(ck(self.label(), "listing keys"))?;
        let mut keys = Vec::new();
        for h in handles {
            let attrs = s
                .get_attributes(
                    h,
                    &[
                        AttributeType::Label,
                        AttributeType::Id,
                        AttributeType::Sensitive,
                        AttributeType::Extractable,
                    ],
                )
                .map_err(ck(self.label(), "reading a key's attributes"))?;
            let mut k = KeyInfo {
                label: String::new(),
                id: Vec::new(),
                key_type: None,
                sensitive: false,
                extractable: true,
            };
            for a in attrs {
                match a {
                    Attribute::Label(l) => k.label = String::from_utf8_lossy(&l).into_owned(),
                    Attribute::Id(id) => k.id = id,
                    Attribute::Sensitive(b) => k.sensitive = b,
                    Attribute::Extractable(b) => k.extractable = b,
                    _ => {}
                }
            }
            k.key_type = self.public_half(h).ok().map(|(t, _)| t);
            keys.push(k);
        }
        keys.sort_by(|a, b| a.label.cmp(&b.label));
        Ok(keys)
    }

    /// The key `uri` names, ready to sign.
    pub fn key(self, uri: &Pkcs11Uri) -> Result<TokenKey> {
        if !uri.names_object() {
            return Err(Error::NoObject {
                uri: uri.to_string(),
            });
        }
        let found = self
            .session
            .find_objects(&template(uri, ObjectClass::PRIVATE_KEY))
            .map_err(ck(self.label(), "finding the key"))?;
        let Some(&private) = found.first() else {
            return Err(Error::NoKey {
                token: self.label().to_owned(),
                uri: uri.to_string(),
            });
        };
        let (key_type, public) = self.public_half(private).map_err(|e| match e {
            Error::UnsupportedKey { reason, .. } => Error::UnsupportedKey {
                uri: uri.to_string(),
                reason,
            },
            e => e,
        })?;
        Ok(TokenKey {
            uri: uri.to_string(),
            token: self.token.info.label.clone(),
            ctx: self.token.ctx.clone(),
            slot: self.token.slot,
            private,
            key_type,
            public,
            sessions: Mutex::new(vec![self.session]),
        })
    }

    /// Generates a key of `key_type` on the token, labelled and identified as `uri` says
    /// (`object=` is required): sensitive, never extractable, for signing only.
    pub fn generate(self, uri: &Pkcs11Uri, key_type: KeyType) -> Result<TokenKey> {
        let Some(label) = uri.object.clone() else {
            return Err(Error::NoObject {
                uri: uri.to_string(),
            });
        };
        let existing = self
            .session
            .find_objects(&[Attribute::Label(label.as_bytes().to_vec())])
            .map_err(ck(self.label(), "finding keys"))?;
        if !existing.is_empty() {
            return Err(Error::KeyExists {
                token: self.label().to_owned(),
                uri: uri.to_string(),
            });
        }
        let id = match &uri.id {
            Some(id) => id.clone(),
            None => {
                use ring::rand::SecureRandom;
                let mut id = vec![0u8; 8];
                ring::rand::SystemRandom::new()
                    .fill(&mut id)
                    .map_err(|_| Error::Token {
                        token: self.label().to_owned(),
                        operation: "key generation",
                        reason: "the system random source failed".into(),
                    })?;
                id
            }
        };
        let (mechanism, mut public_t) = match key_type {
            KeyType::EcP256 => (
                Mechanism::EccKeyPairGen,
                vec![Attribute::EcParams(der::Curve::P256.params())],
            ),
            KeyType::EcP384 => (
                Mechanism::EccKeyPairGen,
                vec![Attribute::EcParams(der::Curve::P384.params())],
            ),
            KeyType::Rsa(bits) => (
                Mechanism::RsaPkcsKeyPairGen,
                vec![
                    Attribute::ModulusBits(std::ffi::c_ulong::from(bits).into()),
                    Attribute::PublicExponent(vec![1, 0, 1]),
                ],
            ),
            KeyType::Ed25519 => {
                return Err(Error::UnsupportedKey {
                    uri: uri.to_string(),
                    reason: "Ed25519 (not generated on tokens by pki)".into(),
                });
            }
        };
        let common = [
            Attribute::Token(true),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Id(id.clone()),
        ];
        public_t.extend(common.iter().cloned());
        public_t.push(Attribute::Verify(true));
        let mut private_t = common.to_vec();
        private_t.extend([
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
        ]);
        self.session
            .generate_key_pair(&mechanism, &public_t, &private_t)
            .map_err(ck(self.label(), "key generation"))?;
        let made = Pkcs11Uri {
            object: Some(label),
            id: Some(id),
            ..uri.clone()
        };
        self.key(&made)
    }

    /// The type and raw public key of a private key, read from the public key of the same id.
    fn public_half(&self, private: ObjectHandle) -> Result<(KeyType, Vec<u8>)> {
        let s = &self.session;
        let read = ck(self.label(), "reading a key's attributes");
        let unsupported = |reason: &str| Error::UnsupportedKey {
            uri: String::new(),
            reason: reason.to_owned(),
        };
        let attrs = s
            .get_attributes(private, &[AttributeType::KeyType, AttributeType::Id])
            .map_err(&read)?;
        let (mut kind, mut id) = (None, Vec::new());
        for a in attrs {
            match a {
                Attribute::KeyType(k) => kind = Some(k),
                Attribute::Id(i) => id = i,
                _ => {}
            }
        }
        let publics = s
            .find_objects(&[Attribute::Class(ObjectClass::PUBLIC_KEY), Attribute::Id(id)])
            .map_err(&read)?;
        let Some(&public) = publics.first() else {
            return Err(unsupported("without a public key object of the same id"));
        };
        match kind {
            Some(k) if k == CkKeyType::EC => {
                let attrs = s
                    .get_attributes(public, &[AttributeType::EcParams, AttributeType::EcPoint])
                    .map_err(&read)?;
                let (mut params, mut point) = (Vec::new(), Vec::new());
                for a in attrs {
                    match a {
                        Attribute::EcParams(p) => params = p,
                        Attribute::EcPoint(p) => point = p,
                        _ => {}
                    }
                }
                let (key_type, len) = match der::Curve::of_params(&params) {
                    Some(der::Curve::P256) => (KeyType::EcP256, 65),
                    Some(der::Curve::P384) => (KeyType::EcP384, 97),
                    None => {
                        return Err(unsupported(
                            "an EC key on a curve other than P-256 and P-384",
                        ));
                    }
                };
                let point = der::ec_point(&point, len)
                    .ok_or_else(|| unsupported("an EC key whose public point does not read"))?;
                Ok((key_type, point))
            }
            Some(k) if k == CkKeyType::RSA => {
                let attrs = s
                    .get_attributes(
                        public,
                        &[AttributeType::Modulus, AttributeType::PublicExponent],
                    )
                    .map_err(&read)?;
                let (mut n, mut e) = (Vec::new(), Vec::new());
                for a in attrs {
                    match a {
                        Attribute::Modulus(m) => n = m,
                        Attribute::PublicExponent(x) => e = x,
                        _ => {}
                    }
                }
                let n = &n[n.iter().take_while(|b| **b == 0).count()..];
                let bits = (n.len() * 8) as u32 - n.first().map_or(0, |b| b.leading_zeros());
                if bits < 2048 {
                    return Err(unsupported(&format!("RSA-{bits}, too short")));
                }
                let key = der::rsa_public_key(n, &e).ok_or_else(|| {
                    unsupported("an RSA key whose modulus or exponent is too long")
                })?;
                Ok((KeyType::Rsa(bits), key))
            }
            _ => Err(unsupported("neither an EC nor an RSA key")),
        }
    }
}

/// A private key on a token: it signs there, through a pool of sessions (one per thread that
/// signs at once, as a batch's workers do), and never leaves it.
pub struct TokenKey {
    uri: String,
    token: String,
    ctx: Pkcs11,
    slot: Slot,
    private: ObjectHandle,
    key_type: KeyType,
    public: Vec<u8>,
    sessions: Mutex<Vec<Session>>,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKey")
            .field("uri", &self.uri)
            .field("key_type", &self.key_type)
            .finish_non_exhaustive()
    }
}

impl TokenKey {
    /// The key's URI (its token, label and id).
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// A session of the pool, or a new one when another thread holds every open session (it
    /// shares the login).
    fn session(&self) -> Result<Session> {
        match self.sessions.lock().ok().and_then(|mut s| s.pop()) {
            Some(s) => Ok(s),
            None => self
                .ctx
                .open_ro_session(self.slot)
                .map_err(ck(&self.token, "signing")),
        }
    }

    /// Puts back a session that signed; one that failed (a token removed) is dropped.
    fn done(&self, session: Session, signed: &Result<Vec<u8>>) {
        if signed.is_ok()
            && let Ok(mut pool) = self.sessions.lock()
        {
            pool.push(session);
        }
    }

    /// RSASSA-PSS over the SHA-256 digest of `message` (MGF1-SHA-256, a 32-byte salt), the
    /// token hashing nothing: the mechanism every token with RSA-PSS offers (CKM_RSA_PKCS_PSS).
    fn sign_pss_raw(&self, message: &[u8]) -> Result<Vec<u8>> {
        if !matches!(self.key_type, KeyType::Rsa(_)) {
            return Err(Error::UnsupportedKey {
                uri: self.uri.clone(),
                reason: "RSA-PSS with a key that is not RSA".into(),
            });
        }
        let session = self.session()?;
        let hash = ring::digest::digest(&ring::digest::SHA256, message);
        let params = cryptoki::mechanism::rsa::PkcsPssParams {
            hash_alg: cryptoki::mechanism::MechanismType::SHA256,
            mgf: cryptoki::mechanism::rsa::PkcsMgfType::MGF1_SHA256,
            s_len: 32.into(),
        };
        let signed = session
            .sign(&Mechanism::RsaPkcsPss(params), self.private, hash.as_ref())
            .map_err(ck(&self.token, "signing"));
        self.done(session, &signed);
        signed
    }

    fn sign_raw(&self, message: &[u8]) -> Result<Vec<u8>> {
        let fail = ck(&self.token, "signing");
        let session = self.session()?;
        let signed = match self.key_type {
            KeyType::EcP256 | KeyType::EcP384 => {
                let alg = if self.key_type == KeyType::EcP256 {
                    &ring::digest::SHA256
                } else {
                    &ring::digest::SHA384
                };
                let hash = ring::digest::digest(alg, message);
                session
                    .sign(&Mechanism::Ecdsa, self.private, hash.as_ref())
                    .map_err(&fail)
                    .and_then(|raw| {
                        der::ecdsa_signature(&raw).ok_or_else(|| Error::Token {
                            token: self.token.clone(),
                            operation: "signing",
                            reason: format!("an ECDSA signature of {} bytes", raw.len()),
                        })
                    })
            }
            KeyType::Rsa(_) => {
                let hash = ring::digest::digest(&ring::digest::SHA256, message);
                let info =
                    Zeroizing::new(der::sha256_digest_info(hash.as_ref()).ok_or_else(|| {
                        Error::Token {
                            token: self.token.clone(),
                            operation: "signing",
                            reason: "a SHA-256 DigestInfo that does not encode".into(),
                        }
                    })?);
                session
                    .sign(&Mechanism::RsaPkcs, self.private, &info)
                    .map_err(&fail)
            }
            KeyType::Ed25519 => Err(Error::UnsupportedKey {
                uri: self.uri.clone(),
                reason: "Ed25519".into(),
            }),
        };
        self.done(session, &signed);
        signed
    }
}

impl CaSigner for TokenKey {
    fn key_type(&self) -> KeyType {
        self.key_type
    }

    fn public_key_raw(&self) -> pki_x509::Result<Vec<u8>> {
        Ok(self.public.clone())
    }

    fn sign(&self, message: &[u8]) -> pki_x509::Result<Vec<u8>> {
        self.sign_raw(message)
            .map_err(|e| pki_x509::Error::Sign(e.to_string()))
    }

    fn sign_rsa_pss_sha256(&self, message: &[u8]) -> pki_x509::Result<Vec<u8>> {
        self.sign_pss_raw(message)
            .map_err(|e| pki_x509::Error::Sign(e.to_string()))
    }
}
