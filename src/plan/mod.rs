//! Raw stanzas to an immutable, validated [`Plan`]: Eventgen's layering and stanza matching,
//! typed settings, loaded samples and compiled tokens. Every problem is collected with its
//! location; a sample with an error is left out, the others still run.
//!
//! One file per concern: `matching` (stanzas to sample files), `policy` (key checks and typed
//! reading: what is an error, what is a warning), `timing`, `metadata`, `generators`,
//! `outputs`, and `events` (sample file, tokens, templates). This file holds the plan's types
//! and puts the pieces together.

pub mod autotime;
mod events;
mod generators;
pub mod keys;
mod matching;
mod metadata;
mod outputs;
mod paths;
mod policy;
pub mod replay;
pub mod sample;
pub mod secrets;
mod timing;
pub mod tokens;

use std::path::{Path, PathBuf};

use crate::conf::{self, Setting, Settings, Stanza};
use crate::output::encode::Encoding;
use crate::problem::{Location, Problem};
use crate::timing::rate::Rates;
use crate::timing::relative::TimeSpec;
use crate::timing::{MICROS_PER_SEC, Micros, Tz};
use crate::token::Token;
pub use events::SampleEvent;
pub use generators::{CounterGen, DEFAULT_COUNTER_TEMPLATE, Generator, JinjaCount};
use matching::{Candidate, match_samples};
pub use metadata::{Meta, parse_extend_indexes};
pub use outputs::OutputSpec;
use policy::{Reader, check_keys_global, check_keys_stanza};
use tokens::{CounterSpec, FileCache};

/// One configuration source: the `eventgen.conf` layers of one app or folder.
#[derive(Debug, Clone)]
pub struct ConfSource {
    /// Files from lowest to highest precedence (`default/` then `local/`).
    pub files: Vec<PathBuf>,
    /// Where samples are when a stanza sets no `sampleDir`.
    pub default_sample_dir: PathBuf,
    /// The Splunk app the files belong to, if any.
    pub app: Option<String>,
}

/// Command-line (or app-mode) overrides applied on top of every sample.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub sample: Option<String>,
    pub count: Option<i64>,
    pub interval: Option<i64>,
    pub end: Option<String>,
    pub backfill: Option<String>,
    pub output: Option<String>,
    pub generators: Option<usize>,
    pub seed: Option<u64>,
    /// Run stanzas even when they say `disabled = true` (the shipped demo without CONF).
    pub enable_disabled: bool,
    /// Splunk app mode: outputs become `modinput` except file and spool.
    pub app_mode: bool,
    /// Folder for counters that persist across runs.
    pub state_dir: Option<PathBuf>,
    /// Inside Splunk: splunkd's URL and session key (for `splunkstream`).
    pub splunkd: Option<crate::output::splunkstream::Splunkd>,
    /// Start of the virtual clock, if any (year-less replay times take its year).
    pub now: Option<Micros>,
    /// `eventgen check`: nothing will run, so what only a run outside Splunk needs (a
    /// splunkstream `splunkHost`) is a warning.
    pub check_only: bool,
}

/// When a sample stops.
#[derive(Debug, Clone, PartialEq)]
pub enum End {
    Forever,
    Intervals(u64),
    Until(TimeSpec),
}

