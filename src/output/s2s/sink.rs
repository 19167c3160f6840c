//! The `s2s` sink: `s2sConnections` persistent connections (plain or TLS), each opened with the
//! signature block (and, in v3, the capabilities exchange), carrying the messages the workers
//! encoded ([`super::wire`]). A batch is cut into one run of whole events per connection, so
//! that N connections stand in for N forwarders; a connection that fails is reconnected with
//! backoff to the next host of the list, and its unsent events go to another connection.
//!
//! Accounting (see the module docs of [`super`] for the window): per connection, the events of
//! the last write are *pending*; they become delivered when the next write on that connection
//! succeeds, or when the receiver closes in order after our end of stream. A connection found
//! closed or reset turns its pending events into failed ones. `write` blocks while no
//! connection can be made (back-pressure: the generators wait, memory stays bounded), until
//! shutdown (SIGTERM or the end of the finish grace), which fails what is left.
//!
//! Built on the network core ([`crate::output::netcore`]): [`NetStats`] for the accounting,
//! one [`Health`] per receiver host (cool-down with backoff, throttled warnings, death on a TLS
//! trust failure), [`next_ready`] to pick the host of a new connection, [`Shutdown`].

use std::io::{self, Read, Write};
use std::net::{Shutdown as NetShutdown, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};

use super::S2sConfig;
use super::wire;
use crate::output::netcore::{Health, NetStats, Shutdown, log, next_ready};
use crate::output::tls::TlsFailure;
use crate::output::{Batch, Sink};

/// How often a blocked write repeats its warning.
const WAIT_WARN_EVERY: Duration = Duration::from_secs(5);
/// A write that makes no progress for this long counts as a broken connection.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest control message accepted from a receiver.
const MAX_REPLY: u32 = 1 << 20;
/// splunkd's management port, announced in the signature block.
const MGMT_PORT: u16 = 8089;

enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => &s.sock,
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// One connection slot: its host while connected, its stream, its pending events.
struct Conn {
    /// Server name in the signature block: `eventgen-<host>-<i>`.
    name: String,
    /// Index of the host in the config (and in `health`).
    host: usize,
    stream: Option<Stream>,
    /// Events of the last write, not yet known to be delivered.
    pending: u64,
}

/// Why a connection could not be opened.
struct OpenError {
    message: String,
    /// The receiver can never take our connection (TLS trust either way).
    fatal: bool,
}

impl From<String> for OpenError {
    fn from(message: String) -> Self {
        OpenError {
            message,
            fatal: false,
        }
    }
}

/// The `s2s` sink.
pub struct S2sSink {
    config: S2sConfig,
    tls: Option<Arc<ClientConfig>>,
    conns: Vec<Conn>,
    /// One per host of the config, labelled `s2s host:port`.
    health: Vec<Health>,
    /// Host rotation for new connections.
    next_host: usize,
    /// First connection of the next batch, so that small batches rotate too.
    next: usize,
    stats: Arc<NetStats>,
    shutdown: Shutdown,
}

/// This machine's name, for the forwarders' server names.
fn local_host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

impl S2sSink {
    /// Does not connect yet: the first write does, so a receiver that comes up late is fine.
    pub fn new(config: S2sConfig) -> Result<S2sSink, String> {
        let tls = match &config.tls {
            Some(t) => Some(Arc::new(crate::output::tls::client_config(t)?)),
            None => None,
        };
        let me = local_host_name();
        let conns = (0..config.connections)
            .map(|i| Conn {
                name: format!("eventgen-{me}-{i}"),
                host: 0,
                stream: None,
                pending: 0,
            })
            .collect();
        let health = config
            .names()
            .iter()
            .map(|n| Health::new(format!("s2s {n}")))
            .collect();
        Ok(S2sSink {
            config,
            tls,
            conns,
            health,
            next_host: 0,
            next: 0,
            stats: Arc::new(NetStats::default()),
            shutdown: Shutdown::default(),
        })
    }

    pub fn stats(&self) -> Arc<NetStats> {
        self.stats.clone()
    }

