//! Per-class and per-fold figures: each method's precision, recall and F1 per class
//! (test split, and CV pooled over folds), its row-normalised confusion matrix, and
//! box plots of the best configurations' fold scores.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use crate::axes::{category_panel, legend};
use crate::chart::FONT;
use crate::error::Result;
use crate::figure::{
    Draw, SMALL, cell, colour_bar, failed, text, title, upright_text, viridis, zoomed,
};
use crate::{ClassScore, MethodResult};

const SCORES: [(&str, RGBColor); 3] = [
    ("precision", RGBColor(31, 119, 180)),
    ("recall", RGBColor(230, 85, 13)),
    ("F1", RGBColor(44, 160, 44)),
];

fn score(s: &ClassScore, k: usize) -> f64 {
    100.0 * [s.precision, s.recall, s.f1][k]
}

/// A method's per-class scores: the test split above, CV pooled below.
pub(crate) struct ClassScores<'a> {
    pub method: &'a MethodResult,
}

impl Draw for ClassScores<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let name = "per-class scores";
        let m = self.method;
        let entries: Vec<(RGBColor, &str)> = SCORES.iter().map(|(l, c)| (*c, *l)).collect();
        legend(root, name, &entries, 11)?;
        title(root, name, &format!("{}: per class", m.method), 11)?;
        let body = root.margin(22, 0, 0, 0);
        let parts: Vec<(&str, &[ClassScore])> = [
            ("test split", &m.test_classes[..]),
            ("CV, folds pooled", &m.cv_classes[..]),
        ]
        .into_iter()
        .filter(|(_, s)| !s.is_empty())
        .collect();
        let panels = body.split_evenly((parts.len().max(1), 1));
        let all = parts.iter().flat_map(|(_, s)| s.iter());
        let y = zoomed(all.flat_map(|s| (0..3).map(move |k| score(s, k))));
        for (panel, (title, scores)) in panels.iter().zip(&parts) {
            let classes: Vec<String> = scores
                .iter()
                .map(|s| format!("{} ({})", s.class, s.support))
                .collect();
            let mut chart = category_panel(panel, name, title, &classes, y, "%")?;
            for (k, (_, colour)) in SCORES.iter().enumerate() {
                let offset = (k as f64 - 1.0) * 0.18;
                chart
                    .draw_series(scores.iter().enumerate().map(|(i, s)| {
                        Circle::new((i as f64 + offset, score(s, k)), 3, colour.filled())
                    }))
                    .map_err(|e| failed(name)(&e))?;
            }
        }
        Ok(())
    }
}

/// A method's test confusion matrix, each row divided by its true-class count, the
/// counts printed in the cells.
pub(crate) struct Confusion<'a> {
    pub method: &'a MethodResult,
    pub classes: &'a [String],
}

impl Confusion<'_> {
    pub(crate) fn height(classes: usize, width: u32) -> u32 {
        let cell = ((width as f64 - 180.0) / classes.max(1) as f64).clamp(16.0, 44.0);
        (cell * classes as f64) as u32 + 150
    }
}

impl Draw for Confusion<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let name = "confusion matrix";
        let counts = &self.method.confusion;
        let n = counts.len().max(1) as i32;
        let (width, height) = root.dim_in_pixel();
        let style = TextStyle::from((FONT, SMALL).into_font());
        let label_w = self
            .classes
            .iter()
            .map(|c| {
                root.estimate_text_size(c, &style)
                    .map_or(30, |(w, _)| w as i32)
            })
            .max()
            .unwrap_or(30);
        let (left, top) = (label_w + 26, 34);
        let right = width as i32 - 72;
        let size = ((right - left) / n).min((height as i32 - top - label_w - 30) / n);
        let (right, bottom) = (left + size * n, top + size * n);
        title(
            root,
            name,
            &format!("{}: test confusion (row-normalised)", self.method.method),
            12,
        )?;
        for (t, row) in counts.iter().enumerate() {
            let total = row.iter().sum::<usize>().max(1) as f64;
            for (p, &count) in row.iter().enumerate() {
                let share = count as f64 / total;
                let label = if count > 0 {
                    count.to_string()
                } else {
                    String::new()
                };
                let at = (left + p as i32 * size, top + t as i32 * size, size, size);
                cell(root, name, at, viridis(share), &label)?;
            }
        }
        for (i, class) in self.classes.iter().enumerate() {
            let centre = i as i32 * size + size / 2;
            text(
                root,
                name,
                class,
                (left - 4, top + centre),
                SMALL,
                (HPos::Right, VPos::Center),
            )?;
            upright_text(
                root,
                name,
                class,
                (left + centre, bottom + 4),
                SMALL,
                (HPos::Right, VPos::Center),
            )?;
        }
        upright_text(
            root,
            name,
            "true class",
            (6, (top + bottom) / 2),
            SMALL,
            (HPos::Center, VPos::Top),
        )?;
        text(
            root,
            name,
            "predicted class",
            ((left + right) / 2, height as i32 - 4),
            SMALL,
            (HPos::Center, VPos::Bottom),
        )?;
        colour_bar(
            root,
            name,
            (right + 12, top + 14, right + 24, bottom),
            (0.0, 100.0),
            &|v| format!("{v:.0} %"),
            "of row",
        )
    }
}

