//! Firing counts: how many events (or cycles) one firing of a sample makes, from `count`,
//! the rates (`randomizeCount`, hour/day/minute rates) or `perDayVolume`.

use super::schedule::SampleState;
use crate::generate::probe::SizeProbe;
use crate::plan::{Generator, SamplePlan};
use crate::rng::Rng;
use crate::timing::Micros;

/// Events (or cycles) of one firing of a sample, live or backfill, at time `t`.
pub(super) fn firing_count(
    s: &SamplePlan,
    (t, wall): (Micros, &chrono::DateTime<chrono::FixedOffset>),
    rng: &mut Rng,
    probe: &mut SizeProbe,
    i: usize,
    st: &mut SampleState,
    step: Micros,
) -> u64 {
    if let Some(n) = fixed_count(s) {
        return n;
    }
    match s.per_day_volume {
        Some(gb) => per_day_volume_count(s, gb, (t, wall), rng, probe, i, st, step),
        None => s.rates.rated_count(base_count(s), wall, rng),
    }
}

/// The events of every firing, for generators whose count the rates do not change.
pub(crate) fn fixed_count(s: &SamplePlan) -> Option<u64> {
    match &s.generator {
        // Cycles: -1 and 0 mean one.
        Generator::Counter(_) | Generator::Jinja(..) => Some(s.count.max(1)),
        // Eventgen's windbag turns -1 into 60 events.
        Generator::Windbag if s.count == 0 => Some(60),
        Generator::Windbag => Some(s.count),
        _ => None,
    }
}

pub(crate) fn base_count(s: &SamplePlan) -> u64 {
    if s.count == 0 {
        s.events.len() as u64
    } else {
        s.count
    }
}

/// The perDayVolume budget of one firing turned into events, with the average event size
/// of the probes so far (see [`SizeProbe`]).
#[allow(clippy::too_many_arguments)]
fn per_day_volume_count(
    s: &SamplePlan,
    gb: f64,
    (t, wall): (Micros, &chrono::DateTime<chrono::FixedOffset>),
    rng: &mut Rng,
    probe: &mut SizeProbe,
    i: usize,
    st: &mut SampleState,
    step: Micros,
) -> u64 {
    let factor = s.rates.random_factor(rng) * s.rates.calendar_factor(wall);
    st.pdv_target_bytes += gb * 1024.0 * 1024.0 * 1024.0 * (step as f64 / 1e6) / 86_400.0 * factor;
    if factor <= 0.0 {
        // A rate of zero means nothing in this interval, whatever is owed from before.
        return 0;
    }
    // A first guess of this firing's count decides how many of its first events to probe.
    let guess = probe.mean(i).unwrap_or_else(|| template_average(s));
    let expected = ((st.pdv_target_bytes / guess).round() as i64 - st.scheduled as i64).max(1);
    let avg = probe.average(i, st.jobs, t, &st.counters, expected as u64);
    let want = (st.pdv_target_bytes / avg).round() as i64 - st.scheduled as i64;
    want.max(0) as u64
}

/// The sample's average line length before anything was rendered.
pub(crate) fn template_average(s: &SamplePlan) -> f64 {
    if s.events.is_empty() {
        return 1.0;
    }
    let total: usize = s.events.iter().map(|e| e.template.text.len()).sum();
    (total as f64 / s.events.len() as f64).max(1.0)
}
