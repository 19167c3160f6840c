//! Eventgen's `jinja` generator: a Jinja2 template (rendered with minijinja) whose output is a
//! stream of JSON objects, one per event.
//!
//! [`JinjaPlan::build`] is the plan-time half: it reads, rewrites (see [`preprocess`]) and
//! compiles the target template and every template it names with a string literal, parses
//! `jinja_variables`, and configures the environment like Eventgen's (line statements `#`, line
//! comments `##`, `do`, `with`, `break`/`continue`, no auto-escaping). [`JinjaPlan::render`] is
//! the run-time half: one call per cycle, with the cycle's variables and the worker's RNG (used
//! by the `random` filter and `eventgen_target_time_epoch`, so seeded runs are reproducible).
//!
//! Template functions: `time_now([date_format])` and `time_slice(earliest, latest, count,
//! slices[, date_format])` return `[epoch, formatted]` (Eventgen's `{% time_now %}` and
//! `{% time_slice %}` tags are rewritten into calls to them); `cycler`, `joiner`, and Python
//! string/dict methods (`'a,b'.split(',')`, `d.items()`) as in minijinja-contrib.

mod events;
mod functions;
mod preprocess;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use minijinja::value::Value;
use minijinja::{AutoEscape, Environment, Error, ErrorKind, UndefinedBehavior};

use crate::rng::Rng;
use crate::timing::{MICROS_PER_SEC, Micros, Tz};

pub use preprocess::{PreprocessError, preprocess};

/// Eventgen's default format for `time_now_formatted` / `time_target_formatted`.
const DEFAULT_DATE_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%z";

/// The context variable holding the per-render state (RNG, clock); the leading underscores keep
/// it out of `import`ed modules' exports and away from user variable names.
const RENDER_STATE_VAR: &str = "__eventgen_state";

/// A compiled jinja sample: immutable, shared by all workers.
pub struct JinjaPlan {
    env: Environment<'static>,
    dir: PathBuf,
    target: String,
    /// `template_dir/target`, for messages.
    label: String,
    /// The `jinja_variables` object (empty map if unset).
    variables: Value,
}

impl std::fmt::Debug for JinjaPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JinjaPlan")
            .field("template", &self.label)
            .finish_non_exhaustive()
    }
}

/// What one render (cycle) knows about its run.
#[derive(Debug, Clone, Copy)]
pub struct JinjaCycle {
    /// The cycle index within this execution, from 0 (`eventgen_count`).
    pub cycle: u64,
    /// Cycles in this execution, the sample's `count` (`eventgen_maxcount`).
    pub max_count: u64,
    pub earliest: Micros,
    pub latest: Micros,
    /// The sample's "now" (`time_now`).
    pub now: Micros,
    /// The sample's time zone, for formatted times and `eventgen_earliest`/`_latest`.
    pub tz: Tz,
}

/// One event from a template: `_raw`, `_time` (epoch seconds in the template; `None` if absent
/// or not numeric, for the caller to stamp) and the optional metadata keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JinjaEvent {
    pub raw: String,
    pub time: Option<Micros>,
    pub host: Option<String>,
    pub source: Option<String>,
    pub sourcetype: Option<String>,
    pub index: Option<String>,
}

/// [`JinjaEvent`] borrowed from the rendered text (owned only where a JSON string had escapes).
#[derive(Debug)]
pub struct JinjaEventRef<'a> {
    pub raw: Cow<'a, str>,
    pub time: Option<Micros>,
    pub host: Option<Cow<'a, str>>,
    pub source: Option<Cow<'a, str>>,
    pub sourcetype: Option<Cow<'a, str>>,
    pub index: Option<Cow<'a, str>>,
}

impl JinjaEventRef<'_> {
    pub fn to_owned(&self) -> JinjaEvent {
        let own = |v: &Option<Cow<'_, str>>| v.as_deref().map(str::to_string);
        JinjaEvent {
            raw: self.raw.to_string(),
            time: self.time,
            host: own(&self.host),
            source: own(&self.source),
            sourcetype: own(&self.sourcetype),
            index: own(&self.index),
        }
    }
}

