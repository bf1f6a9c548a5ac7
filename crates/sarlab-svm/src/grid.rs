//! Cross-validated grid search that computes each kernel once.
//!
//! scikit-learn's `GridSearchCV(make_pipeline(StandardScaler(), PCA(), SVC()))` refits
//! the whole pipeline and recomputes kernel values for every (grid point, fold). Here:
//! - the feature transform (standardisation, PCA) is fitted once per training fold and
//!   shared by every C and γ;
//! - one Gram matrix per fold (or one for all folds when no transform is fitted) serves
//!   every kernel and γ;
//! - each kernel matrix is computed once and shared by every C (and every class weight);
//!   without a fold-fitted transform, a kernel whose γ does not depend on the fold serves
//!   all folds, the folds being index views into it;
//! - each fold's transform, Gram matrix and fits form one rayon task, so a core done with
//!   one fold's fits moves on to another fold's transform; the (C, fold) fits sharing a
//!   kernel run in parallel, and each fit trains its pair machines in parallel;
//! - the refit's transform, which does not depend on the winning configuration, is
//!   prepared alongside the cross-validation.
//!
//! Results are in grid order and do not depend on the number of threads.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use ndarray::{Array2, ArrayView2, Axis, CowArray, Ix2, concatenate};
use rayon::prelude::*;
use sarlab_transform::Rows;
use sarlab_transform::moments::Moments;
use sarlab_transform::pca::PcaParams;

use crate::error::{Error, Result};
use crate::folds::StratifiedKFold;
use crate::kernel::{KernelFunction, LowerGram};
use crate::machines::{Machines, check_labelled};
use crate::memory::{KernelMemory, Storage};
use crate::metrics::ClassificationMetrics;
use crate::metrics::confusion_matrix;
use crate::params::SvmParams;
use crate::pipeline::{Classifier, FittedModel, FittedTransform};
use crate::probability::PlattScaling;
use crate::row_cache::KernelRows;
use crate::svc::{Backend, ClassBlocks, Engine, QBuffers, Svc, SvcModel, fit_chain, largest_pair};

/// What is done to the features before the SVM, fitted on the training part only
/// (each CV training fold, or the whole train split for the refit) and applied to the
/// held-out part: standardisation, then PCA — scikit-learn's
/// `make_pipeline(StandardScaler(), PCA(n), SVC())`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FeatureTransform {
    pub standardize: bool,
    /// Factors the standardised features are multiplied by before PCA (a fusion's
    /// block weights, `sarlab_features::FeatureMethod::column_weights`); they need
    /// `standardize`.
    pub column_weights: Option<std::sync::Arc<[f64]>>,
    pub pca: Option<PcaParams>,
}

impl FeatureTransform {
    pub fn is_identity(&self) -> bool {
        !self.standardize && self.pca.is_none()
    }

    /// Refuses column weights without standardisation.
    pub fn validate(&self) -> Result<()> {
        if self.column_weights.is_some() && !self.standardize {
            return Err(Error::InvalidParameter {
                name: "column_weights",
                message: "column weights scale standardised features: they need standardize"
                    .to_owned(),
            });
        }
        Ok(())
    }
}

/// How configurations are scored.
#[derive(Debug, Clone, PartialEq)]
pub struct CvSettings {
    pub folds: usize,
    pub seed: u64,
    pub transform: FeatureTransform,
    pub backend: Backend,
    /// How kernel matrices are held (whole, or rows cached within a budget).
    pub memory: KernelMemory,
}

impl CvSettings {
    pub fn new(folds: usize, seed: u64, transform: FeatureTransform) -> Self {
        Self {
            folds,
            seed,
            transform,
            backend: Backend::Sarlab,
            memory: KernelMemory::Whole,
        }
    }
}

/// The outcome of training on one set and scoring on another.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub metrics: ClassificationMetrics,
    /// The numeric γ used (resolved from `scale`/`auto` on the training data; 0 for
    /// the linear kernel).
    pub gamma: f64,
    /// Distinct training samples that are support vectors of some pair machine.
    pub support_vectors: usize,
    /// Solver iterations summed over the pair machines.
    pub iterations: usize,
    /// Pair machines `(pos, neg)` that stopped at the iteration cap.
    pub capped_pairs: Vec<(usize, usize)>,
    /// Training time: the solver's own time plus this fit's share of the shared
    /// transform, Gram and kernel computations.
    pub fit_seconds: f64,
    pub predict_seconds: f64,
    /// `confusion[[true, predicted]]` over the scored samples: per-class views of a
    /// cross-validation pool the folds' matrices.
    pub confusion: Array2<usize>,
    /// The training kernel's rows were computed on demand into a bounded cache (the
    /// memory budget did not hold it whole); the answers are the same either way.
    pub cached_kernel: bool,
}

/// A fitted configuration's answers on the samples it scored.
#[derive(Debug, Clone, PartialEq)]
pub struct TestPredictions {
    /// The predicted class of every sample.
    pub labels: Vec<usize>,
    /// Samples × pair machines: the one-vs-one decision values that voted for
    /// `labels` (see [`crate::SvcModel::decision_function`] for the pair order and sign).
    pub decision_values: Array2<f64>,
}

impl Evaluation {
    /// A warning for each pair machine that hit the iteration cap.
    pub fn warnings(&self) -> Vec<String> {
        if self.capped_pairs.is_empty() {
            return Vec::new();
        }
        let mut pairs: Vec<String> = self
            .capped_pairs
            .iter()
            .take(4)
            .map(|(pos, neg)| format!("{pos} vs {neg}"))
            .collect();
        if self.capped_pairs.len() > 4 {
            pairs.push("…".to_owned());
        }
        vec![format!(
            "{} binary machine(s) stopped at the iteration cap before reaching the tolerance (classes {}); raise max_iterations or loosen the tolerance",
            self.capped_pairs.len(),
            pairs.join(", ")
        )]
    }
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

