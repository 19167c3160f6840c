//! The metadata of a sample's events: host, source, sourcetype, index and `extendIndexes`.

use super::policy::Reader;

/// Metadata of a sample's events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    pub host: String,
    pub source: String,
    pub sourcetype: String,
    pub index: String,
}

/// Reads the metadata keys. `source` defaults to the sample file name, or to the generator's
/// name when there is no file.
pub(super) fn read(
    r: &mut Reader,
    file_name: Option<&str>,
    generator_name: &str,
) -> (Meta, Vec<String>) {
    let source_default = file_name.unwrap_or(generator_name).to_string();
    let meta = Meta {
        host: r.string("host").unwrap_or_default(),
        source: r
            .string("source")
            .filter(|s| !s.is_empty())
            .unwrap_or(source_default),
        sourcetype: r.string("sourcetype").unwrap_or_default(),
        index: r.string("index").unwrap_or_default(),
    };
    let extend_indexes = r
        .string("extendIndexes")
        .map(|v| parse_extend_indexes(&v))
        .unwrap_or_default();
    (meta, extend_indexes)
}

/// `test_:2, main, web` → `test_0, test_1, main, web`.
pub fn parse_extend_indexes(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    for item in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if let Some((prefix, n)) = item.split_once(':')
            && let Ok(n) = n.rsplit(':').next().unwrap_or("").trim().parse::<usize>()
        {
            out.extend((0..n).map(|i| format!("{prefix}{i}")));
        } else {
            out.push(item.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extend_indexes_expand() {
        assert_eq!(
            parse_extend_indexes("test_:2, main, web"),
            ["test_0", "test_1", "main", "web"]
        );
    }
}
