//! The HEC sink: payloads go through a bounded queue to sender threads, `max_in_flight` per
//! server, each with its own channel GUID, sharing the server's HTTP client (a pool of as many
//! keep-alive connections as there are senders).
//!
//! `roundrobin` shares one queue among all servers' senders, so a payload goes to whichever
//! healthy server is free and a failed payload is picked up by another server. `mirror` gives
//! each server its own queue and a copy of every payload. A failing server cools down with
//! exponential backoff; a server refusing the token (or TLS trust) is dead for the run. When the
//! queue is full, [`Sink::write`] blocks (back-pressure up to the generators) and says why every
//! few seconds. Nothing is dropped silently: every event ends up sent, failed (counted, logged)
//! or reported as not delivered by [`Sink::finish`], whose deadline also bounds every request
//! started after it was called; a sender still stuck in an older request is left behind.

use std::collections::HashSet;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::config::{HecConfig, OutputMode, ServerConfig};
use super::request::{Payload, PayloadBuilder};
use crate::output::http::{self, Client, ClientOptions};
use crate::output::netcore::{Health, NetStats, Shutdown, log};
use crate::output::{Batch, Sink};

/// Payloads queued per queue before `write` blocks: with the default 10 kB payloads about
/// 1 MB, enough to keep every sender busy while a server hiccups.
const QUEUE_PAYLOADS: usize = 128;
/// How often a blocked `write` repeats its warning.
const WAIT_WARN_EVERY: Duration = Duration::from_secs(5);
/// Longest a sender sleeps before looking at the queue, the clock and the stop flag again.
pub(super) const TICK: Duration = Duration::from_millis(100);
/// Connecting gets at most this long, even with a long `httpeventTimeout`.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long stopping waits for a sender to leave a request that started before the finish
/// deadline was known; after that the thread is left to end on its own timeout.
const JOIN_GRACE: Duration = Duration::from_millis(500);

use super::queue::{Job, Queue};
use super::sender::Sender;

pub(super) struct Server {
    pub(super) name: String,
    pub(super) client: Client,
    /// `https://host:8088`, to which the endpoint paths are appended.
    pub(super) url: String,
    pub(super) auth: String,
    pub(super) queue: usize,
    pub(super) health: Health,
}

pub(super) struct Shared {
    pub(super) config: HecConfig,
    pub(super) servers: Vec<Server>,
    pub(super) queues: Vec<Queue>,
    pub(super) stats: Arc<NetStats>,
    /// Leave now: the deadline has passed.
    pub(super) stop: AtomicBool,
    /// No more writes: leave once nothing is outstanding.
    pub(super) closing: AtomicBool,
    pub(super) shutdown: Shutdown,
    /// The finish deadline once known: no request may run past it.
    pub(super) deadline: Mutex<Option<Instant>>,
    pub(super) progress: (Mutex<()>, Condvar),
    /// Kinds of refusals already logged (each is logged once).
    pub(super) logged: Mutex<HashSet<String>>,
}

impl Shared {
    pub(super) fn resolve(&self, events: u64) {
        NetStats::sub(&self.stats.outstanding, events);
        self.progress.1.notify_all();
    }

    pub(super) fn fail(&self, events: u64) {
        NetStats::add(&self.stats.failed, events);
        self.resolve(events);
    }

    pub(super) fn once(&self, kind: &str) -> bool {
        self.logged
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(kind.to_string())
    }

    pub(super) fn requeue(&self, queue: usize, job: Job) {
        NetStats::add(&self.stats.queued, job.events());
        self.queues[queue].push_front(job);
    }

    /// Marks a server dead for the run. In `mirror` its queue is failed; when no server is
    /// left, everything queued is failed and the output is fatal.
    pub(super) fn kill(&self, s: usize, why: &str) {
        let server = &self.servers[s];
        if !server.health.kill(why) {
            return;
        }
        let all_dead = self.servers.iter().all(|s| s.health.is_dead());
        if all_dead {
            self.stats.fatal.store(true, Ordering::SeqCst);
            log::error(format_args!(
                "HEC: no server left to send to; the output stops"
            ));
        }
        if all_dead || self.config.mode == OutputMode::Mirror {
            for job in self.queues[server.queue].drain() {
                NetStats::sub(&self.stats.queued, job.events());
                self.fail(job.events());
            }
        }
        self.progress.1.notify_all();
    }

    /// Why a write is waiting, for the periodic warning.
    fn wait_reason(&self) -> String {
        let now = Instant::now();
        let failing: Vec<String> = self
            .servers
            .iter()
            .filter_map(|s| s.health.status(now))
            .collect();
        if failing.is_empty() {
            "the servers accept events more slowly than they are generated".to_string()
        } else {
            failing.join("; ")
        }
    }
}

