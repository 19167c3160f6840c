//! The HEC part of the benchmark: `eventgen generate` with `outputMode = httpevent` into two
//! receivers, with 1 and 4 requests in flight, with and without gzip.
//!
//! - `mini`: a minimal HTTP server inside this process (std::net, a thread per connection,
//!   keep-alive, Content-Length bodies read and thrown away, gzip or not) that answers
//!   `{"text":"Success","code":0}` at once. It costs almost nothing, so it shows our ceiling.
//! - `tenzir`: Tenzir's `accept_splunk` (`tests/tools/tenzir-hec`), a real, independent
//!   HEC server that parses every event and writes it to an NDJSON file. Beside each row: its
//!   own CPU use (utime + stime from `/proc/<pid>/stat`) over the run, as a percentage of that
//!   run's wall time, next to eventgen's.
//!
//! Environment: `BENCH_HEC=0` skips this part, `BENCH_HEC_EVENTS` (default 300,000) sets the
//! events per run, `EVENTGEN_SKIP_TENZIR=1` leaves out the Tenzir rows.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::{CASE3_REST, FULL_TIME, NOW, Result, children_cpu, env_f64, parse_summary};

/// Events per HEC run unless `BENCH_HEC_EVENTS` says otherwise: about 30 MB of event text.
const DEFAULT_EVENTS: u64 = 300_000;
/// Most events of a Tenzir row.
const TENZIR_EVENTS: u64 = 100_000;
/// Events per interval (`-c`).
pub(crate) const PER_INTERVAL: u64 = 100_000;
/// Bytes per request: 1 MiB, about 4,000 events of this sample with their JSON envelope.
const MAX_PAYLOAD: u64 = 1_048_576;
/// The token the Tenzir receiver accepts (the mini server accepts anything).
const TOKEN: &str = "bbbbbbbb-0000-1111-2222-333333333333";
/// How long Tenzir may take, after eventgen exits, to write the last events to its file.
const DRAIN_LIMIT: Duration = Duration::from_secs(120);
/// The mini server's answer to every request.
const SUCCESS: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r\n{\"text\":\"Success\",\"code\":0}";
/// Read buffer of a mini-server connection; request heads must fit in it.
const READ_BUF: usize = 256 * 1024;

#[derive(Clone, Copy, PartialEq)]
enum Target {
    Mini,
    Tenzir,
}

impl Target {
    fn label(self) -> &'static str {
        match self {
            Target::Mini => "mini (200 at once)",
            Target::Tenzir => "tenzir accept_splunk",
        }
    }
}

/// One HEC run.
struct HecMeasure {
    events: u64,
    /// Event text, as eventgen's summary counts it.
    mb: f64,
    requests: u64,
    retried: u64,
    /// Spawn to exit of eventgen.
    wall: f64,
    eventgen_cpu: f64,
    /// Request bodies as sent (compressed when gzip), mini server only.
    wire_bytes: Option<u64>,
    /// Receiver CPU seconds from eventgen's start until every event was received (mini: this
    /// whole bench process, i.e. the server threads; tenzir: the tenzir process).
    receiver_cpu: f64,
    /// Seconds from eventgen's start until the receiver had every event.
    receiver_wall: f64,
}

