//! Eventgen 7.2.1's own configuration corpus (`EVENTGEN_CORPUS`, else `../shared/eventgen-corpus`;
//! the test prints a SKIP line when neither exists), run through the real binary: every config
//! gets `eventgen check` and, unless its row says it is unsupported, `eventgen generate` on a
//! virtual clock. Each config is copied to a temporary file
//! with absolute `sampleDir`s and its outputs pointed at temporary files or loopback receivers;
//! the working directory is the corpus root, as Eventgen resolves replacement files against it.
//! The table below mirrors `docs/compatibility.md`; the test lists every row that misbehaves.

use crate::support::*;
use std::io::Read;
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::hec_server;
use crate::splunkd_server;

/// What a corpus config is expected to do, as in docs/compatibility.md.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// Behaves as Eventgen documents and its tests assert.
    Same,
    /// Runs, but deliberately differs from Eventgen 7.2.1 (why).
    Different(&'static str),
    /// `eventgen check` rejects it with a message naming the cause (why).
    Unsupported(&'static str),
}

/// How a row is verified.
#[derive(Clone, Copy)]
enum Check {
    /// `check` exits 2 and its output contains every string.
    Rejected(&'static [&'static str]),
    /// `check` passes; nothing to generate (a defaults-only file).
    PlanOnly,
    /// Eventgen drops every stanza with a warning: `check` exits 0 with 0 samples and warns
    /// with every string; `generate` has nothing to run.
    Dropped(&'static [&'static str]),
    /// `check` passes and generate's collected output has exactly this many lines.
    Lines(usize),
    /// `check` passes and this function accepts the run.
    Run(fn(&Outcome) -> Result<(), String>),
}

struct Row {
    conf: &'static str,
    expect: Expect,
    /// Extra arguments for `generate` (after `--now` and `--seed`).
    args: &'static [&'static str],
    check: Check,
}

/// Everything one `generate` run produced.
struct Outcome {
    /// stdout, files written, spool files, TCP bytes, UDP datagrams (one per line) and HEC event
    /// texts, concatenated.
    text: String,
    stdout: String,
    stderr: String,
    hec: Vec<serde_json::Value>,
    /// splunkstream requests the scripted splunkd accepted.
    splunkd: Vec<splunkd_server::Received>,
    udp_datagrams: usize,
}

impl Outcome {
    fn lines(&self) -> Vec<&str> {
        self.text.lines().filter(|l| !l.is_empty()).collect()
    }
}

const NOW: &str = "2024-01-01T00:00:00Z";

fn lines_starting_with_ts(o: &Outcome, lo: &str, hi: &str, want: usize) -> Result<(), String> {
    let lines = o.lines();
    if lines.len() != want {
        return Err(format!("{} lines, want {want}", lines.len()));
    }
    for l in &lines {
        let ts = l.get(..19).unwrap_or("");
        if !(lo..=hi).contains(&ts) {
            return Err(format!("timestamp {ts:?} outside [{lo}, {hi}]: {l}"));
        }
    }
    Ok(())
}

/// `eventgen_sample.conf` family: 12 events stamped within 20 s before now.
fn sample12(o: &Outcome) -> Result<(), String> {
    lines_starting_with_ts(o, "2023-12-31 23:59:40", "2024-01-01 00:00:00", 12)
}

fn sample12_latest(o: &Outcome) -> Result<(), String> {
    lines_starting_with_ts(o, "2024-01-01 00:00:00", "2024-01-01 00:00:17", 12)
}

fn backfill15(o: &Outcome) -> Result<(), String> {
    // backfill -15s with interval 60: one backfill interval, then the live one.
    lines_starting_with_ts(o, "2023-12-31 23:59:44", "2024-01-01 00:00:00", 24)
}

fn replay_in_order(o: &Outcome, want: usize) -> Result<(), String> {
    let lines = o.lines();
    if lines.len() != want {
        return Err(format!("{} lines, want {want}", lines.len()));
    }
    let ts: Vec<&str> = lines.iter().map(|l| l.get(..19).unwrap_or("")).collect();
    if ts.windows(2).any(|w| w[0] > w[1]) {
        return Err(format!("replay out of order: {ts:?}"));
    }
    Ok(())
}

fn replay12(o: &Outcome) -> Result<(), String> {
    replay_in_order(o, 12)?;
    let first = o.lines()[0];
    if !first.starts_with("2024-01-01 00:00:00") {
        return Err(format!("first replayed event not at now: {first}"));
    }
    Ok(())
}

fn replay24(o: &Outcome) -> Result<(), String> {
    replay_in_order(o, 24)
}

fn replay_backfill27(o: &Outcome) -> Result<(), String> {
    replay_in_order(o, 27)
}

fn replay_backfill89(o: &Outcome) -> Result<(), String> {
    replay_in_order(o, 89)?;
    // backfill passes from now - 120 s, then two live passes of the 21 s sample
    let last = o.lines()[88].get(..19).unwrap_or("");
    if last > "2024-01-01 00:00:43" {
        return Err(format!("last event {last} too late"));
    }
    Ok(())
}

fn replay_csv_tz(o: &Outcome) -> Result<(), String> {
    let lines = o.lines();
    if lines.len() != 4 {
        return Err(format!("{} events, want 4", lines.len()));
    }
    // timezone -0100: the timestamps are one hour before the UTC now.
    for l in lines {
        if !l.starts_with("2023-12-31T23:") {
            return Err(format!("not rendered at UTC-1: {l}"));
        }
    }
    Ok(())
}

fn tutorial1_2019(o: &Outcome) -> Result<(), String> {
    let n = o.lines().len();
    if n != 2019 {
        return Err(format!("{n} lines, want 2019"));
    }
    if o.text.contains("2014-") || o.text.contains("2013-") {
        return Err("an original timestamp was not replaced".into());
    }
    Ok(())
}

fn token_replacement(o: &Outcome) -> Result<(), String> {
    let lines = o.lines();
    if lines.len() != 10 {
        return Err(format!("{} events, want 10", lines.len()));
    }
    let city = std::fs::read_to_string(corpus().join("tests/large/sample/city.csv"))
        .map_err(|e| e.to_string())?;
    for (i, l) in lines.iter().enumerate() {
        let v: serde_json::Value =
            serde_json::from_str(l).map_err(|e| format!("event {i} is not JSON ({e}): {l}"))?;
        let s = |k: &str| {
            v.pointer(k)
                .and_then(|x| x.as_str())
                .unwrap_or("")
                .to_string()
        };
        if s("/ppcustomdata/receiver_id") != (i + 1).to_string() {
            return Err(format!(
                "receiver_id {} at event {i}",
                s("/ppcustomdata/receiver_id")
            ));
        }
        if s("/netPerf/lastByte") != "0" {
            return Err(format!("lastByte {}", s("/netPerf/lastByte")));
        }
        let bytes: i64 = s("/message/bytes").parse().unwrap_or(-1);
        if !(40..=5000).contains(&bytes) {
            return Err(format!("bytes {bytes}"));
        }
        let rtt: f64 = s("/netPerf/lastMileRTT").parse().unwrap_or(99.0);
        if !(-3.0..=3.0).contains(&rtt) {
            return Err(format!("lastMileRTT {rtt}"));
        }
        if s("/akadebug/Ak_IP").split('.').count() != 4
            || s("/akadebug/forward-origin-ip").split(':').count() != 8
        {
            return Err(format!("ip shapes: {l}"));
        }
        if s("/akadebug/end-user-ip").split(':').count() != 6 {
            return Err(format!("mac shape: {l}"));
        }
        let city_name = s("/geo/city");
        if city_name.is_empty() || !city.contains(&city_name) {
            return Err(format!("city {city_name:?} not from city.csv"));
        }
    }
    Ok(())
}

fn jinja_seq(o: &Outcome, word: &str) -> Result<(), String> {
    let lines = o.lines();
    if lines.len() != 10 {
        return Err(format!("{} lines, want 10", lines.len()));
    }
    for (i, l) in lines.iter().enumerate() {
        let want = format!(" test jinja template {word}, seq: {}/10", i + 1);
        if !l.ends_with(&want)
            || !(l.starts_with("2023-12-31T23:59:5") || l.starts_with("2024-01-01T00:00:0"))
        {
            return Err(format!("line {i}: {l:?}, want ...{want:?}"));
        }
    }
    Ok(())
}

fn jinja_simple(o: &Outcome) -> Result<(), String> {
    jinja_seq(o, "generator")
}

