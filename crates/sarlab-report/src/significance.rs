//! The report's uncertainty section: a 95 % interval on each method's test accuracy and
//! paired tests between every two methods' best configurations.

use std::fmt::Write as _;

/// Intervals and paired tests, computed by the study from the database.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Significance {
    /// Per method, in the report's order: test accuracy and its 95 % Wilson interval.
    pub accuracy: Vec<AccuracyInterval>,
    /// Every pair of methods, in the report's order.
    pub pairs: Vec<PairTest>,
    /// The CV metric the fold test compares.
    pub metric: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AccuracyInterval {
    pub method: String,
    pub correct: u64,
    pub chips: u64,
    pub low: f64,
    pub high: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PairTest {
    pub first: String,
    pub second: String,
    /// McNemar's exact test on the test chips: chips only the first gets right, only
    /// the second, and the p-value; `None` when the test runs hold no per-chip
    /// predictions (runs recorded before they were).
    pub mcnemar: Option<(u64, u64, f64)>,
    /// The corrected resampled t-test on the CV fold scores: mean difference and
    /// p-value.
    pub fold_t: Option<(f64, f64)>,
}

fn p_text(p: f64) -> String {
    if p < 1e-4 {
        format!("{p:.1e}")
    } else {
        format!("{p:.4}")
    }
}

impl Significance {
    /// `method`'s test-accuracy interval, in percent, if it has one.
    pub fn interval_of(&self, method: &str) -> Option<(f64, f64)> {
        self.accuracy
            .iter()
            .find(|a| a.method == method)
            .map(|a| (100.0 * a.low, 100.0 * a.high))
    }

    /// Rows of the interval table: method, accuracy %, 95 % interval %, correct/chips.
    pub(crate) fn interval_rows(&self) -> Vec<Vec<String>> {
        self.accuracy
            .iter()
            .map(|a| {
                vec![
                    a.method.clone(),
                    format!("{:.2}", 100.0 * a.correct as f64 / a.chips.max(1) as f64),
                    format!("{:.2} – {:.2}", 100.0 * a.low, 100.0 * a.high),
                    format!("{}/{}", a.correct, a.chips),
                ]
            })
            .collect()
    }

    pub(crate) const INTERVAL_HEADERS: [&'static str; 4] = [
        "method",
        "test accuracy %",
        "95 % interval (Wilson) %",
        "correct / chips",
    ];

    pub(crate) fn pair_headers(&self) -> Vec<String> {
        vec![
            "methods".to_owned(),
            "only first right / only second right".to_owned(),
            "McNemar exact p".to_owned(),
            format!("CV {} difference %", self.metric),
            "corrected t-test p".to_owned(),
        ]
    }

    /// Rows of the pair table.
    pub(crate) fn pair_rows(&self) -> Vec<Vec<String>> {
        self.pairs
            .iter()
            .map(|p| {
                let (counts, mcnemar) = match p.mcnemar {
                    Some((b, c, pv)) => (format!("{b} / {c}"), p_text(pv)),
                    None => ("—".to_owned(), "—".to_owned()),
                };
                let (diff, t) = match p.fold_t {
                    Some((d, pv)) => (format!("{:+.2}", 100.0 * d), p_text(pv)),
                    None => ("—".to_owned(), "—".to_owned()),
                };
                vec![
                    format!("{} vs {}", p.first, p.second),
                    counts,
                    mcnemar,
                    diff,
                    t,
                ]
            })
            .collect()
    }

    /// What the tables mean, in one paragraph.
    pub(crate) fn explanation(&self) -> String {
        let mut out = String::new();
        let _ = write!(
            out,
            "Intervals are Wilson score intervals on the test split. McNemar's exact test \
             compares two methods' best configurations on the same test chips (two-sided, \
             binomial on the chips only one of them gets right). The corrected resampled \
             t-test (Nadeau & Bengio 2003) compares their mean CV {} on the same folds, \
             its variance inflated for the folds' overlapping training sets. A p-value \
             is not corrected for the number of pairs.",
            self.metric
        );
        out
    }
}
