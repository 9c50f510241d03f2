//! OpenSSL 3.0's certificate verification codes (`X509_V_OK` and every `X509_V_ERR_*` of
//! include/openssl/x509_vfy.h) as one type: the number, OpenSSL's name and the words
//! `X509_verify_cert_error_string` gives (which pki prints), in one table.
//!
//! Every lookup is a `match` over the variants the table makes, so a code added to the table
//! is named and worded everywhere at once; a number not in OpenSSL 3.0 (from a newer peer) is
//! kept as [`VerifyCode::Unknown`], worded as OpenSSL words it. A unit test reads the header and
//! fails when a code of it is missing here.

use serde::{Serialize, Serializer};

/// The table: number, variant, OpenSSL's name, OpenSSL's words, and whether the verify callback
/// of `openssl verify` (apps/verify.c) lets verification go on after it (`go_on`) or not
/// (`stop`).
macro_rules! verify_codes {
    ($($number:literal $variant:ident $name:literal $text:literal $after:ident;)*) => {
        /// An OpenSSL 3.0 certificate verification code (`X509_V_OK`, `X509_V_ERR_*`).
        ///
        /// Serialised as its number, displayed as its number.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum VerifyCode {
            $(
                #[doc = concat!("`", $name, "` (", stringify!($number), "): ", $text, ".")]
                $variant,
            )*
            /// A number OpenSSL 3.0 does not define (a newer OpenSSL's code, as a peer reports
            /// it).
            Unknown(i32),
        }

        impl VerifyCode {
            /// Every code OpenSSL 3.0 defines, in the order of their numbers.
            pub const ALL: &'static [VerifyCode] = &[$(VerifyCode::$variant,)*];

            /// The code of a number: [`VerifyCode::Unknown`] for one OpenSSL 3.0 does not define.
            pub const fn from_number(number: i32) -> Self {
                match number {
                    $($number => VerifyCode::$variant,)*
                    other => VerifyCode::Unknown(other),
                }
            }

            /// The number OpenSSL reports (`verify error:num=20`).
            pub const fn number(self) -> i32 {
                match self {
                    $(VerifyCode::$variant => $number,)*
                    VerifyCode::Unknown(number) => number,
                }
            }

            /// OpenSSL's name of the code (`X509_V_ERR_CERT_HAS_EXPIRED`), `None` for an
            /// unknown number.
            pub const fn name(self) -> Option<&'static str> {
                match self {
                    $(VerifyCode::$variant => Some($name),)*
                    VerifyCode::Unknown(_) => None,
                }
            }

            /// OpenSSL 3.0's `X509_verify_cert_error_string`: the words pki prints.
            pub const fn text(self) -> &'static str {
                match self {
                    $(VerifyCode::$variant => $text,)*
                    VerifyCode::Unknown(_) => "unknown certificate verification error",
                }
            }

            /// Whether the verify callback of `openssl verify` lets verification go on after
            /// this error (expiry, a self-signed leaf, CA flags, path length, purpose, critical
            /// extensions...) rather than stopping at it.
            pub(crate) const fn verify_command_continues(self) -> bool {
                match self {
                    $(VerifyCode::$variant => verify_codes!(@go_on $after),)*
                    VerifyCode::Unknown(_) => false,
                }
            }
        }
    };
    (@go_on go_on) => { true };
    (@go_on stop) => { false };
}

