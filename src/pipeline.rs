//! Runs a plan: one scheduler (this thread), `generatorWorkers` worker threads and one output
//! reducer thread, joined by bounded channels, so a slow output slows generation instead of
//! growing memory. Batches come back to the workers through a recycling channel.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, SendTimeoutError, Sender, bounded};

use crate::generate::probe::SizeProbe;
use crate::generate::{Job, SharedCounters, Worker};
use crate::log;
use crate::metrics::server::MetricsServer;
use crate::metrics::{Metrics, Reporter};
use crate::output::file::FileSink;
use crate::output::hec::{HecSink, HecStats, Shutdown};
use crate::output::net::{DatagramSink, TcpSink};
use crate::output::splunkstream::SplunkStreamSink;
use crate::output::spool::SpoolSink;
use crate::output::stdout::{DevnullSink, StdoutSink};
use crate::output::{Batch, Sink};
use crate::plan::{End, Generator, OutputSpec, Plan, SamplePlan};
use crate::progress::{Progress, ProgressOptions};
use crate::rng::Rng;
use crate::shard::Shard;
use crate::signal::Done;
use crate::stats::Stats;
use crate::timing::clock::Clock;
use crate::timing::{MICROS_PER_SEC, Micros};

/// Largest number of events in one job, so big intervals spread over the workers and batches
/// stay a few megabytes.
const JOB_EVENTS: u64 = 4096;
/// Events of one windbag or counter job: these generators draw no random numbers and cost
/// ~30 ns an event, so their jobs are larger than the sample path's, which keeps the hand-overs
/// between threads (a futex wake and a context switch each) to a few percent of the CPU time.
const PLAIN_JOB_EVENTS: u64 = 32_768;
/// Cycles of a jinja template in one job (a cycle may render many events; the worker hands
/// its batch on every `BATCH_BYTES` anyway). At 256, the hand-overs took a quarter of the CPU
/// time of a small template.
const JINJA_JOB_CYCLES: u64 = 2048;
/// Jobs or batches in flight per worker.
const QUEUE_PER_WORKER: usize = 4;
/// Batches each worker owns. The reducer gives every batch back to the worker that filled
/// it, so the batches in existence (and the reducer's reordering buffer) stay bounded
/// whatever the job sizes and output speed.
const BATCHES_PER_WORKER: usize = 4;
/// How long outputs may take to deliver what is pending at the end of a run that ended by
/// itself. After that, blocked outputs give up and count what they still held as failed.
const FINISH_GRACE: Duration = Duration::from_secs(10);
/// How long outputs may take to deliver what is pending after a stop request (SIGTERM,
/// SIGINT, closed stdout): the process must be gone within a second.
const STOP_GRACE: Duration = Duration::from_millis(500);
/// How often a thread blocked on a full queue looks at the stop flag.
const STOP_POLL: Duration = Duration::from_millis(20);

/// The scheduler's end of the job queue: a send gives up when the run is stopped, so a full
/// queue (slow output) never holds a stop request back.
struct JobQueue<'a> {
    tx: Sender<Job>,
    stop: &'a AtomicBool,
}

impl JobQueue<'_> {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Queues `job`; `false` if the run stopped (or every worker is gone) first.
    fn send(&self, mut job: Job) -> bool {
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

/// How the run is driven.
pub struct RunOptions {
    pub clock: Clock,
    pub stop: Arc<AtomicBool>,
    /// Wrap modinput output in `<stream>`...`</stream>`.
    pub modinput_stream: bool,
    /// The progress bar and stats lines on stderr.
    pub progress: ProgressOptions,
    /// This process's share of the run.
    pub shard: Shard,
    /// Serve Prometheus metrics on this address (`--metrics`).
    pub metrics_addr: Option<String>,
    /// Write the metrics to the log this often (Splunk mode).
    pub log_metrics_every: Option<Duration>,
}

impl RunOptions {
    /// A whole run on `clock`: no progress display, no metrics.
    pub fn new(clock: Clock, stop: Arc<AtomicBool>) -> RunOptions {
        RunOptions {
            clock,
            stop,
            modinput_stream: true,
            progress: ProgressOptions::default(),
            shard: Shard::WHOLE,
            metrics_addr: None,
            log_metrics_every: None,
        }
    }
}

/// What a run did.
#[derive(Debug, Default)]
pub struct RunReport {
    pub events: u64,
    pub bytes: u64,
    pub elapsed: Duration,
    /// Output errors other than a closed pipe.
    pub output_errors: u64,
    pub broken_pipe: bool,
    /// Per output, in plan order.
    pub outputs: Vec<OutputReport>,
    /// `(sample name, events, bytes of event text)` per sample, in plan order.
    pub per_sample: Vec<(String, u64, u64)>,
}

impl RunReport {
    /// Events that some output did not deliver (refused, dropped, or still held at the end).
    pub fn undelivered(&self) -> u64 {
        self.outputs.iter().map(|o| o.failed).sum()
    }
}

/// What one output did with the events handed to it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct OutputReport {
    /// `OutputSpec::describe`: mode and destination.
    pub name: String,
    /// Events handed to the output.
    pub events: u64,
    /// Of those, events not delivered.
    pub failed: u64,
}

/// One filled batch on its way to the reducer: part `part` of job `seq` (`last` on the final
/// part), owned by worker `worker`.
struct Delivery {
    seq: u64,
    part: u32,
    last: bool,
    worker: usize,
    batch: Batch,
}

