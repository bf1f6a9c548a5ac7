//! Reports of sarlab studies: a comparison of feature methods (cross-validated and
//! test metrics, best parameters, timings), every configuration's CV scores, confusion
//! matrices, and figures — written as a self-contained `index.html` (figures inlined
//! as SVG, viewable offline), `summary.md`, and PNG/SVG figure files.
//!
//! Tables are built with polars; figures are drawn with plotters using an embedded
//! font, so reports look the same on every machine.

mod axes;
mod chart;
mod class_figures;
mod compare;
mod config_table;
mod error;
pub mod export;
mod figure;
mod figures;
mod html;
mod panel;
mod pdf;
mod per_class;
mod significance;
mod sweep;
mod sweep_figures;
mod tables;
mod tex;

use std::fs;

use image::ImageEncoder as _;
use std::path::{Path, PathBuf};

pub use compare::write_comparison;
pub use error::{Error, Result};
pub use panel::{write_panel_figure, write_panel_grid};
pub use significance::{AccuracyInterval, PairTest, Significance};
pub use sweep::{LevelSummary, MethodSweep, SweptParameter};

/// Best configuration of one feature method, refit on train and scored on test.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodResult {
    pub method: String,
    /// Human-readable best parameters, e.g. `orientations=9 C=10 gamma=scale`.
    pub best_params: String,
    pub feature_dim: usize,
    /// Mean and population standard deviation over folds.
    pub cv_accuracy: (f64, f64),
    pub cv_f1_macro: (f64, f64),
    /// Mean and std over folds of the study's selection metric
    /// ([`StudyReport::selection_metric`]): what picked this configuration, and what
    /// orders methods on the page.
    pub cv_selection: (f64, f64),
    pub test_accuracy: f64,
    pub test_precision_macro: f64,
    pub test_recall_macro: f64,
    pub test_f1_macro: f64,
    /// Seconds spent extracting features (all parameter settings of the method).
    pub feature_seconds: f64,
    /// `confusion[true][predicted]` on the test split.
    pub confusion: Vec<Vec<usize>>,
    /// The same over the cross-validation's validation folds, pooled (every train chip
    /// predicted once, by the fold that left it out); empty when not recorded.
    pub cv_confusion: Vec<Vec<usize>>,
    /// Per class on the test split, and on the pooled CV predictions.
    pub test_classes: Vec<ClassScore>,
    pub cv_classes: Vec<ClassScore>,
    /// The selection metric of each CV fold of the best configuration, in fold order.
    pub fold_scores: Vec<f64>,
    /// Ids of the best configuration's CV run and of its test run.
    pub cv_run: String,
    pub test_run: String,
    /// The test run's saved model file, as recorded (relative to where the study ran,
    /// or absolute); the page links it relative to the report's folder.
    pub model: Option<String>,
}

/// Precision, recall, F1 and support of one class.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassScore {
    pub class: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// The population standard deviation of the class's F1 over CV folds (CV scores
    /// only, when each fold's confusion matrix is recorded).
    pub f1_fold_std: Option<f64>,
    /// True samples of the class.
    pub support: usize,
}

/// Cross-validation scores of one configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigResult {
    pub method: String,
    pub params: String,
    /// Every recorded parameter of the configuration as (short key, value text), in
    /// recorded order: tables split swept from fixed ones, figures plot the swept.
    pub values: Vec<(String, String)>,
    pub cv_accuracy: (f64, f64),
    pub cv_f1_macro: (f64, f64),
    /// Mean and std over folds of the study's selection metric.
    pub cv_selection: (f64, f64),
    /// Total fit time over folds, seconds.
    pub fit_seconds: f64,
    /// Test accuracy and macro-F1 when the configuration was also scored on the test
    /// split (`svm.test = "all"`, or a method's best): outcomes, never a choice.
    pub test: Option<(f64, f64)>,
}

/// Everything a study report shows.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyReport {
    pub study: String,
    pub spec_path: String,
    pub seed: u64,
    pub dataset_path: String,
    pub dataset_digest: String,
    pub classes: Vec<String>,
    pub train_chips: usize,
    pub test_chips: usize,
    pub folds: usize,
    /// The CV metric (a scikit-learn metric name, the spec's `svm.metric`) that picks
    /// each method's best configuration and orders methods and configurations
    /// everywhere in the report. Test metrics are outcomes: they never pick or order.
    pub selection_metric: String,
    pub db_path: String,
    pub parent_run: String,
    pub git_commit: String,
    pub methods: Vec<MethodResult>,
    pub configs: Vec<ConfigResult>,
    /// Image figures (e.g. HOG glyphs of example chips), drawn as panel grids.
    pub images: Vec<ImageFigure>,
    /// Intervals and paired tests between the methods (none with a single method).
    pub significance: Significance,
    /// Per method, what its swept parameters do to the CV metric (methods without a
    /// sweep are left out).
    pub sweeps: Vec<MethodSweep>,
    /// Where and how the study ran (`date`, `host`, `threads`, `sarlab version`,
    /// `command line`…), as label and value, in display order.
    pub provenance: Vec<(String, String)>,
    /// The spec's TOML as the study read it.
    pub spec_toml: String,
}

