//! The OpenSSL 3.0 verdict: `X509_verify_cert` re-done step by step.
//!
//! This reproduces what `openssl verify -CAfile ANCHORS -untrusted SENT [-purpose P]
//! [-verify_hostname H | -verify_ip IP] [-auth_level N] -attime T LEAF` and
//! `openssl s_client -verify_return_error` report, following crypto/x509/x509_vfy.c and
//! v3_purp.c of OpenSSL 3.0:
//!
//! 1. the leaf's key strength (`-auth_level`), 66;
//! 2. `build_chain`, trusted-first: the issuer is looked up by OpenSSL's canonical name
//!    comparison, accepted when the AKID matches the SKID and the signature algorithm fits the key,
//!    preferring a currently valid certificate, else the latest to expire; a self-signed
//!    certificate ends the chain. Failures: 18, 19, 20 and 2;
//! 3. `check_extensions` per depth: unhandled critical extensions (34), CA flags (79), EC keys
//!    with explicit curve parameters (94, in a chain of two or more), purpose (26), path length
//!    (25);
//! 4. `check_auth_level`: CA key strength (67), signature digest strength (68);
//! 5. `check_id`: host name (62, with the CN fallback when there is no DNS SAN), IP address (64);
//! 6. `internal_verify`, from the top down: keyCertSign of the issuer (32), signature (7), validity
//!    including the trust anchor's (9, 10); a chain that does not end in a self-issued
//!    certificate reports 21 at depth 0 when it holds only the leaf;
//! 7. `check_name_constraints` (47, 48, 49, 51, 53, and 1 past OpenSSL's work limit).
//!
//! Every error is recorded as if the verify callback let verification go on (s_client without
//! `-verify_return_error`); the verdict's `code` and `depth` are the first, which is what
//! `-verify_return_error` and `openssl verify` report.

mod code;
mod crl;
pub(crate) mod extensions;
pub(crate) mod names;
mod ncons;

pub(crate) use pki_x509::canonical_name as name_canonical;

use pki_x509::oid;
use serde::Serialize;

pub use code::VerifyCode;

use crate::Error;
use crate::chain::{Cert, CertRef, Parsed};
use crate::options::{NameToCheck, Purpose, VerifyOptions};

/// One error as OpenSSL reports it to its verify callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OpensslError {
    /// The `X509_V_ERR_*` number.
    pub code: VerifyCode,
    /// The depth of the certificate at fault (0 is the leaf).
    pub depth: u32,
    /// `X509_verify_cert_error_string(code)`.
    pub text: &'static str,
}

/// What OpenSSL 3.0 says of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpensslVerdict {
    /// The first error's `X509_V_ERR_*` number, 0 when verified: what `openssl verify` and
    /// `openssl s_client -verify_return_error` report.
    pub code: VerifyCode,
    /// The depth of the first error, `None` when verified.
    pub depth: Option<u32>,
    /// OpenSSL's wording of `code` (`ok`, `unable to get local issuer certificate`, ...).
    pub text: &'static str,
    /// Every error in the order OpenSSL meets them when told to go on after each (s_client
    /// without `-verify_return_error`, whose final "Verify return code" is the last of them).
    pub errors: Vec<OpensslError>,
}

impl OpensslVerdict {
    /// Whether OpenSSL accepts the chain.
    pub fn is_ok(&self) -> bool {
        self.code == VerifyCode::Ok
    }

    /// The errors `openssl verify` prints: it goes on after the errors its callback tolerates
    /// (expiry, a self-signed leaf, CA flags, path length, purpose, critical extensions) and stops
    /// at the first other one.
    pub fn verify_command_errors(&self) -> &[OpensslError] {
        let stop = self
            .errors
            .iter()
            .position(|e| !e.code.verify_command_continues())
            .map_or(self.errors.len(), |i| i + 1);
        &self.errors[..stop]
    }

    /// The code `s_client` reports as "Verify return code" without `-verify_return_error`: the
    /// last error, or 0.
    pub fn final_code(&self) -> VerifyCode {
        self.errors.last().map_or(VerifyCode::Ok, |e| e.code)
    }

    fn from_errors(errors: Vec<OpensslError>) -> Self {
        match errors.first() {
            Some(first) => Self {
                code: first.code,
                depth: Some(first.depth),
                text: first.text,
                errors,
            },
            None => Self {
                code: VerifyCode::Ok,
                depth: None,
                text: error_string(VerifyCode::Ok),
                errors,
            },
        }
    }
}

/// OpenSSL 3.0's `X509_verify_cert_error_string`, of a number or a [`VerifyCode`].
pub fn error_string(code: impl Into<VerifyCode>) -> &'static str {
    code.into().text()
}

