//! The axes of an SVM grid search, checked once and expanded in one fixed order: the
//! study planner and `sarlab svm grid` both build their grids here.

use crate::error::{Error, Result};
use crate::kernel::{Gamma, Kernel};
use crate::params::SvmParams;

/// Values of kernel, C, γ, degree and coef0 to sweep, with the settings every point
/// shares (solver tolerance, shrinking, class weights, iteration cap) taken from `base`.
///
/// Points are enumerated kernel, then C, then γ, then degree, then coef0; each kernel
/// sweeps only the parameters that enter it (γ not for linear, degree only for poly,
/// coef0 only for poly and sigmoid), so no two points fit the same machine.
///
/// ```
/// use sarlab_svm::{Gamma, Kernel, SvmGrid};
/// let grid = SvmGrid {
///     kernels: vec![Kernel::Rbf, Kernel::Linear],
///     c: vec![1.0, 10.0],
///     gamma: vec![Gamma::Scale, Gamma::Value(0.01)],
///     ..SvmGrid::default()
/// };
/// let points = grid.points().unwrap();
/// assert_eq!(points.len(), 2 * 2 + 2); // linear does not sweep γ
/// assert_eq!(points[1].gamma, Gamma::Value(0.01));
/// let bad = SvmGrid { c: vec![-1.0], ..SvmGrid::default() };
/// assert!(bad.points().unwrap_err().to_string().contains("`C`"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SvmGrid {
    pub kernels: Vec<Kernel>,
    pub c: Vec<f64>,
    pub gamma: Vec<Gamma>,
    pub degree: Vec<u32>,
    pub coef0: Vec<f64>,
    /// Shared settings; its kernel, C, γ, degree and coef0 are ignored.
    pub base: SvmParams,
}

impl Default for SvmGrid {
    /// One point: scikit-learn's `SVC()` defaults.
    fn default() -> Self {
        let base = SvmParams::default();
        Self {
            kernels: vec![base.kernel],
            c: vec![base.c],
            gamma: vec![base.gamma],
            degree: vec![base.degree],
            coef0: vec![base.coef0],
            base,
        }
    }
}

/// A grid point's parameter as the grid sweeps it (see [`SvmParams::swept`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SweptValue {
    Kernel(Kernel),
    Real(f64),
    Gamma(Gamma),
    Degree(u32),
}

impl SvmParams {
    /// The parameters that enter this point's kernel, in sweep order: kernel, C, then
    /// γ, degree and coef0 where the kernel uses them.
    pub fn swept(&self) -> Vec<(&'static str, SweptValue)> {
        let mut out = vec![
            ("kernel", SweptValue::Kernel(self.kernel)),
            ("C", SweptValue::Real(self.c)),
        ];
        if self.kernel.uses_gamma() {
            out.push(("gamma", SweptValue::Gamma(self.gamma)));
        }
        if self.kernel == Kernel::Poly {
            out.push(("degree", SweptValue::Degree(self.degree)));
        }
        if matches!(self.kernel, Kernel::Poly | Kernel::Sigmoid) {
            out.push(("coef0", SweptValue::Real(self.coef0)));
        }
        out
    }
}

/// The positions (from 1) of the first value of `values` that repeats an earlier one,
/// and of that earlier one: a repeated axis value would be one configuration twice.
pub fn first_repeat<T: PartialEq>(values: &[T]) -> Option<(usize, usize)> {
    (1..values.len()).find_map(|j| {
        values[..j]
            .iter()
            .position(|v| *v == values[j])
            .map(|i| (i + 1, j + 1))
    })
}

/// The most points a grid may have.
pub const MAX_GRID_POINTS: usize = 100_000;

