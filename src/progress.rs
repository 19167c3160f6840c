//! What a run shows while it runs, on stderr: a progress bar when stderr is a terminal (the
//! event time reached, events, rate, and with a known end percent and ETA), and with `-v` a
//! stats line every few seconds. One thread reads the shared [`Stats`]; nothing here touches
//! stdout, which belongs to the outputs.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::signal::Done;
use crate::stats::Stats;
use crate::timing::Micros;

/// Default seconds between `-v` stats lines.
pub const STATS_EVERY: Duration = Duration::from_secs(10);
/// How often the bar is redrawn: often enough to look alive, rarely enough to cost nothing.
const REDRAW: Duration = Duration::from_millis(200);
/// Steps of the bar: per mille, so percent has one decimal to spare.
const BAR_STEPS: u64 = 1000;

/// What to show.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProgressOptions {
    /// Draw a progress bar on stderr (the caller checks that stderr is a terminal).
    pub bar: bool,
    /// Print a stats line this often.
    pub stats_every: Option<Duration>,
}

/// Whether a bar can be drawn: stderr is a terminal, and stdout is not that same terminal
/// (events written under a bar that redraws itself would leave old bar lines among them).
pub fn bar_fits_terminal() -> bool {
    use std::io::IsTerminal;
    use std::os::fd::{AsFd, BorrowedFd};
    use std::os::unix::fs::MetadataExt;
    let (out, err) = (std::io::stdout(), std::io::stderr());
    if !err.is_terminal() {
        return false;
    }
    if !out.is_terminal() {
        return true;
    }
    let device = |fd: BorrowedFd<'_>| {
        let file = std::fs::File::from(fd.try_clone_to_owned().ok()?);
        file.metadata().ok().map(|m| (m.dev(), m.ino(), m.rdev()))
    };
    match (device(out.as_fd()), device(err.as_fd())) {
        (Some(o), Some(e)) => o != e,
        _ => false,
    }
}

impl ProgressOptions {
    fn any(&self) -> bool {
        self.bar || self.stats_every.is_some()
    }
}

/// The running display; [`Progress::finish`] stops it and clears the bar.
pub struct Progress {
    stop: Arc<Done>,
    handle: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts the display thread, if anything is to be shown.
    pub fn start(opts: ProgressOptions, stats: Arc<Stats>) -> Progress {
        let stop = Arc::new(Done::new());
        let handle = if opts.any() {
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("progress".into())
                .spawn(move || show(opts, &stats, &stop))
                .ok()
        } else {
            None
        };
        Progress { stop, handle }
    }

    pub fn finish(mut self) {
        self.end();
    }

    fn end(&mut self) {
        self.stop.raise();
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.end();
    }
}

fn show(opts: ProgressOptions, stats: &Stats, stop: &Done) {
    let started = Instant::now();
    let bar = if opts.bar {
        new_bar(stats.span().is_some())
    } else {
        ProgressBar::hidden()
    };
    let mut last_line = (started, 0u64);
    let mut last_draw = started - REDRAW;
    let mut has_span = stats.span().is_some();
    while !stop.wait(Duration::from_millis(50)) {
        let now = Instant::now();
        if opts.bar && now.duration_since(last_draw) >= REDRAW {
            last_draw = now;
            // The scheduler sets the span once it has started.
            if !has_span && stats.span().is_some() {
                has_span = true;
                bar.set_style(style(true));
                bar.set_length(BAR_STEPS);
            }
            if let Some(f) = stats.fraction() {
                bar.set_position((f * BAR_STEPS as f64) as u64);
            }
            bar.set_message(status(stats, now.duration_since(started)));
            bar.tick();
        }
        if let Some(every) = opts.stats_every
            && now.duration_since(last_line.0) >= every
        {
            let events = stats.total_events();
            let secs = now.duration_since(last_line.0).as_secs_f64();
            let line = stats_line(
                stats,
                now.duration_since(started),
                events - last_line.1,
                secs,
            );
            // Through the logger, like every other message (redaction, eventgen.log).
            bar.suspend(|| crate::log::info(line.trim_start_matches("INFO ")));
            last_line = (now, events);
        }
    }
    bar.finish_and_clear();
}

