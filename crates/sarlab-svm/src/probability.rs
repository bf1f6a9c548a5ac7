//! Class probabilities as libsvm (`SVC(probability=True)`) makes them: each pair
//! machine's decision value becomes a pairwise probability through a sigmoid fitted by
//! Platt scaling (with the Newton method and target smoothing of Lin, Lin & Weng 2007)
//! to decision values of an internal cross-validation, and the pairwise probabilities
//! are coupled into class probabilities by Wu, Lin & Weng's (2004) second method.
//!
//! The internal folds are shuffled from a seed, as libsvm shuffles them with its own
//! generator: the same seed gives the same sigmoids, but no seed gives libsvm's.

use ndarray::{Array2, ArrayView2, Axis};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::kernel::KernelFunction;
use crate::machines::Machines;
use crate::params::SvmParams;
use crate::smo::{QMatrix, solve};

/// Pairwise probabilities are kept inside `[MIN_PROBABILITY, 1 − MIN_PROBABILITY]`
/// before coupling (libsvm's `min_prob`).
const MIN_PROBABILITY: f64 = 1e-7;

/// Internal cross-validation folds of the sigmoid fit (libsvm's `nr_fold`).
pub const PROBABILITY_FOLDS: usize = 5;

/// A sigmoid `P(pos | f) = 1 / (1 + exp(A·f + B))` per pair machine.
#[derive(Debug, Clone, PartialEq)]
pub struct PlattScaling {
    pub a: Vec<f64>,
    pub b: Vec<f64>,
    /// The seed the internal folds were shuffled from.
    pub seed: u64,
}

/// `(A, B)` minimising the cross-entropy of `1 / (1 + exp(A·f + B))` against the
/// smoothed targets of `positive` (libsvm's `sigmoid_train`).
pub fn fit_sigmoid(decision_values: &[f64], positive: &[bool]) -> (f64, f64) {
    const MAX_ITERATIONS: usize = 100;
    const MIN_STEP: f64 = 1e-10;
    const SIGMA: f64 = 1e-12;
    const EPS: f64 = 1e-5;
    let prior1 = positive.iter().filter(|&&p| p).count() as f64;
    let prior0 = positive.len() as f64 - prior1;
    let (hi, lo) = ((prior1 + 1.0) / (prior1 + 2.0), 1.0 / (prior0 + 2.0));
    let targets: Vec<f64> = positive.iter().map(|&p| if p { hi } else { lo }).collect();
    let objective = |a: f64, b: f64| -> f64 {
        decision_values
            .iter()
            .zip(&targets)
            .map(|(&f, &t)| {
                let z = f * a + b;
                if z >= 0.0 {
                    t * z + (-z).exp().ln_1p()
                } else {
                    (t - 1.0) * z + z.exp().ln_1p()
                }
            })
            .sum()
    };
    let (mut a, mut b) = (0.0, ((prior0 + 1.0) / (prior1 + 1.0)).ln());
    let mut value = objective(a, b);
    for _ in 0..MAX_ITERATIONS {
        let (mut h11, mut h22, mut h21, mut g1, mut g2) = (SIGMA, SIGMA, 0.0, 0.0, 0.0);
        for (&f, &t) in decision_values.iter().zip(&targets) {
            let z = f * a + b;
            let (p, q) = if z >= 0.0 {
                let e = (-z).exp();
                (e / (1.0 + e), 1.0 / (1.0 + e))
            } else {
                let e = z.exp();
                (1.0 / (1.0 + e), e / (1.0 + e))
            };
            let d2 = p * q;
            h11 += f * f * d2;
            h22 += d2;
            h21 += f * d2;
            let d1 = t - p;
            g1 += f * d1;
            g2 += d1;
        }
        if g1.abs() < EPS && g2.abs() < EPS {
            break;
        }
        let det = h11 * h22 - h21 * h21;
        let da = -(h22 * g1 - h21 * g2) / det;
        let db = -(-h21 * g1 + h11 * g2) / det;
        let gd = g1 * da + g2 * db;
        let mut step = 1.0;
        while step >= MIN_STEP {
            let (new_a, new_b) = (a + step * da, b + step * db);
            let new_value = objective(new_a, new_b);
            if new_value < value + 1e-4 * step * gd {
                (a, b, value) = (new_a, new_b, new_value);
                break;
            }
            step /= 2.0;
        }
        if step < MIN_STEP {
            // The line search cannot improve: the current point is as good as it gets.
            break;
        }
    }
    (a, b)
}

