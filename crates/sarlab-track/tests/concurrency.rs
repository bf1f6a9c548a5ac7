//! Several processes writing one run database at once (DESIGN §3: 8 writers × 300
//! read-then-insert transactions must all commit).
//!
//! The test starts copies of this test binary that run only `writer_process`, which does
//! nothing unless `SARLAB_TRACK_WRITER` names a database.

use std::path::Path;
use std::process::{Command, Stdio};

use rusqlite::OptionalExtension;

use sarlab_track::{Metric, NewRun, ParamValue, RunQuery, Store, config_hash};

const WRITERS: usize = 8;
const RUNS_PER_WRITER: usize = 300;

#[test]
fn eight_processes_write_2400_runs_and_lose_none() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("runs.db");
    // Create the schema first so the writers race on runs, not on the migration.
    drop(Store::open(&db).expect("create"));
    let exe = std::env::current_exe().expect("test binary");
    let children: Vec<_> = (0..WRITERS)
        .map(|writer| {
            Command::new(&exe)
                .args(["writer_process", "--exact", "--ignored", "--nocapture"])
                .env("SARLAB_TRACK_WRITER", &db)
                .env("SARLAB_TRACK_WRITER_INDEX", writer.to_string())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("writer starts")
        })
        .collect();
    // All eight are started before the first is waited for: they write at once.
    for (writer, child) in children.into_iter().enumerate() {
        let output = child.wait_with_output().expect("writer ends");
        assert!(
            output.status.success(),
            "writer {writer} failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let store = Store::open(&db).expect("open");
    let listing = store.list_runs(&RunQuery::default()).expect("list");
    assert_eq!(listing.matched, WRITERS * RUNS_PER_WRITER);
    let conn = rusqlite::Connection::open(&db).expect("open");
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity");
    assert_eq!(integrity, "ok");
    let metrics: i64 = conn
        .query_row("SELECT COUNT(*) FROM metrics", [], |r| r.get(0))
        .expect("count");
    assert_eq!(metrics as usize, WRITERS * RUNS_PER_WRITER * 5);
    // Every row refers to an existing run, and to the right one: each run's `writer`
    // and `index` params are the ones in its name.
    let dangling: Option<String> = conn
        .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
        .optional()
        .expect("foreign keys");
    assert_eq!(dangling, None);
    let misattributed: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM runs r
             JOIN params w ON w.run_id = r.id AND w.key = 'writer'
             JOIN params i ON i.run_id = r.id AND i.key = 'index'
             WHERE r.name != 'writer ' || w.value || ' run ' || i.value",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(misattributed, 0);
}

/// One writer: 300 configurations, each looked up and then recorded.
#[test]
#[ignore = "started by eight_processes_write_2400_runs_and_lose_none"]
fn writer_process() {
    let Some(db) = std::env::var_os("SARLAB_TRACK_WRITER") else {
        return;
    };
    let writer: i64 = std::env::var("SARLAB_TRACK_WRITER_INDEX")
        .ok()
        .and_then(|w| w.parse().ok())
        .expect("writer index");
    write_runs(Path::new(&db), writer);
}

fn write_runs(db: &Path, writer: i64) {
    let mut store = Store::open(db).expect("open");
    let experiment = store.experiment("concurrent").expect("experiment");
    for i in 0..RUNS_PER_WRITER as i64 {
        let params: Vec<(String, ParamValue)> = vec![
            ("writer".to_owned(), writer.into()),
            ("index".to_owned(), i.into()),
            ("C".to_owned(), (i as f64 * 0.5).into()),
            ("kernel".to_owned(), "rbf".into()),
        ];
        let hash = config_hash("digest", &params);
        assert!(
            store
                .run_by_hash(experiment, &hash)
                .expect("lookup")
                .is_none()
        );
        store
            .record_finished_run(&NewRun {
                artifacts: Vec::new(),
                experiment_id: experiment,
                parent: None,
                name: format!("writer {writer} run {i}"),
                config_hash: hash,
                params,
                metrics: (0..5)
                    .map(|fold| Metric::new("cv_accuracy", 0.5 + 0.01 * fold as f64, fold))
                    .collect(),
                tags: vec![("stage".to_owned(), "cv".to_owned())],
                start_ms: 0,
                end_ms: 1,
                predictions: Vec::new(),
            })
            .expect("record");
    }
}

const OPENERS: usize = 16;
const OPEN_ROUNDS: usize = 200;

/// 16 processes open one *fresh* database at the same moment, 200 times over: the
/// first open of a file switches it into WAL mode and creates the schema, and SQLite
/// may answer the others SQLITE_BUSY without consulting the busy handler meanwhile.
/// Every open must succeed.
#[test]
fn sixteen_processes_open_a_fresh_database_at_once_200_times() {
    let dir = tempfile::tempdir().expect("tempdir");
    let exe = std::env::current_exe().expect("test binary");
    let mut failures = Vec::new();
    for round in 0..OPEN_ROUNDS {
        let db = dir.path().join(format!("fresh-{round}.db"));
        // Every child waits for the same instant, so the opens really collide.
        let start_at = now_ms() + 150;
        let children: Vec<_> = (0..OPENERS)
            .map(|_| {
                Command::new(&exe)
                    .args(["opener_process", "--exact", "--ignored", "--nocapture"])
                    .env("SARLAB_TRACK_OPENER", &db)
                    .env("SARLAB_TRACK_OPEN_AT_MS", start_at.to_string())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("opener starts")
            })
            .collect();
        for child in children {
            let output = child.wait_with_output().expect("opener ends");
            if !output.status.success() {
                failures.push(format!(
                    "round {round}: {}{}",
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                ));
            }
        }
        let store = Store::open(&db).expect("open after the round");
        let listing = store.list_runs(&RunQuery::default()).expect("list");
        assert_eq!(
            listing.matched, OPENERS,
            "round {round}: one run per opener"
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {} opens failed:\n{}",
        failures.len(),
        OPENERS * OPEN_ROUNDS,
        failures.join("\n")
    );
}

/// One opener: waits for the agreed instant, opens the database (creating it), and
/// records a run, as `sarlab run` does first thing.
#[test]
#[ignore = "started by sixteen_processes_open_a_fresh_database_at_once_200_times"]
fn opener_process() {
    let Some(db) = std::env::var_os("SARLAB_TRACK_OPENER") else {
        return;
    };
    let start_at: u64 = std::env::var("SARLAB_TRACK_OPEN_AT_MS")
        .ok()
        .and_then(|t| t.parse().ok())
        .expect("start time");
    if let Some(wait) = start_at.checked_sub(now_ms()) {
        std::thread::sleep(std::time::Duration::from_millis(wait));
    }
    let mut store = Store::open(Path::new(&db)).expect("open");
    let experiment = store.experiment("fresh").expect("experiment");
    let params: Vec<(String, ParamValue)> =
        vec![("pid".to_owned(), i64::from(std::process::id()).into())];
    store
        .record_finished_run(&NewRun {
            artifacts: Vec::new(),
            experiment_id: experiment,
            parent: None,
            name: format!("opener {}", std::process::id()),
            config_hash: config_hash("fresh", &params),
            params,
            metrics: vec![Metric::new("ok", 1.0, 0)],
            tags: vec![],
            start_ms: 0,
            end_ms: 1,
            predictions: Vec::new(),
        })
        .expect("record");
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
