//! `--validate-arguments`: the `<items>` document splunkd sends when an input is created or
//! edited through Splunk Web or REST, the checks on its parameters, and the `<error>` reply.
//!
//! The same checks serve a normal run ([`validate_params`] on each stanza), because editing
//! inputs.conf on disk skips splunkd's validation call.
//!
//! Accepted parameters: `verbosity` (one of 10, 20, 30, 40, 50), `shard` (`K/N` or `auto`, as
//! `--shard` takes it; empty for the whole volume), the booleans `disabled` and
//! `start_by_shell` (true/false/t/f/1/0 in any case), `interval` (seconds, `-1`, or a 5-field
//! cron schedule), the free-text generic settings `host`, `index`, `source`, `sourcetype`,
//! `queue`, `name`, `python.version` and `python.required`, and splunkd's internal settings,
//! whose names start with `_` (`_TCP_ROUTING`, `_meta`, `_rcvbuf`, ...). Anything else is
//! rejected with Eventgen's message.

use super::xml::{self, escape};
use super::{Param, ParamValue};

/// The verbosity values Eventgen accepts (Python logging levels).
pub const VERBOSITY_LEVELS: [u32; 5] = [10, 20, 30, 40, 50];

const BOOLEAN_FIELDS: &[&str] = &["disabled", "start_by_shell"];
const TEXT_FIELDS: &[&str] = &[
    "host",
    "index",
    "source",
    "sourcetype",
    "queue",
    "name",
    "python.version",
    "python.required",
];

/// The one `<item>` of a validation request. `name` has no `scheme://` prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationItem {
    pub name: String,
    pub params: Vec<Param>,
}

/// Parses the `<items>` document. It must hold exactly one `<item name=…>`.
pub fn parse_validation(text: &str) -> Result<ValidationItem, String> {
    let root = xml::parse(text)?;
    if root.name != "items" {
        return Err(format!("expected an <items> document, got <{}>", root.name));
    }
    let mut items = root.children.iter().filter(|c| c.name == "item");
    let item = items.next().ok_or("the <items> document has no <item>")?;
    if items.next().is_some() {
        return Err("the <items> document has more than one <item>".to_string());
    }
    let name = item
        .attr("name")
        .ok_or("<item> has no name attribute")?
        .to_string();
    Ok(ValidationItem {
        name,
        params: super::parse_params(item)?,
    })
}

/// Checks the item's parameters; see [`validate_params`].
pub fn validate(item: &ValidationItem) -> Result<(), String> {
    validate_params(&item.params)
}

/// Checks every parameter and reports all problems at once, joined with "; ".
pub fn validate_params(params: &[Param]) -> Result<(), String> {
    let problems: Vec<String> = params.iter().filter_map(|p| check(p).err()).collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

fn check(param: &Param) -> Result<(), String> {
    let name = param.name.as_str();
    let known = name == "verbosity"
        || name == "shard"
        || name == "interval"
        || BOOLEAN_FIELDS.contains(&name)
        || TEXT_FIELDS.contains(&name)
        || name.starts_with('_');
    if !known {
        return Err(format!("The parameter '{name}' is not a valid argument"));
    }
    let value = match &param.value {
        ParamValue::Single(v) => v.as_str(),
        ParamValue::List(_) if name.starts_with('_') => return Ok(()),
        ParamValue::List(_) => return Err(format!("The parameter '{name}' takes a single value")),
    };
    if name == "verbosity" {
        return parse_verbosity(value).map(|_| ());
    }
    if name == "shard" {
        return parse_shard(value).map(|_| ());
    }
    if name == "interval" && !is_interval(value) {
        return Err(format!(
            "Invalid value provided for interval: '{value}' is neither a number of seconds nor a \
             5-field cron schedule"
        ));
    }
    if BOOLEAN_FIELDS.contains(&name) && parse_bool(value).is_none() {
        return Err(format!(
            "Invalid value provided for {name}: '{value}' is not one of true, false, t, f, 1, 0"
        ));
    }
    Ok(())
}

/// Parses a verbosity value (surrounding spaces allowed) into one of [`VERBOSITY_LEVELS`].
pub fn parse_verbosity(value: &str) -> Result<u32, String> {
    value
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|v| VERBOSITY_LEVELS.contains(v))
        .ok_or_else(|| {
            format!(
                "Invalid value provided for verbosity, must be one of the following: \
                 {{10, 20, 30, 40, 50}} (got '{value}')"
            )
        })
}

/// Parses the `shard` parameter (`K/N`, `auto` or `auto/N`; `auto` reads the environment).
/// Empty (or only spaces) is the whole volume, as inputs.conf.spec says. The error names the
/// value and what is allowed.
pub fn parse_shard(value: &str) -> Result<crate::shard::Shard, String> {
    if value.trim().is_empty() {
        return Ok(crate::shard::Shard::WHOLE);
    }
    crate::shard::Shard::parse(value, "Invalid value provided for shard:", |k| {
        std::env::var(k).ok()
    })
    .map_err(|e| format!("{e} (allowed: {SHARD_ALLOWED})"))
}

/// What the `shard` parameter accepts, for messages.
pub const SHARD_ALLOWED: &str = "empty for the whole volume, K/N with K from 0 to N-1 such as \
                                 1/4, or auto or auto/N where JOB_COMPLETION_INDEX is set";

