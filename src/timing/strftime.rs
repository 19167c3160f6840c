//! Python-compatible `strftime` and `strptime`.
//!
//! [`TimeFormat`] compiles a Python/glibc strftime format once (plan time) into literal and
//! field pieces; [`TimeFormat::render`] then appends an instant's rendering to a caller-owned
//! buffer by computing each field from the date-time's components, with no allocation and no
//! chrono `format()`. The C locale is used throughout (English names, `%c` =
//! `%a %b %e %H:%M:%S %Y`, `%x` = `%m/%d/%y`, `%X` = `%H:%M:%S`).
//!
//! The parsing direction lives in `timing::strptime` and is re-exported here.
//!
//! Deliberate differences from Eventgen 7.2.1: `%s` renders the true epoch seconds of the
//! instant (Eventgen bug 7 stripped trailing zeros), and `%z`/`%Z` render the instant's offset
//! instead of the empty string Python gives for naive date-times.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDateTime, Timelike};

pub use super::strptime::{strptime, strptime_in_year, strptime_prefix};

pub(super) const WEEKDAY_SHORT: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
pub(super) const WEEKDAY_LONG: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
pub(super) const MONTH_SHORT: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
pub(super) const MONTH_LONG: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// What a directive renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    /// `%a`
    WeekdayShort,
    /// `%A`
    WeekdayLong,
    /// `%b`, `%h`
    MonthShort,
    /// `%B`
    MonthLong,
    /// `%d` (zero padded), `%e` (space padded)
    Day,
    DaySpace,
    /// `%H`, `%k`
    Hour24,
    Hour24Space,
    /// `%I`, `%l`
    Hour12,
    Hour12Space,
    /// `%j`
    DayOfYear,
    /// `%m`
    Month,
    /// `%M`
    Minute,
    /// `%S`
    Second,
    /// `%p` (`AM`), `%P` (`am`)
    AmPmUpper,
    AmPmLower,
    /// `%U`: week of the year, Sunday first.
    WeekSunday,
    /// `%W`: week of the year, Monday first.
    WeekMonday,
    /// `%w`: 0 = Sunday.
    WeekdaySun0,
    /// `%u`: 1 = Monday … 7 = Sunday.
    WeekdayMon1,
    /// `%y`
    Year2,
    /// `%Y`
    Year,
    /// `%C`
    Century,
    /// `%G`, `%g`, `%V`
    IsoYear,
    IsoYear2,
    IsoWeek,
    /// `%s`
    Epoch,
    /// `%f`
    Micros,
    /// `%z` (`+hhmm`), `%:z` (`+hh:mm`)
    Offset,
    OffsetColon,
    /// `%Z`
    ZoneName,
}

impl Field {
    /// The field a conversion character selects, if glibc/Python know it.
    fn from_conversion(c: u8) -> Option<Field> {
        Some(match c {
            b'a' => Field::WeekdayShort,
            b'A' => Field::WeekdayLong,
            b'b' | b'h' => Field::MonthShort,
            b'B' => Field::MonthLong,
            b'd' => Field::Day,
            b'e' => Field::DaySpace,
            b'H' => Field::Hour24,
            b'k' => Field::Hour24Space,
            b'I' => Field::Hour12,
            b'l' => Field::Hour12Space,
            b'j' => Field::DayOfYear,
            b'm' => Field::Month,
            b'M' => Field::Minute,
            b'S' => Field::Second,
            b'p' => Field::AmPmUpper,
            b'P' => Field::AmPmLower,
            b'U' => Field::WeekSunday,
            b'W' => Field::WeekMonday,
            b'w' => Field::WeekdaySun0,
            b'u' => Field::WeekdayMon1,
            b'y' => Field::Year2,
            b'Y' => Field::Year,
            b'C' => Field::Century,
            b'G' => Field::IsoYear,
            b'g' => Field::IsoYear2,
            b'V' => Field::IsoWeek,
            b's' => Field::Epoch,
            b'f' => Field::Micros,
            b'z' => Field::Offset,
            b'Z' => Field::ZoneName,
            _ => return None,
        })
    }