verify_codes! {
    0 Ok "X509_V_OK" "ok" stop;
    1 Unspecified "X509_V_ERR_UNSPECIFIED" "unspecified certificate verification error" stop;
    2 UnableToGetIssuerCert "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT" "unable to get issuer certificate" stop;
    3 UnableToGetCrl "X509_V_ERR_UNABLE_TO_GET_CRL" "unable to get certificate CRL" stop;
    4 UnableToDecryptCertSignature "X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE" "unable to decrypt certificate's signature" stop;
    5 UnableToDecryptCrlSignature "X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE" "unable to decrypt CRL's signature" stop;
    6 UnableToDecodeIssuerPublicKey "X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY" "unable to decode issuer public key" stop;
    7 CertSignatureFailure "X509_V_ERR_CERT_SIGNATURE_FAILURE" "certificate signature failure" stop;
    8 CrlSignatureFailure "X509_V_ERR_CRL_SIGNATURE_FAILURE" "CRL signature failure" stop;
    9 CertNotYetValid "X509_V_ERR_CERT_NOT_YET_VALID" "certificate is not yet valid" stop;
    10 CertHasExpired "X509_V_ERR_CERT_HAS_EXPIRED" "certificate has expired" go_on;
    11 CrlNotYetValid "X509_V_ERR_CRL_NOT_YET_VALID" "CRL is not yet valid" go_on;
    12 CrlHasExpired "X509_V_ERR_CRL_HAS_EXPIRED" "CRL has expired" go_on;
    13 ErrorInCertNotBeforeField "X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD" "format error in certificate's notBefore field" stop;
    14 ErrorInCertNotAfterField "X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD" "format error in certificate's notAfter field" stop;
    15 ErrorInCrlLastUpdateField "X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD" "format error in CRL's lastUpdate field" stop;
    16 ErrorInCrlNextUpdateField "X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD" "format error in CRL's nextUpdate field" stop;
    17 OutOfMem "X509_V_ERR_OUT_OF_MEM" "out of memory" stop;
    18 DepthZeroSelfSignedCert "X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT" "self-signed certificate" go_on;
    19 SelfSignedCertInChain "X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN" "self-signed certificate in certificate chain" stop;
    20 UnableToGetIssuerCertLocally "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY" "unable to get local issuer certificate" stop;
    21 UnableToVerifyLeafSignature "X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE" "unable to verify the first certificate" stop;
    22 CertChainTooLong "X509_V_ERR_CERT_CHAIN_TOO_LONG" "certificate chain too long" stop;
    23 CertRevoked "X509_V_ERR_CERT_REVOKED" "certificate revoked" stop;
    24 NoIssuerPublicKey "X509_V_ERR_NO_ISSUER_PUBLIC_KEY" "issuer certificate doesn't have a public key" stop;
    25 PathLengthExceeded "X509_V_ERR_PATH_LENGTH_EXCEEDED" "path length constraint exceeded" go_on;
    26 InvalidPurpose "X509_V_ERR_INVALID_PURPOSE" "unsuitable certificate purpose" go_on;
    27 CertUntrusted "X509_V_ERR_CERT_UNTRUSTED" "certificate not trusted" stop;
    28 CertRejected "X509_V_ERR_CERT_REJECTED" "certificate rejected" stop;
    29 SubjectIssuerMismatch "X509_V_ERR_SUBJECT_ISSUER_MISMATCH" "subject issuer mismatch" stop;
    30 AkidSkidMismatch "X509_V_ERR_AKID_SKID_MISMATCH" "authority and subject key identifier mismatch" stop;
    31 AkidIssuerSerialMismatch "X509_V_ERR_AKID_ISSUER_SERIAL_MISMATCH" "authority and issuer serial number mismatch" stop;
    32 KeyusageNoCertsign "X509_V_ERR_KEYUSAGE_NO_CERTSIGN" "key usage does not include certificate signing" stop;
    33 UnableToGetCrlIssuer "X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER" "unable to get CRL issuer certificate" stop;
    34 UnhandledCriticalExtension "X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION" "unhandled critical extension" go_on;
    35 KeyusageNoCrlSign "X509_V_ERR_KEYUSAGE_NO_CRL_SIGN" "key usage does not include CRL signing" stop;
    36 UnhandledCriticalCrlExtension "X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION" "unhandled critical CRL extension" stop;
    37 InvalidNonCa "X509_V_ERR_INVALID_NON_CA" "invalid non-CA certificate (has CA markings)" go_on;
    38 ProxyPathLengthExceeded "X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED" "proxy path length constraint exceeded" stop;
    39 KeyusageNoDigitalSignature "X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE" "key usage does not include digital signature" stop;
    40 ProxyCertificatesNotAllowed "X509_V_ERR_PROXY_CERTIFICATES_NOT_ALLOWED" "proxy certificates not allowed, please set the appropriate flag" stop;
    41 InvalidExtension "X509_V_ERR_INVALID_EXTENSION" "invalid or inconsistent certificate extension" stop;
    42 InvalidPolicyExtension "X509_V_ERR_INVALID_POLICY_EXTENSION" "invalid or inconsistent certificate policy extension" stop;
    43 NoExplicitPolicy "X509_V_ERR_NO_EXPLICIT_POLICY" "no explicit policy" go_on;
    44 DifferentCrlScope "X509_V_ERR_DIFFERENT_CRL_SCOPE" "different CRL scope" stop;
    45 UnsupportedExtensionFeature "X509_V_ERR_UNSUPPORTED_EXTENSION_FEATURE" "unsupported extension feature" stop;
    46 UnnestedResource "X509_V_ERR_UNNESTED_RESOURCE" "RFC 3779 resource not subset of parent's resources" stop;
    47 PermittedViolation "X509_V_ERR_PERMITTED_VIOLATION" "permitted subtree violation" stop;
    48 ExcludedViolation "X509_V_ERR_EXCLUDED_VIOLATION" "excluded subtree violation" stop;
    49 SubtreeMinmax "X509_V_ERR_SUBTREE_MINMAX" "name constraints minimum and maximum not supported" stop;
    50 ApplicationVerification "X509_V_ERR_APPLICATION_VERIFICATION" "application verification failure" stop;
    51 UnsupportedConstraintType "X509_V_ERR_UNSUPPORTED_CONSTRAINT_TYPE" "unsupported name constraint type" stop;
    52 UnsupportedConstraintSyntax "X509_V_ERR_UNSUPPORTED_CONSTRAINT_SYNTAX" "unsupported or invalid name constraint syntax" stop;
    53 UnsupportedNameSyntax "X509_V_ERR_UNSUPPORTED_NAME_SYNTAX" "unsupported or invalid name syntax" stop;
    54 CrlPathValidationError "X509_V_ERR_CRL_PATH_VALIDATION_ERROR" "CRL path validation error" stop;
    55 PathLoop "X509_V_ERR_PATH_LOOP" "path loop" stop;
    56 SuiteBInvalidVersion "X509_V_ERR_SUITE_B_INVALID_VERSION" "Suite B: certificate version invalid" stop;
    57 SuiteBInvalidAlgorithm "X509_V_ERR_SUITE_B_INVALID_ALGORITHM" "Suite B: invalid public key algorithm" stop;
    58 SuiteBInvalidCurve "X509_V_ERR_SUITE_B_INVALID_CURVE" "Suite B: invalid ECC curve" stop;
    59 SuiteBInvalidSignatureAlgorithm "X509_V_ERR_SUITE_B_INVALID_SIGNATURE_ALGORITHM" "Suite B: invalid signature algorithm" stop;
    60 SuiteBLosNotAllowed "X509_V_ERR_SUITE_B_LOS_NOT_ALLOWED" "Suite B: curve not allowed for this LOS" stop;
    61 SuiteBCannotSignP384WithP256 "X509_V_ERR_SUITE_B_CANNOT_SIGN_P_384_WITH_P_256" "Suite B: cannot sign P-384 with P-256" stop;
    62 HostnameMismatch "X509_V_ERR_HOSTNAME_MISMATCH" "hostname mismatch" stop;
    63 EmailMismatch "X509_V_ERR_EMAIL_MISMATCH" "email address mismatch" stop;
    64 IpAddressMismatch "X509_V_ERR_IP_ADDRESS_MISMATCH" "IP address mismatch" stop;
    65 DaneNoMatch "X509_V_ERR_DANE_NO_MATCH" "no matching DANE TLSA records" stop;
    66 EeKeyTooSmall "X509_V_ERR_EE_KEY_TOO_SMALL" "EE certificate key too weak" stop;
    67 CaKeyTooSmall "X509_V_ERR_CA_KEY_TOO_SMALL" "CA certificate key too weak" stop;
    68 CaMdTooWeak "X509_V_ERR_CA_MD_TOO_WEAK" "CA signature digest algorithm too weak" stop;
    69 InvalidCall "X509_V_ERR_INVALID_CALL" "invalid certificate verification context" stop;
    70 StoreLookup "X509_V_ERR_STORE_LOOKUP" "issuer certificate lookup error" stop;
    71 NoValidScts "X509_V_ERR_NO_VALID_SCTS" "Certificate Transparency required, but no valid SCTs found" stop;
    72 ProxySubjectNameViolation "X509_V_ERR_PROXY_SUBJECT_NAME_VIOLATION" "proxy subject name violation" stop;
    73 OcspVerifyNeeded "X509_V_ERR_OCSP_VERIFY_NEEDED" "OCSP verification needed" stop;
    74 OcspVerifyFailed "X509_V_ERR_OCSP_VERIFY_FAILED" "OCSP verification failed" stop;
    75 OcspCertUnknown "X509_V_ERR_OCSP_CERT_UNKNOWN" "OCSP unknown cert" stop;
    76 UnsupportedSignatureAlgorithm "X509_V_ERR_UNSUPPORTED_SIGNATURE_ALGORITHM" "Cannot find certificate signature algorithm" stop;
    77 SignatureAlgorithmMismatch "X509_V_ERR_SIGNATURE_ALGORITHM_MISMATCH" "subject signature algorithm and issuer public key algorithm mismatch" stop;
    78 SignatureAlgorithmInconsistency "X509_V_ERR_SIGNATURE_ALGORITHM_INCONSISTENCY" "cert info signature and signature algorithm mismatch" go_on;
    79 InvalidCa "X509_V_ERR_INVALID_CA" "invalid CA certificate" go_on;
    80 PathlenInvalidForNonCa "X509_V_ERR_PATHLEN_INVALID_FOR_NON_CA" "Path length invalid for non-CA cert" go_on;
    81 PathlenWithoutKuKeyCertSign "X509_V_ERR_PATHLEN_WITHOUT_KU_KEY_CERT_SIGN" "Path length given without key usage keyCertSign" go_on;
    82 KuKeyCertSignInvalidForNonCa "X509_V_ERR_KU_KEY_CERT_SIGN_INVALID_FOR_NON_CA" "Key usage keyCertSign invalid for non-CA cert" go_on;
    83 IssuerNameEmpty "X509_V_ERR_ISSUER_NAME_EMPTY" "Issuer name empty" go_on;
    84 SubjectNameEmpty "X509_V_ERR_SUBJECT_NAME_EMPTY" "Subject name empty" go_on;
    85 MissingAuthorityKeyIdentifier "X509_V_ERR_MISSING_AUTHORITY_KEY_IDENTIFIER" "Missing Authority Key Identifier" go_on;
    86 MissingSubjectKeyIdentifier "X509_V_ERR_MISSING_SUBJECT_KEY_IDENTIFIER" "Missing Subject Key Identifier" go_on;
    87 EmptySubjectAltName "X509_V_ERR_EMPTY_SUBJECT_ALT_NAME" "Empty Subject Alternative Name extension" go_on;
    88 EmptySubjectSanNotCritical "X509_V_ERR_EMPTY_SUBJECT_SAN_NOT_CRITICAL" "Subject empty and Subject Alt Name extension not critical" go_on;
    89 CaBconsNotCritical "X509_V_ERR_CA_BCONS_NOT_CRITICAL" "Basic Constraints of CA cert not marked critical" go_on;
    90 AuthorityKeyIdentifierCritical "X509_V_ERR_AUTHORITY_KEY_IDENTIFIER_CRITICAL" "Authority Key Identifier marked critical" go_on;
    91 SubjectKeyIdentifierCritical "X509_V_ERR_SUBJECT_KEY_IDENTIFIER_CRITICAL" "Subject Key Identifier marked critical" go_on;
    92 CaCertMissingKeyUsage "X509_V_ERR_CA_CERT_MISSING_KEY_USAGE" "CA cert does not include key usage extension" go_on;
    93 ExtensionsRequireVersion3 "X509_V_ERR_EXTENSIONS_REQUIRE_VERSION_3" "Using cert extension requires at least X509v3" go_on;
    94 EcKeyExplicitParams "X509_V_ERR_EC_KEY_EXPLICIT_PARAMS" "Certificate public key has explicit ECC parameters" stop;
}

