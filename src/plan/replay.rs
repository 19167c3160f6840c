//! Replay at plan time: each event's original time (from the first token whose regex matches
//! and whose format parses it, or from `timeField`), turned into offsets from the first event,
//! scaled by `timeMultiple`. Unparsable and out-of-order events are reported once, never
//! dropped.

use chrono::{Local, NaiveDateTime, TimeZone};

use super::sample::RawEvent;
use crate::problem::{Location, Problem};
use crate::timing::strftime::strptime_in_year;
use crate::timing::{MICROS_PER_SEC, Micros, Tz};
use crate::token::{Replacement, Token};

/// When each event of a replay pass is sent, relative to the start of the pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayPlan {
    /// Offset of event i from event 0 (already scaled by `timeMultiple`), non-decreasing.
    pub offsets: Vec<Micros>,
    /// Which format of a `replaytimestamp` list matched event i's original text.
    pub formats: Vec<usize>,
}

impl ReplayPlan {
    /// Offset of the last event: the length of a pass.
    pub fn span(&self) -> Micros {
        self.offsets.last().copied().unwrap_or(0)
    }
}

fn to_instant(naive: NaiveDateTime, offset: Option<chrono::FixedOffset>, tz: Tz) -> Option<Micros> {
    let t = match (offset, tz) {
        (Some(off), _) | (None, Tz::Fixed(off)) => {
            off.from_local_datetime(&naive).single()?.timestamp_micros()
        }
        (None, Tz::Local) => Local
            .from_local_datetime(&naive)
            .earliest()?
            .timestamp_micros(),
    };
    Some(t)
}

/// The formats a token offers for reading original times.
fn formats_of(tok: &Token) -> Vec<String> {
    match &tok.replacement {
        Replacement::ReplayTimestamp(list) if list.len() > 1 => {
            super::tokens::format_list(&tok.replacement_text).unwrap_or_default()
        }
        _ => vec![tok.replacement_text.clone()],
    }
}

/// Parses an event's original time: every token in order, its first match (group 1 when
/// present) read with its replacement as a strptime format.
pub fn parse_time(text: &str, tokens: &[Token], tz: Tz, year: i32) -> Option<(Micros, usize)> {
    for tok in tokens {
        let Some(found) = tok.regex.first_capture(text) else {
            continue;
        };
        for (i, f) in formats_of(tok).iter().enumerate() {
            if let Some((naive, off)) = strptime_in_year(f, found.trim(), year)
                && let Some(t) = to_instant(naive, off, tz)
            {
                return Some((t, i));
            }
        }
    }
    // Eventgen needs the format to read the original text exactly; we also accept the usual
    // shapes (a `%f` format against text without fractions, epochs, ISO 8601).
    for tok in tokens {
        if !matches!(
            tok.replacement,
            Replacement::Timestamp(_) | Replacement::ReplayTimestamp(_)
        ) {
            continue;
        }
        if let Some(found) = tok.regex.first_capture(text)
            && let Some(t) = parse_plain(found, tz, year)
        {
            return Some((t, 0));
        }
    }
    None
}

/// A time column without a matching token: epoch seconds or ISO 8601.
fn parse_plain(text: &str, tz: Tz, year: i32) -> Option<Micros> {
    let t = text.trim();
    if let Ok(secs) = t.parse::<f64>() {
        return Some((secs * MICROS_PER_SEC as f64).round() as Micros);
    }
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(t) {
        return Some(dt.timestamp_micros());
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S.%f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M:%S,%f",
        "%Y-%m-%d %H:%M:%S,%f",
        "%d/%b/%Y:%H:%M:%S",
        "%d/%b/%Y:%H:%M:%S.%f",
        "%b %d %H:%M:%S",
        "%m/%d/%Y %H:%M:%S",
        "%Y-%m-%d %H:%M:%S.%f",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S.%f%z",
    ] {
        if let Some((naive, off)) = strptime_in_year(f, t, year) {
            return to_instant(naive, off, tz);
        }
    }
    None
}

