//! Nothing lost: outputs never land on inputs or databases, replaced files are
//! replaced whole, headline numbers are fold means, filters never silently match
//! nothing, and many processes can start on one fresh database.

use std::path::Path;
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

use crate::support::{
    TINY_SPEC, Workspace, assert_failure_mentions, assert_success, count, stdout, strings,
};

fn sha256_of(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn exports_never_overwrite_the_database_and_replace_files_whole() {
    let ws = Workspace::new();
    ws.write("tiny.toml", TINY_SPEC);
    assert_success(&ws.run_tiny(&[]));
    let db = ws.path("runs.db");
    // Checkpoint so the database file holds everything and its digest is stable.
    ws.db("runs.db")
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .expect("checkpoint");
    let before = sha256_of(&db);
    std::fs::hard_link(&db, ws.path("hard.db")).expect("hard link");
    std::os::unix::fs::symlink(&db, ws.path("soft.db")).expect("symlink");
    for target in [
        "runs.db",
        "./runs.db",
        "hard.db",
        "soft.db",
        "runs.db-wal",
        "runs.db-shm",
    ] {
        for format in ["csv", "json", "parquet"] {
            let out = ws.sarlab(&[
                "runs", "export", "--db", "runs.db", "--format", format, "--out", target,
            ]);
            assert_failure_mentions(
                &out,
                &["refusing to write", target.trim_start_matches("./")],
            );
        }
    }
    // Another SQLite file is refused too.
    std::fs::copy(&db, ws.path("other.db")).expect("copy");
    let other = sha256_of(&ws.path("other.db"));
    assert_failure_mentions(
        &ws.sarlab(&[
            "runs", "export", "--db", "runs.db", "--format", "csv", "--out", "other.db",
        ]),
        &["SQLite database"],
    );
    assert_eq!(sha256_of(&ws.path("other.db")), other);
    assert_eq!(sha256_of(&db), before, "the database is unchanged");
    assert_eq!(
        count(&ws.db("runs.db"), "SELECT COUNT(*) FROM runs"),
        11,
        "and still a database"
    );
}

/// An export into a full file system fails without touching the file it would
/// replace. Needs a tmpfs mount (root); skipped with the reason otherwise.
#[test]
fn an_export_into_a_full_disk_keeps_the_old_file() {
    let ws = Workspace::new();
    ws.write("tiny.toml", TINY_SPEC);
    assert_success(&ws.run_tiny(&[]));
    let mount = ws.path("full");
    std::fs::create_dir(&mount).expect("mkdir");
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(&mount)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        println!("skipped: cannot mount a tmpfs here (needs root)");
        return;
    }
    let unmount = || {
        let _ = Command::new("umount").arg(&mount).status();
    };
    let old = mount.join("runs.csv");
    std::fs::write(&old, "uuid\nold export\n").expect("old export");
    let before = sha256_of(&old);
    // Fill what is left, so the new export cannot be written whole.
    let _ = std::fs::write(mount.join("filler"), vec![0u8; 64 * 1024]);
    let out = ws.sarlab(&[
        "runs",
        "export",
        "--db",
        "runs.db",
        "--format",
        "csv",
        "--out",
        old.to_str().expect("utf-8"),
    ]);
    let after = sha256_of(&old);
    let leftovers: Vec<String> = std::fs::read_dir(&mount)
        .expect("ls")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    unmount();
    assert_failure_mentions(&out, &["runs.csv"]);
    assert_eq!(after, before, "the old export is unchanged");
    let mut leftovers = leftovers;
    leftovers.sort();
    assert_eq!(
        leftovers,
        ["filler", "runs.csv"],
        "no temporary file is left"
    );
}

#[test]
fn filter_commands_refuse_to_write_over_their_inputs() {
    let ws = Workspace::new();
    assert_success(&ws.synth("data", 3, 1, 1, 32));
    let chip = std::fs::read_dir(ws.path("data/train/tank"))
        .expect("ls")
        .next()
        .expect("a chip")
        .expect("entry")
        .path();
    // The chip, under the names the commands write.
    std::fs::create_dir(ws.path("d")).expect("mkdir");
    std::fs::copy(&chip, ws.path("d/panel.png")).expect("copy");
    std::fs::copy(&chip, ws.path("d/filtered.png")).expect("copy");
    let panel = sha256_of(&ws.path("d/panel.png"));
    let filtered = sha256_of(&ws.path("d/filtered.png"));
    for (args, input) in [
        (
            vec![
                "filter",
                "d/panel.png",
                "--out",
                "d",
                "--speckle",
                "mean:window=3",
            ],
            "panel.png",
        ),
        (
            vec![
                "filter",
                "d/filtered.png",
                "--out",
                "d",
                "--format",
                "png",
                "--speckle",
                "mean:window=3",
            ],
            "filtered.png",
        ),
        (vec!["spectrum", "d/panel.png", "--out", "d"], "panel.png"),
        (
            vec!["swap", "d/panel.png", "d/filtered.png", "--out", "d"],
            "panel.png",
        ),
    ] {
        let out = ws.sarlab(&args);
        assert_failure_mentions(&out, &["refusing to write", input, "input"]);
    }
    assert_eq!(sha256_of(&ws.path("d/panel.png")), panel);
    assert_eq!(sha256_of(&ws.path("d/filtered.png")), filtered);
    let names: Vec<_> = std::fs::read_dir(ws.path("d")).expect("ls").collect();
    assert_eq!(names.len(), 2, "nothing else was written");
}

