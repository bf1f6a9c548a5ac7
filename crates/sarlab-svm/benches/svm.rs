//! The SVM engine on real MSTAR SOC features against scikit-learn (libsvm) and
//! linfa-svm, measured in the same run on the same files.
//!
//! Data (skipped with the reason when `../shared/datasets/mstar-soc` is absent): the
//! 2746 train (17°) chips, 64×64 centre crops of the [0,1]-scaled JPEGs.
//! - `fit`: one 10-class RBF C-SVC (C = 10, γ = "scale") on the crops standardised and
//!   reduced to 100 principal components, one thread: sarlab, linfa-svm (one-vs-one,
//!   shrinking off) and `SVC.fit`.
//! - `grid`: 3 C × 3 γ × 5 folds on HOG 9/(8,8)/(2,2) L2-Hys (1764 values) with
//!   standardisation and PCA(100) fitted per training fold, the best configuration
//!   refitted on the whole train split and the test (15°) split predicted, all cores:
//!   sarlab's `grid_search` against `GridSearchCV(Pipeline(StandardScaler, PCA(100),
//!   SVC), n_jobs=2).fit` + `.predict` on the same folds; best configuration, CV and
//!   test scores compared. scikit-learn's `PCA(100)` picks its randomized solver at this
//!   size, so sarlab runs with `PcaSolver::Randomized` (like for like) and, for the
//!   record, with the exact solver.
//!
//! scikit-learn runs `scripts/bench/svm_sklearn.py` through `$SARLAB_PYTHON` (default
//! `python3`); the comparison is skipped with the reason when it cannot run.
//!
//! - `halving`: the same 3 C × 3 γ grid's cross-validation (exact PCA) as a full grid
//!   and as successive halving (factor 3, `exhaust`: 9 candidates on 305 rows, 3 on
//!   915, 1 on every row), with the best CV accuracy of each, their fit time and the
//!   fits saved.
//!
//! `cargo bench -p sarlab-svm --bench svm` (criterion groups, then the comparisons), or
//! `cargo bench -p sarlab-svm --bench svm -- compare-only` (only the comparison tables), or
//! `… -- grid-only` (sarlab's randomized grid four times, for profiling), or `… --
//! halving-only` (only the halving comparison).

// The allocator the `sarlab` binary uses, so the engine is timed as it runs there.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

use criterion::{Criterion, criterion_group};
use ndarray::Array2;
use sarlab_features::{BlockNorm, FeatureMethod, HogParams};
use sarlab_svm::{
    Backend, CvOutcome, CvSettings, FeatureTransform, Gamma, GridSearch, Halving, HalvingRung,
    StratifiedKFold, Svc, SvmParams, cross_validate_grid, grid_search, halving_rungs,
};
use sarlab_transform::StandardScaler;
use sarlab_transform::pca::{Pca, PcaParams, PcaSolver};

/// Features of the MSTAR SOC train split.
struct MstarFeatures {
    /// Standardised 64×64 crops reduced to 100 principal components.
    x_fit: Array2<f64>,
    /// HOG 9/(8,8)/(2,2) L2-Hys of the crops.
    x_hog: Array2<f64>,
    y: Vec<usize>,
    /// The same HOG of the test (15°) split's crops, and their labels.
    x_hog_test: Array2<f64>,
    y_test: Vec<usize>,
    n_classes: usize,
}

fn mstar_root() -> PathBuf {
    sarlab_testkit::datasets_dir().join("mstar-soc")
}

