//! Explicit feature maps that approximate a kernel, so that a linear solver
//! ([`crate::fit_linear`]) stands in for the kernel SVM on data too large for its
//! kernel: scikit-learn's `Nystroem` and `RBFSampler` (random Fourier features).
//!
//! - **Nyström** with `m` landmarks `L` (training rows drawn without replacement):
//!   `φ(x) = k(x, L) · N`, `N = K_LL^{-1/2}`, so that `φ(x)·φ(y) = k(x, L) K_LL⁻¹
//!   k(L, y)`, the kernel projected onto the landmarks' span. `N` is scikit-learn's
//!   `U S^{-1/2} V` from the SVD of `K_LL` with singular values floored at 1e-12; for a
//!   symmetric `K_LL = Q Λ Qᵀ` that is `Σ sign(λ) q qᵀ / √max(|λ|, 1e-12)`, which is what
//!   is computed (from the eigendecomposition). Any kernel; exact on the landmarks.
//! - **Random Fourier features** for the RBF kernel, `m` components:
//!   `φ(x) = √(2/m) cos(x W + b)`, `W ~ N(0, 2γ)` (`d × m`), `b ~ U[0, 2π)`, so that
//!   `E[φ(x)·φ(y)] = exp(−γ‖x − y‖²)` (Rahimi & Recht 2007).
//!
//! The random choices (landmarks, `W`, `b`) come from the seed; γ is the
//! configuration's, resolved on the training rows as the SVM resolves it, so the map
//! approximates exactly the kernel the exact SVM would use.

use std::fmt;
use std::str::FromStr;

use ndarray::{Array2, ArrayView2, Axis, s};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::error::{Error, Result};
use crate::kernel::{Kernel, KernelFunction, inner_products};

/// The most components a map may have: a Nyström map holds and decomposes an
/// `m × m` matrix (2 GB and minutes at this size), and beyond it the exact kernel is
/// the cheaper route for any data this engine fits.
pub const MAX_COMPONENTS: usize = 16_384;

/// Rows mapped together: bounds the transient kernel block to `ROW_BLOCK × m`.
const ROW_BLOCK: usize = 2048;

/// Singular values below this are raised to it (scikit-learn's `Nystroem`).
const NYSTROEM_FLOOR: f64 = 1e-12;

/// Which approximation, and its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KernelApproximation {
    /// `components` landmarks (clamped to the training rows, as scikit-learn does).
    Nystroem { components: usize },
    /// `components` random Fourier features (RBF kernel only).
    RandomFourier { components: usize },
}

impl KernelApproximation {
    pub fn components(self) -> usize {
        match self {
            KernelApproximation::Nystroem { components }
            | KernelApproximation::RandomFourier { components } => components,
        }
    }

    /// The name used in specs and on the command line (`nystroem`, `random_fourier`).
    pub fn method(self) -> &'static str {
        match self {
            KernelApproximation::Nystroem { .. } => "nystroem",
            KernelApproximation::RandomFourier { .. } => "random_fourier",
        }
    }

    /// The approximation named `method` with `components`, checked.
    pub fn new(method: &str, components: usize) -> Result<Self> {
        let approximation = match method.trim() {
            "nystroem" => KernelApproximation::Nystroem { components },
            "random_fourier" | "rff" => KernelApproximation::RandomFourier { components },
            other => {
                return Err(Error::InvalidParameter {
                    name: "approximation",
                    message: format!("`{other}`: expected nystroem or random_fourier"),
                });
            }
        };
        approximation.validate()?;
        Ok(approximation)
    }

    pub fn validate(self) -> Result<()> {
        let components = self.components();
        if components == 0 || components > MAX_COMPONENTS {
            return Err(Error::InvalidParameter {
                name: "approximation",
                message: format!(
                    "{} = {components}: expected 1 to {MAX_COMPONENTS} components",
                    self.method()
                ),
            });
        }
        Ok(())
    }

    /// An error unless this approximation can stand for `kernel`.
    pub fn check_kernel(self, kernel: Kernel) -> Result<()> {
        match (self, kernel) {
            (KernelApproximation::RandomFourier { .. }, k) if k != Kernel::Rbf => {
                Err(Error::InvalidParameter {
                    name: "approximation",
                    message: format!(
                        "random Fourier features approximate the rbf kernel, not {k}; use nystroem"
                    ),
                })
            }
            _ => Ok(()),
        }
    }

    /// The columns its map has for `rows` training rows.
    pub fn output_len(self, rows: usize) -> usize {
        match self {
            KernelApproximation::Nystroem { components } => components.min(rows),
            KernelApproximation::RandomFourier { components } => components,
        }
    }
}

