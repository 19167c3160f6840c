//! Raw stanzas to an immutable, validated [`Plan`]: Eventgen's layering and stanza matching,
//! typed settings, loaded samples and compiled tokens. Every problem is collected with its
//! location; a sample with an error is left out, the others still run.

pub mod autotime;
pub mod keys;
pub mod replay;
pub mod sample;
pub mod tokens;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::conf::{self, Setting, Settings, Stanza};
use crate::generate::jinja::JinjaPlan;
use crate::output::encode::Encoding;
use crate::output::hec::HecConfig;
use crate::output::hec::config::Endpoint;
use crate::output::net::{SyslogConfig, TcpConfig, UdpConfig};
use crate::problem::{Location, Problem};
use crate::timing::rate::{RateTable, Rates};
use crate::timing::relative::TimeSpec;
use crate::timing::{MICROS_PER_SEC, Micros, Tz};
use crate::token::Token;
use crate::token::template::{Probes, Template};
use keys::{Kind, Scope};
use sample::{DEFAULT_BREAKER, RawEvent, RowMeta};
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
    /// Start of the virtual clock, if any (year-less replay times take its year).
    pub now: Option<Micros>,
}

/// When a sample stops.
#[derive(Debug, Clone, PartialEq)]
pub enum End {
    Forever,
    Intervals(u64),
    Until(TimeSpec),
}

/// What produces a sample's events.
#[derive(Debug, Clone)]
pub enum Generator {
    /// Sample mode: `count` events per interval from the sample's events.
    Sample,
    /// Replay mode: the sample's events with their original gaps.
    Replay,
    /// `count` events evenly spread over the window, Eventgen's fixed text.
    Windbag,
    /// Counter values, Eventgen's `counter` generator.
    Counter(CounterGen),
    /// Events rendered from a Jinja template, Eventgen's `jinja` generator.
    Jinja(Arc<JinjaPlan>, JinjaCount),
}

/// What `count` counts for the jinja generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JinjaCount {
    /// Template renders per interval.
    Cycles,
    /// Events per interval (renders until that many came out).
    Lines,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CounterGen {
    pub start: f64,
    pub end: Option<f64>,
    pub by: f64,
    pub template: String,
    pub float: bool,
}

/// Metadata of a sample's events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    pub host: String,
    pub source: String,
    pub sourcetype: String,
    pub index: String,
}

/// One event of a sample, split for rendering.
#[derive(Debug, Clone)]
pub struct SampleEvent {
    pub template: Template,
    pub row: Option<RowMeta>,
    pub line: u32,
    /// Replay: the value of the CSV time column, if any.
    pub time_field: Option<String>,
}

/// Where a sample's events go; samples with equal specs share one sink.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputSpec {
    Stdout,
    Devnull,
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
}

