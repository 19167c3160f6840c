//! `.conf` text to located stanzas, and Splunk's layering of several files.
//!
//! Syntax as Eventgen reads it (Python configparser, which Splunk's own rules agree with for
//! everything Eventgen configs use): `[stanza]` headers, `key = value` (or `key: value`),
//! whole-line `#`/`;` comments, indented or backslash-continued lines, last duplicate wins.

use std::collections::BTreeMap;

use crate::problem::Location;

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
}
