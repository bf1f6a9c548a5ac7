//! Support vector classification for sarlab: a one-vs-one multi-class C-SVC on top of
//! linfa-svm (usable as a linfa model), stratified k-fold cross-validation over a grid
//! of hyperparameters, and scikit-learn-compatible classification metrics.
//!
//! Compute only: inputs are in-memory feature matrices and labels; no IO. Results are
//! deterministic for a given seed, whatever the number of threads.

mod error;
mod folds;
mod grid;
mod metrics;
mod ovo;

pub use error::{Error, Result};
pub use folds::{Fold, StratifiedKFold};
pub use grid::{
    CvOutcome, CvSettings, Evaluation, FeatureTransform, cross_validate_grid, mean_std,
    refit_and_test,
};
pub use metrics::{ClassificationMetrics, confusion_matrix};
pub use ovo::{Gamma, Kernel, OneVsOneModel, OneVsOneSvm, SvmParams};
