//! A model trained on sarlab's synthetic chips, saved and loaded: the round trip keeps
//! every decision bit; a truncated, altered or newer file, a chip of the wrong size or
//! band count, and a labelled input of other classes are clear errors or reports.

use std::path::{Path, PathBuf};

use ndarray::Array2;
use sarlab_features::FeatureMethod;
use sarlab_filter::Preprocess;
use sarlab_io::synth::{SynthConfig, write_dataset};
use sarlab_io::{DatasetIndex, DecodeOptions, Split};
use sarlab_model::inputs::{self, InputOptions};
use sarlab_model::output::Scores;
use sarlab_model::{InputChip, Model, ModelParts, header::Source};
use sarlab_svm::{Backend, FeatureTransform, Gamma, Kernel, SvmParams, refit_and_test};

const CROP: usize = 24;

struct Trained {
    _dir: tempfile::TempDir,
    root: PathBuf,
    data: PathBuf,
    model: Model,
    test_decisions: Array2<f64>,
}

/// A raw-pixel model on a small synthetic dataset, and the decision values its refit
/// gave the test split.
fn trained(kernel: Kernel) -> Trained {
    let dir = tempfile::tempdir().expect("temporary folder");
    let data = dir.path().join("data");
    let config = SynthConfig {
        seed: 3,
        chip_size: 32,
        train_per_class: 5,
        test_per_class: 2,
        ..SynthConfig::default()
    };
    write_dataset(&data, &config).expect("synthetic data");
    let dataset = DatasetIndex::scan(&data, &Default::default())
        .expect("scan")
        .load(&|| {})
        .expect("load");
    let preprocess = Preprocess {
        crop: Some(CROP),
        intensity: "db".parse().expect("intensity"),
        ..Preprocess::default()
    };
    let method = FeatureMethod::from_settings("raw", &[("downsample", "2")]).expect("raw");
    let split = |split: Split| {
        let chips: Vec<_> = dataset.chips_in(split).collect();
        let x = method
            .extract_with(
                chips.len(),
                |k| {
                    preprocess
                        .apply(chips[k].to_f64().view())
                        .map_err(sarlab_model::Error::from)
                },
                &|| {},
            )
            .expect("features");
        let y: Vec<usize> = chips.iter().map(|c| c.class_index).collect();
        (x, y)
    };
    let ((x_train, y_train), (x_test, y_test)) = (split(Split::Train), split(Split::Test));
    let params = SvmParams {
        kernel,
        gamma: Gamma::Scale,
        degree: 2,
        ..SvmParams::default()
    };
    let refit = refit_and_test(
        x_train.view(),
        &y_train,
        x_test.view(),
        &y_test,
        dataset.classes.len(),
        &params,
        &FeatureTransform {
            column_weights: None,
            standardize: true,
            pca: None,
        },
        Backend::Sarlab,
        Some(9),
    )
    .expect("refit");
    let model = Model::new(ModelParts {
        classes: dataset.classes.clone(),
        source: Source {
            experiment: "guard".to_owned(),
            ..Source::default()
        },
        sarlab_version: "test".to_owned(),
        build: "test".to_owned(),
        chip_size: None,
        params,
        preprocess,
        method,
        decode: DecodeOptions::default(),
        fitted: refit.model,
    })
    .expect("model");
    Trained {
        root: dir.path().to_path_buf(),
        _dir: dir,
        data,
        model,
        test_decisions: refit.predictions.decision_values,
    }
}

fn test_chips(data: &Path) -> Vec<InputChip> {
    inputs::collect(
        &[data.to_path_buf()],
        &InputOptions {
            split: Some(Split::Test),
            ..InputOptions::default()
        },
    )
    .expect("inputs")
    .chips
}

fn decisions(model: &Model, chips: &[InputChip]) -> Array2<f64> {
    let mut rows = Vec::new();
    model
        .predict_chips(chips, false, |block| {
            rows.extend(block.into_iter().flat_map(|p| p.decision_values));
            Ok(())
        })
        .expect("predict");
    Array2::from_shape_vec((chips.len(), rows.len() / chips.len()), rows).expect("rows")
}

#[test]
fn a_saved_model_decides_as_the_refit_did_for_every_kernel() {
    for kernel in Kernel::ALL {
        let t = trained(kernel);
        let path = t.root.join("m.safetensors");
        let sha = t.model.save(&path).expect("save");
        assert_eq!(sha, sarlab_io::sha256_hex(&std::fs::read(&path).unwrap()));
        let loaded = Model::load(&path).expect("load");
        assert_eq!(loaded.header, t.model.header, "{kernel}");
        assert_eq!(
            loaded.fitted.classifier.svc().map(|s| &s.machines),
            t.model.fitted.classifier.svc().map(|s| &s.machines)
        );
        assert_eq!(loaded.fitted.platt, t.model.fitted.platt);
        let chips = test_chips(&t.data);
        let got = decisions(&loaded, &chips);
        let bits = |a: &Array2<f64>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&got), bits(&t.test_decisions), "{kernel}");
        // The file's bytes are a function of the model.
        assert_eq!(loaded.to_bytes().unwrap(), std::fs::read(&path).unwrap());
    }
}