/// A grid of images for the report, written as `<file_stem>.png` and inlined in
/// `index.html`.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageFigure {
    pub file_stem: String,
    pub caption: String,
    /// Panels per grid row.
    pub columns: usize,
    pub panels: Vec<(String, ndarray::Array2<f64>)>,
}

/// Paths of the files a report consists of.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportFiles {
    pub index_html: PathBuf,
    pub summary_md: PathBuf,
    /// The tables for a paper, in LaTeX (booktabs).
    pub tables_tex: PathBuf,
    pub figures: Vec<PathBuf>,
}

/// Height of the headline figure, px at 96 per inch.
const METRICS_HEIGHT: u32 = 300;

/// Writes the report into `dir` (created if needed), replacing an earlier one.
pub fn write_report(report: &StudyReport, dir: &Path) -> Result<ReportFiles> {
    if report.methods.is_empty() {
        return Err(Error::Empty);
    }
    fs::create_dir_all(dir).map_err(|source| Error::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut ordered = report.ordered_by_selection();
    for method in &mut ordered.methods {
        method.model = method.model.as_deref().map(|path| relative_link(dir, path));
    }
    let report = &ordered;
    let tables = tables::build(report)?;
    let size = (figure::PrintWidth::Double, METRICS_HEIGHT);
    let chart = figure::render(
        dir,
        "metrics",
        format!(
            "Each method's best configuration: mean CV {} (error bar: fold standard deviation) \
             and its test scores (error bar: the Wilson 95 % interval of test accuracy).",
            report.selection_metric
        ),
        size,
        &chart::MetricsChart { report },
    )?;
    let png_path = dir.join("metrics.png");
    let pixels = (size.0.px(), size.1);
    save_rgb_png(&png_path, &chart::png(report, pixels)?, pixels.0, pixels.1)?;
    let drawn = figures::draw_all(report, dir)?;
    let mut figures = vec![png_path];
    figures.extend(chart.files.iter().cloned());
    figures.extend(drawn.files().cloned());
    let mut inlined = Vec::new();
    for figure in &report.images {
        let path = dir.join(format!("{}.png", figure.file_stem));
        let panels: Vec<(&str, ndarray::ArrayView2<'_, f64>)> = figure
            .panels
            .iter()
            .map(|(title, image)| (title.as_str(), image.view()))
            .collect();
        write_panel_grid(&panels, figure.columns, &path)?;
        let bytes = fs::read(&path).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
        inlined.push(html::InlineImage {
            file_name: format!("{}.png", figure.file_stem),
            caption: figure.caption.clone(),
            png: bytes,
        });
        figures.push(path);
    }

    let summary_md = dir.join("summary.md");
    write_file(
        &summary_md,
        html::markdown(report, &tables, &inlined, &drawn)?.as_bytes(),
    )?;
    let tables_tex = dir.join("tables.tex");
    write_file(&tables_tex, tex::tables_tex(report).as_bytes())?;
    let index_html = dir.join("index.html");
    write_file(
        &index_html,
        html::page(report, &tables, &chart, &inlined, &drawn)?.as_bytes(),
    )?;
    Ok(ReportFiles {
        index_html,
        summary_md,
        tables_tex,
        figures,
    })
}

impl StudyReport {
    /// The report with its methods ordered by mean CV selection metric (best first;
    /// ties keep the study's order), and its configurations grouped by method in that
    /// order, best CV first within a method. Every table, chart and matrix of the
    /// report, and the terminal summary, follow this one order.
    pub fn ordered_by_selection(&self) -> StudyReport {
        let mut ordered = self.clone();
        ordered
            .methods
            .sort_by(|a, b| descending(a.cv_selection.0, b.cv_selection.0));
        let rank = |method: &str| {
            ordered
                .methods
                .iter()
                .position(|m| m.method == method)
                .unwrap_or(usize::MAX)
        };
        let mut configs = std::mem::take(&mut ordered.configs);
        configs.sort_by(|a, b| {
            rank(&a.method)
                .cmp(&rank(&b.method))
                .then_with(|| descending(a.cv_selection.0, b.cv_selection.0))
        });
        ordered.configs = configs;
        ordered
    }
}

impl ConfigResult {
    /// The text of the configuration's parameter `key`, if it has one.
    pub fn value(&self, key: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

impl StudyReport {
    /// The `key=value` settings of `method`'s best configuration that its sweep varies
    /// (all of them when it sweeps nothing): what tables show beside the method, the
    /// settings every configuration shares being listed once with its configurations.
    pub fn best_swept(&self, method: &MethodResult) -> String {
        let Some(sweep) = self.sweeps.iter().find(|s| s.method == method.method) else {
            return method.best_params.clone();
        };
        let swept: Vec<&str> = method
            .best_params
            .split(' ')
            .filter(|token| {
                token
                    .split_once('=')
                    .is_some_and(|(key, _)| sweep.parameters.iter().any(|p| p.name == key))
            })
            .collect();
        match swept.is_empty() {
            true => method.best_params.clone(),
            false => swept.join(" "),
        }
    }
}

/// Larger first; NaN (a metric that could not be computed) last.
fn descending(a: f64, b: f64) -> std::cmp::Ordering {
    match (a.is_nan(), b.is_nan()) {
        (false, false) => b.total_cmp(&a),
        (a_nan, b_nan) => a_nan.cmp(&b_nan),
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic(path, |out| out.write_all(bytes))
}

/// Replaces `path` whole or not at all (see [`sarlab_io::safe_write::write_atomic`]).
pub(crate) fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<()> {
    sarlab_io::safe_write::write_atomic(path, write).map_err(|err| match err {
        sarlab_io::Error::Write { path, source } => Error::Write { path, source },
        other => Error::Write {
            path: path.to_path_buf(),
            source: std::io::Error::other(other.to_string()),
        },
    })
}

/// Encodes an RGB8 buffer as PNG and writes it atomically.
pub(crate) fn save_rgb_png(path: &Path, rgb: &[u8], width: u32, height: u32) -> Result<()> {
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(rgb, width, height, image::ExtendedColorType::Rgb8)
        .map_err(|source| Error::Encode {
            path: path.to_path_buf(),
            source,
        })?;
    write_file(path, &png)
}

#[cfg(test)]
fn class_score(class: &str, precision: f64, recall: f64, support: usize) -> ClassScore {
    ClassScore {
        class: class.to_owned(),
        precision,
        recall,
        f1: 2.0 * precision * recall / (precision + recall),
        f1_fold_std: Some(0.05),
        support,
    }
}

/// `path` as a link from a page in `dir`: relative when both resolve under one root
/// (so a report and its models move together), as given otherwise. Separators are `/`.
fn relative_link(dir: &Path, path: &str) -> String {
    let (Ok(from), Ok(to)) = (std::path::absolute(dir), std::path::absolute(path)) else {
        return path.to_owned();
    };
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return path.to_owned();
    }
    let mut parts: Vec<String> = vec!["..".to_owned(); from.len() - common];
    parts.extend(
        to[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

#[cfg(test)]
pub(crate) fn sample_report() -> StudyReport {
    let method = |name: &str, f1: f64| MethodResult {
        method: name.to_owned(),
        best_params: "C=10 gamma=scale".to_owned(),
        feature_dim: 900,
        cv_accuracy: (f1 + 0.05, 0.01),
        cv_f1_macro: (f1 + 0.04, 0.012),
        cv_selection: (f1 + 0.04, 0.012),
        test_accuracy: f1 + 0.01,
        test_precision_macro: f1 + 0.02,
        test_recall_macro: f1 + 0.01,
        test_f1_macro: f1,
        feature_seconds: 0.5,
        confusion: vec![vec![9, 1], vec![2, 8]],
        cv_confusion: vec![vec![8, 2], vec![1, 9]],
        test_classes: vec![
            class_score("tank", 9.0 / 11.0, 0.9, 10),
            class_score("truck", 8.0 / 9.0, 0.8, 10),
        ],
        cv_classes: vec![
            class_score("tank", 8.0 / 9.0, 0.8, 10),
            class_score("truck", 9.0 / 11.0, 0.9, 10),
        ],
        fold_scores: vec![f1 + 0.03, f1 + 0.05, f1 + 0.04],
        cv_run: format!("cv-{name}"),
        test_run: format!("test-{name}"),
        model: Some(format!("models/study/{name}-0123.safetensors")),
    };
    let config = |name: &str, c: f64, f1: f64| ConfigResult {
        method: name.to_owned(),
        params: format!("C={c} gamma=scale"),
        values: vec![
            ("crop".to_owned(), "48".to_owned()),
            ("C".to_owned(), c.to_string()),
            ("gamma".to_owned(), "scale".to_owned()),
        ],
        cv_accuracy: (f1 + 0.01, 0.02),
        cv_f1_macro: (f1, 0.02),
        cv_selection: (f1, 0.02),
        fit_seconds: 0.3,
        test: None,
    };
    StudyReport {
        study: "demo".to_owned(),
        spec_path: "experiments/demo.toml".to_owned(),
        seed: 7,
        dataset_path: "datasets/synthetic".to_owned(),
        dataset_digest: "abc123".to_owned(),
        classes: vec!["tank".to_owned(), "truck".to_owned()],
        train_chips: 20,
        test_chips: 20,
        folds: 3,
        selection_metric: "f1_macro".to_owned(),
        db_path: "sarlab.db".to_owned(),
        parent_run: "run-1".to_owned(),
        git_commit: "deadbeef".to_owned(),
        methods: vec![method("raw", 0.71), method("hog", 0.86)],
        configs: vec![
            config("raw", 1.0, 0.70),
            config("raw", 10.0, 0.74),
            config("hog", 1.0, 0.85),
            config("hog", 10.0, 0.90),
        ],
        images: vec![ImageFigure {
            file_stem: "hog_glyphs".to_owned(),
            caption: "HOG glyphs".to_owned(),
            columns: 2,
            panels: vec![
                (
                    "tank".to_owned(),
                    ndarray::Array2::from_shape_fn((16, 16), |(r, c)| (r * c) as f64),
                ),
                (
                    "truck".to_owned(),
                    ndarray::Array2::from_shape_fn((16, 16), |(r, c)| (r + c) as f64),
                ),
            ],
        }],
        significance: Significance {
            accuracy: vec![AccuracyInterval {
                method: "hog".to_owned(),
                correct: 17,
                chips: 20,
                low: 0.6396,
                high: 0.9476,
            }],
            pairs: vec![PairTest {
                first: "hog".to_owned(),
                second: "raw".to_owned(),
                mcnemar: Some((4, 1, 0.375)),
                fold_t: Some((0.12, 0.0000312)),
            }],
            metric: "f1_macro".to_owned(),
        },
        provenance: vec![
            ("date".to_owned(), "2026-12-01 18:00:00 UTC".to_owned()),
            ("host".to_owned(), "lab-node-3".to_owned()),
        ],
        spec_toml: "name = \"demo\"\nseed = 7 # <b>\n".to_owned(),
        sweeps: vec![MethodSweep {
            method: "hog".to_owned(),
            parameters: vec![SweptParameter {
                name: "C".to_owned(),
                importance: 0.875,
                levels: vec![
                    LevelSummary {
                        value: "1".to_owned(),
                        configurations: 1,
                        mean: 0.85,
                        best: (0.85, 0.02),
                    },
                    LevelSummary {
                        value: "10".to_owned(),
                        configurations: 1,
                        mean: 0.90,
                        best: (0.90, 0.02),
                    },
                ],
            }],
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_links_are_relative_to_the_report_folder() {
        assert_eq!(
            relative_link(
                Path::new("reports/quickstart"),
                "models/quickstart/raw-1.safetensors"
            ),
            "../../models/quickstart/raw-1.safetensors"
        );
        assert_eq!(
            relative_link(Path::new("/data/out/r"), "/data/models/m.safetensors"),
            "../../models/m.safetensors"
        );
    }

    #[test]
    fn writes_every_file_and_names_every_method() {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = write_report(&sample_report(), dir.path()).expect("report");
        let html = fs::read_to_string(&files.index_html).expect("html");
        for needle in [
            "raw",
            "hog",
            "<svg",
            "86.00",
            "C=10 gamma=scale",
            "tank",
            "data:image/png;base64,iVBORw0KGgo",
            "HOG glyphs",
        ] {
            assert!(html.contains(needle), "index.html lacks {needle}");
        }
        assert!(
            !html.contains("src=\"http"),
            "report must not load remote resources"
        );
        let md = fs::read_to_string(&files.summary_md).expect("md");
        assert!(md.contains("| hog |"), "{md}");
        for fig in &files.figures {
            assert!(
                fs::metadata(fig).expect("figure").len() > 1000,
                "{}",
                fig.display()
            );
        }
        let png = image::open(dir.path().join("metrics.png")).expect("png decodes");
        assert!(png.width() >= 600);
        assert!(files.figures.contains(&dir.path().join("hog_glyphs.png")));
        assert!(md.contains("![HOG glyphs](hog_glyphs.png)"), "{md}");
    }

    #[test]
    fn the_cv_metric_picks_and_orders_never_the_test_split() {
        // CV ranks gabor > hog > raw; the test split would rank hog first.
        let mut report = sample_report();
        report.selection_metric = "balanced_accuracy".to_owned();
        let method = |name: &str, cv: f64, test: f64| MethodResult {
            method: name.to_owned(),
            cv_selection: (cv, 0.01),
            test_f1_macro: test,
            test_accuracy: test,
            ..sample_report().methods[0].clone()
        };
        report.methods = vec![
            method("raw", 0.80, 0.70),
            method("hog", 0.91, 0.90),
            method("gabor", 0.97, 0.88),
        ];
        report.configs = ["raw", "hog", "gabor"]
            .iter()
            .flat_map(|m| {
                [0.5, 0.6].map(|cv| ConfigResult {
                    method: (*m).to_owned(),
                    params: format!("cv={cv}"),
                    cv_selection: (cv, 0.0),
                    ..sample_report().configs[0].clone()
                })
            })
            .collect();
        let ordered = report.ordered_by_selection();
        let names: Vec<&str> = ordered.methods.iter().map(|m| m.method.as_str()).collect();
        assert_eq!(names, ["gabor", "hog", "raw"]);
        let configs: Vec<(&str, &str)> = ordered
            .configs
            .iter()
            .map(|c| (c.method.as_str(), c.params.as_str()))
            .collect();
        assert_eq!(
            configs,
            [
                ("gabor", "cv=0.6"),
                ("gabor", "cv=0.5"),
                ("hog", "cv=0.6"),
                ("hog", "cv=0.5"),
                ("raw", "cv=0.6"),
                ("raw", "cv=0.5")
            ]
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let files = write_report(&report, dir.path()).expect("report");
        let html = fs::read_to_string(&files.index_html).expect("html");
        assert!(
            html.contains("Best feature method by mean CV balanced_accuracy: <b>gabor</b> (<b>97.00 ± 1.00</b> %)"),
            "{html}"
        );
        assert!(html.contains("<th>CV balanced_accuracy %</th>"), "{html}");
        let (gabor, hog, raw) = (
            html.find("<td class=\"text\">gabor</td>")
                .expect("gabor row"),
            html.find("<td class=\"text\">hog</td>").expect("hog row"),
            html.find("<td class=\"text\">raw</td>").expect("raw row"),
        );
        assert!(gabor < hog && hog < raw, "table rows follow the CV order");
        let md = fs::read_to_string(&files.summary_md).expect("md");
        assert!(
            md.contains("by mean CV balanced_accuracy: **gabor**"),
            "{md}"
        );
    }

    #[test]
    fn the_significance_section_is_on_the_page_and_in_the_summary() {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = write_report(&sample_report(), dir.path()).expect("report");
        let html = fs::read_to_string(&files.index_html).expect("html");
        for needle in [
            "Uncertainty and significance",
            "63.96 – 94.76",
            "17/20",
            "hog vs raw",
            "4 / 1",
            "0.3750",
            "+12.00",
            "3.1e-5",
        ] {
            assert!(html.contains(needle), "{needle} not on the page");
        }
        let md = fs::read_to_string(&files.summary_md).expect("md");
        assert!(
            md.contains("## Uncertainty and significance") && md.contains("hog vs raw"),
            "{md}"
        );
        // A study without intervals has no such section.
        let plain = StudyReport {
            significance: Significance::default(),
            ..sample_report()
        };
        let files = write_report(&plain, &dir.path().join("plain")).expect("report");
        let html = fs::read_to_string(&files.index_html).expect("html");
        assert!(!html.contains("Uncertainty and significance"));
    }

    #[test]
    fn tables_name_the_swept_settings_of_a_best_configuration() {
        let report = sample_report();
        // hog sweeps C only; raw sweeps nothing, so it shows every setting.
        assert_eq!(report.best_swept(&report.methods[1]), "C=10");
        assert_eq!(report.best_swept(&report.methods[0]), "C=10 gamma=scale");
    }

    #[test]
    fn empty_report_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let report = StudyReport {
            methods: vec![],
            ..sample_report()
        };
        assert!(matches!(
            write_report(&report, dir.path()),
            Err(Error::Empty)
        ));
    }
}
