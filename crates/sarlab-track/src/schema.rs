//! The database schema: version 1 and the forward-only migrations after it.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension};

use crate::error::{Error, Result};
use crate::store::sql_error;

/// Version of the schema this build writes (`PRAGMA user_version`): the number of
/// `MIGRATIONS`.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The schema's history: `MIGRATIONS[v]` takes a database from version `v` to `v + 1`.
/// Forward only; a released step is never edited (a test opens databases of every
/// earlier version, with data, and checks what each step did).
pub(crate) const MIGRATIONS: [&str; 5] = [
    SCHEMA_V1,
    MIGRATION_V2,
    MIGRATION_V3,
    MIGRATION_V4,
    MIGRATION_V5,
];

/// The oldest version a read-only [`crate::Preview`] reads: every table it queries has
/// had its current shape since then.
pub(crate) const PREVIEW_SINCE: i64 = 3;

/// Version 1: experiments, runs, typed params, per-step metrics, tags, artifacts.
pub(crate) const SCHEMA_V1: &str = "
CREATE TABLE IF NOT EXISTS experiments (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_ms  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    uuid            TEXT PRIMARY KEY,
    experiment_id   INTEGER NOT NULL REFERENCES experiments(id),
    parent_uuid     TEXT REFERENCES runs(uuid),
    name            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('RUNNING', 'FINISHED', 'FAILED', 'KILLED')),
    start_ms        INTEGER NOT NULL,
    end_ms          INTEGER,
    heartbeat_ms    INTEGER,
    config_hash     TEXT NOT NULL,
    failure_reason  TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS runs_config ON runs(experiment_id, config_hash);
CREATE INDEX IF NOT EXISTS runs_parent ON runs(parent_uuid);
-- `value` has no declared type: numbers stay numbers, text stays text.
CREATE TABLE IF NOT EXISTS params (
    run_uuid  TEXT NOT NULL REFERENCES runs(uuid) ON DELETE CASCADE,
    key       TEXT NOT NULL,
    value,
    PRIMARY KEY (run_uuid, key)
);
CREATE TABLE IF NOT EXISTS metrics (
    run_uuid      TEXT NOT NULL REFERENCES runs(uuid) ON DELETE CASCADE,
    key           TEXT NOT NULL,
    value         REAL NOT NULL,
    step          INTEGER NOT NULL DEFAULT 0,
    timestamp_ms  INTEGER NOT NULL,
    PRIMARY KEY (run_uuid, key, step)
);
CREATE INDEX IF NOT EXISTS metrics_key ON metrics(key, value);
CREATE TABLE IF NOT EXISTS tags (
    run_uuid  TEXT NOT NULL REFERENCES runs(uuid) ON DELETE CASCADE,
    key       TEXT NOT NULL,
    value     TEXT NOT NULL,
    PRIMARY KEY (run_uuid, key)
);
CREATE TABLE IF NOT EXISTS artifacts (
    run_uuid  TEXT NOT NULL REFERENCES runs(uuid) ON DELETE CASCADE,
    path      TEXT NOT NULL,
    kind      TEXT NOT NULL,
    sha256    TEXT NOT NULL,
    PRIMARY KEY (run_uuid, path)
);
";

/// Version 2: which process owns a RUNNING run (so a rerun on the same host can tell a
/// dead one at once); `metric_latest`, each run's latest value of each metric key, kept
/// by every writer of `metrics` in the same transaction, so filters and orderings read
/// one indexed row instead of finding the highest step; covering `(key, value, run)` indexes for filters (the
/// `(key, value)` index on every metric step goes: it cost a scattered write per value
/// logged); and headline metrics (`f1_macro`, `accuracy`, …: the CV mean of a CV run,
/// the test value of a test run) for runs that version 1 recorded with only
/// `cv_<name>_mean` / `test_<name>`.
pub(crate) const MIGRATION_V2: &str = r"
ALTER TABLE runs ADD COLUMN pid INTEGER;
ALTER TABLE runs ADD COLUMN host TEXT;
DROP INDEX IF EXISTS metrics_key;
CREATE INDEX IF NOT EXISTS params_key_value ON params(key, value, run_uuid);
CREATE INDEX IF NOT EXISTS tags_key_value ON tags(key, value, run_uuid);
CREATE INDEX IF NOT EXISTS runs_experiment_start ON runs(experiment_id, start_ms);
CREATE INDEX IF NOT EXISTS runs_status ON runs(status);
CREATE TABLE metric_latest (
    run_uuid  TEXT NOT NULL REFERENCES runs(uuid) ON DELETE CASCADE,
    key       TEXT NOT NULL,
    step      INTEGER NOT NULL,
    value     REAL NOT NULL,
    PRIMARY KEY (run_uuid, key)
) WITHOUT ROWID;
-- With the primary key appended, this covers (key, value, run_uuid).
CREATE INDEX metric_latest_key_value ON metric_latest(key, value);
INSERT OR IGNORE INTO metrics (run_uuid, key, value, step, timestamp_ms)
    SELECT run_uuid, substr(key, 4, length(key) - 8), value, 0, timestamp_ms FROM metrics
    WHERE key LIKE 'cv!_%!_mean' ESCAPE '!' AND step = 0;
