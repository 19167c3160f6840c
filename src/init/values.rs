//! Values that vary between events: IPv4 and IPv6 addresses, MACs, GUIDs, e-mail addresses,
//! long hex IDs, and the values of well-known keys (`user=`, `src=`, `host=`, `status=`,
//! `bytes=`, and the same names as JSON fields).
//!
//! Addresses and IDs become `random` tokens (`ipv4` when anonymising, else a file of the
//! addresses seen, which keeps the input's networks); users, hosts and status codes become
//! `file` tokens with the values seen, in the proportions seen; numeric keys become
//! `random integer[lo:hi]` over the range seen. With `--anonymize` every address, e-mail, MAC,
//! user and host value is replaced, in the sample and in the replacement files, by a
//! synthetic one of the same shape.

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv6Addr;
use std::sync::LazyLock;

use regex::Regex;

use super::{Claims, Replacement, TokenPlan};

/// Most lines a replacement file gets: enough for the proportions of common values.
const MAX_FILE_LINES: usize = 1000;

/// Event, start and end of a value.
type Span = (usize, usize, usize);

/// One change of the sample text when anonymising: event, span, new text.
pub type Edit = (usize, usize, usize, String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Role {
    User,
    Host,
    Address,
    Status,
    Number,
}

/// The role of a well-known key (compared without case).
fn role(key: &str) -> Option<Role> {
    let k = key.to_ascii_lowercase();
    let k = k.as_str();
    Some(match k {
        "user" | "username" | "user_name" | "src_user" | "dest_user" | "suser" | "duser"
        | "account" | "account_name" | "accountname" | "login" | "uname" | "userid" | "user_id" => {
            Role::User
        }
        "host" | "hostname" | "host_name" | "src_host" | "dest_host" | "dvc" | "dvc_host"
        | "computer" | "computername" | "computer_name" | "server" | "device" => Role::Host,
        "src" | "dest" | "dst" | "src_ip" | "dest_ip" | "dst_ip" | "client" | "clientip"
        | "client_ip" | "server_ip" | "ip" | "remote_addr" | "remote_ip" | "source_ip"
        | "destination_ip" | "c_ip" | "s_ip" => Role::Address,
        "status" | "status_code" | "statuscode" | "http_status" | "response_code"
        | "result_code" | "sc_status" | "code" => Role::Status,
        "bytes" | "bytes_in" | "bytes_out" | "sent_bytes" | "received_bytes" | "size" | "len"
        | "length" | "duration" | "duration_ms" | "elapsed" | "time_taken" | "response_time"
        | "latency" | "pid" | "port" | "src_port" | "dest_port" | "dst_port" | "spt" | "dpt"
        | "sport" | "dport" | "count" | "sc_bytes" | "cs_bytes" => Role::Number,
        _ => return None,
    })
}

/// The address and ID kinds, most specific first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Email,
    Guid,
    Mac,
    Ipv6,
    Ipv4,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Email => "e-mail address",
            Kind::Guid => "GUID",
            Kind::Mac => "MAC address",
            Kind::Ipv6 => "IPv6 address",
            Kind::Ipv4 => "IPv4 address",
        }
    }

    /// The token regex: the same text the search finds, never more.
    fn regex(self) -> &'static str {
        match self {
            Kind::Email => {
                r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}\b"
            }
            Kind::Guid => {
                r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
            }
            Kind::Mac => r"\b[0-9A-Fa-f]{2}(?:[:\-][0-9A-Fa-f]{2}){5}\b",
            Kind::Ipv6 => {
                r"(?:\b(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}\b|\b(?:[0-9A-Fa-f]{1,4}:)+:(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4})*)?\b|::(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4})*)\b)"
            }
            Kind::Ipv4 => {
                r"\b(?:25[0-4]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}\b"
            }
        }
    }

    fn valid(self, text: &str, before: Option<u8>, after: &[u8]) -> bool {
        let dotted_digit =
            |b: &[u8]| b.first() == Some(&b'.') && b.get(1).is_some_and(u8::is_ascii_digit);
        match self {
            // A netmask (255.255.255.0) is configuration, not an address that varies.
            Kind::Ipv4 => !dotted_digit(after) && before != Some(b'.') && !text.starts_with("255."),
            Kind::Ipv6 => {
                text.parse::<Ipv6Addr>().is_ok()
                    && text.split(':').filter(|g| !g.is_empty()).count() >= 2
                    && before != Some(b':')
                    && after.first() != Some(&b':')
            }
            Kind::Mac => {
                let sep = text.as_bytes()[2];
                text.bytes()
                    .filter(|&b| b == b':' || b == b'-')
                    .all(|b| b == sep)
            }
            _ => true,
        }
    }
}

