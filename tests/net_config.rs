//! Network output settings through the binary: a server address that is not a host is a
//! located `check` error, and no credential in the configuration (a token, a password, one
//! embedded in a host) is printed by `check` or `generate`, whether or not its output is built.

use crate::support::*;

const HEC_URL: &str = r#"{"servers":[{"protocol":"https","address":"https://splunk.example.com","port":"8088","key":"tok-5e3f-secret"}]}"#;

#[test]
fn a_url_where_a_hec_host_belongs_is_a_located_error() {
    let app = App::new(
        "hec-url-address",
        &format!("[h.log]\noutputMode = httpevent\nhttpeventServers = {HEC_URL}\n"),
    );
    app.sample("h.log", "x\n");
    let o = app.check();
    assert_code(&o, 2);
    let err = stderr(&o);
    assert!(
        err.contains("eventgen.conf:3: [h.log] httpeventServers: "),
        "{err}"
    );
    assert!(
        err.contains("\"https://splunk.example.com\" is not a host name or address: it is a URL"),
        "{err}"
    );
    assert!(!err.contains("tok-5e3f-secret"), "{err}");
    for (address, what) in [
        ("splunk.example.com:8088", "holds a port"),
        ("splunk.example.com/services", "holds a path"),
        ("", "empty"),
    ] {
        let app = App::new(
            "hec-bad-address",
            &format!(
                "[h.log]\noutputMode = httpevent\nhttpeventServers = {{\"servers\":[{{\"protocol\":\"http\",\"address\":\"{address}\",\"port\":\"8088\",\"key\":\"k\"}}]}}\n"
            ),
        );
        app.sample("h.log", "x\n");
        let o = app.check();
        assert_code(&o, 2);
        assert!(stderr(&o).contains(what), "{address}: {}", stderr(&o));
    }
}

#[test]
fn credentials_are_never_printed_even_for_outputs_that_are_not_built() {
    let conf = "[s.log]\noutputMode = splunkstream\nsplunkHost = admin:hunter2@127.0.0.1\n\
                splunkUser = admin\nsplunkPass = hunter2\n\n\
                [u.log]\noutputMode = splunkstream\nsplunkHost = https://root:pa55word@127.0.0.1:8089/x\n\n\
                [h.log]\noutputMode = httpevent\nhttpeventServers = {\"servers\":[{\"protocol\":\"ftp\",\"address\":\"a\",\"port\":\"1\",\"key\":\"tok-unbuilt-77\"}]}\n\n\
                [ok.log]\noutputMode = stdout\n";
    let app = App::new("secrets-everywhere", conf);
    for s in ["s.log", "u.log", "h.log", "ok.log"] {
        app.sample(s, "line\n");
    }
    let check = app.check();
    let generate = app.run(&["-e", "1", "-v"]);
    for (what, o) in [("check", &check), ("generate", &generate)] {
        let all = format!("{}{}", stdout(o), stderr(o));
        for secret in ["hunter2", "pa55word", "tok-unbuilt-77"] {
            assert!(!all.contains(secret), "{what} printed {secret}:\n{all}");
        }
    }
    assert_code(&check, 2);
    let err = stderr(&check);
    assert!(err.contains("[s.log] splunkHost: "), "{err}");
    assert!(
        err.contains("********"),
        "the value is shown, redacted: {err}"
    );
    assert_eq!(stdout(&generate), "line\n", "the good sample still runs");
}

#[test]
fn tcp_udp_and_syslog_hosts_are_checked_too() {
    for (mode, key, port_key) in [
        ("tcpout", "tcpDestinationHost", "tcpDestinationPort"),
        ("udpout", "udpDestinationHost", "udpDestinationPort"),
        (
            "syslogout",
            "syslogDestinationHost",
            "syslogDestinationPort",
        ),
    ] {
        let app = App::new(
            "net-host",
            &format!("[n.log]\noutputMode = {mode}\n{key} = tcp://10.0.0.1:514\n"),
        );
        app.sample("n.log", "x\n");
        let o = app.check();
        assert_code(&o, 2);
        let err = stderr(&o);
        assert!(
            err.contains(&format!("eventgen.conf:3: [n.log] {key}: ")),
            "{err}"
        );
        assert!(
            err.contains(&format!("give the port in {port_key}")),
            "{err}"
        );
    }
}
