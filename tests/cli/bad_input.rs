//! Bad input: a clear error naming the file or key, a non-zero exit, and nothing
//! half-written in the database.

use crate::support::*;

/// A folder dataset made by the generator: 8 classes × 3 train / 2 test chips, 32 px.
fn folder_dataset(ws: &Workspace) {
    assert_success(&ws.synth("data", 1, 3, 2, 32));
}

fn folder_spec(crop: usize, folds: usize) -> String {
    format!(
        r#"
name = "bad"
seed = 1
[dataset]
source = "folder"
path = "data"
[preprocess]
crop = {crop}
[[features]]
method = "raw"
[svm]
C = [1]
folds = {folds}
"#
    )
}

/// The study run exists, is FAILED with a reason, and no configuration was recorded.
#[track_caller]
fn assert_study_failed(ws: &Workspace, reason_needle: &str) {
    let db = ws.db("runs.db");
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM runs"),
        1,
        "only the study run"
    );
    let (status, reason): (String, String) = db
        .query_row("SELECT status, failure_reason FROM runs", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("study run");
    assert_eq!(status, "FAILED");
    assert!(
        reason.contains(reason_needle),
        "reason {reason:?} lacks {reason_needle:?}"
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM metrics"), 0);
}

#[test]
fn missing_dataset_folder() {
    let ws = Workspace::new();
    ws.write("bad.toml", &folder_spec(16, 2));
    let out = ws.sarlab(&["run", "bad.toml", "--db", "runs.db"]);
    assert_failure_mentions(&out, &["data", "does not exist"]);
    assert_study_failed(&ws, "does not exist");
}

#[test]
fn empty_class_folder() {
    let ws = Workspace::new();
    folder_dataset(&ws);
    for entry in std::fs::read_dir(ws.path("data/train/tank")).expect("ls") {
        std::fs::remove_file(entry.expect("entry").path()).expect("rm");
    }
    ws.write("bad.toml", &folder_spec(16, 2));
    let out = ws.sarlab(&["run", "bad.toml", "--db", "runs.db"]);
    assert_failure_mentions(&out, &["train/tank", "holds no chips"]);
    assert_study_failed(&ws, "train/tank");
}

#[test]
fn chip_smaller_than_the_crop() {
    let ws = Workspace::new();
    folder_dataset(&ws);
    assert_success(&ws.synth("small", 1, 1, 1, 20));
    std::fs::copy(
        ws.path("small/train/dozer/dozer_0000.png"),
        ws.path("data/train/dozer/dozer_0001.png"),
    )
    .expect("copy");
    ws.write("bad.toml", &folder_spec(24, 2));
    let out = ws.sarlab(&["run", "bad.toml", "--db", "runs.db"]);
    assert_failure_mentions(
        &out,
        &[
            "train/dozer/dozer_0001.png is 20x20",
            "largest crop this dataset allows is 20",
        ],
    );
    assert_study_failed(&ws, "dozer_0001.png");
}

#[test]
fn more_folds_than_the_smallest_class() {
    let ws = Workspace::new();
    folder_dataset(&ws);
    ws.write("bad.toml", &folder_spec(16, 4));
    let out = ws.sarlab(&["run", "bad.toml", "--db", "runs.db"]);
    assert_failure_mentions(&out, &["svm.folds", "4", "3 train chips"]);
    assert_study_failed(&ws, "svm.folds");
}

#[test]
fn spec_errors_name_the_key_and_touch_no_database() {
    let ws = Workspace::new();
    for (from, to, needles) in [
        ("seed = 1", "seed = 1\nsede = 2", vec!["sede", "bad.toml"]),
        ("C = [1]", "C = [1, -10]", vec!["svm.C", "-10"]),
        (
            "crop = 16",
            "crop = 16\nintensity = \"loud\"",
            vec!["preprocess.intensity", "loud"],
        ),
        (
            "method = \"raw\"",
            "method = \"raw\"\ndownsampel = 2",
            vec!["downsampel"],
        ),
        (
            "path = \"data\"",
            "path = \"data\"\nformat = \"hdf5\"",
            vec!["dataset.format", "hdf5", "phoenix"],
        ),
        (
            "path = \"data\"",
            "path = \"data\"\ndepression = { train = [17], test = [] }",
            vec!["dataset.depression.test"],
        ),
    ] {
        ws.write("bad.toml", &folder_spec(16, 2).replace(from, to));
        let out = ws.sarlab(&["run", "bad.toml", "--db", "runs.db"]);
        assert_failure_mentions(&out, &needles);
        assert!(
            !ws.path("runs.db").exists(),
            "a spec error must not create the database"
        );
    }
}

#[test]
fn synthetic_folder_made_with_other_settings_is_refused() {
    let ws = Workspace::new();
    ws.write("tiny.toml", TINY_SPEC);
    assert_success(&ws.run_tiny(&[]));
    ws.write(
        "tiny.toml",
        &TINY_SPEC.replace("train_per_class = 8", "train_per_class = 9"),
    );
    let out = ws.run_tiny(&[]);
    assert_failure_mentions(
        &out,
        &[
            "train_per_class = 8",
            "train_per_class = 9",
            "delete the folder",
        ],
    );
}

#[test]
fn synth_refuses_an_existing_folder() {
    let ws = Workspace::new();
    std::fs::create_dir_all(ws.path("taken")).expect("mkdir");
    let out = ws.sarlab(&["dataset", "synth", "--out", "taken"]);
    assert_failure_mentions(&out, &["taken", "already exists"]);
}

#[test]
fn a_deeply_nested_filter_is_refused_not_a_stack_overflow() {
    let ws = Workspace::new();
    ws.write("tiny.toml", TINY_SPEC);
    assert_success(&ws.run_tiny(&[]));
    let deep = format!("{}params.C = 1{}", "(".repeat(9000), ")".repeat(9000));
    let out = ws.sarlab(&["runs", "list", "--db", "runs.db", "--filter", &deep]);
    assert_failure_mentions(&out, &["deeper than 64 levels"]);
    assert_eq!(out.status.code(), Some(1), "an error, not an abort");
}
