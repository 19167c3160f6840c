//! Server health: failures in a row, the cool-down they earn ([`backoff`]), the throttled
//! "retrying in …" warning, death for the run, and [`next_ready`], the rotation over a list of
//! servers that skips the dead and the cooling.
//!
//! A [`Health`] is shared by every thread that sends to its server (interior locking), so one
//! outage is reported once however many requests saw it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::log;
use crate::rng::Rng;

/// First cool-down after a failure.
pub const BACKOFF_BASE: Duration = Duration::from_millis(500);
/// Longest cool-down: a server that is down for good is still probed once a minute.
pub const BACKOFF_MAX: Duration = Duration::from_secs(60);

/// Cool-down after the `failures`-th failure in a row (1-based): exponential from
/// [`BACKOFF_BASE`] to [`BACKOFF_MAX`], with "equal jitter" (half fixed, half random) so that
/// senders spread out but never retry at once. A server's `Retry-After` raises it.
pub fn backoff(failures: u32, retry_after: Option<Duration>, rng: &mut Rng) -> Duration {
    let exp = failures.saturating_sub(1).min(16);
    let full = BACKOFF_BASE.saturating_mul(1u32 << exp).min(BACKOFF_MAX);
    let half = full / 2;
    let jitter = Duration::from_nanos(rng.below(half.as_nanos().max(1) as u64));
    let d = half + jitter;
    match retry_after {
        Some(ra) => d.max(ra.min(BACKOFF_MAX)),
        None => d,
    }
}

#[derive(Debug)]
struct State {
    failures: u32,
    down_until: Option<Instant>,
    last_error: String,
    rng: Rng,
}

/// The health of one server, named `label` in messages (`HEC 10.0.0.1:8088`).
#[derive(Debug)]
pub struct Health {
    label: String,
    state: Mutex<State>,
    dead: AtomicBool,
}

