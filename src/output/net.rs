//! The plain network outputs: `syslogout` (UDP syslog), `tcpout` (newline-framed TCP) and
//! `udpout` (one datagram per event), each a [`Sink`] with a checked config.
//!
//! Behaviour differences from Eventgen 7.2.1, on purpose:
//! * syslog: no trailing NUL byte (Python's `SysLogHandler.append_nul` quirk; RFC 3164/5424
//!   receivers do not expect it and Splunk would keep it in `_raw`). The optional header uses
//!   the **event's** time (host's local zone) and the event's host, and pads the day with a
//!   space as RFC 3164 says (`Nov  6`), where Eventgen used the send time, the sample's host and
//!   a zero (`Nov 06`).
//! * tcpout: one persistent connection, reconnected with backoff, everything sent (`sendall`);
//!   `write` blocks while the destination is down (back-pressure, a WARN every few seconds).
//! * udpout/syslogout: a datagram over 65507 bytes is reported and counted, never truncated.

use std::io::{self, Read, Write};
use std::net::{Shutdown as NetShutdown, TcpStream, ToSocketAddrs, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{Datelike, Timelike};

use crate::conf::Settings;
use crate::output::bytes::trim_end;
use crate::output::netcore::{Shutdown, address, log};
use crate::output::{Batch, EventMeta, Sink};
use crate::problem::Problem;
use crate::rng::Rng;
use crate::timing::Tz;

/// Keys the three outputs read, with a one-line description (for the registry and spec).
pub const KEYS: &[(&str, &str)] = &[
    (
        "syslogDestinationHost",
        "syslogout: UDP destination host (default 127.0.0.1)",
    ),
    (
        "syslogDestinationPort",
        "syslogout: UDP destination port (default 1514)",
    ),
    (
        "syslogAddHeader",
        "syslogout: add an RFC 3164 header \"Mmm dd HH:MM:SS host\" (default false)",
    ),
    (
        "tcpDestinationHost",
        "tcpout: destination host (default 127.0.0.1)",
    ),
    (
        "tcpDestinationPort",
        "tcpout: destination port (default 3333)",
    ),
    (
        "udpDestinationHost",
        "udpout: destination host (default 127.0.0.1)",
    ),
    (
        "udpDestinationPort",
        "udpout: destination port (default 3333)",
    ),
];

/// Largest UDP payload over IPv4 (65535 - 8 byte UDP header - 20 byte IP header).
pub const MAX_DATAGRAM: usize = 65_507;
/// How often a blocked TCP write repeats its warning.
const WAIT_WARN_EVERY: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// A write that makes no progress for this long counts as a broken connection.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Appends one syslog message: `<14>`, with `header` the RFC 3164 `Mmm dd HH:MM:SS host `
/// (event time in the host's local zone, event host), then the text without trailing
/// whitespace. No NUL terminator (see the module docs).
pub fn encode_syslog(meta: &EventMeta<'_>, raw: &[u8], header: bool, out: &mut Vec<u8>) {
    out.extend_from_slice(b"<14>");
    if header {
        let t = Tz::Local.datetime(meta.time);
        out.extend_from_slice(MONTHS[t.month0() as usize].as_bytes());
        let day = t.day();
        out.push(b' ');
        out.push(if day < 10 {
            b' '
        } else {
            b'0' + (day / 10) as u8
        });
        out.push(b'0' + (day % 10) as u8);
        out.push(b' ');
        for (i, v) in [t.hour(), t.minute(), t.second()].into_iter().enumerate() {
            if i > 0 {
                out.push(b':');
            }
            out.push(b'0' + (v / 10) as u8);
            out.push(b'0' + (v % 10) as u8);
        }
        out.push(b' ');
        out.extend_from_slice(meta.host.as_bytes());
        out.push(b' ');
    }
    out.extend_from_slice(trim_end(raw));
}

/// A destination host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    pub host: String,
    pub port: u16,
}

impl Destination {
    fn build(
        settings: &Settings,
        stanza: &str,
        keys: (&str, &str),
        default_port: u16,
    ) -> Result<Destination, Vec<Problem>> {
        let host = match settings.get(keys.0).filter(|h| !h.value.trim().is_empty()) {
            None => "127.0.0.1".to_string(),
            Some(h) => {
                address::host(&h.value, &format!("give the port in {}", keys.1)).map_err(|e| {
                    vec![
                        Problem::error(e)
                            .located(&h.location)
                            .stanza(stanza)
                            .key(keys.0),
                    ]
                })?
            }
        };
        let port = match settings.get(keys.1) {
            None => default_port,
            Some(s) if s.value.trim().is_empty() => default_port,
            Some(s) => match s.value.trim().parse::<u16>() {
                Ok(p) if p > 0 => p,
                _ => {
                    return Err(vec![
                        Problem::error(format!("expected a port 1 to 65535, got {:?}", s.value))
                            .located(&s.location)
                            .stanza(stanza)
                            .key(keys.1),
                    ]);
                }
            },
        };
        Ok(Destination { host, port })
    }

