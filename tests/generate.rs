//! `eventgen generate` and `eventgen check` on small configurations.

use crate::support::*;

#[test]
fn shipped_default_config_builds_a_plan() {
    let o = run(&["check"]);
    assert_code(&o, 0);
    assert!(stdout(&o).contains("weblog"), "{}", stdout(&o));
}

#[test]
fn count_and_end_multiply() {
    let d = TempDir::new("count-end");
    d.write("samples/s.log", "a @@n\nb @@n\n");
    let conf = d.write(
        "default/eventgen.conf",
        "[s.log]\noutputMode = stdout\ncount = 5\ninterval = 10\nend = 3\ntoken.0.token = @@n\ntoken.0.replacementType = random\ntoken.0.replacement = integer[1:9]\n",
    );
    let o = run(&[
        "generate",
        conf.to_str().unwrap(),
        "--now",
        "2024-01-01T00:00:00Z",
        "--seed",
        "1",
    ]);
    assert_code(&o, 0);
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 15, "{out}");
    assert!(
        out.lines().all(|l| l.len() == 3 && !l.contains("@@")),
        "{out}"
    );
}

/// One worker renders both samples; their timestamp tokens share token index 0 but not format.
#[test]
fn samples_sharing_a_worker_keep_their_own_token_values() {
    let d = TempDir::new("two-formats");
    d.write("samples/a.log", "A 2000-01-01\n");
    d.write("samples/b.log", "B 2000-01-01\n");
    let conf = d.write(
        "default/eventgen.conf",
        "[global]\noutputMode = stdout\ncount = 3\nend = 2\n\
         [a.log]\ntoken.0.token = \\d{4}-\\d{2}-\\d{2}\ntoken.0.replacementType = timestamp\ntoken.0.replacement = %Y-%m-%d\n\
         [b.log]\ntoken.0.token = \\d{4}-\\d{2}-\\d{2}\ntoken.0.replacementType = timestamp\ntoken.0.replacement = %d.%m.%Y!\n",
    );
    let o = run(&[
        "generate",
        conf.to_str().unwrap(),
        "--now",
        "2024-05-06T07:08:09Z",
        "--generators",
        "1",
    ]);
    assert_code(&o, 0);
    let out = stdout(&o);
    let a: Vec<&str> = out.lines().filter(|l| l.starts_with('A')).collect();
    let b: Vec<&str> = out.lines().filter(|l| l.starts_with('B')).collect();
    assert_eq!(a.len(), 6, "{out}");
    assert_eq!(b.len(), 6, "{out}");
    assert!(a.iter().all(|l| *l == "A 2024-05-06"), "{out}");
    assert!(b.iter().all(|l| *l == "B 06.05.2024!"), "{out}");
}

/// `%f` shows each event's own microseconds (rendered from a per-second cache).
#[test]
fn microseconds_follow_each_event_time() {
    let d = TempDir::new("micros");
    d.write("samples/s.log", "t=X\n");
    let conf = d.write(
        "default/eventgen.conf",
        "[s.log]\noutputMode = modinput\ncount = 50\nend = 1\nearliest = -2s\nlatest = now\ntimezone = +0000\n\
         token.0.token = X\ntoken.0.replacementType = timestamp\ntoken.0.replacement = %S.%f|%s\n",
    );
    let o = run(&[
        "generate",
        conf.to_str().unwrap(),
        "--now",
        "2024-05-06T07:08:09Z",
        "--seed",
        "3",
    ]);
    assert_code(&o, 0);
    let xml = stdout(&o);
    let times: Vec<&str> = xml
        .lines()
        .filter_map(|l| l.trim().strip_prefix("<time>")?.strip_suffix("</time>"))
        .collect();
    let data: Vec<&str> = xml
        .lines()
        .filter_map(|l| l.trim().strip_prefix("<data>t="))
        .collect();
    assert_eq!(times.len(), 50);
    let mut distinct = std::collections::BTreeSet::new();
    for (t, d) in times.iter().zip(&data) {
        // <time> is epoch.mmm; the text is SS.ffffff|epoch; they must agree to the millisecond.
        let (secs, ms) = t.split_once('.').unwrap();
        let (ss_f, epoch) = d.split_once('|').unwrap();
        assert_eq!(epoch, secs, "{d} vs {t}");
        let (ss, f) = ss_f.split_once('.').unwrap();
        assert_eq!(&f[..3], ms, "{d} vs {t}");
        assert_eq!(
            ss.parse::<i64>().unwrap(),
            secs.parse::<i64>().unwrap() % 60
        );
        distinct.insert(f.to_string());
    }
    assert!(
        distinct.len() > 40,
        "sub-second digits should vary: {distinct:?}"
    );
}