impl JinjaPlan {
    /// Loads `target` from `template_dir` (an absolute, resolved directory) with every template
    /// it names by a string literal, and parses `variables_json` (a JSON object). Errors carry
    /// the template path and line.
    pub fn build(
        template_dir: &Path,
        target: &str,
        variables_json: Option<&str>,
    ) -> Result<JinjaPlan, String> {
        if !template_dir.is_dir() {
            return Err(format!(
                "jinja_template_dir {} is not a directory",
                template_dir.display()
            ));
        }
        let variables = match variables_json {
            None => Value::from(BTreeMap::<String, Value>::new()),
            Some(text) => parse_variables(text)?,
        };
        let mut env = new_environment(template_dir);
        let label = template_dir.join(target).display().to_string();
        let mut pending = vec![(target.to_string(), None::<(String, usize)>)];
        let mut seen = std::collections::HashSet::new();
        while let Some((name, referrer)) = pending.pop() {
            if !seen.insert(name.clone()) {
                continue;
            }
            let path = template_path(template_dir, &name);
            let text = match path.as_deref().map(std::fs::read_to_string) {
                Some(Ok(text)) => text,
                Some(Err(err)) => {
                    let shown = template_dir.join(&name).display().to_string();
                    return Err(match &referrer {
                        Some((from, line)) => format!(
                            "{}:{line}: cannot read template {shown}: {err}",
                            template_dir.join(from).display()
                        ),
                        None => format!("cannot read jinja template {shown}: {err}"),
                    });
                }
                None => return Err(format!("invalid jinja template name {name:?}")),
            };
            let shown = template_dir.join(&name).display().to_string();
            let pre =
                preprocess(&text).map_err(|e| format!("{shown}:{}: {}", e.line, e.message))?;
            for r in pre.references {
                let exists = template_path(template_dir, &r.name).is_some_and(|p| p.is_file());
                if exists {
                    pending.push((r.name, Some((name.clone(), r.line))));
                } else if !r.optional {
                    return Err(format!(
                        "{shown}:{}: template {:?} not found in {}",
                        r.line,
                        r.name,
                        template_dir.display()
                    ));
                }
            }
            env.add_template_owned(name.clone(), pre.source)
                .map_err(|e| describe_error(&e, template_dir))?;
        }
        Ok(JinjaPlan {
            env,
            dir: template_dir.to_path_buf(),
            target: target.to_string(),
            label,
            variables,
        })
    }

    /// The target template's path, for messages.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Renders cycle `ctx.cycle` and appends its events to `out`. On an error (template error,
    /// output that is not JSON objects, an event without `_raw`) the events parsed before it
    /// are still appended.
    pub fn render(
        &self,
        ctx: &JinjaCycle,
        rng: &mut Rng,
        out: &mut Vec<JinjaEvent>,
    ) -> Result<(), String> {
        self.start(ctx)
            .render(ctx.cycle, rng, &mut |e| out.push(e.to_owned()))
    }

    /// A renderer for the cycles of one job: `ctx` gives the window (everything but `cycle`).
    pub fn start(&self, ctx: &JinjaCycle) -> JinjaRun<'_> {
        let earliest = micros_to_secs(ctx.earliest);
        let latest = micros_to_secs(ctx.latest);
        let max_count = ctx.max_count;
        let context = Arc::new(RenderState {
            rng: Mutex::new(Rng::seed(0)),
            now: ctx.now,
            tz: ctx.tz,
            max_count,
            earliest_text: Value::from(python_datetime(ctx.earliest, ctx.tz)),
            latest_text: Value::from(python_datetime(ctx.latest, ctx.tz)),
            earliest,
            latest,
            slice_size: (latest - earliest) / max_count.max(1) as f64,
            cycle: AtomicU64::new(0),
            target: [const { AtomicU64::new(0) }; 3],
            variables: self.variables.clone(),
        });
        JinjaRun {
            plan: self,
            template: self
                .env
                .get_template(&self.target)
                .map_err(|e| describe_error(&e, &self.dir)),
            root: Value::from_dyn_object(context.clone()),
            context,
        }
    }
}

/// Renders the cycles of one job: the template is looked up and the context object made once,
/// and each cycle only updates the context's cycle values.
pub struct JinjaRun<'p> {
    plan: &'p JinjaPlan,
    template: Result<minijinja::Template<'p, 'p>, String>,
    context: Arc<RenderState>,
    /// `context` as the template's root value.
    root: Value,
}

