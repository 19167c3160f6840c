//! Throughput and memory benchmark of the real `eventgen` binary (`cargo bench`).
//!
//! It writes the scenarios into a temporary folder (four sample-path cases, then one per
//! generator: windbag, counter, replay of a large sample, a jinja template and a jinja template
//! that only prints a constant), runs the release binary on each as a subprocess on a virtual
//! clock (`--now`, `--seed 1`), so nothing sleeps, and prints a table of events per CPU
//! second, wall time, CPU time, events/s and MB/s, to devnull and to stdout piped into
//! `wc -c`, with one and two generator workers. Beside it: the pipe bandwidth of `dd | wc -c`
//! from the same run (the same reader, the physical limit) and each pipe row as a share of it,
//! the ratios the targets are set in, the cost per event of each encoder (plain text, modular
//! input XML, HEC JSON, the last two also with cached metadata) measured in this process, and
//! the resident memory of the
//! shipped default config, peak and over a real-time run. Numbers are reported, never
//! asserted: see `docs/benchmarks.md`.
//!
//! Then the HTTP Event Collector output (`hec` module): events/s, MB/s and CPU use into a
//! minimal in-bench server and into Tenzir's HEC receiver, with 1 and 4 requests in flight,
//! with and without gzip.
//!
//! Environment: `BENCH_SECS` (target seconds per case, default 1), `BENCH_REPEAT` (best of N
//! runs per cell, default 1), `BENCH_RSS_SECS` (length of the real-time memory run, default
//! 5), `BENCH_CASES` (comma-separated case numbers to run, default all), `BENCH_BIN` (the
//! eventgen binary to measure instead of this build's), `BENCH_HEC=0`
//! (skip the HEC part), `BENCH_HEC_EVENTS` (events per HEC run, default 300,000),
//! `EVENTGEN_SKIP_TENZIR=1` (HEC without the Tenzir rows), `BENCH_S2S=0` (skip the S2S part:
//! `outputMode = s2s` into an in-bench receiver, 1 and 4 connections, beside devnull),
//! `BENCH_S2S_EVENTS` (events per S2S run, default 2,000,000).
//!
//! With `BENCH_BASELINE=<commit or binary>` it runs the comparison instead (`compare`
//! module): the same cases on this build and the baseline, interleaved, as ratios of events
//! per CPU second.

#[path = "throughput/compare.rs"]
mod compare;
#[path = "throughput/hec.rs"]
mod hec;
#[path = "throughput/s2s.rs"]
mod s2s;

use std::error::Error;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// The virtual clock's start: any fixed instant works; this one is 2023-11-14 22:13:20 UTC.
const NOW: &str = "1700000000";
/// Events per interval (`-c`) of the sample-path cases; the event total is a multiple of it.
const PER_INTERVAL: u64 = 100_000;
/// Events per encoder in the in-process encoder measurement.
const ENCODE_EVENTS: usize = 1_000_000;
/// Events of the calibration run that sizes each case.
const PILOT_EVENTS: u64 = 300_000;
/// Intervals of the peak-memory run of the shipped config (20 events each).
const RSS_PEAK_INTERVALS: u64 = 100_000;
/// How often the memory runs read `/proc/<pid>/status`.
const RSS_POLL: Duration = Duration::from_millis(5);
/// Samples taken over the real-time memory run.
const RSS_POINTS: u32 = 10;

/// The five-line sample of cases 1-3. The `at HH:MM:SS` text is a second match of token 4.
const FIVE_LINES: &str = "\
2024-01-01 00:00:00 host=web01 level=INFO msg=\"user login ok\" sid=1 at 00:00:00 code=1 pid=2
2024-01-01 00:00:00 host=web02 level=WARN msg=\"slow request\" sid=2 at 00:00:00 code=3 pid=4
2024-01-01 00:00:00 host=web03 level=INFO msg=\"cache hit ratio\" sid=3 at 00:00:00 code=5 pid=6
2024-01-01 00:00:00 host=db01 level=ERROR msg=\"connection reset\" sid=4 at 00:00:00 code=7 pid=8
2024-01-01 00:00:00 host=db02 level=INFO msg=\"checkpoint done\" sid=5 at 00:00:00 code=9 pid=0
";

