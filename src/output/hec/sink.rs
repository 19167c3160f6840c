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

use std::collections::{HashSet, VecDeque};
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::ack::{ACK_POLL_INTERVAL, AckTracker, MAX_PENDING_ACKS};
use super::config::{Endpoint, HecConfig, OutputMode, ServerConfig};
use super::request::{Payload, PayloadBuilder};
use crate::output::http::{self, Client, ClientOptions, Failure, Transport};
use crate::output::netcore::{
    Credentials, Decision, Health, NetStats as HecStats, Reply, Shutdown, advice, classify,
    describe, log,
};
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
/// How long stopping waits for a sender to leave a request that started before the finish
/// deadline was known; after that the thread is left to end on its own timeout.
const JOIN_GRACE: Duration = Duration::from_millis(500);

/// The keys HEC's transport advice points to.
const KEYS: advice::Keys = advice::Keys {
    ca_file: "httpeventCaFile",
    verify: "httpeventVerifyTls",
    client_cert: "httpeventClientCert (and httpeventClientKey)",
};

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

struct Server {
    name: String,
    client: Client,
    /// `https://host:8088`, to which the endpoint paths are appended.
    url: String,
    auth: String,
    queue: usize,
    health: Health,
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
    /// The finish deadline once known: no request may run past it.
    deadline: Mutex<Option<Instant>>,
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
                HecStats::sub(&self.stats.queued, job.events());
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
            stats: Arc::new(HecStats::default()),
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
                || (sh.config.mode == OutputMode::Mirror && sh.servers[q].health.is_dead())
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

/// One sender thread: one request at a time to one server, one channel.
struct Sender {
    sh: Arc<Shared>,
    s: usize,
    channel: String,
    acks: AckTracker<Job>,
    acks_off: bool,
}

/// What came back for one request.
struct Answer {
    /// The HTTP status, or the failure before one came.
    status: Result<u16, Transport>,
    body: Vec<u8>,
    retry_after: Option<Duration>,
    /// The reply in words, for messages.
    error: String,
}

impl Answer {
    fn reply(&self) -> Reply<'_> {
        match self.status {
            Ok(status) => Reply::Http {
                status,
                body: &self.body,
            },
            Err(t) => Reply::Transport(t),
        }
    }
}

impl Sender {
    fn new(sh: Arc<Shared>, s: usize) -> Sender {
        let channel = guid(&mut Rng::from_entropy());
        let ack_timeout = sh.config.ack_timeout;
        Sender {
            sh,
            s,
            channel,
            acks: AckTracker::new(Instant::now(), ACK_POLL_INTERVAL, ack_timeout),
            acks_off: false,
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
            if self.server().health.is_dead() {
                self.give_back_pending();
                break;
            }
            if sh.closing.load(Ordering::SeqCst) && sh.stats.outstanding.load(Ordering::SeqCst) == 0
            {
                break;
            }
            let now = Instant::now();
            if let Some(wait) = self.server().health.cooling(now) {
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
        match classify(answer.reply(), Credentials::Fixed) {
            Decision::Delivered => {
                self.server().health.succeeded();
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
                sh.servers[self.s]
                    .health
                    .failed(&answer.error, answer.retry_after);
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
            // A token cannot log in again: `Credentials::Fixed` never gives `Relogin`.
            Decision::ServerFatal | Decision::Relogin => {
                let why = match answer.status {
                    Err(_) => answer.error.clone(),
                    Ok(_) => format!(
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
                let kind = match answer.status {
                    Ok(status) => format!(
                        "{status}/{:?}",
                        crate::output::netcore::reply::hec_code(&answer.body)
                    ),
                    Err(t) => format!("{t:?}"),
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

    /// Sends one payload.
    fn post(&mut self, job: &Job) -> Answer {
        let sh = self.sh.clone();
        let config = &sh.config;
        let server = &sh.servers[self.s];
        let mut url = String::with_capacity(server.url.len() + 64);
        url.push_str(&server.url);
        url.push_str(config.endpoint.path());
        if let Some(q) = &job.payload.query {
            url.push('?');
            url.push_str(q);
        }
        let gzip = job.gzip && config.gzip;
        let body = if gzip {
            let mut enc = flate2::write::GzEncoder::new(
                Vec::with_capacity(job.payload.body.len() / 4),
                flate2::Compression::fast(),
            );
            match enc.write_all(&job.payload.body).and_then(|()| enc.finish()) {
                Ok(gz) if !gz.is_empty() => gz,
                _ => {
                    return Answer {
                        status: Ok(400),
                        body: Vec::new(),
                        retry_after: None,
                        error: "gzip failed".to_string(),
                    };
                }
            }
        } else {
            job.payload.body.clone()
        };
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
        self.exchange(&url, &headers, body)
    }

    /// Runs one request/response within the timeout, cut short by the finish deadline.
    fn exchange(&self, url: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Answer {
        let mut timeout = self.sh.config.timeout;
        if let Some(d) = *self.sh.deadline.lock().unwrap_or_else(|p| p.into_inner()) {
            timeout = timeout.min(d.saturating_duration_since(Instant::now()));
        }
        if timeout.is_zero() {
            return failure_answer(Failure {
                kind: http::Transport::Timeout,
                error: "the run's deadline has passed".to_string(),
            });
        }
        match self.server().client.post(url, headers, body, timeout) {
            Ok(resp) => {
                let error = describe(resp.status, &resp.body);
                Answer {
                    status: Ok(resp.status),
                    body: resp.body,
                    retry_after: resp.retry_after,
                    error,
                }
            }
            Err(f) => failure_answer(f),
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
        let url = format!("{}/services/collector/ack", server.url);
        let answer = self.exchange(&url, &headers, body);
        match answer.status {
            Ok(200) => match self.acks.apply(&answer.body) {
                Some(done) => {
                    for job in done {
                        HecStats::add(&sh.stats.acknowledged, job.events());
                        sh.resolve(job.events());
                    }
                }
                None => self.acks_unavailable(&format!("unreadable answer: {}", answer.error)),
            },
            Ok(400..=499) if classify(answer.reply(), Credentials::Fixed) == Decision::Drop => {
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
        status: Err(f.kind),
        body: Vec::new(),
        retry_after: None,
        error: advice::transport(&f, &KEYS),
    }
}

fn ack_id(body: &[u8]) -> Option<u64> {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()?
        .get("ackId")?
        .as_u64()
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
        assert_eq!(
            ack_id(br#"{"text":"Success","code":0,"ackId":12}"#),
            Some(12)
        );
    }
}
