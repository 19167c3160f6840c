//! `outputMode = awss3`: events as objects in an S3 bucket (AWS or any S3-compatible store).
//!
//! Each object holds the text of its events, one per line, gzipped with
//! `awsS3CompressionType = gz`. An object is written when `awsS3EventPerKey` events are
//! gathered, or, without it, when the output thread runs out of batches (about one per
//! interval, as Eventgen wrote one per flush), and at the end; never more than
//! [`MAX_OBJECT`] bytes of text. Keys follow Eventgen's layouts by `awsS3EventType`
//! (UTC times): `elbaccesslog(s)` `prefix + %Y%m%dT%H%MZ + "_" + id + suffix`,
//! `s3accesslog(s)` `prefix + %Y-%m-%d-%H-%M-%S + "-" + 15 upper-case hex digits + suffix`,
//! anything else (`syslog`, `cloudfront`) `prefix + ISO time + id + suffix`.
//!
//! Credentials: `awsKeyId`/`awsSecretKey`, else `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`
//! (and `AWS_SESSION_TOKEN`). Region: `awsRegion`, else `AWS_REGION`/`AWS_DEFAULT_REGION`, else
//! `us-east-1`. Endpoint: `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL` (path-style URLs), else
//! AWS (`https://s3.<region>.amazonaws.com`, virtual-host URLs). Requests are signed (SigV4,
//! presigned `PUT`) by the `rusty-s3` crate and sent with our HTTP client.
//!
//! Reliability as HEC: transport failures, 5xx, 429 and `SlowDown` are retried with backoff
//! while generation waits; refused credentials, a missing bucket or a refused signature stop
//! the output (its events are not delivered, exit 1); another 4xx drops that object. The
//! secret key is registered with the logger before the first request.

use std::io::{self, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use flate2::Compression;
use flate2::write::GzEncoder;
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};

use crate::conf::{Setting, Settings, reference};
use crate::output::http::{Client, ClientOptions, Proxy};
use crate::output::netcore::{Health, NetStats, Shutdown, log};
use crate::output::{Batch, Sink};
use crate::problem::Problem;
use crate::rng::Rng;

/// Most bytes of event text in one object.
pub const MAX_OBJECT: usize = 16 * 1024 * 1024;
/// Longest wait for one request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a signed request stays valid.
const SIGNED_FOR: Duration = Duration::from_secs(900);

/// How object keys are made (`awsS3EventType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    ElbAccessLog,
    S3AccessLog,
    Default,
}

