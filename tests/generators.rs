//! The file-less generators: `windbag`, `counter` and `jinja`, on the virtual clock.

use crate::support::*;

const NOW: &str = "2024-01-01T00:00:00Z";

fn app(tag: &str, conf: &str) -> TempDir {
    let d = TempDir::new(tag);
    d.write("default/eventgen.conf", conf);
    std::fs::create_dir_all(d.path().join("samples")).unwrap();
    d
}

fn lines_of(d: &TempDir, extra: &[&str]) -> Vec<String> {
    let o = generate_at(d, "default/eventgen.conf", NOW, extra);
    assert_code(&o, 0);
    stdout(&o).lines().map(str::to_string).collect()
}

fn windbag_conf(count: &str, end: &str, output: &str) -> String {
    format!(
        "[windbag]\ngenerator = windbag\ncount = {count}\nearliest = -1m\nlatest = now\n\
         end = {end}\ninterval = 60\ntimezone = +0000\noutputMode = {output}\n"
    )
}

#[test]
fn windbag_spreads_count_events_over_the_window() {
    let d = app("windbag", &windbag_conf("4", "1", "stdout"));
    assert_eq!(
        lines_of(&d, &[]),
        [
            "2023-12-31 23:59:15 -0700 WINDBAG Event 1 of 4",
            "2023-12-31 23:59:30 -0700 WINDBAG Event 2 of 4",
            "2023-12-31 23:59:45 -0700 WINDBAG Event 3 of 4",
            "2024-01-01 00:00:00 -0700 WINDBAG Event 4 of 4",
        ]
    );
    // Its metadata: source is the stanza name, `<time>` each event's own time.
    let d = app("windbag-xml", &windbag_conf("4", "1", "modinput"));
    let o = generate_at(&d, "default/eventgen.conf", NOW, &[]);
    assert_code(&o, 0);
    let ev = modinput_events(&stdout(&o));
    let now = epoch_ms(NOW);
    let t: Vec<i64> = ev.iter().map(XmlEvent::time_ms).collect();
    assert_eq!(t, [now - 45_000, now - 30_000, now - 15_000, now]);
    assert!(
        ev.iter()
            .all(|e| e.source == "windbag" && e.index == "main")
    );
}

#[test]
fn windbag_without_count_makes_sixty_events() {
    let d = app("windbag-60", &windbag_conf("-1", "1", "stdout"));
    let lines = lines_of(&d, &[]);
    assert_eq!(lines.len(), 60);
    assert_eq!(lines[0], "2023-12-31 23:59:01 -0700 WINDBAG Event 1 of 60");
    assert_eq!(
        lines[59],
        "2024-01-01 00:00:00 -0700 WINDBAG Event 60 of 60"
    );
}

#[test]
fn windbag_large_counts_stay_evenly_numbered_across_jobs() {
    let conf = windbag_conf("10000", "1", "stdout").replace("earliest = -1m", "earliest = -10000s");
    let d = app("windbag-big", &conf);
    let lines = lines_of(&d, &[]);
    assert_eq!(lines.len(), 10_000);
    let start = chrono::DateTime::parse_from_rfc3339("2023-12-31T21:13:20Z").unwrap();
    for (i, l) in lines.iter().enumerate() {
        let t = start + chrono::Duration::seconds(i as i64 + 1);
        let want = format!(
            "{} -0700 WINDBAG Event {} of 10000",
            t.format("%Y-%m-%d %H:%M:%S"),
            i + 1
        );
        assert_eq!(l, &want);
    }
}

#[test]
fn windbag_numbers_restart_each_interval() {
    let d = app("windbag-end2", &windbag_conf("3", "2", "stdout"));
    let lines = lines_of(&d, &[]);
    let tails: Vec<&str> = lines
        .iter()
        .map(|l| l.split_once(" -0700 ").unwrap().1)
        .collect();
    assert_eq!(
        tails,
        [
            "WINDBAG Event 1 of 3",
            "WINDBAG Event 2 of 3",
            "WINDBAG Event 3 of 3",
            "WINDBAG Event 1 of 3",
            "WINDBAG Event 2 of 3",
            "WINDBAG Event 3 of 3",
        ]
    );
    assert_eq!(lines[3], "2024-01-01 00:00:20 -0700 WINDBAG Event 1 of 3");
}

