//! The last check before writing: the token regexes, run over the events as Eventgen will
//! run them, must not overlap one another. A token that would is dropped (the earlier one
//! wins) and the report says so; a token that matches nothing is dropped too.

use regex::Regex;

use super::TokenPlan;

/// The tokens that keep clear of each other, and a message per dropped one.
pub fn non_overlapping(events: &[String], tokens: Vec<TokenPlan>) -> (Vec<TokenPlan>, Vec<String>) {
    let mut taken: Vec<Vec<(usize, usize, usize)>> = vec![Vec::new(); events.len()];
    let mut kept: Vec<TokenPlan> = Vec::new();
    let mut dropped = Vec::new();
    'tokens: for t in tokens {
        let re = match Regex::new(&t.regex) {
            Ok(re) => re,
            Err(e) => {
                dropped.push(format!(
                    "{} not written: its regex does not compile: {e}",
                    t.what
                ));
                continue;
            }
        };
        let mut spans = Vec::new();
        for (ev, text) in events.iter().enumerate() {
            for c in re.captures_iter(text) {
                let m = c.get(1).or(c.get(0)).expect("match");
                if m.start() == m.end() {
                    continue;
                }
                if let Some(&(_, _, other)) = taken[ev]
                    .iter()
                    .find(|&&(s, e, _)| m.start() < e && s < m.end())
                {
                    dropped.push(format!(
                        "{} not written: its regex {} also takes part of the {} in event {}",
                        t.what,
                        t.regex,
                        kept[other].what,
                        ev + 1
                    ));
                    continue 'tokens;
                }
                spans.push((ev, m.start(), m.end()));
            }
        }
        if spans.is_empty() {
            dropped.push(format!(
                "{} not written: its regex {} matches nothing",
                t.what, t.regex
            ));
            continue;
        }
        let index = kept.len();
        for (ev, s, e) in spans {
            taken[ev].push((s, e, index));
        }
        kept.push(t);
    }
    (kept, dropped)
}
