//! The ranges of every duration and count a configuration or a flag can give, in one place:
//! the plan checks settings against them (located errors), the command line checks its flags
//! (exit 2), and the scheduler caps what rates can multiply a count into. With these bounds
//! no product of the engine's arithmetic leaves `i64` microseconds or a `u64` of events.
//! docs/compatibility.md ("Limits") lists them for users.

use super::{MICROS_PER_SEC, Micros};

/// 9999-12-31T23:59:59Z: the last second a timestamp format (four-digit years) can show, and
/// the last moment a sample fires. Python's `datetime` (Eventgen) ends there too.
pub const LAST_EPOCH_SECS: i64 = 253_402_300_799;

/// The last instant a sample may fire at.
pub const LAST_MICROS: Micros = LAST_EPOCH_SECS * MICROS_PER_SEC + (MICROS_PER_SEC - 1);

/// Longest `interval`, `delay` or `-i`: the seconds from 1970 to the end of 9999 (about 8,000
/// years). An interval that long fires once: the next firing would be after 9999.
pub const MAX_DURATION_SECS: i64 = LAST_EPOCH_SECS;

/// Largest `count` (and `-c`): events (or cycles) per interval before rates.
pub const MAX_COUNT: i64 = 1_000_000_000_000;

/// Most events one interval produces, whatever `count`, the rate tables, `randomizeCount` and
/// `perDayVolume` multiply to: the scheduler caps a firing here (`check` warns beforehand).
pub const MAX_EVENTS_PER_INTERVAL: u64 = 1_000_000_000_000;

/// Largest `timeMultiple`: a replay's gaps stretched a million times.
pub const MAX_TIME_MULTIPLE: f64 = 1_000_000.0;

/// Most generator threads (`generatorWorkers`, `--generators`).
pub const MAX_GENERATOR_WORKERS: i64 = 1024;

/// Checks a number of seconds against `0..=MAX_DURATION_SECS`; the error says the range.
pub fn check_secs(secs: f64) -> Result<(), String> {
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("must be a number of seconds >= 0, got {secs}"));
    }
    if secs > MAX_DURATION_SECS as f64 {
        return Err(format!(
            "{secs} s is longer than the longest duration, {MAX_DURATION_SECS} s (until the \
             end of 9999, the last time a timestamp can show)"
        ));
    }
    Ok(())
}

/// `secs` (already checked by [`check_secs`]) in microseconds.
pub fn micros(secs: f64) -> Micros {
    (secs * MICROS_PER_SEC as f64)
        .round()
        .clamp(0.0, (LAST_MICROS) as f64) as Micros
}

/// Checks `count` against `-1..=MAX_COUNT`.
pub fn check_count(count: i64) -> Result<(), String> {
    if count < -1 {
        return Err(format!("must be -1, 0 or positive, got {count}"));
    }
    if count > MAX_COUNT {
        return Err(format!(
            "{count} is more than the largest count, {MAX_COUNT} events per interval"
        ));
    }
    Ok(())
}

/// Checks that a resolved time lies in years 1 to 9999 (what timestamps can show, and
/// Python's `datetime` range, so Eventgen cannot use other times either).
pub fn check_year(year: i32) -> Result<(), String> {
    if (1..=9999).contains(&year) {
        Ok(())
    } else {
        Err(format!(
            "resolves to the year {year}; times must fall in the years 1 to 9999"
        ))
    }
}

/// Formats an expected number of events (or anything else counted) for people: whole numbers
/// up to `MAX_EVENTS_PER_INTERVAL`'s size in full, larger ones in scientific notation, and
/// never a saturated integer or an infinity.
pub fn figure(n: f64) -> String {
    if n.is_nan() {
        "?".into()
    } else if n.is_infinite() {
        if n > 0.0 { "unbounded" } else { "-unbounded" }.into()
    } else if n.abs() < 1e15 {
        format!("{}", n.round() as i64)
    } else {
        format!("{n:.3e}")
    }
}

/// A setting's number for people: as written up to 1e15, in scientific notation beyond.
pub fn number(n: f64) -> String {
    if n.abs() < 1e15 {
        format!("{n}")
    } else {
        format!("{n:.3e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert!(check_secs(0.0).is_ok());
        assert!(check_secs(MAX_DURATION_SECS as f64).is_ok());
        assert!(check_secs(1e13).unwrap_err().contains("longest duration"));
        assert!(check_secs(-1.0).is_err());
        assert!(check_secs(f64::INFINITY).is_err());
        assert_eq!(micros(1.5), 1_500_000);
        assert!(check_count(-1).is_ok() && check_count(MAX_COUNT).is_ok());
        assert!(check_count(-2).is_err() && check_count(MAX_COUNT + 1).is_err());
        assert!(check_year(9999).is_ok() && check_year(10000).is_err() && check_year(0).is_err());
        // The last firing plus the longest step still fits in i64 microseconds.
        assert!(
            LAST_MICROS
                .checked_add(MAX_DURATION_SECS * MICROS_PER_SEC)
                .is_some()
        );
    }

    #[test]
    fn figures_are_never_saturated() {
        assert_eq!(figure(12.4), "12");
        assert_eq!(figure(1e20), "1.000e20");
        assert_eq!(figure(f64::INFINITY), "unbounded");
        assert_eq!(figure(9.3e18), "9.300e18");
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(1e308), "1.000e308");
    }
}
