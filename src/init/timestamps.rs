//! Timestamp detection: every timestamp of every event, with the strftime format that
//! renders it back to exactly the same text.
//!
//! A table of families (ISO 8601, syslog, Apache/NCSA, US and European dates, `%d-%b-%Y`,
//! Windows event text, compact digits, dates or times alone) gives a search regex and the
//! formats that family's text may be written in. A candidate counts only when one format
//! round-trips it: `strptime` reads it and `strftime` renders the same text again (the
//! project's own `timing::strptime` and `timing::strftime`). Fractions other than
//! microseconds and mixed zones stay as written, outside the token's capture group, because
//! `%f` always renders six digits. Epoch seconds and milliseconds count only as values of a
//! key (`time=1700000000`, `"ts": 1700000000123`).

use std::sync::LazyLock;

use chrono::{DateTime, FixedOffset};
use regex::Regex;

use super::{Claims, Replacement, TokenPlan};
use crate::timing::strftime::{TimeFormat, strptime_in_year};

/// A kind of timestamp text: where to look and which formats it may be written in.
struct Family {
    name: &'static str,
    /// Finds candidates; every format's rendering matches it.
    search: Regex,
    formats: Vec<String>,
    /// A fraction of a second may follow (`.123`, `,123456`, `:123`).
    fraction: bool,
    /// A zone may follow (`Z`, `+01:00`, `-0700`, ` +0000`).
    zone: bool,
    /// A date or a time alone, which also occurs inside the other families' text.
    alone: bool,
}

fn family(
    name: &'static str,
    search: &str,
    formats: &[&str],
    fraction: bool,
    zone: bool,
) -> Family {
    Family {
        name,
        search: Regex::new(search).expect("family regex"),
        formats: formats.iter().map(|f| f.to_string()).collect(),
        fraction,
        zone,
        alone: false,
    }
}

fn alone(f: Family) -> Family {
    Family { alone: true, ..f }
}

/// Every date order and padding a slashed or dashed numeric date may use, with every clock.
fn numeric_date_formats(sep: char) -> Vec<String> {
    let dates = [
        "%m/%d/%Y",
        "%d/%m/%Y",
        "%-m/%-d/%Y",
        "%-d/%-m/%Y",
        "%m/%d/%y",
        "%d/%m/%y",
        "%-m/%-d/%y",
        "%-d/%-m/%y",
    ];
    let times = ["%H:%M:%S", "%I:%M:%S %p", "%-I:%M:%S %p", "%-H:%M:%S"];
    let mut out = Vec::new();
    for d in dates {
        for t in times {
            out.push(format!("{} {t}", d.replace('/', &sep.to_string())));
        }
    }
    out
}

