//! Splunk time specifiers for `earliest`, `latest`, `backfill` and `end`: `now`, relative
//! offsets with snaps (`-15m`, `-1d@d`, `@w0`, `-1mon@mon+2h`, `@q`), and absolute times.
//! Parsed once at plan time, resolved against the sample clock at every interval.
//!
//! Semantics are Splunk's, not Eventgen 7.2.1's (bug 9): month, quarter and year offsets carry
//! across years and clamp the day to the target month's length (Mar 31 `-1mon` = Feb 28/29),
//! `@q` snaps to the first day of the quarter, and a bare snap (`@d`) is accepted. Offsets,
//! snaps and naive absolute times are computed on the wall clock of the `now` passed to
//! [`TimeSpec::resolve`], i.e. in the sample's zone (for `timezone = local` that is the host
//! offset in effect at `now`; a day is always 24 hours of that offset).
//!
//! How `end` should use this module (the caller owns `end`): first try the value as an
//! integer, because Eventgen's `end` is an execution count (`-1` = forever, `0` = nothing,
//! `N > 0` = N executions) and a bare integer would otherwise parse here as epoch seconds.
//! Any other value is a `TimeSpec`, resolved **once** against the sample clock when the sample
//! starts, giving a fixed deadline: the sample stops before the first interval whose start is
//! at or after that instant (so `end = +1h` runs one hour, `end = @d+1d` until midnight).

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone,
    Timelike,
};

use super::strptime::strptime_prefix;

/// Longest accepted number in an offset: keeps every product inside `i64`.
const MAX_AMOUNT_DIGITS: usize = 10;

/// A parsed time specifier. Resolving never fails: every error is caught by `parse`.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeSpec {
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    /// `now` plus offsets, an optional snap and offsets after the snap.
    Relative {
        before: Vec<Offset>,
        snap: Option<Snap>,
        after: Vec<Offset>,
    },
    /// An absolute time with its own offset (RFC 3339 with `Z`/offset, epoch seconds).
    Instant(DateTime<FixedOffset>),
    /// A wall-clock time without zone: read in the zone of `now`.
    Naive(NaiveDateTime),
}