const FULL_TIME: &str = "\
token.0.token = \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}
token.0.replacementType = timestamp
token.0.replacement = %Y-%m-%d %H:%M:%S
";

/// Tokens 1-4 of case 3: token 4 also matches the time inside token 0's value (a chain).
const CASE3_REST: &str = "\
token.1.token = sid=(\\d)
token.1.replacementType = random
token.1.replacement = integer[0:9]
token.2.token = code=(\\d)
token.2.replacementType = random
token.2.replacement = integer[0:9]
token.3.token = pid=(\\d)
token.3.replacementType = random
token.3.replacement = integer[0:9]
token.4.token = \\d{2}:\\d{2}:\\d{2}
token.4.replacementType = timestamp
token.4.replacement = %H:%M:%S
";

const WEBLOG: &str = "\
10.2.3.4 - - [26/Nov/2026:05:18:06.123 +0000] \"GET @@uri HTTP/1.1\" @@status @@bytes \"@@referer\" \"@@user_agent\" @@response_ms
172.16.9.20 - - [26/Nov/2026:05:18:06.123 +0000] \"GET @@uri HTTP/1.1\" @@status @@bytes \"@@referer\" \"@@user_agent\" @@response_ms
192.168.1.77 - - [26/Nov/2026:05:18:06.123 +0000] \"POST @@uri HTTP/2.0\" @@status @@bytes \"@@referer\" \"@@user_agent\" @@response_ms
10.9.8.7 - - [26/Nov/2026:05:18:06.123 +0000] \"GET @@uri HTTP/2.0\" @@status @@bytes \"@@referer\" \"@@user_agent\" @@response_ms
203.0.113.5 - - [26/Nov/2026:05:18:06.123 +0000] \"HEAD @@uri HTTP/1.1\" @@status @@bytes \"@@referer\" \"@@user_agent\" @@response_ms
";

/// Seven tokens: timestamp with `%f`, three `file`, two `random integer`, one `mvfile`.
const WEBLOG_TOKENS: &str = "\
earliest = -1s
latest = now
token.0.token = \\[\\d{2}/\\w{3}/\\d{4}:\\d{2}:\\d{2}:\\d{2}\\.\\d{3} [+-]\\d{4}\\]
token.0.replacementType = timestamp
token.0.replacement = [%d/%b/%Y:%H:%M:%S.%f %z]
token.1.token = @@uri
token.1.replacementType = file
token.1.replacement = weblog.uris
token.2.token = @@status
token.2.replacementType = mvfile
token.2.replacement = weblog.status.csv:1
token.3.token = @@bytes
token.3.replacementType = random
token.3.replacement = integer[180:48000]
token.4.token = @@referer
token.4.replacementType = file
token.4.replacement = weblog.referers
token.5.token = @@user_agent
token.5.replacementType = file
token.5.replacement = weblog.useragents
token.6.token = @@response_ms
token.6.replacementType = random
token.6.replacement = integer[2:1800]
";

/// Case 5: Eventgen's windbag generator (`tests/perf` test1), `-c` events per interval.
const WINDBAG: &str = "generator = windbag\nearliest = -1s\nlatest = now\n";
/// Case 6: the counter generator, one cycle of 100,000 values per interval (`-c 1`).
const COUNTER: &str = "generator = counter\nstart_count = 0\nend_count = 99999\ncount_by = 1\n";
/// Events of case 6's cycle.
const COUNTER_CYCLE: u64 = 100_000;
/// Case 7: replay of a sample of this many events, 10 ms apart.
const REPLAY_EVENTS: u64 = 100_000;
const REPLAY_TOKENS: &str = "\
mode = replay
token.0.token = \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\.\\d{3}
token.0.replacementType = replaytimestamp
token.0.replacement = %Y-%m-%d %H:%M:%S.%f
";
/// Case 8: a jinja template with a time slice and two random picks per event.
const JINJA_TEMPLATE: &str = r#"{"_time": {{ eventgen_target_time_epoch }}, "_raw": "cycle={{ eventgen_count }} user={{ users | random }} host={{ hosts | random }} action=login status=ok"}
"#;
/// Case 9: a template that only prints a constant event: the generator's own cost.
const JINJA_CONSTANT: &str = r#"{"_time": 1700000000, "_raw": "cycle=1 user=alice host=web01 action=login status=ok"}
"#;
const JINJA_SETTINGS: &str = "generator = jinja\njinja_template_dir = templates\n";
const JINJA_VARIABLES: &str = r#"jinja_variables = {"users": ["alice", "bob", "carol", "dave"], "hosts": ["web01", "web02", "db01"]}"#;

