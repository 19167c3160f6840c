//! The regression guard: this build against a baseline, case by case, in events per CPU
//! second (`BENCH_BASELINE=<commit or binary> cargo bench --bench throughput`).
//!
//! A commit is built once into `target/bench-baseline/` (its source from `git archive`, one
//! shared target folder for every baseline, the binary kept per commit), so later runs against
//! the same commit start at once. Every case runs on both binaries in rounds, the two runs of a
//! round back to back and their order swapped from one round to the next (new, base; base,
//! new; ...), so that load from other work on the machine falls on both alike. The measure is
//! events per CPU second of the eventgen process (user + system time from `wait4`), never wall
//! time: on a shared machine the wall time says more about the neighbours than about the
//! build. Each row shows the median ratio new/baseline over the rounds and the lowest and
//! highest ratio: the spread is the noise of that row on this machine at that moment.
//!
//! Cases: Eventgen's perf configs `tests/perf` test2 (the five-line windbag sample, one
//! timestamp token, ~41-byte events) and test3 (the same lines with five tokens), the web log
//! (case 4 of the throughput table), the windbag, counter, replay and jinja generators (cases
//! 5-8), each to devnull and to stdout into a pipe (`wc -c`), with 1 and 2 workers; then the
//! HEC output into the in-bench server (1 and 2 workers). For test2, test3 and the web log,
//! stdout also into `/dev/null`: this build's devnull runs should cost no more than those.
//!
//! Environment: `BENCH_BASELINE` (a commit, tag or branch of this repository, or the path of
//! an eventgen binary), `BENCH_QUICK=1` (one round of short runs, about a minute: a smoke
//! test, not a measurement), `BENCH_ROUNDS` (rounds, default 3; 1 in quick mode),
//! `BENCH_SECS` (CPU seconds per run of this build, default 0.5; 0.15 in quick mode),
//! `BENCH_CASES` (names to run, e.g. `test2,weblog`; default all), `BENCH_BIN` (the new
//! binary, default this build's).

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use super::{Case, Result, env_f64, parse_summary, write_cases};

/// The five lines of Eventgen's `windbag` sample shape: one timestamp, ~41 bytes.
const WINDBAG_LINES: &str = "\
2014-01-04 20:54:34 WINDBAG Event 1 of 5
2014-01-04 20:54:35 WINDBAG Event 2 of 5
2014-01-04 20:54:36 WINDBAG Event 3 of 5
2014-01-04 20:54:37 WINDBAG Event 4 of 5
2014-01-04 20:54:38 WINDBAG Event 5 of 5
";

/// The same lines with three random-number markers and a second time (test3's sample shape).
const WINDBAG_5_LINES: &str = "\
2014-01-04 20:54:34 WINDBAG Event 1 of 5 @@int1 @@int2 @@int3 20:54:34
2014-01-04 20:54:35 WINDBAG Event 2 of 5 @@int1 @@int2 @@int3 20:54:34
2014-01-04 20:54:36 WINDBAG Event 3 of 5 @@int1 @@int2 @@int3 20:54:34
2014-01-04 20:54:37 WINDBAG Event 4 of 5 @@int1 @@int2 @@int3 20:54:34
2014-01-04 20:54:38 WINDBAG Event 5 of 5 @@int1 @@int2 @@int3 20:54:34
";

/// Settings of Eventgen's perf configs besides the output and `perDayVolume`.
const PERF_META: &str = "index = eg\nsourcetype = eventgen-6\nsource = eg6.log\nhost = localhost\n";

const TEST2_TOKENS: &str = "\
token.0.token = \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}
token.0.replacementType = timestamp
token.0.replacement = %Y-%m-%d %H:%M:%S
";

const TEST3_REST: &str = "\
token.1.token = @@int1
token.1.replacementType = random
token.1.replacement = integer[0:9]
token.2.token = @@int2
token.2.replacementType = random
token.2.replacement = integer[0:9]
token.3.token = @@int3
token.3.replacementType = random
token.3.replacement = integer[0:9]
token.4.token = \\d{2}:\\d{2}:\\d{2}
token.4.replacementType = timestamp
token.4.replacement = %H:%M:%S
";

