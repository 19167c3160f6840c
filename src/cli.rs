//! The command line: `generate`, `check`, `spec`, and splunkd's modular input calls.
//!
//! Checked flags ([`GenerateArgs`]) are separate from what they turn into (a plan and run
//! options); `run` maps everything to an exit code: 0 success, 1 runtime failure, 2
//! configuration errors.

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crate::log::{self, Level};
use crate::pipeline::{self, RunOptions};
use crate::plan::{self, ConfSource, Overrides, Plan};
use crate::problem::Problem;
use crate::progress::{ProgressOptions, STATS_EVERY};
use crate::shard::Shard;
use crate::timing::clock::Clock;
use crate::timing::limits;

pub const EXIT_OK: u8 = 0;
pub const EXIT_RUNTIME: u8 = 1;
pub const EXIT_CONFIG: u8 = 2;

/// The options of `generate`, shared by `eventgen --help` and `eventgen generate --help`.
macro_rules! generate_options {
    () => {
        "    -s, --sample NAME      run only the stanza or sample file named NAME
    -c, --count N          events per interval for every sample (-1 or 0: the whole sample)
    -i, --interval SECS    seconds between intervals for every sample
    -e, --end END          stop after END intervals, or at time END (-1: never)
    -b, --backfill TIME    generate the past from TIME (e.g. -1h) before running live
        --output MODE      send every sample to MODE: stdout, devnull, file, spool, modinput,
                           httpevent, metric_httpevent, splunkstream, syslogout, tcpout, udpout
        --devnull          short for --output devnull
        --generators N     generator threads (default: generatorWorkers, 1)
        --seed N           make every random choice reproducible
        --now TIME         run on a virtual clock starting at TIME (RFC 3339 or epoch
                           seconds) that never sleeps: intervals follow at once, timestamps
                           are what they would have been. With --seed, output is identical
                           run after run.
        --state-dir DIR    keep integerid/seqfile counters and replay positions here
        --shard K/N        generate only shard K (0 to N-1) of N: N processes with the same
                           configuration together make the whole run, each event once
                           (with --seed and --now: exactly the events of the unsharded run)
        --shard auto       K from JOB_COMPLETION_INDEX (Kubernetes Indexed Job), N from
                           EVENTGEN_SHARDS (or auto/N)
        --metrics ADDR     serve Prometheus metrics at http://ADDR/metrics while running:
                           PORT or :PORT on loopback only; name another address to be
                           reached from elsewhere (0.0.0.0:9108: every interface)
        --no-reload        do not watch the configuration: by default a change to an
                           eventgen.conf or sample file the run uses takes effect at each
                           sample's next interval (a change with errors is logged and ignored)
        --strict           treat warnings as errors (exit 2), for linting an app in CI
    -v, --verbose          print the plan, a stats line every 10 s and a summary to stderr
        --stats SECS       with -v, the seconds between stats lines (0: none)
    -h, --help             this text
"
    };
}

/// What `generate` shows while it runs, said once in both help texts.
macro_rules! progress_note {
    () => {
        "\
While it runs, a progress bar on stderr shows the time reached, events, rate and, when the
run has an end, percent and ETA; only when stderr is a terminal and stdout is not that
terminal (so no bar lines end up among the events), never on stdout.
"
    };
}

const HELP: &str = concat!(
    "\
eventgen: Splunk Eventgen compatible event generator

USAGE:
    eventgen generate [CONF] [OPTIONS]   generate events
    eventgen check [CONF] [--chart] [--strict]
                                         check a configuration without generating
                                         (--strict: warnings count as errors, exit 2)
    eventgen init LOGFILE... [--app DIR] write an app that generates events like LOGFILE
    eventgen spec                        print README/eventgen.conf.spec
    eventgen --scheme | --validate-arguments   (called by splunkd as a modular input)
    eventgen COMMAND --help              help on one command

CONF is an eventgen.conf file, or an app folder (its default/ then local/ eventgen.conf,
samples in its samples/ folder), or the name of an app under $SPLUNK_HOME/etc/apps.
Without CONF the app shipped with this program is used, with its demo sample enabled.

GENERATE OPTIONS:
",
    generate_options!(),
    "    -V, --version          the version

",
    progress_note!(),
    "
EXIT CODES: 0 success, 1 runtime failure, 2 configuration errors.
"
);