/// A sample, ready to run.
#[derive(Debug, Clone)]
pub struct SamplePlan {
    /// The sample file name, or the stanza name when there is no file.
    pub name: String,
    pub stanza: String,
    pub location: Location,
    pub app: Option<String>,
    pub file: Option<PathBuf>,
    pub generator: Generator,
    pub events: Vec<SampleEvent>,
    pub tokens: Vec<Token>,
    pub host_token: Option<Token>,
    pub counters: Vec<CounterSpec>,
    /// Number of replacement files of the plan (size of the per-event row table).
    pub file_count: usize,
    /// Events per interval before rates; 0 means the whole sample once.
    pub count: u64,
    pub per_day_volume: Option<f64>,
    pub rates: Rates,
    pub interval: Micros,
    pub delay: Micros,
    pub earliest: TimeSpec,
    pub latest: TimeSpec,
    pub end: End,
    pub backfill: Option<TimeSpec>,
    pub tz: Tz,
    pub randomize_events: bool,
    pub sequential_timestamp: bool,
    pub time_multiple: f64,
    pub meta: Meta,
    pub extend_indexes: Vec<String>,
    pub output: usize,
    pub encoding: Encoding,
    /// `true` if some event must be rendered token by token.
    pub slow_events: usize,
    /// Replay pacing (replay generator only).
    pub replay: Option<replay::ReplayPlan>,
    /// Number of composed template slots cached per second (see `Template::assign_cache_ids`).
    pub composed_slots: u32,
    /// `true` if some token reads a replacement file by column (the per-event row rule).
    pub file_columns: bool,
}

/// Events among the first `p` positions of an interval that use a counter, given the counter's
/// prefix counts over one pass of the sample (`prefix[i]` = uses among events `0..i`).
pub fn matches_before(prefix: &[u64], p: u64) -> u64 {
    let n = (prefix.len() as u64).saturating_sub(1);
    if n == 0 {
        return 0;
    }
    (p / n) * prefix[n as usize] + prefix[(p % n) as usize]
}

impl SamplePlan {
    /// For each counter (integerid, seqfile): prefix counts of the events whose template uses
    /// its token, over one pass of the sample.
    pub fn counter_prefix(&self) -> Vec<Vec<u64>> {
        (0..self.counters.len())
            .map(|c| {
                let t = self.tokens.iter().position(|t| t.counter == Some(c));
                let mut acc = 0u64;
                let mut p = Vec::with_capacity(self.events.len() + 1);
                p.push(0);
                for e in &self.events {
                    if t.is_some_and(|t| e.template.uses(t)) {
                        acc += 1;
                    }
                    p.push(acc);
                }
                p
            })
            .collect()
    }

    /// `true` if integerid/seqfile counters can be derived from the event's ordinal (sequential
    /// selection, every template on the fast path), which keeps them reproducible with any
    /// number of workers.
    pub fn ordinal_counters(&self) -> bool {
        !self.randomize_events && self.slow_events == 0
    }
}

/// A validated plan.
#[derive(Debug, Default)]
pub struct Plan {
    pub samples: Vec<SamplePlan>,
    pub outputs: Vec<OutputSpec>,
    pub generator_workers: usize,
    pub seed: Option<u64>,
    pub state_dir: Option<PathBuf>,
    /// `outputCounter = true`: log throughput lines.
    pub output_counter: bool,
    /// Sample stanzas left out because they say `disabled = true`, in file order.
    pub disabled: Vec<String>,
}

