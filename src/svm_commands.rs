//! `sarlab svm grid`: the SVM grid search on feature matrices brought as `.npy`.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use ndarray::Array2;
use sarlab_features::pca::{PcaParams, PcaSolver};
use sarlab_io::npy;
use sarlab_svm::{
    Backend, ClassWeight, CvSettings, Evaluation, FeatureTransform, Gamma, GridSearch, Kernel,
    METRIC_NAMES, SvmGrid, SvmParams, SweptValue, confusion_matrix, grid_search, per_class,
};
use serde_json::{Value, json};

use crate::cli::SvmGridArgs;
use crate::progress;

/// A feature matrix read from `.npy`.
fn read_matrix(path: &Path) -> Result<Array2<f64>> {
    let bytes = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let m = npy::decode_matrix(&bytes, path)?;
    if m.shape.len() != 2 {
        bail!(
            "{}: shape is {:?}, expected a 2-D feature matrix (rows = samples)",
            path.display(),
            m.shape
        );
    }
    if m.shape[0] == 0 || m.shape[1] == 0 {
        bail!(
            "{}: shape is {:?}, expected at least one row and one column",
            path.display(),
            m.shape
        );
    }
    Ok(Array2::from_shape_vec((m.shape[0], m.shape[1]), m.values)?)
}

fn read_labels(path: &Path) -> Result<Vec<i64>> {
    let bytes = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(npy::decode_labels(&bytes, path)?)
}