    /// Mean and population standard deviation of a metric given by name.
    pub fn mean_std_of(&self, name: &str) -> (f64, f64) {
        self.mean_std(|m| m.get(name).unwrap_or(f64::NAN))
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

/// Fits the transform on `x_train` and applies it to both parts.
pub fn prepare(
    x_train: ArrayView2<'_, f64>,
    x_other: ArrayView2<'_, f64>,
    transform: &FeatureTransform,
) -> Result<(Array2<f64>, Array2<f64>)> {
    let fitted = FittedTransform::fit(Rows::all(x_train), transform)?;
    Ok((
        fitted.apply(Rows::all(x_train))?,
        fitted.apply(Rows::all(x_other))?,
    ))
}

/// Rows sharing one Gram matrix, and the folds that index into them.
struct Base<'a, 'y> {
    rows: CowArray<'a, f64, Ix2>,
    labels: Cow<'y, [usize]>,
    folds: Vec<FoldView>,
    /// Seconds spent fitting the transform for these rows.
    transform_seconds: f64,
}

/// One fold as index lists into its base's rows.
struct FoldView {
    index: usize,
    train: Vec<usize>,
    validation: Vec<usize>,
}

/// Bits that identify a resolved kernel, for sharing.
type KernelKey = (u8, u64, u32, u64);

fn kernel_key(f: &KernelFunction) -> KernelKey {
    (
        f.kernel as u8,
        f.gamma.to_bits(),
        f.degree,
        f.coef0.to_bits(),
    )
}

/// One (configuration, fold) fit just scored, as the progress callback of
/// [`cross_validate_grid`] and [`grid_search`] sees it.
#[derive(Debug, Clone, Copy)]
pub struct FitDone<'e> {
    /// Index into the grid.
    pub configuration: usize,
    pub fold: usize,
    pub evaluation: &'e Evaluation,
}

/// Scores every configuration of `grid` by stratified k-fold cross-validation on
/// `(x, y)`. `on_fit` is called after each (configuration, fold) fit, with its scores.
pub fn cross_validate_grid(
    x: ArrayView2<'_, f64>,
    y: &[usize],
    n_classes: usize,
    grid: &[SvmParams],
    settings: &CvSettings,
    on_fit: &(dyn Fn(FitDone<'_>) + Sync),
) -> Result<Vec<CvOutcome>> {
    cross_validate(x, y, &[], n_classes, (grid, settings), on_fit, |_| ())
        .map(|(outcomes, ())| outcomes)
}

/// [`cross_validate_grid`] on a training split with augmented copies: the first
/// `y.len() - copy_of.len()` rows of `x` are the chips, row `originals + j` is a copy of
/// row `copy_of[j]` (with its label in `y`). Folds are drawn over the chips alone; a
/// copy joins the training part of every fold its chip is trained in and is never
/// validated on, so no fold is scored on a chip it saw a copy of.
pub fn cross_validate_grid_with_copies(
    x: ArrayView2<'_, f64>,
    y: &[usize],
    copy_of: &[usize],
    n_classes: usize,
    grid: &[SvmParams],
    settings: &CvSettings,
    on_fit: &(dyn Fn(FitDone<'_>) + Sync),
) -> Result<Vec<CvOutcome>> {
    cross_validate(x, y, copy_of, n_classes, (grid, settings), on_fit, |_| ())
        .map(|(outcomes, ())| outcomes)
}

/// Whether the configurations name the linear solver (all of them) or libsvm's SMO
/// (all of them): one search does not mix the two, whose scores are of different models.
pub(crate) fn uses_linear_solver(grid: &[SvmParams]) -> Result<bool> {
    let linear = grid.iter().filter(|p| p.linear_solver.is_some()).count();
    match linear {
        0 => Ok(false),
        n if n == grid.len() => Ok(true),
        _ => Err(Error::InvalidParameter {
            name: "solver",
            message: format!(
                "{linear} of {} configurations name the linear solver: a search uses one solver for all",
                grid.len()
            ),
        }),
    }
}

/// Stratified folds over the chips (`y[..originals]`), each fold's training part
/// extended by the copies of its chips (`copy_of`, rows from `originals` on).
fn folds_with_copies(
    y: &[usize],
    copy_of: &[usize],
    n_classes: usize,
    settings: &CvSettings,
) -> Result<Vec<crate::folds::Fold>> {
    let originals = y.len().checked_sub(copy_of.len()).ok_or_else(|| {
        Error::Shape(format!(
            "{} copies but only {} rows",
            copy_of.len(),
            y.len()
        ))
    })?;
    if let Some((j, &o)) = copy_of
        .iter()
        .enumerate()
        .find(|&(j, &o)| o >= originals || y[originals + j] != y[o])
    {
        return Err(Error::Shape(format!(
            "row {} is a copy of row {o}, which is not a chip of the same class (the first {originals} rows are the chips)",
            originals + j
        )));
    }
    let mut folds =
        StratifiedKFold::new(settings.folds, settings.seed).split(&y[..originals], n_classes)?;
    if copy_of.is_empty() {
        return Ok(folds);
    }
    let mut trained = vec![false; originals];
    for fold in &mut folds {
        trained.fill(false);
        for &i in &fold.train {
            trained[i] = true;
        }
        fold.train.extend(
            copy_of
                .iter()
                .enumerate()
                .filter(|&(_, &o)| trained[o])
                .map(|(j, _)| originals + j),
        );
    }
    Ok(folds)
}

/// [`cross_validate_grid`], running `alongside` in parallel with the fits once the
/// training split's moments are known (`Some` when the transform is fitted from them:
/// fits it for the whole training split). The refit's transform is prepared there, so
/// that it fills the cores while the folds' work trails off.
fn cross_validate<R: Send>(
    x: ArrayView2<'_, f64>,
    y: &[usize],
    copy_of: &[usize],
    n_classes: usize,
    (grid, settings): (&[SvmParams], &CvSettings),
    on_fit: &(dyn Fn(FitDone<'_>) + Sync),
    alongside: impl FnOnce(Option<&Moments>) -> R + Send,
) -> Result<(Vec<CvOutcome>, R)> {
    check_labelled(x, y, n_classes)?;
    for params in grid {
        params.validate()?;
    }
    let folds = folds_with_copies(y, copy_of, n_classes, settings)?;
    if uses_linear_solver(grid)? {
        let outcomes = crate::linear_grid::cross_validate_linear(
            x, y, &folds, n_classes, grid, settings, on_fit,
        )?;
        return Ok((outcomes, alongside(None)));
    }
    let mut results: Vec<Vec<Option<Evaluation>>> = vec![vec![None; folds.len()]; grid.len()];

    let (evaluations, side) = if settings.backend == Backend::Linfa {
        let jobs: Vec<(usize, usize)> = (0..grid.len())
            .flat_map(|g| (0..folds.len()).map(move |f| (g, f)))
            .collect();
        let evaluations = jobs
            .par_iter()
            .map(|&(g, f)| {
                let fold = &folds[f];
                let (train, validation) = prepare(
                    x.select(Axis(0), &fold.train).view(),
                    x.select(Axis(0), &fold.validation).view(),
                    &settings.transform,
                )?;
                let y_train: Vec<usize> = fold.train.iter().map(|&i| y[i]).collect();
                let y_val: Vec<usize> = fold.validation.iter().map(|&i| y[i]).collect();
                let svc = Svc::new(grid[g].clone(), n_classes).with_backend(Backend::Linfa);
                let (evaluation, _) =
                    fit_and_score(&svc, train.view(), &y_train, validation.view(), &y_val)?;
                on_fit(FitDone {
                    configuration: g,
                    fold: f,
                    evaluation: &evaluation,
                });
                Ok(((g, f), evaluation))
            })
            .collect::<Result<Vec<_>>>()?;
        (evaluations, alongside(None))
    } else if settings.transform.is_identity() {
        let base = Base {
            rows: CowArray::from(x),
            labels: Cow::Borrowed(y),
            folds: folds
                .iter()
                .enumerate()
                .map(|(index, f)| FoldView {
                    index,
                    train: f.train.clone(),
                    validation: f.validation.clone(),
                })
                .collect(),
            transform_seconds: 0.0,
        };
        let (evaluations, side) = rayon::join(
            || run_base(&base, n_classes, grid, settings.memory, 1, on_fit),
            || alongside(None),
        );
        (evaluations?, side)
    } else {
        let start = Instant::now();
        let moments = split_moments(x, &folds, &settings.transform)?;
        let moments_share = start.elapsed().as_secs_f64() / folds.len().max(1) as f64;
        // Each fold's transform, Gram matrix and fits form one task, so a core that
        // finishes its fold's fits moves on to another fold's transform instead of
        // waiting for every transform to be done.
        let (evaluations, side) = rayon::join(
            || {
                folds
                    .par_iter()
                    .enumerate()
                    .map(|(index, fold)| {
                        let base =
                            fold_base(x, y, index, fold, moments.as_ref(), &settings.transform)?;
                        let base = Base {
                            transform_seconds: base.transform_seconds + moments_share,
                            ..base
                        };
                        let in_flight = folds.len().min(rayon::current_num_threads());
                        run_base(&base, n_classes, grid, settings.memory, in_flight, on_fit)
                    })
                    .collect::<Result<Vec<_>>>()
            },
            || alongside(moments.as_ref()),
        );
        (evaluations?.into_iter().flatten().collect(), side)
    };
    for ((g, f), evaluation) in evaluations {
        results[g][f] = Some(evaluation);
    }

    Ok((outcomes_of(grid, results), side))
}

/// The outcome of every configuration from its per-fold evaluations
/// (`results[configuration][fold]`), each of which must have been filled in.
pub(crate) fn outcomes_of(
    grid: &[SvmParams],
    results: Vec<Vec<Option<Evaluation>>>,
) -> Vec<CvOutcome> {
    grid.iter()
        .zip(results)
        .map(|(params, folds)| CvOutcome {
            params: params.clone(),
            folds: folds
                .into_iter()
                .map(|e| e.expect("every fold evaluated"))
                .collect(),
        })
        .collect()
}

/// Fold `index`'s base: the transform fitted on its training part (from the whole
/// split's moments less the fold's when given) and applied to `[train; validation]`.
fn fold_base<'y>(
    x: ArrayView2<'_, f64>,
    y: &[usize],
    index: usize,
    fold: &crate::folds::Fold,
    split: Option<&Moments>,
    transform: &FeatureTransform,
) -> Result<Base<'static, 'y>> {
    let start = Instant::now();
    let fitted = match split {
        Some(whole) => {
            // Everything not trained on: the validation chips and, with augmentation,
            // their copies.
            let held_out = if fold.train.len() + fold.validation.len() == x.nrows() {
                Cow::Borrowed(&fold.validation)
            } else {
                let mut trained = vec![false; x.nrows()];
                for &i in &fold.train {
                    trained[i] = true;
                }
                Cow::Owned((0..x.nrows()).filter(|&i| !trained[i]).collect::<Vec<_>>())
            };
            let held_out = Moments::of_rows(Rows::subset(x, &held_out)?, whole.shift())?;
            FittedTransform::from_moments(&Moments::rest(whole, held_out)?, transform)?
        }
        None => FittedTransform::fit(Rows::subset(x, &fold.train)?, transform)?,
    };
    // Training rows grouped by class (ascending within a class, so each pair machine
    // sees libsvm's layout): the class blocks are then contiguous prefixes of the Gram
    // rows.
    let mut by_class = fold.train.clone();
    by_class.sort_by_key(|&i| (y[i], i));
    let train = fitted.apply(Rows::subset(x, &by_class)?)?;
    let validation = fitted.apply(Rows::subset(x, &fold.validation)?)?;
    let n_train = train.nrows();
    let rows = concatenate(Axis(0), &[train.view(), validation.view()])
        .map_err(|e| Error::Shape(e.to_string()))?;
    let labels: Vec<usize> = by_class
        .iter()
        .chain(&fold.validation)
        .map(|&i| y[i])
        .collect();
    Ok(Base {
        folds: vec![FoldView {
            index,
            train: (0..n_train).collect(),
            validation: (n_train..rows.nrows()).collect(),
        }],
        rows: CowArray::from(rows),
        labels: Cow::Owned(labels),
        transform_seconds: start.elapsed().as_secs_f64(),
    })
}

/// The moments of the whole training split about its mean, when the transform is
/// fitted from moments (see [`FittedTransform::uses_moments`]): fold `f`'s training set
/// is the split less fold `f`, whose moments each fold takes itself, so that only one
/// `d × d` scatter per fold in flight is held rather than one per fold.
fn split_moments(
    x: ArrayView2<'_, f64>,
    folds: &[crate::folds::Fold],
    transform: &FeatureTransform,
) -> Result<Option<Moments>> {
    let smallest_train = folds.iter().map(|f| f.train.len()).min().unwrap_or(0);
    if !FittedTransform::uses_moments(transform, smallest_train, x.ncols()) {
        return Ok(None);
    }
    let rows = Rows::all(x);
    let shift = rows.mean().ok_or(sarlab_transform::Error::NoRows)?;
    Ok(Some(Moments::of_rows(rows, shift.view())?))
}

/// Bytes the whole-kernel path holds for a base at its peak: the packed Gram matrix,
/// and per kernel the class blocks and validation kernel of every fold it serves.
fn whole_kernel_bytes(base: &Base<'_, '_>, threads: usize) -> f64 {
    let n = base.rows.nrows() as f64;
    let gram = n * (n + 1.0) / 2.0 * 8.0;
    let folds: f64 = base
        .folds
        .iter()
        .map(|f| {
            let (m, v) = (f.train.len() as f64, f.validation.len() as f64);
            m * m * 4.0 + v * m * 8.0
        })
        .sum();
    // A pair machine's Q per thread: at most the largest fold's training rows.
    let largest = base.folds.iter().map(|f| f.train.len()).max().unwrap_or(0) as f64;
    gram + folds + threads as f64 * largest * largest * 4.0
}

/// A fold's training kernel and what scores its validation samples.
enum FoldKernel {
    /// Blocks held whole and the validation × training kernel.
    Whole(ClassBlocks, Array2<f64>),
    /// Blocks on cached rows; validation decisions computed against the support
    /// vectors in row blocks.
    Cached(ClassBlocks),
}

/// Evaluates every (configuration, fold) of one base; returns them keyed by
/// (configuration, fold index). `in_flight` bases share `memory`.
fn run_base(
    base: &Base<'_, '_>,
    n_classes: usize,
    grid: &[SvmParams],
    memory: KernelMemory,
    in_flight: usize,
    on_fit: &(dyn Fn(FitDone<'_>) + Sync),
) -> Result<Vec<((usize, usize), Evaluation)>> {
    let mut results = Vec::with_capacity(grid.len() * base.folds.len());
    let start = Instant::now();
    let rows = base.rows.view();
    let threads = rayon::current_num_threads();
    let fixed = (rows.len() * 8) as f64;
    let storage = memory.storage(whole_kernel_bytes(base, threads), fixed, in_flight);
    let gram = match storage {
        Storage::Whole => Some(LowerGram::new(rows)),
        Storage::Cached { .. } => None,
    };
    let gram_seconds = start.elapsed().as_secs_f64();
    // Jobs grouped by the kernel they need, in a deterministic order.
    let mut groups: BTreeMap<KernelKey, (KernelFunction, Vec<(usize, usize)>)> = BTreeMap::new();
    for (g, params) in grid.iter().enumerate() {
        for (f, fold) in base.folds.iter().enumerate() {
            let kernel = params.kernel_function(rows, Some(&fold.train));
            groups
                .entry(kernel_key(&kernel))
                .or_insert_with(|| (kernel, Vec::new()))
                .1
                .push((g, f));
        }
    }
    let total_jobs = grid.len() * base.folds.len();
    let shared_per_job = (gram_seconds + base.transform_seconds * base.folds.len() as f64)
        / total_jobs.max(1) as f64;
    let fold_labels: Vec<Vec<usize>> = base
        .folds
        .iter()
        .map(|fold| fold.train.iter().map(|&i| base.labels[i]).collect())
        .collect();
    let validation_labels: Vec<Vec<usize>> = base
        .folds
        .iter()
        .map(|fold| fold.validation.iter().map(|&i| base.labels[i]).collect())
        .collect();
    // The rows of one kernel's cache, refilled by the next kernel's.
    let mut spare_rows = Vec::new();
    for (kernel, jobs) in groups.into_values() {
        let start = Instant::now();
        let mut folds_used: Vec<usize> = jobs.iter().map(|&(_, f)| f).collect();
        folds_used.sort_unstable();
        folds_used.dedup();
        // One cache of this kernel's rows serves every fold it is used by: its rows
        // are the samples some of those folds train on (`position[r]` for base row r),
        // so no row carries columns no fold reads.
        let mut whole_pairs = false;
        let (cached_rows, position) = match storage {
            Storage::Cached { cache_bytes } => {
                let mut trained = vec![false; rows.nrows()];
                for &f in &folds_used {
                    for &r in &base.folds[f].train {
                        trained[r] = true;
                    }
                }
                let members: Vec<usize> = (0..rows.nrows()).filter(|&r| trained[r]).collect();
                let mut position = vec![usize::MAX; rows.nrows()];
                for (p, &r) in members.iter().enumerate() {
                    position[r] = p;
                }
                // When one pair machine's `Q` per thread fits the cache's bytes, each is
                // computed whole by one GEMM over its own samples instead of row by row
                // against every sample (the same bits, far fewer operations).
                let largest_pair = folds_used
                    .iter()
                    .map(|&f| largest_pair(&fold_labels[f], n_classes))
                    .fold(0.0, f64::max);
                whole_pairs = threads as f64 * largest_pair <= cache_bytes as f64;
                let subset = rows.select(Axis(0), &members);
                let spare = std::mem::take(&mut spare_rows);
                let cache = KernelRows::with_spare_rows(subset.view(), kernel, cache_bytes, spare);
                (Some(Arc::new(cache)), position)
            }
            Storage::Whole => (None, Vec::new()),
        };
        // Per fold: the training kernel as class blocks, and the kernel between the
        // validation and the training samples, both straight from the Gram matrix.
        let blocks: BTreeMap<usize, FoldKernel> = folds_used
            .iter()
            .map(|&f| {
                let fold = &base.folds[f];
                let labels = &fold_labels[f];
                let kernels = match (&gram, &cached_rows) {
                    (Some(gram), _) => FoldKernel::Whole(
                        ClassBlocks::from_lower_gram(
                            gram,
                            &fold.train,
                            labels,
                            n_classes,
                            &kernel,
                        )?,
                        validation_kernel(gram, &kernel, fold)?,
                    ),
                    (None, Some(cache)) => {
                        let samples: Vec<usize> = fold.train.iter().map(|&r| position[r]).collect();
                        FoldKernel::Cached(ClassBlocks::from_kernel_rows(
                            Arc::clone(cache),
                            &samples,
                            labels,
                            n_classes,
                            whole_pairs,
                        )?)
                    }
                    (None, None) => unreachable!("a Gram matrix or a row cache"),
                };
                Ok((f, kernels))
            })
            .collect::<Result<_>>()?;
        let kernel_share = start.elapsed().as_secs_f64() / jobs.len() as f64;
        // Chains of jobs on one fold whose parameters differ only in C, in ascending C:
        // each pair machine's `Q` is built once for the chain, and each fit may reuse
        // the pair machines of the one before (exactly, see `fit_class_blocks_over_c`).
        let mut chains: Vec<(usize, Vec<usize>)> = Vec::new();
        for &(g, f) in &jobs {
            match chains
                .iter_mut()
                .find(|(cf, gs)| *cf == f && grid[gs[0]].differs_only_in_c(&grid[g]))
            {
                Some((_, gs)) => gs.push(g),
                None => chains.push((f, vec![g])),
            }
        }
        for (_, gs) in &mut chains {
            gs.sort_by(|&a, &b| grid[a].c.total_cmp(&grid[b].c).then(a.cmp(&b)));
        }
        let q_buffers = QBuffers::default();
        let evaluations = chains
            .par_iter()
            .map(|(f, gs)| {
                let fold = &base.folds[*f];
                let fold_blocks = match &blocks[f] {
                    FoldKernel::Whole(b, _) | FoldKernel::Cached(b) => b,
                };
                let chain: Vec<SvmParams> = gs.iter().map(|&g| grid[g].clone()).collect();
                let fits = fit_chain(fold_blocks, &chain, &q_buffers)?;
                let mut out = Vec::with_capacity(gs.len());
                for (&g, (machines, seconds)) in gs.iter().zip(fits) {
                    let fit_seconds = seconds + kernel_share + shared_per_job;
                    let start = Instant::now();
                    let decisions = match &blocks[f] {
                        FoldKernel::Whole(_, validation_kernel) => {
                            machines.decisions(validation_kernel.view())
                        }
                        FoldKernel::Cached(_) => SvcModel::from_machines_at(
                            rows,
                            &fold.train,
                            machines.clone(),
                            kernel,
                            0.0,
                        )
                        .decision_function(rows.select(Axis(0), &fold.validation).view())?,
                    };
                    let predicted = machines.vote(decisions.view());
                    let predict_seconds = start.elapsed().as_secs_f64();
                    let scored = evaluation(
                        &machines,
                        &kernel,
                        &validation_labels[*f],
                        &predicted,
                        fit_seconds,
                        predict_seconds,
                        fold_blocks.is_cached(),
                    );
                    on_fit(FitDone {
                        configuration: g,
                        fold: fold.index,
                        evaluation: &scored,
                    });
                    out.push(((g, *f), scored));
                }
                Ok(out)
            })
            .collect::<Result<Vec<_>>>()?;
        results.extend(
            evaluations
                .into_iter()
                .flatten()
                .map(|((g, f), evaluation)| ((g, base.folds[f].index), evaluation)),
        );
        drop(blocks);
        if let Some(cache) = cached_rows.and_then(|c| Arc::try_unwrap(c).ok()) {
            spare_rows = cache.into_spare_rows();
        }
    }
    Ok(results)
}

/// The kernel between a fold's validation samples (rows) and its training samples
/// (columns), from the Gram matrix.
fn validation_kernel(
    gram: &LowerGram,
    kernel: &KernelFunction,
    fold: &FoldView,
) -> Result<Array2<f64>> {
    let sq_train: Vec<f64> = fold.train.iter().map(|&t| gram.sq_norms[t]).collect();
    let width = fold.train.len();
    let mut k = vec![0.0; fold.validation.len() * width];
    k.par_chunks_mut(width.max(1))
        .zip(&fold.validation)
        .for_each(|(row, &v)| {
            for (d, &t) in row.iter_mut().zip(&fold.train) {
                *d = gram.dot(v, t);
            }
            kernel.apply_to_row(row, gram.sq_norms[v], &sq_train);
        });
    kernel.check_values(&k, "the validation and the training samples")?;
    Ok(Array2::from_shape_vec((fold.validation.len(), width), k).expect("rows × train"))
}

fn evaluation(
    machines: &Machines,
    kernel: &KernelFunction,
    y_true: &[usize],
    predicted: &[usize],
    fit_seconds: f64,
    predict_seconds: f64,
    cached_kernel: bool,
) -> Evaluation {
    Evaluation {
        cached_kernel,
        metrics: ClassificationMetrics::compute(y_true, predicted, machines.n_classes),
        gamma: kernel.gamma,
        support_vectors: machines.support_vector_count(),
        iterations: machines.pairs.iter().map(|m| m.iterations).sum(),
        capped_pairs: machines.capped(),
        fit_seconds,
        predict_seconds,
        confusion: confusion_matrix(y_true, predicted, machines.n_classes),
    }
}

/// Fits on prepared training rows and scores on prepared test rows; returns the
/// evaluation and the predictions with their decision values.
fn fit_and_score(
    svc: &Svc,
    x_train: ArrayView2<'_, f64>,
    y_train: &[usize],
    x_test: ArrayView2<'_, f64>,
    y_test: &[usize],
) -> Result<(Evaluation, TestPredictions)> {
    let cached = svc.caches_kernel(x_train, y_train);
    let model = svc.fit_rows(x_train, y_train)?;
    let start = Instant::now();
    let decision_values = model.decision_function(x_test)?;
    let labels = model.machines.vote(decision_values.view());
    let predict_seconds = start.elapsed().as_secs_f64();
    Ok((
        evaluation(
            &model.machines,
            &model.kernel,
            y_test,
            &labels,
            model.fit_seconds,
            predict_seconds,
            cached,
        ),
        TestPredictions {
            labels,
            decision_values,
        },
    ))
}

/// A configuration refit on the whole training split and scored on the test split.
#[derive(Debug, Clone)]
pub struct Refit {
    pub evaluation: Evaluation,
    pub predictions: TestPredictions,
    /// The fitted transform and machines, which made `predictions`
    /// ([`FittedModel::decide`] on the test features).
    pub model: FittedModel,
}

/// Fits a configuration on the whole training split (with the feature transform fitted
/// on it) and scores it on the test split.
#[allow(clippy::too_many_arguments)]
pub fn refit_and_test(
    x_train: ArrayView2<'_, f64>,
    y_train: &[usize],
    x_test: ArrayView2<'_, f64>,
    y_test: &[usize],
    n_classes: usize,
    params: &SvmParams,
    transform: &FeatureTransform,
    engine: impl Into<Engine>,
    probability: Option<u64>,
) -> Result<Refit> {
    refit_and_test_staged(
        CowArray::from(x_train),
        y_train,
        || Ok::<_, Error>(CowArray::from(x_test)),
        y_test,
        n_classes,
        params,
        transform,
        engine,
        probability,
    )
}

/// [`refit_and_test`] when the two splits' features are too large to hold together:
/// the training features are transformed, fitted and dropped before `test_features`
/// makes the test split's, so that only one split's features exist at a time (when
/// they are owned; views are borrowed as they are). The test split is decided by
/// [`FittedModel::decide`], exactly as a saved model decides new chips. With
/// `probability` (a seed), Platt sigmoids are fitted by internal cross-validation on
/// the transformed training rows ([`PlattScaling::fit`]).
#[allow(clippy::too_many_arguments)]
pub fn refit_and_test_staged<'t, E: From<Error>>(
    x_train: CowArray<'_, f64, Ix2>,
    y_train: &[usize],
    test_features: impl FnOnce() -> std::result::Result<CowArray<'t, f64, Ix2>, E>,
    y_test: &[usize],
    n_classes: usize,
    params: &SvmParams,
    transform: &FeatureTransform,
    engine: impl Into<Engine>,
    probability: Option<u64>,
) -> std::result::Result<Refit, E> {
    check_labelled(x_train.view(), y_train, n_classes)?;
    params.validate()?;
    if params.linear_solver.is_some() {
        if probability.is_some() {
            return Err(Error::InvalidParameter {
                name: "probability",
                message: "the linear solver fits no Platt sigmoids (LinearSVC has no predict_proba): turn probability off".to_owned(),
            }
            .into());
        }
        return crate::linear_grid::refit_linear_staged(
            x_train,
            y_train,
            test_features,
            y_test,
            n_classes,
            params,
            transform,
        );
    }
    let start = Instant::now();
    let fitted = FittedTransform::fit(Rows::all(x_train.view()), transform)?;
    let train = fitted.apply(Rows::all(x_train.view()))?;
    let transform_seconds = start.elapsed().as_secs_f64();
    let input_len = x_train.ncols();
    drop(x_train);
    let svc = Svc::new(params.clone(), n_classes).with_engine(engine);
    let cached = svc.caches_kernel(train.view(), y_train);
    let svc = svc.fit_rows(train.view(), y_train)?;
    let platt = match probability {
        Some(seed) => Some(PlattScaling::fit(
            train.view(),
            y_train,
            &svc.machines,
            &svc.kernel,
            params,
            seed,
        )?),
        None => None,
    };
    drop(train);
    let model = FittedModel {
        transform: fitted,
        classifier: Classifier::Svc(svc),
        input_len,
        platt,
    };
    let x_test = test_features()?;
    check_labelled(x_test.view(), y_test, n_classes)?;
    let start = Instant::now();
    let decisions = model.decide(x_test.view())?;
    let predict_seconds = start.elapsed().as_secs_f64();
    drop(x_test);
    let Classifier::Svc(svc) = &model.classifier else {
        unreachable!("the kernel SVM's refit holds a C-SVC");
    };
    let evaluation = evaluation(
        &svc.machines,
        &svc.kernel,
        y_test,
        &decisions.labels,
        svc.fit_seconds + transform_seconds,
        predict_seconds,
        cached,
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

/// The train and test splits transformed by the transform fitted on the train split
/// (from its moments when given), and the seconds this took.
fn transformed_split(
    x_train: ArrayView2<'_, f64>,
    x_test: ArrayView2<'_, f64>,
    split: Option<&Moments>,
    transform: &FeatureTransform,
) -> Result<(Array2<f64>, Array2<f64>, f64)> {
    let start = Instant::now();
    let fitted = match split {
        Some(whole) => FittedTransform::from_moments(whole, transform)?,
        None => FittedTransform::fit(Rows::all(x_train), transform)?,
    };
    let (train, test) = (
        fitted.apply(Rows::all(x_train))?,
        fitted.apply(Rows::all(x_test))?,
    );
    Ok((train, test, start.elapsed().as_secs_f64()))
}

/// The refit on already transformed splits; `transform_seconds` is added to the
/// recorded fit time.
#[allow(clippy::too_many_arguments)]
fn refit_transformed(
    train: ArrayView2<'_, f64>,
    y_train: &[usize],
    test: ArrayView2<'_, f64>,
    y_test: &[usize],
    n_classes: usize,
    params: &SvmParams,
    transform_seconds: f64,
    engine: Engine,
) -> Result<(Evaluation, TestPredictions)> {
    let svc = Svc::new(params.clone(), n_classes).with_engine(engine);
    let (mut evaluation, predicted) = fit_and_score(&svc, train, y_train, test, y_test)?;
    evaluation.fit_seconds += transform_seconds;
    Ok((evaluation, predicted))
}

/// A whole grid search: CV scores, the best configuration by a metric, and its refit on
/// all training data scored on the test split when one is given.
#[derive(Debug, Clone)]
pub struct GridSearch {
    pub outcomes: Vec<CvOutcome>,
    /// Index into `outcomes` of the best mean CV score (the first on ties, as
    /// scikit-learn's `best_index_`).
    pub best: usize,
    pub metric: String,
    pub test: Option<(Evaluation, TestPredictions)>,
}

/// What every grid search checks first: a known `metric`, a configuration to search,
/// and a test split labelled within `n_classes`.
pub(crate) fn check_search(
    grid: &[SvmParams],
    metric: &str,
    test: Option<(ArrayView2<'_, f64>, &[usize])>,
    n_classes: usize,
) -> Result<()> {
    if !crate::metrics::METRIC_NAMES.contains(&metric) {
        return Err(Error::InvalidParameter {
            name: "metric",
            message: format!(
                "`{metric}` is not one of {}",
                crate::metrics::METRIC_NAMES.join(", ")
            ),
        });
    }
    if grid.is_empty() {
        return Err(Error::InvalidParameter {
            name: "grid",
            message: "no configurations to search".to_owned(),
        });
    }
    if let Some((x_test, y_test)) = test {
        check_labelled(x_test, y_test, n_classes)?;
    }
    Ok(())
}

/// The index of the best mean CV `metric` (the first on ties, as scikit-learn's
/// `best_index_`).
pub(crate) fn best_outcome(outcomes: &[CvOutcome], metric: &str) -> usize {
    let mut best = 0;
    let mut best_score = f64::NEG_INFINITY;
    for (i, outcome) in outcomes.iter().enumerate() {
        let score = outcome.mean_std_of(metric).0;
        if score > best_score {
            best = i;
            best_score = score;
        }
    }
    best
}

/// Runs [`cross_validate_grid`], picks the best configuration by the mean CV value of
/// `metric` (a name from [`crate::METRIC_NAMES`]) and refits it on `(x, y)` to score
/// `test` if given.
#[allow(clippy::too_many_arguments)]
pub fn grid_search(
    x: ArrayView2<'_, f64>,
    y: &[usize],
    test: Option<(ArrayView2<'_, f64>, &[usize])>,
    n_classes: usize,
    grid: &[SvmParams],
    settings: &CvSettings,
    metric: &str,
    on_fit: &(dyn Fn(FitDone<'_>) + Sync),
) -> Result<GridSearch> {
    check_search(grid, metric, test, n_classes)?;
    if uses_linear_solver(grid)? {
        let (outcomes, ()) =
            cross_validate(x, y, &[], n_classes, (grid, settings), on_fit, |_| ())?;
        let best = best_outcome(&outcomes, metric);
        let test = match test {
            Some((x_test, y_test)) => {
                let refit = crate::linear_grid::refit_linear_staged(
                    CowArray::from(x),
                    y,
                    || Ok::<_, Error>(CowArray::from(x_test)),
                    y_test,
                    n_classes,
                    &grid[best],
                    &settings.transform,
                )?;
                Some((refit.evaluation, refit.predictions))
            }
            None => None,
        };
        return Ok(GridSearch {
            outcomes,
            best,
            metric: metric.to_owned(),
            test,
        });
    }
    // The refit's transform does not depend on which configuration wins: it is prepared
    // alongside the cross-validation.
    let (outcomes, transformed) =
        cross_validate(x, y, &[], n_classes, (grid, settings), on_fit, |moments| {
            test.map(|(x_test, _)| transformed_split(x, x_test, moments, &settings.transform))
        })?;
    let best = best_outcome(&outcomes, metric);
    let test = match (test, transformed) {
        (Some((_, y_test)), Some(transformed)) => {
            let (train, test, transform_seconds) = transformed?;
            Some(refit_transformed(
                train.view(),
                y,
                test.view(),
                y_test,
                n_classes,
                &grid[best],
                transform_seconds,
                Engine {
                    backend: settings.backend,
                    memory: settings.memory,
                },
            )?)
        }
        _ => None,
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
    use crate::kernel::{Gamma, Kernel};
    use sarlab_transform::pca::PcaSolver;

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

    fn standardized() -> CvSettings {
        CvSettings::new(
            3,
            5,
            FeatureTransform {
                column_weights: None,
                standardize: true,
                pca: None,
            },
        )
    }

    #[test]
    fn grid_results_are_ordered_complete_and_deterministic() {
        let (x, y) = data();
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let tick = |_: FitDone<'_>| {
            calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        };
        let a = cross_validate_grid(x.view(), &y, 2, &grid(), &standardized(), &tick).expect("cv");
        let b =
            cross_validate_grid(x.view(), &y, 2, &grid(), &standardized(), &|_| {}).expect("cv");
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
    fn shared_kernels_equal_separate_fits() {
        // Every (configuration, fold) of the shared-kernel search equals a fit on the
        // copied fold data, with and without a fold-fitted transform.
        let (x, y) = data();
        let folds = StratifiedKFold::new(3, 9).split(&y, 2).expect("split");
        for transform in [
            FeatureTransform::default(),
            FeatureTransform {
                column_weights: None,
                standardize: true,
                pca: Some(PcaParams {
                    components: 3,
                    whiten: false,
                    solver: PcaSolver::Exact,
                }),
            },
            FeatureTransform {
                column_weights: None,
                standardize: true,
                pca: Some(PcaParams {
                    components: 2,
                    whiten: false,
                    solver: PcaSolver::Randomized { seed: 1 },
                }),
            },
        ] {
            let settings = CvSettings::new(3, 9, transform);
            let mut grid = grid();
            grid.push(SvmParams {
                kernel: Kernel::Poly,
                gamma: Gamma::Auto,
                coef0: 1.0,
                degree: 2,
                ..SvmParams::default()
            });
            let shared =
                cross_validate_grid(x.view(), &y, 2, &grid, &settings, &|_| {}).expect("cv");
            for (outcome, params) in shared.iter().zip(&grid) {
                for (fold, evaluation) in folds.iter().zip(&outcome.folds) {
                    let (train, validation) = prepare(
                        x.select(Axis(0), &fold.train).view(),
                        x.select(Axis(0), &fold.validation).view(),
                        &settings.transform,
                    )
                    .expect("prepare");
                    let y_train: Vec<usize> = fold.train.iter().map(|&i| y[i]).collect();
                    let y_val: Vec<usize> = fold.validation.iter().map(|&i| y[i]).collect();
                    let (separate, _) = fit_and_score(
                        &Svc::new(params.clone(), 2),
                        train.view(),
                        &y_train,
                        validation.view(),
                        &y_val,
                    )
                    .expect("fit");
                    assert_eq!(evaluation.metrics, separate.metrics, "{params:?}");
                    assert_eq!(evaluation.support_vectors, separate.support_vectors);
                    assert!((evaluation.gamma - separate.gamma).abs() <= 1e-12 * separate.gamma);
                }
            }
        }
    }

    /// `data()` followed by two perturbed copies of every third chip.
    fn data_with_copies() -> (Array2<f64>, Vec<usize>, Vec<usize>, usize) {
        let (x, y) = data();
        let n = x.nrows();
        let copy_of: Vec<usize> = (0..n).step_by(3).flat_map(|i| [i, i]).collect();
        let copies = Array2::from_shape_fn((copy_of.len(), x.ncols()), |(j, k)| {
            x[[copy_of[j], k]] + ((j * 5 + k * 3) % 7) as f64 / 20.0 - 0.15
        });
        let all = concatenate(Axis(0), &[x.view(), copies.view()]).expect("rows");
        let labels: Vec<usize> = y
            .iter()
            .copied()
            .chain(copy_of.iter().map(|&o| y[o]))
            .collect();
        (all, labels, copy_of, n)
    }

    #[test]
    fn copies_train_with_their_chip_and_are_never_validated() {
        let (x, y, copy_of, n) = data_with_copies();
        let settings = CvSettings::new(3, 9, FeatureTransform::default());
        let folds = folds_with_copies(&y, &copy_of, 2, &settings).expect("folds");
        let plain = StratifiedKFold::new(3, 9).split(&y[..n], 2).expect("split");
        let mut validated = Vec::new();
        for (fold, chips) in folds.iter().zip(&plain) {
            assert_eq!(fold.validation, chips.validation);
            assert!(fold.validation.iter().all(|&i| i < n));
            assert_eq!(&fold.train[..chips.train.len()], &chips.train[..]);
            let copies: Vec<usize> = fold.train[chips.train.len()..].to_vec();
            let expected: Vec<usize> = (0..copy_of.len())
                .filter(|&j| chips.train.contains(&copy_of[j]))
                .map(|j| n + j)
                .collect();
            assert_eq!(copies, expected);
            validated.extend(fold.validation.iter().copied());
        }
        validated.sort_unstable();
        assert_eq!(validated, (0..n).collect::<Vec<_>>());
        // Wrong labels or origins are refused.
        let mut bad = y.clone();
        bad[n] = 1 - bad[n];
        assert!(folds_with_copies(&bad, &copy_of, 2, &settings).is_err());
        assert!(folds_with_copies(&y, &[n + 5; 40], 2, &settings).is_err());
        let _ = x;
    }

    #[test]
    fn cross_validation_with_copies_equals_separate_fits_on_each_fold() {
        let (x, y, copy_of, _) = data_with_copies();
        for transform in [
            FeatureTransform::default(),
            FeatureTransform {
                column_weights: None,
                standardize: true,
                pca: None,
            },
            FeatureTransform {
                column_weights: None,
                standardize: true,
                pca: Some(PcaParams {
                    components: 3,
                    whiten: false,
                    solver: PcaSolver::Exact,
                }),
            },
        ] {
            let settings = CvSettings::new(3, 9, transform);
            let folds = folds_with_copies(&y, &copy_of, 2, &settings).expect("folds");
            let shared = cross_validate_grid_with_copies(
                x.view(),
                &y,
                &copy_of,
                2,
                &grid(),
                &settings,
                &|_| {},
            )
            .expect("cv");
            for (outcome, params) in shared.iter().zip(grid()) {
                for (fold, evaluation) in folds.iter().zip(&outcome.folds) {
                    let (train, validation) = prepare(
                        x.select(Axis(0), &fold.train).view(),
                        x.select(Axis(0), &fold.validation).view(),
                        &settings.transform,
                    )
                    .expect("prepare");
                    let y_train: Vec<usize> = fold.train.iter().map(|&i| y[i]).collect();
                    let y_val: Vec<usize> = fold.validation.iter().map(|&i| y[i]).collect();
                    let (separate, _) = fit_and_score(
                        &Svc::new(params.clone(), 2),
                        train.view(),
                        &y_train,
                        validation.view(),
                        &y_val,
                    )
                    .expect("fit");
                    assert_eq!(
                        evaluation.metrics, separate.metrics,
                        "{:?} {params:?}",
                        settings.transform
                    );
                    assert_eq!(evaluation.support_vectors, separate.support_vectors);
                    assert!((evaluation.gamma - separate.gamma).abs() <= 1e-9 * separate.gamma);
                }
            }
        }
    }

    #[test]
    fn grid_search_picks_the_first_best_and_refits() {
        let (x, y) = data();
        let (train, test) = (
            x.slice(ndarray::s![..45, ..]),
            x.slice(ndarray::s![45.., ..]),
        );
        let search = grid_search(
            train,
            &y[..45],
            Some((test, &y[45..])),
            2,
            &grid(),
            &standardized(),
            "f1_macro",
            &|_| {},
        )
        .expect("search");
        let scores: Vec<f64> = search
            .outcomes
            .iter()
            .map(|o| o.mean_std_of("f1_macro").0)
            .collect();
        let top = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        assert_eq!(
            search.best,
            scores.iter().position(|&s| s == top).expect("max")
        );
        let (evaluation, predicted) = search.test.expect("test");
        assert_eq!(predicted.labels.len(), 15);
        assert_eq!(predicted.decision_values.dim(), (15, 1));
        // The decision values are what voted: positive for the pair's first class.
        for (label, d) in predicted
            .labels
            .iter()
            .zip(predicted.decision_values.column(0))
        {
            assert_eq!(*label, usize::from(*d <= 0.0), "{d}");
        }
        assert_eq!(evaluation.confusion.sum(), 15);
        assert!(evaluation.metrics.accuracy > 0.9, "{evaluation:?}");
        let err = grid_search(
            train,
            &y[..45],
            None,
            2,
            &grid(),
            &standardized(),
            "f2",
            &|_| {},
        )
        .unwrap_err();
        assert!(err.to_string().contains("`metric`"), "{err}");
    }

    #[test]
    fn the_iteration_cap_is_recorded_not_hung() {
        let (x, y) = data();
        let capped: Vec<SvmParams> = grid()
            .into_iter()
            .map(|p| SvmParams {
                max_iterations: Some(2),
                c: 1000.0,
                ..p
            })
            .collect();
        let outcomes =
            cross_validate_grid(x.view(), &y, 2, &capped, &standardized(), &|_| {}).expect("cv");
        assert!(
            outcomes
                .iter()
                .flat_map(|o| &o.folds)
                .any(|e| !e.capped_pairs.is_empty())
        );
        let warnings = outcomes[0].folds[0].warnings();
        assert!(warnings.iter().all(|w| w.contains("iteration cap")));
    }

    #[test]
    fn bad_input_is_an_error() {
        let (mut x, y) = data();
        let settings = CvSettings::new(3, 0, FeatureTransform::default());
        let err =
            cross_validate_grid(x.view(), &y[..59], 2, &grid(), &settings, &|_| {}).unwrap_err();
        assert!(matches!(err, Error::LengthMismatch { .. }), "{err}");
        let too_many = CvSettings::new(31, 0, FeatureTransform::default());
        let err = cross_validate_grid(x.view(), &y, 2, &grid(), &too_many, &|_| {}).unwrap_err();
        assert!(err.to_string().contains("31-fold"), "{err}");
        let one_class = vec![0; 60];
        let err =
            cross_validate_grid(x.view(), &one_class, 2, &grid(), &settings, &|_| {}).unwrap_err();
        assert!(matches!(err, Error::SingleClass { .. }), "{err}");
        x[[3, 2]] = f64::INFINITY;
        let err = cross_validate_grid(x.view(), &y, 2, &grid(), &settings, &|_| {}).unwrap_err();
        assert!(err.to_string().contains("row 3"), "{err}");
    }

    #[test]
    fn the_transform_is_fitted_on_the_training_part_only() {
        let (x, _) = data();
        let transform = FeatureTransform {
            column_weights: None,
            standardize: true,
            pca: Some(PcaParams {
                components: 2,
                whiten: true,
                solver: PcaSolver::Exact,
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
        for column in a_train.columns() {
            let var = column.var(1.0);
            assert!((var - 1.0).abs() < 1e-9, "{var}");
        }
        let too_many = FeatureTransform {
            column_weights: None,
            standardize: false,
            pca: Some(PcaParams {
                components: 5,
                whiten: false,
                solver: PcaSolver::Exact,
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
