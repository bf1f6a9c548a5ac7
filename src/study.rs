//! `sarlab run`: a study from spec to database and report.
//!
//! 1. read and expand the spec (no side effects yet; spec errors stop here);
//! 2. open the run database and start (or resume) the study's parent run;
//! 3. load the dataset (generating the synthetic default if it is missing);
//! 4. for every feature setting with configurations not yet finished: preprocess,
//!    extract train features, cross-validate the pending SVM grid points, and record
//!    each configuration as one finished run;
//! 5. per feature method, take the configuration with the best mean CV macro-F1, refit
//!    it on the whole train split and score it on the test split (a run of its own);
//! 6. write the report from what the database holds, end the parent run.
//!
//! Any error after step 2 marks the parent run FAILED with the reason. Configuration
//! runs are written whole or not at all, so a failed or interrupted study leaves only
//! complete runs, and a rerun skips them.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use ndarray::{Array2, CowArray, Ix2};
use sarlab_features::{FeatureMethod, hog_image};
use sarlab_filter::Preprocess;
use sarlab_io::synth::{self, SynthConfig};
use sarlab_io::{Chip, Dataset, DatasetIndex, Split};
use sarlab_report::{ConfigResult, ImageFigure, MethodResult, StudyReport};
use sarlab_svm::{
    Backend, CvSettings, FeatureTransform, FitDone, METRIC_NAMES, confusion_matrix,
    cross_validate_grid, refit_and_test_staged,
};
use sarlab_track::{
    Metric, NewRun, ParamValue, RunStatus, Store, StoredRun, config_hash, environment_tags, now_ms,
};
use sha2::{Digest, Sha256};

use crate::cli::RunArgs;
use crate::progress;
use crate::spec::{self, DatasetSource, FeatureConfig, Plan};

/// How often a running study records that it is alive.
const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(5);
/// A RUNNING run whose heartbeat is older than this belonged to a process that died
/// (on another host; on this one a vanished process id tells at once).
const STALE_AFTER: Duration = Duration::from_secs(60);

/// Which configurations of the spec's fixed enumeration order this process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    pub fn all() -> Self {
        Shard { index: 0, count: 1 }
    }

    /// `--shard I/N`, else Slurm's array variables, else the whole spec.
    pub fn resolve(flag: Option<&str>, env: impl Fn(&str) -> Option<String>) -> Result<Self> {
        if let Some(text) = flag {
            let parsed = text.split_once('/').and_then(|(i, n)| {
                Some((
                    i.trim().parse::<usize>().ok()?,
                    n.trim().parse::<usize>().ok()?,
                ))
            });
            return match parsed {
                Some((index, count)) if count > 0 && index < count => Ok(Shard { index, count }),
                _ => bail!(
                    "--shard {text}: expected I/N with 0 <= I < N, e.g. --shard 0/4 for the first of four shards"
                ),
            };
        }
        let Some(task) = env("SLURM_ARRAY_TASK_ID") else {
            return Ok(Shard::all());
        };
        let number = |name: &str, value: String| -> Result<usize> {
            value
                .trim()
                .parse::<usize>()
                .with_context(|| format!("{name} = `{value}` is not a whole number"))
        };
        let task = number("SLURM_ARRAY_TASK_ID", task)?;
        let count = match env("SLURM_ARRAY_TASK_COUNT") {
            Some(v) => number("SLURM_ARRAY_TASK_COUNT", v)?,
            None => bail!(
                "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not: pass --shard I/N"
            ),
        };
        let min = env("SLURM_ARRAY_TASK_MIN")
            .map(|v| number("SLURM_ARRAY_TASK_MIN", v))
            .transpose()?
            .unwrap_or(0);
        let index = task.checked_sub(min).filter(|&i| i < count.max(1));
        match index {
            Some(index) if count > 0 => Ok(Shard { index, count }),
            _ => bail!(
                "Slurm array task {task} (min {min}, count {count}) is not a shard of this job: use a contiguous --array range, or pass --shard I/N"
            ),
        }
    }

    /// Whether configuration `position` (in the spec's enumeration order) is ours.
    pub fn takes(&self, position: usize) -> bool {
        position % self.count == self.index
    }

    pub fn is_whole(&self) -> bool {
        self.count == 1
    }
}