fn jinja_dir(o: &Outcome) -> Result<(), String> {
    jinja_seq(o, "directory conf")
}

fn jinja_advance(o: &Outcome) -> Result<(), String> {
    let lines = o.lines();
    if lines.len() != 27 {
        return Err(format!("{} lines, want 27", lines.len()));
    }
    for (k, chunk) in lines.chunks(3).enumerate() {
        let j = k % 3 + 1;
        let ts = [
            "1970-01-01T00:24:16",
            "1970-01-01T00:27:58",
            "1970-01-01T00:31:40",
        ][j - 1];
        let want = format!(" [admin] test jinja template advance, switch=True, seq: {j}/3");
        if !chunk[0].starts_with(ts) || !chunk[0].ends_with(&want) {
            return Err(format!("event {k}: {:?}, want {ts}...{want}", chunk[0]));
        }
    }
    Ok(())
}

fn modinput(o: &Outcome) -> Result<(), String> {
    let blocks: Vec<&str> = o.stdout.split("<event>").skip(1).collect();
    if blocks.len() != 12 {
        return Err(format!("{} <event> blocks, want 12", blocks.len()));
    }
    for b in blocks {
        let order = [
            "<time>",
            "<index>main<",
            "<source>eventgen<",
            "<sourcetype>eventgen<",
        ];
        let mut at = 0;
        for tag in order.iter().chain(["<host>127.0.0.1<", "<data>"].iter()) {
            match b[at..].find(tag) {
                Some(p) => at += p,
                None => return Err(format!("{tag} missing or out of order in {b}")),
            }
        }
        if !b.contains("WINDBAG Event") || b.contains("@@") {
            return Err(format!("bad data in {b}"));
        }
    }
    Ok(())
}

/// Events the run counted (devnull rows run with `-v`: `INFO generated N events …`).
fn generated(o: &Outcome) -> Result<usize, String> {
    o.stderr
        .lines()
        .find_map(|l| l.strip_prefix("INFO generated "))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("no event count in stderr:\n{}", o.stderr))
}

/// devnull writes nothing, yet the events were generated.
fn devnull_at_least(o: &Outcome, want: usize) -> Result<(), String> {
    if !o.text.is_empty() {
        return Err(format!("devnull wrote {} bytes", o.text.len()));
    }
    match generated(o)? {
        n if n >= want => Ok(()),
        n => Err(format!("{n} events generated, want at least {want}")),
    }
}

/// `eventgen_plugin_devnull`: the 12-line sample once, into the void.
fn devnull12(o: &Outcome) -> Result<(), String> {
    devnull_at_least(o, 12)?;
    match generated(o)? {
        12 => Ok(()),
        n => Err(format!("{n} events generated, want 12")),
    }
}

/// perf rows: `-c 100 -b … -e 2`: at least the two live intervals of 100 events.
fn devnull_perf(o: &Outcome) -> Result<(), String> {
    devnull_at_least(o, 200)
}

/// Rated counts: `count` × hourOfDayRate(0h) × dayOfWeekRate(Monday) × (1 ± randomizeCount/2)
/// per interval, every event stamped within the interval's window.
fn rated(
    o: &Outcome,
    per_interval: f64,
    intervals: usize,
    ts: fn(&str) -> bool,
) -> Result<(), String> {
    let lines = o.lines();
    let lo = (per_interval * 0.9).floor() as usize * intervals;
    let hi = (per_interval * 1.1).ceil() as usize * intervals;
    if !(lo..=hi).contains(&lines.len()) {
        return Err(format!("{} events, want {lo}..={hi}", lines.len()));
    }
    match lines.iter().find(|l| !ts(l)) {
        Some(bad) => Err(format!(
            "timestamp not replaced or outside the window: {bad}"
        )),
        None => Ok(()),
    }
}

/// tutorial2: count 20 × 0.8 (hour 0) × 0.7 (Monday), `%b %d %H:%M:%S` within -15s..now.
fn tutorial2(o: &Outcome) -> Result<(), String> {
    // Lines of the sample that carry a `Mmm dd HH:MM:SS` time (some are continuation lines).
    rated(o, 20.0 * 0.8 * 0.7, 2, |l| {
        let b = l.as_bytes();
        let stamped = b.len() > 15 && b[9] == b':' && b[12] == b':' && b[3] == b' ';
        !stamped
            || l.starts_with("Dec 31 23:59:4")
            || l.starts_with("Dec 31 23:59:5")
            || l.starts_with("Jan 01 00:00:0")
            || l.starts_with("Jan 01 00:00:1")
    })
}

/// tutorial3: count 10000 × 0.30 (hour 0) × 0.97 (Monday), one-second windows.
fn tutorial3(o: &Outcome) -> Result<(), String> {
    rated(o, 10000.0 * 0.30 * 0.97, 2, |l| {
        l.starts_with("2023-12-31 23:59:59") || l.starts_with("2024-01-01 00:00:0")
    })
}

/// bundlelines (deliberately different): the whole file is one event, `count` of them per
/// interval — 3 × 3 events, each the whole 5-line file; Eventgen sent 3 events of 3 copies.
fn bundled(o: &Outcome, lines_per_event: usize) -> Result<(), String> {
    let events: Vec<&str> = o.stdout.split("<event").skip(1).collect();
    if events.len() != 9 {
        return Err(format!("{} events, want 9 (3 per interval)", events.len()));
    }
    for e in &events {
        let data = e.split("<data>").nth(1).unwrap_or("");
        let data = data.split("</data>").next().unwrap_or("");
        let n = data.trim_end().lines().count();
        if n != lines_per_event {
            return Err(format!(
                "an event of {n} lines, want the whole file ({lines_per_event}): {data}"
            ));
        }
    }
    Ok(())
}

/// perDayVolume: GB × 1024³ × interval / 86400 bytes per interval (cumulative budget), within
/// 10 % over the run.
fn volume(o: &Outcome, gb: f64, interval: f64, intervals: f64) -> Result<(), String> {
    let want = gb * 1024f64.powi(3) * interval / 86400.0 * intervals;
    let got = o.text.len() as f64;
    if (got / want - 1.0).abs() > 0.1 {
        return Err(format!(
            "{got} bytes, want about {want:.0} (perDayVolume {gb} GB)"
        ));
    }
    Ok(())
}

/// `tests/large` perdayvolume configs: 1 GB/day, default interval 60, `-e 2`.
fn volume_large(o: &Outcome) -> Result<(), String> {
    volume(o, 1.0, 60.0, 2.0)
}

/// `perdayvolume/eventgen.conf.perdayvolume`: 1.1 GB/day, interval 1, end 10.
fn volume_small(o: &Outcome) -> Result<(), String> {
    volume(o, 1.1, 1.0, 10.0)
}

/// `jinja_basic`: the template's loop, `large_number` = 10 events numbered 1..10 in order.
fn jinja_basic(o: &Outcome) -> Result<(), String> {
    let lines = o.lines();
    if lines.len() != 10 {
        return Err(format!("{} events, want 10", lines.len()));
    }
    for (i, l) in lines.iter().enumerate() {
        let want = format!("I like little windbags. Im at: {} out of: 10", i + 1);
        if !l.contains(&want) {
            return Err(format!("event {}: {l} lacks {want:?}", i + 1));
        }
    }
    Ok(())
}

/// `replay/eventgen.conf.replay` (deliberately different): one pass of the 12-event sample
/// from now, in time order (Event 1..12), `@@integer` replaced by integer[0:10].
fn replay_pass12(o: &Outcome) -> Result<(), String> {
    let lines = o.lines();
    replay_in_order(o, 12)?;
    if !lines[0].starts_with("2024-01-01 00:00:00") {
        return Err(format!("the pass does not start at now: {}", lines[0]));
    }
    for (k, l) in lines[lines.len() - 12..].iter().enumerate() {
        let want = format!("WINDBAG Event {} of 12 randint ", k + 1);
        let n = l
            .split(&want)
            .nth(1)
            .and_then(|t| t.trim().parse::<u32>().ok());
        if n.is_none_or(|n| n > 10) {
            return Err(format!("last pass, event {}: {l}", k + 1));
        }
    }
    Ok(())
}

fn bundled_raw(o: &Outcome) -> Result<(), String> {
    bundled(o, 5)
}