const GENERATE_HELP: &str = concat!(
    "\
eventgen generate: generate events from a configuration

USAGE:
    eventgen generate [CONF] [OPTIONS]

CONF is an eventgen.conf file, or an app folder (its default/ then local/ eventgen.conf,
samples in its samples/ folder), or the name of an app under $SPLUNK_HOME/etc/apps.
Without CONF the app shipped with this program is used, with its demo sample enabled.
The flags override every sample's settings.

OPTIONS:
",
    generate_options!(),
    "
",
    progress_note!(),
    "
EXIT CODES: 0 success, 1 an output failed, 2 configuration errors (the valid samples still
run).
"
);

const CHECK_HELP: &str = "\
eventgen check: check a configuration without generating anything

USAGE:
    eventgen check [CONF] [--chart] [--strict] [--now TIME] [-s NAME] [-c N] [-i SECS]

Prints one line per sample to stdout and every problem to stderr with its location
(ERROR file:line: [stanza] key: message), then a count of samples, errors and warnings.
CONF is read as by `eventgen generate`, and the same overriding flags apply.

OPTIONS:
        --chart            also draw, per sample, the events per hour over a day and a week
                           that its count, interval and rate tables (hourOfDayRate,
                           dayOfWeekRate, minuteOfHourRate, randomizeCount, perDayVolume, ...)
                           will produce, starting at the day of --now (default: today)
        --strict           treat warnings as errors (exit 2), for linting an app in CI
    -h, --help             this text

EXIT CODES: 0 no errors, 2 configuration errors.
";

const SPEC_HELP: &str = "\
eventgen spec: print README/eventgen.conf.spec

USAGE:
    eventgen spec

Prints to stdout the spec of every eventgen.conf key this program reads: its type, default
and what it does (the file Splunk reads as README/eventgen.conf.spec).

OPTIONS:
    -h, --help             this text
";

/// Flags of `generate` and `check`.
#[derive(Debug, Default)]
pub struct GenerateArgs {
    pub conf: Option<PathBuf>,
    pub overrides: Overrides,
    pub now: Option<String>,
    pub verbose: bool,
    /// Seconds between `-v` stats lines (`--stats`), 0 for none.
    pub stats_every: Option<u64>,
    /// `check --chart`.
    pub chart: bool,
    pub help: bool,
    pub shard: Shard,
    pub metrics: Option<String>,
    /// Warnings count as errors (`check --strict`, for linting an app in CI).
    pub strict: bool,
    /// `--no-reload`: do not watch the configuration while generating.
    pub no_reload: bool,
}

fn err(msg: impl Into<String>) -> String {
    msg.into()
}

