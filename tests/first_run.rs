//! A new user's first minutes and apps written for Splunk (issue 18), one test per item: the
//! shipped app starts without warnings, configs Eventgen runs are accepted, `check` counts
//! and points well, and the binary's own texts are right (the progress bar's test is in
//! `progress.rs`).

use std::path::Path;
use std::process::{Command, Output};

use crate::support::*;

/// A `$SPLUNK_HOME` with SA-Eventgen's shipped `default/` and one app, `app_t`, whose
/// `t.log` sample runs one interval.
fn splunk_home(tag: &str, app_conf: &str) -> SplunkHome {
    let home = SplunkHome::new(tag);
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("default");
    for f in ["app.conf", "eventgen.conf", "inputs.conf"] {
        let text = std::fs::read_to_string(shipped.join(f)).unwrap();
        home.write(&format!("etc/apps/SA-Eventgen/default/{f}"), &text);
    }
    home.app("app_t", app_conf)
        .sample("app_t", "t.log", "T_EVENT\n");
    home
}

/// The modular input started as splunkd starts it; returns its output and eventgen.log.
fn modinput(home: &SplunkHome, verbosity: u32) -> (Output, String) {
    let o = run_with_stdin(
        &[],
        &[("SPLUNK_HOME", home.path())],
        &home.input_at(verbosity, ""),
    );
    (o, home.log())
}

fn warn_lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.contains("WARN")).collect()
}

#[test]
fn the_shipped_app_is_quiet_and_warnings_come_in_line_order() {
    // The README's first command.
    let dir = TempDir::new("first-command");
    let mut cmd = Command::new(bin());
    cmd.args(["generate", "--end", "1"]).current_dir(dir.path());
    let o = output_within(cmd, APP_DEADLINE);
    assert_code(&o, 0);
    assert_eq!(stderr(&o), "", "the first command printed to stderr");
    assert!(stdout(&o).contains("HTTP/1.1"), "{}", stdout(&o));

    // The modular input's start over the shipped app and an app with one sample.
    let home = splunk_home("quiet-start", "[t.log]\ninterval = 1\ncount = 1\nend = 1\n");
    let (o, log) = modinput(&home, 20);
    assert_code(&o, 0);
    assert!(stdout(&o).contains("T_EVENT"), "{}", stdout(&o));
    assert_eq!(
        warn_lines(&stderr(&o)),
        Vec::<&str>::new(),
        "{}",
        stderr(&o)
    );
    assert_eq!(warn_lines(&log), Vec::<&str>::new(), "{log}");
    assert!(log.contains("INFO"), "{log}");

    // Only values that ask for what we do not do warn, in file and line order.
    let app = App::new(
        "no-effect-values",
        "[global]\nthreading = process\nprofiler = true\noutputWorkers = 1\ndebug = true\n\
         splitSample = 0\nmaxQueueLength = 5\n\n\
         [q.log]\noutputMode = stdout\nend = 1\nhttpeventWaitResponse = true\n\
         disableLoggingQueue = false\nthreading = thread\n",
    );
    app.sample("q.log", "Q\n");
    let o = app.run(&[]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "Q\n");
    let err = stderr(&o);
    let lines: Vec<u32> = warn_lines(&err)
        .iter()
        .map(|l| {
            let at = l.split(".conf:").nth(1).unwrap_or_else(|| panic!("{l}"));
            at.split(':').next().unwrap().parse().unwrap()
        })
        .collect();
    // Settings are kept by name; the warnings still follow the lines.
    assert_eq!(lines, [2, 3, 5, 7, 13], "{err}");
    assert!(err.contains("profiler: has no effect"), "{err}");
    assert!(err.contains("[q.log] disableLoggingQueue"), "{err}");
}

#[test]
fn check_accepts_splunkstream_apps_without_splunk_host() {
    let app = App::new(
        "splunkstream-nohost",
        "[s.log]\noutputMode = splunkstream\nsplunkUser = admin\nsplunkPass = changeme\n",
    );
    app.sample("s.log", "S\n");
    let c = app.check();
    assert_code(&c, 0);
    let err = stderr(&c);
    let warn = warn_lines(&err);
    assert_eq!(warn.len(), 1, "{err}");
    assert!(
        warn[0].starts_with("WARN ./default/eventgen.conf:2: [s.log] splunkHost:"),
        "{}",
        warn[0]
    );
    assert!(
        warn[0].contains("local splunkd") && warn[0].contains("needs splunkHost"),
        "{}",
        warn[0]
    );
    assert!(
        stdout(&c).contains("1 samples, 0 errors, 1 warnings"),
        "{}",
        stdout(&c)
    );
    // A standalone run cannot guess the server: Eventgen's clear error.
    let g = app.run(&["-e", "1"]);
    assert_code(&g, 2);
    assert!(
        stderr(&g).contains("splunkHost is required"),
        "{}",
        stderr(&g)
    );
}

