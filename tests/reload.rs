//! Live reconfiguration through the binary: a running `generate` (seeded, on the virtual clock,
//! held mid-run by a stdout nobody reads yet) whose eventgen.conf changes takes the new plan
//! at the next interval: the events before the boundary are the old configuration's seeded
//! run, those after it the new configuration's, integerid carries on without a gap or a
//! repeat; a broken edit is logged and the old plan goes on; `--no-reload` ignores edits. And
//! the modular input, started as splunkd starts it, changes its volume when its app's
//! eventgen.conf changes.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::*;

/// How long a step may take before the test gives up.
const STEP: Duration = Duration::from_secs(20);
/// Intervals of the held run: with the padded events, a few times what the stdout pipe holds
/// (the output raises it to 1 MiB), so the run is mid-way when the configuration changes.
const INTERVALS: &str = "4000";

fn sample_a() -> String {
    format!(
        "2024-01-01T00:00:00 a rand=0 pad={} id=0\n",
        "x".repeat(400)
    )
}
const SAMPLE_B: &str = "2024-01-01T00:00:00 b static\n";

fn conf(count_a: u32, with_b: bool, broken: bool) -> String {
    let mut c = format!(
        "[a.log]\ninterval = 1\ncount = {count_a}\nearliest = now\nlatest = now\n\
         token.0.token = ^\\S+\ntoken.0.replacementType = timestamp\n\
         token.0.replacement = %Y-%m-%dT%H:%M:%S\n\
         token.1.token = rand=(\\d+)\ntoken.1.replacementType = random\n\
         token.1.replacement = integer[0:1000000]\n\
         token.2.token = id=(\\d+)\ntoken.2.replacementType = integerid\n\
         token.2.replacement = 1\n"
    );
    if broken {
        c.push_str("token.3.token = (unclosed\ntoken.3.replacementType = static\ntoken.3.replacement = x\n");
    }
    if with_b {
        c.push_str(
            "\n[b.log]\ninterval = 1\ncount = 1\nearliest = now\nlatest = now\n\
             token.0.token = ^\\S+\ntoken.0.replacementType = timestamp\n\
             token.0.replacement = %Y-%m-%dT%H:%M:%S\n",
        );
    }
    c
}

fn app(tag: &str, conf_text: &str) -> App {
    let app = App::new(tag, conf_text);
    app.sample("a.log", &sample_a()).sample("b.log", SAMPLE_B);
    app
}

/// A whole seeded run of `conf_text`, with nothing changing.
fn seeded_run(tag: &str, conf_text: &str) -> Vec<String> {
    let app = app(tag, conf_text);
    let out = app.out(&["-e", INTERVALS, "--output", "stdout", "--no-reload"]);
    out.lines().map(str::to_string).collect()
}

/// A running `generate` whose stdout is not read until `finish`.
struct Held {
    child: Child,
    stderr: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Held {
    fn start(app: &App, extra: &[&str]) -> Held {
        let mut child = Command::new(bin())
            .args([
                "generate", ".", "--now", NOW, "--seed", "1", "-e", INTERVALS,
            ])
            .args(["--output", "stdout", "-v", "--stats", "0"])
            .args(extra)
            .current_dir(app.path())
            .env("TZ", "UTC")
            .env("EVENTGEN_RELOAD_POLL_MS", "50")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = mpsc::channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // The run fills the pipe and waits for a reader.
        std::thread::sleep(Duration::from_millis(500));
        if let Some(status) = child.try_wait().unwrap() {
            let rest: Vec<String> = rx.try_iter().collect();
            panic!("the run ended ({status}) before the configuration changed: {rest:#?}");
        }
        Held {
            child,
            stderr: rx,
            seen: Vec::new(),
        }
    }

    /// Waits (bounded) for a stderr line containing `needle`.
    fn wait_for(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + STEP;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!("no {needle:?} on stderr: {:#?}", self.seen),
            }
        }
    }

    /// Reads stdout to its end; returns its lines and the rest of stderr.
    fn finish(mut self) -> (Vec<String>, Vec<String>) {
        let mut out = String::new();
        self.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status}: {:#?}", self.seen);
        self.seen.extend(self.stderr.iter());
        (out.lines().map(str::to_string).collect(), self.seen)
    }
}

fn timestamp(line: &str) -> &str {
    line.split(' ').next().unwrap()
}

fn without_id(line: &str) -> String {
    match line.find(" id=") {
        Some(i) => line[..i].to_string(),
        None => line.to_string(),
    }
}

