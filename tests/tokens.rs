//! Token replacement as a user sees it: the value domain of every replacement type, group-1
//! and multi-match semantics, chains, mvfile row sharing, seqfile order and integerid
//! counters across runs.

use std::collections::{BTreeSet, HashMap};

use crate::support::*;
use chrono::NaiveDateTime;

/// A one-line sample `v=@@v` with one token, `count` events in one interval; returns the values.
fn values(tag: &str, rtype: &str, replacement: &str, count: usize) -> Vec<String> {
    let conf = format!(
        "[s.log]\noutputMode = stdout\ncount = {count}\nend = 1\n{}",
        token(0, "@@v", rtype, replacement)
    );
    let app = App::new(tag, &conf);
    app.sample("s.log", "v=@@v;\n");
    let out = app.out(&[]);
    let vals: Vec<String> = out
        .lines()
        .map(|l| {
            l.strip_prefix("v=")
                .and_then(|l| l.strip_suffix(';'))
                .unwrap_or_else(|| panic!("line {l:?} does not look like v=...;"))
                .to_string()
        })
        .collect();
    assert_eq!(vals.len(), count, "{out}");
    vals
}

#[test]
fn static_is_verbatim() {
    for v in values("static", "static", "hello  world $HOME %s \\d", 3) {
        assert_eq!(v, "hello  world $HOME %s \\d");
    }
}

#[test]
fn random_ipv4_octets() {
    for v in values("ipv4", "random", "ipv4", 200) {
        let parts: Vec<&str> = v.split('.').collect();
        assert_eq!(parts.len(), 4, "{v}");
        for p in parts {
            assert!(p.parse::<u8>().is_ok(), "{v}");
            assert!(p == "0" || !p.starts_with('0'), "no zero padding: {v}");
        }
    }
}

#[test]
fn random_ipv6_groups() {
    for v in values("ipv6", "random", "ipv6", 200) {
        let parts: Vec<&str> = v.split(':').collect();
        assert_eq!(parts.len(), 8, "never compressed: {v}");
        for p in parts {
            assert!((1..=4).contains(&p.len()), "{v}");
            assert!(
                p.chars()
                    .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
                "{v}"
            );
            assert!(p == "0" || !p.starts_with('0'), "no zero padding: {v}");
        }
    }
}

#[test]
fn random_mac() {
    let vals = values("mac", "random", "mac", 100);
    for v in &vals {
        let parts: Vec<&str> = v.split(':').collect();
        assert_eq!(parts.len(), 6, "{v}");
        assert!(
            parts.iter().all(|p| p.len() == 2
                && p.chars()
                    .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))),
            "{v}"
        );
    }
    assert!(vals.iter().collect::<BTreeSet<_>>().len() > 90);
}

#[test]
fn random_integer_inclusive_with_negatives() {
    let vals = values("int", "random", "integer[-3:2]", 300);
    let seen: BTreeSet<i64> = vals.iter().map(|v| v.parse::<i64>().unwrap()).collect();
    assert_eq!(
        seen,
        (-3..=2).collect::<BTreeSet<_>>(),
        "both ends inclusive"
    );
}

#[test]
fn random_integer_single_value_and_large_range() {
    assert!(
        values("int1", "random", "integer[7:7]", 5)
            .iter()
            .all(|v| v == "7")
    );
    for v in values("intbig", "random", "integer[-5000000000:5000000000]", 50) {
        let n: i64 = v.parse().unwrap();
        assert!((-5_000_000_000..=5_000_000_000).contains(&n), "{v}");
    }
}

#[test]
fn random_float_precision_from_start_value() {
    let vals = values("float", "random", "float[1.50:2]", 200);
    for v in &vals {
        let (_, frac) = v
            .split_once('.')
            .unwrap_or_else(|| panic!("{v} has a decimal point"));
        assert!(frac.len() <= 2, "at most 2 decimals: {v}");
        let f: f64 = v.parse().unwrap();
        assert!((1.5..=2.0).contains(&f), "{v}");
    }
    assert!(
        vals.iter().any(|v| v.split_once('.').unwrap().1.len() == 2),
        "{vals:?}"
    );
    let neg = values("floatneg", "random", "float[-1.000:1]", 100);
    for v in &neg {
        let f: f64 = v.parse().unwrap();
        assert!((-1.0..=1.0).contains(&f), "{v}");
        assert!(v.split_once('.').unwrap().1.len() <= 3, "{v}");
    }
    assert!(neg.iter().any(|v| v.starts_with('-')), "{neg:?}");
}

