//! The sweep figures: per method, the CV metric at each value of every swept
//! parameter (best and mean over the rest, fold error bars); per pair of swept
//! parameters a heatmap of the best CV metric, the best cell marked; and parallel
//! coordinates over every configuration of the study.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use crate::axes::{category_panel, error_bar, labels_fit, legend};
use crate::error::Result;
use crate::figure::{
    Draw, SMALL, cell, colour_bar, failed, text, title, upright_text, viridis, zoomed,
};
use crate::{ConfigResult, MethodSweep, SweptParameter};

const BEST: RGBColor = RGBColor(31, 119, 180);
const MEAN: RGBColor = RGBColor(230, 85, 13);

/// Panels per row of a slice figure.
pub(crate) const SLICE_COLUMNS: usize = 3;
pub(crate) const SLICE_PANEL_HEIGHT: u32 = 210;

/// One method's swept parameters, a panel each: the CV metric at each value.
pub(crate) struct Slices<'a> {
    pub sweep: &'a MethodSweep,
    pub metric: &'a str,
}

impl Draw for Slices<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let name = "sweep";
        let parameters = &self.sweep.parameters;
        let rows = parameters.len().div_ceil(SLICE_COLUMNS);
        let (body, head) = (root.margin(22, 0, 0, 0), root);
        legend(
            head,
            name,
            &[
                (BEST, "best (± fold std)"),
                (MEAN, "mean over the other parameters"),
            ],
            11,
        )?;
        title(
            head,
            name,
            &format!("{}: CV {} % per value", self.sweep.method, self.metric),
            11,
        )?;
        let panels = body.split_evenly((rows, SLICE_COLUMNS.min(parameters.len())));
        for (panel, parameter) in panels.iter().zip(parameters) {
            slice_panel(panel, name, parameter)?;
        }
        Ok(())
    }
}

fn slice_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    name: &str,
    parameter: &SweptParameter,
) -> Result<()> {
    let levels = &parameter.levels;
    let categories: Vec<String> = levels.iter().map(|l| l.value.clone()).collect();
    let y = zoomed(levels.iter().flat_map(|l| {
        [
            100.0 * (l.best.0 - l.best.1),
            100.0 * (l.best.0 + l.best.1),
            100.0 * l.mean,
        ]
    }));
    let title = format!(
        "{} ({:.1} % of variance)",
        parameter.name,
        100.0 * parameter.importance
    );
    let mut chart = category_panel(area, name, &title, &categories, y, "CV %")?;
    let best: Vec<(f64, f64)> = levels
        .iter()
        .enumerate()
        .map(|(i, l)| (i as f64, 100.0 * l.best.0))
        .collect();
    let mean: Vec<(f64, f64)> = levels
        .iter()
        .enumerate()
        .map(|(i, l)| (i as f64 + 0.06, 100.0 * l.mean))
        .collect();
    for (i, l) in levels.iter().enumerate() {
        if l.best.1.is_finite() {
            error_bar(
                &mut chart,
                name,
                i as f64,
                (100.0 * (l.best.0 - l.best.1), 100.0 * (l.best.0 + l.best.1)),
                BEST,
            )?;
        }
    }
    for (points, colour) in [(best, BEST), (mean, MEAN)] {
        chart
            .draw_series([PathElement::new(points.clone(), colour.stroke_width(1))])
            .map_err(|e| failed(name)(&e))?;
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 3, colour.filled())))
            .map_err(|e| failed(name)(&e))?;
    }
    Ok(())
}

/// The best CV metric (percent) of each (x value, y value) cell of two swept
/// parameters, over the other parameters; `None` where no configuration has both.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PairGrid {
    pub x: (String, Vec<String>),
    pub y: (String, Vec<String>),
    /// `cells[row][column]`: row = y value, column = x value.
    pub cells: Vec<Vec<Option<f64>>>,
    /// The cell of the method's best configuration.
    pub best: Option<(usize, usize)>,
}

