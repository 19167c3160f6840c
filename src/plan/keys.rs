//! The table of every `eventgen.conf` key we read: its type, built-in default, scope and doc
//! line. The plan checks keys against it (unknown keys get a "did you mean"), takes defaults
//! from it, and `eventgen spec` prints `README/eventgen.conf.spec` from it, so the spec cannot
//! drift from the code.

/// How a value is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bool,
    Int,
    Float,
    Str,
    Json,
    Path,
    /// Splunk time specifier (`now`, `-15m`, `-1d@d`, absolute).
    Time,
    /// One of the listed words.
    Choice(&'static [&'static str]),
}

/// Where a key may appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Per sample; a `[global]` value is the default for every sample.
    Sample,
    /// Engine settings, read from `[global]` only.
    Global,
}

pub struct Key {
    pub name: &'static str,
    pub kind: Kind,
    pub default: Option<&'static str>,
    pub scope: Scope,
    pub doc: &'static str,
}

const fn k(
    name: &'static str,
    kind: Kind,
    default: Option<&'static str>,
    scope: Scope,
    doc: &'static str,
) -> Key {
    Key {
        name,
        kind,
        default,
        scope,
        doc,
    }
}

use Kind::*;
use Scope::*;

pub const OUTPUT_MODES: &[&str] = &[
    "modinput",
    "stdout",
    "devnull",
    "file",
    "spool",
    "httpevent",
    "metric_httpevent",
    "syslogout",
    "tcpout",
    "udpout",
    "s2s",
    "splunkstream",
    "awss3",
    "scsout",
    "counter",
];
pub const GENERATORS: &[&str] = &[
    "default",
    "replay",
    "windbag",
    "counter",
    "jinja",
    "perdayvolumegenerator",
    "weblog",
];
pub const RATERS: &[&str] = &["config", "perdayvolume", "counter", "backfill"];