/// Per-sample scheduling state.
struct SampleState {
    next: Micros,
    executions: u64,
    /// Events scheduled so far (perDayVolume compares them with its byte target).
    scheduled: u64,
    backfill_from: Option<Micros>,
    jobs: u64,
    done: bool,
    pdv_target_bytes: f64,
    /// Counter values at the next event position, and the counters' prefix counts.
    counters: Vec<i64>,
    prefix: Vec<Vec<u64>>,
    /// Replay: start of the current pass and the next event to send.
    pass_start: Micros,
    replay_next: usize,
    /// Counter generator: events of one cycle.
    cycle_len: u64,
}

fn open_sink(
    spec: &OutputSpec,
    modinput_stream: bool,
    shutdowns: &mut Vec<Shutdown>,
    hec_stats: &mut Option<Arc<HecStats>>,
) -> io::Result<Box<dyn Sink>> {
    Ok(match spec {
        OutputSpec::Hec { config, .. } => {
            let sink = HecSink::new(config.clone()).map_err(io::Error::other)?;
            shutdowns.push(sink.shutdown_handle());
            *hec_stats = Some(sink.stats());
            Box::new(sink)
        }
        OutputSpec::SplunkStream(config) => {
            let sink = SplunkStreamSink::new(config.clone()).map_err(io::Error::other)?;
            shutdowns.push(sink.shutdown_handle());
            Box::new(sink)
        }
        OutputSpec::Syslog(c) => Box::new(DatagramSink::syslog(c)?),
        OutputSpec::Udp(c) => Box::new(DatagramSink::udp(c)?),
        OutputSpec::Tcp(c) => {
            let sink = TcpSink::new(c);
            shutdowns.push(sink.shutdown_handle());
            Box::new(sink)
        }
        OutputSpec::Stdout => Box::new(StdoutSink::stdout()?),
        OutputSpec::Modinput if modinput_stream => Box::new(StdoutSink::stdout_modinput()?),
        OutputSpec::Modinput => Box::new(StdoutSink::stdout_modinput_events()?),
        OutputSpec::Devnull => Box::new(DevnullSink::new()),
        OutputSpec::File {
            path,
            max_bytes,
            backups,
        } => Box::new(FileSink::create(path, *max_bytes, *backups)?),
        OutputSpec::Spool { dir, file } => Box::new(SpoolSink::create(dir, file)?),
    })
}

/// Starting values of every counter: the configured start, or what the state folder kept.
fn counter_starts(plan: &Plan) -> Vec<Vec<i64>> {
    plan.samples
        .iter()
        .map(|s| {
            s.counters
                .iter()
                .map(|c| {
                    plan.state_dir
                        .as_ref()
                        .and_then(|d| std::fs::read_to_string(state_path(d, s, &c.state_name)).ok())
                        .and_then(|t| t.trim().parse().ok())
                        .unwrap_or(c.start)
                })
                .collect()
        })
        .collect()
}