/// `1 / (1 + exp(A·f + B))`, computed without overflow.
pub fn sigmoid(f: f64, a: f64, b: f64) -> f64 {
    let z = f * a + b;
    if z >= 0.0 {
        (-z).exp() / (1.0 + (-z).exp())
    } else {
        1.0 / (1.0 + z.exp())
    }
}

/// Class probabilities from pairwise ones, `r[i][j] ≈ P(i | i or j)` (libsvm's
/// `multiclass_probability`: a fixed-point method on Wu, Lin & Weng's quadratic
/// problem, stopped at libsvm's tolerance).
pub fn couple(r: &Array2<f64>) -> Vec<f64> {
    let k = r.nrows();
    let max_iterations = 100.max(k);
    let eps = 0.005 / k as f64;
    let mut q = Array2::<f64>::zeros((k, k));
    for t in 0..k {
        for j in 0..k {
            if j == t {
                continue;
            }
            q[[t, t]] += r[[j, t]] * r[[j, t]];
            q[[t, j]] = -r[[j, t]] * r[[t, j]];
        }
    }
    let mut p = vec![1.0 / k as f64; k];
    let mut qp = vec![0.0; k];
    for _ in 0..max_iterations {
        let mut pqp = 0.0;
        for t in 0..k {
            qp[t] = (0..k).map(|j| q[[t, j]] * p[j]).sum();
            pqp += p[t] * qp[t];
        }
        let max_error = qp.iter().map(|&v| (v - pqp).abs()).fold(0.0, f64::max);
        if max_error < eps {
            break;
        }
        for t in 0..k {
            let diff = (-qp[t] + pqp) / q[[t, t]];
            p[t] += diff;
            pqp = (pqp + diff * (diff * q[[t, t]] + 2.0 * qp[t])) / (1.0 + diff) / (1.0 + diff);
            for j in 0..k {
                qp[j] = (qp[j] + diff * q[[t, j]]) / (1.0 + diff);
                p[j] /= 1.0 + diff;
            }
        }
    }
    p
}

impl PlattScaling {
    /// Fits one sigmoid per pair machine of `machines` by an internal
    /// [`PROBABILITY_FOLDS`]-fold cross-validation of that machine's binary problem on
    /// the (transformed) training rows `x` with labels `y`: each fold's machine is
    /// trained with the pair's own bounds and kernel (γ as resolved for the full fit)
    /// and gives decision values for the held-out rows.
    pub fn fit(
        x: ArrayView2<'_, f64>,
        y: &[usize],
        machines: &Machines,
        kernel: &KernelFunction,
        params: &SvmParams,
        seed: u64,
    ) -> Result<Self> {
        let weights = params.class_weight.resolve(y, machines.n_classes)?;
        let sigmoids: Vec<(f64, f64)> = machines
            .pairs
            .par_iter()
            .enumerate()
            .map(|(p, machine)| {
                let rows: Vec<usize> = (0..y.len())
                    .filter(|&s| y[s] == machine.pos)
                    .chain((0..y.len()).filter(|&s| y[s] == machine.neg))
                    .collect();
                let positive: Vec<bool> = rows.iter().map(|&s| y[s] == machine.pos).collect();
                let bounds = (
                    params.c * weights[machine.pos],
                    params.c * weights[machine.neg],
                );
                let pair_x = x.select(Axis(0), &rows);
                let values = held_out_decisions(
                    pair_x.view(),
                    &positive,
                    bounds,
                    kernel,
                    params,
                    seed.wrapping_add(p as u64),
                )?;
                Ok(fit_sigmoid(&values, &positive))
            })
            .collect::<Result<_>>()?;
        let (a, b) = sigmoids.into_iter().unzip();
        Ok(Self { a, b, seed })
    }

    /// Class probabilities (rows × classes of `machines`) from decision values (rows ×
    /// pair machines). Classes absent from training get probability 0.
    pub fn probabilities(
        &self,
        machines: &Machines,
        decisions: ArrayView2<'_, f64>,
    ) -> Result<Array2<f64>> {
        if self.a.len() != machines.pairs.len() || decisions.ncols() != machines.pairs.len() {
            return Err(Error::InvalidParameter {
                name: "probability",
                message: format!(
                    "{} sigmoids and {} decision values for {} pair machines",
                    self.a.len(),
                    decisions.ncols(),
                    machines.pairs.len()
                ),
            });
        }
        let present = &machines.classes;
        let slot: Vec<Option<usize>> = (0..machines.n_classes)
            .map(|c| present.iter().position(|&p| p == c))
            .collect();
        let mut out = Array2::zeros((decisions.nrows(), machines.n_classes));
        for (row, mut probabilities) in decisions.outer_iter().zip(out.outer_iter_mut()) {
            let k = present.len();
            let mut r = Array2::zeros((k, k));
            for (m, machine) in machines.pairs.iter().enumerate() {
                let (i, j) = (
                    slot[machine.pos].expect("pairs join present classes"),
                    slot[machine.neg].expect("pairs join present classes"),
                );
                let p = sigmoid(row[m], self.a[m], self.b[m])
                    .clamp(MIN_PROBABILITY, 1.0 - MIN_PROBABILITY);
                r[[i, j]] = p;
                r[[j, i]] = 1.0 - p;
            }
            // libsvm (as scikit-learn builds it) couples two classes too.
            let coupled = couple(&r);
            for (&class, value) in present.iter().zip(coupled) {
                probabilities[class] = value;
            }
        }
        Ok(out)
    }
}