/// Relative offset units. Weeks, quarters and years are stored as days and months.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Second,
    Minute,
    Hour,
    Day,
    Month,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Offset {
    amount: i64,
    unit: Unit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Snap {
    Second,
    Minute,
    Hour,
    Day,
    /// Most recent midnight of this weekday, today included (0 = Sunday … 6 = Saturday).
    Weekday(u32),
    Month,
    Quarter,
    Year,
}

const UNITS_EXPECTED: &str = "s, m, h, d, w, mon, q or y (or sec, min, hr, day, week, month, \
                              qtr, year and their plurals)";
const SNAPS_EXPECTED: &str = "s, m, h, d, w, w0-w6, mon, q or y";

/// The offset unit a word names, as (unit, multiplier).
fn offset_unit(word: &str) -> Option<(Unit, i64)> {
    Some(match word.to_ascii_lowercase().as_str() {
        "s" | "sec" | "secs" | "second" | "seconds" => (Unit::Second, 1),
        "m" | "min" | "mins" | "minute" | "minutes" => (Unit::Minute, 1),
        "h" | "hr" | "hrs" | "hour" | "hours" => (Unit::Hour, 1),
        "d" | "day" | "days" => (Unit::Day, 1),
        "w" | "week" | "weeks" => (Unit::Day, 7),
        "mon" | "month" | "months" => (Unit::Month, 1),
        "q" | "qtr" | "qtrs" | "quarter" | "quarters" => (Unit::Month, 3),
        "y" | "yr" | "yrs" | "year" | "years" => (Unit::Month, 12),
        _ => return None,
    })
}

/// The snap a word names.
fn snap_unit(word: &str) -> Option<Snap> {
    let lower = word.to_ascii_lowercase();
    if let Some(digit) = lower.strip_prefix('w')
        && digit.len() == 1
        && let Some(n) = digit.chars().next().and_then(|c| c.to_digit(10))
    {
        return (n <= 6).then_some(Snap::Weekday(n));
    }
    Some(match lower.as_str() {
        "s" | "sec" | "secs" | "second" | "seconds" => Snap::Second,
        "m" | "min" | "mins" | "minute" | "minutes" => Snap::Minute,
        "h" | "hr" | "hrs" | "hour" | "hours" => Snap::Hour,
        "d" | "day" | "days" => Snap::Day,
        "w" | "week" | "weeks" => Snap::Weekday(0),
        "mon" | "month" | "months" => Snap::Month,
        "q" | "qtr" | "qtrs" | "quarter" | "quarters" => Snap::Quarter,
        "y" | "yr" | "yrs" | "year" | "years" => Snap::Year,
        _ => return None,
    })
}

impl TimeSpec {
    /// `now`: the sample clock itself.
    pub fn now() -> TimeSpec {
        TimeSpec {
            kind: Kind::Relative {
                before: Vec::new(),
                snap: None,
                after: Vec::new(),
            },
        }
    }

    /// Parses a time specifier. Accepts `now` (any case), Splunk relative syntax
    /// (`[+-]N unit` repeated, then optionally `@snap` and more offsets), absolute times
    /// (RFC 3339 with `Z` or an offset, `%Y-%m-%d[ T]%H:%M:%S[.f]` with an optional zone,
    /// `%Y-%m-%d`, `%m/%d/%Y:%H:%M:%S`) and epoch seconds (digits with an optional fraction).
    /// The error text says what was expected.
    pub fn parse(text: &str) -> Result<TimeSpec, String> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("now") {
            return Ok(TimeSpec {
                kind: Kind::Relative {
                    before: Vec::new(),
                    snap: None,
                    after: Vec::new(),
                },
            });
        }
        if t.starts_with(['+', '-', '@']) {
            return parse_relative(t).map(|kind| TimeSpec { kind });
        }
        if let Some(kind) = parse_epoch(t).or_else(|| parse_absolute(t)) {
            return Ok(TimeSpec { kind });
        }
        Err(format!(
            "expected now, a relative time (-15m, -1d@d, @w0, -1mon@mon+2h), an absolute time \
             (2024-01-02T03:04:05Z, 2024-01-02 03:04:05, 2024-01-02, 01/02/2024:03:04:05) or \
             epoch seconds, got {text:?}"
        ))
    }

    /// `true` for plain `now` (an offset of zero, no snap).
    pub fn is_now(&self) -> bool {
        match &self.kind {
            Kind::Relative {
                before,
                snap: None,
                after,
            } => before.iter().chain(after).all(|o| o.amount == 0),
            _ => false,
        }
    }

    /// `true` for `now` and relative specs (they move with the clock); `false` for absolute
    /// times.
    pub fn is_relative(&self) -> bool {
        matches!(self.kind, Kind::Relative { .. })
    }

    /// The instant this spec denotes when the sample clock reads `now` (wall clock in the
    /// sample's zone, which is where snaps such as `@d` are computed). The result is in
    /// `now`'s offset. Pure offsets keep `now`'s sub-second part; a snap truncates it.
    /// Results beyond chrono's range saturate at its ends.
    pub fn resolve(&self, now: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
        let zone = *now.offset();
        match &self.kind {
            Kind::Instant(t) => t.with_timezone(&zone),
            Kind::Naive(local) => attach(Some(*local), zone, true),
            Kind::Relative {
                before,
                snap,
                after,
            } => {
                let mut local = Some(now.naive_local());
                let mut forward = true;
                let mut shift = |local: Option<NaiveDateTime>, offsets: &[Offset]| {
                    offsets.iter().fold(local, |l, o| {
                        // Remember the direction of the offset that overflows, if any.
                        if l.is_some() {
                            forward = o.amount >= 0;
                        }
                        l.and_then(|l| apply_offset(l, *o))
                    })
                };
                local = shift(local, before);
                if let Some(s) = snap {
                    local = local.map(|l| apply_snap(l, *s));
                    local = shift(local, after);
                }
                attach(local, zone, forward)
            }
        }
    }
}