#[test]
fn windbag_fractional_times_round_like_python() {
    // Python: str(earliest + timedelta(seconds=60/7*i)).
    let d = app("windbag-frac", &windbag_conf("7", "1", "stdout"));
    assert_eq!(
        lines_of(&d, &[]),
        [
            "2023-12-31 23:59:08.571429 -0700 WINDBAG Event 1 of 7",
            "2023-12-31 23:59:17.142857 -0700 WINDBAG Event 2 of 7",
            "2023-12-31 23:59:25.714286 -0700 WINDBAG Event 3 of 7",
            "2023-12-31 23:59:34.285714 -0700 WINDBAG Event 4 of 7",
            "2023-12-31 23:59:42.857143 -0700 WINDBAG Event 5 of 7",
            "2023-12-31 23:59:51.428571 -0700 WINDBAG Event 6 of 7",
            "2024-01-01 00:00:00 -0700 WINDBAG Event 7 of 7",
        ]
    );
}

fn counter_conf(stanza: &str, settings: &str) -> String {
    format!(
        "[{stanza}]\ngenerator = counter\nearliest = -1m\nlatest = now\nend = 1\n\
         timezone = +0000\noutputMode = stdout\n{settings}"
    )
}

/// A template that shows every placeholder.
const TEMPLATE: &str = "count_template = {current_count}|{loop_count}/{max_loop}|{start_count}|{end_count}|{count_by}|{samplename}|{event_ts}\n";

