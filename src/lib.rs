//! eventgen: a Splunk Eventgen 7.2.1 compatible event generator.
//!
//! Three stages, three types: `conf` reads `.conf` text into located stanzas, `plan` turns them
//! into an immutable, validated [`plan::Plan`], and `pipeline` runs the plan with a scheduler,
//! generator workers and one output reducer thread.
#![deny(clippy::print_stdout)]

pub mod chart;
pub mod cli;
pub mod conf;
pub mod generate;
pub mod init;
pub mod log;
pub mod metrics;
pub mod modinput;
pub mod output;
pub mod pipeline;
pub mod plan;
pub mod problem;
pub mod progress;
pub mod reload;
pub mod rng;
pub mod shard;
pub mod signal;
pub mod stats;
pub mod timing;
pub mod token;