/// The OpenSSL verdict and the chain OpenSSL built (leaf first).
pub(crate) struct Outcome {
    pub(crate) verdict: OpensslVerdict,
    pub(crate) chain: Vec<CertRef>,
    /// The certificates a CRL lists as revoked: (position in `chain`, index of the CRL).
    pub(crate) revoked: Vec<(usize, usize)>,
}

/// Runs OpenSSL's verification on the parsed input.
pub(crate) fn verify(parsed: &Parsed<'_>, opts: &VerifyOptions) -> Result<Outcome, Error> {
    let mut refs = vec![CertRef::Leaf];
    refs.extend((0..parsed.intermediates.len()).map(CertRef::Intermediate));
    refs.extend((0..parsed.anchors.len()).map(CertRef::Anchor));
    let facts = refs.iter().map(|&r| Facts::of(parsed.get(r))).collect();
    let mut ctx = Ctx {
        parsed,
        refs,
        facts,
        opts,
        chain: vec![0],
        num_untrusted: 1,
        errors: Vec::new(),
        revocations: Vec::new(),
    };
    ctx.run()?;
    Ok(Outcome {
        verdict: OpensslVerdict::from_errors(std::mem::take(&mut ctx.errors)),
        chain: ctx.chain.iter().map(|&i| ctx.refs[i]).collect(),
        revoked: ctx.revocations.iter().map(|r| (r.depth, r.crl)).collect(),
    })
}

/// The extension facts OpenSSL caches per certificate (`ossl_x509v3_cache_extensions`).
struct Facts {
    subject: Option<Vec<u8>>,
    issuer: Option<Vec<u8>>,
    /// EXFLAG_SI: subject equals issuer.
    self_issued: bool,
    /// `X509_self_signed(x, 0) > 0`: EXFLAG_SS (self-issued, AKID matches own SKID, signature
    /// algorithm fits own key) on a certificate that is not invalid.
    self_signed: bool,
    /// EXFLAG_INVALID, and why ([`extensions::invalid`]).
    invalid: Option<extensions::Invalid>,
    v1: bool,
    /// EXFLAG_BCONS and EXFLAG_CA.
    bcons: Option<bool>,
    /// `ex_pathlen`, -1 when none.
    pathlen: i64,
    kusage: Option<u32>,
    xkusage: Option<Vec<String>>,
    nscert: Option<u32>,
    /// EXFLAG_CRITICAL: a critical extension OpenSSL does not know.
    unhandled_critical: bool,
    /// `check_curve` is 0: an EC key with explicit curve parameters.
    explicit_curve: bool,
    /// `check_curve` is -1: the key does not decode (an EC point off its curve).
    key_undecodable: bool,
    trusted: bool,
}

const KU_DIGITAL_SIGNATURE: u32 = 0x80;
const KU_KEY_ENCIPHERMENT: u32 = 0x20;
const KU_KEY_AGREEMENT: u32 = 0x08;
const KU_KEY_CERT_SIGN: u32 = 0x04;
const NS_SSL_CLIENT: u32 = 0x80;
const NS_SSL_SERVER: u32 = 0x40;
const NS_SSL_CA: u32 = 0x04;
const NS_ANY_CA: u32 = 0x07;

/// Extensions `X509_supported_extension` knows in OpenSSL 3.0; any other critical extension
/// makes the certificate fail with 34.
const SUPPORTED_EXTENSIONS: &[&str] = &[
    oid::NS_CERT_TYPE,            // nsCertType
    oid::KEY_USAGE,               // keyUsage
    oid::SUBJECT_ALT_NAME,        // subjectAltName
    oid::BASIC_CONSTRAINTS,       // basicConstraints
    oid::CERTIFICATE_POLICIES,    // certificatePolicies
    oid::CRL_DISTRIBUTION_POINTS, // cRLDistributionPoints
    oid::EXTENDED_KEY_USAGE,      // extendedKeyUsage
    oid::SBGP_IP_ADDR_BLOCK,      // sbgp-ipAddrBlock
    oid::SBGP_AUTONOMOUS_SYS_NUM, // sbgp-autonomousSysNum
    oid::OCSP_NO_CHECK,           // id-pkix-OCSP-noCheck
    oid::POLICY_CONSTRAINTS,      // policyConstraints
    oid::PROXY_CERT_INFO,         // proxyCertInfo
    oid::NAME_CONSTRAINTS,        // nameConstraints
    oid::POLICY_MAPPINGS,         // policyMappings
    oid::INHIBIT_ANY_POLICY,      // inhibitAnyPolicy
];