/// Checked `awss3` settings. `Debug` leaves the secret out.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Config {
    pub bucket: String,
    pub prefix: String,
    pub suffix: String,
    pub gzip: bool,
    pub layout: Layout,
    pub events_per_key: Option<usize>,
    pub region: String,
    /// `None`: AWS itself.
    pub endpoint: Option<String>,
    pub key_id: String,
    pub secret: String,
    pub token: Option<String>,
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl S3Config {
    /// `s3://bucket/prefix` for messages.
    pub fn name(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }

    /// Checks the settings of `stanza` (and the AWS environment variables).
    pub fn build(settings: &Settings, stanza: &str) -> Result<S3Config, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut bad = |key: &str, s: Option<&Setting>, msg: String| {
            let mut p = Problem::error(msg).stanza(stanza).key(key);
            if let Some(s) = s {
                p = p.located(&s.location);
            }
            problems.push(p);
        };
        let text = |key: &str| {
            settings
                .get(key)
                .map(|s| s.value.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let bucket = text("awsS3BucketName").unwrap_or_default();
        let valid = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
            && !bucket.starts_with(['.', '-'])
            && !bucket.ends_with(['.', '-']);
        if bucket.is_empty() {
            bad(
                "awsS3BucketName",
                settings.get("awsS3BucketName"),
                "awsS3BucketName is required for outputMode awss3".into(),
            );
        } else if !valid {
            bad(
                "awsS3BucketName",
                settings.get("awsS3BucketName"),
                format!(
                    "{bucket:?} is not an S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens)"
                ),
            );
        }
        let gzip = match text("awsS3CompressionType").as_deref() {
            None | Some("none") => false,
            Some("gz" | "gzip") => true,
            Some(other) => {
                bad(
                    "awsS3CompressionType",
                    settings.get("awsS3CompressionType"),
                    format!("expected gz (or nothing for plain text), got {other:?}"),
                );
                false
            }
        };
        let layout = match text("awsS3EventType").as_deref() {
            Some("elbaccesslog" | "elbaccesslogs") => Layout::ElbAccessLog,
            Some("s3accesslog" | "s3accesslogs") => Layout::S3AccessLog,
            _ => Layout::Default,
        };
        let events_per_key = match settings.get("awsS3EventPerKey") {
            Some(s) if !s.value.trim().is_empty() => match s.value.trim().parse::<usize>() {
                Ok(n) if n >= 1 => Some(n),
                _ => {
                    bad(
                        "awsS3EventPerKey",
                        Some(s),
                        format!(
                            "expected a number of events of at least 1, got {:?}",
                            s.value
                        ),
                    );
                    None
                }
            },
            _ => None,
        };
        let region = text("awsRegion")
            .or_else(|| env("AWS_REGION"))
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| "us-east-1".into());
        let endpoint = env("AWS_ENDPOINT_URL_S3").or_else(|| env("AWS_ENDPOINT_URL"));
        if let Some(e) = &endpoint
            && reqwest::Url::parse(e).map_or(true, |u| !matches!(u.scheme(), "http" | "https"))
        {
            bad(
                "awsS3BucketName",
                None,
                format!(
                    "the S3 endpoint {e:?} (AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL) is not an http(s) URL"
                ),
            );
        }
        // Either key may be a ${env:NAME} or ${file:PATH} reference, as HEC tokens and
        // splunkstream's credentials may; a reference that cannot be resolved is its own error.
        let mut unresolved = false;
        let mut credential = |key: &str| {
            let s = settings.get(key)?;
            match reference::secret(s) {
                Ok(v) => Some(v.trim().to_string()).filter(|v| !v.is_empty()),
                Err(msg) => {
                    bad(key, Some(s), msg);
                    unresolved = true;
                    None
                }
            }
        };
        let key_id = credential("awsKeyId");
        let secret_key = credential("awsSecretKey");
        let (key_id, secret, token) = match (key_id, secret_key) {
            (Some(k), Some(s)) => (k, s, None),
            _ if unresolved => Default::default(),
            (None, None) if settings.get("awsSecretKey").is_none() => {
                match (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
                    (Some(k), Some(s)) => (k, s, env("AWS_SESSION_TOKEN")),
                    _ => {
                        bad(
                        "awsKeyId",
                        None,
                        "no AWS credentials: set awsKeyId and awsSecretKey, or the environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".into(),
                    );
                        Default::default()
                    }
                }
            }
            (Some(_), _) => {
                bad(
                    "awsSecretKey",
                    settings.get("awsSecretKey"),
                    "awsKeyId is set without awsSecretKey".into(),
                );
                Default::default()
            }
            (None, _) => {
                let s = settings.get("awsSecretKey");
                bad("awsKeyId", s, "awsSecretKey is set without awsKeyId".into());
                Default::default()
            }
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(S3Config {
            bucket,
            prefix: text("awsS3ObjectPrefix").unwrap_or_default(),
            suffix: text("awsS3ObjectSuffix").unwrap_or_default(),
            gzip,
            layout,
            events_per_key,
            region,
            endpoint,
            key_id,
            secret,
            token,
        })
    }

    /// The key of a new object written at `now` (UTC), with `id` random bits.
    pub fn key(&self, now: chrono::DateTime<chrono::Utc>, id: u128) -> String {
        let hex = format!("{id:032x}");
        let middle = match self.layout {
            Layout::ElbAccessLog => format!(
                "{}_{}-{}-{}-{}-{}",
                now.format("%Y%m%dT%H%MZ"),
                &hex[..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..]
            ),
            Layout::S3AccessLog => format!(
                "{}-{}",
                now.format("%Y-%m-%d-%H-%M-%S"),
                hex[..15].to_ascii_uppercase()
            ),
            Layout::Default => format!("{}{}", now.format("%Y-%m-%dT%H:%M:%S%.6f"), hex),
        };
        format!("{}{middle}{}", self.prefix, self.suffix)
    }
}

/// What to do after one `PUT`.
enum Outcome {
    Stored,
    /// Retry later (transport failure, 5xx, 429, SlowDown).
    Retry(String),
    /// This object is refused; the next may be fine.
    Drop(String),
    /// Nothing will ever be accepted (credentials, signature, bucket).
    Fatal(String),
}

/// The S3 error code of a response body (`<Code>…</Code>`).
fn error_code(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    text.split_once("<Code>")
        .and_then(|(_, rest)| rest.split_once("</Code>"))
        .map(|(code, _)| code.to_string())
        .unwrap_or_default()
}

fn classify(status: u16, body: &[u8]) -> Outcome {
    let code = error_code(body);
    let what = if code.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status} {code}")
    };
    match (status, code.as_str()) {
        (200..=299, _) => Outcome::Stored,
        (_, "SlowDown" | "RequestTimeout" | "InternalError" | "ServiceUnavailable") => {
            Outcome::Retry(what)
        }
        (429 | 500..=599, _) => Outcome::Retry(what),
        (
            _,
            "InvalidAccessKeyId"
            | "SignatureDoesNotMatch"
            | "AccessDenied"
            | "NoSuchBucket"
            | "ExpiredToken"
            | "InvalidToken"
            | "AuthorizationHeaderMalformed",
        )
        | (401 | 403, _) => Outcome::Fatal(what),
        _ => Outcome::Drop(what),
    }
}

