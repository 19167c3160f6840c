//! Turns a rendered jinja template into events: the text is a stream of JSON objects separated
//! by whitespace, one per event, each with `_raw` and usually `_time`.
//!
//! Like Eventgen's `ujson`, raw control characters (newlines, tabs) inside JSON strings are
//! accepted, so multi-line `_raw` values can be written literally in templates.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::timing::MICROS_PER_SEC;
use crate::timing::Micros;

/// One event from a template: `_raw`, `_time` (epoch seconds in the template; `None` if absent
/// or not numeric, for the caller to stamp) and the optional metadata keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JinjaEvent {
    pub raw: String,
    pub time: Option<Micros>,
    pub host: Option<String>,
    pub source: Option<String>,
    pub sourcetype: Option<String>,
    pub index: Option<String>,
}

/// [`JinjaEvent`] borrowed from the rendered text (owned only where a JSON string had escapes).
#[derive(Debug)]
pub struct JinjaEventRef<'a> {
    pub raw: Cow<'a, str>,
    pub time: Option<Micros>,
    pub host: Option<Cow<'a, str>>,
    pub source: Option<Cow<'a, str>>,
    pub sourcetype: Option<Cow<'a, str>>,
    pub index: Option<Cow<'a, str>>,
}

impl JinjaEventRef<'_> {
    pub fn to_owned(&self) -> JinjaEvent {
        let own = |v: &Option<Cow<'_, str>>| v.as_deref().map(str::to_string);
        JinjaEvent {
            raw: self.raw.to_string(),
            time: self.time,
            host: own(&self.host),
            source: own(&self.source),
            sourcetype: own(&self.sourcetype),
            index: own(&self.index),
        }
    }
}

/// How much of an offending chunk an error message quotes.
const EXCERPT_CHARS: usize = 120;

/// Parses `rendered` and hands each event to `each`, borrowing from the text where it can. On
/// the first bad chunk, returns an error naming `template` and quoting the chunk; the events
/// before it have already been handed over.
///
/// Most templates print no raw control characters inside strings, so the text is parsed as it
/// is; only when that fails is the rest (from the failing chunk on) escaped and parsed again.
pub fn parse_events(
    rendered: &str,
    template: &str,
    each: &mut dyn FnMut(JinjaEventRef<'_>),
) -> Result<(), String> {
    let mut index = 0usize;
    let (offset, err) = match parse_stream(rendered, template, &mut index, each)? {
        None => return Ok(()),
        Some(failed) => failed,
    };
    let rest = &rendered[offset..];
    match escape_controls_in_strings(rest) {
        Cow::Borrowed(_) => Err(not_json(template, &err, rest)),
        Cow::Owned(escaped) => match parse_stream(&escaped, template, &mut index, each)? {
            None => Ok(()),
            Some((offset, err)) => Err(not_json(template, &err, &escaped[offset..])),
        },
    }
}

/// Parses the objects of `text`, numbering them on from `index`. `Ok(Some((offset, error)))`
/// when the chunk at `offset` is not JSON; `Err` when an object is not an event.
fn parse_stream(
    text: &str,
    template: &str,
    index: &mut usize,
    each: &mut dyn FnMut(JinjaEventRef<'_>),
) -> Result<Option<(usize, serde_json::Error)>, String> {
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Chunk<'_>>();
    loop {
        let offset = stream.byte_offset();
        match stream.next() {
            None => return Ok(None),
            Some(Ok(chunk)) => {
                *index += 1;
                let end = stream.byte_offset();
                each(to_event(&chunk).map_err(|what| {
                    format!(
                        "{template}: event {index} {what}: {}",
                        excerpt(&text[offset..end])
                    )
                })?);
            }
            Some(Err(err)) => return Ok(Some((offset, err))),
        }
    }
}

fn not_json(template: &str, err: &serde_json::Error, rest: &str) -> String {
    format!(
        "{template}: output is not a stream of JSON objects ({}): {}",
        strip_position(err),
        excerpt(rest)
    )
}

/// One JSON object of the output: the keys an event uses, as unparsed JSON borrowed from the
/// text; every other key is skipped without being built. A repeated key keeps its last value,
/// as Python's `json` does.
#[derive(Default)]
struct Chunk<'a> {
    raw: Option<&'a RawValue>,
    time: Option<&'a RawValue>,
    host: Option<&'a RawValue>,
    source: Option<&'a RawValue>,
    sourcetype: Option<&'a RawValue>,
    index: Option<&'a RawValue>,
}

impl<'de> Deserialize<'de> for Chunk<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ChunkVisitor)
    }
}

struct ChunkVisitor;

