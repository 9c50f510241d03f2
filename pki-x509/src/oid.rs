//! OpenSSL's names for the object identifiers a certificate carries: signature algorithms,
//! public key algorithms and curves, and extensions (the attributes of a distinguished name
//! are named where names are written, in `text`). Every table takes and gives plain strings
//! (dotted OIDs in, names out). A leaf module: it imports nothing, of the crate or outside it.
//!
//! The names are those OpenSSL 3.0 prints (`openssl x509 -noout -text`, `openssl asn1parse`),
//! so that `pki show` and `pki verify` agree with it line by line.

/// OpenSSL's name of a signature algorithm OID (`ecdsa-with-SHA256`,
/// `sha256WithRSAEncryption`), as the "Signature Algorithm:" line of `openssl x509 -text`
/// prints it; the dotted OID itself for one OpenSSL does not name.
pub fn sig_alg_name(oid: &str) -> String {
    match oid {
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.10045.4.3.1" => "ecdsa-with-SHA224",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        // The old OIW OID of RSA with SHA-1 (OpenSSL's long name for it).
        "1.3.14.3.2.29" => "sha1WithRSA",
        "1.2.840.113549.1.1.14" => "sha224WithRSAEncryption",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "rsassaPss",
        "1.3.101.112" => "ED25519",
        "1.3.101.113" => "ED448",
        "1.2.840.10040.4.3" => "dsaWithSHA1",
        "2.16.840.1.101.3.4.3.1" => "dsa_with_SHA224",
        "2.16.840.1.101.3.4.3.2" => "dsa_with_SHA256",
        other => other,
    }
    .to_owned()
}

/// OpenSSL's name of a subject public key algorithm (`id-ecPublicKey`, `rsaEncryption`,
/// `ED25519`), if it is one pki names.
pub fn key_alg_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "1.2.840.10045.2.1" => "id-ecPublicKey",
        "1.2.840.113549.1.1.1" => "rsaEncryption",
        "1.3.101.112" => "ED25519",
        _ => return None,
    })
}

/// OpenSSL's name of a named EC curve (`prime256v1`, `secp384r1`, `secp521r1`), if it is one
/// pki names.
pub fn curve_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "1.2.840.10045.3.1.7" => "prime256v1",
        "1.3.132.0.34" => "secp384r1",
        "1.3.132.0.35" => "secp521r1",
        _ => return None,
    })
}

/// OpenSSL's name of an extension (`X509v3 Basic Constraints`), if it is one pki names.
pub fn ext_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.29.19" => "X509v3 Basic Constraints",
        "2.5.29.15" => "X509v3 Key Usage",
        "2.5.29.37" => "X509v3 Extended Key Usage",
        "2.5.29.17" => "X509v3 Subject Alternative Name",
        "2.5.29.14" => "X509v3 Subject Key Identifier",
        "2.5.29.35" => "X509v3 Authority Key Identifier",
        "2.5.29.30" => "X509v3 Name Constraints",
        "2.5.29.31" => "X509v3 CRL Distribution Points",
        "2.5.29.32" => "X509v3 Certificate Policies",
        "1.3.6.1.5.5.7.1.1" => "Authority Information Access",
        "2.16.840.1.113730.1.13" => "Netscape Comment",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_names_are_openssls() {
        // As `openssl asn1parse -genstr OBJECT:<oid>` and `openssl x509 -text` print them.
        for (oid, name) in [
            ("1.2.840.10045.4.3.2", "ecdsa-with-SHA256"),
            ("1.2.840.10045.4.3.1", "ecdsa-with-SHA224"),
            ("1.2.840.113549.1.1.14", "sha224WithRSAEncryption"),
            ("1.3.14.3.2.29", "sha1WithRSA"),
            ("1.2.840.10040.4.3", "dsaWithSHA1"),
            ("2.16.840.1.101.3.4.3.2", "dsa_with_SHA256"),
            ("1.3.101.113", "ED448"),
            ("1.2.3.4", "1.2.3.4"),
        ] {
            assert_eq!(sig_alg_name(oid), name, "{oid}");
        }
    }
}
