//! Saved models: every test refit (a study's best per method and `Study::train`'s any
//! configuration) leaves a model file that, loaded on its own, predicts the test
//! split's chips from their files with exactly the recorded labels and decision
//! values — for every feature method and every kernel, with preprocessing, PCA and
//! Platt scaling in the pipeline.

use std::collections::BTreeMap;
use std::path::PathBuf;

use sarlab_io::{DatasetIndex, Split};
use sarlab_model::{ChipPrediction, InputChip, Model};
use sarlab_study::{Plan, Shard, Silent, Spec, Study};
use sarlab_track::Store;

const SPEC: &str = r#"
name = "models"
seed = 11

[dataset]
source = "synthetic"
path = "data"

[dataset.synthetic]
chip_size = 40
train_per_class = 8
test_per_class = 4

[preprocess]
crop = 32
segment = "otsu:keep=target_shadow"
pose = "mask"
speckle = "lee:window=3:looks=4"
intensity = "db"
filter = "butterworth:lowpass:cutoff=0.6:units=nyquist:order=2"

[[features]]
method = "raw"
downsample = 2

[[features]]
method = "hog"
pixels_per_cell = 8
cells_per_block = 2

[[features]]
method = "gabor"
frequencies = [[0.1, 0.3]]
orientations = 2
pool = 4

[[features]]
method = "spectral"
block = 12
rings = 4
wedges = 4

[[features]]
method = "fusion"
combine = ["raw", "spectral"]
weights = [1, 0.5]
block_norm = "l2"
"raw.downsample" = 4
"spectral.block" = 12

[reduce]
pca = 12
whiten = true

[svm]
kernel = ["linear", "rbf", "poly", "sigmoid"]
C = 1
gamma = "scale"
degree = 2
folds = 2
"#;

fn study(dir: &std::path::Path) -> Study {
    Study {
        shard: Shard::all(),
        force: false,
        reports: dir.join("reports"),
        models: dir.join("models"),
        version: "test".to_owned(),
        build_commit: None,
        kernel_memory: Default::default(),
    }
}

/// The test chips of the dataset, named as the study names them.
fn test_chips(data: &std::path::Path) -> Vec<InputChip> {
    let index = DatasetIndex::scan(data, &Default::default()).expect("scan");
    index
        .entries
        .iter()
        .filter(|e| e.split == Split::Test)
        .map(|e| InputChip {
            path: e.path.clone(),
            name: format!(
                "{}/{}/{}",
                e.split, index.classes[e.class_index], e.file_name
            ),
            truth: Some(index.classes[e.class_index].clone()),
        })
        .collect()
}

/// A test run's recorded predictions: `chip → (predicted class, decision-value bits)`.
fn recorded_predictions(store: &Store, run: &str) -> BTreeMap<String, (usize, Vec<u64>)> {
    store
        .predictions(run)
        .expect("predictions")
        .into_iter()
        .map(|p| {
            let bits = p.decision_values.iter().map(|v| v.to_bits()).collect();
            (p.chip, (p.predicted, bits))
        })
        .collect()
}

/// `model`'s predictions of `chips`, from their files.
fn predict_all(model: &Model, chips: &[InputChip], probability: bool) -> Vec<ChipPrediction> {
    let mut predicted = Vec::new();
    model
        .predict_chips(chips, probability, |block| {
            predicted.extend(block);
            Ok(())
        })
        .expect("predict");
    predicted
}

