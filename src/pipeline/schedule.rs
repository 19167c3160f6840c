//! The scheduler: when each sample fires. It runs on the calling thread, waits on the clock for
//! each sample's next deadline, walks backfill, and hands every firing to `jobs` (or `replay`).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use chrono::{DateTime, FixedOffset};

use super::carry::Carry;
use super::count::firing_count;
use super::dispatch::Dispatch;
use super::jobs::emit;
use super::replay::{Ahead, fire_replay};
use crate::generate::probe::SizeProbe;
use crate::plan::{End, Generator, Plan, SamplePlan};
use crate::reload::Reloader;
use crate::rng::Rng;
use crate::stats::Stats;
use crate::timing::clock::Clock;
use crate::timing::{MICROS_PER_SEC, Micros, limits};

/// Per-sample scheduling state.
pub(super) struct SampleState {
    pub(super) next: Micros,
    pub(super) executions: u64,
    /// Events scheduled so far (perDayVolume compares them with its byte target).
    pub(super) scheduled: u64,
    pub(super) backfill_from: Option<Micros>,
    pub(super) jobs: u64,
    pub(super) done: bool,
    pub(super) pdv_target_bytes: f64,
    /// Counter values at the next event position, and the counters' prefix counts.
    pub(super) counters: Vec<i64>,
    pub(super) prefix: Vec<Vec<u64>>,
    /// Replay: start of the current pass and the next event to send.
    pub(super) pass_start: Micros,
    pub(super) replay_next: usize,
    /// Counter generator: events of one cycle.
    pub(super) cycle_len: u64,
}

impl SampleState {
    /// The state of sample `s` before its first firing, in a run that starts at `t0`: a replay
    /// sample resumes at event `resume` (from the state folder), counters start at `counters`.
    pub(super) fn new(s: &SamplePlan, t0: Micros, resume: usize, counters: Vec<i64>) -> Self {
        let first = t0 + s.delay;
        let backfill_from = s
            .backfill
            .as_ref()
            .map(|b| b.resolve(s.tz.datetime(first)).timestamp_micros())
            .filter(|&b| b < first);
        let resume = s
            .replay
            .as_ref()
            .map_or(0, |rp| if resume < rp.offsets.len() { resume } else { 0 });
        let skip = s
            .replay
            .as_ref()
            .map_or(0, |rp| rp.offsets.get(resume).copied().unwrap_or(0));
        SampleState {
            next: first,
            executions: 0,
            scheduled: 0,
            backfill_from,
            jobs: 0,
            done: matches!(s.end, End::Intervals(0))
                || first > limits::LAST_MICROS
                || s.replay.as_ref().is_some_and(|rp| rp.offsets.is_empty()),
            pdv_target_bytes: 0.0,
            pass_start: first - skip,
            replay_next: resume,
            counters,
            prefix: s.counter_prefix(),
            cycle_len: match &s.generator {
                Generator::Counter(c) => crate::generate::counter::cycle_len(c, s.count),
                _ => 1,
            },
        }
    }
}

/// Time between two firings of a sample (`interval`; one second when it is 0).
pub(super) fn step(s: &SamplePlan) -> Micros {
    if s.interval > 0 {
        s.interval
    } else {
        MICROS_PER_SEC
    }
}

/// The time `end` names, for a run that started at `t0`; `None` if `end` is not a time.
fn end_time(s: &SamplePlan, t0: Micros) -> Option<Micros> {
    match &s.end {
        End::Until(t) => Some(t.resolve(s.tz.datetime(t0)).timestamp_micros()),
        _ => None,
    }
}

/// The event window of a live firing at `wall`: `earliest` to `latest`, in time order.
fn window(s: &SamplePlan, wall: DateTime<FixedOffset>) -> (Micros, Micros) {
    let lo = s.earliest.resolve(wall).timestamp_micros();
    let hi = s.latest.resolve(wall).timestamp_micros();
    if lo > hi {
        // Reported at plan time when both are fixed; relative windows can still cross.
        (hi, lo)
    } else {
        (lo, hi)
    }
}

