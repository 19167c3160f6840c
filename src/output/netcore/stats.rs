//! Delivery accounting of one network output, shared with the reducer, the progress line and
//! `/metrics`: plain atomics, read at any time without locks.
//!
//! The rule every network output follows: an event is `outstanding` from the moment the sink
//! takes it until it is settled, and it is settled exactly once, either as `sent` (its request
//! succeeded, and with acknowledgements also `acknowledged`) or as `failed` (refused, dropped,
//! no server left). What is still outstanding when `finish` returns was not delivered, so
//! [`NetStats::failed_events`] (failed + outstanding) is exact at the end of a run. Events sent
//! to several servers (HEC `mirror`) count once per server.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct NetStats {
    /// Events waiting in the sink's queue for a sender.
    pub queued: AtomicU64,
    /// Events handed to the sink and not yet settled (accepted and, with acks, acknowledged; or
    /// failed). What is left of this at the end was not delivered.
    pub outstanding: AtomicU64,
    /// Events a server accepted (HTTP 2xx).
    pub sent: AtomicU64,
    /// Requests a server accepted.
    pub requests: AtomicU64,
    /// Events whose indexer acknowledgement came back true.
    pub acknowledged: AtomicU64,
    /// Events sent again after a failed request (connection error, timeout, 429, 5xx, 413 split).
    pub retried: AtomicU64,
    /// Events sent again because their acknowledgement did not come in time (may duplicate).
    pub resent: AtomicU64,
    /// Events given up on: refused by a server (4xx), invalid (blank), or no server left.
    pub failed: AtomicU64,
    /// Every server failed for good (token or TLS trust problems): the output has stopped.
    pub fatal: AtomicBool,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    pub queued: u64,
    pub outstanding: u64,
    pub sent: u64,
    pub requests: u64,
    pub acknowledged: u64,
    pub retried: u64,
    pub resent: u64,
    pub failed: u64,
    pub fatal: bool,
}

impl NetStats {
    pub fn snapshot(&self) -> StatsSnapshot {
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        StatsSnapshot {
            queued: l(&self.queued),
            outstanding: l(&self.outstanding),
            sent: l(&self.sent),
            requests: l(&self.requests),
            acknowledged: l(&self.acknowledged),
            retried: l(&self.retried),
            resent: l(&self.resent),
            failed: l(&self.failed),
            fatal: self.fatal.load(Ordering::Relaxed),
        }
    }

    /// Events not delivered: given up on, or still held (at the end: never delivered).
    pub fn failed_events(&self) -> u64 {
        self.failed.load(Ordering::Relaxed) + self.outstanding.load(Ordering::Relaxed)
    }

    /// The sink took `n` events.
    pub fn take(&self, n: u64) {
        Self::add(&self.outstanding, n);
    }

    /// `n` outstanding events were delivered in `requests` requests.
    pub fn delivered(&self, n: u64, requests: u64) {
        Self::add(&self.sent, n);
        Self::add(&self.requests, requests);
        Self::sub(&self.outstanding, n);
    }

    /// `n` outstanding events were given up on.
    pub fn fail(&self, n: u64) {
        Self::add(&self.failed, n);
        Self::sub(&self.outstanding, n);
    }

    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Saturating decrement, so that a bookkeeping slip can never wrap to 2^64.
    pub(crate) fn sub(counter: &AtomicU64, n: u64) {
        let _ = counter.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
            Some(v.saturating_sub(n))
        });
    }
}

impl fmt::Display for StatsSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sent {} events in {} requests, acknowledged {}, retried {}, resent {}, failed {}",
            self.sent, self.requests, self.acknowledged, self.retried, self.resent, self.failed
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_settles_once() {
        let s = NetStats::default();
        s.take(10);
        s.delivered(4, 1);
        s.fail(3);
        assert_eq!(s.failed_events(), 6, "3 refused + 3 still held");
        s.delivered(3, 1);
        let snap = s.snapshot();
        assert_eq!((snap.sent, snap.failed, snap.outstanding), (7, 3, 0));
        assert_eq!(s.failed_events(), 3);
        s.fail(5);
        assert_eq!(s.snapshot().outstanding, 0, "never wraps below zero");
    }
}
