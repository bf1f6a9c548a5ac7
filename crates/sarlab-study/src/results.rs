//! A study's results read back from the database: every configuration's CV summary,
//! each method's best configuration with its test run, and the report assembled from
//! them. The engine writes its report through here and `sarlab report` rebuilds one
//! from a database alone, so the two can never show different numbers.

use std::path::Path;

use sarlab_report::{ClassScore, ConfigResult, MethodResult, StudyReport};
use sarlab_track::{RunStatus, Store, StoredRun, config_hash};

use crate::error::{Context, Error, Result};
use crate::plan::Plan;
use crate::spec::{DatasetSource, Spec};

/// Cross-validation summary of one recorded configuration.
#[derive(Debug, Clone)]
pub(crate) struct CvRecord {
    pub feature: usize,
    pub grid: usize,
    pub uuid: String,
    pub cv_accuracy: (f64, f64),
    pub cv_f1_macro: (f64, f64),
    /// Mean and std of the spec's selection metric (`svm.metric`).
    pub cv_selection: (f64, f64),
    pub fit_seconds: f64,
}

/// What the database holds for one plan on one dataset.
pub(crate) struct Recorded<'s> {
    pub plan: &'s Plan,
    pub store: &'s Store,
    pub experiment: i64,
    /// The dataset's digest: with a configuration's parameters, its hash.
    pub digest: &'s str,
}

fn mean_std_of(run: &StoredRun, key: &str) -> (f64, f64) {
    (
        run.metric(&format!("{key}_mean"), 0).unwrap_or(f64::NAN),
        run.metric(&format!("{key}_std"), 0).unwrap_or(f64::NAN),
    )
}

/// The method's configuration with the best mean of the CV selection metric; ties go
/// to the configuration enumerated first. `records` are in enumeration order.
pub(crate) fn best_record<'r>(
    plan: &Plan,
    method: &str,
    records: &'r [CvRecord],
) -> Option<&'r CvRecord> {
    let mut best: Option<&CvRecord> = None;
    for r in records
        .iter()
        .filter(|r| plan.features[r.feature].method.name() == method)
    {
        // Strictly greater, and NaN never wins.
        if best.is_none_or(|b| {
            r.cv_selection.0 > b.cv_selection.0
                || (b.cv_selection.0.is_nan() && !r.cv_selection.0.is_nan())
        }) {
            best = Some(r);
        }
    }
    best
}

/// A JSON matrix tag of `run` (`confusion_matrix`, `cv_confusion_matrix`); empty when
/// the run has none.
fn matrix_tag(run: &StoredRun, key: &str) -> Result<Vec<Vec<usize>>> {
    run.tags
        .get(key)
        .map(|s| serde_json::from_str(s))
        .transpose()
        .context_with(|| format!("run {}: the `{key}` tag is not a JSON matrix", run.uuid))
        .map(Option::unwrap_or_default)
}

/// The population standard deviation over folds of each class's F1, from the folds'
/// confusion matrices; `None` for a class some fold cannot score.
fn fold_f1_std(folds: &[Vec<Vec<usize>>], classes: &[String]) -> Vec<(String, f64)> {
    let per_fold: Vec<Vec<ClassScore>> = folds.iter().map(|cm| class_scores(cm, classes)).collect();
    let Some(first) = per_fold.first() else {
        return Vec::new();
    };
    first
        .iter()
        .filter_map(|c| {
            let f1: Vec<f64> = per_fold
                .iter()
                .filter_map(|fold| fold.iter().find(|d| d.class == c.class).map(|d| d.f1))
                .collect();
            (f1.len() == per_fold.len()).then(|| (c.class.clone(), sarlab_svm::mean_std(&f1).1))
        })
        .collect()
}