/// Events per interval (`-c`) of test2 and test3.
const PERF_PER_INTERVAL: u64 = 200_000;
/// Events of a HEC run (the mini server takes them at once).
const HEC_EVENTS: u64 = 300_000;
/// Events of the run that sizes a case.
const PILOT_EVENTS: u64 = 200_000;

/// Where a run's events go.
#[derive(Clone, Copy, PartialEq)]
enum Out {
    Devnull,
    /// `--output stdout` into a pipe read by `wc -c`.
    Pipe,
    /// `--output stdout` straight into `/dev/null`.
    Null,
    /// `outputMode = httpevent` into the in-bench HEC server.
    Hec,
}

impl Out {
    fn label(self) -> &'static str {
        match self {
            Out::Devnull => "devnull",
            Out::Pipe => "stdout|wc",
            Out::Null => "stdout>null",
            Out::Hec => "hec mini",
        }
    }
}

/// One case of the comparison.
struct Cmp {
    name: &'static str,
    /// The `-c` value and the events of one interval with it.
    case: Case,
    outs: Vec<Out>,
}

/// One run: events and the CPU and wall seconds of the eventgen process.
#[derive(Clone, Copy, Default)]
struct Run {
    events: u64,
    cpu: f64,
    wall: f64,
}

impl Run {
    fn per_cpu(&self) -> f64 {
        self.events as f64 / self.cpu.max(1e-3)
    }
}

pub fn run(spec: &str, new_bin: &Path, dir: &Path) -> Result<()> {
    let quick = std::env::var("BENCH_QUICK").is_ok_and(|v| v != "0");
    let rounds = env_f64("BENCH_ROUNDS", if quick { 1.0 } else { 3.0 }).max(1.0) as usize;
    let secs = env_f64("BENCH_SECS", if quick { 0.15 } else { 0.5 });
    let only: Option<Vec<String>> = std::env::var("BENCH_CASES").ok().map(|v| {
        v.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    });
    let (base_bin, base_label) = baseline(spec)?;
    let cases = cases(dir)?;
    let mut out = io::stdout().lock();
    writeln!(out, "eventgen comparison: new {}", new_bin.display())?;
    writeln!(
        out,
        "                     baseline {base_label} ({})",
        base_bin.display()
    )?;
    writeln!(
        out,
        "{rounds} rounds of ~{secs} CPU-s per run, new and baseline back to back in swapped \
         order; {} cpus, load average {}",
        super::cpus(),
        super::load_average()
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "{:<10} {:<11} {:>1} {:>10} {:>10} {:>9} {:>8} {:>8} {:>10}",
        "case", "output", "w", "new Mev/s", "base Mev/s", "new/base", "min", "max", "events"
    )?;
    writeln!(
        out,
        "{:<10} {:<11} {:>1} {:>10} {:>10}",
        "", "", "", "(per cpu-s)", "(per cpu-s)"
    )?;
    let started = Instant::now();
    let mut rows: Vec<Row> = Vec::new();
    for c in &cases {
        if only
            .as_ref()
            .is_some_and(|o| !o.iter().any(|n| n.as_str() == c.name))
        {
            continue;
        }
        let total = size(new_bin, c, secs)?;
        for &o in &c.outs {
            let workers: &[usize] = &[1, 2];
            for &w in workers {
                let mut new = Vec::new();
                let mut base = Vec::new();
                for r in 0..rounds {
                    // Round r: new first when r is even, baseline first when odd.
                    let order = if r % 2 == 0 {
                        [true, false]
                    } else {
                        [false, true]
                    };
                    for is_new in order {
                        let bin = if is_new { new_bin } else { &base_bin };
                        let m = measure(bin, c, o, w, total)?;
                        if is_new { &mut new } else { &mut base }.push(m);
                    }
                }
                let row = Row {
                    case: c.name,
                    out: o,
                    workers: w,
                    new,
                    base,
                };
                row.print(&mut out)?;
                rows.push(row);
            }
        }
    }
    writeln!(out)?;
    summary(&mut out, &rows)?;
    writeln!(
        out,
        "took {:.0} s; load average now {}",
        started.elapsed().as_secs_f64(),
        super::load_average()
    )?;
    Ok(())
}

