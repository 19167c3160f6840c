//! The `eventgen` binary: parse the command line, run, map to an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(eventgen::cli::run(std::env::args_os().skip(1).collect()))
}
