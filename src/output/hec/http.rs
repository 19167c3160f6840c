//! A small blocking HTTP/1.1 client: one keep-alive connection (plain TCP or rustls) owned by one
//! sender thread, `POST` with a `Content-Length` body, responses with `Content-Length`, chunked
//! or read-to-close bodies. Socket timeouts bound every step; the owner can shut the socket down
//! from another thread (through [`Conn::socket`]) to stop a request at a deadline.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};

use super::retry::Transport;
use super::tls;

/// Longest response head we accept; HEC's are a few hundred bytes.
const MAX_HEAD: usize = 64 * 1024;
/// Longest response body we keep; HEC answers are tiny JSON objects.
const MAX_BODY: usize = 4 * 1024 * 1024;

/// Where to connect.
#[derive(Clone)]
pub struct Target {
    pub address: String,
    pub port: u16,
    pub tls: Option<(Arc<ClientConfig>, ServerName<'static>)>,
    /// Value of the `Host` header.
    pub host_header: String,
}

impl Target {
    pub fn new(address: &str, port: u16, tls: Option<Arc<ClientConfig>>) -> Result<Target, String> {
        let tls = match tls {
            Some(cfg) => Some((cfg, tls::server_name(address)?)),
            None => None,
        };
        let host_header = if address.contains(':') {
            format!("[{address}]:{port}")
        } else {
            format!("{address}:{port}")
        };
        Ok(Target {
            address: address.to_string(),
            port,
            tls,
            host_header,
        })
    }
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
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

/// A failed request: what kind of failure (for the retry decision) and the error itself.
#[derive(Debug)]
pub struct Failure {
    pub kind: Transport,
    pub error: io::Error,
    /// The connection was closed before any byte of the response arrived: on a reused
    /// keep-alive connection this usually means the server dropped it while idle.
    pub closed_before_response: bool,
}

impl Failure {
    fn io(error: io::Error, connecting: bool) -> Failure {
        let kind = if tls::is_verification_error(&error) {
            Transport::TlsVerification
        } else if matches!(
            error.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ) {
            Transport::Timeout
        } else if connecting {
            Transport::Connect
        } else {
            Transport::Broken
        };
        Failure {
            kind,
            error,
            closed_before_response: false,
        }
    }
}

/// One response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
    /// The server keeps the connection open.
    pub keep_alive: bool,
    pub retry_after: Option<Duration>,
}

/// One open connection.
pub struct Conn {
    stream: Stream,
    socket: TcpStream,
    buf: Vec<u8>,
    /// Requests answered on this connection.
    pub used: u64,
}

impl Conn {
    /// Connects (TCP, then the TLS handshake on first use) with `timeout` for each step.
    pub fn connect(target: &Target, timeout: Duration) -> Result<Conn, Failure> {
        let addrs = (target.address.as_str(), target.port)
            .to_socket_addrs()
            .map_err(|e| Failure::io(e, true))?;
        let mut last = io::Error::new(io::ErrorKind::NotFound, "the address resolved to nothing");
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, timeout) {
                Ok(tcp) => {
                    return Conn::over(tcp, target, timeout).map_err(|e| Failure::io(e, true));
                }
                Err(e) => last = e,
            }
        }
        Err(Failure::io(last, true))
    }

    fn over(tcp: TcpStream, target: &Target, timeout: Duration) -> io::Result<Conn> {
        tcp.set_nodelay(true)?;
        tcp.set_read_timeout(Some(timeout))?;
        tcp.set_write_timeout(Some(timeout))?;
        let socket = tcp.try_clone()?;
        let stream = match &target.tls {
            None => Stream::Plain(tcp),
            Some((cfg, name)) => {
                let conn =
                    ClientConnection::new(cfg.clone(), name.clone()).map_err(io::Error::other)?;
                let mut s = StreamOwned::new(conn, tcp);
                // Handshake now, so that a certificate problem is a connect failure.
                while s.conn.is_handshaking() {
                    s.conn.complete_io(&mut s.sock)?;
                }
                Stream::Tls(Box::new(s))
            }
        };
        Ok(Conn {
            stream,
            socket,
            buf: Vec::with_capacity(1024),
            used: 0,
        })
    }

    /// A handle on the socket, to shut it down from another thread.
    pub fn socket(&self) -> io::Result<TcpStream> {
        self.socket.try_clone()
    }

    /// Sends a complete request (see [`write_request`]) and reads the response.
    pub fn round_trip(&mut self, request: &[u8]) -> Result<Response, Failure> {
        self.stream
            .write_all(request)
            .map_err(|e| Failure::io(e, false))?;
        self.stream.flush().map_err(|e| Failure::io(e, false))?;
        self.buf.clear();
        let resp = self.read_response()?;
        self.used += 1;
        Ok(resp)
    }

    /// Shuts the socket down (both ways); pending reads and writes end at once.
    pub fn close(&self) {
        let _ = self.socket.shutdown(Shutdown::Both);
    }

    fn fill(&mut self) -> Result<usize, Failure> {
        let mut chunk = [0u8; 8192];
        let n = loop {
            match self.stream.read(&mut chunk) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // rustls reports a close without close_notify as UnexpectedEof: same as EOF.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break 0,
                Err(e) => return Err(Failure::io(e, false)),
            }
        };
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    fn eof(&self, what: &str) -> Failure {
        Failure {
            kind: Transport::Broken,
            error: io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("connection closed {what}"),
            ),
            closed_before_response: self.buf.is_empty(),
        }
    }

    fn read_response(&mut self) -> Result<Response, Failure> {
        loop {
            let head_end = loop {
                if let Some(p) = find(&self.buf, b"\r\n\r\n") {
                    break p + 4;
                }
                if self.buf.len() > MAX_HEAD {
                    return Err(protocol("response head too long"));
                }
                if self.fill()? == 0 {
                    return Err(self.eof("before the response"));
                }
            };
            let head = parse_head(&self.buf[..head_end])?;
            self.buf.drain(..head_end);
            if (100..200).contains(&head.status) {
                continue;
            }
            let body = if head.status == 204 || head.status == 304 {
                Vec::new()
            } else if head.chunked {
                self.read_chunked()?
            } else if let Some(len) = head.content_length {
                if len > MAX_BODY {
                    return Err(protocol("response body too large"));
                }
                while self.buf.len() < len {
                    if self.fill()? == 0 {
                        return Err(self.eof("inside the response body"));
                    }
                }
                self.buf.drain(..len).collect()
            } else {
                while self.fill()? > 0 {
                    if self.buf.len() > MAX_BODY {
                        return Err(protocol("response body too large"));
                    }
                }
                return Ok(Response {
                    status: head.status,
                    body: std::mem::take(&mut self.buf),
                    keep_alive: false,
                    retry_after: head.retry_after,
                });
            };
            return Ok(Response {
                status: head.status,
                body,
                keep_alive: head.keep_alive,
                retry_after: head.retry_after,
            });
        }
    }

    fn read_chunked(&mut self) -> Result<Vec<u8>, Failure> {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(p) = find(&self.buf, b"\r\n") {
                    break p;
                }
                if self.fill()? == 0 {
                    return Err(self.eof("inside a chunked body"));
                }
            };
            let size_text = std::str::from_utf8(&self.buf[..line_end]).unwrap_or("");
            let size_text = size_text.split(';').next().unwrap_or("").trim();
            let size =
                usize::from_str_radix(size_text, 16).map_err(|_| protocol("bad chunk size"))?;
            self.buf.drain(..line_end + 2);
            if size == 0 {
                // Trailers, then an empty line.
                loop {
                    if let Some(p) = find(&self.buf, b"\r\n") {
                        self.buf.drain(..p + 2);
                        if p == 0 {
                            return Ok(body);
                        }
                        continue;
                    }
                    if self.fill()? == 0 {
                        return Err(self.eof("inside chunk trailers"));
                    }
                }
            }
            if body.len() + size > MAX_BODY {
                return Err(protocol("response body too large"));
            }
            while self.buf.len() < size + 2 {
                if self.fill()? == 0 {
                    return Err(self.eof("inside a chunk"));
                }
            }
            body.extend_from_slice(&self.buf[..size]);
            self.buf.drain(..size + 2);
        }
    }
}