/// The runs of one cell, both binaries.
struct Row {
    case: &'static str,
    out: Out,
    workers: usize,
    new: Vec<Run>,
    base: Vec<Run>,
}

impl Row {
    /// new/base of each round.
    fn ratios(&self) -> Vec<f64> {
        self.new
            .iter()
            .zip(&self.base)
            .map(|(n, b)| n.per_cpu() / b.per_cpu())
            .collect()
    }

    fn ratio(&self) -> f64 {
        median(&self.ratios())
    }

    fn new_rate(&self) -> f64 {
        median(&self.new.iter().map(Run::per_cpu).collect::<Vec<_>>())
    }

    fn print(&self, out: &mut impl Write) -> io::Result<()> {
        let ratios = self.ratios();
        let (lo, hi) = ratios
            .iter()
            .fold((f64::MAX, f64::MIN), |(l, h), &r| (l.min(r), h.max(r)));
        let events = self.new.first().map_or(0, |r| r.events);
        let differs = self.base.first().is_some_and(|b| b.events != events);
        writeln!(
            out,
            "{:<10} {:<11} {:>1} {:>10.2} {:>10.2} {:>9.3} {:>8.3} {:>8.3} {:>10}{}",
            self.case,
            self.out.label(),
            self.workers,
            self.new_rate() / 1e6,
            median(&self.base.iter().map(Run::per_cpu).collect::<Vec<_>>()) / 1e6,
            self.ratio(),
            lo,
            hi,
            events,
            if differs {
                format!(
                    " (baseline made {} events)",
                    self.base.first().map_or(0, |b| b.events)
                )
            } else {
                String::new()
            }
        )?;
        out.flush()
    }
}