/// The grid of the command line, checked and expanded by [`SvmGrid`].
fn configurations_of(args: &SvmGridArgs) -> Result<Vec<SvmParams>> {
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
            tolerance: args.tol,
            shrinking: !args.no_shrinking,
            class_weight,
            max_iterations: args.max_iterations,
            ..SvmParams::default()
        },
    };
    grid.points().map_err(|e| match e {
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

/// The parameters that enter the configuration's kernel, in sweep order.
fn params_list(p: &SvmParams) -> Vec<(&'static str, Value)> {
    p.swept()
        .into_iter()
        .map(|(name, value)| {
            let value = match value {
                SweptValue::Kernel(k) => json!(k.name()),
                SweptValue::Real(v) => json!(v),
                SweptValue::Gamma(Gamma::Value(g)) => json!(g),
                SweptValue::Gamma(named) => json!(named.to_string()),
                SweptValue::Degree(d) => json!(d),
            };
            (name, value)
        })
        .collect()
}

fn params_json(p: &SvmParams) -> Value {
    Value::Object(
        params_list(p)
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    )
}

fn describe(p: &SvmParams) -> String {
    params_list(p)
        .iter()
        .map(|(k, v)| match v {
            Value::String(s) => format!("{k}={s}"),
            v => format!("{k}={v}"),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn metrics_json(e: &Evaluation) -> Value {
    let map: serde_json::Map<String, Value> = e
        .metrics
        .named()
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    Value::Object(map)
}

fn evaluation_json(e: &Evaluation) -> Value {
    json!({
        "metrics": metrics_json(e),
        "gamma_value": e.gamma,
        "support_vectors": e.support_vectors,
        "solver_iterations": e.iterations,
        "iteration_cap_hits": e.capped_pairs.len(),
        "fit_seconds": e.fit_seconds,
        "predict_seconds": e.predict_seconds,
    })
}

pub fn grid(args: &SvmGridArgs) -> Result<()> {
    let started = Instant::now();
    let configurations = configurations_of(args)?;
    if !METRIC_NAMES.contains(&args.metric.as_str()) {
        bail!(
            "--metric {:?}: expected one of {}",
            args.metric,
            METRIC_NAMES.join(", ")
        );
    }
    let backend: Backend = args
        .backend
        .parse()
        .map_err(|e| anyhow!("--backend: {e}"))?;
    if args.folds < 2 {
        bail!(
            "--folds {}: cross-validation needs at least 2 folds",
            args.folds
        );
    }
    if args.pca == Some(0) {
        bail!("--pca 0: give a positive number of components or leave it out");
    }

    let x = read_matrix(&args.train)?;
    let raw_labels = read_labels(&args.train_labels)?;
    if raw_labels.len() != x.nrows() {
        bail!(
            "{} has {} labels but {} has {} rows: one label per row expected",
            args.train_labels.display(),
            raw_labels.len(),
            args.train.display(),
            x.nrows()
        );
    }
    // Classes are the distinct training labels, ascending; the engine sees 0..k.
    let classes: Vec<i64> = {
        let mut c = raw_labels.clone();
        c.sort_unstable();
        c.dedup();
        c
    };
    if classes.len() < 2 {
        bail!(
            "{} holds a single class ({}): a classifier needs at least two",
            args.train_labels.display(),
            classes[0]
        );
    }
    let index_of = |label: i64| classes.binary_search(&label).ok();
    let y: Vec<usize> = raw_labels
        .iter()
        .map(|&l| index_of(l).expect("every training label is a class"))
        .collect();
    let counts: Vec<usize> = (0..classes.len())
        .map(|k| y.iter().filter(|&&c| c == k).count())
        .collect();
    if let Some((k, &count)) = counts.iter().enumerate().min_by_key(|(_, c)| **c)
        && args.folds > count
    {
        bail!(
            "--folds {} is larger than class {} of {}, which has {count} rows; every fold needs a row of every class",
            args.folds,
            classes[k],
            args.train_labels.display()
        );
    }
    if let Some(components) = args.pca
        && components > x.ncols()
    {
        bail!(
            "--pca {components}: {} has only {} feature columns",
            args.train.display(),
            x.ncols()
        );
    }

    let test = match (&args.test, &args.test_labels) {
        (Some(xt_path), Some(yt_path)) => {
            let xt = read_matrix(xt_path)?;
            if xt.ncols() != x.ncols() {
                bail!(
                    "{} has {} columns but the training features {} have {}",
                    xt_path.display(),
                    xt.ncols(),
                    args.train.display(),
                    x.ncols()
                );
            }
            let yt_raw = read_labels(yt_path)?;
            if yt_raw.len() != xt.nrows() {
                bail!(
                    "{} has {} labels but {} has {} rows: one label per row expected",
                    yt_path.display(),
                    yt_raw.len(),
                    xt_path.display(),
                    xt.nrows()
                );
            }
            let yt = yt_raw
                .iter()
                .enumerate()
                .map(|(row, &l)| {
                    index_of(l).with_context(|| {
                        format!(
                            "{} row {row}: label {l} does not occur in the training labels {}",
                            yt_path.display(),
                            args.train_labels.display()
                        )
                    })
                })
                .collect::<Result<Vec<usize>>>()?;
            Some((xt, yt))
        }
        _ => None,
    };

    let settings = CvSettings {
        folds: args.folds,
        seed: args.seed,
        transform: FeatureTransform {
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
    };
    let bar = progress::bar(
        configurations.len() * args.folds,
        format!("svm grid ({} configurations)", configurations.len()),
    );
    let search = grid_search(
        x.view(),
        &y,
        test.as_ref().map(|(xt, yt)| (xt.view(), yt.as_slice())),
        classes.len(),
        &configurations,
        &settings,
        &args.metric,
        &|_| bar.inc(1),
    )
    .context("SVM grid search")?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();

    let mut warnings = Vec::new();
    for (outcome, params) in search.outcomes.iter().zip(&configurations) {
        let capped: Vec<(usize, usize)> = outcome
            .folds
            .iter()
            .enumerate()
            .filter(|(_, e)| !e.capped_pairs.is_empty())
            .map(|(fold, e)| (fold, e.capped_pairs.len()))
            .collect();
        if !capped.is_empty() {
            warnings.push(format!(
                "{}: {} binary machine(s) stopped at the iteration cap before reaching the tolerance (in folds {}); raise --max-iterations or --tol",
                describe(params),
                capped.iter().map(|(_, n)| n).sum::<usize>(),
                capped
                    .iter()
                    .map(|(f, _)| f.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    if let Some((e, _)) = &search.test {
        warnings.extend(e.warnings().into_iter().map(|w| format!("refit: {w}")));
    }
    for w in &warnings {
        eprintln!("warning: {w}");
    }

    if let (Some(path), Some((_, predicted))) = (&args.predictions, &search.test) {
        let labels: Vec<i64> = predicted.iter().map(|&k| classes[k]).collect();
        fs::write(path, npy::encode_i64(&labels))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }

    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report_json(
                args,
                &search,
                &configurations,
                &classes,
                test.as_ref().map(|(_, yt)| yt.as_slice()),
                &warnings,
                seconds,
            ))?
        );
    } else {
        print_table(
            args,
            &search,
            &configurations,
            &classes,
            test.is_some(),
            seconds,
        );
    }
    Ok(())
}

fn report_json(
    args: &SvmGridArgs,
    search: &GridSearch,
    configurations: &[SvmParams],
    classes: &[i64],
    y_test: Option<&[usize]>,
    warnings: &[String],
    seconds: f64,
) -> Value {
    let configs: Vec<Value> = search
        .outcomes
        .iter()
        .zip(configurations)
        .map(|(outcome, params)| {
            let cv: BTreeMap<&str, Value> = METRIC_NAMES
                .iter()
                .map(|&name| {
                    let (mean, std) = outcome.mean_std_of(name);
                    (name, json!({ "mean": mean, "std": std }))
                })
                .collect();
            json!({
                "params": params_json(params),
                "cv": cv,
                "folds": outcome.folds.iter().map(evaluation_json).collect::<Vec<_>>(),
            })
        })
        .collect();
    let test = match (&search.test, y_test) {
        (Some((evaluation, predicted)), Some(y_test)) => {
            let n = classes.len();
            let confusion = confusion_matrix(y_test, predicted, n);
            let per_class: Vec<Value> = per_class(y_test, predicted, n)
                .iter()
                .map(|s| {
                    json!({
                        "class": classes[s.class],
                        "precision": s.precision,
                        "recall": s.recall,
                        "f1": s.f1,
                        "support": s.support,
                    })
                })
                .collect();
            json!({
                "evaluation": evaluation_json(evaluation),
                "per_class": per_class,
                "confusion_matrix": confusion.outer_iter().map(|r| r.to_vec()).collect::<Vec<_>>(),
            })
        }
        _ => Value::Null,
    };
    json!({
        "train": args.train.display().to_string(),
        "classes": classes,
        "folds": args.folds,
        "seed": args.seed,
        "metric": search.metric,
        "backend": args.backend,
        "configurations": configs,
        "best": {
            "index": search.best,
            "params": params_json(&configurations[search.best]),
            "cv": {
                "mean": search.outcomes[search.best].mean_std_of(&search.metric).0,
                "std": search.outcomes[search.best].mean_std_of(&search.metric).1,
            },
        },
        "test": test,
        "warnings": warnings,
        "seconds": seconds,
    })
}

fn print_table(
    args: &SvmGridArgs,
    search: &GridSearch,
    configurations: &[SvmParams],
    classes: &[i64],
    has_test: bool,
    seconds: f64,
) {
    println!(
        "svm grid: {} configuration(s) × {} folds on {} ({} classes), {:.2} s",
        configurations.len(),
        args.folds,
        args.train.display(),
        classes.len(),
        seconds
    );
    println!(
        "  {:>16} {:>16} {:>8}  configuration",
        "CV acc %",
        format!("CV {} %", search.metric),
        "SVs"
    );
    for (i, (outcome, params)) in search.outcomes.iter().zip(configurations).enumerate() {
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
            describe(params)
        );
    }
    println!("best: {}", describe(&configurations[search.best]));
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
