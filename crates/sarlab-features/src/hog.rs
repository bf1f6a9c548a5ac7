//! Histogram of oriented gradients, computed exactly as `skimage.feature.hog` 0.26
//! computes it (with `feature_vector=True`, single channel).
//!
//! scikit-image's algorithm, reproduced step for step:
//! 1. optional `sqrt` of the image (`transform_sqrt`);
//! 2. gradients by central differences, `g[r] = x[r+1] - x[r-1]`, zero on the border
//!    rows (row gradient) and border columns (column gradient);
//! 3. magnitude `hypot(g_row, g_col)`, orientation `rad2deg(atan2(g_row, g_col)) mod 180`
//!    with numpy's float `mod` (a tiny negative angle becomes exactly 180.0 and then
//!    falls in no bin, as in scikit-image);
//! 4. hard binning: bin `i` takes orientations in `[180/n·i, 180/n·(i+1))`, no
//!    interpolation; a cell's value is the sum of magnitudes divided by the cell area;
//!    `n_cells = size // cell` (trailing pixels ignored). scikit-image accumulates
//!    that sum in single precision (`cdef float total` in `_hoghistogram.pyx`), even
//!    for float64 images; sarlab does the same, so its vectors are identical rather
//!    than merely close (the difference would be ~1e-8);
//! 5. blocks of `cells_per_block` cells at a stride of one cell, normalised by the
//!    chosen norm with `ε = 1e-5`;
//! 6. output order (block_row, block_col, cell_row, cell_col, orientation).
//!
//! [`hog_image`] draws scikit-image's glyph visualisation (`visualize=True`): in every
//! cell, one line per orientation bin through the cell centre, perpendicular to the
//! bin's mid-angle gradient (so along the edge), weighted by the cell's un-normalised
//! histogram value and drawn with scikit-image's Bresenham `draw.line`.

use std::fmt;
use std::str::FromStr;

use ndarray::{Array2, Array3, ArrayView2};

use crate::error::{Error, Result};

const EPS: f64 = 1e-5;

/// Upper bound on `orientations` (bins of 0.018°).
pub const MAX_ORIENTATIONS: usize = 10_000;

/// Block normalisation, as scikit-image names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum BlockNorm {
    /// `v / (Σ|v| + ε)`
    L1,
    /// `sqrt(v / (Σ|v| + ε))`
    L1Sqrt,
    /// `v / sqrt(Σv² + ε²)`
    L2,
    /// L2, then clip at 0.2, then L2 again (Lowe's SIFT normalisation).
    #[default]
    L2Hys,
}

impl BlockNorm {
    pub const ALL: [BlockNorm; 4] = [
        BlockNorm::L1,
        BlockNorm::L1Sqrt,
        BlockNorm::L2,
        BlockNorm::L2Hys,
    ];

    pub fn name(self) -> &'static str {
        match self {
            BlockNorm::L1 => "L1",
            BlockNorm::L1Sqrt => "L1-sqrt",
            BlockNorm::L2 => "L2",
            BlockNorm::L2Hys => "L2-Hys",
        }
    }
}

impl fmt::Display for BlockNorm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for BlockNorm {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        BlockNorm::ALL
            .into_iter()
            .find(|n| n.name() == s)
            .ok_or_else(|| Error::InvalidParameter {
                name: "block_norm",
                message: format!("`{s}` is not one of L1, L1-sqrt, L2, L2-Hys"),
            })
    }
}

/// HOG parameters; defaults are scikit-image's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HogParams {
    pub orientations: usize,
    /// (rows, columns) of a cell in pixels.
    pub pixels_per_cell: (usize, usize),
    /// (rows, columns) of a block in cells.
    pub cells_per_block: (usize, usize),
    pub block_norm: BlockNorm,
    pub transform_sqrt: bool,
}

