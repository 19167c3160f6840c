//! Sorting a job's random event times in linear time.
//!
//! A job of the sample path draws its events' times uniformly from its window and sorts them.
//! `sort_unstable` takes O(n log n) comparisons: about 300 instructions per event for a job of
//! 4,096 events, a tenth of a web-log event's cost. Uniform values spread evenly over buckets
//! of equal width, so counting them into buckets and finishing with an insertion sort (which
//! only has to move values within their bucket) is linear.

use crate::timing::Micros;

/// Below this many values the standard sort is as fast.
const SMALL: usize = 64;

/// Reusable buffers of [`sort_uniform`].
#[derive(Debug, Default)]
pub struct SortBuffers {
    out: Vec<Micros>,
    starts: Vec<u32>,
}

/// Sorts `times`, all in `[lo, lo + span)`, in ascending order: the same result as
/// `sort_unstable`, in linear time when the values are spread evenly over the range.
pub fn sort_uniform(times: &mut Vec<Micros>, lo: Micros, span: u64, buf: &mut SortBuffers) {
    let n = times.len();
    if n < SMALL || span == 0 || n > u32::MAX as usize {
        times.sort_unstable();
        return;
    }
    // A value's bucket never decreases as the value grows (each step below rounds
    // monotonically), so the buckets come out in order; the last pass sorts within them.
    let buckets = n;
    let scale = buckets as f64 / span as f64;
    let bucket = |t: Micros| ((t.wrapping_sub(lo) as u64 as f64 * scale) as usize).min(buckets - 1);
    let starts = &mut buf.starts;
    starts.clear();
    starts.resize(buckets + 1, 0);
    for &t in times.iter() {
        starts[bucket(t) + 1] += 1;
    }
    for b in 1..=buckets {
        starts[b] += starts[b - 1];
    }
    let out = &mut buf.out;
    out.clear();
    out.resize(n, 0);
    for &t in times.iter() {
        let b = bucket(t);
        out[starts[b] as usize] = t;
        starts[b] += 1;
    }
    insertion_sort(out);
    std::mem::swap(times, out);
}

/// Sorts `v`; linear when every value is already near its place.
fn insertion_sort(v: &mut [Micros]) {
    for i in 1..v.len() {
        let x = v[i];
        let mut j = i;
        while j > 0 && v[j - 1] > x {
            v[j] = v[j - 1];
            j -= 1;
        }
        v[j] = x;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn check(times: Vec<Micros>, lo: Micros, span: u64, buf: &mut SortBuffers) {
        let mut want = times.clone();
        want.sort_unstable();
        let mut got = times;
        sort_uniform(&mut got, lo, span, buf);
        assert_eq!(got, want, "lo {lo} span {span}");
    }

    #[test]
    fn uniform_draws_sort_as_the_standard_sort_does() {
        let mut rng = Rng::seed(7);
        let mut buf = SortBuffers::default();
        for (n, lo, span) in [
            (4096, 1_700_000_000_000_000, 1_000_001),
            (100, -5_000_000, 3),
            (65, 0, 1),
            (5000, i64::MIN / 2, u64::MAX / 4),
            (3000, 0, 86_400_000_001),
        ] {
            let times = (0..n).map(|_| lo + rng.below(span) as i64).collect();
            check(times, lo, span, &mut buf);
        }
    }

    #[test]
    fn uneven_and_small_inputs_are_still_sorted() {
        let mut buf = SortBuffers::default();
        // Everything in one bucket, descending: the insertion sort does all the work.
        check((0..200).rev().collect(), 0, 1_000_000_000, &mut buf);
        // Every value at the range's ends.
        check(
            (0..300).map(|i| if i % 2 == 0 { 0 } else { 999 }).collect(),
            0,
            1000,
            &mut buf,
        );
        check(vec![5, 3, 9], 0, 10, &mut buf);
        check(Vec::new(), 0, 10, &mut buf);
    }
}
