//! Secrets by reference through the binary: an HEC token given as `${env:NAME}` or
//! `${file:PATH}` reaches the (scripted) HEC server as the `Authorization` header and never
//! stderr or stdout, even when the server refuses it; a missing or empty variable or file is a
//! located error that leaves the sample out; splunkstream's credentials the same.

use std::process::{Command, Output};

use crate::hec_server::{Action, HecServer};
use crate::support::*;

const TOKEN: &str = "7f3e2d1c-ref-secret-token-0a9b8c";

/// A server that accepts only `TOKEN`.
fn server() -> HecServer {
    HecServer::start(|r| {
        if r.header("Authorization") == Some(&format!("Splunk {TOKEN}")) {
            Action::Accept
        } else {
            Action::Reply(403, r#"{"text":"Invalid token","code":4}"#.into())
        }
    })
}

fn app(tag: &str, port: u16, key: &str) -> App {
    let conf = format!(
        "[s.log]\ncount = 3\ninterval = 1\nearliest = now\nlatest = now\n\
         outputMode = httpevent\n\
         httpeventServers = {{\"servers\":[{{\"protocol\":\"http\",\"address\":\"127.0.0.1\",\"port\":\"{port}\",\"key\":\"{key}\"}}]}}\n"
    );
    let app = App::new(tag, &conf);
    app.sample("s.log", "one secret-test event\n");
    app
}

fn run(app: &App, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(bin());
    cmd.args(["generate", ".", "--now", NOW, "-e", "1", "-v"])
        .args(args)
        .current_dir(app.path())
        .env("TZ", "UTC")
        .env_remove("EG_REF_TOKEN");
    for (k, v) in env {
        cmd.env(k, v);
    }
    output_within(cmd, APP_DEADLINE)
}

#[track_caller]
fn assert_not_printed(o: &Output, secret: &str) {
    assert!(!stderr(o).contains(secret), "printed:\n{}", stderr(o));
    assert!(!stdout(o).contains(secret), "printed on stdout");
}

#[test]
fn hec_token_from_an_environment_variable() {
    let s = server();
    let a = app("secret-env", s.port, "${env:EG_REF_TOKEN}");
    let o = run(&a, &[("EG_REF_TOKEN", TOKEN)], &[]);
    assert_code(&o, 0);
    assert_eq!(s.events().len(), 3, "{}", stderr(&o));
    assert_not_printed(&o, TOKEN);
}

#[test]
fn hec_token_from_a_file_with_its_trailing_newline_trimmed() {
    let s = server();
    // Absolute, as a mounted Secret is.
    let a = app("secret-file", s.port, "");
    let token_file = a.dir.write("secrets/hec-token", &format!("{TOKEN}\n"));
    let a2 = app(
        "secret-file-abs",
        s.port,
        &format!("${{file:{}}}", token_file.display()),
    );
    let o = run(&a2, &[], &[]);
    assert_code(&o, 0);
    assert_eq!(s.events().len(), 3, "{}", stderr(&o));
    assert_not_printed(&o, TOKEN);
    // Relative: from the folder of the .conf file that says it.
    let s2 = server();
    let a3 = app("secret-file-rel", s2.port, "${file:../secrets/hec-token}");
    a3.dir.write("secrets/hec-token", &format!("{TOKEN}\r\n"));
    let o = run(&a3, &[], &[]);
    assert_code(&o, 0);
    assert_eq!(s2.events().len(), 3, "{}", stderr(&o));
}

#[test]
fn a_refused_token_from_a_reference_is_not_printed_either() {
    let s = server();
    let wrong = "0000ffff-wrong-ref-token-1234abcd";
    let a = app("secret-wrong", s.port, "${env:EG_REF_TOKEN}");
    let o = run(&a, &[("EG_REF_TOKEN", wrong)], &[]);
    assert_ne!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("ERROR"), "{}", stderr(&o));
    assert_not_printed(&o, wrong);
}

/// An environment variable for a run: (name, value).
type Env<'a> = (&'a str, &'a str);

#[test]
fn missing_or_empty_references_are_located_errors() {
    let cases: [(&str, &[Env], &str); 4] = [
        (
            "${env:EG_REF_TOKEN}",
            &[],
            "\"key\": ${env:EG_REF_TOKEN}: the environment variable EG_REF_TOKEN is not set",
        ),
        (
            "${env:EG_REF_TOKEN}",
            &[("EG_REF_TOKEN", " ")],
            "the environment variable EG_REF_TOKEN is empty",
        ),
        (
            "${file:/nonexistent/eventgen/token}",
            &[],
            "cannot read /nonexistent/eventgen/token",
        ),
        ("${vault:x}", &[], "unknown reference"),
    ];
    for (key, env, want) in cases {
        let a = app("secret-missing", 9, key);
        let o = run(&a, env, &[]);
        assert_code(&o, 2);
        let err = stderr(&o);
        let line = err
            .lines()
            .find(|l| l.contains(want))
            .unwrap_or_else(|| panic!("{key}: no {want:?} in\n{err}"));
        assert!(
            line.starts_with("ERROR ")
                && line.contains("default/eventgen.conf:7: [s.log] httpeventServers: server 1: "),
            "{line}"
        );
    }
    // An empty file.
    let a = app("secret-empty-file", 9, "${file:token}");
    a.dir.write("default/token", "\n");
    let o = run(&a, &[], &[]);
    assert_code(&o, 2);
    assert!(stderr(&o).contains("token is empty"), "{}", stderr(&o));
    // Only the output that uses it needs it: stdout needs no token.
    let o = run(&a, &[], &["--output", "stdout"]);
    assert_code(&o, 0);
}

#[test]
fn splunkstream_credentials_by_reference() {
    let conf = "[s.log]\ncount = 1\nearliest = now\nlatest = now\noutputMode = splunkstream\n\
                splunkHost = 127.0.0.1\nsplunkUser = ${env:EG_REF_USER}\n\
                splunkPass = ${file:pass}\n";
    let a = App::new("secret-splunkstream", conf);
    a.sample("s.log", "x\n");
    let o = a.check();
    assert_code(&o, 2);
    let err = stderr(&o);
    assert!(
        err.contains("[s.log] splunkUser: ${env:EG_REF_USER}: the environment variable EG_REF_USER is not set"),
        "{err}"
    );
    assert!(
        err.contains("[s.log] splunkPass: ${file:pass}: cannot read"),
        "{err}"
    );
    a.dir.write("default/pass", "pa55-w0rd-by-ref-0042\n");
    let mut cmd = Command::new(bin());
    cmd.args(["check", "."])
        .current_dir(a.path())
        .env("EG_REF_USER", "admin");
    let o = output_within(cmd, APP_DEADLINE);
    assert_code(&o, 0);
    assert_not_printed(&o, "pa55-w0rd-by-ref-0042");
}
