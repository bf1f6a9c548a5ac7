/// Errors of the preprocessing stages.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error("crop of {size}x{size} does not fit a {rows}x{cols} image")]
    CropTooLarge {
        size: usize,
        rows: usize,
        cols: usize,
    },

    #[error("crop size must be at least 1 pixel")]
    ZeroCrop,

    #[error("unknown intensity transform `{0}` (expected one of: linear, db, sqrt)")]
    UnknownIntensity(String),

    #[error("unknown chip normalisation `{0}` (expected one of: l1, l2, max, zscore)")]
    UnknownNorm(String),

    #[error("invalid augmentation {0}")]
    InvalidAugment(String),

    #[error("invalid filter {0}")]
    InvalidFilter(String),

    #[error("image is {actual:?} (rows, cols), expected {expected:?}")]
    SizeMismatch {
        expected: (usize, usize),
        actual: (usize, usize),
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
