//! One figure of the report, drawn once per output at a print size: SVG (inlined in
//! the page) and PDF (for the paper), both in backend pixels of 1/96 in, text in the
//! embedded DejaVu Sans at 8.5 pt or more.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::chart::{FONT, register_font};
use crate::error::{Error, Result};
use crate::pdf::{PdfBackend, PdfPage};

/// A journal's column widths: one column (3.5 in) or the page (7 in).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PrintWidth {
    Single,
    Double,
}

impl PrintWidth {
    /// The width in backend pixels (96 per inch).
    pub(crate) fn px(self) -> u32 {
        match self {
            PrintWidth::Single => 336,
            PrintWidth::Double => 672,
        }
    }
}

/// plotters font sizes (1.24 × the CSS pixel size): small text is 8.5 pt printed.
pub(crate) const SMALL: f64 = 14.0;
pub(crate) const TITLE: f64 = 16.0;

/// Something a figure draws, on any backend.
pub(crate) trait Draw {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>;
}

/// A written figure: its files, and its SVG to inline.
#[derive(Debug, Clone)]
pub(crate) struct Figure {
    pub stem: String,
    pub caption: String,
    pub svg: String,
    pub files: Vec<PathBuf>,
}

/// The error of drawing figure `name`.
pub(crate) fn failed(name: &str) -> impl Fn(&dyn std::fmt::Display) -> Error + '_ {
    move |e| Error::Draw {
        name: name.to_owned(),
        message: e.to_string(),
    }
}

/// Draws `figure` at `width` × `height` px into `<dir>/<stem>.svg` and `.pdf`.
pub(crate) fn render(
    dir: &Path,
    stem: &str,
    caption: String,
    (width, height): (PrintWidth, u32),
    figure: &impl Draw,
) -> Result<Figure> {
    register_font()?;
    let size = (width.px(), height);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| failed(stem)(&e))?;
        figure.draw(&root)?;
        root.present().map_err(|e| failed(stem)(&e))?;
    }
    let mut page = PdfPage::new(size).map_err(|e| failed(stem)(&e))?;
    {
        let root = PdfBackend::new(&mut page).into_drawing_area();
        root.fill(&WHITE).map_err(|e| failed(stem)(&e))?;
        figure.draw(&root)?;
    }
    let pdf = page.finish().map_err(|e| failed(stem)(&e))?;
    // Layout was measured with DejaVu Sans: ask for it, fall back to a sans-serif.
    let svg = svg.replace(
        "font-family=\"sans-serif\"",
        "font-family=\"DejaVu Sans, Verdana, sans-serif\"",
    );
    let svg_path = dir.join(format!("{stem}.svg"));
    let pdf_path = dir.join(format!("{stem}.pdf"));
    crate::write_file(&svg_path, svg.as_bytes())?;
    crate::write_file(&pdf_path, &pdf)?;
    Ok(Figure {
        stem: stem.to_owned(),
        caption,
        svg,
        files: vec![svg_path, pdf_path],
    })
}

/// A file-name-safe form of `text` (parameter and method names).
pub(crate) fn slug(text: &str) -> String {
    text.chars()
        .map(|c| match c.is_ascii_alphanumeric() {
            true => c.to_ascii_lowercase(),
            false => '_',
        })
        .collect()
}

/// Text at a backend position, anchored, in `colour`, turned by `transform`.
fn anchored_text<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    name: &str,
    label: &str,
    at: (i32, i32),
    (size, colour, transform): (f64, RGBColor, FontTransform),
    anchor: (HPos, VPos),
) -> Result<()> {
    root.draw(&Text::new(
        label.to_owned(),
        at,
        (FONT, size)
            .into_font()
            .transform(transform)
            .color(&colour)
            .pos(Pos::new(anchor.0, anchor.1)),
    ))
    .map_err(|e| failed(name)(&e))
}

/// Text at a backend position, anchored.
pub(crate) fn text<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    name: &str,
    label: &str,
    at: (i32, i32),
    size: f64,
    anchor: (HPos, VPos),
) -> Result<()> {
    anchored_text(
        root,
        name,
        label,
        at,
        (size, BLACK, FontTransform::None),
        anchor,
    )
}

/// Text turned to read upwards (a y axis title, a long category label).
pub(crate) fn upright_text<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    name: &str,
    label: &str,
    at: (i32, i32),
    size: f64,
    anchor: (HPos, VPos),
) -> Result<()> {
    anchored_text(
        root,
        name,
        label,
        at,
        (size, BLACK, FontTransform::Rotate270),
        anchor,
    )
}

/// A figure's title, at the top left.
pub(crate) fn title<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    name: &str,
    label: &str,
    y: i32,
) -> Result<()> {
    text(root, name, label, (6, y), TITLE, (HPos::Left, VPos::Center))
}

