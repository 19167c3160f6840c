//! How one firing becomes jobs: the cut (a function of the plan and the count only, so seeded
//! runs do not depend on the number of workers), each job's window, position and counter base.

use super::dispatch::Dispatch;
use super::schedule::SampleState;
use crate::generate::Job;
use crate::plan::{Generator, Plan, SamplePlan};
use crate::rng::Rng;
use crate::timing::Micros;

/// Largest number of events in one job, so big intervals spread over the workers and batches
/// stay a few megabytes.
pub(super) const JOB_EVENTS: u64 = 4096;
/// Events of one windbag or counter job: these generators draw no random numbers and cost
/// ~30 ns an event, so their jobs are larger than the sample path's, which keeps the hand-overs
/// between threads (a futex wake and a context switch each) to a few percent of the CPU time.
const PLAIN_JOB_EVENTS: u64 = 32_768;
/// Cycles of a jinja template in one job (a cycle may render many events; the worker hands
/// its batch on every `BATCH_BYTES` anyway). At 256, the hand-overs took a quarter of the CPU
/// time of a small template.
const JINJA_JOB_CYCLES: u64 = 2048;

/// The counter base of a job covering positions `[position, position + count)`, and the
/// sample's counters moved past those events.
pub(super) fn advance_counters(st: &mut SampleState, position: u64, count: u64) -> Vec<i64> {
    let mut base = Vec::with_capacity(st.counters.len());
    for (c, pre) in st.prefix.iter().enumerate() {
        let before = crate::plan::matches_before(pre, position) as i64;
        let after = crate::plan::matches_before(pre, position + count) as i64;
        // Wrapping, as the counters themselves are (see `Worker`).
        base.push(st.counters[c].wrapping_sub(before));
        st.counters[c] = st.counters[c].wrapping_add(after - before);
    }
    base
}

/// How the scheduler cuts one firing of a sample into jobs.
struct Split {
    /// Units (events, or jinja cycles) of the firing.
    units: u64,
    /// Most units in one job.
    per_job: u64,
    /// Each job gets its share of the window (sample path); otherwise every job gets the
    /// whole window and places its events by their position in the firing.
    slice_window: bool,
}

/// The jobs of one firing of `count` (events, or cycles for counter and jinja). The cut
/// depends only on the plan and the count, never on the number of workers, so seeded runs
/// are the same with any `--generators`.
fn split(s: &SamplePlan, st: &SampleState, count: u64) -> Split {
    let (units, per_job, slice_window) = match &s.generator {
        Generator::Sample | Generator::Replay => (count, JOB_EVENTS, true),
        Generator::Windbag => (count, PLAIN_JOB_EVENTS, false),
        Generator::Counter(c) => (
            crate::generate::counter::cycles(c, count) * st.cycle_len,
            PLAIN_JOB_EVENTS,
            false,
        ),
        // line_count renders until enough lines came out: one job, streamed in batches.
        Generator::Jinja(_, crate::plan::JinjaCount::Lines) => (count, u64::MAX, false),
        Generator::Jinja(..) => (count, JINJA_JOB_CYCLES, false),
    };
    Split {
        units,
        per_job,
        slice_window,
    }
}

/// Splits a firing into jobs (see [`split`]) and queues them.
#[allow(clippy::too_many_arguments)]
pub(super) fn emit(
    plan: &Plan,
    i: usize,
    st: &mut SampleState,
    (lo, hi): (Micros, Micros),
    count: u64,
    seed: u64,
    rng: &mut Rng,
    jobs: &mut Dispatch,
) -> bool {
    let s = &plan.samples[i];
    let index =
        (!s.extend_indexes.is_empty()).then(|| rng.below(s.extend_indexes.len() as u64) as usize);
    let Split {
        units,
        per_job,
        slice_window,
    } = split(s, st, count);
    let cycles = match &s.generator {
        Generator::Counter(c) => crate::generate::counter::cycles(c, count),
        _ => count,
    };
    let parts = units.div_ceil(per_job).max(1);
    let span = (hi - lo) as i128;
    let mut done = 0u64;
    for p in 0..parts {
        let n = units / parts + u64::from(p < units % parts);
        let (plo, phi) = if slice_window {
            let plo = lo + (span * p as i128 / parts as i128) as i64;
            let phi = if p + 1 == parts {
                hi
            } else {
                lo + (span * (p + 1) as i128 / parts as i128) as i64 - 1
            };
            (plo, phi.max(plo))
        } else {
            (lo, hi)
        };
        let job = Job {
            seq: 0,
            sample: i,
            earliest: plo,
            latest: phi,
            count: n,
            position: done,
            counter_base: advance_counters(st, done, n),
            rng_seed: Rng::derive(seed, ((i as u64) << 40) ^ st.jobs).next_u64(),
            index,
            cycle: (st.executions, cycles),
            times: Vec::new(),
        };
        if !jobs.send(job, st.jobs) {
            return false;
        }
        st.jobs += 1;
        done += n;
    }
    st.scheduled += count;
    true
}
