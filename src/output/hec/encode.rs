//! HEC JSON encoders, run in the generator workers: one event (text plus metadata) to one
//! `/event` JSON object appended to a buffer the caller owns.
//!
//! An event whose text is blank after trimming encodes to **nothing** (zero bytes): HEC rejects
//! a blank `event` with code 13 and would fail the whole request with it, so the payload builder
//! skips zero-length events and counts them as dropped. The same holds for a `metric_httpevent`
//! event whose text is not a JSON object with a `fields` object.

use crate::output::EventMeta;
use crate::output::bytes::{has_below, has_byte, trim_end, word_at};
use crate::timing::MICROS_PER_SEC;

/// Appends `{"time":<s.mmm>,"event":"<text>","host":..,"source":..,"sourcetype":..,"index":..}`.
/// The text loses its trailing whitespace; empty metadata fields are left out (as Eventgen does).
/// Appends nothing when the trimmed text is empty.
pub fn encode_event(meta: &EventMeta<'_>, raw: &[u8], out: &mut Vec<u8>) {
    write_event(meta.time, raw, out, |out| write_meta(meta, out));
}

/// [`encode_event`] with the metadata members already encoded ([`write_meta`]).
pub fn encode_event_with(time: i64, fields: &[u8], raw: &[u8], out: &mut Vec<u8>) {
    write_event(time, raw, out, |out| out.extend_from_slice(fields));
}

/// The event object, with `fields` writing the metadata members; nothing for an empty text.
fn write_event(time: i64, raw: &[u8], out: &mut Vec<u8>, fields: impl FnOnce(&mut Vec<u8>)) {
    let text = trim_end(raw);
    if text.is_empty() {
        return;
    }
    out.extend_from_slice(b"{\"time\":");
    write_time(time, out);
    out.extend_from_slice(b",\"event\":");
    write_json_str(text, out);
    fields(out);
    out.push(b'}');
}

/// Appends the `metric_httpevent` object Eventgen sends: the event text must be a JSON object
/// with a `fields` object; the result is
/// `{"time":..,"event":"metric","host":..,"source":..,"sourcetype":..,"index":..,"fields":{..}}`.
/// Returns `false` (appending nothing) when the text has no `fields` object.
pub fn encode_metric(meta: &EventMeta<'_>, raw: &[u8], out: &mut Vec<u8>) -> bool {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(trim_end(raw)) else {
        return false;
    };
    let Some(fields) = value.get("fields").filter(|f| f.is_object()) else {
        return false;
    };
    out.extend_from_slice(b"{\"time\":");
    write_time(meta.time, out);
    out.extend_from_slice(b",\"event\":\"metric\"");
    write_meta(meta, out);
    out.extend_from_slice(b",\"fields\":");
    if serde_json::to_writer(&mut *out, fields).is_err() {
        // Writing a `Value` into a Vec cannot fail; keep the object well formed regardless.
        out.extend_from_slice(b"{}");
    }
    out.push(b'}');
    true
}

/// The `host`, `source`, `sourcetype` and `index` members (those not empty), each with its
/// leading comma.
pub fn write_meta(meta: &EventMeta<'_>, out: &mut Vec<u8>) {
    for (key, value) in [
        (&b",\"host\":"[..], meta.host),
        (b",\"source\":", meta.source),
        (b",\"sourcetype\":", meta.sourcetype),
        (b",\"index\":", meta.index),
    ] {
        if !value.is_empty() {
            out.extend_from_slice(key);
            write_json_str(value.as_bytes(), out);
        }
    }
}

/// Epoch seconds with exactly three decimals (milliseconds, truncated toward the past).
pub fn write_time(t: i64, out: &mut Vec<u8>) {
    let secs = t.div_euclid(MICROS_PER_SEC);
    let millis = t.rem_euclid(MICROS_PER_SEC) / 1000;
    write_int(secs, out);
    out.push(b'.');
    out.push(b'0' + (millis / 100) as u8);
    out.push(b'0' + (millis / 10 % 10) as u8);
    out.push(b'0' + (millis % 10) as u8);
}

/// Appends a decimal integer without allocating.
pub fn write_int(v: i64, out: &mut Vec<u8>) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = v.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&buf[i..]);
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `bytes` as a JSON string: quotes, `\"` `\\`, the short escapes for `\n \r \t \b \f`,
/// `\u00XX` for other control characters, and U+FFFD for invalid UTF-8. Valid non-ASCII text is
/// copied as is (JSON is UTF-8).
pub fn write_json_str(bytes: &[u8], out: &mut Vec<u8>) {
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    if std::str::from_utf8(bytes).is_ok() {
        write_escaped(bytes, out);
        out.push(b'"');
        return;
    }
    for chunk in bytes.utf8_chunks() {
        write_escaped(chunk.valid().as_bytes(), out);
        if !chunk.invalid().is_empty() {
            out.extend_from_slice("\u{FFFD}".as_bytes());
        }
    }
    out.push(b'"');
}