impl Facts {
    fn of(cert: &Cert<'_>) -> Self {
        let subject = name_canonical(cert.x509.subject());
        let issuer = name_canonical(cert.x509.issuer());
        let self_issued = names_equal(&subject, &issuer);
        let invalid = extensions::invalid(cert);
        let self_signed = invalid.is_none()
            && self_issued
            && akid_matches(cert, cert, &issuer)
            && sig_alg_matches(cert, cert);
        let bc = cert.basic_constraints();
        let pathlen = match bc {
            Some(b) => match (b.ca, b.path_len) {
                (true, Some(n)) => i64::from(n),
                (false, Some(_)) => 0,
                (_, None) => -1,
            },
            None => -1,
        };
        Self {
            subject,
            issuer,
            self_issued,
            self_signed,
            invalid,
            v1: cert.version() == 0,
            bcons: bc.map(|b| b.ca),
            pathlen,
            kusage: cert.key_usage_bits(),
            xkusage: cert.extended_key_usage(),
            nscert: cert.ns_cert_type_bits(),
            unhandled_critical: cert
                .critical_extension_oids()
                .any(|o| !SUPPORTED_EXTENSIONS.contains(&o.as_str())),
            explicit_curve: crate::signature::has_explicit_curve(cert.x509.public_key()),
            key_undecodable: !crate::signature::public_key_decodes(cert.x509.public_key()),
            trusted: matches!(cert.role, CertRef::Anchor(_)),
        }
    }

    fn ku_reject(&self, usage: u32) -> bool {
        self.kusage.is_some_and(|k| k & usage == 0)
    }

    fn xku_reject(&self, usages: &[&str]) -> bool {
        self.xkusage
            .as_ref()
            .is_some_and(|x| !x.iter().any(|o| usages.contains(&o.as_str())))
    }

    fn ns_reject(&self, usage: u32) -> bool {
        self.nscert.is_some_and(|n| n & usage == 0)
    }

    /// `check_ca` in v3_purp.c: 0 not a CA, 1 basicConstraints CA, 3 v1 self-signed root,
    /// 4 keyUsage only, 5 Netscape CA type.
    fn check_ca(&self) -> i32 {
        // `X509_check_ca` of an invalid certificate.
        if self.invalid.is_some() || self.ku_reject(KU_KEY_CERT_SIGN) {
            return 0;
        }
        match self.bcons {
            Some(true) => 1,
            Some(false) => 0,
            None if self.v1 && self.self_signed => 3,
            None if self.kusage.is_some() => 4,
            None if self.nscert.is_some_and(|n| n & NS_ANY_CA != 0) => 5,
            None => 0,
        }
    }

    fn check_ssl_ca(&self) -> bool {
        match self.check_ca() {
            0 => false,
            5 => self.nscert.is_some_and(|n| n & NS_SSL_CA != 0),
            _ => true,
        }
    }

    /// `X509_check_purpose(x, purpose, require_ca)` as `check_purpose` takes it: an invalid
    /// certificate (-1) passes outside strict mode.
    fn check_purpose(&self, purpose: Purpose, require_ca: bool) -> bool {
        if self.invalid.is_some() {
            return true;
        }
        match purpose {
            Purpose::Any => true,
            Purpose::Server => {
                if self.xku_reject(&[oid::SERVER_AUTH, oid::NS_SGC, oid::MS_SGC]) {
                    return false;
                }
                if require_ca {
                    return self.check_ssl_ca();
                }
                !self.ns_reject(NS_SSL_SERVER)
                    && !self
                        .ku_reject(KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT | KU_KEY_AGREEMENT)
            }
            Purpose::Client => {
                if self.xku_reject(&[oid::CLIENT_AUTH]) {
                    return false;
                }
                if require_ca {
                    return self.check_ssl_ca();
                }
                !self.ku_reject(KU_DIGITAL_SIGNATURE | KU_KEY_AGREEMENT)
                    && !self.ns_reject(NS_SSL_CLIENT)
            }
        }
    }
}

/// `X509_NAME_cmp(a, b) == 0`.
fn names_equal(a: &Option<Vec<u8>>, b: &Option<Vec<u8>>) -> bool {
    matches!((a, b), (Some(a), Some(b)) if a == b)
}

/// `X509_check_akid(issuer, subject's AKID) == X509_V_OK`; `issuer_issuer` is the canonical
/// issuer name of `issuer`.
fn akid_matches(issuer: &Cert<'_>, subject: &Cert<'_>, issuer_issuer: &Option<Vec<u8>>) -> bool {
    akid_check(issuer, subject.authority_key_id(), issuer_issuer)
}

