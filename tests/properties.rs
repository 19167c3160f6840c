//! Property tests over generated inputs for every parser of untrusted input: `.conf` text,
//! sample/CSV and replay time parsing, token specs and regexes, relative time specs, strftime
//! and strptime formats, the modular input's XML and HEC answers. The property is the same
//! everywhere: any input gives a value or an error, never a panic or a hang; some parsers have
//! more (errors are located, what parses renders).
//!
//! Inputs are seeds (real-looking texts) mutated at random with a fixed RNG seed, so a run is
//! reproducible; each property runs for [`BUDGET`] or [`MAX_CASES`], whichever ends first, so
//! the suite stays fast. `EVENTGEN_PROPTEST_SECS` lengthens the budget for a longer hunt; the
//! `fuzz/` folder has the same targets for `cargo fuzz` (see README).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{FixedOffset, TimeZone};
use eventgen::rng::Rng;

/// Time each property may run (default), and the most cases it tries.
const BUDGET: Duration = Duration::from_millis(1500);
const MAX_CASES: usize = 200_000;

/// Pieces spliced into inputs: syntax that parsers care about.
const DICT: &[&str] = &[
    "[",
    "]",
    "=",
    "\\",
    "\n",
    "\r\n",
    "#",
    ";",
    "%",
    "%Y",
    "%m",
    "%d",
    "%H:%M:%S",
    "%f",
    "%z",
    "%Z",
    "%s",
    "%%",
    "-",
    "+",
    "@",
    "now",
    "d",
    "h",
    "m",
    "s",
    "w",
    "mon",
    "y",
    "$",
    "<",
    ">",
    "</",
    "/>",
    "&amp;",
    "&#x0;",
    "<![CDATA[",
    "]]>",
    "\"",
    "'",
    ",",
    ":",
    "{",
    "}",
    "integer",
    "float",
    "hex",
    "list",
    "ipv4",
    "ipv6",
    "mac",
    "string",
    "token.0.",
    "replacement",
    "(",
    ")",
    "(?=",
    "(?<=",
    "\\1",
    "*",
    "+?",
    "{99999}",
    "9999999999999999999999",
    "-0",
    "1e308",
    "nan",
    "\u{feff}",
    "\u{0}",
    "é",
    "𝄞",
    "\t",
];

fn budget() -> Duration {
    std::env::var("EVENTGEN_PROPTEST_SECS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .map_or(BUDGET, Duration::from_secs_f64)
}

/// One random mutation of `text`.
fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut s: Vec<char> = text.chars().collect();
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        let at = rng.below(s.len() as u64 + 1) as usize;
        match rng.below(5) {
            0 => {
                let piece = DICT[rng.below(DICT.len() as u64) as usize];
                s.splice(at..at, piece.chars());
            }
            1 if !s.is_empty() => {
                let end = (at + 1 + rng.below(8) as usize).min(s.len());
                s.drain(at.min(end)..end);
            }
            2 => {
                let c = char::from_u32(rng.below(0x250) as u32).unwrap_or('?');
                s.insert(at, c);
            }
            3 if !s.is_empty() => {
                // Duplicate a span (repetition stresses nesting and counts).
                let end = (at + 1 + rng.below(16) as usize).min(s.len());
                let span: Vec<char> = s[at.min(end)..end].to_vec();
                s.splice(at..at, span);
            }
            _ => {
                let c = (b' ' + rng.below(95) as u8) as char;
                s.insert(at, c);
            }
        }
    }
    s.into_iter().collect()
}

/// Runs `check` on mutations of `seeds` until the budget is spent; a panic is reported with
/// the input that caused it.
fn property(name: &str, seeds: &[&str], check: impl Fn(&str)) {
    let mut rng = Rng::seed(0x5eed ^ name.len() as u64);
    let started = Instant::now();
    let limit = budget();
    let mut cases = 0usize;
    let mut input = String::new();
    while cases < MAX_CASES && started.elapsed() < limit {
        let seed = seeds[cases % seeds.len()];
        // Sometimes mutate the last input again, to go deeper than one round.
        input = if cases % 3 == 2 && input.len() < 4096 {
            mutate(&mut rng, &input)
        } else {
            mutate(&mut rng, seed)
        };
        let result = catch_unwind(AssertUnwindSafe(|| check(&input)));
        if result.is_err() {
            panic!("{name}: panicked on input {input:?}");
        }
        cases += 1;
    }
    eprintln!("{name}: {cases} cases in {:?}", started.elapsed());
    assert!(cases > 0);
}

