//! `sarlab run --dry-run`: prints the preview of a study (see
//! [`sarlab_study::PlanPreview`]).

use anyhow::{Context, Result};
use sarlab_study::{DatabaseState, Plan, PlanPreview, Shard};
use sarlab_svm::SearchStrategy;

use crate::cli::RunArgs;

/// Prints the plan of `plan` for `shard` against the database of `args`.
pub fn print(plan: &Plan, args: &RunArgs, shard: &Shard) -> Result<()> {
    let preview = PlanPreview::new(plan, &args.db, shard, rayon::current_num_threads())
        .with_context(|| format!("reading run database {}", args.db.display()))?;
    let dataset_path = plan.spec.dataset.path.display().to_string();
    let folds = plan.spec.svm.folds;
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
    if let Some(solver) = &plan.linear_solver {
        println!(
            "solver: {solver}{}",
            match solver.approximation {
                Some(_) =>
                    ", the map fitted on each fold's training rows (seeded by the spec seed)",
                None => "",
            }
        );
    }
    match &plan.search {
        SearchStrategy::Grid => {}
        SearchStrategy::Random(random) => println!(
            "search: random, {} SVM grid point(s) drawn per feature setting (seed {}): the table counts those",
            plan.grid.len().min(random.samples),
            plan.spec.seed
        ),
        SearchStrategy::Halving(halving) => println!(
            "search: halving (factor {}, min_resources {}) per method: the table counts every \
             candidate at full size, the most it could run; rungs on subsamples of the train \
             chips come first and only the best 1/{} of each rung go on (how many rungs depends \
             on the train chips, read when it runs)",
            halving.factor, halving.min_resources, halving.factor
        ),
    }
    let db = args.db.display();
    match &preview.database {
        DatabaseState::Missing => {
            println!("database {db} does not exist yet: every configuration would run")
        }
        DatabaseState::NoStudy => {
            println!("database {db}: no runs of study {} yet", plan.spec.name)
        }
        DatabaseState::UnknownDigest => println!(
            "database {db}: no earlier study read {dataset_path}, so its digest is unknown and \
             finished runs cannot be matched without reading the data; all counted as to run"
        ),
        DatabaseState::Known { digest } => println!(
            "database {db} (dataset digest {} from the latest study of it)",
            &digest[..digest.len().min(12)]
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
    for line in &preview.methods {
        table_row([
            line.method,
            &line.configurations.to_string(),
            &line.finished.to_string(),
            &(line.configurations - line.finished).to_string(),
            &line.fits.to_string(),
            &line.estimate.map_or("—".to_owned(), seconds_text),
        ]);
    }
    let sum = |f: fn(&sarlab_study::MethodPreview) -> usize| -> usize {
        preview.methods.iter().map(f).sum()
    };
    let (configurations, done) = (sum(|l| l.configurations), sum(|l| l.finished));
    let estimate: Option<f64> = preview.methods.iter().map(|l| l.estimate).sum();
    table_row([
        "total",
        &configurations.to_string(),
        &done.to_string(),
        &(configurations - done).to_string(),
        &sum(|l| l.fits).to_string(),
        &estimate.map_or("—".to_owned(), seconds_text),
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
