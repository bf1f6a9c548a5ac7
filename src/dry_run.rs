//! `sarlab run --dry-run`: the plan of a study, what an existing database already holds
//! of it and a rough time estimate, without reading the data or writing anything.

use anyhow::{Context, Result};
use sarlab_track::{Preview, config_hash};

use crate::cli::RunArgs;
use sarlab_study::{Plan, Shard};

/// One feature method's share of the plan.
#[derive(Debug, Default)]
struct MethodLine {
    method: &'static str,
    configurations: usize,
    finished: usize,
    /// Whether the test refit of the method's best configuration is recorded.
    refit_done: bool,
    /// Rough seconds for what is left, when the database has timings.
    estimate: Option<f64>,
}

/// Prints the plan of `plan` for `shard` against the database of `args`.
pub fn print(plan: &Plan, args: &RunArgs, shard: &Shard) -> Result<()> {
    let preview = Preview::open(&args.db)
        .with_context(|| format!("reading run database {}", args.db.display()))?;
    let experiment = match &preview {
        Some(p) => p.experiment(&plan.spec.name)?,
        None => None,
    };
    let dataset_path = plan.spec.dataset.path.display().to_string();
    let digest = match (&preview, experiment) {
        (Some(p), Some(id)) => p.dataset_digest(id, &dataset_path)?,
        _ => None,
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
    let threads = rayon::current_num_threads().max(1) as f64;
    let mut lines: Vec<MethodLine> = Vec::new();
    for (fi, feature) in plan.features.iter().enumerate() {
        let method = feature.method.name();
        let at = match lines.iter().position(|l| l.method == method) {
            Some(at) => at,
            None => {
                lines.push(MethodLine {
                    method,
                    ..MethodLine::default()
                });
                lines.len() - 1
            }
        };
        let line = &mut lines[at];
        for gi in 0..plan.grid.len() {
            let hashed = |stage| {
                digest
                    .as_deref()
                    .map(|d| config_hash(d, &plan.params_of(fi, gi, stage)))
            };
            if shard.takes(fi * plan.grid.len() + gi) {
                line.configurations += 1;
                if hashed("cv").is_some_and(|h| finished.contains(&h)) {
                    line.finished += 1;
                }
            }
            if hashed("test").is_some_and(|h| finished.contains(&h)) {
                line.refit_done = true;
            }
        }
    }
    for line in &mut lines {
        let timings = match known {
            Some((p, id, d)) => p.timings(id, line.method, d)?,
            None => None,
        };
        line.estimate = timings.map(|t| {
            let to_run = (line.configurations - line.finished) as f64;
            let features = if to_run > 0.0 { t.feature_seconds } else { 0.0 };
            let refit = match line.refit_done || !shard.is_whole() {
                true => 0.0,
                false => t.seconds_per_configuration / folds.max(1) as f64 + t.feature_seconds,
            };
            // Fold fits are timed one by one while the cores share them.
            (to_run * t.seconds_per_configuration + refit) / threads + features
        });
    }

    println!(
        "dry run of study {} ({}): nothing is read or written",
        plan.spec.name,
        plan.spec_path.display()
    );
    println!(
        "dataset {dataset_path}, {folds} folds{}",
        match shard.is_whole() {
            true => String::new(),
            false => format!(", shard {}/{}", shard.index, shard.count),
        }
    );
    match (&preview, experiment, &digest) {
        (None, _, _) => println!(
            "database {} does not exist yet: every configuration would run",
            args.db.display()
        ),
        (Some(_), None, _) => println!(
            "database {}: no runs of study {} yet",
            args.db.display(),
            plan.spec.name
        ),
        (Some(_), Some(_), None) => println!(
            "database {}: no earlier study read {dataset_path}, so its digest is unknown and \
             finished runs cannot be matched without reading the data; all counted as to run",
            args.db.display()
        ),
        (Some(_), Some(_), Some(d)) => println!(
            "database {} (dataset digest {} from the latest study of it)",
            args.db.display(),
            &d[..d.len().min(12)]
        ),
    }
    table_row([
        "method",
        "configurations",
        "finished",
        "to run",
        "fits",
        "estimate",
    ]);
    let (mut configurations, mut done, mut fits, mut seconds, mut timed) = (0, 0, 0, 0.0, true);
    for line in &lines {
        let to_run = line.configurations - line.finished;
        let refits = usize::from(!line.refit_done && shard.is_whole());
        let line_fits = to_run * folds + refits;
        table_row([
            line.method,
            &line.configurations.to_string(),
            &line.finished.to_string(),
            &to_run.to_string(),
            &line_fits.to_string(),
            &line.estimate.map_or("—".to_owned(), seconds_text),
        ]);
        configurations += line.configurations;
        done += line.finished;
        fits += line_fits;
        match line.estimate {
            Some(s) => seconds += s,
            None => timed = false,
        }
    }
    let total_estimate = match timed {
        true => seconds_text(seconds),
        false => "—".to_owned(),
    };
    table_row([
        "total",
        &configurations.to_string(),
        &done.to_string(),
        &(configurations - done).to_string(),
        &fits.to_string(),
        &total_estimate,
    ]);
    println!(
        "fits = configurations to run × folds + one test refit per method; estimates come \
         from this database's timings of the same method and dataset (— without them)"
    );
    Ok(())
}

/// One row of the plan table: the method left-aligned, the counts right-aligned.
fn table_row(cells: [&str; 6]) {
    let [method, configurations, finished, to_run, fits, estimate] = cells;
    println!(
        "  {method:<10} {configurations:>14} {finished:>9} {to_run:>7} {fits:>7} {estimate:>10}"
    );
}

fn seconds_text(seconds: f64) -> String {
    match seconds {
        s if s < 90.0 => format!("~{s:.0} s"),
        s if s < 5400.0 => format!("~{:.0} min", s / 60.0),
        s => format!("~{:.1} h", s / 3600.0),
    }
}