#[test]
fn counter_default_template_counts_cycles_to_end_inclusive() {
    let d = app(
        "counter",
        &counter_conf("counter", "count = 2\nend_count = 3\n"),
    );
    let lines = lines_of(&d, &[]);
    assert_eq!(lines.len(), 8, "2 cycles x values 0..=3");
    assert_eq!(
        lines[0],
        "2023-12-31 23:59:15-0700 Counter for sample:counter, Now processing event counting 1 of 2 cycles. Counter Values: Start_Count: 0 Current_Counter:0 End_Count:3 Counting_By: 1"
    );
    assert_eq!(
        lines[7],
        "2024-01-01 00:00:00-0700 Counter for sample:counter, Now processing event counting 2 of 2 cycles. Counter Values: Start_Count: 0 Current_Counter:3 End_Count:3 Counting_By: 1"
    );
    let current: Vec<&str> = lines
        .iter()
        .map(|l| {
            l.split("Current_Counter:")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(current, ["0", "1", "2", "3", "0", "1", "2", "3"]);
}

#[test]
fn counter_floats_render_like_python() {
    let d = app(
        "counter-float",
        &counter_conf(
            "cnt",
            &format!("start_count = 0.5\nend_count = 2\ncount_by = 0.75\n{TEMPLATE}"),
        ),
    );
    assert_eq!(
        lines_of(&d, &[]),
        [
            "0.5|1/1|0.5|2.0|0.75|cnt|2023-12-31 23:59:20",
            "1.25|1/1|0.5|2.0|0.75|cnt|2023-12-31 23:59:40",
            "2.0|1/1|0.5|2.0|0.75|cnt|2024-01-01 00:00:00",
        ]
    );
}

#[test]
fn counter_step_that_misses_end_stops_at_the_first_value_past_it() {
    // Eventgen loops forever here.
    let d = app(
        "counter-miss",
        &counter_conf("cnt", &format!("end_count = 5\ncount_by = 2\n{TEMPLATE}")),
    );
    let lines = lines_of(&d, &[]);
    let values: Vec<&str> = lines.iter().map(|l| l.split('|').next().unwrap()).collect();
    assert_eq!(values, ["0", "2", "4", "6"]);
    assert!(lines.iter().all(|l| l.contains("|0|5|2|cnt|")), "{lines:?}");
}

#[test]
fn counter_without_end_count_counts_count_values() {
    // Eventgen crashes with a division by zero here.
    let d = app(
        "counter-noend",
        &counter_conf(
            "cnt",
            &format!("count = 3\nstart_count = 10\ncount_by = 5\n{TEMPLATE}"),
        ),
    );
    let lines = lines_of(&d, &[]);
    let values: Vec<&str> = lines.iter().map(|l| l.split('|').next().unwrap()).collect();
    assert_eq!(&values[..3], ["10", "15", "20"]);
    assert!(
        lines[0].ends_with("|10|20|5|cnt|2023-12-31 23:59:20"),
        "{lines:?}"
    );
}

#[test]
fn counter_without_end_count_is_one_cycle() {
    let d = app(
        "counter-noend-1",
        &counter_conf(
            "cnt",
            &format!("count = 3\nstart_count = 10\ncount_by = 5\n{TEMPLATE}"),
        ),
    );
    assert_eq!(
        lines_of(&d, &[]),
        [
            "10|1/1|10|20|5|cnt|2023-12-31 23:59:20",
            "15|1/1|10|20|5|cnt|2023-12-31 23:59:40",
            "20|1/1|10|20|5|cnt|2024-01-01 00:00:00",
        ]
    );
}

#[test]
fn counter_end_below_start_is_relative_to_start() {
    let d = app(
        "counter-rel",
        &counter_conf(
            "cnt",
            &format!("start_count = 10\nend_count = 3\ncount_by = 1\n{TEMPLATE}"),
        ),
    );
    let lines = lines_of(&d, &[]);
    let values: Vec<&str> = lines.iter().map(|l| l.split('|').next().unwrap()).collect();
    assert_eq!(values, ["10", "11", "12", "13"]);
}

/// A template dir with loops, an include, a macro import, line statements and comments.
fn jinja_app(tag: &str, count: &str) -> TempDir {
    let d = TempDir::new(tag);
    d.write(
        "samples/templates/main.j2",
        r#"## a line comment that must not appear
{% include "parts/header.j2" %}
{% from "parts/macros.j2" import who %}
{% for i in range(n) %}
{%- time_slice earliest=1234, latest=2345, slices=5, count=i + 1, date_format="%Y-%m-%dT%H:%M:%S" -%}
{"_time": "{{ time_target_epoch }}", "_raw": "{{ time_target_formatted }} {{ who(user) }} seq={{ loop.index }}/{{ n }} cycle={{ eventgen_count }}/{{ eventgen_maxcount }}"}
{% endfor %}
# if flag
{"_time": 1700000000, "_raw": "flag on\nsecond line", "host": "hx", "sourcetype": "stx"}
# endif
"#,
    );
    d.write(
        "samples/templates/parts/header.j2",
        r#"{"_time": 1600000000.5, "_raw": "header for {{ user }}", "index": "hdr"}
"#,
    );
    d.write(
        "samples/templates/parts/macros.j2",
        "{% macro who(name) %}[{{ name | upper }}]{% endmacro %}\n",
    );
    d.write(
        "default/eventgen.conf",
        &format!(
            "[jj]\ngenerator = jinja\ncount = {count}\nend = 1\ntimezone = +0000\n\
             jinja_template_dir = templates\njinja_target_template = main.j2\n\
             jinja_variables = {{\"n\": 3, \"user\": \"admin\", \"flag\": true}}\n\
             outputMode = modinput\n"
        ),
    );
    d
}

#[test]
fn jinja_renders_loops_includes_macros_and_time_slices() {
    let d = jinja_app("jinja", "2");
    let o = generate_at(&d, "default/eventgen.conf", NOW, &[]);
    assert_code(&o, 0);
    let ev = modinput_events(&stdout(&o));
    let one_cycle = |c: u32| -> Vec<(String, String, String, String, String)> {
        let e = |t: &str, raw: String, idx: &str, host: &str, st: &str| {
            (
                t.to_string(),
                raw,
                idx.to_string(),
                host.to_string(),
                st.to_string(),
            )
        };
        vec![
            e(
                "1600000000.500",
                "header for admin".into(),
                "hdr",
                "127.0.0.1",
                "eventgen",
            ),
            // time_slice: slice `count` (1-based here) of 5 over [1234, 2345]: 1234 + 222.2 k.
            e(
                "1456.200",
                format!("1970-01-01T00:24:16 [ADMIN] seq=1/3 cycle={c}/2"),
                "main",
                "127.0.0.1",
                "eventgen",
            ),
            e(
                "1678.400",
                format!("1970-01-01T00:27:58 [ADMIN] seq=2/3 cycle={c}/2"),
                "main",
                "127.0.0.1",
                "eventgen",
            ),
            e(
                "1900.600",
                format!("1970-01-01T00:31:40 [ADMIN] seq=3/3 cycle={c}/2"),
                "main",
                "127.0.0.1",
                "eventgen",
            ),
            e(
                "1700000000.000",
                "flag on\nsecond line".into(),
                "main",
                "hx",
                "stx",
            ),
        ]
    };
    let mut want = one_cycle(0);
    want.extend(one_cycle(1));
    let got: Vec<(String, String, String, String, String)> = ev
        .iter()
        .map(|e| {
            (
                e.time.clone(),
                e.data.clone(),
                e.index.clone(),
                e.host.clone(),
                e.sourcetype.clone(),
            )
        })
        .collect();
    assert_eq!(got, want);
    assert!(ev.iter().all(|e| e.source == "jinja"));
    assert!(!stdout(&o).contains("line comment"));
}

#[test]
fn jinja_time_now_and_window_variables_follow_the_virtual_clock() {
    let d = TempDir::new("jinja-now");
    d.write(
        "samples/templates/now.j2",
        r#"{% time_now %}
{"_time": "{{ time_now_epoch }}", "_raw": "{{ time_now_formatted }} e={{ eventgen_earliest_epoch }} l={{ eventgen_latest_epoch }} c={{ eventgen_count }}"}
"#,
    );
    d.write(
        "default/eventgen.conf",
        "[jn]\ngenerator = jinja\ncount = 1\nend = 1\nearliest = -1m\ntimezone = +0000\n\
         jinja_target_template = now.j2\noutputMode = modinput\n",
    );
    let o = generate_at(&d, "default/eventgen.conf", NOW, &[]);
    assert_code(&o, 0);
    let ev = modinput_events(&stdout(&o));
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].time, "1704067200.000");
    assert_eq!(
        ev[0].data,
        "2024-01-01T00:00:00 e=1704067140.0 l=1704067200.0 c=0"
    );
}

