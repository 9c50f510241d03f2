//! Every object identifier pki reads or writes, named once (as rustls-webpki's `oid!`
//! constants), and OpenSSL's names for them: signature algorithms, public key algorithms and
//! curves, and extensions (the attributes of a distinguished name are named where names are
//! written, in `text`). The constants are dotted strings, what x509-parser's `to_id_string`
//! gives and what `const_oid::ObjectIdentifier::new_unwrap` takes; every table takes and gives
//! plain strings (dotted OIDs in, names out). No other file of the workspace writes a dotted
//! OID (a test below greps for them). A leaf module: it imports nothing, of the crate or
//! outside it.
//!
//! The names are those OpenSSL 3.0 prints (`openssl x509 -noout -text`, `openssl asn1parse`),
//! so that `pki show` and `pki verify` agree with it line by line.

// Distinguished name attributes (X.520, RFC 4519).
/// `2.5.4.3`: commonName (CN).
pub const COMMON_NAME: &str = "2.5.4.3";
/// `2.5.4.4`: surname (SN).
pub const SURNAME: &str = "2.5.4.4";
/// `2.5.4.5`: serialNumber.
pub const SERIAL_NUMBER: &str = "2.5.4.5";
/// `2.5.4.6`: countryName (C).
pub const COUNTRY_NAME: &str = "2.5.4.6";
/// `2.5.4.7`: localityName (L).
pub const LOCALITY_NAME: &str = "2.5.4.7";
/// `2.5.4.8`: stateOrProvinceName (ST).
pub const STATE_OR_PROVINCE_NAME: &str = "2.5.4.8";
/// `2.5.4.9`: streetAddress (street).
pub const STREET_ADDRESS: &str = "2.5.4.9";
/// `2.5.4.10`: organizationName (O).
pub const ORGANIZATION_NAME: &str = "2.5.4.10";
/// `2.5.4.11`: organizationalUnitName (OU).
pub const ORGANIZATIONAL_UNIT_NAME: &str = "2.5.4.11";
/// `2.5.4.12`: title.
pub const TITLE: &str = "2.5.4.12";
/// `2.5.4.42`: givenName (GN).
pub const GIVEN_NAME: &str = "2.5.4.42";
/// `2.5.4.46`: dnQualifier.
pub const DN_QUALIFIER: &str = "2.5.4.46";
/// `2.5.4.65`: pseudonym.
pub const PSEUDONYM: &str = "2.5.4.65";
/// `0.9.2342.19200300.100.1.25`: domainComponent (DC).
pub const DOMAIN_COMPONENT: &str = "0.9.2342.19200300.100.1.25";
/// `0.9.2342.19200300.100.1.1`: userId (UID).
pub const USER_ID: &str = "0.9.2342.19200300.100.1.1";
/// `1.2.840.113549.1.9.1`: emailAddress (PKCS #9).
pub const EMAIL_ADDRESS: &str = "1.2.840.113549.1.9.1";

// CMS content types (RFC 5652): EST's certs-only PKCS#7 (pki-est).
/// `1.2.840.113549.1.7.1`: id-data (pkcs7-data).
pub const PKCS7_DATA: &str = "1.2.840.113549.1.7.1";
/// `1.2.840.113549.1.7.2`: id-signedData (pkcs7-signedData).
pub const PKCS7_SIGNED_DATA: &str = "1.2.840.113549.1.7.2";

