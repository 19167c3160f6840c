//! Eventgen's `counter` generator: cycles that count from `start_count` to `end_count` by
//! `count_by`, one event per value, rendered with `count_template`. Eventgen's crash without
//! `end_count` and its endless loop when the step misses `end_count` are fixed: without
//! `end_count` a cycle has `count` values; a step that jumps past `end_count` stops there.
//!
//! A firing (all its cycles, one event per value) is cut by the scheduler into jobs of
//! consecutive event positions. A worker finds the value at a job's first position from
//! checkpoints of the value sequence (one every [`CHECKPOINT`] values, taken once per worker),
//! then steps on; the template is split once into literal text and placeholders, and every
//! event is written straight into the batch without allocating.

use super::{Job, PyTime, push_event};
use crate::output::Batch;
use crate::plan::{CounterGen, SamplePlan};
use crate::token::random::push_python_float;

/// Most values of one cycle (Eventgen would loop forever).
const MAX_VALUES: usize = 10_000_000;
/// Values between two checkpoints of the sequence a worker keeps.
const CHECKPOINT: usize = 4096;

/// The values of one cycle, one at a time.
#[derive(Debug, Clone, Copy)]
pub struct Values {
    start: f64,
    v: f64,
    by: f64,
    /// `None`: `len` values from `start` by `by`.
    end: Option<f64>,
    len: usize,
    /// Values yielded so far.
    n: usize,
    /// The next value is the last (it stepped past `end`).
    last: bool,
    done: bool,
}

impl Values {
    /// The sequence of a cycle; `count` is the sample's count (used without `end_count`).
    pub fn new(start: f64, end: Option<f64>, by: f64, count: u64) -> Values {
        // Count towards `end` whatever the sign of `by`.
        let by = match end {
            Some(end) if (end - start) * by < 0.0 => -by,
            _ => by,
        };
        Values {
            start,
            v: start,
            by,
            end,
            len: count.max(1) as usize,
            n: 0,
            last: false,
            done: false,
        }
    }

    fn of(c: &CounterGen, sample_count: u64) -> Values {
        Values::new(c.start, c.end, c.by, sample_count)
    }
}

impl Iterator for Values {
    type Item = f64;

    fn next(&mut self) -> Option<f64> {
        if self.done {
            return None;
        }
        let Some(end) = self.end else {
            if self.n >= self.len {
                self.done = true;
                return None;
            }
            let v = self.start + self.by * self.n as f64;
            self.n += 1;
            return Some(v);
        };
        let v = self.v;
        self.n += 1;
        let up = self.by > 0.0;
        let reached = if up { v >= end } else { v <= end };
        if self.last || reached || self.n >= MAX_VALUES {
            self.done = true;
            return Some(v);
        }
        self.v = round5(v + self.by);
        self.last = if up { self.v > end } else { self.v < end };
        Some(v)
    }
}

/// Values of one cycle (tests and small callers; the generator never collects them).
pub fn values(start: f64, end: Option<f64>, by: f64, count: u64) -> Vec<f64> {
    Values::new(start, end, by, count).collect()
}

/// Events of one cycle of `sample` (a counter sample).
pub fn cycle_len(c: &CounterGen, sample_count: u64) -> u64 {
    (Values::of(c, sample_count).count() as u64).max(1)
}

/// Cycles of one firing: `count` with `end_count`, else one cycle of `count` values.
pub fn cycles(c: &CounterGen, firing_count: u64) -> u64 {
    if c.end.is_none() {
        1
    } else {
        firing_count.max(1)
    }
}

fn round5(v: f64) -> f64 {
    (v * 100_000.0).round() / 100_000.0
}

fn push_number(v: f64, float: bool, out: &mut Vec<u8>) {
    if float {
        push_python_float(round5(v), out);
    } else {
        out.extend_from_slice(itoa::Buffer::new().format(v.round() as i64).as_bytes());
    }
}