fn utc(secs: i64) -> chrono::DateTime<FixedOffset> {
    FixedOffset::east_opt(0)
        .unwrap()
        .timestamp_opt(secs, 0)
        .unwrap()
}

#[test]
fn conf_text_parses_with_located_problems() {
    let seeds = [
        "[web.log]\ninterval = 3\ncount = 10\ntoken.0.token = \\d+\ntoken.0.replacementType = random\ntoken.0.replacement = integer[1:9]\n",
        "# comment\n[default]\nkey = value \\\n  continued\n[global]\noutputMode = stdout\n",
        "[a]\nbackfill = -1h\nend = 2\n\n[b]\nearliest=-5m@m\nlatest=now\n",
    ];
    property("conf", &seeds, |text| {
        let (_, problems) = eventgen::conf::parse_conf(Path::new("x.conf"), text);
        for p in problems {
            let shown = p.to_string();
            assert!(shown.starts_with("x.conf"), "unlocated problem: {shown}");
        }
    });
}

#[test]
fn relative_time_specs_parse_and_resolve() {
    let seeds = [
        "-1h@h",
        "now",
        "+3d@w1",
        "-30m",
        "@mon",
        "2024-01-01T00:00:00Z",
        "-1y@y+2h",
        "1700000000",
        "-15s@s",
        "+1q@q",
    ];
    property("relative time", &seeds, |text| {
        if let Ok(spec) = eventgen::timing::relative::TimeSpec::parse(text) {
            for now in [0, 1_709_164_798, 253_402_300_000] {
                let _ = spec.resolve(utc(now));
            }
        }
        let _ = eventgen::timing::relative::parse_duration_secs(text);
    });
}

#[test]
fn strftime_formats_compile_and_render() {
    let seeds = [
        "%Y-%m-%d %H:%M:%S",
        "%d/%b/%Y:%H:%M:%S %z",
        "%s.%f",
        "%a %b %e %H:%M:%S.%3N %Z %Y",
        "%%Y%j%U%W%G%V%u%w",
    ];
    property("strftime", &seeds, |format| {
        let f = eventgen::timing::strftime::TimeFormat::compile(format);
        let mut out = Vec::new();
        for now in [0, 1_709_164_798, 253_402_300_799] {
            out.clear();
            f.render(&utc(now), &mut out);
        }
    });
}

#[test]
fn strptime_formats_and_texts_never_panic() {
    let seeds = [
        "%Y-%m-%d %H:%M:%S|2024-02-29 12:00:00",
        "%d/%b/%Y:%H:%M:%S %z|29/Feb/2024:12:00:00 +0100",
        "%s|1709164798",
        "%b %d %H:%M:%S|Feb 29 12:00:00",
        "%Y-%m-%dT%H:%M:%S.%f%z|2024-02-29T12:00:00.123456Z",
    ];
    property("strptime", &seeds, |text| {
        let (format, value) = text.split_once('|').unwrap_or((text, text));
        let _ = eventgen::timing::strptime::strptime(format, value);
        let _ = eventgen::timing::strptime::strptime_prefix(format, value);
    });
}

#[test]
fn random_token_specs_parse() {
    let seeds = [
        "integer[0:10]",
        "float[0.5:3.25]",
        "hex(8)",
        "string(12)",
        "ipv4",
        "ipv6",
        "mac",
        "list[\"a\",\"b\"]",
        "guid",
        "integer[-5:-1]",
    ];
    property("random spec", &seeds, |text| {
        let _ = eventgen::token::random::RandomSpec::parse(text);
    });
}

#[test]
fn token_regexes_compile_and_match_in_bounded_time() {
    let seeds = [
        "\\d{4}-\\d{2}-\\d{2}",
        "(?<=id=)\\d+",
        "(a+)+$",
        "(\\w+)\\s\\1",
        "(?=(a+)+$)a",
        "[^,]+",
    ];
    let text = format!("{} id=12 2024-01-01 aaaa word word", "a".repeat(2000));
    property("token regex", &seeds, |pattern| {
        if let Ok(re) = eventgen::token::TokenRegex::compile(pattern) {
            let t = Instant::now();
            let mut n = 0;
            re.for_each_match(&text, |_, _| n += 1);
            let _ = re.first_capture(&text);
            assert!(
                t.elapsed() < Duration::from_secs(2),
                "{pattern:?} took {:?}",
                t.elapsed()
            );
        }
    });
}