impl OutputSpec {
    pub fn encoding(&self) -> Encoding {
        match self {
            OutputSpec::Stdout | OutputSpec::File { .. } => Encoding::Line,
            OutputSpec::Devnull => Encoding::Discard,
            OutputSpec::Modinput => Encoding::ModinputXml,
            OutputSpec::Spool { .. } => Encoding::Concat,
            OutputSpec::Hec { metric: true, .. } => Encoding::HecMetric,
            OutputSpec::Hec { config, .. } if config.endpoint == Endpoint::Raw => Encoding::HecRaw,
            OutputSpec::Hec { .. } => Encoding::HecEvent,
            OutputSpec::Syslog(c) => Encoding::Syslog { header: c.header },
            OutputSpec::Tcp(_) => Encoding::Line,
            OutputSpec::Udp(_) => Encoding::Datagram,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            OutputSpec::Stdout => "stdout".into(),
            OutputSpec::Devnull => "devnull".into(),
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
        }
    }
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
    for (i, src) in sources.iter().enumerate() {
        let mut layers = Vec::new();
        for (layer, f) in src.files.iter().enumerate() {
            if !f.exists() {
                continue;
            }
            match conf::read_conf(f) {
                Ok((stanzas, probs)) => {
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

    let mut plan = Plan {
        generator_workers: 1,
        ..Plan::default()
    };
    let mut g = Reader::new(&global, "global", &mut problems);
    let workers = g.int("generatorWorkers").max(1) as usize;
    plan.generator_workers = ov.generators.unwrap_or(workers).max(1);
    plan.seed = ov.seed.or_else(|| {
        global
            .get("seed")
            .and_then(|_| u64::try_from(g.int("seed")).ok())
    });
    plan.state_dir = ov.state_dir.clone();

    let mut files = FileCache::default();
    let mut outputs: Vec<OutputSpec> = Vec::new();
    for (i, stanzas) in per_source {
        let src = &sources[i];
        for st in &stanzas {
            check_keys_stanza(st, &mut problems);
        }
        for candidate in match_samples(src, &stanzas, &global, ov, &mut problems) {
            if let Some(name) = &ov.sample
                && candidate.stanza != *name
                && candidate.file_name.as_deref() != Some(name.as_str())
            {
                continue;
            }
            let mut sample_problems = Vec::new();
            let built = build_sample(src, &candidate, ov, &mut files, &mut sample_problems);
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
                        .stanza(&candidate.stanza),
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

/// A stanza matched to a sample file (or to no file for file-less generators), with its
/// merged settings.
struct Candidate {
    stanza: String,
    location: Location,
    file: Option<PathBuf>,
    file_name: Option<String>,
    sample_dir: PathBuf,
    settings: Settings,
}

impl Candidate {
    fn display_name(&self) -> String {
        match &self.file_name {
            Some(f) if *f != self.stanza => format!("{f} (stanza [{}])", self.stanza),
            Some(f) => f.clone(),
            None => format!("[{}]", self.stanza),
        }
    }
}

/// The merged settings of `stanza` over `[global]` over built-in defaults; `None` values
/// (not set anywhere) stay absent.
fn with_defaults(global: &Settings) -> Settings {
    let mut s = Settings::default();
    for key in keys::KEYS.iter().filter(|k| k.scope == Scope::Sample) {
        if let Some(d) = key.default {
            s.insert(
                key.name,
                Setting {
                    value: d.to_string(),
                    location: Location::default(),
                },
            );
        }
    }
    for (k, v) in global.iter() {
        if keys::lookup(k).is_none_or(|key| key.scope == Scope::Sample) {
            s.insert(k.clone(), v.clone());
        }
    }
    s
}

fn sample_dir_of(setting: Option<&Setting>, src: &ConfSource) -> PathBuf {
    match setting {
        Some(s) if !s.value.trim().is_empty() => {
            let expanded = crate::token::expand_vars(s.value.trim());
            let p = PathBuf::from(expanded);
            if p.is_absolute() {
                p
            } else {
                s.location.file.parent().unwrap_or(Path::new(".")).join(p)
            }
        }
        _ => src.default_sample_dir.clone(),
    }
}

fn list_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Eventgen's stanza matching (reference 1.6): stanza names are regexes that must match the
/// whole file name; an exact name wins, else the longest pattern; other matching stanzas fill
/// in what the winner does not set (lower in the file first) and add their tokens after it.
fn match_samples(
    src: &ConfSource,
    stanzas: &[Stanza],
    global: &Settings,
    ov: &Overrides,
    problems: &mut Vec<Problem>,
) -> Vec<Candidate> {
    let base = with_defaults(global);
    let enabled: Vec<&Stanza> = stanzas
        .iter()
        .filter(|st| {
            if ov.enable_disabled {
                return true;
            }
            let v = st.settings.get("disabled").or_else(|| base.get("disabled"));
            match v.map(|d| keys::parse_bool(&d.value)) {
                None | Some(Ok(false)) => true,
                Some(Ok(true)) => false,
                Some(Err(e)) => {
                    // A stanza whose switch cannot be read does not run.
                    let loc = v.map(|d| d.location.clone()).unwrap_or_default();
                    problems.push(
                        Problem::error(e)
                            .located(&loc)
                            .stanza(&st.name)
                            .key("disabled"),
                    );
                    false
                }
            }
        })
        .collect();

    // Which files each stanza matches.
    let mut dir_cache: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    let mut by_file: BTreeMap<(PathBuf, String), Vec<usize>> = BTreeMap::new();
    let mut matched_any = vec![false; enabled.len()];
    let mut dirs = Vec::with_capacity(enabled.len());
    for (i, st) in enabled.iter().enumerate() {
        let dir = sample_dir_of(
            st.settings
                .get("sampleDir")
                .or_else(|| global.get("sampleDir")),
            src,
        );
        let names = dir_cache
            .entry(dir.clone())
            .or_insert_with(|| list_files(&dir));
        let re = fancy_regex::Regex::new(&format!("^(?:{})$", st.name)).ok();
        for name in names.iter() {
            let hit = match &re {
                Some(re) => re.is_match(name).unwrap_or(false),
                None => *name == st.name,
            };
            if hit {
                matched_any[i] = true;
                by_file
                    .entry((dir.clone(), name.clone()))
                    .or_default()
                    .push(i);
            }
        }
        dirs.push(dir);
    }

    let mut out = Vec::new();
    for ((dir, name), idxs) in &by_file {
        let exact: Vec<usize> = idxs
            .iter()
            .copied()
            .filter(|&i| enabled[i].name == *name)
            .collect();
        let masters = if exact.is_empty() {
            let longest = idxs
                .iter()
                .map(|&i| enabled[i].name.len())
                .max()
                .unwrap_or(0);
            idxs.iter()
                .copied()
                .filter(|&i| enabled[i].name.len() == longest)
                .collect()
        } else {
            exact
        };
        for &m in &masters {
            let mut settings = base.clone();
            // Others from top to bottom, so the lowest one wins among them.
            let others: Vec<usize> = idxs.iter().copied().filter(|&i| i != m).collect();
            for &o in &others {
                for (k, v) in enabled[o].settings.iter() {
                    if !k.starts_with("token.") {
                        settings.insert(k.clone(), v.clone());
                    }
                }
            }
            for (k, v) in enabled[m].settings.iter() {
                settings.insert(k.clone(), v.clone());
            }
            // Tokens of the other stanzas come after the master's, lowest stanza first.
            for (rank, &o) in others.iter().rev().enumerate() {
                for (k, v) in enabled[o].settings.iter() {
                    if let Some(rest) = k.strip_prefix("token.")
                        && let Some((n, field)) = rest.split_once('.')
                        && let Ok(n) = n.parse::<u32>()
                    {
                        let renumbered = (rank as u32 + 1) * 1_000_000 + n;
                        settings.insert(format!("token.{renumbered}.{field}"), v.clone());
                    }
                }
            }
            out.push(Candidate {
                stanza: enabled[m].name.clone(),
                location: enabled[m].location.clone(),
                file: Some(dir.join(name)),
                file_name: Some(name.clone()),
                sample_dir: dir.clone(),
                settings,
            });
        }
    }

    // Stanzas that matched no file: fine for file-less generators, an error otherwise.
    for (i, st) in enabled.iter().enumerate() {
        if matched_any[i] {
            continue;
        }
        let mut settings = base.clone();
        for (k, v) in st.settings.iter() {
            settings.insert(k.clone(), v.clone());
        }
        let generator = settings
            .value("generator")
            .unwrap_or("default")
            .trim()
            .to_string();
        // Only the generators that read a sample file need one; the others (and unknown names,
        // which build_sample reports) run from the stanza alone.
        if !matches!(
            generator.as_str(),
            "default" | "replay" | "perdayvolumegenerator"
        ) || settings.value("rater").map(str::trim) == Some("counter")
        {
            out.push(Candidate {
                stanza: st.name.clone(),
                location: st.location.clone(),
                file: None,
                file_name: None,
                sample_dir: dirs[i].clone(),
                settings,
            });
            continue;
        }
        if let Some(name) = &ov.sample
            && *name != st.name
        {
            continue;
        }
        let mut msg = format!("no file in {} matches this stanza", dirs[i].display());
        if !dirs[i].is_dir() {
            msg = format!(
                "sample folder {} does not exist (set sampleDir)",
                dirs[i].display()
            );
        } else if settings.value("sampletype") == Some("csv") && !st.name.ends_with(".csv") {
            msg.push_str(" (CSV samples usually end in .csv: try adding it to the stanza name)");
        }
        problems.push(Problem::error(msg).located(&st.location).stanza(&st.name));
    }
    out.sort_by(|a, b| {
        (
            a.location.file.clone(),
            a.location.line,
            a.file_name.clone(),
        )
            .cmp(&(
                b.location.file.clone(),
                b.location.line,
                b.file_name.clone(),
            ))
    });
    out
}

fn check_keys_stanza(st: &Stanza, problems: &mut Vec<Problem>) {
    for (k, v) in st.settings.iter() {
        if keys::is_token_key(k) {
            continue;
        }
        match keys::lookup(k) {
            Some(key) if key.scope == Scope::Global => problems.push(
                Problem::warning(format!(
                    "{k} is an engine setting read only from [global]; ignored here"
                ))
                .located(&v.location)
                .stanza(&st.name)
                .key(k),
            ),
            Some(_) => {}
            None => problems.push(unknown_key(k, &v.location, &st.name)),
        }
    }
}

fn check_keys_global(global: &Settings, problems: &mut Vec<Problem>) {
    for (k, v) in global.iter() {
        if keys::lookup(k).is_none() && !keys::is_token_key(k) {
            problems.push(unknown_key(k, &v.location, "global"));
        }
    }
}

fn unknown_key(k: &str, loc: &Location, stanza: &str) -> Problem {
    let hint = match keys::closest(k) {
        Some(c) => format!("; did you mean {c}?"),
        None => String::new(),
    };
    Problem::warning(format!("unknown setting, ignored{hint}"))
        .located(loc)
        .stanza(stanza)
        .key(k)
}

/// Typed access to merged settings; every parse failure becomes a located error and the
/// built-in default is used so that the rest of the stanza is still checked.
struct Reader<'a> {
    settings: &'a Settings,
    stanza: &'a str,
    problems: &'a mut Vec<Problem>,
}

impl<'a> Reader<'a> {
    fn new(settings: &'a Settings, stanza: &'a str, problems: &'a mut Vec<Problem>) -> Self {
        Reader {
            settings,
            stanza,
            problems,
        }
    }

    fn error(&mut self, key: &str, msg: String) {
        let mut p = Problem::error(msg).stanza(self.stanza).key(key);
        if let Some(s) = self.settings.get(key) {
            p = p.located(&s.location);
        }
        self.problems.push(p);
    }

    fn raw(&self, key: &str) -> Option<&'a str> {
        self.settings.value(key).map(str::trim)
    }

    fn default_of(key: &str) -> Option<&'static str> {
        keys::lookup(key).and_then(|k| k.default)
    }

    fn parse_or_default<T>(
        &mut self,
        key: &str,
        parse: fn(&str) -> Result<T, String>,
    ) -> Option<T> {
        let v = self.raw(key)?;
        match parse(v) {
            Ok(x) => Some(x),
            Err(e) => {
                self.error(key, e);
                Self::default_of(key).and_then(|d| parse(d).ok())
            }
        }
    }

    fn bool(&mut self, key: &str) -> bool {
        self.parse_or_default(key, keys::parse_bool)
            .unwrap_or(false)
    }

    fn int(&mut self, key: &str) -> i64 {
        self.parse_or_default(key, keys::parse_int).unwrap_or(0)
    }

    fn opt_float(&mut self, key: &str) -> Option<f64> {
        self.parse_or_default(key, keys::parse_float)
    }

    fn float(&mut self, key: &str) -> f64 {
        self.opt_float(key).unwrap_or(0.0)
    }

    fn string(&self, key: &str) -> Option<String> {
        self.settings.value(key).map(|s| s.trim().to_string())
    }

    fn choice(&mut self, key: &str) -> String {
        let v = self.raw(key).unwrap_or("").to_string();
        if let Some(Kind::Choice(words)) = keys::lookup(key).map(|k| k.kind)
            && !words.contains(&v.as_str())
        {
            let mut msg = format!("expected one of {}, got {v:?}", words.join(", "));
            if key == "generator" || key == "rater" {
                msg.push_str(
                    "; Eventgen's Python plugins cannot run here (see docs/compatibility.md)",
                );
            }
            self.error(key, msg);
            return Self::default_of(key).unwrap_or("").to_string();
        }
        v
    }

    fn time(&mut self, key: &str) -> Option<TimeSpec> {
        let v = self.raw(key)?;
        if v.is_empty() {
            return None;
        }
        match TimeSpec::parse(v) {
            Ok(t) => Some(t),
            Err(e) => {
                self.error(key, e);
                None
            }
        }
    }

    fn rate(&mut self, key: &str, lo: usize, hi: usize) -> Option<RateTable> {
        let v = self.raw(key)?;
        match RateTable::parse(v, lo, hi) {
            Ok(t) => Some(t),
            Err(e) => {
                self.error(key, e);
                None
            }
        }
    }
}

fn build_sample(
    src: &ConfSource,
    c: &Candidate,
    ov: &Overrides,
    files: &mut FileCache,
    problems: &mut Vec<Problem>,
) -> Option<(SamplePlan, OutputSpec)> {
    let mut settings = c.settings.clone();
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
    let mut r = Reader::new(&settings, &c.stanza, problems);

    let mode = r.choice("mode");
    let mut generator_name = r.choice("generator");
    // Eventgen's counter rater brings its generator ("change the rater, not the generator").
    if r.choice("rater") == "counter" && generator_name == "default" {
        generator_name = "counter".into();
    }
    if mode == "replay" {
        generator_name = "replay".into();
    }
    let sampletype = r.choice("sampletype");
    let interval = r.int("interval");
    if interval < 0 {
        r.error("interval", format!("must be >= 0, got {interval}"));
    }
    let delay = r.float("delay");
    let mut count = r.int("count");
    if count < -1 {
        r.error("count", format!("must be -1, 0 or positive, got {count}"));
        count = -1;
    }
    let per_day_volume = r.opt_float("perDayVolume");
    if let Some(v) = per_day_volume
        && v < 0.0
    {
        r.error("perDayVolume", format!("must be >= 0 GB, got {v}"));
    }
    let rates = Rates {
        randomize_count: r.opt_float("randomizeCount"),
        hour_of_day: r.rate("hourOfDayRate", 0, 23),
        day_of_week: r.rate("dayOfWeekRate", 0, 6),
        minute_of_hour: r.rate("minuteOfHourRate", 0, 59),
        day_of_month: r.rate("dayOfMonthRate", 1, 31),
        month_of_year: r.rate("monthOfYearRate", 1, 12),
    };
    let earliest = r.time("earliest").unwrap_or_else(now_spec);
    let latest = r.time("latest").unwrap_or_else(now_spec);
    let backfill = r.time("backfill");
    {
        // Checked against the clock now; relative windows are re-evaluated every interval.
        let probe = tz_probe(&settings).datetime(crate::timing::clock::wall_now());
        let (e, l) = (earliest.resolve(probe), latest.resolve(probe));
        if e > l {
            r.error(
                "earliest",
                format!(
                    "earliest ({}) is after latest ({}): the window would be empty",
                    e.format("%Y-%m-%d %H:%M:%S%z"),
                    l.format("%Y-%m-%d %H:%M:%S%z")
                ),
            );
        }
    }
    for k in ["backfillSearch", "backfillSearchUrl"] {
        if r.raw(k).is_some_and(|v| !v.is_empty()) {
            let loc = settings
                .get(k)
                .map(|s| s.location.clone())
                .unwrap_or_default();
            r.problems.push(
                Problem::warning("backfillSearch is not supported (Eventgen never ran it); backfill starts at `backfill`")
                    .located(&loc)
                    .stanza(&c.stanza)
                    .key(k),
            );
        }
    }
    let end = match r.raw("end") {
        // Replay plays one pass unless told otherwise (what Eventgen does from the CLI).
        None | Some("") if mode == "replay" || generator_name == "replay" => End::Intervals(1),
        None | Some("") => End::Forever,
        Some(v) => match keys::parse_int(v) {
            Ok(n) if n < 0 => End::Forever,
            Ok(n) => End::Intervals(n as u64),
            Err(_) => match TimeSpec::parse(v) {
                Ok(t) => End::Until(t),
                Err(e) => {
                    r.error(
                        "end",
                        format!("expected a number of intervals, -1, or a time: {e}"),
                    );
                    End::Forever
                }
            },
        },
    };
    let tz = match Tz::parse(r.raw("timezone").unwrap_or("local")) {
        Ok(tz) => tz,
        Err(e) => {
            r.error("timezone", e);
            Tz::Local
        }
    };
    let randomize_events = r.bool("randomizeEvents") && generator_name != "replay";
    let autotimestamp = r.bool("autotimestamp");
    let r_autotimestamps = r.string("autotimestamps");
    let bundlelines = r.bool("bundlelines");
    let sequential_timestamp = r.bool("sequentialTimestamp");
    let time_multiple = r.float("timeMultiple");
    let time_field = r.string("timeField").unwrap_or_else(|| "_raw".into());
    let breaker = r
        .string("breaker")
        .unwrap_or_else(|| DEFAULT_BREAKER.into());
    let keep_output = r.bool("keepOutputMode");
    let mut output_mode = r.choice("outputMode");
    if ov.app_mode && !keep_output && !matches!(output_mode.as_str(), "file" | "spool") {
        output_mode = "modinput".into();
    }
    if interval == 0 && per_day_volume.is_some() {
        r.error(
            "interval",
            "perDayVolume needs interval > 0 (the volume is spread over the intervals of a day)"
                .into(),
        );
    }

    let source_default = c
        .file_name
        .clone()
        .unwrap_or_else(|| generator_name.clone());
    let meta = Meta {
        host: r.string("host").unwrap_or_default(),
        source: r
            .string("source")
            .filter(|s| !s.is_empty())
            .unwrap_or(source_default),
        sourcetype: r.string("sourcetype").unwrap_or_default(),
        index: r.string("index").unwrap_or_default(),
    };
    let extend_indexes = r
        .string("extendIndexes")
        .map(|v| parse_extend_indexes(&v))
        .unwrap_or_default();

    let generator = match generator_name.as_str() {
        "default" | "perdayvolumegenerator" => Generator::Sample,
        "weblog" => {
            r.error(
                "generator",
                "the weblog generator is Eventgen's Python benchmark plugin and cannot run here; the \
                 shipped [weblog] stanza and sample give the same web access log with the default \
                 generator (eventgen generate -s weblog), faster"
                    .into(),
            );
            Generator::Windbag
        }
        "replay" => Generator::Replay,
        "windbag" => Generator::Windbag,
        "counter" => {
            let parse = |v: Option<String>, d: f64| -> (f64, bool) {
                match v {
                    Some(s) if !s.is_empty() => (s.trim().parse().unwrap_or(d), s.contains('.')),
                    _ => (d, false),
                }
            };
            let (start, f1) = parse(r.string("start_count"), 0.0);
            let end_v = r
                .string("end_count")
                .filter(|s| !s.is_empty())
                .map(|s| s.trim().parse::<f64>());
            let end = match end_v {
                Some(Ok(v)) => Some(v),
                Some(Err(_)) => {
                    r.error("end_count", "expected a number".into());
                    None
                }
                None => None,
            };
            let (by, f3) = parse(r.string("count_by"), 1.0);
            let by = if by == 0.0 { 1.0 } else { by };
            // Eventgen: an end below the start with a positive step counts that far from the start.
            let end = match end {
                Some(e) if e < start && by > 0.0 => Some(start + e),
                other => other,
            };
            Generator::Counter(CounterGen {
                start,
                end,
                by,
                template: r
                    .string("count_template")
                    .unwrap_or_else(|| DEFAULT_COUNTER_TEMPLATE.to_string()),
                float: f1 || f3,
            })
        }
        "jinja" => {
            let dir_setting = r
                .string("jinja_template_dir")
                .unwrap_or_else(|| "templates".into());
            let dir = {
                let p = PathBuf::from(crate::token::expand_vars(&dir_setting));
                if p.is_absolute() {
                    p
                } else {
                    c.sample_dir.join(p)
                }
            };
            let count_type = match r.choice("jinja_count_type").as_str() {
                "line_count" => JinjaCount::Lines,
                _ => JinjaCount::Cycles,
            };
            match r.string("jinja_target_template").filter(|t| !t.is_empty()) {
                None => {
                    let loc = c.location.clone();
                    r.problems.push(
                        Problem::error("the jinja generator needs jinja_target_template (the template file to render)")
                            .located(&loc)
                            .stanza(&c.stanza)
                            .key("jinja_target_template"),
                    );
                    // Already an error; a file-less placeholder avoids a second, misleading one.
                    Generator::Windbag
                }
                Some(target) => match JinjaPlan::build(&dir, &target, r.raw("jinja_variables")) {
                    Ok(p) => Generator::Jinja(Arc::new(p), count_type),
                    Err(e) => {
                        r.error("jinja_target_template", e);
                        Generator::Windbag
                    }
                },
            }
        }
        _ => Generator::Sample,
    };

    // Output.
    let spec = match output_mode.as_str() {
        "stdout" => Some(OutputSpec::Stdout),
        "devnull" => Some(OutputSpec::Devnull),
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
                path: resolve_out_path(&n, &settings, from_key),
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
                dir: resolve_out_path(&dir, &settings, "spoolDir"),
                file,
            })
        }
        "httpevent" | "metric_httpevent" => {
            let metric = output_mode == "metric_httpevent";
            let built = if metric {
                HecConfig::build_metric(&settings, &c.stanza)
            } else {
                HecConfig::build(&settings, &c.stanza)
            };
            keep(
                built.map(|config| OutputSpec::Hec { config, metric }),
                r.problems,
            )
        }
        "syslogout" => keep(
            SyslogConfig::build(&settings, &c.stanza).map(OutputSpec::Syslog),
            r.problems,
        ),
        "tcpout" => keep(
            TcpConfig::build(&settings, &c.stanza).map(OutputSpec::Tcp),
            r.problems,
        ),
        "udpout" => keep(
            UdpConfig::build(&settings, &c.stanza).map(OutputSpec::Udp),
            r.problems,
        ),
        other => {
            let instead = match other {
                "s2s" | "splunkstream" => {
                    "httpevent (HEC) to reach an indexer, or modinput inside Splunk"
                }
                "awss3" | "scsout" => "file or spool and ship the files, or httpevent",
                "counter" => "devnull with -v (it prints events and MB/s)",
                _ => {
                    "stdout, devnull, file, spool, modinput, httpevent, syslogout, tcpout or udpout"
                }
            };
            r.error(
                "outputMode",
                format!("outputMode {other} is not supported by eventgen-rs; use {instead}"),
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

    // Events and tokens.
    let conf_dir = c
        .location
        .file
        .parent()
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let bases: Vec<&Path> = vec![cwd.as_path(), c.sample_dir.as_path(), conf_dir.as_path()];
    let compiled = tokens::compile(&settings, &c.stanza, &bases, files, problems);

    let mut raw_events: Vec<RawEvent> = Vec::new();
    if matches!(generator, Generator::Sample | Generator::Replay) {
        let Some(file) = &c.file else {
            problems.push(
                Problem::error("this generator needs a sample file")
                    .located(&c.location)
                    .stanza(&c.stanza),
            );
            return None;
        };
        let loaded = if sampletype == "csv" {
            sample::read_csv(file, &time_field)
        } else {
            sample::read_text(file).and_then(|t| sample::split_raw(&t, &breaker))
        };
        match loaded {
            Ok(ev) => raw_events = ev,
            Err(e) => {
                let key_loc = settings
                    .get("breaker")
                    .filter(|_| e.contains("breaker"))
                    .map(|s| s.location.clone());
                let mut p = Problem::error(e).stanza(&c.stanza);
                p = match key_loc {
                    Some(l) => p.located(&l).key("breaker"),
                    None => p.located(&c.location),
                };
                problems.push(p);
                return None;
            }
        }
        if bundlelines && !raw_events.is_empty() {
            let text: String = raw_events.iter().map(|e| e.text.as_str()).collect();
            raw_events = vec![RawEvent {
                text,
                line: 1,
                meta: raw_events[0].meta.clone(),
                time_field: None,
            }];
        }
        if raw_events.is_empty() {
            problems.push(
                Problem::warning(format!("sample file {} has no events", file.display()))
                    .located(&c.location)
                    .stanza(&c.stanza),
            );
        }
    }
    let _ = src;

    let mut compiled = compiled;
    if autotimestamp && matches!(generator, Generator::Sample) {
        let list = match r_autotimestamps.as_deref() {
            Some(text) => match autotime::parse_list(text) {
                Ok(l) => l,
                Err(e) => {
                    let loc = settings
                        .get("autotimestamps")
                        .map(|s| s.location.clone())
                        .unwrap_or_default();
                    problems.push(
                        Problem::error(e)
                            .located(&loc)
                            .stanza(&c.stanza)
                            .key("autotimestamps"),
                    );
                    Vec::new()
                }
            },
            None => autotime::default_list(),
        };
        let found = autotime::detect(&raw_events, &list);
        if found.is_empty() {
            problems.push(
                Problem::warning(
                    "autotimestamp: no timestamp in the sample matches the autotimestamps list",
                )
                .located(&c.location)
                .stanza(&c.stanza),
            );
        }
        let next = compiled
            .tokens
            .iter()
            .map(|t| t.number)
            .max()
            .map_or(0, |n| n + 1);
        for (i, tok) in found.into_iter().enumerate() {
            compiled.tokens.push(Token {
                number: next + i as u32,
                ..tok
            });
        }
    }
    let replay_plan = matches!(generator, Generator::Replay).then(|| {
        let now = ov.now.unwrap_or_else(crate::timing::clock::wall_now);
        let year = chrono::Datelike::year(&tz.datetime(now));
        replay::build(
            &raw_events,
            &compiled.tokens,
            &time_field,
            tz,
            time_multiple,
            year,
            &c.location,
            &c.stanza,
            problems,
        )
    });
    let probes = Probes::for_tokens(
        &compiled.tokens,
        &tz,
        files.len(),
        compiled.counters.len(),
        raw_events.len(),
    );
    let events: Vec<SampleEvent> = raw_events
        .into_iter()
        .map(|e| SampleEvent {
            template: Template::build(&e.text, &compiled.tokens, &probes),
            row: e.meta,
            line: e.line,
            time_field: e.time_field,
        })
        .collect();
    let mut events = events;
    let mut composed_slots = 0u32;
    for e in &mut events {
        e.template
            .assign_cache_ids(&compiled.tokens, &mut composed_slots);
    }
    let file_columns = compiled.tokens.iter().chain(compiled.host.iter()).any(
        |t| matches!(t.replacement, crate::token::Replacement::File { column, .. } if column > 0),
    );
    let slow_events = events.iter().filter(|e| e.template.is_slow()).count();

    let spec = spec?;
    let encoding = spec.encoding();
    let count = if count <= 0 { 0 } else { count as u64 };
    let sample = SamplePlan {
        name: c.file_name.clone().unwrap_or_else(|| c.stanza.clone()),
        stanza: c.stanza.clone(),
        location: c.location.clone(),
        app: src.app.clone(),
        file: c.file.clone(),
        generator,
        events,
        tokens: compiled.tokens,
        host_token: compiled.host,
        counters: compiled.counters,
        file_count: 0,
        count,
        per_day_volume,
        rates,
        interval: interval.max(0) * MICROS_PER_SEC,
        delay: (delay.max(0.0) * MICROS_PER_SEC as f64) as Micros,
        earliest,
        latest,
        end,
        backfill,
        tz,
        randomize_events,
        sequential_timestamp,
        time_multiple,
        meta,
        extend_indexes,
        output: 0,
        encoding,
        slow_events,
        replay: replay_plan,
        composed_slots,
        file_columns,
    };
    Some((sample, spec))
}

/// The sample's zone for plan-time checks (errors in it are reported elsewhere).
fn tz_probe(settings: &Settings) -> Tz {
    settings
        .value("timezone")
        .and_then(|v| Tz::parse(v).ok())
        .unwrap_or(Tz::Local)
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

pub const DEFAULT_COUNTER_TEMPLATE: &str = "{event_ts}-0700 Counter for sample:{samplename}, Now processing event counting {loop_count} of {max_loop} cycles. Counter Values: Start_Count: {start_count} Current_Counter:{current_count} End_Count:{end_count} Counting_By: {count_by}";

fn now_spec() -> TimeSpec {
    TimeSpec::now()
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

/// `test_:2, main, web` → `test_0, test_1, main, web`.
pub fn parse_extend_indexes(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    for item in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if let Some((prefix, n)) = item.split_once(':')
            && let Ok(n) = n.rsplit(':').next().unwrap_or("").trim().parse::<usize>()
        {
            out.extend((0..n).map(|i| format!("{prefix}{i}")));
        } else {
            out.push(item.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extend_indexes_expand() {
        assert_eq!(
            parse_extend_indexes("test_:2, main, web"),
            ["test_0", "test_1", "main", "web"]
        );
    }
}
