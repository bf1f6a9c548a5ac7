//! `sarlab svm grid` on feature matrices brought as `.npy`.

use ndarray::Array2;
use sarlab_io::npy;
use sarlab_svm::{CvSettings, FeatureTransform, Gamma, Kernel, SvmParams, grid_search};
use serde_json::Value;

use crate::support::{Workspace, assert_failure_mentions, assert_success, stdout};

/// Three overlapping classes in 4-D with labels 3, 7 and 11, deterministic.
fn blobs(rows_per_class: usize, offset: usize) -> (Array2<f64>, Vec<i64>) {
    let mut x = Array2::zeros((3 * rows_per_class, 4));
    let mut y = Vec::new();
    for class in 0..3 {
        for i in 0..rows_per_class {
            let r = class * rows_per_class + i;
            let t = (i + offset) as f64;
            for j in 0..4 {
                let centre = if j == class { 1.5 } else { 0.0 };
                x[[r, j]] = centre + ((t * 1.7 + j as f64 * 2.3 + class as f64).sin() * 1.1);
            }
            y.push([3, 7, 11][class]);
        }
    }
    (x, y)
}

fn write_matrix(ws: &Workspace, name: &str, x: &Array2<f64>) {
    let flat: Vec<f64> = x.iter().copied().collect();
    std::fs::write(
        ws.path(name),
        npy::encode_f64(&[x.nrows(), x.ncols()], &flat),
    )
    .expect("write");
}

fn write_labels(ws: &Workspace, name: &str, y: &[i64]) {
    std::fs::write(ws.path(name), npy::encode_i64(y)).expect("write");
}

fn workspace_with_data() -> (Workspace, Array2<f64>, Vec<i64>) {
    let ws = Workspace::new();
    let (x, y) = blobs(30, 0);
    let (xt, yt) = blobs(12, 100);
    write_matrix(&ws, "x.npy", &x);
    write_labels(&ws, "y.npy", &y);
    write_matrix(&ws, "xt.npy", &xt);
    write_labels(&ws, "yt.npy", &yt);
    (ws, x, y)
}

const GRID: &[&str] = &[
    "svm",
    "grid",
    "--train",
    "x.npy",
    "--train-labels",
    "y.npy",
    "--test",
    "xt.npy",
    "--test-labels",
    "yt.npy",
    "--kernel",
    "rbf,linear",
    "--C",
    "0.1,10",
    "--gamma",
    "scale,0.05",
    "--folds",
    "4",
    "--seed",
    "3",
];

fn run_json(ws: &Workspace, extra: &[&str]) -> Value {
    let mut args = GRID.to_vec();
    args.extend_from_slice(extra);
    args.push("--json");
    let out = ws.sarlab(&args);
    assert_success(&out);
    serde_json::from_str(&stdout(&out)).expect("--json prints JSON")
}