#[test]
fn modinput_input_documents_parse() {
    let seeds = [
        "<input><server_host>h</server_host><server_uri>https://127.0.0.1:8089</server_uri><session_key>k</session_key><checkpoint_dir>/tmp/x</checkpoint_dir><configuration><stanza name=\"modinput_eventgen://default\"><param name=\"verbosity\">20</param></stanza></configuration></input>",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><items><server_host>h</server_host><item name=\"x\"><param_list name=\"p\"><value>1</value></param_list></item></items>",
        "<input/>",
    ];
    property("input xml", &seeds, |text| {
        let _ = eventgen::modinput::input::parse_input(text);
        let _ = eventgen::modinput::read_document(text.as_bytes(), "</input>");
        let _ = eventgen::modinput::decode(text.as_bytes());
    });
}

#[test]
fn hec_server_lists_and_answers_parse() {
    let seeds = [
        "{\"servers\":[{\"protocol\":\"https\",\"address\":\"127.0.0.1\",\"port\":8088,\"key\":\"abc\"}]}",
        "{\"acks\":{\"0\":true,\"1\":false}}",
        "{\"text\":\"Incorrect index\",\"code\":7,\"invalid-event-number\":0}",
    ];
    property("hec json", &seeds, |text| {
        let _ = eventgen::output::hec::config::parse_servers(text);
        let mut acks = eventgen::output::hec::ack::AckTracker::new(
            Instant::now(),
            Duration::from_secs(1),
            Duration::from_secs(5),
        );
        acks.add(0, (), Instant::now());
        acks.add(1, (), Instant::now());
        let _ = acks.apply(text.as_bytes());
    });
}

#[test]
fn redaction_never_lets_a_registered_secret_through() {
    let seeds = [
        "HEC 127.0.0.1:8088: 400 {\"echo\":\"Authorization: Splunk SECRETTOKEN-1234\"}",
        "password=SECRETTOKEN-1234&x=1",
        "plain message",
    ];
    let secrets = vec!["SECRETTOKEN-1234".to_string()];
    property("redaction", &seeds, |text| {
        let out = eventgen::log::redact(text, &secrets);
        assert!(!out.contains("SECRETTOKEN-1234"), "{out}");
        assert!(!out.contains('\n'), "{out}");
    });
}

#[test]
fn sample_and_csv_files_build_into_a_plan() {
    let seeds = [
        "_time,_raw,index,host,source,sourcetype\n2024-01-01T00:00:00,\"a \"\"quoted\"\" event\",main,h,s,st\n2024-01-01T00:00:05,second,main,h,s,st\n",
        "2024-01-01 00:00:00 first line\n2024-01-01 00:00:03 second\n",
        "_raw,host\n\"multi\nline\",h1\n",
    ];
    let dir = std::env::temp_dir().join(format!("eventgen-prop-samples-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("samples")).unwrap();
    std::fs::create_dir_all(dir.join("default")).unwrap();
    std::fs::write(
        dir.join("default/eventgen.conf"),
        "[s.csv]\nmode = replay\nsampletype = csv\n\n[s.log]\nmode = replay\n\
         token.0.token = \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\n\
         token.0.replacementType = replaytimestamp\ntoken.0.replacement = %Y-%m-%d %H:%M:%S\n",
    )
    .unwrap();
    let sources = vec![eventgen::plan::ConfSource {
        files: vec![dir.join("default/eventgen.conf")],
        default_sample_dir: dir.join("samples"),
        app: None,
    }];
    property("sample files", &seeds, |text| {
        std::fs::write(dir.join("samples/s.csv"), text).unwrap();
        std::fs::write(dir.join("samples/s.log"), text).unwrap();
        let (_, problems) = eventgen::plan::build(&sources, &eventgen::plan::Overrides::default());
        for p in problems {
            assert!(p.location.is_some() || p.stanza.is_some(), "unlocated: {p}");
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}
