//! Grid search with the linear solver ([`crate::fit_linear`], `LinearSVC`'s model),
//! on the features or on a kernel approximation of them ([`crate::FeatureMap`]): the
//! same stratified folds, fold-fitted transform, metrics and pick as
//! [`crate::grid_search`], each configuration's C (and tolerance, class weight,
//! iteration cap) taken from its [`SvmParams`]; with an approximation, its kernel and γ
//! too (γ resolved on each fold's transformed training rows, as the SVM resolves it).

use std::time::Instant;

use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;
use sarlab_transform::Rows;

use crate::approximation::FeatureMap;
use crate::error::{Error, Result};
use crate::folds::StratifiedKFold;
use crate::grid::{
    CvOutcome, CvSettings, Evaluation, FeatureTransform, FitDone, GridSearch, TestPredictions,
    best_outcome, check_search, prepare,
};
use crate::kernel::KernelFunction;
use crate::linear::{LinearModel, LinearParams, fit_linear};
use crate::metrics::{ClassificationMetrics, confusion_matrix};
use crate::params::SvmParams;
use crate::pipeline::FittedTransform;
use crate::solver::LinearSolver;

fn linear_params(point: &SvmParams, solver: &LinearSolver, seed: u64) -> Result<LinearParams> {
    solver.check(point)?;
    Ok(LinearParams {
        c: point.c,
        loss: solver.loss,
        tolerance: point.tolerance,
        max_iterations: point.max_iterations.unwrap_or(1000),
        class_weight: point.class_weight.clone(),
        intercept_scaling: 1.0,
        seed,
    })
}

/// The kernel approximation fitted on transformed training rows `train` and the
/// kernel it approximates (γ resolved on `train`), or `None` without one; the map's
/// random choices come from `seed`.
fn fit_map(
    train: ArrayView2<'_, f64>,
    point: &SvmParams,
    solver: &LinearSolver,
    seed: u64,
) -> Result<Option<(FeatureMap, KernelFunction)>> {
    match solver.approximation {
        None => Ok(None),
        Some(approximation) => {
            let kernel = point.kernel_function(train, None);
            Ok(Some((
                FeatureMap::fit(train, approximation, kernel, seed)?,
                kernel,
            )))
        }
    }
}

/// A fitted linear pipeline: the feature transform, the kernel approximation (if any)
/// and the linear SVM, everything that turns a feature vector into a label.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearPipeline {
    pub transform: FittedTransform,
    pub map: Option<FeatureMap>,
    /// The kernel `map` approximates, γ resolved on the transformed training rows.
    pub kernel: Option<KernelFunction>,
    pub model: LinearModel,
    /// Features a row must have (before the transform).
    pub input_len: usize,
}

impl LinearPipeline {
    /// Fits the transform, the map and the linear SVM of `point` on `(x, y)`; the
    /// seconds this took.
    #[allow(clippy::too_many_arguments)]
    pub fn fit(
        x: ArrayView2<'_, f64>,
        y: &[usize],
        n_classes: usize,
        point: &SvmParams,
        solver: &LinearSolver,
        transform: &FeatureTransform,
        seed: u64,
    ) -> Result<(Self, f64)> {
        let params = linear_params(point, solver, seed)?;
        let start = Instant::now();
        let fitted = FittedTransform::fit(Rows::all(x), transform)?;
        let train = fitted.apply(Rows::all(x))?;
        let (map, kernel) = fit_map(train.view(), point, solver, seed)?.unzip();
        let train = match &map {
            Some(map) => map.transform(train.view())?,
            None => train,
        };
        let model = fit_linear(train.view(), y, n_classes, &params)?;
        let pipeline = Self {
            transform: fitted,
            map,
            kernel,
            model,
            input_len: x.ncols(),
        };
        Ok((pipeline, start.elapsed().as_secs_f64()))
    }

    /// `x`'s rows through the transform and the map: what the linear SVM reads.
    pub fn features(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        if x.ncols() != self.input_len {
            return Err(Error::Shape(format!(
                "the model takes {} features, the rows have {}",
                self.input_len,
                x.ncols()
            )));
        }
        let transformed = self.transform.apply(Rows::all(x))?;
        match &self.map {
            Some(map) => map.transform(transformed.view()),
            None => Ok(transformed),
        }
    }

    /// `(rows, machines)` decision values and the predicted classes of `x`'s rows.
    pub fn decide(&self, x: ArrayView2<'_, f64>) -> Result<(Array2<f64>, Vec<usize>)> {
        let features = self.features(x)?;
        Ok((
            self.model.decision_function(features.view())?,
            self.model.predict(features.view())?,
        ))
    }
}

