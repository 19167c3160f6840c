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
        if let Some(why) = keys::no_effect(k, &v.value) {
            if let Some(why) = why {
                problems.push(no_effect(k, why, &v.location, &st.name));
            }
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
        if let Some(why) = keys::no_effect(k, &v.value) {
            if let Some(why) = why {
                problems.push(no_effect(k, why, &v.location, "global"));
            }
        } else if keys::lookup(k).is_none() && !keys::is_token_key(k) {
            problems.push(unknown_key(k, &v.location, "global"));
        }
    }
}

fn no_effect(k: &str, why: &str, loc: &Location, stanza: &str) -> Problem {
    Problem::warning(format!("has no effect in eventgen-rs ({why})"))
        .located(loc)
        .stanza(stanza)
        .key(k)
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

/// What Eventgen 7.2.1 does with a bad value of a key (its `_validateSetting`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tolerance {
    /// The value fails validation and is skipped: the `[global]` value (or the built-in
    /// default) applies. A bad value in `[global]` itself stops Eventgen.
    Fallback,
    /// Python `bool()`: every word but `0`, `false`, `False` and empty is true.
    TrueWord,
}

/// Keys whose bad values Eventgen tolerates; every other bad value is an error.
fn tolerance(key: &str) -> Option<Tolerance> {
    const FALLBACK: &[&str] = &[
        // _intSettings
        "interval",
        "outputWorkers",
        "generatorWorkers",
        "maxIntervalsBeforeFlush",
        "maxQueueLength",
        "splitSample",
        "fileMaxBytes",
        // _floatSettings
        "randomizeCount",
        "delay",
        "timeMultiple",
        // _jsonSettings
        "hourOfDayRate",
        "dayOfWeekRate",
        "minuteOfHourRate",
        "dayOfMonthRate",
        "monthOfYearRate",
        "autotimestamps",
        // _complexSettings
        "sampletype",
        "mode",
        "threading",
        "rater",
        "timezone",
    ];
    if FALLBACK.contains(&key) {
        return Some(Tolerance::Fallback);
    }
    match keys::lookup(key).map(|k| k.kind) {
        Some(Kind::Bool) => Some(Tolerance::TrueWord),
        _ => None,
    }
}

/// What to use after a bad value.
pub(super) enum Bad<'a> {
    /// Parse this instead (the `[global]` value or the built-in default); `None`: unset.
    Fallback(Option<&'a str>),
    /// A boolean taken as true.
    True,
    /// An error was recorded; use the built-in default so the rest of the stanza is checked.
    Error,
}

/// Typed access to merged settings. A bad value is a located warning with Eventgen's
/// behaviour where Eventgen tolerates it (see [`tolerance`]), else a located error; either
/// way a value is returned so that the rest of the stanza is still checked.
pub(super) struct Reader<'a> {
    pub settings: &'a Settings,
    /// The settings under the stanza (`[global]` over built-in defaults), what Eventgen falls
    /// back to; `None` while reading `[global]` itself, where bad values are errors.
    fallback: Option<&'a Settings>,
    pub stanza: &'a str,
    pub problems: &'a mut Vec<Problem>,
}

impl<'a> Reader<'a> {
    pub fn new(
        settings: &'a Settings,
        fallback: Option<&'a Settings>,
        stanza: &'a str,
        problems: &'a mut Vec<Problem>,
    ) -> Self {
        Reader {
            settings,
            fallback,
            stanza,
            problems,
        }
    }

    fn problem(&mut self, p: Problem, key: &str) {
        let mut p = p.stanza(self.stanza).key(key);
        if let Some(s) = self.settings.get(key) {
            p = p.located(&s.location);
        }
        self.problems.push(p);
    }

    pub fn error(&mut self, key: &str, msg: String) {
        self.problem(Problem::error(msg), key);
    }

    pub fn warn(&mut self, key: &str, msg: String) {
        self.problem(Problem::warning(msg), key);
    }

    /// Reports a bad value of `key` (`msg` says what is wrong) by the policy, and says what
    /// to use instead.
    pub fn bad(&mut self, key: &str, msg: String) -> Bad<'a> {
        let own = self.settings.get(key);
        let fallback = self.fallback;
        let from_global = match (own, fallback.and_then(|f| f.get(key))) {
            (Some(a), Some(b)) => a.location == b.location,
            _ => false,
        };
        match (tolerance(key), fallback) {
            (Some(Tolerance::TrueWord), _) => {
                self.warn(
                    key,
                    format!("{msg}; taken as true, as Eventgen does with any word but 0/false"),
                );
                Bad::True
            }
            (Some(Tolerance::Fallback), Some(fb)) if !from_global => {
                let instead = fb.value(key).map(str::trim);
                let what = match instead {
                    Some("") | None => "unset".to_string(),
                    Some(v) => format!("{v:?}"),
                };
                self.warn(
                    key,
                    format!(
                        "{msg}; ignored as Eventgen does: the [global] or built-in value ({what}) applies"
                    ),
                );
                Bad::Fallback(instead)
            }
            (Some(Tolerance::Fallback), _) => {
                self.error(
                    key,
                    format!("{msg} (a bad value in [global] stops Eventgen too)"),
                );
                Bad::Error
            }
            (None, _) => {
                self.error(key, msg);
                Bad::Error
            }
        }
    }

    pub fn raw(&self, key: &str) -> Option<&'a str> {
        self.settings.value(key).map(str::trim)
    }

    fn default_of(key: &str) -> Option<&'static str> {
        keys::lookup(key).and_then(|k| k.default)
    }

    fn parse_or_default<T>(
        &mut self,
        key: &str,
        parse: fn(&str) -> Result<T, String>,
        truth: Option<T>,
    ) -> Option<T> {
        let v = self.raw(key)?;
        match parse(v) {
            Ok(x) => Some(x),
            Err(e) => match self.bad(key, e) {
                Bad::True => truth,
                Bad::Fallback(Some(f)) => parse(f)
                    .ok()
                    .or_else(|| Self::default_of(key).and_then(|d| parse(d).ok())),
                Bad::Fallback(None) => None,
                Bad::Error => Self::default_of(key).and_then(|d| parse(d).ok()),
            },
        }
    }

    pub fn bool(&mut self, key: &str) -> bool {
        self.parse_or_default(key, keys::parse_bool, Some(true))
            .unwrap_or(false)
    }

    pub fn int(&mut self, key: &str) -> i64 {
        self.parse_or_default(key, keys::parse_int, None)
            .unwrap_or(0)
    }

    pub fn opt_float(&mut self, key: &str) -> Option<f64> {
        self.parse_or_default(key, keys::parse_float, None)
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
            if let Some(w) = keys::suggest_choice(key, &v, words) {
                msg.push_str(&format!(" (did you mean {w}?)"));
            }
            if key == "generator" || key == "rater" {
                msg.push_str(
                    "; Eventgen's Python plugins cannot run here (see docs/compatibility.md)",
                );
            }
            let fallback = match self.bad(key, msg) {
                Bad::Fallback(Some(f)) if words.contains(&f) => Some(f.to_string()),
                _ => None,
            };
            return fallback.unwrap_or_else(|| Self::default_of(key).unwrap_or("").to_string());
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
            Err(e) => match self.bad(key, e) {
                Bad::Fallback(Some(f)) => RateTable::parse(f, lo, hi).ok(),
                _ => None,
            },
        }
    }
}
