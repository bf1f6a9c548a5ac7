//! What a run records — typed parameter values, metrics, status — and the
//! configuration hash that identifies a configuration.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::ToSql;
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use sha2::{Digest, Sha256};

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
    pub(crate) fn from_sql(value: ValueRef<'_>) -> Self {
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

    pub(crate) fn parse(s: &str) -> Option<Self> {
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
    /// Per-sample predictions of a test run (empty for other runs).
    pub predictions: Vec<Prediction>,
    /// Files the run produced (a test run's saved model), recorded in the same
    /// transaction as the run, so no reader sees the run without them.
    pub artifacts: Vec<Artifact>,
}

/// One test chip's prediction: `chip` names it (`split/class/name`), `truth` and
/// `predicted` are class indices into the study's classes.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub chip: String,
    pub truth: usize,
    pub predicted: usize,
    /// The one-vs-one decision values, one per pair machine in libsvm's pair order
    /// (`(0,1), (0,2), …, (1,2), …`); empty when not recorded (before schema 5).
    pub decision_values: Vec<f64>,
}

/// A run as read back from the store.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRun {
    pub uuid: String,
    pub experiment: String,
    pub parent: Option<String>,
    pub config_hash: String,
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

/// Each key's value at its highest step, as `(step, value)`, in key order: what
/// `metric_latest` holds and filters compare.
pub fn latest_metrics(metrics: &[Metric]) -> BTreeMap<&str, (i64, f64)> {
    let mut latest: BTreeMap<&str, (i64, f64)> = BTreeMap::new();
    for m in metrics {
        let entry = latest.entry(&m.key).or_insert((m.step, m.value));
        if m.step >= entry.0 {
            *entry = (m.step, m.value);
        }
    }
    latest
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

/// A file recorded with a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub path: String,
    pub kind: String,
    /// SHA-256 of the file's bytes when it was recorded (hex).
    pub sha256: String,
}

/// A saved model and the run it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelArtifact {
    pub run: String,
    pub experiment: String,
    pub run_name: String,
    pub path: String,
    pub sha256: String,
}
