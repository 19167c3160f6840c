//! The apps under `$SPLUNK_HOME/etc/apps` that are enabled, in the order Splunk ranks their
//! `default`/`local` layers, and which of them ship an `eventgen.conf`.
//!
//! Order: Splunk ranks apps in the global context by the ASCII (byte) order of the folder
//! names, and an earlier name wins: digits, then upper case, then lower case, so
//! `A_app` > `Z_app` > `a_app` in priority. [`discover_apps`] returns the apps in exactly that
//! order, highest priority first; to layer files, apply them from the last app to the first.
//!
//! An app is disabled when its `[install] state` is `disabled`, reading `local/app.conf`
//! before `default/app.conf` (local wins). Folders whose names start with `.` and anything that
//! is not a directory are ignored. Full `.conf` parsing and layering belong to `conf`; this
//! module reads only the one setting it needs.

use std::fs;
use std::path::{Path, PathBuf};

/// One enabled app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppDir {
    /// The folder name, which is the app id.
    pub name: String,
    pub path: PathBuf,
}

/// An app that ships `eventgen.conf` in `default/`, `local/` or both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventgenConf {
    pub app: AppDir,
    pub default: Option<PathBuf>,
    pub local: Option<PathBuf>,
}

/// The enabled apps under `splunk_home/etc/apps`, highest priority first. A missing or
/// unreadable folder gives an empty list.
pub fn discover_apps(splunk_home: &Path) -> Vec<AppDir> {
    let Ok(entries) = fs::read_dir(splunk_home.join("etc").join("apps")) else {
        return Vec::new();
    };
    let mut apps: Vec<AppDir> = entries
        .filter_map(Result::ok)
        // Follows symlinks, as splunkd does for linked app folders.
        .filter(|e| e.path().is_dir())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            (!name.starts_with('.')).then(|| AppDir {
                name,
                path: e.path(),
            })
        })
        .filter(|app| !is_disabled(&app.path))
        .collect();
    // String's Ord compares bytes, which is the ASCII order Splunk uses.
    apps.sort_by(|a, b| a.name.cmp(&b.name));
    apps
}

/// The apps (in the order given) that have `default/eventgen.conf` or `local/eventgen.conf`.
pub fn eventgen_confs(apps: &[AppDir]) -> Vec<EventgenConf> {
    apps.iter()
        .filter_map(|app| {
            let existing = |layer: &str| {
                let path = app.path.join(layer).join("eventgen.conf");
                path.is_file().then_some(path)
            };
            let (default, local) = (existing("default"), existing("local"));
            (default.is_some() || local.is_some()).then(|| EventgenConf {
                app: app.clone(),
                default,
                local,
            })
        })
        .collect()
}

fn is_disabled(app: &Path) -> bool {
    let state = ["local", "default"]
        .iter()
        .find_map(|layer| read_setting(&app.join(layer).join("app.conf"), "install", "state"));
    state.is_some_and(|s| s.eq_ignore_ascii_case("disabled"))
}

