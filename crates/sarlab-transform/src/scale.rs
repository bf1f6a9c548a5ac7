//! Per-feature standardisation, fitted on training data only.

use ndarray::{Array1, Array2, ArrayView2};

use crate::error::{Error, Result};
use crate::rows::Rows;

/// `(x - mean) / std` per feature, like scikit-learn's `StandardScaler`: population
/// standard deviation, and constant features (std below `10·ε`) left unscaled.
#[derive(Debug, Clone, PartialEq)]
pub struct StandardScaler {
    pub mean: Array1<f64>,
    pub scale: Array1<f64>,
}

impl StandardScaler {
    /// Fits on the rows of `x`, rejecting non-finite values (they would poison every
    /// feature's statistics silently).
    pub fn fit(x: ArrayView2<'_, f64>) -> Result<Self> {
        Self::fit_rows(Rows::all(x))
    }

    /// Fits on a set of rows, in place. The arithmetic is ndarray's `mean_axis` and
    /// `var_axis` over the rows in order (a running mean and sum of squares, fused), so
    /// fitting on a subset equals fitting on a copy of it bit for bit.
    pub fn fit_rows(rows: Rows<'_>) -> Result<Self> {
        if rows.is_empty() {
            return Err(Error::NoRows);
        }
        rows.check_finite()?;
        let d = rows.width();
        let mut sum = Array1::<f64>::zeros(d);
        let mut running_mean = Array1::<f64>::zeros(d);
        let mut sum_sq = Array1::<f64>::zeros(d);
        for (k, row) in rows.iter().enumerate() {
            let count = (k + 1) as f64;
            for j in 0..d {
                let x = row[j];
                sum[j] += x;
                let delta = x - running_mean[j];
                running_mean[j] += delta / count;
                sum_sq[j] = (x - running_mean[j]).mul_add(delta, sum_sq[j]);
            }
        }
        let n = rows.len() as f64;
        let mean = sum / n;
        let scale = sum_sq.mapv(|s| {
            let s = (s / n).sqrt();
            if s < 10.0 * f64::EPSILON { 1.0 } else { s }
        });
        Ok(Self { mean, scale })
    }

    /// From the moments of the training rows: the same statistics as [`Self::fit`] on
    /// those rows, up to rounding.
    pub fn from_moments(moments: &crate::moments::Moments) -> Result<Self> {
        if moments.count() == 0 {
            return Err(Error::NoRows);
        }
        let scale = moments.variances().mapv(|v| {
            let s = v.sqrt();
            if s < 10.0 * f64::EPSILON { 1.0 } else { s }
        });
        Ok(Self {
            mean: moments.mean(),
            scale,
        })
    }

    /// The scaler followed by multiplying feature `j` by `weights[j]` (a fusion's block
    /// weights), as one scaler: each scale divided by its weight.
    pub fn weighted(mut self, weights: &[f64]) -> Result<Self> {
        if weights.len() != self.scale.len() {
            return Err(Error::DimensionMismatch {
                expected: self.scale.len(),
                got: weights.len(),
            });
        }
        if let Some(w) = weights.iter().find(|w| !(w.is_finite() && **w > 0.0)) {
            return Err(Error::InvalidParameter {
                name: "weights",
                message: format!("{w} is not a positive finite weight"),
            });
        }
        for (scale, w) in self.scale.iter_mut().zip(weights) {
            *scale /= w;
        }
        Ok(self)
    }

    pub fn transform(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        self.transform_rows(Rows::all(x))
    }

    /// `(x - mean) / scale` of each row of the set, into a new matrix.
    pub fn transform_rows(&self, rows: Rows<'_>) -> Result<Array2<f64>> {
        let d = self.mean.len();
        if rows.width() != d {
            return Err(Error::DimensionMismatch {
                expected: d,
                got: rows.width(),
            });
        }
        let mut out = Array2::<f64>::zeros((rows.len(), d));
        for (mut dst, src) in out.rows_mut().into_iter().zip(rows.iter()) {
            for j in 0..d {
                dst[j] = self.value(src[j], j);
            }
        }
        Ok(out)
    }