/// Every key, in the order the spec file lists them.
pub const KEYS: &[Key] = &[
    k(
        "disabled",
        Bool,
        Some("false"),
        Sample,
        "true skips this sample. Booleans accept true/false, 1/0, yes/no, on/off, t/f in any case.",
    ),
    k(
        "sampleDir",
        Path,
        None,
        Sample,
        "Folder of sample files. Relative to the folder of the .conf file that sets it; default ../samples beside default/ or local/. $VARS are expanded. Inherited from [global].",
    ),
    k(
        "mode",
        Choice(&["sample", "replay"]),
        Some("sample"),
        Sample,
        "sample: count events per interval with fresh timestamps. replay: replay the sample with its original gaps.",
    ),
    k(
        "generator",
        Choice(GENERATORS),
        Some("default"),
        Sample,
        "Built-in generator: default, replay, windbag, counter, jinja, perdayvolumegenerator, weblog. Python plugins cannot run here.",
    ),
    k(
        "rater",
        Choice(RATERS),
        Some("config"),
        Sample,
        "Built-in rater: config (count and rate tables), perdayvolume, counter, backfill.",
    ),
    k(
        "sampletype",
        Choice(&["raw", "csv"]),
        Some("raw"),
        Sample,
        "raw: one event per line (or per breaker match). csv: one event per row, _raw column plus optional index, host, source, sourcetype columns.",
    ),
    k(
        "breaker",
        Str,
        Some("[^\\r\\n\\s]+"),
        Sample,
        "Regex that starts each event in a raw sample. The default means one event per line.",
    ),
    k(
        "interval",
        Int,
        Some("60"),
        Sample,
        "Seconds between generation runs. 0 means once per second in sample mode; in replay, the pause between passes.",
    ),
    k(
        "delay",
        Float,
        Some("0"),
        Sample,
        "Seconds to wait before the first run.",
    ),
    k(
        "count",
        Int,
        Some("-1"),
        Sample,
        "Events per interval. -1 and 0 both mean the whole sample once. A count above the sample size repeats the sample from the top.",
    ),
    k(
        "perDayVolume",
        Float,
        None,
        Sample,
        "GB per day (1 GB = 1024^3 bytes) to generate instead of count, spread over the intervals.",
    ),
    k(
        "randomizeCount",
        Float,
        None,
        Sample,
        "Jitter of the count: the count is multiplied by a factor within 1 +/- randomizeCount/2.",
    ),
    k(
        "randomizeEvents",
        Bool,
        Some("false"),
        Sample,
        "Pick events at random (with replacement) instead of in order.",
    ),
    k(
        "bundlelines",
        Bool,
        Some("false"),
        Sample,
        "Treat the whole sample as one multi-line event.",
    ),
    k(
        "splitSample",
        Int,
        Some("0"),
        Sample,
        "Accepted for compatibility; work is always split across generatorWorkers.",
    ),
    k(
        "earliest",
        Time,
        Some("now"),
        Sample,
        "Start of the time window of each interval: now, -15m, -1d@d, @w0, absolute times.",
    ),
    k(
        "latest",
        Time,
        Some("now"),
        Sample,
        "End of the time window of each interval.",
    ),
    k(
        "end",
        Str,
        None,
        Sample,
        "Stop after this many intervals (a number), or at this time (a time specifier). -1 or unset: run forever. 0: never run.",
    ),
    k(
        "backfill",
        Time,
        None,
        Sample,
        "Generate the past from this time (e.g. -1h) interval by interval, in time order, before running in real time.",
    ),
    k(
        "backfillSearch",
        Str,
        None,
        Sample,
        "Not supported (Eventgen never ran it); ignored with a warning.",
    ),
    k(
        "backfillSearchUrl",
        Str,
        None,
        Sample,
        "Not supported (Eventgen never ran it); ignored with a warning.",
    ),
    k(
        "timezone",
        Str,
        Some("local"),
        Sample,
        "Time zone of rendered timestamps and rate tables: local, or +hhmm / -hhmm.",
    ),
    k(
        "hourOfDayRate",
        Json,
        None,
        Sample,
        "JSON object hour (0-23) -> count multiplier.",
    ),
    k(
        "dayOfWeekRate",
        Json,
        None,
        Sample,
        "JSON object weekday (0 = Sunday ... 6 = Saturday) -> count multiplier.",
    ),
    k(
        "minuteOfHourRate",
        Json,
        None,
        Sample,
        "JSON object minute (0-59) -> count multiplier.",
    ),
    k(
        "dayOfMonthRate",
        Json,
        None,
        Sample,
        "JSON object day of month (1-31) -> count multiplier.",
    ),
    k(
        "monthOfYearRate",
        Json,
        None,
        Sample,
        "JSON object month (1-12) -> count multiplier.",
    ),
    k(
        "timeMultiple",
        Float,
        Some("1"),
        Sample,
        "Replay: multiply every gap between events by this (0.5 plays twice as fast).",
    ),
    k(
        "timeField",
        Str,
        Some("_raw"),
        Sample,
        "Replay: the CSV column holding each event's original time (or _raw).",
    ),
    k(
        "sequentialTimestamp",
        Bool,
        Some("false"),
        Sample,
        "Spread the events of an interval evenly over the window instead of at random.",
    ),
    k(
        "autotimestamp",
        Bool,
        Some("false"),
        Sample,
        "Detect timestamps in the sample with the autotimestamps list and add timestamp tokens for them.",
    ),
    k(
        "outputMode",
        Choice(OUTPUT_MODES),
        Some("modinput"),
        Sample,
        "Where events go: modinput, stdout, devnull, file, spool, httpevent, metric_httpevent, splunkstream, syslogout, tcpout, udpout.",
    ),
    k(
        "keepOutputMode",
        Bool,
        Some("false"),
        Sample,
        "In the Splunk app every output becomes modinput except file and spool; true keeps this sample's outputMode (e.g. httpevent to other indexers).",
    ),
    k("index", Str, Some("main"), Sample, "Index of the events."),
    k(
        "source",
        Str,
        None,
        Sample,
        "Source of the events; default the sample file name (or the generator name without a file).",
    ),
    k(
        "sourcetype",
        Str,
        Some("eventgen"),
        Sample,
        "Sourcetype of the events.",
    ),
    k(
        "host",
        Str,
        Some("127.0.0.1"),
        Sample,
        "Host of the events.",
    ),
    k(
        "hostRegex",
        Str,
        None,
        Sample,
        "splunkstream: regex Splunk applies to each event to find its host (sent as host_regex).",
    ),
    k(
        "extendIndexes",
        Str,
        None,
        Sample,
        "Comma list of extra indexes, prefix:N for prefix0..prefixN-1; each interval's events go to one picked at random.",
    ),
    k(
        "fileName",
        Path,
        None,
        Sample,
        "file output: path of the file written.",
    ),
    k(
        "fileMaxBytes",
        Int,
        Some("10485760"),
        Sample,
        "file output: rotate when the file would exceed this many bytes.",
    ),
    k(
        "fileBackupFiles",
        Int,
        Some("5"),
        Sample,
        "file output: rotated files kept (name.1 newest).",
    ),
    k(
        "spoolDir",
        Path,
        Some("$SPLUNK_HOME/var/spool/splunk"),
        Sample,
        "spool output: folder Splunk's batch input reads.",
    ),
    k(
        "spoolFile",
        Str,
        Some("<SAMPLE>"),
        Sample,
        "spool output: file name; <SAMPLE> is the sample file name.",
    ),
    k(
        "splunkHost",
        Str,
        None,
        Sample,
        "splunkstream and s2s: Splunk server name or address, or a JSON list of them ([\"idx1\", \"idx2\"]; requests (splunkstream) or connections (s2s) rotate over them and move on when one fails). Inside Splunk splunkstream uses the modular input's own splunkd.",
    ),
    k(
        "splunkPort",
        Str,
        Some("8089"),
        Sample,
        "splunkstream: management port (default 8089). s2s: the receiving port (default 9997: when splunkPort is unset, or set only by the built-in or SA-Eventgen default to 8089, s2s uses 9997).",
    ),
    k(
        "splunkMethod",
        Str,
        Some("https"),
        Sample,
        "splunkstream: https or http.",
    ),
    k(
        "splunkUser",
        Str,
        None,
        Sample,
        "splunkstream: user that logs in at /services/auth/login for a session key (logged in again when it expires). May be ${env:NAME} or ${file:PATH}.",
    ),
    k(
        "splunkPass",
        Str,
        None,
        Sample,
        "splunkstream: password of splunkUser; never logged. May be ${env:NAME} (an environment variable) or ${file:PATH} (a file's content, trailing line breaks removed; a relative PATH starts at this .conf file's folder).",
    ),
    k(
        "splunkVerifyTls",
        Bool,
        Some("true"),
        Sample,
        "splunkstream and s2s (with s2sTls): verify the server's TLS certificate and name (Eventgen never did); Splunk's default certificate needs splunkCaFile, or false.",
    ),
    k(
        "splunkCaFile",
        Path,
        None,
        Sample,
        "splunkstream and s2s (with s2sTls): PEM file of CA certificates to trust, e.g. $SPLUNK_HOME/etc/auth/cacert.pem.",
    ),
    k(
        "splunkClientCert",
        Path,
        None,
        Sample,
        "splunkstream and s2s (with s2sTls): PEM file with a client certificate for servers that require mutual TLS; may also hold the key.",
    ),
    k(
        "splunkClientKey",
        Path,
        None,
        Sample,
        "splunkstream and s2s (with s2sTls): PEM file with the private key of splunkClientCert.",
    ),
    k(
        "splunkProxy",
        Str,
        None,
        Sample,
        "splunkstream: proxy URL, or none to connect directly; unset: HTTPS_PROXY, HTTP_PROXY and NO_PROXY from the environment.",
    ),
    k(
        "splunkTimeout",
        Float,
        Some("30"),
        Sample,
        "splunkstream: seconds to wait for connecting, sending or a response. s2s: seconds to wait for connecting and for the v3 capabilities reply (default 10).",
    ),
    k(
        "s2sProtocol",
        Choice(&["3", "2"]),
        Some("3"),
        Sample,
        "s2s: cooked-mode version: 3 sends the capabilities message after the signature and waits for the receiver's cap_response=success before any event; 2 is Eventgen's (signature, then events).",
    ),
    k(
        "s2sConnections",
        Int,
        Some("1"),
        Sample,
        "s2s: connections to open (1 to 256), each with its own server name eventgen-<host>-<i>; events are spread over them, so one process stands in for that many forwarders.",
    ),
    k(
        "s2sTls",
        Bool,
        Some("false"),
        Sample,
        "s2s: connect with TLS; the certificate is verified (splunkVerifyTls, splunkCaFile) and splunkClientCert/splunkClientKey answer receivers that require a client certificate.",
    ),
    k(
        "projectID",
        Str,
        None,
        Sample,
        "Accepted for compatibility; unused.",
    ),
    k(
        "accessToken",
        Str,
        None,
        Sample,
        "Accepted for compatibility; unused.",
    ),
    k(
        "httpeventServers",
        Json,
        None,
        Sample,
        "httpevent: JSON {\"servers\": [{\"protocol\": \"https\", \"address\": \"...\", \"port\": \"8088\", \"key\": \"<HEC token>\"}]}. A key may be ${env:NAME} or ${file:PATH} instead of the token.",
    ),
    k(
        "httpeventOutputMode",
        Choice(&["roundrobin", "mirror"]),
        Some("roundrobin"),
        Sample,
        "httpevent: roundrobin spreads batches over healthy servers; mirror sends every event to every server.",
    ),
    k(
        "httpeventMaxPayloadSize",
        Int,
        Some("10000"),
        Sample,
        "httpevent: bytes per request.",
    ),
    k(
        "httpeventWaitResponse",
        Bool,
        Some("true"),
        Sample,
        "httpevent: wait for each response (always done; accepted for compatibility).",
    ),
    k(
        "httpeventEndpoint",
        Choice(&["event", "raw"]),
        Some("event"),
        Sample,
        "httpevent: event sends JSON envelopes to /services/collector/event; raw sends text to /services/collector/raw with metadata as query parameters.",
    ),
    k(
        "httpeventGzip",
        Bool,
        Some("false"),
        Sample,
        "httpevent: gzip request bodies.",
    ),
    k(
        "httpeventVerifyTls",
        Bool,
        Some("true"),
        Sample,
        "httpevent: verify the server's TLS certificate and name.",
    ),
    k(
        "httpeventCaFile",
        Path,
        None,
        Sample,
        "httpevent: PEM file of CA certificates to trust, e.g. $SPLUNK_HOME/etc/auth/cacert.pem.",
    ),
    k(
        "httpeventClientCert",
        Path,
        None,
        Sample,
        "httpevent: PEM file with the client certificate (chain) for servers that require mutual TLS; may also hold the key.",
    ),
    k(
        "httpeventClientKey",
        Path,
        None,
        Sample,
        "httpevent: PEM file with the private key of httpeventClientCert (default: the key inside that file).",
    ),
    k(
        "httpeventProxy",
        Str,
        None,
        Sample,
        "httpevent: proxy URL (http://[user:pass@]host:port) for every server, or none to connect directly; unset: HTTPS_PROXY, HTTP_PROXY and NO_PROXY from the environment.",
    ),
    k(
        "httpeventAck",
        Bool,
        Some("false"),
        Sample,
        "httpevent: use indexer acknowledgement; requests not acknowledged in time are resent (at-least-once).",
    ),
    k(
        "httpeventAckTimeout",
        Float,
        Some("60"),
        Sample,
        "httpevent: seconds to wait for an acknowledgement before resending.",
    ),
    k(
        "httpeventMaxInFlight",
        Int,
        Some("4"),
        Sample,
        "httpevent: requests in flight per server; the connection pool keeps as many keep-alive connections.",
    ),
    k(
        "httpeventTimeout",
        Float,
        Some("30"),
        Sample,
        "httpevent: seconds to wait for connecting, sending or a response.",
    ),
    k(
        "syslogDestinationHost",
        Str,
        Some("127.0.0.1"),
        Sample,
        "syslogout: UDP destination host.",
    ),
    k(
        "syslogDestinationPort",
        Int,
        Some("1514"),
        Sample,
        "syslogout: UDP destination port.",
    ),
    k(
        "syslogAddHeader",
        Bool,
        Some("false"),
        Sample,
        "syslogout: add an RFC 3164 header with the event's time and host.",
    ),
    k(
        "tcpDestinationHost",
        Str,
        Some("127.0.0.1"),
        Sample,
        "tcpout: destination host.",
    ),
    k(
        "tcpDestinationPort",
        Int,
        Some("3333"),
        Sample,
        "tcpout: destination port.",
    ),
    k(
        "udpDestinationHost",
        Str,
        Some("127.0.0.1"),
        Sample,
        "udpout: destination host.",
    ),
    k(
        "udpDestinationPort",
        Int,
        Some("3333"),
        Sample,
        "udpout: destination port.",
    ),
    k(
        "maxQueueLength",
        Int,
        Some("0"),
        Sample,
        "Accepted for compatibility; batching is automatic.",
    ),
    k(
        "maxIntervalsBeforeFlush",
        Int,
        Some("3"),
        Sample,
        "Accepted for compatibility; unused (as in Eventgen).",
    ),
    k(
        "jinja_template_dir",
        Path,
        Some("templates"),
        Sample,
        "jinja: template folder, relative to sampleDir.",
    ),
    k(
        "jinja_target_template",
        Str,
        None,
        Sample,
        "jinja: the template rendered for each event cycle.",
    ),
    k(
        "jinja_variables",
        Json,
        None,
        Sample,
        "jinja: JSON object of variables for the templates.",
    ),
    k(
        "jinja_count_type",
        Choice(&["cycles", "line_count", "perDayVolume"]),
        Some("cycles"),
        Sample,
        "jinja: what count counts.",
    ),
    k(
        "start_count",
        Str,
        Some("0"),
        Sample,
        "counter: first value.",
    ),
    k(
        "end_count",
        Str,
        None,
        Sample,
        "counter: last value (default: count values).",
    ),
    k("count_by", Str, Some("1"), Sample, "counter: step."),
    k(
        "count_template",
        Str,
        None,
        Sample,
        "counter: event text with {event_ts}, {samplename}, {loop_count}, {max_loop}, {start_count}, {current_count}, {end_count}, {count_by}.",
    ),
    k(
        "awsS3BucketName",
        Str,
        None,
        Sample,
        "awss3: the bucket (required).",
    ),
    k(
        "awsS3CompressionType",
        Str,
        None,
        Sample,
        "awss3: gz to gzip each object; unset for plain text.",
    ),
    k(
        "awsS3EventType",
        Str,
        None,
        Sample,
        "awss3: object key layout: elbaccesslog(s) (prefix + %Y%m%dT%H%MZ_<id>), s3accesslog(s) (prefix + %Y-%m-%d-%H-%M-%S-<15 hex>), anything else (syslog, cloudfront: prefix + ISO time + id), as Eventgen.",
    ),
    k(
        "awsS3ObjectPrefix",
        Str,
        None,
        Sample,
        "awss3: text before every object key.",
    ),
    k(
        "awsS3ObjectSuffix",
        Str,
        None,
        Sample,
        "awss3: text after every object key.",
    ),
    k(
        "awsRegion",
        Str,
        None,
        Sample,
        "awss3: region (default AWS_REGION, AWS_DEFAULT_REGION, then us-east-1). The endpoint is AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL when set (S3-compatible stores), else AWS.",
    ),
    k(
        "awsKeyId",
        Str,
        None,
        Sample,
        "awss3: access key id (default AWS_ACCESS_KEY_ID). May be ${env:NAME} or ${file:PATH}.",
    ),
    k(
        "awsSecretKey",
        Str,
        None,
        Sample,
        "awss3: secret access key (default AWS_SECRET_ACCESS_KEY, with AWS_SESSION_TOKEN); never logged. May be ${env:NAME} or ${file:PATH}.",
    ),
    k(
        "awsS3EventPerKey",
        Str,
        None,
        Sample,
        "awss3: events per object; unset: one object each time the output catches up (about one per interval) and at the end, at most 16 MiB of text.",
    ),
    k(
        "scsEndPoint",
        Str,
        None,
        Sample,
        "scsout output (not supported).",
    ),
    k(
        "scsAccessToken",
        Str,
        None,
        Sample,
        "scsout output (not supported).",
    ),
    k(
        "scsClientId",
        Str,
        None,
        Sample,
        "scsout output (not supported).",
    ),
    k(
        "scsClientSecret",
        Str,
        None,
        Sample,
        "scsout output (not supported).",
    ),
    k(
        "scsRetryNum",
        Str,
        None,
        Sample,
        "scsout output (not supported).",
    ),
    k(
        "generatorWorkers",
        Int,
        Some("1"),
        Global,
        "Generator threads (the --generators flag overrides it).",
    ),
    k(
        "outputWorkers",
        Int,
        Some("1"),
        Global,
        "Accepted for compatibility; there is one output thread.",
    ),
    k(
        "threading",
        Choice(&["thread", "process"]),
        Some("thread"),
        Global,
        "Accepted for compatibility; workers are always threads.",
    ),
    k(
        "useOutputQueue",
        Bool,
        Some("false"),
        Global,
        "Accepted for compatibility; all outputs go through the output thread.",
    ),
    k(
        "profiler",
        Bool,
        Some("false"),
        Global,
        "Accepted for compatibility; unused.",
    ),
    k(
        "outputCounter",
        Bool,
        Some("false"),
        Global,
        "Log a throughput line (events/s, KB/s) every 60 s and at the end of the run, as Eventgen's output counter.",
    ),
    k(
        "disableLoggingQueue",
        Bool,
        Some("true"),
        Global,
        "Accepted for compatibility; unused.",
    ),
    k(
        "autotimestamps",
        Json,
        None,
        Sample,
        "JSON list of [regex, strftime format] pairs tried by autotimestamp.",
    ),
    k(
        "verbosity",
        Str,
        None,
        Global,
        "Accepted for compatibility; use -v.",
    ),
    k(
        "debug",
        Str,
        None,
        Global,
        "Accepted for compatibility; unused.",
    ),
    k(
        "blacklist",
        Str,
        None,
        Global,
        "Accepted for compatibility; unused.",
    ),
    k(
        "seed",
        Int,
        None,
        Global,
        "Seed of every random choice (the --seed flag overrides it).",
    ),
];

