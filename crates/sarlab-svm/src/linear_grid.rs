//! Grid search with the linear solver ([`crate::fit_linear`], `LinearSVC`'s model):
//! the same stratified folds, fold-fitted transform, metrics and pick as
//! [`crate::grid_search`], each configuration's C (and tolerance, class weight,
//! iteration cap) taken from its [`SvmParams`], which must use the linear kernel.

use std::time::Instant;

use ndarray::{ArrayView2, Axis};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::folds::StratifiedKFold;
use crate::grid::{
    CvOutcome, CvSettings, Evaluation, FitDone, GridSearch, TestPredictions, best_outcome,
    check_search, prepare,
};
use crate::kernel::Kernel;
use crate::linear::{LinearLoss, LinearModel, LinearParams, fit_linear};
use crate::metrics::{ClassificationMetrics, confusion_matrix};
use crate::params::SvmParams;

fn linear_params(point: &SvmParams, loss: LinearLoss, seed: u64) -> Result<LinearParams> {
    if point.kernel != Kernel::Linear {
        return Err(Error::InvalidParameter {
            name: "kernel",
            message: format!(
                "{}: the linear solver fits linear models only (kernel = linear)",
                point.kernel
            ),
        });
    }
    Ok(LinearParams {
        c: point.c,
        loss,
        tolerance: point.tolerance,
        max_iterations: point.max_iterations.unwrap_or(1000),
        class_weight: point.class_weight.clone(),
        intercept_scaling: 1.0,
        seed,
    })
}

/// Fits on `(x_train, y_train)` and scores `(x_eval, y_eval)`.
fn fit_and_score(
    x_train: ArrayView2<'_, f64>,
    y_train: &[usize],
    x_eval: ArrayView2<'_, f64>,
    y_eval: &[usize],
    n_classes: usize,
    params: &LinearParams,
    transform_seconds: f64,
) -> Result<(Evaluation, TestPredictions)> {
    let start = Instant::now();
    let model: LinearModel = fit_linear(x_train, y_train, n_classes, params)?;
    let fit_seconds = start.elapsed().as_secs_f64() + transform_seconds;
    let start = Instant::now();
    let decision_values = model.decision_function(x_eval)?;
    let labels = model.predict(x_eval)?;
    let predict_seconds = start.elapsed().as_secs_f64();
    let evaluation = Evaluation {
        metrics: ClassificationMetrics::compute(y_eval, &labels, n_classes),
        gamma: 0.0,
        // A linear model keeps weights, not support vectors.
        support_vectors: 0,
        iterations: model.iterations.iter().sum(),
        capped_pairs: model.capped.iter().map(|&m| (m, m)).collect(),
        fit_seconds,
        predict_seconds,
        confusion: confusion_matrix(y_eval, &labels, n_classes),
        cached_kernel: false,
    };
    Ok((
        evaluation,
        TestPredictions {
            labels,
            decision_values,
        },
    ))
}

