//! Event templates: each sample event is split once, at plan time, into literal pieces and
//! token slots, so rendering is a walk over pieces that copies bytes and token values.
//!
//! Eventgen applies tokens one after another on the text, each seeing what the previous ones
//! produced. The split form gives the same text when every match of every token falls either
//! inside one literal piece (it becomes a slot) or inside one earlier slot's value (it becomes
//! a post-step that re-runs that token's regex on the short slot value). The builder finds that
//! structure with probe values, then proves it against the one-by-one path on many probe
//! rounds; a template that fails the proof renders one token at a time ([`render_slow`]).

use super::Token;

/// A piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// Bytes `start..end` of the event text.
    Lit(usize, usize),
    /// The value of a token, then the listed later tokens applied to that value. A slot with
    /// post-steps whose tokens all depend only on the event's second gets a cache id: the
    /// worker keeps its composed text per second.
    Slot {
        token: usize,
        post: Vec<usize>,
        cache: Option<u32>,
    },
}

/// One sample event, ready to render.
#[derive(Debug, Clone)]
pub struct Template {
    pub text: String,
    pieces: Vec<Piece>,
    /// Tokens whose value this event needs, ascending (the fast path's draw order).
    used: Vec<usize>,
    slow: bool,
}

/// Probe values for the proof: `values[round][token]`.
pub struct Probes {
    pub values: Vec<Vec<Vec<u8>>>,
}

/// Most values of one token's finite domain (static text, list items, small integer ranges,
/// replacement file lines) that the proof tries one by one; larger domains are sampled evenly.
const DOMAIN_ROUNDS: usize = 64;

/// The values a token can take, when there are few enough to list (or an even sample).
fn domain(tok: &Token) -> Option<Vec<Vec<u8>>> {
    use super::Replacement as R;
    use super::random::RandomSpec as S;
    let pick = |n: usize, f: &dyn Fn(usize) -> Vec<u8>| -> Vec<Vec<u8>> {
        let step = n.div_ceil(DOMAIN_ROUNDS).max(1);
        (0..n).step_by(step).map(f).collect()
    };
    match &tok.replacement {
        R::Static(s) => Some(vec![s.as_bytes().to_vec()]),
        R::Random(S::List(items)) => Some(pick(items.len(), &|i| items[i].as_bytes().to_vec())),
        R::Random(S::Integer { lo, hi }) if (*hi as i128 - *lo as i128) < 1_000_000 => {
            let n = (*hi - *lo + 1) as usize;
            Some(pick(n, &|i| (lo + i as i64).to_string().into_bytes()))
        }
        R::File { file, column, .. } => Some(pick(file.lines.len(), &|i| {
            let line = &file.lines[i];
            if *column == 0 {
                line.as_bytes().to_vec()
            } else {
                line.split(',')
                    .nth(column - 1)
                    .unwrap_or("")
                    .as_bytes()
                    .to_vec()
            }
        })),
        _ => None,
    }
}

