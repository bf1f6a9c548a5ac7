//! The study engine in process (no binary): deduplication by configuration hash,
//! shards that partition the plan, the best-pick rule, refits on the train split only,
//! and a FAILED study run on every error path after the run starts.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ndarray::Array2;
use sarlab_io::{Dataset, DatasetIndex, Split};
use sarlab_report::StudyReport;
use sarlab_study::{Event, Observer, Outcome, Plan, Shard, Silent, Spec, Study, Task};
use sarlab_svm::{FeatureTransform, refit_and_test};
use sarlab_track::{RunStatus, Store, config_hash};

const SPEC: &str = r#"
name = "engine"
seed = 5

[dataset]
source = "synthetic"
path = "data"

[dataset.synthetic]
chip_size = 36
train_per_class = 6
test_per_class = 3

[preprocess]
crop = 32
intensity = ["db", "linear"]

[[features]]
method = "raw"
downsample = 4

[[features]]
method = "hog"
pixels_per_cell = 8
cells_per_block = 2

[svm]
C = [1, 10]
gamma = ["scale", 0.001]
folds = 3
"#;

struct Bench {
    dir: tempfile::TempDir,
}

impl Bench {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("a temporary folder"),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The plan of `text`, its data under this bench's folder.
    fn plan(&self, text: &str) -> Plan {
        let text = text.replace(
            "path = \"data\"",
            &format!("path = {:?}", self.path("data").display().to_string()),
        );
        let path = self.path("engine.toml");
        std::fs::write(&path, &text).expect("write the spec");
        Plan::new(Spec::parse(&text, &path).expect("spec"), &path, text).expect("plan")
    }

    fn study(&self, shard: Shard) -> Study {
        Study {
            shard,
            force: false,
            reports: self.path("reports"),
            models: self.path("models"),
            version: "test".to_owned(),
            build_commit: Some("0123abcd".to_owned()),
            kernel_memory: Default::default(),
        }
    }

    fn run(&self, plan: &Plan, db: &str, shard: Shard) -> sarlab_study::Result<Outcome> {
        let mut store = Store::open(&self.path(db)).expect("open the database");
        self.study(shard).run(plan, &mut store, &Silent)
    }
}

/// Every event's kind and, for tasks and runs, what it was about.
#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<String>>,
    study_run: Mutex<Option<String>>,
}

impl Recorder {
    /// The uuid of the study run it heard start.
    fn study_run(&self) -> String {
        self.study_run
            .lock()
            .expect("lock")
            .clone()
            .expect("a study run")
    }
}

impl Observer for Recorder {
    fn on(&self, event: Event<'_>) {
        let line = match &event {
            Event::Started { run, .. } => {
                *self.study_run.lock().expect("lock") = Some(run.to_string());
                "started".to_owned()
            }
            Event::TaskStarted { task, .. } => format!("task {task:?}"),
            Event::Refit { name, .. } => format!("refit {name}"),
            Event::ConfigurationFinished {
                done, study_total, ..
            } => {
                format!("configuration {done}/{study_total}")
            }
            Event::TaskStep { .. } | Event::FoldFinished { .. } => return,
            other => format!("{other:?}")
                .split([' ', '{'])
                .next()
                .unwrap_or("")
                .to_owned(),
        };
        self.events.lock().expect("lock").push(line);
    }
}

fn cv_hashes(plan: &Plan, digest: &str) -> Vec<String> {
    let mut out = Vec::new();
    for fi in 0..plan.features.len() {
        for gi in 0..plan.grid.len() {
            out.push(config_hash(digest, &plan.params_of(fi, gi, "cv")));
        }
    }
    out
}

fn digest_of(store: &Store, outcome: &Outcome) -> String {
    store.run(&outcome.run).expect("study run").tags["dataset_digest"].clone()
}

#[test]
fn a_rerun_skips_every_configuration_by_hash() {
    let bench = Bench::new();
    let plan = bench.plan(SPEC);
    let first = bench
        .run(&plan, "runs.db", Shard::all())
        .expect("first run");
    assert_eq!((first.ran, first.skipped), (plan.configurations(), 0));
    let again = bench
        .run(&plan, "runs.db", Shard::all())
        .expect("second run");
    assert_eq!((again.ran, again.skipped), (0, plan.configurations()));
    // Same numbers the second time: read from the database, not recomputed.
    let (a, b) = (first.report.expect("report"), again.report.expect("report"));
    assert_eq!(a.report.methods, b.report.methods);
    // A plan with one more C value runs only the new points.
    let wider = bench.plan(&SPEC.replace("C = [1, 10]", "C = [1, 10, 100]"));
    let third = bench
        .run(&wider, "runs.db", Shard::all())
        .expect("wider run");
    assert_eq!(
        (third.ran, third.skipped),
        (
            wider.configurations() - plan.configurations(),
            plan.configurations()
        )
    );
}

