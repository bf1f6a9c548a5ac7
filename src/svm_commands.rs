//! `sarlab svm grid`: the SVM grid search on feature matrices brought as `.npy` (the
//! search itself is [`sarlab_study::matrix`]).

use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use sarlab_io::npy;
use sarlab_io::safe_write::{Protected, refuse_overwrite};
use sarlab_study::matrix::{LabelledMatrix, MatrixOutcome, MatrixSearch, describe_point};
use sarlab_svm::{
    Backend, ClassWeight, CvSettings, FeatureTransform, Gamma, Halving, Kernel, LinearLoss,
    LinearSolver, LogUniform, Metric, MinResources, RandomSearch, SearchStrategy, Solver, SvmGrid,
    SvmParams,
};
use sarlab_transform::pca::{PcaParams, PcaSolver};

use crate::cli::SvmGridArgs;
use crate::progress;

/// `--search` and its settings; a setting of another strategy is an error.
fn strategy_of(args: &SvmGridArgs) -> Result<SearchStrategy> {
    let range =
        |flag: &str, values: &Option<Vec<f64>>, name: &'static str| -> Result<Option<LogUniform>> {
            match values.as_deref() {
                None => Ok(None),
                Some([low, high]) => LogUniform::new(name, *low, *high)
                    .map(Some)
                    .map_err(|e| anyhow!("--{flag}: {e}")),
                Some(other) => bail!("--{flag}: expected LOW,HIGH, got {} value(s)", other.len()),
            }
        };
    let c = range("c-log-uniform", &args.c_log_uniform, "C")?;
    let gamma = range("gamma-log-uniform", &args.gamma_log_uniform, "gamma")?;
    let random_only = [
        ("samples", args.samples.is_some()),
        ("c-log-uniform", c.is_some()),
        ("gamma-log-uniform", gamma.is_some()),
    ];
    let halving_only = [
        ("factor", args.factor.is_some()),
        ("min-resources", args.min_resources.is_some()),
    ];
    let refuse = |flags: &[(&str, bool)], owner: &str| -> Result<()> {
        match flags.iter().find(|(_, given)| *given) {
            Some((flag, _)) => bail!(
                "--{flag} applies to --search {owner}, not --search {}",
                args.search
            ),
            None => Ok(()),
        }
    };
    match args.search.as_str() {
        "grid" => {
            refuse(&random_only, "random")?;
            refuse(&halving_only, "halving")?;
            Ok(SearchStrategy::Grid)
        }
        "random" => {
            refuse(&halving_only, "halving")?;
            let samples = args.samples.ok_or_else(|| {
                anyhow!("--search random needs --samples N (how many grid points to draw)")
            })?;
            Ok(SearchStrategy::Random(RandomSearch { samples, c, gamma }))
        }
        "halving" => {
            refuse(&random_only, "random")?;
            let min_resources = match &args.min_resources {
                Some(text) => text
                    .parse::<MinResources>()
                    .map_err(|e| anyhow!("--min-resources: {e}"))?,
                None => MinResources::default(),
            };
            let halving = Halving {
                factor: args.factor.unwrap_or(Halving::default().factor),
                min_resources,
            };
            halving.validate().map_err(|e| anyhow!("--factor: {e}"))?;
            Ok(SearchStrategy::Halving(halving))
        }
        other => bail!("--search {other}: expected grid, random or halving"),
    }
}

