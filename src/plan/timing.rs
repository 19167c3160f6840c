//! The timing settings of a sample: interval, delay, count and volume, rate tables, the time
//! window, backfill, end and time zone.

use chrono::{DateTime, Datelike, FixedOffset};

use super::keys;
use super::policy::{Bad, Reader};
use crate::problem::Problem;
use crate::timing::rate::Rates;
use crate::timing::relative::TimeSpec;
use crate::timing::{Micros, Tz, limits};

use super::End;

/// A sample's timing, read and checked.
pub(super) struct Timing {
    pub interval: i64,
    pub delay: f64,
    pub count: i64,
    pub per_day_volume: Option<f64>,
    pub rates: Rates,
    pub earliest: TimeSpec,
    pub latest: TimeSpec,
    pub backfill: Option<TimeSpec>,
    pub end: End,
    pub tz: Tz,
    pub randomize_events: bool,
    pub sequential_timestamp: bool,
    pub time_multiple: f64,
}

/// Reads the timing keys; `replay` is true for the replay generator (its default end is one
/// pass and it never randomizes events). `now` is the virtual clock's start, if any: relative
/// times are checked against it (else against the wall clock).
pub(super) fn read(r: &mut Reader, replay: bool, now: Option<Micros>) -> Timing {
    let mut interval = r.int("interval");
    if interval < 0 {
        r.error("interval", format!("must be >= 0, got {interval}"));
    } else if let Err(e) = limits::check_secs(interval as f64) {
        r.error("interval", e);
        interval = 0;
    }
    let mut delay = r.float("delay");
    if delay < 0.0 {
        r.warn(
            "delay",
            format!("{delay} is negative; taken as 0 (no delay before the first interval)"),
        );
        delay = 0.0;
    } else if let Err(e) = limits::check_secs(delay) {
        r.error("delay", e);
        delay = 0.0;
    }
    let mut count = r.int("count");
    if let Err(e) = limits::check_count(count) {
        r.error("count", e);
        count = -1;
    }
    let per_day_volume = r.opt_float("perDayVolume");
    if let Some(v) = per_day_volume
        && v < 0.0
    {
        r.error("perDayVolume", format!("must be >= 0 GB, got {v}"));
    }
    let mut randomize_count = r.opt_float("randomizeCount");
    if let Some(v) = randomize_count
        && v < 0.0
    {
        r.warn(
            "randomizeCount",
            format!("{v} is negative; ignored (counts are not randomized)"),
        );
        randomize_count = None;
    }
    let rates = Rates {
        randomize_count,
        hour_of_day: r.rate("hourOfDayRate", 0, 23),
        day_of_week: r.rate("dayOfWeekRate", 0, 6),
        minute_of_hour: r.rate("minuteOfHourRate", 0, 59),
        day_of_month: r.rate("dayOfMonthRate", 1, 31),
        month_of_year: r.rate("monthOfYearRate", 1, 12),
    };
    let probe = tz_probe(r).datetime(now.unwrap_or_else(crate::timing::clock::wall_now));
    let time = |r: &mut Reader, key: &str| {
        let t = r.time(key)?;
        let year = t.resolve(probe).year();
        match limits::check_year(year) {
            Ok(()) => Some(t),
            Err(e) => {
                let v = r.raw(key).unwrap_or_default().to_string();
                r.error(key, format!("{v:?} {e}"));
                None
            }
        }
    };
    let earliest = time(r, "earliest").unwrap_or_else(TimeSpec::now);
    let latest = time(r, "latest").unwrap_or_else(TimeSpec::now);
    let backfill = time(r, "backfill");
    {
        // Checked against the clock now; relative windows are re-evaluated every interval.
        let (e, l) = (earliest.resolve(probe), latest.resolve(probe));
        if e > l {
            r.error(
                "earliest",
                format!(
                    "earliest ({}) is after latest ({}): the window would be empty",
                    e.format("%Y-%m-%d %H:%M:%S%z"),
                    l.format("%Y-%m-%d %H:%M:%S%z")
                ),
            );
        }
    }
    for k in ["backfillSearch", "backfillSearchUrl"] {
        if r.raw(k).is_some_and(|v| !v.is_empty()) {
            let loc = r
                .settings
                .get(k)
                .map(|s| s.location.clone())
                .unwrap_or_default();
            let stanza = r.stanza;
            r.problems.push(
                Problem::warning("backfillSearch is not supported (Eventgen never ran it); backfill starts at `backfill`")
                    .located(&loc)
                    .stanza(stanza)
                    .key(k),
            );
        }
    }
    let end = match r.raw("end") {
        // Replay plays one pass unless told otherwise (what Eventgen does from the CLI).
        None | Some("") if replay => End::Intervals(1),
        None | Some("") => End::Forever,
        Some(v) => match keys::parse_int(v) {
            Ok(n) if n < 0 => End::Forever,
            Ok(n) => End::Intervals(n as u64),
            Err(_) => match TimeSpec::parse(v) {
                Ok(t) => match limits::check_year(t.resolve(probe).year()) {
                    Ok(()) => End::Until(t),
                    Err(e) => {
                        r.error("end", format!("{v:?} {e}"));
                        End::Forever
                    }
                },
                Err(e) => {
                    r.error(
                        "end",
                        format!("expected a number of intervals, -1, or a time: {e}"),
                    );
                    End::Forever
                }
            },
        },
    };
    let tz = match Tz::parse(r.raw("timezone").unwrap_or("local")) {
        Ok(tz) => tz,
        Err(e) => match r.bad("timezone", e) {
            Bad::Fallback(Some(f)) => Tz::parse(f).unwrap_or(Tz::Local),
            _ => Tz::Local,
        },
    };
    warn_unbounded(
        r,
        count,
        interval,
        per_day_volume,
        &rates,
        backfill.as_ref(),
        probe,
    );
    let randomize_events = r.bool("randomizeEvents") && !replay;
    let sequential_timestamp = r.bool("sequentialTimestamp");
    let mut time_multiple = r.float("timeMultiple");
    if time_multiple < 0.0 {
        r.warn(
            "timeMultiple",
            format!("{time_multiple} is negative; taken as 0 (replay sends every event at once)"),
        );
        time_multiple = 0.0;
    } else if time_multiple > limits::MAX_TIME_MULTIPLE {
        r.error(
            "timeMultiple",
            format!(
                "{time_multiple} is more than the largest, {} (a replay's gaps stretched a \
                 million times)",
                limits::MAX_TIME_MULTIPLE
            ),
        );
        time_multiple = 1.0;
    }
    if interval == 0 && per_day_volume.is_some() {
        r.error(
            "interval",
            "perDayVolume needs interval > 0 (the volume is spread over the intervals of a day)"
                .into(),
        );
    }
    Timing {
        interval,
        delay,
        count,
        per_day_volume,
        rates,
        earliest,
        latest,
        backfill,
        end,
        tz,
        randomize_events,
        sequential_timestamp,
        time_multiple,
    }
}