    /// Default width and padding byte of a numeric field (`None` for text fields).
    fn numeric_default(self) -> Option<(u8, u8)> {
        Some(match self {
            Field::Day
            | Field::Hour24
            | Field::Hour12
            | Field::Month
            | Field::Minute
            | Field::Second
            | Field::WeekSunday
            | Field::WeekMonday
            | Field::Year2
            | Field::Century
            | Field::IsoYear2
            | Field::IsoWeek => (2, b'0'),
            Field::DaySpace | Field::Hour24Space | Field::Hour12Space => (2, b' '),
            Field::DayOfYear => (3, b'0'),
            Field::Micros => (6, b'0'),
            Field::WeekdaySun0 | Field::WeekdayMon1 | Field::Year | Field::IsoYear => (1, b'0'),
            Field::Epoch => (1, b'0'),
            _ => return None,
        })
    }
}

/// glibc padding flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pad {
    /// The field's own default.
    Default,
    /// `-`: no padding.
    None,
    /// `_`: spaces.
    Space,
    /// `0`: zeros.
    Zero,
}

/// glibc case flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    Keep,
    /// `^`
    Upper,
    /// `#`: upper case, except `%p` and `%Z` which become lower case.
    Swap,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Spec {
    field: Field,
    pad: Pad,
    /// Minimum width; 0 = the field's default.
    width: u8,
    case: Case,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece {
    /// A byte range of `TimeFormat::literals`.
    Literal {
        start: u32,
        end: u32,
    },
    Field(Spec),
}

/// A compiled strftime format.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeFormat {
    pieces: Vec<Piece>,
    literals: Vec<u8>,
    has_directives: bool,
    subsecond: bool,
}

/// Builds the piece list, merging adjacent literals.
struct Compiler {
    pieces: Vec<Piece>,
    literals: Vec<u8>,
}

impl Compiler {
    fn literal(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let start = self.literals.len() as u32;
        self.literals.extend_from_slice(bytes);
        let end = self.literals.len() as u32;
        if let Some(Piece::Literal { end: last_end, .. }) = self.pieces.last_mut()
            && *last_end == start
        {
            *last_end = end;
            return;
        }
        self.pieces.push(Piece::Literal { start, end });
    }

    fn field(&mut self, spec: Spec) {
        self.pieces.push(Piece::Field(spec));
    }

    /// Appends a composite (`%c`, `%D`, …) as its parts; the case flag carries over.
    fn composite(&mut self, format: &[u8], case: Case) {
        let mut i = 0;
        while i < format.len() {
            if format[i] == b'%' && i + 1 < format.len() {
                if let Some(field) = Field::from_conversion(format[i + 1]) {
                    self.field(Spec {
                        field,
                        pad: Pad::Default,
                        width: 0,
                        case,
                    });
                }
                i += 2;
            } else {
                self.literal(&format[i..i + 1]);
                i += 1;
            }
        }
    }
}

/// The expansion of a composite conversion in the C locale.
fn composite_expansion(c: u8) -> Option<&'static [u8]> {
    Some(match c {
        b'c' => b"%a %b %e %H:%M:%S %Y",
        b'x' | b'D' => b"%m/%d/%y",
        b'X' | b'T' => b"%H:%M:%S",
        b'F' => b"%Y-%m-%d",
        b'R' => b"%H:%M",
        b'r' => b"%I:%M:%S %p",
        _ => return None,
    })
}

/// Whether glibc accepts the `E`/`O` modifier on this conversion (otherwise the directive is
/// a bad format and printed literally).
fn modifier_allowed(modifier: u8, c: u8) -> bool {
    match modifier {
        b'E' => matches!(c, b'c' | b'C' | b'x' | b'X' | b'y' | b'Y'),
        b'O' => matches!(
            c,
            b'd' | b'e'
                | b'H'
                | b'I'
                | b'k'
                | b'l'
                | b'm'
                | b'M'
                | b'S'
                | b'U'
                | b'u'
                | b'V'
                | b'w'
                | b'W'
                | b'y'
        ),
        _ => true,
    }
}

