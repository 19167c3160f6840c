//! Live reconfiguration: a thread that watches the `eventgen.conf` files a run read (every
//! layer of every source, including files that do not exist yet) and the sample folders and
//! sample files it uses, and builds a new plan when one of them changes. A plan without errors
//! waits in a [`Reloader`] until the scheduler reaches its next firing, where the pipeline
//! ends the running segment and carries on with the new plan (see `pipeline::run_reloading`);
//! a plan with errors is logged and dropped, and the running one goes on.
//!
//! Changes are found by polling (size and modification time, once a second): it needs no
//! platform API and sees what inotify misses, like a Kubernetes ConfigMap's symlink swap or a
//! deployment client replacing an app folder. A change is taken once two polls in a row agree,
//! so a file caught half-written (or an app folder half-replaced) is not read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use crate::log;
use crate::plan::{self, ConfSource, Overrides, Plan, SamplePlan};
use crate::signal::Done;

/// How often the files are looked at. `EVENTGEN_RELOAD_POLL_MS` changes it (tests).
const POLL: Duration = Duration::from_secs(1);

fn poll_every() -> Duration {
    std::env::var("EVENTGEN_RELOAD_POLL_MS")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|&ms| ms > 0)
        .map_or(POLL, Duration::from_millis)
}

/// Where a new plan waits for the scheduler.
#[derive(Default)]
pub struct Reloader {
    pending: Mutex<Option<Plan>>,
    flag: AtomicBool,
}

impl Reloader {
    /// Whether a new plan is waiting (cheap: the scheduler asks at every firing).
    pub fn is_pending(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }

    /// The waiting plan, if any.
    pub fn take(&self) -> Option<Plan> {
        let plan = self
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        self.flag.store(false, Ordering::Relaxed);
        plan
    }

    fn offer(&self, plan: Plan) {
        *self.pending.lock().unwrap_or_else(|e| e.into_inner()) = Some(plan);
        self.flag.store(true, Ordering::Relaxed);
    }
}

/// What the watcher needs to build plans again.
pub struct Watch {
    /// The sources as they are now (inside Splunk, the set of apps may change too).
    pub sources: Box<dyn Fn() -> Vec<ConfSource> + Send>,
    pub overrides: Overrides,
    /// The warnings already logged for the running plan (`Problem::to_string`): a reload logs
    /// only new ones.
    pub warned: Vec<String>,
}

/// One file's identity for change detection.
type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: &Path) -> Stamp {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()))
}

/// Every watched path with its stamp: the conf files of the sources, the files in their
/// sample folders, and the sample files of the plan.
fn fingerprint(sources: &[ConfSource], plan_files: &[PathBuf]) -> BTreeMap<PathBuf, Stamp> {
    let mut map = BTreeMap::new();
    for src in sources {
        for f in &src.files {
            map.insert(f.clone(), stamp(f));
        }
        if let Ok(dir) = std::fs::read_dir(&src.default_sample_dir) {
            for entry in dir.flatten() {
                let p = entry.path();
                if p.is_file() {
                    let s = stamp(&p);
                    map.insert(p, s);
                }
            }
        }
    }
    for f in plan_files {
        map.insert(f.clone(), stamp(f));
    }
    map
}

fn plan_files(plan: &Plan) -> Vec<PathBuf> {
    plan.samples.iter().filter_map(|s| s.file.clone()).collect()
}

/// A sample's identity across plans: its app, stanza and sample name.
pub type SampleId = (Option<String>, String, String);

pub fn identity(s: &SamplePlan) -> SampleId {
    (s.app.clone(), s.stanza.clone(), s.name.clone())
}

/// What the watcher keeps of a plan's sample: enough to say what a reload changes.
#[derive(Debug, Clone, PartialEq)]
struct SampleSummary {
    id: SampleId,
    count: u64,
    interval: i64,
    per_day_volume: Option<f64>,
    output: String,
    events: usize,
    tokens: usize,
}

fn summary(plan: &Plan) -> Vec<SampleSummary> {
    plan.samples
        .iter()
        .map(|s| SampleSummary {
            id: identity(s),
            count: s.count,
            interval: s.interval,
            per_day_volume: s.per_day_volume,
            output: plan
                .outputs
                .get(s.output)
                .map_or_else(String::new, |o| o.describe()),
            events: s.events.len(),
            tokens: s.tokens.len(),
        })
        .collect()
}

