//! The HEC sink: payloads go through a bounded queue to sender threads, `max_in_flight` per
//! server, each owning one keep-alive connection and its own channel GUID.
//!
//! `roundrobin` shares one queue among all servers' senders, so a payload goes to whichever
//! healthy server is free and a failed payload is picked up by another server. `mirror` gives
//! each server its own queue and a copy of every payload. A failing server cools down with
//! exponential backoff; a server refusing the token (or TLS trust) is dead for the run. When the
//! queue is full, [`Sink::write`] blocks (back-pressure up to the generators) and says why every
//! few seconds. Nothing is dropped silently: every event ends up sent, failed (counted, logged)
//! or reported as not delivered by [`Sink::finish`].

use std::collections::{HashSet, VecDeque};
use std::io::{self, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::ack::{ACK_POLL_INTERVAL, AckTracker, MAX_PENDING_ACKS};
use super::config::{Endpoint, HecConfig, OutputMode, ServerConfig};
use super::http::{Conn, Failure, Target, write_request};
use super::log;
use super::request::{Payload, PayloadBuilder};
use super::retry::{self, Decision, Reply, Transport};
use super::stats::HecStats;
use super::tls;
use crate::output::{Batch, Sink};
use crate::rng::Rng;

/// Payloads queued per queue before `write` blocks: with the default 10 kB payloads about
/// 1 MB, enough to keep every sender busy while a server hiccups.
const QUEUE_PAYLOADS: usize = 128;
/// How often a blocked `write` repeats its warning.
const WAIT_WARN_EVERY: Duration = Duration::from_secs(5);
/// Longest a sender sleeps before looking at the queue, the clock and the stop flag again.
const TICK: Duration = Duration::from_millis(100);
/// Connecting gets at most this long, even with a long `httpeventTimeout`.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Asks a sink to stop waiting: a `write` blocked on a full queue returns an error at once.
/// Cheap to clone; hand it to the signal handler.
#[derive(Debug, Clone, Default)]
pub struct Shutdown(Arc<AtomicBool>);

impl Shutdown {
    pub fn trigger(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_triggered(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// One payload on its way to one server (or, in `roundrobin`, to any).
#[derive(Debug, Clone)]
struct Job {
    payload: Arc<Payload>,
    gzip: bool,
}

impl Job {
    fn events(&self) -> u64 {
        self.payload.events() as u64
    }
}

struct Queue {
    jobs: Mutex<VecDeque<Job>>,
    changed: Condvar,
}

impl Queue {
    fn new() -> Queue {
        Queue {
            jobs: Mutex::new(VecDeque::new()),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, VecDeque<Job>> {
        self.jobs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Puts a job back at the front (a retry), regardless of the capacity.
    fn push_front(&self, job: Job) {
        self.lock().push_front(job);
        self.changed.notify_all();
    }

    fn pop(&self, wait: Duration) -> Option<Job> {
        let mut q = self.lock();
        if q.is_empty() {
            q = self
                .changed
                .wait_timeout(q, wait)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
        let job = q.pop_front();
        if job.is_some() {
            self.changed.notify_all();
        }
        job
    }

    fn drain(&self) -> Vec<Job> {
        let jobs: Vec<Job> = self.lock().drain(..).collect();
        self.changed.notify_all();
        jobs
    }
}

#[derive(Debug, Default)]
struct Health {
    failures: u32,
    down_until: Option<Instant>,
    last_error: String,
}

struct Server {
    name: String,
    target: Target,
    auth: String,
    queue: usize,
    health: Mutex<Health>,
    dead: AtomicBool,
}

impl Server {
    fn health(&self) -> MutexGuard<'_, Health> {
        self.health.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How long this server still cools down.
    fn cooling(&self, now: Instant) -> Option<Duration> {
        self.health()
            .down_until
            .and_then(|t| t.checked_duration_since(now))
            .filter(|d| !d.is_zero())
    }

    fn failed(&self, error: String, retry_after: Option<Duration>, rng: &mut Rng) {
        let now = Instant::now();
        let mut h = self.health();
        if h.down_until.is_some_and(|t| t > now) {
            return; // another sender already reported this outage
        }
        h.failures += 1;
        let wait = retry::backoff(h.failures, retry_after, rng);
        h.down_until = Some(now + wait);
        if h.failures == 1 || h.failures.is_power_of_two() {
            log::warn(format_args!(
                "HEC {}: {error}; retrying in {:.1}s (failure {} in a row)",
                self.name,
                wait.as_secs_f64(),
                h.failures
            ));
        }
        h.last_error = error;
    }

    fn succeeded(&self) {
        let mut h = self.health();
        if h.failures > 0 {
            log::info(format_args!(
                "HEC {}: sending again after {} failed attempts",
                self.name, h.failures
            ));
            h.failures = 0;
            h.down_until = None;
        }
    }
}

struct Shared {
    config: HecConfig,
    servers: Vec<Server>,
    queues: Vec<Queue>,
    stats: Arc<HecStats>,
    /// Leave now: the deadline has passed.
    stop: AtomicBool,
    /// No more writes: leave once nothing is outstanding.
    closing: AtomicBool,
    shutdown: Shutdown,
    /// The socket of each sender's current connection, to cut it at the deadline.
    sockets: Mutex<Vec<Option<TcpStream>>>,
    progress: (Mutex<()>, Condvar),
    /// Kinds of refusals already logged (each is logged once).
    logged: Mutex<HashSet<String>>,
}

impl Shared {
    fn resolve(&self, events: u64) {
        HecStats::sub(&self.stats.outstanding, events);
        self.progress.1.notify_all();
    }

    fn fail(&self, events: u64) {
        HecStats::add(&self.stats.failed, events);
        self.resolve(events);
    }

    fn once(&self, kind: &str) -> bool {
        self.logged
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(kind.to_string())
    }

    fn requeue(&self, queue: usize, job: Job) {
        HecStats::add(&self.stats.queued, job.events());
        self.queues[queue].push_front(job);
    }

    /// Marks a server dead for the run. In `mirror` its queue is failed; when no server is
    /// left, everything queued is failed and the output is fatal.
    fn kill(&self, s: usize, why: &str) {
        let server = &self.servers[s];
        if server.dead.swap(true, Ordering::SeqCst) {
            return;
        }
        log::error(format_args!(
            "HEC {}: {why}; no more events go to this server",
            server.name
        ));
        let all_dead = self.servers.iter().all(|s| s.dead.load(Ordering::SeqCst));
        if all_dead {
            self.stats.fatal.store(true, Ordering::SeqCst);
            log::error(format_args!(
                "HEC: no server left to send to; the output stops"
            ));
        }
        if all_dead || self.config.mode == OutputMode::Mirror {
            for job in self.queues[server.queue].drain() {
                HecStats::sub(&self.stats.queued, job.events());
                self.fail(job.events());
            }
        }
        self.progress.1.notify_all();
    }

    /// Why a write is waiting, for the periodic warning.
    fn wait_reason(&self) -> String {
        let now = Instant::now();
        let mut failing = Vec::new();
        for s in &self.servers {
            if s.dead.load(Ordering::Relaxed) {
                continue;
            }
            let h = s.health();
            if h.failures > 0 {
                let next = h
                    .down_until
                    .and_then(|t| t.checked_duration_since(now))
                    .unwrap_or_default();
                failing.push(format!(
                    "{} failing ({}), next try in {:.1}s",
                    s.name,
                    h.last_error,
                    next.as_secs_f64()
                ));
            }
        }
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
    /// Starts the senders. Fails only on TLS setup problems (bad CA file, bad server name).
    pub fn new(config: HecConfig) -> Result<HecSink, String> {
        let tls_config = if config.servers.iter().any(|s| s.tls) {
            Some(tls::client_config(
                config.verify_tls,
                config.ca_pem.as_deref(),
            )?)
        } else {
            None
        };
        let mut servers = Vec::new();
        for (i, s) in config.servers.iter().enumerate() {
            servers.push(server(s, i, &config, tls_config.clone())?);
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
            stats: Arc::new(HecStats::default()),
            stop: AtomicBool::new(false),
            closing: AtomicBool::new(false),
            shutdown: Shutdown::default(),
            sockets: Mutex::new((0..senders).map(|_| None).collect()),
            progress: (Mutex::new(()), Condvar::new()),
            logged: Mutex::new(HashSet::new()),
        });
        let mut workers = Vec::new();
        for id in 0..senders {
            let sh = shared.clone();
            let s = id / sh.config.max_in_flight;
            let handle = thread::Builder::new()
                .name(format!("hec-{s}-{}", id % sh.config.max_in_flight))
                .spawn(move || Sender::new(sh, s, id).run())
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
    pub fn stats(&self) -> Arc<HecStats> {
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
                || (sh.config.mode == OutputMode::Mirror
                    && sh.servers[q].dead.load(Ordering::SeqCst))
            {
                HecStats::add(&sh.stats.failed, n);
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
                HecStats::add(&sh.stats.failed, n);
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
            HecStats::add(&sh.stats.outstanding, n);
            HecStats::add(&sh.stats.queued, n);
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
        for s in sh
            .sockets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .flatten()
        {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
        for q in &sh.queues {
            q.changed.notify_all();
        }
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

fn server(
    s: &ServerConfig,
    i: usize,
    config: &HecConfig,
    tls: Option<Arc<rustls::ClientConfig>>,
) -> Result<Server, String> {
    let target = Target::new(&s.address, s.port, if s.tls { tls } else { None })?;
    Ok(Server {
        name: s.name(),
        target,
        auth: format!("Splunk {}", s.token),
        queue: if config.mode == OutputMode::Mirror {
            i
        } else {
            0
        },
        health: Mutex::new(Health::default()),
        dead: AtomicBool::new(false),
    })
}

impl Sink for HecSink {
    fn write(&mut self, batch: &Batch) -> io::Result<()> {
        if self.shared.stats.fatal.load(Ordering::SeqCst) {
            HecStats::add(&self.shared.stats.failed, batch.len() as u64);
            return Err(self.fatal_error());
        }
        let mut payloads = std::mem::take(&mut self.payloads);
        let skipped = self.builder.add_batch(batch, &mut |p| payloads.push(p));
        self.payloads = payloads;
        if skipped > 0 {
            HecStats::add(&self.shared.stats.failed, skipped);
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

/// One sender thread: one connection to one server, one channel.
struct Sender {
    sh: Arc<Shared>,
    s: usize,
    id: usize,
    rng: Rng,
    channel: String,
    conn: Option<Conn>,
    acks: AckTracker<Job>,
    acks_off: bool,
    request: Vec<u8>,
    gz: Vec<u8>,
}

/// What came back for one request.
struct Answer {
    reply: Reply,
    body: Vec<u8>,
    retry_after: Option<Duration>,
    error: String,
}

impl Sender {
    fn new(sh: Arc<Shared>, s: usize, id: usize) -> Sender {
        let mut rng = Rng::from_entropy();
        let channel = guid(&mut rng);
        let ack_timeout = sh.config.ack_timeout;
        Sender {
            sh,
            s,
            id,
            rng,
            channel,
            conn: None,
            acks: AckTracker::new(Instant::now(), ACK_POLL_INTERVAL, ack_timeout),
            acks_off: false,
            request: Vec::new(),
            gz: Vec::new(),
        }
    }

    fn server(&self) -> &Server {
        &self.sh.servers[self.s]
    }

    fn queue(&self) -> usize {
        self.server().queue
    }

    fn run(mut self) {
        loop {
            let sh = self.sh.clone();
            if sh.stop.load(Ordering::SeqCst) {
                break;
            }
            if self.server().dead.load(Ordering::SeqCst) {
                self.give_back_pending();
                break;
            }
            if sh.closing.load(Ordering::SeqCst) && sh.stats.outstanding.load(Ordering::SeqCst) == 0
            {
                break;
            }
            let now = Instant::now();
            if let Some(wait) = self.server().cooling(now) {
                thread::sleep(wait.min(TICK));
                continue;
            }
            if self.sh.config.ack && !self.acks_off {
                for job in self.acks.expired(now) {
                    HecStats::add(&sh.stats.resent, job.events());
                    self.sh.requeue(self.queue(), job);
                }
                if self.acks.poll_due(now) {
                    self.poll_acks(now);
                    continue;
                }
                if self.acks.len() >= MAX_PENDING_ACKS {
                    thread::sleep(TICK);
                    continue;
                }
            }
            let wait = self
                .acks
                .next_poll()
                .map_or(TICK, |t| t.saturating_duration_since(now).min(TICK));
            let Some(job) = sh.queues[self.queue()].pop(wait) else {
                continue;
            };
            HecStats::sub(&sh.stats.queued, job.events());
            self.send(job);
        }
        self.drop_conn();
    }

    /// This server died: its pending acknowledgements go back to the shared queue (another
    /// server may take them) or fail.
    fn give_back_pending(&mut self) {
        let jobs = self.acks.drain();
        for job in jobs {
            if self.sh.config.mode == OutputMode::RoundRobin
                && !self.sh.stats.fatal.load(Ordering::SeqCst)
            {
                HecStats::add(&self.sh.stats.resent, job.events());
                self.sh.requeue(self.queue(), job);
            } else {
                self.sh.fail(job.events());
            }
        }
    }

    fn send(&mut self, job: Job) {
        let sh = self.sh.clone();
        let n = job.events();
        let answer = self.post(&job);
        if sh.stop.load(Ordering::SeqCst) {
            return; // cut at the deadline: stays outstanding, reported as not delivered
        }
        match retry::decide(answer.reply) {
            Decision::Delivered => {
                self.server().succeeded();
                HecStats::add(&sh.stats.sent, n);
                HecStats::add(&sh.stats.requests, 1);
                let ack_id = if sh.config.ack && !self.acks_off {
                    ack_id(&answer.body)
                } else {
                    None
                };
                match ack_id {
                    Some(id) => self.acks.add(id, job, Instant::now()),
                    None => sh.resolve(n),
                }
            }
            Decision::Retry => {
                sh.servers[self.s].failed(answer.error, answer.retry_after, &mut self.rng);
                HecStats::add(&sh.stats.retried, n);
                sh.requeue(self.queue(), job);
            }
            Decision::Split => match Arc::unwrap_or_clone(job.payload).split() {
                Some((a, b)) => {
                    HecStats::add(&sh.stats.retried, n);
                    if sh.once("413") {
                        log::warn(format_args!(
                            "HEC {}: request too large (413); splitting requests in two (lower httpeventMaxPayloadSize to avoid this)",
                            self.server().name
                        ));
                    }
                    sh.requeue(
                        self.queue(),
                        Job {
                            payload: Arc::new(b),
                            gzip: job.gzip,
                        },
                    );
                    sh.requeue(
                        self.queue(),
                        Job {
                            payload: Arc::new(a),
                            gzip: job.gzip,
                        },
                    );
                }
                None => self.refused(
                    "413",
                    "a single event is larger than the server accepts (413)",
                    &answer,
                    n,
                ),
            },
            Decision::Uncompressed => {
                if sh.once("415") {
                    log::warn(format_args!(
                        "HEC {}: the server does not accept gzip (415); sending uncompressed",
                        self.server().name
                    ));
                }
                HecStats::add(&sh.stats.retried, n);
                sh.requeue(
                    self.queue(),
                    Job {
                        payload: job.payload,
                        gzip: false,
                    },
                );
            }
            Decision::ServerFatal => {
                let why = match answer.reply {
                    Reply::Transport(Transport::TlsVerification) => tls_advice(&answer.error),
                    _ => format!(
                        "the server refused the token ({}); check the \"key\" in httpeventServers",
                        answer.error
                    ),
                };
                sh.kill(self.s, &why);
                if sh.config.mode == OutputMode::RoundRobin
                    && !sh.stats.fatal.load(Ordering::SeqCst)
                {
                    HecStats::add(&sh.stats.retried, n);
                    sh.requeue(self.queue(), job);
                } else {
                    sh.fail(n);
                }
            }
            Decision::Drop => {
                let kind = match answer.reply {
                    Reply::Http { status, code } => format!("{status}/{code:?}"),
                    Reply::Transport(t) => format!("{t:?}"),
                };
                self.refused(&kind, "the server refused the events", &answer, n);
            }
        }
    }

    fn refused(&self, kind: &str, what: &str, answer: &Answer, n: u64) {
        if self.sh.once(kind) {
            log::error(format_args!(
                "HEC {}: {what}: {}; dropping such requests (logged once, counted as failed)",
                self.server().name,
                answer.error
            ));
        }
        self.sh.fail(n);
    }

    /// Sends one payload; on a reused connection that turns out closed, once more on a new one.
    fn post(&mut self, job: &Job) -> Answer {
        let sh = self.sh.clone();
        let config = &sh.config;
        let mut path = String::from(config.endpoint.path());
        if let Some(q) = &job.payload.query {
            path.push('?');
            path.push_str(q);
        }
        let gzip = job.gzip && config.gzip;
        let body: &[u8] = if gzip {
            self.gz.clear();
            let mut enc = flate2::write::GzEncoder::new(
                std::mem::take(&mut self.gz),
                flate2::Compression::fast(),
            );
            let ok = enc.write_all(&job.payload.body);
            self.gz = enc.finish().unwrap_or_default();
            if ok.is_err() || self.gz.is_empty() {
                return Answer {
                    reply: Reply::Http {
                        status: 400,
                        code: None,
                    },
                    body: Vec::new(),
                    retry_after: None,
                    error: "gzip failed".to_string(),
                };
            }
            &self.gz
        } else {
            &job.payload.body
        };
        let server = &sh.servers[self.s];
        let content_type = match config.endpoint {
            Endpoint::Event => "application/json",
            Endpoint::Raw => "text/plain",
        };
        let mut headers = vec![
            ("Authorization", server.auth.as_str()),
            ("X-Splunk-Request-Channel", self.channel.as_str()),
            ("Content-Type", content_type),
        ];
        if gzip {
            headers.push(("Content-Encoding", "gzip"));
        }
        self.request.clear();
        write_request(
            &mut self.request,
            "POST",
            &path,
            &server.target.host_header,
            &headers,
            body,
        );
        let request = std::mem::take(&mut self.request);
        let answer = self.exchange(&request);
        self.request = request;
        answer
    }

    /// Connects if needed and runs one request/response.
    fn exchange(&mut self, request: &[u8]) -> Answer {
        for attempt in 0..2 {
            let reused = self.conn.is_some();
            if self.conn.is_none()
                && let Err(f) = self.connect()
            {
                return failure_answer(f);
            }
            let Some(conn) = self.conn.as_mut() else {
                break;
            };
            match conn.round_trip(request) {
                Ok(resp) => {
                    if !resp.keep_alive {
                        self.drop_conn();
                    }
                    let code = hec_code(&resp.body);
                    let error = describe(resp.status, &resp.body);
                    return Answer {
                        reply: Reply::Http {
                            status: resp.status,
                            code,
                        },
                        body: resp.body,
                        retry_after: resp.retry_after,
                        error,
                    };
                }
                Err(f) => {
                    self.drop_conn();
                    if !(reused && f.closed_before_response && attempt == 0) {
                        return failure_answer(f);
                    }
                }
            }
        }
        Answer {
            reply: Reply::Transport(Transport::Broken),
            body: Vec::new(),
            retry_after: None,
            error: "connection lost".to_string(),
        }
    }

    fn connect(&mut self) -> Result<(), Failure> {
        let timeout = self.sh.config.timeout.min(MAX_CONNECT_TIMEOUT);
        let conn = Conn::connect(&self.server().target, timeout)?;
        if let Ok(sock) = conn.socket()
            && let Some(slot) = self
                .sh
                .sockets
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get_mut(self.id)
        {
            *slot = Some(sock);
        }
        if self.sh.stop.load(Ordering::SeqCst) {
            conn.close();
        }
        self.conn = Some(conn);
        Ok(())
    }

    fn drop_conn(&mut self) {
        if let Some(c) = self.conn.take() {
            c.close();
        }
        if let Some(slot) = self
            .sh
            .sockets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(self.id)
        {
            *slot = None;
        }
    }

    /// Queries the pending ack ids on this channel.
    fn poll_acks(&mut self, now: Instant) {
        let sh = self.sh.clone();
        let body = self.acks.poll_body(now);
        let server = &sh.servers[self.s];
        let headers = [
            ("Authorization", server.auth.as_str()),
            ("X-Splunk-Request-Channel", self.channel.as_str()),
            ("Content-Type", "application/json"),
        ];
        let mut request = Vec::new();
        write_request(
            &mut request,
            "POST",
            "/services/collector/ack",
            &server.target.host_header,
            &headers,
            &body,
        );
        let answer = self.exchange(&request);
        match answer.reply {
            Reply::Http { status: 200, .. } => match self.acks.apply(&answer.body) {
                Some(done) => {
                    for job in done {
                        HecStats::add(&sh.stats.acknowledged, job.events());
                        sh.resolve(job.events());
                    }
                }
                None => self.acks_unavailable(&format!("unreadable answer: {}", answer.error)),
            },
            Reply::Http {
                status: 400..=499, ..
            } if retry::decide(answer.reply) == Decision::Drop => {
                self.acks_unavailable(&answer.error);
            }
            // Busy, broken or token trouble: the POSTs will show it; poll again later.
            _ => {}
        }
    }

    /// The server does not do acknowledgements: count what it accepted as delivered.
    fn acks_unavailable(&mut self, error: &str) {
        if self.sh.once(&format!("ack-off-{}", self.s)) {
            log::warn(format_args!(
                "HEC {}: indexer acknowledgement is not available ({error}); counting accepted requests as delivered",
                self.server().name
            ));
        }
        self.acks_off = true;
        for job in self.acks.drain() {
            self.sh.resolve(job.events());
        }
    }
}

fn failure_answer(f: Failure) -> Answer {
    Answer {
        reply: Reply::Transport(f.kind),
        body: Vec::new(),
        retry_after: None,
        error: f.error.to_string(),
    }
}

/// How to trust a server whose certificate failed verification.
fn tls_advice(error: &str) -> String {
    format!(
        "TLS certificate not trusted ({error}). To trust Splunk's default self-signed certificate set \
         httpeventCaFile = $SPLUNK_HOME/etc/auth/cacert.pem (the certificate must also name this host), \
         or turn verification off for this output with httpeventVerifyTls = false"
    )
}

/// HEC's `code` from a reply body, if it has one.
fn hec_code(body: &[u8]) -> Option<i64> {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()?
        .get("code")?
        .as_i64()
}

fn ack_id(body: &[u8]) -> Option<u64> {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()?
        .get("ackId")?
        .as_u64()
}

/// `HTTP 403: {"text":"Invalid token","code":4}` with the body shortened to one line.
fn describe(status: u16, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut line: String = text.chars().filter(|c| !c.is_control()).take(300).collect();
    if line.is_empty() {
        line.push_str("(empty body)");
    }
    format!("HTTP {status}: {line}")
}

/// A random UUID v4, the channel id HEC expects.
fn guid(rng: &mut Rng) -> String {
    let a = rng.next_u64();
    let b = rng.next_u64();
    let hex = format!("{a:016x}{b:016x}");
    let h = hex.as_bytes();
    let s = |r: std::ops::Range<usize>| std::str::from_utf8(&h[r]).unwrap_or("0");
    let variant = ["8", "9", "a", "b"][(b >> 62) as usize & 3];
    format!(
        "{}-{}-4{}-{}{}-{}",
        s(0..8),
        s(8..12),
        s(13..16),
        variant,
        s(17..20),
        s(20..32)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_is_uuid_v4_shaped() {
        let mut rng = Rng::seed(7);
        let g = guid(&mut rng);
        assert_eq!(g.len(), 36);
        let parts: Vec<&str> = g.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'));
        assert!(matches!(&parts[3][..1], "8" | "9" | "a" | "b"));
        assert_ne!(g, guid(&mut rng));
    }

    #[test]
    fn reply_bodies() {
        assert_eq!(hec_code(br#"{"text":"Invalid token","code":4}"#), Some(4));
        assert_eq!(hec_code(b"<html>"), None);
        assert_eq!(
            ack_id(br#"{"text":"Success","code":0,"ackId":12}"#),
            Some(12)
        );
        assert_eq!(describe(503, b"busy\n"), "HTTP 503: busy");
    }

    #[test]
    fn tls_advice_names_both_ways_out() {
        let a = tls_advice("UnknownIssuer");
        assert!(a.contains("httpeventCaFile = $SPLUNK_HOME/etc/auth/cacert.pem"));
        assert!(a.contains("httpeventVerifyTls = false"));
    }
}
