//! A grid search on feature matrices brought as `.npy` files (`sarlab svm grid`): rows
//! are samples, labels any integers; the classes are the sorted distinct training
//! labels, and test labels must be among them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ndarray::Array2;
use sarlab_io::npy;
use sarlab_svm::{
    CvSettings, Evaluation, FitDone, GridSearch, HalvingRung, LinearSolver, METRIC_NAMES, Metric,
    SearchStrategy, SvmParams, grid_search, halving_rungs, per_class,
};
use serde_json::{Value, json};

use crate::error::{Context, Error, Result};

/// A feature matrix and its labels, one per row, as read from two `.npy` files.
#[derive(Debug, Clone)]
pub struct LabelledMatrix {
    pub x_path: PathBuf,
    pub labels_path: PathBuf,
    pub x: Array2<f64>,
    pub labels: Vec<i64>,
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::ReadBack {
        path: path.to_path_buf(),
        source,
    })
}

impl LabelledMatrix {
    pub fn read(x_path: &Path, labels_path: &Path) -> Result<Self> {
        let m = npy::decode_matrix(&read(x_path)?, x_path)?;
        let (rows, cols) = match m.shape[..] {
            [rows, cols] if rows > 0 && cols > 0 => (rows, cols),
            [_, _] => {
                return Err(Error::Study(format!(
                    "{}: shape is {:?}, expected at least one row and one column",
                    x_path.display(),
                    m.shape
                )));
            }
            _ => {
                return Err(Error::Study(format!(
                    "{}: shape is {:?}, expected a 2-D feature matrix (rows = samples)",
                    x_path.display(),
                    m.shape
                )));
            }
        };
        let x = Array2::from_shape_vec((rows, cols), m.values)
            .map_err(|e| Error::Study(format!("{}: {e}", x_path.display())))?;
        let labels = npy::decode_labels(&read(labels_path)?, labels_path)?;
        if labels.len() != rows {
            return Err(Error::Study(format!(
                "{} has {} labels but {} has {rows} rows: one label per row expected",
                labels_path.display(),
                labels.len(),
                x_path.display(),
            )));
        }
        Ok(Self {
            x_path: x_path.to_path_buf(),
            labels_path: labels_path.to_path_buf(),
            x,
            labels,
        })
    }
}

/// The search: configurations (from [`sarlab_svm::SvmGrid::points`]), how they are
/// scored, and the metric that picks the best.
#[derive(Debug, Clone)]
pub struct MatrixSearch {
    pub train: LabelledMatrix,
    pub test: Option<LabelledMatrix>,
    pub configurations: Vec<SvmParams>,
    pub settings: CvSettings,
    pub metric: Metric,
    /// `Grid` and `Random` cross-validate every configuration (random search draws
    /// them beforehand, [`sarlab_svm::RandomSearch::points`]); `Halving` runs
    /// successive halving over the rows ([`sarlab_svm::halving_schedule`]).
    pub strategy: SearchStrategy,
}

/// What the search found.
#[derive(Debug, Clone)]
pub struct MatrixOutcome {
    /// Class `k` is training label `classes[k]`.
    pub classes: Vec<i64>,
    pub search: GridSearch,
    /// Which configurations `search.outcomes` are (indices into
    /// `MatrixSearch::configurations`): all of them, or the last halving rung's.
    pub evaluated: Vec<usize>,
    /// The halving rungs below the last (empty for grid and random search).
    pub rungs: Vec<HalvingRung>,
    /// Test labels as class indices, when a test split was given.
    pub y_test: Option<Vec<usize>>,
    /// Iteration-cap and solver warnings, one line each.
    pub warnings: Vec<String>,
}

impl MatrixSearch {
    /// The linear solver the configurations name (`SvmParams::linear_solver`), if any.
    pub fn linear_solver(&self) -> Option<LinearSolver> {
        self.configurations.first().and_then(|c| c.linear_solver)
    }