/// What a reload changes, in one line: samples added, removed, and changed (with their
/// count, interval, volume or output when those changed).
fn describe_change(old: &[SampleSummary], new: &[SampleSummary]) -> String {
    let name = |s: &SampleSummary| s.id.2.clone();
    let added: Vec<String> = new
        .iter()
        .filter(|n| !old.iter().any(|o| o.id == n.id))
        .map(name)
        .collect();
    let removed: Vec<String> = old
        .iter()
        .filter(|o| !new.iter().any(|n| o.id == n.id))
        .map(name)
        .collect();
    let mut changed = Vec::new();
    for n in new {
        let Some(o) = old.iter().find(|o| o.id == n.id) else {
            continue;
        };
        let mut what = Vec::new();
        if o.count != n.count {
            what.push(format!("count {} -> {}", o.count, n.count));
        }
        if o.interval != n.interval {
            what.push(format!(
                "interval {}s -> {}s",
                o.interval / 1_000_000,
                n.interval / 1_000_000
            ));
        }
        if o.per_day_volume != n.per_day_volume {
            let gb = |v: Option<f64>| v.map_or("-".to_string(), |v| v.to_string());
            what.push(format!(
                "perDayVolume {} -> {}",
                gb(o.per_day_volume),
                gb(n.per_day_volume)
            ));
        }
        if o.output != n.output {
            what.push(format!("output {}", n.output));
        }
        if o.events != n.events || o.tokens != n.tokens {
            what.push(format!("{} events, {} tokens", n.events, n.tokens));
        }
        if !what.is_empty() {
            changed.push(format!("{} ({})", name(n), what.join(", ")));
        }
    }
    let list = |v: &[String]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
    };
    format!(
        "samples added: {}; removed: {}; changed: {}",
        list(&added),
        list(&removed),
        list(&changed)
    )
}

/// Starts the watcher thread for a run of `plan`; it ends when `done` is raised. Every
/// accepted change replaces what waits in the returned [`Reloader`].
pub fn spawn(plan: &Plan, watch: Watch, done: Arc<Done>) -> std::io::Result<Arc<Reloader>> {
    let reloader = Arc::new(Reloader::default());
    let r = reloader.clone();
    let summary = summary(plan);
    let files = plan_files(plan);
    std::thread::Builder::new()
        .name("reload-watch".into())
        .spawn(move || watch_loop(watch, summary, files, &r, &done))?;
    Ok(reloader)
}

fn watch_loop(
    mut watch: Watch,
    mut current: Vec<SampleSummary>,
    mut files: Vec<PathBuf>,
    reloader: &Reloader,
    done: &Done,
) {
    let every = poll_every();
    let mut warned = std::mem::take(&mut watch.warned);
    let mut seen = fingerprint(&(watch.sources)(), &files);
    // A change waits here until two polls agree.
    let mut candidate: Option<BTreeMap<PathBuf, Stamp>> = None;
    loop {
        if done.wait(every) {
            return;
        }
        let sources = (watch.sources)();
        let now = fingerprint(&sources, &files);
        if now == seen {
            candidate = None;
            continue;
        }
        if candidate.as_ref() != Some(&now) {
            candidate = Some(now);
            continue;
        }
        candidate = None;
        let changed: Vec<String> = now
            .iter()
            .filter(|(p, s)| seen.get(*p) != Some(*s))
            .map(|(p, _)| p.display().to_string())
            .chain(
                seen.keys()
                    .filter(|p| !now.contains_key(*p))
                    .map(|p| p.display().to_string()),
            )
            .collect();
        seen = now;
        let (plan, problems) = plan::build(&sources, &watch.overrides);
        let errors: Vec<_> = problems.iter().filter(|p| p.is_error()).collect();
        if !errors.is_empty() {
            for p in &errors {
                log::error(&format!("reload: {p}"));
            }
            log::error(&format!(
                "reload: the changed configuration has {} errors; the running configuration goes on unchanged (changed: {})",
                errors.len(),
                changed.join(", ")
            ));
            continue;
        }
        crate::pipeline::register_secrets(&plan);
        let warnings: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        for w in warnings.iter().filter(|w| !warned.contains(w)) {
            log::warn(&format!("reload: {w}"));
        }
        if plan.samples.is_empty() {
            // Most likely a moment in the middle of an update (an app folder being replaced,
            // a ConfigMap being swapped): never end a running input on it.
            log::warn(&format!(
                "reload: the changed configuration has no enabled sample; the running configuration goes on unchanged (changed: {})",
                changed.join(", ")
            ));
            continue;
        }
        let next = summary(&plan);
        let what = describe_change(&current, &next);
        log::info(&format!(
            "reload: {} changed; {what}; applied at each sample's next interval",
            changed.join(", ")
        ));
        // Sample files of the new plan are watched from now on.
        files = plan_files(&plan);
        seen = fingerprint(&sources, &files);
        current = next;
        warned = warnings;
        reloader.offer(plan);
    }
}
