//! Token specs: `random` replacements and token regexes (compiled, then matched).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = eventgen::token::random::RandomSpec::parse(text);
    let (pattern, subject) = text.split_once('\n').unwrap_or((text, "id=12 2024-01-01 aaaa"));
    if let Ok(re) = eventgen::token::TokenRegex::compile(pattern) {
        re.for_each_match(subject, |_, _| {});
        let _ = re.first_capture(subject);
    }
});
