//! Encoders run in the generator workers: event text plus metadata to the bytes an output
//! writes. Infallible, appending to a buffer the caller owns.

use super::EventMeta;

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
}

impl Encoding {
    /// `true` if every event of a batch must share the batch's metadata.
    pub fn needs_uniform_meta(self) -> bool {
        matches!(self, Encoding::HecRaw)
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
        }
    }
}

/// The text without trailing whitespace (what Eventgen's `rstrip()` leaves).
pub fn trim_end(raw: &[u8]) -> &[u8] {
    let mut end = raw.len();
    while end > 0 && raw[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    &raw[..end]
}
