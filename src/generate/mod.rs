//! Generator workers: a job (sample, time window, count) in, a batch of encoded events out.
//!
//! Each worker owns its scratch buffers, a per-second time cache and token value buffers; the
//! RNG travels with the job, so the same job renders the same bytes on any worker.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, FixedOffset, Offset};

use crate::output::encode::Encoding;
use crate::output::{Batch, EventMeta};
use crate::plan::{Generator, Plan, SamplePlan};
use crate::rng::Rng;
use crate::timing::{MICROS_PER_SEC, Micros, Tz};
use crate::token::template::{SlotCache, render_slow};
use crate::token::{Token, ValueContext};

/// A job whose size the scheduler cannot bound (jinja) hands its batch to the output once it
/// holds this many bytes, so one job never holds more than a few megabytes.
pub const BATCH_BYTES: usize = 1 << 20;

/// One unit of work for a worker.
#[derive(Debug, Clone)]
pub struct Job {
    /// Global sequence number: the reducer writes batches in this order.
    pub seq: u64,
    pub sample: usize,
    /// Events are timed within `[earliest, latest]`.
    pub earliest: Micros,
    pub latest: Micros,
    pub count: u64,
    /// Position of the job's first event in its interval (replay: in its pass); event `i` of
    /// the job is sample event `(position + i) % n`.
    pub position: u64,
    /// Counter values at position 0 of the interval (integerid, seqfile), when they follow
    /// the event positions.
    pub counter_base: Vec<i64>,
    pub rng_seed: u64,
    /// `extendIndexes` pick of this interval.
    pub index: Option<usize>,
    /// Counter generator: which cycle of how many.
    pub cycle: (u64, u64),
    /// Replay: the send time of each event (then `count` is its length).
    pub times: Vec<Micros>,
}

/// Counters that cannot be derived from ordinals (random selection, slow templates). Shard K
/// of N takes the values `start + K`, `start + K + N`, …, so values stay unique across shards.
pub struct SharedCounters {
    values: Vec<Vec<AtomicI64>>,
    offset: i64,
    step: i64,
}

impl SharedCounters {
    /// Counters from `starts`, offset by `offset` and moving by `step` per value taken.
    pub fn new(plan: &Plan, starts: &[Vec<i64>], offset: i64, step: i64) -> SharedCounters {
        SharedCounters {
            offset,
            step: step.max(1),
            values: plan
                .samples
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    (0..s.counters.len())
                        .map(|c| AtomicI64::new(starts[i][c].wrapping_add(offset)))
                        .collect()
                })
                .collect(),
        }
    }

    /// Where counter `c` of `sample` continues in a later run (the state folder): the next
    /// value without this shard's offset, which the next run adds again.
    pub fn resume_value(&self, sample: usize, c: usize) -> i64 {
        self.values[sample][c]
            .load(Ordering::Relaxed)
            .wrapping_sub(self.offset)
    }

    /// Takes the next value of counter `c` of sample `sample`.
    pub fn take(&self, sample: usize, c: usize) -> i64 {
        self.values[sample][c].fetch_add(self.step, Ordering::Relaxed)
    }
}

/// Per-sample data a worker derives once.
struct SampleScratch {
    /// `prefix[c][i]`: events among the first `i` that use counter `c`.
    prefix: Vec<Vec<u64>>,
    /// Per token: its value depends only on the event's second (cached per second).
    per_second: Vec<bool>,
    /// Composed slot texts of this sample, per second.
    slots: SlotCache,
}