#[test]
fn generate_takes_a_changed_count_and_an_added_stanza_at_the_next_interval() {
    let old = conf(2, false, false);
    let new = conf(5, true, false);
    let before = seeded_run("reload-old", &old);
    let after = seeded_run("reload-new", &new);

    let app = app("reload-live", &old);
    let mut held = Held::start(&app, &[]);
    app.dir.write("default/eventgen.conf", &new);
    let info = held.wait_for("reload:");
    assert!(info.starts_with("INFO "), "{info}");
    assert!(info.contains("samples added: b.log"), "{info}");
    assert!(info.contains("a.log (count 2 -> 5)"), "{info}");
    let (lines, stderr) = held.finish();
    assert_eq!(
        stderr.iter().filter(|l| l.contains("reload:")).count(),
        1,
        "one line per reload: {stderr:#?}"
    );

    // The boundary: the first event the old configuration would not have made.
    let first_new = lines
        .iter()
        .zip(&before)
        .position(|(a, b)| a != b)
        .expect("the output changed");
    let boundary = timestamp(&lines[first_new]).to_string();
    let last = timestamp(before.last().unwrap()).to_string();
    assert!(
        boundary.as_str() > timestamp(&before[0]) && boundary < last,
        "the change took effect mid-run: {boundary}"
    );
    // Before it: the old configuration's run, exactly.
    let old_part: Vec<&String> = before
        .iter()
        .filter(|l| timestamp(l) < boundary.as_str())
        .collect();
    let n = old_part.len();
    assert_eq!(lines[..n].iter().collect::<Vec<_>>(), old_part);
    // From it on: the new configuration's run (integerid aside, which carries on).
    let new_part: Vec<String> = after
        .iter()
        .filter(|l| timestamp(l) >= boundary.as_str())
        .map(|l| without_id(l))
        .collect();
    let got: Vec<String> = lines[n..].iter().map(|l| without_id(l)).collect();
    assert_eq!(got.len(), new_part.len());
    assert!(got == new_part, "the events after the boundary differ");
    // No event lost or made twice: a's ids run 1, 2, 3, … across the boundary.
    let ids: Vec<u64> = lines
        .iter()
        .filter(|l| l.contains(" a rand="))
        .map(|l| l.rsplit("id=").next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(ids, (1..=ids.len() as u64).collect::<Vec<_>>());
    // Every interval of the run is there, the last one included.
    assert_eq!(timestamp(lines.last().unwrap()), last);
}

#[test]
fn generate_keeps_its_plan_when_the_changed_configuration_has_errors() {
    let old = conf(2, false, false);
    let before = seeded_run("reload-bad-old", &old);
    let app = app("reload-bad", &old);
    let mut held = Held::start(&app, &[]);
    app.dir.write("default/eventgen.conf", &conf(5, true, true));
    let line = held.wait_for("the running configuration goes on");
    assert!(line.starts_with("ERROR "), "{line}");
    let (lines, stderr) = held.finish();
    // The error itself, located.
    assert!(
        stderr.iter().any(|l| l.starts_with("ERROR reload: ")
            && l.contains("eventgen.conf:")
            && l.contains("token.3.token")),
        "{stderr:#?}"
    );
    assert!(lines == before, "the old plan did not run on unchanged");
}

#[test]
fn a_change_that_leaves_no_sample_is_not_applied() {
    let old = conf(2, false, false);
    let before = seeded_run("reload-empty-old", &old);
    let app = app("reload-empty", &old);
    let mut held = Held::start(&app, &[]);
    // An app folder caught in the middle of an update: the stanza is gone.
    app.dir.write("default/eventgen.conf", "# being replaced\n");
    let line = held.wait_for("no enabled sample");
    assert!(line.starts_with("WARN reload: "), "{line}");
    let (lines, _) = held.finish();
    assert!(lines == before, "the old plan did not run on unchanged");
}

#[test]
fn no_reload_ignores_changes() {
    let old = conf(2, false, false);
    let before = seeded_run("reload-off-old", &old);
    let app = app("reload-off", &old);
    let held = Held::start(&app, &["--no-reload"]);
    app.dir
        .write("default/eventgen.conf", &conf(5, true, false));
    std::thread::sleep(Duration::from_millis(400));
    let (lines, stderr) = held.finish();
    assert!(!stderr.iter().any(|l| l.contains("reload")), "{stderr:#?}");
    assert!(lines == before, "--no-reload changed the run");
}

/// The modular input, as splunkd starts it, over `$SPLUNK_HOME/etc/apps/load`: raising the
/// count in the app's eventgen.conf raises the events per interval of the running input,
/// with integerid going on.
#[test]
fn modular_input_takes_a_changed_eventgen_conf_without_a_restart() {
    let home = TempDir::new("reload-splunk");
    let conf_of = |count: u32| {
        format!(
            "[m.log]\ncount = {count}\ninterval = 1\nearliest = now\nlatest = now\n\
             token.0.token = id=(\\d+)\ntoken.0.replacementType = integerid\n\
             token.0.replacement = 1\n"
        )
    };
    home.write("etc/apps/load/default/eventgen.conf", &conf_of(2));
    home.write("etc/apps/load/samples/m.log", "m id=0\n");
    std::fs::create_dir_all(home.path().join("var/log/splunk")).unwrap();
    let input = "<input><server_host>sh</server_host><server_uri>https://127.0.0.1:8089</server_uri>\
         <session_key>sk-reload-test-session</session_key><checkpoint_dir></checkpoint_dir>\
         <configuration><stanza name=\"modinput_eventgen://default\">\
         <param name=\"verbosity\">20</param></stanza></configuration></input>";
    let mut child = Command::new(bin())
        .env("SPLUNK_HOME", home.path())
        .env("EVENTGEN_RELOAD_POLL_MS", "100")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let mut out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while let Ok(n) = out.read(&mut chunk) {
            if n == 0 || tx.send(chunk[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut err = child.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let mut stream = String::new();
    let wait_events = |stream: &mut String, n: usize| {
        let deadline = Instant::now() + STEP;
        while stream.matches("<event>").count() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            let chunk = rx
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("fewer than {n} events: {stream}"));
            stream.push_str(&String::from_utf8_lossy(&chunk));
        }
    };
    wait_events(&mut stream, 4);
    home.write("etc/apps/load/default/eventgen.conf", &conf_of(5));
    let log = home.path().join("var/log/splunk/eventgen.log");
    let deadline = Instant::now() + STEP;
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("reload:")
    {
        assert!(Instant::now() < deadline, "no reload line in eventgen.log");
        std::thread::sleep(Duration::from_millis(50));
    }
    let reloaded_at = stream.matches("<event>").count();
    // Two more whole intervals at the new count.
    wait_events(&mut stream, reloaded_at + 5 + 2 * 5);
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let deadline = Instant::now() + STEP;
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the input did not stop");
        while let Ok(chunk) = rx.try_recv() {
            stream.push_str(&String::from_utf8_lossy(&chunk));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    while let Ok(chunk) = rx.recv_timeout(Duration::from_millis(200)) {
        stream.push_str(&String::from_utf8_lossy(&chunk));
    }
    let stderr_text = err_reader.join().unwrap();
    assert!(stream.starts_with("<stream>"), "{stream}");
    assert_eq!(
        stream.matches("<stream>").count(),
        1,
        "one stream: {stream}"
    );
    let events = modinput_events(&stream);
    let ids: Vec<u64> = events
        .iter()
        .map(|e| e.data.trim().trim_start_matches("m id=").parse().unwrap())
        .collect();
    assert_eq!(ids, (1..=ids.len() as u64).collect::<Vec<_>>(), "{stream}");
    // Per interval (one `<time>` per firing): 2 events before the change, 5 after.
    let mut per_second: Vec<(String, usize)> = Vec::new();
    for e in &events {
        let sec = e.time.clone();
        match per_second.last_mut() {
            Some((s, n)) if *s == sec => *n += 1,
            _ => per_second.push((sec, 1)),
        }
    }
    let counts: Vec<usize> = per_second.iter().map(|(_, n)| *n).collect();
    let switch = counts
        .iter()
        .position(|&n| n == 5)
        .expect("an interval of 5");
    assert!(switch >= 2, "{counts:?}");
    assert!(counts[..switch].iter().all(|&n| n == 2), "{counts:?}");
    // The last interval may be cut short by the stop.
    assert!(
        counts[switch..counts.len() - 1].iter().all(|&n| n == 5),
        "{counts:?}"
    );
    let log_text = std::fs::read_to_string(&log).unwrap();
    let reload_lines: Vec<&str> = log_text.lines().filter(|l| l.contains("reload:")).collect();
    assert_eq!(reload_lines.len(), 1, "{log_text}");
    assert!(reload_lines[0].contains("INFO"), "{log_text}");
    assert!(
        reload_lines[0].contains("m.log (count 2 -> 5)"),
        "{log_text}"
    );
    assert!(stderr_text.contains("reload:"), "{stderr_text}");
}
