//! Eventgen's stanza matching: which sample files each stanza applies to, how several matching
//! stanzas merge, and the built-in defaults under `[global]`. Disabled stanzas are dropped
//! here; a stanza that needs a file and matches none is reported here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::keys::{self, Scope};
use super::paths;
use super::policy::Reader;
use super::{ConfSource, Overrides};
use crate::conf::{Setting, Settings, Stanza};
use crate::problem::{Location, Problem};

/// A stanza matched to a sample file (or to no file for file-less generators), with its
/// merged settings.
pub(super) struct Candidate {
    pub stanza: String,
    pub location: Location,
    pub file: Option<PathBuf>,
    pub file_name: Option<String>,
    pub sample_dir: PathBuf,
    pub settings: Settings,
}

impl Candidate {
    pub fn display_name(&self) -> String {
        match &self.file_name {
            Some(f) if *f != self.stanza => format!("{f} (stanza [{}])", self.stanza),
            Some(f) => f.clone(),
            None => format!("[{}]", self.stanza),
        }
    }
}

/// The merged settings of `stanza` over `[global]` over built-in defaults; `None` values
/// (not set anywhere) stay absent.
pub(super) fn with_defaults(global: &Settings) -> Settings {
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

/// Why a stanza that needs a sample file matched none, with the absolute folder tried, a
/// note when `SPLUNK_HOME` is unset, and the nearest file name.
fn no_match_message(dir: &Path, stanza: &str, settings: &Settings) -> String {
    let shown = paths::absolute(dir);
    let mut msg = if !dir.is_dir() {
        format!(
            "sample folder {} does not exist, so no sample file matches this stanza; Eventgen drops it too (set sampleDir)",
            shown.display()
        )
    } else {
        let mut m = format!(
            "no file in {} matches this stanza; Eventgen drops it too",
            shown.display()
        );
        let names = list_files(dir);
        if let Some(near) = paths::nearest(stanza, &names) {
            m.push_str(&format!(" (did you mean {near}?)"));
        }
        if settings.value("sampletype") == Some("csv") && !stanza.ends_with(".csv") {
            m.push_str(" (CSV samples usually end in .csv: try adding it to the stanza name)");
        }
        m
    };
    msg.push_str(&paths::splunk_home_note(
        settings.value("sampleDir").unwrap_or(""),
    ));
    msg
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
pub(super) fn match_samples(
    src: &ConfSource,
    stanzas: &[Stanza],
    global: &Settings,
    base: &Settings,
    ov: &Overrides,
    problems: &mut Vec<Problem>,
    disabled: &mut Vec<String>,
) -> Vec<Candidate> {
    let enabled: Vec<&Stanza> = stanzas
        .iter()
        .filter(|st| {
            if ov.enable_disabled {
                return true;
            }
            let mut settings = base.clone();
            if let Some(d) = st.settings.get("disabled") {
                settings.insert("disabled", d.clone());
            }
            let off = Reader::new(&settings, Some(base), &st.name, problems).bool("disabled");
            if off {
                disabled.push(st.name.clone());
            }
            !off
        })
        .collect();

    // Which files each stanza matches.
    let mut dir_cache: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    let mut by_file: BTreeMap<(PathBuf, String), Vec<usize>> = BTreeMap::new();
    let mut matched_any = vec![false; enabled.len()];
    let mut invalid = vec![false; enabled.len()];
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
        let re = match fancy_regex::Regex::new(&format!("^(?:{})$", st.name)) {
            Ok(re) => re,
            Err(e) => {
                // Eventgen's re.match raises on such a name and stops; here only this
                // stanza is left out.
                problems.push(
                    Problem::error(format!(
                        "the stanza name is not a valid regular expression, so it matches no sample file: {}",
                        crate::token::regex_error_text(&e.to_string())
                    ))
                    .located(&st.location)
                    .stanza(&st.name),
                );
                invalid[i] = true;
                dirs.push(dir);
                continue;
            }
        };
        for name in names.iter() {
            let hit = re.is_match(name).unwrap_or(false);
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

    // Stanzas that matched no file: fine for file-less generators; Eventgen drops the others
    // with a warning, and so do we.
    for (i, st) in enabled.iter().enumerate() {
        if matched_any[i] || invalid[i] {
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
        problems.push(
            Problem::warning(no_match_message(&dirs[i], &st.name, &settings))
                .located(&st.location)
                .stanza(&st.name),
        );
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
