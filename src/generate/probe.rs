//! Event sizes for `perDayVolume`: the scheduler turns a byte budget into a number of events,
//! so it needs the sample's average event size. It gets it by rendering a small probe job
//! at every firing: the firing's first events (the same positions, so the same mix of sample
//! lines as the firing), its time and counter values, and a seed derived from the run's seed
//! and the firing. It averages over every probe so far. This follows sizes that grow during
//! a run (an `integerid` gaining digits) as a measurement of written events would, but depends
//! only on the seed, the clock and the schedule. Every shard of a run therefore computes the
//! same counts, and a seeded run is the same whatever the output thread has written so far.

use std::sync::Arc;

use super::{Job, SharedCounters, Worker};
use crate::output::Batch;
use crate::plan::Plan;
use crate::rng::Rng;
use crate::timing::Micros;

/// Most events rendered per probe: enough to average out random token lengths, small next to
/// the events a busy firing generates.
pub const PROBE_EVENTS: u64 = 64;

/// Seeds of probe jobs are derived apart from the scheduler's and the jobs' seeds.
const PROBE_STREAM: u64 = 0x7072_6f62_6500_0000;

pub struct SizeProbe {
    worker: Worker,
    batch: Batch,
    seed: u64,
    /// Per sample: bytes and events of every probe so far.
    totals: Vec<(u64, u64)>,
}

impl SizeProbe {
    pub fn new(plan: Arc<Plan>, starts: &[Vec<i64>], seed: u64) -> SizeProbe {
        let n = plan.samples.len();
        // Counters that are not positional take values from their own copy, never the run's.
        let shared = Arc::new(SharedCounters::new(&plan, starts, 0, 1));
        SizeProbe {
            worker: Worker::new(plan, shared),
            batch: Batch::default(),
            seed,
            totals: vec![(0, 0); n],
        }
    }

    /// The average event size of the probes of `sample` so far, if there were any.
    pub fn mean(&self, sample: usize) -> Option<f64> {
        let (bytes, events) = self.totals[sample];
        (events > 0).then(|| (bytes as f64 / events as f64).max(1.0))
    }

    /// The average event size of `sample` after probing the first `expected` events (at most
    /// [`PROBE_EVENTS`]) of its firing number `firing` at time `t`, with its counters at
    /// `counters` (their values at the firing's first event).
    pub fn average(
        &mut self,
        sample: usize,
        firing: u64,
        t: Micros,
        counters: &[i64],
        expected: u64,
    ) -> f64 {
        let plan = self.worker.plan.clone();
        let s = &plan.samples[sample];
        if !s.events.is_empty() {
            let count = expected.clamp(1, PROBE_EVENTS);
            let job = Job {
                seq: 0,
                sample,
                earliest: t,
                latest: t,
                count,
                position: 0,
                counter_base: counters.to_vec(),
                rng_seed: Rng::derive(self.seed, PROBE_STREAM ^ ((sample as u64) << 40) ^ firing)
                    .next_u64(),
                index: None,
                cycle: (firing, count),
                times: Vec::new(),
            };
            self.batch.clear();
            self.worker.run(&job, &mut self.batch);
            let total = &mut self.totals[sample];
            total.0 += self.batch.raw_bytes;
            total.1 += self.batch.len() as u64;
        }
        self.mean(sample).unwrap_or(1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(conf: &str, sample: &str) -> Arc<Plan> {
        Arc::new(crate::plan::for_test(conf, &[("p.log", sample)]))
    }

    #[test]
    fn follows_growing_counters_and_repeats_with_the_seed() {
        let p = plan(
            "[p.log]\nperDayVolume = 1\ninterval = 60\n\
             token.0.token = @@id\ntoken.0.replacementType = integerid\ntoken.0.replacement = 1\n",
            "id=@@id\n",
        );
        let mut probe = SizeProbe::new(p.clone(), &[vec![1]], 7);
        assert_eq!(probe.mean(0), None);
        // "id=1" .. "id=64" with the newline: 4 or 5 bytes plus 1.
        let first = probe.average(0, 0, 0, &[1], 1000);
        assert!((5.0..6.0).contains(&first), "{first}");
        // Far into the run the ids have seven digits, and the average moves up.
        let later = probe.average(0, 1, 60_000_000, &[1_000_000], 1000);
        assert!(later > first + 1.0, "{first} then {later}");
        let mut again = SizeProbe::new(p, &[vec![1]], 7);
        assert_eq!(again.average(0, 0, 0, &[1], 1000), first);
        assert_eq!(again.average(0, 1, 60_000_000, &[1_000_000], 1000), later);
    }
}
