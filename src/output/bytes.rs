//! Byte helpers shared by every encoder (line, modular input XML, HEC JSON, syslog): trailing
//! whitespace, and the eight-bytes-at-a-time scans the escapers use to skip clean runs. A
//! leaf: it imports nothing from `output`, so every encoder can import it.

/// The text without trailing whitespace (what Eventgen's `rstrip()` leaves).
pub fn trim_end(raw: &[u8]) -> &[u8] {
    let mut end = raw.len();
    while end > 0 && raw[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    &raw[..end]
}

/// Eight bytes at a time from `s[i..]` (little endian), for the escapers' clean-run scans.
#[inline]
pub fn word_at(s: &[u8], i: usize) -> Option<u64> {
    s.get(i..i + 8)
        .map(|w| u64::from_le_bytes(w.try_into().unwrap_or([0; 8])))
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// True when some byte of `w` is below `n` (`n` at most 128): the classic SWAR test, exact
/// as a yes/no answer.
#[inline]
pub fn has_below(w: u64, n: u8) -> bool {
    w.wrapping_sub(LO * u64::from(n)) & !w & HI != 0
}

/// True when some byte of `w` equals `b`.
#[inline]
pub fn has_byte(w: u64, b: u8) -> bool {
    has_below(w ^ (LO * u64::from(b)), 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trim_end_removes_what_rstrip_removes() {
        assert_eq!(trim_end(b"a b \t\r\n"), b"a b");
        assert_eq!(trim_end(b" \n"), b"");
        assert_eq!(trim_end(b""), b"");
        assert_eq!(trim_end(b"\xc3\xa9"), b"\xc3\xa9");
    }

    #[test]
    fn the_word_tests_agree_with_a_byte_by_byte_scan() {
        let base = *b"abcdefgh";
        for pos in 0..8 {
            for v in 0..=255u8 {
                let mut bytes = base;
                bytes[pos] = v;
                let w = word_at(&bytes, 0).unwrap();
                for n in [1u8, 0x20, 0x80] {
                    assert_eq!(
                        has_below(w, n),
                        bytes.iter().any(|&b| b < n),
                        "{bytes:?} < {n}"
                    );
                }
                for b in [b'&', b'<', b'"', b'\\', 0xEF, 0] {
                    assert_eq!(has_byte(w, b), bytes.contains(&b), "{bytes:?} has {b}");
                }
            }
        }
        assert_eq!(word_at(b"1234567", 0), None);
        assert_eq!(word_at(b"123456789", 1), word_at(b"23456789", 0));
    }
}