// Certificate and CRL extensions (RFC 5280).
/// `2.5.29.14`: subjectKeyIdentifier.
pub const SUBJECT_KEY_IDENTIFIER: &str = "2.5.29.14";
/// `2.5.29.15`: keyUsage.
pub const KEY_USAGE: &str = "2.5.29.15";
/// `2.5.29.17`: subjectAltName.
pub const SUBJECT_ALT_NAME: &str = "2.5.29.17";
/// `2.5.29.18`: issuerAltName.
pub const ISSUER_ALT_NAME: &str = "2.5.29.18";
/// `2.5.29.19`: basicConstraints.
pub const BASIC_CONSTRAINTS: &str = "2.5.29.19";
/// `2.5.29.27`: deltaCRL (a CRL extension).
pub const DELTA_CRL_INDICATOR: &str = "2.5.29.27";
/// `2.5.29.28`: issuingDistributionPoint (a CRL extension).
pub const ISSUING_DISTRIBUTION_POINT: &str = "2.5.29.28";
/// `2.5.29.29`: certificateIssuer (a CRL entry extension).
pub const CERTIFICATE_ISSUER: &str = "2.5.29.29";
/// `2.5.29.30`: nameConstraints.
pub const NAME_CONSTRAINTS: &str = "2.5.29.30";
/// `2.5.29.31`: crlDistributionPoints.
pub const CRL_DISTRIBUTION_POINTS: &str = "2.5.29.31";
/// `2.5.29.32`: certificatePolicies.
pub const CERTIFICATE_POLICIES: &str = "2.5.29.32";
/// `2.5.29.33`: policyMappings.
pub const POLICY_MAPPINGS: &str = "2.5.29.33";
/// `2.5.29.35`: authorityKeyIdentifier.
pub const AUTHORITY_KEY_IDENTIFIER: &str = "2.5.29.35";
/// `2.5.29.36`: policyConstraints.
pub const POLICY_CONSTRAINTS: &str = "2.5.29.36";
/// `2.5.29.37`: extendedKeyUsage.
pub const EXTENDED_KEY_USAGE: &str = "2.5.29.37";
/// `2.5.29.54`: inhibitAnyPolicy.
pub const INHIBIT_ANY_POLICY: &str = "2.5.29.54";
/// `1.3.6.1.5.5.7.1.1`: authorityInfoAccess.
pub const AUTHORITY_INFO_ACCESS: &str = "1.3.6.1.5.5.7.1.1";
/// `1.3.6.1.5.5.7.1.7`: sbgp-ipAddrBlock (RFC 3779).
pub const SBGP_IP_ADDR_BLOCK: &str = "1.3.6.1.5.5.7.1.7";
/// `1.3.6.1.5.5.7.1.8`: sbgp-autonomousSysNum (RFC 3779).
pub const SBGP_AUTONOMOUS_SYS_NUM: &str = "1.3.6.1.5.5.7.1.8";
/// `1.3.6.1.5.5.7.1.14`: proxyCertInfo (RFC 3820).
pub const PROXY_CERT_INFO: &str = "1.3.6.1.5.5.7.1.14";
/// `1.3.6.1.5.5.7.48.1.5`: id-pkix-OCSP-noCheck.
pub const OCSP_NO_CHECK: &str = "1.3.6.1.5.5.7.48.1.5";
/// `2.16.840.1.113730.1.1`: nsCertType (Netscape).
pub const NS_CERT_TYPE: &str = "2.16.840.1.113730.1.1";
/// `2.16.840.1.113730.1.13`: nsComment (Netscape).
pub const NS_COMMENT: &str = "2.16.840.1.113730.1.13";

// Extended key usages and name forms.
/// `2.5.29.37.0`: anyExtendedKeyUsage.
pub const ANY_EXTENDED_KEY_USAGE: &str = "2.5.29.37.0";
/// `1.3.6.1.5.5.7.3.1`: serverAuth.
pub const SERVER_AUTH: &str = "1.3.6.1.5.5.7.3.1";
/// `1.3.6.1.5.5.7.3.2`: clientAuth.
pub const CLIENT_AUTH: &str = "1.3.6.1.5.5.7.3.2";
/// `1.3.6.1.5.5.7.3.3`: codeSigning.
pub const CODE_SIGNING: &str = "1.3.6.1.5.5.7.3.3";
/// `1.3.6.1.5.5.7.3.4`: emailProtection.
pub const EMAIL_PROTECTION: &str = "1.3.6.1.5.5.7.3.4";
/// `1.3.6.1.5.5.7.3.8`: timeStamping.
pub const TIME_STAMPING: &str = "1.3.6.1.5.5.7.3.8";
/// `1.3.6.1.5.5.7.3.9`: OCSPSigning.
pub const OCSP_SIGNING: &str = "1.3.6.1.5.5.7.3.9";
/// `2.16.840.1.113730.4.1`: nsSGC (Netscape Server Gated Crypto).
pub const NS_SGC: &str = "2.16.840.1.113730.4.1";
/// `1.3.6.1.4.1.311.10.3.3`: msSGC (Microsoft Server Gated Crypto).
pub const MS_SGC: &str = "1.3.6.1.4.1.311.10.3.3";
/// `1.3.6.1.5.5.7.8.9`: id-on-SmtpUTF8Mailbox (an otherName form, RFC 8398).
pub const SMTP_UTF8_MAILBOX: &str = "1.3.6.1.5.5.7.8.9";

