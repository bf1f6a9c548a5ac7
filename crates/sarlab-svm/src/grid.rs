//! Cross-validated grid search over SVM hyperparameters.

use std::time::Instant;

use linfa::prelude::*;
use ndarray::{Array1, Array2, ArrayView2, Axis};
use rayon::prelude::*;
use sarlab_features::StandardScaler;
use sarlab_features::pca::{Pca, PcaParams};

use crate::error::{Error, Result};
use crate::folds::StratifiedKFold;
use crate::metrics::ClassificationMetrics;
use crate::ovo::{OneVsOneSvm, SvmParams};

/// What is done to the features before the SVM, fitted on the training part only
/// (each CV training fold, or the whole train split for the refit) and applied to the
/// held-out part: standardisation, then PCA — scikit-learn's
/// `make_pipeline(StandardScaler(), PCA(n), SVC())`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FeatureTransform {
    pub standardize: bool,
    pub pca: Option<PcaParams>,
}

/// How configurations are scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CvSettings {
    pub folds: usize,
    pub seed: u64,
    pub transform: FeatureTransform,
}

/// The outcome of training on one set and scoring on another.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub metrics: ClassificationMetrics,
    /// The numeric γ used (resolved from `scale`/`auto` on the training data).
    pub gamma: f64,
    pub support_vectors: usize,
    pub fit_seconds: f64,
    pub predict_seconds: f64,
}

/// Per-fold evaluations of one configuration, in fold order.
#[derive(Debug, Clone, PartialEq)]
pub struct CvOutcome {
    pub params: SvmParams,
    pub folds: Vec<Evaluation>,
}

impl CvOutcome {
    /// Mean and population standard deviation over folds of a metric.
    pub fn mean_std(&self, metric: impl Fn(&ClassificationMetrics) -> f64) -> (f64, f64) {
        let values: Vec<f64> = self.folds.iter().map(|f| metric(&f.metrics)).collect();
        mean_std(&values)
    }
}

pub fn mean_std(values: &[f64]) -> (f64, f64) {
    if values.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// Training and validation matrices of one fold, transformed by a transform fitted on
/// the training part; shared by every configuration.
struct PreparedFold {
    x_train: Array2<f64>,
    y_train: Array1<usize>,
    x_val: Array2<f64>,
    y_val: Vec<usize>,
}

fn prepare(
    x_train: ArrayView2<'_, f64>,
    x_other: ArrayView2<'_, f64>,
    transform: &FeatureTransform,
) -> Result<(Array2<f64>, Array2<f64>)> {
    let (train, other) = if transform.standardize {
        let scaler = StandardScaler::fit(x_train)?;
        (scaler.transform(x_train)?, scaler.transform(x_other)?)
    } else {
        (x_train.to_owned(), x_other.to_owned())
    };
    match transform.pca {
        Some(params) => {
            let pca = Pca::fit(train.view(), params.components, params.whiten)?;
            Ok((pca.transform(train.view())?, pca.transform(other.view())?))
        }
        None => Ok((train, other)),
    }
}

fn check_inputs(x: ArrayView2<'_, f64>, y: &[usize], n_classes: usize) -> Result<()> {
    if x.nrows() != y.len() {
        return Err(Error::LengthMismatch {
            records: x.nrows(),
            labels: y.len(),
        });
    }
    if let Some(&label) = y.iter().find(|&&l| l >= n_classes) {
        return Err(Error::LabelOutOfRange { label, n_classes });
    }
    if let Some(((row, column), &value)) = x.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(sarlab_features::Error::NonFinite { row, column, value }.into());
    }
    Ok(())
}