/// The overall picture: ratios' geometric mean and extremes, and this build's devnull against
/// stdout into `/dev/null` per CPU second and over wall time.
fn summary(out: &mut impl Write, rows: &[Row]) -> io::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let ratios: Vec<f64> = rows.iter().map(Row::ratio).collect();
    let geo = (ratios.iter().map(|r| r.ln()).sum::<f64>() / ratios.len() as f64).exp();
    let spread = rows
        .iter()
        .map(|r| {
            let rs = r.ratios();
            let lo = rs.iter().copied().fold(f64::MAX, f64::min);
            let hi = rs.iter().copied().fold(f64::MIN, f64::max);
            hi / lo - 1.0
        })
        .fold(0.0, f64::max);
    let worst = rows
        .iter()
        .min_by(|a, b| a.ratio().total_cmp(&b.ratio()))
        .map(|r| {
            format!(
                "{} {} {}w {:.3}",
                r.case,
                r.out.label(),
                r.workers,
                r.ratio()
            )
        });
    writeln!(
        out,
        "new/base, events per CPU second: geometric mean {geo:.3} over {} rows; lowest: {}; \
         widest spread between rounds of one row: {:.0}%",
        rows.len(),
        worst.unwrap_or_default(),
        spread * 100.0
    )?;
    writeln!(
        out,
        "this build, devnull against stdout > /dev/null (medians; want both ratios >= 1):"
    )?;
    for r in rows.iter().filter(|r| r.out == Out::Devnull) {
        let Some(null) = rows
            .iter()
            .find(|x| x.case == r.case && x.workers == r.workers && x.out == Out::Null)
        else {
            continue;
        };
        let wall = |runs: &[Run]| median(&runs.iter().map(|m| m.wall).collect::<Vec<_>>());
        writeln!(
            out,
            "  {:<8} {}w: per cpu-s {:.3}, wall time stdout/devnull {:.3}",
            r.case,
            r.workers,
            r.new_rate() / null.new_rate(),
            wall(&null.new) / wall(&r.new)
        )?;
    }
    Ok(())
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The cases: test2 and test3 written here, the web log and the generators from the throughput
/// table's scenarios, HEC with test3's sample.
fn cases(dir: &Path) -> Result<Vec<Cmp>> {
    let table = write_cases(dir)?;
    let samples = dir.join("samples");
    fs::write(samples.join("windbag"), WINDBAG_LINES)?;
    fs::write(samples.join("windbag-5-tokens"), WINDBAG_5_LINES)?;
    let perf_case = |name: &str, sample: &str, settings: String| -> Result<Case> {
        let folder = dir.join(format!("cmp-{name}"));
        fs::create_dir_all(&folder)?;
        let conf = folder.join("eventgen.conf");
        fs::write(
            &conf,
            format!("[{sample}]\nsampleDir = ../samples\ninterval = 1\n{PERF_META}{settings}"),
        )?;
        Ok(Case {
            number: 0,
            name: "",
            conf,
            count_arg: PERF_PER_INTERVAL,
            per_interval: PERF_PER_INTERVAL,
        })
    };
    let test3 = format!("{TEST2_TOKENS}{TEST3_REST}");
    let hec =
        super::hec::write_compare_conf(dir, "windbag-5-tokens", &format!("{PERF_META}{test3}"))?;
    let sample_outs = vec![Out::Devnull, Out::Pipe, Out::Null];
    let generator_outs = vec![Out::Devnull, Out::Pipe];
    let mut cases = vec![
        Cmp {
            name: "test2",
            case: perf_case("test2", "windbag", TEST2_TOKENS.to_string())?,
            outs: sample_outs.clone(),
        },
        Cmp {
            name: "test3",
            case: perf_case("test3", "windbag-5-tokens", test3)?,
            outs: sample_outs.clone(),
        },
    ];
    for (number, name) in [
        (4, "weblog"),
        (5, "windbag"),
        (6, "counter"),
        (7, "replay"),
        (8, "jinja"),
    ] {
        let Some(case) = table.iter().find(|c| c.number == number) else {
            continue;
        };
        cases.push(Cmp {
            name,
            case: Case {
                number,
                name: case.name,
                conf: case.conf.clone(),
                count_arg: case.count_arg,
                per_interval: case.per_interval,
            },
            outs: if number == 4 {
                sample_outs.clone()
            } else {
                generator_outs.clone()
            },
        });
    }
    cases.push(Cmp {
        name: "hec",
        case: Case {
            number: 0,
            name: "",
            conf: hec,
            count_arg: super::hec::PER_INTERVAL,
            per_interval: super::hec::PER_INTERVAL,
        },
        outs: vec![Out::Hec],
    });
    Ok(cases)
}

/// Events per run of `c`: about `secs` CPU seconds of the new build (devnull, one worker), a
/// whole number of intervals; HEC a fixed number.
fn size(bin: &Path, c: &Cmp, secs: f64) -> Result<u64> {
    let per = c.case.per_interval;
    if c.outs.contains(&Out::Hec) {
        return Ok(HEC_EVENTS.div_ceil(per) * per);
    }
    let pilot = measure(bin, c, Out::Devnull, 1, PILOT_EVENTS.div_ceil(per) * per)?;
    // Replay loads its sample every run: at least a few passes, so the rate is the replay's.
    let least = if c.case.number == 7 { 5 } else { 1 };
    Ok(((pilot.per_cpu() * secs) as u64 / per).max(least) * per)
}

/// One run of `bin` on case `c` to `o` with `workers` workers, `total` events.
fn measure(bin: &Path, c: &Cmp, o: Out, workers: usize, total: u64) -> Result<Run> {
    let case = &c.case;
    let end = total.div_ceil(case.per_interval);
    let mut server = None;
    let conf = if o == Out::Hec {
        let s = super::hec::MiniHec::start()?;
        let conf = super::hec::conf_for(&case.conf, s.port)?;
        server = Some(s);
        conf
    } else {
        case.conf.clone()
    };
    let mut cmd = super::generate_command(bin, &conf, case.count_arg, end, workers);
    match o {
        Out::Devnull => {
            cmd.arg("--devnull").stdout(Stdio::null());
        }
        Out::Pipe => {
            cmd.args(["--output", "stdout"]).stdout(Stdio::piped());
        }
        Out::Null => {
            cmd.args(["--output", "stdout"]).stdout(Stdio::null());
        }
        Out::Hec => {
            cmd.stdout(Stdio::null());
        }
    }
    let started = Instant::now();
    let mut child = cmd.spawn()?;
    let reader = match child.stdout.take() {
        Some(pipe) => Some(
            Command::new("wc")
                .arg("-c")
                .stdin(pipe)
                .stdout(Stdio::null())
                .spawn()?,
        ),
        None => None,
    };
    let mut stderr = child.stderr.take().ok_or("no stderr pipe")?;
    let errors = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let (ok, cpu) = wait_cpu(&mut child)?;
    let wall = started.elapsed().as_secs_f64();
    let stderr = errors.join().unwrap_or_default();
    if let Some(mut r) = reader {
        r.wait()?;
    }
    drop(server);
    if !ok {
        return Err(format!("{} failed on {}: {stderr}", bin.display(), conf.display()).into());
    }
    let (events, _) = parse_summary(&stderr)
        .ok_or_else(|| format!("no summary line in eventgen's stderr: {stderr}"))?;
    Ok(Run { events, cpu, wall })
}

