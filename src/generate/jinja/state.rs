//! The render state: the template's root context and what its functions reach (the worker's
//! RNG, the clock, the window's and the cycle's `eventgen_*` values, then `jinja_variables`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use minijinja::value::Value;

use super::JinjaCycle;
use crate::rng::Rng;
use crate::timing::{MICROS_PER_SEC, Micros, Tz};

/// The context variable holding the per-render state (RNG, clock); the leading underscores keep
/// it out of `import`ed modules' exports and away from user variable names.
pub(super) const RENDER_STATE_VAR: &str = "__eventgen_state";

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

/// How the render state reads the value of one of its names.
type Read = fn(&RenderState) -> Value;

/// Every `eventgen_*` name the render state answers (without the prefix), with how each is
/// read. They shadow `jinja_variables` of the same name.
const EVENTGEN_VARIABLES: [(&str, Read); 10] = [
    ("count", |s| Value::from(s.cycle.load(Ordering::Relaxed))),
    ("maxcount", |s| Value::from(s.max_count)),
    ("earliest", |s| s.earliest_text.clone()),
    ("latest", |s| s.latest_text.clone()),
    ("earliest_epoch", |s| Value::from(s.earliest)),
    ("latest_epoch", |s| Value::from(s.latest)),
    ("target_time_earliest", |s| s.target(0)),
    ("target_time_latest", |s| s.target(1)),
    ("target_time_slice_size", |s| Value::from(s.slice_size)),
    ("target_time_epoch", |s| s.target(2)),
];

const PREFIX: &str = "eventgen_";

/// How to read `name` if it is one of [`EVENTGEN_VARIABLES`].
fn eventgen_variable(name: &str) -> Option<Read> {
    let field = name.strip_prefix(PREFIX)?;
    EVENTGEN_VARIABLES
        .iter()
        .find(|(n, _)| *n == field)
        .map(|(_, read)| *read)
}

impl RenderState {
    /// The state of a job's renders: `ctx` gives the window (everything but `cycle`).
    pub(super) fn new(ctx: &JinjaCycle, variables: Value) -> RenderState {
        let earliest = micros_to_secs(ctx.earliest);
        let latest = micros_to_secs(ctx.latest);
        let max_count = ctx.max_count;
        RenderState {
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
            variables,
        }
    }

    /// Sets the values of cycle `cycle`: its index and its target time slice, with a target
    /// time drawn from `rng` (before the render, as Eventgen does).
    pub(super) fn start_cycle(&self, cycle: u64, rng: &mut Rng) {
        let target_earliest = self.earliest + self.slice_size * cycle as f64;
        let target_latest = target_earliest + self.slice_size;
        let lo = (target_earliest * 100.0).floor() as i64;
        let hi = ((target_latest * 100.0).floor() as i64).max(lo);
        let target_epoch = rng.range_inclusive(lo, hi) as f64 / 100.0;
        self.cycle.store(cycle, Ordering::Relaxed);
        for (slot, v) in self
            .target
            .iter()
            .zip([target_earliest, target_latest, target_epoch])
        {
            slot.store(v.to_bits(), Ordering::Relaxed);
        }
    }

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
        if name == RENDER_STATE_VAR {
            return Some(Value::from_dyn_object(self.clone()));
        }
        match eventgen_variable(name) {
            Some(read) => Some(read(self)),
            None => self.variables.as_object()?.get_value(key),
        }
    }

    fn enumerate(self: &Arc<Self>) -> minijinja::value::Enumerator {
        let mut keys: Vec<Value> = EVENTGEN_VARIABLES
            .iter()
            .map(|(n, _)| Value::from(format!("{PREFIX}{n}")))
            .collect();
        keys.push(Value::from(RENDER_STATE_VAR));
        if let Ok(names) = self.variables.try_iter() {
            keys.extend(names.filter(|k| {
                !k.as_str()
                    .is_some_and(|k| k == RENDER_STATE_VAR || eventgen_variable(k).is_some())
            }));
        }
        minijinja::value::Enumerator::Values(keys)
    }
}

pub(super) fn micros_to_secs(t: Micros) -> f64 {
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
