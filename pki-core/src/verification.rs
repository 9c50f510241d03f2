//! The verification code of a proof of possession: what IoT Hub and Cumulocity hand out, and so
//! the only text a CA key may sign or put in a verification certificate's CN.
//!
//! One rule for both ends of it: `pki create-verification-cert` checks the code the user types,
//! and `pki-c8y` checks the code a tenant sends before the CA key signs it.

/// What a proof-of-possession verification code is, in the words of the errors that refuse one.
pub const VERIFICATION_CODE_RULE: &str =
    "1 to 64 letters and digits, as IoT Hub and Cumulocity hand them out";

/// The one rule for a verification code, whether the user types it (a verification certificate
/// signed by the CA carries it as its CN) or a tenant sends it (the CA key signs its bytes):
/// [`VERIFICATION_CODE_RULE`]. IoT Hub's codes are hex, Cumulocity's alphanumeric; anything else
/// (a JWT signing input with its dots, base64 with `+/=`, text) is a message of someone else's
/// choosing that the CA key must not sign.
pub fn is_verification_code(code: &str) -> bool {
    (1..=64).contains(&code.len()) && code.chars().all(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_letters_and_digits_are_signed_as_a_verification_code() {
        for code in ["0D5A2B3C4E", "c0de1234", &"A".repeat(64)] {
            assert!(is_verification_code(code), "{code}");
        }
        for code in [
            "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0",
            "",
            "c0de-1234",
            "abc=",
            "a b",
            "code\n",
            &"A".repeat(65),
        ] {
            assert!(!is_verification_code(code), "{code:?}");
        }
    }
}
