//! The `stdout` and `devnull` sinks, and the stdout of a modular input (`modinput`, where the
//! events are XML inside splunkd's `<stream>` wrapper).
//!
//! Rust's `std::io::Stdout` is line-buffered even into a pipe, which would cost one `write(2)`
//! per event, and its lock guard cannot move between threads. [`StdoutSink::stdout`] therefore
//! writes to its own duplicate of file descriptor 1 (handle on Windows) through a large
//! buffer: batches are copied into it and written when it fills or when the reducer calls
//! `flush()`; a batch larger than the buffer is written directly. Nothing else in the process
//! writes to stdout (`clippy::print_stdout` is denied), so no ordering is lost.
//!
//! Errors are returned as they come: when the reader goes away the error kind is
//! [`io::ErrorKind::BrokenPipe`] (Rust ignores SIGPIPE), which the caller treats as an order
//! to stop quietly. On a write error the buffered bytes are dropped, so a sink that keeps
//! going does not write them twice or grow without bound.

use std::fs::File;
use std::io::{self, Write};
use std::time::Instant;

use super::{Batch, Sink};

/// Bytes gathered before a `write(2)`. Large enough that a busy generator makes few system
/// calls, small enough to stay in cache; batches at least this big skip the copy.
pub const STDOUT_BUFFER_BYTES: usize = 256 * 1024;

const STREAM_OPEN: &[u8] = b"<stream>";
const STREAM_CLOSE: &[u8] = b"</stream>";

/// Where the sink is in splunkd's XML streaming protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wrapper {
    /// Plain output: no wrapper.
    None,
    /// `<stream>` not written yet.
    Pending,
    /// `<stream>` written (or buffered), `</stream>` not yet.
    Open,
    /// `</stream>` written: `finish` already ran.
    Closed,
}

/// Writes batches to stdout (or any writer, for tests) through a large buffer.
#[derive(Debug)]
pub struct StdoutSink<W: Write + Send = File> {
    out: W,
    buf: Vec<u8>,
    wrapper: Wrapper,
    /// The output's name in the summary: `stdout`, or `modinput` when splunkd reads it.
    label: &'static str,
    events: u64,
    bytes: u64,
    /// Events in `buf`, and events lost with a failed write (the reader closed the pipe).
    buffered: u64,
    unwritten: u64,
}

impl StdoutSink<File> {
    /// Plain sink on the process's stdout (`outputMode = stdout`).
    pub fn stdout() -> io::Result<Self> {
        Ok(Self::new(stdout_file()?))
    }

    /// Sink on the process's stdout that wraps the events in `<stream>` … `</stream>`
    /// (a modular input run by splunkd).
    pub fn stdout_modinput() -> io::Result<Self> {
        Ok(Self::modinput(stdout_file()?))
    }

    /// `outputMode = modinput` from the command line: the XML events without the wrapper,
    /// named `modinput` in the summary.
    pub fn stdout_modinput_events() -> io::Result<Self> {
        Ok(StdoutSink {
            label: "modinput",
            ..Self::new(stdout_file()?)
        })
    }
}

impl<W: Write + Send> StdoutSink<W> {
    /// Plain sink on `out`.
    pub fn new(out: W) -> Self {
        StdoutSink {
            out,
            buf: Vec::with_capacity(STDOUT_BUFFER_BYTES),
            wrapper: Wrapper::None,
            label: "stdout",
            events: 0,
            bytes: 0,
            buffered: 0,
            unwritten: 0,
        }
    }

    /// Sink on `out` in splunkd's XML streaming mode: `<stream>` goes out before the first
    /// batch (or in `finish` if no event ever came) and `</stream>` in `finish`.
    pub fn modinput(out: W) -> Self {
        StdoutSink {
            wrapper: Wrapper::Pending,
            label: "modinput",
            ..Self::new(out)
        }
    }

    /// The inner writer (tests read what was written).
    pub fn into_inner(self) -> W {
        self.out
    }

    fn open_stream(&mut self) {
        if self.wrapper == Wrapper::Pending {
            self.buf.extend_from_slice(STREAM_OPEN);
            self.wrapper = Wrapper::Open;
        }
    }

    /// Writes the buffer out. The buffer is emptied even on error (see the module docs).
    fn drain(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let result = self.out.write_all(&self.buf);
        self.buf.clear();
        if result.is_err() {
            self.unwritten += self.buffered;
        }
        self.buffered = 0;
        result
    }
}