fn parse_generate(args: &mut lexopt::Parser) -> Result<GenerateArgs, String> {
    use lexopt::prelude::*;
    let mut g = GenerateArgs::default();
    let value = |args: &mut lexopt::Parser, name: &str| -> Result<String, String> {
        args.value()
            .map_err(|e| err(format!("{name}: {e}")))?
            .into_string()
            .map_err(|_| err(format!("{name}: not valid UTF-8")))
    };
    let number = |s: String, name: &str| -> Result<i64, String> {
        s.trim()
            .parse::<i64>()
            .map_err(|_| err(format!("{name} expects an integer, got {s:?}")))
    };
    while let Some(arg) = args.next().map_err(|e| e.to_string())? {
        match arg {
            Short('s') | Long("sample") => g.overrides.sample = Some(value(args, "--sample")?),
            Short('c') | Long("count") => {
                let n = number(value(args, "--count")?, "--count")?;
                limits::check_count(n).map_err(|e| format!("--count {e}"))?;
                g.overrides.count = Some(n)
            }
            Short('i') | Long("interval") => {
                let n = number(value(args, "--interval")?, "--interval")?;
                if n < 0 {
                    return Err("--interval must be >= 0".into());
                }
                limits::check_secs(n as f64).map_err(|e| format!("--interval {e}"))?;
                g.overrides.interval = Some(n);
            }
            Short('e') | Long("end") => g.overrides.end = Some(value(args, "--end")?),
            Short('b') | Long("backfill") => {
                g.overrides.backfill = Some(value(args, "--backfill")?)
            }
            Long("output") => {
                let m = value(args, "--output")?;
                if ![
                    "stdout",
                    "devnull",
                    "counter",
                    "file",
                    "spool",
                    "modinput",
                    "httpevent",
                    "metric_httpevent",
                    "splunkstream",
                    "s2s",
                    "syslogout",
                    "tcpout",
                    "udpout",
                ]
                .contains(&m.as_str())
                {
                    return Err(format!(
                        "--output expects stdout, devnull, counter, file, spool, modinput, httpevent, metric_httpevent, splunkstream, s2s, syslogout, tcpout or udpout, got {m:?}"
                    ));
                }
                g.overrides.output = Some(m);
            }
            Long("devnull") => g.overrides.output = Some("devnull".into()),
            Long("generators") => {
                let n = number(value(args, "--generators")?, "--generators")?;
                if !(1..=limits::MAX_GENERATOR_WORKERS).contains(&n) {
                    return Err(format!(
                        "--generators must be from 1 to {}, got {n}",
                        limits::MAX_GENERATOR_WORKERS
                    ));
                }
                g.overrides.generators = Some(n as usize);
            }
            Long("seed") => {
                let s = value(args, "--seed")?;
                g.overrides.seed = Some(s.trim().parse().map_err(|_| {
                    err(format!("--seed expects a non-negative integer, got {s:?}"))
                })?);
            }
            Long("now") => g.now = Some(value(args, "--now")?),
            Long("state-dir") => {
                g.overrides.state_dir = Some(PathBuf::from(value(args, "--state-dir")?))
            }
            Long("shard") => {
                g.shard = Shard::parse(&value(args, "--shard")?, "--shard", |k| {
                    std::env::var(k).ok()
                })?
            }
            Long("metrics") => {
                g.metrics = Some(crate::metrics::address::parse(&value(args, "--metrics")?)?)
            }
            Short('v') | Long("verbose") => g.verbose = true,
            Long("stats") => {
                let n = number(value(args, "--stats")?, "--stats")?;
                if n < 0 {
                    return Err("--stats must be >= 0".into());
                }
                limits::check_secs(n as f64).map_err(|e| format!("--stats {e}"))?;
                g.stats_every = Some(n as u64);
            }
            Long("chart") => g.chart = true,
            Short('h') | Long("help") => g.help = true,
            Long("strict") => g.strict = true,
            Long("no-reload") => g.no_reload = true,
            Value(v) if g.conf.is_none() => g.conf = Some(PathBuf::from(v)),
            other => return Err(other.unexpected().to_string()),
        }
    }
    check_times(&g)?;
    Ok(g)
}

/// `--backfill` and a time `--end` must resolve within the years 1 to 9999 (at `--now`, or
/// now); what else is wrong with them the plan reports.
fn check_times(g: &GenerateArgs) -> Result<(), String> {
    let now = g
        .now
        .as_deref()
        .and_then(|t| parse_now(t).ok())
        .unwrap_or_else(crate::timing::clock::wall_now);
    let now = crate::timing::Tz::Local.datetime(now);
    let flags = [
        ("--backfill", &g.overrides.backfill),
        ("--end", &g.overrides.end),
    ];
    for (flag, value) in flags {
        let Some(v) = value else { continue };
        if plan::keys::parse_int(v).is_ok() && flag == "--end" {
            continue;
        }
        if let Ok(t) = crate::timing::relative::TimeSpec::parse(v) {
            limits::check_year(chrono::Datelike::year(&t.resolve(now)))
                .map_err(|e| format!("{flag} {v:?} {e}"))?;
        }
    }
    Ok(())
}

/// Parses `--now`: RFC 3339 or epoch seconds (with an optional fraction).
pub fn parse_now(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let bad = || {
        format!(
            "--now expects RFC 3339 (2024-01-01T00:00:00Z) or epoch seconds between 1970 and the \
             end of 9999, got {s:?}"
        )
    };
    let micros = match t.parse::<f64>() {
        Ok(secs) if secs.is_finite() && (0.0..=limits::LAST_EPOCH_SECS as f64).contains(&secs) => {
            (secs * 1e6).round() as i64
        }
        Ok(_) => return Err(bad()),
        Err(_) => chrono::DateTime::parse_from_rfc3339(t)
            .map(|d| d.timestamp_micros())
            .map_err(|_| bad())?,
    };
    if !(0..=limits::LAST_EPOCH_SECS * 1_000_000).contains(&micros) {
        return Err(bad());
    }
    Ok(micros)
}