#[test]
fn json_holds_every_configuration_the_best_and_its_test_scores() {
    let (ws, x, y) = workspace_with_data();
    let report = run_json(&ws, &["--predictions", "p.npy"]);
    let configs = report["configurations"].as_array().expect("configurations");
    // rbf: 2 C × 2 γ; linear: 2 C (γ does not enter it).
    assert_eq!(configs.len(), 6);
    assert_eq!(configs[4]["params"]["kernel"], "linear");
    assert!(configs[4]["params"].get("gamma").is_none());
    for c in configs {
        assert_eq!(c["folds"].as_array().expect("folds").len(), 4);
        for name in sarlab_svm::METRIC_NAMES {
            assert!(c["cv"][name]["mean"].is_f64(), "{name}");
        }
    }
    assert_eq!(report["classes"], serde_json::json!([3, 7, 11]));

    // The same search through the library: same CV scores, same best.
    let classes = [3i64, 7, 11];
    let y_idx: Vec<usize> = y
        .iter()
        .map(|l| classes.iter().position(|c| c == l).expect("class"))
        .collect();
    let mut grid = Vec::new();
    for c in [0.1, 10.0] {
        for gamma in [Gamma::Scale, Gamma::Value(0.05)] {
            grid.push(SvmParams {
                kernel: Kernel::Rbf,
                c,
                gamma,
                ..SvmParams::default()
            });
        }
    }
    for c in [0.1, 10.0] {
        grid.push(SvmParams {
            kernel: Kernel::Linear,
            c,
            ..SvmParams::default()
        });
    }
    let search = grid_search(
        x.view(),
        &y_idx,
        None,
        3,
        &grid,
        &CvSettings::new(4, 3, FeatureTransform::default()),
        "f1_macro",
        &|_| {},
    )
    .expect("library grid search");
    assert_eq!(report["best"]["index"], search.best);
    for (c, outcome) in configs.iter().zip(&search.outcomes) {
        let (mean, std) = outcome.mean_std_of("f1_macro");
        assert_eq!(c["cv"]["f1_macro"]["mean"].as_f64(), Some(mean));
        assert_eq!(c["cv"]["f1_macro"]["std"].as_f64(), Some(std));
    }
    // The best has the highest mean, the first of equals.
    let means: Vec<f64> = configs
        .iter()
        .map(|c| c["cv"]["f1_macro"]["mean"].as_f64().expect("mean"))
        .collect();
    let best = report["best"]["index"].as_u64().expect("index") as usize;
    assert!(means.iter().all(|&m| m <= means[best]));
    assert!(means[..best].iter().all(|&m| m < means[best]));

    // Test scores and predictions in the original label values.
    let test = &report["test"];
    let accuracy = test["evaluation"]["metrics"]["accuracy"]
        .as_f64()
        .expect("accuracy");
    let predictions = npy::decode_labels(
        &std::fs::read(ws.path("p.npy")).expect("p.npy"),
        &ws.path("p.npy"),
    )
    .expect("labels");
    assert_eq!(predictions.len(), 36);
    assert!(predictions.iter().all(|p| classes.contains(p)));
    let (_, yt) = blobs(12, 100);
    let correct = predictions.iter().zip(&yt).filter(|(p, t)| p == t).count();
    assert_eq!(accuracy, correct as f64 / 36.0);
    let confusion = test["confusion_matrix"].as_array().expect("confusion");
    let total: u64 = confusion
        .iter()
        .flat_map(|r| r.as_array().expect("row"))
        .map(|v| v.as_u64().expect("count"))
        .sum();
    assert_eq!(total, 36);
    assert_eq!(test["per_class"][2]["class"], 11);
}

#[test]
fn same_seed_same_numbers_other_seed_other_folds() {
    let (ws, _, _) = workspace_with_data();
    let cv = |report: &Value| -> Vec<Value> {
        report["configurations"]
            .as_array()
            .expect("configurations")
            .iter()
            .map(|c| c["cv"].clone())
            .collect()
    };
    let a = run_json(&ws, &[]);
    let b = run_json(&ws, &[]);
    assert_eq!(cv(&a), cv(&b));
    let mut args = GRID.to_vec();
    let seed = args.iter().position(|a| *a == "3").expect("seed value");
    args[seed] = "4";
    args.push("--json");
    let out = ws.sarlab(&args);
    assert_success(&out);
    let c: Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_ne!(cv(&a), cv(&c), "the seed must reach the fold shuffle");
}

#[test]
fn table_output_marks_the_best_and_scores_the_test_split() {
    let (ws, _, _) = workspace_with_data();
    let out = ws.sarlab(GRID);
    assert_success(&out);
    let text = stdout(&out);
    assert!(text.contains("6 configuration(s) × 4 folds"), "{text}");
    assert_eq!(text.lines().filter(|l| l.starts_with('*')).count(), 1);
    assert!(text.contains("best: kernel="), "{text}");
    assert!(text.contains("test: accuracy"), "{text}");
}

#[test]
fn an_iteration_cap_is_a_recorded_warning() {
    let (ws, _, _) = workspace_with_data();
    let mut args = GRID.to_vec();
    args.extend(["--max-iterations", "2", "--C", "1000", "--json"]);
    let out = ws.sarlab(&args);
    assert_success(&out);
    let report: Value = serde_json::from_str(&stdout(&out)).expect("json");
    let warnings = report["warnings"].as_array().expect("warnings");
    assert!(!warnings.is_empty());
    assert!(
        warnings[0]
            .as_str()
            .expect("text")
            .contains("iteration cap"),
        "{warnings:?}"
    );
    let hits: u64 = report["configurations"][0]["folds"]
        .as_array()
        .expect("folds")
        .iter()
        .map(|f| f["iteration_cap_hits"].as_u64().expect("hits"))
        .sum();
    assert!(hits > 0);
}