/// Scores every configuration of `grid` by stratified k-fold cross-validation on
/// `(x, y)`. The folds and their scaling are computed once and shared by all
/// configurations; (configuration, fold) pairs run in parallel. `on_fit` is called
/// after each fold fit. Results are in `grid` order and independent of thread count.
pub fn cross_validate_grid(
    x: ArrayView2<'_, f64>,
    y: &[usize],
    n_classes: usize,
    grid: &[SvmParams],
    settings: &CvSettings,
    on_fit: &(dyn Fn() + Sync),
) -> Result<Vec<CvOutcome>> {
    check_inputs(x, y, n_classes)?;
    for params in grid {
        params.validate()?;
    }
    let folds = StratifiedKFold::new(settings.folds, settings.seed).split(y, n_classes)?;
    let prepared: Vec<PreparedFold> = folds
        .par_iter()
        .map(|fold| {
            let (x_train, x_val) = prepare(
                x.select(Axis(0), &fold.train).view(),
                x.select(Axis(0), &fold.validation).view(),
                &settings.transform,
            )?;
            Ok(PreparedFold {
                x_train,
                y_train: fold.train.iter().map(|&i| y[i]).collect(),
                x_val,
                y_val: fold.validation.iter().map(|&i| y[i]).collect(),
            })
        })
        .collect::<Result<_>>()?;

    let jobs: Vec<(usize, usize)> = (0..grid.len())
        .flat_map(|g| (0..prepared.len()).map(move |f| (g, f)))
        .collect();
    let evaluations: Vec<Evaluation> = jobs
        .par_iter()
        .map(|&(g, f)| {
            let fold = &prepared[f];
            let evaluation = fit_and_score(
                fold.x_train.view(),
                &fold.y_train,
                fold.x_val.view(),
                &fold.y_val,
                n_classes,
                &grid[g],
            )
            .map(|(evaluation, _)| evaluation);
            on_fit();
            evaluation
        })
        .collect::<Result<_>>()?;

    let mut evaluations = evaluations.into_iter();
    Ok(grid
        .iter()
        .map(|params| CvOutcome {
            params: *params,
            folds: evaluations.by_ref().take(prepared.len()).collect(),
        })
        .collect())
}

/// Fits on already prepared training data and scores on `x_test`; returns the
/// evaluation and the predicted labels.
fn fit_and_score(
    x_train: ArrayView2<'_, f64>,
    y_train: &Array1<usize>,
    x_test: ArrayView2<'_, f64>,
    y_test: &[usize],
    n_classes: usize,
    params: &SvmParams,
) -> Result<(Evaluation, Vec<usize>)> {
    let start = Instant::now();
    let model =
        OneVsOneSvm::new(*params, n_classes).fit(&DatasetBase::new(x_train, y_train.clone()))?;
    let fit_seconds = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let predicted = model.predict(&x_test).to_vec();
    let predict_seconds = start.elapsed().as_secs_f64();
    Ok((
        Evaluation {
            metrics: ClassificationMetrics::compute(y_test, &predicted, n_classes),
            gamma: model.gamma,
            support_vectors: model.support_vectors(),
            fit_seconds,
            predict_seconds,
        },
        predicted,
    ))
}

