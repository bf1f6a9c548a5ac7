//! Per-chip 2-D FFT and Butterworth low-pass at 128², 158² and 192² on one thread,
//! against numpy measured in the same run (`scripts/bench/fft_numpy.py`, through
//! `$SARLAB_PYTHON`, default `python3`; skipped with the reason when numpy is missing),
//! and the whole MSTAR SOC JPEG set filtered on all cores (chips/s; skipped when
//! `../shared/datasets/mstar-soc` is absent).
//!
//! `cargo bench -p sarlab-filter --bench fft` (everything), or
//! `cargo bench -p sarlab-filter --bench fft -- numpy-only` (only the comparison table;
//! the FFTs here use no thread pool, so "1 thread" needs no setup).

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ndarray::Array2;
use rayon::prelude::*;
use sarlab_filter::fft;
use sarlab_filter::frequency::FrequencyFilter;

const SIZES: [usize; 3] = [128, 158, 192];

fn test_image(n: usize) -> Array2<f64> {
    Array2::from_shape_fn((n, n), |(r, c)| {
        let (rf, cf) = (r as f64, c as f64);
        (0.37 * rf + 0.11 * cf).sin()
            + (0.05 * rf * cf).cos()
            + ((r * 31 + c * 17) % 13) as f64 / 13.0
    })
}

fn butterworth() -> FrequencyFilter {
    "butterworth:lowpass:cutoff=0.25:units=nyquist:order=2"
        .parse()
        .expect("valid filter")
}

/// Best wall time of `f` over 7 batches, in microseconds per call (on a shared machine
/// the minimum is the least noisy estimate; numpy's side is measured the same way).
fn best_us(mut f: impl FnMut(), per_batch: usize) -> f64 {
    let mut times: Vec<f64> = (0..7)
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
    let mut group = c.benchmark_group("per chip, 1 thread");
    for n in SIZES {
        let x = test_image(n);
        let prepared = butterworth().prepare(n, n).expect("prepare");
        group.bench_function(format!("fft2 (full spectrum) {n}x{n}"), |b| {
            b.iter(|| fft::fft2_real(black_box(x.view())))
        });
        group.bench_function(format!("rfft2 {n}x{n}"), |b| {
            b.iter(|| fft::rfft2(black_box(x.view())))
        });
        group.bench_function(format!("butterworth low-pass {n}x{n}"), |b| {
            b.iter(|| prepared.apply(black_box(x.view())).expect("filter"))
        });
        group.bench_function(format!("butterworth low-pass incl. mask {n}x{n}"), |b| {
            b.iter(|| butterworth().apply(black_box(x.view())).expect("filter"))
        });
    }
    group.finish();
    compare_with_numpy();
}

/// Times both sides now, on this machine, and prints the ratios.
fn compare_with_numpy() {
    let sizes: Vec<String> = SIZES.iter().map(|n| n.to_string()).collect();
    let Some(numpy) =
        sarlab_testkit::peer::run_json("numpy", "numpy", "scripts/bench/fft_numpy.py", &sizes)
    else {
        return;
    };
    println!(
        "\nsingle thread, µs per chip (best of 7 batches), numpy {}:",
        numpy["numpy"]
    );
    println!(
        "{:>6} {:>28} {:>10} {:>10} {:>8}",
        "size", "operation", "sarlab", "numpy", "ratio"
    );
    for n in SIZES {
        let x = test_image(n);
        let prepared = butterworth().prepare(n, n).expect("prepare");
        let batch = (200_000 / (n * n)).max(20);
        let ours = [
            (
                "fft2",
                best_us(|| drop(black_box(fft::fft2_real(x.view()))), batch),
            ),
            (
                "rfft2",
                best_us(|| drop(black_box(fft::rfft2(x.view()))), batch),
            ),
            (
                "butterworth",
                best_us(|| drop(black_box(prepared.apply(x.view()))), batch),
            ),
            (
                "butterworth_with_mask",
                best_us(|| drop(black_box(butterworth().apply(x.view()))), batch),
            ),
        ];
        for (name, us) in ours {
            let theirs = numpy[n.to_string()][name].as_f64().unwrap_or(f64::NAN);
            println!(
                "{n:>6} {name:>28} {us:>10.1} {theirs:>10.1} {:>7.2}x",
                theirs / us
            );
        }
    }
}

fn mstar_set(c: &mut Criterion) {
    let Some(root) = sarlab_testkit::shared_dataset("mstar-soc") else {
        return;
    };
    let index =
        sarlab_io::DatasetIndex::scan(&root, &sarlab_io::DatasetOptions::default()).expect("scan");
    let dataset = index.load(&|| {}).expect("load");
    let chips: Vec<Array2<f64>> = dataset.chips.iter().map(|c| c.to_f64()).collect();
    let filter = butterworth();
    let mut group = c.benchmark_group("MSTAR SOC set (5171 chips, native sizes), all cores");
    group.throughput(Throughput::Elements(chips.len() as u64));
    group.sample_size(10);
    group.bench_function("butterworth low-pass, masks prepared per size", |b| {
        b.iter(|| {
            let sizes: Vec<(usize, usize)> = {
                let mut s: Vec<_> = chips.iter().map(|c| c.dim()).collect();
                s.sort_unstable();
                s.dedup();
                s
            };
            let prepared: HashMap<(usize, usize), _> = sizes
                .into_iter()
                .map(|(r, c)| ((r, c), filter.prepare(r, c).expect("prepare")))
                .collect();
            chips
                .par_iter()
                .map(|chip| prepared[&chip.dim()].apply(chip.view()).expect("filter"))
                .collect::<Vec<_>>()
        })
    });
    group.finish();
}

criterion_group!(benches, per_chip, mstar_set);
criterion_main!(benches);
