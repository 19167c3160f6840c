//! How a test that cannot run says so. libtest captures what the print macros write and
//! shows it only for failures, so a skipped test would report a silent "ok"; this writes to
//! the process's stderr directly, where `cargo test` shows it beside the test's result.

use std::io::Write;

/// Prints `SKIP <test>: needs <missing> (<hint>)` and returns, so the caller can `return`.
/// `hint` names the variable that provides what is missing, or that asked to skip.
pub fn skipped(missing: &str, hint: &str) {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("test");
    let _ = writeln!(std::io::stderr(), "SKIP {test}: needs {missing} ({hint})");
}
