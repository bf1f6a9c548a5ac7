//! Training-set augmentation in a study: copies are the shifted and mirrored windows of
//! the chip as loaded (numpy slicing of the whole file), they train the refit but are
//! never validated on or tested, and the recorded test scores are those of a refit
//! computed here from the originals plus those copies.

use ndarray::{Array2, s};
use sarlab_io::{Dataset, DatasetIndex, Split};
use sarlab_study::{Plan, Shard, Silent, Spec, Study};
use sarlab_svm::{FeatureTransform, refit_and_test};
use sarlab_track::{Store, config_hash};

const SPEC: &str = r#"
name = "augment"
seed = 11

[dataset]
source = "synthetic"
path = "data"

[dataset.synthetic]
chip_size = 36
train_per_class = 6
test_per_class = 3

[preprocess]
crop = 30
intensity = "sqrt"
normalize = "l2"
augment = ["none", { copies = 6, shifts = 1, flips = "azimuth" }]

[[features]]
method = "raw"
downsample = 3

[svm]
C = [10]
gamma = ["scale"]
folds = 3
test = "all"
"#;

fn plan(dir: &std::path::Path) -> Plan {
    let text = SPEC.replace(
        "path = \"data\"",
        &format!("path = {:?}", dir.join("data").display().to_string()),
    );
    let path = dir.join("augment.toml");
    std::fs::write(&path, &text).expect("write the spec");
    Plan::new(Spec::parse(&text, &path).expect("spec"), &path, text).expect("plan")
}

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

/// Features of `images` by the plan's extractor, one row each.
fn matrix(plan: &Plan, feature: usize, images: &[Array2<f64>]) -> Array2<f64> {
    let config = &plan.features[feature];
    let rows: Vec<Vec<f64>> = images
        .iter()
        .map(|image| {
            let image = config
                .preprocess
                .after_crop(image.clone())
                .expect("preprocess");
            config.method.extract(image.view()).expect("features")
        })
        .collect();
    let cols = rows[0].len();
    Array2::from_shape_vec((rows.len(), cols), rows.concat()).expect("matrix")
}

