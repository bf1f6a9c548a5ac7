//! The "every configuration" table, per method: a column per swept parameter (the
//! settings all its configurations share named once above it), the CV metrics, and
//! the fit time, and the test scores of the configurations that were tested.

use crate::{ConfigResult, StudyReport};

/// One method's configurations.
pub(crate) struct MethodConfigs {
    pub method: String,
    /// `key=value` of every setting the method's configurations share.
    pub fixed: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// The parameters whose values differ between `configs`, in recorded order, and the
/// `key=value` of the rest.
fn split_swept(configs: &[&ConfigResult]) -> (Vec<String>, String) {
    let mut keys: Vec<&str> = Vec::new();
    for c in configs {
        for (k, _) in &c.values {
            if !keys.contains(&k.as_str()) {
                keys.push(k);
            }
        }
    }
    let value = |c: &ConfigResult, k: &str| c.value(k).map(str::to_owned);
    let (mut swept, mut fixed) = (Vec::new(), Vec::new());
    for k in keys {
        let first = configs.first().and_then(|c| value(c, k));
        match configs.iter().all(|c| value(c, k) == first) {
            true => fixed.push(format!("{k}={}", first.unwrap_or_default())),
            false => swept.push(k.to_owned()),
        }
    }
    (swept, fixed.join(" "))
}

/// The tables of `report` (already in its order), a method each.
pub(crate) fn method_tables(report: &StudyReport) -> Vec<MethodConfigs> {
    let mut methods: Vec<&str> = Vec::new();
    for c in &report.configs {
        if !methods.contains(&c.method.as_str()) {
            methods.push(&c.method);
        }
    }
    let metric = &report.selection_metric;
    let extra = !matches!(metric.as_str(), "accuracy" | "f1_macro");
    methods
        .into_iter()
        .map(|method| {
            let mine: Vec<&ConfigResult> = report
                .configs
                .iter()
                .filter(|c| c.method == method)
                .collect();
            let (swept, fixed) = split_swept(&mine);
            let tested = mine.iter().any(|c| c.test.is_some());
            let mut headers: Vec<String> = swept.clone();
            if extra {
                headers.push(format!("CV {metric} %"));
            }
            headers.extend(
                [
                    "CV accuracy %",
                    "CV macro-F1 %",
                    "fit time, CPU s (Σ folds)",
                ]
                .map(str::to_owned),
            );
            if tested {
                headers.extend(["test accuracy %", "test macro-F1 %"].map(str::to_owned));
            }
            let pm = |(m, s): (f64, f64)| format!("{:.2} ± {:.2}", 100.0 * m, 100.0 * s);
            let rows = mine
                .iter()
                .map(|c| {
                    let mut row: Vec<String> = swept
                        .iter()
                        .map(|k| c.value(k).unwrap_or("—").to_owned())
                        .collect();
                    if extra {
                        row.push(pm(c.cv_selection));
                    }
                    row.push(pm(c.cv_accuracy));
                    row.push(pm(c.cv_f1_macro));
                    row.push(format!("{:.2}", c.fit_seconds));
                    if tested {
                        match c.test {
                            Some((accuracy, f1)) => {
                                row.push(format!("{:.2}", 100.0 * accuracy));
                                row.push(format!("{:.2}", 100.0 * f1));
                            }
                            None => row.extend(["—".to_owned(), "—".to_owned()]),
                        }
                    }
                    row
                })
                .collect();
            MethodConfigs {
                method: method.to_owned(),
                fixed,
                headers,
                rows,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swept_parameters_get_columns_and_the_rest_one_line() {
        let tables = method_tables(&crate::sample_report().ordered_by_selection());
        let hog = &tables[0];
        assert_eq!(hog.method, "hog");
        assert_eq!(hog.fixed, "crop=48 gamma=scale");
        assert_eq!(hog.headers[0], "C");
        assert_eq!(hog.rows[0][0], "10", "best first");
        assert!(hog.headers.iter().any(|h| h.contains("CPU")));
    }
}