    /// A handle that makes a blocked write give up (on SIGTERM).
    pub fn shutdown_handle(&self) -> Shutdown {
        self.shutdown.clone()
    }

    /// Opens connection `c` to host `h`: TCP, TLS, the signature, and in v3 the capabilities
    /// exchange.
    fn open(&self, c: usize, h: usize) -> Result<Stream, OpenError> {
        let host = &self.config.hosts[h];
        let timeout = self.config.timeout;
        let addrs = (host.as_str(), self.config.port)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {host}: {e}"))?;
        let mut last = format!("{host} resolves to no address");
        let mut tcp = None;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, timeout) {
                Ok(s) => {
                    tcp = Some(s);
                    break;
                }
                Err(e) => last = format!("cannot connect: {e}"),
            }
        }
        let tcp = tcp.ok_or(last)?;
        let setup = |e: io::Error| format!("cannot set up the connection: {e}");
        tcp.set_nodelay(true).map_err(setup)?;
        tcp.set_write_timeout(Some(WRITE_TIMEOUT)).map_err(setup)?;
        tcp.set_read_timeout(Some(timeout)).map_err(setup)?;
        let mut stream = match &self.tls {
            None => Stream::Plain(tcp),
            Some(cfg) => {
                let name = ServerName::try_from(host.clone())
                    .map_err(|e| format!("{host} is not a TLS server name: {e}"))?;
                let conn = ClientConnection::new(cfg.clone(), name)
                    .map_err(|e| format!("TLS setup failed: {e}"))?;
                let mut s = StreamOwned::new(conn, tcp);
                while s.conn.is_handshaking() {
                    s.conn.complete_io(&mut s.sock).map_err(|e| {
                        let kind = e
                            .get_ref()
                            .and_then(|i| i.downcast_ref::<rustls::Error>())
                            .and_then(crate::output::tls::failure_kind);
                        let hint = match kind {
                            None => "",
                            Some(TlsFailure::ServerNotTrusted) => {
                                ": its certificate is not trusted; set splunkCaFile to the CA that signed it (the certificate must also name this host), or splunkVerifyTls = false"
                            }
                            Some(TlsFailure::ClientRefused) => {
                                ": it refused our client certificate; set splunkClientCert (and splunkClientKey) to a certificate it trusts"
                            }
                        };
                        OpenError {
                            message: format!("TLS handshake failed ({e}){hint}"),
                            fatal: kind.is_some(),
                        }
                    })?;
                }
                Stream::Tls(Box::new(s))
            }
        };
        let protocol = self.config.protocol;
        let mut hello = wire::signature(protocol, &self.conns[c].name, MGMT_PORT);
        if protocol >= 3 {
            hello.extend_from_slice(&wire::capabilities());
        }
        stream
            .write_all(&hello)
            .and_then(|()| stream.flush())
            .map_err(|e| format!("sending the signature failed: {e}"))?;
        if protocol >= 3 {
            read_capabilities_reply(&mut stream, timeout)?;
        }
        stream.tcp().set_read_timeout(None).map_err(setup)?;
        Ok(stream)
    }

    /// `false` if the receiver closed or reset connection `c` (so what we sent last may be lost).
    fn still_open(stream: &Stream) -> bool {
        let tcp = stream.tcp();
        if tcp.set_nonblocking(true).is_err() {
            return false;
        }
        let mut b = [0u8; 1];
        let open = match tcp.peek(&mut b) {
            Ok(0) => false,
            Ok(_) => true, // the receiver sent something (heartbeat, TLS ticket): ignored
            Err(e) => e.kind() == io::ErrorKind::WouldBlock,
        };
        tcp.set_nonblocking(false).is_ok() && open
    }

    /// Connection `c` broke: its pending events failed, its host cools down (and the next
    /// connection goes to the next host of the list).
    fn broken(&mut self, c: usize, error: &str) {
        let conn = &mut self.conns[c];
        if let Some(s) = conn.stream.take() {
            let _ = s.tcp().shutdown(NetShutdown::Both);
        }
        let health = &self.health[conn.host];
        if conn.pending > 0 {
            log::warn(format_args!(
                "{} ({}): {} events written just before the connection broke may not have arrived; they count as not delivered",
                health.label(),
                conn.name,
                conn.pending
            ));
            self.stats.fail(conn.pending);
            conn.pending = 0;
        }
        health.failed(error, None);
    }

    /// A connection that is up, or was opened now, trying slots from `from`. `Err(true)`:
    /// every host is dead (nothing can ever be delivered); `Err(false)`: none is ready yet.
    fn ready(&mut self, from: usize) -> Result<usize, bool> {
        let n = self.conns.len();
        for k in 0..n {
            let c = (from + k) % n;
            if self.conns[c]
                .stream
                .as_ref()
                .is_some_and(|s| !Self::still_open(s))
            {
                self.broken(c, "the receiver closed the connection");
            }
            if self.conns[c].stream.is_some() {
                return Ok(c);
            }
            let h = match next_ready(&self.health, |h| h, &mut self.next_host, Instant::now()) {
                Ok(Some(h)) => h,
                Ok(None) => return Err(true),
                Err(_) => return Err(false),
            };
            match self.open(c, h) {
                Ok(s) => {
                    self.health[h].succeeded();
                    let conn = &mut self.conns[c];
                    conn.stream = Some(s);
                    conn.host = h;
                    return Ok(c);
                }
                Err(e) if e.fatal => {
                    self.health[h].kill(&e.message);
                }
                Err(e) => self.health[h].failed(&e.message, None),
            }
        }
        if self.health.iter().all(Health::is_dead) {
            Err(true)
        } else {
            Err(false)
        }
    }

    /// Sends whole events (`bytes`, event ends relative to it) over any connection, starting
    /// with `first`. Blocks until all are written, or shutdown (what is left fails).
    fn send(&mut self, first: usize, bytes: &[u8], ends: &[usize]) -> io::Result<()> {
        let mut done = 0usize; // events handed to some connection
        let started = Instant::now();
        let mut warned = started;
        let mut from = first;
        while done < ends.len() {
            if self.shutdown.is_triggered() {
                let left = (ends.len() - done) as u64;
                self.stats.fail(left);
                return Err(io::Error::new(
                    io::ErrorKind::Interrupted,
                    format!("s2s: {left} events not sent"),
                ));
            }
            let c = match self.ready(from) {
                Ok(c) => c,
                Err(true) => {
                    let left = (ends.len() - done) as u64;
                    self.stats.fail(left);
                    return Err(io::Error::other(format!(
                        "s2s: no receiver can take events ({left} not sent)"
                    )));
                }
                Err(false) => {
                    let now = Instant::now();
                    if now.duration_since(warned) >= WAIT_WARN_EVERY {
                        warned = now;
                        let why: Vec<String> =
                            self.health.iter().filter_map(|h| h.status(now)).collect();
                        log::warn(format_args!(
                            "s2s: no receiver has taken events for {:.0}s, generation is held back: {}",
                            now.duration_since(started).as_secs_f64(),
                            why.join("; ")
                        ));
                    }
                    let wake = self
                        .health
                        .iter()
                        .filter_map(|h| h.cooling(now))
                        .min()
                        .unwrap_or(Duration::from_millis(100));
                    std::thread::sleep(
                        wake.clamp(Duration::from_millis(5), Duration::from_millis(100)),
                    );
                    continue;
                }
            };
            from = c;
            let start = if done == 0 { 0 } else { ends[done - 1] };
            let chunk = &bytes[start..ends[ends.len() - 1]];
            let mut sent = 0usize;
            let result = {
                let Some(stream) = self.conns[c].stream.as_mut() else {
                    continue;
                };
                let mut r = Ok(());
                while sent < chunk.len() {
                    match stream.write(&chunk[sent..]) {
                        Ok(0) => {
                            r = Err("the connection closed while sending".to_string());
                            break;
                        }
                        Ok(n) => sent += n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            r = Err(format!("send failed: {e}"));
                            break;
                        }
                    }
                }
                if r.is_ok() {
                    r = stream.flush().map_err(|e| format!("send failed: {e}"));
                }
                r
            };
            // Events this write took whole (the kernel has them).
            let took = ends[done..]
                .iter()
                .take_while(|&&e| e - start <= sent)
                .count();
            match result {
                Ok(()) => {
                    let conn = &mut self.conns[c];
                    self.stats
                        .delivered(conn.pending, u64::from(conn.pending > 0));
                    conn.pending = took as u64;
                    done += took;
                }
                Err(e) => {
                    // What the kernel took on a connection that then broke may be lost.
                    self.conns[c].pending += took as u64;
                    done += took;
                    self.broken(c, &e);
                    from = c + 1;
                }
            }
        }
        Ok(())
    }

    /// Ends connection `c` in order: end of stream, then wait for the receiver to close
    /// (it has read everything) until `deadline`. Pending events are delivered if it does.
    fn close(&mut self, c: usize, deadline: Instant) {
        let Some(mut s) = self.conns[c].stream.take() else {
            return;
        };
        let pending = std::mem::take(&mut self.conns[c].pending);
        let mut ok = s.flush().is_ok();
        if let Stream::Tls(t) = &mut s {
            t.conn.send_close_notify();
            ok &= t.flush().is_ok();
        }
        ok &= s.tcp().shutdown(NetShutdown::Write).is_ok();
        let mut closed = false;
        let mut b = [0u8; 4096];
        while ok && !closed {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || s.tcp().set_read_timeout(Some(left)).is_err() {
                break;
            }
            match s.read(&mut b) {
                Ok(0) => closed = true,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // A TLS receiver may close without close_notify after our end of stream.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => closed = true,
                Err(_) => break,
            }
        }
        if closed {
            self.stats.delivered(pending, u64::from(pending > 0));
        } else if pending > 0 {
            log::warn(format_args!(
                "{} ({}): the receiver did not confirm the end of the stream; the last {pending} events count as not delivered",
                self.health[self.conns[c].host].label(),
                self.conns[c].name
            ));
            self.stats.fail(pending);
        }
    }
}

