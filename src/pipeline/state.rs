//! The state folder (`stateDir`): counter values and replay positions read at the start of a
//! run and written at its end, one small file per sample and counter.

use std::path::PathBuf;

use crate::generate::SharedCounters;
use crate::log;
use crate::plan::{Plan, SamplePlan};

/// Starting values of every counter: the configured start, or what the state folder kept.
pub(super) fn counter_starts(plan: &Plan) -> Vec<Vec<i64>> {
    plan.samples
        .iter()
        .map(|s| {
            s.counters
                .iter()
                .map(|c| {
                    plan.state_dir
                        .as_ref()
                        .and_then(|d| std::fs::read_to_string(state_path(d, s, &c.state_name)).ok())
                        .and_then(|t| t.trim().parse().ok())
                        .unwrap_or(c.start)
                })
                .collect()
        })
        .collect()
}

fn state_path(dir: &std::path::Path, s: &SamplePlan, name: &str) -> PathBuf {
    let clean = |x: &str| -> String {
        x.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    let app = s.app.as_deref().unwrap_or("cli");
    dir.join(format!(
        "{}.{}.{}.state",
        clean(app),
        clean(&s.name),
        clean(name)
    ))
}

/// Where each replay sample stopped last time (state folder only).
pub(super) fn replay_positions(plan: &Plan) -> Vec<usize> {
    plan.samples
        .iter()
        .map(|s| match (&plan.state_dir, &s.replay) {
            (Some(d), Some(_)) => std::fs::read_to_string(state_path(d, s, "replay.position"))
                .ok()
                .and_then(|t| t.trim().parse().ok())
                .unwrap_or(0),
            _ => 0,
        })
        .collect()
}

pub(super) fn save_replay_positions(plan: &Plan, next: &[usize]) {
    let Some(dir) = &plan.state_dir else { return };
    for (i, s) in plan.samples.iter().enumerate() {
        if s.replay.is_none() {
            continue;
        }
        let _ = std::fs::create_dir_all(dir);
        let path = state_path(dir, s, "replay.position");
        if let Err(e) = std::fs::write(&path, format!("{}\n", next.get(i).copied().unwrap_or(0))) {
            log::error(&format!(
                "cannot write replay position {}: {e}",
                path.display()
            ));
        }
    }
}

/// Where each counter goes on: the scheduler's value for counters that follow event
/// positions, the shared counter's (without this shard's offset) for the others.
pub(super) fn next_counters(
    plan: &Plan,
    shared: &SharedCounters,
    finals: &[Vec<i64>],
) -> Vec<Vec<i64>> {
    plan.samples
        .iter()
        .enumerate()
        .map(|(i, s)| {
            (0..s.counters.len())
                .map(|c| {
                    if s.ordinal_counters() {
                        finals[i][c]
                    } else {
                        shared.resume_value(i, c)
                    }
                })
                .collect()
        })
        .collect()
}

pub(super) fn save_counters(plan: &Plan, shared: &SharedCounters, finals: &[Vec<i64>]) {
    let Some(dir) = &plan.state_dir else { return };
    if let Err(e) = std::fs::create_dir_all(dir) {
        log::error(&format!(
            "cannot create state folder {}: {e}",
            dir.display()
        ));
        return;
    }
    let next_values = next_counters(plan, shared, finals);
    for (i, s) in plan.samples.iter().enumerate() {
        for (c, spec) in s.counters.iter().enumerate() {
            let next = next_values[i][c];
            let path = state_path(dir, s, &spec.state_name);
            if let Err(e) = std::fs::write(&path, format!("{next}\n")) {
                log::error(&format!(
                    "cannot write counter state {}: {e}",
                    path.display()
                ));
            }
        }
    }
}