fn protocol(msg: &str) -> Failure {
    Failure {
        kind: Transport::Broken,
        error: io::Error::new(io::ErrorKind::InvalidData, msg.to_string()),
        closed_before_response: false,
    }
}

struct Head {
    status: u16,
    content_length: Option<usize>,
    chunked: bool,
    keep_alive: bool,
    retry_after: Option<Duration>,
}

fn parse_head(head: &[u8]) -> Result<Head, Failure> {
    let text = std::str::from_utf8(head).map_err(|_| protocol("response head is not text"))?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    if !version.starts_with("HTTP/1.") {
        return Err(protocol("not an HTTP/1.x response"));
    }
    let status = parts
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| protocol("bad status line"))?;
    let mut h = Head {
        status,
        content_length: None,
        chunked: false,
        keep_alive: version != "HTTP/1.0",
        retry_after: None,
    };
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            h.content_length = Some(value.parse().map_err(|_| protocol("bad Content-Length"))?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            h.chunked = value.to_ascii_lowercase().contains("chunked");
        } else if name.eq_ignore_ascii_case("connection") {
            let v = value.to_ascii_lowercase();
            if v.contains("close") {
                h.keep_alive = false;
            } else if v.contains("keep-alive") {
                h.keep_alive = true;
            }
        } else if name.eq_ignore_ascii_case("retry-after") {
            h.retry_after = value.parse::<u64>().ok().map(Duration::from_secs);
        }
    }
    Ok(h)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Appends a complete `method path HTTP/1.1` request with `Host`, `Content-Length`, the given