/// Keeps a run's heartbeat going from a thread of its own (with its own connection)
/// until dropped.
struct Heartbeat {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Heartbeat {
    fn start(db: PathBuf, uuid: String) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut store = match Store::open(&db) {
                Ok(store) => store,
                Err(err) => {
                    tracing::warn!("no heartbeat for run {uuid}: {err}");
                    return;
                }
            };
            let tick = Duration::from_millis(100);
            let mut since = Duration::ZERO;
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(tick);
                since += tick;
                if since >= HEARTBEAT_INTERVAL {
                    since = Duration::ZERO;
                    if let Err(err) = store.heartbeat(&uuid) {
                        tracing::warn!("heartbeat of run {uuid}: {err}");
                    }
                }
            }
        });
        Heartbeat {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// On SIGINT or SIGTERM: mark the study run KILLED (from a connection of its own; a
/// configuration run being computed is simply never written) and exit with 128 + the
/// signal number.
fn kill_on_signal(db: PathBuf, uuid: String) -> Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])
        .context("cannot install the SIGINT/SIGTERM handler")?;
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            let name = if signal == SIGINT {
                "SIGINT"
            } else {
                "SIGTERM"
            };
            let reason = format!("interrupted by {name}");
            match Store::open(&db)
                .and_then(|mut store| store.end_run(&uuid, RunStatus::Killed, Some(&reason)))
            {
                Ok(()) => eprintln!(
                    "\ninterrupted ({name}): study run {uuid} marked KILLED; finished configurations are kept, rerun the spec to resume"
                ),
                Err(err) => {
                    eprintln!("\ninterrupted ({name}); could not mark run {uuid} KILLED: {err}")
                }
            }
            std::process::exit(128 + signal);
        }
    });
    Ok(())
}

/// Plans larger than this are refused without `--allow-large`: a mistyped axis should
/// not start a study that cannot finish.
const LARGE_PLAN: usize = 10_000;

pub fn run(args: &RunArgs) -> Result<()> {
    let started = Instant::now();
    let plan = spec::load_plan(&args.spec, args.data.as_deref())?;
    let shard = Shard::resolve(args.shard.as_deref(), |name| std::env::var(name).ok())?;
    if plan.configurations() > LARGE_PLAN && !args.allow_large {
        bail!(
            "{}: {} configurations ({} feature settings × {} SVM grid points) is more than \
             {LARGE_PLAN}; check the axes with `sarlab run --dry-run --allow-large`, and \
             pass --allow-large to run it",
            args.spec.display(),
            plan.configurations(),
            plan.features.len(),
            plan.grid.len()
        );
    }
    if args.dry_run {
        return crate::dry_run::print(&plan, args, &shard);
    }
    let mut store = Store::open(&args.db)?;
    let experiment = store.experiment(&plan.spec.name)?;
    for (uuid, reason) in store.fail_dead_runs(Some(experiment), STALE_AFTER)? {
        eprintln!("marked run {uuid} FAILED: {reason}");
    }

    let mut study_params: Vec<(String, ParamValue)> = vec![
        ("seed".to_owned(), ParamValue::Int(plan.spec.seed as i64)),
        (
            "spec".to_owned(),
            plan.spec_path.display().to_string().into(),
        ),
        (
            "dataset.path".to_owned(),
            plan.spec.dataset.path.display().to_string().into(),
        ),
        ("folds".to_owned(), plan.spec.svm.folds.into()),
        ("configurations".to_owned(), plan.configurations().into()),
        ("force".to_owned(), args.force.into()),
        ("stage".to_owned(), "study".into()),
    ];
    if !shard.is_whole() {
        study_params.push((
            "shard".to_owned(),
            format!("{}/{}", shard.index, shard.count).into(),
        ));
    }
    // Every invocation is a run of its own (configuration runs are what is deduplicated):
    // a killed attempt stays in the history as KILLED or FAILED beside the one that
    // finished the work.
    let study_hash = format!(
        "study {} {} {}",
        config_hash(
            "study",
            &[
                ("spec_text".to_owned(), plan.spec_text.clone().into()),
                (
                    "dataset.path".to_owned(),
                    plan.spec.dataset.path.display().to_string().into(),
                ),
            ],
        ),
        std::process::id(),
        now_ms()
    );
    let spec_dir = plan
        .spec_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tags = environment_tags(env!("CARGO_PKG_VERSION"), spec_dir);
    tags.push(("stage".to_owned(), "study".to_owned()));
    tags.push(("spec_toml".to_owned(), plan.spec_text.clone()));
    tags.push(("seed".to_owned(), plan.spec.seed.to_string()));
    tags.push((
        "threads".to_owned(),
        rayon::current_num_threads().to_string(),
    ));
    let parent = store.start_run(
        experiment,
        None,
        &format!("study {}", plan.spec.name),
        &study_hash,
        &study_params,
        &tags,
    )?;
    kill_on_signal(args.db.clone(), parent.clone())?;
    let heartbeat = Heartbeat::start(args.db.clone(), parent.clone());

    let mut study = Study {
        plan: &plan,
        args,
        shard,
        store: &mut store,
        experiment,
        parent: &parent,
        git_commit: tags
            .iter()
            .find(|(k, _)| k == "git_commit")
            .map(|(_, v)| v.clone())
            .unwrap_or_default(),
    };
    let result = study.execute();
    drop(heartbeat);
    match result {
        Ok(outcome) => {
            store.end_run(&parent, RunStatus::Finished, None)?;
            match outcome {
                Outcome::Study(outcome) => print_summary(
                    &plan,
                    args,
                    &parent,
                    &outcome,
                    started.elapsed().as_secs_f64(),
                ),
                Outcome::Shard { ran, skipped } => println!(
                    "study {} shard {}/{}: {ran} configuration(s) run now, {skipped} already finished, {:.1} s; runs in {} (study run {parent}). \
                     When every shard is done: sarlab merge MERGED.db SHARD.db... && sarlab run {} --db MERGED.db (test refits and report)",
                    plan.spec.name,
                    shard.index,
                    shard.count,
                    started.elapsed().as_secs_f64(),
                    args.db.display(),
                    args.spec.display(),
                ),
            }
            Ok(())
        }
        Err(err) => {
            let reason = format!("{err:#}");
            if let Err(db_err) = store.end_run(&parent, RunStatus::Failed, Some(&reason)) {
                tracing::error!("could not mark study run {parent} FAILED: {db_err}");
            }
            Err(err)
        }
    }
}

