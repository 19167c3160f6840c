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

mod environment;
mod events;
mod functions;
mod preprocess;
mod state;
#[cfg(test)]
mod tests;
mod value;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use minijinja::Environment;
use minijinja::value::Value;

use crate::rng::Rng;
use crate::timing::{Micros, Tz};
use environment::{describe_error, new_environment, template_path};
pub use events::{JinjaEvent, JinjaEventRef};
pub use preprocess::{PreprocessError, preprocess};
use state::RenderState;
use value::parse_variables;

/// Eventgen's default format for `time_now_formatted` / `time_target_formatted`.
const DEFAULT_DATE_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%z";

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
        let context = Arc::new(RenderState::new(ctx, self.variables.clone()));
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
        cx.start_cycle(cycle, rng);
        let template = self.template.as_ref().map_err(Clone::clone)?;
        *cx.lock_rng() = rng.clone();
        let rendered = template
            .render(self.root.clone())
            .map_err(|e| describe_error(&e, &self.plan.dir));
        *rng = cx.lock_rng().clone();
        events::parse_events(&rendered?, &self.plan.label, each)
    }
}
