//! Live metrics through the binary: `--metrics ADDR` scraped with a plain HTTP GET during a
//! run and compared with what the run wrote and its summary; the lag gauge rising while the
//! output is stalled; and the same figures in eventgen.log, with the `shard` parameter, when
//! Splunk runs the modular input.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::*;

const SAMPLE: &str = "\
2024-01-01 00:00:00 alpha value=1
2024-01-01 00:00:00 beta value=22
2024-01-01 00:00:00 gamma value=333
";

/// How long a real-time step of these tests may take before the test gives up.
const STEP: Duration = Duration::from_secs(20);

/// One HTTP GET on 127.0.0.1: status line and body.
fn get(addr: &str, path: &str) -> (String, String) {
    let mut s = TcpStream::connect(addr).expect("connect to the metrics server");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
    (
        head.lines().next().unwrap_or("").to_string(),
        body.to_string(),
    )
}

/// The value of the sample line `series` (name with labels, exactly as exposed).
#[track_caller]
fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {series} in:\n{text}"))
        .trim()
        .parse()
        .unwrap()
}

/// Reads the child's stderr on a thread; returns a channel of its lines.
fn stderr_lines(err: ChildStderr) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits (bounded) for the "serving metrics on http://ADDR/metrics" line; returns ADDR.
fn metrics_addr(lines: &mpsc::Receiver<String>, seen: &mut Vec<String>) -> String {
    let deadline = Instant::now() + STEP;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = lines
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no metrics address on stderr: {seen:?}"));
        seen.push(line.clone());
        if let Some(rest) = line.strip_prefix("INFO serving metrics on http://") {
            return rest.trim_end_matches("/metrics").to_string();
        }
    }
}

fn app(tag: &str, stanza: &str) -> App {
    let a = App::new(tag, &format!("[m.log]\noutputMode = stdout\n{stanza}"));
    a.sample("m.log", SAMPLE);
    a
}

fn spawn(a: &App, args: &[&str]) -> Child {
    Command::new(bin())
        .args(args)
        .current_dir(a.path())
        .env("TZ", "UTC")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run eventgen")
}

/// Kills the child if a test fails half-way.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `eventgen generate . --metrics 127.0.0.1:0 -v` in `a`, once it serves: the child, its
/// stderr lines, the lines seen so far and the metrics address.
fn serving(a: &App) -> (Guard, mpsc::Receiver<String>, Vec<String>, String) {
    let mut child = Guard(spawn(
        a,
        &["generate", ".", "--metrics", "127.0.0.1:0", "-v"],
    ));
    let lines = stderr_lines(child.0.stderr.take().unwrap());
    let mut seen = Vec::new();
    let addr = metrics_addr(&lines, &mut seen);
    (child, lines, seen, addr)
}

