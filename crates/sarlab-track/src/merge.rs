//! Folding run databases into one: shard databases of a Slurm array job, or a laptop's
//! runs into the group's database.

use std::path::Path;

use crate::error::{Error, Result};
use crate::schema::PER_RUN_TABLES;
use crate::store::{Store, sql_error};

/// What a merge did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MergeCounts {
    /// Runs copied (with their parameters, metrics, tags and artifacts).
    pub runs_added: usize,
    /// Runs left out because the target has the same run id, or a run of the same
    /// experiment with the same configuration hash.
    pub runs_skipped: usize,
    pub experiments_added: usize,
}

impl Store {
    /// Copies the runs of the database at `source` that this one lacks, in one
    /// transaction. A run is matched by id and by (experiment name, configuration hash),
    /// so merging the same source twice, or two shards that both ran a configuration,
    /// adds nothing twice. The source is brought to the current schema first.
    pub fn merge_from(&mut self, source: &Path) -> Result<MergeCounts> {
        if let (Ok(a), Ok(b)) = (source.canonicalize(), self.path.canonicalize())
            && a == b
        {
            return Err(Error::MergeIntoItself {
                path: source.to_path_buf(),
            });
        }
        // Opening migrates the source (and checks that it is a run database at all).
        drop(Store::open(source)?);
        let sql = sql_error(source.to_path_buf());
        let source_text = source.to_string_lossy().into_owned();
        self.conn
            .execute("ATTACH DATABASE ?1 AS src", [&source_text])
            .map_err(&sql)?;
        let outcome = self.write(|tx| {
            // Run ids of the source are globally unique, so a child may refer to a parent
            // inserted later in the same statement: check references at commit.
            tx.pragma_update(None, "defer_foreign_keys", "ON")?;
            let experiments_added = tx.execute(
                "INSERT INTO main.experiments (name, created_ms)
                 SELECT name, created_ms FROM src.experiments
                 WHERE name NOT IN (SELECT name FROM main.experiments)",
                [],
            )?;
            // Each copied run: its id in the source, and in this database once inserted.
            tx.execute_batch(
                "CREATE TEMP TABLE IF NOT EXISTS merge_runs (
                     source_id INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE,
                     experiment_id INTEGER NOT NULL, target_id INTEGER);
                 DELETE FROM temp.merge_runs;",
            )?;
            tx.execute(
                "INSERT INTO temp.merge_runs (source_id, uuid, experiment_id)
                 SELECT r.id, r.uuid, e.id FROM src.runs r
                 JOIN src.experiments se ON se.id = r.experiment_id
                 JOIN main.experiments e ON e.name = se.name
                 WHERE NOT EXISTS (SELECT 1 FROM main.runs m WHERE m.uuid = r.uuid)
                   AND NOT EXISTS (SELECT 1 FROM main.runs m
                                   WHERE m.experiment_id = e.id AND m.config_hash = r.config_hash)",
                [],
            )?;
            // In the source's order, so that ids keep following the order of recording.
            let runs_added = tx.execute(
                "INSERT INTO main.runs (uuid, experiment_id, parent_uuid, name, status, start_ms, end_ms,
                                        heartbeat_ms, config_hash, failure_reason, pid, host)
                 SELECT r.uuid, t.experiment_id,
                        CASE WHEN r.parent_uuid IN (SELECT uuid FROM temp.merge_runs)
                                  OR r.parent_uuid IN (SELECT uuid FROM main.runs)
                             THEN r.parent_uuid END,
                        r.name, r.status, r.start_ms, r.end_ms, r.heartbeat_ms, r.config_hash,
                        r.failure_reason, r.pid, r.host
                 FROM src.runs r JOIN temp.merge_runs t ON t.source_id = r.id ORDER BY r.id",
                [],
            )?;
            tx.execute(
                "UPDATE temp.merge_runs SET target_id = (SELECT id FROM main.runs m WHERE m.uuid = merge_runs.uuid)",
                [],
            )?;
            for (table, columns) in PER_RUN_TABLES {
                tx.execute(
                    &format!(
                        "INSERT INTO main.{table} (run_id, {columns})
                         SELECT t.target_id, {columns} FROM src.{table} c
                         JOIN temp.merge_runs t ON t.source_id = c.run_id ORDER BY c.run_id"
                    ),
                    [],
                )?;
            }
            let source_runs: i64 =
                tx.query_row("SELECT COUNT(*) FROM src.runs", [], |r| r.get(0))?;
            tx.execute("DELETE FROM temp.merge_runs", [])?;
            Ok(MergeCounts {
                runs_added,
                runs_skipped: source_runs as usize - runs_added,
                experiments_added,
            })
        });
        let detached = self
            .conn
            .execute("DETACH DATABASE src", [])
            .map_err(sql_error(self.path.clone()));
        let counts = outcome?;
        detached?;
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Metric, NewRun, RunQuery, RunStatus, Store};

    fn record(store: &mut Store, experiment: &str, hash: &str, parent: Option<&str>) -> String {
        let exp = store.experiment(experiment).expect("experiment");
        store
            .record_finished_run(&NewRun {
                artifacts: Vec::new(),
                experiment_id: exp,
                parent,
                name: hash.to_owned(),
                config_hash: hash.to_owned(),
                params: vec![("C".to_owned(), 1.0.into())],
                metrics: vec![
                    Metric::new("f1_macro", 0.5, 0),
                    Metric::new("cv_acc", 0.4, 1),
                ],
                tags: vec![("stage".to_owned(), "cv".to_owned())],
                start_ms: 1,
                end_ms: 2,
                predictions: Vec::new(),
            })
            .expect("record")
    }

    #[test]
    fn merging_adds_missing_runs_once_and_keeps_their_parents() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut a = Store::open(&dir.path().join("a.db")).expect("a");
        let mut b = Store::open(&dir.path().join("b.db")).expect("b");
        let exp_b = b.experiment("study").expect("experiment");
        let parent = b
            .start_run(exp_b, None, "study", "p-b", &[], &[])
            .expect("parent");
        let child = record(&mut b, "study", "h1", Some(&parent));
        record(&mut b, "study", "h2", Some(&parent));
        b.end_run(&parent, RunStatus::Finished, None).expect("end");
        record(&mut b, "other", "h1", None);
        // `a` already ran configuration h2 of `study` (another shard did too).
        record(&mut a, "study", "h2", None);
        drop(b);

        let counts = a.merge_from(&dir.path().join("b.db")).expect("merge");
        assert_eq!(counts.runs_added, 3, "{counts:?}");
        assert_eq!(counts.runs_skipped, 1);
        assert_eq!(counts.experiments_added, 1);
        let merged = a.run(&child).expect("child merged");
        assert_eq!(merged.parent.as_deref(), Some(parent.as_str()));
        assert_eq!(merged.metric_steps("cv_acc"), vec![0.4]);
        assert_eq!(merged.tags["stage"], "cv");
        assert_eq!(a.list_runs(&RunQuery::default()).expect("list").matched, 4);

        let again = a.merge_from(&dir.path().join("b.db")).expect("merge twice");
        assert_eq!(again.runs_added, 0);
        assert_eq!(again.runs_skipped, 4);
        assert_eq!(a.list_runs(&RunQuery::default()).expect("list").matched, 4);
        let path = dir.path().join("a.db");
        assert!(
            a.merge_from(&path).is_err(),
            "merging into itself is refused"
        );
    }
}
