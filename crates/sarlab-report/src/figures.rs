//! Every figure of a report, drawn into the report's folder: what each section of the
//! page inlines, and what `tables.tex`'s paper takes as PDF.

use std::path::Path;

use crate::StudyReport;
use crate::class_figures::{ClassScores, Confusion, FoldBoxes};
use crate::error::Result;
use crate::figure::{Figure, PrintWidth, render, slug};
use crate::sweep_figures::{
    Heatmap, Parallel, SLICE_COLUMNS, SLICE_PANEL_HEIGHT, Slices, pair_grids,
};

/// The figures by section, each in the report's method order.
#[derive(Debug, Default)]
pub(crate) struct Figures {
    /// Per method: its slice figure, then a heatmap per pair of swept parameters.
    pub sweeps: Vec<(String, Vec<Figure>)>,
    pub parallel: Option<Figure>,
    pub folds: Option<Figure>,
    /// Per method: per-class scores, then the confusion matrix.
    pub classes: Vec<(String, Vec<Figure>)>,
}

impl Figures {
    pub(crate) fn files(&self) -> impl Iterator<Item = &std::path::PathBuf> {
        self.sweeps
            .iter()
            .chain(&self.classes)
            .flat_map(|(_, f)| f)
            .chain(&self.parallel)
            .chain(&self.folds)
            .flat_map(|f| &f.files)
    }
}

pub(crate) fn draw_all(report: &StudyReport, dir: &Path) -> Result<Figures> {
    let metric = report.selection_metric.as_str();
    let mut figures = Figures::default();
    for sweep in &report.sweeps {
        let method = slug(&sweep.method);
        let mut mine = Vec::new();
        let rows = sweep.parameters.len().div_ceil(SLICE_COLUMNS) as u32;
        mine.push(render(
            dir,
            &format!("sweep_{method}"),
            format!(
                "{}: mean CV {metric} at each value of every swept parameter; blue the best \
                 configuration with that value (error bar: its fold standard deviation), orange \
                 the mean over every configuration with that value. Panels in order of importance.",
                sweep.method
            ),
            (PrintWidth::Double, rows * SLICE_PANEL_HEIGHT + 24),
            &Slices { sweep, metric },
        )?);
        for grid in pair_grids(sweep, &report.configs) {
            let width = match grid.x.1.len() > 6 {
                true => PrintWidth::Double,
                false => PrintWidth::Single,
            };
            mine.push(render(
                dir,
                &format!("pair_{method}_{}_{}", slug(&grid.x.0), slug(&grid.y.0)),
                format!(
                    "{}: the best mean CV {metric} (%) of each {} × {} cell over the other \
                     parameters; the red frame marks the method's best configuration.",
                    sweep.method, grid.x.0, grid.y.0
                ),
                (width, Heatmap::height_for(&grid, width.px())),
                &Heatmap {
                    method: &sweep.method,
                    metric,
                    grid: &grid,
                },
            )?);
        }
        figures.sweeps.push((sweep.method.clone(), mine));
    }
    let parallel = Parallel {
        configs: &report.configs,
        sweeps: &report.sweeps,
        metric,
    };
    if parallel.is_useful() {
        figures.parallel = Some(render(
            dir,
            "parallel_coordinates",
            format!(
                "Every configuration of the study as a line through its parameter values, \
                 coloured by its mean CV {metric}; a parameter a method does not have sits at —."
            ),
            (PrintWidth::Double, 340),
            &parallel,
        )?);
    }
    if report.methods.iter().any(|m| !m.fold_scores.is_empty()) {
        figures.folds = Some(render(
            dir,
            "folds",
            format!(
                "CV {metric} of each fold of each method's best configuration: box from the \
                 first to the third quartile, median line, whiskers to the extremes, a dot per fold."
            ),
            (PrintWidth::Single, 260),
            &FoldBoxes {
                methods: &report.methods,
                metric,
            },
        )?);
    }
    for m in &report.methods {
        let method = slug(&m.method);
        let mut mine = Vec::new();
        if !m.test_classes.is_empty() || !m.cv_classes.is_empty() {
            let panels =
                u32::from(!m.test_classes.is_empty()) + u32::from(!m.cv_classes.is_empty());
            mine.push(render(
                dir,
                &format!("classes_{method}"),
                format!(
                    "{}: precision, recall and F1 per class (support in brackets) on the test \
                     split and on the CV predictions pooled over folds.",
                    m.method
                ),
                (PrintWidth::Double, 24 + panels * 230),
                &ClassScores { method: m },
            )?);
        }
        if !m.confusion.is_empty() {
            let width = match report.classes.len() > 6 {
                true => PrintWidth::Double,
                false => PrintWidth::Single,
            };
            mine.push(render(
                dir,
                &format!("confusion_{method}"),
                format!(
                    "{}: test confusion matrix, each row divided by its true class's count \
                     (colour), chips counted in the cells.",
                    m.method
                ),
                (width, Confusion::height(report.classes.len(), width.px())),
                &Confusion {
                    method: m,
                    classes: &report.classes,
                },
            )?);
        }
        figures.classes.push((m.method.clone(), mine));
    }
    Ok(figures)
}