/// Quartiles as numpy's default (linear interpolation between order statistics).
pub(crate) fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = q * (sorted.len() - 1) as f64;
    let (i, f) = (h.floor() as usize, h - h.floor());
    match sorted.get(i + 1) {
        Some(next) => sorted[i] + f * (next - sorted[i]),
        None => sorted[i],
    }
}

/// Box plots of each method's best configuration's fold scores: box from the first
/// to the third quartile, the median, whiskers to the extremes, every fold a dot.
pub(crate) struct FoldBoxes<'a> {
    pub methods: &'a [MethodResult],
    pub metric: &'a str,
}

impl Draw for FoldBoxes<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let name = "fold box plots";
        let names: Vec<String> = self.methods.iter().map(|m| m.method.clone()).collect();
        let y = zoomed(
            self.methods
                .iter()
                .flat_map(|m| m.fold_scores.iter().map(|v| 100.0 * v)),
        );
        let title = format!("CV {} per fold (best configurations)", self.metric);
        let mut chart = category_panel(root, name, &title, &names, y, "%")?;
        let colour = RGBColor(31, 119, 180);
        for (i, m) in self.methods.iter().enumerate() {
            let mut folds: Vec<f64> = m
                .fold_scores
                .iter()
                .map(|v| 100.0 * v)
                .filter(|v| v.is_finite())
                .collect();
            folds.sort_by(f64::total_cmp);
            if folds.is_empty() {
                continue;
            }
            let x = i as f64;
            let (q1, q2, q3) = (
                quantile(&folds, 0.25),
                quantile(&folds, 0.5),
                quantile(&folds, 0.75),
            );
            let (lo, hi) = (folds[0], folds[folds.len() - 1]);
            let w = 0.22;
            chart
                .draw_series([
                    PathElement::new(vec![(x, lo), (x, q1)], BLACK.stroke_width(1)),
                    PathElement::new(vec![(x, q3), (x, hi)], BLACK.stroke_width(1)),
                    PathElement::new(
                        vec![(x - w / 2.0, lo), (x + w / 2.0, lo)],
                        BLACK.stroke_width(1),
                    ),
                    PathElement::new(
                        vec![(x - w / 2.0, hi), (x + w / 2.0, hi)],
                        BLACK.stroke_width(1),
                    ),
                ])
                .map_err(|e| failed(name)(&e))?;
            chart
                .draw_series([Rectangle::new(
                    [(x - w, q1), (x + w, q3)],
                    colour.mix(0.25).filled(),
                )])
                .map_err(|e| failed(name)(&e))?;
            chart
                .draw_series([Rectangle::new(
                    [(x - w, q1), (x + w, q3)],
                    colour.stroke_width(1),
                )])
                .map_err(|e| failed(name)(&e))?;
            chart
                .draw_series([PathElement::new(
                    vec![(x - w, q2), (x + w, q2)],
                    colour.stroke_width(2),
                )])
                .map_err(|e| failed(name)(&e))?;
            chart
                .draw_series(folds.iter().enumerate().map(|(k, &v)| {
                    let jitter = (k as f64 / folds.len().max(2) as f64 - 0.5) * 0.16;
                    Circle::new((x + w + 0.12 + jitter, v), 2, BLACK.filled())
                }))
                .map_err(|e| failed(name)(&e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quartiles_match_numpy() {
        // np.quantile([1, 2, 3, 4, 10], [0.25, 0.5, 0.75]) = [2, 3, 4];
        // np.quantile([0.9, 0.8, 0.95, 0.85], [0.25, 0.75]) = [0.8375, 0.9125].
        let a = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert_eq!(
            [quantile(&a, 0.25), quantile(&a, 0.5), quantile(&a, 0.75)],
            [2.0, 3.0, 4.0]
        );
        let b = [0.8, 0.85, 0.9, 0.95];
        assert!((quantile(&b, 0.25) - 0.8375).abs() < 1e-12);
        assert!((quantile(&b, 0.75) - 0.9125).abs() < 1e-12);
        assert!(quantile(&[], 0.5).is_nan());
    }
}
