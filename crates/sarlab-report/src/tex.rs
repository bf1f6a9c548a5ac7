//! `tables.tex`: the report's tables for a paper (booktabs), each value as the page
//! shows it, the best of each numeric column in bold.

use std::fmt::Write as _;

use crate::StudyReport;

/// Text made safe for LaTeX's text mode.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            '±' => out.push_str("$\\pm$"),
            '×' => out.push_str("$\\times$"),
            '—' => out.push_str("---"),
            'γ' => out.push_str("$\\gamma$"),
            _ => out.push(c),
        }
    }
    out
}

/// A column of values to print with `digits` decimals, the largest bold.
struct Column {
    values: Vec<f64>,
}

impl Column {
    fn cell(&self, row: usize, text: String) -> String {
        let best = self
            .values
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .fold(f64::NEG_INFINITY, f64::max);
        match self.values[row] == best && self.values.len() > 1 {
            true => format!("\\textbf{{{text}}}"),
            false => text,
        }
    }
}

fn table(out: &mut String, caption: &str, label: &str, spec: &str, header: &str, rows: &[String]) {
    let _ = writeln!(
        out,
        "\\begin{{table}}[t]\n\\centering\n\\caption{{{caption}}}\n\\label{{{label}}}\n\\begin{{tabular}}{{{spec}}}\n\\toprule\n{header} \\\\\n\\midrule"
    );
    for row in rows {
        let _ = writeln!(out, "{row} \\\\");
    }
    out.push_str("\\bottomrule\n\\end{tabular}\n\\end{table}\n\n");
}

