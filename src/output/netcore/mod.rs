//! The network core: the rules every network output (HEC, splunkstream, S2S) follows, written
//! once.
//!
//! - [`reply`]: [`classify`] turns a reply (transport failure, or HTTP status and body) into a
//!   [`Decision`] (delivered, retry, log in again, split, uncompressed, server fatal, drop this
//!   request). It is pure and its table is unit-tested and documented in
//!   `docs/compatibility.md`. [`describe`] puts a reply on one line for messages.
//! - [`health`]: one [`Health`] per server: failures in a row, cool-down with [`backoff`], the
//!   throttled "retrying in …" warning, death for the run; [`next_ready`] rotates over servers.
//! - [`address`]: server addresses checked at plan time (a host, never a URL, path, port or
//!   credentials), so a bad one is a located `check` error.
//! - [`advice`]: transport failures in words, naming the output's keys ([`advice::Keys`]).
//! - [`stats`]: [`NetStats`], the delivery accounting (`outstanding` until settled once as
//!   `sent` or `failed`), read by the reducer (`Sink::failed_events`), the progress line and
//!   `/metrics`.
//! - [`Shutdown`]: the stop signal (SIGTERM, end of the finish grace) that makes a blocked
//!   `write` give up at once.
//! - [`log`]: messages go through the crate's logger, which redacts every registered secret.
//!
//! # How a new output uses it
//!
//! 1. Keep a [`NetStats`] (in an `Arc` if other threads send) and call [`NetStats::take`] for
//!    every event the sink accepts in `Sink::write`; settle each event exactly once with
//!    [`NetStats::delivered`] when its request succeeded, or [`NetStats::fail`] when it is
//!    given up on. Implement `Sink::failed_events` as `Some(stats.failed_events())`, and hand
//!    the stats to the metrics (`Metrics::set_net`) when the pipeline opens the sink.
//! 2. Keep one [`Health`] per server, labelled `"<output> <host:port>"`. Before a request,
//!    pick a server with [`next_ready`] (or check [`Health::cooling`]); after it, call
//!    [`Health::succeeded`], [`Health::failed`] (retry: the server cools down and the warning
//!    is throttled) or [`Health::kill`] (server fatal).
//! 3. Map the reply with [`classify`]; for a protocol without HTTP (S2S), map connection
//!    failures to `Reply::Transport` and use the same decisions. `Drop` settles the events of
//!    that request as failed and the run goes on; `Sink::write` returns an error only when the
//!    output can never deliver again (every server dead) or the run is stopping, so that the
//!    reducer's "every output has failed" is true when it says so.
//! 4. Word transport failures with [`advice::transport`] and the output's [`advice::Keys`];
//!    write messages with [`log`]; never put a credential in a message yourself (the logger
//!    redacts registered secrets as a second line of defence).
//! 5. Give the pipeline a [`Shutdown`] handle; a blocked `write` checks it at least every
//!    100 ms, and `finish(deadline)` bounds every request by the deadline.

pub mod address;
pub mod advice;
pub mod health;
pub mod log;
pub mod reply;
pub mod stats;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub use health::{Health, backoff, next_ready};
pub use reply::{Credentials, Decision, Reply, classify, describe};
pub use stats::{NetStats, StatsSnapshot};

/// Asks a sink to stop waiting: a `write` blocked on a full queue or a failing server returns
/// an error at once. Cheap to clone; hand it to the signal handler.
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
