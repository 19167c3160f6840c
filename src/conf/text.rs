//! Bytes of a configuration, sample or replacement file to text, the way a user expects:
//! UTF-8 (with or without a BOM), UTF-16 with a BOM (or plainly UTF-16 without one), else
//! latin-1 as Eventgen falls back to. Whatever is not plain UTF-8 is said in a note, and NUL
//! characters never come out.

/// Decoded text, and a note for the user when the bytes were not plain UTF-8.
pub fn decode(bytes: &[u8]) -> (String, Option<String>) {
    let (text, mut note) = if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        match std::str::from_utf8(rest) {
            Ok(t) => (t.to_string(), None),
            Err(e) => (latin1(rest), Some(invalid_utf8(rest, e.valid_up_to()))),
        }
    } else if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        (utf16(rest, u16::from_le_bytes), None)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        (utf16(rest, u16::from_be_bytes), None)
    } else if let Some((t, which)) = utf16_without_bom(bytes) {
        (
            t,
            Some(format!(
                "the file has no byte-order mark but is {which} text; read as {which}"
            )),
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
    let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
    format!(
        "not valid UTF-8 (first bad byte 0x{:02X} on line {line}); read as latin-1, as Eventgen does, so every byte is kept as one character",
        bytes[at]
    )
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> String {
    let units = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// UTF-16 without a BOM: even length and a NUL in every other byte for most characters
/// (mostly-ASCII text); which byte order follows from where the NULs are.
fn utf16_without_bom(bytes: &[u8]) -> Option<(String, &'static str)> {
    if bytes.len() < 4 || !bytes.len().is_multiple_of(2) {
        return None;
    }
    let pairs = bytes.len() / 2;
    let odd_nuls = bytes.iter().skip(1).step_by(2).filter(|&&b| b == 0).count();
    let even_nuls = bytes.iter().step_by(2).filter(|&&b| b == 0).count();
    if odd_nuls * 10 >= pairs * 9 && even_nuls == 0 {
        Some((utf16(bytes, u16::from_le_bytes), "UTF-16LE"))
    } else if even_nuls * 10 >= pairs * 9 && odd_nuls == 0 {
        Some((utf16(bytes, u16::from_be_bytes), "UTF-16BE"))
    } else {
        None
    }
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
}
