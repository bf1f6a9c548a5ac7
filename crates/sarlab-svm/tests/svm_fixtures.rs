//! The C-SVC engine and the metrics against scikit-learn 1.9 (libsvm), through the
//! fixture made by `scripts/fixtures/svm.py`: at tolerance 1e-7 the decision values
//! agree to 1e-6, the predictions and the support-vector sets are identical; the
//! metrics agree with `sklearn.metrics` to 1e-12. The bounded-memory path (kernel rows
//! cached, here in a cache of a few rows) gives the whole-kernel path's answers bit for
//! bit.

use linfa::prelude::*;
use ndarray::Array1;
use sarlab_svm::{
    ClassWeight, ClassificationMetrics, Engine, Gamma, Kernel, KernelMemory, Svc, SvcModel,
    SvmParams, confusion_matrix, per_class,
};
use sarlab_testkit::fixture::{self, floats, matrix, usizes as labels};
use serde_json::Value;

fn params_of(case: &Value, tolerance: f64) -> SvmParams {
    let p = &case["params"];
    let kernel: Kernel = p["kernel"]
        .as_str()
        .expect("kernel")
        .parse()
        .expect("kernel");
    let gamma = match &p["gamma"] {
        Value::Null => Gamma::Scale,
        Value::String(s) => s.parse().expect("gamma"),
        v => Gamma::Value(v.as_f64().expect("gamma")),
    };
    SvmParams {
        kernel,
        c: p["C"].as_f64().expect("C"),
        gamma,
        degree: p["degree"].as_u64().unwrap_or(3) as u32,
        coef0: p["coef0"].as_f64().unwrap_or(0.0),
        tolerance,
        class_weight: match p["class_weight"].as_str() {
            Some("balanced") => ClassWeight::Balanced,
            None => ClassWeight::Uniform,
            Some(other) => panic!("unknown class weight {other}"),
        },
        ..SvmParams::default()
    }
}

#[test]
fn decisions_predictions_and_support_vectors_equal_libsvm() {
    let fixture = fixture::load(env!("CARGO_MANIFEST_DIR"), "svm.json");
    let tolerance = fixture["tolerance"].as_f64().expect("tolerance");
    let mut worst = 0.0f64;
    for case in fixture["cases"].as_array().expect("cases") {
        let data = &fixture["datasets"][case["dataset"].as_str().expect("dataset")];
        let (x, y) = (matrix(&data["x_train"]), labels(&data["y_train"]));
        let x_test = matrix(&data["x_test"]);
        let n_classes = y.iter().max().expect("labels") + 1;
        let params = params_of(case, tolerance);
        let name = format!("{} {}", case["dataset"], case["params"]);

        let model = Svc::new(params.clone(), n_classes)
            .fit(&Dataset::new(x.clone(), Array1::from(y.clone())))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        // Three rows of the training kernel cached at a time.
        let cached = Svc::new(params.clone(), n_classes)
            .with_engine(Engine {
                memory: KernelMemory::Cached {
                    cache_bytes: 3 * 4 * x.nrows(),
                },
                ..Engine::default()
            })
            .fit_rows(x.view(), &y)
            .unwrap_or_else(|e| panic!("{name} (cached): {e}"));
        assert_same_model(&cached, &model, &x_test, &name);
        // A cache every pair machine's `Q` fits: each computed whole from its samples.
        let whole_pairs = Svc::new(params.clone(), n_classes)
            .with_engine(Engine {
                memory: KernelMemory::Cached {
                    cache_bytes: 1 << 30,
                },
                ..Engine::default()
            })
            .fit_rows(x.view(), &y)
            .unwrap_or_else(|e| panic!("{name} (whole pairs): {e}"));
        assert_same_model(&whole_pairs, &model, &x_test, &name);
        // γ does not enter the linear kernel (sarlab reports 0 for it).
        assert!(
            params.kernel == Kernel::Linear
                || (model.kernel.gamma - case["gamma_value"].as_f64().expect("gamma")).abs()
                    < 1e-15,
            "{name}: gamma {}",
            model.kernel.gamma
        );
        assert_eq!(
            model.support_indices,
            labels(&case["support"]),
            "{name}: support vectors"
        );
        let n_support: Vec<usize> = (0..n_classes)
            .map(|k| model.support_indices.iter().filter(|&&i| y[i] == k).count())
            .collect();
        assert_eq!(n_support, labels(&case["n_support"]), "{name}: n_support");

        let expected = matrix(&case["decision"]);
        let decision = model
            .decision_function(x_test.view())
            .expect("finite kernel");
        assert_eq!(decision.dim(), expected.dim(), "{name}: decision shape");
        for (got, want) in decision.iter().zip(&expected) {
            let diff = (got - want).abs();
            worst = worst.max(diff);
            assert!(diff <= 1e-6, "{name}: decision {got} vs {want}");
        }
        let predicted = model.predict(&x_test);
        assert_eq!(
            predicted.to_vec(),
            labels(&case["predictions"]),
            "{name}: predictions"
        );
    }
    println!("largest decision-value difference from scikit-learn: {worst:.3e}");
}

