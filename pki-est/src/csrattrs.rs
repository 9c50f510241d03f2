//! `/csrattrs` (RFC 7030 §4.5): what the server wants a CSR to be, as the DER `CsrAttrs`
//! SEQUENCE, base64. pki asks for the key type of the label's profile (the server's choice per
//! label): for EC keys the `id-ecPublicKey` attribute with the curve, then the signature
//! algorithm (RFC 7030 §4.5.2's example); for RSA the `rsaEncryption` attribute with the modulus
//! size; for Ed25519 its OID, which names the key and the signature. The challengePassword OID is
//! not listed: pki's clients authenticate with HTTP Basic or their certificate, not with it.
//!
//! ```text
//! CsrAttrs ::= SEQUENCE SIZE (0..MAX) OF AttrOrOID
//! AttrOrOID ::= CHOICE { oid OBJECT IDENTIFIER, attribute Attribute }
//! Attribute ::= SEQUENCE { type OBJECT IDENTIFIER, values SET SIZE(1..MAX) OF ANY }
//! ```

use der::asn1::{Any, ObjectIdentifier, SetOfVec};
use der::{Encode, Sequence};
use pki_core::KeyType;
use pki_core::x509::oid;

use crate::error::{Error, Result};

/// An `Attribute`.
#[derive(Sequence)]
struct Attribute {
    attr_type: ObjectIdentifier,
    values: SetOfVec<Any>,
}

/// pki's named OIDs as `der`'s (checked when compiling: `new_unwrap` in a constant).
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap(oid::EC_PUBLIC_KEY);
const PRIME256V1: ObjectIdentifier = ObjectIdentifier::new_unwrap(oid::PRIME256V1);
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap(oid::SECP384R1);
const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap(oid::ECDSA_WITH_SHA256);
const ECDSA_WITH_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap(oid::ECDSA_WITH_SHA384);
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap(oid::ED25519);
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap(oid::RSA_ENCRYPTION);
const SHA256_WITH_RSA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap(oid::SHA256_WITH_RSA_ENCRYPTION);

/// The DER `CsrAttrs` asking for a key of `key_type`.
pub fn csr_attrs(key_type: KeyType) -> Result<Vec<u8>> {
    encode(key_type).map_err(|e| Error::Encoding {
        what: "csrattrs",
        reason: e.to_string(),
    })
}

fn encode(key_type: KeyType) -> der::Result<Vec<u8>> {
    let attribute = |attr_type: ObjectIdentifier, value: Any| -> der::Result<Any> {
        let mut values = SetOfVec::new();
        values.insert(value)?;
        Any::encode_from(&Attribute { attr_type, values })
    };
    let items: Vec<Any> = match key_type {
        KeyType::EcP256 => vec![
            attribute(EC_PUBLIC_KEY, Any::encode_from(&PRIME256V1)?)?,
            Any::encode_from(&ECDSA_WITH_SHA256)?,
        ],
        KeyType::EcP384 => vec![
            attribute(EC_PUBLIC_KEY, Any::encode_from(&SECP384R1)?)?,
            Any::encode_from(&ECDSA_WITH_SHA384)?,
        ],
        KeyType::Ed25519 => vec![Any::encode_from(&ED25519)?],
        KeyType::Rsa(bits) => vec![
            attribute(RSA_ENCRYPTION, Any::encode_from(&bits)?)?,
            Any::encode_from(&SHA256_WITH_RSA)?,
        ],
    };
    items.to_der()
}

/// [`csr_attrs`] as the body of an `application/csrattrs` answer: base64 lines.
pub fn csr_attrs_base64(key_type: KeyType) -> Result<String> {
    Ok(crate::body::encode_lines(&csr_attrs(key_type)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(unix)]
    use crate::testing::openssl_out;

    /// openssl asn1parse's lines for the DER, with the offsets and lengths cut off.
    #[cfg(unix)] // runs openssl, which the Windows unit tests under Wine do not have
    fn parsed(key_type: KeyType) -> Vec<String> {
        let der = crate::body::decode(csr_attrs_base64(key_type).unwrap().as_bytes()).unwrap();
        openssl_out(&["asn1parse", "-inform", "DER"], &der)
            .lines()
            .map(|l| l.split_once(':').map(|(_, r)| r).unwrap_or(l).to_owned())
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|l| !l.is_empty())
            .collect()
    }

    #[cfg(unix)] // runs openssl, which the Windows unit tests under Wine do not have
    #[test]
    fn p256_asks_for_the_curve_and_ecdsa_with_sha256() {
        let lines = parsed(KeyType::EcP256);
        let text = lines.join("\n");
        assert!(text.contains("OBJECT :id-ecPublicKey"), "{text}");
        assert!(text.contains("OBJECT :prime256v1"), "{text}");
        assert!(text.contains("OBJECT :ecdsa-with-SHA256"), "{text}");
        assert!(!text.contains("challengePassword"), "{text}");
        // The outer SEQUENCE, the attribute's SEQUENCE and SET, in that nesting.
        assert!(lines[0].contains("cons: SEQUENCE"), "{text}");
        assert!(lines[1].contains("cons: SEQUENCE"), "{text}");
        assert!(lines[3].contains("cons: SET"), "{text}");
    }

    #[test]
    fn p384_is_byte_for_byte_rfc_8951s_example_without_its_other_items() {
        // RFC 7030 §4.5.2 / RFC 8951 §4's example DER holds, among others, the attribute
        // id-ecPublicKey = secp384r1 and the OID ecdsa-with-SHA384; these are their bytes.
        let attribute = "3012 0607 2a8648ce3d0201 3107 0605 2b81040022";
        let signature = "0608 2a8648ce3d040303";
        let expected: Vec<u8> = format!("301e {attribute} {signature}")
            .split_whitespace()
            .collect::<String>()
            .as_bytes()
            .chunks(2)
            .map(|h| u8::from_str_radix(std::str::from_utf8(h).unwrap(), 16).unwrap())
            .collect();
        assert_eq!(csr_attrs(KeyType::EcP384).unwrap(), expected);
    }

    #[cfg(unix)] // runs openssl, which the Windows unit tests under Wine do not have
    #[test]
    fn each_key_type_names_its_key() {
        let text = parsed(KeyType::EcP384).join("\n");
        assert!(
            text.contains(":secp384r1") && text.contains(":ecdsa-with-SHA384"),
            "{text}"
        );
        let text = parsed(KeyType::Ed25519).join("\n");
        assert!(text.contains(":ED25519"), "{text}");
        let text = parsed(KeyType::Rsa(3072)).join("\n");
        assert!(text.contains(":rsaEncryption"), "{text}");
        assert!(text.contains("INTEGER :0C00"), "{text}");
        assert!(text.contains(":sha256WithRSAEncryption"), "{text}");
    }
}