impl Health {
    pub fn new(label: impl Into<String>) -> Health {
        Health {
            label: label.into(),
            state: Mutex::new(State {
                failures: 0,
                down_until: None,
                last_error: String::new(),
                rng: Rng::from_entropy(),
            }),
            dead: AtomicBool::new(false),
        }
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How long this server still cools down (`None`: it may be used now).
    pub fn cooling(&self, now: Instant) -> Option<Duration> {
        self.state()
            .down_until
            .and_then(|t| t.checked_duration_since(now))
            .filter(|d| !d.is_zero())
    }

    /// Failures in a row so far.
    pub fn failures(&self) -> u32 {
        self.state().failures
    }

    /// A request failed in a way worth retrying: the server cools down. The warning is written
    /// on the 1st, 2nd, 4th, 8th… failure in a row. A failure seen while the server already
    /// cools down (another sender's request of the same outage) changes nothing.
    pub fn failed(&self, error: &str, retry_after: Option<Duration>) {
        let now = Instant::now();
        let mut h = self.state();
        if h.down_until.is_some_and(|t| t > now) {
            return;
        }
        h.failures += 1;
        let failures = h.failures;
        let wait = backoff(failures, retry_after, &mut h.rng);
        h.down_until = Some(now + wait);
        if failures == 1 || failures.is_power_of_two() {
            log::warn(format_args!(
                "{}: {error}; retrying in {:.1}s (failure {failures} in a row)",
                self.label,
                wait.as_secs_f64(),
            ));
        }
        h.last_error = error.to_string();
    }

    /// A request succeeded: the failures are forgotten (with a note if there were some).
    pub fn succeeded(&self) {
        let mut h = self.state();
        if h.failures > 0 {
            log::info(format_args!(
                "{}: sending again after {} failed attempts",
                self.label, h.failures
            ));
            h.failures = 0;
            h.down_until = None;
        }
    }

    /// This server can take nothing from us for the rest of the run. Returns `true` the
    /// first time (and only then writes the error).
    pub fn kill(&self, why: &str) -> bool {
        if self.dead.swap(true, Ordering::SeqCst) {
            return false;
        }
        log::error(format_args!(
            "{}: {why}; no more events go to this server",
            self.label
        ));
        true
    }

    pub fn is_dead(&self) -> bool {
        self.dead.load(Ordering::SeqCst)
    }

    /// `HEC a:8088 failing (HTTP 503: busy), next try in 1.5s`, while it fails.
    pub fn status(&self, now: Instant) -> Option<String> {
        if self.is_dead() {
            return None;
        }
        let h = self.state();
        (h.failures > 0).then(|| {
            let next = h
                .down_until
                .and_then(|t| t.checked_duration_since(now))
                .unwrap_or_default();
            format!(
                "{} failing ({}), next try in {:.1}s",
                self.label,
                h.last_error,
                next.as_secs_f64()
            )
        })
    }
}

/// The server to use next in a rotation that starts at `*next`: the first live one that is not
/// cooling down (and `*next` moves past it). `Err(wait)`: all live servers cool down, the
/// first is ready in `wait`. `Ok(None)`: every server is dead.
pub fn next_ready<T>(
    servers: &[T],
    health: impl Fn(&T) -> &Health,
    next: &mut usize,
    now: Instant,
) -> Result<Option<usize>, Duration> {
    let n = servers.len();
    let mut soonest: Option<Duration> = None;
    for k in 0..n {
        let i = (*next + k) % n;
        let s = health(&servers[i]);
        if s.is_dead() {
            continue;
        }
        match s.cooling(now) {
            Some(wait) => soonest = Some(soonest.map_or(wait, |w| w.min(wait))),
            None => {
                *next = (i + 1) % n;
                return Ok(Some(i));
            }
        }
    }
    match soonest {
        Some(w) => Err(w),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_caps() {
        let mut rng = Rng::seed(1);
        for f in 1..40 {
            let full = BACKOFF_BASE
                .saturating_mul(1 << (f - 1).min(16))
                .min(BACKOFF_MAX);
            for _ in 0..50 {
                let d = backoff(f, None, &mut rng);
                assert!(d >= full / 2 && d <= full, "failures {f}: {d:?}");
            }
        }
        assert!(backoff(1, Some(Duration::from_secs(5)), &mut rng) >= Duration::from_secs(5));
        assert!(backoff(1, Some(Duration::from_secs(5000)), &mut rng) <= BACKOFF_MAX);
        let a: Vec<_> = (0..10).map(|_| backoff(3, None, &mut rng)).collect();
        assert!(a.windows(2).any(|w| w[0] != w[1]), "jitter varies");
    }

    #[test]
    fn one_outage_counts_once_and_success_resets() {
        let h = Health::new("test a");
        h.failed("HTTP 503: busy", None);
        h.failed("HTTP 503: busy", None);
        assert_eq!(
            h.failures(),
            1,
            "a second failure while cooling is the same outage"
        );
        assert!(h.cooling(Instant::now()).is_some());
        let status = h.status(Instant::now()).unwrap();
        assert!(status.starts_with("test a failing (HTTP 503: busy), next try in "));
        h.succeeded();
        assert_eq!(h.failures(), 0);
        assert!(h.cooling(Instant::now()).is_none());
        assert!(h.status(Instant::now()).is_none());
    }

    #[test]
    fn rotation_skips_dead_and_cooling_servers() {
        let servers = [Health::new("a"), Health::new("b"), Health::new("c")];
        let now = Instant::now();
        let mut next = 0;
        assert_eq!(next_ready(&servers, |h| h, &mut next, now), Ok(Some(0)));
        assert_eq!(next_ready(&servers, |h| h, &mut next, now), Ok(Some(1)));
        servers[2].failed("down", Some(Duration::from_secs(30)));
        assert_eq!(next_ready(&servers, |h| h, &mut next, now), Ok(Some(0)));
        assert!(servers[0].kill("bad token"));
        assert!(!servers[0].kill("bad token"), "killed once");
        assert_eq!(next_ready(&servers, |h| h, &mut next, now), Ok(Some(1)));
        servers[1].kill("bad token");
        let wait = next_ready(&servers, |h| h, &mut next, now).unwrap_err();
        assert!(wait > Duration::from_secs(20), "{wait:?}");
        servers[2].kill("bad token");
        assert_eq!(next_ready(&servers, |h| h, &mut next, now), Ok(None));
    }
}
