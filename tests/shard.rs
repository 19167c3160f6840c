//! `--shard K/N` through the binary: with the same seed and virtual clock, the N shards'
//! lines together are exactly the unsharded run's lines (each event from one shard) for every
//! generator; `--shard auto` reads the Kubernetes Indexed Job variables; bad specs are errors.

use std::collections::BTreeMap;

use crate::support::*;

/// Lines of `eventgen generate . --now NOW --seed 1 <extra>` (exit 0, nothing on stderr).
#[track_caller]
fn lines(a: &App, extra: &[&str]) -> Vec<String> {
    a.out(extra).lines().map(str::to_string).collect()
}

/// How often each line occurs.
fn multiset(lines: impl IntoIterator<Item = String>) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for l in lines {
        *m.entry(l).or_insert(0) += 1;
    }
    m
}

/// Runs the app whole and as N shards for each N in `shard_counts`, and checks that the
/// shards' lines add up to the whole run's, line for line. `min_lines` guards against a
/// configuration that generates (almost) nothing; with `unique`, every line of the whole run
/// must differ from the others (so "each event from exactly one shard" is visible per line).
/// Returns the number of lines of each shard, per N.
#[track_caller]
fn assert_shards_add_up(
    a: &App,
    extra: &[&str],
    shard_counts: &[u64],
    min_lines: usize,
    unique: bool,
) -> Vec<Vec<usize>> {
    let whole = lines(a, extra);
    assert!(
        whole.len() >= min_lines,
        "the whole run made only {} lines",
        whole.len()
    );
    let want = multiset(whole.iter().cloned());
    if unique {
        assert_eq!(want.len(), whole.len(), "lines of the whole run repeat");
    }
    let mut sizes = Vec::new();
    for &n in shard_counts {
        let mut all = Vec::new();
        let mut per_shard = Vec::new();
        for k in 0..n {
            let spec = format!("{k}/{n}");
            let mut args = extra.to_vec();
            args.extend(["--shard", &spec]);
            let part = lines(a, &args);
            per_shard.push(part.len());
            all.extend(part);
        }
        assert_eq!(
            all.len(),
            whole.len(),
            "N={n}: shard sizes {per_shard:?} vs {} lines",
            whole.len()
        );
        let got = multiset(all);
        if got != want {
            let missing: Vec<_> = want
                .keys()
                .filter(|k| !got.contains_key(*k))
                .take(3)
                .collect();
            let extra: Vec<_> = got
                .keys()
                .filter(|k| !want.contains_key(*k))
                .take(3)
                .collect();
            panic!("N={n}: the shards' lines differ; missing {missing:?}, extra {extra:?}");
        }
        sizes.push(per_shard);
    }
    sizes
}

/// Every shard got a share.
#[track_caller]
fn assert_all_busy(sizes: &[Vec<usize>]) {
    for s in sizes {
        assert!(s.iter().all(|&n| n > 0), "a shard generated nothing: {s:?}");
    }
}

const WEB: &str = "\
2024-01-01 00:00:00 host=web01 GET /index.html status=200 bytes=1234 id=0
2024-01-01 00:00:00 host=web02 POST /login status=302 bytes=88 id=0
2024-01-01 00:00:00 host=web03 GET /app.js status=200 bytes=40960 id=0
";

const WEB_TOKENS: &str = "\
token.0.token = \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}
token.0.replacementType = timestamp
token.0.replacement = %Y-%m-%d %H:%M:%S
token.1.token = bytes=(\\d+)
token.1.replacementType = random
token.1.replacement = integer[1:99999]
token.2.token = id=(\\d+)
token.2.replacementType = integerid
token.2.replacement = 1000
";

#[test]
fn sample_mode_with_tokens_and_integerid() {
    // 10 000 events per interval: three jobs each, over six intervals, all with distinct ids.
    let a = App::new(
        "shard-sample",
        &format!(
            "[web.log]\ncount = 10000\ninterval = 60\nend = 6\nearliest = -60s\nlatest = now\n\
             outputMode = stdout\ntimezone = +0000\n{WEB_TOKENS}"
        ),
    );
    a.sample("web.log", WEB);
    let sizes = assert_shards_add_up(&a, &[], &[3, 4], 60_000, true);
    assert_all_busy(&sizes);
    // The ids stay in the unsharded run's range: 1000 up to 1000 + 60 000.
    let ids: Vec<i64> = lines(&a, &["--shard", "2/3"])
        .iter()
        .map(|l| l.rsplit("id=").next().unwrap().parse().unwrap())
        .collect();
    assert!(ids.iter().all(|&i| (1000..61_000).contains(&i)), "{ids:?}");
}

