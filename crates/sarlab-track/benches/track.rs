//! The run store's two costs a researcher feels:
//!
//! * `log_run`: recording finished runs with 50 parameters (45 shared by the sweep, 5
//!   swept) and 100 metric values (20 keys × 5 per-fold steps, all different) and 5 tags
//!   into an on-disk WAL database that grows as the benchmark runs: one run per
//!   `BEGIN IMMEDIATE` transaction, and 25 per transaction as `sarlab run` records a
//!   feature method's grid (goal: < 1 ms per run amortised);
//! * `list_100k`: `sarlab runs list --filter EXPR` over 100 000 runs (8 typed params,
//!   9 metric values and 4 tags each): opening the database, counting every match and
//!   reading the first page of 50 (the command's default), for filters of several
//!   shapes (goal: < 200 ms).
//!
//! `cargo bench -p sarlab-track --bench track` (the 100 000-run database is built once,
//! in a temporary folder, before `list_100k`; about a minute).

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use criterion::{Criterion, criterion_group};
use sarlab_track::{Filter, Metric, NewRun, OrderBy, ParamValue, RunQuery, Store};

/// splitmix64: deterministic values without a random-number crate.
struct Values(u64);

impl Values {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn pick<'a>(&mut self, choices: &[&'a str]) -> &'a str {
        choices[(self.next() % choices.len() as u64) as usize]
    }
}

fn wide_run<'a>(
    experiment_id: i64,
    parent: &'a str,
    index: usize,
    values: &mut Values,
) -> NewRun<'a> {
    // As in a sweep: 45 settings the runs share (preprocessing, solver, seed, …) and
    // 5 swept ones; every metric value differs.
    let params = (0..50)
        .map(|p| {
            let value = match (p < 45, p % 3) {
                (true, 0) => ParamValue::Int(p as i64),
                (true, 1) => ParamValue::Real(p as f64 * 0.5),
                (true, _) => ParamValue::Text(format!("setting-{p}")),
                (false, 0) => ParamValue::Int(values.next() as i64 % 1000),
                (false, 1) => ParamValue::Real(values.unit()),
                (false, _) => {
                    ParamValue::Text(values.pick(&["rbf", "linear", "hog", "gabor"]).into())
                }
            };
            (format!("param_{p:02}"), value)
        })
        .collect();
    let metrics = (0..20)
        .flat_map(|k| (0..5).map(move |step| (k, step)))
        .map(|(k, step)| Metric::new(format!("metric_{k:02}"), values.unit(), step))
        .collect();
    let tags = ["git_commit", "git_dirty", "host", "stage", "sarlab_version"]
        .iter()
        .map(|key| ((*key).to_owned(), format!("{key}-{}", values.next() % 7)))
        .collect();
    NewRun {
        artifacts: Vec::new(),
        experiment_id,
        parent: Some(parent),
        name: format!("wide run {index}"),
        config_hash: format!("wide-{index}"),
        params,
        metrics,
        tags,
        start_ms: 1_795_000_000_000 + index as i64,
        end_ms: 1_795_000_000_500 + index as i64,
        predictions: Vec::new(),
    }
}

fn log_run(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let mut store = Store::open(&dir.path().join("runs.db")).expect("store");
    let experiment = store.experiment("bench").expect("experiment");
    let parent = store
        .start_run(experiment, None, "study", "study-hash", &[], &[])
        .expect("study run");
    let mut values = Values(7);
    let mut index = 0;
    let mut group = c.benchmark_group("track");
    group.bench_function("log_run 50 params + 100 metric values", |b| {
        b.iter(|| {
            index += 1;
            let run = wide_run(experiment, &parent, index, &mut values);
            black_box(store.record_finished_run(&run).expect("recorded"))
        });
    });
    // As `sarlab run` logs a feature method's grid: 25 runs in one transaction.
    group.throughput(criterion::Throughput::Elements(BATCH as u64));
    group.bench_function(
        "log_runs batch of 25, 50 params + 100 metric values each",
        |b| {
            b.iter(|| {
                let runs: Vec<NewRun<'_>> = (0..BATCH)
                    .map(|_| {
                        index += 1;
                        wide_run(experiment, &parent, index, &mut values)
                    })
                    .collect();
                black_box(store.record_finished_runs(&runs).expect("recorded"))
            });
        },
    );
    group.finish();
    println!("log_run: the database held {index} runs at the end");
}

const BATCH: usize = 25;
const BIG_RUNS: usize = 100_000;