impl Default for HogParams {
    fn default() -> Self {
        Self {
            orientations: 9,
            pixels_per_cell: (8, 8),
            cells_per_block: (3, 3),
            block_norm: BlockNorm::L2Hys,
            transform_sqrt: false,
        }
    }
}

impl HogParams {
    pub fn validate(&self) -> Result<()> {
        let positive = |name, v: usize| {
            if v == 0 {
                Err(Error::InvalidParameter {
                    name,
                    message: "must be at least 1".to_owned(),
                })
            } else {
                Ok(())
            }
        };
        positive("orientations", self.orientations)?;
        // Bins far narrower than the fast path's boundary margin would all take the slow
        // path; nobody bins gradients finer than 0.018°.
        if self.orientations > MAX_ORIENTATIONS {
            return Err(Error::InvalidParameter {
                name: "orientations",
                message: format!(
                    "must be at most {MAX_ORIENTATIONS}, got {}",
                    self.orientations
                ),
            });
        }
        positive(
            "pixels_per_cell",
            self.pixels_per_cell.0.min(self.pixels_per_cell.1),
        )?;
        positive(
            "cells_per_block",
            self.cells_per_block.0.min(self.cells_per_block.1),
        )
    }

    fn cells(&self, rows: usize, cols: usize) -> Result<(usize, usize)> {
        self.validate()?;
        let (cells_r, cells_c) = (rows / self.pixels_per_cell.0, cols / self.pixels_per_cell.1);
        if cells_r < self.cells_per_block.0 || cells_c < self.cells_per_block.1 {
            return Err(Error::ImageTooSmall {
                rows,
                cols,
                cell_rows: self.pixels_per_cell.0,
                cell_cols: self.pixels_per_cell.1,
                block_rows: self.cells_per_block.0,
                block_cols: self.cells_per_block.1,
                cells_r,
                cells_c,
            });
        }
        Ok((cells_r, cells_c))
    }

    pub fn output_len(&self, rows: usize, cols: usize) -> Result<usize> {
        let (cells_r, cells_c) = self.cells(rows, cols)?;
        let (br, bc) = self.cells_per_block;
        [cells_c - bc + 1, br, bc, self.orientations]
            .into_iter()
            .try_fold(cells_r - br + 1, usize::checked_mul)
            .ok_or_else(|| Error::InvalidParameter {
                name: "orientations",
                message: format!(
                    "a {rows}x{cols} image would have more HOG features than fit in memory"
                ),
            })
    }
}

/// numpy's float `a % b` for `b > 0`: the result has the sign of `b`.
fn numpy_mod(a: f64, b: f64) -> f64 {
    let m = a % b;
    if m != 0.0 && m < 0.0 {
        m + b
    } else if m == 0.0 {
        0.0
    } else {
        m
    }
}

/// scikit-image's bin of a gradient: `rad2deg(atan2(g_row, g_col)) mod 180`, then the
/// first `i` with `step·i <= orientation < step·(i+1)`; `None` when the orientation
/// rounds to exactly 180° (it then falls in no bin, as in scikit-image).
fn exact_bin(g_row: f64, g_col: f64, n: usize, step: f64) -> Option<usize> {
    let orientation = numpy_mod(g_row.atan2(g_col) * (180.0 / std::f64::consts::PI), 180.0);
    // scikit-image tests `orientation < step·(i+1) and orientation >= step·i` for
    // every bin; start from the quotient and settle the boundary the same way.
    let mut bin = ((orientation / step) as usize).min(n - 1);
    while bin > 0 && orientation < step * bin as f64 {
        bin -= 1;
    }
    while bin < n && orientation >= step * (bin + 1) as f64 {
        bin += 1;
    }
    (bin < n).then_some(bin)
}

/// Odd minimax polynomial for `atan(t)` on `[0, 1]`, in powers of `t²`; its largest
/// error, 1.7e-6 rad (9.6e-5°), is checked by a unit test on a dense grid.
const ATAN_COEFFS: [f64; 6] = [
    0.999_977_26,
    -0.332_623_47,
    0.193_543_46,
    -0.116_432_87,
    0.052_653_32,
    -0.011_721_20,
];