struct Study<'a> {
    plan: &'a Plan,
    args: &'a RunArgs,
    shard: Shard,
    store: &'a mut Store,
    experiment: i64,
    parent: &'a str,
    git_commit: String,
}

/// What a finished study reports on the terminal.
enum Outcome {
    Study(Box<StudyOutcome>),
    /// A shard's cross-validation runs only.
    Shard {
        ran: usize,
        skipped: usize,
    },
}

struct StudyOutcome {
    report: StudyReport,
    report_index: PathBuf,
    ran: usize,
    skipped: usize,
}

/// Cross-validation summary of one recorded configuration.
struct CvRecord {
    feature: usize,
    grid: usize,
    uuid: String,
    cv_accuracy: (f64, f64),
    cv_f1_macro: (f64, f64),
    /// Mean and std of the spec's selection metric (`svm.metric`).
    cv_selection: (f64, f64),
    fit_seconds: f64,
}

fn mean_std_of(run: &StoredRun, key: &str) -> (f64, f64) {
    (
        run.metric(&format!("{key}_mean"), 0).unwrap_or(f64::NAN),
        run.metric(&format!("{key}_std"), 0).unwrap_or(f64::NAN),
    )
}

impl Study<'_> {
    fn execute(&mut self) -> Result<Outcome> {
        let dataset = self.load_dataset()?;
        self.store.set_tags(
            self.parent,
            &[
                ("dataset_digest".to_owned(), dataset.digest.clone()),
                (
                    "dataset_path".to_owned(),
                    dataset.root.display().to_string(),
                ),
            ],
        )?;
        let folds = self.plan.spec.svm.folds;
        let train_counts = dataset.class_counts(Split::Train);
        if let Some((class, &count)) = train_counts.iter().enumerate().min_by_key(|(_, c)| **c)
            && folds > count
        {
            bail!(
                "`svm.folds` = {folds} is larger than class `{}`, which has {count} train chips in {}",
                dataset.classes[class],
                dataset.root.display()
            );
        }
        let y_train: Vec<usize> = dataset
            .chips_in(Split::Train)
            .map(|c| c.class_index)
            .collect();
        let y_test: Vec<usize> = dataset
            .chips_in(Split::Test)
            .map(|c| c.class_index)
            .collect();

        let (ran, skipped) = self.cross_validate(&dataset, &y_train)?;
        if !self.shard.is_whole() {
            // The best configuration of a method needs every shard's runs: the test
            // refits and the report come from a run of the spec on the merged database.
            return Ok(Outcome::Shard { ran, skipped });
        }
        let records = self.cv_records(&dataset.digest)?;
        let mut methods = Vec::new();
        for method in self.plan.methods() {
            methods.push(self.test_best(method, &records, &dataset, &y_train, &y_test)?);
        }
        let configs = records
            .iter()
            .map(|r| ConfigResult {
                method: self.plan.features[r.feature].method.name().to_owned(),
                params: format!(
                    "{} {}",
                    self.plan.features[r.feature].describe(),
                    spec::describe(&self.plan.grid[r.grid].params)
                ),
                cv_accuracy: r.cv_accuracy,
                cv_f1_macro: r.cv_f1_macro,
                cv_selection: r.cv_selection,
                fit_seconds: r.fit_seconds,
            })
            .collect();
        let report = StudyReport {
            study: self.plan.spec.name.clone(),
            spec_path: self.plan.spec_path.display().to_string(),
            seed: self.plan.spec.seed,
            dataset_path: dataset.root.display().to_string(),
            dataset_digest: dataset.digest.clone(),
            classes: dataset.classes.clone(),
            train_chips: y_train.len(),
            test_chips: y_test.len(),
            folds,
            selection_metric: self.plan.spec.svm.metric.clone(),
            db_path: self.args.db.display().to_string(),
            parent_run: self.parent.to_owned(),
            git_commit: self.git_commit.clone(),
            methods,
            configs,
            images: self.hog_glyphs(&records, &dataset)?.into_iter().collect(),
        };
        let dir = self.args.reports.join(&self.plan.spec.name);
        let files = sarlab_report::write_report(&report, &dir)
            .with_context(|| format!("cannot write the report in {}", dir.display()))?;
        let mut artifacts = vec![
            (files.index_html.clone(), "report-html"),
            (files.summary_md.clone(), "report-markdown"),
        ];
        artifacts.extend(files.figures.iter().map(|f| (f.clone(), "figure")));
        for (path, kind) in artifacts {
            let bytes = std::fs::read(&path)
                .with_context(|| format!("cannot read back {}", path.display()))?;
            let sha = Sha256::digest(&bytes);
            let hex: String = sha.iter().map(|b| format!("{b:02x}")).collect();
            self.store
                .add_artifact(self.parent, &path.display().to_string(), kind, &hex)?;
        }
        Ok(Outcome::Study(Box::new(StudyOutcome {
            report,
            report_index: files.index_html,
            ran,
            skipped,
        })))
    }

    /// Loads the dataset, generating the synthetic default first if it is missing.
    fn load_dataset(&self) -> Result<Dataset> {
        let ds = &self.plan.spec.dataset;
        let path = &ds.path;
        if ds.source == DatasetSource::Synthetic {
            let config = self.plan.synth_config()?;
            if path.exists() {
                check_synthetic_matches(path, &config)?;
            } else {
                let bar = progress::bar(0, "generating dataset");
                let count = synth::write_dataset(path, &config).with_context(|| {
                    format!(
                        "cannot generate the synthetic dataset in {}",
                        path.display()
                    )
                })?;
                bar.finish_and_clear();
                eprintln!(
                    "generated the synthetic SAR dataset: {count} chips in {} (seed {})",
                    path.display(),
                    config.seed
                );
            }
        }
        let options = self.plan.dataset_options()?;
        let index = DatasetIndex::scan(path, &options)
            .and_then(|index| index.require_both_splits().map(|()| index))
            .with_context(|| {
                format!(
                    "cannot use dataset {} (from `dataset.path` or --data)",
                    path.display()
                )
            })?;
        // Only the part of each chip that some configuration's crop uses is kept, in
        // the stored sample type (decode → crop → drop the rest).
        let crops: Vec<Option<usize>> = self
            .plan
            .features
            .iter()
            .map(|f| f.preprocess.crop)
            .collect();
        let bar = progress::bar(index.entries.len(), "loading chips");
        let dataset = index.load_windows(&|| bar.inc(1), &|dim| {
            sarlab_filter::window_for_crops(dim, crops.iter().copied()).map_err(|e| {
                format!("{e} (the `preprocess.crop` of the spec does not fit this chip)")
            })
        })?;
        bar.finish_and_clear();
        let skipped = dataset.skipped;
        if skipped.not_chips + skipped.other_depression > 0 {
            eprintln!(
                "note: {} skipped {} file(s) that are not {} chips and {} Phoenix chip(s) at other depressions",
                path.display(),
                skipped.not_chips,
                dataset.format,
                skipped.other_depression
            );
        }
        tracing::info!(
            chips = dataset.chips.len(),
            classes = dataset.classes.len(),
            format = %dataset.format,
            skipped = dataset.skipped.not_chips,
            other_depression = dataset.skipped.other_depression,
            digest = %dataset.digest,
            "loaded dataset {}",
            path.display()
        );
        Ok(dataset)
    }

    /// Records a finished configuration run; with `--force` it replaces the one with the
    /// same configuration hash.
    fn record(&mut self, run: &NewRun<'_>) -> Result<String> {
        Ok(match self.args.force {
            true => self.store.replace_finished_run(run)?,
            false => self.store.record_finished_run(run)?,
        })
    }

    fn backend(&self) -> Backend {
        // Validated when the plan was expanded.
        self.plan.spec.svm.backend.parse().unwrap_or_default()
    }

    fn params_of(&self, feature: usize, grid: usize, stage: &str) -> Vec<(String, ParamValue)> {
        self.plan.params_of(feature, grid, stage)
    }

    fn run_name(&self, feature: usize, grid: usize) -> String {
        self.plan.run_name(feature, grid)
    }

    fn transform(&self, feature: usize) -> FeatureTransform {
        FeatureTransform {
            standardize: self.plan.spec.svm.standardize,
            pca: self.plan.features[feature].pca,
        }
    }

    fn settings(&self, feature: usize) -> CvSettings {
        CvSettings {
            folds: self.plan.spec.svm.folds,
            seed: self.plan.spec.seed,
            transform: self.transform(feature),
            backend: self.backend(),
        }
    }

    /// Step 4: cross-validates every configuration not yet finished; returns how many
    /// were run and how many skipped.
    fn cross_validate(&mut self, dataset: &Dataset, y_train: &[usize]) -> Result<(usize, usize)> {
        let (mut ran, mut skipped) = (0, 0);
        // Settings that differ only in PCA follow each other in the plan: their train
        // features are extracted once.
        let mut last: Option<(String, Array2<f64>, f64)> = None;
        // What is left to do, first, so that progress can count the whole study.
        let mut work = Vec::with_capacity(self.plan.features.len());
        for fi in 0..self.plan.features.len() {
            let mut pending = Vec::new();
            for gi in 0..self.plan.grid.len() {
                if !self.shard.takes(fi * self.plan.grid.len() + gi) {
                    continue;
                }
                let hash = config_hash(&dataset.digest, &self.params_of(fi, gi, "cv"));
                match self.store.run_by_hash(self.experiment, &hash)? {
                    Some((_, RunStatus::Finished)) if !self.args.force => skipped += 1,
                    _ => pending.push((gi, hash)),
                }
            }
            work.push(pending);
        }
        let clock = progress::StudyClock::new(work.iter().map(Vec::len).sum());
        for (fi, pending) in work.into_iter().enumerate() {
            let feature = &self.plan.features[fi];
            if pending.is_empty() {
                continue;
            }
            let key = format!("{} {:?}", feature.preprocess, feature.method);
            if last.as_ref().is_none_or(|(k, _, _)| *k != key) {
                // The previous setting's features go before this one's are made.
                drop(last.take());
                let (x, seconds) = extract(feature, dataset, Split::Train)?;
                last = Some((key, x, seconds));
            }
            let (_, x_train, feature_seconds) = last.as_ref().context("features just extracted")?;
            let (x_train, feature_seconds) = (x_train, *feature_seconds);
            let grid: Vec<_> = pending
                .iter()
                .map(|(gi, _)| self.plan.grid[*gi].svm.clone())
                .collect();
            let metric = &self.plan.spec.svm.metric;
            let progress = progress::GridProgress::new(
                feature.method.name(),
                metric,
                self.plan.spec.svm.folds,
                pending
                    .iter()
                    .map(|(gi, _)| self.run_name(fi, *gi))
                    .collect(),
                &clock,
            );
            let start_ms = now_ms();
            let outcomes = cross_validate_grid(
                x_train.view(),
                y_train,
                dataset.classes.len(),
                &grid,
                &self.settings(fi),
                &|fit: FitDone<'_>| {
                    let score = fit.evaluation.metrics.get(metric).unwrap_or(f64::NAN);
                    progress.fold_done(
                        fit.configuration,
                        score,
                        fit.evaluation.fit_seconds + fit.evaluation.predict_seconds,
                    );
                },
            )
            .with_context(|| format!("cross-validating {}", feature.method.name()))?;
            progress.finish();
            let end_ms = now_ms();
            let mut finished = Vec::with_capacity(pending.len());
            for ((gi, hash), outcome) in pending.iter().zip(outcomes) {
                let mut metrics = Vec::new();
                let mut warnings = Vec::new();
                for (fold, evaluation) in outcome.folds.iter().enumerate() {
                    for warning in evaluation.warnings() {
                        tracing::warn!("{}, fold {fold}: {warning}", self.run_name(fi, *gi));
                        warnings.push(format!("fold {fold}: {warning}"));
                    }
                    metrics.push(Metric::new(
                        "iteration_cap_hits",
                        evaluation.capped_pairs.len() as f64,
                        fold as i64,
                    ));
                    metrics.push(Metric::new(
                        "solver_iterations",
                        evaluation.iterations as f64,
                        fold as i64,
                    ));
                    let step = fold as i64;
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
                    // The headline value every stage shares, so one filter or `runs best
                    // --metric f1_macro` reads CV and test runs alike.
                    metrics.push(Metric::new(name.to_string(), mean, 0));
                }
                metrics.push(Metric::new("feature_seconds", feature_seconds, 0));
                metrics.push(Metric::new("feature_dim", x_train.ncols() as f64, 0));
                metrics.push(Metric::new(
                    "svm_input_dim",
                    feature.pca.map_or(x_train.ncols(), |p| p.components) as f64,
                    0,
                ));
                finished.push(NewRun {
                    experiment_id: self.experiment,
                    parent: Some(self.parent),
                    name: self.run_name(fi, *gi),
                    config_hash: hash.clone(),
                    params: self.params_of(fi, *gi, "cv"),
                    metrics,
                    tags: [
                        ("stage".to_owned(), "cv".to_owned()),
                        ("dataset_digest".to_owned(), dataset.digest.clone()),
                    ]
                    .into_iter()
                    .chain(
                        (!warnings.is_empty())
                            .then(|| ("warnings".to_owned(), warnings.join("; "))),
                    )
                    .collect(),
                    start_ms,
                    end_ms,
                });
            }
            // A method's grid in one transaction: all of it is recorded or none.
            match self.args.force {
                true => self.store.replace_finished_runs(&finished)?,
                false => self.store.record_finished_runs(&finished)?,
            };
            ran += finished.len();
        }
        Ok((ran, skipped))
    }

    /// CV summaries of every configuration of the plan, read back from the database.
    fn cv_records(&self, digest: &str) -> Result<Vec<CvRecord>> {
        let mut records = Vec::with_capacity(self.plan.configurations());
        for fi in 0..self.plan.features.len() {
            for gi in 0..self.plan.grid.len() {
                let hash = config_hash(digest, &self.params_of(fi, gi, "cv"));
                let Some((uuid, RunStatus::Finished)) =
                    self.store.run_by_hash(self.experiment, &hash)?
                else {
                    bail!(
                        "configuration `{}` has no finished run after cross-validation",
                        self.run_name(fi, gi)
                    );
                };
                let run = self.store.run(&uuid)?;
                records.push(CvRecord {
                    feature: fi,
                    grid: gi,
                    cv_accuracy: mean_std_of(&run, "cv_accuracy"),
                    cv_f1_macro: mean_std_of(&run, "cv_f1_macro"),
                    cv_selection: mean_std_of(&run, &format!("cv_{}", self.plan.spec.svm.metric)),
                    fit_seconds: run.metric_steps("fit_seconds").iter().sum(),
                    uuid,
                });
            }
        }
        Ok(records)
    }

    /// The method's configuration with the best mean of the CV selection metric.
    fn best_record<'r>(&self, method: &str, records: &'r [CvRecord]) -> Option<&'r CvRecord> {
        let mut best: Option<&CvRecord> = None;
        for r in records
            .iter()
            .filter(|r| self.plan.features[r.feature].method.name() == method)
        {
            // Strictly greater: ties go to the configuration enumerated first.
            if best.is_none_or(|b| r.cv_selection.0 > b.cv_selection.0) {
                best = Some(r);
            }
        }
        best
    }

    /// HOG glyphs (scikit-image's visualisation) of the first train chip of every class,
    /// preprocessed and parameterised as the best HOG configuration.
    fn hog_glyphs(&self, records: &[CvRecord], dataset: &Dataset) -> Result<Option<ImageFigure>> {
        let Some(best) = self.best_record("hog", records) else {
            return Ok(None);
        };
        let feature = &self.plan.features[best.feature];
        let FeatureMethod::Hog(params) = &feature.method else {
            return Ok(None);
        };
        let train: Vec<_> = dataset.chips_in(Split::Train).collect();
        let mut panels = Vec::new();
        for (class_index, class) in dataset.classes.iter().enumerate() {
            let Some(position) = train.iter().position(|c| c.class_index == class_index) else {
                continue;
            };
            let chip = prepared(&feature.preprocess, dataset, train[position])?;
            let glyphs = hog_image(chip.view(), params).with_context(|| {
                format!("HOG glyphs of {}", dataset.chip_label(train[position]))
            })?;
            panels.push((class.clone(), chip));
            panels.push((format!("{class} HOG"), glyphs));
        }
        Ok(Some(ImageFigure {
            file_stem: "hog_glyphs".to_owned(),
            caption: format!(
                "HOG glyphs (scikit-image's visualisation) of the first train chip of each class, with the best HOG setting: {}",
                feature.describe()
            ),
            columns: 4,
            panels,
        }))
    }

    /// Step 5 for one method: the best CV configuration, refit on train, scored on test.
    fn test_best(
        &mut self,
        method: &str,
        records: &[CvRecord],
        dataset: &Dataset,
        y_train: &[usize],
        y_test: &[usize],
    ) -> Result<MethodResult> {
        let best = self
            .best_record(method, records)
            .context("a feature method without configurations")?;
        let (fi, gi) = (best.feature, best.grid);
        let feature = &self.plan.features[fi];
        let params = self.params_of(fi, gi, "test");
        let hash = config_hash(&dataset.digest, &params);
        let uuid = match self.store.run_by_hash(self.experiment, &hash)? {
            Some((uuid, RunStatus::Finished)) if !self.args.force => uuid,
            _ => {
                let start_ms = now_ms();
                let (x_train, train_seconds) = extract(feature, dataset, Split::Train)?;
                let feature_dim = x_train.ncols();
                let mut test_seconds = 0.0;
                // The training features are transformed and dropped before the test
                // features are made: one split's features in memory at a time.
                let (evaluation, predicted) = refit_and_test_staged(
                    CowArray::from(x_train),
                    y_train,
                    || -> Result<CowArray<'static, f64, Ix2>> {
                        let (x_test, seconds) = extract(feature, dataset, Split::Test)?;
                        test_seconds = seconds;
                        Ok(CowArray::from(x_test))
                    },
                    y_test,
                    dataset.classes.len(),
                    &self.plan.grid[gi].svm,
                    &self.transform(fi),
                    self.backend(),
                )
                .with_context(|| format!("refitting the best {method} configuration"))?;
                let confusion = confusion_matrix(y_test, &predicted, dataset.classes.len());
                let confusion: Vec<Vec<usize>> =
                    confusion.outer_iter().map(|r| r.to_vec()).collect();
                let mut metrics: Vec<Metric> = evaluation
                    .metrics
                    .named()
                    .iter()
                    .flat_map(|(name, value)| {
                        [
                            Metric::new(format!("test_{name}"), *value, 0),
                            Metric::new(name.to_string(), *value, 0),
                        ]
                    })
                    .collect();
                metrics.extend([
                    Metric::new("feature_seconds", train_seconds + test_seconds, 0),
                    Metric::new("feature_dim", feature_dim as f64, 0),
                    Metric::new(
                        "svm_input_dim",
                        feature.pca.map_or(feature_dim, |p| p.components) as f64,
                        0,
                    ),
                    Metric::new("fit_seconds", evaluation.fit_seconds, 0),
                    Metric::new("predict_seconds", evaluation.predict_seconds, 0),
                    Metric::new("support_vectors", evaluation.support_vectors as f64, 0),
                    Metric::new("gamma_value", evaluation.gamma, 0),
                    Metric::new(
                        "iteration_cap_hits",
                        evaluation.capped_pairs.len() as f64,
                        0,
                    ),
                    Metric::new("solver_iterations", evaluation.iterations as f64, 0),
                ]);
                for warning in evaluation.warnings() {
                    tracing::warn!("refit of the best {method} configuration: {warning}");
                }
                if !progress::on_terminal() {
                    let metric = &self.plan.spec.svm.metric;
                    let value = evaluation.metrics.get(metric).unwrap_or(f64::NAN);
                    println!(
                        "refit {}: test {metric} {value:.4} ({:.1} s)",
                        self.run_name(fi, gi),
                        (now_ms() - start_ms) as f64 / 1000.0
                    );
                }
                self.record(&NewRun {
                    experiment_id: self.experiment,
                    parent: Some(self.parent),
                    name: format!("test {}", self.run_name(fi, gi)),
                    config_hash: hash,
                    params,
                    metrics,
                    tags: vec![
                        ("stage".to_owned(), "test".to_owned()),
                        ("dataset_digest".to_owned(), dataset.digest.clone()),
                        ("cv_run".to_owned(), best.uuid.clone()),
                        (
                            "confusion_matrix".to_owned(),
                            serde_json::to_string(&confusion)?,
                        ),
                        (
                            "classes".to_owned(),
                            serde_json::to_string(&dataset.classes)?,
                        ),
                    ],
                    start_ms,
                    end_ms: now_ms(),
                })?
            }
        };
        let run = self.store.run(&uuid)?;
        let metric = |key: &str| run.metric(key, 0).unwrap_or(f64::NAN);
        let confusion: Vec<Vec<usize>> = run
            .tags
            .get("confusion_matrix")
            .map(|s| serde_json::from_str(s))
            .transpose()
            .context("test run's confusion_matrix tag is not valid JSON")?
            .unwrap_or_default();
        Ok(MethodResult {
            method: method.to_owned(),
            best_params: format!(
                "{} {}",
                feature.describe(),
                spec::describe(&self.plan.grid[gi].params)
            ),
            feature_dim: metric("feature_dim") as usize,
            cv_accuracy: best.cv_accuracy,
            cv_f1_macro: best.cv_f1_macro,
            cv_selection: best.cv_selection,
            test_accuracy: metric("test_accuracy"),
            test_precision_macro: metric("test_precision_macro"),
            test_recall_macro: metric("test_recall_macro"),
            test_f1_macro: metric("test_f1_macro"),
            feature_seconds: metric("feature_seconds"),
            confusion,
        })
    }
}