fn state_path(dir: &std::path::Path, s: &SamplePlan, name: &str) -> PathBuf {
    let clean = |x: &str| -> String {
        x.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    let app = s.app.as_deref().unwrap_or("cli");
    dir.join(format!(
        "{}.{}.{}.state",
        clean(app),
        clean(&s.name),
        clean(name)
    ))
}

/// Registers with the logger every credential of the plan's outputs (HEC tokens, splunkstream passwords), so no
/// message can show one, whoever writes it.
pub fn register_secrets(plan: &Plan) {
    for out in &plan.outputs {
        match out {
            OutputSpec::Hec { config, .. } => {
                for s in &config.servers {
                    log::global().add_secret(&s.token);
                }
            }
            OutputSpec::SplunkStream(config) => {
                for s in config.auth.secrets() {
                    log::global().add_secret(s);
                }
            }
            _ => {}
        }
    }
}

/// Runs the plan until every sample has ended or `stop` is raised.
pub fn run(plan: Plan, opts: RunOptions) -> io::Result<RunReport> {
    register_secrets(&plan);
    let plan = Arc::new(plan);
    let started = Instant::now();
    let stats = Arc::new(Stats::new(plan.samples.len()));
    let mut metrics = Metrics::new(&plan, stats.clone(), opts.shard, opts.clock.is_virtual());
    let mut sinks = Vec::with_capacity(plan.outputs.len());
    let names: Vec<String> = plan.outputs.iter().map(OutputSpec::describe).collect();
    let mut shutdowns = Vec::new();
    for (o, spec) in plan.outputs.iter().enumerate() {
        let mut hec_stats = None;
        sinks.push(
            open_sink(spec, opts.modinput_stream, &mut shutdowns, &mut hec_stats).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("cannot open output {}: {e}", spec.describe()),
                )
            })?,
        );
        if let Some(h) = hec_stats {
            metrics.set_hec(o, h);
        }
    }
    let metrics = Arc::new(metrics);
    // A stop request (SIGTERM) also releases outputs blocked on an unreachable server, and so
    // does the end of the finish grace after the scheduler ended: a bounded run whose output
    // never takes its events ends (exit 1) instead of being held back forever.
    let done = Arc::new(Done::new());
    let scheduled = Arc::new(OnceLock::<Instant>::new());
    let server = match &opts.metrics_addr {
        Some(addr) => {
            let server = MetricsServer::bind(addr).map_err(|e| {
                io::Error::new(e.kind(), format!("cannot serve metrics on {addr}: {e}"))
            })?;
            if let Ok(a) = server.local_addr() {
                log::info(&format!("serving metrics on http://{a}/metrics"));
            }
            Some(server.spawn(metrics.clone(), done.clone())?)
        }
        None => None,
    };
    let reporter = {
        let r = Reporter {
            metrics: metrics.clone(),
            log_every: opts.log_metrics_every,
        };
        let done = done.clone();
        std::thread::Builder::new()
            .name("reporter".into())
            .spawn(move || r.run(&done))?
    };
    let watcher = {
        let (stop, done, scheduled) = (opts.stop.clone(), done.clone(), scheduled.clone());
        std::thread::Builder::new()
            .name("stop-watch".into())
            .spawn(move || {
                loop {
                    let overdue = scheduled.get().is_some_and(|t| t.elapsed() >= FINISH_GRACE);
                    if stop.load(Ordering::Relaxed) || overdue {
                        for s in &shutdowns {
                            s.trigger();
                        }
                        break;
                    }
                    if done.wait(STOP_POLL) {
                        break;
                    }
                }
            })?
    };
    let workers = plan.generator_workers.max(1);
    let (job_tx, job_rx) = bounded::<Job>(workers * QUEUE_PER_WORKER);
    let (out_tx, out_rx) = bounded::<Delivery>(workers * QUEUE_PER_WORKER);
    let starts = Arc::new(counter_starts(&plan));
    let shared = Arc::new(SharedCounters::new(
        &plan,
        &starts,
        opts.shard.index as i64,
        opts.shard.count as i64,
    ));
    let seed = plan.seed.unwrap_or_else(|| Rng::from_entropy().next_u64());
    let mut probe = SizeProbe::new(plan.clone(), &starts, seed);

    let mut handles = Vec::new();
    let mut pools = Vec::new();
    for w in 0..workers {
        let (pool_tx, pool) = bounded::<Batch>(BATCHES_PER_WORKER);
        for _ in 0..BATCHES_PER_WORKER {
            let _ = pool_tx.send(Batch::default());
        }
        pools.push(pool_tx);
        let (rx, tx) = (job_rx.clone(), out_tx.clone());
        let stop = opts.stop.clone();
        let mut worker = Worker::new(plan.clone(), shared.clone());
        let m = metrics.clone();
        handles.push(
            std::thread::Builder::new()
                .name(format!("generator-{w}"))
                .spawn(move || {
                    for job in rx {
                        m.queued_jobs.fetch_sub(1, Ordering::Relaxed);
                        // Between jobs: a stopped run drops what is still queued.
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let Ok(mut batch) = pool.recv() else { break };
                        batch.clear();
                        let mut part = 0u32;
                        let mut open = true;
                        worker.run_streaming(&job, &mut batch, &mut |full: &mut Batch| {
                            let Ok(mut next) = pool.recv() else {
                                open = false;
                                return false;
                            };
                            next.clear();
                            next.sample = full.sample;
                            next.output = full.output;
                            let batch = std::mem::replace(full, next);
                            let d = Delivery {
                                seq: job.seq,
                                part,
                                last: false,
                                worker: w,
                                batch,
                            };
                            part += 1;
                            m.queued_batches.fetch_add(1, Ordering::Relaxed);
                            open = tx.send(d).is_ok();
                            // Between batches: a stop ends the job here (what is rendered
                            // still goes out as its last part).
                            open && !stop.load(Ordering::Relaxed)
                        });
                        let d = Delivery {
                            seq: job.seq,
                            part,
                            last: true,
                            worker: w,
                            batch,
                        };
                        m.queued_batches.fetch_add(1, Ordering::Relaxed);
                        if !open || tx.send(d).is_err() {
                            break;
                        }
                    }
                })?,
        );
    }
    drop(job_rx);
    drop(out_tx);

    let reducer_metrics = metrics.clone();
    let stop_r = opts.stop.clone();
    let scheduled_r = scheduled.clone();
    let reducer = std::thread::Builder::new()
        .name("output".into())
        .spawn(move || {
            reduce(
                out_rx,
                pools,
                sinks,
                names,
                &reducer_metrics,
                &stop_r,
                &scheduled_r,
            )
        })?;

    let progress = Progress::start(opts.progress, stats.clone());
    let resume = replay_positions(&plan);
    let queue = JobQueue {
        tx: job_tx,
        stop: &opts.stop,
    };
    let mut dispatch = Dispatch {
        queue: &queue,
        shard: opts.shard,
        seq: 0,
        metrics: &metrics,
    };
    let (final_counters, replay_next) = schedule(
        &plan,
        opts.clock,
        &opts.stop,
        &mut dispatch,
        &stats,
        seed,
        &resume,
        &starts,
        &mut probe,
    );
    metrics.set_idle();
    drop(queue);
    let _ = scheduled.set(Instant::now());
    for h in handles {
        let _ = h.join();
    }
    let reduced = reducer.join().unwrap_or_else(|_| Reduced {
        errors: 1,
        ..Reduced::default()
    });
    progress.finish();
    done.raise();
    let _ = watcher.join();
    let _ = reporter.join();
    if let Some(s) = server {
        let _ = s.join();
    }
    for s in &reduced.summaries {
        log::info(s);
    }
    for o in reduced.outputs.iter().filter(|o| o.failed > 0) {
        log::error(&format!(
            "output {}: {} of {} events not delivered",
            o.name, o.failed, o.events
        ));
    }
    save_counters(&plan, &shared, &final_counters);
    save_replay_positions(&plan, &replay_next);
    Ok(RunReport {
        events: stats.total_events(),
        bytes: stats.total_bytes(),
        elapsed: started.elapsed(),
        output_errors: reduced.errors,
        broken_pipe: reduced.broken,
        outputs: reduced.outputs,
        per_sample: plan
            .samples
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), stats.events(i), stats.bytes(i)))
            .collect(),
    })
}

