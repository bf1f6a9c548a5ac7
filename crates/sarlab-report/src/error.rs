use std::path::PathBuf;

/// Errors while building or writing a report.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot write report file {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot encode figure {path}: {source}")]
    Encode {
        path: PathBuf,
        #[source]
        source: image::ImageError,
    },

    #[error("cannot draw figure {name}: {message}")]
    Draw { name: String, message: String },

    #[error("building report tables: {0}")]
    Table(#[from] polars::error::PolarsError),

    #[error("the report has no feature methods to compare")]
    Empty,

    #[error("cannot write table file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("invalid table: {0}")]
    Invalid(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
