//! Every generator works in bounded jobs: seeded output is the same bytes with one and two
//! workers, and a huge count into a reader that stopped reading keeps the process small.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

/// A jinja template of one event per cycle with a value from the worker's RNG.
const TEMPLATE: &str = r#"{"_time": {{ eventgen_target_time_epoch }}, "_raw": "cycle {{ eventgen_count }} of {{ eventgen_maxcount }} pick={{ range(100) | random }}-{{ range(100) | random }}"}
"#;

/// Replay sample: `n` events one second apart (the virtual clock places them).
fn replay_sample(n: usize) -> String {
    (0..n)
        .map(|i| {
            let (h, m, s) = (10 + i / 3600, i / 60 % 60, i % 60);
            format!("2023-05-01 {h:02}:{m:02}:{s:02} ev{i}\n")
        })
        .collect()
}

const REPLAY_TOKEN: &str = "token.0.token = \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\n\
     token.0.replacementType = replaytimestamp\ntoken.0.replacement = %Y-%m-%d %H:%M:%S\n";

/// One stanza per generator (and both jinja count types), each `count` large enough for
/// several jobs.
fn stanzas(sample: &str, windbag: &str, counter_end: &str, cycles: &str, lines: &str) -> String {
    format!(
        "[s.log]\ncount = {sample}\ninterval = 10\nearliest = -10s\n{}{}\
         [r.log]\nmode = replay\n{REPLAY_TOKEN}\
         [windbag]\ngenerator = windbag\ncount = {windbag}\ninterval = 10\nearliest = -10s\n\
         [counter]\ngenerator = counter\ncount = 2\nend_count = {counter_end}\ninterval = 10\n\
         [jc]\ngenerator = jinja\ncount = {cycles}\ninterval = 10\nearliest = -10s\n\
         jinja_template_dir = templates\njinja_target_template = one.j2\njinja_variables = {{}}\n\
         [jl]\ngenerator = jinja\njinja_count_type = line_count\ncount = {lines}\ninterval = 10\n\
         jinja_template_dir = templates\njinja_target_template = one.j2\njinja_variables = {{}}\n",
        token(0, "@@ip", "random", "ipv4"),
        token(1, "@@n", "random", "integer[0:100000]"),
    )
}

fn app(tag: &str, conf: &str, replay_events: usize) -> App {
    let app = App::new(tag, conf);
    app.sample("s.log", "a @@ip @@n\nb @@n\nc @@ip\n")
        .sample("r.log", &replay_sample(replay_events))
        .sample("templates/one.j2", TEMPLATE);
    app
}

#[test]
fn every_generator_gives_the_same_bytes_with_one_and_two_workers() {
    // Jobs: sample path 4,096 events, windbag and counter 32,768, jinja 2,048 cycles.
    let conf = stanzas("10000", "70000", "69999", "5000", "3000")
        + "[default]\noutputMode = stdout\nend = 2\ntimezone = +0000\n";
    let app = app("jobs-determinism", &conf, 9000);
    let one = app.out(&["--generators", "1"]);
    let two = app.out(&["--generators", "2"]);
    let lines: Vec<&str> = one.lines().collect();
    let count = |f: &dyn Fn(&str) -> bool| lines.iter().filter(|l| f(l)).count();
    // Each stanza made all its events (two intervals or passes), in several jobs.
    assert_eq!(
        count(&|l| l.starts_with("a ") || l.starts_with("b ") || l.starts_with("c ")),
        20_000
    );
    assert_eq!(
        count(&|l| l.split(' ').nth(2).is_some_and(|w| w.starts_with("ev"))),
        18_000
    );
    assert_eq!(count(&|l| l.contains("WINDBAG")), 140_000);
    assert_eq!(
        count(&|l| l.contains("Counter for sample:counter")),
        280_000
    );
    assert_eq!(count(&|l| l.contains(" of 5000 pick=")), 10_000);
    assert_eq!(count(&|l| l.contains(" of 3000 pick=")), 6_000);
    // Positions carry across jobs: windbag numbers and counter values run in order.
    let windbag: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.split_once("WINDBAG Event ").map(|x| x.1))
        .take(70_000)
        .collect();
    for (i, w) in windbag.iter().enumerate() {
        assert_eq!(*w, format!("{} of 70000", i + 1));
    }
    let counter: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.split_once("Current_Counter:").map(|x| x.1))
        .take(140_000)
        .collect();
    for (i, c) in counter.iter().enumerate() {
        let want = format!("{} End_Count:69999", i % 70_000);
        assert!(c.starts_with(&want), "counter event {i}: {c}");
    }
    // Random values differ between events (the RNG travels with the jobs).
    let picks: std::collections::HashSet<&str> = lines
        .iter()
        .filter_map(|l| l.split_once(" pick=").map(|x| x.1))
        .collect();
    assert!(picks.len() > 4_000, "{} distinct picks", picks.len());
    assert!(
        one == two,
        "1 and 2 workers differ: {}",
        first_difference(&one, &two)
    );
}