fn load() -> Option<MstarFeatures> {
    let root = mstar_root();
    if !root.is_dir() {
        println!(
            "MSTAR benchmarks skipped: {} is not present",
            root.display()
        );
        return None;
    }
    let index =
        sarlab_io::DatasetIndex::scan(&root, &sarlab_io::DatasetOptions::default()).expect("scan");
    let dataset = index.load(&|| {}).expect("load");
    let train: Vec<_> = dataset.chips_in(sarlab_io::Split::Train).collect();
    let test: Vec<_> = dataset.chips_in(sarlab_io::Split::Test).collect();
    // Centre 64×64 of the [0, 1]-scaled chip, in f64 as numpy loads it.
    let crop = |chip: &&sarlab_io::Chip| -> Array2<f64> {
        let (r, c) = chip.size;
        let (r0, c0) = ((r - 64) / 2, (c - 64) / 2);
        chip.window_f64(r0..r0 + 64, c0..c0 + 64)
            .expect("whole chip kept")
    };
    let crops: Vec<Array2<f64>> = train.iter().map(crop).collect();
    let test_crops: Vec<Array2<f64>> = test.iter().map(crop).collect();
    let y: Vec<usize> = train.iter().map(|c| c.class_index).collect();
    let mut raw = Array2::zeros((crops.len(), 64 * 64));
    for (mut row, crop) in raw.outer_iter_mut().zip(&crops) {
        row.iter_mut().zip(crop.iter()).for_each(|(d, &v)| *d = v);
    }
    let scaled = StandardScaler::fit(raw.view())
        .and_then(|s| s.transform(raw.view()))
        .expect("standardise");
    let x_fit = Pca::fit(scaled.view(), 100, false)
        .and_then(|p| p.transform(scaled.view()))
        .expect("pca");
    let hog = FeatureMethod::Hog(HogParams {
        orientations: 9,
        pixels_per_cell: (8, 8),
        cells_per_block: (2, 2),
        block_norm: BlockNorm::L2Hys,
        transform_sqrt: false,
    });
    let views: Vec<_> = crops.iter().map(|c| c.view()).collect();
    let x_hog = hog.extract_all(&views, &|| {}).expect("hog");
    let test_views: Vec<_> = test_crops.iter().map(|c| c.view()).collect();
    let x_hog_test = hog.extract_all(&test_views, &|| {}).expect("hog");
    Some(MstarFeatures {
        x_fit,
        x_hog,
        y,
        x_hog_test,
        y_test: test.iter().map(|c| c.class_index).collect(),
        n_classes: dataset.classes.len(),
    })
}

fn fit_params() -> SvmParams {
    SvmParams {
        c: 10.0,
        gamma: Gamma::Scale,
        ..SvmParams::default()
    }
}

/// DESIGN §7's peer grid, in scikit-learn's `ParameterGrid` order (C outer, γ inner).
fn grid() -> Vec<SvmParams> {
    let mut grid = Vec::new();
    for c in [1.0, 10.0, 100.0] {
        for gamma in [Gamma::Scale, Gamma::Value(0.001), Gamma::Value(0.01)] {
            grid.push(SvmParams {
                c,
                gamma,
                ..SvmParams::default()
            });
        }
    }
    grid
}

fn grid_settings(solver: PcaSolver) -> CvSettings {
    CvSettings::new(
        5,
        0,
        FeatureTransform {
            column_weights: None,
            standardize: true,
            pca: Some(PcaParams {
                components: 100,
                whiten: false,
                solver,
            }),
        },
    )
}

fn one_thread() -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool")
}

/// The whole search as `GridSearchCV.fit` + `predict` does it: CV over the grid, the
/// best configuration refitted on all training data, the test split predicted.
fn run_grid(data: &MstarFeatures, solver: PcaSolver) -> GridSearch {
    grid_search(
        data.x_hog.view(),
        &data.y,
        Some((data.x_hog_test.view(), &data.y_test)),
        data.n_classes,
        &grid(),
        &grid_settings(solver),
        "f1_macro",
        &|_| {},
    )
    .expect("grid search")
}

/// A wider grid, where halving is usually reached for: 5 C × 6 γ.
fn wide_grid() -> Vec<SvmParams> {
    let mut grid = Vec::new();
    for c in [0.1, 1.0, 10.0, 100.0, 1000.0] {
        for gamma in [
            Gamma::Scale,
            Gamma::Value(1e-4),
            Gamma::Value(3e-4),
            Gamma::Value(1e-3),
            Gamma::Value(3e-3),
            Gamma::Value(1e-2),
        ] {
            grid.push(SvmParams {
                c,
                gamma,
                ..SvmParams::default()
            });
        }
    }
    grid
}