/// The scheduler's way out: numbers every job of the run per sample, keeps this shard's and
/// gives those consecutive sequence numbers (the order the reducer writes them in).
struct Dispatch<'a> {
    queue: &'a JobQueue<'a>,
    shard: Shard,
    seq: u64,
    metrics: &'a Metrics,
}

impl Dispatch<'_> {
    /// Queues `job`, the `job_of_sample`-th job of its sample, if it is this shard's.
    /// `false` when the run is stopping (stop requested, or the workers are gone).
    fn send(&mut self, mut job: Job, job_of_sample: u64) -> bool {
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

    fn stopped(&self) -> bool {
        self.queue.stopped()
    }
}

/// Where each replay sample stopped last time (state folder only).
fn replay_positions(plan: &Plan) -> Vec<usize> {
    plan.samples
        .iter()
        .map(|s| match (&plan.state_dir, &s.replay) {
            (Some(d), Some(_)) => std::fs::read_to_string(state_path(d, s, "replay.position"))
                .ok()
                .and_then(|t| t.trim().parse().ok())
                .unwrap_or(0),
            _ => 0,
        })
        .collect()
}

fn save_replay_positions(plan: &Plan, next: &[usize]) {
    let Some(dir) = &plan.state_dir else { return };
    for (i, s) in plan.samples.iter().enumerate() {
        if s.replay.is_none() {
            continue;
        }
        let _ = std::fs::create_dir_all(dir);
        let path = state_path(dir, s, "replay.position");
        if let Err(e) = std::fs::write(&path, format!("{}\n", next.get(i).copied().unwrap_or(0))) {
            log::error(&format!(
                "cannot write replay position {}: {e}",
                path.display()
            ));
        }
    }
}

fn save_counters(plan: &Plan, shared: &SharedCounters, finals: &[Vec<i64>]) {
    let Some(dir) = &plan.state_dir else { return };
    if let Err(e) = std::fs::create_dir_all(dir) {
        log::error(&format!(
            "cannot create state folder {}: {e}",
            dir.display()
        ));
        return;
    }
    for (i, s) in plan.samples.iter().enumerate() {
        for (c, spec) in s.counters.iter().enumerate() {
            let next = if s.ordinal_counters() {
                finals[i][c]
            } else {
                shared.resume_value(i, c)
            };
            let path = state_path(dir, s, &spec.state_name);
            if let Err(e) = std::fs::write(&path, format!("{next}\n")) {
                log::error(&format!(
                    "cannot write counter state {}: {e}",
                    path.display()
                ));
            }
        }
    }
}

/// What the reducer hands back at the end.
#[derive(Default)]
struct Reduced {
    errors: u64,
    broken: bool,
    summaries: Vec<String>,
    outputs: Vec<OutputReport>,
}

/// The reducer's state: sinks and what happened to them.
struct Reducer<'a> {
    sinks: Vec<Box<dyn Sink>>,
    names: Vec<String>,
    dirty: Vec<bool>,
    failed: Vec<bool>,
    /// Per output: events handed to it, and events of batches whose write failed.
    handed: Vec<u64>,
    lost: Vec<u64>,
    errors: u64,
    broken: bool,
    metrics: &'a Metrics,
    stop: &'a AtomicBool,
    /// Each worker's batch pool.
    pools: Vec<Sender<Batch>>,
}

