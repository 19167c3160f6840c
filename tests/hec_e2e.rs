//! `outputMode = httpevent` through the real binary: `eventgen generate` on a temporary app
//! pushing to Tenzir's independent HEC server (`support/tenzir.rs`) and to our scripted test
//! server. Every test counts what arrived against what the same seed writes to stdout: nothing
//! lost, nothing doubled, metadata intact.

use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::hec_server::{Action, HecServer};
use crate::proxy::Proxy;
use crate::support::*;
use crate::tenzir::{Tenzir, raw_lines};

const TOKEN: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
const WRONG_TOKEN: &str = "ffffffff-0000-1111-2222-333333333333";
const START: &str = "2024-01-01T00:00:00Z";
/// Intervals per run (`-e`).
const END: usize = 40;
/// Lines of `SAMPLE`, all emitted each interval (`count = -1`).
const PER_INTERVAL: usize = 5;
/// How long a finished run may take; the runs here take well under a second when healthy.
const RUN_DEADLINE: Duration = Duration::from_secs(20);

/// Quotes, backslashes, tabs, non-ASCII and markup: everything the JSON encoder must escape.
const SAMPLE: &str = "\
alpha \"quoted\" value=1
beta back\\slash\ttab value=2
gamma \u{fc}n\u{ef}c\u{f6}d\u{e9} \u{2603} value=3
delta <xml attr='x'> & value=4
epsilon {\"json\":[1,2]} value=5
";

fn servers_json(ports: &[u16], token: &str) -> String {
    let list: Vec<String> = ports
        .iter()
        .map(|p| {
            format!(r#"{{"protocol":"http","address":"127.0.0.1","port":"{p}","key":"{token}"}}"#)
        })
        .collect();
    format!(r#"{{"servers":[{}]}}"#, list.join(","))
}

/// An app with one httpevent sample; `extra` lines go into its stanza.
fn app(tag: &str, ports: &[u16], token: &str, extra: &str) -> App {
    let conf = format!(
        "[e2e.log]\n\
         count = -1\n\
         interval = 1\n\
         host = web-e2e\n\
         source = /var/log/e2e.log\n\
         sourcetype = e2e:test\n\
         index = e2eidx\n\
         outputMode = httpevent\n\
         httpeventServers = {}\n\
         {extra}\n",
        servers_json(ports, token)
    );
    let a = App::new(tag, &conf);
    a.sample("e2e.log", SAMPLE);
    a
}

fn args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["generate", ".", "--now", START, "--seed", "1"];
    v.extend_from_slice(extra);
    v
}

/// What the same app writes to stdout: the events the HEC run must deliver, sorted.
fn expected(a: &App) -> Vec<String> {
    let end = END.to_string();
    let o = a.raw(&[
        "generate", ".", "--now", START, "--seed", "1", "-e", &end, "--output", "stdout",
    ]);
    assert_code(&o, 0);
    let mut lines: Vec<String> = stdout(&o).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), END * PER_INTERVAL, "stdout run");
    lines.sort();
    lines
}

/// `eventgen generate . --now START --seed 1 -v -e END` in the app, bounded.
fn run_hec(a: &App) -> Output {
    let end = END.to_string();
    let mut cmd = Command::new(bin());
    cmd.args(args(&["-v"]))
        .args(["-e", &end])
        .current_dir(a.path())
        .env("TZ", "UTC");
    output_within(cmd, RUN_DEADLINE)
}

fn sorted_texts(events: &[serde_json::Value]) -> Vec<String> {
    let mut t: Vec<String> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap_or_default().to_string())
        .collect();
    t.sort();
    t
}

#[track_caller]
fn assert_meta(e: &serde_json::Value) {
    assert_eq!(e["host"], "web-e2e", "{e}");
    assert_eq!(e["source"], "/var/log/e2e.log", "{e}");
    assert_eq!(e["sourcetype"], "e2e:test", "{e}");
    assert_eq!(e["index"], "e2eidx", "{e}");
}

// ---- Tenzir ----------------------------------------------------------------------------------

/// Runs the app (with `extra` stanza lines) into a fresh Tenzir receiver over /event and
/// checks every event arrived once with its metadata and time. Returns eventgen's stderr.
fn tenzir_event_run(tag: &str, extra: &str) -> Option<String> {
    let t = Tenzir::start(TOKEN, "")?;
    let a = app(tag, &[t.port], TOKEN, extra);
    let want = expected(&a);
    let o = run_hec(&a);
    assert_code(&o, 0);
    let lines = t.wait_for(want.len(), |l| l.len());
    assert_eq!(lines.len(), END * PER_INTERVAL, "events at Tenzir");
    assert_eq!(sorted_texts(&lines), want, "exactly the stdout events");
    for e in &lines {
        assert_meta(e);
        let time = e["time"].as_str().unwrap_or_default();
        assert!(time.starts_with("2024-01-01T00:00:"), "{e}");
    }
    Some(stderr(&o))
}

#[test]
fn tenzir_event_endpoint() {
    tenzir_event_run("hec-e2e-plain", "");
}

