//! When a certificate needs renewing: a [`Threshold`] (a time left before notAfter, or a share
//! of the lifetime that has passed) and [`check`], which judges one certificate's validity
//! period against it at a given instant. `pki needs-renewal`, `pki scan --warn` and the
//! register's renewal all judge through here.
//!
//! The rule is `step certificate needs-renewal`'s: a certificate needs renewal from the instant
//! the threshold is reached, that instant included; by default when two thirds of its lifetime
//! (notAfter − notBefore) have passed.

use std::fmt;

use time::{Duration, OffsetDateTime, PrimitiveDateTime};

/// A share of a certificate's lifetime, `numerator / denominator`, between 0 and 1 inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fraction {
    numerator: u32,
    denominator: u32,
}

impl Fraction {
    /// Two thirds: the default share of the lifetime after which a certificate is renewed.
    pub const TWO_THIRDS: Fraction = Fraction {
        numerator: 2,
        denominator: 3,
    };

    /// `numerator / denominator` in lowest terms (so `66/100` equals `33/50`); `None` unless
    /// `0 < denominator` and `numerator <= denominator`.
    pub fn new(numerator: u32, denominator: u32) -> Option<Fraction> {
        if denominator == 0 || numerator > denominator {
            return None;
        }
        let (mut a, mut b) = (numerator, denominator);
        while b != 0 {
            (a, b) = (b, a % b);
        }
        Some(Fraction {
            numerator: numerator / a,
            denominator: denominator / a,
        })
    }

    /// The share as a percentage (`66.666…` for two thirds).
    pub fn percent(self) -> f64 {
        f64::from(self.numerator) * 100.0 / f64::from(self.denominator)
    }

    /// `d` times this share, rounded toward zero to the nanosecond.
    fn of(self, d: Duration) -> Duration {
        let nanos =
            d.whole_nanoseconds() * i128::from(self.numerator) / i128::from(self.denominator);
        // A share of at most one of a duration is a duration (it cannot grow).
        Duration::new(
            (nanos / 1_000_000_000) as i64,
            (nanos % 1_000_000_000) as i32,
        )
    }
}

impl fmt::Display for Fraction {
    /// `66.67%`: a percentage with at most two decimals, trailing zeros left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = format!("{:.2}", self.percent());
        let text = text.trim_end_matches('0').trim_end_matches('.');
        write!(f, "{text}%")
    }
}

/// When a certificate needs renewal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Threshold {
    /// When at most this much time is left before notAfter (`30d`).
    Remaining(Duration),
    /// When this share of the lifetime has passed (`66%`).
    Elapsed(Fraction),
}

impl Default for Threshold {
    /// Two thirds of the lifetime, as `step certificate needs-renewal` and issue 12 have it.
    fn default() -> Self {
        Threshold::Elapsed(Fraction::TWO_THIRDS)
    }
}

impl fmt::Display for Threshold {
    /// `30d`, `12h`, `90m`, `45s` (the largest unit that divides the duration), or `66.67%`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Threshold::Elapsed(share) => write!(f, "{share}"),
            Threshold::Remaining(d) => {
                let s = d.whole_seconds();
                let (n, unit) = if s != 0 && s % 86_400 == 0 {
                    (s / 86_400, "d")
                } else if s != 0 && s % 3600 == 0 {
                    (s / 3600, "h")
                } else if s != 0 && s % 60 == 0 {
                    (s / 60, "m")
                } else {
                    (s, "s")
                };
                write!(f, "{n}{unit}")
            }
        }
    }
}

/// How one certificate stands against a [`Threshold`] at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenewalCheck {
    /// The threshold is reached (or the certificate has expired): renew it.
    pub needs_renewal: bool,
    /// The instant is past notAfter (at notAfter itself a certificate is still valid, as
    /// OpenSSL and webpki judge it).
    pub expired: bool,
    /// The instant is before notBefore.
    pub not_yet_valid: bool,
    /// notAfter − the instant: zero or negative once the certificate has expired.
    pub remaining: Duration,
    /// notAfter − notBefore (negative for a certificate whose notAfter precedes its notBefore).
    pub lifetime: Duration,
    /// The instant from which the certificate needs renewal.
    pub renew_from: OffsetDateTime,
}