/// Runs every HEC case and prints its table to `out`.
pub fn run_all(out: &mut impl Write, bin: &Path, dir: &Path, hz: f64) -> Result<()> {
    let events = (env_f64("BENCH_HEC_EVENTS", DEFAULT_EVENTS as f64) as u64).max(1);
    let tenzir = tenzir_tool();
    writeln!(
        out,
        "HTTP Event Collector (outputMode = httpevent, /event endpoint, gen: generator threads, \
         inf: httpeventMaxInFlight, \
         case 3's sample and tokens (~93-byte events), httpeventMaxPayloadSize = {MAX_PAYLOAD}):"
    )?;
    if tenzir.is_none() {
        writeln!(out, "  note: Tenzir rows skipped (EVENTGEN_SKIP_TENZIR=1)")?;
    }
    writeln!(
        out,
        "{:<21} {:>3} {:>3} {:<5} {:>9} {:>6} {:>7} {:>7} {:>7} {:>7} {:>8} {:>9} {:>7}",
        "receiver",
        "gen",
        "inf",
        "gzip",
        "events",
        "reqs",
        "wall s",
        "Mev/s",
        "MB/s",
        "wireMB/s",
        "eg cpu%",
        "recv cpu%",
        "recv s"
    )?;
    let mut targets = vec![Target::Mini];
    if tenzir.is_some() {
        targets.push(Target::Tenzir);
    }
    // The mini server also with 2 generators: is the sender or the generator our ceiling?
    let mut runs = Vec::new();
    for target in targets {
        let gens: &[u32] = if target == Target::Mini {
            &[1, 2]
        } else {
            &[1]
        };
        for &generators in gens {
            for in_flight in [1, 4] {
                for gzip in [false, true] {
                    runs.push((target, generators, in_flight, gzip));
                }
            }
        }
    }
    for (target, generators, in_flight, gzip) in runs {
        let conf = write_conf(dir, in_flight, gzip)?;
        let m = match target {
            Target::Mini => run_mini(bin, &conf, events, generators, hz)?,
            Target::Tenzir => {
                let tool = tenzir.as_deref().ok_or("no Tenzir receiver")?;
                // Tenzir takes ~0.1 M events/s at best: fewer events keep the run short, and
                // a receiver that falls behind on a loaded machine is a row, not the end.
                match run_tenzir(bin, tool, dir, &conf, events.min(TENZIR_EVENTS), hz) {
                    Ok(m) => m,
                    Err(e) => {
                        let first = e.to_string();
                        let first = first.lines().find(|l| l.contains("ERROR")).unwrap_or("");
                        writeln!(
                            out,
                            "{:<21} {generators:>3} {in_flight:>3} {gzip:<5} failed: {first}",
                            target.label()
                        )?;
                        continue;
                    }
                }
            }
        };
        let wire = m.wire_bytes.map_or("-".to_string(), |b| {
            format!("{:.0}", b as f64 / 1e6 / m.wall)
        });
        writeln!(
            out,
            "{:<21} {:>3} {:>3} {:<5} {:>9} {:>6} {:>7.2} {:>7.3} {:>7.1} {:>7} {:>8.0} {:>9.0} {:>7.2}",
            target.label(),
            generators,
            in_flight,
            gzip,
            m.events,
            m.requests,
            m.wall,
            m.events as f64 / m.wall / 1e6,
            m.mb / m.wall,
            wire,
            m.eventgen_cpu / m.wall * 100.0,
            m.receiver_cpu / m.receiver_wall.max(1e-9) * 100.0,
            m.receiver_wall
        )?;
        if m.retried > 0 {
            writeln!(out, "  ({} batches retried in that run)", m.retried)?;
        }
        out.flush()?;
    }
    writeln!(
        out,
        "  MB/s: event text; wireMB/s: request bodies as sent; cpu%: of one core over the run \
         (eg: eventgen's wall time; recv: until the receiver had every event, `recv s`)"
    )?;
    Ok(())
}

/// The `[five]` stanza pointed at `__PORT__` (filled in per run).
fn write_conf(dir: &Path, in_flight: u32, gzip: bool) -> Result<PathBuf> {
    let settings = format!(
        "host = bench-host\nsource = bench\nsourcetype = bench:hec\nindex = main\n\
         {FULL_TIME}{CASE3_REST}"
    );
    hec_conf(
        &dir.join(format!("hec-{in_flight}-{gzip}")),
        "five",
        &settings,
        in_flight,
        gzip,
    )
}

/// The comparison's HEC case: stanza `sample` with `settings`, one request in flight, no gzip.
pub(crate) fn write_compare_conf(dir: &Path, sample: &str, settings: &str) -> Result<PathBuf> {
    hec_conf(&dir.join("cmp-hec"), sample, settings, 1, false)
}

/// `folder/eventgen.conf.in`: stanza `sample` (samples in `../samples`) with `settings`, sent
/// to HEC at `__PORT__`.
fn hec_conf(
    folder: &Path,
    sample: &str,
    settings: &str,
    in_flight: u32,
    gzip: bool,
) -> Result<PathBuf> {
    fs::create_dir_all(folder)?;
    let conf = folder.join("eventgen.conf.in");
    fs::write(
        &conf,
        format!(
            "[{sample}]\nsampleDir = ../samples\ninterval = 1\n\
             outputMode = httpevent\n\
             httpeventServers = {{\"servers\":[{{\"protocol\":\"http\",\"address\":\"127.0.0.1\",\"port\":\"__PORT__\",\"key\":\"{TOKEN}\"}}]}}\n\
             httpeventMaxPayloadSize = {MAX_PAYLOAD}\nhttpeventMaxInFlight = {in_flight}\n\
             httpeventGzip = {gzip}\n{settings}"
        ),
    )?;
    Ok(conf)
}

/// Writes `eventgen.conf` beside the template with `port` filled in.
pub(crate) fn conf_for(template: &Path, port: u16) -> Result<PathBuf> {
    let text = fs::read_to_string(template)?.replace("__PORT__", &port.to_string());
    let conf = template.with_file_name("eventgen.conf");
    fs::write(&conf, text)?;
    Ok(conf)
}

