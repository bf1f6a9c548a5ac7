/// Errors of SVM training, cross-validation and scoring.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid SVM parameter `{name}`: {message}")]
    InvalidParameter { name: &'static str, message: String },

    #[error(
        "{folds}-fold cross-validation needs at least {folds} samples of every class, but class {class} has {count}"
    )]
    TooFewSamplesForFolds {
        folds: usize,
        class: usize,
        count: usize,
    },

    #[error("training data holds a single class ({class}); a classifier needs at least two")]
    SingleClass { class: usize },

    #[error("{records} feature rows but {labels} labels")]
    LengthMismatch { records: usize, labels: usize },

    #[error("label {label} is out of range for {n_classes} classes")]
    LabelOutOfRange { label: usize, n_classes: usize },

    #[error("feature value {value} at row {row}, column {column} is not finite")]
    NonFinite {
        row: usize,
        column: usize,
        value: f64,
    },

    #[error(
        "the {kernel} kernel is {value:e} on {samples}: kernel values must be finite and within single precision (|K| ≤ 3.4e38), where the solver keeps them as libsvm does; {advice}"
    )]
    KernelOverflow {
        kernel: String,
        value: f64,
        samples: &'static str,
        advice: &'static str,
    },

    #[error("no training samples")]
    Empty,

    #[error("inconsistent matrix shapes: {0}")]
    Shape(String),

    #[error(transparent)]
    Transform(#[from] sarlab_transform::Error),

    #[error("linfa-svm failed on classes {pos} vs {neg}: {message}")]
    Solver {
        pos: usize,
        neg: usize,
        message: String,
    },

    #[error(transparent)]
    Linfa(#[from] linfa::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