impl JinjaRun<'_> {
    /// Renders cycle `cycle` with the worker's `rng` and hands each event to `each`. On an
    /// error (template error, output that is not JSON objects, an event without `_raw`) the
    /// events parsed before it have been handed over.
    pub fn render(
        &mut self,
        cycle: u64,
        rng: &mut Rng,
        each: &mut dyn FnMut(JinjaEventRef<'_>),
    ) -> Result<(), String> {
        let cx = &*self.context;
        let target_earliest = cx.earliest + cx.slice_size * cycle as f64;
        let target_latest = target_earliest + cx.slice_size;
        let lo = (target_earliest * 100.0).floor() as i64;
        let hi = ((target_latest * 100.0).floor() as i64).max(lo);
        let target_epoch = rng.range_inclusive(lo, hi) as f64 / 100.0;
        cx.cycle.store(cycle, Ordering::Relaxed);
        for (slot, v) in cx
            .target
            .iter()
            .zip([target_earliest, target_latest, target_epoch])
        {
            slot.store(v.to_bits(), Ordering::Relaxed);
        }
        let template = self.template.as_ref().map_err(Clone::clone)?;
        *cx.lock_rng() = rng.clone();
        let rendered = template
            .render(self.root.clone())
            .map_err(|e| describe_error(&e, &self.plan.dir));
        *rng = cx.lock_rng().clone();
        events::parse_events(&rendered?, &self.plan.label, each)
    }
}

/// The template's root context and the per-render state its functions reach: the worker's RNG
/// (copied in before a render and back after it), the clock, the window's and the cycle's
/// `eventgen_*` values, then `jinja_variables` (an `eventgen_*` name shadows a variable of the
/// same name).
#[derive(Debug)]
pub(crate) struct RenderState {
    pub(crate) rng: Mutex<Rng>,
    pub(crate) now: Micros,
    pub(crate) tz: Tz,
    max_count: u64,
    earliest_text: Value,
    latest_text: Value,
    earliest: f64,
    latest: f64,
    slice_size: f64,
    cycle: AtomicU64,
    /// `eventgen_target_time_earliest`, `_latest` and `_epoch`, as `f64` bits.
    target: [AtomicU64; 3],
    variables: Value,
}

/// The names [`RenderState`] answers besides `jinja_variables`.
const EVENTGEN_VARIABLES: [&str; 11] = [
    "eventgen_count",
    "eventgen_maxcount",
    "eventgen_earliest",
    "eventgen_latest",
    "eventgen_earliest_epoch",
    "eventgen_latest_epoch",
    "eventgen_target_time_earliest",
    "eventgen_target_time_latest",
    "eventgen_target_time_slice_size",
    "eventgen_target_time_epoch",
    RENDER_STATE_VAR,
];

impl RenderState {
    pub(crate) fn lock_rng(&self) -> std::sync::MutexGuard<'_, Rng> {
        self.rng.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn target(&self, k: usize) -> Value {
        Value::from(f64::from_bits(self.target[k].load(Ordering::Relaxed)))
    }
}

impl minijinja::value::Object for RenderState {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let name = key.as_str()?;
        let Some(field) = name.strip_prefix("eventgen_") else {
            if name == RENDER_STATE_VAR {
                return Some(Value::from_dyn_object(self.clone()));
            }
            return self.variables.as_object()?.get_value(key);
        };
        Some(match field {
            "count" => Value::from(self.cycle.load(Ordering::Relaxed)),
            "maxcount" => Value::from(self.max_count),
            "earliest" => self.earliest_text.clone(),
            "latest" => self.latest_text.clone(),
            "earliest_epoch" => Value::from(self.earliest),
            "latest_epoch" => Value::from(self.latest),
            "target_time_earliest" => self.target(0),
            "target_time_latest" => self.target(1),
            "target_time_slice_size" => Value::from(self.slice_size),
            "target_time_epoch" => self.target(2),
            _ => return self.variables.as_object()?.get_value(key),
        })
    }

    fn enumerate(self: &Arc<Self>) -> minijinja::value::Enumerator {
        let mut keys: Vec<Value> = EVENTGEN_VARIABLES.iter().map(|k| Value::from(*k)).collect();
        if let Ok(names) = self.variables.try_iter() {
            keys.extend(
                names.filter(|k| !k.as_str().is_some_and(|k| EVENTGEN_VARIABLES.contains(&k))),
            );
        }
        minijinja::value::Enumerator::Values(keys)
    }
}

/// `template_dir/name` if `name` is a plain relative name (no `..`, not absolute).
fn template_path(dir: &Path, name: &str) -> Option<PathBuf> {
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

fn new_environment(template_dir: &Path) -> Environment<'static> {
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
fn describe_error(err: &Error, template_dir: &Path) -> String {
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

fn parse_variables(text: &str) -> Result<Value, String> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v @ serde_json::Value::Object(_)) => Ok(json_to_value(v)),
        Ok(_) => Err(format!(
            "jinja_variables must be a JSON object, got {text:?}"
        )),
        Err(err) => Err(format!(
            "jinja_variables is not valid JSON ({err}): {text:?}"
        )),
    }
}

