//! Live figures of a run: what each sample generated, what each output delivered, how full the
//! queues are and how far generation is behind its schedule. The pipeline updates them
//! (relaxed atomics, no locks on the hot path); [`server`] serves them in Prometheus' text
//! format (`--metrics ADDR`) and [`Reporter`] writes them as `key=value` log lines (Splunk
//! mode, every 30 s) and warns when generation falls behind by more than an interval.
//!
//! The Prometheus text format is a handful of `name{labels} value` lines; writing it here keeps
//! the figures in the atomics the pipeline already has, where a client crate would want its
//! own registry and types beside them.

pub mod address;
pub mod server;

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::output::netcore::NetStats;
use crate::plan::Plan;
use crate::shard::Shard;
use crate::stats::Stats;
use crate::timing::clock::wall_now;
use crate::timing::{MICROS_PER_SEC, Micros};

/// How often Splunk mode writes the figures to eventgen.log.
pub const LOG_EVERY: Duration = Duration::from_secs(30);
/// At most one "behind schedule" warning per this long.
pub const LAG_WARN_EVERY: Duration = Duration::from_secs(60);
/// How often the reporter looks at the lag.
const REPORTER_TICK: Duration = Duration::from_millis(100);

/// No firing is being worked on.
const IDLE: Micros = Micros::MAX;

/// What the reducer counts per output (outputs without their own delivery counters).
#[derive(Debug, Default)]
pub struct OutputCounters {
    pub sent: AtomicU64,
    pub failed: AtomicU64,
}

/// One output's figures at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutputFigures {
    pub sent: u64,
    pub failed: u64,
    pub retried: u64,
    pub queued: u64,
}

/// Every live figure of a run, shared by the pipeline's threads.
pub struct Metrics {
    samples: Vec<String>,
    outputs: Vec<String>,
    pub stats: Arc<Stats>,
    pub written: Vec<OutputCounters>,
    /// Network outputs count delivery themselves (sent means accepted by a server).
    net: Vec<Option<Arc<NetStats>>>,
    /// Jobs sent by the scheduler and not yet taken by a worker.
    pub queued_jobs: AtomicI64,
    /// Batches rendered and not yet written by the reducer.
    pub queued_batches: AtomicI64,
    /// The deadline of the firing the scheduler is working on (or waiting for), and that
    /// sample's interval; `IDLE` when there is none.
    due: AtomicI64,
    due_step: AtomicI64,
    due_sample: AtomicU64,
    /// A virtual clock is never behind.
    virtual_clock: bool,
    shard: Shard,
}

impl Metrics {
    pub fn new(plan: &Plan, stats: Arc<Stats>, shard: Shard, virtual_clock: bool) -> Metrics {
        Metrics {
            samples: plan.samples.iter().map(|s| s.name.clone()).collect(),
            outputs: plan
                .outputs
                .iter()
                .map(|o| public_name(&o.describe()))
                .collect(),
            stats,
            written: plan
                .outputs
                .iter()
                .map(|_| OutputCounters::default())
                .collect(),
            net: plan.outputs.iter().map(|_| None).collect(),
            queued_jobs: AtomicI64::new(0),
            queued_batches: AtomicI64::new(0),
            due: AtomicI64::new(IDLE),
            due_step: AtomicI64::new(0),
            due_sample: AtomicU64::new(0),
            virtual_clock,
            shard,
        }
    }

    /// Output `o` reports its own delivery counters.
    pub fn set_net(&mut self, o: usize, stats: Arc<NetStats>) {
        if let Some(slot) = self.net.get_mut(o) {
            *slot = Some(stats);
        }
    }

    /// The scheduler is on the firing of `sample` due at `deadline`.
    pub fn set_due(&self, deadline: Micros, step: Micros, sample: usize) {
        self.due_step.store(step, Ordering::Relaxed);
        self.due_sample.store(sample as u64, Ordering::Relaxed);
        self.due.store(deadline, Ordering::Relaxed);
    }

    /// The scheduler has nothing left to do.
    pub fn set_idle(&self) {
        self.due.store(IDLE, Ordering::Relaxed);
    }

    /// How far generation is behind its schedule, in microseconds, with the interval of the
    /// sample that is late and its index.
    pub fn lag(&self) -> (Micros, Micros, usize) {
        let due = self.due.load(Ordering::Relaxed);
        let step = self.due_step.load(Ordering::Relaxed);
        let sample = self.due_sample.load(Ordering::Relaxed) as usize;
        if self.virtual_clock || due == IDLE {
            return (0, step, sample);
        }
        ((wall_now() - due).max(0), step, sample)
    }

