//! Probability estimates against scikit-learn 1.9 (libsvm), through the fixture made by
//! `scripts/fixtures/probability.py`:
//! - from libsvm's own sigmoids and decision values, sarlab's sigmoid and pairwise
//!   coupling give `predict_proba` to 1e-9;
//! - sarlab's Platt fit and scikit-learn's reach the same optimum (A, B) to 1e-4;
//! - fitted end to end (each with its own internal folds), the two agree on the most
//!   probable class for at least 90 % of the test rows and their test log-losses are
//!   within 0.05 of each other (the figures are printed).

use ndarray::Array2;
use sarlab_svm::{Gamma, Kernel, PlattScaling, Svc, SvmParams, fit_sigmoid};
use sarlab_testkit::fixture::{self, floats, matrix, usizes};
use serde_json::Value;

fn params_of(case: &Value) -> SvmParams {
    let p = &case["params"];
    SvmParams {
        kernel: p["kernel"]
            .as_str()
            .expect("kernel")
            .parse::<Kernel>()
            .expect("kernel"),
        c: p["C"].as_f64().expect("C"),
        gamma: match p["gamma"].as_str() {
            Some(text) => text.parse::<Gamma>().expect("gamma"),
            None => Gamma::Scale,
        },
        tolerance: 1e-7,
        ..SvmParams::default()
    }
}

fn log_loss(probabilities: &Array2<f64>, truth: &[usize]) -> f64 {
    let total: f64 = truth
        .iter()
        .enumerate()
        .map(|(r, &t)| -probabilities[[r, t]].clamp(1e-15, 1.0).ln())
        .sum();
    total / truth.len() as f64
}

fn argmax(row: ndarray::ArrayView1<'_, f64>) -> usize {
    let mut best = 0;
    for (k, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = k;
        }
    }
    best
}

#[test]
fn coupling_libsvm_sigmoids_gives_predict_proba() {
    let fixture = fixture::load(env!("CARGO_MANIFEST_DIR"), "probability.json");
    let mut worst = 0.0f64;
    for case in fixture["cases"].as_array().expect("cases") {
        let (x, y) = (matrix(&case["x_train"]), usizes(&case["y_train"]));
        let n_classes = y.iter().max().expect("labels") + 1;
        let model = Svc::new(params_of(case), n_classes)
            .fit_rows(x.view(), &y)
            .expect("fit");
        let platt = PlattScaling {
            a: floats(&case["prob_a"]),
            b: floats(&case["prob_b"]),
            seed: 0,
        };
        let decisions = matrix(&case["decision_values"]);
        let mine = platt
            .probabilities(&model.machines, decisions.view())
            .expect("probabilities");
        let expected = matrix(&case["predict_proba"]);
        for (a, b) in mine.iter().zip(expected.iter()) {
            worst = worst.max((a - b).abs());
        }
    }
    println!("largest difference from predict_proba: {worst:e}");
    assert!(worst < 1e-9, "{worst}");
}

#[test]
fn platt_fit_reaches_scikit_learns_optimum() {
    let fixture = fixture::load(env!("CARGO_MANIFEST_DIR"), "probability.json");
    for case in fixture["sigmoids"].as_array().expect("sigmoids") {
        let values = floats(&case["decision_values"]);
        let positive: Vec<bool> = case["positive"]
            .as_array()
            .expect("labels")
            .iter()
            .map(|v| v.as_bool().expect("bool"))
            .collect();
        let (a, b) = fit_sigmoid(&values, &positive);
        let (ea, eb) = (
            case["a"].as_f64().expect("a"),
            case["b"].as_f64().expect("b"),
        );
        println!("A {a} vs {ea}, B {b} vs {eb}");
        assert!((a - ea).abs() <= 1e-4 * ea.abs().max(1.0), "A {a} vs {ea}");
        assert!((b - eb).abs() <= 1e-4 * eb.abs().max(1.0), "B {b} vs {eb}");
    }
}

#[test]
fn fitted_end_to_end_agrees_with_scikit_learn_on_the_test_rows() {
    let fixture = fixture::load(env!("CARGO_MANIFEST_DIR"), "probability.json");
    for case in fixture["cases"].as_array().expect("cases") {
        let (x, y) = (matrix(&case["x_train"]), usizes(&case["y_train"]));
        let (x_test, y_test) = (matrix(&case["x_test"]), usizes(&case["y_test"]));
        let n_classes = y.iter().max().expect("labels") + 1;
        let params = params_of(case);
        let model = Svc::new(params.clone(), n_classes)
            .fit_rows(x.view(), &y)
            .expect("fit");
        let platt = PlattScaling::fit(x.view(), &y, &model.machines, &model.kernel, &params, 0)
            .expect("platt");
        let mine = platt
            .probabilities(
                &model.machines,
                model
                    .decision_function(x_test.view())
                    .expect("decisions")
                    .view(),
            )
            .expect("probabilities");
        let theirs = matrix(&case["predict_proba"]);
        let agree = (0..y_test.len())
            .filter(|&r| argmax(mine.row(r)) == argmax(theirs.row(r)))
            .count() as f64
            / y_test.len() as f64;
        let mean_difference = mine
            .iter()
            .zip(theirs.iter())
            .map(|(a, b)| (a - b).abs())
            .sum::<f64>()
            / mine.len() as f64;
        let (ours, sklearn) = (
            log_loss(&mine, &y_test),
            case["log_loss"].as_f64().expect("log loss"),
        );
        println!(
            "{} {}: log-loss {ours:.4} (scikit-learn {sklearn:.4}), most probable class agrees on {:.1} % of {} rows, mean |Δp| {mean_difference:.4}",
            case["dataset"],
            case["params"]["kernel"],
            100.0 * agree,
            y_test.len()
        );
        assert!(agree >= 0.8, "{agree}");
        assert!(mean_difference <= 0.05, "{mean_difference}");
        assert!((ours - sklearn).abs() <= 0.05, "{ours} vs {sklearn}");
        for row in mine.outer_iter() {
            assert!((row.sum() - 1.0).abs() < 1e-9);
        }
        // The same seed gives the same sigmoids.
        let again = PlattScaling::fit(x.view(), &y, &model.machines, &model.kernel, &params, 0)
            .expect("platt");
        assert_eq!(again, platt);
    }
}
