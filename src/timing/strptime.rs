//! Python-compatible `strptime`, for replay's original timestamps and autotimestamp detection.
//!
//! Follows CPython's `_strptime` (a regex built from the format): whitespace in the format
//! matches any run of whitespace, names and literals match case-insensitively, numeric fields
//! take the longest valid width first and backtrack the way the regex does, and missing fields
//! default to 1900-01-01 00:00:00. Extensions over Python: `%s` (epoch, as Eventgen's replay
//! reads it), `%e %k %l %P %h %D %F %T %R %r %n %t` (glibc's strptime directives). It runs at
//! load time, so it favours fidelity over speed.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime};

use super::strftime::{MONTH_LONG, MONTH_SHORT, WEEKDAY_LONG, WEEKDAY_SHORT};

/// Fields collected while matching; copied on every step so backtracking needs no undo.
#[derive(Debug, Clone, Copy, Default)]
struct Parsed {
    year: Option<i32>,
    year2: Option<i32>,
    month: Option<u32>,
    day: Option<u32>,
    hour24: Option<u32>,
    hour12: Option<u32>,
    pm: Option<bool>,
    minute: Option<u32>,
    second: Option<u32>,
    micro: Option<u32>,
    julian: Option<u32>,
    /// Python numbering: Monday = 0.
    weekday: Option<u32>,
    week_sunday: Option<u32>,
    week_monday: Option<u32>,
    iso_year: Option<i32>,
    iso_week: Option<u32>,
    offset: Option<i32>,
    epoch_micros: Option<i64>,
}

/// Parses `text` with a Python `strptime` format. Returns the naive date-time (year 1900 when
/// the format has no year, as Python does) and the UTC offset if the format had `%z`. The
/// whole text must be consumed. `%s` (not in Python's strptime, but what Eventgen's replay
/// accepts) yields the UTC date-time with offset 0; see [`strptime_prefix`].
///
/// As in Python, a year-less `Feb 29` fails (1900 is not a leap year); replay should use
/// [`strptime_in_year`] instead.
pub fn strptime(format: &str, text: &str) -> Option<(NaiveDateTime, Option<FixedOffset>)> {
    strptime_in_year(format, text, 1900)
}

/// [`strptime`] with another default year for formats without `%Y`/`%y`/`%G` (replay passes
/// the current year, which also makes `Feb 29` parse in leap years).
pub fn strptime_in_year(
    format: &str,
    text: &str,
    default_year: i32,
) -> Option<(NaiveDateTime, Option<FixedOffset>)> {
    let (dt, off, used) = parse_prefix(format, text, default_year)?;
    (used == text.len()).then_some((dt, off))
}

/// Like [`strptime`] but the text may go on after the match: returns the bytes consumed as
/// well. The match is the one Python's `re.match` finds (first alternative in order,
/// backtracking only to make the pattern match at all).
///
/// `%s` matches digits with an optional fraction; like Eventgen's replay, an integer part of
/// more than 10 digits is read as milliseconds/microseconds/… (the first 10 digits are the
/// seconds).
pub fn strptime_prefix(
    format: &str,
    text: &str,
) -> Option<(NaiveDateTime, Option<FixedOffset>, usize)> {
    parse_prefix(format, text, 1900)
}

fn parse_prefix(
    format: &str,
    text: &str,
    default_year: i32,
) -> Option<(NaiveDateTime, Option<FixedOffset>, usize)> {
    let expanded = expand_composites(format)?;
    let (parsed, used) = match_at(&expanded, 0, text, 0, Parsed::default())?;
    let (dt, off) = build(&parsed, default_year)?;
    Some((dt, off, used))
}

/// Replaces composite directives by their C-locale expansion and checks every directive is
/// known (Python raises "bad directive" otherwise).
fn expand_composites(format: &str) -> Option<String> {
    let mut out = String::with_capacity(format.len() + 16);
    let mut chars = format.chars();
    while let Some(ch) = chars.next() {
        if ch != '%' {
            out.push(ch);
            continue;
        }
        let conv = chars.next()?;
        let expansion = match conv {
            'c' => "%a %b %d %H:%M:%S %Y",
            'x' | 'D' => "%m/%d/%y",
            'X' | 'T' => "%H:%M:%S",
            'F' => "%Y-%m-%d",
            'R' => "%H:%M",
            'r' => "%I:%M:%S %p",
            'a' | 'A' | 'b' | 'B' | 'h' | 'd' | 'e' | 'f' | 'H' | 'k' | 'I' | 'l' | 'j' | 'm'
            | 'M' | 'S' | 'p' | 'P' | 'U' | 'W' | 'w' | 'u' | 'y' | 'Y' | 'G' | 'V' | 'z' | 'Z'
            | 's' | '%' | 'n' | 't' => {
                out.push('%');
                out.push(conv);
                continue;
            }
            _ => return None,
        };
        out.push_str(expansion);
    }
    Some(out)
}

