//! The `file` sink (`outputMode = file`): appends events to `fileName` and rotates it by size,
//! keeping `fileBackupFiles` older copies (`name.1` newest … `name.N` oldest).
//!
//! Rotation works like Eventgen's: when the next event would take the file over
//! `fileMaxBytes`, delete `name.N`, shift `name.i` to `name.i+1`, rename `name` to `name.1`
//! and start a new `name`. An event larger than the limit goes alone into a fresh file (the
//! file it would have joined is rotated first unless it is empty). Differences, all
//! deliberate:
//!
//! * sizes are counted in bytes, not Python characters;
//! * the file stays open (append mode, buffered) across batches instead of being reopened
//!   for every flush, and its size is read from the file system only when it is opened;
//! * `fileBackupFiles = 0` keeps no backup (the full file is deleted on rotation), where
//!   Eventgen still keeps one `name.1`;
//! * missing parent directories are created.
//!
//! After an I/O error the file is closed and reopened (re-reading its size) on the next write.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{Batch, Sink};

/// Write buffer in front of the file: few system calls per flush, bounded memory.
pub const FILE_BUFFER_BYTES: usize = 256 * 1024;
/// Eventgen's default `fileMaxBytes` (10 MiB).
pub const DEFAULT_FILE_MAX_BYTES: u64 = 10_485_760;
/// Eventgen's default `fileBackupFiles`.
pub const DEFAULT_FILE_BACKUP_FILES: u32 = 5;

/// Appends batches to one file and rotates it by size.
#[derive(Debug)]
pub struct FileSink {
    path: PathBuf,
    max_bytes: u64,
    backups: u32,
    /// `None` after an error: reopened on the next write.
    out: Option<BufWriter<File>>,
    /// Bytes in the current file, including those still buffered.
    size: u64,
    events: u64,
    bytes: u64,
    rotations: u64,
}

impl FileSink {
    /// Opens (creating it and its parent directories if needed) `path` for appending.
    /// `max_bytes` is `fileMaxBytes`, `backups` is `fileBackupFiles`.
    pub fn create(path: impl Into<PathBuf>, max_bytes: u64, backups: u32) -> io::Result<FileSink> {
        let path = path.into();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent)?;
        }
        let mut sink = FileSink {
            path,
            max_bytes,
            backups,
            out: None,
            size: 0,
            events: 0,
            bytes: 0,
            rotations: 0,
        };
        sink.writer()?;
        Ok(sink)
    }

    /// The path being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The open writer, reopening the file (and re-reading its size) if an error closed it.
    fn writer(&mut self) -> io::Result<&mut BufWriter<File>> {
        let w = match self.out.take() {
            Some(w) => w,
            None => {
                let file = open_append(&self.path)?;
                self.size = file.metadata()?.len();
                BufWriter::with_capacity(FILE_BUFFER_BYTES, file)
            }
        };
        Ok(self.out.insert(w))
    }

    fn write_events(&mut self, batch: &Batch) -> io::Result<()> {
        let data = &batch.bytes;
        self.writer()?;
        if self.size.saturating_add(data.len() as u64) <= self.max_bytes {
            self.writer()?.write_all(data)?;
            self.size += data.len() as u64;
            return Ok(());
        }
        // Walk the events; write each run that fits, rotating between runs.
        let mut run_start = 0usize;
        let mut ev_start = 0usize;
        for &end in &batch.ends {
            let end = end as usize;
            let len = (end - ev_start) as u64;
            if self.size > 0 && self.size.saturating_add(len) > self.max_bytes {
                self.writer()?.write_all(&data[run_start..ev_start])?;
                self.rotate()?;
                run_start = ev_start;
            }
            self.size += len;
            ev_start = end;
        }
        self.writer()?.write_all(&data[run_start..])?;
        self.size += (data.len() - ev_start) as u64;
        Ok(())
    }

    /// Closes the current file, shifts the backups and opens an empty file.
    fn rotate(&mut self) -> io::Result<()> {
        if let Some(mut w) = self.out.take() {
            w.flush()?;
        }
        if self.backups == 0 {
            remove_if_exists(&self.path)?;
        } else {
            remove_if_exists(&self.backup(self.backups))?;
            for i in (1..self.backups).rev() {
                rename_if_exists(&self.backup(i), &self.backup(i + 1))?;
            }
            rename_if_exists(&self.path, &self.backup(1))?;
        }
        let file = open_append(&self.path)?;
        self.size = file.metadata()?.len();
        self.out = Some(BufWriter::with_capacity(FILE_BUFFER_BYTES, file));
        self.rotations += 1;
        Ok(())
    }

    /// `name.i`.
    fn backup(&self, i: u32) -> PathBuf {
        let mut name: OsString = self.path.as_os_str().to_owned();
        name.push(format!(".{i}"));
        PathBuf::from(name)
    }
}