// Public key algorithms.
/// `1.2.840.113549.1.1.1`: rsaEncryption.
pub const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
/// `1.2.840.113549.1.1.10`: RSASSA-PSS (a key type and a signature algorithm).
pub const RSASSA_PSS: &str = "1.2.840.113549.1.1.10";
/// `1.2.840.10045.2.1`: id-ecPublicKey.
pub const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
/// `1.2.840.10040.4.1`: dsaEncryption.
pub const DSA: &str = "1.2.840.10040.4.1";
/// `1.3.101.112`: ED25519 (a key type and a signature algorithm).
pub const ED25519: &str = "1.3.101.112";
/// `1.3.101.113`: ED448 (a key type and a signature algorithm).
pub const ED448: &str = "1.3.101.113";

// Named curves and explicit curve parameters.
/// `1.2.840.10045.3.1.1`: prime192v1 (P-192).
pub const PRIME192V1: &str = "1.2.840.10045.3.1.1";
/// `1.2.840.10045.3.1.4`: prime239v1.
pub const PRIME239V1: &str = "1.2.840.10045.3.1.4";
/// `1.2.840.10045.3.1.7`: prime256v1 (P-256).
pub const PRIME256V1: &str = "1.2.840.10045.3.1.7";
/// `1.3.132.0.8`: secp160r1.
pub const SECP160R1: &str = "1.3.132.0.8";
/// `1.3.132.0.33`: secp224r1 (P-224).
pub const SECP224R1: &str = "1.3.132.0.33";
/// `1.3.132.0.34`: secp384r1 (P-384).
pub const SECP384R1: &str = "1.3.132.0.34";
/// `1.3.132.0.35`: secp521r1 (P-521).
pub const SECP521R1: &str = "1.3.132.0.35";
/// `1.3.132.0.10`: secp256k1.
pub const SECP256K1: &str = "1.3.132.0.10";
/// `1.3.132.0.26`: sect233k1.
pub const SECT233K1: &str = "1.3.132.0.26";
/// `1.3.36.3.3.2.8.1.1.7`: brainpoolP256r1.
pub const BRAINPOOL_P256R1: &str = "1.3.36.3.3.2.8.1.1.7";
/// `1.3.36.3.3.2.8.1.1.11`: brainpoolP384r1.
pub const BRAINPOOL_P384R1: &str = "1.3.36.3.3.2.8.1.1.11";
/// `1.2.156.10197.1.301`: SM2 (the curve; a key on it is an SM2 key to OpenSSL).
pub const SM2: &str = "1.2.156.10197.1.301";
/// `1.2.840.10045.1.1`: prime-field (explicit ECParameters).
pub const PRIME_FIELD: &str = "1.2.840.10045.1.1";
/// `1.2.840.10045.1.2`: characteristic-two-field (explicit ECParameters).
pub const CHARACTERISTIC_TWO_FIELD: &str = "1.2.840.10045.1.2";
/// `1.2.840.10045.1.2.3.2`: tpBasis (a trinomial basis of GF(2^m)).
pub const TP_BASIS: &str = "1.2.840.10045.1.2.3.2";
/// `1.2.840.10045.1.2.3.3`: ppBasis (a pentanomial basis of GF(2^m)).
pub const PP_BASIS: &str = "1.2.840.10045.1.2.3.3";

