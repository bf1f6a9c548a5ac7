//! Cross-validation and refits with the linear solver ([`crate::fit_linear`],
//! `LinearSVC`'s model), on the features or on a kernel approximation of them
//! ([`crate::FeatureMap`]): the same stratified folds (augmented copies kept out of
//! validation), fold-fitted transform and metrics as the kernel SVM's, each
//! configuration's C (and tolerance, class weight, iteration cap) taken from its
//! [`SvmParams`]; with an approximation, its kernel and γ too (γ resolved on each
//! fold's transformed training rows, as the SVM resolves it). [`crate::grid_search`],
//! [`crate::cross_validate_grid`] and [`crate::refit_and_test`] come here for
//! configurations that name the linear solver.

use std::time::Instant;

use ndarray::{ArrayView2, Axis, CowArray, Ix2};
use rayon::prelude::*;
use sarlab_transform::Rows;

use crate::approximation::FeatureMap;
use crate::error::{Error, Result};
use crate::grid::{
    CvOutcome, CvSettings, Evaluation, FeatureTransform, FitDone, Refit, TestPredictions,
    outcomes_of, prepare,
};
use crate::kernel::KernelFunction;
use crate::linear::{LinearModel, LinearParams, fit_linear};
use crate::machines::check_labelled;
use crate::metrics::{ClassificationMetrics, confusion_matrix};
use crate::params::SvmParams;
use crate::pipeline::{Classifier, FittedModel, FittedTransform, LinearClassifier};
use crate::solver::LinearSolver;

/// The linear solver's settings of `point`, which must name one.
fn linear_solver(point: &SvmParams) -> Result<LinearSolver> {
    point.linear_solver.ok_or_else(|| Error::InvalidParameter {
        name: "solver",
        message: "a configuration for libsvm's SMO reached the linear solver".to_owned(),
    })
}

fn linear_params(point: &SvmParams) -> Result<LinearParams> {
    let solver = linear_solver(point)?;
    solver.check(point)?;
    Ok(LinearParams {
        c: point.c,
        loss: solver.loss,
        tolerance: point.tolerance,
        max_iterations: point.max_iterations.unwrap_or(1000),
        class_weight: point.class_weight.clone(),
        intercept_scaling: 1.0,
        seed: solver.seed,
    })
}

/// The kernel approximation of `point` fitted on transformed training rows `train`,
/// and the kernel it approximates (γ resolved on `train`); `None` without one.
fn fit_map(
    train: ArrayView2<'_, f64>,
    point: &SvmParams,
) -> Result<Option<(FeatureMap, KernelFunction)>> {
    let solver = linear_solver(point)?;
    match solver.approximation {
        None => Ok(None),
        Some(approximation) => {
            let kernel = point.kernel_function(train, None);
            Ok(Some((
                FeatureMap::fit(train, approximation, kernel, solver.seed)?,
                kernel,
            )))
        }
    }
}

/// Fits `point`'s linear classifier on transformed rows `train`.
fn fit_classifier(
    train: ArrayView2<'_, f64>,
    y: &[usize],
    n_classes: usize,
    point: &SvmParams,
) -> Result<LinearClassifier> {
    let params = linear_params(point)?;
    let start = Instant::now();
    let (map, kernel) = fit_map(train, point)?.unzip();
    let model = match &map {
        Some(map) => fit_linear(map.transform(train)?.view(), y, n_classes, &params)?,
        None => fit_linear(train, y, n_classes, &params)?,
    };
    Ok(LinearClassifier {
        solver: linear_solver(point)?,
        map,
        kernel,
        model,
        fit_seconds: start.elapsed().as_secs_f64(),
    })
}

