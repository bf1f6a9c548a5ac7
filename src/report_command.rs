//! `sarlab report`: a study's report rebuilt from the run database, or several studies
//! side by side.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use sarlab_track::Store;

use crate::cli::ReportArgs;
use crate::runs_commands::open_existing;

pub fn report(args: &ReportArgs) -> Result<()> {
    let store = open_existing(&args.db)?;
    if !args.compare.is_empty() {
        return compare(args, &store);
    }
    let run = match (&args.run, &args.experiment) {
        (Some(id), _) => store.resolve_run(id)?,
        (None, Some(name)) => latest(&store, name)?,
        (None, None) => {
            bail!("say which study to report: --experiment NAME or --run ID (or --compare A B…)")
        }
    };
    let report = sarlab_study::rebuild_report(&store, &run)
        .with_context(|| format!("cannot rebuild the report of study run {run}"))?;
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("reports").join(&report.study).join("rebuilt"));
    let files = sarlab_study::write_files(&report, &dir)?;
    println!(
        "report of study {} (run {run}, {} configurations) rebuilt from {} → {}",
        report.study,
        report.configs.len(),
        args.db.display(),
        files.index_html.display()
    );
    Ok(())
}

/// The last finished whole-study run of experiment `name`.
fn latest(store: &Store, name: &str) -> Result<String> {
    store.latest_study_run(name)?.with_context(|| {
        format!(
            "experiment `{name}` has no finished study run in {} (see `sarlab runs list`)",
            store.path().display()
        )
    })
}

fn compare(args: &ReportArgs, store: &Store) -> Result<()> {
    let mut reports = Vec::with_capacity(args.compare.len());
    for selector in &args.compare {
        let run = match store.experiment_id(selector)? {
            Some(_) => latest(store, selector)?,
            None => store.resolve_run(selector).with_context(|| {
                format!(
                    "`{selector}` is neither an experiment nor a run in {}",
                    args.db.display()
                )
            })?,
        };
        reports.push(
            sarlab_study::rebuild_report(store, &run)
                .with_context(|| format!("cannot rebuild the report of study run {run}"))?,
        );
    }
    let dir = args.out.clone().unwrap_or_else(|| {
        let names: Vec<&str> = args.compare.iter().map(String::as_str).collect();
        PathBuf::from("reports").join(format!("compare-{}", names.join("-")))
    });
    let index = sarlab_report::write_comparison(&reports, &dir)
        .with_context(|| format!("cannot write the comparison in {}", dir.display()))?;
    println!(
        "{} studies side by side → {}",
        reports.len(),
        index.display()
    );
    Ok(())
}