impl<W: Write + Send> Sink for StdoutSink<W> {
    fn write(&mut self, batch: &Batch) -> io::Result<()> {
        self.open_stream();
        let data = &batch.bytes;
        let n = batch.len() as u64;
        if self.buf.len() + data.len() > STDOUT_BUFFER_BYTES
            && let Err(e) = self.drain()
        {
            self.unwritten += n;
            return Err(e);
        }
        if data.len() >= STDOUT_BUFFER_BYTES {
            if let Err(e) = self.out.write_all(data) {
                self.unwritten += n;
                return Err(e);
            }
        } else {
            self.buf.extend_from_slice(data);
            self.buffered += n;
        }
        self.events += batch.len() as u64;
        self.bytes += data.len() as u64;
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.drain()?;
        self.out.flush()
    }

    fn finish(&mut self, _deadline: Instant) -> io::Result<Option<String>> {
        if matches!(self.wrapper, Wrapper::Pending | Wrapper::Open) {
            self.open_stream();
            self.buf.extend_from_slice(STREAM_CLOSE);
            self.wrapper = Wrapper::Closed;
        }
        self.flush()?;
        Ok(Some(format!(
            "{}: {} events, {} bytes",
            self.label, self.events, self.bytes
        )))
    }

    fn unread_events(&self) -> u64 {
        self.unwritten
    }
}

/// A duplicate of the process's stdout as a plain, unbuffered `File`; dropping it closes only
/// the duplicate.
#[cfg(unix)]
fn stdout_file() -> io::Result<File> {
    use std::os::fd::AsFd;
    let file = File::from(io::stdout().as_fd().try_clone_to_owned()?);
    #[cfg(target_os = "linux")]
    grow_pipe(&file);
    Ok(file)
}

/// Pipe capacity asked for when stdout is a pipe: 1 MiB, the default `pipe-max-size` an
/// unprivileged process may set.
#[cfg(target_os = "linux")]
pub const PIPE_BYTES: usize = 1 << 20;

/// When `file` is a pipe, grows it to [`PIPE_BYTES`] (Linux's default is 64 KiB). With the
/// default, every 256 KiB write wakes the reader and blocks the writer four times; with 1 MiB a
/// fast generator and its reader take turns far less often. Best effort: a refusal (a lower
/// `pipe-max-size`, a pipe already larger) leaves the pipe as it was.
#[cfg(target_os = "linux")]
fn grow_pipe(file: &File) {
    use std::os::fd::AsRawFd;
    let Ok(meta) = file.metadata() else { return };
    if !std::os::unix::fs::FileTypeExt::is_fifo(&meta.file_type()) {
        return;
    }
    // SAFETY: fcntl on a descriptor this `File` owns; F_GETPIPE_SZ/F_SETPIPE_SZ take and
    // return plain integers and touch no memory of ours.
    unsafe {
        let fd = file.as_raw_fd();
        let now = libc::fcntl(fd, libc::F_GETPIPE_SZ);
        if now >= 0 && (now as usize) < PIPE_BYTES {
            libc::fcntl(fd, libc::F_SETPIPE_SZ, PIPE_BYTES as libc::c_int);
        }
    }
}

#[cfg(windows)]
fn stdout_file() -> io::Result<File> {
    use std::os::windows::io::AsHandle;
    Ok(File::from(io::stdout().as_handle().try_clone_to_owned()?))
}

/// `outputMode = devnull`: counts what it is given and writes nothing (no system calls).
/// Workers encode nothing for it, so the bytes counted are the events' text.
#[derive(Debug, Default)]
pub struct DevnullSink {
    events: u64,
    bytes: u64,
}

impl DevnullSink {
    pub fn new() -> Self {
        Self::default()
    }

    /// Events and bytes of event text received so far.
    pub fn counts(&self) -> (u64, u64) {
        (self.events, self.bytes)
    }
}

