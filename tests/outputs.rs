//! File output rotation, spool output into place, and devnull, checked on disk.

use crate::support::*;

fn listing(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn file_output_rotates_keeping_backups() {
    // 40 events of 10 bytes; rotate at 50 bytes, keep 2 backups.
    let app = App::new(
        "rotate",
        "[s.log]\noutputMode = file\nfileName = out/s.out\nfileMaxBytes = 50\nfileBackupFiles = 2\ncount = 40\nend = 1\n\
         token.0.token = @@n\ntoken.0.replacementType = integerid\ntoken.0.replacement = 1000\n",
    );
    app.sample("s.log", "event @@n\n");
    assert_eq!(app.out(&[]), "");
    let dir = app.path().join("default/out");
    assert_eq!(listing(&dir), ["s.out", "s.out.1", "s.out.2"]);
    let read = |n: &str| std::fs::read_to_string(dir.join(n)).unwrap();
    let (cur, b1, b2) = (read("s.out"), read("s.out.1"), read("s.out.2"));
    for f in [&cur, &b1, &b2] {
        assert!(f.len() <= 60 && !f.is_empty(), "{f:?}");
        assert!(f.ends_with('\n'), "whole events only: {f:?}");
    }
    // Newest last: .2 is older than .1, which is older than the current file, and the current
    // file ends with the last event.
    let all = format!("{b2}{b1}{cur}");
    let ids: Vec<u32> = all
        .lines()
        .map(|l| l.strip_prefix("event ").unwrap().parse().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "{ids:?}");
    assert_eq!(*ids.last().unwrap(), 1039);
}

#[test]
fn file_output_appends_across_runs() {
    let app = App::new(
        "append",
        "[s.log]\noutputMode = file\nfileName = s.out\ncount = 2\nend = 1\n",
    );
    app.sample("s.log", "x\n");
    app.out(&[]);
    app.out(&[]);
    assert_eq!(
        std::fs::read_to_string(app.path().join("default/s.out")).unwrap(),
        "x\n".repeat(4)
    );
}

#[test]
fn spool_output_defaults_to_the_sample_name() {
    let app = App::new(
        "spool",
        "[s.log]\noutputMode = spool\ncount = 3\nend = 2\nspoolDir = SPOOL\n",
    );
    app.sample("s.log", "a\nb\n");
    let spool = app.path().join("spool dir");
    std::fs::create_dir_all(&spool).unwrap();
    let conf = app.path().join("default/eventgen.conf");
    let text = std::fs::read_to_string(&conf)
        .unwrap()
        .replace("SPOOL", spool.to_str().unwrap());
    std::fs::write(&conf, text).unwrap();
    assert_eq!(app.out(&[]), "");
    assert_eq!(listing(&spool), ["s.log"]);
    assert_eq!(
        std::fs::read_to_string(spool.join("s.log")).unwrap(),
        // Each interval starts at the top of the sample, as in Eventgen.
        "a\nb\na\na\nb\na\n"
    );
}

#[test]
fn devnull_writes_nothing_anywhere() {
    let app = App::new(
        "devnull",
        "[s.log]\noutputMode = devnull\ncount = 1000\nend = 3\n",
    );
    app.sample("s.log", "x\n");
    let o = app.run(&["-v"]);
    assert_code(&o, 0);
    assert!(o.stdout.is_empty());
    assert!(
        stderr(&o).contains("generated 3000 events"),
        "{}",
        stderr(&o)
    );
    assert_eq!(listing(app.path()), ["default", "samples"]);
}

#[test]
fn modinput_time_host_and_escaping() {
    let app = App::new(
        "modinput-escape",
        "[s.log]\noutputMode = modinput\ncount = 2\nend = 1\nhost = h<&>\"'\nsource = src&\nsourcetype = st\nindex = idx\n",
    );
    app.sample("s.log", "a <b> & \"c\" 'd' \u{1}bell\u{7}\n");
    let out = app.out(&[]);
    assert!(
        !out.contains('\u{1}') && !out.contains('\u{7}'),
        "illegal XML characters removed: {out:?}"
    );
    let evs = parse_modinput(&out);
    assert_eq!(evs.len(), 2);
    for e in &evs {
        assert_eq!(e.host, "h<&>\"'");
        assert_eq!(
            (e.source.as_str(), e.sourcetype.as_str(), e.index.as_str()),
            ("src&", "st", "idx")
        );
        assert!(e.data.starts_with("a <b> & \"c\" 'd' "), "{:?}", e.data);
        assert!(e.data.contains("bell"), "{:?}", e.data);
        assert_eq!(e.micros(), NOW_EPOCH * 1_000_000, "earliest = latest = now");
    }
}
