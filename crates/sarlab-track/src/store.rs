use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{Connection, OptionalExtension, ToSql, TransactionBehavior, params};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Version of the schema this build writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 1;

/// How long a writer waits for another process's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) const SCHEMA: &str = "
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

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A parameter value with its type.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    Int(i64),
    Real(f64),
    Text(String),
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Int(v) => write!(f, "{v}"),
            ParamValue::Real(v) => write!(f, "{v}"),
            ParamValue::Text(v) => f.write_str(v),
        }
    }
}

impl From<&str> for ParamValue {
    fn from(v: &str) -> Self {
        ParamValue::Text(v.to_owned())
    }
}
impl From<String> for ParamValue {
    fn from(v: String) -> Self {
        ParamValue::Text(v)
    }
}
impl From<f64> for ParamValue {
    fn from(v: f64) -> Self {
        ParamValue::Real(v)
    }
}
impl From<i64> for ParamValue {
    fn from(v: i64) -> Self {
        ParamValue::Int(v)
    }
}
impl From<usize> for ParamValue {
    fn from(v: usize) -> Self {
        ParamValue::Int(v as i64)
    }
}
impl From<bool> for ParamValue {
    fn from(v: bool) -> Self {
        ParamValue::Text(v.to_string())
    }
}

impl ToSql for ParamValue {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            ParamValue::Int(v) => ToSqlOutput::Owned(Value::Integer(*v)),
            ParamValue::Real(v) => ToSqlOutput::Owned(Value::Real(*v)),
            ParamValue::Text(v) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
        })
    }
}

impl ParamValue {
    fn from_sql(value: ValueRef<'_>) -> Self {
        match value {
            ValueRef::Integer(v) => ParamValue::Int(v),
            ValueRef::Real(v) => ParamValue::Real(v),
            ValueRef::Text(t) | ValueRef::Blob(t) => {
                ParamValue::Text(String::from_utf8_lossy(t).into_owned())
            }
            ValueRef::Null => ParamValue::Text(String::new()),
        }
    }

    fn canonical(&self) -> serde_json::Value {
        match self {
            ParamValue::Int(v) => serde_json::json!({ "i": v }),
            ParamValue::Real(v) => serde_json::json!({ "r": v }),
            ParamValue::Text(v) => serde_json::json!({ "s": v }),
        }
    }
}

/// One metric value; per-fold values use `step` = fold index.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    pub key: String,
    pub value: f64,
    pub step: i64,
}

impl Metric {
    pub fn new(key: impl Into<String>, value: f64, step: i64) -> Self {
        Self {
            key: key.into(),
            value,
            step,
        }
    }
}

/// Lifecycle state of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    Running,
    Finished,
    Failed,
    Killed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "RUNNING",
            RunStatus::Finished => "FINISHED",
            RunStatus::Failed => "FAILED",
            RunStatus::Killed => "KILLED",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [
            RunStatus::Running,
            RunStatus::Finished,
            RunStatus::Failed,
            RunStatus::Killed,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// A completed run to record in one transaction.
#[derive(Debug, Clone)]
pub struct NewRun<'a> {
    pub experiment_id: i64,
    pub parent: Option<&'a str>,
    pub name: String,
    pub config_hash: String,
    pub params: Vec<(String, ParamValue)>,
    pub metrics: Vec<Metric>,
    pub tags: Vec<(String, String)>,
    pub start_ms: i64,
    pub end_ms: i64,
}

/// A run as read back from the store.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRun {
    pub uuid: String,
    pub name: String,
    pub status: RunStatus,
    pub start_ms: i64,
    pub end_ms: Option<i64>,
    pub failure_reason: Option<String>,
    pub params: BTreeMap<String, ParamValue>,
    pub metrics: Vec<Metric>,
    pub tags: BTreeMap<String, String>,
}

impl StoredRun {
    /// The value of a metric at a step.
    pub fn metric(&self, key: &str, step: i64) -> Option<f64> {
        self.metrics
            .iter()
            .find(|m| m.key == key && m.step == step)
            .map(|m| m.value)
    }

    /// All steps of a metric, in step order.
    pub fn metric_steps(&self, key: &str) -> Vec<f64> {
        let mut steps: Vec<&Metric> = self.metrics.iter().filter(|m| m.key == key).collect();
        steps.sort_by_key(|m| m.step);
        steps.into_iter().map(|m| m.value).collect()
    }
}