    pub fn output(&self, o: usize) -> OutputFigures {
        if let Some(Some(h)) = self.net.get(o) {
            let s = h.snapshot();
            return OutputFigures {
                sent: s.sent,
                failed: s.failed,
                retried: s.retried + s.resent,
                queued: s.queued,
            };
        }
        let w = &self.written[o];
        OutputFigures {
            sent: w.sent.load(Ordering::Relaxed),
            failed: w.failed.load(Ordering::Relaxed),
            retried: 0,
            queued: 0,
        }
    }

    fn queue_depth(&self) -> (i64, i64) {
        (
            self.queued_jobs.load(Ordering::Relaxed).max(0),
            self.queued_batches.load(Ordering::Relaxed).max(0),
        )
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn prometheus(&self) -> String {
        let mut out = String::with_capacity(2048);
        let mut family = |name: &str, kind: &str, help: &str, rows: &[(String, String)]| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for (labels, value) in rows {
                if labels.is_empty() {
                    let _ = writeln!(out, "{name} {value}");
                } else {
                    let _ = writeln!(out, "{name}{{{labels}}} {value}");
                }
            }
        };
        let per_sample = |f: &dyn Fn(usize) -> u64| -> Vec<(String, String)> {
            (0..self.samples.len())
                .map(|i| {
                    (
                        format!("sample=\"{}\"", label_value(&self.samples[i])),
                        f(i).to_string(),
                    )
                })
                .collect()
        };
        family(
            "eventgen_events_total",
            "counter",
            "Events generated and handed to their output, per sample.",
            &per_sample(&|i| self.stats.events(i)),
        );
        family(
            "eventgen_bytes_total",
            "counter",
            "Bytes of event text (before output encoding) generated, per sample.",
            &per_sample(&|i| self.stats.bytes(i)),
        );
        let figures: Vec<OutputFigures> = (0..self.outputs.len()).map(|o| self.output(o)).collect();
        let per_output = |f: &dyn Fn(&OutputFigures) -> u64| -> Vec<(String, String)> {
            figures
                .iter()
                .enumerate()
                .map(|(o, fig)| {
                    (
                        format!("output=\"{}\"", label_value(&self.outputs[o])),
                        f(fig).to_string(),
                    )
                })
                .collect()
        };
        family(
            "eventgen_output_sent_total",
            "counter",
            "Events an output delivered (HEC: accepted by a server).",
            &per_output(&|f| f.sent),
        );
        family(
            "eventgen_output_failed_total",
            "counter",
            "Events an output gave up on.",
            &per_output(&|f| f.failed),
        );
        family(
            "eventgen_output_retried_total",
            "counter",
            "Events an output sent again after a failed attempt.",
            &per_output(&|f| f.retried),
        );
        family(
            "eventgen_output_queued_events",
            "gauge",
            "Events waiting inside an output for delivery (HEC).",
            &per_output(&|f| f.queued),
        );
        let (jobs, batches) = self.queue_depth();
        family(
            "eventgen_queue_jobs",
            "gauge",
            "Jobs waiting for a generator thread.",
            &[(String::new(), jobs.to_string())],
        );
        family(
            "eventgen_queue_batches",
            "gauge",
            "Rendered batches waiting for the output thread.",
            &[(String::new(), batches.to_string())],
        );
        family(
            "eventgen_schedule_lag_seconds",
            "gauge",
            "How far generation is behind its schedule.",
            &[(String::new(), seconds(self.lag().0))],
        );
        family(
            "eventgen_shard",
            "gauge",
            "This process's shard index and the number of shards.",
            &[(
                format!(
                    "index=\"{}\",count=\"{}\"",
                    self.shard.index, self.shard.count
                ),
                "1".to_string(),
            )],
        );
        out
    }

    /// The same figures as `key=value` log lines (without the level word): one per sample, one
    /// per output and one for the run.
    pub fn log_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for (i, name) in self.samples.iter().enumerate() {
            lines.push(format!(
                "metrics kind=sample sample=\"{}\" events={} bytes={}",
                kv_value(name),
                self.stats.events(i),
                self.stats.bytes(i)
            ));
        }
        for (o, name) in self.outputs.iter().enumerate() {
            let f = self.output(o);
            lines.push(format!(
                "metrics kind=output output=\"{}\" sent={} failed={} retried={} queued={}",
                kv_value(name),
                f.sent,
                f.failed,
                f.retried,
                f.queued
            ));
        }
        let (jobs, batches) = self.queue_depth();
        lines.push(format!(
            "metrics kind=run shard={} lag_seconds={} queue_jobs={jobs} queue_batches={batches}",
            self.shard,
            seconds(self.lag().0)
        ));
        lines
    }
}

