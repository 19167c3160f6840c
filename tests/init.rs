//! `eventgen init`: one test per detector through the binary. Each writes a log file, runs
//! `init`, checks the app with `check --strict` and generates from it on a virtual clock.

use std::path::Path;

use crate::support::{NOW, TempDir, assert_code, run_in, stderr, stdout};

/// Runs `init` on `log` (written as `name`) in a fresh folder; returns the folder, the
/// report and the written eventgen.conf.
fn init(tag: &str, name: &str, log: &str, flags: &[&str]) -> (TempDir, String, String) {
    let dir = TempDir::new(tag);
    dir.write(name, log);
    let mut args = vec!["init", name, "--app", "app"];
    args.extend_from_slice(flags);
    let o = run_in(dir.path(), &args);
    assert_code(&o, 0);
    let conf = std::fs::read_to_string(dir.path().join("app/default/eventgen.conf")).unwrap();
    (dir, stdout(&o), conf)
}

/// `check --strict` passes and `generate` makes events; returns stdout of one interval.
fn generate(dir: &Path) -> String {
    let o = run_in(dir, &["check", "--strict", "app"]);
    assert_code(&o, 0);
    // Timestamps render in local time: pin it.
    let o = std::process::Command::new(crate::support::bin())
        .args([
            "generate", "app", "--now", NOW, "--seed", "1", "-e", "1", "--output", "stdout",
        ])
        .current_dir(dir)
        .env("TZ", "UTC")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_code(&o, 0);
    stdout(&o)
}

/// Digits to 9, month names to `Mmm`, offset signs to `+`, so lines compare by shape.
fn shape(s: &str) -> String {
    let mut s: String = s
        .chars()
        .map(|c| match c {
            '0'..='9' => '9',
            '-' => '+',
            c => c,
        })
        .collect();
    for m in [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ] {
        s = s.replace(m, "Mmm");
    }
    s
}

#[test]
fn init_breaks_multi_line_events_at_timestamps() {
    let log = "\
2024-01-05 10:11:12,001 ERROR [main] Failed
java.lang.IllegalStateException: boom
\tat com.example.App.run(App.java:42)
\tat com.example.App.main(App.java:7)
2024-01-05 10:11:13,002 INFO [main] Retrying
2024-01-05 10:11:14,003 INFO [main] Done
";
    let (dir, report, conf) = init("init-break", "app.log", log, &[]);
    assert!(
        conf.contains("breaker = ^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}"),
        "{conf}"
    );
    assert!(report.contains("3 events (multi-line"), "{report}");
    let out = generate(dir.path());
    // Every event opens with a fresh timestamp; the stack trace stays with its event.
    assert!(
        out.contains("\tat com.example.App.run(App.java:42)\n"),
        "{out}"
    );
    for line in out.lines().filter(|l| !l.starts_with(['\t', 'j'])) {
        assert!(line.starts_with("2024-02-28 23:5"), "{line}");
    }
}

#[test]
fn init_finds_every_timestamp_format() {
    let cases = [
        (
            "iso.log",
            "2024-01-05T10:11:12.123456+01:00 a x\n2024-01-05T10:11:13.000001+01:00 b\n",
            "%Y-%m-%dT%H:%M:%S.%f%:z",
        ),
        (
            "syslog.log",
            "Jan  5 10:11:12 web01 sshd[1]: a\nJan 15 10:11:13 web01 sshd[2]: b\n",
            "%b %e %H:%M:%S",
        ),
        (
            "apache.log",
            "h - - [10/Oct/2000:13:55:36 -0700] \"GET /\" 200 1\nh - - [10/Oct/2000:13:55:37 -0700] \"GET /\" 200 2\n",
            "%d/%b/%Y:%H:%M:%S %z",
        ),
        (
            "us.log",
            "01/31/2024 10:11:12 PM Event a\n02/01/2024 01:02:03 AM Event b\n",
            "%m/%d/%Y %I:%M:%S %p",
        ),
        (
            "dmy.log",
            "31/01/2024 22:11:12 a\n01/02/2024 01:02:03 b\n",
            "%d/%m/%Y %H:%M:%S",
        ),
        (
            "oracle.log",
            "05-Jan-2024 10:11:12 a\n06-Jan-2024 10:11:13 b\n",
            "%d-%b-%Y %H:%M:%S",
        ),
        (
            "epoch.log",
            "time=1700000000 a=1\ntime=1700000005 a=2\n",
            "%s",
        ),
        (
            "json.log",
            "{\"ts\": 1700000000123, \"m\": \"a\"}\n{\"ts\": 1700000001123, \"m\": \"b\"}\n",
            "%s",
        ),
    ];
    for (name, log, format) in cases {
        let (dir, _, conf) = init("init-ts", name, log, &[]);
        assert!(
            conf.contains(&format!(
                "replacementType = timestamp\ntoken.0.replacement = {format}\n"
            )),
            "{name}: {conf}"
        );
        let out = generate(dir.path());
        let want: std::collections::HashSet<String> = log.lines().map(shape).collect();
        assert!(!out.is_empty(), "{name}");
        for line in out.lines() {
            assert!(
                want.contains(&shape(line)) || name == "syslog.log",
                "{name}: {line:?} not in {want:?}"
            );
            assert!(
                !line.contains("2000:") && !line.contains("1700000000"),
                "{name}: old time kept: {line}"
            );
        }
    }
    // Several timestamps in one event: one token each.
    let (_, _, conf) = init(
        "init-ts",
        "multi.log",
        "2024-01-05T10:11:12Z start=Jan 05 10:11:12 end=05/Jan/2024:10:11:13 +0000\n",
        &[],
    );
    assert_eq!(
        conf.matches("replacementType = timestamp").count(),
        3,
        "{conf}"
    );
}

