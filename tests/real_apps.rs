//! What real apps' eventgen.conf files do that Eventgen 7.2.1 tolerates: each class runs here
//! with a located warning and Eventgen's behaviour (`generate` exits 0), `check --strict`
//! turns the warnings into errors, and what Eventgen refuses stays an error. The apps below
//! are written for these tests.

use crate::support::*;
use std::process::Command;

const AT: &str = "./default/eventgen.conf:";

#[track_caller]
fn warning_lines(o: &std::process::Output) -> Vec<String> {
    let err = stderr(o);
    assert!(
        err.lines().all(|l| l.starts_with("WARN ")),
        "only warnings expected:\n{err}"
    );
    err.lines().map(str::to_string).collect()
}

#[test]
fn a_stanza_that_matches_no_file_is_dropped_with_a_warning() {
    let app = App::new(
        "nomatch",
        "[vendor_firewall.log]\noutputMode = stdout\nend = 1\n\n\
         [web.log]\noutputMode = stdout\nend = 1\n\n\
         [boards.lst]\noutputMode = stdout\nend = 1\n",
    );
    app.sample("web.log", "GET /\n")
        .sample("boards.list", "b1\n");
    let o = app.run(&[]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "GET /\n");
    let warns = warning_lines(&o);
    assert_eq!(warns.len(), 2, "{warns:?}");
    let abs = app.path().canonicalize().unwrap();
    assert!(
        warns[0].starts_with(&format!("WARN {AT}1: [vendor_firewall.log] no file in ")),
        "{}",
        warns[0]
    );
    // The folder tried, absolute.
    assert!(
        warns[0].contains(&format!("{}/./samples", abs.display()))
            || warns[0].contains(&format!("{}/samples", abs.display())),
        "{}",
        warns[0]
    );
    assert!(warns[0].contains("Eventgen drops it too"), "{}", warns[0]);
    assert!(
        warns[1].contains("[boards.lst]") && warns[1].contains("did you mean boards.list?"),
        "{}",
        warns[1]
    );
    let c = app.check();
    assert_code(&c, 0);
    assert!(
        stdout(&c).contains("1 samples, 0 errors, 2 warnings"),
        "{}",
        stdout(&c)
    );
    strict_fails_with(&app, "[vendor_firewall.log] no file in");
}

#[test]
fn bad_values_fall_back_as_in_eventgen() {
    // mode and interval fail Eventgen's validation and are skipped: [global] values apply.
    // randomizeEvents = sometimes is true for Python's bool(); rater = custom is skipped.
    let app = App::new(
        "badvalues",
        "[global]\ninterval = 5\n\n[s.log]\noutputMode = stdout\nend = 2\n\
         mode = reply\ninterval = 30s\nsampletype = text\nrater = custom\ncount = 2\n\
         timezone = CET\n",
    );
    app.sample("s.log", "a\nb\nc\n");
    let o = app.run(&["-v"]);
    assert_code(&o, 0);
    // Sample mode (not replay), two intervals of 2 events: a b, then a b again.
    assert_eq!(stdout(&o), "a\nb\na\nb\n");
    let err = stderr(&o);
    for needle in [
        "default/eventgen.conf:7: [s.log] mode: expected one of sample, replay, got \"reply\" (did you mean replay?); ignored as Eventgen does: the [global] or built-in value (\"sample\") applies",
        "default/eventgen.conf:8: [s.log] interval: expected an integer, got \"30s\"; ignored as Eventgen does: the [global] or built-in value (\"5\") applies",
        "default/eventgen.conf:9: [s.log] sampletype:",
        "default/eventgen.conf:10: [s.log] rater:",
        "default/eventgen.conf:12: [s.log] timezone:",
    ] {
        assert!(
            err.lines()
                .any(|l| l.starts_with("WARN ") && l.contains(needle)),
            "{needle}\n{err}"
        );
    }
    // The [global] interval applies: the plan line says so.
    assert!(err.contains("interval=5s"), "{err}");
    strict_fails_with(&app, "[s.log] mode:");
}

#[test]
fn a_bad_value_in_global_stops_eventgen_so_it_is_an_error() {
    let app = App::new(
        "badglobal",
        "[global]\ninterval = 30s\n\n[s.log]\noutputMode = stdout\nend = 1\n",
    );
    app.sample("s.log", "a\n");
    let c = app.check();
    assert_code(&c, 2);
    assert!(
        stderr(&c).contains("default/eventgen.conf:2: [s.log] interval: expected an integer, got \"30s\" (a bad value in [global] stops Eventgen too)"),
        "{}",
        stderr(&c)
    );
}