/// The app folder shipped with this program: beside the binary (installed app) or the
/// source tree it was built from.
pub fn shipped_app() -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        for up in exe.ancestors().skip(1).take(4) {
            candidates.push(up.to_path_buf());
        }
    }
    candidates.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    candidates
        .into_iter()
        .find(|d| d.join("default").join("eventgen.conf").is_file())
}

/// Turns CONF into configuration sources.
pub fn conf_sources(conf: Option<&Path>) -> Result<(Vec<ConfSource>, bool), String> {
    let (path, shipped) = match conf {
        Some(p) => (p.to_path_buf(), false),
        None => (
            shipped_app().ok_or(
                "no CONF given and the shipped app folder (default/eventgen.conf) was not found",
            )?,
            true,
        ),
    };
    let path = if !path.exists() {
        match std::env::var_os("SPLUNK_HOME")
            .map(|h| PathBuf::from(h).join("etc").join("apps").join(&path))
        {
            Some(app) if app.is_dir() => app,
            _ => return Err(format!("{}: no such file or folder", path.display())),
        }
    } else {
        path
    };
    if path.is_dir() {
        let files = vec![
            path.join("default").join("eventgen.conf"),
            path.join("local").join("eventgen.conf"),
        ];
        if !files.iter().any(|f| f.is_file()) {
            return Err(format!(
                "{}: neither default/eventgen.conf nor local/eventgen.conf exists in this folder",
                path.display()
            ));
        }
        return Ok((
            vec![ConfSource {
                files,
                default_sample_dir: path.join("samples"),
                app: None,
            }],
            shipped,
        ));
    }
    let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let mut samples = dir
        .parent()
        .map(|p| p.join("samples"))
        .unwrap_or_else(|| dir.join("samples"));
    if !samples.is_dir() && dir.join("samples").is_dir() {
        samples = dir.join("samples");
    }
    Ok((
        vec![ConfSource {
            files: vec![path],
            default_sample_dir: samples,
            app: None,
        }],
        shipped,
    ))
}

fn report(problems: &[Problem]) {
    for p in problems {
        if p.is_error() {
            log::error(&p.to_string());
        } else {
            log::warn(&p.to_string());
        }
    }
}

/// Builds the plan for CONF with the overrides; prints problems to stderr.
fn build_plan(g: &mut GenerateArgs) -> Result<(Plan, Vec<Problem>), u8> {
    let (sources, shipped) = match conf_sources(g.conf.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            log::error(&e);
            return Err(EXIT_CONFIG);
        }
    };
    g.overrides.enable_disabled = shipped;
    let (plan, mut problems) = plan::build(&sources, &g.overrides);
    pipeline::register_secrets(&plan);
    if g.strict {
        for p in &mut problems {
            p.severity = crate::problem::Severity::Error;
        }
    }
    report(&problems);
    Ok((plan, problems))
}

fn plan_lines(plan: &Plan) -> Vec<String> {
    plan.samples
        .iter()
        .map(|s| {
            let mode = match &s.generator {
                plan::Generator::Sample if s.per_day_volume.is_some() => "perdayvolume",
                plan::Generator::Sample => "sample",
                plan::Generator::Replay => "replay",
                plan::Generator::Windbag => "windbag",
                plan::Generator::Counter(_) => "counter",
                plan::Generator::Jinja(..) => "jinja",
            };
            let count = if s.count == 0 {
                format!("all({})", s.events.len())
            } else {
                s.count.to_string()
            };
            format!(
                "{}  file={}  mode={}  count={}  interval={}s  tokens={}  output={}{}",
                s.name,
                s.file
                    .as_ref()
                    .map_or("-".into(), |f| f.display().to_string()),
                mode,
                count,
                s.interval / 1_000_000,
                s.tokens.len(),
                plan.outputs[s.output].describe(),
                if s.slow_events > 0 {
                    format!("  slow-path-events={}", s.slow_events)
                } else {
                    String::new()
                }
            )
        })
        .collect()
}