#[test]
fn headline_numbers_are_fold_means_and_numeric_filters_match_either_spelling() {
    let ws = Workspace::new();
    ws.write("tiny.toml", TINY_SPEC);
    assert_success(&ws.run_tiny(&[]));
    let db = ws.db("runs.db");
    let uuid = strings(
        &db,
        "SELECT r.uuid FROM runs r JOIN params p ON p.run_id = r.id \
         WHERE p.key = 'stage' AND p.value = 'cv' ORDER BY r.id LIMIT 1",
    )
    .remove(0);
    let folds: Vec<f64> = {
        let mut statement = db
            .prepare(
                "SELECT m.value FROM metrics m JOIN runs r ON r.id = m.run_id \
                 WHERE r.uuid = ?1 AND m.key = 'cv_accuracy' ORDER BY m.step",
            )
            .expect("prepare");
        statement
            .query_map([&uuid], |r| r.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    assert_eq!(folds.len(), 3);
    let mean = folds.iter().sum::<f64>() / 3.0;
    let out = ws.sarlab(&["runs", "show", "--db", "runs.db", &uuid]);
    assert_success(&out);
    let line = stdout(&out)
        .lines()
        .find(|l| l.trim_start().starts_with("cv_accuracy "))
        .expect("a cv_accuracy line")
        .to_owned();
    assert!(line.contains(&format!("{mean:.6} ±")), "{line}");
    let out = ws.sarlab(&["runs", "show", "--db", "runs.db", &uuid, "--json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert!((json["metrics"]["cv_accuracy"].as_f64().expect("number") - mean).abs() < 1e-15);

    // `crop` is stored as the number 32: quoted or not, the same runs match.
    let matched = |filter: &str| -> i64 {
        let out = ws.sarlab(&[
            "runs", "list", "--db", "runs.db", "--filter", filter, "--json", "--limit", "0",
        ]);
        assert_success(&out);
        serde_json::from_str::<serde_json::Value>(&stdout(&out)).expect("JSON")["matched"]
            .as_i64()
            .expect("count")
    };
    let numeric = matched("params.crop = 32");
    assert_eq!(numeric, 10, "8 CV runs and 2 test runs have crop 32");
    assert_eq!(matched("params.crop = '32'"), numeric);
    assert_eq!(matched("params.crop in ('32', 48)"), numeric);
    assert_eq!(matched("params.crop != '32'"), 0);
    assert_eq!(
        matched("params.gamma = 'scale'"),
        count(
            &db,
            "SELECT COUNT(*) FROM params WHERE key = 'gamma' AND value = 'scale'"
        )
    );
    assert_eq!(
        matched("params.gamma = '0.001'"),
        matched("params.gamma = 0.001")
    );
}

/// 16 `sarlab run` processes start at once on one fresh database, 30 times: none
/// fails, and each configuration is recorded exactly once.
#[test]
fn sixteen_studies_started_at_once_on_a_fresh_database_record_each_configuration_once() {
    let ws = Workspace::new();
    // A 16×16-pixel, 2-class image folder.
    for (split, per_class) in [("train", 6), ("test", 3)] {
        for (class, base) in [("a", 40u8), ("b", 160u8)] {
            let dir = ws.path(&format!("data/{split}/{class}"));
            std::fs::create_dir_all(&dir).expect("mkdir");
            for k in 0..per_class {
                image::GrayImage::from_fn(16, 16, |x, y| {
                    image::Luma([base.wrapping_add(((x * 7 + y * 3 + k * 11) % 40) as u8)])
                })
                .save(dir.join(format!("{k}.png")))
                .expect("png");
            }
        }
    }
    ws.write(
        "two.toml",
        r#"
name = "two"
seed = 3

[dataset]
source = "folder"
path = "data"

[[features]]
method = "raw"

[svm]
C = [1, 10]
folds = 3
"#,
    );
    for round in 0..30 {
        let db = format!("fresh-{round}.db");
        let children: Vec<_> = (0..16)
            .map(|_| {
                ws.command(&["run", "two.toml", "--db", &db, "--reports", "out"])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("sarlab starts")
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().expect("sarlab ends");
            assert_success(&out);
        }
        let conn = ws.db(&db);
        let per_config = strings(
            &conn,
            "SELECT CAST(COUNT(*) AS TEXT) FROM runs r JOIN params p ON p.run_id = r.id \
             WHERE p.key = 'stage' AND p.value = 'cv' GROUP BY r.config_hash",
        );
        assert_eq!(per_config, ["1", "1"], "round {round}");
        assert_eq!(
            count(
                &conn,
                "SELECT COUNT(*) FROM runs r JOIN params p ON p.run_id = r.id \
                 WHERE p.key = 'stage' AND p.value = 'test'"
            ),
            1,
            "round {round}: one test refit"
        );
    }
}