/// `nystroem:1000` or `random_fourier:500`.
impl FromStr for KernelApproximation {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let (method, components) = s.split_once(':').ok_or_else(|| Error::InvalidParameter {
            name: "approximation",
            message: format!("`{s}`: expected METHOD:COMPONENTS, e.g. nystroem:1000"),
        })?;
        let components =
            components
                .trim()
                .parse::<usize>()
                .map_err(|_| Error::InvalidParameter {
                    name: "approximation",
                    message: format!("`{s}`: the number of components must be a positive integer"),
                })?;
        KernelApproximation::new(method, components)
    }
}

impl fmt::Display for KernelApproximation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.method(), self.components())
    }
}

/// A fitted approximation: what turns a row into its approximate-kernel features.
#[derive(Debug, Clone, PartialEq)]
pub enum FeatureMap {
    Nystroem {
        kernel: KernelFunction,
        /// `m × d`: the landmark rows.
        landmarks: Array2<f64>,
        /// `m × m`, symmetric: `K_LL^{-1/2}` as scikit-learn's `normalization_`.
        normalization: Array2<f64>,
    },
    RandomFourier {
        /// `m × d`: `Wᵀ`, one projection per row.
        projections: Array2<f64>,
        /// `m` phases in `[0, 2π)`.
        offsets: Vec<f64>,
    },
}

impl FeatureMap {
    /// Fits `approximation` of `kernel` on training rows `x`, its random choices seeded.
    pub fn fit(
        x: ArrayView2<'_, f64>,
        approximation: KernelApproximation,
        kernel: KernelFunction,
        seed: u64,
    ) -> Result<Self> {
        approximation.validate()?;
        approximation.check_kernel(kernel.kernel)?;
        if x.nrows() == 0 || x.ncols() == 0 {
            return Err(Error::Empty);
        }
        check_finite(x, "training rows")?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x4E59_5354_524F_454D);
        match approximation {
            KernelApproximation::Nystroem { components } => {
                let m = components.min(x.nrows());
                let mut rows = rand::seq::index::sample(&mut rng, x.nrows(), m).into_vec();
                rows.sort_unstable();
                Self::nystroem(x.select(Axis(0), &rows), kernel)
            }
            KernelApproximation::RandomFourier { components } => {
                let scale = (2.0 * kernel.gamma).sqrt();
                let projections = Array2::from_shape_simple_fn((components, x.ncols()), || {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    scale * z
                });
                let offsets = (0..components)
                    .map(|_| rng.gen_range(0.0..std::f64::consts::TAU))
                    .collect();
                Self::random_fourier(projections, offsets)
            }
        }
    }

    /// The Nyström map of `kernel` on the given landmark rows (as scikit-learn's
    /// `Nystroem` fitted on exactly these rows).
    pub fn nystroem(landmarks: Array2<f64>, kernel: KernelFunction) -> Result<Self> {
        if landmarks.nrows() == 0 || landmarks.ncols() == 0 {
            return Err(Error::Empty);
        }
        check_finite(landmarks.view(), "landmarks")?;
        let k = kernel.between(landmarks.view(), landmarks.view());
        if let Some(&bad) = k.iter().find(|v| !v.is_finite()) {
            return Err(kernel.overflow(bad, "the landmarks"));
        }
        let normalization = inverse_sqrt(&k)?;
        Ok(FeatureMap::Nystroem {
            kernel,
            landmarks,
            normalization,
        })
    }

    /// Random Fourier features from given projections (`m × d`, scikit-learn's
    /// `random_weights_.T`) and phases (`random_offset_`).
    pub fn random_fourier(projections: Array2<f64>, offsets: Vec<f64>) -> Result<Self> {
        if projections.nrows() == 0 || projections.ncols() == 0 {
            return Err(Error::Empty);
        }
        if offsets.len() != projections.nrows() {
            return Err(Error::Shape(format!(
                "{} projections but {} offsets",
                projections.nrows(),
                offsets.len()
            )));
        }
        check_finite(projections.view(), "projections")?;
        Ok(FeatureMap::RandomFourier {
            projections,
            offsets,
        })
    }

    /// Features a row must have.
    pub fn input_len(&self) -> usize {
        match self {
            FeatureMap::Nystroem { landmarks, .. } => landmarks.ncols(),
            FeatureMap::RandomFourier { projections, .. } => projections.ncols(),
        }
    }

    /// Features a mapped row has.
    pub fn output_len(&self) -> usize {
        match self {
            FeatureMap::Nystroem { landmarks, .. } => landmarks.nrows(),
            FeatureMap::RandomFourier { projections, .. } => projections.nrows(),
        }
    }

    /// The mapped rows, `x.nrows() × output_len()`. A row's features do not depend on
    /// the rows mapped with it.
    pub fn transform(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        if x.ncols() != self.input_len() {
            return Err(Error::Shape(format!(
                "the feature map takes {} features, the rows have {}",
                self.input_len(),
                x.ncols()
            )));
        }
        check_finite(x, "rows to map")?;
        let m = self.output_len();
        let mut out = Array2::<f64>::zeros((x.nrows(), m));
        for (start, block) in (0..x.nrows())
            .step_by(ROW_BLOCK)
            .zip(x.axis_chunks_iter(Axis(0), ROW_BLOCK))
        {
            let mapped = self.map_block(block)?;
            out.slice_mut(s![start..start + block.nrows(), ..])
                .assign(&mapped);
        }
        Ok(out)
    }

    fn map_block(&self, block: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        match self {
            FeatureMap::Nystroem {
                kernel,
                landmarks,
                normalization,
            } => {
                let k = kernel.between(block, landmarks.view());
                if let Some(&bad) = k.iter().find(|v| !v.is_finite()) {
                    return Err(kernel.overflow(bad, "rows and the landmarks"));
                }
                // `k · Nᵀ`, as scikit-learn's `embedded @ normalization_.T`.
                Ok(inner_products(k.view(), normalization.view()))
            }
            FeatureMap::RandomFourier {
                projections,
                offsets,
            } => {
                let mut z = inner_products(block, projections.view());
                let scale = (2.0 / offsets.len() as f64).sqrt();
                for mut row in z.outer_iter_mut() {
                    row.iter_mut()
                        .zip(offsets)
                        .for_each(|(v, b)| *v = (*v + b).cos() * scale);
                }
                Ok(z)
            }
        }
    }
}