/// Puts a wall-clock time back into `zone`; `None` (overflow) saturates towards `forward`.
fn attach(local: Option<NaiveDateTime>, zone: FixedOffset, forward: bool) -> DateTime<FixedOffset> {
    let limit = if forward {
        DateTime::<chrono::Utc>::MAX_UTC
    } else {
        DateTime::<chrono::Utc>::MIN_UTC
    };
    local
        .and_then(|l| zone.from_local_datetime(&l).single())
        .unwrap_or_else(|| limit.with_timezone(&zone))
}

fn apply_offset(local: NaiveDateTime, offset: Offset) -> Option<NaiveDateTime> {
    let n = offset.amount;
    match offset.unit {
        Unit::Second => local.checked_add_signed(Duration::try_seconds(n)?),
        Unit::Minute => local.checked_add_signed(Duration::try_minutes(n)?),
        Unit::Hour => local.checked_add_signed(Duration::try_hours(n)?),
        Unit::Day => local.checked_add_signed(Duration::try_days(n)?),
        Unit::Month => {
            let date = add_months(local.date(), n)?;
            Some(date.and_time(local.time()))
        }
    }
}

/// Calendar month arithmetic with the day clamped to the target month's length.
pub fn add_months(date: NaiveDate, months: i64) -> Option<NaiveDate> {
    let index = i64::from(date.year()) * 12 + i64::from(date.month0()) + months;
    let year = i32::try_from(index.div_euclid(12)).ok()?;
    let month = index.rem_euclid(12) as u32 + 1;
    let day = date.day().min(days_in_month(year, month)?);
    NaiveDate::from_ymd_opt(year, month, day)
}

fn days_in_month(year: i32, month: u32) -> Option<u32> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year.checked_add(1)?, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)?
    };
    Some(next.signed_duration_since(first).num_days() as u32)
}

fn apply_snap(local: NaiveDateTime, snap: Snap) -> NaiveDateTime {
    let date = local.date();
    let (h, m, s) = (local.hour(), local.minute(), local.second());
    let midnight = |d: NaiveDate| d.and_time(NaiveTime::MIN);
    let first_of =
        |month: u32| NaiveDate::from_ymd_opt(date.year(), month, 1).map_or(local, midnight);
    match snap {
        Snap::Second => date.and_time(NaiveTime::from_hms_opt(h, m, s).unwrap_or(NaiveTime::MIN)),
        Snap::Minute => date.and_time(NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)),
        Snap::Hour => date.and_time(NaiveTime::from_hms_opt(h, 0, 0).unwrap_or(NaiveTime::MIN)),
        Snap::Day => midnight(date),
        Snap::Weekday(n) => {
            let back =
                (i64::from(date.weekday().num_days_from_sunday()) - i64::from(n)).rem_euclid(7);
            date.checked_sub_signed(Duration::days(back))
                .map_or(local, midnight)
        }
        Snap::Month => first_of(date.month()),
        Snap::Quarter => first_of(date.month0() / 3 * 3 + 1),
        Snap::Year => first_of(1),
    }
}

