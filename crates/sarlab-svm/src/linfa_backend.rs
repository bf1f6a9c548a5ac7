//! `backend = "linfa"`: the pair machines trained by linfa-svm 0.8.1, for cross-checks.
//!
//! linfa-svm is run with shrinking off (its shrinking converges to wrong solutions,
//! DESIGN §6) and wrapped one-vs-one, since it only offers one-vs-rest with Platt
//! scaling for more than two classes. It has RBF and linear kernels only, no class
//! weights other than per-sign C, and builds its own kernel for every fit.

use linfa::prelude::*;
use linfa_svm::Svm;
use ndarray::{Array1, ArrayView2, Axis};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::kernel::{Kernel, KernelFunction};
use crate::machines::{Machines, PairMachine, present_classes};
use crate::params::SvmParams;

/// linfa-svm computes its own kernel, so instead of checking its values this bounds
/// them: `|⟨x, y⟩| ≤ max ‖x‖²` and `‖x − y‖² ≤ 4 max ‖x‖²` (Cauchy–Schwarz), so a finite
/// `4 max ‖x‖²` keeps every linear and RBF kernel value finite.
fn check_bounded(x: ArrayView2<'_, f64>, kernel: &KernelFunction) -> Result<()> {
    let largest = crate::kernel::sq_norms(x).into_iter().fold(0.0, f64::max);
    let bound = 4.0 * largest;
    if bound.is_finite() && (kernel.kernel != Kernel::Linear || largest <= f64::from(f32::MAX)) {
        Ok(())
    } else {
        Err(kernel.overflow(bound, "the training samples (bounded)"))
    }
}

/// Trains the one-vs-one machines with linfa-svm; support positions are rows of `x`.
pub fn fit_machines(
    x: ArrayView2<'_, f64>,
    y: &[usize],
    n_classes: usize,
    params: &SvmParams,
    kernel: &KernelFunction,
) -> Result<Machines> {
    if !matches!(params.kernel, Kernel::Rbf | Kernel::Linear) {
        return Err(Error::InvalidParameter {
            name: "kernel",
            message: format!(
                "`{}` is not available with backend = \"linfa\" (rbf, linear)",
                params.kernel
            ),
        });
    }
    check_bounded(x, kernel)?;
    let classes = present_classes(y, n_classes)?;
    let weights = params.class_weight.resolve(y, n_classes)?;
    let pairs: Vec<(usize, usize)> = classes
        .iter()
        .enumerate()
        .flat_map(|(a, &i)| classes[a + 1..].iter().map(move |&j| (i, j)))
        .collect();
    let pairs = pairs
        .par_iter()
        .map(|&(pos, neg)| {
            let rows: Vec<usize> = (0..y.len())
                .filter(|&i| y[i] == pos)
                .chain((0..y.len()).filter(|&i| y[i] == neg))
                .collect();
            let records = x.select(Axis(0), &rows);
            let targets: Array1<bool> = rows.iter().map(|&i| y[i] == pos).collect();
            let base = Svm::<f64, bool>::params()
                .pos_neg_weights(params.c * weights[pos], params.c * weights[neg])
                .eps(params.tolerance)
                .shrinking(false);
            let base = match params.kernel {
                Kernel::Rbf => base.gaussian_kernel(1.0 / kernel.gamma),
                _ => base.linear_kernel(),
            };
            let svm = base
                .fit(&Dataset::new(records, targets))
                .map_err(|e| Error::Solver {
                    pos,
                    neg,
                    message: e.to_string(),
                })?;
            // linfa keeps its iteration count and exit reason private except in `Display`.
            let summary = svm.to_string();
            let words: Vec<&str> = summary.split_whitespace().collect();
            let hit_iteration_cap = summary.starts_with("Reached maximal");
            let iterations = words
                .get(if hit_iteration_cap { 3 } else { 2 })
                .and_then(|w| w.parse().ok())
                .unwrap_or(0);
            let (mut support, mut coef) = (Vec::new(), Vec::new());
            for (&row, &alpha) in rows.iter().zip(&svm.alpha) {
                // linfa's own threshold for a non-zero coefficient.
                if alpha.abs() > 100.0 * f64::EPSILON {
                    support.push(row);
                    coef.push(alpha);
                }
            }
            Ok(PairMachine {
                pos,
                neg,
                support,
                coef,
                rho: svm.rho,
                iterations,
                hit_iteration_cap,
                // Never reused across C: linfa-svm does not report it.
                upper_bound_reached: true,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Machines {
        n_classes,
        classes,
        pairs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::Gamma;
    use crate::svc::{Backend, Svc};
    use ndarray::Array2;

    #[test]
    fn linfa_and_sarlab_decide_alike() {
        let n = 80;
        let x = Array2::from_shape_fn((n, 5), |(i, j)| {
            ((i * 31 + j * 17) % 97) as f64 / 97.0 + if i % 2 == 0 { 0.05 * j as f64 } else { 0.0 }
        });
        let y: Vec<usize> = (0..n).map(|i| i % 2).collect();
        let probe = Array2::from_shape_fn((60, 5), |(i, j)| ((i * 7 + j * 3) % 13) as f64 / 13.0);
        for (kernel, gamma) in [(Kernel::Rbf, 0.7), (Kernel::Linear, 1.0)] {
            let params = SvmParams {
                kernel,
                c: 3.0,
                gamma: Gamma::Value(gamma),
                tolerance: 1e-6,
                ..SvmParams::default()
            };
            let ours = Svc::new(params.clone(), 2)
                .fit_rows(x.view(), &y)
                .expect("sarlab");
            let linfa = Svc::new(params, 2)
                .with_backend(Backend::Linfa)
                .fit_rows(x.view(), &y)
                .expect("linfa");
            let a = ours.decision_function(probe.view()).expect("finite");
            let b = linfa.decision_function(probe.view()).expect("finite");
            let scale = a.iter().fold(1.0f64, |m, v| m.max(v.abs()));
            for (p, q) in a.iter().zip(&b) {
                assert!((p - q).abs() < 1e-3 * scale, "{kernel}: {p} vs {q}");
            }
            assert_eq!(
                ours.predict_rows(probe.view()).expect("finite"),
                linfa.predict_rows(probe.view()).expect("finite")
            );
        }
        let poly = SvmParams {
            kernel: Kernel::Poly,
            ..SvmParams::default()
        };
        let err = Svc::new(poly, 2)
            .with_backend(Backend::Linfa)
            .fit_rows(x.view(), &y)
            .unwrap_err();
        assert!(err.to_string().contains("linfa"), "{err}");
    }
}
