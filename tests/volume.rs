//! `perDayVolume` over a simulated day on the virtual clock, and `end` given as a time.

use std::collections::BTreeMap;

use crate::support::*;

const NOW: &str = "2024-01-01T00:00:00Z";
const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// Three lines of quite different lengths whose tokens change their size from event to event.
const SAMPLE: &str = "\
2023-05-01 10:00:00 user=@@user action=login status=ok bytes=@@n
2023-05-01 10:00:00 user=@@user action=logout status=ok
2023-05-01 10:00:00 a much longer line with some extra payload text to vary the event sizes user=@@user bytes=@@n ms=@@n
";

const TOKENS: &str = "\
token.0.token = @@user
token.0.replacementType = random
token.0.replacement = string(5)
token.1.token = @@n
token.1.replacementType = random
token.1.replacement = integer[1:100000]
token.2.token = \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}
token.2.replacementType = timestamp
token.2.replacement = %Y-%m-%d %H:%M:%S
";

fn pdv_app(tag: &str, gb: &str, extra: &str, output: &str) -> TempDir {
    let d = TempDir::new(tag);
    d.write("samples/p.log", SAMPLE);
    d.write(
        "default/eventgen.conf",
        &format!(
            "[p.log]\nperDayVolume = {gb}\ninterval = 60\nend = 1440\noutputMode = {output}\n\
             timezone = +0000\n{extra}{TOKENS}"
        ),
    );
    d
}

#[track_caller]
fn assert_within(actual: f64, target: f64, tolerance: f64, what: &str) {
    let err = (actual - target).abs() / target;
    assert!(
        err <= tolerance,
        "{what}: {actual} bytes vs target {target:.0} ({:.3}% off, limit {:.1}%)",
        err * 100.0,
        tolerance * 100.0
    );
}

#[test]
fn a_simulated_day_is_within_one_percent_of_the_target() {
    // stdout writes each event's bytes unchanged, so its size is the event bytes counted.
    let d = pdv_app("pdv-day", "0.01", "", "stdout");
    let o = generate_at(&d, "default/eventgen.conf", NOW, &["-v"]);
    assert_code(&o, 0);
    let target = 0.01 * GIB;
    assert_within(o.stdout.len() as f64, target, 0.01, "stdout bytes");
    // The summary counts the same bytes.
    let err = stderr(&o);
    let line = err
        .lines()
        .find(|l| l.starts_with("INFO stdout:"))
        .unwrap_or_else(|| panic!("no stdout summary in\n{err}"));
    assert_eq!(
        line,
        format!(
            "INFO stdout: {} events, {} bytes",
            stdout(&o).lines().count(),
            o.stdout.len()
        ),
        "{err}"
    );
    let last = err.lines().last().unwrap();
    assert!(
        last.starts_with("INFO generated ") && last.contains(" MB)"),
        "{err}"
    );
    // No token is left and every event is one of the sample's shapes.
    let out = stdout(&o);
    assert!(!out.contains("@@"), "tokens left in the output");
}

#[test]
fn each_interval_gets_its_share_with_the_remainder_carried() {
    // 0.001 GB/day over 1440 intervals: ~745.65 bytes per interval, a few events each.
    let d = pdv_app("pdv-intervals", "0.001", "", "modinput");
    let o = generate_at(&d, "default/eventgen.conf", NOW, &[]);
    assert_code(&o, 0);
    let ev = modinput_events(&stdout(&o));
    let now = epoch_ms(NOW);
    let mut per: BTreeMap<i64, usize> = BTreeMap::new();
    let mut biggest = 0usize;
    for e in &ev {
        let k = (e.time_ms() - now) / 60_000;
        *per.entry(k).or_default() += e.data.len();
        biggest = biggest.max(e.data.len());
    }
    assert_eq!(per.len(), 1440, "every interval produces events");
    assert_eq!(*per.keys().last().unwrap(), 1439);
    // Carrying the remainder keeps the running total within one event of the running target.
    let share = 0.001 * GIB / 1440.0;
    let mut total = 0usize;
    for (k, bytes) in &per {
        total += bytes;
        let target = share * (*k + 1) as f64;
        assert!(
            (total as f64 - target).abs() <= biggest as f64,
            "after interval {k}: {total} bytes vs {target:.0} (largest event {biggest})"
        );
    }
    assert_within(total as f64, 0.001 * GIB, 0.01, "event bytes");
}

