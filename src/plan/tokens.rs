//! `token.N.*` and `host.*` settings to compiled tokens, with replacement files loaded once
//! per plan and every problem located.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::conf::Settings;
use crate::problem::Problem;
use crate::timing::strftime::TimeFormat;
use crate::token::random::RandomSpec;
use crate::token::{
    Replacement, ReplacementFile, Token, TokenRegex, resolve_path, split_file_column,
};

/// The formats of a `replaytimestamp` JSON list (`["%Y-%m-%d", "%b %d %H:%M:%S"]`).
pub fn format_list(value: &str) -> Option<Vec<String>> {
    let v = value.trim();
    if !v.starts_with('[') {
        return None;
    }
    let list: Vec<String> = serde_json::from_str(v).ok()?;
    (!list.is_empty()).then_some(list)
}

/// Replacement files of a plan, shared by every token that names the same file.
#[derive(Default)]
pub struct FileCache {
    files: BTreeMap<PathBuf, Arc<ReplacementFile>>,
}

impl FileCache {
    /// Loads a file once per plan; a note about its encoding comes with the first load.
    fn load(&mut self, path: &Path) -> Result<(Arc<ReplacementFile>, Option<String>), String> {
        let key = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if let Some(f) = self.files.get(&key) {
            return Ok((f.clone(), None));
        }
        let mut notes = Vec::new();
        let text = crate::plan::sample::read_text(&key, &mut notes).map_err(|e| {
            if e.contains("not a regular file") {
                format!("replacement file {e}")
            } else {
                format!(
                    "replacement file {} not found or unreadable",
                    path.display()
                )
            }
        })?;
        let lines: Vec<String> = text.lines().map(|l| l.trim().to_string()).collect();
        if lines.is_empty() {
            return Err(format!("replacement file {} is empty", path.display()));
        }
        let file = Arc::new(ReplacementFile::new(key.clone(), self.files.len(), lines));
        self.files.insert(key, file.clone());
        Ok((file, notes.pop()))
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// The message for a replacement file that exists nowhere: every absolute path tried (the
/// working directory, the sample folder, the conf file's folder), a near match, the
/// `SPLUNK_HOME` note, and what happens instead.
fn missing_file(spec: &str, bases: &[&Path], instead: &str) -> String {
    let expanded = PathBuf::from(crate::token::expand_vars(spec).replace('\\', "/"));
    let mut tried: Vec<PathBuf> = if expanded.is_absolute() {
        vec![expanded]
    } else {
        bases.iter().map(|b| b.join(&expanded)).collect()
    };
    tried.dedup();
    format!(
        "{}; {instead}",
        crate::plan::paths::not_found("replacement file", spec, &tried)
    )
}

/// A counter (integerid, seqfile) a token needs, with the value it starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterSpec {
    pub start: i64,
    /// Name of the counter in the state folder (token number and regex).
    pub state_name: String,
}

/// The compiled tokens of one sample.
pub struct CompiledTokens {
    pub tokens: Vec<Token>,
    pub host: Option<Token>,
    pub counters: Vec<CounterSpec>,
}

/// Compiles the tokens in `settings` (already merged for the sample). `bases` are the
/// folders relative replacement paths are tried against.
pub fn compile(
    settings: &Settings,
    stanza: &str,
    bases: &[&Path],
    files: &mut FileCache,
    problems: &mut Vec<Problem>,
) -> CompiledTokens {
    let mut groups: BTreeMap<(u32, u32), BTreeMap<&str, &crate::conf::Setting>> = BTreeMap::new();
    for (key, setting) in settings.iter() {
        let Some(rest) = key.strip_prefix("token.") else {
            continue;
        };
        // Eventgen drops a token key it cannot parse and runs the sample without it (apps
        // written for pytest-splunk-addon carry `token.N.field`), as any unknown key.
        let ignored = |msg: String| {
            Problem::warning(format!("unknown setting, ignored; {msg}"))
                .located(&setting.location)
                .stanza(stanza)
                .key(key)
        };
        let Some((n, field)) = rest.split_once('.') else {
            problems.push(ignored(
                "expected token.<n>.token, token.<n>.replacementType or token.<n>.replacement"
                    .into(),
            ));
            continue;
        };
        let Ok(n) = n.parse::<u32>() else {
            problems.push(ignored(format!("token number {n:?} is not a number")));
            continue;
        };
        const FIELDS: [&str; 3] = ["token", "replacementType", "replacement"];
        if !FIELDS.contains(&field) {
            let lower = field.to_ascii_lowercase();
            let hint = FIELDS
                .iter()
                .map(|f| {
                    (
                        super::keys::edit_distance(&lower, &f.to_ascii_lowercase()),
                        f,
                    )
                })
                .min_by_key(|(d, _)| *d)
                .filter(|(d, f)| *d <= 2.max(f.len() / 3))
                .map_or(
                    "a token has token, replacementType and replacement".to_string(),
                    |(_, f)| format!("did you mean token.{n}.{f}?"),
                );
            problems.push(ignored(hint));
            continue;
        }
        // Tokens order by number, then by the stanza they came from (pattern stanzas' tokens
        // are numbered after the master's by the merger).
        groups
            .entry((n / 1_000_000, n % 1_000_000))
            .or_default()
            .insert(field, setting);
    }
    let mut out = CompiledTokens {
        tokens: Vec::new(),
        host: None,
        counters: Vec::new(),
    };
    for ((_, n), parts) in groups {
        let any = parts
            .values()
            .next()
            .map(|s| s.location.clone())
            .unwrap_or_default();
        let (Some(re), Some(ty), Some(rep)) = (
            parts.get("token"),
            parts.get("replacementType"),
            parts.get("replacement"),
        ) else {
            let missing: Vec<&str> = ["token", "replacementType", "replacement"]
                .into_iter()
                .filter(|f| !parts.contains_key(f))
                .collect();
            problems.push(
                Problem::error(format!("token {n} is missing {}", missing.join(" and ")))
                    .located(&any)
                    .stanza(stanza)
                    .key(&format!("token.{n}")),
            );
            continue;
        };
        let regex = match TokenRegex::compile(&re.value) {
            Ok(r) => r,
            Err(e) => {
                problems.push(
                    Problem::error(e)
                        .located(&re.location)
                        .stanza(stanza)
                        .key(&format!("token.{n}.token")),
                );
                continue;
            }
        };
        let rep_err = |msg: String| {
            Problem::error(msg)
                .located(&rep.location)
                .stanza(stanza)
                .key(&format!("token.{n}.replacement"))
        };
        let mut counter = None;
        let replacement = match ty.value.trim() {
            "static" => Replacement::Static(rep.value.clone()),
            t @ ("timestamp" | "replaytimestamp") => {
                let list = format_list(&rep.value).filter(|_| t == "replaytimestamp");
                let format = TimeFormat::compile(&rep.value);
                if list.is_none() && !format.has_directives() {
                    problems.push(
                        Problem::warning("format has no strftime directive, so this token never changes the text (as in Eventgen); it is ignored")
                            .located(&rep.location)
                            .stanza(stanza)
                            .key(&format!("token.{n}.replacement")),
                    );
                    continue;
                }
                match list {
                    _ if t == "timestamp" => Replacement::Timestamp(format),
                    Some(formats) => Replacement::ReplayTimestamp(
                        formats.iter().map(|f| TimeFormat::compile(f)).collect(),
                    ),
                    None => Replacement::ReplayTimestamp(vec![format]),
                }
            }
            t @ ("random" | "rated") => match RandomSpec::parse(&rep.value) {
                Ok(spec) if t == "rated" => Replacement::Rated(spec),
                Ok(spec) => Replacement::Random(spec),
                Err(e) => {
                    problems.push(rep_err(e));
                    continue;
                }
            },
            t @ ("file" | "mvfile" | "seqfile") => {
                let (path, column) = split_file_column(&rep.value);
                let resolved = resolve_path(path.trim(), bases);
                if !resolved.exists() {
                    problems.push(
                        Problem::warning(missing_file(
                            path.trim(),
                            bases,
                            "the token is left unreplaced, as in Eventgen",
                        ))
                        .located(&rep.location)
                        .stanza(stanza)
                        .key(&format!("token.{n}.replacement")),
                    );
                    continue;
                }
                let file = match files.load(&resolved) {
                    Ok((f, note)) => {
                        if let Some(note) = note {
                            problems.push(
                                Problem::warning(format!("replacement file {note}"))
                                    .located(&rep.location)
                                    .stanza(stanza)
                                    .key(&format!("token.{n}.replacement")),
                            );
                        }
                        f
                    }
                    Err(e) => {
                        problems.push(rep_err(e));
                        continue;
                    }
                };
                if column > 0 {
                    let widest = file
                        .lines
                        .iter()
                        .map(|l| l.split(',').count())
                        .max()
                        .unwrap_or(0);
                    if column > widest {
                        problems.push(rep_err(format!(
                            "column {column} does not exist: {} has at most {widest} comma-separated columns",
                            file.path.display()
                        )));
                        continue;
                    }
                    let short = file
                        .lines
                        .iter()
                        .filter(|l| l.split(',').count() < column)
                        .count();
                    if short > 0 {
                        problems.push(
                            Problem::warning(format!("{short} lines of {} have fewer than {column} columns; they give an empty value", file.path.display()))
                                .located(&rep.location)
                                .stanza(stanza)
                                .key(&format!("token.{n}.replacement")),
                        );
                    }
                } else if t == "mvfile" {
                    problems.push(rep_err("mvfile needs a column: path:<column>".into()));
                    continue;
                }
                let sequential = t == "seqfile";
                if sequential {
                    counter = Some(out.counters.len());
                    out.counters.push(CounterSpec {
                        start: 0,
                        state_name: format!("seqfile.{n}.{}", re.value),
                    });
                }
                Replacement::File {
                    file,
                    column,
                    sequential,
                }
            }
            "integerid" => match parse_big_int(&rep.value) {
                Ok(start) => {
                    counter = Some(out.counters.len());
                    out.counters.push(CounterSpec {
                        // The run counts in i64 and wraps; rendering adds the distance
                        // counted to the exact start (see `Replacement::IntegerId`).
                        start: start as i64,
                        state_name: format!("integerid.{n}.{}", re.value),
                    });
                    Replacement::IntegerId { start }
                }
                Err(e) => {
                    problems.push(rep_err(e));
                    continue;
                }
            },
            other => {
                problems.push(
                    Problem::error(format!(
                        "unknown replacementType {other:?}; expected static, timestamp, replaytimestamp, random, rated, file, mvfile, seqfile or integerid"
                    ))
                    .located(&ty.location)
                    .stanza(stanza)
                    .key(&format!("token.{n}.replacementType")),
                );
                continue;
            }
        };
        out.tokens.push(Token {
            number: n,
            replacement_text: rep.value.clone(),
            pattern: re.value.clone(),
            regex,
            replacement,
            counter,
        });
    }

    match (settings.get("host.token"), settings.get("host.replacement")) {
        (None, None) => {}
        (Some(_), Some(r))
            if !resolve_path(split_file_column(&r.value).0.trim(), bases).exists() =>
        {
            problems.push(
                Problem::warning(missing_file(
                    split_file_column(&r.value).0.trim(),
                    bases,
                    "host is not replaced, as in Eventgen",
                ))
                .located(&r.location)
                .stanza(stanza)
                .key("host.replacement"),
            );
        }
        (Some(t), Some(r)) => {
            let regex = TokenRegex::compile(&t.value);
            let (path, column) = split_file_column(&r.value);
            let file = files
                .load(&resolve_path(path.trim(), bases))
                .map(|(f, _)| f);
            match (regex, file) {
                (Ok(regex), Ok(file)) => {
                    out.host = Some(Token {
                        number: 0,
                        replacement_text: r.value.clone(),
                        pattern: t.value.clone(),
                        regex,
                        replacement: Replacement::File {
                            file,
                            column,
                            sequential: false,
                        },
                        counter: None,
                    })
                }
                (Err(e), _) => problems.push(
                    Problem::error(e)
                        .located(&t.location)
                        .stanza(stanza)
                        .key("host.token"),
                ),
                (_, Err(e)) => problems.push(
                    Problem::error(e)
                        .located(&r.location)
                        .stanza(stanza)
                        .key("host.replacement"),
                ),
            }
        }
        (Some(s), None) | (None, Some(s)) => problems.push(
            Problem::error("host.token and host.replacement must be set together")
                .located(&s.location)
                .stanza(stanza),
        ),
    }
    out
}

/// Python `int()` of an integerid start, which may lie beyond i64 (Python ints have no limit).
fn parse_big_int(value: &str) -> Result<i128, String> {
    let v = value.trim().replace('_', "");
    v.parse::<i128>().map_err(|_| {
        crate::plan::keys::parse_int(value)
            .err()
            .unwrap_or_default()
    })
}