fn evaluation(
    model: &LinearModel,
    y_eval: &[usize],
    labels: &[usize],
    gamma: f64,
    fit_seconds: f64,
    predict_seconds: f64,
) -> Evaluation {
    let n_classes = model.n_classes;
    Evaluation {
        metrics: ClassificationMetrics::compute(y_eval, labels, n_classes),
        gamma,
        // A linear model keeps weights, not support vectors.
        support_vectors: 0,
        iterations: model.iterations.iter().sum(),
        capped_pairs: model.capped.iter().map(|&m| (m, m)).collect(),
        fit_seconds,
        predict_seconds,
        confusion: confusion_matrix(y_eval, labels, n_classes),
        cached_kernel: false,
    }
}

/// The resolved γ of the kernel a map approximates (0 without one, or for the linear
/// kernel), as [`Evaluation::gamma`] reports it.
fn kernel_gamma(kernel: Option<&KernelFunction>) -> f64 {
    match kernel {
        Some(kernel) if kernel.kernel.uses_gamma() => kernel.gamma,
        _ => 0.0,
    }
}

/// Configurations that share a feature map: the same solver, kernel and γ setting
/// (they differ in C, tolerance, class weight or iteration cap). Without an
/// approximation, configurations of one solver share the transformed rows as they are.
fn map_groups(grid: &[SvmParams]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, point) in grid.iter().enumerate() {
        let found = groups.iter_mut().find(|g| {
            let first = &grid[g[0]];
            first.linear_solver == point.linear_solver
                && (point
                    .linear_solver
                    .is_some_and(|s| s.approximation.is_none())
                    || (first.kernel == point.kernel
                        && first.gamma == point.gamma
                        && first.degree == point.degree
                        && first.coef0.to_bits() == point.coef0.to_bits()))
        });
        match found {
            Some(group) => group.push(i),
            None => groups.push(vec![i]),
        }
    }
    groups
}

