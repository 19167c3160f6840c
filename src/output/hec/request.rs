//! Cutting encoded events into request payloads.
//!
//! Events arrive in batches (their bytes back to back, boundaries in `ends`); payloads are cut
//! only at event boundaries and hold at most `max` bytes, except that an event larger than `max`
//! travels alone. A payload is never empty. For `/raw` a payload also never mixes metadata,
//! because the metadata travel in its query string. Zero-length events (blank text or a metric
//! without fields, see [`super::encode`]) are skipped and counted.

use std::sync::Arc;

use super::config::Endpoint;
use crate::output::{Batch, BatchMeta};

/// The body of one request with its event boundaries (kept to split it in two on 413).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    pub body: Vec<u8>,
    /// End offset in `body` of each event.
    pub ends: Vec<u32>,
    /// `/raw` query string (`host=..&source=..`), shared by the payloads of one metadata.
    pub query: Option<Arc<str>>,
}

impl Payload {
    pub fn events(&self) -> usize {
        self.ends.len()
    }

    /// Splits into two payloads of about half the events each; `None` for a single event.
    pub fn split(self) -> Option<(Payload, Payload)> {
        let n = self.ends.len();
        if n < 2 {
            return None;
        }
        let mid = n / 2;
        let cut = self.ends[mid - 1] as usize;
        let first = Payload {
            body: self.body[..cut].to_vec(),
            ends: self.ends[..mid].to_vec(),
            query: self.query.clone(),
        };
        let second = Payload {
            body: self.body[cut..].to_vec(),
            ends: self.ends[mid..].iter().map(|e| e - cut as u32).collect(),
            query: self.query,
        };
        Some((first, second))
    }
}

/// Accumulates events across batches and hands out full payloads.
#[derive(Debug)]
pub struct PayloadBuilder {
    max: usize,
    endpoint: Endpoint,
    body: Vec<u8>,
    ends: Vec<u32>,
    meta: BatchMeta,
    query: Option<Arc<str>>,
}

impl PayloadBuilder {
    pub fn new(max: usize, endpoint: Endpoint) -> PayloadBuilder {
        PayloadBuilder {
            max: max.max(1),
            endpoint,
            body: Vec::new(),
            ends: Vec::new(),
            meta: BatchMeta::default(),
            query: None,
        }
    }

    /// Adds the events of `batch`, calling `emit` with each payload that is full. Returns the
    /// number of zero-length events skipped.
    pub fn add_batch(&mut self, batch: &Batch, emit: &mut dyn FnMut(Payload)) -> u64 {
        if self.endpoint == Endpoint::Raw && (self.query.is_none() || self.meta != batch.meta) {
            if let Some(p) = self.take() {
                emit(p);
            }
            self.meta = batch.meta.clone();
            self.query = Some(raw_query(&batch.meta).into());
        }
        let mut skipped = 0;
        for ev in batch.events() {
            if ev.is_empty() {
                skipped += 1;
                continue;
            }
            if !self.body.is_empty()
                && self.body.len() + ev.len() > self.max
                && let Some(p) = self.take()
            {
                emit(p);
            }
            self.body.extend_from_slice(ev);
            self.ends.push(self.body.len() as u32);
            if self.body.len() >= self.max
                && let Some(p) = self.take()
            {
                emit(p);
            }
        }
        skipped
    }

    /// The partial payload, if it has any event.
    pub fn take(&mut self) -> Option<Payload> {
        if self.ends.is_empty() {
            return None;
        }
        let cap = self.body.len().min(self.max);
        Some(Payload {
            body: std::mem::replace(&mut self.body, Vec::with_capacity(cap)),
            ends: std::mem::take(&mut self.ends),
            query: self.query.clone(),
        })
    }

    /// Events waiting in the partial payload.
    pub fn pending_events(&self) -> usize {
        self.ends.len()
    }
}

/// `host=..&source=..&sourcetype=..&index=..` with empty values left out, percent-encoded.
pub fn raw_query(meta: &BatchMeta) -> String {
    query_string(&[
        ("host", &meta.host),
        ("source", &meta.source),
        ("sourcetype", &meta.sourcetype),
        ("index", &meta.index),
    ])
}

/// `k1=v1&k2=v2..` in the given order, pairs with an empty value left out, values
/// percent-encoded.
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    let mut q = String::new();
    for (k, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        if !q.is_empty() {
            q.push('&');
        }
        q.push_str(k);
        q.push('=');
        percent_encode(v, &mut q);
    }
    q
}

