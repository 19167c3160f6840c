//! One HEC sender thread: one request at a time to one server on its own channel, with
//! indexer acknowledgements polled and overdue requests sent again. What to do after each reply
//! is the network core's [`classify`]; the sender applies it to the shared queue and counters.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread;
use std::time::Instant;

use super::ack::{ACK_POLL_INTERVAL, AckTracker, MAX_PENDING_ACKS};
use super::config::{Endpoint, OutputMode};
use super::queue::Job;
use super::reply::{Answer, ack_id, failure_answer};
use super::sink::{Server, Shared, TICK};
use crate::output::http::{self, Failure};
use crate::output::netcore::{Credentials, Decision, NetStats, classify, describe, log};
use crate::rng::Rng;

/// One sender thread: one request at a time to one server, one channel.
pub(super) struct Sender {
    sh: Arc<Shared>,
    s: usize,
    channel: String,
    acks: AckTracker<Job>,
    acks_off: bool,
}

impl Sender {
    pub(super) fn new(sh: Arc<Shared>, s: usize) -> Sender {
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

    pub(super) fn run(mut self) {
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
                    NetStats::add(&sh.stats.resent, job.events());
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
            NetStats::sub(&sh.stats.queued, job.events());
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
                NetStats::add(&self.sh.stats.resent, job.events());
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
                NetStats::add(&sh.stats.sent, n);
                NetStats::add(&sh.stats.requests, 1);
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
                NetStats::add(&sh.stats.retried, n);
                sh.requeue(self.queue(), job);
            }
            Decision::Split => match Arc::unwrap_or_clone(job.payload).split() {
                Some((a, b)) => {
                    NetStats::add(&sh.stats.retried, n);
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
                NetStats::add(&sh.stats.retried, n);
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
                    NetStats::add(&sh.stats.retried, n);
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
                        NetStats::add(&sh.stats.acknowledged, job.events());
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
}
