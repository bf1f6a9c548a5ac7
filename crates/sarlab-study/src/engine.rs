//! `Study::run`: a plan from database to report.
//!
//! 1. start (or resume) the study's own run in the database, marking runs of dead
//!    processes FAILED;
//! 2. load the dataset (generating the synthetic default if it is missing);
//! 3. for every feature setting with configurations not yet finished: claim a share of
//!    them in the database (so workers sharing it split the plan), extract train
//!    features, cross-validate the claimed SVM grid points, and record them as finished
//!    runs, one transaction per claim; then wait for the configurations other workers
//!    hold (with `[search] strategy = "halving"`, rung by rung per method);
//! 4. per feature method, take the configuration with the best mean CV selection
//!    metric (ties to the first in grid order), refit it on the whole train split and
//!    score it on the test split (a run of its own, claimed like a configuration);
//! 5. write the report from what the database holds, end the study run.
//!
//! Any error after step 1, and any panic, marks the study run FAILED with the reason, and
//! releases its claims. Configuration runs' results are written whole or not at all, so
//! a failed or interrupted study leaves only complete runs (and released claims), and a
//! rerun skips them.

use std::path::{Path, PathBuf};

use sarlab_io::{Dataset, Split};
use sarlab_report::StudyReport;
use sarlab_track::{ParamValue, RunStatus, Store, config_hash, environment_tags, now_ms};

use crate::cross_validation::CvCounts;
use crate::error::{Error, Result};
use crate::heartbeat::{Heartbeat, STALE_AFTER};
use crate::load;
use crate::observer::{Event, Observer};
use crate::plan::Plan;
use crate::refit::{TestedModel, Wait};
use crate::results::{CvRecord, Recorded, best_record};
use crate::shard::Shard;

/// How a plan is run: which shard, whether finished configurations are redone, where
/// the report goes.
#[derive(Debug, Clone)]
pub struct Study {
    pub shard: Shard,
    /// Rerun and replace configurations already finished in the database.
    pub force: bool,
    /// The report is written in `<reports>/<study name>/`.
    pub reports: PathBuf,
    /// Each test refit's model is saved in `<models>/<study name>/`.
    pub models: PathBuf,
    /// The version recorded in every run's environment tags.
    pub version: String,
    /// The git commit sarlab was built from (with `-dirty` when its tree had
    /// uncommitted changes), if known: recorded on the study run.
    pub build_commit: Option<String>,
    /// How the SVM engine holds kernels (whole, or rows cached within a budget): a
    /// resource setting, not recorded as a parameter, since the answers are the same.
    pub kernel_memory: sarlab_svm::KernelMemory,
}

/// What a finished study did.
#[derive(Debug)]
pub struct Outcome {
    /// The uuid of the study's own run.
    pub run: String,
    /// Configurations cross-validated now.
    pub ran: usize,
    /// Configurations already finished in the database.
    pub skipped: usize,
    /// Configurations other workers sharing the database computed while this one ran
    /// (claimed by them first; see `sarlab_track::Store::claim_runs`).
    pub by_others: usize,
    /// The rungs of each method's halving search, in order (empty for other searches).
    pub rungs: Vec<crate::halving::RungSummary>,
    /// The report, unless this was one shard of a sharded study (the test refits and
    /// the report come from a run of the spec on the merged database).
    pub report: Option<WrittenReport>,
}

#[derive(Debug)]
pub struct WrittenReport {
    pub report: StudyReport,
    pub index_html: PathBuf,
}

/// The text of a panic's payload (`panic!` with a literal or with a format string).
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// What [`Study::train`] made.
#[derive(Debug, Clone)]
pub struct Trained {
    /// The run of this invocation (stage `train`).
    pub study_run: String,
    /// The configuration's test run and its model.
    pub tested: TestedModel,
    /// The configuration's run name.
    pub name: String,
}