impl VerifyCode {
    /// Whether this is `X509_V_OK`.
    pub const fn is_ok(self) -> bool {
        matches!(self, VerifyCode::Ok)
    }
}

impl From<i32> for VerifyCode {
    fn from(number: i32) -> Self {
        VerifyCode::from_number(number)
    }
}

impl From<VerifyCode> for i32 {
    fn from(code: VerifyCode) -> Self {
        code.number()
    }
}

impl PartialEq<i32> for VerifyCode {
    fn eq(&self, other: &i32) -> bool {
        self.number() == *other
    }
}

impl std::fmt::Display for VerifyCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.number().fmt(f)
    }
}

impl Serialize for VerifyCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i32(self.number())
    }
}

#[cfg(test)]
mod tests {
    use super::VerifyCode;

    /// Where Debian's libssl-dev puts the header (scripts/test.sh installs it).
    const HEADER: &str = "/usr/include/openssl/x509_vfy.h";

    /// `#define X509_V_... N` lines of the header: (name, number).
    fn header_codes(text: &str) -> Vec<(String, i32)> {
        text.lines()
            .filter_map(|line| {
                let rest = line.trim_start().strip_prefix('#')?.trim_start();
                let mut words = rest.strip_prefix("define")?.split_whitespace();
                let name = words.next()?;
                if name != "X509_V_OK" && !name.starts_with("X509_V_ERR_") {
                    return None;
                }
                Some((name.to_owned(), words.next()?.parse().ok()?))
            })
            .collect()
    }

