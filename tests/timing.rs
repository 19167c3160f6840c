//! Count and end arithmetic, intervals and backfill on the virtual clock, earliest/latest
//! windows across month ends and the leap day, command-line overrides and reproducibility.

use crate::support::*;
use chrono::NaiveDateTime;

/// Epoch microseconds of a `%Y-%m-%dT%H:%M:%S%.f` UTC timestamp.
fn micros(s: &str) -> i64 {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .unwrap_or_else(|e| panic!("{s:?}: {e}"))
        .and_utc()
        .timestamp_micros()
}

/// A sample `s.log` whose lines are `<line label> <timestamp>`; `extra` adds stanza keys.
fn timed_app(tag: &str, extra: &str) -> App {
    // outputMode once: a key given twice in a stanza is warned about.
    let output = if extra.contains("outputMode") {
        ""
    } else {
        "outputMode = stdout\n"
    };
    let conf = format!(
        "[s.log]\n{output}timezone = +0000\n{extra}\n{}",
        token(0, "@@t", "timestamp", "%Y-%m-%dT%H:%M:%S.%f")
    );
    let app = App::new(tag, &conf);
    app.sample("s.log", "a @@t\nb @@t\nc @@t\n");
    app
}

/// The (label, epoch µs) pairs of a `timed_app` run.
fn parse(out: &str) -> Vec<(String, i64)> {
    out.lines()
        .map(|l| {
            let (label, t) = l.split_once(' ').unwrap_or_else(|| panic!("{l:?}"));
            (label.to_string(), micros(t))
        })
        .collect()
}

#[test]
fn count_five_end_three_is_fifteen_events_repeating_from_the_top() {
    let app = timed_app(
        "count5",
        "count = 5\ninterval = 10\nend = 3\nearliest = -5s",
    );
    let evs = parse(&app.out(&[]));
    assert_eq!(evs.len(), 15);
    let first: Vec<&str> = evs[..5].iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(first, ["a", "b", "c", "a", "b"]);
    for (k, chunk) in evs.chunks(5).enumerate() {
        let latest = (NOW_EPOCH + 10 * k as i64) * 1_000_000;
        assert!(
            chunk
                .iter()
                .all(|(_, t)| (latest - 5_000_000..=latest).contains(t)),
            "{evs:?}"
        );
    }
}

#[test]
fn every_interval_starts_at_the_top_of_the_sample() {
    let app = timed_app("count-top", "count = 2\ninterval = 10\nend = 3");
    let labels: Vec<String> = parse(&app.out(&[])).into_iter().map(|(l, _)| l).collect();
    assert_eq!(labels, ["a", "b", "a", "b", "a", "b"]);
}

#[test]
fn count_minus_one_and_zero_mean_the_whole_sample() {
    for count in ["-1", "0"] {
        let app = timed_app("count-whole", &format!("count = {count}\nend = 2"));
        let labels: Vec<String> = parse(&app.out(&[])).into_iter().map(|(l, _)| l).collect();
        assert_eq!(labels, ["a", "b", "c", "a", "b", "c"], "count = {count}");
    }
    let app = timed_app("count-cli", "count = 2\nend = 1");
    assert_eq!(app.out(&["-c", "-1"]).lines().count(), 3);
    assert_eq!(app.out(&["-c", "0"]).lines().count(), 3);
    assert_eq!(app.out(&["-c", "7"]).lines().count(), 7);
}

#[test]
fn end_zero_generates_nothing() {
    let app = timed_app("end0", "count = 2\nend = 0");
    assert_eq!(app.out(&[]), "");
}

#[test]
fn intervals_follow_on_absolute_deadlines() {
    let app = timed_app(
        "interval",
        "count = 3\ninterval = 3600\nend = 4\nearliest = -10s\nlatest = now",
    );
    let evs = parse(&app.out(&[]));
    assert_eq!(evs.len(), 12);
    for (k, chunk) in evs.chunks(3).enumerate() {
        let latest = (NOW_EPOCH + 3600 * k as i64) * 1_000_000;
        for (_, t) in chunk {
            assert!(
                (latest - 10_000_000..=latest).contains(t),
                "interval {k}: {evs:?}"
            );
        }
        assert!(
            chunk.windows(2).all(|w| w[0].1 <= w[1].1),
            "time order within an interval: {chunk:?}"
        );
    }
}

#[test]
fn end_as_a_time_stops_there() {
    let app = timed_app("endtime", "count = 1\ninterval = 60\nearliest = now");
    let out = app.out(&["-e", "2024-02-29T00:02:30Z"]);
    let evs = parse(&out);
    // Intervals at 23:59:58, 00:00:58, 00:01:58; the next (00:02:58) is past the end.
    assert_eq!(evs.len(), 3, "{out}");
}

