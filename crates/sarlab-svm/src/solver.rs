//! Which solver fits a configuration: libsvm's SMO on the kernel (every kernel, exact),
//! or liblinear's dual coordinate descent on the features — linear, or mapped by a
//! kernel approximation ([`crate::FeatureMap`]) — for data too large for a kernel.

use std::fmt;
use std::str::FromStr;

use crate::approximation::KernelApproximation;
use crate::error::{Error, Result};
use crate::kernel::Kernel;
use crate::linear::LinearLoss;
use crate::params::SvmParams;

/// The solver's name, as specs and the command line give it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Solver {
    /// libsvm's SMO (`SVC`'s model).
    #[default]
    Smo,
    /// liblinear's dual coordinate descent (`LinearSVC`'s model).
    Liblinear,
}

impl Solver {
    /// The stopping tolerance when none is given: libsvm's `eps` (1e-3) for SMO,
    /// `LinearSVC`'s `tol` (1e-4) for liblinear.
    pub fn default_tolerance(self) -> f64 {
        match self {
            Solver::Smo => 1e-3,
            Solver::Liblinear => 1e-4,
        }
    }
}

impl FromStr for Solver {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim() {
            "smo" => Ok(Solver::Smo),
            "liblinear" => Ok(Solver::Liblinear),
            other => Err(Error::InvalidParameter {
                name: "solver",
                message: format!("`{other}`: expected smo or liblinear"),
            }),
        }
    }
}

impl fmt::Display for Solver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Solver::Smo => "smo",
            Solver::Liblinear => "liblinear",
        })
    }
}

/// The linear solver's settings: its loss, the kernel approximation (if any) that
/// maps the features first, and the seed of the map's random choices and of the order
/// rows are visited in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LinearSolver {
    pub loss: LinearLoss,
    pub approximation: Option<KernelApproximation>,
    pub seed: u64,
}

impl LinearSolver {
    /// An error unless this solver can fit `point`: without an approximation the kernel
    /// must be linear; with one, a kernel the approximation stands for (any for Nyström,
    /// rbf for random Fourier features).
    pub fn check(&self, point: &SvmParams) -> Result<()> {
        match self.approximation {
            None if point.kernel != Kernel::Linear => Err(Error::InvalidParameter {
                name: "kernel",
                message: format!(
                    "{}: the linear solver fits linear models, or a kernel through an approximation (nystroem, random_fourier)",
                    point.kernel
                ),
            }),
            None => Ok(()),
            Some(approximation) => {
                approximation.validate()?;
                approximation.check_kernel(point.kernel)
            }
        }
    }
}

impl LinearSolver {
    /// Columns a training set of `rows` rows has once mapped (0 without an
    /// approximation): what the memory estimates count.
    pub fn mapped_len(&self, rows: usize) -> usize {
        self.approximation.map_or(0, |a| a.output_len(rows))
    }
}

impl fmt::Display for LinearSolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "liblinear ({})", self.loss)?;
        if let Some(approximation) = self.approximation {
            write!(f, " on {approximation}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_kernels_are_checked() {
        for solver in [Solver::Smo, Solver::Liblinear] {
            assert_eq!(solver.to_string().parse::<Solver>().unwrap(), solver);
        }
        assert!("libsvm".parse::<Solver>().is_err());
        let rbf = SvmParams::default();
        let linear = SvmParams {
            kernel: Kernel::Linear,
            ..SvmParams::default()
        };
        let plain = LinearSolver::default();
        assert!(plain.check(&linear).is_ok());
        assert!(plain.check(&rbf).is_err());
        let nystroem = LinearSolver {
            approximation: Some(KernelApproximation::Nystroem { components: 50 }),
            ..LinearSolver::default()
        };
        assert!(nystroem.check(&rbf).is_ok());
        let poly = SvmParams {
            kernel: Kernel::Poly,
            ..SvmParams::default()
        };
        let fourier = LinearSolver {
            approximation: Some(KernelApproximation::RandomFourier { components: 50 }),
            ..LinearSolver::default()
        };
        assert!(fourier.check(&poly).is_err());
        assert_eq!(
            nystroem.to_string(),
            "liblinear (squared_hinge) on nystroem:50"
        );
    }
}
