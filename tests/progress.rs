//! What a user sees around a run: each command's own help, the progress bar (only on a
//! terminal, only on stderr), `-v` stats lines and summary, and `check --chart`.

use std::process::Command;

use crate::support::*;

const SAMPLE: &str = "alpha 1\nbeta 22\ngamma 333\n";

fn app(tag: &str, extra: &str) -> App {
    let a = App::new(
        tag,
        &format!("[p.log]\ncount = 5\ninterval = 60\n{extra}\n"),
    );
    a.sample("p.log", SAMPLE);
    a
}

#[test]
fn generate_and_check_each_have_their_own_help() {
    let g = run(&["generate", "--help"]);
    assert_code(&g, 0);
    let g = stdout(&g);
    assert!(g.starts_with("eventgen generate:"), "{g}");
    assert!(g.contains("--backfill") && g.contains("--stats"), "{g}");
    let c = run(&["check", "-h"]);
    assert_code(&c, 0);
    let c = stdout(&c);
    assert!(c.starts_with("eventgen check:"), "{c}");
    assert!(c.contains("--chart"), "{c}");
    assert!(!c.contains("--backfill"), "{c}");
}

#[test]
fn verbose_summary_counts_per_sample_and_what_devnull_discarded() {
    let a = app("progress-summary", "");
    let o = a.run(&["-e", "4", "--devnull", "-v"]);
    assert_code(&o, 0);
    let err = stderr(&o);
    let sample_line = err
        .lines()
        .find(|l| l.starts_with("INFO sample p.log: "))
        .unwrap_or_else(|| panic!("no per-sample line:\n{err}"));
    // 4 intervals of 5 events: the sample's 3 lines, then 2 again.
    let bytes = (SAMPLE.len() + "alpha 1\nbeta 22\n".len()) * 4;
    assert_eq!(
        sample_line,
        format!("INFO sample p.log: 20 events, {bytes} bytes")
    );
    assert!(
        err.contains(&format!(
            "INFO devnull: 20 events, {bytes} bytes of event text discarded"
        )),
        "{err}"
    );
}

#[test]
fn modinput_output_is_labelled_modinput() {
    let a = app("progress-modinput", "");
    let o = a.run(&["-e", "1", "--output", "modinput", "-v"]);
    assert_code(&o, 0);
    let err = stderr(&o);
    assert!(err.contains("INFO modinput: 5 events, "), "{err}");
    assert!(!err.contains("INFO stdout:"), "{err}");
}

#[test]
fn verbose_prints_a_stats_line_every_few_seconds() {
    // Real clock: three intervals of one second, a stats line every second.
    let a = app("progress-stats", "");
    let o = a.raw(&[
        "generate",
        ".",
        "--seed",
        "1",
        "-i",
        "1",
        "-e",
        "3",
        "--devnull",
        "-v",
        "--stats",
        "1",
    ]);
    assert_code(&o, 0);
    let err = stderr(&o);
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("INFO progress: "))
        .collect();
    assert!(!lines.is_empty(), "no stats line:\n{err}");
    assert!(lines[0].contains(" events ("), "{}", lines[0]);
    assert!(lines[0].contains("events/s over the last"), "{}", lines[0]);
    // Not a terminal: no progress bar.
    assert!(!err.contains('\r') && !err.contains("ETA"), "{err}");
    // Without -v, nothing at all.
    let quiet = a.raw(&[
        "generate",
        ".",
        "-i",
        "1",
        "-e",
        "2",
        "--devnull",
        "--stats",
        "1",
    ]);
    assert_code(&quiet, 0);
    assert_eq!(stderr(&quiet), "");
}

/// util-linux's `script` gives a run a terminal; its output is what the terminal got. Prints
/// the SKIP line when it is missing.
fn script_available() -> bool {
    if Command::new("script").arg("--version").output().is_err() {
        crate::skip::skipped(
            "util-linux's `script` to provide a terminal",
            "install util-linux",
        );
        return false;
    }
    true
}

