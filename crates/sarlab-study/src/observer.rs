//! What a running study tells its caller: an [`Observer`] receives [`Event`]s (the CLI
//! draws bars or prints log lines from them; tests collect them).

use std::path::Path;

use sarlab_io::{Dataset, Split};
use sarlab_svm::Metric;

/// Work counted in steps while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// Writing the synthetic dataset (steps unknown: 0).
    GenerateDataset,
    /// Decoding the chips of the dataset.
    LoadChips,
    /// Extracting a method's features from every chip of a split.
    Extract { method: &'static str, split: Split },
}

/// One thing that happened in a study. Events of one study arrive in order, except
/// [`Event::TaskStep`] and [`Event::FoldFinished`], which worker threads send as they
/// finish.
#[derive(Debug)]
pub enum Event<'a> {
    /// The study's own run is recorded, RUNNING, in the database at `db`.
    Started {
        run: &'a str,
        db: &'a Path,
    },
    /// A RUNNING run of a process that died was marked FAILED.
    DeadRunFailed {
        run: &'a str,
        reason: &'a str,
    },
    TaskStarted {
        task: Task,
        steps: usize,
    },
    TaskStep {
        task: Task,
    },
    TaskFinished {
        task: Task,
    },
    /// The synthetic dataset was written (it did not exist yet).
    DatasetGenerated {
        path: &'a Path,
        chips: usize,
        seed: u64,
    },
    /// The dataset is loaded; its `skipped` counts say what was left out.
    DatasetLoaded {
        dataset: &'a Dataset,
    },
    /// Cross-validation of one feature setting's pending configurations starts: `names`
    /// are their run names in grid order; `study_total` counts every configuration
    /// this invocation cross-validates.
    ConfigurationsStarted {
        method: &'static str,
        names: &'a [String],
        folds: usize,
        study_total: usize,
    },
    /// One fold of configuration `names[configuration]` (of the last
    /// `ConfigurationsStarted`) is scored.
    FoldFinished {
        configuration: usize,
    },
    /// A configuration is cross-validated; `done` of `study_total` are now, study-wide,
    /// and `elapsed` seconds have passed since cross-validation began.
    ConfigurationFinished {
        method: &'static str,
        name: &'a str,
        done: usize,
        study_total: usize,
        metric: Metric,
        /// Mean CV value of `metric`.
        value: f64,
        /// Fit and predict seconds summed over the folds.
        seconds: f64,
        elapsed: f64,
    },
    /// The configurations of the last `ConfigurationsStarted` are recorded.
    ConfigurationsRecorded {
        method: &'static str,
        count: usize,
    },
    /// Rung `rung` (of `rungs`) of `method`'s halving search starts: `candidates`
    /// configurations on `chips` train chips.
    RungStarted {
        method: &'static str,
        rung: usize,
        rungs: usize,
        candidates: usize,
        chips: usize,
    },
    /// `count` configurations were found recorded by other workers sharing the
    /// database; `done` of `study_total` are now finished, study-wide.
    RecordedElsewhere {
        count: usize,
        done: usize,
        study_total: usize,
    },
    /// Nothing is left to claim: `configurations` are being computed by other workers,
    /// and this one waits for them (taking over the claims of any that dies).
    WaitingForWorkers {
        configurations: usize,
    },
    /// A method's best configuration was refit on the train split and scored on test.
    Refit {
        method: &'static str,
        name: &'a str,
        metric: Metric,
        value: f64,
        seconds: f64,
    },
    /// The report is written; `index_html` is its page.
    ReportWritten {
        index_html: &'a Path,
    },
}

/// Receives a study's events; called from worker threads too, hence `Sync`.
pub trait Observer: Sync {
    fn on(&self, event: Event<'_>);

    /// Whether the caller wants the study to stop (an interrupt in a notebook). The
    /// engine asks between units of work — before each claim of configurations, each
    /// refit and each wait for other workers — and then ends with
    /// [`Error::Interrupted`](crate::Error::Interrupted), its run KILLED and its claims
    /// released; what finished before stays recorded.
    fn stop_requested(&self) -> bool {
        false
    }
}

/// An observer that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Observer for Silent {
    fn on(&self, _event: Event<'_>) {}
}
