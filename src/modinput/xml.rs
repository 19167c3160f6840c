//! The small XML toolkit the modular input protocol needs: reading splunkd's document from stdin
//! (stopping at the closing tag even if stdin stays open), decoding its bytes (UTF-8, or UTF-16
//! with a byte-order mark), parsing it strictly into a tiny element tree, and escaping text we
//! write back.
//!
//! splunkd's documents are a few kilobytes, so a tree is simpler than a streaming walk and costs
//! nothing that matters.

use std::io::{self, Read};

use quick_xml::events::Event;
use quick_xml::{Reader, XmlVersion};

/// Largest document we accept on stdin. splunkd's `<input>` for one stanza is a few KB; a
/// single-instance input with hundreds of stanzas stays far below this.
const MAX_DOCUMENT_BYTES: usize = 16 * 1024 * 1024;

/// Deepest element nesting we accept; splunkd's documents are four levels deep.
const MAX_DEPTH: usize = 32;

/// Reads stdin (or any reader) until EOF, until `closing_tag` (for example `</input>`) has
/// been seen, or until the bytes read form a complete document (its root element closed,
/// e.g. `<input/>`), whichever comes first, and decodes the bytes to text. splunkd may leave
/// stdin open: a complete document must be enough.
pub fn read_document(mut reader: impl Read, closing_tag: &str) -> Result<String, String> {
    let mut bytes = Vec::with_capacity(4096);
    let mut chunk = [0u8; 8192];
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("cannot read the XML document from stdin: {e}")),
        };
        bytes.extend_from_slice(&chunk[..n]);
        if bytes.len() > MAX_DOCUMENT_BYTES {
            return Err(format!(
                "the XML document on stdin is larger than {MAX_DOCUMENT_BYTES} bytes"
            ));
        }
        // UTF-16 input never matches the ASCII tag; it is read to EOF, which splunkd sends.
        let tail_from = bytes.len().saturating_sub(n + closing_tag.len());
        if contains(&bytes[tail_from..], closing_tag.as_bytes()) || root_closed(&bytes) {
            break;
        }
    }
    decode(&bytes)
}

/// Whether `bytes` (UTF-8) hold a root element that is already closed.
fn root_closed(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let mut reader = Reader::from_str(text);
    let mut depth = 0usize;
    loop {
        match reader.read_event() {
            Ok(Event::Start(_)) => depth += 1,
            Ok(Event::Empty(_)) if depth == 0 => return true,
            Ok(Event::End(_)) => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return true;
                }
            }
            Ok(Event::Eof) | Err(_) => return false,
            Ok(_) => {}
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Decodes a document's bytes: UTF-8 (with or without a byte-order mark) or UTF-16 with a
/// byte-order mark, as the SDK's own fixtures are.
pub fn decode(bytes: &[u8]) -> Result<String, String> {
    let utf16 = |rest: &[u8], from: fn([u8; 2]) -> u16| {
        if !rest.len().is_multiple_of(2) {
            return Err("the UTF-16 XML document has an odd number of bytes".to_string());
        }
        let units = rest.chunks_exact(2).map(|c| from([c[0], c[1]]));
        char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .map_err(|e| format!("the UTF-16 XML document is not valid UTF-16: {e}"))
    };
    match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => utf8(rest),
        [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes),
        _ => utf8(bytes),
    }
}

fn utf8(bytes: &[u8]) -> Result<String, String> {
    String::from_utf8(bytes.to_vec())
        .map_err(|e| format!("the XML document is not valid UTF-8: {e}"))
}

/// One element: its name, attributes in document order, child elements, and the concatenated
/// text directly inside it (entities resolved, CDATA included).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The trimmed text of the first child called `name`, or "" when there is none.
    pub fn child_text(&self, name: &str) -> String {
        self.child(name)
            .map(|c| c.text.trim().to_string())
            .unwrap_or_default()
    }
}

