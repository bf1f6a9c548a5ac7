//! `sarlab run`: plans the spec, previews it (`--dry-run`) or runs it with the study
//! engine, handling signals and printing the terminal summary.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use sarlab_report::MethodResult;
use sarlab_study::{LARGE_PLAN, Outcome, Plan, Shard, Study, load_plan};
use sarlab_track::{RunStatus, Store};

use crate::cli::{RunArgs, TrainArgs};
use crate::progress::StudyProgress;

pub fn run(args: &RunArgs) -> Result<()> {
    let started = Instant::now();
    let plan = load_plan(&args.spec, args.data.as_deref())?;
    let shard = Shard::resolve(args.shard.as_deref(), |name| std::env::var(name).ok())?;
    if plan.configurations() > LARGE_PLAN && !args.allow_large {
        bail!(
            "{}: {} configurations ({} feature settings × {} SVM grid points) is more than \
             {LARGE_PLAN}; check the axes with `sarlab run --dry-run --allow-large`, and \
             pass --allow-large to run it",
            args.spec.display(),
            plan.configurations(),
            plan.features.len(),
            plan.grid.len()
        );
    }
    if args.dry_run {
        return crate::dry_run::print(&plan, args, &shard);
    }
    let mut store = Store::open(&args.db)?;
    let study = Study {
        shard,
        force: args.force,
        reports: args.reports.clone(),
        models: args.models.clone(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        build_commit: option_env!("SARLAB_BUILD_COMMIT").map(str::to_owned),
        kernel_memory: args.memory_budget.kernel_memory(),
    };
    let signals = SignalGuard::default();
    let progress = StudyProgress::new(|run, db| signals.arm(db, run));
    let outcome = study.run(&plan, &mut store, &progress);
    if let Some(err) = signals.error() {
        tracing::warn!("{err}");
    }
    let outcome = outcome.map_err(anyhow::Error::new)?;
    let seconds = started.elapsed().as_secs_f64();
    match &outcome.report {
        Some(_) => print_summary(&plan, args, &outcome, seconds),
        None => println!(
            "study {} shard {}/{}: {} configuration(s) run now, {} already finished{}, {seconds:.1} s; runs in {} (study run {}). \
             When every shard is done: sarlab merge MERGED.db SHARD.db... && sarlab run {} --db MERGED.db (test refits and report)",
            plan.spec.name,
            shard.index,
            shard.count,
            outcome.ran,
            outcome.skipped,
            by_others(&outcome),
            args.db.display(),
            outcome.run,
            args.spec.display(),
        ),
    }
    Ok(())
}

/// `sarlab train`: one configuration refit, tested and saved as a model.
pub fn train(args: &TrainArgs) -> Result<()> {
    let plan = load_plan(&args.spec, args.data.as_deref())?;
    let mut store = Store::open(&args.db)?;
    let study = Study {
        shard: Shard::all(),
        force: args.force,
        reports: PathBuf::from("reports"),
        models: args.models.clone(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        build_commit: option_env!("SARLAB_BUILD_COMMIT").map(str::to_owned),
        kernel_memory: args.memory_budget.kernel_memory(),
    };
    let signals = SignalGuard::default();
    let progress = StudyProgress::new(|run, db| signals.arm(db, run));
    let trained = study
        .train(&plan, &mut store, &args.config, &progress)
        .map_err(anyhow::Error::new)?;
    let run = store.run(&trained.tested.run)?;
    let percent = |key: &str| {
        run.metric(key, 0)
            .map_or("-".to_owned(), |v| format!("{:.2} %", 100.0 * v))
    };
    println!(
        "trained {} of study {}: test accuracy {}, test F1 macro {}",
        trained.name,
        plan.spec.name,
        percent("test_accuracy"),
        percent("test_f1_macro")
    );
    println!("model:  {}", trained.tested.model.display());
    println!(
        "runs:   {} (test run {})",
        args.db.display(),
        trained.tested.run
    );
    Ok(())
}

/// The SIGINT/SIGTERM handler, installed once the study's run exists: it marks that
/// run KILLED (from a connection of its own; a configuration being computed is simply
/// never written) and exits with 128 + the signal number.
#[derive(Debug, Default)]
struct SignalGuard {
    installed: OnceLock<std::result::Result<(), String>>,
}

impl SignalGuard {
    fn arm(&self, db: PathBuf, run: String) {
        self.installed
            .get_or_init(|| kill_on_signal(db, run).map_err(|e| format!("{e:#}")));
    }

    fn error(&self) -> Option<&str> {
        self.installed.get()?.as_ref().err().map(String::as_str)
    }
}

fn kill_on_signal(db: PathBuf, uuid: String) -> Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])
        .context("cannot install the SIGINT/SIGTERM handler")?;
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            let name = if signal == SIGINT {
                "SIGINT"
            } else {
                "SIGTERM"
            };
            let reason = format!("interrupted by {name}");
            match Store::open(&db)
                .and_then(|mut store| store.end_run(&uuid, RunStatus::Killed, Some(&reason)))
            {
                Ok(()) => eprintln!(
                    "\ninterrupted ({name}): study run {uuid} marked KILLED; finished configurations are kept, rerun the spec to resume"
                ),
                Err(err) => {
                    eprintln!("\ninterrupted ({name}); could not mark run {uuid} KILLED: {err}")
                }
            }
            std::process::exit(128 + signal);
        }
    });
    Ok(())
}