/// Escapes valid UTF-8; copies runs that need no escaping in one go.
fn write_escaped(s: &[u8], out: &mut Vec<u8>) {
    let mut start = 0;
    let mut i = 0;
    while i < s.len() {
        // Skip eight bytes at a time while none is a control character, `"` or `\\`.
        while let Some(w) = word_at(s, i) {
            if has_below(w, 0x20) || has_byte(w, b'"') || has_byte(w, b'\\') {
                break;
            }
            i += 8;
        }
        let Some(&b) = s.get(i) else { break };
        i += 1;
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&s[start..i - 1]);
        if esc.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[(b >> 4) as usize]);
            out.push(HEX[(b & 0xf) as usize]);
        } else {
            out.extend_from_slice(esc);
        }
        start = i;
    }
    out.extend_from_slice(&s[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(time: i64) -> EventMeta<'static> {
        EventMeta {
            time,
            host: "web-01",
            source: "/var/log/x",
            sourcetype: "st",
            index: "main",
        }
    }

    fn event(m: &EventMeta<'_>, raw: &[u8]) -> String {
        let mut out = Vec::new();
        encode_event(m, raw, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn event_object_has_time_text_and_metadata() {
        assert_eq!(
            event(&meta(1_614_834_367_123_456), b"hello world \n"),
            r#"{"time":1614834367.123,"event":"hello world","host":"web-01","source":"/var/log/x","sourcetype":"st","index":"main"}"#
        );
    }

    #[test]
    fn empty_metadata_is_left_out() {
        let m = EventMeta {
            time: 5_000,
            host: "",
            source: "s",
            sourcetype: "",
            index: "",
        };
        assert_eq!(
            event(&m, b"x"),
            r#"{"time":0.005,"event":"x","source":"s"}"#
        );
    }

    #[test]
    fn negative_time_rounds_down() {
        let mut out = Vec::new();
        write_time(-1, &mut out);
        assert_eq!(out, b"-1.999");
    }

    #[test]
    fn escapes_quotes_backslashes_and_control_chars() {
        let s = event(&meta(0), b"a\"b\\c\nd\te\x01f\x1f\x7fg\r\x08\x0cz");
        assert!(s.contains(r#""event":"a\"b\\c\nd\te\u0001f\u001f"#), "{s}");
        assert!(s.contains("\u{7f}g\\r\\b\\fz\""), "{s}");
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["event"], "a\"b\\c\nd\te\u{1}f\u{1f}\u{7f}g\r\u{8}\u{c}z");
    }

    #[test]
    fn invalid_utf8_becomes_replacement_char_and_unicode_is_kept() {
        let s = event(&meta(0), b"caf\xc3\xa9 \xff\xfe ok \xe2\x82");
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["event"], "café \u{FFFD}\u{FFFD} ok \u{FFFD}");
    }

    #[test]
    fn blank_event_encodes_to_nothing() {
        assert_eq!(event(&meta(0), b"  \n\t"), "");
    }

    #[test]
    fn metric_takes_fields_from_the_text() {
        let mut out = Vec::new();
        let ok = encode_metric(
            &meta(1_000_000),
            br#"{"fields":{"metric_name":"cpu","_value":1.5}} "#,
            &mut out,
        );
        assert!(ok);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["event"], "metric");
        assert_eq!(v["fields"]["metric_name"], "cpu");
        assert_eq!(v["fields"]["_value"], 1.5);
        assert_eq!(v["host"], "web-01");
        assert_eq!(v["index"], "main");
        assert!(
            String::from_utf8(out)
                .unwrap()
                .starts_with(r#"{"time":1.000,"event":"metric""#)
        );
    }

    #[test]
    fn metric_without_fields_is_refused() {
        let mut out = Vec::new();
        assert!(!encode_metric(&meta(0), b"not json", &mut out));
        assert!(!encode_metric(&meta(0), br#"{"fields":3}"#, &mut out));
        assert!(!encode_metric(&meta(0), br#"{"x":{}}"#, &mut out));
        assert!(out.is_empty());
    }

    /// The eight-byte scan must find a byte that needs escaping at every position of a word
    /// and across word boundaries; bytes at or above 0x20 and non-ASCII text pass unchanged.
    #[test]
    fn escaping_finds_specials_at_every_offset() {
        let cases: [(&[u8], &str); 9] = [
            (b"\"", "\\\""),
            (b"\\", "\\\\"),
            (b"\n", "\\n"),
            (b"\x1f", "\\u001f"),
            (b"\x00", "\\u0000"),
            (b" ~\x7f", " ~\u{7f}"),
            ("é€".as_bytes(), "é€"),
            (b"\xff", "\u{FFFD}"),
            (b"!#[]", "!#[]"),
        ];
        for (special, want) in cases {
            for before in 0..19 {
                for after in [0, 1, 7, 8, 9] {
                    let mut raw = b"a".repeat(before);
                    raw.extend_from_slice(special);
                    raw.extend(b"b".repeat(after));
                    let mut out = Vec::new();
                    write_json_str(&raw, &mut out);
                    let expect = format!("\"{}{want}{}\"", "a".repeat(before), "b".repeat(after));
                    assert_eq!(String::from_utf8(out).unwrap(), expect, "{raw:?}");
                }
            }
        }
    }
}
