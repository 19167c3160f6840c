//! The three ways splunkd calls the binary: `--scheme`, `--validate-arguments` and a run with
//! the `<input>` document on stdin. A run reads `eventgen.conf` from every enabled app under
//! `$SPLUNK_HOME/etc/apps`, forces outputs to the XML stream (except file and spool), and
//! streams until every sample ends or splunkd sends SIGTERM.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use super::apps::{discover_apps, eventgen_confs};
use super::input::parse_input;
use super::validate::{
    error_xml, parse_shard, parse_validation, parse_verbosity, validate, validate_params,
};
use super::{param, read_document};
use crate::log::{self, Level, Logger, splunk_log_path};
use crate::output::splunkstream::Splunkd;
use crate::pipeline::{self, RunOptions};
use crate::plan::{self, ConfSource, OutputSpec, Overrides};
use crate::problem::Problem;
use crate::timing::clock::Clock;

/// How long a stopping input may take before it exits regardless (splunkd expects an exit
/// within about two seconds of SIGTERM).
const SIGTERM_GRACE: std::time::Duration = std::time::Duration::from_millis(1800);

/// How many plan errors the validation message shows before "and N more".
const VALIDATION_ERRORS_SHOWN: usize = 5;

fn splunk_home() -> Result<PathBuf, String> {
    std::env::var_os("SPLUNK_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_dir())
        .ok_or_else(|| {
            "SPLUNK_HOME is not set to a folder; splunkd sets it for modular inputs".to_string()
        })
}

/// One configuration source per enabled app with an eventgen.conf, lowest precedence first.
pub fn app_sources(splunk_home: &Path) -> Vec<ConfSource> {
    let apps = discover_apps(splunk_home);
    let mut sources: Vec<ConfSource> = eventgen_confs(&apps)
        .into_iter()
        .map(|c| ConfSource {
            files: vec![
                c.app.path.join("default").join("eventgen.conf"),
                c.app.path.join("local").join("eventgen.conf"),
            ],
            default_sample_dir: c.app.path.join("samples"),
            app: Some(c.app.name.clone()),
        })
        .collect();
    // discover_apps lists the highest priority first; layering wants the lowest first.
    sources.reverse();
    sources
}

/// How often the figures go to eventgen.log: [`crate::metrics::LOG_EVERY`], or
/// `EVENTGEN_METRICS_LOG_SECS` seconds (at least 1).
fn metrics_log_every() -> std::time::Duration {
    std::env::var("EVENTGEN_METRICS_LOG_SECS")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(crate::metrics::LOG_EVERY, |s| {
            std::time::Duration::from_secs(s.max(1))
        })
}

/// `--scheme`.
pub fn scheme() -> u8 {
    let _ = std::io::stdout()
        .lock()
        .write_all(super::scheme::scheme_xml().as_bytes());
    0
}

fn fail_validation(msg: &str) -> u8 {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(error_xml(msg).as_bytes());
    let _ = out.flush();
    1
}

/// `--validate-arguments`: the arguments, then the plan built from every app, so a broken
/// eventgen.conf is shown in Splunk Web when the input is saved.
pub fn validate_arguments() -> u8 {
    let text = match read_document(std::io::stdin().lock(), "</items>") {
        Ok(t) => t,
        Err(e) => return fail_validation(&e),
    };
    let item = match parse_validation(&text) {
        Ok(i) => i,
        Err(e) => return fail_validation(&e),
    };
    if let Err(e) = validate(&item) {
        return fail_validation(&e);
    }
    let Ok(home) = splunk_home() else {
        // Nothing more to check without an installation.
        return 0;
    };
    let (_, problems) = plan::build(
        &app_sources(&home),
        &Overrides {
            app_mode: true,
            ..Overrides::default()
        },
    );
    let errors: Vec<&Problem> = problems.iter().filter(|p| p.is_error()).collect();
    if errors.is_empty() {
        return 0;
    }
    let mut msg = format!("eventgen.conf has {} errors: ", errors.len());
    let shown: Vec<String> = errors
        .iter()
        .take(VALIDATION_ERRORS_SHOWN)
        .map(|p| p.to_string())
        .collect();
    msg.push_str(&shown.join("; "));
    if errors.len() > VALIDATION_ERRORS_SHOWN {
        msg.push_str(&format!(
            "; and {} more (see eventgen.log)",
            errors.len() - VALIDATION_ERRORS_SHOWN
        ));
    }
    fail_validation(&msg)
}

/// A run: the `<input>` document on stdin, events on stdout.
pub fn run() -> u8 {
    let stderr_log = log::global();
    let text = match read_document(std::io::stdin().lock(), "</input>") {
        Ok(t) => t,
        Err(e) => {
            stderr_log.error(&format!(
                "cannot read the input configuration from splunkd: {e}"
            ));
            return 1;
        }
    };
    let input = match parse_input(&text) {
        Ok(i) => i,
        Err(e) => {
            stderr_log.error(&format!(
                "cannot parse the input configuration from splunkd: {e}"
            ));
            return 1;
        }
    };
    let log: &Logger = log::global();
    log.add_secret(&input.session_key);
    // eventgen.log first, so that the reason a stanza is discarded reaches it as well as
    // splunkd.log: an inputs.conf edited on disk (a deployment server) never went through
    // --validate-arguments.
    let home = splunk_home();
    if let Ok(home) = &home
        && let Err(e) = log.attach_file(&splunk_log_path(home))
    {
        log.warn(&format!(
            "cannot write {}: {e}",
            splunk_log_path(home).display()
        ));
    }
    for s in &input.stanzas {
        if let Err(e) = validate_params(&s.params) {
            log.error(&format!("discarding invalid input stanza {}: {e}", s.name));
        }
    }
    let Some(stanza) = input
        .stanzas
        .iter()
        .find(|s| validate_params(&s.params).is_ok())
    else {
        // Nothing to run: splunkd gave no valid stanza.
        log.error(&if input.stanzas.is_empty() {
            "no modinput_eventgen stanza in the input configuration; nothing to generate"
                .to_string()
        } else {
            format!(
                "no valid modinput_eventgen stanza in the input configuration ({} discarded, \
                 see above); nothing to generate",
                input.stanzas.len()
            )
        });
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(b"<stream></stream>");
        let _ = out.flush();
        return 0;
    };
    let level = param(&stanza.params, "verbosity")
        .and_then(|v| parse_verbosity(v).ok())
        .map_or(Level::Info, Level::from_verbosity);
    log.set_min(level);
    let shard = param(&stanza.params, "shard")
        .and_then(|v| parse_shard(v).ok())
        .unwrap_or_default();
    let home = match home {
        Ok(h) => h,
        Err(e) => {
            log.error(&e);
            return 1;
        }
    };
    let sources = app_sources(&home);
    let state_dir =
        (!input.checkpoint_dir.is_empty()).then(|| PathBuf::from(&input.checkpoint_dir));
    let splunkd = (!input.server_uri.is_empty()).then(|| Splunkd {
        uri: input.server_uri.clone(),
        session_key: input.session_key.clone(),
    });
    let overrides = Overrides {
        app_mode: true,
        state_dir,
        splunkd,
        ..Overrides::default()
    };
    let (plan, problems) = plan::build(&sources, &overrides);
    pipeline::register_secrets(&plan);
    for p in &problems {
        if p.is_error() {
            log.error(&p.to_string());
        } else {
            log.warn(&p.to_string());
        }
    }
    let apps: Vec<&str> = sources
        .iter()
        .rev()
        .filter_map(|s| s.app.as_deref())
        .collect();
    let outputs: Vec<String> = plan.outputs.iter().map(OutputSpec::describe).collect();
    log.info(&format!(
        "eventgen {} starting: {} apps with eventgen.conf ({}), {} samples, outputs: {}",
        super::VERSION,
        apps.len(),
        apps.join(", "),
        plan.samples.len(),
        if outputs.is_empty() {
            "none".to_string()
        } else {
            outputs.join(", ")
        }
    ));
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        let _ = signal_hook::flag::register(sig, stop.clone());
    }
    if plan.samples.is_empty() {
        log.info(
            "no enabled sample: enable one in an app's local/eventgen.conf (disabled = false)",
        );
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(b"<stream></stream>");
        let _ = out.flush();
        return 0;
    }
    if !shard.is_whole() {
        log.info(&format!("generating shard {shard} of the run"));
    }
    // splunkd waits a few seconds after SIGTERM before killing the input. A normal stop
    // closes the stream well within that; this only ends a process whose stdout is blocked
    // (splunkd no longer reading).
    let watchdog_stop = stop.clone();
    let _ = std::thread::Builder::new()
        .name("sigterm-watchdog".into())
        .spawn(move || {
            while !watchdog_stop.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            std::thread::sleep(SIGTERM_GRACE);
            std::process::exit(0);
        });
    let opts = RunOptions {
        shard,
        log_metrics_every: Some(metrics_log_every()),
        ..RunOptions::new(Clock::Real, stop)
    };
    // Live reload (a deployment server's push, an edit): the apps' eventgen.conf files and
    // samples are watched; EVENTGEN_NO_RELOAD=1 in splunkd's environment turns it off.
    let watch = (std::env::var("EVENTGEN_NO_RELOAD").as_deref() != Ok("1")).then(|| {
        let home = home.clone();
        crate::reload::Watch {
            sources: Box::new(move || app_sources(&home)),
            overrides: overrides.clone(),
            warned: problems.iter().map(|p| p.to_string()).collect(),
        }
    });
    match pipeline::run_reloading(plan, opts, watch) {
        Ok(r) => {
            log.info(&format!(
                "eventgen stopping: {} events ({} bytes of event text) generated",
                r.events, r.bytes
            ));
            // Undelivered events were each reported (ERROR) with their output; splunkd
            // restarts an input that exits non-zero, so only a failed start is an error here.
            0
        }
        Err(e) => {
            log.error(&e.to_string());
            1
        }
    }
}
