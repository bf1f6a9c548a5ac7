//! Whole studies: database contents, report files, determinism and reruns.

use crate::support::*;

const METRICS: [&str; 4] = ["accuracy", "precision_macro", "recall_macro", "f1_macro"];

#[test]
fn tiny_study_records_every_configuration_and_writes_the_report() {
    let ws = Workspace::new();
    ws.write("tiny.toml", TINY_SPEC);
    let out = ws.run_tiny(&[]);
    assert_success(&out);
    assert!(
        stdout(&out).contains("8 run now, 0 already finished"),
        "{}",
        stdout(&out)
    );

    let db = ws.db("runs.db");
    // 1 study run + 2 methods × 4 grid points + 2 test runs.
    assert_eq!(count(&db, "SELECT COUNT(*) FROM runs"), 11);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM runs WHERE status = 'FINISHED'"),
        11
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM runs WHERE parent_uuid IS NULL"),
        1
    );
    let cv_runs = "SELECT run_id FROM tags WHERE key = 'stage' AND value = 'cv'";
    assert_eq!(count(&db, &format!("SELECT COUNT(*) FROM ({cv_runs})")), 8);

    // Parameters are typed: numbers compare as numbers.
    // C = 10 in half of the 8 CV runs, plus the test runs whose best C is 10.
    let big_c = count(
        &db,
        "SELECT COUNT(*) FROM params WHERE key = 'C' AND value > 5",
    );
    assert!((4..=6).contains(&big_c), "{big_c} runs with C > 5");
    for key in [
        "feature",
        "C",
        "gamma",
        "kernel",
        "folds",
        "seed",
        "crop",
        "intensity",
    ] {
        assert_eq!(
            count(
                &db,
                &format!(
                    "SELECT COUNT(*) FROM params WHERE key = '{key}' AND run_id IN ({cv_runs})"
                )
            ),
            8,
            "every CV run records `{key}`"
        );
    }
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(DISTINCT value) FROM params WHERE key = 'feature'"
        ),
        2
    );

    // Per-fold metrics at steps 0..2, means and stds, all within [0, 1].
    for metric in METRICS {
        let key = format!("cv_{metric}");
        assert_eq!(
            count(
                &db,
                &format!("SELECT COUNT(*) FROM metrics WHERE key = '{key}'")
            ),
            8 * 3,
            "{key}: one value per fold"
        );
        assert_eq!(
            count(
                &db,
                &format!("SELECT COUNT(DISTINCT step) FROM metrics WHERE key = '{key}'")
            ),
            3
        );
        for suffix in ["mean", "std"] {
            assert_eq!(
                count(
                    &db,
                    &format!("SELECT COUNT(*) FROM metrics WHERE key = '{key}_{suffix}'")
                ),
                8
            );
        }
        assert_eq!(
            count(
                &db,
                &format!("SELECT COUNT(*) FROM metrics WHERE key = 'test_{metric}'")
            ),
            2
        );
        assert_eq!(
            count(
                &db,
                &format!(
                    "SELECT COUNT(*) FROM metrics WHERE key IN ('{key}', '{key}_mean', 'test_{metric}') \
                     AND NOT (value BETWEEN 0 AND 1)"
                )
            ),
            0,
            "{metric} within [0, 1]"
        );
    }
    // Timings, dataset digest and git commit are recorded.
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM metrics WHERE key = 'fit_seconds' AND step = 2"
        ),
        8
    );
    for tag in [
        "git_commit",
        "git_dirty",
        "dataset_digest",
        "sarlab_version",
        "command_line",
        "host",
    ] {
        assert_eq!(
            count(
                &db,
                &format!(
                    "SELECT COUNT(*) FROM tags t JOIN runs r ON r.id = t.run_id WHERE r.parent_uuid IS NULL AND t.key = '{tag}'"
                )
            ),
            1,
            "study run tagged `{tag}`"
        );
    }
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(DISTINCT value) FROM tags WHERE key = 'dataset_digest'"
        ),
        1
    );

    // The report.
    let html = std::fs::read_to_string(ws.path("out/tiny/index.html")).expect("index.html");
    for needle in [
        "raw",
        "hog",
        "<svg",
        "aa_gun",
        "truck",
        "HOG glyphs",
        "data:image/png;base64,",
        // Each method's saved model, linked from the report's folder.
        "Saved models",
        "href=\"../../models/tiny/raw-",
        "href=\"../../models/tiny/hog-",
    ] {
        assert!(html.contains(needle), "index.html lacks {needle}");
    }
    for file in [
        "out/tiny/metrics.png",
        "out/tiny/metrics.svg",
        "out/tiny/summary.md",
        "out/tiny/hog_glyphs.png",
    ] {
        assert!(file_len(&ws.path(file)) > 500, "{file} is missing or empty");
    }
    // 8 classes × (chip, glyphs), 4 panels of 32 px ×8 per row.
    let glyphs = image::open(ws.path("out/tiny/hog_glyphs.png")).expect("png");
    assert_eq!(glyphs.width(), 12 + 4 * (256 + 12));
    // Every file of the report is an artifact of the study run, with its SHA-256.
    let files = std::fs::read_dir(ws.path("out/tiny"))
        .expect("report folder")
        .count();
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM artifacts WHERE kind != 'model'"),
        files as i64
    );
    // And each method's test refit saved its model, recorded with its run.
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM artifacts a JOIN runs r ON r.id = a.run_id
             JOIN tags t ON t.run_id = r.id AND t.key = 'stage' AND t.value = 'test'
             WHERE a.kind = 'model'"
        ),
        2,
        "raw and hog"
    );
    for file in [
        "tables.tex",
        "metrics.pdf",
        "sweep_raw.svg",
        "pair_raw_c_gamma.pdf",
        "folds.svg",
        "confusion_hog.pdf",
        "classes_raw.svg",
        "parallel_coordinates.pdf",
    ] {
        assert!(
            file_len(&ws.path(&format!("out/tiny/{file}"))) > 500,
            "{file} is missing or empty"
        );
    }
}

