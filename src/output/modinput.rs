//! Modular input XML encoding of events: the `<event>` elements splunkd reads inside the
//! `<stream>` of a modular input's stdout (the wrapper itself is written by
//! [`StdoutSink::modinput`](super::stdout::StdoutSink::modinput)).
//!
//! The element layout follows Eventgen's `modinput` output plugin byte for byte (two and four
//! space indentation, `\n` line ends, children in the order time, index, source, sourcetype,
//! host, data, the event text's trailing newline kept inside `<data>`), with these fixes, all
//! of which only change output that Eventgen would have made invalid or lossy:
//!
//! * every field is escaped, not only `_raw` (Eventgen leaves host, source, sourcetype and
//!   index raw, so `a&b` there breaks the stream);
//! * characters XML 1.0 cannot carry even escaped are removed: C0 controls other than tab,
//!   line feed and carriage return, and U+FFFE / U+FFFF;
//! * invalid UTF-8 in the event text becomes U+FFFD (the replacement character), one per
//!   maximal invalid sequence, as `String::from_utf8_lossy` does; dropping it silently
//!   would hide broken samples;
//! * a carriage return is written as `&#13;`, because a parser normalises a literal CR (or
//!   CR LF) to LF and the event would lose it;
//! * `<time>` always has exactly three decimals (milliseconds, rounded down), the form the
//!   Splunk SDKs write, instead of Python's `str()` of whatever number the generator had.

use super::EventMeta;
use super::bytes::{has_below, has_byte, word_at};
use crate::timing::Micros;

/// Byte classes of the escaping table. `CLEAN` bytes are copied in runs.
const CLEAN: u8 = 0;
const AMP: u8 = 1;
const LT: u8 = 2;
const GT: u8 = 3;
const CR: u8 = 4;
/// A C0 control character XML 1.0 forbids: removed.
const DROP: u8 = 5;
/// 0xEF may start U+FFFE (`EF BF BE`) or U+FFFF (`EF BF BF`): look ahead.
const LEAD_EF: u8 = 6;

/// What replaces each class (indexed by class; `DROP` and `LEAD_EF` write nothing here).
const REPLACEMENT: [&[u8]; 7] = [b"", b"&amp;", b"&lt;", b"&gt;", b"&#13;", b"", b""];

/// UTF-8 encoding of U+FFFD, written for each invalid UTF-8 sequence.
const REPLACEMENT_CHAR: &[u8] = "\u{FFFD}".as_bytes();

static CLASS: [u8; 256] = build_class_table();

const fn build_class_table() -> [u8; 256] {
    let mut t = [CLEAN; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = DROP;
        b += 1;
    }
    t[b'\t' as usize] = CLEAN;
    t[b'\n' as usize] = CLEAN;
    t[b'\r' as usize] = CR;
    t[b'&' as usize] = AMP;
    t[b'<' as usize] = LT;
    t[b'>' as usize] = GT;
    t[0xEF] = LEAD_EF;
    t
}

/// Appends one `<event>` element. Every field is XML-escaped and characters illegal in XML
/// 1.0 are removed.
pub fn encode_event(meta: &EventMeta<'_>, raw: &[u8], out: &mut Vec<u8>) {
    let meta_len = meta.index.len() + meta.source.len() + meta.sourcetype.len() + meta.host.len();
    write_event(meta.time, raw, meta_len + 100, out, |out| {
        encode_meta(meta, out)
    });
}

const EVENT_HEAD: &[u8] = b"  <event>\n    <time>";
const EVENT_TAIL: &[u8] = b"</data>\n  </event>\n";

