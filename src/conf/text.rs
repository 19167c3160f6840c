//! Bytes of a configuration, sample or replacement file to text, the way a user expects:
//! UTF-8 (with or without a BOM), UTF-16 with a BOM (or plainly UTF-16 without one), else
//! latin-1 as Eventgen falls back to. Whatever is not plain UTF-8 is said in a note (so are
//! the repairs of broken UTF-16: unpaired surrogates, an odd trailing byte), and NUL
//! characters never come out.
//!
//! Line ends are Python's universal newlines, as Eventgen reads every file: `\n`, `\r\n` and
//! a lone `\r` (old Mac editors) each end a line ([`lines`]).

/// Decoded text, and a note for the user when the bytes were not plain UTF-8.
pub fn decode(bytes: &[u8]) -> (String, Option<String>) {
    let (text, mut note) = if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        match std::str::from_utf8(rest) {
            Ok(t) => (t.to_string(), None),
            Err(e) => (latin1(rest), Some(invalid_utf8(rest, e.valid_up_to()))),
        }
    } else if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        utf16(rest, u16::from_le_bytes, "UTF-16LE")
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        utf16(rest, u16::from_be_bytes, "UTF-16BE")
    } else if let Some((t, which, repaired)) = utf16_without_bom(bytes) {
        let note = format!("the file has no byte-order mark but is {which} text; read as {which}");
        (
            t,
            Some(match repaired {
                Some(r) => format!("{note}; {r}"),
                None => note,
            }),
        )
    } else {
        match std::str::from_utf8(bytes) {
            Ok(t) => (t.to_string(), None),
            Err(e) => (latin1(bytes), Some(invalid_utf8(bytes, e.valid_up_to()))),
        }
    };
    if text.contains('\0') {
        let n = text.matches('\0').count();
        let clean = text.replace('\0', "");
        let msg = format!("{n} NUL characters removed");
        note = Some(match note {
            Some(n) => format!("{n}; {msg}"),
            None => msg,
        });
        return (clean, note);
    }
    (text, note)
}

fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| b as char).collect()
}

fn invalid_utf8(bytes: &[u8], at: usize) -> String {
    let line = line_of(&bytes[..at]);
    format!(
        "not valid UTF-8 (first bad byte 0x{:02X} on line {line}); read as latin-1, as Eventgen does, so every byte is kept as one character",
        bytes[at]
    )
}

/// The line (from 1) that starts after `before`, counting universal line ends.
fn line_of(before: &[u8]) -> usize {
    let crlf = before.windows(2).filter(|w| w == b"\r\n").count();
    before.iter().filter(|&&b| b == b'\n' || b == b'\r').count() - crlf + 1
}

/// Decodes UTF-16 units; what had to be repaired (an unpaired surrogate becomes U+FFFD, an
/// odd trailing byte is dropped) is said in the note.
fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16, which: &str) -> (String, Option<String>) {
    let units = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    let mut text = String::with_capacity(bytes.len() / 2);
    let mut unpaired = 0usize;
    let mut first_line = 0usize;
    for r in char::decode_utf16(units) {
        match r {
            Ok(c) => text.push(c),
            Err(_) => {
                if unpaired == 0 {
                    first_line = line_of(text.as_bytes());
                }
                unpaired += 1;
                text.push(char::REPLACEMENT_CHARACTER);
            }
        }
    }
    let mut repairs = Vec::new();
    if unpaired > 0 {
        repairs.push(format!(
            "{unpaired} unpaired UTF-16 surrogates (first on line {first_line}) replaced by U+FFFD"
        ));
    }
    if let [.., odd] = bytes.chunks_exact(2).remainder() {
        repairs.push(format!(
            "an odd trailing byte 0x{odd:02X} (half a UTF-16 character) dropped"
        ));
    }
    let note =
        (!repairs.is_empty()).then(|| format!("{which} text with {}", repairs.join(" and ")));
    (text, note)
}

/// The lines of `text` with Python's universal newlines: `\n`, `\r\n` and a lone `\r` each
/// end a line (the line end is not part of the line). A last line without an end counts; an
/// empty text has no lines.
pub fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match rest.find(['\n', '\r']) {
            Some(i) => {
                let line = &rest[..i];
                let skip = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
                rest = &rest[i + skip..];
                Some(line)
            }
            None => Some(std::mem::take(&mut rest)),
        }
    })
}

/// The number of the first line ended by a lone `\r` (an old Mac line end), if any.
pub fn first_cr_line(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let at = bytes
        .iter()
        .enumerate()
        .position(|(i, &b)| b == b'\r' && bytes.get(i + 1) != Some(&b'\n'))?;
    Some(line_of(&bytes[..at]))
}

