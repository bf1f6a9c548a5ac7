//! Step 3 of a study: every configuration not yet finished is cross-validated and
//! recorded, one transaction per feature setting.

use std::sync::Mutex;
use std::time::Instant;

use sarlab_io::Dataset;
use sarlab_svm::{
    CvOutcome, CvSettings, FeatureTransform, FitDone, METRIC_NAMES, ProblemSize,
    cross_validate_grid_with_copies,
};
use sarlab_track::{ClaimState, Metric, NewRun, now_ms};

use crate::claims::Wanted;
use crate::engine::StudyRun;
use crate::error::{Context, Result};
use crate::halving::{Rung, subset_rows};
use crate::load;
use crate::memory;
use crate::observer::{Event, Observer};
use crate::plan::FeatureConfig;

/// Fold scores of one feature setting's pending configurations, summed as they arrive
/// from the worker threads, so each finished configuration is announced once.
struct Tally<'a> {
    method: &'static str,
    names: &'a [String],
    folds: usize,
    metric: sarlab_svm::Metric,
    started: Instant,
    study_total: usize,
    state: Mutex<TallyState>,
}

struct TallyState {
    folds_done: Vec<usize>,
    metric_sum: Vec<f64>,
    seconds: Vec<f64>,
    /// Configurations finished study-wide.
    done: usize,
}

impl Tally<'_> {
    fn fold_done(&self, fit: FitDone<'_>, observer: &dyn Observer) {
        observer.on(Event::FoldFinished {
            configuration: fit.configuration,
        });
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let k = fit.configuration;
        state.folds_done[k] += 1;
        state.metric_sum[k] += fit.evaluation.metrics.value(self.metric);
        state.seconds[k] += fit.evaluation.fit_seconds + fit.evaluation.predict_seconds;
        if state.folds_done[k] != self.folds {
            return;
        }
        state.done += 1;
        observer.on(Event::ConfigurationFinished {
            method: self.method,
            name: &self.names[k],
            done: state.done,
            study_total: self.study_total,
            metric: self.metric,
            value: state.metric_sum[k] / self.folds as f64,
            seconds: state.seconds[k],
            elapsed: self.started.elapsed().as_secs_f64(),
        });
    }
}

/// What cross-validation did with this shard's configurations.
#[derive(Debug, Clone, Default)]
pub(crate) struct CvCounts {
    /// Computed and recorded by this process.
    pub ran: usize,
    /// Finished in the database before this study began.
    pub skipped: usize,
    /// Recorded by other workers sharing the database while this one ran.
    pub by_others: usize,
    /// The rungs of each method's halving search (`[search] strategy = "halving"`).
    pub rungs: Vec<crate::halving::RungSummary>,
}

/// How far cross-validation is, study-wide, for progress events.
struct Progress {
    study_total: usize,
    started: Instant,
    /// Configurations finished since cross-validation began, here or elsewhere.
    done: usize,
}

/// Training rows per class.
pub(crate) fn class_counts(y: &[usize], n_classes: usize) -> Vec<usize> {
    let mut counts = vec![0; n_classes];
    for &label in y {
        if let Some(count) = counts.get_mut(label) {
            *count += 1;
        }
    }
    counts
}

