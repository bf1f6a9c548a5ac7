//! Reading runs back: listings with filters and ordering, run ids by prefix, the best
//! run per group, and wide tables for export.

use rusqlite::OptionalExtension;
use rusqlite::types::Value as SqlValue;

use crate::error::{Error, Result};
use crate::filter::{Field, Filter, FilterError};
use crate::store::Store;
use crate::values::{ParamValue, RunStatus};

/// Which runs to read, in which order.
#[derive(Debug, Clone, Default)]
pub struct RunQuery {
    /// Only runs of the experiment with this name.
    pub experiment: Option<String>,
    pub filter: Option<Filter>,
    /// Default: newest first.
    pub order_by: Option<OrderBy>,
    /// At most this many runs (all when `None`).
    pub limit: Option<usize>,
}

/// A field to order runs by; runs without it come last.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderBy {
    pub field: Field,
    pub descending: bool,
}

impl OrderBy {
    /// `FIELD [asc|desc]`, e.g. `metrics.f1_macro desc` (ascending by default).
    pub fn parse(text: &str) -> Result<OrderBy, FilterError> {
        let trimmed = text.trim_end();
        let lower = trimmed.to_ascii_lowercase();
        let (field, descending) = if lower.ends_with(" desc") {
            (&trimmed[..trimmed.len() - 5], true)
        } else if lower.ends_with(" asc") {
            (&trimmed[..trimmed.len() - 4], false)
        } else {
            (trimmed, false)
        };
        Ok(OrderBy {
            field: Field::parse(field)?,
            descending,
        })
    }
}

/// One line of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    pub uuid: String,
    pub experiment: String,
    pub name: String,
    pub status: RunStatus,
    pub start_ms: i64,
    pub end_ms: Option<i64>,
    /// The value of the ordering field, when ordered by one.
    pub order_value: Option<ParamValue>,
}

/// The runs a query selected, and how many matched before the limit.
#[derive(Debug, Clone)]
pub struct Listing {
    pub runs: Vec<RunSummary>,
    pub matched: usize,
}

/// The best run of one group.
#[derive(Debug, Clone, PartialEq)]
pub struct BestRun {
    /// The group's value of the grouping field (`None`: runs without it, or no grouping).
    pub group: Option<ParamValue>,
    pub uuid: String,
    pub name: String,
    pub value: f64,
    /// Runs in the group that have the metric.
    pub candidates: usize,
}

/// Runs as a wide table: one row per run; columns `uuid`, `experiment`, `name`,
/// `status`, `start_ms`, `end_ms`, `parent`, `config_hash`, then `params.<key>`,
/// `metrics.<key>` (the value at the highest step) and `tags.<key>` in key order.
#[derive(Debug, Clone, PartialEq)]
pub struct RunTable {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<ParamValue>>>,
}

/// The `FROM … WHERE …` part shared by the queries, with its bound values.
fn selection(query: &RunQuery, params: &mut Vec<SqlValue>) -> String {
    let mut conditions = Vec::new();
    if let Some(name) = &query.experiment {
        params.push(SqlValue::Text(name.clone()));
        conditions.push("e.name = ?".to_owned());
    }
    if let Some(filter) = &query.filter {
        conditions.push(filter.to_sql(params));
    }
    let condition = if conditions.is_empty() {
        "1".to_owned()
    } else {
        conditions.join(" AND ")
    };
    format!("FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE {condition}")
}