/// The grid's cross-validation alone (no refit), exact PCA per fold.
fn run_cv_grid(data: &MstarFeatures, params: &[SvmParams]) -> Vec<CvOutcome> {
    cross_validate_grid(
        data.x_hog.view(),
        &data.y,
        data.n_classes,
        params,
        &grid_settings(PcaSolver::Exact),
        &|_| {},
    )
    .expect("grid CV")
}

/// The same grid by successive halving: the rungs below the last, then the last rung's
/// cross-validation of the finalists on every row.
fn run_halving(
    data: &MstarFeatures,
    params: &[SvmParams],
) -> (Vec<HalvingRung>, Vec<usize>, Vec<CvOutcome>) {
    let settings = grid_settings(PcaSolver::Exact);
    let (rungs, finalists) = halving_rungs(
        data.x_hog.view(),
        &data.y,
        data.n_classes,
        params,
        &settings,
        "accuracy",
        &Halving::default(),
        &|_| {},
    )
    .expect("halving rungs");
    let last: Vec<SvmParams> = finalists.iter().map(|&i| params[i].clone()).collect();
    let outcomes = cross_validate_grid(
        data.x_hog.view(),
        &data.y,
        data.n_classes,
        &last,
        &settings,
        &|_| {},
    )
    .expect("last rung");
    (rungs, finalists, outcomes)
}

/// Fit and predict seconds summed over every fold of `outcomes`.
fn fit_seconds(outcomes: &[CvOutcome]) -> f64 {
    outcomes
        .iter()
        .flat_map(|o| &o.folds)
        .map(|e| e.fit_seconds + e.predict_seconds)
        .sum()
}

/// The best mean CV accuracy of `outcomes`.
fn best_accuracy(outcomes: &[CvOutcome]) -> f64 {
    outcomes
        .iter()
        .map(|o| o.mean_std_of("accuracy").0)
        .fold(f64::NEG_INFINITY, f64::max)
}

/// Halving against the full grid, timed now on the same features, on the 3 × 3 grid
/// and on the 5 × 6 one.
fn compare_halving(data: &MstarFeatures) {
    compare_halving_on(data, &grid(), "3 C x 3 gamma");
    compare_halving_on(data, &wide_grid(), "5 C x 6 gamma");
}

fn compare_halving_on(data: &MstarFeatures, params: &[SvmParams], label: &str) {
    let (grid_wall, grid_outcomes) = best_of(1, || run_cv_grid(data, params));
    let (halving_wall, (rungs, finalists, last)) = best_of(1, || run_halving(data, params));
    let folds = 5;
    let grid_fits = params.len() * folds;
    let halving_fits =
        (rungs.iter().map(|r| r.candidates.len()).sum::<usize>() + last.len()) * folds;
    let halving_fit: f64 =
        rungs.iter().map(|r| fit_seconds(&r.outcomes)).sum::<f64>() + fit_seconds(&last);
    let grid_fit = fit_seconds(&grid_outcomes);
    let row_weighted_fits = (rungs
        .iter()
        .map(|r| (r.candidates.len() * r.rows) as f64)
        .sum::<f64>()
        / data.y.len() as f64
        + last.len() as f64)
        * folds as f64;
    println!("  last rung fit+predict {:.2} s", fit_seconds(&last));
    let (grid_best, halving_best) = (best_accuracy(&grid_outcomes), best_accuracy(&last));
    println!(
        "\nhalving vs grid, {label} x 5 folds, HOG {}x{} + scaler + exact PCA(100), {} threads:",
        data.x_hog.nrows(),
        data.x_hog.ncols(),
        rayon::current_num_threads()
    );
    for rung in &rungs {
        println!(
            "  rung {}: {} candidates on {} rows, fit+predict {:.2} s",
            rung.rung.index,
            rung.candidates.len(),
            rung.rows,
            fit_seconds(&rung.outcomes)
        );
    }
    println!(
        "  last rung: {} on every row ({})",
        last.len(),
        finalists
            .iter()
            .map(|&i| format!("C={} gamma={}", params[i].c, params[i].gamma))
            .collect::<Vec<_>>()
            .join("; ")
    );
    println!(
        "  grid: best CV accuracy {:.2} %, {grid_fits} fits, fit+predict {grid_fit:.2} s, wall {grid_wall:.2} s",
        100.0 * grid_best
    );
    println!(
        "  halving: best CV accuracy {:.2} % ({:+.2} pp), {halving_fits} fits ({} row-weighted: Σ fits × rows / all rows), fit+predict {halving_fit:.2} s ({:.2} of the grid's), wall {halving_wall:.2} s ({:.2} of the grid's)",
        100.0 * halving_best,
        100.0 * (halving_best - grid_best),
        format_args!("{:.1}", row_weighted_fits),
        halving_fit / grid_fit,
        halving_wall / grid_wall
    );
}

