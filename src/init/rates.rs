//! Rates: `count` and `interval` from the input's events per second, when its timestamps
//! span time.

/// Seconds between intervals unless the input is sparser than one event a minute.
pub const DEFAULT_INTERVAL: u64 = 60;
/// Longest interval init writes: slower inputs get one event per hour.
pub const MAX_INTERVAL: u64 = 3600;
/// `count` when the input's timestamps give no rate (no times, or all the same second).
pub const DEFAULT_COUNT: u64 = 10;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub count: u64,
    pub interval: u64,
    /// Events per second of the input, when its times span at least a second.
    pub per_second: Option<f64>,
    /// First and last event time (epoch seconds).
    pub span: Option<(i64, i64)>,
}

/// The rate of `events` events whose first timestamps are `times`.
pub fn estimate(times: &[Option<i64>], events: usize) -> Rate {
    let known: Vec<i64> = times.iter().flatten().copied().collect();
    let (Some(&lo), Some(&hi)) = (known.iter().min(), known.iter().max()) else {
        return Rate {
            count: (events as u64).clamp(1, DEFAULT_COUNT),
            interval: DEFAULT_INTERVAL,
            per_second: None,
            span: None,
        };
    };
    if hi <= lo || known.len() < 2 {
        return Rate {
            count: (events as u64).clamp(1, DEFAULT_COUNT),
            interval: DEFAULT_INTERVAL,
            per_second: None,
            span: Some((lo, hi)),
        };
    }
    // n events over (hi - lo) seconds: n - 1 gaps.
    let eps = (events.max(2) - 1) as f64 / (hi - lo) as f64;
    let mut interval = DEFAULT_INTERVAL;
    if eps * (DEFAULT_INTERVAL as f64) < 1.0 {
        interval = ((1.0 / eps).round() as u64).clamp(DEFAULT_INTERVAL, MAX_INTERVAL);
    }
    let count = ((eps * interval as f64).round() as u64).max(1);
    Rate {
        count,
        interval,
        per_second: Some(eps),
        span: Some((lo, hi)),
    }
}

/// Sorts events by time (an event without one keeps the time of the event before it), for
/// replay. `false` when they were in order already.
pub fn sort_by_time(events: &mut Vec<String>, times: &mut Vec<Option<i64>>) -> bool {
    let mut last = i64::MIN;
    let keys: Vec<i64> = times
        .iter()
        .map(|t| {
            if let Some(t) = t {
                last = *t;
            }
            last
        })
        .collect();
    if keys.windows(2).all(|w| w[0] <= w[1]) {
        return false;
    }
    let mut order: Vec<usize> = (0..events.len()).collect();
    order.sort_by_key(|&i| keys[i]);
    *events = order
        .iter()
        .map(|&i| std::mem::take(&mut events[i]))
        .collect();
    *times = order.iter().map(|&i| times[i]).collect();
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_the_span() {
        // 61 events a second apart: 1 event/s, 60 a minute.
        let times: Vec<Option<i64>> = (0..61).map(|i| Some(1_700_000_000 + i)).collect();
        let r = estimate(&times, 61);
        assert_eq!((r.count, r.interval), (60, 60));
        // 3 events an hour apart: one every 3600 s.
        let times = [Some(0), Some(3600), Some(7200)];
        let r = estimate(&times, 3);
        assert_eq!((r.count, r.interval), (1, 3600));
        let r = estimate(&[None, None], 2);
        assert_eq!((r.count, r.interval, r.per_second), (2, 60, None));
    }

    #[test]
    fn replay_order() {
        let mut ev: Vec<String> = ["b", "b2", "a", "c"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut t = vec![Some(20), None, Some(10), Some(30)];
        assert!(sort_by_time(&mut ev, &mut t));
        assert_eq!(ev, ["a", "b", "b2", "c"]);
        assert!(!sort_by_time(&mut ev, &mut t));
    }
}