/// A generator worker's reusable state.
pub struct Worker {
    plan: Arc<Plan>,
    shared: Arc<SharedCounters>,
    per_sample: Vec<Option<SampleScratch>>,
    values: Vec<Vec<u8>>,
    value_sec: Vec<i64>,
    times: Vec<Micros>,
    sort_buffers: times::SortBuffers,
    raw: Vec<u8>,
    scratch: String,
    rows: Vec<Option<usize>>,
    counters: Vec<i64>,
    offset_cache: (i64, Tz, FixedOffset),
    /// Samples whose runtime error was already reported (once per worker).
    reported: Vec<usize>,
    /// An empty slot cache for samples without scratch state.
    no_slots: SlotCache,
    /// The sample whose token values `values`/`value_sec`/`micros_cache` hold.
    last_sample: usize,
    /// Per token of the current sample: the per-second text of a `%f` timestamp.
    micros_cache: Vec<Option<MicrosCache>>,
    /// Per counter sample: its template in pieces and value checkpoints.
    counters_state: Vec<Option<Box<counter::CounterState>>>,
    /// Windbag's event times.
    py_time: PyTime,
}

/// A timestamp format with `%f`, rendered once per second with the positions of its
/// microsecond digits, which each event then overwrites.
#[derive(Debug, Default)]
struct MicrosCache {
    sec: i64,
    text: Vec<u8>,
    digits: Vec<usize>,
}

impl MicrosCache {
    fn fill(
        &mut self,
        sec: i64,
        tok: &Token,
        zero: &DateTime<FixedOffset>,
        nines: &DateTime<FixedOffset>,
    ) {
        let Some(f) = tok.replacement.time_only() else {
            return;
        };
        self.text.clear();
        f.render(zero, &mut self.text);
        let mut other = Vec::with_capacity(self.text.len());
        f.render(nines, &mut other);
        self.digits.clear();
        if other.len() == self.text.len() {
            self.digits
                .extend((0..other.len()).filter(|&i| other[i] != self.text[i]));
        }
        // Anything but whole groups of six digits (`%f`) cannot be patched: render per event.
        self.sec = if self.digits.len().is_multiple_of(6) && !self.digits.is_empty() {
            sec
        } else {
            i64::MIN
        };
    }

    /// `%f` formats: the second's text once, then only the digits of `t` into `out`. `false`
    /// when the format cannot be patched that way (then the token renders as any other).
    #[inline(never)]
    fn value(
        &mut self,
        t: Micros,
        tok: &Token,
        tz: Tz,
        offsets: &mut (i64, Tz, FixedOffset),
        out: &mut Vec<u8>,
    ) -> bool {
        let sec = t.div_euclid(MICROS_PER_SEC);
        if self.sec != sec {
            let whole = sec * MICROS_PER_SEC;
            let a = datetime_cached(offsets, tz, whole);
            let b = datetime_cached(offsets, tz, whole + 999_999);
            self.fill(sec, tok, &a, &b);
        }
        if self.sec != sec {
            return false;
        }
        self.render(t.rem_euclid(MICROS_PER_SEC), out);
        true
    }

    fn render(&self, micros: i64, out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(&self.text);
        let mut digits = [b'0'; 6];
        let mut m = micros;
        for d in digits.iter_mut().rev() {
            *d = b'0' + (m % 10) as u8;
            m /= 10;
        }
        for (n, &pos) in self.digits.iter().enumerate() {
            out[pos] = digits[n % 6];
        }
    }
}

/// The event whose token values are being rendered: its sample, job and time.
struct EventAt<'a> {
    sample: &'a SamplePlan,
    job: &'a Job,
    t: Micros,
    /// `t`'s whole second.
    sec: i64,
    /// The job's latest time as a date (tokens that do not use the event's own time).
    latest: &'a DateTime<FixedOffset>,
    /// Replay: which of the sample's timestamp formats this event's line uses.
    format_index: usize,
    /// Counters follow the event positions (see `SamplePlan::ordinal_counters`).
    ordinal_mode: bool,
}

impl Worker {
    pub fn new(plan: Arc<Plan>, shared: Arc<SharedCounters>) -> Worker {
        let n = plan.samples.len();
        let max_tokens = plan
            .samples
            .iter()
            .map(|s| s.tokens.len())
            .max()
            .unwrap_or(0);
        let files = plan.samples.first().map_or(0, |s| s.file_count);
        Worker {
            plan,
            shared,
            per_sample: (0..n).map(|_| None).collect(),
            values: vec![Vec::new(); max_tokens],
            value_sec: vec![i64::MIN; max_tokens],
            times: Vec::new(),
            sort_buffers: times::SortBuffers::default(),
            raw: Vec::new(),
            scratch: String::new(),
            rows: vec![None; files],
            counters: Vec::new(),
            offset_cache: (i64::MIN, Tz::Local, chrono::Utc.fix()),
            reported: Vec::new(),
            no_slots: SlotCache::default(),
            last_sample: usize::MAX,
            micros_cache: Vec::new(),
            counters_state: (0..n).map(|_| None).collect(),
            py_time: PyTime::default(),
        }
    }