fn first_difference(a: &str, b: &str) -> String {
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!("line {}: {x:?} vs {y:?}", i + 1);
        }
    }
    format!("{} vs {} lines", a.lines().count(), b.lines().count())
}

/// `VmHWM` (peak resident set) of a process in kB.
fn peak_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// Largest resident size a run may reach whatever its count and output speed.
const RSS_LIMIT_KB: u64 = 30 * 1024;
/// How long a run may take to write its first 64 KiB.
const FIRST_OUTPUT: Duration = Duration::from_secs(20);
/// How long each run is watched after its reader stopped.
const WATCH: Duration = Duration::from_millis(1500);

/// Runs one stanza of `dir` into a pipe, reads 64 KiB and stops reading; returns the peak
/// resident size seen while it stays blocked.
fn peak_with_stalled_reader(dir: &std::path::Path, stanza: &str) -> u64 {
    let mut child = Command::new(bin())
        .args([
            "generate", ".", "--now", NOW, "--seed", "1", "--sample", stanza,
        ])
        .args(["--output", "stdout", "--generators", "2"])
        .current_dir(dir)
        .env("TZ", "UTC")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run eventgen");
    let mut out = child.stdout.take().unwrap();
    // Read 64 KiB, then hold the pipe open without reading.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut first = vec![0u8; 64 * 1024];
        let read = out.read_exact(&mut first);
        let _ = tx.send(read.map(|_| out));
    });
    let _pipe = match rx.recv_timeout(FIRST_OUTPUT) {
        Ok(Ok(pipe)) => pipe,
        other => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("[{stanza}] no 64 KiB of output within {FIRST_OUTPUT:?}: {other:?}");
        }
    };
    let started = Instant::now();
    let mut peak = 0;
    while started.elapsed() < WATCH {
        assert!(
            child.try_wait().unwrap().is_none(),
            "[{stanza}] ended although nobody reads its output"
        );
        peak = peak.max(peak_kb(child.id()).unwrap_or(0));
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    peak
}

#[test]
fn huge_counts_into_a_stalled_reader_stay_under_30_mb() {
    if !std::path::Path::new("/proc/self/status").exists() {
        eprintln!("skipped: needs /proc (Linux) to read VmHWM");
        return;
    }
    // Counts far beyond what fits in memory at once (the counter: 1000 cycles of the
    // longest sequence, 10 million values).
    let conf = stanzas(
        "100000000",
        "100000000",
        "9999999",
        "100000000",
        "100000000",
    ) + "[default]\nend = 1000000\n";
    let app = app("jobs-rss", &conf, 20_000);
    let dir = app.path().to_path_buf();
    let stanzas = ["s.log", "r.log", "windbag", "counter", "jc", "jl"];
    let peaks: Vec<(&str, u64)> = std::thread::scope(|s| {
        let handles: Vec<_> = stanzas
            .iter()
            .map(|&st| {
                let dir = dir.clone();
                s.spawn(move || (st, peak_with_stalled_reader(&dir, st)))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (stanza, kb) in &peaks {
        assert!(*kb > 0, "[{stanza}] no VmHWM read");
        assert!(
            *kb < RSS_LIMIT_KB,
            "[{stanza}] peak resident size {} MB with a stalled reader: {peaks:?}",
            kb / 1024
        );
    }
}
