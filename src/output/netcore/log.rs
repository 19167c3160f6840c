//! How the network outputs write messages for people: through the crate's one logger
//! (`crate::log`), which redacts credentials and, inside Splunk, also writes eventgen.log.
//! These helpers only take `format_args!` so call sites stay short.

use std::fmt;

use crate::log::Level;

/// Writes one message at `level`.
pub fn line(level: Level, args: fmt::Arguments<'_>) {
    let logger = crate::log::global();
    if logger.enabled(level) {
        logger.log(level, &args.to_string());
    }
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