#[test]
fn a_study_on_cached_kernel_rows_records_the_same_numbers() {
    let bench = Bench::new();
    let plan = bench.plan(SPEC);
    let whole = bench.run(&plan, "whole.db", Shard::all()).expect("whole");
    let cached_study = Study {
        kernel_memory: sarlab_svm::KernelMemory::Cached { cache_bytes: 0 },
        ..bench.study(Shard::all())
    };
    let mut cached_store = Store::open(&bench.path("cached.db")).expect("open");
    let cached = cached_study
        .run(&plan, &mut cached_store, &Silent)
        .expect("cached");
    let whole_store = Store::open(&bench.path("whole.db")).expect("open");
    let digest = digest_of(&whole_store, &whole);
    assert_eq!(digest, digest_of(&cached_store, &cached));
    // Every configuration's metrics, timings aside.
    let numbers = |store: &Store, hash: &str| recorded_numbers(store, hash).expect("recorded");
    let hashes = cv_hashes(&plan, &digest);
    assert_eq!(hashes.len(), plan.configurations());
    for hash in &hashes {
        let (params, metrics) = numbers(&whole_store, hash);
        assert!(!metrics.is_empty());
        assert_eq!(numbers(&cached_store, hash), (params, metrics), "{hash}");
    }
    let (a, b) = (
        whole.report.expect("report"),
        cached.report.expect("report"),
    );
    assert_eq!(a.report.methods.len(), b.report.methods.len());
}

#[test]
fn shards_partition_the_plan() {
    let bench = Bench::new();
    let plan = bench.plan(SPEC);
    let shards = 3;
    let mut seen = Vec::new();
    for index in 0..shards {
        let db = format!("shard{index}.db");
        let outcome = bench
            .run(
                &plan,
                &db,
                Shard {
                    index,
                    count: shards,
                },
            )
            .expect("shard run");
        assert!(outcome.report.is_none(), "a shard writes no report");
        let store = Store::open(&bench.path(&db)).expect("db");
        let digest = digest_of(&store, &outcome);
        let mut store = store;
        let experiment = store.experiment("engine").expect("experiment");
        let mine: Vec<usize> = cv_hashes(&plan, &digest)
            .iter()
            .enumerate()
            .filter(|(_, h)| {
                matches!(
                    store.run_by_hash(experiment, h).expect("lookup"),
                    Some((_, RunStatus::Finished))
                )
            })
            .map(|(position, _)| position)
            .collect();
        assert_eq!(mine.len(), outcome.ran);
        assert!(mine.iter().all(|p| p % shards == index), "{mine:?}");
        seen.extend(mine);
    }
    seen.sort_unstable();
    assert_eq!(seen, (0..plan.configurations()).collect::<Vec<_>>());
}