/// The fast orientation is trusted only this far (degrees) from every bin boundary,
/// ten times the polynomial's error; closer gradients take scikit-image's own float
/// path ([`exact_bin`]).
const ANGLE_MARGIN_DEG: f64 = 1e-3;

/// The orientation bin of a gradient from the polynomial `atan` (as an `f64`), or −1
/// when the orientation is within [`ANGLE_MARGIN_DEG`] of a bin boundary (settle it
/// with [`exact_bin`]). Branch-free f64 arithmetic only, so the pixel loop vectorises.
#[inline(always)]
fn fast_bin(g_row: f64, g_col: f64, step: f64) -> f64 {
    // Everything in bin units (one bin = `step` degrees), folded onto the upper
    // half-plane (orientation mod 180°).
    let bins_per_radian = 180.0 / std::f64::consts::PI / step;
    let full = 180.0 / step;
    let y = g_row.abs();
    let x = if g_row < 0.0 { -g_col } else { g_col };
    let across = x.abs();
    let steep = across < y;
    let (num, den) = if steep { (across, y) } else { (y, across) };
    let t = if den > 0.0 { num / den } else { 0.0 };
    let at = atan_unit(t) * bins_per_radian;
    let base = if steep { 0.5 * full - at } else { at };
    let q = if x < 0.0 { full - base } else { base };
    // floor(q) by the 2^52 rounding trick (f64::floor is a libm call on baseline
    // x86-64, and `as` conversions check for NaN; both stop vectorisation).
    const ROUND: f64 = 4_503_599_627_370_496.0;
    let nearest = (q + ROUND) - ROUND;
    let bin = if nearest > q { nearest - 1.0 } else { nearest };
    let fraction = q - bin;
    let distance = if fraction < 0.5 {
        fraction
    } else {
        1.0 - fraction
    };
    if distance * step <= ANGLE_MARGIN_DEG {
        -1.0
    } else {
        bin
    }
}

/// [`fast_bin`] as an integer, or `u32::MAX` for "settle it with [`exact_bin`]". The
/// integer is read from the mantissa of `bin + 2⁵²` rather than by an `as` cast, whose
/// range checks would stop the pixel loop from vectorising.
#[inline(always)]
fn fast_bin_code(g_row: f64, g_col: f64, step: f64) -> u32 {
    const ROUND: f64 = 4_503_599_627_370_496.0;
    let bin = fast_bin(g_row, g_col, step);
    let code = if bin < 0.0 { f64::from(u32::MAX) } else { bin };
    // Truncation keeps the low 32 mantissa bits: the integer itself (it is < 2³²).
    (code + ROUND).to_bits() as u32
}

#[inline(always)]
fn atan_unit(t: f64) -> f64 {
    let t2 = t * t;
    let mut p = ATAN_COEFFS[5];
    for &k in ATAN_COEFFS[..5].iter().rev() {
        // One fused instruction where the kernel runs (pulp enables FMA).
        p = p.mul_add(t2, k);
    }
    t * p
}