/// The `awss3` sink.
pub struct S3Sink {
    config: S3Config,
    bucket: Bucket,
    credentials: Credentials,
    client: Client,
    health: Health,
    buf: Vec<u8>,
    events: u64,
    objects: u64,
    stats: Arc<NetStats>,
    shutdown: Shutdown,
    rng: Rng,
    dead: bool,
}

impl S3Sink {
    pub fn new(config: S3Config) -> Result<S3Sink, String> {
        crate::log::global().add_secret(&config.secret);
        if let Some(t) = &config.token {
            crate::log::global().add_secret(t);
        }
        let (endpoint, style) = match &config.endpoint {
            Some(e) => (e.clone(), UrlStyle::Path),
            None => (
                format!("https://s3.{}.amazonaws.com", config.region),
                UrlStyle::VirtualHost,
            ),
        };
        let url = reqwest::Url::parse(&endpoint).map_err(|e| format!("S3 endpoint: {e}"))?;
        let bucket = Bucket::new(url, style, config.bucket.clone(), config.region.clone())
            .map_err(|e| format!("S3 bucket {}: {e}", config.bucket))?;
        let credentials = match &config.token {
            Some(t) => Credentials::new_with_token(&config.key_id, &config.secret, t),
            None => Credentials::new(&config.key_id, &config.secret),
        };
        let tls = crate::output::tls::TlsSettings::default();
        let client = Client::build(&ClientOptions {
            tls: Some(&tls),
            proxy: &Proxy::Environment,
            connect_timeout: Duration::from_secs(10),
            max_connections: 1,
        })?;
        Ok(S3Sink {
            health: Health::new(format!("awss3 {} at {endpoint}", config.name())),
            config,
            bucket,
            credentials,
            client,
            buf: Vec::new(),
            events: 0,
            objects: 0,
            stats: Arc::new(NetStats::default()),
            shutdown: Shutdown::default(),
            rng: Rng::from_entropy(),
            dead: false,
        })
    }

    pub fn shutdown_handle(&self) -> Shutdown {
        self.shutdown.clone()
    }

    /// Writes the gathered events as one object; blocks while S3 asks to retry, until
    /// `deadline` or shutdown.
    fn upload(&mut self, deadline: Option<Instant>) -> io::Result<()> {
        if self.events == 0 {
            return Ok(());
        }
        let n = std::mem::take(&mut self.events);
        let text = std::mem::take(&mut self.buf);
        if self.dead {
            self.stats.fail(n);
            return Ok(());
        }
        let body = if self.config.gzip {
            let mut gz = GzEncoder::new(Vec::with_capacity(text.len() / 4), Compression::fast());
            gz.write_all(&text)?;
            gz.finish()?
        } else {
            text
        };
        let key = self.config.key(
            chrono::Utc::now(),
            u128::from(self.rng.next_u64()) << 64 | u128::from(self.rng.next_u64()),
        );
        loop {
            if self.shutdown.is_triggered() || deadline.is_some_and(|d| Instant::now() >= d) {
                self.stats.fail(n);
                return Err(io::Error::new(
                    io::ErrorKind::Interrupted,
                    format!("awss3: {n} events not stored"),
                ));
            }
            if let Some(wait) = self.health.cooling(Instant::now()) {
                std::thread::sleep(wait.min(Duration::from_millis(100)));
                continue;
            }
            let url = self
                .bucket
                .put_object(Some(&self.credentials), &key)
                .sign(SIGNED_FOR);
            let mut headers = vec![("content-type", "text/plain")];
            if self.config.gzip {
                headers.push(("content-encoding", "gzip"));
            }
            let outcome =
                match self
                    .client
                    .put(url.as_str(), &headers, body.clone(), REQUEST_TIMEOUT)
                {
                    Ok(r) => classify(r.status, &r.body),
                    Err(f) => Outcome::Retry(f.error),
                };
            match outcome {
                Outcome::Stored => {
                    self.health.succeeded();
                    self.stats.delivered(n, 1);
                    self.objects += 1;
                    return Ok(());
                }
                Outcome::Retry(why) => self.health.failed(&why, None),
                Outcome::Drop(why) => {
                    log::error(format_args!(
                        "{}: object {key} refused ({why}); its {n} events are dropped",
                        self.health.label()
                    ));
                    self.stats.fail(n);
                    return Ok(());
                }
                Outcome::Fatal(why) => {
                    self.health.kill(&format!(
                        "S3 refused the request ({why}): check awsKeyId/awsSecretKey (or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), awsRegion and that bucket {} exists",
                        self.config.bucket
                    ));
                    self.dead = true;
                    self.stats.fail(n);
                    return Err(io::Error::other("awss3: S3 refused the credentials"));
                }
            }
        }
    }
}