/// `X509_check_akid(issuer, akid) == X509_V_OK`: the key identifier, serial and issuer name of
/// an AKID (a certificate's or a CRL's), each where given, are the issuer's.
fn akid_check(
    issuer: &Cert<'_>,
    akid: Option<&x509_parser::extensions::AuthorityKeyIdentifier<'_>>,
    issuer_issuer: &Option<Vec<u8>>,
) -> bool {
    let Some(akid) = akid else {
        return true;
    };
    if let (Some(kid), Some(skid)) = (&akid.key_identifier, issuer.subject_key_id())
        && kid.0 != skid
    {
        return false;
    }
    if let Some(serial) = akid.authority_cert_serial
        && serial != issuer.x509.raw_serial()
    {
        return false;
    }
    if let Some(dir) = akid
        .authority_cert_issuer
        .iter()
        .flatten()
        .find_map(|g| match g {
            x509_parser::extensions::GeneralName::DirectoryName(n) => Some(n),
            _ => None,
        })
        && !names_equal(&name_canonical(dir), issuer_issuer)
    {
        return false;
    }
    true
}

/// `check_sig_alg_match`: the subject's signature algorithm is one for the issuer's key type.
fn sig_alg_matches(issuer: &Cert<'_>, subject: &Cert<'_>) -> bool {
    let sig = subject
        .x509
        .tbs_certificate
        .signature
        .algorithm
        .to_id_string();
    let key = issuer.x509.public_key().algorithm.algorithm.to_id_string();
    let want: &[&str] = match sig.as_str() {
        s if s
            .strip_prefix(oid::ECDSA_SIGNATURES)
            .is_some_and(|arc| arc.starts_with('.')) =>
        {
            &[oid::EC_PUBLIC_KEY]
        }
        oid::RSASSA_PSS => &[oid::RSA_ENCRYPTION, oid::RSASSA_PSS],
        oid::MD2_WITH_RSA_ENCRYPTION
        | oid::MD4_WITH_RSA_ENCRYPTION
        | oid::MD5_WITH_RSA_ENCRYPTION
        | oid::SHA1_WITH_RSA_ENCRYPTION
        | oid::SHA256_WITH_RSA_ENCRYPTION
        | oid::SHA384_WITH_RSA_ENCRYPTION
        | oid::SHA512_WITH_RSA_ENCRYPTION
        | oid::SHA224_WITH_RSA_ENCRYPTION
        | oid::SHA1_WITH_RSA
        | oid::RSA_WITH_SHA3_224
        | oid::RSA_WITH_SHA3_256
        | oid::RSA_WITH_SHA3_384
        | oid::RSA_WITH_SHA3_512 => &[oid::RSA_ENCRYPTION],
        // SM2-with-SM3: an SM2 key, which X.509 spells as an EC key on the SM2 curve.
        oid::SM2_WITH_SM3 => &[oid::EC_PUBLIC_KEY],
        oid::ED25519 => &[oid::ED25519],
        oid::ED448 => &[oid::ED448],
        oid::DSA_WITH_SHA1 | oid::DSA_WITH_SHA224 | oid::DSA_WITH_SHA256 => &[oid::DSA],
        _ => &[],
    };
    // An issuer key OpenSSL cannot decode (an EC point off its curve) matches nothing.
    want.contains(&key.as_str()) && crate::signature::public_key_decodes(issuer.x509.public_key())
}

/// Minimum security bits per auth level 1..=5.
const MIN_BITS: [u32; 5] = [80, 112, 128, 192, 256];

fn min_bits(level: u8) -> Option<u32> {
    match level {
        0 => None,
        l => Some(MIN_BITS[usize::from(l.min(5)) - 1]),
    }
}

/// `EVP_PKEY_get_security_bits` of a certificate's key; `None` when unknown (treated as strong).
fn key_security_bits(cert: &Cert<'_>) -> Option<u32> {
    use x509_parser::public_key::PublicKey;
    let spki = cert.x509.public_key();
    // `check_key_level` fails a key that does not decode (`X509_get0_pubkey` is NULL).
    if !crate::signature::public_key_decodes(spki) {
        return Some(0);
    }
    match spki.parsed().ok()? {
        PublicKey::RSA(rsa) => Some(rsa_security_bits(u32::try_from(rsa.key_size()).ok()?)),
        PublicKey::EC(_) if crate::signature::has_explicit_curve(spki) => {
            crate::signature::explicit_order_bits(spki).map(ec_security_bits)
        }
        PublicKey::DSA(_) => {
            let (l, n) = crate::signature::dsa_bits(spki)?;
            Some(ffc_security_bits(l, n))
        }
        PublicKey::EC(_) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()?
                .as_oid()
                .ok()?
                .to_id_string();
            crate::signature::ec_order_bits(&curve).map(ec_security_bits)
        }
        _ => match spki.algorithm.algorithm.to_id_string().as_str() {
            // An rsassaPss key: RSA's bits (its BIT STRING is an RSAPublicKey).
            oid::RSASSA_PSS => {
                use x509_parser::prelude::FromDer as _;
                let data = spki.subject_public_key.data.as_ref();
                let (_, rsa) = x509_parser::public_key::RSAPublicKey::from_der(data).ok()?;
                Some(rsa_security_bits(u32::try_from(rsa.key_size()).ok()?))
            }
            oid::ED25519 => Some(128),
            oid::ED448 => Some(224),
            _ => None,
        },
    }
}

