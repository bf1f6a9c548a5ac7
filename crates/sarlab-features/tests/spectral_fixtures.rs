//! Spectral features against an independent numpy implementation
//! (`scripts/fixtures/spectral.py`), on the Gabor fixture's test image.

use sarlab_features::spectral::SpectralParams;
use sarlab_testkit::fixture::test_image;
use serde_json::Value;

#[test]
fn spectral_features_equal_numpy() {
    let fixture: Value =
        serde_json::from_str(include_str!("fixtures/spectral.json")).expect("json");
    let cases = fixture["cases"].as_array().expect("cases");
    assert!(cases.len() >= 14, "{} cases", cases.len());
    let mut worst = 0.0_f64;
    for case in cases {
        let n = |k: &str| case[k].as_u64().expect("integer") as usize;
        let params = SpectralParams {
            block: n("block"),
            rings: n("rings"),
            wedges: n("wedges"),
            normalise: case["normalise"].as_bool().expect("bool"),
        };
        let expected: Vec<f64> = serde_json::from_value(case["expected"].clone()).expect("v");
        let got = params
            .extract(test_image(n("rows"), n("cols")).view())
            .expect("extract");
        assert_eq!(got.len(), expected.len(), "{params:?}");
        for (k, (a, b)) in got.iter().zip(&expected).enumerate() {
            let rel = (a - b).abs() / b.abs().max(1e-300);
            assert!(
                rel <= 1e-9 || (a - b).abs() <= 1e-12,
                "{params:?} at {}x{}: feature {k} = {a}, numpy {b}",
                n("rows"),
                n("cols")
            );
            if b.abs() > 1e-12 {
                worst = worst.max(rel);
            }
        }
    }
    println!(
        "{} spectral cases, worst relative difference {worst:e}",
        cases.len()
    );
}
