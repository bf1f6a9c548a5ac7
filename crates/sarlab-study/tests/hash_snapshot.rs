//! Configuration hashes and run names of every spec under `experiments/`, against a
//! committed snapshot. A database deduplicates configurations by these hashes, so a
//! change here would make every existing database rerun its studies: the snapshot must
//! only change on purpose (`SARLAB_UPDATE_SNAPSHOTS=1 cargo test -p sarlab-study --test
//! hash_snapshot` rewrites it).

use std::path::{Path, PathBuf};

use sarlab_study::load_plan;
use sarlab_testkit::workspace_root;
use sarlab_track::config_hash;

/// The dataset enters every hash the same way; a fixed stand-in keeps the snapshot
/// independent of the data.
const DIGEST: &str = "snapshot-dataset-digest";

fn specs(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("experiments/ is readable") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            out.extend(specs(&path));
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn snapshot_text(root: &Path) -> String {
    let mut text = String::from("# spec\tstage\tconfiguration hash\trun name\n");
    for path in specs(&root.join("experiments")) {
        let plan = load_plan(&path, None).expect("every shipped spec is valid");
        let name = path
            .strip_prefix(root)
            .expect("under the root")
            .to_string_lossy()
            .into_owned();
        for feature in 0..plan.features.len() {
            for grid in 0..plan.grid.len() {
                for stage in ["cv", "test"] {
                    let hash = config_hash(DIGEST, &plan.params_of(feature, grid, stage));
                    let run = plan.run_name(feature, grid);
                    text.push_str(&format!("{name}\t{stage}\t{hash}\t{run}\n"));
                }
            }
        }
    }
    text
}

#[test]
fn configuration_hashes_of_the_shipped_specs_are_unchanged() {
    let root = workspace_root();
    let snapshot = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/config_hashes.tsv");
    let now = snapshot_text(&root);
    if std::env::var_os("SARLAB_UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(snapshot.parent().expect("a parent")).expect("mkdir");
        std::fs::write(&snapshot, &now).expect("write the snapshot");
        return;
    }
    let committed = std::fs::read_to_string(&snapshot).expect("the committed snapshot");
    for (line, (got, want)) in now.lines().zip(committed.lines()).enumerate() {
        assert_eq!(got, want, "line {} of {}", line + 1, snapshot.display());
    }
    assert_eq!(
        now.lines().count(),
        committed.lines().count(),
        "configurations added or removed: rerun with SARLAB_UPDATE_SNAPSHOTS=1 if on purpose"
    );
}

/// The synthetic quickstart dataset's digest (generated from the spec's seed).
const QUICKSTART_DIGEST: &str = "f7e8e964a9636bd1d9ebfad8944ed3859cdde6c2124f4a9d86ebb7b4e645e0f3";

#[test]
fn the_quickstart_hashes_equal_those_a_previous_release_recorded() {
    let root = workspace_root();
    let recorded = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/quickstart_db_hashes.txt"),
    )
    .expect("the recorded hashes");
    let recorded: Vec<(&str, &str)> = recorded
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split_once('|').expect("hash|name"))
        .collect();
    let plan = load_plan(&root.join("experiments/quickstart.toml"), None).expect("plan");
    let mut cv = 0;
    for feature in 0..plan.features.len() {
        for grid in 0..plan.grid.len() {
            let name = plan.run_name(feature, grid);
            let hash = config_hash(QUICKSTART_DIGEST, &plan.params_of(feature, grid, "cv"));
            assert!(
                recorded.contains(&(hash.as_str(), name.as_str())),
                "{name}: {hash}"
            );
            cv += 1;
            let test_name = format!("test {name}");
            if let Some((recorded_hash, _)) = recorded.iter().find(|(_, n)| *n == test_name) {
                let hash = config_hash(QUICKSTART_DIGEST, &plan.params_of(feature, grid, "test"));
                assert_eq!(&hash, recorded_hash, "{test_name}");
            }
        }
    }
    assert_eq!(cv + plan.methods().len(), recorded.len());
}