    /// Renders `job` into `batch` (cleared by the caller).
    pub fn run(&mut self, job: &Job, batch: &mut Batch) {
        self.run_streaming(job, batch, &mut |_| true);
    }

    /// Renders `job` into `batch` (cleared by the caller). A generator job (jinja, whose size
    /// the scheduler cannot bound, and the large windbag and counter jobs) hands `flush` its
    /// batch whenever it holds [`BATCH_BYTES`]; `flush` sends it on and leaves an empty one (or
    /// leaves it to grow), and returns `false` when the run is over.
    pub fn run_streaming(
        &mut self,
        job: &Job,
        batch: &mut Batch,
        flush: &mut dyn FnMut(&mut Batch) -> bool,
    ) {
        let plan = self.plan.clone();
        let sample = &plan.samples[job.sample];
        batch.sample = job.sample;
        batch.output = sample.output;
        let mut rng = Rng::seed(job.rng_seed);
        match &sample.generator {
            Generator::Sample | Generator::Replay => self.run_sample(sample, job, &mut rng, batch),
            Generator::Windbag => self.run_windbag(sample, job, batch, flush),
            Generator::Jinja(jp, count_type) => {
                let jp = jp.clone();
                self.run_jinja(sample, &jp, *count_type, job, &mut rng, batch, flush)
            }
            Generator::Counter(c) => {
                let state = self.counters_state[job.sample].get_or_insert_with(|| {
                    Box::new(counter::CounterState::new(&sample.name, sample.count, c))
                });
                state.run(sample, c, job, batch, flush)
            }
        }
    }

    fn datetime(&mut self, tz: Tz, t: Micros) -> DateTime<FixedOffset> {
        datetime_cached(&mut self.offset_cache, tz, t)
    }

    fn fill_times(&mut self, sample: &SamplePlan, job: &Job, rng: &mut Rng) {
        self.times.clear();
        let n = job.count as usize;
        let (lo, hi) = (job.earliest, job.latest.max(job.earliest));
        if lo == hi {
            self.times.resize(n, lo);
        } else if sample.sequential_timestamp {
            let span = (hi - lo) as i128;
            self.times
                .extend((0..n).map(|i| lo + (span * i as i128 / n.max(1) as i128) as i64));
        } else {
            let span = (hi - lo) as u64 + 1;
            self.times
                .extend((0..n).map(|_| lo + rng.below(span) as i64));
            times::sort_uniform(&mut self.times, lo, span, &mut self.sort_buffers);
        }
    }

    fn scratch_for(&mut self, idx: usize, sample: &SamplePlan) {
        if self.per_sample[idx].is_some() {
            return;
        }
        let prefix = sample.counter_prefix();
        let per_second = sample.tokens.iter().map(Token::is_per_second).collect();
        let slots = SlotCache::with_slots(sample.composed_slots as usize);
        self.per_sample[idx] = Some(SampleScratch {
            prefix,
            per_second,
            slots,
        });
    }