impl Reducer<'_> {
    fn io_error(&mut self, o: usize, e: &io::Error) {
        if e.kind() == io::ErrorKind::BrokenPipe {
            self.broken = true;
            self.stop.store(true, Ordering::Relaxed);
            return;
        }
        self.errors += 1;
        if !self.failed[o] {
            self.failed[o] = true;
            log::error(&format!(
                "output {}: {e}; events of this output are being dropped",
                self.names[o]
            ));
            if self.failed.iter().all(|f| *f) {
                // Nothing can be delivered any more: end the run (exit 1) instead of
                // generating into the void forever.
                log::error("every output has failed; stopping");
                self.stop.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Writes a delivered batch and gives it back to its worker.
    fn deliver(&mut self, d: Delivery) {
        if d.batch.meta_changes.is_empty() {
            self.write(&d.batch);
        } else {
            for part in split_meta_runs(&d.batch) {
                self.write(&part);
            }
        }
        let _ = self.pools[d.worker].send(d.batch);
    }

    fn write(&mut self, batch: &Batch) {
        if !self.broken && !batch.is_empty() {
            let o = batch.output;
            let events = batch.len() as u64;
            self.handed[o] += events;
            match self.sinks[o].write(batch) {
                Ok(()) => {
                    self.metrics
                        .stats
                        .add(batch.sample, events, batch.raw_bytes);
                    self.metrics.written[o]
                        .sent
                        .fetch_add(events, Ordering::Relaxed);
                    self.dirty[o] = true;
                }
                Err(e) => {
                    self.lost[o] += events;
                    self.metrics.written[o]
                        .failed
                        .fetch_add(events, Ordering::Relaxed);
                    self.io_error(o, &e);
                }
            }
        }
    }

    fn flush_idle(&mut self) {
        for o in 0..self.sinks.len() {
            if self.dirty[o] {
                self.dirty[o] = false;
                if let Err(e) = self.sinks[o].flush() {
                    self.io_error(o, &e);
                }
            }
        }
    }
}

/// Splits a batch at its metadata changes into batches of uniform metadata.
fn split_meta_runs(batch: &Batch) -> Vec<Batch> {
    let mut runs: Vec<(usize, &crate::output::BatchMeta)> = vec![(0, &batch.meta)];
    runs.extend(batch.meta_changes.iter().map(|(i, m)| (*i as usize, m)));
    let mut out = Vec::with_capacity(runs.len());
    for (k, &(first, meta)) in runs.iter().enumerate() {
        let last = runs.get(k + 1).map_or(batch.ends.len(), |r| r.0);
        let start = if first == 0 {
            0
        } else {
            batch.ends[first - 1] as usize
        };
        let end = if last == 0 {
            0
        } else {
            batch.ends[last - 1] as usize
        };
        let mut b = Batch {
            sample: batch.sample,
            output: batch.output,
            meta: meta.clone(),
            ..Batch::default()
        };
        b.bytes.extend_from_slice(&batch.bytes[start..end]);
        b.ends
            .extend(batch.ends[first..last].iter().map(|e| e - start as u32));
        b.raw_bytes = batch.raw_bytes * (last - first) as u64 / batch.ends.len().max(1) as u64;
        b.last_time = batch.last_time;
        out.push(b);
    }
    out
}

/// The reducer: writes batches in sequence order, flushes when idle, recycles batches.
fn reduce(
    rx: Receiver<Delivery>,
    pools: Vec<Sender<Batch>>,
    sinks: Vec<Box<dyn Sink>>,
    names: Vec<String>,
    metrics: &Metrics,
    stop: &AtomicBool,
    scheduled: &OnceLock<Instant>,
) -> Reduced {
    let n = sinks.len();
    let mut r = Reducer {
        sinks,
        names,
        dirty: vec![false; n],
        failed: vec![false; n],
        handed: vec![0; n],
        lost: vec![0; n],
        errors: 0,
        broken: false,
        metrics,
        stop,
        pools,
    };
    // Parts that came before their turn, keyed by (job, part).
    let mut pending: BTreeMap<(u64, u32), Delivery> = BTreeMap::new();
    let mut next = (0u64, 0u32);
    loop {
        let item = match rx.try_recv() {
            Ok(item) => Some(item),
            Err(crossbeam_channel::TryRecvError::Empty) => {
                r.flush_idle();
                rx.recv().ok()
            }
            Err(crossbeam_channel::TryRecvError::Disconnected) => None,
        };
        let Some(d) = item else { break };
        pending.insert((d.seq, d.part), d);
        while let Some(d) = pending.remove(&next) {
            metrics.queued_batches.fetch_sub(1, Ordering::Relaxed);
            next = if d.last {
                (d.seq + 1, 0)
            } else {
                (d.seq, d.part + 1)
            };
            r.deliver(d);
        }
    }
    // Anything left (the run stopped early) goes out in order.
    for (_, d) in std::mem::take(&mut pending) {
        metrics.queued_batches.fetch_sub(1, Ordering::Relaxed);
        r.deliver(d);
    }
    let deadline = finish_deadline(stop, scheduled);
    let mut summaries = Vec::new();
    for o in 0..n {
        match r.sinks[o].finish(deadline) {
            Ok(Some(s)) => summaries.push(s),
            Ok(None) => {}
            Err(e) => r.io_error(o, &e),
        }
    }
    let outputs = (0..n)
        .map(|o| OutputReport {
            name: r.names[o].clone(),
            events: r.handed[o],
            // A sink that settles events after `write` returned counts its own failures.
            failed: r.sinks[o].failed_events().unwrap_or(r.lost[o]),
        })
        .collect();
    Reduced {
        errors: r.errors,
        broken: r.broken,
        summaries,
        outputs,
    }
}

/// Until when the outputs may deliver what they hold: shortly after a stop request, else the
/// finish grace counted from the end of scheduling.
fn finish_deadline(stop: &AtomicBool, scheduled: &OnceLock<Instant>) -> Instant {
    if stop.load(Ordering::Relaxed) {
        return Instant::now() + STOP_GRACE;
    }
    scheduled.get().copied().unwrap_or_else(Instant::now) + FINISH_GRACE
}

/// The scheduler: fires each sample on absolute deadlines and turns firings into jobs.
/// Returns each sample's counter values and replay position at the end, for the state folder.
#[allow(clippy::too_many_arguments)]
fn schedule(
    plan: &Plan,
    mut clock: Clock,
    stop: &Arc<AtomicBool>,
    jobs: &mut Dispatch,
    stats: &Stats,
    seed: u64,
    resume_positions: &[usize],
    starts: &[Vec<i64>],
    probe: &mut SizeProbe,
) -> (Vec<Vec<i64>>, Vec<usize>) {
    let t0 = clock.now();
    let mut sched_rng = Rng::derive(seed, u64::MAX);
    let mut states: Vec<SampleState> = plan
        .samples
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let first = t0 + s.delay;
            let backfill_from = s
                .backfill
                .as_ref()
                .map(|b| b.resolve(s.tz.datetime(first)).timestamp_micros())
                .filter(|&b| b < first);
            let resume = s.replay.as_ref().map_or(0, |rp| {
                let pos = resume_positions.get(i).copied().unwrap_or(0);
                if pos < rp.offsets.len() { pos } else { 0 }
            });
            let skip = s
                .replay
                .as_ref()
                .map_or(0, |rp| rp.offsets.get(resume).copied().unwrap_or(0));
            SampleState {
                next: first,
                executions: 0,
                scheduled: 0,
                backfill_from,
                jobs: 0,
                done: matches!(s.end, End::Intervals(0))
                    || s.replay.as_ref().is_some_and(|rp| rp.offsets.is_empty()),
                pdv_target_bytes: 0.0,
                pass_start: first - skip,
                replay_next: resume,
                counters: starts[i].clone(),
                prefix: s.counter_prefix(),
                cycle_len: match &s.generator {
                    Generator::Counter(c) => crate::generate::counter::cycle_len(c, s.count),
                    _ => 1,
                },
            }
        })
        .collect();
    stats.set_span(
        states
            .iter()
            .map(|st| st.backfill_from.unwrap_or(st.next))
            .min()
            .unwrap_or(t0),
        run_end(plan, &states, t0),
    );
    let mut heap: BinaryHeap<Reverse<(Micros, usize)>> = states
        .iter()
        .enumerate()
        .filter(|(_, st)| !st.done)
        .map(|(i, st)| Reverse((st.next, i)))
        .collect();
    while let Some(Reverse((deadline, i))) = heap.pop() {
        let s = &plan.samples[i];
        jobs.metrics
            .set_due(deadline, s.interval.max(MICROS_PER_SEC), i);
        if let End::Until(t) = &s.end {
            let limit = t.resolve(s.tz.datetime(t0)).timestamp_micros();
            if deadline >= limit {
                states[i].done = true;
                continue;
            }
        }
        if !clock.wait_until(deadline, stop) {
            break;
        }
        if let Some(rp) = &s.replay {
            stats.set_position(deadline);
            // On the virtual clock nothing waits: a job may take the events that come before
            // the next firing of any other sample (and before `end`), which keeps the order
            // of the output and spares a job per event.
            let ahead = clock.is_virtual().then(|| Ahead {
                next_other: heap.peek().map(|Reverse(x)| *x),
                until: match &s.end {
                    End::Until(t) => Some(t.resolve(s.tz.datetime(t0)).timestamp_micros()),
                    _ => None,
                },
            });
            match fire_replay(
                s,
                i,
                rp,
                &mut states[i],
                deadline,
                clock.now(),
                ahead,
                seed,
                jobs,
            ) {
                Err(()) => break,
                Ok(None) => states[i].done = true,
                Ok(Some(next)) => heap.push(Reverse((next, i))),
            }
            continue;
        }
        let now = deadline;
        let step = if s.interval > 0 {
            s.interval
        } else {
            MICROS_PER_SEC
        };
        // Backfill: the past, slice by slice, in time order.
        if let Some(from) = states[i].backfill_from.take() {
            let mut t = from;
            while t < now {
                if jobs.stopped() {
                    return positions(&states);
                }
                let hi = (t + step).min(now);
                let wall = s.tz.datetime(t);
                let count = firing_count(
                    s,
                    (t, &wall),
                    &mut sched_rng,
                    probe,
                    i,
                    &mut states[i],
                    step,
                );
                if !emit(
                    plan,
                    i,
                    &mut states[i],
                    (t, hi - 1),
                    count,
                    seed,
                    &mut sched_rng,
                    jobs,
                ) {
                    return positions(&states);
                }
                stats.set_position(hi);
                t = hi;
            }
        }
        let wall = s.tz.datetime(now);
        let lo = s.earliest.resolve(wall).timestamp_micros();
        let hi = s.latest.resolve(wall).timestamp_micros();
        let (lo, hi) = if lo > hi {
            // Reported at plan time when both are fixed; relative windows can still cross.
            (hi, lo)
        } else {
            (lo, hi)
        };
        let count = firing_count(
            s,
            (now, &wall),
            &mut sched_rng,
            probe,
            i,
            &mut states[i],
            step,
        );
        if !emit(
            plan,
            i,
            &mut states[i],
            (lo, hi),
            count,
            seed,
            &mut sched_rng,
            jobs,
        ) {
            break;
        }
        stats.set_position(deadline);
        let st = &mut states[i];
        st.executions += 1;
        if let End::Intervals(n) = s.end
            && st.executions >= n
        {
            st.done = true;
            continue;
        }
        st.next = deadline + step;
        heap.push(Reverse((st.next, i)));
    }
    positions(&states)
}

