//! The kernel approximations against scikit-learn (`scripts/fixtures/kernel_approximation.py`):
//! the Nyström map on given landmarks gives `Nystroem`'s approximate kernel, and the
//! linear SVM on it `LinearSVC`'s decisions on the mapped rows; random Fourier features
//! with given projections equal `RBFSampler`'s mapped rows.

use ndarray::{Array2, Axis};
use sarlab_svm::{FeatureMap, Kernel, KernelFunction, LinearParams, fit_linear};
use sarlab_testkit::fixture::{floats, matrix, usizes};
use serde_json::Value;

fn fixture() -> Value {
    serde_json::from_str(include_str!("fixtures/kernel_approximation.json")).expect("fixture")
}

fn assert_close(ours: &Array2<f64>, theirs: &Array2<f64>, tolerance: f64, what: &str) {
    assert_eq!(ours.dim(), theirs.dim(), "{what}");
    let scale = theirs.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    for ((i, j), a) in ours.indexed_iter() {
        let b = theirs[(i, j)];
        assert!(
            (a - b).abs() <= tolerance * scale,
            "{what}: [{i}, {j}] {a} vs {b}"
        );
    }
}

#[test]
fn nystroem_and_linear_svc_on_it_match_scikit_learn() {
    let fixture = fixture();
    let datasets = fixture["datasets"].as_array().expect("datasets");
    let cases = fixture["nystroem"].as_array().expect("cases");
    assert_eq!(cases.len(), 18);
    for case in cases {
        let data = &datasets[case["dataset"].as_u64().expect("index") as usize];
        let x = matrix(&data["x_train"]);
        let x_test = matrix(&data["x_test"]);
        let y = usizes(&data["y_train"]);
        let n_classes = data["classes"].as_u64().expect("classes") as usize;
        let kernel = KernelFunction {
            kernel: case["kernel"]
                .as_str()
                .expect("kernel")
                .parse::<Kernel>()
                .expect("kernel"),
            gamma: case["gamma"].as_f64().expect("gamma"),
            degree: case["degree"].as_u64().expect("degree") as u32,
            coef0: case["coef0"].as_f64().expect("coef0"),
        };
        let landmarks = usizes(&case["landmarks"]);
        let what = format!("{} {kernel} on {} landmarks", data["name"], landmarks.len());
        let map = FeatureMap::nystroem(x.select(Axis(0), &landmarks), kernel).expect(&what);
        let train = map.transform(x.view()).expect(&what);
        let test = map.transform(x_test.view()).expect(&what);
        // The map's own rounding is that of an m × m eigendecomposition against an
        // SVD; the approximate kernel agrees far below the features' 4 decimals.
        assert_close(
            &test.dot(&train.t()),
            &matrix(&case["approximate_kernel"]),
            1e-8,
            &format!("{what}: approximate kernel"),
        );
        let params = LinearParams {
            tolerance: 1e-10,
            max_iterations: 10_000_000,
            ..LinearParams::default()
        };
        let model = fit_linear(train.view(), &y, n_classes, &params).expect(&what);
        assert_close(
            &model.decision_function(test.view()).expect(&what),
            &matrix(&case["decision"]),
            1e-5,
            &format!("{what}: decision values"),
        );
        assert_eq!(
            model.predict(test.view()).expect(&what),
            usizes(&case["predicted"]),
            "{what}: predictions"
        );
    }
}

#[test]
fn random_fourier_features_match_rbf_sampler() {
    let fixture = fixture();
    let datasets = fixture["datasets"].as_array().expect("datasets");
    let cases = fixture["random_fourier"].as_array().expect("cases");
    assert_eq!(cases.len(), 4);
    for case in cases {
        let data = &datasets[case["dataset"].as_u64().expect("index") as usize];
        let x_test = matrix(&data["x_test"]);
        // scikit-learn's weights are `d × m`; the map keeps one projection per row.
        let projections = matrix(&case["weights"]).t().to_owned();
        let offsets = floats(&case["offsets"]);
        let map = FeatureMap::random_fourier(projections, offsets).expect("map");
        assert_close(
            &map.transform(x_test.view()).expect("mapped"),
            &matrix(&case["mapped"]),
            1e-11,
            &format!("{} gamma {}", data["name"], case["gamma"]),
        );
    }
}