impl Study {
    /// Runs `plan` against `store`, telling `observer` what happens.
    pub fn run(&self, plan: &Plan, store: &mut Store, observer: &dyn Observer) -> Result<Outcome> {
        let (parent, (counts, report)) =
            self.guarded(plan, store, observer, "study", |run| run.execute())?;
        Ok(Outcome {
            run: parent,
            ran: counts.ran,
            skipped: counts.skipped,
            by_others: counts.by_others,
            rungs: counts.rungs,
            report,
        })
    }

    /// Refits the configuration of `plan` whose config hash (its CV or its test run's)
    /// starts with `config` on the train split, scores it on the test split and
    /// saves its model, as a study does for each method's best configuration. A
    /// configuration with a finished test run and an intact model is left as it is
    /// unless `force`.
    pub fn train(
        &self,
        plan: &Plan,
        store: &mut Store,
        config: &str,
        observer: &dyn Observer,
    ) -> Result<Trained> {
        let (study_run, (tested, name)) =
            self.guarded(plan, store, observer, "train", |run| run.train(config))?;
        Ok(Trained {
            study_run,
            tested,
            name,
        })
    }

    /// Starts this invocation's run (stage `study` or `train`), runs `body`, and ends
    /// the run FINISHED, or FAILED with the reason on any error or panic.
    fn guarded<T>(
        &self,
        plan: &Plan,
        store: &mut Store,
        observer: &dyn Observer,
        stage: &str,
        body: impl FnOnce(&mut StudyRun<'_>) -> Result<T>,
    ) -> Result<(String, T)> {
        let experiment = store.experiment(&plan.spec.name)?;
        let started_ms = now_ms();
        for (uuid, reason) in store.fail_dead_runs(Some(experiment), STALE_AFTER)? {
            observer.on(Event::DeadRunFailed {
                run: &uuid,
                reason: &reason,
            });
        }
        let parent = self.start_study_run(plan, store, experiment, stage)?;
        observer.on(Event::Started {
            run: &parent,
            db: store.path(),
        });
        let heartbeat = Heartbeat::start(store.path().to_path_buf(), parent.clone());
        let mut run = StudyRun {
            plan,
            study: self,
            store,
            experiment,
            parent: &parent,
            started_ms,
            observer,
        };
        // A panic (a bug) must not leave the study run RUNNING: catch it, record it as
        // the failure reason, and return it as an error. Transactions open at the panic
        // roll back as they unwind, so the database holds only whole runs.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(&mut run)))
            .unwrap_or_else(|payload| Err(Error::Panicked(panic_message(payload.as_ref()))));
        drop(heartbeat);
        match result {
            Ok(value) => {
                store.end_run(&parent, RunStatus::Finished, None)?;
                Ok((parent, value))
            }
            Err(err) => {
                let reason = err.chain();
                let status = if matches!(err, Error::Interrupted) {
                    RunStatus::Killed
                } else {
                    RunStatus::Failed
                };
                if let Err(db_err) = store.end_run(&parent, status, Some(&reason)) {
                    tracing::error!(
                        "could not mark study run {parent} {}: {db_err}",
                        status.as_str()
                    );
                }
                Err(err)
            }
        }
    }

    /// Records the study's own run as RUNNING; returns its uuid.
    fn start_study_run(
        &self,
        plan: &Plan,
        store: &mut Store,
        experiment: i64,
        stage: &str,
    ) -> Result<String> {
        let mut params: Vec<(String, ParamValue)> = vec![
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
            ("force".to_owned(), self.force.into()),
            ("stage".to_owned(), stage.into()),
        ];
        if !self.shard.is_whole() {
            params.push((
                "shard".to_owned(),
                format!("{}/{}", self.shard.index, self.shard.count).into(),
            ));
        }
        // Every invocation is a run of its own (configuration runs are what is
        // deduplicated): a killed attempt stays in the history as KILLED or FAILED
        // beside the one that finished the work.
        let hash = format!(
            "{stage} {} {} {}",
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
        let mut tags = environment_tags(&self.version, spec_dir);
        tags.push(("stage".to_owned(), stage.to_owned()));
        tags.push(("spec_toml".to_owned(), plan.spec_text.clone()));
        tags.push(("seed".to_owned(), plan.spec.seed.to_string()));
        tags.push((
            "selection_metric".to_owned(),
            plan.spec.svm.metric.to_string(),
        ));
        tags.push((
            "threads".to_owned(),
            rayon::current_num_threads().to_string(),
        ));
        if let Some(commit) = &self.build_commit {
            tags.push(("sarlab_commit".to_owned(), commit.clone()));
        }
        let uuid = store.start_run(
            experiment,
            None,
            &format!("{stage} {}", plan.spec.name),
            &hash,
            &params,
            &tags,
        )?;
        Ok(uuid)
    }
}

/// One invocation of a study, between its run's start and end.
pub(crate) struct StudyRun<'a> {
    pub plan: &'a Plan,
    pub study: &'a Study,
    pub store: &'a mut Store,
    pub experiment: i64,
    pub parent: &'a str,
    /// When this invocation began (ms since the epoch): `--force` redoes what finished
    /// before it.
    pub started_ms: i64,
    pub observer: &'a dyn Observer,
}

/// The labels of both splits.
pub(crate) struct Labels {
    pub train: Vec<usize>,
    pub test: Vec<usize>,
}

impl StudyRun<'_> {
    /// [`Error::Interrupted`] when the observer asks the study to stop.
    pub(crate) fn stop_if_requested(&self) -> Result<()> {
        if self.observer.stop_requested() {
            Err(Error::Interrupted)
        } else {
            Ok(())
        }
    }

