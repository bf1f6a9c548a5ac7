//! Linear SVMs for large data: liblinear's dual coordinate descent (Hsieh et al. 2008,
//! `solve_l2r_l1l2_svc`, with its shrinking), one-vs-rest, the answers of
//! scikit-learn's `LinearSVC(dual=True)`.
//!
//! The model is `LinearSVC`'s, not `SVC(kernel="linear")`'s: squared hinge loss by
//! default (`hinge` on request), one machine per class against the rest (one machine
//! for two classes, positive = the second class), and the intercept learnt as the
//! weight of a constant feature `intercept_scaling`, so it is regularised like the
//! others. The primal problem is strictly convex, so the weights are unique: the
//! visiting order (seeded here, liblinear's own generator there) changes the path, not
//! the optimum (`tests/linear_fixtures.rs` compares with scikit-learn at a tight
//! tolerance). Cost per pass is O(rows × features), memory O(rows + features) besides
//! the data: no kernel.

use std::fmt;
use std::str::FromStr;

use ndarray::{Array2, ArrayView1, ArrayView2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::params::ClassWeight;

/// The loss of a linear SVM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LinearLoss {
    /// `max(0, 1 − y f(x))²`: `LinearSVC`'s default.
    #[default]
    SquaredHinge,
    /// `max(0, 1 − y f(x))`: the SVM's own loss.
    Hinge,
}

impl FromStr for LinearLoss {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim() {
            "squared_hinge" => Ok(LinearLoss::SquaredHinge),
            "hinge" => Ok(LinearLoss::Hinge),
            other => Err(Error::InvalidParameter {
                name: "loss",
                message: format!("`{other}`: expected squared_hinge or hinge"),
            }),
        }
    }
}

impl fmt::Display for LinearLoss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LinearLoss::SquaredHinge => "squared_hinge",
            LinearLoss::Hinge => "hinge",
        })
    }
}

/// Settings of a linear SVM (scikit-learn's `LinearSVC` defaults).
#[derive(Debug, Clone, PartialEq)]
pub struct LinearParams {
    pub c: f64,
    pub loss: LinearLoss,
    /// Stop when the projected gradient's spread is at most this (liblinear's `eps`).
    pub tolerance: f64,
    /// Passes over the data per machine.
    pub max_iterations: usize,
    pub class_weight: ClassWeight,
    /// The constant feature whose weight is the intercept; 0 fits no intercept.
    pub intercept_scaling: f64,
    /// Seeds the order rows are visited in.
    pub seed: u64,
}

impl Default for LinearParams {
    fn default() -> Self {
        Self {
            c: 1.0,
            loss: LinearLoss::SquaredHinge,
            tolerance: 1e-4,
            max_iterations: 1000,
            class_weight: ClassWeight::Uniform,
            intercept_scaling: 1.0,
            seed: 0,
        }
    }
}

impl LinearParams {
    pub fn validate(&self) -> Result<()> {
        let bad = |name, message: String| Err(Error::InvalidParameter { name, message });
        if !(self.c.is_finite() && self.c > 0.0) {
            return bad("C", format!("{}: expected a finite number > 0", self.c));
        }
        if !(self.tolerance.is_finite() && self.tolerance > 0.0) {
            return bad(
                "tolerance",
                format!("{}: expected a finite number > 0", self.tolerance),
            );
        }
        if self.max_iterations == 0 {
            return bad("max_iterations", "0: expected at least 1".to_owned());
        }
        if !(self.intercept_scaling.is_finite() && self.intercept_scaling >= 0.0) {
            return bad(
                "intercept_scaling",
                format!("{}: expected a finite number >= 0", self.intercept_scaling),
            );
        }
        Ok(())
    }
}

/// A fitted linear SVM: one weight row and intercept per machine.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearModel {
    pub n_classes: usize,
    /// `(machines, features)`: one machine for two classes, else one per class.
    pub coef: Array2<f64>,
    pub intercept: Vec<f64>,
    /// Passes each machine made.
    pub iterations: Vec<usize>,
    /// Machines that stopped at `max_iterations` before the tolerance.
    pub capped: Vec<usize>,
}

impl LinearModel {
    /// `(rows, machines)` decision values `w · x + b`.
    pub fn decision_function(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        if x.ncols() != self.coef.ncols() {
            return Err(Error::InvalidParameter {
                name: "features",
                message: format!(
                    "{} columns, but the model was fitted on {}",
                    x.ncols(),
                    self.coef.ncols()
                ),
            });
        }
        // The products keep to one arithmetic path (`sarlab_transform::gemm`), so a
        // row's decision values do not depend on the rows decided with it.
        let mut out = crate::kernel::inner_products(x, self.coef.view());
        for mut row in out.outer_iter_mut() {
            row.iter_mut()
                .zip(&self.intercept)
                .for_each(|(d, b)| *d += b);
        }
        Ok(out)
    }

