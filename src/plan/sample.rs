//! Loading sample files into events: raw files split into lines or by a `breaker` regex, CSV
//! files with a `_raw` column and optional per-row metadata.

use std::path::Path;

/// The breaker Eventgen ships; with it a raw sample is read one event per line.
pub const DEFAULT_BREAKER: &str = "[^\\r\\n\\s]+";

/// Per-row metadata of CSV samples (empty fields count, as in Eventgen).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowMeta {
    pub host: Option<String>,
    pub source: Option<String>,
    pub sourcetype: Option<String>,
    pub index: Option<String>,
}

/// One loaded sample event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEvent {
    pub text: String,
    /// 1-based line of the file where the event starts (CSV: the row's line).
    pub line: u32,
    pub meta: Option<Box<RowMeta>>,
    /// Value of the `timeField` column (CSV) for replay.
    pub time_field: Option<String>,
}

/// Reads a text file (UTF-8 or UTF-16 with a BOM, else latin-1 as Eventgen does; see
/// [`crate::conf::text::decode`]) with line ends normalised. A note for the user goes to
/// `notes` when the file was not plain UTF-8.
pub fn read_text(path: &Path, notes: &mut Vec<String>) -> Result<String, String> {
    // A FIFO or device would block or never end: only regular files (symlinks followed).
    let meta = std::fs::metadata(path)
        .map_err(|e| format!("cannot read sample file {}: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(format!(
            "{} is not a regular file (a FIFO, device or folder cannot be a sample or replacement file)",
            path.display()
        ));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| format!("cannot read sample file {}: {e}", path.display()))?;
    let (text, note) = crate::conf::text::decode(&bytes);
    if let Some(n) = note {
        notes.push(format!("{}: {n}", path.display()));
    }
    Ok(text.replace("\r\n", "\n").replace('\r', "\n"))
}

/// A breaker: the fast engine when it can, the lookaround-capable one otherwise (as token
/// regexes do).
enum Breaker {
    Plain(regex::Regex),
    Fancy(fancy_regex::Regex),
}

impl Breaker {
    fn compile(breaker: &str) -> Result<Breaker, String> {
        let pattern = format!("(?m){breaker}");
        match regex::Regex::new(&pattern) {
            Ok(re) => Ok(Breaker::Plain(re)),
            Err(plain) => fancy_regex::Regex::new(&pattern)
                .map(Breaker::Fancy)
                .map_err(|e| {
                    format!(
                        "breaker regex does not compile: {}",
                        crate::token::regex_errors_text(&e.to_string(), &plain.to_string())
                    )
                }),
        }
    }

    /// Start and end of every match (a fancy match that fails at run time, e.g. by
    /// backtracking too far, ends the list).
    fn matches(&self, text: &str) -> Vec<(usize, usize)> {
        match self {
            Breaker::Plain(re) => re.find_iter(text).map(|m| (m.start(), m.end())).collect(),
            Breaker::Fancy(re) => re
                .find_iter(text)
                .map_while(Result::ok)
                .map(|m| (m.start(), m.end()))
                .collect(),
        }
    }
}

/// Splits raw text into events: one per line for the default breaker, else at every breaker
/// match (the match starts the event it belongs to).
pub fn split_raw(text: &str, breaker: &str) -> Result<Vec<RawEvent>, String> {
    let mut events = Vec::new();
    if breaker == DEFAULT_BREAKER {
        for (i, line) in text.split_inclusive('\n').enumerate() {
            if line == "\n" {
                continue;
            }
            let mut t = line.to_string();
            if !t.ends_with('\n') {
                t.push('\n');
            }
            events.push(RawEvent {
                text: t,
                line: i as u32 + 1,
                meta: None,
                time_field: None,
            });
        }
        return Ok(events);
    }
    let re = Breaker::compile(breaker)?;
    let found = re.matches(text);
    if re.matches("").iter().any(|m| m.0 == m.1) || found.iter().any(|m| m.0 == m.1) {
        return Err(format!(
            "breaker {breaker:?} can match an empty string, which would split forever; make it match at least one character"
        ));
    }
    let mut starts: Vec<usize> = found.iter().map(|m| m.0).filter(|&s| s > 0).collect();
    starts.dedup();
    let mut prev = 0;
    starts.push(text.len());
    for s in starts {
        if s <= prev && prev != 0 {
            continue;
        }
        let piece = &text[prev..s];
        if !piece.is_empty() && piece != "\n" {
            let mut t = piece.to_string();
            if !t.ends_with('\n') {
                t.push('\n');
            }
            let line = text[..prev].matches('\n').count() as u32 + 1;
            events.push(RawEvent {
                text: t,
                line,
                meta: None,
                time_field: None,
            });
        }
        prev = s;
    }
    Ok(events)
}