/// The value of `key` in `[stanza]` of a `.conf` file (the last one if repeated), or `None`
/// when the file, stanza or key is missing.
fn read_setting(file: &Path, stanza: &str, key: &str) -> Option<String> {
    let (text, _) = crate::conf::text::decode(&fs::read(file).ok()?);
    let mut current = String::new();
    let mut found = None;
    let mut lines = crate::conf::text::lines(&text);
    while let Some(line) = lines.next() {
        let mut line = line.trim().to_string();
        while line.ends_with('\\') {
            line.pop();
            match lines.next() {
                Some(next) => {
                    line.push('\n');
                    line.push_str(next.trim());
                }
                None => break,
            }
        }
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = name.trim().to_string();
        } else if let Some((k, v)) = line.split_once('=')
            && current == stanza
            && k.trim() == key
        {
            found = Some(v.trim().to_string());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    struct TempHome(PathBuf);

    impl TempHome {
        fn new(tag: &str) -> Self {
            let dir =
                std::env::temp_dir().join(format!("eventgen-apps-{tag}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(dir.join("etc/apps")).unwrap();
            TempHome(dir)
        }

        fn write(&self, rel: &str, text: &str) {
            let path = self.0.join("etc/apps").join(rel);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }

        fn app(&self, name: &str) {
            fs::create_dir_all(self.0.join("etc/apps").join(name)).unwrap();
        }
    }

    impl Drop for TempHome {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn names(apps: &[AppDir]) -> Vec<&str> {
        apps.iter().map(|a| a.name.as_str()).collect()
    }

    #[test]
    fn lists_enabled_apps_in_splunk_precedence_order() {
        let home = TempHome::new("order");
        for name in [
            "search",
            "SA-Eventgen",
            "Splunk_TA_nix",
            "0_first",
            "alpha",
            "Zeta",
            ".hidden",
        ] {
            home.app(name);
        }
        home.write("not_a_dir", "");
        home.write("off/default/app.conf", "[install]\nstate = disabled\n");
        home.write("on_again/default/app.conf", "[install]\nstate = disabled\n");
        home.write(
            "on_again/local/app.conf",
            "# re-enabled\n[install]\nstate = enabled\n",
        );
        home.write(
            "off_local/default/app.conf",
            "[install]\nis_configured = 0\nstate = enabled\n",
        );
        home.write(
            "off_local/local/app.conf",
            "[ui]\nstate = enabled\n[install]\n state=Disabled \n",
        );
        home.write(
            "other_stanza/default/app.conf",
            "[package]\nstate = disabled\n",
        );
        let apps = discover_apps(&home.0);
        assert_eq!(
            names(&apps),
            [
                "0_first",
                "SA-Eventgen",
                "Splunk_TA_nix",
                "Zeta",
                "alpha",
                "on_again",
                "other_stanza",
                "search"
            ]
        );
        assert_eq!(apps[1].path, home.0.join("etc/apps/SA-Eventgen"));
    }

    #[test]
    fn local_app_conf_without_state_falls_back_to_default() {
        let home = TempHome::new("fallback");
        home.write("x/default/app.conf", "[install]\nstate = disabled\n");
        home.write("x/local/app.conf", "[install]\nis_configured = 1\n");
        assert!(discover_apps(&home.0).is_empty());
    }

    #[test]
    fn missing_splunk_home_gives_no_apps() {
        assert!(discover_apps(Path::new("/nonexistent/eventgen-test-home")).is_empty());
    }

    #[test]
    fn finds_apps_with_eventgen_conf() {
        let home = TempHome::new("conf");
        home.write("b_both/default/eventgen.conf", "[x]\n");
        home.write("b_both/local/eventgen.conf", "[x]\n");
        home.write("a_local/local/eventgen.conf", "[y]\n");
        home.write("c_default/default/eventgen.conf", "[z]\n");
        home.write("d_none/default/app.conf", "[install]\nstate = enabled\n");
        home.write("e_off/default/eventgen.conf", "[w]\n");
        home.write("e_off/default/app.conf", "[install]\nstate = disabled\n");
        let confs = eventgen_confs(&discover_apps(&home.0));
        let got: Vec<(&str, bool, bool)> = confs
            .iter()
            .map(|c| (c.app.name.as_str(), c.default.is_some(), c.local.is_some()))
            .collect();
        assert_eq!(
            got,
            [
                ("a_local", false, true),
                ("b_both", true, true),
                ("c_default", true, false)
            ]
        );
        assert_eq!(
            confs[1].local.as_deref(),
            Some(home.0.join("etc/apps/b_both/local/eventgen.conf").as_path())
        );
    }

    #[test]
    fn read_setting_handles_comments_continuations_and_repeats() {
        let home = TempHome::new("read");
        home.write(
            "a.conf",
            "; c\n[install]\n# state = disabled\nnote = one \\\n two\nstate = enabled\nstate = x=y\n[other]\nstate = z\n",
        );
        let file = home.0.join("etc/apps/a.conf");
        assert_eq!(
            read_setting(&file, "install", "state").as_deref(),
            Some("x=y")
        );
        assert_eq!(
            read_setting(&file, "install", "note").as_deref(),
            Some("one \ntwo")
        );
        assert_eq!(read_setting(&file, "install", "none"), None);
        // Old Mac (CR) and Windows (CRLF) line ends, mixed.
        home.write(
            "b.conf",
            "[other]\rstate = z\r\n[install]\rnote = n\nstate = disabled\r",
        );
        let file = home.0.join("etc/apps/b.conf");
        assert_eq!(
            read_setting(&file, "install", "state").as_deref(),
            Some("disabled")
        );
    }
}
