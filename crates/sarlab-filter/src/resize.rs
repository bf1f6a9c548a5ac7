//! Resizing a chip to a common size as `skimage.transform.resize(image, shape)` does
//! with its defaults (bilinear, `mode="reflect"`, anti-aliasing when shrinking, the
//! output clipped to the input's range):
//!
//! 1. when any side shrinks, a Gaussian blur of σ = max(0, (s − 1)/2) per axis, `s` the
//!    axis' shrink factor (scipy.ndimage.gaussian_filter, truncate 4, mirrored edges —
//!    numpy's `reflect` is ndimage's `mirror`: `d c b | a b c d`);
//! 2. `scipy.ndimage.zoom(..., order=1, mode="mirror", grid_mode=True)`: output pixel
//!    `o` of `m` samples input position `(o + ½)·n/m − ½`, linearly interpolated;
//! 3. values clipped to `[min, max]` of the input.

use ndarray::{Array2, ArrayView2, Axis};

use crate::boundary::mirror;
use crate::error::{Error, Result};

/// Largest side a chip may be resized to.
pub const MAX_RESIZE: usize = 4096;

/// scipy.ndimage's Gaussian weights for σ (truncate 4).
fn gaussian_weights(sigma: f64) -> Vec<f64> {
    let radius = (4.0 * sigma + 0.5) as isize;
    let mut w: Vec<f64> = (-radius..=radius)
        .map(|x| (-0.5 / (sigma * sigma) * (x * x) as f64).exp())
        .collect();
    let sum: f64 = w.iter().sum();
    for v in &mut w {
        *v /= sum;
    }
    w
}

/// `correlate1d` of every lane along `axis` with `weights`, mirrored edges.
fn blur_axis(image: &Array2<f64>, axis: usize, sigma: f64) -> Array2<f64> {
    let w = gaussian_weights(sigma);
    let radius = (w.len() / 2) as isize;
    let mut out = image.clone();
    for (src, mut dst) in image
        .lanes(Axis(axis))
        .into_iter()
        .zip(out.lanes_mut(Axis(axis)))
    {
        let n = src.len();
        for (i, d) in dst.iter_mut().enumerate() {
            let mut acc = 0.0;
            for (k, &wk) in w.iter().enumerate() {
                acc += wk * src[mirror(i as isize + k as isize - radius, n)];
            }
            *d = acc;
        }
    }
    out
}

/// The two input samples and the second's weight for each of `m` outputs of an axis
/// of `n` inputs.
fn linear_taps(n: usize, m: usize) -> Vec<(usize, usize, f64)> {
    let scale = n as f64 / m as f64;
    (0..m)
        .map(|o| {
            let x = (o as f64 + 0.5) * scale - 0.5;
            let x0 = x.floor();
            let f = x - x0;
            let i0 = x0 as isize;
            (mirror(i0, n), mirror(i0 + 1, n), f)
        })
        .collect()
}

/// `image` resized to `rows × cols` (see the module docs).
pub fn resize(image: ArrayView2<'_, f64>, rows: usize, cols: usize) -> Result<Array2<f64>> {
    let (n_r, n_c) = image.dim();
    if rows == 0 || cols == 0 || rows > MAX_RESIZE || cols > MAX_RESIZE {
        return Err(Error::InvalidFilter(format!(
            "resize to {rows}x{cols}: each side must be from 1 to {MAX_RESIZE}"
        )));
    }
    if n_r == 0 || n_c == 0 {
        return Err(Error::SizeMismatch {
            expected: (rows, cols),
            actual: (n_r, n_c),
        });
    }
    if (n_r, n_c) == (rows, cols) {
        return Ok(image.to_owned());
    }
    let (min, max) = image
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let factors = (n_r as f64 / rows as f64, n_c as f64 / cols as f64);
    let mut filtered = image.to_owned();
    if rows < n_r || cols < n_c {
        // scipy skips an axis whose σ is (about) zero.
        for (axis, factor) in [(0, factors.0), (1, factors.1)] {
            let sigma = ((factor - 1.0) / 2.0).max(0.0);
            if sigma > 1e-15 {
                filtered = blur_axis(&filtered, axis, sigma);
            }
        }
    }
    let (taps_r, taps_c) = (linear_taps(n_r, rows), linear_taps(n_c, cols));
    let mut out = Array2::<f64>::zeros((rows, cols));
    for (o_r, &(r0, r1, fr)) in taps_r.iter().enumerate() {
        for (o_c, &(c0, c1, fc)) in taps_c.iter().enumerate() {
            let top = filtered[[r0, c0]] * (1.0 - fc) + filtered[[r0, c1]] * fc;
            let bottom = filtered[[r1, c0]] * (1.0 - fc) + filtered[[r1, c1]] * fc;
            out[[o_r, o_c]] = (top * (1.0 - fr) + bottom * fr).clamp(min, max);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array;

    #[test]
    fn a_constant_stays_constant_and_the_same_size_is_a_copy() {
        let c = Array2::from_elem((13, 7), 0.3);
        let r = resize(c.view(), 5, 11).expect("resize");
        assert!(r.iter().all(|&v| (v - 0.3).abs() < 1e-15));
        let x = Array::from_shape_fn((6, 5), |(i, j)| (i * 5 + j) as f64);
        assert_eq!(resize(x.view(), 6, 5).expect("resize"), x);
    }

    #[test]
    fn doubling_interpolates_at_quarter_positions() {
        // Output o of 2n samples input (o + ½)/2 − ½ = o/2 − ¼.
        let x = Array2::from_shape_vec((1, 3), vec![0.0, 4.0, 8.0]).expect("shape");
        let r = resize(x.view(), 1, 6).expect("resize");
        // Positions −¼ (mirrored: ¼ → 1), ¼, ¾, 1¼, 1¾, 2¼ (mirrored 1¾), clipped.
        let expected = [1.0, 1.0, 3.0, 5.0, 7.0, 7.0];
        for (a, b) in r.iter().zip(expected) {
            assert!((a - b).abs() < 1e-12, "{r}");
        }
    }

    #[test]
    fn bad_sizes_are_errors() {
        let x = Array2::<f64>::zeros((4, 4));
        assert!(resize(x.view(), 0, 4).is_err());
        assert!(resize(x.view(), 4, MAX_RESIZE + 1).is_err());
        assert!(resize(Array2::<f64>::zeros((0, 4)).view(), 2, 2).is_err());
    }
}