/// Fits a configuration on the whole training split (with the feature transform fitted
/// on it) and scores it on the test split; returns the evaluation and the test
/// predictions.
pub fn refit_and_test(
    x_train: ArrayView2<'_, f64>,
    y_train: &[usize],
    x_test: ArrayView2<'_, f64>,
    y_test: &[usize],
    n_classes: usize,
    params: &SvmParams,
    transform: &FeatureTransform,
) -> Result<(Evaluation, Vec<usize>)> {
    check_inputs(x_train, y_train, n_classes)?;
    check_inputs(x_test, y_test, n_classes)?;
    params.validate()?;
    let (train, test) = prepare(x_train, x_test, transform)?;
    fit_and_score(
        train.view(),
        &Array1::from(y_train.to_vec()),
        test.view(),
        y_test,
        n_classes,
        params,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ovo::Gamma;

    /// Two noisy interleaved classes in 4-D, deterministic.
    fn data() -> (Array2<f64>, Vec<usize>) {
        let n = 60;
        let x = Array2::from_shape_fn((n, 4), |(i, j)| {
            let class = (i % 2) as f64;
            let wobble = ((i * 7 + j * 13) % 11) as f64 / 11.0 - 0.5;
            class * 1.5 + wobble + j as f64 * 100.0
        });
        let y = (0..n).map(|i| i % 2).collect();
        (x, y)
    }

    fn grid() -> Vec<SvmParams> {
        [0.1, 10.0]
            .into_iter()
            .flat_map(|c| {
                [Gamma::Scale, Gamma::Value(0.5)]
                    .into_iter()
                    .map(move |gamma| SvmParams {
                        c,
                        gamma,
                        ..SvmParams::default()
                    })
            })
            .collect()
    }

    #[test]
    fn grid_results_are_ordered_complete_and_deterministic() {
        let (x, y) = data();
        let settings = CvSettings {
            folds: 3,
            seed: 5,
            transform: FeatureTransform {
                standardize: true,
                pca: None,
            },
        };
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let tick = || {
            calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        };
        let a = cross_validate_grid(x.view(), &y, 2, &grid(), &settings, &tick).expect("cv");
        let b = cross_validate_grid(x.view(), &y, 2, &grid(), &settings, &|| {}).expect("cv");
        assert_eq!(calls.into_inner(), 12);
        assert_eq!(a.len(), 4);
        for (outcome, params) in a.iter().zip(grid()) {
            assert_eq!(outcome.params, params);
            assert_eq!(outcome.folds.len(), 3);
        }
        let metrics = |o: &[CvOutcome]| -> Vec<ClassificationMetrics> {
            o.iter()
                .flat_map(|c| c.folds.iter().map(|f| f.metrics))
                .collect()
        };
        assert_eq!(metrics(&a), metrics(&b));
        // The classes are separable after scaling: the best configuration is near perfect.
        let best = a
            .iter()
            .map(|o| o.mean_std(|m| m.accuracy).0)
            .fold(0.0, f64::max);
        assert!(best > 0.9, "best CV accuracy {best}");
    }

    #[test]
    fn refit_scores_the_test_split() {
        let (x, y) = data();
        let (train, test) = (
            x.slice(ndarray::s![..40, ..]),
            x.slice(ndarray::s![40.., ..]),
        );
        let params = SvmParams {
            c: 10.0,
            ..SvmParams::default()
        };
        let (evaluation, predicted) = refit_and_test(
            train,
            &y[..40],
            test,
            &y[40..],
            2,
            &params,
            &FeatureTransform {
                standardize: true,
                pca: None,
            },
        )
        .expect("refit");
        assert_eq!(predicted.len(), 20);
        assert!(evaluation.metrics.accuracy > 0.9, "{evaluation:?}");
    }

    #[test]
    fn non_finite_features_are_rejected() {
        let (mut x, y) = data();
        x[[3, 2]] = f64::INFINITY;
        let settings = CvSettings {
            folds: 3,
            seed: 0,
            transform: FeatureTransform::default(),
        };
        let err = cross_validate_grid(x.view(), &y, 2, &grid(), &settings, &|| {}).unwrap_err();
        assert!(err.to_string().contains("row 3"), "{err}");
    }

    #[test]
    fn the_transform_is_fitted_on_the_training_part_only() {
        let (x, _) = data();
        let transform = FeatureTransform {
            standardize: true,
            pca: Some(PcaParams {
                components: 2,
                whiten: true,
            }),
        };
        let train = x.slice(ndarray::s![..40, ..]);
        let mut other = x.slice(ndarray::s![40.., ..]).to_owned();
        let (a_train, a_other) = prepare(train, other.view(), &transform).expect("prepare");
        // Wild held-out rows must not move the fitted transform.
        other.mapv_inplace(|v| v * 1e3 + 7.0);
        let (b_train, b_other) = prepare(train, other.view(), &transform).expect("prepare");
        assert_eq!(a_train, b_train);
        assert_eq!(a_train.ncols(), 2);
        assert_ne!(a_other, b_other);
        // Whitened training scores have unit variance (ddof 1) per component.
        for column in a_train.columns() {
            let var = column.var(1.0);
            assert!((var - 1.0).abs() < 1e-9, "{var}");
        }
        // Too many components for the features is an error naming `pca`.
        let too_many = FeatureTransform {
            standardize: false,
            pca: Some(PcaParams {
                components: 5,
                whiten: false,
            }),
        };
        let err = prepare(train, other.view(), &too_many).unwrap_err();
        assert!(err.to_string().contains("pca"), "{err}");
    }

    #[test]
    fn mean_std_is_population() {
        assert_eq!(mean_std(&[1.0, 3.0]), (2.0, 1.0));
    }
}
