//! One-vs-one multi-class C-SVC built from linfa-svm binary machines.
//!
//! linfa-svm 0.8.1 only offers one-vs-rest with Platt scaling for more than two
//! classes, which is slower and less accurate than libsvm's one-vs-one; and its
//! `shrinking(true)` converges to wrong solutions. This wrapper trains one binary
//! machine per class pair with shrinking off and votes like libsvm (ties go to the
//! lower class index).
//!
//! Prediction does not go through linfa's per-support-vector loop: as libsvm does, the
//! kernel between the query rows and the union of all machines' support vectors is
//! computed once (one matrix product for the inner products) and shared by every pair
//! machine; each machine's decision value is `Σ αᵢ K(xᵢ, x) − ρ` with linfa's signed
//! coefficients `α` and offset `ρ`. A test checks the decisions agree with linfa's.

use std::fmt;
use std::str::FromStr;

use linfa::prelude::*;
use linfa_svm::Svm;
use ndarray::{Array1, Array2, ArrayBase, ArrayView2, Axis, Data, Ix2};
use rayon::prelude::*;

use crate::error::{Error, Result};

/// The kernel function of the SVM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// `exp(-γ‖x − y‖²)`
    Rbf,
    /// `⟨x, y⟩`
    Linear,
}

impl Kernel {
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Rbf => "rbf",
            Kernel::Linear => "linear",
        }
    }
}

impl fmt::Display for Kernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Kernel {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "rbf" => Ok(Kernel::Rbf),
            "linear" => Ok(Kernel::Linear),
            other => Err(Error::InvalidParameter {
                name: "kernel",
                message: format!("`{other}` is not one of rbf, linear"),
            }),
        }
    }
}

/// The RBF width, as scikit-learn's `SVC(gamma=...)` takes it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Gamma {
    /// `1 / (n_features · Var(X))`, the variance over all entries of the training matrix.
    Scale,
    /// `1 / n_features`.
    Auto,
    Value(f64),
}

impl Gamma {
    /// The numeric γ for training data `x`.
    pub fn resolve(&self, x: ArrayView2<'_, f64>) -> f64 {
        let n_features = x.ncols().max(1) as f64;
        match *self {
            Gamma::Scale => {
                let var = x.var(0.0);
                if var > 0.0 {
                    1.0 / (n_features * var)
                } else {
                    1.0
                }
            }
            Gamma::Auto => 1.0 / n_features,
            Gamma::Value(g) => g,
        }
    }
}

impl fmt::Display for Gamma {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Gamma::Scale => f.write_str("scale"),
            Gamma::Auto => f.write_str("auto"),
            Gamma::Value(g) => write!(f, "{g}"),
        }
    }
}

/// Hyperparameters of a C-SVC.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SvmParams {
    pub kernel: Kernel,
    pub c: f64,
    pub gamma: Gamma,
    /// Stopping tolerance of the solver (libsvm's `tol`, default 1e-3).
    pub tolerance: f64,
}

impl Default for SvmParams {
    fn default() -> Self {
        Self {
            kernel: Kernel::Rbf,
            c: 1.0,
            gamma: Gamma::Scale,
            tolerance: 1e-3,
        }
    }
}

impl SvmParams {
    pub fn validate(&self) -> Result<()> {
        if !(self.c.is_finite() && self.c > 0.0) {
            return Err(Error::InvalidParameter {
                name: "C",
                message: format!("{} must be a positive number", self.c),
            });
        }
        if let Gamma::Value(g) = self.gamma
            && !(g.is_finite() && g > 0.0)
        {
            return Err(Error::InvalidParameter {
                name: "gamma",
                message: format!("{g} must be a positive number, \"scale\" or \"auto\""),
            });
        }
        if !(self.tolerance.is_finite() && self.tolerance > 0.0) {
            return Err(Error::InvalidParameter {
                name: "tolerance",
                message: format!("{} must be a positive number", self.tolerance),
            });
        }
        Ok(())
    }
}

/// A multi-class SVM trained one-vs-one; a linfa model via [`Fit`] and [`PredictInplace`].
#[derive(Debug, Clone)]
pub struct OneVsOneSvm {
    pub params: SvmParams,
    /// Number of classes labels may take (`0..n_classes`).
    pub n_classes: usize,
}