/// badtimestamp (deliberately different): every event of the 9-line sample is sent (Eventgen
/// skipped those without a time), and the run warns about them.
fn badtimestamp(o: &Outcome) -> Result<(), String> {
    let lines = o.lines();
    if lines.len() != 9 {
        return Err(format!("{} events, want all 9", lines.len()));
    }
    // The events with a time are replayed from now.
    if let Some(bad) = lines
        .iter()
        .find(|l| l.starts_with("20") && !l.starts_with("2024-01-01 00:00:"))
    {
        return Err(format!("timestamp not replayed from now: {bad}"));
    }
    if !o.stderr.contains("replay:") || !o.stderr.contains("have no time") {
        return Err(format!("no replay warning:\n{}", o.stderr));
    }
    Ok(())
}

fn hec12(o: &Outcome) -> Result<(), String> {
    if o.hec.len() != 12 {
        return Err(format!("{} HEC events, want 12", o.hec.len()));
    }
    if o.hec.iter().any(|e| e["sourcetype"] != "httpevent") {
        return Err(format!("sourcetype not httpevent: {:?}", o.hec.first()));
    }
    Ok(())
}

fn hec_extend_index(o: &Outcome) -> Result<(), String> {
    let idx = |e: &serde_json::Value| e["index"].as_str().unwrap_or("").to_string();
    let main = o
        .hec
        .iter()
        .filter(|e| idx(e) == "main" && e["sourcetype"] == "cisco")
        .count();
    let test = o.hec.iter().filter(|e| idx(e).starts_with("test_")).count();
    if main != 12 || test + o.hec.iter().filter(|e| e["sourcetype"] == "syslog").count() != 24 {
        return Err(format!(
            "main/cisco {main}, test_* {test}, total {}",
            o.hec.len()
        ));
    }
    Ok(())
}

fn hec_windbag(o: &Outcome) -> Result<(), String> {
    if o.hec.len() != 15 {
        return Err(format!("{} HEC events, want 15 (5 x end 3)", o.hec.len()));
    }
    Ok(())
}

fn windbag5(o: &Outcome) -> Result<(), String> {
    let lines = o.lines();
    if lines.len() != 5 {
        return Err(format!("{} lines, want 5", lines.len()));
    }
    for (i, l) in lines.iter().enumerate() {
        if !l.contains(&format!("-0700 WINDBAG Event {} of 5", i + 1)) {
            return Err(format!("line {i}: {l}"));
        }
    }
    Ok(())
}

fn udp5(o: &Outcome) -> Result<(), String> {
    windbag5(o)?;
    if o.udp_datagrams != 5 {
        return Err(format!("{} datagrams, want 5", o.udp_datagrams));
    }
    Ok(())
}

fn syslog5(o: &Outcome) -> Result<(), String> {
    udp5(o)?;
    if o.lines().iter().any(|l| !l.starts_with("<14>")) {
        return Err(format!("no <14> priority: {}", o.text));
    }
    Ok(())
}

/// Eventgen's splunkstream plugin test: 12 events with its sourcetype in the query.
fn splunkstream12(o: &Outcome) -> Result<(), String> {
    let lines: usize = o.splunkd.iter().map(|r| r.body.lines().count()).sum();
    if lines != 12
        || o.splunkd
            .iter()
            .any(|r| r.param("sourcetype") != Some("splunkstream"))
    {
        return Err(format!(
            "{lines} splunkstream events in {} requests",
            o.splunkd.len()
        ));
    }
    Ok(())
}

/// Bundled CSV samples sent through splunkstream (tutorial3 standalone, tutorial4): every
/// request carries `meta` (index, host, source, sourcetype of the CSV's first row); each
/// event is the whole file, `rows` lines, every line stamped with the window's latest time
/// (`replaytimestamp` outside replay, `%b %d %H:%M:%S:%f`); count 10 × 0.30 (hour 0) × 0.97
/// (Monday) ± randomizeCount per 3-second interval, two intervals; `gone` no longer appears.
fn bundled_stream(o: &Outcome, meta: [&str; 4], rows: usize, gone: &str) -> Result<(), String> {
    if o.splunkd.is_empty() {
        return Err("no splunkstream request".into());
    }
    for r in &o.splunkd {
        let got = ["index", "host", "source", "sourcetype"].map(|k| r.param(k).unwrap_or(""));
        if got != meta {
            return Err(format!("request metadata {got:?}, want {meta:?}"));
        }
    }
    let lines = o.lines();
    let events = lines.len() / rows;
    if !lines.len().is_multiple_of(rows) || !(4..=8).contains(&events) {
        return Err(format!(
            "{} lines: want 4..=8 events of {rows} lines",
            lines.len()
        ));
    }
    if let Some(l) = lines.iter().find(|l| !l.starts_with("Jan 01 00:00:0")) {
        return Err(format!("line not stamped with its window: {l}"));
    }
    if o.text.contains(gone) {
        return Err(format!("{gone} was not replaced"));
    }
    Ok(())
}

fn tutorial3_stream(o: &Outcome) -> Result<(), String> {
    bundled_stream(
        o,
        ["oidemo", "localhost", "/var/log/radius.log", "radius"],
        5,
        "5559031692",
    )
}

fn tutorial4_stream(o: &Outcome) -> Result<(), String> {
    bundled_stream(
        o,
        ["main", "proxy.splunk.com", "/var/log/proxy.log", "proxy"],
        3,
        "5.5.5.5",
    )?;
    // `468` and `1488` become random integers in [100, 1000] and [200, 4000].
    for l in o
        .lines()
        .iter()
        .filter(|l| l.contains(" POST ") || l.contains(" GET "))
    {
        let mut n = l.rsplit(' ').map(|w| w.parse::<u32>().unwrap_or(0));
        let (b, a) = (n.next().unwrap_or(0), n.next().unwrap_or(0));
        if !(100..=1000).contains(&a) || !(200..=4000).contains(&b) {
            return Err(format!("integer tokens out of range: {l}"));
        }
    }
    Ok(())
}

/// `backfillreplay`: timeMultiple 2, interval 0, backfill -15m, end 3: Eventgen's walk back
/// gives 255 events before now, then three passes of 12 (42 s each).
fn backfill_replay291(o: &Outcome) -> Result<(), String> {
    replay_in_order(o, 291)?;
    stamped(o, 291, ("2023-12-31 23:45:00", "2024-01-01 00:02:06"))
}

/// `largerconfig` (`--output modinput`): windbag 5, `[sample]` 3 (`%s.%f` epochs), the
/// mobilemusic CSV 0 (count 1 × 0.30 at midnight rounds to 0, as in Eventgen), replay 12,
/// bundled CSV 3, breakersample 3; every event in its window.
fn largerconfig26(o: &Outcome) -> Result<(), String> {
    let events = parse_modinput(&o.stdout);
    let mut by_source = std::collections::BTreeMap::new();
    for e in &events {
        *by_source.entry(e.source.as_str()).or_insert(0) += 1;
    }
    let want = [
        ("breakersample", 3),
        ("sample", 3),
        ("windbag", 5),
        ("windbag.log", 15),
    ];
    if by_source.into_iter().collect::<Vec<_>>() != want {
        return Err(format!("{} events by source, want {want:?}", events.len()));
    }
    let now = epoch_ms(NOW) * 1000;
    for e in &events {
        let t = e.micros();
        if !(now - 3_000_000..=now + 42_000_000).contains(&t) {
            return Err(format!("event outside the run's windows: {e:?}"));
        }
        if e.source == "sample" {
            let epoch: f64 = e
                .data
                .split(' ')
                .next()
                .unwrap_or("")
                .parse()
                .unwrap_or(0.0);
            if !(1704067197.0..=1704067200.0).contains(&epoch) {
                return Err(format!("%s.%f outside -3s..now: {e:?}"));
            }
        }
    }
    Ok(())
}

/// `unit/eventgen.conf.config` (`--output stdout -e 2`): after `delay = 10`, two intervals of
/// 3 s of perDayVolume 1 GB/day × 0.30 (hour 0) × 0.97 (Monday), ± randomizeCount 0.2.
fn unit_config(o: &Outcome) -> Result<(), String> {
    let want = 1024f64.powi(3) * 3.0 / 86400.0 * 0.30 * 0.97 * 2.0;
    let got = o.text.len() as f64;
    if !(0.8..=1.2).contains(&(got / want)) {
        return Err(format!("{got} bytes, want about {want:.0}"));
    }
    let n = o.lines().len();
    stamped(o, n, ("2024-01-01 00:00:07", "2024-01-01 00:00:13"))
}