impl Probes {
    /// Probe rounds for `tokens`: random draws at random times across the calendar, plus one
    /// round per value of every small finite domain, so that a value that would create a new
    /// match for a later token is seen by the proof.
    pub fn for_tokens(
        tokens: &[Token],
        tz: &crate::timing::Tz,
        files: usize,
        counters: usize,
        events: usize,
    ) -> Probes {
        use crate::rng::Rng;
        use crate::timing::MICROS_PER_SEC;
        use crate::timing::rate::Rates;
        let random_rounds = if events > 20_000 { 6 } else { 16 };
        let domains: Vec<Option<Vec<Vec<u8>>>> = tokens.iter().map(domain).collect();
        let extra = domains.iter().flatten().map(Vec::len).max().unwrap_or(0);
        let mut rng = Rng::seed(0x5EED);
        let rates = Rates::default();
        let mut values = Vec::with_capacity(random_rounds + extra);
        for round in 0..random_rounds + extra {
            let t = rng.range_inclusive(0, 4_000_000_000) * MICROS_PER_SEC
                + rng.range_inclusive(0, 999_999);
            let l = rng.range_inclusive(0, 4_000_000_000) * MICROS_PER_SEC
                + rng.range_inclusive(0, 999_999);
            let (time, latest) = (tz.datetime(t), tz.datetime(l));
            let mut rows = vec![None; files];
            let ctr: Vec<i64> = (0..counters)
                .map(|i| (round as i64 * 7919 + i as i64 * 104_729) % 1_000_003)
                .collect();
            let mut round_values = Vec::with_capacity(tokens.len());
            for (k, tok) in tokens.iter().enumerate() {
                if round >= random_rounds
                    && let Some(d) = &domains[k]
                {
                    round_values.push(d[(round - random_rounds) % d.len()].clone());
                    continue;
                }
                let mut cx = super::ValueContext {
                    rng: &mut rng,
                    time: &time,
                    latest: &latest,
                    rates: &rates,
                    rows: &mut rows,
                    counters: &ctr,
                    replay: false,
                    format_index: 0,
                };
                let mut v = Vec::new();
                tok.render_value(&mut cx, &mut v);
                round_values.push(v);
            }
            values.push(round_values);
        }
        Probes { values }
    }
}

impl Template {
    /// Splits `text` for `tokens`, falling back to the one-by-one path when the split cannot be
    /// proven equivalent on every probe round.
    /// Takes the text by value, so a sample's lines are not copied on the way.
    pub fn build(text: impl Into<String>, tokens: &[Token], probes: &Probes) -> Template {
        let text: String = text.into();
        let slow = |text: String| Template {
            text,
            pieces: Vec::new(),
            used: Vec::new(),
            slow: true,
        };
        let Some(first) = probes.values.first() else {
            return slow(text);
        };
        let Some(pieces) = split(&text, tokens, first) else {
            return slow(text);
        };
        let mut used: Vec<usize> = Vec::new();
        for p in &pieces {
            if let Piece::Slot { token, post, .. } = p {
                used.push(*token);
                used.extend(post.iter().copied());
            }
        }
        used.sort_unstable();
        used.dedup();
        let tpl = Template {
            text,
            pieces,
            used,
            slow: false,
        };
        if let [only] = tokens
            && matches!(only.regex, crate::token::TokenRegex::Plain(_))
        {
            // One token whose regex has no lookaround: its matches (or group-1 spans inside
            // them) do not overlap and come in order, so the split puts the value exactly where
            // the one-by-one path's single replace does, and both draw the value only when the
            // line has a match. Nothing to prove; this is most of the loading time of a large
            // replay file with its one timestamp token.
            return tpl;
        }
        let mut fast = Vec::new();
        let mut scratch = String::new();
        for round in &probes.values {
            fast.clear();
            tpl.render_fast(
                tokens,
                round,
                &mut fast,
                &mut scratch,
                &mut SlotCache::default(),
            );
            let mut slow_used = Vec::new();
            let slow_text = render_slow(&tpl.text, tokens, |t, out| {
                slow_used.push(t);
                out.extend_from_slice(&round[t]);
            });
            if !tpl.same_draws(tokens, &slow_used) || slow_text.as_bytes() != fast.as_slice() {
                return slow(tpl.text);
            }
        }
        tpl
    }

    /// `true` if rendering with the fast path draws values (random numbers, file rows,
    /// counters) for exactly the tokens the one-by-one path drew for (`slow_used`). Tokens
    /// whose value has no side effect (static text, timestamps) may be computed regardless.
    pub fn same_draws(&self, tokens: &[Token], slow_used: &[usize]) -> bool {
        let draws = |t: &&usize| tokens[**t].has_side_effects();
        self.used
            .iter()
            .filter(draws)
            .eq(slow_used.iter().filter(draws))
    }

    pub fn is_slow(&self) -> bool {
        self.slow
    }

    /// Tokens whose value the fast path needs, ascending. Empty for slow templates.
    pub fn used(&self) -> &[usize] {
        &self.used
    }

