//! Sample loading as users see it: CSV samples with per-row metadata, breakers for multi-line
//! events, randomizeEvents, bundlelines and extendIndexes.

use std::collections::{BTreeMap, BTreeSet};

use crate::support::*;

#[test]
fn csv_rows_carry_their_own_metadata() {
    let app = App::new(
        "csv",
        "[s.csv]\nsampletype = csv\noutputMode = modinput\ncount = 3\nend = 2\nhost = sample-host\n\
         token.0.token = @@n\ntoken.0.replacementType = static\ntoken.0.replacement = N\n",
    );
    app.sample(
        "s.csv",
        "index,host,source,sourcetype,_raw,_time\n\
         i1,h1,s1,st1,\"first, @@n\",2020-01-01\n\
         i2,h2,s2,st2,\"second \"\"quoted\"\"\",2020-01-02\n\
         i3,h3,s3,st3,third,2020-01-03\n",
    );
    let evs = app.xml(&[]);
    assert_eq!(evs.len(), 6);
    let got: Vec<(&str, &str, &str, &str, &str)> = evs
        .iter()
        .map(|e| {
            (
                e.index.as_str(),
                e.host.as_str(),
                e.source.as_str(),
                e.sourcetype.as_str(),
                e.data.as_str(),
            )
        })
        .collect();
    let one = [
        ("i1", "h1", "s1", "st1", "first, N\n"),
        ("i2", "h2", "s2", "st2", "second \"quoted\"\n"),
        ("i3", "h3", "s3", "st3", "third\n"),
    ];
    assert_eq!(got, [one, one].concat());
}

#[test]
fn csv_without_metadata_columns_uses_the_stanza() {
    let app = App::new(
        "csv-plain",
        "[s.csv]\nsampletype = csv\noutputMode = modinput\ncount = -1\nend = 1\nhost = hh\nsourcetype = stt\nindex = ii\n",
    );
    app.sample("s.csv", "_raw,x\none,1\ntwo,2\n");
    let evs = app.xml(&[]);
    assert_eq!(
        evs.iter().map(|e| e.data.as_str()).collect::<Vec<_>>(),
        ["one\n", "two\n"]
    );
    assert!(evs.iter().all(|e| e.host == "hh"
        && e.sourcetype == "stt"
        && e.index == "ii"
        && e.source == "s.csv"));
}

#[test]
fn breaker_makes_multi_line_events() {
    let app = App::new(
        "breaker",
        "[s.log]\noutputMode = modinput\ncount = -1\nend = 1\nbreaker = ^\\d{4}-\n",
    );
    app.sample(
        "s.log",
        "2024-01-01 first\n  at line 2\n  at line 3\n2024-01-02 second\n2024-01-03 third\nwith tail\n",
    );
    let data: Vec<String> = app.xml(&[]).into_iter().map(|e| e.data).collect();
    assert_eq!(
        data,
        [
            "2024-01-01 first\n  at line 2\n  at line 3\n",
            "2024-01-02 second\n",
            "2024-01-03 third\nwith tail\n"
        ]
    );
}

#[test]
fn text_before_the_first_breaker_match_is_an_event() {
    let app = App::new(
        "breaker-head",
        "[s.log]\noutputMode = modinput\ncount = -1\nend = 1\nbreaker = \\n\\d{4}\n",
    );
    app.sample("s.log", "2020 a\ncont\n2021 b\n");
    let data: Vec<String> = app.xml(&[]).into_iter().map(|e| e.data).collect();
    assert_eq!(data, ["2020 a\ncont\n", "\n2021 b\n"]);
}

#[test]
fn raw_sample_lines() {
    // Blank lines are dropped, whitespace-only lines kept, CRLF normalised, a final newline added.
    let app = App::new(
        "raw-lines",
        "[s.log]\noutputMode = modinput\ncount = -1\nend = 1\n",
    );
    app.sample("s.log", "one\r\n\r\n   \ntwo");
    let data: Vec<String> = app.xml(&[]).into_iter().map(|e| e.data).collect();
    assert_eq!(data, ["one\n", "   \n", "two\n"]);
}

#[test]
fn randomize_events_draws_with_replacement() {
    let app = App::new(
        "randomize",
        "[s.log]\noutputMode = stdout\ncount = 60\nend = 1\nrandomizeEvents = true\n",
    );
    let lines: String = (0..10).map(|i| format!("line{i}\n")).collect();
    app.sample("s.log", &lines);
    let out = app.out(&[]);
    let got: Vec<&str> = out.lines().collect();
    assert_eq!(got.len(), 60);
    assert!(got.iter().all(|l| l.starts_with("line") && l.len() == 5));
    let sequential: Vec<String> = (0..60).map(|i| format!("line{}", i % 10)).collect();
    assert_ne!(got, sequential, "not in sample order");
    assert!(got.iter().collect::<BTreeSet<_>>().len() >= 8, "{got:?}");
}

#[test]
fn bundlelines_makes_the_sample_one_event() {
    let app = App::new(
        "bundle",
        "[s.log]\noutputMode = modinput\ncount = 2\nend = 1\nbundlelines = true\n\
         token.0.token = @@id\ntoken.0.replacementType = integerid\ntoken.0.replacement = 1\n",
    );
    app.sample("s.log", "head @@id\nbody @@id\ntail\n");
    let data: Vec<String> = app.xml(&[]).into_iter().map(|e| e.data).collect();
    assert_eq!(
        data,
        ["head 1\nbody 1\ntail\n", "head 2\nbody 2\ntail\n"],
        "one value per token per event"
    );
}

#[test]
fn extend_indexes_spreads_events_over_indexes() {
    let app = App::new(
        "extend",
        "[s.log]\noutputMode = modinput\ncount = 5\ninterval = 10\nend = 40\nindex = main\nextendIndexes = test_:3, web\n",
    );
    app.sample("s.log", "x\n");
    let evs = app.xml(&[]);
    assert_eq!(evs.len(), 200);
    let mut per: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &evs {
        *per.entry(e.index.as_str()).or_default() += 1;
    }
    let names: BTreeSet<&str> = per.keys().copied().collect();
    assert!(
        names.is_subset(&BTreeSet::from([
            "main", "test_0", "test_1", "test_2", "web"
        ])),
        "{per:?}"
    );
    assert!(names.len() >= 4, "several indexes are used: {per:?}");
}