fn nonempty(o: &Outcome) -> Result<(), String> {
    if o.lines().is_empty() {
        Err("no events".into())
    } else {
        Ok(())
    }
}

fn autotimestamp(o: &Outcome) -> Result<(), String> {
    nonempty(o)?;
    if o.text.contains("2014-01-04") {
        return Err("autotimestamp = true did not replace the sample's timestamps".into());
    }
    Ok(())
}

fn replaytimestamp_cr(o: &Outcome) -> Result<(), String> {
    // 5 intervals x count 1 after a -5m backfill of 100 intervals; bundlelines makes the whole
    // CR-terminated CSV one event, so each firing gives all its rows.
    if o.lines().is_empty() {
        return Err("no events from the CR-terminated CSV sample".into());
    }
    if o.text.contains("\r") {
        return Err("carriage returns left in the output".into());
    }
    Ok(())
}

fn epochtime(o: &Outcome) -> Result<(), String> {
    let lines = o.lines();
    if lines.len() != 15 {
        return Err(format!("{} lines, want 15", lines.len()));
    }
    for l in lines {
        let epoch: f64 = l.split(' ').next().unwrap_or("").parse().unwrap_or(0.0);
        // five intervals of 3 s, each stamped within the 3 s before its start
        if !(1704067197.0..=1704067212.0).contains(&epoch) {
            return Err(format!("epoch out of window: {l}"));
        }
    }
    Ok(())
}

fn tutorial0_hec(o: &Outcome) -> Result<(), String> {
    if o.hec.is_empty() || o.hec.iter().any(|e| e["sourcetype"] != "httpevent") {
        return Err(format!("{} HEC events", o.hec.len()));
    }
    Ok(())
}

/// `want` events; every `YYYY-MM-DD HH:MM:SS` stamp `re` finds (`T` read as a space) lies in
/// `[lo, hi]`, at least one event carries one, and every `randint N` (the corpus samples'
/// `@@integer`, `integer[0:10]`) is in 0..=10.
fn stamped_by(o: &Outcome, want: usize, re: &str, (lo, hi): (&str, &str)) -> Result<(), String> {
    let lines = o.lines();
    if lines.len() != want {
        return Err(format!("{} events, want {want}", lines.len()));
    }
    let re = regex::Regex::new(re).unwrap();
    let mut stamps = 0;
    for l in &lines {
        for m in re.find_iter(l) {
            let ts = m.as_str().replace('T', " ");
            if !(lo..=hi).contains(&ts.as_str()) {
                return Err(format!("timestamp {ts} outside [{lo}, {hi}]: {l}"));
            }
            stamps += 1;
        }
        // Where the config defines `@@integer` (an unreplaced one fails the run anyway).
        if let Some(n) = l.split("randint ").nth(1)
            && !n.starts_with("@@")
        {
            match n.trim().parse::<u32>() {
                Ok(n) if n <= 10 => {}
                _ => return Err(format!("randint outside 0..=10: {l}")),
            }
        }
    }
    if stamps == 0 {
        return Err("no event carries a timestamp".into());
    }
    Ok(())
}

const ISO: &str = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}";
/// The live interval at now, `earliest = now`.
const AT_NOW: (&str, &str) = ("2024-01-01 00:00:00", "2024-01-01 00:00:00");
/// `earliest = -15s`.
const LAST_15S: (&str, &str) = ("2023-12-31 23:59:45", "2024-01-01 00:00:00");

fn stamped(o: &Outcome, want: usize, window: (&str, &str)) -> Result<(), String> {
    stamped_by(o, want, ISO, window)
}

/// `eventgen_plugin_file`, `_spool`, `_sample_end`: the 12-line sample once, at now.
fn file12_now(o: &Outcome) -> Result<(), String> {
    stamped(o, 12, AT_NOW)
}

fn sample12_15s(o: &Outcome) -> Result<(), String> {
    stamped(o, 12, LAST_15S)
}

fn count5_15s(o: &Outcome) -> Result<(), String> {
    stamped(o, 5, LAST_15S)
}

/// `timeorder.csv` in sample mode: its 10 rows' `_raw`, times replaced, at now.
fn csv10_now(o: &Outcome) -> Result<(), String> {
    stamped(o, 10, AT_NOW)
}

/// `[timeorder.*]` matches three CSV files of 10 rows.
fn csv30_now(o: &Outcome) -> Result<(), String> {
    stamped(o, 30, AT_NOW)
}

/// `eventgen_replay_csv` (`--output modinput`): the 9 CSV rows (10 lines, one row holds two)
/// replayed from now, each with
/// its row's metadata (index, host, sourcetype) and its `T` time replaced. The rows are in
/// reverse time order, so they all go out at once (Eventgen logs that it cannot sleep for
/// negative time and sends them too).
fn replay_csv10(o: &Outcome) -> Result<(), String> {
    let events = parse_modinput(&o.stdout);
    if events.len() != 9 {
        return Err(format!("{} events, want 9", events.len()));
    }
    let now = epoch_ms(NOW) * 1000;
    for e in &events {
        let t = e.micros();
        if !(now..=now + 60_000_000).contains(&t)
            || e.index != "_internal"
            || e.host != "host5.foobar.com"
            || e.data.contains("2015-08-18T")
        {
            return Err(format!("time, metadata or text not from the replay: {e:?}"));
        }
    }
    let first = &events[0].sourcetype;
    let last = &events[8].sourcetype;
    if first != "splunk_web_access" || last != "python_modular_input" {
        return Err(format!(
            "sourcetypes {first}..{last}, want the CSV rows' in order"
        ));
    }
    Ok(())
}

/// generatorWorkers = 5 changes nothing: 5 intervals of 20 s, 10 events each.
fn workers50(o: &Outcome) -> Result<(), String> {
    stamped(o, 50, ("2024-01-01 00:00:00", "2024-01-01 00:01:20"))
}

/// `-e 3`, interval 10: three intervals of the 12-line sample.
fn interval36(o: &Outcome) -> Result<(), String> {
    stamped(o, 36, ("2024-01-01 00:00:00", "2024-01-01 00:00:20"))
}

/// `[sample\d]`: sample1 and sample2, 12 lines each.
fn regex24(o: &Outcome) -> Result<(), String> {
    stamped(o, 24, LAST_15S)
}

/// `[sample.*]`: sample, sample1 and sample2.
fn regex36(o: &Outcome) -> Result<(), String> {
    stamped(o, 36, LAST_15S)
}

/// backfill -15m, interval 1, count 10, end 3: 900 backfill slices and 3 live intervals.
fn backfill9030(o: &Outcome) -> Result<(), String> {
    stamped(o, 9030, ("2023-12-31 23:45:00", "2024-01-01 00:00:02"))
}

/// `-3s..now` windows every 3 s, `end = 5`.
fn windows_3s(o: &Outcome, want: usize) -> Result<(), String> {
    stamped(o, want, ("2023-12-31 23:59:57", "2024-01-01 00:00:12"))
}

fn long50(o: &Outcome) -> Result<(), String> {
    windows_3s(o, 50)?;
    // `%Y-%m-%d %H:%M:%S.%f`: six digits of microseconds after each stamp.
    match o
        .lines()
        .iter()
        .find(|l| l.as_bytes().get(19) != Some(&b'.'))
    {
        Some(l) => Err(format!("no %f microseconds: {l}")),
        None => Ok(()),
    }
}

fn short15(o: &Outcome) -> Result<(), String> {
    windows_3s(o, 15)
}

/// No tokens: the first 3 lines of the sample, unchanged.
fn notoken3(o: &Outcome) -> Result<(), String> {
    let want = [
        "2014-01-04 20:54:34 WINDBAG Event 1 of 5",
        "2014-01-04 20:54:35 WINDBAG Event 2 of 5",
        "2014-01-04 20:54:36 WINDBAG Event 3 of 5",
    ];
    if o.lines() != want {
        return Err(format!("{:?}, want {want:?}", o.lines()));
    }
    Ok(())
}

/// windbag generator, count 5, interval 3, end 3: its own lines, stamped at each interval.
fn windbag15(o: &Outcome) -> Result<(), String> {
    stamped(o, 15, ("2024-01-01 00:00:00", "2024-01-01 00:00:06"))?;
    match o.lines().iter().find(|l| !l.contains("WINDBAG Event")) {
        Some(l) => Err(format!("not a windbag event: {l}")),
        None => Ok(()),
    }
}