INSERT OR IGNORE INTO metrics (run_uuid, key, value, step, timestamp_ms)
    SELECT run_uuid, substr(key, 6), value, 0, timestamp_ms FROM metrics
    WHERE key LIKE 'test!_%' ESCAPE '!' AND step = 0;
";

/// Version 3: each run gets an integer id, `runs.id`, in the order runs were recorded,
/// and the tables of per-run rows refer to it instead of to the uuid (which stays the
/// public id, unique). Each table is keyed by (run, key) `WITHOUT ROWID`, and the
/// indexes filters scan are `(key, run, value)` instead of `(key, value, run)`.
/// A new run's rows then go at the end of every B-tree they touch (or of its key's
/// range), where random uuids and value-ordered indexes put them on a different page
/// each: that scattering made recording a run cost several milliseconds. A filter
/// scans one key's range of the index (100 000 rows for 100 000 runs: milliseconds).
///
/// SQLite cannot add an `INTEGER PRIMARY KEY` to a table, so the tables are rebuilt:
/// the old ones are renamed, new ones created and filled, the old ones dropped.
pub(crate) const MIGRATION_V3: &str = r"
ALTER TABLE runs RENAME TO runs_v2;
ALTER TABLE params RENAME TO params_v2;
ALTER TABLE metrics RENAME TO metrics_v2;
ALTER TABLE metric_latest RENAME TO metric_latest_v2;
ALTER TABLE tags RENAME TO tags_v2;
ALTER TABLE artifacts RENAME TO artifacts_v2;
CREATE TABLE runs (
    id              INTEGER PRIMARY KEY,
    uuid            TEXT NOT NULL UNIQUE,
    experiment_id   INTEGER NOT NULL REFERENCES experiments(id),
    parent_uuid     TEXT REFERENCES runs(uuid),
    name            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('RUNNING', 'FINISHED', 'FAILED', 'KILLED')),
    start_ms        INTEGER NOT NULL,
    end_ms          INTEGER,
    heartbeat_ms    INTEGER,
    config_hash     TEXT NOT NULL,
    failure_reason  TEXT,
    pid             INTEGER,
    host            TEXT
);
INSERT INTO runs (uuid, experiment_id, parent_uuid, name, status, start_ms, end_ms,
                  heartbeat_ms, config_hash, failure_reason, pid, host)
    SELECT uuid, experiment_id, parent_uuid, name, status, start_ms, end_ms,
           heartbeat_ms, config_hash, failure_reason, pid, host
    FROM runs_v2 ORDER BY rowid;