/// What eventgen's verbose stderr says about a run.
struct Report {
    events: u64,
    mb: f64,
    sent: u64,
    requests: u64,
    retried: u64,
    failed: u64,
}

/// `INFO HEC: sent N events in M requests, acknowledged A, retried R, resent S, failed F`.
fn parse_report(stderr: &str) -> Option<Report> {
    let (events, mb) = parse_summary(stderr)?;
    let line = stderr
        .lines()
        .find_map(|l| l.strip_prefix("INFO HEC: sent "))?;
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect();
    let [sent, requests, _acked, retried, _resent, failed] = numbers[..] else {
        return None;
    };
    Some(Report {
        events,
        mb,
        sent,
        requests,
        retried,
        failed,
    })
}

/// Runs eventgen on `conf` for `events` events and checks that all were sent. Returns the
/// report, wall seconds and eventgen's CPU seconds.
fn run_eventgen(
    bin: &Path,
    conf: &Path,
    events: u64,
    generators: u32,
    hz: f64,
) -> Result<(Report, f64, f64)> {
    let per = PER_INTERVAL.min(events);
    let end = events.div_ceil(per);
    let mut cmd = Command::new(bin);
    cmd.arg("generate")
        .arg(conf)
        .args(["--now", NOW, "--seed", "1", "-v"])
        .args(["--generators", &generators.to_string()])
        .args(["-c", &per.to_string(), "--end", &end.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let cpu0 = children_cpu(hz);
    let started = Instant::now();
    let output = cmd.spawn()?.wait_with_output()?;
    let wall = started.elapsed().as_secs_f64();
    let cpu = children_cpu(hz) - cpu0;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!("eventgen failed ({}): {stderr}", output.status).into());
    }
    let r = parse_report(&stderr).ok_or_else(|| format!("no HEC summary in: {stderr}"))?;
    if r.sent != r.events || r.failed != 0 {
        return Err(format!("not every event was delivered: {stderr}").into());
    }
    Ok((r, wall, cpu))
}

fn run_mini(
    bin: &Path,
    template: &Path,
    events: u64,
    generators: u32,
    hz: f64,
) -> Result<HecMeasure> {
    let server = MiniHec::start()?;
    let conf = conf_for(template, server.port)?;
    let self0 = process_cpu("self", hz).ok_or("cannot read /proc/self/stat")?;
    let (r, wall, cpu) = run_eventgen(bin, &conf, events, generators, hz)?;
    let self1 = process_cpu("self", hz).ok_or("cannot read /proc/self/stat")?;
    let wire = server.bytes.load(Ordering::Relaxed);
    let requests = server.requests.load(Ordering::Relaxed);
    if requests != r.requests {
        return Err(format!(
            "the mini server saw {requests} requests, eventgen reports {}",
            r.requests
        )
        .into());
    }
    Ok(HecMeasure {
        events: r.events,
        mb: r.mb,
        requests: r.requests,
        retried: r.retried,
        wall,
        eventgen_cpu: cpu,
        wire_bytes: Some(wire),
        receiver_cpu: self1 - self0,
        receiver_wall: wall,
    })
}

fn run_tenzir(
    bin: &Path,
    tool: &Path,
    dir: &Path,
    template: &Path,
    events: u64,
    hz: f64,
) -> Result<HecMeasure> {
    let receiver = Tenzir::start(tool, dir)?;
    let conf = conf_for(template, receiver.port)?;
    let pid = receiver.child.id().to_string();
    let cpu0 = process_cpu(&pid, hz).ok_or("cannot read the receiver's /proc stat")?;
    let started = Instant::now();
    let (r, wall, cpu) = run_eventgen(bin, &conf, events, 1, hz)?;
    // Tenzir answers before its pipeline has written the events: wait until all are in the file.
    let deadline = Instant::now() + DRAIN_LIMIT;
    loop {
        let lines = count_lines(&receiver.out)?;
        if lines >= r.events {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!("Tenzir wrote {lines} of {} events", r.events).into());
        }
        thread::sleep(Duration::from_millis(20));
    }
    let receiver_wall = started.elapsed().as_secs_f64();
    let cpu1 = process_cpu(&pid, hz).ok_or("cannot read the receiver's /proc stat")?;
    Ok(HecMeasure {
        events: r.events,
        mb: r.mb,
        requests: r.requests,
        retried: r.retried,
        wall,
        eventgen_cpu: cpu,
        wire_bytes: None,
        receiver_cpu: cpu1 - cpu0,
        receiver_wall,
    })
}

