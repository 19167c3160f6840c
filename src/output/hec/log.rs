//! The one place the network outputs write messages for people: stderr lines that begin with
//! the level word (`INFO `, `WARN `, `ERROR `), which splunkd understands. The lead may later route
//! these through the crate's logger; callers never pass a HEC token here.

use std::fmt;
use std::io::Write;

/// Severity of a message line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn word(self) -> &'static str {
        match self {
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        }
    }
}

/// Writes one line `LEVEL message` to stderr. A failing stderr is ignored: there is nowhere
/// else to report it.
pub fn line(level: Level, args: fmt::Arguments<'_>) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{} {}", level.word(), args);
}

pub fn info(args: fmt::Arguments<'_>) {
    line(Level::Info, args);
}

pub fn warn(args: fmt::Arguments<'_>) {
    line(Level::Warn, args);
}

pub fn error(args: fmt::Arguments<'_>) {
    line(Level::Error, args);
}