#[test]
fn every_saved_model_predicts_the_recorded_test_split_bit_for_bit() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let text = SPEC.replace(
        "path = \"data\"",
        &format!("path = {:?}", dir.path().join("data").display().to_string()),
    );
    let spec_path = dir.path().join("models.toml");
    std::fs::write(&spec_path, &text).expect("spec");
    let plan = Plan::new(
        Spec::parse(&text, &spec_path).expect("spec"),
        &spec_path,
        text.clone(),
    )
    .expect("plan");
    let db = dir.path().join("runs.db");
    let mut store = Store::open(&db).expect("db");
    let study = study(dir.path());
    study.run(&plan, &mut store, &Silent).expect("study");
    // The spec segments: the report shows the masks of a chip of each class.
    let masks = dir.path().join("reports/models/segmentation_masks.png");
    assert!(masks.is_file(), "{} is missing", masks.display());
    assert_eq!(
        store.model_artifacts(Some("models")).expect("models").len(),
        5,
        "one model per method"
    );
    // The same spec run again into another database gives byte-identical model files
    // (what lets concurrent studies of one spec write the same path).
    let again = Study {
        models: dir.path().join("models-again"),
        ..study.clone()
    };
    let mut other = Store::open(&dir.path().join("again.db")).expect("db");
    again.run(&plan, &mut other, &Silent).expect("study again");
    for artifact in store.model_artifacts(Some("models")).expect("models") {
        let path = PathBuf::from(&artifact.path);
        let twin = dir.path().join("models-again").join(
            path.strip_prefix(dir.path().join("models"))
                .expect("in models"),
        );
        assert_eq!(
            std::fs::read(&path).expect("model"),
            std::fs::read(&twin).expect("twin"),
            "{} and {}",
            path.display(),
            twin.display()
        );
    }
    // Every other configuration through `train`, by a prefix of its CV run's hash.
    let listing = store
        .list_runs(&sarlab_track::RunQuery {
            experiment: Some("models".to_owned()),
            ..Default::default()
        })
        .expect("runs");
    let cv_hashes: Vec<String> = listing
        .runs
        .iter()
        .filter_map(|r| {
            let run = store.run(&r.uuid).ok()?;
            (run.tags.get("stage").map(String::as_str) == Some("cv")).then_some(run.config_hash)
        })
        .collect();
    assert_eq!(cv_hashes.len(), 20, "5 methods × 4 kernels");
    for hash in &cv_hashes {
        let trained = study
            .train(&plan, &mut store, &hash[..16], &Silent)
            .expect("train");
        assert!(trained.tested.model.is_file());
    }
    let models = store.model_artifacts(Some("models")).expect("models");
    assert_eq!(models.len(), 20, "a model for every configuration");
    let chips = test_chips(&dir.path().join("data"));
    let mut kernels_by_method: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for artifact in &models {
        let model = Model::load(&PathBuf::from(&artifact.path)).expect("load");
        let h = &model.header;
        kernels_by_method
            .entry(h.features.method.clone())
            .or_default()
            .push(h.svm.kernel.clone());
        assert_eq!(
            sarlab_io::sha256_hex(&std::fs::read(&artifact.path).expect("read")),
            artifact.sha256
        );
        let recorded = recorded_predictions(&store, &artifact.run);
        let predicted = predict_all(&model, &chips, true);
        assert_eq!(predicted.len(), recorded.len());
        for p in &predicted {
            let (label, bits) = &recorded[&p.name];
            let mine: Vec<u64> = p.decision_values.iter().map(|v| v.to_bits()).collect();
            assert_eq!(
                (&p.predicted, &mine),
                (label, bits),
                "{} {} {}",
                h.features.method,
                h.svm.kernel,
                p.name
            );
            let probabilities = p.probabilities.as_ref().expect("probabilities");
            let total: f64 = probabilities.iter().sum();
            assert!((total - 1.0).abs() < 1e-9, "{total}");
            assert_eq!(
                p.votes.iter().sum::<u32>() as usize,
                p.decision_values.len()
            );
        }
        // A chip alone, or in a batch of two or three, gets the bits it gets in the
        // whole split: nothing depends on the batch.
        for (batch, range) in [(1, 0..1), (2, 5..7), (3, 11..14)] {
            let alone = predict_all(&model, &chips[range.clone()], false);
            for (p, whole) in alone.iter().zip(&predicted[range.clone()]) {
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(
                    bits(&p.decision_values),
                    bits(&whole.decision_values),
                    "{} {} {} in a batch of {batch}",
                    h.features.method,
                    h.svm.kernel,
                    p.name
                );
            }
        }
    }
    for kernels in kernels_by_method.values_mut() {
        kernels.sort();
        assert_eq!(kernels, &["linear", "poly", "rbf", "sigmoid"]);
    }
}

const LINEAR_SPEC: &str = r#"
name = "linear-models"
seed = 5

[dataset]
source = "synthetic"
path = "data"

[dataset.synthetic]
chip_size = 40
train_per_class = 10
test_per_class = 4

[preprocess]
crop = 32
intensity = "db"

[[features]]
method = "raw"
downsample = 2

[[features]]
method = "hog"
pixels_per_cell = 8
cells_per_block = 2

[reduce]
pca = 12

[svm]
solver = "liblinear"
C = [0.1, 1]
folds = 2
"#;

/// A liblinear study (`svm` lines appended to [`LINEAR_SPEC`]) run in `dir`: its
/// plan and store.
fn linear_study(dir: &std::path::Path, svm_lines: &str) -> (Plan, Store) {
    let text = format!("{LINEAR_SPEC}{svm_lines}\n").replace(
        "path = \"data\"",
        &format!("path = {:?}", dir.join("data").display().to_string()),
    );
    let spec_path = dir.join("linear.toml");
    std::fs::write(&spec_path, &text).expect("spec");
    let plan = Plan::new(
        Spec::parse(&text, &spec_path).expect("spec"),
        &spec_path,
        text.clone(),
    )
    .expect("plan");
    let mut store = Store::open(&dir.join("runs.db")).expect("db");
    study(dir).run(&plan, &mut store, &Silent).expect("study");
    (plan, store)
}