const KINDS: [Kind; 5] = [Kind::Email, Kind::Guid, Kind::Mac, Kind::Ipv6, Kind::Ipv4];

/// Where a key's value sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Syntax {
    /// `key=value`
    Bare,
    /// `key="value"`
    Quoted,
    /// `"key": "value"`
    JsonString,
    /// `"key": 123`
    JsonNumber,
}

/// Finds the values of `events`, claims their spans and returns their tokens and, when
/// anonymising, the edits that replace every original value in the sample.
pub fn detect(
    events: &[String],
    claims: &mut Claims,
    anonymize: bool,
) -> (Vec<TokenPlan>, Vec<Edit>) {
    let mut tokens = Vec::new();
    let mut synth = Synthetic::default();
    let mut edits = Vec::new();
    for kind in KINDS {
        let re = Regex::new(kind.regex()).expect("kind regex");
        let mut seen = Vec::new();
        for (ev, text) in events.iter().enumerate() {
            let b = text.as_bytes();
            for m in re.find_iter(text) {
                let before = m.start().checked_sub(1).map(|i| b[i]);
                if !kind.valid(m.as_str(), before, &b[m.end()..])
                    || !claims.is_free(ev, m.start(), m.end())
                {
                    continue;
                }
                claims.claim(ev, m.start(), m.end());
                seen.push(m.as_str().to_string());
                if anonymize {
                    edits.push((ev, m.start(), m.end(), synth.address(kind, m.as_str())));
                }
            }
        }
        if seen.is_empty() {
            continue;
        }
        let replacement = match kind {
            Kind::Guid => Replacement::Random("guid".into()),
            Kind::Mac => Replacement::Random("mac".into()),
            Kind::Ipv6 if anonymize => Replacement::Random("ipv6".into()),
            Kind::Ipv4 if anonymize => Replacement::Random("ipv4".into()),
            Kind::Email if anonymize => file(
                "email",
                seen.iter().map(|v| synth.address(kind, v)).collect(),
            ),
            Kind::Email => file("email", seen.clone()),
            Kind::Ipv6 => file("ipv6", seen.clone()),
            Kind::Ipv4 => file("ip", seen.clone()),
        };
        tokens.push(TokenPlan {
            regex: kind.regex().to_string(),
            replacement,
            what: kind.name().to_string(),
            count: seen.len(),
            events: 0,
        });
    }
    tokens.extend(key_tokens(
        events, claims, anonymize, &mut synth, &mut edits,
    ));
    tokens.extend(hex_tokens(events, claims));
    (tokens, edits)
}

fn file(kind: &str, mut values: Vec<String>) -> Replacement {
    values.truncate(MAX_FILE_LINES);
    Replacement::File {
        kind: kind.to_string(),
        values,
    }
}

