//! The centred (and optionally standardised) rows a PCA is fitted to, read in place.
//!
//! PCA is fitted on `(x − m)/s − μ` (scaler mean `m` and scale `s`, then the mean `μ` of
//! the standardised rows). A fold of 4096-pixel chips materialised that way costs as
//! much memory as the features themselves, several times over with copies for the
//! subset, the standardisation, the centring and the single-precision sketch. The
//! randomized solver only ever multiplies the covariance by thin matrices, so it reads
//! the rows block by block instead ([`CentredRows::covariance_product`]); only the exact
//! solvers materialise the centred matrix ([`CentredRows::to_mat`]).

use std::ops::AddAssign;

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par};
use ndarray::Array1;
use rayon::prelude::*;

use crate::StandardScaler;
use crate::error::{Error, Result};
use crate::rows::Rows;

/// Rows per parallel chunk of [`CentredRows::covariance_product`]. Fixed, so that the
/// partial sums, added in chunk order, do not depend on the number of threads.
const CHUNK_ROWS: usize = 512;
/// Rows centred into a buffer at a time within a chunk: two thin GEMMs per block.
const BLOCK_ROWS: usize = 128;

/// A value type the blocks are centred into.
pub(crate) trait Sample: faer::traits::RealField + Copy + AddAssign + Send + Sync {
    fn from_f64(v: f64) -> Self;
}

impl Sample for f64 {
    fn from_f64(v: f64) -> Self {
        v
    }
}

impl Sample for f32 {
    fn from_f64(v: f64) -> Self {
        v as f32
    }
}

/// Rows standardised by an optional scaler, then centred on their own mean.
pub(crate) struct CentredRows<'r, 's> {
    rows: Rows<'r>,
    scaler: Option<&'s StandardScaler>,
    mean: Array1<f64>,
}

impl<'r, 's> CentredRows<'r, 's> {
    /// Computes the mean of the (standardised) rows as ndarray's `mean_axis` does (rows
    /// added in order, then divided by their count); a non-finite value is an error.
    pub(crate) fn new(rows: Rows<'r>, scaler: Option<&'s StandardScaler>) -> Result<Self> {
        let d = rows.width();
        if let Some(s) = scaler
            && s.mean.len() != d
        {
            return Err(Error::DimensionMismatch {
                expected: s.mean.len(),
                got: d,
            });
        }
        let mut sum = Array1::<f64>::zeros(d);
        let mut uncentred = Self {
            rows,
            scaler,
            mean: Array1::zeros(d),
        };
        for k in 0..rows.len() {
            let row = rows.row(k);
            for j in 0..d {
                let v = uncentred.standardised(row[j], j);
                if !v.is_finite() {
                    return Err(Error::InvalidParameter {
                        name: "pca",
                        message: format!(
                            "the data hold a non-finite value ({v}) in row {}, feature {j}",
                            rows.source_row(k)
                        ),
                    });
                }
                sum[j] += v;
            }
        }
        uncentred.mean = sum / rows.len().max(1) as f64;
        Ok(uncentred)
    }