    fn run_sample(&mut self, sample: &SamplePlan, job: &Job, rng: &mut Rng, batch: &mut Batch) {
        let n = sample.events.len();
        if n == 0 || job.count == 0 {
            return;
        }
        if job.times.is_empty() {
            self.fill_times(sample, job, rng);
        } else {
            self.times.clear();
            self.times.extend_from_slice(&job.times);
        }
        let is_replay = sample.replay.is_some();
        if self.last_sample != job.sample {
            // Token buffers are per token index: another sample's values must not be reused.
            self.last_sample = job.sample;
            self.value_sec.iter_mut().for_each(|s| *s = i64::MIN);
            self.micros_cache.clear();
            self.micros_cache.extend(sample.tokens.iter().map(|t| {
                t.replacement
                    .time_only()
                    .filter(|f| f.is_subsecond())
                    .map(|_| MicrosCache {
                        sec: i64::MIN,
                        ..MicrosCache::default()
                    })
            }));
        }
        self.scratch_for(job.sample, sample);
        let ordinal_mode = sample.ordinal_counters();
        let latest_dt = self.datetime(sample.tz, job.latest);
        let index_pick = job
            .index
            .and_then(|i| sample.extend_indexes.get(i))
            .map(String::as_str);
        self.counters.resize(sample.counters.len(), 0);
        let encoding = sample.encoding;
        let mut host_buf = String::new();
        let mut times = std::mem::take(&mut self.times);
        for (i, &t) in times.iter().enumerate() {
            let ordinal = job.position + i as u64;
            let ev_idx = if sample.randomize_events {
                rng.below(n as u64) as usize
            } else {
                (ordinal % n as u64) as usize
            };
            let event = &sample.events[ev_idx];
            let format_index = sample
                .replay
                .as_ref()
                .and_then(|r| r.formats.get(ev_idx))
                .copied()
                .unwrap_or(0);
            let tpl = &event.template;
            if ordinal_mode && let Some(sc) = &self.per_sample[job.sample] {
                for (c, pre) in sc.prefix.iter().enumerate() {
                    let base = job.counter_base.get(c).copied().unwrap_or(0);
                    // A signed 64-bit counter: past i64::MAX it goes on at i64::MIN, like the
                    // shared atomic counter (docs/compatibility.md).
                    self.counters[c] =
                        base.wrapping_add(crate::plan::matches_before(pre, ordinal) as i64);
                }
            }
            let sec = t.div_euclid(MICROS_PER_SEC);
            // The event's wall-clock time, only worked out when a token needs it.
            let mut dt: Option<DateTime<FixedOffset>> = None;
            if sample.file_columns {
                for r in self.rows.iter_mut() {
                    *r = None;
                }
            }
            let start = batch.bytes.len();
            let direct = matches!(encoding, Encoding::Line | Encoding::Concat);
            if !direct {
                self.raw.clear();
            }
            if tpl.is_slow() {
                let dt = *dt.get_or_insert_with(|| self.datetime(sample.tz, t));
                let shared = &self.shared;
                let sample_idx = job.sample;
                let counters = &mut self.counters;
                let rows = &mut self.rows;
                let text = render_slow(&tpl.text, &sample.tokens, |k, out| {
                    let tok = &sample.tokens[k];
                    if let Some(c) = tok.counter
                        && !ordinal_mode
                    {
                        counters[c] = shared.take(sample_idx, c);
                    }
                    let mut cx = ValueContext {
                        rng,
                        time: &dt,
                        latest: &latest_dt,
                        rates: &sample.rates,
                        rows,
                        counters,
                        replay: is_replay,
                        format_index,
                    };
                    tok.render_value(&mut cx, out);
                });
                if direct {
                    batch.bytes.extend_from_slice(text.as_bytes());
                } else {
                    self.raw.extend_from_slice(text.as_bytes());
                }
            } else {
                let at = EventAt {
                    sample,
                    job,
                    t,
                    sec,
                    latest: &latest_dt,
                    format_index,
                    ordinal_mode,
                };
                for &k in tpl.used() {
                    let cacheable = self.per_sample[job.sample]
                        .as_ref()
                        .is_some_and(|s| s.per_second.get(k).copied().unwrap_or(false));
                    if cacheable && self.value_sec[k] == sec {
                        continue;
                    }
                    self.token_value(k, cacheable, &at, &mut dt, rng);
                }
                let cache = match &mut self.per_sample[job.sample] {
                    Some(sc) => &mut sc.slots,
                    None => &mut self.no_slots,
                };
                cache.second = sec;
                let out = if direct {
                    &mut batch.bytes
                } else {
                    &mut self.raw
                };
                tpl.render_fast(&sample.tokens, &self.values, out, &mut self.scratch, cache);
            }
            let raw_len = if direct {
                batch.bytes.len() - start
            } else {
                self.raw.len()
            };
            batch.raw_bytes += raw_len as u64;
            let row = event.row.as_ref();
            let mut host = row
                .and_then(|r| r.host.as_deref())
                .unwrap_or(&sample.meta.host);
            // The host token draws random numbers whatever the output, so that a seeded run
            // renders the same events to every output.
            if let Some(ht) = &sample.host_token {
                let dt = *dt.get_or_insert_with(|| self.datetime(sample.tz, t));
                host_buf.clear();
                host_buf.push_str(&apply_host_token(ht, host, rng, &dt, &latest_dt, sample));
                host = &host_buf;
            }
            match encoding {
                Encoding::Line => {
                    let trimmed = crate::output::bytes::trim_end(&batch.bytes[start..]).len();
                    batch.bytes.truncate(start + trimmed);
                    batch.bytes.push(b'\n');
                }
                // devnull only counts the text; the spool's text went in as it is.
                Encoding::Discard | Encoding::Concat => {}
                other => {
                    let meta = EventMeta {
                        time: t,
                        host,
                        source: row
                            .and_then(|r| r.source.as_deref())
                            .unwrap_or(&sample.meta.source),
                        sourcetype: row
                            .and_then(|r| r.sourcetype.as_deref())
                            .unwrap_or(&sample.meta.sourcetype),
                        index: index_pick
                            .or(row.and_then(|r| r.index.as_deref()))
                            .unwrap_or(&sample.meta.index),
                    };
                    note_meta(batch, other, &meta);
                    other.encode_cached(&meta, &self.raw, &mut batch.bytes, &mut batch.meta_cache);
                }
            }
            batch.ends.push(batch.bytes.len() as u32);
            batch.last_time = t;
        }
        times.clear();
        self.times = times;
    }