/// The part of an `<event>` between the time and the text: `</time>`, the four metadata
/// elements, `<data>`. The same for every event with the same metadata.
pub fn encode_meta(meta: &EventMeta<'_>, out: &mut Vec<u8>) {
    out.extend_from_slice(b"</time>\n    <index>");
    escape_valid(meta.index.as_bytes(), out);
    out.extend_from_slice(b"</index>\n    <source>");
    escape_valid(meta.source.as_bytes(), out);
    out.extend_from_slice(b"</source>\n    <sourcetype>");
    escape_valid(meta.sourcetype.as_bytes(), out);
    out.extend_from_slice(b"</sourcetype>\n    <host>");
    escape_valid(meta.host.as_bytes(), out);
    out.extend_from_slice(b"</host>\n    <data>");
}

/// [`encode_event`] with the metadata part already encoded ([`encode_meta`]).
pub fn encode_event_with(time: Micros, fields: &[u8], raw: &[u8], out: &mut Vec<u8>) {
    write_event(time, raw, fields.len(), out, |out| {
        out.extend_from_slice(fields)
    });
}

/// One `<event>` element, with `fields` writing the part between the time and the text
/// (about `fields_len` bytes, reserved with the rest).
fn write_event(
    time: Micros,
    raw: &[u8],
    fields_len: usize,
    out: &mut Vec<u8>,
    fields: impl FnOnce(&mut Vec<u8>),
) {
    out.reserve(raw.len() + fields_len + 64);
    out.extend_from_slice(EVENT_HEAD);
    write_time(time, out);
    fields(out);
    escape_text(raw, out);
    out.extend_from_slice(EVENT_TAIL);
}

/// Appends epoch seconds with exactly three decimals: `1614834367123456` µs gives
/// `1614834367.123`. Milliseconds are rounded down (towards the past), so a negative time
/// such as -1500 µs gives `-0.002`.
pub fn write_time(time: Micros, out: &mut Vec<u8>) {
    let millis = time.div_euclid(1000);
    if millis < 0 {
        out.push(b'-');
    }
    let abs = millis.unsigned_abs();
    push_u64(abs / 1000, out);
    let frac = abs % 1000;
    out.extend_from_slice(&[
        b'.',
        b'0' + (frac / 100) as u8,
        b'0' + (frac / 10 % 10) as u8,
        b'0' + (frac % 10) as u8,
    ]);
}

fn push_u64(mut n: u64, out: &mut Vec<u8>) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Escapes bytes that may not be valid UTF-8: invalid sequences become U+FFFD.
fn escape_text(raw: &[u8], out: &mut Vec<u8>) {
    if std::str::from_utf8(raw).is_ok() {
        escape_valid(raw, out);
        return;
    }
    for chunk in raw.utf8_chunks() {
        escape_valid(chunk.valid().as_bytes(), out);
        if !chunk.invalid().is_empty() {
            out.extend_from_slice(REPLACEMENT_CHAR);
        }
    }
}

