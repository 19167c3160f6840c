//! `eventgen init`: from real log files to a working Eventgen app.
//!
//! Each input file becomes one sample stanza. The steps, one file each: [`breaking`] decides
//! where events start (one per line, or multi-line events that open with a timestamp),
//! [`timestamps`] finds every timestamp and its strftime format, [`values`] finds addresses,
//! IDs and the values of well-known keys, [`rates`] turns the input's events per second into
//! `count` and `interval`, and [`app`] writes the app folder. Every detector claims the byte
//! spans it turns into tokens, so later detectors never take the same text; [`verify`] then
//! runs the written regexes over the events and drops any token that would overlap another.

pub mod app;
pub mod args;
pub mod breaking;
pub mod rates;
pub mod timestamps;
pub mod values;
mod verify;

use std::path::{Path, PathBuf};

/// How the generated sample runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// `mode = sample`: `timestamp` tokens, the rate from `count` and `interval`.
    #[default]
    Sample,
    /// `mode = replay`: `replaytimestamp` tokens, the original gaps between events.
    Replay,
}

/// Lines read from each input unless `--lines` says otherwise: enough to see every shape of a
/// typical log, small enough that the sample stays readable.
pub const DEFAULT_LINES: usize = 10_000;

/// The checked flags of `eventgen init`.
#[derive(Debug, Clone, Default)]
pub struct InitOptions {
    pub files: Vec<PathBuf>,
    pub app: Option<PathBuf>,
    /// The sample's name (one input only); default the input's file name.
    pub name: Option<String>,
    pub sourcetype: Option<String>,
    pub index: Option<String>,
    pub host: Option<String>,
    pub mode: Mode,
    pub anonymize: bool,
    pub lines: Option<usize>,
    pub force: bool,
}

/// What a token replaces its text with.
#[derive(Debug, Clone, PartialEq)]
pub enum Replacement {
    /// An strftime format: `timestamp` in sample mode, `replaytimestamp` in replay mode.
    Timestamp(String),
    /// A `random` spec such as `ipv4` or `integer[1:10]`.
    Random(String),
    /// A random line of a replacement file written beside the sample (`file`).
    File { kind: String, values: Vec<String> },
}

/// One token to write.
#[derive(Debug, Clone)]
pub struct TokenPlan {
    pub regex: String,
    pub replacement: Replacement,
    /// What it is, for the report (`ISO 8601 timestamp`, `IPv4 address`, `user= value`).
    pub what: String,
    /// How many places of the input it matched.
    pub count: usize,
    /// In how many events (timestamps only; 0 for values).
    pub events: usize,
}

/// Byte spans already turned into tokens, per event.
#[derive(Debug, Default)]
pub struct Claims(Vec<Vec<(usize, usize)>>);

impl Claims {
    pub fn new(events: usize) -> Claims {
        Claims(vec![Vec::new(); events])
    }

    pub fn is_free(&self, event: usize, start: usize, end: usize) -> bool {
        self.0[event].iter().all(|&(s, e)| end <= s || start >= e)
    }

    pub fn claim(&mut self, event: usize, start: usize, end: usize) {
        self.0[event].push((start, end));
    }
}

/// One input file, analysed.
#[derive(Debug)]
pub struct SampleDraft {
    pub name: String,
    pub source: PathBuf,
    /// The events, each with its trailing newline.
    pub events: Vec<String>,
    pub lines: usize,
    /// `None`: one event per line.
    pub breaker: Option<String>,
    pub tokens: Vec<TokenPlan>,
    /// Seconds since the epoch of each event's first timestamp, where one was read.
    pub times: Vec<Option<i64>>,
    pub rate: rates::Rate,
    /// Things the user should know (`WARN` lines of the report).
    pub warnings: Vec<String>,
}

