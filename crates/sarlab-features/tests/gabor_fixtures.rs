//! Gabor kernels and responses against scikit-image 0.26, through the fixture made by
//! `scripts/fixtures/gabor.py` (same test image, rebuilt here).

use ndarray::Array2;
use sarlab_features::gabor::{GaborParams, gabor, gabor_kernel};
use sarlab_testkit::fixture::{number as f, test_image};
use serde_json::Value;

/// Shape, sum, sum of squares and 48 samples within `rel` of the reference, relative to
/// the array's largest magnitude.
#[track_caller]
fn check(name: &str, a: &Array2<f64>, reference: &Value, rel: f64) {
    let shape: Vec<usize> = reference["shape"]
        .as_array()
        .expect("shape")
        .iter()
        .map(|v| v.as_u64().expect("dim") as usize)
        .collect();
    assert_eq!(vec![a.nrows(), a.ncols()], shape, "{name}: shape");
    let scale = f(&reference["max_abs"]).max(1e-300);
    let n = a.len() as f64;
    assert!(
        (a.sum() - f(&reference["sum"])).abs() <= rel * scale * n,
        "{name}: sum"
    );
    let sum_sq: f64 = a.iter().map(|v| v * v).sum();
    assert!(
        (sum_sq - f(&reference["sum_sq"])).abs() <= rel * scale * scale * n,
        "{name}: sum of squares"
    );
    for k in 0..48 {
        let (r, c) = ((k * 7919) % a.nrows(), (k * 104729) % a.ncols());
        let expected = f(&reference["samples"][k]);
        assert!(
            (a[[r, c]] - expected).abs() <= rel * scale,
            "{name}: ({r},{c}) {} vs {expected}",
            a[[r, c]]
        );
    }
}

#[test]
fn kernels_and_responses_equal_scikit_image() {
    let fixture: Value =
        serde_json::from_str(include_str!("fixtures/gabor.json")).expect("fixture");
    let image = test_image(40, 37);
    let cases = fixture["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 5);
    for case in cases {
        let p = &case["params"];
        let params = GaborParams {
            frequency: f(&p["frequency"]),
            theta: f(&p["theta"]),
            bandwidth: f(&p["bandwidth"]),
            sigma_x: p.get("sigma_x").map(f),
            sigma_y: p.get("sigma_y").map(f),
            n_stds: p.get("n_stds").map_or(3.0, f),
            offset: p.get("offset").map_or(0.0, f),
        };
        let name = format!("{params:?}");
        let (kr, ki) = gabor_kernel(&params).expect("kernel");
        check(
            &format!("{name} kernel real"),
            &kr,
            &case["kernel_real"],
            1e-12,
        );
        check(
            &format!("{name} kernel imag"),
            &ki,
            &case["kernel_imag"],
            1e-12,
        );
        let (rr, ri) = gabor(image.view(), &params).expect("response");
        check(
            &format!("{name} response real"),
            &rr,
            &case["response_real"],
            1e-9,
        );
        check(
            &format!("{name} response imag"),
            &ri,
            &case["response_imag"],
            1e-9,
        );
    }
}

#[test]
fn bank_features_equal_scikit_image_magnitudes() {
    use sarlab_features::gabor::GaborBankParams;
    let fixture: Value =
        serde_json::from_str(include_str!("fixtures/gabor.json")).expect("fixture json");
    let bank = &fixture["bank"];
    let params = GaborBankParams {
        frequencies: serde_json::from_value(bank["frequencies"].clone()).expect("f"),
        orientations: bank["orientations"].as_u64().expect("n") as usize,
        bandwidth: f(&bank["bandwidth"]),
        stats: true,
        pool: bank["pool"].as_u64().expect("pool") as usize,
    };
    let expected: Vec<f64> = serde_json::from_value(bank["features"].clone()).expect("v");
    let got = params.extract(test_image(32, 32).view()).expect("bank");
    assert_eq!(got.len(), expected.len());
    assert_eq!(got.len(), 6 * (2 + 16));
    for (k, (a, b)) in got.iter().zip(&expected).enumerate() {
        assert!(
            (a - b).abs() <= 1e-9 * b.abs().max(1e-3),
            "feature {k}: {a} vs scikit-image {b}"
        );
    }
}