// Digests and mask generation.
/// `1.2.840.113549.2.5`: md5.
pub const MD5: &str = "1.2.840.113549.2.5";
/// `1.3.14.3.2.26`: sha1.
pub const SHA1: &str = "1.3.14.3.2.26";
/// `2.16.840.1.101.3.4.2.4`: sha224.
pub const SHA224: &str = "2.16.840.1.101.3.4.2.4";
/// `2.16.840.1.101.3.4.2.1`: sha256.
pub const SHA256: &str = "2.16.840.1.101.3.4.2.1";
/// `2.16.840.1.101.3.4.2.2`: sha384.
pub const SHA384: &str = "2.16.840.1.101.3.4.2.2";
/// `2.16.840.1.101.3.4.2.3`: sha512.
pub const SHA512: &str = "2.16.840.1.101.3.4.2.3";
/// `2.16.840.1.101.3.4.2.5`: sha512-224.
pub const SHA512_224: &str = "2.16.840.1.101.3.4.2.5";
/// `2.16.840.1.101.3.4.2.6`: sha512-256.
pub const SHA512_256: &str = "2.16.840.1.101.3.4.2.6";
/// `2.16.840.1.101.3.4.2.7`: sha3-224.
pub const SHA3_224: &str = "2.16.840.1.101.3.4.2.7";
/// `2.16.840.1.101.3.4.2.8`: sha3-256.
pub const SHA3_256: &str = "2.16.840.1.101.3.4.2.8";
/// `2.16.840.1.101.3.4.2.9`: sha3-384.
pub const SHA3_384: &str = "2.16.840.1.101.3.4.2.9";
/// `2.16.840.1.101.3.4.2.10`: sha3-512.
pub const SHA3_512: &str = "2.16.840.1.101.3.4.2.10";
/// `1.2.156.10197.1.401`: sm3.
pub const SM3: &str = "1.2.156.10197.1.401";
/// `1.2.840.113549.1.1.8`: mgf1.
pub const MGF1: &str = "1.2.840.113549.1.1.8";

