//! The clock that drives schedules: real time, or a virtual clock that starts at a given
//! instant and jumps to each deadline at once (for `--now`: days of history in seconds, and
//! byte-identical reruns).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::Micros;

/// Longest single sleep, so a stop request is seen quickly.
const SLEEP_SLICE: Duration = Duration::from_millis(20);

#[derive(Debug, Clone, Copy)]
pub enum Clock {
    Real,
    Virtual { now: Micros },
}

pub fn wall_now() -> Micros {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as Micros)
        .unwrap_or(0)
}

impl Clock {
    pub fn now(&self) -> Micros {
        match self {
            Clock::Real => wall_now(),
            Clock::Virtual { now } => *now,
        }
    }

    pub fn is_virtual(&self) -> bool {
        matches!(self, Clock::Virtual { .. })
    }

    /// Waits until `deadline`. Returns `false` if `stop` was raised first.
    pub fn wait_until(&mut self, deadline: Micros, stop: &Arc<AtomicBool>) -> bool {
        match self {
            Clock::Virtual { now } => {
                if deadline > *now {
                    *now = deadline;
                }
                !stop.load(Ordering::Relaxed)
            }
            Clock::Real => loop {
                if stop.load(Ordering::Relaxed) {
                    return false;
                }
                let left = deadline - wall_now();
                if left <= 0 {
                    return true;
                }
                std::thread::sleep(Duration::from_micros(left as u64).min(SLEEP_SLICE));
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_clock_jumps_and_never_goes_back() {
        let stop = Arc::new(AtomicBool::new(false));
        let mut c = Clock::Virtual { now: 100 };
        assert!(c.wait_until(5_000_000_000, &stop));
        assert_eq!(c.now(), 5_000_000_000);
        assert!(c.wait_until(10, &stop));
        assert_eq!(c.now(), 5_000_000_000);
        stop.store(true, Ordering::Relaxed);
        assert!(!c.wait_until(6_000_000_000, &stop));
    }

    #[test]
    fn real_clock_returns_at_once_for_past_deadlines() {
        let stop = Arc::new(AtomicBool::new(false));
        let mut c = Clock::Real;
        assert!(c.wait_until(0, &stop));
    }
}
