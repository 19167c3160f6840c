//! Eventgen's `counter` generator: cycles that count from `start_count` to `end_count` by
//! `count_by`, one event per value, rendered with `count_template`. Eventgen's crash without
//! `end_count` and its endless loop when the step misses `end_count` are fixed: without
//! `end_count` a cycle has `count` values; a step that jumps past `end_count` stops there.

use super::{Job, push_event, python_datetime};
use crate::output::Batch;
use crate::plan::{Generator, SamplePlan};
use crate::token::random::push_python_float;

/// Values of one cycle.
pub fn values(start: f64, end: Option<f64>, by: f64, count: u64) -> Vec<f64> {
    let mut out = Vec::new();
    match end {
        None => {
            let n = count.max(1);
            out.extend((0..n).map(|i| start + by * i as f64));
        }
        Some(end) => {
            // Count towards `end` whatever the sign of `by`.
            let by = if (end - start) * by < 0.0 { -by } else { by };
            let limit = 10_000_000usize;
            let mut v = start;
            loop {
                out.push(v);
                let reached = if by > 0.0 { v >= end } else { v <= end };
                if reached || out.len() >= limit {
                    break;
                }
                v = round5(v + by);
                let passed = if by > 0.0 { v > end } else { v < end };
                if passed {
                    out.push(v);
                    break;
                }
            }
        }
    }
    out
}

fn round5(v: f64) -> f64 {
    (v * 100_000.0).round() / 100_000.0
}

fn number(v: f64, float: bool) -> String {
    if float {
        let mut b = Vec::new();
        push_python_float(round5(v), &mut b);
        String::from_utf8_lossy(&b).into_owned()
    } else {
        format!("{}", v.round() as i64)
    }
}

/// Renders `job.count` cycles into `batch`.
pub fn run(sample: &SamplePlan, job: &Job, batch: &mut Batch, raw: &mut Vec<u8>) {
    let Generator::Counter(c) = &sample.generator else {
        return;
    };
    // Without end_count one cycle counts `count` values.
    let cycles = if c.end.is_none() { 1 } else { job.count.max(1) };
    let vals = values(
        c.start,
        c.end,
        c.by,
        if c.end.is_none() {
            sample.count.max(1)
        } else {
            1
        },
    );
    let m = vals.len().max(1) as i64;
    let end_text = number(
        c.end
            .unwrap_or_else(|| vals.last().copied().unwrap_or(c.start)),
        c.float,
    );
    for cycle in 0..cycles {
        for (j, v) in vals.iter().enumerate() {
            let t = job.earliest + (job.latest - job.earliest) * (j as i64 + 1) / m;
            let dt = sample.tz.datetime(t);
            let text = c
                .template
                .replace("{event_ts}", &python_datetime(&dt))
                .replace("{samplename}", &sample.name)
                .replace("{loop_count}", &(cycle + 1).to_string())
                .replace("{max_loop}", &cycles.to_string())
                .replace("{start_count}", &number(c.start, c.float))
                .replace("{current_count}", &number(*v, c.float))
                .replace("{end_count}", &end_text)
                .replace("{count_by}", &number(c.by, c.float));
            raw.clear();
            raw.extend_from_slice(text.as_bytes());
            raw.push(b'\n');
            push_event(sample, t, None, raw, batch);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_to_end_inclusive() {
        assert_eq!(values(0.0, Some(3.0), 1.0, 5), [0.0, 1.0, 2.0, 3.0]);
    }

    #[test]
    fn a_step_that_misses_end_stops_past_it() {
        assert_eq!(values(0.0, Some(5.0), 2.0, 1), [0.0, 2.0, 4.0, 6.0]);
    }

    #[test]
    fn counts_down_and_without_end() {
        assert_eq!(values(3.0, Some(0.0), 1.0, 1), [3.0, 2.0, 1.0, 0.0]);
        assert_eq!(values(10.0, None, 5.0, 3), [10.0, 15.0, 20.0]);
    }
}
