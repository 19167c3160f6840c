//! The `httpevent` and `metric_httpevent` outputs: Splunk's HTTP Event Collector client.
//!
//! One file per job: [`config`] checks the stanza's settings, [`encode`] turns one event into a
//! HEC JSON object (run in the generator workers), [`request`] cuts batches into payloads at event
//! boundaries, [`sink`] takes batches and holds the shared state (servers, [`queue`]s,
//! counters), [`sender`] runs one request at a time per thread over the shared HTTP client
//! ([`crate::output::http`]) with [`ack`] tracking indexer acknowledgements, and [`reply`] reads
//! HEC's answers. What to do after a reply, server health, backoff and the delivery accounting
//! are the network core's ([`crate::output::netcore`]).

pub mod ack;
pub mod config;
pub mod encode;
pub mod queue;
pub mod reply;
pub mod request;
pub mod sender;
pub mod sink;

pub use crate::output::netcore::{Shutdown, StatsSnapshot};
pub use config::{Endpoint, HecConfig, OutputMode, ServerConfig};
pub use sink::HecSink;