#[test]
fn a_memory_budget_below_the_kernels_caches_rows_and_changes_no_number() {
    // 1,500 rows: the whole kernels (a 9 MB Gram matrix and the folds' blocks) exceed
    // a 2 MB budget, so every fit computes its kernel rows into a cache.
    let ws = Workspace::new();
    let (x, y) = blobs(500, 0);
    let (xt, yt) = blobs(40, 1000);
    write_matrix(&ws, "x.npy", &x);
    write_labels(&ws, "y.npy", &y);
    write_matrix(&ws, "xt.npy", &xt);
    write_labels(&ws, "yt.npy", &yt);
    let strip = |mut report: Value| -> (Value, Vec<String>) {
        let mut kernels = Vec::new();
        let mut visit = vec![&mut report];
        while let Some(v) = visit.pop() {
            match v {
                Value::Object(map) => {
                    map.remove("fit_seconds");
                    map.remove("predict_seconds");
                    map.remove("seconds");
                    if let Some(Value::String(k)) = map.remove("kernel_storage") {
                        kernels.push(k);
                    }
                    visit.extend(map.values_mut());
                }
                Value::Array(items) => visit.extend(items.iter_mut()),
                _ => {}
            }
        }
        kernels.sort();
        kernels.dedup();
        (report, kernels)
    };
    let (whole, whole_kernels) = strip(run_json(&ws, &[]));
    let (cached, cached_kernels) = strip(run_json(&ws, &["--memory-budget", "2MB"]));
    assert_eq!(whole_kernels, ["whole"]);
    assert_eq!(cached_kernels, ["cached rows"]);
    assert_eq!(cached, whole, "the same numbers either way");

    let out = ws.sarlab(&[GRID, &["--memory-budget", "12 parsecs"]].concat());
    assert_failure_mentions(&out, &["--memory-budget", "12 parsecs", "unknown unit"]);
}

#[test]
fn bad_input_names_the_file_or_flag() {
    let (ws, x, y) = workspace_with_data();
    let mut nan = x.clone();
    nan[[5, 2]] = f64::NAN;
    write_matrix(&ws, "nan.npy", &nan);
    write_labels(&ws, "one.npy", &vec![4; y.len()]);
    write_labels(&ws, "short.npy", &y[..10]);
    let mut unknown = y.clone();
    unknown[0] = 99;
    write_labels(&ws, "unknown.npy", &unknown[..36]);
    let narrow = x.slice(ndarray::s![..36, ..3]).to_owned();
    write_matrix(&ws, "narrow.npy", &narrow);
    let base = ["svm", "grid", "--train", "x.npy", "--train-labels", "y.npy"];
    let with = |extra: &[&'static str]| -> Vec<&'static str> {
        let mut v = base.to_vec();
        v.extend_from_slice(extra);
        v
    };
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (
            vec![
                "svm",
                "grid",
                "--train",
                "nan.npy",
                "--train-labels",
                "y.npy",
            ],
            vec!["nan.npy", "row 5, column 2"],
        ),
        (
            vec![
                "svm",
                "grid",
                "--train",
                "x.npy",
                "--train-labels",
                "one.npy",
            ],
            vec!["one.npy", "single class"],
        ),
        (
            vec![
                "svm",
                "grid",
                "--train",
                "x.npy",
                "--train-labels",
                "short.npy",
            ],
            vec!["short.npy has 10 labels", "x.npy has 90 rows"],
        ),
        (
            vec!["svm", "grid", "--train", "x.npy", "--train-labels", "x.npy"],
            vec!["x.npy", "1-D"],
        ),
        (with(&["--C", "0"]), vec!["--C 0", "positive"]),
        (with(&["--C", "-1"]), vec!["--C -1", "positive"]),
        (with(&["--gamma", "-0.5"]), vec!["gamma", "positive number"]),
        (with(&["--gamma", "0"]), vec!["gamma", "positive number"]),
        (
            with(&["--folds", "31"]),
            vec!["folds = 31", "class 3", "30 rows"],
        ),
        (with(&["--folds", "1"]), vec!["--folds 1", "at least 2"]),
        (with(&["--kernel", "rbff"]), vec!["--kernel", "rbff"]),
        (with(&["--metric", "f2"]), vec!["--metric", "f1_macro"]),
        (with(&["--pca", "9"]), vec!["pca = 9", "4 feature columns"]),
        (
            with(&["--class-weight", "heavy"]),
            vec!["--class-weight", "balanced"],
        ),
        (
            with(&["--test", "xt.npy", "--test-labels", "unknown.npy"]),
            vec!["unknown.npy row 0", "label 99"],
        ),
        (
            with(&["--test", "narrow.npy", "--test-labels", "yt.npy"]),
            vec!["narrow.npy has 3 columns"],
        ),
        (
            with(&["--test", "xt.npy", "--test-labels", "short.npy"]),
            vec!["short.npy has 10 labels", "xt.npy has 36 rows"],
        ),
        (
            vec![
                "svm",
                "grid",
                "--train",
                "missing.npy",
                "--train-labels",
                "y.npy",
            ],
            vec!["missing.npy"],
        ),
    ];
    for (args, needles) in cases {
        let out = ws.sarlab(&args);
        assert_failure_mentions(&out, &needles);
    }
}