/// Reads a CSV sample: header row, a `_raw` column, optional `host`, `source`,
/// `sourcetype`, `index` columns applied per event, and `time_field` kept for replay.
pub fn read_csv(
    path: &Path,
    time_field: &str,
    notes: &mut Vec<String>,
) -> Result<Vec<RawEvent>, String> {
    let text = read_text(path, notes)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| format!("cannot read CSV header of {}: {e}", path.display()))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let raw = col("_raw").ok_or_else(|| {
        format!(
            "CSV sample {} has no _raw column (columns: {})",
            path.display(),
            headers.iter().collect::<Vec<_>>().join(", ")
        )
    })?;
    let (host, source, sourcetype, index) =
        (col("host"), col("source"), col("sourcetype"), col("index"));
    let time = col(time_field).or_else(|| col("_time"));
    let mut events = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| format!("CSV sample {}: {e}", path.display()))?;
        let line = record.position().map_or(0, |p| p.line() as u32);
        let Some(text) = record.get(raw) else {
            continue;
        };
        let mut t = text.to_string();
        if !t.ends_with('\n') {
            t.push('\n');
        }
        let field = |c: Option<usize>| c.and_then(|c| record.get(c)).map(str::to_string);
        let meta = RowMeta {
            host: field(host),
            source: field(source),
            sourcetype: field(sourcetype),
            index: field(index),
        };
        let meta = (meta != RowMeta::default()).then(|| Box::new(meta));
        events.push(RawEvent {
            text: t,
            line,
            meta,
            time_field: field(time),
        });
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(events: &[RawEvent]) -> Vec<&str> {
        events.iter().map(|e| e.text.as_str()).collect()
    }

    #[test]
    fn lines_mode_drops_empty_lines_and_adds_newline() {
        let ev = split_raw("a\n\n  \nb", DEFAULT_BREAKER).unwrap();
        assert_eq!(texts(&ev), ["a\n", "  \n", "b\n"]);
        assert_eq!(ev[2].line, 4);
    }

    #[test]
    fn breaker_mode_matches_eventgen() {
        let ev = split_raw("2020 a\ncont\n2021 b\n", r"^\d{4}").unwrap();
        assert_eq!(texts(&ev), ["2020 a\ncont\n", "2021 b\n"]);
        let ev = split_raw("2020 a\ncont\n2021 b\n", r"\n\d{4}").unwrap();
        assert_eq!(texts(&ev), ["2020 a\ncont\n", "\n2021 b\n"]);
        let ev = split_raw("head\n2020 a\n", r"^\d{4}").unwrap();
        assert_eq!(texts(&ev), ["head\n", "2020 a\n"]);
        assert_eq!(ev[1].line, 2);
    }

    #[test]
    fn zero_width_breakers_are_rejected() {
        assert!(
            split_raw("a\nb\n", "^")
                .unwrap_err()
                .contains("empty string")
        );
        assert!(
            split_raw("a\nb\n", r"\d*")
                .unwrap_err()
                .contains("empty string")
        );
        assert!(split_raw("a\nb\n", "(").is_err());
    }

    #[test]
    fn lookahead_breakers_work() {
        let ev = split_raw("m a=1\nb=2\nm c=3\n", r"[\n\r]+(?=m )").unwrap();
        assert_eq!(texts(&ev), ["m a=1\nb=2\n", "\nm c=3\n"]);
        let e = split_raw("x", "(?<=a").unwrap_err();
        assert!(e.starts_with("breaker regex does not compile: "), "{e}");
        assert!(!e.ends_with("regex parse error:"), "{e}");
    }

    #[test]
    fn csv_rows_with_metadata() {
        let dir = std::env::temp_dir().join(format!("eg-csv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("s.csv");
        std::fs::write(
            &p,
            "_time,index,host,_raw\n2020-01-01,web,h1,\"a, \"\"quoted\"\"\"\n2020-01-02,,h2,b\n",
        )
        .unwrap();
        let ev = read_csv(&p, "_time", &mut Vec::new()).unwrap();
        assert_eq!(texts(&ev), ["a, \"quoted\"\n", "b\n"]);
        assert_eq!(ev[0].meta.as_ref().unwrap().index.as_deref(), Some("web"));
        assert_eq!(ev[1].meta.as_ref().unwrap().host.as_deref(), Some("h2"));
        assert_eq!(ev[1].time_field.as_deref(), Some("2020-01-02"));
        std::fs::write(&p, "a,b\n1,2\n").unwrap();
        assert!(
            read_csv(&p, "_raw", &mut Vec::new())
                .unwrap_err()
                .contains("no _raw column")
        );
    }
}