/// Fits on `(x_train, y_train)` (already transformed and mapped) and scores
/// `(x_eval, y_eval)`; `gamma` is the map's (0 without one).
#[allow(clippy::too_many_arguments)]
fn fit_and_score(
    x_train: ArrayView2<'_, f64>,
    y_train: &[usize],
    x_eval: ArrayView2<'_, f64>,
    y_eval: &[usize],
    n_classes: usize,
    params: &LinearParams,
    gamma: f64,
    transform_seconds: f64,
) -> Result<(Evaluation, TestPredictions)> {
    let start = Instant::now();
    let model: LinearModel = fit_linear(x_train, y_train, n_classes, params)?;
    let fit_seconds = start.elapsed().as_secs_f64() + transform_seconds;
    let start = Instant::now();
    let decision_values = model.decision_function(x_eval)?;
    let labels = model.predict(x_eval)?;
    let predict_seconds = start.elapsed().as_secs_f64();
    Ok((
        evaluation(&model, y_eval, &labels, gamma, fit_seconds, predict_seconds),
        TestPredictions {
            labels,
            decision_values,
        },
    ))
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

/// Configurations that share a feature map: the same kernel and γ setting (they
/// differ in C, tolerance, class weight or iteration cap). Without an approximation,
/// one group holds every configuration.
fn map_groups(grid: &[SvmParams], solver: &LinearSolver) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, point) in grid.iter().enumerate() {
        let found = groups.iter_mut().find(|g| {
            let first = &grid[g[0]];
            solver.approximation.is_none()
                || (first.kernel == point.kernel
                    && first.gamma == point.gamma
                    && first.degree == point.degree
                    && first.coef0.to_bits() == point.coef0.to_bits())
        });
        match found {
            Some(group) => group.push(i),
            None => groups.push(vec![i]),
        }
    }
    groups
}

/// The resolved γ of the kernel a map approximates (0 without one, or for the linear
/// kernel), as [`Evaluation::gamma`] reports it.
fn kernel_gamma(kernel: Option<&KernelFunction>) -> f64 {
    match kernel {
        Some(kernel) if kernel.kernel.uses_gamma() => kernel.gamma,
        _ => 0.0,
    }
}

