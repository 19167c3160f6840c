//! Runs a plan: one scheduler (this thread), `generatorWorkers` worker threads and one output
//! reducer thread, joined by bounded channels, so a slow output slows generation instead of
//! growing memory. Batches come back to the workers through a recycling channel.
//!
//! The files follow an event's path: [`sinks`] opens the outputs, [`state`] reads the
//! checkpoints, [`schedule`] decides when each sample fires, [`count`] how many events a firing
//! makes, [`jobs`] cuts a firing into jobs ([`replay`] for replay samples), [`dispatch`] queues
//! this shard's jobs, [`workers`] render them into batches, and the [`reducer`] writes the
//! batches in order to the outputs and counts what was delivered.

mod carry;
mod count;
mod dispatch;
mod jobs;
mod reducer;
mod replay;
mod schedule;
mod sinks;
mod state;
#[cfg(test)]
mod testing;
mod workers;

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::bounded;

use crate::generate::probe::SizeProbe;
use crate::generate::{Job, SharedCounters};
use crate::log;
use crate::metrics::server::MetricsServer;
use crate::metrics::{Metrics, Reporter};
use crate::plan::{OutputSpec, Plan};
use crate::progress::{Progress, ProgressOptions};
use crate::rng::Rng;
use crate::shard::Shard;
use crate::signal::Done;
use crate::stats::Stats;
use crate::timing::clock::Clock;

use carry::Carry;
pub(crate) use count::{base_count, fixed_count, template_average};
use dispatch::{Dispatch, JobQueue};
use reducer::{Delivery, Reduced};
use schedule::Segment;
pub use sinks::register_secrets;

/// Jobs or batches in flight per worker.
const QUEUE_PER_WORKER: usize = 4;
/// How long outputs may take to deliver what is pending at the end of a run that ended by
/// itself. After that, blocked outputs give up and count what they still held as failed.
const FINISH_GRACE: Duration = Duration::from_secs(10);
/// How often a thread blocked on a full queue looks at the stop flag.
const STOP_POLL: Duration = Duration::from_millis(20);

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

/// Runs the plan until every sample has ended or `stop` is raised.
pub fn run(plan: Plan, opts: RunOptions) -> io::Result<RunReport> {
    let clock = opts.clock;
    let mut outputs = sinks::OutputPool::default();
    run_segment(plan, &opts, clock, &mut outputs, Segment::default()).map(|s| s.report)
}

/// Runs the plan like [`run`], and when `watch` is given, watches the files it came from: a
/// changed configuration without errors takes over at each sample's next firing (see
/// [`crate::reload`]), with the same outputs, and the run goes on until the last plan ends.
pub fn run_reloading(
    plan: Plan,
    opts: RunOptions,
    watch: Option<crate::reload::Watch>,
) -> io::Result<RunReport> {
    let Some(watch) = watch else {
        return run(plan, opts);
    };
    let watching = Arc::new(Done::new());
    let reloader = crate::reload::spawn(&plan, watch, watching.clone())?;
    let mut outputs = sinks::OutputPool::default();
    let mut total = RunReport::default();
    let (mut plan, mut clock, mut carry) = (plan, opts.clock, None);
    let result = loop {
        let segment = Segment {
            carry: carry.as_ref(),
            reload: Some(&reloader),
        };
        let done = match run_segment(plan, &opts, clock, &mut outputs, segment) {
            Ok(done) => done,
            Err(e) => break Err(e),
        };
        total.add(done.report);
        match (done.carry, reloader.take()) {
            (Some(c), Some(next)) => {
                clock = match opts.clock {
                    Clock::Virtual { .. } => Clock::Virtual { now: c.at },
                    Clock::Real => Clock::Real,
                };
                plan = next;
                carry = Some(c);
            }
            _ => break Ok(total),
        }
    };
    watching.raise();
    result
}

impl RunReport {
    /// Adds a later segment of the same run (a reload): per sample and per output by name.
    fn add(&mut self, later: RunReport) {
        self.events += later.events;
        self.bytes += later.bytes;
        self.elapsed += later.elapsed;
        self.output_errors += later.output_errors;
        self.broken_pipe |= later.broken_pipe;
        for o in later.outputs {
            match self.outputs.iter_mut().find(|x| x.name == o.name) {
                Some(x) => {
                    x.events += o.events;
                    x.failed += o.failed;
                }
                None => self.outputs.push(o),
            }
        }
        for (name, events, bytes) in later.per_sample {
            match self.per_sample.iter_mut().find(|x| x.0 == name) {
                Some(x) => {
                    x.1 += events;
                    x.2 += bytes;
                }
                None => self.per_sample.push((name, events, bytes)),
            }
        }
    }
}

/// What one segment of a run did, and where it stopped if it stopped for a reload.
struct SegmentDone {
    report: RunReport,
    carry: Option<Carry>,
}