#[test]
fn the_best_configuration_is_refit_on_the_train_split_only() {
    let bench = Bench::new();
    let plan = bench.plan(SPEC);
    let recorder = Recorder::default();
    let mut store = Store::open(&bench.path("runs.db")).expect("db");
    let outcome = bench
        .study(Shard::all())
        .run(&plan, &mut store, &recorder)
        .expect("study");
    let digest = digest_of(&store, &outcome);
    let experiment = store.experiment("engine").expect("experiment");
    let metric = plan.spec.svm.metric;
    let dataset = full_dataset(&plan);
    let y_train: Vec<usize> = dataset
        .chips_in(Split::Train)
        .map(|c| c.class_index)
        .collect();
    let y_test: Vec<usize> = dataset
        .chips_in(Split::Test)
        .map(|c| c.class_index)
        .collect();
    for method in plan.methods() {
        // The best pick: highest mean CV metric, ties to the first in plan order.
        let mut best: Option<(usize, usize, f64, String)> = None;
        for fi in (0..plan.features.len()).filter(|&f| plan.features[f].method.name() == method) {
            for gi in 0..plan.grid.len() {
                let hash = config_hash(&digest, &plan.params_of(fi, gi, "cv"));
                let (uuid, _) = store
                    .run_by_hash(experiment, &hash)
                    .expect("q")
                    .expect("cv run");
                let value = store
                    .run(&uuid)
                    .expect("run")
                    .metric(&format!("cv_{metric}_mean"), 0)
                    .expect("mean");
                if best.as_ref().is_none_or(|b| value > b.2) {
                    best = Some((fi, gi, value, uuid));
                }
            }
        }
        let (fi, gi, _, cv_uuid) = best.expect("a best configuration");
        let hash = config_hash(&digest, &plan.params_of(fi, gi, "test"));
        let (test_uuid, status) = store
            .run_by_hash(experiment, &hash)
            .expect("q")
            .expect("test run");
        assert_eq!(status, RunStatus::Finished);
        let test_run = store.run(&test_uuid).expect("test run");
        assert_eq!(
            test_run.tags["cv_run"], cv_uuid,
            "{method}: not the best CV run"
        );
        // The best CV run's pooled confusion matrix counts every train chip once.
        let cv_run = store.run(&cv_uuid).expect("cv run");
        let pooled: Vec<Vec<usize>> =
            serde_json::from_str(&cv_run.tags["cv_confusion_matrix"]).expect("pooled matrix");
        assert_eq!(pooled.len(), dataset.classes.len());
        for (class, row) in pooled.iter().enumerate() {
            let support = y_train.iter().filter(|&&y| y == class).count();
            assert_eq!(
                row.iter().sum::<usize>(),
                support,
                "{method}: class {class}"
            );
        }

        // The same refit computed here from the train split alone gives the recorded
        // test scores.
        let feature = &plan.features[fi];
        let features_of = |split| features(&plan, fi, &dataset, split);
        let refit = refit_and_test(
            features_of(Split::Train).view(),
            &y_train,
            features_of(Split::Test).view(),
            &y_test,
            dataset.classes.len(),
            &plan.grid[gi].svm,
            &FeatureTransform {
                column_weights: None,
                standardize: plan.spec.svm.standardize,
                pca: feature.pca,
            },
            plan.spec.svm.backend,
            plan.probability().then_some(plan.spec.seed),
        )
        .expect("refit");
        let (evaluation, predicted) = (&refit.evaluation, &refit.predictions);
        for (name, value) in evaluation.metrics.named() {
            assert_eq!(
                test_run.metric(&format!("test_{name}"), 0),
                Some(value),
                "{method} {name}"
            );
        }
        assert_eq!(
            test_run.metric("support_vectors", 0),
            Some(evaluation.support_vectors as f64)
        );
        assert!(evaluation.support_vectors <= y_train.len());
        // Every test chip's prediction is recorded with the test run.
        // With their decision values, bit for bit.
        let mut expected: Vec<(String, usize, usize, Vec<u64>)> = dataset
            .chips_in(Split::Test)
            .zip(
                predicted
                    .labels
                    .iter()
                    .zip(predicted.decision_values.outer_iter()),
            )
            .map(|(chip, (&p, d))| {
                let bits = d.iter().map(|v| v.to_bits()).collect();
                (dataset.chip_label(chip), chip.class_index, p, bits)
            })
            .collect();
        expected.sort();
        let pairs = plan_pairs(dataset.classes.len());
        let recorded: Vec<(String, usize, usize, Vec<u64>)> = store
            .predictions(&test_uuid)
            .expect("predictions")
            .into_iter()
            .map(|p| {
                assert_eq!(p.decision_values.len(), pairs, "{}", p.chip);
                let bits = p.decision_values.iter().map(|v| v.to_bits()).collect();
                (p.chip, p.truth, p.predicted, bits)
            })
            .collect();
        assert_eq!(recorded, expected, "{method}");
    }
    // The uncertainty section: an interval per method, and the pair tested on the
    // recorded predictions and fold scores.
    let written = outcome.report.as_ref().expect("report");
    let sig = &written.report.significance;
    assert_eq!(sig.accuracy.len(), plan.methods().len());
    for a in &sig.accuracy {
        let m = written
            .report
            .methods
            .iter()
            .find(|m| m.method == a.method)
            .expect("method");
        assert_eq!(
            a.correct as f64 / a.chips as f64,
            m.test_accuracy,
            "{}",
            a.method
        );
        assert!(a.low <= m.test_accuracy && m.test_accuracy <= a.high);
    }
    assert_eq!(sig.pairs.len(), 1);
    let pair = &sig.pairs[0];
    let (b, c, p) = pair.mcnemar.expect("predictions are recorded");
    assert!((0.0..=1.0).contains(&p) && b + c <= y_test.len() as u64);
    assert!(pair.fold_t.is_some_and(|(_, p)| (0.0..=1.0).contains(&p)));
    // The sweep section: per method, intensity, C and gamma are swept (2 values each,
    // 4 of the method's 8 configurations at each value).
    for sweep in &written.report.sweeps {
        let mut names: Vec<&str> = sweep.parameters.iter().map(|p| p.name.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["C", "gamma", "intensity"], "{}", sweep.method);
        let best = written
            .report
            .methods
            .iter()
            .find(|m| m.method == sweep.method)
            .expect("method")
            .cv_selection
            .0;
        for p in &sweep.parameters {
            assert!((0.0..=1.0).contains(&p.importance));
            assert!(
                p.levels
                    .iter()
                    .all(|l| l.configurations == 4 && l.best.0 >= l.mean)
            );
            // Some value of every parameter holds the method's best configuration.
            assert!(p.levels.iter().any(|l| l.best.0 == best), "{}", p.name);
        }
        let total: f64 = sweep.parameters.iter().map(|p| p.importance).sum();
        assert!(
            total <= 1.0 + 1e-12,
            "main effects of a full grid sum to at most 1"
        );
    }
    assert_eq!(written.report.sweeps.len(), plan.methods().len());
    // Provenance from the study run's record, and the spec as read.
    let provenance: Vec<&str> = written
        .report
        .provenance
        .iter()
        .map(|(k, _)| k.as_str())
        .collect();
    for label in [
        "date",
        "host",
        "threads",
        "sarlab version",
        "sarlab build commit",
        "command line",
    ] {
        assert!(
            provenance.contains(&label),
            "{label} missing from {provenance:?}"
        );
    }
    assert_eq!(written.report.spec_toml, plan.spec_text);
    // The database alone rebuilds the same report (less the figures made from chips).
    let rebuilt = sarlab_study::rebuild_report(&store, &outcome.run).expect("rebuild");
    assert_eq!(
        rebuilt,
        StudyReport {
            images: Vec::new(),
            ..written.report.clone()
        }
    );
    assert_eq!(
        (rebuilt.train_chips, rebuilt.test_chips),
        (y_train.len(), y_test.len())
    );
    for m in &rebuilt.methods {
        assert_eq!(m.fold_scores.len(), plan.spec.svm.folds, "{}", m.method);
        let support: usize = m.cv_classes.iter().map(|c| c.support).sum();
        assert_eq!(support, y_train.len(), "{}", m.method);
        assert_eq!(m.test_classes.len(), dataset.classes.len(), "{}", m.method);
        // Every class is in every stratified fold: each has its F1's spread over folds.
        assert!(
            m.cv_classes
                .iter()
                .all(|c| c.f1_fold_std.is_some_and(|s| (0.0..=0.5).contains(&s)))
        );
    }
    // Each refit extracts the train split, then the test split, then reports.
    let events = recorder.events.lock().expect("lock").clone();
    let refits: Vec<usize> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.starts_with("refit "))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(refits.len(), plan.methods().len());
    for &at in &refits {
        let tasks: Vec<&String> = events[..at]
            .iter()
            .filter(|e| e.starts_with("task Extract"))
            .collect();
        assert!(
            tasks[tasks.len() - 2].contains("split: Train"),
            "{events:#?}"
        );
        assert!(
            tasks[tasks.len() - 1].contains("split: Test"),
            "{events:#?}"
        );
    }
    assert!(events.contains(&format!("configuration {0}/{0}", plan.configurations())));
}

