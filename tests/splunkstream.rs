//! `outputMode = splunkstream` through the real binary against a scripted splunkd on loopback:
//! the login form, the session key in `Authorization`, the query parameters of each metadata
//! group, and the body, compared with what the same seed writes to stdout. A 401 in the middle
//! makes it log in again, a busy or absent server is retried, and nothing is lost.

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::splunkd_server::{Script, SplunkdServer};
use crate::support::*;

const USER: &str = "admin";
/// Characters a form must encode.
const PASS: &str = "pa ss&w=rd+%";

fn script() -> Script {
    Script {
        user: USER.into(),
        password: PASS.into(),
        ..Script::default()
    }
}

/// Two samples with different metadata, both to splunkstream at `hosts` on `port`.
fn app(hosts: &str, port: u16) -> App {
    let conf = format!(
        "[global]\noutputMode = splunkstream\nsplunkHost = {hosts}\nsplunkPort = {port}\n\
         splunkMethod = http\nsplunkUser = {USER}\nsplunkPass = {PASS}\nsplunkTimeout = 5\n\
         interval = 1\ncount = -1\nearliest = now\nlatest = now\n\n\
         [web.log]\nindex = web\nsourcetype = access\nhost = web-01\nhostRegex = host=(\\w+)\n\n\
         [db.log]\nindex = db\nsourcetype = dblog\nhost = db-01\n"
    );
    let app = App::new("splunkstream", &conf);
    app.sample("web.log", "GET /a 200 host=alpha\nGET /b 404 host=beta\n")
        .sample("db.log", "select 1\ncommit\n");
    app
}

