//! Dev-only helpers shared by sarlab's tests and benchmarks (never a dependency of a
//! library or the binary): where the shared datasets are, the reference [`fixture`]s,
//! and the Python [`peer`]s benchmarks compare with.
//!
//! The real datasets are never copied into the repository: tests and benchmarks read
//! them from `$SARLAB_DATASETS`, else from `../shared/datasets` beside the workspace,
//! and skip with a printed reason when they are absent.
//!
//! ```
//! if let Some(root) = sarlab_testkit::shared_dataset("mstar-soc") {
//!     assert!(root.is_dir());
//! }
//! ```

pub mod fixture;
pub mod peer;

use std::path::{Path, PathBuf};

/// The workspace root (this crate lives in `crates/sarlab-testkit`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where the shared datasets are: `$SARLAB_DATASETS`, else `../shared/datasets`
/// beside the workspace.
pub fn datasets_dir() -> PathBuf {
    std::env::var_os("SARLAB_DATASETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared/datasets"))
}

/// The shared dataset `name` (e.g. `mstar-soc`), or `None` after printing why it is
/// skipped.
pub fn shared_dataset(name: &str) -> Option<PathBuf> {
    let path = datasets_dir().join(name);
    if path.is_dir() {
        Some(path)
    } else {
        println!(
            "skipped: dataset {name} is not at {} (set SARLAB_DATASETS to the folder holding it)",
            path.display()
        );
        None
    }
}

/// The case count of a property test: `PROPTEST_CASES` when set (a long local run),
/// otherwise `default` (bounded, for CI).
pub fn proptest_cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workspace_root_holds_the_workspace_manifest() {
        let manifest = std::fs::read_to_string(workspace_root().join("Cargo.toml"))
            .expect("the root manifest");
        assert!(manifest.contains("[workspace]"));
    }

    #[test]
    fn a_missing_dataset_is_none() {
        assert_eq!(shared_dataset("no-such-dataset-anywhere"), None);
    }
}
