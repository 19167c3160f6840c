//! Relative time specs (`-1h@h`, `+3d@w1`, ...) and durations: parse, then resolve.
#![no_main]
use chrono::{FixedOffset, TimeZone};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(spec) = eventgen::timing::relative::TimeSpec::parse(text) {
        let utc = FixedOffset::east_opt(0).unwrap();
        for now in [0, 1_709_164_798, 253_402_300_000] {
            let _ = spec.resolve(utc.timestamp_opt(now, 0).unwrap());
        }
    }
    let _ = eventgen::timing::relative::parse_duration_secs(text);
});
