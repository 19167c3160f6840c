//! The app as splunkd uses it: the packaged binary started the way splunkd starts a modular
//! input (no shell, `SPLUNK_HOME`, a hostile `LD_LIBRARY_PATH`, the `<input>` document on
//! stdin) over a temporary `$SPLUNK_HOME/etc/apps` holding the package and test apps of our
//! own; `--scheme` and `--validate-arguments`; the static binary; the XML stream's escaping;
//! and the committed `README/eventgen.conf.spec` against the key table.
//!
//! `package.sh` runs once per test run (see `support::package`); the tests that only need the
//! protocol use the test build of the binary, which is the same code.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::support::*;

const SESSION_KEY: &str = "sk-9d2f81c4e7a0b35c-SECRET";
const PACKAGED_BIN: &str = "linux_x86_64/bin/modinput_eventgen";

/// splunkd's `<input>` document for `[modinput_eventgen://default]`.
fn input_xml(checkpoint_dir: &Path) -> String {
    format!(
        "<input>\n  <server_host>sh-test</server_host>\n  <server_uri>https://127.0.0.1:8089</server_uri>\n  \
         <session_key>{SESSION_KEY}</session_key>\n  <checkpoint_dir>{}</checkpoint_dir>\n  \
         <configuration>\n    <stanza name=\"modinput_eventgen://default\" app=\"SA-Eventgen\">\n      \
         <param name=\"verbosity\">20</param>\n    </stanza>\n  </configuration>\n</input>\n",
        checkpoint_dir.display()
    )
}

/// A modular input process with threads draining its stdout and stderr.
struct Modinput {
    child: Child,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    readers: Vec<JoinHandle<Vec<u8>>>,
}

/// How a modular input process ended.
struct Finished {
    status: ExitStatus,
    /// From SIGTERM (or from the start, for a run that ends by itself) to the exit.
    took: Duration,
    stdout: String,
    stderr: String,
}

impl Modinput {
    fn start(mut cmd: Command, input: &str) -> Modinput {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the modular input");
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(input.as_bytes()).unwrap();
        // splunkd closes stdin after the document.
        drop(stdin);
        let (out, stdout) = drain_shared(child.stdout.take().unwrap());
        let (err, stderr) = drain_shared(child.stderr.take().unwrap());
        let readers = vec![out, err];
        Modinput {
            child,
            stdout,
            stderr,
            readers,
        }
    }

    fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout.lock().unwrap()).into_owned()
    }

    fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    /// Polls stdout until `done` holds, failing after `limit` with both streams shown.
    fn wait_for(&mut self, what: &str, limit: Duration, done: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + limit;
        loop {
            if done(&self.stdout_text()) {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                // It may have written the last bytes just before exiting.
                std::thread::sleep(Duration::from_millis(100));
                assert!(
                    done(&self.stdout_text()),
                    "exited ({status}) before {what}\n--- stdout ---\n{}\n--- stderr ---\n{}",
                    self.stdout_text(),
                    self.stderr_text()
                );
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no {what} within {limit:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
                self.stdout_text(),
                self.stderr_text()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Waits (at most `limit`) for the process to exit, then collects everything it wrote.
    fn wait_exit(mut self, since: Instant, limit: Duration) -> Finished {
        let deadline = since + limit;
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "still running {limit:?} after it was asked to stop; killed\n--- stdout tail ---\n{}\n--- stderr ---\n{}",
                    tail(&self.stdout_text(), 2000),
                    self.stderr_text()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let took = since.elapsed();
        for r in self.readers.drain(..) {
            r.join().unwrap();
        }
        Finished {
            status,
            took,
            stdout: self.stdout_text(),
            stderr: self.stderr_text(),
        }
    }

    /// Sends SIGTERM the way splunkd stops an input (through kill(1), no libc here) and waits
    /// for the exit, for at most 2 s plus a little slack for a loaded machine.
    fn terminate(self) -> Finished {
        let sent = Instant::now();
        sigterm(&self.child);
        self.wait_exit(sent, Duration::from_secs(5))
    }
}

impl Drop for Modinput {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tail(s: &str, n: usize) -> &str {
    let mut from = s.len().saturating_sub(n);
    while !s.is_char_boundary(from) {
        from += 1;
    }
    &s[from..]
}

/// One `<event>` of the stream.
#[derive(Debug)]
struct StreamEvent {
    time: String,
    source: String,
    sourcetype: String,
    index: String,
    host: String,
    /// `<data>` without its trailing newline. Like Eventgen, every event of a raw sample keeps
    /// the newline inside `<data>`; `parse_stream` checks that it is there.
    data: String,
}

/// Parses the whole of stdout as one `<stream>` of `<event>`s, each with exactly one `<time>`,
/// `<source>`, `<sourcetype>`, `<index>`, `<host>` and `<data>`, and nothing else.
/// Finished events: no `unbroken` attribute, no `<done/>`.
#[track_caller]
fn parse_stream(text: &str) -> Vec<StreamEvent> {
    let root = parse_xml(text).unwrap_or_else(|e| panic!("stdout is not XML: {e}\n{text}"));
    assert_eq!(root.name, "stream", "{text}");
    assert!(
        root.text.trim().is_empty(),
        "text in <stream>: {:?}",
        root.text
    );
    root.children
        .iter()
        .map(|ev| {
            assert_eq!(ev.name, "event", "{ev:?}");
            assert!(ev.attr("unbroken").is_none(), "{ev:?}");
            for c in &ev.children {
                assert!(
                    ["time", "source", "sourcetype", "index", "host", "data"]
                        .contains(&c.name.as_str()),
                    "unexpected <{}> in {ev:?}",
                    c.name
                );
                assert!(c.children.is_empty(), "{ev:?}");
            }
            StreamEvent {
                time: ev.only("time").to_string(),
                source: ev.only("source").to_string(),
                sourcetype: ev.only("sourcetype").to_string(),
                index: ev.only("index").to_string(),
                host: ev.only("host").to_string(),
                data: ev
                    .only("data")
                    .strip_suffix('\n')
                    .unwrap_or_else(|| panic!("<data> without its newline: {ev:?}"))
                    .to_string(),
            }
        })
        .collect()
}

/// Epoch seconds with a fraction, as in `<time>1700000000.123</time>`.
#[track_caller]
fn assert_subsecond_time(ev: &StreamEvent) {
    let (secs, frac) = ev
        .time
        .split_once('.')
        .unwrap_or_else(|| panic!("no fraction in <time>: {ev:?}"));
    assert!(
        secs.parse::<i64>().is_ok_and(|s| s > 1_500_000_000)
            && !frac.is_empty()
            && frac.bytes().all(|b| b.is_ascii_digit()),
        "bad <time> in {ev:?}"
    );
}

fn count(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

/// A folder with a `libssl.so` that is not a library, like a Splunk install whose own OpenSSL
/// a dynamically linked binary would pick up through splunkd's LD_LIBRARY_PATH.
fn broken_libs(home: &TempDir) -> PathBuf {
    let dir = home.path().join("lib");
    fs::create_dir_all(&dir).unwrap();
    let garbage = b"\x7fELF\x02\x01\x01\x00garbage, not a shared object\x00\xff\xfe\x01";
    for name in ["libssl.so.3", "libssl.so", "libcrypto.so.3", "libc.so.6"] {
        fs::write(dir.join(name), garbage).unwrap();
    }
    dir
}

/// Three apps of our own next to the package:
/// - `app_layered`: a sample whose `local/eventgen.conf` overrides `default/` (sourcetype),
///   with an integerid token so the checkpoint folder gets state;
/// - `app_off`: disabled in its `default/app.conf`, with a sample that must never run;
/// - `app_broken`: one stanza with a bad token (line 10 of its eventgen.conf) and one good one.
fn write_test_apps(home: &TempDir) {
    home.write(
        "etc/apps/app_layered/default/app.conf",
        "[install]\nstate = enabled\n\n[ui]\nis_visible = false\nlabel = Layered test app\n",
    );
    home.write(
        "etc/apps/app_layered/default/eventgen.conf",
        "[layered.log]\ninterval = 1\ncount = 2\nearliest = now\nlatest = now\n\
         index = layered_idx\nhost = layered-host\nsource = layered-src\nsourcetype = from_default\n\
         token.0.token = @@id\ntoken.0.replacementType = integerid\ntoken.0.replacement = 100\n",
    );
    home.write(
        "etc/apps/app_layered/local/eventgen.conf",
        "[layered.log]\nsourcetype = from_local\n",
    );
    home.write(
        "etc/apps/app_layered/samples/layered.log",
        "LAYERED id=@@id\n",
    );

    home.write(
        "etc/apps/app_off/default/app.conf",
        "[install]\nstate = disabled\n",
    );
    home.write(
        "etc/apps/app_off/default/eventgen.conf",
        "[off.log]\ndisabled = false\ninterval = 1\ncount = 1\n",
    );
    home.write("etc/apps/app_off/samples/off.log", "FROM_DISABLED_APP\n");

    home.write(
        "etc/apps/app_broken/default/eventgen.conf",
        "[good.log]\ninterval = 1\ncount = 1\nindex = good_idx\nsourcetype = good_st\n\n\
         [bad.log]\ninterval = 1\ncount = 1\n\
         token.0.replacement = integer[5]\ntoken.0.token = @@n\ntoken.0.replacementType = random\n",
    );
    home.write(
        "etc/apps/app_broken/samples/good.log",
        "GOOD_STANZA_EVENT\n",
    );
    home.write(
        "etc/apps/app_broken/samples/bad.log",
        "BAD_STANZA_EVENT @@n\n",
    );
}

#[test]
fn packaged_input_streams_every_enabled_app_like_splunkd_runs_it() {
    let pkg = package();
    let home = TempDir::new("splunk-home");
    fs::create_dir_all(home.path().join("etc/apps")).unwrap();
    // Install the .spl the way the app manager does: unpack it into etc/apps.
    let tar = Command::new("tar")
        .arg("-xzf")
        .arg(&pkg.spl)
        .arg("-C")
        .arg(home.path().join("etc/apps"))
        .status()
        .unwrap();
    assert!(tar.success());
    write_test_apps(&home);
    let libs = broken_libs(&home);
    let checkpoint = home
        .path()
        .join("var/lib/splunk/modinputs/modinput_eventgen");
    fs::create_dir_all(&checkpoint).unwrap();
    let cwd = home.path().join("cwd");
    fs::create_dir_all(&cwd).unwrap();

    // splunkd execs the binary directly (start_by_shell = false) with its own environment.
    let exe = home.path().join("etc/apps/SA-Eventgen").join(PACKAGED_BIN);
    let mut cmd = Command::new(&exe);
    cmd.env_clear()
        .env("SPLUNK_HOME", home.path())
        .env("SPLUNK_SERVER_NAME", "sh-test")
        .env("LD_LIBRARY_PATH", &libs)
        .env("LD_PRELOAD", libs.join("libssl.so.3"))
        .current_dir(&cwd);
    let mut proc = Modinput::start(cmd, &input_xml(&checkpoint));
    // Two intervals of every enabled sample (interval = 1).
    proc.wait_for("two intervals of events", Duration::from_secs(30), |out| {
        count(out, "LAYERED id=") >= 4 && count(out, "GOOD_STANZA_EVENT") >= 2
    });
    let done = proc.terminate();
    assert!(
        done.status.success(),
        "exit status {} after SIGTERM\n--- stderr ---\n{}",
        done.status,
        done.stderr
    );
    assert!(
        done.took <= Duration::from_secs(2),
        "took {:?} to exit after SIGTERM",
        done.took
    );

    let events = parse_stream(&done.stdout);
    let layered: Vec<&StreamEvent> = events
        .iter()
        .filter(|e| e.data.starts_with("LAYERED id="))
        .collect();
    let good: Vec<&StreamEvent> = events
        .iter()
        .filter(|e| e.data == "GOOD_STANZA_EVENT")
        .collect();
    assert_eq!(
        layered.len() + good.len(),
        events.len(),
        "events from elsewhere (disabled app, broken stanza, shipped samples): {events:#?}"
    );
    for e in &layered {
        assert_eq!(
            (
                e.sourcetype.as_str(),
                e.index.as_str(),
                e.host.as_str(),
                e.source.as_str()
            ),
            ("from_local", "layered_idx", "layered-host", "layered-src"),
            "{e:?}"
        );
        assert_subsecond_time(e);
    }
    for e in &good {
        assert_eq!(
            (e.sourcetype.as_str(), e.index.as_str(), e.source.as_str()),
            ("good_st", "good_idx", "good.log"),
            "{e:?}"
        );
        // The host comes from SA-Eventgen's [global].
        assert_eq!(e.host, "127.0.0.1", "{e:?}");
        assert_subsecond_time(e);
    }
    // integerid counts up from 100 with no gaps, in stream order.
    let ids: Vec<i64> = layered
        .iter()
        .map(|e| e.data["LAYERED id=".len()..].parse().unwrap())
        .collect();
    let expected: Vec<i64> = (100..100 + ids.len() as i64).collect();
    assert_eq!(ids, expected);
    assert!(!done.stdout.contains("FROM_DISABLED_APP"));
    assert!(!done.stdout.contains("BAD_STANZA_EVENT"));

    // stderr: one message per line, level word first.
    let lines: Vec<&str> = done.stderr.lines().collect();
    for l in &lines {
        assert!(
            ["DEBUG ", "INFO ", "WARN ", "ERROR "]
                .iter()
                .any(|w| l.starts_with(w)),
            "stderr line without a level word: {l:?}\n{}",
            done.stderr
        );
    }
    let broken_at = "app_broken/default/eventgen.conf:10";
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("ERROR ") && l.contains(broken_at) && l.contains("integer[5]")),
        "no ERROR line with {broken_at}:\n{}",
        done.stderr
    );
    let startup = lines
        .iter()
        .find(|l| l.starts_with("INFO ") && l.contains("samples") && l.contains("outputs"))
        .unwrap_or_else(|| panic!("no INFO startup summary:\n{}", done.stderr));
    assert!(startup.contains("2 samples"), "{startup}");
    for app in ["SA-Eventgen", "app_layered", "app_broken"] {
        assert!(startup.contains(app), "{app} missing from {startup}");
    }
    assert!(!startup.contains("app_off"), "{startup}");
    assert!(!done.stderr.contains(SESSION_KEY), "{}", done.stderr);

    let log_path = home.path().join("var/log/splunk/eventgen.log");
    let log =
        fs::read_to_string(&log_path).unwrap_or_else(|e| panic!("{}: {e}", log_path.display()));
    assert!(log.contains(broken_at), "{log}");
    assert!(log.contains("2 samples"), "{log}");
    assert!(!log.contains(SESSION_KEY), "{log}");

    // The integerid counter is kept for the next start: the value after the last one streamed.
    let states: Vec<PathBuf> = fs::read_dir(&checkpoint)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("integerid"))
        .collect();
    assert_eq!(states.len(), 1, "checkpoint files: {states:?}");
    let next: i64 = fs::read_to_string(&states[0])
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(next, 100 + ids.len() as i64, "{}", states[0].display());
}

#[test]
fn packaged_binary_is_static_and_runs_alone() {
    let pkg = package();
    let exe = pkg.app.join(PACKAGED_BIN);
    let ldd = Command::new("ldd").arg(&exe).output().unwrap();
    let ldd_text = format!("{}{}", stdout(&ldd), stderr(&ldd));
    assert!(
        ldd_text.contains("not a dynamic executable"),
        "ldd: {ldd_text}"
    );
    let readelf = Command::new("readelf")
        .arg("-d")
        .arg(&exe)
        .output()
        .unwrap();
    assert!(
        stdout(&readelf).contains("There is no dynamic section"),
        "readelf -d: {}",
        stdout(&readelf)
    );

    // A folder with nothing but the binary, and no environment at all.
    let alone = TempDir::new("alone");
    let copy = alone.path().join("modinput_eventgen");
    fs::copy(&exe, &copy).unwrap();
    let o = Command::new(&copy)
        .arg("--scheme")
        .env_clear()
        .current_dir(alone.path())
        .output()
        .unwrap();
    assert_code(&o, 0);
    let scheme = parse_xml(&stdout(&o)).unwrap();
    assert_eq!(scheme.name, "scheme");
    assert_eq!(
        fs::read_dir(alone.path()).unwrap().count(),
        1,
        "it wrote files"
    );

    // As root, a real chroot: no /lib, no /etc, no /dev, no /proc.
    let Some(chroot) = find_in_path("chroot") else {
        eprintln!("no chroot command: skipped the chroot run");
        return;
    };
    let o = Command::new(chroot)
        .arg(alone.path())
        .arg("/modinput_eventgen")
        .arg("--scheme")
        .env_clear()
        .output()
        .unwrap();
    if stderr(&o).contains("Operation not permitted") {
        eprintln!("not root: skipped the chroot run");
    } else {
        assert_code(&o, 0);
        assert_eq!(parse_xml(&stdout(&o)).unwrap().name, "scheme");
    }
}

/// `name` looked up in this process's PATH (the command itself runs with no environment).
fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

#[test]
fn committed_spec_is_what_the_binary_prints_and_what_ships() {
    let committed = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("app/README/eventgen.conf.spec"),
    )
    .unwrap();
    let o = run(&["spec"]);
    assert_code(&o, 0);
    assert!(
        committed == stdout(&o),
        "app/README/eventgen.conf.spec is stale: run `cargo run -- spec > app/README/eventgen.conf.spec`"
    );
    let shipped = fs::read_to_string(package().app.join("README/eventgen.conf.spec")).unwrap();
    assert!(
        committed == shipped,
        "the package's eventgen.conf.spec differs"
    );
}

#[test]
fn scheme_declares_how_splunkd_runs_us() {
    let o = run_with_stdin(&["--scheme"], &[], "");
    assert_code(&o, 0);
    let s = parse_xml(&stdout(&o)).unwrap_or_else(|e| panic!("{e}\n{}", stdout(&o)));
    assert_eq!(s.name, "scheme");
    assert!(!s.only("title").trim().is_empty());
    assert!(!s.only("description").trim().is_empty());
    assert_eq!(s.only("use_external_validation"), "true");
    assert_eq!(s.only("streaming_mode"), "xml");
    assert_eq!(s.only("use_single_instance"), "false");
    let args = s.child("endpoint").and_then(|e| e.child("args")).unwrap();
    let verbosity = args
        .children
        .iter()
        .find(|a| a.name == "arg" && a.attr("name") == Some("verbosity"))
        .unwrap_or_else(|| panic!("no verbosity arg: {args:?}"));
    assert!(!verbosity.only("title").is_empty());
    assert!(verbosity.only("description").contains("20"));
    assert_eq!(verbosity.only("data_type"), "number");
    assert_eq!(verbosity.only("required_on_create"), "true");
    assert_eq!(verbosity.only("required_on_edit"), "true");
    for a in &args.children {
        for field in [
            "title",
            "description",
            "data_type",
            "required_on_create",
            "required_on_edit",
        ] {
            assert!(a.child(field).is_some(), "{field} missing from {a:?}");
        }
    }
}

fn items_xml(verbosity: &str) -> String {
    format!(
        "<items><server_host>sh-test</server_host><server_uri>https://127.0.0.1:8089</server_uri>\
         <session_key>{SESSION_KEY}</session_key><checkpoint_dir>/nonexistent</checkpoint_dir>\
         <item name=\"default\"><param name=\"verbosity\">{verbosity}</param>\
         <param name=\"disabled\">0</param><param name=\"interval\">60</param></item></items>"
    )
}

/// The `<message>` of an `<error>` reply.
#[track_caller]
fn error_message(o: &std::process::Output) -> String {
    let doc = parse_xml(&stdout(o)).unwrap_or_else(|e| panic!("{e}\n{}", stdout(o)));
    assert_eq!(doc.name, "error");
    doc.only("message").to_string()
}

#[test]
fn validate_arguments_accepts_good_and_names_what_is_wrong() {
    let home = TempDir::new("validate-home");
    home.write(
        "etc/apps/app_ok/default/eventgen.conf",
        "[ok.log]\ninterval = 1\ncount = 1\n",
    );
    home.write("etc/apps/app_ok/samples/ok.log", "ok\n");
    let env = [("SPLUNK_HOME", home.path())];

    let good = run_with_stdin(&["--validate-arguments"], &env, &items_xml("20"));
    assert_code(&good, 0);
    assert_eq!(stdout(&good), "", "output on success");

    let bad = run_with_stdin(&["--validate-arguments"], &env, &items_xml("7"));
    assert_ne!(bad.status.code(), Some(0), "verbosity 7 accepted");
    let msg = error_message(&bad);
    assert!(
        msg.contains("verbosity") && msg.contains('7'),
        "message does not name the problem: {msg}"
    );
    assert!(!msg.contains(SESSION_KEY));

    // A broken eventgen.conf in any enabled app fails the validation, with its location.
    home.write(
        "etc/apps/app_bad/default/eventgen.conf",
        "[bad.log]\ninterval = 1\ncount = 1\ntoken.0.token = @@n\ntoken.0.replacementType = random\ntoken.0.replacement = integer[5]\n",
    );
    home.write("etc/apps/app_bad/samples/bad.log", "bad @@n\n");
    let broken = run_with_stdin(&["--validate-arguments"], &env, &items_xml("20"));
    assert_ne!(
        broken.status.code(),
        Some(0),
        "a broken eventgen.conf passed"
    );
    let msg = error_message(&broken);
    assert!(
        msg.contains("app_bad/default/eventgen.conf:6"),
        "no file:line in {msg}"
    );
}

#[test]
fn stream_carries_hostile_sample_text_unchanged() {
    let home = TempDir::new("escape-home");
    let line1 = "a </data></event><event> & ]]> <![CDATA[x]]> &amp; \"q\" 'a'\t\x01\x1b[31m z";
    let line2 = "h\u{e9}llo \u{2603} <stream> </stream>";
    home.write(
        "etc/apps/app_x/samples/hostile.log",
        &format!("{line1}\n{line2}\n"),
    );
    home.write(
        "etc/apps/app_x/default/eventgen.conf",
        "[hostile.log]\ndisabled = false\ninterval = 1\ncount = 2\nend = 1\n\
         host = h\"o'st&<1>\nsourcetype = st&<x>\nsource = ]]>src\nindex = main\n",
    );
    let checkpoint = home.path().join("checkpoint");
    let mut cmd = Command::new(bin());
    cmd.env_clear()
        .env("SPLUNK_HOME", home.path())
        .current_dir(home.path());
    let started = Instant::now();
    let proc = Modinput::start(cmd, &input_xml(&checkpoint));
    // end = 1: the run ends by itself and closes the stream.
    let done = proc.wait_exit(started, Duration::from_secs(30));
    assert!(done.status.success(), "{}\n{}", done.status, done.stderr);
    let events = parse_stream(&done.stdout);
    let data: Vec<&str> = events.iter().map(|e| e.data.as_str()).collect();
    let cleaned1 = line1.replace(['\x01', '\x1b'], "");
    assert_eq!(data, [cleaned1.as_str(), line2], "{}", done.stdout);
    for e in &events {
        assert_eq!(e.host, "h\"o'st&<1>");
        assert_eq!(e.sourcetype, "st&<x>");
        assert_eq!(e.source, "]]>src");
    }
}

/// splunkd hands over no stanza (`<configuration/>`), or only one that fails validation
/// (edited on disk, so `--validate-arguments` never ran): there is nothing to run, so the
/// process must exit 0 by itself without streaming any event (splunk-protocols.md §1.4).
#[test]
fn run_without_a_valid_stanza_generates_nothing() {
    let home = TempDir::new("no-stanza-home");
    home.write(
        "etc/apps/app_n/default/eventgen.conf",
        "[n.log]\ninterval = 1\ncount = 1\n",
    );
    home.write("etc/apps/app_n/samples/n.log", "SHOULD_NOT_RUN\n");
    let checkpoint = home.path().join("checkpoint");
    let bad_verbosity = input_xml(&checkpoint).replace(
        "<param name=\"verbosity\">20</param>",
        "<param name=\"verbosity\">7</param>",
    );
    let no_stanza = format!(
        "<input><server_host>sh-test</server_host><server_uri>https://127.0.0.1:8089</server_uri>\
         <session_key>{SESSION_KEY}</session_key><checkpoint_dir>{}</checkpoint_dir>\
         <configuration/></input>",
        checkpoint.display()
    );
    for input in [no_stanza, bad_verbosity] {
        let mut cmd = Command::new(bin());
        cmd.env_clear()
            .env("SPLUNK_HOME", home.path())
            .current_dir(home.path());
        let started = Instant::now();
        let done = Modinput::start(cmd, &input).wait_exit(started, Duration::from_secs(10));
        assert!(done.status.success(), "{}\n{}", done.status, done.stderr);
        assert!(parse_stream(&done.stdout).is_empty(), "{}", done.stdout);
    }
}

/// splunkd stops reading and sends SIGTERM: the input still exits 0 within about two
/// seconds, although its stdout is blocked.
#[test]
fn sigterm_ends_the_input_even_when_stdout_is_blocked() {
    use std::io::Write as _;
    let home = TempDir::new("blocked-home");
    home.write(
        "etc/apps/app_b/default/eventgen.conf",
        "[b.log]\ninterval = 1\ncount = 200000\n",
    );
    home.write(
        "etc/apps/app_b/samples/b.log",
        "a line of sample text that fills the pipe quickly enough\n",
    );
    let input = input_xml(&home.path().join("checkpoint"));
    let mut child = Command::new(bin())
        .env_clear()
        .env("SPLUNK_HOME", home.path())
        .current_dir(home.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    // Hold stdout open but never read it: the pipe fills and the output thread blocks.
    let _stdout = child.stdout.take().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the input ended on its own"
    );
    let sent = Instant::now();
    let kill = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(kill.success());
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if sent.elapsed() > Duration::from_secs(5) {
            let _ = child.kill();
            panic!("still running 5 s after SIGTERM with a blocked stdout");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
    assert!(
        sent.elapsed() < Duration::from_millis(2500),
        "took {:?}",
        sent.elapsed()
    );
}

/// Inside Splunk the same policy holds: what Eventgen tolerates is a warning on stderr and in
/// eventgen.log, and the valid samples stream.
#[test]
fn warnings_go_to_stderr_and_eventgen_log_and_the_samples_still_run() {
    let home = TempDir::new("warn-home");
    home.write("etc/apps/app_w/samples/w.log", "W_EVENT\n");
    home.write(
        "etc/apps/app_w/default/eventgen.conf",
        "[vendor_only.log]\ninterval = 1\n\n\
         [w.log]\ninterval = 1\ncount = 1\nend = 1\nmode = reply\n",
    );
    let checkpoint = home.path().join("checkpoint");
    let mut cmd = Command::new(bin());
    cmd.env_clear()
        .env("SPLUNK_HOME", home.path())
        .current_dir(home.path());
    let started = Instant::now();
    let done =
        Modinput::start(cmd, &input_xml(&checkpoint)).wait_exit(started, Duration::from_secs(30));
    assert!(done.status.success(), "{}\n{}", done.status, done.stderr);
    let data: Vec<String> = parse_stream(&done.stdout)
        .into_iter()
        .map(|e| e.data)
        .collect();
    assert_eq!(data, ["W_EVENT"], "{}", done.stdout);
    let log = std::fs::read_to_string(home.path().join("var/log/splunk/eventgen.log"))
        .unwrap_or_default();
    for needle in [
        "[vendor_only.log] no file in",
        "[w.log] mode: expected one of",
    ] {
        assert!(
            done.stderr
                .lines()
                .any(|l| l.starts_with("WARN") && l.contains(needle)),
            "stderr lacks {needle}:\n{}",
            done.stderr
        );
        assert!(log.contains(needle), "eventgen.log lacks {needle}:\n{log}");
    }
}