/// Reads the receiver's answer to the v3 capabilities.
fn read_capabilities_reply(stream: &mut Stream, timeout: Duration) -> Result<(), String> {
    let mut size = [0u8; 4];
    let wait = |e: io::Error| {
        if matches!(
            e.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ) {
            format!(
                "no reply to the v3 capabilities within {:.0}s (is this an S2S receiver? s2sProtocol = 2 skips the exchange)",
                timeout.as_secs_f64()
            )
        } else {
            format!("the v3 capabilities exchange failed: {e}")
        }
    };
    stream.read_exact(&mut size).map_err(wait)?;
    let size = u32::from_be_bytes(size);
    if size > MAX_REPLY {
        return Err(format!(
            "the reply to the v3 capabilities is {size} bytes long: not an S2S receiver?"
        ));
    }
    let mut body = vec![0u8; size as usize];
    stream.read_exact(&mut body).map_err(wait)?;
    wire::capabilities_reply(&body).map_err(|e| format!("the v3 capabilities exchange failed: {e}"))
}

impl Sink for S2sSink {
    fn write(&mut self, batch: &Batch) -> io::Result<()> {
        let n = batch.len();
        if n == 0 {
            return Ok(());
        }
        // One run of whole events per connection.
        let parts = self.conns.len().min(n);
        self.stats.take(n as u64);
        let ends: Vec<usize> = batch.ends.iter().map(|&e| e as usize).collect();
        let first = self.next;
        self.next = (self.next + parts) % self.conns.len();
        for p in 0..parts {
            let (a, b) = (p * n / parts, (p + 1) * n / parts);
            let start = if a == 0 { 0 } else { ends[a - 1] };
            let rel: Vec<usize> = ends[a..b].iter().map(|e| e - start).collect();
            let bytes = &batch.bytes[start..ends[b - 1]];
            let c = (first + p) % self.conns.len();
            if let Err(e) = self.send(c, bytes, &rel) {
                // Shutdown: the remaining parts fail too.
                self.stats.fail((n - b) as u64);
                return Err(e);
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn finish(&mut self, deadline: Instant) -> io::Result<Option<String>> {
        let deadline = deadline.min(Instant::now() + Duration::from_secs(10));
        for c in 0..self.conns.len() {
            self.close(c, deadline);
        }
        let names = self.config.names().join(",");
        let s = self.stats.snapshot();
        Ok(Some(format!(
            "s2s {names}: {} events delivered over {} connections, {} not delivered",
            s.sent,
            self.conns.len(),
            s.failed + s.outstanding
        )))
    }

    fn failed_events(&self) -> Option<u64> {
        Some(self.stats.failed_events())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::EventMeta;
    use std::net::TcpListener;
    use std::sync::mpsc;

    fn batch(events: &[&str]) -> Batch {
        let mut b = Batch::default();
        for (i, ev) in events.iter().enumerate() {
            let meta = EventMeta {
                time: 1_700_000_000_000_000 + i as i64 * 1_000_000,
                host: "h",
                source: "s",
                sourcetype: "st",
                index: "main",
            };
            wire::encode_event(&meta, ev.as_bytes(), &mut b.bytes);
            b.ends.push(b.bytes.len() as u32);
        }
        b
    }

    /// A receiver of ours: answers v3 capabilities, decodes every connection, reports
    /// `(server name, messages)` per connection when it closes.
    fn receiver(reply: &'static str) -> (u16, mpsc::Receiver<(String, Vec<wire::Message>)>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { return };
                let tx = tx.clone();
                std::thread::spawn(move || {
                    let mut d = wire::Decoder::default();
                    let mut msgs = Vec::new();
                    let mut buf = [0u8; 8192];
                    while let Ok(n) = s.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        for m in d.feed(&buf[..n]).unwrap() {
                            if m.fields.iter().any(|(k, _)| k == "__s2s_capabilities") {
                                let r = wire::control_message(&[("__s2s_control_msg", reply)]);
                                s.write_all(&r).unwrap();
                            } else {
                                msgs.push(m);
                            }
                        }
                    }
                    let name = d.signature.map(|s| s.1).unwrap_or_default();
                    let _ = tx.send((name, msgs));
                });
            }
        });
        (port, rx)
    }

