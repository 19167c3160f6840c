//! Event breaking: one event per line, unless the input's lines that open with a timestamp
//! are followed by lines that do not (stack traces, XML, Windows event text). Then every
//! event starts at a line that opens with a timestamp, and the sample gets a `breaker` that
//! finds those lines.

use super::timestamps;

/// Share of non-blank lines that must open with a timestamp of the same kind before the
/// input counts as multi-line events (below it, timestamps at line starts are incidental).
const MIN_START_SHARE: f64 = 0.05;

/// Splits `lines` (each with its newline) into events; `Some(breaker)` for multi-line events.
pub fn split(lines: &[&str]) -> (Vec<String>, Option<String>) {
    let starts: Vec<Option<String>> = lines.iter().map(|l| timestamps::line_start(l)).collect();
    let non_blank = lines.iter().filter(|l| !l.trim().is_empty()).count().max(1);
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for s in starts.iter().flatten() {
        *counts.entry(s.as_str()).or_default() += 1;
    }
    let Some((breaker, n)) = counts.into_iter().max_by_key(|&(_, n)| n) else {
        return match xml_opening(lines) {
            Some(tag) => join_at(
                lines,
                |l| opens_with_tag(l, &tag),
                format!(r"^<{}\b", regex::escape(&tag)),
            ),
            None => (lines.iter().map(|l| l.to_string()).collect(), None),
        };
    };
    let first = lines.iter().position(|l| !l.trim().is_empty());
    let continued = lines
        .iter()
        .zip(&starts)
        .filter(|(l, s)| !l.trim().is_empty() && s.as_deref() != Some(breaker))
        .count();
    let first_starts = first.is_some_and(|i| starts[i].as_deref() == Some(breaker));
    if continued == 0 || !first_starts || (n as f64) < MIN_START_SHARE * non_blank as f64 {
        return (lines.iter().map(|l| l.to_string()).collect(), None);
    }
    let mut starts = starts.iter();
    join_at(
        lines,
        |_| starts.next().is_some_and(|s| s.as_deref() == Some(breaker)),
        breaker.to_string(),
    )
}

/// Events that start at the lines `starts` says, each taking the lines after it.
fn join_at(
    lines: &[&str],
    mut starts: impl FnMut(&str) -> bool,
    breaker: String,
) -> (Vec<String>, Option<String>) {
    let mut events: Vec<String> = Vec::new();
    for line in lines {
        let start = starts(line);
        match events.last_mut() {
            Some(ev) if !start => ev.push_str(line),
            _ => events.push(line.to_string()),
        }
    }
    (events, Some(breaker))
}

fn opens_with_tag(line: &str, tag: &str) -> bool {
    line.strip_prefix('<')
        .and_then(|r| r.strip_prefix(tag))
        .is_some_and(|r| r.starts_with([' ', '>', '/', '\n', '\t']))
}

/// XML events without leading timestamps (Windows event XML): the element that opens the
/// first line opens at least two lines, and other lines lie between them.
fn xml_opening(lines: &[&str]) -> Option<String> {
    let first = lines.iter().find(|l| !l.trim().is_empty())?;
    let tag: String = first
        .strip_prefix('<')?
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '-' | '.'))
        .collect();
    if tag.is_empty() {
        return None;
    }
    let opening = lines.iter().filter(|l| opens_with_tag(l, &tag)).count();
    let other = lines.iter().filter(|l| !l.trim().is_empty()).count() - opening;
    (opening >= 2 && other > 0).then_some(tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_events_break_at_their_element() {
        let lines = [
            "<Event xmlns='x'>\n",
            "  <System><TimeCreated SystemTime='2024-01-05T10:11:12.1234567Z'/></System>\n",
            "</Event>\n",
            "<Event xmlns='x'>\n",
            "  <System><TimeCreated SystemTime='2024-01-05T10:11:13.1234567Z'/></System>\n",
            "</Event>\n",
        ];
        let (ev, br) = split(&lines);
        assert_eq!(ev.len(), 2, "{ev:?}");
        assert_eq!(br.as_deref(), Some(r"^<Event\b"));
    }

    #[test]
    fn lines_by_default() {
        let lines = ["2024-01-05 10:11:12 a\n", "2024-01-05 10:11:13 b\n"];
        let (ev, br) = split(&lines);
        assert_eq!(ev.len(), 2);
        assert!(br.is_none());
    }

    #[test]
    fn stack_traces_join_their_event() {
        let lines = [
            "2024-01-05 10:11:12,001 ERROR boom\n",
            "java.lang.IllegalStateException: x\n",
            "\tat a.b.C.d(C.java:10)\n",
            "2024-01-05 10:11:13,002 INFO fine\n",
        ];
        let (ev, br) = split(&lines);
        assert_eq!(ev.len(), 2, "{ev:?}");
        assert!(ev[0].contains("C.java"));
        let br = regex::Regex::new(&format!("(?m){}", br.unwrap())).unwrap();
        assert_eq!(br.find_iter(&lines.concat()).count(), 2);
    }
}
