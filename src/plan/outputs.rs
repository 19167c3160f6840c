//! Where a sample's events go: `outputMode` (and the Splunk app's rewrite to modinput) to an
//! [`OutputSpec`], with each network output's own settings built by its module.

use std::path::{Path, PathBuf};

use super::Overrides;
use super::matching::Candidate;
use super::policy::Reader;
use crate::conf::Settings;
use crate::output::awss3::S3Config;
use crate::output::encode::Encoding;
use crate::output::hec::HecConfig;
use crate::output::hec::config::Endpoint;
use crate::output::net::{SyslogConfig, TcpConfig, UdpConfig};
use crate::output::s2s::S2sConfig;
use crate::output::splunkstream::{SplunkStreamConfig, Splunkd};
use crate::problem::Problem;

#[derive(Debug, Clone, PartialEq)]
pub enum OutputSpec {
    Stdout,
    Devnull,
    Counter,
    Modinput,
    File {
        path: PathBuf,
        max_bytes: u64,
        backups: u32,
    },
    Spool {
        dir: PathBuf,
        file: String,
    },
    Hec {
        config: HecConfig,
        metric: bool,
    },
    Syslog(SyslogConfig),
    Tcp(TcpConfig),
    Udp(UdpConfig),
    SplunkStream(SplunkStreamConfig),
    S2s(S2sConfig),
    S3(S3Config),
}

impl OutputSpec {
    pub fn encoding(&self) -> Encoding {
        match self {
            OutputSpec::Stdout | OutputSpec::File { .. } => Encoding::Line,
            OutputSpec::Devnull => Encoding::Discard,
            OutputSpec::Counter => Encoding::Counter,
            OutputSpec::Modinput => Encoding::ModinputXml,
            OutputSpec::Spool { .. } => Encoding::Concat,
            OutputSpec::Hec { metric: true, .. } => Encoding::HecMetric,
            OutputSpec::Hec { config, .. } if config.endpoint == Endpoint::Raw => Encoding::HecRaw,
            OutputSpec::Hec { .. } => Encoding::HecEvent,
            OutputSpec::Syslog(c) => Encoding::Syslog { header: c.header },
            OutputSpec::Tcp(_) => Encoding::Line,
            OutputSpec::Udp(_) => Encoding::Datagram,
            // Text lines with the metadata per request, as HEC's /raw.
            OutputSpec::SplunkStream(_) => Encoding::HecRaw,
            OutputSpec::S2s(_) => Encoding::S2s,
            OutputSpec::S3(_) => Encoding::Line,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            OutputSpec::Stdout => "stdout".into(),
            OutputSpec::Devnull => "devnull".into(),
            OutputSpec::Counter => "counter".into(),
            OutputSpec::Modinput => "modinput".into(),
            OutputSpec::File { path, .. } => format!("file {}", path.display()),
            OutputSpec::Spool { dir, file } => format!("spool {}/{}", dir.display(), file),
            OutputSpec::Hec { config, metric } => {
                let names: Vec<String> = config.servers.iter().map(|s| s.name()).collect();
                format!(
                    "{} {}",
                    if *metric {
                        "metric_httpevent"
                    } else {
                        "httpevent"
                    },
                    names.join(",")
                )
            }
            OutputSpec::Syslog(c) => format!("syslogout {}", c.dest.name()),
            OutputSpec::Tcp(c) => format!("tcpout {}", c.dest.name()),
            OutputSpec::Udp(c) => format!("udpout {}", c.dest.name()),
            OutputSpec::SplunkStream(c) => format!("splunkstream {}", c.servers.join(",")),
            OutputSpec::S2s(c) => format!("s2s {}", c.names().join(",")),
            OutputSpec::S3(c) => format!("awss3 {}", c.name()),
        }
    }
}

/// Eventgen's outputs that eventgen-rs does not implement.
const UNSUPPORTED: &[&str] = &["scsout"];

/// The output mode in effect: `outputMode`, or modinput in the Splunk app unless the sample
/// keeps its own (file and spool always keep theirs).
pub(super) fn mode(r: &mut Reader, c: &Candidate, ov: &Overrides) -> String {
    let keep_output = r.bool("keepOutputMode");
    let output_mode = r.choice("outputMode");
    if let (Some(cli), Some(own)) = (&ov.output, c.settings.get("outputMode"))
        && UNSUPPORTED.contains(&own.value.trim())
    {
        let stanza = r.stanza;
        r.problems.push(
            Problem::warning(format!(
                "outputMode {} is not supported by eventgen-rs; this run sends the events to --output {cli} instead",
                own.value.trim()
            ))
            .located(&own.location)
            .stanza(stanza)
            .key("outputMode"),
        );
    }
    if ov.app_mode && !keep_output && !matches!(output_mode.as_str(), "file" | "spool") {
        return "modinput".into();
    }
    output_mode
}

