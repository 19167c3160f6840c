//! `mode = replay`: pacing on the virtual clock (`--now`), passes, backfill, CSV samples with
//! `timeField` and `timezone`, unreadable and unsorted samples, the real-time clock, and
//! resuming a pass from the state folder.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

const NOW: &str = "2024-01-01T00:00:00Z";

/// Five events with irregular gaps (1.5 s, 2.75 s, 0 s, 6.75 s), sub-second times included.
const IRREGULAR: &str = "\
2023-05-01 10:00:00.000 ev1 login
2023-05-01 10:00:01.500 ev2 click
2023-05-01 10:00:04.250 ev3 view
2023-05-01 10:00:04.250 ev4 view
2023-05-01 10:00:11.000 ev5 logout
";

/// Offsets of `IRREGULAR` from its first event, in milliseconds.
const IRREGULAR_OFFSETS: [i64; 5] = [0, 1500, 4250, 4250, 11000];

/// A replay stanza for `r.log` reading and rendering `%Y-%m-%d %H:%M:%S.%f`, with `extra`
/// settings appended.
fn replay_conf(extra: &str) -> String {
    format!(
        "[r.log]\nmode = replay\noutputMode = modinput\ntimezone = +0000\n{extra}\
         token.0.token = \\d{{4}}-\\d{{2}}-\\d{{2}} \\d{{2}}:\\d{{2}}:\\d{{2}}\\.\\d+\n\
         token.0.replacementType = replaytimestamp\n\
         token.0.replacement = %Y-%m-%d %H:%M:%S.%f\n"
    )
}

fn app(tag: &str, sample: &str, conf: &str) -> TempDir {
    let d = TempDir::new(tag);
    d.write("samples/r.log", sample);
    d.write("default/eventgen.conf", conf);
    d
}

/// Runs the app's conf on the virtual clock and returns its events.
fn replay_events(d: &TempDir, now: &str, extra: &[&str]) -> Vec<XmlEvent> {
    let o = generate_at(d, "default/eventgen.conf", now, extra);
    assert_code(&o, 0);
    modinput_events(&stdout(&o))
}

/// `ms` since the epoch as `%Y-%m-%d %H:%M:%S.%f` at the UTC offset `offset_secs`.
fn fmt_ms(ms: i64, offset_secs: i32, fmt: &str) -> String {
    let off = chrono::FixedOffset::east_opt(offset_secs).unwrap();
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .with_timezone(&off)
        .format(fmt)
        .to_string()
}

/// Asserts that each event's text starts with its own `<time>` rendered in `fmt` (UTC).
#[track_caller]
fn assert_text_matches_time(events: &[XmlEvent], fmt: &str) {
    for e in events {
        let want = fmt_ms(e.time_ms(), 0, fmt);
        assert!(
            e.data.starts_with(&want),
            "event text {:?} does not start with its send time {want:?} (<time> {})",
            e.data,
            e.time
        );
    }
}

fn times(events: &[XmlEvent]) -> Vec<i64> {
    events.iter().map(XmlEvent::time_ms).collect()
}

fn words(events: &[XmlEvent], n: usize) -> Vec<String> {
    events
        .iter()
        .map(|e| e.data.split_whitespace().nth(n).unwrap_or("").to_string())
        .collect()
}

#[test]
fn pacing_follows_the_original_gaps_exactly() {
    for (tm, scale) in [("1", 1.0), ("0.5", 0.5), ("2", 2.0)] {
        let d = app(
            "replay-pacing",
            IRREGULAR,
            &replay_conf(&format!("timeMultiple = {tm}\n")),
        );
        let ev = replay_events(&d, NOW, &[]);
        let now = epoch_ms(NOW);
        let want: Vec<i64> = IRREGULAR_OFFSETS
            .iter()
            .map(|&o| now + (o as f64 * scale) as i64)
            .collect();
        assert_eq!(times(&ev), want, "timeMultiple = {tm}");
        assert_eq!(
            words(&ev, 2),
            ["ev1", "ev2", "ev3", "ev4", "ev5"],
            "timeMultiple = {tm}"
        );
        // The replaytimestamp text is the send time, to the microsecond.
        assert_text_matches_time(&ev, "%Y-%m-%d %H:%M:%S%.6f");
        assert!(ev.iter().all(|e| e.source == "r.log" && e.index == "main"));
    }
}

