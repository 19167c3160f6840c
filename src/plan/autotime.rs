//! `autotimestamp`: find the timestamps in a sample with a list of `[regex, strftime format]`
//! pairs and add a `timestamp` token for each pair that reads one. Eventgen's list has two
//! entries whose format cannot match their regex and one shadowed by another; ours fixes them.

use crate::timing::strftime::{TimeFormat, strptime_in_year};
use crate::token::{Replacement, Token, TokenRegex};

use super::sample::RawEvent;

/// Eventgen's default list, with its three broken entries fixed (the `.%f` form first, the
/// two slash-date entries given formats that can read them).
const DEFAULT: &[(&str, &str)] = &[
    (
        r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}",
        "%Y-%m-%d %H:%M:%S.%f",
    ),
    (r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", "%Y-%m-%d %H:%M:%S"),
    (
        r"\d{1,2}\/\w{3}\/\d{4}\s\d{2}:\d{2}:\d{2}:\d{1,3}",
        "%d/%b/%Y %H:%M:%S:%f",
    ),
    (
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}",
        "%Y-%m-%dT%H:%M:%S.%f",
    ),
    (
        r"\d{1,2}/\d{2}/\d{2}\s\d{1,2}:\d{2}:\d{2}",
        "%m/%d/%y %H:%M:%S",
    ),
    (r"\d{2}-\d{2}-\d{4} \d{2}:\d{2}:\d{2}", "%m-%d-%Y %H:%M:%S"),
    (
        r"\w{3} \w{3} +\d{1,2} \d{2}:\d{2}:\d{2}",
        "%a %b %d %H:%M:%S",
    ),
    (
        r"\w{3} \w{3} \d{2} \d{4} \d{2}:\d{2}:\d{2}",
        "%a %b %d %Y %H:%M:%S",
    ),
    (r"^(\w{3}\s+\d{1,2}\s\d{2}:\d{2}:\d{2})", "%b %d %H:%M:%S"),
    (
        r"(\w{3}\s+\d{1,2}\s\d{1,2}:\d{1,2}:\d{1,2})",
        "%b %d %H:%M:%S",
    ),
    (
        r"(\w{3}\s\d{1,2}\s\d{1,4}\s\d{1,2}:\d{1,2}:\d{1,2})",
        "%b %d %Y %H:%M:%S",
    ),
    (
        r"\,\d{2}\/\d{2}\/\d{2,4}\s+\d{2}:\d{2}:\d{2}\s+[AaPp][Mm]\,",
        ",%m/%d/%Y %I:%M:%S %p,",
    ),
    (r"^\w{3}\s+\d{2}\s+\d{2}:\d{2}:\d{2}", "%b %d %H:%M:%S"),
    (r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}", "%m/%d/%Y %H:%M:%S"),
    (
        r"^\d{2}\/\d{2}\/\d{2,4}\s+\d{2}:\d{2}:\d{2}\s+[AaPp][Mm]",
        "%m/%d/%Y %I:%M:%S %p",
    ),
    (
        r"\d{2}\/\d{2}\/\d{4}\s\d{2}:\d{2}:\d{2}",
        "%m/%d/%Y %H:%M:%S",
    ),
    (r#"\"timestamp\":\s\"(\d+)"#, "%s"),
    (
        r"\d{2}\/\w+\/\d{4}\s\d{2}:\d{2}:\d{2}:\d{3}",
        "%d/%b/%Y %H:%M:%S:%f",
    ),
    (r#"\"created\":\s(\d+)"#, "%s"),
    (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", "%Y-%m-%dT%H:%M:%S"),
    (
        r"\d{1,2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2}:\d{1,3}",
        "%d/%b/%Y:%H:%M:%S:%f",
    ),
    (
        r"\d{1,2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2}",
        "%d/%b/%Y:%H:%M:%S",
    ),
];

pub fn default_list() -> Vec<(String, String)> {
    DEFAULT
        .iter()
        .map(|(r, f)| (r.to_string(), f.to_string()))
        .collect()
}

/// Parses the `autotimestamps` JSON list of `[regex, format]` pairs.
pub fn parse_list(text: &str) -> Result<Vec<(String, String)>, String> {
    let pairs: Vec<(String, String)> = serde_json::from_str(text)
        .map_err(|e| format!("expected a JSON list of [regex, format] pairs, {e}"))?;
    Ok(pairs)
}

/// The timestamp tokens the list finds in the events, each pair used at most once.
pub fn detect(events: &[RawEvent], list: &[(String, String)]) -> Vec<Token> {
    let mut left: Vec<(TokenRegex, &str, &str)> = list
        .iter()
        .filter_map(|(r, f)| {
            TokenRegex::compile(r)
                .ok()
                .map(|re| (re, r.as_str(), f.as_str()))
        })
        .collect();
    let mut out = Vec::new();
    let mut shapes: Vec<String> = Vec::new();
    for e in events {
        // Like Eventgen, one detection per punctuation shape of event.
        let shape: String = e
            .text
            .chars()
            .filter(|c| c.is_ascii_punctuation())
            .collect();
        if shapes.contains(&shape) {
            continue;
        }
        shapes.push(shape);
        let mut i = 0;
        while i < left.len() {
            let (re, pattern, format) = &left[i];
            let hit = re
                .first_capture(&e.text)
                .is_some_and(|found| strptime_in_year(format, found, 2000).is_some());
            if hit {
                out.push(Token {
                    number: 0,
                    pattern: pattern.to_string(),
                    replacement_text: format.to_string(),
                    regex: re.clone(),
                    replacement: Replacement::Timestamp(TimeFormat::compile(format)),
                    counter: None,
                });
                left.remove(i);
                break;
            } else {
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(t: &str) -> RawEvent {
        RawEvent {
            text: t.into(),
            line: 1,
            meta: None,
            time_field: None,
        }
    }

    #[test]
    fn finds_common_shapes_once() {
        let events = [
            ev("2024-01-02 03:04:05.678 first\n"),
            ev("2024-01-02 03:04:06.000 again\n"),
            ev("10.0.0.1 - - [02/Jan/2024:03:04:05:123] GET\n"),
        ];
        let toks = detect(&events, &default_list());
        let pats: Vec<&str> = toks.iter().map(|t| t.replacement_text.as_str()).collect();
        assert_eq!(pats, ["%Y-%m-%d %H:%M:%S.%f", "%d/%b/%Y:%H:%M:%S:%f"]);
    }

    #[test]
    fn fixed_slash_date_entry_now_matches() {
        let toks = detect(&[ev("at 01/02/2024 03:04:05 x\n")], &default_list());
        assert_eq!(toks.len(), 1);
        assert_eq!(toks[0].replacement_text, "%m/%d/%Y %H:%M:%S");
    }
}