/// Every pair of the method's swept parameters, in the sweep's order of importance.
pub(crate) fn pair_grids(sweep: &MethodSweep, configs: &[ConfigResult]) -> Vec<PairGrid> {
    let mine: Vec<&ConfigResult> = configs
        .iter()
        .filter(|c| c.method == sweep.method)
        .collect();
    let best_config =
        mine.iter()
            .filter(|c| c.cv_selection.0.is_finite())
            .fold(None::<&ConfigResult>, |b, c| match b {
                Some(b) if b.cv_selection.0 >= c.cv_selection.0 => Some(b),
                _ => Some(c),
            });
    let mut out = Vec::new();
    let ps = &sweep.parameters;
    for (i, p) in ps.iter().enumerate() {
        for q in &ps[i + 1..] {
            let xs: Vec<String> = p.levels.iter().map(|l| l.value.clone()).collect();
            let ys: Vec<String> = q.levels.iter().map(|l| l.value.clone()).collect();
            let mut cells = vec![vec![None::<f64>; xs.len()]; ys.len()];
            let mut best = None;
            for c in &mine {
                let (Some(vx), Some(vy)) = (c.value(&p.name), c.value(&q.name)) else {
                    continue;
                };
                let (Some(col), Some(row)) = (
                    xs.iter().position(|v| v == vx),
                    ys.iter().position(|v| v == vy),
                ) else {
                    continue;
                };
                let v = 100.0 * c.cv_selection.0;
                if v.is_finite() && cells[row][col].is_none_or(|old| v > old) {
                    cells[row][col] = Some(v);
                }
                if best_config.is_some_and(|b| std::ptr::eq(b, *c)) {
                    best = Some((row, col));
                }
            }
            out.push(PairGrid {
                x: (p.name.clone(), xs),
                y: (q.name.clone(), ys),
                cells,
                best,
            });
        }
    }
    out
}

pub(crate) struct Heatmap<'a> {
    pub method: &'a str,
    pub metric: &'a str,
    pub grid: &'a PairGrid,
}

impl Heatmap<'_> {
    /// Cell size in pixels for this grid at the figure width.
    pub(crate) fn height_for(grid: &PairGrid, width: u32) -> u32 {
        let cell_w = (width as f64 - 150.0) / grid.x.1.len().max(1) as f64;
        let cell_h = cell_w.clamp(18.0, 30.0);
        (cell_h * grid.y.1.len() as f64) as u32 + 120
    }
}

impl Draw for Heatmap<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let name = "heatmap";
        let g = self.grid;
        let (width, height) = root.dim_in_pixel();
        let (left, right, top, bottom) = (80, width as i32 - 70, 34, height as i32 - 66);
        let (cols, rows) = (g.x.1.len().max(1) as i32, g.y.1.len().max(1) as i32);
        let (cw, ch) = ((right - left) / cols, (bottom - top) / rows);
        let values: Vec<f64> = g.cells.iter().flatten().flatten().copied().collect();
        let (low, high) = values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
                (l.min(v), h.max(v))
            });
        let span = (high - low).max(1e-9);
        title(
            root,
            name,
            &format!(
                "{}: best CV {} % by {} × {}",
                self.method, self.metric, g.x.0, g.y.0
            ),
            12,
        )?;
        for (r, row) in g.cells.iter().enumerate() {
            for (c, value) in row.iter().enumerate() {
                let at = (left + c as i32 * cw, top + r as i32 * ch, cw, ch);
                match value {
                    Some(v) => cell(
                        root,
                        name,
                        at,
                        viridis((v - low) / span),
                        &format!("{v:.1}"),
                    )?,
                    None => cell(root, name, at, RGBColor(235, 235, 235), "")?,
                }
            }
        }
        if let Some((r, c)) = g.best {
            let (x0, y0) = (left + c as i32 * cw, top + r as i32 * ch);
            for inset in 0..3 {
                root.draw(&Rectangle::new(
                    [(x0 + inset, y0 + inset), (x0 + cw - inset, y0 + ch - inset)],
                    RGBColor(220, 20, 60),
                ))
                .map_err(|e| failed(name)(&e))?;
            }
        }
        let upright = !labels_fit(root, &g.x.1, cw as f64);
        for (c, v) in g.x.1.iter().enumerate() {
            let at = (left + c as i32 * cw + cw / 2, bottom + 4);
            match upright {
                false => text(root, name, v, at, SMALL, (HPos::Center, VPos::Top))?,
                true => upright_text(root, name, v, at, SMALL, (HPos::Right, VPos::Center))?,
            }
        }
        text(
            root,
            name,
            &g.x.0,
            ((left + right) / 2, height as i32 - 4),
            SMALL,
            (HPos::Center, VPos::Bottom),
        )?;
        for (r, v) in g.y.1.iter().enumerate() {
            text(
                root,
                name,
                v,
                (left - 4, top + r as i32 * ch + ch / 2),
                SMALL,
                (HPos::Right, VPos::Center),
            )?;
        }
        upright_text(
            root,
            name,
            &g.y.0,
            (10, (top + bottom) / 2),
            SMALL,
            (HPos::Center, VPos::Top),
        )?;
        colour_bar(
            root,
            name,
            (right + 10, top + 14, right + 22, bottom),
            (low, high),
            &|v| format!("{v:.1}"),
            "CV %",
        )
    }
}

