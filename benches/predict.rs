//! Deployment speed of saved models (issue 24): the raw-pixel and HOG models of a study
//! on MSTAR SOC (crop 64, RBF, C = 10) predict 10,000 chip files — the 2,425 test chips
//! read over and over, as JPEG files through sarlab's decoder — and are loaded from
//! their files. Criterion times `Model::load` and `Model::predict_chips` over the
//! 10,000 chips (throughput in chips/s); beside it, `sarlab predict` on the same
//! 10,000 files runs under `/usr/bin/time -v` for its wall time and peak memory, and
//! the model sizes are printed.
//!
//! `cargo bench --bench predict`. Uses `../shared/datasets/mstar-soc` (or
//! `$SARLAB_DATASETS/mstar-soc`); without it, sarlab's synthetic dataset at 128×128
//! pixels stands in, and says so.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sarlab_io::Split;
use sarlab_model::inputs::{self, InputOptions};
use sarlab_model::{InputChip, Model};
use sarlab_study::{Plan, Shard, Silent, Spec, Study};
use sarlab_track::Store;

const CHIPS: usize = 10_000;

const SPEC: &str = r#"
name = "predict-bench"
seed = 1

[dataset]
source = "folder"
path = "DATA"

[preprocess]
crop = 64

[[features]]
method = "raw"
downsample = 2

[[features]]
method = "hog"
pixels_per_cell = 8
cells_per_block = 2

[svm]
C = 10
gamma = "scale"
folds = 2
"#;

struct Setup {
    _dir: tempfile::TempDir,
    models: Vec<(String, PathBuf)>,
    chips: Vec<InputChip>,
    list: PathBuf,
}

/// The dataset: MSTAR SOC when present, else a synthetic one of MSTAR's chip size.
fn dataset(dir: &Path) -> PathBuf {
    if let Some(mstar) = sarlab_testkit::shared_dataset("mstar-soc") {
        println!("dataset: MSTAR SOC at {}", mstar.display());
        return mstar;
    }
    let data = dir.join("synthetic");
    let config = sarlab_io::synth::SynthConfig {
        chip_size: 128,
        train_per_class: 60,
        test_per_class: 40,
        ..Default::default()
    };
    sarlab_io::synth::write_dataset(&data, &config).expect("synthetic dataset");
    println!("dataset: synthetic 128x128 chips (MSTAR SOC absent)");
    data
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("temporary folder");
    let data = dataset(dir.path());
    let text = SPEC.replace("DATA", &data.display().to_string());
    let spec_path = dir.path().join("bench.toml");
    std::fs::write(&spec_path, &text).expect("spec");
    let plan = Plan::new(
        Spec::parse(&text, &spec_path).expect("spec"),
        &spec_path,
        text.clone(),
    )
    .expect("plan");
    let mut store = Store::open(&dir.path().join("bench.db")).expect("db");
    let study = Study {
        shard: Shard::all(),
        force: false,
        reports: dir.path().join("reports"),
        models: dir.path().join("models"),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        build_commit: None,
        kernel_memory: Default::default(),
    };
    let start = Instant::now();
    study.run(&plan, &mut store, &Silent).expect("study");
    println!(
        "study (models of raw and HOG): {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let models = store
        .model_artifacts(Some("predict-bench"))
        .expect("models")
        .into_iter()
        .map(|m| {
            let model = Model::load(Path::new(&m.path)).expect("load");
            (model.header.features.method.clone(), PathBuf::from(m.path))
        })
        .collect();
    let test = inputs::collect(
        &[data],
        &InputOptions {
            split: Some(Split::Test),
            ..InputOptions::default()
        },
    )
    .expect("inputs")
    .chips;
    let chips: Vec<InputChip> = test.iter().cycle().take(CHIPS).cloned().collect();
    let list = dir.path().join("chips");
    std::fs::create_dir_all(&list).expect("mkdir");
    // The CLI run reads the same 10,000 files: links to the test chips.
    for (k, chip) in chips.iter().enumerate() {
        let ext = chip
            .path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("jpg");
        std::os::unix::fs::symlink(&chip.path, list.join(format!("{k:05}.{ext}")))
            .expect("symlink");
    }
    Setup {
        _dir: dir,
        models,
        chips,
        list,
    }
}

/// `sarlab predict MODEL DIR --out FILE` under `/usr/bin/time -v`: (seconds, peak RSS MB).
fn cli_run(model: &Path, chips: &Path, out: &Path) -> Option<(f64, f64)> {
    let binary = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/sarlab");
    let binary = std::env::var_os("CARGO_TARGET_DIR")
        .map(|d| PathBuf::from(d).join("release/sarlab"))
        .filter(|p| p.is_file())
        .unwrap_or(binary);
    if !binary.is_file() {
        println!(
            "skipped the CLI run: no release binary at {}",
            binary.display()
        );
        return None;
    }
    let start = Instant::now();
    let output = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(&binary)
        .arg("predict")
        .arg(model)
        .arg(chips)
        .arg("--out")
        .arg(out)
        .output()
        .ok()?;
    let seconds = start.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        println!("the CLI run failed:\n{stderr}");
        return None;
    }
    let kb: f64 = stderr
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.trim().parse().ok())?;
    Some((seconds, kb / 1024.0))
}

fn bench(c: &mut Criterion) {
    let setup = setup();
    let mut group = c.benchmark_group("predict");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .throughput(Throughput::Elements(CHIPS as u64));
    for (method, path) in &setup.models {
        let size = std::fs::metadata(path).expect("model file").len();
        let model = Model::load(path).expect("load");
        let svc = model
            .fitted
            .classifier
            .svc()
            .expect("the study fits kernel SVMs");
        println!(
            "{method}: model {:.2} MB ({} support vectors × {} features, {} pair machines)",
            size as f64 / 1e6,
            svc.support_vectors.nrows(),
            svc.support_vectors.ncols(),
            svc.machines.pairs.len()
        );
        group.bench_function(format!("{method}/{CHIPS} chips"), |b| {
            b.iter(|| {
                let mut n = 0;
                model
                    .predict_chips(&setup.chips, false, |block| {
                        n += block.len();
                        Ok(())
                    })
                    .expect("predict");
                assert_eq!(n, CHIPS);
            })
        });
        if let Some((seconds, mb)) = cli_run(path, &setup.list, &setup._dir.path().join("p.csv")) {
            println!(
                "{method}: `sarlab predict` of {CHIPS} files: {seconds:.2} s ({:.0} chips/s including process start and model load), peak RSS {mb:.0} MB",
                CHIPS as f64 / seconds
            );
        }
    }
    group.finish();
    let mut load = c.benchmark_group("load");
    load.sample_size(20);
    for (method, path) in &setup.models {
        load.bench_function(format!("{method} model"), |b| {
            b.iter(|| Model::load(path).expect("load"))
        });
    }
    load.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