/// [`crate::grid_search`] with the linear solver: cross-validates every point of
/// `grid` on `(x, y)` (linear, or through `solver`'s kernel approximation), picks the
/// best mean CV `metric` (the first on ties) and refits it on all of `(x, y)` to score
/// `test` if given. The test predictions' decision values are the one-vs-rest
/// machines' (one column for two classes).
///
/// With an approximation, one fold's mapped rows are in memory at a time: each map
/// group (configurations that share kernel and γ) and fold is mapped once and every C
/// of the group fitted on it in parallel.
#[allow(clippy::too_many_arguments)]
pub fn linear_grid_search(
    x: ArrayView2<'_, f64>,
    y: &[usize],
    test: Option<(ArrayView2<'_, f64>, &[usize])>,
    n_classes: usize,
    grid: &[SvmParams],
    settings: &CvSettings,
    metric: &str,
    solver: &LinearSolver,
    on_fit: &(dyn Fn(FitDone<'_>) + Sync),
) -> Result<GridSearch> {
    check_search(grid, metric, test, n_classes)?;
    let params: Vec<LinearParams> = grid
        .iter()
        .map(|p| linear_params(p, solver, settings.seed))
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
    let mut evaluations: Vec<Vec<Option<Evaluation>>> = vec![vec![None; folds.len()]; grid.len()];
    let groups = map_groups(grid, solver);
    match solver.approximation {
        None => {
            let jobs: Vec<(usize, usize)> = (0..grid.len())
                .flat_map(|c| (0..folds.len()).map(move |f| (c, f)))
                .collect();
            let done: Vec<Evaluation> = jobs
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
                        0.0,
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
            for (&(c, f), evaluation) in jobs.iter().zip(done) {
                evaluations[c][f] = Some(evaluation);
            }
        }
        Some(_) => {
            for group in &groups {
                for (f, (train, val, y_train, y_val, transform_seconds)) in
                    prepared.iter().enumerate()
                {
                    let start = Instant::now();
                    let (map, kernel) =
                        fit_map(train.view(), &grid[group[0]], solver, settings.seed)?
                            .expect("an approximation");
                    let mapped_train = map.transform(train.view())?;
                    let mapped_val = map.transform(val.view())?;
                    let map_seconds = start.elapsed().as_secs_f64();
                    let share =
                        transform_seconds / grid.len() as f64 + map_seconds / group.len() as f64;
                    let gamma = kernel_gamma(Some(&kernel));
                    let done: Vec<Evaluation> = group
                        .par_iter()
                        .map(|&c| {
                            let (evaluation, _) = fit_and_score(
                                mapped_train.view(),
                                y_train,
                                mapped_val.view(),
                                y_val,
                                n_classes,
                                &params[c],
                                gamma,
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
                    for (&c, evaluation) in group.iter().zip(done) {
                        evaluations[c][f] = Some(evaluation);
                    }
                }
            }
        }
    }
    let outcomes: Vec<CvOutcome> = grid
        .iter()
        .zip(evaluations)
        .map(|(p, folds)| CvOutcome {
            params: p.clone(),
            folds: folds
                .into_iter()
                .map(|e| e.expect("every fold scored"))
                .collect(),
        })
        .collect();
    let best = best_outcome(&outcomes, metric);
    let test = match test {
        Some((x_test, y_test)) => Some(refit_and_score(
            x,
            y,
            x_test,
            y_test,
            n_classes,
            &grid[best],
            solver,
            &settings.transform,
            settings.seed,
        )?),
        None => None,
    };
    Ok(GridSearch {
        outcomes,
        best,
        metric: metric.to_owned(),
        test,
    })
}

/// [`LinearPipeline::fit`] on `(x, y)` scored on `(x_test, y_test)`.
#[allow(clippy::too_many_arguments)]
fn refit_and_score(
    x: ArrayView2<'_, f64>,
    y: &[usize],
    x_test: ArrayView2<'_, f64>,
    y_test: &[usize],
    n_classes: usize,
    point: &SvmParams,
    solver: &LinearSolver,
    transform: &FeatureTransform,
    seed: u64,
) -> Result<(Evaluation, TestPredictions)> {
    let (pipeline, fit_seconds) =
        LinearPipeline::fit(x, y, n_classes, point, solver, transform, seed)?;
    let start = Instant::now();
    let (decision_values, labels) = pipeline.decide(x_test)?;
    let predict_seconds = start.elapsed().as_secs_f64();
    let gamma = kernel_gamma(pipeline.kernel.as_ref());
    Ok((
        evaluation(
            &pipeline.model,
            y_test,
            &labels,
            gamma,
            fit_seconds,
            predict_seconds,
        ),
        TestPredictions {
            labels,
            decision_values,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::Kernel;
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
            &LinearSolver::default(),
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
            &LinearSolver::default(),
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
                &LinearSolver::default(),
                &|_| {}
            )
            .is_err()
        );
    }

    #[test]
    fn a_mapped_fold_scores_what_the_pipeline_fitted_on_that_fold_scores() {
        use crate::approximation::KernelApproximation;
        use crate::kernel::Gamma;
        let n = 90;
        let x = Array2::from_shape_fn((n, 4), |(i, j)| {
            let class = i % 3;
            (if j == class { 1.5 } else { 0.0 }) + ((i * 13 + j * 5) as f64 * 0.7).sin()
        });
        let y: Vec<usize> = (0..n).map(|i| i % 3).collect();
        let grid: Vec<SvmParams> = [
            (Gamma::Scale, 1.0),
            (Gamma::Scale, 10.0),
            (Gamma::Value(2.0), 1.0),
        ]
        .iter()
        .map(|&(gamma, c)| SvmParams {
            gamma,
            c,
            ..SvmParams::default()
        })
        .collect();
        let transform = FeatureTransform {
            column_weights: None,
            standardize: true,
            pca: None,
        };
        let settings = CvSettings::new(3, 9, transform.clone());
        for approximation in [
            KernelApproximation::Nystroem { components: 25 },
            KernelApproximation::RandomFourier { components: 40 },
        ] {
            let solver = LinearSolver {
                approximation: Some(approximation),
                ..LinearSolver::default()
            };
            let search = linear_grid_search(
                x.view(),
                &y,
                Some((x.view(), &y)),
                3,
                &grid,
                &settings,
                "accuracy",
                &solver,
                &|_| {},
            )
            .expect("search");
            let folds = StratifiedKFold::new(3, 9).split(&y, 3).expect("folds");
            for (c, outcome) in search.outcomes.iter().enumerate() {
                for (fold, evaluation) in folds.iter().zip(&outcome.folds) {
                    let x_train = x.select(Axis(0), &fold.train);
                    let y_train: Vec<usize> = fold.train.iter().map(|&i| y[i]).collect();
                    let (pipeline, _) = LinearPipeline::fit(
                        x_train.view(),
                        &y_train,
                        3,
                        &grid[c],
                        &solver,
                        &transform,
                        9,
                    )
                    .expect("pipeline");
                    let x_val = x.select(Axis(0), &fold.validation);
                    let y_val: Vec<usize> = fold.validation.iter().map(|&i| y[i]).collect();
                    let (_, labels) = pipeline.decide(x_val.view()).expect("decide");
                    assert_eq!(
                        evaluation.metrics,
                        ClassificationMetrics::compute(&y_val, &labels, 3),
                        "{approximation} configuration {c}"
                    );
                    assert!(evaluation.gamma > 0.0);
                }
            }
            let (pipeline, _) =
                LinearPipeline::fit(x.view(), &y, 3, &grid[search.best], &solver, &transform, 9)
                    .expect("refit");
            let (decisions, labels) = pipeline.decide(x.view()).expect("decide");
            let (_, predictions) = search.test.as_ref().expect("test");
            assert_eq!(predictions.labels, labels);
            assert_eq!(predictions.decision_values, decisions);
        }
    }
}