/// Builds the output of `output_mode`; `None` when it cannot run (the problems say why).
pub(super) fn build(
    r: &mut Reader,
    c: &Candidate,
    output_mode: &str,
    ov: &Overrides,
) -> Option<OutputSpec> {
    let settings = r.settings;
    let first_problem = r.problems.len();
    let spec = match output_mode {
        "stdout" => Some(OutputSpec::Stdout),
        "devnull" => Some(OutputSpec::Devnull),
        "counter" => Some(OutputSpec::Counter),
        "modinput" => Some(OutputSpec::Modinput),
        "file" => {
            let name = r.string("fileName").filter(|s| !s.is_empty()).or_else(|| {
                let dir = r.string("spoolDir").unwrap_or_default();
                let f = c.file_name.clone().unwrap_or_else(|| c.stanza.clone());
                (!dir.is_empty()).then(|| format!("{dir}/{f}"))
            });
            let max_bytes = r.int("fileMaxBytes").max(1) as u64;
            let backups = r.int("fileBackupFiles").max(0) as u32;
            let from_key = if r.string("fileName").is_some_and(|f| !f.is_empty()) {
                "fileName"
            } else {
                "spoolDir"
            };
            name.map(|n| OutputSpec::File {
                path: resolve_out_path(&n, settings, from_key),
                max_bytes,
                backups,
            })
        }
        "spool" => {
            let dir = r.string("spoolDir").unwrap_or_default();
            let mut file = r.string("spoolFile").unwrap_or_else(|| "<SAMPLE>".into());
            if file == "<SAMPLE>" {
                file = c.file_name.clone().unwrap_or_else(|| c.stanza.clone());
            }
            Some(OutputSpec::Spool {
                dir: resolve_out_path(&dir, settings, "spoolDir"),
                file,
            })
        }
        "httpevent" | "metric_httpevent" => {
            let metric = output_mode == "metric_httpevent";
            let built = if metric {
                HecConfig::build_metric(settings, &c.stanza)
            } else {
                HecConfig::build(settings, &c.stanza)
            };
            keep(
                built.map(|config| OutputSpec::Hec { config, metric }),
                r.problems,
            )
        }
        "syslogout" => keep(
            SyslogConfig::build(settings, &c.stanza).map(OutputSpec::Syslog),
            r.problems,
        ),
        "tcpout" => keep(
            TcpConfig::build(settings, &c.stanza).map(OutputSpec::Tcp),
            r.problems,
        ),
        "awss3" => keep(
            S3Config::build(settings, &c.stanza).map(OutputSpec::S3),
            r.problems,
        ),
        "s2s" => keep(
            S2sConfig::build(settings, &c.stanza).map(OutputSpec::S2s),
            r.problems,
        ),
        "udpout" => keep(
            UdpConfig::build(settings, &c.stanza).map(OutputSpec::Udp),
            r.problems,
        ),
        "splunkstream" => {
            // Inside Splunk the input document names splunkd; while validating it is not known
            // yet, so the local default stands in.
            let mut splunkd = ov
                .splunkd
                .clone()
                .or_else(|| ov.app_mode.then(Splunkd::local_default));
            // Apps written for Splunk leave splunkHost out: there Eventgen (and the modular
            // input) send to the local splunkd. `check` accepts that; `generate` cannot.
            let no_host = settings
                .get("splunkHost")
                .is_none_or(|s| s.value.trim().is_empty());
            if ov.check_only && splunkd.is_none() && no_host {
                r.problems.push(
                    Problem::warning(
                        "splunkHost is not set: inside Splunk the modular input sends these events to the local splunkd; a standalone `eventgen generate` needs splunkHost",
                    )
                    .stanza(&c.stanza)
                    .key("splunkHost"),
                );
                splunkd = Some(Splunkd::local_default());
            }
            let built = SplunkStreamConfig::build(settings, &c.stanza, splunkd.as_ref()).map(
                |(config, warnings)| {
                    r.problems.extend(warnings);
                    OutputSpec::SplunkStream(config)
                },
            );
            keep(built, r.problems)
        }
        other => {
            let instead = match other {
                "scsout" => "file or spool and ship the files, or httpevent",
                _ => {
                    "stdout, devnull, counter, file, spool, modinput, httpevent, splunkstream, s2s, awss3, syslogout, tcpout or udpout"
                }
            };
            r.error(
                "outputMode",
                format!(
                    "outputMode {other} is not supported by eventgen-rs; use {instead} (from the command line, --output MODE runs this config with another output)"
                ),
            );
            None
        }
    };

    // An output path still holding `$NAME` names an unset environment variable.
    let unresolved = match &spec {
        Some(OutputSpec::File { path, .. }) => Some(("fileName", path.clone())),
        Some(OutputSpec::Spool { dir, .. }) => Some(("spoolDir", dir.clone())),
        _ => None,
    };
    if let Some((key, path)) = unresolved
        && path.to_string_lossy().contains('$')
    {
        let key = if settings.get(key).is_some() {
            key
        } else {
            "spoolDir"
        };
        r.error(
            key,
            format!(
                "{} uses an environment variable that is not set (SPLUNK_HOME outside Splunk?); set {key} to a real folder",
                path.display()
            ),
        );
    }
    // A required key that is missing has no line of its own: point at the line that chose
    // the output (or the stanza).
    let chosen_at = settings
        .get("outputMode")
        .map(|s| &s.location)
        .filter(|l| !l.file.as_os_str().is_empty() && l.line > 0)
        .unwrap_or(&c.location);
    for p in &mut r.problems[first_problem..] {
        if p.location.is_none() {
            p.location = Some(chosen_at.clone());
        }
    }
    spec
}

/// Takes a built output config, or records its problems.
fn keep<T>(built: Result<T, Vec<Problem>>, problems: &mut Vec<Problem>) -> Option<T> {
    match built {
        Ok(t) => Some(t),
        Err(ps) => {
            problems.extend(ps);
            None
        }
    }
}

fn resolve_out_path(value: &str, settings: &Settings, key: &str) -> PathBuf {
    let expanded = crate::token::expand_vars(value).replace('\\', "/");
    let p = PathBuf::from(expanded);
    if p.is_absolute() {
        return p;
    }
    match settings.get(key).map(|s| s.location.file.clone()) {
        Some(f) if f.as_os_str() != "command line" && !f.as_os_str().is_empty() => {
            f.parent().unwrap_or(Path::new(".")).join(p)
        }
        _ => p,
    }
}