/// Most specific first: a family's text never lies inside a later family's.
static FAMILIES: LazyLock<Vec<Family>> = LazyLock::new(|| {
    let mut f = vec![
        family(
            "ISO 8601",
            r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}",
            &["%Y-%m-%dT%H:%M:%S"],
            true,
            true,
        ),
        family(
            "ISO 8601 (space)",
            r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}",
            &["%Y-%m-%d %H:%M:%S"],
            true,
            true,
        ),
        family(
            "year/month/day",
            r"\d{4}/\d{2}/\d{2}[ T]\d{2}:\d{2}:\d{2}",
            &["%Y/%m/%d %H:%M:%S", "%Y/%m/%dT%H:%M:%S"],
            true,
            true,
        ),
        family(
            "Apache/NCSA",
            r"\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2}",
            &["%d/%b/%Y:%H:%M:%S"],
            true,
            true,
        ),
        family(
            "day/month name/year",
            r"\d{1,2}/[A-Z][a-z]{2}/\d{4} \d{2}:\d{2}:\d{2}",
            &["%d/%b/%Y %H:%M:%S", "%-d/%b/%Y %H:%M:%S"],
            true,
            true,
        ),
        family(
            "ctime",
            r"[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}",
            &["%a %b %d %H:%M:%S %Y", "%a %b %e %H:%M:%S %Y"],
            false,
            false,
        ),
        family(
            "month day year time",
            r"[A-Z][a-z]{2} {1,2}\d{1,2} \d{4} \d{2}:\d{2}:\d{2}",
            &[
                "%b %d %Y %H:%M:%S",
                "%b %e %Y %H:%M:%S",
                "%b %-d %Y %H:%M:%S",
            ],
            true,
            false,
        ),
        family(
            "syslog",
            r"[A-Z][a-z]{2} {1,2}\d{1,2} {1,2}\d{2}:\d{2}:\d{2}",
            // The last two: Cisco IOS pads the day and time to columns.
            &[
                "%b %d %H:%M:%S",
                "%b %e %H:%M:%S",
                "%b %-d %H:%M:%S",
                "%b %e  %H:%M:%S",
                "%b  %d %H:%M:%S",
            ],
            true,
            false,
        ),
        family(
            "day-month name-year",
            r"\d{1,2}-[A-Z][a-z]{2}-\d{4}[ :]\d{2}:\d{2}:\d{2}",
            &[
                "%d-%b-%Y %H:%M:%S",
                "%d-%b-%Y:%H:%M:%S",
                "%-d-%b-%Y %H:%M:%S",
            ],
            true,
            true,
        ),
    ];
    let mut slash = numeric_date_formats('/');
    slash.extend(numeric_date_formats('-'));
    f.push(Family {
        name: "numeric date and time",
        search: Regex::new(r"\d{1,2}[/-]\d{1,2}[/-]\d{2}(?:\d{2})? \d{1,2}:\d{2}:\d{2}(?: [AP]M)?")
            .expect("family regex"),
        formats: slash,
        fraction: true,
        zone: false,
        alone: false,
    });
    f.extend([
        family("compact digits", r"\d{14}", &["%Y%m%d%H%M%S"], true, true),
        alone(family(
            "day-month name-year date",
            r"\d{1,2}-[A-Z][a-z]{2}-\d{4}",
            &["%d-%b-%Y", "%-d-%b-%Y"],
            false,
            false,
        )),
        alone(family(
            "ISO 8601 date",
            r"\d{4}-\d{2}-\d{2}",
            &["%Y-%m-%d"],
            false,
            false,
        )),
        alone(family(
            "time of day",
            r"\d{2}:\d{2}:\d{2}",
            &["%H:%M:%S"],
            true,
            false,
        )),
    ]);
    f
});

/// What follows a timestamp's core text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Zone {
    Z,
    /// `+hh:mm`, with a space before it when `true`.
    Colon(bool),
    /// `+hhmm`
    Plain(bool),
}

impl Zone {
    fn format(self) -> &'static str {
        match self {
            Zone::Z => "Z",
            Zone::Colon(false) => "%:z",
            Zone::Colon(true) => " %:z",
            Zone::Plain(false) => "%z",
            Zone::Plain(true) => " %z",
        }
    }

    fn regex(self) -> &'static str {
        match self {
            Zone::Z => "Z",
            Zone::Colon(false) => r"[+-]\d{2}:\d{2}",
            Zone::Colon(true) => r" [+-]\d{2}:\d{2}",
            Zone::Plain(false) => r"[+-]\d{4}",
            Zone::Plain(true) => r" [+-]\d{4}",
        }
    }
}

#[derive(Debug, Clone)]
struct Hit {
    event: usize,
    start: usize,
    core_end: usize,
    /// Separator and number of digits.
    fraction: Option<(u8, usize)>,
    zone: Option<Zone>,
    end: usize,
}

/// The timestamp tokens of a set of events, and each event's first time (epoch seconds).
#[derive(Debug, Default)]
pub struct Detected {
    pub tokens: Vec<TokenPlan>,
    pub times: Vec<Option<i64>>,
}

/// Reads `text` with `format` and renders it again; the instant when both agree.
pub fn round_trip(format: &str, text: &str) -> Option<DateTime<FixedOffset>> {
    round_trip_with(format, &TimeFormat::compile(format), text)
}

/// [`round_trip`] with the format already compiled.
fn round_trip_with(
    format: &str,
    compiled: &TimeFormat,
    text: &str,
) -> Option<DateTime<FixedOffset>> {
    let parse_format = format.replace("%-", "%").replace("%:z", "%z");
    let (naive, offset) = strptime_in_year(&parse_format, text, 2000)?;
    let offset = offset.unwrap_or(FixedOffset::east_opt(0)?);
    let t = naive.and_local_timezone(offset).single()?;
    if compiled.render_to_string(&t) != text {
        return None;
    }
    let has_year = ["%Y", "%y", "%s"].iter().any(|d| format.contains(d));
    if has_year && !(1970..=2100).contains(&chrono::Datelike::year(&t)) {
        return None;
    }
    Some(t)
}

