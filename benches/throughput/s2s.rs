//! The S2S part of the benchmark: `eventgen generate` with `outputMode = s2s` into a minimal
//! receiver inside this process (std::net, a thread per connection: it reads the signature,
//! answers the v3 capabilities, then reads and throws away), with 1 and 4 connections, beside
//! the same workload to `--devnull`. Events per CPU second first, then events/s and MB/s of
//! event text and on the wire; the ratio to devnull is the target (>= 0.9).
//!
//! Environment: `BENCH_S2S=0` skips this part, `BENCH_S2S_EVENTS` (default 2,000,000) sets
//! the events per run.

use std::fs;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::Instant;

use eventgen::output::s2s::wire;

use super::{FULL_TIME, NOW, Result, children_cpu, env_f64, parse_summary};

const DEFAULT_EVENTS: u64 = 2_000_000;
const PER_INTERVAL: u64 = 100_000;

/// One run.
struct S2sMeasure {
    events: u64,
    mb: f64,
    wall: f64,
    cpu: f64,
    /// Bytes the receiver read (signature and messages), when it was an S2S run.
    wire: Option<u64>,
    connections: u64,
}

/// Runs every S2S case and prints its table to `out`.
pub fn run_all(out: &mut impl Write, bin: &Path, dir: &Path, hz: f64) -> Result<()> {
    let events = (env_f64("BENCH_S2S_EVENTS", DEFAULT_EVENTS as f64) as u64).max(1);
    writeln!(
        out,
        "S2S (outputMode = s2s, protocol v3, into an in-bench receiver that reads and discards; \
         case 2's sample, ~90-byte events; conn: s2sConnections):"
    )?;
    writeln!(
        out,
        "{:<9} {:>4} {:>10} {:>9} {:>7} {:>7} {:>7} {:>7} {:>8} {:>9}",
        "output",
        "conn",
        "Mev/cpu-s",
        "events",
        "wall s",
        "cpu s",
        "Mev/s",
        "MB/s",
        "wireMB/s",
        "vs devnull"
    )?;
    let devnull = run(bin, dir, None, events, hz)?;
    print_row(out, "devnull", "-", &devnull, None)?;
    for connections in [1u32, 4] {
        let receiver = MiniS2s::start()?;
        let m = run(bin, dir, Some((receiver.port, connections)), events, hz)?;
        let m = S2sMeasure {
            wire: Some(receiver.bytes.load(Ordering::Relaxed)),
            connections: receiver.connections.load(Ordering::Relaxed),
            ..m
        };
        receiver.stop();
        print_row(out, "s2s", &connections.to_string(), &m, Some(&devnull))?;
        if m.connections != u64::from(connections) {
            writeln!(
                out,
                "  (the receiver saw {} connections, not {connections})",
                m.connections
            )?;
        }
    }
    writeln!(
        out,
        "  vs devnull: events/s over the devnull run's (target >= 0.90), then per cpu-s; MB/s: \
         event text (target >= 1000); wireMB/s: the S2S stream as the receiver read it"
    )?;
    Ok(())
}

fn print_row(
    out: &mut impl Write,
    label: &str,
    conn: &str,
    m: &S2sMeasure,
    base: Option<&S2sMeasure>,
) -> io::Result<()> {
    let rate = m.events as f64 / m.wall;
    let per_cpu = m.events as f64 / m.cpu.max(0.01);
    let ratio = base.map_or("-".to_string(), |b| {
        format!(
            "{:.2} / {:.2}",
            rate / (b.events as f64 / b.wall),
            per_cpu / (b.events as f64 / b.cpu.max(0.01))
        )
    });
    writeln!(
        out,
        "{:<9} {:>4} {:>10.2} {:>9} {:>7.2} {:>7.2} {:>7.2} {:>7.0} {:>8} {:>9}",
        label,
        conn,
        per_cpu / 1e6,
        m.events,
        m.wall,
        m.cpu,
        rate / 1e6,
        m.mb / m.wall,
        m.wire.map_or("-".to_string(), |b| format!(
            "{:.0}",
            b as f64 / 1e6 / m.wall
        )),
        ratio
    )?;
    out.flush()
}

