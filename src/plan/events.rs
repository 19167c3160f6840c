//! A sample's events: the sample file read and split (raw, breaker, CSV, bundlelines), the
//! tokens compiled and `autotimestamp` tokens added, and each event split into a template.

use std::path::{Path, PathBuf};

use super::matching::Candidate;
use super::policy::{Bad, Reader};
use super::replay::{self, ReplayPlan};
use super::sample::{self, DEFAULT_BREAKER, RawEvent, RowMeta};
use super::tokens::{self, CompiledTokens, FileCache};
use super::{Generator, autotime};
use crate::conf::Settings;
use crate::problem::Problem;
use crate::timing::Tz;
use crate::token::Token;
use crate::token::template::{Probes, Template};

/// One event of a sample, split for rendering.
#[derive(Debug, Clone)]
pub struct SampleEvent {
    pub template: Template,
    pub row: Option<Box<RowMeta>>,
    pub line: u32,
    /// Replay: the value of the CSV time column, if any.
    pub time_field: Option<String>,
}

/// How the sample file is read.
pub(super) struct Reading {
    pub sampletype: String,
    pub autotimestamp: bool,
    /// `autotimestamps` parsed; `None`: the built-in list.
    pub autotimestamps: Option<Vec<(String, String)>>,
    pub bundlelines: bool,
    pub time_field: String,
    pub breaker: String,
}

fn read_autotimestamps(r: &mut Reader) -> Option<Vec<(String, String)>> {
    let text = r.string("autotimestamps")?;
    match autotime::parse_list(&text) {
        Ok(l) => Some(l),
        Err(e) => match r.bad("autotimestamps", e) {
            Bad::Fallback(Some(f)) => autotime::parse_list(f).ok(),
            _ => None,
        },
    }
}

pub(super) fn read_settings(r: &mut Reader) -> Reading {
    Reading {
        sampletype: r.choice("sampletype"),
        autotimestamp: r.bool("autotimestamp"),
        autotimestamps: read_autotimestamps(r),
        bundlelines: r.bool("bundlelines"),
        time_field: r.string("timeField").unwrap_or_else(|| "_raw".into()),
        breaker: r
            .string("breaker")
            .unwrap_or_else(|| DEFAULT_BREAKER.into()),
    }
}

/// The events of a sample with their compiled tokens.
pub(super) struct Events {
    pub events: Vec<SampleEvent>,
    pub tokens: CompiledTokens,
    pub replay: Option<ReplayPlan>,
    pub composed_slots: u32,
    pub file_columns: bool,
    pub slow_events: usize,
}

/// What [`build`] needs from the rest of the sample's plan.
pub(super) struct Context<'a> {
    pub candidate: &'a Candidate,
    pub settings: &'a Settings,
    pub generator: &'a Generator,
    pub tz: Tz,
    pub time_multiple: f64,
    pub now: Option<crate::timing::Micros>,
}

/// Compiles the tokens and loads the events; `None` when the sample file cannot be used.
pub(super) fn build(
    cx: &Context,
    reading: &Reading,
    files: &mut FileCache,
    problems: &mut Vec<Problem>,
) -> Option<Events> {
    let c = cx.candidate;
    let settings = cx.settings;
    let conf_dir = c
        .location
        .file
        .parent()
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let bases: Vec<&Path> = vec![cwd.as_path(), c.sample_dir.as_path(), conf_dir.as_path()];
    let mut compiled = tokens::compile(settings, &c.stanza, &bases, files, problems);

    let mut raw_events: Vec<RawEvent> = Vec::new();
    if matches!(cx.generator, Generator::Sample | Generator::Replay) {
        raw_events = load(c, settings, reading, problems)?;
    }

    if reading.autotimestamp && matches!(cx.generator, Generator::Sample) {
        add_autotimestamps(c, reading, &raw_events, &mut compiled, problems);
    }
    let replay_plan = matches!(cx.generator, Generator::Replay).then(|| {
        let now = cx.now.unwrap_or_else(crate::timing::clock::wall_now);
        let year = chrono::Datelike::year(&cx.tz.datetime(now));
        replay::build(
            &raw_events,
            &compiled.tokens,
            &reading.time_field,
            cx.tz,
            cx.time_multiple,
            year,
            &c.location,
            &c.stanza,
            problems,
        )
    });
    let probes = Probes::for_tokens(
        &compiled.tokens,
        &cx.tz,
        files.len(),
        compiled.counters.len(),
        raw_events.len(),
    );
    let mut events: Vec<SampleEvent> = raw_events
        .into_iter()
        .map(|e| SampleEvent {
            template: Template::build(e.text, &compiled.tokens, &probes),
            row: e.meta,
            line: e.line,
            time_field: e.time_field,
        })
        .collect();
    let mut composed_slots = 0u32;
    for e in &mut events {
        e.template
            .assign_cache_ids(&compiled.tokens, &mut composed_slots);
    }
    let file_columns = compiled.tokens.iter().chain(compiled.host.iter()).any(
        |t| matches!(t.replacement, crate::token::Replacement::File { column, .. } if column > 0),
    );
    let slow_events = events.iter().filter(|e| e.template.is_slow()).count();
    let mut exhausted = false;
    for t in compiled.tokens.iter().filter(|t| t.regex.exhausted()) {
        exhausted = true;
        let key = format!("token.{}.token", t.number);
        let mut p = Problem::error(format!(
            "regex {:?} uses lookaround or backreferences and met a line longer than {} bytes or \
             needed more than {} backtracking steps, the most such a regex may take; simplify it \
             (nested repetition inside lookaround is the usual cause) or shorten the lines",
            t.pattern,
            crate::token::FANCY_TEXT_LIMIT,
            crate::token::BACKTRACK_LIMIT
        ))
        .stanza(&c.stanza)
        .key(&key);
        if let Some(s) = settings.get(&key) {
            p = p.located(&s.location);
        }
        problems.push(p);
    }
    if exhausted {
        return None;
    }
    Some(Events {
        events,
        tokens: compiled,
        replay: replay_plan,
        composed_slots,
        file_columns,
        slow_events,
    })
}

/// Reads and splits the sample file.
fn load(
    c: &Candidate,
    settings: &Settings,
    reading: &Reading,
    problems: &mut Vec<Problem>,
) -> Option<Vec<RawEvent>> {
    let Some(file) = &c.file else {
        problems.push(
            Problem::error("this generator needs a sample file")
                .located(&c.location)
                .stanza(&c.stanza),
        );
        return None;
    };
    let mut notes = Vec::new();
    let loaded = if reading.sampletype == "csv" {
        sample::read_csv(file, &reading.time_field, &mut notes)
    } else {
        sample::read_text(file, &mut notes).and_then(|t| sample::split_raw(&t, &reading.breaker))
    };
    for n in notes {
        problems.push(
            Problem::warning(format!("sample file {n}"))
                .located(&c.location)
                .stanza(&c.stanza),
        );
    }
    let mut raw_events = match loaded {
        Ok(ev) => ev,
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
    };
    if reading.bundlelines && !raw_events.is_empty() {
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
    Some(raw_events)
}

/// `autotimestamp`: timestamp tokens for the formats of the list found in the sample.
fn add_autotimestamps(
    c: &Candidate,
    reading: &Reading,
    raw_events: &[RawEvent],
    compiled: &mut CompiledTokens,
    problems: &mut Vec<Problem>,
) {
    let list = reading
        .autotimestamps
        .clone()
        .unwrap_or_else(autotime::default_list);
    let found = autotime::detect(raw_events, &list);
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
