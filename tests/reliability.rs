//! Reliability through the real binary: a stop request (real SIGTERM) or a closed stdout ends
//! every kind of run at once with a complete output; every event not delivered makes the run
//! exit 1 with a per-output count; secrets never reach a message; hostile `--now` values are
//! refused. Each stop test measures the time from the signal to the exit against a generous
//! bound (the target is 1 s; see docs/compatibility.md).

use std::io::{Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::hec_server::{Action, HecServer};
use crate::support::*;

const SAMPLE: &str = "one event of the sample, with some text to make it longer\nsecond line\n";

/// An app whose one sample has `settings` (lines `key = value`), output to stdout.
fn app(tag: &str, settings: &str) -> App {
    let a = App::new(
        tag,
        &format!("[big.log]\noutputMode = stdout\nearliest = -1s\nlatest = now\n{settings}\n"),
    );
    a.sample("big.log", SAMPLE);
    a
}

fn cmd_in(a: &App, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.args(args).current_dir(a.path()).env("TZ", "UTC");
    cmd
}

#[track_caller]
fn assert_quick_clean_stop(s: &Stopped, what: &str) {
    eprintln!("{what}: exit {:?} {:?} after the stop", s.code, s.took);
    assert_eq!(s.code, Some(0), "{what}: exit code\n{}", s.stderr);
    assert!(
        s.took <= STOP_BOUND,
        "{what}: took {:?} to stop\n{}",
        s.took,
        s.stderr
    );
}

#[test]
fn sigterm_ends_a_huge_interval_at_once() {
    let a = app("rel-huge", "interval = 60\ncount = 500000000\n");
    let r = spawn(cmd_in(&a, &["generate", ".", "-e", "1", "-v"]));
    r.wait_first_bytes();
    let s = r.terminate();
    assert_quick_clean_stop(&s, "huge interval");
    assert!(
        s.stderr.contains("INFO generated "),
        "the summary is printed:\n{}",
        s.stderr
    );
}

#[test]
fn sigterm_ends_a_long_backfill_at_once() {
    let a = app(
        "rel-backfill",
        "interval = 1\ncount = 5\nbackfill = -3000d\n",
    );
    // Real clock and virtual clock: both walk 3000 days of history.
    for extra in [&[][..], &["--now", NOW][..]] {
        let mut args = vec!["generate", "."];
        args.extend_from_slice(extra);
        let r = spawn(cmd_in(&a, &args));
        r.wait_first_bytes();
        let s = r.terminate();
        assert_quick_clean_stop(&s, &format!("backfill {extra:?}"));
    }
}

#[test]
fn sigterm_ends_a_replay_wait_at_once() {
    let a = App::new(
        "rel-replay",
        "[r.log]\nmode = replay\noutputMode = stdout\ntimeMultiple = 1\n\
         token.0.token = \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\n\
         token.0.replacementType = replaytimestamp\ntoken.0.replacement = %Y-%m-%d %H:%M:%S\n",
    );
    a.sample(
        "r.log",
        "2024-01-01 00:00:00 first\n2024-01-01 10:00:00 ten hours later\n",
    );
    let r = spawn(cmd_in(&a, &["generate", "."]));
    r.wait_first_bytes();
    let s = r.terminate();
    assert_quick_clean_stop(&s, "replay wait");
}

/// `eventgen <args> | head -c 1` in `a`: the exit status, how long the run took to end after
/// the reader went away, and its stderr.
fn close_after_first_byte(a: &App, args: &[&str]) -> (std::process::ExitStatus, Duration, String) {
    let mut child = cmd_in(a, args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 1];
    stdout.read_exact(&mut first).unwrap();
    // `| head -1`: the reader goes away.
    drop(stdout);
    let closed = Instant::now();
    let mut errs = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = errs.read_to_string(&mut text);
        text
    });
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if closed.elapsed() > STOP_BOUND * 3 {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{args:?}: still running {:?} after stdout closed",
                closed.elapsed()
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let took = closed.elapsed();
    (status, took, reader.join().unwrap())
}

