//! The HEC sink's payload queue: [`Job`]s (a payload and whether to gzip it) in a deque that
//! sender threads wait on. `roundrobin` has one, `mirror` one per server.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use super::request::Payload;

/// One payload on its way to one server (or, in `roundrobin`, to any).
#[derive(Debug, Clone)]
pub(super) struct Job {
    pub(super) payload: Arc<Payload>,
    pub(super) gzip: bool,
}

impl Job {
    pub(super) fn events(&self) -> u64 {
        self.payload.events() as u64
    }
}

pub(super) struct Queue {
    pub(super) jobs: Mutex<VecDeque<Job>>,
    pub(super) changed: Condvar,
}

impl Queue {
    pub(super) fn new() -> Queue {
        Queue {
            jobs: Mutex::new(VecDeque::new()),
            changed: Condvar::new(),
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, VecDeque<Job>> {
        self.jobs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Puts a job back at the front (a retry), regardless of the capacity.
    pub(super) fn push_front(&self, job: Job) {
        self.lock().push_front(job);
        self.changed.notify_all();
    }

    pub(super) fn pop(&self, wait: Duration) -> Option<Job> {
        let mut q = self.lock();
        if q.is_empty() {
            q = self
                .changed
                .wait_timeout(q, wait)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
        let job = q.pop_front();
        if job.is_some() {
            self.changed.notify_all();
        }
        job
    }

    pub(super) fn drain(&self) -> Vec<Job> {
        let jobs: Vec<Job> = self.lock().drain(..).collect();
        self.changed.notify_all();
        jobs
    }
}