/// One binary machine: decision ≥ 0 votes for `pos`, otherwise for `neg`.
#[derive(Debug, Clone)]
struct PairMachine {
    pos: usize,
    neg: usize,
    /// Indices into [`OneVsOneModel::support`] and the signed coefficients `αᵢ`.
    support: Vec<usize>,
    coef: Vec<f64>,
    rho: f64,
}

/// A fitted [`OneVsOneSvm`].
#[derive(Debug, Clone)]
pub struct OneVsOneModel {
    n_classes: usize,
    kernel: Kernel,
    /// The numeric γ the model was trained with (resolved from `scale`/`auto`).
    pub gamma: f64,
    /// Every training row that is a support vector of at least one machine.
    support: Array2<f64>,
    support_sq_norms: Array1<f64>,
    machines: Vec<PairMachine>,
}

impl OneVsOneModel {
    /// Total number of support vectors over all pair machines (a vector shared by two
    /// machines counts twice, as in libsvm's per-machine counts).
    pub fn support_vectors(&self) -> usize {
        self.machines.iter().map(|m| m.support.len()).sum()
    }

    /// Kernel values between the rows of `x` and the support vectors.
    fn kernel_block(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let mut k = x.dot(&self.support.t());
        if self.kernel == Kernel::Rbf {
            let x_sq: Array1<f64> = x.outer_iter().map(|r| r.dot(&r)).collect();
            let gamma = self.gamma;
            for ((i, j), v) in k.indexed_iter_mut() {
                // ‖a − b‖² = ‖a‖² + ‖b‖² − 2⟨a, b⟩, clamped against rounding below zero.
                let d2 = (x_sq[i] + self.support_sq_norms[j] - 2.0 * *v).max(0.0);
                *v = (-gamma * d2).exp();
            }
        }
        k
    }

    /// Decision values, one column per pair machine in (pos, neg) order
    /// `(0,1), (0,2), …, (1,2), …`, positive meaning the first class of the pair.
    pub fn decision_function(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let k = self.kernel_block(x);
        let mut out = Array2::<f64>::zeros((x.nrows(), self.machines.len()));
        for (m, machine) in self.machines.iter().enumerate() {
            for (row, kr) in k.outer_iter().enumerate() {
                let sum: f64 = machine
                    .support
                    .iter()
                    .zip(&machine.coef)
                    .map(|(&j, &a)| a * kr[j])
                    .sum();
                out[[row, m]] = sum - machine.rho;
            }
        }
        out
    }
}

impl OneVsOneSvm {
    pub fn new(params: SvmParams, n_classes: usize) -> Self {
        Self { params, n_classes }
    }

