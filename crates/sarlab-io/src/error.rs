use std::path::PathBuf;

/// Everything that can go wrong while reading or writing SAR data.
///
/// Every variant names the file or folder involved, so a message can be acted on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("dataset folder {path} does not exist")]
    MissingFolder { path: PathBuf },

    #[error(
        "dataset folder {path} has no `{split}` sub-folder (expected {path}/{split}/<class>/<chips>)"
    )]
    MissingSplit { path: PathBuf, split: String },

    #[error("split folder {path} holds no class folders (expected one folder per target class)")]
    NoClasses { path: PathBuf },

    #[error("class folder {path} holds no readable chips (expected PNG, JPEG or TIFF files)")]
    EmptyClass { path: PathBuf },

    #[error("class `{class}` is in the {present} split but not in the {missing} split ({path})")]
    ClassMissingFromSplit {
        class: String,
        present: String,
        missing: String,
        path: PathBuf,
    },

    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot decode image {path}: {source}")]
    Decode {
        path: PathBuf,
        #[source]
        source: image::ImageError,
    },

    #[error("cannot encode image {path}: {source}")]
    Encode {
        path: PathBuf,
        #[source]
        source: image::ImageError,
    },

    #[error("image {path} holds a non-finite value at row {row}, column {col}")]
    NonFinite {
        path: PathBuf,
        row: usize,
        col: usize,
    },

    #[error("{path}: {message}")]
    Metadata { path: PathBuf, message: String },

    #[error("invalid synthetic-data setting `{key}`: {message}")]
    SynthConfig { key: &'static str, message: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
