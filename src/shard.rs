//! Shards: one process's share of a run, so that N processes (Kubernetes pods, forwarders)
//! together generate exactly what one process would.
//!
//! Every shard runs the whole schedule: the same firings, counts, counter bases and job seeds
//! (the scheduler never looks at what was generated when sharded; see `pipeline`). Only the
//! jobs are divided: job `j` of sample `s` belongs to shard `(j + s) mod N`. Jobs of one
//! sample go round-robin, and the offset by sample spreads samples that fire one job per
//! interval over different shards. With `--seed` and `--now` the N shards' events are the
//! unsharded run's events, each produced by exactly one shard.

/// `K/N`: this process is shard `index` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

/// The Kubernetes Indexed Job variable that numbers a pod (0 to completions - 1).
pub const INDEX_VAR: &str = "JOB_COMPLETION_INDEX";
/// How many shards `auto` means, when the flag does not say (`auto/N`).
pub const COUNT_VAR: &str = "EVENTGEN_SHARDS";

impl Default for Shard {
    fn default() -> Shard {
        Shard::WHOLE
    }
}

impl Shard {
    /// The whole run (no sharding).
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Parses `K/N`, `auto` or `auto/N`; `env` looks up environment variables (for `auto`).
    /// `what` names the setting in messages (`--shard`, `shard`).
    pub fn parse(
        spec: &str,
        what: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Shard, String> {
        let spec = spec.trim();
        let (k, n) = spec.split_once('/').unwrap_or((spec, ""));
        let (k, n) = (k.trim(), n.trim());
        let count_of = |text: &str, from: &str| -> Result<u64, String> {
            match text.parse::<u64>() {
                Ok(0) => Err(format!(
                    "{what} {spec}: {from} must be at least 1 (the number of shards)"
                )),
                Ok(n) => Ok(n),
                Err(_) => Err(format!(
                    "{what} {spec}: {from} must be a whole number of shards, got {text:?}"
                )),
            }
        };
        let (index, count) = if k.eq_ignore_ascii_case("auto") {
            let index_text = env(INDEX_VAR).ok_or_else(|| {
                format!(
                    "{what} auto: {INDEX_VAR} is not set (Kubernetes sets it in the pods of an \
                     Indexed Job); give K/N instead"
                )
            })?;
            let index = index_text.trim().parse::<u64>().map_err(|_| {
                format!("{what} auto: {INDEX_VAR} must be a whole number, got {index_text:?}")
            })?;
            let from_env = env(COUNT_VAR);
            let count = match (n.is_empty(), from_env) {
                (false, Some(e)) if e.trim() != n => {
                    return Err(format!(
                        "{what} {spec}: {COUNT_VAR}={e} says another number of shards"
                    ));
                }
                (false, _) => count_of(n, "N")?,
                (true, Some(e)) => count_of(e.trim(), COUNT_VAR)?,
                (true, None) => {
                    return Err(format!(
                        "{what} auto: the number of shards is unknown; set {COUNT_VAR} (the \
                         Job's completions) or give auto/N"
                    ));
                }
            };
            (index, count)
        } else {
            if n.is_empty() {
                return Err(format!(
                    "{what} {spec:?}: expected K/N (shard K of N, K from 0 to N-1, e.g. 0/4) or auto"
                ));
            }
            let index = k.parse::<u64>().map_err(|_| {
                format!("{what} {spec}: K must be a whole number from 0 to N-1, got {k:?}")
            })?;
            (index, count_of(n, "N")?)
        };
        if index >= count {
            return Err(format!(
                "{what} {spec}: shard {index} does not exist among {count} (shards are numbered \
                 0 to {})",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }

    /// `true` if this is the whole run.
    pub fn is_whole(&self) -> bool {
        self.count == 1
    }

    /// Whether job number `job` of sample `sample` (counted from 0 in scheduling order) is
    /// this shard's.
    pub fn owns(&self, sample: usize, job: u64) -> bool {
        self.count <= 1 || (job.wrapping_add(sample as u64)) % self.count == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn env_of(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn parses_k_of_n() {
        assert_eq!(
            Shard::parse("2/4", "--shard", no_env),
            Ok(Shard { index: 2, count: 4 })
        );
        assert_eq!(Shard::parse(" 0/1 ", "--shard", no_env), Ok(Shard::WHOLE));
    }

    #[test]
    fn bad_specs_say_what_is_wrong() {
        let e = |s| Shard::parse(s, "--shard", no_env).unwrap_err();
        assert!(
            e("3/3").contains("shard 3 does not exist among 3"),
            "{}",
            e("3/3")
        );
        assert!(
            e("a/b").contains("K must be a whole number"),
            "{}",
            e("a/b")
        );
        assert!(e("0/0").contains("N must be at least 1"), "{}", e("0/0"));
        assert!(e("2").contains("expected K/N"), "{}", e("2"));
        assert!(
            e("1/x").contains("N must be a whole number"),
            "{}",
            e("1/x")
        );
        assert!(e("-1/3").contains("K must be"), "{}", e("-1/3"));
    }

    #[test]
    fn auto_reads_the_indexed_job_variables() {
        let env = env_of(&[(INDEX_VAR, "3"), (COUNT_VAR, "5")]);
        assert_eq!(
            Shard::parse("auto", "--shard", &env),
            Ok(Shard { index: 3, count: 5 })
        );
        assert_eq!(
            Shard::parse("auto/5", "--shard", &env),
            Ok(Shard { index: 3, count: 5 })
        );
        assert!(
            Shard::parse("auto/4", "--shard", &env)
                .unwrap_err()
                .contains("another number")
        );
        let only_index = env_of(&[(INDEX_VAR, "1")]);
        assert_eq!(
            Shard::parse("auto/2", "--shard", &only_index),
            Ok(Shard { index: 1, count: 2 })
        );
        assert!(
            Shard::parse("auto", "--shard", &only_index)
                .unwrap_err()
                .contains(COUNT_VAR)
        );
        assert!(
            Shard::parse("auto/2", "--shard", no_env)
                .unwrap_err()
                .contains(INDEX_VAR)
        );
        let out_of_range = env_of(&[(INDEX_VAR, "2"), (COUNT_VAR, "2")]);
        assert!(
            Shard::parse("auto", "--shard", &out_of_range)
                .unwrap_err()
                .contains("does not exist")
        );
    }

    #[test]
    fn every_job_has_exactly_one_owner_and_shares_are_even() {
        for n in 1..=5u64 {
            let shards: Vec<Shard> = (0..n).map(|index| Shard { index, count: n }).collect();
            let mut per_shard = vec![0u64; n as usize];
            for sample in 0..4 {
                for job in 0..100 {
                    let owners: Vec<&Shard> =
                        shards.iter().filter(|s| s.owns(sample, job)).collect();
                    assert_eq!(owners.len(), 1);
                    per_shard[owners[0].index as usize] += 1;
                }
            }
            let (lo, hi) = (per_shard.iter().min(), per_shard.iter().max());
            assert!(hi.unwrap() - lo.unwrap() <= 4, "{per_shard:?}");
        }
        // One job per interval from each of three samples: each shard gets one per interval.
        let s = |index| Shard { index, count: 3 };
        for k in 0..3 {
            assert_eq!((0..3).filter(|&sample| s(k).owns(sample, 0)).count(), 1);
        }
    }
}
