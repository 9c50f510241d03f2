//! The extension facts OpenSSL 3.0 caches per certificate (v3_purp.c): CA flags, key usages,
//! purposes, and whether one certificate may have issued another (names, AKID, signature
//! algorithm).

use pki_x509::oid;

use super::extensions;
use super::name_canonical;
use crate::chain::{Cert, CertRef};
use crate::options::Purpose;

/// The extension facts OpenSSL caches per certificate (`ossl_x509v3_cache_extensions`).
pub(super) struct Facts {
    pub(super) subject: Option<Vec<u8>>,
    pub(super) issuer: Option<Vec<u8>>,
    /// EXFLAG_SI: subject equals issuer.
    pub(super) self_issued: bool,
    /// `X509_self_signed(x, 0) > 0`: EXFLAG_SS (self-issued, AKID matches own SKID, signature
    /// algorithm fits own key) on a certificate that is not invalid.
    pub(super) self_signed: bool,
    /// EXFLAG_INVALID, and why ([`extensions::invalid`]).
    pub(super) invalid: Option<extensions::Invalid>,
    v1: bool,
    /// EXFLAG_BCONS and EXFLAG_CA.
    pub(super) bcons: Option<bool>,
    /// `ex_pathlen`, -1 when none.
    pub(super) pathlen: i64,
    kusage: Option<u32>,
    xkusage: Option<Vec<String>>,
    nscert: Option<u32>,
    /// EXFLAG_CRITICAL: a critical extension OpenSSL does not know.
    pub(super) unhandled_critical: bool,
    /// `check_curve` is 0: an EC key with explicit curve parameters.
    pub(super) explicit_curve: bool,
    /// `check_curve` is -1: the key does not decode (an EC point off its curve).
    pub(super) key_undecodable: bool,
    pub(super) trusted: bool,
}

const KU_DIGITAL_SIGNATURE: u32 = 0x80;
const KU_KEY_ENCIPHERMENT: u32 = 0x20;
const KU_KEY_AGREEMENT: u32 = 0x08;
pub(super) const KU_KEY_CERT_SIGN: u32 = 0x04;
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
    pub(super) fn of(cert: &Cert<'_>) -> Self {
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

    pub(super) fn ku_reject(&self, usage: u32) -> bool {
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
    pub(super) fn check_ca(&self) -> i32 {
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
    pub(super) fn check_purpose(&self, purpose: Purpose, require_ca: bool) -> bool {
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
pub(super) fn names_equal(a: &Option<Vec<u8>>, b: &Option<Vec<u8>>) -> bool {
    matches!((a, b), (Some(a), Some(b)) if a == b)
}

/// `X509_check_akid(issuer, subject's AKID) == X509_V_OK`; `issuer_issuer` is the canonical
/// issuer name of `issuer`.
pub(super) fn akid_matches(
    issuer: &Cert<'_>,
    subject: &Cert<'_>,
    issuer_issuer: &Option<Vec<u8>>,
) -> bool {
    akid_check(issuer, subject.authority_key_id(), issuer_issuer)
}

/// `X509_check_akid(issuer, akid) == X509_V_OK`: the key identifier, serial and issuer name of
/// an AKID (a certificate's or a CRL's), each where given, are the issuer's.
pub(super) fn akid_check(
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
pub(super) fn sig_alg_matches(issuer: &Cert<'_>, subject: &Cert<'_>) -> bool {
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