/// Every chip of the dataset, whole.
fn full_dataset(plan: &Plan) -> Dataset {
    DatasetIndex::scan(&plan.spec.dataset.path, &plan.dataset_options())
        .expect("scan")
        .load(&|| {})
        .expect("load")
}

fn features(plan: &Plan, feature: usize, dataset: &Dataset, split: Split) -> Array2<f64> {
    let config = &plan.features[feature];
    let rows: Vec<Vec<f64>> = dataset
        .chips_in(split)
        .map(|chip| {
            let image = sarlab_study::prepared(&config.preprocess, dataset, chip).expect("chip");
            config.method.extract(image.view()).expect("features")
        })
        .collect();
    let cols = rows[0].len();
    Array2::from_shape_vec((rows.len(), cols), rows.concat()).expect("matrix")
}

/// Runs `plan` expecting an error; returns the error text and the study run, which
/// must be FAILED with that reason.
fn failed(bench: &Bench, plan: &Plan, reports: Option<&Path>) -> (String, String) {
    let recorder = Recorder::default();
    let mut store = Store::open(&bench.path("runs.db")).expect("db");
    let mut study = bench.study(Shard::all());
    if let Some(reports) = reports {
        study.reports = reports.to_path_buf();
    }
    let err = study
        .run(plan, &mut store, &recorder)
        .expect_err("the study fails");
    let text = err.chain();
    let run = recorder.study_run();
    let stored = store.run(&run).expect("the study run is recorded");
    assert_eq!(stored.status, RunStatus::Failed, "{text}");
    assert_eq!(stored.failure_reason.as_deref(), Some(text.as_str()));
    (text, run)
}

