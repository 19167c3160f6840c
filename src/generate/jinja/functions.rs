//! The functions, filters and objects the jinja environment adds to minijinja: Eventgen's time
//! functions, a `random` filter on the worker's RNG, Python printf formatting, mutable lists and
//! Python-style value printing.

use std::sync::{Arc, Mutex};

use minijinja::value::{Enumerator, Kwargs, Object, ObjectRepr, Value, ValueKind, from_args};
use minijinja::{Error, ErrorKind, State};

use super::DEFAULT_DATE_FORMAT;
use super::state::{RENDER_STATE_VAR, RenderState, micros_to_secs};
use crate::timing::{MICROS_PER_SEC, Tz};

/// Prints values as Jinja2 does where minijinja differs: `True`/`False` and `None`.
pub(super) fn python_formatter(
    out: &mut minijinja::Output,
    state: &mut State,
    value: &Value,
) -> Result<(), Error> {
    match value.kind() {
        ValueKind::Bool => out.write_str(if value.is_true() { "True" } else { "False" }),
        ValueKind::None => out.write_str("None"),
        _ => return minijinja::escape_formatter(out, state, value),
    }
    .map_err(Error::from)
}

/// Formats an epoch (seconds) with a Python strftime format in `tz`. `%z`/`%Z` render empty, as
/// for Eventgen's naive datetimes.
/// Formats an epoch in the sample's zone with Python's strftime rules. As in Eventgen, whose
/// template times are naive, `%z` and `%Z` print nothing here.
fn format_time(epoch_secs: f64, fmt: &str, tz: Tz) -> String {
    let micros = (epoch_secs * MICROS_PER_SEC as f64).round() as i64;
    let naive = fmt
        .replace("%%", "\u{0}")
        .replace("%z", "")
        .replace("%Z", "")
        .replace('\u{0}', "%%");
    crate::timing::strftime::TimeFormat::compile(&naive).render_to_string(&tz.datetime(micros))
}

fn with_render_state<T>(state: &State, f: impl FnOnce(&RenderState) -> T) -> Result<T, Error> {
    let value = state.lookup(RENDER_STATE_VAR).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidOperation,
            "eventgen render state is missing",
        )
    })?;
    let rs = value.downcast_object_ref::<RenderState>().ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidOperation,
            "eventgen render state was overwritten",
        )
    })?;
    Ok(f(rs))
}

fn draw_below(state: &State, n: usize) -> Result<usize, Error> {
    with_render_state(state, |rs| rs.lock_rng().below(n as u64) as usize)
}

/// Jinja2's `random` filter, drawing from the worker's RNG. An empty sequence gives undefined
/// (which renders empty), as in Jinja2.
pub(super) fn random_filter(state: &State, value: &Value) -> Result<Value, Error> {
    if let Some(s) = value.as_str() {
        let chars: Vec<char> = s.chars().collect();
        if chars.is_empty() {
            return Ok(Value::UNDEFINED);
        }
        let i = draw_below(state, chars.len())?;
        return Ok(Value::from(chars[i].to_string()));
    }
    if value.is_undefined() || value.is_none() {
        return Ok(Value::UNDEFINED);
    }
    if value.kind() == ValueKind::Seq
        && let Some(len) = value.len()
    {
        if len == 0 {
            return Ok(Value::UNDEFINED);
        }
        let i = draw_below(state, len)?;
        return value.get_item_by_index(i);
    }
    let items: Vec<Value> = value.try_iter()?.collect();
    if items.is_empty() {
        return Ok(Value::UNDEFINED);
    }
    let i = draw_below(state, items.len())?;
    Ok(items[i].clone())
}

/// Python's `float(x)` for template arguments: numbers and numeric strings (macro output too).
fn to_f64(value: &Value, what: &str) -> Result<f64, Error> {
    let parsed = match value.as_str() {
        Some(s) => s.trim().parse::<f64>().ok(),
        None => f64::try_from(value.clone()).ok(),
    };
    parsed.filter(|f| f.is_finite()).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("{what} must be a number, got {value}"),
        )
    })
}

fn date_format_arg(positional: Option<&Value>, kwargs: &Kwargs) -> Result<String, Error> {
    let named: Option<Value> = kwargs.get("date_format")?;
    Ok(match named.as_ref().or(positional) {
        Some(v) if !v.is_none() && !v.is_undefined() => v.to_string(),
        _ => DEFAULT_DATE_FORMAT.to_string(),
    })
}

/// `time_now([date_format])` → `[epoch seconds (whole, as a float), formatted now]`.
pub(super) fn time_now(
    state: &State,
    positional: &[Value],
    kwargs: Kwargs,
) -> Result<Value, Error> {
    if positional.len() > 1 {
        return Err(Error::new(
            ErrorKind::TooManyArguments,
            "time_now takes only date_format",
        ));
    }
    let format = date_format_arg(positional.first(), &kwargs)?;
    kwargs.assert_all_used()?;
    let (now, tz) = with_render_state(state, |rs| (rs.now, rs.tz))?;
    let epoch = now.div_euclid(MICROS_PER_SEC) as f64;
    let formatted = format_time(micros_to_secs(now), &format, tz);
    Ok(Value::from(vec![
        Value::from(epoch),
        Value::from(formatted),
    ]))
}

