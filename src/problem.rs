//! Configuration problems with their location: `file:line: [stanza] key: message`.
//!
//! Plan building never stops at the first problem: every stage returns all it found, and the
//! caller decides (a sample with an error is skipped, the others still run).

use std::fmt;
use std::path::{Path, PathBuf};

/// How bad a problem is. Errors skip the sample (or abort `check`); warnings only inform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

/// Where a problem was found. `line` is 1-based; 0 means "the whole file".
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    pub file: PathBuf,
    pub line: u32,
}

impl Location {
    pub fn new(file: impl Into<PathBuf>, line: u32) -> Self {
        Location {
            file: file.into(),
            line,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub severity: Severity,
    pub location: Option<Location>,
    pub stanza: Option<String>,
    pub key: Option<String>,
    pub message: String,
    /// Follows from problems already reported (a sample skipped because of its errors): it is
    /// printed at its level but not counted again.
    pub consequence: bool,
}

impl Problem {
    pub fn error(message: impl Into<String>) -> Self {
        Problem {
            severity: Severity::Error,
            location: None,
            stanza: None,
            key: None,
            message: message.into(),
            consequence: false,
        }
    }

    pub fn warning(message: impl Into<String>) -> Self {
        Problem {
            severity: Severity::Warning,
            ..Problem::error(message)
        }
    }

    pub fn at(mut self, file: &Path, line: u32) -> Self {
        self.location = Some(Location::new(file, line));
        self
    }

    pub fn located(mut self, location: &Location) -> Self {
        self.location = Some(location.clone());
        self
    }

    pub fn stanza(mut self, stanza: &str) -> Self {
        self.stanza = Some(stanza.to_string());
        self
    }

    pub fn key(mut self, key: &str) -> Self {
        self.key = Some(key.to_string());
        self
    }

    pub fn consequence(mut self) -> Self {
        self.consequence = true;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The level word splunkd and people read first.
    pub fn level_word(&self) -> &'static str {
        match self.severity {
            Severity::Warning => "WARN",
            Severity::Error => "ERROR",
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(loc) = &self.location {
            if loc.line > 0 {
                write!(f, "{}:{}: ", loc.file.display(), loc.line)?;
            } else {
                write!(f, "{}: ", loc.file.display())?;
            }
        }
        if let Some(stanza) = &self.stanza {
            write!(f, "[{stanza}] ")?;
        }
        if let Some(key) = &self.key {
            write!(f, "{key}: ")?;
        }
        f.write_str(&self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_has_location_stanza_and_key() {
        let p = Problem::error("expected integer[lo:hi], got \"integer[5]\"")
            .at(Path::new("default/eventgen.conf"), 42)
            .stanza("web.log")
            .key("token.0.replacement");
        assert_eq!(
            p.to_string(),
            "default/eventgen.conf:42: [web.log] token.0.replacement: expected integer[lo:hi], got \"integer[5]\""
        );
    }
}