#[test]
fn backfill_slices_then_live_in_time_order() {
    let app = timed_app(
        "backfill",
        "count = 2\ninterval = 600\nbackfill = -1h\nend = 1",
    );
    let evs = parse(&app.out(&[]));
    // Six 10-minute slices of two events, then one live interval of two.
    assert_eq!(evs.len(), 14, "{evs:?}");
    let start = (NOW_EPOCH - 3600) * 1_000_000;
    let now = NOW_EPOCH * 1_000_000;
    for (i, (_, t)) in evs[..12].iter().enumerate() {
        let slice = start + (i as i64 / 2) * 600_000_000;
        assert!(
            (slice..=slice + 600_000_000).contains(t),
            "event {i} in slice {}: {evs:?}",
            i / 2
        );
    }
    assert!(
        evs.windows(2).all(|w| w[0].1 <= w[1].1),
        "non-decreasing: {evs:?}"
    );
    assert!(
        evs.iter().all(|(_, t)| (start..=now).contains(t)),
        "{evs:?}"
    );
    assert!(
        evs[12..].iter().all(|(_, t)| *t == now),
        "live window is [now, now]: {evs:?}"
    );
}

#[test]
fn backfill_from_the_command_line() {
    let app = timed_app("backfill-cli", "count = 1\ninterval = 60\nend = 1");
    let evs = parse(&app.out(&["-b", "-5m"]));
    assert_eq!(evs.len(), 6, "five slices and one live interval: {evs:?}");
    assert!(evs.windows(2).all(|w| w[0].1 <= w[1].1));
    assert!(evs[0].1 >= (NOW_EPOCH - 300) * 1_000_000);
}

/// Runs `timed_app` at `now` with the window `earliest`/`latest`; returns the timestamps.
fn window(tag: &str, now: &str, earliest: &str, latest: &str, extra: &str) -> Vec<String> {
    let app = timed_app(
        tag,
        &format!("count = 40\nend = 1\nearliest = {earliest}\nlatest = {latest}\n{extra}"),
    );
    let o = app.raw(&["generate", ".", "--now", now, "--seed", "3"]);
    assert_code(&o, 0);
    stdout(&o)
        .lines()
        .map(|l| l.split_once(' ').unwrap().1.to_string())
        .collect()
}

#[test]
fn yesterday_snapped_to_midnight_on_the_leap_day() {
    let ts = window("leap1", "2024-03-01T10:00:00Z", "-1d@d", "@d", "");
    assert_eq!(ts.len(), 40);
    assert!(ts.iter().all(|t| t.starts_with("2024-02-29T")), "{ts:?}");
    let ts = window("leap2", "2024-02-29T12:00:00Z", "-1d@d", "@d", "");
    assert!(ts.iter().all(|t| t.starts_with("2024-02-28T")), "{ts:?}");
}

#[test]
fn last_month_at_a_month_end() {
    let ts = window("monthend", "2024-03-31T12:00:00Z", "-1mon@mon", "@mon", "");
    assert!(ts.iter().all(|t| t.starts_with("2024-02-")), "{ts:?}");
    assert!(
        ts.iter().any(|t| t.starts_with("2024-02-2")),
        "spread over February: {ts:?}"
    );
    let ts = window("yearend", "2025-01-01T00:00:10Z", "-1d@d", "@d", "");
    assert!(ts.iter().all(|t| t.starts_with("2024-12-31T")), "{ts:?}");
    let ts = window("year", "2025-01-01T00:00:10Z", "-1y@y", "@y", "");
    assert!(ts.iter().all(|t| t.starts_with("2024-")), "{ts:?}");
}

#[test]
fn relative_offsets_and_week_snap() {
    // 2024-02-28 is a Wednesday; @w0 is the Sunday before, 2024-02-25.
    let ts = window("week", "2024-02-28T12:00:00Z", "@w0", "@w0+1h", "");
    assert!(ts.iter().all(|t| t.starts_with("2024-02-25T00:")), "{ts:?}");
    let ts = window("plus", "2024-02-28T23:30:00Z", "+1h", "+1h", "");
    assert!(
        ts.iter().all(|t| t.starts_with("2024-02-29T00:30:00")),
        "{ts:?}"
    );
}

#[test]
fn snapped_window_is_re_evaluated_every_interval() {
    let app = timed_app(
        "resnap",
        "count = 5\ninterval = 86400\nend = 3\nearliest = -1d@d\nlatest = @d",
    );
    let o = app.raw(&[
        "generate",
        ".",
        "--now",
        "2024-02-28T12:00:00Z",
        "--seed",
        "1",
    ]);
    assert_code(&o, 0);
    let days: Vec<String> = stdout(&o)
        .lines()
        .map(|l| l.split_once(' ').unwrap().1[..10].to_string())
        .collect();
    let expected: Vec<String> = ["2024-02-27", "2024-02-28", "2024-02-29"]
        .iter()
        .flat_map(|d| std::iter::repeat_n(d.to_string(), 5))
        .collect();
    assert_eq!(days, expected);
}

