//! Firing counts: how many events (or cycles) one firing of a sample makes, from `count`,
//! the rates (`randomizeCount`, hour/day/minute rates) or `perDayVolume`.

use super::schedule::SampleState;
use crate::generate::probe::SizeProbe;
use crate::plan::{Generator, SamplePlan};
use crate::rng::Rng;
use crate::timing::Micros;
use crate::timing::limits::MAX_EVENTS_PER_INTERVAL;

/// Events (or cycles) of one firing of a sample, live or backfill, at time `t`: at most
/// [`MAX_EVENTS_PER_INTERVAL`], whatever the rates multiply `count` to.
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
    let n = match s.per_day_volume {
        Some(gb) => per_day_volume_count(s, gb, (t, wall), rng, probe, i, st, step),
        None => s.rates.rated_count(base_count(s), wall, rng),
    };
    n.min(MAX_EVENTS_PER_INTERVAL)
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::testing::{T0, plan, state};
    use super::*;
    use crate::plan::Plan;
    use crate::timing::MICROS_PER_SEC;

    /// The count of the first firing of sample 0, drawing from `rng`.
    fn first_count(p: &Arc<Plan>, rng: &mut Rng) -> u64 {
        let s = &p.samples[0];
        let mut probe = SizeProbe::new(p.clone(), &[vec![]], 1);
        let mut st = state(p, 0);
        firing_count(
            s,
            (T0, &s.tz.datetime(T0)),
            rng,
            &mut probe,
            0,
            &mut st,
            s.interval,
        )
    }

    const LINES: &str = "one\ntwo\nthree\n";

    #[test]
    fn count_zero_is_the_whole_sample_and_windbag_zero_is_sixty() {
        let p = plan("[s.log]\ncount = 0\n", &[("s.log", LINES)]);
        assert_eq!(base_count(&p.samples[0]), 3);
        assert_eq!(fixed_count(&p.samples[0]), None);
        assert_eq!(first_count(&p, &mut Rng::seed(1)), 3);
        let p = plan("[s.log]\ncount = 7\n", &[("s.log", LINES)]);
        assert_eq!(base_count(&p.samples[0]), 7);
        assert_eq!(first_count(&p, &mut Rng::seed(1)), 7);
        let p = plan("[w]\ngenerator = windbag\ncount = 0\n", &[]);
        assert_eq!(fixed_count(&p.samples[0]), Some(60));
        let p = plan("[w]\ngenerator = windbag\ncount = 5\n", &[]);
        assert_eq!(fixed_count(&p.samples[0]), Some(5));
    }

    #[test]
    fn counter_cycles_are_at_least_one_and_ignore_the_rates() {
        let p = plan(
            "[c]\ngenerator = counter\ncount = 0\nrandomizeCount = 0.5\n",
            &[],
        );
        assert_eq!(fixed_count(&p.samples[0]), Some(1));
        assert_eq!(first_count(&p, &mut Rng::seed(1)), 1);
    }

    #[test]
    fn randomize_count_stays_within_half_the_factor_and_follows_the_seed() {
        let p = plan(
            "[s.log]\ncount = 1000\nrandomizeCount = 0.2\n",
            &[("s.log", LINES)],
        );
        let mut rng = Rng::seed(42);
        let counts: Vec<u64> = (0..200).map(|_| first_count(&p, &mut rng)).collect();
        assert!(
            counts.iter().all(|c| (900..=1100).contains(c)),
            "{counts:?}"
        );
        assert!(counts.iter().any(|&c| c != counts[0]), "never varied");
        let mut again = Rng::seed(42);
        let repeat: Vec<u64> = (0..200).map(|_| first_count(&p, &mut again)).collect();
        assert_eq!(counts, repeat);
    }

    #[test]
    fn calendar_rates_scale_the_count() {
        // T0 is Monday 00:00 UTC: hour 0, Splunk weekday 1 (0 is Sunday).
        let p = plan(
            "[s.log]\ncount = 100\ntimezone = +0000\n\
             hourOfDayRate = {\"0\": 0.5, \"1\": 2}\ndayOfWeekRate = {\"0\": 1, \"1\": 0.3}\n",
            &[("s.log", LINES)],
        );
        assert_eq!(first_count(&p, &mut Rng::seed(1)), 15);
        let p = plan(
            "[s.log]\ncount = 100\ntimezone = +0000\nhourOfDayRate = {\"0\": 0}\n",
            &[("s.log", LINES)],
        );
        assert_eq!(first_count(&p, &mut Rng::seed(1)), 0);
    }

    #[test]
    fn per_day_volume_turns_bytes_into_events_and_carries_the_remainder() {
        // Ten bytes an event; 1 GiB a day is 745 654.07 bytes a minute.
        let p = plan(
            "[s.log]\nperDayVolume = 1\ninterval = 60\n",
            &[("s.log", "123456789\n")],
        );
        let s = &p.samples[0];
        let mut probe = SizeProbe::new(p.clone(), &[vec![]], 1);
        let mut st = state(&p, 0);
        let mut rng = Rng::seed(1);
        let step = 60 * MICROS_PER_SEC;
        let wall = s.tz.datetime(T0);
        let first = firing_count(s, (T0, &wall), &mut rng, &mut probe, 0, &mut st, step);
        assert_eq!(first, 74_565);
        // The scheduler counts what it queued; the next firing gets the rest of its share.
        st.scheduled += first;
        let second = firing_count(
            s,
            (T0 + step, &wall),
            &mut rng,
            &mut probe,
            0,
            &mut st,
            step,
        );
        assert_eq!(first + second, 149_131);
    }

    #[test]
    fn per_day_volume_at_a_zero_rate_sends_nothing_and_owes_nothing() {
        let p = plan(
            "[s.log]\nperDayVolume = 1\ninterval = 60\ntimezone = +0000\n\
             hourOfDayRate = {\"0\": 0, \"1\": 1}\n",
            &[("s.log", "123456789\n")],
        );
        let s = &p.samples[0];
        let mut probe = SizeProbe::new(p.clone(), &[vec![]], 1);
        let mut st = state(&p, 0);
        let step = 60 * MICROS_PER_SEC;
        let wall = s.tz.datetime(T0);
        let mut rng = Rng::seed(1);
        assert_eq!(
            firing_count(s, (T0, &wall), &mut rng, &mut probe, 0, &mut st, step),
            0
        );
        assert_eq!(st.pdv_target_bytes, 0.0);
    }

    #[test]
    fn template_average_is_the_mean_line_length() {
        let p = plan("[s.log]\n", &[("s.log", "ab\nabcdef\n")]);
        assert_eq!(template_average(&p.samples[0]), 5.0);
    }
}
