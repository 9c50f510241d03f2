//! PEM and DER in and out: the one reader of certificates (PEM bundles, DER, OpenSSL's
//! `TRUSTED CERTIFICATE`), the [`Certificate`] type with its fingerprints, the blocks of a PEM
//! text for readers that must keep or skip blocks themselves ([`PemBlock`]), and PEM encoding.

use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::{Error, Result};
use crate::text::{NameStyle, common_name, hex_upper, name_text};

/// One certificate, held as DER that is known to parse as X.509.
#[derive(Clone, PartialEq, Eq)]
pub struct Certificate {
    der: Vec<u8>,
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certificate")
            .field("subject", &self.subject())
            .finish()
    }
}

impl Certificate {
    /// Wraps DER after checking that it parses as one X.509 certificate with nothing after it.
    pub fn from_der(der: Vec<u8>, input: &str) -> Result<Self> {
        match X509Certificate::from_der(&der) {
            Ok(([], _)) => Ok(Certificate { der }),
            Ok(_) => Err(bad_cert(input, "trailing bytes after the certificate")),
            Err(e) => Err(bad_cert(input, &format!("DER does not parse: {e}"))),
        }
    }

    /// Reads the certificate at the start of `der` and drops whatever follows it: the trust
    /// settings of OpenSSL's `TRUSTED CERTIFICATE` block (`openssl x509 -trustout`,
    /// distributions' trust bundles), or bytes a TLS peer or a file appended. Where trailing
    /// bytes must be refused, use [`Certificate::from_der`].
    pub fn from_der_prefix(mut der: Vec<u8>, input: &str) -> Result<Self> {
        der.truncate(certificate_len(&der).map_err(|e| bad_cert(input, &e))?);
        Ok(Certificate { der })
    }

    /// Wraps DER that this crate just produced with rcgen (well-formed by construction).
    pub fn from_trusted_der(der: Vec<u8>) -> Self {
        Certificate { der }
    }

    /// Reads every certificate in PEM (a bundle of one or more `CERTIFICATE` blocks) or DER bytes.
    pub fn parse_all(bytes: &[u8], input: &str) -> Result<Vec<Self>> {
        if looks_like_pem(bytes) {
            let blocks = parse_blocks(bytes, input)?;
            let certs = blocks
                .into_iter()
                .filter_map(|b| PemBlock::from(b).certificate(input))
                .collect::<Result<Vec<_>>>()?;
            if certs.is_empty() {
                return Err(bad_cert(input, "no CERTIFICATE block in the PEM"));
            }
            Ok(certs)
        } else if bytes.is_empty() {
            Err(bad_cert(input, "the file is empty"))
        } else if bytes.first() != Some(&0x30) {
            Err(bad_cert(input, "neither PEM (no -----BEGIN line) nor DER"))
        } else {
            Ok(vec![Certificate::from_der(bytes.to_vec(), input)?])
        }
    }

    /// Reads exactly one certificate (the first of a bundle).
    pub fn parse_one(bytes: &[u8], input: &str) -> Result<Self> {
        let mut all = Self::parse_all(bytes, input)?;
        Ok(all.swap_remove(0))
    }

    /// The DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The PEM encoding (`CERTIFICATE`).
    pub fn to_pem(&self) -> String {
        encode("CERTIFICATE", &self.der)
    }

