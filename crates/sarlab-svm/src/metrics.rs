//! Classification metrics with scikit-learn's definitions (`sklearn.metrics`).
//!
//! The classes scored are those present in the truth or the predictions (scikit-learn's
//! `labels=None`). Zero division gives 0 (`zero_division=0`, which is also what the
//! default `"warn"` returns): a class never predicted has precision 0, a class absent
//! from the truth has recall 0. F1 is `2·tp / (n_true + n_predicted)` per class, as
//! scikit-learn computes it; macro F1 is the mean of the per-class F1 scores, not the
//! harmonic mean of macro precision and recall. Weighted averages weigh by support
//! (true count). Micro averages pool the counts. Balanced accuracy is the mean recall
//! over the classes present in the truth.

use ndarray::Array2;

/// Scalar summaries of a prediction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassificationMetrics {
    pub accuracy: f64,
    pub balanced_accuracy: f64,
    pub precision_macro: f64,
    pub recall_macro: f64,
    pub f1_macro: f64,
    pub precision_weighted: f64,
    pub recall_weighted: f64,
    pub f1_weighted: f64,
    pub precision_micro: f64,
    pub recall_micro: f64,
    pub f1_micro: f64,
}

/// Scores of one class.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassScores {
    pub class: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Number of true samples of the class.
    pub support: usize,
}

/// Metric names in their recorded order (keys of [`ClassificationMetrics::named`]).
pub const METRIC_NAMES: [&str; 11] = [
    "accuracy",
    "balanced_accuracy",
    "precision_macro",
    "recall_macro",
    "f1_macro",
    "precision_weighted",
    "recall_weighted",
    "f1_weighted",
    "precision_micro",
    "recall_micro",
    "f1_micro",
];

/// One of [`METRIC_NAMES`], checked: the score that picks a study's best configuration.
///
/// ```
/// use sarlab_svm::Metric;
/// let metric: Metric = "balanced_accuracy".parse().unwrap();
/// assert_eq!(metric.to_string(), "balanced_accuracy");
/// assert!("f2".parse::<Metric>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Metric(&'static str);

impl Metric {
    pub fn name(self) -> &'static str {
        self.0
    }
}

impl Default for Metric {
    /// Macro F1, which weighs every class alike.
    fn default() -> Self {
        Metric("f1_macro")
    }
}

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::str::FromStr for Metric {
    type Err = crate::Error;

    fn from_str(s: &str) -> crate::Result<Self> {
        METRIC_NAMES
            .into_iter()
            .find(|n| *n == s)
            .map(Metric)
            .ok_or_else(|| crate::Error::InvalidParameter {
                name: "metric",
                message: format!("`{s}` is not one of {}", METRIC_NAMES.join(", ")),
            })
    }
}

fn ratio(numerator: f64, denominator: f64) -> f64 {
    if denominator == 0.0 {
        0.0
    } else {
        numerator / denominator
    }
}