fn positions(states: &[SampleState]) -> (Vec<Vec<i64>>, Vec<usize>) {
    (
        states.iter().map(|s| s.counters.clone()).collect(),
        states.iter().map(|s| s.replay_next).collect(),
    )
}

/// Most events one replay backfill may produce (a guard against tiny gaps over long windows).
const REPLAY_BACKFILL_LIMIT: usize = 10_000_000;

/// How far past its deadline a replay firing may take events (virtual clock only).
#[derive(Clone, Copy)]
struct Ahead {
    /// The next firing of any other sample, as the scheduler orders them.
    next_other: Option<(Micros, usize)>,
    /// The sample's `end` time.
    until: Option<Micros>,
}

impl Ahead {
    /// Whether the event of sample `i` at `t` would be fired before anything else.
    fn allows(&self, t: Micros, i: usize) -> bool {
        self.next_other.is_none_or(|other| (t, i) < other) && self.until.is_none_or(|u| t < u)
    }
}

/// One replay firing: the backfill (first time only), then every event due by `now` (or
/// allowed by `ahead`), at most `JOB_EVENTS`.
/// Returns the next deadline, `None` when the sample has ended, `Err` when the run stops.
#[allow(clippy::too_many_arguments)]
fn fire_replay(
    s: &SamplePlan,
    i: usize,
    rp: &crate::plan::replay::ReplayPlan,
    st: &mut SampleState,
    deadline: Micros,
    now: Micros,
    ahead: Option<Ahead>,
    seed: u64,
    jobs: &mut Dispatch,
) -> Result<Option<Micros>, ()> {
    let n = rp.offsets.len();
    let stop = jobs.queue.stop;
    let mut send = |st: &mut SampleState, first: usize, times: Vec<Micros>| -> Result<(), ()> {
        let count = times.len() as u64;
        let counter_base = advance_counters(st, first as u64, count);
        let job = Job {
            seq: 0,
            sample: i,
            earliest: times[0],
            latest: *times.last().unwrap_or(&times[0]),
            count,
            position: first as u64,
            counter_base,
            rng_seed: Rng::derive(seed, ((i as u64) << 40) ^ st.jobs).next_u64(),
            index: None,
            cycle: (st.executions, count),
            times,
        };
        if !jobs.send(job, st.jobs) {
            return Err(());
        }
        st.jobs += 1;
        st.scheduled += count;
        Ok(())
    };
    if let Some(from) = st.backfill_from.take() {
        // Walk the sample backwards from the live pass's start: the gap before event 0 of a
        // pass is the pause between passes (`interval`).
        let mut picked: Vec<(usize, Micros)> = Vec::new();
        let mut t = st.pass_start;
        let mut k = n - 1;
        if rp.span() > 0 || s.interval > 0 {
            loop {
                let gap = if k == n - 1 {
                    s.interval
                } else {
                    rp.offsets[k + 1] - rp.offsets[k]
                };
                t -= gap;
                if picked.len().is_multiple_of(JOB_EVENTS as usize) && stop.load(Ordering::Relaxed)
                {
                    return Err(());
                }
                if t < from || picked.len() >= REPLAY_BACKFILL_LIMIT {
                    break;
                }
                picked.push((k, t));
                k = if k == 0 { n - 1 } else { k - 1 };
            }
        }
        picked.reverse();
        // Consecutive runs of event indices go out as jobs.
        let mut start = 0;
        while start < picked.len() {
            let mut end = start + 1;
            while end < picked.len()
                && picked[end].0 == picked[end - 1].0 + 1
                && end - start < JOB_EVENTS as usize
            {
                end += 1;
            }
            let times = picked[start..end].iter().map(|p| p.1).collect();
            send(st, picked[start].0, times)?;
            start = end;
        }
    }
    // Every event due by now (virtual clock: exactly those due at this deadline).
    let due = now.max(deadline);
    let first = st.replay_next;
    let mut k = first;
    let mut times = Vec::new();
    while k < n && times.len() < JOB_EVENTS as usize {
        let t = st.pass_start + rp.offsets[k];
        if t > due && !ahead.is_some_and(|a| a.allows(t, i)) {
            break;
        }
        times.push(t);
        k += 1;
    }
    if times.is_empty() {
        times.push(deadline);
        k = first + 1;
    }
    let last = *times.last().unwrap_or(&deadline);
    send(st, first, times)?;
    st.replay_next = k;
    if k < n {
        return Ok(Some(st.pass_start + rp.offsets[k]));
    }
    st.executions += 1;
    st.replay_next = 0;
    if let End::Intervals(passes) = s.end
        && st.executions >= passes
    {
        return Ok(None);
    }
    st.pass_start = last + s.interval;
    Ok(Some(st.pass_start))
}