/// `RSA_security_bits` of a modulus of `bits` bits (`BN_security_bits(bits, -1)`).
fn rsa_security_bits(bits: u32) -> u32 {
    match bits {
        b if b >= 15360 => 256,
        b if b >= 7680 => 192,
        b if b >= 3072 => 128,
        b if b >= 2048 => 112,
        b if b >= 1024 => 80,
        _ => 0,
    }
}

/// `EVP_PKEY_get_security_bits` of an EC key whose group order has `order_bits` bits.
fn ec_security_bits(order_bits: u32) -> u32 {
    match order_bits {
        b if b >= 512 => 256,
        b if b >= 384 => 192,
        b if b >= 256 => 128,
        b if b >= 224 => 112,
        b if b >= 160 => 80,
        b => b / 2,
    }
}

/// `BN_security_bits(L, N)`: a DSA key with an `l`-bit prime and an `n`-bit subgroup order.
fn ffc_security_bits(l: u32, n: u32) -> u32 {
    match (rsa_security_bits(l), n / 2) {
        (0, _) => 0,
        (_, half) if half < 80 => 0,
        (bits, half) => bits.min(half),
    }
}

/// The security bits OpenSSL 3.0 assigns to a certificate's signature (`x509_sig_info_init`);
/// `None` where it has no signature information, which `check_sig_level` counts as too weak.
fn signature_security_bits(cert: &Cert<'_>) -> Option<u32> {
    crate::signature::digest_security_bits(&cert.x509.signature_algorithm)
}

struct Ctx<'p, 'a> {
    parsed: &'p Parsed<'a>,
    /// Pool: 0 the leaf, then the sent certificates, then the anchors.
    refs: Vec<CertRef>,
    facts: Vec<Facts>,
    opts: &'p VerifyOptions,
    /// The chain being built, as pool indices, leaf first.
    chain: Vec<usize>,
    num_untrusted: usize,
    errors: Vec<OpensslError>,
    /// The certificates found revoked, in the order met.
    revocations: Vec<crl::Revocation>,
}

/// `max_depth` of `build_chain`: OpenSSL's default verify depth (100), plus one. The chain is
/// extended while it holds at most this many certificates, so it may grow to one more, and only
/// a chain longer than this is too long (22): a chain that gives up at exactly this length
/// reports why it ended (19, 2 or 20) at its top.
const MAX_DEPTH: usize = 101;

#[derive(PartialEq, Eq)]
enum Trust {
    Trusted,
    Untrusted,
}

