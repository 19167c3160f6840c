//! The HEC sink against a real, independently written HEC server (Tenzir's `accept_splunk`,
//! started by /work/shared/tools/hec-receiver). Set `EVENTGEN_SKIP_TENZIR=1` to skip these.
//! The receivers run one at a time (each is a 120 MB process on a 2-core machine).

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use eventgen::output::hec::encode::encode_event;
use eventgen::output::hec::{Endpoint, HecConfig, HecSink, ServerConfig, StatsSnapshot};
use eventgen::output::{Batch, BatchMeta, EventMeta, Sink};

const TOKEN: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn tool() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    for base in manifest.ancestors() {
        let p = base.join("shared/tools/hec-receiver");
        if p.exists() {
            return p;
        }
    }
    PathBuf::from("/work/shared/tools/hec-receiver")
}

fn skip() -> bool {
    if std::env::var("EVENTGEN_SKIP_TENZIR").as_deref() == Ok("1") {
        eprintln!("note: EVENTGEN_SKIP_TENZIR=1, skipping the Tenzir HEC receiver test");
        return true;
    }
    false
}

struct Receiver {
    child: Child,
    port: u16,
    out: PathBuf,
    _dir: TempDir,
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Receiver {
    fn start(extra: &str) -> Receiver {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let dir =
            std::env::temp_dir().join(format!("eventgen-tenzir-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("events.ndjson");
        let child = Command::new(tool())
            .args([
                port.to_string(),
                TOKEN.to_string(),
                out.display().to_string(),
                extra.to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("start hec-receiver");
        let mut r = Receiver {
            child,
            port,
            out,
            _dir: TempDir(dir),
        };
        // The first run installs Tenzir (1-2 minutes); later ones listen within seconds.
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            if let Ok(Some(status)) = r.child.try_wait() {
                panic!("hec-receiver exited early: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "hec-receiver did not listen on {port} in time"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        r
    }

    fn lines(&self) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(&self.out).unwrap_or_default();
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Waits (bounded) until `n` events were written, then a moment longer to catch extras.
    fn wait_for(
        &self,
        n: usize,
        count: impl Fn(&[serde_json::Value]) -> usize,
    ) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while count(&self.lines()) < n && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        std::thread::sleep(Duration::from_millis(1500));
        self.lines()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

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

fn check_exact(extra: &str, cfg: impl Fn(&mut HecConfig), n: usize) -> StatsSnapshot {
    let r = Receiver::start(extra);
    let events = texts(n);
    let mut c = config(r.port, TOKEN);
    cfg(&mut c);
    let (res, stats) = send(c, &events, 64);
    res.unwrap();
    let lines = r.wait_for(n, |l| l.len());
    assert_eq!(
        event_texts(&lines),
        sorted(events),
        "exactly the events sent ({extra})"
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
    stats
}

#[test]
fn tenzir_event_endpoint_plain_gzip_and_small_payloads() {
    if skip() {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let s = check_exact("", |_| {}, 1000);
    assert_eq!(s.sent, 1000);
    check_exact("", |c| c.gzip = true, 1000);
    let s = check_exact("", |c| c.max_payload = 300, 500);
    assert!(
        s.requests >= 250,
        "small payload limit forces many requests: {}",
        s.requests
    );
}

#[test]
fn tenzir_raw_endpoint() {
    if skip() {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let r = Receiver::start("");
    let events = texts(400);
    let mut c = config(r.port, TOKEN);
    c.endpoint = Endpoint::Raw;
    c.max_payload = 2000;
    let (res, _) = send(c, &events, 50);
    res.unwrap();
    // Tenzir keeps each /raw body as one event, base64 in "raw".
    let raw_lines = |lines: &[serde_json::Value]| -> Vec<String> {
        lines
            .iter()
            .flat_map(|l| {
                let body = base64_decode(l["raw"].as_str().unwrap_or_default());
                String::from_utf8(body)
                    .unwrap()
                    .lines()
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let lines = r.wait_for(400, |l| raw_lines(l).len());
    let mut got = raw_lines(&lines);
    got.sort();
    assert_eq!(got, sorted(events));
    assert_eq!(lines[0]["host"], "web-01");
    assert_eq!(lines[0]["sourcetype"], "tenzir:test");
}

#[test]
fn tenzir_overloaded_still_delivers_everything() {
    if skip() {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let s = check_exact(", max_connections=1", |c| c.max_payload = 2000, 2000);
    eprintln!("max_connections=1: {s}");
    // Two requests per 3 s get through, so use large payloads to keep the test short.
    let s = check_exact(
        ", ack=true, max_pending_acks=2, ack_timeout=3s",
        |c| c.max_payload = 40_000,
        2000,
    );
    eprintln!("max_pending_acks=2: {s}");
    assert!(s.retried > 0, "the receiver answered 503 and we retried");
}

#[test]
fn tenzir_wrong_token_ends_with_a_clear_error() {
    if skip() {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let r = Receiver::start("");
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

fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    };
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for v in s.bytes().filter_map(val) {
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}