    /// Class indices: the sign of the one machine for two classes, else the machine
    /// with the largest decision (the first on ties, as numpy's `argmax`).
    pub fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Vec<usize>> {
        Ok(self.labels_of(self.decision_function(x)?.view()))
    }

    /// [`LinearModel::predict`] from the decision values.
    pub fn labels_of(&self, decisions: ArrayView2<'_, f64>) -> Vec<usize> {
        decisions
            .outer_iter()
            .map(|row| {
                if self.n_classes == 2 {
                    usize::from(row[0] > 0.0)
                } else {
                    let mut best = 0;
                    for (k, &v) in row.iter().enumerate() {
                        if v > row[best] {
                            best = k;
                        }
                    }
                    best
                }
            })
            .collect()
    }
}

/// Fits a linear SVM to rows `x` with class indices `y` in `0..n_classes`.
pub fn fit_linear(
    x: ArrayView2<'_, f64>,
    y: &[usize],
    n_classes: usize,
    params: &LinearParams,
) -> Result<LinearModel> {
    params.validate()?;
    if x.nrows() != y.len() || x.nrows() == 0 {
        return Err(Error::InvalidParameter {
            name: "labels",
            message: format!("{} rows but {} labels", x.nrows(), y.len()),
        });
    }
    if n_classes < 2 {
        return Err(Error::InvalidParameter {
            name: "labels",
            message: "a classifier needs at least two classes".to_owned(),
        });
    }
    if let Some(bad) = x.iter().find(|v| !v.is_finite()) {
        return Err(Error::InvalidParameter {
            name: "features",
            message: format!("{bad} in the training rows: every value must be finite"),
        });
    }
    let mut counts = vec![0usize; n_classes];
    for &label in y {
        match counts.get_mut(label) {
            Some(count) => *count += 1,
            None => {
                return Err(Error::InvalidParameter {
                    name: "labels",
                    message: format!("class {label} is not below {n_classes}"),
                });
            }
        }
    }
    let weights = params.class_weight.resolve(y, n_classes)?;
    let machines: Vec<(usize, f64, f64)> = match n_classes {
        // liblinear's binary problem: the second class positive, each class its own C.
        2 => vec![(1, params.c * weights[1], params.c * weights[0])],
        // One against the rest: the class's weighted C, the rest plain C (liblinear's).
        _ => (0..n_classes)
            .map(|k| (k, params.c * weights[k], params.c))
            .collect(),
    };
    let d = x.ncols();
    let mut coef = Array2::zeros((machines.len(), d));
    let mut intercept = vec![0.0; machines.len()];
    let mut iterations = Vec::with_capacity(machines.len());
    let mut capped = Vec::new();
    let sq_norms: Vec<f64> = x
        .outer_iter()
        .map(|row| row.dot(&row) + params.intercept_scaling * params.intercept_scaling)
        .collect();
    // Machines are independent and each seeded by its index: solved in parallel, the
    // answers do not depend on the number of threads.
    let solutions: Vec<DualSolution> = machines
        .par_iter()
        .enumerate()
        .map(|(m, &(positive, cp, cn))| {
            let signs: Vec<f64> = y
                .iter()
                .map(|&label| if label == positive { 1.0 } else { -1.0 })
                .collect();
            solve_dual(x, &signs, &sq_norms, cp, cn, params, m as u64)
        })
        .collect();
    for (m, solution) in solutions.into_iter().enumerate() {
        coef.row_mut(m)
            .iter_mut()
            .zip(&solution.w)
            .for_each(|(c, w)| *c = *w);
        intercept[m] = solution.bias * params.intercept_scaling;
        iterations.push(solution.iterations);
        if solution.capped {
            capped.push(m);
        }
    }
    Ok(LinearModel {
        n_classes,
        coef,
        intercept,
        iterations,
        capped,
    })
}

struct DualSolution {
    w: Vec<f64>,
    /// Weight of the constant feature.
    bias: f64,
    iterations: usize,
    capped: bool,
}

fn dot_row(row: ArrayView1<'_, f64>, w: &[f64]) -> f64 {
    row.iter().zip(w).map(|(a, b)| a * b).sum()
}

