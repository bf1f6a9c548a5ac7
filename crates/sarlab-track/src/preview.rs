//! A database read for a plan preview (`sarlab run --dry-run`): opened read-only,
//! never created, migrated or written.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::error::{Error, Result};
use crate::schema::SCHEMA_VERSION;
use crate::store::sql_error;

/// What a preview can learn from an existing database.
#[derive(Debug)]
pub struct Preview {
    conn: Connection,
    path: PathBuf,
}

/// Past timings of one feature method's cross-validation runs on one dataset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MethodTimings {
    /// Finished CV runs the figures come from.
    pub runs: usize,
    /// Mean seconds of fitting and predicting all folds of one configuration.
    pub seconds_per_configuration: f64,
    /// Mean seconds of extracting the method's features for the training split.
    pub feature_seconds: f64,
}

impl Preview {
    /// Opens `path` read-only; `Ok(None)` when there is no database there. A database
    /// newer than this build, or older than the tables a preview reads, is an error
    /// that says so (a run would migrate an older one first).
    pub fn open(path: &Path) -> Result<Option<Self>> {
        if !path.exists() {
            return Ok(None);
        }
        let open_err = |source| Error::Open {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(open_err)?;
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(open_err)?;
        if version > SCHEMA_VERSION {
            return Err(Error::NewerSchema {
                path: path.to_path_buf(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        if version < crate::schema::PREVIEW_SINCE {
            return Err(Error::OlderSchema {
                path: path.to_path_buf(),
                found: version,
                current: SCHEMA_VERSION,
            });
        }
        Ok(Some(Self {
            conn,
            path: path.to_path_buf(),
        }))
    }

    /// The id of the experiment called `name`, if it has been recorded.
    pub fn experiment(&self, name: &str) -> Result<Option<i64>> {
        self.conn
            .query_row("SELECT id FROM experiments WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()
            .map_err(sql_error(self.path.clone()))
    }

    /// The digest of the dataset at `dataset_path` as the latest study run of the
    /// experiment that read it recorded it (the configuration hashes need it, and a
    /// preview does not read the data).
    pub fn dataset_digest(&self, experiment: i64, dataset_path: &str) -> Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT t.value FROM runs r \
                 JOIN params p ON p.run_id = r.id AND p.key = 'dataset.path' AND p.value = ?2 \
                 JOIN tags t ON t.run_id = r.id AND t.key = 'dataset_digest' \
                 WHERE r.experiment_id = ?1 AND r.parent_uuid IS NULL \
                 ORDER BY r.start_ms DESC LIMIT 1",
                params![experiment, dataset_path],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql_error(self.path.clone()))
    }

    /// The configuration hashes of the experiment's finished runs.
    pub fn finished_hashes(&self, experiment: i64) -> Result<HashSet<String>> {
        let sql = sql_error(self.path.clone());
        let mut statement = self
            .conn
            .prepare(
                "SELECT config_hash FROM runs WHERE experiment_id = ?1 AND status = 'FINISHED'",
            )
            .map_err(&sql)?;
        let hashes = statement
            .query_map([experiment], |r| r.get(0))
            .map_err(&sql)?
            .collect::<rusqlite::Result<HashSet<String>>>()
            .map_err(&sql)?;
        Ok(hashes)
    }

    /// Past timings of the finished CV runs of `method` (the `feature` parameter) on the
    /// dataset with `digest`, if there are any.
    pub fn timings(
        &self,
        experiment: i64,
        method: &str,
        digest: &str,
    ) -> Result<Option<MethodTimings>> {
        let row: (i64, Option<f64>, Option<f64>) = self
            .conn
            .query_row(
                "SELECT count(*), avg(fits.seconds), avg(features.value) FROM runs r \
                 JOIN params f ON f.run_id = r.id AND f.key = 'feature' AND f.value = ?2 \
                 JOIN params s ON s.run_id = r.id AND s.key = 'stage' AND s.value = 'cv' \
                 JOIN tags d ON d.run_id = r.id AND d.key = 'dataset_digest' AND d.value = ?3 \
                 JOIN (SELECT run_id, sum(value) AS seconds FROM metrics \
                       WHERE key IN ('fit_seconds', 'predict_seconds') GROUP BY run_id) fits \
                      ON fits.run_id = r.id \
                 LEFT JOIN metrics features ON features.run_id = r.id \
                      AND features.key = 'feature_seconds' AND features.step = 0 \
                 WHERE r.experiment_id = ?1 AND r.status = 'FINISHED'",
                params![experiment, method, digest],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .map_err(sql_error(self.path.clone()))?;
        Ok(match row {
            (runs, Some(seconds), features) if runs > 0 => Some(MethodTimings {
                runs: runs as usize,
                seconds_per_configuration: seconds,
                feature_seconds: features.unwrap_or(0.0),
            }),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Metric, NewRun, ParamValue, Store};

    #[test]
    fn a_missing_database_is_none_and_is_not_created() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("none.db");
        assert!(Preview::open(&path).expect("no error").is_none());
        assert!(!path.exists());
    }

    #[test]
    fn finished_hashes_digest_and_timings_are_read_without_writing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("runs.db");
        let mut store = Store::open(&path).expect("open");
        let experiment = store.experiment("study").expect("experiment");
        let parent = store
            .start_run(
                experiment,
                None,
                "study study",
                "study-hash",
                &[("dataset.path".to_owned(), ParamValue::from("data"))],
                &[],
            )
            .expect("study run");
        store
            .set_tags(&parent, &[("dataset_digest".to_owned(), "D".to_owned())])
            .expect("tag");
        for (k, seconds) in [(0, 2.0), (1, 4.0)] {
            store
                .record_finished_run(&NewRun {
                    artifacts: Vec::new(),
                    experiment_id: experiment,
                    parent: Some(&parent),
                    name: format!("hog {k}"),
                    config_hash: format!("h{k}"),
                    params: vec![
                        ("feature".to_owned(), ParamValue::from("hog")),
                        ("stage".to_owned(), ParamValue::from("cv")),
                    ],
                    metrics: vec![
                        Metric::new("fit_seconds", seconds, 0),
                        Metric::new("fit_seconds", seconds, 1),
                        Metric::new("feature_seconds", 3.0, 0),
                    ],
                    tags: vec![("dataset_digest".to_owned(), "D".to_owned())],
                    start_ms: 0,
                    end_ms: 1,
                    predictions: Vec::new(),
                })
                .expect("run");
        }
        drop(store);
        let bytes = std::fs::read(&path).expect("read");
        let preview = Preview::open(&path).expect("open").expect("exists");
        let id = preview
            .experiment("study")
            .expect("query")
            .expect("recorded");
        assert_eq!(preview.experiment("other").expect("query"), None);
        assert_eq!(
            preview
                .dataset_digest(id, "data")
                .expect("query")
                .as_deref(),
            Some("D")
        );
        assert_eq!(
            preview.dataset_digest(id, "elsewhere").expect("query"),
            None
        );
        let hashes = preview.finished_hashes(id).expect("hashes");
        assert!(hashes.contains("h0") && hashes.contains("h1") && !hashes.contains("study-hash"));
        let timings = preview
            .timings(id, "hog", "D")
            .expect("query")
            .expect("timed");
        assert_eq!(timings.runs, 2);
        assert_eq!(timings.seconds_per_configuration, 6.0);
        assert_eq!(timings.feature_seconds, 3.0);
        assert_eq!(preview.timings(id, "gabor", "D").expect("query"), None);
        drop(preview);
        assert_eq!(
            std::fs::read(&path).expect("read"),
            bytes,
            "the database is unchanged"
        );
    }
}
