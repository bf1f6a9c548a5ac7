//! Datasets whose chips vary in size (ship patches): `preprocess.pad` lets chips
//! smaller than the crop in, `preprocess.resize` scales every chip to one size; both
//! are recorded, and the features equal the stages applied by hand to the whole chip.

use ndarray::Array2;
use sarlab_filter::pad::{PadMode, pad_to};
use sarlab_filter::resize::resize;
use sarlab_io::{DatasetIndex, Split, npy};
use sarlab_study::{Plan, Shard, Silent, Spec, Study};
use sarlab_track::{Store, config_hash};

/// A bright blob on a textured background, of `rows × cols`, for class `class`.
fn chip(rows: usize, cols: usize, class: usize, k: usize) -> Vec<f64> {
    let mut v = Vec::with_capacity(rows * cols);
    for r in 0..rows {
        for c in 0..cols {
            let (dr, dc) = (r as f64 - rows as f64 / 2.0, c as f64 - cols as f64 / 2.0);
            let spread = if class == 0 { 3.0 } else { 6.0 };
            let blob = (-(dr * dr + dc * dc) / (2.0 * spread * spread)).exp();
            let texture = ((r * 7 + c * 13 + k * 5) % 11) as f64 / 40.0;
            v.push(0.1 + 0.8 * blob + texture);
        }
    }
    v
}

/// Two classes, chips from 9x12 to 30x27, as `.npy` files in split/class folders.
fn write_dataset(root: &std::path::Path) {
    let sizes = [(9, 12), (14, 14), (30, 27), (20, 11), (25, 25), (12, 30)];
    for split in ["train", "test"] {
        for class in 0..2 {
            let dir = root.join(split).join(format!("class{class}"));
            std::fs::create_dir_all(&dir).expect("mkdir");
            let count = if split == "train" { 6 } else { 3 };
            for k in 0..count {
                let (rows, cols) = sizes[(k + class) % sizes.len()];
                let bytes = npy::encode_f64(&[rows, cols], &chip(rows, cols, class, k));
                std::fs::write(dir.join(format!("c{k}.npy")), bytes).expect("write");
            }
        }
    }
}

#[test]
fn chips_of_many_sizes_are_padded_or_resized_to_one() {
    let dir = tempfile::tempdir().expect("temp");
    write_dataset(&dir.path().join("data"));
    let text = format!(
        r#"
name = "sizes"
seed = 3

[dataset]
source = "folder"
path = {:?}

[preprocess]
crop = 16
pad = "reflect"
resize = [12, 20]

[[features]]
method = "raw"

[svm]
C = [10]
folds = 2
"#,
        dir.path().join("data").display().to_string()
    );
    let path = dir.path().join("sizes.toml");
    std::fs::write(&path, &text).expect("spec");
    let plan = Plan::new(Spec::parse(&text, &path).expect("spec"), &path, text).expect("plan");
    assert_eq!(plan.features.len(), 2);
    let params = &plan.features[0].params;
    assert!(
        params
            .iter()
            .any(|(k, v)| k == "pad" && v.to_string() == "reflect")
    );
    assert!(
        params
            .iter()
            .any(|(k, v)| k == "resize" && v.to_string() == "12")
    );

    let mut store = Store::open(&dir.path().join("runs.db")).expect("db");
    let study = Study {
        shard: Shard::all(),
        force: false,
        reports: dir.path().join("reports"),
        models: dir.path().join("models"),
        version: "test".to_owned(),
        build_commit: None,
        kernel_memory: Default::default(),
    };
    let outcome = study.run(&plan, &mut store, &Silent).expect("study");
    let digest = store.run(&outcome.run).expect("run").tags["dataset_digest"].clone();
    let experiment = store.experiment("sizes").expect("experiment");
    for fi in 0..2 {
        let hash = config_hash(&digest, &plan.params_of(fi, 0, "cv"));
        assert!(store.run_by_hash(experiment, &hash).expect("q").is_some());
    }

    // The loaded features equal crop → pad → resize done here on the whole chip.
    let dataset = DatasetIndex::scan(&plan.spec.dataset.path, &plan.dataset_options())
        .expect("scan")
        .load(&|| {})
        .expect("load");
    for config in &plan.features {
        let side = config.preprocess.resize.expect("resize");
        for chip in dataset.chips_in(Split::Train) {
            let whole = chip.to_f64();
            let (rows, cols) = whole.dim();
            let take = |n: usize| {
                if n < 16 {
                    0..n
                } else {
                    (n - 16) / 2..(n - 16) / 2 + 16
                }
            };
            let window: Array2<f64> = whole.slice(ndarray::s![take(rows), take(cols)]).to_owned();
            let padded = pad_to(window.view(), 16, 16, PadMode::Reflect);
            let expected = resize(padded.view(), side, side).expect("resize");
            let ours = sarlab_study::prepared(&config.preprocess, &dataset, chip).expect("chip");
            assert_eq!(ours, expected, "{}", dataset.chip_label(chip));
        }
    }
}

#[test]
fn without_pad_small_chips_are_named_and_pad_needs_a_crop() {
    let dir = tempfile::tempdir().expect("temp");
    write_dataset(&dir.path().join("data"));
    let spec = |pre: &str| {
        format!(
            "name = \"sizes\"\nseed = 1\n[dataset]\nsource = \"folder\"\npath = {:?}\n[preprocess]\n{pre}\n[[features]]\nmethod = \"raw\"\n[svm]\nC = [1]\nfolds = 2\n",
            dir.path().join("data").display().to_string()
        )
    };
    let path = dir.path().join("s.toml");
    let text = spec("pad = \"zero\"");
    let err = Spec::parse(&text, &path)
        .and_then(|s| Plan::new(s, &path, text.clone()))
        .expect_err("pad without crop")
        .to_string();
    assert!(
        err.contains("`preprocess.pad`") && err.contains("preprocess.crop"),
        "{err}"
    );
    let text = spec("crop = 16\npad = \"edge\"");
    let err = Spec::parse(&text, &path)
        .and_then(|s| Plan::new(s, &path, text.clone()))
        .expect_err("unknown pad")
        .to_string();
    assert!(err.contains("unknown pad mode `edge`"), "{err}");
    let text = spec("crop = 16");
    let plan = Plan::new(Spec::parse(&text, &path).expect("spec"), &path, text).expect("plan");
    let mut store = Store::open(&dir.path().join("runs.db")).expect("db");
    let study = Study {
        shard: Shard::all(),
        force: false,
        reports: dir.path().join("reports"),
        models: dir.path().join("models"),
        version: "test".to_owned(),
        build_commit: None,
        kernel_memory: Default::default(),
    };
    let err = study
        .run(&plan, &mut store, &Silent)
        .expect_err("chips smaller than the crop");
    let mut err_text = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        err_text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    let err = err_text;
    assert!(
        err.contains("does not fit") && err.contains("9x12"),
        "{err}"
    );
}
