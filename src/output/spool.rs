//! The `spool` sink (`outputMode = spool`): hands events to Splunk's spool directory
//! (`spoolDir`, by default `$SPLUNK_HOME/var/spool/splunk`), which splunkd reads with a batch
//! input that indexes each file and then deletes it (`move_policy = sinkhole`).
//!
//! Eventgen appends to `spoolDir/spoolFile` in place, so splunkd can read a half-written
//! file and then delete it. Here a reader never sees a partial file:
//!
//! * events are gathered in memory and, on `flush()`, on `finish()`, or as soon as more than
//!   [`SPOOL_ROLL_BYTES`] are pending, written in one go to a temporary file;
//! * the finished temporary file is then hard-linked into place under a name that does not
//!   exist yet (`spoolFile`, or `spoolFile.<n>` while an earlier one is still unread, so
//!   nothing is overwritten; the link fails rather than replace), and the temporary name is
//!   removed. Where hard links are not supported it is renamed after checking the name is
//!   free.
//!
//! The temporary file is `.<spoolFile>.<pid>.tmp`, beside the final file (a rename or link
//! only works within one file system). Splunk's default `[batch://…/var/spool/splunk]` stanza
//! has no blacklist that we know of, so neither the leading dot nor the `.tmp` suffix is
//! proven to keep splunkd away from it; what makes the window tiny is that the data goes out
//! in one write and the link follows at once. For a guarantee, call
//! [`SpoolSink::with_staging_dir`] with a directory splunkd does not read on the same file
//! system (for example `$SPLUNK_HOME/var/spool/eventgen-staging`).
//!
//! On an error the pending data is dropped (the reducer logs and counts it) instead of being
//! retried forever as Eventgen does, which could wedge its output thread.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{Batch, Sink};

/// Pending bytes that trigger a file at once, so memory stays bounded between flushes.
pub const SPOOL_ROLL_BYTES: usize = 8 * 1024 * 1024;

/// Names tried per file before giving up (`spoolFile`, then `spoolFile.<n>` upwards).
const MAX_NAME_TRIES: u32 = 10_000;

/// Writes each flush's events to a new, complete file in the spool directory.
#[derive(Debug)]
pub struct SpoolSink {
    /// `spoolDir/spoolFile`: the preferred final name.
    target: PathBuf,
    /// Where the temporary file is written.
    temp: PathBuf,
    pending: Vec<u8>,
    pending_events: u64,
    /// Next `<n>` to try for `spoolFile.<n>`.
    next_suffix: u64,
    files: u64,
    events: u64,
    bytes: u64,
}