/// The event time at which the whole run ends, for the progress display: the latest end of
/// any sample, or, if one runs forever, the end of the backfill (now); `None` if neither.
fn run_end(plan: &Plan, states: &[SampleState], t0: Micros) -> Option<Micros> {
    let ends: Option<Vec<Micros>> = plan
        .samples
        .iter()
        .zip(states)
        .map(|(s, st)| {
            let step = if s.interval > 0 {
                s.interval
            } else {
                MICROS_PER_SEC
            };
            match &s.end {
                _ if st.done => Some(st.next),
                End::Until(t) => Some(t.resolve(s.tz.datetime(t0)).timestamp_micros()),
                End::Intervals(n) if s.replay.is_none() => {
                    Some(st.next + (*n as i64 - 1).max(0) * step)
                }
                _ => None,
            }
        })
        .collect();
    match ends {
        Some(ends) => ends.into_iter().max(),
        None => states
            .iter()
            .any(|st| st.backfill_from.is_some())
            .then_some(t0),
    }
}

/// Events (or cycles) of one firing of a sample, live or backfill, at time `t`.
fn firing_count(
    s: &SamplePlan,
    (t, wall): (Micros, &chrono::DateTime<chrono::FixedOffset>),
    rng: &mut Rng,
    probe: &mut SizeProbe,
    i: usize,
    st: &mut SampleState,
    step: Micros,
) -> u64 {
    if let Some(n) = fixed_count(s) {
        return n;
    }
    match s.per_day_volume {
        Some(gb) => per_day_volume_count(s, gb, (t, wall), rng, probe, i, st, step),
        None => s.rates.rated_count(base_count(s), wall, rng),
    }
}

/// The events of every firing, for generators whose count the rates do not change.
pub(crate) fn fixed_count(s: &SamplePlan) -> Option<u64> {
    match &s.generator {
        // Cycles: -1 and 0 mean one.
        Generator::Counter(_) | Generator::Jinja(..) => Some(s.count.max(1)),
        // Eventgen's windbag turns -1 into 60 events.
        Generator::Windbag if s.count == 0 => Some(60),
        Generator::Windbag => Some(s.count),
        _ => None,
    }
}

pub(crate) fn base_count(s: &SamplePlan) -> u64 {
    if s.count == 0 {
        s.events.len() as u64
    } else {
        s.count
    }
}

