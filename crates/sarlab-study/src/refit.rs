//! Step 4 of a study: each method's best configuration by mean CV selection metric is
//! refit on the whole train split and scored on the test split, once.

use ndarray::{CowArray, Ix2};
use sarlab_io::{Dataset, Split};
use sarlab_svm::{Evaluation, refit_and_test_staged};
use sarlab_track::{Metric, NewRun, Prediction, now_ms};

use crate::engine::{Labels, StudyRun};
use crate::error::{Context, Error, Result};
use crate::load;
use crate::observer::Event;
use crate::results::{CvRecord, best_record};

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
    /// Makes sure the best CV configuration of `method` has a finished test run:
    /// refits it on train and scores it on test unless the database has one (and
    /// `force` does not redo it).
    pub(crate) fn ensure_tested(
        &mut self,
        method: &'static str,
        records: &[CvRecord],
        dataset: &Dataset,
        labels: &Labels,
    ) -> Result<()> {
        let best = best_record(self.plan, method, records).ok_or_else(|| {
            Error::Study(format!("feature method {method} has no configurations"))
        })?;
        let hash = self.hash_of(&dataset.digest, best.feature, best.grid, "test");
        if self.finished(&hash)?.is_none() {
            self.refit(method, best, dataset, labels, hash)?;
        }
        Ok(())
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
        let problem = sarlab_svm::ProblemSize {
            samples: x_train.nrows(),
            features: feature_dim,
            class_counts: &crate::cross_validation::class_counts(
                &labels.train,
                dataset.classes.len(),
            ),
            folds: 1,
            configurations: 1,
            transformed: false,
            threads: rayon::current_num_threads(),
        };
        crate::memory::require(problem.refit_bytes(labels.test.len()), || {
            format!(
                "refitting the best {method} configuration ({} train chips × {feature_dim} features)",
                x_train.nrows()
            )
        })?;
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
        let confusion: Vec<Vec<usize>> = evaluation
            .confusion
            .outer_iter()
            .map(|r| r.to_vec())
            .collect();
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
                ("selection_metric".to_owned(), metric.to_string()),
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
                .zip(
                    predicted
                        .labels
                        .iter()
                        .zip(predicted.decision_values.outer_iter()),
                )
                .map(|(chip, (&predicted, decisions))| Prediction {
                    chip: dataset.chip_label(chip),
                    truth: chip.class_index,
                    predicted,
                    decision_values: decisions.to_vec(),
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
    use crate::plan::Plan;
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
