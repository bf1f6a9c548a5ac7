//! Per-feature standardisation, fitted on training data only.

use ndarray::{Array1, Array2, ArrayView2, Axis};

use crate::error::{Error, Result};

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
        if x.nrows() == 0 {
            return Err(Error::NoChips);
        }
        if let Some(((row, column), &value)) = x.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(Error::NonFinite { row, column, value });
        }
        let mean = x.mean_axis(Axis(0)).ok_or(Error::NoChips)?;
        let var = x.var_axis(Axis(0), 0.0);
        let scale = var.mapv(|v| {
            let s = v.sqrt();
            if s < 10.0 * f64::EPSILON { 1.0 } else { s }
        });
        Ok(Self { mean, scale })
    }

    /// From the moments of the training rows: the same statistics as [`Self::fit`] on
    /// those rows, up to rounding.
    pub fn from_moments(moments: &crate::moments::Moments) -> Result<Self> {
        if moments.count() == 0 {
            return Err(Error::NoChips);
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

    pub fn transform(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        if x.ncols() != self.mean.len() {
            return Err(Error::DimensionMismatch {
                expected: self.mean.len(),
                got: x.ncols(),
            });
        }
        Ok((&x - &self.mean) / &self.scale)
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
}