#[test]
fn unknown_token_keys_are_ignored_with_a_warning() {
    let app = App::new(
        "token-field",
        "[t.log]\noutputMode = stdout\nend = 1\n\
         token.0.token = @@n\ntoken.0.replacementType = static\ntoken.0.replacement = seven\n\
         token.0.field = _time\ntoken.0.replacementtype = random\n",
    );
    app.sample("t.log", "n=@@n\n");
    let o = app.run(&[]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "n=seven\n");
    let err = stderr(&o);
    let warns = warn_lines(&err);
    assert_eq!(warns.len(), 2, "{err}");
    assert!(
        warns[0].starts_with(
            "WARN ./default/eventgen.conf:7: [t.log] token.0.field: unknown setting, ignored"
        ),
        "{err}"
    );
    assert!(
        warns[1].ends_with("token.0.replacementtype: unknown setting, ignored; did you mean token.0.replacementType?"),
        "{err}"
    );
    let c = app.check();
    assert_code(&c, 0);
}

#[test]
fn zone_name_takes_a_width() {
    let app = App::new(
        "zone-width",
        &format!(
            "[z.log]\noutputMode = stdout\nend = 1\n{}",
            token(0, "@@t", "timestamp", "[%4Z|%Z|%-6Z|%#Z]")
        ),
    );
    app.sample("z.log", "@@t\n");
    assert_eq!(app.out(&[]), "[ UTC|UTC|   UTC|utc]\n");
}

/// `end` intervals of `count` events of `id=@@id`, an integerid token starting at `start`.
fn integerids(tag: &str, start: &str, end: u32, count: u32) -> String {
    let app = App::new(
        tag,
        &format!(
            "[i.log]\noutputMode = stdout\nend = {end}\ncount = {count}\n{}",
            token(0, "@@id", "integerid", start)
        ),
    );
    app.sample("i.log", "id=@@id\n");
    app.out(&[])
}

#[test]
fn integerid_starts_and_counts_beyond_64_bits() {
    // Across intervals, past i64::MAX.
    assert_eq!(
        integerids("integerid-big", "9223372036854775806", 2, 2),
        "id=9223372036854775806\nid=9223372036854775807\n\
         id=9223372036854775808\nid=9223372036854775809\n"
    );
    // A start beyond 64 bits, as Python's int() reads it.
    assert_eq!(
        integerids("integerid-bigger", "18446744073709551620", 1, 2),
        "id=18446744073709551620\nid=18446744073709551621\n"
    );
}

#[test]
fn modinput_verbosity_40_logs_errors_only() {
    let home = splunk_home(
        "verbosity-40",
        "[t.log]\ninterval = 1\ncount = 1\nend = 1\nnoSuchKey = 1\n",
    );
    let (o, log) = modinput(&home, 40);
    assert_code(&o, 0);
    assert!(stdout(&o).contains("T_EVENT"), "{}", stdout(&o));
    assert_eq!(stderr(&o), "", "verbosity 40 logged more than errors");
    assert_eq!(log, "", "verbosity 40 logged more than errors");
    // 30 shows the warning, not the INFO lines.
    let (o, log) = modinput(&home, 30);
    assert_code(&o, 0);
    let err = stderr(&o);
    assert!(err.lines().all(|l| l.starts_with("WARN ")), "{err}");
    assert!(err.contains("noSuchKey"), "{err}");
    assert!(log.contains("noSuchKey") && !log.contains("INFO"), "{log}");
}

#[test]
fn check_counts_each_mistake_once_points_at_lines_and_says_what_is_off() {
    // One bad token: one error, though the sample is also reported skipped.
    let app = App::new(
        "one-error",
        "[b.log]\noutputMode = stdout\n\
         token.0.token = @@n\ntoken.0.replacementType = random\ntoken.0.replacement = integer[5]\n",
    );
    app.sample("b.log", "@@n\n");
    let c = app.check();
    assert_code(&c, 2);
    assert!(
        stderr(&c).contains("skipped because of the errors above"),
        "{}",
        stderr(&c)
    );
    assert!(
        stdout(&c).contains("0 samples, 1 errors, 0 warnings"),
        "{}",
        stdout(&c)
    );

    // A missing httpeventServers points at the outputMode line; hec means httpevent.
    let app = App::new(
        "hec-missing",
        "[h.log]\nindex = main\noutputMode = httpevent\n\n[k.log]\noutputMode = hec\n",
    );
    app.sample("h.log", "H\n").sample("k.log", "K\n");
    let c = app.check();
    assert_code(&c, 2);
    let err = stderr(&c);
    assert!(
        err.contains("ERROR ./default/eventgen.conf:3: [h.log] httpeventServers: httpeventServers is required"),
        "{err}"
    );
    assert!(
        err.lines()
            .any(|l| l.contains(":6: [k.log] outputMode:") && l.contains("did you mean httpevent?")),
        "{err}"
    );

    // Every sample disabled: say so.
    let app = App::new("all-disabled", "[weblog]\ndisabled = true\n");
    let c = app.check();
    assert_code(&c, 0);
    assert!(
        stdout(&c).contains("0 enabled samples: [weblog] is disabled"),
        "{}",
        stdout(&c)
    );

    // Help texts.
    let g = run(&["generate", "--help"]);
    assert!(
        stdout(&g).contains("\n    -s, --sample NAME"),
        "{}",
        stdout(&g)
    );
    let h = run(&["--help"]);
    assert!(
        stdout(&h).contains("\n    -s, --sample NAME"),
        "{}",
        stdout(&h)
    );
    let s = run(&["spec", "--help"]);
    assert_code(&s, 0);
    assert!(stdout(&s).starts_with("eventgen spec:"), "{}", stdout(&s));
    assert!(stdout(&s).len() < 2000, "{}", stdout(&s));
    let bad = run(&["spec", "extra"]);
    assert_code(&bad, 2);
}