/// `time_slice(earliest, latest, count, slices[, date_format])` → `[start of slice number
/// count (from 0) of [earliest, latest] cut in slices parts, formatted start]`. A count past
/// the last slice continues beyond `latest`, as in Eventgen.
pub(super) fn time_slice(
    state: &State,
    positional: &[Value],
    kwargs: Kwargs,
) -> Result<Value, Error> {
    const NAMES: [&str; 5] = ["earliest", "latest", "count", "slices", "date_format"];
    if positional.len() > NAMES.len() {
        return Err(Error::new(
            ErrorKind::TooManyArguments,
            "time_slice takes at most 5 arguments",
        ));
    }
    let mut values: [Option<Value>; 4] = Default::default();
    for (i, slot) in values.iter_mut().enumerate() {
        let named: Option<Value> = kwargs.get(NAMES[i])?;
        *slot = positional.get(i).cloned().or(named);
    }
    let format = date_format_arg(positional.get(4), &kwargs)?;
    kwargs.assert_all_used()?;
    let arg = |i: usize| {
        values[i].as_ref().ok_or_else(|| {
            Error::new(
                ErrorKind::MissingArgument,
                format!("time_slice needs {}", NAMES[i]),
            )
        })
    };
    let earliest = to_f64(arg(0)?, "earliest")?;
    let latest = to_f64(arg(1)?, "latest")?;
    let count = to_f64(arg(2)?, "count")?.trunc();
    let slices = to_f64(arg(3)?, "slices")?.trunc();
    if slices <= 0.0 {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "time_slice: slices must be at least 1",
        ));
    }
    let start = earliest + (latest - earliest) / slices * count;
    let tz = with_render_state(state, |rs| rs.tz)?;
    let formatted = format_time(start, &format, tz);
    Ok(Value::from(vec![
        Value::from(start),
        Value::from(formatted),
    ]))
}

/// `'fmt' % args` (rewritten from templates): a tuple/list spreads into the arguments.
pub(super) fn pyformat(format: &str, args: Value) -> Result<String, Error> {
    let values: Vec<Value> = if args.kind() == ValueKind::Seq {
        args.try_iter()?.collect()
    } else {
        vec![args]
    };
    minijinja::formatting::format(minijinja::formatting::FormatStyle::Printf, format, &values)
}

/// The list behind a template's `[]`: supports Python's mutating list methods.
#[derive(Debug, Default)]
struct MutableList {
    items: Mutex<Vec<Value>>,
}

impl MutableList {
    fn items(&self) -> std::sync::MutexGuard<'_, Vec<Value>> {
        self.items.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub(super) fn new_list() -> Value {
    Value::from_object(MutableList::default())
}

impl Object for MutableList {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let items = self.items();
        let idx = key.as_i64()?;
        let idx = if idx < 0 {
            items.len() as i64 + idx
        } else {
            idx
        };
        items.get(usize::try_from(idx).ok()?).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.items().clone())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let mut items = self.items();
        match method {
            "append" => {
                let (item,): (Value,) = from_args(args)?;
                items.push(item);
                Ok(Value::from(()))
            }
            "extend" => {
                let (more,): (Value,) = from_args(args)?;
                let more: Vec<Value> = more.try_iter()?.collect();
                items.extend(more);
                Ok(Value::from(()))
            }
            "insert" => {
                let (at, item): (i64, Value) = from_args(args)?;
                let len = items.len() as i64;
                let at = if at < 0 {
                    (len + at).max(0)
                } else {
                    at.min(len)
                };
                items.insert(at as usize, item);
                Ok(Value::from(()))
            }
            "pop" => {
                let (at,): (Option<i64>,) = from_args(args)?;
                let len = items.len() as i64;
                let at = at.unwrap_or(-1);
                let at = if at < 0 { len + at } else { at };
                if at < 0 || at >= len {
                    return Err(Error::new(
                        ErrorKind::InvalidOperation,
                        "pop index out of range",
                    ));
                }
                Ok(items.remove(at as usize))
            }
            "remove" => {
                let (item,): (Value,) = from_args(args)?;
                match items.iter().position(|v| *v == item) {
                    Some(p) => {
                        items.remove(p);
                        Ok(Value::from(()))
                    }
                    None => Err(Error::new(
                        ErrorKind::InvalidOperation,
                        "list.remove(x): x not in list",
                    )),
                }
            }
            "clear" => {
                let () = from_args(args)?;
                items.clear();
                Ok(Value::from(()))
            }
            "index" => {
                let (item,): (Value,) = from_args(args)?;
                items
                    .iter()
                    .position(|v| *v == item)
                    .map(Value::from)
                    .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "x not in list"))
            }
            "count" => {
                let (item,): (Value,) = from_args(args)?;
                Ok(Value::from(items.iter().filter(|v| **v == item).count()))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}