/// Per-cell orientation histograms, shape (cells_r, cells_c, orientations).
///
/// The bin comes from a vectorisable polynomial `atan` of the gradient folded onto the
/// upper half-plane (orientation mod 180°); gradients within [`ANGLE_MARGIN_DEG`] of a
/// bin boundary (0° and 180° included) take scikit-image's own float path, so every bin
/// is the one scikit-image picks.
fn cell_histograms(
    image: ArrayView2<'_, f64>,
    p: &HogParams,
    cells: (usize, usize),
) -> Array3<f64> {
    let (rows, cols) = image.dim();
    let image = image.as_standard_layout();
    // Single-precision sums, as scikit-image keeps them (see the module docs).
    let mut hist = Array3::<f32>::zeros((cells.0, cells.1, p.orientations));
    // Compiled for the best SIMD level this CPU has (AVX2/FMA, AVX-512), chosen at run
    // time: the bin arithmetic is the hot loop.
    pulp::Arch::new().dispatch(HistogramKernel {
        pixels: image.as_slice().expect("standard layout"),
        rows,
        cols,
        p,
        cells,
        hist: hist.as_slice_mut().expect("fresh array"),
    });
    sarlab_transform::simd::clear_upper_vector_state();
    let area = (p.pixels_per_cell.0 * p.pixels_per_cell.1) as f32;
    hist.mapv(|total| f64::from(total / area))
}

struct HistogramKernel<'a> {
    pixels: &'a [f64],
    rows: usize,
    cols: usize,
    p: &'a HogParams,
    cells: (usize, usize),
    hist: &'a mut [f32],
}

impl pulp::WithSimd for HistogramKernel<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let HistogramKernel {
            pixels,
            rows,
            cols,
            p,
            cells,
            hist: hist_data,
        } = self;
        let n = p.orientations;
        let step = 180.0 / n as f64;
        let (cr, cc) = p.pixels_per_cell;
        // Row by row: first every pixel's magnitude and bin (independent, vectorisable
        // loops), then the single-precision sums, which are serial per bin.
        let width = cells.1 * cc;
        let mut g_row = vec![0.0; width];
        let mut g_col = vec![0.0; width];
        let mut magnitude = vec![0.0; width];
        let mut bins = vec![0u32; width];
        // At most MAX_ORIENTATIONS, far below u32::MAX, the "undecided" code.
        let n_code = n as u32;
        for r in 0..cells.0 * cr {
            let row = &pixels[r * cols..(r + 1) * cols];
            if r > 0 && r + 1 < rows {
                let above = &pixels[(r - 1) * cols..(r - 1) * cols + width];
                let below = &pixels[(r + 1) * cols..(r + 1) * cols + width];
                for ((g, a), b) in g_row.iter_mut().zip(above).zip(below) {
                    *g = b - a;
                }
            } else {
                g_row.fill(0.0);
            }
            // Central differences inside, 0 on the first and last image columns.
            let interior = width.min(cols - 1);
            g_col[0] = 0.0;
            for ((g, left), right) in g_col[1..interior]
                .iter_mut()
                .zip(&row[..interior - 1])
                .zip(&row[2..=interior])
            {
                *g = right - left;
            }
            if interior < width {
                g_col[interior] = 0.0;
            }
            // Zipped iterators, not indices: bounds checks would stop vectorisation.
            for (((m, b), &gr), &gc) in magnitude
                .iter_mut()
                .zip(bins.iter_mut())
                .zip(&g_row)
                .zip(&g_col)
            {
                // sqrt(x² + y²) rather than hypot (scikit-image's): the sums stay identical,
                // since they are kept in single precision.
                *m = (gc * gc + gr * gr).sqrt();
                *b = fast_bin_code(gr, gc, step);
            }
            let hist_row = (r / cr) * cells.1 * n;
            // Column k of every cell, then column k + 1: each (cell, bin) total still
            // sees its pixels in row-major order, while consecutive additions go to
            // different cells, so their dependency chains overlap.
            for k in 0..cc {
                for cell_c in 0..cells.1 {
                    let base = hist_row + cell_c * n;
                    let c = cell_c * cc + k;
                    let code = bins[c];
                    let bin = if code < n_code {
                        code as usize
                    } else {
                        // A zero gradient (always undecided: its angle is 0°, a
                        // boundary) adds exactly nothing.
                        if magnitude[c] == 0.0 {
                            continue;
                        }
                        match exact_bin(g_row[c], g_col[c], n, step) {
                            Some(b) => b,
                            None => continue,
                        }
                    };
                    let total = &mut hist_data[base + bin];
                    *total = (f64::from(*total) + magnitude[c]) as f32;
                }
            }
        }
    }
}

