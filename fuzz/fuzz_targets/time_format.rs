//! strftime formats (compile and render) and strptime (format `|` text).
#![no_main]
use chrono::{FixedOffset, TimeZone};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let (format, value) = text.split_once('|').unwrap_or((text, text));
    let f = eventgen::timing::strftime::TimeFormat::compile(format);
    let utc = FixedOffset::east_opt(0).unwrap();
    let mut out = Vec::new();
    for now in [0, 1_709_164_798, 253_402_300_799] {
        out.clear();
        f.render(&utc.timestamp_opt(now, 0).unwrap(), &mut out);
    }
    let _ = eventgen::timing::strptime::strptime(format, value);
    let _ = eventgen::timing::strptime::strptime_prefix(format, value);
});
