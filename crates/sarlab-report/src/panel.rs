//! Panel figures of images side by side (original | log spectrum | mask | filtered), as
//! in the classic frequency-filtering tutorials.

use std::path::Path;

use ndarray::ArrayView2;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::chart::{FONT, register_font};
use crate::error::{Error, Result};

/// Height each panel is scaled to (nearest neighbour, whole factors only).
const PANEL_PX: usize = 256;
const MARGIN: usize = 12;
const TITLE_PX: usize = 28;

fn draw_error(e: impl std::fmt::Display) -> Error {
    Error::Draw {
        name: "panel".to_owned(),
        message: e.to_string(),
    }
}

/// Writes `panels` (title, image) side by side as a PNG; each image is min–max
/// stretched to grey on its own.
pub fn write_panel_figure(panels: &[(&str, ArrayView2<'_, f64>)], path: &Path) -> Result<()> {
    write_panel_grid(panels, panels.len().max(1), path)
}

/// Writes `panels` as a PNG grid of `columns` panels per row (filled row by row); each
/// image is min–max stretched to grey on its own and scaled by a whole factor to about
/// 256 px tall.
pub fn write_panel_grid(
    panels: &[(&str, ArrayView2<'_, f64>)],
    columns: usize,
    path: &Path,
) -> Result<()> {
    register_font()?;
    if panels.is_empty() || columns == 0 {
        return Err(draw_error("no panels to draw"));
    }
    let scaled: Vec<(usize, usize, usize)> = panels
        .iter()
        .map(|(_, image)| {
            let (rows, cols) = image.dim();
            let factor = (PANEL_PX / rows.max(1)).max(1);
            (rows, cols, factor)
        })
        .collect();
    // Each grid row is as tall as its tallest panel and as wide as its panels together.
    let grid_rows: Vec<&[(usize, usize, usize)]> = scaled.chunks(columns).collect();
    let row_heights: Vec<usize> = grid_rows
        .iter()
        .map(|row| row.iter().map(|(r, _, f)| r * f).max().unwrap_or(1) + TITLE_PX + MARGIN)
        .collect();
    let height = row_heights.iter().sum::<usize>() + MARGIN;
    let width = grid_rows
        .iter()
        .map(|row| row.iter().map(|(_, c, f)| c * f + MARGIN).sum::<usize>())
        .max()
        .unwrap_or(0)
        + MARGIN;
    let (width, height) = (width as u32, height as u32);
    let mut rgb = vec![255u8; (width * height * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_error)?;
        let mut top = MARGIN;
        for (row_index, row_height) in row_heights.iter().enumerate() {
            let mut x0 = MARGIN;
            let first = row_index * columns;
            for ((title, image), (rows, cols, factor)) in
                panels.iter().zip(&scaled).skip(first).take(columns)
            {
                let (lo, hi) = image
                    .iter()
                    .filter(|v| v.is_finite())
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                        (a.min(v), b.max(v))
                    });
                let span = if hi > lo { hi - lo } else { 1.0 };
                let y0 = top + TITLE_PX;
                for r in 0..*rows {
                    for c in 0..*cols {
                        let v = image[[r, c]];
                        let g = if v.is_finite() {
                            (((v - lo) / span) * 255.0).round().clamp(0.0, 255.0) as u8
                        } else {
                            0
                        };
                        for dy in 0..*factor {
                            for dx in 0..*factor {
                                let x = (x0 + c * factor + dx) as i32;
                                let y = (y0 + r * factor + dy) as i32;
                                root.draw_pixel((x, y), &RGBColor(g, g, g))
                                    .map_err(draw_error)?;
                            }
                        }
                    }
                }
                let style = (FONT, 16)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Center));
                root.draw_text(
                    title,
                    &style,
                    ((x0 + cols * factor / 2) as i32, (top + TITLE_PX / 2) as i32),
                )
                .map_err(draw_error)?;
                x0 += cols * factor + MARGIN;
            }
            top += row_height;
        }
        root.present().map_err(draw_error)?;
    }
    crate::save_rgb_png(path, &rgb, width, height)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn panels_are_drawn_side_by_side() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("panel.png");
        let a = Array2::from_shape_fn((32, 32), |(r, c)| (r + c) as f64);
        let b = Array2::from_shape_fn((64, 48), |(r, _)| r as f64);
        write_panel_figure(&[("ramp", a.view()), ("rows", b.view())], &path).expect("draw");
        let png = image::open(&path).expect("png").to_rgb8();
        // 32 px scaled by 8 and 64x48 by 4: 256 px tall each.
        assert_eq!(
            png.dimensions(),
            ((12 + 256 + 12 + 192 + 12) as u32, (256 + 28 + 24) as u32)
        );
        // Darkest and brightest corners of the first panel.
        assert_eq!(png.get_pixel(12, 40).0, [0, 0, 0]);
        assert_eq!(png.get_pixel(12 + 255, 40 + 255).0, [255, 255, 255]);
    }

    #[test]
    fn a_grid_wraps_panels_into_rows() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("grid.png");
        let a = Array2::from_shape_fn((64, 64), |(r, c)| (r * c) as f64);
        let panels: Vec<(&str, ArrayView2<'_, f64>)> = (0..5).map(|_| ("x", a.view())).collect();
        write_panel_grid(&panels, 2, &path).expect("draw");
        let png = image::open(&path).expect("png").to_rgb8();
        // 3 rows of at most 2 panels of 256 px.
        assert_eq!(
            png.dimensions(),
            (
                (12 + 2 * (256 + 12)) as u32,
                (12 + 3 * (256 + 28 + 12)) as u32
            )
        );
        // The empty slot of the last row stays white; the first panel's corner is black.
        assert_eq!(
            png.get_pixel(12 + 268 + 100, 12 + 2 * 296 + 100).0,
            [255, 255, 255]
        );
        assert_eq!(png.get_pixel(12, 12 + 28).0, [0, 0, 0]);
    }
}
