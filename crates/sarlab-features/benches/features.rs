//! Per-chip feature extraction at 64×64 on one thread — HOG, a 12-filter Gabor bank,
//! spectral, raw — against scikit-image measured in the same run
//! (`scripts/bench/features_skimage.py`, through `$SARLAB_PYTHON`, default `python3`;
//! skipped with the reason when scikit-image is missing), and every method over the
//! whole MSTAR SOC JPEG set (64×64 centre crops) on all cores, in chips/s (skipped when
//! `../shared/datasets/mstar-soc` is absent).
//!
//! `cargo bench -p sarlab-features --bench features` (everything), or
//! `cargo bench -p sarlab-features --bench features -- skimage-only` (only the
//! comparison table; per-chip extraction uses no thread pool, so it is one thread).

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group};
use ndarray::{Array2, ArrayView2};
use sarlab_features::gabor::GaborBankParams;
use sarlab_features::spectral::SpectralParams;
use sarlab_features::{BlockNorm, FeatureMethod, HogParams, RawParams};

fn test_image(n: usize) -> Array2<f64> {
    let x = Array2::from_shape_fn((n, n), |(r, c)| {
        let (rf, cf) = (r as f64, c as f64);
        (0.37 * rf + 0.11 * cf).sin()
            + (0.05 * rf * cf).cos()
            + ((r * 31 + c * 17) % 13) as f64 / 13.0
    });
    // Non-negative, as chips are (the Python side scales the same way).
    let (lo, hi) = x
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    x.mapv(|v| (v - lo) / (hi - lo))
}

fn hog(blocks: usize) -> HogParams {
    HogParams {
        orientations: 9,
        pixels_per_cell: (8, 8),
        cells_per_block: (blocks, blocks),
        block_norm: BlockNorm::L2Hys,
        transform_sqrt: false,
    }
}

fn gabor(pool: usize) -> GaborBankParams {
    GaborBankParams {
        frequencies: vec![0.1, 0.2, 0.3],
        orientations: 4,
        bandwidth: 1.0,
        stats: true,
        pool,
    }
}

fn spectral() -> SpectralParams {
    SpectralParams {
        block: 24,
        rings: 0,
        wedges: 0,
        normalise: true,
    }
}

/// The methods compared, by the Python script's keys.
fn methods() -> Vec<(&'static str, FeatureMethod)> {
    vec![
        ("hog_2x2", FeatureMethod::Hog(hog(2))),
        ("hog_3x3", FeatureMethod::Hog(hog(3))),
        ("gabor_12", FeatureMethod::Gabor(gabor(0))),
        ("gabor_12_pooled", FeatureMethod::Gabor(gabor(8))),
        ("spectral_24", FeatureMethod::Spectral(spectral())),
    ]
}

/// Best wall time of `f` over 101 short batches, in microseconds per call (as the
/// Python side): on a shared machine with CPU steal, the minimum over many short
/// batches is the least noisy estimate of the uncontended cost.
fn best_us(mut f: impl FnMut(), per_batch: usize) -> f64 {
    // Warm caches, branch predictors and the core's clock first (timeit's repeats
    // after the first play that role on the Python side).
    let warm_up = Instant::now();
    while warm_up.elapsed().as_secs_f64() < 0.5 {
        f();
    }
    let mut times: Vec<f64> = (0..101)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..per_batch {
                f();
            }
            start.elapsed().as_secs_f64() / per_batch as f64 * 1e6
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[0]
}

fn per_chip(c: &mut Criterion) {
    let x = test_image(64);
    let mut group = c.benchmark_group("per 64x64 chip, 1 thread");
    for (name, method) in methods() {
        group.bench_function(name, |b| {
            b.iter(|| method.extract(black_box(x.view())).expect("extract"))
        });
    }
    let raw = FeatureMethod::Raw(RawParams::default());
    group.bench_function("raw", |b| {
        b.iter(|| raw.extract(black_box(x.view())).expect("extract"))
    });
    group.finish();
    compare_with_skimage();
}

/// Times both sides now, on this machine, and prints the ratios.
fn compare_with_skimage() {
    let Some(theirs) = sarlab_testkit::peer::run_json(
        "scikit-image",
        "scikit-image",
        "scripts/bench/features_skimage.py",
        &[],
    ) else {
        return;
    };
    println!(
        "\n64x64 chip, single thread, µs per chip (best of 101 short batches), scikit-image {} / numpy {}:",
        theirs["skimage"], theirs["numpy"]
    );
    println!(
        "{:>16} {:>6} {:>10} {:>12} {:>8}",
        "method", "dim", "sarlab", "scikit-image", "ratio"
    );
    let x = test_image(64);
    for (name, method) in methods() {
        let batch = if name.starts_with("gabor") { 2 } else { 20 };
        let ours = best_us(
            || drop(black_box(method.extract(x.view()).expect("extract"))),
            batch,
        );
        let reference = theirs[name].as_f64().unwrap_or(f64::NAN);
        println!(
            "{name:>16} {:>6} {ours:>10.1} {reference:>12.1} {:>7.1}x",
            method.output_len(64, 64).expect("fits"),
            reference / ours
        );
    }
}

fn mstar_set(c: &mut Criterion) {
    let Some(root) = sarlab_testkit::shared_dataset("mstar-soc") else {
        return;
    };
    let index =
        sarlab_io::DatasetIndex::scan(&root, &sarlab_io::DatasetOptions::default()).expect("scan");
    let dataset = index.load(&|| {}).expect("load");
    let crops: Vec<Array2<f64>> = dataset
        .chips
        .iter()
        .map(|chip| {
            let (r, c) = chip.size;
            let (r0, c0) = ((r - 64) / 2, (c - 64) / 2);
            chip.window_f64(r0..r0 + 64, c0..c0 + 64)
                .expect("whole chip kept")
        })
        .collect();
    let views: Vec<ArrayView2<'_, f64>> = crops.iter().map(|c| c.view()).collect();
    let mut group = c.benchmark_group(format!(
        "MSTAR SOC set ({} chips, 64x64 crops), {} threads",
        views.len(),
        rayon::current_num_threads()
    ));
    group.throughput(Throughput::Elements(views.len() as u64));
    group.sample_size(10);
    let mut all = methods();
    all.push(("raw", FeatureMethod::Raw(RawParams::default())));
    for (name, method) in all {
        if name == "gabor_12" || name == "hog_3x3" {
            continue;
        }
        group.bench_function(name, |b| {
            b.iter(|| {
                method
                    .extract_all(black_box(&views), &|| {})
                    .expect("extract")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, per_chip, mstar_set);

fn main() {
    if std::env::args().any(|a| a == "skimage-only") {
        compare_with_skimage();
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