#[test]
fn absolute_window() {
    let ts = window("abs", NOW, "2023-12-31T23:59:59", "2024-01-01T00:00:01", "");
    assert!(
        ts.iter()
            .all(|t| t.as_str() >= "2023-12-31T23:59:59" && t.as_str() <= "2024-01-01T00:00:01"),
        "{ts:?}"
    );
    assert!(
        ts.iter().any(|t| t.starts_with("2023")) && ts.iter().any(|t| t.starts_with("2024")),
        "{ts:?}"
    );
}

#[test]
fn sample_flag_selects_one_sample() {
    let conf = "[a.log]\noutputMode = stdout\ncount = 2\nend = 1\n[b.log]\noutputMode = stdout\ncount = 2\nend = 1\n";
    let app = App::new("select", conf);
    app.sample("a.log", "from a\n").sample("b.log", "from b\n");
    assert_eq!(app.out(&["-s", "b.log"]), "from b\nfrom b\n");
    assert_eq!(app.out(&["-s", "a.log"]), "from a\nfrom a\n");
    let both = app.out(&[]);
    assert_eq!(both.lines().filter(|l| *l == "from a").count(), 2);
    assert_eq!(both.lines().filter(|l| *l == "from b").count(), 2);
}

#[test]
fn overrides_apply_without_sample_dir() {
    // No sampleDir in the stanza (the app's samples/ is used): Eventgen ignored -c/-i/-e/-b here.
    let app = timed_app(
        "overrides",
        "count = 1\ninterval = 60\nend = 1\noutputMode = modinput",
    );
    let out = app.out(&["-c", "2", "-i", "7", "-e", "3", "--output", "stdout"]);
    let evs = parse(&out);
    assert_eq!(evs.len(), 6, "{out}");
    for (k, chunk) in evs.chunks(2).enumerate() {
        let t = (NOW_EPOCH + 7 * k as i64) * 1_000_000;
        assert!(chunk.iter().all(|(_, x)| *x == t), "interval 7s: {evs:?}");
    }
    assert_eq!(app.out(&["--devnull"]), "");
    assert_eq!(app.out(&["--output", "devnull"]), "");
    let xml = app.xml(&["-c", "1"]);
    assert_eq!(xml.len(), 1);
}

#[test]
fn overrides_apply_to_a_plain_conf_with_sample_dir() {
    let d = TempDir::new("plainconf");
    d.write("data/s.log", "x\n");
    let conf = d.write(
        "my.conf",
        "[s.log]\nsampleDir = data\noutputMode = modinput\ncount = 1\nend = 1\n",
    );
    let o = run_in(
        d.path(),
        &[
            "generate",
            conf.to_str().unwrap(),
            "--now",
            NOW,
            "--seed",
            "1",
            "-c",
            "3",
            "-e",
            "2",
            "--output",
            "stdout",
        ],
    );
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "x\n".repeat(6));
}

#[test]
fn same_seed_and_clock_give_identical_bytes_with_one_and_two_generators() {
    let conf = format!(
        "[a.log]\noutputMode = stdout\ncount = 50\ninterval = 30\nend = 4\nearliest = -30s\nrandomizeEvents = true\n{}{}{}\
         [b.log]\noutputMode = stdout\ncount = 20\ninterval = 45\nend = 3\n{}",
        token(0, "@@t", "timestamp", "%Y-%m-%d %H:%M:%S.%f"),
        token(1, "@@ip", "random", "ipv4"),
        token(2, "@@w", "file", "words.txt"),
        token(0, "@@n", "random", "integer[0:100000]")
    );
    let app = App::new("determinism", &conf);
    app.sample("a.log", "1 @@t @@ip @@w\n2 @@t @@ip\n3 @@w\n")
        .sample("b.log", "b @@n\n")
        .sample("words.txt", "x\ny\nz\n");
    let one = app.out(&["--generators", "1"]);
    assert_eq!(one.lines().count(), 260);
    assert_eq!(one, app.out(&["--generators", "1"]));
    let two = app.out(&["--generators", "2"]);
    assert_eq!(two, app.out(&["--generators", "2"]));
    assert_eq!(one, two, "the worker count does not change the output");
    let other = app.raw(&["generate", ".", "--now", NOW, "--seed", "2"]);
    assert_ne!(stdout(&other), one, "another seed, other values");
}
