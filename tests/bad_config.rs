//! Configuration mistakes: each is reported as `file:line: [stanza] key: message` on stderr,
//! the broken sample is skipped, and the other samples still run.

use crate::support::*;

/// Lines 1-5 hold a good stanza; the bad stanza opens on line 6 and `bad` starts on line 10.
fn conf_with(bad: &str) -> String {
    format!(
        "[good.log]\noutputMode = stdout\ncount = 1\nend = 1\n\n\
         [bad.log]\noutputMode = stdout\ncount = 1\nend = 1\n{bad}\n"
    )
}

fn app(tag: &str, bad: &str) -> App {
    let app = App::new(tag, &conf_with(bad));
    app.sample("good.log", "good event\n")
        .sample("bad.log", "bad event\n");
    app
}

/// Runs `generate` and `check`: both report `needle` (which starts with the location), the
/// good sample's event is generated, the bad one is not, and both exit 2.
#[track_caller]
fn assert_reported(app: &App, needle: &str) {
    let o = app.run(&[]);
    assert_code(&o, 2);
    let err = stderr(&o);
    assert!(err.contains(needle), "stderr lacks {needle:?}:\n{err}");
    assert!(
        err.lines()
            .all(|l| l.starts_with("ERROR ") || l.starts_with("WARN ")),
        "{err}"
    );
    assert_eq!(stdout(&o), "good event\n", "the good sample still runs");
    let c = app.check();
    assert_code(&c, 2);
    assert!(
        stderr(&c).contains(needle) || stdout(&c).contains(needle),
        "check lacks {needle:?}:\n{}{}",
        stdout(&c),
        stderr(&c)
    );
    assert!(stdout(&c).contains("good.log"), "{}", stdout(&c));
    assert!(!err.contains("panicked") && !stderr(&c).contains("panicked"));
}

const AT: &str = "default/eventgen.conf:";

#[test]
fn integer_without_bounds() {
    let a = app("bad-int", &token(0, "@@x", "random", "integer[5]"));
    assert_reported(
        &a,
        &format!(
            "{AT}12: [bad.log] token.0.replacement: expected integer[lo:hi], got \"integer[5]\""
        ),
    );
}

#[test]
fn unknown_replacement_type() {
    let a = app("bad-type", &token(0, "@@x", "randm", "ipv4"));
    assert_reported(
        &a,
        &format!("{AT}11: [bad.log] token.0.replacementType: unknown replacementType \"randm\""),
    );
}

#[test]
fn unknown_random_spec_and_reversed_range() {
    let a = app("bad-spec", &token(0, "@@x", "random", "ipv5"));
    assert_reported(&a, &format!("{AT}12: [bad.log] token.0.replacement:"));
    let a = app("bad-range", &token(0, "@@x", "random", "integer[9:1]"));
    assert_reported(&a, &format!("{AT}12: [bad.log] token.0.replacement:"));
}

/// Runs `generate` and `check`: both warn with `needle` (which starts with the location),
/// every sample runs, and both exit 0; `check --strict` exits 2.
#[track_caller]
fn assert_warned(app: &App, needle: &str) -> String {
    let o = app.run(&[]);
    assert_code(&o, 0);
    let err = stderr(&o);
    assert!(
        err.lines()
            .any(|l| l.starts_with("WARN ") && l.contains(needle)),
        "stderr lacks a warning {needle:?}:\n{err}"
    );
    assert!(!err.contains("ERROR"), "{err}");
    let c = app.check();
    assert_code(&c, 0);
    assert!(stderr(&c).contains(needle), "{}", stderr(&c));
    strict_fails_with(app, needle);
    stdout(&o)
}

#[test]
fn missing_replacement_file_leaves_the_token_as_eventgen_does() {
    for (tag, kind, spec) in [
        ("bad-file", "file", "nothere.txt"),
        ("bad-mvfile", "mvfile", "nothere.csv:2"),
    ] {
        let a = App::new(
            tag,
            &format!(
                "[s.log]\noutputMode = stdout\nend = 1\n{}",
                token(0, "@@x", kind, spec)
            ),
        );
        a.sample("s.log", "value=@@x\n");
        let out = assert_warned(
            &a,
            "default/eventgen.conf:6: [s.log] token.0.replacement: replacement file \"nothere.",
        );
        assert_eq!(out, "value=@@x\n", "the token is left unreplaced");
        let err = stderr(&a.run(&[]));
        // Every path tried, absolute.
        for tried in ["/nothere.", "/samples/nothere.", "/default/nothere."] {
            assert!(err.contains(tried), "{tried}: {err}");
        }
        assert!(err.contains("left unreplaced, as in Eventgen"), "{err}");
    }
}