/// Every metric except wall-clock timings, keyed by run name.
fn reproducible_metrics(db: &rusqlite::Connection) -> Vec<(String, String, i64, f64)> {
    let mut stmt = db
        .prepare(
            "SELECT r.name, m.key, m.step, m.value FROM metrics m JOIN runs r ON r.id = m.run_id \
             WHERE m.key NOT LIKE '%seconds' ORDER BY r.name, m.key, m.step",
        )
        .expect("prepare");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

#[test]
fn same_spec_and_seed_give_identical_numbers() {
    let a = Workspace::new();
    let b = Workspace::new();
    for ws in [&a, &b] {
        ws.write("tiny.toml", TINY_SPEC);
        assert_success(&ws.run_tiny(&[]));
    }
    let (ma, mb) = (
        reproducible_metrics(&a.db("runs.db")),
        reproducible_metrics(&b.db("runs.db")),
    );
    assert!(ma.len() > 100, "only {} metric values", ma.len());
    assert_eq!(ma, mb);
    // The generated datasets themselves are identical.
    let digest = |ws: &Workspace| -> String {
        ws.db("runs.db")
            .query_row(
                "SELECT value FROM tags WHERE key = 'dataset_digest' LIMIT 1",
                [],
                |r| r.get(0),
            )
            .expect("digest")
    };
    assert_eq!(digest(&a), digest(&b));
}

#[test]
fn rerunning_a_finished_spec_adds_no_runs() {
    let ws = Workspace::new();
    ws.write("tiny.toml", TINY_SPEC);
    assert_success(&ws.run_tiny(&[]));
    let before = reproducible_metrics(&ws.db("runs.db"));
    let again = ws.run_tiny(&[]);
    assert_success(&again);
    assert!(
        stdout(&again).contains("0 run now, 8 already finished"),
        "{}",
        stdout(&again)
    );
    let db = ws.db("runs.db");
    // Each invocation is a study run of its own; configuration runs are not repeated.
    assert_eq!(count(&db, "SELECT COUNT(*) FROM runs"), 12);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM runs WHERE parent_uuid IS NOT NULL"
        ),
        10
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM runs WHERE status = 'FINISHED'"),
        12
    );
    assert_eq!(reproducible_metrics(&db), before);

    // Widening the sweep runs only the new configurations.
    ws.write(
        "tiny.toml",
        &TINY_SPEC.replace("C = [1, 10]", "C = [1, 10, 100]"),
    );
    let wider = ws.run_tiny(&[]);
    assert_success(&wider);
    assert!(
        stdout(&wider).contains("4 run now, 8 already finished"),
        "{}",
        stdout(&wider)
    );
}