/// Replacement files of case 4, copied from the repository's `samples/`.
const WEBLOG_FILES: [&str; 4] = [
    "weblog.uris",
    "weblog.status.csv",
    "weblog.referers",
    "weblog.useragents",
];

struct Case {
    number: u32,
    name: &'static str,
    conf: PathBuf,
    /// The `-c` value.
    count_arg: u64,
    /// Events of one interval (one replay pass) with that count.
    per_interval: u64,
}

#[derive(Clone, Copy, PartialEq)]
enum Sink {
    Devnull,
    Pipe,
    /// Modular input XML to stdout, piped into `cat` (case 3 only).
    ModinputPipe,
}

impl Sink {
    fn label(self) -> &'static str {
        match self {
            Sink::Devnull => "devnull",
            Sink::Pipe => "stdout|wc",
            Sink::ModinputPipe => "xml|wc",
        }
    }
}

/// One run of the binary.
#[derive(Clone, Copy)]
struct Measure {
    events: u64,
    mb: f64,
    wall: f64,
    /// User + system seconds of the eventgen process alone.
    cpu: f64,
    /// MB (10^6 bytes) that came out of the pipe (as much as `mb` for devnull).
    out_mb: f64,
}

impl Measure {
    /// This run less a shorter run of the same case: the cost of the extra events alone.
    fn minus(&self, shorter: &Measure) -> Measure {
        Measure {
            events: self.events.saturating_sub(shorter.events),
            mb: self.mb - shorter.mb,
            wall: (self.wall - shorter.wall).max(1e-3),
            cpu: (self.cpu - shorter.cpu).max(0.0),
            out_mb: self.out_mb - shorter.out_mb,
        }
    }

    fn rate(&self) -> f64 {
        self.events as f64 / self.wall
    }

    fn per_cpu(&self) -> f64 {
        self.events as f64 / self.cpu.max(0.01)
    }
}