fn check_finite(x: ArrayView2<'_, f64>, what: &str) -> Result<()> {
    match x.indexed_iter().find(|(_, v)| !v.is_finite()) {
        Some(((row, column), &value)) => Err(Error::InvalidParameter {
            name: "features",
            message: format!(
                "{value} at row {row}, column {column} of the {what}: every value must be finite"
            ),
        }),
        None => Ok(()),
    }
}

/// `Σ sign(λ) q qᵀ / √max(|λ|, floor)` of a symmetric matrix: scikit-learn's
/// `U S^{-1/2} V` from its SVD, by the eigendecomposition.
fn inverse_sqrt(k: &Array2<f64>) -> Result<Array2<f64>> {
    let m = k.nrows();
    let mat = faer::Mat::<f64>::from_fn(m, m, |i, j| k[(i, j)]);
    let eigen = mat.self_adjoint_eigen(faer::Side::Lower);
    sarlab_transform::simd::clear_upper_vector_state();
    let eigen = eigen.map_err(|e| Error::InvalidParameter {
        name: "approximation",
        message: format!("the landmarks' kernel eigendecomposition did not converge: {e:?}"),
    })?;
    let values = eigen.S().column_vector();
    let vectors = eigen.U();
    // Q · diag(scale) scaled columns, then (Q diag) · Qᵀ.
    let scaled = Array2::from_shape_fn((m, m), |(i, j)| {
        let lambda = values[j];
        let scale = lambda.signum() / lambda.abs().max(NYSTROEM_FLOOR).sqrt();
        vectors[(i, j)] * scale
    });
    let q = Array2::from_shape_fn((m, m), |(i, j)| vectors[(i, j)]);
    let n = inner_products(scaled.view(), q.view());
    // Symmetric in exact arithmetic; made symmetric to the bit so `k · Nᵀ = k · N`.
    Ok(Array2::from_shape_fn((m, m), |(i, j)| {
        0.5 * (n[(i, j)] + n[(j, i)])
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rbf(gamma: f64) -> KernelFunction {
        KernelFunction {
            kernel: Kernel::Rbf,
            gamma,
            degree: 3,
            coef0: 0.0,
        }
    }

    fn data(n: usize, d: usize) -> Array2<f64> {
        Array2::from_shape_fn((n, d), |(i, j)| ((i * 31 + j * 17) as f64 * 0.37).sin())
    }

    #[test]
    fn parses_and_prints_the_spec_form() {
        let a: KernelApproximation = "nystroem:300".parse().unwrap();
        assert_eq!(a, KernelApproximation::Nystroem { components: 300 });
        assert_eq!(a.to_string(), "nystroem:300");
        let b: KernelApproximation = "random_fourier:64".parse().unwrap();
        assert_eq!(b.to_string(), "random_fourier:64");
        for bad in [
            "nystroem",
            "nystroem:0",
            "nystroem:-3",
            "pca:10",
            "nystroem:99999999",
        ] {
            assert!(bad.parse::<KernelApproximation>().is_err(), "{bad}");
        }
        assert!(b.check_kernel(Kernel::Poly).is_err());
        assert!(a.check_kernel(Kernel::Poly).is_ok());
    }

    #[test]
    fn nystroem_on_every_row_reproduces_the_kernel() {
        let x = data(40, 5);
        let kernel = rbf(0.3);
        let map = FeatureMap::fit(
            x.view(),
            KernelApproximation::Nystroem { components: 100 },
            kernel,
            1,
        )
        .unwrap();
        assert_eq!(map.output_len(), 40, "clamped to the rows");
        let phi = map.transform(x.view()).unwrap();
        let approx = phi.dot(&phi.t());
        let exact = kernel.between(x.view(), x.view());
        let err = (&approx - &exact)
            .iter()
            .fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(err < 1e-8, "{err}");
    }

    #[test]
    fn random_fourier_features_converge_to_the_rbf_kernel() {
        let x = data(30, 4);
        let kernel = rbf(0.5);
        let exact = kernel.between(x.view(), x.view());
        // Root-mean-square error over the entries, averaged over seeds.
        let error_of = |m: usize| {
            (0..6)
                .map(|seed| {
                    let map = FeatureMap::fit(
                        x.view(),
                        KernelApproximation::RandomFourier { components: m },
                        kernel,
                        seed,
                    )
                    .unwrap();
                    let phi = map.transform(x.view()).unwrap();
                    let approx = phi.dot(&phi.t());
                    (&approx - &exact).iter().map(|v| v * v).sum::<f64>().sqrt() / 30.0
                })
                .sum::<f64>()
                / 6.0
        };
        let (small, large) = (error_of(64), error_of(4096));
        // O(1/√m): 64× the components, about 8× smaller error.
        assert!(large < small / 4.0, "{small} {large}");
        assert!(large < 0.02, "{large}");
    }

    #[test]
    fn the_map_is_seeded_and_rowwise() {
        let x = data(50, 3);
        for approximation in [
            KernelApproximation::Nystroem { components: 10 },
            KernelApproximation::RandomFourier { components: 10 },
        ] {
            let a = FeatureMap::fit(x.view(), approximation, rbf(1.0), 3).unwrap();
            let b = FeatureMap::fit(x.view(), approximation, rbf(1.0), 3).unwrap();
            let c = FeatureMap::fit(x.view(), approximation, rbf(1.0), 4).unwrap();
            assert_eq!(a, b);
            assert_ne!(a, c);
            let whole = a.transform(x.view()).unwrap();
            let part = a.transform(x.slice(s![10..20, ..])).unwrap();
            assert_eq!(whole.slice(s![10..20, ..]), part);
        }
    }

    #[test]
    fn bad_rows_are_errors() {
        let mut x = data(10, 3);
        let map = FeatureMap::fit(
            x.view(),
            KernelApproximation::Nystroem { components: 4 },
            rbf(1.0),
            0,
        )
        .unwrap();
        assert!(map.transform(data(3, 2).view()).is_err());
        x[(2, 1)] = f64::NAN;
        assert!(map.transform(x.view()).is_err());
        assert!(
            FeatureMap::fit(
                x.view(),
                KernelApproximation::Nystroem { components: 4 },
                rbf(1.0),
                0
            )
            .is_err()
        );
    }

    proptest! {
        #[test]
        fn never_panics_and_stays_finite(
            n in 1usize..30, d in 1usize..6, m in 1usize..40, gamma in 1e-3f64..10.0,
            seed in 0u64..100, fourier in any::<bool>(),
        ) {
            let x = data(n, d);
            let approximation = match fourier {
                true => KernelApproximation::RandomFourier { components: m },
                false => KernelApproximation::Nystroem { components: m },
            };
            let map = FeatureMap::fit(x.view(), approximation, rbf(gamma), seed).unwrap();
            let phi = map.transform(x.view()).unwrap();
            prop_assert_eq!(phi.ncols(), approximation.output_len(n));
            prop_assert!(phi.iter().all(|v| v.is_finite()));
        }
    }
}
