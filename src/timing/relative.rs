//! Splunk time specifiers for `earliest`, `latest`, `backfill` and `end`: `now`, relative
//! offsets with snaps (`-15m`, `-1d@d`, `@w0`, `-1mon@mon+2h`, `@q`), and absolute times.
//! Parsed once at plan time, resolved against the sample clock at every interval.

use chrono::{DateTime, FixedOffset};

/// A parsed time specifier. Resolving never fails: every error is caught by `parse`.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeSpec {
    // private representation, filled in by the implementation
    _todo: (),
}

impl TimeSpec {
    /// Parses a time specifier. Accepts `now`, Splunk relative syntax (with Eventgen's unit
    /// words), absolute times (RFC 3339, `%Y-%m-%d[ %H:%M:%S]`, `%m/%d/%Y:%H:%M:%S`, epoch
    /// seconds). The error text says what was expected.
    pub fn parse(_text: &str) -> Result<TimeSpec, String> {
        Err("not implemented".into())
    }

    /// `true` for plain `now` (an offset of zero, no snap).
    pub fn is_now(&self) -> bool {
        false
    }

    /// The instant this spec denotes when the sample clock reads `now` (wall clock in the
    /// sample's zone, which is where snaps such as `@d` are computed).
    pub fn resolve(&self, now: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
        now
    }
}
