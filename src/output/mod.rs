//! Outputs: how events are encoded (in the generator workers) and where the encoded bytes go
//! (sinks, driven by the single reducer thread).
//!
//! Workers render events and encode them with the sample's [`Encoding`] into a [`Batch`]; the
//! reducer hands each batch to the [`Sink`] of its output and only writes bytes. Batches are
//! recycled, so steady state allocates nothing.

pub mod awss3;
pub mod bytes;
pub mod counter;
pub mod encode;
pub mod file;
pub mod hec;
pub mod http;
pub mod modinput;
pub mod net;
pub mod netcore;
pub mod s2s;
pub mod splunkstream;
pub mod spool;
pub mod stdout;
pub mod tls;

use std::io;
use std::time::Instant;

use crate::timing::Micros;

/// Metadata of one event as the outputs see it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventMeta<'a> {
    pub time: Micros,
    pub host: &'a str,
    pub source: &'a str,
    pub sourcetype: &'a str,
    pub index: &'a str,
}

/// Owned copy of [`EventMeta`] without the time, for batches whose events share metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchMeta {
    pub host: String,
    pub source: String,
    pub sourcetype: String,
    pub index: String,
}

impl BatchMeta {
    pub fn matches(&self, meta: &EventMeta<'_>) -> bool {
        self.host == meta.host
            && self.source == meta.source
            && self.sourcetype == meta.sourcetype
            && self.index == meta.index
    }

    pub fn set(&mut self, meta: &EventMeta<'_>) {
        for (dst, src) in [
            (&mut self.host, meta.host),
            (&mut self.source, meta.source),
            (&mut self.sourcetype, meta.sourcetype),
            (&mut self.index, meta.index),
        ] {
            dst.clear();
            dst.push_str(src);
        }
    }
}

/// A run of encoded events of one sample for one output.
#[derive(Debug, Default)]
pub struct Batch {
    /// Index of the sample in the plan.
    pub sample: usize,
    /// Index of the output (sink) in the plan.
    pub output: usize,
    /// Encoded events, back to back.
    pub bytes: Vec<u8>,
    /// End offset in `bytes` of each event: event i is `bytes[ends[i-1]..ends[i]]`.
    pub ends: Vec<u32>,
    /// Bytes of event text before encoding (what `perDayVolume` and the stats count).
    pub raw_bytes: u64,
    /// Shared metadata of every event in the batch, for encodings that need it outside the
    /// event bytes (HEC `/raw` query parameters). Workers start a new batch when it changes.
    pub meta: BatchMeta,
    /// Time of the last event in the batch.
    pub last_time: Micros,
    /// For encodings that need uniform metadata: `(first event index, metadata)` of every
    /// run after the first whose metadata differs. The reducer splits the batch there.
    pub meta_changes: Vec<(u32, BatchMeta)>,
    /// The worker's encoded metadata of the last event ([`encode::MetaCache`]); it travels
    /// with the batch and is never cleared.
    pub meta_cache: encode::MetaCache,
}

impl Batch {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
        self.raw_bytes = 0;
        self.last_time = 0;
        self.meta_changes.clear();
    }

    /// Iterates over the encoded events.
    pub fn events(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let mut start = 0usize;
        self.ends.iter().map(move |&end| {
            let ev = &self.bytes[start..end as usize];
            start = end as usize;
            ev
        })
    }
}

/// Where encoded bytes go. Driven only by the reducer thread.
pub trait Sink: Send {
    /// Writes one batch. An error is logged and counted by the reducer; the sink stays usable.
    fn write(&mut self, batch: &Batch) -> io::Result<()>;
    /// Called when the reducer's queue runs dry: push buffered bytes to their destination.
    fn flush(&mut self) -> io::Result<()>;
    /// Called once when the run ends (normally or on SIGTERM); may use time up to `deadline`
    /// to deliver what is pending. Returns a one-line summary for the log, if it has one.
    fn finish(&mut self, deadline: Instant) -> io::Result<Option<String>>;
    /// Events this sink gave up on (refused, dropped, still held when `finish` returned), for
    /// sinks that settle events after `write` returned or one by one (network outputs).
    /// `None`: the reducer counts the events of every batch whose `write` failed instead.
    fn failed_events(&self) -> Option<u64> {
        None
    }
    /// Events `write` took that never reached the reader because it closed the pipe
    /// (`| head`): the reader's choice, not a failure.
    fn unread_events(&self) -> u64 {
        0
    }
}