/// Parses a whole document into its root element. Strict: mismatched or unclosed tags,
/// unknown entities, a second root element or text outside the root are errors.
pub fn parse(text: &str) -> Result<Element, String> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let at = |reader: &Reader<&[u8]>| reader.buffer_position();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("malformed XML at byte {}: {e}", at(&reader)))?;
        match event {
            Event::Start(_) | Event::Empty(_) if root.is_some() => {
                return Err(format!(
                    "malformed XML at byte {}: a second root element",
                    at(&reader)
                ));
            }
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(format!("XML nested deeper than {MAX_DEPTH} elements"));
                }
                stack.push(element(&start, &reader)?);
            }
            Event::Empty(start) => {
                let el = element(&start, &reader)?;
                close(el, &mut stack, &mut root);
            }
            Event::End(_) => {
                // check_end_names guarantees the name matches the open element.
                let el = stack.pop().ok_or_else(|| {
                    format!(
                        "malformed XML at byte {}: unexpected closing tag",
                        at(&reader)
                    )
                })?;
                close(el, &mut stack, &mut root);
            }
            Event::Text(t) => {
                let content = t.xml10_content();
                match stack.last_mut() {
                    Some(el) => el.text.push_str(&content),
                    None if content.trim().is_empty() => {}
                    None => {
                        return Err(format!(
                            "malformed XML at byte {}: text outside the root element",
                            at(&reader)
                        ));
                    }
                }
            }
            Event::CData(c) => {
                let content = c.xml10_content();
                match stack.last_mut() {
                    Some(el) => el.text.push_str(&content),
                    None => return Err("malformed XML: CDATA outside the root element".into()),
                }
            }
            Event::GeneralRef(r) => {
                let resolved = resolve_ref(&r).ok_or_else(|| {
                    format!(
                        "malformed XML at byte {}: unknown entity &{};",
                        at(&reader),
                        r.xml10_content()
                    )
                })?;
                match stack.last_mut() {
                    Some(el) => el.text.push_str(&resolved),
                    None => return Err("malformed XML: entity outside the root element".into()),
                }
            }
            Event::DocType(_) => {
                return Err("XML with a DOCTYPE is not accepted".to_string());
            }
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if let Some(open) = stack.last() {
        return Err(format!("malformed XML: <{}> is never closed", open.name));
    }
    root.ok_or_else(|| "the XML document is empty".to_string())
}

fn close(el: Element, stack: &mut [Element], root: &mut Option<Element>) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None => *root = Some(el),
    }
}

fn element(
    start: &quick_xml::events::BytesStart<'_>,
    reader: &Reader<&[u8]>,
) -> Result<Element, String> {
    let bad = |e: &dyn std::fmt::Display| {
        format!("malformed XML at byte {}: {e}", reader.buffer_position())
    };
    let mut el = Element {
        name: start.name().as_ref().to_string(),
        ..Element::default()
    };
    for attr in start.attributes() {
        let attr = attr.map_err(|e| bad(&e))?;
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| bad(&e))?;
        el.attrs
            .push((attr.key.as_ref().to_string(), value.into_owned()));
    }
    Ok(el)
}

fn resolve_ref(r: &quick_xml::events::BytesRef<'_>) -> Option<String> {
    if r.is_char_ref() {
        return r.resolve_char_ref().ok().flatten().map(String::from);
    }
    quick_xml::escape::resolve_predefined_entity(&r.xml10_content()).map(str::to_string)
}

/// Escapes text for an XML element or attribute: `& < > " '` become entities and characters
/// XML 1.0 cannot carry at all (most C0 controls, U+FFFE, U+FFFF) become U+FFFD.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_elements_attributes_and_entities() {
        let doc = parse(
            "<?xml version=\"1.0\"?><a x=\"1 &amp; 2\"><b>t &lt;&#65;&gt;</b><c/><b><![CDATA[<raw>]]></b></a>",
        )
        .unwrap();
        assert_eq!(doc.name, "a");
        assert_eq!(doc.attr("x"), Some("1 & 2"));
        assert_eq!(doc.children.len(), 3);
        assert_eq!(doc.children[0].text, "t <A>");
        assert_eq!(doc.children[1].name, "c");
        assert_eq!(doc.children[2].text, "<raw>");
        assert_eq!(doc.child_text("missing"), "");
    }

    #[test]
    fn rejects_malformed_documents() {
        for bad in [
            "<a><b></a>",
            "<a>",
            "<a></a><b/>",
            "<a>&nope;</a>",
            "",
            "text<a/>",
            "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn decodes_boms_and_utf16() {
        assert_eq!(decode(b"\xEF\xBB\xBF<a/>").unwrap(), "<a/>");
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("<é/>".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(decode(&le).unwrap(), "<é/>");
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("<a/>".encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(decode(&be).unwrap(), "<a/>");
        assert!(decode(b"<a>\xff</a>").is_err());
    }

    /// A reader that hands out its data and then blocks forever would hang the test; this one
    /// panics instead if it is read past the document.
    struct NeverEof<'a>(&'a [u8]);

    impl Read for NeverEof<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            assert!(!self.0.is_empty(), "read past the closing tag");
            let n = buf.len().min(self.0.len()).min(5);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn read_document_stops_at_the_closing_tag() {
        let text = read_document(NeverEof(b"<input><x>1</x></input>"), "</input>").unwrap();
        assert_eq!(text, "<input><x>1</x></input>");
        let text = read_document(&b"<items/>"[..], "</items>").unwrap();
        assert_eq!(text, "<items/>");
        // A complete document is enough, whatever its closing tag looks like.
        for doc in [
            &b"<?xml version=\"1.0\"?>\n<input/>"[..],
            b"<input >\n<server_host>h</server_host></input >",
            b"\xEF\xBB\xBF<input></input>",
        ] {
            let text = read_document(NeverEof(doc), "</input>").unwrap();
            assert!(text.contains("input"), "{text}");
        }
    }

    #[test]
    fn escape_handles_markup_and_illegal_characters() {
        assert_eq!(
            escape("a<b>&\"c'\u{1}\n"),
            "a&lt;b&gt;&amp;&quot;c&apos;\u{fffd}\n"
        );
    }
}
