//! `random` and `rated` replacement specs: `ipv4`, `ipv6`, `mac`, `guid`, `integer[a:b]`,
//! `float[a:b]`, `string(n)`, `hex(n)`, `list[...]`.

use crate::rng::Rng;

#[derive(Debug, Clone, PartialEq)]
pub enum RandomSpec {
    Ipv4,
    Ipv6,
    Mac,
    Guid,
    /// Inclusive bounds; negatives allowed.
    Integer {
        lo: i64,
        hi: i64,
    },
    /// Uniform in `[lo, hi]`, rounded to the decimals of the start value, printed as Python
    /// prints floats.
    Float {
        lo: f64,
        hi: f64,
        precision: usize,
    },
    /// `n` characters of the URL-safe alphabet Eventgen draws from.
    Str(usize),
    /// `n` uppercase hexadecimal digits.
    Hex(usize),
    List(Vec<String>),
}

/// Longest `string(n)` / `hex(n)` value: each event holds one, and a huge `n` would abort on
/// allocation.
pub const MAX_RANDOM_LENGTH: usize = 1_000_000;

/// The 67 characters Eventgen's `string(n)` can produce.
const STRING_ALPHABET: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/";
const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";
const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

const EXPECTED: &str = "expected ipv4, ipv6, mac, guid, integer[lo:hi], float[lo:hi], string(n), hex(n) or list[\"a\",\"b\"]";