/// Hash identifying a configuration: SHA-256 of the dataset digest and the parameters
/// in canonical form (sorted keys, typed values).
pub fn config_hash(dataset_digest: &str, params: &[(String, ParamValue)]) -> String {
    let sorted: BTreeMap<&str, serde_json::Value> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.canonical()))
        .collect();
    let canonical = serde_json::json!({ "dataset": dataset_digest, "params": sorted });
    let digest = Sha256::digest(canonical.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Tags describing where and from what a run was made: git commit and dirty flag of
/// the repository at `dir`, host, sarlab version, command line.
pub fn environment_tags(sarlab_version: &str, dir: &Path) -> Vec<(String, String)> {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let commit = git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".to_owned());
    let dirty = match git(&["status", "--porcelain", "--untracked-files=no"]) {
        Some(s) => (!s.is_empty()).to_string(),
        None => "unknown".to_owned(),
    };
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".to_owned());
    let command_line = std::env::args().collect::<Vec<_>>().join(" ");
    vec![
        ("git_commit".to_owned(), commit),
        ("git_dirty".to_owned(), dirty),
        ("host".to_owned(), host),
        ("sarlab_version".to_owned(), sarlab_version.to_owned()),
        ("command_line".to_owned(), command_line),
    ]
}

/// Maps SQLite errors to [`Error::Sql`] naming the database file.
fn sql_error(path: PathBuf) -> impl Fn(rusqlite::Error) -> Error {
    move |source| Error::Sql {
        path: path.clone(),
        source,
    }
}

/// Adds or replaces tags of a run inside a transaction.
fn upsert_tags(
    tx: &rusqlite::Transaction<'_>,
    uuid: &str,
    tags: &[(String, String)],
) -> rusqlite::Result<()> {
    let mut stmt = tx
        .prepare_cached("INSERT OR REPLACE INTO tags (run_uuid, key, value) VALUES (?1, ?2, ?3)")?;
    for (key, value) in tags {
        stmt.execute(params![uuid, key, value])?;
    }
    Ok(())
}

/// A connection to a run database.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the database at `path` in WAL mode.
    pub fn open(path: &Path) -> Result<Self> {
        let open_err = |source| Error::Open {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_err)?;
        let mut store = Self {
            conn,
            path: path.to_path_buf(),
        };
        store.migrate()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sql(&self) -> impl Fn(rusqlite::Error) -> Error + '_ {
        sql_error(self.path.clone())
    }

    fn migrate(&mut self) -> Result<()> {
        let sql = sql_error(self.path.clone());
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&sql)?;
        let version: i64 = tx
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(&sql)?;
        if version > SCHEMA_VERSION {
            return Err(Error::NewerSchema {
                path: self.path.clone(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        if version < 1 {
            tx.execute_batch(SCHEMA).map_err(&sql)?;
            tx.pragma_update(None, "user_version", SCHEMA_VERSION)
                .map_err(&sql)?;
        }
        tx.commit().map_err(&sql)
    }

    /// The id of the experiment called `name`, created if new.
    pub fn experiment(&mut self, name: &str) -> Result<i64> {
        let sql = self.sql();
        self.conn
            .execute(
                "INSERT INTO experiments (name, created_ms) VALUES (?1, ?2) ON CONFLICT(name) DO NOTHING",
                params![name, now_ms()],
            )
            .map_err(&sql)?;
        self.conn
            .query_row("SELECT id FROM experiments WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .map_err(&sql)
    }

    /// The uuid and status of the run with this configuration hash, if any.
    pub fn run_by_hash(
        &self,
        experiment_id: i64,
        config_hash: &str,
    ) -> Result<Option<(String, RunStatus)>> {
        let row: Option<(String, String)> = self
            .conn
            .query_row(
                "SELECT uuid, status FROM runs WHERE experiment_id = ?1 AND config_hash = ?2",
                params![experiment_id, config_hash],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(self.sql())?;
        Ok(
            row.map(|(uuid, status)| {
                (uuid, RunStatus::parse(&status).unwrap_or(RunStatus::Failed))
            }),
        )
    }

    /// Starts a run that stays RUNNING until [`Store::end_run`], such as a study's parent
    /// run. A run with the same configuration hash is reused (a rerun of the same study):
    /// it is set RUNNING again with the new parameters and tags.
    pub fn start_run(
        &mut self,
        experiment_id: i64,
        parent: Option<&str>,
        name: &str,
        config_hash: &str,
        params_list: &[(String, ParamValue)],
        tags: &[(String, String)],
    ) -> Result<String> {
        let sql = sql_error(self.path.clone());
        let now = now_ms();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&sql)?;
        let existing: Option<String> = tx
            .query_row(
                "SELECT uuid FROM runs WHERE experiment_id = ?1 AND config_hash = ?2",
                params![experiment_id, config_hash],
                |r| r.get(0),
            )
            .optional()
            .map_err(&sql)?;
        let uuid = match existing {
            Some(uuid) => {
                tx.execute(
                    "UPDATE runs SET status = 'RUNNING', start_ms = ?2, end_ms = NULL, heartbeat_ms = ?2,
                     failure_reason = NULL, name = ?3 WHERE uuid = ?1",
                    params![uuid, now, name],
                )
                .map_err(&sql)?;
                uuid
            }
            None => {
                let uuid = uuid::Uuid::new_v4().to_string();
                tx.execute(
                    "INSERT INTO runs (uuid, experiment_id, parent_uuid, name, status, start_ms, heartbeat_ms, config_hash)
                     VALUES (?1, ?2, ?3, ?4, 'RUNNING', ?5, ?5, ?6)",
                    params![uuid, experiment_id, parent, name, now, config_hash],
                )
                .map_err(&sql)?;
                uuid
            }
        };
        for (key, value) in params_list {
            tx.execute(
                "INSERT OR REPLACE INTO params (run_uuid, key, value) VALUES (?1, ?2, ?3)",
                params![uuid, key, value],
            )
            .map_err(&sql)?;
        }
        upsert_tags(&tx, &uuid, tags).map_err(&sql)?;
        tx.commit().map_err(&sql)?;
        Ok(uuid)
    }

    /// Adds or replaces tags of a run.
    pub fn set_tags(&mut self, uuid: &str, tags: &[(String, String)]) -> Result<()> {
        let sql = sql_error(self.path.clone());
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&sql)?;
        upsert_tags(&tx, uuid, tags).map_err(&sql)?;
        tx.commit().map_err(&sql)
    }

    /// Ends a run with a final status (and, for FAILED/KILLED, the reason).
    pub fn end_run(&mut self, uuid: &str, status: RunStatus, reason: Option<&str>) -> Result<()> {
        let changed = self
            .conn
            .execute(
                "UPDATE runs SET status = ?2, end_ms = ?3, heartbeat_ms = ?3, failure_reason = ?4 WHERE uuid = ?1",
                params![uuid, status.as_str(), now_ms(), reason],
            )
            .map_err(self.sql())?;
        if changed == 0 {
            return Err(Error::NoSuchRun(uuid.to_owned()));
        }
        Ok(())
    }

    /// Records a completed run with its parameters, metrics and tags in one
    /// transaction, as FINISHED. If a run with the same configuration hash already
    /// exists (another process finished it first), nothing is written and its uuid is
    /// returned.
    pub fn record_finished_run(&mut self, run: &NewRun<'_>) -> Result<String> {
        if let Some(bad) = run.metrics.iter().find(|m| !m.value.is_finite()) {
            return Err(Error::NonFiniteMetric {
                key: bad.key.clone(),
                value: bad.value,
            });
        }
        let sql = sql_error(self.path.clone());
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&sql)?;
        let existing: Option<String> = tx
            .query_row(
                "SELECT uuid FROM runs WHERE experiment_id = ?1 AND config_hash = ?2",
                params![run.experiment_id, run.config_hash],
                |r| r.get(0),
            )
            .optional()
            .map_err(&sql)?;
        if let Some(uuid) = existing {
            return Ok(uuid);
        }
        let uuid = uuid::Uuid::new_v4().to_string();
        tx.execute(
            "INSERT INTO runs (uuid, experiment_id, parent_uuid, name, status, start_ms, end_ms, heartbeat_ms, config_hash)
             VALUES (?1, ?2, ?3, ?4, 'FINISHED', ?5, ?6, ?6, ?7)",
            params![uuid, run.experiment_id, run.parent, run.name, run.start_ms, run.end_ms, run.config_hash],
        )
        .map_err(&sql)?;
        {
            let mut insert_param = tx
                .prepare_cached("INSERT INTO params (run_uuid, key, value) VALUES (?1, ?2, ?3)")
                .map_err(&sql)?;
            for (key, value) in &run.params {
                insert_param
                    .execute(params![uuid, key, value])
                    .map_err(&sql)?;
            }
            let mut insert_metric = tx
                .prepare_cached(
                    "INSERT INTO metrics (run_uuid, key, value, step, timestamp_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(&sql)?;
            for m in &run.metrics {
                insert_metric
                    .execute(params![uuid, m.key, m.value, m.step, run.end_ms])
                    .map_err(&sql)?;
            }
            let mut insert_tag = tx
                .prepare_cached("INSERT INTO tags (run_uuid, key, value) VALUES (?1, ?2, ?3)")
                .map_err(&sql)?;
            for (key, value) in &run.tags {
                insert_tag
                    .execute(params![uuid, key, value])
                    .map_err(&sql)?;
            }
        }
        tx.commit().map_err(&sql)?;
        Ok(uuid)
    }

    /// Records a file produced by a run.
    pub fn add_artifact(&mut self, uuid: &str, path: &str, kind: &str, sha256: &str) -> Result<()> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO artifacts (run_uuid, path, kind, sha256) VALUES (?1, ?2, ?3, ?4)",
                params![uuid, path, kind, sha256],
            )
            .map_err(self.sql())?;
        Ok(())
    }

    /// A run with its parameters, metrics and tags.
    pub fn run(&self, uuid: &str) -> Result<StoredRun> {
        let sql = self.sql();
        let head = self
            .conn
            .query_row(
                "SELECT name, status, start_ms, end_ms, failure_reason FROM runs WHERE uuid = ?1",
                [uuid],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, Option<i64>>(3)?,
                        r.get::<_, Option<String>>(4)?,
                    ))
                },
            )
            .optional()
            .map_err(&sql)?
            .ok_or_else(|| Error::NoSuchRun(uuid.to_owned()))?;
        let mut stmt = self
            .conn
            .prepare_cached("SELECT key, value FROM params WHERE run_uuid = ?1")
            .map_err(&sql)?;
        let params = stmt
            .query_map([uuid], |r| {
                Ok((r.get::<_, String>(0)?, ParamValue::from_sql(r.get_ref(1)?)))
            })
            .map_err(&sql)?
            .collect::<rusqlite::Result<BTreeMap<_, _>>>()
            .map_err(&sql)?;
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT key, value, step FROM metrics WHERE run_uuid = ?1 ORDER BY key, step",
            )
            .map_err(&sql)?;
        let metrics = stmt
            .query_map([uuid], |r| {
                Ok(Metric::new(r.get::<_, String>(0)?, r.get(1)?, r.get(2)?))
            })
            .map_err(&sql)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(&sql)?;
        let mut stmt = self
            .conn
            .prepare_cached("SELECT key, value FROM tags WHERE run_uuid = ?1")
            .map_err(&sql)?;
        let tags = stmt
            .query_map([uuid], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(&sql)?
            .collect::<rusqlite::Result<BTreeMap<_, _>>>()
            .map_err(&sql)?;
        Ok(StoredRun {
            uuid: uuid.to_owned(),
            name: head.0,
            status: RunStatus::parse(&head.1).unwrap_or(RunStatus::Failed),
            start_ms: head.2,
            end_ms: head.3,
            failure_reason: head.4,
            params,
            metrics,
            tags,
        })
    }

    /// Number of runs in an experiment (all statuses).
    pub fn count_runs(&self, experiment_id: i64) -> Result<usize> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM runs WHERE experiment_id = ?1",
                [experiment_id],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as usize)
            .map_err(self.sql())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_run<'a>(exp: i64, parent: Option<&'a str>, hash: &str) -> NewRun<'a> {
        NewRun {
            experiment_id: exp,
            parent,
            name: "hog C=10".to_owned(),
            config_hash: hash.to_owned(),
            params: vec![
                ("C".to_owned(), 10.0.into()),
                ("feature".to_owned(), "hog".into()),
                ("folds".to_owned(), 5usize.into()),
            ],
            metrics: vec![
                Metric::new("cv_accuracy", 0.8, 0),
                Metric::new("cv_accuracy", 0.9, 1),
            ],
            tags: vec![("stage".to_owned(), "cv".to_owned())],
            start_ms: 1,
            end_ms: 2,
        }
    }

    #[test]
    fn records_and_reads_back_typed_runs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&dir.path().join("runs.db")).expect("open");
        let exp = store.experiment("study").expect("experiment");
        assert_eq!(store.experiment("study").expect("again"), exp);
        let parent = store
            .start_run(exp, None, "study", "p", &[], &[])
            .expect("parent");
        let uuid = store
            .record_finished_run(&sample_run(exp, Some(&parent), "h1"))
            .expect("record");
        let run = store.run(&uuid).expect("read");
        assert_eq!(run.status, RunStatus::Finished);
        assert_eq!(run.params["C"], ParamValue::Real(10.0));
        assert_eq!(run.params["folds"], ParamValue::Int(5));
        assert_eq!(run.metric_steps("cv_accuracy"), vec![0.8, 0.9]);
        // Numbers are SQL numbers: numeric comparison works.
        let n: i64 = store
            .conn
            .query_row(
                "SELECT COUNT(*) FROM params WHERE key = 'C' AND value > 9.5",
                [],
                |r| r.get(0),
            )
            .expect("query");
        assert_eq!(n, 1);
    }

    #[test]
    fn same_configuration_is_not_recorded_twice() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&dir.path().join("runs.db")).expect("open");
        let exp = store.experiment("study").expect("experiment");
        let a = store
            .record_finished_run(&sample_run(exp, None, "h1"))
            .expect("record");
        let b = store
            .record_finished_run(&sample_run(exp, None, "h1"))
            .expect("record");
        assert_eq!(a, b);
        assert_eq!(store.count_runs(exp).expect("count"), 1);
        assert_eq!(
            store.run_by_hash(exp, "h1").expect("query"),
            Some((a, RunStatus::Finished))
        );
    }

    #[test]
    fn parent_run_is_reused_and_ends_with_a_reason() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("runs.db");
        let mut store = Store::open(&path).expect("open");
        let exp = store.experiment("study").expect("experiment");
        let p1 = store
            .start_run(exp, None, "study", "spec", &[], &[])
            .expect("start");
        store
            .end_run(&p1, RunStatus::Failed, Some("dataset missing"))
            .expect("end");
        let run = store.run(&p1).expect("read");
        assert_eq!(run.status, RunStatus::Failed);
        assert_eq!(run.failure_reason.as_deref(), Some("dataset missing"));
        drop(store);
        let mut store = Store::open(&path).expect("reopen");
        let p2 = store
            .start_run(exp, None, "study", "spec", &[], &[])
            .expect("restart");
        assert_eq!(p1, p2);
        assert_eq!(store.run(&p2).expect("read").status, RunStatus::Running);
        assert_eq!(store.count_runs(exp).expect("count"), 1);
    }

    #[test]
    fn non_finite_metrics_are_refused_and_nothing_is_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&dir.path().join("runs.db")).expect("open");
        let exp = store.experiment("study").expect("experiment");
        let mut run = sample_run(exp, None, "h1");
        run.metrics.push(Metric::new("f1_macro", f64::NAN, 0));
        let err = store.record_finished_run(&run).unwrap_err();
        assert!(err.to_string().contains("`f1_macro`"), "{err}");
        assert_eq!(store.count_runs(exp).expect("count"), 0);
    }

    #[test]
    fn config_hash_is_order_independent_and_type_sensitive() {
        let a = vec![
            ("C".to_owned(), ParamValue::Real(1.0)),
            ("k".to_owned(), "rbf".into()),
        ];
        let b = vec![
            ("k".to_owned(), "rbf".into()),
            ("C".to_owned(), ParamValue::Real(1.0)),
        ];
        let c = vec![
            ("C".to_owned(), ParamValue::Int(1)),
            ("k".to_owned(), "rbf".into()),
        ];
        assert_eq!(config_hash("d", &a), config_hash("d", &b));
        assert_ne!(config_hash("d", &a), config_hash("d", &c));
        assert_ne!(config_hash("d", &a), config_hash("e", &a));
    }

    #[test]
    fn wal_mode_and_schema_version() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("runs.db")).expect("open");
        let mode: String = store
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .expect("pragma");
        assert_eq!(mode, "wal");
        let version: i64 = store
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("pragma");
        assert_eq!(version, SCHEMA_VERSION);
    }

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("runs.db");
        Connection::open(&path)
            .and_then(|c| c.pragma_update(None, "user_version", 99))
            .expect("prepare");
        let err = Store::open(&path).unwrap_err();
        assert!(matches!(err, Error::NewerSchema { found: 99, .. }), "{err}");
    }
}