#[test]
fn random_float_integral_start_renders_like_python() {
    // Precision 0: Python's round(x, 0) is a float, printed with ".0".
    for v in values("float0", "random", "float[0:3]", 50) {
        assert!(["0.0", "1.0", "2.0", "3.0"].contains(&v.as_str()), "{v}");
    }
}

#[test]
fn random_string_hex_guid() {
    let strings = values("string", "random", "string(12)", 100);
    for v in &strings {
        assert_eq!(v.len(), 12, "{v}");
        assert!(
            v.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._~/".contains(c)),
            "{v}"
        );
    }
    assert!(
        values("string0", "random", "string(0)", 2)
            .iter()
            .all(String::is_empty)
    );
    for v in values("hex", "random", "hex(9)", 100) {
        assert_eq!(v.len(), 9, "{v}");
        assert!(
            v.chars()
                .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c)),
            "{v}"
        );
    }
    let guids = values("guid", "random", "guid", 100);
    for v in &guids {
        let parts: Vec<&str> = v.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12],
            "{v}"
        );
        assert!(
            v.chars()
                .all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c)),
            "{v}"
        );
        assert!(parts[2].starts_with('4'), "version 4: {v}");
        assert!("89ab".contains(&parts[3][..1]), "RFC 4122 variant: {v}");
    }
    assert_eq!(guids.iter().collect::<BTreeSet<_>>().len(), guids.len());
}