#[test]
fn linear_and_approximated_kernel_models_predict_the_recorded_test_split_bit_for_bit() {
    for (svm_lines, approximation, kernel) in [
        ("kernel = \"linear\"", None, "linear"),
        (
            "kernel = \"rbf\"\ngamma = [\"scale\", 0.5]\napproximation = { nystroem = 30 }",
            Some("nystroem:30"),
            "rbf",
        ),
        (
            "kernel = \"rbf\"\nloss = \"hinge\"\napproximation = { random_fourier = 64 }",
            Some("random_fourier:64"),
            "rbf",
        ),
    ] {
        let dir = tempfile::tempdir().expect("temporary folder");
        let (_, store) = linear_study(dir.path(), svm_lines);
        let models = store
            .model_artifacts(Some("linear-models"))
            .expect("models");
        assert_eq!(models.len(), 2, "one model per method ({svm_lines})");
        let chips = test_chips(&dir.path().join("data"));
        for artifact in &models {
            let run = store.run(&artifact.run).expect("test run");
            let param = |key: &str| run.params.get(key).map(ToString::to_string);
            assert_eq!(param("solver").as_deref(), Some("liblinear"));
            assert_eq!(
                param("approximation").as_deref(),
                approximation,
                "{svm_lines}"
            );
            let bytes = std::fs::read(&artifact.path).expect("model bytes");
            let model = Model::from_bytes(&bytes).expect("model");
            let linear = model.header.svm.linear.as_ref().expect("a linear model");
            assert_eq!(linear.approximation.as_deref(), approximation);
            let classes = model.classes().len();
            assert!(classes > 2);
            assert_eq!(linear.machines, classes, "one machine per class");
            assert_eq!(model.header.svm.kernel, kernel);
            assert!(model.probability().is_none());
            let recorded = recorded_predictions(&store, &artifact.run);
            let predicted = predict_all(&model, &chips, false);
            assert_eq!(predicted.len(), recorded.len());
            for p in &predicted {
                let (label, bits) = &recorded[&p.name];
                let mine: Vec<u64> = p.decision_values.iter().map(|v| v.to_bits()).collect();
                assert_eq!(
                    (&p.predicted, &mine),
                    (label, bits),
                    "{svm_lines} {}",
                    p.name
                );
                assert_eq!(
                    mine.len(),
                    classes,
                    "a decision value per one-vs-rest machine"
                );
                assert_eq!(p.votes.iter().sum::<u32>(), 1);
                assert_eq!(p.votes[p.predicted], 1);
            }
            // A chip alone gets the bits it gets in the whole split.
            let alone = predict_all(&model, &chips[3..4], false);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(&alone[0].decision_values),
                bits(&predicted[3].decision_values)
            );
            // Probabilities are asked of a model that has none: a clear error.
            let err = model
                .predict_chips(&chips[..1], true, |_| Ok(()))
                .unwrap_err()
                .to_string();
            assert!(err.contains("probability"), "{err}");
            // The file round-trips to the same bytes.
            assert_eq!(model.to_bytes().expect("bytes"), bytes);
        }
    }
}

/// An error and the errors it wraps, as the CLI prints them.
fn with_sources(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(&format!(": {inner}"));
        source = inner.source();
    }
    text
}

#[test]
fn a_linear_solver_spec_with_settings_it_cannot_use_is_refused_by_key() {
    for (svm_lines, needle) in [
        ("kernel = \"rbf\"", "`svm.kernel`"),
        ("probability = true", "`svm.probability`"),
        (
            "kernel = \"poly\"\napproximation = { random_fourier = 10 }",
            "random Fourier features approximate the rbf kernel",
        ),
        (
            "approximation = { nystroem = 10, random_fourier = 10 }",
            "`svm.approximation`: give one of",
        ),
        ("approximation = { nystroem = 0 }", "`svm.approximation`"),
        ("approximation = { sketch = 10 }", "sketch"),
        ("loss = \"cubic\"", "cubic"),
    ] {
        let text = format!("{LINEAR_SPEC}{svm_lines}\n");
        let path = std::path::Path::new("linear.toml");
        let err = Spec::parse(&text, path)
            .and_then(|spec| Plan::new(spec, path, text.clone()))
            .map_err(|e| with_sources(&e))
            .expect_err(svm_lines);
        assert!(err.contains(needle), "{svm_lines}: {err}");
    }
    let smo = LINEAR_SPEC.replace("solver = \"liblinear\"", "loss = \"hinge\"");
    let path = std::path::Path::new("smo.toml");
    let err = Plan::new(Spec::parse(&smo, path).expect("spec"), path, smo.clone())
        .expect_err("loss without liblinear")
        .to_string();
    assert!(err.contains("applies to solver = \"liblinear\""), "{err}");
}
