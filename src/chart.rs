//! `eventgen check --chart`: per sample, the events per hour that its count, interval and rate
//! tables (`hourOfDayRate`, `dayOfWeekRate`, `minuteOfHourRate`, `dayOfMonthRate`,
//! `monthOfYearRate`, `perDayVolume`) produce over a day and over a week, drawn as text, so
//! the curve can be seen before a day of data is indexed. The numbers are the expected ones:
//! `randomizeCount` varies each interval around them.

use std::fmt::Write;

use chrono::Timelike;

use crate::pipeline::{base_count, fixed_count, template_average};
use crate::plan::{Plan, SamplePlan};
use crate::timing::limits::{MAX_EVENTS_PER_INTERVAL, figure, number};
use crate::timing::rate::round_half_even;
use crate::timing::{MICROS_PER_SEC, Micros};

const HOUR: Micros = 3_600 * MICROS_PER_SEC;
const DAY: Micros = 24 * HOUR;
const MINUTE: Micros = 60 * MICROS_PER_SEC;
/// Width of the longest bar of the day chart, in character cells.
const BAR_CELLS: usize = 40;
/// Eighths of a cell, for smooth bar ends.
const EIGHTHS: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
/// One character per hour in the week chart, from nothing to the week's busiest hour.
const SPARKS: [char; 9] = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The charts of every sample, for the seven days from the (sample-local) day of `start`.
pub fn render(plan: &Plan, start: Micros) -> String {
    let mut out = String::new();
    for s in &plan.samples {
        render_sample(&mut out, s, start);
    }
    out
}

fn render_sample(out: &mut String, s: &SamplePlan, start: Micros) {
    let step = if s.interval > 0 {
        s.interval
    } else {
        MICROS_PER_SEC
    };
    let _ = write!(
        out,
        "[{}] events per hour: count {} every {}s",
        s.stanza,
        s.count,
        step / MICROS_PER_SEC
    );
    if let Some(gb) = s.per_day_volume {
        let _ = write!(out, ", perDayVolume {} GB", number(gb));
    }
    out.push('\n');
    if s.replay.is_some() {
        out.push_str("  replay: the events keep the gaps of the sample's timestamps; no chart\n\n");
        return;
    }
    if let Some(r) = s.rates.randomize_count.filter(|r| *r > 0.0) {
        // Past ±100% the lower end is 0 and a percentage says little.
        let range = if r <= 2.0 {
            format!("within ±{:.0}% of", r * 50.0)
        } else {
            format!("between 0 and {} times", figure(1.0 + r / 2.0))
        };
        let _ = writeln!(
            out,
            "  randomizeCount {}: each interval varies {range} these numbers",
            number(r)
        );
    }
    let day0 = local_midnight(s, start);
    let hours = hourly(s, day0, step);
    let first = s.tz.datetime(day0);
    let day = &hours[..24];
    let peak = day.iter().cloned().fold(0.0, f64::max);
    let _ = writeln!(
        out,
        "  {} ({}): {} events",
        first.format("%a %Y-%m-%d"),
        first.format("%:z"),
        figure(day.iter().sum())
    );
    for (h, &n) in day.iter().enumerate() {
        let _ = writeln!(
            out,
            "  {h:02}:00 {:<BAR_CELLS$} {}",
            bar(n, peak),
            figure(n)
        );
    }
    let week_peak = hours.iter().cloned().fold(0.0, f64::max);
    out.push_str("  week, one mark per hour from 00:00 to 23:00:\n");
    for d in 0..7 {
        let date = s.tz.datetime(day0 + d as Micros * DAY);
        let row = &hours[d * 24..d * 24 + 24];
        let sparks: String = row.iter().map(|&n| spark(n, week_peak)).collect();
        let _ = writeln!(
            out,
            "  {} |{sparks}| {}",
            date.format("%a %m-%d"),
            figure(row.iter().sum())
        );
    }
    out.push('\n');
}

/// Midnight (in the sample's zone) of the day that contains `t`.
fn local_midnight(s: &SamplePlan, t: Micros) -> Micros {
    let d = s.tz.datetime(t);
    let since =
        d.num_seconds_from_midnight() as Micros * MICROS_PER_SEC + (t.rem_euclid(MICROS_PER_SEC));
    t - since
}

/// Expected events in each of the 168 hours from `day0`: firings every `step` from `day0`,
/// each worth what the rates give at its minute.
fn hourly(s: &SamplePlan, day0: Micros, step: Micros) -> Vec<f64> {
    let mut hours = vec![0.0; 7 * 24];
    // Rates change at most once a minute, so count the firings of each minute (or, for
    // intervals longer than a minute, place each firing in its minute).
    let firings_before = |t: Micros| -> i64 { (t - day0 + step - 1).div_euclid(step) };
    for m in 0..7 * 24 * 60 {
        let lo = day0 + m * MINUTE;
        let n = firings_before(lo + MINUTE) - firings_before(lo);
        if n > 0 {
            hours[(m / 60) as usize] += n as f64 * per_firing(s, lo, step);
        }
    }
    hours
}

/// Expected events of one firing at `t`, as the scheduler counts them (without the random
/// part of `randomizeCount`), at most the scheduler's cap of a firing.
fn per_firing(s: &SamplePlan, t: Micros, step: Micros) -> f64 {
    if let Some(n) = fixed_count(s) {
        return n as f64;
    }
    let factor = s.rates.calendar_factor(&s.tz.datetime(t));
    if factor <= 0.0 {
        return 0.0;
    }
    let n = match s.per_day_volume {
        Some(gb) => {
            let bytes = gb * 1024.0 * 1024.0 * 1024.0 * (step as f64 / 1e6) / 86_400.0;
            bytes * factor / template_average(s).max(1.0)
        }
        None => round_half_even(base_count(s) as f64 * factor).max(0) as f64,
    };
    n.min(MAX_EVENTS_PER_INTERVAL as f64)
}

fn bar(n: f64, peak: f64) -> String {
    if !(peak > 0.0 && peak.is_finite()) {
        return String::new();
    }
    let eighths = (n / peak * (BAR_CELLS * 8) as f64).round() as usize;
    let mut b = "█".repeat(eighths / 8);
    b.push_str(EIGHTHS[eighths % 8]);
    b
}

fn spark(n: f64, peak: f64) -> char {
    if !(peak > 0.0 && peak.is_finite()) || n <= 0.0 {
        return SPARKS[0];
    }
    SPARKS[((n / peak * 8.0).ceil() as usize).clamp(1, 8)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_and_sparks_scale_to_the_peak() {
        assert_eq!(bar(0.0, 10.0), "");
        assert_eq!(bar(10.0, 10.0).chars().count(), BAR_CELLS);
        assert_eq!(bar(5.0, 10.0), "█".repeat(BAR_CELLS / 2));
        assert_eq!(spark(0.0, 10.0), ' ');
        assert_eq!(spark(0.1, 10.0), '▁');
        assert_eq!(spark(10.0, 10.0), '█');
    }
}
