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