fn expected(app: &App, end: &str) -> Vec<String> {
    let mut v: Vec<String> = app
        .out(&["-e", end, "--output", "stdout"])
        .lines()
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

#[test]
fn logs_in_once_and_sends_each_metadata_group_with_its_query() {
    let srv = SplunkdServer::start(script());
    let app = app("127.0.0.1", srv.port);
    let o = app.run(&["-e", "5"]);
    assert_code(&o, 0);
    assert_eq!(srv.lines(), expected(&app, "5"), "every event once");
    let logins = srv.logins();
    // One output per sample (their hostRegex differs), each with its own session.
    assert_eq!(
        logins.len(),
        2,
        "one login per output for the run: {logins:?}"
    );
    assert_eq!(
        logins[0],
        [
            ("username".to_string(), USER.to_string()),
            ("password".to_string(), PASS.to_string())
        ]
    );
    let got = srv.received();
    assert!(
        got.iter()
            .all(|r| r.authorization == "Splunk key-1" || r.authorization == "Splunk key-2")
    );
    for r in &got {
        let web = r.param("sourcetype") == Some("access");
        let want: Vec<(&str, &str)> = if web {
            vec![
                ("index", "web"),
                ("source", "web.log"),
                ("sourcetype", "access"),
                ("host_regex", "host=(\\w+)"),
                ("host", "web-01"),
            ]
        } else {
            vec![
                ("index", "db"),
                ("source", "db.log"),
                ("sourcetype", "dblog"),
                ("host", "db-01"),
            ]
        };
        let have: Vec<(&str, &str)> = r
            .query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(have, want, "query in Eventgen's order");
        let prefix = if web { "GET " } else { "" };
        assert!(
            r.body
                .lines()
                .all(|l| l.starts_with(prefix) && (web || !l.starts_with("GET"))),
            "a request holds one group only: {:?}",
            r.body
        );
        assert!(r.body.ends_with('\n'));
    }
    let err = stderr(&o);
    assert!(!err.contains(PASS) && !err.contains("key-1"), "{err}");
}

#[test]
fn expired_session_busy_server_and_a_dead_host_lose_nothing() {
    let srv = SplunkdServer::start(Script {
        busy_first: 2,
        expire_after: Some(2),
        ..script()
    });
    // 127.0.0.2 is loopback too, but nothing listens there: the first host of the list fails.
    let app = app(r#"["127.0.0.2", "127.0.0.1"]"#, srv.port);
    let o = app.run(&["-e", "6", "-v"]);
    assert_code(&o, 0);
    assert_eq!(
        srv.lines(),
        expected(&app, "6"),
        "nothing lost, nothing doubled"
    );
    let statuses = srv.statuses();
    assert_eq!(&statuses[..2], [503, 503], "{statuses:?}");
    assert!(statuses.contains(&401), "{statuses:?}");
    assert!(srv.logins().len() > 2, "logged in again after the 401");
    let got = srv.received();
    assert!(
        got.iter()
            .any(|r| r.authorization == "Splunk key-3" || r.authorization == "Splunk key-4"),
        "a key from a new login was used"
    );
    let err = stderr(&o);
    assert!(err.contains("splunkstream http://127.0.0.2:"), "{err}");
    assert!(err.contains("retrying in"), "{err}");
    assert!(!err.contains(PASS) && !err.contains("key-"), "{err}");
}

#[test]
fn a_server_that_comes_up_late_gets_everything() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    let app = app("127.0.0.1", port);
    let child = spawn(
        &app,
        &["generate", ".", "--now", NOW, "--seed", "1", "-e", "3"],
    );
    std::thread::sleep(Duration::from_millis(1200));
    let srv = SplunkdServer::serve(TcpListener::bind(("127.0.0.1", port)).unwrap(), script());
    let o = wait_output(child, Duration::from_secs(30));
    assert_code(&o, 0);
    assert_eq!(srv.lines(), expected(&app, "3"));
    assert!(stderr(&o).contains("Connection refused"), "{}", stderr(&o));
}

#[test]
fn a_refused_request_drops_only_its_events_and_the_run_goes_on() {
    let srv = SplunkdServer::start(Script {
        refuse_first: 1,
        ..script()
    });
    let conf = format!(
        "[r.log]\noutputMode = splunkstream\nsplunkHost = 127.0.0.1\nsplunkPort = {}\n\
         splunkMethod = http\nsplunkUser = {USER}\nsplunkPass = {PASS}\nsplunkTimeout = 5\n\
         interval = 1\ncount = 2\nend = 5\nearliest = now\nlatest = now\n",
        srv.port
    );
    let app = App::new("splunkstream-refused", &conf);
    app.sample("r.log", "one\ntwo\n");
    let mut child = spawn(&app, &["generate", ".", "-v", "--metrics", "127.0.0.1:0"]);
    let err = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for l in std::io::BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    let mut seen = Vec::new();
    let addr = loop {
        let l = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("metrics address");
        seen.push(l.clone());
        if let Some(a) = l.strip_prefix("INFO serving metrics on http://") {
            break a.trim_end_matches("/metrics").to_string();
        }
    };
    // Once the refusal and two accepted requests are in, the page counts them exactly.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while srv.statuses().len() < 3 {
        assert!(std::time::Instant::now() < deadline, "{:?}", srv.statuses());
        std::thread::sleep(Duration::from_millis(20));
    }
    let page = http_get(&addr, "/metrics");
    let accepted = srv.lines().len() as f64;
    let series = |name: &str| -> f64 {
        page.lines()
            .find(|l| l.starts_with(name) && l.contains("output=\"splunkstream"))
            .and_then(|l| l.rsplit(' ').next()?.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {page}"))
    };
    assert_eq!(series("eventgen_output_failed_total"), 2.0, "{page}");
    let sent = series("eventgen_output_sent_total");
    assert!(
        sent >= 4.0 && sent <= accepted,
        "sent {sent}, accepted {accepted}"
    );
    assert!(!page.contains(PASS), "{page}");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the run did not end");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    std::thread::sleep(Duration::from_millis(100));
    seen.extend(rx.try_iter());
    let err = seen.join("\n");
    assert_eq!(status.code(), Some(1), "{err}");
    let statuses = srv.statuses();
    assert_eq!(statuses[0], 400, "{statuses:?}");
    assert!(statuses[1..].iter().all(|s| *s == 200), "{statuses:?}");
    let lines = srv.lines();
    assert_eq!(
        lines.len(),
        2 * (statuses.len() - 1),
        "every later event arrived"
    );
    assert!(lines.len() >= 8, "the run went on: {lines:?}");
    assert!(
        err.contains(&format!(": 2 of {} events not delivered", lines.len() + 2)),
        "{err}"
    );
    assert!(!err.contains("every output has failed"), "{err}");
    assert!(!err.contains("are being dropped"), "{err}");
    assert_eq!(
        err.matches("the server refused a request").count(),
        1,
        "{err}"
    );
}

/// `eventgen <args>` in the app folder, with piped stdout and stderr.
fn spawn(app: &App, args: &[&str]) -> std::process::Child {
    Command::new(bin())
        .args(args)
        .current_dir(app.path())
        .env("TZ", "UTC")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// One HTTP GET on loopback: the body.
fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    text.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default()
}

#[test]
fn wrong_password_fails_the_run_with_a_clear_error() {
    let srv = SplunkdServer::start(Script {
        password: "other".into(),
        ..script()
    });
    let app = app("127.0.0.1", srv.port);
    let o = app.run(&["-e", "2"]);
    assert_code(&o, 1);
    let err = stderr(&o);
    assert!(err.contains("credentials are missing or wrong"), "{err}");
    assert!(err.contains("not delivered"), "{err}");
    assert!(!err.contains(PASS), "{err}");
    assert!(srv.received().is_empty());
}

#[test]
fn check_accepts_splunkstream_and_reports_bad_keys_at_their_line() {
    let app = app("127.0.0.1", 8089);
    assert_code(&app.check(), 0);
    let bad = App::new(
        "splunkstream-bad",
        "[s.log]\noutputMode = splunkstream\nsplunkHost = https://x:8089\nsplunkMethod = ftp\n",
    );
    bad.sample("s.log", "x\n");
    let o = bad.check();
    assert_code(&o, 2);
    let err = stderr(&o);
    assert!(
        err.contains("eventgen.conf:3: [s.log] splunkHost:"),
        "{err}"
    );
    assert!(
        err.contains("eventgen.conf:4: [s.log] splunkMethod: expected http or https"),
        "{err}"
    );
    assert!(
        err.contains("WARN") && err.contains("splunkUser is not set"),
        "{err}"
    );
}