fn new_bar(has_span: bool) -> ProgressBar {
    let bar =
        ProgressBar::with_draw_target(has_span.then_some(BAR_STEPS), ProgressDrawTarget::stderr());
    bar.set_style(style(has_span));
    bar
}

fn style(has_span: bool) -> ProgressStyle {
    let template = if has_span {
        "{bar:20} {percent:>3}% {msg} · ETA {eta}"
    } else {
        "{spinner} {msg}"
    };
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("█▉▊▋▌▍▎▏ ")
}

/// `2024-01-03 04:00:00Z · 1.2M events · 45.7k/s`, short enough for an 80-column terminal.
fn status(stats: &Stats, elapsed: Duration) -> String {
    let events = stats.total_events();
    let rate = events as f64 / elapsed.as_secs_f64().max(1e-3);
    format!(
        "{} · {} events · {}/s",
        stats.position().map_or("-".into(), |p| utc(p, " ", "Z")),
        short(events as f64),
        short(rate)
    )
}

/// 1234 -> `1.2k`, 5_600_000 -> `5.6M`.
fn short(n: f64) -> String {
    match n {
        n if n >= 1e9 => format!("{:.1}G", n / 1e9),
        n if n >= 1e6 => format!("{:.1}M", n / 1e6),
        n if n >= 1e3 => format!("{:.1}k", n / 1e3),
        n => format!("{n:.0}"),
    }
}

/// `INFO progress: 1234567 events (12.3 MB) in 20s; 61728 events/s over the last 10.0s; at
/// 2024-01-03T04:00:00Z (42.0%)`
fn stats_line(stats: &Stats, elapsed: Duration, recent: u64, recent_secs: f64) -> String {
    let mut line = format!(
        "INFO progress: {} events ({:.1} MB) in {:.0}s; {:.0} events/s over the last {:.1}s",
        stats.total_events(),
        stats.total_bytes() as f64 / 1e6,
        elapsed.as_secs_f64(),
        recent as f64 / recent_secs.max(1e-3),
        recent_secs
    );
    if let Some(p) = stats.position() {
        line.push_str(&format!("; at {}", utc(p, "T", "Z")));
    }
    if let Some(f) = stats.fraction() {
        line.push_str(&format!(" ({:.1}%)", f * 100.0));
    }
    line
}

fn utc(t: Micros, sep: &str, zone: &str) -> String {
    chrono::DateTime::from_timestamp_micros(t).map_or_else(
        || t.to_string(),
        |d| {
            format!(
                "{}{sep}{}{zone}",
                d.format("%Y-%m-%d"),
                d.format("%H:%M:%S")
            )
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_line_reports_totals_rate_position_and_percent() {
        let stats = Stats::new(1);
        stats.add(0, 500, 2_000_000);
        // 2024-01-01T00:00:00Z to 2024-01-02T00:00:00Z, a quarter of the way.
        let day = 86_400_000_000;
        let from = 1_704_067_200_000_000;
        stats.set_span(from, Some(from + day));
        stats.set_position(from + day / 4);
        let line = stats_line(&stats, Duration::from_secs(20), 100, 10.0);
        assert_eq!(
            line,
            "INFO progress: 500 events (2.0 MB) in 20s; 10 events/s over the last 10.0s; \
             at 2024-01-01T06:00:00Z (25.0%)"
        );
        assert_eq!(
            status(&stats, Duration::from_secs(2)),
            "2024-01-01 06:00:00Z · 500 events · 250/s"
        );
        assert_eq!(short(5_612_345.0), "5.6M");
        stats.set_span(from, None);
        assert_eq!(stats.fraction(), None);
        assert!(!stats_line(&stats, Duration::from_secs(1), 0, 1.0).contains('%'));
    }
}
