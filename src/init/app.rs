//! Writing the app: `default/eventgen.conf`, `samples/NAME`, replacement files under
//! `samples/tokens/`, and a README; and the report `init` prints.

use std::fmt::Write as _;
use std::path::Path;

use super::{InitOptions, Mode, Replacement, SampleDraft};

/// Refuses a target folder that exists and is not empty, unless `force`.
pub fn check_target(dir: &Path, force: bool) -> Result<(), String> {
    if dir.exists() && !dir.is_dir() {
        return Err(format!("{}: exists and is not a folder", dir.display()));
    }
    let non_empty = std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some());
    if non_empty && !force {
        return Err(format!(
            "{}: exists and is not empty; nothing was written (--force overwrites the files init writes)",
            dir.display()
        ));
    }
    Ok(())
}

/// The stanza for a sample file name: the name itself when it only has letters, digits,
/// `_`, `-` and `.` (a `.` in a stanza regex also matches itself), else the name escaped.
fn stanza_name(name: &str) -> String {
    if name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        name.to_string()
    } else {
        regex::escape(name)
    }
}

/// File names written under `samples/`: no path separators or leading dots.
fn safe_file_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    s.trim_start_matches('.').to_string()
}

fn token_file(sample: &str, kind: &str) -> String {
    format!(
        "tokens/{}.{}.sample",
        safe_file_name(sample),
        safe_file_name(kind)
    )
}

/// The eventgen.conf text for the drafts.
pub fn conf_text(drafts: &[SampleDraft], opts: &InitOptions) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Written by `eventgen init`. Check it with `eventgen check --strict APP`,\n# run it with `eventgen generate APP`.\n"
    );
    for d in drafts {
        let _ = writeln!(
            out,
            "# From {}: {} lines, {} events{}.",
            d.source
                .file_name()
                .map_or("?".into(), |n| n.to_string_lossy()),
            d.lines,
            d.events.len(),
            match d.rate.per_second {
                Some(eps) => format!(", {eps:.3} events per second"),
                None => String::new(),
            }
        );
        if let Some((lo, hi)) = d.rate.span {
            let iso = |t: i64| {
                chrono::DateTime::from_timestamp(t, 0).map_or(t.to_string(), |d| {
                    d.format("%Y-%m-%dT%H:%M:%SZ").to_string()
                })
            };
            let _ = writeln!(out, "# Input times: {} to {}", iso(lo), iso(hi));
        }
        let _ = writeln!(out, "[{}]", stanza_name(&safe_file_name(&d.name)));
        let mode = match opts.mode {
            Mode::Sample => "sample",
            Mode::Replay => "replay",
        };
        let _ = writeln!(out, "mode = {mode}");
        let _ = writeln!(out, "sampletype = raw");
        if let Some(b) = &d.breaker {
            let _ = writeln!(out, "breaker = {b}");
        }
        if opts.mode == Mode::Sample {
            let _ = writeln!(out, "count = {}", d.rate.count);
            let _ = writeln!(out, "interval = {}", d.rate.interval);
            let _ = writeln!(out, "earliest = -{}s", d.rate.interval);
            let _ = writeln!(out, "latest = now");
        }
        let stem = Path::new(&d.name)
            .file_stem()
            .map_or(d.name.clone(), |s| s.to_string_lossy().into_owned());
        let sourcetype = opts.sourcetype.clone().unwrap_or(stem);
        let _ = writeln!(out, "sourcetype = {sourcetype}");
        let _ = writeln!(out, "source = {}", d.name);
        if let Some(i) = &opts.index {
            let _ = writeln!(out, "index = {i}");
        }
        if let Some(h) = &opts.host {
            let _ = writeln!(out, "host = {h}");
        }
        for (n, t) in d.tokens.iter().enumerate() {
            let _ = writeln!(out, "\n# {} ({} matches)", t.what, t.count);
            let _ = writeln!(out, "token.{n}.token = {}", t.regex);
            let (kind, value) = match &t.replacement {
                Replacement::Timestamp(f) if opts.mode == Mode::Replay => {
                    ("replaytimestamp", f.clone())
                }
                Replacement::Timestamp(f) => ("timestamp", f.clone()),
                Replacement::Random(r) => ("random", r.clone()),
                Replacement::File { kind, .. } => ("file", token_file(&d.name, kind)),
            };
            let _ = writeln!(out, "token.{n}.replacementType = {kind}");
            let _ = writeln!(out, "token.{n}.replacement = {value}");
        }
        out.push('\n');
    }
    out
}

fn write_file(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("{}: cannot create: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("{}: cannot write: {e}", path.display()))
}

/// Writes the app folder.
pub fn write(dir: &Path, drafts: &[SampleDraft], opts: &InitOptions) -> Result<(), String> {
    write_file(
        &dir.join("default").join("eventgen.conf"),
        &conf_text(drafts, opts),
    )?;
    let samples = dir.join("samples");
    for d in drafts {
        write_file(&samples.join(safe_file_name(&d.name)), &d.events.concat())?;
        for t in &d.tokens {
            if let Replacement::File { kind, values } = &t.replacement {
                let mut text = values.join("\n");
                text.push('\n');
                write_file(&samples.join(token_file(&d.name, kind)), &text)?;
            }
        }
    }
    let mut readme = String::from(
        "# Eventgen app written by `eventgen init`\n\nCheck: `eventgen check --strict .` Generate: `eventgen generate .`\n\n\
         `default/eventgen.conf` has one stanza per input file; `samples/` holds the events and\n\
         `samples/tokens/` the values file tokens choose from. What init found:\n\n```\n",
    );
    for line in report(dir, drafts, opts) {
        readme.push_str(&line);
        readme.push('\n');
    }
    readme.push_str("```\n");
    write_file(&dir.join("README.md"), &readme)
}

/// What init found, one line per sample and per token.
pub fn report(dir: &Path, drafts: &[SampleDraft], opts: &InitOptions) -> Vec<String> {
    let mut lines = vec![format!("wrote {}", dir.display())];
    for d in drafts {
        let breaking = match &d.breaker {
            None => "one event per line".to_string(),
            Some(b) => format!("multi-line events, breaker {b}"),
        };
        let rate = match (opts.mode, d.rate.per_second) {
            (Mode::Replay, _) => "replay: original gaps between events".to_string(),
            (Mode::Sample, Some(eps)) => format!(
                "{eps:.3} events/s in the input: count {} every {}s",
                d.rate.count, d.rate.interval
            ),
            (Mode::Sample, None) => format!(
                "no time span in the input: count {} every {}s",
                d.rate.count, d.rate.interval
            ),
        };
        lines.push(format!(
            "  samples/{}: {} lines, {} events ({breaking}); {rate}",
            safe_file_name(&d.name),
            d.lines,
            d.events.len()
        ));
        for (n, t) in d.tokens.iter().enumerate() {
            let value = match &t.replacement {
                Replacement::Timestamp(f) => f.clone(),
                Replacement::Random(r) => format!("random {r}"),
                Replacement::File { kind, values } => {
                    format!(
                        "file {} ({} values)",
                        token_file(&d.name, kind),
                        values.len()
                    )
                }
            };
            lines.push(format!(
                "    token.{n}: {} x{}: {}  [{}]",
                t.what, t.count, value, t.regex
            ));
        }
    }
    lines
}