/// Eventgen's boolean words, in any case.
pub fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "t" | "1" => Some(true),
        "false" | "f" | "0" => Some(false),
        _ => None,
    }
}

/// Seconds (an integer such as `60` or `-1`, or a decimal such as `0.5`) or a cron schedule of
/// five fields made of digits, names, `*`, `/`, `,`, `-` and `?`.
fn is_interval(value: &str) -> bool {
    let value = value.trim();
    if value.parse::<i64>().is_ok() {
        return true;
    }
    if value
        .parse::<f64>()
        .is_ok_and(|f| f.is_finite() && f >= 0.0)
    {
        return true;
    }
    let fields: Vec<&str> = value.split_whitespace().collect();
    fields.len() == 5
        && fields.iter().all(|f| {
            f.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '*' | '/' | ',' | '-' | '?'))
        })
}

/// The reply to a failed validation: `<error><message>…</message></error>`, message escaped.
pub fn error_xml(message: &str) -> String {
    format!("<error><message>{}</message></error>", escape(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(params: &str) -> String {
        format!(
            "<items><server_host>sh1</server_host><server_uri>https://127.0.0.1:8089</server_uri>\
             <session_key>abc</session_key><checkpoint_dir>/opt/splunk/var/lib/splunk/modinputs/\
             modinput_eventgen</checkpoint_dir><item name=\"default\">{params}</item></items>"
        )
    }

    fn single(name: &str, value: &str) -> Param {
        Param {
            name: name.into(),
            value: ParamValue::Single(value.into()),
        }
    }

    #[test]
    fn parses_the_item_and_its_params() {
        let item = parse_validation(&items(
            "<param name=\"verbosity\">40</param><param name=\"disabled\">0</param>\
             <param_list name=\"_meta\"><value>a::b</value><value>c::d</value></param_list>",
        ))
        .unwrap();
        assert_eq!(item.name, "default");
        assert_eq!(
            item.params,
            vec![
                single("verbosity", "40"),
                single("disabled", "0"),
                Param {
                    name: "_meta".into(),
                    value: ParamValue::List(vec!["a::b".into(), "c::d".into()])
                },
            ]
        );
        assert_eq!(validate(&item), Ok(()));
    }

    #[test]
    fn rejects_documents_of_the_wrong_shape() {
        assert!(
            parse_validation("<input/>")
                .unwrap_err()
                .contains("<items>")
        );
        assert!(
            parse_validation("<items/>")
                .unwrap_err()
                .contains("no <item>")
        );
        let two = "<items><item name=\"a\"/><item name=\"b\"/></items>";
        assert!(parse_validation(two).unwrap_err().contains("more than one"));
        let odd = items("<weird name=\"x\">1</weird>");
        assert!(
            parse_validation(&odd)
                .unwrap_err()
                .contains("unexpected element <weird>")
        );
        assert!(parse_validation("<items><item name=\"a\">").is_err());
    }

    #[test]
    fn accepts_every_standard_field() {
        let params = [
            single("verbosity", "10"),
            single("disabled", "TRUE"),
            single("start_by_shell", "f"),
            single("interval", "60"),
            single("interval", "-1"),
            single("interval", "0.5"),
            single("interval", "*/5 * * * *"),
            single("host", "sh1"),
            single("index", "main"),
            single("source", "eventgen"),
            single("sourcetype", "eventgen"),
            single("python.version", "python3"),
            single("name", "default"),
            single("_TCP_ROUTING", "*"),
        ];
        assert_eq!(validate_params(&params), Ok(()));
    }

    #[test]
    fn rejections_say_what_is_wrong_and_list_every_problem() {
        let err = validate_params(&[single("verbosity", "35")]).unwrap_err();
        assert_eq!(
            err,
            "Invalid value provided for verbosity, must be one of the following: \
             {10, 20, 30, 40, 50} (got '35')"
        );
        assert!(
            validate_params(&[single("verbosity", "abc")])
                .unwrap_err()
                .contains("'abc'")
        );
        assert_eq!(
            validate_params(&[single("count", "5")]).unwrap_err(),
            "The parameter 'count' is not a valid argument"
        );
        assert!(
            validate_params(&[single("disabled", "maybe")])
                .unwrap_err()
                .contains("disabled")
        );
        assert!(
            validate_params(&[single("interval", "soon")])
                .unwrap_err()
                .contains("interval")
        );
        assert!(validate_params(&[single("interval", "* * * *")]).is_err());
        let list = Param {
            name: "index".into(),
            value: ParamValue::List(vec!["a".into()]),
        };
        assert!(
            validate_params(&[list])
                .unwrap_err()
                .contains("single value")
        );
        let both = validate_params(&[single("verbosity", "1"), single("bogus", "x")]).unwrap_err();
        assert!(both.contains("verbosity") && both.contains("'bogus'") && both.contains("; "));
    }

    #[test]
    fn error_xml_escapes_the_message() {
        assert_eq!(
            error_xml("bad <value> & more"),
            "<error><message>bad &lt;value&gt; &amp; more</message></error>"
        );
        let doc = xml::parse(&error_xml("a & b")).unwrap();
        assert_eq!(doc.child_text("message"), "a & b");
    }
}