/// Why `eventgen_sample_backfill.conf` gives 24 events here and 12 in Eventgen.
const BACKFILL_END: &str = "Eventgen counts the whole backfill as the first of end's intervals, so end = 1 with a backfill runs only the backfill (12 events); here end counts the live intervals after the backfill (24 events: one backfill slice, one live interval)";
/// Why `replay/eventgen.conf.replay` gives 12 events here and 15 in Eventgen.
const REPLAY_BACKFILL: &str = "Eventgen's replay backfill ignores interval, stamps each event with the gap to the event after it and lets the last one fall before the backfill time (3 events before the pass, 15 in all); here the backfill keeps interval between passes and stays in its window, which 5 s does not reach with interval 60 (the pass alone, 12 events)";

const SAMPLE_DIR_MISSING: &[&str] = &["does not exist", "Eventgen drops it too (set sampleDir)"];

#[rustfmt::skip]
const ROWS: &[Row] = &[
    // --- splunk_eventgen/README: the documentation's tutorials and examples
    Row { conf: "splunk_eventgen/README/eventgen-standalone.conf.tutorial1", expect: Expect::Same, args: &[], check: Check::Dropped(&["[cisco.sample] no file in", "Eventgen drops it too"]) },
    Row { conf: "splunk_eventgen/README/eventgen-standalone.conf.tutorial2", expect: Expect::Unsupported("its autoBillPayment.sample is not shipped and markets.sample has no column 7 (its splunkstream output is accepted)"), args: &[], check: Check::Rejected(&["autoBillPayment.sample", "column 7 does not exist"]) },
    Row { conf: "splunk_eventgen/README/eventgen-standalone.conf.tutorial3", expect: Expect::Same, args: &["-e", "2"], check: Check::Run(tutorial3_stream) },
    Row { conf: "splunk_eventgen/README/eventgen.conf.example", expect: Expect::Unsupported("not a configuration: a prose walk-through with file listings"), args: &[], check: Check::Rejected(&["expected `key = value`"]) },
    Row { conf: "splunk_eventgen/README/eventgen.conf.tutorial0", expect: Expect::Same, args: &[], check: Check::Run(tutorial0_hec) },
    Row { conf: "splunk_eventgen/README/eventgen.conf.tutorial1", expect: Expect::Different("replay plays the sample once when end is unset (Eventgen loops); sub-second replay times"), args: &[], check: Check::Run(tutorial1_2019) },
    Row { conf: "splunk_eventgen/README/eventgen.conf.tutorial2", expect: Expect::Same, args: &["-e", "2"], check: Check::Run(tutorial2) },
    Row { conf: "splunk_eventgen/README/eventgen.conf.tutorial3", expect: Expect::Same, args: &["-e", "2"], check: Check::Run(tutorial3) },
    Row { conf: "splunk_eventgen/README/eventgen.conf.tutorial4", expect: Expect::Same, args: &["-e", "2"], check: Check::Run(tutorial4_stream) },
    Row { conf: "splunk_eventgen/default/eventgen.conf", expect: Expect::Same, args: &[], check: Check::PlanOnly },
    // --- tests/large: Eventgen's functional tests
    Row { conf: "tests/large/conf/eventgen_extend_index.conf", expect: Expect::Same, args: &[], check: Check::Run(hec_extend_index) },
    Row { conf: "tests/large/conf/eventgen_jinja_advance.conf", expect: Expect::Same, args: &[], check: Check::Run(jinja_advance) },
    Row { conf: "tests/large/conf/eventgen_jinja_simple.conf", expect: Expect::Same, args: &[], check: Check::Run(jinja_simple) },
    Row { conf: "tests/large/conf/eventgen_jinja_tmpl_dir.conf", expect: Expect::Same, args: &[], check: Check::Run(jinja_dir) },
    Row { conf: "tests/large/conf/eventgen_output_modinput.conf", expect: Expect::Same, args: &[], check: Check::Run(modinput) },
    Row { conf: "tests/large/conf/eventgen_perdayvolume.conf", expect: Expect::Same, args: &["-e", "2"], check: Check::Run(volume_large) },
    Row { conf: "tests/large/conf/eventgen_perdayvolume_large_token.conf", expect: Expect::Same, args: &["-e", "2"], check: Check::Run(volume_large) },
    Row { conf: "tests/large/conf/eventgen_perdayvolume_small_token.conf", expect: Expect::Same, args: &["-e", "2"], check: Check::Run(volume_large) },
    Row { conf: "tests/large/conf/eventgen_plugin_devnull.conf", expect: Expect::Same, args: &["-v"], check: Check::Run(devnull12) },
    Row { conf: "tests/large/conf/eventgen_plugin_file.conf", expect: Expect::Same, args: &[], check: Check::Run(file12_now) },
    Row { conf: "tests/large/conf/eventgen_plugin_httpevent.conf", expect: Expect::Same, args: &[], check: Check::Run(hec12) },
    // Runs against go-s2s's receiver in tests/s2s.rs (which needs ../shared/tools).
    Row { conf: "tests/large/conf/eventgen_plugin_s2s.conf", expect: Expect::Different("S2S protocol v3 by default (s2sProtocol = 2 for Eventgen's v2), lengths counted in bytes (Eventgen's plugin crashes on Python 3)"), args: &[], check: Check::PlanOnly },
    Row { conf: "tests/large/conf/eventgen_plugin_splunkstream.conf", expect: Expect::Same, args: &[], check: Check::Run(splunkstream12) },
    Row { conf: "tests/large/conf/eventgen_plugin_spool.conf", expect: Expect::Same, args: &[], check: Check::Run(file12_now) },
    Row { conf: "tests/large/conf/eventgen_replay.conf", expect: Expect::Same, args: &[], check: Check::Run(replay12) },
    Row { conf: "tests/large/conf/eventgen_replay_backfill.conf", expect: Expect::Same, args: &[], check: Check::Run(replay_backfill27) },
    Row { conf: "tests/large/conf/eventgen_replay_backfill_greater_interval.conf", expect: Expect::Same, args: &[], check: Check::Run(replay_backfill89) },
    Row { conf: "tests/large/conf/eventgen_replay_csv.conf", expect: Expect::Same, args: &["--output", "modinput"], check: Check::Run(replay_csv10) },
    Row { conf: "tests/large/conf/eventgen_replay_csv_with_tz.conf", expect: Expect::Different("one pass (end unset); Eventgen loops until killed"), args: &[], check: Check::Run(replay_csv_tz) },
    Row { conf: "tests/large/conf/eventgen_replay_end_1.conf", expect: Expect::Same, args: &[], check: Check::Run(replay24) },
    Row { conf: "tests/large/conf/eventgen_replay_end_2.conf", expect: Expect::Same, args: &["-e", "2"], check: Check::Run(replay24) },
    Row { conf: "tests/large/conf/eventgen_replay_timeMultiple.conf", expect: Expect::Different("one pass when end is unset (Eventgen loops)"), args: &[], check: Check::Run(replay12_tm) },
    Row { conf: "tests/large/conf/eventgen_sample.conf", expect: Expect::Same, args: &[], check: Check::Run(sample12) },
    Row { conf: "tests/large/conf/eventgen_sample_backfill.conf", expect: Expect::Different(BACKFILL_END), args: &[], check: Check::Run(backfill15) },
    Row { conf: "tests/large/conf/eventgen_sample_breaker.conf", expect: Expect::Same, args: &[], check: Check::Run(breaker3) },
    Row { conf: "tests/large/conf/eventgen_sample_count.conf", expect: Expect::Same, args: &[], check: Check::Run(count5_15s) },
    Row { conf: "tests/large/conf/eventgen_sample_csv.conf", expect: Expect::Same, args: &[], check: Check::Run(csv10_now) },
    Row { conf: "tests/large/conf/eventgen_sample_earliest.conf", expect: Expect::Same, args: &[], check: Check::Run(sample12) },
    Row { conf: "tests/large/conf/eventgen_sample_end.conf", expect: Expect::Same, args: &[], check: Check::Run(sample12_15s) },
    Row { conf: "tests/large/conf/eventgen_sample_generatorWorkers.conf", expect: Expect::Same, args: &[], check: Check::Run(workers50) },
    Row { conf: "tests/large/conf/eventgen_sample_interval.conf", expect: Expect::Same, args: &["-e", "3"], check: Check::Run(interval36) },
    Row { conf: "tests/large/conf/eventgen_sample_latest.conf", expect: Expect::Same, args: &[], check: Check::Run(sample12_latest) },
    Row { conf: "tests/large/conf/eventgen_sample_multiprocess.conf", expect: Expect::Same, args: &[], check: Check::Run(sample12) },
    Row { conf: "tests/large/conf/eventgen_sample_regex_csv.conf", expect: Expect::Same, args: &[], check: Check::Run(csv30_now) },
    Row { conf: "tests/large/conf/eventgen_sample_regex_integer.conf", expect: Expect::Same, args: &[], check: Check::Run(regex24) },
    Row { conf: "tests/large/conf/eventgen_sample_regex_wildcard.conf", expect: Expect::Same, args: &[], check: Check::Run(regex36) },
    Row { conf: "tests/large/conf/eventgen_token_replacement.conf", expect: Expect::Same, args: &[], check: Check::Run(token_replacement) },
    Row { conf: "tests/large/conf/eventgen_tutorial1.conf", expect: Expect::Same, args: &[], check: Check::Run(tutorial1_2019) },
    // --- tests/perf: placeholders to fill in
    Row { conf: "tests/perf/eventgen.conf.test1", expect: Expect::Unsupported("template with placeholders (<GB/day>, <enter-port>)"), args: &[], check: Check::Rejected(&["perDayVolume: expected a number"]) },
    Row { conf: "tests/perf/eventgen.conf.test2", expect: Expect::Unsupported("template with placeholders (<GB/day>, <enter-port>)"), args: &[], check: Check::Rejected(&["perDayVolume: expected a number"]) },
    Row { conf: "tests/perf/eventgen.conf.test3", expect: Expect::Unsupported("template with placeholders (<GB/day>, <enter-port>)"), args: &[], check: Check::Rejected(&["perDayVolume: expected a number"]) },
    // --- tests/sample_eventgen_conf: the developers' feature configs
    Row { conf: "tests/sample_eventgen_conf/autotimestamp/eventgen.conf.autotimestamp", expect: Expect::Same, args: &[], check: Check::Run(autotimestamp) },
    Row { conf: "tests/sample_eventgen_conf/backfill/eventgen.conf.backfillend", expect: Expect::Same, args: &[], check: Check::Run(backfill9030) },
    Row { conf: "tests/sample_eventgen_conf/backfill/eventgen.conf.backfillreplay", expect: Expect::Same, args: &[], check: Check::Run(backfill_replay291) },
    Row { conf: "tests/sample_eventgen_conf/backfill/eventgen.conf.backfillsample", expect: Expect::Same, args: &[], check: Check::Run(backfill9030) },
    Row { conf: "tests/sample_eventgen_conf/breakersample/eventgen.conf.breakersample", expect: Expect::Same, args: &[], check: Check::Run(breaker9) },
    Row { conf: "tests/sample_eventgen_conf/breakersample/eventgen.conf.randombreakersample", expect: Expect::Same, args: &[], check: Check::Run(breaker9) },
    Row { conf: "tests/sample_eventgen_conf/bundlelines/eventgen.conf.bundlelinescsv", expect: Expect::Different("bundlelines emits count events per interval; Eventgen repeats the whole file count times"), args: &[], check: Check::Run(nonempty) },
    Row { conf: "tests/sample_eventgen_conf/bundlelines/eventgen.conf.bundlelinesraw", expect: Expect::Different("bundlelines emits count events per interval; Eventgen repeats the whole file count times"), args: &["--output", "modinput"], check: Check::Run(bundled_raw) },
    Row { conf: "tests/sample_eventgen_conf/counter/eventgen.conf.counter", expect: Expect::Different("splitSample divides the counter run exactly; Eventgen crashes on float counts (bug 11)"), args: &[], check: Check::Run(counter) },
    Row { conf: "tests/sample_eventgen_conf/eventgen.conf.test1", expect: Expect::Same, args: &[], check: Check::Dropped(SAMPLE_DIR_MISSING) },
    Row { conf: "tests/sample_eventgen_conf/httpevent/eventgen.conf.httpevent", expect: Expect::Same, args: &[], check: Check::Run(hec_windbag) },
    Row { conf: "tests/sample_eventgen_conf/jinja/eventgen.conf.jinja", expect: Expect::Unsupported("no sampleDir: its templates folder is looked up in ../samples (as in Eventgen); works with sampleDir = ."), args: &[], check: Check::Rejected(&["jinja template folder", "samples/templates not found"]) },
    Row { conf: "tests/sample_eventgen_conf/jinja/eventgen.conf.jinja_basic", expect: Expect::Same, args: &[], check: Check::Run(jinja_basic) },
    Row { conf: "tests/sample_eventgen_conf/jinja/eventgen.conf.jinja_example", expect: Expect::Unsupported("no sampleDir: its templates folder is looked up in ../samples (as in Eventgen); works with sampleDir = ."), args: &[], check: Check::Rejected(&["jinja template folder", "samples/templates not found"]) },
    Row { conf: "tests/sample_eventgen_conf/jinja/eventgen.conf.jinja_time_examples", expect: Expect::Unsupported("no sampleDir: its templates folder is looked up in ../samples (as in Eventgen); works with sampleDir = ."), args: &[], check: Check::Rejected(&["jinja template folder", "samples/templates not found"]) },
    Row { conf: "tests/sample_eventgen_conf/largerconfig/eventgen.conf.largerconfig", expect: Expect::Same, args: &["--output", "modinput"], check: Check::Run(largerconfig26) },
    Row { conf: "tests/sample_eventgen_conf/medium_test/eventgen.conf.fileoutput", expect: Expect::Same, args: &[], check: Check::Run(windbag5) },
    Row { conf: "tests/sample_eventgen_conf/medium_test/eventgen.conf.scsoutput", expect: Expect::Unsupported("scsout output (use file/spool or httpevent)"), args: &[], check: Check::Rejected(&["scsout is not supported"]) },
    Row { conf: "tests/sample_eventgen_conf/medium_test/eventgen.conf.syslogoutput", expect: Expect::Same, args: &[], check: Check::Run(syslog5) },
    Row { conf: "tests/sample_eventgen_conf/medium_test/eventgen.conf.syslogoutputwithheader", expect: Expect::Same, args: &[], check: Check::Run(syslog5) },
    Row { conf: "tests/sample_eventgen_conf/medium_test/eventgen.conf.tcpoutput", expect: Expect::Same, args: &[], check: Check::Run(windbag5) },
    Row { conf: "tests/sample_eventgen_conf/medium_test/eventgen.conf.udpoutput", expect: Expect::Same, args: &[], check: Check::Run(udp5) },
    Row { conf: "tests/sample_eventgen_conf/perdayvolume/eventgen.conf.perdayvolume", expect: Expect::Same, args: &[], check: Check::Run(volume_small) },
    Row { conf: "tests/sample_eventgen_conf/perdayvolume/eventgen.conf.perdayvolumesinglerun", expect: Expect::Unsupported("perDayVolume with interval = 0: Eventgen emits a full day's volume every second (bug 35)"), args: &[], check: Check::Rejected(&["perDayVolume needs interval > 0"]) },
    Row { conf: "tests/sample_eventgen_conf/perf/eventgen.conf.perfsample", expect: Expect::Same, args: &["-c", "100", "-b", "-10s", "-e", "2", "-v"], check: Check::Run(devnull_perf) },
    Row { conf: "tests/sample_eventgen_conf/perf/eventgen.conf.perfsampleweblog", expect: Expect::Same, args: &["-c", "100", "-b", "-10s", "-e", "2", "-v"], check: Check::Run(devnull_perf) },
    // Runs against go-s2s's receiver in tests/s2s.rs (which needs ../shared/tools).
    Row { conf: "tests/sample_eventgen_conf/perf/eventgen.conf.perfsampleweblog-s2s", expect: Expect::Different("S2S protocol v3 by default (s2sProtocol = 2 for Eventgen's v2), lengths counted in bytes (Eventgen's plugin crashes on Python 3)"), args: &[], check: Check::PlanOnly },
    Row { conf: "tests/sample_eventgen_conf/perf/eventgen.conf.perfweblog", expect: Expect::Unsupported("weblog generator (a Python plugin that only ran from Eventgen's source checkout); use a sample with tokens"), args: &[], check: Check::Rejected(&["weblog generator"]) },
    Row { conf: "tests/sample_eventgen_conf/perf/eventgen.conf.perfwindbag", expect: Expect::Same, args: &["-c", "100", "-b", "-60s", "-e", "2", "-v"], check: Check::Run(devnull_perf) },
    Row { conf: "tests/sample_eventgen_conf/replay/eventgen.conf.badtimestamp", expect: Expect::Different("events without a readable time keep the previous time and check warns; Eventgen skips them"), args: &[], check: Check::Run(badtimestamp) },
    Row { conf: "tests/sample_eventgen_conf/replay/eventgen.conf.replay", expect: Expect::Different(REPLAY_BACKFILL), args: &[], check: Check::Run(replay_pass12) },
    Row { conf: "tests/sample_eventgen_conf/replay/eventgen.conf.timeorder", expect: Expect::Same, args: &[], check: Check::Dropped(&["[timeorder] no file in", "try adding it to the stanza name"]) },
    // Its rate tables give 0.285 at midnight on a Monday (count 1 rounds to 0, as in Eventgen);
    // Thursday 19:00 has factor 1.
    Row { conf: "tests/sample_eventgen_conf/replaytimestamp/eventgen.conf.replaytimestamp", expect: Expect::Same, args: &["--now", "2024-01-04T19:00:00Z"], check: Check::Run(replaytimestamp_cr) },
    Row { conf: "tests/sample_eventgen_conf/sample/eventgen.conf.epochtime", expect: Expect::Same, args: &[], check: Check::Run(epochtime) },
    Row { conf: "tests/sample_eventgen_conf/sample/eventgen.conf.fullsample", expect: Expect::Different("count = 0 means the whole sample (Eventgen 7.2.1 generates nothing)"), args: &[], check: Check::Lines(25) },
    Row { conf: "tests/sample_eventgen_conf/sample/eventgen.conf.longsample", expect: Expect::Same, args: &[], check: Check::Run(long50) },
    Row { conf: "tests/sample_eventgen_conf/sample/eventgen.conf.notoken", expect: Expect::Same, args: &[], check: Check::Run(notoken3) },
    Row { conf: "tests/sample_eventgen_conf/sample/eventgen.conf.randomsample", expect: Expect::Same, args: &[], check: Check::Run(short15) },
    Row { conf: "tests/sample_eventgen_conf/sample/eventgen.conf.shortsample", expect: Expect::Same, args: &[], check: Check::Run(short15) },
    Row { conf: "tests/sample_eventgen_conf/scsout/eventgen.conf", expect: Expect::Unsupported("scsout output (use file/spool or httpevent)"), args: &[], check: Check::Rejected(&["scsout is not supported"]) },
    Row { conf: "tests/sample_eventgen_conf/splitsample/eventgen.conf.splitcounter", expect: Expect::Different("splitSample divides count exactly across workers (Eventgen crashes on float counts, bug 11)"), args: &[], check: Check::Lines(33) },
    Row { conf: "tests/sample_eventgen_conf/unit/eventgen.conf.config", expect: Expect::Same, args: &["--output", "stdout", "-e", "2"], check: Check::Run(unit_config) },
    Row { conf: "tests/sample_eventgen_conf/windbag/eventgen.conf.windbag", expect: Expect::Same, args: &[], check: Check::Run(windbag15) },
    Row { conf: "tests/sample_eventgen_conf/windbag/eventgen.conf.windbag.end", expect: Expect::Unsupported("interval = -1 and backfill = 1m (no sign) are invalid; Eventgen misbehaves on both"), args: &[], check: Check::Rejected(&["interval: must be >= 0", "backfill: expected"]) },
];

