//! Errors of the bindings, and how each becomes a Python exception: sarlab's message
//! unchanged, as `sarlab.SarlabError` (a `ValueError`, so that callers and scikit-learn
//! catch bad input as they do everywhere), or `OSError` / `FileNotFoundError` for files.

use pyo3::PyErr;
use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyValueError};

pyo3::create_exception!(
    _sarlab,
    SarlabError,
    PyValueError,
    "An error sarlab reports: bad input, an invalid parameter, a shape that does not fit."
);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Io(#[from] sarlab_io::Error),
    #[error(transparent)]
    Filter(#[from] sarlab_filter::Error),
    #[error(transparent)]
    Features(#[from] sarlab_features::Error),
    #[error(transparent)]
    Svm(#[from] sarlab_svm::Error),
    #[error(transparent)]
    Transform(#[from] sarlab_transform::Error),
    #[error(transparent)]
    Study(#[from] sarlab_study::Error),
    #[error(transparent)]
    Track(#[from] sarlab_track::Error),
    #[error(transparent)]
    Model(#[from] sarlab_model::Error),
    /// A file could not be read.
    #[error("{path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// An argument the bindings check themselves.
    #[error("{0}")]
    Argument(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl From<Error> for PyErr {
    fn from(err: Error) -> Self {
        match &err {
            Error::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                PyFileNotFoundError::new_err(err.to_string())
            }
            Error::Read { .. } | Error::Io(sarlab_io::Error::Read { .. }) => {
                PyOSError::new_err(err.to_string())
            }
            _ => SarlabError::new_err(err.to_string()),
        }
    }
}

/// An error naming the first non-finite sample of `image`, if any: NaN or infinity in
/// would be NaN (or an arbitrary answer) out.
pub fn check_finite(image: ndarray::ArrayView2<'_, f64>, what: &str) -> Result<()> {
    // The common case in one vectorisable pass: `v * 0.0` is 0 for finite values and NaN
    // for NaN and ±infinity, so the sum is NaN exactly when some value is not finite.
    let all_finite = match image.as_slice_memory_order() {
        Some(values) => values.iter().map(|v| v * 0.0).sum::<f64>() == 0.0,
        None => image.iter().all(|v| v.is_finite()),
    };
    if all_finite {
        return Ok(());
    }
    match image.indexed_iter().find(|(_, v)| !v.is_finite()) {
        None => Ok(()),
        Some(((r, c), v)) => Err(Error::Argument(format!(
            "{what}: sample ({r}, {c}) is {v}; expected finite values"
        ))),
    }
}