/// Splits a relative spec into `[+-]N unit` offsets around at most one `@snap`.
fn parse_relative(text: &str) -> Result<Kind, String> {
    let bytes = text.as_bytes();
    let mut before = Vec::new();
    let mut after = Vec::new();
    let mut snap = None;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'@' => {
                if snap.is_some() {
                    return Err(format!("only one snap (@unit) is allowed, got {text:?}"));
                }
                let word_end = i + 1 + word_len(&text[i + 1..]);
                let word = &text[i + 1..word_end];
                if word.is_empty() {
                    return Err(format!(
                        "expected a snap unit ({SNAPS_EXPECTED}) after @ in {text:?}"
                    ));
                }
                snap = Some(snap_unit(word).ok_or_else(|| {
                    format!("unknown snap unit {word:?} in {text:?}; expected {SNAPS_EXPECTED}")
                })?);
                i = word_end;
            }
            sign @ (b'+' | b'-') => {
                let digits = bytes[i + 1..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .count();
                let sign_char = sign as char;
                if digits == 0 {
                    return Err(format!(
                        "expected a number after {sign_char:?} in {text:?} (e.g. -15m)"
                    ));
                }
                if digits > MAX_AMOUNT_DIGITS {
                    return Err(format!("offset number too large in {text:?}"));
                }
                let number_end = i + 1 + digits;
                let amount: i64 = text[i + 1..number_end]
                    .parse()
                    .map_err(|_| format!("offset number too large in {text:?}"))?;
                let word_end = number_end + word_len(&text[number_end..]);
                let word = &text[number_end..word_end];
                let number = &text[i..number_end];
                if word.is_empty() {
                    return Err(format!(
                        "expected a unit ({UNITS_EXPECTED}) after {number:?} in {text:?}"
                    ));
                }
                let (unit, multiplier) = offset_unit(word).ok_or_else(|| {
                    if snap_unit(word).is_some_and(|s| matches!(s, Snap::Weekday(_))) {
                        format!("{word:?} is only valid as a snap (@{word}), in {text:?}")
                    } else {
                        format!("unknown time unit {word:?} in {text:?}; expected {UNITS_EXPECTED}")
                    }
                })?;
                let signed = if sign == b'-' { -amount } else { amount };
                let offset = Offset {
                    amount: signed * multiplier,
                    unit,
                };
                if snap.is_some() {
                    after.push(offset);
                } else {
                    before.push(offset);
                }
                i = word_end;
            }
            _ => {
                let rest: String = text[i..].chars().take(12).collect();
                return Err(format!(
                    "expected +, - or @ at {rest:?} in {text:?} (relative times look like \
                     -15m, -1d@d, @w0, -1mon@mon+2h)"
                ));
            }
        }
    }
    Ok(Kind::Relative {
        before,
        snap,
        after,
    })
}

/// Length of the unit word at the start of `text`: letters, and a digit directly after a
/// lone `w` (the `w0`..`w6` snaps).
fn word_len(text: &str) -> usize {
    let letters = text.bytes().take_while(|b| b.is_ascii_alphabetic()).count();
    let bytes = text.as_bytes();
    if letters == 1
        && bytes[0].eq_ignore_ascii_case(&b'w')
        && bytes.get(1).is_some_and(u8::is_ascii_digit)
    {
        return 2;
    }
    letters
}

/// Epoch seconds: digits with an optional fraction.
fn parse_epoch(text: &str) -> Option<Kind> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    if int.is_empty() || int.len() > 12 || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) || (text.contains('.') && frac.is_empty()) {
        return None;
    }
    let secs: i64 = int.parse().ok()?;
    let mut nanos = 0u32;
    let mut scale = 100_000_000u32;
    for b in frac.bytes().take(9) {
        nanos += u32::from(b - b'0') * scale;
        scale /= 10;
    }
    let t = DateTime::from_timestamp(secs, nanos)?;
    Some(Kind::Instant(t.fixed_offset()))
}

