//! Feature fusion in a study: a configuration's features are its methods' vectors side
//! by side, each block scaled per chip as asked, and its standardised features weighted
//! by `w_b / √d_b`; the recorded test scores are those of a refit computed here from
//! the methods run one by one.

use ndarray::Array2;
use sarlab_features::{FeatureMethod, HogParams, RawParams};
use sarlab_io::{Dataset, DatasetIndex, Split};
use sarlab_study::{Plan, Shard, Silent, Spec, Study};
use sarlab_svm::{FeatureTransform, refit_and_test};
use sarlab_track::{Store, config_hash};

const SPEC: &str = r#"
name = "fusion"
seed = 5

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

[[features]]
method = "fusion"
combine = ["raw", "hog"]
block_norm = "l2"
weights = [[1, 1], [2, 0.5]]
"raw.downsample" = 3
"hog.pixels_per_cell" = 6

[svm]
C = [10]
gamma = ["scale"]
folds = 3
test = "all"
"#;

fn plan(dir: &std::path::Path, text: &str) -> Result<Plan, String> {
    let text = text.replace(
        "path = \"data\"",
        &format!("path = {:?}", dir.join("data").display().to_string()),
    );
    let path = dir.join("fusion.toml");
    std::fs::write(&path, &text).expect("write the spec");
    Spec::parse(&text, &path)
        .and_then(|spec| Plan::new(spec, &path, text.clone()))
        .map_err(|e| {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                text.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            text
        })
}

fn unit(mut v: Vec<f64>) -> Vec<f64> {
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

#[test]
fn fused_blocks_and_their_weights_reach_the_refit() {
    let dir = tempfile::tempdir().expect("temp");
    let plan = plan(dir.path(), SPEC).expect("plan");
    assert_eq!(plan.features.len(), 2);
    let recorded = |fi: usize, key: &str| {
        plan.features[fi]
            .params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.to_string())
    };
    assert_eq!(recorded(0, "fusion.combine").as_deref(), Some("raw,hog"));
    assert_eq!(recorded(1, "fusion.weights").as_deref(), Some("2,0.5"));
    assert_eq!(
        recorded(0, "fusion.hog.pixels_per_cell").as_deref(),
        Some("6")
    );

    let mut store = Store::open(&dir.path().join("runs.db")).expect("db");
    let outcome = Study {
        shard: Shard::all(),
        force: false,
        reports: dir.path().join("reports"),
        models: dir.path().join("models"),
        version: "test".to_owned(),
        build_commit: None,
        kernel_memory: Default::default(),
    }
    .run(&plan, &mut store, &Silent)
    .expect("study");
    let digest = store.run(&outcome.run).expect("study run").tags["dataset_digest"].clone();
    let experiment = store.experiment("fusion").expect("experiment");

    let dataset: Dataset = DatasetIndex::scan(&plan.spec.dataset.path, &plan.dataset_options())
        .expect("scan")
        .load(&|| {})
        .expect("load");
    let raw = FeatureMethod::Raw(RawParams { downsample: 3 });
    let hog = FeatureMethod::Hog(HogParams {
        pixels_per_cell: (6, 6),
        ..HogParams::default()
    });
    let (d_raw, d_hog) = (
        raw.output_len(30, 30).expect("raw"),
        hog.output_len(30, 30).expect("hog"),
    );
    let features = |split: Split| -> (Array2<f64>, Vec<usize>) {
        let chips: Vec<_> = dataset.chips_in(split).collect();
        let config = &plan.features[0];
        let mut rows = Vec::new();
        for chip in &chips {
            let image = config.preprocess.apply(chip.to_f64().view()).expect("pre");
            rows.extend(unit(raw.extract(image.view()).expect("raw")));
            rows.extend(unit(hog.extract(image.view()).expect("hog")));
        }
        let x = Array2::from_shape_vec((chips.len(), d_raw + d_hog), rows).expect("matrix");
        (x, chips.iter().map(|c| c.class_index).collect())
    };
    let (x_train, y_train) = features(Split::Train);
    let (x_test, y_test) = features(Split::Test);

    for (fi, (w_raw, w_hog)) in [(1.0, 1.0), (2.0, 0.5)].into_iter().enumerate() {
        let weights: Vec<f64> = std::iter::repeat_n(w_raw / (d_raw as f64).sqrt(), d_raw)
            .chain(std::iter::repeat_n(w_hog / (d_hog as f64).sqrt(), d_hog))
            .collect();
        let refit = refit_and_test(
            x_train.view(),
            &y_train,
            x_test.view(),
            &y_test,
            dataset.classes.len(),
            &plan.grid[0].svm,
            &FeatureTransform {
                standardize: true,
                column_weights: Some(weights.into()),
                pca: None,
            },
            plan.spec.svm.backend,
            None,
        )
        .expect("refit");
        let hash = config_hash(&digest, &plan.params_of(fi, 0, "test"));
        let (uuid, _) = store
            .run_by_hash(experiment, &hash)
            .expect("q")
            .expect("test run");
        let run = store.run(&uuid).expect("run");
        for (name, value) in refit.evaluation.metrics.named() {
            assert_eq!(
                run.metric(&format!("test_{name}"), 0),
                Some(value),
                "{fi} {name}"
            );
        }
        assert_eq!(
            run.metric("support_vectors", 0),
            Some(refit.evaluation.support_vectors as f64),
            "{fi}"
        );
    }
}

#[test]
fn bad_fusion_blocks_name_the_key() {
    let dir = tempfile::tempdir().expect("temp");
    for (from, to, needles) in [
        (
            "combine = [\"raw\", \"hog\"]\n",
            "",
            &["needs `combine`"][..],
        ),
        (
            "combine = [\"raw\", \"hog\"]",
            "combine = [\"hog\"]",
            &["`combine`", "two or more"][..],
        ),
        (
            "combine = [\"raw\", \"hog\"]",
            "combine = [\"raw\", \"sift\"]",
            &["`combine`", "`sift`"][..],
        ),
        (
            "weights = [[1, 1], [2, 0.5]]",
            "weights = [1, 2, 3]",
            &["`features[0].weights`", "one per method"][..],
        ),
        (
            "\"hog.pixels_per_cell\" = 6",
            "\"hog.pixel_per_cell\" = 6",
            &["`features[0].hog.pixel_per_cell`", "hog.pixels_per_cell"][..],
        ),
        (
            "\"raw.downsample\" = 3",
            "\"raw.downsample\" = 0",
            &["`features[0].raw.downsample`", "at least 1"][..],
        ),
        (
            "test = \"all\"",
            "test = \"all\"\nstandardize = false",
            &["fusion", "`svm.standardize = true`"][..],
        ),
    ] {
        assert!(SPEC.contains(from), "{from}");
        let err = plan(dir.path(), &SPEC.replace(from, to)).expect_err(to);
        for needle in needles {
            assert!(err.contains(needle), "{to}: {err}");
        }
    }
}