impl StudyRun<'_> {
    /// The transform of feature setting `feature` on this dataset's chips (a fusion's
    /// block weights depend on the chips' size).
    pub(crate) fn transform(&self, feature: usize, dataset: &Dataset) -> Result<FeatureTransform> {
        let config = &self.plan.features[feature];
        let column_weights = match dataset.chips.first() {
            Some(chip) => {
                let (rows, cols) = config.preprocess.output_size(chip.size);
                config
                    .method
                    .column_weights(rows, cols)
                    .context_with(|| format!("the block weights of {}", config.describe()))?
                    .map(Into::into)
            }
            None => None,
        };
        Ok(FeatureTransform {
            standardize: self.plan.spec.svm.standardize,
            column_weights,
            pca: config.pca,
        })
    }

    /// Cross-validates this shard's configurations that are not finished yet, claiming
    /// them a share at a time so that workers sharing the database split them, and
    /// waiting for the ones other workers hold until every one is finished. With
    /// `[search] strategy = "halving"`, each method's configurations go through the
    /// rungs of its halving search instead ([`StudyRun::cross_validate_halving`]).
    pub(crate) fn cross_validate(
        &mut self,
        dataset: &Dataset,
        y_train: &[usize],
    ) -> Result<CvCounts> {
        let plan = self.plan;
        if let sarlab_svm::SearchStrategy::Halving(halving) = &plan.search {
            return self.cross_validate_halving(halving, dataset, y_train);
        }
        let mut counts = CvCounts::default();
        // What is left to do, first, so that progress can count the whole study.
        let mut work = Vec::with_capacity(plan.features.len());
        for fi in 0..plan.features.len() {
            let mut pending = Vec::new();
            for gi in 0..plan.grid.len() {
                if !self.study.shard.takes(fi * plan.grid.len() + gi) {
                    continue;
                }
                let hash = self.hash_of(&dataset.digest, fi, gi, "cv");
                match self.finished(&hash)? {
                    Some(_) => counts.skipped += 1,
                    None => pending.push((gi, hash)),
                }
            }
            work.push(pending);
        }
        self.run_work(work, &Rung::Full, dataset, y_train, &mut counts)?;
        Ok(counts)
    }

    /// Computes `work` (per feature setting, the grid index and hash of each pending
    /// configuration) at `rung`, claiming and waiting as [`StudyRun::cross_validate`]
    /// says; adds what happened to `counts`.
    pub(crate) fn run_work(
        &mut self,
        mut work: Vec<Vec<(usize, String)>>,
        rung: &Rung,
        dataset: &Dataset,
        y_train: &[usize],
        counts: &mut CvCounts,
    ) -> Result<()> {
        let plan = self.plan;
        let mut progress = Progress {
            study_total: work.iter().map(Vec::len).sum(),
            started: Instant::now(),
            done: 0,
        };
        // Settings that differ only in PCA follow each other in the plan: their train
        // features are extracted once.
        let mut last: Option<(String, load::TrainingFeatures, Vec<usize>)> = None;
        let mut announced_wait = false;
        loop {
            let mut claimed_any = false;
            let settings_left = work.iter().filter(|p| !p.is_empty()).count();
            for (fi, pending) in work.iter_mut().enumerate() {
                while !pending.is_empty() {
                    let names: Vec<String> = pending
                        .iter()
                        .map(|(gi, _)| rung.run_name(plan, fi, *gi))
                        .collect();
                    let wanted: Vec<Wanted<'_>> = pending
                        .iter()
                        .zip(&names)
                        .map(|((_, hash), name)| Wanted {
                            name,
                            hash,
                            redo: false,
                        })
                        .collect();
                    // Workers spread over the settings left, and split a setting
                    // when there are more of them than settings: a setting's features
                    // are extracted by each worker that takes part of it.
                    self.stop_if_requested()?;
                    let share = self.live_workers()?.div_ceil(settings_left);
                    let states = self.claim(&wanted, share)?;
                    let mut mine = Vec::new();
                    let mut elsewhere = 0;
                    let mut left = Vec::new();
                    for (item, state) in pending.drain(..).zip(states) {
                        match state {
                            ClaimState::Claimed { .. } => mine.push(item),
                            ClaimState::Finished { .. } => elsewhere += 1,
                            ClaimState::Busy { .. } | ClaimState::Left => left.push(item),
                        }
                    }
                    *pending = left;
                    if elsewhere > 0 {
                        self.by_others(elsewhere, counts, &mut progress);
                    }
                    if mine.is_empty() {
                        // The rest of this setting is in other workers' hands.
                        break;
                    }
                    claimed_any = true;
                    let recorded = self.cross_validate_claimed(
                        fi, &mine, rung, dataset, y_train, &mut last, &progress,
                    )?;
                    progress.done += mine.len();
                    counts.ran += recorded;
                    if recorded < mine.len() {
                        // Claims taken over from this worker, finished by another first.
                        counts.by_others += mine.len() - recorded;
                    }
                }
            }
            let waiting: usize = work.iter().map(Vec::len).sum();
            if waiting == 0 {
                return Ok(());
            }
            if !claimed_any {
                if !announced_wait {
                    announced_wait = true;
                    // The features of the last setting are not needed while waiting.
                    drop(last.take());
                    self.observer.on(Event::WaitingForWorkers {
                        configurations: waiting,
                    });
                }
                self.wait_for_workers()?;
            }
        }
    }

    /// Counts `count` configurations another worker recorded, for progress too.
    fn by_others(&self, count: usize, counts: &mut CvCounts, progress: &mut Progress) {
        counts.by_others += count;
        progress.done += count;
        self.observer.on(Event::RecordedElsewhere {
            count,
            done: progress.done,
            study_total: progress.study_total,
        });
    }

    /// Cross-validates the claimed configurations `pending` (grid index, hash) of
    /// feature setting `fi` and records them in one transaction; returns how many were
    /// recorded (fewer when another worker finished some first).
    #[allow(clippy::too_many_arguments)]
    fn cross_validate_claimed(
        &mut self,
        fi: usize,
        pending: &[(usize, String)],
        rung: &Rung,
        dataset: &Dataset,
        y_train: &[usize],
        last: &mut Option<(String, load::TrainingFeatures, Vec<usize>)>,
        progress: &Progress,
    ) -> Result<usize> {
        let plan = self.plan;
        let study_total = progress.study_total;
        let started = progress.started;
        let done_before = progress.done;
        let feature = &plan.features[fi];
        let key = format!(
            "{} {:?} {:?}",
            feature.preprocess, feature.method, feature.augment
        );
        if last.as_ref().is_none_or(|(k, _, _)| *k != key) {
            // The previous setting's features go before this one's are made.
            drop(last.take());
            let features = load::extract_training(feature, dataset, plan.spec.seed, self.observer)?;
            let labels = features.labels(y_train);
            *last = Some((key, features, labels));
        }
        let Some((_, features, y_rows)) = last.as_ref() else {
            unreachable!("features were just extracted");
        };
        // A halving rung below the last sees a stratified subsample of the chips (with
        // their augmented copies).
        let subset = rung
            .chips()
            .map(|chips| subset_rows(features, y_rows, chips));
        let (x_train, y_rows, copy_of) = match &subset {
            Some((x, y, copies)) => (x, y.as_slice(), copies.as_slice()),
            None => (&features.x, y_rows.as_slice(), features.copy_of.as_slice()),
        };
        let feature_seconds = &features.seconds;
        let names: Vec<String> = pending
            .iter()
            .map(|(gi, _)| rung.run_name(plan, fi, *gi))
            .collect();
        let tally = Tally {
            method: feature.method.name(),
            names: &names,
            folds: plan.spec.svm.folds,
            metric: plan.spec.svm.metric,
            started,
            study_total,
            state: Mutex::new(TallyState {
                folds_done: vec![0; names.len()],
                metric_sum: vec![0.0; names.len()],
                seconds: vec![0.0; names.len()],
                done: done_before,
            }),
        };
        self.observer.on(Event::ConfigurationsStarted {
            method: feature.method.name(),
            names: &names,
            folds: plan.spec.svm.folds,
            study_total,
        });
        let grid: Vec<_> = pending
            .iter()
            .map(|(gi, _)| plan.grid[*gi].svm.clone())
            .collect();
        let transform = self.transform(fi, dataset)?;
        let problem = ProblemSize {
            samples: x_train.nrows(),
            features: x_train.ncols(),
            class_counts: &class_counts(y_rows, dataset.classes.len()),
            folds: plan.spec.svm.folds,
            configurations: grid.len(),
            transformed: !transform.is_identity(),
            threads: rayon::current_num_threads(),
        };
        let kernel_memory = self.study.kernel_memory;
        let peak = match &plan.linear_solver {
            Some(solver) => problem.linear_bytes(solver.mapped_len(x_train.nrows()), 0),
            None => problem.bounded(
                kernel_memory,
                problem.cross_validation_bytes(),
                problem.cross_validation_kernel_bytes(),
            ),
        };
        memory::require(peak, || {
            format!(
                "cross-validating {} ({} train chips × {} features, {} folds)",
                feature.method.name(),
                x_train.nrows(),
                x_train.ncols(),
                plan.spec.svm.folds
            )
        })?;
        let start_ms = now_ms();
        let observer = self.observer;
        let outcomes = cross_validate_grid_with_copies(
            x_train.view(),
            y_rows,
            copy_of,
            dataset.classes.len(),
            &grid,
            &CvSettings {
                folds: plan.spec.svm.folds,
                seed: plan.spec.seed,
                transform,
                backend: plan.spec.svm.backend,
                memory: kernel_memory,
            },
            &|fit: FitDone<'_>| tally.fold_done(fit, observer),
        )
        .context_with(|| format!("cross-validating {}", feature.method.name()))?;
        let end_ms = now_ms();
        let finished: Vec<NewRun<'_>> = pending
            .iter()
            .zip(&outcomes)
            .map(|((gi, hash), outcome)| NewRun {
                artifacts: Vec::new(),
                experiment_id: self.experiment,
                parent: Some(self.parent),
                name: rung.run_name(plan, fi, *gi),
                config_hash: hash.clone(),
                params: rung.params_of(plan, fi, *gi),
                metrics: cv_metrics(outcome, feature, x_train.ncols(), *feature_seconds),
                tags: cv_tags(
                    &rung.run_name(plan, fi, *gi),
                    outcome,
                    &dataset.digest,
                    plan.spec.svm.metric,
                    rung.stage(),
                ),
                start_ms,
                end_ms,
                predictions: Vec::new(),
            })
            .collect();
        // The claimed configurations in one transaction: all are recorded or none.
        let recorded = self
            .store
            .finish_claimed_runs(&finished)?
            .iter()
            .filter(|uuid| uuid.is_some())
            .count();
        self.observer.on(Event::ConfigurationsRecorded {
            method: feature.method.name(),
            count: recorded,
        });
        Ok(recorded)
    }
}