/// Scores every configuration of `grid` (each naming the linear solver) by the
/// stratified folds `folds` of `(x, y)`. One fold's mapped rows are in memory at a
/// time: each map group and fold is mapped once and every configuration of the group
/// fitted on it in parallel (each machine of a fit in parallel too).
pub(crate) fn cross_validate_linear(
    x: ArrayView2<'_, f64>,
    y: &[usize],
    folds: &[crate::folds::Fold],
    n_classes: usize,
    grid: &[SvmParams],
    settings: &CvSettings,
    on_fit: &(dyn Fn(FitDone<'_>) + Sync),
) -> Result<Vec<CvOutcome>> {
    let params: Vec<LinearParams> = grid.iter().map(linear_params).collect::<Result<_>>()?;
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
    let mut evaluations: Vec<Vec<Option<Evaluation>>> = vec![vec![None; folds.len()]; grid.len()];
    for group in map_groups(grid) {
        for (f, (train, val, y_train, y_val, transform_seconds)) in prepared.iter().enumerate() {
            let start = Instant::now();
            let mapped = fit_map(train.view(), &grid[group[0]])?
                .map(|(map, kernel)| -> Result<_> {
                    Ok((
                        map.transform(train.view())?,
                        map.transform(val.view())?,
                        kernel,
                    ))
                })
                .transpose()?;
            let (fit_rows, score_rows, gamma) = match &mapped {
                Some((t, v, kernel)) => (t.view(), v.view(), kernel_gamma(Some(kernel))),
                None => (train.view(), val.view(), 0.0),
            };
            let share = transform_seconds / grid.len() as f64
                + start.elapsed().as_secs_f64() / group.len() as f64;
            let done: Vec<Evaluation> = group
                .par_iter()
                .map(|&c| {
                    let start = Instant::now();
                    let model = fit_linear(fit_rows, y_train, n_classes, &params[c])?;
                    let fit_seconds = start.elapsed().as_secs_f64() + share;
                    let start = Instant::now();
                    let labels = model.predict(score_rows)?;
                    let evaluation = evaluation(
                        &model,
                        y_val,
                        &labels,
                        gamma,
                        fit_seconds,
                        start.elapsed().as_secs_f64(),
                    );
                    on_fit(FitDone {
                        configuration: c,
                        fold: f,
                        evaluation: &evaluation,
                    });
                    Ok(evaluation)
                })
                .collect::<Result<_>>()?;
            for (&c, evaluation) in group.iter().zip(done) {
                evaluations[c][f] = Some(evaluation);
            }
        }
    }
    Ok(outcomes_of(grid, evaluations))
}

/// [`crate::refit_and_test_staged`] for a configuration of the linear solver: the
/// training features are transformed, fitted and dropped before `test_features` makes
/// the test split's; the test split is decided by [`FittedModel::decide`], as a saved
/// model decides new chips.
pub(crate) fn refit_linear_staged<'t, E: From<Error>>(
    x_train: CowArray<'_, f64, Ix2>,
    y_train: &[usize],
    test_features: impl FnOnce() -> std::result::Result<CowArray<'t, f64, Ix2>, E>,
    y_test: &[usize],
    n_classes: usize,
    point: &SvmParams,
    transform: &FeatureTransform,
) -> std::result::Result<Refit, E> {
    check_labelled(x_train.view(), y_train, n_classes)?;
    let start = Instant::now();
    let fitted = FittedTransform::fit(Rows::all(x_train.view()), transform)?;
    let train = fitted.apply(Rows::all(x_train.view()))?;
    let input_len = x_train.ncols();
    drop(x_train);
    let classifier = fit_classifier(train.view(), y_train, n_classes, point)?;
    drop(train);
    let fit_seconds = start.elapsed().as_secs_f64();
    let gamma = kernel_gamma(classifier.kernel.as_ref());
    let linear = classifier.model.clone();
    let model = FittedModel {
        transform: fitted,
        classifier: Classifier::Linear(classifier),
        input_len,
        platt: None,
    };
    let x_test = test_features()?;
    check_labelled(x_test.view(), y_test, n_classes)?;
    let start = Instant::now();
    let decisions = model.decide(x_test.view())?;
    let predict_seconds = start.elapsed().as_secs_f64();
    drop(x_test);
    let evaluation = evaluation(
        &linear,
        y_test,
        &decisions.labels,
        gamma,
        fit_seconds,
        predict_seconds,
    );
    Ok(Refit {
        evaluation,
        predictions: TestPredictions {
            labels: decisions.labels,
            decision_values: decisions.decision_values,
        },
        model,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approximation::KernelApproximation;
    use crate::grid::{grid_search, refit_and_test};
    use crate::kernel::{Gamma, Kernel};
    use crate::svc::Engine;
    use ndarray::Array2;

    fn three_classes(n: usize, d: usize) -> (Array2<f64>, Vec<usize>) {
        let x = Array2::from_shape_fn((n, d), |(i, j)| {
            let class = i % 3;
            (if j == class { 1.5 } else { 0.0 }) + ((i * 13 + j * 5) as f64 * 0.7).sin()
        });
        (x, (0..n).map(|i| i % 3).collect())
    }

    fn standardized(folds: usize, seed: u64) -> CvSettings {
        CvSettings::new(
            folds,
            seed,
            FeatureTransform {
                column_weights: None,
                standardize: true,
                pca: None,
            },
        )
    }

    #[test]
    fn the_linear_grid_scores_every_fold_and_refuses_mixed_or_wrong_kernels() {
        let (x, y) = three_classes(60, 3);
        let linear = LinearSolver::default();
        let grid: Vec<SvmParams> = [0.1, 10.0]
            .iter()
            .map(|&c| SvmParams {
                kernel: Kernel::Linear,
                c,
                linear_solver: Some(linear),
                ..SvmParams::default()
            })
            .collect();
        let settings = standardized(4, 1);
        let search = grid_search(
            x.view(),
            &y,
            Some((x.view(), &y)),
            3,
            &grid,
            &settings,
            "accuracy",
            &|_| {},
        )
        .expect("search");
        assert_eq!(search.outcomes.len(), 2);
        assert!(search.outcomes.iter().all(|o| o.folds.len() == 4));
        let again = grid_search(x.view(), &y, None, 3, &grid, &settings, "accuracy", &|_| {})
            .expect("again");
        for (a, b) in search.outcomes.iter().zip(&again.outcomes) {
            for (fa, fb) in a.folds.iter().zip(&b.folds) {
                assert_eq!(fa.metrics, fb.metrics);
            }
        }
        assert!(search.test.is_some());
        let rbf = [SvmParams {
            linear_solver: Some(linear),
            ..SvmParams::default()
        }];
        assert!(grid_search(x.view(), &y, None, 3, &rbf, &settings, "accuracy", &|_| {}).is_err());
        let mixed = [grid[0].clone(), SvmParams::default()];
        let err = grid_search(
            x.view(),
            &y,
            None,
            3,
            &mixed,
            &settings,
            "accuracy",
            &|_| {},
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("one solver for all"), "{err}");
    }

    #[test]
    fn a_mapped_fold_scores_what_a_refit_on_that_fold_scores() {
        let (x, y) = three_classes(90, 4);
        let settings = standardized(3, 9);
        for approximation in [
            KernelApproximation::Nystroem { components: 25 },
            KernelApproximation::RandomFourier { components: 40 },
        ] {
            let solver = LinearSolver {
                approximation: Some(approximation),
                seed: 9,
                ..LinearSolver::default()
            };
            let grid: Vec<SvmParams> = [
                (Gamma::Scale, 1.0),
                (Gamma::Scale, 10.0),
                (Gamma::Value(2.0), 1.0),
            ]
            .iter()
            .map(|&(gamma, c)| SvmParams {
                gamma,
                c,
                linear_solver: Some(solver),
                ..SvmParams::default()
            })
            .collect();
            let search = grid_search(
                x.view(),
                &y,
                Some((x.view(), &y)),
                3,
                &grid,
                &settings,
                "accuracy",
                &|_| {},
            )
            .expect("search");
            let folds = crate::folds::StratifiedKFold::new(3, 9)
                .split(&y, 3)
                .expect("folds");
            for (c, outcome) in search.outcomes.iter().enumerate() {
                for (fold, evaluation) in folds.iter().zip(&outcome.folds) {
                    let pick = |rows: &[usize]| {
                        (
                            x.select(Axis(0), rows),
                            rows.iter().map(|&i| y[i]).collect::<Vec<usize>>(),
                        )
                    };
                    let ((x_train, y_train), (x_val, y_val)) =
                        (pick(&fold.train), pick(&fold.validation));
                    let refit = refit_and_test(
                        x_train.view(),
                        &y_train,
                        x_val.view(),
                        &y_val,
                        3,
                        &grid[c],
                        &settings.transform,
                        Engine::default(),
                        None,
                    )
                    .expect("refit");
                    assert_eq!(
                        evaluation.metrics, refit.evaluation.metrics,
                        "{approximation} configuration {c}"
                    );
                    assert_eq!(evaluation.gamma, refit.evaluation.gamma);
                    assert!(evaluation.gamma > 0.0);
                }
            }
            let refit = refit_and_test(
                x.view(),
                &y,
                x.view(),
                &y,
                3,
                &grid[search.best],
                &settings.transform,
                Engine::default(),
                None,
            )
            .expect("refit");
            let (_, predictions) = search.test.as_ref().expect("test");
            assert_eq!(predictions, &refit.predictions);
            assert!(matches!(refit.model.classifier, Classifier::Linear(_)));
            // Probabilities are the kernel SVM's alone.
            assert!(
                refit_and_test(
                    x.view(),
                    &y,
                    x.view(),
                    &y,
                    3,
                    &grid[0],
                    &settings.transform,
                    Engine::default(),
                    Some(0),
                )
                .is_err()
            );
        }
    }
}
