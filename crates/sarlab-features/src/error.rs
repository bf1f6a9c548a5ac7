/// Errors of feature extraction and feature transforms.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error("invalid feature parameter `{name}`: {message}")]
    InvalidParameter { name: &'static str, message: String },

    #[error(
        "a {rows}x{cols} image is too small for HOG with pixels_per_cell = {cell_rows}x{cell_cols} \
         and cells_per_block = {block_rows}x{block_cols}: it has {cells_r}x{cells_c} whole cells"
    )]
    ImageTooSmall {
        rows: usize,
        cols: usize,
        cell_rows: usize,
        cell_cols: usize,
        block_rows: usize,
        block_cols: usize,
        cells_r: usize,
        cells_c: usize,
    },

    #[error(
        "chip {index} is {rows}x{cols} but chip 0 is {rows0}x{cols0}: crop chips to a common size"
    )]
    SizeMismatch {
        index: usize,
        rows: usize,
        cols: usize,
        rows0: usize,
        cols0: usize,
    },

    #[error("unknown feature method `{0}`: expected raw, hog, gabor, spectral, geometry or fusion")]
    UnknownMethod(String),

    #[error("`{method}` has no parameter `{key}`; its parameters are {known}")]
    UnknownParameter {
        method: &'static str,
        key: String,
        known: String,
    },

    /// A fusion part's parameter, by its full key (`hog.orientations`).
    #[error("`{key}`: {source}")]
    FusionPart { key: String, source: Box<Error> },

    #[error("no chips to extract features from")]
    NoChips,

    #[error("feature matrix has {got} columns, the transform was fitted on {expected}")]
    DimensionMismatch { expected: usize, got: usize },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