#[test]
fn a_closed_stdout_ends_a_backfill_at_once() {
    let a = app("rel-epipe", "interval = 1\ncount = 5\nbackfill = -3000d\n");
    for extra in [&[][..], &["--now", NOW][..]] {
        let mut args = vec!["generate", "."];
        args.extend_from_slice(extra);
        let (status, took, _) = close_after_first_byte(&a, &args);
        eprintln!("closed stdout {extra:?}: exit {status} after {took:?}");
        assert!(status.success(), "a closed pipe is a normal end: {status}");
        assert!(took <= STOP_BOUND, "took {took:?} after stdout closed");
    }
}

#[test]
fn a_closed_stdout_is_a_quiet_normal_end() {
    // `eventgen generate -e 100 -c 100000 | head -1`, live and as a backfill: exit 0, nothing
    // on stderr, and with -v one INFO line saying how many events were not written.
    let live = app("rel-head-live", "interval = 1\ncount = 100000\nend = 100\n");
    let backfill = app(
        "rel-head-backfill",
        "interval = 1\ncount = 5\nbackfill = -1d\n",
    );
    for (a, what) in [(&live, "live"), (&backfill, "backfill")] {
        for verbose in [false, true] {
            let args: &[&str] = if verbose {
                &["generate", ".", "-v"]
            } else {
                &["generate", "."]
            };
            let (status, _, err) = close_after_first_byte(a, args);
            assert_eq!(status.code(), Some(0), "{what}: {err}");
            if verbose {
                assert!(
                    !err.contains("ERROR") && !err.contains("WARN"),
                    "{what}: {err}"
                );
                if what == "live" {
                    assert!(
                        err.contains("INFO the reader closed standard output; "),
                        "{what}: {err}"
                    );
                }
            } else {
                assert_eq!(err, "", "{what}: nothing on stderr without -v");
            }
        }
    }
}

#[test]
fn sigterm_ends_a_tcpout_reconnect_loop_at_once() {
    // A port nobody listens on: tcpout retries with backoff and holds generation back.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let a = app(
        "rel-tcp-stop",
        &format!(
            "outputMode = tcpout\ntcpDestinationHost = 127.0.0.1\ntcpDestinationPort = {port}\ninterval = 1\ncount = 5\n"
        ),
    );
    let r = spawn(cmd_in(&a, &["generate", "."]));
    // No stdout here: wait for the first retry warning instead.
    r.wait_stderr("retrying");
    let s = r.terminate();
    eprintln!("tcpout reconnect: exit {:?} after {:?}", s.code, s.took);
    assert!(s.took <= STOP_BOUND, "took {:?}", s.took);
    // The events it held were not delivered: that is a failure.
    assert_eq!(s.code, Some(1));
}

