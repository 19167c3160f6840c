//! The `splunkstream` output: events POSTed to a Splunk server's management port, as Eventgen
//! 7.2.1 does it, with what it got wrong fixed.
//!
//! [`config`] checks the `splunk*` keys; [`sink`] logs in at `/services/auth/login` for a session
//! key and sends each run of events with one metadata to `/services/receivers/simple` with
//! `index`, `source`, `sourcetype`, `host_regex` and `host` in the query. Unlike Eventgen it
//! verifies TLS by default, logs in again when the session expires, retries connection errors
//! and 5xx answers with backoff, rotates over a JSON list of hosts, and never logs the password
//! or session key.

pub mod config;
pub mod sink;

pub use config::{Auth, SplunkStreamConfig, Splunkd};
pub use sink::SplunkStreamSink;
