//! Secrets by reference, in the spelling of OpenTelemetry Collector configs: the value of a
//! secret-bearing key may be `${env:NAME}` (the environment variable NAME) or
//! `${file:PATH}` (the file's content, trailing line breaks trimmed; a relative PATH is taken
//! from the folder of the `.conf` file that holds the setting). This is how platforms hand out
//! secrets: Kubernetes Secrets as variables or mounted files, systemd credentials, CI secrets.
//!
//! Secret-bearing keys: each HEC server's `"key"` in `httpeventServers`, `splunkUser`,
//! `splunkPass`, and the keys of the other outputs that hold credentials (`awsKeyId`,
//! `awsSecretKey`, …). The output that reads such a key resolves it while the plan is built
//! ([`secret`], [`hec_servers`]); the value is registered with the logger as a secret at once
//! (so no later message can show it), and a reference that cannot be resolved (variable unset
//! or empty, file missing, unreadable or empty) is an error located at the key, which leaves
//! that sample out. Messages name the variable or file, never a value.

use std::path::{Path, PathBuf};

use crate::conf::Setting;
use crate::log;

/// A file larger than this is not a secret (a mistaken path, say).
const MAX_FILE: u64 = 64 * 1024;

/// What a value refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference<'a> {
    Env(&'a str),
    File(&'a str),
}

/// `Ok(None)` for a plain value, `Ok(Some(..))` for a reference, `Err` for a value that looks
/// like a reference but is not a valid one (Eventgen has no references, so a literal `${env:`
/// in a secret is far less likely than a typo).
pub fn parse_reference(value: &str) -> Result<Option<Reference<'_>>, String> {
    let v = value.trim();
    let Some(inner) = v.strip_prefix("${").and_then(|r| r.strip_suffix('}')) else {
        if v.contains("${env:") || v.contains("${file:") {
            return Err(
                "a ${env:NAME} or ${file:PATH} reference must be the whole value".to_string(),
            );
        }
        return Ok(None);
    };
    match inner.split_once(':') {
        Some(("env", name)) => {
            let valid = !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if valid {
                Ok(Some(Reference::Env(name)))
            } else {
                Err(format!(
                    "${{env:{name}}}: not a variable name (letters, digits and _, not starting with a digit)"
                ))
            }
        }
        Some(("file", path)) if !path.trim().is_empty() => Ok(Some(Reference::File(path.trim()))),
        Some(("file", _)) => Err("${file:}: the path is empty".to_string()),
        _ => Err(format!(
            "{v}: unknown reference; use ${{env:NAME}} or ${{file:PATH}}"
        )),
    }
}

/// The value `reference` stands for. `conf_dir` is where a relative file path starts.
pub fn resolve(reference: &Reference, conf_dir: Option<&Path>) -> Result<String, String> {
    match reference {
        Reference::Env(name) => match std::env::var_os(name) {
            None => Err(format!(
                "${{env:{name}}}: the environment variable {name} is not set"
            )),
            Some(v) => match v.into_string() {
                Err(_) => Err(format!(
                    "${{env:{name}}}: the environment variable {name} is not valid UTF-8"
                )),
                Ok(v) if v.trim().is_empty() => Err(format!(
                    "${{env:{name}}}: the environment variable {name} is empty"
                )),
                Ok(v) => Ok(v),
            },
        },
        Reference::File(path) => {
            let p = PathBuf::from(path);
            let full = match conf_dir {
                Some(dir) if p.is_relative() => dir.join(&p),
                _ => p,
            };
            let what = format!("${{file:{path}}}");
            let meta = std::fs::metadata(&full)
                .map_err(|e| format!("{what}: cannot read {}: {e}", full.display()))?;
            if !meta.is_file() {
                return Err(format!("{what}: {} is not a file", full.display()));
            }
            if meta.len() > MAX_FILE {
                return Err(format!(
                    "{what}: {} is larger than {} KiB, too large for a secret",
                    full.display(),
                    MAX_FILE / 1024
                ));
            }
            let bytes = std::fs::read(&full)
                .map_err(|e| format!("{what}: cannot read {}: {e}", full.display()))?;
            let text = String::from_utf8(bytes)
                .map_err(|_| format!("{what}: {} is not UTF-8 text", full.display()))?;
            let value = text.trim_end_matches(['\n', '\r']);
            if value.trim().is_empty() {
                return Err(format!("{what}: {} is empty", full.display()));
            }
            Ok(value.to_string())
        }
    }
}

