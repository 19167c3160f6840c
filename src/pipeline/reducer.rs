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
    pub(super) summaries: Vec<String>,
    pub(super) outputs: Vec<OutputReport>,
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
        if !self.broken && !batch.is_empty() {
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
pub(super) fn reduce(
    rx: Receiver<Delivery>,
    pools: Vec<Sender<Batch>>,
    sinks: Vec<Box<dyn Sink>>,
    names: Vec<String>,
    metrics: &Metrics,
    stop: &AtomicBool,
    scheduled: &OnceLock<Instant>,
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
    let deadline = finish_deadline(stop, scheduled);
    let mut summaries = Vec::new();
    for o in 0..n {
        match r.sinks[o].finish(deadline) {
            Ok(Some(s)) => summaries.push(s),
            Ok(None) => {}
            Err(e) => r.io_error(o, &e),
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
        summaries,
        outputs,
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