/// Events one interval or one backfill may hold before `check` warns that the run is, in
/// practice, unbounded (it would not finish or keep up).
const UNBOUNDED_EVENTS: f64 = 1e9;
/// Daily volume past which `perDayVolume` gets the same warning (10 TB a day).
const UNBOUNDED_BYTES_PER_DAY: f64 = 1e13;

/// Warns, with the event count or time they imply, about values Eventgen accepts that make a
/// run unbounded: `randomizeCount = 1e308`, `perDayVolume = 1e30`, `backfill = -99999999y`.
fn warn_unbounded(
    r: &mut Reader,
    count: i64,
    interval: i64,
    per_day_volume: Option<f64>,
    rates: &Rates,
    backfill: Option<&TimeSpec>,
    probe: DateTime<FixedOffset>,
) {
    let count = count.max(1) as f64;
    let random = rates.randomize_count.map_or(1.0, |rc| 1.0 + rc / 2.0);
    let (calendar, table) = rates.max_calendar_factor();
    let most = count * random * calendar;
    if most > UNBOUNDED_EVENTS {
        // Said at the setting that multiplies most.
        let key = if count >= random && count >= calendar {
            "count"
        } else if random >= calendar {
            "randomizeCount"
        } else {
            table.unwrap_or("count")
        };
        let cap = if most > limits::MAX_EVENTS_PER_INTERVAL as f64 {
            format!(
                "; each interval is capped at {} events",
                limits::MAX_EVENTS_PER_INTERVAL
            )
        } else {
            String::new()
        };
        let size = if most.is_finite() {
            format!("up to {}", limits::figure(most))
        } else {
            "more than 1e308".to_string()
        };
        r.warn(
            key,
            format!(
                "count, the rate tables and randomizeCount let one interval hold {size} \
                 events{cap}"
            ),
        );
    }
    if let Some(gb) = per_day_volume {
        let per_day = gb * 1024.0 * 1024.0 * 1024.0;
        if per_day > UNBOUNDED_BYTES_PER_DAY {
            let per_interval = per_day * interval.max(1) as f64 / 86_400.0;
            r.warn(
                "perDayVolume",
                format!(
                    "{gb} GB a day means {per_interval:.3e} bytes of events every {}s interval",
                    interval.max(1)
                ),
            );
        }
    }
    if let Some(b) = backfill {
        let secs = (probe - b.resolve(probe)).num_seconds().max(0) as f64;
        let events = secs / interval.max(1) as f64 * count;
        if events > UNBOUNDED_EVENTS {
            r.warn(
                "backfill",
                format!(
                    "goes back {:.0} days: about {events:.3e} events before the live run",
                    secs / 86_400.0
                ),
            );
        }
    }
}

/// The sample's zone for plan-time checks (errors in it are reported elsewhere).
fn tz_probe(r: &Reader) -> Tz {
    r.raw("timezone")
        .and_then(|v| Tz::parse(v).ok())
        .unwrap_or(Tz::Local)
}
