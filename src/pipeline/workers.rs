//! The generator threads: each takes jobs from the queue, renders them into batches from its
//! own pool, and hands every filled batch to the reducer as one part of its job.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, bounded};

use super::reducer::Delivery;
use crate::generate::{Job, SharedCounters, Worker};
use crate::metrics::Metrics;
use crate::output::Batch;
use crate::plan::Plan;

/// Batches each worker owns. The reducer gives every batch back to the worker that filled
/// it, so the batches in existence (and the reducer's reordering buffer) stay bounded
/// whatever the job sizes and output speed.
const BATCHES_PER_WORKER: usize = 4;

/// The running generator threads.
pub(super) struct Workers {
    pub(super) handles: Vec<JoinHandle<()>>,
    /// Each worker's batch pool: the reducer's way to give batches back.
    pub(super) pools: Vec<Sender<Batch>>,
}

/// Starts `workers` generator threads on the job queue `jobs`, sending to the reducer on `out`.
pub(super) fn spawn(
    workers: usize,
    plan: &Arc<Plan>,
    shared: &Arc<SharedCounters>,
    metrics: &Arc<Metrics>,
    stop: &Arc<AtomicBool>,
    jobs: &Receiver<Job>,
    out: &Sender<Delivery>,
) -> io::Result<Workers> {
    let mut handles = Vec::new();
    let mut pools = Vec::new();
    for w in 0..workers {
        let (pool_tx, pool) = bounded::<Batch>(BATCHES_PER_WORKER);
        for _ in 0..BATCHES_PER_WORKER {
            let _ = pool_tx.send(Batch::default());
        }
        pools.push(pool_tx);
        let (rx, tx) = (jobs.clone(), out.clone());
        let stop = stop.clone();
        let mut worker = Worker::new(plan.clone(), shared.clone());
        let m = metrics.clone();
        handles.push(
            std::thread::Builder::new()
                .name(format!("generator-{w}"))
                .spawn(move || {
                    for job in rx {
                        m.queued_jobs.fetch_sub(1, Ordering::Relaxed);
                        // Between jobs: a stopped run drops what is still queued.
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let Ok(mut batch) = pool.recv() else { break };
                        batch.clear();
                        let mut part = 0u32;
                        let mut open = true;
                        worker.run_streaming(&job, &mut batch, &mut |full: &mut Batch| {
                            let Ok(mut next) = pool.recv() else {
                                open = false;
                                return false;
                            };
                            next.clear();
                            next.sample = full.sample;
                            next.output = full.output;
                            let batch = std::mem::replace(full, next);
                            let d = Delivery {
                                seq: job.seq,
                                part,
                                last: false,
                                worker: w,
                                batch,
                            };
                            part += 1;
                            m.queued_batches.fetch_add(1, Ordering::Relaxed);
                            open = tx.send(d).is_ok();
                            // Between batches: a stop ends the job here (what is rendered
                            // still goes out as its last part).
                            open && !stop.load(Ordering::Relaxed)
                        });
                        let d = Delivery {
                            seq: job.seq,
                            part,
                            last: true,
                            worker: w,
                            batch,
                        };
                        m.queued_batches.fetch_add(1, Ordering::Relaxed);
                        if !open || tx.send(d).is_err() {
                            break;
                        }
                    }
                })?,
        );
    }
    Ok(Workers { handles, pools })
}