/// A sweep-shaped database: 8 params, 9 metric values (5 per-fold steps) and 4 tags per run.
fn build_big_database(path: &Path) {
    let started = Instant::now();
    let mut store = Store::open(path).expect("store");
    let experiments = [
        store.experiment("mstar-hog").expect("experiment"),
        store.experiment("mstar-gabor").expect("experiment"),
    ];
    let parents: Vec<String> = experiments
        .iter()
        .map(|&e| {
            store
                .start_run(e, None, "study", &format!("study-{e}"), &[], &[])
                .expect("study run")
        })
        .collect();
    let mut values = Values(11);
    let c_values = [0.1, 1.0, 10.0, 100.0, 1000.0];
    let mut pending = Vec::new();
    for index in 0..BIG_RUNS {
        let which = index % 2;
        let gamma = match values.next() % 4 {
            0 => ParamValue::Text("scale".into()),
            n => ParamValue::Real(10f64.powi(-(n as i32) - 1)),
        };
        let f1 = values.unit();
        let mut metrics: Vec<Metric> = (0..5)
            .map(|step| Metric::new("cv_f1_macro", (f1 + 0.05 * values.unit()).min(1.0), step))
            .collect();
        metrics.extend([
            Metric::new("f1_macro", f1, 0),
            Metric::new("accuracy", (f1 + 0.02).min(1.0), 0),
            Metric::new("cv_f1_macro_mean", f1, 0),
            Metric::new("fit_seconds", values.unit() * 3.0, 0),
        ]);
        let run = NewRun {
            artifacts: Vec::new(),
            experiment_id: experiments[which],
            parent: Some(&parents[which]),
            name: format!("run {index}"),
            config_hash: format!("big-{index}"),
            params: vec![
                (
                    "feature".into(),
                    values.pick(&["hog", "gabor", "raw", "spectral"]).into(),
                ),
                ("kernel".into(), values.pick(&["rbf", "linear"]).into()),
                (
                    "C".into(),
                    ParamValue::Real(c_values[(values.next() % 5) as usize]),
                ),
                ("gamma".into(), gamma),
                ("seed".into(), ParamValue::Int((index % 10) as i64)),
                (
                    "stage".into(),
                    values.pick(&["cv", "cv", "cv", "test"]).into(),
                ),
                ("folds".into(), ParamValue::Int(5)),
                ("crop".into(), ParamValue::Int(64)),
            ],
            metrics,
            tags: vec![
                ("git_commit".into(), format!("{:040x}", values.next() % 50)),
                ("git_dirty".into(), values.pick(&["true", "false"]).into()),
                (
                    "host".into(),
                    values.pick(&["node01", "node02", "node03"]).into(),
                ),
                ("stage".into(), "cv".into()),
            ],
            start_ms: 1_795_000_000_000 + index as i64 * 1000,
            end_ms: 1_795_000_000_900 + index as i64 * 1000,
            predictions: Vec::new(),
        };
        pending.push(run);
        if pending.len() == 1000 || index + 1 == BIG_RUNS {
            store.record_finished_runs(&pending).expect("recorded");
            pending.clear();
        }
    }
    println!(
        "list_100k: built {BIG_RUNS} runs in {:.1} s ({:.3} ms per run)",
        started.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64() * 1000.0 / BIG_RUNS as f64
    );
}

fn list_100k(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary folder");
    // SARLAB_TRACK_BENCH_DB=FILE keeps the database between bench runs (built if missing).
    let path = std::env::var_os("SARLAB_TRACK_BENCH_DB")
        .map_or_else(|| dir.path().join("big.db"), std::path::PathBuf::from);
    if !path.exists() {
        build_big_database(&path);
    }
    let cases: [(&str, &str, Option<&str>); 4] = [
        (
            "issue filter",
            "metrics.f1_macro > 0.9 and params.kernel = 'rbf' and (params.C >= 10 or params.gamma = 'scale')",
            None,
        ),
        (
            "one param",
            "params.feature = 'hog'",
            Some("metrics.f1_macro desc"),
        ),
        ("tag", "tags.git_dirty = 'false'", None),
        (
            "selective, ordered",
            "metrics.f1_macro > 0.99 and params.stage = 'test' and attributes.status = 'FINISHED'",
            Some("params.C desc"),
        ),
    ];
    let mut group = c.benchmark_group("track list_100k");
    group.sample_size(20);
    for (label, filter, order_by) in cases {
        let query = RunQuery {
            experiment: None,
            filter: Some(Filter::parse(filter).expect("filter parses")),
            order_by: order_by.map(|o| OrderBy::parse(o).expect("order parses")),
            limit: Some(50),
        };
        let matched = Store::open(&path)
            .expect("store")
            .list_runs(&query)
            .expect("listing")
            .matched;
        println!("list_100k {label}: `{filter}` matches {matched} of {BIG_RUNS} runs");
        group.bench_function(label, |b| {
            b.iter(|| {
                // As `sarlab runs list` does: open, count the matches, read a page.
                let store = Store::open(&path).expect("store");
                black_box(store.list_runs(&query).expect("listing"))
            });
        });
    }
    group.finish();
}

criterion_group!(benches, log_run, list_100k);

fn main() {
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}
