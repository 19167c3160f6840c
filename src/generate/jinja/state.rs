//! The render state: the template's root context and what its functions reach (the worker's
//! RNG, the clock, the window's and the cycle's `eventgen_*` values, then `jinja_variables`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use minijinja::value::Value;

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
    pub(super) max_count: u64,
    pub(super) earliest_text: Value,
    pub(super) latest_text: Value,
    pub(super) earliest: f64,
    pub(super) latest: f64,
    pub(super) slice_size: f64,
    pub(super) cycle: AtomicU64,
    /// `eventgen_target_time_earliest`, `_latest` and `_epoch`, as `f64` bits.
    pub(super) target: [AtomicU64; 3],
    pub(super) variables: Value,
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

pub(super) fn micros_to_secs(t: Micros) -> f64 {
    t as f64 / MICROS_PER_SEC as f64
}

/// Python's `str(datetime)`: `YYYY-MM-DD HH:MM:SS[.ffffff]`, in the sample's zone.
pub(super) fn python_datetime(t: Micros, tz: Tz) -> String {
    let dt = tz.datetime(t);
    if t.rem_euclid(MICROS_PER_SEC) == 0 {
        dt.format("%Y-%m-%d %H:%M:%S").to_string()
    } else {
        dt.format("%Y-%m-%d %H:%M:%S.%6f").to_string()
    }
}
