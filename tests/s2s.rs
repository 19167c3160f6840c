//! `outputMode = s2s` through the real binary against go-s2s's receiver, a Splunk-to-Splunk
//! implementation we did not write (`../shared/tools/s2s-receiver`; `S2S_RECEIVER` names another
//! copy). Without it these tests print SKIP. Also `check` of bad settings, which needs nothing.
//!
//! The receiver prints one line per message:
//! `Received message: index=I host=H source=S sourcetype=T _time=EPOCH _raw=TEXT`, and logs
//! `Received vN connection from ADDR` on stderr for each connection.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::skip::skipped;
use crate::support::*;

fn receiver_tool() -> Option<PathBuf> {
    let p = match std::env::var_os("S2S_RECEIVER") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/s2s-receiver"),
    };
    p.is_file().then_some(p)
}

/// One running receiver; killed on drop.
struct Receiver {
    child: Child,
    out: PathBuf,
    log: PathBuf,
}

impl Receiver {
    /// Starts the receiver on `port` writing to `dir/NAME.out`; `None` (after a SKIP line)
    /// when the tool is missing or does not come up.
    fn start(dir: &Path, name: &str, port: u16, tls: Option<(&Path, &Path)>) -> Option<Receiver> {
        let Some(tool) = receiver_tool() else {
            skipped(
                "the s2s receiver ../shared/tools/s2s-receiver",
                "S2S_RECEIVER names another copy",
            );
            return None;
        };
        let out = dir.join(format!("{name}.out"));
        let log = dir.join(format!("{name}.log"));
        let mut cmd = Command::new(tool);
        cmd.arg(port.to_string()).arg(&out);
        if let Some((cert, key)) = tls {
            cmd.arg("--tls").arg(cert).arg(key);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut r = Receiver { child, out, log };
        // The first call builds the receiver (about 30 s).
        let until = Instant::now() + Duration::from_secs(240);
        while Instant::now() < until {
            if std::fs::read_to_string(&r.out).is_ok_and(|t| t.contains("listening")) {
                return Some(r);
            }
            if let Ok(Some(status)) = r.child.try_wait() {
                skipped(
                    &format!(
                        "a working s2s receiver (it exited with {status}: {})",
                        std::fs::read_to_string(&r.log).unwrap_or_default()
                    ),
                    "S2S_RECEIVER",
                );
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = r.child.kill();
        skipped("an s2s receiver that starts within 240 s", "S2S_RECEIVER");
        None
    }

    fn messages(&self) -> Vec<Msg> {
        parse(&std::fs::read_to_string(&self.out).unwrap_or_default())
    }

    /// Waits until `n` messages arrived (or 10 s passed) and returns them.
    fn wait_for(&self, n: usize) -> Vec<Msg> {
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            let m = self.messages();
            if m.len() >= n || Instant::now() >= until {
                return m;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn connections(&self, version: u8) -> usize {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .matches(&format!("Received v{version} connection from"))
            .count()
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop();
    }
}

#[derive(Debug, Default, Clone, PartialEq)]
struct Msg {
    index: String,
    host: String,
    source: String,
    sourcetype: String,
    time: Option<i64>,
    raw: String,
}

/// The receiver's lines (field values here have no spaces; `_raw` is the rest of the line).
fn parse(text: &str) -> Vec<Msg> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("Received message: ") else {
            continue;
        };
        let (head, raw) = rest.split_once("_raw=").unwrap_or((rest, ""));
        let mut m = Msg {
            raw: raw.to_string(),
            ..Msg::default()
        };
        for kv in head.split_whitespace() {
            match kv.split_once('=') {
                Some(("index", v)) => m.index = v.into(),
                Some(("host", v)) => m.host = v.into(),
                Some(("source", v)) => m.source = v.into(),
                Some(("sourcetype", v)) => m.sourcetype = v.into(),
                Some(("_time", v)) => m.time = v.parse().ok(),
                _ => {}
            }
        }
        out.push(m);
    }
    out
}

/// A sample of numbered events (`event N of the run`) and a stanza sending them to `port`.
fn app(tag: &str, port: u16, extra: &str, count: usize) -> App {
    let conf = format!(
        "[numbered.log]\noutputMode = s2s\nsplunkHost = 127.0.0.1\nsplunkPort = {port}\n\
         index = idx1\nhost = web-01\nsource = /var/log/numbered.log\nsourcetype = numbered\n\
         count = {count}\nend = 1\nearliest = -1s\nlatest = now\n\
         token.0.token = @@n\ntoken.0.replacementType = integerid\ntoken.0.replacement = 1\n{extra}"
    );
    let a = App::new(tag, &conf);
    a.sample("numbered.log", "event @@n of the run\n");
    a
}

fn numbers(msgs: &[Msg]) -> Vec<u64> {
    let mut n: Vec<u64> = msgs
        .iter()
        .filter_map(|m| m.raw.split(' ').nth(1)?.parse().ok())
        .collect();
    n.sort_unstable();
    n
}

fn every_event_once(tag: &str, extra: &str, version: u8, connections: usize) {
    let tmp = TempDir::new(tag);
    let port = free_port();
    let Some(rx) = Receiver::start(tmp.path(), "rx", port, None) else {
        return;
    };
    let a = app(tag, port, extra, 200);
    let o = a.run(&["-v"]);
    assert_code(&o, 0);
    let msgs = rx.wait_for(200);
    assert_eq!(
        numbers(&msgs),
        (1..=200).collect::<Vec<u64>>(),
        "{}",
        stderr(&o)
    );
    for m in &msgs {
        assert_eq!(
            (
                m.index.as_str(),
                m.host.as_str(),
                m.source.as_str(),
                m.sourcetype.as_str()
            ),
            ("idx1", "web-01", "/var/log/numbered.log", "numbered"),
            "{m:?}"
        );
        let t = m.time.expect("_time");
        assert!((NOW_EPOCH - 2..=NOW_EPOCH).contains(&t), "{t}");
    }
    assert_eq!(rx.connections(version), connections, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("200 events delivered over"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn s2s_v3_delivers_every_event_with_its_metadata() {
    every_event_once("s2s-v3", "", 3, 1);
}

#[test]
fn s2s_v2_as_eventgen() {
    every_event_once("s2s-v2", "s2sProtocol = 2\n", 2, 1);
}

#[test]
fn s2s_four_connections_stand_in_for_four_forwarders() {
    every_event_once("s2s-conns", "s2sConnections = 4\n", 3, 4);
}

#[test]
fn s2s_over_tls_with_a_verified_certificate() {
    let tmp = TempDir::new("s2s-tls");
    let (ca, cert, key) = certificates();
    let ca_file = tmp.write("ca.pem", &ca);
    let cert_file = tmp.write("server.pem", &cert);
    let key_file = tmp.write("server.key", &key);
    let port = free_port();
    let Some(rx) = Receiver::start(tmp.path(), "rx", port, Some((&cert_file, &key_file))) else {
        return;
    };
    let extra = format!("s2sTls = true\nsplunkCaFile = {}\n", ca_file.display());
    let a = app("s2s-tls", port, &extra, 50);
    // The certificate names localhost, not 127.0.0.1's reverse: connect by name.
    let conf = std::fs::read_to_string(a.path().join("default/eventgen.conf"))
        .unwrap()
        .replace("splunkHost = 127.0.0.1", "splunkHost = localhost");
    a.dir.write("default/eventgen.conf", &conf);
    let o = a.run(&["-v"]);
    assert_code(&o, 0);
    assert_eq!(numbers(&rx.wait_for(50)), (1..=50).collect::<Vec<u64>>());

    // Without the CA the certificate is not trusted: a clear error, nothing delivered, exit 1.
    let conf = conf.replace(&format!("splunkCaFile = {}\n", ca_file.display()), "");
    a.dir.write("default/eventgen.conf", &conf);
    let o = a.run(&[]);
    assert_code(&o, 1);
    assert!(stderr(&o).contains("not trusted"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("50 of 50 events not delivered"),
        "{}",
        stderr(&o)
    );
}

/// A CA and a server certificate for localhost signed by it (PEM: ca, cert, key).
fn certificates() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name
        .push(DnType::CommonName, "eventgen s2s test CA");
    let ca = p.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(p, ca_key);
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    (ca.pem(), cert.pem(), key.serialize_pem())
}

#[test]
fn s2s_receiver_restarted_mid_run_loses_nothing_reported_delivered() {
    let tmp = TempDir::new("s2s-restart");
    let port = free_port();
    let Some(mut first) = Receiver::start(tmp.path(), "first", port, None) else {
        return;
    };
    // Real clock: 10 events a second for 6 seconds.
    let a = app("s2s-restart", port, "interval = 1\nend = 6\n", 10);
    let mut run = Command::new(bin());
    run.args(["generate", ".", "--seed", "1", "-v"])
        .current_dir(a.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = run.spawn().unwrap();
    std::thread::sleep(Duration::from_millis(2200));
    first.stop();
    std::thread::sleep(Duration::from_millis(1200));
    let Some(second) = Receiver::start(tmp.path(), "second", port, None) else {
        let _ = child.kill();
        let _ = child.wait();
        return;
    };
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    let summary = err
        .lines()
        .find(|l| l.contains("events delivered over"))
        .unwrap_or_else(|| panic!("no summary:\n{err}"));
    let field = |before: &str| -> u64 {
        let i = summary.find(before).unwrap();
        summary[..i]
            .split_whitespace()
            .last()
            .unwrap()
            .parse()
            .unwrap()
    };
    let delivered = field(" events delivered");
    let failed = field(" not delivered");
    assert_eq!(delivered + failed, 60, "{err}");
    let mut got = numbers(&first.messages());
    got.extend(numbers(&second.wait_for(1)));
    got.sort_unstable();
    got.dedup();
    assert!(
        got.len() as u64 >= delivered,
        "{} distinct events arrived, {delivered} reported delivered:\n{err}",
        got.len()
    );
    assert!(second.connections(3) >= 1, "no reconnection:\n{err}");
    assert_eq!(
        o.status.code(),
        Some(if failed > 0 { 1 } else { 0 }),
        "{err}"
    );
    if failed > 0 {
        assert!(
            err.contains(&format!("{failed} of 60 events not delivered")),
            "{err}"
        );
    }
}

#[test]
fn s2s_refused_port_is_a_clear_error() {
    let port = free_port();
    let a = app("s2s-refused", port, "", 5);
    let o = a.run(&[]);
    assert_code(&o, 1);
    let err = stderr(&o);
    assert!(
        err.contains(&format!("s2s 127.0.0.1:{port}")) && err.contains("cannot connect"),
        "{err}"
    );
    assert!(err.contains("5 of 5 events not delivered"), "{err}");
    // A listener that is no S2S receiver never answers the v3 capabilities.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let held = std::thread::spawn(move || {
        let conns: Vec<TcpStream> = silent.incoming().take(1).filter_map(Result::ok).collect();
        std::thread::sleep(Duration::from_secs(3));
        drop(conns);
    });
    let a = app("s2s-silent", port, "splunkTimeout = 1\n", 5);
    let o = a.run(&[]);
    assert_code(&o, 1);
    assert!(
        stderr(&o).contains("no reply to the v3 capabilities within 1s"),
        "{}",
        stderr(&o)
    );
    let _ = held.join();
}

#[test]
fn s2s_check_locates_bad_settings() {
    let a = App::new(
        "s2s-check",
        "[x]\noutputMode = s2s\nsplunkHost = [\"a\", 3]\nsplunkPort = 0\ns2sProtocol = 1\ns2sConnections = many\ns2sTls = sure\n",
    );
    a.sample("x", "e\n");
    let o = a.check();
    assert_code(&o, 2);
    let text = format!("{}{}", stdout(&o), stderr(&o));
    for (line, key) in [
        (3, "splunkHost"),
        (4, "splunkPort"),
        (5, "s2sProtocol"),
        (6, "s2sConnections"),
        (7, "s2sTls"),
    ] {
        let want = format!("eventgen.conf:{line}: [x] {key}:");
        assert!(text.contains(&want), "{want} missing:\n{text}");
    }
}

/// Eventgen's own s2s configs check and run (the large test's events arrive as sourcetype s2s).
#[test]
fn s2s_corpus_configs_run_against_the_receiver() {
    let corpus = crate::compat::corpus();
    if !corpus.is_dir() {
        skipped(
            "Eventgen's corpus ../shared/eventgen-corpus",
            "EVENTGEN_CORPUS",
        );
        return;
    }
    let tmp = TempDir::new("s2s-corpus");
    let port = free_port();
    let Some(rx) = Receiver::start(tmp.path(), "rx", port, None) else {
        return;
    };
    for (rel, args, want) in [
        ("tests/large/conf/eventgen_plugin_s2s.conf", &[][..], "s2s"),
        (
            "tests/sample_eventgen_conf/perf/eventgen.conf.perfsampleweblog-s2s",
            &["-c", "20", "-b", "-6s", "-e", "2"][..],
            "access_combined",
        ),
    ] {
        let src = corpus.join(rel);
        let dir = src.parent().unwrap();
        let text = std::fs::read_to_string(&src)
            .unwrap()
            .replace("splunkPort = 9997", &format!("splunkPort = {port}"))
            .lines()
            .map(|l| match l.split_once('=') {
                Some((k, v)) if k.trim() == "sampleDir" => {
                    format!("sampleDir = {}", dir.join(v.trim()).display())
                }
                _ => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n");
        let conf = tmp.write(
            &format!("{}.conf", src.file_name().unwrap().to_string_lossy()),
            &text,
        );
        let before = rx.messages().len();
        let c = Command::new(bin())
            .args(["check", conf.to_str().unwrap()])
            .current_dir(&corpus)
            .output()
            .unwrap();
        assert_code(&c, 0);
        let mut gen_args = vec![
            "generate",
            conf.to_str().unwrap(),
            "--now",
            NOW,
            "--seed",
            "1",
        ];
        gen_args.extend_from_slice(args);
        let g = Command::new(bin())
            .args(&gen_args)
            .current_dir(&corpus)
            .env("TZ", "UTC")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_code(&g, 0);
        let msgs = rx.wait_for(before + 1);
        let new = &msgs[before..];
        assert!(!new.is_empty(), "{rel}: nothing arrived\n{}", stderr(&g));
        assert!(
            new.iter().all(|m| m.sourcetype == want),
            "{rel}: {:?}",
            new[0]
        );
    }
}

/// Peak resident set (`VmHWM`) of a process in kB.
fn peak_kb(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// A receiver that answers the v3 capabilities, reads 64 KiB of each connection, then stops
/// reading while keeping every connection open.
fn stalled_receiver() -> u16 {
    use eventgen::output::s2s::wire;
    use std::io::{Read, Write};
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            let mut head = vec![0u8; wire::SIGNATURE_LEN + 4];
            if s.read_exact(&mut head).is_err() {
                continue;
            }
            let size = u32::from_be_bytes(head[wire::SIGNATURE_LEN..].try_into().unwrap());
            let mut caps = vec![0u8; size as usize];
            let reply = wire::control_message(&[("__s2s_control_msg", "cap_response=success")]);
            let mut some = vec![0u8; 64 * 1024];
            if s.read_exact(&mut caps).is_ok()
                && s.write_all(&reply).is_ok()
                && s.read_exact(&mut some).is_ok()
            {
                held.push(s);
            }
        }
    });
    port
}

/// A huge run into receivers that stopped reading stays small: generation waits.
#[test]
fn s2s_stalled_receiver_keeps_memory_bounded() {
    if !Path::new("/proc/self/status").exists() {
        skipped("/proc (Linux) to read VmHWM", "none");
        return;
    }
    let port = stalled_receiver();
    let a = app(
        "s2s-stalled",
        port,
        "s2sConnections = 4\ncount = 100000000\nend = 1000000\n",
        1,
    );
    let mut child = Command::new(bin())
        .args([
            "generate",
            ".",
            "--now",
            NOW,
            "--seed",
            "1",
            "--generators",
            "1",
        ])
        .current_dir(a.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Let it fill the receivers' windows and block, then watch.
    std::thread::sleep(Duration::from_secs(3));
    let started = Instant::now();
    let mut peak = 0;
    while started.elapsed() < Duration::from_millis(1500) {
        assert!(child.try_wait().unwrap().is_none(), "it ended");
        peak = peak.max(peak_kb(child.id()).unwrap_or(0));
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(peak > 0, "no VmHWM read");
    eprintln!("s2s with stalled receivers: peak resident size {peak} kB");
    assert!(
        peak < 30 * 1024,
        "peak resident size {} MB with a stalled receiver",
        peak / 1024
    );
}
