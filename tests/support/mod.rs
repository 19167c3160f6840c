//! Helpers shared by the integration tests: temporary app folders and running the real
//! binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

mod runner;
mod splunk;
pub use runner::*;
pub use splunk::*;

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

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

/// The virtual clock most tests run on: two seconds before the leap day of 2024.
pub const NOW: &str = "2024-02-28T23:59:58Z";
/// `NOW` as epoch seconds.
pub const NOW_EPOCH: i64 = 1_709_164_798;

/// A temporary Splunk app folder: `default/eventgen.conf`, optional `local/eventgen.conf`
/// and `samples/`. Runs the binary with the app folder as CONF, in the folder, with `TZ=UTC`.
pub struct App {
    pub dir: TempDir,
}

impl App {
    pub fn new(tag: &str, conf: &str) -> App {
        let dir = TempDir::new(tag);
        dir.write("default/eventgen.conf", conf);
        App { dir }
    }

    pub fn sample(&self, name: &str, text: &str) -> &App {
        self.dir.write(&format!("samples/{name}"), text);
        self
    }

    pub fn local(&self, conf: &str) -> &App {
        self.dir.write("local/eventgen.conf", conf);
        self
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `eventgen <args>` in the app folder; kills it and panics after `APP_DEADLINE`.
    pub fn raw(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(bin());
        cmd.args(args).current_dir(self.dir.path()).env("TZ", "UTC");
        output_within(cmd, APP_DEADLINE)
    }

    /// `eventgen generate . --now NOW --seed 1 <extra>`.
    pub fn run(&self, extra: &[&str]) -> Output {
        let mut args = vec!["generate", ".", "--now", NOW, "--seed", "1"];
        args.extend_from_slice(extra);
        self.raw(&args)
    }

    /// Like `run`, asserting exit code 0 and an empty stderr; returns stdout.
    #[track_caller]
    pub fn out(&self, extra: &[&str]) -> String {
        let o = self.run(extra);
        assert_code(&o, 0);
        assert!(o.stderr.is_empty(), "unexpected stderr:\n{}", stderr(&o));
        stdout(&o)
    }

    /// `out` with `--output modinput`, parsed.
    #[track_caller]
    pub fn xml(&self, extra: &[&str]) -> Vec<XmlEvent> {
        let mut args = vec!["--output", "modinput"];
        args.extend_from_slice(extra);
        parse_modinput(&self.out(&args))
    }

    pub fn check(&self) -> Output {
        self.raw(&["check", "."])
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
    /// `<time>` as microseconds since the epoch.
    pub fn micros(&self) -> i64 {
        let (s, ms) = self.time.split_once('.').unwrap_or((&self.time, "0"));
        assert_eq!(ms.len(), 3, "time {} has millisecond precision", self.time);
        s.parse::<i64>().unwrap() * 1_000_000 + ms.parse::<i64>().unwrap() * 1000
    }
}

/// Parses a modular input `<stream>` with quick-xml, resolving entity and character
/// references; panics on anything malformed or unexpected.
pub fn parse_modinput(doc: &str) -> Vec<XmlEvent> {
    use quick_xml::events::Event;
    use quick_xml::reader::Reader;
    let mut reader = Reader::from_str(doc);
    reader.config_mut().check_end_names = true;
    let mut events = Vec::new();
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut ev = XmlEvent::default();
    loop {
        match reader
            .read_event()
            .unwrap_or_else(|e| panic!("malformed XML: {e}\n{doc}"))
        {
            Event::Start(e) => {
                let name = e.name().as_ref().to_string();
                match (path.len(), name.as_str()) {
                    (0, "stream") | (1, "event") | (2, _) => {}
                    _ => panic!("unexpected <{name}> under {path:?}"),
                }
                if name == "event" {
                    ev = XmlEvent::default();
                }
                path.push(name);
                text.clear();
            }
            Event::End(e) => {
                let name = e.name().as_ref().to_string();
                assert_eq!(path.pop().as_deref(), Some(name.as_str()));
                match (path.len(), name.as_str()) {
                    (2, "time") => ev.time = std::mem::take(&mut text),
                    (2, "host") => ev.host = std::mem::take(&mut text),
                    (2, "source") => ev.source = std::mem::take(&mut text),
                    (2, "sourcetype") => ev.sourcetype = std::mem::take(&mut text),
                    (2, "index") => ev.index = std::mem::take(&mut text),
                    (2, "data") => ev.data = std::mem::take(&mut text),
                    (2, other) => panic!("unexpected element <{other}>"),
                    (1, "event") => events.push(std::mem::take(&mut ev)),
                    _ => {}
                }
            }
            Event::Text(t) if path.len() == 3 => text.push_str(&t.xml10_content()),
            Event::Text(t) => assert!(
                t.xml10_content().trim().is_empty(),
                "text outside an element: {:?}",
                t.xml10_content()
            ),
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref().expect("valid char ref") {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(&r.xml10_content())
                        .expect("predefined entity")
                        .to_string(),
                };
                text.push_str(&resolved);
            }
            Event::Eof => break,
            other => panic!("unexpected markup {other:?}"),
        }
    }
    assert!(path.is_empty(), "unclosed elements {path:?}");
    events
}

/// A token stanza fragment: `token.N.token/replacementType/replacement`.
pub fn token(n: usize, regex: &str, rtype: &str, replacement: &str) -> String {
    format!(
        "token.{n}.token = {regex}\ntoken.{n}.replacementType = {rtype}\ntoken.{n}.replacement = {replacement}\n"
    )
}

/// How long one run of the binary may take in these tests (they run on a virtual clock, so
/// anything longer is a hang).
pub const APP_DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);

