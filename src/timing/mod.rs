//! Time: instants, sample time zones, Splunk relative time specs, strftime/strptime, raters and
//! the clock (real or virtual) that drives every schedule.

pub mod clock;
pub mod limits;
pub mod rate;
pub mod relative;
pub mod strftime;
pub mod strptime;

use chrono::{DateTime, FixedOffset, Local, Offset, TimeZone, Utc};

/// Microseconds since the Unix epoch (UTC). Every instant inside the engine is one of these.
pub type Micros = i64;

pub const MICROS_PER_SEC: i64 = 1_000_000;

/// The `timezone` setting of a sample: the host's local zone (Eventgen's default) or a fixed
/// `+hhmm`/`-hhmm` offset. Only wall-clock rendering uses it; instants stay absolute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tz {
    Local,
    Fixed(FixedOffset),
}

impl Tz {
    /// The wall-clock view of an instant in this zone.
    pub fn datetime(&self, t: Micros) -> DateTime<FixedOffset> {
        let utc = DateTime::<Utc>::from_timestamp_micros(t).unwrap_or_default();
        match self {
            Tz::Fixed(off) => utc.with_timezone(off),
            Tz::Local => {
                let off = Local.offset_from_utc_datetime(&utc.naive_utc()).fix();
                utc.with_timezone(&off)
            }
        }
    }

    /// Parses Eventgen's `timezone` values: `local`, or `±hhmm` (also `0000`, `hhmm`).
    pub fn parse(value: &str) -> Result<Tz, String> {
        let v = value.trim();
        if v.eq_ignore_ascii_case("local") || v.is_empty() {
            return Ok(Tz::Local);
        }
        if v.eq_ignore_ascii_case("utc") || v == "Z" {
            return Ok(Tz::Fixed(FixedOffset::east_opt(0).unwrap_or(Utc.fix())));
        }
        let (sign, digits) = match v.as_bytes()[0] {
            b'+' => (1, &v[1..]),
            b'-' => (-1, &v[1..]),
            _ => (1, v),
        };
        if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("expected local or +hhmm/-hhmm, got {value:?}"));
        }
        let hours: i32 = digits[..2].parse().unwrap_or(0);
        let minutes: i32 = digits[2..].parse().unwrap_or(0);
        if hours > 23 || minutes > 59 {
            return Err(format!("offset out of range (-2359..+2359), got {value:?}"));
        }
        FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
            .map(Tz::Fixed)
            .ok_or_else(|| format!("offset out of range, got {value:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timezone_values() {
        assert_eq!(Tz::parse("local").unwrap(), Tz::Local);
        let Tz::Fixed(o) = Tz::parse("-0530").unwrap() else {
            panic!()
        };
        assert_eq!(o.local_minus_utc(), -(5 * 3600 + 30 * 60));
        let Tz::Fixed(o) = Tz::parse("0000").unwrap() else {
            panic!()
        };
        assert_eq!(o.local_minus_utc(), 0);
        assert!(Tz::parse("+2400").is_err());
        assert!(Tz::parse("EST").is_err());
    }

    #[test]
    fn fixed_zone_renders_wall_clock() {
        let tz = Tz::parse("+0100").unwrap();
        let dt = tz.datetime(0);
        assert_eq!(dt.format("%Y-%m-%d %H:%M").to_string(), "1970-01-01 01:00");
    }
}