/// A regex matching exactly what `format` renders.
pub fn format_regex(format: &str) -> String {
    let mut out = String::new();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push_str(&regex::escape(&c.to_string()));
            continue;
        }
        let mut spec = String::new();
        for n in chars.by_ref() {
            spec.push(n);
            if n != '-' && n != ':' {
                break;
            }
        }
        out.push_str(match spec.as_str() {
            "Y" => r"\d{4}",
            "y" | "m" | "d" | "H" | "I" | "M" | "S" => r"\d{2}",
            "-m" | "-d" | "-H" | "-I" => r"\d{1,2}",
            "e" => r"[ \d]\d",
            "f" => r"\d{6}",
            "b" | "a" => "[A-Z][a-z]{2}",
            "p" => "[AP]M",
            "z" => r"[+-]\d{4}",
            ":z" => r"[+-]\d{2}:\d{2}",
            "s" => r"\d{10}",
            "j" => r"\d{3}",
            "%" => "%",
            _ => ".+?",
        });
    }
    out
}

fn is_word(b: Option<&u8>) -> bool {
    b.is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

/// Fraction and zone after a core match ending at `at`.
fn suffix(text: &[u8], at: usize, fam: &Family) -> (Option<(u8, usize)>, Option<Zone>, usize) {
    let mut i = at;
    let mut fraction = None;
    if fam.fraction && matches!(text.get(i), Some(b'.' | b',' | b':')) {
        let digits = text[i + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if (1..=9).contains(&digits) {
            fraction = Some((text[i], digits));
            i += 1 + digits;
        }
    }
    let mut zone = None;
    if fam.zone {
        let space = text.get(i) == Some(&b' ');
        let j = i + usize::from(space);
        let digit = |k: usize| text.get(k).is_some_and(u8::is_ascii_digit);
        if !space && text.get(j) == Some(&b'Z') && !is_word(text.get(j + 1)) {
            zone = Some(Zone::Z);
            i = j + 1;
        } else if matches!(text.get(j), Some(b'+' | b'-')) && digit(j + 1) && digit(j + 2) {
            if text.get(j + 3) == Some(&b':') && digit(j + 4) && digit(j + 5) && !digit(j + 6) {
                zone = Some(Zone::Colon(space));
                i = j + 6;
            } else if digit(j + 3) && digit(j + 4) && !digit(j + 5) {
                zone = Some(Zone::Plain(space));
                i = j + 5;
            }
        }
    }
    (fraction, zone, i)
}

/// The family whose text starts `line` (after an optional `[` or `<PRI>`), and the breaker
/// regex that finds such lines.
pub fn line_start(line: &str) -> Option<String> {
    let prefix_len = if line.starts_with('[') {
        1
    } else if line.starts_with('<') {
        line.find('>').filter(|&p| p <= 5)? + 1
    } else {
        0
    };
    let rest = &line[prefix_len..];
    for fam in FAMILIES.iter() {
        let Some(m) = fam.search.find(rest) else {
            continue;
        };
        if m.start() != 0 || rest.as_bytes().get(m.end()).is_some_and(u8::is_ascii_digit) {
            continue;
        }
        if fam
            .formats
            .iter()
            .any(|f| round_trip(f, m.as_str()).is_some())
        {
            let prefix = match &line[..prefix_len] {
                "" => String::new(),
                "[" => r"\[".to_string(),
                _ => r"<\d+>".to_string(),
            };
            return Some(format!("^{prefix}{}", fam.search.as_str()));
        }
    }
    None
}

/// Finds the timestamps of `events`, claims their spans and returns one token per format.
pub fn detect(events: &[String], claims: &mut Claims) -> Detected {
    let mut times: Vec<Option<(usize, i64)>> = vec![None; events.len()];
    let mut tokens: Vec<(TokenPlan, usize)> = Vec::new();
    for fam in FAMILIES.iter() {
        let mut hits = Vec::new();
        for (ev, text) in events.iter().enumerate() {
            let bytes = text.as_bytes();
            for m in fam.search.find_iter(text) {
                if m.start() > 0 && is_word(bytes.get(m.start() - 1)) {
                    continue;
                }
                let (fraction, zone, end) = suffix(bytes, m.end(), fam);
                if bytes.get(end).is_some_and(u8::is_ascii_digit)
                    || (fraction.is_none()
                        && bytes.get(m.end()).is_some_and(u8::is_ascii_alphanumeric)
                        && zone.is_none())
                {
                    continue;
                }
                if !claims.is_free(ev, m.start(), end) {
                    continue;
                }
                hits.push(Hit {
                    event: ev,
                    start: m.start(),
                    core_end: m.end(),
                    fraction,
                    zone,
                    end,
                });
            }
        }
        if hits.is_empty() {
            continue;
        }
        let core = |h: &Hit| &events[h.event][h.start..h.core_end];
        let compiled: Vec<TimeFormat> =
            fam.formats.iter().map(|f| TimeFormat::compile(f)).collect();
        // For each hit, the instant each format reads from it (None: no round trip).
        let reads: Vec<Vec<Option<i64>>> = hits
            .iter()
            .map(|h| {
                fam.formats
                    .iter()
                    .zip(&compiled)
                    .map(|(f, c)| round_trip_with(f, c, core(h)).map(|t| t.timestamp()))
                    .collect()
            })
            .collect();
        // Greedy: the format that renders most of the remaining hits, until none is left;
        // formats of one family render disjoint texts, so their tokens do not overlap.
        let mut left: Vec<usize> = (0..hits.len()).collect();
        loop {
            let best = (0..fam.formats.len())
                .map(|f| (f, left.iter().filter(|&&h| reads[h][f].is_some()).count()))
                .fold(
                    (0, 0),
                    |best, (f, n)| if n > best.1 { (f, n) } else { best },
                );
            if best.1 == 0 {
                break;
            }
            let f = best.0;
            let (mine, rest): (Vec<usize>, Vec<usize>) =
                left.iter().partition(|&&h| reads[h][f].is_some());
            left = rest;
            let mine_hits: Vec<Hit> = mine.iter().map(|&h| hits[h].clone()).collect();
            let token = family_token(fam, &fam.formats[f], &mine_hits, events);
            for &h in &mine {
                let hit = &hits[h];
                claims.claim(hit.event, hit.start, hit.end);
                let slot = &mut times[hit.event];
                if let Some(t) = reads[h][f]
                    && slot.is_none_or(|(s, _)| hit.start < s)
                {
                    *slot = Some((hit.start, t));
                }
            }
            let covered = mine_hits
                .iter()
                .map(|h| h.event)
                .collect::<std::collections::BTreeSet<_>>()
                .len();
            tokens.push((token, covered));
        }
    }
    tokens.extend(epoch_tokens(events, claims, &mut times));
    Detected {
        tokens: tokens
            .into_iter()
            .map(|(mut t, covered)| {
                t.events = covered;
                t
            })
            .collect(),
        times: times.into_iter().map(|t| t.map(|(_, s)| s)).collect(),
    }
}

/// Most characters of shared context before a date or time alone.
const MAX_CONTEXT: usize = 16;

/// The longest text (at most [`MAX_CONTEXT`] characters, no digits) that comes right before
/// every hit.
fn common_context(hits: &[Hit], events: &[String]) -> String {
    let befores: Vec<&str> = hits.iter().map(|h| &events[h.event][..h.start]).collect();
    let mut context: Vec<char> = Vec::new();
    'grow: loop {
        let n = context.len();
        if n >= MAX_CONTEXT {
            break;
        }
        let mut next = None;
        for b in &befores {
            let c = b.chars().rev().nth(n);
            match (c, next) {
                (None, _) => break 'grow,
                (Some(c), _) if c.is_ascii_digit() || c == '\n' => break 'grow,
                (Some(c), None) => next = Some(c),
                (Some(c), Some(p)) if c != p => break 'grow,
                _ => {}
            }
        }
        match next {
            Some(c) => context.push(c),
            None => break,
        }
    }
    // A conf value loses its leading spaces.
    context
        .iter()
        .rev()
        .collect::<String>()
        .trim_start()
        .to_string()
}

/// The token of one family's hits, all rendered by `format`.
fn family_token(fam: &Family, format: &str, hits: &[Hit], events: &[String]) -> TokenPlan {
    let fractions: std::collections::BTreeSet<_> = hits.iter().map(|h| h.fraction).collect();
    let zones: std::collections::BTreeSet<_> =
        hits.iter().map(|h| h.zone.map(|z| z.format())).collect();
    let micro_fraction = match fractions.iter().collect::<Vec<_>>().as_slice() {
        [Some((sep, 6))] => Some(*sep as char),
        _ => None,
    };
    let any_fraction = fractions.iter().any(Option::is_some);
    let static_fraction = any_fraction && micro_fraction.is_none();
    let one_zone = if zones.len() == 1 && !static_fraction {
        hits[0].zone
    } else {
        None
    };
    let mut fmt = format.to_string();
    if let Some(sep) = micro_fraction {
        fmt.push(sep);
        fmt.push_str("%f");
    }
    if let Some(z) = one_zone {
        fmt.push_str(z.format());
    }
    let mut suffix = String::new();
    if static_fraction {
        let seps: String = fractions
            .iter()
            .flatten()
            .map(|(s, _)| regex::escape(&(*s as char).to_string()))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let lo = fractions.iter().flatten().map(|f| f.1).min().unwrap_or(1);
        let hi = fractions.iter().flatten().map(|f| f.1).max().unwrap_or(9);
        let digits = if lo == hi {
            format!(r"\d{{{lo}}}")
        } else {
            format!(r"\d{{{lo},{hi}}}")
        };
        let optional = if fractions.contains(&None) { "?" } else { "" };
        suffix.push_str(&format!("(?:[{seps}]{digits}){optional}"));
    }
    if one_zone.is_none() && zones.iter().any(Option::is_some) {
        let mut kinds: Vec<&str> = hits
            .iter()
            .filter_map(|h| h.zone.map(Zone::regex))
            .collect();
        kinds.sort();
        kinds.dedup();
        let optional = if zones.contains(&None) { "?" } else { "" };
        suffix.push_str(&format!("(?:{}){optional}", kinds.join("|")));
    }
    let core = format_regex(&fmt);
    // A date or a time alone would also match inside a date-time: anchor it to the text
    // that precedes every instance (`took 00:01:05`, `expires=2024-01-05`) when there is one.
    let context = if fam.alone {
        common_context(hits, events)
    } else {
        String::new()
    };
    let regex = if !context.is_empty() {
        format!(r"{}({core}){suffix}", regex::escape(&context))
    } else if suffix.is_empty() {
        format!(r"\b{core}")
    } else {
        format!(r"\b({core}){suffix}")
    };
    let mut what = format!("{} timestamp", fam.name);
    if static_fraction {
        what.push_str(" (fraction kept as written)");
    }
    TokenPlan {
        regex,
        replacement: Replacement::Timestamp(fmt),
        what,
        count: hits.len(),
        events: 0,
    }
}

/// Keys seen, hits, events hit and whether a fraction followed, per (milliseconds?, JSON?).
type EpochGroup = (Vec<String>, usize, Vec<usize>, bool);

/// A key whose name says it holds a time (`time`, `_time`, `ts`, `timestamp`, `start`,
/// `created_at`, `lastModified`, ...).
fn is_time_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    let k = k.rsplit('.').next().unwrap_or(&k);
    [
        "time", "date", "epoch", "stamp", "start", "end", "created", "updated", "modified",
        "expire",
    ]
    .iter()
    .any(|w| k.contains(w))
        || ["ts", "t", "at", "when"].contains(&k)
        || k.ends_with("_ts")
        || k.ends_with("_at")
        || key.ends_with("At")
        || key.ends_with("Ts")
}