#[test]
fn sigterm_ends_hec_backoff_at_once() {
    let server = HecServer::start(|_| Action::Reply(503, r#"{"text":"busy","code":9}"#.into()));
    let a = app(
        "rel-hec-stop",
        &format!(
            "outputMode = httpevent\nhttpeventServers = {}\ninterval = 1\ncount = 5\n",
            server.servers_json("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee")
        ),
    );
    let r = spawn(cmd_in(&a, &["generate", "."]));
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.requests().len() < 2 {
        assert!(Instant::now() < deadline, "no HEC requests");
        std::thread::sleep(Duration::from_millis(20));
    }
    let s = r.terminate();
    eprintln!("HEC backoff: exit {:?} after {:?}", s.code, s.took);
    assert!(s.took <= STOP_BOUND, "took {:?}\n{}", s.took, s.stderr);
    assert_eq!(s.code, Some(1), "undelivered events:\n{}", s.stderr);
    assert!(s.stderr.contains("not delivered"), "{}", s.stderr);
}

#[test]
fn a_bounded_run_to_a_tcpout_server_that_never_accepts_ends_with_exit_1() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let a = app(
        "rel-tcp-bounded",
        &format!(
            "outputMode = tcpout\ntcpDestinationHost = 127.0.0.1\ntcpDestinationPort = {port}\ncount = 3\n"
        ),
    );
    let started = Instant::now();
    let o = a.run(&["-e", "1"]);
    let err = stderr(&o);
    assert_code(&o, 1);
    assert!(started.elapsed() < Duration::from_secs(25), "{err}");
    assert!(
        err.lines().any(|l| l.starts_with("ERROR")
            && l.contains(&format!("tcpout 127.0.0.1:{port}"))
            && l.contains("3 of 3 events not delivered")),
        "says what was not sent:\n{err}"
    );
}

#[test]
fn hec_4xx_refusal_exits_1_with_a_count() {
    let server =
        HecServer::start(|_| Action::Reply(400, r#"{"text":"Incorrect index","code":7}"#.into()));
    let a = app(
        "rel-hec-400",
        &format!(
            "outputMode = httpevent\nhttpeventServers = {}\ncount = 4\n",
            server.servers_json("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee")
        ),
    );
    let o = a.run(&["-e", "1"]);
    let err = stderr(&o);
    assert_code(&o, 1);
    assert!(
        err.lines()
            .any(|l| l.starts_with("ERROR") && l.contains("4 of 4 events not delivered")),
        "{err}"
    );
}

#[test]
fn udp_failures_exit_1_with_a_count() {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    let a = App::new(
        "rel-udp",
        &format!(
            "[u.log]\noutputMode = udpout\nudpDestinationHost = 127.0.0.1\nudpDestinationPort = {port}\ncount = 0\n"
        ),
    );
    // The second event is too big for one datagram.
    a.sample("u.log", &format!("small\n{}\n", "x".repeat(70_000)));
    let o = a.run(&["-e", "1"]);
    let err = stderr(&o);
    assert_code(&o, 1);
    assert!(
        err.lines().any(|l| l.starts_with("ERROR")
            && l.contains(&format!("udpout 127.0.0.1:{port}"))
            && l.contains("1 of 2 events not delivered")),
        "{err}"
    );
}

#[test]
fn a_full_disk_names_the_file_and_exits_1() {
    if !std::path::Path::new("/dev/full").exists() {
        eprintln!("skipped: no /dev/full on this system");
        return;
    }
    let a = app(
        "rel-full",
        "outputMode = file\nfileName = /dev/full\ncount = 3\n",
    );
    let o = a.run(&["-e", "1"]);
    let err = stderr(&o);
    assert_code(&o, 1);
    assert!(
        err.lines()
            .any(|l| l.starts_with("ERROR") && l.contains("file /dev/full")),
        "names the file:\n{err}"
    );
    assert!(!err.contains("output 0:"), "{err}");
}

/// A HEC server (or proxy) that echoes the request headers in its error reply.
#[test]
fn an_echoing_server_cannot_put_the_token_in_a_message() {
    const TOKEN: &str = "12345678-abcd-ef01-2345-6789abcdef01";
    let server = HecServer::start(|r| {
        // Authorization first, so it is inside the part of the reply that gets quoted.
        let mut headers: Vec<String> = r.headers.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        // (HTTP/1.1 header names are case-insensitive; the client may send them in lower case.)
        headers.sort_by_key(|h| !h.to_ascii_lowercase().starts_with("authorization"));
        Action::Reply(
            400,
            format!(
                "{{\"text\":\"bad request\",\"code\":6,\"echo\":\"{}\"}}",
                headers.join("\\n")
            ),
        )
    });
    // metric_httpevent sends through the same client with the same header.
    let a = app(
        "rel-echo",
        &format!(
            "outputMode = httpevent\nhttpeventServers = {}\ncount = 2\n",
            server.servers_json(TOKEN)
        ),
    );
    let o = a.run(&["-e", "1", "-v"]);
    let err = stderr(&o);
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.header("Authorization") == Some(&format!("Splunk {TOKEN}"))),
        "the server saw the token"
    );
    assert!(
        err.to_ascii_lowercase().contains("authorization: splunk"),
        "the echo is quoted:\n{err}"
    );
    assert!(!err.contains(TOKEN), "token in a message:\n{err}");
    assert!(!err.contains("12345678"), "part of the token:\n{err}");
}

#[test]
fn now_outside_the_representable_range_is_refused() {
    let a = app("rel-now", "count = 1\n");
    for bad in ["nan", "inf", "-inf", "1e300", "253402300800", "-5"] {
        let o = a.raw(&["generate", ".", "--now", bad, "-e", "1"]);
        assert_code(&o, 2);
        assert!(stderr(&o).contains("--now"), "{bad}: {}", stderr(&o));
        assert!(o.stdout.is_empty(), "{bad}: generated anyway");
    }
}

// ---- the modular input ----------------------------------------------------------------------

/// `$SPLUNK_HOME` with the app `rel_app`: `conf` and the sample `big.log`.
fn splunk_home(tag: &str, conf: &str) -> SplunkHome {
    let home = SplunkHome::new(tag);
    home.app("rel_app", conf)
        .sample("rel_app", "big.log", SAMPLE);
    home
}

fn modinput(
    home: &SplunkHome,
    doc: &str,
    close_stdin: bool,
) -> (Running, Option<std::process::ChildStdin>) {
    let mut cmd = Command::new(bin());
    cmd.env("SPLUNK_HOME", home.path())
        .env("TZ", "UTC")
        .current_dir(home.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(doc.as_bytes()).unwrap();
    let keep = if close_stdin { None } else { Some(stdin) };
    let running = watch(child, |all, chunk| {
        all.extend_from_slice(chunk);
        if all.len() > 64 << 20 {
            let keep = all.len() - (1 << 20);
            all.drain(..keep);
        }
    });
    (running, keep)
}

#[track_caller]
fn assert_complete_stream(s: &Stopped, what: &str) {
    let text = String::from_utf8_lossy(&s.stdout);
    assert!(
        text.trim_end().ends_with("</stream>"),
        "{what}: stream not closed:\n{}",
        &text[text.len().saturating_sub(500)..]
    );
    // Every event is whole: as many closing as opening tags.
    assert_eq!(
        text.matches("<event").count(),
        text.matches("</event>").count(),
        "{what}: a cut event"
    );
}

#[test]
fn modinput_sigterm_in_a_huge_interval_or_backfill_closes_the_stream() {
    for (what, conf) in [
        ("huge interval", "interval = 60\ncount = 500000000\n"),
        ("backfill", "interval = 1\ncount = 5\nbackfill = -3000d\n"),
    ] {
        let home = splunk_home(
            "rel-mi",
            &format!("[big.log]\ndisabled = false\nearliest = -1s\nlatest = now\n{conf}"),
        );
        let (r, _) = modinput(&home, &home.input(""), true);
        r.wait_first_bytes();
        let s = r.terminate();
        eprintln!("modinput {what}: exit {:?} after {:?}", s.code, s.took);
        assert_eq!(s.code, Some(0), "{what}:\n{}", s.stderr);
        assert!(
            s.took <= Duration::from_secs(2),
            "{what}: took {:?}",
            s.took
        );
        assert_complete_stream(&s, what);
    }
}

#[test]
fn modinput_a_complete_input_document_is_enough_with_stdin_open() {
    let home = splunk_home(
        "rel-mi-open",
        "[big.log]\ndisabled = false\ncount = 1\nend = 1\n",
    );
    for doc in ["<input/>".to_string(), home.input("")] {
        let (r, stdin) = modinput(&home, &doc, false);
        let started = Instant::now();
        let s = r.wait_exit(started);
        drop(stdin);
        assert!(s.took <= STOP_BOUND, "{doc}: took {:?}", s.took);
        assert!(
            String::from_utf8_lossy(&s.stdout).contains("</stream>") || s.code == Some(1),
            "{doc}: {:?}\n{}",
            s.code,
            s.stderr
        );
    }
}

#[test]
fn modinput_output_errors_reach_eventgen_log() {
    if !std::path::Path::new("/dev/full").exists() {
        eprintln!("skipped: no /dev/full on this system");
        return;
    }
    let home = splunk_home(
        "rel-mi-log",
        "[big.log]\ndisabled = false\ncount = 2\nend = 1\noutputMode = file\nfileName = /dev/full\n",
    );
    let (r, _) = modinput(&home, &home.input(""), true);
    let s = r.wait_exit(Instant::now());
    let log = home.log();
    assert!(
        log.lines()
            .any(|l| l.contains("ERROR") && l.contains("file /dev/full")),
        "eventgen.log:\n{log}\nstderr:\n{}",
        s.stderr
    );
    assert!(!log.contains(SESSION_KEY), "session key logged");
}

// ---- bounds on bad input (through `check`) ---------------------------------------------------

/// `eventgen check .` on an app with one sample `s.log` (text `sample`) and `conf` lines.
fn check_app(tag: &str, conf: &str, sample: &str) -> (App, std::process::Output) {
    let a = App::new(tag, &format!("[s.log]\n{conf}\n"));
    a.sample("s.log", sample);
    let started = Instant::now();
    let o = a.check();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "check took {:?}",
        started.elapsed()
    );
    (a, o)
}

#[track_caller]
fn assert_located_error(o: &std::process::Output, key: &str, words: &str) {
    let err = stderr(o);
    assert_code(o, 2);
    assert!(
        err.lines().any(|l| l.starts_with("ERROR ")
            && l.contains("eventgen.conf:")
            && l.contains(&format!("[s.log] {key}:"))
            && l.contains(words)),
        "located error for {key} with {words:?}:\n{err}"
    );
}

#[test]
fn huge_string_and_hex_lengths_are_located_errors() {
    for spec in ["string(99999999999)", "hex(1000001)"] {
        let (_, o) = check_app(
            "rel-strlen",
            &format!(
                "token.0.token = X\ntoken.0.replacementType = random\ntoken.0.replacement = {spec}"
            ),
            "a X b\n",
        );
        assert_located_error(&o, "token.0.replacement", "up to 1000000");
    }
}

#[test]
fn huge_extend_indexes_is_a_located_error() {
    let (_, o) = check_app("rel-extidx", "extendIndexes = p:99999999999, main", "x\n");
    assert_located_error(&o, "extendIndexes", "at most 100000");
}

#[test]
fn a_fifo_as_replacement_file_is_refused_at_once() {
    let a = App::new(
        "rel-fifo",
        "[s.log]\ntoken.0.token = X\ntoken.0.replacementType = file\n\
         token.0.replacement = $SPLUNK_HOME/fifo.txt\n",
    );
    a.sample("s.log", "a X b\n");
    let fifo = a.path().join("fifo.txt");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped: mkfifo is not available");
        return;
    }
    let mut cmd = Command::new(bin());
    cmd.args(["check", "."])
        .current_dir(a.path())
        .env("SPLUNK_HOME", a.path());
    let o = output_within(cmd, Duration::from_secs(10));
    assert_located_error(&o, "token.0.replacement", "not a regular file");
}