#[test]
fn tenzir_event_endpoint_gzip() {
    tenzir_event_run("hec-e2e-gzip", "httpeventGzip = true");
}

#[test]
fn tenzir_small_payloads_many_requests() {
    // About 60 bytes per encoded event with this metadata: 500 bytes holds a handful, so
    // 200 events need dozens of requests. The verbose summary reports them.
    let Some(err) = tenzir_event_run("hec-e2e-small", "httpeventMaxPayloadSize = 500") else {
        return;
    };
    let requests = requests_sent(&err);
    assert!(requests >= 40, "{requests} requests:\n{err}");
}

/// N of the summary line `INFO HEC: sent E events in N requests, ...`.
fn requests_sent(stderr: &str) -> usize {
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("INFO HEC: sent "))
        .and_then(|r| r.split(" events in ").nth(1))
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no HEC summary in:\n{stderr}"))
}

#[test]
fn tenzir_raw_endpoint() {
    let Some(t) = Tenzir::start(TOKEN, "") else {
        return;
    };
    let a = app(
        "hec-e2e-raw",
        &[t.port],
        TOKEN,
        "httpeventEndpoint = raw\nhttpeventMaxPayloadSize = 2000",
    );
    let want = expected(&a);
    let o = run_hec(&a);
    assert_code(&o, 0);
    assert!(
        requests_sent(&stderr(&o)) > 1,
        "2000-byte limit: several requests"
    );
    let lines = t.wait_for(want.len(), |l| raw_lines(l).len());
    for l in &lines {
        assert_meta(l);
    }
    let mut got = raw_lines(&lines);
    got.sort();
    assert_eq!(got, want);
}

#[test]
fn tenzir_wrong_token_exits_non_zero() {
    let Some(t) = Tenzir::start(TOKEN, "") else {
        return;
    };
    let a = app("hec-e2e-tz-token", &[t.port], WRONG_TOKEN, "");
    let started = Instant::now();
    let o = run_hec(&a);
    assert_wrong_token(&o, t.port, started.elapsed());
    assert!(t.lines().is_empty(), "nothing accepted");
}

// ---- our scripted server -----------------------------------------------------------------------

/// Accepts only `TOKEN`; anything else gets Splunk's 403 "Invalid token".
fn token_checking_server() -> HecServer {
    HecServer::start(|r| {
        if r.header("Authorization") == Some(&format!("Splunk {TOKEN}")) {
            Action::Accept
        } else {
            Action::Reply(403, r#"{"text":"Invalid token","code":4}"#.into())
        }
    })
}

#[track_caller]
fn assert_wrong_token(o: &Output, port: u16, took: Duration) {
    let err = stderr(o);
    assert_ne!(o.status.code(), Some(0), "wrong token must fail:\n{err}");
    assert!(took < Duration::from_secs(5), "took {took:?}:\n{err}");
    assert!(
        err.lines()
            .any(|l| l.starts_with("ERROR") && l.contains(&format!("127.0.0.1:{port}"))),
        "an ERROR naming the server:\n{err}"
    );
    assert!(!err.contains(WRONG_TOKEN), "token printed:\n{err}");
    assert!(!stdout(o).contains(WRONG_TOKEN), "token printed on stdout");
}

#[test]
fn wrong_token_exits_non_zero_naming_the_server() {
    let s = token_checking_server();
    let a = app("hec-e2e-token", &[s.port], WRONG_TOKEN, "");
    let started = Instant::now();
    let o = run_hec(&a);
    assert_wrong_token(&o, s.port, started.elapsed());
    assert!(s.events().is_empty());
    assert!(
        s.state
            .data_requests
            .load(std::sync::atomic::Ordering::SeqCst)
            <= 4,
        "no retry storm on a refused token"
    );
}

#[test]
fn wrong_token_ends_an_endless_run() {
    let s = token_checking_server();
    let a = app("hec-e2e-token-live", &[s.port], WRONG_TOKEN, "");
    // Real time, no -e: only the refused token can end this run.
    let mut cmd = Command::new(bin());
    cmd.args(["generate", "."]).current_dir(a.path());
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = started + Duration::from_secs(8);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    let status = status.unwrap_or_else(|| panic!("still running after 8 s:\n{err}"));
    assert!(!status.success(), "{err}");
}

#[test]
fn server_down_for_the_first_seconds_still_gets_everything() {
    let port = free_port();
    let a = app(
        "hec-e2e-down",
        &[port],
        TOKEN,
        "httpeventMaxPayloadSize = 1000",
    );
    let want = expected(&a);
    let end = END.to_string();
    let started = Instant::now();
    let child = Command::new(bin())
        .args(args(&["-e", &end]))
        .current_dir(a.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Nothing listens on `port` for two seconds; then the server comes up there.
    std::thread::sleep(Duration::from_secs(2));
    let s = HecServer::start_on(port, std::sync::Arc::new(|_: &_| Action::Accept), None);
    let o = wait_output(child, Duration::from_secs(15));
    assert_code(&o, 0);
    assert!(started.elapsed() >= Duration::from_secs(2));
    let err = stderr(&o);
    assert!(
        err.lines().any(|l| l.starts_with("WARN")),
        "the outage is reported:\n{err}"
    );
    let events = s.events();
    assert_eq!(sorted_texts(&events), want, "every event, once");
    events.iter().for_each(assert_meta);
}

#[test]
fn mirror_sends_every_event_to_both_servers() {
    let s1 = HecServer::start(|_| Action::Accept);
    let s2 = HecServer::start(|_| Action::Accept);
    let a = app(
        "hec-e2e-mirror",
        &[s1.port, s2.port],
        TOKEN,
        "httpeventOutputMode = mirror\nhttpeventMaxPayloadSize = 1000",
    );
    let want = expected(&a);
    let o = run_hec(&a);
    assert_code(&o, 0);
    for s in [&s1, &s2] {
        let events = s.events();
        assert_eq!(sorted_texts(&events), want, "server {}", s.port);
        events.iter().for_each(assert_meta);
    }
}

#[test]
fn roundrobin_splits_the_events_between_two_servers() {
    let s1 = HecServer::start(|_| Action::Accept);
    let s2 = HecServer::start(|_| Action::Accept);
    let a = app(
        "hec-e2e-rr",
        &[s1.port, s2.port],
        TOKEN,
        "httpeventOutputMode = roundrobin\nhttpeventMaxPayloadSize = 500",
    );
    let want = expected(&a);
    let o = run_hec(&a);
    assert_code(&o, 0);
    let (e1, e2) = (s1.events(), s2.events());
    assert!(
        !e1.is_empty() && !e2.is_empty(),
        "both servers used: {} + {}",
        e1.len(),
        e2.len()
    );
    let mut all = e1;
    all.extend(e2);
    assert_eq!(sorted_texts(&all), want, "every event exactly once");
}

// ---- proxies ---------------------------------------------------------------------------------

/// A run of `a` with only these proxy variables in its environment.
fn run_with_proxy_env(a: &App, vars: &[(&str, &str)]) -> Output {
    let end = END.to_string();
    let mut cmd = Command::new(bin());
    cmd.args(args(&["-v", "-e", &end]))
        .current_dir(a.path())
        .env("TZ", "UTC");
    for v in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "no_proxy",
    ] {
        cmd.env_remove(v);
    }
    for (k, v) in vars {
        cmd.env(k, v);
    }
    output_within(cmd, RUN_DEADLINE)
}

/// An app tag, a line for its stanza, its proxy environment, and whether it uses the proxy.
type ProxyCase<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>, bool);