/// The recorded metrics of one cross-validated configuration: per fold (step = fold),
/// then each metric's mean and standard deviation over the folds.
fn cv_metrics(
    outcome: &CvOutcome,
    feature: &FeatureConfig,
    feature_dim: usize,
    feature_seconds: f64,
) -> Vec<Metric> {
    let mut metrics = Vec::new();
    for (fold, evaluation) in outcome.folds.iter().enumerate() {
        let step = fold as i64;
        metrics.push(Metric::new(
            "iteration_cap_hits",
            evaluation.capped_pairs.len() as f64,
            step,
        ));
        metrics.push(Metric::new(
            "solver_iterations",
            evaluation.iterations as f64,
            step,
        ));
        for (name, value) in evaluation.metrics.named() {
            metrics.push(Metric::new(format!("cv_{name}"), value, step));
        }
        metrics.push(Metric::new("fit_seconds", evaluation.fit_seconds, step));
        metrics.push(Metric::new(
            "predict_seconds",
            evaluation.predict_seconds,
            step,
        ));
        metrics.push(Metric::new(
            "support_vectors",
            evaluation.support_vectors as f64,
            step,
        ));
        metrics.push(Metric::new("gamma_value", evaluation.gamma, step));
    }
    for name in METRIC_NAMES {
        let (mean, std) = outcome.mean_std_of(name);
        metrics.push(Metric::new(format!("cv_{name}_mean"), mean, 0));
        metrics.push(Metric::new(format!("cv_{name}_std"), std, 0));
        // The headline value every stage shares, so one filter or `runs best --metric
        // f1_macro` reads CV and test runs alike.
        metrics.push(Metric::new(name.to_string(), mean, 0));
    }
    metrics.push(Metric::new("feature_seconds", feature_seconds, 0));
    metrics.push(Metric::new("feature_dim", feature_dim as f64, 0));
    metrics.push(Metric::new(
        "svm_input_dim",
        feature.pca.map_or(feature_dim, |p| p.components) as f64,
        0,
    ));
    metrics
}