impl SvmGrid {
    /// Checks the shared settings and every value of every axis, each by the one rule
    /// of [`SvmParams::validate`]; the error names the parameter.
    pub fn validate(&self) -> Result<()> {
        for (name, len) in [
            ("kernel", self.kernels.len()),
            ("C", self.c.len()),
            ("gamma", self.gamma.len()),
            ("degree", self.degree.len()),
            ("coef0", self.coef0.len()),
        ] {
            if len == 0 {
                return Err(Error::InvalidParameter {
                    name,
                    message: "is an empty list: give at least one value".to_owned(),
                });
            }
        }
        for (name, at) in [
            ("kernel", first_repeat(&self.kernels)),
            ("C", first_repeat(&self.c)),
            ("gamma", first_repeat(&self.gamma)),
            ("degree", first_repeat(&self.degree)),
            ("coef0", first_repeat(&self.coef0)),
        ] {
            if let Some((first, again)) = at {
                return Err(Error::InvalidParameter {
                    name,
                    message: format!(
                        "value {again} of the list repeats value {first}: list each value once"
                    ),
                });
            }
        }
        let size = self.size();
        if size > MAX_GRID_POINTS {
            return Err(Error::InvalidParameter {
                name: "grid",
                message: format!(
                    "{size} points: at most {MAX_GRID_POINTS} (each is a cross-validation of its own)"
                ),
            });
        }
        // The shared settings on an otherwise default point, then one axis value at a
        // time on that point, so each error is about the value that caused it; the
        // linear solver is checked against each kernel of the list.
        let shared = SvmParams {
            kernel: Kernel::Rbf,
            c: 1.0,
            gamma: Gamma::Scale,
            degree: 3,
            coef0: 0.0,
            linear_solver: None,
            ..self.base.clone()
        };
        shared.validate()?;
        if let Some(solver) = &self.base.linear_solver {
            for &kernel in &self.kernels {
                solver.check(&SvmParams {
                    kernel,
                    ..shared.clone()
                })?;
            }
        }
        for &c in &self.c {
            SvmParams {
                c,
                ..shared.clone()
            }
            .validate()?;
        }
        for &gamma in &self.gamma {
            SvmParams {
                gamma,
                ..shared.clone()
            }
            .validate()?;
        }
        for &degree in &self.degree {
            SvmParams {
                kernel: Kernel::Poly,
                degree,
                ..shared.clone()
            }
            .validate()?;
        }
        for &coef0 in &self.coef0 {
            SvmParams {
                coef0,
                ..shared.clone()
            }
            .validate()?;
        }
        Ok(())
    }

    /// The number of points, saturating: each kernel sweeps C and its own parameters.
    pub fn size(&self) -> usize {
        self.kernels
            .iter()
            .map(|&kernel| {
                let mut n = self.c.len();
                if kernel.uses_gamma() {
                    n = n.saturating_mul(self.gamma.len());
                }
                if kernel == Kernel::Poly {
                    n = n.saturating_mul(self.degree.len());
                }
                if matches!(kernel, Kernel::Poly | Kernel::Sigmoid) {
                    n = n.saturating_mul(self.coef0.len());
                }
                n
            })
            .fold(0usize, usize::saturating_add)
    }

    /// The validated points, in the grid's enumeration order.
    pub fn points(&self) -> Result<Vec<SvmParams>> {
        self.validate()?;
        // Kernel parameters a point gets for the axes its kernel does not sweep.
        let unused = SvmParams::default();
        let mut points = Vec::new();
        for &kernel in &self.kernels {
            let gammas = match kernel.uses_gamma() {
                true => self.gamma.clone(),
                false => vec![Gamma::Scale],
            };
            let degrees = match kernel == Kernel::Poly {
                true => self.degree.clone(),
                false => vec![unused.degree],
            };
            let coef0s = match matches!(kernel, Kernel::Poly | Kernel::Sigmoid) {
                true => self.coef0.clone(),
                false => vec![unused.coef0],
            };
            for &c in &self.c {
                for &gamma in &gammas {
                    for &degree in &degrees {
                        for &coef0 in &coef0s {
                            points.push(SvmParams {
                                kernel,
                                c,
                                gamma,
                                degree,
                                coef0,
                                ..self.base.clone()
                            });
                        }
                    }
                }
            }
        }
        Ok(points)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::ClassWeight;

    #[test]
    fn kernels_sweep_only_their_parameters() {
        let grid = SvmGrid {
            kernels: Kernel::ALL.to_vec(),
            c: vec![1.0, 10.0],
            gamma: vec![Gamma::Scale, Gamma::Auto],
            degree: vec![2, 3],
            coef0: vec![0.0, 1.0],
            base: SvmParams {
                tolerance: 1e-4,
                class_weight: ClassWeight::Balanced,
                ..SvmParams::default()
            },
        };
        let points = grid.points().expect("valid");
        // linear 2; rbf 2x2; poly 2x2x2x2; sigmoid 2x2x2.
        assert_eq!(points.len(), 2 + 4 + 16 + 8);
        assert!(points.iter().all(|p| p.tolerance == 1e-4));
        assert!(
            points
                .iter()
                .all(|p| p.class_weight == ClassWeight::Balanced)
        );
        let linear: Vec<_> = points
            .iter()
            .filter(|p| p.kernel == Kernel::Linear)
            .collect();
        assert!(linear.iter().all(|p| p.degree == 3 && p.coef0 == 0.0));
        let names: Vec<_> = points[6].swept().iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["kernel", "C", "gamma", "degree", "coef0"]);
        // No two points are the same machine.
        for (i, a) in points.iter().enumerate() {
            assert!(points[i + 1..].iter().all(|b| b != a));
        }
    }

