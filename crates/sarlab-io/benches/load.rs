//! Chip loading throughput (chips/s): the real MSTAR JPEG set and raw Phoenix chips
//! from `../shared/datasets` (skipped, with the reason printed, when absent), and a
//! synthetic Phoenix dataset generated here; each on all cores (rayon) and on one.
//!
//! `cargo bench -p sarlab-io --bench load`

use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sarlab_io::synth::{self, SynthConfig, SynthFileFormat};
use sarlab_io::{DatasetIndex, DatasetOptions, DecodeOptions};

fn shared(name: &str) -> Option<PathBuf> {
    sarlab_testkit::shared_dataset(name)
}

fn bench_dataset(c: &mut Criterion, name: &str, root: &Path) {
    let options = DatasetOptions {
        decode: DecodeOptions {
            verify_md5: true,
            band: None,
        },
        ..Default::default()
    };
    let chips = DatasetIndex::scan(root, &options)
        .expect("scan")
        .entries
        .len();
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(chips as u64));
    group.sample_size(10);
    let load = || {
        let index = DatasetIndex::scan(root, &options).expect("scan");
        let dataset = index.load(&|| {}).expect("load");
        assert_eq!(dataset.chips.len(), chips);
        dataset
    };
    group.bench_function("scan+load, all cores", |b| b.iter(load));
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool");
    group.bench_function("scan+load, 1 thread", |b| b.iter(|| one.install(load)));
    group.finish();
}

fn loading(c: &mut Criterion) {
    if let Some(root) = shared("mstar-soc") {
        bench_dataset(c, "mstar-soc jpeg (5171 chips)", &root);
    }
    if let Some(root) = shared("mstar-raw") {
        bench_dataset(c, "mstar-raw phoenix (5 chips, md5)", &root);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let synthetic = dir.path().join("phx");
    synth::write_dataset(
        &synthetic,
        &SynthConfig {
            chip_size: 128,
            train_per_class: 40,
            test_per_class: 40,
            file_format: SynthFileFormat::Phoenix,
            ..SynthConfig::default()
        },
    )
    .expect("synthetic phoenix dataset");
    bench_dataset(c, "synthetic phoenix 128x128 (640 chips, md5)", &synthetic);
}

criterion_group!(benches, loading);
criterion_main!(benches);
