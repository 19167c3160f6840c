//! The judgement of `eventgen init` over Eventgen's corpus (ignored: run it on purpose).
//!
//! For every raw sample file a corpus stanza tokenises, `init` runs on the file alone and
//! its tokens are compared with the hand-written ones of the same file, instance by
//! instance on the file's lines: timestamp, IP and user recall (hand-written instances that
//! an init token of the same kind covers; for timestamps with the same format, fractions
//! and zones aside) and precision (init instances that a hand-written token of the same kind
//! covers). Then `check --strict` on the app and the Jaccard similarity of the line shapes
//! (digit runs to 9, hex runs to H, space runs to one space) of the input and of one `generate` interval of the
//! whole sample. Prints the Markdown table of docs/init.md:
//!
//! ```text
//! cargo test --release --test tests init_judge -- --ignored --nocapture
//! ```
//!
//! It changes the working directory to the corpus (whose relative `sampleDir`s resolve
//! against it), so it runs alone.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use eventgen::plan::{self, Overrides};
use eventgen::token::{Replacement, Token};

use crate::support::{TempDir, bin};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Time,
    Ip,
    User,
}

/// One token as the judgement sees it: its kind, formats (timestamps) and match spans.
struct Judged {
    kind: Option<Kind>,
    formats: Vec<String>,
    token: Token,
}

fn corpus() -> PathBuf {
    match std::env::var_os("EVENTGEN_CORPUS") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/eventgen-corpus"),
    }
}

fn conf_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if p.is_dir() {
            conf_files(&p, out);
        } else if name.starts_with("eventgen") && name.contains(".conf") && !name.ends_with(".spec")
        {
            out.push(p);
        }
    }
}

fn spans(t: &Token, line: &str) -> Vec<(usize, usize)> {
    let mut v = Vec::new();
    t.regex.for_each_match(line, |_, s| {
        if s.1 > s.0 {
            v.push(s)
        }
    });
    v
}

/// A format without its fraction, zone and padding flags, for "the same format".
fn normalize(f: &str) -> String {
    let mut s = f.to_string();
    for (from, to) in [
        (".%f", ""),
        (",%f", ""),
        (":%f", ""),
        (" %:z", ""),
        ("%:z", ""),
        (" %z", ""),
        ("%z", ""),
        ("%e", "%d"),
        ("%-d", "%d"),
        ("%-m", "%m"),
        ("%-I", "%I"),
        ("%-H", "%H"),
    ] {
        s = s.replace(from, to);
    }
    // strptime reads any run of whitespace where the format has one.
    while s.contains("  ") {
        s = s.replace("  ", " ");
    }
    s.trim_end_matches('Z').trim().to_string()
}

/// A token for user names: its regex or replacement file says `user`, and it is not an
/// address or user agent (`end-user-ip`, `useragents.sample`).
fn user_like(t: &Token) -> bool {
    let p = t.pattern.to_lowercase();
    let r = t.replacement_text.to_lowercase();
    (p.contains("user") || r.contains("user"))
        && !p.contains("ip")
        && !r.contains("agent")
        && !p.contains("agent")
}

fn judge_tokens(tokens: &[Token]) -> Vec<Judged> {
    tokens
        .iter()
        .map(|t| {
            let (kind, formats) = match &t.replacement {
                Replacement::Timestamp(_) | Replacement::ReplayTimestamp(_) => (
                    Some(Kind::Time),
                    plan::tokens::format_list(&t.replacement_text)
                        .unwrap_or_else(|| vec![t.replacement_text.clone()]),
                ),
                _ if user_like(t) => (Some(Kind::User), vec![]),
                _ => (None, vec![]),
            };
            Judged {
                kind,
                formats,
                token: t.clone(),
            }
        })
        .collect()
}

/// Instances per kind: (line, start, end, formats).
type Instances = BTreeMap<Kind, Vec<(usize, usize, usize, Vec<String>)>>;

fn instances(tokens: &[Judged], lines: &[&str], ip_by_text: bool) -> Instances {
    let mut out: Instances = BTreeMap::new();
    for (i, line) in lines.iter().enumerate() {
        for t in tokens {
            for (s, e) in spans(&t.token, line) {
                let text = &line[s..e];
                let is_ip = text.parse::<std::net::IpAddr>().is_ok();
                let init_ip = ["ipv4", "ipv6", ".ip.sample", ".ipv6.sample"]
                    .iter()
                    .any(|k| t.token.replacement_text.ends_with(k));
                let kind = match t.kind {
                    Some(k) => Some(k),
                    None if ip_by_text && is_ip => Some(Kind::Ip),
                    None if !ip_by_text && init_ip => Some(Kind::Ip),
                    None => None,
                };
                if let Some(k) = kind {
                    out.entry(k).or_default().push((i, s, e, t.formats.clone()));
                }
            }
        }
    }
    out
}