#[test]
fn data_flag_overrides_the_dataset_path() {
    let ws = Workspace::new();
    let out = ws.synth("elsewhere", 11, 8, 4, 40);
    assert_success(&out);
    assert!(ws.path("elsewhere/train/tank").is_dir());
    // The spec asks for a synthetic dataset in `data`; --data points at a folder instead.
    ws.write("tiny.toml", TINY_SPEC);
    let run = ws.run_tiny(&["--data", "elsewhere"]);
    assert_success(&run);
    assert!(
        !ws.path("data").exists(),
        "the spec's own dataset must not be generated"
    );
    let path: String = ws
        .db("runs.db")
        .query_row(
            "SELECT value FROM tags WHERE key = 'dataset_path'",
            [],
            |r| r.get(0),
        )
        .expect("dataset_path tag");
    assert_eq!(path, "elsewhere");
}

#[test]
fn gabor_and_spectral_features_run_in_a_study() {
    let ws = Workspace::new();
    let spec = TINY_SPEC
        .replace(
            "[svm]",
            "[[features]]\nmethod = \"gabor\"\nfrequencies = [[0.1, 0.25]]\norientations = 2\npool = 8\n\n[[features]]\nmethod = \"spectral\"\nblock = 8\nrings = 4\nwedges = 4\n\n[svm]",
        )
        .replace("C = [1, 10]", "C = [10]")
        .replace("gamma = [\"scale\", 0.001]", "gamma = [\"scale\"]");
    ws.write("tiny.toml", &spec);
    let out = ws.run_tiny(&[]);
    assert_success(&out);
    let db = ws.db("runs.db");
    // 4 methods: one configuration and one test run each.
    assert_eq!(stage_count(&db, "test"), 4);
    let dim = |method: &str| {
        count(
            &db,
            &format!(
                "SELECT CAST(m.value AS INTEGER) FROM metrics m JOIN params p ON p.run_id = m.run_id \
                 WHERE m.key = 'feature_dim' AND p.key = 'feature' AND p.value = '{method}' LIMIT 1"
            ),
        )
    };
    // 32x32 crop: 2 frequencies × 2 orientations × (mean, std + 4x4 pooled blocks).
    assert_eq!(dim("gabor"), 4 * (2 + 16));
    assert_eq!(dim("spectral"), 64 + 4 + 4);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM params WHERE key = 'gabor.frequencies' AND value = '0.1,0.25'"
        ),
        2
    );
}

#[test]
fn pca_is_a_sweep_axis_fitted_inside_the_folds() {
    let ws = Workspace::new();
    let spec = TINY_SPEC
        .replace(
            "[svm]",
            "[reduce]\npca = [0, 10]\nwhiten = [false, true]\n\n[svm]",
        )
        .replace("C = [1, 10]", "C = [10]")
        .replace("gamma = [\"scale\", 0.001]", "gamma = [\"scale\"]");
    ws.write("tiny.toml", &spec);
    let out = ws.run_tiny(&[]);
    assert_success(&out);
    let db = ws.db("runs.db");
    // 2 methods × (pca 0, 10 unwhitened, 10 whitened) × 1 grid point.
    assert_eq!(stage_count(&db, "cv"), 6);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM metrics m JOIN params p ON p.run_id = m.run_id \
             WHERE m.key = 'svm_input_dim' AND m.value = 10 AND p.key = 'pca' AND p.value = 10"
        ),
        // 4 CV runs, plus the test runs whose best setting used PCA.
        4 + count(
            &db,
            "SELECT COUNT(*) FROM params a JOIN params b ON a.run_id = b.run_id \
             WHERE a.key = 'stage' AND a.value = 'test' AND b.key = 'pca' AND b.value = 10"
        )
    );
    // Typed: PCA sizes compare as numbers.
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM params WHERE key = 'pca' AND value > 5 AND run_id IN \
             (SELECT run_id FROM params WHERE key = 'stage' AND value = 'cv')"
        ),
        4
    );

    // More components than a training fold has samples: an error naming `pca`.
    let ws = Workspace::new();
    ws.write(
        "tiny.toml",
        &TINY_SPEC.replace("[svm]", "[reduce]\npca = 60\n\n[svm]"),
    );
    let out = ws.run_tiny(&[]);
    assert_failure_mentions(&out, &["pca", "60 components", "samples"]);
}

