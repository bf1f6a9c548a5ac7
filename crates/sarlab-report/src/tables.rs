//! The report's tables, built with polars.

use polars::prelude::*;

use crate::StudyReport;
use crate::error::Result;

/// The data frames a report renders.
pub(crate) struct Tables {
    /// One row per feature method, in the report's order (best CV selection metric first).
    pub comparison: DataFrame,
}

pub(crate) fn build(report: &StudyReport) -> Result<Tables> {
    let c = &report.configs;
    let configs = df!(
        "method" => c.iter().map(|r| r.method.as_str()).collect::<Vec<_>>(),
        "params" => c.iter().map(|r| r.params.as_str()).collect::<Vec<_>>(),
        "cv_accuracy_mean" => c.iter().map(|r| r.cv_accuracy.0).collect::<Vec<_>>(),
        "cv_accuracy_std" => c.iter().map(|r| r.cv_accuracy.1).collect::<Vec<_>>(),
        "cv_f1_macro_mean" => c.iter().map(|r| r.cv_f1_macro.0).collect::<Vec<_>>(),
        "cv_f1_macro_std" => c.iter().map(|r| r.cv_f1_macro.1).collect::<Vec<_>>(),
        "cv_selection_mean" => c.iter().map(|r| r.cv_selection.0).collect::<Vec<_>>(),
        "cv_selection_std" => c.iter().map(|r| r.cv_selection.1).collect::<Vec<_>>(),
        "fit_seconds" => c.iter().map(|r| r.fit_seconds).collect::<Vec<_>>(),
    )?;
    let m = &report.methods;
    let tests = df!(
        "method" => m.iter().map(|r| r.method.as_str()).collect::<Vec<_>>(),
        "best_params" => m.iter().map(|r| report.best_swept(r)).collect::<Vec<_>>(),
        "feature_dim" => m.iter().map(|r| r.feature_dim as u64).collect::<Vec<_>>(),
        "cv_accuracy_mean" => m.iter().map(|r| r.cv_accuracy.0).collect::<Vec<_>>(),
        "cv_accuracy_std" => m.iter().map(|r| r.cv_accuracy.1).collect::<Vec<_>>(),
        "cv_f1_macro_mean" => m.iter().map(|r| r.cv_f1_macro.0).collect::<Vec<_>>(),
        "cv_f1_macro_std" => m.iter().map(|r| r.cv_f1_macro.1).collect::<Vec<_>>(),
        "cv_selection_mean" => m.iter().map(|r| r.cv_selection.0).collect::<Vec<_>>(),
        "cv_selection_std" => m.iter().map(|r| r.cv_selection.1).collect::<Vec<_>>(),
        "test_accuracy" => m.iter().map(|r| r.test_accuracy).collect::<Vec<_>>(),
        "test_precision_macro" => m.iter().map(|r| r.test_precision_macro).collect::<Vec<_>>(),
        "test_recall_macro" => m.iter().map(|r| r.test_recall_macro).collect::<Vec<_>>(),
        "test_f1_macro" => m.iter().map(|r| r.test_f1_macro).collect::<Vec<_>>(),
        "feature_seconds" => m.iter().map(|r| r.feature_seconds).collect::<Vec<_>>(),
    )?;

    // Grid size and total fit time per method, joined onto the test results.
    let per_method = configs
        .clone()
        .lazy()
        .group_by_stable([col("method")])
        .agg([
            len().cast(DataType::UInt64).alias("configurations"),
            col("fit_seconds").sum().alias("grid_seconds"),
        ]);
    let comparison = tests
        .lazy()
        .join(
            per_method,
            [col("method")],
            [col("method")],
            // Keep the left (the report's) row order.
            JoinArgs {
                maintain_order: MaintainOrderJoin::Left,
                ..JoinArgs::new(JoinType::Left)
            },
        )
        .collect()?;
    Ok(Tables { comparison })
}