#[test]
fn the_average_size_is_measured_as_events_grow() {
    // integerid grows from 1 to six digits over the day: a size measured once at the start
    // would overshoot by several percent.
    let d = TempDir::new("pdv-growing");
    d.write("samples/g.log", "id=@@id\n");
    d.write(
        "default/eventgen.conf",
        "[g.log]\nperDayVolume = 0.001\ninterval = 60\nend = 1440\noutputMode = stdout\n\
         token.0.token = @@id\ntoken.0.replacementType = integerid\ntoken.0.replacement = 1\n",
    );
    let o = generate_at(&d, "default/eventgen.conf", NOW, &[]);
    assert_code(&o, 0);
    assert_within(o.stdout.len() as f64, 0.001 * GIB, 0.01, "stdout bytes");
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "id=1");
    assert_eq!(lines.last().unwrap(), &format!("id={}", lines.len()));
}

#[test]
fn rate_factors_scale_the_daily_volume() {
    let half: Vec<String> = (0..24).map(|h| format!("\"{h}\": 0.5")).collect();
    let extra = format!("hourOfDayRate = {{{}}}\n", half.join(", "));
    let d = pdv_app("pdv-rated", "0.01", &extra, "stdout");
    let o = generate_at(&d, "default/eventgen.conf", NOW, &[]);
    assert_code(&o, 0);
    assert_within(
        o.stdout.len() as f64,
        0.005 * GIB,
        0.01,
        "stdout bytes at rate 0.5",
    );

    // Nothing in the afternoon: the last event is in the 11:59 interval.
    let morning: Vec<String> = (0..24)
        .map(|h| format!("\"{h}\": {}", if h < 12 { "1" } else { "0" }))
        .collect();
    let extra = format!("hourOfDayRate = {{{}}}\n", morning.join(", "));
    let d = pdv_app("pdv-morning", "0.01", &extra, "modinput");
    let o = generate_at(&d, "default/eventgen.conf", NOW, &[]);
    assert_code(&o, 0);
    let ev = modinput_events(&stdout(&o));
    let last = ev.iter().map(XmlEvent::time_ms).max().unwrap();
    assert_eq!(last, epoch_ms("2024-01-01T11:59:00Z"));
    let bytes: usize = ev.iter().map(|e| e.data.len()).sum();
    assert_within(bytes as f64, 0.005 * GIB, 0.01, "morning event bytes");
}

#[test]
fn interval_zero_with_per_day_volume_is_a_located_error() {
    let d = pdv_app("pdv-interval0", "1", "", "stdout");
    let conf = std::fs::read_to_string(d.path().join("default/eventgen.conf")).unwrap();
    d.write(
        "default/eventgen.conf",
        &conf.replace("interval = 60", "interval = 0"),
    );
    for cmd in ["check", "generate"] {
        let o = run_in(d.path(), &[cmd, "default/eventgen.conf", "--now", NOW]);
        assert_code(&o, 2);
        let err = stderr(&o);
        assert!(
            err.lines().any(
                |l| l.starts_with("ERROR default/eventgen.conf:3: [p.log] interval:")
                    && l.contains("perDayVolume")
            ),
            "{cmd}: {err}"
        );
        assert!(o.stdout.is_empty() || cmd == "check", "{cmd} wrote events");
    }
}

#[test]
fn end_as_a_time_counts_the_intervals_before_it() {
    let d = TempDir::new("end-time");
    d.write("samples/e.log", "x @@n\n");
    d.write(
        "default/eventgen.conf",
        "[e.log]\ncount = 1\ninterval = 60\nend = 2024-01-01T00:10:00Z\ntimezone = +0000\n\
         outputMode = modinput\ntoken.0.token = @@n\ntoken.0.replacementType = static\n\
         token.0.replacement = y\n",
    );
    let o = generate_at(&d, "default/eventgen.conf", NOW, &[]);
    assert_code(&o, 0);
    let ev = modinput_events(&stdout(&o));
    let now = epoch_ms(NOW);
    let want: Vec<i64> = (0..10).map(|i| now + i * 60_000).collect();
    assert_eq!(ev.iter().map(XmlEvent::time_ms).collect::<Vec<_>>(), want);
    assert!(ev.iter().all(|e| e.data == "x y\n"));
}