/// The text init reads for a sample: the file, or the `_raw` column of a CSV sample.
fn sample_text(file: &Path, csv: bool) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?.replace("\r\n", "\n");
    if !csv {
        return Some(text);
    }
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let raw = r.headers().ok()?.iter().position(|h| h == "_raw")?;
    let mut out = String::new();
    for row in r.records().flatten() {
        let v = row.get(raw)?.replace('\n', " ");
        out.push_str(&v);
        out.push('\n');
    }
    Some(out)
}

fn shape(line: &str) -> String {
    static HEX: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"\b[0-9A-Fa-f]*(?:[0-9][A-Fa-f]|[A-Fa-f][0-9])[0-9A-Fa-f]*\b").unwrap()
    });
    static DIGITS: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"\d+").unwrap());
    static SPACES: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r" +").unwrap());
    let s = DIGITS
        .replace_all(&HEX.replace_all(line, "H"), "9")
        .into_owned();
    SPACES.replace_all(&s, " ").into_owned()
}

#[derive(Default)]
struct Tally {
    hand: usize,
    recalled: usize,
    init: usize,
    precise: usize,
}

impl Tally {
    fn add(&mut self, o: &Tally) {
        self.hand += o.hand;
        self.recalled += o.recalled;
        self.init += o.init;
        self.precise += o.precise;
    }
    /// Recall and precision against the hand-written tokens, and init's instances the
    /// hand-written config did not tokenise.
    fn cell(&self) -> String {
        let pct = |a: usize, b: usize| {
            if b == 0 {
                "-".to_string()
            } else {
                format!("{:.0}%", 100.0 * a as f64 / b as f64)
            }
        };
        format!(
            "{}/{} {} · {}/{} {}",
            self.recalled,
            self.hand,
            pct(self.recalled, self.hand),
            self.precise,
            self.init,
            pct(self.precise, self.init),
        )
    }
}

/// Recall and precision of one kind; the distinct texts init missed or added go to `misses`.
fn compare(
    kind: Kind,
    hand: &Instances,
    init: &Instances,
    misses: &mut BTreeSet<String>,
    lines: &[&str],
) -> Tally {
    let empty = Vec::new();
    let h = hand.get(&kind).unwrap_or(&empty);
    let n = init.get(&kind).unwrap_or(&empty);
    let overlaps = |a: &(usize, usize, usize, Vec<String>),
                    b: &(usize, usize, usize, Vec<String>)| {
        a.0 == b.0 && a.1 < b.2 && b.1 < a.2
    };
    let same_format = |a: &Vec<String>, b: &Vec<String>| {
        kind != Kind::Time
            || a.iter()
                .any(|x| b.iter().any(|y| normalize(x) == normalize(y)))
    };
    let mut t = Tally {
        hand: h.len(),
        init: n.len(),
        ..Tally::default()
    };
    for x in h {
        if n.iter().any(|y| overlaps(x, y) && same_format(&x.3, &y.3)) {
            t.recalled += 1;
        } else {
            misses.insert(format!(
                "missed {kind:?} {:?} {:?}",
                shape(&lines[x.0][x.1..x.2]),
                x.3
            ));
        }
    }
    for y in n {
        if h.iter().any(|x| overlaps(x, y)) {
            t.precise += 1;
        } else {
            misses.insert(format!(
                "init-only {kind:?} {:?} {:?}",
                shape(&lines[y.0][y.1..y.2]),
                y.3
            ));
        }
    }
    t
}

