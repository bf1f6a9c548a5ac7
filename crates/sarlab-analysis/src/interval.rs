//! Confidence intervals for a proportion (e.g. test accuracy).

use crate::error::{Result, invalid};
use crate::special::normal_quantile;

/// A two-sided interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

/// The Wilson score interval for `successes` out of `trials` at `confidence` (e.g.
/// 0.95), as `statsmodels.stats.proportion.proportion_confint(method="wilson")`.
///
/// Unlike the normal ("Wald") interval it stays inside [0, 1] and keeps its coverage
/// near 0 % and 100 % accuracy, where SAR classifiers often are.
///
/// ```
/// let i = sarlab_analysis::wilson_interval(90, 100, 0.95).unwrap();
/// assert!((i.low - 0.8256).abs() < 1e-4 && (i.high - 0.9448).abs() < 1e-4);
/// ```
pub fn wilson_interval(successes: u64, trials: u64, confidence: f64) -> Result<Interval> {
    if trials == 0 {
        return invalid("wilson_interval", "no trials");
    }
    if successes > trials {
        return invalid(
            "wilson_interval",
            format!("{successes} successes out of {trials} trials"),
        );
    }
    if !(confidence > 0.0 && confidence < 1.0) {
        return invalid(
            "wilson_interval",
            format!("confidence {confidence} is not within (0, 1)"),
        );
    }
    let z = normal_quantile(1.0 - (1.0 - confidence) / 2.0);
    let n = trials as f64;
    let p = successes as f64 / n;
    let z2 = z * z;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
    Ok(Interval {
        low: (centre - half).max(0.0),
        high: (centre + half).min(1.0),
    })
}