/// `%Y-%m-%d[ T]%H:%M:%S[.f][zone]`, `%m/%d/%Y:%H:%M:%S[.f]` and `%Y-%m-%d`.
fn parse_absolute(text: &str) -> Option<Kind> {
    const FORMS: [(&str, bool); 4] = [
        ("%Y-%m-%dT%H:%M:%S", true),
        ("%Y-%m-%d %H:%M:%S", true),
        ("%m/%d/%Y:%H:%M:%S", false),
        ("%Y-%m-%d", false),
    ];
    for (format, zoned) in FORMS {
        let Some((naive, _, used)) = strptime_prefix(format, text) else {
            continue;
        };
        let mut rest = &text[used..];
        let mut local = naive;
        if format.contains("%S")
            && let Some(frac) = rest.strip_prefix('.')
        {
            let n = frac.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 {
                return None;
            }
            let mut nanos = 0u32;
            let mut scale = 100_000_000u32;
            for b in frac[..n].bytes().take(9) {
                nanos += u32::from(b - b'0') * scale;
                scale /= 10;
            }
            local = local.with_nanosecond(nanos)?;
            rest = &frac[n..];
        }
        if rest.is_empty() {
            return Some(Kind::Naive(local));
        }
        if zoned && let Some(zone) = parse_zone(rest) {
            let t = zone.from_local_datetime(&local).single()?;
            return Some(Kind::Instant(t));
        }
        if !format.contains("%S") {
            return None;
        }
    }
    None
}

/// `Z`/`z`, `+hh:mm`, `+hhmm` or `+hh` (and `-`).
fn parse_zone(text: &str) -> Option<FixedOffset> {
    if text.eq_ignore_ascii_case("z") {
        return FixedOffset::east_opt(0);
    }
    let sign = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = text[1..].chars().filter(|&c| c != ':').collect();
    let colon_ok = match text.len() {
        6 => text.as_bytes()[3] == b':',
        _ => !text.contains(':'),
    };
    if !colon_ok || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m) = match digits.len() {
        2 => (digits.parse::<i32>().ok()?, 0),
        4 => (
            digits[..2].parse::<i32>().ok()?,
            digits[2..].parse::<i32>().ok()?,
        ),
        _ => return None,
    };
    if h > 23 || m > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