    pub fn name(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// `syslogout` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyslogConfig {
    pub dest: Destination,
    /// Encode with `Encoding::Syslog { header }`.
    pub header: bool,
}

impl SyslogConfig {
    pub fn build(settings: &Settings, stanza: &str) -> Result<SyslogConfig, Vec<Problem>> {
        let dest = Destination::build(
            settings,
            stanza,
            ("syslogDestinationHost", "syslogDestinationPort"),
            1514,
        )?;
        // Splunk boolean words; anything unrecognised is true, as in Eventgen.
        let header = settings
            .value("syslogAddHeader")
            .is_some_and(|v| crate::plan::keys::parse_bool(v).unwrap_or(true));
        Ok(SyslogConfig { dest, header })
    }
}

/// `tcpout` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpConfig {
    pub dest: Destination,
}

impl TcpConfig {
    pub fn build(settings: &Settings, stanza: &str) -> Result<TcpConfig, Vec<Problem>> {
        Ok(TcpConfig {
            dest: Destination::build(
                settings,
                stanza,
                ("tcpDestinationHost", "tcpDestinationPort"),
                3333,
            )?,
        })
    }
}

/// `udpout` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpConfig {
    pub dest: Destination,
}

impl UdpConfig {
    pub fn build(settings: &Settings, stanza: &str) -> Result<UdpConfig, Vec<Problem>> {
        Ok(UdpConfig {
            dest: Destination::build(
                settings,
                stanza,
                ("udpDestinationHost", "udpDestinationPort"),
                3333,
            )?,
        })
    }
}

/// Counters of a network sink, readable from other threads.
#[derive(Debug, Default)]
pub struct NetStats {
    pub sent: AtomicU64,
    pub failed: AtomicU64,
}

impl NetStats {
    fn summary(&self, what: &str) -> String {
        format!(
            "{what}: sent {} events, failed {}",
            self.sent.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed)
        )
    }
}

/// `udpout` and `syslogout`: each encoded event is one datagram.
pub struct DatagramSink {
    socket: UdpSocket,
    name: String,
    what: &'static str,
    stats: Arc<NetStats>,
    oversize_logged: bool,
    last_error_log: Option<Instant>,
}

impl DatagramSink {
    pub fn udp(config: &UdpConfig) -> io::Result<DatagramSink> {
        DatagramSink::new(&config.dest, "udpout")
    }

    pub fn syslog(config: &SyslogConfig) -> io::Result<DatagramSink> {
        DatagramSink::new(&config.dest, "syslogout")
    }

    fn new(dest: &Destination, what: &'static str) -> io::Result<DatagramSink> {
        let addr = (dest.host.as_str(), dest.port)
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("{what}: {} resolves to nothing", dest.name()),
                )
            })?;
        let local = if addr.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        };
        let socket = UdpSocket::bind(local)?;
        socket.connect(addr)?;
        Ok(DatagramSink {
            socket,
            name: dest.name(),
            what,
            stats: Arc::new(NetStats::default()),
            oversize_logged: false,
            last_error_log: None,
        })
    }

    pub fn stats(&self) -> Arc<NetStats> {
        self.stats.clone()
    }

    fn send_one(&mut self, ev: &[u8]) {
        if ev.len() > MAX_DATAGRAM {
            self.stats.failed.fetch_add(1, Ordering::Relaxed);
            if !self.oversize_logged {
                self.oversize_logged = true;
                log::error(format_args!(
                    "{} {}: an event of {} bytes does not fit in a UDP datagram (max {MAX_DATAGRAM}); such events are dropped and counted as failed",
                    self.what,
                    self.name,
                    ev.len()
                ));
            }
            return;
        }
        // A refused earlier datagram (ICMP port unreachable) shows up on the next send: once more.
        let mut result = self.socket.send(ev);
        if matches!(&result, Err(e) if e.kind() == io::ErrorKind::ConnectionRefused) {
            result = self.socket.send(ev);
        }
        match result {
            Ok(_) => {
                self.stats.sent.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                self.stats.failed.fetch_add(1, Ordering::Relaxed);
                let now = Instant::now();
                if self
                    .last_error_log
                    .is_none_or(|t| now.duration_since(t) >= WAIT_WARN_EVERY)
                {
                    self.last_error_log = Some(now);
                    log::warn(format_args!(
                        "{} {}: send failed: {e}",
                        self.what, self.name
                    ));
                }
            }
        }
    }
}