#[test]
#[ignore = "judgement over Eventgen's corpus; run with --ignored --nocapture"]
fn init_judge() {
    let corpus = corpus();
    if !corpus.is_dir() {
        println!(
            "SKIP init_judge: no corpus at {} (set EVENTGEN_CORPUS)",
            corpus.display()
        );
        return;
    }
    let corpus = corpus.canonicalize().unwrap();
    std::env::set_current_dir(&corpus).unwrap();
    let mut confs = Vec::new();
    conf_files(&corpus, &mut confs);
    // Sample file -> hand-written tokens (union over the stanzas that use it, by pattern).
    let mut files: BTreeMap<(PathBuf, bool), Vec<Token>> = BTreeMap::new();
    for conf in &confs {
        let Ok((sources, _)) = eventgen::cli::conf_sources(Some(conf)) else {
            continue;
        };
        let ov = Overrides {
            enable_disabled: true,
            ..Overrides::default()
        };
        let (p, _) = plan::build(&sources, &ov);
        for s in p.samples {
            let Some(file) = s.file.clone() else { continue };
            if !matches!(
                s.generator,
                plan::Generator::Sample | plan::Generator::Replay
            ) {
                continue;
            }
            let csv = s.events.iter().any(|e| e.row.is_some());
            let entry = files
                .entry((file.canonicalize().unwrap_or(file), csv))
                .or_default();
            for t in s.tokens {
                if !entry.iter().any(|e| e.pattern == t.pattern) {
                    entry.push(t);
                }
            }
        }
    }
    println!(
        "| sample | lines | timestamps recall · precision | IPs | users | check --strict | shape Jaccard |"
    );
    println!("|---|---|---|---|---|---|---|");
    let (mut ts, mut ip, mut us) = (Tally::default(), Tally::default(), Tally::default());
    let (mut checked, mut passed, mut jaccards) = (0, 0, Vec::new());
    let mut notes = Vec::new();
    for ((file, csv), hand_tokens) in &files {
        let Some(text) = sample_text(file, *csv) else {
            continue;
        };
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .take(10_000)
            .collect();
        if lines.is_empty() {
            continue;
        }
        let rel = file
            .strip_prefix(&corpus)
            .unwrap_or(file)
            .display()
            .to_string();
        let dir = TempDir::new("init-judge");
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        std::fs::write(dir.path().join(&name), &text).unwrap();
        let run = |args: &[&str]| {
            Command::new(bin())
                .args(args)
                .current_dir(dir.path())
                .stdin(Stdio::null())
                .output()
                .unwrap()
        };
        let o = run(&["init", &name, "--app", "app"]);
        if !o.status.success() {
            println!(
                "| {rel} | {} | init failed: {} | | | | |",
                lines.len(),
                String::from_utf8_lossy(&o.stderr).trim()
            );
            continue;
        }
        checked += 1;
        let check = run(&["check", "--strict", "app"]);
        let check_ok = check.status.success();
        passed += usize::from(check_ok);
        if !check_ok {
            notes.push(format!(
                "{rel}: check --strict: {}",
                String::from_utf8_lossy(&check.stderr).trim()
            ));
        }
        let app = dir.path().join("app");
        let (sources, _) = eventgen::cli::conf_sources(Some(&app)).unwrap();
        let (ip_plan, _) = plan::build(&sources, &Overrides::default());
        let init_tokens: Vec<Token> = ip_plan
            .samples
            .first()
            .map(|s| s.tokens.clone())
            .unwrap_or_default();
        let hand = instances(&judge_tokens(hand_tokens), &lines, true);
        let init = instances(&judge_tokens(&init_tokens), &lines, false);
        let mut misses = BTreeSet::new();
        let t = compare(Kind::Time, &hand, &init, &mut misses, &lines);
        let i = compare(Kind::Ip, &hand, &init, &mut misses, &lines);
        let u = compare(Kind::User, &hand, &init, &mut misses, &lines);
        // Generate at the input's last time, so that month and day names can match.
        let conf = std::fs::read_to_string(app.join("default/eventgen.conf")).unwrap_or_default();
        let now = conf
            .lines()
            .find_map(|l| l.strip_prefix("# Input times: "))
            .and_then(|l| l.split(" to ").nth(1))
            .unwrap_or("2024-02-28T23:59:58Z")
            .to_string();
        let generated = run(&[
            "generate", "app", "--now", &now, "--seed", "1", "-e", "1", "-c", "0", "--output",
            "stdout",
        ]);
        let out = String::from_utf8_lossy(&generated.stdout).into_owned();
        let a: BTreeSet<String> = lines.iter().map(|l| shape(l)).collect();
        let b: BTreeSet<String> = out
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(shape)
            .collect();
        let j = a.intersection(&b).count() as f64 / a.union(&b).count().max(1) as f64;
        let varied = a.len() as f64 / lines.len() as f64;
        jaccards.push(j);
        println!(
            "| {rel} | {} | {} | {} | {} | {} | {j:.2}{} |",
            lines.len(),
            t.cell(),
            i.cell(),
            u.cell(),
            if check_ok { "pass" } else { "FAIL" },
            if varied > 0.5 {
                format!(
                    " ({:.0}% of input lines have a shape of their own)",
                    varied * 100.0
                )
            } else {
                String::new()
            }
        );
        for m in misses.iter().take(8) {
            notes.push(format!("{rel}: {m}"));
        }
        ts.add(&t);
        ip.add(&i);
        us.add(&u);
    }
    let mean = jaccards.iter().sum::<f64>() / jaccards.len().max(1) as f64;
    let good = jaccards.iter().filter(|&&j| j >= 0.8).count();
    println!(
        "| **all {} samples** | | {} | {} | {} | {passed}/{checked} | mean {mean:.2}, {good} of {} >= 0.8 |",
        files.len(),
        ts.cell(),
        ip.cell(),
        us.cell(),
        jaccards.len()
    );
    println!("\nDistinct shapes of what init missed or added beyond the hand-written tokens:");
    for n in notes {
        println!("- {n}");
    }
}
