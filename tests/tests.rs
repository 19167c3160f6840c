//! Integration tests: the real `eventgen` binary on real files and loopback sockets. All of
//! them build into this one test binary (the counting-allocator test has its own, because it
//! replaces the global allocator).

/// The scripted HEC server, shared by `compat` and `hec_e2e` (also used by the `hec_sink` binary).
#[path = "support/hec_server.rs"]
mod hec_server;
/// A loopback HTTP proxy (CONNECT and forward), for `hec_e2e`.
#[path = "support/proxy.rs"]
mod proxy;
#[path = "support/skip.rs"]
mod skip;
/// The scripted splunkd, shared by `compat` and `splunkstream`.
#[path = "support/splunkd_server.rs"]
mod splunkd_server;
mod support;
#[path = "support/tenzir.rs"]
mod tenzir;

mod app_modinput;
mod app_package;
mod awss3;
mod bad_config;
mod bad_input;
mod bounded_jobs;
mod compat;
mod counter_output;
mod deploy;
mod first_run;
mod generate;
mod generators;
mod golden;
mod hec_e2e;
mod init;
mod init_judge;
mod layering;
mod metrics;
mod net_config;
mod outputs;
mod progress;
mod properties;
mod real_apps;
mod reliability;
mod reload;
mod replay;
mod s2s;
mod samples;
mod secrets;
mod shard;
mod splunkstream;
mod timing;
mod tokens;
mod volume;