/// Decision values of every row of a binary problem, each from a machine trained on
/// the other folds (libsvm's `svm_binary_svc_probability`).
fn held_out_decisions(
    x: ArrayView2<'_, f64>,
    positive: &[bool],
    (c_pos, c_neg): (f64, f64),
    kernel: &KernelFunction,
    params: &SvmParams,
    seed: u64,
) -> Result<Vec<f64>> {
    let l = positive.len();
    let mut order: Vec<usize> = (0..l).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let full = kernel.between(x, x);
    kernel.check_values(
        full.as_slice().expect("fresh array"),
        "the training samples",
    )?;
    let settings = params.solver_settings();
    let mut values = vec![0.0; l];
    for fold in 0..PROBABILITY_FOLDS {
        let (begin, end) = (
            fold * l / PROBABILITY_FOLDS,
            (fold + 1) * l / PROBABILITY_FOLDS,
        );
        let held_out = &order[begin..end];
        let train: Vec<usize> = order[..begin]
            .iter()
            .chain(&order[end..])
            .copied()
            .collect();
        let pos = train.iter().filter(|&&s| positive[s]).count();
        let constant = match (pos, train.len() - pos) {
            (0, 0) => Some(0.0),
            (_, 0) => Some(1.0),
            (0, _) => Some(-1.0),
            _ => None,
        };
        if let Some(value) = constant {
            for &s in held_out {
                values[s] = value;
            }
            continue;
        }
        let sign = |s: usize| if positive[s] { 1.0f32 } else { -1.0 };
        let mut q = QMatrix::from_rows(train.len(), Vec::new(), |a, out| {
            let (ta, row) = (train[a], full.row(train[a]));
            for (o, &tb) in out.iter_mut().zip(&train) {
                *o = sign(ta) * sign(tb) * row[tb] as f32;
            }
        });
        let qd = train.iter().map(|&s| full[[s, s]]).collect();
        let labels = train
            .iter()
            .map(|&s| if positive[s] { 1 } else { -1 })
            .collect();
        let bounds = train
            .iter()
            .map(|&s| if positive[s] { c_pos } else { c_neg })
            .collect();
        let solution = solve(&mut q, qd, labels, bounds, &settings);
        for &s in held_out {
            let k = full.row(s);
            let sum: f64 = train
                .iter()
                .zip(&solution.alpha)
                .filter(|(_, alpha)| **alpha != 0.0)
                .map(|(&t, &alpha)| if positive[t] { alpha } else { -alpha } * k[t])
                .sum();
            values[s] = sum - solution.rho;
        }
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sigmoid_fitted_to_separable_values_orders_them() {
        let f: Vec<f64> = (0..40).map(|i| i as f64 / 4.0 - 5.0).collect();
        let positive: Vec<bool> = f.iter().map(|&v| v > 0.3).collect();
        let (a, b) = fit_sigmoid(&f, &positive);
        assert!(
            a < 0.0,
            "larger decision values are more likely positive: A = {a}"
        );
        assert!(sigmoid(5.0, a, b) > 0.9 && sigmoid(-5.0, a, b) < 0.1);
        assert!(b.is_finite());
    }

    #[test]
    fn coupling_consistent_pairwise_probabilities_recovers_the_classes() {
        let p = [0.5, 0.3, 0.2];
        let r = Array2::from_shape_fn(
            (3, 3),
            |(i, j)| {
                if i == j { 0.0 } else { p[i] / (p[i] + p[j]) }
            },
        );
        let coupled = couple(&r);
        for (c, e) in coupled.iter().zip(p) {
            assert!((c - e).abs() < 1e-3, "{coupled:?}");
        }
        assert!((coupled.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }
}