impl SpoolSink {
    /// A sink writing `dir/file` (`spoolDir`, `spoolFile`); creates the directories needed.
    pub fn create(dir: impl AsRef<Path>, file: &str) -> io::Result<SpoolSink> {
        let target = dir.as_ref().join(file);
        let (parent, name) = match (target.parent(), target.file_name()) {
            (Some(parent), Some(name)) if !file.is_empty() => (parent.to_path_buf(), name),
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("spoolFile {file:?} is not a file name"),
                ));
            }
        };
        if !parent.as_os_str().is_empty() {
            fs::create_dir_all(&parent)?;
        }
        let temp = parent.join(temp_name(name));
        Ok(SpoolSink {
            target,
            temp,
            pending: Vec::new(),
            pending_events: 0,
            next_suffix: 1,
            files: 0,
            events: 0,
            bytes: 0,
        })
    }

    /// Writes the temporary file in `staging` instead of beside the final file. `staging`
    /// must be on the same file system as the spool directory.
    pub fn with_staging_dir(mut self, staging: impl AsRef<Path>) -> io::Result<SpoolSink> {
        fs::create_dir_all(staging.as_ref())?;
        if let Some(name) = self.temp.file_name() {
            self.temp = staging.as_ref().join(name);
        }
        Ok(self)
    }

    /// `spoolDir/spoolFile`.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Writes what is pending into a new spool file.
    fn roll(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let result = self.write_temp().and_then(|()| self.place().map(drop));
        if result.is_err() {
            let _ = fs::remove_file(&self.temp);
        } else {
            self.files += 1;
            self.events += self.pending_events;
            self.bytes += self.pending.len() as u64;
        }
        self.pending.clear();
        self.pending_events = 0;
        result
    }

    fn write_temp(&self) -> io::Result<()> {
        let mut f = File::create(&self.temp)?;
        f.write_all(&self.pending)
    }

    /// Moves the temporary file to the first free final name, never replacing a file.
    fn place(&mut self) -> io::Result<PathBuf> {
        let mut candidate = self.target.clone();
        for _ in 0..MAX_NAME_TRIES {
            match fs::hard_link(&self.temp, &candidate) {
                Ok(()) => {
                    fs::remove_file(&self.temp)?;
                    return Ok(candidate);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(_) if !exists(&candidate)? => {
                    // No hard links on this file system: rename into the free name.
                    fs::rename(&self.temp, &candidate)?;
                    return Ok(candidate);
                }
                Err(_) => {}
            }
            candidate = self.suffixed(self.next_suffix);
            self.next_suffix += 1;
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!(
                "no free spool file name near {} after {MAX_NAME_TRIES} tries",
                self.target.display()
            ),
        ))
    }

    /// `spoolFile.<n>`.
    fn suffixed(&self, n: u64) -> PathBuf {
        let mut name: OsString = self.target.as_os_str().to_owned();
        name.push(format!(".{n}"));
        PathBuf::from(name)
    }
}

