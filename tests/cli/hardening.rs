//! Hostile input found by adversarial testing: each must end in a clear error (exit 1,
//! naming the key, flag or file), never a panic, an abort, a hang, an exhausted
//! memory or a silently ignored value.

use std::process::Output;
use std::time::{Duration, Instant};

use sarlab_io::npy;

use crate::support::*;

/// A spec on the 8-class synthetic default (32 px crops of 40 px chips), with
/// `from` replaced by `to`.
fn spec_with(from: &str, to: &str) -> String {
    assert!(TINY_SPEC.contains(from), "{from:?} is in the tiny spec");
    TINY_SPEC.replacen(from, to, 1)
}

/// `sarlab run bad.toml` on `spec`: it must fail mentioning every needle.
#[track_caller]
fn run_fails(ws: &Workspace, spec: &str, needles: &[&str]) -> Output {
    ws.write("bad.toml", spec);
    let out = ws.sarlab(&["run", "bad.toml", "--db", "runs.db", "--reports", "out"]);
    assert_failure_mentions(&out, needles);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    out
}

/// A `.npy` feature matrix and its labels, written into the workspace.
fn matrix(
    ws: &Workspace,
    stem: &str,
    rows: usize,
    cols: usize,
    value: impl Fn(usize, usize) -> f64,
    label: impl Fn(usize) -> i64,
) {
    let values: Vec<f64> = (0..rows * cols)
        .map(|k| value(k / cols, k % cols))
        .collect();
    std::fs::write(
        ws.path(&format!("{stem}_x.npy")),
        npy::encode_f64(&[rows, cols], &values),
    )
    .expect("write x");
    let labels: Vec<i64> = (0..rows).map(label).collect();
    std::fs::write(ws.path(&format!("{stem}_y.npy")), npy::encode_i64(&labels)).expect("write y");
}

fn svm_grid(ws: &Workspace, stem: &str, extra: &[&str]) -> Output {
    let (x, y) = (format!("{stem}_x.npy"), format!("{stem}_y.npy"));
    let mut args = vec![
        "svm",
        "grid",
        "--train",
        &x,
        "--train-labels",
        &y,
        "--folds",
        "2",
    ];
    args.extend_from_slice(extra);
    ws.sarlab(&args)
}

#[test]
fn an_overflowing_kernel_is_an_error_naming_what_to_change() {
    let ws = Workspace::new();
    // Two classes, values around 100: a degree-30 polynomial kernel reaches 1e120.
    matrix(
        &ws,
        "big",
        20,
        3,
        |r, c| 100.0 + (r * 3 + c) as f64,
        |r| (r % 2) as i64,
    );
    let out = svm_grid(
        &ws,
        "big",
        &["--kernel", "poly", "--degree", "30", "--gamma", "1"],
    );
    assert_failure_mentions(
        &out,
        &["poly", "degree 30", "single precision", "lower `degree`"],
    );
    // Beyond the cap the degree itself is refused.
    let out = svm_grid(&ws, "big", &["--kernel", "poly", "--degree", "100"]);
    assert_failure_mentions(&out, &["--degree", "at most 32"]);
    // Finite features whose inner products overflow, without standardisation.
    matrix(
        &ws,
        "huge",
        20,
        3,
        |r, c| 1e300 * (1.0 + (r + c) as f64 / 10.0),
        |r| (r % 2) as i64,
    );
    let out = svm_grid(&ws, "huge", &["--kernel", "linear"]);
    assert_failure_mentions(&out, &["linear", "standardize"]);
    // In a spec, the degree cap is a spec error at its key.
    let spec = spec_with("folds = 3", "folds = 3\nkernel = \"poly\"\ndegree = 300");
    run_fails(&ws, &spec, &["degree", "at most 32"]);
    assert!(
        !ws.path("runs.db").exists(),
        "a spec error touches no database"
    );
}