/// Builds the plan from the sources. Returns the plan and every problem found; samples with
/// errors are not in the plan.
pub fn build(sources: &[ConfSource], ov: &Overrides) -> (Plan, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut per_source: Vec<(usize, Vec<Stanza>)> = Vec::new();
    // [global]/[default] stanzas with their rank: every source's default/ layer before any
    // local/ layer (Splunk: app locals beat app defaults), sources in precedence order, and
    // [default] below [global] in the same file (Splunk copies [default] into every stanza;
    // Eventgen ignores it, we keep it as the lowest layer).
    let mut globals: Vec<((usize, usize, bool), Stanza)> = Vec::new();
    let mut read_order: Vec<&Path> = Vec::new();
    for (i, src) in sources.iter().enumerate() {
        let mut layers = Vec::new();
        for (layer, f) in src.files.iter().enumerate() {
            if !f.exists() {
                continue;
            }
            read_order.push(f);
            match conf::read_conf(f) {
                Ok((stanzas, probs)) => {
                    // Before anything can print a value: every credential of every stanza,
                    // whether or not its output will be built.
                    let mut found = Vec::new();
                    for st in &stanzas {
                        secrets::in_stanza(st, &mut found);
                    }
                    for s in &found {
                        crate::log::global().add_secret(s);
                    }
                    problems.extend(probs);
                    let (g, rest): (Vec<Stanza>, Vec<Stanza>) = stanzas
                        .into_iter()
                        .partition(|s| s.name == "global" || s.name == "default");
                    globals.extend(g.into_iter().map(|s| ((layer, i, s.name == "global"), s)));
                    layers.push(rest);
                }
                Err(p) => problems.push(p),
            }
        }
        per_source.push((i, conf::layer(layers)));
    }
    globals.sort_by_key(|(rank, _)| *rank);
    let global = globals
        .into_iter()
        .fold(Settings::default(), |mut acc, (_, s)| {
            for (k, v) in s.settings.iter() {
                acc.insert(k.clone(), v.clone());
            }
            acc
        });
    check_keys_global(&global, &mut problems);
    for (_, stanzas) in &per_source {
        for st in stanzas {
            check_keys_stanza(st, &mut problems);
        }
    }
    // Settings are keyed by name; people read a config top to bottom.
    problems.sort_by_key(|p| match &p.location {
        Some(l) => (
            read_order
                .iter()
                .position(|f| *f == l.file.as_path())
                .unwrap_or(usize::MAX),
            l.line,
        ),
        None => (usize::MAX, 0),
    });

    let mut plan = Plan {
        generator_workers: 1,
        ..Plan::default()
    };
    let mut g = Reader::new(&global, None, "global", &mut problems);
    let mut workers = g.int("generatorWorkers").max(1);
    let most = crate::timing::limits::MAX_GENERATOR_WORKERS;
    if workers > most {
        g.warn(
            "generatorWorkers",
            format!("{workers} threads are more than this program starts; {most} are used"),
        );
        workers = most;
    }
    let workers = workers as usize;
    plan.generator_workers = ov.generators.unwrap_or(workers).max(1);
    plan.seed = ov.seed.or_else(|| {
        global
            .get("seed")
            .and_then(|_| u64::try_from(g.int("seed")).ok())
    });
    plan.state_dir = ov.state_dir.clone();
    plan.output_counter = g.bool("outputCounter");

    let base = matching::with_defaults(&global);
    let mut files = FileCache::default();
    let mut outputs: Vec<OutputSpec> = Vec::new();
    for (i, stanzas) in per_source {
        let src = &sources[i];
        let candidates = match_samples(
            src,
            &stanzas,
            &global,
            &base,
            ov,
            &mut problems,
            &mut plan.disabled,
        );
        for candidate in candidates {
            if let Some(name) = &ov.sample
                && candidate.stanza != *name
                && candidate.file_name.as_deref() != Some(name.as_str())
            {
                continue;
            }
            let mut sample_problems = Vec::new();
            let built = build_sample(src, &candidate, &base, ov, &mut files, &mut sample_problems);
            let failed = sample_problems.iter().any(Problem::is_error);
            problems.extend(sample_problems);
            match built {
                Some((mut s, spec)) if !failed => {
                    // Only samples that run open outputs; equal outputs share one sink.
                    s.output = match outputs.iter().position(|o| *o == spec) {
                        Some(i) => i,
                        None => {
                            outputs.push(spec);
                            outputs.len() - 1
                        }
                    };
                    plan.samples.push(s)
                }
                _ => {
                    let loc = candidate.location.clone();
                    problems.push(
                        Problem::error(format!(
                            "sample {} skipped because of the errors above",
                            candidate.display_name()
                        ))
                        .located(&loc)
                        .stanza(&candidate.stanza)
                        .consequence(),
                    );
                }
            }
        }
    }
    if let Some(name) = &ov.sample
        && plan.samples.is_empty()
        && !problems
            .iter()
            .any(|p| p.is_error() && p.stanza.as_deref() == Some(name))
    {
        problems.push(Problem::error(format!(
            "no enabled sample or stanza is named {name:?}"
        )));
    }
    let n = files.len();
    for s in &mut plan.samples {
        s.file_count = n;
    }
    plan.outputs = outputs;
    (plan, problems)
}

