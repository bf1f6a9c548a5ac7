//! Step 4 of a study: each method's best configuration by mean CV selection metric is
//! refit on the whole train split and scored on the test split, once.

use ndarray::{CowArray, Ix2};
use sarlab_io::{Dataset, Split};
use sarlab_report::MethodResult;
use sarlab_svm::{Evaluation, confusion_matrix, refit_and_test_staged};
use sarlab_track::{Metric, NewRun, Prediction, StoredRun, now_ms};

use crate::engine::{Labels, StudyRun};
use crate::error::{Context, Error, Result};
use crate::load;
use crate::observer::Event;
use crate::plan::Plan;
use crate::significance::MethodRuns;

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

/// Metrics of a test refit.
fn test_metrics(
    evaluation: &Evaluation,
    feature_seconds: f64,
    feature_dim: usize,
    svm_input_dim: usize,
) -> Vec<Metric> {
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
        Metric::new("feature_seconds", feature_seconds, 0),
        Metric::new("feature_dim", feature_dim as f64, 0),
        Metric::new("svm_input_dim", svm_input_dim as f64, 0),
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
    metrics
}

impl StudyRun<'_> {
    /// CV summaries of every configuration of the plan, read back from the database,
    /// in enumeration order.
    pub(crate) fn cv_records(&self, digest: &str) -> Result<Vec<CvRecord>> {
        let plan = self.plan;
        let metric = plan.spec.svm.metric;
        let mut records = Vec::with_capacity(plan.configurations());
        for fi in 0..plan.features.len() {
            for gi in 0..plan.grid.len() {
                let hash = self.hash_of(digest, fi, gi, "cv");
                let Some(uuid) =
                    self.store
                        .run_by_hash(self.experiment, &hash)?
                        .and_then(|(uuid, status)| {
                            (status == sarlab_track::RunStatus::Finished).then_some(uuid)
                        })
                else {
                    return Err(Error::Study(format!(
                        "configuration `{}` has no finished run after cross-validation",
                        plan.run_name(fi, gi)
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

    /// The best CV configuration of `method`, refit on train and scored on test (or
    /// its recorded test run).
    pub(crate) fn test_best(
        &mut self,
        method: &'static str,
        records: &[CvRecord],
        dataset: &Dataset,
        labels: &Labels,
    ) -> Result<MethodRuns> {
        let plan = self.plan;
        let best = best_record(plan, method, records).ok_or_else(|| {
            Error::Study(format!("feature method {method} has no configurations"))
        })?;
        let (fi, gi) = (best.feature, best.grid);
        let hash = self.hash_of(&dataset.digest, fi, gi, "test");
        let uuid = match self.finished(&hash)? {
            Some(uuid) => uuid,
            None => self.refit(method, best, dataset, labels, hash)?,
        };
        let run = self.store.run(&uuid)?;
        let metric = |key: &str| run.metric(key, 0).unwrap_or(f64::NAN);
        let confusion: Vec<Vec<usize>> = run
            .tags
            .get("confusion_matrix")
            .map(|s| serde_json::from_str(s))
            .transpose()
            .context_with(|| "the test run's confusion_matrix tag is not valid JSON".to_owned())?
            .unwrap_or_default();
        let result = MethodResult {
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
            confusion,
        };
        Ok(MethodRuns {
            result,
            test_run: uuid,
            cv_run: best.uuid.clone(),
        })
    }

    /// Refits configuration `best` on the train split only, scores it on the test
    /// split and records the test run; returns its uuid.
    fn refit(
        &mut self,
        method: &'static str,
        best: &CvRecord,
        dataset: &Dataset,
        labels: &Labels,
        hash: String,
    ) -> Result<String> {
        let plan = self.plan;
        let (fi, gi) = (best.feature, best.grid);
        let feature = &plan.features[fi];
        let start_ms = now_ms();
        let (x_train, train_seconds) =
            load::extract(feature, dataset, Split::Train, self.observer)?;
        let feature_dim = x_train.ncols();
        let mut test_seconds = 0.0;
        // The training features are transformed and dropped before the test features
        // are made: one split's features in memory at a time.
        let (evaluation, predicted) = refit_and_test_staged(
            CowArray::from(x_train),
            &labels.train,
            || -> Result<CowArray<'static, f64, Ix2>> {
                let (x_test, seconds) =
                    load::extract(feature, dataset, Split::Test, self.observer)?;
                test_seconds = seconds;
                Ok(CowArray::from(x_test))
            },
            &labels.test,
            dataset.classes.len(),
            &plan.grid[gi].svm,
            &self.transform(fi),
            plan.spec.svm.backend,
        )
        .context_with(|| format!("refitting the best {method} configuration"))?;
        for warning in evaluation.warnings() {
            tracing::warn!("refit of the best {method} configuration: {warning}");
        }
        let confusion = confusion_matrix(&labels.test, &predicted, dataset.classes.len());
        let confusion: Vec<Vec<usize>> = confusion.outer_iter().map(|r| r.to_vec()).collect();
        let metric = plan.spec.svm.metric;
        let name = plan.run_name(fi, gi);
        self.observer.on(Event::Refit {
            method,
            name: &name,
            metric,
            value: evaluation.metrics.value(metric),
            seconds: (now_ms() - start_ms) as f64 / 1000.0,
        });
        let run = NewRun {
            experiment_id: self.experiment,
            parent: Some(self.parent),
            name: format!("test {name}"),
            config_hash: hash,
            params: plan.params_of(fi, gi, "test"),
            metrics: test_metrics(
                &evaluation,
                train_seconds + test_seconds,
                feature_dim,
                feature.pca.map_or(feature_dim, |p| p.components),
            ),
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
            predictions: dataset
                .chips_in(Split::Test)
                .zip(&predicted)
                .map(|(chip, &predicted)| Prediction {
                    chip: dataset.chip_label(chip),
                    truth: chip.class_index,
                    predicted,
                })
                .collect(),
        };
        Ok(match self.study.force {
            true => self.store.replace_finished_run(&run)?,
            false => self.store.record_finished_run(&run)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn record(feature: usize, grid: usize, selection: f64) -> CvRecord {
        CvRecord {
            feature,
            grid,
            uuid: format!("{feature}-{grid}"),
            cv_accuracy: (0.0, 0.0),
            cv_f1_macro: (0.0, 0.0),
            cv_selection: (selection, 0.0),
            fit_seconds: 0.0,
        }
    }

    #[test]
    fn the_best_is_the_highest_mean_with_ties_to_grid_order() {
        let text = "name = \"t\"\nseed = 1\n[dataset]\nsource = \"folder\"\npath = \"d\"\n\
                    [[features]]\nmethod = \"raw\"\n[[features]]\nmethod = \"hog\"\n[svm]\nC = [1, 2, 3]\n";
        let path = Path::new("t.toml");
        let plan = Plan::new(
            crate::Spec::parse(text, path).expect("spec"),
            path,
            text.to_owned(),
        )
        .expect("plan");
        let records = vec![
            record(0, 0, f64::NAN),
            record(0, 1, 0.8),
            record(0, 2, 0.8),
            record(1, 0, 0.5),
            record(1, 1, 0.9),
            record(1, 2, 0.7),
        ];
        let best = |method| best_record(&plan, method, &records).map(|r| r.uuid.clone());
        // A NaN never wins; of two equal means the first in grid order does.
        assert_eq!(best("raw").as_deref(), Some("0-1"));
        assert_eq!(best("hog").as_deref(), Some("1-1"));
        assert_eq!(best("gabor"), None);
    }
}
