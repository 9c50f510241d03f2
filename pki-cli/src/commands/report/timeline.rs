//! The expiry timeline as inline SVG: one stacked bar per week for 18 months, a segment per
//! profile and issuer (coloured by profile, the issuer in each segment's tooltip and in the
//! legend). Every segment carries its numbers as `data-` attributes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use time::Duration;

use super::fleet::{Fleet, WEEKS};
use super::html::{date, esc};

/// Pixels per week, the plot's height, and its left margin (the scale's labels).
const BAR: u32 = 11;
const HEIGHT: u32 = 220;
const LEFT: u32 = 48;

/// One segment of a week's bar: its profile, its issuer's SHA-256, its count.
type Segment<'a> = (&'a str, &'a Option<String>, u64);

/// The colour of the `i`-th profile (distinct for the first ten, then repeating).
pub(super) fn colour(i: usize) -> &'static str {
    const PALETTE: [&str; 10] = [
        "#2f6db5", "#e07b22", "#3a9a4b", "#c8383d", "#8159b5", "#7d5a4f", "#d46fb8", "#6f6f6f",
        "#a8a52a", "#1fa8b8",
    ];
    PALETTE[i % PALETTE.len()]
}

/// The timeline's SVG, and its legend.
pub(super) fn render(fleet: &Fleet) -> String {
    let profiles = fleet.profiles();
    let colour_of = |p: &str| colour(profiles.iter().position(|q| q == p).unwrap_or(0));
    // Week -> its segments, by profile then issuer.
    let mut weeks: BTreeMap<u32, Vec<Segment<'_>>> = BTreeMap::new();
    for w in &fleet.weeks {
        weeks
            .entry(w.week)
            .or_default()
            .push((&w.profile, &w.issuer_sha256, w.count));
    }
    let totals: BTreeMap<u32, u64> = weeks
        .iter()
        .map(|(w, segs)| (*w, segs.iter().map(|s| s.2).sum()))
        .collect();
    let max = totals.values().copied().max().unwrap_or(0).max(1);
    let total: u64 = totals.values().sum();
    let width = LEFT + WEEKS * BAR + 10;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg id=\"timeline\" data-total=\"{total}\" data-weeks=\"{WEEKS}\" \
         width=\"{width}\" height=\"{}\" \
         role=\"img\" aria-label=\"certificates in service expiring each week\">",
        HEIGHT + 40
    );
    // The scale: 0, half and the largest week.
    for (frac, label) in [(0u64, 0u64), (1, max / 2), (2, max)] {
        let y = HEIGHT - (HEIGHT as u64 * frac / 2) as u32 + 10;
        let _ = write!(
            s,
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\" class=\"grid\"/>\
             <text x=\"{}\" y=\"{}\" class=\"scale\">{label}</text>",
            LEFT + WEEKS * BAR,
            LEFT - 4,
            y + 4
        );
    }
    for (week, segs) in &weeks {
        let x = LEFT + week * BAR;
        let mut y = HEIGHT + 10;
        let start = fleet.window.at + Duration::weeks(i64::from(*week));
        let _ = write!(
            s,
            "<g class=\"week\" data-week=\"{week}\" data-count=\"{}\" data-from=\"{}\">",
            totals.get(week).copied().unwrap_or(0),
            date(start)
        );
        for (profile, issuer, count) in segs {
            let h = ((u128::from(*count) * u128::from(HEIGHT)) / u128::from(max)).max(1) as u32;
            y = y.saturating_sub(h);
            let issuer_name = fleet.issuer_name(issuer);
            let _ = write!(
                s,
                "<rect x=\"{x}\" y=\"{y}\" width=\"{}\" height=\"{h}\" fill=\"{}\" \
                 data-profile=\"{}\" data-issuer=\"{}\" data-count=\"{count}\">\
                 <title>week of {}: {count} {} certificate(s) of {}</title></rect>",
                BAR - 2,
                colour_of(profile),
                esc(profile),
                esc(issuer_name),
                date(start),
                esc(profile),
                esc(issuer_name)
            );
        }
        s.push_str("</g>");
    }
    // A date under every quarter (13 weeks).
    for week in (0..WEEKS).step_by(13) {
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" class=\"axis\">{}</text>",
            LEFT + week * BAR,
            HEIGHT + 30,
            date(fleet.window.at + Duration::weeks(i64::from(week)))
        );
    }
    s.push_str("</svg>");
    s.push_str("<ul class=\"legend\">");
    for (i, p) in profiles.iter().enumerate() {
        let issuers: Vec<&str> = {
            let mut v: Vec<&str> = fleet
                .weeks
                .iter()
                .filter(|w| &w.profile == p)
                .map(|w| fleet.issuer_name(&w.issuer_sha256))
                .collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        let in_timeline: u64 = fleet
            .weeks
            .iter()
            .filter(|w| &w.profile == p)
            .map(|w| w.count)
            .sum();
        let _ = write!(
            s,
            "<li data-profile=\"{}\" data-count=\"{in_timeline}\"><span class=\"swatch\" \
             style=\"background:{}\"></span>{} ({in_timeline}){}{}</li>",
            esc(p),
            colour(i),
            esc(p),
            if issuers.is_empty() {
                ""
            } else {
                " — issued by "
            },
            esc(&issuers.join(", "))
        );
    }
    s.push_str("</ul>");
    s
}