impl Store {
    /// The runs `query` selects, in its order, and how many matched.
    pub fn list_runs(&self, query: &RunQuery) -> Result<Listing> {
        let sql = self.sql();
        let mut params = Vec::new();
        let order_value = match &query.order_by {
            Some(order) => order.field.value_sql(&mut params),
            None => "NULL".to_owned(),
        };
        let from = selection(query, &mut params);
        let direction = match &query.order_by {
            Some(order) if order.descending => "DESC",
            _ => "ASC",
        };
        let order = match &query.order_by {
            Some(_) => format!("(v IS NULL), v {direction}, r.start_ms DESC, r.uuid"),
            None => "r.start_ms DESC, r.uuid".to_owned(),
        };
        let limit = match query.limit {
            // SQLite's LIMIT is a 64-bit signed integer: any larger limit is no limit.
            Some(n) => format!(" LIMIT {}", n.min(i64::MAX as usize)),
            None => String::new(),
        };
        // The window count is taken over every match before the LIMIT: one pass over
        // the filter gives both the page and the total.
        let mut statement = self
            .conn
            .prepare(&format!(
                "SELECT r.uuid, e.name, r.name, r.status, r.start_ms, r.end_ms, {order_value} AS v, \
                 COUNT(*) OVER () {from} ORDER BY {order}{limit}"
            ))
            .map_err(&sql)?;
        let mut matched = 0;
        let runs = statement
            .query_map(rusqlite::params_from_iter(&params), |r| {
                matched = r.get::<_, i64>(7)?;
                Ok(RunSummary {
                    uuid: r.get(0)?,
                    experiment: r.get(1)?,
                    name: r.get(2)?,
                    status: RunStatus::parse(&r.get::<_, String>(3)?).unwrap_or(RunStatus::Failed),
                    start_ms: r.get(4)?,
                    end_ms: r.get(5)?,
                    order_value: match r.get_ref(6)? {
                        rusqlite::types::ValueRef::Null => None,
                        value => Some(ParamValue::from_sql(value)),
                    },
                })
            })
            .map_err(&sql)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(&sql)?;
        if query.limit == Some(0) {
            // An empty page says nothing about the total: count separately.
            let mut count_params = Vec::new();
            let from = selection(query, &mut count_params);
            matched = self
                .conn
                .query_row(
                    &format!("SELECT COUNT(*) {from}"),
                    rusqlite::params_from_iter(&count_params),
                    |r| r.get(0),
                )
                .map_err(&sql)?;
        }
        Ok(Listing {
            runs,
            matched: matched as usize,
        })
    }

