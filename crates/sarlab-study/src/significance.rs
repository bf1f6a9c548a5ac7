//! The report's uncertainty section, from the database: Wilson intervals on each
//! method's test accuracy, McNemar's exact test between every two methods' test runs
//! on the same chips, and the corrected resampled t-test between their CV fold scores.

use sarlab_analysis::{corrected_resampled_t, mcnemar_exact, wilson_interval};
use sarlab_report::{AccuracyInterval, MethodResult, PairTest, Significance};

use crate::error::{Error, Result};
use crate::results::Recorded;

fn analysis(err: sarlab_analysis::Error) -> Error {
    Error::Study(err.to_string())
}

impl Recorded<'_> {
    /// The section for `methods`, ordered as the report orders them (by the CV
    /// selection metric, ties in study order).
    pub(crate) fn significance(
        &self,
        methods: &[MethodResult],
        test_chips: usize,
    ) -> Result<Significance> {
        let mut order: Vec<&MethodResult> = methods.iter().collect();
        order.sort_by(|a, b| b.cv_selection.0.total_cmp(&a.cv_selection.0));
        let metric = self.plan.spec.svm.metric;
        let folds = self.plan.spec.svm.folds;
        let mut predictions = Vec::with_capacity(order.len());
        let mut fold_scores = Vec::with_capacity(order.len());
        let mut accuracy = Vec::with_capacity(order.len());
        for m in &order {
            let recorded = self.store.predictions(&m.test_run)?;
            let (correct, chips) = match recorded.is_empty() {
                false => (
                    recorded.iter().filter(|p| p.truth == p.predicted).count() as u64,
                    recorded.len() as u64,
                ),
                // Test runs recorded before predictions were: the accuracy metric.
                true => (
                    (m.test_accuracy * test_chips as f64).round() as u64,
                    test_chips as u64,
                ),
            };
            let interval = wilson_interval(correct, chips, 0.95).map_err(analysis)?;
            accuracy.push(AccuracyInterval {
                method: m.method.clone(),
                correct,
                chips,
                low: interval.low,
                high: interval.high,
            });
            predictions.push(recorded);
            fold_scores.push(
                self.store
                    .run(&m.cv_run)?
                    .metric_steps(&format!("cv_{metric}")),
            );
        }
        let mut pairs = Vec::new();
        for i in 0..order.len() {
            for j in i + 1..order.len() {
                let (a, b) = (&predictions[i], &predictions[j]);
                let same_chips = !a.is_empty()
                    && a.len() == b.len()
                    && a.iter()
                        .zip(b.iter())
                        .all(|(x, y)| x.chip == y.chip && x.truth == y.truth);
                let mcnemar = match same_chips {
                    true => {
                        let truth: Vec<usize> = a.iter().map(|p| p.truth).collect();
                        let first: Vec<usize> = a.iter().map(|p| p.predicted).collect();
                        let second: Vec<usize> = b.iter().map(|p| p.predicted).collect();
                        let t = mcnemar_exact(&truth, &first, &second).map_err(analysis)?;
                        Some((t.only_first_right, t.only_second_right, t.p_value))
                    }
                    false => None,
                };
                let (x, y) = (&fold_scores[i], &fold_scores[j]);
                let fold_t = (x.len() == y.len() && x.len() >= 2)
                    .then(|| corrected_resampled_t(x, y, 1.0 / (folds.max(2) - 1) as f64))
                    .transpose()
                    .map_err(analysis)?
                    .map(|t| (t.mean_difference, t.p_value));
                pairs.push(PairTest {
                    first: order[i].method.clone(),
                    second: order[j].method.clone(),
                    mcnemar,
                    fold_t,
                });
            }
        }
        Ok(Significance {
            accuracy,
            pairs,
            metric: metric.to_string(),
        })
    }
}
