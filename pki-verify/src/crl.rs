//! Certificate revocation lists given to a verification (as DER: `pki_x509::read_crls` reads
//! them from PEM or DER files), parsed once, with the facts both verdicts need (OpenSSL caches the same ones in `crl_cb`, crypto/x509/
//! x_crl.c).

use num_bigint::BigUint;
use pki_x509::oid;
use time::OffsetDateTime;
use x509_parser::extensions::{
    AuthorityKeyIdentifier, DistributionPointName, GeneralName, ParsedExtension,
};
use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;

use crate::Error;
use crate::openssl::name_canonical;

/// The CRL extensions OpenSSL handles when critical: issuingDistributionPoint,
/// authorityKeyIdentifier, deltaCRLIndicator.
const HANDLED_CRITICAL: &[&str] = &[
    oid::ISSUING_DISTRIBUTION_POINT,
    oid::AUTHORITY_KEY_IDENTIFIER,
    oid::DELTA_CRL_INDICATOR,
];

/// The issuingDistributionPoint flags OpenSSL sets (`setup_idp`).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IdpFlags {
    pub(crate) present: bool,
    pub(crate) only_user: bool,
    pub(crate) only_ca: bool,
    pub(crate) only_attr: bool,
    pub(crate) indirect: bool,
    pub(crate) reasons: bool,
    /// More than one of onlyUser, onlyCA, onlyAttr.
    pub(crate) invalid: bool,
}

/// One revoked entry.
pub(crate) struct Entry {
    pub(crate) serial: BigUint,
    pub(crate) date: OffsetDateTime,
    /// The reasonCode, as RFC 5280 numbers it (1 keyCompromise, 8 removeFromCRL, ...).
    pub(crate) reason: Option<u8>,
}

/// One parsed CRL.
pub(crate) struct Crl<'a> {
    pub(crate) x509: CertificateRevocationList<'a>,
    /// The issuer in OpenSSL's canonical form (`X509_NAME_cmp`).
    pub(crate) issuer: Option<Vec<u8>>,
    /// The issuer as text (`CN=...`).
    pub(crate) issuer_text: String,
    pub(crate) this_update: OffsetDateTime,
    pub(crate) next_update: Option<OffsetDateTime>,
    pub(crate) idp: IdpFlags,
    /// EXFLAG_CRITICAL: a critical CRL or entry extension OpenSSL does not handle.
    pub(crate) unhandled_critical: bool,
    /// A delta CRL (deltaCRLIndicator present: OpenSSL's `base_crl_number`).
    pub(crate) delta: bool,
    pub(crate) entries: Vec<Entry>,
}

impl<'a> Crl<'a> {
    pub(crate) fn parse(der: &'a [u8], index: usize) -> Result<Self, Error> {
        let bad = |reason: String| Error::Parse {
            input: format!("CRL #{}", index + 1),
            reason,
        };
        let (_, x509) = CertificateRevocationList::from_der(der).map_err(|e| bad(e.to_string()))?;
        let mut idp = IdpFlags::default();
        for ext in x509.extensions() {
            if let ParsedExtension::IssuingDistributionPoint(p) = ext.parsed_extension() {
                idp.present = true;
                idp.only_user = p.only_contains_user_certs;
                idp.only_ca = p.only_contains_ca_certs;
                idp.only_attr = p.only_contains_attribute_certs;
                idp.indirect = p.indirect_crl;
                idp.reasons = p.only_some_reasons.is_some();
                idp.invalid = [idp.only_user, idp.only_ca, idp.only_attr]
                    .iter()
                    .filter(|b| **b)
                    .count()
                    > 1;
            }
        }
        let unhandled_critical = x509
            .extensions()
            .iter()
            .any(|e| e.critical && !HANDLED_CRITICAL.contains(&e.oid.to_id_string().as_str()))
            || x509.iter_revoked_certificates().any(|r| {
                r.extensions()
                    .iter()
                    .any(|e| e.critical && e.oid.to_id_string() != oid::CERTIFICATE_ISSUER)
            });
        let delta = x509
            .extensions()
            .iter()
            .any(|e| e.oid.to_id_string() == oid::DELTA_CRL_INDICATOR);
        let entries = x509
            .iter_revoked_certificates()
            .map(|r| Entry {
                serial: r.user_certificate.clone(),
                date: r.revocation_date.to_datetime(),
                reason: r.reason_code().map(|(_, c)| c.0),
            })
            .collect();
        let issuer = x509.issuer();
        Ok(Self {
            issuer: name_canonical(issuer),
            issuer_text: issuer.to_string(),
            this_update: x509.last_update().to_datetime(),
            next_update: x509.next_update().map(|t| t.to_datetime()),
            idp,
            unhandled_critical,
            delta,
            entries,
            x509,
        })
    }

    /// The CRL's authorityKeyIdentifier.
    pub(crate) fn akid(&self) -> Option<&AuthorityKeyIdentifier<'_>> {
        self.x509
            .extensions()
            .iter()
            .find_map(|e| match e.parsed_extension() {
                ParsedExtension::AuthorityKeyIdentifier(a) => Some(a),
                _ => None,
            })
    }

    /// The distributionPoint of the issuingDistributionPoint, if any.
    pub(crate) fn idp_point(&self) -> Option<&DistributionPointName<'_>> {
        self.x509
            .extensions()
            .iter()
            .find_map(|e| match e.parsed_extension() {
                ParsedExtension::IssuingDistributionPoint(p) => p.distribution_point.as_ref(),
                _ => None,
            })
    }

    /// The first entry for `serial`.
    pub(crate) fn entry(&self, serial: &BigUint) -> Option<&Entry> {
        self.entries.iter().find(|e| &e.serial == serial)
    }
}

/// The names a distribution point's fullName gives, for comparison.
pub(crate) fn full_names<'n, 'a>(
    point: &'n DistributionPointName<'a>,
) -> Option<&'n [GeneralName<'a>]> {
    match point {
        DistributionPointName::FullName(names) => Some(names),
        DistributionPointName::NameRelativeToCRLIssuer(_) => None,
    }
}