fn normalise_block(block: &mut [f64], norm: BlockNorm) {
    match norm {
        BlockNorm::L1 => {
            let d = numpy_sum(block, f64::abs) + EPS;
            block.iter_mut().for_each(|v| *v /= d);
        }
        BlockNorm::L1Sqrt => {
            let d = numpy_sum(block, f64::abs) + EPS;
            block.iter_mut().for_each(|v| *v = (*v / d).sqrt());
        }
        BlockNorm::L2 => l2(block),
        BlockNorm::L2Hys => {
            l2(block);
            block.iter_mut().for_each(|v| *v = v.min(0.2));
            l2(block);
        }
    }
}

fn l2(block: &mut [f64]) {
    let d = (numpy_sum(block, |v| v * v) + EPS * EPS).sqrt();
    block.iter_mut().for_each(|v| *v /= d);
}

/// `np.sum(f(values))` with numpy's own summation order (pairwise: eight running sums
/// in blocks of up to 128 values, split in halves above that), so block norms are
/// bit-identical to scikit-image's. The eight independent sums also vectorise, where a
/// sequential sum is one long dependency chain.
fn numpy_sum(values: &[f64], f: impl Fn(f64) -> f64 + Copy) -> f64 {
    const BLOCK: usize = 128;
    let n = values.len();
    if n < 8 {
        return values.iter().fold(0.0, |total, &v| total + f(v));
    }
    if n <= BLOCK {
        let mut lanes = [0.0; 8];
        for (lane, &v) in lanes.iter_mut().zip(values) {
            *lane = f(v);
        }
        let whole = n - n % 8;
        for chunk in values[8..whole].chunks_exact(8) {
            for (lane, &v) in lanes.iter_mut().zip(chunk) {
                *lane += f(v);
            }
        }
        let head = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3]))
            + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
        return values[whole..].iter().fold(head, |total, &v| total + f(v));
    }
    let half = n / 2;
    let half = half - half % 8;
    numpy_sum(&values[..half], f) + numpy_sum(&values[half..], f)
}

fn histograms_of(
    image: ArrayView2<'_, f64>,
    p: &HogParams,
) -> Result<(Array3<f64>, (usize, usize))> {
    let (rows, cols) = image.dim();
    let cells = p.cells(rows, cols)?;
    let hist = if p.transform_sqrt {
        let sqrt_image: Array2<f64> = image.mapv(f64::sqrt);
        cell_histograms(sqrt_image.view(), p, cells)
    } else {
        cell_histograms(image, p, cells)
    };
    Ok((hist, cells))
}

/// Pixels of scikit-image's `draw.line(r0, c0, r1, c1)` (Bresenham, both ends included).
fn line_pixels(r0: i64, c0: i64, r1: i64, c1: i64, mut visit: impl FnMut(i64, i64)) {
    let (mut r, mut c) = (r0, c0);
    let (mut dr, mut dc) = ((r1 - r0).abs(), (c1 - c0).abs());
    let mut sc = if c1 - c > 0 { 1 } else { -1 };
    let mut sr = if r1 - r > 0 { 1 } else { -1 };
    let steep = dr > dc;
    if steep {
        std::mem::swap(&mut r, &mut c);
        std::mem::swap(&mut dr, &mut dc);
        std::mem::swap(&mut sr, &mut sc);
    }
    let mut d = 2 * dr - dc;
    for _ in 0..dc {
        if steep {
            visit(c, r)
        } else {
            visit(r, c)
        }
        while d >= 0 {
            r += sr;
            d -= 2 * dc;
        }
        c += sc;
        d += 2 * dr;
    }
    visit(r1, c1);
}

