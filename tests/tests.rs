//! Integration tests: the real `eventgen` binary on real files and loopback sockets. All of
//! them build into this one test binary (the counting-allocator test has its own, because it
//! replaces the global allocator).

/// The scripted HEC server, shared by `compat` and `hec_e2e` (also used by the `hec_sink` binary).
#[path = "support/hec_server.rs"]
mod hec_server;
mod support;

mod app_modinput;
mod app_package;
mod bad_config;
mod bounded_jobs;
mod compat;
mod generate;
mod generators;
mod golden;
mod hec_e2e;
mod layering;
mod outputs;
mod properties;
mod real_apps;
mod reliability;
mod replay;
mod samples;
mod timing;
mod tokens;
mod volume;