impl Sink for DatagramSink {
    fn write(&mut self, batch: &Batch) -> io::Result<()> {
        for ev in batch.events() {
            self.send_one(ev);
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn finish(&mut self, _deadline: Instant) -> io::Result<Option<String>> {
        Ok(Some(self.stats.summary(self.what)))
    }

    fn failed_events(&self) -> Option<u64> {
        Some(self.stats.failed.load(Ordering::Relaxed))
    }
}

/// `tcpout`: the encoded bytes (newline-framed lines) over one persistent connection.
pub struct TcpSink {
    dest: Destination,
    conn: Option<TcpStream>,
    stats: Arc<NetStats>,
    shutdown: Shutdown,
    rng: Rng,
    failures: u32,
    next_try: Option<Instant>,
    last_error: String,
}

impl TcpSink {
    /// Does not connect yet: the first write does, so a destination that comes up late is fine.
    pub fn new(config: &TcpConfig) -> TcpSink {
        TcpSink {
            dest: config.dest.clone(),
            conn: None,
            stats: Arc::new(NetStats::default()),
            shutdown: Shutdown::default(),
            rng: Rng::from_entropy(),
            failures: 0,
            next_try: None,
            last_error: String::new(),
        }
    }

    pub fn stats(&self) -> Arc<NetStats> {
        self.stats.clone()
    }

    /// A handle that makes a blocked write give up (on SIGTERM).
    pub fn shutdown_handle(&self) -> Shutdown {
        self.shutdown.clone()
    }

    fn connect(&mut self) -> io::Result<TcpStream> {
        let mut last = io::Error::new(io::ErrorKind::NotFound, "the address resolves to nothing");
        for addr in (self.dest.host.as_str(), self.dest.port).to_socket_addrs()? {
            match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
                Ok(s) => {
                    s.set_write_timeout(Some(WRITE_TIMEOUT))?;
                    s.set_nodelay(true)?;
                    return Ok(s);
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// `false` if the peer has closed the connection (so the next write would be lost).
    fn still_open(conn: &TcpStream) -> bool {
        if conn.set_nonblocking(true).is_err() {
            return false;
        }
        let mut b = [0u8; 1];
        let open = match conn.peek(&mut b) {
            Ok(0) => false,
            Ok(_) => true, // the peer sent something; we ignore it
            Err(e) => e.kind() == io::ErrorKind::WouldBlock,
        };
        conn.set_nonblocking(false).is_ok() && open
    }

    fn failed(&mut self, error: String) {
        self.failures += 1;
        let wait = crate::output::netcore::backoff(self.failures, None, &mut self.rng);
        self.next_try = Some(Instant::now() + wait);
        if self.failures == 1 {
            log::warn(format_args!(
                "tcpout {}: {error}; retrying with backoff",
                self.dest.name()
            ));
        }
        self.last_error = error;
    }

    /// Sends `bytes` (whole events), resuming after the last event the kernel fully took when
    /// the connection breaks. Blocks until done, `deadline`, or shutdown.
    fn send_all(
        &mut self,
        bytes: &[u8],
        ends: &[u32],
        deadline: Option<Instant>,
    ) -> io::Result<()> {
        let mut sent = 0usize; // bytes accepted by the kernel on the current connection
        let mut resume = 0usize; // start of the first event not fully accepted
        let started = Instant::now();
        let mut warned = started;
        while resume < bytes.len() {
            let now = Instant::now();
            if self.shutdown.is_triggered() || deadline.is_some_and(|d| now >= d) {
                let left = ends.iter().filter(|&&e| e as usize > resume).count() as u64;
                self.stats.failed.fetch_add(left, Ordering::Relaxed);
                return Err(io::Error::new(
                    io::ErrorKind::Interrupted,
                    format!("tcpout: {left} events not sent"),
                ));
            }
            if now.duration_since(warned) >= WAIT_WARN_EVERY {
                warned = now;
                log::warn(format_args!(
                    "tcpout {}: events waiting to be sent for {:.0}s, generation is held back: {}",
                    self.dest.name(),
                    now.duration_since(started).as_secs_f64(),
                    self.last_error
                ));
            }
            if let Some(t) = self.next_try.filter(|t| *t > now) {
                std::thread::sleep((t - now).min(Duration::from_millis(100)));
                continue;
            }
            if self.conn.as_ref().is_some_and(|c| !Self::still_open(c)) {
                self.conn = None;
            }
            if self.conn.is_none() {
                match self.connect() {
                    Ok(c) => {
                        if self.failures > 0 {
                            log::info(format_args!("tcpout {}: connected again", self.dest.name()));
                        }
                        self.failures = 0;
                        self.next_try = None;
                        self.conn = Some(c);
                        sent = resume;
                    }
                    Err(e) => {
                        self.failed(format!("cannot connect: {e}"));
                        continue;
                    }
                }
            }
            let Some(conn) = self.conn.as_mut() else {
                continue;
            };
            match conn.write(&bytes[sent..]) {
                Ok(0) => {
                    self.conn = None;
                    self.failed("connection closed".to_string());
                }
                Ok(n) => {
                    sent += n;
                    // Events wholly accepted are done.
                    resume = ends
                        .iter()
                        .map(|&e| e as usize)
                        .take_while(|&e| e <= sent)
                        .last()
                        .unwrap_or(resume)
                        .max(resume);
                    if sent == bytes.len() {
                        resume = sent;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    if let Some(c) = self.conn.take() {
                        let _ = c.shutdown(NetShutdown::Both);
                    }
                    self.failed(format!("send failed: {e}"));
                }
            }
        }
        Ok(())
    }
}

impl Sink for TcpSink {
    fn write(&mut self, batch: &Batch) -> io::Result<()> {
        self.send_all(&batch.bytes, &batch.ends, None)?;
        self.stats
            .sent
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn finish(&mut self, _deadline: Instant) -> io::Result<Option<String>> {
        if let Some(mut c) = self.conn.take() {
            let _ = c.flush();
            let _ = c.shutdown(NetShutdown::Write);
            // Let the peer read everything before the socket closes: wait briefly for its EOF.
            let _ = c.set_read_timeout(Some(Duration::from_millis(500)));
            let mut b = [0u8; 256];
            while matches!(c.read(&mut b), Ok(n) if n > 0) {}
        }
        Ok(Some(self.stats.summary("tcpout")))
    }

    fn failed_events(&self) -> Option<u64> {
        Some(self.stats.failed.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(time: i64) -> EventMeta<'static> {
        EventMeta {
            time,
            host: "web-01",
            source: "s",
            sourcetype: "st",
            index: "main",
        }
    }

    #[test]
    fn syslog_without_header() {
        let mut out = Vec::new();
        encode_syslog(&meta(0), b"hello world \r\n", false, &mut out);
        assert_eq!(out, b"<14>hello world");
    }

    #[test]
    fn syslog_header_uses_event_time_and_host() {
        let t = 1_700_000_000_000_000; // 2023-11-14T22:13:20Z
        let local = Tz::Local.datetime(t);
        let mut out = Vec::new();
        encode_syslog(&meta(t), b"msg\n", true, &mut out);
        let want = format!("<14>{} web-01 msg", local.format("%b %e %H:%M:%S"));
        assert_eq!(String::from_utf8(out).unwrap(), want);
        // Day padding with a space.
        let t = 1_699_228_800_000_000 + 12 * 3_600_000_000; // 2023-11-06 12:00 UTC
        let mut out = Vec::new();
        encode_syslog(&meta(t), b"x", true, &mut out);
        let s = String::from_utf8(out).unwrap();
        assert_eq!(
            &s[4..11],
            Tz::Local.datetime(t).format("%b %e ").to_string()
        );
        assert!(
            s[4..].starts_with("Nov  6")
                || s[4..].starts_with("Nov  5")
                || s[4..].starts_with("Nov  7"),
            "{s}"
        );
    }

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        Settings::from_pairs("e.conf", pairs)
    }

    #[test]
    fn configs_and_defaults() {
        let s = SyslogConfig::build(&settings(&[]), "x").unwrap();
        assert_eq!(
            (s.dest.host.as_str(), s.dest.port, s.header),
            ("127.0.0.1", 1514, false)
        );
        let s = SyslogConfig::build(
            &settings(&[
                ("syslogAddHeader", "true"),
                ("syslogDestinationPort", "514"),
            ]),
            "x",
        )
        .unwrap();
        assert_eq!((s.dest.port, s.header), (514, true));
        assert_eq!(
            TcpConfig::build(&settings(&[]), "x").unwrap().dest.port,
            3333
        );
        let u = UdpConfig::build(
            &settings(&[
                ("udpDestinationHost", "10.0.0.1"),
                ("udpDestinationPort", "9"),
            ]),
            "x",
        )
        .unwrap();
        assert_eq!(
            u.dest,
            Destination {
                host: "10.0.0.1".into(),
                port: 9
            }
        );
        let e = TcpConfig::build(&settings(&[("tcpDestinationPort", "http")]), "web").unwrap_err();
        assert_eq!(
            e[0].to_string(),
            "e.conf:1: [web] tcpDestinationPort: expected a port 1 to 65535, got \"http\""
        );
    }
}