/// Parallel coordinates: an axis per swept parameter (and the method when the study
/// compares several), the CV metric last; a line per configuration coloured by it.
pub(crate) struct Parallel<'a> {
    pub configs: &'a [ConfigResult],
    pub sweeps: &'a [MethodSweep],
    pub metric: &'a str,
}

impl Parallel<'_> {
    /// Axis names and, for categorical axes, their values in plan order.
    fn axes(&self) -> Vec<(String, Vec<String>)> {
        let mut axes: Vec<(String, Vec<String>)> = Vec::new();
        let mut methods: Vec<String> = Vec::new();
        for c in self.configs {
            if !methods.contains(&c.method) {
                methods.push(c.method.clone());
            }
        }
        let several = methods.len() > 1;
        if several {
            axes.push(("method".to_owned(), methods));
        }
        for sweep in self.sweeps {
            for p in &sweep.parameters {
                let values: Vec<String> = p.levels.iter().map(|l| l.value.clone()).collect();
                match axes.iter_mut().find(|(n, _)| *n == p.name) {
                    Some((_, known)) => {
                        for v in values {
                            if !known.contains(&v) {
                                known.push(v);
                            }
                        }
                    }
                    None => axes.push((p.name.clone(), values)),
                }
            }
        }
        // A configuration without the parameter (another method's) sits at "—".
        for (name, values) in axes.iter_mut().skip(usize::from(several)) {
            let missing = self.configs.iter().any(|c| c.value(name).is_none());
            if missing && !values.iter().any(|v| v == "—") {
                values.push("—".to_owned());
            }
        }
        axes
    }

    pub(crate) fn is_useful(&self) -> bool {
        !self.sweeps.is_empty() && self.configs.len() > 1
    }
}