/// A placeholder of `count_template`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Field {
    EventTs,
    LoopCount,
    MaxLoop,
    CurrentCount,
}

#[derive(Debug)]
enum Piece {
    Text(Vec<u8>),
    Field(Field),
}

const PLACEHOLDERS: [&str; 8] = [
    "{event_ts}",
    "{samplename}",
    "{loop_count}",
    "{max_loop}",
    "{start_count}",
    "{current_count}",
    "{end_count}",
    "{count_by}",
];

/// A counter sample prepared by one worker: the template in pieces and the checkpoints.
#[derive(Debug)]
pub struct CounterState {
    pieces: Vec<Piece>,
    /// The sequence at values 0, CHECKPOINT, 2 * CHECKPOINT, ...
    checkpoints: Vec<Values>,
    cycle_len: u64,
    raw: Vec<u8>,
    time: PyTime,
    /// The sample name holds braces, so Eventgen's chain of `replace` calls could form new
    /// placeholders: such samples render each event that way.
    slow: bool,
}

impl CounterState {
    /// `name` and `sample_count` are the sample's name and `count`.
    pub fn new(name: &str, sample_count: u64, c: &CounterGen) -> CounterState {
        let mut checkpoints = Vec::new();
        let mut it = Values::of(c, sample_count);
        let mut n = 0usize;
        loop {
            if n.is_multiple_of(CHECKPOINT) {
                checkpoints.push(it);
            }
            if it.next().is_none() {
                break;
            }
            n += 1;
        }
        let end_value = c
            .end
            .unwrap_or_else(|| Values::of(c, sample_count).last().unwrap_or(c.start));
        // Literal fields are rendered once; the rest stay placeholders.
        let text_of = |k: usize| -> Option<Vec<u8>> {
            let mut b = Vec::new();
            match k {
                1 => b.extend_from_slice(name.as_bytes()),
                4 => push_number(c.start, c.float, &mut b),
                6 => push_number(end_value, c.float, &mut b),
                7 => push_number(c.by, c.float, &mut b),
                _ => return None,
            }
            Some(b)
        };
        let field_of = |k: usize| match k {
            0 => Field::EventTs,
            2 => Field::LoopCount,
            3 => Field::MaxLoop,
            _ => Field::CurrentCount,
        };
        let mut pieces: Vec<Piece> = Vec::new();
        let push_text = |pieces: &mut Vec<Piece>, t: &[u8]| {
            if let Some(Piece::Text(last)) = pieces.last_mut() {
                last.extend_from_slice(t);
            } else if !t.is_empty() {
                pieces.push(Piece::Text(t.to_vec()));
            }
        };
        let tpl = c.template.as_str();
        let mut i = 0;
        let mut lit = 0;
        while i < tpl.len() {
            match PLACEHOLDERS.iter().position(|p| {
                tpl.as_bytes()[i] == b'{' && tpl.as_bytes()[i..].starts_with(p.as_bytes())
            }) {
                Some(k) => {
                    push_text(&mut pieces, &tpl.as_bytes()[lit..i]);
                    match text_of(k) {
                        Some(t) => push_text(&mut pieces, &t),
                        None => pieces.push(Piece::Field(field_of(k))),
                    }
                    i += PLACEHOLDERS[k].len();
                    lit = i;
                }
                None => i += 1,
            }
        }
        push_text(&mut pieces, &tpl.as_bytes()[lit..]);
        CounterState {
            pieces,
            checkpoints,
            cycle_len: n.max(1) as u64,
            raw: Vec::new(),
            time: PyTime::default(),
            slow: name.contains(['{', '}']),
        }
    }

    /// The sequence positioned at value `j` of a cycle.
    fn values_from(&self, j: u64) -> Values {
        let j = j as usize;
        let mut it = self.checkpoints[(j / CHECKPOINT).min(self.checkpoints.len() - 1)];
        for _ in 0..j % CHECKPOINT {
            it.next();
        }
        it
    }