    /// The rows standardised by `scaler` when given, centred on `mean` (a fitted PCA's,
    /// to project new rows); no check of the values.
    pub(crate) fn about(
        rows: Rows<'r>,
        scaler: Option<&'s StandardScaler>,
        mean: Array1<f64>,
    ) -> Self {
        Self { rows, scaler, mean }
    }

    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }

    pub(crate) fn width(&self) -> usize {
        self.rows.width()
    }

    /// The mean of the standardised rows, which centring removes.
    pub(crate) fn into_mean(self) -> Array1<f64> {
        self.mean
    }

    #[inline]
    fn standardised(&self, x: f64, j: usize) -> f64 {
        match self.scaler {
            Some(s) => s.value(x, j),
            None => x,
        }
    }

    /// Rows `start..start + count`, centred, row-major into `out` (`count × d`).
    pub(crate) fn fill<T: Sample>(&self, start: usize, count: usize, out: &mut [T]) {
        let d = self.width();
        for (r, dst) in out.chunks_exact_mut(d).take(count).enumerate() {
            let src = self.rows.row(start + r);
            for j in 0..d {
                dst[j] = T::from_f64(self.standardised(src[j], j) - self.mean[j]);
            }
        }
    }

    /// The centred rows as one column-major matrix.
    pub(crate) fn to_mat(&self) -> Mat<f64> {
        let (n, d) = (self.len(), self.width());
        let mut out = Mat::<f64>::zeros(n, d);
        let mut row = vec![0.0; d];
        for i in 0..n {
            self.fill(i, 1, &mut row);
            for (j, &v) in row.iter().enumerate() {
                out[(i, j)] = v;
            }
        }
        out
    }

    /// `Σᵢ Σⱼ cᵢⱼ²`, summed feature by feature over the rows in order.
    pub(crate) fn total_square(&self) -> f64 {
        let d = self.width();
        let mut per_feature = vec![0.0; d];
        let mut row = vec![0.0; d];
        for i in 0..self.len() {
            self.fill(i, 1, &mut row);
            for (acc, v) in per_feature.iter_mut().zip(&row) {
                *acc += v * v;
            }
        }
        per_feature.iter().sum()
    }

    /// `Cᵀ(C q)` for the centred rows `C` (`n × d`) and `q` (`d × s`), in `T`: chunks of
    /// rows in parallel, each centring blocks into a small buffer for two thin GEMMs;
    /// the chunks' partial sums are added in order.
    pub(crate) fn covariance_product<T: Sample>(&self, q: MatRef<'_, T>) -> Mat<T> {
        let (n, d, s) = (self.len(), self.width(), q.ncols());
        let partials: Vec<Mat<T>> = (0..n.div_ceil(CHUNK_ROWS))
            .into_par_iter()
            .map(|chunk| {
                let mut acc = Mat::<T>::zeros(d, s);
                let mut block = vec![T::from_f64(0.0); BLOCK_ROWS * d];
                let end = ((chunk + 1) * CHUNK_ROWS).min(n);
                let mut start = chunk * CHUNK_ROWS;
                while start < end {
                    let count = BLOCK_ROWS.min(end - start);
                    let block = &mut block[..count * d];
                    self.fill(start, count, block);
                    let b = MatRef::from_row_major_slice(block, count, d);
                    let mut t = Mat::<T>::zeros(count, s);
                    matmul(t.as_mut(), Accum::Replace, b, q, T::one_impl(), Par::Seq);
                    matmul(
                        acc.as_mut(),
                        Accum::Add,
                        b.transpose(),
                        t.as_ref(),
                        T::one_impl(),
                        Par::Seq,
                    );
                    start += count;
                }
                crate::simd::clear_upper_vector_state();
                acc
            })
            .collect();
        let mut total = Mat::<T>::zeros(d, s);
        for partial in &partials {
            for c in 0..s {
                for r in 0..d {
                    total[(r, c)] += partial[(r, c)];
                }
            }
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, Axis};

    #[test]
    fn the_blocked_product_equals_the_materialised_one() {
        // More rows than one chunk, and a last block that is not full.
        let x = Array2::from_shape_fn((1100, 9), |(i, j)| {
            ((i * 31 + j * 7) % 17) as f64 - (j as f64).cos() * 3.0
        });
        let index: Vec<usize> = (0..1100).filter(|i| i % 5 != 2).collect();
        let rows = Rows::subset(x.view(), &index).expect("in range");
        let scaler = StandardScaler::fit_rows(rows).expect("fit");
        let centred = CentredRows::new(rows, Some(&scaler)).expect("finite");
        let copy = scaler
            .transform(x.select(Axis(0), &index).view())
            .expect("scaled");
        let mean = copy.mean_axis(Axis(0)).expect("rows");
        assert_eq!(centred.mean, mean);
        let c = centred.to_mat();
        let q = Mat::<f64>::from_fn(9, 4, |r, k| (r as f64 + 1.0) / (k as f64 + 2.0));
        let expected = c.transpose() * (&c * &q);
        let got = centred.covariance_product(q.as_ref());
        for k in 0..4 {
            for r in 0..9 {
                let (e, g) = (expected[(r, k)], got[(r, k)]);
                assert!((e - g).abs() <= 1e-12 * e.abs().max(1.0), "{e} vs {g}");
            }
        }
    }

    #[test]
    fn non_finite_values_are_named() {
        let mut x = Array2::<f64>::zeros((3, 2));
        x[[1, 0]] = f64::INFINITY;
        let err = CentredRows::new(Rows::all(x.view()), None)
            .err()
            .expect("rejected");
        assert!(err.to_string().contains("row 1"), "{err}");
    }
}