#[test]
fn scraped_counters_match_what_was_written_and_the_summary() {
    // One firing now, the next in an hour: after the first 7 events nothing changes until the
    // test stops the run.
    let a = app("metrics-scrape", "count = 7\ninterval = 3600\nend = -1\n");
    let mut child = Guard(spawn(
        &a,
        &[
            "generate",
            ".",
            "--seed",
            "1",
            "-v",
            "--metrics",
            "127.0.0.1:0",
        ],
    ));
    let lines = stderr_lines(child.0.stderr.take().unwrap());
    let mut seen = Vec::new();
    let addr = metrics_addr(&lines, &mut seen);
    let mut out = BufReader::new(child.0.stdout.take().unwrap());
    let mut written = Vec::new();
    for _ in 0..7 {
        let mut l = String::new();
        out.read_line(&mut l).unwrap();
        written.push(l);
    }
    let (status, body) = get(&addr, "/metrics");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(
        body.contains("# TYPE eventgen_events_total counter"),
        "{body}"
    );
    assert_eq!(value(&body, "eventgen_events_total{sample=\"m.log\"}"), 7.0);
    // Bytes of event text: each sample line as rendered, with its newline.
    let text_bytes: usize = written.iter().map(String::len).sum();
    assert_eq!(
        value(&body, "eventgen_bytes_total{sample=\"m.log\"}"),
        text_bytes as f64
    );
    assert_eq!(
        value(&body, "eventgen_output_sent_total{output=\"stdout\"}"),
        7.0
    );
    assert_eq!(
        value(&body, "eventgen_output_failed_total{output=\"stdout\"}"),
        0.0
    );
    assert_eq!(value(&body, "eventgen_schedule_lag_seconds"), 0.0);
    assert_eq!(value(&body, "eventgen_shard{index=\"0\",count=\"1\"}"), 1.0);
    let (status, _) = get(&addr, "/nothing");
    assert_eq!(status, "HTTP/1.1 404 Not Found");

    sigterm(&child.0);
    let deadline = Instant::now() + STEP;
    while child.0.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
    while let Ok(l) = lines.recv_timeout(Duration::from_secs(5)) {
        seen.push(l);
    }
    let summary = seen
        .iter()
        .find(|l| l.starts_with("INFO generated "))
        .unwrap_or_else(|| panic!("no summary: {seen:?}"));
    assert!(summary.starts_with("INFO generated 7 events"), "{summary}");
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    assert!(rest.is_empty(), "more events after the scrape: {rest}");
}

#[test]
fn the_lag_gauge_rises_while_the_output_is_stalled() {
    // A thousand events a second into a pipe nobody reads: once the pipe and the queues are
    // full, generation falls behind its schedule.
    let a = app("metrics-lag", "count = 20000\ninterval = 1\nend = -1\n");
    let (_child, lines, mut seen, addr) = serving(&a);
    let deadline = Instant::now() + STEP;
    let mut lags = Vec::new();
    loop {
        let (_, body) = get(&addr, "/metrics");
        let lag = value(&body, "eventgen_schedule_lag_seconds");
        lags.push(lag);
        if lag >= 1.5 {
            assert!(value(&body, "eventgen_queue_batches") > 0.0, "{body}");
            break;
        }
        assert!(Instant::now() < deadline, "the lag never rose: {lags:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(lags[0], 0.0, "behind before the pipe was full: {lags:?}");
    // More than one interval behind: a WARN (once a minute) says so.
    let deadline = Instant::now() + STEP;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let l = lines
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no lag warning: {seen:?}"));
        if l.starts_with("WARN generation is ") {
            assert!(
                l.contains("behind its schedule (sample m.log, interval 1.000 s)"),
                "{l}"
            );
            break;
        }
        seen.push(l);
    }
}

/// A client that sends one byte of a request now and then, for as long as it is let.
fn trickler(addr: &str) -> std::thread::JoinHandle<()> {
    let mut s = TcpStream::connect(addr).expect("connect to the metrics server");
    std::thread::spawn(move || {
        for b in b"GET /metrics HTTP/1.1\r\nHost: x\r\n"
            .iter()
            .cycle()
            .take(40)
        {
            if s.write_all(&[*b]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    })
}

#[test]
fn a_trickling_client_holds_neither_other_scrapes_nor_the_end_of_the_run() {
    // Two firings two seconds apart, then the run ends by itself.
    let a = app("metrics-trickle", "count = 3\ninterval = 2\nend = 2\n");
    let (mut child, _lines, seen, addr) = serving(&a);
    let _slow = [trickler(&addr), trickler(&addr)];
    std::thread::sleep(Duration::from_millis(100));
    let asked = Instant::now();
    let (status, body) = get(&addr, "/metrics");
    let took = asked.elapsed();
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(body.contains("eventgen_output_sent_total"), "{body}");
    assert!(
        took < Duration::from_secs(1),
        "a scrape waited {took:?} behind a slow client"
    );
    let mut out = BufReader::new(child.0.stdout.take().unwrap());
    let mut last = Instant::now();
    for _ in 0..6 {
        let mut l = String::new();
        assert!(
            out.read_line(&mut l).unwrap() > 0,
            "the run wrote fewer than 6 events"
        );
        last = Instant::now();
    }
    let deadline = Instant::now() + STEP;
    let code = loop {
        if let Some(st) = child.0.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < deadline, "the run did not end");
        std::thread::sleep(Duration::from_millis(10));
    };
    let lag = last.elapsed();
    assert_eq!(code.code(), Some(0), "{seen:?}");
    assert!(
        lag < Duration::from_secs(1),
        "the run ended {lag:?} after its last events"
    );
}

#[test]
fn sigterm_is_not_held_by_a_trickling_client() {
    let a = app(
        "metrics-trickle-term",
        "count = 1\ninterval = 3600\nend = -1\n",
    );
    let (mut child, _lines, _seen, addr) = serving(&a);
    let mut out = BufReader::new(child.0.stdout.take().unwrap());
    let mut l = String::new();
    out.read_line(&mut l).unwrap();
    let _slow = trickler(&addr);
    std::thread::sleep(Duration::from_millis(200));
    let asked = Instant::now();
    sigterm(&child.0);
    let deadline = asked + STEP;
    while child.0.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "SIGTERM did not end the run");
        std::thread::sleep(Duration::from_millis(10));
    }
    let took = asked.elapsed();
    assert!(took < Duration::from_secs(1), "SIGTERM took {took:?}");
}

