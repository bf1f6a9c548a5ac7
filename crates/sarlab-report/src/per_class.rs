//! The per-class table of a method: precision, recall, F1 and support per class, on
//! the test split and on the CV predictions pooled over folds.

use crate::{ClassScore, MethodResult};

pub(crate) const HEADERS: [&str; 9] = [
    "class",
    "test support",
    "test precision %",
    "test recall %",
    "test F1 %",
    "CV support",
    "CV precision %",
    "CV recall %",
    "CV F1 % (± fold std)",
];

/// A row per class of the test split (or the CV pool when the test split lacks it).
pub(crate) fn rows(m: &MethodResult) -> Vec<Vec<String>> {
    let mut classes: Vec<&str> = m.test_classes.iter().map(|c| c.class.as_str()).collect();
    for c in &m.cv_classes {
        if !classes.contains(&c.class.as_str()) {
            classes.push(&c.class);
        }
    }
    let cells = |scores: &[ClassScore], class: &str| match scores.iter().find(|s| s.class == class)
    {
        Some(s) => vec![
            s.support.to_string(),
            format!("{:.2}", 100.0 * s.precision),
            format!("{:.2}", 100.0 * s.recall),
            match s.f1_fold_std {
                Some(std) => format!("{:.2} ± {:.2}", 100.0 * s.f1, 100.0 * std),
                None => format!("{:.2}", 100.0 * s.f1),
            },
        ],
        None => vec!["—".to_owned(); 4],
    };
    classes
        .into_iter()
        .map(|class| {
            let mut row = vec![class.to_owned()];
            row.extend(cells(&m.test_classes, class));
            row.extend(cells(&m.cv_classes, class));
            row
        })
        .collect()
}