fn key_tokens(
    events: &[String],
    claims: &mut Claims,
    anonymize: bool,
    synth: &mut Synthetic,
    edits: &mut Vec<Edit>,
) -> Vec<TokenPlan> {
    static BARE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?:^|[^\w.\-])([A-Za-z_][\w]*)=(?:"([^"\n]*)"|([^\s,;&"'\]\)\}]+))"#)
            .expect("kv regex")
    });
    static JSON: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#""([A-Za-z_][\w]*)"\s*:\s*(?:"([^"\\\n]*)"|(-?\d+)\b)"#).expect("json regex")
    });
    let mut groups: BTreeMap<(String, Syntax), Vec<String>> = BTreeMap::new();
    let mut spans: BTreeMap<(String, Syntax), Vec<Span>> = BTreeMap::new();
    for (ev, text) in events.iter().enumerate() {
        for (re, json) in [(&*BARE, false), (&*JSON, true)] {
            for c in re.captures_iter(text) {
                let key = c.get(1).expect("key").as_str();
                if role(key).is_none() {
                    continue;
                }
                let (v, syntax) = match (c.get(2), c.get(3), json) {
                    (Some(v), _, false) => (v, Syntax::Quoted),
                    (None, Some(v), false) => (v, Syntax::Bare),
                    (Some(v), _, true) => (v, Syntax::JsonString),
                    (None, Some(v), true) => (v, Syntax::JsonNumber),
                    _ => continue,
                };
                if v.as_str().is_empty()
                    || v.as_str() == "-"
                    || !claims.is_free(ev, v.start(), v.end())
                {
                    continue;
                }
                claims.claim(ev, v.start(), v.end());
                let k = (key.to_string(), syntax);
                groups
                    .entry(k.clone())
                    .or_default()
                    .push(v.as_str().to_string());
                spans.entry(k).or_default().push((ev, v.start(), v.end()));
            }
        }
    }
    let mut tokens = Vec::new();
    for ((key, syntax), values) in groups {
        let r = role(&key).expect("known key");
        let numbers: Option<Vec<i64>> = values.iter().map(|v| v.parse::<i64>().ok()).collect();
        let numeric = numbers.is_some();
        let k = regex::escape(&key);
        let value_re = match (syntax, numeric) {
            (Syntax::Bare, true) | (Syntax::JsonNumber, _) => r"(-?\d+)".to_string(),
            (Syntax::Bare, false) => r#"([^\s,;&"'\]\)\}]+)"#.to_string(),
            (Syntax::Quoted | Syntax::JsonString, true) => r#""(-?\d+)""#.to_string(),
            (Syntax::Quoted | Syntax::JsonString, false) => r#""([^"\n]*)""#.to_string(),
        };
        let regex = match syntax {
            Syntax::Bare | Syntax::Quoted => format!(r"\b{k}={value_re}"),
            Syntax::JsonString | Syntax::JsonNumber => format!(r#""{k}"\s*:\s*{value_re}"#),
        };
        let what = format!("{key} value");
        let replacement = match (r, numbers) {
            (Role::Number, Some(n)) => {
                let (lo, hi) = (
                    n.iter().min().copied().unwrap_or(0),
                    n.iter().max().copied().unwrap_or(0),
                );
                if lo == hi {
                    continue;
                }
                Replacement::Random(format!("integer[{lo}:{hi}]"))
            }
            (Role::Number, None) => continue,
            (Role::Status, _) => file(&key, values.clone()),
            (Role::User | Role::Host | Role::Address, Some(_)) => continue,
            (Role::User | Role::Host | Role::Address, None) if anonymize => {
                for &(ev, s, e) in &spans[&(key.clone(), syntax)] {
                    edits.push((ev, s, e, synth.named(r, &events[ev][s..e])));
                }
                file(&key, values.iter().map(|v| synth.named(r, v)).collect())
            }
            (Role::User | Role::Host | Role::Address, None) => file(&key, values.clone()),
        };
        tokens.push(TokenPlan {
            regex,
            replacement,
            what,
            count: values.len(),
            events: 0,
        });
    }
    tokens
}

/// Long hex IDs (16 digits or more, letters and digits both present), one token per length.
fn hex_tokens(events: &[String], claims: &mut Claims) -> Vec<TokenPlan> {
    static HEX: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\b[0-9a-fA-F]{16,}\b").expect("hex regex"));
    let mut by_len: BTreeMap<(usize, bool), usize> = BTreeMap::new();
    for (ev, text) in events.iter().enumerate() {
        for m in HEX.find_iter(text) {
            let s = m.as_str();
            let letters = s.bytes().any(|b| b.is_ascii_alphabetic());
            let digits = s.bytes().any(|b| b.is_ascii_digit());
            let upper = s.bytes().any(|b| b.is_ascii_uppercase());
            let lower = s.bytes().any(|b| b.is_ascii_lowercase());
            if !letters || !digits || (upper && lower) || !claims.is_free(ev, m.start(), m.end()) {
                continue;
            }
            claims.claim(ev, m.start(), m.end());
            *by_len.entry((s.len(), upper)).or_default() += 1;
        }
    }
    by_len
        .into_iter()
        .map(|((n, upper), count)| TokenPlan {
            regex: if upper {
                format!(r"\b[0-9A-F]{{{n}}}\b")
            } else {
                format!(r"\b[0-9a-f]{{{n}}}\b")
            },
            replacement: Replacement::Random(format!("hex({n})")),
            what: format!("hex ID ({n} digits)"),
            count,
            events: 0,
        })
        .collect()
}