/// Runs `plan` on `clock` with the outputs of `pool` until every sample has ended, `stop` is
/// raised, or (with `segment.reload`) a new plan waits.
fn run_segment(
    mut plan: Plan,
    opts: &RunOptions,
    clock: Clock,
    pool: &mut sinks::OutputPool,
    segment: Segment,
) -> io::Result<SegmentDone> {
    pool.adopt(&mut plan);
    register_secrets(&plan);
    let plan = Arc::new(plan);
    let started = Instant::now();
    let stats = Arc::new(Stats::new(plan.samples.len()));
    let mut metrics = Metrics::new(&plan, stats.clone(), opts.shard, clock.is_virtual());
    let names: Vec<String> = plan.outputs.iter().map(OutputSpec::describe).collect();
    let sinks::Opened { sinks, shutdowns } =
        pool.open(&plan, opts.modinput_stream, &mut metrics)?;
    let metrics = Arc::new(metrics);
    let done = Arc::new(Done::new());
    let scheduled = Arc::new(OnceLock::<Instant>::new());
    let (server, reporter) = spawn_metrics(opts, plan.output_counter, &metrics, &done)?;
    let watcher = sinks::spawn_stop_watch(shutdowns, &opts.stop, &done, &scheduled)?;
    let workers = plan.generator_workers.max(1);
    let (job_tx, job_rx) = bounded::<Job>(workers * QUEUE_PER_WORKER);
    let (out_tx, out_rx) = bounded::<Delivery>(workers * QUEUE_PER_WORKER);
    let fresh = state::counter_starts(&plan);
    let starts = Arc::new(match segment.carry {
        Some(c) => c.counter_starts(&plan, fresh),
        None => fresh,
    });
    let shared = Arc::new(SharedCounters::new(
        &plan,
        &starts,
        opts.shard.index as i64,
        opts.shard.count as i64,
    ));
    let seed = match segment.carry {
        Some(c) => c.seed,
        None => plan.seed.unwrap_or_else(|| Rng::from_entropy().next_u64()),
    };
    let mut probe = SizeProbe::new(plan.clone(), &starts, seed);

    let workers::Workers { handles, pools } = workers::spawn(
        workers, &plan, &shared, &metrics, &opts.stop, &job_rx, &out_tx,
    )?;
    drop(job_rx);
    drop(out_tx);

    let reducer_metrics = metrics.clone();
    let stop_r = opts.stop.clone();
    let scheduled_r = scheduled.clone();
    // Set when the scheduler stops for a reload: the outputs stay open for the next plan.
    let keep_open = Arc::new(AtomicBool::new(false));
    let keep_open_r = keep_open.clone();
    let reducer = std::thread::Builder::new()
        .name("output".into())
        .spawn(move || {
            reducer::reduce(
                out_rx,
                pools,
                sinks,
                names,
                &reducer_metrics,
                &stop_r,
                &scheduled_r,
                &keep_open_r,
            )
        })?;

    let progress = Progress::start(opts.progress, stats.clone());
    let resume = state::replay_positions(&plan);
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
    let scheduled_at = schedule::schedule(
        &plan,
        clock,
        &opts.stop,
        &mut dispatch,
        &stats,
        seed,
        &resume,
        &starts,
        &mut probe,
        segment,
    );
    let (final_counters, replay_next) = scheduled_at.positions();
    metrics.set_idle();
    drop(queue);
    if scheduled_at.boundary.is_some() {
        keep_open.store(true, Ordering::Relaxed);
    } else {
        // The finish grace starts (only when the run ends: a reload keeps the outputs).
        let _ = scheduled.set(Instant::now());
    }
    for h in handles {
        let _ = h.join();
    }
    let mut reduced = reducer.join().unwrap_or_else(|_| Reduced {
        errors: 1,
        ..Reduced::default()
    });
    let kept = !reduced.kept.is_empty() || plan.outputs.is_empty();
    pool.give_back(std::mem::take(&mut reduced.kept));
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
    if reduced.unread > 0 {
        log::info(&format!(
            "the reader closed standard output; {} events were not written",
            reduced.unread
        ));
    }
    for o in reduced.outputs.iter().filter(|o| o.failed > 0) {
        log::error(&format!(
            "output {}: {} of {} events not delivered",
            o.name, o.failed, o.events
        ));
    }
    state::save_counters(&plan, &shared, &final_counters);
    state::save_replay_positions(&plan, &replay_next);
    let carry = match scheduled_at.boundary {
        Some(at) if kept => Some(Carry::new(
            &plan,
            &scheduled_at.states,
            &state::next_counters(&plan, &shared, &final_counters),
            (scheduled_at.t0, at),
            seed,
            scheduled_at.rng,
        )),
        _ => None,
    };
    let report = RunReport {
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
    };
    Ok(SegmentDone { report, carry })
}

/// The metrics server (`--metrics`) and the thread that logs the metrics periodically.
type MetricsThreads = (Option<JoinHandle<()>>, JoinHandle<()>);

fn spawn_metrics(
    opts: &RunOptions,
    output_counter: bool,
    metrics: &Arc<Metrics>,
    done: &Arc<Done>,
) -> io::Result<MetricsThreads> {
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
            throughput_every: output_counter.then(crate::metrics::throughput_every),
        };
        let done = done.clone();
        std::thread::Builder::new()
            .name("reporter".into())
            .spawn(move || r.run(&done))?
    };
    Ok((server, reporter))
}
