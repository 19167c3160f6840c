//! Tokens: a regex and a replacement, parsed and checked at plan time, rendered on the hot path.
//!
//! [`Token::compile`] turns the three `token.N.*` strings into a ready token (regex compiled,
//! replacement parsed, replacement files loaded). [`Token::render_value`] appends one value to a
//! buffer; it never fails, because the plan proved every input valid. How the values land in
//! the event text (the pre-split fast path, and the token-by-token fallback) is
//! [`template`]'s job.

pub mod random;
pub mod template;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::rng::Rng;
use crate::timing::rate::Rates;
use crate::timing::strftime::TimeFormat;
use random::RandomSpec;

/// Backtracking steps one search of a `fancy-regex` token regex may take. Catastrophic
/// patterns such as `(?=(a+)+$)a` on a long line would otherwise take seconds per event; a
/// search that runs out stops matching that line and marks the regex [`TokenRegex::exhausted`],
/// which the plan turns into an error for the token.
pub const BACKTRACK_LIMIT: usize = 200_000;

/// Longest text a `fancy-regex` token regex searches. Its lookarounds run the inner pattern
/// at every position, so a search costs up to the square of the length (a 30 KB line took
/// seconds); longer texts are not searched and mark the regex [`TokenRegex::exhausted`].
pub const FANCY_TEXT_LIMIT: usize = 4096;

/// A token regex: the fast `regex` crate when the pattern allows, `fancy-regex` for Python
/// features such as lookaround and backreferences.
#[derive(Debug, Clone)]
pub enum TokenRegex {
    Plain(regex::Regex),
    Fancy(fancy_regex::Regex, Arc<AtomicBool>),
}

impl TokenRegex {
    pub fn compile(pattern: &str) -> Result<TokenRegex, String> {
        match regex::Regex::new(pattern) {
            Ok(re) => Ok(TokenRegex::Plain(re)),
            Err(plain_err) => match fancy_regex::RegexBuilder::new(pattern)
                .backtrack_limit(BACKTRACK_LIMIT)
                .build()
            {
                Ok(re) => Ok(TokenRegex::Fancy(re, Arc::default())),
                Err(e) => Err(format!(
                    "regex does not compile: {}",
                    regex_errors_text(&e.to_string(), &plain_err.to_string())
                )),
            },
        }
    }

    pub fn has_groups(&self) -> bool {
        match self {
            TokenRegex::Plain(re) => re.captures_len() > 1,
            TokenRegex::Fancy(re, _) => re.captures_len() > 1,
        }
    }

    /// Whether a search ran out of its backtracking steps ([`BACKTRACK_LIMIT`]) or met a text
    /// longer than [`FANCY_TEXT_LIMIT`].
    pub fn exhausted(&self) -> bool {
        match self {
            TokenRegex::Plain(_) => false,
            TokenRegex::Fancy(_, out) => out.load(Ordering::Relaxed),
        }
    }

    /// Calls `f(whole_match, replaced_span)` for each non-overlapping match, left to right.
    /// The replaced span is group 1 when the regex has groups and group 1 took part in the
    /// match, else the whole match (a non-participating group 1 replaces the whole match).
    pub fn for_each_match(&self, text: &str, mut f: impl FnMut((usize, usize), (usize, usize))) {
        match self {
            TokenRegex::Plain(re) => {
                if re.captures_len() > 1 {
                    for caps in re.captures_iter(text) {
                        let Some(m) = caps.get(0) else { continue };
                        let span = caps
                            .get(1)
                            .map_or((m.start(), m.end()), |g| (g.start(), g.end()));
                        f((m.start(), m.end()), span);
                    }
                } else {
                    for m in re.find_iter(text) {
                        f((m.start(), m.end()), (m.start(), m.end()));
                    }
                }
            }
            TokenRegex::Fancy(re, out) => {
                if text.len() > FANCY_TEXT_LIMIT {
                    out.store(true, Ordering::Relaxed);
                    return;
                }
                for caps in re.captures_iter(text) {
                    let Ok(caps) = caps else {
                        out.store(true, Ordering::Relaxed);
                        break;
                    };
                    let Some(m) = caps.get(0) else { continue };
                    let span = caps
                        .get(1)
                        .map_or((m.start(), m.end()), |g| (g.start(), g.end()));
                    f((m.start(), m.end()), span);
                }
            }
        }
    }

