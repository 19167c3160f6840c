//! The reducer: the single output thread. It writes the workers' batches in job order, flushes
//! idle outputs, gives every batch back to the worker that filled it, and counts per output
//! what was delivered and what failed.

use std::collections::BTreeMap;
use std::io;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

use super::{FINISH_GRACE, OutputReport};
use crate::log;
use crate::metrics::Metrics;
use crate::output::{Batch, Sink};

/// How long outputs may take to deliver what is pending after a stop request (SIGTERM,
/// SIGINT, closed stdout): the process must be gone within a second.
const STOP_GRACE: Duration = Duration::from_millis(500);

/// One filled batch on its way to the reducer: part `part` of job `seq` (`last` on the final
/// part), owned by worker `worker`.
pub(super) struct Delivery {
    pub(super) seq: u64,
    pub(super) part: u32,
    pub(super) last: bool,
    pub(super) worker: usize,
    pub(super) batch: Batch,
}

/// What the reducer hands back at the end.
#[derive(Default)]
pub(super) struct Reduced {
    pub(super) errors: u64,
    pub(super) broken: bool,
    /// Events not written because the reader closed the pipe (`| head`): the user's choice,
    /// not a loss.
    pub(super) unread: u64,
    pub(super) summaries: Vec<String>,
    pub(super) outputs: Vec<OutputReport>,
    /// The outputs, flushed and still open, when the run goes on with a new plan.
    pub(super) kept: Vec<Box<dyn Sink>>,
}

/// The reducer's state: sinks and what happened to them.
struct Reducer<'a> {
    sinks: Vec<Box<dyn Sink>>,
    names: Vec<String>,
    dirty: Vec<bool>,
    failed: Vec<bool>,
    /// Per output: events handed to it, and events of batches whose write failed.
    handed: Vec<u64>,
    lost: Vec<u64>,
    errors: u64,
    broken: bool,
    unread: u64,
    metrics: &'a Metrics,
    stop: &'a AtomicBool,
    /// Each worker's batch pool.
    pools: Vec<Sender<Batch>>,
}