// Signature algorithms.
/// `1.2.840.113549.1.1.2`: md2WithRSAEncryption.
pub const MD2_WITH_RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.2";
/// `1.2.840.113549.1.1.3`: md4WithRSAEncryption.
pub const MD4_WITH_RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.3";
/// `1.2.840.113549.1.1.4`: md5WithRSAEncryption.
pub const MD5_WITH_RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.4";
/// `1.2.840.113549.1.1.5`: sha1WithRSAEncryption.
pub const SHA1_WITH_RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.5";
/// `1.3.14.3.2.29`: sha1WithRSA (the old OIW OID).
pub const SHA1_WITH_RSA: &str = "1.3.14.3.2.29";
/// `1.2.840.113549.1.1.14`: sha224WithRSAEncryption.
pub const SHA224_WITH_RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.14";
/// `1.2.840.113549.1.1.11`: sha256WithRSAEncryption.
pub const SHA256_WITH_RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.11";
/// `1.2.840.113549.1.1.12`: sha384WithRSAEncryption.
pub const SHA384_WITH_RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.12";
/// `1.2.840.113549.1.1.13`: sha512WithRSAEncryption.
pub const SHA512_WITH_RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.13";
/// `2.16.840.1.101.3.4.3.13`: RSA-SHA3-224.
pub const RSA_WITH_SHA3_224: &str = "2.16.840.1.101.3.4.3.13";
/// `2.16.840.1.101.3.4.3.14`: RSA-SHA3-256.
pub const RSA_WITH_SHA3_256: &str = "2.16.840.1.101.3.4.3.14";
/// `2.16.840.1.101.3.4.3.15`: RSA-SHA3-384.
pub const RSA_WITH_SHA3_384: &str = "2.16.840.1.101.3.4.3.15";
/// `2.16.840.1.101.3.4.3.16`: RSA-SHA3-512.
pub const RSA_WITH_SHA3_512: &str = "2.16.840.1.101.3.4.3.16";
/// `1.2.840.10045.4`: the arc of the ECDSA signature algorithms (ecdsa-with-*).
pub const ECDSA_SIGNATURES: &str = "1.2.840.10045.4";
/// `1.2.840.10045.4.1`: ecdsa-with-SHA1.
pub const ECDSA_WITH_SHA1: &str = "1.2.840.10045.4.1";
/// `1.2.840.10045.4.3.1`: ecdsa-with-SHA224.
pub const ECDSA_WITH_SHA224: &str = "1.2.840.10045.4.3.1";
/// `1.2.840.10045.4.3.2`: ecdsa-with-SHA256.
pub const ECDSA_WITH_SHA256: &str = "1.2.840.10045.4.3.2";
/// `1.2.840.10045.4.3.3`: ecdsa-with-SHA384.
pub const ECDSA_WITH_SHA384: &str = "1.2.840.10045.4.3.3";
/// `1.2.840.10045.4.3.4`: ecdsa-with-SHA512.
pub const ECDSA_WITH_SHA512: &str = "1.2.840.10045.4.3.4";
/// `1.2.840.10040.4.3`: dsaWithSHA1.
pub const DSA_WITH_SHA1: &str = "1.2.840.10040.4.3";
/// `2.16.840.1.101.3.4.3.1`: dsa_with_SHA224.
pub const DSA_WITH_SHA224: &str = "2.16.840.1.101.3.4.3.1";
/// `2.16.840.1.101.3.4.3.2`: dsa_with_SHA256.
pub const DSA_WITH_SHA256: &str = "2.16.840.1.101.3.4.3.2";
/// `1.2.156.10197.1.501`: SM2-with-SM3.
pub const SM2_WITH_SM3: &str = "1.2.156.10197.1.501";

/// OpenSSL's name of a signature algorithm OID (`ecdsa-with-SHA256`,
/// `sha256WithRSAEncryption`), as the "Signature Algorithm:" line of `openssl x509 -text`
/// prints it; the dotted OID itself for one OpenSSL does not name.
pub fn sig_alg_name(oid: &str) -> String {
    match oid {
        ECDSA_WITH_SHA1 => "ecdsa-with-SHA1",
        ECDSA_WITH_SHA224 => "ecdsa-with-SHA224",
        ECDSA_WITH_SHA256 => "ecdsa-with-SHA256",
        ECDSA_WITH_SHA384 => "ecdsa-with-SHA384",
        ECDSA_WITH_SHA512 => "ecdsa-with-SHA512",
        MD5_WITH_RSA_ENCRYPTION => "md5WithRSAEncryption",
        SHA1_WITH_RSA_ENCRYPTION => "sha1WithRSAEncryption",
        // The old OIW OID of RSA with SHA-1 (OpenSSL's long name for it).
        SHA1_WITH_RSA => "sha1WithRSA",
        SHA224_WITH_RSA_ENCRYPTION => "sha224WithRSAEncryption",
        SHA256_WITH_RSA_ENCRYPTION => "sha256WithRSAEncryption",
        SHA384_WITH_RSA_ENCRYPTION => "sha384WithRSAEncryption",
        SHA512_WITH_RSA_ENCRYPTION => "sha512WithRSAEncryption",
        RSASSA_PSS => "rsassaPss",
        ED25519 => "ED25519",
        ED448 => "ED448",
        DSA_WITH_SHA1 => "dsaWithSHA1",
        DSA_WITH_SHA224 => "dsa_with_SHA224",
        DSA_WITH_SHA256 => "dsa_with_SHA256",
        other => other,
    }
    .to_owned()
}