#[test]
fn copies_train_the_refit_and_never_reach_validation_or_test() {
    let dir = tempfile::tempdir().expect("temp");
    let plan = plan(dir.path());
    assert_eq!(plan.features.len(), 2);
    let augmented = plan
        .features
        .iter()
        .position(|f| f.augment.is_some())
        .expect("an augmented setting");
    assert_eq!(
        plan.features[augmented]
            .params
            .iter()
            .find(|(k, _)| k == "augment")
            .map(|(_, v)| v.to_string()),
        Some("copies=6:shifts=1:flips=azimuth".to_owned())
    );
    let mut store = Store::open(&dir.path().join("runs.db")).expect("db");
    let outcome = study(dir.path())
        .run(&plan, &mut store, &Silent)
        .expect("study");
    let digest = store.run(&outcome.run).expect("study run").tags["dataset_digest"].clone();
    let experiment = store.experiment("augment").expect("experiment");

    let dataset: Dataset = DatasetIndex::scan(&plan.spec.dataset.path, &plan.dataset_options())
        .expect("scan")
        .load(&|| {})
        .expect("load");
    let train: Vec<_> = dataset.chips_in(Split::Train).collect();
    let y_train: Vec<usize> = train.iter().map(|c| c.class_index).collect();
    let y_test: Vec<usize> = dataset
        .chips_in(Split::Test)
        .map(|c| c.class_index)
        .collect();
    let config = &plan.features[augmented];
    let augment = config.augment.expect("augment");
    let crop = config.preprocess.crop.expect("crop");

    // Each CV fold validates chips only: the pooled confusion matrix counts every
    // train chip once, with or without copies.
    for fi in 0..plan.features.len() {
        let hash = config_hash(&digest, &plan.params_of(fi, 0, "cv"));
        let (uuid, _) = store
            .run_by_hash(experiment, &hash)
            .expect("q")
            .expect("cv run");
        let pooled: Vec<Vec<usize>> =
            serde_json::from_str(&store.run(&uuid).expect("run").tags["cv_confusion_matrix"])
                .expect("matrix");
        let counted: usize = pooled.iter().flatten().sum();
        assert_eq!(counted, train.len(), "setting {fi}");
    }

    // The copies, made here from the whole chip by slicing as numpy would.
    let mut images: Vec<Array2<f64>> = Vec::new();
    let mut labels = y_train.clone();
    let window = |chip: &sarlab_io::Chip, dr: isize, dc: isize, flip: bool| {
        let whole = chip.to_f64();
        let (r0, c0) = ((chip.size.0 - crop) / 2, (chip.size.1 - crop) / 2);
        let (r0, c0) = ((r0 as isize + dr) as usize, (c0 as isize + dc) as usize);
        let view = whole.slice(s![r0..r0 + crop, c0..c0 + crop]);
        if flip {
            view.slice(s![.., ..;-1]).to_owned()
        } else {
            view.to_owned()
        }
    };
    for chip in &train {
        images.push(window(chip, 0, 0, false));
    }
    for (k, chip) in train.iter().enumerate() {
        let draws = augment.draws(plan.spec.seed, k);
        assert_eq!(draws.len(), 6);
        for draw in draws {
            images.push(window(chip, draw.shift.0, draw.shift.1, draw.flip));
            labels.push(chip.class_index);
        }
    }
    let x_train = matrix(&plan, augmented, &images);
    let test_images: Vec<Array2<f64>> = dataset
        .chips_in(Split::Test)
        .map(|chip| window(chip, 0, 0, false))
        .collect();
    let x_test = matrix(&plan, augmented, &test_images);
    let refit = refit_and_test(
        x_train.view(),
        &labels,
        x_test.view(),
        &y_test,
        dataset.classes.len(),
        &plan.grid[0].svm,
        &FeatureTransform {
            column_weights: None,
            standardize: plan.spec.svm.standardize,
            pca: config.pca,
        },
        plan.spec.svm.backend,
        None,
    )
    .expect("refit");

    // `svm.test = "all"`: both settings have a test run, whichever won by CV.
    let hash = config_hash(&digest, &plan.params_of(augmented, 0, "test"));
    let (uuid, _) = store
        .run_by_hash(experiment, &hash)
        .expect("q")
        .expect("the augmented setting's test run");
    let plain = config_hash(&digest, &plan.params_of(1 - augmented, 0, "test"));
    assert!(store.run_by_hash(experiment, &plain).expect("q").is_some());
    let summary = std::fs::read_to_string(
        outcome
            .report
            .as_ref()
            .expect("report")
            .index_html
            .with_file_name("summary.md"),
    )
    .expect("summary.md");
    assert!(
        summary.contains("test accuracy %") && summary.contains("chosen by mean CV"),
        "{summary}"
    );
    let test_run = store.run(&uuid).expect("test run");
    for (name, value) in refit.evaluation.metrics.named() {
        assert_eq!(
            test_run.metric(&format!("test_{name}"), 0),
            Some(value),
            "{name}"
        );
    }
    assert_eq!(
        test_run.metric("support_vectors", 0),
        Some(refit.evaluation.support_vectors as f64)
    );
    // Every test chip is predicted once: the test split is not augmented.
    assert_eq!(
        store.predictions(&uuid).expect("predictions").len(),
        y_test.len()
    );
}

#[test]
fn bad_augmentation_and_normalisation_values_name_the_key() {
    let dir = tempfile::tempdir().expect("temp");
    let path = dir.path().join("bad.toml");
    for (line, needles) in [
        (
            r#"augment = "copies=2:flips=range""#,
            &["`preprocess.augment`", "shadow"][..],
        ),
        (
            r#"augment = { copies = 2 }"#,
            &["`preprocess.augment`", "no transform"][..],
        ),
        (
            r#"augment = { copies = [], shifts = 1 }"#,
            &["`preprocess.augment.copies`", "empty"][..],
        ),
        (
            r#"augment = ["copies=8:shifts=1", "shifts=1:copies=8"]"#,
            &["`preprocess.augment`"][..],
        ),
        (
            r#"normalize = "L2""#,
            &["`preprocess.normalize`", "`L2`", "zscore"][..],
        ),
        (r#"normalize = 2"#, &["`preprocess.normalize`"][..]),
    ] {
        let text = SPEC
            .replace(
                r#"augment = ["none", { copies = 6, shifts = 1, flips = "azimuth" }]"#,
                "",
            )
            .replace("normalize = \"l2\"", line);
        let err = Spec::parse(&text, &path)
            .and_then(|spec| Plan::new(spec, &path, text.clone()))
            .expect_err(line)
            .to_string();
        for needle in needles {
            assert!(err.contains(needle), "{line}: {err}");
        }
    }
}