#[test]
fn keys_without_effect_warn_only_when_their_value_asks_for_something() {
    let app = App::new(
        "noeffect",
        "[global]\nthreading = thread\noutputWorkers = 4\nuseOutputQueue = true\n\
         profiler = false\ndisableLoggingQueue = true\n\n\
         [s.log]\noutputMode = stdout\nend = 1\nsplitSample = 2\nmaxQueueLength = 10\n\
         hostRegex = host=(\\w+)\nmaxIntervalsBeforeFlush = 1\nhttpeventWaitResponse = false\n",
    );
    app.sample("s.log", "a\n");
    let o = app.run(&[]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "a\n");
    let warns = warning_lines(&o);
    // Values that ask for what eventgen-rs does not do, one warning each, in line order.
    let warned: Vec<&str> = warns
        .iter()
        .filter_map(|w| {
            w.split("] ")
                .nth(1)?
                .split(": has no effect in eventgen-rs (")
                .next()
        })
        .collect();
    assert_eq!(
        warned,
        [
            "outputWorkers",
            "splitSample",
            "maxQueueLength",
            "httpeventWaitResponse"
        ],
        "{warns:?}"
    );
    // Eventgen's defaults, useOutputQueue (always so here), maxIntervalsBeforeFlush (unused
    // by Eventgen too) and hostRegex (splunkstream's host_regex) are silent.
    assert_eq!(warns.len(), 4, "{warns:?}");
}

#[test]
fn a_key_given_twice_says_which_line_wins() {
    let app = App::new(
        "dupkey",
        "[s.log]\noutputMode = stdout\nend = 1\ncount = 1\ncount = 3\n",
    );
    app.sample("s.log", "a\nb\nc\n");
    let o = app.run(&[]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "a\nb\nc\n", "line 5 wins");
    assert_eq!(
        warning_lines(&o),
        [format!(
            "WARN {AT}5: [s.log] count: set twice in this stanza (line 4 and here); this later line wins, as in Splunk"
        )]
    );
    strict_fails_with(&app, "count: set twice");
}

#[test]
fn a_lookahead_breaker_splits_like_eventgen() {
    // The shape of a cloud add-on's metrics sample: events start at "metric_name".
    let app = App::new(
        "lookahead",
        "[metrics.log]\noutputMode = stdout\nend = 1\nbreaker = [\\n\\r]+(?=metric_name)\n",
    );
    app.sample(
        "metrics.log",
        "metric_name=cpu value=1\nunit=pct\nmetric_name=mem value=2\nunit=mb\n",
    );
    let o = app.run(&[]);
    assert_code(&o, 0);
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "metric_name=cpu value=1\nunit=pct\n\nmetric_name=mem value=2\nunit=mb\n"
    );
    let c = app.check();
    assert!(
        stdout(&c).contains("1 samples, 0 errors, 0 warnings"),
        "{}",
        stdout(&c)
    );
}

#[test]
fn a_breaker_that_does_not_compile_prints_the_whole_parser_message() {
    let app = App::new(
        "badbreaker",
        "[s.log]\noutputMode = stdout\nend = 1\nbreaker = (?<=x\n\n[ok.log]\noutputMode = stdout\nend = 1\n",
    );
    app.sample("s.log", "a\n").sample("ok.log", "ok\n");
    let o = app.run(&[]);
    assert_code(&o, 2);
    assert_eq!(stdout(&o), "ok\n");
    let err = stderr(&o);
    let line = err
        .lines()
        .find(|l| l.contains("[s.log] breaker: breaker regex does not compile: "))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(!line.trim_end().ends_with("regex parse error:"), "{line}");
    assert!(line.len() > 80, "a whole message: {line}");
}

#[test]
fn a_stanza_name_that_is_not_a_regex_says_so() {
    let app = App::new(
        "badstanza",
        "[*\\.cisco.asa]\noutputMode = stdout\nend = 1\n\n[ok.log]\noutputMode = stdout\nend = 1\n",
    );
    app.sample("fw.cisco.asa", "asa\n").sample("ok.log", "ok\n");
    let o = app.run(&[]);
    assert_code(&o, 2);
    assert_eq!(stdout(&o), "ok\n", "the other stanza still runs");
    let err = stderr(&o);
    assert!(
        err.contains(&format!(
            "ERROR {AT}1: [*\\.cisco.asa] the stanza name is not a valid regular expression, so it matches no sample file: "
        )),
        "{err}"
    );
    assert!(!err.contains("no file in"), "{err}");
}

