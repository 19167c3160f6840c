//! `outputMode = awss3` through the real binary into moto's S3 server (`tests/tools/moto-s3`,
//! PyPI's `moto[server]` installed into a cache folder on first use), an S3 API we did not
//! write. Without it (no python3/PyPI, or `EVENTGEN_SKIP_MOTO=1`) the tests print SKIP.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::skip::skipped;
use crate::support::*;

const SECRET: &str = "s3cr3t-Wq8vX2mN7pL4kJ9hG6fD";
/// moto (without authentication) reads objects only for requests that carry some signature.
const AUTH: &str = "Authorization: AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00";

struct Moto {
    child: Child,
    port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    /// Starts moto on a free port.
    fn start() -> Option<Moto> {
        if std::env::var("EVENTGEN_SKIP_MOTO").as_deref() == Ok("1") {
            skipped("moto's S3 server", "EVENTGEN_SKIP_MOTO=1");
            return None;
        }
        let tool = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/moto-s3");
        let port = free_port();
        let mut cmd = Command::new(tool);
        cmd.args(["run", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut m = Moto {
            child: cmd.spawn().ok()?,
            port,
        };
        let until = Instant::now() + Duration::from_secs(300);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if matches!(m.child.try_wait(), Ok(Some(_))) || Instant::now() > until {
                skipped(
                    "moto's S3 server (tests/tools/moto-s3 could not install or start it)",
                    "EVENTGEN_SKIP_MOTO=1 skips quietly",
                );
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(m)
    }

    /// One plain HTTP request; returns (status, body).
    fn request(&self, method: &str, path: &str) -> (u16, Vec<u8>) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n{AUTH}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        )
        .unwrap();
        let mut all = Vec::new();
        s.read_to_end(&mut all).unwrap();
        let head_end = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        let head = String::from_utf8_lossy(&all[..head_end]).into_owned();
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        let mut body = all[head_end..].to_vec();
        if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            body = dechunk(&body);
        }
        (status, body)
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = b.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&b[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[eol + 2 + size + 2..];
    }
}

fn app(tag: &str, extra: &str) -> App {
    let conf = format!(
        "[numbered.log]\noutputMode = awss3\nawsS3BucketName = eventgen-test\n\
         awsKeyId = testing\nawsSecretKey = {SECRET}\nawsRegion = us-east-1\n\
         count = 100\nend = 1\nearliest = -1s\nlatest = now\n\
         token.0.token = @@n\ntoken.0.replacementType = integerid\ntoken.0.replacement = 1\n{extra}"
    );
    let a = App::new(tag, &conf);
    a.sample("numbered.log", "event @@n of the run\n");
    a
}

fn run_against(a: &App, moto: &Moto) -> std::process::Output {
    let mut cmd = Command::new(bin());
    cmd.args(["generate", ".", "--now", NOW, "--seed", "1", "-v"])
        .current_dir(a.path())
        .env("TZ", "UTC")
        .env("AWS_ENDPOINT_URL_S3", moto.endpoint());
    output_within(cmd, APP_DEADLINE)
}

#[test]
fn awss3_objects_hold_every_event_once_under_eventgens_keys() {
    let Some(moto) = Moto::start() else {
        return;
    };
    let (status, body) = moto.request("PUT", "/eventgen-test");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let a = app(
        "s3-ok",
        "awsS3ObjectPrefix = elb/\nawsS3EventType = elbaccesslogs\nawsS3CompressionType = gz\nawsS3EventPerKey = 30\n",
    );
    let o = run_against(&a, &moto);
    assert_code(&o, 0);
    let all = format!("{}{}", stdout(&o), stderr(&o));
    assert!(!all.contains(SECRET), "the secret was printed:\n{all}");
    assert!(
        all.contains("100 events in 4 objects, 0 not delivered"),
        "{all}"
    );
    let (status, list) = moto.request("GET", "/eventgen-test?list-type=2");
    assert_eq!(status, 200);
    let list = String::from_utf8_lossy(&list).into_owned();
    let keys: Vec<&str> = list
        .split("<Key>")
        .skip(1)
        .filter_map(|k| k.split_once("</Key>").map(|(k, _)| k))
        .collect();
    assert_eq!(keys.len(), 4, "{list}");
    let mut numbers = Vec::new();
    for key in keys {
        // elb/YYYYmmddTHHMMZ_<uuid-shaped id>
        let rest = key.strip_prefix("elb/").unwrap_or_else(|| panic!("{key}"));
        let (stamp, id) = rest.split_once('_').unwrap_or_else(|| panic!("{key}"));
        assert_eq!(stamp.len(), 14, "{key}");
        assert!(stamp.ends_with('Z') && stamp.as_bytes()[8] == b'T', "{key}");
        assert_eq!(id.len(), 36, "{key}");
        let (status, body) = moto.request("GET", &format!("/eventgen-test/{key}"));
        assert_eq!(status, 200);
        let mut text = String::new();
        flate2::read::GzDecoder::new(&body[..])
            .read_to_string(&mut text)
            .unwrap_or_else(|e| panic!("{key} is not gzip: {e}"));
        for line in text.lines() {
            numbers.push(line.split(' ').nth(1).unwrap().parse::<u64>().unwrap());
        }
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=100).collect::<Vec<u64>>());