#[test]
fn init_turns_addresses_and_keys_into_tokens() {
    let log = "\
2024-01-05 10:11:12 src=10.1.2.3 dest=fe80::1ff:fe23:4567:890a user=alice mac=00:1b:44:11:3a:b7 status=200 bytes=120 id=123e4567-e89b-12d3-a456-426614174000 mail=alice@corp.example.com
2024-01-05 10:11:13 src=192.168.7.9 dest=fe80::1ff:fe23:4567:890b user=bob mac=00:1b:44:11:3a:b8 status=404 bytes=5000 id=223e4567-e89b-12d3-a456-426614174000 mail=bob@corp.example.com
";
    let (dir, report, conf) = init("init-values", "kv.log", log, &[]);
    for (what, kind) in [
        ("IPv4 address", "file"),
        ("IPv6 address", "file"),
        ("MAC address", "random"),
        ("GUID", "random"),
        ("e-mail address", "file"),
        ("user value", "file"),
        ("status value", "file"),
        ("bytes value", "random"),
    ] {
        assert!(report.contains(what), "{what}: {report}");
        let block = conf
            .split("\n# ")
            .find(|b| b.starts_with(what))
            .unwrap_or_else(|| panic!("{what}: {conf}"));
        assert!(
            block.contains(&format!("replacementType = {kind}\n")),
            "{what}: {block}"
        );
    }
    assert!(conf.contains("integer[120:5000]"), "{conf}");
    let users =
        std::fs::read_to_string(dir.path().join("app/samples/tokens/kv.log.user.sample")).unwrap();
    assert_eq!(users, "alice\nbob\n");
    let out = generate(dir.path());
    assert!(out.lines().count() >= 1, "{out}");
    for line in out.lines() {
        assert!(
            line.contains("user=alice ") || line.contains("user=bob "),
            "{line}"
        );
    }
}