/// What every firing needs besides its sample's state: the plan, the scheduler's random
/// numbers, the size probe (perDayVolume) and the way out to the workers.
struct Firing<'a, 'q> {
    plan: &'a Plan,
    seed: u64,
    rng: Rng,
    probe: &'a mut SizeProbe,
    jobs: &'a mut Dispatch<'q>,
}

impl Firing<'_, '_> {
    /// One firing of sample `i` at `t` over the event window `window`: its count, cut into
    /// jobs and queued. `false` when the run stops.
    fn fire(
        &mut self,
        i: usize,
        st: &mut SampleState,
        (t, wall): (Micros, &DateTime<FixedOffset>),
        window: (Micros, Micros),
    ) -> bool {
        let s = &self.plan.samples[i];
        let count = firing_count(s, (t, wall), &mut self.rng, self.probe, i, st, step(s));
        emit(
            self.plan,
            i,
            st,
            window,
            count,
            self.seed,
            &mut self.rng,
            self.jobs,
        )
    }
}

/// How a segment of a reloading run starts and may end (see [`super::carry`]).
#[derive(Default, Clone, Copy)]
pub(super) struct Segment<'a> {
    /// Where the previous segment left the run.
    pub(super) carry: Option<&'a Carry>,
    /// Where a new plan waits: the scheduler stops at the first firing after it arrives.
    pub(super) reload: Option<&'a Reloader>,
}

/// Where the scheduler left the run.
pub(super) struct Scheduled {
    pub(super) states: Vec<SampleState>,
    /// The run's start.
    pub(super) t0: Micros,
    /// Set when it stopped for a reload: the first firing it did not make.
    pub(super) boundary: Option<Micros>,
    /// The scheduler's random numbers, where they were.
    pub(super) rng: Rng,
}

impl Scheduled {
    /// Each sample's counter values and replay position (next event), for the state folder.
    pub(super) fn positions(&self) -> (Vec<Vec<i64>>, Vec<usize>) {
        (
            self.states.iter().map(|s| s.counters.clone()).collect(),
            self.states.iter().map(|s| s.replay_next).collect(),
        )
    }
}