    /// `true` if this template (fast path) uses token `t`.
    pub fn uses(&self, t: usize) -> bool {
        self.used.binary_search(&t).is_ok()
    }

    /// Renders with the values of `used()` already in `values` (indexed by token).
    pub fn render_fast(
        &self,
        tokens: &[Token],
        values: &[Vec<u8>],
        out: &mut Vec<u8>,
        scratch: &mut String,
        cache: &mut SlotCache,
    ) {
        let bytes = self.text.as_bytes();
        for piece in &self.pieces {
            match piece {
                Piece::Lit(s, e) => out.extend_from_slice(&bytes[*s..*e]),
                Piece::Slot { token, post, .. } if post.is_empty() => {
                    out.extend_from_slice(&values[*token])
                }
                Piece::Slot {
                    token,
                    post,
                    cache: id,
                } => {
                    let entry = id.and_then(|i| cache.entries.get_mut(i as usize));
                    if let Some((sec, text)) = &entry
                        && *sec == cache.second
                    {
                        out.extend_from_slice(text);
                        continue;
                    }
                    scratch.clear();
                    scratch.push_str(&String::from_utf8_lossy(&values[*token]));
                    for &k in post {
                        replace_into(scratch, &tokens[k], &values[k], &mut cache.spare);
                        std::mem::swap(scratch, &mut cache.spare);
                    }
                    out.extend_from_slice(scratch.as_bytes());
                    let entry = id.and_then(|i| cache.entries.get_mut(i as usize));
                    if let Some((sec, text)) = entry {
                        *sec = cache.second;
                        text.clear();
                        text.extend_from_slice(scratch.as_bytes());
                    }
                }
            }
        }
    }

    /// Gives every composed slot whose tokens all depend only on the event's second a cache id
    /// from `next`.
    pub fn assign_cache_ids(&mut self, tokens: &[Token], next: &mut u32) {
        let per_second = |t: usize| tokens[t].is_per_second();
        for piece in &mut self.pieces {
            if let Piece::Slot { token, post, cache } = piece
                && !post.is_empty()
                && per_second(*token)
                && post.iter().all(|&k| per_second(k))
            {
                *cache = Some(*next);
                *next += 1;
            }
        }
    }
}

/// Per-worker cache of composed slot texts, valid for one second of event time.
#[derive(Debug, Default)]
pub struct SlotCache {
    /// The event second being rendered; entries from other seconds are stale.
    pub second: i64,
    pub entries: Vec<(i64, Vec<u8>)>,
    /// Second buffer for applying post-steps without allocating.
    pub spare: String,
}

impl SlotCache {
    /// A cache for `n` composed slots.
    pub fn with_slots(n: usize) -> SlotCache {
        SlotCache {
            second: i64::MIN,
            entries: vec![(i64::MIN, Vec::new()); n],
            spare: String::new(),
        }
    }
}

/// Eventgen's semantics: each token in order finds all its matches on the current text; if
/// there is one, one value is drawn (`value(token, buf)`) and put at every match.
pub fn render_slow(
    text: &str,
    tokens: &[Token],
    mut value: impl FnMut(usize, &mut Vec<u8>),
) -> String {
    let mut current = text.to_string();
    let mut buf = Vec::new();
    for (t, token) in tokens.iter().enumerate() {
        if !token.regex.is_match(&current) {
            continue;
        }
        buf.clear();
        value(t, &mut buf);
        current = replace_all(&current, token, &buf);
    }
    current
}

/// Puts `value` at every match of `token` in `text` (group 1 when the regex has one).
fn replace_all(text: &str, token: &Token, value: &[u8]) -> String {
    let mut out = String::with_capacity(text.len() + value.len());
    replace_into(text, token, value, &mut out);
    out
}

