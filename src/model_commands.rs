//! `sarlab models list`, `sarlab train` and finding the model `sarlab predict` uses.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sarlab_svm::Metric;
use sarlab_track::{ModelArtifact, Store};

use crate::cli::{ModelsListArgs, TrainArgs};
use crate::runs_commands::open_existing;

/// The model file and the inputs: the first path is the model unless `--run` or
/// `--best` names it in the database.
pub fn locate_model<'p>(
    db: Option<&Path>,
    run: Option<&str>,
    best: bool,
    experiment: Option<&str>,
    metric: Metric,
    paths: &'p [PathBuf],
) -> Result<(PathBuf, &'p [PathBuf])> {
    if run.is_none() && !best {
        return match paths {
            [model, inputs @ ..] if !inputs.is_empty() => Ok((model.clone(), inputs)),
            _ => bail!(
                "give a model file and at least one input (sarlab predict MODEL INPUT…), or --run ID / --best --experiment NAME with --db"
            ),
        };
    }
    if paths.is_empty() {
        bail!("give at least one input to predict");
    }
    let db = db.unwrap_or(Path::new("sarlab.db"));
    let store = open_existing(db)?;
    let models = store
        .model_artifacts(experiment)
        .with_context(|| format!("cannot read the models recorded in {}", db.display()))?;
    let chosen = match run {
        Some(id) => {
            let uuid = store.resolve_run(id)?;
            models
                .into_iter()
                .find(|m| m.run == uuid)
                .ok_or_else(|| anyhow::anyhow!("run {uuid} has no saved model (models are saved with each method's test refit, or by `sarlab train`)"))?
        }
        None => {
            let Some(name) = experiment else {
                bail!("--best needs --experiment NAME: the study whose models to choose from");
            };
            best_by_cv(&store, models, metric)?.ok_or_else(|| {
                anyhow::anyhow!("experiment {name} has no saved models in {}", db.display())
            })?
        }
    };
    Ok((resolve_path(&chosen.path, db), paths))
}

/// The model whose configuration has the highest mean CV value of `metric` — the
/// test split never chooses (see ARCHITECTURE: the best configuration).
fn best_by_cv(
    store: &Store,
    models: Vec<ModelArtifact>,
    metric: Metric,
) -> Result<Option<ModelArtifact>> {
    let mut best: Option<(f64, ModelArtifact)> = None;
    for model in models {
        let value = cv_value(store, &model.run, metric)?.unwrap_or(f64::NEG_INFINITY);
        if best.as_ref().is_none_or(|(v, _)| value > *v) {
            best = Some((value, model));
        }
    }
    Ok(best.map(|(_, m)| m))
}

/// The mean CV value of `metric` of the configuration a test run refit.
fn cv_value(store: &Store, test_run: &str, metric: Metric) -> Result<Option<f64>> {
    let run = store.run(test_run)?;
    let Some(cv) = run.tags.get("cv_run") else {
        return Ok(None);
    };
    let cv = store.run(cv)?;
    Ok(cv.metric(&format!("cv_{metric}_mean"), 0))
}

/// A recorded path as it is, or against the database's folder when it is relative and
/// not found from here.
fn resolve_path(recorded: &str, db: &Path) -> PathBuf {
    let path = PathBuf::from(recorded);
    if path.is_relative()
        && !path.exists()
        && let Some(dir) = db.parent()
    {
        let beside = dir.join(&path);
        if beside.exists() {
            return beside;
        }
    }
    path
}

pub fn list(args: &ModelsListArgs) -> Result<()> {
    let store = open_existing(&args.db)?;
    let models = store.model_artifacts(args.experiment.as_deref())?;
    let headers: Vec<String> = [
        "experiment",
        "method",
        "run",
        "cv selection",
        "test accuracy",
        "test f1_macro",
        "size",
        "path",
    ]
    .map(str::to_owned)
    .to_vec();
    let mut rows = Vec::new();
    for model in &models {
        let run = store.run(&model.run)?;
        let metric: Metric = run
            .tags
            .get("selection_metric")
            .and_then(|m| m.parse().ok())
            .unwrap_or_default();
        let cv = cv_value(&store, &model.run, metric)?;
        let path = resolve_path(&model.path, &args.db);
        let size = match std::fs::metadata(&path) {
            Ok(meta) => megabytes(meta.len()),
            Err(_) => "missing".to_owned(),
        };
        let percent = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{:.2} %", 100.0 * v));
        rows.push(vec![
            model.experiment.clone(),
            run.params
                .get("feature")
                .map_or("-".to_owned(), ToString::to_string),
            model.run.chars().take(8).collect(),
            cv.map_or("-".to_owned(), |v| format!("{metric} {:.2} %", 100.0 * v)),
            percent(run.metric("test_accuracy", 0)),
            percent(run.metric("test_f1_macro", 0)),
            size,
            model.path.clone(),
        ]);
    }
    if models.is_empty() {
        println!("no saved models in {}", args.db.display());
        return Ok(());
    }
    // Escaped, measured and padded as the `runs` tables are.
    print!("{}", crate::runs_table::render(&headers, &rows, &[]));
    Ok(())
}

fn megabytes(bytes: u64) -> String {
    if bytes < 1_000_000 {
        format!("{:.1} kB", bytes as f64 / 1e3)
    } else {
        format!("{:.2} MB", bytes as f64 / 1e6)
    }
}

pub fn train(args: &TrainArgs) -> Result<()> {
    crate::run_command::train(args)
}
