//! Messages to people, all of them: one line per message on stderr, level word first
//! (`DEBUG`, `INFO`, `WARN`, `ERROR`), which splunkd turns into the level of its splunkd.log
//! line, and optionally the same messages with a timestamp and process id in a rotating file,
//! normally `$SPLUNK_HOME/var/log/splunk/eventgen.log` (indexed into `_internal`, sourcetype
//! `eventgen:log` from the app's props.conf).
//!
//! Every message passes [`redact`] once, here, before it is written anywhere: registered
//! secrets (the session key, HEC tokens, passwords of the plan) become `********`, and so do
//! credentials recognised by their shape (`Authorization: Splunk …`, `password=…`,
//! `"token": "…"`), which catches a server's reply that echoes a request. Newlines inside a
//! message become spaces, because splunkd makes each stderr line its own event.
//!
//! The process has one logger, [`global`], used through [`error`], [`warn`], [`info`] and
//! [`debug`] from anywhere (outputs, workers, the CLI, the modular input): a message cannot
//! bypass redaction or the Splunk log file. It is a process-wide value on purpose: what it
//! holds (stderr, the log file, the secrets) is process-wide too. [`Logger`] values of their
//! own exist for tests. Writes are serialised by a mutex and never fail the caller.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{LazyLock, Mutex, OnceLock, PoisonError};

use regex::{Captures, Regex};

/// Rotate the log file before it would grow past this size.
pub const ROTATE_BYTES: u64 = 5 * 1024 * 1024;

/// Rotated files kept beside the live one (`eventgen.log.1` … `eventgen.log.5`).
pub const KEEP_FILES: u32 = 5;

/// Shown instead of a secret.
const REDACTED: &str = "********";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    fn from_u8(n: u8) -> Level {
        match n {
            0 => Level::Debug,
            1 => Level::Info,
            2 => Level::Warn,
            _ => Level::Error,
        }
    }

    /// The word splunkd recognises at the start of a stderr line.
    pub fn word(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        }
    }

    /// Maps an Eventgen verbosity (Python logging level: 10, 20, 30, 40, 50) to the lowest
    /// level that is logged. CRITICAL (50) and above log errors only.
    pub fn from_verbosity(verbosity: u32) -> Level {
        match verbosity {
            0..=10 => Level::Debug,
            11..=20 => Level::Info,
            21..=30 => Level::Warn,
            _ => Level::Error,
        }
    }
}

/// The path of the app's log file under a Splunk installation.
pub fn splunk_log_path(splunk_home: &Path) -> PathBuf {
    splunk_home
        .join("var")
        .join("log")
        .join("splunk")
        .join("eventgen.log")
}

pub struct Logger {
    min: AtomicU8,
    inner: Mutex<Inner>,
}

struct Inner {
    stderr: Box<dyn Write + Send>,
    file: Option<RotatingFile>,
    /// Longest first, so a secret that contains another is replaced whole.
    secrets: Vec<String>,
}

impl Logger {
    /// A logger writing to the process's stderr, dropping messages below `min`.
    pub fn new(min: Level) -> Logger {
        Logger::with_writer(min, Box::new(io::stderr()))
    }

    /// A logger writing its stderr lines to `stderr` instead (for tests and embedding).
    pub fn with_writer(min: Level, stderr: Box<dyn Write + Send>) -> Logger {
        let inner = Inner {
            stderr,
            file: None,
            secrets: Vec::new(),
        };
        Logger {
            min: AtomicU8::new(min as u8),
            inner: Mutex::new(inner),
        }
    }

    /// Changes the lowest level written.
    pub fn set_min(&self, min: Level) {
        self.min.store(min as u8, Ordering::Relaxed);
    }

    /// Also writes timestamped lines to `path`, rotating at [`ROTATE_BYTES`] and keeping
    /// [`KEEP_FILES`] old files. Creates the parent folder if needed. On failure the logger
    /// keeps writing to stderr only, so the caller can report the error through it.
    pub fn attach_file(&self, path: &Path) -> io::Result<()> {
        self.attach_rotating_file(path, ROTATE_BYTES, KEEP_FILES)
    }