/// The `httpevent` / `metric_httpevent` sink.
pub struct HecSink {
    shared: Arc<Shared>,
    builder: PayloadBuilder,
    workers: Vec<JoinHandle<()>>,
    payloads: Vec<Payload>,
    finished: bool,
}

impl HecSink {
    /// Starts the senders. Fails only on TLS or proxy setup problems.
    pub fn new(config: HecConfig) -> Result<HecSink, String> {
        let mut servers = Vec::new();
        for (i, s) in config.servers.iter().enumerate() {
            servers.push(server(s, i, &config)?);
        }
        let queues = match config.mode {
            OutputMode::RoundRobin => vec![Queue::new()],
            OutputMode::Mirror => config.servers.iter().map(|_| Queue::new()).collect(),
        };
        let senders = servers.len() * config.max_in_flight;
        let builder = PayloadBuilder::new(config.max_payload, config.endpoint);
        let shared = Arc::new(Shared {
            config,
            servers,
            queues,
            stats: Arc::new(NetStats::default()),
            stop: AtomicBool::new(false),
            closing: AtomicBool::new(false),
            shutdown: Shutdown::default(),
            deadline: Mutex::new(None),
            progress: (Mutex::new(()), Condvar::new()),
            logged: Mutex::new(HashSet::new()),
        });
        let mut workers = Vec::new();
        for id in 0..senders {
            let sh = shared.clone();
            let s = id / sh.config.max_in_flight;
            let handle = thread::Builder::new()
                .name(format!("hec-{s}-{}", id % sh.config.max_in_flight))
                .spawn(move || Sender::new(sh, s).run())
                .map_err(|e| format!("cannot start a HEC sender thread: {e}"))?;
            workers.push(handle);
        }
        Ok(HecSink {
            shared,
            builder,
            workers,
            payloads: Vec::new(),
            finished: false,
        })
    }

    /// The counters, for progress lines.
    pub fn stats(&self) -> Arc<NetStats> {
        self.shared.stats.clone()
    }

    /// A handle that makes blocked writes give up (on SIGTERM).
    pub fn shutdown_handle(&self) -> Shutdown {
        self.shared.shutdown.clone()
    }

    fn fatal_error(&self) -> io::Error {
        io::Error::other("HEC output stopped: every server refused the token or TLS certificate")
    }

    /// Queues a payload for its server(s), blocking while the queue is full. `deadline` bounds
    /// the wait (at finish).
    fn enqueue(&mut self, payload: Payload, deadline: Option<Instant>) -> io::Result<()> {
        let sh = self.shared.clone();
        let job = Job {
            payload: Arc::new(payload),
            gzip: sh.config.gzip,
        };
        let n = job.events();
        let targets: Vec<usize> = match sh.config.mode {
            OutputMode::RoundRobin => vec![0],
            OutputMode::Mirror => (0..sh.servers.len()).collect(),
        };
        let mut result = Ok(());
        for q in targets {
            if sh.stats.fatal.load(Ordering::SeqCst)
                || (sh.config.mode == OutputMode::Mirror && sh.servers[q].health.is_dead())
            {
                NetStats::add(&sh.stats.failed, n);
                continue;
            }
            let queue = &sh.queues[q];
            let mut jobs = queue.lock();
            let started = Instant::now();
            let mut warned = started;
            while jobs.len() >= QUEUE_PAYLOADS {
                let now = Instant::now();
                let gave_up = sh.shutdown.is_triggered()
                    || sh.stats.fatal.load(Ordering::SeqCst)
                    || deadline.is_some_and(|d| now >= d);
                if gave_up {
                    break;
                }
                if now.duration_since(warned) >= WAIT_WARN_EVERY {
                    warned = now;
                    let waiting = sh.stats.queued.load(Ordering::Relaxed) + n;
                    drop(jobs);
                    log::warn(format_args!(
                        "HEC: {waiting} events waiting to be sent for {:.0}s, generation is held back: {}",
                        now.duration_since(started).as_secs_f64(),
                        sh.wait_reason()
                    ));
                    jobs = queue.lock();
                    continue;
                }
                jobs = queue
                    .changed
                    .wait_timeout(jobs, TICK)
                    .map(|(g, _)| g)
                    .unwrap_or_else(|p| p.into_inner().0);
            }
            if jobs.len() >= QUEUE_PAYLOADS {
                drop(jobs);
                NetStats::add(&sh.stats.failed, n);
                result = Err(if sh.stats.fatal.load(Ordering::SeqCst) {
                    self.fatal_error()
                } else {
                    io::Error::new(
                        io::ErrorKind::Interrupted,
                        "HEC output stopped while its queue was full",
                    )
                });
                continue;
            }
            NetStats::add(&sh.stats.outstanding, n);
            NetStats::add(&sh.stats.queued, n);
            jobs.push_back(job.clone());
            drop(jobs);
            queue.changed.notify_all();
        }
        result
    }