fn benches_on(c: &mut Criterion, data: &MstarFeatures) {
    let pool = one_thread();
    let svc = Svc::new(fit_params(), data.n_classes);
    let mut group = c.benchmark_group(format!(
        "10-class RBF fit, {}x{}, 1 thread",
        data.x_fit.nrows(),
        data.x_fit.ncols()
    ));
    group.sample_size(10);
    group.bench_function("sarlab", |b| {
        b.iter(|| pool.install(|| svc.fit_rows(black_box(data.x_fit.view()), &data.y)))
    });
    group.finish();

    let mut group = c.benchmark_group(format!(
        "grid 3 C x 3 gamma x 5 folds, HOG {}x{} + scaler + PCA(100), {} threads",
        data.x_hog.nrows(),
        data.x_hog.ncols(),
        rayon::current_num_threads()
    ));
    group.sample_size(10);
    group.bench_function("sarlab, randomized PCA", |b| {
        b.iter(|| run_grid(black_box(data), PcaSolver::Randomized { seed: 0 }))
    });
    group.bench_function("sarlab, exact PCA", |b| {
        b.iter(|| run_grid(black_box(data), PcaSolver::Exact))
    });
    group.finish();

    let mut group = c.benchmark_group(format!(
        "CV of 3 C x 3 gamma x 5 folds, HOG {}x{} + scaler + exact PCA(100): grid vs halving",
        data.x_hog.nrows(),
        data.x_hog.ncols()
    ));
    group.sample_size(10);
    group.bench_function("grid", |b| b.iter(|| run_cv_grid(black_box(data), &grid())));
    group.bench_function("halving (factor 3, exhaust)", |b| {
        b.iter(|| run_halving(black_box(data), &grid()))
    });
    group.finish();
}

fn write_npy(path: &Path, x: &Array2<f64>) {
    let flat: Vec<f64> = x.iter().copied().collect();
    std::fs::write(
        path,
        sarlab_io::npy::encode_f64(&[x.nrows(), x.ncols()], &flat),
    )
    .expect("write npy");
}

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let out = f();
        best = best.min(start.elapsed().as_secs_f64());
        last = Some(out);
    }
    (best, last.expect("at least one run"))
}

