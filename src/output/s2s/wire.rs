//! The bytes of Splunk's cooked S2S stream: the signature block that opens a connection, the
//! v3 capabilities exchange, and one message per event. Every integer is a big-endian `u32`;
//! a string is its length including a NUL terminator, its bytes, then the NUL.
//!
//! An event message is `size`, `map count`, the key/value pairs (`_MetaData:Index`,
//! `MetaData:Host` = `host::H`, `MetaData:Source` = `source::S`, `MetaData:Sourcetype` =
//! `sourcetype::T`, each only when not empty, then `_time`, `_done`, `_raw`), a zero `u32` and
//! the string `_raw`. `size` counts every byte after itself.
//!
//! [`Decoder`] reads a stream back (signature, then messages); the unit tests, the
//! integration tests and the benchmark's receiver use it.

use crate::output::EventMeta;
use crate::output::bytes::trim_end;
use crate::timing::MICROS_PER_SEC;

/// Length of the signature block: 128 bytes of signature, 256 of server name, 16 of port.
pub const SIGNATURE_LEN: usize = 128 + 256 + 16;

/// The signature block of protocol `version` (2 or 3) for a forwarder named `server_name`
/// whose management port is `mgmt_port`; fields NUL-padded (and cut to fit).
pub fn signature(version: u8, server_name: &str, mgmt_port: u16) -> Vec<u8> {
    let mut out = vec![0u8; SIGNATURE_LEN];
    let sig = format!("--splunk-cooked-mode-v{version}--");
    let fill = |out: &mut [u8], text: &[u8]| {
        // Keep one NUL at the end of every field.
        let n = text.len().min(out.len() - 1);
        out[..n].copy_from_slice(&text[..n]);
    };
    fill(&mut out[..128], sig.as_bytes());
    fill(&mut out[128..384], server_name.as_bytes());
    fill(&mut out[384..], mgmt_port.to_string().as_bytes());
    out
}

fn put_u32(out: &mut Vec<u8>, n: u32) {
    out.extend_from_slice(&n.to_be_bytes());
}

/// A string: length with the NUL, bytes, NUL.
fn put_str(out: &mut Vec<u8>, parts: &[&[u8]]) {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    put_u32(out, (len + 1) as u32);
    for p in parts {
        out.extend_from_slice(p);
    }
    out.push(0);
}

fn put_kv(out: &mut Vec<u8>, key: &[u8], value: &[&[u8]]) {
    put_str(out, &[key]);
    put_str(out, value);
}

/// Appends the metadata pairs of `meta` (index, host, source, sourcetype; the empty ones left
/// out). Their count is [`meta_pairs`].
pub fn write_meta(meta: &EventMeta<'_>, out: &mut Vec<u8>) {
    if !meta.index.is_empty() {
        put_kv(out, b"_MetaData:Index", &[meta.index.as_bytes()]);
    }
    if !meta.host.is_empty() {
        put_kv(out, b"MetaData:Host", &[b"host::", meta.host.as_bytes()]);
    }
    if !meta.source.is_empty() {
        put_kv(
            out,
            b"MetaData:Source",
            &[b"source::", meta.source.as_bytes()],
        );
    }
    if !meta.sourcetype.is_empty() {
        put_kv(
            out,
            b"MetaData:Sourcetype",
            &[b"sourcetype::", meta.sourcetype.as_bytes()],
        );
    }
}

/// Number of pairs [`write_meta`] writes for `meta`.
pub fn meta_pairs(meta: &EventMeta<'_>) -> u32 {
    [meta.index, meta.host, meta.source, meta.sourcetype]
        .iter()
        .filter(|s| !s.is_empty())
        .count() as u32
}

/// Appends the message of one event, its metadata pairs already encoded in `meta_bytes`
/// (`pairs` of them). `_raw` is the text without trailing whitespace; `_time` whole seconds.
pub fn encode_event_with(time: i64, pairs: u32, meta_bytes: &[u8], raw: &[u8], out: &mut Vec<u8>) {
    let raw = trim_end(raw);
    let start = out.len();
    put_u32(out, 0); // size, filled in below
    put_u32(out, pairs + 3);
    out.extend_from_slice(meta_bytes);
    let mut secs = itoa::Buffer::new();
    put_kv(
        out,
        b"_time",
        &[secs.format(time.div_euclid(MICROS_PER_SEC)).as_bytes()],
    );
    put_kv(out, b"_done", &[b"_done"]);
    put_kv(out, b"_raw", &[raw]);
    put_u32(out, 0);
    put_str(out, &[b"_raw"]);
    let size = (out.len() - start - 4) as u32;
    out[start..start + 4].copy_from_slice(&size.to_be_bytes());
}