#[test]
fn the_page_shows_no_absolute_paths_or_urls() {
    let a = App::new(
        "metrics-names",
        "[m.log]\noutputMode = file\nfileName = out/events.log\ncount = 1\ninterval = 3600\nend = -1\n",
    );
    a.sample("m.log", SAMPLE);
    let (child, _lines, _seen, addr) = serving(&a);
    let (_, body) = get(&addr, "/metrics");
    assert!(
        body.contains("eventgen_output_sent_total{output=\"file events.log\"}"),
        "{body}"
    );
    let root = a.path().to_string_lossy().to_string();
    assert!(!body.contains(&root), "{body}");
    sigterm(&child.0);
}

#[test]
fn an_address_in_use_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let a = app("metrics-busy", "count = 1\nend = 1\n");
    let o = a.run(&["--metrics", &addr]);
    assert_code(&o, 1);
    assert!(
        stderr(&o).starts_with(&format!("ERROR cannot serve metrics on {addr}: ")),
        "{}",
        stderr(&o)
    );
    assert!(o.stdout.is_empty());
}

/// `$SPLUNK_HOME` with one app and its sample; the input stanza has `params` (XML).
fn splunk_home(params: &str) -> (SplunkHome, String) {
    let home = SplunkHome::new("metrics-splunk");
    home.app(
        "load",
        "[m.log]\ncount = 6\ninterval = 1\nearliest = now\nlatest = now\n",
    )
    .sample("load", "m.log", SAMPLE);
    let input = home.input(params);
    (home, input)
}