    /// Renders token `k`'s value for the event `at` into `self.values[k]`.
    ///
    /// The date work in here goes through functions that are never inlined
    /// ([`datetime_cached`], [`MicrosCache::value`]): inlined, the compiler hoisted it out of
    /// the token loop and did it for every event, even for events whose values all come from
    /// the per-second cache (about 170 instructions an event, a third of test2's).
    #[inline(always)]
    fn token_value(
        &mut self,
        k: usize,
        cacheable: bool,
        at: &EventAt<'_>,
        dt: &mut Option<DateTime<FixedOffset>>,
        rng: &mut Rng,
    ) {
        let (sample, t, sec) = (at.sample, at.t, at.sec);
        let tok = &sample.tokens[k];
        if let Some(f) = self.micros_cache.get_mut(k).and_then(Option::as_mut)
            && f.value(
                t,
                tok,
                sample.tz,
                &mut self.offset_cache,
                &mut self.values[k],
            )
        {
            return;
        }
        let time = if tok.needs_event_time() {
            *dt.get_or_insert_with(|| datetime_cached(&mut self.offset_cache, sample.tz, t))
        } else {
            *at.latest
        };
        if let Some(c) = tok.counter
            && !at.ordinal_mode
        {
            self.counters[c] = self.shared.take(at.job.sample, c);
        }
        let buf = &mut self.values[k];
        buf.clear();
        let mut cx = ValueContext {
            rng,
            time: &time,
            latest: at.latest,
            rates: &sample.rates,
            rows: &mut self.rows,
            counters: &self.counters,
            replay: sample.replay.is_some(),
            format_index: at.format_index,
        };
        tok.render_value(&mut cx, buf);
        self.value_sec[k] = if cacheable { sec } else { i64::MIN };
    }