/// Appends the message of one event.
pub fn encode_event(meta: &EventMeta<'_>, raw: &[u8], out: &mut Vec<u8>) {
    let mut m = Vec::new();
    write_meta(meta, &mut m);
    encode_event_with(meta.time, meta_pairs(meta), &m, raw, out);
}

/// A control message: the pairs given, then `_done` and an empty `_raw` (as forwarders send
/// the v3 capabilities).
pub fn control_message(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    put_u32(&mut out, 0);
    put_u32(&mut out, pairs.len() as u32 + 2);
    for (k, v) in pairs {
        put_kv(&mut out, k.as_bytes(), &[v.as_bytes()]);
    }
    put_kv(&mut out, b"_done", &[b"_done"]);
    put_kv(&mut out, b"_raw", &[b""]);
    put_u32(&mut out, 0);
    put_str(&mut out, &[b"_raw"]);
    let size = (out.len() - 4) as u32;
    out[..4].copy_from_slice(&size.to_be_bytes());
    out
}

/// What a forwarder announces after a v3 signature: no acknowledgements, no compression.
pub fn capabilities() -> Vec<u8> {
    control_message(&[("__s2s_capabilities", "ack=0;compression=0")])
}

/// The receiver's answer to the capabilities: `Ok` on `cap_response=success`, else what it
/// said instead.
pub fn capabilities_reply(body: &[u8]) -> Result<(), String> {
    let msg = decode_message(body).map_err(|e| format!("unreadable reply ({e})"))?;
    let control = msg
        .fields
        .iter()
        .find(|(k, _)| k == "__s2s_control_msg")
        .map(|(_, v)| v.as_str())
        .ok_or_else(|| "its reply has no __s2s_control_msg".to_string())?;
    let response = control
        .split(';')
        .find_map(|kv| kv.strip_prefix("cap_response="))
        .unwrap_or("");
    if response == "success" {
        Ok(())
    } else {
        Err(format!("it refused the capabilities: {control}"))
    }
}

/// One decoded message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    pub index: String,
    pub host: String,
    pub source: String,
    pub sourcetype: String,
    pub time: Option<i64>,
    pub raw: String,
    /// Other pairs, in order (`_done` left out).
    pub fields: Vec<(String, String)>,
}

fn take<'a>(b: &mut &'a [u8], n: usize) -> Result<&'a [u8], String> {
    if b.len() < n {
        return Err(format!("{n} bytes expected, {} left", b.len()));
    }
    let (head, rest) = b.split_at(n);
    *b = rest;
    Ok(head)
}

fn get_u32(b: &mut &[u8]) -> Result<u32, String> {
    let h = take(b, 4)?;
    Ok(u32::from_be_bytes([h[0], h[1], h[2], h[3]]))
}

fn get_str(b: &mut &[u8]) -> Result<String, String> {
    let len = get_u32(b)? as usize;
    if len == 0 {
        return Err("a string of length 0 (no NUL)".into());
    }
    let s = take(b, len)?;
    if s[len - 1] != 0 {
        return Err("a string without its NUL".into());
    }
    Ok(String::from_utf8_lossy(&s[..len - 1]).into_owned())
}

/// Decodes the body of one message (the bytes after its size).
pub fn decode_message(mut b: &[u8]) -> Result<Message, String> {
    let b = &mut b;
    let pairs = get_u32(b)?;
    let mut m = Message::default();
    for _ in 0..pairs {
        let k = get_str(b)?;
        let v = get_str(b)?;
        let strip = |v: String, p: &str| v.strip_prefix(p).map(str::to_string).unwrap_or(v);
        match k.as_str() {
            "_MetaData:Index" => m.index = v,
            "MetaData:Host" => m.host = strip(v, "host::"),
            "MetaData:Source" => m.source = strip(v, "source::"),
            "MetaData:Sourcetype" => m.sourcetype = strip(v, "sourcetype::"),
            "_time" => m.time = Some(v.parse().map_err(|_| format!("_time {v:?}"))?),
            "_raw" => m.raw = v,
            "_done" => {}
            _ => m.fields.push((k, v)),
        }
    }
    if get_u32(b)? != 0 {
        return Err("no zero after the pairs".into());
    }
    if get_str(b)? != "_raw" {
        return Err("no _raw trailer".into());
    }
    if !b.is_empty() {
        return Err(format!("{} bytes after the trailer", b.len()));
    }
    Ok(m)
}

/// Reads a stream as a receiver does: the signature block, then messages.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
    /// Protocol version and server name, once the signature block is in.
    pub signature: Option<(u8, String)>,
}