/// Reads and analyses one input file.
pub fn analyse(path: &Path, name: &str, opts: &InitOptions) -> Result<SampleDraft, String> {
    let shown = path.display();
    let bytes = std::fs::read(path).map_err(|e| format!("{shown}: cannot read: {e}"))?;
    let mut warnings = Vec::new();
    let text = decode(&bytes).map_err(|e| format!("{shown}: {e}"))?;
    if text.1 {
        warnings.push(format!(
            "{shown}: not valid UTF-8; read as Latin-1 (as Eventgen does)"
        ));
    }
    let text = text.0.replace("\r\n", "\n").replace('\r', "\n");
    let limit = opts.lines.unwrap_or(DEFAULT_LINES);
    let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
    if lines.len() > limit {
        warnings.push(format!(
            "{shown}: only the first {limit} of {} lines were read (--lines)",
            lines.len()
        ));
        lines.truncate(limit);
    }
    if lines.iter().all(|l| l.trim().is_empty()) {
        return Err(format!("{shown}: empty (no non-blank line to learn from)"));
    }
    let (events, breaker) = breaking::split(&lines);
    let events: Vec<String> = events
        .into_iter()
        .filter(|e| e.trim() != "")
        .map(|mut e| {
            if !e.ends_with('\n') {
                e.push('\n');
            }
            e
        })
        .collect();
    let mut claims = Claims::new(events.len());
    let found = timestamps::detect(&events, &mut claims);
    if found.tokens.is_empty() {
        warnings.push(format!(
            "{shown}: no timestamp found: generated events keep the original text where a time would be"
        ));
    }
    let mut tokens = found.tokens;
    let (value_tokens, edits) = values::detect(&events, &mut claims, opts.anonymize);
    tokens.extend(value_tokens);
    let (mut tokens, dropped) = verify::non_overlapping(&events, tokens);
    for d in dropped {
        warnings.push(format!("{shown}: {d}"));
    }
    // Timestamps first, the one found in most events first: replay reads each event's time
    // from the first timestamp token.
    tokens.sort_by_key(|t| {
        (
            !matches!(t.replacement, Replacement::Timestamp(_)),
            std::cmp::Reverse(t.events),
        )
    });
    let mut events = events;
    values::apply_edits(&mut events, edits);
    let mut times = found.times;
    if opts.mode == Mode::Replay && rates::sort_by_time(&mut events, &mut times) {
        warnings.push(format!(
            "{shown}: events are not in time order; the sample has them sorted by time, as replay needs"
        ));
    }
    let rate = rates::estimate(&times, events.len());
    Ok(SampleDraft {
        name: name.to_string(),
        source: path.to_path_buf(),
        lines: lines.len(),
        events,
        breaker,
        tokens,
        times,
        rate,
        warnings,
    })
}

/// Bytes to text: UTF-8, else Latin-1 (`true`). Binary input (NUL bytes, or mostly control
/// characters) is refused.
fn decode(bytes: &[u8]) -> Result<(String, bool), String> {
    let head = &bytes[..bytes.len().min(64 * 1024)];
    let control = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x0c))
        .count();
    if head.contains(&0) || control * 10 > head.len() {
        return Err("looks binary (NUL or control bytes), not a text log".into());
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok((s.trim_start_matches('\u{feff}').to_string(), false)),
        Err(_) => Ok((bytes.iter().map(|&b| b as char).collect(), true)),
    }
}

/// The sample name for `path`: its file name.
pub fn default_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "sample".into())
}

/// The app folder when `--app` is not given: `<first input's stem>_app` in the working folder.
pub fn default_app(path: &Path) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "eventgen".into());
    PathBuf::from(format!("{stem}_app"))
}

/// Runs `init`: analyses every input, writes the app, returns the report lines (for stdout)
/// and the problems (for stderr). `Err` when nothing could be written.
pub fn run(opts: &InitOptions) -> Result<(Vec<String>, Vec<String>), Vec<String>> {
    if opts.files.is_empty() {
        return Err(vec!["no LOGFILE given (see eventgen init --help)".into()]);
    }
    if opts.name.is_some() && opts.files.len() > 1 {
        return Err(vec![
            "--name names one sample; give one LOGFILE with it".into(),
        ]);
    }
    let app_dir = opts
        .app
        .clone()
        .unwrap_or_else(|| default_app(&opts.files[0]));
    for (flag, v) in [
        ("--name", &opts.name),
        ("--sourcetype", &opts.sourcetype),
        ("--index", &opts.index),
        ("--host", &opts.host),
    ] {
        if let Some(v) = v
            && (v.trim().is_empty() || v.contains(['\n', '\r']))
        {
            return Err(vec![format!(
                "{flag} must be one non-empty line, got {v:?}"
            )]);
        }
    }
    if let Err(e) = app::check_target(&app_dir, opts.force) {
        return Err(vec![e]);
    }
    let mut drafts = Vec::new();
    let mut errors = Vec::new();
    let mut names = std::collections::HashSet::new();
    for f in &opts.files {
        let mut name = opts.name.clone().unwrap_or_else(|| default_name(f));
        let mut n = 2;
        while !names.insert(name.clone()) {
            name = format!("{}.{n}", default_name(f));
            n += 1;
        }
        match analyse(f, &name, opts) {
            Ok(d) => drafts.push(d),
            Err(e) => errors.push(e),
        }
    }
    if drafts.is_empty() {
        errors.push("no app written: no input could be used".into());
        return Err(errors);
    }
    let mut warnings = errors;
    for d in &drafts {
        warnings.extend(d.warnings.iter().cloned());
    }
    match app::write(&app_dir, &drafts, opts) {
        Ok(()) => {}
        Err(e) => {
            warnings.push(e);
            return Err(warnings);
        }
    }
    Ok((app::report(&app_dir, &drafts, opts), warnings))
}