/// scikit-image's HOG visualisation (`hog(..., visualize=True)[1]`): an image of the
/// input's size with one glyph per cell.
pub fn hog_image(image: ArrayView2<'_, f64>, p: &HogParams) -> Result<Array2<f64>> {
    let (hist, cells) = histograms_of(image, p)?;
    let (c_row, c_col) = p.pixels_per_cell;
    let radius = (c_row.min(c_col) / 2) as f64 - 1.0;
    let n = p.orientations;
    let mut out = Array2::<f64>::zeros(image.dim());
    let (rows, cols) = (image.nrows() as i64, image.ncols() as i64);
    for o in 0..n {
        let mid = std::f64::consts::PI * (o as f64 + 0.5) / n as f64;
        let (dr, dc) = (radius * mid.sin(), radius * mid.cos());
        for r in 0..cells.0 {
            for c in 0..cells.1 {
                let centre = (
                    (r * c_row + c_row / 2) as f64,
                    (c * c_col + c_col / 2) as f64,
                );
                let weight = hist[[r, c, o]];
                // Python's int() truncates toward zero.
                line_pixels(
                    (centre.0 - dc) as i64,
                    (centre.1 + dr) as i64,
                    (centre.0 + dc) as i64,
                    (centre.1 - dr) as i64,
                    |y, x| {
                        // numpy indexing: negative indices count from the end.
                        let y = if y < 0 { y + rows } else { y };
                        let x = if x < 0 { x + cols } else { x };
                        if (0..rows).contains(&y) && (0..cols).contains(&x) {
                            out[[y as usize, x as usize]] += weight;
                        }
                    },
                );
            }
        }
    }
    Ok(out)
}