/// Per-class scores of a confusion matrix, named by `classes`.
fn class_scores(confusion: &[Vec<usize>], classes: &[String]) -> Vec<ClassScore> {
    let n = confusion.len();
    if n == 0 || confusion.iter().any(|row| row.len() != n) {
        return Vec::new();
    }
    let cm = ndarray::Array2::from_shape_fn((n, n), |(t, p)| confusion[t][p]);
    sarlab_svm::per_class_from_confusion(&cm)
        .into_iter()
        .map(|s| ClassScore {
            class: classes
                .get(s.class)
                .cloned()
                .unwrap_or_else(|| format!("class {}", s.class)),
            precision: s.precision,
            recall: s.recall,
            f1: s.f1,
            f1_fold_std: None,
            support: s.support,
        })
        .collect()
}

impl Recorded<'_> {
    /// The hash of configuration (`feature`, `grid`) at `stage`.
    pub(crate) fn hash_of(&self, feature: usize, grid: usize, stage: &str) -> String {
        config_hash(self.digest, &self.plan.params_of(feature, grid, stage))
    }

    /// The finished run with this hash, if any.
    pub(crate) fn finished_run(&self, hash: &str) -> Result<Option<String>> {
        Ok(match self.store.run_by_hash(self.experiment, hash)? {
            Some((uuid, RunStatus::Finished)) => Some(uuid),
            _ => None,
        })
    }

    /// CV summaries of every configuration of the plan, in enumeration order; a
    /// configuration without a finished run is an error (with halving, the
    /// configurations eliminated before the last rung are left out).
    pub(crate) fn cv_records(&self) -> Result<Vec<CvRecord>> {
        let plan = self.plan;
        let metric = plan.spec.svm.metric;
        let mut records = Vec::with_capacity(plan.configurations());
        for fi in 0..plan.features.len() {
            for gi in 0..plan.grid.len() {
                let Some(uuid) = self.finished_run(&self.hash_of(fi, gi, "cv"))? else {
                    if matches!(plan.search, sarlab_svm::SearchStrategy::Halving(_)) {
                        // Eliminated at an earlier rung: only survivors reach full CV.
                        continue;
                    }
                    return Err(Error::Study(format!(
                        "configuration `{}` has no finished cross-validation run in {}",
                        plan.run_name(fi, gi),
                        self.store.path().display()
                    )));
                };
                let run = self.store.run(&uuid)?;
                records.push(CvRecord {
                    feature: fi,
                    grid: gi,
                    cv_accuracy: mean_std_of(&run, "cv_accuracy"),
                    cv_f1_macro: mean_std_of(&run, "cv_f1_macro"),
                    cv_selection: mean_std_of(&run, &format!("cv_{metric}")),
                    fit_seconds: run.metric_steps("fit_seconds").iter().sum(),
                    uuid,
                });
            }
        }
        Ok(records)
    }

    /// The method's best configuration with its recorded test run.
    pub(crate) fn method_result(
        &self,
        method: &str,
        records: &[CvRecord],
        classes: &[String],
    ) -> Result<MethodResult> {
        let plan = self.plan;
        let best = best_record(plan, method, records).ok_or_else(|| {
            Error::Study(format!("feature method {method} has no configurations"))
        })?;
        let (fi, gi) = (best.feature, best.grid);
        let test_run = self
            .finished_run(&self.hash_of(fi, gi, "test"))?
            .ok_or_else(|| {
                Error::Study(format!(
                    "the best {method} configuration `{}` has no finished test run in {}",
                    plan.run_name(fi, gi),
                    self.store.path().display()
                ))
            })?;
        let run = self.store.run(&test_run)?;
        let cv = self.store.run(&best.uuid)?;
        let metric = |key: &str| run.metric(key, 0).unwrap_or(f64::NAN);
        let confusion = matrix_tag(&run, "confusion_matrix")?;
        let cv_confusion = matrix_tag(&cv, "cv_confusion_matrix")?;
        let fold_matrices: Vec<Vec<Vec<usize>>> = cv
            .tags
            .get("cv_fold_confusion_matrices")
            .map(|s| serde_json::from_str(s))
            .transpose()
            .context_with(|| {
                format!(
                    "run {}: the `cv_fold_confusion_matrices` tag is not a JSON list of matrices",
                    cv.uuid
                )
            })?
            .unwrap_or_default();
        let spread = fold_f1_std(&fold_matrices, classes);
        let mut cv_classes = class_scores(&cv_confusion, classes);
        for c in &mut cv_classes {
            c.f1_fold_std = spread.iter().find(|(k, _)| *k == c.class).map(|(_, s)| *s);
        }
        Ok(MethodResult {
            method: method.to_owned(),
            best_params: plan.describe(fi, gi),
            feature_dim: metric("feature_dim") as usize,
            cv_accuracy: best.cv_accuracy,
            cv_f1_macro: best.cv_f1_macro,
            cv_selection: best.cv_selection,
            test_accuracy: metric("test_accuracy"),
            test_precision_macro: metric("test_precision_macro"),
            test_recall_macro: metric("test_recall_macro"),
            test_f1_macro: metric("test_f1_macro"),
            feature_seconds: metric("feature_seconds"),
            test_classes: class_scores(&confusion, classes),
            cv_classes,
            confusion,
            cv_confusion,
            fold_scores: cv.metric_steps(&format!("cv_{}", plan.spec.svm.metric)),
            cv_run: best.uuid.clone(),
            model: self
                .store
                .artifacts(&test_run)?
                .into_iter()
                .find(|a| a.kind == "model")
                .map(|a| a.path),
            test_run,
        })
    }

    /// Every configuration's CV summary as the report shows it.
    pub(crate) fn config_results(&self, records: &[CvRecord]) -> Result<Vec<ConfigResult>> {
        let plan = self.plan;
        records
            .iter()
            .map(|r| {
                let test = match self.finished_run(&self.hash_of(r.feature, r.grid, "test"))? {
                    Some(uuid) => {
                        let run = self.store.run(&uuid)?;
                        match (
                            run.metric("test_accuracy", 0),
                            run.metric("test_f1_macro", 0),
                        ) {
                            (Some(a), Some(f)) => Some((a, f)),
                            _ => None,
                        }
                    }
                    None => None,
                };
                Ok(ConfigResult {
                    method: plan.features[r.feature].method.name().to_owned(),
                    params: plan.describe(r.feature, r.grid),
                    values: plan
                        .params_of(r.feature, r.grid, "cv")
                        .into_iter()
                        .filter(|(k, _)| k != "feature" && k != "stage")
                        .map(|(k, v)| (short_key(&k).to_owned(), v.to_string()))
                        .collect(),
                    cv_accuracy: r.cv_accuracy,
                    cv_f1_macro: r.cv_f1_macro,
                    cv_selection: r.cv_selection,
                    fit_seconds: r.fit_seconds,
                    test,
                })
            })
            .collect()
    }

    /// The report of study run `study_run` (its metadata from the run's tags) over
    /// `records` (from [`Recorded::cv_records`]), with no image figures: those need
    /// the chips.
    pub(crate) fn report(&self, study_run: &str, records: &[CvRecord]) -> Result<StudyReport> {
        let plan = self.plan;
        let run = self.store.run(study_run)?;
        let classes: Vec<String> = match run.tags.get("classes") {
            Some(text) => serde_json::from_str(text).context_with(|| {
                format!("study run {study_run}: the `classes` tag is not a JSON list")
            })?,
            None => self.classes_of_a_test_run(records)?,
        };
        let mut methods = Vec::new();
        for method in plan.methods() {
            methods.push(self.method_result(method, records, &classes)?);
        }
        let count = |key: &str| {
            run.tags
                .get(key)
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0)
        };
        let significance = self.significance(&methods, count("test_chips"))?;
        let tag = |key: &str| run.tags.get(key).cloned().unwrap_or_default();
        Ok(StudyReport {
            study: plan.spec.name.clone(),
            spec_path: plan.spec_path.display().to_string(),
            seed: plan.spec.seed,
            dataset_path: tag("dataset_path"),
            dataset_digest: self.digest.to_owned(),
            classes,
            train_chips: count("train_chips"),
            test_chips: count("test_chips"),
            folds: plan.spec.svm.folds,
            selection_metric: plan.spec.svm.metric.to_string(),
            db_path: self.store.path().display().to_string(),
            parent_run: study_run.to_owned(),
            git_commit: tag("git_commit"),
            configs: self.config_results(records)?,
            sweeps: crate::sweep::sweeps(plan, records)?,
            methods,
            images: Vec::new(),
            significance,
            provenance: provenance(&run),
            spec_toml: plan.spec_text.clone(),
        })
    }

    /// Study runs recorded before the `classes` tag: the classes a test run names.
    fn classes_of_a_test_run(&self, records: &[CvRecord]) -> Result<Vec<String>> {
        for method in self.plan.methods() {
            if let Some(best) = best_record(self.plan, method, records)
                && let Some(uuid) =
                    self.finished_run(&self.hash_of(best.feature, best.grid, "test"))?
                && let Some(text) = self.store.run(&uuid)?.tags.get("classes")
            {
                return serde_json::from_str(text)
                    .context_with(|| format!("run {uuid}: the `classes` tag is not a JSON list"));
            }
        }
        Ok(Vec::new())
    }
}