#[test]
fn pacing_keeps_sub_millisecond_precision_in_the_text() {
    // timeMultiple 0.5 halves 1.5 s and 2.75 s: 0.75 s and 2.125 s, written as %f.
    let d = app(
        "replay-frac",
        IRREGULAR,
        &replay_conf("timeMultiple = 0.5\n"),
    );
    let ev = replay_events(&d, NOW, &[]);
    let text: Vec<&str> = ev.iter().map(|e| &e.data[..26]).collect();
    assert_eq!(
        text,
        [
            "2024-01-01 00:00:00.000000",
            "2024-01-01 00:00:00.750000",
            "2024-01-01 00:00:02.125000",
            "2024-01-01 00:00:02.125000",
            "2024-01-01 00:00:05.500000",
        ]
    );
}

#[test]
fn passes_repeat_after_interval_until_end() {
    let d = app(
        "replay-passes",
        IRREGULAR,
        &replay_conf("end = 3\ninterval = 5\n"),
    );
    let ev = replay_events(&d, NOW, &[]);
    let now = epoch_ms(NOW);
    // A pass lasts 11 s; the next one starts `interval` after its last event.
    let want: Vec<i64> = [0, 16_000, 32_000]
        .iter()
        .flat_map(|p| IRREGULAR_OFFSETS.iter().map(move |o| now + p + o))
        .collect();
    assert_eq!(times(&ev), want);
    assert_text_matches_time(&ev, "%Y-%m-%d %H:%M:%S%.6f");
}

#[test]
fn replay_without_end_is_one_pass() {
    let d = app("replay-onepass", IRREGULAR, &replay_conf("interval = 0\n"));
    let ev = replay_events(&d, NOW, &[]);
    assert_eq!(ev.len(), 5);
}

#[test]
fn timestamp_tokens_in_replay_follow_each_event() {
    // Eventgen freezes a `timestamp` token at its first value in replay (issues #140, #348).
    let conf = replay_conf("").replace(
        "token.0.replacementType = replaytimestamp",
        "token.0.replacementType = timestamp",
    );
    let d = app("replay-tstoken", IRREGULAR, &conf);
    let ev = replay_events(&d, NOW, &[]);
    let now = epoch_ms(NOW);
    let want: Vec<i64> = IRREGULAR_OFFSETS.iter().map(|o| now + o).collect();
    assert_eq!(times(&ev), want);
    assert_text_matches_time(&ev, "%Y-%m-%d %H:%M:%S%.6f");
}

#[test]
fn replaytimestamp_format_list_renders_with_the_format_that_matched() {
    let sample = "\
2023-05-01 10:00:00|a
01/May/2023:10:00:03|b
2023-05-01 10:00:04|c
";
    let conf = "[r.log]\nmode = replay\noutputMode = modinput\ntimezone = +0000\n\
        token.0.token = ^[^|]+\n\
        token.0.replacementType = replaytimestamp\n\
        token.0.replacement = [\"%Y-%m-%d %H:%M:%S\", \"%d/%b/%Y:%H:%M:%S\"]\n";
    let d = app("replay-fmtlist", sample, conf);
    let ev = replay_events(&d, NOW, &[]);
    let now = epoch_ms(NOW);
    assert_eq!(times(&ev), [now, now + 3000, now + 4000]);
    let data: Vec<&str> = ev.iter().map(|e| e.data.trim_end()).collect();
    assert_eq!(
        data,
        [
            "2024-01-01 00:00:00|a",
            "01/Jan/2024:00:00:03|b",
            "2024-01-01 00:00:04|c"
        ]
    );
}

#[test]
fn year_less_times_are_read_in_the_virtual_clock_year() {
    // Under --now 2024, "May 01 10:00:03" is 2024-05-01, three seconds after event a.
    let sample = "\
2024-05-01 10:00:00|a
May 01 10:00:03|b
2024-05-01 10:00:04|c
";
    let conf = "[r.log]\nmode = replay\noutputMode = modinput\ntimezone = +0000\n\
        token.0.token = ^[^|]+\n\
        token.0.replacementType = replaytimestamp\n\
        token.0.replacement = [\"%Y-%m-%d %H:%M:%S\", \"%b %d %H:%M:%S\"]\n";
    let d = app("replay-yearless", sample, conf);
    let o = generate_at(&d, "default/eventgen.conf", NOW, &[]);
    assert_code(&o, 0);
    assert!(!stderr(&o).contains("WARN"), "{}", stderr(&o));
    let ev = modinput_events(&stdout(&o));
    let now = epoch_ms(NOW);
    assert_eq!(times(&ev), [now, now + 3000, now + 4000]);
    assert_eq!(ev[1].data, "Jan 01 00:00:03|b\n");
}