impl<'a> Ctx<'_, 'a> {
    fn cert(&self, i: usize) -> &Cert<'a> {
        self.parsed.get(self.refs[i])
    }

    fn fail(&mut self, code: VerifyCode, depth: usize) {
        self.errors.push(OpensslError {
            code,
            depth: u32::try_from(depth).unwrap_or(u32::MAX),
            text: error_string(code),
        });
    }

    fn run(&mut self) -> Result<(), Error> {
        // x509_verify_x509: the leaf's own key strength.
        if let Some(min) = min_bits(self.opts.auth_level)
            && key_security_bits(self.cert(0)).is_some_and(|b| b < min)
        {
            self.fail(VerifyCode::EeKeyTooSmall, 0);
        }
        self.build_chain();
        self.check_extensions();
        self.check_auth_level();
        self.check_id();
        self.check_revocation();
        self.internal_verify()?;
        self.check_name_constraints();
        Ok(())
    }

    /// `check_issued`: `ossl_x509_likely_issued(issuer, x)`, which fails when either is invalid.
    fn check_issued(&self, x: usize, issuer: usize) -> bool {
        let (fx, fi) = (&self.facts[x], &self.facts[issuer]);
        names_equal(&fi.subject, &fx.issuer)
            && fi.invalid.is_none()
            && fx.invalid.is_none()
            && akid_matches(self.cert(issuer), self.cert(x), &fi.issuer)
            && sig_alg_matches(self.cert(issuer), self.cert(x))
    }

    /// `ossl_x509_check_cert_time(ctx, x, -1)`.
    fn time_valid(&self, i: usize) -> bool {
        let c = self.cert(i);
        c.not_before <= self.opts.at && c.not_after > self.opts.at
    }

    /// The first candidate that is currently valid, else the one expiring last.
    fn best_issuer(&self, candidates: impl Iterator<Item = usize>) -> Option<usize> {
        let mut best: Option<usize> = None;
        for c in candidates {
            if self.time_valid(c) {
                return Some(c);
            }
            if best.is_none_or(|b| self.cert(c).not_after > self.cert(b).not_after) {
                best = Some(c);
            }
        }
        best
    }

    /// `X509_STORE_CTX_get1_issuer` over the trust anchors.
    fn trusted_issuer(&self, x: usize) -> Option<usize> {
        let anchors = (0..self.refs.len()).filter(|&i| self.facts[i].trusted);
        let candidates: Vec<usize> = anchors.filter(|&a| self.check_issued(x, a)).collect();
        self.best_issuer(candidates.into_iter())
    }

    /// `find_issuer` over the remaining untrusted certificates.
    fn untrusted_issuer(&self, pool: &[usize], x: usize) -> Option<usize> {
        let candidates: Vec<usize> = pool
            .iter()
            .copied()
            .filter(|&c| {
                self.check_issued(x, c)
                    && ((self.facts[x].self_issued && self.chain.len() == 1)
                        || !self
                            .chain
                            .iter()
                            .any(|&k| self.cert(k).der == self.cert(c).der))
            })
            .collect();
        self.best_issuer(candidates.into_iter())
    }

    /// `check_trust` for the trusted certificates from `start` on (no auxiliary trust, no
    /// partial chains): a self-signed trusted certificate makes the chain trusted.
    fn check_trust(&self, start: usize) -> Trust {
        if self.chain[start..]
            .iter()
            .any(|&i| self.facts[i].self_signed)
        {
            Trust::Trusted
        } else {
            Trust::Untrusted
        }
    }

    /// `build_chain` with X509_V_FLAG_TRUSTED_FIRST (OpenSSL's default).
    fn build_chain(&mut self) {
        const DO_UNTRUSTED: u8 = 1;
        const DO_TRUSTED: u8 = 2;
        let mut pool: Vec<usize> = (0..self.refs.len())
            .filter(|&i| matches!(self.refs[i], CertRef::Intermediate(_)))
            .collect();
        let mut search = DO_UNTRUSTED | DO_TRUSTED;
        let mut trust = Trust::Untrusted;
        while search != 0 {
            let num = self.chain.len();
            if search & DO_TRUSTED != 0 {
                let curr = self.chain[num - 1];
                let issuer = if num > MAX_DEPTH {
                    None
                } else {
                    self.trusted_issuer(curr)
                };
                if let Some(issuer) = issuer {
                    let mut self_signed = self.facts[curr].self_signed;
                    let mut ok = true;
                    let mut start = num;
                    if !self_signed {
                        self.chain.push(issuer);
                        self_signed = self.facts[issuer].self_signed;
                    } else if self.cert(curr).der != self.cert(issuer).der {
                        // A self-signed look-alike of a trust anchor.
                        ok = false;
                    } else {
                        self.num_untrusted = num - 1;
                        start = num - 1;
                        self.chain[num - 1] = issuer;
                    }
                    if ok {
                        search &= !DO_UNTRUSTED;
                        trust = self.check_trust(start);
                        if trust == Trust::Trusted {
                            break;
                        }
                        if !self_signed {
                            continue;
                        }
                    }
                }
                if search & DO_UNTRUSTED == 0 {
                    break;
                }
            }
            if search & DO_UNTRUSTED != 0 {
                let num = self.chain.len();
                let curr = self.chain[num - 1];
                let issuer = if self.facts[curr].self_signed || num > MAX_DEPTH {
                    None
                } else {
                    self.untrusted_issuer(&pool, curr)
                };
                match issuer {
                    None => {
                        search &= !DO_UNTRUSTED;
                        search |= DO_TRUSTED;
                    }
                    Some(issuer) => {
                        pool.retain(|&p| p != issuer);
                        self.chain.push(issuer);
                        self.num_untrusted += 1;
                    }
                }
            }
        }
        if trust == Trust::Trusted {
            return;
        }
        let num = self.chain.len();
        if num > MAX_DEPTH {
            self.fail(VerifyCode::CertChainTooLong, num - 1);
        }
        let top = self.chain[num - 1];
        if self.facts[top].self_signed {
            let code = if num == 1 {
                VerifyCode::DepthZeroSelfSignedCert
            } else {
                VerifyCode::SelfSignedCertInChain
            };
            self.fail(code, num - 1);
        } else if self.num_untrusted < num {
            self.fail(VerifyCode::UnableToGetIssuerCert, num - 1);
        } else {
            self.fail(VerifyCode::UnableToGetIssuerCertLocally, num - 1);
        }
    }

    /// `check_extensions`.
    fn check_extensions(&mut self) {
        let num = self.chain.len();
        let mut must_be_ca = -1;
        let mut plen: i64 = 0;
        for i in 0..num {
            let x = self.chain[i];
            if self.facts[x].unhandled_critical {
                self.fail(VerifyCode::UnhandledCriticalExtension, i);
            }
            let ret = self.facts[x].check_ca();
            if must_be_ca == 1 && (ret == 0 || (i + 1 < num && ret != 1)) {
                self.fail(VerifyCode::InvalidCa, i);
            }
            if num > 1 && self.facts[x].key_undecodable {
                self.fail(VerifyCode::Unspecified, i);
            } else if num > 1 && self.facts[x].explicit_curve {
                self.fail(VerifyCode::EcKeyExplicitParams, i);
            }
            if let Some(purpose) = self.opts.purpose
                && !self.facts[x].check_purpose(purpose, must_be_ca > 0)
            {
                self.fail(VerifyCode::InvalidPurpose, i);
            }
            let pathlen = self.facts[x].pathlen;
            if i > 1 && pathlen != -1 && plen > pathlen {
                self.fail(VerifyCode::PathLengthExceeded, i);
            }
            if i > 0 && !self.facts[x].self_issued {
                plen += 1;
            }
            must_be_ca = 1;
        }
    }

    /// `check_auth_level`.
    fn check_auth_level(&mut self) {
        let Some(min) = min_bits(self.opts.auth_level) else {
            return;
        };
        let num = self.chain.len();
        for i in 0..num {
            let cert = self.cert(self.chain[i]);
            if i > 0 && key_security_bits(cert).is_some_and(|b| b < min) {
                self.fail(VerifyCode::CaKeyTooSmall, i);
            }
            let cert = self.cert(self.chain[i]);
            if i < num - 1 && signature_security_bits(cert).is_none_or(|b| b < min) {
                self.fail(VerifyCode::CaMdTooWeak, i);
            }
        }
    }

    /// `check_id`.
    fn check_id(&mut self) {
        let leaf = self.cert(self.chain[0]);
        match &self.opts.name {
            Some(NameToCheck::Dns(host)) if !names::check_host(leaf, host) => {
                self.fail(VerifyCode::HostnameMismatch, 0);
            }
            Some(NameToCheck::Ip(ip)) if !names::check_ip(leaf, *ip) => {
                self.fail(VerifyCode::IpAddressMismatch, 0);
            }
            _ => {}
        }
    }

    /// `X509_verify(xs, issuer key)`: algorithm fields agree and the signature checks.
    fn signature_ok(&self, xs: usize, xi: usize) -> bool {
        let (cert, issuer) = (self.cert(xs), self.cert(xi));
        let outer = &cert.x509.signature_algorithm;
        let inner = &cert.x509.tbs_certificate.signature;
        if outer.algorithm != inner.algorithm
            || outer.parameters.as_ref().map(|p| p.data)
                != inner.parameters.as_ref().map(|p| p.data)
        {
            return false;
        }
        crate::signature::check(&cert.x509, issuer.x509.public_key())
    }

    /// `ossl_x509_check_cert_time(ctx, x, depth)`.
    fn check_cert_time(&mut self, x: usize, depth: usize) {
        let c = self.cert(x);
        let (not_yet, expired) = (c.not_before > self.opts.at, c.not_after <= self.opts.at);
        if not_yet {
            self.fail(VerifyCode::CertNotYetValid, depth);
        }
        if expired {
            self.fail(VerifyCode::CertHasExpired, depth);
        }
    }

    /// `internal_verify`: signatures and validity from the top down.
    fn internal_verify(&mut self) -> Result<(), Error> {
        let mut n = self.chain.len() - 1;
        let mut xi = self.chain[n];
        let mut xs;
        // Position in the chain of xs, to tell "xs is xi" apart from equal pool indices.
        let mut same: bool;
        if self.check_issued(xi, xi) {
            xs = xi;
            same = true;
        } else if n == 0 {
            self.fail(VerifyCode::UnableToVerifyLeafSignature, 0);
            self.check_cert_time(xi, 0);
            return Ok(());
        } else {
            n -= 1;
            xs = self.chain[n];
            same = false;
        }
        loop {
            if !same {
                let issuer_depth = n + 1;
                if self.facts[xi].ku_reject(KU_KEY_CERT_SIGN) {
                    self.fail(VerifyCode::KeyusageNoCertsign, issuer_depth);
                }
                if !self.signature_ok(xs, xi) {
                    self.fail(VerifyCode::CertSignatureFailure, n);
                }
            }
            self.check_cert_time(xs, n);
            if n == 0 {
                return Ok(());
            }
            n -= 1;
            xi = xs;
            xs = self.chain[n];
            same = false;
        }
    }

    /// `check_name_constraints`.
    fn check_name_constraints(&mut self) {
        let num = self.chain.len();
        for i in (0..num).rev() {
            let x = self.chain[i];
            if i != 0 && self.facts[x].self_issued {
                continue;
            }
            for j in (i + 1..num).rev() {
                let Some(nc) = ncons::of(self.cert(self.chain[j])) else {
                    continue;
                };
                let rv = ncons::check(self.cert(x), &nc, i == 0);
                if rv != VerifyCode::Ok {
                    self.fail(rv, i);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ChainInput;
    use time::macros::datetime;

    fn case(name: &str) -> ChainInput {
        crate::chain::test_case(name)
    }

    fn run(name: &str, opts: &VerifyOptions) -> OpensslVerdict {
        let input = case(name);
        let parsed = input.parse().unwrap();
        verify(&parsed, opts).unwrap().verdict
    }

    fn at() -> VerifyOptions {
        VerifyOptions::new(datetime!(2030-01-01 00:00 UTC))
    }

    #[test]
    fn ok_chain_has_three_certificates_and_no_error() {
        let input = case("ok");
        let parsed = input.parse().unwrap();
        let out = verify(&parsed, &at()).unwrap();
        assert!(out.verdict.is_ok());
        assert_eq!(out.verdict.text, "ok");
        assert!(matches!(
            out.chain.as_slice(),
            [CertRef::Leaf, CertRef::Intermediate(0), CertRef::Anchor(0)]
        ));
    }

    #[test]
    fn missing_intermediate_is_20_then_21() {
        let v = run("missing-intermediate", &at());
        assert_eq!((v.code.number(), v.depth), (20, Some(0)));
        let all: Vec<_> = v
            .errors
            .iter()
            .map(|e| (e.code.number(), e.depth))
            .collect();
        assert_eq!(all, vec![(20, 0), (21, 0)]);
        assert_eq!(v.final_code(), 21);
        // `openssl verify` stops at 20.
        assert_eq!(v.verify_command_errors().len(), 1);
    }

    #[test]
    fn no_keycertsign_is_79_then_32() {
        let v = run("issuer-no-keycertsign", &at());
        let all: Vec<_> = v
            .errors
            .iter()
            .map(|e| (e.code.number(), e.depth))
            .collect();
        assert_eq!(all, vec![(79, 1), (32, 1)]);
    }

    #[test]
    fn expired_leaf_depends_on_the_instant() {
        assert_eq!(run("expired-leaf", &at()).code, VerifyCode::CertHasExpired);
        let before = VerifyOptions::new(datetime!(2025-06-01 00:00 UTC));
        assert!(run("expired-leaf", &before).is_ok());
    }

    #[test]
    fn sha1_is_ok_without_auth_level_and_68_at_level_1() {
        assert!(run("sha1-signature", &at()).is_ok());
        let v = run("sha1-signature", &at().with_auth_level(1));
        assert_eq!((v.code, v.depth), (VerifyCode::CaMdTooWeak, Some(0)));
    }

    #[test]
    fn purpose_is_checked_only_when_asked() {
        assert!(run("leaf-no-serverauth", &at()).is_ok());
        let v = run("leaf-no-serverauth", &at().with_purpose(Purpose::Server));
        assert_eq!((v.code, v.depth), (VerifyCode::InvalidPurpose, Some(0)));
        assert!(run("leaf-no-serverauth", &at().with_purpose(Purpose::Client)).is_ok());
    }

    #[test]
    fn cn_only_leaf_matches_by_common_name() {
        let name = NameToCheck::Dns("gateway.example.com".into());
        assert!(run("cn-only", &at().with_name(name)).is_ok());
        let other = NameToCheck::Dns("other.example.com".into());
        assert_eq!(
            run("cn-only", &at().with_name(other)).code,
            VerifyCode::HostnameMismatch
        );
    }

    #[test]
    fn error_strings_are_openssl_3_wording() {
        assert_eq!(error_string(18), "self-signed certificate");
        assert_eq!(error_string(79), "invalid CA certificate");
        assert_eq!(error_string(68), "CA signature digest algorithm too weak");
        assert_eq!(error_string(9999), "unknown certificate verification error");
    }

    #[test]
    fn verify_command_continues_after_expiry_but_not_after_a_signature_failure() {
        assert!(VerifyCode::CertHasExpired.verify_command_continues());
        assert!(VerifyCode::InvalidCa.verify_command_continues());
        assert!(!VerifyCode::CertSignatureFailure.verify_command_continues());
        assert!(!VerifyCode::UnableToGetIssuerCertLocally.verify_command_continues());
    }
}