pub fn lookup(name: &str) -> Option<&'static Key> {
    KEYS.iter().find(|key| key.name == name)
}

/// For keys accepted only so that Eventgen configs load: why they have no effect here, when
/// `value` asks for something eventgen-rs does not do. Eventgen's defaults (and SA-Eventgen's
/// shipped `[global]`) ask for nothing, so they get no warning.
/// `Some(None)`: a no-effect key whose value asks for nothing (no warning at all).
pub fn no_effect(name: &str, value: &str) -> Option<Option<&'static str>> {
    let doc = lookup(name).map(|k| k.doc).filter(|doc| {
        doc.to_ascii_lowercase()
            .contains("accepted for compatibility")
    })?;
    Some((!asks_for_nothing(name, value)).then_some(doc))
}

/// Whether the value of a no-effect key matches what eventgen-rs does anyway: the empty
/// value, Eventgen's default, or a value whose behaviour is ours (`useOutputQueue`: every
/// output already has its own thread). Booleans follow Eventgen's `_boolSettings`: only `0`,
/// `false`, `False` and the empty string are false.
fn asks_for_nothing(name: &str, value: &str) -> bool {
    let v = value.trim();
    let py_false = matches!(v, "" | "0" | "false" | "False");
    let int_at_most = |n: i64| v.is_empty() || parse_int(v).is_ok_and(|i| i <= n);
    match name {
        // Eventgen itself never reads it; we always queue output on one thread.
        "maxIntervalsBeforeFlush" | "useOutputQueue" => true,
        "splitSample" | "maxQueueLength" => int_at_most(0),
        "outputWorkers" => int_at_most(1),
        "threading" => v.is_empty() || v == "thread",
        "httpeventWaitResponse" | "disableLoggingQueue" => !py_false || v.is_empty(),
        "verbosity" => py_false || v.eq_ignore_ascii_case("false"),
        "profiler" | "debug" => py_false,
        _ => v.is_empty(),
    }
}