impl Sink for FileSink {
    fn write(&mut self, batch: &Batch) -> io::Result<()> {
        let result = self.write_events(batch);
        if result.is_err() {
            // Start again from what is really on disk.
            self.out = None;
        } else {
            self.events += batch.len() as u64;
            self.bytes += batch.bytes.len() as u64;
        }
        result
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.out.as_mut() {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }

    fn finish(&mut self, _deadline: Instant) -> io::Result<Option<String>> {
        self.flush()?;
        Ok(Some(format!(
            "file {}: {} events, {} bytes, {} rotations",
            self.path.display(),
            self.events,
            self.bytes,
            self.rotations
        )))
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

fn remove_if_exists(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

fn rename_if_exists(from: &Path, to: &Path) -> io::Result<()> {
    match fs::rename(from, to) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// A fresh directory under the system temp dir, removed on drop.
    pub(crate) struct TestDir(pub PathBuf);

    impl TestDir {
        pub(crate) fn new(tag: &str) -> TestDir {
            static NEXT: AtomicU32 = AtomicU32::new(0);
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let dir = std::env::temp_dir()
                .join(format!("eventgen-test-{tag}-{}-{n}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            TestDir(dir)
        }

        /// Sorted names of the files in the directory.
        pub(crate) fn names(&self) -> Vec<String> {
            let mut names: Vec<String> = fs::read_dir(&self.0)
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            names.sort();
            names
        }

        pub(crate) fn read(&self, name: &str) -> String {
            fs::read_to_string(self.0.join(name)).unwrap()
        }
    }

    impl Drop for TestDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    pub(crate) fn batch(events: &[&str]) -> Batch {
        let mut b = Batch::default();
        for ev in events {
            b.bytes.extend_from_slice(ev.as_bytes());
            b.ends.push(b.bytes.len() as u32);
        }
        b
    }

    fn done(sink: &mut FileSink) {
        sink.finish(Instant::now()).unwrap();
    }

    #[test]
    fn rotates_at_event_boundaries_and_keeps_n_backups() {
        let dir = TestDir::new("rotate");
        let path = dir.0.join("out.log");
        let mut sink = FileSink::create(&path, 10, 2).unwrap();
        sink.write(&batch(&["e1__\n", "e2__\n"])).unwrap(); // fits exactly: 10 bytes
        sink.flush().unwrap();
        assert_eq!(dir.read("out.log"), "e1__\ne2__\n");
        sink.write(&batch(&["e3__\n", "e4__\n", "e5__\n"])).unwrap();
        sink.write(&batch(&["e6__\n"])).unwrap();
        sink.write(&batch(&["e7__\n"])).unwrap();
        done(&mut sink);
        assert_eq!(dir.names(), ["out.log", "out.log.1", "out.log.2"]);
        assert_eq!(dir.read("out.log"), "e7__\n");
        assert_eq!(dir.read("out.log.1"), "e5__\ne6__\n");
        assert_eq!(dir.read("out.log.2"), "e3__\ne4__\n");
        assert_eq!(
            sink.finish(Instant::now()).unwrap().unwrap(),
            format!("file {}: 7 events, 35 bytes, 3 rotations", path.display())
        );
    }

    #[test]
    fn zero_backups_keeps_only_the_current_file() {
        let dir = TestDir::new("nobackup");
        let mut sink = FileSink::create(dir.0.join("out.log"), 10, 0).unwrap();
        sink.write(&batch(&["e1__\n", "e2__\n", "e3__\n"])).unwrap();
        sink.write(&batch(&["e4__\n", "e5__\n"])).unwrap();
        done(&mut sink);
        assert_eq!(dir.names(), ["out.log"]);
        assert_eq!(dir.read("out.log"), "e5__\n");
    }

    #[test]
    fn oversize_event_sits_alone() {
        let dir = TestDir::new("oversize");
        let big = "B".repeat(24) + "\n";
        let mut sink = FileSink::create(dir.0.join("out.log"), 10, 5).unwrap();
        sink.write(&batch(&[&big])).unwrap(); // empty file: no rotation
        sink.flush().unwrap();
        assert_eq!(dir.names(), ["out.log"]);
        sink.write(&batch(&["ab\n", "cd\n"])).unwrap();
        sink.write(&batch(&["ef\n", &big, "gh\n"])).unwrap();
        done(&mut sink);
        assert_eq!(
            dir.names(),
            ["out.log", "out.log.1", "out.log.2", "out.log.3"]
        );
        assert_eq!(dir.read("out.log.3"), big);
        assert_eq!(dir.read("out.log.2"), "ab\ncd\nef\n");
        assert_eq!(dir.read("out.log.1"), big);
        assert_eq!(dir.read("out.log"), "gh\n");
    }

    #[test]
    fn appends_to_existing_file_and_counts_its_size() {
        let dir = TestDir::new("append");
        let path = dir.0.join("nested/deeper/out.log");
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, "old_old\n").unwrap();
        let mut sink = FileSink::create(&path, 10, 1).unwrap();
        sink.write(&batch(&["x\n"])).unwrap(); // 8 + 2 = 10: fits
        sink.write(&batch(&["y\n"])).unwrap(); // would be 12: rotate
        done(&mut sink);
        let sub = TestDir(path.parent().unwrap().to_path_buf());
        assert_eq!(sub.names(), ["out.log", "out.log.1"]);
        assert_eq!(sub.read("out.log.1"), "old_old\nx\n");
        assert_eq!(sub.read("out.log"), "y\n");
    }

    #[test]
    fn creates_parent_directories() {
        let dir = TestDir::new("mkdir");
        let path = dir.0.join("a/b/c.log");
        let mut sink = FileSink::create(&path, DEFAULT_FILE_MAX_BYTES, 5).unwrap();
        sink.write(&batch(&["hello\n"])).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"", "buffered until flush");
        sink.flush().unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "hello\n");
    }
}
