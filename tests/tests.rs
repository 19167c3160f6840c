//! Integration tests: the real `eventgen` binary on real files and loopback sockets. All of
//! them build into this one test binary (the counting-allocator test has its own, because it
//! replaces the global allocator).

mod support;

mod app_package;
mod compat;
mod generate;
