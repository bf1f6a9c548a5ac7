//! Paired tests between two classifiers evaluated on the same data: McNemar's exact
//! test on the same test chips, and the corrected resampled t-test on the same CV folds.

use crate::error::{Result, invalid};
use crate::special::{fair_binomial_cdf, t_sf};

/// McNemar's exact test of two classifiers' predictions on the same samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct McNemar {
    /// Samples the first classifier gets right and the second wrong.
    pub only_first_right: u64,
    /// Samples the second gets right and the first wrong.
    pub only_second_right: u64,
    /// Two-sided exact p-value: `min(1, 2 · P(X <= min(b, c)))`, `X ~ Bin(b + c, 1/2)`,
    /// as `statsmodels`' `mcnemar(table, exact=True)`.
    pub p_value: f64,
}

/// McNemar's exact test from the true labels and both classifiers' predictions.
///
/// ```
/// use sarlab_analysis::mcnemar_exact;
/// let truth = [0, 0, 1, 1, 2, 2];
/// let t = mcnemar_exact(&truth, &[0, 0, 1, 1, 2, 2], &[0, 1, 1, 0, 2, 0]).unwrap();
/// assert_eq!((t.only_first_right, t.only_second_right), (3, 0));
/// assert!((t.p_value - 0.25).abs() < 1e-15);
/// ```
pub fn mcnemar_exact(truth: &[usize], first: &[usize], second: &[usize]) -> Result<McNemar> {
    if truth.len() != first.len() || truth.len() != second.len() {
        return invalid(
            "mcnemar_exact",
            format!(
                "{} labels but {} and {} predictions",
                truth.len(),
                first.len(),
                second.len()
            ),
        );
    }
    let (mut b, mut c) = (0u64, 0u64);
    for ((&t, &f), &s) in truth.iter().zip(first).zip(second) {
        match (f == t, s == t) {
            (true, false) => b += 1,
            (false, true) => c += 1,
            _ => {}
        }
    }
    let p_value = if b + c == 0 {
        1.0
    } else {
        (2.0 * fair_binomial_cdf(b.min(c), b + c)).min(1.0)
    };
    Ok(McNemar {
        only_first_right: b,
        only_second_right: c,
        p_value,
    })
}

/// The corrected resampled t-test of Nadeau & Bengio (2003) on paired fold scores.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CorrectedT {
    /// Mean over folds of first − second.
    pub mean_difference: f64,
    pub t: f64,
    pub degrees_of_freedom: f64,
    /// Two-sided p-value from Student's t with `k − 1` degrees of freedom.
    pub p_value: f64,
}

/// Tests whether two configurations' CV scores differ, from their scores on the same
/// `k` folds. `test_train_ratio` is `n_validation / n_train` of a fold (`1 / (k − 1)`
/// for k-fold CV). The variance of the fold differences is inflated by
/// `1/k + test_train_ratio`, because the folds' training sets overlap and their scores
/// are not independent (the plain paired t-test would be far too confident).
///
/// ```
/// use sarlab_analysis::corrected_resampled_t;
/// let t = corrected_resampled_t(&[0.91, 0.93, 0.92, 0.95, 0.94], &[0.90, 0.91, 0.92, 0.92, 0.93], 0.25).unwrap();
/// assert!(t.mean_difference > 0.0 && t.p_value > 0.05 && t.p_value < 1.0);
/// ```
pub fn corrected_resampled_t(
    first: &[f64],
    second: &[f64],
    test_train_ratio: f64,
) -> Result<CorrectedT> {
    if first.len() != second.len() {
        return invalid(
            "corrected_resampled_t",
            format!("{} and {} fold scores", first.len(), second.len()),
        );
    }
    let k = first.len();
    if k < 2 {
        return invalid("corrected_resampled_t", "needs at least 2 folds");
    }
    if !(test_train_ratio.is_finite() && test_train_ratio > 0.0) {
        return invalid(
            "corrected_resampled_t",
            format!("test/train ratio {test_train_ratio} must be positive"),
        );
    }
    let differences: Vec<f64> = first.iter().zip(second).map(|(a, b)| a - b).collect();
    if let Some(bad) = differences.iter().find(|d| !d.is_finite()) {
        return invalid(
            "corrected_resampled_t",
            format!("a fold score difference is {bad}"),
        );
    }
    let kf = k as f64;
    let mean = differences.iter().sum::<f64>() / kf;
    let variance = differences.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (kf - 1.0);
    let scale = ((1.0 / kf + test_train_ratio) * variance).sqrt();
    let df = kf - 1.0;
    let (t, p_value) = if scale == 0.0 {
        // Identical differences on every fold: no spread to test against.
        match mean == 0.0 {
            true => (0.0, 1.0),
            false => (mean.signum() * f64::INFINITY, 0.0),
        }
    } else {
        let t = mean / scale;
        (t, (2.0 * t_sf(t.abs(), df)).min(1.0))
    };
    Ok(CorrectedT {
        mean_difference: mean,
        t,
        degrees_of_freedom: df,
        p_value,
    })
}