fn main() -> Result<()> {
    let secs = env_f64("BENCH_SECS", 1.0);
    let repeat = env_f64("BENCH_REPEAT", 1.0).max(1.0) as u32;
    let rss_secs = env_f64("BENCH_RSS_SECS", 5.0);
    let only: Option<Vec<u32>> = std::env::var("BENCH_CASES")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect());
    let bin = binary()?;
    let dir = TempDir::new()?;
    if let Ok(spec) = std::env::var("BENCH_BASELINE") {
        return compare::run(&spec, &bin, &dir.0);
    }
    let cases = write_cases(&dir.0)?;
    let hz = clock_ticks();
    let mut out = io::stdout().lock();

    writeln!(out, "eventgen throughput: {}", bin.display())?;
    writeln!(
        out,
        "machine: {} cpus, load average {}",
        cpus(),
        load_average()
    )?;
    let dd = pipe_bandwidth()?;
    writeln!(
        out,
        "pipe limit: dd if=/dev/zero bs=1M count={PIPE_MB} | wc -c, best of 3: {:.0} MB/s",
        dd
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "{:<30} {:<10} {:>2} {:>10} {:>10} {:>7} {:>7} {:>8} {:>7} {:>6}",
        "case", "output", "w", "Mev/cpu-s", "events", "wall s", "cpu s", "Mev/s", "MB/s", "% dd"
    )?;
    let mut results = Vec::new();
    // Replay with the loading of its sample subtracted: (workers, one-pass run, difference).
    let mut steady: Vec<(usize, Measure, Measure)> = Vec::new();
    for case in &cases {
        if only.as_ref().is_some_and(|o| !o.contains(&case.number)) {
            continue;
        }
        let pilot = run(&bin, case, Sink::Devnull, 1, PILOT_EVENTS, hz)?;
        // Replay loads a large sample first: at least 20 passes, so the rate is the replay's.
        let least = if case.number == 7 { 20 } else { 1 };
        let total =
            ((pilot.rate() * secs) as u64 / case.per_interval).max(least) * case.per_interval;
        let mut sinks = vec![Sink::Devnull, Sink::Pipe];
        if case.number == 3 {
            sinks.push(Sink::ModinputPipe);
        }
        for sink in sinks {
            for workers in [1, 2] {
                let m = best_of(repeat, || run(&bin, case, sink, workers, total, hz))?;
                if case.number == 7 && sink == Sink::Devnull {
                    // The same run with one pass: what loading the sample costs.
                    let one = best_of(repeat, || {
                        run(&bin, case, sink, workers, case.per_interval, hz)
                    })?;
                    steady.push((workers, one, m.minus(&one)));
                }
                let share = if sink == Sink::Devnull {
                    "-".to_string()
                } else {
                    format!("{:.0}", m.out_mb / m.wall / dd * 100.0)
                };
                writeln!(
                    out,
                    "{:<30} {:<10} {:>2} {:>10.2} {:>10} {:>7.2} {:>7.2} {:>8.2} {:>7.0} {:>6}",
                    format!("({}) {}", case.number, case.name),
                    sink.label(),
                    workers,
                    m.events as f64 / m.cpu.max(0.01) / 1e6,
                    m.events,
                    m.wall,
                    m.cpu,
                    m.rate() / 1e6,
                    m.mb / m.wall,
                    share
                )?;
                out.flush()?;
                results.push((case.number, sink, workers, m));
            }
        }
    }
    writeln!(out)?;
    writeln!(
        out,
        "ratios: 2 workers / 1 worker (events/s), stdout|wc / devnull (events/s), \
         stdout|wc bytes/s / dd (pipe limit {dd:.0} MB/s)"
    )?;
    let get = |c: u32, s: Sink, w: usize| {
        results
            .iter()
            .find(|r| r.0 == c && r.1 == s && r.2 == w)
            .map(|r| r.3)
    };
    let mark = |ok: bool| if ok { "met" } else { "MISSED" };
    for case in &cases {
        let (Some(d1), Some(d2), Some(p1), Some(p2)) = (
            get(case.number, Sink::Devnull, 1),
            get(case.number, Sink::Devnull, 2),
            get(case.number, Sink::Pipe, 1),
            get(case.number, Sink::Pipe, 2),
        ) else {
            continue;
        };
        let pipe_share = p1.out_mb.max(p2.out_mb * p1.wall / p2.wall) / p1.wall / dd;
        writeln!(
            out,
            "({}) 2w/1w devnull {:.2} (per cpu-s {:.2})  pipe/devnull 1w {:.2} 2w {:.2}  \
             best pipe {:.0}% of dd{}",
            case.number,
            d2.rate() / d1.rate(),
            d2.per_cpu() / d1.per_cpu(),
            p1.rate() / d1.rate(),
            p2.rate() / d2.rate(),
            pipe_share * 100.0,
            if d2.mb / d2.wall >= dd {
                format!(
                    " (generator faster than the pipe: {})",
                    mark(pipe_share >= 0.9)
                )
            } else {
                " (generator slower than the pipe)".to_string()
            }
        )?;
    }
    if let (Some((_, load, s1)), Some((_, _, s2))) = (
        steady.iter().find(|s| s.0 == 1),
        steady.iter().find(|s| s.0 == 2),
    ) {
        writeln!(
            out,
            "(7) replay without loading the sample (the one-pass run subtracted; loading took \
             {:.2} s wall, {:.2} cpu-s): 1w {:.2}M/s wall, {:.2}M per cpu-s; 2w {:.2}M/s; \
             2w/1w {:.2}",
            load.wall,
            load.cpu,
            s1.rate() / 1e6,
            s1.per_cpu() / 1e6,
            s2.rate() / 1e6,
            s2.rate() / s1.rate()
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "targets, 1 worker to devnull (events/s over wall time, and per CPU second; replay \
         without loading its sample):"
    )?;
    let steady_1 = steady.iter().find(|s| s.0 == 1).map(|s| s.2);
    for (case, target) in [(3, 5e6), (5, 20e6), (6, 10e6), (7, 5e6)] {
        let d1 = if case == 7 {
            steady_1
        } else {
            get(case, Sink::Devnull, 1)
        };
        if let Some(d1) = d1 {
            writeln!(
                out,
                "  ({case}) >= {:.0}M: {:.2}M/s wall {}, {:.2}M per cpu-s {}",
                target / 1e6,
                d1.rate() / 1e6,
                mark(d1.rate() >= target),
                d1.per_cpu() / 1e6,
                mark(d1.per_cpu() >= target)
            )?;
        }
    }
    if let (Some(j), Some(c)) = (get(8, Sink::Devnull, 1), get(9, Sink::Devnull, 1)) {
        writeln!(
            out,
            "  jinja: {:.0} ns per event with the template, {:.0} ns with a constant one \
             (the template's own share {:.0}%)",
            1e9 / j.per_cpu(),
            1e9 / c.per_cpu(),
            (1.0 - c.per_cpu().recip() / j.per_cpu().recip()) * 100.0
        )?;
    }
    writeln!(
        out,
        "pipe limit again: {:.0} MB/s; load average now {}",
        pipe_bandwidth()?,
        load_average()
    )?;
    writeln!(out)?;
    encoders(&mut out)?;

    if std::env::var("BENCH_HEC").as_deref() != Ok("0") {
        writeln!(out)?;
        hec::run_all(&mut out, &bin, &dir.0, hz)?;
        writeln!(out, "load average after HEC: {}", load_average())?;
    }

    if std::env::var("BENCH_S2S").as_deref() != Ok("0") {
        writeln!(out)?;
        s2s::run_all(&mut out, &bin, &dir.0, hz)?;
        writeln!(out, "load average after S2S: {}", load_average())?;
    }

    writeln!(out)?;
    writeln!(
        out,
        "memory, shipped default config (eventgen generate --devnull):"
    )?;
    let (peak, events) = rss_peak(&bin)?;
    writeln!(
        out,
        "  virtual clock, --end {RSS_PEAK_INTERVALS} ({events} events): VmHWM {:.1} MB",
        peak as f64 / 1024.0
    )?;
    out.flush()?;
    let points = rss_over_time(&bin, rss_secs)?;
    writeln!(out, "  real time, {rss_secs:.0} s (VmRSS / VmHWM in MB):")?;
    for (t, rss, hwm) in &points {
        writeln!(
            out,
            "    {:>6.1} s  {:>6.1}  {:>6.1}",
            t,
            *rss as f64 / 1024.0,
            *hwm as f64 / 1024.0
        )?;
    }
    if let (Some(first), Some(last)) = (points.first(), points.last()) {
        writeln!(
            out,
            "  growth from first to last point: {:+.1} MB",
            (last.1 as f64 - first.1 as f64) / 1024.0
        )?;
    }
    Ok(())
}