/// The scheduler: fires each sample on absolute deadlines and turns firings into jobs.
/// Returns where it left each sample: counter values and replay positions for the state
/// folder, and everything a reload carries over.
#[allow(clippy::too_many_arguments)]
pub(super) fn schedule(
    plan: &Plan,
    mut clock: Clock,
    stop: &Arc<AtomicBool>,
    jobs: &mut Dispatch,
    stats: &Stats,
    seed: u64,
    resume_positions: &[usize],
    starts: &[Vec<i64>],
    probe: &mut SizeProbe,
    segment: Segment,
) -> Scheduled {
    let start = clock.now();
    // A reload's segment goes on with the run's start (for `end` times).
    let t0 = segment.carry.map_or(start, |c| c.t0);
    let mut states: Vec<SampleState> = plan
        .samples
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let resume = resume_positions.get(i).copied().unwrap_or(0);
            let st = SampleState::new(s, start, resume, starts[i].clone());
            match segment.carry {
                Some(c) => c.apply(s, st),
                None => st,
            }
        })
        .collect();
    stats.set_span(
        states
            .iter()
            .map(|st| st.backfill_from.unwrap_or(st.next))
            .min()
            .unwrap_or(t0),
        run_end(plan, &states, t0),
    );
    let mut heap: BinaryHeap<Reverse<(Micros, usize)>> = states
        .iter()
        .enumerate()
        .filter(|(_, st)| !st.done)
        .map(|(i, st)| Reverse((st.next, i)))
        .collect();
    let mut firing = Firing {
        plan,
        seed,
        rng: segment
            .carry
            .map_or_else(|| Rng::derive(seed, u64::MAX), |c| c.rng.clone()),
        probe,
        jobs,
    };
    let mut boundary = None;
    'firings: while let Some(Reverse((deadline, i))) = heap.pop() {
        if segment.reload.is_some_and(Reloader::is_pending) {
            // A new plan: it takes over from this firing on.
            boundary = Some(deadline);
            break;
        }
        let s = &plan.samples[i];
        firing
            .jobs
            .metrics
            .set_due(deadline, s.interval.max(MICROS_PER_SEC), i);
        if end_time(s, t0).is_some_and(|limit| deadline >= limit) {
            states[i].done = true;
            continue;
        }
        if !clock.wait_until(deadline, stop) {
            break;
        }
        if let Some(rp) = &s.replay {
            stats.set_position(deadline);
            // On the virtual clock nothing waits: a job may take the events that come before
            // the next firing of any other sample (and before `end`), which keeps the order
            // of the output and spares a job per event.
            let ahead = clock.is_virtual().then(|| Ahead {
                next_other: heap.peek().map(|Reverse(x)| *x),
                until: end_time(s, t0),
            });
            match fire_replay(
                s,
                i,
                rp,
                &mut states[i],
                deadline,
                clock.now(),
                ahead,
                seed,
                firing.jobs,
            ) {
                Err(()) => break,
                Ok(None) => states[i].done = true,
                Ok(Some(next)) => heap.push(Reverse((next, i))),
            }
            continue;
        }
        let step = step(s);
        // Backfill: the past, slice by slice, in time order.
        if let Some(from) = states[i].backfill_from.take() {
            let mut t = from;
            while t < deadline {
                if firing.jobs.stopped() {
                    break 'firings;
                }
                let hi = (t + step).min(deadline);
                if !firing.fire(i, &mut states[i], (t, &s.tz.datetime(t)), (t, hi - 1)) {
                    break 'firings;
                }
                stats.set_position(hi);
                t = hi;
            }
        }
        let wall = s.tz.datetime(deadline);
        if !firing.fire(i, &mut states[i], (deadline, &wall), window(s, wall)) {
            break;
        }
        stats.set_position(deadline);
        let st = &mut states[i];
        st.executions += 1;
        if let End::Intervals(n) = s.end
            && st.executions >= n
        {
            st.done = true;
            continue;
        }
        // No firing after the last instant a timestamp can show (an interval of thousands of
        // years fires once).
        match deadline
            .checked_add(step)
            .filter(|&n| n <= limits::LAST_MICROS)
        {
            Some(next) => {
                st.next = next;
                heap.push(Reverse((next, i)));
            }
            None => st.done = true,
        }
    }
    Scheduled {
        states,
        t0,
        boundary,
        rng: firing.rng,
    }
}