#[test]
fn sizes_that_would_overflow_or_exhaust_memory_are_refused_up_front() {
    let ws = Workspace::new();
    let huge = usize::MAX / 2; // 9223372036854775807
    for (speckle, needles) in [
        (format!("equalize:bins={huge}"), vec!["bins", "65536"]),
        (format!("lee:window={huge}"), vec!["window", "255"]),
        ("gaussian:sigma=1e9".to_owned(), vec!["sigma", "31"]),
        ("median:window=1000000".to_owned(), vec!["window", "255"]),
        ("frost:window=1000001".to_owned(), vec!["window", "255"]),
        ("lee:window=1000000".to_owned(), vec!["window", "255"]),
        // Within the bound but wider than the 32 px crop.
        ("median:window=101".to_owned(), vec!["window 101", "32x32"]),
    ] {
        let spec = spec_with(
            "intensity = \"db\"",
            &format!("intensity = \"db\"\nspeckle = {speckle:?}"),
        );
        let mut needles = needles;
        needles.push("preprocess.speckle");
        run_fails(&ws, &spec, &needles);
    }
    for orientations in [huge.to_string(), "1000000".to_owned()] {
        let spec = spec_with(
            "cells_per_block = 2",
            &format!(
                "cells_per_block = 2\n[[features]]\nmethod = \"gabor\"\norientations = {orientations}"
            ),
        );
        run_fails(&ws, &spec, &["features[2].orientations", "180"]);
    }
    assert!(
        !ws.path("runs.db").exists(),
        "spec errors touch no database"
    );
    // The one-image filter command takes the same bounds.
    assert_success(&ws.synth("data", 1, 1, 1, 32));
    let out = ws.sarlab(&[
        "filter",
        "data/train/tank/tank_0000.png",
        "--out",
        "f",
        "--speckle",
        "equalize:bins=1000000000000",
    ]);
    assert_failure_mentions(&out, &["--speckle", "bins", "65536"]);
    assert!(!ws.path("f").exists(), "nothing written");
}

#[test]
fn a_grid_search_too_large_for_memory_says_how_much_it_needs() {
    let ws = Workspace::new();
    // 10⁵ classes of two rows each: the kernel matrix of 2·10⁵ rows is 160 GB.
    matrix(
        &ws,
        "classes",
        200_000,
        1,
        |r, _| r as f64,
        |r| (r / 2) as i64,
    );
    let started = Instant::now();
    let out = svm_grid(&ws, "classes", &[]);
    assert_failure_mentions(&out, &["needs ~", "GB, this machine has", "GB available"]);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "refused up front"
    );
}

#[test]
fn repeated_or_contradictory_settings_are_refused_not_ignored() {
    let ws = Workspace::new();
    let speckle = spec_with(
        "intensity = \"db\"",
        "intensity = \"db\"\nspeckle = \"lee:window=5:looks=4:window=7\"",
    );
    run_fails(
        &ws,
        &speckle,
        &["preprocess.speckle", "`window` is given twice"],
    );
    run_fails(
        &ws,
        &spec_with("C = [1, 10]", "C = [1, 1, 1]"),
        &["svm.C", "value 2 of the list repeats value 1"],
    );
    run_fails(
        &ws,
        &spec_with("crop = 32", "crop = [32, 32]"),
        &["preprocess.crop", "repeats"],
    );
    // The same filter spelt twice.
    let twice = spec_with(
        "intensity = \"db\"",
        "intensity = \"db\"\nspeckle = [\"lee:window=5\", \"lee:window=5:looks=1\"]",
    );
    run_fails(&ws, &twice, &["preprocess.speckle", "repeats"]);
    let orientations = spec_with(
        "cells_per_block = 2",
        "cells_per_block = 2\norientations = [9, 9]",
    );
    run_fails(&ws, &orientations, &["features[1].orientations", "repeats"]);
    // Training and testing on the same split.
    let same = spec_with("path = \"data\"", "path = \"data\"\ntest = \"train\"");
    run_fails(&ws, &same, &["dataset.train", "dataset.test", "\"train\""]);
    assert!(
        !ws.path("runs.db").exists(),
        "spec errors touch no database"
    );
    // Depression angles on image folders.
    assert_success(&ws.synth("folders", 1, 3, 2, 40));
    let folders = TINY_SPEC
        .replace("source = \"synthetic\"", "source = \"folder\"")
        .replace(
            "path = \"data\"",
            "path = \"folders\"\ndepression = { train = [17], test = [15] }",
        )
        .replace(
            "[dataset.synthetic]\nchip_size = 40\ntrain_per_class = 8\ntest_per_class = 4\n",
            "",
        );
    run_fails(
        &ws,
        &folders,
        &["dataset.depression", "Phoenix data only", "image-folders"],
    );
}