/// headers and the body.
pub fn write_request(
    out: &mut Vec<u8>,
    method: &str,
    path: &str,
    host: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) {
    out.reserve(256 + body.len());
    for part in [
        method,
        " ",
        path,
        " HTTP/1.1\r\nHost: ",
        host,
        "\r\nContent-Length: ",
    ] {
        out.extend_from_slice(part.as_bytes());
    }
    super::encode::write_int(body.len() as i64, out);
    out.extend_from_slice(b"\r\n");
    for (k, v) in headers {
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::thread;

    /// A one-connection server that answers each request with the next canned reply.
    fn serve(replies: Vec<&'static [u8]>) -> (u16, thread::JoinHandle<Vec<Vec<u8>>>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let h = thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut got = Vec::new();
            for r in replies {
                let mut req = Vec::new();
                let mut b = [0u8; 4096];
                while find(&req, b"\r\n\r\n").is_none() {
                    let n = s.read(&mut b).unwrap();
                    assert!(n > 0);
                    req.extend_from_slice(&b[..n]);
                }
                got.push(req);
                s.write_all(r).unwrap();
            }
            got
        });
        (port, h)
    }

    #[test]
    fn keep_alive_content_length_and_chunked() {
        let (port, h) = serve(vec![
            b"HTTP/1.1 200 OK\r\nContent-Length: 27\r\n\r\n{\"text\":\"Success\",\"code\":0}",
            b"HTTP/1.1 503 Busy\r\nTransfer-Encoding: chunked\r\nRetry-After: 7\r\n\r\n4\r\nbusy\r\n3\r\n!!!\r\n0\r\n\r\n",
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nConnection: close\r\n\r\nbye",
        ]);
        let target = Target::new("127.0.0.1", port, None).unwrap();
        let mut c = Conn::connect(&target, Duration::from_secs(5)).unwrap();
        let mut req = Vec::new();
        write_request(
            &mut req,
            "POST",
            "/services/collector/event",
            &target.host_header,
            &[("Authorization", "Splunk t")],
            b"{}",
        );
        let r = c.round_trip(&req).unwrap();
        assert_eq!((r.status, r.keep_alive), (200, true));
        assert_eq!(r.body, b"{\"text\":\"Success\",\"code\":0}");
        let r = c.round_trip(&req).unwrap();
        assert_eq!(
            (r.status, r.body.as_slice(), r.retry_after),
            (503, &b"busy!!!"[..], Some(Duration::from_secs(7)))
        );
        let r = c.round_trip(&req).unwrap();
        assert_eq!(
            (r.status, r.body.as_slice(), r.keep_alive),
            (200, &b"bye"[..], false)
        );
        let got = h.join().unwrap();
        let first = String::from_utf8(got[0].clone()).unwrap();
        assert!(
            first.starts_with("POST /services/collector/event HTTP/1.1\r\nHost: 127.0.0.1:"),
            "{first}"
        );
        assert!(
            first.contains("\r\nContent-Length: 2\r\nAuthorization: Splunk t\r\n\r\n"),
            "{first}"
        );
    }

    #[test]
    fn closed_connection_is_reported_as_closed_before_response() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let h = thread::spawn(move || {
            let (s, _) = l.accept().unwrap();
            drop(s);
        });
        let target = Target::new("127.0.0.1", port, None).unwrap();
        let mut c = Conn::connect(&target, Duration::from_secs(5)).unwrap();
        h.join().unwrap();
        let f = c
            .round_trip(b"POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
            .unwrap_err();
        assert_eq!(f.kind, Transport::Broken);
        assert!(f.closed_before_response);
    }

    #[test]
    fn refused_connection_is_a_connect_failure() {
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let target = Target::new("127.0.0.1", port, None).unwrap();
        let f = Conn::connect(&target, Duration::from_secs(2))
            .err()
            .unwrap();
        assert_eq!(f.kind, Transport::Connect);
    }

    #[test]
    fn slow_server_times_out() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let h = thread::spawn(move || {
            let (s, _) = l.accept().unwrap();
            thread::sleep(Duration::from_millis(600));
            drop(s);
        });
        let target = Target::new("127.0.0.1", port, None).unwrap();
        let mut c = Conn::connect(&target, Duration::from_millis(200)).unwrap();
        let f = c
            .round_trip(b"POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
            .unwrap_err();
        assert_eq!(f.kind, Transport::Timeout);
        h.join().unwrap();
    }
}