    fn enqueue_built(&mut self, deadline: Option<Instant>) -> io::Result<()> {
        let mut result = Ok(());
        for p in std::mem::take(&mut self.payloads) {
            if let Err(e) = self.enqueue(p, deadline) {
                result = Err(e);
            }
        }
        result
    }

    fn stop_senders(&mut self) {
        let sh = &self.shared;
        sh.stop.store(true, Ordering::SeqCst);
        for q in &sh.queues {
            q.changed.notify_all();
        }
        let grace = Instant::now() + JOIN_GRACE;
        for w in self.workers.drain(..) {
            while !w.is_finished() && Instant::now() < grace {
                thread::sleep(Duration::from_millis(5));
            }
            if w.is_finished() {
                let _ = w.join();
            }
        }
    }
}

fn server(s: &ServerConfig, i: usize, config: &HecConfig) -> Result<Server, String> {
    let client = Client::build(&ClientOptions {
        tls: s.tls.then_some(&config.tls),
        proxy: &config.proxy,
        connect_timeout: config.timeout.min(MAX_CONNECT_TIMEOUT),
        max_connections: config.max_in_flight,
    })?;
    Ok(Server {
        name: s.name(),
        client,
        url: http::base_url(s.tls, &s.address, s.port),
        auth: format!("Splunk {}", s.token),
        queue: if config.mode == OutputMode::Mirror {
            i
        } else {
            0
        },
        health: Health::new(format!("HEC {}", s.name())),
    })
}

impl Sink for HecSink {
    fn write(&mut self, batch: &Batch) -> io::Result<()> {
        if self.shared.stats.fatal.load(Ordering::SeqCst) {
            NetStats::add(&self.shared.stats.failed, batch.len() as u64);
            return Err(self.fatal_error());
        }
        let mut payloads = std::mem::take(&mut self.payloads);
        let skipped = self.builder.add_batch(batch, &mut |p| payloads.push(p));
        self.payloads = payloads;
        if skipped > 0 {
            NetStats::add(&self.shared.stats.failed, skipped);
            if self.shared.once("blank") {
                log::warn(format_args!(
                    "HEC: skipped {skipped} events that encode to nothing (blank text, or a metric without a \"fields\" object); later ones are counted as failed"
                ));
            }
        }
        self.enqueue_built(None)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.payloads.extend(self.builder.take());
        self.enqueue_built(None)
    }

    fn finish(&mut self, deadline: Instant) -> io::Result<Option<String>> {
        if self.finished {
            return Ok(None);
        }
        self.finished = true;
        self.payloads.extend(self.builder.take());
        *self
            .shared
            .deadline
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(deadline);
        let queued = self.enqueue_built(Some(deadline));
        let sh = self.shared.clone();
        sh.closing.store(true, Ordering::SeqCst);
        {
            let mut g = sh.progress.0.lock().unwrap_or_else(|p| p.into_inner());
            loop {
                let now = Instant::now();
                if sh.stats.outstanding.load(Ordering::SeqCst) == 0
                    || sh.stats.fatal.load(Ordering::SeqCst)
                    || now >= deadline
                {
                    break;
                }
                let wait = (deadline - now).min(TICK);
                g = sh
                    .progress
                    .1
                    .wait_timeout(g, wait)
                    .map(|(g, _)| g)
                    .unwrap_or_else(|p| p.into_inner().0);
            }
        }
        self.stop_senders();
        let snap = sh.stats.snapshot();
        // What is still outstanding now was not delivered: settle it, so every figure
        // (metrics, summary, `failed_events`) counts it as failed.
        sh.stats.fail(snap.outstanding);
        let mut summary = format!("HEC: {snap}");
        if snap.outstanding > 0 {
            summary.push_str(&format!(", not delivered {}", snap.outstanding));
        }
        if snap.fatal {
            return Err(io::Error::other(format!(
                "{summary}; every server refused the token or TLS certificate"
            )));
        }
        if snap.outstanding > 0 {
            return Err(io::Error::other(format!("{summary} (the deadline passed)")));
        }
        queued?;
        Ok(Some(summary))
    }

    fn failed_events(&self) -> Option<u64> {
        let snap = self.shared.stats.snapshot();
        Some(snap.failed + snap.outstanding)
    }
}

impl Drop for HecSink {
    fn drop(&mut self) {
        self.stop_senders();
    }
}
