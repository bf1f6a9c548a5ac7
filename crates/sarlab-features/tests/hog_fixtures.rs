//! HOG against scikit-image 0.26 (fixtures made by `scripts/fixtures/hog.py`).

use ndarray::Array2;
use sarlab_features::{BlockNorm, HogParams, hog};
use serde_json::Value;

fn image(v: &Value) -> Array2<f64> {
    let rows: Vec<Vec<f64>> = serde_json::from_value(v.clone()).expect("image rows");
    let (r, c) = (rows.len(), rows[0].len());
    Array2::from_shape_vec((r, c), rows.into_iter().flatten().collect()).expect("rectangular")
}

fn pair(v: &Value) -> (usize, usize) {
    let p: Vec<usize> = serde_json::from_value(v.clone()).expect("pair");
    (p[0], p[1])
}

#[test]
fn hog_equals_scikit_image() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/hog.json"
    ))
    .expect("fixture file");
    let fixture: Value = serde_json::from_str(&text).expect("json");
    let cases = fixture["cases"].as_array().expect("cases");
    assert!(cases.len() >= 50, "fixture has only {} cases", cases.len());
    let mut worst = 0.0_f64;
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
    }
    println!(
        "{} HOG cases, worst |diff| vs scikit-image = {worst:e}",
        cases.len()
    );
}