#[test]
fn errors_say_what_would_be_right() {
    let ws = Workspace::new();
    // A typo in a key: its own line and the key it was meant to be.
    let typo = spec_with("intensity = \"db\"", "intensty = \"db\"");
    run_fails(
        &ws,
        &typo,
        &[
            "preprocess.intensty",
            "(line 16)",
            "did you mean `intensity`?",
        ],
    );
    let method = spec_with("downsample = 2", "downsampel = 2");
    run_fails(
        &ws,
        &method,
        &["features[0].downsampel", "did you mean `downsample`?"],
    );
    // A name too long to be a folder is refused before any work.
    run_fails(
        &ws,
        &spec_with(
            "name = \"tiny\"",
            &format!("name = \"{}\"", "n".repeat(5000)),
        ),
        &["`name`", "at most 100"],
    );
    // A missing dataset is shown by its absolute path.
    let missing = TINY_SPEC
        .replace("source = \"synthetic\"", "source = \"folder\"")
        .replace("path = \"data\"", "path = \"no/such/folder\"")
        .replace(
            "[dataset.synthetic]\nchip_size = 40\ntrain_per_class = 8\ntest_per_class = 4\n",
            "",
        );
    let absolute = ws.path("no/such/folder").display().to_string();
    run_fails(&ws, &missing, &["does not exist", &absolute]);
}

#[test]
fn chips_that_do_not_fit_are_named_with_what_would_fit() {
    let ws = Workspace::new();
    assert_success(&ws.synth("data", 1, 3, 2, 40));
    assert_success(&ws.synth("small", 2, 2, 1, 28));
    for (i, class) in ["dozer", "tank"].iter().enumerate() {
        std::fs::copy(
            ws.path(&format!("small/train/{class}/{class}_0000.png")),
            ws.path(&format!("data/train/{class}/{class}_small{i}.png")),
        )
        .expect("copy");
    }
    let folder = TINY_SPEC
        .replace("source = \"synthetic\"", "source = \"folder\"")
        .replace(
            "[dataset.synthetic]\nchip_size = 40\ntrain_per_class = 8\ntest_per_class = 4\n",
            "",
        )
        .replace("folds = 3", "folds = 2");
    // Crop too large: how many chips, which, and the largest crop that fits.
    run_fails(
        &ws,
        &folder,
        &[
            "`preprocess.crop` = 32 does not fit 2 of the",
            "dozer_small0.png is 28x28",
            "largest crop this dataset allows is 28",
        ],
    );
    // Mixed sizes and no crop: every size with an example file.
    let no_crop = folder.replace("crop = 32\n", "");
    run_fails(
        &ws,
        &no_crop,
        &[
            "2 sizes",
            "28x28: 2 chips, e.g. train/",
            "40x40:",
            "set `preprocess.crop` (at most 28)",
        ],
    );
}