#[test]
fn halving_and_random_search_score_what_the_grid_scores() {
    let (ws, _, _) = workspace_with_data();
    let grid = run_json(&ws, &[]);
    let grid_configs = grid["configurations"].as_array().expect("configurations");
    assert_eq!(grid["search"], "grid");
    assert_eq!(grid_configs.len(), 6);
    let cv_of = |params: &Value| -> Value {
        grid_configs
            .iter()
            .find(|c| c["params"] == *params)
            .map(|c| c["cv"].clone())
            .expect("a grid configuration")
    };

    // 6 candidates on 90 rows, 4 folds, 3 classes: scikit-learn's schedule starts at
    // max(2·4·3, 90 // 3) = 30 rows; ⌈6 / 3⌉ = 2 go on to every row.
    let halving = run_json(&ws, &["--search", "halving"]);
    assert_eq!(halving["search"], "halving");
    let rungs = halving["rungs"].as_array().expect("rungs");
    assert_eq!(rungs.len(), 1);
    assert_eq!(rungs[0]["rows"], 30);
    assert_eq!(
        rungs[0]["candidates"].as_array().expect("candidates").len(),
        6
    );
    let finalists = halving["configurations"].as_array().expect("finalists");
    assert_eq!(finalists.len(), 2);
    // The last rung is the grid's CV of the finalists, number for number.
    for finalist in finalists {
        assert_eq!(finalist["cv"], cv_of(&finalist["params"]));
    }
    // Its finalists are rung 0's two best.
    let scores: Vec<f64> = rungs[0]["cv"]
        .as_array()
        .expect("cv")
        .iter()
        .map(|c| c["mean"].as_f64().unwrap_or(f64::NAN))
        .collect();
    let kept = sarlab_svm::survivors(&scores, 2);
    let kept_params: Vec<&Value> = kept
        .iter()
        .map(|&k| &rungs[0]["candidates"][k]["params"])
        .collect();
    let finalist_params: Vec<&Value> = finalists.iter().map(|f| &f["params"]).collect();
    assert_eq!(kept_params, finalist_params);
    assert!(halving["test"]["evaluation"]["metrics"]["accuracy"].is_number());

    let random = run_json(&ws, &["--search", "random", "--samples", "3"]);
    let sampled = random["configurations"].as_array().expect("sampled");
    assert_eq!(sampled.len(), 3);
    for config in sampled {
        assert_eq!(config["cv"], cv_of(&config["params"]));
    }
    // The same seed draws the same points.
    let again = run_json(&ws, &["--search", "random", "--samples", "3"]);
    let params_of = |json: &Value| -> Vec<Value> {
        json["configurations"]
            .as_array()
            .expect("configurations")
            .iter()
            .map(|c| c["params"].clone())
            .collect()
    };
    assert_eq!(params_of(&again), params_of(&random));
    let drawn = run_json(
        &ws,
        &[
            "--search",
            "random",
            "--samples",
            "4",
            "--c-log-uniform",
            "0.5,50",
        ],
    );
    for config in drawn["configurations"].as_array().expect("drawn") {
        let c = config["params"]["C"].as_f64().expect("C");
        assert!((0.5..=50.0).contains(&c), "{c}");
    }

    for (extra, needle) in [
        (
            &["--factor", "2"][..],
            "--factor applies to --search halving",
        ),
        (&["--search", "random"][..], "--samples"),
        (
            &["--search", "halving", "--samples", "2"][..],
            "--samples applies to --search random",
        ),
        (&["--search", "halving", "--factor", "0.5"][..], "--factor"),
        (
            &["--search", "halving", "--min-resources", "1000"][..],
            "min_resources",
        ),
        (
            &[
                "--search",
                "random",
                "--samples",
                "2",
                "--c-log-uniform",
                "5",
            ][..],
            "LOW,HIGH",
        ),
    ] {
        let mut args = GRID.to_vec();
        args.extend_from_slice(extra);
        assert_failure_mentions(&ws.sarlab(&args), &[needle]);
    }
}