/// Judges a certificate valid from `not_before` to `not_after` against `threshold` at `at`.
///
/// It needs renewal from `renew_from` on, that instant included: notAfter − the duration of
/// [`Threshold::Remaining`], or notBefore plus the share of the lifetime of
/// [`Threshold::Elapsed`]. A certificate that is not valid yet can already need renewal (a
/// 10-day certificate against `30d`). One whose notAfter precedes its notBefore is never valid
/// and always needs renewal.
pub fn check(
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    threshold: Threshold,
    at: OffsetDateTime,
) -> RenewalCheck {
    let lifetime = not_after - not_before;
    let earliest = PrimitiveDateTime::MIN.assume_utc();
    let renew_from = if lifetime.is_negative() {
        earliest
    } else {
        match threshold {
            // A duration beyond the calendar's range: renew at any instant.
            Threshold::Remaining(d) => not_after.checked_sub(d).unwrap_or(earliest),
            Threshold::Elapsed(share) => not_before + share.of(lifetime),
        }
    };
    RenewalCheck {
        needs_renewal: at >= renew_from,
        expired: at > not_after,
        not_yet_valid: at < not_before,
        remaining: not_after - at,
        lifetime,
        renew_from,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NB: OffsetDateTime = datetime!(2026-01-01 0:00 UTC);
    /// A 90-day certificate: two thirds is day 60.
    const NA: OffsetDateTime = datetime!(2026-04-01 0:00 UTC);

    fn days(n: i64) -> Duration {
        Duration::days(n)
    }

    #[test]
    fn the_default_is_two_thirds_of_the_lifetime_and_the_threshold_instant_counts() {
        let t = Threshold::default();
        assert_eq!(t, Threshold::Elapsed(Fraction::TWO_THIRDS));
        let c = check(NB, NA, t, NB + days(60));
        assert_eq!(c.renew_from, NB + days(60));
        assert!(c.needs_renewal, "exactly at the threshold: renew");
        let before = check(NB, NA, t, NB + days(60) - Duration::NANOSECOND);
        assert!(!before.needs_renewal);
        assert!(!before.expired && !before.not_yet_valid);
        assert_eq!(before.lifetime, days(90));
        assert_eq!(before.remaining, days(30) + Duration::NANOSECOND);
    }

    #[test]
    fn remaining_counts_back_from_not_after() {
        let t = Threshold::Remaining(days(30));
        assert_eq!(check(NB, NA, t, NA - days(30)).renew_from, NA - days(30));
        assert!(check(NB, NA, t, NA - days(30)).needs_renewal);
        assert!(!check(NB, NA, t, NA - days(30) - Duration::SECOND).needs_renewal);
        // Zero: renew at notAfter itself, where the certificate is still valid.
        let zero = check(NB, NA, Threshold::Remaining(Duration::ZERO), NA);
        assert!(zero.needs_renewal && !zero.expired);
        assert_eq!(zero.remaining, Duration::ZERO);
    }

    #[test]
    fn an_expired_certificate_needs_renewal_and_its_remaining_time_is_negative() {
        for t in [Threshold::default(), Threshold::Remaining(Duration::ZERO)] {
            let c = check(NB, NA, t, NA + Duration::SECOND);
            assert!(c.expired && c.needs_renewal);
            assert_eq!(c.remaining, -Duration::SECOND);
        }
        // At notAfter a certificate is valid yet (OpenSSL and webpki: expired after it).
        assert!(!check(NB, NA, Threshold::default(), NA).expired);
    }

    #[test]
    fn a_certificate_not_yet_valid_needs_renewal_only_when_the_threshold_says_so() {
        let early = NB - days(1);
        let c = check(NB, NA, Threshold::default(), early);
        assert!(c.not_yet_valid && !c.needs_renewal && !c.expired);
        // 90 days of validity cannot give 100 days left: renew even before it starts.
        let c = check(NB, NA, Threshold::Remaining(days(100)), early);
        assert!(c.not_yet_valid && c.needs_renewal);
        assert_eq!(c.renew_from, NA - days(100));
    }

    #[test]
    fn a_zero_lifetime_needs_renewal_from_its_only_instant() {
        let c = check(NB, NB, Threshold::default(), NB);
        assert_eq!(c.lifetime, Duration::ZERO);
        assert_eq!(c.renew_from, NB);
        assert!(c.needs_renewal && !c.expired && !c.not_yet_valid);
        assert!(!check(NB, NB, Threshold::default(), NB - Duration::SECOND).needs_renewal);
        // 0% and 100% are the ends of the lifetime.
        let zero = Threshold::Elapsed(Fraction::new(0, 100).unwrap());
        assert_eq!(check(NB, NA, zero, NB).renew_from, NB);
        let all = Threshold::Elapsed(Fraction::new(1, 1).unwrap());
        assert_eq!(check(NB, NA, all, NB).renew_from, NA);
    }

    #[test]
    fn inverted_validity_and_huge_durations_always_need_renewal() {
        let c = check(NA, NB, Threshold::default(), NB - days(365));
        assert!(c.lifetime.is_negative() && c.needs_renewal);
        let huge = Threshold::Remaining(Duration::MAX);
        assert!(check(NB, NA, huge, NB - days(365)).needs_renewal);
    }

    #[test]
    fn thresholds_print_as_they_are_written() {
        assert_eq!(Threshold::default().to_string(), "66.67%");
        assert_eq!(
            Threshold::Elapsed(Fraction::new(75, 100).unwrap()).to_string(),
            "75%"
        );
        assert_eq!(
            Threshold::Elapsed(Fraction::new(665, 1000).unwrap()).to_string(),
            "66.5%"
        );
        assert_eq!(Threshold::Remaining(days(30)).to_string(), "30d");
        assert_eq!(Threshold::Remaining(Duration::hours(36)).to_string(), "36h");
        assert_eq!(
            Threshold::Remaining(Duration::minutes(90)).to_string(),
            "90m"
        );
        assert_eq!(Threshold::Remaining(Duration::ZERO).to_string(), "0s");
        assert_eq!(Fraction::new(3, 2), None);
        assert_eq!(Fraction::new(66, 100), Fraction::new(33, 50));
        assert_eq!(Fraction::new(0, 7), Fraction::new(0, 1));
        assert_eq!(Fraction::new(1, 0), None);
    }
}