/// Times sarlab, linfa-svm and scikit-learn now, on the same files, and prints ratios.
fn compare(data: &MstarFeatures) {
    // SARLAB_SVM_BENCH_DIR keeps the files (for scripts/bench/python_bindings.py).
    let kept = std::env::var_os("SARLAB_SVM_BENCH_DIR").map(std::path::PathBuf::from);
    let dir = kept.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("sarlab-svm-bench-{}", std::process::id()))
    });
    std::fs::create_dir_all(&dir).expect("bench folder");
    write_npy(&dir.join("x_fit.npy"), &data.x_fit);
    write_npy(&dir.join("x_hog.npy"), &data.x_hog);
    write_npy(&dir.join("x_hog_test.npy"), &data.x_hog_test);
    let test_labels: Vec<i64> = data.y_test.iter().map(|&l| l as i64).collect();
    std::fs::write(
        dir.join("y_test.npy"),
        sarlab_io::npy::encode_i64(&test_labels),
    )
    .expect("labels");
    let labels: Vec<i64> = data.y.iter().map(|&l| l as i64).collect();
    std::fs::write(dir.join("y.npy"), sarlab_io::npy::encode_i64(&labels)).expect("labels");
    let folds = StratifiedKFold::new(5, 0)
        .split(&data.y, data.n_classes)
        .expect("folds");
    let mut fold_of = vec![-1i64; data.y.len()];
    for (k, fold) in folds.iter().enumerate() {
        for &i in &fold.validation {
            fold_of[i] = k as i64;
        }
    }
    std::fs::write(dir.join("folds.npy"), sarlab_io::npy::encode_i64(&fold_of)).expect("folds");

    let pool = one_thread();
    let (fit_seconds, model) = best_of(3, || {
        pool.install(|| {
            Svc::new(fit_params(), data.n_classes)
                .fit_rows(data.x_fit.view(), &data.y)
                .expect("fit")
        })
    });
    let train_accuracy = model
        .predict_rows(data.x_fit.view())
        .expect("finite kernel")
        .iter()
        .zip(&data.y)
        .filter(|(p, t)| p == t)
        .count() as f64
        / data.y.len() as f64;
    let (linfa_seconds, linfa_model) = best_of(1, || {
        pool.install(|| {
            Svc::new(fit_params(), data.n_classes)
                .with_backend(Backend::Linfa)
                .fit_rows(data.x_fit.view(), &data.y)
                .expect("linfa fit")
        })
    });
    let (grid_seconds, search) = best_of(3, || run_grid(data, PcaSolver::Randomized { seed: 0 }));
    let (exact_seconds, exact_search) = best_of(3, || run_grid(data, PcaSolver::Exact));

    let theirs = sarlab_testkit::peer::run_json(
        "scikit-learn",
        "scikit-learn",
        "scripts/bench/svm_sklearn.py",
        &[dir.display().to_string()],
    );
    if kept.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let nan = f64::NAN;
    let theirs_f = |key: &str| theirs.as_ref().and_then(|t| t[key].as_f64()).unwrap_or(nan);

    println!(
        "\nMSTAR SOC train ({} chips, 10 classes), same files, same run; scikit-learn {}:",
        data.y.len(),
        theirs
            .as_ref()
            .map_or("n/a".into(), |t| t["sklearn"].to_string())
    );
    println!(
        "  fit 10-class RBF (C=10, gamma=scale) on {}x{}, 1 thread (best of 3; linfa once):",
        data.x_fit.nrows(),
        data.x_fit.ncols()
    );
    println!(
        "    sarlab {fit_seconds:.3} s ({} SVs, train acc {:.2} %) | SVC.fit {:.3} s ({} SVs, train acc {:.2} %) → {:.1}x | linfa-svm {linfa_seconds:.3} s ({} SVs) → {:.1}x",
        model.support_vector_count(),
        100.0 * train_accuracy,
        theirs_f("fit_seconds"),
        theirs
            .as_ref()
            .map_or(serde_json::Value::Null, |t| t["fit_support_vectors"]
                .clone()),
        100.0 * theirs_f("fit_train_accuracy"),
        theirs_f("fit_seconds") / fit_seconds,
        linfa_model.support_vector_count(),
        linfa_seconds / fit_seconds,
    );
    println!(
        "  grid 3 C x 3 gamma x 5 folds + refit of the best + test prediction ({} chips), HOG {}x{} -> scaler -> PCA(100) -> SVC, {} threads (sarlab best of 3; GridSearchCV n_jobs=2 once; scikit-learn's PCA(100) default solver here is randomized):",
        data.y_test.len(),
        data.x_hog.nrows(),
        data.x_hog.ncols(),
        rayon::current_num_threads()
    );
    let theirs_grid = theirs_f("grid_seconds");
    println!(
        "    sarlab, randomized PCA {grid_seconds:.2} s | sarlab, exact PCA {exact_seconds:.2} s | GridSearchCV {theirs_grid:.2} s → {:.1}x (randomized, like for like), {:.1}x (exact)",
        theirs_grid / grid_seconds,
        theirs_grid / exact_seconds,
    );
    println!(
        "    {:>6} {:>8} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "C", "gamma", "rand F1 %", "exact F1 %", "sk F1 %", "rand acc %", "exact acc %", "sk acc %"
    );
    let params = grid();
    for (i, p) in params.iter().enumerate() {
        let reference = theirs.as_ref().map(|t| &t["grid_configs"][i]);
        let get = |k: &str| reference.and_then(|r| r[k].as_f64()).unwrap_or(nan);
        let (ours, exact) = (&search.outcomes[i], &exact_search.outcomes[i]);
        println!(
            "  {} {:>6} {:>8} {:>10.2} {:>10.2} {:>10.2} {:>10.2} {:>10.2} {:>10.2}",
            if i == search.best { "*" } else { " " },
            p.c,
            p.gamma.to_string(),
            100.0 * ours.mean_std_of("f1_macro").0,
            100.0 * exact.mean_std_of("f1_macro").0,
            100.0 * get("f1_macro"),
            100.0 * ours.mean_std_of("accuracy").0,
            100.0 * exact.mean_std_of("accuracy").0,
            100.0 * get("accuracy"),
        );
    }
    let test_accuracy = |g: &GridSearch| {
        g.test
            .as_ref()
            .map_or(nan, |(evaluation, _)| evaluation.metrics.accuracy)
    };
    if let Some(t) = &theirs {
        let theirs_best = &t["grid_best"];
        let their_acc = theirs_best["accuracy"].as_f64().unwrap_or(nan);
        for (name, g) in [("randomized", &search), ("exact", &exact_search)] {
            let best = &params[g.best];
            let same = theirs_best["C"].as_f64() == Some(best.c)
                && match best.gamma {
                    Gamma::Value(v) => theirs_best["gamma"].as_f64() == Some(v),
                    named => theirs_best["gamma"].as_str() == Some(&named.to_string()),
                };
            let ours_acc = g.outcomes[g.best].mean_std_of("accuracy").0;
            println!(
                "    best ({name}): sarlab C={} gamma={} | scikit-learn C={} gamma={} → {}; best CV accuracy {:.2} % vs {:.2} % (difference {:.2} pp); test accuracy {:.2} % vs {:.2} %",
                best.c,
                best.gamma,
                theirs_best["C"],
                theirs_best["gamma"],
                if same { "same" } else { "DIFFERENT" },
                100.0 * ours_acc,
                100.0 * their_acc,
                100.0 * (ours_acc - their_acc).abs(),
                100.0 * test_accuracy(g),
                100.0 * theirs_f("grid_test_accuracy"),
            );
        }
    }
}