    /// Runs the search; `on_fit` hears every scored fold.
    pub fn run(&self, on_fit: &(dyn Fn(FitDone<'_>) + Sync)) -> Result<MatrixOutcome> {
        let train = &self.train;
        let mut classes = train.labels.clone();
        classes.sort_unstable();
        classes.dedup();
        if classes.len() < 2 {
            return Err(Error::Study(format!(
                "{} holds a single class ({}): a classifier needs at least two",
                train.labels_path.display(),
                classes[0]
            )));
        }
        let index_of = |label: i64| classes.binary_search(&label).ok();
        let y: Vec<usize> = train.labels.iter().filter_map(|&l| index_of(l)).collect();
        let folds = self.settings.folds;
        let counts = crate::cross_validation::class_counts(&y, classes.len());
        if let Some((k, &count)) = counts.iter().enumerate().min_by_key(|(_, c)| **c)
            && folds > count
        {
            return Err(Error::Study(format!(
                "folds = {folds} is larger than class {} of {}, which has {count} rows; every fold needs a row of every class",
                classes[k],
                train.labels_path.display()
            )));
        }
        if let Some(pca) = self.settings.transform.pca
            && pca.components > train.x.ncols()
        {
            return Err(Error::Study(format!(
                "pca = {}: {} has only {} feature columns",
                pca.components,
                train.x_path.display(),
                train.x.ncols()
            )));
        }
        let y_test = match &self.test {
            Some(test) => {
                if test.x.ncols() != train.x.ncols() {
                    return Err(Error::Study(format!(
                        "{} has {} columns but the training features {} have {}",
                        test.x_path.display(),
                        test.x.ncols(),
                        train.x_path.display(),
                        train.x.ncols()
                    )));
                }
                let y = test.labels.iter().enumerate().map(|(row, &l)| {
                    index_of(l).ok_or_else(|| {
                        Error::Study(format!(
                            "{} row {row}: label {l} does not occur in the training labels {}",
                            test.labels_path.display(),
                            train.labels_path.display()
                        ))
                    })
                });
                Some(y.collect::<Result<Vec<usize>>>()?)
            }
            None => None,
        };
        let features = self
            .settings
            .transform
            .pca
            .map_or(train.x.ncols(), |p| p.components);
        let problem = sarlab_svm::ProblemSize {
            samples: train.x.nrows(),
            features,
            class_counts: &counts,
            folds,
            configurations: self.configurations.len(),
            transformed: !self.settings.transform.is_identity(),
            threads: rayon::current_num_threads(),
        };
        let test_rows = self.test.as_ref().map_or(0, |t| t.x.nrows());
        let kernel_memory = self.settings.memory;
        let peak = match &self.linear_solver() {
            Some(solver) => problem.linear_bytes(solver.mapped_len(train.x.nrows()), test_rows),
            None => problem
                .bounded(
                    kernel_memory,
                    problem.cross_validation_bytes(),
                    problem.cross_validation_kernel_bytes(),
                )
                .max(problem.bounded(
                    kernel_memory,
                    problem.refit_bytes(test_rows),
                    problem.refit_kernel_bytes(test_rows),
                )),
        };
        crate::memory::require(peak, || {
            format!(
                "the SVM grid search on {} ({} rows × {} columns, {} classes, {folds} folds)",
                train.x_path.display(),
                train.x.nrows(),
                train.x.ncols(),
                classes.len()
            )
        })?;
        let (rungs, evaluated) = match &self.strategy {
            SearchStrategy::Halving(halving) => halving_rungs(
                train.x.view(),
                &y,
                classes.len(),
                &self.configurations,
                &self.settings,
                self.metric.name(),
                halving,
                on_fit,
            )
            .map_err(|e| Error::Study(format!("the halving search: {e}")))?,
            _ => (Vec::new(), (0..self.configurations.len()).collect()),
        };
        let finalists: Vec<SvmParams> = evaluated
            .iter()
            .map(|&i| self.configurations[i].clone())
            .collect();
        let test = self
            .test
            .as_ref()
            .zip(y_test.as_deref())
            .map(|(t, y)| (t.x.view(), y));
        let search = grid_search(
            train.x.view(),
            &y,
            test,
            classes.len(),
            &finalists,
            &self.settings,
            self.metric.name(),
            on_fit,
        )
        .context_with(|| "SVM grid search".to_owned())?;
        let warnings = warnings_of(&search, &finalists);
        Ok(MatrixOutcome {
            classes,
            search,
            evaluated,
            rungs,
            y_test,
            warnings,
        })
    }
}

fn warnings_of(search: &GridSearch, configurations: &[SvmParams]) -> Vec<String> {
    let mut warnings = Vec::new();
    for (outcome, params) in search.outcomes.iter().zip(configurations) {
        let capped: Vec<(usize, usize)> = outcome
            .folds
            .iter()
            .enumerate()
            .filter(|(_, e)| !e.capped_pairs.is_empty())
            .map(|(fold, e)| (fold, e.capped_pairs.len()))
            .collect();
        if !capped.is_empty() {
            let folds: Vec<String> = capped.iter().map(|(f, _)| f.to_string()).collect();
            warnings.push(format!(
                "{}: {} binary machine(s) stopped at the iteration cap before reaching the tolerance (in folds {}); raise --max-iterations or --tol",
                describe_point(params),
                capped.iter().map(|(_, n)| n).sum::<usize>(),
                folds.join(", ")
            ));
        }
    }
    if let Some((e, _)) = &search.test {
        warnings.extend(e.warnings().into_iter().map(|w| format!("refit: {w}")));
    }
    warnings
}

/// The parameters that enter a point's kernel, as JSON values in sweep order.
fn point_values(p: &SvmParams) -> Vec<(&'static str, Value)> {
    crate::plan::swept_values(p)
        .into_iter()
        .map(|(name, value)| (name, value.to_json()))
        .collect()
}

fn point_json(p: &SvmParams) -> Value {
    Value::Object(
        point_values(p)
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    )
}

/// `kernel=rbf C=10 gamma=scale`: what a grid point sweeps.
pub fn describe_point(p: &SvmParams) -> String {
    point_values(p)
        .iter()
        .map(|(k, v)| match v {
            Value::String(s) => format!("{k}={s}"),
            v => format!("{k}={v}"),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn evaluation_json(e: &Evaluation) -> Value {
    let metrics: serde_json::Map<String, Value> = e
        .metrics
        .named()
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    json!({
        "metrics": metrics,
        "gamma_value": e.gamma,
        "support_vectors": e.support_vectors,
        "solver_iterations": e.iterations,
        "iteration_cap_hits": e.capped_pairs.len(),
        "kernel_storage": if e.cached_kernel { "cached rows" } else { "whole" },
        "fit_seconds": e.fit_seconds,
        "predict_seconds": e.predict_seconds,
    })
}

impl MatrixOutcome {
    /// The refit's predictions as the original test labels.
    pub fn predicted_labels(&self) -> Option<Vec<i64>> {
        let (_, predicted) = self.search.test.as_ref()?;
        Some(predicted.labels.iter().map(|&k| self.classes[k]).collect())
    }

    /// Everything as JSON: every configuration's folds and CV summary, the best, and
    /// the test scores with per-class values and the confusion matrix.
    pub fn to_json(&self, search: &MatrixSearch, seconds: f64) -> Value {
        let configs: Vec<Value> = self
            .search
            .outcomes
            .iter()
            .zip(self.evaluated.iter().map(|&i| &search.configurations[i]))
            .map(|(outcome, params)| {
                let cv: BTreeMap<&str, Value> = METRIC_NAMES
                    .iter()
                    .map(|&name| {
                        let (mean, std) = outcome.mean_std_of(name);
                        (name, json!({ "mean": mean, "std": std }))
                    })
                    .collect();
                json!({
                    "params": point_json(params),
                    "cv": cv,
                    "folds": outcome.folds.iter().map(evaluation_json).collect::<Vec<_>>(),
                })
            })
            .collect();
        let test = match (&self.search.test, &self.y_test) {
            (Some((evaluation, predicted)), Some(y_test)) => {
                let n = self.classes.len();
                let per_class: Vec<Value> = per_class(y_test, &predicted.labels, n)
                    .iter()
                    .map(|s| {
                        json!({
                            "class": self.classes[s.class],
                            "precision": s.precision,
                            "recall": s.recall,
                            "f1": s.f1,
                            "support": s.support,
                        })
                    })
                    .collect();
                let confusion = &evaluation.confusion;
                json!({
                    "evaluation": evaluation_json(evaluation),
                    "per_class": per_class,
                    "confusion_matrix": confusion.outer_iter().map(|r| r.to_vec()).collect::<Vec<_>>(),
                })
            }
            _ => Value::Null,
        };
        let best = self.search.best;
        let (mean, std) = self.search.outcomes[best].mean_std_of(&self.search.metric);
        json!({
            "train": search.train.x_path.display().to_string(),
            "classes": self.classes,
            "folds": search.settings.folds,
            "seed": search.settings.seed,
            "metric": self.search.metric,
            "backend": search.settings.backend.name(),
            "solver": match search.linear_solver() {
                Some(solver) => solver.to_string(),
                None => "smo".to_owned(),
            },
            "configurations": configs,
            "search": search.strategy.name(),
            "rungs": self.rungs.iter().map(|r| json!({
                "rung": r.rung.index,
                "rows": r.rows,
                "candidates": r.candidates.iter().map(|&i| json!({
                    "index": i,
                    "params": point_json(&search.configurations[i]),
                })).collect::<Vec<_>>(),
                "cv": r.outcomes.iter().map(|o| {
                    let (mean, std) = o.mean_std_of(&self.search.metric);
                    json!({ "mean": mean, "std": std })
                }).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "best": {
                "index": self.evaluated[best],
                "params": point_json(&search.configurations[self.evaluated[best]]),
                "cv": { "mean": mean, "std": std },
            },
            "test": test,
            "warnings": self.warnings,
            "seconds": seconds,
        })
    }
}