    pub fn attach_rotating_file(&self, path: &Path, max_bytes: u64, keep: u32) -> io::Result<()> {
        let file = RotatingFile::open(path, max_bytes, keep)?;
        self.lock().file = Some(file);
        Ok(())
    }

    /// Replaces every later occurrence of `secret` with `********`. Empty strings are ignored.
    pub fn add_secret(&self, secret: &str) {
        if secret.is_empty() {
            return;
        }
        let mut inner = self.lock();
        if !inner.secrets.iter().any(|s| s == secret) {
            inner.secrets.push(secret.to_string());
            inner.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// `text` with every registered secret replaced, for what is printed outside the log
    /// (`check`'s plan lines).
    pub fn scrub(&self, text: &str) -> String {
        redact(text, &self.lock().secrets)
    }

    /// Whether messages at `level` are written; lets callers skip building expensive ones.
    pub fn enabled(&self, level: Level) -> bool {
        level >= Level::from_u8(self.min.load(Ordering::Relaxed))
    }

    pub fn log(&self, level: Level, message: &str) {
        if self.enabled(level) {
            self.write(level, message);
        }
    }

    /// An INFO line the configuration asked for (the `counter` output's histograms,
    /// `outputCounter` throughput), written whatever the minimum level.
    pub fn report(&self, message: &str) {
        self.write(Level::Info, message);
    }

    fn write(&self, level: Level, message: &str) {
        let mut inner = self.lock();
        let text = redact(message, &inner.secrets);
        let line = format!("{} {text}\n", level.word());
        // Nowhere is left to report a failing stderr; the file still gets the line.
        let _ = inner
            .stderr
            .write_all(line.as_bytes())
            .and_then(|()| inner.stderr.flush());
        if let Some(file) = inner.file.as_mut() {
            let stamped = format!(
                "{} {} [{}] {text}\n",
                chrono::Local::now().format("%Y-%m-%d %H:%M:%S%.3f %z"),
                level.word(),
                std::process::id()
            );
            if let Err(e) = file.write_line(stamped.as_bytes()) {
                let path = file.path.display().to_string();
                inner.file = None;
                let warn =
                    format!("WARN cannot write the log file {path}, logging to stderr only: {e}\n");
                let _ = inner.stderr.write_all(warn.as_bytes());
            }
        }
    }

    pub fn debug(&self, message: &str) {
        self.log(Level::Debug, message);
    }

    pub fn info(&self, message: &str) {
        self.log(Level::Info, message);
    }

    pub fn warn(&self, message: &str) {
        self.log(Level::Warn, message);
    }

    pub fn error(&self, message: &str) {
        self.log(Level::Error, message);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while logging leaves the state usable: at worst a half-written line.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The process's logger: stderr, `INFO` and above until told otherwise.
pub fn global() -> &'static Logger {
    static GLOBAL: OnceLock<Logger> = OnceLock::new();
    GLOBAL.get_or_init(|| Logger::new(Level::Info))
}

pub fn error(message: &str) {
    global().error(message);
}

pub fn warn(message: &str) {
    global().warn(message);
}

pub fn info(message: &str) {
    global().info(message);
}

pub fn debug(message: &str) {
    global().debug(message);
}

/// Credentials recognised by their shape, whoever wrote them: an HTTP authorisation header or
/// scheme before a token-like word, and `key=value` / `"key": "value"` pairs whose key names a
/// secret (`key: value` unquoted is left alone: config messages say `token.0.token: …`). Group `keep` is kept, group `secret` replaced.
static SHAPED_SECRETS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?xi)
        (?P<keep>
            \b(?:authorization|proxy-authorization)\b\\?"?\s*[:=]\s*\\?"?\s*
            (?:(?:splunk|bearer|basic|digest|token)\s+)?
          | (?P<scheme>\b(?:splunk|bearer|basic)\s+)
          | \b(?:password|passwd|pwd|secret|session_?key|sessionkey|x-splunk-token
               |access_?token|api_?key|hec_?token|token|auth_?token)
            (?:\\?"\s*:\s*\\?"?|\s*=\s*\\?"?)
        )
        (?P<secret>[^\s"'\\&,;}<>]+)
        "#,
    )
    .expect("valid redaction pattern")
});

/// The message as it may be written: one line, registered `secrets` and shaped credentials
/// replaced with `********`.
pub fn redact(message: &str, secrets: &[String]) -> String {
    let mut text = message.replace(['\r', '\n'], " ");
    for secret in secrets {
        if text.contains(secret.as_str()) {
            text = text.replace(secret.as_str(), REDACTED);
        }
    }
    if SHAPED_SECRETS.is_match(&text) {
        text = SHAPED_SECRETS
            .replace_all(&text, |c: &Captures<'_>| {
                let secret = &c["secret"];
                // A bare scheme word ("Splunk") only counts before something token-like.
                let weak = c.name("scheme").is_some()
                    && (secret.len() < 12 || !secret.bytes().any(|b| b.is_ascii_digit()));
                if weak || secret == REDACTED || secret.len() < 4 {
                    c[0].to_string()
                } else {
                    format!("{}{REDACTED}", &c["keep"])
                }
            })
            .into_owned();
    }
    text
}

/// An append-only file that is renamed to `.1` (shifting older ones up to `.keep`) before a
/// line would take it past `max_bytes`. Other processes writing the same file are not
/// coordinated with; each process tracks the size from its own writes.
struct RotatingFile {
    path: PathBuf,
    max_bytes: u64,
    keep: u32,
    file: File,
    size: u64,
}

impl RotatingFile {
    fn open(path: &Path, max_bytes: u64, keep: u32) -> io::Result<RotatingFile> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let size = file.metadata()?.len();
        Ok(RotatingFile {
            path: path.to_path_buf(),
            max_bytes,
            keep,
            file,
            size,
        })
    }

    fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
        if self.size > 0 && self.size + line.len() as u64 > self.max_bytes {
            self.rotate()?;
        }
        self.file.write_all(line)?;
        self.size += line.len() as u64;
        Ok(())
    }

    fn rotate(&mut self) -> io::Result<()> {
        let numbered = |n: u32| {
            let mut name = self.path.clone().into_os_string();
            name.push(format!(".{n}"));
            PathBuf::from(name)
        };
        if self.keep == 0 {
            self.file = File::create(&self.path)?;
        } else {
            ignore_missing(fs::remove_file(numbered(self.keep)))?;
            for n in (1..self.keep).rev() {
                ignore_missing(fs::rename(numbered(n), numbered(n + 1)))?;
            }
            fs::rename(&self.path, numbered(1))?;
            self.file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)?;
        }
        self.size = 0;
        Ok(())
    }
}

fn ignore_missing(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A stderr stand-in the test can read back.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("eventgen-log-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn stderr_lines_start_with_the_level_and_respect_the_minimum() {
        let out = Captured::default();
        let log = Logger::with_writer(Level::Info, Box::new(out.clone()));
        log.debug("hidden");
        log.info("starting");
        log.warn("two\nlines\r\n");
        log.error("failed");
        assert_eq!(
            out.text(),
            "INFO starting\nWARN two lines  \nERROR failed\n"
        );
        assert!(!log.enabled(Level::Debug));
    }

    #[test]
    fn secrets_are_redacted_everywhere() {
        let dir = temp_dir("redact");
        let path = dir.join("eventgen.log");
        let out = Captured::default();
        let log = Logger::with_writer(Level::Debug, Box::new(out.clone()));
        log.attach_file(&path).unwrap();
        log.add_secret("abc123");
        log.add_secret("abc123-longer");
        log.add_secret("");
        log.info("key=abc123 token=abc123-longer again abc123");
        let expected = "key=******** token=******** again ********";
        assert_eq!(out.text(), format!("INFO {expected}\n"));
        let file = fs::read_to_string(&path).unwrap();
        assert!(
            file.ends_with(&format!(" INFO [{}] {expected}\n", std::process::id())),
            "{file}"
        );
        assert!(!file.contains("abc123"));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn credentials_are_recognised_by_their_shape() {
        let cases = [
            (
                "HEC 127.0.0.1:8088: 400 {\"text\":\"bad\",\"echo\":\"Authorization: Splunk 00000000-1111-2222-3333-444444444444\"}",
                "Authorization: Splunk ********\"}",
            ),
            (
                "reply: authorization=Bearer abcdefghijklmnop",
                "authorization=Bearer ********",
            ),
            ("GET /?sessionKey=abcdef123&x=1", "sessionKey=********&x=1"),
            (
                "{\"password\": \"hunter22\"}",
                "\"password\": \"********\"}",
            ),
            ("echo Splunk 0123456789abcdef0123", "echo Splunk ********"),
            ("token=s3cr3t-value", "token=********"),
        ];
        for (message, expected) in cases {
            let out = redact(message, &[]);
            assert!(out.ends_with(expected), "{message:?} -> {out:?}");
            assert!(
                !out.contains("hunter22") && !out.contains("abcdef123"),
                "{out}"
            );
        }
        // Ordinary messages are left alone.
        for message in [
            "default/eventgen.conf:4: [s] token.0.replacement: expected integer[lo:hi]",
            "default/eventgen.conf:10: [bad.log] token.0.token: regex does not compile",
            "HEC 127.0.0.1:8088: sent 5 events in 1 requests",
            "Splunk is fine",
        ] {
            assert_eq!(redact(message, &[]), message);
        }
    }

    #[test]
    fn file_lines_carry_a_timestamp() {
        let dir = temp_dir("stamp");
        let path = dir.join("sub/eventgen.log");
        let log = Logger::with_writer(Level::Debug, Box::new(io::sink()));
        log.attach_file(&path).unwrap();
        log.warn("hello");
        let line = fs::read_to_string(&path).unwrap();
        // "2026-11-26 05:08:20.123 +0000 WARN [pid] hello"
        let bytes = line.as_bytes();
        assert_eq!(
            (bytes[4], bytes[7], bytes[10], bytes[13], bytes[19]),
            (b'-', b'-', b' ', b':', b'.')
        );
        assert_eq!(&line[23..24], " ");
        assert!(line[24..29].starts_with(['+', '-']), "{line}");
        assert!(line[29..].starts_with(" WARN ["), "{line}");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_file_rotates_and_keeps_a_bounded_number() {
        let dir = temp_dir("rotate");
        let path = dir.join("eventgen.log");
        let log = Logger::with_writer(Level::Debug, Box::new(io::sink()));
        log.attach_rotating_file(&path, 200, 3).unwrap();
        for i in 0..40 {
            log.info(&format!("message number {i:02} with some padding"));
        }
        let live = fs::read_to_string(&path).unwrap();
        assert!(live.contains("message number 39"));
        assert!(live.len() <= 200, "{}", live.len());
        for n in 1..=3 {
            let old = fs::read_to_string(dir.join(format!("eventgen.log.{n}"))).unwrap();
            assert!(!old.is_empty() && old.len() <= 200);
        }
        assert!(!dir.join("eventgen.log.4").exists());
        // Nothing is lost between the live file and the newest backup.
        let newest_old = fs::read_to_string(dir.join("eventgen.log.1")).unwrap();
        let first_live: u32 = live[live.find("number ").unwrap() + 7..][..2]
            .parse()
            .unwrap();
        assert!(newest_old.contains(&format!("number {:02}", first_live - 1)));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_file_that_cannot_be_opened_leaves_stderr_working() {
        let out = Captured::default();
        let log = Logger::with_writer(Level::Info, Box::new(out.clone()));
        assert!(
            log.attach_file(Path::new("/proc/eventgen-nope/x.log"))
                .is_err()
        );
        log.info("still here");
        assert_eq!(out.text(), "INFO still here\n");
    }

    #[test]
    fn verbosity_maps_to_levels() {
        assert_eq!(Level::from_verbosity(10), Level::Debug);
        assert_eq!(Level::from_verbosity(20), Level::Info);
        assert_eq!(Level::from_verbosity(30), Level::Warn);
        assert_eq!(Level::from_verbosity(40), Level::Error);
        assert_eq!(Level::from_verbosity(50), Level::Error);
        assert_eq!(
            splunk_log_path(Path::new("/opt/splunk")),
            Path::new("/opt/splunk/var/log/splunk/eventgen.log")
        );
    }
}