fn cmd_check(mut g: GenerateArgs) -> u8 {
    g.overrides.check_only = true;
    let (plan, problems) = match build_plan(&mut g) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let mut out = std::io::stdout().lock();
    for line in plan_lines(&plan) {
        let _ = writeln!(out, "{}", log::global().scrub(&line));
    }
    if g.chart {
        let start = match g.now.as_deref().map(parse_now) {
            None => chrono::Utc::now().timestamp_micros(),
            Some(Ok(t)) => t,
            Some(Err(e)) => {
                log::error(&e.to_string());
                return EXIT_CONFIG;
            }
        };
        let _ = write!(out, "\n{}", crate::chart::render(&plan, start));
    }
    // One mistake, one count: "sample skipped because of the errors above" is not another.
    let counted = || problems.iter().filter(|p| !p.consequence);
    let errors = counted().filter(|p| p.is_error()).count();
    let warnings = counted().count() - errors;
    if plan.samples.is_empty() && !plan.disabled.is_empty() {
        let names: Vec<String> = plan.disabled.iter().map(|n| format!("[{n}]")).collect();
        let _ = writeln!(
            out,
            "0 enabled samples: {} {} disabled",
            names.join(", "),
            if names.len() == 1 { "is" } else { "are" }
        );
    }
    let _ = writeln!(
        out,
        "{} samples, {errors} errors, {warnings} warnings",
        plan.samples.len()
    );
    if errors > 0 { EXIT_CONFIG } else { EXIT_OK }
}

fn cmd_generate(mut g: GenerateArgs) -> u8 {
    let clock = match g.now.as_deref().map(parse_now) {
        None => Clock::Real,
        Some(Ok(t)) => Clock::Virtual { now: t },
        Some(Err(e)) => {
            log::error(&e);
            return EXIT_CONFIG;
        }
    };
    if let Clock::Virtual { now } = clock {
        g.overrides.now = Some(now);
    }
    let (plan, problems) = match build_plan(&mut g) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let had_errors = problems.iter().any(Problem::is_error);
    if plan.samples.is_empty() {
        log::error("nothing to generate: no enabled sample could be built");
        return EXIT_CONFIG;
    }
    log::global().set_min(if g.verbose { Level::Info } else { Level::Warn });
    for line in plan_lines(&plan) {
        log::info(&format!("sample {line}"));
    }
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        let _ = signal_hook::flag::register(sig, stop.clone());
    }
    if g.verbose && !g.shard.is_whole() {
        log::info(&format!("generating shard {} of the run", g.shard));
    }
    let opts = RunOptions {
        progress: ProgressOptions {
            bar: crate::progress::bar_fits_terminal(),
            stats_every: match g.stats_every {
                _ if !g.verbose => None,
                Some(0) => None,
                Some(n) => Some(Duration::from_secs(n)),
                None => Some(STATS_EVERY),
            },
        },
        shard: g.shard,
        metrics_addr: g.metrics.clone(),
        ..RunOptions::new(clock, stop)
    };
    // Live reload: the same CONF and flags, read again when a file changes.
    let watch = (!g.no_reload).then(|| {
        let conf = g.conf.clone();
        crate::reload::Watch {
            sources: Box::new(move || {
                conf_sources(conf.as_deref())
                    .map(|(s, _)| s)
                    .unwrap_or_default()
            }),
            overrides: g.overrides.clone(),
            warned: problems.iter().map(|p| p.to_string()).collect(),
        }
    });
    match pipeline::run_reloading(plan, opts, watch) {
        Ok(r) => {
            for (name, events, bytes) in &r.per_sample {
                log::info(&format!("sample {name}: {events} events, {bytes} bytes"));
            }
            let secs = r.elapsed.as_secs_f64().max(1e-9);
            log::info(&format!(
                "generated {} events ({:.1} MB) in {:.3}s: {:.0} events/s, {:.1} MB/s",
                r.events,
                r.bytes as f64 / 1e6,
                secs,
                r.events as f64 / secs,
                r.bytes as f64 / 1e6 / secs
            ));
            let undelivered = r.undelivered();
            if undelivered > 0 {
                log::error(&format!(
                    "{undelivered} events were not delivered (see the output lines above)"
                ));
            }
            if r.output_errors > 0 || undelivered > 0 {
                EXIT_RUNTIME
            } else if had_errors {
                EXIT_CONFIG
            } else {
                EXIT_OK
            }
        }
        Err(e) => {
            log::error(&e.to_string());
            EXIT_RUNTIME
        }
    }
}

