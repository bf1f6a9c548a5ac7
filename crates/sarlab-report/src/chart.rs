//! Figures, drawn with plotters to SVG and to an RGB buffer encoded as PNG.

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::{Error, Result};
use crate::{MethodResult, StudyReport};

const WIDTH: u32 = 1000;
const HEIGHT: u32 = 560;
pub(crate) const FONT: &str = "sans-serif";

/// A figure rendered for both outputs.
pub(crate) struct Chart {
    pub svg: String,
    rgb: Vec<u8>,
}

type MetricOf = fn(&MethodResult) -> f64;

/// The bars of each method group: label, value, colour.
const METRICS: [(&str, MetricOf, RGBColor); 5] = [
    ("CV accuracy", |m| m.cv_accuracy.0, RGBColor(158, 202, 225)),
    ("test accuracy", |m| m.test_accuracy, RGBColor(49, 130, 189)),
    (
        "test macro-precision",
        |m| m.test_precision_macro,
        RGBColor(116, 196, 118),
    ),
    (
        "test macro-recall",
        |m| m.test_recall_macro,
        RGBColor(253, 174, 107),
    ),
    ("test macro-F1", |m| m.test_f1_macro, RGBColor(222, 45, 38)),
];

/// plotters draws text through a process-wide font registry: register the embedded
/// DejaVu Sans once, so figures do not depend on the fonts a machine has.
pub(crate) fn register_font() -> Result<()> {
    static ONCE: Once = Once::new();
    let mut failed = false;
    ONCE.call_once(|| {
        failed = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
            .is_err();
    });
    if failed {
        return Err(Error::Draw {
            name: "font".to_owned(),
            message: "the embedded DejaVu Sans font could not be loaded".to_owned(),
        });
    }
    Ok(())
}

fn draw_error(e: impl std::fmt::Display) -> Error {
    Error::Draw {
        name: "metrics".to_owned(),
        message: e.to_string(),
    }
}

/// Grouped bars: for each feature method, CV accuracy and the four test metrics.
pub(crate) fn metrics_chart(report: &StudyReport) -> Result<Chart> {
    register_font()?;
    let mut svg = String::new();
    draw_metrics(
        SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area(),
        report,
    )?;
    let mut rgb = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    draw_metrics(
        BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area(),
        report,
    )?;
    Ok(Chart { svg, rgb })
}

fn draw_metrics<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    report: &StudyReport,
) -> Result<()> {
    root.fill(&WHITE).map_err(draw_error)?;
    let n = report.methods.len();
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "{}: metrics per feature method (best configuration)",
                report.study
            ),
            (FONT, 22),
        )
        .margin(16)
        .margin_right(230)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0..n as f64, 0.0..100.0)
        .map_err(draw_error)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc("%")
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 16))
        .draw()
        .map_err(draw_error)?;

    let bar = 0.8 / METRICS.len() as f64;
    for (k, (_, value_of, colour)) in METRICS.iter().enumerate() {
        let rects = report.methods.iter().enumerate().map(|(i, m)| {
            let x0 = i as f64 + 0.1 + k as f64 * bar;
            Rectangle::new(
                [(x0, 0.0), (x0 + bar * 0.92, 100.0 * value_of(m))],
                colour.filled(),
            )
        });
        chart.draw_series(rects).map_err(draw_error)?;
        let values = report.methods.iter().enumerate().map(|(i, m)| {
            let x = i as f64 + 0.1 + (k as f64 + 0.46) * bar;
            let v = 100.0 * value_of(m);
            Text::new(
                format!("{v:.1}"),
                (x, v + 0.8),
                (FONT, 11)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Bottom)),
            )
        });
        chart.draw_series(values).map_err(draw_error)?;
    }
    // The legend goes in the right margin, where no bar can hide under it (plotters'
    // own series legend is clipped to the plotting area).
    let (right, top) = chart.backend_coord(&(n as f64, 100.0));
    for (k, (label, _, colour)) in METRICS.iter().enumerate() {
        let y = top + 10 + 24 * k as i32;
        root.draw(&Rectangle::new(
            [(right + 16, y), (right + 32, y + 14)],
            colour.filled(),
        ))
        .map_err(draw_error)?;
        root.draw(&Text::new(
            *label,
            (right + 40, y + 7),
            (FONT, 14)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(draw_error)?;
    }
    // Method names under each group (a categorical axis drawn by hand).
    for (i, m) in report.methods.iter().enumerate() {
        let (px, py) = chart.backend_coord(&(i as f64 + 0.5, 0.0));
        root.draw(&Text::new(
            m.method.clone(),
            (px, py + 10),
            (FONT, 17)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Top)),
        ))
        .map_err(draw_error)?;
    }
    root.present().map_err(draw_error)
}

pub(crate) fn save_png(chart: &Chart, path: &Path) -> Result<()> {
    crate::save_rgb_png(path, &chart.rgb, WIDTH, HEIGHT)
}