#[test]
fn regex_that_does_not_compile() {
    let a = app("bad-regex", &token(0, "(@@x", "static", "y"));
    assert_reported(
        &a,
        &format!("{AT}10: [bad.log] token.0.token: regex does not compile"),
    );
}

#[test]
fn zero_width_breakers() {
    for breaker in ["^", "(?=e)", "x*"] {
        let a = app("bad-breaker", &format!("breaker = {breaker}"));
        assert_reported(&a, &format!("{AT}10: [bad.log] breaker:"));
    }
    let a = app("bad-breaker-re", "breaker = [");
    assert_reported(&a, &format!("{AT}10: [bad.log] breaker:"));
}

#[test]
fn earliest_after_latest() {
    let a = app(
        "bad-window",
        "earliest = 2024-02-01T00:00:00\nlatest = 2024-01-01T00:00:00",
    );
    assert_reported(&a, &format!("{AT}10: [bad.log] earliest:"));
}

#[test]
fn count_with_an_inline_comment() {
    let a = app("bad-count", "count = 5 # five");
    assert_reported(
        &a,
        &format!(
            "{AT}10: [bad.log] count: expected an integer, got \"5 # five\" (inline # comments are not allowed"
        ),
    );
}

#[test]
fn bad_boolean_and_bad_timezone_are_warnings_and_a_bad_time_an_error() {
    // Eventgen: bool() of any other word is true; a timezone it cannot parse is skipped.
    let a = app("bad-bool", "randomizeEvents = maybe");
    assert_warned(
        &a,
        &format!("{AT}10: [bad.log] randomizeEvents: expected a boolean"),
    );
    let a = app("bad-tz", "timezone = nowhere");
    assert_warned(&a, &format!("{AT}10: [bad.log] timezone:"));
    let a = app("bad-time", "earliest = -1x");
    assert_reported(&a, &format!("{AT}10: [bad.log] earliest:"));
}

#[test]
fn unknown_output_mode() {
    let a = app("bad-output", "outputMode = carrierpigeon");
    // outputMode appears twice in the stanza; the later one (line 10) wins and is reported.
    assert_reported(&a, &format!("{AT}10: [bad.log] outputMode:"));
}

#[test]
fn booleans_accept_splunk_words() {
    for word in [
        "true", "FALSE", "1", "0", "yes", "No", "on", "OFF", "t", "F",
    ] {
        let a = app("bool-words", &format!("randomizeEvents = {word}"));
        let o = a.run(&[]);
        assert_code(&o, 0);
        assert_eq!(stdout(&o).lines().count(), 2, "{word}: {}", stderr(&o));
    }
}

#[test]
fn unknown_key_warns_with_the_closest_name_and_still_runs() {
    let a = app("unknown-key", "cuont = 5");
    let o = a.run(&[]);
    assert_code(&o, 0);
    let err = stderr(&o);
    assert!(
        err.contains(&format!("WARN ./{AT}10: [bad.log] cuont:")),
        "{err}"
    );
    assert!(err.contains("did you mean count?"), "{err}");
    assert_eq!(stdout(&o), "good event\nbad event\n");
    let c = a.check();
    assert_code(&c, 0);
    assert!(
        stdout(&c).contains("2 samples, 0 errors, 1 warnings"),
        "{}",
        stdout(&c)
    );
}

#[test]
fn missing_sample_file_and_csv_without_raw() {
    let a = App::new(
        "bad-samples",
        "[good.log]\noutputMode = stdout\ncount = 1\nend = 1\n\n[missing.log]\noutputMode = stdout\n\n[nocol.csv]\nsampletype = csv\noutputMode = stdout\n",
    );
    a.sample("good.log", "good event\n")
        .sample("nocol.csv", "x,_time\n1,2\n");
    assert_reported(&a, &format!("{AT}6: [missing.log]"));
    assert_reported(&a, &format!("{AT}9: [nocol.csv]"));
    assert!(stderr(&a.run(&[])).contains("_raw"));
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let bad = format!(
        "count = many\ninterval = soon\n{}",
        token(0, "@@x", "random", "integer[5]")
    );
    let a = app("bad-many", &bad);
    let err = stderr(&a.run(&[]));
    for needle in [
        "10: [bad.log] count:",
        "11: [bad.log] interval:",
        "14: [bad.log] token.0.replacement:",
    ] {
        assert!(err.contains(needle), "{needle}:\n{err}");
    }
}

