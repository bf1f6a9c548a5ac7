//! The Python peers benchmarks time against (numpy, scikit-image, scikit-learn): one
//! way to run them, so every comparison uses the same interpreter and the same thread
//! and BLAS settings.

use std::process::Command;

use serde_json::Value;

/// `$SARLAB_PYTHON`, else `python3`.
pub fn python() -> String {
    std::env::var("SARLAB_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// A peer command: `script` (relative to the workspace root) with `args`, one thread
/// (`OMP_NUM_THREADS=1`), and OpenBLAS at its defaults (the machine's
/// `OPENBLAS_CORETYPE` / `OPENBLAS_L2_SIZE` tuning would not be the peer's).
pub fn command(script: &str, args: &[String]) -> Command {
    let mut command = Command::new(python());
    command
        .arg(crate::workspace_root().join(script))
        .args(args)
        .env("OMP_NUM_THREADS", "1")
        .env_remove("OPENBLAS_CORETYPE")
        .env_remove("OPENBLAS_L2_SIZE");
    command
}

/// Runs a peer that prints one JSON document; `None` after printing why the `what`
/// comparison is skipped (no such Python, `needs` missing, bad output).
pub fn run_json(what: &str, needs: &str, script: &str, args: &[String]) -> Option<Value> {
    let python = python();
    let skipped = |why: String| {
        println!("{what} comparison skipped: {why}");
        None
    };
    match command(script, args).output() {
        Ok(o) if o.status.success() => match serde_json::from_slice(&o.stdout) {
            Ok(v) => Some(v),
            Err(e) => skipped(format!("unreadable output: {e}")),
        },
        Ok(o) => skipped(format!(
            "{python} failed: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => skipped(format!(
            "cannot run {python}: {e} (set SARLAB_PYTHON to a Python with {needs})"
        )),
    }
}