/// `preprocess.crop` → `crop`: the last part of a dotted key, as tables and figures
/// label parameters.
pub(crate) fn short_key(key: &str) -> &str {
    key.rsplit('.').next().unwrap_or(key)
}

/// Where and how a study ran, from its run's record.
fn provenance(run: &StoredRun) -> Vec<(String, String)> {
    let mut out = vec![(
        "date".to_owned(),
        format!("{} UTC", sarlab_track::utc_text(run.start_ms)),
    )];
    for (key, label) in [
        ("host", "host"),
        ("threads", "threads"),
        ("sarlab_version", "sarlab version"),
        ("sarlab_commit", "sarlab build commit"),
        ("git_dirty", "uncommitted changes"),
        ("command_line", "command line"),
    ] {
        if let Some(value) = run.tags.get(key) {
            out.push((label.to_owned(), value.clone()));
        }
    }
    out
}

/// The report of a finished study run, rebuilt from the database alone: the plan from
/// the spec TOML the run recorded, every number from the recorded runs.
pub fn rebuild_report(store: &Store, study_run: &str) -> Result<StudyReport> {
    let run = store.run(study_run)?;
    if run.tags.get("stage").map(String::as_str) != Some("study") {
        return Err(Error::Study(format!(
            "run {study_run} is not a study run (its stage is `{}`); give the id of a study's own run",
            run.tags.get("stage").map_or("none", String::as_str)
        )));
    }
    if run.status != RunStatus::Finished {
        return Err(Error::Study(format!(
            "study run {study_run} is {}, not FINISHED: its report would be incomplete",
            run.status.as_str()
        )));
    }
    if run.params.contains_key("shard") {
        return Err(Error::Study(format!(
            "study run {study_run} ran one shard; a report comes from the run of the whole spec on the merged database"
        )));
    }
    let missing = |key: &str| {
        Error::Study(format!(
            "study run {study_run} has no `{key}` tag (recorded by an older sarlab); rerun the spec to make its report"
        ))
    };
    let text = run
        .tags
        .get("spec_toml")
        .ok_or_else(|| missing("spec_toml"))?;
    let digest = run
        .tags
        .get("dataset_digest")
        .ok_or_else(|| missing("dataset_digest"))?;
    let spec_path = run
        .params
        .get("spec")
        .map_or_else(|| "spec.toml".to_owned(), |p| p.to_string());
    let path = Path::new(&spec_path);
    let mut spec = Spec::parse(text, path)?;
    // A `--data` override is recorded as the run's dataset path.
    if let Some(data) = run.params.get("dataset.path").map(|p| p.to_string())
        && Path::new(&data) != spec.dataset.path
    {
        spec.dataset.path = data.into();
        spec.dataset.source = DatasetSource::Folder;
        spec.dataset.synthetic = None;
    }
    let plan = Plan::new(spec, path, text.clone())?;
    let experiment = store.experiment_id(&run.experiment)?.ok_or_else(|| {
        Error::Study(format!(
            "experiment `{}` is not in the database",
            run.experiment
        ))
    })?;
    let recorded = Recorded {
        plan: &plan,
        store,
        experiment,
        digest,
    };
    recorded.report(study_run, &recorded.cv_records()?)
}