#[test]
fn utf16_samples_with_a_bom_are_decoded_and_never_give_nul_bytes() {
    let app = App::new(
        "utf16",
        "[s.log]\noutputMode = stdout\nend = 1\n\
         token.0.token = @@user\ntoken.0.replacementType = file\ntoken.0.replacement = $SPLUNK_HOME/users.txt\n",
    );
    let mut le = vec![0xFF, 0xFE];
    for u in "caf\u{e9} user=@@user\r\nsecond line\r\n".encode_utf16() {
        le.extend(u.to_le_bytes());
    }
    std::fs::create_dir_all(app.path().join("samples")).unwrap();
    std::fs::write(app.path().join("samples/s.log"), &le).unwrap();
    // A latin-1 replacement file, found through $SPLUNK_HOME.
    std::fs::write(app.path().join("users.txt"), b"J\xF6rg\n").unwrap();
    let mut cmd = Command::new(bin());
    cmd.args(["generate", ".", "--now", NOW, "--seed", "1"])
        .current_dir(app.path())
        .env("TZ", "UTC")
        .env("SPLUNK_HOME", app.path());
    let o = output_within(cmd, std::time::Duration::from_secs(30));
    assert_code(&o, 0);
    assert!(!o.stdout.contains(&0), "NUL bytes in the output");
    assert_eq!(stdout(&o), "caf\u{e9} user=J\u{f6}rg\nsecond line\n");
    let warns = warning_lines(&o);
    assert_eq!(warns.len(), 1, "{warns:?}");
    assert!(
        warns[0].contains("token.0.replacement: replacement file")
            && warns[0]
                .contains("not valid UTF-8 (first bad byte 0xF6 on line 1); read as latin-1"),
        "{}",
        warns[0]
    );
}

#[test]
fn missing_files_name_every_absolute_path_and_an_unset_splunk_home() {
    let app = App::new(
        "missing",
        "[s.log]\noutputMode = stdout\nend = 1\n\
         token.0.token = @@b\ntoken.0.replacementType = file\ntoken.0.replacement = baords.list\n\
         token.1.token = @@h\ntoken.1.replacementType = file\ntoken.1.replacement = $SPLUNK_HOME/etc/apps/x/hosts.txt\n",
    );
    app.sample("s.log", "board=@@b host=@@h\n")
        .sample("boards.list", "b1\n");
    let mut cmd = Command::new(bin());
    cmd.args(["generate", ".", "--now", NOW, "--seed", "1"])
        .current_dir(app.path())
        .env("TZ", "UTC")
        .env_remove("SPLUNK_HOME");
    let o = output_within(cmd, std::time::Duration::from_secs(30));
    assert_code(&o, 0);
    // Eventgen leaves both tokens unreplaced and goes on.
    assert_eq!(stdout(&o), "board=@@b host=@@h\n");
    let warns = warning_lines(&o);
    assert_eq!(warns.len(), 2, "{warns:?}");
    let abs = app.path().canonicalize().unwrap();
    assert!(
        warns[0].contains(&format!("{}/baords.list", abs.display()))
            && warns[0].contains("did you mean boards.list?"),
        "{}",
        warns[0]
    );
    assert!(
        warns[1].contains("$SPLUNK_HOME/etc/apps/x/hosts.txt")
            && warns[1].contains("$SPLUNK_HOME is not set"),
        "{}",
        warns[1]
    );
}

#[test]
fn splunkstream_configs_check_and_run_from_the_cli_with_output() {
    let app = App::new(
        "splunkstream",
        "[s.log]\noutputMode = splunkstream\nsplunkHost = 127.0.0.1\nend = 1\n",
    );
    app.sample("s.log", "a\n");
    let c = app.check();
    assert_code(&c, 0);
    assert!(
        stderr(&c).contains("splunkUser is not set"),
        "{}",
        stderr(&c)
    );
    let o = app.run(&["--output", "stdout"]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "a\n");
    assert!(!stderr(&o).contains("not supported"), "{}", stderr(&o));
}