    /// Cycles `[job.position, job.position + job.count)` of the firing (`cycles`), or cycles
    /// until `job.count` events came out (`line_count`: one job per firing).
    #[allow(clippy::too_many_arguments)]
    fn run_jinja(
        &mut self,
        sample: &SamplePlan,
        jp: &crate::generate::jinja::JinjaPlan,
        count_type: crate::plan::JinjaCount,
        job: &Job,
        rng: &mut Rng,
        batch: &mut Batch,
        flush: &mut dyn FnMut(&mut Batch) -> bool,
    ) {
        let lines = count_type == crate::plan::JinjaCount::Lines;
        let target = job.count.max(1);
        let mut emitted = 0u64;
        // Bounded: a template that renders nothing cannot loop forever in line_count mode.
        let (first, max_cycles, max_count) = if lines {
            (0, target * 100, target)
        } else {
            (job.position, job.count, job.cycle.1.max(1))
        };
        let mut run = jp.start(&crate::generate::jinja::JinjaCycle {
            cycle: first,
            max_count,
            earliest: job.earliest,
            latest: job.latest,
            now: job.latest,
            tz: sample.tz,
        });
        for cycle in first..first + max_cycles {
            if lines && emitted >= target {
                break;
            }
            if batch.bytes.len() >= BATCH_BYTES && !flush(batch) {
                return;
            }
            let result = run.render(cycle, rng, &mut |ev| {
                let t = ev.time.unwrap_or(job.latest);
                let meta = EventMeta {
                    time: t,
                    host: ev.host.as_deref().unwrap_or(&sample.meta.host),
                    source: ev.source.as_deref().unwrap_or(&sample.meta.source),
                    sourcetype: ev.sourcetype.as_deref().unwrap_or(&sample.meta.sourcetype),
                    index: ev.index.as_deref().unwrap_or(&sample.meta.index),
                };
                note_meta(batch, sample.encoding, &meta);
                sample.encoding.encode_cached(
                    &meta,
                    ev.raw.as_bytes(),
                    &mut batch.bytes,
                    &mut batch.meta_cache,
                );
                batch.raw_bytes += ev.raw.len() as u64;
                batch.ends.push(batch.bytes.len() as u32);
                batch.last_time = t;
                emitted += 1;
            });
            if let Err(e) = result {
                if !self.reported.contains(&job.sample) {
                    self.reported.push(job.sample);
                    crate::log::error(&format!(
                        "[{}] jinja template {}: {e}",
                        sample.stanza,
                        jp.label()
                    ));
                }
                break;
            }
        }
    }

    /// Events `position + 1 ..= position + count` of the firing's `cycle.1`, evenly spaced
    /// over (earliest, latest].
    fn run_windbag(
        &mut self,
        sample: &SamplePlan,
        job: &Job,
        batch: &mut Batch,
        flush: &mut dyn FnMut(&mut Batch) -> bool,
    ) {
        let total = job.cycle.1.max(1);
        let step = (job.latest - job.earliest) as f64 / total as f64;
        let mut num = itoa::Buffer::new();
        let mut of = [0u8; 20];
        let of_len = {
            let t = num.format(total).as_bytes();
            of[..t.len()].copy_from_slice(t);
            t.len()
        };
        for i in job.position + 1..=job.position + job.count {
            if batch.bytes.len() >= BATCH_BYTES && !flush(batch) {
                return;
            }
            let t = job.earliest + (step * i as f64).round() as i64;
            self.raw.clear();
            self.py_time.push(sample.tz, t, &mut self.raw);
            self.raw.extend_from_slice(b" -0700 WINDBAG Event ");
            self.raw.extend_from_slice(num.format(i).as_bytes());
            self.raw.extend_from_slice(b" of ");
            self.raw.extend_from_slice(&of[..of_len]);
            self.raw.push(b'\n');
            push_event(sample, t, None, &self.raw, batch);
        }
    }
}

/// Python's `str(datetime)` of event times (`YYYY-MM-DD HH:MM:SS[.ffffff]`), with the text of
/// the whole second made once per second.
#[derive(Debug)]
pub struct PyTime {
    sec: i64,
    tz: Tz,
    text: Vec<u8>,
}

impl Default for PyTime {
    fn default() -> PyTime {
        PyTime {
            sec: i64::MIN,
            tz: Tz::Local,
            text: Vec::new(),
        }
    }
}

