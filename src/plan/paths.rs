//! Messages about files that are not where a stanza says: the absolute paths tried, whether
//! `SPLUNK_HOME` was set to expand them, and the nearest existing name in the folder.

use std::path::{Path, PathBuf};

use super::keys::edit_distance;

/// `path` made absolute against the working directory (without touching the file system
/// beyond that), so messages name exactly what was tried.
pub fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        return path.to_path_buf();
    }
    std::env::current_dir()
        .map(|d| d.join(path))
        .unwrap_or_else(|_| path.to_path_buf())
}

/// The name in `names` closest to `wanted` (case-insensitive edit distance), if one is close
/// enough to be a likely typo.
pub fn nearest<'a>(wanted: &str, names: &'a [String]) -> Option<&'a str> {
    let lower = wanted.to_lowercase();
    names
        .iter()
        .map(|n| (edit_distance(&lower, &n.to_lowercase()), n))
        .filter(|(d, n)| *d > 0 && *d <= 2.max(n.chars().count() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n.as_str())
}

/// `" ($SPLUNK_HOME is not set)"` when `value` uses `SPLUNK_HOME` and it is unset, else "".
pub fn splunk_home_note(value: &str) -> String {
    if value.contains("SPLUNK_HOME") && std::env::var_os("SPLUNK_HOME").is_none() {
        " ($SPLUNK_HOME is not set, so it was not expanded)".to_string()
    } else {
        String::new()
    }
}

/// "did you mean NAME?" for the file nearest to `path`'s name in its folder, or "".
pub fn did_you_mean(path: &Path) -> String {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return String::new();
    };
    let names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    match nearest(name, &names) {
        Some(n) => format!(" (did you mean {n}?)"),
        None => String::new(),
    }
}

/// "X not found (tried A, B)" with every path made absolute, a near match and the
/// `SPLUNK_HOME` note.
pub fn not_found(what: &str, spec: &str, tried: &[PathBuf]) -> String {
    let shown: Vec<String> = tried
        .iter()
        .map(|p| absolute(p).display().to_string())
        .collect();
    let mut msg = match shown.as_slice() {
        [one] => format!("{what} {one} not found"),
        _ => format!("{what} {spec:?} not found (tried {})", shown.join(", ")),
    };
    for p in tried {
        let hint = did_you_mean(p);
        if !hint.is_empty() {
            msg.push_str(&hint);
            break;
        }
    }
    msg.push_str(&splunk_home_note(spec));
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_finds_typos_only() {
        let names = vec!["boards.list".to_string(), "users.csv".to_string()];
        assert_eq!(nearest("baords.list", &names), Some("boards.list"));
        assert_eq!(nearest("hosts.txt", &names), None);
        assert_eq!(
            nearest("boards.list", &names),
            None,
            "an exact name is no hint"
        );
    }
}