/// The same machines to the bit, hence the same decisions.
fn assert_same_model(a: &SvcModel, b: &SvcModel, x_test: &ndarray::Array2<f64>, name: &str) {
    assert_eq!(a.support_indices, b.support_indices, "{name}: support");
    for (p, q) in a.machines.pairs.iter().zip(&b.machines.pairs) {
        let bits = |v: &[f64]| v.iter().map(|c| c.to_bits()).collect::<Vec<_>>();
        assert_eq!(
            bits(&p.coef),
            bits(&q.coef),
            "{name}: pair {} vs {}",
            p.pos,
            p.neg
        );
        assert_eq!(p.rho.to_bits(), q.rho.to_bits(), "{name}: ρ");
        assert_eq!(p.iterations, q.iterations, "{name}: iterations");
    }
    let (da, db) = (
        a.decision_function(x_test.view()).expect("finite"),
        b.decision_function(x_test.view()).expect("finite"),
    );
    assert!(
        da.iter().zip(&db).all(|(p, q)| p.to_bits() == q.to_bits()),
        "{name}: decisions"
    );
}

#[test]
fn shrinking_off_gives_the_same_answers() {
    let fixture = fixture::load(env!("CARGO_MANIFEST_DIR"), "svm.json");
    let case = &fixture["cases"][4]; // mstar_like, RBF
    let data = &fixture["datasets"]["mstar_like"];
    let (x, y) = (matrix(&data["x_train"]), labels(&data["y_train"]));
    let x_test = matrix(&data["x_test"]);
    let mut params = params_of(case, 1e-7);
    params.shrinking = false;
    let model = Svc::new(params, 10).fit_rows(x.view(), &y).expect("fit");
    assert_eq!(model.support_indices, labels(&case["support"]));
    let expected = matrix(&case["decision"]);
    let decision = model
        .decision_function(x_test.view())
        .expect("finite kernel");
    for (got, want) in decision.iter().zip(&expected) {
        assert!((got - want).abs() <= 1e-6, "{got} vs {want}");
    }
}

#[test]
fn metrics_equal_sklearn_metrics() {
    let fixture = fixture::load(env!("CARGO_MANIFEST_DIR"), "svm.json");
    for entry in fixture["metrics"].as_array().expect("metrics") {
        let name = entry["name"].as_str().expect("name");
        let (t, p) = (labels(&entry["y_true"]), labels(&entry["y_pred"]));
        let n = entry["n_classes"].as_u64().expect("n") as usize;
        let m = ClassificationMetrics::compute(&t, &p, n);
        for (key, value) in m.named() {
            let want = entry[key].as_f64().unwrap_or_else(|| panic!("{key}"));
            assert!(
                (value - want).abs() <= 1e-12,
                "{name} {key}: {value} vs {want}"
            );
        }
        let scores = per_class(&t, &p, n);
        let classes: Vec<usize> = scores.iter().map(|s| s.class).collect();
        assert_eq!(classes, labels(&entry["labels"]), "{name}: classes scored");
        let reference = &entry["per_class"];
        for (field, pick) in [
            (
                "precision",
                (|s: &sarlab_svm::ClassScores| s.precision) as fn(&_) -> f64,
            ),
            ("recall", |s| s.recall),
            ("f1", |s| s.f1),
            ("support", |s| s.support as f64),
        ] {
            let want = floats(&reference[field]);
            let got: Vec<f64> = scores.iter().map(pick).collect();
            assert_eq!(got.len(), want.len(), "{name} {field}");
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() <= 1e-12, "{name} {field}: {g} vs {w}");
            }
        }
        let confusion = confusion_matrix(&t, &p, n);
        let want = matrix(&entry["confusion"]);
        assert_eq!(confusion.mapv(|c| c as f64), want, "{name}: confusion");
    }
}
