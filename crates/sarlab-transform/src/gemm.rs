//! `A Bᵀ` for a tile of rows, with the same bits for a row whatever rows it comes with.
//!
//! faer's GEMM (its x86 kernels) gives every row of `A` the same values however many
//! rows are multiplied together — but only on its main path: a product with a single
//! row, a single column or a single inner index goes through matrix-vector or rank-one
//! code, and one of at most 16³ multiply-adds through a small-matrix kernel, and those
//! round differently. [`rows_times_transpose`] keeps every product on the main path —
//! a lone column or inner index is padded (a repeated row of `B`, a zero column), and
//! a tile with too few rows is padded with copies of its last row — so that no row's
//! result depends on the batch it was computed in (a chip predicted alone, the last
//! rows of a split, a block of 1,024).

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

/// `dst = A Bᵀ` for the row-major `rows × d` matrix `a` and `b` (`m × d`), into the
/// row-major `rows × m` `dst`, on the calling thread.
///
/// ```
/// use faer::MatRef;
/// use sarlab_transform::gemm::rows_times_transpose;
///
/// let b = [1.0, 2.0, 3.0, 4.0]; // two rows of two
/// let mut dst = [0.0; 2];
/// rows_times_transpose(&[1.0, 1.0], 1, 2, MatRef::from_row_major_slice(&b, 2, 2), &mut dst);
/// assert_eq!(dst, [3.0, 7.0]);
/// ```
pub fn rows_times_transpose(a: &[f64], rows: usize, d: usize, b: MatRef<'_, f64>, dst: &mut [f64]) {
    let m = b.nrows();
    assert_eq!(a.len(), rows * d, "`a` must hold rows × d values");
    assert_eq!(dst.len(), rows * m, "`dst` must hold rows × m values");
    assert_eq!(b.ncols(), d, "`b` must have d columns");
    if d == 0 || m == 0 || rows == 0 {
        dst.fill(0.0);
        return;
    }
    if m == 1 || d == 1 {
        // A second row of `B` (a copy) and a zero inner index: `x + 0·0 = x`.
        let (m2, d2) = (m.max(2), d.max(2));
        let widen = |values: &[f64], count: usize| -> Vec<f64> {
            let mut out = vec![0.0; count * d2];
            for (dst, src) in out.chunks_exact_mut(d2).zip(values.chunks_exact(d)) {
                dst[..d].copy_from_slice(src);
            }
            out
        };
        let mut b_rows: Vec<f64> = (0..m).flat_map(|r| b.row(r).iter().copied()).collect();
        if m == 1 {
            b_rows.extend_from_within(..d);
        }
        let (a2, b2) = (widen(a, rows), widen(&b_rows, m2));
        let mut out = vec![0.0; rows * m2];
        rows_times_transpose(
            &a2,
            rows,
            d2,
            MatRef::from_row_major_slice(&b2, m2, d2),
            &mut out,
        );
        for (dst, src) in dst.chunks_exact_mut(m).zip(out.chunks_exact(m2)) {
            dst.copy_from_slice(&src[..m]);
        }
        return;
    }
    let min_rows = (SMALL_PRODUCT_MAX / (m * d) + 1).max(2);
    if rows < min_rows {
        let mut padded = Vec::with_capacity(min_rows * d);
        padded.extend_from_slice(a);
        let last = &a[(rows - 1) * d..];
        for _ in rows..min_rows {
            padded.extend_from_slice(last);
        }
        let mut out = vec![0.0; min_rows * m];
        rows_times_transpose(&padded, min_rows, d, b, &mut out);
        dst.copy_from_slice(&out[..rows * m]);
        return;
    }
    let lhs = MatRef::from_row_major_slice(a, rows, d);
    let out = MatMut::from_row_major_slice_mut(dst, rows, m);
    matmul(out, Accum::Replace, lhs, b.transpose(), 1.0, Par::Seq);
    crate::simd::clear_upper_vector_state();
}

/// faer multiplies products of at most this many multiply-adds with its small-matrix
/// kernel (`NANO_GEMM_THRESHOLD` in faer 0.24).
const SMALL_PRODUCT_MAX: usize = 16 * 16 * 16;

#[cfg(test)]
mod tests {
    use super::*;

    fn values(count: usize, seed: u64) -> Vec<f64> {
        let mut state = seed;
        (0..count)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 11) as f64 / (1u64 << 53) as f64 - 0.3
            })
            .collect()
    }

    /// `A Bᵀ` in tiles of `tile` rows.
    fn by_tiles(a: &[f64], n: usize, d: usize, b: MatRef<'_, f64>, tile: usize) -> Vec<f64> {
        let m = b.nrows();
        let mut out = vec![0.0; n * m];
        for (t, dst) in out.chunks_mut(tile * m).enumerate() {
            let rows = dst.len() / m;
            rows_times_transpose(&a[t * tile * d..(t * tile + rows) * d], rows, d, b, dst);
        }
        out
    }

    fn differing(x: &[f64], y: &[f64]) -> usize {
        x.iter()
            .zip(y)
            .filter(|(x, y)| x.to_bits() != y.to_bits())
            .count()
    }

    /// The property the callers rely on, for long and short rows: a row's products are
    /// the same bits alone, in short tiles and in one tall product.
    #[test]
    fn a_row_gets_the_same_bits_in_any_tile() {
        for (n, m, d) in [
            (600, 700, 1764),
            (300, 257, 100),
            (77, 1000, 8),
            (40, 33, 2049),
            (32, 12, 152),
            (40, 80, 12),
        ] {
            let a = values(n * d, 0x9e37_79b9_7f4a_7c15);
            let b = values(m * d, 0x2545_f491_4f6c_dd1d);
            let b = MatRef::from_row_major_slice(&b, m, d);
            let whole = by_tiles(&a, n, d, b, n);
            for tile in [1, 2, 3, 5, 16, 255, 256, 257, 512] {
                let tiled = by_tiles(&a, n, d, b, tile);
                assert_eq!(
                    differing(&whole, &tiled),
                    0,
                    "{n}x{m}x{d} in tiles of {tile}"
                );
            }
        }
    }

    /// Small products (faer's small-matrix, matrix-vector and rank-one paths) too, and
    /// they equal the plain sums to rounding.
    #[test]
    fn small_products_get_the_same_bits_in_any_tile() {
        for d in [1, 2, 3, 7, 12, 40, 100, 152] {
            for m in [1, 2, 3, 5, 12, 19] {
                let n = 9;
                let a = values(n * d, 7 + d as u64);
                let b_values = values(m * d, 11 + m as u64);
                let b = MatRef::from_row_major_slice(&b_values, m, d);
                let whole = by_tiles(&a, n, d, b, n);
                for tile in [1, 2, 4] {
                    let tiled = by_tiles(&a, n, d, b, tile);
                    assert_eq!(
                        differing(&whole, &tiled),
                        0,
                        "{n}x{m}x{d} in tiles of {tile}"
                    );
                }
                for i in 0..n {
                    for j in 0..m {
                        let plain: f64 = (0..d).map(|k| a[i * d + k] * b_values[j * d + k]).sum();
                        assert!((whole[i * m + j] - plain).abs() <= 1e-12 * (1.0 + plain.abs()));
                    }
                }
            }
        }
    }
}
