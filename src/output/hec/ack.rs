//! Indexer acknowledgement bookkeeping for one channel: which ack ids are pending, when to poll
//! `/services/collector/ack`, and which requests waited too long and must be sent again
//! (at-least-once: a late acknowledgement after the resend gives a duplicate, which is counted).

use std::time::{Duration, Instant};

/// How often pending ids are queried. Splunk acknowledges within seconds; polling more often
/// than once a second only adds load.
pub const ACK_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Most requests awaiting acknowledgement per channel; past it the sender stops taking work
/// (back-pressure instead of unbounded memory).
pub const MAX_PENDING_ACKS: usize = 1000;

#[derive(Debug)]
struct Pending<T> {
    id: u64,
    item: T,
    sent: Instant,
}

/// Pending acknowledgements of one channel, each holding what to resend (`T`).
#[derive(Debug)]
pub struct AckTracker<T> {
    pending: Vec<Pending<T>>,
    next_poll: Instant,
    poll_every: Duration,
    timeout: Duration,
}

impl<T> AckTracker<T> {
    pub fn new(now: Instant, poll_every: Duration, timeout: Duration) -> AckTracker<T> {
        AckTracker {
            pending: Vec::new(),
            next_poll: now + poll_every,
            poll_every,
            timeout,
        }
    }

    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    pub fn add(&mut self, id: u64, item: T, now: Instant) {
        if self.pending.is_empty() {
            self.next_poll = now + self.poll_every.min(self.timeout / 2);
        }
        self.pending.push(Pending {
            id,
            item,
            sent: now,
        });
    }

    /// `true` when ids are pending and the poll interval has passed.
    pub fn poll_due(&self, now: Instant) -> bool {
        !self.pending.is_empty() && now >= self.next_poll
    }

    /// When the next poll is due (for waiting on the queue no longer than that).
    pub fn next_poll(&self) -> Option<Instant> {
        (!self.pending.is_empty()).then_some(self.next_poll)
    }

    /// The `/ack` request body, `{"acks":[id,...]}`; schedules the next poll.
    pub fn poll_body(&mut self, now: Instant) -> Vec<u8> {
        self.next_poll = now + self.poll_every;
        let mut body = b"{\"acks\":[".to_vec();
        for (i, p) in self.pending.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            super::encode::write_int(p.id as i64, &mut body);
        }
        body.extend_from_slice(b"]}");
        body
    }

    /// Applies an `/ack` answer `{"acks":{"0":true,"1":false}}`: removes and returns the items
    /// acknowledged. `None` if the answer is not in that form.
    pub fn apply(&mut self, answer: &[u8]) -> Option<Vec<T>> {
        let v: serde_json::Value = serde_json::from_slice(answer).ok()?;
        let acks = v.get("acks")?.as_object()?;
        let done = |id: u64| {
            acks.get(&id.to_string())
                .and_then(|b| b.as_bool())
                .unwrap_or(false)
        };
        Some(self.take_where(|p| done(p.id)))
    }

    /// Removes and returns the items whose acknowledgement is overdue.
    pub fn expired(&mut self, now: Instant) -> Vec<T> {
        let timeout = self.timeout;
        self.take_where(|p| now.duration_since(p.sent) >= timeout)
    }

    /// Removes and returns everything (acks turned off by the server, or shutting down).
    pub fn drain(&mut self) -> Vec<T> {
        self.pending.drain(..).map(|p| p.item).collect()
    }

    fn take_where(&mut self, mut f: impl FnMut(&Pending<T>) -> bool) -> Vec<T> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < self.pending.len() {
            if f(&self.pending[i]) {
                out.push(self.pending.swap_remove(i).item);
            } else {
                i += 1;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_apply_and_expire() {
        let t0 = Instant::now();
        let mut a = AckTracker::new(t0, Duration::from_secs(1), Duration::from_secs(10));
        assert!(!a.poll_due(t0 + Duration::from_secs(5)), "nothing pending");
        a.add(0, "a", t0);
        a.add(1, "b", t0);
        a.add(2, "c", t0 + Duration::from_secs(5));
        assert!(!a.poll_due(t0));
        assert!(a.poll_due(t0 + Duration::from_secs(1)));
        assert_eq!(
            a.poll_body(t0 + Duration::from_secs(1)),
            b"{\"acks\":[0,1,2]}"
        );
        assert!(!a.poll_due(t0 + Duration::from_millis(1500)));
        let mut got = a
            .apply(br#"{"acks":{"0":false,"1":true,"2":false}}"#)
            .unwrap();
        got.sort();
        assert_eq!(got, ["b"]);
        assert_eq!(a.len(), 2);
        assert!(a.apply(b"garbage").is_none());
        assert_eq!(a.expired(t0 + Duration::from_secs(10)), ["a"]);
        assert_eq!(a.drain(), ["c"]);
        assert!(a.is_empty());
    }
}
