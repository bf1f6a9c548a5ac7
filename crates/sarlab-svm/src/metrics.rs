//! Classification metrics with scikit-learn's definitions.

use ndarray::Array2;

/// Accuracy and macro-averaged precision, recall and F1.
///
/// As in `sklearn.metrics` with `average="macro"`: the classes averaged over are those
/// present in the truth or the predictions; a class never predicted has precision 0 and
/// a class absent from the truth has recall 0 (`zero_division=0`); macro F1 is the mean
/// of the per-class F1 scores, not the harmonic mean of macro precision and recall.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassificationMetrics {
    pub accuracy: f64,
    pub precision_macro: f64,
    pub recall_macro: f64,
    pub f1_macro: f64,
}

impl ClassificationMetrics {
    /// Metric names as recorded, in a fixed order, with their values.
    pub fn named(&self) -> [(&'static str, f64); 4] {
        [
            ("accuracy", self.accuracy),
            ("precision_macro", self.precision_macro),
            ("recall_macro", self.recall_macro),
            ("f1_macro", self.f1_macro),
        ]
    }

    pub fn compute(y_true: &[usize], y_pred: &[usize], n_classes: usize) -> Self {
        let cm = confusion_matrix(y_true, y_pred, n_classes);
        let total = y_true.len();
        let correct: usize = (0..n_classes).map(|k| cm[[k, k]]).sum();
        let (mut p_sum, mut r_sum, mut f_sum, mut present) = (0.0, 0.0, 0.0, 0usize);
        for k in 0..n_classes {
            let tp = cm[[k, k]] as f64;
            let predicted = cm.column(k).sum() as f64;
            let actual = cm.row(k).sum() as f64;
            if predicted == 0.0 && actual == 0.0 {
                continue;
            }
            present += 1;
            let precision = if predicted > 0.0 { tp / predicted } else { 0.0 };
            let recall = if actual > 0.0 { tp / actual } else { 0.0 };
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            p_sum += precision;
            r_sum += recall;
            f_sum += f1;
        }
        let mean = |s: f64| {
            if present == 0 {
                0.0
            } else {
                s / present as f64
            }
        };
        Self {
            accuracy: if total == 0 {
                0.0
            } else {
                correct as f64 / total as f64
            },
            precision_macro: mean(p_sum),
            recall_macro: mean(r_sum),
            f1_macro: mean(f_sum),
        }
    }
}

/// `cm[[true, predicted]]` counts, as `sklearn.metrics.confusion_matrix` lays them out.
pub fn confusion_matrix(y_true: &[usize], y_pred: &[usize], n_classes: usize) -> Array2<usize> {
    let mut cm = Array2::zeros((n_classes, n_classes));
    for (&t, &p) in y_true.iter().zip(y_pred) {
        cm[[t, p]] += 1;
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
    }

    #[test]
    fn confusion_rows_are_truth() {
        let cm = confusion_matrix(&[0, 1, 1], &[1, 1, 0], 2);
        assert_eq!(cm, ndarray::array![[0, 1], [1, 1]]);
    }
}