#[test]
fn progress_bar_only_on_a_terminal_and_never_on_stdout() {
    if !script_available() {
        return;
    }
    let a = app("progress-bar", "");
    let args = "generate . --now 2024-01-03T00:00:00Z --seed 1 -b -6h -e 1 -c 20 -i 1";
    let out = a.path().join("events.txt");
    let o = Command::new("script")
        .args(["-qec"])
        .arg(format!("{} {args} > {}", bin().display(), out.display()))
        .arg("/dev/null")
        .current_dir(a.path())
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert_code(&o, 0);
    let tty = stdout(&o);
    assert!(
        tty.contains(" events · "),
        "no progress bar on the terminal:\n{tty}"
    );
    assert!(tty.contains('%'), "{tty}");
    // The events file is exactly what a run without a terminal writes.
    let piped = a.raw(&args.split(' ').collect::<Vec<_>>());
    assert_code(&piped, 0);
    let events = std::fs::read(&out).unwrap();
    assert_eq!(events.len(), piped.stdout.len());
    assert!(
        events == piped.stdout,
        "stdout differs with a terminal on stderr"
    );
}

#[test]
fn check_chart_draws_the_rate_tables_over_a_day_and_a_week() {
    let a = app(
        "progress-chart",
        r#"hourOfDayRate = {"0":0,"1":0,"2":0,"3":0,"4":0,"5":0,"6":0.5,"7":1,"8":2,"9":2,"10":2,"11":2,"12":1.5,"13":2,"14":2,"15":2,"16":2,"17":1,"18":0.5,"19":0.5,"20":0.2,"21":0.2,"22":0,"23":0}
dayOfWeekRate = {"0":0,"6":0.5}
randomizeCount = 0.2"#,
    );
    let o = a.raw(&["check", ".", "--chart", "--now", "2024-01-01T10:00:00Z"]);
    assert_code(&o, 0);
    let text = stdout(&o);
    let has = |s: &str| assert!(text.contains(s), "no {s:?} in:\n{text}");
    has("[p.log] events per hour: count 5 every 60s");
    has("randomizeCount 0.2: each interval varies within ±10%");
    // Weekdays: 60 firings an hour of round(5 * rate) events.
    has("Mon 2024-01-01 (+00:00): 6360 events");
    let hour = |h: &str| -> String {
        text.lines()
            .find(|l| l.trim_start().starts_with(h))
            .unwrap_or_else(|| panic!("no {h} row:\n{text}"))
            .to_string()
    };
    assert!(hour("03:00").ends_with(" 0"), "{}", hour("03:00"));
    assert!(hour("08:00").ends_with(" 600"), "{}", hour("08:00"));
    assert!(hour("12:00").ends_with(" 480"), "{}", hour("12:00")); // round(7.5) = 8
    assert!(hour("20:00").ends_with(" 60"), "{}", hour("20:00"));
    // The busiest hour has the full bar, a quiet one a shorter bar, a zero hour none.
    let cells = |h: &str| hour(h).matches('█').count();
    assert_eq!(cells("08:00"), 40);
    assert!(cells("20:00") < cells("12:00") && cells("03:00") == 0);
    // The week: Saturday at half rate (halves round to even), Sunday nothing.
    has("Fri 01-05 |");
    let day = |d: &str| hour(d).rsplit(' ').next().unwrap().to_string();
    assert_eq!(day("Tue 01-02"), "6360");
    assert_eq!(day("Sat 01-06"), "3060");
    assert_eq!(day("Sun 01-07"), "0");
}

#[test]
fn no_progress_bar_when_stdout_is_the_same_terminal() {
    if !script_available() {
        return;
    }
    let app = App::new(
        "bar-same-tty",
        "[p.log]\noutputMode = stdout\ncount = 5\ninterval = 60\n",
    );
    app.sample("p.log", "EVENT_LINE\n");
    let args = "generate . --now 2024-01-03T00:00:00Z --seed 1 -b -6h -e 1";
    let o = Command::new("script")
        .args(["-qec"])
        .arg(format!("{} {args}", bin().display()))
        .arg("/dev/null")
        .current_dir(app.path())
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert_code(&o, 0);
    let tty = stdout(&o);
    assert!(tty.contains("EVENT_LINE"), "{tty}");
    assert!(
        !tty.contains(" events · ") && !tty.contains('%'),
        "a bar among the events:\n{tty}"
    );
}