#[test]
fn a_dry_run_says_how_a_random_or_halving_search_reads_the_table() {
    let ws = Workspace::new();
    ws.write(
        "tiny.toml",
        &format!("{TINY_SPEC}\n[search]\nstrategy = \"random\"\nsamples = 3\n"),
    );
    let text = stdout(&ws.run_tiny(&["--dry-run"]));
    assert!(
        text.contains("search: random, 3 SVM grid point(s) drawn per feature setting"),
        "{text}"
    );
    // 2 methods × 3 sampled points.
    assert!(
        text.contains("total                   6         0       6"),
        "{text}"
    );
    ws.write(
        "tiny.toml",
        &format!("{TINY_SPEC}\n[search]\nstrategy = \"halving\"\n"),
    );
    let text = stdout(&ws.run_tiny(&["--dry-run"]));
    assert!(
        text.contains("search: halving (factor 3, min_resources exhaust)"),
        "{text}"
    );
    assert!(!ws.path("runs.db").exists() && !ws.path("data").exists());
}

#[test]
fn a_dry_run_previews_the_plan_and_touches_neither_data_nor_database() {
    let ws = Workspace::new();
    ws.write("tiny.toml", TINY_SPEC);
    // Before any study: no database is created and no data generated.
    let out = ws.run_tiny(&["--dry-run"]);
    assert_success(&out);
    let text = stdout(&out);
    assert!(text.contains("does not exist yet"), "{text}");
    assert!(
        text.contains("total                   8         0       8      26"),
        "{text}"
    );
    assert!(!ws.path("runs.db").exists() && !ws.path("data").exists());

    assert_success(&ws.run_tiny(&[]));
    // A grid widened by one C: the old configurations are found finished, the refits
    // recorded, and the new ones estimated from the database's timings.
    ws.write(
        "tiny.toml",
        &TINY_SPEC.replace("C = [1, 10]", "C = [1, 10, 100]"),
    );
    let before = std::fs::read(ws.path("runs.db")).expect("database");
    let out = ws.run_tiny(&["--dry-run"]);
    assert_success(&out);
    let text = stdout(&out);
    assert!(text.contains("dataset digest"), "{text}");
    for method in ["raw", "hog"] {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(method))
            .unwrap_or_else(|| panic!("a line for {method}: {text}"));
        let cells: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(&cells[1..5], ["6", "4", "2", "6"], "{line}");
        assert!(cells[5].starts_with('~'), "timed: {line}");
    }
    assert_eq!(std::fs::read(ws.path("runs.db")).expect("database"), before);
}

#[test]
fn a_plan_above_ten_thousand_configurations_needs_allow_large() {
    let ws = Workspace::new();
    let c: Vec<String> = (1..=2501).map(|c| c.to_string()).collect();
    ws.write(
        "tiny.toml",
        &TINY_SPEC.replace("C = [1, 10]", &format!("C = [{}]", c.join(", "))),
    );
    let out = ws.run_tiny(&[]);
    assert_failure_mentions(&out, &["10004 configurations", "--allow-large"]);
    assert!(!ws.path("runs.db").exists() && !ws.path("data").exists());
    let out = ws.run_tiny(&["--dry-run", "--allow-large"]);
    assert_success(&out);
    assert!(stdout(&out).contains("10004"), "{}", stdout(&out));
}

#[test]
fn off_a_terminal_each_configuration_and_refit_is_one_plain_line() {
    let ws = Workspace::new();
    ws.write("tiny.toml", TINY_SPEC);
    let out = ws.run_tiny(&[]);
    assert_success(&out);
    let text = stdout(&out);
    let cv: Vec<&str> = text.lines().filter(|l| l.starts_with("cv ")).collect();
    assert_eq!(cv.len(), 8, "{text}");
    for (k, line) in cv.iter().enumerate() {
        assert!(line.starts_with(&format!("cv {}/8 ", k + 1)), "{line}");
        assert!(
            line.contains(": f1_macro 0.") || line.contains(": f1_macro 1."),
            "{line}"
        );
        assert!(line.ends_with(" s)"), "{line}");
    }
    let refits = text.lines().filter(|l| l.starts_with("refit ")).count();
    assert_eq!(refits, 2, "{text}");
    assert!(!text.contains('\u{1b}'), "no terminal escapes in logs");
    // A rerun has nothing to cross-validate or refit.
    let text = stdout(&ws.run_tiny(&[]));
    assert!(
        !text
            .lines()
            .any(|l| l.starts_with("cv ") || l.starts_with("refit ")),
        "{text}"
    );
}