/// Parses a length of time into seconds: a plain number (`90`, `1.5`) or one or more
/// `N unit` parts with fixed-length units (`15m`, `1h30m`, `2d`, `1w`); no sign. Months,
/// quarters and years have no fixed length and are rejected.
pub fn parse_duration_secs(text: &str) -> Result<f64, String> {
    let t = text.trim();
    if let Ok(secs) = t.parse::<f64>()
        && secs.is_finite()
        && secs >= 0.0
        && !t.starts_with(['+', '-'])
    {
        return Ok(secs);
    }
    let expected = || {
        format!(
            "expected a duration such as 90, 1.5, 15m, 1h30m or 2d (units s, m, h, d, w), \
             got {text:?}"
        )
    };
    let mut total = 0.0;
    let mut rest = t;
    if rest.is_empty() {
        return Err(expected());
    }
    while !rest.is_empty() {
        let n = rest
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b'.')
            .count();
        let amount: f64 = rest[..n].parse().map_err(|_| expected())?;
        let w = word_len(&rest[n..]);
        let word = &rest[n..n + w];
        let seconds_per_unit = match offset_unit(word) {
            Some((Unit::Second, k)) => k as f64,
            Some((Unit::Minute, k)) => 60.0 * k as f64,
            Some((Unit::Hour, k)) => 3600.0 * k as f64,
            Some((Unit::Day, k)) => 86400.0 * k as f64,
            Some((Unit::Month, _)) => {
                return Err(format!(
                    "{word:?} has no fixed length; use s, m, h, d or w in {text:?}"
                ));
            }
            None => return Err(expected()),
        };
        total += amount * seconds_per_unit;
        rest = &rest[n + w..];
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A wall-clock instant in a fixed offset (seconds east).
    fn at(offset: i32, text: &str) -> DateTime<FixedOffset> {
        let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        FixedOffset::east_opt(offset)
            .unwrap()
            .from_local_datetime(&naive)
            .unwrap()
    }

    fn resolve(spec: &str, now: &str) -> String {
        let t = TimeSpec::parse(spec)
            .unwrap_or_else(|e| panic!("{spec}: {e}"))
            .resolve(at(0, now));
        t.format("%Y-%m-%d %H:%M:%S%.f").to_string()
    }

    #[test]
    fn now_constructor_is_parsed_now() {
        assert_eq!(TimeSpec::now(), TimeSpec::parse("now").unwrap());
        assert!(TimeSpec::now().is_now());
    }

    #[test]
    fn offsets_and_snaps() {
        // 2024-03-13 is a Wednesday.
        let now = "2024-03-13 14:25:36.250";
        let table = [
            ("now", "2024-03-13 14:25:36.250"),
            ("NOW", "2024-03-13 14:25:36.250"),
            ("-15m", "2024-03-13 14:10:36.250"),
            ("+15min", "2024-03-13 14:40:36.250"),
            ("-30s", "2024-03-13 14:25:06.250"),
            ("-2h", "2024-03-13 12:25:36.250"),
            ("-1d", "2024-03-12 14:25:36.250"),
            ("-1w", "2024-03-06 14:25:36.250"),
            ("-2weeks", "2024-02-28 14:25:36.250"),
            ("-1mon", "2024-02-13 14:25:36.250"),
            ("-1q", "2023-12-13 14:25:36.250"),
            ("-1y", "2023-03-13 14:25:36.250"),
            ("+1yr", "2025-03-13 14:25:36.250"),
            ("-1d+2h", "2024-03-12 16:25:36.250"),
            ("-1h-30m", "2024-03-13 12:55:36.250"),
            ("-1H", "2024-03-13 13:25:36.250"),
            ("-90SECONDS", "2024-03-13 14:24:06.250"),
            ("+0s", "2024-03-13 14:25:36.250"),
            ("@s", "2024-03-13 14:25:36"),
            ("@m", "2024-03-13 14:25:00"),
            ("@h", "2024-03-13 14:00:00"),
            ("@d", "2024-03-13 00:00:00"),
            ("-1d@d", "2024-03-12 00:00:00"),
            ("@d-1h", "2024-03-12 23:00:00"),
            ("-1d@d+2h-30m", "2024-03-12 01:30:00"),
            ("@w0", "2024-03-10 00:00:00"),
            ("@w", "2024-03-10 00:00:00"),
            ("@week", "2024-03-10 00:00:00"),
            ("@w1", "2024-03-11 00:00:00"),
            ("@w3", "2024-03-13 00:00:00"),
            ("@w4", "2024-03-07 00:00:00"),
            ("@w6", "2024-03-09 00:00:00"),
            ("@mon", "2024-03-01 00:00:00"),
            ("-1mon@mon+2h", "2024-02-01 02:00:00"),
            ("@q", "2024-01-01 00:00:00"),
            ("@y", "2024-01-01 00:00:00"),
            ("@year+1mon", "2024-02-01 00:00:00"),
        ];
        for (spec, want) in table {
            assert_eq!(resolve(spec, now), want, "{spec}");
        }
    }

    #[test]
    fn week_snap_on_sunday_keeps_today() {
        // 2024-03-10 is a Sunday.
        assert_eq!(resolve("@w0", "2024-03-10 09:00:00"), "2024-03-10 00:00:00");
        assert_eq!(resolve("@w6", "2024-03-10 09:00:00"), "2024-03-09 00:00:00");
        assert_eq!(resolve("@w1", "2024-03-10 09:00:00"), "2024-03-04 00:00:00");
        // Crossing a year boundary: 2025-01-01 is a Wednesday.
        assert_eq!(resolve("@w0", "2025-01-01 09:00:00"), "2024-12-29 00:00:00");
    }

    #[test]
    fn quarter_snap_in_every_quarter() {
        let table = [
            ("2024-01-01 00:00:00", "2024-01-01 00:00:00"),
            ("2024-02-15 10:00:00", "2024-01-01 00:00:00"),
            ("2024-03-31 23:59:59", "2024-01-01 00:00:00"),
            ("2024-04-01 00:00:01", "2024-04-01 00:00:00"),
            ("2024-06-30 12:00:00", "2024-04-01 00:00:00"),
            ("2024-08-01 12:00:00", "2024-07-01 00:00:00"),
            ("2024-09-30 12:00:00", "2024-07-01 00:00:00"),
            ("2024-10-01 12:00:00", "2024-10-01 00:00:00"),
            ("2024-12-31 23:59:59", "2024-10-01 00:00:00"),
        ];
        for (now, want) in table {
            assert_eq!(resolve("@q", now), want, "@q at {now}");
        }
        assert_eq!(
            resolve("-1q@q", "2024-02-15 10:00:00"),
            "2023-10-01 00:00:00"
        );
    }

    #[test]
    fn month_ends_and_year_crossings() {
        let table = [
            ("+1mon", "2024-01-31 08:00:00", "2024-02-29 08:00:00"),
            ("+1mon", "2023-01-31 08:00:00", "2023-02-28 08:00:00"),
            ("-1mon", "2024-03-31 08:00:00", "2024-02-29 08:00:00"),
            ("-1mon", "2023-03-31 08:00:00", "2023-02-28 08:00:00"),
            ("-1mon", "2024-05-31 08:00:00", "2024-04-30 08:00:00"),
            ("+1mon", "2024-12-15 08:00:00", "2025-01-15 08:00:00"),
            ("-1mon", "2024-01-15 08:00:00", "2023-12-15 08:00:00"),
            ("-13mon", "2024-05-15 08:00:00", "2023-04-15 08:00:00"),
            ("+25months", "2024-11-30 08:00:00", "2026-12-30 08:00:00"),
            ("-1q", "2024-05-31 08:00:00", "2024-02-29 08:00:00"),
            ("-1y", "2024-02-29 08:00:00", "2023-02-28 08:00:00"),
            ("+1y", "2024-02-29 08:00:00", "2025-02-28 08:00:00"),
            ("+4y", "2024-02-29 08:00:00", "2028-02-29 08:00:00"),
            ("-1mon-1mon", "2024-03-31 08:00:00", "2024-01-29 08:00:00"),
        ];
        for (spec, now, want) in table {
            assert_eq!(resolve(spec, now), want, "{spec} at {now}");
        }
    }

    #[test]
    fn snaps_use_the_zone_of_now() {
        // 02:00 UTC is 21:00 the day before at -05:00.
        let now = at(-5 * 3600, "2024-03-12 21:00:00");
        let t = TimeSpec::parse("@d").unwrap().resolve(now);
        assert_eq!(t, at(-5 * 3600, "2024-03-12 00:00:00"));
        assert_eq!(t.offset().local_minus_utc(), -5 * 3600);
        assert_eq!(t.timestamp(), 1_710_219_600);
    }

    #[test]
    fn absolute_forms() {
        let now = at(3600, "2024-03-13 14:25:36.250");
        let table = [
            ("2024-01-02T03:04:05Z", at(0, "2024-01-02 03:04:05")),
            (
                "2024-01-02T03:04:05+05:30",
                at(19800, "2024-01-02 03:04:05"),
            ),
            (
                "2024-01-02T03:04:05-0800",
                at(-28800, "2024-01-02 03:04:05"),
            ),
            ("2024-01-02 03:04:05.5Z", at(0, "2024-01-02 03:04:05.5")),
            ("2024-01-02 03:04:05", at(3600, "2024-01-02 03:04:05")),
            ("2024-01-02T03:04:05", at(3600, "2024-01-02 03:04:05")),
            (
                "2024-01-02T03:04:05.123456",
                at(3600, "2024-01-02 03:04:05.123456"),
            ),
            ("2024-01-02", at(3600, "2024-01-02 00:00:00")),
            ("01/02/2024:03:04:05", at(3600, "2024-01-02 03:04:05")),
            ("1600000000", at(0, "2020-09-13 12:26:40")),
            ("1600000000.25", at(0, "2020-09-13 12:26:40.25")),
            (" 2024-01-02 ", at(3600, "2024-01-02 00:00:00")),
        ];
        for (spec, want) in table {
            let parsed = TimeSpec::parse(spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
            assert!(!parsed.is_relative(), "{spec}");
            assert!(!parsed.is_now(), "{spec}");
            let got = parsed.resolve(now);
            assert_eq!(got, want, "{spec}");
            assert_eq!(got.offset(), now.offset(), "{spec} keeps now's zone");
        }
    }

    #[test]
    fn is_now_only_for_zero_offsets_without_snap() {
        let table = [
            ("now", true),
            ("Now", true),
            ("+0s", true),
            ("-0d", true),
            ("-1s", false),
            ("@s", false),
            ("2024-01-02", false),
        ];
        for (spec, want) in table {
            assert_eq!(TimeSpec::parse(spec).unwrap().is_now(), want, "{spec}");
        }
    }

    #[test]
    fn rejections_say_what_was_expected() {
        let table = [
            ("-h", "expected a number after '-'"),
            ("+", "expected a number after '+'"),
            ("foo", "expected now, a relative time"),
            ("", "expected now, a relative time"),
            ("-1x", "unknown time unit \"x\""),
            ("-1", "expected a unit"),
            ("@zz", "unknown snap unit \"zz\""),
            ("@", "expected a snap unit"),
            ("@w7", "unknown snap unit \"w7\""),
            ("-1w0", "only valid as a snap"),
            ("-1d@d@h", "only one snap"),
            ("-1d foo", "expected +, - or @"),
            ("now-1d", "expected now, a relative time"),
            ("-99999999999d", "too large"),
            ("2024-13-01", "expected now, a relative time"),
            ("2024-01-02 03:04:05 junk", "expected now, a relative time"),
            ("2024-01-02T03:04:05+25:00", "expected now, a relative time"),
            ("1600000000.", "expected now, a relative time"),
        ];
        for (spec, want) in table {
            let err = TimeSpec::parse(spec).expect_err(spec);
            assert!(err.contains(want), "{spec}: {err}");
        }
    }

    #[test]
    fn huge_offsets_saturate_instead_of_panicking() {
        let now = at(0, "2024-03-13 14:25:36");
        let far = TimeSpec::parse("+9999999999y").unwrap().resolve(now);
        assert!(far > now);
        let past = TimeSpec::parse("-9999999999d").unwrap().resolve(now);
        assert!(past < now);
        let still_far = TimeSpec::parse("+9999999999y-1d").unwrap().resolve(now);
        assert_eq!(still_far, far);
    }

    #[test]
    fn durations() {
        let table = [
            ("90", 90.0),
            ("1.5", 1.5),
            ("15m", 900.0),
            ("1h30m", 5400.0),
            ("2d", 172_800.0),
            ("1w", 604_800.0),
            ("10sec", 10.0),
            ("0.5h", 1800.0),
        ];
        for (text, want) in table {
            assert_eq!(parse_duration_secs(text), Ok(want), "{text}");
        }
        for bad in ["", "-15m", "1mon", "abc", "15x", "m"] {
            assert!(parse_duration_secs(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn add_months_clamps() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(add_months(d(2024, 1, 31), 1), Some(d(2024, 2, 29)));
        assert_eq!(add_months(d(2024, 12, 31), 2), Some(d(2025, 2, 28)));
        assert_eq!(add_months(d(2024, 1, 1), -1), Some(d(2023, 12, 1)));
        assert_eq!(add_months(d(2024, 3, 31), -12), Some(d(2023, 3, 31)));
    }
}
