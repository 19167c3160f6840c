//! What to do with a payload after a request: a pure function of the reply, and the backoff.
//!
//! The rules follow Splunk's HEC status table and what Vector and OpenTelemetry do: retry
//! transport failures, timeouts, 429 and 5xx except 501, and HEC codes 8, 9, 23, 26 and 27;
//! token problems (codes 1-4, or 401/403) stop that server; 413 splits the payload; 415 drops
//! compression; any other 4xx drops the payload (it would fail again).

use std::time::Duration;

use crate::rng::Rng;

pub use crate::output::http::Transport;

/// The reply to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    Transport(Transport),
    /// HTTP status and, when the body had one, HEC's `code`.
    Http {
        status: u16,
        code: Option<i64>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Accepted.
    Delivered,
    /// Send it again later, preferably elsewhere; the server gets a cool-down.
    Retry,
    /// Too large: split in two and send the halves (a single event is dropped instead).
    Split,
    /// Resend without compression.
    Uncompressed,
    /// This server cannot take anything (token or TLS trust problem); stop using it.
    ServerFatal,
    /// The payload itself was refused; retrying would fail the same way.
    Drop,
}

pub fn decide(reply: Reply) -> Decision {
    match reply {
        Reply::Transport(Transport::TlsVerification | Transport::TlsClientRefused) => {
            Decision::ServerFatal
        }
        Reply::Transport(_) => Decision::Retry,
        Reply::Http { status, code } => {
            if let Some(code) = code {
                match code {
                    1..=4 => return Decision::ServerFatal,
                    8 | 9 | 23 | 26 | 27 => return Decision::Retry,
                    _ => {}
                }
            }
            match status {
                200..=299 => Decision::Delivered,
                401 | 403 => Decision::ServerFatal,
                413 => Decision::Split,
                415 => Decision::Uncompressed,
                408 | 429 => Decision::Retry,
                501 => Decision::Drop,
                500..=599 => Decision::Retry,
                _ => Decision::Drop,
            }
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use Decision::*;

    fn http(status: u16, code: Option<i64>) -> Decision {
        decide(Reply::Http { status, code })
    }

    #[test]
    fn decision_table() {
        let table: &[(u16, Option<i64>, Decision)] = &[
            (200, Some(0), Delivered),
            (200, None, Delivered),
            (200, Some(24), Delivered),
            (200, Some(25), Delivered),
            (204, None, Delivered),
            (403, Some(1), ServerFatal),
            (401, Some(2), ServerFatal),
            (401, Some(3), ServerFatal),
            (403, Some(4), ServerFatal),
            (401, None, ServerFatal),
            (403, None, ServerFatal),
            (400, Some(5), Drop),
            (400, Some(6), Drop),
            (400, Some(7), Drop),
            (500, Some(8), Retry),
            (503, Some(9), Retry),
            (400, Some(10), Drop),
            (400, Some(12), Drop),
            (400, Some(14), Drop),
            (503, Some(23), Retry),
            (429, Some(26), Retry),
            (429, Some(27), Retry),
            (429, None, Retry),
            (408, None, Retry),
            (500, None, Retry),
            (502, None, Retry),
            (503, None, Retry),
            (504, None, Retry),
            (501, None, Drop),
            (413, None, Split),
            (415, None, Uncompressed),
            (404, None, Drop),
            (400, None, Drop),
            (301, None, Drop),
        ];
        for &(status, code, want) in table {
            assert_eq!(http(status, code), want, "status {status} code {code:?}");
        }
    }

    #[test]
    fn transport_failures() {
        for t in [Transport::Connect, Transport::Timeout, Transport::Broken] {
            assert_eq!(decide(Reply::Transport(t)), Retry);
        }
        for t in [Transport::TlsVerification, Transport::TlsClientRefused] {
            assert_eq!(decide(Reply::Transport(t)), ServerFatal);
        }
    }

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
}
