//! `[search] strategy = "halving"`: successive halving over training chips, per
//! feature method. Every configuration of a method is a candidate; each rung
//! cross-validates the candidates left on a stratified subsample of the train chips
//! (`sarlab_svm::stratified_rows`, with their augmented copies) and keeps the best
//! `1 / factor` by mean CV selection metric; the last rung uses every chip, so its
//! runs are the ordinary CV runs (same hashes as a grid search's) from which the
//! method's best is picked and refit as usual. Rungs below the last are recorded as
//! runs of stage `halving` with `halving.rung` and `halving.resources` (chips) as
//! parameters.

use ndarray::{Array2, Axis};
use sarlab_io::Dataset;
use sarlab_svm::{Halving, halving_schedule, keep_count, rows_for_pca, stratified_rows, survivors};
use sarlab_track::{ParamValue, config_hash};

use crate::cross_validation::CvCounts;
use crate::engine::StudyRun;
use crate::error::{Error, Result};
use crate::load::TrainingFeatures;
use crate::observer::Event;
use crate::plan::Plan;

/// Which rows a cross-validation sees and how its runs are recorded.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Rung {
    /// Every train chip: the ordinary CV run (a grid search's, or halving's last rung).
    Full,
    /// A halving rung below the last: `chips` (sorted train-chip indices).
    Partial {
        index: usize,
        resources: usize,
        chips: Vec<usize>,
    },
}

impl Rung {
    pub(crate) fn stage(&self) -> &'static str {
        match self {
            Rung::Full => "cv",
            Rung::Partial { .. } => "halving",
        }
    }

    pub(crate) fn chips(&self) -> Option<&[usize]> {
        match self {
            Rung::Full => None,
            Rung::Partial { chips, .. } => Some(chips),
        }
    }

    pub(crate) fn params_of(
        &self,
        plan: &Plan,
        feature: usize,
        grid: usize,
    ) -> Vec<(String, ParamValue)> {
        let mut params = plan.params_of(feature, grid, self.stage());
        if let Rung::Partial {
            index, resources, ..
        } = self
        {
            params.push(("halving.rung".to_owned(), (*index).into()));
            params.push(("halving.resources".to_owned(), (*resources).into()));
        }
        params
    }

    pub(crate) fn run_name(&self, plan: &Plan, feature: usize, grid: usize) -> String {
        let name = plan.run_name(feature, grid);
        match self {
            Rung::Full => name,
            Rung::Partial {
                index, resources, ..
            } => format!("{name} rung={index} chips={resources}"),
        }
    }

    pub(crate) fn hash_of(&self, plan: &Plan, digest: &str, feature: usize, grid: usize) -> String {
        config_hash(digest, &self.params_of(plan, feature, grid))
    }
}

/// The rows of `features` (labels `y_rows`) that belong to `chips`: those chips' rows
/// in order, then their augmented copies, with `copy_of` renumbered to the subset.
pub(crate) fn subset_rows(
    features: &TrainingFeatures,
    y_rows: &[usize],
    chips: &[usize],
) -> (Array2<f64>, Vec<usize>, Vec<usize>) {
    let originals = features.x.nrows() - features.copy_of.len();
    let mut position = vec![usize::MAX; originals];
    for (at, &chip) in chips.iter().enumerate() {
        position[chip] = at;
    }
    let mut rows: Vec<usize> = chips.to_vec();
    let mut copy_of = Vec::new();
    for (j, &chip) in features.copy_of.iter().enumerate() {
        if position[chip] != usize::MAX {
            rows.push(originals + j);
            copy_of.push(position[chip]);
        }
    }
    let x = features.x.select(Axis(0), &rows);
    let y = rows.iter().map(|&r| y_rows[r]).collect();
    (x, y, copy_of)
}

/// One rung of one method, for the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RungSummary {
    pub method: &'static str,
    pub index: usize,
    /// Train chips the rung's cross-validations saw.
    pub chips: usize,
    pub candidates: usize,
}

