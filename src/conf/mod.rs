//! `.conf` text to located stanzas, and Splunk's layering of several files.
//!
//! Syntax as Eventgen reads it (Python configparser, which Splunk's own rules agree with for
//! everything Eventgen configs use): `[stanza]` headers, `key = value` (or `key: value`),
//! whole-line `#`/`;` comments, indented or backslash-continued lines, last duplicate wins.
//! Lines end as Python reads them ([`text::lines`]): LF, CRLF, or a lone CR, which gets a
//! located warning (other tools may not read such a file as lines).

pub mod reference;
pub mod text;

use std::collections::BTreeMap;

use std::path::Path;

use crate::problem::{Location, Problem};

/// One `key = value` with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub value: String,
    pub location: Location,
}

/// The merged settings of one sample (or of `[global]`), keyed by the case-sensitive key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    map: BTreeMap<String, Setting>,
}

impl Settings {
    pub fn get(&self, key: &str) -> Option<&Setting> {
        self.map.get(key)
    }

    pub fn value(&self, key: &str) -> Option<&str> {
        self.map.get(key).map(|s| s.value.as_str())
    }

    pub fn insert(&mut self, key: impl Into<String>, setting: Setting) {
        self.map.insert(key.into(), setting);
    }

    pub fn remove(&mut self, key: &str) -> Option<Setting> {
        self.map.remove(key)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Setting)> {
        self.map.iter()
    }

    /// For tests: `key = value` pairs written on lines 1, 2, … of `file`.
    #[cfg(test)]
    pub fn from_pairs(file: &str, pairs: &[(&str, &str)]) -> Settings {
        let mut s = Settings::default();
        for (i, (k, v)) in pairs.iter().enumerate() {
            s.insert(
                *k,
                Setting {
                    value: v.to_string(),
                    location: Location::new(file, i as u32 + 1),
                },
            );
        }
        s
    }
}

/// One `[stanza]` of one file, or the merge of same-named stanzas of several layers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stanza {
    pub name: String,
    /// Where the header was (first seen, for merged stanzas).
    pub location: Location,
    pub settings: Settings,
}

/// Parses `.conf` text. Returns the stanzas in order of first appearance (same-named stanzas
/// of the file merged) and the problems found; keys before the first header belong to
/// `[default]`, as in Splunk.
pub fn parse_conf(path: &Path, text: &str) -> (Vec<Stanza>, Vec<Problem>) {
    let mut stanzas: Vec<Stanza> = Vec::new();
    let mut problems = Vec::new();
    let mut current: Option<usize> = None;
    // The key whose value the next indented or backslash-continued line extends.
    let mut open_key: Option<String> = None;
    let mut backslash = false;
    let mut pending_blank = 0usize;

    let stanza_index = |stanzas: &mut Vec<Stanza>, name: &str, line: u32| -> usize {
        if let Some(i) = stanzas.iter().position(|s| s.name == name) {
            return i;
        }
        stanzas.push(Stanza {
            name: name.to_string(),
            location: Location::new(path, line),
            settings: Settings::default(),
        });
        stanzas.len() - 1
    };

    for (n, line) in text::lines(text).enumerate() {
        let line_no = n as u32 + 1;
        let trimmed = line.trim();

        if backslash {
            // Splunk: a trailing backslash continues the value on the next line.
            if let (Some(key), Some(i)) = (&open_key, current)
                && let Some(s) = stanzas[i].settings.map.get_mut(key)
            {
                s.value.push('\n');
                s.value.push_str(trimmed);
                backslash = ends_with_continuation(&s.value);
                if backslash {
                    s.value.pop();
                }
            }
            continue;
        }
        if trimmed.is_empty() {
            pending_blank += 1;
            continue;
        }
        let indented = line.starts_with(' ') || line.starts_with('\t');
        if trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if indented && open_key.is_some() {
            // configparser: a deeper-indented line continues the previous value.
            if let (Some(key), Some(i)) = (&open_key, current)
                && let Some(s) = stanzas[i].settings.map.get_mut(key)
            {
                for _ in 0..pending_blank {
                    s.value.push('\n');
                }
                s.value.push('\n');
                s.value.push_str(trimmed);
            }
            pending_blank = 0;
            continue;
        }
        pending_blank = 0;
        open_key = None;
        if trimmed.starts_with('[') {
            match trimmed.rfind(']') {
                Some(end) if end > 0 => {
                    let name = trimmed[1..end].trim();
                    current = Some(stanza_index(&mut stanzas, name, line_no));
                }
                _ => problems.push(
                    Problem::error(format!("stanza header without closing ']': {trimmed}"))
                        .at(path, line_no),
                ),
            }
            continue;
        }
        let split = trimmed.find(['=', ':']);
        let Some(pos) = split else {
            problems.push(
                Problem::error(format!("expected `key = value`, got {trimmed:?}"))
                    .at(path, line_no),
            );
            continue;
        };
        let key = trimmed[..pos].trim();
        let mut value = trimmed[pos + 1..].trim().to_string();
        if key.is_empty() {
            problems.push(Problem::error("empty key before '='").at(path, line_no));
            continue;
        }
        let i = match current {
            Some(i) => i,
            None => {
                let i = stanza_index(&mut stanzas, "default", line_no);
                current = Some(i);
                i
            }
        };
        backslash = ends_with_continuation(&value);
        if backslash {
            value.pop();
        }
        if let Some(prev) = stanzas[i].settings.get(key) {
            problems.push(
                Problem::warning(format!(
                    "set twice in this stanza (line {} and here); this later line wins, as in Splunk",
                    prev.location.line
                ))
                .at(path, line_no)
                .stanza(&stanzas[i].name)
                .key(key),
            );
        }
        stanzas[i].settings.insert(
            key,
            Setting {
                value,
                location: Location::new(path, line_no),
            },
        );
        open_key = Some(key.to_string());
    }
    (stanzas, problems)
}