/// Tags of a cross-validated configuration; solver warnings are logged and kept.
fn cv_tags(
    name: &str,
    outcome: &CvOutcome,
    digest: &str,
    metric: sarlab_svm::Metric,
    stage: &str,
) -> Vec<(String, String)> {
    let mut warnings = Vec::new();
    for (fold, evaluation) in outcome.folds.iter().enumerate() {
        for warning in evaluation.warnings() {
            tracing::warn!("{name}, fold {fold}: {warning}");
            warnings.push(format!("fold {fold}: {warning}"));
        }
    }
    // The folds' validation sets partition the train split: their summed confusion
    // matrix is the pooled out-of-fold prediction's, for per-class CV views; each
    // fold's own gives the per-class scores' spread over folds.
    let folds: Vec<Vec<Vec<usize>>> = outcome
        .folds
        .iter()
        .map(|f| f.confusion.outer_iter().map(|r| r.to_vec()).collect())
        .collect();
    let pooled = outcome
        .folds
        .iter()
        .map(|f| &f.confusion)
        .fold(None::<ndarray::Array2<usize>>, |sum, cm| {
            Some(sum.map_or_else(|| cm.clone(), |s| s + cm))
        });
    let mut tags = vec![
        ("stage".to_owned(), stage.to_owned()),
        ("dataset_digest".to_owned(), digest.to_owned()),
        ("selection_metric".to_owned(), metric.to_string()),
    ];
    if let Some(pooled) = pooled {
        let rows: Vec<Vec<usize>> = pooled.outer_iter().map(|r| r.to_vec()).collect();
        tags.push((
            "cv_confusion_matrix".to_owned(),
            serde_json::to_string(&rows).unwrap_or_default(),
        ));
        tags.push((
            "cv_fold_confusion_matrices".to_owned(),
            serde_json::to_string(&folds).unwrap_or_default(),
        ));
    }
    if !warnings.is_empty() {
        tags.push(("warnings".to_owned(), warnings.join("; ")));
    }
    tags
}
