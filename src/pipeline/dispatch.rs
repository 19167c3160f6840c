//! The scheduler's way out to the workers: the bounded job queue, whose sends give up when the
//! run stops, and the shard filter that keeps this process's jobs and numbers them in the order
//! the reducer writes them.

use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_channel::{SendTimeoutError, Sender};

use super::STOP_POLL;
use crate::generate::Job;
use crate::metrics::Metrics;
use crate::shard::Shard;

/// The scheduler's end of the job queue: a send gives up when the run is stopped, so a full
/// queue (slow output) never holds a stop request back.
pub(super) struct JobQueue<'a> {
    pub(super) tx: Sender<Job>,
    pub(super) stop: &'a AtomicBool,
}

impl JobQueue<'_> {
    pub(super) fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Queues `job`; `false` if the run stopped (or every worker is gone) first.
    pub(super) fn send(&self, mut job: Job) -> bool {
        loop {
            if self.stopped() {
                return false;
            }
            match self.tx.send_timeout(job, STOP_POLL) {
                Ok(()) => return true,
                Err(SendTimeoutError::Timeout(j)) => job = j,
                Err(SendTimeoutError::Disconnected(_)) => return false,
            }
        }
    }
}

/// The scheduler's way out: numbers every job of the run per sample, keeps this shard's and
/// gives those consecutive sequence numbers (the order the reducer writes them in).
pub(super) struct Dispatch<'a> {
    pub(super) queue: &'a JobQueue<'a>,
    pub(super) shard: Shard,
    pub(super) seq: u64,
    pub(super) metrics: &'a Metrics,
}

impl Dispatch<'_> {
    /// Queues `job`, the `job_of_sample`-th job of its sample, if it is this shard's.
    /// `false` when the run is stopping (stop requested, or the workers are gone).
    pub(super) fn send(&mut self, mut job: Job, job_of_sample: u64) -> bool {
        if !self.shard.owns(job.sample, job_of_sample) {
            return !self.queue.stopped();
        }
        job.seq = self.seq;
        self.metrics.queued_jobs.fetch_add(1, Ordering::Relaxed);
        if !self.queue.send(job) {
            self.metrics.queued_jobs.fetch_sub(1, Ordering::Relaxed);
            return false;
        }
        self.seq += 1;
        true
    }

    pub(super) fn stopped(&self) -> bool {
        self.queue.stopped()
    }
}