impl TimeFormat {
    /// Compiles a Python/glibc strftime format. Never fails: unknown directives stay literal,
    /// as Python prints them (`%Q` renders `%Q`, `%-Q` renders `%-Q`, a trailing `%` is kept).
    ///
    /// Supported: `%a %A %b %B %c %C %d %D %e %f %F %g %G %h %H %I %j %k %l %m %M %n %p %P %r
    /// %R %s %S %t %T %u %U %V %w %W %x %X %y %Y %z %:z %Z %%`, the glibc flags `-` (no
    /// padding), `_` (spaces), `0` (zeros), `^` (upper case), `#` (swap case), a minimum width
    /// (`%10Y`) and the `E`/`O` modifiers (no-ops in the C locale). As in Python, `%f` and
    /// `%:z` are only recognised without flags; flags on `%z` are ignored, and `%Z` takes a width and
    /// case flags as glibc's other text directives (`%4Z` is ` UTC`).
    pub fn compile(format: &str) -> TimeFormat {
        let bytes = format.as_bytes();
        let mut c = Compiler {
            pieces: Vec::new(),
            literals: Vec::new(),
        };
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] != b'%' {
                let next = bytes[i..]
                    .iter()
                    .position(|&b| b == b'%')
                    .map_or(bytes.len(), |p| i + p);
                c.literal(&bytes[i..next]);
                i = next;
                continue;
            }
            let start = i;
            let mut j = i + 1;
            // Python handles `%f`, `%z`, `%Z` and `%:z` itself, before glibc sees the rest.
            if bytes.get(j) == Some(&b':') && bytes.get(j + 1) == Some(&b'z') {
                c.field(Spec {
                    field: Field::OffsetColon,
                    pad: Pad::Default,
                    width: 0,
                    case: Case::Keep,
                });
                i = j + 2;
                continue;
            }
            let mut pad = Pad::Default;
            let mut case = Case::Keep;
            let mut flagged = false;
            while let Some(&f) = bytes.get(j) {
                match f {
                    b'-' => pad = Pad::None,
                    b'_' => pad = Pad::Space,
                    b'0' => pad = Pad::Zero,
                    b'^' => case = Case::Upper,
                    b'#' => case = Case::Swap,
                    _ => break,
                }
                flagged = true;
                j += 1;
            }
            let mut width: u32 = 0;
            while let Some(&d) = bytes.get(j) {
                if !d.is_ascii_digit() {
                    break;
                }
                width = (width * 10 + u32::from(d - b'0')).min(255);
                flagged = true;
                j += 1;
            }
            let mut modifier = 0u8;
            if let Some(&m) = bytes.get(j)
                && (m == b'E' || m == b'O')
            {
                modifier = m;
                j += 1;
            }
            let Some(&conv) = bytes.get(j) else {
                // A directive cut short by the end of the format: printed as is.
                c.literal(&bytes[start..]);
                break;
            };
            // `conv` may start a multi-byte character; keep the whole of it when literal.
            let conv_len = format[j..].chars().next().map_or(1, char::len_utf8);
            let end = j + conv_len;
            i = end;
            if !modifier_allowed(modifier, conv) {
                c.literal(&bytes[start..end]);
                continue;
            }
            match conv {
                b'%' => c.literal(b"%"),
                b'n' => c.literal(b"\n"),
                b't' => c.literal(b"\t"),
                b'f' if flagged || modifier != 0 => c.literal(&bytes[start..end]),
                _ => {
                    if let Some(expansion) = composite_expansion(conv) {
                        c.composite(expansion, case);
                    } else if let Some(field) = Field::from_conversion(conv) {
                        let (pad, width) = match field {
                            // glibc pads `%4Z` as any text (` UTC`); `%z` keeps its shape.
                            Field::Offset | Field::Micros => (Pad::Default, 0),
                            _ => (pad, width as u8),
                        };
                        c.field(Spec {
                            field,
                            pad,
                            width,
                            case,
                        });
                    } else {
                        c.literal(&bytes[start..end]);
                    }
                }
            }
        }
        let has_directives = c.pieces.iter().any(|p| matches!(p, Piece::Field(_)));
        let subsecond = c
            .pieces
            .iter()
            .any(|p| matches!(p, Piece::Field(s) if s.field == Field::Micros));
        TimeFormat {
            pieces: c.pieces,
            literals: c.literals,
            has_directives,
            subsecond,
        }
    }

    /// `true` if the format contains at least one time-dependent directive. A pure literal
    /// never replaces anything in Eventgen; the plan warns about it. `%%`, `%n`, `%t` and
    /// unknown directives (printed literally) do not count.
    pub fn has_directives(&self) -> bool {
        self.has_directives
    }

    /// `true` if the rendered text depends on anything finer than the second (`%f`), so the
    /// per-second cache must not be used.
    pub fn is_subsecond(&self) -> bool {
        self.subsecond
    }

    /// Appends the rendering of `t` (its wall clock in its own offset) to `out`. Infallible,
    /// no allocation when `out` has room.
    pub fn render(&self, t: &DateTime<FixedOffset>, out: &mut Vec<u8>) {
        let local = t.naive_local();
        for piece in &self.pieces {
            match *piece {
                Piece::Literal { start, end } => {
                    out.extend_from_slice(&self.literals[start as usize..end as usize]);
                }
                Piece::Field(spec) => render_field(spec, t, &local, out),
            }
        }
    }

    /// The rendering of `t` as a `String` (tests and convenience; not for the hot path).
    pub fn render_to_string(&self, t: &DateTime<FixedOffset>) -> String {
        let mut out = Vec::with_capacity(32);
        self.render(t, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// Renders one field. Numbers are computed from the components; text goes through a small
/// stack buffer so that case and width flags apply without allocating.
fn render_field(spec: Spec, t: &DateTime<FixedOffset>, local: &NaiveDateTime, out: &mut Vec<u8>) {
    let date = local.date();
    let time = local.time();
    let number: i64 = match spec.field {
        Field::Day | Field::DaySpace => i64::from(date.day()),
        Field::Hour24 | Field::Hour24Space => i64::from(time.hour()),
        Field::Hour12 | Field::Hour12Space => i64::from((time.hour() + 11) % 12 + 1),
        Field::DayOfYear => i64::from(date.ordinal()),
        Field::Month => i64::from(date.month()),
        Field::Minute => i64::from(time.minute()),
        Field::Second => i64::from(time.second()),
        Field::WeekSunday => {
            let wday = i64::from(date.weekday().num_days_from_sunday());
            (i64::from(date.ordinal0()) + 7 - wday) / 7
        }
        Field::WeekMonday => {
            let wday = i64::from(date.weekday().num_days_from_monday());
            (i64::from(date.ordinal0()) + 7 - wday) / 7
        }
        Field::WeekdaySun0 => i64::from(date.weekday().num_days_from_sunday()),
        Field::WeekdayMon1 => i64::from(date.weekday().number_from_monday()),
        Field::Year2 => i64::from(date.year().rem_euclid(100)),
        Field::Year => i64::from(date.year()),
        Field::Century => i64::from(date.year().div_euclid(100)),
        Field::IsoYear => i64::from(date.iso_week().year()),
        Field::IsoYear2 => i64::from(date.iso_week().year().rem_euclid(100)),
        Field::IsoWeek => i64::from(date.iso_week().week()),
        Field::Epoch => t.timestamp(),
        Field::Micros => i64::from((time.nanosecond() % 1_000_000_000) / 1000),
        Field::WeekdayShort => {
            let i = date.weekday().num_days_from_sunday() as usize;
            return put_text(spec, WEEKDAY_SHORT[i].as_bytes(), out);
        }
        Field::WeekdayLong => {
            let i = date.weekday().num_days_from_sunday() as usize;
            return put_text(spec, WEEKDAY_LONG[i].as_bytes(), out);
        }
        Field::MonthShort => {
            return put_text(spec, MONTH_SHORT[date.month0() as usize].as_bytes(), out);
        }
        Field::MonthLong => {
            return put_text(spec, MONTH_LONG[date.month0() as usize].as_bytes(), out);
        }
        Field::AmPmUpper | Field::AmPmLower => {
            let pm = time.hour() >= 12;
            let text: &[u8] = match (spec.field == Field::AmPmUpper, pm) {
                (true, false) => b"AM",
                (true, true) => b"PM",
                (false, false) => b"am",
                (false, true) => b"pm",
            };
            return put_text(spec, text, out);
        }
        Field::Offset | Field::OffsetColon | Field::ZoneName => {
            let mut buf = [0u8; 16];
            let n = offset_text(spec.field, t.offset().local_minus_utc(), &mut buf);
            return put_text(spec, &buf[..n], out);
        }
    };
    let (default_width, default_pad) = spec.field.numeric_default().unwrap_or((1, b'0'));
    let pad = match spec.pad {
        Pad::Default => default_pad,
        Pad::None => 0,
        Pad::Space => b' ',
        Pad::Zero => b'0',
    };
    let width = if spec.width > 0 {
        spec.width
    } else {
        default_width
    };
    put_number(number, width as usize, pad, out);
}

/// Writes `%z` (`+hhmm`, `+hhmmss` if the offset has seconds, as Python), `%:z` (`+hh:mm`) or
/// `%Z` into `buf`; returns the length.
///
/// `%Z` names a fixed offset the way Python's `datetime.timezone` does: `UTC` for a zero
/// offset, otherwise `UTC+hh:mm` / `UTC-hh:mm` (e.g. `UTC-05:00`).
fn offset_text(field: Field, offset_secs: i32, buf: &mut [u8; 16]) -> usize {
    let mut n = 0;
    if field == Field::ZoneName {
        buf[..3].copy_from_slice(b"UTC");
        n = 3;
        if offset_secs == 0 {
            return n;
        }
    }
    let sign = if offset_secs < 0 { b'-' } else { b'+' };
    let abs = offset_secs.unsigned_abs();
    let (h, m, s) = (abs / 3600, abs / 60 % 60, abs % 60);
    let colon = field != Field::Offset;
    buf[n] = sign;
    n += 1;
    for (i, part) in [h, m, s].into_iter().enumerate() {
        if i == 2 && part == 0 {
            break;
        }
        if i > 0 && colon {
            buf[n] = b':';
            n += 1;
        }
        buf[n] = b'0' + (part / 10 % 10) as u8;
        buf[n + 1] = b'0' + (part % 10) as u8;
        n += 2;
    }
    n
}

/// Appends `text` with the spec's case flag and minimum width (glibc pads text with spaces,
/// or zeros with the `0` flag).
fn put_text(spec: Spec, text: &[u8], out: &mut Vec<u8>) {
    if (spec.width as usize) > text.len() {
        let fill = if spec.pad == Pad::Zero { b'0' } else { b' ' };
        out.extend(std::iter::repeat_n(fill, spec.width as usize - text.len()));
    }
    // glibc: `%P` is always lower case; `#` lowers `%p` and `%Z` and raises the rest.
    let lower = spec.field == Field::AmPmLower
        || (spec.case == Case::Swap && matches!(spec.field, Field::AmPmUpper | Field::ZoneName));
    if lower {
        out.extend(text.iter().map(u8::to_ascii_lowercase));
    } else if spec.case == Case::Keep {
        out.extend_from_slice(text);
    } else {
        out.extend(text.iter().map(u8::to_ascii_uppercase));
    }
}

/// Appends a decimal number padded to `width` with `pad` (0 = no padding). A minus sign
/// comes before the padding, as glibc does.
fn put_number(value: i64, width: usize, pad: u8, out: &mut Vec<u8>) {
    let mut digits = [0u8; 20];
    let mut n = 0;
    let mut v = value.unsigned_abs();
    loop {
        digits[n] = b'0' + (v % 10) as u8;
        n += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let mut len = n;
    if value < 0 {
        len += 1;
    }
    if pad == b' ' {
        out.extend(std::iter::repeat_n(b' ', width.saturating_sub(len)));
    }
    if value < 0 {
        out.push(b'-');
    }
    if pad == b'0' {
        out.extend(std::iter::repeat_n(b'0', width.saturating_sub(len)));
    }
    out.extend(digits[..n].iter().rev());
}

#[cfg(test)]
mod tests;