/// Epoch seconds (10 digits) and milliseconds (13 digits) as the value of a key.
fn epoch_tokens(
    events: &[String],
    claims: &mut Claims,
    times: &mut [Option<(usize, i64)>],
) -> Vec<(TokenPlan, usize)> {
    static KEYED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?:"([A-Za-z_][\w.\-]*)"\s*:\s*"?|\b([A-Za-z_][\w.\-]*)="?)(\d{13}|\d{10})(\.\d{1,9})?"#)
            .expect("epoch regex")
    });
    // (milliseconds?, json?) -> keys, hits
    let mut groups: std::collections::BTreeMap<(bool, bool), EpochGroup> = Default::default();
    for (ev, text) in events.iter().enumerate() {
        for c in KEYED.captures_iter(text) {
            let v = c.get(3).expect("value group");
            if text
                .as_bytes()
                .get(v.end())
                .is_some_and(u8::is_ascii_alphanumeric)
            {
                continue;
            }
            let secs: i64 = v.as_str()[..10].parse().unwrap_or(0);
            if !(946_684_800..=2_208_988_800).contains(&secs)
                || !claims.is_free(ev, v.start(), v.end())
            {
                continue;
            }
            let json = c.get(1).is_some();
            let key = c.get(1).or(c.get(2)).expect("key").as_str().to_string();
            if !is_time_key(&key) {
                continue;
            }
            let ms = v.len() == 13;
            let g = groups.entry((ms, json)).or_default();
            if !g.0.contains(&key) {
                g.0.push(key);
            }
            g.1 += 1;
            g.2.push(ev);
            g.3 |= c.get(4).is_some();
            let end = c.get(4).map_or(v.end(), |f| f.end());
            claims.claim(ev, v.start(), end);
            let slot = &mut times[ev];
            if slot.is_none_or(|(s, _)| v.start() < s) {
                *slot = Some((v.start(), secs));
            }
        }
    }
    groups
        .into_iter()
        .map(|((ms, json), (keys, count, evs, fraction))| {
            let keys: Vec<String> = keys.iter().map(|k| regex::escape(k)).collect();
            let keys = keys.join("|");
            let lead = if json {
                format!(r#""(?:{keys})"\s*:\s*"?"#)
            } else {
                format!(r#"\b(?:{keys})="?"#)
            };
            let tail = if ms { r"\d{3}" } else { "" };
            let frac = if fraction { r"(?:\.\d{1,9})?" } else { "" };
            let covered = evs.iter().collect::<std::collections::BTreeSet<_>>().len();
            (
                TokenPlan {
                    regex: format!(r"{lead}(\d{{10}}){tail}{frac}"),
                    replacement: Replacement::Timestamp("%s".into()),
                    what: format!(
                        "epoch {} timestamp",
                        if ms { "milliseconds" } else { "seconds" }
                    ),
                    count,
                    events: 0,
                },
                covered,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(lines: &[&str]) -> Vec<(String, String)> {
        let events: Vec<String> = lines.iter().map(|l| format!("{l}\n")).collect();
        let mut claims = Claims::new(events.len());
        detect(&events, &mut claims)
            .tokens
            .into_iter()
            .map(|t| match t.replacement {
                Replacement::Timestamp(f) => (f, t.regex),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn formats_round_trip() {
        for (text, want) in [
            (
                "2024-01-05T10:11:12.123456+01:00 x",
                "%Y-%m-%dT%H:%M:%S.%f%:z",
            ),
            ("2024-01-05T10:11:12Z x", "%Y-%m-%dT%H:%M:%SZ"),
            ("<13>Jan  5 10:11:12 host app: x", "%b %e %H:%M:%S"),
            ("Jan 15 10:11:12 host", "%b %d %H:%M:%S"),
            (
                "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET /\"",
                "%d/%b/%Y:%H:%M:%S %z",
            ),
            ("at 01/31/2024 10:11:12 PM", "%m/%d/%Y %I:%M:%S %p"),
            ("at 31/01/2024 22:11:12", "%d/%m/%Y %H:%M:%S"),
            ("on 05-Jan-2024 x", "%d-%b-%Y"),
            ("time=1700000000 x", "%s"),
            ("{\"ts\": 1700000000123}", "%s"),
        ] {
            let f = found(&[text]);
            assert_eq!(f.len(), 1, "{text}: {f:?}");
            assert_eq!(f[0].0, want, "{text}");
            assert!(
                Regex::new(&f[0].1).unwrap().is_match(text),
                "{text}: {}",
                f[0].1
            );
        }
    }

    #[test]
    fn milliseconds_stay_outside_the_group() {
        let f = found(&["2024-01-05 10:11:12,345 INFO x"]);
        assert_eq!(f[0].0, "%Y-%m-%d %H:%M:%S");
        let re = Regex::new(&f[0].1).unwrap();
        let c = re.captures("2024-01-05 10:11:12,345 INFO").unwrap();
        assert_eq!(&c[1], "2024-01-05 10:11:12");
    }

    #[test]
    fn not_timestamps() {
        for text in [
            "version 1.2.3 build 20241399999999",
            "id=12345678901234567",
            "2024-13-45 and 25:61:99",
            "count=1234567890 x",
        ] {
            assert!(found(&[text]).is_empty(), "{text}");
        }
    }

    #[test]
    fn a_time_alone_is_anchored_to_its_context() {
        let f = found(&[
            "2024-01-05 10:11:12 job took 00:01:05",
            "2024-01-05 10:11:13 job took 00:02:00",
        ]);
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(
            f[1],
            (
                "%H:%M:%S".to_string(),
                r"job took (\d{2}:\d{2}:\d{2})".to_string()
            )
        );
    }

    #[test]
    fn every_timestamp_of_an_event() {
        let f =
            found(&["2024-01-05T10:11:12Z start=Jan 05 10:11:12 end=05/Jan/2024:10:11:13 +0000"]);
        assert_eq!(f.len(), 3, "{f:?}");
    }
}