/// Byte length of the run of whitespace at the start of `text` (ASCII and Unicode, as
/// Python's `\s`).
fn whitespace_run(text: &str) -> usize {
    text.char_indices()
        .find(|&(_, c)| !c.is_whitespace())
        .map_or(text.len(), |(i, _)| i)
}

/// Matches `fmt[fi..]` against `text[ti..]`, returning the fields and where the text match
/// ended. Tries alternatives in the order Python's regex would. Both positions always sit on
/// character boundaries.
fn match_at(fmt: &str, fi: usize, text: &str, ti: usize, p: Parsed) -> Option<(Parsed, usize)> {
    let Some(fc) = fmt[fi..].chars().next() else {
        return Some((p, ti));
    };
    let rest = &text[ti..];
    if fc.is_whitespace() {
        // A whitespace run in the format is `\s+`: greedy, giving back on failure.
        let fmt_run = whitespace_run(&fmt[fi..]);
        let mut end = whitespace_run(rest);
        while end > 0 {
            if let Some(found) = match_at(fmt, fi + fmt_run, text, ti + end, p) {
                return Some(found);
            }
            end = rest[..end].char_indices().next_back().map_or(0, |(i, _)| i);
        }
        return None;
    }
    if fc != '%' {
        let tc = rest.chars().next()?;
        let same = if fc.is_ascii() {
            tc.eq_ignore_ascii_case(&fc)
        } else {
            tc == fc
        };
        return same
            .then(|| match_at(fmt, fi + fc.len_utf8(), text, ti + tc.len_utf8(), p))
            .flatten();
    }
    let conv = *fmt.as_bytes().get(fi + 1)?;
    let next = fi + 2;
    let rest = rest.as_bytes();
    let try_num = |lens: &[(usize, u32, u32)],
                   space_digit: bool,
                   set: &dyn Fn(&mut Parsed, u32)|
     -> Option<(Parsed, usize)> {
        for &(len, lo, hi) in lens {
            if let Some(v) = digits_value(rest, len)
                && (lo..=hi).contains(&v)
            {
                let mut q = p;
                set(&mut q, v);
                if let Some(found) = match_at(fmt, next, text, ti + len, q) {
                    return Some(found);
                }
            }
        }
        if space_digit
            && rest.first() == Some(&b' ')
            && let Some(v) = digits_value(&rest[1..], 1)
            && v >= lens[lens.len() - 1].1
        {
            let mut q = p;
            set(&mut q, v);
            return match_at(fmt, next, text, ti + 2, q);
        }
        None
    };
    match conv {
        b'd' | b'e' => try_num(&[(2, 1, 31), (1, 1, 9)], true, &|q, v| q.day = Some(v)),
        b'H' | b'k' => try_num(&[(2, 0, 23), (1, 0, 9)], conv == b'k', &|q, v| {
            q.hour24 = Some(v)
        }),
        b'I' | b'l' => try_num(&[(2, 1, 12), (1, 1, 9)], conv == b'l', &|q, v| {
            q.hour12 = Some(v)
        }),
        b'm' => try_num(&[(2, 1, 12), (1, 1, 9)], false, &|q, v| q.month = Some(v)),
        b'M' => try_num(&[(2, 0, 59), (1, 0, 9)], false, &|q, v| q.minute = Some(v)),
        b'S' => try_num(&[(2, 0, 61), (1, 0, 9)], false, &|q, v| q.second = Some(v)),
        b'j' => try_num(&[(3, 1, 366), (2, 1, 99), (1, 1, 9)], false, &|q, v| {
            q.julian = Some(v)
        }),
        b'U' => try_num(&[(2, 0, 53), (1, 0, 9)], false, &|q, v| {
            q.week_sunday = Some(v)
        }),
        b'W' => try_num(&[(2, 0, 53), (1, 0, 9)], false, &|q, v| {
            q.week_monday = Some(v)
        }),
        b'V' => try_num(&[(2, 1, 53), (1, 0, 9)], false, &|q, v| {
            q.iso_week = Some(v)
        }),
        b'w' => try_num(&[(1, 0, 6)], false, &|q, v| q.weekday = Some((v + 6) % 7)),
        b'u' => try_num(&[(1, 1, 7)], false, &|q, v| q.weekday = Some(v - 1)),
        b'y' => try_num(&[(2, 0, 99)], false, &|q, v| q.year2 = Some(v as i32)),
        b'Y' => try_num(&[(4, 0, 9999)], false, &|q, v| q.year = Some(v as i32)),
        b'G' => try_num(&[(4, 0, 9999)], false, &|q, v| q.iso_year = Some(v as i32)),
        b'f' => {
            for len in (1..=6).rev() {
                if let Some(v) = digits_value(rest, len) {
                    let mut q = p;
                    q.micro = Some(v * 10u32.pow(6 - len as u32));
                    if let Some(found) = match_at(fmt, next, text, ti + len, q) {
                        return Some(found);
                    }
                }
            }
            None
        }
        b'a' | b'A' => {
            let table = if conv == b'A' {
                &WEEKDAY_LONG
            } else {
                &WEEKDAY_SHORT
            };
            let (i, len) = match_name(rest, table)?;
            let mut q = p;
            q.weekday = Some((i as u32 + 6) % 7);
            match_at(fmt, next, text, ti + len, q)
        }
        b'b' | b'B' | b'h' => {
            let table = if conv == b'B' {
                &MONTH_LONG
            } else {
                &MONTH_SHORT
            };
            let (i, len) = match_name(rest, table)?;
            let mut q = p;
            q.month = Some(i as u32 + 1);
            match_at(fmt, next, text, ti + len, q)
        }
        b'p' | b'P' => {
            let word = rest.get(..2)?;
            let pm = if word.eq_ignore_ascii_case(b"am") {
                false
            } else if word.eq_ignore_ascii_case(b"pm") {
                true
            } else {
                return None;
            };
            let mut q = p;
            q.pm = Some(pm);
            match_at(fmt, next, text, ti + 2, q)
        }
        b'z' => {
            let (offset, len) = match_offset(rest)?;
            let mut q = p;
            q.offset = Some(offset);
            match_at(fmt, next, text, ti + len, q)
        }
        b'Z' => {
            let word = rest.get(..3)?;
            if word.eq_ignore_ascii_case(b"utc") || word.eq_ignore_ascii_case(b"gmt") {
                match_at(fmt, next, text, ti + 3, p)
            } else {
                None
            }
        }
        b's' => {
            let (micros, len) = match_epoch(rest)?;
            let mut q = p;
            q.epoch_micros = Some(micros);
            match_at(fmt, next, text, ti + len, q)
        }
        b'%' => (rest.first() == Some(&b'%'))
            .then(|| match_at(fmt, next, text, ti + 1, p))
            .flatten(),
        b'n' | b't' => {
            // glibc strptime: any amount of whitespace, including none.
            let run = whitespace_run(&text[ti..]);
            match_at(fmt, next, text, ti + run, p)
        }
        _ => None,
    }
}

