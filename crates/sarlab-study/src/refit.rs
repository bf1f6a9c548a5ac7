//! Step 4 of a study: each method's best configuration by mean CV selection metric is
//! refit on the whole train split and scored on the test split, once.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ndarray::{CowArray, Ix2};
use sarlab_io::{Dataset, Split};
use sarlab_model::{Model, ModelParts};
use sarlab_svm::{Evaluation, Refit, refit_and_test_staged};
use sarlab_track::{ClaimState, Metric, NewRun, ParamValue, Prediction, now_ms};

use crate::claims::Wanted;
use crate::engine::{Labels, StudyRun};
use crate::error::{Context, Error, Result};
use crate::load;
use crate::observer::Event;
use crate::results::CvRecord;

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

/// A test refit's run and model file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestedModel {
    pub run: String,
    pub model: PathBuf,
}

/// Whether a refit another worker holds is waited for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    Yes,
    No,
}

impl StudyRun<'_> {
    /// The test run and model of configuration (`feature`, `grid`): a finished run
    /// whose model file is intact (unless `force`), else refit now, claimed in the
    /// database so no other worker refits it too. When another live worker holds the
    /// claim: `None` with [`Wait::No`]; with [`Wait::Yes`], its run once it is recorded.
    pub(crate) fn ensure_model(
        &mut self,
        feature: usize,
        grid: usize,
        cv: Option<&CvRecord>,
        dataset: &Dataset,
        labels: &Labels,
        wait: Wait,
    ) -> Result<Option<TestedModel>> {
        let hash = self.hash_of(&dataset.digest, feature, grid, "test");
        let name = self.plan.run_name(feature, grid);
        loop {
            // A run recorded before models were saved, or whose model file is gone or
            // changed, is refit and replaced, so that run and file agree.
            let mut redo = false;
            if let Some(uuid) = self.finished(&hash)? {
                if let Some(model) = self.intact_model(&uuid)? {
                    return Ok(Some(TestedModel { run: uuid, model }));
                }
                redo = true;
            }
            let wanted = [Wanted {
                name: &name,
                hash: &hash,
                redo,
            }];
            let state = self.claim(&wanted, 1)?.remove(0);
            match state {
                ClaimState::Claimed { .. } => {
                    return self
                        .refit(feature, grid, cv, dataset, labels, hash)
                        .map(Some);
                }
                ClaimState::Finished { uuid } => {
                    // Finished by another worker since this study began.
                    let model = self.intact_model(&uuid)?.ok_or_else(|| {
                        Error::Study(format!(
                            "test run {uuid} of `{name}`, recorded by another worker, has no intact model file"
                        ))
                    })?;
                    return Ok(Some(TestedModel { run: uuid, model }));
                }
                ClaimState::Busy { .. } | ClaimState::Left => match wait {
                    Wait::No => return Ok(None),
                    Wait::Yes => self.wait_for_workers()?,
                },
            }
        }
    }

    /// The model file of run `uuid`, if it is recorded and its bytes still have the
    /// recorded SHA-256.
    fn intact_model(&self, uuid: &str) -> Result<Option<PathBuf>> {
        for artifact in self.store.artifacts(uuid)? {
            if artifact.kind != "model" {
                continue;
            }
            let path = PathBuf::from(&artifact.path);
            if let Ok(bytes) = std::fs::read(&path)
                && sarlab_io::sha256_hex(&bytes) == artifact.sha256
            {
                return Ok(Some(path));
            }
        }
        Ok(None)
    }

    /// Where the model of the test run with configuration hash `hash` goes.
    fn model_path(&self, method: &str, hash: &str) -> PathBuf {
        let short: String = hash
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(12)
            .collect();
        self.study
            .models
            .join(&self.plan.spec.name)
            .join(format!("{method}-{short}.safetensors"))
    }

    /// Refits configuration (`fi`, `gi`) on the train split only, scores it on the
    /// test split, saves its model and records the test run (replacing one with the
    /// same hash when `replace`); returns the run's uuid and the model's path.
    #[allow(clippy::too_many_arguments)]
    fn refit(
        &mut self,
        fi: usize,
        gi: usize,
        cv: Option<&CvRecord>,
        dataset: &Dataset,
        labels: &Labels,
        hash: String,
    ) -> Result<TestedModel> {
        let plan = self.plan;
        let feature = &plan.features[fi];
        let method = feature.method.name();
        let start_ms = now_ms();
        let training = load::extract_training(feature, dataset, plan.spec.seed, self.observer)?;
        let y_rows = training.labels(&labels.train);
        let (x_train, train_seconds) = (training.x, training.seconds);
        let feature_dim = x_train.ncols();
        let problem = sarlab_svm::ProblemSize {
            samples: x_train.nrows(),
            features: feature_dim,
            class_counts: &crate::cross_validation::class_counts(&y_rows, dataset.classes.len()),
            folds: 1,
            configurations: 1,
            transformed: false,
            threads: rayon::current_num_threads(),
        };
        let probability = plan.probability().then_some(plan.spec.seed);
        let kernel_memory = self.study.kernel_memory;
        let refit_bytes = match &plan.linear_solver {
            Some(solver) => {
                problem.linear_bytes(solver.mapped_len(x_train.nrows()), labels.test.len())
            }
            None => problem.bounded(
                kernel_memory,
                problem.refit_bytes(labels.test.len()),
                problem.refit_kernel_bytes(labels.test.len()),
            ),
        };
        let peak = match probability {
            Some(_) => refit_bytes.max(problem.probability_bytes()),
            None => refit_bytes,
        };
        crate::memory::require(peak, || {
            format!(
                "refitting the {method} configuration ({} train chips × {feature_dim} features)",
                x_train.nrows()
            )
        })?;
        let mut test_seconds = 0.0;
        // The training features are transformed and dropped before the test features
        // are made: one split's features in memory at a time.
        let refit = refit_and_test_staged(
            CowArray::from(x_train),
            &y_rows,
            || -> Result<CowArray<'static, f64, Ix2>> {
                let (x_test, seconds) =
                    load::extract(feature, dataset, Split::Test, self.observer)?;
                test_seconds = seconds;
                Ok(CowArray::from(x_test))
            },
            &labels.test,
            dataset.classes.len(),
            &plan.grid[gi].svm,
            &self.transform(fi, dataset)?,
            sarlab_svm::Engine {
                backend: plan.spec.svm.backend,
                memory: kernel_memory,
            },
            probability,
        )
        .context_with(|| format!("refitting the {method} configuration"))?;
        let evaluation = &refit.evaluation;
        for warning in evaluation.warnings() {
            tracing::warn!("refit of the {method} configuration: {warning}");
        }
        let confusion: Vec<Vec<usize>> = evaluation
            .confusion
            .outer_iter()
            .map(|r| r.to_vec())
            .collect();
        let metric = plan.spec.svm.metric;
        let name = plan.run_name(fi, gi);
        let params = plan.params_of(fi, gi, "test");
        let model_path = self.model_path(method, &hash);
        let sha256 = self
            .model_of(fi, gi, cv, dataset, &hash, &params, &refit)?
            .save(&model_path)
            .context_with(|| format!("cannot save the {method} model"))?;
        self.observer.on(Event::Refit {
            method,
            name: &name,
            metric,
            value: evaluation.metrics.value(metric),
            seconds: (now_ms() - start_ms) as f64 / 1000.0,
        });
        let mut tags = vec![
            ("stage".to_owned(), "test".to_owned()),
            ("dataset_digest".to_owned(), dataset.digest.clone()),
            ("selection_metric".to_owned(), metric.to_string()),
            (
                "confusion_matrix".to_owned(),
                serde_json::to_string(&confusion)?,
            ),
            (
                "classes".to_owned(),
                serde_json::to_string(&dataset.classes)?,
            ),
        ];
        if let Some(cv) = cv {
            tags.push(("cv_run".to_owned(), cv.uuid.clone()));
        }
        let run = NewRun {
            artifacts: vec![sarlab_track::Artifact {
                path: model_path.display().to_string(),
                kind: "model".to_owned(),
                sha256,
            }],
            experiment_id: self.experiment,
            parent: Some(self.parent),
            name: format!("test {name}"),
            config_hash: hash,
            params,
            metrics: test_metrics(
                evaluation,
                train_seconds + test_seconds,
                feature_dim,
                feature.pca.map_or(feature_dim, |p| p.components),
            ),
            tags,
            start_ms,
            end_ms: now_ms(),
            predictions: dataset
                .chips_in(Split::Test)
                .zip(
                    refit
                        .predictions
                        .labels
                        .iter()
                        .zip(refit.predictions.decision_values.outer_iter()),
                )
                .map(|(chip, (&predicted, decisions))| Prediction {
                    chip: dataset.chip_label(chip),
                    truth: chip.class_index,
                    predicted,
                    decision_values: decisions.to_vec(),
                })
                .collect(),
        };
        let uuid = match self
            .store
            .finish_claimed_runs(std::slice::from_ref(&run))?
            .remove(0)
        {
            Some(uuid) => uuid,
            // Another worker took the claim over and recorded its refit first.
            None => match self.store.run_by_hash(self.experiment, &run.config_hash)? {
                Some((uuid, _)) => uuid,
                None => {
                    return Err(Error::Study(format!(
                        "the test run of `{}` vanished from {} while it was recorded",
                        run.name,
                        self.store.path().display()
                    )));
                }
            },
        };
        Ok(TestedModel {
            run: uuid,
            model: model_path,
        })
    }

    /// The saved model of a refit: what it was trained on and how chips are prepared.
    #[allow(clippy::too_many_arguments)]
    fn model_of(
        &self,
        fi: usize,
        gi: usize,
        cv: Option<&CvRecord>,
        dataset: &Dataset,
        hash: &str,
        params: &[(String, ParamValue)],
        refit: &Refit,
    ) -> Result<Model> {
        let plan = self.plan;
        let feature = &plan.features[fi];
        let mut cv_means = BTreeMap::new();
        if let Some(cv) = cv {
            cv_means.insert("accuracy".to_owned(), cv.cv_accuracy.0);
            cv_means.insert("f1_macro".to_owned(), cv.cv_f1_macro.0);
            cv_means.insert(plan.spec.svm.metric.to_string(), cv.cv_selection.0);
        }
        let source = sarlab_model::header::Source {
            experiment: plan.spec.name.clone(),
            config_hash: hash.to_owned(),
            dataset_digest: dataset.digest.clone(),
            dataset_path: dataset.root.display().to_string(),
            train_chips: dataset.chips_in(Split::Train).count(),
            params: params
                .iter()
                .map(|(k, v)| (k.clone(), v.to_string()))
                .collect(),
            selection_metric: plan.spec.svm.metric.to_string(),
            cv: cv_means,
            test: refit
                .evaluation
                .metrics
                .named()
                .iter()
                .map(|(k, v)| ((*k).to_owned(), *v))
                .collect(),
        };
        Ok(Model::new(ModelParts {
            classes: dataset.classes.clone(),
            source,
            sarlab_version: self.study.version.clone(),
            build: self
                .study
                .build_commit
                .clone()
                .unwrap_or_else(|| "unknown".to_owned()),
            chip_size: dataset.chips.first().map(|c| c.size),
            params: plan.grid[gi].svm.clone(),
            preprocess: feature.preprocess.clone(),
            method: feature.method.clone(),
            decode: plan.dataset_options().decode,
            fitted: refit.model.clone(),
        })?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Plan;
    use crate::results::best_record;
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
