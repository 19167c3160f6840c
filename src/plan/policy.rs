//! What is an error and what is a warning: key checks against the key table and [`Reader`],
//! typed access to merged settings that records every bad value with its location.

use super::keys::{self, Kind, Scope};
use crate::conf::{Settings, Stanza};
use crate::problem::{Location, Problem};
use crate::timing::rate::RateTable;
use crate::timing::relative::TimeSpec;

pub(super) fn check_keys_stanza(st: &Stanza, problems: &mut Vec<Problem>) {
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

pub(super) fn check_keys_global(global: &Settings, problems: &mut Vec<Problem>) {
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
pub(super) struct Reader<'a> {
    pub settings: &'a Settings,
    pub stanza: &'a str,
    pub problems: &'a mut Vec<Problem>,
}

impl<'a> Reader<'a> {
    pub fn new(settings: &'a Settings, stanza: &'a str, problems: &'a mut Vec<Problem>) -> Self {
        Reader {
            settings,
            stanza,
            problems,
        }
    }

    pub fn error(&mut self, key: &str, msg: String) {
        let mut p = Problem::error(msg).stanza(self.stanza).key(key);
        if let Some(s) = self.settings.get(key) {
            p = p.located(&s.location);
        }
        self.problems.push(p);
    }

    pub fn raw(&self, key: &str) -> Option<&'a str> {
        self.settings.value(key).map(str::trim)
    }

    pub fn default_of(key: &str) -> Option<&'static str> {
        keys::lookup(key).and_then(|k| k.default)
    }

    pub fn parse_or_default<T>(
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

    pub fn bool(&mut self, key: &str) -> bool {
        self.parse_or_default(key, keys::parse_bool)
            .unwrap_or(false)
    }

    pub fn int(&mut self, key: &str) -> i64 {
        self.parse_or_default(key, keys::parse_int).unwrap_or(0)
    }

    pub fn opt_float(&mut self, key: &str) -> Option<f64> {
        self.parse_or_default(key, keys::parse_float)
    }

    pub fn float(&mut self, key: &str) -> f64 {
        self.opt_float(key).unwrap_or(0.0)
    }

    pub fn string(&self, key: &str) -> Option<String> {
        self.settings.value(key).map(|s| s.trim().to_string())
    }

    pub fn choice(&mut self, key: &str) -> String {
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

    pub fn time(&mut self, key: &str) -> Option<TimeSpec> {
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

    pub fn rate(&mut self, key: &str, lo: usize, hi: usize) -> Option<RateTable> {
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
