//! The `httpevent` and `metric_httpevent` outputs: Splunk's HTTP Event Collector client.
//!
//! One file per job: [`config`] checks the stanza's settings, [`encode`] turns one event into a
//! HEC JSON object (run in the generator workers), [`request`] cuts batches into payloads at event
//! boundaries, [`retry`] decides from a response what to do with a payload (a pure function),
//! [`ack`] tracks indexer acknowledgements, and [`sink`] runs the sender threads behind a
//! bounded queue over the shared HTTP client ([`crate::output::http`]). Messages to people go through [`log`], never with the token in them.

pub mod ack;
pub mod config;
pub mod encode;
pub mod log;
pub mod request;
pub mod retry;
pub mod sink;
pub mod stats;

pub use config::{Endpoint, HecConfig, OutputMode, ServerConfig};
pub use sink::{HecSink, Shutdown};
pub use stats::{HecStats, StatsSnapshot};
