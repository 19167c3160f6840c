//! Hostile and unusual input on the newest surfaces, one test per class, through the binary:
//! the modular input's `shard` parameter, durations and counts that would overflow, conf files
//! with old Mac (CR), Windows (CRLF) and mixed line ends, `--metrics` addresses, and broken
//! UTF-16. Each bad value gives a located error or a warning naming what was changed, and
//! what is valid still runs.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::support::*;

const SAMPLE: &str = "alpha 1\nbeta 2\n";

// ---------------------------------------------------------------------------------------
// The modular input's `shard` parameter
// ---------------------------------------------------------------------------------------

/// `$SPLUNK_HOME` with one app whose sample `s.log` writes two events once.
fn splunk_home(tag: &str) -> TempDir {
    let home = TempDir::new(tag);
    home.write(
        "etc/apps/app_s/default/eventgen.conf",
        "[s.log]\ncount = 2\ninterval = 1\nend = 1\nearliest = now\nlatest = now\n",
    );
    home.write("etc/apps/app_s/samples/s.log", SAMPLE);
    std::fs::create_dir_all(home.path().join("var/log/splunk")).unwrap();
    home
}

/// One `<stanza>` with a verbosity and, when given, a `shard` parameter.
fn stanza(name: &str, shard: Option<&str>) -> String {
    let shard = shard.map_or(String::new(), |v| {
        format!("<param name=\"shard\">{v}</param>")
    });
    format!(
        "<stanza name=\"modinput_eventgen://{name}\"><param name=\"verbosity\">20</param>\
         {shard}</stanza>"
    )
}