#[test]
fn run_ids_and_limits_are_read_as_people_mean_them() {
    let ws = Workspace::new();
    // 16 CV runs, 2 test runs and the study run: more runs than hex digits, so some
    // first digit is shared.
    ws.write(
        "tiny.toml",
        &spec_with("C = [1, 10]", "C = [1, 10, 100, 1000]"),
    );
    assert_success(&ws.run_tiny(&[]));
    let uuids = strings(&ws.db("runs.db"), "SELECT uuid FROM runs");
    // The first hex digit most runs share.
    let (digit, sharing) = (0..16)
        .map(|d| format!("{d:x}"))
        .map(|d| {
            let n = uuids.iter().filter(|u| u.starts_with(&d)).count();
            (d, n)
        })
        .max_by_key(|(_, n)| *n)
        .expect("digits");
    assert!(sharing >= 2, "{} runs share a first digit", uuids.len());
    let out = ws.sarlab(&["runs", "show", "--db", "runs.db", &digit]);
    assert_failure_mentions(
        &out,
        &[
            "ambiguous",
            &format!("{sharing} runs start with it"),
            "give more characters",
        ],
    );
    let out = ws.sarlab(&[
        "runs",
        "list",
        "--db",
        "runs.db",
        "--limit",
        "9223372036854775808",
    ]);
    assert_success(&out);
    assert!(
        stdout(&out).contains(&format!("({} runs)", uuids.len())),
        "{}",
        stdout(&out)
    );
}

#[test]
fn control_characters_in_class_names_never_reach_the_terminal() {
    let ws = Workspace::new();
    assert_success(&ws.synth("data", 1, 2, 1, 32));
    let hostile = "T72\u{1b}[2J\u{1b}]0;owned\u{7}\nfake line";
    for split in ["train", "test"] {
        std::fs::rename(
            ws.path(&format!("data/{split}/tank")),
            ws.path(&format!("data/{split}/{hostile}")),
        )
        .expect("rename");
    }
    let out = ws.sarlab(&["dataset", "info", "data"]);
    assert_success(&out);
    let text = stdout(&out);
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );
    assert!(
        text.contains("T72\\u{1b}[2J\\u{1b}]0;owned\\u{7}\\nfake line"),
        "{text}"
    );
    assert!(
        !text.lines().any(|l| l.starts_with("fake line")),
        "the table keeps its lines:\n{text}"
    );
}

#[test]
fn a_filter_that_fails_writes_nothing() {
    let ws = Workspace::new();
    assert_success(&ws.synth("data", 1, 1, 1, 32));
    let out = ws.sarlab(&[
        "filter",
        "data/train/tank/tank_0000.png",
        "--out",
        "f",
        "--filter",
        "gaussian:lowpass:cutoff=1000",
    ]);
    assert_failure_mentions(&out, &["--filter", "cutoff 1000"]);
    assert!(!ws.path("f/spectrum.npy").exists(), "no partial output");
}

/// Runs `sarlab ARGS` under a 2 GB address-space limit and a 10 s timeout.
fn bounded(ws: &Workspace, args: &[&str]) -> Output {
    let command = ws.command(&[]);
    let program = command.get_program().to_owned();
    let mut shell = std::process::Command::new("sh");
    shell
        .arg("-c")
        .arg("ulimit -v 2097152; exec timeout -s KILL 10 \"$@\"")
        .arg("bounded")
        .arg(program)
        .args(args)
        .current_dir(ws.path(""));
    shell.output().expect("sh runs")
}