    /// Standardises the rows of `x` in place (the values [`StandardScaler::transform_rows`]
    /// gives, without a copy).
    pub fn transform_in_place(&self, mut x: ndarray::ArrayViewMut2<'_, f64>) -> Result<()> {
        let d = self.mean.len();
        if x.ncols() != d {
            return Err(Error::DimensionMismatch {
                expected: d,
                got: x.ncols(),
            });
        }
        for mut row in x.rows_mut() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = self.value(*v, j);
            }
        }
        Ok(())
    }

    /// Feature `j`'s value `x`, standardised.
    #[inline]
    pub fn value(&self, x: f64, j: usize) -> f64 {
        (x - self.mean[j]) / self.scale[j]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardises_like_sklearn() {
        // sklearn: StandardScaler().fit([[0,1,5],[2,1,7],[4,1,9]]) → mean [2,1,7],
        // scale [1.63299316, 1, 1.63299316]; constant column kept at scale 1.
        let x = ndarray::array![[0.0, 1.0, 5.0], [2.0, 1.0, 7.0], [4.0, 1.0, 9.0]];
        let s = StandardScaler::fit(x.view()).expect("fit");
        assert_eq!(s.mean.to_vec(), vec![2.0, 1.0, 7.0]);
        assert!((s.scale[0] - 1.632_993_161_855_452).abs() < 1e-12);
        assert_eq!(s.scale[1], 1.0);
        let t = s.transform(x.view()).expect("transform");
        assert!((t[[0, 0]] + 1.224_744_871_391_589).abs() < 1e-12);
        assert_eq!(t[[1, 1]], 0.0);
    }

    #[test]
    fn fitting_on_a_subset_equals_ndarray_on_a_copy_bit_for_bit() {
        let x = ndarray::Array2::from_shape_fn((37, 6), |(i, j)| {
            ((i * 7 + j * 13) % 11) as f64 * 0.37 + (i as f64).sin() * 1e3
        });
        let index: Vec<usize> = (0..37).filter(|i| i % 3 != 1).collect();
        let copy = x.select(ndarray::Axis(0), &index);
        let s = StandardScaler::fit_rows(Rows::subset(x.view(), &index).expect("in range"))
            .expect("fit");
        let mean = copy.mean_axis(ndarray::Axis(0)).expect("rows");
        let std = copy.var_axis(ndarray::Axis(0), 0.0).mapv(f64::sqrt);
        assert_eq!(s.mean, mean);
        assert_eq!(s.scale, std);
        let scaled = s
            .transform_rows(Rows::subset(x.view(), &index).expect("in range"))
            .expect("transform");
        assert_eq!(scaled, (&copy - &s.mean) / &s.scale);
    }

    #[test]
    fn rejects_nan_and_wrong_width() {
        let x = ndarray::array![[0.0, f64::NAN]];
        assert!(matches!(
            StandardScaler::fit(x.view()),
            Err(Error::NonFinite {
                row: 0,
                column: 1,
                ..
            })
        ));
        let s = StandardScaler::fit(ndarray::array![[1.0, 2.0]].view()).expect("fit");
        assert!(s.transform(ndarray::array![[1.0]].view()).is_err());
    }

    #[test]
    fn weighted_multiplies_each_standardised_feature() {
        let x = ndarray::array![[0.0, 1.0, 5.0], [2.0, 1.0, 7.0], [4.0, 3.0, 9.0]];
        let plain = StandardScaler::fit(x.view()).expect("fit");
        let weighted = plain.clone().weighted(&[2.0, 0.5, 1.0]).expect("weights");
        let (a, b) = (
            plain.transform(x.view()).expect("plain"),
            weighted.transform(x.view()).expect("weighted"),
        );
        for ((i, j), v) in b.indexed_iter() {
            let expected = a[[i, j]] * [2.0, 0.5, 1.0][j];
            assert!((v - expected).abs() < 1e-15, "{v} vs {expected}");
        }
        assert!(plain.clone().weighted(&[1.0]).is_err());
        assert!(plain.weighted(&[1.0, 0.0, 1.0]).is_err());
    }

    #[test]
    fn in_place_equals_the_copy() {
        let x = ndarray::Array2::from_shape_fn((7, 3), |(i, j)| (i * 3 + j) as f64 * 0.37 - 1.1);
        let scaler = StandardScaler::fit_rows(Rows::all(x.view())).expect("fit");
        let mut y = x.clone();
        scaler.transform_in_place(y.view_mut()).expect("in place");
        assert_eq!(y, scaler.transform_rows(Rows::all(x.view())).expect("copy"));
        assert!(
            scaler
                .transform_in_place(y.slice_mut(ndarray::s![.., ..2]))
                .is_err()
        );
    }
}