    pub fn is_match(&self, text: &str) -> bool {
        match self {
            TokenRegex::Plain(re) => re.is_match(text),
            TokenRegex::Fancy(_, out) if text.len() > FANCY_TEXT_LIMIT => {
                out.store(true, Ordering::Relaxed);
                false
            }
            TokenRegex::Fancy(re, out) => re.is_match(text).unwrap_or_else(|_| {
                out.store(true, Ordering::Relaxed);
                false
            }),
        }
    }

    /// The first match's text (group 1 if present), for replay's time parsing.
    pub fn first_capture<'t>(&self, text: &'t str) -> Option<&'t str> {
        let mut found = None;
        self.for_each_match(text, |_, span| {
            if found.is_none() {
                found = Some(span);
            }
        });
        found.map(|(s, e)| &text[s..e])
    }
}

/// Lines of a replacement file, loaded once and shared by every token naming it.
#[derive(Debug)]
pub struct ReplacementFile {
    pub path: PathBuf,
    /// Index of this file in the plan, for the per-event "same row" (mvfile) rule.
    pub id: usize,
    pub lines: Vec<String>,
    /// Per line, the byte ranges of its comma-separated columns (split once, at plan time).
    pub columns: Vec<Vec<(u32, u32)>>,
}

impl ReplacementFile {
    pub fn new(path: PathBuf, id: usize, lines: Vec<String>) -> ReplacementFile {
        let columns = lines
            .iter()
            .map(|l| {
                let mut at = 0u32;
                l.split(',')
                    .map(|c| {
                        let r = (at, at + c.len() as u32);
                        at = r.1 + 1;
                        r
                    })
                    .collect()
            })
            .collect();
        ReplacementFile {
            path,
            id,
            lines,
            columns,
        }
    }

    /// Column `column` (1-based) of line `row`; empty when the line is shorter.
    pub fn column(&self, row: usize, column: usize) -> &str {
        match self.columns[row].get(column - 1) {
            Some(&(s, e)) => &self.lines[row][s as usize..e as usize],
            None => "",
        }
    }
}

/// The replacement of a token.
#[derive(Debug, Clone)]
pub enum Replacement {
    Static(String),
    /// The event's time.
    Timestamp(TimeFormat),
    /// The window's latest time in sample mode; the event's time in replay. A JSON list of
    /// formats gives several; replay renders each event with the one its original text had.
    ReplayTimestamp(Vec<TimeFormat>),
    Random(RandomSpec),
    /// Random integer/float scaled by the hourOfDay and dayOfWeek rates.
    Rated(RandomSpec),
    /// A random line (`file`, `mvfile`) or the next line (`seqfile`); `column` is 1-based,
    /// 0 for the whole line. With a column, all tokens of an event share the file's row.
    File {
        file: Arc<ReplacementFile>,
        column: usize,
        sequential: bool,
    },
    /// A counter that starts at `start` and grows by one per event that matches. Like
    /// Python's ints it keeps counting past i64::MAX: the run's i64 counter wraps, and the
    /// value shown is `start` plus the distance it counted.
    IntegerId {
        start: i128,
    },
}

