//! The run store: opening (with retries while another process creates the file),
//! experiments, runs and their lifecycle, recording and reading runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::error::{Error, Result};
use crate::provenance::{host_name, process_exists};
use crate::schema::{PER_RUN_TABLES, migrate_connection};
use crate::values::{
    Artifact, Metric, ModelArtifact, NewRun, ParamValue, Prediction, RunStatus, StoredRun,
    latest_metrics, now_ms,
};

/// How long a writer waits for another process's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Maps SQLite errors to [`Error::Sql`] naming the database file.
pub(crate) fn sql_error(path: PathBuf) -> impl Fn(rusqlite::Error) -> Error {
    move |source| Error::Sql {
        path: path.clone(),
        source,
    }
}

/// Adds or replaces tags of the run with internal id `run_id` inside a transaction.
fn upsert_tags(
    tx: &rusqlite::Transaction<'_>,
    run_id: i64,
    tags: &[(String, String)],
) -> rusqlite::Result<()> {
    let mut stmt =
        tx.prepare_cached("INSERT OR REPLACE INTO tags (run_id, key, value) VALUES (?1, ?2, ?3)")?;
    for (key, value) in tags {
        stmt.execute(params![run_id, key, value])?;
    }
    Ok(())
}

/// The internal id of the run with this uuid.
fn run_id(tx: &rusqlite::Transaction<'_>, uuid: &str) -> rusqlite::Result<Option<i64>> {
    tx.query_row("SELECT id FROM runs WHERE uuid = ?1", [uuid], |r| r.get(0))
        .optional()
}

/// A connection to a run database.
#[derive(Debug)]
pub struct Store {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the database at `path` in WAL mode.
    /// Opens (creating and migrating if needed) the database at `path`.
    ///
    /// Many processes may open one fresh database at the same moment: while one
    /// switches the file into WAL mode or migrates it, SQLite can answer the others
    /// SQLITE_BUSY without consulting the busy handler. Such an open is retried whole,
    /// with exponential backoff and jitter, for as long as the busy timeout.
    pub fn open(path: &Path) -> Result<Self> {
        let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
        let mut attempt: u32 = 0;
        loop {
            match Self::open_once(path) {
                Err(err) if err.is_busy() && std::time::Instant::now() < deadline => {
                    attempt += 1;
                    std::thread::sleep(open_backoff(attempt));
                }
                other => return other,
            }
        }
    }

    fn open_once(path: &Path) -> Result<Self> {
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
        // The (key, value) indexes that make filters fast take scattered writes: a
        // 64 MiB page cache (SQLite's default is 2 MiB) keeps them from being re-read.
        conn.pragma_update(None, "cache_size", -65_536)
            .map_err(open_err)?;
        // Checkpoint every ~32 MiB of WAL rather than every 4 MiB: a page rewritten by
        // many commits (index interiors) is copied back to the database once.
        conn.pragma_update(None, "wal_autocheckpoint", 8192)
            .map_err(open_err)?;
        // Reads through a memory map instead of a copy per page (WAL keeps this safe).
        conn.pragma_update(None, "mmap_size", 1_i64 << 30)
            .map_err(open_err)?;
        let mut store = Self {
            conn,
            path: path.to_path_buf(),
        };
        store.migrate()?;
        store
            .conn
            .pragma_update(None, "foreign_keys", "ON")
            .map_err(open_err)?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn sql(&self) -> impl Fn(rusqlite::Error) -> Error + '_ {
        sql_error(self.path.clone())
    }

    fn migrate(&mut self) -> Result<()> {
        migrate_connection(&self.conn, &self.path)
    }

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction: the write lock is taken up front,
    /// so a writer waits (busy timeout) instead of failing half-way with "database is
    /// locked".
    pub(crate) fn write<T>(
        &mut self,
        body: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T> {
        let sql = sql_error(self.path.clone());
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&sql)?;
        let value = body(&tx).map_err(&sql)?;
        tx.commit().map_err(&sql)?;
        Ok(value)
    }