/// A value continues on the next line when it ends with an odd number of backslashes.
fn ends_with_continuation(value: &str) -> bool {
    value.bytes().rev().take_while(|&b| b == b'\\').count() % 2 == 1
}

/// Reads and parses a `.conf` file. An unreadable file is one located problem.
pub fn read_conf(path: &Path) -> Result<(Vec<Stanza>, Vec<Problem>), Problem> {
    let bytes =
        std::fs::read(path).map_err(|e| Problem::error(format!("cannot read: {e}")).at(path, 0))?;
    let (text, note) = text::decode(&bytes);
    let (stanzas, mut problems) = parse_conf(path, &text);
    if let Some(line) = text::first_cr_line(&text) {
        let n = text::lines(&text).count();
        problems.insert(
            0,
            Problem::warning(format!(
                "line {line} ends with a lone CR (an old Mac line end); every CR, CRLF and LF \
                 was read as a line end ({n} lines), as Eventgen does, but other tools may \
                 not: save the file with LF or CRLF line ends"
            ))
            .at(path, line as u32),
        );
    }
    if let Some(note) = note {
        problems.insert(0, Problem::warning(note).at(path, 0));
    }
    Ok((stanzas, problems))
}

/// Splunk layering: later layers override keys of same-named stanzas of earlier ones; the
/// stanza order is the order of first appearance.
pub fn layer(layers: Vec<Vec<Stanza>>) -> Vec<Stanza> {
    let mut merged: Vec<Stanza> = Vec::new();
    for stanzas in layers {
        for stanza in stanzas {
            match merged.iter_mut().find(|m| m.name == stanza.name) {
                Some(m) => {
                    for (k, v) in stanza.settings.map {
                        m.settings.map.insert(k, v);
                    }
                }
                None => merged.push(stanza),
            }
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Vec<Stanza>, Vec<Problem>) {
        parse_conf(Path::new("t.conf"), text)
    }

    #[test]
    fn syntax() {
        let (st, probs) = parse(
            "# comment\n[global]\ncount = 5  # five\n; also comment\n\n[web\\.log]\ntoken.0.token = \\d{2}:\\d{2}\nkey: value\nlong = a \\\n  b\nmulti = one\n   two\ncount = 7\n",
        );
        assert!(probs.is_empty(), "{probs:?}");
        assert_eq!(st.len(), 2);
        assert_eq!(st[0].settings.value("count"), Some("5  # five"));
        let web = &st[1];
        assert_eq!(web.name, "web\\.log");
        assert_eq!(web.settings.value("token.0.token"), Some("\\d{2}:\\d{2}"));
        assert_eq!(web.settings.value("key"), Some("value"));
        assert_eq!(web.settings.value("long"), Some("a \nb"));
        assert_eq!(web.settings.value("multi"), Some("one\ntwo"));
        assert_eq!(web.settings.value("count"), Some("7"));
        assert_eq!(web.settings.get("count").unwrap().location.line, 13);
    }

    #[test]
    fn problems_are_located_and_parsing_continues() {
        let (st, probs) = parse("[a]\nthis has no delimiter\nx = 1\n[broken\n");
        assert_eq!(st[0].settings.value("x"), Some("1"));
        assert_eq!(probs.len(), 2);
        assert!(
            probs[0].to_string().starts_with("t.conf:2: "),
            "{}",
            probs[0]
        );
        assert!(probs[1].to_string().starts_with("t.conf:4: "));
    }

    #[test]
    fn keys_before_a_header_go_to_default() {
        let (st, _) = parse("a = 1\n[x]\nb = 2\n");
        assert_eq!(st[0].name, "default");
        assert_eq!(st[0].settings.value("a"), Some("1"));
    }

    #[test]
    fn layering_overrides_and_keeps_order() {
        let (d, _) = parse_conf(
            Path::new("default/eventgen.conf"),
            "[s]\na = 1\nb = 2\n[t]\nc = 3\n",
        );
        let (l, _) = parse_conf(Path::new("local/eventgen.conf"), "[u]\nd = 4\n[s]\nb = 9\n");
        let merged = layer(vec![d, l]);
        let names: Vec<_> = merged.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["s", "t", "u"]);
        assert_eq!(merged[0].settings.value("a"), Some("1"));
        let b = merged[0].settings.get("b").unwrap();
        assert_eq!(b.value, "9");
        assert!(b.location.file.starts_with("local"));
    }
}
