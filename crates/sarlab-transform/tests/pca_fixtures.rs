//! PCA against scikit-learn's `PCA(svd_solver="full")`, through the fixture made by
//! `scripts/fixtures/pca.py`.

use sarlab_testkit::fixture::{floats as vector, matrix};
use sarlab_transform::pca::Pca;
use serde_json::Value;

#[test]
fn components_variance_and_transform_equal_scikit_learn() {
    let fixture: Value = serde_json::from_str(include_str!("fixtures/pca.json")).expect("fixture");
    let x = matrix(&fixture["x"]);
    let k = fixture["n_components"].as_u64().expect("k") as usize;
    for (key, whiten) in [("plain", false), ("whiten", true)] {
        let reference = &fixture[key];
        let pca = Pca::fit(x.view(), k, whiten).expect("fit");
        for (a, b) in pca.mean.iter().zip(vector(&reference["mean"])) {
            assert!((a - b).abs() < 1e-12, "{key}: mean");
        }
        // Same sign convention, so components match outright (not only up to sign).
        let components = matrix(&reference["components"]);
        for (a, b) in pca.components.iter().zip(&components) {
            assert!((a - b).abs() < 1e-9, "{key}: component {a} vs {b}");
        }
        for (a, b) in pca
            .explained_variance_ratio
            .iter()
            .zip(vector(&reference["explained_variance_ratio"]))
        {
            assert!((a - b).abs() < 1e-12, "{key}: ratio {a} vs {b}");
        }
        for (a, b) in pca
            .explained_variance
            .iter()
            .zip(vector(&reference["explained_variance"]))
        {
            assert!(
                (a - b).abs() <= 1e-9 * b.abs(),
                "{key}: variance {a} vs {b}"
            );
        }
        let projected = pca
            .transform(x.slice(ndarray::s![..6, ..]))
            .expect("transform");
        let expected = matrix(&reference["transform_first_rows"]);
        for (a, b) in projected.iter().zip(&expected) {
            assert!(
                (a - b).abs() < 1e-9 * (1.0 + b.abs()),
                "{key}: transform {a} vs {b}"
            );
        }
    }
}
