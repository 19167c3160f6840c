//! The scheduler: when each sample fires. It runs on the calling thread, waits on the clock for
//! each sample's next deadline, walks backfill, and hands every firing to `jobs` (or `replay`).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use super::count::firing_count;
use super::dispatch::Dispatch;
use super::jobs::emit;
use super::replay::{Ahead, fire_replay};
use crate::generate::probe::SizeProbe;
use crate::plan::{End, Generator, Plan};
use crate::rng::Rng;
use crate::stats::Stats;
use crate::timing::clock::Clock;
use crate::timing::{MICROS_PER_SEC, Micros};

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

/// The scheduler: fires each sample on absolute deadlines and turns firings into jobs.
/// Returns each sample's counter values and replay position at the end, for the state folder.
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
) -> (Vec<Vec<i64>>, Vec<usize>) {
    let t0 = clock.now();
    let mut sched_rng = Rng::derive(seed, u64::MAX);
    let mut states: Vec<SampleState> = plan
        .samples
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let first = t0 + s.delay;
            let backfill_from = s
                .backfill
                .as_ref()
                .map(|b| b.resolve(s.tz.datetime(first)).timestamp_micros())
                .filter(|&b| b < first);
            let resume = s.replay.as_ref().map_or(0, |rp| {
                let pos = resume_positions.get(i).copied().unwrap_or(0);
                if pos < rp.offsets.len() { pos } else { 0 }
            });
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
                    || s.replay.as_ref().is_some_and(|rp| rp.offsets.is_empty()),
                pdv_target_bytes: 0.0,
                pass_start: first - skip,
                replay_next: resume,
                counters: starts[i].clone(),
                prefix: s.counter_prefix(),
                cycle_len: match &s.generator {
                    Generator::Counter(c) => crate::generate::counter::cycle_len(c, s.count),
                    _ => 1,
                },
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
    while let Some(Reverse((deadline, i))) = heap.pop() {
        let s = &plan.samples[i];
        jobs.metrics
            .set_due(deadline, s.interval.max(MICROS_PER_SEC), i);
        if let End::Until(t) = &s.end {
            let limit = t.resolve(s.tz.datetime(t0)).timestamp_micros();
            if deadline >= limit {
                states[i].done = true;
                continue;
            }
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
                until: match &s.end {
                    End::Until(t) => Some(t.resolve(s.tz.datetime(t0)).timestamp_micros()),
                    _ => None,
                },
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
                jobs,
            ) {
                Err(()) => break,
                Ok(None) => states[i].done = true,
                Ok(Some(next)) => heap.push(Reverse((next, i))),
            }
            continue;
        }
        let now = deadline;
        let step = if s.interval > 0 {
            s.interval
        } else {
            MICROS_PER_SEC
        };
        // Backfill: the past, slice by slice, in time order.
        if let Some(from) = states[i].backfill_from.take() {
            let mut t = from;
            while t < now {
                if jobs.stopped() {
                    return positions(&states);
                }
                let hi = (t + step).min(now);
                let wall = s.tz.datetime(t);
                let count = firing_count(
                    s,
                    (t, &wall),
                    &mut sched_rng,
                    probe,
                    i,
                    &mut states[i],
                    step,
                );
                if !emit(
                    plan,
                    i,
                    &mut states[i],
                    (t, hi - 1),
                    count,
                    seed,
                    &mut sched_rng,
                    jobs,
                ) {
                    return positions(&states);
                }
                stats.set_position(hi);
                t = hi;
            }
        }
        let wall = s.tz.datetime(now);
        let lo = s.earliest.resolve(wall).timestamp_micros();
        let hi = s.latest.resolve(wall).timestamp_micros();
        let (lo, hi) = if lo > hi {
            // Reported at plan time when both are fixed; relative windows can still cross.
            (hi, lo)
        } else {
            (lo, hi)
        };
        let count = firing_count(
            s,
            (now, &wall),
            &mut sched_rng,
            probe,
            i,
            &mut states[i],
            step,
        );
        if !emit(
            plan,
            i,
            &mut states[i],
            (lo, hi),
            count,
            seed,
            &mut sched_rng,
            jobs,
        ) {
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
        st.next = deadline + step;
        heap.push(Reverse((st.next, i)));
    }
    positions(&states)
}

fn positions(states: &[SampleState]) -> (Vec<Vec<i64>>, Vec<usize>) {
    (
        states.iter().map(|s| s.counters.clone()).collect(),
        states.iter().map(|s| s.replay_next).collect(),
    )
}

/// The event time at which the whole run ends, for the progress display: the latest end of
/// any sample, or, if one runs forever, the end of the backfill (now); `None` if neither.
fn run_end(plan: &Plan, states: &[SampleState], t0: Micros) -> Option<Micros> {
    let ends: Option<Vec<Micros>> = plan
        .samples
        .iter()
        .zip(states)
        .map(|(s, st)| {
            let step = if s.interval > 0 {
                s.interval
            } else {
                MICROS_PER_SEC
            };
            match &s.end {
                _ if st.done => Some(st.next),
                End::Until(t) => Some(t.resolve(s.tz.datetime(t0)).timestamp_micros()),
                End::Intervals(n) if s.replay.is_none() => {
                    Some(st.next + (*n as i64 - 1).max(0) * step)
                }
                _ => None,
            }
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