    // A refusal that no retry can fix stops the output with one clear error, exit 1. moto
    // 5.2.1 cannot check the credentials of presigned requests (with authentication on it
    // answers 500), so the refusal here is a missing bucket (404 NoSuchBucket), which takes the
    // same path as InvalidAccessKeyId or SignatureDoesNotMatch (unit-tested in output::awss3).
    let a = app("s3-refused", "awsS3BucketName = no-such-bucket\n");
    let o = run_against(&a, &moto);
    assert_code(&o, 1);
    let all = format!("{}{}", stdout(&o), stderr(&o));
    assert!(!all.contains(SECRET), "the secret was printed:\n{all}");
    assert!(
        all.contains("S3 refused the request (HTTP 404 NoSuchBucket)"),
        "{all}"
    );
    assert!(all.contains("check awsKeyId/awsSecretKey"), "{all}");
    assert!(all.contains("100 of 100 events not delivered"), "{all}");
}

#[test]
fn awss3_check_locates_bad_settings() {
    let a = App::new(
        "s3-check",
        "[x]\noutputMode = awss3\nawsS3BucketName = No_Such\nawsS3CompressionType = bz2\nawsS3EventPerKey = none\nawsKeyId = k\n",
    );
    a.sample("x", "e\n");
    let o = a.check();
    assert_code(&o, 2);
    let text = format!("{}{}", stdout(&o), stderr(&o));
    for want in [
        "eventgen.conf:3: [x] awsS3BucketName:",
        "eventgen.conf:4: [x] awsS3CompressionType:",
        "eventgen.conf:5: [x] awsS3EventPerKey:",
        "awsKeyId is set without awsSecretKey",
    ] {
        assert!(text.contains(want), "{want} missing:\n{text}");
    }
}

#[test]
fn awss3_credentials_may_be_env_or_file_references() {
    let secret = "s3-secret-from-a-file-7f3a";
    let a = App::new(
        "s3-refs",
        "[x]\noutputMode = awss3\nawsS3BucketName = eventgen-test\n\
         awsKeyId = ${file:s3-key-id}\nawsSecretKey = ${file:s3-secret}\n",
    );
    a.sample("x", "e\n");
    std::fs::write(a.path().join("default/s3-key-id"), "AKIDFROMFILE\n").unwrap();
    std::fs::write(a.path().join("default/s3-secret"), format!("{secret}\n")).unwrap();
    let o = a.check();
    assert_code(&o, 0);
    let text = format!("{}{}", stdout(&o), stderr(&o));
    assert!(!text.contains(secret), "the secret was printed:\n{text}");

    std::fs::remove_file(a.path().join("default/s3-secret")).unwrap();
    let o = a.check();
    assert_code(&o, 2);
    let text = format!("{}{}", stdout(&o), stderr(&o));
    assert!(
        text.contains("eventgen.conf:5: [x] awsSecretKey:"),
        "{text}"
    );
    assert!(
        !text.contains("set without"),
        "one mistake, one error:\n{text}"
    );

    let b = App::new(
        "s3-refs-env",
        "[x]\noutputMode = awss3\nawsS3BucketName = eventgen-test\n\
         awsKeyId = ${env:EVENTGEN_TEST_NO_SUCH_VARIABLE_S3}\nawsSecretKey = plain\n",
    );
    b.sample("x", "e\n");
    let o = b.check();
    assert_code(&o, 2);
    let text = format!("{}{}", stdout(&o), stderr(&o));
    assert!(text.contains("eventgen.conf:4: [x] awsKeyId:"), "{text}");
    assert!(text.contains("EVENTGEN_TEST_NO_SUCH_VARIABLE_S3"), "{text}");
}