/// liblinear's `solve_l2r_l1l2_svc` for labels `signs` (±1): `cp` / `cn` are the C of
/// positive and negative rows.
fn solve_dual(
    x: ArrayView2<'_, f64>,
    signs: &[f64],
    sq_norms: &[f64],
    cp: f64,
    cn: f64,
    params: &LinearParams,
    machine: u64,
) -> DualSolution {
    let l = x.nrows();
    let scaling = params.intercept_scaling;
    // The squared hinge adds 1 / (2C) to the diagonal and has no upper bound; the
    // hinge bounds each α by its C.
    let squared = params.loss == LinearLoss::SquaredHinge;
    let diag = |c: f64| if squared { 0.5 / c } else { 0.0 };
    let upper = |c: f64| if squared { f64::INFINITY } else { c };
    let c_of = |i: usize| if signs[i] > 0.0 { cp } else { cn };
    let qd: Vec<f64> = (0..l).map(|i| diag(c_of(i)) + sq_norms[i]).collect();
    let mut w = vec![0.0; x.ncols()];
    let mut bias = 0.0;
    let mut alpha = vec![0.0; l];
    let mut index: Vec<usize> = (0..l).collect();
    let mut active = l;
    let mut rng = ChaCha8Rng::seed_from_u64(params.seed ^ (0x1B1_11EA5 + machine));
    let (mut pg_max_old, mut pg_min_old) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut iterations = 0;
    while iterations < params.max_iterations {
        let (mut pg_max, mut pg_min) = (f64::NEG_INFINITY, f64::INFINITY);
        for i in 0..active {
            let j = rng.gen_range(i..active);
            index.swap(i, j);
        }
        let mut s = 0;
        while s < active {
            let i = index[s];
            let yi = signs[i];
            let row = x.row(i);
            let c = c_of(i);
            let g = yi * (dot_row(row, &w) + bias * scaling) - 1.0 + alpha[i] * diag(c);
            let bound = upper(c);
            let mut pg = 0.0;
            if alpha[i] == 0.0 {
                if g > pg_max_old {
                    active -= 1;
                    index.swap(s, active);
                    continue;
                } else if g < 0.0 {
                    pg = g;
                }
            } else if alpha[i] == bound {
                if g < pg_min_old {
                    active -= 1;
                    index.swap(s, active);
                    continue;
                } else if g > 0.0 {
                    pg = g;
                }
            } else {
                pg = g;
            }
            pg_max = pg_max.max(pg);
            pg_min = pg_min.min(pg);
            if pg.abs() > 1e-12 {
                let old = alpha[i];
                alpha[i] = (alpha[i] - g / qd[i]).max(0.0).min(bound);
                let step = (alpha[i] - old) * yi;
                w.iter_mut()
                    .zip(row.iter())
                    .for_each(|(wj, xj)| *wj += step * xj);
                bias += step * scaling;
            }
            s += 1;
        }
        iterations += 1;
        if pg_max - pg_min <= params.tolerance {
            if active == l {
                break;
            }
            // Converged on the shrunk set: check every row once more.
            active = l;
            pg_max_old = f64::INFINITY;
            pg_min_old = f64::NEG_INFINITY;
            continue;
        }
        pg_max_old = if pg_max <= 0.0 { f64::INFINITY } else { pg_max };
        pg_min_old = if pg_min >= 0.0 {
            f64::NEG_INFINITY
        } else {
            pg_min
        };
    }
    DualSolution {
        w,
        bias,
        iterations,
        capped: iterations >= params.max_iterations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use proptest::prelude::*;

    #[test]
    fn separable_classes_are_separated_and_bad_input_is_named() {
        let x = array![
            [0.0, 0.0],
            [0.2, 0.1],
            [2.0, 2.1],
            [2.2, 1.9],
            [4.0, 0.0],
            [4.1, 0.2]
        ];
        let y = [0, 0, 1, 1, 2, 2];
        let model = fit_linear(
            x.view(),
            &y,
            3,
            &LinearParams {
                c: 10.0,
                ..LinearParams::default()
            },
        )
        .expect("fit");
        assert_eq!(model.coef.dim(), (3, 2));
        assert_eq!(model.predict(x.view()).expect("predict"), y);
        let binary =
            fit_linear(x.view(), &[0, 0, 1, 1, 1, 1], 2, &LinearParams::default()).expect("binary");
        assert_eq!(binary.coef.nrows(), 1);
        let mut nan = x.clone();
        nan[[1, 1]] = f64::NAN;
        for err in [
            fit_linear(nan.view(), &y, 3, &LinearParams::default()),
            fit_linear(x.view(), &y[..5], 3, &LinearParams::default()),
            fit_linear(x.view(), &[0, 0, 1, 1, 5, 2], 3, &LinearParams::default()),
            fit_linear(
                x.view(),
                &y,
                3,
                &LinearParams {
                    c: 0.0,
                    ..LinearParams::default()
                },
            ),
        ] {
            assert!(err.is_err());
        }
        assert!(model.decision_function(array![[1.0]].view()).is_err());
    }

    proptest! {
        #[test]
        fn a_fit_never_panics_and_its_decisions_are_finite(
            values in proptest::collection::vec(-1e3f64..1e3, 24),
            labels in proptest::collection::vec(0usize..3, 8),
            c in 1e-3f64..1e3,
        ) {
            let x = Array2::from_shape_vec((8, 3), values).expect("shape");
            let n_classes = labels.iter().max().map_or(2, |&m| (m + 1).max(2));
            if let Ok(model) = fit_linear(x.view(), &labels, n_classes, &LinearParams { c, max_iterations: 50, ..LinearParams::default() }) {
                let d = model.decision_function(x.view()).expect("decisions");
                prop_assert!(d.iter().all(|v| v.is_finite()));
            }
        }
    }
}
