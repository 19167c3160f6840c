//! The HEC sink against a real, independently written HEC server (Tenzir's `accept_splunk`,
//! installed and started by `tests/tools/tenzir-hec`; see `support/tenzir.rs`).

#[path = "support/skip.rs"]
mod skip;
#[path = "support/tenzir.rs"]
mod tenzir;

use std::time::{Duration, Instant};

use eventgen::output::hec::encode::encode_event;
use eventgen::output::hec::{Endpoint, HecConfig, HecSink, ServerConfig, StatsSnapshot};
use eventgen::output::{Batch, BatchMeta, EventMeta, Sink};
use tenzir::{Tenzir, raw_lines};

const TOKEN: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";

fn config(port: u16, token: &str) -> HecConfig {
    let mut c = HecConfig::with_servers(vec![ServerConfig {
        tls: false,
        address: "127.0.0.1".into(),
        port,
        token: token.into(),
    }]);
    c.timeout = Duration::from_secs(10);
    c
}

fn texts(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("tenzir event {i:05} \"quoted\" \\ tab\there"))
        .collect()
}

fn send(
    config: HecConfig,
    events: &[String],
    per: usize,
) -> (std::io::Result<Option<String>>, StatsSnapshot) {
    let endpoint = config.endpoint;
    let mut sink = HecSink::new(config).unwrap();
    let stats = sink.stats();
    for chunk in events.chunks(per) {
        let mut b = Batch {
            meta: BatchMeta {
                host: "web-01".into(),
                source: "/var/log/t.log".into(),
                sourcetype: "tenzir:test".into(),
                index: "main".into(),
            },
            ..Batch::default()
        };
        for t in chunk {
            let meta = EventMeta {
                time: 1_614_834_367_123_000,
                host: "web-01",
                source: "/var/log/t.log",
                sourcetype: "tenzir:test",
                index: "main",
            };
            match endpoint {
                Endpoint::Event => encode_event(&meta, t.as_bytes(), &mut b.bytes),
                Endpoint::Raw => {
                    b.bytes.extend_from_slice(t.as_bytes());
                    b.bytes.push(b'\n');
                }
            }
            b.ends.push(b.bytes.len() as u32);
        }
        sink.write(&b).unwrap();
    }
    sink.flush().unwrap();
    let r = sink.finish(Instant::now() + Duration::from_secs(60));
    (r, stats.snapshot())
}

fn event_texts(lines: &[serde_json::Value]) -> Vec<String> {
    let mut t: Vec<String> = lines
        .iter()
        .map(|l| l["event"].as_str().unwrap_or_default().to_string())
        .collect();
    t.sort();
    t
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Sends `n` events to a fresh receiver (`extra` for `accept_splunk`) and checks exactly
/// those arrived, with their metadata. `None` when Tenzir tests are skipped.
fn check_exact(extra: &str, cfg: impl Fn(&mut HecConfig), n: usize) -> Option<StatsSnapshot> {
    let r = Tenzir::start(TOKEN, extra)?;
    let events = texts(n);
    let mut c = config(r.port, TOKEN);
    cfg(&mut c);
    let (res, stats) = send(c, &events, 64);
    res.unwrap();
    let lines = r.wait_for(n, |l| l.len());
    assert_eq!(
        event_texts(&lines),
        sorted(events),
        "exactly the events sent"
    );
    let first = &lines[0];
    assert_eq!(first["host"], "web-01");
    assert_eq!(first["source"], "/var/log/t.log");
    assert_eq!(first["sourcetype"], "tenzir:test");
    assert_eq!(first["index"], "main");
    assert!(
        first["time"]
            .as_str()
            .unwrap_or_default()
            .starts_with("2021-03-04T05:06:07.12"),
        "{first}"
    );
    Some(stats)
}

#[test]
fn tenzir_event_endpoint_plain_gzip_and_small_payloads() {
    let Some(s) = check_exact("", |_| {}, 1000) else {
        return;
    };
    assert_eq!(s.sent, 1000);
    check_exact("", |c| c.gzip = true, 1000);
    let s = check_exact("", |c| c.max_payload = 300, 500).unwrap();
    assert!(
        s.requests >= 250,
        "small payload limit forces many requests: {}",
        s.requests
    );
}

#[test]
fn tenzir_raw_endpoint() {
    let Some(r) = Tenzir::start(TOKEN, "") else {
        return;
    };
    let events = texts(400);
    let mut c = config(r.port, TOKEN);
    c.endpoint = Endpoint::Raw;
    c.max_payload = 2000;
    let (res, _) = send(c, &events, 50);
    res.unwrap();
    let lines = r.wait_for(400, |l| raw_lines(l).len());
    let mut got = raw_lines(&lines);
    got.sort();
    assert_eq!(got, sorted(events));
    assert_eq!(lines[0]["host"], "web-01");
    assert_eq!(lines[0]["sourcetype"], "tenzir:test");
}

#[test]
fn tenzir_overloaded_still_delivers_everything() {
    let Some(s) = check_exact(", max_connections=1", |c| c.max_payload = 2000, 2000) else {
        return;
    };
    eprintln!("max_connections=1: {s}");
    // Two requests per 3 s get through, so use large payloads to keep the test short.
    let s = check_exact(
        ", ack=true, max_pending_acks=2, ack_timeout=3s",
        |c| c.max_payload = 40_000,
        2000,
    )
    .unwrap();
    eprintln!("max_pending_acks=2: {s}");
    assert!(s.retried > 0, "the receiver answered 503 and we retried");
}

#[test]
fn tenzir_wrong_token_ends_with_a_clear_error() {
    let Some(r) = Tenzir::start(TOKEN, "") else {
        return;
    };
    let mut sink = HecSink::new(config(r.port, "ffffffff-0000-0000-0000-000000000000")).unwrap();
    let started = Instant::now();
    let mut b = Batch::default();
    for t in texts(10) {
        let meta = EventMeta {
            time: 0,
            host: "h",
            source: "s",
            sourcetype: "st",
            index: "main",
        };
        encode_event(&meta, t.as_bytes(), &mut b.bytes);
        b.ends.push(b.bytes.len() as u32);
    }
    let _ = sink.write(&b);
    let err = sink
        .finish(Instant::now() + Duration::from_secs(30))
        .unwrap_err()
        .to_string();
    assert!(err.contains("refused the token"), "{err}");
    assert!(!err.contains("ffffffff"));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "no hang: {:?}",
        started.elapsed()
    );
    assert!(r.lines().is_empty());
}