    /// Renders events `[job.position, job.position + job.count)` of the firing: event `p`
    /// is value `p % cycle_len` of cycle `p / cycle_len`.
    /// Writes the job's events into `batch`, handing it to `flush` whenever it holds
    /// [`BATCH_BYTES`](super::BATCH_BYTES); stops when `flush` says the run is over.
    pub fn run(
        &mut self,
        sample: &SamplePlan,
        c: &CounterGen,
        job: &Job,
        batch: &mut Batch,
        flush: &mut dyn FnMut(&mut Batch) -> bool,
    ) {
        let m = self.cycle_len;
        let cycles = job.cycle.1.max(1);
        let span = job.latest - job.earliest;
        let mut p = job.position;
        let end = job.position + job.count;
        let mut itoa_buf = itoa::Buffer::new();
        while p < end {
            let (cycle, j0) = (p / m, p % m);
            let run_end = end.min((cycle + 1) * m);
            let mut vals = self.values_from(j0);
            for j in j0..run_end - cycle * m {
                if batch.bytes.len() >= super::BATCH_BYTES && !flush(batch) {
                    return;
                }
                let v = vals.next().unwrap_or(c.start);
                let t = job.earliest + span * (j as i64 + 1) / m as i64;
                self.raw.clear();
                if self.slow {
                    self.render_slow(sample, c, t, cycle + 1, cycles, v);
                } else {
                    for piece in &self.pieces {
                        match piece {
                            Piece::Text(b) => self.raw.extend_from_slice(b),
                            Piece::Field(Field::EventTs) => {
                                self.time.push(sample.tz, t, &mut self.raw)
                            }
                            Piece::Field(Field::LoopCount) => self
                                .raw
                                .extend_from_slice(itoa_buf.format(cycle + 1).as_bytes()),
                            Piece::Field(Field::MaxLoop) => self
                                .raw
                                .extend_from_slice(itoa_buf.format(cycles).as_bytes()),
                            Piece::Field(Field::CurrentCount) => {
                                push_number(v, c.float, &mut self.raw)
                            }
                        }
                    }
                }
                self.raw.push(b'\n');
                push_event(sample, t, None, &self.raw, batch);
            }
            p = run_end;
        }
    }

    /// Eventgen's chain of `str.replace` calls, for sample names that hold braces.
    fn render_slow(
        &mut self,
        sample: &SamplePlan,
        c: &CounterGen,
        t: i64,
        loop_count: u64,
        cycles: u64,
        v: f64,
    ) {
        let num = |x: f64| {
            let mut b = Vec::new();
            push_number(x, c.float, &mut b);
            String::from_utf8_lossy(&b).into_owned()
        };
        let end_value = c
            .end
            .unwrap_or_else(|| Values::of(c, sample.count).last().unwrap_or(c.start));
        let mut ts = Vec::new();
        self.time.push(sample.tz, t, &mut ts);
        let text = c
            .template
            .replace("{event_ts}", &String::from_utf8_lossy(&ts))
            .replace("{samplename}", &sample.name)
            .replace("{loop_count}", &loop_count.to_string())
            .replace("{max_loop}", &cycles.to_string())
            .replace("{start_count}", &num(c.start))
            .replace("{current_count}", &num(v))
            .replace("{end_count}", &num(end_value))
            .replace("{count_by}", &num(c.by));
        self.raw.extend_from_slice(text.as_bytes());
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

    #[test]
    fn checkpoints_resume_the_sequence_anywhere() {
        let all = values(0.0, Some(10_000.0), 0.7, 1);
        let c = CounterGen {
            start: 0.0,
            end: Some(10_000.0),
            by: 0.7,
            template: String::new(),
            float: true,
        };
        let st = CounterState::new("c", 1, &c);
        assert_eq!(st.cycle_len, all.len() as u64);
        for j in [0usize, 1, 4095, 4096, 4097, 8191, 8192, all.len() - 1] {
            assert_eq!(st.values_from(j as u64).next(), Some(all[j]), "value {j}");
        }
    }
}
