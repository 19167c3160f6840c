//! Tenzir's `accept_splunk`, a real HEC server written independently of this project, for
//! the tests that check our HEC output against someone else's reading of the protocol.
//! `tests/tools/tenzir-hec` installs it from PyPI into a cache folder the first time (a
//! minute or two) and runs it; `EVENTGEN_SKIP_TENZIR=1` skips these tests with a SKIP line.
//! Receivers run one at a time (each is a 120 MB process on a small machine).

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use crate::skip::skipped;

/// How long a receiver may take to listen once installed (it takes 1-2 s).
const LISTEN_DEADLINE: Duration = Duration::from_secs(60);
/// How long `wait_for` polls for the expected events.
const ARRIVAL_DEADLINE: Duration = Duration::from_secs(30);
/// How long `wait_for` keeps watching after the count is reached, so extra events would show.
const GRACE: Duration = Duration::from_millis(1000);

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/tenzir-hec")
}

/// Installs Tenzir once per test process. Panics with the installer's output if that fails:
/// a machine with Python 3 and access to PyPI must be able to run these tests.
fn installed() -> &'static Path {
    static INSTALLED: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let r = INSTALLED.get_or_init(|| {
        let out = Command::new(script())
            .arg("install")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", script().display()))?;
        if out.status.success() {
            Ok(script())
        } else {
            Err(format!(
                "{} install failed ({}):\n{}\nIt needs python3 (with venv) and access to PyPI; \
                 set EVENTGEN_SKIP_TENZIR=1 to skip the tests that use Tenzir.",
                script().display(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    });
    match r {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

/// A running receiver on a free loopback port, writing what it accepts to an NDJSON file.
pub struct Tenzir {
    child: Child,
    pub port: u16,
    out: PathBuf,
    dir: PathBuf,
    _one: MutexGuard<'static, ()>,
}

impl Tenzir {
    /// Starts a receiver accepting `token`; `extra` is appended to the `accept_splunk` call.
    /// `None` (after a SKIP line) when `EVENTGEN_SKIP_TENZIR=1`.
    pub fn start(token: &str, extra: &str) -> Option<Tenzir> {
        if std::env::var("EVENTGEN_SKIP_TENZIR").as_deref() == Ok("1") {
            skipped("Tenzir's HEC receiver", "EVENTGEN_SKIP_TENZIR=1 is set");
            return None;
        }
        let one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        let tool = installed();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir =
            std::env::temp_dir().join(format!("eventgen-tenzir-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("events.ndjson");
        let child = Command::new(tool)
            .args(["run", &port.to_string(), token])
            .arg(&out)
            .arg(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", tool.display()));
        let mut t = Tenzir {
            child,
            port,
            out,
            dir,
            _one: one,
        };
        let deadline = Instant::now() + LISTEN_DEADLINE;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = t.child.try_wait() {
                panic!("{} run exited early: {status}", tool.display());
            }
            assert!(
                Instant::now() < deadline,
                "Tenzir did not listen on {port} within {LISTEN_DEADLINE:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(t)
    }

    /// The events written so far: only complete lines, as Tenzir may be half way through
    /// writing the last one.
    pub fn lines(&self) -> Vec<serde_json::Value> {
        let bytes = std::fs::read(&self.out).unwrap_or_default();
        let complete = match bytes.iter().rposition(|&b| b == b'\n') {
            Some(i) => &bytes[..=i],
            None => &[][..],
        };
        String::from_utf8_lossy(complete)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    /// Polls (bounded) until `count` of the written events reaches `n`, then watches a
    /// moment longer so that extra events would show.
    pub fn wait_for(
        &self,
        n: usize,
        count: impl Fn(&[serde_json::Value]) -> usize,
    ) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + ARRIVAL_DEADLINE;
        while count(&self.lines()) < n && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(GRACE);
        self.lines()
    }
}

impl Drop for Tenzir {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Tenzir keeps each /raw body as one event, base64 in its "raw" field: the lines of all
/// bodies, decoded.
pub fn raw_lines(events: &[serde_json::Value]) -> Vec<String> {
    events
        .iter()
        .flat_map(|e| {
            let body = base64_decode(e["raw"].as_str().unwrap_or_default());
            String::from_utf8(body)
                .unwrap()
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
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