/// The grid of the command line, checked and expanded by [`SvmGrid`] (or sampled from
/// it, for random search).
fn configurations_of(args: &SvmGridArgs, strategy: &SearchStrategy) -> Result<Vec<SvmParams>> {
    let kernels: Vec<Kernel> = args
        .kernel
        .iter()
        .map(|k| k.parse().map_err(|e| anyhow!("--kernel: {e}")))
        .collect::<Result<_>>()?;
    let gammas: Vec<Gamma> = args
        .gamma
        .iter()
        .map(|g| g.parse().map_err(|e| anyhow!("--gamma: {e}")))
        .collect::<Result<_>>()?;
    let class_weight: ClassWeight = args
        .class_weight
        .parse()
        .map_err(|e| anyhow!("--class-weight: {e}"))?;
    let grid = SvmGrid {
        kernels,
        c: args.c.clone(),
        gamma: gammas,
        degree: args.degree.clone(),
        coef0: args.coef0.clone(),
        base: SvmParams {
            tolerance: args.tol.unwrap_or(args.solver.default_tolerance()),
            shrinking: !args.no_shrinking,
            class_weight,
            max_iterations: args.max_iterations,
            ..SvmParams::default()
        },
    };
    let points = match strategy {
        SearchStrategy::Random(random) => random.points(&grid, args.seed),
        _ => grid.points(),
    };
    points.map_err(|e| match e {
        sarlab_svm::Error::InvalidParameter { name, message } => {
            let flag = match name {
                "tolerance" => "tol".to_owned(),
                other => other.replace('_', "-"),
            };
            anyhow!("--{flag} {message}")
        }
        other => anyhow!(other),
    })
}