/// Waits for `child`; whether it exited with 0, and its user + system CPU seconds (from
/// `wait4`, in microseconds, where `/proc`'s figures are in clock ticks).
#[cfg(target_os = "linux")]
fn wait_cpu(child: &mut std::process::Child) -> Result<(bool, f64)> {
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: wait4 on our own child, with pointers to live locals of the right types.
        let got = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if got == pid {
            break;
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e.into());
        }
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    Ok((ok, secs(usage.ru_utime) + secs(usage.ru_stime)))
}

/// Elsewhere: the children's CPU time from `/proc` where there is one (clock ticks).
#[cfg(not(target_os = "linux"))]
fn wait_cpu(child: &mut std::process::Child) -> Result<(bool, f64)> {
    let hz = super::clock_ticks();
    let cpu0 = super::children_cpu(hz);
    let status = child.wait()?;
    Ok((status.success(), super::children_cpu(hz) - cpu0))
}

/// The baseline binary for `spec` and a label for it: the file itself when `spec` is one,
/// else the commit `spec` names, built once into `target/bench-baseline`.
fn baseline(spec: &str) -> Result<(PathBuf, String)> {
    let as_path = Path::new(spec);
    if as_path.is_file() {
        return Ok((as_path.to_path_buf(), spec.to_string()));
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rev = Command::new("git")
        .args(["rev-parse", "--verify", "--quiet"])
        .arg(format!("{spec}^{{commit}}"))
        .current_dir(root)
        .output()?;
    if !rev.status.success() {
        return Err(format!("BENCH_BASELINE={spec}: neither a file nor a commit").into());
    }
    let sha = String::from_utf8_lossy(&rev.stdout).trim().to_string();
    let short = &sha[..sha.len().min(10)];
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let cache = target.join("bench-baseline");
    let bin = cache.join("bin").join(&sha).join("eventgen");
    let label = format!("{spec} = {short}");
    if bin.is_file() {
        return Ok((bin, label));
    }
    let src = cache.join("src").join(&sha);
    if !src.join("Cargo.toml").is_file() {
        eprintln!("bench: extracting {short} into {}", src.display());
        fs::create_dir_all(&src)?;
        let status = Command::new("sh")
            .arg("-c")
            .arg("git archive --format=tar \"$1\" | tar -x -C \"$2\"")
            .args(["sh", &sha])
            .arg(&src)
            .current_dir(root)
            .status()?;
        if !status.success() {
            let _ = fs::remove_dir_all(&src);
            return Err(format!("git archive {sha} failed: {status}").into());
        }
    }
    eprintln!(
        "bench: building {short} (once; kept in {})",
        cache.display()
    );
    let shared_target = cache.join("target");
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--release", "--bin", "eventgen", "--target-dir"])
        .arg(&shared_target)
        .current_dir(&src)
        .status()?;
    let built = shared_target.join("release").join("eventgen");
    if !status.success() || !built.is_file() {
        return Err(format!("building {sha} failed: {status}").into());
    }
    fs::create_dir_all(bin.parent().ok_or("no parent")?)?;
    fs::copy(&built, &bin)?;
    Ok((bin, label))
}