#[test]
fn check_prints_one_line_per_sample() {
    let a = App::new(
        "check-lines",
        "[.*\\.log]\noutputMode = stdout\ncount = 3\ninterval = 5\n",
    );
    a.sample("a.log", "a\n").sample("b.log", "b\n");
    let c = a.check();
    assert_code(&c, 0);
    let out = stdout(&c);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        lines[..2]
            .iter()
            .any(|l| l.starts_with("a.log") && l.contains("count=3") && l.contains("interval=5s")),
        "{out}"
    );
    assert!(lines[..2].iter().any(|l| l.starts_with("b.log")), "{out}");
    assert_eq!(lines[2], "2 samples, 0 errors, 0 warnings");
}

#[test]
fn nothing_panics_on_odd_input() {
    let cases = [
        "count = 1\n[s.log]\n",
        "[s.log]\ntoken = x\ntoken.0.token = a\n",
        "[s.log]\ntoken.99.replacement = x\ntoken.x.token = y\n",
        "[s.log\ncount = 1\n",
        "[s.log]\nno delimiter here\n",
        "[]\n[s.log]\nend = 1\noutputMode = stdout\ncount = 1\n",
        "[s.log]\nend = 1\noutputMode = stdout\ncount = 99999999999999999999\n",
        "[s.log]\nend = 1\noutputMode = stdout\ninterval = -5\ncount = 1\n",
        "[(unclosed]\nend = 1\n",
        "\u{feff}[s.log]\nend = 1\noutputMode = stdout\ncount = 1\n\u{0}\u{7f}\n",
    ];
    for conf in cases {
        let a = App::new("odd", conf);
        a.sample("s.log", "x\n");
        // `-e 1`: without an end the virtual clock would run forever.
        for o in [a.run(&["-e", "1", "--devnull"]), a.check()] {
            assert!(
                matches!(o.status.code(), Some(0) | Some(2)),
                "{conf:?}: {:?}\n{}",
                o.status,
                stderr(&o)
            );
            assert!(!stderr(&o).contains("panicked"), "{conf:?}: {}", stderr(&o));
        }
    }
}

#[test]
fn unreadable_disabled_switch_is_an_error_and_the_stanza_does_not_run() {
    let a = App::new(
        "disabled-word",
        "[s.log]\noutputMode = stdout\nend = 1\ndisabled = maybe\n",
    );
    a.sample("s.log", "one\n");
    let o = a.run(&[]);
    assert_code(&o, 2);
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("default/eventgen.conf:4: [s.log] disabled: expected a boolean"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn unknown_generator_without_a_sample_file_names_the_generator() {
    let a = App::new("gen-name", "[x]\ngenerator = myplugin\n");
    a.sample("other.log", "one\n");
    let o = a.check();
    assert_code(&o, 2);
    let err = stderr(&o);
    assert!(
        err.contains("[x] generator: expected one of default"),
        "{err}"
    );
    assert!(err.contains("Python plugins cannot run here"), "{err}");
    assert!(!err.contains("no file in"), "{err}");
}

#[test]
fn output_paths_with_unset_variables_are_errors() {
    let a = App::new(
        "unset-var",
        "[s.log]\noutputMode = spool\nend = 1\nspoolDir = $EVENTGEN_TEST_SURELY_UNSET/spool\n",
    );
    a.sample("s.log", "one\n");
    let o = a.check();
    assert_code(&o, 2);
    assert!(
        stderr(&o).contains(
            "$EVENTGEN_TEST_SURELY_UNSET/spool uses an environment variable that is not set"
        ),
        "{}",
        stderr(&o)
    );
}

#[test]
fn timestamp_without_directives_is_ignored_with_a_warning() {
    let a = App::new(
        "literal-ts",
        "[s.log]\noutputMode = stdout\nend = 1\ntoken.0.token = ev\ntoken.0.replacementType = timestamp\ntoken.0.replacement = foo\n",
    );
    a.sample("s.log", "ev one\n");
    let o = a.run(&[]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "ev one\n");
    assert!(
        stderr(&o).contains("no strftime directive"),
        "{}",
        stderr(&o)
    );
}
