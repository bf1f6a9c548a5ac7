//! The SVM engine at scale against scikit-learn, measured in the same run on the same
//! files (issue 26): `sarlab svm grid` (10 classes, 100 features, C ∈ {1, 10}, γ =
//! "scale", 3 stratified folds) with the default memory budget (kernels held whole when
//! they fit) and with a 3.5 GB budget (rows cached beyond it), against
//! `GridSearchCV(SVC(), n_jobs=2)` on the same folds' sizes; wall time and peak RSS of
//! each (`/usr/bin/time -v`), and their ratio.
//!
//! The data are `scripts/bench/scale_data.py`'s (scikit-learn's `make_classification`,
//! seeded), scikit-learn's side is `scripts/bench/scale_sklearn.py`, both run through
//! `$SARLAB_PYTHON` (default `python3`); the whole comparison is skipped with the reason
//! when Python or `/usr/bin/time` cannot run. scikit-learn is given
//! `$SARLAB_SCALE_SKLEARN_LIMIT` seconds (default 1800) and reported as not finished
//! beyond that.
//!
//! `cargo bench --bench svm_scale` (criterion: the in-process grid search at 5,000 rows
//! on whole kernels and on cached rows, then the table at `$SARLAB_SCALE_ROWS`, default
//! `5000,10000,20000`), or `cargo bench --bench svm_scale -- compare-only`.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use criterion::Criterion;
use sarlab_study::matrix::LabelledMatrix;
use sarlab_svm::{CvSettings, FeatureTransform, Gamma, KernelMemory, SvmParams, grid_search};

fn python() -> String {
    std::env::var("SARLAB_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/bench")
}

/// The benchmark's data for `rows` samples, generated once into `dir/rows/`.
fn data(dir: &Path, rows: usize) -> Result<PathBuf, String> {
    let out = dir.join(rows.to_string());
    if out.join("X.npy").is_file() && out.join("y.npy").is_file() {
        return Ok(out);
    }
    let status = Command::new(python())
        .arg(scripts().join("scale_data.py"))
        .arg(rows.to_string())
        .arg(&out)
        .status()
        .map_err(|e| format!("{} could not run: {e}", python()))?;
    if !status.success() {
        return Err(format!(
            "scale_data.py failed ({status}); it needs numpy and scikit-learn"
        ));
    }
    Ok(out)
}

/// Wall seconds and peak RSS (GB) of a command, from `/usr/bin/time -v`; `None` when it
/// ran past `limit` or failed.
fn timed(command: Command, limit: Option<Duration>) -> Result<Option<(f64, f64)>, String> {
    let mut time = Command::new("/usr/bin/time");
    time.arg("-v")
        .arg(command.get_program())
        .args(command.get_args());
    for (key, value) in command.get_envs() {
        match value {
            Some(v) => time.env(key, v),
            None => time.env_remove(key),
        };
    }
    if let Some(limit) = limit {
        // GNU timeout, so the peer's workers die with it.
        let mut wrapped = Command::new("timeout");
        wrapped
            .arg(limit.as_secs().to_string())
            .arg(time.get_program())
            .args(time.get_args());
        for (key, value) in time.get_envs() {
            match value {
                Some(v) => wrapped.env(key, v),
                None => wrapped.env_remove(key),
            };
        }
        time = wrapped;
    }
    let out = time
        .output()
        .map_err(|e| format!("/usr/bin/time could not run: {e}"))?;
    if !out.status.success() {
        return Ok(None);
    }
    let report = String::from_utf8_lossy(&out.stderr);
    let field = |name: &str| -> Option<&str> {
        report
            .lines()
            .find_map(|l| l.trim().strip_prefix(name).map(str::trim))
    };
    let wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss):")
        .and_then(|t| {
            t.split(':').try_fold(0.0, |acc, part| {
                part.parse::<f64>().ok().map(|v| acc * 60.0 + v)
            })
        })
        .ok_or("no wall time in /usr/bin/time's report")?;
    let rss_kb: f64 = field("Maximum resident set size (kbytes):")
        .and_then(|v| v.parse().ok())
        .ok_or("no peak RSS in /usr/bin/time's report")?;
    Ok(Some((wall, rss_kb * 1024.0 / 1e9)))
}