/// Escapes valid UTF-8: copies clean runs in bulk and handles the rest by table class.
fn escape_valid(s: &[u8], out: &mut Vec<u8>) {
    let mut start = 0;
    let mut i = 0;
    while i < s.len() {
        // Skip eight clean bytes at a time: none below 0x20 (tab and LF included, the table
        // sorts them out), none of `& < >`, no 0xEF.
        while let Some(w) = word_at(s, i) {
            if has_below(w, 0x20)
                || has_byte(w, b'&')
                || has_byte(w, b'<')
                || has_byte(w, b'>')
                || has_byte(w, 0xEF)
            {
                break;
            }
            i += 8;
        }
        let Some(&b) = s.get(i) else { break };
        let class = CLASS[b as usize];
        if class == CLEAN {
            i += 1;
            continue;
        }
        if class == LEAD_EF {
            // Valid UTF-8, so 0xEF is followed by two continuation bytes.
            let noncharacter = i + 2 < s.len() && s[i + 1] == 0xBF && s[i + 2] >= 0xBE;
            if !noncharacter {
                i += 1;
                continue;
            }
            out.extend_from_slice(&s[start..i]);
            i += 3;
            start = i;
            continue;
        }
        out.extend_from_slice(&s[start..i]);
        out.extend_from_slice(REPLACEMENT[class as usize]);
        i += 1;
        start = i;
    }
    out.extend_from_slice(&s[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use quick_xml::events::Event;
    use quick_xml::reader::Reader;

    fn meta(time: Micros) -> EventMeta<'static> {
        EventMeta {
            time,
            host: "web-01",
            source: "/var/log/app.log",
            sourcetype: "app",
            index: "main",
        }
    }

    fn encode(meta: &EventMeta<'_>, raw: &[u8]) -> String {
        let mut out = Vec::new();
        encode_event(meta, raw, &mut out);
        String::from_utf8(out).expect("encoder writes UTF-8")
    }

    fn time(t: Micros) -> String {
        let mut out = Vec::new();
        write_time(t, &mut out);
        String::from_utf8(out).expect("ascii")
    }

    /// One parsed `<event>`: (element name, text) per child, in order.
    type Parsed = Vec<Vec<(String, String)>>;

    /// Parses `<stream>…</stream>` with quick-xml, resolving references and applying XML 1.0
    /// end-of-line normalisation as a conforming parser would.
    fn parse_stream(doc: &str) -> Parsed {
        let mut reader = Reader::from_str(doc);
        reader.config_mut().check_end_names = true;
        let mut events: Parsed = Vec::new();
        let mut path: Vec<String> = Vec::new();
        let mut text = String::new();
        loop {
            match reader.read_event().expect("well-formed XML") {
                Event::Start(e) => {
                    let name = e.name().as_ref().to_string();
                    if name == "event" {
                        events.push(Vec::new());
                    }
                    path.push(name);
                    text.clear();
                }
                Event::End(e) => {
                    let name = e.name().as_ref().to_string();
                    assert_eq!(path.pop().as_deref(), Some(name.as_str()));
                    if path.len() == 2 {
                        let ev = events.last_mut().expect("inside an event");
                        ev.push((name, std::mem::take(&mut text)));
                    }
                }
                Event::Text(t) if path.len() == 3 => text.push_str(&t.xml10_content()),
                Event::GeneralRef(r) => {
                    let resolved = match r.resolve_char_ref().expect("valid char ref") {
                        Some(c) => c.to_string(),
                        None => quick_xml::escape::resolve_predefined_entity(&r)
                            .expect("predefined entity")
                            .to_string(),
                    };
                    text.push_str(&resolved);
                }
                Event::CData(_) | Event::Empty(_) | Event::PI(_) | Event::DocType(_) => {
                    panic!("unexpected markup")
                }
                Event::Eof => break,
                _ => {}
            }
        }
        assert!(path.is_empty(), "unclosed elements {path:?}");
        events
    }

    fn assert_xml10_chars(doc: &str) {
        for c in doc.chars() {
            let legal = matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..);
            assert!(legal, "illegal XML 1.0 character {:?}", c);
        }
    }

    #[test]
    fn exact_layout() {
        let got = encode(&meta(1_614_834_367_123_456), b"hello world\n");
        assert_eq!(
            got,
            "  <event>\n    <time>1614834367.123</time>\n    <index>main</index>\n    \
             <source>/var/log/app.log</source>\n    <sourcetype>app</sourcetype>\n    \
             <host>web-01</host>\n    <data>hello world\n</data>\n  </event>\n"
        );
    }

    #[test]
    fn time_has_three_decimals() {
        assert_eq!(time(1_614_834_367_123_456), "1614834367.123");
        assert_eq!(time(1_614_834_367_000_000), "1614834367.000");
        assert_eq!(time(1_614_834_367_999_999), "1614834367.999");
        assert_eq!(time(5_000), "0.005");
        assert_eq!(time(0), "0.000");
        assert_eq!(time(-1), "-0.001");
        assert_eq!(time(-1_500), "-0.002");
        assert_eq!(time(-1_500_000), "-1.500");
        assert_eq!(time(-2_000_000), "-2.000");
        assert_eq!(time(i64::MAX), "9223372036854.775");
        assert_eq!(time(i64::MIN), "-9223372036854.776");
    }

    #[test]
    fn escapes_and_round_trips_through_a_parser() {
        let raw = "a</data></event><event>&amp; b ]]> c<![CDATA[x]]>\u{1}\u{8}\u{b}\u{c}\u{1f}\u{0} \
                   tab\there \"q\" 'a' \u{7f}\u{85} é 漢 🎉\u{FFFE}\u{FFFF}\u{FFFD} crlf\r\nlone\rend\n";
        let m = EventMeta {
            time: 1_000,
            host: "h<&>\u{2}",
            source: "s]]>\"",
            sourcetype: "st&amp;",
            index: "i\u{FFFF}x",
        };
        let mut doc = b"<stream>".to_vec();
        encode_event(&m, raw.as_bytes(), &mut doc);
        encode_event(&meta(2_000), b"second\n", &mut doc);
        doc.extend_from_slice(b"</stream>");
        let doc = String::from_utf8(doc).expect("utf8");
        assert_xml10_chars(&doc);

        let parsed = parse_stream(&doc);
        assert_eq!(parsed.len(), 2);
        let expected_data: String = raw
            .chars()
            .filter(|c| !matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{FFFE}' | '\u{FFFF}'))
            .collect();
        let names: Vec<&str> = parsed[0].iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["time", "index", "source", "sourcetype", "host", "data"]
        );
        let field = |i: usize| parsed[0][i].1.as_str();
        assert_eq!(field(0), "0.001");
        assert_eq!(field(1), "ix");
        assert_eq!(field(2), "s]]>\"");
        assert_eq!(field(3), "st&amp;");
        assert_eq!(field(4), "h<&>");
        assert_eq!(field(5), expected_data);
        assert!(field(5).contains("crlf\r\nlone\rend\n"));
        assert_eq!(parsed[1][5].1, "second\n");
    }

    #[test]
    fn invalid_utf8_becomes_replacement_character() {
        let raw: &[u8] = b"ok \xff\xfe mid \xe2\x82 end & \xc3\xa9\n";
        let got = encode(&meta(0), raw);
        let data = got
            .split("<data>")
            .nth(1)
            .and_then(|s| s.split("</data>").next())
            .expect("data element");
        assert_eq!(data, "ok \u{FFFD}\u{FFFD} mid \u{FFFD} end &amp; é\n");
    }

    #[test]
    fn clean_text_is_copied_unchanged() {
        let raw = "x".repeat(10_000) + "\n";
        let got = encode(&meta(0), raw.as_bytes());
        assert!(got.contains(&format!("<data>{raw}</data>")));
    }

    /// The eight-byte scan must find a byte that needs escaping at every position of a word
    /// and across word boundaries, and keep multi-byte characters whole.
    #[test]
    fn escaping_finds_specials_at_every_offset() {
        let cases: [(&str, &str); 8] = [
            ("&", "&amp;"),
            ("<", "&lt;"),
            (">", "&gt;"),
            ("\r", "&#13;"),
            ("\u{1}", ""),
            ("\u{FFFF}", ""),
            ("\u{FFFE}", ""),
            ("\u{FEFF}\t\n\u{7f}é", "\u{FEFF}\t\n\u{7f}é"),
        ];
        for (special, want) in cases {
            for before in 0..19 {
                for after in [0, 1, 7, 8, 9] {
                    let raw = format!("{}{special}{}", "a".repeat(before), "b".repeat(after));
                    let mut out = Vec::new();
                    escape_text(raw.as_bytes(), &mut out);
                    let expect = format!("{}{want}{}", "a".repeat(before), "b".repeat(after));
                    assert_eq!(String::from_utf8(out).unwrap(), expect, "{raw:?}");
                }
            }
        }
    }
}