impl<'de> Visitor<'de> for ChunkVisitor {
    type Value = Chunk<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Chunk<'de>, A::Error> {
        let mut chunk = Chunk::default();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            let slot = match key.0.as_ref() {
                "_raw" => &mut chunk.raw,
                "_time" => &mut chunk.time,
                "host" => &mut chunk.host,
                "source" => &mut chunk.source,
                "sourcetype" => &mut chunk.sourcetype,
                "index" => &mut chunk.index,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            *slot = Some(map.next_value::<&'de RawValue>()?);
        }
        Ok(chunk)
    }
}

/// An object key, borrowed unless it has escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

fn to_event<'a>(chunk: &Chunk<'a>) -> Result<JinjaEventRef<'a>, &'static str> {
    let raw = chunk.raw.and_then(text).ok_or("has no \"_raw\" field")?;
    let time = chunk
        .time
        .and_then(|t| {
            // A JSON string holding a number, or a JSON number (true, objects and the like
            // do not parse).
            if t.get().starts_with('"') {
                text(t)?.trim().parse::<f64>().ok()
            } else {
                t.get().parse::<f64>().ok()
            }
        })
        .filter(|secs| secs.is_finite())
        .map(|secs| (secs * MICROS_PER_SEC as f64).round() as i64);
    Ok(JinjaEventRef {
        raw,
        time,
        host: chunk.host.and_then(text),
        source: chunk.source.and_then(text),
        sourcetype: chunk.sourcetype.and_then(text),
        index: chunk.index.and_then(text),
    })
}

/// A field's text: a JSON string's value (borrowed when it has no escapes), `None` for null,
/// and any other value printed as compact JSON.
fn text(json: &RawValue) -> Option<Cow<'_, str>> {
    let s = json.get();
    if s == "null" {
        return None;
    }
    if let Some(inner) = s.strip_prefix('"').and_then(|r| r.strip_suffix('"'))
        && !inner.contains('\\')
    {
        return Some(Cow::Borrowed(inner));
    }
    match serde_json::from_str::<serde_json::Value>(s) {
        Ok(serde_json::Value::String(v)) => Some(Cow::Owned(v)),
        Ok(other) => Some(Cow::Owned(other.to_string())),
        // Nested deeper than serde_json builds values (128 levels): the JSON as written.
        Err(_) => Some(Cow::Borrowed(s)),
    }
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
    use crate::generate::jinja::JinjaEvent;

    fn parse(text: &str) -> (Vec<JinjaEvent>, Result<(), String>) {
        let mut out = Vec::new();
        let res = parse_events(text, "t.j2", &mut |e| out.push(e.to_owned()));
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
    fn escapes_repeated_keys_and_non_string_values() {
        let (events, res) = parse(
            r#"{"_raw": "a\"b\u00e9\\", "host": "h1", "host": "h2", "n": {"x": [1, 2]}, "_time": 1.5}
               {"_raw": 12.50, "source": {"k": [1, "v"]}, "index": null, "_time": "  7 ", "sourcetype": true}
               {"_raw": "x", "_time": false}"#,
        );
        res.unwrap();
        assert_eq!(events.len(), 3);
        assert_eq!(events[0].raw, "a\"b\u{e9}\\");
        assert_eq!(events[0].host.as_deref(), Some("h2"));
        assert_eq!(events[0].time, Some(1_500_000));
        assert_eq!(events[1].raw, "12.5");
        assert_eq!(events[1].source.as_deref(), Some(r#"{"k":[1,"v"]}"#));
        assert_eq!(events[1].index, None);
        assert_eq!(events[1].time, Some(7_000_000));
        assert_eq!(events[1].sourcetype.as_deref(), Some("true"));
        assert_eq!(events[2].time, None);
    }

    #[test]
    fn raw_newlines_inside_strings_are_accepted() {
        let (events, res) = parse("{\"_time\":\"1\", \"_raw\":\"line1\n    line2\tx\"}");
        res.unwrap();
        assert_eq!(events[0].raw, "line1\n    line2\tx");
    }

    #[test]
    fn a_raw_newline_after_clean_events_is_escaped_from_there_on() {
        let (events, res) =
            parse("{\"_raw\":\"one\"}\n{\"_raw\":\"two\nlines\"}\n{\"_raw\":\"three\"}\n{\"x\":1}");
        let raws: Vec<&str> = events.iter().map(|e| e.raw.as_str()).collect();
        assert_eq!(raws, ["one", "two\nlines", "three"]);
        // Events are numbered across the escaped rest.
        let err = res.unwrap_err();
        assert!(
            err.starts_with("t.j2: event 4 has no \"_raw\" field"),
            "{err}"
        );
    }

    #[test]
    fn a_deeply_nested_raw_is_kept_as_written() {
        let nested = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        let (events, res) = parse(&format!("{{\"_raw\": {nested}}}"));
        res.unwrap();
        assert_eq!(events[0].raw, nested);
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