/// User + system CPU seconds of this process so far (Linux `/proc/self/stat`), to see
/// how busy the cores were.
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // The kernel's USER_HZ is 100 on every Linux platform sarlab targets.
    Some(ticks / 100.0)
}

fn benches(c: &mut Criterion) {
    if let Some(data) = load() {
        benches_on(c, &data);
        compare(&data);
        compare_halving(&data);
    }
}

criterion_group!(svm, benches);

fn main() {
    // Only sarlab's randomized grid, timed a few times: for profiling the engine.
    if std::env::args().any(|a| a == "grid-only") {
        if let Some(data) = load() {
            for _ in 0..4 {
                let cpu_before = process_cpu_seconds();
                let (seconds, search) =
                    best_of(1, || run_grid(&data, PcaSolver::Randomized { seed: 0 }));
                let cpu = match (cpu_before, process_cpu_seconds()) {
                    (Some(before), Some(after)) => format!("{:.2} s", after - before),
                    _ => "n/a".to_owned(),
                };
                let best = &search.outcomes[search.best].params;
                println!(
                    "grid {seconds:.2} s (CPU {cpu}), best C={} gamma={:?}",
                    best.c, best.gamma
                );
            }
        }
        return;
    }
    if std::env::args().any(|a| a == "compare-only") {
        if let Some(data) = load() {
            compare(&data);
            compare_halving(&data);
        }
        return;
    }
    if std::env::args().any(|a| a == "halving-only") {
        if let Some(data) = load() {
            compare_halving(&data);
        }
        return;
    }
    svm();
    Criterion::default().configure_from_args().final_summary();
}