fn replay12_tm(o: &Outcome) -> Result<(), String> {
    replay_in_order(o, 12)?;
    // timeMultiple 0.5: the 21 s of the sample are played in 10.5 s (upstream: < now + 14 s)
    let last = o.lines()[11].get(..19).unwrap_or("");
    if last > "2024-01-01 00:00:13" {
        return Err(format!("last event at {last}, want before now + 14 s"));
    }
    Ok(())
}

fn breaker(o: &Outcome, want: usize) -> Result<(), String> {
    let n = o.text.lines().filter(|l| l.starts_with("20")).count();
    if n != want {
        return Err(format!(
            "{n} events (lines starting with a timestamp), want {want}"
        ));
    }
    if o.text.contains("20110414") {
        return Err("breaker timestamp not replaced".into());
    }
    Ok(())
}

fn counter(o: &Outcome) -> Result<(), String> {
    if !o.text.contains("Printing event 1 of 100") {
        return Err(format!("no counter events: {}", o.text));
    }
    Ok(())
}

fn breaker3(o: &Outcome) -> Result<(), String> {
    breaker(o, 3)
}

fn breaker9(o: &Outcome) -> Result<(), String> {
    breaker(o, 9)
}

/// `EVENTGEN_CORPUS`, else `eventgen-corpus` in a `shared` folder beside the repository (as
/// CI lays it out).
pub(crate) fn corpus() -> PathBuf {
    match std::env::var_os("EVENTGEN_CORPUS") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/eventgen-corpus"),
    }
}

