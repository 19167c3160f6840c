//! A small HTTP proxy on loopback for the proxy tests: `CONNECT host:port` opens a tunnel;
//! any other request (absolute-form `POST http://host:port/path`) is forwarded to its host
//! with the target rewritten to origin-form, one request and response at a time
//! (Content-Length bodies). Counts the requests it handled.
#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

pub struct Proxy {
    pub port: u16,
    pub requests: Arc<AtomicUsize>,
}

impl Proxy {
    pub fn start() -> Proxy {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let requests = Arc::new(AtomicUsize::new(0));
        let r = requests.clone();
        thread::spawn(move || {
            for c in l.incoming() {
                let Ok(c) = c else { return };
                let r = r.clone();
                thread::spawn(move || {
                    let _ = handle(c, &r);
                });
            }
        });
        Proxy { port, requests }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn count(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Reads one message head (and its Content-Length body) from `s` into `buf`; returns the
/// head's text and the whole message's length, or `None` at the end of the stream.
fn message(s: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<Option<(String, usize)>> {
    let mut chunk = [0u8; 65536];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(Some((head, head_end + len)))
}

fn handle(mut c: TcpStream, requests: &AtomicUsize) -> io::Result<()> {
    c.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut buf = Vec::new();
    let mut upstream: Option<TcpStream> = None;
    let mut up_buf = Vec::new();
    while let Some((head, total)) = message(&mut c, &mut buf)? {
        requests.fetch_add(1, Ordering::SeqCst);
        let first = head.lines().next().unwrap_or("").to_string();
        let mut parts = first.split(' ');
        let method = parts.next().unwrap_or("");
        let target = parts.next().unwrap_or("");
        if method == "CONNECT" {
            let up = TcpStream::connect(target)?;
            c.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
            let (mut a, mut b) = (c.try_clone()?, up.try_clone()?);
            let mut up2 = up;
            let rest = buf.split_off(total);
            up2.write_all(&rest)?;
            let t = thread::spawn(move || {
                let _ = io::copy(&mut a, &mut up2);
                let _ = up2.shutdown(std::net::Shutdown::Write);
            });
            let _ = io::copy(&mut b, &mut c);
            let _ = t.join();
            return Ok(());
        }
        let Some(rest) = target.strip_prefix("http://") else {
            c.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")?;
            return Ok(());
        };
        let slash = rest.find('/').unwrap_or(rest.len());
        let (authority, path) = (&rest[..slash], &rest[slash..]);
        if upstream.is_none() {
            let up = TcpStream::connect(authority)?;
            up.set_read_timeout(Some(Duration::from_secs(10)))?;
            upstream = Some(up);
        }
        let up = upstream.as_mut().unwrap();
        let rewritten = head.replacen(target, if path.is_empty() { "/" } else { path }, 1);
        let head_len = head.len();
        up.write_all(rewritten.as_bytes())?;
        up.write_all(&buf[head_len..total])?;
        buf.drain(..total);
        let Some((_, resp_len)) = message(up, &mut up_buf)? else {
            return Ok(());
        };
        c.write_all(&up_buf[..resp_len])?;
        up_buf.drain(..resp_len);
    }
    Ok(())
}
