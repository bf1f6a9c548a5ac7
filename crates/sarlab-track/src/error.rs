use std::path::PathBuf;

/// Errors of the run store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot open run database {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    #[error(
        "run database {path} has schema version {found}; this sarlab knows versions up to {supported}: upgrade sarlab"
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        supported: i64,
    },

    #[error(
        "run database {path} has schema version {found}, an older one than this sarlab's ({current}); `sarlab run` upgrades it in place first"
    )]
    OlderSchema {
        path: PathBuf,
        found: i64,
        current: i64,
    },

    #[error("run database {path}: upgrading the schema from version {from} failed: {source}")]
    Migration {
        path: PathBuf,
        from: i64,
        #[source]
        source: rusqlite::Error,
    },

    #[error("run database {path}: {source}")]
    Sql {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    #[error("run database {path}: {message}")]
    Corrupt { path: PathBuf, message: String },

    #[error("no run with id {0}")]
    NoSuchRun(String),

    #[error("run id prefix `{prefix}` is ambiguous: {count} runs start with it, e.g. {}; give more characters", examples.join(", "))]
    AmbiguousRun {
        prefix: String,
        count: usize,
        examples: Vec<String>,
    },

    #[error("cannot merge {path} into itself")]
    MergeIntoItself { path: PathBuf },

    #[error("metric `{key}` has a non-finite value ({value}); refusing to record it")]
    NonFiniteMetric { key: String, value: f64 },

    #[error("run `{run}` names parent run {parent}, which is not in the database")]
    NoSuchParent { run: String, parent: String },
}

impl Error {
    /// Whether SQLite answered "busy" or "locked": another connection holds the lock,
    /// and trying again later can succeed.
    pub fn is_busy(&self) -> bool {
        let source = match self {
            Error::Open { source, .. }
            | Error::Migration { source, .. }
            | Error::Sql { source, .. } => source,
            _ => return false,
        };
        matches!(
            source.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        )
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
