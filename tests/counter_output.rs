//! `outputMode = counter` (per-day histograms in the log, nothing sent) and
//! `outputCounter = true` (throughput lines), through the real binary.

use crate::support::*;

/// Two firings a minute apart around midnight (NOW is 23:59:58 UTC): two days of 5 events.
const CONF: &str = "[hello.log]\noutputMode = counter\ncount = 5\nend = 2\ninterval = 60\n";

#[test]
fn counter_output_logs_per_day_histograms_and_sends_nothing() {
    let a = App::new("counter-out", CONF);
    a.sample("hello.log", "hello world\n");
    let o = a.run(&[]);
    assert_code(&o, 0);
    assert!(o.stdout.is_empty(), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(
        err.contains(
            "INFO counter: --- event count histogram --- {'2024-02-28': 5, '2024-02-29': 5}"
        ),
        "{err}"
    );
    let sizes = err
        .lines()
        .find(|l| l.contains("data size histogram"))
        .unwrap_or_else(|| panic!("{err}"));
    // "hello world" is 11 bytes of event text (12 with the sample's line end).
    assert!(
        sizes.ends_with("{'2024-02-28': 55, '2024-02-29': 55}")
            || sizes.ends_with("{'2024-02-28': 60, '2024-02-29': 60}"),
        "{sizes}"
    );
    // check accepts it (it was refused before).
    assert_code(&a.check(), 0);
}

#[test]
fn output_counter_logs_throughput_lines() {
    let conf = format!(
        "[global]\noutputCounter = true\n\n{}",
        CONF.replace("counter", "devnull")
    );
    let a = App::new("output-counter", &conf);
    a.sample("hello.log", "hello world\n");
    let o = a.run(&[]);
    assert_code(&o, 0);
    let err = stderr(&o);
    let line = err
        .lines()
        .find(|l| l.starts_with("INFO output counter: "))
        .unwrap_or_else(|| panic!("no throughput line:\n{err}"));
    assert!(line.contains("events/s") && line.contains("KB/s"), "{line}");
    assert!(line.contains("total 10 events"), "{line}");
    // No "has no effect" warning any more.
    assert!(!err.contains("outputCounter"), "{err}");
}