    /// The parsed certificate. Parsing cannot fail: the constructor checked it.
    pub fn x509(&self) -> X509Certificate<'_> {
        match X509Certificate::from_der(&self.der) {
            Ok((_, c)) => c,
            // Invariant: every constructor parsed these exact bytes successfully.
            Err(_) => unreachable!("certificate DER was validated at construction"),
        }
    }

    /// The subject in OpenSSL's one-line form (`CN = x, O = y`).
    pub fn subject(&self) -> String {
        name_text(self.x509().subject(), NameStyle::OpenSslOneline)
    }

    /// The subject's common name, if it has one.
    pub fn common_name(&self) -> Option<String> {
        common_name(self.x509().subject())
    }

    /// Its notAfter.
    pub fn not_after(&self) -> time::OffsetDateTime {
        self.x509().validity().not_after.to_datetime()
    }

    /// True when this certificate says it is a CA (basicConstraints CA:TRUE).
    pub fn is_ca(&self) -> bool {
        self.x509().is_ca()
    }

    /// True when subject and issuer are the same name (a root, or a self-signed leaf).
    pub fn is_self_issued(&self) -> bool {
        let c = self.x509();
        c.subject().as_raw() == c.issuer().as_raw()
    }

    /// True when `ca`'s key made this certificate's signature and its issuer is `ca`'s
    /// subject.
    pub fn is_signed_by(&self, ca: &Certificate) -> bool {
        let (c, i) = (self.x509(), ca.x509());
        c.issuer().as_raw() == i.subject().as_raw()
            && c.verify_signature(Some(i.public_key())).is_ok()
    }

    /// The raw public key bits (the contents of the SubjectPublicKeyInfo's BIT STRING).
    pub fn public_key_raw(&self) -> Vec<u8> {
        self.x509().public_key().subject_public_key.data.to_vec()
    }

    /// SHA-256 of the DER, upper-case hex.
    pub fn sha256_hex(&self) -> String {
        hex_upper(ring::digest::digest(&ring::digest::SHA256, &self.der).as_ref())
    }

    /// SHA-1 of the DER, upper-case hex: the "thumbprint" Azure and `tedge cert show` print.
    pub fn sha1_hex(&self) -> String {
        hex_upper(ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &self.der).as_ref())
    }
}

/// The error for a certificate input that cannot be used: `input` names it, `reason` says why.
pub fn bad_cert(input: &str, reason: &str) -> Error {
    Error::BadCertificate {
        input: input.to_owned(),
        reason: reason.to_owned(),
    }
}

/// True when the bytes start (after white space) with a PEM armour line.
pub fn looks_like_pem(bytes: &[u8]) -> bool {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let rest = &bytes[start..];
    // Allow explanatory text before the first block, as `openssl x509 -text` writes it.
    rest.starts_with(b"-----BEGIN ")
        || (std::str::from_utf8(rest).is_ok() && rest.windows(11).any(|w| w == b"-----BEGIN "))
}

/// The length of the certificate at the start of `der`, or why there is none.
fn certificate_len(der: &[u8]) -> std::result::Result<usize, String> {
    match X509Certificate::from_der(der) {
        Ok((rest, _)) => Ok(der.len() - rest.len()),
        Err(e) => Err(format!("DER does not parse: {e}")),
    }
}

/// One block of a PEM text: its label and its decoded contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PemBlock {
    label: String,
    contents: Vec<u8>,
}

impl From<pem::Pem> for PemBlock {
    fn from(p: pem::Pem) -> Self {
        PemBlock {
            label: p.tag().to_owned(),
            contents: p.into_contents(),
        }
    }
}

impl PemBlock {
    /// The label of its BEGIN line (`CERTIFICATE`, `X509 CRL`, ...).
    pub fn label(&self) -> &str {
        &self.label
    }

    /// True when the label is one of a certificate: `CERTIFICATE`, `X509 CERTIFICATE` (older
    /// OpenSSL) or `TRUSTED CERTIFICATE` (a certificate followed by OpenSSL's trust settings).
    pub fn is_certificate(&self) -> bool {
        matches!(
            self.label.as_str(),
            "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE"
        )
    }

    /// The certificate the block holds, `None` for a block of another label. A
    /// `TRUSTED CERTIFICATE` is read without its trust settings; the others must hold one
    /// certificate and nothing after it. `input` names the text in errors.
    pub fn certificate(&self, input: &str) -> Option<Result<Certificate>> {
        match self.label.as_str() {
            "TRUSTED CERTIFICATE" => {
                Some(Certificate::from_der_prefix(self.contents.clone(), input))
            }
            _ if self.is_certificate() => Some(Certificate::from_der(self.contents.clone(), input)),
            _ => None,
        }
    }