    /// The id of the experiment called `name`, created if new.
    pub fn experiment(&mut self, name: &str) -> Result<i64> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO experiments (name, created_ms) VALUES (?1, ?2) ON CONFLICT(name) DO NOTHING",
                params![name, now_ms()],
            )?;
            tx.query_row("SELECT id FROM experiments WHERE name = ?1", [name], |r| {
                r.get(0)
            })
        })
    }

    /// The id of the experiment called `name`, if the database has one (never creates
    /// it).
    pub fn experiment_id(&self, name: &str) -> Result<Option<i64>> {
        self.conn
            .query_row("SELECT id FROM experiments WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()
            .map_err(self.sql())
    }

    /// The study run of experiment `name` that finished last with a report: a whole
    /// study (not one shard of it), newest end first.
    pub fn latest_study_run(&self, name: &str) -> Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT r.uuid FROM runs r JOIN experiments e ON e.id = r.experiment_id
                 WHERE e.name = ?1 AND r.parent_uuid IS NULL AND r.status = 'FINISHED'
                   AND EXISTS (SELECT 1 FROM tags t WHERE t.run_id = r.id
                               AND t.key = 'stage' AND t.value = 'study')
                   AND NOT EXISTS (SELECT 1 FROM params p WHERE p.run_id = r.id AND p.key = 'shard')
                 ORDER BY r.end_ms DESC, r.id DESC LIMIT 1",
                [name],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.sql())
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
    /// run, owned by this process (pid and host are recorded so that a later process on
    /// the same host can tell when the owner died). A run with the same configuration
    /// hash is reused: it is set RUNNING again with the new parameters and tags.
    pub fn start_run(
        &mut self,
        experiment_id: i64,
        parent: Option<&str>,
        name: &str,
        config_hash: &str,
        params_list: &[(String, ParamValue)],
        tags: &[(String, String)],
    ) -> Result<String> {
        let now = now_ms();
        let (pid, host) = (std::process::id(), host_name());
        self.write(|tx| {
            let existing: Option<(i64, String)> = tx
                .query_row(
                    "SELECT id, uuid FROM runs WHERE experiment_id = ?1 AND config_hash = ?2",
                    params![experiment_id, config_hash],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let (id, uuid) = match existing {
                Some((id, uuid)) => {
                    tx.execute(
                        "UPDATE runs SET status = 'RUNNING', start_ms = ?2, end_ms = NULL, heartbeat_ms = ?2,
                         failure_reason = NULL, name = ?3, pid = ?4, host = ?5 WHERE id = ?1",
                        params![id, now, name, pid, host],
                    )?;
                    (id, uuid)
                }
                None => {
                    let uuid = uuid::Uuid::new_v4().to_string();
                    tx.execute(
                        "INSERT INTO runs (uuid, experiment_id, parent_uuid, name, status, start_ms, heartbeat_ms, config_hash, pid, host)
                         VALUES (?1, ?2, ?3, ?4, 'RUNNING', ?5, ?5, ?6, ?7, ?8)",
                        params![uuid, experiment_id, parent, name, now, config_hash, pid, host],
                    )?;
                    (tx.last_insert_rowid(), uuid)
                }
            };
            for (key, value) in params_list {
                tx.execute(
                    "INSERT OR REPLACE INTO params (run_id, key, value) VALUES (?1, ?2, ?3)",
                    params![id, key, value],
                )?;
            }
            upsert_tags(tx, id, tags)?;
            Ok(uuid)
        })
    }

    /// Records that a RUNNING run's process is alive, and with it the configurations
    /// the run has claimed ([`Store::claim_runs`]).
    pub fn heartbeat(&mut self, uuid: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE runs SET heartbeat_ms = ?2 WHERE (uuid = ?1 OR parent_uuid = ?1) AND status = 'RUNNING'",
                params![uuid, now_ms()],
            )
        })?;
        Ok(())
    }

    /// Marks FAILED every RUNNING run (of one experiment, or all) whose process is gone:
    /// its owner on this host no longer exists, or its heartbeat is older than
    /// `stale_after`. Returns the runs marked, with the reason recorded.
    pub fn fail_dead_runs(
        &mut self,
        experiment_id: Option<i64>,
        stale_after: Duration,
    ) -> Result<Vec<(String, String)>> {
        let now = now_ms();
        let this_host = host_name();
        self.write(|tx| {
            let mut stmt = tx.prepare(
                "SELECT uuid, heartbeat_ms, pid, host FROM runs
                 WHERE status = 'RUNNING' AND (?1 IS NULL OR experiment_id = ?1)",
            )?;
            let running = stmt
                .query_map([experiment_id], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<i64>>(1)?,
                        r.get::<_, Option<u32>>(2)?,
                        r.get::<_, Option<String>>(3)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            drop(stmt);
            let mut failed = Vec::new();
            for (uuid, heartbeat, pid, host) in running {
                let Some(reason) = owner_gone(
                    now,
                    heartbeat,
                    pid,
                    host.as_deref(),
                    &this_host,
                    stale_after,
                ) else {
                    continue;
                };
                tx.execute(
                    "UPDATE runs SET status = 'FAILED', end_ms = ?2, failure_reason = ?3
                     WHERE uuid = ?1 AND status = 'RUNNING'",
                    params![uuid, now, reason],
                )?;
                failed.push((uuid, reason));
            }
            Ok(failed)
        })
    }

    /// Adds or replaces tags of a run.
    pub fn set_tags(&mut self, uuid: &str, tags: &[(String, String)]) -> Result<()> {
        let found = self.write(|tx| match run_id(tx, uuid)? {
            Some(id) => upsert_tags(tx, id, tags).map(|()| true),
            None => Ok(false),
        })?;
        if !found {
            return Err(Error::NoSuchRun(uuid.to_owned()));
        }
        Ok(())
    }

    /// Ends a run with a final status (and, for FAILED/KILLED, the reason). The
    /// configurations it still holds claimed ([`Store::claim_runs`]) end with it, not
    /// computed (FAILED, or KILLED with a killed run), so other workers take them up.
    pub fn end_run(&mut self, uuid: &str, status: RunStatus, reason: Option<&str>) -> Result<()> {
        let changed = self.write(|tx| {
            let now = now_ms();
            let changed = tx.execute(
                "UPDATE runs SET status = ?2, end_ms = ?3, heartbeat_ms = ?3, failure_reason = ?4 WHERE uuid = ?1",
                params![uuid, status.as_str(), now, reason],
            )?;
            let claims_end = match status {
                RunStatus::Killed => RunStatus::Killed,
                _ => RunStatus::Failed,
            };
            let why = format!(
                "claimed by run {uuid}, which ended {} before computing it{}",
                status.as_str(),
                reason.map(|r| format!(": {r}")).unwrap_or_default()
            );
            tx.execute(
                "UPDATE runs SET status = ?2, end_ms = ?3, heartbeat_ms = ?3, failure_reason = ?4
                 WHERE parent_uuid = ?1 AND status = 'RUNNING'",
                params![uuid, claims_end.as_str(), now, why],
            )?;
            Ok(changed)
        })?;
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
        self.insert_finished_run(run, false)
    }

    /// [`Store::record_finished_run`], replacing a run with the same configuration hash
    /// (with its parameters, metrics, tags and artifacts) if there is one: `--force`.
    pub fn replace_finished_run(&mut self, run: &NewRun<'_>) -> Result<String> {
        self.insert_finished_run(run, true)
    }

    /// Records several completed runs in one transaction (all or none), as
    /// [`Store::record_finished_run`] does one at a time: a sweep's runs logged together
    /// share the index pages they touch, so each costs a fraction of a lone commit.
    pub fn record_finished_runs(&mut self, runs: &[NewRun<'_>]) -> Result<Vec<String>> {
        self.insert_finished_runs(runs, Existing::Keep)
            .map(|uuids| uuids.into_iter().flatten().collect())
    }

    /// [`Store::record_finished_runs`] with [`Store::replace_finished_run`]'s replacing.
    pub fn replace_finished_runs(&mut self, runs: &[NewRun<'_>]) -> Result<Vec<String>> {
        self.insert_finished_runs(runs, Existing::Replace)
            .map(|uuids| uuids.into_iter().flatten().collect())
    }

    fn insert_finished_run(&mut self, run: &NewRun<'_>, replace: bool) -> Result<String> {
        let existing = match replace {
            true => Existing::Replace,
            false => Existing::Keep,
        };
        let mut uuids = self.insert_finished_runs(std::slice::from_ref(run), existing)?;
        Ok(uuids.remove(0).unwrap_or_default())
    }

    /// Writes `runs` in one transaction; per run, its uuid, or `None` where
    /// [`Existing::ReplaceUnlessFinished`] found the configuration already finished.
    pub(crate) fn insert_finished_runs(
        &mut self,
        runs: &[NewRun<'_>],
        existing: Existing,
    ) -> Result<Vec<Option<String>>> {
        if let Some(bad) = runs
            .iter()
            .flat_map(|run| &run.metrics)
            .find(|m| !m.value.is_finite())
        {
            return Err(Error::NonFiniteMetric {
                key: bad.key.clone(),
                value: bad.value,
            });
        }
        // Whole runs are written without foreign-key enforcement: each child row takes
        // the id its run was given by the same transaction, so the per-row parent lookups
        // (a fifth of the cost of recording a run) could only confirm what holds by
        // construction. The parent run is checked once per run instead, and a replaced
        // run's rows are deleted explicitly. (The pragma cannot change inside a
        // transaction; it is restored whatever the outcome.)
        self.conn
            .pragma_update(None, "foreign_keys", "OFF")
            .map_err(self.sql())?;
        let outcome = self.write(|tx| {
            let mut parent_exists = tx.prepare_cached("SELECT 1 FROM runs WHERE uuid = ?1")?;
            for run in runs {
                if let Some(parent) = run.parent
                    && !parent_exists.exists([parent])?
                {
                    return Ok(Err(Error::NoSuchParent {
                        run: run.name.clone(),
                        parent: parent.to_owned(),
                    }));
                }
            }
            runs.iter()
                .map(|run| insert_finished(tx, run, existing))
                .collect::<rusqlite::Result<Vec<_>>>()
                .map(Ok)
        });
        let restored = self
            .conn
            .pragma_update(None, "foreign_keys", "ON")
            .map_err(self.sql());
        let uuids = outcome??;
        restored?;
        Ok(uuids)
    }

    /// Records a file produced by a run.
    pub fn add_artifact(&mut self, uuid: &str, path: &str, kind: &str, sha256: &str) -> Result<()> {
        let added = self.write(|tx| {
            tx.execute(
                "INSERT OR REPLACE INTO artifacts (run_id, path, kind, sha256)
                 SELECT id, ?2, ?3, ?4 FROM runs WHERE uuid = ?1",
                params![uuid, path, kind, sha256],
            )
        })?;
        if added == 0 {
            return Err(Error::NoSuchRun(uuid.to_owned()));
        }
        Ok(())
    }

    /// The files recorded for run `uuid`, by path.
    pub fn artifacts(&self, uuid: &str) -> Result<Vec<Artifact>> {
        let sql = self.sql();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT a.path, a.kind, a.sha256 FROM artifacts a JOIN runs r ON r.id = a.run_id
                 WHERE r.uuid = ?1 ORDER BY a.path",
            )
            .map_err(&sql)?;
        stmt.query_map([uuid], |r| {
            Ok(Artifact {
                path: r.get(0)?,
                kind: r.get(1)?,
                sha256: r.get(2)?,
            })
        })
        .map_err(&sql)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(&sql)
    }

    /// The saved models (artifacts of kind `model`) of FINISHED runs, of one experiment
    /// or of all, newest run first.
    pub fn model_artifacts(&self, experiment: Option<&str>) -> Result<Vec<ModelArtifact>> {
        let sql = self.sql();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT r.uuid, e.name, r.name, a.path, a.sha256 FROM artifacts a
                 JOIN runs r ON r.id = a.run_id JOIN experiments e ON e.id = r.experiment_id
                 WHERE a.kind = 'model' AND r.status = 'FINISHED' AND (?1 IS NULL OR e.name = ?1)
                 ORDER BY r.end_ms DESC, r.id DESC",
            )
            .map_err(&sql)?;
        stmt.query_map([experiment], |r| {
            Ok(ModelArtifact {
                run: r.get(0)?,
                experiment: r.get(1)?,
                run_name: r.get(2)?,
                path: r.get(3)?,
                sha256: r.get(4)?,
            })
        })
        .map_err(&sql)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(&sql)
    }

    /// The per-chip predictions recorded with run `uuid` (a test run), in chip order;
    /// empty for runs without any (and for test runs of schema versions before 4).
    pub fn predictions(&self, uuid: &str) -> Result<Vec<Prediction>> {
        let sql = self.sql();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT p.chip, p.truth, p.predicted, p.decision_values FROM predictions p
                 JOIN runs r ON r.id = p.run_id WHERE r.uuid = ?1 ORDER BY p.chip",
            )
            .map_err(&sql)?;
        let rows = stmt
            .query_map([uuid], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)? as usize,
                    r.get::<_, i64>(2)? as usize,
                    r.get::<_, Option<String>>(3)?,
                ))
            })
            .map_err(&sql)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(&sql)?;
        rows.into_iter()
            .map(|(chip, truth, predicted, decisions)| {
                let decision_values = match decisions {
                    None => Vec::new(),
                    Some(text) => serde_json::from_str(&text).map_err(|e| Error::Corrupt {
                        path: self.path.clone(),
                        message: format!(
                            "the decision values of run {uuid}'s prediction for {chip} are not a JSON array of numbers: {e}"
                        ),
                    })?,
                };
                Ok(Prediction {
                    chip,
                    truth,
                    predicted,
                    decision_values,
                })
            })
            .collect()
    }

    /// A run with its parameters, metrics and tags.
    pub fn run(&self, uuid: &str) -> Result<StoredRun> {
        let sql = self.sql();
        let head = self
            .conn
            .query_row(
                "SELECT r.name, r.status, r.start_ms, r.end_ms, r.failure_reason, e.name, r.parent_uuid, r.config_hash, r.id
                 FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE r.uuid = ?1",
                [uuid],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, Option<i64>>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        (
                            r.get::<_, String>(5)?,
                            r.get::<_, Option<String>>(6)?,
                            r.get::<_, String>(7)?,
                            r.get::<_, i64>(8)?,
                        ),
                    ))
                },
            )
            .optional()
            .map_err(&sql)?
            .ok_or_else(|| Error::NoSuchRun(uuid.to_owned()))?;
        let (experiment, parent, config_hash, id) = head.5;
        let mut stmt = self
            .conn
            .prepare_cached("SELECT key, value FROM params WHERE run_id = ?1")
            .map_err(&sql)?;
        let params = stmt
            .query_map([id], |r| {
                Ok((r.get::<_, String>(0)?, ParamValue::from_sql(r.get_ref(1)?)))
            })
            .map_err(&sql)?
            .collect::<rusqlite::Result<BTreeMap<_, _>>>()
            .map_err(&sql)?;
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT key, value, step FROM metrics WHERE run_id = ?1 ORDER BY key, step",
            )
            .map_err(&sql)?;
        let metrics = stmt
            .query_map([id], |r| {
                Ok(Metric::new(r.get::<_, String>(0)?, r.get(1)?, r.get(2)?))
            })
            .map_err(&sql)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(&sql)?;
        let mut stmt = self
            .conn
            .prepare_cached("SELECT key, value FROM tags WHERE run_id = ?1")
            .map_err(&sql)?;
        let tags = stmt
            .query_map([id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(&sql)?
            .collect::<rusqlite::Result<BTreeMap<_, _>>>()
            .map_err(&sql)?;
        Ok(StoredRun {
            uuid: uuid.to_owned(),
            experiment,
            parent,
            config_hash,
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

/// How long the `attempt`-th retry of an open waits: 1, 2, 4 … ms up to 64 ms, times
/// a jitter in [0.5, 1.5) so that processes that collided once do not collide again.
fn open_backoff(attempt: u32) -> Duration {
    let base = 1u64 << attempt.min(6);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let seed = u64::from(nanos) ^ (u64::from(std::process::id()) << 32) ^ u64::from(attempt);
    // splitmix64: cheap, well-mixed bits from the seed.
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    let jitter = 0.5 + (z >> 11) as f64 / (1u64 << 53) as f64;
    Duration::from_secs_f64(base as f64 * jitter / 1000.0)
}

/// What recording a finished run does to a run with the same configuration hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Existing {
    /// Keep it; the new run is not written.
    Keep,
    /// Replace it.
    Replace,
    /// Replace it (a claim, or a failed attempt) unless it is FINISHED: then another
    /// worker finished the configuration first, and its run stands.
    ReplaceUnlessFinished,
}

/// Inserts one finished run inside `tx` (see [`Store::record_finished_run`]); `None`
/// when [`Existing::ReplaceUnlessFinished`] kept a finished run.
fn insert_finished(
    tx: &rusqlite::Transaction<'_>,
    run: &NewRun<'_>,
    mode: Existing,
) -> rusqlite::Result<Option<String>> {
    let existing: Option<(i64, String, String)> = tx
        .prepare_cached(
            "SELECT id, uuid, status FROM runs WHERE experiment_id = ?1 AND config_hash = ?2",
        )?
        .query_row(params![run.experiment_id, run.config_hash], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    if let Some((old_id, old_uuid, status)) = existing {
        match mode {
            Existing::Keep => return Ok(Some(old_uuid)),
            Existing::ReplaceUnlessFinished if status == RunStatus::Finished.as_str() => {
                return Ok(None);
            }
            Existing::Replace | Existing::ReplaceUnlessFinished => {}
        }
        // Children of the replaced run (none for configuration runs) keep
        // existing, detached; its own rows go with it (explicitly: this writer runs
        // without foreign-key enforcement, see `insert_finished_runs`).
        tx.execute(
            "UPDATE runs SET parent_uuid = NULL WHERE parent_uuid = ?1",
            [&old_uuid],
        )?;
        for (table, _) in PER_RUN_TABLES {
            tx.execute(&format!("DELETE FROM {table} WHERE run_id = ?1"), [old_id])?;
        }
        tx.execute("DELETE FROM runs WHERE id = ?1", [old_id])?;
    }
    let uuid = uuid::Uuid::new_v4().to_string();
    tx.prepare_cached(
        "INSERT INTO runs (uuid, experiment_id, parent_uuid, name, status, start_ms, end_ms, heartbeat_ms, config_hash)
         VALUES (?1, ?2, ?3, ?4, 'FINISHED', ?5, ?6, ?6, ?7)",
    )?
    .execute(params![uuid, run.experiment_id, run.parent, run.name, run.start_ms, run.end_ms, run.config_hash])?;
    let id = tx.last_insert_rowid();
    let mut insert_param =
        tx.prepare_cached("INSERT INTO params (run_id, key, value) VALUES (?1, ?2, ?3)")?;
    for (key, value) in &run.params {
        insert_param.execute(params![id, key, value])?;
    }
    let mut insert_metric = tx.prepare_cached(
        "INSERT INTO metrics (run_id, key, step, value, timestamp_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for m in &run.metrics {
        insert_metric.execute(params![id, m.key, m.step, m.value, run.end_ms])?;
    }
    let mut insert_latest = tx.prepare_cached(
        "INSERT INTO metric_latest (run_id, key, step, value) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (key, (step, value)) in latest_metrics(&run.metrics) {
        insert_latest.execute(params![id, key, step, value])?;
    }
    let mut insert_tag =
        tx.prepare_cached("INSERT INTO tags (run_id, key, value) VALUES (?1, ?2, ?3)")?;
    for (key, value) in &run.tags {
        insert_tag.execute(params![id, key, value])?;
    }
    let mut insert_prediction = tx.prepare_cached(
        "INSERT INTO predictions (run_id, chip, truth, predicted, decision_values)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for p in &run.predictions {
        // serde_json writes the shortest text that reads back to the same f64.
        let decisions = (!p.decision_values.is_empty())
            .then(|| serde_json::to_string(&p.decision_values))
            .transpose()
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        insert_prediction.execute(params![
            id,
            p.chip,
            p.truth as i64,
            p.predicted as i64,
            decisions
        ])?;
    }
    let mut insert_artifact = tx.prepare_cached(
        "INSERT OR REPLACE INTO artifacts (run_id, path, kind, sha256) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for a in &run.artifacts {
        insert_artifact.execute(params![id, a.path, a.kind, a.sha256])?;
    }
    Ok(Some(uuid))
}

/// Why a RUNNING run's owner is taken for dead, if it is: its process on this host is
/// gone, or its heartbeat is older than `stale_after`.
pub(crate) fn owner_gone(
    now: i64,
    heartbeat: Option<i64>,
    pid: Option<u32>,
    host: Option<&str>,
    this_host: &str,
    stale_after: Duration,
) -> Option<String> {
    let silent_ms = now - heartbeat.unwrap_or(0);
    let process_gone = match (pid, host) {
        (Some(pid), Some(host)) if host == this_host => {
            pid != std::process::id() && !process_exists(pid)
        }
        _ => false,
    };
    if process_gone {
        Some(format!(
            "process {} on {this_host} ended without finishing the run (last heartbeat {:.0} s before it was noticed)",
            pid.unwrap_or_default(),
            silent_ms as f64 / 1000.0
        ))
    } else if silent_ms > stale_after.as_millis() as i64 {
        Some(format!(
            "no heartbeat for {:.0} s (stale after {} s): its process{} died",
            silent_ms as f64 / 1000.0,
            stale_after.as_secs(),
            host.map(|h| format!(" on {h}")).unwrap_or_default()
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::*;
    use crate::values::*;

    fn sample_run<'a>(exp: i64, parent: Option<&'a str>, hash: &str) -> NewRun<'a> {
        NewRun {
            artifacts: Vec::new(),
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
            predictions: Vec::new(),
        }
    }

    #[test]
    fn predictions_go_with_their_run() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&dir.path().join("runs.db")).expect("open");
        let exp = store.experiment("study").expect("experiment");
        let prediction = |chip: &str, truth, predicted| Prediction {
            chip: chip.to_owned(),
            truth,
            predicted,
            // Values whose shortest decimal text is long, and one with no decimal text
            // shorter than 17 digits.
            decision_values: vec![0.1 + 0.2, -1.0 / 3.0, f64::MIN_POSITIVE, 1e300],
        };
        let run = NewRun {
            artifacts: Vec::new(),
            predictions: vec![
                prediction("test/b/2.png", 1, 0),
                prediction("test/a/1.png", 0, 0),
            ],
            ..sample_run(exp, None, "t")
        };
        let uuid = store.record_finished_run(&run).expect("record");
        let got = store.predictions(&uuid).expect("read");
        assert_eq!(
            got,
            vec![
                prediction("test/a/1.png", 0, 0),
                prediction("test/b/2.png", 1, 0)
            ]
        );
        // Replacing the run replaces its predictions.
        let again = NewRun {
            artifacts: Vec::new(),
            predictions: vec![prediction("test/a/1.png", 0, 1)],
            ..sample_run(exp, None, "t")
        };
        let new_uuid = store.replace_finished_run(&again).expect("replace");
        assert_eq!(
            store.predictions(&new_uuid).expect("read"),
            again.predictions
        );
        assert!(store.predictions(&uuid).expect("gone").is_empty());
        // A merge carries them.
        let mut other = Store::open(&dir.path().join("merged.db")).expect("open");
        other
            .merge_from(&dir.path().join("runs.db"))
            .expect("merge");
        assert_eq!(
            other.predictions(&new_uuid).expect("merged"),
            again.predictions
        );
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
    fn unknown_parent_is_refused_and_enforcement_comes_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&dir.path().join("runs.db")).expect("open");
        let exp = store.experiment("study").expect("experiment");
        let fk_enforced = |store: &Store| -> i64 {
            store
                .conn
                .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
                .expect("pragma")
        };
        let good = sample_run(exp, None, "h0");
        let orphan = sample_run(exp, Some("no-such-study"), "h1");
        let err = store
            .record_finished_runs(&[good.clone(), orphan])
            .unwrap_err();
        assert!(
            matches!(&err, Error::NoSuchParent { parent, .. } if parent == "no-such-study"),
            "{err}"
        );
        assert_eq!(store.count_runs(exp).expect("count"), 0, "all or none");
        assert_eq!(fk_enforced(&store), 1);
        store.record_finished_runs(&[good]).expect("record");
        assert_eq!(fk_enforced(&store), 1);
        // Every other write is still checked by SQLite.
        assert!(
            store
                .conn
                .execute(
                    "INSERT INTO params (run_id, key, value) VALUES (999, 'x', 1)",
                    []
                )
                .is_err()
        );
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

#[cfg(test)]
mod lifecycle_tests {
    use super::*;
    use crate::schema::*;
    use crate::values::*;

    /// The single value `sql` selects.
    fn scalar<T: rusqlite::types::FromSql>(store: &Store, sql: &str) -> T {
        store
            .conn
            .query_row(sql, [], |r| r.get(0))
            .unwrap_or_else(|err| panic!("{sql}: {err}"))
    }

    fn finished(exp: i64, hash: &str, f1: f64) -> NewRun<'static> {
        NewRun {
            artifacts: Vec::new(),
            experiment_id: exp,
            parent: None,
            name: format!("run {hash}"),
            config_hash: hash.to_owned(),
            params: vec![("C".to_owned(), 1.0.into())],
            metrics: vec![Metric::new("f1_macro", f1, 0)],
            tags: vec![],
            start_ms: 1,
            end_ms: 2,
            predictions: Vec::new(),
        }
    }

    #[test]
    fn every_earlier_schema_version_is_upgraded_with_its_data() {
        let dir = tempfile::tempdir().expect("tempdir");
        // Version 0: a database file sarlab never wrote to.
        let empty = dir.path().join("v0.db");
        Connection::open(&empty).expect("create");
        let store = Store::open(&empty).expect("upgrade from 0");
        let version: i64 = scalar(&store, "PRAGMA user_version");
        assert_eq!(version, SCHEMA_VERSION);
        drop(store);

        // Version 1, with a study, a CV run and a test run as sarlab 0.1 wrote them.
        let path = dir.path().join("v1.db");
        let conn = Connection::open(&path).expect("create");
        conn.execute_batch(SCHEMA_V1).expect("v1 schema");
        conn.pragma_update(None, "user_version", 1)
            .expect("version");
        conn.execute_batch(
            "INSERT INTO experiments VALUES (1, 'study', 5);
             INSERT INTO runs (uuid, experiment_id, name, status, start_ms, end_ms, heartbeat_ms, config_hash)
                VALUES ('p', 1, 'study', 'RUNNING', 1, NULL, 1, 'sp'),
                       ('c', 1, 'cv', 'FINISHED', 2, 3, 3, 'hc'),
                       ('t', 1, 'test', 'FINISHED', 4, 5, 5, 'ht');
             INSERT INTO params VALUES ('c', 'C', 10.0), ('c', 'kernel', 'rbf'), ('t', 'C', 10.0);
             INSERT INTO metrics VALUES ('c', 'cv_f1_macro', 0.8, 0, 3), ('c', 'cv_f1_macro', 0.9, 1, 3),
                                        ('c', 'cv_f1_macro_mean', 0.85, 0, 3), ('c', 'cv_f1_macro_std', 0.05, 0, 3),
                                        ('t', 'test_f1_macro', 0.88, 0, 5);
             INSERT INTO tags VALUES ('c', 'stage', 'cv'), ('t', 'stage', 'test');",
        )
        .expect("v1 data");
        drop(conn);
        let store = Store::open(&path).expect("upgrade from 1");
        let cv = store.run("c").expect("cv run");
        assert_eq!(cv.params["C"], ParamValue::Real(10.0));
        assert_eq!(cv.metric_steps("cv_f1_macro"), vec![0.8, 0.9]);
        // The headline metric is derived from the summary keys.
        assert_eq!(cv.metric("f1_macro", 0), Some(0.85));
        assert_eq!(cv.metric("f1_macro_std", 0), None);
        assert_eq!(
            store.run("t").expect("test run").metric("f1_macro", 0),
            Some(0.88)
        );
        // The new columns exist; the old run has no owner recorded.
        let pid: Option<i64> = scalar(&store, "SELECT pid FROM runs WHERE uuid = 'p'");
        assert_eq!(pid, None);
        // Filters use the new indexes and see the migrated data.
        let listing = store
            .list_runs(&crate::RunQuery {
                filter: Some(crate::Filter::parse("metrics.f1_macro > 0.86").expect("filter")),
                ..Default::default()
            })
            .expect("list");
        assert_eq!(listing.matched, 1);
        assert_eq!(listing.runs[0].uuid, "t");
        // A per-fold metric compares by its value at the highest step.
        for (filter, matched) in [
            ("metrics.cv_f1_macro = 0.9", 1),
            ("metrics.cv_f1_macro = 0.8", 0),
            ("params.kernel = 'rbf' and metrics.cv_f1_macro >= 0.9", 1),
        ] {
            let listing = store
                .list_runs(&crate::RunQuery {
                    filter: Some(crate::Filter::parse(filter).expect("filter")),
                    ..Default::default()
                })
                .expect("list");
            assert_eq!(listing.matched, matched, "{filter}");
        }
        drop(store);
        // Opening again is a no-op.
        let store = Store::open(&path).expect("reopen");
        assert_eq!(store.count_runs(1).expect("count"), 3);
    }

    #[test]
    fn version_2_tables_are_rebuilt_with_integer_run_ids() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("v2.db");
        let conn = Connection::open(&path).expect("create");
        conn.execute_batch(SCHEMA_V1).expect("v1 schema");
        conn.execute_batch(MIGRATION_V2).expect("v2 schema");
        conn.pragma_update(None, "user_version", 2)
            .expect("version");
        // A study run and two configuration runs (recorded out of uuid order), as
        // sarlab 0.1 with schema 2 wrote them, with an artifact and a per-fold metric.
        conn.execute_batch(
            "INSERT INTO experiments VALUES (1, 'study', 5);
             INSERT INTO runs (uuid, experiment_id, parent_uuid, name, status, start_ms, end_ms, heartbeat_ms, config_hash, pid, host)
                VALUES ('f-study', 1, NULL, 'study', 'RUNNING', 1, NULL, 1, 'sp', 77, 'node01'),
                       ('b-hog', 1, 'f-study', 'hog', 'FINISHED', 2, 3, 3, 'h1', NULL, NULL),
                       ('a-gabor', 1, 'f-study', 'gabor', 'FAILED', 4, 5, 5, 'h2', NULL, NULL);
             UPDATE runs SET failure_reason = 'out of memory' WHERE uuid = 'a-gabor';
             INSERT INTO params VALUES ('b-hog', 'C', 10.0), ('b-hog', 'feature', 'hog'), ('b-hog', 'folds', 5),
                                       ('a-gabor', 'C', 1.0), ('a-gabor', 'feature', 'gabor');
             INSERT INTO metrics VALUES ('b-hog', 'cv_f1_macro', 0.8, 0, 3), ('b-hog', 'cv_f1_macro', 0.9, 1, 3),
                                        ('b-hog', 'f1_macro', 0.85, 0, 3), ('a-gabor', 'f1_macro', 0.6, 0, 5);
             INSERT INTO tags VALUES ('f-study', 'git_commit', 'abc'), ('b-hog', 'stage', 'cv'), ('a-gabor', 'stage', 'cv');
             INSERT INTO artifacts VALUES ('b-hog', 'confusion.csv', 'confusion', 'ff00');",
        )
        .expect("v2 data");
        conn.execute_batch(FILL_METRIC_LATEST_V2)
            .expect("v2 latest");
        drop(conn);

        let mut store = Store::open(&path).expect("upgrade from 2");
        let version: i64 = scalar(&store, "PRAGMA user_version");
        assert_eq!(version, SCHEMA_VERSION);
        // Ids follow the order the runs were recorded in, not their uuids.
        let ids: Vec<(i64, String)> = store
            .conn
            .prepare("SELECT id, uuid FROM runs ORDER BY id")
            .and_then(|mut s| {
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .expect("ids");
        let uuids: Vec<&str> = ids.iter().map(|(_, u)| u.as_str()).collect();
        assert_eq!(uuids, ["f-study", "b-hog", "a-gabor"]);
        let hog = store.run("b-hog").expect("hog run");
        assert_eq!(hog.parent.as_deref(), Some("f-study"));
        assert_eq!(hog.params["C"], ParamValue::Real(10.0));
        assert_eq!(hog.params["folds"], ParamValue::Int(5));
        assert_eq!(hog.params["feature"], ParamValue::Text("hog".into()));
        assert_eq!(hog.metric_steps("cv_f1_macro"), vec![0.8, 0.9]);
        assert_eq!(hog.tags["stage"], "cv");
        let gabor = store.run("a-gabor").expect("gabor run");
        assert_eq!(gabor.status, RunStatus::Failed);
        assert_eq!(gabor.failure_reason.as_deref(), Some("out of memory"));
        let owner: (Option<i64>, Option<String>) = store
            .conn
            .query_row(
                "SELECT pid, host FROM runs WHERE uuid = 'f-study'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("owner");
        assert_eq!(owner, (Some(77), Some("node01".to_owned())));
        let artifact: (String, String) = store
            .conn
            .query_row(
                "SELECT a.path, a.sha256 FROM artifacts a JOIN runs r ON r.id = a.run_id WHERE r.uuid = 'b-hog'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("artifact");
        assert_eq!(artifact, ("confusion.csv".to_owned(), "ff00".to_owned()));
        let latest: i64 = scalar(&store, "SELECT COUNT(*) FROM metric_latest");
        assert_eq!(
            latest, 3,
            "cv_f1_macro and f1_macro of hog, f1_macro of gabor"
        );
        // No version-2 table is left, and every reference resolves.
        let leftovers: i64 = scalar(
            &store,
            "SELECT COUNT(*) FROM sqlite_schema WHERE name LIKE '%!_v2' ESCAPE '!'",
        );
        assert_eq!(leftovers, 0);
        assert_eq!(dangling_reference(&store.conn).expect("foreign keys"), None);
        let integrity: String = scalar(&store, "PRAGMA integrity_check");
        assert_eq!(integrity, "ok");
        // Filters and orderings read the rebuilt indexes.
        for (filter, expected) in [
            ("metrics.cv_f1_macro = 0.9", vec!["b-hog"]),
            (
                "params.feature in ('hog', 'gabor') and metrics.f1_macro < 0.7",
                vec!["a-gabor"],
            ),
            ("tags.stage = 'cv'", vec!["a-gabor", "b-hog"]),
        ] {
            let listing = store
                .list_runs(&crate::RunQuery {
                    filter: Some(crate::Filter::parse(filter).expect("filter")),
                    ..Default::default()
                })
                .expect("list");
            let found: Vec<&str> = listing.runs.iter().map(|r| r.uuid.as_str()).collect();
            assert_eq!(found, expected, "{filter}");
        }
        // New runs follow the migrated ones, and replacing one takes its rows along.
        let fresh = store
            .record_finished_run(&finished(1, "h3", 0.7))
            .expect("record");
        let fresh_id: i64 = store
            .conn
            .query_row("SELECT id FROM runs WHERE uuid = ?1", [&fresh], |r| {
                r.get(0)
            })
            .expect("id");
        assert_eq!(fresh_id, 4);
        store
            .replace_finished_run(&NewRun {
                artifacts: Vec::new(),
                config_hash: "h1".into(),
                ..finished(1, "h1", 0.95)
            })
            .expect("replace");
        assert!(matches!(store.run("b-hog"), Err(Error::NoSuchRun(_))));
        let artifacts: i64 = scalar(&store, "SELECT COUNT(*) FROM artifacts");
        assert_eq!(artifacts, 0);
    }

    #[test]
    fn version_4_predictions_gain_empty_decision_values() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("v4.db");
        let conn = Connection::open(&path).expect("create");
        for migration in &MIGRATIONS[..4] {
            conn.execute_batch(migration).expect("schema up to 4");
        }
        conn.pragma_update(None, "user_version", 4)
            .expect("version");
        conn.execute_batch(
            "INSERT INTO experiments (id, name, created_ms) VALUES (1, 'study', 5);
             INSERT INTO runs (id, uuid, experiment_id, name, status, start_ms, config_hash)
                VALUES (1, 't-run', 1, 'test raw', 'FINISHED', 1, 'h');
             INSERT INTO predictions VALUES (1, 'test/a/1.png', 0, 1), (1, 'test/b/2.png', 1, 1);",
        )
        .expect("v4 data");
        drop(conn);
        let store = Store::open(&path).expect("upgrade from 4");
        let version: i64 = scalar(&store, "PRAGMA user_version");
        assert_eq!(version, SCHEMA_VERSION);
        let got = store.predictions("t-run").expect("read");
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].truth, got[0].predicted), (0, 1));
        assert!(got.iter().all(|p| p.decision_values.is_empty()));
        // A value that is not a JSON array of numbers is named, not misread.
        store
            .conn
            .execute(
                "UPDATE predictions SET decision_values = '[1.0, oops]' WHERE chip = 'test/a/1.png'",
                [],
            )
            .expect("corrupt");
        let err = store.predictions("t-run").unwrap_err().to_string();
        assert!(
            err.contains("test/a/1.png") && err.contains("t-run"),
            "{err}"
        );
    }

    #[test]
    fn runs_of_dead_processes_are_failed_live_ones_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&dir.path().join("runs.db")).expect("open");
        let exp = store.experiment("e").expect("experiment");
        let live = store
            .start_run(exp, None, "live", "a", &[], &[])
            .expect("start");
        let dead = store
            .start_run(exp, None, "dead", "b", &[], &[])
            .expect("start");
        let silent = store
            .start_run(exp, None, "silent", "c", &[], &[])
            .expect("start");
        // `dead` belonged to a process of this host that is gone; `silent` to another
        // host that stopped sending heartbeats.
        store
            .conn
            .execute("UPDATE runs SET pid = 4194303 WHERE uuid = ?1", [&dead])
            .expect("update");
        store
            .conn
            .execute(
                "UPDATE runs SET host = 'elsewhere', heartbeat_ms = heartbeat_ms - 600000 WHERE uuid = ?1",
                [&silent],
            )
            .expect("update");
        let failed = store
            .fail_dead_runs(Some(exp), Duration::from_secs(60))
            .expect("sweep");
        let ids: Vec<&str> = failed.iter().map(|(u, _)| u.as_str()).collect();
        assert_eq!(ids.len(), 2, "{failed:?}");
        assert!(ids.contains(&dead.as_str()) && ids.contains(&silent.as_str()));
        let dead_run = store.run(&dead).expect("read");
        assert_eq!(dead_run.status, RunStatus::Failed);
        assert!(
            dead_run
                .failure_reason
                .as_deref()
                .is_some_and(|r| r.contains("process 4194303")),
            "{:?}",
            dead_run.failure_reason
        );
        assert!(
            store
                .run(&silent)
                .expect("read")
                .failure_reason
                .as_deref()
                .is_some_and(|r| r.contains("no heartbeat")),
        );
        assert_eq!(store.run(&live).expect("read").status, RunStatus::Running);
        store.heartbeat(&live).expect("heartbeat");
        store
            .end_run(&live, RunStatus::Killed, Some("SIGINT"))
            .expect("end");
        assert_eq!(store.run(&live).expect("read").status, RunStatus::Killed);
    }

    #[test]
    fn forced_rerun_replaces_the_configuration_run_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&dir.path().join("runs.db")).expect("open");
        let exp = store.experiment("e").expect("experiment");
        let first = store
            .record_finished_run(&finished(exp, "h", 0.5))
            .expect("record");
        store
            .add_artifact(&first, "fig.png", "figure", "00")
            .expect("artifact");

        let kept = store
            .record_finished_run(&finished(exp, "h", 0.9))
            .expect("again");
        assert_eq!(kept, first);
        assert_eq!(
            store.run(&first).expect("read").metric("f1_macro", 0),
            Some(0.5)
        );
        let replaced = store
            .replace_finished_run(&finished(exp, "h", 0.9))
            .expect("force");
        assert_ne!(replaced, first);
        assert!(matches!(store.run(&first), Err(Error::NoSuchRun(_))));
        assert_eq!(
            store.run(&replaced).expect("read").metric("f1_macro", 0),
            Some(0.9)
        );
        assert_eq!(store.count_runs(exp).expect("count"), 1);
        // Only the new run's rows are left: one param, metric and latest metric, and
        // no artifact (the replaced run's went with it).
        for (table, rows) in [
            ("params", 1),
            ("metrics", 1),
            ("metric_latest", 1),
            ("tags", 0),
            ("artifacts", 0),
        ] {
            let count: i64 = scalar(&store, &format!("SELECT COUNT(*) FROM {table}"));
            assert_eq!(count, rows, "{table}: the replaced run's rows are gone");
        }
        assert_eq!(dangling_reference(&store.conn).expect("foreign keys"), None);
        assert!(matches!(
            store.add_artifact(&first, "fig.png", "figure", "00"),
            Err(Error::NoSuchRun(_))
        ));
    }

    #[test]
    fn artifacts_are_recorded_with_their_run_and_replaced_with_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&dir.path().join("runs.db")).expect("open");
        let exp = store.experiment("e").expect("experiment");
        let model = |sha: &str| Artifact {
            path: "models/e/hog-abc.safetensors".to_owned(),
            kind: "model".to_owned(),
            sha256: sha.to_owned(),
        };
        let mut run = finished(exp, "h", 0.5);
        run.artifacts = vec![model("11")];
        let first = store.record_finished_run(&run).expect("record");
        assert_eq!(
            store.artifacts(&first).expect("artifacts"),
            vec![model("11")]
        );

        // A second writer of the same configuration keeps the first run and its file.
        run.artifacts = vec![model("22")];
        assert_eq!(store.record_finished_run(&run).expect("again"), first);
        assert_eq!(
            store.artifacts(&first).expect("artifacts"),
            vec![model("11")]
        );

        let replaced = store.replace_finished_run(&run).expect("force");
        assert_eq!(
            store.artifacts(&replaced).expect("artifacts"),
            vec![model("22")]
        );
        let count: i64 = scalar(&store, "SELECT COUNT(*) FROM artifacts");
        assert_eq!(count, 1, "the replaced run's artifact went with it");
        let models = store.model_artifacts(Some("e")).expect("models");
        assert_eq!(models.len(), 1);
        assert_eq!(models[0].run, replaced);
    }
}