impl Sink for SpoolSink {
    fn write(&mut self, batch: &Batch) -> io::Result<()> {
        self.pending.extend_from_slice(&batch.bytes);
        self.pending_events += batch.len() as u64;
        if self.pending.len() >= SPOOL_ROLL_BYTES {
            self.roll()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.roll()
    }

    fn finish(&mut self, _deadline: Instant) -> io::Result<Option<String>> {
        self.roll()?;
        Ok(Some(format!(
            "spool {}: {} events, {} bytes in {} files",
            self.target.display(),
            self.events,
            self.bytes,
            self.files
        )))
    }
}

/// `.<name>.<pid>.tmp`: hidden, marked temporary, and distinct per process.
fn temp_name(name: &std::ffi::OsStr) -> OsString {
    let mut tmp = OsString::from(".");
    tmp.push(name);
    tmp.push(format!(".{}.tmp", std::process::id()));
    tmp
}

fn exists(path: &Path) -> io::Result<bool> {
    match fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::file::tests::{TestDir, batch};

    fn finish(sink: &mut SpoolSink) -> String {
        sink.finish(Instant::now()).unwrap().unwrap()
    }

    #[test]
    fn each_flush_makes_a_new_complete_file() {
        let dir = TestDir::new("spool");
        let mut sink = SpoolSink::create(&dir.0, "web.log").unwrap();
        sink.write(&batch(&["a1\n", "a2\n"])).unwrap();
        sink.write(&batch(&["a3\n"])).unwrap();
        assert!(dir.names().is_empty(), "nothing visible before a flush");
        sink.flush().unwrap();
        assert_eq!(dir.names(), ["web.log"]);
        assert_eq!(dir.read("web.log"), "a1\na2\na3\n");

        sink.flush().unwrap(); // nothing pending: no file
        sink.write(&batch(&["b1\n"])).unwrap();
        sink.flush().unwrap();
        assert_eq!(dir.names(), ["web.log", "web.log.1"]);
        assert_eq!(dir.read("web.log"), "a1\na2\na3\n");
        assert_eq!(dir.read("web.log.1"), "b1\n");

        sink.write(&batch(&["c1\n"])).unwrap();
        let summary = finish(&mut sink);
        assert_eq!(dir.names(), ["web.log", "web.log.1", "web.log.2"]);
        assert_eq!(dir.read("web.log.2"), "c1\n");
        assert_eq!(
            summary,
            format!(
                "spool {}: 5 events, 15 bytes in 3 files",
                dir.0.join("web.log").display()
            )
        );
    }

    #[test]
    fn consumed_name_is_reused_and_foreign_files_are_kept() {
        let dir = TestDir::new("spool-reuse");
        fs::write(dir.0.join("s.log"), "foreign\n").unwrap();
        let mut sink = SpoolSink::create(&dir.0, "s.log").unwrap();
        sink.write(&batch(&["one\n"])).unwrap();
        sink.flush().unwrap();
        assert_eq!(dir.read("s.log"), "foreign\n");
        assert_eq!(dir.read("s.log.1"), "one\n");

        // splunkd indexes and deletes both files.
        fs::remove_file(dir.0.join("s.log")).unwrap();
        fs::remove_file(dir.0.join("s.log.1")).unwrap();
        sink.write(&batch(&["two\n"])).unwrap();
        finish(&mut sink);
        assert_eq!(dir.names(), ["s.log"]);
        assert_eq!(dir.read("s.log"), "two\n");
    }

    #[test]
    fn large_pending_data_rolls_before_flush() {
        let dir = TestDir::new("spool-roll");
        let mut sink = SpoolSink::create(&dir.0, "big.log").unwrap();
        let event = "e".repeat(1024 * 1024 - 1) + "\n";
        let one = batch(&[event.as_str()]);
        for _ in 0..8 {
            sink.write(&one).unwrap();
        }
        assert_eq!(dir.names(), ["big.log"], "8 MiB pending: written at once");
        assert_eq!(
            fs::metadata(dir.0.join("big.log")).unwrap().len(),
            8 * 1024 * 1024
        );
        sink.write(&batch(&["tail\n"])).unwrap();
        assert_eq!(dir.names(), ["big.log"]);
        finish(&mut sink);
        assert_eq!(dir.names(), ["big.log", "big.log.1"]);
        assert_eq!(dir.read("big.log.1"), "tail\n");
    }

    #[test]
    fn finish_without_events_leaves_nothing() {
        let dir = TestDir::new("spool-empty");
        let mut sink = SpoolSink::create(dir.0.join("sub"), "x.log").unwrap();
        finish(&mut sink);
        assert_eq!(dir.names(), ["sub"]);
        assert!(fs::read_dir(dir.0.join("sub")).unwrap().next().is_none());
    }

    #[test]
    fn staging_dir_holds_the_temporary_file() {
        let dir = TestDir::new("spool-staging");
        let spool = dir.0.join("spool");
        let staging = dir.0.join("staging");
        let mut sink = SpoolSink::create(&spool, "x.log")
            .unwrap()
            .with_staging_dir(&staging)
            .unwrap();
        assert!(sink.temp.starts_with(&staging));
        sink.write(&batch(&["hello\n"])).unwrap();
        finish(&mut sink);
        assert_eq!(fs::read_to_string(spool.join("x.log")).unwrap(), "hello\n");
        assert!(fs::read_dir(&staging).unwrap().next().is_none());
    }

    #[test]
    fn temp_file_is_a_hidden_tmp_beside_the_target() {
        let dir = TestDir::new("spool-name");
        let sink = SpoolSink::create(&dir.0, "web.log").unwrap();
        let name = sink.temp.file_name().unwrap().to_str().unwrap().to_string();
        assert_eq!(name, format!(".web.log.{}.tmp", std::process::id()));
        assert_eq!(sink.temp.parent(), Some(dir.0.as_path()));
    }

    #[test]
    fn empty_spool_file_is_rejected() {
        let dir = TestDir::new("spool-bad");
        let err = SpoolSink::create(&dir.0, "").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}