impl Sink for S3Sink {
    fn write(&mut self, batch: &Batch) -> io::Result<()> {
        self.stats.take(batch.len() as u64);
        if self.dead {
            self.stats.fail(batch.len() as u64);
            return Err(io::Error::other("awss3: S3 refused the credentials"));
        }
        for ev in batch.events() {
            self.buf.extend_from_slice(ev);
            self.events += 1;
            let full = self
                .config
                .events_per_key
                .is_some_and(|k| self.events as usize >= k)
                || self.buf.len() >= MAX_OBJECT;
            if full {
                self.upload(None)?;
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.config.events_per_key.is_none() {
            self.upload(None)?;
        }
        Ok(())
    }

    fn finish(&mut self, deadline: Instant) -> io::Result<Option<String>> {
        let _ = self.upload(Some(deadline));
        let s = self.stats.snapshot();
        Ok(Some(format!(
            "awss3 {}: {} events in {} objects, {} not delivered",
            self.config.name(),
            s.sent,
            self.objects,
            s.failed + s.outstanding
        )))
    }

    fn failed_events(&self) -> Option<u64> {
        Some(self.stats.failed_events())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        Settings::from_pairs("eventgen.conf", pairs)
    }

    #[test]
    fn keys_follow_eventgens_layouts() {
        let mut c = S3Config::build(
            &settings(&[
                ("awsS3BucketName", "logs-bucket"),
                ("awsKeyId", "AKID"),
                ("awsSecretKey", "SECRET"),
                ("awsS3ObjectPrefix", "elb/"),
                ("awsS3ObjectSuffix", ".log"),
                ("awsS3EventType", "elbaccesslogs"),
            ]),
            "s",
        )
        .unwrap();
        assert!(!format!("{c:?}").contains("SECRET"));
        let t = chrono::Utc
            .with_ymd_and_hms(2024, 2, 28, 23, 59, 58)
            .unwrap();
        let id = 0x0123_4567_89ab_cdef_0123_4567_89ab_cdefu128;
        assert_eq!(
            c.key(t, id),
            "elb/20240228T2359Z_01234567-89ab-cdef-0123-456789abcdef.log"
        );
        c.layout = Layout::S3AccessLog;
        assert_eq!(c.key(t, id), "elb/2024-02-28-23-59-58-0123456789ABCDE.log");
        c.layout = Layout::Default;
        assert!(c.key(t, id).starts_with("elb/2024-02-28T23:59:58.000000"));
    }

    #[test]
    fn problems_are_located() {
        let errs = S3Config::build(
            &settings(&[
                ("awsS3BucketName", "Bad_Bucket"),
                ("awsS3CompressionType", "zip"),
                ("awsS3EventPerKey", "0"),
                ("awsKeyId", "AKID"),
            ]),
            "s",
        )
        .unwrap_err();
        let text: Vec<String> = errs.iter().map(|p| p.to_string()).collect();
        for want in [
            "eventgen.conf:1: [s] awsS3BucketName:",
            "eventgen.conf:2: [s] awsS3CompressionType:",
            "eventgen.conf:3: [s] awsS3EventPerKey:",
            "awsSecretKey: awsKeyId is set without awsSecretKey",
        ] {
            assert!(text.iter().any(|t| t.contains(want)), "{want}: {text:#?}");
        }
    }

    #[test]
    fn replies_are_classified() {
        assert!(matches!(classify(200, b""), Outcome::Stored));
        assert!(matches!(
            classify(503, b"<Code>SlowDown</Code>"),
            Outcome::Retry(_)
        ));
        assert!(matches!(
            classify(403, b"<Error><Code>InvalidAccessKeyId</Code></Error>"),
            Outcome::Fatal(w) if w == "HTTP 403 InvalidAccessKeyId"
        ));
        assert!(matches!(
            classify(404, b"<Code>NoSuchBucket</Code>"),
            Outcome::Fatal(_)
        ));
        assert!(matches!(
            classify(400, b"<Code>EntityTooLarge</Code>"),
            Outcome::Drop(_)
        ));
    }
}