impl StudyRun<'_> {
    /// Each method's halving search: rung by rung, the candidates left are
    /// cross-validated (claimed and shared with other workers as any CV) and the best
    /// `1 / factor` go on.
    pub(crate) fn cross_validate_halving(
        &mut self,
        halving: &Halving,
        dataset: &Dataset,
        y_train: &[usize],
    ) -> Result<CvCounts> {
        let plan = self.plan;
        if !self.study.shard.is_whole() {
            return Err(Error::Study(
                "`[search] strategy = \"halving\"` cannot be sharded: each rung needs every candidate's scores; run the spec whole (several workers may share one database)".to_owned(),
            ));
        }
        let metric = plan.spec.svm.metric;
        let folds = plan.spec.svm.folds;
        let n_classes = dataset.classes.len();
        let mut counts = CvCounts::default();
        for method in plan.methods() {
            let mut alive: Vec<(usize, usize)> = (0..plan.features.len())
                .filter(|&fi| plan.features[fi].method.name() == method)
                .flat_map(|fi| (0..plan.grid.len()).map(move |gi| (fi, gi)))
                .collect();
            // The first rung must leave every training fold enough rows for the
            // method's largest PCA.
            let components = alive
                .iter()
                .filter_map(|&(fi, _)| plan.features[fi].pca.map(|p| p.components))
                .max();
            let schedule = halving_schedule(
                halving,
                alive.len(),
                y_train.len(),
                folds,
                n_classes,
                rows_for_pca(components, folds, n_classes),
            )
            .map_err(|e| Error::Study(format!("the halving search of {method}: {e}")))?;
            for (r, step) in schedule.iter().enumerate() {
                let rung = match r + 1 == schedule.len() {
                    true => Rung::Full,
                    false => Rung::Partial {
                        index: step.index,
                        resources: step.resources,
                        chips: stratified_rows(
                            y_train,
                            n_classes,
                            step.resources,
                            folds,
                            plan.spec.seed,
                        ),
                    },
                };
                let mut work: Vec<Vec<(usize, String)>> = vec![Vec::new(); plan.features.len()];
                let mut hashes = Vec::with_capacity(alive.len());
                for &(fi, gi) in &alive {
                    let hash = rung.hash_of(plan, &dataset.digest, fi, gi);
                    match self.finished(&hash)? {
                        // A later rung finds what fellow workers recorded since this
                        // study began: theirs, not "already finished".
                        Some(uuid) => match self.store.run(&uuid)?.end_ms {
                            Some(end) if end >= self.started_ms => counts.by_others += 1,
                            _ => counts.skipped += 1,
                        },
                        None => work[fi].push((gi, hash.clone())),
                    }
                    hashes.push(hash);
                }
                let chips = rung.chips().map_or(y_train.len(), <[usize]>::len);
                self.observer.on(Event::RungStarted {
                    method,
                    rung: step.index,
                    rungs: schedule.len(),
                    candidates: alive.len(),
                    chips,
                });
                self.run_work(work, &rung, dataset, y_train, &mut counts)?;
                counts.rungs.push(RungSummary {
                    method,
                    index: step.index,
                    chips,
                    candidates: alive.len(),
                });
                if rung == Rung::Full {
                    break;
                }
                let mut scores = Vec::with_capacity(alive.len());
                for hash in &hashes {
                    let uuid = self
                        .recorded(&dataset.digest)
                        .finished_run(hash)?
                        .ok_or_else(|| {
                            Error::Study(format!(
                                "halving rung {} of {method}: a candidate has no finished run",
                                step.index
                            ))
                        })?;
                    let run = self.store.run(&uuid)?;
                    scores.push(
                        run.metric(&format!("cv_{metric}_mean"), 0)
                            .unwrap_or(f64::NAN),
                    );
                }
                let keep = survivors(&scores, keep_count(alive.len(), halving.factor));
                alive = keep.into_iter().map(|i| alive[i]).collect();
            }
        }
        Ok(counts)
    }
}
