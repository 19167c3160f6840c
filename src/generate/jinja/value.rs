//! `jinja_variables`: JSON text to the template values the render state answers with.

use std::collections::BTreeMap;

use minijinja::value::Value;

pub(super) fn parse_variables(text: &str) -> Result<Value, String> {
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