impl Draw for Parallel<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let name = "parallel coordinates";
        let axes = self.axes();
        let (width, height) = root.dim_in_pixel();
        let (left, right, top, bottom) = (50, width as i32 - 110, 44, height as i32 - 30);
        let n = axes.len() as i32 + 1;
        let x_of = |k: i32| left + (right - left) * k / (n - 1).max(1);
        let metric: Vec<f64> = self
            .configs
            .iter()
            .map(|c| 100.0 * c.cv_selection.0)
            .collect();
        let (low, high) = zoomed(metric.iter().copied());
        let y_metric = |v: f64| bottom - ((v - low) / (high - low) * (bottom - top) as f64) as i32;
        let y_level = |k: usize, count: usize| match count {
            0 | 1 => (top + bottom) / 2,
            _ => bottom - (bottom - top) * k as i32 / (count as i32 - 1),
        };
        title(
            root,
            name,
            &format!("Every configuration, coloured by CV {} %", self.metric),
            12,
        )?;
        // Worst first, so the best lines are drawn on top.
        let mut order: Vec<usize> = (0..self.configs.len()).collect();
        order.sort_by(|&a, &b| metric[a].total_cmp(&metric[b]));
        for i in order {
            let c = &self.configs[i];
            let mut points = Vec::with_capacity(axes.len() + 1);
            for (k, (axis, values)) in axes.iter().enumerate() {
                let value = match axis.as_str() {
                    "method" if k == 0 => Some(c.method.as_str()),
                    _ => c.value(axis).or(Some("—")),
                };
                let level = value
                    .and_then(|v| values.iter().position(|x| x == v))
                    .unwrap_or(0);
                points.push((x_of(k as i32), y_level(level, values.len())));
            }
            if metric[i].is_finite() {
                points.push((x_of(n - 1), y_metric(metric[i])));
            }
            let colour = viridis((metric[i] - low) / (high - low));
            root.draw(&PathElement::new(points, colour.mix(0.75).stroke_width(1)))
                .map_err(|e| failed(name)(&e))?;
        }
        for (k, (axis, values)) in axes.iter().enumerate() {
            let x = x_of(k as i32);
            root.draw(&PathElement::new(
                vec![(x, top), (x, bottom)],
                BLACK.stroke_width(1),
            ))
            .map_err(|e| failed(name)(&e))?;
            text(
                root,
                name,
                axis,
                (x, top - 8),
                SMALL,
                (HPos::Center, VPos::Bottom),
            )?;
            for (l, v) in values.iter().enumerate() {
                let y = y_level(l, values.len());
                root.draw(&Rectangle::new(
                    [
                        (x - 2, y - 7),
                        (x + 2 + 7 * v.chars().count().min(14) as i32, y + 7),
                    ],
                    WHITE.mix(0.7).filled(),
                ))
                .map_err(|e| failed(name)(&e))?;
                text(root, name, v, (x + 4, y), SMALL, (HPos::Left, VPos::Center))?;
            }
        }
        let x = x_of(n - 1);
        root.draw(&PathElement::new(
            vec![(x, top), (x, bottom)],
            BLACK.stroke_width(1),
        ))
        .map_err(|e| failed(name)(&e))?;
        text(
            root,
            name,
            "CV %",
            (x, top - 8),
            SMALL,
            (HPos::Center, VPos::Bottom),
        )?;
        for t in [0.0, 0.5, 1.0] {
            let v = low + t * (high - low);
            text(
                root,
                name,
                &format!("{v:.1}"),
                (x + 4, y_metric(v)),
                SMALL,
                (HPos::Left, VPos::Center),
            )?;
        }
        colour_bar(
            root,
            name,
            (right + 56, top + 10, right + 68, bottom),
            (low, high),
            &|v| format!("{v:.0}"),
            "",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LevelSummary;

    fn config(method: &str, c: &str, crop: &str, cv: f64) -> ConfigResult {
        ConfigResult {
            method: method.to_owned(),
            params: format!("C={c} crop={crop}"),
            values: vec![
                ("C".to_owned(), c.to_owned()),
                ("crop".to_owned(), crop.to_owned()),
            ],
            cv_accuracy: (cv, 0.0),
            cv_f1_macro: (cv, 0.0),
            cv_selection: (cv, 0.01),
            fit_seconds: 0.1,
            test: None,
        }
    }

    fn parameter(name: &str, values: &[&str]) -> SweptParameter {
        SweptParameter {
            name: name.to_owned(),
            importance: 0.5,
            levels: values
                .iter()
                .map(|v| LevelSummary {
                    value: (*v).to_owned(),
                    configurations: 2,
                    mean: 0.9,
                    best: (0.95, 0.01),
                })
                .collect(),
        }
    }

    #[test]
    fn a_pair_grid_holds_the_best_over_the_other_parameters() {
        let sweep = MethodSweep {
            method: "hog".to_owned(),
            parameters: vec![
                parameter("C", &["1", "10"]),
                parameter("crop", &["32", "48"]),
            ],
        };
        let configs = vec![
            config("hog", "1", "32", 0.75),
            config("hog", "10", "32", 0.875),
            config("hog", "1", "48", 0.5),
            config("hog", "10", "48", 0.9375),
            config("raw", "10", "48", 0.96875),
        ];
        let grids = pair_grids(&sweep, &configs);
        assert_eq!(grids.len(), 1);
        let g = &grids[0];
        assert_eq!(g.x.0, "C");
        assert_eq!(g.y.0, "crop");
        // Rows follow crop, columns C; raw's configuration is not hog's.
        assert_eq!(
            g.cells,
            vec![vec![Some(75.0), Some(87.5)], vec![Some(50.0), Some(93.75)]]
        );
        assert_eq!(g.best, Some((1, 1)));
    }
}
