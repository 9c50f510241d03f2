//! The fleet as one self-contained HTML page: inline CSS and SVG and a few lines of inline
//! JavaScript, nothing fetched (a Content-Security-Policy that allows no source at all, and
//! the one script by its hash). Every number carries an `id` or a `data-` attribute, so that a
//! test (or a script) reads the page's figures; every text from a certificate, the register or
//! the scan goes through [`esc`].

use std::fmt::Write as _;

use base64::Engine as _;
use sha2::Digest as _;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::fleet::{DUE_SHOWN, Fleet, STATES, depth};
use super::scan::{Drift, Gateway};
use super::timeline;

/// The page's style.
const STYLE: &str = "
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd}
table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:left}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.states td{font-size:20px}.valid{color:#2b7a3d}.expiring{color:#b36b00}.expired{color:#b3261e}
.superseded{color:#6f6f6f}.revoked{color:#7b2d8b}
svg .grid{stroke:#ddd}svg text{font-size:10px;fill:#555}svg .scale{text-anchor:end}
svg rect:hover{opacity:.7}.legend{list-style:none;padding:0}.legend li{cursor:pointer;margin:2px 0}
.legend li.off{opacity:.4}.swatch{display:inline-block;width:10px;height:10px;margin-right:6px}
ul.tree{list-style:none;padding:0}ul.tree li{margin:4px 0}.muted{color:#777}
tr.drift td{background:#fdecea}tr.drift td.drift{font-weight:bold;color:#b3261e}
";

/// The page's one script: marks that it ran (a test reads the mark), and lets the legend hide
/// a profile's segments.
const SCRIPT: &str = "
document.getElementById('js').setAttribute('data-ran','yes');
document.querySelectorAll('.legend li').forEach(function(li){
  li.addEventListener('click',function(){
    var p=li.getAttribute('data-profile');li.classList.toggle('off');
    document.querySelectorAll('#timeline rect').forEach(function(r){
      if(r.getAttribute('data-profile')===p){r.style.display=li.classList.contains('off')?'none':'';}
    });
  });
});
";

/// The page of `fleet` (and of the scan's `gateways`).
pub(super) fn render(fleet: &Fleet, gateways: Option<&[Gateway]>) -> String {
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(SCRIPT));
    let at = fleet.window.at;
    let mut s = String::with_capacity(64 * 1024);
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'sha256-{hash}'\">\
         <title>pki: the fleet at {}</title><style>{STYLE}</style></head><body>\
         <h1>The fleet at {}</h1><p class=\"muted\" id=\"at\" data-at=\"{}\" \
         data-expiring-seconds=\"{}\">States judged at {}; expiring: in service and \
         notAfter within {}. <span id=\"js\" data-ran=\"no\"></span></p>",
        rfc3339(at),
        date(at),
        rfc3339(at),
        fleet.window.expiring.whole_seconds(),
        rfc3339(at),
        window_words(fleet.window.expiring)
    );
    states(&mut s, fleet);
    s.push_str("<h2>Expiring each week, 18 months ahead (in service)</h2>");
    s.push_str(&timeline::render(fleet));
    ca_tree(&mut s, fleet);
    due(&mut s, fleet);
    if let Some(g) = gateways {
        gateways_section(&mut s, g);
    }
    let _ = writeln!(s, "<script>{SCRIPT}</script></body></html>");
    s
}

/// Counts by state, then by profile and state.
fn states(s: &mut String, fleet: &Fleet) {
    s.push_str("<h2>Certificates by state</h2><table class=\"states\"><tr>");
    for st in STATES {
        let _ = write!(s, "<th class=\"{0}\">{0}</th>", st.as_str());
    }
    s.push_str("<th>total</th></tr><tr>");
    let mut all = 0;
    for st in STATES {
        let n = fleet.total(st);
        all += n;
        let _ = write!(
            s,
            "<td id=\"count-{0}\" class=\"n {0}\" data-count=\"{n}\">{n}</td>",
            st.as_str()
        );
    }
    let _ = write!(
        s,
        "<td id=\"count-total\" class=\"n\" data-count=\"{all}\">{all}</td></tr></table>"
    );
    s.push_str("<h2>By profile</h2><table id=\"profiles\"><tr><th>profile</th>");
    for st in STATES {
        let _ = write!(s, "<th class=\"n {0}\">{0}</th>", st.as_str());
    }
    s.push_str("<th>next expiry</th></tr>");
    for p in fleet.profiles() {
        let _ = write!(s, "<tr data-profile=\"{0}\"><td>{0}</td>", esc(&p));
        for st in STATES {
            let n: u64 = fleet
                .counts
                .iter()
                .filter(|c| c.profile == p && c.state == st)
                .map(|c| c.count)
                .sum();
            let _ = write!(
                s,
                "<td class=\"n\" data-state=\"{}\" data-count=\"{n}\">{n}</td>",
                st.as_str()
            );
        }
        let next = fleet
            .next
            .iter()
            .filter(|n| n.profile == p)
            .map(|n| n.not_after)
            .min();
        let _ = write!(
            s,
            "<td data-next-expiry=\"{}\">{}</td></tr>",
            next.map(rfc3339).unwrap_or_default(),
            next.map(date).unwrap_or_else(|| "—".into())
        );
    }
    s.push_str("</table>");
}

/// The directory's CAs, each with its own expiry and the counts of what it issued; then the
/// issuers the register names that are not the directory's.
fn ca_tree(s: &mut String, fleet: &Fleet) {
    let at = fleet.window.at;
    s.push_str("<h2>CAs</h2><ul class=\"tree\" id=\"cas\">");
    for node in &fleet.cas {
        let d = depth(node, &fleet.cas);
        let days = (node.not_after - at).whole_days();
        let _ = write!(
            s,
            "<li class=\"ca\" style=\"margin-left:{}px\" data-sha256=\"{}\" data-not-after=\"{}\" \
             data-days-left=\"{days}\"><b>{}</b> <span class=\"muted\">expires {} ({days} days)\
             </span>{}",
            d * 24,
            node.sha256,
            rfc3339(node.not_after),
            esc(&node.name),
            date(node.not_after),
            issued_counts(fleet, &Some(node.sha256.clone()))
        );
        s.push_str("</li>");
    }
    s.push_str("</ul>");
    let others: Vec<&Option<String>> = fleet
        .issuer_names
        .keys()
        .filter(|k| {
            k.as_ref()
                .is_none_or(|sha| !fleet.cas.iter().any(|n| &n.sha256 == sha))
        })
        .collect();
    if !others.is_empty() {
        s.push_str("<h2>Issuers not in the directory</h2><ul class=\"tree\" id=\"other-issuers\">");
        for k in others {
            let _ = write!(
                s,
                "<li class=\"issuer\" data-sha256=\"{}\"><b>{}</b>{}</li>",
                k.as_deref().unwrap_or(""),
                esc(fleet.issuer_name(k)),
                issued_counts(fleet, k)
            );
        }
        s.push_str("</ul>");
    }
}

/// The counts by state of what the issuer `sha256` signed, as a line of spans.
fn issued_counts(fleet: &Fleet, sha256: &Option<String>) -> String {
    let mut out = String::from("<div class=\"issued\">");
    let mut any = false;
    for st in STATES {
        let n = fleet.issued_by(sha256, st);
        any |= n > 0;
        let _ = write!(
            out,
            "<span class=\"{0}\" data-state=\"{0}\" data-count=\"{n}\">{n} {0}</span> ",
            st.as_str()
        );
    }
    if !any {
        out = String::from("<div class=\"issued muted\">issued nothing in the register");
    }
    out.push_str("</div>");
    out
}

/// The renewals due: the first ones by name, and how many in all.
fn due(s: &mut String, fleet: &Fleet) {
    let d = &fleet.due;
    let _ = write!(
        s,
        "<h2>Renewals due within {}</h2><p id=\"due-total\" data-count=\"{}\">{} due{}</p>",
        window_words(fleet.window.expiring),
        d.total,
        d.total,
        if d.total > u64::from(DUE_SHOWN) {
            format!(", the first {} shown", d.first.len())
        } else {
            String::new()
        }
    );
    if d.first.is_empty() {
        return;
    }
    let _ = write!(
        s,
        "<table id=\"due\" data-shown=\"{}\"><tr><th>notAfter</th><th>CN</th><th>profile</th>\
         <th>serial</th><th>issuer</th></tr>",
        d.first.len()
    );
    for r in &d.first {
        let _ = write!(
            s,
            "<tr data-serial=\"{}\" data-not-after=\"{}\"><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td></tr>",
            esc(&r.serial),
            rfc3339(r.not_after),
            date(r.not_after),
            esc(&r.common_name),
            esc(&r.profile),
            esc(&r.serial),
            esc(fleet.issuer_name(&r.issuer_sha256))
        );
    }
    s.push_str("</table>");
}

/// The scan's gateways, drift marked.
fn gateways_section(s: &mut String, gateways: &[Gateway]) {
    let drifting = gateways
        .iter()
        .filter(|g| g.drift.is_some_and(Drift::is_drift))
        .count();
    let _ = write!(
        s,
        "<h2>Gateways at the last scan</h2><p><span id=\"gateways-total\" data-count=\"{}\">{} \
         gateways</span>, <span id=\"gateways-drifting\" data-count=\"{drifting}\">{drifting} \
         drifting</span>",
        gateways.len(),
        gateways.len()
    );
    for d in Drift::ALL {
        let n = gateways.iter().filter(|g| g.drift == Some(d)).count();
        let _ = write!(
            s,
            "; <span id=\"drift-{0}\" data-count=\"{n}\">{n} {0}</span>",
            d.as_str()
        );
    }
    s.push_str("</p><table id=\"gateways\"><tr><th>gateway</th><th>status</th>\
                <th class=\"n\">days left</th><th>soonest notAfter</th><th>drift</th><th>register</th><th>reason</th></tr>");
    for g in gateways {
        let drift = g.drift.map_or("", Drift::as_str);
        let register = g.register.as_ref().map(|r| {
            let mut t = format!(
                "{} {}",
                r.serial.as_deref().unwrap_or("?"),
                r.status.as_deref().unwrap_or("")
            );
            if let Some(by) = &r.superseded_by_serial {
                t += &format!(" (replaced by {by})");
            }
            t
        });
        let _ = write!(
            s,
            "<tr class=\"gateway{}\" data-gateway=\"{}\" data-status=\"{}\" data-drift=\"{drift}\" \
             data-days-left=\"{}\"><td>{}</td><td>{}</td><td class=\"n\">{}</td>\
             <td>{}</td><td class=\"drift\">{}</td><td>{}</td><td>{}</td></tr>",
            if g.drift.is_some_and(Drift::is_drift) {
                " drift"
            } else {
                ""
            },
            esc(&g.target),
            g.status.as_str(),
            g.days_left.map(|d| d.to_string()).unwrap_or_default(),
            esc(&g.target),
            g.status.as_str(),
            g.days_left.map(|d| d.to_string()).unwrap_or_default(),
            esc(g.soonest_not_after.as_deref().unwrap_or("")),
            if drift.is_empty() { "—" } else { drift },
            esc(register.as_deref().unwrap_or("")),
            esc(&g.reason)
        );
    }
    s.push_str("</table>");
}

/// Text for HTML (element content or a double-quoted attribute): `& < > " '` as entities, and
/// control characters as numeric references, so that no name from a certificate (a CN may
/// hold `<script>`) becomes markup.
pub(super) fn esc(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => {
                // C0 as its Unicode control picture (U+2400 + code), DEL as U+2421, the C1
                // controls as U+FFFD.
                let code = u32::from(c);
                let picture = match code {
                    0..=0x1f => 0x2400 + code,
                    0x7f => 0x2421,
                    _ => 0xfffd,
                };
                let _ = write!(out, "&#x{picture:x};");
            }
            c => out.push(c),
        }
    }
    out
}

/// The expiring window in words: `30 days`, `12 hours`, `90 minutes`, `45 seconds`.
fn window_words(d: time::Duration) -> String {
    let s = d.whole_seconds();
    let (n, unit) = match s {
        _ if s % 86_400 == 0 => (s / 86_400, "day"),
        _ if s % 3_600 == 0 => (s / 3_600, "hour"),
        _ if s % 60 == 0 => (s / 60, "minute"),
        _ => (s, "second"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// An instant as RFC 3339.
pub(super) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// An instant's date (YYYY-MM-DD).
pub(super) fn date(t: OffsetDateTime) -> String {
    let d = t.date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_never_become_markup() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(window_words(time::Duration::days(30)), "30 days");
        assert_eq!(window_words(time::Duration::hours(36)), "36 hours");
        assert_eq!(window_words(time::Duration::seconds(1)), "1 second");
        // A control character is shown as its Unicode picture, never raw.
        assert_eq!(esc("a\u{1b}b\u{7f}"), "a&#x241b;b&#x2421;");
    }
}