    #[test]
    fn every_code_of_openssl_s_header_is_named_here() {
        let text = std::fs::read_to_string(HEADER).unwrap_or_else(|e| {
            panic!("{HEADER}: {e} (apt-get install libssl-dev; scripts/test.sh installs it)")
        });
        let codes = header_codes(&text);
        assert!(
            codes.len() > 90,
            "{HEADER}: only {} codes read",
            codes.len()
        );
        for (name, number) in &codes {
            let code = VerifyCode::from_number(*number);
            assert_eq!(
                code.name(),
                Some(name.as_str()),
                "code {number} of {HEADER}"
            );
            assert_eq!(code.number(), *number);
        }
        assert_eq!(
            VerifyCode::ALL.len(),
            codes.len(),
            "codes here but not in {HEADER}"
        );
    }

    #[test]
    fn the_header_reader_sees_a_missing_code() {
        let codes = header_codes(
            "# define X509_V_OK 0\n#define X509_V_ERR_NEW_IN_3_9 95 /* x */\n#define X509_V_FLAG_X 1\n",
        );
        assert_eq!(
            codes,
            [
                ("X509_V_OK".to_owned(), 0),
                ("X509_V_ERR_NEW_IN_3_9".to_owned(), 95)
            ]
        );
        assert_eq!(VerifyCode::from_number(95), VerifyCode::Unknown(95));
        assert_eq!(VerifyCode::from_number(95).name(), None);
    }

    #[test]
    fn numbers_names_and_words_round_trip() {
        for (i, code) in VerifyCode::ALL.iter().enumerate() {
            assert_eq!(usize::try_from(code.number()).ok(), Some(i));
            assert_eq!(VerifyCode::from_number(code.number()), *code);
        }
        assert_eq!(VerifyCode::CertHasExpired.text(), "certificate has expired");
        assert_eq!(
            VerifyCode::Unknown(-1).text(),
            "unknown certificate verification error"
        );
        assert_eq!(
            serde_json::to_string(&VerifyCode::from_number(20)).unwrap(),
            "20"
        );
        assert_eq!(VerifyCode::UnableToGetIssuerCertLocally.to_string(), "20");
    }
}