/// Loopback receivers for one run.
struct Receivers {
    hec: hec_server::HecServer,
    splunkd: splunkd_server::SplunkdServer,
    tcp_port: u16,
    udp_port: u16,
    stop: Arc<AtomicBool>,
    tcp_data: Arc<Mutex<Vec<u8>>>,
    udp_data: Arc<Mutex<Vec<Vec<u8>>>>,
    threads: Vec<JoinHandle<()>>,
}

impl Receivers {
    fn start() -> Receivers {
        let stop = Arc::new(AtomicBool::new(false));
        let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
        tcp.set_nonblocking(true).unwrap();
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        udp.set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        let (tcp_port, udp_port) = (
            tcp.local_addr().unwrap().port(),
            udp.local_addr().unwrap().port(),
        );
        let tcp_data = Arc::new(Mutex::new(Vec::new()));
        let udp_data = Arc::new(Mutex::new(Vec::new()));
        let (s1, d1) = (stop.clone(), tcp_data.clone());
        let t1 = thread::spawn(move || {
            loop {
                match tcp.accept() {
                    Ok((mut c, _)) => {
                        c.set_nonblocking(false).unwrap();
                        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                        let mut buf = Vec::new();
                        let _ = c.read_to_end(&mut buf);
                        d1.lock().unwrap().extend(buf);
                    }
                    Err(_) if s1.load(Ordering::SeqCst) => break,
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        let (s2, d2) = (stop.clone(), udp_data.clone());
        let t2 = thread::spawn(move || {
            let mut buf = vec![0u8; 65536];
            loop {
                match udp.recv_from(&mut buf) {
                    Ok((n, _)) => d2.lock().unwrap().push(buf[..n].to_vec()),
                    Err(_) if s2.load(Ordering::SeqCst) => break,
                    Err(_) => {}
                }
            }
        });
        Receivers {
            hec: hec_server::HecServer::start(|_| hec_server::Action::Accept),
            // The corpus's splunkstream configs log in as admin/changeme.
            splunkd: splunkd_server::SplunkdServer::start(splunkd_server::Script {
                user: "admin".into(),
                password: "changeme".into(),
                ..splunkd_server::Script::default()
            }),
            tcp_port,
            udp_port,
            stop,
            tcp_data,
            udp_data,
            threads: vec![t1, t2],
        }
    }

    /// Stops the receivers and returns (tcp bytes, udp datagrams).
    fn finish(mut self) -> (Vec<u8>, Vec<Vec<u8>>) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        let tcp = std::mem::take(&mut *self.tcp_data.lock().unwrap());
        let udp = std::mem::take(&mut *self.udp_data.lock().unwrap());
        (tcp, udp)
    }
}

/// Writes a copy of `conf` into `tmp` with absolute sample folders and outputs pointed at `tmp`
/// and the receivers.
fn rewrite(conf: &Path, tmp: &TempDir, rx: &Receivers) -> PathBuf {
    let text = String::from_utf8_lossy(&std::fs::read(conf).unwrap()).into_owned();
    let dir = conf.parent().unwrap();
    let default_samples = dir.parent().unwrap().join("samples");
    let out = tmp.path().join("out");
    let spool = tmp.path().join("spool");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::create_dir_all(&spool).unwrap();
    // stanzas that set sampleDir themselves
    let mut with_dir = Vec::new();
    let mut stanza = String::new();
    for l in text.lines() {
        let t = l.trim();
        if t.starts_with('[') && t.ends_with(']') {
            stanza = t.to_string();
        } else if t.split('=').next().unwrap_or("").trim() == "sampleDir" {
            with_dir.push(stanza.clone());
        }
    }
    let mut res = String::new();
    for l in text.lines() {
        let t = l.trim();
        let (k, v) = match t.split_once('=') {
            Some((k, v)) if !t.starts_with('#') && !t.starts_with(';') => (k.trim(), v.trim()),
            _ => ("", ""),
        };
        let line = match k {
            "sampleDir" if !Path::new(v).is_absolute() => {
                format!("sampleDir = {}", dir.join(v).display())
            }
            "fileName" => {
                let base = Path::new(v)
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                format!("fileName = {}", out.join(base).display())
            }
            "spoolDir" => format!("spoolDir = {}", spool.display()),
            "httpeventServers" => format!("httpeventServers = {}", rx.hec.servers_json("compat")),
            "splunkHost" => format!(
                "splunkHost = 127.0.0.1\nsplunkMethod = http\nsplunkPort = {}",
                rx.splunkd.port
            ),
            "splunkMethod" => "splunkMethod = http".to_string(),
            "tcpDestinationHost" | "udpDestinationHost" | "syslogDestinationHost" => {
                format!("{k} = 127.0.0.1")
            }
            "tcpDestinationPort" => format!("{k} = {}", rx.tcp_port),
            "splunkPort" => format!("{k} = {}", rx.splunkd.port),
            "udpDestinationPort" | "syslogDestinationPort" => format!("{k} = {}", rx.udp_port),
            _ => l.to_string(),
        };
        res.push_str(&line);
        res.push('\n');
        if t.starts_with('[') && t.ends_with(']') {
            let name = &t[1..t.len() - 1];
            if !matches!(name, "global" | "default")
                && !with_dir.contains(&t.to_string())
                && default_samples.is_dir()
            {
                res.push_str(&format!("sampleDir = {}\n", default_samples.display()));
            }
        }
    }
    let name = conf
        .file_name()
        .unwrap()
        .to_string_lossy()
        .replace('.', "_");
    tmp.write(&format!("{name}.conf"), &res)
}

fn read_dir_text(dir: &Path) -> String {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|r| r.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    names.sort();
    names
        .iter()
        .map(|p| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned())
        .collect()
}

/// A fake `$SPLUNK_HOME` whose apps' `samples` folders are the corpus's shared samples, for the
/// tutorials that name `$SPLUNK_HOME/etc/apps/<app>/samples/...` files.
fn splunk_home(root: &Path, tmp: &TempDir) -> PathBuf {
    let home = tmp.path().join("splunk");
    for app in ["SA-Eventgen", "oidemo"] {
        let apps = home.join("etc/apps").join(app);
        std::fs::create_dir_all(&apps).unwrap();
        std::os::unix::fs::symlink(root.join("splunk_eventgen/samples"), apps.join("samples"))
            .unwrap();
    }
    home
}

fn run_row(root: &Path, row: &Row) -> Result<(), String> {
    let tmp = TempDir::new("compat");
    let rx = Receivers::start();
    let conf = rewrite(&root.join(row.conf), &tmp, &rx);
    let home = splunk_home(root, &tmp);
    let exec = |args: &[&str]| {
        std::process::Command::new(bin())
            .args(args)
            .current_dir(root)
            .env("TZ", "UTC")
            .env("SPLUNK_HOME", &home)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run eventgen")
    };
    let conf_s = conf.to_str().unwrap();
    let c = exec(&["check", conf_s]);
    let check_text = format!("{}{}", stdout(&c), stderr(&c));
    match row.check {
        Check::Rejected(needles) => {
            if c.status.code() != Some(2) {
                return Err(format!("check passed, expected a rejection:\n{check_text}"));
            }
            let missing: Vec<_> = needles
                .iter()
                .filter(|n| !check_text.contains(*n))
                .collect();
            if !missing.is_empty() {
                return Err(format!("check output lacks {missing:?}:\n{check_text}"));
            }
            return Ok(());
        }
        _ if c.status.code() != Some(0) => {
            return Err(format!("check failed:\n{check_text}"));
        }
        Check::PlanOnly => return Ok(()),
        Check::Dropped(needles) => {
            let warned = |n: &&str| {
                stderr(&c)
                    .lines()
                    .any(|l| l.starts_with("WARN ") && l.contains(*n))
            };
            let missing: Vec<_> = needles.iter().filter(|n| !warned(n)).collect();
            if !stdout(&c).contains("0 samples, 0 errors") || !missing.is_empty() {
                return Err(format!(
                    "expected 0 samples and warnings {missing:?}:\n{check_text}"
                ));
            }
            let g = exec(&["generate", conf_s, "--now", NOW, "--seed", "1"]);
            if !stdout(&g).is_empty() || !stderr(&g).contains("nothing to generate") {
                return Err(format!(
                    "generate ran something:\n{}{}",
                    stdout(&g),
                    stderr(&g)
                ));
            }
            return Ok(());
        }
        _ => {}
    }
    let mut args = vec!["generate", conf_s, "--now", NOW, "--seed", "1"];
    args.extend_from_slice(row.args);
    let g = exec(&args);
    let hec = rx.hec.events();
    let splunkd = rx.splunkd.received();
    let (tcp, udp) = rx.finish();
    let mut text = stdout(&g);
    text.push_str(&read_dir_text(&tmp.path().join("out")));
    text.push_str(&read_dir_text(&tmp.path().join("spool")));
    text.push_str(&String::from_utf8_lossy(&tcp));
    for d in &udp {
        text.push_str(String::from_utf8_lossy(d).trim_end_matches(['\0', '\n']));
        text.push('\n');
    }
    for e in &hec {
        text.push_str(e["event"].as_str().unwrap_or_default());
        text.push('\n');
    }
    for r in &splunkd {
        text.push_str(&r.body);
    }
    let o = Outcome {
        text,
        stdout: stdout(&g),
        stderr: stderr(&g),
        hec,
        splunkd,
        udp_datagrams: udp.len(),
    };
    if g.status.code() != Some(0) {
        return Err(format!(
            "generate exited {:?}:\n{}",
            g.status.code(),
            o.stderr
        ));
    }
    // literal tokens the config defines must all be replaced
    let conf_text = String::from_utf8_lossy(&std::fs::read(&conf).unwrap()).into_owned();
    for l in conf_text.lines() {
        if let Some((k, v)) = l.split_once('=')
            && k.trim().ends_with(".token")
            && v.trim().starts_with("@@")
            && let Some(bad) = o.text.lines().find(|t| t.contains(v.trim()))
        {
            return Err(format!("token {} left unreplaced: {bad}", v.trim()));
        }
    }
    match row.check {
        Check::Lines(n) if o.lines().len() != n => {
            Err(format!("{} events, want {n}", o.lines().len()))
        }
        Check::Run(f) => f(&o),
        _ => Ok(()),
    }
}

#[test]
fn eventgen_corpus_runs_as_documented() {
    let root = corpus();
    if !root.is_dir() {
        // Asked for by name, it must be there; only the default location may be absent.
        assert!(
            std::env::var_os("EVENTGEN_CORPUS").is_none(),
            "EVENTGEN_CORPUS={} is not a folder",
            root.display()
        );
        crate::skip::skipped(
            "Eventgen 7.2.1's configuration corpus",
            "not at ../shared/eventgen-corpus; set EVENTGEN_CORPUS to its folder",
        );
        return;
    }
    let root = root.canonicalize().unwrap();
    // every config in the corpus has a row
    let mut confs = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().unwrap().to_string_lossy().contains(".conf") {
                confs.push(
                    p.strip_prefix(&root)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    let mut failures = Vec::new();
    for c in &confs {
        if !ROWS.iter().any(|r| r.conf == c) {
            failures.push(format!("{c}: no row in the compatibility table"));
        }
    }
    // `EVENTGEN_COMPAT_ONLY=part` runs only the rows whose config path contains `part`.
    let only = std::env::var("EVENTGEN_COMPAT_ONLY").unwrap_or_default();
    for row in ROWS {
        if !confs.iter().any(|c| c == row.conf) {
            failures.push(format!("{}: row for a config not in the corpus", row.conf));
            continue;
        }
        if !row.conf.contains(only.as_str()) {
            continue;
        }
        if let Err(e) = run_row(&root, row) {
            failures.push(format!("{} ({:?}): {e}", row.conf, row.expect));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus configs do not behave as docs/compatibility.md says:\n\n{}",
        failures.len(),
        ROWS.len(),
        failures.join("\n\n")
    );
}
