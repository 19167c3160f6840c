//! splunkd's XML documents on stdin: reading, decoding and parsing.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = eventgen::modinput::read_document(data, "</input>");
    if let Ok(text) = eventgen::modinput::decode(data) {
        let _ = eventgen::modinput::input::parse_input(&text);
    }
});