#[test]
fn sample_mode_with_rates_and_several_samples() {
    // Three samples, each a job per interval: sharding spreads them, and random rates (drawn
    // by the scheduler) are the same in every shard.
    let conf = format!(
        "[web.log]\ncount = 40\ninterval = 10\nend = 9\noutputMode = stdout\n\
         randomizeCount = 0.5\ntimezone = +0000\n{WEB_TOKENS}\n\
         [second.log]\ncount = 7\ninterval = 20\nend = 5\noutputMode = stdout\ntimezone = +0000\n\
         {WEB_TOKENS}\n\
         [third.log]\ncount = -1\ninterval = 5\nend = 8\noutputMode = stdout\n\
         hourOfDayRate = {{\"0\": 0.5, \"1\": 1.0}}\ntimezone = +0000\n{WEB_TOKENS}"
    );
    let a = App::new("shard-rates", &conf);
    for s in ["web.log", "second.log", "third.log"] {
        a.sample(s, WEB);
    }
    let sizes = assert_shards_add_up(&a, &[], &[3, 4], 100, false);
    assert_all_busy(&sizes);
}

#[test]
fn per_day_volume() {
    let a = App::new(
        "shard-pdv",
        &format!(
            "[p.log]\nperDayVolume = 0.02\ninterval = 60\nend = 30\noutputMode = stdout\n\
             earliest = -60s\nlatest = now\ntimezone = +0000\n{WEB_TOKENS}"
        ),
    );
    a.sample("p.log", WEB);
    let sizes = assert_shards_add_up(&a, &[], &[3, 4], 1000, true);
    assert_all_busy(&sizes);
}

#[test]
fn replay_keeps_each_events_pacing() {
    let conf = "[r.log]\nmode = replay\noutputMode = modinput\ntimezone = +0000\nend = 3\n\
                interval = 5\n\
                token.0.token = \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\.\\d+\n\
                token.0.replacementType = replaytimestamp\n\
                token.0.replacement = %Y-%m-%d %H:%M:%S.%f\n";
    let a = App::new("shard-replay", conf);
    a.sample(
        "r.log",
        "2023-05-01 10:00:00.000 ev1 login\n\
         2023-05-01 10:00:01.500 ev2 click\n\
         2023-05-01 10:00:04.250 ev3 view\n\
         2023-05-01 10:00:04.250 ev4 view\n\
         2023-05-01 10:00:11.000 ev5 logout\n\
         2023-05-01 10:00:12.000 ev6 login\n",
    );
    // The XML stream: compare events (time and text), not the stream's wrapper lines.
    let events = |extra: &[&str]| -> Vec<String> {
        let mut args = extra.to_vec();
        args.extend(["--output", "modinput"]);
        parse_modinput(&a.out(&args))
            .into_iter()
            .map(|e| format!("{} {}", e.time, e.data))
            .collect()
    };
    let whole = events(&[]);
    assert_eq!(whole.len(), 18, "3 passes of 6 events");
    for n in [3u64, 4] {
        let mut all = Vec::new();
        let mut busy = 0;
        for k in 0..n {
            let part = events(&["--shard", &format!("{k}/{n}")]);
            busy += usize::from(!part.is_empty());
            all.extend(part);
        }
        // On the virtual clock a replay job may hold a whole pass: 3 passes, 3 busy shards.
        assert!(busy >= 3, "N={n}: only {busy} shards replayed anything");
        assert_eq!(multiset(all), multiset(whole.clone()), "N={n}");
    }
}

#[test]
fn windbag() {
    let a = App::new(
        "shard-windbag",
        "[windbag]\ngenerator = windbag\ncount = 50\nearliest = -1m\nlatest = now\nend = 8\n\
         interval = 60\ntimezone = +0000\noutputMode = stdout\n",
    );
    std::fs::create_dir_all(a.path().join("samples")).unwrap();
    let sizes = assert_shards_add_up(&a, &[], &[3, 4], 400, true);
    assert_all_busy(&sizes);
}

#[test]
fn counter() {
    let a = App::new(
        "shard-counter",
        "[counter]\ngenerator = counter\nearliest = -1m\nlatest = now\nend = 8\ninterval = 60\n\
         count = 2\nend_count = 20\ntimezone = +0000\noutputMode = stdout\n",
    );
    std::fs::create_dir_all(a.path().join("samples")).unwrap();
    let sizes = assert_shards_add_up(&a, &[], &[3, 4], 8 * 2 * 21, false);
    assert_all_busy(&sizes);
}

