//! Replay firing: a replay sample fires once per event of its file, at the event's offset in
//! the pass, with a backfill walked backwards from the live pass.

use std::sync::atomic::Ordering;

use super::dispatch::Dispatch;
use super::jobs::{JOB_EVENTS, advance_counters};
use super::schedule::SampleState;
use crate::generate::Job;
use crate::plan::{End, SamplePlan};
use crate::rng::Rng;
use crate::timing::Micros;

/// Most events one replay backfill may produce (a guard against tiny gaps over long windows).
const REPLAY_BACKFILL_LIMIT: usize = 10_000_000;

/// How far past its deadline a replay firing may take events (virtual clock only).
#[derive(Clone, Copy)]
pub(super) struct Ahead {
    /// The next firing of any other sample, as the scheduler orders them.
    pub(super) next_other: Option<(Micros, usize)>,
    /// The sample's `end` time.
    pub(super) until: Option<Micros>,
}

impl Ahead {
    /// Whether the event of sample `i` at `t` would be fired before anything else.
    pub(super) fn allows(&self, t: Micros, i: usize) -> bool {
        self.next_other.is_none_or(|other| (t, i) < other) && self.until.is_none_or(|u| t < u)
    }
}

/// One replay firing: the backfill (first time only), then every event due by `now` (or
/// allowed by `ahead`), at most `JOB_EVENTS`.
/// Returns the next deadline, `None` when the sample has ended, `Err` when the run stops.
#[allow(clippy::too_many_arguments)]
pub(super) fn fire_replay(
    s: &SamplePlan,
    i: usize,
    rp: &crate::plan::replay::ReplayPlan,
    st: &mut SampleState,
    deadline: Micros,
    now: Micros,
    ahead: Option<Ahead>,
    seed: u64,
    jobs: &mut Dispatch,
) -> Result<Option<Micros>, ()> {
    let n = rp.offsets.len();
    let stop = jobs.queue.stop;
    let mut send = |st: &mut SampleState, first: usize, times: Vec<Micros>| -> Result<(), ()> {
        let count = times.len() as u64;
        let counter_base = advance_counters(st, first as u64, count);
        let job = Job {
            seq: 0,
            sample: i,
            earliest: times[0],
            latest: *times.last().unwrap_or(&times[0]),
            count,
            position: first as u64,
            counter_base,
            rng_seed: Rng::derive(seed, ((i as u64) << 40) ^ st.jobs).next_u64(),
            index: None,
            cycle: (st.executions, count),
            times,
        };
        if !jobs.send(job, st.jobs) {
            return Err(());
        }
        st.jobs += 1;
        st.scheduled += count;
        Ok(())
    };
    if let Some(from) = st.backfill_from.take() {
        // Walk the sample backwards from the live pass's start: the gap before event 0 of a
        // pass is the pause between passes (`interval`).
        let mut picked: Vec<(usize, Micros)> = Vec::new();
        let mut t = st.pass_start;
        let mut k = n - 1;
        if rp.span() > 0 || s.interval > 0 {
            loop {
                let gap = if k == n - 1 {
                    s.interval
                } else {
                    rp.offsets[k + 1] - rp.offsets[k]
                };
                t -= gap;
                if picked.len().is_multiple_of(JOB_EVENTS as usize) && stop.load(Ordering::Relaxed)
                {
                    return Err(());
                }
                if t < from || picked.len() >= REPLAY_BACKFILL_LIMIT {
                    break;
                }
                picked.push((k, t));
                k = if k == 0 { n - 1 } else { k - 1 };
            }
        }
        picked.reverse();
        // Consecutive runs of event indices go out as jobs.
        let mut start = 0;
        while start < picked.len() {
            let mut end = start + 1;
            while end < picked.len()
                && picked[end].0 == picked[end - 1].0 + 1
                && end - start < JOB_EVENTS as usize
            {
                end += 1;
            }
            let times = picked[start..end].iter().map(|p| p.1).collect();
            send(st, picked[start].0, times)?;
            start = end;
        }
    }
    // Every event due by now (virtual clock: exactly those due at this deadline).
    let due = now.max(deadline);
    let first = st.replay_next;
    let mut k = first;
    let mut times = Vec::new();
    while k < n && times.len() < JOB_EVENTS as usize {
        let t = st.pass_start + rp.offsets[k];
        if t > due && !ahead.is_some_and(|a| a.allows(t, i)) {
            break;
        }
        times.push(t);
        k += 1;
    }
    if times.is_empty() {
        times.push(deadline);
        k = first + 1;
    }
    let last = *times.last().unwrap_or(&deadline);
    send(st, first, times)?;
    st.replay_next = k;
    if k < n {
        return Ok(Some(st.pass_start + rp.offsets[k]));
    }
    st.executions += 1;
    st.replay_next = 0;
    if let End::Intervals(passes) = s.end
        && st.executions >= passes
    {
        return Ok(None);
    }
    st.pass_start = last.saturating_add(s.interval);
    if st.pass_start > crate::timing::limits::LAST_MICROS {
        // The next pass would start after 9999.
        return Ok(None);
    }
    Ok(Some(st.pass_start))
}