#[test]
fn hostile_input_under_a_memory_and_time_limit_ends_in_a_clear_error() {
    if !std::path::Path::new("/bin/sh").exists() {
        eprintln!("skipped: no /bin/sh for ulimit and timeout");
        return;
    }
    let ws = Workspace::new();
    assert_success(&ws.synth("data", 1, 1, 1, 32));
    matrix(
        &ws,
        "classes",
        200_000,
        1,
        |r, _| r as f64,
        |r| (r / 2) as i64,
    );
    matrix(
        &ws,
        "big",
        20,
        3,
        |r, c| 100.0 + (r * 3 + c) as f64,
        |r| (r % 2) as i64,
    );
    let image = "data/train/tank/tank_0000.png";
    let notches = format!(
        "ideal:notchreject:cutoff=1:at={}",
        vec!["1,1"; 300].join(";")
    );
    let cases: Vec<Vec<&str>> = vec![
        vec![
            "filter",
            image,
            "--out",
            "f1",
            "--speckle",
            "gaussian:sigma=1000000000",
        ],
        vec![
            "filter",
            image,
            "--out",
            "f2",
            "--speckle",
            "median:window=1000000",
        ],
        vec![
            "filter",
            image,
            "--out",
            "f3",
            "--speckle",
            "frost:window=1000001",
        ],
        vec![
            "filter",
            image,
            "--out",
            "f4",
            "--speckle",
            "equalize:bins=1000000000000",
        ],
        vec!["filter", image, "--out", "f5", "--filter", &notches],
        vec![
            "svm",
            "grid",
            "--train",
            "classes_x.npy",
            "--train-labels",
            "classes_y.npy",
            "--folds",
            "2",
        ],
        vec![
            "svm",
            "grid",
            "--train",
            "big_x.npy",
            "--train-labels",
            "big_y.npy",
            "--folds",
            "2",
            "--kernel",
            "poly",
            "--degree",
            "32",
            "--gamma",
            "1",
        ],
        vec!["runs", "list", "--db", "none.db"],
    ];
    for args in cases {
        let out = bounded(&ws, &args);
        let err = stderr(&out);
        assert_eq!(
            out.status.code(),
            Some(1),
            "`sarlab {}` must exit 1 with an error (not 101, 134 or a signal)\n{err}",
            args[..args.len().min(6)].join(" ")
        );
        assert!(err.contains("error:") && !err.contains("panicked"), "{err}");
    }
}

/// A tmpfs of `kb` KB mounted at `path` while it lives (needs root).
struct TinyDisk(std::path::PathBuf);

impl TinyDisk {
    fn mount(path: std::path::PathBuf, kb: usize) -> Option<Self> {
        std::fs::create_dir_all(&path).ok()?;
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kb}k"), "tmpfs"])
            .arg(&path)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        mounted.then_some(TinyDisk(path))
    }
}

impl Drop for TinyDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_report_on_a_full_disk_fails_with_no_truncated_files() {
    let ws = Workspace::new();
    let Some(disk) = TinyDisk::mount(ws.path("full"), 256) else {
        eprintln!("skipped: cannot mount a small tmpfs here (needs root) to fill a disk");
        return;
    };
    ws.write("tiny.toml", TINY_SPEC);
    let out = ws.sarlab(&["run", "tiny.toml", "--db", "runs.db", "--reports", "full"]);
    assert_failure_mentions(&out, &["cannot write the report"]);
    let reason = strings(
        &ws.db("runs.db"),
        "SELECT failure_reason FROM runs WHERE status = 'FAILED'",
    );
    assert_eq!(reason.len(), 1, "the study run is FAILED");
    // Every file the report got to write is whole; none is empty or a temporary.
    let mut pending = vec![disk.0.clone()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("ls") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            assert!(file_len(&path) > 0, "{} is empty", path.display());
            assert!(
                !name.starts_with('.') && !name.contains(".tmp"),
                "temporary {name} left behind"
            );
        }
    }
    // The configurations are kept: once there is room, running the study again
    // computes nothing and writes the report.
    drop(disk);
    let out = ws.sarlab(&["run", "tiny.toml", "--db", "runs.db", "--reports", "later"]);
    assert_success(&out);
    assert!(
        stdout(&out).contains("(0 run now, 8 already finished)"),
        "{}",
        stdout(&out)
    );
    assert!(ws.path("later/tiny/index.html").exists());
}