pub fn grid(args: &SvmGridArgs) -> Result<()> {
    let started = Instant::now();
    let strategy = strategy_of(args)?;
    let linear = match args.solver {
        Solver::Liblinear => {
            let approximation = args.approximation;
            if approximation.is_none() && args.kernel.iter().any(|k| k != "linear") {
                bail!(
                    "--solver liblinear fits linear models: give --kernel linear, or approximate the kernel with --approximation nystroem:N or random_fourier:N"
                );
            }
            Some(LinearSolver {
                loss: match &args.loss {
                    Some(text) => text
                        .parse::<LinearLoss>()
                        .map_err(|e| anyhow!("--loss: {e}"))?,
                    None => LinearLoss::default(),
                },
                approximation,
                seed: args.seed,
            })
        }
        Solver::Smo => {
            if args.loss.is_some() {
                bail!("--loss applies to --solver liblinear");
            }
            if args.approximation.is_some() {
                bail!(
                    "--approximation maps the features for the linear solver: add --solver liblinear"
                );
            }
            None
        }
    };
    let mut configurations = configurations_of(args, &strategy)?;
    for configuration in &mut configurations {
        configuration.linear_solver = linear;
    }
    let metric: Metric = args
        .metric
        .parse()
        .map_err(|e| anyhow!("--metric {:?}: {e}", args.metric))?;
    let backend: Backend = args
        .backend
        .parse()
        .map_err(|e| anyhow!("--backend: {e}"))?;
    if linear.is_some() && backend != Backend::default() {
        bail!("--backend {} applies to --solver smo", backend.name());
    }
    if args.folds < 2 {
        bail!(
            "--folds {}: cross-validation needs at least 2 folds",
            args.folds
        );
    }
    if args.pca == Some(0) {
        bail!("--pca 0: give a positive number of components or leave it out");
    }
    if let Some(path) = &args.predictions {
        // The predictions must not land on one of the matrices they come from.
        let protected: Vec<(std::path::PathBuf, Protected)> = [
            Some(&args.train),
            Some(&args.train_labels),
            args.test.as_ref(),
            args.test_labels.as_ref(),
        ]
        .into_iter()
        .flatten()
        .map(|p| (p.clone(), Protected::Input))
        .collect();
        refuse_overwrite(std::slice::from_ref(path), &protected)?;
    }
    let test = match (&args.test, &args.test_labels) {
        (Some(x), Some(y)) => Some(LabelledMatrix::read(x, y)?),
        _ => None,
    };
    let search = MatrixSearch {
        train: LabelledMatrix::read(&args.train, &args.train_labels)?,
        test,
        settings: CvSettings {
            folds: args.folds,
            seed: args.seed,
            transform: FeatureTransform {
                column_weights: None,
                standardize: args.standardize,
                pca: args.pca.map(|components| PcaParams {
                    components,
                    whiten: args.whiten,
                    solver: if args.pca_solver == "randomized" {
                        PcaSolver::Randomized { seed: args.seed }
                    } else {
                        PcaSolver::Exact
                    },
                }),
            },
            backend,
            memory: args.memory_budget.kernel_memory(),
        },
        configurations,
        metric,
        strategy,
    };
    let fits = match &search.strategy {
        SearchStrategy::Halving(halving) => {
            let classes = {
                let mut labels = search.train.labels.clone();
                labels.sort_unstable();
                labels.dedup();
                labels.len()
            };
            sarlab_svm::halving_schedule(
                halving,
                search.configurations.len(),
                search.train.x.nrows(),
                args.folds,
                classes,
                sarlab_svm::rows_for_pca(args.pca, args.folds, classes),
            )
            .map_or(search.configurations.len(), |rungs| {
                rungs.iter().map(|r| r.candidates).sum()
            })
        }
        _ => search.configurations.len(),
    };
    let bar = progress::bar(
        fits * args.folds,
        format!("svm grid ({} configurations)", search.configurations.len()),
    );
    let outcome = search.run(&|_| bar.inc(1))?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    for w in &outcome.warnings {
        eprintln!("warning: {w}");
    }
    if let (Some(path), Some(labels)) = (&args.predictions, outcome.predicted_labels()) {
        sarlab_io::safe_write::write_bytes_atomic(path, &npy::encode_i64(&labels))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if args.json {
        let json = outcome.to_json(&search, seconds);
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        print_table(args, &search, &outcome, seconds);
    }
    Ok(())
}

fn print_table(args: &SvmGridArgs, search: &MatrixSearch, outcome: &MatrixOutcome, seconds: f64) {
    let classes = &outcome.classes;
    let configurations: Vec<&SvmParams> = outcome
        .evaluated
        .iter()
        .map(|&i| &search.configurations[i])
        .collect();
    let has_test = search.test.is_some();
    println!(
        "svm grid: {} configuration(s) × {} folds on {} ({} classes, {} search, {}), {:.2} s",
        search.configurations.len(),
        args.folds,
        args.train.display(),
        classes.len(),
        search.strategy.name(),
        match search.linear_solver() {
            Some(solver) => solver.to_string(),
            None => "smo".to_owned(),
        },
        seconds
    );
    for rung in &outcome.rungs {
        println!(
            "  halving rung {}: {} candidate(s) on {} rows",
            rung.rung.index,
            rung.candidates.len(),
            rung.rows
        );
    }
    if !outcome.rungs.is_empty() {
        println!(
            "  halving last rung: {} candidate(s) on every row",
            configurations.len()
        );
    }
    let search = &outcome.search;
    println!(
        "  {:>16} {:>16} {:>8}  configuration",
        "CV acc %",
        format!("CV {} %", search.metric),
        "SVs"
    );
    for (i, (outcome, params)) in search.outcomes.iter().zip(&configurations).enumerate() {
        let (acc, acc_std) = outcome.mean_std_of("accuracy");
        let (m, m_std) = outcome.mean_std_of(&search.metric);
        let svs = outcome
            .folds
            .iter()
            .map(|f| f.support_vectors as f64)
            .sum::<f64>()
            / outcome.folds.len().max(1) as f64;
        println!(
            "{} {:>7.2} ± {:<6.2} {:>7.2} ± {:<6.2} {:>8.1}  {}",
            if i == search.best { "*" } else { " " },
            100.0 * acc,
            100.0 * acc_std,
            100.0 * m,
            100.0 * m_std,
            svs,
            describe_point(params)
        );
    }
    println!("best: {}", describe_point(configurations[search.best]));
    if let Some((e, _)) = &search.test {
        println!(
            "test: accuracy {:.2} %, macro-F1 {:.2} %, balanced accuracy {:.2} % ({} support vectors)",
            100.0 * e.metrics.accuracy,
            100.0 * e.metrics.f1_macro,
            100.0 * e.metrics.balanced_accuracy,
            e.support_vectors
        );
    } else if !has_test {
        println!("test: none (give --test and --test-labels to score the best configuration)");
    }
}