fn sarlab_grid(dir: &Path, budget: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sarlab"));
    command
        .args(["svm", "grid", "--train"])
        .arg(dir.join("X.npy"))
        .arg("--train-labels")
        .arg(dir.join("y.npy"))
        .args(["--C", "1,10", "--gamma", "scale", "--folds", "3"])
        .args(["--metric", "accuracy", "--memory-budget", budget, "--json"]);
    command
}

fn sklearn_grid(dir: &Path) -> Command {
    let mut command = Command::new(python());
    command
        .arg(scripts().join("scale_sklearn.py"))
        .arg(dir)
        // OpenBLAS's own tuning variables, unset for the peer only (see env).
        .env_remove("OPENBLAS_CORETYPE")
        .env_remove("OPENBLAS_L2_SIZE");
    command
}

fn compare(root: &Path) -> Result<(), String> {
    let rows: Vec<usize> = std::env::var("SARLAB_SCALE_ROWS")
        .unwrap_or_else(|_| "5000,10000,20000".to_owned())
        .split(',')
        .map(|r| {
            r.trim()
                .parse()
                .map_err(|_| format!("SARLAB_SCALE_ROWS: `{r}`"))
        })
        .collect::<Result<_, _>>()?;
    let limit = std::env::var("SARLAB_SCALE_SKLEARN_LIMIT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1800);
    println!(
        "\n| rows | sarlab (default budget) | sarlab (3.5 GB budget) | scikit-learn | ratio (default) | ratio (3.5 GB) |"
    );
    println!("|---|---|---|---|---|---|");
    let show = |t: Option<(f64, f64)>| match t {
        Some((s, gb)) => format!("{s:.1} s, {gb:.2} GB"),
        None => "not finished".to_owned(),
    };
    for n in rows {
        let dir = data(root, n)?;
        let whole = timed(sarlab_grid(&dir, "60%"), None)?;
        let cached = timed(sarlab_grid(&dir, "3.5GB"), None)?;
        let peer = timed(sklearn_grid(&dir), Some(Duration::from_secs(limit)))?;
        let ratio = |ours: Option<(f64, f64)>| match (ours, peer) {
            (Some((a, _)), Some((b, _))) => format!("{:.2}×", b / a),
            (Some((a, _)), None) => format!("> {:.1}×", limit as f64 / a),
            _ => "-".to_owned(),
        };
        println!(
            "| {n} | {} | {} | {} | {} | {} |",
            show(whole),
            show(cached),
            show(peer),
            ratio(whole),
            ratio(cached)
        );
    }
    Ok(())
}

/// The in-process grid search on whole kernels and on cached rows.
fn criterion_groups(c: &mut Criterion, root: &Path) -> Result<(), String> {
    let dir = data(root, 5000)?;
    let train =
        LabelledMatrix::read(&dir.join("X.npy"), &dir.join("y.npy")).map_err(|e| e.to_string())?;
    let y: Vec<usize> = train.labels.iter().map(|&l| l as usize).collect();
    let grid: Vec<SvmParams> = [1.0, 10.0]
        .into_iter()
        .map(|c| SvmParams {
            c,
            gamma: Gamma::Scale,
            ..SvmParams::default()
        })
        .collect();
    let mut group = c.benchmark_group("svm_scale_5000");
    group.sample_size(10);
    for (name, memory) in [
        ("whole", KernelMemory::Whole),
        (
            "cached_400MB",
            KernelMemory::Cached {
                cache_bytes: 400_000_000,
            },
        ),
    ] {
        let settings = CvSettings {
            memory,
            ..CvSettings::new(3, 0, FeatureTransform::default())
        };
        group.bench_function(name, |b| {
            b.iter(|| {
                grid_search(
                    train.x.view(),
                    &y,
                    None,
                    10,
                    &grid,
                    &settings,
                    "accuracy",
                    &|_| {},
                )
                .expect("grid search")
            })
        });
    }
    group.finish();
    Ok(())
}

fn main() {
    let root = std::env::temp_dir().join("sarlab-svm-scale");
    let compare_only = std::env::args().any(|a| a == "compare-only");
    let result = (|| -> Result<(), String> {
        if !compare_only {
            let mut c = Criterion::default().configure_from_args();
            criterion_groups(&mut c, &root)?;
            c.final_summary();
        }
        compare(&root)
    })();
    if let Err(reason) = result {
        println!("SVM scale benchmark skipped: {reason}");
    }
}