    fn fit_records(&self, x: ArrayView2<'_, f64>, y: &[usize]) -> Result<OneVsOneModel> {
        self.params.validate()?;
        if x.nrows() != y.len() {
            return Err(Error::LengthMismatch {
                records: x.nrows(),
                labels: y.len(),
            });
        }
        if y.is_empty() {
            return Err(Error::Empty);
        }
        if let Some(&label) = y.iter().find(|&&l| l >= self.n_classes) {
            return Err(Error::LabelOutOfRange {
                label,
                n_classes: self.n_classes,
            });
        }
        let present: Vec<usize> = (0..self.n_classes).filter(|c| y.contains(c)).collect();
        if present.len() < 2 {
            return Err(Error::SingleClass { class: y[0] });
        }
        let gamma = self.params.gamma.resolve(x);
        let pairs: Vec<(usize, usize)> = present
            .iter()
            .enumerate()
            .flat_map(|(i, &a)| present[i + 1..].iter().map(move |&b| (a, b)))
            .collect();
        let fitted = pairs
            .par_iter()
            .map(|&(pos, neg)| {
                let rows: Vec<usize> = (0..y.len())
                    .filter(|&i| y[i] == pos || y[i] == neg)
                    .collect();
                let records = x.select(Axis(0), &rows);
                let targets: Array1<bool> = rows.iter().map(|&i| y[i] == pos).collect();
                let base = Svm::<f64, bool>::params()
                    .pos_neg_weights(self.params.c, self.params.c)
                    .eps(self.params.tolerance)
                    .shrinking(false);
                let params = match self.params.kernel {
                    Kernel::Rbf => base.gaussian_kernel(1.0 / gamma),
                    Kernel::Linear => base.linear_kernel(),
                };
                let svm =
                    params
                        .fit(&Dataset::new(records, targets))
                        .map_err(|e| Error::Solver {
                            pos,
                            neg,
                            message: e.to_string(),
                        })?;
                Ok((pos, neg, rows, svm))
            })
            .collect::<Result<Vec<_>>>()?;

        // Gather the support vectors of all machines once, so prediction computes each
        // kernel value once however many machines share the vector.
        let mut slot = vec![usize::MAX; y.len()];
        let mut support_rows = Vec::new();
        let mut machines = Vec::with_capacity(fitted.len());
        for (pos, neg, rows, svm) in fitted {
            let mut support = Vec::new();
            let mut coef = Vec::new();
            for (&row, &alpha) in rows.iter().zip(&svm.alpha) {
                // linfa's own threshold for a non-zero coefficient.
                if alpha.abs() > 100.0 * f64::EPSILON {
                    if slot[row] == usize::MAX {
                        slot[row] = support_rows.len();
                        support_rows.push(row);
                    }
                    support.push(slot[row]);
                    coef.push(alpha);
                }
            }
            machines.push(PairMachine {
                pos,
                neg,
                support,
                coef,
                rho: svm.rho,
            });
        }
        let support = x.select(Axis(0), &support_rows);
        let support_sq_norms = support.outer_iter().map(|r| r.dot(&r)).collect();
        Ok(OneVsOneModel {
            n_classes: self.n_classes,
            kernel: self.params.kernel,
            gamma,
            support,
            support_sq_norms,
            machines,
        })
    }
}

impl<D: Data<Elem = f64>> Fit<ArrayBase<D, Ix2>, Array1<usize>, Error> for OneVsOneSvm {
    type Object = OneVsOneModel;

    fn fit(
        &self,
        dataset: &DatasetBase<ArrayBase<D, Ix2>, Array1<usize>>,
    ) -> Result<OneVsOneModel> {
        let labels = dataset.targets().to_vec();
        self.fit_records(dataset.records().view(), &labels)
    }
}

impl<D: Data<Elem = f64>> PredictInplace<ArrayBase<D, Ix2>, Array1<usize>> for OneVsOneModel {
    fn predict_inplace(&self, x: &ArrayBase<D, Ix2>, targets: &mut Array1<usize>) {
        assert_eq!(x.nrows(), targets.len(), "one target per record");
        let decisions = self.decision_function(x.view());
        let mut votes = vec![0u32; self.n_classes];
        for (target, row) in targets.iter_mut().zip(decisions.outer_iter()) {
            votes.iter_mut().for_each(|v| *v = 0);
            for (machine, &d) in self.machines.iter().zip(row) {
                votes[if d >= 0.0 { machine.pos } else { machine.neg }] += 1;
            }
            // First maximum: libsvm's tie rule (lowest class index wins).
            let mut best = 0;
            for (k, &v) in votes.iter().enumerate() {
                if v > votes[best] {
                    best = k;
                }
            }
            *target = best;
        }
    }

    fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<usize> {
        Array1::zeros(x.nrows())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// Three well separated blobs in 2-D.
    fn blobs() -> (Array2<f64>, Array1<usize>) {
        let centres = [[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]];
        let mut x = Vec::new();
        let mut y = Vec::new();
        for (k, c) in centres.iter().enumerate() {
            for i in 0..10 {
                let a = i as f64 * 0.7;
                x.push([c[0] + 0.5 * a.cos(), c[1] + 0.5 * a.sin()]);
                y.push(k);
            }
        }
        let flat: Vec<f64> = x.into_iter().flatten().collect();
        (
            Array2::from_shape_vec((30, 2), flat).expect("shape"),
            Array1::from(y),
        )
    }

    #[test]
    fn separates_three_blobs_with_rbf_and_linear() {
        let (x, y) = blobs();
        for kernel in [Kernel::Rbf, Kernel::Linear] {
            let params = SvmParams {
                kernel,
                c: 10.0,
                ..SvmParams::default()
            };
            let model = OneVsOneSvm::new(params, 3)
                .fit(&Dataset::new(x.clone(), y.clone()))
                .expect("fit");
            let pred = model.predict(&x);
            assert_eq!(pred, y, "{kernel}");
            let probe = model.predict(&array![[4.8, 0.3], [0.2, 5.5], [-0.3, 0.1]]);
            assert_eq!(probe.to_vec(), vec![1, 2, 0]);
            assert!(model.support_vectors() > 0);
        }
    }

    #[test]
    fn shared_kernel_decisions_agree_with_linfa() {
        // A binary problem: the one pair machine must decide as linfa's own predict.
        let n = 80;
        let x = Array2::from_shape_fn((n, 5), |(i, j)| {
            ((i * 31 + j * 17) % 97) as f64 / 97.0 + if i % 2 == 0 { 0.05 * j as f64 } else { 0.0 }
        });
        let y: Array1<usize> = (0..n).map(|i| i % 2).collect();
        let probe = Array2::from_shape_fn((60, 5), |(i, j)| ((i * 7 + j * 3) % 13) as f64 / 13.0);
        for (kernel, gamma) in [(Kernel::Rbf, 0.7), (Kernel::Linear, 1.0)] {
            let params = SvmParams {
                kernel,
                c: 3.0,
                gamma: Gamma::Value(gamma),
                tolerance: 1e-3,
            };
            let ours = OneVsOneSvm::new(params, 2)
                .fit(&Dataset::new(x.clone(), y.clone()))
                .expect("fit");
            let base = Svm::<f64, bool>::params()
                .pos_neg_weights(3.0, 3.0)
                .eps(1e-3)
                .shrinking(false);
            let base = match kernel {
                Kernel::Rbf => base.gaussian_kernel(1.0 / gamma),
                Kernel::Linear => base.linear_kernel(),
            };
            let targets: Array1<bool> = y.iter().map(|&c| c == 0).collect();
            let linfa = base
                .fit(&Dataset::new(x.clone(), targets))
                .expect("linfa fit");
            let expected: Vec<bool> = linfa.predict(&probe).to_vec();
            let decisions = ours.decision_function(probe.view());
            let got: Vec<bool> = decisions.column(0).iter().map(|&d| d >= 0.0).collect();
            assert_eq!(got, expected, "{kernel}");
            let predicted = ours.predict(&probe);
            for (p, e) in predicted.iter().zip(&expected) {
                assert_eq!(*p == 0, *e);
            }
        }
    }

    #[test]
    fn gamma_scale_is_sklearn_formula() {
        let x = array![[0.0, 2.0], [2.0, 4.0]];
        // var over all entries of [0,2,2,4] = 2 → 1 / (2 · 2)
        assert_eq!(Gamma::Scale.resolve(x.view()), 0.25);
        assert_eq!(Gamma::Auto.resolve(x.view()), 0.5);
        assert_eq!(
            Gamma::Scale.resolve(Array2::<f64>::ones((3, 2)).view()),
            1.0
        );
    }

    #[test]
    fn bad_parameters_are_named() {
        let (x, y) = blobs();
        let bad_c = SvmParams {
            c: -1.0,
            ..SvmParams::default()
        };
        let err = OneVsOneSvm::new(bad_c, 3)
            .fit(&Dataset::new(x.clone(), y.clone()))
            .unwrap_err();
        assert!(err.to_string().contains("`C`"), "{err}");
        let bad_gamma = SvmParams {
            gamma: Gamma::Value(0.0),
            ..SvmParams::default()
        };
        assert!(
            bad_gamma
                .validate()
                .unwrap_err()
                .to_string()
                .contains("`gamma`")
        );
        let one_class = Array1::from_elem(30, 1usize);
        let err = OneVsOneSvm::new(SvmParams::default(), 3)
            .fit(&Dataset::new(x, one_class))
            .unwrap_err();
        assert!(matches!(err, Error::SingleClass { class: 1 }), "{err}");
    }
}
