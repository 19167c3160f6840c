//! Turns a rendered jinja template into events: the text is a stream of JSON objects separated
//! by whitespace, one per event, each with `_raw` and usually `_time`.
//!
//! Like Eventgen's `ujson`, raw control characters (newlines, tabs) inside JSON strings are
//! accepted, so multi-line `_raw` values can be written literally in templates.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::JinjaEvent;
use crate::timing::MICROS_PER_SEC;

/// How much of an offending chunk an error message quotes.
const EXCERPT_CHARS: usize = 120;

/// Parses `rendered` and appends its events to `out`. On the first bad chunk, returns an error
/// naming `template` and quoting the chunk; the events before it are already in `out`.
pub fn parse_events(
    rendered: &str,
    template: &str,
    out: &mut Vec<JinjaEvent>,
) -> Result<(), String> {
    let text = escape_controls_in_strings(rendered);
    let mut stream = serde_json::Deserializer::from_str(&text).into_iter::<Map<String, Value>>();
    let mut index = 0usize;
    loop {
        let offset = stream.byte_offset();
        match stream.next() {
            None => return Ok(()),
            Some(Ok(map)) => {
                index += 1;
                let end = stream.byte_offset();
                out.push(to_event(map).map_err(|what| {
                    format!(
                        "{template}: event {index} {what}: {}",
                        excerpt(&text[offset..end])
                    )
                })?);
            }
            Some(Err(err)) => {
                return Err(format!(
                    "{template}: output is not a stream of JSON objects ({}): {}",
                    strip_position(&err),
                    excerpt(&text[offset..])
                ));
            }
        }
    }
}

fn to_event(mut map: Map<String, Value>) -> Result<JinjaEvent, &'static str> {
    let raw = match map.remove("_raw") {
        Some(Value::String(s)) => s,
        Some(Value::Null) | None => return Err("has no \"_raw\" field"),
        Some(other) => other.to_string(),
    };
    let time = match map.get("_time") {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|secs| secs.is_finite())
    .map(|secs| (secs * MICROS_PER_SEC as f64).round() as i64);
    let mut text = |key: &str| match map.remove(key) {
        Some(Value::String(s)) => Some(s),
        Some(Value::Null) | None => None,
        Some(other) => Some(other.to_string()),
    };
    Ok(JinjaEvent {
        raw,
        time,
        host: text("host"),
        source: text("source"),
        sourcetype: text("sourcetype"),
        index: text("index"),
    })
}

/// serde_json's message without its "at line X column Y" (positions in the escaped text would
/// mislead).
fn strip_position(err: &serde_json::Error) -> String {
    let msg = err.to_string();
    match msg.rfind(" at line ") {
        Some(p) => msg[..p].to_string(),
        None => msg,
    }
}

/// The start of `chunk` on one line, for messages.
fn excerpt(chunk: &str) -> String {
    let chunk = chunk.trim();
    let mut out: String = chunk
        .chars()
        .take(EXCERPT_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if out.len() < chunk.len() {
        out.push_str("...");
    }
    format!("`{out}`")
}

/// Escapes raw control characters that appear inside JSON string literals; everything else is
/// left as is. Borrows when there is nothing to escape.
fn escape_controls_in_strings(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut in_string = false;
    let mut escaped = false;
    let mut out: Option<String> = None;
    let mut copied = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            } else if b < 0x20 {
                let buf = out.get_or_insert_with(|| String::with_capacity(text.len() + 16));
                buf.push_str(&text[copied..i]);
                match b {
                    b'\n' => buf.push_str("\\n"),
                    b'\r' => buf.push_str("\\r"),
                    b'\t' => buf.push_str("\\t"),
                    _ => buf.push_str(&format!("\\u{b:04x}")),
                }
                copied = i + 1;
            }
        } else if b == b'"' {
            in_string = true;
        }
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut buf) => {
            buf.push_str(&text[copied..]);
            Cow::Owned(buf)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Vec<JinjaEvent>, Result<(), String>) {
        let mut out = Vec::new();
        let res = parse_events(text, "t.j2", &mut out);
        (out, res)
    }

    #[test]
    fn stream_of_objects_with_metadata() {
        let (events, res) = parse(
            " {\"_time\":\"1456.2\", \"_raw\":\"a\", \"host\":\"h\"}\n\n{\"_time\": 10, \"_raw\":\"b\", \
             \"source\":\"s\", \"sourcetype\":\"st\", \"index\":\"i\", \"extra\": 1}{\"_raw\":\"c\"}\n",
        );
        res.unwrap();
        assert_eq!(events.len(), 3);
        assert_eq!(events[0].raw, "a");
        assert_eq!(events[0].time, Some(1_456_200_000));
        assert_eq!(events[0].host.as_deref(), Some("h"));
        assert_eq!(events[1].time, Some(10_000_000));
        assert_eq!(events[1].source.as_deref(), Some("s"));
        assert_eq!(events[1].sourcetype.as_deref(), Some("st"));
        assert_eq!(events[1].index.as_deref(), Some("i"));
        assert_eq!(events[2].time, None);
        assert_eq!(events[2].host, None);
    }

    #[test]
    fn raw_newlines_inside_strings_are_accepted() {
        let (events, res) = parse("{\"_time\":\"1\", \"_raw\":\"line1\n    line2\tx\"}");
        res.unwrap();
        assert_eq!(events[0].raw, "line1\n    line2\tx");
    }

    #[test]
    fn non_numeric_time_is_left_to_the_caller() {
        let (events, res) = parse("{\"_time\": \"MockTimeBlock\", \"_raw\": \"x\"}");
        res.unwrap();
        assert_eq!(events[0].time, None);
    }

    #[test]
    fn missing_raw_is_an_error_after_earlier_events() {
        let (events, res) = parse("{\"_raw\":\"ok\"}\n{\"_time\":\"1\"}\n{\"_raw\":\"never\"}");
        assert_eq!(events.len(), 1);
        let err = res.unwrap_err();
        assert!(
            err.starts_with("t.j2: event 2 has no \"_raw\" field"),
            "{err}"
        );
    }

    #[test]
    fn bad_chunk_keeps_earlier_events_and_quotes_the_text() {
        let (events, res) =
            parse("{\"_raw\":\"one\"}\n{\"_raw\":\"two\"}\n<-- pass {\"_raw\":\"three\"}");
        assert_eq!(events.len(), 2);
        let err = res.unwrap_err();
        assert!(
            err.starts_with("t.j2: output is not a stream of JSON objects"),
            "{err}"
        );
        assert!(err.contains("<-- pass"), "{err}");
        let (events, res) = parse("[\"a\", \"b\"]");
        assert!(events.is_empty());
        assert!(res.unwrap_err().ends_with("`[\"a\", \"b\"]`"));
    }
}