fn json_to_value(v: serde_json::Value) -> Value {
    use serde_json::Value as J;
    match v {
        J::Null => Value::from(()),
        J::Bool(b) => Value::from(b),
        J::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Value::from(i),
            (None, Some(u)) => Value::from(u),
            _ => Value::from(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => Value::from(s),
        J::Array(items) => Value::from(items.into_iter().map(json_to_value).collect::<Vec<_>>()),
        J::Object(map) => Value::from(
            map.into_iter()
                .map(|(k, v)| (k, json_to_value(v)))
                .collect::<BTreeMap<String, Value>>(),
        ),
    }
}

fn micros_to_secs(t: Micros) -> f64 {
    t as f64 / MICROS_PER_SEC as f64
}

/// Python's `str(datetime)`: `YYYY-MM-DD HH:MM:SS[.ffffff]`, in the sample's zone.
fn python_datetime(t: Micros, tz: Tz) -> String {
    let dt = tz.datetime(t);
    if t.rem_euclid(MICROS_PER_SEC) == 0 {
        dt.format("%Y-%m-%d %H:%M:%S").to_string()
    } else {
        dt.format("%Y-%m-%d %H:%M:%S.%6f").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;
    use std::io::Write;

    const UTC: Tz = Tz::Fixed(match FixedOffset::east_opt(0) {
        Some(o) => o,
        None => panic!(),
    });

    /// Eventgen's own configs and templates: `EVENTGEN_CORPUS`, else `eventgen-corpus` in a
    /// `shared` folder beside the repository. `None`, after a SKIP line, when neither exists.
    fn corpus() -> Option<PathBuf> {
        let named = std::env::var_os("EVENTGEN_CORPUS").map(PathBuf::from);
        let dir = named.clone().unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/eventgen-corpus")
        });
        if dir.is_dir() {
            return Some(dir);
        }
        assert!(
            named.is_none(),
            "EVENTGEN_CORPUS={} is not a folder",
            dir.display()
        );
        // Straight to stderr: libtest hides what the print macros write in passing tests.
        let thread = std::thread::current();
        let line = format!(
            "SKIP {}: needs Eventgen 7.2.1's configuration corpus (not at \
             ../shared/eventgen-corpus; set EVENTGEN_CORPUS to its folder)\n",
            thread.name().unwrap_or("test")
        );
        let _ = std::io::stderr().write_all(line.as_bytes());
        None
    }

    /// A scratch template directory, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str, files: &[(&str, &str)]) -> TempDir {
            let dir =
                std::env::temp_dir().join(format!("eventgen-jinja-{}-{tag}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            for (name, text) in files {
                let path = dir.join(name);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, text).unwrap();
            }
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn cycle(cycle: u64, max_count: u64) -> JinjaCycle {
        JinjaCycle {
            cycle,
            max_count,
            earliest: 1_614_834_364_000_000,
            latest: 1_614_834_367_250_000,
            now: 1_614_834_367_250_000,
            tz: UTC,
        }
    }

    fn render_with(plan: &JinjaPlan, seed: u64) -> (Vec<JinjaEvent>, Result<(), String>) {
        let mut out = Vec::new();
        let res = plan.render(&cycle(0, 1), &mut Rng::seed(seed), &mut out);
        (out, res)
    }

    fn render_ok(dir: &Path, target: &str, vars: &str) -> Vec<JinjaEvent> {
        let plan = JinjaPlan::build(dir, target, Some(vars)).unwrap_or_else(|e| panic!("{e}"));
        let (events, res) = render_with(&plan, 7);
        res.unwrap_or_else(|e| panic!("{target}: {e}"));
        events
    }

    fn inline(files: &[(&str, &str)], target: &str, vars: &str) -> Vec<JinjaEvent> {
        let dir = TempDir::new(target, files);
        render_ok(&dir.0, target, vars)
    }

    #[test]
    fn large_test_templates() {
        let Some(root) = corpus() else { return };
        let dir = root.join("tests/large/sample/templates");
        let events = render_ok(&dir, "test_jinja_tmpl_simple.j2", r#"{"large_number":10}"#);
        assert_eq!(events.len(), 10);
        for (i, e) in events.iter().enumerate() {
            assert_eq!(
                e.raw,
                format!(
                    "2021-03-04T05:06:07.250000 test jinja template generator, seq: {}/10",
                    i + 1
                )
                .replace(".250000", "")
            );
            assert_eq!(e.time, Some(1_614_834_367_000_000));
        }
        let dir4 = root.join("tests/large/sample/templates_4_test");
        let events = render_ok(&dir4, "test_jinja_tmpl_dir.j2", r#"{"large_number":10}"#);
        assert_eq!(events.len(), 10);
        assert!(
            events[9]
                .raw
                .ends_with("test jinja template directory conf, seq: 10/10"),
            "{}",
            events[9].raw
        );
    }

    #[test]
    fn advance_template_slices_time_like_eventgen() {
        let Some(root) = corpus() else { return };
        let dir = root.join("tests/large/sample/templates");
        let vars = r#"{"large_number":3, "username": "admin", "flag": true}"#;
        let plan = JinjaPlan::build(&dir, "test_jinja_tmpl_advance.j2", Some(vars)).unwrap();
        let mut out = Vec::new();
        let mut rng = Rng::seed(1);
        for c in 0..3 {
            plan.render(&cycle(c, 3), &mut rng, &mut out).unwrap();
        }
        assert_eq!(out.len(), 9);
        let stamps = [
            "1970-01-01T00:24:16",
            "1970-01-01T00:27:58",
            "1970-01-01T00:31:40",
        ];
        let times = [1_456_200_000, 1_678_400_000, 1_900_600_000];
        for (k, e) in out.iter().enumerate() {
            let j = k % 3;
            let lines: Vec<&str> = e.raw.lines().collect();
            assert_eq!(lines.len(), 3, "{:?}", e.raw);
            assert_eq!(
                lines[0],
                format!(
                    "{} [admin] test jinja template advance, switch=True, seq: {}/3",
                    stamps[j],
                    j + 1
                )
            );
            assert_eq!(
                lines[1],
                format!("    this is the 2nd line, seq:{}/3", j + 1)
            );
            assert_eq!(lines[2], format!("this is the 3rd line, seq:{}/3", j + 1));
            assert_eq!(e.time, Some(times[j]));
        }
    }

    #[test]
    fn every_sample_conf_template_renders() {
        let Some(root) = corpus() else { return };
        let dir = root.join("tests/sample_eventgen_conf/jinja/templates");
        let vars = r#"{"large_number":10, "userIDRange": 500, "userMessage": "mockMessage", "sender": "mockSender"}"#;
        // (template, events expected, or the error expected)
        let ok: &[(&str, usize)] = &[
            ("OrdRejReason_103.template", 0),
            ("filled_order_cancel.template", 5),
            ("fix_includes.template", 0),
            ("new_order_with_fill.template", 3),
            ("new_order_with_fill_times.template", 3),
            ("order_errors.template", 2),
            ("order_over_max.template", 2),
            ("random_slice.template", 3),
            ("random_slice_count.template", 0),
            ("test_event.template", 3),
            ("test_event2.template", 1),
            ("test_event3.template", 1),
            ("test_jinja.template", 1),
            ("test_jinja_advanced.template", 11),
            ("test_jinja_advanced_extension.template", 1),
            ("test_jinja_basic.template", 10),
            ("test_jinja_loop.template", 10),
            ("test_jinja_timeexamples.template", 26),
            ("test_jinja_timeslice 2.template", 10),
            ("test_jinja_timeslice.template", 10),
            ("timeslice_examples.template", 21),
            ("examples/test_jinja_advanced_extension.template", 1),
            ("examples/trans_jinja.template", 40),
        ];
        for (target, n) in ok {
            let events = render_ok(&dir, target, vars);
            assert_eq!(events.len(), *n, "{target}");
            for e in &events {
                assert!(!e.raw.is_empty(), "{target}");
            }
        }
        // Broken upstream too: invalid JSON, non-JSON output, bad syntax, a missing include.
        let render_err: &[(&str, &str)] = &[
            (
                "order_cancel_request.template",
                "not a stream of JSON objects",
            ),
            ("count_test.template", "<-- pass"),
            ("CxlRejReason.template", "not a stream of JSON objects"),
        ];
        for (target, expected) in render_err {
            let plan = JinjaPlan::build(&dir, target, Some(vars)).unwrap_or_else(|e| panic!("{e}"));
            let (events, res) = render_with(&plan, 3);
            let err = res.unwrap_err();
            assert!(err.contains(expected), "{target}: {err}");
            assert!(err.contains(target), "{target}: {err}");
            assert!(events.is_empty(), "{target}");
        }
        // `{% from 'x' import %}` (no names) is a syntax error in Jinja2 but accepted by
        // minijinja; the template then fails on its undefined `earliest`.
        let plan = JinjaPlan::build(&dir, "import_test.template", Some(vars)).unwrap();
        let err = render_with(&plan, 1).1.unwrap_err();
        assert!(
            err.contains("import_test.template:4: missing argument: time_slice needs earliest"),
            "{err}"
        );
        let err = JinjaPlan::build(&dir, "examples/test_jinja_advanced.template", Some(vars))
            .unwrap_err();
        assert!(err.contains("examples/test_jinja_advanced.template:3: template \"order_over_max2.template\" not found"), "{err}");
    }

    #[test]
    fn fix_templates_fill_in_their_imports() {
        let Some(root) = corpus() else { return };
        let dir = root.join("tests/sample_eventgen_conf/jinja/templates");
        let events = render_ok(&dir, "filled_order_cancel.template", "{}");
        let first = &events[0];
        assert_eq!(first.source.as_deref(), Some("filled_order_cancel"));
        assert_eq!(first.sourcetype.as_deref(), Some("fix"));
        // Fields are separated by raw SOH characters (escaped for JSON parsing, kept in _raw).
        // PRICE (tag 44) is "<int>.<two digits>", built with '%02d' % n.
        let price = first
            .raw
            .split("\u{1}44=")
            .nth(1)
            .unwrap()
            .split('\u{1}')
            .next()
            .unwrap();
        let (units, cents) = price.split_once('.').unwrap();
        assert!(
            units.parse::<u32>().is_ok() && cents.len() == 2,
            "{price:?} {units:?} {cents:?}"
        );
        // The slice time is formatted with %Y%m%d-%H:%M:%S.%f and lies before earliest.
        let t = first.time.unwrap();
        assert!(
            t < cycle(0, 1).earliest && t > cycle(0, 1).earliest - 61 * MICROS_PER_SEC,
            "{t}"
        );
        assert!(first.raw.contains("52=20210304-05:0"), "{}", first.raw);
    }

    #[test]
    fn same_seed_same_output() {
        let Some(root) = corpus() else { return };
        let dir = root.join("tests/sample_eventgen_conf/jinja/templates");
        let plan = JinjaPlan::build(&dir, "order_errors.template", None).unwrap();
        let (a, _) = render_with(&plan, 42);
        let (b, _) = render_with(&plan, 42);
        let (c, _) = render_with(&plan, 43);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn loops_includes_imports_and_python_idioms() {
        let files = [
            (
                "main.j2",
                concat!(
                    "{% from 'lib.j2' import wrap %}{% import 'lib.j2' as lib %}\n",
                    "{% set acc = [] %}{% for i in range(5) %}{% if i == 3 %}{% break %}{% endif %}",
                    "{% do acc.append(i) %}{% endfor %}\n",
                    "# for x in acc\n",
                    "## a line comment {% nothing %}\n",
                    "{\"_time\": {{ eventgen_earliest_epoch }}, \"_raw\": \"{{ wrap(x) }} {{ lib.NAME }} {{ '%03d' % x }} {{ acc|length }} {{ acc[-1] }}\"}\n",
                    "# endfor\n",
                    "{% include 'part.j2' %}\n",
                ),
            ),
            (
                "lib.j2",
                "{% macro wrap(v) %}<{{ v }}>{% endmacro %}{% set NAME = 'lib' %}",
            ),
            (
                "part.j2",
                "{\"_raw\": \"{{ 'a,b'.split(',')|join('+') }} {{ none }} {{ flag }} {{ 1.0 }}\", \"host\": \"{{ myhost }}\"}",
            ),
        ];
        let events = inline(&files, "main.j2", r#"{"myhost": "web01", "flag": false}"#);
        let raws: Vec<&str> = events.iter().map(|e| e.raw.as_str()).collect();
        assert_eq!(
            raws,
            [
                "<0> lib 000 3 2",
                "<1> lib 001 3 2",
                "<2> lib 002 3 2",
                "a+b None False 1.0"
            ]
        );
        assert_eq!(events[0].time, Some(1_614_834_364_000_000));
        assert_eq!(events[3].host.as_deref(), Some("web01"));
        assert_eq!(events[3].time, None);
    }

    #[test]
    fn eventgen_variables_per_cycle() {
        let files = [(
            "v.j2",
            "{\"_raw\": \"{{ eventgen_count }}/{{ eventgen_maxcount }} {{ eventgen_earliest }} {{ eventgen_latest }} {{ eventgen_target_time_earliest }} {{ eventgen_target_time_slice_size }}\", \"_time\": {{ eventgen_target_time_epoch }}}",
        )];
        let dir = TempDir::new("vars", &files);
        let plan = JinjaPlan::build(&dir.0, "v.j2", Some(r#"{"eventgen_count": "user"}"#)).unwrap();
        let mut out = Vec::new();
        let mut rng = Rng::seed(5);
        plan.render(&cycle(1, 2), &mut rng, &mut out).unwrap();
        let e = &out[0];
        assert_eq!(
            e.raw,
            "1/2 2021-03-04 05:06:04 2021-03-04 05:06:07.250000 1614834365.625 1.625"
        );
        let t = e.time.unwrap();
        assert!(
            (1_614_834_365_625_000..=1_614_834_367_250_000).contains(&t),
            "{t}"
        );
        assert_eq!(t % 10_000, 0, "0.01 s resolution");
    }

    #[test]
    fn time_functions_positional_keyword_and_formats() {
        let files = [(
            "t.j2",
            concat!(
                "{% time_slice 1234, 2345, 1, 5 %}{\"_raw\": \"{{ time_target_formatted }}\", \"_time\": {{ time_target_epoch }}}\n",
                "{% time_slice earliest=\"1234\", latest=\"2345\", count=\"2\", slices=5, date_format=\"%H:%M:%S.%f|%z|%%\" %}",
                "{\"_raw\": \"{{ time_target_formatted }}\", \"_time\": {{ time_target_epoch }}}\n",
                "# time_now date_format='%Y%m%d-%H:%M:%S.%f'\n",
                "{\"_raw\": \"{{ time_now_formatted }}\", \"_time\": \"{{ time_now_epoch }}\"}\n",
                "{% set e, f = time_now() %}{\"_raw\": \"{{ f }}\", \"_time\": {{ e }}}\n",
            ),
        )];
        let events = inline(&files, "t.j2", "{}");
        let got: Vec<(&str, Option<i64>)> =
            events.iter().map(|e| (e.raw.as_str(), e.time)).collect();
        assert_eq!(
            got,
            [
                ("1970-01-01T00:24:16", Some(1_456_200_000)),
                ("00:27:58.400000||%", Some(1_678_400_000)),
                ("20210304-05:06:07.250000", Some(1_614_834_367_000_000)),
                ("2021-03-04T05:06:07", Some(1_614_834_367_000_000)),
            ]
        );
    }

    #[test]
    fn build_errors_name_template_and_line() {
        let dir = TempDir::new(
            "errors",
            &[
                ("bad.j2", "ok\n{% for x in %}\n{% endfor %}\n"),
                ("uses_bad.j2", "{% include 'bad.j2' %}"),
                ("delta.j2", "\n{% time_delta 5 %}"),
                ("missing.j2", "a\n\n{% include 'nope.j2' %}"),
                (
                    "optional.j2",
                    "{% include 'nope.j2' ignore missing %}{\"_raw\": \"x\"}",
                ),
            ],
        );
        let dir_s = dir.0.display().to_string();
        let err = JinjaPlan::build(&dir.0, "bad.j2", None).unwrap_err();
        assert!(
            err.starts_with(&format!("{dir_s}/bad.j2:2: syntax error")),
            "{err}"
        );
        let err = JinjaPlan::build(&dir.0, "uses_bad.j2", None).unwrap_err();
        assert!(err.contains("bad.j2:2: syntax error"), "{err}");
        let err = JinjaPlan::build(&dir.0, "delta.j2", None).unwrap_err();
        assert!(
            err.starts_with(&format!("{dir_s}/delta.j2:2: the {{% time_delta %}} tag")),
            "{err}"
        );
        let err = JinjaPlan::build(&dir.0, "missing.j2", None).unwrap_err();
        assert!(
            err.starts_with(&format!(
                "{dir_s}/missing.j2:3: template \"nope.j2\" not found"
            )),
            "{err}"
        );
        assert_eq!(render_ok(&dir.0, "optional.j2", "{}").len(), 1);
        let err = JinjaPlan::build(&dir.0, "absent.j2", None).unwrap_err();
        assert!(err.contains("absent.j2"), "{err}");
        let err = JinjaPlan::build(&dir.0.join("nodir"), "bad.j2", None).unwrap_err();
        assert!(err.contains("not a directory"), "{err}");
        let err = JinjaPlan::build(&dir.0, "optional.j2", Some("{\"a\": ")).unwrap_err();
        assert!(
            err.starts_with("jinja_variables is not valid JSON"),
            "{err}"
        );
        let err = JinjaPlan::build(&dir.0, "optional.j2", Some("[1]")).unwrap_err();
        assert!(
            err.starts_with("jinja_variables must be a JSON object"),
            "{err}"
        );
    }

    #[test]
    fn render_errors_keep_earlier_events() {
        let dir = TempDir::new(
            "render-errors",
            &[
                (
                    "noraw.j2",
                    "{\"_raw\": \"one\"}\n{\"_time\": 5}\n{\"_raw\": \"three\"}",
                ),
                (
                    "garbage.j2",
                    "{% for i in range(2) %}{\"_raw\": \"{{ i }}\"}{% endfor %}\n{\"_raw\": oops}",
                ),
                ("runtime.j2", "{\"_raw\": \"a\"}{{ 1 // 0 }}"),
            ],
        );
        let plan = JinjaPlan::build(&dir.0, "noraw.j2", None).unwrap();
        let (events, res) = render_with(&plan, 1);
        assert_eq!(events.len(), 1);
        assert!(
            res.unwrap_err()
                .contains("noraw.j2: event 2 has no \"_raw\" field")
        );
        let plan = JinjaPlan::build(&dir.0, "garbage.j2", None).unwrap();
        let (events, res) = render_with(&plan, 1);
        assert_eq!(
            events.iter().map(|e| e.raw.as_str()).collect::<Vec<_>>(),
            ["0", "1"]
        );
        let err = res.unwrap_err();
        assert!(err.contains("garbage.j2") && err.contains("oops"), "{err}");
        let plan = JinjaPlan::build(&dir.0, "runtime.j2", None).unwrap();
        let (events, res) = render_with(&plan, 1);
        assert!(events.is_empty());
        assert!(res.unwrap_err().contains("runtime.j2:1:"));
    }

    #[test]
    fn random_uses_the_worker_rng() {
        let files = [(
            "r.j2",
            "{% for i in range(20) %}{\"_raw\": \"{{ [1,2,3,4,5,6,7,8,9]|random }}{{ 'xyz'|random }}{{ range(100, 200)|random }}{{ []|random }}\"}\n{% endfor %}",
        )];
        let dir = TempDir::new("random", &files);
        let plan = JinjaPlan::build(&dir.0, "r.j2", None).unwrap();
        let mut rng = Rng::seed(9);
        let mut first = Vec::new();
        plan.render(&cycle(0, 1), &mut rng, &mut first).unwrap();
        // The RNG advanced: the next render differs, and a replay from the same seed matches.
        let mut second = Vec::new();
        plan.render(&cycle(0, 1), &mut rng, &mut second).unwrap();
        assert_ne!(first, second);
        let mut again = Vec::new();
        plan.render(&cycle(0, 1), &mut Rng::seed(9), &mut again)
            .unwrap();
        assert_eq!(first, again);
        let distinct: std::collections::HashSet<&str> = first.iter().map(|e| &e.raw[..1]).collect();
        assert!(distinct.len() > 3, "{distinct:?}");
        assert!(first.iter().all(|e| e.raw.len() == 5), "{:?}", first[0].raw);
    }

    #[test]
    fn eventgen_names_shadow_variables_and_the_rest_pass_through() {
        let files = [(
            "v.j2",
            "{\"_raw\": \"{{ eventgen_count }} {{ eventgen_maxcount }} {{ eventgen_custom }} {{ user }} {{ missing }}|{{ eventgen_earliest }}\"}",
        )];
        let dir = TempDir::new("shadow", &files);
        let vars = r#"{"eventgen_count": "no", "eventgen_custom": "mine", "user": "ann"}"#;
        let plan = JinjaPlan::build(&dir.0, "v.j2", Some(vars)).unwrap();
        let mut out = Vec::new();
        let mut rng = Rng::seed(1);
        let mut run = plan.start(&cycle(0, 3));
        for c in 0..3 {
            run.render(c, &mut rng, &mut |e| out.push(e.to_owned()))
                .unwrap();
        }
        let raws: Vec<&str> = out.iter().map(|e| e.raw.as_str()).collect();
        assert_eq!(
            raws,
            [
                "0 3 mine ann |2021-03-04 05:06:04",
                "1 3 mine ann |2021-03-04 05:06:04",
                "2 3 mine ann |2021-03-04 05:06:04"
            ]
        );
    }

    #[test]
    fn plan_is_shareable() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<JinjaPlan>();
    }
}