/// UTF-16 without a BOM: even length and a NUL in every other byte for most characters
/// (mostly-ASCII text); which byte order follows from where the NULs are.
fn utf16_without_bom(bytes: &[u8]) -> Option<(String, &'static str, Option<String>)> {
    if bytes.len() < 4 || !bytes.len().is_multiple_of(2) {
        return None;
    }
    let pairs = bytes.len() / 2;
    let odd_nuls = bytes.iter().skip(1).step_by(2).filter(|&&b| b == 0).count();
    let even_nuls = bytes.iter().step_by(2).filter(|&&b| b == 0).count();
    let which: (fn([u8; 2]) -> u16, &'static str) = if odd_nuls * 10 >= pairs * 9 && even_nuls == 0
    {
        (u16::from_le_bytes, "UTF-16LE")
    } else if even_nuls * 10 >= pairs * 9 && odd_nuls == 0 {
        (u16::from_be_bytes, "UTF-16BE")
    } else {
        return None;
    };
    let (text, repaired) = utf16(bytes, which.0, which.1);
    Some((text, which.1, repaired))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn le(s: &str, bom: bool) -> Vec<u8> {
        let mut v = if bom { vec![0xFF, 0xFE] } else { vec![] };
        for u in s.encode_utf16() {
            v.extend(u.to_le_bytes());
        }
        v
    }

    #[test]
    fn boms_and_encodings() {
        assert_eq!(decode(b"a\nb"), ("a\nb".into(), None));
        assert_eq!(decode(b"\xEF\xBB\xBFa\xC3\xA9"), ("a\u{e9}".into(), None));
        assert_eq!(
            decode(&le("h\u{e9}llo\n", true)),
            ("h\u{e9}llo\n".into(), None)
        );
        let mut be = vec![0xFE, 0xFF];
        for u in "ok".encode_utf16() {
            be.extend(u.to_be_bytes());
        }
        assert_eq!(decode(&be).0, "ok");
        let (t, note) = decode(&le("plain text\n", false));
        assert_eq!(t, "plain text\n");
        assert!(note.unwrap().contains("UTF-16LE"));
    }

    #[test]
    fn invalid_utf8_is_latin1_with_a_note_and_nuls_go() {
        let (t, note) = decode(b"ok\ncaf\xE9\n");
        assert_eq!(t, "ok\ncaf\u{e9}\n");
        let note = note.unwrap();
        assert!(
            note.contains("0xE9 on line 2") && note.contains("latin-1"),
            "{note}"
        );
        let (t, note) = decode(b"a\0b\n");
        assert_eq!(t, "ab\n");
        assert!(note.unwrap().contains("1 NUL"));
    }

    #[test]
    fn universal_line_ends() {
        fn all(t: &str) -> Vec<&str> {
            lines(t).collect()
        }
        assert_eq!(all(""), Vec::<&str>::new());
        assert_eq!(all("a\nb"), ["a", "b"]);
        assert_eq!(all("a\r\nb\r\n"), ["a", "b"]);
        assert_eq!(all("a\rb\r"), ["a", "b"]);
        assert_eq!(all("a\r\rb\n\r\nc"), ["a", "", "b", "", "c"]);
        assert_eq!(first_cr_line("a\r\nb\nc\r\n"), None);
        assert_eq!(first_cr_line("a\r\nb\nc\rd"), Some(3));
        assert_eq!(first_cr_line("a\rb"), Some(1));
    }

    #[test]
    fn broken_utf16_is_repaired_with_a_note() {
        // A lone high surrogate on line 2 and an odd trailing byte.
        let mut v = le("ok\nx", true);
        v.extend(0xD800u16.to_le_bytes());
        v.extend(le("y\n", false));
        v.push(b'A');
        let (t, note) = decode(&v);
        assert_eq!(t, "ok\nx\u{FFFD}y\n");
        let note = note.expect("a note");
        assert!(
            note.contains("1 unpaired UTF-16 surrogates (first on line 2)"),
            "{note}"
        );
        assert!(note.contains("odd trailing byte 0x41"), "{note}");
        // Without a BOM (even length): the repair is said after the detection.
        let mut v = le("plain text\n", false);
        v.extend(0xDC41u16.to_le_bytes());
        let (_, note) = decode(&v);
        let note = note.unwrap();
        assert!(
            note.contains("read as UTF-16LE; UTF-16LE text with 1 unpaired"),
            "{note}"
        );
        // Sound UTF-16 has no note.
        assert_eq!(decode(&le("fine\n", true)).1, None);
    }
}