    /// The full id of the run whose id is or starts with `id` (at least 4 characters).
    pub fn resolve_run(&self, id: &str) -> Result<String> {
        let sql = self.sql();
        if let Some(uuid) = self
            .conn
            .query_row("SELECT uuid FROM runs WHERE uuid = ?1", [id], |r| r.get(0))
            .optional()
            .map_err(&sql)?
        {
            return Ok(uuid);
        }
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            return Err(Error::NoSuchRun(id.to_owned()));
        }
        let prefix = id.to_ascii_lowercase();
        let range = "uuid >= ?1 AND uuid < ?1 || 'g'";
        let count: i64 = self
            .conn
            .query_row(
                &format!("SELECT COUNT(*) FROM runs WHERE {range}"),
                [&prefix],
                |r| r.get(0),
            )
            .map_err(&sql)?;
        let mut statement = self
            .conn
            .prepare(&format!(
                "SELECT uuid FROM runs WHERE {range} ORDER BY uuid LIMIT 3"
            ))
            .map_err(&sql)?;
        let found = statement
            .query_map([&prefix], |r| r.get::<_, String>(0))
            .map_err(&sql)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(&sql)?;
        match found.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(Error::NoSuchRun(id.to_owned())),
            several => Err(Error::AmbiguousRun {
                prefix: id.to_owned(),
                count: count as usize,
                examples: several.to_vec(),
            }),
        }
    }

    /// Per value of `group_by` (or overall), the FINISHED run with the highest (or, with
    /// `maximize = false`, lowest) value of metric `metric` among the runs `query`
    /// selects. Ties go to the earliest run: the earliest start, then the first recorded
    /// (a grid recorded in one transaction shares its start, and is recorded in the order
    /// it was enumerated in, so this is the configuration a study picks). Groups in
    /// ascending order of their value.
    pub fn best_runs(
        &self,
        query: &RunQuery,
        metric: &str,
        group_by: Option<&Field>,
        maximize: bool,
    ) -> Result<Vec<BestRun>> {
        let sql = self.sql();
        let mut params = Vec::new();
        let value = Field::Metric(metric.to_owned()).value_sql(&mut params);
        let group = match group_by {
            Some(field) => field.value_sql(&mut params),
            None => "NULL".to_owned(),
        };
        let from = selection(query, &mut params);
        let mut statement = self
            .conn
            .prepare(&format!(
                "SELECT * FROM (SELECT r.uuid, r.name, {value} AS v, {group} AS g, r.start_ms, r.id \
                 {from} AND r.status = 'FINISHED') WHERE v IS NOT NULL ORDER BY start_ms, id"
            ))
            .map_err(&sql)?;
        let rows = statement
            .query_map(rusqlite::params_from_iter(&params), |r| {
                let group = match r.get_ref(3)? {
                    rusqlite::types::ValueRef::Null => None,
                    value => Some(ParamValue::from_sql(value)),
                };
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, f64>(2)?,
                    group,
                ))
            })
            .map_err(&sql)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(&sql)?;
        let mut best: Vec<BestRun> = Vec::new();
        for (uuid, name, value, group) in rows {
            match best.iter_mut().find(|b| b.group == group) {
                Some(current) => {
                    current.candidates += 1;
                    let better = if maximize {
                        value > current.value
                    } else {
                        value < current.value
                    };
                    if better {
                        current.uuid = uuid;
                        current.name = name;
                        current.value = value;
                    }
                }
                None => best.push(BestRun {
                    group,
                    uuid,
                    name,
                    value,
                    candidates: 1,
                }),
            }
        }
        best.sort_by(|a, b| group_order(&a.group, &b.group));
        Ok(best)
    }

    /// The runs `query` selects as a wide table (see [`RunTable`]).
    pub fn run_table(&self, query: &RunQuery) -> Result<RunTable> {
        let listing = self.list_runs(query)?;
        let runs = listing
            .runs
            .iter()
            .map(|summary| self.run(&summary.uuid))
            .collect::<Result<Vec<_>>>()?;
        let mut param_keys = std::collections::BTreeSet::new();
        let mut metric_keys = std::collections::BTreeSet::new();
        let mut tag_keys = std::collections::BTreeSet::new();
        for run in &runs {
            param_keys.extend(run.params.keys().cloned());
            metric_keys.extend(run.metrics.iter().map(|m| m.key.clone()));
            tag_keys.extend(run.tags.keys().cloned());
        }
        let mut columns: Vec<String> = [
            "uuid",
            "experiment",
            "name",
            "status",
            "start_ms",
            "end_ms",
            "parent",
            "config_hash",
        ]
        .map(String::from)
        .to_vec();
        columns.extend(param_keys.iter().map(|k| format!("params.{k}")));
        columns.extend(metric_keys.iter().map(|k| format!("metrics.{k}")));
        columns.extend(tag_keys.iter().map(|k| format!("tags.{k}")));
        let text = |s: &str| Some(ParamValue::Text(s.to_owned()));
        let rows = runs
            .iter()
            .map(|run| {
                let last_metric = crate::values::latest_metrics(&run.metrics);
                let mut row = vec![
                    text(&run.uuid),
                    text(&run.experiment),
                    text(&run.name),
                    text(run.status.as_str()),
                    Some(ParamValue::Int(run.start_ms)),
                    run.end_ms.map(ParamValue::Int),
                    run.parent.as_deref().and_then(text),
                    text(&run.config_hash),
                ];
                row.extend(param_keys.iter().map(|k| run.params.get(k).cloned()));
                row.extend(metric_keys.iter().map(|k| {
                    last_metric
                        .get(k.as_str())
                        .map(|(_, v)| ParamValue::Real(*v))
                }));
                row.extend(
                    tag_keys
                        .iter()
                        .map(|k| run.tags.get(k).and_then(|v| text(v))),
                );
                row
            })
            .collect();
        Ok(RunTable { columns, rows })
    }
}

