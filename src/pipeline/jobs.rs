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

#[cfg(test)]
mod tests {
    use super::super::testing::{Queue, T0, plan, state};
    use super::*;
    use crate::shard::Shard;
    use crate::timing::MICROS_PER_SEC;

    const LINES: &str = "one\ntwo\nthree\n";

    #[test]
    fn the_cut_depends_on_the_generator_and_the_count_only() {
        let p = plan("[s.log]\n", &[("s.log", LINES)]);
        let sp = split(&p.samples[0], &state(&p, 0), 10_000);
        assert_eq!(
            (sp.units, sp.per_job, sp.slice_window),
            (10_000, JOB_EVENTS, true)
        );
        let p = plan("[w]\ngenerator = windbag\n", &[]);
        let sp = split(&p.samples[0], &state(&p, 0), 100_000);
        assert_eq!(
            (sp.units, sp.per_job, sp.slice_window),
            (100_000, PLAIN_JOB_EVENTS, false)
        );
        // A counter firing is `count` cycles of every value from start to end.
        let p = plan(
            "[c]\ngenerator = counter\ncount = 3\nstart_count = 1\nend_count = 4\n",
            &[],
        );
        let st = state(&p, 0);
        assert!(st.cycle_len > 1, "{}", st.cycle_len);
        let sp = split(&p.samples[0], &st, 3);
        assert_eq!((sp.units, sp.slice_window), (3 * st.cycle_len, false));
        assert_eq!(sp.per_job, PLAIN_JOB_EVENTS);
    }

    #[test]
    fn a_firing_becomes_even_jobs_over_consecutive_slices_of_its_window() {
        let p = plan("[s.log]\n", &[("s.log", LINES)]);
        let q = Queue::new(&p, Shard::WHOLE);
        let mut st = state(&p, 0);
        let hi = T0 + 3 * MICROS_PER_SEC - 1;
        let (queued, jobs) = q.with(Shard::WHOLE, |d| {
            emit(&p, 0, &mut st, (T0, hi), 10_000, 7, &mut Rng::seed(1), d)
        });
        assert!(queued);
        let counts: Vec<u64> = jobs.iter().map(|j| j.count).collect();
        assert_eq!(counts, [3334, 3333, 3333]);
        let positions: Vec<u64> = jobs.iter().map(|j| j.position).collect();
        assert_eq!(positions, [0, 3334, 6667]);
        let seqs: Vec<u64> = jobs.iter().map(|j| j.seq).collect();
        assert_eq!(seqs, [0, 1, 2]);
        assert_eq!(jobs[0].earliest, T0);
        assert_eq!(jobs[2].latest, hi);
        for pair in jobs.windows(2) {
            assert_eq!(pair[1].earliest, pair[0].latest + 1);
        }
        assert_ne!(jobs[0].rng_seed, jobs[1].rng_seed);
        assert_eq!((st.jobs, st.scheduled), (3, 10_000));
        // The next firing's jobs continue the sample's job count.
        let (_, more) = q.with(Shard::WHOLE, |d| {
            emit(&p, 0, &mut st, (T0, hi), 1, 7, &mut Rng::seed(1), d)
        });
        assert_eq!(more.len(), 1);
        assert_eq!(st.jobs, 4);
    }

    #[test]
    fn windbag_jobs_share_the_whole_window() {
        let p = plan("[w]\ngenerator = windbag\n", &[]);
        let q = Queue::new(&p, Shard::WHOLE);
        let mut st = state(&p, 0);
        let (_, jobs) = q.with(Shard::WHOLE, |d| {
            emit(
                &p,
                0,
                &mut st,
                (T0, T0 + 9),
                70_000,
                7,
                &mut Rng::seed(1),
                d,
            )
        });
        let counts: Vec<u64> = jobs.iter().map(|j| j.count).collect();
        assert_eq!(counts, [23_334, 23_333, 23_333]);
        assert!(jobs.iter().all(|j| (j.earliest, j.latest) == (T0, T0 + 9)));
    }

    #[test]
    fn a_shard_queues_only_its_jobs_numbered_from_zero() {
        let p = plan("[s.log]\n", &[("s.log", LINES)]);
        let whole = Queue::new(&p, Shard::WHOLE);
        let (_, all) = whole.with(Shard::WHOLE, |d| {
            emit(
                &p,
                0,
                &mut state(&p, 0),
                (T0, T0 + 999),
                10_000,
                7,
                &mut Rng::seed(1),
                d,
            )
        });
        let shard = Shard { index: 1, count: 2 };
        let half = Queue::new(&p, shard);
        let mut st = state(&p, 0);
        let (queued, mine) = half.with(shard, |d| {
            emit(
                &p,
                0,
                &mut st,
                (T0, T0 + 999),
                10_000,
                7,
                &mut Rng::seed(1),
                d,
            )
        });
        assert!(queued);
        assert_eq!(mine.len(), 1);
        let (j, same) = (&mine[0], &all[1]);
        assert_eq!(j.seq, 0);
        assert_eq!(
            (j.count, j.position, j.earliest, j.latest, j.rng_seed),
            (
                same.count,
                same.position,
                same.earliest,
                same.latest,
                same.rng_seed
            )
        );
        // Every shard counts every job of the sample, so the next job numbers agree.
        assert_eq!(st.jobs, 3);
    }

    #[test]
    fn a_stopped_run_queues_nothing() {
        let p = plan("[s.log]\n", &[("s.log", LINES)]);
        let q = Queue::new(&p, Shard::WHOLE);
        q.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let (queued, jobs) = q.with(Shard::WHOLE, |d| {
            emit(
                &p,
                0,
                &mut state(&p, 0),
                (T0, T0),
                10,
                7,
                &mut Rng::seed(1),
                d,
            )
        });
        assert!(!queued);
        assert!(jobs.is_empty());
    }

    #[test]
    fn counter_bases_are_the_values_at_the_start_of_the_firing() {
        // Only the first of two lines uses the counter: one value every two events.
        let p = plan(
            "[s.log]\ntoken.0.token = @@id\ntoken.0.replacementType = integerid\n\
             token.0.replacement = 100\n",
            &[("s.log", "a=@@id\nb\n")],
        );
        let mut st = state(&p, 0);
        let start = st.counters[0];
        assert_eq!(advance_counters(&mut st, 0, 5), [start]);
        assert_eq!(st.counters, [start + 3]);
        // A later job of the same firing sees the same base, and moves the counter on.
        assert_eq!(advance_counters(&mut st, 5, 4), [start]);
        assert_eq!(st.counters, [start + 5]);
    }
}