impl Sink for DevnullSink {
    fn write(&mut self, batch: &Batch) -> io::Result<()> {
        self.events += batch.len() as u64;
        self.bytes += batch.raw_bytes;
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn finish(&mut self, _deadline: Instant) -> io::Result<Option<String>> {
        Ok(Some(format!(
            "devnull: {} events, {} bytes of event text discarded",
            self.events, self.bytes
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(events: &[&str]) -> Batch {
        let mut b = Batch::default();
        for ev in events {
            b.bytes.extend_from_slice(ev.as_bytes());
            b.ends.push(b.bytes.len() as u32);
        }
        b
    }

    /// Records each `write` call separately.
    #[derive(Default)]
    struct Calls {
        writes: Vec<Vec<u8>>,
        flushes: usize,
    }

    impl Write for Calls {
        fn write(&mut self, data: &[u8]) -> io::Result<usize> {
            self.writes.push(data.to_vec());
            Ok(data.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            self.flushes += 1;
            Ok(())
        }
    }

    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn deadline() -> Instant {
        Instant::now()
    }

    #[test]
    fn small_batches_are_coalesced_until_flush() {
        let mut sink = StdoutSink::new(Calls::default());
        sink.write(&batch(&["a\n", "b\n"])).unwrap();
        sink.write(&batch(&["c\n"])).unwrap();
        assert!(sink.out.writes.is_empty(), "nothing written before flush");
        sink.flush().unwrap();
        assert_eq!(sink.out.writes, vec![b"a\nb\nc\n".to_vec()]);
        assert_eq!(sink.out.flushes, 1);
        let summary = sink.finish(deadline()).unwrap();
        assert_eq!(summary.as_deref(), Some("stdout: 3 events, 6 bytes"));
        assert_eq!(
            sink.out.writes.len(),
            1,
            "finish of a plain sink adds nothing"
        );
    }

    #[test]
    fn large_batch_is_written_directly_after_pending_bytes() {
        let big = "x".repeat(STDOUT_BUFFER_BYTES) + "\n";
        let mut sink = StdoutSink::new(Calls::default());
        sink.write(&batch(&["small\n"])).unwrap();
        sink.write(&batch(&[&big])).unwrap();
        let writes = &sink.out.writes;
        assert_eq!(writes.len(), 2);
        assert_eq!(writes[0], b"small\n");
        assert_eq!(writes[1], big.as_bytes());
        sink.write(&batch(&["after\n"])).unwrap();
        sink.flush().unwrap();
        assert_eq!(sink.out.writes[2], b"after\n");
    }

    #[test]
    fn buffer_fills_then_writes() {
        let ev = "y".repeat(1000) + "\n";
        let mut sink = StdoutSink::new(Vec::new());
        let per_batch = batch(&[ev.as_str(); 10]);
        let batches = 60; // about 600 KB, more than two buffers
        for _ in 0..batches {
            sink.write(&per_batch).unwrap();
        }
        assert!(
            !sink.out.is_empty(),
            "a full buffer is written without flush"
        );
        sink.flush().unwrap();
        let out = sink.into_inner();
        assert_eq!(out.len(), ev.len() * 10 * batches);
        assert!(out.chunks(ev.len()).all(|c| c == ev.as_bytes()));
    }

    #[test]
    fn broken_pipe_surfaces_as_such() {
        let mut sink = StdoutSink::new(ClosedPipe);
        sink.write(&batch(&["a\n"])).unwrap();
        let err = sink.flush().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
        let big = "z".repeat(STDOUT_BUFFER_BYTES);
        let err = sink.write(&batch(&[&big])).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
        assert!(sink.buf.is_empty(), "failed bytes are not kept");
    }

    #[test]
    fn modinput_wraps_events_in_stream() {
        let mut sink = StdoutSink::modinput(Vec::new());
        sink.write(&batch(&["  <event>1</event>\n"])).unwrap();
        sink.flush().unwrap();
        assert_eq!(sink.out, b"<stream>  <event>1</event>\n");
        sink.write(&batch(&["  <event>2</event>\n"])).unwrap();
        sink.finish(deadline()).unwrap();
        sink.finish(deadline()).unwrap();
        assert_eq!(
            String::from_utf8(sink.into_inner()).unwrap(),
            "<stream>  <event>1</event>\n  <event>2</event>\n</stream>"
        );
    }

    #[test]
    fn modinput_without_events_still_writes_the_wrapper() {
        let mut sink = StdoutSink::modinput(Vec::new());
        sink.flush().unwrap();
        assert!(sink.out.is_empty());
        sink.finish(deadline()).unwrap();
        assert_eq!(sink.into_inner(), b"<stream></stream>");
    }

    #[test]
    fn devnull_counts_the_event_text_it_was_not_given() {
        // What workers hand devnull: no encoded bytes, only event ends and the text's size.
        let discarded = |texts: &[&str]| Batch {
            ends: vec![0; texts.len()],
            raw_bytes: texts.iter().map(|t| t.len() as u64).sum(),
            ..Batch::default()
        };
        let mut sink = DevnullSink::new();
        sink.write(&discarded(&["a\n", "bc\n"])).unwrap();
        sink.write(&discarded(&["d\n"])).unwrap();
        sink.flush().unwrap();
        assert_eq!(sink.counts(), (3, 7));
        assert_eq!(
            sink.finish(deadline()).unwrap().as_deref(),
            Some("devnull: 3 events, 7 bytes of event text discarded")
        );
    }

    #[test]
    fn stdout_constructor_duplicates_fd() {
        // Only checks that a duplicate of fd 1 can be made; nothing is written.
        let sink = StdoutSink::stdout().unwrap();
        assert_eq!(sink.wrapper, Wrapper::None);
    }
}
