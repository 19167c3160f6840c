//! Everything splunkd's modular input protocol asks of the binary, apart from generating events:
//! the introspection scheme (`--scheme`), argument validation (`--validate-arguments`), the
//! `<input>` document of a normal run, and finding the enabled apps under `$SPLUNK_HOME`. Its
//! messages go through the crate's logger (`crate::log`), which also writes eventgen.log.
//!
//! The event stream itself (`<stream>`/`<event>`) is written by `output::modinput`.

pub mod apps;
pub mod input;
pub mod run;
pub mod scheme;
pub mod validate;
mod xml;

pub use xml::{decode, escape, read_document};

/// The modular input kind: the part before `://` in inputs.conf, and the executable's name.
pub const SCHEME: &str = "modinput_eventgen";

/// The Splunk app id: the package's top folder, `[package] id` and `[id] name` in app.conf.
pub const APP_ID: &str = "SA-Eventgen";

/// The app version; app.conf carries the same string (a test checks it).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// One parameter of an input stanza: `<param name=…>text</param>` or, for multi-valued
/// parameters, `<param_list name=…><value>…</value>…</param_list>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    pub value: ParamValue,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamValue {
    Single(String),
    List(Vec<String>),
}

impl Param {
    /// The value of a single-valued parameter; `None` for a list.
    pub fn single(&self) -> Option<&str> {
        match &self.value {
            ParamValue::Single(v) => Some(v),
            ParamValue::List(_) => None,
        }
    }
}

/// The single value of the parameter called `name`, if present and single-valued.
pub fn param<'a>(params: &'a [Param], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|p| p.name == name)
        .and_then(Param::single)
}

/// Reads the `<param>`/`<param_list>` children of an `<item>` or `<stanza>` element. Any other
/// child element is an error, as in the SDK.
fn parse_params(parent: &xml::Element) -> Result<Vec<Param>, String> {
    let where_ = || {
        let name = parent.attr("name").unwrap_or("");
        format!("<{} name=\"{name}\">", parent.name)
    };
    let mut params = Vec::with_capacity(parent.children.len());
    for child in &parent.children {
        let name = child
            .attr("name")
            .ok_or_else(|| format!("{}: <{}> has no name attribute", where_(), child.name))?
            .to_string();
        let value = match child.name.as_str() {
            "param" => ParamValue::Single(child.text.trim().to_string()),
            "param_list" => {
                let mut values = Vec::with_capacity(child.children.len());
                for v in &child.children {
                    if v.name != "value" {
                        return Err(format!(
                            "{}: unexpected <{}> in <param_list name=\"{name}\">",
                            where_(),
                            v.name
                        ));
                    }
                    values.push(v.text.trim().to_string());
                }
                ParamValue::List(values)
            }
            other => return Err(format!("{}: unexpected element <{other}>", where_())),
        };
        params.push(Param { name, value });
    }
    Ok(params)
}
