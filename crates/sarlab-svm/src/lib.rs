//! Support vector classification for sarlab: a C-SVC engine that gives libsvm's answers
//! (SMO with libsvm's second-order working-set selection and shrinking, one-vs-one
//! voting) on kernels computed once from Gram matrices (faer GEMM) and shared across C,
//! γ and cross-validation folds; stratified k-fold grid search; and scikit-learn's
//! classification metrics. The engine is a linfa model (`Fit`, `PredictInplace`);
//! linfa-svm remains available as a backend for cross-checks.
//!
//! Compute only: inputs are in-memory feature matrices and labels; no IO. Results are
//! deterministic for a given seed, whatever the number of threads.

mod approximation;
mod error;
mod folds;
mod grid;
mod halving_search;
mod kernel;
mod linear;
mod linear_grid;
mod linfa_backend;
mod machines;
mod memory;
mod metrics;
mod params;
mod pipeline;
mod probability;
mod row_cache;
mod search;
mod smo;
mod solver;
mod svc;
mod svm_grid;

pub use approximation::{FeatureMap, KernelApproximation, MAX_COMPONENTS};
pub use error::{Error, Result};
pub use folds::{Fold, StratifiedKFold};
pub use grid::{
    CvOutcome, CvSettings, Evaluation, FeatureTransform, FitDone, GridSearch, Refit,
    TestPredictions, cross_validate_grid, cross_validate_grid_with_copies, grid_search, mean_std,
    prepare, refit_and_test, refit_and_test_staged,
};
pub use halving_search::{HalvingRung, halving_rungs};
pub use kernel::{Gamma, Gram, Kernel, KernelFunction, MAX_POLY_DEGREE, inner_products, sq_norms};
pub use linear::{LinearLoss, LinearModel, LinearParams, fit_linear};
pub use machines::{Machines, PairMachine};
pub use memory::{KernelMemory, ProblemSize};
pub use metrics::{
    ClassScores, ClassificationMetrics, METRIC_NAMES, Metric, confusion_matrix, per_class,
    per_class_from_confusion,
};
pub use params::{ClassWeight, SvmParams};
pub use pipeline::{
    Classifier, DECISION_BLOCK_ROWS, Decisions, FittedModel, FittedTransform, LinearClassifier,
};
pub use probability::{PROBABILITY_FOLDS, PlattScaling, couple, fit_sigmoid, sigmoid};
pub use row_cache::KernelRows;
pub use search::{
    Halving, LogUniform, MAX_SAMPLES, MinResources, RandomSearch, Rung, SearchStrategy,
    halving_schedule, keep_count, rows_for_pca, stratified_rows, survivors,
};
pub use smo::{BinarySolution, QMatrix, SolverSettings, solve};
pub use solver::{LinearSolver, Solver};
pub use svc::{
    Backend, ClassBlocks, Engine, Svc, SvcModel, fit_class_blocks, fit_class_blocks_over_c,
    fit_machines,
};
pub use svm_grid::{MAX_GRID_POINTS, SvmGrid, SweptValue, first_repeat};
