use std::path::PathBuf;

/// Errors of saving, loading and applying a model. File-level variants are wrapped in
/// [`Error::File`] by the functions that know the path.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    File {
        path: PathBuf,
        #[source]
        source: Box<Error>,
    },
    #[error("cannot read: {0}")]
    Read(#[source] std::io::Error),
    #[error("not a sarlab model: {0}")]
    NotAModel(String),
    #[error("truncated model file: {0}")]
    Truncated(String),
    #[error("malformed model file: {0}")]
    Malformed(String),
    #[error(
        "model file format version {found} is newer than this sarlab reads (at most {supported}): use a newer sarlab"
    )]
    NewerVersion { found: u32, supported: u32 },
    #[error(
        "the model file's checksum does not match its contents (recorded {expected}, computed {actual}): it was altered or damaged"
    )]
    Checksum { expected: String, actual: String },
    /// A chip the model cannot take (size, bands, format).
    #[error("{path}: {message}")]
    Chip { path: PathBuf, message: String },
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Io(#[from] sarlab_io::Error),
    #[error(transparent)]
    Filter(#[from] sarlab_filter::Error),
    #[error(transparent)]
    Features(#[from] sarlab_features::Error),
    #[error(transparent)]
    Svm(#[from] sarlab_svm::Error),
    #[error("model header: {0}")]
    Header(#[from] serde_json::Error),
}

impl Error {
    pub(crate) fn in_file(self, path: impl Into<PathBuf>) -> Self {
        Error::File {
            path: path.into(),
            source: Box::new(self),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
