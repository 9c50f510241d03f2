//! Chain verification with OpenSSL and rustls/webpki semantics (being built).