/// The event time at which the whole run ends, for the progress display: the latest end of
/// any sample, or, if one runs forever, the end of the backfill (now); `None` if neither.
fn run_end(plan: &Plan, states: &[SampleState], t0: Micros) -> Option<Micros> {
    let ends: Option<Vec<Micros>> = plan
        .samples
        .iter()
        .zip(states)
        .map(|(s, st)| match &s.end {
            _ if st.done => Some(st.next),
            End::Until(_) => end_time(s, t0),
            End::Intervals(n) if s.replay.is_none() => {
                let more = i64::try_from(n.saturating_sub(1)).unwrap_or(i64::MAX);
                Some(
                    st.next
                        .saturating_add(more.saturating_mul(step(s)))
                        .min(limits::LAST_MICROS),
                )
            }
            _ => None,
        })
        .collect();
    match ends {
        Some(ends) => ends.into_iter().max(),
        None => states
            .iter()
            .any(|st| st.backfill_from.is_some())
            .then_some(t0),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{T0, plan, state};
    use super::*;

    const LINES: &str = "one\ntwo\nthree\n";
    const SEC: Micros = MICROS_PER_SEC;

    #[test]
    fn a_sample_first_fires_after_its_delay_and_backfills_before_that() {
        let p = plan("[s.log]\ndelay = 30\nbackfill = -1h\n", &[("s.log", LINES)]);
        let st = state(&p, 0);
        assert_eq!(st.next, T0 + 30 * SEC);
        assert_eq!(st.backfill_from, Some(T0 + 30 * SEC - 3600 * SEC));
        assert!(!st.done);
        let p = plan("[s.log]\nend = 0\n", &[("s.log", LINES)]);
        let st = state(&p, 0);
        assert!(st.done);
        assert_eq!((st.next, st.backfill_from), (T0, None));
    }

    #[test]
    fn a_replay_sample_resumes_at_its_saved_position_if_it_still_exists() {
        let p = plan(
            "[r.log]\nmode = replay\ntimezone = +0000\n\
             token.0.token = \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\n\
             token.0.replacementType = replaytimestamp\n\
             token.0.replacement = %Y-%m-%d %H:%M:%S\n",
            &[(
                "r.log",
                "2023-05-01 10:00:00 a\n2023-05-01 10:00:02 b\n2023-05-01 10:00:05 c\n",
            )],
        );
        let s = &p.samples[0];
        let st = SampleState::new(s, T0, 2, vec![]);
        assert_eq!(st.replay_next, 2);
        // The pass is placed so that event 2 is due now.
        assert_eq!(st.pass_start, T0 - 5 * SEC);
        let st = SampleState::new(s, T0, 3, vec![]);
        assert_eq!((st.replay_next, st.pass_start), (0, T0));
    }

    #[test]
    fn the_run_ends_with_its_last_sample() {
        let p = plan(
            "[a.log]\ninterval = 60\nend = 3\n\n[b.log]\ninterval = 10\nend = 2\n",
            &[("a.log", LINES), ("b.log", LINES)],
        );
        let states = [state(&p, 0), state(&p, 1)];
        // a fires at 0, 60 and 120 s.
        assert_eq!(run_end(&p, &states, T0), Some(T0 + 120 * SEC));
        let p = plan(
            "[a.log]\ninterval = 0\nend = 4\n\n[b.log]\nend = 2026-01-05T01:00:00Z\n",
            &[("a.log", LINES), ("b.log", LINES)],
        );
        let states = [state(&p, 0), state(&p, 1)];
        assert_eq!(run_end(&p, &states, T0), Some(T0 + 3600 * SEC));
        // interval = 0 fires every second.
        assert_eq!(run_end(&p, &states[..1], T0), Some(T0 + 3 * SEC));
    }

    #[test]
    fn an_endless_run_ends_only_its_backfill() {
        let p = plan(
            "[a.log]\ninterval = 60\n\n[b.log]\nend = 1\n",
            &[("a.log", LINES), ("b.log", LINES)],
        );
        let states = [state(&p, 0), state(&p, 1)];
        assert_eq!(run_end(&p, &states, T0), None);
        let p = plan(
            "[a.log]\ninterval = 60\nbackfill = -10m\n",
            &[("a.log", LINES)],
        );
        assert_eq!(run_end(&p, &[state(&p, 0)], T0), Some(T0));
        // A sample that has ended counts where it stopped.
        let p = plan("[a.log]\nend = 0\n", &[("a.log", LINES)]);
        let mut st = state(&p, 0);
        st.next = T0 + 7 * SEC;
        assert_eq!(run_end(&p, &[st], T0), Some(T0 + 7 * SEC));
    }

    #[test]
    fn positions_are_each_samples_counters_and_replay_cursor() {
        let p = plan(
            "[a.log]\ntoken.0.token = @@id\ntoken.0.replacementType = integerid\n\
             token.0.replacement = 5\n\n[b.log]\n",
            &[("a.log", "@@id\n"), ("b.log", LINES)],
        );
        let (mut a, mut b) = (state(&p, 0), state(&p, 1));
        a.counters[0] = 42;
        b.replay_next = 3;
        let done = Scheduled {
            states: vec![a, b],
            t0: T0,
            boundary: None,
            rng: Rng::derive(1, 1),
        };
        assert_eq!(done.positions(), (vec![vec![42], vec![]], vec![0, 3]));
    }

    #[test]
    fn a_window_is_earliest_to_latest_in_time_order() {
        let p = plan(
            "[a.log]\nearliest = -1m\nlatest = now\ntimezone = +0000\n\n\
             [b.log]\nearliest = @d\nlatest = -1h\ntimezone = +0000\n",
            &[("a.log", LINES), ("b.log", LINES)],
        );
        let wall = p.samples[0].tz.datetime(T0);
        assert_eq!(window(&p.samples[0], wall), (T0 - 60 * SEC, T0));
        // At midnight `@d` is after `-1h` (a plan-time check cannot see that).
        assert_eq!(window(&p.samples[1], wall), (T0 - 3600 * SEC, T0));
    }
}
