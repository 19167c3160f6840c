//! One runner for the binary in tests that watch it while it runs: stdout drained by a thread
//! (each read announced, kept as the test decides), stderr readable while it runs, a real
//! SIGTERM, and an exit awaited within a bound.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Upper bound on the time from SIGTERM (or a closed stdout) to the exit. The target is 1 s;
/// the slack is for a loaded two-core CI machine.
pub const STOP_BOUND: Duration = Duration::from_secs(3);

/// Sends SIGTERM to `child` (through kill(1)).
pub fn sigterm(child: &Child) {
    let ok = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .expect("run kill");
    assert!(ok.success());
}

/// A running binary whose stdout is drained by a thread; the first bytes are announced.
pub struct Running {
    pub child: Child,
    first_bytes: mpsc::Receiver<()>,
    out: std::thread::JoinHandle<Vec<u8>>,
    err: std::thread::JoinHandle<Vec<u8>>,
    err_seen: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

/// Drains `r` into a shared buffer (readable while the process runs) and returns it at EOF.
pub fn drain_shared(
    mut r: impl Read + Send + 'static,
) -> (
    std::thread::JoinHandle<Vec<u8>>,
    std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
) {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let buf = seen.clone();
    let h = std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while let Ok(n) = r.read(&mut chunk) {
            if n == 0 {
                break;
            }
            buf.lock().unwrap().extend_from_slice(&chunk[..n]);
        }
        buf.lock().map(|b| b.clone()).unwrap_or_default()
    });
    (h, seen)
}

pub fn spawn(mut cmd: Command) -> Running {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run eventgen");
    // Keep the head and the tail only: a fast run writes gigabytes.
    watch(child, |all, chunk| {
        if all.len() >= 1 << 20 {
            let keep = all.len() - 4096;
            all.drain(..keep);
        }
        all.extend_from_slice(chunk);
    })
}

/// Reads the child's stdout on a thread (each read signalled on `first_bytes`, kept as `keep`
/// decides) and its stderr into a shared buffer.
pub fn watch(mut child: Child, keep: fn(&mut Vec<u8>, &[u8])) -> Running {
    let (tx, first_bytes) = mpsc::channel();
    let mut stdout = child.stdout.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut chunk = vec![0u8; 1 << 16];
        while let Ok(n) = stdout.read(&mut chunk) {
            if n == 0 {
                break;
            }
            keep(&mut all, &chunk[..n]);
            let _ = tx.send(());
        }
        all
    });
    let (err, err_seen) = drain_shared(child.stderr.take().unwrap());
    Running {
        child,
        first_bytes,
        out,
        err,
        err_seen,
    }
}

/// What a stopped run left behind.
pub struct Stopped {
    pub took: Duration,
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Running {
    /// Waits (at most 20 s) until stderr contains `needle`.
    pub fn wait_stderr(&self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !String::from_utf8_lossy(&self.err_seen.lock().unwrap()).contains(needle) {
            assert!(
                Instant::now() < deadline,
                "no {needle:?} on stderr within 20 s"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn wait_first_bytes(&self) {
        self.first_bytes
            .recv_timeout(Duration::from_secs(20))
            .expect("no output within 20 s");
    }

    /// Sends SIGTERM (through kill(1)) and waits for the exit, at most `STOP_BOUND` * 3.
    pub fn terminate(self) -> Stopped {
        let sent = Instant::now();
        sigterm(&self.child);
        self.wait_exit(sent)
    }

    pub fn wait_exit(mut self, since: Instant) -> Stopped {
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if since.elapsed() > STOP_BOUND * 3 {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("still running {:?} after the stop", since.elapsed());
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let took = since.elapsed();
        Stopped {
            took,
            code: status.code(),
            stdout: self.out.join().unwrap(),
            stderr: String::from_utf8_lossy(&self.err.join().unwrap()).into_owned(),
        }
    }
}