/// Every table of `report` as LaTeX (needs `\usepackage{booktabs}`).
pub(crate) fn tables_tex(report: &StudyReport) -> String {
    let study = escape(&report.study);
    let metric = escape(&report.selection_metric);
    let mut out = format!(
        "% Tables of sarlab study `{}` (study run {}); needs \\usepackage{{booktabs}}.\n\
         % Methods in order of mean CV {}; CV values are mean $\\pm$ population std over {} folds.\n\n",
        report.study, report.parent_run, report.selection_metric, report.folds
    );
    let methods = &report.methods;
    let cv = Column {
        values: methods.iter().map(|m| m.cv_selection.0).collect(),
    };
    let accuracy = Column {
        values: methods.iter().map(|m| m.test_accuracy).collect(),
    };
    let f1 = Column {
        values: methods.iter().map(|m| m.test_f1_macro).collect(),
    };
    let rows: Vec<String> = methods
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let interval = report
                .significance
                .interval_of(&m.method)
                .map_or_else(String::new, |(low, high)| format!(" [{low:.1}, {high:.1}]"));
            format!(
                "{} & {} & {} & {}{} & {}",
                escape(&m.method),
                escape(&report.best_swept(m)),
                cv.cell(
                    i,
                    format!(
                        "{:.2} $\\pm$ {:.2}",
                        100.0 * m.cv_selection.0,
                        100.0 * m.cv_selection.1
                    )
                ),
                accuracy.cell(i, format!("{:.2}", 100.0 * m.test_accuracy)),
                interval,
                f1.cell(i, format!("{:.2}", 100.0 * m.test_f1_macro)),
            )
        })
        .collect();
    table(
        &mut out,
        &format!(
            "Study {study}: each feature method's best configuration by mean CV {metric} ({} train / {} test chips). Test accuracy with its Wilson 95\\,\\% interval.",
            report.train_chips, report.test_chips
        ),
        &format!("tab:{}-methods", crate::figure::slug(&report.study)),
        "llrrr",
        &format!(
            "Method & Best swept parameters & CV {metric} (\\%) & Test accuracy (\\%) & Test macro-F1 (\\%)"
        ),
        &rows,
    );
    for m in methods {
        if m.test_classes.is_empty() {
            continue;
        }
        let columns: Vec<Column> = (0..3)
            .map(|k| Column {
                values: m
                    .test_classes
                    .iter()
                    .map(|c| [c.precision, c.recall, c.f1][k])
                    .collect(),
            })
            .collect();
        let rows: Vec<String> = m
            .test_classes
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let cv_f1 = m
                    .cv_classes
                    .iter()
                    .find(|d| d.class == c.class)
                    .map_or_else(
                        || "---".to_owned(),
                        |d| match d.f1_fold_std {
                            Some(std) => format!("{:.2} $\\pm$ {:.2}", 100.0 * d.f1, 100.0 * std),
                            None => format!("{:.2}", 100.0 * d.f1),
                        },
                    );
                format!(
                    "{} & {} & {} & {} & {} & {cv_f1}",
                    escape(&c.class),
                    c.support,
                    columns[0].cell(i, format!("{:.2}", 100.0 * c.precision)),
                    columns[1].cell(i, format!("{:.2}", 100.0 * c.recall)),
                    columns[2].cell(i, format!("{:.2}", 100.0 * c.f1)),
                )
            })
            .collect();
        table(
            &mut out,
            &format!(
                "Study {study}, {}: per-class scores of the best configuration on the test split, and F1 of the CV predictions pooled over folds ($\\pm$ its standard deviation over folds).",
                escape(&m.method)
            ),
            &format!(
                "tab:{}-{}-classes",
                crate::figure::slug(&report.study),
                crate::figure::slug(&m.method)
            ),
            "lrrrrr",
            "Class & Support & Precision (\\%) & Recall (\\%) & F1 (\\%) & CV F1 (\\%, $\\pm$ fold std)",
            &rows,
        );
    }
    if !report.sweeps.is_empty() {
        let mut rows = Vec::new();
        for sweep in &report.sweeps {
            for (k, p) in sweep.parameters.iter().enumerate() {
                let best = p.levels.iter().filter(|l| l.best.0.is_finite()).fold(
                    None::<&crate::LevelSummary>,
                    |b, l| match b {
                        Some(b) if b.best.0 >= l.best.0 => Some(b),
                        _ => Some(l),
                    },
                );
                rows.push(format!(
                    "{} & {} & {:.1} & {}",
                    if k == 0 {
                        escape(&sweep.method)
                    } else {
                        String::new()
                    },
                    escape(&p.name),
                    100.0 * p.importance,
                    best.map_or_else(|| "---".to_owned(), |l| escape(&l.value)),
                ));
            }
        }
        table(
            &mut out,
            &format!(
                "Study {study}: share of the CV {metric} variance over each method's configurations explained by each swept parameter's main effect, and the parameter's value in the best configuration."
            ),
            &format!("tab:{}-importance", crate::figure::slug(&report.study)),
            "llrl",
            "Method & Parameter & Importance (\\%) & Best value",
            &rows,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specials_are_escaped() {
        assert_eq!(escape("block_norm=L2-Hys 5%"), "block\\_norm=L2-Hys 5\\%");
        assert_eq!(escape("a & b ± c"), "a \\& b $\\pm$ c");
        assert_eq!(
            escape("{x}~^\\"),
            "\\{x\\}\\textasciitilde{}\\textasciicircum{}\\textbackslash{}"
        );
    }

    #[test]
    fn the_best_value_of_each_column_is_bold() {
        let tex = tables_tex(&crate::sample_report().ordered_by_selection());
        assert!(tex.contains("\\toprule") && tex.contains("\\bottomrule"));
        // hog (86 %) beats raw (71 %) in test macro-F1.
        let hog = tex
            .lines()
            .find(|l| l.starts_with("hog &"))
            .expect("hog row");
        assert!(hog.contains("\\textbf{86.00}"), "{hog}");
        let raw = tex
            .lines()
            .find(|l| l.starts_with("raw &"))
            .expect("raw row");
        assert!(!raw.contains("\\textbf"), "{raw}");
        assert!(tex.contains("tab:demo-hog-classes"));
        assert!(tex.contains("Importance"));
        // Every table opened is closed.
        assert_eq!(
            tex.matches("\\begin{tabular}").count(),
            tex.matches("\\end{tabular}").count()
        );
    }
}