    #[test]
    fn bad_values_are_named() {
        for (grid, name) in [
            (
                SvmGrid {
                    c: vec![1.0, 0.0],
                    ..SvmGrid::default()
                },
                "C",
            ),
            (
                SvmGrid {
                    c: vec![],
                    ..SvmGrid::default()
                },
                "C",
            ),
            (
                SvmGrid {
                    gamma: vec![Gamma::Value(-1.0)],
                    ..SvmGrid::default()
                },
                "gamma",
            ),
            (
                SvmGrid {
                    degree: vec![0],
                    ..SvmGrid::default()
                },
                "degree",
            ),
            (
                SvmGrid {
                    coef0: vec![f64::NAN],
                    ..SvmGrid::default()
                },
                "coef0",
            ),
            (
                SvmGrid {
                    kernels: vec![],
                    ..SvmGrid::default()
                },
                "kernel",
            ),
            (
                SvmGrid {
                    base: SvmParams {
                        tolerance: 0.0,
                        ..SvmParams::default()
                    },
                    ..SvmGrid::default()
                },
                "tolerance",
            ),
            (
                SvmGrid {
                    base: SvmParams {
                        max_iterations: Some(0),
                        ..SvmParams::default()
                    },
                    ..SvmGrid::default()
                },
                "max_iterations",
            ),
        ] {
            match grid.points() {
                Err(Error::InvalidParameter { name: got, .. }) => assert_eq!(got, name),
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    /// The numbers of `svm grid`'s flags (`--C`, `--gamma`, `--degree`, `--coef0`,
    /// `--tol`, `--max-iterations`), anything at all: the grid is enumerated within its
    /// bound or refused naming a parameter.
    mod numbers {
        use super::*;
        use proptest::prelude::*;

        fn real() -> impl Strategy<Value = f64> {
            prop_oneof![
                any::<f64>(),
                Just(0.0),
                Just(-1.0),
                Just(f64::NAN),
                Just(f64::INFINITY),
                Just(1e-300),
                Just(1.0),
                Just(10.0),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: sarlab_testkit::proptest_cases(2000), ..ProptestConfig::default() })]

            #[test]
            fn any_flags_enumerate_within_the_bound_or_name_a_parameter(
                kernels in prop::collection::vec(prop::sample::select(Kernel::ALL.to_vec()), 0..5),
                c in prop::collection::vec(real(), 0..40),
                gamma in prop::collection::vec(real().prop_map(Gamma::Value), 0..40),
                degree in prop::collection::vec(any::<u32>(), 0..40),
                coef0 in prop::collection::vec(real(), 0..40),
                tolerance in real(),
                max_iterations in prop::option::of(any::<usize>()),
            ) {
                let grid = SvmGrid {
                    kernels,
                    c,
                    gamma,
                    degree,
                    coef0,
                    base: SvmParams { tolerance, max_iterations, ..SvmParams::default() },
                };
                match grid.points() {
                    Ok(points) => {
                        prop_assert_eq!(points.len(), grid.size());
                        prop_assert!(points.len() <= MAX_GRID_POINTS);
                        for p in &points {
                            prop_assert!(p.validate().is_ok());
                        }
                    }
                    Err(Error::InvalidParameter { name, .. }) => prop_assert!(!name.is_empty()),
                    Err(other) => prop_assert!(false, "{other}"),
                }
            }
        }
    }
}