/// Runs the program with `args` (without the program name) and returns the exit code.
pub fn run(args: Vec<OsString>) -> u8 {
    let mut parser = lexopt::Parser::from_args(args.clone());
    let first = args.first().and_then(|a| a.to_str()).unwrap_or("");
    match first {
        "generate" | "check" => {
            let _ = parser.next();
            match parse_generate(&mut parser) {
                Ok(g) if g.help => {
                    let text = if first == "generate" {
                        GENERATE_HELP
                    } else {
                        CHECK_HELP
                    };
                    let _ = std::io::stdout().lock().write_all(text.as_bytes());
                    EXIT_OK
                }
                Ok(g) if first == "generate" => cmd_generate(g),
                Ok(g) => cmd_check(g),
                Err(e) => {
                    log::error(&format!("{e} (see eventgen {first} --help)"));
                    EXIT_CONFIG
                }
            }
        }
        "init" => crate::init::args::command(args[1..].to_vec()),
        "spec" => match args.get(1).and_then(|a| a.to_str()) {
            None => {
                let _ = std::io::stdout()
                    .lock()
                    .write_all(plan::keys::spec_text().as_bytes());
                EXIT_OK
            }
            Some("-h" | "--help") => {
                let _ = std::io::stdout().lock().write_all(SPEC_HELP.as_bytes());
                EXIT_OK
            }
            Some(other) => {
                log::error(&format!(
                    "unexpected argument {other:?} (see eventgen spec --help)"
                ));
                EXIT_CONFIG
            }
        },
        "-V" | "--version" => {
            let _ = writeln!(
                std::io::stdout().lock(),
                "eventgen {}",
                env!("CARGO_PKG_VERSION")
            );
            EXIT_OK
        }
        "-h" | "--help" | "help" => {
            let _ = std::io::stdout().lock().write_all(HELP.as_bytes());
            EXIT_OK
        }
        "--scheme" => crate::modinput::run::scheme(),
        "--validate-arguments" => crate::modinput::run::validate_arguments(),
        "" if !std::io::stdin().is_terminal() => crate::modinput::run::run(),
        "" => {
            let _ = std::io::stderr().lock().write_all(HELP.as_bytes());
            EXIT_CONFIG
        }
        other => {
            log::error(&format!("unknown command {other:?} (see eventgen --help)"));
            EXIT_CONFIG
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_accepts_rfc3339_and_epoch() {
        assert_eq!(parse_now("0"), Ok(0));
        assert_eq!(parse_now("1.5"), Ok(1_500_000));
        assert_eq!(parse_now("1970-01-01T00:00:10Z"), Ok(10_000_000));
        assert!(parse_now("yesterday").is_err());
        for bad in [
            "nan",
            "inf",
            "-inf",
            "1e300",
            "-1",
            "253402300800",
            "10000-01-01T00:00:00Z",
        ] {
            assert!(parse_now(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_now("253402300799"), Ok(253_402_300_799_000_000));
    }

    #[test]
    fn generate_flags() {
        let args: Vec<OsString> = [
            "x.conf",
            "-c",
            "5",
            "-e",
            "3",
            "--devnull",
            "--seed",
            "7",
            "-v",
        ]
        .iter()
        .map(OsString::from)
        .collect();
        let g = parse_generate(&mut lexopt::Parser::from_args(args)).unwrap();
        assert_eq!(g.conf, Some(PathBuf::from("x.conf")));
        assert_eq!(g.overrides.count, Some(5));
        assert_eq!(g.overrides.end.as_deref(), Some("3"));
        assert_eq!(g.overrides.output.as_deref(), Some("devnull"));
        assert_eq!(g.overrides.seed, Some(7));
        assert!(g.verbose);
        let bad: Vec<OsString> = ["-c", "many"].iter().map(OsString::from).collect();
        assert!(
            parse_generate(&mut lexopt::Parser::from_args(bad))
                .unwrap_err()
                .contains("--count")
        );
    }
}