#[test]
fn the_liblinear_solver_fits_linear_svc_models_through_the_same_grid() {
    let (ws, _, _) = workspace_with_data();
    let base = [
        "svm",
        "grid",
        "--train",
        "x.npy",
        "--train-labels",
        "y.npy",
        "--test",
        "xt.npy",
        "--test-labels",
        "yt.npy",
        "--kernel",
        "linear",
        "--folds",
        "4",
        "--standardize",
        "--solver",
        "liblinear",
    ];
    let json = |extra: &[&str]| -> Value {
        let mut args = base.to_vec();
        if !extra.contains(&"--C") {
            args.extend_from_slice(&["--C", "0.1,10"]);
        }
        args.extend_from_slice(extra);
        args.push("--json");
        let out = ws.sarlab(&args);
        assert_success(&out);
        serde_json::from_str(&stdout(&out)).expect("JSON")
    };
    let squared = json(&[]);
    assert_eq!(squared["solver"], "liblinear (squared_hinge)");
    let configs = squared["configurations"]
        .as_array()
        .expect("configurations");
    assert_eq!(configs.len(), 2);
    for config in configs {
        assert_eq!(config["folds"].as_array().expect("folds").len(), 4);
        assert!(config["cv"]["accuracy"]["mean"].as_f64().expect("mean") > 0.5);
    }
    assert!(
        squared["test"]["evaluation"]["metrics"]["accuracy"]
            .as_f64()
            .expect("test")
            > 0.5
    );
    let hinge = json(&["--loss", "hinge"]);
    assert_eq!(hinge["solver"], "liblinear (hinge)");
    // The same seed, the same numbers.
    let again = json(&[]);
    assert_eq!(
        again["configurations"][1]["cv"],
        squared["configurations"][1]["cv"]
    );
    for (extra, needle) in [
        (&["--kernel", "rbf"][..], "--kernel linear"),
        (&["--loss", "cubic"][..], "--loss"),
    ] {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        assert_failure_mentions(&ws.sarlab(&args), &[needle]);
    }
    // Halving runs the linear solver through the same rungs; its last rung is the
    // grid's cross-validation of the finalists.
    let halving = json(&[
        "--C",
        "0.01,0.1,1,10",
        "--search",
        "halving",
        "--factor",
        "2",
    ]);
    assert_eq!(halving["search"], "halving");
    let grid = json(&["--C", "0.01,0.1,1,10"]);
    let finalists = halving["configurations"].as_array().expect("finalists");
    assert!(!finalists.is_empty() && finalists.len() < 4);
    for finalist in finalists {
        let same = grid["configurations"]
            .as_array()
            .expect("grid")
            .iter()
            .find(|c| c["params"] == finalist["params"])
            .expect("a grid point");
        assert_eq!(same["cv"], finalist["cv"]);
    }
    let mut smo = GRID.to_vec();
    smo.extend_from_slice(&["--loss", "hinge"]);
    assert_failure_mentions(&ws.sarlab(&smo), &["--loss applies to --solver liblinear"]);
}

/// Two classes on concentric rings (radius 1 and 2.5, jittered), which no line
/// separates and an RBF kernel separates easily.
fn rings(rows: usize, offset: usize) -> (Array2<f64>, Vec<i64>) {
    let mut x = Array2::zeros((rows, 2));
    let mut y = Vec::with_capacity(rows);
    for i in 0..rows {
        let t = (i + offset) as f64;
        let class = i % 2;
        let radius = [1.0, 2.5][class] + 0.25 * (t * 2.9).sin();
        let angle = t * 2.399_963;
        x[[i, 0]] = radius * angle.cos();
        x[[i, 1]] = radius * angle.sin();
        y.push(class as i64);
    }
    (x, y)
}

