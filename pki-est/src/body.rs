//! EST's base64 bodies (RFC 7030 §4, RFC 8951 §3): written in lines of 64 characters, each ended
//! by `\n` (what PEM readers take: aziot-certd puts the body between `-----BEGIN PKCS7-----` lines
//! as it comes and hands it to OpenSSL), and read as clients send them (lines or one line, CRLF or
//! LF, padded or not).

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// Standard alphabet; padding written, and accepted missing when reading.
const ENGINE: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The length of a line of base64, as PEM writes it (RFC 7468).
pub const LINE: usize = 64;

/// `der` in base64, lines of [`LINE`] characters, each (the last too) ended by `\n`.
pub(crate) fn encode_lines(der: &[u8]) -> String {
    let flat = ENGINE.encode(der);
    let mut out = String::with_capacity(flat.len() + flat.len() / LINE + 1);
    // base64 is ASCII: every chunk boundary is a char boundary.
    for line in flat.as_bytes().chunks(LINE) {
        out.extend(line.iter().map(|&b| char::from(b)));
        out.push('\n');
    }
    out
}

/// True when every byte is of the base64 alphabet, `=` or ASCII white space.
pub(crate) fn is_base64_text(body: &[u8]) -> bool {
    body.iter().all(|&b| {
        b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=') || b.is_ascii_whitespace()
    })
}

/// Decodes base64 text, white space (line ends, spaces, tabs) ignored.
pub(crate) fn decode(body: &[u8]) -> Result<Vec<u8>, base64::DecodeError> {
    let compact: Vec<u8> = body
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    ENGINE.decode(compact)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_64_characters_and_each_ends_with_a_newline() {
        let der: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let text = encode_lines(&der);
        assert!(text.ends_with('\n'));
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[..lines.len() - 1].iter().all(|l| l.len() == LINE));
        assert!(lines.last().unwrap().len() <= LINE);
        assert_eq!(decode(text.as_bytes()).unwrap(), der);
    }

    #[test]
    fn crlf_single_lines_and_missing_padding_decode() {
        assert_eq!(decode(b"AAEC\r\nAw==\r\n").unwrap(), [0, 1, 2, 3]);
        assert_eq!(decode(b"AAECAw").unwrap(), [0, 1, 2, 3]);
        assert!(decode(b"AA-C").is_err());
    }
}
