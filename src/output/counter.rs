//! `outputMode = counter`: nothing is sent anywhere; per-day histograms of event counts and
//! bytes of event text go to the log, at the end of the run and every [`REPORT_EVERY`] while
//! it lasts, as Eventgen's counter plugin printed them to stderr after every flush.
//!
//! The day is the event's `_time` in the host's local zone (`%Y-%m-%d`), as Eventgen's
//! `fromtimestamp`. Bytes are UTF-8 bytes of the event text as generated (Eventgen counted
//! Python characters). The workers encode each event as [`encode`] writes it: its time and
//! its text's length, 16 bytes, so the output thread never sees the text.

use std::collections::BTreeMap;
use std::io;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Timelike};

use super::{Batch, Sink};
use crate::log;
use crate::timing::{Micros, Tz};

/// How often a long run logs the histograms (Eventgen: after every flush).
pub const REPORT_EVERY: Duration = Duration::from_secs(30);
/// Bytes of one encoded event.
const RECORD: usize = 16;

/// Appends the counter record of one event: time (µs) and text length, little endian.
pub fn encode(time: Micros, raw: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&time.to_le_bytes());
    out.extend_from_slice(&(raw.len() as u64).to_le_bytes());
}

/// Events and bytes per local day.
#[derive(Debug, Default)]
pub struct Histogram {
    days: BTreeMap<NaiveDate, (u64, u64)>,
    /// The last day seen and its span `[from, to)` in µs, so most events skip the time zone.
    last: Option<(NaiveDate, Micros, Micros)>,
}

impl Histogram {
    pub fn add(&mut self, time: Micros, bytes: u64) {
        let day = match self.last {
            Some((d, from, to)) if time >= from && time < to => d,
            _ => {
                let (d, from, to) = day_span(time);
                self.last = Some((d, from, to));
                d
            }
        };
        let e = self.days.entry(day).or_default();
        e.0 += 1;
        e.1 += bytes;
    }

    /// `(day, events, bytes)` in day order.
    pub fn days(&self) -> impl Iterator<Item = (String, u64, u64)> + '_ {
        self.days
            .iter()
            .map(|(d, (n, b))| (d.format("%Y-%m-%d").to_string(), *n, *b))
    }

    /// The log lines: a header, the data size histogram, the event count histogram (each a
    /// `{'day': n, …}` dict as Eventgen printed them).
    pub fn lines(&self) -> Vec<String> {
        let dict = |pick: fn(&(u64, u64)) -> u64| {
            let items: Vec<String> = self
                .days
                .iter()
                .map(|(d, v)| format!("'{}': {}", d.format("%Y-%m-%d"), pick(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        };
        vec![
            "counter: ----- print the output histogram -----".to_string(),
            format!("counter: --- data size histogram --- {}", dict(|v| v.1)),
            format!("counter: --- event count histogram --- {}", dict(|v| v.0)),
        ]
    }
}

/// The local day of `time` and a span `[from, to)` around it that lies within that day (on a
/// day with a DST change the span may be shorter than the day: it is only a cache).
fn day_span(time: Micros) -> (NaiveDate, Micros, Micros) {
    const DAY: Micros = 86_400_000_000;
    let t = Tz::Local.datetime(time);
    let day = t.date_naive();
    let since = i64::from(t.num_seconds_from_midnight()) * 1_000_000
        + i64::from(t.timestamp_subsec_micros() % 1_000_000);
    let same_day = |x: Micros| Tz::Local.datetime(x).date_naive() == day;
    let mut from = time - since;
    if !same_day(from) {
        from = time;
    }
    let mut to = time + (DAY - since);
    if !same_day(to - 1) {
        to = time + 1;
    }
    (day, from, to)
}

/// The `counter` sink.
#[derive(Debug)]
pub struct CounterSink {
    histogram: Histogram,
    last_report: Instant,
    every: Duration,
}

impl Default for CounterSink {
    fn default() -> Self {
        Self::new(REPORT_EVERY)
    }
}

impl CounterSink {
    /// A sink that logs the histograms every `every` (and at the end).
    pub fn new(every: Duration) -> CounterSink {
        CounterSink {
            histogram: Histogram::default(),
            last_report: Instant::now(),
            every,
        }
    }

    pub fn histogram(&self) -> &Histogram {
        &self.histogram
    }

    fn report(&mut self) {
        self.last_report = Instant::now();
        for line in self.histogram.lines() {
            log::global().report(&line);
        }
    }
}

impl Sink for CounterSink {
    fn write(&mut self, batch: &Batch) -> io::Result<()> {
        for rec in batch.bytes.chunks_exact(RECORD) {
            let time = i64::from_le_bytes(rec[..8].try_into().unwrap_or_default());
            let len = u64::from_le_bytes(rec[8..].try_into().unwrap_or_default());
            self.histogram.add(time, len);
        }
        if self.last_report.elapsed() >= self.every {
            self.report();
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn finish(&mut self, _deadline: Instant) -> io::Result<Option<String>> {
        self.report();
        let (events, bytes) = self
            .histogram
            .days
            .values()
            .fold((0, 0), |(n, b), v| (n + v.0, b + v.1));
        Ok(Some(format!(
            "counter: {events} events, {bytes} bytes of event text counted over {} days",
            self.histogram.days.len()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_local_and_cached_spans_agree_with_the_zone() {
        let mut h = Histogram::default();
        let mut direct: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        // Four days in steps of 7 minutes, crossing midnights (and, where the host has one, a
        // DST change: 2023-03-26 in Europe, 2023-03-12 in the US).
        let start = 1_679_356_800_000_000i64; // 2023-03-21T00:00:00Z
        let mut t = start - 20 * 86_400_000_000;
        while t < start + 4 * 86_400_000_000 {
            h.add(t, 10);
            let d = Tz::Local.datetime(t).format("%Y-%m-%d").to_string();
            let e = direct.entry(d).or_default();
            e.0 += 1;
            e.1 += 10;
            t += 7 * 60_000_000;
        }
        let got: Vec<(String, u64, u64)> = h.days().collect();
        let want: Vec<(String, u64, u64)> =
            direct.into_iter().map(|(d, (n, b))| (d, n, b)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn sink_reads_the_records_workers_encode() {
        let mut b = Batch::default();
        for (t, raw) in [(0i64, "abc"), (1_000_000, "de"), (200_000_000_000, "")] {
            encode(t, raw.as_bytes(), &mut b.bytes);
            b.ends.push(b.bytes.len() as u32);
        }
        let mut sink = CounterSink::new(Duration::from_secs(3600));
        sink.write(&b).unwrap();
        let total: (u64, u64) = sink
            .histogram()
            .days()
            .fold((0, 0), |a, (_, n, by)| (a.0 + n, a.1 + by));
        assert_eq!(total, (3, 5));
        let lines = sink.histogram().lines();
        assert!(
            lines[1].contains(": 5") || lines[1].contains(": 0"),
            "{lines:?}"
        );
        let summary = sink.finish(Instant::now()).unwrap().unwrap();
        assert!(
            summary.starts_with("counter: 3 events, 5 bytes"),
            "{summary}"
        );
    }
}