#[test]
fn http_proxy_from_the_environment_no_proxy_and_httpevent_proxy() {
    let srv = HecServer::start(|_| Action::Accept);
    let proxy = Proxy::start();
    let url = proxy.url();
    let key_line = format!("httpeventProxy = {url}");
    // (app, stanza line, environment, goes through the proxy)
    let cases: [ProxyCase; 4] = [
        ("proxy-env", "", vec![("HTTP_PROXY", url.as_str())], true),
        (
            "proxy-no-proxy",
            "",
            vec![
                ("http_proxy", url.as_str()),
                ("NO_PROXY", "localhost,127.0.0.1"),
            ],
            false,
        ),
        (
            "proxy-key-none",
            "httpeventProxy = none",
            vec![("HTTP_PROXY", url.as_str())],
            false,
        ),
        ("proxy-key", key_line.as_str(), vec![], true),
    ];
    for (tag, extra, env, through) in cases {
        let before_proxy = proxy.count();
        let before = srv.texts().len();
        let a = app(tag, &[srv.port], TOKEN, extra);
        let o = run_with_proxy_env(&a, &env);
        assert_code(&o, 0);
        let got = srv.texts().len() - before;
        assert_eq!(got, END * PER_INTERVAL, "{tag}: every event arrives");
        let proxied = proxy.count() - before_proxy;
        assert_eq!(
            proxied > 0,
            through,
            "{tag}: {proxied} requests through the proxy"
        );
    }
}

#[test]
fn tenzir_three_shards_deliver_exactly_the_single_run() {
    let Some(t) = Tenzir::start(TOKEN, "") else {
        return;
    };
    // Random tokens, so a shard that generated another shard's events (or its own twice)
    // would show as a wrong multiset.
    let a = app(
        "hec-e2e-shards",
        &[t.port],
        TOKEN,
        "token.0.token = value=(\\d+)\n\
         token.0.replacementType = random\n\
         token.0.replacement = integer[1:1000000000]\n",
    );
    let want = expected(&a);
    for k in 0..3 {
        let end = END.to_string();
        let spec = format!("{k}/3");
        let mut cmd = Command::new(bin());
        cmd.args(args(&["-e", &end, "--shard", &spec]))
            .current_dir(a.path())
            .env("TZ", "UTC");
        let o = output_within(cmd, RUN_DEADLINE);
        assert_code(&o, 0);
    }
    let lines = t.wait_for(want.len(), |l| l.len());
    assert_eq!(
        sorted_texts(&lines),
        want,
        "the three shards' events at Tenzir"
    );
    for e in &lines {
        assert_meta(e);
    }
}
