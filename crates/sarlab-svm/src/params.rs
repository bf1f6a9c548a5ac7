//! The parameters of one C-SVC fit: kernel, C, γ and the solver's settings, checked once.

use ndarray::ArrayView2;

use crate::error::{Error, Result};
use crate::kernel::{Gamma, Kernel, KernelFunction, MAX_POLY_DEGREE};
use crate::smo::SolverSettings;
use crate::solver::LinearSolver;

/// Per-class multipliers of C.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ClassWeight {
    /// Every class weighs 1.
    #[default]
    Uniform,
    /// `n_samples / (n_classes · n_samples_of_class)` on the training data, as
    /// scikit-learn's `class_weight="balanced"`.
    Balanced,
    /// One weight per class index.
    Explicit(Vec<f64>),
}

impl ClassWeight {
    /// The weights of classes `0..n_classes` for training labels `y`.
    pub fn resolve(&self, y: &[usize], n_classes: usize) -> Result<Vec<f64>> {
        match self {
            ClassWeight::Uniform => Ok(vec![1.0; n_classes]),
            ClassWeight::Balanced => {
                let mut counts = vec![0usize; n_classes];
                for &label in y {
                    counts[label] += 1;
                }
                let present = counts.iter().filter(|&&c| c > 0).count() as f64;
                Ok(counts
                    .iter()
                    .map(|&c| {
                        if c == 0 {
                            1.0
                        } else {
                            y.len() as f64 / (present * c as f64)
                        }
                    })
                    .collect())
            }
            ClassWeight::Explicit(weights) => {
                if weights.len() != n_classes {
                    return Err(Error::InvalidParameter {
                        name: "class_weight",
                        message: format!("{} weights given for {n_classes} classes", weights.len()),
                    });
                }
                if let Some(w) = weights.iter().find(|w| !(w.is_finite() && **w > 0.0)) {
                    return Err(Error::InvalidParameter {
                        name: "class_weight",
                        message: format!("{w} must be a positive number"),
                    });
                }
                Ok(weights.clone())
            }
        }
    }
}

impl std::fmt::Display for ClassWeight {
    /// `uniform`, `balanced`, or the explicit weights as `w0,w1,...`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClassWeight::Uniform => f.write_str("uniform"),
            ClassWeight::Balanced => f.write_str("balanced"),
            ClassWeight::Explicit(weights) => {
                let text: Vec<String> = weights.iter().map(f64::to_string).collect();
                f.write_str(&text.join(","))
            }
        }
    }
}

impl std::str::FromStr for ClassWeight {
    type Err = Error;

    /// `uniform`, `balanced`, or one positive weight per class index: `1,2.5,1`.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "uniform" => Ok(ClassWeight::Uniform),
            "balanced" => Ok(ClassWeight::Balanced),
            list => {
                let weights: Option<Vec<f64>> = list
                    .split(',')
                    .map(|w| {
                        w.trim()
                            .parse::<f64>()
                            .ok()
                            .filter(|w| w.is_finite() && *w > 0.0)
                    })
                    .collect();
                weights
                    .map(ClassWeight::Explicit)
                    .ok_or_else(|| Error::InvalidParameter {
                        name: "class_weight",
                        message: format!(
                            "`{s}` is not uniform, balanced or a list of positive weights (1,2.5,1)"
                        ),
                    })
            }
        }
    }
}

/// Hyperparameters of a C-SVC, named as scikit-learn's `SVC` names them.
#[derive(Debug, Clone, PartialEq)]
pub struct SvmParams {
    pub kernel: Kernel,
    pub c: f64,
    pub gamma: Gamma,
    /// Degree of the polynomial kernel.
    pub degree: u32,
    /// Constant term of the polynomial and sigmoid kernels.
    pub coef0: f64,
    /// Stopping tolerance of the solver (libsvm's `eps`, default 1e-3).
    pub tolerance: f64,
    pub shrinking: bool,
    pub class_weight: ClassWeight,
    /// Iteration cap per binary machine; `None` is libsvm's `max(10⁷, 100·l)` (for
    /// the linear solver: passes over the data, `None` is `LinearSVC`'s 1000).
    pub max_iterations: Option<usize>,
    /// `None`: libsvm's SMO on the kernel (`SVC`'s model). `Some`: liblinear's dual
    /// coordinate descent (`LinearSVC`'s model) on the features, or on a kernel
    /// approximation of `kernel` when the solver has one.
    pub linear_solver: Option<LinearSolver>,
}

impl Default for SvmParams {
    fn default() -> Self {
        Self {
            kernel: Kernel::Rbf,
            c: 1.0,
            gamma: Gamma::Scale,
            degree: 3,
            coef0: 0.0,
            tolerance: 1e-3,
            shrinking: true,
            class_weight: ClassWeight::Uniform,
            max_iterations: None,
            linear_solver: None,
        }
    }
}

impl SvmParams {
    pub fn validate(&self) -> Result<()> {
        let positive = |name: &'static str, v: f64, what: &str| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(Error::InvalidParameter {
                    name,
                    message: format!("{v} {what}"),
                })
            }
        };
        positive("C", self.c, "must be a positive number")?;
        if let Gamma::Value(g) = self.gamma {
            positive(
                "gamma",
                g,
                "must be a positive number, \"scale\" or \"auto\"",
            )?;
        }
        positive("tolerance", self.tolerance, "must be a positive number")?;
        if !self.coef0.is_finite() {
            return Err(Error::InvalidParameter {
                name: "coef0",
                message: format!("{} must be finite", self.coef0),
            });
        }
        if self.kernel == Kernel::Poly && self.degree == 0 {
            return Err(Error::InvalidParameter {
                name: "degree",
                message: "0: the polynomial degree must be at least 1".to_owned(),
            });
        }
        if self.kernel == Kernel::Poly && self.degree > MAX_POLY_DEGREE {
            return Err(Error::InvalidParameter {
                name: "degree",
                message: format!(
                    "{}: the polynomial degree must be at most {MAX_POLY_DEGREE}; higher powers overflow the solver's single-precision kernel and reduce the kernel to nearest-neighbour voting",
                    self.degree
                ),
            });
        }
        if let Some(solver) = &self.linear_solver {
            solver.check(self)?;
        }
        if self.max_iterations == Some(0) {
            return Err(Error::InvalidParameter {
                name: "max_iterations",
                message: "0: must be at least 1".to_owned(),
            });
        }
        Ok(())
    }

    /// The kernel with γ resolved for training data `x` (rows `rows`, or all rows).
    pub fn kernel_function(
        &self,
        x: ArrayView2<'_, f64>,
        rows: Option<&[usize]>,
    ) -> KernelFunction {
        let gamma = if self.kernel.uses_gamma() {
            match rows {
                Some(rows) => self.gamma.resolve_rows(x, rows),
                None => self.gamma.resolve(x),
            }
        } else {
            0.0
        };
        KernelFunction {
            kernel: self.kernel,
            gamma,
            degree: self.degree,
            coef0: self.coef0,
        }
    }

    /// Whether `other` is these parameters with, at most, another C.
    pub fn differs_only_in_c(&self, other: &SvmParams) -> bool {
        SvmParams {
            c: other.c,
            ..self.clone()
        } == *other
    }

    pub(crate) fn solver_settings(&self) -> SolverSettings {
        SolverSettings {
            tolerance: self.tolerance,
            shrinking: self.shrinking,
            max_iterations: self.max_iterations,
        }
    }
}