/// Percent-encodes a query or form value, leaving unreserved characters and sub-delimiters.
pub fn percent_encode(v: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in v.as_bytes() {
        // Unreserved characters and the sub-delimiters a query value may hold as they are
        // (RFC 3986 §3.4); some HEC servers do not decode `%3A` or `%2F` in the query.
        if b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'_'
                    | b'.'
                    | b'~'
                    | b':'
                    | b'/'
                    | b'@'
                    | b'!'
                    | b'$'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b','
                    | b';'
            )
        {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 0xf) as usize] as char);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(events: &[&str]) -> Batch {
        let mut b = Batch::default();
        for e in events {
            b.bytes.extend_from_slice(e.as_bytes());
            b.ends.push(b.bytes.len() as u32);
        }
        b
    }

    fn cut(max: usize, batches: &[Batch]) -> (Vec<Payload>, u64) {
        let mut b = PayloadBuilder::new(max, Endpoint::Event);
        let mut out = Vec::new();
        let mut skipped = 0;
        for batch in batches {
            skipped += b.add_batch(batch, &mut |p| out.push(p));
        }
        out.extend(b.take());
        (out, skipped)
    }

    fn bodies(ps: &[Payload]) -> Vec<String> {
        ps.iter()
            .map(|p| String::from_utf8(p.body.clone()).unwrap())
            .collect()
    }

    #[test]
    fn cuts_at_event_boundaries_up_to_max() {
        let (ps, _) = cut(10, &[batch(&["aaaa", "bbbb", "cc", "dddd"])]);
        assert_eq!(bodies(&ps), ["aaaabbbbcc", "dddd"]);
        assert_eq!(ps[0].ends, [4, 8, 10]);
        assert_eq!(ps[1].ends, [4]);
    }

    #[test]
    fn oversize_event_goes_alone_and_no_payload_is_empty() {
        let (ps, _) = cut(
            5,
            &[batch(&[
                "0123456789",
                "ab",
                "0123456789",
                "0123456789",
                "c",
            ])],
        );
        assert_eq!(
            bodies(&ps),
            ["0123456789", "ab", "0123456789", "0123456789", "c"]
        );
        assert!(ps.iter().all(|p| !p.body.is_empty() && !p.ends.is_empty()));
    }

    #[test]
    fn accumulates_across_batches_and_skips_empty_events() {
        let (ps, skipped) = cut(100, &[batch(&["a", "", "b"]), batch(&["", "c"])]);
        assert_eq!(bodies(&ps), ["abc"]);
        assert_eq!(ps[0].ends, [1, 2, 3]);
        assert_eq!(skipped, 2);
        let (ps, skipped) = cut(100, &[batch(&["", ""])]);
        assert!(ps.is_empty());
        assert_eq!(skipped, 2);
    }

    #[test]
    fn sizes_never_exceed_max_unless_alone() {
        let events: Vec<String> = (0..500).map(|i| "x".repeat(1 + (i * 7919) % 37)).collect();
        let refs: Vec<&str> = events.iter().map(|s| s.as_str()).collect();
        let (ps, _) = cut(64, &[batch(&refs)]);
        let total: usize = ps.iter().map(|p| p.events()).sum();
        assert_eq!(total, 500);
        for p in &ps {
            assert!(p.body.len() <= 64 || p.events() == 1);
            assert_eq!(*p.ends.last().unwrap() as usize, p.body.len());
        }
        assert_eq!(
            ps.iter().flat_map(|p| p.body.iter()).count(),
            events.iter().map(|e| e.len()).sum::<usize>()
        );
    }

    #[test]
    fn split_halves_keep_boundaries() {
        let (mut ps, _) = cut(100, &[batch(&["aa", "b", "ccc", "dddd", "e"])]);
        let (a, b) = ps.remove(0).split().unwrap();
        assert_eq!(bodies(&[a.clone(), b.clone()]), ["aab", "cccdddde"]);
        assert_eq!(a.ends, [2, 3]);
        assert_eq!(b.ends, [3, 7, 8]);
        let (one, _) = cut(100, &[batch(&["x"])]);
        assert!(one[0].clone().split().is_none());
    }

    #[test]
    fn raw_payloads_do_not_mix_metadata() {
        let mut b = PayloadBuilder::new(100, Endpoint::Raw);
        let mut out = Vec::new();
        let mut b1 = batch(&["l1\n", "l2\n"]);
        b1.meta = BatchMeta {
            host: "h 1".into(),
            source: "/var/log".into(),
            sourcetype: "st".into(),
            index: String::new(),
        };
        let mut b2 = batch(&["l3\n"]);
        b2.meta = BatchMeta {
            host: "h2".into(),
            ..BatchMeta::default()
        };
        b.add_batch(&b1, &mut |p| out.push(p));
        b.add_batch(&b1, &mut |p| out.push(p));
        b.add_batch(&b2, &mut |p| out.push(p));
        out.extend(b.take());
        assert_eq!(bodies(&out), ["l1\nl2\nl1\nl2\n", "l3\n"]);
        assert_eq!(
            out[0].query.as_deref(),
            Some("host=h%201&source=/var/log&sourcetype=st")
        );
        assert_eq!(out[1].query.as_deref(), Some("host=h2"));
    }
}
