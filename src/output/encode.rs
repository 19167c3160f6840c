//! Encoders run in the generator workers: event text plus metadata to the bytes an output
//! writes. Infallible, appending to a buffer the caller owns.

use super::EventMeta;
use super::bytes::trim_end;

/// How the events of an output are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `stdout`, `file`, `tcpout`: the text with trailing whitespace removed, then `\n`.
    Line,
    /// `devnull`: nothing is encoded; only counted.
    Discard,
    /// `spool`: the text as is (it normally ends in `\n`).
    Concat,
    /// Modular input XML `<event>` element.
    ModinputXml,
    /// HEC `/services/collector/event` JSON object.
    HecEvent,
    /// HEC `/services/collector/raw`: the text and a newline; metadata travel per batch.
    HecRaw,
    /// HEC metrics JSON (`metric_httpevent`).
    HecMetric,
    /// `syslogout`: `<14>` priority, optional RFC 3164 header.
    Syslog { header: bool },
    /// `udpout`: the text, one datagram per event.
    Datagram,
    /// `counter`: the event's time and text length only ([`super::counter::encode`]).
    Counter,
    /// `s2s`: one cooked S2S message per event ([`super::s2s::wire`]).
    S2s,
}

impl Encoding {
    /// `true` if every event of a batch must share the batch's metadata.
    pub fn needs_uniform_meta(self) -> bool {
        matches!(self, Encoding::HecRaw)
    }

    /// [`encode`](Self::encode), with the encoded metadata kept in `cache` and reused while the
    /// next events carry the same host, source, sourcetype and index, as every event of a
    /// sample without a host token or CSV metadata does. Modular input XML and HEC `/event`
    /// JSON escape those four strings for every event otherwise. Same bytes as `encode`.
    pub fn encode_cached(
        self,
        meta: &EventMeta<'_>,
        raw: &[u8],
        out: &mut Vec<u8>,
        cache: &mut MetaCache,
    ) {
        match self {
            Encoding::ModinputXml => {
                let fields = cache.get(self, meta, super::modinput::encode_meta);
                super::modinput::encode_event_with(meta.time, fields, raw, out);
            }
            Encoding::HecEvent => {
                let fields = cache.get(self, meta, super::hec::encode::write_meta);
                super::hec::encode::encode_event_with(meta.time, fields, raw, out);
            }
            Encoding::S2s => {
                let fields = cache.get(self, meta, super::s2s::wire::write_meta);
                let pairs = super::s2s::wire::meta_pairs(meta);
                super::s2s::wire::encode_event_with(meta.time, pairs, fields, raw, out);
            }
            other => other.encode(meta, raw, out),
        }
    }

    /// Appends the encoding of one event to `out`.
    pub fn encode(self, meta: &EventMeta<'_>, raw: &[u8], out: &mut Vec<u8>) {
        match self {
            Encoding::Line => {
                out.extend_from_slice(trim_end(raw));
                out.push(b'\n');
            }
            Encoding::Discard => {}
            Encoding::Concat => out.extend_from_slice(raw),
            Encoding::ModinputXml => super::modinput::encode_event(meta, raw, out),
            Encoding::HecRaw => {
                out.extend_from_slice(trim_end(raw));
                out.push(b'\n');
            }
            Encoding::Datagram => {
                out.extend_from_slice(trim_end(raw));
                out.push(b'\n');
            }
            Encoding::HecEvent => super::hec::encode::encode_event(meta, raw, out),
            Encoding::HecMetric => {
                super::hec::encode::encode_metric(meta, raw, out);
            }
            Encoding::Syslog { header } => super::net::encode_syslog(meta, raw, header, out),
            Encoding::Counter => super::counter::encode(meta.time, raw, out),
            Encoding::S2s => super::s2s::wire::encode_event(meta, raw, out),
        }
    }
}

/// The metadata part of the last event an encoder wrote, by encoding and the four strings.
#[derive(Debug, Default)]
pub struct MetaCache {
    encoding: Option<Encoding>,
    host: String,
    source: String,
    sourcetype: String,
    index: String,
    bytes: Vec<u8>,
}

impl MetaCache {
    /// The encoded metadata of `meta`, made with `build` when it differs from the last one.
    fn get(
        &mut self,
        encoding: Encoding,
        meta: &EventMeta<'_>,
        build: fn(&EventMeta<'_>, &mut Vec<u8>),
    ) -> &[u8] {
        let same = self.encoding == Some(encoding)
            && self.host == meta.host
            && self.source == meta.source
            && self.sourcetype == meta.sourcetype
            && self.index == meta.index;
        if !same {
            self.encoding = Some(encoding);
            for (mine, theirs) in [
                (&mut self.host, meta.host),
                (&mut self.source, meta.source),
                (&mut self.sourcetype, meta.sourcetype),
                (&mut self.index, meta.index),
            ] {
                mine.clear();
                mine.push_str(theirs);
            }
            self.bytes.clear();
            build(meta, &mut self.bytes);
        }
        &self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_metadata_gives_the_same_bytes_as_encoding_each_event() {
        let metas = [
            ("web01", "/var/log/a.log", "access", "main"),
            ("web01", "/var/log/a.log", "access", "main"),
            ("db<&>\"'01", "/x", "st", "main"),
            ("", "/x", "st", ""),
            ("h\u{e9}\u{1}", "src\n", "st\t", "i"),
            ("web01", "/var/log/a.log", "access", "main"),
        ];
        for encodings in [
            [Encoding::ModinputXml, Encoding::ModinputXml],
            [Encoding::HecEvent, Encoding::HecEvent],
            [Encoding::ModinputXml, Encoding::HecEvent],
            [Encoding::Line, Encoding::HecEvent],
            [Encoding::S2s, Encoding::S2s],
            [Encoding::S2s, Encoding::HecEvent],
        ] {
            let (mut plain, mut cached) = (Vec::new(), Vec::new());
            let mut cache = MetaCache::default();
            for (k, &(host, source, sourcetype, index)) in metas.iter().enumerate() {
                let enc = encodings[k % 2];
                let meta = EventMeta {
                    time: 1_700_000_000_123_456 + k as i64,
                    host,
                    source,
                    sourcetype,
                    index,
                };
                let raw = format!("event {k} <a href=\"x\">&\n");
                enc.encode(&meta, raw.as_bytes(), &mut plain);
                enc.encode_cached(&meta, raw.as_bytes(), &mut cached, &mut cache);
                assert_eq!(
                    String::from_utf8_lossy(&plain),
                    String::from_utf8_lossy(&cached),
                    "{encodings:?} event {k}"
                );
            }
        }
    }
}