#[test]
fn jinja_template_errors_are_reported_at_check_with_file_and_line() {
    // A syntax error in the target template, on line 3.
    let d = jinja_app("jinja-err", "1");
    d.write(
        "samples/templates/main.j2",
        "{\"_time\": 1, \"_raw\": \"ok\"}\n{% for x in items %}\n{{ x }\n{% endfor %}\n",
    );
    let o = run_in(d.path(), &["check", "default/eventgen.conf"]);
    assert_code(&o, 2);
    let err = stderr(&o);
    assert!(
        err.lines()
            .any(|l| l.starts_with("ERROR default/eventgen.conf:")
                && l.contains("[jj]")
                && l.contains("samples/templates/main.j2:3:")),
        "{err}"
    );

    // An error inside an included file names that file and its line.
    let d = jinja_app("jinja-err-include", "1");
    d.write(
        "samples/templates/parts/header.j2",
        "{\"_time\": 1, \"_raw\": \"x\"}\n{% if user %}\n{\"_time\": 2, \"_raw\": \"{{ user }\"}\n",
    );
    let o = run_in(d.path(), &["check", "default/eventgen.conf"]);
    assert_code(&o, 2);
    let err = stderr(&o);
    assert!(
        err.contains("samples/templates/parts/header.j2:3:"),
        "{err}"
    );

    // A missing target template is named.
    let d = jinja_app("jinja-missing", "1");
    std::fs::remove_file(d.path().join("samples/templates/main.j2")).unwrap();
    let o = run_in(d.path(), &["check", "default/eventgen.conf"]);
    assert_code(&o, 2);
    assert!(
        stderr(&o).contains("samples/templates/main.j2"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn jinja_template_error_is_the_only_error() {
    let d = jinja_app("jinja-one-err", "1");
    d.write("samples/templates/main.j2", "{% for x in items %}\n");
    let o = run_in(d.path(), &["check", "default/eventgen.conf"]);
    assert_code(&o, 2);
    let err = stderr(&o);
    assert!(!err.contains("needs a sample file"), "{err}");
}

/// Backfill slices of a file-less generator produce its events too (one firing per slice).
#[test]
fn windbag_backfill_slices_generate_events() {
    let d = TempDir::new("windbag-backfill");
    d.write(
        "default/eventgen.conf",
        "[wb]\ngenerator = windbag\noutputMode = stdout\ncount = 2\ninterval = 60\nend = 1\nbackfill = -3m\n",
    );
    let o = generate_at(&d, "default/eventgen.conf", "2024-01-01T00:00:00Z", &[]);
    assert_code(&o, 0);
    let out = stdout(&o);
    // Three backfill slices and one live interval, two events each, in time order.
    assert_eq!(out.lines().count(), 8, "{out}");
    let times: Vec<&str> = out.lines().map(|l| &l[..19]).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{out}");
    assert!(times[0] >= "2023-12-31 23:57:00", "{out}");
}