impl PyTime {
    /// Appends the time `t` in `tz` to `out`.
    pub fn push(&mut self, tz: Tz, t: Micros, out: &mut Vec<u8>) {
        use std::io::Write;
        let sec = t.div_euclid(MICROS_PER_SEC);
        if sec != self.sec || tz != self.tz {
            self.text.clear();
            let _ = write!(
                self.text,
                "{}",
                tz.datetime(sec * MICROS_PER_SEC)
                    .format("%Y-%m-%d %H:%M:%S")
            );
            self.sec = sec;
            self.tz = tz;
        }
        out.extend_from_slice(&self.text);
        let micros = t.rem_euclid(MICROS_PER_SEC);
        if micros != 0 {
            let mut digits = [b'.', b'0', b'0', b'0', b'0', b'0', b'0'];
            let mut m = micros;
            for d in digits[1..].iter_mut().rev() {
                *d = b'0' + (m % 10) as u8;
                m /= 10;
            }
            out.extend_from_slice(&digits);
        }
    }
}

/// The wall-clock time of `t` in `tz`, with the zone's offset looked up once per second.
/// Never inlined: see [`Worker::token_value`].
#[inline(never)]
fn datetime_cached(cache: &mut (i64, Tz, FixedOffset), tz: Tz, t: Micros) -> DateTime<FixedOffset> {
    let sec = t.div_euclid(MICROS_PER_SEC);
    if cache.0 != sec || cache.1 != tz {
        let off = *tz.datetime(t).offset();
        *cache = (sec, tz, off);
    }
    let utc = DateTime::from_timestamp_micros(t).unwrap_or_default();
    utc.with_timezone(&cache.2)
}

/// Appends one event (text plus the sample's metadata) to a batch with the sample's encoding.
pub fn push_event(
    sample: &SamplePlan,
    t: Micros,
    host: Option<&str>,
    raw: &[u8],
    batch: &mut Batch,
) {
    match sample.encoding {
        // devnull only counts the text.
        Encoding::Discard => {}
        Encoding::Line => {
            batch
                .bytes
                .extend_from_slice(crate::output::bytes::trim_end(raw));
            batch.bytes.push(b'\n');
        }
        encoding => {
            let meta = EventMeta {
                time: t,
                host: host.unwrap_or(&sample.meta.host),
                source: &sample.meta.source,
                sourcetype: &sample.meta.sourcetype,
                index: &sample.meta.index,
            };
            note_meta(batch, encoding, &meta);
            encoding.encode_cached(&meta, raw, &mut batch.bytes, &mut batch.meta_cache);
        }
    }
    batch.raw_bytes += raw.len() as u64;
    batch.ends.push(batch.bytes.len() as u32);
    batch.last_time = t;
}

/// Keeps the batch's metadata, and records where it changes for encodings that need one
/// metadata set per request (HEC `/raw`).
fn note_meta(batch: &mut Batch, encoding: Encoding, meta: &EventMeta<'_>) {
    if batch.is_empty() {
        batch.meta.set(meta);
        return;
    }
    if !encoding.needs_uniform_meta() {
        return;
    }
    let current = batch.meta_changes.last().map_or(&batch.meta, |(_, m)| m);
    if !current.matches(meta) {
        let mut m = crate::output::BatchMeta::default();
        m.set(meta);
        batch.meta_changes.push((batch.ends.len() as u32, m));
    }
}

fn apply_host_token(
    tok: &Token,
    host: &str,
    rng: &mut Rng,
    dt: &DateTime<FixedOffset>,
    latest: &DateTime<FixedOffset>,
    sample: &SamplePlan,
) -> String {
    let mut rows = vec![None; sample.file_count];
    render_slow(host, std::slice::from_ref(tok), |_, out| {
        let mut cx = ValueContext {
            rng,
            time: dt,
            latest,
            rates: &sample.rates,
            rows: &mut rows,
            counters: &[],
            replay: false,
            format_index: 0,
        };
        tok.render_value(&mut cx, out);
    })
}

pub mod counter;
pub mod jinja;
pub mod probe;
pub mod times;