/// A heatmap cell: `colour` filled over `(x0, y0)`–`(x0 + w, y0 + h)`, with `label`
/// centred in black or white, whichever reads on it.
pub(crate) fn cell<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    name: &str,
    (x0, y0, w, h): (i32, i32, i32, i32),
    colour: RGBColor,
    label: &str,
) -> Result<()> {
    root.draw(&Rectangle::new(
        [(x0, y0), (x0 + w, y0 + h)],
        colour.filled(),
    ))
    .map_err(|e| failed(name)(&e))?;
    if label.is_empty() {
        return Ok(());
    }
    anchored_text(
        root,
        name,
        label,
        (x0 + w / 2, y0 + h / 2),
        (SMALL, ink_on(colour), FontTransform::None),
        (HPos::Center, VPos::Center),
    )
}

/// Viridis (perceptually uniform, readable in grey and by most colour-blind readers)
/// at `t` in [0, 1], from nine of its anchor colours.
pub(crate) fn viridis(t: f64) -> RGBColor {
    const ANCHORS: [(u8, u8, u8); 9] = [
        (68, 1, 84),
        (71, 44, 122),
        (59, 81, 139),
        (44, 113, 142),
        (33, 144, 141),
        (39, 173, 129),
        (92, 200, 99),
        (170, 220, 50),
        (253, 231, 37),
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = t * (ANCHORS.len() - 1) as f64;
    let i = (x.floor() as usize).min(ANCHORS.len() - 2);
    let f = x - i as f64;
    let lerp = |a: u8, b: u8| (a as f64 + f * (b as f64 - a as f64)).round() as u8;
    let (a, b) = (ANCHORS[i], ANCHORS[i + 1]);
    RGBColor(lerp(a.0, b.0), lerp(a.1, b.1), lerp(a.2, b.2))
}

/// Black or white, whichever reads on `background`.
pub(crate) fn ink_on(background: RGBColor) -> RGBColor {
    let RGBColor(r, g, b) = background;
    let luma = 0.299 * r as f64 + 0.587 * g as f64 + 0.114 * b as f64;
    if luma > 140.0 { BLACK } else { WHITE }
}

/// A vertical colour bar from `low` to `high` at backend rectangle `area`
/// (left, top, right, bottom), labelled at both ends and the middle.
pub(crate) fn colour_bar<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    name: &str,
    area: (i32, i32, i32, i32),
    (low, high): (f64, f64),
    format: &dyn Fn(f64) -> String,
    title: &str,
) -> Result<()> {
    let (left, top, right, bottom) = area;
    // Room above the bar for its title.
    let top = top + 8;
    let steps = 48;
    for k in 0..steps {
        let y0 = bottom - (bottom - top) * (k + 1) / steps;
        let y1 = bottom - (bottom - top) * k / steps;
        root.draw(&Rectangle::new(
            [(left, y0), (right, y1)],
            viridis((k as f64 + 0.5) / steps as f64).filled(),
        ))
        .map_err(|e| failed(name)(&e))?;
    }
    root.draw(&Rectangle::new([(left, top), (right, bottom)], BLACK))
        .map_err(|e| failed(name)(&e))?;
    for (t, y) in [(0.0, bottom), (0.5, (top + bottom) / 2), (1.0, top)] {
        text(
            root,
            name,
            &format(low + t * (high - low)),
            (right + 4, y),
            SMALL,
            (HPos::Left, VPos::Center),
        )?;
    }
    text(
        root,
        name,
        title,
        ((left + right) / 2, top - 6),
        SMALL,
        (HPos::Center, VPos::Bottom),
    )
}

/// An axis range that fits `values` (and their error bars) with a margin, instead of
/// starting at zero: differences of a point are visible. Values that are all
/// percentages keep the axis within 0–100.
pub(crate) fn zoomed(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.into_iter().filter(|v| v.is_finite()) {
        low = low.min(v);
        high = high.max(v);
    }
    if !low.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((high - low) * 0.08).max(0.5);
    // Percentages never pass their bounds: neither does the axis.
    match (0.0..=100.0).contains(&low) && (0.0..=100.0).contains(&high) {
        true => ((low - pad).max(0.0), (high + pad).min(100.0)),
        false => (low - pad, high + pad),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viridis_runs_from_purple_to_yellow() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
        assert_eq!(viridis(f64::NAN), viridis(0.0));
        assert_eq!(ink_on(viridis(0.0)), WHITE);
        assert_eq!(ink_on(viridis(1.0)), BLACK);
    }

    #[test]
    fn axes_zoom_to_the_data() {
        assert_eq!(zoomed([90.0, 100.0]), (89.2, 100.0));
        assert_eq!(zoomed([-5.0, 10.0]), (-6.2, 11.2));
        assert_eq!(zoomed([f64::NAN]), (0.0, 1.0));
        let (low, high) = zoomed([95.0]);
        assert!(low < 95.0 && high > 95.0);
    }

    #[test]
    fn slugs_are_file_names() {
        assert_eq!(slug("C"), "c");
        assert_eq!(slug("pixels_per_cell"), "pixels_per_cell");
        assert_eq!(slug("a/b c"), "a_b_c");
    }
}