impl Reducer<'_> {
    fn io_error(&mut self, o: usize, e: &io::Error) {
        if e.kind() == io::ErrorKind::BrokenPipe {
            self.broken = true;
            self.stop.store(true, Ordering::Relaxed);
            return;
        }
        self.errors += 1;
        if !self.failed[o] {
            self.failed[o] = true;
            log::error(&format!(
                "output {}: {e}; events of this output are being dropped",
                self.names[o]
            ));
            if self.failed.iter().all(|f| *f) {
                // Nothing can be delivered any more: end the run (exit 1) instead of
                // generating into the void forever.
                log::error("every output has failed; stopping");
                self.stop.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Writes a delivered batch and gives it back to its worker.
    fn deliver(&mut self, d: Delivery) {
        if d.batch.meta_changes.is_empty() {
            self.write(&d.batch);
        } else {
            for part in split_meta_runs(&d.batch) {
                self.write(&part);
            }
        }
        let _ = self.pools[d.worker].send(d.batch);
    }

    fn write(&mut self, batch: &Batch) {
        if self.broken {
            self.unread += batch.len() as u64;
        } else if !batch.is_empty() {
            let o = batch.output;
            let events = batch.len() as u64;
            self.handed[o] += events;
            match self.sinks[o].write(batch) {
                Ok(()) => {
                    self.metrics
                        .stats
                        .add(batch.sample, events, batch.raw_bytes);
                    self.metrics.written[o]
                        .sent
                        .fetch_add(events, Ordering::Relaxed);
                    self.dirty[o] = true;
                }
                // The sink counts what the closed pipe did not take (`unread_events`).
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => self.io_error(o, &e),
                Err(e) => {
                    self.lost[o] += events;
                    self.metrics.written[o]
                        .failed
                        .fetch_add(events, Ordering::Relaxed);
                    self.io_error(o, &e);
                }
            }
        }
    }

    fn flush_idle(&mut self) {
        for o in 0..self.sinks.len() {
            if self.dirty[o] {
                self.dirty[o] = false;
                if let Err(e) = self.sinks[o].flush() {
                    self.io_error(o, &e);
                }
            }
        }
    }
}

/// Splits a batch at its metadata changes into batches of uniform metadata.
fn split_meta_runs(batch: &Batch) -> Vec<Batch> {
    let mut runs: Vec<(usize, &crate::output::BatchMeta)> = vec![(0, &batch.meta)];
    runs.extend(batch.meta_changes.iter().map(|(i, m)| (*i as usize, m)));
    let mut out = Vec::with_capacity(runs.len());
    for (k, &(first, meta)) in runs.iter().enumerate() {
        let last = runs.get(k + 1).map_or(batch.ends.len(), |r| r.0);
        let start = if first == 0 {
            0
        } else {
            batch.ends[first - 1] as usize
        };
        let end = if last == 0 {
            0
        } else {
            batch.ends[last - 1] as usize
        };
        let mut b = Batch {
            sample: batch.sample,
            output: batch.output,
            meta: meta.clone(),
            ..Batch::default()
        };
        b.bytes.extend_from_slice(&batch.bytes[start..end]);
        b.ends
            .extend(batch.ends[first..last].iter().map(|e| e - start as u32));
        b.raw_bytes = batch.raw_bytes * (last - first) as u64 / batch.ends.len().max(1) as u64;
        b.last_time = batch.last_time;
        out.push(b);
    }
    out
}

/// The reducer: writes batches in sequence order, flushes when idle, recycles batches.
#[allow(clippy::too_many_arguments)]
pub(super) fn reduce(
    rx: Receiver<Delivery>,
    pools: Vec<Sender<Batch>>,
    sinks: Vec<Box<dyn Sink>>,
    names: Vec<String>,
    metrics: &Metrics,
    stop: &AtomicBool,
    scheduled: &OnceLock<Instant>,
    keep_open: &AtomicBool,
) -> Reduced {
    let n = sinks.len();
    let mut r = Reducer {
        sinks,
        names,
        dirty: vec![false; n],
        failed: vec![false; n],
        handed: vec![0; n],
        lost: vec![0; n],
        errors: 0,
        broken: false,
        unread: 0,
        metrics,
        stop,
        pools,
    };
    // Parts that came before their turn, keyed by (job, part).
    let mut pending: BTreeMap<(u64, u32), Delivery> = BTreeMap::new();
    let mut next = (0u64, 0u32);
    loop {
        let item = match rx.try_recv() {
            Ok(item) => Some(item),
            Err(crossbeam_channel::TryRecvError::Empty) => {
                r.flush_idle();
                rx.recv().ok()
            }
            Err(crossbeam_channel::TryRecvError::Disconnected) => None,
        };
        let Some(d) = item else { break };
        pending.insert((d.seq, d.part), d);
        while let Some(d) = pending.remove(&next) {
            metrics.queued_batches.fetch_sub(1, Ordering::Relaxed);
            next = if d.last {
                (d.seq + 1, 0)
            } else {
                (d.seq, d.part + 1)
            };
            r.deliver(d);
        }
    }
    // Anything left (the run stopped early) goes out in order.
    for (_, d) in std::mem::take(&mut pending) {
        metrics.queued_batches.fetch_sub(1, Ordering::Relaxed);
        r.deliver(d);
    }
    if keep_open.load(Ordering::Relaxed) && !stop.load(Ordering::Relaxed) {
        // A reload: the next plan writes on to the same outputs.
        for o in 0..n {
            if let Err(e) = r.sinks[o].flush() {
                r.io_error(o, &e);
            }
        }
        let outputs = (0..n)
            .map(|o| OutputReport {
                name: r.names[o].clone(),
                events: r.handed[o],
                failed: r.lost[o],
            })
            .collect();
        return Reduced {
            errors: r.errors,
            broken: r.broken,
            unread: r.unread,
            summaries: Vec::new(),
            outputs,
            kept: std::mem::take(&mut r.sinks),
        };
    }
    let deadline = finish_deadline(stop, scheduled);
    let mut summaries = Vec::new();
    for o in 0..n {
        match r.sinks[o].finish(deadline) {
            Ok(Some(s)) => summaries.push(s),
            Ok(None) => {}
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => r.io_error(o, &e),
            // What the output could not deliver in the end: said once, counted below.
            Err(e) => {
                r.errors += 1;
                log::error(&format!("output {}: {e}", r.names[o]));
            }
        }
    }
    let outputs = (0..n)
        .map(|o| OutputReport {
            name: r.names[o].clone(),
            events: r.handed[o],
            // A sink that settles events after `write` returned counts its own failures.
            failed: r.sinks[o].failed_events().unwrap_or(r.lost[o]),
        })
        .collect();
    Reduced {
        errors: r.errors,
        broken: r.broken,
        unread: r.unread + r.sinks.iter().map(|s| s.unread_events()).sum::<u64>(),
        summaries,
        outputs,
        kept: Vec::new(),
    }
}

/// Until when the outputs may deliver what they hold: shortly after a stop request, else the
/// finish grace counted from the end of scheduling.
fn finish_deadline(stop: &AtomicBool, scheduled: &OnceLock<Instant>) -> Instant {
    if stop.load(Ordering::Relaxed) {
        return Instant::now() + STOP_GRACE;
    }
    scheduled.get().copied().unwrap_or_else(Instant::now) + FINISH_GRACE
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use crossbeam_channel::bounded;

    use super::*;
    use crate::output::BatchMeta;
    use crate::plan::{OutputSpec, Plan};
    use crate::shard::Shard;
    use crate::stats::Stats;

    /// A sink that keeps the events it was given, or refuses them all with `fail`.
    struct Recorder {
        events: Arc<Mutex<Vec<String>>>,
        fail: Option<io::ErrorKind>,
        /// What `failed_events` reports (a sink that settles events itself).
        settled_failures: Option<u64>,
    }

    impl Sink for Recorder {
        fn write(&mut self, batch: &Batch) -> io::Result<()> {
            if let Some(kind) = self.fail {
                return Err(io::Error::new(kind, "refused"));
            }
            let mut start = 0;
            for &end in &batch.ends {
                let text = &batch.bytes[start..end as usize];
                self.events
                    .lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(text).into());
                start = end as usize;
            }
            Ok(())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
        fn finish(&mut self, _deadline: Instant) -> io::Result<Option<String>> {
            Ok(None)
        }
        fn failed_events(&self) -> Option<u64> {
            self.settled_failures
        }
    }

    fn recorder(fail: Option<io::ErrorKind>) -> (Box<dyn Sink>, Arc<Mutex<Vec<String>>>) {
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = Recorder {
            events: events.clone(),
            fail,
            settled_failures: None,
        };
        (Box::new(sink), events)
    }

    fn batch(output: usize, events: &[&str]) -> Batch {
        let mut b = Batch {
            output,
            ..Batch::default()
        };
        for e in events {
            b.bytes.extend_from_slice(e.as_bytes());
            b.ends.push(b.bytes.len() as u32);
            b.raw_bytes += e.len() as u64;
        }
        b
    }

    fn delivery(seq: u64, part: u32, last: bool, batch: Batch) -> Delivery {
        Delivery {
            seq,
            part,
            last,
            worker: 0,
            batch,
        }
    }

    /// Runs the reducer over `deliveries` (in that arrival order) with `sinks`.
    fn run(sinks: Vec<Box<dyn Sink>>, deliveries: Vec<Delivery>) -> (Reduced, bool, usize) {
        run_keeping(sinks, deliveries, false)
    }

    /// `run`, and with `keep_open` the end of a segment that a reload follows.
    fn run_keeping(
        sinks: Vec<Box<dyn Sink>>,
        deliveries: Vec<Delivery>,
        keep_open: bool,
    ) -> (Reduced, bool, usize) {
        let plan = Plan {
            outputs: sinks.iter().map(|_| OutputSpec::Devnull).collect(),
            ..Plan::default()
        };
        let metrics = Metrics::new(&plan, Arc::new(Stats::new(1)), Shard::WHOLE, true);
        let names = (0..sinks.len()).map(|o| format!("out{o}")).collect();
        let (tx, rx) = bounded(deliveries.len());
        for d in deliveries {
            tx.send(d).unwrap();
        }
        drop(tx);
        let (pool_tx, pool_rx) = bounded(64);
        let stop = AtomicBool::new(false);
        let scheduled = OnceLock::new();
        let _ = scheduled.set(Instant::now());
        let keep = AtomicBool::new(keep_open);
        let reduced = reduce(
            rx,
            vec![pool_tx],
            sinks,
            names,
            &metrics,
            &stop,
            &scheduled,
            &keep,
        );
        let returned = pool_rx.try_iter().count();
        (reduced, stop.load(Ordering::Relaxed), returned)
    }

    #[test]
    fn parts_are_written_in_job_order_and_batches_go_back_to_their_worker() {
        let (sink, seen) = recorder(None);
        let (reduced, stopped, returned) = run(
            vec![sink],
            vec![
                delivery(1, 0, true, batch(0, &["d"])),
                delivery(0, 1, true, batch(0, &["b", "c"])),
                delivery(0, 0, false, batch(0, &["a"])),
            ],
        );
        assert_eq!(*seen.lock().unwrap(), ["a", "b", "c", "d"]);
        assert_eq!(returned, 3);
        assert!(!stopped);
        assert_eq!(
            reduced.outputs,
            [OutputReport {
                name: "out0".into(),
                events: 4,
                failed: 0
            }]
        );
        assert_eq!((reduced.errors, reduced.broken), (0, false));
    }

    #[test]
    fn a_failing_output_counts_its_events_as_failed_and_the_others_carry_on() {
        let (good, seen) = recorder(None);
        let (bad, _) = recorder(Some(io::ErrorKind::ConnectionRefused));
        let (reduced, stopped, _) = run(
            vec![good, bad],
            vec![
                delivery(0, 0, true, batch(0, &["a", "b"])),
                delivery(1, 0, true, batch(1, &["x", "y", "z"])),
                delivery(2, 0, true, batch(1, &["w"])),
                delivery(3, 0, true, batch(0, &["c"])),
            ],
        );
        assert_eq!(*seen.lock().unwrap(), ["a", "b", "c"]);
        let counts: Vec<(u64, u64)> = reduced
            .outputs
            .iter()
            .map(|o| (o.events, o.failed))
            .collect();
        assert_eq!(counts, [(3, 0), (4, 4)]);
        assert_eq!(reduced.errors, 2);
        assert!(!stopped, "one output still delivers");
    }

    #[test]
    fn the_run_stops_when_every_output_has_failed() {
        let (bad, _) = recorder(Some(io::ErrorKind::ConnectionRefused));
        let (reduced, stopped, _) = run(vec![bad], vec![delivery(0, 0, true, batch(0, &["a"]))]);
        assert!(stopped);
        assert!(!reduced.broken);
        assert_eq!(reduced.outputs[0].failed, 1);
    }

    #[test]
    fn a_closed_pipe_stops_the_run_and_nothing_more_is_handed_over() {
        let (closed, _) = recorder(Some(io::ErrorKind::BrokenPipe));
        let (reduced, stopped, returned) = run(
            vec![closed],
            vec![
                delivery(0, 0, true, batch(0, &["a"])),
                delivery(1, 0, true, batch(0, &["b", "c"])),
            ],
        );
        assert!(stopped && reduced.broken);
        // A closed pipe is how a reader says it has had enough: not an error.
        assert_eq!(reduced.errors, 0);
        assert_eq!(reduced.outputs[0].events, 1);
        assert_eq!(returned, 2);
    }

    #[test]
    fn a_sink_that_settles_its_own_events_reports_its_failures() {
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = Recorder {
            events: events.clone(),
            fail: None,
            settled_failures: Some(2),
        };
        let (reduced, _, _) = run(
            vec![Box::new(sink)],
            vec![delivery(0, 0, true, batch(0, &["a", "b", "c"]))],
        );
        assert_eq!(
            (reduced.outputs[0].events, reduced.outputs[0].failed),
            (3, 2)
        );
    }

    #[test]
    fn a_batch_splits_where_its_metadata_changes() {
        let mut b = batch(0, &["aa", "b", "ccc", "d"]);
        b.meta.host = "h1".into();
        let meta = |host: &str| BatchMeta {
            host: host.into(),
            ..BatchMeta::default()
        };
        b.meta_changes = vec![(1, meta("h2")), (3, meta("h3"))];
        let runs = split_meta_runs(&b);
        let hosts: Vec<&str> = runs.iter().map(|r| r.meta.host.as_str()).collect();
        assert_eq!(hosts, ["h1", "h2", "h3"]);
        let bytes: Vec<&[u8]> = runs.iter().map(|r| r.bytes.as_slice()).collect();
        assert_eq!(bytes, [&b"aa"[..], b"bccc", b"d"]);
        let ends: Vec<&[u32]> = runs.iter().map(|r| r.ends.as_slice()).collect();
        assert_eq!(ends, [&[2u32][..], &[1, 4], &[1]]);
    }

    #[test]
    fn a_reload_gets_the_outputs_back_open_with_everything_written() {
        let (sink, events) = recorder(None);
        let deliveries = vec![
            delivery(1, 0, true, batch(0, &["b"])),
            delivery(0, 0, true, batch(0, &["a"])),
        ];
        let (reduced, stopped, _) = run_keeping(vec![sink], deliveries, true);
        assert!(!stopped);
        assert_eq!(reduced.kept.len(), 1, "the output comes back");
        assert_eq!(*events.lock().unwrap(), ["a", "b"]);
        assert_eq!(reduced.outputs[0].events, 2);
        assert!(reduced.summaries.is_empty(), "not finished");
    }
}
