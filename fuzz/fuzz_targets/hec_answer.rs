//! HEC JSON from servers and users: server lists (`httpeventServers`) and ack answers.
#![no_main]
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = eventgen::output::hec::config::parse_servers(&String::from_utf8_lossy(data));
    let now = Instant::now();
    let mut acks = eventgen::output::hec::ack::AckTracker::new(
        now,
        Duration::from_secs(1),
        Duration::from_secs(5),
    );
    acks.add(0, (), now);
    acks.add(1, (), now);
    let _ = acks.apply(data);
});