/// Cost of each encoder, in this process: the five lines of cases 1-3 with the shipped
/// metadata, `ENCODE_EVENTS` times, into one reused buffer (as a worker does), one thread.
fn encoders(out: &mut impl Write) -> Result<()> {
    use eventgen::output::EventMeta;
    use eventgen::output::encode::Encoding;
    writeln!(
        out,
        "encoders ({ENCODE_EVENTS} events of ~93 bytes, one thread, in this process):"
    )?;
    writeln!(
        out,
        "  {:<14} {:>10} {:>8} {:>9} {:>11}",
        "encoding", "ns/event", "Mev/s", "out MB/s", "x plain"
    )?;
    let lines: Vec<&[u8]> = FIVE_LINES.lines().map(str::as_bytes).collect();
    let mut plain_ns = 0.0;
    // "meta cached": as the workers encode, with the escaped metadata reused between events.
    for (name, enc, cached) in [
        ("plain text", Encoding::Line, false),
        ("modinput XML", Encoding::ModinputXml, false),
        ("  meta cached", Encoding::ModinputXml, true),
        ("HEC JSON", Encoding::HecEvent, false),
        ("  meta cached", Encoding::HecEvent, true),
    ] {
        let mut cache = eventgen::output::encode::MetaCache::default();
        let mut buf: Vec<u8> = Vec::with_capacity(8 << 20);
        let mut bytes = 0u64;
        let started = Instant::now();
        for k in 0..ENCODE_EVENTS {
            let meta = EventMeta {
                time: 1_700_000_000_000_000 + k as i64,
                host: "web01",
                source: "/var/log/app.log",
                sourcetype: "app:log",
                index: "main",
            };
            if cached {
                enc.encode_cached(&meta, lines[k % lines.len()], &mut buf, &mut cache);
            } else {
                enc.encode(&meta, lines[k % lines.len()], &mut buf);
            }
            if buf.len() > 4 << 20 {
                bytes += buf.len() as u64;
                buf.clear();
            }
        }
        bytes += buf.len() as u64;
        std::hint::black_box(&buf);
        let secs = started.elapsed().as_secs_f64();
        let ns = secs * 1e9 / ENCODE_EVENTS as f64;
        if enc == Encoding::Line {
            plain_ns = ns;
        }
        writeln!(
            out,
            "  {:<14} {:>10.1} {:>8.1} {:>9.0} {:>11.2}",
            name,
            ns,
            ENCODE_EVENTS as f64 / secs / 1e6,
            bytes as f64 / secs / 1e6,
            ns / plain_ns
        )?;
    }
    Ok(())
}

