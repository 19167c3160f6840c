//! The Splunk app shell as shipped: the `.conf` files agree with the crate (version, ids,
//! scheme arguments), the shipped input defaults pass our own validation, the icons have the
//! sizes Splunk expects, and `package.sh` writes an archive AppInspect accepts (one top
//! folder, no `./` or dot files, sane modes). AppInspect itself is not run here.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use eventgen::modinput::validate::validate_params;
use eventgen::modinput::{APP_ID, Param, ParamValue, SCHEME, VERSION, scheme};

type Conf = BTreeMap<String, BTreeMap<String, String>>;

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A deliberately plain `.conf` reader: stanzas, `key = value`, whole-line comments. Settings
/// outside a stanza land in the stanza "" so tests can see them.
fn read_conf(rel: &str) -> Conf {
    let text = fs::read_to_string(repo(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let mut conf = Conf::new();
    let mut stanza = String::new();
    for (n, line) in text.lines().enumerate() {
        assert!(
            !line.ends_with('\\'),
            "{rel}:{}: no continuation lines expected",
            n + 1
        );
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            stanza = name.to_string();
            assert!(
                !conf.contains_key(&stanza),
                "{rel}: duplicate stanza [{stanza}]"
            );
            conf.insert(stanza.clone(), BTreeMap::new());
            continue;
        }
        let (k, v) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("{rel}:{}: {line}", n + 1));
        let old = conf
            .entry(stanza.clone())
            .or_default()
            .insert(k.trim().into(), v.trim().into());
        assert!(old.is_none(), "{rel}: [{stanza}] repeats {}", k.trim());
    }
    conf
}

fn get<'a>(conf: &'a Conf, stanza: &str, key: &str) -> &'a str {
    conf.get(stanza)
        .and_then(|s| s.get(key))
        .unwrap_or_else(|| panic!("missing [{stanza}] {key}"))
}

#[test]
fn app_conf_matches_the_crate() {
    let conf = read_conf("default/app.conf");
    assert!(!conf.contains_key(""), "settings outside a stanza");
    assert_eq!(get(&conf, "id", "version"), VERSION);
    assert_eq!(get(&conf, "launcher", "version"), VERSION);
    assert_eq!(get(&conf, "id", "name"), APP_ID);
    assert_eq!(get(&conf, "package", "id"), APP_ID);
    assert_eq!(get(&conf, "package", "check_for_updates"), "false");
    assert_eq!(get(&conf, "install", "is_configured"), "false");
    assert_eq!(get(&conf, "install", "state"), "enabled");
    assert_eq!(get(&conf, "ui", "is_visible"), "false");
    assert!((5..=80).contains(&get(&conf, "ui", "label").len()));
    assert_eq!(get(&conf, "triggers", "reload.eventgen"), "simple");
    assert!(!get(&conf, "launcher", "description").is_empty());
}

#[test]
fn shipped_input_defaults_pass_our_own_validation() {
    let conf = read_conf("default/inputs.conf");
    let stanzas: Vec<&str> = conf.keys().map(String::as_str).collect();
    let instance = format!("{SCHEME}://default");
    assert_eq!(
        stanzas,
        [SCHEME, instance.as_str()],
        "only the scheme and one instance"
    );
    assert_eq!(get(&conf, SCHEME, "start_by_shell"), "false");
    assert_eq!(get(&conf, &instance, "disabled"), "true");
    // What splunkd would hand the instance: its own settings over the scheme stanza's.
    let mut merged = conf[SCHEME].clone();
    merged.extend(conf[&instance].clone());
    let params: Vec<Param> = merged
        .into_iter()
        .map(|(name, v)| Param {
            name,
            value: ParamValue::Single(v),
        })
        .collect();
    assert_eq!(validate_params(&params), Ok(()));
    for arg in scheme::ARGS.iter().filter(|a| a.required_on_create) {
        assert!(
            params.iter().any(|p| p.name == arg.name),
            "no default for {}",
            arg.name
        );
    }
}

#[test]
fn inputs_spec_declares_every_scheme_argument() {
    let spec = fs::read_to_string(repo("app/README/inputs.conf.spec")).unwrap();
    let header = format!("[{SCHEME}://<name>]");
    assert!(spec.lines().any(|l| l == header), "no {header} in column 0");
    for arg in scheme::ARGS {
        let prefix = format!("{} = ", arg.name);
        assert!(
            spec.lines().any(|l| l.starts_with(&prefix)),
            "{} not in the spec",
            arg.name
        );
    }
    assert!(!spec.lines().any(|l| l.starts_with("[default]")));
}

