//! Helpers shared by the integration tests: temporary app folders and running the real
//! binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_eventgen"))
}

/// A temporary folder removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "eventgen-test-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `rel` (creating folders) and returns its path.
    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the binary with `args` in `cwd` and returns its output.
pub fn run_in(cwd: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .expect("run eventgen")
}

pub fn run(args: &[&str]) -> Output {
    run_in(&std::env::temp_dir(), args)
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts the exit code, printing both streams on a mismatch.
#[track_caller]
pub fn assert_code(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "exit code\n--- stdout ---\n{}\n--- stderr ---\n{}",
        stdout(o),
        stderr(o)
    );
}

/// Compares `actual` with the golden file `tests/golden/<name>`; `EVENTGEN_BLESS=1` rewrites it.
#[track_caller]
pub fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("golden")
        .join(name);
    if std::env::var_os("EVENTGEN_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "golden file {} missing; run with EVENTGEN_BLESS=1",
            path.display()
        )
    });
    if expected != actual {
        let diff_at = expected
            .bytes()
            .zip(actual.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.len().min(actual.len()));
        panic!(
            "output differs from {} at byte {diff_at}\n--- expected ---\n{}\n--- actual ---\n{}",
            path.display(),
            &expected[diff_at.saturating_sub(200)..(diff_at + 200).min(expected.len())],
            &actual[diff_at.saturating_sub(200)..(diff_at + 200).min(actual.len())]
        );
    }
}

/// `eventgen generate CONF --now NOW --seed 1 [extra...]` run in `dir`.
pub fn generate_at(dir: &TempDir, conf: &str, now: &str, extra: &[&str]) -> Output {
    let mut args = vec!["generate", conf, "--now", now, "--seed", "1"];
    args.extend_from_slice(extra);
    run_in(dir.path(), &args)
}

/// One event of the modular-input XML stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct XmlEvent {
    /// The `<time>` text as written (epoch seconds with 3 decimals).
    pub time: String,
    pub index: String,
    pub source: String,
    pub sourcetype: String,
    pub host: String,
    pub data: String,
}

impl XmlEvent {
    /// `<time>` in milliseconds since the epoch, read exactly from its text.
    pub fn time_ms(&self) -> i64 {
        let (secs, frac) = self.time.split_once('.').unwrap_or((&self.time, ""));
        let frac = format!("{frac:0<3}");
        assert_eq!(
            frac.len(),
            3,
            "time {:?} has more than 3 decimals",
            self.time
        );
        secs.parse::<i64>().unwrap() * 1000 + frac.parse::<i64>().unwrap()
    }
}

/// Parses `<stream><event>...</event>...</stream>` with quick-xml.
pub fn modinput_events(xml: &str) -> Vec<XmlEvent> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut out = Vec::new();
    let mut cur: Option<XmlEvent> = None;
    let mut field: Option<String> = None;
    loop {
        match reader
            .read_event()
            .unwrap_or_else(|e| panic!("bad XML: {e}\n{xml}"))
        {
            Event::Start(e) => {
                let name = e.name().as_ref().to_string();
                if name == "event" {
                    cur = Some(XmlEvent::default());
                } else if cur.is_some() {
                    field = Some(name);
                }
            }
            Event::Text(t) => {
                if let (Some(ev), Some(f)) = (cur.as_mut(), field.as_deref()) {
                    let text = t.xml10_content().into_owned();
                    push_field(ev, f, &text);
                }
            }
            Event::GeneralRef(r) => {
                if let (Some(ev), Some(f)) = (cur.as_mut(), field.as_deref()) {
                    if let Some(c) = r.resolve_char_ref().unwrap() {
                        push_field(ev, f, &c.to_string());
                        continue;
                    }
                    let name = r.xml10_content().into_owned();
                    let text = match name.as_str() {
                        "lt" => "<".to_string(),
                        "gt" => ">".to_string(),
                        "amp" => "&".to_string(),
                        "quot" => "\"".to_string(),
                        "apos" => "'".to_string(),
                        other => panic!("unexpected entity &{other};"),
                    };
                    push_field(ev, f, &text);
                }
            }
            Event::CData(t) => {
                if let (Some(ev), Some(f)) = (cur.as_mut(), field.as_deref()) {
                    push_field(ev, f, &t.xml10_content());
                }
            }
            Event::End(e) => {
                if e.name().as_ref() == "event" {
                    out.push(cur.take().unwrap());
                }
                field = None;
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

fn push_field(ev: &mut XmlEvent, field: &str, text: &str) {
    let slot = match field {
        "time" => &mut ev.time,
        "index" => &mut ev.index,
        "source" => &mut ev.source,
        "sourcetype" => &mut ev.sourcetype,
        "host" => &mut ev.host,
        "data" => &mut ev.data,
        _ => return,
    };
    slot.push_str(text);
}

/// Milliseconds since the epoch of an RFC 3339 time, for building expectations.
pub fn epoch_ms(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .timestamp_millis()
}