/// `value` with its reference resolved (registered as a secret), or unchanged when it is none.
fn resolve_value(value: &str, setting: &Setting) -> Result<String, String> {
    let Some(reference) = parse_reference(value)? else {
        return Ok(value.to_string());
    };
    let resolved = resolve(&reference, setting.location.file.parent())?;
    log::global().add_secret(&resolved);
    Ok(resolved)
}

/// The value of a secret-bearing setting (`splunkPass`, `awsSecretKey`, …): a reference
/// resolved, a plain value as written. Outputs call this for every secret key they read, so
/// that a reference is resolved only when its output is used (`--output stdout` needs no
/// token). The error says what is wrong without the value; locate it at the key.
pub fn secret(setting: &Setting) -> Result<String, String> {
    resolve_value(&setting.value, setting)
}

/// `httpeventServers`' JSON with each server's `"key"` resolved (the HEC tokens). Text that is
/// not the expected shape is returned as it is, for the HEC output to report.
pub fn hec_servers(setting: &Setting) -> Result<String, Vec<String>> {
    let text = &setting.value;
    if !text.contains("${") {
        return Ok(text.clone());
    }
    let Ok(mut json) = serde_json::from_str::<serde_json::Value>(text) else {
        return Ok(text.clone());
    };
    let Some(list) = json.get_mut("servers").and_then(|l| l.as_array_mut()) else {
        return Ok(text.clone());
    };
    let mut errors = Vec::new();
    for (i, server) in list.iter_mut().enumerate() {
        if let Some(serde_json::Value::String(key)) = server.get_mut("key") {
            match resolve_value(key, setting) {
                Ok(v) => *key = v,
                Err(msg) => errors.push(format!("server {}: \"key\": {msg}", i + 1)),
            }
        }
    }
    if errors.is_empty() {
        Ok(json.to_string())
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_whole_values_of_env_or_file() {
        assert_eq!(parse_reference("plain"), Ok(None));
        assert_eq!(parse_reference("$notref"), Ok(None));
        assert_eq!(
            parse_reference(" ${env:HEC_TOKEN} "),
            Ok(Some(Reference::Env("HEC_TOKEN")))
        );
        assert_eq!(
            parse_reference("${file:/run/secrets/token}"),
            Ok(Some(Reference::File("/run/secrets/token")))
        );
        for bad in [
            "${env:}",
            "${env:1X}",
            "${env:A-B}",
            "${file:}",
            "${vault:x}",
            "${HEC}",
            "Bearer ${env:X}",
        ] {
            assert!(parse_reference(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn files_are_trimmed_of_trailing_line_breaks_and_must_not_be_empty() {
        let dir = std::env::temp_dir().join(format!("eventgen-secrets-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("t"), "abc def\r\n\n").unwrap();
        std::fs::write(dir.join("empty"), "\n").unwrap();
        assert_eq!(
            resolve(&Reference::File("t"), Some(&dir)).as_deref(),
            Ok("abc def")
        );
        let e = resolve(&Reference::File("empty"), Some(&dir)).unwrap_err();
        assert!(e.contains("is empty"), "{e}");
        let e = resolve(&Reference::File("missing"), Some(&dir)).unwrap_err();
        assert!(e.starts_with("${file:missing}: cannot read"), "{e}");
        let e = resolve(&Reference::Env("EVENTGEN_TEST_SURELY_UNSET_VAR"), None).unwrap_err();
        assert!(e.contains("is not set"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