/// [`replace_all`] into a buffer the caller owns (cleared first), for the hot path.
fn replace_into(text: &str, token: &Token, value: &[u8], out: &mut String) {
    let value = String::from_utf8_lossy(value);
    out.clear();
    let mut last = 0;
    token.regex.for_each_match(text, |_, (s, e)| {
        if s >= last {
            out.push_str(&text[last..s]);
            out.push_str(&value);
            last = e;
        }
    });
    out.push_str(&text[last..]);
}

/// Finds the split structure using one round of probe values; `None` when a match crosses a
/// piece boundary.
fn split(text: &str, tokens: &[Token], values: &[Vec<u8>]) -> Option<Vec<Piece>> {
    let mut pieces = vec![Piece::Lit(0, text.len())];
    for (k, token) in tokens.iter().enumerate() {
        // The concrete text as the one-by-one path would see it before token k.
        let mut concrete = String::new();
        let mut spans = Vec::with_capacity(pieces.len());
        let mut scratch = String::new();
        for p in &pieces {
            let start = concrete.len();
            match p {
                Piece::Lit(s, e) => concrete.push_str(&text[*s..*e]),
                Piece::Slot { token, post, .. } => {
                    scratch.clear();
                    scratch.push_str(&String::from_utf8_lossy(&values[*token]));
                    for &j in post {
                        scratch = replace_all(&scratch, &tokens[j], &values[j]);
                    }
                    concrete.push_str(&scratch);
                }
            }
            spans.push((start, concrete.len()));
        }
        let mut cuts: Vec<Vec<(usize, usize)>> = vec![Vec::new(); pieces.len()];
        let mut in_slots: Vec<usize> = Vec::new();
        let mut ok = true;
        token.regex.for_each_match(&concrete, |(ms, me), (rs, re)| {
            let Some(i) = spans
                .iter()
                .position(|&(s, e)| s <= ms && me <= e && (ms < e || ms == s))
            else {
                ok = false;
                return;
            };
            match &pieces[i] {
                Piece::Lit(ls, _) => {
                    let base = spans[i].0;
                    cuts[i].push((ls + rs - base, ls + re - base));
                }
                Piece::Slot { .. } => in_slots.push(i),
            }
        });
        if !ok {
            return None;
        }
        let mut next = Vec::with_capacity(pieces.len() + 2);
        for (i, p) in pieces.into_iter().enumerate() {
            match p {
                Piece::Lit(s, e) if !cuts[i].is_empty() => {
                    let mut at = s;
                    for &(cs, ce) in &cuts[i] {
                        if cs > at {
                            next.push(Piece::Lit(at, cs));
                        }
                        next.push(Piece::Slot {
                            token: k,
                            post: Vec::new(),
                            cache: None,
                        });
                        at = ce;
                    }
                    if at < e {
                        next.push(Piece::Lit(at, e));
                    }
                }
                Piece::Slot {
                    token,
                    mut post,
                    cache,
                } if in_slots.contains(&i) => {
                    post.push(k);
                    next.push(Piece::Slot { token, post, cache });
                }
                other => next.push(other),
            }
        }
        pieces = next;
    }
    Some(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::{Replacement, TokenRegex};

    fn tok(pattern: &str) -> Token {
        Token {
            number: 0,
            replacement_text: String::new(),
            pattern: pattern.into(),
            regex: TokenRegex::compile(pattern).unwrap(),
            replacement: Replacement::Static(String::new()),
            counter: None,
        }
    }

    fn probes(rounds: &[&[&str]]) -> Probes {
        Probes {
            values: rounds
                .iter()
                .map(|r| r.iter().map(|v| v.as_bytes().to_vec()).collect())
                .collect(),
        }
    }

    fn fast(t: &Template, tokens: &[Token], vals: &[&str]) -> String {
        let values: Vec<Vec<u8>> = vals.iter().map(|v| v.as_bytes().to_vec()).collect();
        let mut out = Vec::new();
        t.render_fast(
            tokens,
            &values,
            &mut out,
            &mut String::new(),
            &mut SlotCache::default(),
        );
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn independent_tokens_split() {
        let tokens = [tok("@@a"), tok(r"id=(\d+)")];
        let p = probes(&[&["X", "1"], &["YY", "22"], &["", "333"]]);
        let t = Template::build("x @@a id=5 @@a", &tokens, &p);
        assert!(!t.is_slow());
        assert_eq!(fast(&t, &tokens, &["Q", "9"]), "x Q id=9 Q");
    }

    #[test]
    fn chain_into_earlier_value_uses_post_step() {
        // Token 1 also matches the time inside the text token 0 produces.
        let tokens = [
            tok(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"),
            tok(r"\d{2}:\d{2}:\d{2}"),
        ];
        let p = probes(&[
            &["2024-01-02 03:04:05", "11:11:11"],
            &["1999-12-31 23:59:59", "00:00:00"],
        ]);
        let t = Template::build("2020-01-01 00:00:00 end 10:00:00", &tokens, &p);
        assert!(!t.is_slow());
        assert_eq!(
            fast(&t, &tokens, &["2024-01-02 03:04:05", "22:22:22"]),
            "2024-01-02 22:22:22 end 22:22:22"
        );
    }

    #[test]
    fn value_creating_a_new_match_across_pieces_goes_slow() {
        // Token 0 inserts "b" next to a literal "c": token 1 "bc" then matches across pieces.
        let tokens = [tok("@"), tok("bc")];
        let p = probes(&[&["b", "Z"], &["x", "Z"]]);
        let t = Template::build("a@c", &tokens, &p);
        assert!(t.is_slow());
        let s = render_slow("a@c", &tokens, |t, out| {
            out.extend_from_slice(if t == 0 { b"b" } else { b"Z" })
        });
        assert_eq!(s, "aZ");
    }

    #[test]
    fn one_plain_token_needs_no_proof_and_matches_the_one_by_one_path() {
        // Groups, empty matches, a group that does not take part, values that would match the
        // regex again: with one token the fast path is exact without probe rounds.
        let cases: [(&str, &str); 5] = [
            (r"id=(\d*)", "id=5 id= x id=77"),
            (r"x*", "axxbx"),
            (r"a(b)?c", "ac abc ac"),
            (r"\d", "1 22 333"),
            (r"nomatch", "plain text"),
        ];
        let no_probes = Probes { values: Vec::new() };
        for (pattern, text) in cases {
            let tokens = [tok(pattern)];
            let t = Template::build(text, &tokens, &probes(&[&["v"]]));
            assert!(!t.is_slow(), "{pattern}");
            for value in ["", "Q", "id=9", "xx", "12", "abc"] {
                let slow = render_slow(text, &tokens, |_, out| {
                    out.extend_from_slice(value.as_bytes())
                });
                assert_eq!(
                    fast(&t, &tokens, &[value]),
                    slow,
                    "{pattern} with {value:?}"
                );
            }
        }
        // No probe values at all still means the one-by-one path.
        assert!(Template::build("id=5", &[tok(r"id=(\d)")], &no_probes).is_slow());
    }

    #[test]
    fn non_matching_tokens_are_not_used() {
        let tokens = [tok("nomatch"), tok("x")];
        let p = probes(&[&["1", "2"]]);
        let t = Template::build("axb", &tokens, &p);
        assert_eq!(t.used(), &[1]);
    }

    /// Property: on random samples and tokens of real replacement types, whatever `build`
    /// decides, the fast path renders exactly what the one-by-one path renders, with values
    /// for the same tokens, for fresh values the proof never saw.
    #[test]
    fn fast_path_equals_one_by_one_on_random_inputs() {
        use crate::rng::Rng;
        use crate::timing::Tz;
        use crate::timing::rate::Rates;
        use crate::timing::strftime::TimeFormat;
        use crate::token::ValueContext;
        use crate::token::random::RandomSpec;
        const PATTERNS: &[&str] = &[
            r"\d{2}:\d{2}:\d{2}",
            r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}",
            r"\d+",
            r"@@\w+",
            r"@@a",
            r"id=(\d+)",
            r"x(y)?z",
            r"(?<=k)\d",
            r"^\w+",
            r"\w+$",
            r"[a-c]{2}",
            r"b",
            r"(\d)(\d)",
            r"\bq\b",
        ];
        const ALPHABET: &[u8] = b"abck xyzq@=:-0123456789 id";
        const POOL: &[&str] = &[
            "", "9", "12:00:00", "@@a", "id=1", "b", "zz", "k", "q", "xyz", "abc",
        ];
        let tz = Tz::parse("+0000").unwrap();
        let mut rng = Rng::seed(2024);
        let random_text = |rng: &mut Rng, len: usize| -> String {
            (0..len)
                .map(|_| ALPHABET[rng.below(ALPHABET.len() as u64) as usize] as char)
                .collect()
        };
        let mut fast_cases = 0;
        for case in 0..2000 {
            let ntok = 1 + rng.below(4) as usize;
            let tokens: Vec<Token> = (0..ntok)
                .map(|_| {
                    let mut t = tok(PATTERNS[rng.below(PATTERNS.len() as u64) as usize]);
                    t.replacement = match rng.below(5) {
                        0 => {
                            Replacement::Static(POOL[rng.below(POOL.len() as u64) as usize].into())
                        }
                        1 => Replacement::Random(RandomSpec::List(
                            (0..1 + rng.below(4))
                                .map(|_| POOL[rng.below(POOL.len() as u64) as usize].into())
                                .collect(),
                        )),
                        2 => Replacement::Random(RandomSpec::Integer { lo: 0, hi: 120 }),
                        3 => Replacement::Timestamp(TimeFormat::compile("%H:%M:%S")),
                        _ => Replacement::Timestamp(TimeFormat::compile("%Y-%m-%d %H:%M:%S")),
                    };
                    t
                })
                .collect();
            let len = 4 + rng.below(30) as usize;
            let mut text = random_text(&mut rng, len);
            for plant in [
                "@@a",
                "12:34:56",
                "2024-01-02 03:04:05",
                "id=7",
                "xyz",
                "k5",
            ] {
                if rng.below(3) == 0 {
                    let at = rng.below(text.len() as u64 + 1) as usize;
                    text.insert_str(at, plant);
                }
            }
            let probes = Probes::for_tokens(&tokens, &tz, 0, 0, 1);
            let tpl = Template::build(text.as_str(), &tokens, &probes);
            if tpl.is_slow() {
                continue;
            }
            fast_cases += 1;
            let rates = Rates::default();
            for _ in 0..8 {
                let t = tz.datetime(rng.range_inclusive(0, 4_000_000_000) * 1_000_000);
                let mut round = Vec::new();
                for k in &tokens {
                    let mut v = Vec::new();
                    let mut cx = ValueContext {
                        rng: &mut rng,
                        time: &t,
                        latest: &t,
                        rates: &rates,
                        rows: &mut [],
                        counters: &[],
                        replay: false,
                        format_index: 0,
                    };
                    k.render_value(&mut cx, &mut v);
                    round.push(v);
                }
                let mut fast = Vec::new();
                tpl.render_fast(
                    &tokens,
                    &round,
                    &mut fast,
                    &mut String::new(),
                    &mut SlotCache::default(),
                );
                let mut used = Vec::new();
                let slow = render_slow(&text, &tokens, |t, out| {
                    used.push(t);
                    out.extend_from_slice(&round[t]);
                });
                assert_eq!(
                    String::from_utf8_lossy(&fast),
                    slow,
                    "case {case}: text {text:?}, tokens {:?}, values {round:?}",
                    tokens.iter().map(|t| &t.pattern).collect::<Vec<_>>()
                );
                assert!(
                    tpl.same_draws(&tokens, &used),
                    "case {case}: tokens drawn differ for {text:?}: {used:?} vs {:?}",
                    tpl.used()
                );
            }
        }
        // The property is only meaningful if many cases take the fast path.
        assert!(
            fast_cases > 800,
            "only {fast_cases} of 2000 cases took the fast path"
        );
    }
}