/// A synthetic dataset folder must have been generated with the spec's settings,
/// or the study would silently run on other data.
fn check_synthetic_matches(path: &Path, config: &SynthConfig) -> Result<()> {
    match synth::read_config(path)? {
        Some(found) if &found == config => Ok(()),
        Some(found) => bail!(
            "{} holds a synthetic dataset generated with other settings ({} in it, the spec asks for {}): \
             delete the folder to regenerate it, or set `dataset.path` to another folder",
            path.display(),
            differing(&found, config),
            differing(config, &found),
        ),
        None => bail!(
            "{} exists but has no {}: it is not a synthetic dataset made by sarlab; \
             use source = \"folder\" for your own data or point `dataset.path` elsewhere",
            path.display(),
            synth::CONFIG_FILE
        ),
    }
}

/// `key = value` of the settings of `a` that differ from `b`.
fn differing(a: &SynthConfig, b: &SynthConfig) -> String {
    let (ta, tb) = (
        toml::Table::try_from(a).unwrap_or_default(),
        toml::Table::try_from(b).unwrap_or_default(),
    );
    ta.iter()
        .filter(|(k, v)| tb.get(*k) != Some(*v))
        .map(|(k, v)| format!("{k} = {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One chip preprocessed: its crop window widened to `f64` (only the window), then
/// the stages after the crop.
pub(crate) fn prepared(
    preprocess: &Preprocess,
    dataset: &Dataset,
    chip: &Chip,
) -> Result<Array2<f64>> {
    let context = || {
        format!(
            "chip {} in {}",
            dataset.chip_label(chip),
            dataset.root.display()
        )
    };
    let (rows, cols) = preprocess.window(chip.size).with_context(context)?;
    let window = chip
        .window_f64(rows, cols)
        .with_context(|| format!("{}: the crop window was not kept when loading", context()))?;
    preprocess.after_crop(window).with_context(context)
}

/// Features of every chip of a split, with the seconds it took. Chips are preprocessed
/// as they are needed, so only the feature matrix is held, never every preprocessed
/// chip.
fn extract(feature: &FeatureConfig, dataset: &Dataset, split: Split) -> Result<(Array2<f64>, f64)> {
    let chips: Vec<&Chip> = dataset.chips_in(split).collect();
    let bar = progress::bar(
        chips.len(),
        format!("{} features ({split})", feature.method.name()),
    );
    let start = Instant::now();
    let x = feature
        .method
        .extract_with(
            chips.len(),
            |k| prepared(&feature.preprocess, dataset, chips[k]),
            &|| bar.inc(1),
        )
        .with_context(|| {
            format!(
                "extracting {} features ({})",
                feature.method.name(),
                feature.describe()
            )
        })?;
    bar.finish_and_clear();
    Ok((x, start.elapsed().as_secs_f64()))
}

fn print_summary(plan: &Plan, args: &RunArgs, parent: &str, outcome: &StudyOutcome, seconds: f64) {
    let r = &outcome.report;
    println!(
        "study {}: {} feature method(s), {} configuration(s) ({} run now, {} already finished) on {} train / {} test chips, {:.1} s",
        plan.spec.name,
        r.methods.len(),
        plan.configurations(),
        outcome.ran,
        outcome.skipped,
        r.train_chips,
        r.test_chips,
        seconds
    );
    println!(
        "  {:<10} {:>16} {:>16} {:>9} {:>9}  best parameters",
        "method", "CV acc %", "CV macro-F1 %", "test acc", "test F1"
    );
    // Ordered as the report orders them: by the CV selection metric, never by test.
    let ordered = r.ordered_by_selection();
    let methods: Vec<&MethodResult> = ordered.methods.iter().collect();
    for m in &methods {
        println!(
            "  {:<10} {:>7.2} ± {:<6.2} {:>7.2} ± {:<6.2} {:>9.2} {:>9.2}  {}",
            m.method,
            100.0 * m.cv_accuracy.0,
            100.0 * m.cv_accuracy.1,
            100.0 * m.cv_f1_macro.0,
            100.0 * m.cv_f1_macro.1,
            100.0 * m.test_accuracy,
            100.0 * m.test_f1_macro,
            m.best_params
        );
    }
    if let Some(best) = methods.first() {
        println!(
            "best method by mean CV {}: {} ({:.2} %; test macro-F1 {:.2} %)",
            r.selection_metric,
            best.method,
            100.0 * best.cv_selection.0,
            100.0 * best.test_f1_macro
        );
    }
    println!("runs:   {} (study run {parent})", args.db.display());
    println!("report: {}", outcome.report_index.display());
}
