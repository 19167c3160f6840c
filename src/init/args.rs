//! The flags and help of `eventgen init`, and the command itself.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use super::{InitOptions, Mode};
use crate::log;

pub const HELP: &str = "\
eventgen init: write an Eventgen app from real log files

USAGE:
    eventgen init LOGFILE... [--app DIR] [--name NAME] [--sourcetype ST] [--index I]
                  [--host H] [--mode sample|replay] [--anonymize] [--lines N] [--force]

Reads each LOGFILE and writes an app folder that generates events like it:
    DIR/default/eventgen.conf   one stanza per LOGFILE, with its tokens
    DIR/samples/NAME            the events (the first --lines lines of LOGFILE)
    DIR/samples/tokens/         the values `file` tokens pick from
    DIR/README.md               what init found
and prints what it found. Then `eventgen check --strict DIR` passes and
`eventgen generate DIR` makes events with the same shapes and fresh values.

WHAT IT FINDS:
    events       one per line; multi-line events (stack traces, XML, Windows event text)
                 when lines opening with a timestamp are followed by lines that do not;
                 then `breaker` is the regex of those opening timestamps
    timestamps   every timestamp of every event, one token per format, checked by reading
                 and rendering it back: ISO 8601 (fractions, Z, offsets), syslog
                 (Jan  5 10:11:12), Apache (10/Oct/2000:13:55:36 -0700), 01/31/2024
                 10:11:12 PM and other numeric dates, 05-Jan-2024, ctime, 20240105101112,
                 dates or times alone, epoch seconds or milliseconds as a time-named key's
                 value (time=1700000000, \"ts\": 1700000000123). Fractions other than
                 microseconds stay as written (%f renders six digits).
    values       IPv4/IPv6 addresses, MACs, GUIDs, e-mails, hex IDs (16+ digits) and the
                 values of well-known keys (user=, src=, dest=, host=, status=, bytes=,
                 also as JSON fields): random ipv4/mac/guid/hex(n)/integer[lo:hi] (range
                 seen) or a file of the values seen
    rate         count and interval from the input's events per second

OPTIONS:
        --app DIR           the app folder to write (default: LOGFILE's stem + _app)
        --name NAME         the sample's name (one LOGFILE; default: its file name)
        --sourcetype ST     sourcetype of the events (default: the sample name's stem)
        --index I           index of the events
        --host H            host of the events
        --mode sample       timestamp tokens get the time of generation (default)
        --mode replay       replaytimestamp tokens; keeps the gaps between the original
                            events (for inputs whose timing matters)
        --anonymize         replace every address, e-mail, user and host value in the
                            sample and the replacement files by a synthetic one
        --lines N           read at most N lines of each LOGFILE (default 10000)
        --force             write into DIR even if it is not empty (overwrites init's files)
    -h, --help              this text

EXAMPLE:
    eventgen init /var/log/syslog --app syslog_app && eventgen generate syslog_app -e 1

EXIT CODES: 0 app written, 2 nothing written (unreadable, empty or binary input, DIR not
empty without --force); a LOGFILE that cannot be used is reported and the others are kept.
";

fn parse(args: Vec<OsString>) -> Result<Option<InitOptions>, String> {
    use lexopt::prelude::*;
    let mut p = lexopt::Parser::from_args(args);
    let mut o = InitOptions::default();
    let value = |p: &mut lexopt::Parser, name: &str| -> Result<String, String> {
        p.value()
            .map_err(|e| format!("{name}: {e}"))?
            .into_string()
            .map_err(|_| format!("{name}: not valid UTF-8"))
    };
    while let Some(arg) = p.next().map_err(|e| e.to_string())? {
        match arg {
            Long("app") => o.app = Some(PathBuf::from(value(&mut p, "--app")?)),
            Long("name") => o.name = Some(value(&mut p, "--name")?),
            Long("sourcetype") => o.sourcetype = Some(value(&mut p, "--sourcetype")?),
            Long("index") => o.index = Some(value(&mut p, "--index")?),
            Long("host") => o.host = Some(value(&mut p, "--host")?),
            Long("mode") => {
                o.mode = match value(&mut p, "--mode")?.as_str() {
                    "sample" => Mode::Sample,
                    "replay" => Mode::Replay,
                    m => return Err(format!("--mode expects sample or replay, got {m:?}")),
                }
            }
            Long("anonymize") | Long("anonymise") => o.anonymize = true,
            Long("lines") => {
                let s = value(&mut p, "--lines")?;
                let n: usize = s
                    .trim()
                    .parse()
                    .map_err(|_| format!("--lines expects a positive integer, got {s:?}"))?;
                if n == 0 {
                    return Err("--lines must be at least 1".into());
                }
                o.lines = Some(n);
            }
            Long("force") => o.force = true,
            Short('h') | Long("help") => return Ok(None),
            Value(v) => o.files.push(PathBuf::from(v)),
            other => return Err(other.unexpected().to_string()),
        }
    }
    Ok(Some(o))
}

/// `eventgen init ARGS` (without `init`): the exit code.
pub fn command(args: Vec<OsString>) -> u8 {
    let opts = match parse(args) {
        Ok(Some(o)) => o,
        Ok(None) => {
            let _ = std::io::stdout().lock().write_all(HELP.as_bytes());
            return crate::cli::EXIT_OK;
        }
        Err(e) => {
            log::error(&format!("{e} (see eventgen init --help)"));
            return crate::cli::EXIT_CONFIG;
        }
    };
    match super::run(&opts) {
        Ok((report, warnings)) => {
            for w in &warnings {
                log::warn(w);
            }
            let mut out = std::io::stdout().lock();
            for line in report {
                let _ = writeln!(out, "{line}");
            }
            crate::cli::EXIT_OK
        }
        Err(errors) => {
            for e in &errors {
                log::error(e);
            }
            crate::cli::EXIT_CONFIG
        }
    }
}
