//! What a session tells its caller while it works: the library never prints, so a retry is an
//! event handed to the caller's [`Events`], which says it (the `pki` binary writes one line on
//! stderr) or not.

use std::time::Duration;

/// A connection failure or a 5xx answer, about to be retried after a pause.
///
/// Shown as `retrying GET /tenant/currentTenant in 0.2 s (attempt 2 of 4): 503 Service
/// Unavailable: ...`. Everything in it has been redacted; it may still carry control characters
/// the tenant sent, which a terminal must not receive raw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    /// The request's method.
    pub method: String,
    /// The request's path.
    pub path: String,
    /// The pause before the next attempt.
    pub pause: Duration,
    /// The number of the next attempt (2 for the first retry).
    pub attempt: usize,
    /// How many attempts are made at most.
    pub attempts: usize,
    /// Why the last attempt failed: the tenant's status and message, or the connection error.
    pub reason: String,
}

impl std::fmt::Display for Retry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "retrying {} {} in {:.1} s (attempt {} of {}): {}",
            self.method,
            self.path,
            self.pause.as_secs_f32(),
            self.attempt,
            self.attempts,
            self.reason
        )
    }
}

/// Receives what a session does while it works.
pub trait Events {
    /// An attempt failed and will be retried after `retry.pause`.
    fn retrying(&self, retry: &Retry);
}

/// Says nothing.
impl Events for () {
    fn retrying(&self, _: &Retry) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retry_reads_as_one_line() {
        let r = Retry {
            method: "GET".into(),
            path: "/tenant/currentTenant".into(),
            pause: Duration::from_millis(400),
            attempt: 3,
            attempts: 4,
            reason: "503 Service Unavailable: down".into(),
        };
        assert_eq!(
            r.to_string(),
            "retrying GET /tenant/currentTenant in 0.4 s (attempt 3 of 4): 503 Service Unavailable: down"
        );
    }
}
