//! Splunk layering as users rely on it: `default/` < `local/`, `[global]` inheritance,
//! exact stanzas over patterns, and pattern stanzas that match several files.

use std::collections::BTreeMap;

use crate::support::*;

#[test]
fn local_overrides_default_key_by_key() {
    let app = App::new(
        "local",
        "[s.log]\noutputMode = modinput\ncount = 2\nend = 1\nsourcetype = from_default\nhost = h-default\n",
    );
    app.sample("s.log", "x\n");
    app.local("[s.log]\nsourcetype = from_local\n");
    let evs = app.xml(&[]);
    assert_eq!(evs.len(), 2, "count from default");
    assert!(
        evs.iter()
            .all(|e| e.sourcetype == "from_local" && e.host == "h-default"),
        "{evs:?}"
    );
}

#[test]
fn local_can_enable_a_disabled_default_stanza() {
    let app = App::new(
        "enable",
        "[s.log]\ndisabled = true\noutputMode = stdout\ncount = 1\nend = 1\n",
    );
    app.sample("s.log", "x\n");
    let o = app.run(&[]);
    assert_code(&o, 2);
    assert!(stdout(&o).is_empty());
    app.local("[s.log]\ndisabled = false\n");
    assert_eq!(app.out(&[]), "x\n");
}

#[test]
fn global_settings_are_inherited() {
    let conf = format!(
        "[global]\nsourcetype = gst\nindex = gidx\nend = 2\ncount = 1\noutputMode = modinput\ntimezone = -0500\n\n[s.log]\nhost = h\n{}",
        token(0, "@@t", "timestamp", "%z")
    );
    let app = App::new("global", &conf);
    app.sample("s.log", "@@t\n");
    let evs = app.xml(&[]);
    assert_eq!(evs.len(), 2, "global end = 2 is inherited: {evs:?}");
    for e in &evs {
        assert_eq!(
            (e.sourcetype.as_str(), e.index.as_str(), e.host.as_str()),
            ("gst", "gidx", "h")
        );
        assert_eq!(e.data, "-0500\n", "global timezone is inherited");
    }
}

/// Groups modinput events by source: source -> (host, sourcetype, data) of each event.
fn by_source(evs: &[XmlEvent]) -> BTreeMap<String, Vec<(String, String, String)>> {
    let mut m: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for e in evs {
        m.entry(e.source.clone()).or_default().push((
            e.host.clone(),
            e.sourcetype.clone(),
            e.data.clone(),
        ));
    }
    m
}

#[test]
fn pattern_stanza_matching_several_files_runs_each_file() {
    let app = App::new(
        "pattern-many",
        "[.*\\.log]\noutputMode = modinput\ncount = 2\nend = 1\nsourcetype = logs\n",
    );
    app.sample("a.log", "line of a\n")
        .sample("b.log", "line of b\n")
        .sample("c.txt", "not me\n");
    let m = by_source(&app.xml(&[]));
    assert_eq!(m.keys().collect::<Vec<_>>(), ["a.log", "b.log"], "{m:?}");
    assert!(
        m["a.log"]
            .iter()
            .all(|(_, st, d)| st == "logs" && d == "line of a\n"),
        "{m:?}"
    );
    assert!(
        m["b.log"]
            .iter()
            .all(|(_, st, d)| st == "logs" && d == "line of b\n"),
        "{m:?}"
    );
    assert_eq!(m["a.log"].len(), 2);
    assert_eq!(m["b.log"].len(), 2);
}

#[test]
fn exact_stanza_wins_pattern_fills_in_and_its_tokens_come_after() {
    let conf = format!(
        "[.*\\.log]\noutputMode = modinput\ncount = 1\nend = 1\nsourcetype = from_pattern\nhost = pattern-host\n{}\n\
         [a.log]\nsourcetype = from_exact\n{}",
        token(0, "@@y", "static", "P"),
        token(0, "@@x", "static", "<@@y>")
    );
    let app = App::new("exact-pattern", &conf);
    app.sample("a.log", "a @@x\n")
        .sample("b.log", "b @@x @@y\n");
    let m = by_source(&app.xml(&[]));
    assert_eq!(
        m["a.log"],
        [("pattern-host".into(), "from_exact".into(), "a <P>\n".into())],
        "exact sourcetype wins, pattern host and count fill in, pattern token runs after the exact one"
    );
    assert_eq!(
        m["b.log"],
        [(
            "pattern-host".into(),
            "from_pattern".into(),
            "b @@x P\n".into()
        )]
    );
}

#[test]
fn exact_stanza_in_local_overrides_pattern_in_default() {
    let app = App::new(
        "pattern-local",
        "[.*]\noutputMode = modinput\ncount = 1\nend = 1\nindex = pidx\n",
    );
    app.sample("a.log", "a\n").sample("b.log", "b\n");
    app.local("[b.log]\nindex = bidx\n");
    let evs = app.xml(&[]);
    let idx: BTreeMap<&str, &str> = evs
        .iter()
        .map(|e| (e.source.as_str(), e.index.as_str()))
        .collect();
    assert_eq!(idx, BTreeMap::from([("a.log", "pidx"), ("b.log", "bidx")]));
}

#[test]
fn longer_pattern_wins_over_shorter() {
    let app = App::new(
        "pattern-longest",
        "[.*]\noutputMode = modinput\ncount = 1\nend = 1\nsourcetype = short\n[web.*\\.log]\nsourcetype = long\n",
    );
    app.sample("web1.log", "w\n").sample("db.log", "d\n");
    let evs = app.xml(&[]);
    let st: BTreeMap<&str, &str> = evs
        .iter()
        .map(|e| (e.source.as_str(), e.sourcetype.as_str()))
        .collect();
    assert_eq!(
        st,
        BTreeMap::from([("db.log", "short"), ("web1.log", "long")])
    );
}

#[test]
fn sample_dir_relative_to_a_plain_conf_file() {
    let d = TempDir::new("sampledir");
    d.write("conf/data/s.log", "from data\n");
    let conf = d.write(
        "conf/x.conf",
        "[s.log]\nsampleDir = data\noutputMode = stdout\ncount = 1\nend = 1\n",
    );
    // Run from another folder: the path is relative to the conf file, not the cwd.
    let o = run(&[
        "generate",
        conf.to_str().unwrap(),
        "--now",
        NOW,
        "--seed",
        "1",
    ]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "from data\n");
}

#[test]
fn conf_syntax_comments_continuations_and_last_duplicate() {
    let app = App::new(
        "syntax",
        "# a comment\n[s.log]\n  outputMode = stdout  \ncount = 9\ncount = 2\nend = 1\n\
         token.0.token = @@a\ntoken.0.replacementType = static\ntoken.0.replacement = one \\\ntwo\n",
    );
    app.sample("s.log", "@@a\n");
    // As in Splunk, the backslash goes and the line break stays part of the value; the later
    // `count` wins, with a warning naming both lines.
    let o = app.run(&[]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "one \ntwo\n".repeat(2));
    assert_eq!(
        stderr(&o),
        "WARN ./default/eventgen.conf:5: [s.log] count: set twice in this stanza (line 4 and here); this later line wins, as in Splunk\n"
    );
}
