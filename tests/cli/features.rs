//! `sarlab features`: one chip to a vector, a dataset split to a matrix with labels.

use std::path::Path;

use sarlab_features::FeatureMethod;
use sarlab_filter::{Intensity, Preprocess};
use sarlab_io::npy;
use serde_json::Value;

use crate::support::{Workspace, assert_failure_mentions, assert_success};

fn matrix(path: &Path) -> npy::NpyMatrix {
    npy::decode_matrix(&std::fs::read(path).expect("npy written"), path).expect("valid npy")
}

fn sidecar(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("json written")).expect("json")
}

#[test]
fn one_chip_gives_the_library_vector_names_and_glyphs() {
    let ws = Workspace::new();
    assert_success(&ws.synth("data", 3, 2, 1, 40));
    let chip = "data/train/tank/tank_0000.png";
    let out = ws.sarlab(&[
        "features",
        "hog",
        chip,
        "--crop",
        "32",
        "--intensity",
        "db",
        "--set",
        "pixels_per_cell=8",
        "--set",
        "cells_per_block=2",
        "--out",
        "f/hog.npy",
        "--glyphs",
        "f/glyphs.png",
    ]);
    assert_success(&out);
    let got = matrix(&ws.path("f/hog.npy"));
    assert_eq!(got.shape, vec![9 * 4 * 9]);
    // The same vector as the library computes on the same chip.
    let image = sarlab_io::chip_file::decode(
        &std::fs::read(ws.path(chip)).expect("chip"),
        &ws.path(chip),
        &Default::default(),
    )
    .expect("decode")
    .image;
    let prepared = Preprocess {
        crop: Some(32),
        intensity: Intensity::Db,
        ..Preprocess::default()
    }
    .apply(image.to_f64().view())
    .expect("preprocess");
    let method =
        FeatureMethod::from_settings("hog", &[("pixels_per_cell", "8"), ("cells_per_block", "2")])
            .expect("method");
    assert_eq!(
        got.values,
        method.extract(prepared.view()).expect("extract")
    );
    let meta = sidecar(&ws.path("f/hog.json"));
    assert_eq!(meta["dimension"], 324);
    assert_eq!(meta["feature_names"].as_array().expect("names").len(), 324);
    assert_eq!(meta["parameters"]["block_norm"], "L2-Hys");
    assert_eq!(meta["parameters"]["cells_per_block"], "2");
    let glyphs = image::open(ws.path("f/glyphs.png")).expect("glyph png");
    assert!(glyphs.width() > 500);
}

#[test]
fn a_dataset_split_gives_a_matrix_labels_and_chip_list() {
    let ws = Workspace::new();
    assert_success(&ws.synth("data", 4, 3, 2, 40));
    let out = ws.sarlab(&[
        "features",
        "raw",
        "data",
        "--crop",
        "32",
        "--set",
        "downsample=4",
        "--split",
        "test",
        "--out",
        "m/raw_test.npy",
    ]);
    assert_success(&out);
    let x = matrix(&ws.path("m/raw_test.npy"));
    assert_eq!(x.shape, vec![8 * 2, 64]);
    let labels_path = ws.path("m/raw_test.labels.npy");
    let labels = npy::decode_labels(&std::fs::read(&labels_path).expect("labels"), &labels_path)
        .expect("labels");
    assert_eq!(labels.len(), 16);
    for class in 0..8 {
        assert_eq!(labels.iter().filter(|&&l| l == class).count(), 2);
    }
    let meta = sidecar(&ws.path("m/raw_test.json"));
    assert_eq!(meta["split"], "test");
    assert_eq!(meta["classes"].as_array().expect("classes").len(), 8);
    let chips = meta["chips"].as_array().expect("chips");
    assert_eq!(chips.len(), 16);
    // Row k is chip k, of class labels[k].
    let classes = meta["classes"].as_array().expect("classes");
    for (chip, label) in chips.iter().zip(&labels) {
        let class = classes[*label as usize].as_str().expect("class");
        assert!(
            chip.as_str()
                .expect("chip")
                .starts_with(&format!("test/{class}/")),
            "{chip} vs {class}"
        );
    }
    assert_eq!(meta["feature_names"][9], "pixel_r1_c1");
}

#[test]
fn bad_feature_requests_are_named() {
    let ws = Workspace::new();
    assert_success(&ws.synth("data", 5, 2, 1, 40));
    let chip = "data/train/tank/tank_0000.png";
    let run = |extra: &[&str]| {
        let mut args = vec!["features"];
        args.extend_from_slice(extra);
        ws.sarlab(&args)
    };
    assert_failure_mentions(
        &run(&["hog", chip, "--set", "pixel_per_cell=8", "--out", "a.npy"]),
        &["pixel_per_cell", "pixels_per_cell"],
    );
    assert_failure_mentions(
        &run(&[
            "gabor",
            chip,
            "--set",
            "frequencies=0.1,0.5",
            "--out",
            "a.npy",
        ]),
        &["frequency", "0.5"],
    );
    assert_failure_mentions(
        &run(&[
            "hog",
            chip,
            "--crop",
            "32",
            "--set",
            "pixels_per_cell=40",
            "--out",
            "a.npy",
        ]),
        &["32x32", "pixels_per_cell = 40x40"],
    );
    assert_failure_mentions(&run(&["sift", chip, "--out", "a.npy"]), &["sift"]);
    assert_failure_mentions(&run(&["raw", chip, "--out", "a.csv"]), &["a.csv", ".npy"]);
    assert_failure_mentions(
        &run(&["raw", chip, "--set", "downsample", "--out", "a.npy"]),
        &["KEY=VALUE"],
    );
    assert_failure_mentions(
        &run(&[
            "raw", "data", "--split", "test", "--glyphs", "g.png", "--out", "a.npy",
        ]),
        &["--glyphs"],
    );
    assert!(!ws.path("a.npy").exists());
}