#[test]
fn damaged_altered_and_newer_files_are_refused_naming_the_file() {
    let t = trained(Kernel::Rbf);
    let path = t.root.join("m.safetensors");
    t.model.save(&path).expect("save");
    let bytes = std::fs::read(&path).expect("read");
    let error_of = |bytes: &[u8], name: &str| {
        let p = t.root.join(name);
        std::fs::write(&p, bytes).expect("write");
        let e = Model::load(&p).expect_err(name).to_string();
        assert!(e.contains(name), "{e}");
        e
    };
    let truncated = error_of(&bytes[..bytes.len() / 2], "truncated.safetensors");
    assert!(truncated.contains("truncated model file"), "{truncated}");
    let mut altered = bytes.clone();
    let last = altered.len() - 3;
    altered[last] ^= 0x40;
    let checksum = error_of(&altered, "altered.safetensors");
    assert!(checksum.contains("checksum does not match"), "{checksum}");
    // A newer format version: the same file with its version raised.
    let length = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = std::str::from_utf8(&bytes[8..8 + length]).unwrap();
    let newer_header = header.replace("\"format_version\":\"1\"", "\"format_version\":\"7\"");
    assert_ne!(newer_header, header);
    let mut newer = (newer_header.len() as u64).to_le_bytes().to_vec();
    newer.extend_from_slice(newer_header.as_bytes());
    newer.extend_from_slice(&bytes[8 + length..]);
    let version = error_of(&newer, "newer.safetensors");
    assert!(version.contains("version 7 is newer"), "{version}");
    let png = error_of(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "chip.png");
    assert!(png.contains("not a sarlab model"), "{png}");
    let missing = Model::load(&t.root.join("none.safetensors")).expect_err("missing");
    assert!(missing.to_string().contains("none.safetensors"));
}

#[test]
fn chips_the_model_cannot_take_are_errors_naming_the_file_and_the_expectation() {
    let t = trained(Kernel::Linear);
    let small = t.root.join("small.png");
    image::GrayImage::from_pixel(16, 20, image::Luma([90u8]))
        .save(&small)
        .expect("png");
    let chip = |path: &Path| InputChip {
        path: path.to_path_buf(),
        name: path.display().to_string(),
        truth: None,
    };
    let e = t
        .model
        .predict_chips(&[chip(&small)], false, |_| Ok(()))
        .expect_err("too small")
        .to_string();
    assert!(
        e.contains("small.png") && e.contains("20x16") && e.contains("at least 24x24"),
        "{e}"
    );
    // Three float bands where the model reads single-band images.
    let bands = t.root.join("bands.tif");
    let mut file = std::fs::File::create(&bands).expect("tiff");
    let values = vec![0.5f32; 32 * 32 * 3];
    tiff::encoder::TiffEncoder::new(&mut file)
        .expect("encoder")
        .write_image::<tiff::encoder::colortype::RGB32Float>(32, 32, &values)
        .expect("write");
    let e = t
        .model
        .predict_chips(&[chip(&bands)], false, |_| Ok(()))
        .expect_err("bands")
        .to_string();
    assert!(
        e.contains("bands.tif") && e.contains("3 bands") && e.contains("single-band"),
        "{e}"
    );
    let e = t
        .model
        .predict_chips(&[chip(&t.root.join("absent.png"))], false, |_| Ok(()))
        .expect_err("absent")
        .to_string();
    assert!(e.contains("absent.png"), "{e}");
}

#[test]
fn labelled_chips_of_classes_the_model_does_not_know_are_reported_not_scored() {
    let t = trained(Kernel::Rbf);
    let mut chips = test_chips(&t.data);
    let known = chips.len();
    for chip in chips.iter_mut().take(3) {
        chip.truth = Some("bulldozer_2".to_owned());
    }
    let mut scores = Scores::default();
    t.model
        .predict_chips(&chips, true, |block| {
            for p in &block {
                scores.add(&t.model, p);
                let total: f64 = p.probabilities.as_ref().expect("p").iter().sum();
                assert!((total - 1.0).abs() < 1e-9);
            }
            Ok(())
        })
        .expect("predict");
    assert_eq!(scores.unknown_classes.get("bulldozer_2"), Some(&3));
    assert_eq!(scores.scored(), known - 3);
    assert!(scores.metrics(&t.model).is_some());
}
