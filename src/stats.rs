//! Counters of what was written, per sample, shared between the reducer (which counts), the
//! live metrics and the final summary.

use std::sync::atomic::{AtomicU64, Ordering};

pub struct Stats {
    events: Vec<AtomicU64>,
    bytes: Vec<AtomicU64>,
}

impl Stats {
    pub fn new(samples: usize) -> Stats {
        Stats {
            events: (0..samples).map(|_| AtomicU64::new(0)).collect(),
            bytes: (0..samples).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    pub fn add(&self, sample: usize, events: u64, bytes: u64) {
        if let (Some(e), Some(b)) = (self.events.get(sample), self.bytes.get(sample)) {
            e.fetch_add(events, Ordering::Relaxed);
            b.fetch_add(bytes, Ordering::Relaxed);
        }
    }

    pub fn events(&self, sample: usize) -> u64 {
        self.events
            .get(sample)
            .map_or(0, |e| e.load(Ordering::Relaxed))
    }

    pub fn bytes(&self, sample: usize) -> u64 {
        self.bytes
            .get(sample)
            .map_or(0, |e| e.load(Ordering::Relaxed))
    }

    pub fn total_events(&self) -> u64 {
        self.events.iter().map(|e| e.load(Ordering::Relaxed)).sum()
    }

    pub fn total_bytes(&self) -> u64 {
        self.bytes.iter().map(|e| e.load(Ordering::Relaxed)).sum()
    }
}
