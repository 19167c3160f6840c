//! Every credential a configuration holds, found in the raw stanzas as they are read, before
//! any message is printed and whether or not the output that would use it can be built:
//! values of password, token and secret keys (`splunkPass`, `awsSecretKey`, `scsAccessToken`,
//! …), `"key"`/`"token"`/`"password"` members of JSON values (`httpeventServers`), and the
//! password of credentials embedded in URLs or hosts (`https://user:pw@host`, `user:pw@host`).
//! The logger redacts them from every line; `check` scrubs what it prints with the same list.

use crate::conf::Stanza;

/// Shortest secret redacted: a shorter one would blank out letters of every message.
const MIN_LEN: usize = 3;

/// Key name endings (lower case) whose whole value is a secret.
const SECRET_KEY_ENDINGS: &[&str] = &[
    "pass",
    "password",
    "passwd",
    "token",
    "secret",
    "secretkey",
    "sessionkey",
    "keyid",
];

/// JSON member names (lower case) whose string value is a secret.
const SECRET_MEMBERS: &[&str] = &["key", "token", "password", "pass", "secret"];

/// The secrets of `stanza`'s settings.
pub fn in_stanza(stanza: &Stanza, out: &mut Vec<String>) {
    for (key, setting) in stanza.settings.iter() {
        in_setting(key, &setting.value, out);
    }
}

/// The secrets of one `key = value`.
pub fn in_setting(key: &str, value: &str, out: &mut Vec<String>) {
    let lower = key.to_ascii_lowercase();
    let value = value.trim();
    // `token.N.token` is a sample token's pattern, not a credential.
    if !lower.starts_with("token.") && SECRET_KEY_ENDINGS.iter().any(|e| lower.ends_with(e)) {
        push(value, out);
    }
    if (value.starts_with('[') || value.starts_with('{'))
        && let Ok(json) = serde_json::from_str::<serde_json::Value>(value)
    {
        in_json(&json, out);
    }
    in_text(value, out);
}

fn in_json(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Array(items) => items.iter().for_each(|i| in_json(i, out)),
        serde_json::Value::Object(members) => {
            for (name, value) in members {
                match value {
                    serde_json::Value::String(s)
                        if SECRET_MEMBERS.contains(&name.to_ascii_lowercase().as_str()) =>
                    {
                        push(s, out)
                    }
                    serde_json::Value::String(s) => in_text(s, out),
                    other => in_json(other, out),
                }
            }
        }
        serde_json::Value::String(s) => in_text(s, out),
        _ => {}
    }
}

/// Passwords of `user:password@host` credentials anywhere in `text`.
fn in_text(text: &str, out: &mut Vec<String>) {
    let words =
        text.split(|c: char| c.is_whitespace() || matches!(c, ',' | '"' | '\'' | '[' | ']'));
    for word in words {
        let Some(at) = word.rfind('@') else { continue };
        let creds = &word[..at];
        let creds = creds.split_once("://").map_or(creds, |(_, rest)| rest);
        if let Some((_, password)) = creds.split_once(':') {
            push(password, out);
            if let Ok(decoded) = percent_decode(password) {
                push(&decoded, out);
            }
        }
    }
}

fn percent_decode(s: &str) -> Result<String, ()> {
    if !s.contains('%') {
        return Err(());
    }
    let bytes: Vec<u8> = form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned().into_bytes())
        .ok_or(())?;
    String::from_utf8(bytes).map_err(|_| ())
}

fn push(secret: &str, out: &mut Vec<String>) {
    let s = secret.trim();
    // `${env:NAME}` / `${file:PATH}` say where the secret is, not what it is: messages name
    // them, and the value they resolve to is registered when it is read (conf::reference).
    let reference = matches!(crate::conf::reference::parse_reference(s), Ok(Some(_)));
    if !reference && s.chars().count() >= MIN_LEN && !out.iter().any(|o| o == s) {
        out.push(s.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(key: &str, value: &str) -> Vec<String> {
        let mut out = Vec::new();
        in_setting(key, value, &mut out);
        out
    }

    #[test]
    fn credentials_in_keys_json_urls_and_hosts() {
        assert_eq!(found("splunkPass", " hunter2 "), ["hunter2"]);
        assert_eq!(found("splunkHost", "admin:hunter2@127.0.0.1"), ["hunter2"]);
        assert_eq!(
            found("splunkHost", r#"["idx1", "https://u:s3cret@idx2:8089"]"#),
            ["s3cret"]
        );
        assert_eq!(
            found(
                "httpeventServers",
                r#"{"servers":[{"protocol":"https","address":"h","port":"8088","key":"00000000-aaaa"}]}"#
            ),
            ["00000000-aaaa"]
        );
        assert_eq!(
            found("splunkProxy", "http://me:p%40ss@proxy:3128"),
            ["p%40ss", "p@ss"]
        );
        assert_eq!(found("awsSecretKey", "abcdef"), ["abcdef"]);
        assert_eq!(found("scsAccessToken", "tok123"), ["tok123"]);
    }

    #[test]
    fn ordinary_settings_hold_none() {
        assert!(found("token.0.token", "password=\\S+").is_empty());
        assert!(found("token.0.replacement", "user@example.com").is_empty());
        assert!(found("httpeventClientKey", "/etc/key.pem").is_empty());
        assert!(found("splunkHost", "127.0.0.1").is_empty());
        assert!(found("splunkPass", "pw").is_empty(), "too short to redact");
        assert!(found("splunkPass", "${file:/run/secrets/pw}").is_empty());
        assert!(
            found(
                "httpeventServers",
                r#"{"servers":[{"protocol":"https","address":"h","port":"8088","key":"${env:HEC_TOKEN}"}]}"#
            )
            .is_empty()
        );
    }
}