/// Case 2's sample (five lines, one timestamp token) to s2s at `target`, or to devnull.
fn write_conf(dir: &Path, target: Option<(u16, u32)>) -> Result<PathBuf> {
    let folder = dir.join("s2s");
    fs::create_dir_all(&folder)?;
    let conf = folder.join("eventgen.conf");
    let output = match target {
        Some((port, conns)) => format!(
            "outputMode = s2s\nsplunkHost = 127.0.0.1\nsplunkPort = {port}\ns2sConnections = {conns}\n"
        ),
        None => "outputMode = devnull\n".to_string(),
    };
    fs::write(
        &conf,
        format!(
            "[five]\nsampleDir = ../samples\ninterval = 1\n\
             host = bench-host\nsource = bench\nsourcetype = bench:s2s\nindex = main\n\
             {output}{FULL_TIME}"
        ),
    )?;
    Ok(conf)
}

fn run(
    bin: &Path,
    dir: &Path,
    target: Option<(u16, u32)>,
    events: u64,
    hz: f64,
) -> Result<S2sMeasure> {
    let conf = write_conf(dir, target)?;
    let per = PER_INTERVAL.min(events);
    let end = events.div_ceil(per);
    let cpu0 = children_cpu(hz);
    let started = Instant::now();
    let output = Command::new(bin)
        .arg("generate")
        .arg(&conf)
        .args(["--now", NOW, "--seed", "1", "-v"])
        .args(["-c", &per.to_string(), "--end", &end.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?
        .wait_with_output()?;
    let wall = started.elapsed().as_secs_f64();
    let cpu = children_cpu(hz) - cpu0;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!("eventgen failed ({}): {stderr}", output.status).into());
    }
    let (n, mb) = parse_summary(&stderr).ok_or_else(|| format!("no summary: {stderr}"))?;
    if target.is_some() {
        let want = format!(": {n} events delivered over");
        if !stderr.contains(&want) {
            return Err(format!("not every event was delivered: {stderr}").into());
        }
    }
    Ok(S2sMeasure {
        events: n,
        mb,
        wall,
        cpu,
        wire: None,
        connections: 0,
    })
}

/// The in-bench receiver: bytes read and connections accepted.
struct MiniS2s {
    port: u16,
    bytes: Arc<AtomicU64>,
    connections: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl MiniS2s {
    fn start() -> Result<MiniS2s> {
        let l = TcpListener::bind("127.0.0.1:0")?;
        let port = l.local_addr()?.port();
        l.set_nonblocking(true)?;
        let bytes = Arc::new(AtomicU64::new(0));
        let connections = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (b, c, s) = (bytes.clone(), connections.clone(), stop.clone());
        thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match l.accept() {
                    Ok((conn, _)) => {
                        c.fetch_add(1, Ordering::Relaxed);
                        let b = b.clone();
                        thread::spawn(move || {
                            let _ = serve(conn, &b);
                        });
                    }
                    Err(_) => thread::sleep(std::time::Duration::from_millis(2)),
                }
            }
        });
        Ok(MiniS2s {
            port,
            bytes,
            connections,
            stop,
        })
    }

    fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Signature, capabilities (answered), then read and discard until the sender closes.
fn serve(mut s: TcpStream, bytes: &AtomicU64) -> io::Result<()> {
    s.set_nonblocking(false)?;
    let mut head = vec![0u8; wire::SIGNATURE_LEN + 4];
    s.read_exact(&mut head)?;
    if head[..25] == *b"--splunk-cooked-mode-v3--" {
        let size = u32::from_be_bytes(head[wire::SIGNATURE_LEN..].try_into().unwrap_or([0; 4]));
        let mut caps = vec![0u8; size as usize];
        s.read_exact(&mut caps)?;
        s.write_all(&wire::control_message(&[(
            "__s2s_control_msg",
            "cap_response=success;cap_flush_key=false;channel_limit=300",
        )]))?;
        bytes.fetch_add((head.len() + caps.len()) as u64, Ordering::Relaxed);
    } else {
        bytes.fetch_add(head.len() as u64, Ordering::Relaxed);
    }
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = s.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        bytes.fetch_add(n as u64, Ordering::Relaxed);
    }
}
