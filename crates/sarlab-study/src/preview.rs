//! A plan previewed against a database without reading the data or writing anything:
//! configurations per feature method, how many are finished, how many fits are left,
//! and a rough time estimate from the database's timings of the same method and
//! dataset.

use std::path::Path;

use sarlab_track::{Preview, config_hash};

use crate::error::Result;
use crate::plan::Plan;
use crate::shard::Shard;

/// What the database is known to hold of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseState {
    /// No database file yet: every configuration would run.
    Missing,
    /// The database has no runs of this study.
    NoStudy,
    /// The study exists, but no earlier run read this dataset path, so its digest (and
    /// with it every configuration hash) is unknown without reading the data.
    UnknownDigest,
    /// Finished runs are matched by hash with the digest of the latest study run.
    Known { digest: String },
}

/// One feature method's share of the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodPreview {
    pub method: &'static str,
    /// Configurations of this shard.
    pub configurations: usize,
    pub finished: usize,
    /// Whether the test refit of the method's best configuration is already recorded.
    pub refit_done: bool,
    /// Fold fits left plus the test refit, if this run would do it.
    pub fits: usize,
    /// Rough seconds for what is left, when the database has timings.
    pub estimate: Option<f64>,
}

/// The preview of a plan for one shard.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanPreview {
    pub database: DatabaseState,
    pub methods: Vec<MethodPreview>,
}

impl PlanPreview {
    /// Previews `plan` for `shard` against the database at `db` (opened read-only;
    /// nothing is created) with `threads` workers sharing the fits.
    pub fn new(plan: &Plan, db: &Path, shard: &Shard, threads: usize) -> Result<Self> {
        let preview = Preview::open(db)?;
        let experiment = match &preview {
            Some(p) => p.experiment(&plan.spec.name)?,
            None => None,
        };
        let dataset_path = plan.spec.dataset.path.display().to_string();
        let digest = match (&preview, experiment) {
            (Some(p), Some(id)) => p.dataset_digest(id, &dataset_path)?,
            _ => None,
        };
        let database = match (&preview, experiment, &digest) {
            (None, _, _) => DatabaseState::Missing,
            (Some(_), None, _) => DatabaseState::NoStudy,
            (Some(_), Some(_), None) => DatabaseState::UnknownDigest,
            (Some(_), Some(_), Some(d)) => DatabaseState::Known { digest: d.clone() },
        };
        // Finished runs can be matched only with the database, the experiment and the
        // dataset's digest all known.
        let known = match (&preview, experiment, &digest) {
            (Some(p), Some(id), Some(d)) => Some((p, id, d.as_str())),
            _ => None,
        };
        let finished = match known {
            Some((p, id, _)) => p.finished_hashes(id)?,
            None => Default::default(),
        };
        let folds = plan.spec.svm.folds;
        let mut methods: Vec<MethodPreview> = Vec::new();
        for (fi, feature) in plan.features.iter().enumerate() {
            let method = feature.method.name();
            let at = match methods.iter().position(|l| l.method == method) {
                Some(at) => at,
                None => {
                    methods.push(MethodPreview {
                        method,
                        configurations: 0,
                        finished: 0,
                        refit_done: false,
                        fits: 0,
                        estimate: None,
                    });
                    methods.len() - 1
                }
            };
            let line = &mut methods[at];
            for gi in 0..plan.grid.len() {
                let recorded = |stage| {
                    digest.as_deref().is_some_and(|d| {
                        finished.contains(&config_hash(d, &plan.params_of(fi, gi, stage)))
                    })
                };
                if shard.takes(fi * plan.grid.len() + gi) {
                    line.configurations += 1;
                    line.finished += usize::from(recorded("cv"));
                }
                line.refit_done |= recorded("test");
            }
        }
        let threads = threads.max(1) as f64;
        for line in &mut methods {
            let to_run = line.configurations - line.finished;
            let refits = usize::from(!line.refit_done && shard.is_whole());
            line.fits = to_run * folds + refits;
            let timings = match known {
                Some((p, id, d)) => p.timings(id, line.method, d)?,
                None => None,
            };
            line.estimate = timings.map(|t| {
                let features = if to_run > 0 { t.feature_seconds } else { 0.0 };
                let refit = refits as f64
                    * (t.seconds_per_configuration / folds.max(1) as f64 + t.feature_seconds);
                // Fold fits are timed one by one while the cores share them.
                (to_run as f64 * t.seconds_per_configuration + refit) / threads + features
            });
        }
        Ok(PlanPreview { database, methods })
    }
}