#[test]
fn jinja() {
    let a = App::new(
        "shard-jinja",
        "[jj]\ngenerator = jinja\ncount = 3\nend = 8\ninterval = 60\ntimezone = +0000\n\
         earliest = -60s\nlatest = now\n\
         jinja_template_dir = templates\njinja_target_template = main.j2\n\
         outputMode = stdout\n",
    );
    a.dir.write(
        "samples/templates/main.j2",
        "{% for i in range(4) %}\
         {\"_time\": \"{{ time_now_epoch }}\", \"_raw\": \"cycle={{ eventgen_count }} \
         i={{ i }} r={{ range(1000) | random }}\"}\n{% endfor %}",
    );
    let sizes = assert_shards_add_up(&a, &[], &[3, 4], 8 * 3 * 4, false);
    assert_all_busy(&sizes);
}

#[test]
fn auto_reads_the_indexed_job_variables() {
    let a = App::new(
        "shard-auto",
        &format!(
            "[web.log]\ncount = 20\ninterval = 60\nend = 9\noutputMode = stdout\n\
             timezone = +0000\n{WEB_TOKENS}"
        ),
    );
    a.sample("web.log", WEB);
    let explicit = a.out(&["--shard", "1/3"]);
    assert!(!explicit.is_empty());
    let auto = |vars: &[(&str, &str)], spec: &str| {
        let mut cmd = std::process::Command::new(bin());
        cmd.args([
            "generate", ".", "--now", NOW, "--seed", "1", "--shard", spec,
        ])
        .current_dir(a.path())
        .env("TZ", "UTC")
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("EVENTGEN_SHARDS");
        for (k, v) in vars {
            cmd.env(k, v);
        }
        output_within(cmd, APP_DEADLINE)
    };
    let o = auto(
        &[("JOB_COMPLETION_INDEX", "1"), ("EVENTGEN_SHARDS", "3")],
        "auto",
    );
    assert_code(&o, 0);
    assert_eq!(stdout(&o), explicit);
    let o = auto(&[("JOB_COMPLETION_INDEX", "1")], "auto/3");
    assert_code(&o, 0);
    assert_eq!(stdout(&o), explicit);
    // Missing variables are errors that name them.
    let o = auto(&[("EVENTGEN_SHARDS", "3")], "auto");
    assert_code(&o, 2);
    assert!(
        stderr(&o).contains("JOB_COMPLETION_INDEX is not set"),
        "{}",
        stderr(&o)
    );
    let o = auto(&[("JOB_COMPLETION_INDEX", "0")], "auto");
    assert_code(&o, 2);
    assert!(stderr(&o).contains("EVENTGEN_SHARDS"), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
}

#[test]
fn bad_specs_are_clear_errors() {
    for (spec, says) in [
        (
            "3/3",
            "--shard 3/3: shard 3 does not exist among 3 (shards are numbered 0 to 2)",
        ),
        (
            "a/b",
            "--shard a/b: K must be a whole number from 0 to N-1, got \"a\"",
        ),
        ("0/0", "--shard 0/0: N must be at least 1"),
        ("1", "--shard \"1\": expected K/N"),
    ] {
        let o = run(&["generate", "--shard", spec, "--now", NOW, "-e", "1"]);
        assert_code(&o, 2);
        assert!(
            stderr(&o).starts_with(&format!("ERROR {says}")),
            "{spec}: {}",
            stderr(&o)
        );
        assert!(o.stdout.is_empty(), "{spec}: nothing generated");
    }
}

#[test]
fn without_a_seed_shards_draw_their_own_random_streams() {
    // Two processes as the same shard, no seed: their random values differ.
    let a = App::new(
        "shard-noseed",
        &format!(
            "[web.log]\ncount = 200\ninterval = 60\nend = 1\noutputMode = stdout\n\
             timezone = +0000\n{WEB_TOKENS}"
        ),
    );
    a.sample("web.log", WEB);
    let one = |spec: &str| {
        let o = a.raw(&["generate", ".", "--now", NOW, "--shard", spec]);
        assert_code(&o, 0);
        stdout(&o)
    };
    let (x, y) = (one("0/2"), one("0/2"));
    assert_eq!(x.lines().count(), 200);
    assert_ne!(x, y, "the same stream twice");
}