/// Runs `cmd` to completion, collecting both streams; kills it and panics if it is still
/// running after `deadline`.
pub fn output_within(mut cmd: Command, deadline: std::time::Duration) -> Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run eventgen");
    wait_output(child, deadline)
}

/// Waits for `child` (stdout and stderr piped) while collecting both streams; kills it and
/// panics, showing its stderr, if it is still running after `limit`.
pub fn wait_output(mut child: std::process::Child, limit: std::time::Duration) -> Output {
    use std::io::Read;
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait for eventgen") {
            break st;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let err = String::from_utf8_lossy(&t_err.join().unwrap()).into_owned();
            panic!("eventgen still running after {limit:?}; killed. stderr:\n{err}");
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    Output {
        status,
        stdout: t_out.join().unwrap(),
        stderr: t_err.join().unwrap(),
    }
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

/// Runs the binary with `args`, a cleared environment plus `env`, and `input` on stdin.
pub fn run_with_stdin(args: &[&str], env: &[(&str, &Path)], input: &str) -> Output {
    use std::io::Write;
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .env_clear()
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn eventgen");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).unwrap();
    drop(stdin);
    child.wait_with_output().unwrap()
}

/// What `package.sh` built, once per test run: the `.spl` and the app unpacked from it.
pub struct Package {
    pub spl: PathBuf,
    /// The unpacked `SA-Eventgen` folder.
    pub app: PathBuf,
}

/// Runs `package.sh` (a static release build, which takes minutes the first time) the first
/// time any test asks, and hands every later caller the same result. A failed build fails
/// every test that needs it, with package.sh's own output, without building again.
pub fn package() -> &'static Package {
    static PACKAGE: std::sync::OnceLock<Result<Package, String>> = std::sync::OnceLock::new();
    match PACKAGE.get_or_init(build_package) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

fn build_package() -> Result<Package, String> {
    let root =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("package-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let dist = root.join("dist");
    let unpacked = root.join("unpacked");
    std::fs::create_dir_all(&unpacked).map_err(|e| format!("{}: {e}", unpacked.display()))?;
    let out = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("package.sh"))
        .env("DIST_DIR", &dist)
        .env_remove("EVENTGEN_BIN")
        .env_remove("EVENTGEN_SKIP_SPEC")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run package.sh: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "package.sh failed ({})\n--- stdout ---\n{}\n--- stderr ---\n{}",
            out.status,
            stdout(&out),
            stderr(&out)
        ));
    }
    let version = env!("CARGO_PKG_VERSION");
    let spl = dist.join(format!("SA-Eventgen-{version}.spl"));
    let tar = Command::new("tar")
        .arg("-xzf")
        .arg(&spl)
        .arg("-C")
        .arg(&unpacked)
        .output()
        .map_err(|e| format!("cannot run tar: {e}"))?;
    if !tar.status.success() {
        return Err(format!(
            "tar -xzf {} failed: {}",
            spl.display(),
            stderr(&tar)
        ));
    }
    Ok(Package {
        spl,
        app: unpacked.join("SA-Eventgen"),
    })
}

/// One XML element: name, attributes, its own text (entities resolved, not trimmed) and
/// child elements.
#[derive(Debug, Clone, Default)]
pub struct XmlNode {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<XmlNode>,
}

