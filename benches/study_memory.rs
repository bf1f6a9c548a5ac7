//! Peak memory of whole studies, measured by `/usr/bin/time -v` (maximum resident set
//! size) around the `sarlab` binary:
//!
//! 1. the DESIGN §7 study (`experiments/mstar-peer.toml`: 4 feature methods × 3 C ×
//!    3 γ × 5 folds + test refits on MSTAR SOC, PCA 100 randomized), and beside it, in
//!    the same run, the Python peer doing the same work (`scripts/bench/peer_study.py`
//!    through `$SARLAB_PYTHON`; skipped with the reason when it cannot run, and with
//!    `--no-peer`);
//! 2. how the peak grows: raw-pixel studies at crops 32, 64 and 96, and on a quarter,
//!    half and all of the chips (manifests over the same files).
//!
//! `cargo bench --bench study_memory [-- --no-peer]`. Skipped, with the reason printed,
//! when `../shared/datasets/mstar-soc` (or `$SARLAB_DATASETS/mstar-soc`) is absent.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn mstar_soc() -> Option<PathBuf> {
    sarlab_testkit::shared_dataset("mstar-soc")
}

/// Runs `command` under `/usr/bin/time -v`: (peak RSS in bytes, wall seconds, stdout).
fn measured(command: Command) -> Result<(u64, f64, String), String> {
    let program = command.get_program().to_owned();
    let args: Vec<_> = command.get_args().map(|a| a.to_owned()).collect();
    let mut timed = Command::new("/usr/bin/time");
    timed.arg("-v").arg(&program).args(&args);
    if let Some(dir) = command.get_current_dir() {
        timed.current_dir(dir);
    }
    for (key, value) in command.get_envs() {
        match value {
            Some(v) => timed.env(key, v),
            None => timed.env_remove(key),
        };
    }
    let start = Instant::now();
    let out = timed
        .output()
        .map_err(|e| format!("cannot run /usr/bin/time: {e}"))?;
    let seconds = start.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("{} failed:\n{stderr}", program.to_string_lossy()));
    }
    let kb = stderr
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.trim().parse::<u64>().ok())
        .ok_or_else(|| format!("no peak RSS in /usr/bin/time's output:\n{stderr}"))?;
    Ok((
        kb * 1024,
        seconds,
        String::from_utf8_lossy(&out.stdout).into_owned(),
    ))
}

fn gb(bytes: u64) -> f64 {
    bytes as f64 / 1e9
}

fn sarlab_study(dir: &Path, spec: &Path, data: Option<&Path>) -> Result<(u64, f64), String> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sarlab"));
    command
        .arg("run")
        .arg(spec)
        .arg("--db")
        .arg(dir.join(format!(
            "{}.db",
            spec.file_stem().unwrap_or_default().to_string_lossy()
        )))
        .arg("--reports")
        .arg(dir.join("reports"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("SLURM_ARRAY_TASK_ID");
    if let Some(data) = data {
        command.arg("--data").arg(data);
    }
    measured(command).map(|(rss, seconds, _)| (rss, seconds))
}

fn raw_spec(dir: &Path, crop: usize) -> PathBuf {
    let path = dir.join(format!("raw-crop{crop}.toml"));
    let text = format!(
        "name = \"memory-raw-{crop}\"\nseed = 7\n[dataset]\nsource = \"folder\"\npath = \"unused\"\n\
         [preprocess]\ncrop = {crop}\n[[features]]\nmethod = \"raw\"\n[reduce]\npca = 100\nsolver = \"randomized\"\n\
         [svm]\nC = [1, 10, 100]\ngamma = [\"scale\", 0.001, 0.01]\nfolds = 5\nmetric = \"accuracy\"\n"
    );
    std::fs::write(&path, text).expect("spec");
    path
}

/// A manifest over every `step`-th chip of each class folder of `root` (both splits).
fn subset_manifest(dir: &Path, root: &Path, step: usize) -> PathBuf {
    let path = dir.join(format!("every{step}.csv"));
    let mut text = String::from("path,label,split\n");
    for split in ["train", "test"] {
        let mut classes: Vec<_> = std::fs::read_dir(root.join(split))
            .expect("split folder")
            .map(|e| e.expect("entry").path())
            .collect();
        classes.sort();
        for class in classes {
            let mut chips: Vec<_> = std::fs::read_dir(&class)
                .expect("class folder")
                .map(|e| e.expect("entry").path())
                .collect();
            chips.sort();
            let label = class
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            for chip in chips.iter().step_by(step) {
                text.push_str(&format!("{},{label},{split}\n", chip.display()));
            }
        }
    }
    std::fs::write(&path, text).expect("manifest");
    path
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `cargo bench` passes --bench; a filter may follow.
    let no_peer = args.iter().any(|a| a == "--no-peer");
    let Some(root) = mstar_soc() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/mstar-peer.toml");
    println!(
        "DESIGN §7 study on MSTAR SOC (experiments/mstar-peer.toml), peak RSS by /usr/bin/time -v:"
    );
    match sarlab_study(dir.path(), &spec, Some(&root)) {
        Ok((rss, seconds)) => println!(
            "  sarlab              {:>6.3} GB  {seconds:>7.1} s",
            gb(rss)
        ),
        Err(e) => println!("  sarlab failed: {e}"),
    }
    if no_peer {
        println!("  Python peer         skipped (--no-peer)");
    } else {
        let peer = sarlab_testkit::peer::command(
            "scripts/bench/peer_study.py",
            &[root.display().to_string()],
        );
        match measured(peer) {
            Ok((rss, seconds, _)) => println!(
                "  Python peer         {:>6.3} GB  {seconds:>7.1} s",
                gb(rss)
            ),
            Err(e) => println!(
                "  Python peer skipped: {} (set SARLAB_PYTHON to a Python with numpy, scipy, scikit-image, scikit-learn, Pillow)",
                e.lines().next().unwrap_or("")
            ),
        }
    }
    println!("growth, raw pixels → PCA 100 → 3 C × 3 γ × 5 folds + refit:");
    for crop in [32, 64, 96] {
        let spec = raw_spec(dir.path(), crop);
        match sarlab_study(dir.path(), &spec, Some(&root)) {
            Ok((rss, seconds)) => println!(
                "  all 5171 chips, crop {crop:>3} ({:>5} features)  {:>6.3} GB  {seconds:>6.1} s",
                crop * crop,
                gb(rss)
            ),
            Err(e) => println!("  crop {crop} failed: {e}"),
        }
    }
    for step in [4, 2] {
        let manifest = subset_manifest(dir.path(), &root, step);
        let spec = raw_spec(dir.path(), 64);
        match sarlab_study(dir.path(), &spec, Some(&manifest)) {
            Ok((rss, seconds)) => println!(
                "  1/{step} of the chips, crop  64                 {:>6.3} GB  {seconds:>6.1} s",
                gb(rss)
            ),
            Err(e) => println!("  1/{step} of the chips failed: {e}"),
        }
    }
}