/// The fastest (least wall time) of `repeat` runs.
fn best_of(repeat: u32, mut run: impl FnMut() -> Result<Measure>) -> Result<Measure> {
    let mut best: Option<Measure> = None;
    for _ in 0..repeat.max(1) {
        let m = run()?;
        if best.is_none_or(|b| m.wall < b.wall) {
            best = Some(m);
        }
    }
    best.ok_or_else(|| "no run".into())
}

fn env_f64(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// The 1, 5 and 15 minute load averages: other work on the machine skews wall-clock rates.
fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The release binary: `BENCH_BIN` if set (to compare another build in the same session), else
/// the one cargo built for this bench, else `target/release/eventgen`, built on the spot when
/// missing.
fn binary() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("BENCH_BIN") {
        return Ok(PathBuf::from(p));
    }
    let cargo_built = PathBuf::from(env!("CARGO_BIN_EXE_eventgen"));
    if cargo_built.exists() {
        return Ok(cargo_built);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = root.join("target/release/eventgen");
    if !path.exists() {
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["build", "--release", "--bin", "eventgen"])
            .current_dir(root)
            .status()?;
        if !status.success() || !path.exists() {
            return Err(format!("cargo build --release failed: {status}").into());
        }
    }
    Ok(path)
}

/// A temporary folder removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir> {
        let path = std::env::temp_dir().join(format!("eventgen-bench-{}", std::process::id()));
        fs::create_dir_all(path.join("samples"))?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Writes the samples and one `eventgen.conf` per case (samples in `../samples` of each).
fn write_cases(dir: &Path) -> Result<Vec<Case>> {
    let samples = dir.join("samples");
    fs::write(samples.join("five"), FIVE_LINES)?;
    fs::write(samples.join("weblog"), WEBLOG)?;
    let repo_samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    for f in WEBLOG_FILES {
        fs::copy(repo_samples.join(f), samples.join(f))?;
    }
    // Case 7's sample: the five lines over and over, 10 ms apart, with millisecond times.
    let mut replay = String::new();
    let lines: Vec<&str> = FIVE_LINES.lines().collect();
    for k in 0..REPLAY_EVENTS {
        let ms = k * 10;
        let line = lines[k as usize % lines.len()];
        replay.push_str(&format!(
            "2024-01-01 {:02}:{:02}:{:02}.{:03}{}\n",
            ms / 3_600_000,
            ms / 60_000 % 60,
            ms / 1000 % 60,
            ms % 1000,
            &line[19..]
        ));
    }
    fs::write(samples.join("replay"), replay)?;
    fs::create_dir_all(samples.join("templates"))?;
    fs::write(samples.join("templates/events.j2"), JINJA_TEMPLATE)?;
    fs::write(samples.join("templates/constant.j2"), JINJA_CONSTANT)?;
    let jinja = |target: &str| {
        format!("{JINJA_SETTINGS}jinja_target_template = {target}\n{JINJA_VARIABLES}\n")
    };
    let sample_path = (PER_INTERVAL, PER_INTERVAL);
    let specs = [
        (1, "5 lines, no tokens", "five", String::new(), sample_path),
        (
            2,
            "5 lines, 1 timestamp",
            "five",
            FULL_TIME.to_string(),
            sample_path,
        ),
        (
            3,
            "5 lines, 5 tokens (chain)",
            "five",
            format!("{FULL_TIME}{CASE3_REST}"),
            sample_path,
        ),
        (
            4,
            "web log, 7 tokens",
            "weblog",
            WEBLOG_TOKENS.to_string(),
            sample_path,
        ),
        (
            5,
            "windbag generator",
            "windbag",
            WINDBAG.to_string(),
            sample_path,
        ),
        (
            6,
            "counter generator",
            "counter",
            COUNTER.to_string(),
            (1, COUNTER_CYCLE),
        ),
        (
            7,
            "replay, 100k-event sample",
            "replay",
            REPLAY_TOKENS.to_string(),
            (1, REPLAY_EVENTS),
        ),
        (
            8,
            "jinja, 2 random picks",
            "jinja",
            jinja("events.j2"),
            sample_path,
        ),
        (
            9,
            "jinja, constant template",
            "jinja",
            jinja("constant.j2"),
            sample_path,
        ),
    ];
    let mut cases = Vec::new();
    for (number, name, sample, settings, (count_arg, per_interval)) in specs {
        let folder = dir.join(format!("case{number}"));
        fs::create_dir_all(&folder)?;
        let conf = folder.join("eventgen.conf");
        fs::write(
            &conf,
            format!("[{sample}]\nsampleDir = ../samples\ninterval = 1\n{settings}"),
        )?;
        cases.push(Case {
            number,
            name,
            conf,
            count_arg,
            per_interval,
        });
    }
    Ok(cases)
}

