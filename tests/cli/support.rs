//! Helpers: running the binary in a temporary folder and reading its database.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rusqlite::Connection;

/// A tiny synthetic study: 8 classes × 8 train / 4 test chips of 40×40 pixels,
/// 2 feature methods × 4 SVM grid points, 3-fold CV. Runs in seconds.
pub const TINY_SPEC: &str = r#"
name = "tiny"
seed = 11

[dataset]
source = "synthetic"
path = "data"

[dataset.synthetic]
chip_size = 40
train_per_class = 8
test_per_class = 4

[preprocess]
crop = 32
intensity = "db"

[[features]]
method = "raw"
downsample = 2

[[features]]
method = "hog"
pixels_per_cell = 8
cells_per_block = 2

[svm]
C = [1, 10]
gamma = ["scale", 0.001]
folds = 3
"#;

pub struct Workspace {
    pub dir: tempfile::TempDir,
}

/// Every report a test wrote is copied here when set, for `.ci/browser-check.mjs` to
/// render in headless Chromium.
const KEEP_REPORTS: &str = "SARLAB_KEEP_TEST_REPORTS";

impl Drop for Workspace {
    fn drop(&mut self) {
        let Some(keep) = std::env::var_os(KEEP_REPORTS) else {
            return;
        };
        let name = std::thread::current()
            .name()
            .unwrap_or("test")
            .replace("::", "-");
        let mut pending = vec![self.dir.path().to_path_buf()];
        let mut n = 0;
        while let Some(dir) = pending.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            let entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
            if entries.iter().any(|p| p.ends_with("index.html")) {
                let target = Path::new(&keep).join(format!("{name}-{n}"));
                n += 1;
                let _ = std::fs::create_dir_all(&target);
                for file in entries.iter().filter(|p| p.is_file()) {
                    if let Some(file_name) = file.file_name() {
                        let _ = std::fs::copy(file, target.join(file_name));
                    }
                }
            }
            pending.extend(entries.into_iter().filter(|p| p.is_dir()));
        }
    }
}

impl Workspace {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temporary folder"),
        }
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    pub fn write(&self, relative: &str, text: &str) -> PathBuf {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write");
        path
    }

    /// `sarlab ARGS` with this folder as the working directory, not yet started.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sarlab"));
        command
            .args(args)
            .current_dir(self.dir.path())
            // Tests run inside a Slurm allocation must not be sharded by it.
            .env_remove("SLURM_ARRAY_TASK_ID");
        command
    }

    /// Runs `sarlab ARGS` with this folder as the working directory.
    pub fn sarlab(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("sarlab runs")
    }

    /// `sarlab dataset synth` writing a small dataset to `out`.
    pub fn synth(
        &self,
        out: &str,
        seed: u64,
        train_per_class: usize,
        test_per_class: usize,
        chip_size: usize,
    ) -> Output {
        let (seed, train, test, chip) = (
            seed.to_string(),
            train_per_class.to_string(),
            test_per_class.to_string(),
            chip_size.to_string(),
        );
        self.sarlab(&[
            "dataset",
            "synth",
            "--out",
            out,
            "--seed",
            &seed,
            "--train-per-class",
            &train,
            "--test-per-class",
            &test,
            "--chip-size",
            &chip,
        ])
    }

    /// `sarlab run tiny.toml --db runs.db --reports out`, plus `extra` arguments.
    pub fn run_tiny(&self, extra: &[&str]) -> Output {
        let mut args = vec!["run", "tiny.toml", "--db", "runs.db", "--reports", "out"];
        args.extend_from_slice(extra);
        self.sarlab(&args)
    }

    pub fn db(&self, name: &str) -> Connection {
        Connection::open(self.path(name)).expect("database opens")
    }
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[track_caller]
pub fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "sarlab failed\nstdout:\n{}\nstderr:\n{}",
        stdout(output),
        stderr(output)
    );
}

#[track_caller]
pub fn assert_failure_mentions(output: &Output, needles: &[&str]) {
    assert!(
        !output.status.success(),
        "sarlab should have failed\nstdout:\n{}",
        stdout(output)
    );
    let err = stderr(output);
    for needle in needles {
        assert!(err.contains(needle), "stderr lacks {needle:?}:\n{err}");
    }
    assert!(!err.contains("panicked"), "sarlab panicked:\n{err}");
}

pub fn count(db: &Connection, sql: &str) -> i64 {
    db.query_row(sql, [], |r| r.get(0)).expect("count query")
}

/// How many runs have the `stage` parameter `stage` (`cv`, `test` or `study`).
pub fn stage_count(db: &Connection, stage: &str) -> i64 {
    db.query_row(
        "SELECT COUNT(*) FROM params WHERE key = 'stage' AND value = ?1",
        [stage],
        |r| r.get(0),
    )
    .expect("stage count")
}

/// The first column of every row of `sql`, as text.
pub fn strings(db: &Connection, sql: &str) -> Vec<String> {
    let mut statement = db.prepare(sql).expect("prepare");
    statement
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

pub fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}
