//! `sarlab predict`, `sarlab train` and `sarlab models list` on the tiny study: each
//! method's saved model reproduces the recorded test predictions and metrics from
//! the files alone, whatever the input form (dataset folder, manifest, chip files,
//! Phoenix files), and bad models and outputs are refused.

use std::collections::BTreeMap;

use crate::support::{
    TINY_SPEC, Workspace, assert_failure_mentions, assert_success, count, stderr, stdout, strings,
};

/// The tiny study run, with its model paths by method.
fn studied() -> (Workspace, BTreeMap<String, String>) {
    let ws = Workspace::new();
    ws.write("tiny.toml", TINY_SPEC);
    assert_success(&ws.run_tiny(&[]));
    let db = ws.db("runs.db");
    let models: BTreeMap<String, String> = strings(
        &db,
        "SELECT p.value || '=' || a.path FROM artifacts a JOIN params p ON p.run_id = a.run_id
         WHERE a.kind = 'model' AND p.key = 'feature'",
    )
    .into_iter()
    .map(|line| {
        let (method, path) = line.split_once('=').expect("method=path");
        (method.to_owned(), path.to_owned())
    })
    .collect();
    assert_eq!(models.len(), 2, "raw and hog: {models:?}");
    (ws, models)
}

/// `chip → (predicted, decision values as text)` of a predictions CSV.
fn csv_rows(text: &str) -> BTreeMap<String, (String, Vec<String>)> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let decisions: Vec<usize> = (0..header.len())
        .filter(|&c| header[c].starts_with("decision_"))
        .collect();
    lines
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            (
                cells[0].to_owned(),
                (
                    cells[2].to_owned(),
                    decisions.iter().map(|&c| cells[c].to_owned()).collect(),
                ),
            )
        })
        .collect()
}

/// Asserts that every prediction recorded for `model`'s test run is in `predicted`
/// (from [`csv_rows`]) with the same class and, bit for bit, the same decision values
/// (the CSV's shortest round-trip text parses back to the recorded doubles); returns
/// how many were recorded.
fn assert_recorded(
    db: &rusqlite::Connection,
    model: &str,
    predicted: &BTreeMap<String, (String, Vec<String>)>,
    what: &str,
) -> usize {
    let classes: Vec<String> = serde_json::from_str(
        &strings(db, "SELECT value FROM tags WHERE key = 'classes' LIMIT 1")[0],
    )
    .expect("classes");
    let recorded = strings(
        db,
        &format!(
            "SELECT p.chip || '|' || p.predicted || '|' || p.decision_values FROM predictions p
             JOIN artifacts a ON a.run_id = p.run_id WHERE a.path = '{model}'"
        ),
    );
    for row in &recorded {
        let mut parts = row.splitn(3, '|');
        let (chip, label, values) = (
            parts.next().expect("chip"),
            parts.next().expect("label"),
            parts.next().expect("values"),
        );
        let values: Vec<f64> = serde_json::from_str(values).expect("decision values");
        let (class, text) = &predicted[chip];
        assert_eq!(
            class,
            &classes[label.parse::<usize>().expect("class index")],
            "{what} {chip}"
        );
        let mine: Vec<u64> = text
            .iter()
            .map(|t| t.parse::<f64>().expect("a number").to_bits())
            .collect();
        let theirs: Vec<u64> = values.iter().map(|v| v.to_bits()).collect();
        assert_eq!(mine, theirs, "{what} {chip}");
    }
    recorded.len()
}