#[test]
fn init_anonymize_keeps_no_original_value() {
    let log = "\
Jan  5 10:11:12 web01 sshd[1]: Accepted password for user=alice from 203.0.113.7 mail=alice@corp.example.com
Jan  5 10:11:19 web01 sshd[2]: Failed password for user=bob from 198.51.100.23 mail=bob@corp.example.com
";
    let (dir, _, _) = init("init-anon", "auth.log", log, &["--anonymize"]);
    let mut all = String::new();
    for entry in walk(&dir.path().join("app")) {
        all.push_str(&std::fs::read_to_string(entry).unwrap());
    }
    for secret in [
        "alice",
        "bob",
        "203.0.113.7",
        "198.51.100.23",
        "corp.example.com",
    ] {
        assert!(!all.contains(secret), "{secret} kept in the app:\n{all}");
    }
    let out = generate(dir.path());
    assert!(!out.contains("alice") && out.contains("user=user"), "{out}");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn init_rate_from_the_input_span() {
    // 121 events a second apart: one per second, 60 per 60 s interval.
    let log: String = (0..121)
        .map(|i| format!("2024-01-05T10:{:02}:{:02}Z n={i}\n", 11 + i / 60, i % 60))
        .collect();
    let (dir, report, conf) = init("init-rate", "rate.log", &log, &[]);
    assert!(conf.contains("count = 60\ninterval = 60\n"), "{conf}");
    assert!(report.contains("1.000 events/s"), "{report}");
    let out = generate(dir.path());
    assert_eq!(out.lines().count(), 60, "{out}");
    // Replay keeps the gaps instead.
    let (dir, _, conf) = init("init-rate", "rate.log", &log, &["--mode", "replay"]);
    assert!(
        conf.contains("mode = replay") && conf.contains("replacementType = replaytimestamp"),
        "{conf}"
    );
    let o = run_in(dir.path(), &["check", "--strict", "app"]);
    assert_code(&o, 0);
}

#[test]
fn init_refuses_bad_input_and_overwriting() {
    let dir = TempDir::new("init-bad");
    dir.write("empty.log", "\n\n");
    std::fs::write(dir.path().join("bin.log"), [0u8, 1, 2, 3, 0, 159, 146, 150]).unwrap();
    dir.write("ok.log", "no time here, just text\nmore text\n");
    for (file, want) in [
        ("empty.log", "empty"),
        ("bin.log", "binary"),
        ("missing.log", "cannot read"),
    ] {
        let o = run_in(dir.path(), &["init", file, "--app", "x"]);
        assert_code(&o, 2);
        assert!(
            stderr(&o).contains(file) && stderr(&o).contains(want),
            "{}",
            stderr(&o)
        );
        assert!(!dir.path().join("x/default").exists());
    }
    // One bad file among good ones: the good one is written, the bad one reported.
    let o = run_in(
        dir.path(),
        &["init", "ok.log", "empty.log", "--app", "both"],
    );
    assert_code(&o, 0);
    assert!(
        stderr(&o).contains("empty.log") && stderr(&o).contains("no timestamp found"),
        "{}",
        stderr(&o)
    );
    let o = run_in(dir.path(), &["check", "--strict", "both"]);
    assert_code(&o, 0);
    // Nothing is overwritten without --force.
    let o = run_in(dir.path(), &["init", "ok.log", "--app", "both"]);
    assert_code(&o, 2);
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    let o = run_in(dir.path(), &["init", "ok.log", "--app", "both", "--force"]);
    assert_code(&o, 0);
    let o = run_in(dir.path(), &["init", "--help"]);
    assert_code(&o, 0);
    assert!(stdout(&o).contains("--anonymize"));
}

#[test]
fn init_breaks_windows_event_text_and_xml() {
    let text = "\
01/05/2024 10:11:12 AM
LogName=Security
EventCode=4624
Message=An account was successfully logged on.
01/05/2024 10:11:19 AM
LogName=Security
EventCode=4634
Message=An account was logged off.
";
    let (dir, _, conf) = init("init-win", "wineventlog.txt", text, &[]);
    assert!(conf.contains("breaker = ^"), "{conf}");
    assert!(
        conf.contains("token.0.replacement = %m/%d/%Y %I:%M:%S %p"),
        "{conf}"
    );
    let out = generate(dir.path());
    let events = out.matches("LogName=Security").count();
    assert!(events >= 1, "{out}");
    assert_eq!(
        out.matches(" AM\n").count() + out.matches(" PM\n").count(),
        events,
        "{out}"
    );
    let xml = "\
<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>
  <System><EventID>4624</EventID><TimeCreated SystemTime='2024-01-05T10:11:12.1234567Z'/></System>
</Event>
<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>
  <System><EventID>4634</EventID><TimeCreated SystemTime='2024-01-05T10:11:19.7654321Z'/></System>
</Event>
";
    let (dir, _, conf) = init("init-win", "events.xml", xml, &[]);
    assert!(conf.contains("breaker = ^<Event\\b"), "{conf}");
    let out = generate(dir.path());
    assert!(out.contains("SystemTime='2024-02-28T23:5"), "{out}");
    assert_eq!(
        out.matches("<Event ").count(),
        out.matches("</Event>").count(),
        "{out}"
    );
}

#[test]
fn init_several_files_lines_and_latin1() {
    let dir = TempDir::new("init-many");
    dir.write(
        "a/app.log",
        "2024-01-05 10:11:12 user=alice ok\n2024-01-05 10:11:13 user=bob ok\n",
    );
    dir.write(
        "b/app.log",
        "Jan  5 10:11:12 h sshd: x\nJan  5 10:11:13 h sshd: y\nJan  5 10:11:14 h sshd: z\n",
    );
    std::fs::write(
        dir.path().join("latin.log"),
        b"2024-01-05 10:11:12 caf\xe9 user=jos\xe9\n",
    )
    .unwrap();
    let o = run_in(
        dir.path(),
        &[
            "init",
            "a/app.log",
            "b/app.log",
            "latin.log",
            "--app",
            "app",
            "--lines",
            "2",
        ],
    );
    assert_code(&o, 0);
    let err = stderr(&o);
    assert!(
        err.contains("Latin-1") && err.contains("first 2 of 3 lines"),
        "{err}"
    );
    let conf = std::fs::read_to_string(dir.path().join("app/default/eventgen.conf")).unwrap();
    for stanza in ["[app.log]", "[app.log.2]", "[latin.log]"] {
        assert!(conf.contains(stanza), "{stanza}: {conf}");
    }
    let sample = std::fs::read_to_string(dir.path().join("app/samples/app.log.2")).unwrap();
    assert_eq!(sample.lines().count(), 2, "{sample}");
    let out = generate(dir.path());
    assert!(out.contains("café") && out.contains("sshd"), "{out}");
}
