//! syslogout, udpout and tcpout against listeners on 127.0.0.1, byte for byte.

use std::io::Read;
use std::net::{TcpListener, UdpSocket};
use std::time::{Duration, Instant};

use eventgen::output::net::{
    DatagramSink, Destination, SyslogConfig, TcpConfig, TcpSink, UdpConfig, encode_syslog,
};
use eventgen::output::{Batch, EventMeta, Sink};

fn batch(events: &[&[u8]], encode: impl Fn(&[u8], &mut Vec<u8>)) -> Batch {
    let mut b = Batch::default();
    for e in events {
        encode(e, &mut b.bytes);
        b.ends.push(b.bytes.len() as u32);
    }
    b
}

fn udp_listener() -> (UdpSocket, Destination) {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let port = s.local_addr().unwrap().port();
    (
        s,
        Destination {
            host: "127.0.0.1".into(),
            port,
        },
    )
}

fn recv(s: &UdpSocket) -> Vec<u8> {
    let mut buf = vec![0u8; 70_000];
    let n = s.recv(&mut buf).unwrap();
    buf.truncate(n);
    buf
}

#[test]
fn syslog_one_datagram_per_event() {
    let (l, dest) = udp_listener();
    let mut sink = DatagramSink::syslog(&SyslogConfig {
        dest,
        header: false,
    })
    .unwrap();
    let meta = EventMeta {
        time: 0,
        host: "h",
        source: "s",
        sourcetype: "st",
        index: "i",
    };
    let b = batch(&[b"first event\n", b"second  \r\n"], |e, out| {
        encode_syslog(&meta, e, false, out)
    });
    sink.write(&b).unwrap();
    assert_eq!(recv(&l), b"<14>first event");
    assert_eq!(recv(&l), b"<14>second");
    let summary = sink.finish(Instant::now()).unwrap().unwrap();
    assert_eq!(summary, "syslogout: sent 2 events, failed 0");
}

#[test]
fn udp_datagrams_and_oversize_events_reported_not_truncated() {
    let (l, dest) = udp_listener();
    let mut sink = DatagramSink::udp(&UdpConfig { dest }).unwrap();
    let big = vec![b'x'; 70_000];
    let b = batch(&[b"one", &big, b"two"], |e, out| out.extend_from_slice(e));
    sink.write(&b).unwrap();
    assert_eq!(recv(&l), b"one");
    assert_eq!(
        recv(&l),
        b"two",
        "the oversize event is not sent, truncated or otherwise"
    );
    let stats = sink.stats();
    assert_eq!(stats.sent.load(std::sync::atomic::Ordering::Relaxed), 2);
    assert_eq!(stats.failed.load(std::sync::atomic::Ordering::Relaxed), 1);
}

#[test]
fn tcp_newline_framed_on_one_connection() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let reader = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut all = Vec::new();
        s.read_to_end(&mut all).unwrap();
        // A second connection would mean the sink reconnected needlessly.
        l.set_nonblocking(true).unwrap();
        (all, l.accept().is_err())
    });
    let mut sink = TcpSink::new(&TcpConfig {
        dest: Destination {
            host: "127.0.0.1".into(),
            port,
        },
    });
    let line = |e: &[u8], out: &mut Vec<u8>| {
        out.extend_from_slice(e);
        out.push(b'\n');
    };
    for i in 0..100 {
        let text = format!("event {i}");
        sink.write(&batch(&[text.as_bytes(), b"more"], line))
            .unwrap();
    }
    sink.finish(Instant::now() + Duration::from_secs(5))
        .unwrap();
    let (all, single) = reader.join().unwrap();
    let want: String = (0..100).map(|i| format!("event {i}\nmore\n")).collect();
    assert_eq!(String::from_utf8(all).unwrap(), want);
    assert!(single);
}

#[test]
fn tcp_reconnects_when_the_listener_comes_back() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let mut sink = TcpSink::new(&TcpConfig {
        dest: Destination {
            host: "127.0.0.1".into(),
            port,
        },
    });
    let line = |e: &[u8], out: &mut Vec<u8>| {
        out.extend_from_slice(e);
        out.push(b'\n');
    };
    // First connection: read one batch, then close.
    let first = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = vec![0u8; 2];
        s.read_exact(&mut buf).unwrap();
        drop(s);
        l
    });
    sink.write(&batch(&[b"a"], line)).unwrap();
    let l = first.join().unwrap();
    let second = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut all = Vec::new();
        s.read_to_end(&mut all).unwrap();
        all
    });
    sink.write(&batch(&[b"b", b"c"], line)).unwrap();
    sink.finish(Instant::now() + Duration::from_secs(5))
        .unwrap();
    assert_eq!(second.join().unwrap(), b"b\nc\n");
}