#[test]
fn every_error_path_leaves_a_failed_study_run() {
    let bench = Bench::new();
    // A folder that is not a dataset.
    std::fs::create_dir_all(bench.path("empty")).expect("mkdir");
    let folder = SPEC
        .replace("source = \"synthetic\"", "source = \"folder\"")
        .replace(
            "[dataset.synthetic]\nchip_size = 36\ntrain_per_class = 6\ntest_per_class = 3\n",
            "",
        );
    let (text, _) = failed(
        &bench,
        &bench.plan(&folder.replace("path = \"data\"", "path = \"data-none\"")),
        None,
    );
    assert!(text.contains("cannot use dataset"), "{text}");

    // More folds than train chips of a class.
    let (text, _) = failed(
        &bench,
        &bench.plan(&SPEC.replace("folds = 3", "folds = 7")),
        None,
    );
    assert!(text.contains("`svm.folds` = 7"), "{text}");

    // A crop larger than the chips.
    let (text, _) = failed(
        &bench,
        &bench.plan(&SPEC.replace("crop = 32", "crop = 40")),
        None,
    );
    assert!(text.contains("40"), "{text}");

    // The synthetic folder exists with other settings.
    let other = SPEC.replace("train_per_class = 6", "train_per_class = 7");
    let (text, _) = failed(&bench, &bench.plan(&other), None);
    assert!(text.contains("generated with other settings"), "{text}");

    // The report cannot be written (its folder is a file).
    std::fs::write(bench.path("not-a-folder"), b"x").expect("write");
    let (text, _) = failed(&bench, &bench.plan(SPEC), Some(&bench.path("not-a-folder")));
    assert!(text.contains("cannot write the report"), "{text}");

    // Every configuration that finished before the failure is kept and complete.
    let plan = bench.plan(SPEC);
    let outcome = bench
        .run(&plan, "runs.db", Shard::all())
        .expect("the study now runs");
    assert_eq!(outcome.skipped, plan.configurations());
}

/// An observer that panics at the first fold to finish (on a worker thread of the
/// cross-validation), standing in for a bug anywhere in the engine.
struct PanicAtFirstFold(Recorder);

impl Observer for PanicAtFirstFold {
    fn on(&self, event: Event<'_>) {
        if matches!(event, Event::FoldFinished { .. }) {
            panic!("a bug at the first fold");
        }
        self.0.on(event);
    }
}

#[test]
fn a_panic_inside_the_engine_leaves_a_failed_study_run_and_only_whole_runs() {
    let bench = Bench::new();
    let plan = bench.plan(SPEC);
    let observer = PanicAtFirstFold(Recorder::default());
    let mut store = Store::open(&bench.path("runs.db")).expect("db");
    let err = bench
        .study(Shard::all())
        .run(&plan, &mut store, &observer)
        .expect_err("the panic becomes an error");
    let text = err.chain();
    assert!(
        text.contains("internal error") && text.contains("a bug at the first fold"),
        "{text}"
    );
    let run = observer.0.study_run();
    let stored = store.run(&run).expect("the study run is recorded");
    assert_eq!(stored.status, RunStatus::Failed);
    assert_eq!(stored.failure_reason.as_deref(), Some(text.as_str()));
    // The same database then runs the study to the end.
    drop(store);
    let outcome = bench
        .run(&plan, "runs.db", Shard::all())
        .expect("the study now runs");
    assert_eq!(outcome.ran + outcome.skipped, plan.configurations());
}