#[test]
fn splunk_mode_logs_the_figures_as_key_value_lines_for_its_shard() {
    let (home, input) = splunk_home("<param name=\"shard\">1/2</param>");
    let log = home.path().join("var/log/splunk/eventgen.log");
    let mut child = Guard(
        Command::new(bin())
            .env("SPLUNK_HOME", home.path())
            .env("EVENTGEN_METRICS_LOG_SECS", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    child
        .0
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let mut out = child.0.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let _err = stderr_lines(child.0.stderr.take().unwrap());
    // Periodic lines while running (every second here, every 30 s by default).
    let deadline = Instant::now() + STEP;
    while std::fs::read_to_string(&log)
        .unwrap_or_default()
        .matches("metrics kind=run")
        .count()
        < 2
    {
        assert!(
            Instant::now() < deadline,
            "no periodic metrics in eventgen.log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    sigterm(&child.0);
    let stream = reader.join().unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("INFO ["), "{text}");
    assert!(text.contains("generating shard 1/2 of the run"), "{text}");
    // The last lines, written at the stop, agree with the stream.
    let last = |kind: &str| -> String {
        text.lines()
            .rfind(|l| l.contains(&format!("metrics kind={kind} ")))
            .unwrap_or_else(|| panic!("no kind={kind} line:\n{text}"))
            .to_string()
    };
    let events = stream.matches("<event>").count();
    assert!(events > 0, "the shard generated nothing: {stream}");
    assert!(
        last("sample").contains(&format!("sample=\"m.log\" events={events} bytes=")),
        "{}; {events} events in the stream",
        last("sample")
    );
    assert!(
        last("output").contains(&format!("output=\"modinput\" sent={events} failed=0")),
        "{}",
        last("output")
    );
    assert!(
        last("run").contains("shard=1/2 lag_seconds="),
        "{}",
        last("run")
    );
    // The dashboard's own extractions find every field in these lines, including the pid
    // (which it must not take from the app's props.conf: the search head may not have it).
    let pid = child.0.id().to_string();
    for (kind, fields) in [
        ("sample", &["pid", "sample", "events", "bytes"][..]),
        (
            "output",
            &["pid", "output", "sent", "failed", "retried", "queued"][..],
        ),
        ("run", &["lag_seconds"][..]),
    ] {
        let line = last(kind);
        let found = dashboard_fields(&format!("\"metrics kind={kind}\""), &line);
        for f in fields {
            assert!(
                found.iter().any(|(k, _)| k == f),
                "{kind}: no {f} in {found:?} from {line}"
            );
        }
        if let Some((_, v)) = found.iter().find(|(k, _)| k == "pid") {
            assert_eq!(*v, pid, "{line}");
        }
    }
}

/// The fields the dashboard's searches that select `marker` extract from `line`, by running
/// their `| rex "..."` commands (SPL's `\"` unescaped) over it.
fn dashboard_fields(marker: &str, line: &str) -> Vec<(String, String)> {
    let xml = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("default/data/ui/views/eventgen_metrics.xml"),
    )
    .unwrap();
    let mut found = Vec::new();
    let mut selected = 0;
    for query in xml.split("<query>").skip(1) {
        let query = query.split("</query>").next().unwrap();
        let query = query
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&");
        if !query.starts_with("index=") || !query.contains(marker) {
            continue;
        }
        selected += 1;
        assert!(
            !query.contains("sourcetype="),
            "the sourcetype comes from the app's props.conf: {query}"
        );
        for rex in query.lines().filter_map(|l| l.strip_prefix("| rex \"")) {
            let pattern = rex.strip_suffix('"').unwrap().replace("\\\"", "\"");
            let re = regex::Regex::new(&pattern).unwrap();
            let caps = re
                .captures(line)
                .unwrap_or_else(|| panic!("rex {pattern:?} does not match {line}"));
            for name in re.capture_names().flatten() {
                found.push((name.to_string(), caps[name].to_string()));
            }
        }
    }
    assert!(selected > 0, "no dashboard search selects {marker}");
    found
}

#[test]
fn splunk_mode_rejects_a_bad_shard_parameter() {
    let (home, _) = splunk_home("");
    let item = "<items><server_host>sh</server_host><server_uri>https://127.0.0.1:8089</server_uri>\
                <session_key>sk-metrics-test-session</session_key><checkpoint_dir></checkpoint_dir>\
                <item name=\"default\"><param name=\"verbosity\">20</param>\
                <param name=\"shard\">3/3</param></item></items>";
    let mut child = Command::new(bin())
        .arg("--validate-arguments")
        .env("SPLUNK_HOME", home.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(item.as_bytes())
        .unwrap();
    let o = wait_output(child, STEP);
    assert_code(&o, 1);
    assert!(
        stdout(&o).contains("shard 3 does not exist among 3"),
        "{}",
        stdout(&o)
    );
}