-- `value` has no declared type: numbers stay numbers, text stays text.
CREATE TABLE params (
    run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key     TEXT NOT NULL,
    value,
    PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
INSERT INTO params (run_id, key, value)
    SELECT r.id, p.key, p.value FROM params_v2 p JOIN runs r ON r.uuid = p.run_uuid;
CREATE TABLE metrics (
    run_id        INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key           TEXT NOT NULL,
    step          INTEGER NOT NULL DEFAULT 0,
    value         REAL NOT NULL,
    timestamp_ms  INTEGER NOT NULL,
    PRIMARY KEY (run_id, key, step)
) WITHOUT ROWID;
INSERT INTO metrics (run_id, key, step, value, timestamp_ms)
    SELECT r.id, m.key, m.step, m.value, m.timestamp_ms
    FROM metrics_v2 m JOIN runs r ON r.uuid = m.run_uuid;
CREATE TABLE metric_latest (
    run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key     TEXT NOT NULL,
    step    INTEGER NOT NULL,
    value   REAL NOT NULL,
    PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
INSERT INTO metric_latest (run_id, key, step, value)
    SELECT r.id, l.key, l.step, l.value FROM metric_latest_v2 l JOIN runs r ON r.uuid = l.run_uuid;
CREATE TABLE tags (
    run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key     TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
INSERT INTO tags (run_id, key, value)
    SELECT r.id, t.key, t.value FROM tags_v2 t JOIN runs r ON r.uuid = t.run_uuid;
CREATE TABLE artifacts (
    run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    path    TEXT NOT NULL,
    kind    TEXT NOT NULL,
    sha256  TEXT NOT NULL,
    PRIMARY KEY (run_id, path)
) WITHOUT ROWID;
INSERT INTO artifacts (run_id, path, kind, sha256)
    SELECT r.id, a.path, a.kind, a.sha256 FROM artifacts_v2 a JOIN runs r ON r.uuid = a.run_uuid;
DROP TABLE artifacts_v2;
DROP TABLE tags_v2;
DROP TABLE metric_latest_v2;
DROP TABLE metrics_v2;
DROP TABLE params_v2;
DROP TABLE runs_v2;
CREATE UNIQUE INDEX runs_config ON runs(experiment_id, config_hash);
CREATE INDEX runs_parent ON runs(parent_uuid);
CREATE INDEX runs_experiment_start ON runs(experiment_id, start_ms);
CREATE INDEX runs_status ON runs(status);
-- With the primary key appended, these cover (key, run_id, value, ...).
CREATE INDEX params_key_run ON params(key, run_id, value);
CREATE INDEX tags_key_run ON tags(key, run_id, value);
CREATE INDEX metric_latest_key_run ON metric_latest(key, run_id, value);
";

/// Version 4: `predictions`, a test run's prediction for every test chip (the chip's
/// `split/class/name`, true and predicted class index), so paired tests between methods
/// (McNemar's on the same chips) and per-class views are computed from the database.
pub(crate) const MIGRATION_V4: &str = r"
CREATE TABLE predictions (
    run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    chip       TEXT NOT NULL,
    truth      INTEGER NOT NULL,
    predicted  INTEGER NOT NULL,
    PRIMARY KEY (run_id, chip)
) WITHOUT ROWID;
";

/// Version 5: each prediction's one-vs-one decision values (a JSON array, one value per
/// pair machine in libsvm's pair order, written with shortest round-trip formatting so
/// they read back bit for bit); NULL for predictions recorded before version 5.
pub(crate) const MIGRATION_V5: &str = r"
ALTER TABLE predictions ADD COLUMN decision_values TEXT;
";

/// The tables of per-run rows in the current schema, each with its columns after
/// `run_id`: what goes with a run (replacing, merging).
pub(crate) const PER_RUN_TABLES: [(&str, &str); 6] = [
    ("params", "key, value"),
    ("metrics", "key, step, value, timestamp_ms"),
    ("metric_latest", "key, step, value"),
    ("tags", "key, value"),
    ("artifacts", "path, kind, sha256"),
    ("predictions", "chip, truth, predicted, decision_values"),
];

/// The first table with a row that refers to a missing row (`PRAGMA
/// foreign_key_check`), if any.
pub(crate) fn dangling_reference(conn: &Connection) -> rusqlite::Result<Option<String>> {
    conn.query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
        .optional()
}

/// Derives version 2's `metric_latest` from `metrics` for every run: the data step
/// after [`MIGRATION_V2`] (released; never edited).
pub(crate) const FILL_METRIC_LATEST_V2: &str = "
INSERT OR REPLACE INTO metric_latest (run_uuid, key, step, value)
    SELECT run_uuid, key, step, value FROM metrics m
    WHERE step = (SELECT MAX(s.step) FROM metrics s WHERE s.run_uuid = m.run_uuid AND s.key = m.key);
";

/// Derives `metric_latest` from `metrics` in the current schema, for tests that write
/// rows without [`Store::record_finished_run`].
#[cfg(test)]
pub(crate) const FILL_METRIC_LATEST: &str = "
INSERT OR REPLACE INTO metric_latest (run_id, key, step, value)
    SELECT run_id, key, step, value FROM metrics m
    WHERE step = (SELECT MAX(s.step) FROM metrics s WHERE s.run_id = m.run_id AND s.key = m.key);
";

/// Brings the database behind `conn` to [`SCHEMA_VERSION`] in one immediate transaction.
/// Foreign-key enforcement must be off (it cannot change inside a transaction): a table
/// rebuild drops tables that others refer to, and is checked as a whole at the end.
pub(crate) fn migrate_connection(conn: &Connection, path: &Path) -> Result<()> {
    let sql = sql_error(path.to_path_buf());
    conn.execute_batch("BEGIN IMMEDIATE").map_err(&sql)?;
    let outcome = (|| {
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(&sql)?;
        if version > SCHEMA_VERSION {
            return Err(Error::NewerSchema {
                path: path.to_path_buf(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        if version == SCHEMA_VERSION {
            return Ok(());
        }
        for (step, migration) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
            let derived = match step {
                // Version 2 introduced `metric_latest`: derive it from what is there.
                1 => FILL_METRIC_LATEST_V2,
                _ => "",
            };
            conn.execute_batch(migration)
                .and_then(|()| conn.execute_batch(derived))
                .map_err(|source| Error::Migration {
                    path: path.to_path_buf(),
                    from: step as i64,
                    source,
                })?;
        }
        // Rebuilt tables must still refer only to rows that exist.
        if let Some(table) = dangling_reference(conn).map_err(&sql)? {
            return Err(Error::Migration {
                path: path.to_path_buf(),
                from: version,
                source: rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY),
                    Some(format!("table {table} refers to a missing row")),
                ),
            });
        }
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(&sql)
    })();
    match outcome {
        Ok(()) => conn.execute_batch("COMMIT").map_err(&sql),
        Err(err) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(err)
        }
    }
}