#[test]
fn epoch_milliseconds_and_year_less_times_are_read() {
    let d = TempDir::new("replay-epochs");
    d.write(
        "samples/ms.log",
        "1682935200000 a\n1682935200250 b\n1682935203000 c\n",
    );
    d.write("samples/yl.log", "May  1 10:00:00 a\nMay  1 10:00:02 b\n");
    d.write(
        "default/eventgen.conf",
        "[ms.log]\nmode = replay\noutputMode = modinput\ntimezone = +0000\n\
         token.0.token = ^\\d+\ntoken.0.replacementType = replaytimestamp\ntoken.0.replacement = %s\n\
         [yl.log]\nmode = replay\noutputMode = modinput\ntimezone = +0000\n\
         token.0.token = ^\\w{3}\\s+\\d{1,2} \\d{2}:\\d{2}:\\d{2}\n\
         token.0.replacementType = replaytimestamp\ntoken.0.replacement = %b %d %H:%M:%S\n",
    );
    let now = epoch_ms(NOW);
    let ms = replay_events(&d, NOW, &["--sample", "ms.log"]);
    assert_eq!(times(&ms), [now, now + 250, now + 3000]);
    assert_eq!(ms[0].data, "1704067200 a\n");
    let yl = replay_events(&d, NOW, &["--sample", "yl.log"]);
    assert_eq!(times(&yl), [now, now + 2000]);
    assert_eq!(yl[1].data, "Jan 01 00:00:02 b\n");
}

#[test]
fn backfill_then_live_is_in_time_order_and_inside_the_window() {
    let d = app(
        "replay-backfill",
        IRREGULAR,
        &replay_conf("backfill = -30s\nend = 2\ninterval = 5\n"),
    );
    let ev = replay_events(&d, NOW, &[]);
    let now = epoch_ms(NOW);
    let t = times(&ev);
    assert!(
        t.windows(2).all(|w| w[0] <= w[1]),
        "times go backwards: {t:?}"
    );
    let (past, live): (Vec<&XmlEvent>, Vec<&XmlEvent>) = ev.iter().partition(|e| e.time_ms() < now);
    assert!(!past.is_empty(), "no backfill");
    assert!(
        past.iter().all(|e| e.time_ms() >= now - 30_000),
        "backfill outside [now-30s, now): {t:?}"
    );
    // Walking backwards from the live start: ev5 one `interval` before now, then the
    // original gaps, cyclically, until the window's start (ev2 would land at now-30.5 s).
    let want_past: Vec<(i64, &str)> = vec![
        (-27_750, "ev3"),
        (-27_750, "ev4"),
        (-21_000, "ev5"),
        (-16_000, "ev1"),
        (-14_500, "ev2"),
        (-11_750, "ev3"),
        (-11_750, "ev4"),
        (-5_000, "ev5"),
    ];
    let got_past: Vec<(i64, String)> = past
        .iter()
        .map(|e| {
            (
                e.time_ms() - now,
                e.data.split_whitespace().nth(2).unwrap().to_string(),
            )
        })
        .collect();
    let got_past: Vec<(i64, &str)> = got_past.iter().map(|(t, w)| (*t, w.as_str())).collect();
    assert_eq!(got_past, want_past);
    // Live: two full passes starting exactly at now, with no gap after the backfill.
    let live_t: Vec<i64> = live.iter().map(|e| e.time_ms() - now).collect();
    assert_eq!(
        live_t,
        [
            0, 1500, 4250, 4250, 11000, 16000, 17500, 20250, 20250, 27000
        ]
    );
    assert_text_matches_time(&ev, "%Y-%m-%d %H:%M:%S%.6f");
}

#[test]
fn csv_replay_reads_time_field_in_the_sample_timezone() {
    let d = TempDir::new("replay-csv");
    d.write(
        "samples/c.csv",
        "_time,_raw,index,host,source,sourcetype\n\
         2023-05-01T10:00:00,\"2023-05-01T10:00:00 INFO first\",idx_a,h1,src1,st1\n\
         2023-05-01T10:00:02,\"2023-05-01T10:00:02 INFO second\",idx_b,h2,src2,st2\n\
         2023-05-01T10:00:07,\"2023-05-01T10:00:07 INFO third\",idx_a,h1,src1,st1\n",
    );
    d.write(
        "default/eventgen.conf",
        "[c.csv]\nmode = replay\nsampletype = csv\ntimeField = _time\ntimezone = -0100\n\
         outputMode = modinput\n\
         token.0.token = \\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\n\
         token.0.replacementType = replaytimestamp\n\
         token.0.replacement = %Y-%m-%dT%H:%M:%S\n",
    );
    let ev = replay_events(&d, NOW, &[]);
    let now = epoch_ms(NOW);
    // <time> is the true epoch of the send time; the text is that instant at -01:00.
    assert_eq!(times(&ev), [now, now + 2000, now + 7000]);
    for e in &ev {
        let local = fmt_ms(e.time_ms(), -3600, "%Y-%m-%dT%H:%M:%S");
        assert!(e.data.starts_with(&local), "{e:?} vs {local}");
    }
    assert_eq!(ev[0].data, "2023-12-31T23:00:00 INFO first\n");
    let meta: Vec<(&str, &str, &str, &str)> = ev
        .iter()
        .map(|e| {
            (
                e.index.as_str(),
                e.host.as_str(),
                e.source.as_str(),
                e.sourcetype.as_str(),
            )
        })
        .collect();
    assert_eq!(
        meta,
        [
            ("idx_a", "h1", "src1", "st1"),
            ("idx_b", "h2", "src2", "st2"),
            ("idx_a", "h1", "src1", "st1")
        ]
    );
}