/// Asks the study to stop once the first feature setting's configurations are recorded.
struct StopAfterFirstSetting(Recorder, std::sync::atomic::AtomicBool);

impl Observer for StopAfterFirstSetting {
    fn on(&self, event: Event<'_>) {
        if matches!(event, Event::ConfigurationsRecorded { .. }) {
            self.1.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        self.0.on(event);
    }

    fn stop_requested(&self) -> bool {
        self.1.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[test]
fn a_stop_request_ends_the_study_killed_keeping_what_finished() {
    let bench = Bench::new();
    let plan = bench.plan(SPEC);
    let observer = StopAfterFirstSetting(Recorder::default(), Default::default());
    let mut store = Store::open(&bench.path("runs.db")).expect("db");
    let err = bench
        .study(Shard::all())
        .run(&plan, &mut store, &observer)
        .expect_err("the study stops");
    assert!(matches!(err, sarlab_study::Error::Interrupted), "{err}");
    let run = observer.0.study_run();
    let stored = store.run(&run).expect("the study run is recorded");
    assert_eq!(stored.status, RunStatus::Killed);
    assert!(
        stored
            .failure_reason
            .as_deref()
            .is_some_and(|r| r.contains("interrupted"))
    );
    let events = observer.0.events.lock().expect("lock").clone();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.starts_with("ConfigurationsRecorded"))
            .count(),
        1,
        "{events:#?}"
    );
    assert!(
        !events.iter().any(|e| e.starts_with("refit")),
        "{events:#?}"
    );
    // The first setting's configurations are kept; a second run does the rest.
    drop(store);
    let per_setting = plan.configurations() / plan.features.len();
    let outcome = bench
        .run(&plan, "runs.db", Shard::all())
        .expect("the study now runs");
    assert_eq!(outcome.skipped, per_setting);
    assert_eq!(outcome.ran, plan.configurations() - per_setting);
}

#[test]
fn the_observer_hears_the_study_in_order() {
    let bench = Bench::new();
    let plan = bench.plan(SPEC);
    let recorder = Recorder::default();
    let mut store = Store::open(&bench.path("runs.db")).expect("db");
    bench
        .study(Shard::all())
        .run(&plan, &mut store, &recorder)
        .expect("study");
    let events = recorder.events.lock().expect("lock").clone();
    let position = |needle: &str| {
        events
            .iter()
            .position(|e| e.starts_with(needle))
            .unwrap_or_else(|| panic!("no {needle} in {events:#?}"))
    };
    assert_eq!(events[0], "started");
    assert!(position("task GenerateDataset") < position("DatasetGenerated"));
    assert!(position("DatasetGenerated") < position(&format!("task {:?}", Task::LoadChips)));
    assert!(position("DatasetLoaded") < position("ConfigurationsStarted"));
    assert!(position("ConfigurationsRecorded") < position("refit "));
    assert_eq!(events.last().map(String::as_str), Some("ReportWritten"));
}

/// One-vs-one machines among `classes` classes.
fn plan_pairs(classes: usize) -> usize {
    classes * (classes - 1) / 2
}

/// A study large enough for two halving rungs: 240 train chips, 8 candidates per
/// method (2 intensities × 2 C × 2 γ).
fn halving_spec(search: &str) -> String {
    SPEC.replace("train_per_class = 6", "train_per_class = 30") + search
}

/// A run's parameters (as text) and metrics without timings (as bits).
type RunNumbers = (String, Vec<(String, i64, u64)>);

/// [`RunNumbers`] of the run with `hash`.
fn recorded_numbers(store: &Store, hash: &str) -> Option<RunNumbers> {
    let experiment = store.experiment_id("engine").expect("query")?;
    let (uuid, status) = store.run_by_hash(experiment, hash).expect("query")?;
    assert_eq!(status, RunStatus::Finished);
    let run = store.run(&uuid).expect("run");
    let mut metrics: Vec<(String, i64, u64)> = run
        .metrics
        .iter()
        .filter(|m| !m.key.contains("seconds"))
        .map(|m| (m.key.clone(), m.step, m.value.to_bits()))
        .collect();
    metrics.sort();
    Some((format!("{:?}", run.params), metrics))
}

#[test]
fn halving_keeps_the_best_third_per_rung_and_its_last_rung_is_the_grids_cv() {
    let bench = Bench::new();
    let plan = bench.plan(&halving_spec("\n[search]\nstrategy = \"halving\"\n"));
    let outcome = bench
        .run(&plan, "halving.db", Shard::all())
        .expect("halving");
    let rungs: Vec<(&str, usize, usize, usize)> = outcome
        .rungs
        .iter()
        .map(|r| (r.method, r.index, r.chips, r.candidates))
        .collect();
    // scikit-learn's schedule for 8 candidates on 240 rows, 3 folds, 8 classes:
    // min_resources = max(2·3·8, 240 // 3) = 80; then every row for ⌈8 / 3⌉ = 3.
    assert_eq!(
        rungs,
        [
            ("raw", 0, 80, 8),
            ("raw", 1, 240, 3),
            ("hog", 0, 80, 8),
            ("hog", 1, 240, 3)
        ]
    );
    assert_eq!(outcome.ran, 2 * (8 + 3));
    let store = Store::open(&bench.path("halving.db")).expect("open");
    let digest = digest_of(&store, &outcome);
    let experiment = store.experiment_id("engine").expect("query").expect("id");
    let metric = plan.spec.svm.metric;
    for method in ["raw", "hog"] {
        let candidates: Vec<(usize, usize)> = (0..plan.features.len())
            .filter(|&fi| plan.features[fi].method.name() == method)
            .flat_map(|fi| (0..plan.grid.len()).map(move |gi| (fi, gi)))
            .collect();
        // Rung 0: every candidate, recorded as a `halving` run on 80 chips.
        let mut scores = Vec::new();
        for &(fi, gi) in &candidates {
            let mut params = plan.params_of(fi, gi, "halving");
            params.push(("halving.rung".to_owned(), 0usize.into()));
            params.push(("halving.resources".to_owned(), 80usize.into()));
            let (uuid, _) = store
                .run_by_hash(experiment, &config_hash(&digest, &params))
                .expect("query")
                .expect("rung 0 run");
            let run = store.run(&uuid).expect("run");
            assert_eq!(run.tags["stage"], "halving");
            scores.push(run.metric(&format!("cv_{metric}_mean"), 0).expect("mean"));
        }
        // The last rung: the best three by rung-0 score (ties to the first), as CV runs.
        let kept = sarlab_svm::survivors(&scores, 3);
        for (k, &(fi, gi)) in candidates.iter().enumerate() {
            let cv = config_hash(&digest, &plan.params_of(fi, gi, "cv"));
            let present = store.run_by_hash(experiment, &cv).expect("query").is_some();
            assert_eq!(present, kept.contains(&k), "{method} candidate {k}");
        }
    }
    // A grid search of the same spec gives those CV runs the same hashes and numbers.
    let grid_plan = bench.plan(&halving_spec(""));
    let grid = bench
        .run(&grid_plan, "grid.db", Shard::all())
        .expect("grid");
    let grid_store = Store::open(&bench.path("grid.db")).expect("open");
    let mut compared = 0;
    for hash in cv_hashes(&grid_plan, &digest_of(&grid_store, &grid)) {
        if let Some(numbers) = recorded_numbers(&store, &hash) {
            assert_eq!(
                Some(numbers),
                recorded_numbers(&grid_store, &hash),
                "{hash}"
            );
            compared += 1;
        }
    }
    assert_eq!(compared, 6);
    // Each method's pick comes from the survivors, refit and reported as usual.
    let report = outcome.report.expect("report").report;
    assert_eq!(report.methods.len(), 2);
    // Halving needs every candidate's score at each rung: no shards.
    let err = bench
        .run(&plan, "shard.db", Shard { index: 0, count: 2 })
        .expect_err("sharded halving");
    assert!(err.to_string().contains("cannot be sharded"), "{err}");
    // A rerun finds every rung recorded.
    let again = bench.run(&plan, "halving.db", Shard::all()).expect("again");
    assert_eq!((again.ran, again.skipped), (0, 22));
}
