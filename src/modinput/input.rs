//! The `<input>` document splunkd writes to stdin for a normal run: where splunkd is, the
//! session key for its REST API, the checkpoint folder, and the enabled stanzas with their
//! parameters (inherited values included). In per-stanza mode there is exactly one stanza; an
//! empty `<configuration/>` means there is nothing to run.

use std::fmt;

use super::xml;
use super::{Param, SCHEME};

/// The parsed `<input>` document. Its `Debug` output hides the session key.
#[derive(Clone, PartialEq, Eq)]
pub struct InputDoc {
    pub server_host: String,
    pub server_uri: String,
    pub session_key: String,
    pub checkpoint_dir: String,
    pub stanzas: Vec<Stanza>,
}

/// One `<stanza name="modinput_eventgen://default" app="SA-Eventgen">`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stanza {
    /// The full name, `scheme://instance`.
    pub name: String,
    /// The app whose inputs.conf defines the stanza, when splunkd says.
    pub app: Option<String>,
    pub params: Vec<Param>,
}

impl Stanza {
    /// The instance part of the name (after `modinput_eventgen://`), or the whole name when it
    /// has another shape.
    pub fn instance(&self) -> &str {
        self.name
            .strip_prefix(SCHEME)
            .and_then(|rest| rest.strip_prefix("://"))
            .unwrap_or(&self.name)
    }
}

impl fmt::Debug for InputDoc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = if self.session_key.is_empty() {
            ""
        } else {
            "********"
        };
        f.debug_struct("InputDoc")
            .field("server_host", &self.server_host)
            .field("server_uri", &self.server_uri)
            .field("session_key", &key)
            .field("checkpoint_dir", &self.checkpoint_dir)
            .field("stanzas", &self.stanzas)
            .finish()
    }
}

/// Parses the `<input>` document. Missing header elements become empty strings (a hand-made
/// document for testing may leave them out); a missing `<configuration>` means no stanzas.
pub fn parse_input(text: &str) -> Result<InputDoc, String> {
    let root = xml::parse(text)?;
    if root.name != "input" {
        return Err(format!("expected an <input> document, got <{}>", root.name));
    }
    let mut stanzas = Vec::new();
    if let Some(conf) = root.child("configuration") {
        for el in &conf.children {
            if el.name != "stanza" {
                return Err(format!(
                    "unexpected element <{}> in <configuration>",
                    el.name
                ));
            }
            let name = el
                .attr("name")
                .ok_or("<stanza> has no name attribute")?
                .to_string();
            let app = el.attr("app").map(str::to_string);
            stanzas.push(Stanza {
                name,
                app,
                params: super::parse_params(el)?,
            });
        }
    }
    Ok(InputDoc {
        server_host: root.child_text("server_host"),
        server_uri: root.child_text("server_uri"),
        session_key: root.child_text("session_key"),
        checkpoint_dir: root.child_text("checkpoint_dir"),
        stanzas,
    })
}

#[cfg(test)]
mod tests {
    use super::super::{ParamValue, param};
    use super::*;

    /// Shaped like `splunk cmd splunkd print-modinput-config modinput_eventgen default` output.
    const INPUT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<input>
  <server_host>idx-01.example.com</server_host>
  <server_uri>https://127.0.0.1:8089</server_uri>
  <session_key>Q8x^Ajn_1Vd0LkX3m2Pk&amp;zz</session_key>
  <checkpoint_dir>/opt/splunk/var/lib/splunk/modinputs/modinput_eventgen</checkpoint_dir>
  <configuration>
    <stanza name="modinput_eventgen://default" app="SA-Eventgen">
      <param name="disabled">0</param>
      <param name="host">idx-01.example.com</param>
      <param name="index">default</param>
      <param name="interval">60</param>
      <param name="python.version">python3</param>
      <param name="start_by_shell">false</param>
      <param name="verbosity">40</param>
      <param_list name="_meta"><value>env::lab</value><value>team::a &lt;b&gt;</value></param_list>
    </stanza>
  </configuration>
</input>
"#;

    #[test]
    fn parses_a_realistic_input_document() {
        let doc = parse_input(INPUT).unwrap();
        assert_eq!(doc.server_host, "idx-01.example.com");
        assert_eq!(doc.server_uri, "https://127.0.0.1:8089");
        assert_eq!(doc.session_key, "Q8x^Ajn_1Vd0LkX3m2Pk&zz");
        assert_eq!(
            doc.checkpoint_dir,
            "/opt/splunk/var/lib/splunk/modinputs/modinput_eventgen"
        );
        assert_eq!(doc.stanzas.len(), 1);
        let stanza = &doc.stanzas[0];
        assert_eq!(stanza.name, "modinput_eventgen://default");
        assert_eq!(stanza.instance(), "default");
        assert_eq!(stanza.app.as_deref(), Some("SA-Eventgen"));
        assert_eq!(stanza.params.len(), 8);
        assert_eq!(param(&stanza.params, "verbosity"), Some("40"));
        assert_eq!(param(&stanza.params, "interval"), Some("60"));
        assert_eq!(param(&stanza.params, "_meta"), None);
        assert_eq!(
            stanza.params[7].value,
            ParamValue::List(vec!["env::lab".into(), "team::a <b>".into()])
        );
        assert_eq!(
            super::super::validate::validate_params(&stanza.params),
            Ok(())
        );
    }

    #[test]
    fn debug_output_hides_the_session_key() {
        let doc = parse_input(INPUT).unwrap();
        let shown = format!("{doc:?}");
        assert!(!shown.contains("Q8x^Ajn"), "{shown}");
        assert!(shown.contains("session_key: \"********\""), "{shown}");
        assert!(shown.contains("modinput_eventgen://default"));
    }

    #[test]
    fn empty_configuration_means_no_stanzas() {
        let doc =
            parse_input("<input><server_host>h</server_host><configuration/></input>").unwrap();
        assert!(doc.stanzas.is_empty());
        assert_eq!(doc.session_key, "");
        let doc = parse_input("<input></input>").unwrap();
        assert!(doc.stanzas.is_empty());
    }

    #[test]
    fn rejects_bad_documents() {
        assert!(parse_input("<items/>").unwrap_err().contains("<input>"));
        assert!(parse_input("<input><configuration><x/></configuration></input>").is_err());
        assert!(parse_input("<input><configuration><stanza/></configuration></input>").is_err());
        let bad_param = "<input><configuration><stanza name=\"a\"><p name=\"x\"/></stanza>\
                         </configuration></input>";
        assert!(
            parse_input(bad_param)
                .unwrap_err()
                .contains("unexpected element <p>")
        );
        assert!(parse_input("<input><configuration>").is_err());
    }

    #[test]
    fn instance_keeps_names_of_another_shape() {
        let s = Stanza {
            name: "other://x".into(),
            app: None,
            params: vec![],
        };
        assert_eq!(s.instance(), "other://x");
    }
}
