//! The property's inputs: a seeded generator (`PKI_GUIDE_SEED`, `PKI_GUIDE_CASES`) of ids inside
//! and outside Azure's rule, hubs and gateways, and CA directory paths.

/// splitmix64: a small deterministic generator, so that a failing case is reproduced from its
/// seed alone.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// 0..n.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// lo..=hi.
    pub(super) fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    fn percent(&mut self, p: usize) -> bool {
        self.below(100) < p
    }

    fn pick<'a, T: ?Sized>(&mut self, xs: &[&'a T]) -> &'a T {
        xs[self.below(xs.len())]
    }

    fn pick_char(&mut self, chars: &str) -> char {
        let chars: Vec<char> = chars.chars().collect();
        chars[self.below(chars.len())]
    }
}

/// The seed of the cases: `PKI_GUIDE_SEED` (decimal or 0x-hex) to reproduce a failure, else a
/// fixed one.
pub(super) fn guide_seed() -> u64 {
    match std::env::var("PKI_GUIDE_SEED") {
        Ok(s) => {
            let s = s.trim();
            let n = match s.strip_prefix("0x") {
                Some(h) => u64::from_str_radix(h, 16),
                None => s.parse(),
            };
            n.unwrap_or_else(|_| panic!("PKI_GUIDE_SEED={s:?} is no number"))
        }
        Err(_) => 0x23_6e1d_e5af,
    }
}

/// How many cases (the fixed one included): `PKI_GUIDE_CASES`, else [`CASES`].
pub(super) fn guide_cases() -> usize {
    std::env::var("PKI_GUIDE_CASES")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(CASES)
}

/// About 0.8 s a case on a busy two-core machine: some 40 s.
pub(super) const CASES: usize = 48;

/// The characters of an id (Azure IoT Hub's rule, `validate_device_id`).
const ID_CHARS: &str =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.%_*?!(),:=@$'";

/// Runs of id characters that mean something to a shell or a language.
const ID_RUNS: &[&str] = &[
    "$", "'", "(", ")", "*", "?", "!", "$(", "$(id)", "'$(id)'", "??", "??=", "??)", "??(", "??!",
    "''", "$'", "*?", "!!", "$$", "%s", "%n", "(,)", ":=", "@(", "=$(", "*.*", "'$'",
];

/// Within Azure's rule, as the brief words it (not pki's own check, which is under test).
pub(super) fn in_id_rule(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id.chars().all(|c| ID_CHARS.contains(c))
        && !id.starts_with(['.', '-'])
}

/// An id within the rule, biased toward the characters that are dangerous in code.
pub(super) fn arbitrary_id(rng: &mut Rng) -> String {
    let len = match rng.below(10) {
        0 => rng.range(100, 128),
        1 | 2 => rng.range(11, 40),
        _ => rng.range(1, 10),
    };
    let mut id = String::new();
    while id.len() < len {
        if rng.percent(50) {
            id += rng.pick(ID_RUNS);
        } else {
            id.push(rng.pick_char(ID_CHARS));
        }
    }
    if id.starts_with(['.', '-']) {
        id.replace_range(
            ..1,
            rng.pick(&["x", "$", "'", "(", "*", "?", "!", "%", "_"]),
        );
    }
    id.truncate(len);
    assert!(in_id_rule(&id), "{id:?}");
    id
}

/// An id outside the rule: one character no id may hold, a leading dot or dash, none at all,
/// or too many.
pub(super) fn id_outside_rule(rng: &mut Rng) -> String {
    let mut id = arbitrary_id(rng);
    id.truncate(rng.range(1, 20));
    match rng.below(6) {
        0 => format!(".{id}"),
        1 => format!("-{id}"),
        2 => String::new(),
        3 => "a".repeat(rng.range(129, 300)),
        _ => {
            let bad = rng.pick(&[
                " ", "\"", "\\", ";", "`", "/", "\n", "\t", "\r", "é", "<", ">", "|", "&", "#",
                "~", "^", "[", "]", "{", "}", "+", "\u{1b}", "\u{7f}", "\u{2028}", "😀",
            ]);
            let at = rng.range(0, id.len());
            id.insert_str(at, bad);
            id
        }
    }
}