/// Each method's halving rungs: `candidates × chips` per rung, and the cross-validations
/// made against the full grid's.
fn print_rungs(outcome: &Outcome) {
    let mut methods: Vec<&str> = Vec::new();
    for rung in &outcome.rungs {
        if !methods.contains(&rung.method) {
            methods.push(rung.method);
        }
    }
    for method in methods {
        let rungs: Vec<_> = outcome
            .rungs
            .iter()
            .filter(|r| r.method == method)
            .collect();
        let steps: Vec<String> = rungs
            .iter()
            .map(|r| format!("{} × {} chips", r.candidates, r.chips))
            .collect();
        let made: usize = rungs.iter().map(|r| r.candidates).sum();
        let grid = rungs.first().map_or(0, |r| r.candidates);
        println!(
            "  halving {method}: {} ({made} cross-validations; the full grid is {grid} on every chip)",
            steps.join(" → ")
        );
    }
}

/// `, N by other workers` when workers sharing the database computed some.
fn by_others(outcome: &Outcome) -> String {
    match outcome.by_others {
        0 => String::new(),
        n => format!(", {n} by other workers"),
    }
}

fn print_summary(plan: &Plan, args: &RunArgs, outcome: &Outcome, seconds: f64) {
    let Some(written) = &outcome.report else {
        return;
    };
    let r = &written.report;
    println!(
        "study {}: {} feature method(s), {} configuration(s) ({} run now, {} already finished{}) on {} train / {} test chips, {:.1} s",
        plan.spec.name,
        r.methods.len(),
        plan.configurations(),
        outcome.ran,
        outcome.skipped,
        by_others(outcome),
        r.train_chips,
        r.test_chips,
        seconds
    );
    print_rungs(outcome);
    println!(
        "  {:<10} {:>16} {:>16} {:>9} {:>9}  best parameters",
        "method", "CV acc %", "CV macro-F1 %", "test acc", "test F1"
    );
    // Ordered as the report orders them: by the CV selection metric, never by test.
    let ordered = r.ordered_by_selection();
    let methods: Vec<&MethodResult> = ordered.methods.iter().collect();
    for m in &methods {
        println!(
            "  {:<10} {:>7.2} ± {:<6.2} {:>7.2} ± {:<6.2} {:>9.2} {:>9.2}  {}",
            m.method,
            100.0 * m.cv_accuracy.0,
            100.0 * m.cv_accuracy.1,
            100.0 * m.cv_f1_macro.0,
            100.0 * m.cv_f1_macro.1,
            100.0 * m.test_accuracy,
            100.0 * m.test_f1_macro,
            m.best_params
        );
    }
    if let Some(best) = methods.first() {
        println!(
            "best method by mean CV {}: {} ({:.2} %; test macro-F1 {:.2} %)",
            r.selection_metric,
            best.method,
            100.0 * best.cv_selection.0,
            100.0 * best.test_f1_macro
        );
    }
    println!("runs:   {} (study run {})", args.db.display(), outcome.run);
    println!("report: {}", written.index_html.display());
}