/// The perDayVolume budget of one firing turned into events, with the average event size
/// of the probes so far (see [`SizeProbe`]).
#[allow(clippy::too_many_arguments)]
fn per_day_volume_count(
    s: &SamplePlan,
    gb: f64,
    (t, wall): (Micros, &chrono::DateTime<chrono::FixedOffset>),
    rng: &mut Rng,
    probe: &mut SizeProbe,
    i: usize,
    st: &mut SampleState,
    step: Micros,
) -> u64 {
    let factor = s.rates.random_factor(rng) * s.rates.calendar_factor(wall);
    st.pdv_target_bytes += gb * 1024.0 * 1024.0 * 1024.0 * (step as f64 / 1e6) / 86_400.0 * factor;
    if factor <= 0.0 {
        // A rate of zero means nothing in this interval, whatever is owed from before.
        return 0;
    }
    // A first guess of this firing's count decides how many of its first events to probe.
    let guess = probe.mean(i).unwrap_or_else(|| template_average(s));
    let expected = ((st.pdv_target_bytes / guess).round() as i64 - st.scheduled as i64).max(1);
    let avg = probe.average(i, st.jobs, t, &st.counters, expected as u64);
    let want = (st.pdv_target_bytes / avg).round() as i64 - st.scheduled as i64;
    want.max(0) as u64
}

/// The sample's average line length before anything was rendered.
pub(crate) fn template_average(s: &SamplePlan) -> f64 {
    if s.events.is_empty() {
        return 1.0;
    }
    let total: usize = s.events.iter().map(|e| e.template.text.len()).sum();
    (total as f64 / s.events.len() as f64).max(1.0)
}

/// The counter base of a job covering positions `[position, position + count)`, and the
/// sample's counters moved past those events.
fn advance_counters(st: &mut SampleState, position: u64, count: u64) -> Vec<i64> {
    let mut base = Vec::with_capacity(st.counters.len());
    for (c, pre) in st.prefix.iter().enumerate() {
        let before = crate::plan::matches_before(pre, position) as i64;
        let after = crate::plan::matches_before(pre, position + count) as i64;
        // Wrapping, as the counters themselves are (see `Worker`).
        base.push(st.counters[c].wrapping_sub(before));
        st.counters[c] = st.counters[c].wrapping_add(after - before);
    }
    base
}

/// How the scheduler cuts one firing of a sample into jobs.
struct Split {
    /// Units (events, or jinja cycles) of the firing.
    units: u64,
    /// Most units in one job.
    per_job: u64,
    /// Each job gets its share of the window (sample path); otherwise every job gets the
    /// whole window and places its events by their position in the firing.
    slice_window: bool,
}

/// The jobs of one firing of `count` (events, or cycles for counter and jinja). The cut
/// depends only on the plan and the count, never on the number of workers, so seeded runs
/// are the same with any `--generators`.
fn split(s: &SamplePlan, st: &SampleState, count: u64) -> Split {
    let (units, per_job, slice_window) = match &s.generator {
        Generator::Sample | Generator::Replay => (count, JOB_EVENTS, true),
        Generator::Windbag => (count, PLAIN_JOB_EVENTS, false),
        Generator::Counter(c) => (
            crate::generate::counter::cycles(c, count) * st.cycle_len,
            PLAIN_JOB_EVENTS,
            false,
        ),
        // line_count renders until enough lines came out: one job, streamed in batches.
        Generator::Jinja(_, crate::plan::JinjaCount::Lines) => (count, u64::MAX, false),
        Generator::Jinja(..) => (count, JINJA_JOB_CYCLES, false),
    };
    Split {
        units,
        per_job,
        slice_window,
    }
}

/// Splits a firing into jobs (see [`split`]) and queues them.
#[allow(clippy::too_many_arguments)]
fn emit(
    plan: &Plan,
    i: usize,
    st: &mut SampleState,
    (lo, hi): (Micros, Micros),
    count: u64,
    seed: u64,
    rng: &mut Rng,
    jobs: &mut Dispatch,
) -> bool {
    let s = &plan.samples[i];
    let index =
        (!s.extend_indexes.is_empty()).then(|| rng.below(s.extend_indexes.len() as u64) as usize);
    let Split {
        units,
        per_job,
        slice_window,
    } = split(s, st, count);
    let cycles = match &s.generator {
        Generator::Counter(c) => crate::generate::counter::cycles(c, count),
        _ => count,
    };
    let parts = units.div_ceil(per_job).max(1);
    let span = (hi - lo) as i128;
    let mut done = 0u64;
    for p in 0..parts {
        let n = units / parts + u64::from(p < units % parts);
        let (plo, phi) = if slice_window {
            let plo = lo + (span * p as i128 / parts as i128) as i64;
            let phi = if p + 1 == parts {
                hi
            } else {
                lo + (span * (p + 1) as i128 / parts as i128) as i64 - 1
            };
            (plo, phi.max(plo))
        } else {
            (lo, hi)
        };
        let job = Job {
            seq: 0,
            sample: i,
            earliest: plo,
            latest: phi,
            count: n,
            position: done,
            counter_base: advance_counters(st, done, n),
            rng_seed: Rng::derive(seed, ((i as u64) << 40) ^ st.jobs).next_u64(),
            index,
            cycle: (st.executions, cycles),
            times: Vec::new(),
        };
        if !jobs.send(job, st.jobs) {
            return false;
        }
        st.jobs += 1;
        done += n;
    }
    st.scheduled += count;
    true
}
