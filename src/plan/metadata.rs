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
    let extend_indexes = match r.string("extendIndexes").map(|v| parse_extend_indexes(&v)) {
        None => Vec::new(),
        Some(Ok(v)) => v,
        Some(Err(e)) => {
            r.error("extendIndexes", e);
            Vec::new()
        }
    };
    (meta, extend_indexes)
}

/// Most indexes `extendIndexes` may name in all (`prefix:n` items expanded): each is kept in
/// memory, and a huge `n` would allocate without bound.
pub const MAX_EXTEND_INDEXES: usize = 100_000;

/// `test_:2, main, web` → `test_0, test_1, main, web`.
pub fn parse_extend_indexes(v: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for item in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if let Some((prefix, n)) = item.split_once(':')
            && let Ok(n) = n.rsplit(':').next().unwrap_or("").trim().parse::<u128>()
        {
            if n > (MAX_EXTEND_INDEXES - out.len()) as u128 {
                return Err(format!(
                    "{item:?} expands to {n} indexes; at most {MAX_EXTEND_INDEXES} in all"
                ));
            }
            out.extend((0..n).map(|i| format!("{prefix}{i}")));
        } else {
            if out.len() >= MAX_EXTEND_INDEXES {
                return Err(format!("more than {MAX_EXTEND_INDEXES} indexes"));
            }
            out.push(item.to_string());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extend_indexes_expand() {
        assert_eq!(
            parse_extend_indexes("test_:2, main, web").unwrap(),
            ["test_0", "test_1", "main", "web"]
        );
    }
}