/// Clock ticks per second of `/proc` CPU times.
fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// CPU seconds of this process's reaped children (`cutime + cstime` of `/proc/self/stat`).
fn children_cpu(hz: f64) -> f64 {
    let stat = fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at field 3.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    // cutime and cstime are fields 16 and 17, i.e. indexes 13 and 14 after the name.
    (f.get(13).copied().unwrap_or(0.0) + f.get(14).copied().unwrap_or(0.0)) / hz
}

/// Runs `eventgen generate CONF --now NOW --seed 1 -c COUNT --end N -v` for `total` events.
/// The pipe case is what `sh -c 'eventgen ... | wc -c'` does (`wc -c` reads like `cat` and
/// counts the bytes), with the two processes spawned directly so eventgen's CPU time can be
/// told apart from the reader's.
fn run(
    bin: &Path,
    case: &Case,
    sink: Sink,
    workers: usize,
    total: u64,
    hz: f64,
) -> Result<Measure> {
    let end = total.div_ceil(case.per_interval);
    let mut cmd = generate_command(bin, &case.conf, case.count_arg, end, workers);
    match sink {
        Sink::Devnull => {
            cmd.arg("--devnull").stdout(Stdio::null());
        }
        Sink::Pipe => {
            cmd.args(["--output", "stdout"]).stdout(Stdio::piped());
        }
        Sink::ModinputPipe => {
            cmd.args(["--output", "modinput"]).stdout(Stdio::piped());
        }
    }
    let cpu0 = children_cpu(hz);
    let started = Instant::now();
    let mut child = cmd.spawn()?;
    let reader = match child.stdout.take() {
        None => None,
        Some(pipe) => Some(
            Command::new("wc")
                .arg("-c")
                .stdin(pipe)
                .stdout(Stdio::piped())
                .spawn()?,
        ),
    };
    let output = child.wait_with_output()?;
    let cpu = children_cpu(hz) - cpu0;
    let counted = match reader {
        Some(r) => Some(r.wait_with_output()?),
        None => None,
    };
    let wall = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!("eventgen failed ({}): {stderr}", output.status).into());
    }
    let (events, mb) = parse_summary(&stderr)
        .ok_or_else(|| format!("no summary line in eventgen's stderr: {stderr}"))?;
    let out_mb = match counted {
        Some(o) => {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse::<f64>()
                .map_err(|e| format!("wc -c: {e}"))?
                / 1e6
        }
        None => mb,
    };
    Ok(Measure {
        events,
        mb,
        wall,
        cpu,
        out_mb,
    })
}