/// A host name (labels of letters, digits, `-` and `_`, not all digits at the end) or an IP
/// address, as `pki guide` takes for `--hub` and `--gateway`.
pub(super) fn arbitrary_host(rng: &mut Rng) -> String {
    match rng.below(10) {
        0 | 1 => {
            let o: Vec<String> = (0..4).map(|_| rng.below(256).to_string()).collect();
            o.join(".")
        }
        2 => {
            let words: [u16; 8] = std::array::from_fn(|_| {
                if rng.percent(50) {
                    0
                } else {
                    rng.next() as u16
                }
            });
            let ip = std::net::Ipv6Addr::from(words);
            if rng.percent(30) {
                words.map(|w| format!("{w:x}")).join(":")
            } else {
                ip.to_string()
            }
        }
        3 => rng
            .pick(&["::1", "::", "::ffff:10.1.2.3", "fe80::1", "0.0.0.0"])
            .to_owned(),
        _ => {
            const LABEL: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
            let labels: Vec<String> = (0..rng.range(1, 4))
                .map(|_| {
                    let len = if rng.percent(5) { 63 } else { rng.range(1, 12) };
                    let mut l: String = (0..len).map(|_| rng.pick_char(LABEL)).collect();
                    for end in [0, l.len() - 1] {
                        if l.as_bytes()[end] == b'-' {
                            l.replace_range(end..=end, "x");
                        }
                    }
                    l
                })
                .collect();
            let mut host = labels.join(".");
            if host
                .rsplit('.')
                .next()
                .unwrap()
                .bytes()
                .all(|b| b.is_ascii_digit())
            {
                host.push('z');
            }
            host
        }
    }
}

/// Runs a path may hold that end a comment, a literal or a line, or escape in some language.
const DIR_RUNS: &[&str] = &[
    "\n",
    "\r",
    "\t",
    "*/",
    "/*",
    "??/",
    "??=",
    "??'",
    "\\",
    "\\u000a",
    "\\u0022",
    "\\n",
    "\\x",
    "\"",
    "'",
    "$(id)",
    "`id`",
    "${x}",
    "$'",
    "//",
    "#",
    "%s",
    "{}",
    "\u{1b}[31m",
    "\u{7f}",
    "\u{85}",
    "\u{2028}",
    "\u{2029}",
    "\u{202e}",
    "é",
    "😀",
    "\u{feff}",
    " ",
    "-",
    "~",
    "!",
    ";",
    "&",
    "|",
    "<",
    ">",
    "*",
    "?",
    "[",
    "]",
    "'\\''",
    "\"\"\"",
    "'''",
    "\u{1}",
    "\u{a0}",
];

/// A character a path may hold: printable ASCII, a control character or any Unicode scalar.
fn arbitrary_path_char(rng: &mut Rng) -> char {
    let c = match rng.below(10) {
        0..=3 => rng.range(0x20, 0x7e) as u32,
        4 | 5 => rng.range(1, 0x1f) as u32,
        6 => rng.range(0x80, 0x7ff) as u32,
        7 | 8 => rng.range(0x800, 0xffff) as u32,
        _ => rng.range(0x1_0000, 0x10_ffff) as u32,
    };
    char::from_u32(c)
        .filter(|&c| c != '/')
        .unwrap_or('\u{fffd}')
}

/// A relative CA directory (one to three names of arbitrary characters: anything but NUL and
/// `/`, and never `.` nor `..`), biased toward the runs that break code.
pub(super) fn arbitrary_dir(rng: &mut Rng) -> String {
    let len = if rng.percent(10) {
        rng.range(60, 120)
    } else {
        rng.range(1, 24)
    };
    let mut dir = String::new();
    while dir.chars().count() < len {
        if rng.percent(45) {
            dir += rng.pick(DIR_RUNS);
        } else {
            dir.push(arbitrary_path_char(rng));
        }
    }
    let names: Vec<String> = dir
        .split('/')
        .filter(|n| !n.is_empty())
        .map(|n| match n {
            "." | ".." => format!("{n}x"),
            n => n.to_owned(),
        })
        .collect();
    if names.is_empty() {
        "d".to_owned()
    } else {
        names.join("/")
    }
}
