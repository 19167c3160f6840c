//! Shared pieces of the pipeline's unit tests: plans from conf text, sample states at a fixed
//! start, and a dispatch whose queue the test reads.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crossbeam_channel::{Receiver, bounded};

use super::dispatch::{Dispatch, JobQueue};
use super::schedule::SampleState;
use crate::generate::Job;
use crate::metrics::Metrics;
use crate::plan::Plan;
use crate::shard::Shard;
use crate::stats::Stats;
use crate::timing::{MICROS_PER_SEC, Micros};

/// 2026-01-05 00:00:00 UTC, a Monday.
pub const T0: Micros = 1_767_571_200 * MICROS_PER_SEC;

/// A plan from `conf` whose samples are `files` (name, text).
pub fn plan(conf: &str, files: &[(&str, &str)]) -> Arc<Plan> {
    Arc::new(crate::plan::for_test(conf, files))
}

/// Sample `i` of `plan` before its first firing at [`T0`], counters at their configured start.
pub fn state(plan: &Plan, i: usize) -> SampleState {
    let s = &plan.samples[i];
    SampleState::new(s, T0, 0, s.counters.iter().map(|c| c.start).collect())
}

/// The scheduler's way out, for a test: a queue big enough for every job of a test, and the
/// metrics the dispatch counts in.
pub struct Queue {
    pub stop: AtomicBool,
    pub metrics: Metrics,
    pub rx: Receiver<Job>,
    tx: crossbeam_channel::Sender<Job>,
}

impl Queue {
    pub fn new(plan: &Plan, shard: Shard) -> Queue {
        let (tx, rx) = bounded(1024);
        let stats = Arc::new(Stats::new(plan.samples.len()));
        Queue {
            stop: AtomicBool::new(false),
            metrics: Metrics::new(plan, stats, shard, true),
            rx,
            tx,
        }
    }

    /// Runs `f` with a dispatch of `shard` on this queue, then returns the jobs it queued.
    pub fn with<R>(&self, shard: Shard, f: impl FnOnce(&mut Dispatch) -> R) -> (R, Vec<Job>) {
        let queue = JobQueue {
            tx: self.tx.clone(),
            stop: &self.stop,
        };
        let mut dispatch = Dispatch {
            queue: &queue,
            shard,
            seq: 0,
            metrics: &self.metrics,
        };
        let r = f(&mut dispatch);
        (r, self.rx.try_iter().collect())
    }
}