/// Runs the modular input as splunkd does: no arguments, the `<input>` document on stdin,
/// a clean environment with only `SPLUNK_HOME`.
fn run_modinput(home: &TempDir, stanzas: &str) -> Output {
    let input = format!(
        "<input><server_host>sh</server_host><server_uri>https://127.0.0.1:8089</server_uri>\
         <session_key>sk-bad-input-session</session_key><checkpoint_dir></checkpoint_dir>\
         <configuration>{stanzas}</configuration></input>"
    );
    let mut child = Command::new(bin())
        .env_clear()
        .env("SPLUNK_HOME", home.path())
        .env("TZ", "UTC")
        .current_dir(home.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run eventgen");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    wait_output(child, Duration::from_secs(30))
}

fn eventgen_log(home: &TempDir) -> String {
    std::fs::read_to_string(home.path().join("var/log/splunk/eventgen.log")).unwrap_or_default()
}

fn events(o: &Output) -> usize {
    stdout(o).matches("<event").count()
}

#[test]
fn modinput_shard_empty_means_the_whole_volume_and_bad_values_say_why_in_both_logs() {
    // Empty (or spaces), and no shard at all: the whole volume.
    for shard in [Some(""), Some("  "), None] {
        let home = splunk_home("shard-empty");
        let o = run_modinput(&home, &stanza("whole", shard));
        assert_code(&o, 0);
        assert_eq!(
            events(&o),
            2,
            "shard {shard:?}:\n{}\n{}",
            stdout(&o),
            stderr(&o)
        );
        assert!(!stderr(&o).contains("ERROR"), "{}", stderr(&o));
    }
    // Bad values, each as the only stanza: nothing runs, and the stanza, the value and what
    // is allowed reach splunkd.log (stderr) and eventgen.log.
    for (bad, why) in [
        ("1/1", "shard 1 does not exist among 1"),
        ("abc", "expected K/N"),
        ("auto", "JOB_COMPLETION_INDEX is not set"),
        ("0/0", "N must be at least 1"),
        ("-1/2", "K must be a whole number"),
        ("2/2", "shard 2 does not exist among 2"),
        ("1/x", "N must be a whole number"),
    ] {
        let home = splunk_home("shard-bad");
        let o = run_modinput(&home, &stanza("lonely", Some(bad)));
        assert_code(&o, 0);
        assert_eq!(events(&o), 0, "{bad}: {}", stdout(&o));
        let err = stderr(&o);
        let log = eventgen_log(&home);
        for (what, text) in [("stderr", &err), ("eventgen.log", &log)] {
            let line = text
                .lines()
                .find(|l| l.contains("discarding invalid input stanza modinput_eventgen://lonely"))
                .unwrap_or_else(|| panic!("{bad}: no reason in {what}:\n{text}"));
            assert!(line.contains("ERROR"), "{line}");
            assert!(line.contains(bad), "{bad}: the value is not named: {line}");
            assert!(line.contains(why), "{bad}: {line}");
            assert!(
                line.contains("allowed: empty for the whole volume, K/N"),
                "{bad}: {line}"
            );
            assert!(
                text.contains("no valid modinput_eventgen stanza"),
                "{what}:\n{text}"
            );
        }
    }
    // A bad stanza beside a good one: the good one runs, the bad one is reported.
    let home = splunk_home("shard-mixed");
    let o = run_modinput(
        &home,
        &format!(
            "{}{}",
            stanza("bad", Some("3/2")),
            stanza("good", Some("0/1"))
        ),
    );
    assert_code(&o, 0);
    assert_eq!(events(&o), 2, "{}", stderr(&o));
    for text in [stderr(&o), eventgen_log(&home)] {
        assert!(
            text.contains("discarding invalid input stanza modinput_eventgen://bad: ")
                && text.contains("3/2"),
            "{text}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Durations and counts
// ---------------------------------------------------------------------------------------

/// A conf of one good stanza (`good.log`) and one stanza per bad setting, each on its own
/// sample file so that one bad stanza cannot hide another.
const BAD_TIMING: &[(&str, &str, &str)] = &[
    (
        "interval",
        "10000000000000",
        "longer than the longest duration",
    ),
    ("delay", "1e13", "longer than the longest duration"),
    ("count", "10000000000000", "more than the largest count"),
    (
        "earliest",
        "-9999999999y",
        "times must fall in the years 1 to 9999",
    ),
    (
        "latest",
        "+99999999d",
        "times must fall in the years 1 to 9999",
    ),
    (
        "backfill",
        "-99999999y",
        "times must fall in the years 1 to 9999",
    ),
    ("end", "+9000y", "times must fall in the years 1 to 9999"),
    ("timeMultiple", "1e9", "more than the largest"),
];

fn timing_app(tag: &str) -> App {
    let mut conf = String::from(
        "[global]\noutputMode = stdout\nearliest = now\nlatest = now\n\n\
         [good.log]\ncount = 2\nend = 1\n\n",
    );
    for (key, value, _) in BAD_TIMING {
        conf.push_str(&format!(
            "[{key}.log]\ncount = 1\nend = 1\n{key} = {value}\n\n"
        ));
    }
    let a = App::new(tag, &conf);
    a.sample("good.log", SAMPLE);
    for (key, _, _) in BAD_TIMING {
        a.sample(&format!("{key}.log"), "x\n");
    }
    a
}

/// The line of `conf` (from 1) where `needle` is written.
fn line_of(conf: &Path, needle: &str) -> usize {
    std::fs::read_to_string(conf)
        .unwrap()
        .lines()
        .position(|l| l == needle)
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("{needle} not in {}", conf.display()))
}

#[test]
fn durations_and_counts_out_of_range_are_located_errors_and_the_rest_runs() {
    let a = timing_app("timing-range");
    let conf = a.path().join("default/eventgen.conf");
    for o in [a.check(), a.run(&[])] {
        assert_code(&o, 2);
        let err = stderr(&o);
        for (key, value, why) in BAD_TIMING {
            let at = format!(
                "default/eventgen.conf:{}: [{key}.log] {key}: ",
                line_of(&conf, &format!("{key} = {value}"))
            );
            assert!(
                err.lines()
                    .any(|l| l.starts_with("ERROR ") && l.contains(&at) && l.contains(why)),
                "no located error {at}… {why}:\n{err}"
            );
        }
        assert!(!err.contains("panicked"), "{err}");
    }
    // `check` prints no wrapped or saturated figure for what it kept.
    let out = stdout(&a.check());
    assert!(out.contains("good.log"), "{out}");
    assert!(!out.contains("-8446744073709"), "{out}");
    // The good sample still generates.
    let o = a.run(&[]);
    assert_eq!(stdout(&o), "alpha 1\nbeta 2\n", "{}", stderr(&o));
}

#[test]
fn flags_out_of_range_stop_at_argument_checking() {
    let a = App::new("timing-flags", "[s.log]\noutputMode = stdout\nend = 1\n");
    a.sample("s.log", SAMPLE);
    for (args, needle) in [
        (
            &["-i", "10000000000000"][..],
            "--interval 10000000000000 s is longer",
        ),
        (
            &["-c", "10000000000000"],
            "--count 10000000000000 is more than the largest count",
        ),
        (&["-c", "-5"], "--count must be -1, 0 or positive"),
        (
            &["-b", "-99999999y"],
            "--backfill \"-99999999y\" resolves to the year",
        ),
        (
            &["-e", "+99999999d"],
            "--end \"+99999999d\" resolves to the year",
        ),
        (
            &["--generators", "100000"],
            "--generators must be from 1 to 1024",
        ),
        (
            &["--stats", "99999999999999", "-v"],
            "--stats 99999999999999 s is longer",
        ),
    ] {
        for cmd in ["generate", "check"] {
            let mut full = vec![cmd, "."];
            full.extend_from_slice(args);
            let o = a.raw(&full);
            assert_code(&o, 2);
            let err = stderr(&o);
            assert!(
                err.starts_with("ERROR ") && err.contains(needle),
                "{args:?}: {err}"
            );
            assert!(
                err.contains(&format!("(see eventgen {cmd} --help)")),
                "{err}"
            );
            assert!(o.stdout.is_empty(), "{args:?}: {}", stdout(&o));
        }
    }
}

#[test]
fn the_longest_interval_fires_once_and_huge_ends_do_not_overflow() {
    // 8,000 years: the second firing would be after 9999, so the sample ends after one,
    // whatever `end` says, even on the virtual clock that never waits.
    for end in ["3", "10000000000000", "-1"] {
        let a = App::new(
            "timing-longest",
            &format!(
                "[s.log]\noutputMode = stdout\ncount = 1\ninterval = 253402300799\nend = {end}\n\
                 earliest = now\nlatest = now\n"
            ),
        );
        a.sample("s.log", SAMPLE);
        let o = a.run(&["-v"]);
        assert_code(&o, 0);
        assert_eq!(stdout(&o), "alpha 1\n", "end {end}: {}", stderr(&o));
    }
}

#[test]
fn the_chart_never_shows_saturated_or_infinite_figures() {
    let a = App::new(
        "chart-huge",
        "[global]\noutputMode = stdout\n\n\
         [rc.log]\ncount = 10\nrandomizeCount = 1e308\n\n\
         [hour.log]\ncount = 1000000000000\nhourOfDayRate = {\"0\": 1e300, \"1\": 1e300}\n\
         dayOfWeekRate = {\"0\": 1e300, \"1\": 1e300, \"2\": 1e300, \"3\": 1e300, \"4\": 1e300, \"5\": 1e300, \"6\": 1e300}\n\n\
         [pdv.log]\ninterval = 3600\nperDayVolume = 1e300\n",
    );
    for f in ["rc.log", "hour.log", "pdv.log"] {
        a.sample(f, SAMPLE);
    }
    let o = a.raw(&["check", ".", "--chart", "--now", NOW]);
    assert_code(&o, 0);
    let out = stdout(&o);
    for bad in ["9223372036854775807", "18446744073709551615", "inf", "NaN"] {
        assert!(!out.contains(bad), "{bad} in:\n{out}");
    }
    // What the caps make of them is said.
    assert!(
        out.contains("randomizeCount 1.000e308: each interval varies between 0 and"),
        "{out}"
    );
    let err = stderr(&o);
    assert!(
        err.lines().any(|l| l.starts_with("WARN ")
            && l.contains("[hour.log] hourOfDayRate:")
            && l.contains("each interval is capped at 1000000000000 events")),
        "{err}"
    );
    // The capped hour: 1e12 events per firing, one firing a minute... shown in full or in
    // scientific notation, never saturated.
    assert!(out.contains("[hour.log] events per hour"), "{out}");
}

// ---------------------------------------------------------------------------------------
// Line ends of conf files
// ---------------------------------------------------------------------------------------

#[test]
fn conf_files_with_cr_crlf_and_mixed_line_ends_keep_every_setting() {
    let lines = [
        "# a comment",
        "[global]",
        "outputMode = stdout",
        "",
        "[s.log]",
        "count = 3",
        "end = 1",
        "token.0.token = alpha",
        "token.0.replacementType = static",
        "token.0.replacement = ALPHA",
    ];
    // (name, line ends, first line ended by a lone CR)
    let cases: [(&str, Vec<&str>, Option<usize>); 4] = [
        ("cr", vec!["\r"; lines.len()], Some(1)),
        ("crlf", vec!["\r\n"; lines.len()], None),
        (
            "mixed",
            vec![
                "\n", "\r\n", "\n", "\r\n", "\r\n", "\r", "\n", "\r\n", "\r", "\n",
            ],
            Some(6),
        ),
        (
            "cr-no-last-end",
            {
                let mut v = vec!["\r"; lines.len()];
                v[lines.len() - 1] = "";
                v
            },
            Some(1),
        ),
    ];
    for (name, ends, first_cr) in cases {
        let conf: String = lines
            .iter()
            .zip(&ends)
            .map(|(l, e)| format!("{l}{e}"))
            .collect();
        let a = App::new(&format!("eol-{name}"), &conf);
        a.sample("s.log", "alpha 1\nbeta 2\ngamma 3\n");
        // A local layer with old Mac line ends changes one setting of the default layer.
        if name == "mixed" {
            a.local("[s.log]\rcount = 2\r");
        }
        let o = a.run(&[]);
        let want = if name == "mixed" {
            "ALPHA 1\nbeta 2\n"
        } else {
            "ALPHA 1\nbeta 2\ngamma 3\n"
        };
        assert_eq!(stdout(&o), want, "{name}: {}", stderr(&o));
        let err = stderr(&o);
        match first_cr {
            Some(line) => {
                let at = format!("default/eventgen.conf:{line}: ");
                assert!(
                    err.lines().any(|l| l.starts_with("WARN ")
                        && l.contains(&at)
                        && l.contains("lone CR")),
                    "{name}: no warning at {at}\n{err}"
                );
                assert_code(&o, 0);
            }
            None => {
                assert_code(&o, 0);
                assert!(err.is_empty(), "{name}: {err}");
            }
        }
        if name == "mixed" {
            assert!(
                err.contains("local/eventgen.conf:1: ") && err.contains("lone CR"),
                "{err}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// --metrics addresses
// ---------------------------------------------------------------------------------------

#[test]
fn malformed_metrics_addresses_exit_2_at_argument_checking() {
    let a = App::new(
        "metrics-bad",
        "[s.log]\noutputMode = stdout\ncount = 1\nend = 1\n",
    );
    a.sample("s.log", SAMPLE);
    for (addr, why) in [
        ("abc", "no port"),
        ("127.0.0.1:99999", "out of range"),
        ("", "empty"),
        ("http://127.0.0.1:9108/metrics", "URL"),
        ("127.0.0.1:9108/metrics", "URL"),
        ("::1:9108", "brackets"),
        (":x", "not a number"),
        ("under_score:9108", "neither an IP address nor a host name"),
    ] {
        for cmd in ["generate", "check"] {
            let o = a.raw(&[cmd, ".", "--metrics", addr]);
            assert_code(&o, 2);
            let err = stderr(&o);
            assert!(
                err.starts_with("ERROR --metrics expects") && err.contains(why),
                "{addr:?}: {err}"
            );
            assert!(
                err.contains(&format!("(see eventgen {cmd} --help)")),
                "{err}"
            );
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(o.stdout.is_empty(), "{addr:?}: {}", stdout(&o));
        }
    }
}

#[test]
fn a_metrics_port_alone_listens_on_loopback_only() {
    let a = App::new(
        "metrics-loopback",
        "[s.log]\noutputMode = stdout\ncount = 1\nend = 1\n",
    );
    a.sample("s.log", SAMPLE);
    for addr in ["0", ":0"] {
        let o = a.run(&["-v", "--metrics", addr]);
        assert_code(&o, 0);
        let err = stderr(&o);
        let line = err
            .lines()
            .find(|l| l.starts_with("INFO serving metrics on http://"))
            .unwrap_or_else(|| panic!("{addr}: {err}"));
        assert!(
            line.starts_with("INFO serving metrics on http://127.0.0.1:"),
            "{addr}: {line}"
        );
    }
    // Named addresses are kept as given.
    let o = a.run(&["-v", "--metrics", "0.0.0.0:0"]);
    assert_code(&o, 0);
    assert!(
        stderr(&o).contains("INFO serving metrics on http://0.0.0.0:"),
        "{}",
        stderr(&o)
    );
}

// ---------------------------------------------------------------------------------------
// Broken UTF-16
// ---------------------------------------------------------------------------------------

fn utf16le(text: &str) -> Vec<u8> {
    let mut v = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        v.extend(u.to_le_bytes());
    }
    v
}

#[test]
fn utf16_repairs_are_warned_for_confs_samples_and_replacement_files() {
    let a = App::new("utf16", "");
    // The conf: a lone surrogate in a comment on line 2 and an odd trailing byte.
    let mut conf = utf16le("[s.log]\n# note ");
    conf.extend(0xD800u16.to_le_bytes());
    conf.extend(&utf16le("\noutputMode = stdout\nend = 1\ntoken.0.token = @@w\ntoken.0.replacementType = file\ntoken.0.replacement = words.txt\n")[2..]);
    conf.push(b'\n');
    std::fs::write(a.path().join("default/eventgen.conf"), &conf).unwrap();
    // The sample: an unpaired low surrogate on line 2.
    let mut sample = utf16le("one @@w\ntwo ");
    sample.extend(0xDC00u16.to_le_bytes());
    sample.extend(&utf16le(" @@w\n")[2..]);
    std::fs::write(a.dir.write("samples/s.log", ""), &sample).unwrap();
    // The replacement file: an odd trailing byte.
    let mut words = utf16le("W\n");
    words.push(b'Z');
    std::fs::write(a.path().join("words.txt"), &words).unwrap();
    std::fs::write(a.path().join("samples/words.txt"), &words).unwrap();
    let o = a.run(&[]);
    let err = stderr(&o);
    assert_eq!(stdout(&o), "one W\ntwo \u{FFFD} W\n", "{err}");
    for (file, what) in [
        (
            "default/eventgen.conf",
            "1 unpaired UTF-16 surrogates (first on line 2)",
        ),
        ("default/eventgen.conf", "odd trailing byte 0x0A"),
        ("s.log", "1 unpaired UTF-16 surrogates (first on line 2)"),
        ("words.txt", "odd trailing byte 0x5A"),
    ] {
        assert!(
            err.lines()
                .any(|l| l.starts_with("WARN ") && l.contains(file) && l.contains(what)),
            "no warning for {file}: {what}\n{err}"
        );
    }
}
