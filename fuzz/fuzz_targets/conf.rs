//! `.conf` text: parsing never panics and every problem is located.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (_, problems) = eventgen::conf::parse_conf(std::path::Path::new("x.conf"), &text);
    for p in problems {
        assert!(p.to_string().starts_with("x.conf"));
    }
});
