/// What a transform refuses.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid transform parameter `{name}`: {message}")]
    InvalidParameter { name: &'static str, message: String },

    #[error("no rows to fit the transform on")]
    NoRows,

    #[error("feature matrix has {got} columns, the transform was fitted on {expected}")]
    DimensionMismatch { expected: usize, got: usize },

    #[error("feature {column} of row {row} is not finite ({value})")]
    NonFinite {
        row: usize,
        column: usize,
        value: f64,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