/// How a cell is rendered.
pub(crate) enum Cell {
    Text(&'static str),
    Count(&'static str),
    Percent(&'static str),
    /// `mean ± std` of two percentage columns.
    PercentPm(&'static str, &'static str),
    Seconds(&'static str),
}

/// Renders the rows of `df` as text cells.
pub(crate) fn render(df: &DataFrame, cells: &[(String, Cell)]) -> Result<Vec<Vec<String>>> {
    let f64_at = |name: &str, i: usize| -> Result<f64> {
        Ok(df.column(name)?.f64()?.get(i).unwrap_or(f64::NAN))
    };
    let mut rows = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let mut row = Vec::with_capacity(cells.len());
        for (_, cell) in cells {
            row.push(match cell {
                Cell::Text(name) => df.column(name)?.str()?.get(i).unwrap_or("").to_owned(),
                Cell::Count(name) => df
                    .column(name)?
                    .cast(&DataType::UInt64)?
                    .u64()?
                    .get(i)
                    .map_or_else(String::new, |v| v.to_string()),
                Cell::Percent(name) => format!("{:.2}", 100.0 * f64_at(name, i)?),
                Cell::PercentPm(mean, std) => format!(
                    "{:.2} ± {:.2}",
                    100.0 * f64_at(mean, i)?,
                    100.0 * f64_at(std, i)?
                ),
                Cell::Seconds(name) => format!("{:.2}", f64_at(name, i)?),
            });
        }
        rows.push(row);
    }
    Ok(rows)
}

/// The columns of the comparison table; a selection metric other than accuracy and
/// macro-F1 (which always have columns) gets a CV column of its own after them.
pub(crate) fn comparison_cells(selection_metric: &str) -> Vec<(String, Cell)> {
    let mut cells: Vec<(&str, Cell)> = vec![
        ("method", Cell::Text("method")),
        ("dim", Cell::Count("feature_dim")),
        ("best swept parameters", Cell::Text("best_params")),
        (
            "CV accuracy %",
            Cell::PercentPm("cv_accuracy_mean", "cv_accuracy_std"),
        ),
        (
            "CV macro-F1 %",
            Cell::PercentPm("cv_f1_macro_mean", "cv_f1_macro_std"),
        ),
        ("test accuracy %", Cell::Percent("test_accuracy")),
        ("test macro-P %", Cell::Percent("test_precision_macro")),
        ("test macro-R %", Cell::Percent("test_recall_macro")),
        ("test macro-F1 %", Cell::Percent("test_f1_macro")),
        ("configs", Cell::Count("configurations")),
        ("feature time, wall s", Cell::Seconds("feature_seconds")),
        ("grid fit time, CPU s", Cell::Seconds("grid_seconds")),
    ];
    with_selection_column(&mut cells, selection_metric, 5)
}

fn with_selection_column(
    cells: &mut Vec<(&str, Cell)>,
    selection_metric: &str,
    position: usize,
) -> Vec<(String, Cell)> {
    let mut out: Vec<(String, Cell)> = cells.drain(..).map(|(h, c)| (h.to_owned(), c)).collect();
    if !matches!(selection_metric, "accuracy" | "f1_macro") {
        out.insert(
            position,
            (
                format!("CV {selection_metric} %"),
                Cell::PercentPm("cv_selection_mean", "cv_selection_std"),
            ),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparison_keeps_the_reports_order_and_counts_configs() {
        let t = build(&crate::sample_report().ordered_by_selection()).expect("tables");
        let rows = render(&t.comparison, &comparison_cells("f1_macro")).expect("render");
        assert_eq!(rows[0][0], "hog");
        assert_eq!(rows[1][0], "raw");
        assert_eq!(rows[0][9], "2", "two hog configurations");
        assert_eq!(rows[0][8], "86.00");
        assert_eq!(rows[0][11], "0.60", "grid time = sum of fit times");
    }
}
