//! One builder for a `$SPLUNK_HOME` with apps, and splunkd's `<input>` document, for tests that
//! run the binary the way splunkd runs the modular input.

use std::path::{Path, PathBuf};

use super::TempDir;

/// The session key of [`SplunkHome::input`]'s document; no message may show it.
pub const SESSION_KEY: &str = "sk-9d2f81c4e7a0b35c-SECRET";

/// A `$SPLUNK_HOME`: apps under `etc/apps`, and the log folder splunkd provides.
pub struct SplunkHome {
    pub dir: TempDir,
}

impl SplunkHome {
    pub fn new(tag: &str) -> SplunkHome {
        let dir = TempDir::new(tag);
        std::fs::create_dir_all(dir.path().join("var/log/splunk")).unwrap();
        SplunkHome { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `etc/apps/APP/default/eventgen.conf` with `conf`.
    pub fn app(&self, app: &str, conf: &str) -> &SplunkHome {
        self.write(&format!("etc/apps/{app}/default/eventgen.conf"), conf);
        self
    }

    /// The sample `name` of `app`, in its `samples` folder.
    pub fn sample(&self, app: &str, name: &str, text: &str) -> &SplunkHome {
        self.write(&format!("etc/apps/{app}/samples/{name}"), text);
        self
    }

    /// Any file, relative to `$SPLUNK_HOME`.
    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        self.dir.write(rel, text)
    }

    /// splunkd's `<input>` document for `[modinput_eventgen://default]` (verbosity 20, then
    /// the `<param>` elements of `params`), with a checkpoint folder in this home.
    pub fn input(&self, params: &str) -> String {
        self.input_at(20, params)
    }

    /// [`SplunkHome::input`] at another `verbosity`.
    pub fn input_at(&self, verbosity: u32, params: &str) -> String {
        format!(
            "<input><server_host>sh</server_host><server_uri>https://127.0.0.1:8089</server_uri>\
             <session_key>{SESSION_KEY}</session_key><checkpoint_dir>{}</checkpoint_dir>\
             <configuration><stanza name=\"modinput_eventgen://default\">\
             <param name=\"verbosity\">{verbosity}</param>{params}</stanza></configuration></input>",
            self.path().join("ckpt").display()
        )
    }

    /// What the modular input wrote to `var/log/splunk/eventgen.log` (empty if nothing).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.path().join("var/log/splunk/eventgen.log")).unwrap_or_default()
    }
}