impl RandomSpec {
    /// Parses a spec. Keywords are case-insensitive, as in Eventgen; the bracket forms accept
    /// trailing text after the closing bracket, as Eventgen's prefix match does.
    pub fn parse(spec: &str) -> Result<RandomSpec, String> {
        let s = spec.trim();
        let lower = s.to_ascii_lowercase();
        match lower.as_str() {
            "ipv4" => return Ok(RandomSpec::Ipv4),
            "ipv6" => return Ok(RandomSpec::Ipv6),
            "mac" => return Ok(RandomSpec::Mac),
            "guid" => return Ok(RandomSpec::Guid),
            _ => {}
        }
        if lower.starts_with("integer[") {
            let inner = bracket(&s[8..], ']')
                .ok_or_else(|| format!("expected integer[lo:hi], got {s:?}"))?;
            let (a, b) = inner
                .split_once(':')
                .ok_or_else(|| format!("expected integer[lo:hi], got {s:?}"))?;
            let lo: i64 = a
                .trim()
                .parse()
                .map_err(|_| format!("expected integer[lo:hi], got {s:?}"))?;
            let hi: i64 = b
                .trim()
                .parse()
                .map_err(|_| format!("expected integer[lo:hi], got {s:?}"))?;
            if hi < lo {
                return Err(format!("integer[lo:hi] needs lo <= hi, got {s:?}"));
            }
            return Ok(RandomSpec::Integer { lo, hi });
        }
        if lower.starts_with("float[") {
            let inner =
                bracket(&s[6..], ']').ok_or_else(|| format!("expected float[lo:hi], got {s:?}"))?;
            let (a, b) = inner
                .split_once(':')
                .ok_or_else(|| format!("expected float[lo:hi], got {s:?}"))?;
            let (a, b) = (a.trim(), b.trim());
            let lo: f64 = a
                .parse()
                .map_err(|_| format!("expected float[lo:hi], got {s:?}"))?;
            let hi: f64 = b
                .parse()
                .map_err(|_| format!("expected float[lo:hi], got {s:?}"))?;
            if !lo.is_finite() || !hi.is_finite() || hi < lo {
                return Err(format!("float[lo:hi] needs finite lo <= hi, got {s:?}"));
            }
            let precision = a.split_once('.').map_or(0, |(_, frac)| frac.len());
            return Ok(RandomSpec::Float { lo, hi, precision });
        }
        if lower.starts_with("string(") || lower.starts_with("hex(") {
            let open = s.find('(').unwrap_or(0);
            let inner = bracket(&s[open + 1..], ')')
                .ok_or_else(|| format!("expected string(n) or hex(n), got {s:?}"))?;
            let n: usize = inner
                .trim()
                .parse()
                .map_err(|_| format!("expected a length in {s:?}"))?;
            if n > MAX_RANDOM_LENGTH {
                return Err(format!(
                    "string(n) and hex(n) take n up to {MAX_RANDOM_LENGTH}, got {n}"
                ));
            }
            return Ok(if lower.starts_with("hex") {
                RandomSpec::Hex(n)
            } else {
                RandomSpec::Str(n)
            });
        }
        if lower.starts_with("list[") {
            let value: serde_json::Value = serde_json::from_str(&s[4..])
                .map_err(|e| format!("list[...] must be a JSON list, {e}"))?;
            let items = value
                .as_array()
                .ok_or_else(|| "list[...] must be a JSON list".to_string())?;
            if items.is_empty() {
                return Err("list[...] is empty".into());
            }
            // Eventgen crashes on non-string items; we print them as JSON text.
            let items = items
                .iter()
                .map(|v| match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            return Ok(RandomSpec::List(items));
        }
        Err(format!("{EXPECTED}, got {s:?}"))
    }

    /// Appends one value. `factor` scales integers and floats (`rated`); 1 for `random`.
    pub fn render(&self, rng: &mut Rng, factor: f64, out: &mut Vec<u8>) {
        match self {
            RandomSpec::Ipv4 => {
                let v = rng.next_u64();
                let mut b = itoa::Buffer::new();
                for i in 0..4 {
                    if i > 0 {
                        out.push(b'.');
                    }
                    out.extend_from_slice(b.format((v >> (i * 8)) as u8).as_bytes());
                }
            }
            RandomSpec::Ipv6 => {
                let v = rng.next_u64();
                let w = rng.next_u64();
                for i in 0..8 {
                    if i > 0 {
                        out.push(b':');
                    }
                    let group = if i < 4 {
                        (v >> (i * 16)) as u16
                    } else {
                        (w >> ((i - 4) * 16)) as u16
                    };
                    push_hex_unpadded(group, out);
                }
            }
            RandomSpec::Mac => {
                let v = rng.next_u64();
                for i in 0..6 {
                    if i > 0 {
                        out.push(b':');
                    }
                    let byte = (v >> (i * 8)) as u8;
                    out.push(HEX_LOWER[(byte >> 4) as usize]);
                    out.push(HEX_LOWER[(byte & 15) as usize]);
                }
            }
            RandomSpec::Guid => {
                let a = rng.next_u64();
                let b = rng.next_u64();
                let mut bytes = [0u8; 16];
                bytes[..8].copy_from_slice(&a.to_le_bytes());
                bytes[8..].copy_from_slice(&b.to_le_bytes());
                bytes[6] = (bytes[6] & 0x0f) | 0x40;
                bytes[8] = (bytes[8] & 0x3f) | 0x80;
                for (i, byte) in bytes.iter().enumerate() {
                    if matches!(i, 4 | 6 | 8 | 10) {
                        out.push(b'-');
                    }
                    out.push(HEX_LOWER[(byte >> 4) as usize]);
                    out.push(HEX_LOWER[(byte & 15) as usize]);
                }
            }
            RandomSpec::Integer { lo, hi } => {
                let v = rng.range_inclusive(*lo, *hi);
                let v = if factor == 1.0 {
                    v
                } else {
                    crate::timing::rate::round_half_even(v as f64 * factor)
                };
                let mut b = itoa::Buffer::new();
                out.extend_from_slice(b.format(v).as_bytes());
            }
            RandomSpec::Float { lo, hi, precision } => {
                let v = lo + (hi - lo) * rng.unit_f64();
                push_python_float(round_to(v * factor, *precision), out);
            }
            RandomSpec::Str(n) => {
                for _ in 0..*n {
                    out.push(STRING_ALPHABET[rng.below(STRING_ALPHABET.len() as u64) as usize]);
                }
            }
            RandomSpec::Hex(n) => {
                for _ in 0..*n {
                    out.push(HEX_UPPER[rng.below(16) as usize]);
                }
            }
            RandomSpec::List(items) => {
                out.extend_from_slice(items[rng.below(items.len() as u64) as usize].as_bytes())
            }
        }
    }
}

/// The text up to the closing `close`, if there is one.
fn bracket(s: &str, close: char) -> Option<&str> {
    s.find(close).map(|end| &s[..end])
}

fn push_hex_unpadded(v: u16, out: &mut Vec<u8>) {
    let mut started = false;
    for shift in [12, 8, 4, 0] {
        let d = ((v >> shift) & 15) as usize;
        if d != 0 || started || shift == 0 {
            out.push(HEX_LOWER[d]);
            started = true;
        }
    }
}

/// Python's `round(x, n)`: correctly rounded to `n` decimals (via exact decimal formatting
/// into a stack buffer, so the hot path does not allocate).
fn round_to(x: f64, precision: usize) -> f64 {
    use std::io::Write;
    let mut buf = [0u8; 400];
    let mut cur = std::io::Cursor::new(&mut buf[..]);
    if write!(cur, "{x:.precision$}").is_err() {
        return x;
    }
    let len = cur.position() as usize;
    std::str::from_utf8(&buf[..len])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(x)
}

/// Python's `str(float)`: shortest round-trip digits, `.0` for integral values, exponent
/// form below 1e-4 and from 1e16.
pub fn push_python_float(x: f64, out: &mut Vec<u8>) {
    use std::io::Write;
    if !x.is_finite() {
        out.extend_from_slice(if x.is_nan() {
            b"nan"
        } else if x > 0.0 {
            b"inf"
        } else {
            b"-inf"
        });
        return;
    }
    let abs = x.abs();
    if abs != 0.0 && !(1e-4..1e16).contains(&abs) {
        // Rust's `{:e}` gives `1e16` / `1.5e-5`; Python writes `1e+16` / `1.5e-05`.
        let s = format!("{x:e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        let _ = write!(
            out,
            "{mant}e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        );
        return;
    }
    let _ = write!(out, "{x}");
    if x.fract() == 0.0 {
        out.extend_from_slice(b".0");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(spec: &RandomSpec, seed: u64) -> String {
        let mut out = Vec::new();
        spec.render(&mut Rng::seed(seed), 1.0, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn parse_forms() {
        assert_eq!(RandomSpec::parse("IPv4").unwrap(), RandomSpec::Ipv4);
        assert_eq!(
            RandomSpec::parse("integer[-5:5]").unwrap(),
            RandomSpec::Integer { lo: -5, hi: 5 }
        );
        assert_eq!(
            RandomSpec::parse("integer[1:3]junk").unwrap(),
            RandomSpec::Integer { lo: 1, hi: 3 }
        );
        assert_eq!(
            RandomSpec::parse("float[1.000:2]").unwrap(),
            RandomSpec::Float {
                lo: 1.0,
                hi: 2.0,
                precision: 3
            }
        );
        assert_eq!(RandomSpec::parse("string(0)").unwrap(), RandomSpec::Str(0));
        assert_eq!(RandomSpec::parse("hex(4)").unwrap(), RandomSpec::Hex(4));
        assert_eq!(
            RandomSpec::parse("hex(1000000)").unwrap(),
            RandomSpec::Hex(1_000_000)
        );
        for huge in [
            "string(1000001)",
            "hex(99999999999999)",
            "string(99999999999999999999999)",
        ] {
            assert!(RandomSpec::parse(huge).is_err(), "{huge}");
        }
        assert_eq!(
            RandomSpec::parse(r#"list["a", 3]"#).unwrap(),
            RandomSpec::List(vec!["a".into(), "3".into()])
        );
        for bad in [
            "integer[5]",
            "integer[5:1]",
            "float[a:b]",
            "list[]",
            "list[1",
            "nope",
            "string(x)",
        ] {
            assert!(RandomSpec::parse(bad).is_err(), "{bad}");
        }
        assert!(
            RandomSpec::parse("integer[5]")
                .unwrap_err()
                .contains("integer[lo:hi]")
        );
    }

    #[test]
    fn value_domains() {
        for seed in 0..300 {
            let ip = render(&RandomSpec::Ipv4, seed);
            let parts: Vec<u32> = ip.split('.').map(|p| p.parse().unwrap()).collect();
            assert_eq!(parts.len(), 4);
            assert!(parts.iter().all(|&p| p <= 255));

            let v6 = render(&RandomSpec::Ipv6, seed);
            let groups: Vec<&str> = v6.split(':').collect();
            assert_eq!(groups.len(), 8);
            assert!(
                groups
                    .iter()
                    .all(|g| (1..=4).contains(&g.len()) && u16::from_str_radix(g, 16).is_ok())
            );
            assert!(groups.iter().all(|g| g.len() == 1 || !g.starts_with('0')));

            let mac = render(&RandomSpec::Mac, seed);
            assert_eq!(mac.len(), 17);
            assert!(
                mac.split(':')
                    .all(|g| g.len() == 2 && u8::from_str_radix(g, 16).is_ok())
            );

            let guid = render(&RandomSpec::Guid, seed);
            let lens: Vec<usize> = guid.split('-').map(str::len).collect();
            assert_eq!(lens, [8, 4, 4, 4, 12]);
            assert_eq!(&guid[14..15], "4");

            let i: i64 = render(&RandomSpec::Integer { lo: -3, hi: 3 }, seed)
                .parse()
                .unwrap();
            assert!((-3..=3).contains(&i));

            let f = render(
                &RandomSpec::Float {
                    lo: -3.0,
                    hi: 3.0,
                    precision: 1,
                },
                seed,
            );
            let fv: f64 = f.parse().unwrap();
            assert!((-3.0..=3.0).contains(&fv));
            assert_eq!(f.split('.').nth(1).unwrap().len(), 1, "{f}");

            let s = render(&RandomSpec::Str(10), seed);
            assert_eq!(s.len(), 10);
            assert!(s.bytes().all(|b| STRING_ALPHABET.contains(&b)));

            let h = render(&RandomSpec::Hex(6), seed);
            assert!(h.bytes().all(|b| HEX_UPPER.contains(&b)) && h.len() == 6);
        }
    }

    #[test]
    fn python_float_repr() {
        let f = |x: f64| {
            let mut v = Vec::new();
            push_python_float(x, &mut v);
            String::from_utf8(v).unwrap()
        };
        assert_eq!(f(1.0), "1.0");
        assert_eq!(f(-2.0), "-2.0");
        assert_eq!(f(0.1), "0.1");
        assert_eq!(f(1e16), "1e+16");
        assert_eq!(f(1e-5), "1e-05");
        assert_eq!(f(123.456), "123.456");
        assert_eq!(round_to(2.675, 2), 2.67); // binary value is below the half
    }

    #[test]
    fn float_precision_from_start_value() {
        let spec = RandomSpec::parse("float[0:3.123]").unwrap();
        for seed in 0..50 {
            let s = render(&spec, seed);
            assert!(s.ends_with(".0"), "{s}");
        }
    }
}