/// The candidate's settings with the command-line overrides on top.
fn with_overrides(settings: &Settings, ov: &Overrides) -> Settings {
    let mut settings = settings.clone();
    let cli = Location::new("command line", 0);
    let mut set = |k: &str, v: String| {
        settings.insert(
            k,
            Setting {
                value: v,
                location: cli.clone(),
            },
        )
    };
    if let Some(n) = ov.count {
        set("count", n.to_string());
    }
    if let Some(n) = ov.interval {
        set("interval", n.to_string());
    }
    if let Some(e) = &ov.end {
        set("end", e.trim().to_string());
    }
    if let Some(b) = &ov.backfill {
        set("backfill", b.trim().to_string());
    }
    if let Some(o) = &ov.output {
        set("outputMode", o.clone());
    }
    settings
}

fn build_sample(
    src: &ConfSource,
    c: &Candidate,
    base: &Settings,
    ov: &Overrides,
    files: &mut FileCache,
    problems: &mut Vec<Problem>,
) -> Option<(SamplePlan, OutputSpec)> {
    let settings = with_overrides(&c.settings, ov);
    let mut r = Reader::new(&settings, Some(base), &c.stanza, problems);
    let mode = r.choice("mode");
    let generator_name = generators::name(&mut r, &mode);
    let reading = events::read_settings(&mut r);
    let t = timing::read(&mut r, generator_name == "replay", ov.now);
    let output_mode = outputs::mode(&mut r, c, ov);
    let (meta, extend_indexes) = metadata::read(&mut r, c.file_name.as_deref(), &generator_name);
    let generator = generators::build(&mut r, c, &generator_name);
    let spec = outputs::build(&mut r, c, &output_mode, ov);

    let cx = events::Context {
        candidate: c,
        settings: &settings,
        generator: &generator,
        tz: t.tz,
        time_multiple: t.time_multiple,
        now: ov.now,
    };
    let ev = events::build(&cx, &reading, files, problems)?;

    let spec = spec?;
    let encoding = spec.encoding();
    let count = if t.count <= 0 { 0 } else { t.count as u64 };
    let sample = SamplePlan {
        name: c.file_name.clone().unwrap_or_else(|| c.stanza.clone()),
        stanza: c.stanza.clone(),
        location: c.location.clone(),
        app: src.app.clone(),
        file: c.file.clone(),
        generator,
        events: ev.events,
        tokens: ev.tokens.tokens,
        host_token: ev.tokens.host,
        counters: ev.tokens.counters,
        file_count: 0,
        count,
        per_day_volume: t.per_day_volume,
        rates: t.rates,
        interval: t.interval.max(0) * MICROS_PER_SEC,
        delay: crate::timing::limits::micros(t.delay),
        earliest: t.earliest,
        latest: t.latest,
        end: t.end,
        backfill: t.backfill,
        tz: t.tz,
        randomize_events: t.randomize_events,
        sequential_timestamp: t.sequential_timestamp,
        time_multiple: t.time_multiple,
        meta,
        extend_indexes,
        output: 0,
        encoding,
        slow_events: ev.slow_events,
        replay: ev.replay,
        composed_slots: ev.composed_slots,
        file_columns: ev.file_columns,
    };
    Some((sample, spec))
}

/// A plan built from the text of an eventgen.conf, with `files` (name, text) written beside it
/// as its samples, for unit tests. Panics on any error in the conf.
#[cfg(test)]
pub(crate) fn for_test(conf: &str, files: &[(&str, &str)]) -> Plan {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "eventgen-plan-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let conf_path = dir.join("eventgen.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let src = ConfSource {
        files: vec![conf_path],
        default_sample_dir: dir.clone(),
        app: None,
    };
    let (plan, problems) = build(&[src], &Overrides::default());
    let _ = std::fs::remove_dir_all(&dir);
    assert!(problems.iter().all(|p| !p.is_error()), "{problems:?}");
    plan
}