/// utime + stime in seconds of `/proc/<who>/stat` (all threads of that process).
fn process_cpu(who: &str, hz: f64) -> Option<f64> {
    let stat = fs::read_to_string(format!("/proc/{who}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15, i.e. indexes 11 and 12 after the name.
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / hz)
}

fn count_lines(path: &Path) -> io::Result<u64> {
    let mut f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0;
    loop {
        let got = f.read(&mut buf)?;
        if got == 0 {
            return Ok(n);
        }
        n += memchr::memchr_iter(b'\n', &buf[..got]).count() as u64;
    }
}

/// The Tenzir receiver script (it installs Tenzir on first use), unless
/// `EVENTGEN_SKIP_TENZIR=1`.
fn tenzir_tool() -> Option<PathBuf> {
    if std::env::var("EVENTGEN_SKIP_TENZIR").as_deref() == Ok("1") {
        return None;
    }
    Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/tenzir-hec"))
}

/// One Tenzir receiver on a free port; killed, and its file removed, on drop.
struct Tenzir {
    child: Child,
    port: u16,
    out: PathBuf,
}

impl Tenzir {
    fn start(tool: &Path, dir: &Path) -> Result<Tenzir> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let out = dir.join(format!("tenzir-{port}.ndjson"));
        let child = Command::new(tool)
            .args(["run", &port.to_string(), TOKEN, &out.display().to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let mut t = Tenzir { child, port, out };
        // Listens within a few seconds once installed; the first use installs it (minutes).
        let deadline = Instant::now() + Duration::from_secs(300);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = t.child.try_wait()? {
                return Err(format!("tenzir-hec exited: {status}").into());
            }
            if Instant::now() > deadline {
                return Err("tenzir-hec did not listen within 300 s".into());
            }
            thread::sleep(Duration::from_millis(50));
        }
        Ok(t)
    }
}

impl Drop for Tenzir {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_file(&self.out);
    }
}

/// The minimal HEC server: counts requests and body bytes, answers success at once.
pub(crate) struct MiniHec {
    pub(crate) port: u16,
    bytes: Arc<AtomicU64>,
    requests: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl MiniHec {
    pub(crate) fn start() -> io::Result<MiniHec> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let bytes = Arc::new(AtomicU64::new(0));
        let requests = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (b, r, s) = (bytes.clone(), requests.clone(), stop.clone());
        let accept = thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(conn) = conn {
                    let (b, r) = (b.clone(), r.clone());
                    // Ends when eventgen closes the connection.
                    thread::spawn(move || {
                        let _ = serve(conn, &b, &r);
                    });
                }
            }
        });
        Ok(MiniHec {
            port,
            bytes,
            requests,
            stop,
            accept: Some(accept),
        })
    }
}

impl Drop for MiniHec {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(a) = self.accept.take() {
            let _ = a.join();
        }
    }
}

/// One keep-alive connection: read a head, read and drop `Content-Length` body bytes, answer.
fn serve(mut s: TcpStream, bytes: &AtomicU64, requests: &AtomicU64) -> io::Result<()> {
    s.set_nodelay(true)?;
    let mut buf = vec![0u8; READ_BUF];
    let (mut start, mut end) = (0, 0);
    loop {
        let head_end = loop {
            if let Some(p) = memchr::memmem::find(&buf[start..end], b"\r\n\r\n") {
                break start + p + 4;
            }
            if start > 0 {
                buf.copy_within(start..end, 0);
                end -= start;
                start = 0;
            }
            if end == buf.len() {
                return Err(io::Error::other("request head too large"));
            }
            let n = s.read(&mut buf[end..])?;
            if n == 0 {
                return Ok(());
            }
            end += n;
        };
        let len = content_length(&buf[start..head_end]).unwrap_or(0);
        start = head_end;
        let have = (end - start).min(len);
        start += have;
        let mut left = len - have;
        if left > 0 {
            // Everything buffered was body: read the rest, and no further.
            (start, end) = (0, 0);
            while left > 0 {
                let n = s.read(&mut buf[..left.min(READ_BUF)])?;
                if n == 0 {
                    return Ok(());
                }
                left -= n;
            }
        }
        bytes.fetch_add(len as u64, Ordering::Relaxed);
        requests.fetch_add(1, Ordering::Relaxed);
        s.write_all(SUCCESS)?;
    }
}

fn content_length(head: &[u8]) -> Option<usize> {
    let head = std::str::from_utf8(head).ok()?;
    head.split("\r\n").find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse().ok())?
    })
}
