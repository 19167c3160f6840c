//! The HEC sink against our own scripted server: delivery counts under failures, acks, splits,
//! mirror and fatal token errors. Every test checks that nothing is lost and that duplicates
//! appear only where acknowledgements forced a resend.

#[path = "support/hec_server.rs"]
mod hec_server;
mod hec_tls;
#[path = "support/proxy.rs"]
mod proxy;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use eventgen::output::hec::encode::encode_event;
use eventgen::output::hec::{Endpoint, HecConfig, HecSink, OutputMode, ServerConfig};
use eventgen::output::{Batch, BatchMeta, EventMeta, Sink};
use hec_server::{Action, HecServer};

const TOKEN: &str = "11111111-2222-3333-4444-555555555555";

fn server_cfg(port: u16) -> ServerConfig {
    ServerConfig {
        tls: false,
        address: "127.0.0.1".into(),
        port,
        token: TOKEN.into(),
    }
}

fn config(ports: &[u16]) -> HecConfig {
    let mut c = HecConfig::with_servers(ports.iter().map(|&p| server_cfg(p)).collect());
    c.timeout = Duration::from_secs(5);
    c
}

fn texts(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("event {i:05} payload")).collect()
}

/// Batches of `per` events, encoded for /event (or /raw) as the workers will.
fn batches(events: &[String], per: usize, endpoint: Endpoint) -> Vec<Batch> {
    events
        .chunks(per)
        .map(|chunk| {
            let mut b = Batch {
                meta: BatchMeta {
                    host: "web-01".into(),
                    source: "/var/log/app.log".into(),
                    sourcetype: "app".into(),
                    index: "main".into(),
                },
                ..Batch::default()
            };
            for (i, t) in chunk.iter().enumerate() {
                let meta = EventMeta {
                    time: 1_700_000_000_000_000 + i as i64 * 1000,
                    host: "web-01",
                    source: "/var/log/app.log",
                    sourcetype: "app",
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
            b
        })
        .collect()
}

/// Writes every event and finishes; returns the sink's summary result and stats.
fn run(
    config: HecConfig,
    events: &[String],
    per: usize,
) -> (
    Result<Option<String>, std::io::Error>,
    eventgen::output::hec::StatsSnapshot,
) {
    let endpoint = config.endpoint;
    let mut sink = HecSink::new(config).unwrap();
    let stats = sink.stats();
    for b in batches(events, per, endpoint) {
        sink.write(&b).unwrap();
    }
    sink.flush().unwrap();
    let r = sink.finish(Instant::now() + Duration::from_secs(30));
    (r, stats.snapshot())
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn delivers_everything_once_with_metadata_channel_and_keep_alive() {
    let srv = HecServer::start(|_| Action::Accept);
    let events = texts(1000);
    let mut cfg = config(&[srv.port]);
    cfg.max_payload = 2000;
    let (r, stats) = run(cfg, &events, 37);
    let summary = r.unwrap().unwrap();
    assert_eq!(srv.texts(), sorted(events.clone()));
    assert_eq!(stats.sent, 1000);
    assert_eq!(stats.failed + stats.retried + stats.resent, 0);
    assert!(summary.contains("sent 1000 events"), "{summary}");
    let first = &srv.events()[0];
    assert_eq!(first["host"], "web-01");
    assert_eq!(first["sourcetype"], "app");
    assert_eq!(first["index"], "main");
    assert!(first["time"].as_f64().unwrap() >= 1_700_000_000.0);
    let reqs = srv.requests();
    assert!(
        reqs.len() > 10,
        "payload limit cuts requests: {}",
        reqs.len()
    );
    for r in &reqs {
        assert!(r.body.len() <= 2000);
        assert_eq!(r.path, "/services/collector/event");
        assert_eq!(
            r.header("Authorization"),
            Some(format!("Splunk {TOKEN}").as_str())
        );
        assert_eq!(
            r.header("X-Splunk-Request-Channel").map(|c| c.len()),
            Some(36)
        );
    }
    let channels: std::collections::HashSet<_> = reqs
        .iter()
        .filter_map(|r| r.header("X-Splunk-Request-Channel"))
        .collect();
    assert!(
        channels.len() <= 4,
        "one channel per sender: {}",
        channels.len()
    );
}

#[test]
fn raw_endpoint_and_gzip() {
    let srv = HecServer::start(|_| Action::Accept);
    let events = texts(300);
    let mut cfg = config(&[srv.port]);
    cfg.endpoint = Endpoint::Raw;
    cfg.gzip = true;
    let (r, _) = run(cfg, &events, 50);
    r.unwrap();
    assert_eq!(srv.texts(), sorted(events));
    let e = &srv.events()[0];
    assert_eq!(
        (e["host"].as_str(), e["source"].as_str()),
        (Some("web-01"), Some("/var/log/app.log"))
    );
    for r in srv.requests() {
        assert_eq!(r.path, "/services/collector/raw");
        assert_eq!(r.header("Content-Encoding"), Some("gzip"));
    }
}

#[test]
fn acks_resend_what_is_never_acknowledged() {
    // Id 0 of every channel is never acknowledged; all others are, after 200 ms.
    let srv = HecServer::start_with_acks(
        |_| Action::Accept,
        |id, age| id != 0 && age >= Duration::from_millis(200),
    );
    let events = texts(400);
    let mut cfg = config(&[srv.port]);
    cfg.ack = true;
    cfg.ack_timeout = Duration::from_millis(2500);
    cfg.max_payload = 1500;
    let (r, stats) = run(cfg, &events, 40);
    r.unwrap();
    let got = srv.texts();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for t in &got {
        *counts.entry(t.as_str()).or_default() += 1;
    }
    assert!(
        events
            .iter()
            .all(|e| counts.get(e.as_str()).copied().unwrap_or(0) >= 1),
        "nothing lost"
    );
    let duplicates = got.len() - events.len();
    assert!(
        stats.resent > 0,
        "the never-acknowledged requests were resent"
    );
    assert_eq!(
        duplicates as u64, stats.resent,
        "duplicates are exactly the resent events"
    );
    assert_eq!(stats.acknowledged, 400);
    assert!(srv.state.ack_polls.load(Ordering::SeqCst) > 0);
}

#[test]
fn connection_resets_and_slow_responses_lose_nothing() {
    let srv = HecServer::start(|r| match r.n {
        2 | 5 | 6 => Action::Reset,
        n if n % 3 == 0 => Action::Delay(Duration::from_millis(150), Box::new(Action::Accept)),
        _ => Action::Accept,
    });
    let events = texts(500);
    let mut cfg = config(&[srv.port]);
    cfg.max_payload = 1000;
    let (r, stats) = run(cfg, &events, 25);
    r.unwrap();
    assert_eq!(srv.texts(), sorted(events), "exactly once");
    assert!(stats.retried > 0);
}

#[test]
fn server_down_at_first_then_up() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let events = texts(200);
    let mut sink = HecSink::new(config(&[port])).unwrap();
    let stats = sink.stats();
    for b in batches(&events, 20, Endpoint::Event) {
        sink.write(&b).unwrap();
    }
    sink.flush().unwrap();
    // Wait (bounded) until the sender has failed at least once, then start the server.
    let deadline = Instant::now() + Duration::from_secs(10);
    while stats.snapshot().retried == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        stats.snapshot().retried > 0,
        "connection refused was retried"
    );
    let srv = HecServer::start_on(
        port,
        Arc::new(|_: &hec_server::Request| Action::Accept),
        None,
    );
    sink.finish(Instant::now() + Duration::from_secs(30))
        .unwrap();
    assert_eq!(srv.texts(), sorted(events));
    assert_eq!(stats.snapshot().sent, 200);
}

#[test]
fn mirror_pair_with_one_failing_for_a_while() {
    let good = HecServer::start(|_| Action::Accept);
    let flaky = HecServer::start(|r| {
        if r.n < 4 {
            Action::Reply(503, r#"{"text":"Server is busy","code":9}"#.into())
        } else {
            Action::Accept
        }
    });
    let events = texts(300);
    let mut cfg = config(&[good.port, flaky.port]);
    cfg.mode = OutputMode::Mirror;
    let (r, stats) = run(cfg, &events, 30);
    r.unwrap();
    assert_eq!(good.texts(), sorted(events.clone()));
    assert_eq!(flaky.texts(), sorted(events));
    assert_eq!(stats.sent, 600, "each server counts");
    assert!(stats.retried > 0);
}

#[test]
fn roundrobin_moves_work_off_a_dead_token_server() {
    let good = HecServer::start(|_| Action::Accept);
    let bad =
        HecServer::start(|_| Action::Reply(403, r#"{"text":"Invalid token","code":4}"#.into()));
    let events = texts(300);
    let (r, stats) = run(config(&[bad.port, good.port]), &events, 30);
    r.unwrap();
    assert_eq!(good.texts(), sorted(events));
    assert!(
        bad.requests().len() <= 4,
        "no retry storm: {}",
        bad.requests().len()
    );
    assert_eq!(stats.failed, 0);
}

#[test]
fn too_large_requests_are_split() {
    let srv = HecServer::start(|r| {
        if r.events() > 5 {
            Action::Reply(413, "too big".into())
        } else {
            Action::Accept
        }
    });
    let events = texts(200);
    let mut cfg = config(&[srv.port]);
    cfg.max_payload = 100_000;
    let (r, stats) = run(cfg, &events, 200);
    r.unwrap();
    assert_eq!(srv.texts(), sorted(events));
    assert!(stats.retried > 0);
    assert_eq!(stats.failed, 0);
}

#[test]
fn other_client_errors_drop_and_count() {
    let srv = HecServer::start(|r| {
        if r.n == 0 {
            Action::Reply(400, r#"{"text":"Incorrect index","code":7}"#.into())
        } else {
            Action::Accept
        }
    });
    let events = texts(100);
    let mut cfg = config(&[srv.port]);
    cfg.max_in_flight = 1;
    cfg.max_payload = 500;
    let (r, stats) = run(cfg, &events, 100);
    r.unwrap();
    let first = srv.requests()[0].events() as u64;
    assert_eq!(stats.failed, first);
    assert_eq!(stats.sent + stats.failed, 100);
    assert_eq!(srv.texts().len() as u64, 100 - first);
}

#[test]
fn token_error_is_fatal_and_quick() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let srv = HecServer::start(move |_| {
        c.fetch_add(1, Ordering::SeqCst);
        Action::Reply(403, r#"{"text":"Invalid token","code":4}"#.into())
    });
    let started = Instant::now();
    let mut sink = HecSink::new(config(&[srv.port])).unwrap();
    let stats = sink.stats();
    let mut write_failed = false;
    for b in batches(&texts(2000), 50, Endpoint::Event) {
        if sink.write(&b).is_err() {
            write_failed = true;
            break;
        }
        let _ = sink.flush();
        if stats.snapshot().fatal {
            // the next write must fail
        }
    }
    let _ = write_failed;
    let r = sink.finish(Instant::now() + Duration::from_secs(30));
    let err = r.unwrap_err().to_string();
    assert!(err.contains("refused the token"), "{err}");
    assert!(!err.contains(TOKEN));
    assert!(stats.snapshot().fatal);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "quick: {:?}",
        started.elapsed()
    );
    assert!(
        calls.load(Ordering::SeqCst) <= 4,
        "no retry storm: {}",
        calls.load(Ordering::SeqCst)
    );
}

#[test]
fn deadline_reports_what_was_not_delivered() {
    let srv =
        HecServer::start(|_| Action::Reply(503, r#"{"text":"Server is busy","code":9}"#.into()));
    let mut sink = HecSink::new(config(&[srv.port])).unwrap();
    for b in batches(&texts(50), 50, Endpoint::Event) {
        sink.write(&b).unwrap();
    }
    let started = Instant::now();
    let err = sink
        .finish(Instant::now() + Duration::from_millis(800))
        .unwrap_err()
        .to_string();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "finish respects its deadline"
    );
    assert!(err.contains("not delivered 50"), "{err}");
}