/// The value of exactly `len` ASCII digits at the start of `text`.
fn digits_value(text: &[u8], len: usize) -> Option<u32> {
    let digits = text.get(..len)?;
    digits.iter().try_fold(0u32, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

/// Case-insensitive name match, longest name first as Python's regex does (Python's `%A`/`%B`
/// only know full names, `%a`/`%b` only abbreviations). Returns the index and the length.
fn match_name(text: &[u8], table: &[&str]) -> Option<(usize, usize)> {
    let mut best: Option<(usize, usize)> = None;
    for (i, name) in table.iter().enumerate() {
        let n = name.len();
        if text.len() >= n
            && text[..n].eq_ignore_ascii_case(name.as_bytes())
            && best.is_none_or(|(_, len)| n > len)
        {
            best = Some((i, n));
        }
    }
    best
}

/// `%z`: `Z`, or `[+-]hh[:]mm[[:]ss[.ffffff]]`. Returns seconds east of UTC and the length.
fn match_offset(text: &[u8]) -> Option<(i32, usize)> {
    if text.first() == Some(&b'Z') {
        return Some((0, 1));
    }
    let sign = match text.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let hours = digits_value(&text[1..], 2)?;
    let mut i = 3;
    let colon = text.get(i) == Some(&b':');
    if colon {
        i += 1;
    }
    let minutes = digits_value(text.get(i..)?, 2).filter(|&m| m < 60)?;
    i += 2;
    let mut seconds = 0;
    let sec_start = if colon { i + 1 } else { i };
    let seconds_found = (!colon || text.get(i) == Some(&b':'))
        .then(|| text.get(sec_start..).and_then(|t| digits_value(t, 2)))
        .flatten()
        .filter(|&s| s < 60);
    if let Some(s) = seconds_found {
        seconds = s;
        i = sec_start + 2;
        if text.get(i) == Some(&b'.') {
            let frac = text[i + 1..]
                .iter()
                .take(6)
                .take_while(|b| b.is_ascii_digit())
                .count();
            if frac > 0 {
                i += 1 + frac;
            }
        }
    }
    let total = sign * (hours * 3600 + minutes * 60 + seconds) as i32;
    Some((total, i))
}

/// `%s`: digits with an optional fraction; more than 10 integer digits are a finer unit
/// (milliseconds, microseconds, …) whose first 10 digits are the seconds.
fn match_epoch(text: &[u8]) -> Option<(i64, usize)> {
    let int_len = text.iter().take_while(|b| b.is_ascii_digit()).count();
    if int_len == 0 || int_len > 19 {
        return None;
    }
    let mut len = int_len;
    let mut frac_digits: &[u8] = &[];
    if text.get(int_len) == Some(&b'.') {
        let n = text[int_len + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if n > 0 {
            frac_digits = &text[int_len + 1..int_len + 1 + n];
            len = int_len + 1 + n;
        }
    }
    let split = int_len.min(10);
    let secs = text[..split]
        .iter()
        .fold(0i64, |acc, &b| acc * 10 + i64::from(b - b'0'));
    let mut micros = 0i64;
    let mut scale = 100_000i64;
    for &b in text[split..int_len].iter().chain(frac_digits) {
        micros += i64::from(b - b'0') * scale;
        scale /= 10;
        if scale == 0 {
            break;
        }
    }
    Some((secs * 1_000_000 + micros, len))
}

/// Turns matched fields into a date-time the way `_strptime._strptime` does.
fn build(p: &Parsed, default_year: i32) -> Option<(NaiveDateTime, Option<FixedOffset>)> {
    if let Some(micros) = p.epoch_micros {
        let dt = DateTime::from_timestamp_micros(micros)?.naive_utc();
        return Some((dt, FixedOffset::east_opt(0)));
    }
    let year_given = p.year.is_some() || p.year2.is_some();
    let mut year = match (p.year, p.year2) {
        (Some(y), _) => y,
        (None, Some(y)) if y <= 68 => 2000 + y,
        (None, Some(y)) => 1900 + y,
        (None, None) => default_year,
    };
    let mut month = p.month.unwrap_or(1);
    let mut day = p.day.unwrap_or(1);
    let hour = match (p.hour24, p.hour12) {
        (Some(h), _) => h,
        (None, Some(h)) => match p.pm {
            Some(true) if h != 12 => h + 12,
            Some(true) => 12,
            _ if h == 12 => 0,
            _ => h,
        },
        (None, None) => 0,
    };
    // Python's consistency rules for the ISO directives.
    if p.iso_year.is_some() {
        if p.julian.is_some() || p.iso_week.is_none() || p.weekday.is_none() {
            return None;
        }
    } else if p.iso_week.is_some() && (!year_given || p.weekday.is_none()) {
        return None;
    }
    let mut julian = p.julian;
    if julian.is_none()
        && let Some(weekday) = p.weekday
    {
        if let Some((week, monday_first)) = p
            .week_monday
            .map(|w| (w, true))
            .or(p.week_sunday.map(|w| (w, false)))
        {
            // Python's _calc_julian_from_U_or_W.
            let first = NaiveDate::from_ymd_opt(year, 1, 1)?;
            let mut first_weekday = first.weekday().num_days_from_monday() as i64;
            let mut wd = i64::from(weekday);
            if !monday_first {
                first_weekday = (first_weekday + 1) % 7;
                wd = (wd + 1) % 7;
            }
            let week_0_length = (7 - first_weekday) % 7;
            let j = if week == 0 {
                1 + wd - first_weekday
            } else {
                1 + week_0_length + 7 * (i64::from(week) - 1) + wd
            };
            let start = first.checked_add_signed(chrono::TimeDelta::days(j - 1))?;
            year = start.year();
            month = start.month();
            day = start.day();
        } else if let (Some(iso_year), Some(iso_week)) = (p.iso_year, p.iso_week) {
            // Python's _calc_julian_from_V: plain arithmetic, so week 0 and a week 53 that
            // does not exist spill into the neighbouring year.
            let jan4 = NaiveDate::from_ymd_opt(iso_year, 1, 4)?;
            let correction = i64::from(jan4.weekday().number_from_monday()) + 3;
            let ordinal = i64::from(iso_week) * 7 + i64::from(weekday) + 1 - correction;
            let jan1 = NaiveDate::from_ymd_opt(iso_year, 1, 1)?;
            let date = jan1.checked_add_signed(chrono::TimeDelta::days(ordinal - 1))?;
            year = date.year();
            month = date.month();
            day = date.day();
        }
    }
    if let Some(j) = julian.take() {
        let date = NaiveDate::from_yo_opt(year, j)?;
        month = date.month();
        day = date.day();
    }
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let time = NaiveTime::from_hms_micro_opt(
        hour,
        p.minute.unwrap_or(0),
        p.second.unwrap_or(0),
        p.micro.unwrap_or(0),
    )?;
    let offset = match p.offset {
        Some(secs) => Some(FixedOffset::east_opt(secs)?),
        None => None,
    };
    Some((date.and_time(time), offset))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timing::strftime::TimeFormat;
    use chrono::{TimeZone, Timelike};

    fn at(
        offset_secs: i32,
        (y, mo, d): (i32, u32, u32),
        (h, mi, s): (u32, u32, u32),
        us: u32,
    ) -> DateTime<FixedOffset> {
        FixedOffset::east_opt(offset_secs)
            .unwrap()
            .with_ymd_and_hms(y, mo, d, h, mi, s)
            .unwrap()
            + chrono::TimeDelta::microseconds(i64::from(us))
    }

    fn ndt(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, us: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_hms_micro_opt(h, mi, s, us)
            .unwrap()
    }

    #[test]
    fn strptime_table() {
        let table: &[(&str, &str, NaiveDateTime)] = &[
            (
                "%Y-%m-%d %H:%M:%S",
                "2024-03-05 07:08:09",
                ndt(2024, 3, 5, 7, 8, 9, 0),
            ),
            (
                "%Y-%m-%dT%H:%M:%S.%f",
                "2024-03-05T07:08:09.123",
                ndt(2024, 3, 5, 7, 8, 9, 123_000),
            ),
            (
                "%d/%b/%Y:%H:%M:%S",
                "5/mar/2024:7:08:09",
                ndt(2024, 3, 5, 7, 8, 9, 0),
            ),
            (
                "%d/%b/%Y %H:%M:%S:%f",
                "05/MAR/2024 07:08:09:7",
                ndt(2024, 3, 5, 7, 8, 9, 700_000),
            ),
            (
                "%b %d %H:%M:%S",
                "Mar  5 07:08:09",
                ndt(1900, 3, 5, 7, 8, 9, 0),
            ),
            (
                "%b %d %H:%M:%S",
                "Mar 5\t 07:08:09",
                ndt(1900, 3, 5, 7, 8, 9, 0),
            ),
            ("%B %d %Y", "september 9 2021", ndt(2021, 9, 9, 0, 0, 0, 0)),
            (
                "%a %b %d %H:%M:%S %Y",
                "Tue Mar 05 07:08:09 2024",
                ndt(2024, 3, 5, 7, 8, 9, 0),
            ),
            ("%A, %d", "tuesday, 05", ndt(1900, 1, 5, 0, 0, 0, 0)),
            (
                "%m/%d/%y %I:%M:%S %p",
                "12/31/99 12:00:00 AM",
                ndt(1999, 12, 31, 0, 0, 0, 0),
            ),
            (
                "%m/%d/%y %I:%M:%S %p",
                "01/02/68 12:30:00 pm",
                ndt(2068, 1, 2, 12, 30, 0, 0),
            ),
            (
                "%m/%d/%y %I:%M %p",
                "01/02/69 1:05 PM",
                ndt(1969, 1, 2, 13, 5, 0, 0),
            ),
            ("%I", "12", ndt(1900, 1, 1, 0, 0, 0, 0)),
            ("%Y %j", "2024 060", ndt(2024, 2, 29, 0, 0, 0, 0)),
            ("%Y %j", "2023 60", ndt(2023, 3, 1, 0, 0, 0, 0)),
            ("%Y%m%d", "202411", ndt(2024, 1, 1, 0, 0, 0, 0)),
            (
                "%Y%m%d%H%M%S",
                "20240305070809",
                ndt(2024, 3, 5, 7, 8, 9, 0),
            ),
            (
                "%c",
                "Tue Mar  5 07:08:09 2024",
                ndt(2024, 3, 5, 7, 8, 9, 0),
            ),
            ("%x %X", "03/05/24 07:08:09", ndt(2024, 3, 5, 7, 8, 9, 0)),
            ("%F %T", "2024-03-05 07:08:09", ndt(2024, 3, 5, 7, 8, 9, 0)),
            ("%Y-%m-%d %%", "2024-03-05 %", ndt(2024, 3, 5, 0, 0, 0, 0)),
            ("%Y %U %w", "2024 09 2", ndt(2024, 3, 5, 0, 0, 0, 0)),
            ("%Y %W %a", "2024 10 Tue", ndt(2024, 3, 5, 0, 0, 0, 0)),
            ("%G %V %u", "2025 01 1", ndt(2024, 12, 30, 0, 0, 0, 0)),
            ("%e-%k", " 5- 7", ndt(1900, 1, 5, 7, 0, 0, 0)),
            (
                "%Y-%m-%d %H:%M:%S %Z",
                "2024-03-05 07:08:09 UTC",
                ndt(2024, 3, 5, 7, 8, 9, 0),
            ),
            // Checked against CPython 3.11's datetime.strptime (backtracking cases).
            ("%H%M%S%f", "1234567", ndt(1900, 1, 1, 12, 34, 56, 700_000)),
            ("%f%S", "1234567", ndt(1900, 1, 1, 0, 0, 7, 123_456)),
            ("%Y %m  %d", "2024\t3 \n 5", ndt(2024, 3, 5, 0, 0, 0, 0)),
            ("%d%m%Y", "1122024", ndt(2024, 2, 11, 0, 0, 0, 0)),
            ("%I%M%p", "1205pm", ndt(1900, 1, 1, 12, 5, 0, 0)),
            ("%j%Y", "0012024", ndt(2024, 1, 1, 0, 0, 0, 0)),
            ("%Y%j", "2024366", ndt(2024, 12, 31, 0, 0, 0, 0)),
            ("%b%d", "may5", ndt(1900, 5, 5, 0, 0, 0, 0)),
            ("%G %V %u", "2053 53 4", ndt(2054, 1, 1, 0, 0, 0, 0)),
            ("%G %V %u", "1929 0 4", ndt(1928, 12, 27, 0, 0, 0, 0)),
        ];
        for (format, text, want) in table {
            let got = strptime(format, text);
            assert_eq!(got, Some((*want, None)), "strptime({format:?}, {text:?})");
        }
    }

    #[test]
    fn strptime_offsets() {
        let table = [
            ("+0530", 5 * 3600 + 30 * 60),
            ("-0500", -5 * 3600),
            ("-05:00", -5 * 3600),
            ("Z", 0),
            ("+000000", 0),
            ("+01:00:07", 3600 + 7),
            ("+01:00:07.5", 3600 + 7),
        ];
        for (text, secs) in table {
            let full = format!("2024-03-05T07:08:09{text}");
            let got = strptime("%Y-%m-%dT%H:%M:%S%z", &full);
            assert_eq!(
                got,
                Some((ndt(2024, 3, 5, 7, 8, 9, 0), FixedOffset::east_opt(secs))),
                "{full}"
            );
        }
        assert_eq!(strptime("%z", "z"), None);
        assert_eq!(strptime("%z", "+2"), None);
    }

    #[test]
    fn strptime_epoch() {
        let utc = FixedOffset::east_opt(0);
        let table = [
            ("1600000000", ndt(2020, 9, 13, 12, 26, 40, 0)),
            ("1600000000.25", ndt(2020, 9, 13, 12, 26, 40, 250_000)),
            ("1600000000123", ndt(2020, 9, 13, 12, 26, 40, 123_000)),
            ("1600000000123456", ndt(2020, 9, 13, 12, 26, 40, 123_456)),
            ("0", ndt(1970, 1, 1, 0, 0, 0, 0)),
        ];
        for (text, want) in table {
            assert_eq!(strptime("%s", text), Some((want, utc)), "{text}");
        }
        assert_eq!(strptime("%s", "x"), None);
    }

    #[test]
    fn strptime_rejections() {
        let table = [
            ("%Y-%m-%d", "2024-03-05 extra"),
            ("%Y-%m-%d", "2024-13-05"),
            ("%Y-%m-%d", "2023-02-29"),
            ("%H", "123"),
            ("%H:%M:%S", "07:08:60"),
            ("%b %d", "Feb 29"),
            ("%Y %Q", "2024 x"),
            ("%Y %", "2024 %"),
            ("%Y %m", "2024"),
            ("%Y-%m", "2024 03"),
            ("%p", "xm"),
            ("%Y %V", "2024 10"),
            ("%z", "+0100:07"),
            ("%z", "+01:0007"),
            ("%z", "+05"),
            ("  %Y ", "2024"),
            ("%S.%f", "61.5"),
        ];
        for (format, text) in table {
            assert_eq!(
                strptime(format, text),
                None,
                "strptime({format:?}, {text:?})"
            );
        }
    }

    #[test]
    fn strptime_without_year_and_in_a_given_year() {
        assert_eq!(
            strptime("%b %d %H:%M:%S", "Jan 02 03:04:05"),
            Some((ndt(1900, 1, 2, 3, 4, 5, 0), None))
        );
        assert_eq!(
            strptime("%H:%M", "03:04"),
            Some((ndt(1900, 1, 1, 3, 4, 0, 0), None))
        );
        assert_eq!(
            strptime_in_year("%b %d", "Feb 29", 2024),
            Some((ndt(2024, 2, 29, 0, 0, 0, 0), None))
        );
        assert_eq!(
            strptime_in_year("%Y %b %d", "2023 Feb 28", 2024),
            Some((ndt(2023, 2, 28, 0, 0, 0, 0), None))
        );
    }

    #[test]
    fn strptime_prefix_reports_consumed_bytes() {
        let got = strptime_prefix("%Y-%m-%d %H:%M:%S", "2024-03-05 07:08:09.123 rest");
        assert_eq!(got, Some((ndt(2024, 3, 5, 7, 8, 9, 0), None, 19)));
        let got = strptime_prefix("%H", "123");
        assert_eq!(got, Some((ndt(1900, 1, 1, 12, 0, 0, 0), None, 2)));
        assert_eq!(strptime_prefix("%Y", "20x"), None);
    }

    #[test]
    fn strftime_strptime_round_trips() {
        let formats = [
            "%Y-%m-%d %H:%M:%S",
            "%Y-%m-%dT%H:%M:%S.%f%z",
            "%d/%b/%Y:%H:%M:%S.%f %z",
            "%a %b %d %H:%M:%S %Y",
            "%A %B %d %Y %I:%M:%S %p",
            "%c",
            "%m/%d/%y %H:%M:%S",
            "%Y %j %H %M %S",
            "%s",
        ];
        let instants = [
            at(-5 * 3600, (2024, 2, 29), (23, 59, 58), 999_999),
            at(5 * 3600 + 30 * 60, (2000, 1, 1), (0, 0, 0), 1),
            at(0, (1999, 12, 31), (12, 30, 0), 0),
        ];
        for format in formats {
            let f = TimeFormat::compile(format);
            for t in &instants {
                let text = f.render_to_string(t);
                let (naive, offset) = strptime(format, &text)
                    .unwrap_or_else(|| panic!("{format:?} failed on {text:?}"));
                let mut want = if format == "%s" {
                    t.naive_utc()
                } else {
                    t.naive_local()
                };
                if !format.contains("%f") {
                    want = want.with_nanosecond(0).unwrap();
                }
                assert_eq!(naive, want, "{format:?} {text:?}");
                if format.contains("%z") {
                    assert_eq!(offset, Some(*t.offset()), "{format:?} {text:?}");
                }
            }
        }
    }
}