/// OpenSSL's name of a subject public key algorithm (`id-ecPublicKey`, `rsaEncryption`,
/// `ED25519`), if it is one pki names.
pub fn key_alg_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        EC_PUBLIC_KEY => "id-ecPublicKey",
        RSA_ENCRYPTION => "rsaEncryption",
        ED25519 => "ED25519",
        _ => return None,
    })
}

/// OpenSSL's name of a named EC curve (`prime256v1`, `secp384r1`, `secp521r1`), if it is one
/// pki names.
pub fn curve_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        PRIME256V1 => "prime256v1",
        SECP384R1 => "secp384r1",
        SECP521R1 => "secp521r1",
        _ => return None,
    })
}

/// OpenSSL's name of an extension (`X509v3 Basic Constraints`), if it is one pki names.
pub fn ext_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        BASIC_CONSTRAINTS => "X509v3 Basic Constraints",
        KEY_USAGE => "X509v3 Key Usage",
        EXTENDED_KEY_USAGE => "X509v3 Extended Key Usage",
        SUBJECT_ALT_NAME => "X509v3 Subject Alternative Name",
        SUBJECT_KEY_IDENTIFIER => "X509v3 Subject Key Identifier",
        AUTHORITY_KEY_IDENTIFIER => "X509v3 Authority Key Identifier",
        NAME_CONSTRAINTS => "X509v3 Name Constraints",
        CRL_DISTRIBUTION_POINTS => "X509v3 CRL Distribution Points",
        CERTIFICATE_POLICIES => "X509v3 Certificate Policies",
        AUTHORITY_INFO_ACCESS => "Authority Information Access",
        NS_COMMENT => "Netscape Comment",
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

    /// The crates' sources, every `.rs` file under each `*/src` of the workspace.
    fn workspace_sources() -> Vec<std::path::PathBuf> {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push(path);
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut out = Vec::new();
        for krate in std::fs::read_dir(&root).unwrap() {
            let src = krate.unwrap().path().join("src");
            if src.is_dir() {
                walk(&src, &mut out);
            }
        }
        out
    }

    /// The dotted OIDs written as string literals in `text` (`"2.5.29.17"`, and an arc such
    /// as `"1.2.840.10045.4."`): a quote, a digit 0-2, then dot-separated numbers.
    fn dotted_literals(text: &str) -> Vec<String> {
        let mut found = Vec::new();
        for (i, _) in text.match_indices('"') {
            let rest = &text[i + 1..];
            let end = rest
                .find(|c: char| !c.is_ascii_digit() && c != '.')
                .unwrap_or(rest.len());
            let literal = &rest[..end];
            if rest[end..].starts_with('"')
                && literal.starts_with(['0', '1', '2'])
                && literal[1..].starts_with('.')
                && literal.matches('.').count() >= 2
                && !literal.contains("..")
            {
                found.push(literal.to_owned());
            }
        }
        found
    }

    #[test]
    fn the_literal_finder_finds_dotted_oids_only() {
        let text = r#"match o { "2.5.29.17" => 1, "1.2.840.10045.4." => 2, "1.2" => 3, "v1.2.3" => 4, "3.1.4.1" => 5, "10.0.0.1" => 6 }"#;
        assert_eq!(dotted_literals(text), ["2.5.29.17", "1.2.840.10045.4."]);
    }

    #[test]
    fn no_dotted_oid_is_written_outside_this_module() {
        // signature/curves.rs is generated from the installed OpenSSL's curve list (its header
        // says so): data, not code that names OIDs.
        let generated = std::path::Path::new("signature").join("curves.rs");
        let this = std::path::Path::new("pki-x509").join("src").join("oid.rs");
        let mut offenders = Vec::new();
        for path in workspace_sources() {
            if path.ends_with(&generated) || path.ends_with(&this) {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for literal in dotted_literals(&text) {
                offenders.push(format!("{}: \"{literal}\"", path.display()));
            }
        }
        assert!(
            offenders.is_empty(),
            "dotted OIDs outside pki-x509/src/oid.rs (name them there, and use the constant): {offenders:#?}"
        );
    }
}