#[test]
fn a_kernel_approximation_lets_the_linear_solver_fit_an_rbf_kernel() {
    let ws = Workspace::new();
    let (x, y) = rings(240, 0);
    let (xt, yt) = rings(120, 1000);
    write_matrix(&ws, "x.npy", &x);
    write_labels(&ws, "y.npy", &y);
    write_matrix(&ws, "xt.npy", &xt);
    write_labels(&ws, "yt.npy", &yt);
    let run = |extra: &[&str]| -> Value {
        let mut args = vec![
            "svm",
            "grid",
            "--train",
            "x.npy",
            "--train-labels",
            "y.npy",
            "--test",
            "xt.npy",
            "--test-labels",
            "yt.npy",
            "--C",
            "1,10",
            "--folds",
            "3",
            "--solver",
            "liblinear",
            "--json",
        ];
        args.extend_from_slice(extra);
        let out = ws.sarlab(&args);
        assert_success(&out);
        serde_json::from_str(&stdout(&out)).expect("JSON")
    };
    // What the map decides (timings aside): CV scores, each fold's solver passes and
    // γ, the test metrics.
    let numbers = |json: &Value| -> Vec<Value> {
        let mut out = vec![json["test"]["evaluation"]["metrics"].clone()];
        for config in json["configurations"].as_array().expect("configurations") {
            out.push(config["cv"].clone());
            for fold in config["folds"].as_array().expect("folds") {
                out.push(fold["solver_iterations"].clone());
                out.push(fold["gamma_value"].clone());
            }
        }
        out
    };
    let test_accuracy = |json: &Value| {
        json["test"]["evaluation"]["metrics"]["accuracy"]
            .as_f64()
            .expect("test accuracy")
    };
    let linear = run(&["--kernel", "linear"]);
    let nystroem = run(&[
        "--kernel",
        "rbf",
        "--gamma",
        "scale,2",
        "--approximation",
        "nystroem:60",
    ]);
    let fourier = run(&[
        "--kernel",
        "rbf",
        "--gamma",
        "1",
        "--approximation",
        "random_fourier:200",
    ]);
    assert_eq!(
        nystroem["solver"],
        "liblinear (squared_hinge) on nystroem:60"
    );
    assert_eq!(
        nystroem["configurations"]
            .as_array()
            .expect("configs")
            .len(),
        4
    );
    // A line cannot separate rings; the approximated RBF kernel does.
    assert!(test_accuracy(&linear) < 0.75, "{}", test_accuracy(&linear));
    assert!(
        test_accuracy(&nystroem) > 0.95,
        "{}",
        test_accuracy(&nystroem)
    );
    assert!(
        test_accuracy(&fourier) > 0.95,
        "{}",
        test_accuracy(&fourier)
    );
    // The map's random choices are seeded: the same seed, the same numbers; another
    // seed draws other landmarks.
    let again = run(&[
        "--kernel",
        "rbf",
        "--gamma",
        "scale,2",
        "--approximation",
        "nystroem:60",
    ]);
    assert_eq!(numbers(&again), numbers(&nystroem));
    let reseeded = run(&[
        "--kernel",
        "rbf",
        "--gamma",
        "1",
        "--approximation",
        "random_fourier:200",
        "--seed",
        "5",
    ]);
    assert_ne!(numbers(&reseeded), numbers(&fourier));
    for (extra, needle) in [
        (
            &["--kernel", "poly", "--approximation", "random_fourier:50"][..],
            "random Fourier features approximate the rbf kernel",
        ),
        (
            &["--kernel", "rbf", "--approximation", "nystroem:0"][..],
            "expected 1 to 16384 components",
        ),
        (
            &["--kernel", "rbf", "--approximation", "sketch:10"][..],
            "expected nystroem or random_fourier",
        ),
        (&["--kernel", "rbf"][..], "--approximation nystroem:N"),
        (
            &["--kernel", "linear", "--backend", "linfa"][..],
            "applies to --solver smo",
        ),
    ] {
        let mut args = vec![
            "svm",
            "grid",
            "--train",
            "x.npy",
            "--train-labels",
            "y.npy",
            "--solver",
            "liblinear",
        ];
        args.extend_from_slice(extra);
        assert_failure_mentions(&ws.sarlab(&args), &[needle]);
    }
    let smo = ws.sarlab(&[
        "svm",
        "grid",
        "--train",
        "x.npy",
        "--train-labels",
        "y.npy",
        "--approximation",
        "nystroem:10",
    ]);
    assert_failure_mentions(&smo, &["add --solver liblinear"]);
}