    #[test]
    fn events_spread_over_connections_and_count_once_the_receiver_closes() {
        let (port, rx) = receiver("cap_response=success");
        let mut cfg = S2sConfig::new("127.0.0.1", port);
        cfg.connections = 3;
        let mut sink = S2sSink::new(cfg).unwrap();
        let events: Vec<String> = (0..10).map(|i| format!("event {i}")).collect();
        let refs: Vec<&str> = events.iter().map(String::as_str).collect();
        sink.write(&batch(&refs)).unwrap();
        sink.write(&batch(&refs[..2])).unwrap();
        let summary = sink
            .finish(Instant::now() + Duration::from_secs(5))
            .unwrap()
            .unwrap();
        assert!(
            summary.contains("12 events delivered over 3 connections, 0 not"),
            "{summary}"
        );
        let mut got = Vec::new();
        let mut names = Vec::new();
        for _ in 0..3 {
            let (name, msgs) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
            assert!(!msgs.is_empty(), "{name} got nothing");
            names.push(name);
            got.extend(msgs.into_iter().map(|m| m.raw));
        }
        names.sort();
        assert!(
            names[0].starts_with("eventgen-") && names[0].ends_with("-0"),
            "{names:?}"
        );
        assert!(names[2].ends_with("-2"));
        got.sort();
        let mut want: Vec<String> = events.iter().chain(&events[..2]).cloned().collect();
        want.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn a_refused_capabilities_reply_names_the_server_and_fails_the_events() {
        let (port, _rx) = receiver("cap_response=failure;reason=nope");
        let mut sink = S2sSink::new(S2sConfig::new("127.0.0.1", port)).unwrap();
        let err = sink.open(0, 0).err().unwrap().message;
        assert!(
            err.contains("refused the capabilities: cap_response=failure"),
            "{err}"
        );
        let stop = sink.shutdown_handle();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            stop.trigger();
        });
        assert!(sink.write(&batch(&["a", "b"])).is_err());
        assert_eq!(sink.failed_events(), Some(2));
    }
}
