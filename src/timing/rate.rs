//! Rate factors: `randomizeCount`, `hourOfDayRate`, `dayOfWeekRate` (Splunk numbering,
//! 0 = Sunday), `minuteOfHourRate`, `dayOfMonthRate`, `monthOfYearRate`, and Python's
//! round-half-even that turns a rated count into events.

use chrono::{DateTime, Datelike, FixedOffset, Timelike};

use crate::rng::Rng;

/// One rate table: the multiplier for each key (`"0"`..`"23"` for hours, and so on).
#[derive(Debug, Clone, PartialEq)]
pub struct RateTable {
    /// Indexed by the key's number; `None` where the table has no entry (factor 1).
    factors: Vec<Option<f64>>,
}

impl RateTable {
    /// Parses Eventgen's JSON object form (`{"0": 0.5, "1": 0.3, ...}`), keys from `lo` to
    /// `hi`. Values must be numbers.
    pub fn parse(json: &str, lo: usize, hi: usize) -> Result<RateTable, String> {
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| format!("expected a JSON object, {e}"))?;
        let obj = value
            .as_object()
            .ok_or_else(|| "expected a JSON object such as {\"0\": 0.5, \"1\": 1.2}".to_string())?;
        let mut factors = vec![None; hi + 1];
        for (k, v) in obj {
            let idx: usize = k
                .trim()
                .parse()
                .map_err(|_| format!("key {k:?} is not a number in {lo}..{hi}"))?;
            if idx < lo || idx > hi {
                return Err(format!("key {k:?} is outside {lo}..{hi}"));
            }
            let f = v
                .as_f64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                .ok_or_else(|| format!("value of {k:?} is not a number"))?;
            if !f.is_finite() || f < 0.0 {
                return Err(format!("value of {k:?} must be a finite number >= 0"));
            }
            factors[idx] = Some(f);
        }
        Ok(RateTable { factors })
    }

    pub fn factor(&self, key: usize) -> f64 {
        self.factors.get(key).copied().flatten().unwrap_or(1.0)
    }

    /// The largest factor of keys `lo..` (keys without an entry count 1).
    fn max_factor(&self, lo: usize) -> f64 {
        self.factors
            .iter()
            .skip(lo)
            .map(|f| f.unwrap_or(1.0))
            .fold(0.0, f64::max)
    }
}

/// All rate settings of a sample.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rates {
    pub randomize_count: Option<f64>,
    pub hour_of_day: Option<RateTable>,
    pub day_of_week: Option<RateTable>,
    pub minute_of_hour: Option<RateTable>,
    pub day_of_month: Option<RateTable>,
    pub month_of_year: Option<RateTable>,
}

/// Splunk's weekday numbering: 0 = Sunday ... 6 = Saturday.
pub fn splunk_weekday(t: &DateTime<FixedOffset>) -> usize {
    t.weekday().num_days_from_sunday() as usize
}

impl Rates {
    /// The calendar factor of the count for the sample clock reading `t` (no randomness).
    pub fn calendar_factor(&self, t: &DateTime<FixedOffset>) -> f64 {
        let mut f = 1.0;
        if let Some(r) = &self.hour_of_day {
            f *= r.factor(t.hour() as usize);
        }
        if let Some(r) = &self.day_of_week {
            f *= r.factor(splunk_weekday(t));
        }
        if let Some(r) = &self.minute_of_hour {
            f *= r.factor(t.minute() as usize);
        }
        if let Some(r) = &self.day_of_month {
            f *= r.factor(t.day() as usize);
        }
        if let Some(r) = &self.month_of_year {
            f *= r.factor(t.month() as usize);
        }
        f
    }

