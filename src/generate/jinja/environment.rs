//! The minijinja environment configured like Eventgen's Jinja2 one (line statements `#`, line
//! comments `##`, no auto-escaping, lenient undefined values, the `random` filter and the
//! time functions), the template loader that stays inside `jinja_template_dir`, and error
//! messages that name the template file and line.

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use minijinja::{AutoEscape, Environment, Error, ErrorKind, UndefinedBehavior};

use super::functions;
use super::preprocess;

/// `template_dir/name` if `name` is a plain relative name (no `..`, not absolute).
pub(super) fn template_path(dir: &Path, name: &str) -> Option<PathBuf> {
    let mut path = dir.to_path_buf();
    for segment in name.split('/') {
        let mut parts = Path::new(segment).components();
        match (parts.next(), parts.next()) {
            (Some(Component::Normal(p)), None) => path.push(p),
            (Some(Component::CurDir), None) => {}
            _ => return None,
        }
    }
    Some(path)
}

pub(super) fn new_environment(template_dir: &Path) -> Environment<'static> {
    let mut env = Environment::new();
    let mut syntax = minijinja::syntax::SyntaxConfig::builder();
    syntax.line_statement_prefix("#").line_comment_prefix("##");
    // The builder only fails on conflicting delimiters; these are Jinja2's defaults.
    if let Ok(syntax) = syntax.build() {
        env.set_syntax(syntax);
    }
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_formatter(functions::python_formatter);
    env.set_undefined_behavior(UndefinedBehavior::Lenient);
    let dir = template_dir.to_path_buf();
    // Templates named by an expression (not a literal) are only known at render time.
    env.set_loader(move |name| {
        let Some(path) = template_path(&dir, name) else {
            return Ok(None);
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => preprocess(&text).map(|p| Some(p.source)).map_err(|e| {
                Error::new(
                    ErrorKind::SyntaxError,
                    format!("line {}: {}", e.line, e.message),
                )
            }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(Error::new(ErrorKind::InvalidOperation, err.to_string())),
        }
    });
    env.add_filter("random", functions::random_filter);
    env.add_function("time_now", functions::time_now);
    env.add_function("time_slice", functions::time_slice);
    env.add_function("__eventgen_list", functions::new_list);
    env.add_function("__eventgen_pyformat", functions::pyformat);
    env.add_function("cycler", minijinja_contrib::globals::cycler);
    env.add_function("joiner", minijinja_contrib::globals::joiner);
    env.set_unknown_method_callback(|state, value, method, args| {
        if value.kind() == minijinja::value::ValueKind::Seq
            && matches!(
                method,
                "append" | "extend" | "insert" | "pop" | "remove" | "clear"
            )
        {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!(
                    "{method}() only works on lists created empty with [] (this list is read-only)"
                ),
            ));
        }
        minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args)
    });
    env
}

/// `path:line: kind: detail`, followed by the errors it wraps (an include's own error).
pub(super) fn describe_error(err: &Error, template_dir: &Path) -> String {
    let mut msg = String::new();
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    let mut first = true;
    while let Some(e) = current {
        if !first {
            msg.push_str("; caused by: ");
        }
        first = false;
        match e.downcast_ref::<Error>() {
            Some(e) => {
                if let Some(name) = e.name() {
                    let _ = write!(msg, "{}", template_dir.join(name).display());
                    if let Some(line) = e.line() {
                        let _ = write!(msg, ":{line}");
                    }
                    msg.push_str(": ");
                }
                let _ = write!(msg, "{}", e.kind());
                if let Some(detail) = e.detail() {
                    let _ = write!(msg, ": {detail}");
                }
            }
            None => {
                let _ = write!(msg, "{e}");
            }
        }
        current = e.source();
    }
    msg
}
