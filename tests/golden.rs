//! Byte-for-byte output of every local output format with `--seed 1 --now NOW`, compared with
//! `tests/golden/*` (rewrite them on purpose with `EVENTGEN_BLESS=1`).

use crate::support::*;

/// A web-log-like app with every kind of token, writing to `mode` (`extra` adds stanza keys).
fn web_app(tag: &str, mode: &str, extra: &str) -> App {
    let conf = format!(
        "[web.log]\noutputMode = {mode}\ncount = 6\ninterval = 30\nend = 2\nearliest = -30s\nlatest = now\n\
         timezone = -0500\nhost = web-01\nsourcetype = access_combined\nsource = /var/log/web.log\n{extra}\n{}{}{}{}{}{}",
        token(
            0,
            r"\[\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2}\.\d{3} [+-]\d{4}\]",
            "timestamp",
            "[%d/%b/%Y:%H:%M:%S.%f %z]"
        ),
        token(1, "@@ip", "random", "ipv4"),
        token(2, "@@uri", "file", "uris.txt"),
        token(3, "@@status", "mvfile", "status.csv:1"),
        token(4, "@@reason", "mvfile", "status.csv:2"),
        token(5, "@@bytes", "random", "integer[100:9999]")
    );
    let app = App::new(tag, &conf);
    app.sample(
        "web.log",
        "@@ip - - [01/Jan/2020:00:00:00.000 +0000] \"GET @@uri HTTP/1.1\" @@status @@bytes \"@@reason\"\n\
         @@ip - - [01/Jan/2020:00:00:00.000 +0000] \"POST @@uri?a=1&b=<2> HTTP/1.1\" @@status @@bytes \"-\"\n",
    )
    .sample("uris.txt", "/index.html\n/cart\n/search\n")
    .sample("status.csv", "200,OK\n404,Not Found\n500,Internal Server Error\n");
    app
}

#[test]
fn golden_stdout() {
    let app = web_app("golden-stdout", "stdout", "");
    let out = app.out(&[]);
    assert_eq!(out.lines().count(), 12);
    golden("stdout.txt", &out);
}

#[test]
fn golden_modinput() {
    let app = web_app("golden-modinput", "modinput", "");
    let out = app.out(&[]);
    let evs = parse_modinput(&out);
    assert_eq!(evs.len(), 12);
    for e in &evs {
        assert_eq!(
            (e.host.as_str(), e.source.as_str()),
            ("web-01", "/var/log/web.log")
        );
        assert_eq!(
            (e.sourcetype.as_str(), e.index.as_str()),
            ("access_combined", "main")
        );
        assert!(e.data.contains(" -0500]"), "{}", e.data);
    }
    assert!(
        evs.iter().any(|e| e.data.contains("a=1&b=<2>")),
        "escaped text round-trips"
    );
    assert!(out.contains("a=1&amp;b=&lt;2&gt;"), "{out}");
    golden("modinput.xml", &out);
}

#[test]
fn golden_modinput_equals_stdout_events() {
    let a = web_app("golden-eq-a", "stdout", "");
    let b = web_app("golden-eq-b", "modinput", "");
    let text = a.out(&[]);
    let data: String = parse_modinput(&b.out(&[]))
        .into_iter()
        .map(|e| e.data)
        .collect();
    assert_eq!(text, data, "the output mode does not change the events");
}

#[test]
fn golden_file() {
    let app = web_app("golden-file", "file", "fileName = out/web.out\n");
    assert_eq!(app.out(&[]), "", "nothing on stdout");
    // A relative fileName is relative to the conf file's folder.
    let text = std::fs::read_to_string(app.path().join("default/out/web.out")).unwrap();
    golden("file.txt", &text);
    golden("stdout.txt", &text);
}

#[test]
fn golden_spool() {
    let app = web_app(
        "golden-spool",
        "spool",
        "spoolDir = SPOOL\nspoolFile = web.spool\n",
    );
    let spool = app.path().join("spool");
    let conf = app.path().join("default/eventgen.conf");
    let text = std::fs::read_to_string(&conf)
        .unwrap()
        .replace("SPOOL", spool.to_str().unwrap());
    std::fs::write(&conf, text).unwrap();
    assert_eq!(app.out(&[]), "");
    let names: Vec<String> = std::fs::read_dir(&spool)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        ["web.spool"],
        "only the final file, no temporary left behind"
    );
    let text = std::fs::read_to_string(spool.join("web.spool")).unwrap();
    golden("spool.txt", &text);
}

#[test]
fn golden_devnull_prints_nothing() {
    let app = web_app("golden-devnull", "devnull", "");
    let o = app.run(&["-v"]);
    assert_code(&o, 0);
    assert!(o.stdout.is_empty());
    assert!(stderr(&o).contains("generated 12 events"), "{}", stderr(&o));
    assert_eq!(
        web_app("golden-devnull2", "stdout", "").out(&["--devnull"]),
        ""
    );
}
