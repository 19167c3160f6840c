//! Carrying a run over to a new plan (live reload, see `crate::reload`). A segment that stops
//! for a reload stops at a firing it has not made yet (the boundary); every firing before it
//! is in the queues and goes out in order. The next segment starts at the boundary with the
//! new plan, and each of its samples takes over the state of the sample with the same app,
//! stanza and name: next firing, intervals done (so `end` counts the whole run), jobs (so a
//! seeded run draws what a run of the new plan from the start would), counter values by
//! counter (`integerid`, `seqfile`), replay position and perDayVolume's running total.
//!
//! A sample the new plan adds joins as if it had been there from the start: its firings keep
//! their grid (`t0 + delay + k × interval`), the first at or after the boundary, and the
//! intervals before count towards `end`. It skips its backfill, and its counters start at
//! their configured start. A removed sample simply stops.

use super::schedule::SampleState;
use crate::plan::{Plan, SamplePlan};
use crate::reload::{SampleId, identity};
use crate::rng::Rng;
use crate::timing::{MICROS_PER_SEC, Micros};

/// One sample's state at the boundary.
#[derive(Debug, Clone)]
pub(super) struct CarriedSample {
    next: Micros,
    executions: u64,
    scheduled: u64,
    jobs: u64,
    done: bool,
    pdv_target_bytes: f64,
    pass_start: Micros,
    replay_next: usize,
    /// Where each counter goes on, by its state name.
    counters: Vec<(String, i64)>,
}

/// Where a segment that stopped for a reload left the run.
#[derive(Debug, Clone)]
pub(super) struct Carry {
    /// The run's start: `end` times and an added sample's grid count from it.
    pub(super) t0: Micros,
    /// The first firing not made.
    pub(super) at: Micros,
    pub(super) seed: u64,
    /// The scheduler's random numbers, where they were.
    pub(super) rng: Rng,
    samples: Vec<(SampleId, CarriedSample)>,
}

impl Carry {
    /// The carry of `plan`'s samples, stopped at `at`; `counters` are each sample's next
    /// counter values (see `state::next_counters`).
    pub(super) fn new(
        plan: &Plan,
        states: &[SampleState],
        counters: &[Vec<i64>],
        (t0, at): (Micros, Micros),
        seed: u64,
        rng: Rng,
    ) -> Carry {
        let samples = plan
            .samples
            .iter()
            .zip(states)
            .zip(counters)
            .map(|((s, st), values)| {
                let carried = CarriedSample {
                    next: st.next,
                    executions: st.executions,
                    scheduled: st.scheduled,
                    jobs: st.jobs,
                    done: st.done,
                    pdv_target_bytes: st.pdv_target_bytes,
                    pass_start: st.pass_start,
                    replay_next: st.replay_next,
                    counters: s
                        .counters
                        .iter()
                        .zip(values)
                        .map(|(c, v)| (c.state_name.clone(), *v))
                        .collect(),
                };
                (identity(s), carried)
            })
            .collect();
        Carry {
            t0,
            at,
            seed,
            rng,
            samples,
        }
    }

    fn find(&self, s: &SamplePlan) -> Option<&CarriedSample> {
        let id = identity(s);
        self.samples.iter().find(|(k, _)| *k == id).map(|(_, c)| c)
    }

    /// Counter starts for the new plan: carried values where the sample and counter go on,
    /// `fresh` (configured or state folder) for the others.
    pub(super) fn counter_starts(&self, plan: &Plan, fresh: Vec<Vec<i64>>) -> Vec<Vec<i64>> {
        plan.samples
            .iter()
            .zip(fresh)
            .map(|(s, fresh)| {
                let carried = self.find(s);
                s.counters
                    .iter()
                    .zip(fresh)
                    .map(|(c, f)| {
                        carried
                            .and_then(|k| k.counters.iter().find(|(n, _)| *n == c.state_name))
                            .map_or(f, |(_, v)| *v)
                    })
                    .collect()
            })
            .collect()
    }

    /// Sample `s`'s state in the segment that starts at the boundary; `st` is its state as a
    /// run starting there would have it (counters already from [`Carry::counter_starts`]).
    pub(super) fn apply(&self, s: &SamplePlan, mut st: SampleState) -> SampleState {
        st.backfill_from = None;
        match self.find(s) {
            Some(c) => {
                st.next = c.next.max(self.at);
                st.executions = c.executions;
                st.scheduled = c.scheduled;
                st.jobs = c.jobs;
                st.done = st.done
                    || c.done
                    || matches!(s.end, crate::plan::End::Intervals(n) if c.executions >= n);
                st.pdv_target_bytes = c.pdv_target_bytes;
                if let Some(rp) = &s.replay {
                    if c.replay_next < rp.offsets.len() {
                        st.pass_start = c.pass_start;
                        st.replay_next = c.replay_next;
                    } else {
                        st.pass_start = st.next;
                        st.replay_next = 0;
                    }
                }
            }
            None if s.replay.is_some() => {
                st.next = self.at;
                st.pass_start = self.at;
            }
            None => {
                // Its grid, from the run's start.
                let first = self.t0 + s.delay;
                if first < self.at {
                    let step = if s.interval > 0 {
                        s.interval
                    } else {
                        MICROS_PER_SEC
                    };
                    let k = (self.at - first + step - 1) / step;
                    st.next = first + k * step;
                    st.executions = k as u64;
                    st.jobs = k as u64;
                    if let crate::plan::End::Intervals(n) = s.end
                        && st.executions >= n
                    {
                        st.done = true;
                    }
                }
            }
        }
        st
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{T0, plan, state};
    use super::*;

    const SEC: Micros = MICROS_PER_SEC;
    const ID: &str = "token.0.token = @@id\ntoken.0.replacementType = integerid\n\
                      token.0.replacement = 1\n";

    #[test]
    fn a_kept_sample_goes_on_and_an_added_one_joins_its_grid() {
        let old = plan(
            &format!("[a.log]\ninterval = 10\nend = 5\n{ID}"),
            &[("a.log", "@@id\n")],
        );
        let mut st = state(&old, 0);
        st.next = T0 + 30 * SEC;
        st.executions = 3;
        st.jobs = 3;
        st.counters = vec![7];
        let carry = Carry::new(
            &old,
            &[st],
            &[vec![7]],
            (T0, T0 + 30 * SEC),
            1,
            Rng::derive(1, 2),
        );
        let new = plan(
            &format!(
                "[a.log]\ninterval = 10\nend = 5\n{ID}\n[b.log]\ninterval = 7\ndelay = 2\nend = 5\n"
            ),
            &[("a.log", "@@id\n"), ("b.log", "x\n")],
        );
        let starts = carry.counter_starts(&new, vec![vec![1], vec![]]);
        assert_eq!(starts, [vec![7], vec![]], "integerid goes on");
        let a = carry.apply(&new.samples[0], state(&new, 0));
        assert_eq!((a.next, a.executions, a.jobs), (T0 + 30 * SEC, 3, 3));
        // b's grid is T0 + 2 + 7k: the first firing at or after the boundary is k = 4.
        let b = carry.apply(&new.samples[1], state(&new, 1));
        assert_eq!((b.next, b.executions, b.jobs), (T0 + 30 * SEC, 4, 4));
        assert!(!b.done);
        assert_eq!(b.backfill_from, None);
        // With end = 3, b's intervals before the boundary already used up its run.
        let ended = plan(
            "[b.log]\ninterval = 7\ndelay = 2\nend = 3\n",
            &[("b.log", "x\n")],
        );
        assert!(carry.apply(&ended.samples[0], state(&ended, 0)).done);
    }
}