/// Consistent synthetic stand-ins for original values (the same original, the same stand-in).
#[derive(Debug, Default)]
struct Synthetic {
    map: HashMap<(u8, String), String>,
}

impl Synthetic {
    fn get(&mut self, class: u8, original: &str, make: impl FnOnce(usize) -> String) -> String {
        let n = self.map.len() + 1;
        self.map
            .entry((class, original.to_string()))
            .or_insert_with(|| make(n))
            .clone()
    }

    fn address(&mut self, kind: Kind, original: &str) -> String {
        match kind {
            Kind::Ipv4 => self.get(0, original, |n| {
                format!(
                    "10.{}.{}.{}",
                    (n >> 16) & 255,
                    (n >> 8) & 255,
                    (n & 255).max(1)
                )
            }),
            Kind::Ipv6 => self.get(1, original, |n| format!("fd00::{:x}", n)),
            Kind::Mac => self.get(2, original, |n| {
                format!("02:00:00:00:{:02x}:{:02x}", (n >> 8) & 255, n & 255)
            }),
            Kind::Email => self.get(3, original, |n| format!("user{n:03}@example.com")),
            Kind::Guid => original.to_string(),
        }
    }

    fn named(&mut self, role: Role, original: &str) -> String {
        match role {
            Role::User => self.get(4, original, |n| format!("user{n:03}")),
            Role::Host => self.get(5, original, |n| format!("host{n:03}")),
            _ => self.get(6, original, |n| format!("host{n:03}.example.com")),
        }
    }
}

/// Applies anonymising edits to the events.
pub fn apply_edits(events: &mut [String], mut edits: Vec<Edit>) {
    edits.sort_by_key(|e| std::cmp::Reverse((e.0, e.1)));
    for (ev, s, e, new) in edits {
        events[ev].replace_range(s..e, &new);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(line: &str) -> Vec<(String, Replacement)> {
        let events = vec![format!("{line}\n")];
        let mut claims = Claims::new(1);
        detect(&events, &mut claims, false)
            .0
            .into_iter()
            .map(|t| (t.what, t.replacement))
            .collect()
    }

    #[test]
    fn addresses_and_ids() {
        let f = found(
            "src=10.1.2.3 v6=fe80::1ff:fe23:4567:890a mac=00:1b:44:11:3a:b7 id=123e4567-e89b-12d3-a456-426614174000 mail=a.b@example.org sha=da39a3ee5e6b4b0d3255bfef95601890afd80709",
        );
        let names: Vec<&str> = f.iter().map(|(w, _)| w.as_str()).collect();
        for want in [
            "IPv4 address",
            "IPv6 address",
            "MAC address",
            "GUID",
            "e-mail address",
            "hex ID (40 digits)",
        ] {
            assert!(names.contains(&want), "{want}: {names:?}");
        }
    }

    #[test]
    fn not_addresses() {
        assert!(found("version 1.2.3.4.5 at 10:11:12").is_empty());
    }

    #[test]
    fn well_known_keys() {
        let events: Vec<String> = [
            "user=alice status=200 bytes=10",
            "user=bob status=404 bytes=300",
        ]
        .iter()
        .map(|l| format!("{l}\n"))
        .collect();
        let mut claims = Claims::new(2);
        let (t, _) = detect(&events, &mut claims, false);
        let by: HashMap<_, _> = t
            .iter()
            .map(|t| (t.what.as_str(), &t.replacement))
            .collect();
        assert_eq!(
            by["bytes value"],
            &Replacement::Random("integer[10:300]".into())
        );
        assert!(
            matches!(by["user value"], Replacement::File { values, .. } if values == &["alice", "bob"])
        );
    }
}