#[test]
fn saved_models_reproduce_the_recorded_test_split_from_every_input_form() {
    let (ws, models) = studied();
    let db = ws.db("runs.db");
    let listed = ws.sarlab(&["models", "list", "--db", "runs.db"]);
    assert_success(&listed);
    let table = stdout(&listed);
    assert!(
        table.contains("raw") && table.contains("hog") && table.contains("kB"),
        "{table}"
    );

    for (method, model) in &models {
        // The dataset folder's test split, with decision values.
        let out = ws.sarlab(&[
            "predict",
            model,
            "data",
            "--split",
            "test",
            "--out",
            "p.csv",
            "--decision-values",
        ]);
        assert_success(&out);
        let recorded_accuracy: f64 = db
            .query_row(
                "SELECT m.value FROM metrics m JOIN artifacts a ON a.run_id = m.run_id
                 WHERE a.kind = 'model' AND a.path = ?1 AND m.key = 'test_accuracy'",
                [model],
                |r| r.get(0),
            )
            .expect("recorded test accuracy");
        let summary = stderr(&out);
        assert!(
            summary.contains("scored 32 labelled chip(s)")
                && summary.contains(&format!("accuracy {:.2} %", 100.0 * recorded_accuracy)),
            "{method}: {summary}"
        );
        // Bit for bit the recorded predictions: the CSV's shortest round-trip text
        // parses back to the recorded doubles.
        let predicted = csv_rows(&std::fs::read_to_string(ws.path("p.csv")).expect("csv"));
        assert_eq!(predicted.len(), 32);
        assert_eq!(assert_recorded(&db, model, &predicted, method), 32);

        // A manifest naming the same chips in another order: the same answers.
        let mut manifest = String::from("path,label,split\n");
        for chip in predicted.keys().rev() {
            let (_, class, name) = {
                let mut p = chip.splitn(3, '/');
                (p.next().unwrap(), p.next().unwrap(), p.next().unwrap())
            };
            manifest += &format!("data/test/{class}/{name},{class},test\n");
        }
        ws.write("chips.csv", &manifest);
        let out = ws.sarlab(&["predict", model, "chips.csv", "--out", "m.json"]);
        assert_success(&out);
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(ws.path("m.json")).unwrap()).unwrap();
        let rows = json.as_array().expect("rows");
        assert_eq!(rows.len(), 32);
        for row in rows {
            // A manifest's chips are named split/class/path-in-the-manifest.
            let name = row["chip"].as_str().unwrap();
            let class = row["true_class"].as_str().unwrap();
            let file = name.rsplit('/').next().unwrap();
            assert!(
                name.starts_with(&format!("test/{class}/data/test/{class}/")),
                "{name}"
            );
            let chip = format!("test/{class}/{file}");
            assert_eq!(
                row["predicted"].as_str().unwrap(),
                predicted[&chip].0,
                "{chip}"
            );
        }

        // Chip files one by one, unlabelled, on standard output.
        let (first, (class, _)) = predicted.iter().next().unwrap();
        let path = format!("data/{first}");
        let out = ws.sarlab(&["predict", model, &path]);
        assert_success(&out);
        assert_eq!(stdout(&out), format!("{path}\t{class}\n"));
    }

    // By run id and by the best CV metric, from the database; Parquet with probabilities.
    let test_run = strings(
        &db,
        "SELECT r.uuid FROM runs r JOIN artifacts a ON a.run_id = r.id WHERE a.kind = 'model' LIMIT 1",
    )[0]
    .clone();
    let out = ws.sarlab(&[
        "predict",
        "--db",
        "runs.db",
        "--run",
        &test_run[..8],
        "data",
        "--split",
        "test",
    ]);
    assert_success(&out);
    assert_eq!(stdout(&out).lines().count(), 32);
    let out = ws.sarlab(&[
        "predict",
        "--db",
        "runs.db",
        "--best",
        "--experiment",
        "tiny",
        "data",
        "--split",
        "test",
        "--probability",
        "--out",
        "p.parquet",
    ]);
    assert_success(&out);
    assert!(std::fs::metadata(ws.path("p.parquet")).unwrap().len() > 1000);
}

#[test]
fn train_saves_any_configuration_and_models_list_shows_it() {
    let (ws, _) = studied();
    let db = ws.db("runs.db");
    // A configuration that is not a method's best: the raw one with the lowest CV F1.
    let hash = strings(
        &db,
        "SELECT r.config_hash FROM runs r JOIN params p ON p.run_id = r.id AND p.key = 'stage' AND p.value = 'cv'
         JOIN metrics m ON m.run_id = r.id AND m.key = 'cv_f1_macro_mean'
         ORDER BY m.value ASC LIMIT 1",
    )[0]
    .clone();
    let out = ws.sarlab(&[
        "train",
        "tiny.toml",
        "--db",
        "runs.db",
        "--config",
        &hash[..10],
    ]);
    assert_success(&out);
    let text = stdout(&out);
    assert!(
        text.contains("model:  models/tiny/") && text.contains("test accuracy"),
        "{text}"
    );
    let listed = stdout(&ws.sarlab(&["models", "list", "--db", "runs.db"]));
    assert_eq!(listed.lines().count(), 1 + 3, "{listed}");
    // Twice: the model is there and intact, nothing is refit.
    let again = ws.sarlab(&[
        "train",
        "tiny.toml",
        "--db",
        "runs.db",
        "--config",
        &hash[..10],
    ]);
    assert_success(&again);
    assert_eq!(
        stdout(&ws.sarlab(&["models", "list", "--db", "runs.db"]))
            .lines()
            .count(),
        4
    );
    assert_failure_mentions(
        &ws.sarlab(&[
            "train",
            "tiny.toml",
            "--db",
            "runs.db",
            "--config",
            "zzzzzzzz",
        ]),
        &["no configuration", "zzzzzzzz"],
    );
    // A study run again finds every model intact and refits nothing.
    assert_success(&ws.run_tiny(&[]));
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM artifacts WHERE kind = 'model'"),
        3
    );
}

