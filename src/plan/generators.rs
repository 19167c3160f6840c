//! What produces a sample's events: the generator named by `generator`, `mode` and `rater`,
//! with the counter and jinja generators' own settings.

use std::path::PathBuf;
use std::sync::Arc;

use super::matching::Candidate;
use super::policy::Reader;
use crate::generate::jinja::JinjaPlan;
use crate::problem::Problem;

/// What produces a sample's events.
#[derive(Debug, Clone)]
pub enum Generator {
    /// Sample mode: `count` events per interval from the sample's events.
    Sample,
    /// Replay mode: the sample's events with their original gaps.
    Replay,
    /// `count` events evenly spread over the window, Eventgen's fixed text.
    Windbag,
    /// Counter values, Eventgen's `counter` generator.
    Counter(CounterGen),
    /// Events rendered from a Jinja template, Eventgen's `jinja` generator.
    Jinja(Arc<JinjaPlan>, JinjaCount),
}

/// What `count` counts for the jinja generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JinjaCount {
    /// Template renders per interval.
    Cycles,
    /// Events per interval (renders until that many came out).
    Lines,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CounterGen {
    pub start: f64,
    pub end: Option<f64>,
    pub by: f64,
    pub template: String,
    pub float: bool,
}

pub const DEFAULT_COUNTER_TEMPLATE: &str = "{event_ts}-0700 Counter for sample:{samplename}, Now processing event counting {loop_count} of {max_loop} cycles. Counter Values: Start_Count: {start_count} Current_Counter:{current_count} End_Count:{end_count} Counting_By: {count_by}";

/// The generator's name after `mode` and `rater` had their say.
pub(super) fn name(r: &mut Reader, mode: &str) -> String {
    let mut generator_name = r.choice("generator");
    // Eventgen's counter rater brings its generator ("change the rater, not the generator").
    if r.choice("rater") == "counter" && generator_name == "default" {
        generator_name = "counter".into();
    }
    if mode == "replay" {
        generator_name = "replay".into();
    }
    generator_name
}

/// Builds the generator named `generator_name`; an unusable one is an error and a file-less
/// placeholder, so that the rest of the stanza is still checked.
pub(super) fn build(r: &mut Reader, c: &Candidate, generator_name: &str) -> Generator {
    match generator_name {
        "default" | "perdayvolumegenerator" => Generator::Sample,
        "weblog" => {
            r.error(
                "generator",
                "the weblog generator is Eventgen's Python benchmark plugin and cannot run here; the \
                 shipped [weblog] stanza and sample give the same web access log with the default \
                 generator (eventgen generate -s weblog), faster"
                    .into(),
            );
            Generator::Windbag
        }
        "replay" => Generator::Replay,
        "windbag" => Generator::Windbag,
        "counter" => {
            let parse = |v: Option<String>, d: f64| -> (f64, bool) {
                match v {
                    Some(s) if !s.is_empty() => (s.trim().parse().unwrap_or(d), s.contains('.')),
                    _ => (d, false),
                }
            };
            let (start, f1) = parse(r.string("start_count"), 0.0);
            let end_v = r
                .string("end_count")
                .filter(|s| !s.is_empty())
                .map(|s| s.trim().parse::<f64>());
            let end = match end_v {
                Some(Ok(v)) => Some(v),
                Some(Err(_)) => {
                    r.error("end_count", "expected a number".into());
                    None
                }
                None => None,
            };
            let (by, f3) = parse(r.string("count_by"), 1.0);
            let by = if by == 0.0 { 1.0 } else { by };
            // Eventgen: an end below the start with a positive step counts that far from the start.
            let end = match end {
                Some(e) if e < start && by > 0.0 => Some(start + e),
                other => other,
            };
            Generator::Counter(CounterGen {
                start,
                end,
                by,
                template: r
                    .string("count_template")
                    .unwrap_or_else(|| DEFAULT_COUNTER_TEMPLATE.to_string()),
                float: f1 || f3,
            })
        }
        "jinja" => {
            let dir_setting = r
                .string("jinja_template_dir")
                .unwrap_or_else(|| "templates".into());
            let dir = {
                let p = PathBuf::from(crate::token::expand_vars(&dir_setting));
                if p.is_absolute() {
                    p
                } else {
                    c.sample_dir.join(p)
                }
            };
            let count_type = match r.choice("jinja_count_type").as_str() {
                "line_count" => JinjaCount::Lines,
                _ => JinjaCount::Cycles,
            };
            match r.string("jinja_target_template").filter(|t| !t.is_empty()) {
                None => {
                    let loc = c.location.clone();
                    r.problems.push(
                        Problem::error("the jinja generator needs jinja_target_template (the template file to render)")
                            .located(&loc)
                            .stanza(&c.stanza)
                            .key("jinja_target_template"),
                    );
                    // Already an error; a file-less placeholder avoids a second, misleading one.
                    Generator::Windbag
                }
                Some(target) if !dir.join(&target).is_file() => {
                    let (key, what, spec, path) = if dir.is_dir() {
                        (
                            "jinja_target_template",
                            "jinja template",
                            target.clone(),
                            dir.join(&target),
                        )
                    } else {
                        (
                            "jinja_template_dir",
                            "jinja template folder",
                            dir_setting.clone(),
                            dir.clone(),
                        )
                    };
                    r.error(key, super::paths::not_found(what, &spec, &[path]));
                    Generator::Windbag
                }
                Some(target) => match JinjaPlan::build(&dir, &target, r.raw("jinja_variables")) {
                    Ok(p) => Generator::Jinja(Arc::new(p), count_type),
                    Err(e) => {
                        r.error("jinja_target_template", e);
                        Generator::Windbag
                    }
                },
            }
        }
        _ => Generator::Sample,
    }
}
