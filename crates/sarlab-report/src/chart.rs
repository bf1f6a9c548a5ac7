//! The report's headline figure: each method's best configuration, its CV selection
//! metric (± fold std) and its test metrics (accuracy with its Wilson 95 % interval),
//! as dots on an axis zoomed to the data. Also the embedded font every figure uses.

use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::StudyReport;
use crate::axes::{category_panel, error_bar, legend};
use crate::error::{Error, Result};
use crate::figure::{Draw, failed, title, zoomed};

pub(crate) const FONT: &str = "sans-serif";

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

/// The series of the figure: label, colour, and where each method's dot sits
/// (value, and its interval when it has one), in percent.
type Series = (String, RGBColor, Vec<(f64, Option<(f64, f64)>)>);

pub(crate) struct MetricsChart<'a> {
    pub report: &'a StudyReport,
}

impl MetricsChart<'_> {
    fn series(&self) -> Vec<Series> {
        let r = self.report;
        let plain = |f: fn(&crate::MethodResult) -> f64| {
            r.methods
                .iter()
                .map(|m| (100.0 * f(m), None))
                .collect::<Vec<_>>()
        };
        vec![
            (
                format!("CV {} (± fold std)", r.selection_metric),
                RGBColor(107, 174, 214),
                r.methods
                    .iter()
                    .map(|m| {
                        let (mean, std) = m.cv_selection;
                        (
                            100.0 * mean,
                            Some((100.0 * (mean - std), 100.0 * (mean + std))),
                        )
                    })
                    .collect(),
            ),
            (
                "test accuracy (95 % CI)".to_owned(),
                RGBColor(8, 81, 156),
                r.methods
                    .iter()
                    .map(|m| {
                        (
                            100.0 * m.test_accuracy,
                            r.significance.interval_of(&m.method),
                        )
                    })
                    .collect(),
            ),
            (
                "test macro-precision".to_owned(),
                RGBColor(116, 196, 118),
                plain(|m| m.test_precision_macro),
            ),
            (
                "test macro-recall".to_owned(),
                RGBColor(253, 141, 60),
                plain(|m| m.test_recall_macro),
            ),
            (
                "test macro-F1".to_owned(),
                RGBColor(203, 24, 29),
                plain(|m| m.test_f1_macro),
            ),
        ]
    }
}

impl Draw for MetricsChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let name = "metrics";
        let series = self.series();
        let labels: Vec<(RGBColor, &str)> =
            series.iter().map(|(l, c, _)| (*c, l.as_str())).collect();
        let (top, rest) = labels.split_at(2.min(labels.len()));
        legend(root, name, top, 10)?;
        legend(root, name, rest, 28)?;
        title(
            root,
            name,
            &format!("{}: best configuration per method", self.report.study),
            10,
        )?;
        let body = root.margin(40, 0, 0, 0);
        let methods: Vec<String> = self
            .report
            .methods
            .iter()
            .map(|m| m.method.clone())
            .collect();
        let y = zoomed(series.iter().flat_map(|(_, _, points)| {
            points
                .iter()
                .flat_map(|(v, i)| [Some(*v), i.map(|i| i.0), i.map(|i| i.1)])
                .flatten()
        }));
        let mut chart = category_panel(&body, name, "", &methods, y, "%")?;
        let width = 0.6 / series.len() as f64;
        for (k, (_, colour, points)) in series.iter().enumerate() {
            let offset = (k as f64 - (series.len() as f64 - 1.0) / 2.0) * width;
            for (i, (value, interval)) in points.iter().enumerate() {
                let x = i as f64 + offset;
                if let Some(interval) = interval {
                    error_bar(&mut chart, name, x, *interval, *colour)?;
                }
                chart
                    .draw_series([Circle::new((x, *value), 3, colour.filled())])
                    .map_err(|e| failed(name)(&e))?;
            }
        }
        Ok(())
    }
}

/// The figure as PNG, at its print size.
pub(crate) fn png(report: &StudyReport, size: (u32, u32)) -> Result<Vec<u8>> {
    register_font()?;
    let mut rgb = vec![0u8; (size.0 * size.1 * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| failed("metrics")(&e))?;
        MetricsChart { report }.draw(&root)?;
        root.present().map_err(|e| failed("metrics")(&e))?;
    }
    Ok(rgb)
}
