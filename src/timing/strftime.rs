//! Python-compatible `strftime` (compiled once, rendered on the hot path into a caller's
//! buffer) and `strptime` (for replay's original timestamps).

use chrono::{DateTime, FixedOffset, NaiveDateTime};

/// A compiled strftime format.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeFormat {
    _todo: (),
}

impl TimeFormat {
    /// Compiles a Python/glibc strftime format. Never fails: unknown directives stay literal,
    /// as Python prints them.
    pub fn compile(_format: &str) -> TimeFormat {
        TimeFormat { _todo: () }
    }

    /// `true` if the format contains at least one directive (a pure literal never replaces
    /// anything in Eventgen; the plan warns about it).
    pub fn has_directives(&self) -> bool {
        false
    }

    /// `true` if the rendered text depends on anything finer than the second (`%f`), so the
    /// per-second cache must not be used.
    pub fn is_subsecond(&self) -> bool {
        false
    }

    /// Appends the rendering of `t` to `out`. Infallible, no allocation when `out` has room.
    pub fn render(&self, _t: &DateTime<FixedOffset>, _out: &mut Vec<u8>) {}
}

/// Parses `text` with a Python `strptime` format. Returns the naive date-time (year 1900 when
/// the format has no year, as Python does) and the UTC offset if the format had `%z`.
pub fn strptime(_format: &str, _text: &str) -> Option<(NaiveDateTime, Option<FixedOffset>)> {
    None
}
