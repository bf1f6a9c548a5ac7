//! The dual coordinate descent linear SVM against scikit-learn's `LinearSVC`
//! (`scripts/fixtures/linear_svc.py`): both solved to a tight tolerance, so the unique
//! primal optimum — weights, intercepts, decision values and predictions of held-out
//! rows — agrees whatever order each solver visited the rows in.

use sarlab_svm::{ClassWeight, LinearLoss, LinearParams, fit_linear};
use sarlab_testkit::fixture::{matrix, usizes};
use serde_json::Value;

fn close(a: f64, b: f64, scale: f64) -> bool {
    (a - b).abs() <= 1e-6 * scale.max(1.0)
}

#[test]
fn weights_intercepts_and_predictions_match_linear_svc() {
    let fixture: Value =
        serde_json::from_str(include_str!("fixtures/linear_svc.json")).expect("fixture");
    let datasets = fixture["datasets"].as_array().expect("datasets");
    let cases = fixture["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 36);
    for case in cases {
        let data = &datasets[case["dataset"].as_u64().expect("index") as usize];
        let x = matrix(&data["x_train"]);
        let x_test = matrix(&data["x_test"]);
        let y = usizes(&data["y_train"]);
        let n_classes = data["classes"].as_u64().expect("classes") as usize;
        let params = LinearParams {
            c: case["C"].as_f64().expect("C"),
            loss: case["loss"]
                .as_str()
                .expect("loss")
                .parse::<LinearLoss>()
                .expect("loss"),
            class_weight: match case["class_weight"].as_str() {
                Some("balanced") => ClassWeight::Balanced,
                _ => ClassWeight::Uniform,
            },
            tolerance: 1e-10,
            max_iterations: 10_000_000,
            ..LinearParams::default()
        };
        let what = format!(
            "{} loss={} C={} class_weight={}",
            data["name"], case["loss"], case["C"], case["class_weight"]
        );
        let model = fit_linear(x.view(), &y, n_classes, &params).expect(&what);
        assert!(model.capped.is_empty(), "{what}");
        let coef = matrix(&case["coef"]);
        assert_eq!(model.coef.dim(), coef.dim(), "{what}");
        let scale = coef.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (ours, theirs) in model.coef.iter().zip(coef.iter()) {
            assert!(
                close(*ours, *theirs, scale),
                "{what}: coef {ours} vs {theirs}"
            );
        }
        for (ours, theirs) in model
            .intercept
            .iter()
            .zip(case["intercept"].as_array().expect("b"))
        {
            let theirs = theirs.as_f64().expect("b");
            assert!(
                close(*ours, theirs, scale),
                "{what}: intercept {ours} vs {theirs}"
            );
        }
        let decisions = model.decision_function(x_test.view()).expect("decisions");
        let expected = matrix(&case["decision"]);
        let dscale = expected.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (ours, theirs) in decisions.iter().zip(expected.iter()) {
            assert!(
                close(*ours, *theirs, dscale),
                "{what}: decision {ours} vs {theirs}"
            );
        }
        let predicted = usizes(&case["predicted"]);
        assert_eq!(
            model.predict(x_test.view()).expect("predict"),
            predicted,
            "{what}"
        );
    }
}