    /// The DER of the certificate the block holds, unchecked (for a reader that parses it
    /// itself): a `TRUSTED CERTIFICATE`'s without its trust settings where they can be told
    /// apart, the contents as they are otherwise. `None` for a block of another label.
    pub fn certificate_der(&self) -> Option<&[u8]> {
        if !self.is_certificate() {
            return None;
        }
        if self.label == "TRUSTED CERTIFICATE"
            && let Ok(len) = certificate_len(&self.contents)
        {
            return Some(&self.contents[..len]);
        }
        Some(&self.contents)
    }

    /// The block in PEM again, under its own label (64-column base64, LF line endings).
    pub fn to_pem(&self) -> String {
        encode(&self.label, &self.contents)
    }
}

/// Every block of a PEM text, in order, for a reader that keeps or skips blocks itself (a
/// trust store's bundle, a certificate directory): text around and between blocks is ignored,
/// and so is a BEGIN line without its END line. `input` names the text in the error, given
/// when a block's base64 does not decode. To read certificates, use
/// [`Certificate::parse_all`], which refuses a truncated or malformed bundle.
pub fn pem_blocks(bytes: &[u8], input: &str) -> Result<Vec<PemBlock>> {
    Ok(pem::parse_many(bytes)
        .map_err(|e| bad_cert(input, &format!("malformed PEM: {e}")))?
        .into_iter()
        .map(PemBlock::from)
        .collect())
}

/// Every PEM block of `bytes` (named `input` in errors), refusing text that is not PEM.
pub fn parse_blocks(bytes: &[u8], input: &str) -> Result<Vec<pem::Pem>> {
    let text = std::str::from_utf8(bytes).map_err(|_| bad_cert(input, "PEM is not valid text"))?;
    let begins = text.matches("-----BEGIN ").count();
    let ends = text.matches("-----END ").count();
    if begins != ends {
        return Err(bad_cert(
            input,
            "the PEM is truncated: a BEGIN line has no matching END line",
        ));
    }
    let blocks =
        pem::parse_many(text).map_err(|e| bad_cert(input, &format!("malformed PEM: {e}")))?;
    if blocks.len() != begins {
        return Err(bad_cert(input, "malformed PEM: a block does not decode"));
    }
    Ok(blocks)
}

/// PEM-encodes DER under the given label, with LF line endings.
pub fn encode(label: &str, der: &[u8]) -> String {
    pem::encode_config(
        &pem::Pem::new(label, der),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_a_bad_certificate() {
        assert!(matches!(
            Certificate::parse_all(b"\x30\x03\x02\x01", "f"),
            Err(Error::BadCertificate { .. })
        ));
        assert!(matches!(
            Certificate::parse_all(b"", "f"),
            Err(Error::BadCertificate { .. })
        ));
        assert!(matches!(
            Certificate::parse_all(b"-----BEGIN CERTIFICATE-----\nMIIB\n", "f"),
            Err(Error::BadCertificate { .. })
        ));
    }

    #[test]
    fn a_trusted_certificate_block_reads_without_its_trust_settings() {
        // `openssl x509 -trustout -addtrust clientAuth`: was refused for trailing bytes.
        let trusted = include_bytes!("../../fuzz/seeds/certificate/trusted.pem");
        let plain = include_bytes!("../../fuzz/seeds/certificate/ed25519-self.pem");
        let certs = Certificate::parse_all(trusted, "t").unwrap();
        assert_eq!(certs, Certificate::parse_all(plain, "p").unwrap());
        assert!(Certificate::from_der(certs[0].der().to_vec(), "d").is_ok());
    }

    #[test]
    fn hex_is_upper_case_without_separators() {
        assert_eq!(hex_upper(&[0x0a, 0xff]), "0AFF");
    }
}