    fn execute(&mut self) -> Result<(CvCounts, Option<WrittenReport>)> {
        let (dataset, labels) = self.load()?;
        check_folds(self.plan, &dataset)?;
        let counts = self.cross_validate(&dataset, &labels.train)?;
        if !self.study.shard.is_whole() {
            // The best configuration of a method needs every shard's runs.
            return Ok((counts, None));
        }
        let records = self.recorded(&dataset.digest).cv_records()?;
        // The refits to make, in order: each method's best, then (`test = "all"`) every
        // configuration, so an interrupted study has the bests first.
        let mut refits: Vec<&CvRecord> = Vec::new();
        for method in self.plan.methods() {
            let best = best_record(self.plan, method, &records).ok_or_else(|| {
                Error::Study(format!("feature method {method} has no configurations"))
            })?;
            refits.push(best);
        }
        if self.plan.spec.svm.test == crate::spec::TestScope::All {
            refits.extend(&records);
        }
        // Workers sharing the database take the refits nobody holds first, then wait
        // for the ones another worker is making.
        let mut busy = Vec::new();
        for record in refits {
            self.stop_if_requested()?;
            let made = self.ensure_model(
                record.feature,
                record.grid,
                Some(record),
                &dataset,
                &labels,
                Wait::No,
            )?;
            if made.is_none() {
                busy.push(record);
            }
        }
        for record in busy {
            self.stop_if_requested()?;
            self.ensure_model(
                record.feature,
                record.grid,
                Some(record),
                &dataset,
                &labels,
                Wait::Yes,
            )?;
        }
        let report = self.write_report(&dataset, &records)?;
        Ok((counts, Some(report)))
    }