#[test]
fn csv_time_field_with_epoch_seconds_paces_by_that_column() {
    // The _raw text has no seconds at all; the gaps come from the _time column only.
    let d = TempDir::new("replay-csv-epoch");
    d.write(
        "samples/c.csv",
        "_time,_raw,index,host,source,sourcetype\n\
         1682935200.25,\"May 01 10:00 INFO first\",main,h1,s,st\n\
         1682935203.75,\"May 01 10:00 INFO second\",main,h1,s,st\n",
    );
    d.write(
        "default/eventgen.conf",
        "[c.csv]\nmode = replay\nsampletype = csv\ntimeField = _time\ntimezone = -0100\n\
         outputMode = modinput\n\
         token.0.token = \\w{3} \\d{2} \\d{2}:\\d{2}\n\
         token.0.replacementType = replaytimestamp\n\
         token.0.replacement = %b %d %H:%M:%S\n",
    );
    let ev = replay_events(&d, NOW, &[]);
    let now = epoch_ms(NOW);
    assert_eq!(times(&ev), [now, now + 3500]);
    assert_eq!(ev[0].data, "Dec 31 23:00:00 INFO first\n");
    assert_eq!(ev[1].data, "Dec 31 23:00:03 INFO second\n");
}

#[test]
fn unreadable_times_warn_once_and_are_sent_with_the_previous_time() {
    let sample = "\
2023-05-01 10:00:00 a
garbage line b
2023-05-01 10:00:03 c
no time d
no time e
2023-05-01 10:00:05 f
";
    let conf = "[r.log]\nmode = replay\noutputMode = modinput\ntimezone = +0000\n\
        token.0.token = \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\n\
        token.0.replacementType = replaytimestamp\n\
        token.0.replacement = %Y-%m-%d %H:%M:%S\n";
    let d = app("replay-unparsable", sample, conf);
    let o = generate_at(&d, "default/eventgen.conf", NOW, &[]);
    assert_code(&o, 0);
    let err = stderr(&o);
    let warns: Vec<&str> = err.lines().filter(|l| l.starts_with("WARN")).collect();
    assert_eq!(warns.len(), 1, "{err}");
    assert!(
        warns[0].contains("[r.log]")
            && warns[0].contains("3 of 6 events")
            && warns[0].contains("first at line 2"),
        "{err}"
    );
    let ev = modinput_events(&stdout(&o));
    let now = epoch_ms(NOW);
    assert_eq!(
        times(&ev),
        [now, now, now + 3000, now + 3000, now + 3000, now + 5000]
    );
    let data: Vec<&str> = ev.iter().map(|e| e.data.trim_end()).collect();
    assert_eq!(
        data,
        [
            "2024-01-01 00:00:00 a",
            "garbage line b",
            "2024-01-01 00:00:03 c",
            "no time d",
            "no time e",
            "2024-01-01 00:00:05 f"
        ]
    );
    // `check` reports the same warning and still exits 0.
    let c = run_in(d.path(), &["check", "default/eventgen.conf"]);
    assert_code(&c, 0);
    assert!(stderr(&c).contains("first at line 2"), "{}", stderr(&c));
}

