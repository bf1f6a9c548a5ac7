//! Experiment tracking for sarlab in SQLite: experiments, runs (with parent runs for
//! studies), typed parameters, per-step metrics, tags and artifacts, in the spirit of
//! MLflow's tables.
//!
//! Guarantees:
//! * a finished run is written in one `BEGIN IMMEDIATE` transaction with its
//!   parameters, metrics and tags, so a crash never leaves half a run;
//! * the database runs in WAL mode with a busy timeout, so several processes can write
//!   to it at once;
//! * a run's configuration hash (dataset digest + canonical parameters) is unique per
//!   experiment, so rerunning a study never duplicates a finished configuration;
//! * parameters keep their type: numbers are stored as SQL numbers, so
//!   `WHERE value > 1` compares numerically;
//! * run filters ([`filter`]: `metrics.f1_macro > 0.9 and params.kernel = 'rbf'`) are
//!   parsed into a tree and compiled with every key and value bound as a parameter;
//! * the schema is versioned (`PRAGMA user_version`) and upgraded forward in place;
//! * a RUNNING run records its process (pid, host) and a heartbeat, so a run whose
//!   process died is found and marked FAILED ([`Store::fail_dead_runs`]);
//! * a configuration is claimed (recorded RUNNING under its worker's run) before it is
//!   computed ([`Store::claim_runs`]), so processes sharing one database split a plan;
//!   a dead worker's claims are taken over, an ended run's claims are released;
//! * databases merge ([`Store::merge_from`]) by run id and configuration hash, so shard
//!   databases fold into one without duplicates, and merging twice changes nothing.

mod claims;
mod error;
pub mod filter;
mod merge;
mod preview;
mod provenance;
mod query;
mod run_view;
mod schema;
mod store;
mod values;

pub use claims::{ClaimRequest, ClaimState};
pub use error::{Error, Result};
pub use filter::{Field, Filter, FilterError};
pub use merge::MergeCounts;
pub use preview::{MethodTimings, Preview};
pub use provenance::{environment_tags, host_name};
pub use query::{BestRun, Listing, OrderBy, RunQuery, RunSummary, RunTable};
pub use run_view::{mean_std, utc_text};
pub use schema::SCHEMA_VERSION;
pub use store::Store;
pub use values::{
    Artifact, Metric, ModelArtifact, NewRun, ParamValue, Prediction, RunStatus, StoredRun,
    config_hash, latest_metrics, now_ms,
};