/// Builds the pacing of a replay sample and reports what could not be read.
#[allow(clippy::too_many_arguments)]
pub fn build(
    events: &[RawEvent],
    tokens: &[Token],
    time_field: &str,
    tz: Tz,
    time_multiple: f64,
    year: i32,
    location: &Location,
    stanza: &str,
    problems: &mut Vec<Problem>,
) -> ReplayPlan {
    let mut times: Vec<Option<(Micros, usize)>> = Vec::with_capacity(events.len());
    for e in events {
        let field = if time_field == "_raw" {
            None
        } else {
            e.time_field.as_deref()
        };
        let t = match field {
            Some(v) => {
                parse_time(v, tokens, tz, year).or_else(|| parse_plain(v, tz, year).map(|t| (t, 0)))
            }
            None => parse_time(&e.text, tokens, tz, year),
        };
        times.push(t);
    }
    let bad: Vec<&RawEvent> = events
        .iter()
        .zip(&times)
        .filter(|(_, t)| t.is_none())
        .map(|(e, _)| e)
        .collect();
    if let Some(first) = bad.first() {
        problems.push(
            Problem::warning(format!(
                "replay: {} of {} events have no time that a token's regex and format can read (first at line {}); they are sent with the time of the event before them",
                bad.len(),
                events.len(),
                first.line
            ))
            .located(location)
            .stanza(stanza),
        );
    }
    // Events before the first readable time take that time.
    let first_known = times.iter().flatten().next().map(|t| t.0).unwrap_or(0);
    let tm = if time_multiple > 0.0 {
        time_multiple
    } else {
        0.0
    };
    let mut offsets = Vec::with_capacity(events.len());
    let mut formats = Vec::with_capacity(events.len());
    let mut prev = first_known;
    let mut offset: Micros = 0;
    let mut unsorted: Option<u32> = None;
    for (e, t) in events.iter().zip(&times) {
        let (cur, fmt) = t.unwrap_or((prev, 0));
        let gap = cur - prev;
        if gap < 0 && unsorted.is_none() {
            unsorted = Some(e.line);
        }
        // Saturating: a span past the longest duration is reported below.
        let stretched = ((gap.max(0) as f64) * tm).round() as Micros;
        offset = offset.saturating_add(stretched);
        offsets.push(offset);
        formats.push(fmt);
        prev = cur;
    }
    if let Some(line) = unsorted {
        problems.push(
            Problem::warning(format!(
                "replay: the sample is not in time order (first at line {line}); events earlier than the one before them are sent at once"
            ))
            .located(location)
            .stanza(stanza),
        );
    }
    let longest = crate::timing::limits::MAX_DURATION_SECS * crate::timing::MICROS_PER_SEC;
    if offset > longest {
        problems.push(
            Problem::error(format!(
                "replay: one pass would last {} s (the sample's time span times timeMultiple \
                 {}), more than the longest duration, {} s",
                crate::timing::limits::number(offset as f64 / 1e6),
                crate::timing::limits::number(tm),
                crate::timing::limits::MAX_DURATION_SECS
            ))
            .located(location)
            .stanza(stanza)
            .key("timeMultiple"),
        );
    }
    ReplayPlan { offsets, formats }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timing::strftime::TimeFormat;
    use crate::token::TokenRegex;

    fn tok(re: &str, fmt: &str, replay: bool) -> Token {
        Token {
            number: 0,
            pattern: re.into(),
            replacement_text: fmt.into(),
            regex: TokenRegex::compile(re).unwrap(),
            replacement: if replay {
                match super::super::tokens::format_list(fmt) {
                    Some(l) => Replacement::ReplayTimestamp(
                        l.iter().map(|f| TimeFormat::compile(f)).collect(),
                    ),
                    None => Replacement::ReplayTimestamp(vec![TimeFormat::compile(fmt)]),
                }
            } else {
                Replacement::Timestamp(TimeFormat::compile(fmt))
            },
            counter: None,
        }
    }

    fn ev(text: &str, line: u32) -> RawEvent {
        RawEvent {
            text: text.into(),
            line,
            meta: None,
            time_field: None,
        }
    }

    #[test]
    fn offsets_follow_the_original_gaps() {
        let tz = Tz::parse("+0000").unwrap();
        let tokens = [tok(
            r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}",
            "%Y-%m-%d %H:%M:%S",
            true,
        )];
        let events = [
            ev("2020-01-01 00:00:00 a\n", 1),
            ev("2020-01-01 00:00:02 b\n", 2),
            ev("2020-01-01 00:00:03 c\n", 3),
            ev("2020-01-01 00:00:10 d\n", 4),
        ];
        let mut p = Vec::new();
        let plan = build(
            &events,
            &tokens,
            "_raw",
            tz,
            0.5,
            2020,
            &Location::default(),
            "s",
            &mut p,
        );
        assert_eq!(plan.offsets, [0, 1_000_000, 1_500_000, 5_000_000]);
        assert!(p.is_empty());
    }

    #[test]
    fn unparsable_and_unsorted_events_are_kept_and_reported() {
        let tz = Tz::parse("+0000").unwrap();
        let tokens = [tok(r"^\S+", "%s", false)];
        let events = [
            ev("100 a\n", 1),
            ev("xx b\n", 2),
            ev("103 c\n", 3),
            ev("101 d\n", 4),
        ];
        let mut p = Vec::new();
        let plan = build(
            &events,
            &tokens,
            "_raw",
            tz,
            1.0,
            2020,
            &Location::default(),
            "s",
            &mut p,
        );
        assert_eq!(plan.offsets, [0, 0, 3_000_000, 3_000_000]);
        assert_eq!(p.len(), 2);
        assert!(p[0].message.contains("first at line 2"), "{}", p[0]);
        assert!(
            p[1].message.contains("not in time order (first at line 4)"),
            "{}",
            p[1]
        );
    }

    #[test]
    fn format_lists_remember_which_format_matched() {
        let tz = Tz::parse("+0000").unwrap();
        let tokens = [tok(
            r"^[^|]+",
            r#"["%Y-%m-%d %H:%M:%S", "%b %d %H:%M:%S"]"#,
            true,
        )];
        let events = [
            ev("2020-03-01 10:00:00|a\n", 1),
            ev("Mar 01 10:00:05|b\n", 2),
        ];
        let mut p = Vec::new();
        let plan = build(
            &events,
            &tokens,
            "_raw",
            tz,
            1.0,
            2020,
            &Location::default(),
            "s",
            &mut p,
        );
        assert_eq!(plan.formats, [0, 1]);
        assert_eq!(plan.offsets, [0, 5_000_000]);
    }
}