impl XmlNode {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn child(&self, name: &str) -> Option<&XmlNode> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The text of the only child called `name`; panics if there is none or more than one.
    #[track_caller]
    pub fn only(&self, name: &str) -> &str {
        let mut found = self.children.iter().filter(|c| c.name == name);
        let first = found
            .next()
            .unwrap_or_else(|| panic!("<{}> has no <{name}>: {self:?}", self.name));
        assert!(found.next().is_none(), "<{}> has two <{name}>", self.name);
        &first.text
    }
}

/// Parses a whole document with quick-xml, strictly: end names must match, only predefined
/// and numeric entities, one root element, nothing but white space and an XML declaration
/// outside it, no DOCTYPE, and none of the characters XML 1.0 forbids (quick-xml itself does
/// not check those).
pub fn parse_xml(text: &str) -> Result<XmlNode, String> {
    use quick_xml::Reader;
    use quick_xml::events::Event;
    if let Some((i, c)) = text.char_indices().find(|&(_, c)| {
        matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
    }) {
        return Err(format!("character {c:?} at byte {i} is not allowed in XML 1.0"));
    }
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    reader.config_mut().trim_text(false);
    let mut stack: Vec<XmlNode> = Vec::new();
    let mut root: Option<XmlNode> = None;
    let node = |s: &quick_xml::events::BytesStart| -> Result<XmlNode, String> {
        let mut n = XmlNode {
            name: s.name().as_ref().to_string(),
            ..XmlNode::default()
        };
        for a in s.attributes() {
            let a = a.map_err(|e| format!("bad attribute: {e}"))?;
            let v = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|e| format!("bad attribute value: {e}"))?;
            n.attrs.push((a.key.as_ref().to_string(), v.into_owned()));
        }
        Ok(n)
    };
    loop {
        let pos = reader.buffer_position();
        let ev = reader
            .read_event()
            .map_err(|e| format!("malformed XML at byte {pos}: {e}"))?;
        let finish = |n: XmlNode, stack: &mut Vec<XmlNode>, root: &mut Option<XmlNode>| match stack
            .last_mut()
        {
            Some(parent) => parent.children.push(n),
            None => *root = Some(n),
        };
        match ev {
            Event::Start(_) | Event::Empty(_) if root.is_some() => {
                return Err(format!("a second root element at byte {pos}"));
            }
            Event::Start(s) => stack.push(node(&s)?),
            Event::Empty(s) => {
                let n = node(&s)?;
                finish(n, &mut stack, &mut root);
            }
            Event::End(_) => {
                let n = stack.pop().ok_or(format!("stray end tag at byte {pos}"))?;
                finish(n, &mut stack, &mut root);
            }
            Event::Text(t) => {
                let s = t.xml10_content();
                match stack.last_mut() {
                    Some(n) => n.text.push_str(&s),
                    None if s.trim().is_empty() => {}
                    None => return Err(format!("text outside the root at byte {pos}: {s:?}")),
                }
            }
            Event::CData(c) => match stack.last_mut() {
                Some(n) => n.text.push_str(&c.xml10_content()),
                None => return Err(format!("CDATA outside the root at byte {pos}")),
            },
            Event::GeneralRef(r) => {
                let name = r.xml10_content();
                let resolved = if r.is_char_ref() {
                    r.resolve_char_ref().ok().flatten().map(String::from)
                } else {
                    quick_xml::escape::resolve_predefined_entity(&name).map(str::to_string)
                }
                .ok_or(format!("unknown entity &{name}; at byte {pos}"))?;
                match stack.last_mut() {
                    Some(n) => n.text.push_str(&resolved),
                    None => return Err(format!("entity outside the root at byte {pos}")),
                }
            }
            Event::DocType(_) => return Err("DOCTYPE not expected".into()),
            Event::Decl(_) if pos == 0 => {}
            Event::Decl(_) | Event::PI(_) => {
                return Err(format!("unexpected declaration at byte {pos}"));
            }
            Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if let Some(open) = stack.last() {
        return Err(format!("<{}> is never closed", open.name));
    }
    root.ok_or_else(|| "no root element".to_string())
}

/// `eventgen check . --strict` in the app exits 2 and reports `needle` as an error.
#[track_caller]
pub fn strict_fails_with(app: &App, needle: &str) {
    let o = app.raw(&["check", ".", "--strict"]);
    assert_code(&o, 2);
    assert!(
        stderr(&o)
            .lines()
            .any(|l| l.starts_with("ERROR ") && l.contains(needle)),
        "{}",
        stderr(&o)
    );
}