#[test]
fn server_conf_meta_and_props_are_as_appinspect_wants() {
    let server = read_conf("default/server.conf");
    assert_eq!(server.keys().collect::<Vec<_>>(), ["shclustering"]);
    assert_eq!(
        get(&server, "shclustering", "conf_replication_include.eventgen"),
        "true"
    );
    let meta = read_conf("app/metadata/default.meta");
    assert_eq!(
        get(&meta, "", "access"),
        "read : [ * ], write : [ admin, sc_admin ]"
    );
    assert_eq!(get(&meta, "", "export"), "system");
    let props = read_conf("default/props.conf");
    assert_eq!(
        get(
            &props,
            "source::.../var/log/splunk/eventgen.log*",
            "sourcetype"
        ),
        "eventgen:log"
    );
    assert_eq!(
        get(&props, "eventgen:log", "TIME_FORMAT"),
        "%Y-%m-%d %H:%M:%S.%3N %z"
    );
}

#[test]
fn icons_have_the_sizes_splunk_expects() {
    for (file, w, h) in [
        ("appIcon.png", 36, 36),
        ("appIcon_2x.png", 72, 72),
        ("appIconAlt.png", 36, 36),
        ("appIconAlt_2x.png", 72, 72),
        ("appLogo.png", 160, 40),
        ("appLogo_2x.png", 320, 80),
    ] {
        let bytes = fs::read(repo("app/static").join(file)).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{file}");
        assert_eq!(&bytes[12..16], b"IHDR", "{file}");
        let be =
            |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        assert_eq!((be(16), be(20)), (w, h), "{file}");
    }
}

#[test]
fn bin_launcher_is_an_executable_sh_script() {
    use std::os::unix::fs::PermissionsExt;
    let path = repo("bin").join(SCHEME);
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("#!/bin/sh\n"));
    assert!(text.contains(&format!(
        "exec \"$here/../linux_x86_64/bin/{SCHEME}\" \"$@\""
    )));
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o755
    );
}

/// Runs package.sh on the test build of the binary (no release build) and checks the archive.
#[test]
fn package_sh_writes_a_clean_archive() {
    let dist = std::env::temp_dir().join(format!("eventgen-dist-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dist);
    let out = Command::new(repo("package.sh"))
        .env("EVENTGEN_BIN", env!("CARGO_BIN_EXE_eventgen"))
        .env("EVENTGEN_SKIP_SPEC", "1")
        .env("DIST_DIR", &dist)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "package.sh failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let spl = dist.join(format!("{APP_ID}-{VERSION}.spl"));
    let list = Command::new("tar").arg("-tvzf").arg(&spl).output().unwrap();
    assert!(list.status.success());
    let listing = String::from_utf8(list.stdout).unwrap();
    let mut names = Vec::new();
    for line in listing.lines() {
        // -rwxr-xr-x 0/0 4335312 2026-01-01 00:00 SA-Eventgen/bin/modinput_eventgen
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (mode, owner, name) = (fields[0], fields[1], fields[5]);
        assert_eq!(owner, "0/0", "{line}");
        assert!(
            name == format!("{APP_ID}/") || name.starts_with(&format!("{APP_ID}/")),
            "{line}"
        );
        assert!(!name.split('/').any(|part| part.starts_with('.')), "{line}");
        let executable = name.ends_with(&format!("bin/{SCHEME}"));
        let want = match (mode.starts_with('d'), executable) {
            (true, _) => "drwxr-xr-x",
            (false, true) => "-rwxr-xr-x",
            (false, false) => "-rw-r--r--",
        };
        assert_eq!(mode, want, "{line}");
        names.push(name.trim_start_matches(&format!("{APP_ID}/")).to_string());
    }
    for expected in [
        "bin/modinput_eventgen",
        "linux_x86_64/bin/modinput_eventgen",
        "default/app.conf",
        "default/inputs.conf",
        "default/server.conf",
        "default/props.conf",
        "metadata/default.meta",
        "README/inputs.conf.spec",
        "README/eventgen.conf.spec",
        "README.md",
        "static/appIcon.png",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from\n{listing}"
        );
    }
    assert!(
        !names
            .iter()
            .any(|n| n.starts_with("local") || n.ends_with(".py"))
    );
    let _ = fs::remove_dir_all(&dist);
}
