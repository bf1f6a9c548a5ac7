//! Panels with a categorical x axis (parameter values, classes, methods) and a zoomed
//! numeric y axis, drawn by hand where plotters' mesh would overlap the labels.

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use crate::chart::FONT;
use crate::error::Result;
use crate::figure::{SMALL, TITLE, failed, text, upright_text};

pub(crate) type Panel<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The widest of `labels` in small text, pixels.
fn widest<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, labels: &[String]) -> u32 {
    let style = TextStyle::from((FONT, SMALL).into_font());
    labels
        .iter()
        .map(|c| area.estimate_text_size(c, &style).map_or(0, |(w, _)| w))
        .max()
        .unwrap_or(0)
}

/// Whether every one of `labels` fits side by side in slots `slot` pixels wide (with
/// a gap); labels that do not are turned upright.
pub(crate) fn labels_fit<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    labels: &[String],
    slot: f64,
) -> bool {
    (widest(area, labels) as f64) < slot * 0.92
}

/// Room under the axis for category labels: upright when the widest does not fit its
/// slot.
fn label_room<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    categories: &[String],
    slot: f64,
) -> (u32, bool) {
    match labels_fit(area, categories, slot) {
        true => (22, false),
        false => ((widest(area, categories) + 10).min(90), true),
    }
}

/// A panel over `categories` (at x = 0, 1, …) and `y` (percent), titled, with its y
/// axis described by `y_desc`; category labels under the axis.
pub(crate) fn category_panel<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    name: &str,
    title: &str,
    categories: &[String],
    y: (f64, f64),
    y_desc: &str,
) -> Result<Panel<'a, DB>> {
    let (width, _) = area.dim_in_pixel();
    let slot = (width as f64 - 60.0) / categories.len().max(1) as f64;
    let (room, upright) = label_room(area, categories, slot);
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, TITLE))
        .margin(6)
        .x_label_area_size(room)
        .y_label_area_size(46)
        .build_cartesian_2d(-0.5..categories.len() as f64 - 0.5, y.0..y.1)
        .map_err(|e| failed(name)(&e))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(5)
        .y_desc(y_desc)
        .y_label_formatter(&|v| format!("{v:.1}"))
        .label_style((FONT, SMALL))
        .axis_desc_style((FONT, SMALL))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.08))
        .draw()
        .map_err(|e| failed(name)(&e))?;
    let base = area.get_base_pixel();
    for (i, category) in categories.iter().enumerate() {
        let (x, y_axis) = chart.backend_coord(&(i as f64, y.0));
        let at = (x - base.0, y_axis - base.1 + 5);
        match upright {
            false => text(area, name, category, at, SMALL, (HPos::Center, VPos::Top))?,
            true => upright_text(area, name, category, at, SMALL, (HPos::Right, VPos::Center))?,
        }
    }
    Ok(chart)
}

/// A vertical error bar with caps at x from `low` to `high`.
pub(crate) fn error_bar<DB: DrawingBackend>(
    chart: &mut Panel<'_, DB>,
    name: &str,
    x: f64,
    (low, high): (f64, f64),
    colour: RGBColor,
) -> Result<()> {
    let cap = 0.08;
    chart
        .draw_series([
            PathElement::new(vec![(x, low), (x, high)], colour.stroke_width(1)),
            PathElement::new(vec![(x - cap, low), (x + cap, low)], colour.stroke_width(1)),
            PathElement::new(
                vec![(x - cap, high), (x + cap, high)],
                colour.stroke_width(1),
            ),
        ])
        .map_err(|e| failed(name)(&e))?;
    Ok(())
}

/// A legend row of (marker colour, label) at the top right of `area`.
pub(crate) fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    name: &str,
    entries: &[(RGBColor, &str)],
    top: i32,
) -> Result<()> {
    let style = TextStyle::from((FONT, SMALL).into_font());
    let (width, _) = area.dim_in_pixel();
    let widths: Vec<i32> = entries
        .iter()
        .map(|(_, l)| {
            area.estimate_text_size(l, &style)
                .map_or(40, |(w, _)| w as i32)
                + 26
        })
        .collect();
    let mut x = width as i32 - widths.iter().sum::<i32>() - 8;
    for ((colour, label), w) in entries.iter().zip(widths) {
        area.draw(&Circle::new((x + 6, top), 4, colour.filled()))
            .map_err(|e| failed(name)(&e))?;
        text(
            area,
            name,
            label,
            (x + 14, top),
            SMALL,
            (HPos::Left, VPos::Center),
        )?;
        x += w;
    }
    Ok(())
}
