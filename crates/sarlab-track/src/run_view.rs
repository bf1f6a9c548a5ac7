//! A stored run as people read it: UTC times, headline metric values (the mean over
//! CV folds for per-fold metrics) and JSON.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::values::{ParamValue, StoredRun};

impl ParamValue {
    /// The value as JSON: a number or a string.
    pub fn to_json(&self) -> Value {
        match self {
            ParamValue::Int(i) => json!(i),
            ParamValue::Real(r) => json!(r),
            ParamValue::Text(t) => json!(t),
        }
    }
}

/// `YYYY-MM-DD HH:MM:SS` (UTC) of a time in milliseconds since the Unix epoch.
pub fn utc_text(ms: i64) -> String {
    // To the second, without pulling in a date crate.
    let secs = ms.div_euclid(1000);
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Mean and population standard deviation (numpy's `std`, as the study records
/// `*_std`), summed in step order.
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

impl StoredRun {
    /// Every metric's values in step order.
    pub fn all_metric_steps(&self) -> BTreeMap<&str, Vec<f64>> {
        let mut steps: BTreeMap<&str, Vec<(i64, f64)>> = BTreeMap::new();
        for m in &self.metrics {
            steps.entry(&m.key).or_default().push((m.step, m.value));
        }
        steps
            .into_iter()
            .map(|(k, mut v)| {
                v.sort_by_key(|(step, _)| *step);
                (k, v.into_iter().map(|(_, value)| value).collect())
            })
            .collect()
    }

    /// The headline value of each metric: the value of a single-step metric, the mean
    /// over steps of a per-fold one (sarlab's steps are CV folds; the last fold alone
    /// says nothing about a configuration).
    pub fn headline_metrics(&self) -> BTreeMap<&str, f64> {
        self.all_metric_steps()
            .into_iter()
            .map(|(k, steps)| (k, mean_std(&steps).0))
            .collect()
    }

    /// The run as JSON, metrics at their headline values.
    pub fn to_json(&self) -> Value {
        json!({
            "uuid": self.uuid,
            "experiment": self.experiment,
            "name": self.name,
            "status": self.status.as_str(),
            "start_ms": self.start_ms,
            "end_ms": self.end_ms,
            "parent": self.parent,
            "config_hash": self.config_hash,
            "failure_reason": self.failure_reason,
            "params": self.params.iter().map(|(k, v)| (k.clone(), v.to_json())).collect::<serde_json::Map<_, _>>(),
            "metrics": self.headline_metrics().into_iter().map(|(k, v)| (k.to_owned(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "tags": self.tags,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_text_counts_calendar_days() {
        assert_eq!(utc_text(0), "1970-01-01 00:00:00");
        // 2000-02-29 12:34:56 UTC, a leap day.
        assert_eq!(utc_text(951_827_696_000), "2000-02-29 12:34:56");
        assert_eq!(utc_text(-1000), "1969-12-31 23:59:59");
        assert_eq!(utc_text(1_795_000_000_123), "2026-11-18 11:06:40");
    }
}
