//! [`Done`]: a one-way flag that helper threads (reporter, stop watcher, metrics server, progress
//! display) wait on between their periodic checks. Raising it wakes them at once, so the end of
//! a run is not held back by a sleeping helper: a short run (a test, a `--end 1` check, a bench
//! row) exits as soon as its events are out instead of up to one poll period later.

use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

#[derive(Default)]
pub struct Done {
    raised: Mutex<bool>,
    cv: Condvar,
}

impl Done {
    pub fn new() -> Done {
        Done::default()
    }

    /// Raises the flag and wakes every waiter.
    pub fn raise(&self) {
        *self.raised.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.cv.notify_all();
    }

    pub fn is_raised(&self) -> bool {
        *self.raised.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits up to `timeout` for the flag; true when it is raised (at once or during the wait).
    pub fn wait(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut raised = self.raised.lock().unwrap_or_else(PoisonError::into_inner);
        while !*raised {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            raised = self
                .cv
                .wait_timeout(raised, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn wait_times_out_while_low_and_returns_at_once_when_raised() {
        let done = Arc::new(Done::new());
        assert!(!done.wait(Duration::from_millis(5)));
        assert!(!done.is_raised());
        let waiter = {
            let done = done.clone();
            std::thread::spawn(move || {
                let t = Instant::now();
                let raised = done.wait(Duration::from_secs(30));
                (raised, t.elapsed())
            })
        };
        std::thread::sleep(Duration::from_millis(20));
        done.raise();
        let (raised, waited) = waiter.join().unwrap();
        assert!(raised);
        assert!(waited < Duration::from_secs(30));
        assert!(done.is_raised());
        assert!(done.wait(Duration::ZERO));
    }
}