impl Decoder {
    /// Adds bytes; returns the messages they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<Message>, String> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        let mut at = 0;
        if self.signature.is_none() {
            if self.buf.len() < SIGNATURE_LEN {
                return Ok(out);
            }
            let field = |r: std::ops::Range<usize>| {
                let f = &self.buf[r];
                let end = f.iter().position(|&c| c == 0).unwrap_or(f.len());
                String::from_utf8_lossy(&f[..end]).into_owned()
            };
            let version = match field(0..128).as_str() {
                "--splunk-cooked-mode-v2--" => 2,
                "--splunk-cooked-mode-v3--" => 3,
                other => return Err(format!("bad signature {other:?}")),
            };
            self.signature = Some((version, field(128..384)));
            at = SIGNATURE_LEN;
        }
        while self.buf.len() - at >= 4 {
            let size = u32::from_be_bytes(self.buf[at..at + 4].try_into().unwrap_or([0; 4]));
            let end = at + 4 + size as usize;
            if self.buf.len() < end {
                break;
            }
            out.push(decode_message(&self.buf[at + 4..end])?);
            at = end;
        }
        self.buf.drain(..at);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta<'a>(index: &'a str, host: &'a str) -> EventMeta<'a> {
        EventMeta {
            time: 1_614_834_367_250_000,
            host,
            source: "/var/log/x.log",
            sourcetype: "access",
            index,
        }
    }

    #[test]
    fn events_decode_back_with_their_metadata() {
        let mut stream = signature(3, "eventgen-box-0", 8089);
        // Long texts (lengths with high bytes set: the bytes Eventgen's plugin choked on),
        // non-ASCII text, and empty metadata left out.
        let long = "x".repeat(200) + "é\u{1F600}";
        let events = [
            (meta("main", "web-01"), "first event  \n".to_string()),
            (meta("", ""), long.clone()),
            (meta("idx", "h"), "a\nmultiline\nevent".to_string()),
        ];
        for (m, raw) in &events {
            encode_event(m, raw.as_bytes(), &mut stream);
        }
        let mut d = Decoder::default();
        let mut got = Vec::new();
        // Byte by byte, so that every split point is exercised.
        for b in stream.chunks(7) {
            got.extend(d.feed(b).unwrap());
        }
        assert_eq!(d.signature, Some((3, "eventgen-box-0".into())));
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].raw, "first event");
        assert_eq!(
            (
                got[0].index.as_str(),
                got[0].host.as_str(),
                got[0].source.as_str(),
                got[0].sourcetype.as_str(),
                got[0].time
            ),
            (
                "main",
                "web-01",
                "/var/log/x.log",
                "access",
                Some(1_614_834_367)
            )
        );
        assert_eq!((got[1].index.as_str(), got[1].host.as_str()), ("", ""));
        assert_eq!(got[1].raw, long);
        assert_eq!(got[2].raw, "a\nmultiline\nevent");
        assert!(got.iter().all(|m| m.fields.is_empty()));
    }

    #[test]
    fn size_and_pair_count_match_eventgens_layout() {
        let mut out = Vec::new();
        encode_event(&meta("main", "h"), b"abc\n", &mut out);
        let size = u32::from_be_bytes(out[..4].try_into().unwrap()) as usize;
        assert_eq!(size, out.len() - 4);
        assert_eq!(u32::from_be_bytes(out[4..8].try_into().unwrap()), 7);
        assert!(out.ends_with(b"\0\0\0\0\0\0\0\x05_raw\0"));
        let sig = signature(2, "s2s-api", 9997);
        assert_eq!(sig.len(), 400);
        assert!(sig.starts_with(b"--splunk-cooked-mode-v2--\0"));
        assert_eq!(&sig[128..136], b"s2s-api\0");
        assert_eq!(&sig[384..389], b"9997\0");
    }

    #[test]
    fn capabilities_exchange() {
        let caps = capabilities();
        let m = decode_message(&caps[4..]).unwrap();
        assert_eq!(
            m.fields,
            [("__s2s_capabilities".into(), "ack=0;compression=0".into())]
        );
        let ok = control_message(&[(
            "__s2s_control_msg",
            "cap_response=success;cap_flush_key=false;channel_limit=300",
        )]);
        assert_eq!(capabilities_reply(&ok[4..]), Ok(()));
        let no = control_message(&[("__s2s_control_msg", "cap_response=failure")]);
        assert!(
            capabilities_reply(&no[4..])
                .unwrap_err()
                .contains("refused the capabilities: cap_response=failure")
        );
        assert!(capabilities_reply(b"\0\0").is_err());
    }
}
