//! HOG against scikit-image 0.26 (fixtures made by `scripts/fixtures/hog.py`).

use std::path::PathBuf;

use ndarray::s;
use sarlab_features::{BlockNorm, HogParams, hog, hog_image};
use sarlab_testkit::fixture::{self, matrix as image};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// sha256 of the values as little-endian f64 bytes, as the fixture script hashes them.
fn bits_digest(values: &[f64]) -> String {
    let mut hasher = Sha256::new();
    for v in values {
        hasher.update(v.to_le_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn is_bit_identical(values: &[f64], case: &Value) -> bool {
    bits_digest(values) == case["sha256"].as_str().expect("fixture digest")
}

fn pair(v: &Value) -> (usize, usize) {
    let p: Vec<usize> = serde_json::from_value(v.clone()).expect("pair");
    (p[0], p[1])
}

#[test]
fn hog_equals_scikit_image() {
    let fixture = fixture::load(env!("CARGO_MANIFEST_DIR"), "hog.json");
    let cases = fixture["cases"].as_array().expect("cases");
    assert!(cases.len() >= 50, "fixture has only {} cases", cases.len());
    let mut worst = 0.0_f64;
    let mut differing = Vec::new();
    for case in cases {
        let img = image(&fixture["images"][case["image"].as_str().expect("name")]);
        let params = HogParams {
            orientations: case["orientations"].as_u64().expect("n") as usize,
            pixels_per_cell: pair(&case["pixels_per_cell"]),
            cells_per_block: pair(&case["cells_per_block"]),
            block_norm: case["block_norm"]
                .as_str()
                .expect("norm")
                .parse::<BlockNorm>()
                .expect("known norm"),
            transform_sqrt: case["transform_sqrt"].as_bool().expect("bool"),
        };
        let expected: Vec<f64> =
            serde_json::from_value(case["expected"].clone()).expect("expected");
        let got = hog(img.view(), &params).expect("hog");
        assert_eq!(got.len(), expected.len(), "{case:?}");
        let max_diff = got
            .iter()
            .zip(&expected)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(
            max_diff <= 1e-12,
            "{} {:?}: max |diff| = {max_diff}",
            case["image"],
            params
        );
        worst = worst.max(max_diff);
        if !is_bit_identical(&got, case) {
            differing.push(format!("{} {params:?}", case["image"]));
        }
    }
    println!(
        "{} HOG cases, worst |diff| vs scikit-image (12-digit fixture) = {worst:e}, \
         not bit-identical: {differing:?}",
        cases.len()
    );
    assert!(differing.is_empty(), "not bit-identical: {differing:#?}");
}

#[test]
fn glyph_image_equals_scikit_image_visualisation() {
    let fixture = fixture::load(env!("CARGO_MANIFEST_DIR"), "hog.json");
    let cases = fixture["visualisations"]
        .as_array()
        .expect("visualisations");
    assert!(cases.len() >= 12);
    let mut worst = 0.0_f64;
    let mut differing = Vec::new();
    for case in cases {
        let img = image(&fixture["images"][case["image"].as_str().expect("name")]);
        let params = HogParams {
            orientations: case["orientations"].as_u64().expect("n") as usize,
            pixels_per_cell: pair(&case["pixels_per_cell"]),
            cells_per_block: (1, 1),
            ..HogParams::default()
        };
        let expected = image(&case["expected"]);
        let got = hog_image(img.view(), &params).expect("hog image");
        assert_eq!(got.dim(), expected.dim());
        let diff = max_abs_diff(
            got.as_slice().expect("contiguous"),
            expected.as_slice().expect("contiguous"),
        );
        assert!(diff <= 1e-9, "{case:?}: max |diff| = {diff}", case = params);
        // A glyph image that is all zeros would match a zero fixture: make sure not.
        assert!(got.iter().any(|&v| v > 0.0));
        worst = worst.max(diff);
        if !is_bit_identical(got.as_slice().expect("contiguous"), case) {
            differing.push(format!("{} {params:?}", case["image"]));
        }
    }
    println!(
        "{} glyph images, worst |diff| = {worst:e}, not bit-identical: {differing:?}",
        cases.len()
    );
    assert!(differing.is_empty(), "not bit-identical: {differing:#?}");
}

fn mstar_raw() -> Option<PathBuf> {
    sarlab_testkit::shared_dataset("mstar-raw")
}

#[test]
fn hog_of_real_mstar_crops_equals_scikit_image() {
    let Some(dir) = mstar_raw() else { return };
    let fixture = fixture::load(env!("CARGO_MANIFEST_DIR"), "hog.json");
    let cases = fixture["mstar_raw_crops"].as_array().expect("mstar cases");
    assert_eq!(
        cases.len(),
        10,
        "regenerate the fixture with ../shared present"
    );
    for case in cases {
        let path = dir.join(case["file"].as_str().expect("file"));
        let chip = sarlab_io::phoenix::read(&path, true).expect("real chip");
        let (rows, cols) = chip.magnitude.dim();
        let (r0, c0) = ((rows - 64) / 2, (cols - 64) / 2);
        let crop = chip
            .magnitude
            .slice(s![r0..r0 + 64, c0..c0 + 64])
            .mapv(f64::from);
        let params = HogParams {
            cells_per_block: (2, 2),
            block_norm: case["block_norm"]
                .as_str()
                .expect("norm")
                .parse()
                .expect("norm"),
            transform_sqrt: case["transform_sqrt"].as_bool().expect("bool"),
            ..HogParams::default()
        };
        let expected: Vec<f64> = serde_json::from_value(case["expected"].clone()).expect("v");
        let got = hog(crop.view(), &params).expect("hog");
        assert_eq!(got.len(), 1764);
        let diff = max_abs_diff(&got, &expected);
        assert!(diff <= 1e-9, "{}: max |diff| = {diff}", path.display());
        assert!(
            is_bit_identical(&got, case),
            "{} {:?}: within {diff:e} but not bit-identical",
            path.display(),
            params.block_norm
        );
    }
}