#[test]
fn random_list_picks_every_element() {
    let vals = values("list", "random", r#"list["GET","POST","a b"]"#, 200);
    let seen: BTreeSet<&str> = vals.iter().map(String::as_str).collect();
    assert_eq!(seen, BTreeSet::from(["GET", "POST", "a b"]));
}

#[test]
fn rated_integer_scales_by_hour_and_weekday() {
    // NOW is 23:59:58 on Wednesday (Splunk weekday 3).
    let hours: Vec<String> = (0..24)
        .map(|h| format!("\"{h}\": {}", if h == 23 { 2.0 } else { 1.0 }))
        .collect();
    let conf = format!(
        "[s.log]\noutputMode = stdout\ncount = 4\nend = 1\nhourOfDayRate = {{{}}}\n\
         dayOfWeekRate = {{\"0\":1,\"1\":1,\"2\":1,\"3\":1.5,\"4\":1,\"5\":1,\"6\":1}}\n{}",
        hours.join(", "),
        token(0, "@@v", "rated", "integer[10:10]")
    );
    let app = App::new("rated", &conf);
    app.sample("s.log", "v=@@v\n");
    let out = app.out(&[]);
    assert!(!out.is_empty());
    assert!(out.lines().all(|l| l == "v=30"), "10 x 2.0 x 1.5:\n{out}");
}

#[test]
fn timestamp_directives_in_utc() {
    let conf = format!(
        "[s.log]\noutputMode = modinput\ncount = 50\nend = 1\nearliest = -60s\nlatest = now\ntimezone = +0000\n{}",
        token(0, "@@t", "timestamp", "%Y-%m-%d %H:%M:%S.%f|%s|%z|%j %a %b")
    );
    let app = App::new("ts-utc", &conf);
    app.sample("s.log", "@@t\n");
    let evs = app.xml(&[]);
    assert_eq!(evs.len(), 50);
    let mut fractions = BTreeSet::new();
    for e in &evs {
        let f: Vec<&str> = e.data.trim_end().split('|').collect();
        assert_eq!(f.len(), 4, "{}", e.data);
        let wall = NaiveDateTime::parse_from_str(f[0], "%Y-%m-%d %H:%M:%S%.f").unwrap();
        let micros = wall.and_utc().timestamp_micros();
        assert_eq!(
            f[0].split_once('.').unwrap().1.len(),
            6,
            "%f is six digits: {}",
            f[0]
        );
        fractions.insert(wall.and_utc().timestamp_subsec_micros());
        assert_eq!(
            f[1].parse::<i64>().unwrap(),
            micros.div_euclid(1_000_000),
            "%s is the epoch: {}",
            e.data
        );
        assert_eq!(f[2], "+0000");
        assert_eq!(f[3], wall.format("%j %a %b").to_string());
        assert!(
            ((NOW_EPOCH - 60) * 1_000_000..=NOW_EPOCH * 1_000_000).contains(&micros),
            "inside [now-60s, now]: {}",
            e.data
        );
        assert!(
            (e.micros() - micros).abs() < 1000,
            "<time> {} vs token {}",
            e.time,
            f[0]
        );
    }
    assert!(
        fractions.len() > 40,
        "sub-second precision is drawn: {fractions:?}"
    );
}

#[test]
fn timestamp_epoch_with_trailing_zeros_is_not_truncated() {
    // Eventgen strips trailing zeros of %s; a whole-minute window proves we do not.
    let conf = format!(
        "[s.log]\noutputMode = stdout\ncount = 3\nend = 1\nearliest = 2024-02-28T23:00:00\nlatest = 2024-02-28T23:00:00\ntimezone = +0000\n{}",
        token(0, "@@t", "timestamp", "%s")
    );
    let app = App::new("ts-s", &conf);
    app.sample("s.log", "@@t\n");
    let out = app.out(&[]);
    assert_eq!(out, "1709161200\n".repeat(3));
}

#[test]
fn timestamp_in_minus_five_hours_keeps_true_epoch() {
    let conf = format!(
        "[s.log]\noutputMode = modinput\ncount = 20\nend = 1\nearliest = -10s\nlatest = now\ntimezone = -0500\n{}",
        token(0, "@@t", "timestamp", "%Y-%m-%d %H:%M:%S.%f %z|%s")
    );
    let app = App::new("ts-tz", &conf);
    app.sample("s.log", "@@t\n");
    let evs = app.xml(&[]);
    assert_eq!(evs.len(), 20);
    for e in &evs {
        let (left, epoch) = e.data.trim_end().split_once('|').unwrap();
        let dt = chrono::DateTime::parse_from_str(left, "%Y-%m-%d %H:%M:%S%.f %z").unwrap();
        assert_eq!(dt.offset().local_minus_utc(), -5 * 3600, "{left}");
        assert!(
            left.starts_with("2024-02-28 18:59:"),
            "wall clock shifted by -5h: {left}"
        );
        let true_micros = dt.timestamp_micros();
        assert_eq!(
            epoch.parse::<i64>().unwrap(),
            dt.timestamp(),
            "%s is the true epoch"
        );
        assert!(
            (e.micros() - true_micros).abs() < 1000,
            "<time> {} is the true epoch of {left}",
            e.time
        );
        assert!(((NOW_EPOCH - 10) * 1_000_000..=NOW_EPOCH * 1_000_000).contains(&true_micros));
    }
}

#[test]
fn replaytimestamp_outside_replay_is_the_window_latest() {
    let conf = format!(
        "[s.log]\noutputMode = stdout\ncount = 3\ninterval = 60\nend = 2\nearliest = -30s\nlatest = now\ntimezone = +0000\n{}",
        token(0, "@@r", "replaytimestamp", "%Y-%m-%dT%H:%M:%S")
    );
    let app = App::new("replayts", &conf);
    app.sample("s.log", "@@r\n");
    let out = app.out(&[]);
    let expected = format!(
        "{}{}",
        "2024-02-28T23:59:58\n".repeat(3),
        "2024-02-29T00:00:58\n".repeat(3)
    );
    assert_eq!(out, expected);
}

#[test]
fn every_match_gets_the_same_value_and_only_group_one_is_replaced() {
    let conf = format!(
        "[s.log]\noutputMode = stdout\ncount = 100\nend = 1\n{}{}",
        token(0, "@@n", "random", "integer[0:1000000]"),
        token(1, r"id=(\d+)", "random", "integer[10:99]")
    );
    let app = App::new("multi", &conf);
    app.sample("s.log", "a=@@n b=@@n c=@@n id=1 id=22 x\n");
    let out = app.out(&[]);
    let mut distinct = BTreeSet::new();
    for l in out.lines() {
        let f: Vec<&str> = l.split(' ').collect();
        assert_eq!(f.len(), 6, "{l}");
        let a = f[0].strip_prefix("a=").unwrap();
        assert_eq!(f[1], format!("b={a}"), "{l}");
        assert_eq!(f[2], format!("c={a}"), "{l}");
        let id = f[3].strip_prefix("id=").unwrap();
        assert_eq!(
            f[4],
            format!("id={id}"),
            "both matches, same value, prefix kept: {l}"
        );
        assert!((10..=99).contains(&id.parse::<i64>().unwrap()), "{l}");
        assert_eq!(f[5], "x");
        distinct.insert(a.to_string());
    }
    assert!(distinct.len() > 90, "a new value per event");
}

#[test]
fn group_one_inside_a_larger_match() {
    let conf = format!(
        "[s.log]\noutputMode = stdout\ncount = 1\nend = 1\n{}",
        token(0, r#""user":"(\w+)","#, "static", "bob")
    );
    let app = App::new("group1", &conf);
    app.sample(
        "s.log",
        "{\"user\":\"alice\",\"x\":1,\"user\":\"carol\",}\n",
    );
    assert_eq!(
        app.out(&[]),
        "{\"user\":\"bob\",\"x\":1,\"user\":\"bob\",}\n"
    );
}

#[test]
fn lookaround_and_backreference_regexes_compile() {
    let conf = format!(
        "[s.log]\noutputMode = stdout\ncount = 1\nend = 1\n{}{}",
        token(0, r"(?<=port=)\d+", "static", "443"),
        token(1, r"([a-z])\1(\w+)", "static", "Z")
    );
    let app = App::new("fancy", &conf);
    app.sample("s.log", "port=80 tag=xxyy\n");
    // Token 1: `([a-z])\1` first matches "xx"; only group 1 (the first x) is replaced.
    assert_eq!(app.out(&[]), "port=443 tag=Zxyy\n");
}

#[test]
fn later_tokens_see_text_earlier_tokens_produced() {
    let conf = format!(
        "[s.log]\noutputMode = stdout\ncount = 5\nend = 1\ntimezone = +0000\nearliest = -1s\n{}{}{}",
        token(0, "@@a", "static", "<@@b>"),
        token(1, "@@b", "static", "B"),
        token(2, "@@t", "timestamp", "%Y-%m-%d %H:%M:%S")
    ) + &token(3, r"\d{2}:\d{2}:\d{2}", "static", "HH:MM:SS");
    let app = App::new("chain", &conf);
    app.sample("s.log", "@@a @@t 12:34:56\n");
    let out = app.out(&[]);
    assert_eq!(out, "<B> 2024-02-28 HH:MM:SS HH:MM:SS\n".repeat(5));
}

/// A CSV lookup file whose columns are all derived from the row number.
fn people(n: usize) -> String {
    (0..n).map(|i| format!("name{i},id{i},city{i}\n")).collect()
}

#[test]
fn file_and_file_column_pick_from_the_file() {
    let conf = format!(
        "[s.log]\noutputMode = stdout\ncount = 200\nend = 1\n{}{}",
        token(0, "@@w", "file", "words.txt"),
        token(1, "@@c", "file", "people.csv:3")
    );
    let app = App::new("file", &conf);
    app.sample("s.log", "@@w @@c\n")
        .sample("words.txt", "alpha\n  beta  \r\ngamma delta\n")
        .sample("people.csv", &people(5));
    let out = app.out(&[]);
    let mut words = BTreeSet::new();
    let mut cities = BTreeSet::new();
    for l in out.lines() {
        let (w, c) = l.rsplit_once(' ').unwrap();
        words.insert(w.to_string());
        cities.insert(c.to_string());
    }
    assert_eq!(
        words,
        BTreeSet::from(["alpha".into(), "beta".into(), "gamma delta".into()]),
        "lines are stripped"
    );
    assert_eq!(
        cities,
        (0..5).map(|i| format!("city{i}")).collect::<BTreeSet<_>>()
    );
}

#[test]
fn mvfile_shares_one_row_per_event() {
    let conf = format!(
        "[s.log]\noutputMode = stdout\ncount = 300\nend = 1\n{}{}{}{}",
        token(0, "@@city", "mvfile", "people.csv:3"),
        token(1, "@@name", "mvfile", "people.csv:1"),
        token(2, "@@id", "file", "people.csv:2"),
        token(3, "@@other", "mvfile", "other.csv:1")
    );
    let app = App::new("mvfile", &conf);
    app.sample("s.log", "@@name @@id @@city @@other @@name\n")
        .sample("people.csv", &people(20))
        .sample("other.csv", "o0,x\no1,x\no2,x\n");
    let out = app.out(&[]);
    let mut rows = BTreeSet::new();
    let mut pairs = BTreeSet::new();
    for l in out.lines() {
        let f: Vec<&str> = l.split(' ').collect();
        let row = f[0].strip_prefix("name").unwrap_or_else(|| panic!("{l}"));
        assert_eq!(f[1], format!("id{row}"), "same row: {l}");
        assert_eq!(f[2], format!("city{row}"), "same row: {l}");
        assert_eq!(f[4], f[0], "{l}");
        rows.insert(row.to_string());
        pairs.insert((row.to_string(), f[3].to_string()));
    }
    assert_eq!(rows.len(), 20, "every row is picked");
    assert!(
        pairs.len() > 40,
        "another file draws its own row: {pairs:?}"
    );
}

#[test]
fn host_token_takes_a_row_of_its_own() {
    let conf = "[s.log]\noutputMode = modinput\ncount = 100\nend = 1\nhost = web-XX.example\n\
                host.token = XX\nhost.replacement = hosts.csv:2\n";
    let app = App::new("hosttoken", conf);
    app.sample("s.log", "body XX\n")
        .sample("hosts.csv", "a,01\nb,02\nc,03\n");
    let evs = app.xml(&[]);
    assert_eq!(evs.len(), 100);
    let hosts: BTreeSet<&str> = evs.iter().map(|e| e.host.as_str()).collect();
    assert_eq!(
        hosts,
        BTreeSet::from(["web-01.example", "web-02.example", "web-03.example"])
    );
    assert!(
        evs.iter().all(|e| e.data == "body XX\n"),
        "host.token does not touch _raw"
    );
}

#[test]
fn seqfile_goes_in_order_and_wraps() {
    let conf = format!(
        "[s.log]\noutputMode = stdout\ncount = 7\nend = 1\n{}{}",
        token(0, "@@s", "seqfile", "seq.txt"),
        token(1, "@@c", "seqfile", "seq.csv:2")
    );
    let app = App::new("seqfile", &conf);
    app.sample("s.log", "@@s @@c\n")
        .sample("seq.txt", "one\ntwo\nthree\n")
        .sample("seq.csv", "a,A\nb,B\n");
    assert_eq!(
        app.out(&[]),
        "one A\ntwo B\nthree A\none B\ntwo A\nthree B\none A\n"
    );
}

#[test]
fn integerid_increments_and_persists_with_state_dir() {
    let conf = format!(
        "[s.log]\noutputMode = stdout\ncount = 4\nend = 1\n{}",
        token(0, "@@id", "integerid", "100")
    );
    let app = App::new("integerid", &conf);
    app.sample("s.log", "id=@@id same=@@id\n");
    let expect = |from: i64| -> String {
        (from..from + 4)
            .map(|i| format!("id={i} same={i}\n"))
            .collect()
    };
    assert_eq!(app.out(&[]), expect(100));
    assert_eq!(app.out(&[]), expect(100), "no state dir: starts over");
    let state = app.path().join("state");
    let state = state.to_str().unwrap();
    assert_eq!(app.out(&["--state-dir", state]), expect(100));
    assert_eq!(
        app.out(&["--state-dir", state]),
        expect(104),
        "continues from the state dir"
    );
    assert_eq!(
        app.out(&["--state-dir", state, "-e", "2"]),
        format!("{}{}", expect(108), expect(112))
    );
}

#[test]
fn seqfile_continues_with_state_dir() {
    let conf = format!(
        "[s.log]\noutputMode = stdout\ncount = 2\nend = 1\n{}",
        token(0, "@@s", "seqfile", "seq.txt")
    );
    let app = App::new("seqstate", &conf);
    app.sample("s.log", "@@s\n")
        .sample("seq.txt", "one\ntwo\nthree\n");
    let state = app.path().join("state");
    let state = state.to_str().unwrap();
    assert_eq!(app.out(&["--state-dir", state]), "one\ntwo\n");
    assert_eq!(app.out(&["--state-dir", state]), "three\none\n");
}

#[test]
fn a_token_that_does_not_match_leaves_the_event_alone() {
    let conf = format!(
        "[s.log]\noutputMode = stdout\ncount = 3\nend = 1\n{}",
        token(0, "@@id", "integerid", "1")
    );
    let app = App::new("nomatch", &conf);
    app.sample("s.log", "plain\nid=@@id\n");
    // The counter advances only on events that contain the token.
    assert_eq!(app.out(&[]), "plain\nid=1\nplain\n");
    let mut counts: HashMap<String, usize> = HashMap::new();
    for l in app.out(&["-c", "6"]).lines() {
        *counts.entry(l.to_string()).or_default() += 1;
    }
    assert_eq!(counts.len(), 4, "{counts:?}");
    assert_eq!(counts["plain"], 3);
}