#[test]
fn an_unsorted_sample_warns_once_and_late_events_go_at_once() {
    let sample = "\
2023-05-01 10:00:00 a
2023-05-01 10:00:05 b
2023-05-01 10:00:02 c
2023-05-01 10:00:01 d
2023-05-01 10:00:06 e
";
    let conf = "[r.log]\nmode = replay\noutputMode = modinput\ntimezone = +0000\n\
        token.0.token = \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\n\
        token.0.replacementType = replaytimestamp\n\
        token.0.replacement = %Y-%m-%d %H:%M:%S\n";
    let d = app("replay-unsorted", sample, conf);
    let o = generate_at(&d, "default/eventgen.conf", NOW, &[]);
    assert_code(&o, 0);
    let err = stderr(&o);
    let warns: Vec<&str> = err.lines().filter(|l| l.starts_with("WARN")).collect();
    assert_eq!(warns.len(), 1, "{err}");
    assert!(
        warns[0].contains("not in time order (first at line 3)"),
        "{err}"
    );
    let ev = modinput_events(&stdout(&o));
    let now = epoch_ms(NOW);
    // c and d go out with b; e keeps its own gap (5 s after d), as Eventgen sleeps it.
    assert_eq!(
        times(&ev),
        [now, now + 5000, now + 5000, now + 5000, now + 10_000]
    );
    assert_text_matches_time(&ev, "%Y-%m-%d %H:%M:%S");
}

#[test]
fn end_as_a_time_stops_mid_pass_and_the_state_folder_resumes_it() {
    let d = app(
        "replay-resume",
        IRREGULAR,
        &replay_conf("end = 2024-01-01T00:00:05Z\n"),
    );
    let state = d.path().join("state");
    let state = state.to_str().unwrap();
    let now = epoch_ms(NOW);
    let first = replay_events(&d, NOW, &["--state-dir", state]);
    assert_eq!(words(&first, 2), ["ev1", "ev2", "ev3", "ev4"]);
    assert_eq!(times(&first), [now, now + 1500, now + 4250, now + 4250]);

    // Without `end`: one pass, which continues where the last run stopped.
    d.write("default/eventgen.conf", &replay_conf(""));
    let later = "2024-01-01T01:00:00Z";
    let second = replay_events(&d, later, &["--state-dir", state]);
    assert_eq!(words(&second, 2), ["ev5"]);
    assert_eq!(times(&second), [epoch_ms(later)]);

    // The pass is complete: the next run starts from the top.
    let third = replay_events(&d, "2024-01-01T02:00:00Z", &["--state-dir", state]);
    assert_eq!(words(&third, 2), ["ev1", "ev2", "ev3", "ev4", "ev5"]);

    // Without the state folder nothing is remembered.
    d.write(
        "default/eventgen.conf",
        &replay_conf("end = 2024-01-01T00:00:05Z\n"),
    );
    let _ = replay_events(&d, NOW, &["--state-dir", state]);
    d.write("default/eventgen.conf", &replay_conf(""));
    let fresh = replay_events(&d, NOW, &[]);
    assert_eq!(fresh.len(), 5);
}

/// Events due at these offsets (ms) from the first one, real time.
const REAL_OFFSETS: [u64; 5] = [0, 300, 500, 1100, 1500];

/// One real-time run: the arrival offset of each line relative to the first, in ms.
fn real_time_arrivals(d: &TempDir) -> Vec<i64> {
    let mut child = Command::new(bin())
        .args(["generate", "default/eventgen.conf", "--seed", "1"])
        .current_dir(d.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let mut reader = BufReader::new(out);
    let mut arrivals = Vec::new();
    let mut first: Option<Instant> = None;
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut line = String::new();
    while arrivals.len() < REAL_OFFSETS.len() && Instant::now() < deadline {
        line.clear();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        let at = Instant::now();
        let t0 = *first.get_or_insert(at);
        arrivals.push(at.duration_since(t0).as_millis() as i64);
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "eventgen failed: {status}");
    arrivals
}

#[test]
fn real_time_replay_sends_each_event_within_50ms_of_its_deadline() {
    let sample = "\
2023-05-01 10:00:00.000 a
2023-05-01 10:00:00.300 b
2023-05-01 10:00:00.500 c
2023-05-01 10:00:01.100 d
2023-05-01 10:00:01.500 e
";
    let conf = replay_conf("").replace("outputMode = modinput", "outputMode = stdout");
    let d = app("replay-realtime", sample, &conf);
    // The machine is shared: a run may be disturbed, so up to three runs get a chance; each
    // is held to the 50 ms bound on every event.
    let mut runs = Vec::new();
    for _ in 0..3 {
        let got = real_time_arrivals(&d);
        let ok = got.len() == REAL_OFFSETS.len()
            && got
                .iter()
                .zip(REAL_OFFSETS)
                .all(|(&g, w)| (g - w as i64).abs() <= 50);
        if ok {
            return;
        }
        runs.push(got);
    }
    panic!("arrival offsets (ms) {runs:?}, wanted {REAL_OFFSETS:?} within 50 ms each");
}