#[test]
fn bad_models_and_outputs_are_refused_with_the_reason() {
    let (ws, models) = studied();
    let model = &models["raw"];
    let bytes = std::fs::read(ws.path(model)).unwrap();
    std::fs::write(ws.path("cut.safetensors"), &bytes[..bytes.len() - 100]).unwrap();
    assert_failure_mentions(
        &ws.sarlab(&["predict", "cut.safetensors", "data"]),
        &["cut.safetensors", "truncated model file"],
    );
    assert_failure_mentions(
        &ws.sarlab(&["predict", model, "data", "--out", model]),
        &["refusing to write", "an input of this command"],
    );
    assert_eq!(
        std::fs::read(ws.path(model)).unwrap(),
        bytes,
        "the model is untouched"
    );
    assert_failure_mentions(
        &ws.sarlab(&["predict", model, "data", "--out", "p.xlsx"]),
        &[".csv, .json or .parquet"],
    );
    assert_failure_mentions(&ws.sarlab(&["predict", model]), &["at least one input"]);
    assert_failure_mentions(
        &ws.sarlab(&["predict", model, "nowhere"]),
        &["nowhere", "no such file or folder"],
    );
    // A chip the model cannot take fails the whole command and writes nothing.
    ws.write("odd/readme.txt", "not a chip");
    image::GrayImage::new(12, 12)
        .save(ws.path("odd/small.png"))
        .unwrap();
    assert_failure_mentions(
        &ws.sarlab(&["predict", model, "odd", "--out", "odd.csv"]),
        &["small.png", "12x12", "at least 32x32"],
    );
    assert!(!ws.path("odd.csv").exists());
}

#[test]
fn phoenix_chips_are_predicted_and_scored_by_their_own_target_type() {
    let ws = Workspace::new();
    assert_success(&ws.sarlab(&[
        "dataset",
        "synth",
        "--out",
        "phx",
        "--seed",
        "5",
        "--train-per-class",
        "4",
        "--test-per-class",
        "2",
        "--chip-size",
        "32",
        "--file-format",
        "phoenix",
    ]));
    let spec = TINY_SPEC
        .replace(
            "source = \"synthetic\"\npath = \"data\"",
            "source = \"folder\"\npath = \"phx\"",
        )
        .replace(
            "[dataset.synthetic]\nchip_size = 40\ntrain_per_class = 8\ntest_per_class = 4\n",
            "",
        )
        .replace("crop = 32", "crop = 24")
        .replace("folds = 3", "folds = 2");
    ws.write("tiny.toml", &spec);
    assert_success(&ws.run_tiny(&[]));
    let model = strings(
        &ws.db("runs.db"),
        "SELECT path FROM artifacts WHERE kind = 'model' LIMIT 1",
    )[0]
    .clone();
    let out = ws.sarlab(&["predict", &model, "phx", "--out", "phx.csv"]);
    assert_success(&out);
    let summary = stderr(&out);
    // Every Phoenix chip (both depressions) is labelled by its header's TargetType.
    assert!(
        summary.contains("predicted 48 chip(s)") && summary.contains("scored 48 labelled"),
        "{summary}"
    );
    assert!(summary.contains("skipped 2 file(s)"), "{summary}");
}

#[test]
fn a_nystroem_study_saves_linear_models_that_predict_what_was_recorded() {
    let ws = Workspace::new();
    let spec = TINY_SPEC.replace(
        "[svm]\n",
        "[svm]\nsolver = \"liblinear\"\napproximation = { nystroem = 40 }\n",
    );
    ws.write("tiny.toml", &spec);
    let dry = ws.sarlab(&["run", "tiny.toml", "--db", "runs.db", "--dry-run"]);
    assert_success(&dry);
    assert!(
        stdout(&dry).contains("solver: liblinear (squared_hinge) on nystroem:40"),
        "{}",
        stdout(&dry)
    );
    let out = ws.run_tiny(&[]);
    assert_success(&out);
    assert!(ws.path("out/tiny/index.html").is_file());
    let db = ws.db("runs.db");
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM params WHERE key = 'approximation' AND value = 'nystroem:40'"
        ),
        count(
            &db,
            "SELECT COUNT(*) FROM runs WHERE parent_uuid IS NOT NULL"
        ),
        "every configuration run records its approximation"
    );
    let models = strings(&db, "SELECT path FROM artifacts WHERE kind = 'model'");
    assert_eq!(models.len(), 2);
    for model in &models {
        let predicted = ws.sarlab(&[
            "predict",
            model,
            "data",
            "--split",
            "test",
            "--out",
            "p.csv",
            "--decision-values",
        ]);
        assert_success(&predicted);
        let text = std::fs::read_to_string(ws.path("p.csv")).expect("csv");
        let header = text.lines().next().expect("header");
        let classes: Vec<String> = serde_json::from_str(
            &strings(&db, "SELECT value FROM tags WHERE key = 'classes' LIMIT 1")[0],
        )
        .expect("classes");
        for class in &classes {
            assert!(header.contains(&format!(",decision_{class}")), "{header}");
        }
        let rows = csv_rows(&text);
        assert_eq!(assert_recorded(&db, model, &rows, model), rows.len());
        assert_failure_mentions(
            &ws.sarlab(&["predict", model, "data", "--probability"]),
            &["no probability estimates"],
        );
    }
}
