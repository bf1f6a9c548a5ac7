//! Exact principal component analysis (faer), matching scikit-learn's
//! `PCA(svd_solver="full")`: components up to scikit-learn's sign convention (each
//! component's largest-magnitude loading is positive), explained variance `S²/(n − 1)`
//! and its ratio, optional whitening. With more samples than features the axes come
//! from the eigendecomposition of the `d × d` covariance (scikit-learn's
//! `"covariance_eigh"`, about 3× faster than the thin SVD for 2197 × 1764 HOG folds);
//! otherwise from the thin SVD of the centred data. Both are exact. Fitted on training data only: the caller passes
//! the training split (or fold) and transforms everything else with the fitted model.

use faer::Mat;
use ndarray::{Array1, Array2, ArrayView2, Axis};

use crate::error::{Error, Result};

/// What to fit: the number of components kept, and whether to whiten them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PcaParams {
    pub components: usize,
    pub whiten: bool,
}

/// A fitted PCA.
#[derive(Debug, Clone, PartialEq)]
pub struct Pca {
    pub mean: Array1<f64>,
    /// `n_components × n_features`, rows are unit-length principal axes.
    pub components: Array2<f64>,
    pub explained_variance: Array1<f64>,
    pub explained_variance_ratio: Array1<f64>,
    pub whiten: bool,
}

impl Pca {
    /// Fits `n_components` principal axes to the rows of `x` (samples × features).
    pub fn fit(x: ArrayView2<'_, f64>, n_components: usize, whiten: bool) -> Result<Self> {
        let (n, d) = x.dim();
        if n < 2 {
            return Err(Error::InvalidParameter {
                name: "pca",
                message: format!("{n} sample(s): PCA needs at least 2"),
            });
        }
        if n_components == 0 || n_components > n.min(d) {
            return Err(Error::InvalidParameter {
                name: "pca",
                message: format!(
                    "{n_components} components: must be within 1..={} (min of {n} samples and {d} features)",
                    n.min(d)
                ),
            });
        }
        if let Some(v) = x.iter().find(|v| !v.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "pca",
                message: format!("the data hold a non-finite value ({v})"),
            });
        }
        let mean = x.mean_axis(Axis(0)).expect("at least 2 samples");
        let centred = Mat::<f64>::from_fn(n, d, |i, j| x[[i, j]] - mean[j]);
        // Principal axes (columns, by decreasing variance) and all variances.
        let (axes, variances) = if n > d {
            let mut cov = Mat::<f64>::zeros(d, d);
            faer::linalg::matmul::matmul(
                cov.as_mut(),
                faer::Accum::Replace,
                centred.transpose(),
                centred.as_ref(),
                1.0 / (n - 1) as f64,
                faer::Par::Seq,
            );
            let eigen = cov.self_adjoint_eigen(faer::Side::Lower);
            crate::simd::clear_upper_vector_state();
            let eigen = eigen.map_err(|e| Error::InvalidParameter {
                name: "pca",
                message: format!("the eigendecomposition did not converge: {e:?}"),
            })?;
            // Ascending eigenvalues: reverse; rounding can make null ones slightly negative.
            let values = eigen.S().column_vector();
            let vectors = eigen.U();
            let variances: Vec<f64> = (0..d).rev().map(|i| values[i].max(0.0)).collect();
            let axes = Mat::<f64>::from_fn(d, n_components, |j, c| vectors[(j, d - 1 - c)]);
            (axes, variances)
        } else {
            let svd = centred.thin_svd();
            crate::simd::clear_upper_vector_state();
            let svd = svd.map_err(|e| Error::InvalidParameter {
                name: "pca",
                message: format!("the SVD did not converge: {e:?}"),
            })?;
            let (s, v) = (svd.S().column_vector(), svd.V());
            let variances: Vec<f64> = (0..n.min(d))
                .map(|i| s[i] * s[i] / (n - 1) as f64)
                .collect();
            let axes = Mat::<f64>::from_fn(d, n_components, |j, c| v[(j, c)]);
            (axes, variances)
        };
        let v = axes.as_ref();
        let total: f64 = variances.iter().sum();
        let mut components = Array2::<f64>::zeros((n_components, d));
        for c in 0..n_components {
            // scikit-learn's svd_flip (u_based_decision=False): the largest |loading| > 0.
            let (mut best, mut sign) = (0.0, 1.0);
            for j in 0..d {
                if v[(j, c)].abs() > best {
                    best = v[(j, c)].abs();
                    sign = v[(j, c)].signum();
                }
            }
            for j in 0..d {
                components[[c, j]] = sign * v[(j, c)];
            }
        }
        let explained_variance = Array1::from_iter(variances[..n_components].iter().copied());
        let explained_variance_ratio = if total > 0.0 {
            explained_variance.mapv(|v| v / total)
        } else {
            Array1::zeros(n_components)
        };
        Ok(Self {
            mean,
            components,
            explained_variance,
            explained_variance_ratio,
            whiten,
        })
    }

    /// Projects rows onto the components (divided by their standard deviations when
    /// whitening).
    pub fn transform(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        if x.ncols() != self.mean.len() {
            return Err(Error::DimensionMismatch {
                expected: self.mean.len(),
                got: x.ncols(),
            });
        }
        let centred = &x - &self.mean;
        let mut out = centred.dot(&self.components.t());
        if self.whiten {
            for (mut column, var) in out.axis_iter_mut(Axis(1)).zip(&self.explained_variance) {
                let scale = if *var > 0.0 { 1.0 / var.sqrt() } else { 0.0 };
                column.mapv_inplace(|v| v * scale);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_requests_are_named() {
        let x = Array2::from_shape_fn((5, 3), |(i, j)| (i * j) as f64);
        let err = Pca::fit(x.view(), 4, false).unwrap_err().to_string();
        assert!(
            err.contains("4 components") && err.contains("1..=3"),
            "{err}"
        );
        assert!(Pca::fit(x.view(), 0, false).is_err());
        let pca = Pca::fit(x.view(), 2, false).expect("fit");
        assert!(pca.transform(Array2::zeros((2, 4)).view()).is_err());
    }
}