/// The HOG feature vector of a grayscale image.
pub fn hog(image: ArrayView2<'_, f64>, p: &HogParams) -> Result<Vec<f64>> {
    let (rows, cols) = image.dim();
    let (hist, cells) = histograms_of(image, p)?;
    let (br, bc) = p.cells_per_block;
    let n = p.orientations;
    let len = p.output_len(rows, cols)?;
    let mut out = Vec::with_capacity(len);
    let hist = hist.as_slice().expect("fresh array");
    // In (cell_row, cell_col, orientation) order, a block's cells of one cell row are
    // contiguous: a block is `br` slices of `bc · n` values, normalised in place.
    let (row_len, block_row_len) = (cells.1 * n, bc * n);
    for r in 0..=cells.0 - br {
        for c in 0..=cells.1 - bc {
            let start = out.len();
            for i in 0..br {
                let from = (r + i) * row_len + c * n;
                out.extend_from_slice(&hist[from..from + block_row_len]);
            }
            normalise_block(&mut out[start..], p.block_norm);
        }
    }
    debug_assert_eq!(out.len(), len);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_match_scikit_image() {
        let p = HogParams::default();
        assert_eq!(p.output_len(64, 64).expect("fits"), 2916);
        let p2 = HogParams {
            cells_per_block: (2, 2),
            ..p
        };
        assert_eq!(p2.output_len(64, 64).expect("fits"), 1764);
        // 70x61 with 8x8 cells: 8x7 cells, blocks of 3: 6x5 blocks
        assert_eq!(p.output_len(70, 61).expect("fits"), 6 * 5 * 9 * 9);
    }

    #[test]
    fn too_small_image_is_an_error() {
        let err = HogParams::default().output_len(20, 64).unwrap_err();
        assert!(err.to_string().contains("20x64"), "{err}");
        let err = HogParams {
            orientations: 0,
            ..HogParams::default()
        }
        .validate()
        .unwrap_err();
        assert!(err.to_string().contains("`orientations`"), "{err}");
        let err = HogParams {
            orientations: MAX_ORIENTATIONS + 1,
            ..HogParams::default()
        }
        .validate()
        .unwrap_err();
        assert!(err.to_string().contains("at most 10000"), "{err}");
    }

    #[test]
    fn the_fast_atan_is_within_its_stated_error() {
        let worst = (0..=2_000_000)
            .map(|i| {
                let t = i as f64 / 2_000_000.0;
                (atan_unit(t) - t.atan()).abs()
            })
            .fold(0.0, f64::max);
        assert!(worst.to_degrees() < ANGLE_MARGIN_DEG / 10.0, "{worst}");
        assert!(worst > 1e-7, "the polynomial is approximate: {worst}");
    }

    #[test]
    fn bins_on_and_near_every_boundary_are_scikit_images() {
        // Gradients at every boundary angle ± tiny offsets, and in between: wherever the
        // fast path decides, it must pick scikit-image's bin.
        let mut decided = 0;
        for n in [4usize, 6, 9, 12] {
            let step = 180.0 / n as f64;
            for k in 0..=2 * n {
                for offset in [-1e-2, -1e-4, -1e-9, 0.0, 1e-9, 1e-4, 1e-2, step / 2.0] {
                    for scale in [1e-3, 1.0, 255.0] {
                        let angle = (k as f64 * step + offset).to_radians() - std::f64::consts::PI;
                        let (g_row, g_col) = (angle.sin() * scale, angle.cos() * scale);
                        let fast = fast_bin(g_row, g_col, step);
                        let code = fast_bin_code(g_row, g_col, step);
                        if fast >= 0.0 {
                            assert_eq!(code, fast as u32);
                            decided += 1;
                            assert_eq!(
                                Some(fast as usize),
                                exact_bin(g_row, g_col, n, step),
                                "n={n} k={k} offset={offset}"
                            );
                        } else {
                            assert_eq!(code, u32::MAX);
                        }
                    }
                }
            }
        }
        assert!(decided > 500, "{decided}");
    }

    #[test]
    fn sums_are_numpys_bit_for_bit() {
        // np.sum(1.0 / (i + 1.0) * np.where(i % 3 == 0, 1e3, 1.0)) for i = arange(n),
        // numpy 2.4.6, as raw f64 bits; n = 144 and 300 take the halving path.
        for (n, bits) in [
            (5, 0x4093_8c22_2222_2223_u64),
            (36, 0x409d_383a_a46c_c45e),
            (81, 0x40a0_bed5_09ab_87d6),
            (144, 0x40a2_40f3_72aa_f433),
            (300, 0x40a4_2c6f_5df3_469c),
        ] {
            let values: Vec<f64> = (0..n)
                .map(|i| 1.0 / (i as f64 + 1.0) * if i % 3 == 0 { 1e3 } else { 1.0 })
                .collect();
            assert_eq!(numpy_sum(&values, |v| v).to_bits(), bits, "n = {n}");
        }
    }

    #[test]
    fn numpy_mod_matches_python() {
        assert_eq!(numpy_mod(-90.0, 180.0), 90.0);
        assert_eq!(numpy_mod(180.0, 180.0), 0.0);
        assert_eq!(numpy_mod(-1e-20, 180.0), 180.0);
        assert_eq!(numpy_mod(45.5, 180.0), 45.5);
    }

    #[test]
    fn vertical_edge_fills_the_zero_degree_bin() {
        // A vertical step edge: column gradient only → orientation 0 → bin 0.
        let img = Array2::from_shape_fn((16, 16), |(_, c)| if c < 8 { 0.0 } else { 1.0 });
        let p = HogParams {
            pixels_per_cell: (8, 8),
            cells_per_block: (1, 1),
            block_norm: BlockNorm::L1,
            ..HogParams::default()
        };
        let f = hog(img.view(), &p).expect("fits");
        assert_eq!(f.len(), 4 * 9);
        for cell in f.chunks(9) {
            assert!(cell[1..].iter().all(|&v| v == 0.0), "{cell:?}");
        }
        assert!(f[0] > 0.9, "left cell sees the edge at column 7: {f:?}");
    }
}