/// Groups in ascending order: numbers before text, the run without a group last.
fn group_order(a: &Option<ParamValue>, b: &Option<ParamValue>) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let number = |v: &ParamValue| match v {
        ParamValue::Int(i) => Some(*i as f64),
        ParamValue::Real(r) => Some(*r),
        ParamValue::Text(_) => None,
    };
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => match (number(x), number(y)) {
            (Some(p), Some(q)) => p.total_cmp(&q),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => x.to_string().cmp(&y.to_string()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Metric, NewRun};

    fn store_with_runs(dir: &std::path::Path) -> Store {
        let mut store = Store::open(&dir.join("runs.db")).expect("open");
        let exp = store.experiment("study").expect("experiment");
        let other = store.experiment("other").expect("experiment");
        let rows = [
            (exp, "hog", 1.0, 0.80, "cv"),
            (exp, "hog", 10.0, 0.90, "cv"),
            (exp, "gabor", 1.0, 0.85, "cv"),
            (exp, "gabor", 10.0, 0.70, "cv"),
            (exp, "hog", 10.0, 0.95, "test"),
            (other, "hog", 1.0, 0.99, "cv"),
        ];
        for (i, (experiment, feature, c, f1, stage)) in rows.into_iter().enumerate() {
            store
                .record_finished_run(&NewRun {
                    artifacts: Vec::new(),
                    experiment_id: experiment,
                    parent: None,
                    name: format!("{feature} C={c} {stage}"),
                    config_hash: format!("h{i}"),
                    params: vec![
                        ("feature".to_owned(), feature.into()),
                        ("C".to_owned(), c.into()),
                        ("stage".to_owned(), stage.into()),
                    ],
                    metrics: vec![Metric::new("f1_macro", f1, 0)],
                    tags: vec![],
                    start_ms: i as i64,
                    end_ms: i as i64 + 1,
                    predictions: Vec::new(),
                })
                .expect("record");
        }
        store
    }

    #[test]
    fn listings_filter_order_and_limit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = store_with_runs(dir.path());
        let all = store.list_runs(&RunQuery::default()).expect("list");
        assert_eq!(all.matched, 6);
        assert_eq!(all.runs[0].name, "hog C=1 cv", "newest first");
        assert_eq!(all.runs[0].experiment, "other");
        let query = RunQuery {
            experiment: Some("study".to_owned()),
            filter: Some(Filter::parse("params.stage = 'cv' and params.C >= 1").expect("filter")),
            order_by: Some(OrderBy::parse("metrics.f1_macro DESC").expect("order")),
            limit: Some(2),
        };
        let listing = store.list_runs(&query).expect("list");
        assert_eq!(listing.matched, 4);
        let names: Vec<&str> = listing.runs.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["hog C=10 cv", "gabor C=1 cv"]);
        assert_eq!(listing.runs[0].order_value, Some(ParamValue::Real(0.90)));
        assert!(OrderBy::parse("metrics.").is_err());
        assert_eq!(
            OrderBy::parse("params.C").expect("asc"),
            OrderBy {
                field: Field::Param("C".into()),
                descending: false
            }
        );
    }

    #[test]
    fn best_run_per_group() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = store_with_runs(dir.path());
        let query = RunQuery {
            experiment: Some("study".to_owned()),
            filter: Some(Filter::parse("params.stage = 'cv'").expect("filter")),
            ..Default::default()
        };
        let best = store
            .best_runs(
                &query,
                "f1_macro",
                Some(&Field::Param("feature".into())),
                true,
            )
            .expect("best");
        let summary: Vec<(Option<ParamValue>, &str, f64, usize)> = best
            .iter()
            .map(|b| (b.group.clone(), b.name.as_str(), b.value, b.candidates))
            .collect();
        assert_eq!(
            summary,
            vec![
                (Some("gabor".into()), "gabor C=1 cv", 0.85, 2),
                (Some("hog".into()), "hog C=10 cv", 0.90, 2),
            ]
        );
        let worst = store
            .best_runs(&query, "f1_macro", None, false)
            .expect("min");
        assert_eq!(worst.len(), 1);
        assert_eq!(worst[0].value, 0.70);
        assert!(
            store
                .best_runs(&query, "missing", None, true)
                .expect("none")
                .is_empty()
        );
    }

    #[test]
    fn tied_best_runs_go_to_the_first_recorded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&dir.path().join("runs.db")).expect("open");
        let exp = store.experiment("study").expect("experiment");
        // A grid recorded in one transaction: one start time, equal scores. Random
        // uuids must not decide (eight runs: the first recorded has the smallest uuid
        // only one time in eight).
        let grid: Vec<NewRun<'_>> = (0..8)
            .map(|i| NewRun {
                artifacts: Vec::new(),
                experiment_id: exp,
                parent: None,
                name: format!("C={i}"),
                config_hash: format!("grid{i}"),
                params: vec![("C".to_owned(), ParamValue::Int(i))],
                metrics: vec![Metric::new("f1_macro", 0.9, 0)],
                tags: vec![],
                start_ms: 100,
                end_ms: 200,
                predictions: Vec::new(),
            })
            .collect();
        store.record_finished_runs(&grid).expect("record");
        for maximize in [true, false] {
            let best = store
                .best_runs(&RunQuery::default(), "f1_macro", None, maximize)
                .expect("best");
            assert_eq!(best[0].name, "C=0");
            assert_eq!(best[0].candidates, 8);
        }
    }

    #[test]
    fn run_ids_resolve_by_unique_prefix() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = store_with_runs(dir.path());
        let listing = store.list_runs(&RunQuery::default()).expect("list");
        let uuid = &listing.runs[0].uuid;
        assert_eq!(&store.resolve_run(uuid).expect("full"), uuid);
        // The shortest prefix that is unique among six random ids is a few characters.
        let unique = (4..uuid.len())
            .map(|n| &uuid[..n])
            .find(|p| {
                listing
                    .runs
                    .iter()
                    .filter(|r| r.uuid.starts_with(p))
                    .count()
                    == 1
            })
            .expect("a unique prefix");
        assert_eq!(&store.resolve_run(unique).expect("prefix"), uuid);
        assert!(matches!(
            store.resolve_run("zzzz"),
            Err(Error::NoSuchRun(_))
        ));
        // A one-character prefix: the run when it is the only one, otherwise how many
        // share it, with examples.
        let first = &uuid[..1];
        let sharing = listing
            .runs
            .iter()
            .filter(|r| r.uuid.starts_with(first))
            .count();
        match store.resolve_run(first) {
            Ok(found) => assert_eq!((sharing, &found), (1, uuid)),
            Err(Error::AmbiguousRun {
                count, examples, ..
            }) => {
                assert_eq!(count, sharing);
                assert!(examples.len() >= 2 && examples.iter().all(|e| e.starts_with(first)));
            }
            Err(other) => panic!("{other}"),
        }
        let unused = (0..16)
            .map(|d| format!("{d:x}"))
            .find(|p| !listing.runs.iter().any(|r| r.uuid.starts_with(p.as_str())))
            .expect("six runs leave a hex digit unused");
        assert!(matches!(
            store.resolve_run(&unused),
            Err(Error::NoSuchRun(_))
        ));
        assert!(matches!(
            store.resolve_run("'; DROP TABLE runs; --"),
            Err(Error::NoSuchRun(_))
        ));
    }

    #[test]
    fn wide_table_has_a_column_per_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = store_with_runs(dir.path());
        let table = store
            .run_table(&RunQuery {
                experiment: Some("study".to_owned()),
                ..Default::default()
            })
            .expect("table");
        assert_eq!(table.rows.len(), 5);
        for column in ["uuid", "params.C", "params.feature", "metrics.f1_macro"] {
            assert!(table.columns.iter().any(|c| c == column), "{column}");
        }
        let f1 = table
            .columns
            .iter()
            .position(|c| c == "metrics.f1_macro")
            .expect("f1");
        assert_eq!(table.rows[0][f1], Some(ParamValue::Real(0.95)));
        assert!(table.rows.iter().all(|r| r.len() == table.columns.len()));
    }
}