    /// `sarlab train`: the configuration whose hash starts with `config`, refit.
    fn train(&mut self, config: &str) -> Result<(TestedModel, String)> {
        let (dataset, labels) = self.load()?;
        let wanted = config.trim();
        if wanted.len() < 4 {
            return Err(Error::Study(format!(
                "--config `{wanted}`: give at least 4 characters of a config hash"
            )));
        }
        let plan = self.plan;
        let mut matching: Vec<(usize, usize)> = Vec::new();
        for fi in 0..plan.features.len() {
            for gi in 0..plan.grid.len() {
                let hit = ["cv", "test"].iter().any(|stage| {
                    self.hash_of(&dataset.digest, fi, gi, stage)
                        .starts_with(wanted)
                });
                if hit {
                    matching.push((fi, gi));
                }
            }
        }
        let (fi, gi) = match matching[..] {
            [one] => one,
            [] => {
                return Err(Error::Study(format!(
                    "no configuration of {} has a config hash starting with `{wanted}` on dataset {} (hashes depend on the spec and the dataset; `sarlab runs list --experiment {}` shows them)",
                    plan.spec_path.display(),
                    dataset.root.display(),
                    plan.spec.name
                )));
            }
            _ => {
                let names: Vec<String> = matching
                    .iter()
                    .take(5)
                    .map(|&(fi, gi)| plan.run_name(fi, gi))
                    .collect();
                return Err(Error::Study(format!(
                    "--config `{wanted}` starts the hashes of {} configurations ({}{}): give more characters",
                    matching.len(),
                    names.join("; "),
                    if matching.len() > names.len() {
                        "; …"
                    } else {
                        ""
                    }
                )));
            }
        };
        let records = self.recorded(&dataset.digest).cv_records()?;
        let cv = records.iter().find(|r| r.feature == fi && r.grid == gi);
        let tested = self
            .ensure_model(fi, gi, cv, &dataset, &labels, Wait::Yes)?
            .ok_or_else(|| Error::Study("a refit waited for returned nothing".to_owned()))?;
        Ok((tested, plan.run_name(fi, gi)))
    }

    /// Loads the dataset, records on the study run what the report needs of it, and
    /// returns it with both splits' labels.
    fn load(&mut self) -> Result<(Dataset, Labels)> {
        let dataset = load::load_dataset(self.plan, self.observer)?;
        let labels = Labels {
            train: dataset
                .chips_in(Split::Train)
                .map(|c| c.class_index)
                .collect(),
            test: dataset
                .chips_in(Split::Test)
                .map(|c| c.class_index)
                .collect(),
        };
        // What the report needs of the dataset, so that it can be rebuilt from the
        // database alone.
        self.store.set_tags(
            self.parent,
            &[
                ("dataset_digest".to_owned(), dataset.digest.clone()),
                (
                    "dataset_path".to_owned(),
                    dataset.root.display().to_string(),
                ),
                (
                    "classes".to_owned(),
                    serde_json::to_string(&dataset.classes)?,
                ),
                ("train_chips".to_owned(), labels.train.len().to_string()),
                ("test_chips".to_owned(), labels.test.len().to_string()),
            ],
        )?;
        Ok((dataset, labels))
    }

    /// What the database holds for this plan on the dataset of `digest`.
    pub(crate) fn recorded<'s>(&'s self, digest: &'s str) -> Recorded<'s> {
        Recorded {
            plan: self.plan,
            store: self.store,
            experiment: self.experiment,
            digest,
        }
    }

    /// The hash of configuration (`feature`, `grid`) at `stage` on dataset `digest`.
    pub(crate) fn hash_of(&self, digest: &str, feature: usize, grid: usize, stage: &str) -> String {
        self.recorded(digest).hash_of(feature, grid, stage)
    }

    /// The finished run of `hash` in this experiment, unless `force` redoes it.
    pub(crate) fn finished(&self, hash: &str) -> Result<Option<String>> {
        Ok(match self.store.run_by_hash(self.experiment, hash)? {
            Some((uuid, RunStatus::Finished)) if !self.study.force => Some(uuid),
            _ => None,
        })
    }
}

/// Every fold needs a train chip of every class.
fn check_folds(plan: &Plan, dataset: &Dataset) -> Result<()> {
    let folds = plan.spec.svm.folds;
    let counts = dataset.class_counts(Split::Train);
    if let Some((class, &count)) = counts.iter().enumerate().min_by_key(|(_, c)| **c)
        && folds > count
    {
        return Err(Error::Study(format!(
            "`svm.folds` = {folds} is larger than class `{}`, which has {count} train chips in {}",
            dataset.classes[class],
            dataset.root.display()
        )));
    }
    Ok(())
}