impl Replacement {
    /// `true` if the value depends only on the event time (so it can be cached per second).
    pub fn time_only(&self) -> Option<&TimeFormat> {
        match self {
            Replacement::Timestamp(f) => Some(f),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Token {
    /// The `N` of `token.N.*`.
    pub number: u32,
    pub pattern: String,
    /// The `replacement` text as written (replay parses original times with it).
    pub replacement_text: String,
    pub regex: TokenRegex,
    pub replacement: Replacement,
    /// Index of this token's counter (integerid, seqfile) in the run state.
    pub counter: Option<usize>,
}

/// What a token needs from the event being rendered.
pub struct ValueContext<'a> {
    pub rng: &'a mut Rng,
    /// The event's time, in the sample's zone.
    pub time: &'a chrono::DateTime<chrono::FixedOffset>,
    /// The window's latest time (what `replaytimestamp` shows outside replay).
    pub latest: &'a chrono::DateTime<chrono::FixedOffset>,
    pub rates: &'a Rates,
    /// Row picked per replacement file in this event (mvfile rule), by file id.
    pub rows: &'a mut [Option<usize>],
    /// Counter values for this event, by counter index (integerid, seqfile).
    pub counters: &'a [i64],
    pub replay: bool,
    /// Replay: which of a `replaytimestamp` format list matched this event's original text.
    pub format_index: usize,
}

impl Token {
    /// `true` if drawing a value changes state (random numbers, file rows, counters), so it
    /// must happen exactly when the token matches.
    pub fn has_side_effects(&self) -> bool {
        !matches!(
            self.replacement,
            Replacement::Static(_) | Replacement::Timestamp(_) | Replacement::ReplayTimestamp(_)
        )
    }

    /// `true` if the value depends only on the event's second (a timestamp without `%f`), so
    /// one rendering serves every event of that second.
    pub fn is_per_second(&self) -> bool {
        self.replacement
            .time_only()
            .is_some_and(|f| !f.is_subsecond())
    }

    /// `true` if the value depends on the event's own time (timestamps, rated values).
    pub fn needs_event_time(&self) -> bool {
        matches!(
            self.replacement,
            Replacement::Timestamp(_) | Replacement::ReplayTimestamp(_) | Replacement::Rated(_)
        )
    }

    /// Appends this token's value for one event to `out`.
    pub fn render_value(&self, cx: &mut ValueContext<'_>, out: &mut Vec<u8>) {
        match &self.replacement {
            Replacement::Static(s) => out.extend_from_slice(s.as_bytes()),
            Replacement::Timestamp(f) => f.render(cx.time, out),
            Replacement::ReplayTimestamp(formats) => {
                let Some(f) = formats.get(cx.format_index).or(formats.first()) else {
                    return;
                };
                if cx.replay {
                    f.render(cx.time, out)
                } else {
                    f.render(cx.latest, out)
                }
            }
            Replacement::Random(spec) => spec.render(cx.rng, 1.0, out),
            Replacement::Rated(spec) => {
                let factor = cx.rates.token_factor(cx.time);
                spec.render(cx.rng, factor, out)
            }
            Replacement::File {
                file,
                column,
                sequential,
            } => {
                let n = file.lines.len();
                if n == 0 {
                    return;
                }
                let row = if *column > 0 {
                    match cx.rows.get(file.id).copied().flatten() {
                        Some(r) => r,
                        None => {
                            let r = self.pick_row(cx, n, *sequential);
                            if let Some(slot) = cx.rows.get_mut(file.id) {
                                *slot = Some(r);
                            }
                            r
                        }
                    }
                } else {
                    self.pick_row(cx, n, *sequential)
                };
                let line = &file.lines[row];
                if *column == 0 {
                    out.extend_from_slice(line.as_bytes());
                } else {
                    out.extend_from_slice(file.column(row, *column).as_bytes());
                }
            }
            Replacement::IntegerId { start } => {
                let v = self
                    .counter
                    .and_then(|c| cx.counters.get(c))
                    .copied()
                    .unwrap_or(*start as i64);
                let counted = v.wrapping_sub(*start as i64) as u64;
                let mut b = itoa::Buffer::new();
                out.extend_from_slice(b.format(start + i128::from(counted)).as_bytes());
            }
        }
    }

    fn pick_row(&self, cx: &mut ValueContext<'_>, n: usize, sequential: bool) -> usize {
        if sequential {
            let v = self
                .counter
                .and_then(|c| cx.counters.get(c))
                .copied()
                .unwrap_or(0);
            v.rem_euclid(n as i64) as usize
        } else {
            cx.rng.below(n as u64) as usize
        }
    }
}

/// Parses `path[:column]` of file-type replacements: the column is the part after the last
/// `:` when it is a number (so `C:\x` and URLs keep their colons).
pub fn split_file_column(spec: &str) -> (&str, usize) {
    if let Some((path, col)) = spec.rsplit_once(':')
        && let Ok(c) = col.trim().parse::<usize>()
    {
        return (path, c);
    }
    (spec, 0)
}

/// A regex parser's message on one line, whole: the `regex` crate's multi-line report
/// (`regex parse error:`, the pattern, a caret, `error: …`) becomes `error text at column N
/// of "pattern"`; other messages keep all their lines, joined.
pub fn regex_error_text(message: &str) -> String {
    let lines: Vec<&str> = message.lines().collect();
    if lines.first().map(|l| l.trim()) == Some("regex parse error:") {
        let detail = lines
            .iter()
            .find_map(|l| l.trim().strip_prefix("error:"))
            .map(str::trim);
        let pattern = lines.get(1).map(|l| l.trim_start());
        let caret = lines
            .iter()
            .skip(2)
            .find(|l| l.trim_start().starts_with('^'))
            .map(|l| l.len() - l.trim_start().len() + 1);
        let indent = lines.get(1).map_or(0, |l| l.len() - l.trim_start().len());
        if let (Some(detail), Some(pattern)) = (detail, pattern) {
            return match caret {
                Some(c) => format!(
                    "{detail} at column {} of {pattern:?}",
                    c.saturating_sub(indent)
                ),
                None => format!("{detail} in {pattern:?}"),
            };
        }
    }
    lines
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The message for a pattern that neither regex engine accepts: the lookaround-capable
/// engine's message, and the other engine's when it says something different.
pub fn regex_errors_text(fancy: &str, plain: &str) -> String {
    let (f, p) = (regex_error_text(fancy), regex_error_text(plain));
    if f.contains(&p) || p.is_empty() {
        f
    } else {
        format!("{f}; {p}")
    }
}

/// Expands `$VAR` and `${VAR}` path segments from the environment (`$SPLUNK_HOME/...`).
/// Unset variables stay as written.
pub fn expand_vars(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let (name, tail) = if let Some(inner) = after.strip_prefix('{') {
            match inner.find('}') {
                Some(end) => (&inner[..end], &inner[end + 1..]),
                None => ("", after),
            }
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        match (name.is_empty(), std::env::var(name)) {
            (false, Ok(v)) => out.push_str(&v),
            _ => {
                out.push('$');
                out.push_str(&after[..after.len() - tail.len()]);
            }
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// Resolves a replacement-file path as Eventgen does: `$VAR`s expanded, backslashes turned
/// into slashes, relative paths tried against each base folder in turn (the conf file's
/// folder, the sample folder, the working directory).
pub fn resolve_path(spec: &str, bases: &[&Path]) -> PathBuf {
    let expanded = expand_vars(spec).replace('\\', "/");
    let p = PathBuf::from(&expanded);
    if p.is_absolute() {
        return p;
    }
    for base in bases {
        let candidate = base.join(&p);
        if candidate.exists() {
            return candidate;
        }
    }
    bases.first().map_or(p.clone(), |b| b.join(&p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_errors_are_whole_and_on_one_line() {
        let pattern = String::from("a(b");
        let plain = regex::Regex::new(&pattern).unwrap_err().to_string();
        let t = regex_error_text(&plain);
        assert!(!t.contains('\n'), "{t}");
        assert!(t.contains("unclosed group") && t.contains("\"a(b\""), "{t}");
        let fancy = fancy_regex::Regex::new("*x").unwrap_err().to_string();
        assert!(regex_error_text(&fancy).len() > 10, "{fancy}");
        let e = TokenRegex::compile("(@@x").unwrap_err();
        assert!(e.starts_with("regex does not compile: "), "{e}");
        assert!(!e.ends_with("regex parse error:"), "{e}");
    }

    #[test]
    fn file_column_split() {
        assert_eq!(split_file_column("a/b.csv:3"), ("a/b.csv", 3));
        assert_eq!(split_file_column("a/b.csv"), ("a/b.csv", 0));
        assert_eq!(split_file_column("C:\\x\\y.txt"), ("C:\\x\\y.txt", 0));
        assert_eq!(split_file_column("C:\\x.csv:2"), ("C:\\x.csv", 2));
    }

    #[test]
    fn file_columns_are_split_once() {
        let f = ReplacementFile::new(
            PathBuf::from("x"),
            0,
            vec!["a,bb,,c".into(), "only".into(), "".into()],
        );
        assert_eq!(f.column(0, 1), "a");
        assert_eq!(f.column(0, 2), "bb");
        assert_eq!(f.column(0, 3), "");
        assert_eq!(f.column(0, 4), "c");
        assert_eq!(f.column(0, 5), "");
        assert_eq!(f.column(1, 1), "only");
        assert_eq!(f.column(1, 2), "");
        assert_eq!(f.column(2, 1), "");
    }

    #[test]
    fn env_vars_expand() {
        // PATH is always set in tests; an unset name stays literal.
        let path = std::env::var("PATH").unwrap();
        assert_eq!(expand_vars("$PATH/x"), format!("{path}/x"));
        assert_eq!(expand_vars("${PATH}/x"), format!("{path}/x"));
        assert_eq!(
            expand_vars("$EVENTGEN_SURELY_UNSET_VAR/x"),
            "$EVENTGEN_SURELY_UNSET_VAR/x"
        );
        assert_eq!(expand_vars("a$"), "a$");
    }

    #[test]
    fn group_one_and_fallbacks() {
        let re = TokenRegex::compile(r"id=(\d+)").unwrap();
        let mut spans = vec![];
        re.for_each_match("id=12 id=3", |m, s| spans.push((m, s)));
        assert_eq!(spans, vec![((0, 5), (3, 5)), ((6, 10), (9, 10))]);
        let re = TokenRegex::compile(r"(?<=x)\d").unwrap();
        assert!(matches!(re, TokenRegex::Fancy(..)));
        assert_eq!(re.first_capture("a1x2"), Some("2"));
        assert!(TokenRegex::compile("(unclosed").is_err());
    }
}