/// `eventgen generate CONF --now NOW --seed 1 -v -c COUNT --end N --generators W`, stdin
/// closed and stderr piped; the caller picks the output.
fn generate_command(bin: &Path, conf: &Path, count: u64, end: u64, workers: usize) -> Command {
    let mut cmd = Command::new(bin);
    cmd.arg("generate")
        .arg(conf)
        .args(["--now", NOW, "--seed", "1", "-v"])
        .args(["-c", &count.to_string(), "--end", &end.to_string()])
        .args(["--generators", &workers.to_string()])
        .stdin(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

/// `INFO generated N events (X MB) in Ys: ...` → `(N, X)`.
fn parse_summary(stderr: &str) -> Option<(u64, f64)> {
    let line = stderr
        .lines()
        .rev()
        .find(|l| l.starts_with("INFO generated "))?;
    let rest = line.strip_prefix("INFO generated ")?;
    let (events, rest) = rest.split_once(" events (")?;
    let (mb, _) = rest.split_once(" MB)")?;
    Some((events.parse().ok()?, mb.parse().ok()?))
}

/// MiB written by each `dd` of [`pipe_bandwidth`].
const PIPE_MB: u32 = 2000;

/// MB/s of `dd if=/dev/zero bs=1M count=PIPE_MB | wc -c`, the best of three: the most a pipe
/// into the reader the pipe rows use carries on this machine.
fn pipe_bandwidth() -> Result<f64> {
    let mut best = 0f64;
    for _ in 0..3 {
        let started = Instant::now();
        let status = Command::new("sh")
            .args([
                "-c",
                &format!("dd if=/dev/zero bs=1M count={PIPE_MB} 2>/dev/null | wc -c > /dev/null"),
            ])
            .status()?;
        if !status.success() {
            return Err(format!("dd | wc -c failed: {status}").into());
        }
        let mb = f64::from(PIPE_MB) * 1_048_576.0 / 1e6;
        best = best.max(mb / started.elapsed().as_secs_f64());
    }
    Ok(best)
}

/// `(VmRSS, VmHWM)` in kB from `/proc/<pid>/status`, while the process lives.
fn memory(pid: u32) -> Option<(u64, u64)> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

fn shipped(bin: &Path) -> Command {
    let mut cmd = Command::new(bin);
    cmd.args(["generate", "--devnull"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    cmd
}

/// Peak resident size of the shipped config run flat out on the virtual clock: VmHWM polled
/// until the process exits. Returns (kB, events).
fn rss_peak(bin: &Path) -> Result<(u64, u64)> {
    let mut child = shipped(bin)
        .args(["--now", NOW, "--seed", "1", "-v"])
        .args(["--end", &RSS_PEAK_INTERVALS.to_string()])
        .stderr(Stdio::piped())
        .spawn()?;
    let mut peak = 0;
    while child.try_wait()?.is_none() {
        if let Some((_, hwm)) = memory(child.id()) {
            peak = peak.max(hwm);
        }
        std::thread::sleep(RSS_POLL);
    }
    let output = child.wait_with_output()?;
    let events = parse_summary(&String::from_utf8_lossy(&output.stderr)).map_or(0, |s| s.0);
    Ok((peak, events))
}

/// VmRSS and VmHWM of the shipped config in real time, at `RSS_POINTS` moments of `secs`.
fn rss_over_time(bin: &Path, secs: f64) -> Result<Vec<(f64, u64, u64)>> {
    let mut child = shipped(bin).stderr(Stdio::null()).spawn()?;
    let result = sample_memory(&mut child, secs);
    let _ = child.kill();
    let _ = child.wait();
    result
}

fn sample_memory(child: &mut Child, secs: f64) -> Result<Vec<(f64, u64, u64)>> {
    let started = Instant::now();
    let mut points = Vec::new();
    for k in 1..=RSS_POINTS {
        let at = Duration::from_secs_f64(secs * f64::from(k) / f64::from(RSS_POINTS));
        while started.elapsed() < at {
            if let Some(status) = child.try_wait()? {
                return Err(format!("shipped config exited early: {status}").into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let (rss, hwm) = memory(child.id()).ok_or("cannot read /proc/<pid>/status")?;
        points.push((started.elapsed().as_secs_f64(), rss, hwm));
    }
    Ok(points)
}