/// Seconds with millisecond precision.
/// An output's name for a page anyone on the network may read: URLs shortened to `host:port`
/// (no scheme, credentials or path) and paths to their file name.
/// `file /var/log/x.log` → `file x.log`; `splunkstream https://a:8089,https://b:8089` → `splunkstream a:8089,b:8089`.
pub fn public_name(describe: &str) -> String {
    let item = |t: &str| -> String {
        if let Some(rest) = t.split_once("://").map(|(_, r)| r) {
            let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
            return host.rsplit('@').next().unwrap_or_default().to_string();
        }
        let host = t.rsplit('@').next().unwrap_or_default();
        if host.contains(['/', '\\']) {
            return host
                .rsplit(['/', '\\'])
                .next()
                .unwrap_or_default()
                .to_string();
        }
        host.to_string()
    };
    describe
        .split(' ')
        .map(|word| word.split(',').map(item).collect::<Vec<_>>().join(","))
        .collect::<Vec<_>>()
        .join(" ")
}

fn seconds(micros: Micros) -> String {
    format!("{:.3}", micros as f64 / MICROS_PER_SEC as f64)
}

/// A Prometheus label value: backslash, double quote and newline escaped.
fn label_value(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A quoted value of a key=value log line: no double quotes or newlines inside.
fn kv_value(s: &str) -> String {
    s.replace('"', "'").replace(['\n', '\r'], " ")
}

/// Watches a run from its own thread: warns (at most once per [`LAG_WARN_EVERY`]) when
/// generation is more than one interval behind, and writes [`Metrics::log_lines`] every
/// `log_every` when that is set.
pub struct Reporter {
    pub metrics: Arc<Metrics>,
    pub log_every: Option<Duration>,
    /// `outputCounter = true`: log a throughput line this often and at the end.
    pub throughput_every: Option<Duration>,
}

/// Eventgen's `outputCounter` window: throughput over the last minute.
pub const THROUGHPUT_EVERY: Duration = Duration::from_secs(60);

/// [`THROUGHPUT_EVERY`], or `EVENTGEN_OUTPUT_COUNTER_SECS` seconds (at least 1).
pub fn throughput_every() -> Duration {
    std::env::var("EVENTGEN_OUTPUT_COUNTER_SECS")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(THROUGHPUT_EVERY, |s| Duration::from_secs(s.max(1)))
}

/// One `outputCounter` line: events and KB since the last line, and per second.
pub fn throughput_line(events: u64, bytes: u64, elapsed: Duration, total: (u64, u64)) -> String {
    let secs = elapsed.as_secs_f64().max(1e-3);
    format!(
        "output counter: {events} events, {:.1} KB in {secs:.1} s: {:.1} events/s, {:.1} KB/s; total {} events, {:.3} MB",
        bytes as f64 / 1024.0,
        events as f64 / secs,
        bytes as f64 / 1024.0 / secs,
        total.0,
        total.1 as f64 / 1_048_576.0
    )
}

impl Reporter {
    /// Runs until `done` is raised; then writes the figures once more if it writes them at all.
    pub fn run(self, done: &crate::signal::Done) {
        let mut last_warn: Option<Instant> = None;
        let mut last_log = Instant::now();
        let mut window = (Instant::now(), 0u64, 0u64);
        let names = &self.metrics.samples;
        while !done.wait(REPORTER_TICK) {
            let (lag, step, sample) = self.metrics.lag();
            if step > 0 && lag > step && last_warn.is_none_or(|t| t.elapsed() >= LAG_WARN_EVERY) {
                last_warn = Some(Instant::now());
                crate::log::warn(&format!(
                    "generation is {} s behind its schedule (sample {}, interval {} s): \
                     the outputs or the CPU cannot keep up, so fewer events go out than \
                     configured",
                    seconds(lag),
                    names.get(sample).map_or("?", String::as_str),
                    seconds(step)
                ));
            }
            if let Some(every) = self.log_every
                && last_log.elapsed() >= every
            {
                last_log = Instant::now();
                self.write_lines();
            }
            if let Some(every) = self.throughput_every
                && window.0.elapsed() >= every
            {
                self.write_throughput(&mut window);
            }
        }
        if self.log_every.is_some() {
            self.write_lines();
        }
        if self.throughput_every.is_some() {
            self.write_throughput(&mut window);
        }
    }

    /// Logs the throughput since `window` (start, events, bytes) and starts a new window.
    fn write_throughput(&self, window: &mut (Instant, u64, u64)) {
        let stats = &self.metrics.stats;
        let (events, bytes) = (stats.total_events(), stats.total_bytes());
        crate::log::global().report(&throughput_line(
            events - window.1,
            bytes - window.2,
            window.0.elapsed(),
            (events, bytes),
        ));
        *window = (Instant::now(), events, bytes);
    }

    fn write_lines(&self) {
        for line in self.metrics.log_lines() {
            crate::log::info(&line);
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(crate) fn metrics() -> Metrics {
        let stats = Arc::new(Stats::new(2));
        Metrics {
            samples: vec!["web.log".into(), "odd \"name\"".into()],
            outputs: vec!["stdout".into()],
            stats,
            written: vec![OutputCounters::default()],
            net: vec![None],
            queued_jobs: AtomicI64::new(3),
            queued_batches: AtomicI64::new(0),
            due: AtomicI64::new(IDLE),
            due_step: AtomicI64::new(0),
            due_sample: AtomicU64::new(0),
            virtual_clock: false,
            shard: Shard { index: 1, count: 3 },
        }
    }

    #[test]
    fn prometheus_text_has_every_family_with_escaped_labels() {
        let m = metrics();
        m.stats.add(0, 7, 700);
        m.written[0].sent.store(7, Ordering::Relaxed);
        let text = m.prometheus();
        assert!(
            text.contains("# TYPE eventgen_events_total counter\n"),
            "{text}"
        );
        assert!(text.contains("eventgen_events_total{sample=\"web.log\"} 7\n"));
        assert!(text.contains("eventgen_bytes_total{sample=\"web.log\"} 700\n"));
        assert!(text.contains("eventgen_events_total{sample=\"odd \\\"name\\\"\"} 0\n"));
        assert!(text.contains("eventgen_output_sent_total{output=\"stdout\"} 7\n"));
        assert!(text.contains("eventgen_queue_jobs 3\n"));
        assert!(text.contains("eventgen_schedule_lag_seconds 0.000\n"));
        assert!(text.contains("eventgen_shard{index=\"1\",count=\"3\"} 1\n"));
        // Every sample line is `name{labels} value` or `name value`.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let value = line.rsplit(' ').next().unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }

    #[test]
    fn public_names_show_no_paths_urls_or_credentials() {
        for (describe, want) in [
            ("stdout", "stdout"),
            ("file /var/log/eventgen/out.log", "file out.log"),
            (
                "spool /opt/splunk/var/spool/splunk/x.sample",
                "spool x.sample",
            ),
            (
                "splunkstream https://admin:pw@a.example:8089,http://[::1]:8089/x",
                "splunkstream a.example:8089,[::1]:8089",
            ),
            (
                "httpevent 127.0.0.1:8088,idx2:8088",
                "httpevent 127.0.0.1:8088,idx2:8088",
            ),
            ("tcpout user:pw@h:514", "tcpout h:514"),
            ("file C:\\out\\a.log", "file a.log"),
        ] {
            assert_eq!(public_name(describe), want, "{describe}");
        }
    }

    #[test]
    fn lag_counts_from_the_due_deadline_and_is_zero_when_idle() {
        let m = metrics();
        assert_eq!(m.lag().0, 0);
        m.set_due(wall_now() - 5 * MICROS_PER_SEC, MICROS_PER_SEC, 1);
        let (lag, step, sample) = m.lag();
        assert!(lag >= 5 * MICROS_PER_SEC, "{lag}");
        assert_eq!((step, sample), (MICROS_PER_SEC, 1));
        m.set_due(wall_now() + 60 * MICROS_PER_SEC, MICROS_PER_SEC, 0);
        assert_eq!(m.lag().0, 0);
        m.set_idle();
        assert_eq!(m.lag().0, 0);
    }

    #[test]
    fn log_lines_are_key_value() {
        let m = metrics();
        m.stats.add(1, 2, 20);
        let lines = m.log_lines();
        assert_eq!(lines.len(), 4);
        assert_eq!(
            lines[1],
            "metrics kind=sample sample=\"odd 'name'\" events=2 bytes=20"
        );
        assert_eq!(
            lines[2],
            "metrics kind=output output=\"stdout\" sent=0 failed=0 retried=0 queued=0"
        );
        assert!(lines[3].starts_with("metrics kind=run shard=1/3 lag_seconds=0.000 queue_jobs=3"));
    }
}