/// `true` for `token.N.token|replacementType|replacement` and `host.token|replacement`.
pub fn is_token_key(name: &str) -> bool {
    name.starts_with("token.") || name == "host.token" || name == "host.replacement"
}

/// The known key closest to `name` (edit distance, case-insensitive), if any is close.
pub fn closest(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    let mut best: Option<(usize, &'static str)> = None;
    for key in KEYS {
        let d = edit_distance(&lower, &key.name.to_ascii_lowercase());
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, key.name));
        }
    }
    best.filter(|(d, k)| *d <= 3.max(k.len() / 3))
        .map(|(_, k)| k)
}

/// Other names people give an output or mode, and the word they mean.
const CHOICE_ALIASES: &[(&str, &str, &str)] = &[
    ("outputMode", "hec", "httpevent"),
    ("outputMode", "http", "httpevent"),
    ("outputMode", "splunk_hec", "httpevent"),
    ("outputMode", "metric_hec", "metric_httpevent"),
    ("outputMode", "syslog", "syslogout"),
    ("outputMode", "tcp", "tcpout"),
    ("outputMode", "udp", "udpout"),
    ("outputMode", "splunk", "splunkstream"),
    ("outputMode", "null", "devnull"),
    ("outputMode", "console", "stdout"),
];

/// The word of a choice key that `value` most likely meant: a known alias (`hec` for
/// `httpevent`), the same word in other case, or the closest by edit distance.
pub fn suggest_choice(key: &str, value: &str, words: &[&'static str]) -> Option<&'static str> {
    let v = value.trim().to_ascii_lowercase();
    if v.is_empty() {
        return None;
    }
    if let Some((_, _, w)) = CHOICE_ALIASES.iter().find(|(k, a, _)| *k == key && *a == v) {
        return Some(*w);
    }
    words
        .iter()
        .map(|w| (edit_distance(&v, &w.to_ascii_lowercase()), *w))
        .min_by_key(|(d, _)| *d)
        .filter(|(d, w)| *d <= 2.max(w.len() / 3))
        .map(|(_, w)| w)
}

pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Splunk's boolean words.
pub fn parse_bool(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" | "t" | "y" => Ok(true),
        "false" | "0" | "no" | "off" | "f" | "n" | "" => Ok(false),
        _ => Err(format!(
            "expected a boolean (true/false, 1/0, yes/no, on/off), got {value:?}"
        )),
    }
}

/// Python `int()`: whitespace, sign and digit underscores allowed.
pub fn parse_int(value: &str) -> Result<i64, String> {
    let v = value.trim().replace('_', "");
    v.parse::<i64>().map_err(|_| {
        let hint = if value.contains('#') {
            " (inline # comments are not allowed in .conf values)"
        } else {
            ""
        };
        format!("expected an integer, got {value:?}{hint}")
    })
}

pub fn parse_float(value: &str) -> Result<f64, String> {
    let v = value.trim().replace('_', "");
    match v.parse::<f64>() {
        Ok(f) if f.is_finite() => Ok(f),
        _ => {
            let hint = if value.contains('#') {
                " (inline # comments are not allowed in .conf values)"
            } else {
                ""
            };
            Err(format!("expected a number, got {value:?}{hint}"))
        }
    }
}

/// The text of `README/eventgen.conf.spec`.
pub fn spec_text() -> String {
    let mut s = String::new();
    s.push_str("# eventgen.conf.spec: every key SA-Eventgen (eventgen-rs) reads.\n");
    s.push_str("# Generated by `eventgen spec` from the program's own key table.\n");
    s.push_str(
        "#\n# Stanza names are regular expressions matched against the file names in sampleDir;\n",
    );
    s.push_str(
        "# an exact name wins over patterns. [global] supplies defaults for every sample.\n\n",
    );
    s.push_str("[global]\n");
    for key in KEYS.iter().filter(|k| k.scope == Global) {
        push_key(&mut s, key);
    }
    s.push_str("\n[<sample file name or regex>]\n");
    for key in KEYS.iter().filter(|k| k.scope == Sample) {
        push_key(&mut s, key);
    }
    s.push_str("token.<n>.token = <regex>\n* Python-style regex; every match is replaced (group 1 only when the regex has groups).\n");
    s.push_str("token.<n>.replacementType = static | timestamp | replaytimestamp | random | rated | file | mvfile | seqfile | integerid\n* Type of the replacement.\n");
    s.push_str("token.<n>.replacement = <string>\n* strftime format, random spec (ipv4, ipv6, mac, guid, integer[a:b], float[a:b], string(n), hex(n), list[...]), file path[:column], or integer start.\n");
    s.push_str("host.token = <regex>\n* Regex applied to the host field.\n");
    s.push_str("host.replacement = <path>[:<column>]\n* File whose random line (or column) replaces the host match.\n");
    s
}

fn push_key(s: &mut String, key: &Key) {
    let ty = match key.kind {
        Bool => "<bool>".to_string(),
        Int => "<integer>".to_string(),
        Float => "<float>".to_string(),
        Str => "<string>".to_string(),
        Json => "<json>".to_string(),
        Path => "<path>".to_string(),
        Time => "<time specifier>".to_string(),
        Choice(words) => words.join(" | "),
    };
    s.push_str(&format!("{} = {}\n* {}\n", key.name, ty, key.doc));
    if let Some(d) = key.default {
        s.push_str(&format!("* Default: {d}\n"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_accept_splunk_words() {
        for t in ["true", "TRUE", "1", "yes", "On", "t"] {
            assert_eq!(parse_bool(t), Ok(true), "{t}");
        }
        for f in ["false", "False", "0", "no", "OFF", "f"] {
            assert_eq!(parse_bool(f), Ok(false), "{f}");
        }
        assert!(parse_bool("maybe").is_err());
    }

    #[test]
    fn numbers_are_strict_with_a_hint_for_comments() {
        assert_eq!(parse_int(" 1_000 "), Ok(1000));
        assert!(parse_int("10.0").is_err());
        assert!(parse_int("5 # five").unwrap_err().contains("inline #"));
        assert_eq!(parse_float("1e3"), Ok(1000.0));
        assert!(parse_float("nan").is_err());
    }

    #[test]
    fn closest_key_suggestion() {
        assert_eq!(closest("Count"), Some("count"));
        assert_eq!(closest("interva"), Some("interval"));
        assert_eq!(closest("outputmode"), Some("outputMode"));
        assert_eq!(closest("zzzzzzzzzzzzzzzzzzz"), None);
    }

    #[test]
    fn every_output_key_is_in_the_table() {
        for (name, _) in crate::output::hec::config::KEYS
            .iter()
            .chain(crate::output::net::KEYS)
            .chain(crate::output::splunkstream::config::KEYS)
            .chain(crate::output::s2s::KEYS)
        {
            assert!(lookup(name).is_some(), "{name} missing from KEYS");
        }
    }

    #[test]
    fn keys_are_unique_and_documented() {
        for (i, a) in KEYS.iter().enumerate() {
            assert!(!a.doc.is_empty());
            assert!(
                KEYS[i + 1..].iter().all(|b| b.name != a.name),
                "duplicate {}",
                a.name
            );
        }
        assert!(spec_text().contains("perDayVolume = <float>"));
    }
}
