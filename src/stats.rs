//! Counters of what was written, per sample, shared between the reducer (which counts), the
//! live metrics, the progress display (with how far the scheduler has got) and the final summary.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use crate::timing::Micros;

/// Marks an unknown time in the atomics below.
const UNKNOWN: i64 = i64::MIN;

pub struct Stats {
    events: Vec<AtomicU64>,
    bytes: Vec<AtomicU64>,
    /// Event time the scheduler has reached.
    position: AtomicI64,
    /// The span of event time the run goes through, when it is known: from the earliest
    /// backfill or start to the end of the run (or of its backfill, for endless runs).
    from: AtomicI64,
    to: AtomicI64,
}

impl Stats {
    pub fn new(samples: usize) -> Stats {
        Stats {
            events: (0..samples).map(|_| AtomicU64::new(0)).collect(),
            bytes: (0..samples).map(|_| AtomicU64::new(0)).collect(),
            position: AtomicI64::new(UNKNOWN),
            from: AtomicI64::new(UNKNOWN),
            to: AtomicI64::new(UNKNOWN),
        }
    }

    /// Records the span of event time the run will go through (`to` unknown: endless).
    pub fn set_span(&self, from: Micros, to: Option<Micros>) {
        self.from.store(from, Ordering::Relaxed);
        self.to.store(to.unwrap_or(UNKNOWN), Ordering::Relaxed);
    }

    /// Records the event time the scheduler has reached.
    pub fn set_position(&self, t: Micros) {
        self.position.store(t, Ordering::Relaxed);
    }

    pub fn position(&self) -> Option<Micros> {
        let p = self.position.load(Ordering::Relaxed);
        (p != UNKNOWN).then_some(p)
    }

    /// `(from, to)` when the run has a known end after its start.
    pub fn span(&self) -> Option<(Micros, Micros)> {
        let (a, b) = (
            self.from.load(Ordering::Relaxed),
            self.to.load(Ordering::Relaxed),
        );
        (a != UNKNOWN && b != UNKNOWN && b > a).then_some((a, b))
    }

    /// How far through its span the run is, 0.0 to 1.0, when the span is known.
    pub fn fraction(&self) -> Option<f64> {
        let (a, b) = self.span()?;
        let p = self.position()?;
        Some(((p - a) as f64 / (b - a) as f64).clamp(0.0, 1.0))
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
