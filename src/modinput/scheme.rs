//! The introspection scheme printed for `--scheme`: what splunkd shows in Settings > Data
//! inputs, how it runs us (one process per stanza, XML streaming, external validation) and the
//! one argument we declare. `README/inputs.conf.spec` must list the same arguments; a test in
//! `tests/app_package.rs` holds the two together.

use super::xml::escape;

/// What an argument's value looks like, as splunkd's scheme spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataType {
    String,
    Number,
    Boolean,
}

impl DataType {
    fn as_str(self) -> &'static str {
        match self {
            DataType::String => "string",
            DataType::Number => "number",
            DataType::Boolean => "boolean",
        }
    }
}

/// One `<arg>` of the scheme: a parameter of `[modinput_eventgen://name]` beyond the ones
/// every input has.
#[derive(Debug, Clone, Copy)]
pub struct Arg {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub data_type: DataType,
    pub required_on_create: bool,
    pub required_on_edit: bool,
}

/// Shown as the input kind's name in Splunk Web.
pub const TITLE: &str = "Eventgen";

pub const DESCRIPTION: &str = "Generates synthetic events from the eventgen.conf and samples of \
every enabled app.";

/// The arguments we declare. Eventgen declares only `verbosity`, required on create and edit;
/// `default/inputs.conf` gives it a value so existing stanzas always have one. `shard` is ours
/// and optional.
pub const ARGS: &[Arg] = &[
    Arg {
        name: "verbosity",
        title: "Verbosity",
        description: "Logging level: 10 (DEBUG), 20 (INFO), 30 (WARN), 40 (ERROR) or 50 (CRITICAL)",
        data_type: DataType::Number,
        required_on_create: true,
        required_on_edit: true,
    },
    Arg {
        name: "shard",
        title: "Shard",
        description: "Generate only shard K of N (K/N, K from 0 to N-1): N inputs with the same \
                      eventgen.conf together generate the configured volume once. Empty: all.",
        data_type: DataType::String,
        required_on_create: false,
        required_on_edit: false,
    },
];

/// The `<scheme>` document, with an XML declaration and a final newline.
pub fn scheme_xml() -> String {
    let mut out = String::with_capacity(1024);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<scheme>\n");
    element(&mut out, 1, "title", TITLE);
    element(&mut out, 1, "description", DESCRIPTION);
    element(&mut out, 1, "use_external_validation", "true");
    element(&mut out, 1, "streaming_mode", "xml");
    element(&mut out, 1, "use_single_instance", "false");
    out.push_str("  <endpoint>\n    <args>\n");
    for arg in ARGS {
        out.push_str(&format!("      <arg name=\"{}\">\n", escape(arg.name)));
        element(&mut out, 4, "title", arg.title);
        element(&mut out, 4, "description", arg.description);
        element(&mut out, 4, "data_type", arg.data_type.as_str());
        element(
            &mut out,
            4,
            "required_on_create",
            bool_word(arg.required_on_create),
        );
        element(
            &mut out,
            4,
            "required_on_edit",
            bool_word(arg.required_on_edit),
        );
        out.push_str("      </arg>\n");
    }
    out.push_str("    </args>\n  </endpoint>\n</scheme>\n");
    out
}

fn element(out: &mut String, depth: usize, name: &str, text: &str) {
    for _ in 0..depth {
        out.push_str("  ");
    }
    out.push_str(&format!("<{name}>{}</{name}>\n", escape(text)));
}

fn bool_word(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

#[cfg(test)]
mod tests {
    use super::super::xml::parse;
    use super::*;

    #[test]
    fn scheme_parses_back_with_every_field() {
        let doc = parse(&scheme_xml()).unwrap();
        assert_eq!(doc.name, "scheme");
        assert_eq!(doc.child_text("title"), "Eventgen");
        assert_eq!(doc.child_text("description"), DESCRIPTION);
        assert_eq!(doc.child_text("use_external_validation"), "true");
        assert_eq!(doc.child_text("streaming_mode"), "xml");
        assert_eq!(doc.child_text("use_single_instance"), "false");
        let args = &doc
            .child("endpoint")
            .unwrap()
            .child("args")
            .unwrap()
            .children;
        assert_eq!(args.len(), 2);
        assert_eq!(args[1].attr("name"), Some("shard"));
        assert_eq!(args[1].child_text("required_on_create"), "false");
        let verbosity = &args[0];
        assert_eq!(verbosity.name, "arg");
        assert_eq!(verbosity.attr("name"), Some("verbosity"));
        assert_eq!(verbosity.child_text("title"), "Verbosity");
        assert!(verbosity.child_text("description").contains("40 (ERROR)"));
        assert_eq!(verbosity.child_text("data_type"), "number");
        assert_eq!(verbosity.child_text("required_on_create"), "true");
        assert_eq!(verbosity.child_text("required_on_edit"), "true");
    }

    #[test]
    fn scheme_and_argument_names_follow_splunk_rules() {
        let ok = |s: &str| {
            let mut chars = s.chars();
            chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        assert!(ok(super::super::SCHEME));
        for arg in ARGS {
            assert!(ok(arg.name), "{}", arg.name);
        }
    }
}