    /// The largest calendar factor any time can get, and the key of the table that
    /// contributes most to it (`None` when no table raises the count).
    pub fn max_calendar_factor(&self) -> (f64, Option<&'static str>) {
        let tables = [
            ("hourOfDayRate", &self.hour_of_day, 0),
            ("dayOfWeekRate", &self.day_of_week, 0),
            ("minuteOfHourRate", &self.minute_of_hour, 0),
            ("dayOfMonthRate", &self.day_of_month, 1),
            ("monthOfYearRate", &self.month_of_year, 1),
        ];
        let mut product = 1.0;
        let mut biggest: (f64, Option<&'static str>) = (1.0, None);
        for (key, table, lo) in tables {
            if let Some(t) = table {
                let m = t.max_factor(lo);
                product *= m;
                if m > biggest.0 {
                    biggest = (m, Some(key));
                }
            }
        }
        (product, biggest.1)
    }

    /// Eventgen's `randomizeCount` factor: `1 + (k - B/2)/1000` with `B = round(r*1000)` and
    /// `k` uniform in `0..=B`, i.e. within ±r/2.
    pub fn random_factor(&self, rng: &mut Rng) -> f64 {
        match self.randomize_count {
            Some(r) if r > 0.0 => {
                let b = round_half_even(r * 1000.0).max(0);
                let k = rng.range_inclusive(0, b);
                1.0 + (k as f64 - b as f64 / 2.0) / 1000.0
            }
            _ => 1.0,
        }
    }

    /// The number of events for an interval: `count` times all factors, rounded half-even.
    pub fn rated_count(&self, count: u64, t: &DateTime<FixedOffset>, rng: &mut Rng) -> u64 {
        let f = self.random_factor(rng) * self.calendar_factor(t);
        round_half_even(count as f64 * f).max(0) as u64
    }

    /// The factor for `rated` tokens: hour of day and day of week only, as in Eventgen.
    pub fn token_factor(&self, t: &DateTime<FixedOffset>) -> f64 {
        let mut f = 1.0;
        if let Some(r) = &self.hour_of_day {
            f *= r.factor(t.hour() as usize);
        }
        if let Some(r) = &self.day_of_week {
            f *= r.factor(splunk_weekday(t));
        }
        f
    }
}

/// Python's `round()`: halves go to the even neighbour.
pub fn round_half_even(x: f64) -> i64 {
    let r = x.round();
    if (x - x.trunc()).abs() == 0.5 {
        let t = x.trunc();
        if (t as i64) % 2 == 0 {
            t as i64
        } else {
            r as i64
        }
    } else {
        r as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn banker_rounding() {
        assert_eq!(round_half_even(2.5), 2);
        assert_eq!(round_half_even(3.5), 4);
        assert_eq!(round_half_even(-2.5), -2);
        assert_eq!(round_half_even(2.6), 3);
        assert_eq!(round_half_even(0.4999), 0);
    }

    #[test]
    fn calendar_factors_use_splunk_numbering() {
        let utc = FixedOffset::east_opt(0).unwrap();
        // 2024-03-03 is a Sunday.
        let t = utc.with_ymd_and_hms(2024, 3, 3, 5, 7, 0).unwrap();
        let rates = Rates {
            hour_of_day: Some(RateTable::parse(r#"{"5": 0.5}"#, 0, 23).unwrap()),
            day_of_week: Some(RateTable::parse(r#"{"0": 3, "1": 100}"#, 0, 6).unwrap()),
            month_of_year: Some(RateTable::parse(r#"{"3": 2}"#, 1, 12).unwrap()),
            ..Rates::default()
        };
        assert_eq!(rates.calendar_factor(&t), 3.0);
        let mut rng = Rng::seed(1);
        assert_eq!(rates.rated_count(5, &t, &mut rng), 15);
        assert_eq!(rates.token_factor(&t), 1.5);
        assert_eq!(rates.max_calendar_factor(), (200.0, Some("dayOfWeekRate")));
        assert_eq!(Rates::default().max_calendar_factor(), (1.0, None));
    }

    #[test]
    fn randomize_count_stays_within_half_r() {
        let rates = Rates {
            randomize_count: Some(0.2),
            ..Rates::default()
        };
        let mut rng = Rng::seed(3);
        for _ in 0..1000 {
            let f = rates.random_factor(&mut rng);
            assert!((0.9..=1.1).contains(&f), "{f}");
        }
    }

    #[test]
    fn bad_tables_are_rejected() {
        assert!(RateTable::parse("[1,2]", 0, 23).is_err());
        assert!(RateTable::parse(r#"{"24": 1}"#, 0, 23).is_err());
        assert!(RateTable::parse(r#"{"1": "x"}"#, 0, 23).is_err());
        assert!(RateTable::parse(r#"{"1": 1"#, 0, 23).is_err());
    }
}