#[test]
fn a_catastrophic_lookaround_regex_is_a_located_error_not_a_hang() {
    let line = format!("{}b\n", "a".repeat(30_000));
    let (_, o) = check_app(
        "rel-regex",
        "token.0.token = (?=(a+)+$)a\ntoken.0.replacementType = static\ntoken.0.replacement = Z",
        &line,
    );
    assert_located_error(&o, "token.0.token", "backtracking steps");
    // Within the limits the same regex is fine.
    let (_, o) = check_app(
        "rel-regex-ok",
        "outputMode = stdout
token.0.token = (?=(a+)+$)a
token.0.replacementType = static
token.0.replacement = Z",
        "baa
",
    );
    assert_code(&o, 0);
}

#[test]
fn values_that_make_a_run_unbounded_get_warnings_with_what_they_imply() {
    let (_, o) = check_app(
        "rel-unbounded",
        "interval = 60\ncount = 10\nrandomizeCount = 1e308\nperDayVolume = 1e30\nbackfill = -900y",
        "x\n",
    );
    let err = stderr(&o);
    for (key, words) in [
        ("randomizeCount", "events"),
        ("perDayVolume", "bytes of events every 60s interval"),
        ("backfill", "events before the live run"),
    ] {
        assert!(
            err.lines().any(|l| l.starts_with("WARN ")
                && l.contains(&format!("[s.log] {key}:"))
                && l.contains(words)),
            "warning for {key}:\n{err}"
        );
    }
}

#[test]
fn integerid_keeps_counting_past_i64_max() {
    let a = App::new(
        "rel-intid",
        "[s.log]\noutputMode = stdout\ncount = 3\ntoken.0.token = N\ntoken.0.replacementType = integerid\n\
         token.0.replacement = 9223372036854775806\n",
    );
    a.sample("s.log", "id=N\n");
    let out = a.out(&["-e", "1"]);
    assert_eq!(
        out,
        "id=9223372036854775806\nid=9223372036854775807\nid=9223372036854775808\n"
    );
}