/// [`crate::grid_search`] with the linear solver: cross-validates every point of
/// `grid` (linear kernel) on `(x, y)`, picks the best mean CV `metric` (the first on
/// ties) and refits it on all of `(x, y)` to score `test` if given. The test
/// predictions' decision values are the one-vs-rest machines' (one column for two
/// classes).
#[allow(clippy::too_many_arguments)]
pub fn linear_grid_search(
    x: ArrayView2<'_, f64>,
    y: &[usize],
    test: Option<(ArrayView2<'_, f64>, &[usize])>,
    n_classes: usize,
    grid: &[SvmParams],
    settings: &CvSettings,
    metric: &str,
    loss: LinearLoss,
    on_fit: &(dyn Fn(FitDone<'_>) + Sync),
) -> Result<GridSearch> {
    check_search(grid, metric, test, n_classes)?;
    let params: Vec<LinearParams> = grid
        .iter()
        .map(|p| linear_params(p, loss, settings.seed))
        .collect::<Result<_>>()?;
    let folds = StratifiedKFold::new(settings.folds, settings.seed).split(y, n_classes)?;
    // Each fold's transform once, shared by every configuration.
    let prepared: Vec<_> = folds
        .par_iter()
        .map(|fold| {
            let start = Instant::now();
            let x_train = x.select(Axis(0), &fold.train);
            let x_val = x.select(Axis(0), &fold.validation);
            let (train, val) = prepare(x_train.view(), x_val.view(), &settings.transform)?;
            let y_train: Vec<usize> = fold.train.iter().map(|&i| y[i]).collect();
            let y_val: Vec<usize> = fold.validation.iter().map(|&i| y[i]).collect();
            Ok((train, val, y_train, y_val, start.elapsed().as_secs_f64()))
        })
        .collect::<Result<_>>()?;
    let jobs: Vec<(usize, usize)> = (0..grid.len())
        .flat_map(|c| (0..folds.len()).map(move |f| (c, f)))
        .collect();
    let evaluations: Vec<Evaluation> = jobs
        .par_iter()
        .map(|&(c, f)| {
            let (train, val, y_train, y_val, transform_seconds) = &prepared[f];
            let share = transform_seconds / grid.len() as f64;
            let (evaluation, _) = fit_and_score(
                train.view(),
                y_train,
                val.view(),
                y_val,
                n_classes,
                &params[c],
                share,
            )?;
            on_fit(FitDone {
                configuration: c,
                fold: f,
                evaluation: &evaluation,
            });
            Ok(evaluation)
        })
        .collect::<Result<_>>()?;
    let mut outcomes: Vec<CvOutcome> = grid
        .iter()
        .map(|p| CvOutcome {
            params: p.clone(),
            folds: Vec::with_capacity(folds.len()),
        })
        .collect();
    for (&(c, _), evaluation) in jobs.iter().zip(evaluations) {
        outcomes[c].folds.push(evaluation);
    }
    let best = best_outcome(&outcomes, metric);
    let test = match test {
        Some((x_test, y_test)) => {
            let start = Instant::now();
            let (train, test_rows) = prepare(x, x_test, &settings.transform)?;
            let transform_seconds = start.elapsed().as_secs_f64();
            Some(fit_and_score(
                train.view(),
                y,
                test_rows.view(),
                y_test,
                n_classes,
                &params[best],
                transform_seconds,
            )?)
        }
        None => None,
    };
    Ok(GridSearch {
        outcomes,
        best,
        metric: metric.to_owned(),
        test,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::FeatureTransform;
    use ndarray::Array2;

    #[test]
    fn the_linear_grid_scores_every_fold_and_refuses_other_kernels() {
        let n = 60;
        let x = Array2::from_shape_fn((n, 3), |(i, j)| {
            let class = i % 3;
            (if j == class { 2.0 } else { 0.0 }) + ((i * 7 + j * 3) as f64).sin()
        });
        let y: Vec<usize> = (0..n).map(|i| i % 3).collect();
        let grid: Vec<SvmParams> = [0.1, 10.0]
            .iter()
            .map(|&c| SvmParams {
                kernel: Kernel::Linear,
                c,
                ..SvmParams::default()
            })
            .collect();
        let settings = CvSettings::new(
            4,
            1,
            FeatureTransform {
                column_weights: None,
                standardize: true,
                pca: None,
            },
        );
        let search = linear_grid_search(
            x.view(),
            &y,
            Some((x.view(), &y)),
            3,
            &grid,
            &settings,
            "accuracy",
            LinearLoss::SquaredHinge,
            &|_| {},
        )
        .expect("search");
        assert_eq!(search.outcomes.len(), 2);
        assert!(search.outcomes.iter().all(|o| o.folds.len() == 4));
        let again = linear_grid_search(
            x.view(),
            &y,
            None,
            3,
            &grid,
            &settings,
            "accuracy",
            LinearLoss::SquaredHinge,
            &|_| {},
        )
        .expect("again");
        for (a, b) in search.outcomes.iter().zip(&again.outcomes) {
            for (fa, fb) in a.folds.iter().zip(&b.folds) {
                assert_eq!(fa.metrics, fb.metrics);
            }
        }
        assert!(search.test.is_some());
        let rbf = [SvmParams::default()];
        assert!(
            linear_grid_search(
                x.view(),
                &y,
                None,
                3,
                &rbf,
                &settings,
                "accuracy",
                LinearLoss::SquaredHinge,
                &|_| {}
            )
            .is_err()
        );
    }
}