impl ClassificationMetrics {
    /// Metric names as recorded, in a fixed order, with their values.
    pub fn named(&self) -> [(&'static str, f64); 11] {
        let values = [
            self.accuracy,
            self.balanced_accuracy,
            self.precision_macro,
            self.recall_macro,
            self.f1_macro,
            self.precision_weighted,
            self.recall_weighted,
            self.f1_weighted,
            self.precision_micro,
            self.recall_micro,
            self.f1_micro,
        ];
        std::array::from_fn(|k| (METRIC_NAMES[k], values[k]))
    }

    /// The value of `metric`.
    pub fn value(&self, metric: Metric) -> f64 {
        self.get(metric.name()).unwrap_or(f64::NAN)
    }

    /// A metric by name.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.named()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }

    pub fn compute(y_true: &[usize], y_pred: &[usize], n_classes: usize) -> Self {
        let cm = confusion_matrix(y_true, y_pred, n_classes);
        let classes = per_class_from_confusion(&cm);
        let total = y_true.len() as f64;
        let n = classes.len() as f64;
        let mean = |f: fn(&ClassScores) -> f64| ratio(classes.iter().map(f).sum(), n);
        let support: f64 = classes.iter().map(|c| c.support as f64).sum();
        let weighted = |f: fn(&ClassScores) -> f64| {
            ratio(
                classes.iter().map(|c| f(c) * c.support as f64).sum(),
                support,
            )
        };
        let tp: f64 = (0..n_classes).map(|k| cm[[k, k]] as f64).sum();
        let recalls: Vec<f64> = classes
            .iter()
            .filter(|c| c.support > 0)
            .map(|c| c.recall)
            .collect();
        Self {
            accuracy: ratio(tp, total),
            balanced_accuracy: ratio(recalls.iter().sum(), recalls.len() as f64),
            precision_macro: mean(|c| c.precision),
            recall_macro: mean(|c| c.recall),
            f1_macro: mean(|c| c.f1),
            precision_weighted: weighted(|c| c.precision),
            recall_weighted: weighted(|c| c.recall),
            f1_weighted: weighted(|c| c.f1),
            // Pooled counts: every prediction and every truth is one sample.
            precision_micro: ratio(tp, total),
            recall_micro: ratio(tp, total),
            f1_micro: ratio(2.0 * tp, 2.0 * total),
        }
    }
}

/// Per-class precision, recall, F1 and support, for the classes present in the truth
/// or the predictions, ascending.
pub fn per_class(y_true: &[usize], y_pred: &[usize], n_classes: usize) -> Vec<ClassScores> {
    per_class_from_confusion(&confusion_matrix(y_true, y_pred, n_classes))
}

/// [`per_class`] from a confusion matrix (`cm[[true, predicted]]`), e.g. the sum of a
/// cross-validation's fold matrices: the scores of the pooled predictions.
pub fn per_class_from_confusion(cm: &Array2<usize>) -> Vec<ClassScores> {
    (0..cm.nrows())
        .filter_map(|k| {
            let tp = cm[[k, k]] as f64;
            let predicted = cm.column(k).sum();
            let actual = cm.row(k).sum();
            if predicted == 0 && actual == 0 {
                return None;
            }
            Some(ClassScores {
                class: k,
                precision: ratio(tp, predicted as f64),
                recall: ratio(tp, actual as f64),
                f1: ratio(2.0 * tp, (actual + predicted) as f64),
                support: actual,
            })
        })
        .collect()
}

/// `cm[[true, predicted]]` counts, as `sklearn.metrics.confusion_matrix` lays them out.
/// Pairs with a label `≥ n_classes` are not counted (callers validate labels first).
pub fn confusion_matrix(y_true: &[usize], y_pred: &[usize], n_classes: usize) -> Array2<usize> {
    let mut cm = Array2::zeros((n_classes, n_classes));
    for (&t, &p) in y_true.iter().zip(y_pred) {
        if t < n_classes && p < n_classes {
            cm[[t, p]] += 1;
        }
    }
    cm
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_sklearn_on_a_worked_example() {
        // scikit-learn 1.9.1: y_true=[0,0,0,1,1,2,2,2,2], y_pred=[0,1,0,1,2,2,2,0,2] →
        // accuracy 0.6666666666666666, precision/recall/f1 macro 0.6388888888888888
        // (per class P = R = 2/3, 1/2, 3/4).
        let t = [0, 0, 0, 1, 1, 2, 2, 2, 2];
        let p = [0, 1, 0, 1, 2, 2, 2, 0, 2];
        let m = ClassificationMetrics::compute(&t, &p, 3);
        assert!((m.accuracy - 6.0 / 9.0).abs() < 1e-15);
        assert!((m.precision_macro - 0.638_888_888_888_888_8).abs() < 1e-15);
        assert!((m.recall_macro - 0.638_888_888_888_888_8).abs() < 1e-15);
        assert!((m.f1_macro - 0.638_888_888_888_888_8).abs() < 1e-15);
        assert_eq!(m.get("f1_macro"), Some(m.f1_macro));
        assert_eq!(m.get("nonsense"), None);
    }

    #[test]
    fn zero_division_is_zero_and_absent_classes_are_ignored() {
        // scikit-learn (zero_division=0): precision 0.25, recall 0.5, f1 0.3333333333333333.
        // Class 2 exists in the model but in neither vector: not averaged over.
        // Class 1 is never predicted: precision 0, recall 0, f1 0.
        let m = ClassificationMetrics::compute(&[0, 1], &[0, 0], 3);
        assert_eq!(m.accuracy, 0.5);
        assert!((m.precision_macro - 0.25).abs() < 1e-15); // (0.5 + 0) / 2
        assert!((m.recall_macro - 0.5).abs() < 1e-15); // (1 + 0) / 2
        assert!((m.f1_macro - (2.0 / 3.0) / 2.0).abs() < 1e-15);
        assert_eq!(m.balanced_accuracy, 0.5);
        let empty = ClassificationMetrics::compute(&[], &[], 3);
        assert_eq!(empty.accuracy, 0.0);
        assert_eq!(empty.f1_weighted, 0.0);
    }

    #[test]
    fn confusion_rows_are_truth() {
        let cm = confusion_matrix(&[0, 1, 1], &[1, 1, 0], 2);
        assert_eq!(cm, ndarray::array![[0, 1], [1, 1]]);
    }
}
