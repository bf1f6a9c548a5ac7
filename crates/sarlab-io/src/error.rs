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

    #[error("class folder {path} holds no chips (expected PNG, JPEG, TIFF or .npy files)")]
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

    #[error("refusing to write {output}: it is {protected}, {what}; choose another output path")]
    WouldOverwrite {
        output: PathBuf,
        protected: PathBuf,
        what: &'static str,
    },

    #[error("chip {path}: {message}")]
    ChipWindow { path: PathBuf, message: String },

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

    #[error("{path}: the {what} holds a non-finite value (NaN or inf) at row {row}, column {col}")]
    NonFinite {
        path: PathBuf,
        row: usize,
        col: usize,
        what: &'static str,
    },

    #[error("{path}: bad {format} header: {message}")]
    Header {
        path: PathBuf,
        format: &'static str,
        message: String,
    },

    #[error("{path} is {actual} bytes, expected {expected} ({what})")]
    Size {
        path: PathBuf,
        expected: u64,
        actual: u64,
        what: String,
    },

    #[error(
        "{path}: MD5 check failed: the header's Chip_MD5_CheckSum is {expected} but the data hashes to {actual} (file damaged or altered)"
    )]
    Md5Mismatch {
        path: PathBuf,
        expected: String,
        actual: String,
    },

    #[error("{path}: band {band} asked for, but the image has {bands} band(s) (numbered from 0)")]
    BandOutOfRange {
        path: PathBuf,
        band: usize,
        bands: usize,
    },

    #[error("{path}, line {line}: {message}")]
    Manifest {
        path: PathBuf,
        line: usize,
        message: String,
    },

    #[error(
        "{path} is not a dataset: expected <train>/<class>/ and <test>/<class>/ folders, a manifest.csv, or MSTAR Phoenix files with a depression angle of either split (found {skipped} other files and {other_depression} Phoenix chips at other depressions)"
    )]
    NotADataset {
        path: PathBuf,
        skipped: usize,
        other_depression: usize,
    },

    #[error("invalid {what}: {message}")]
    InvalidArgument { what: &'static str, message: String },

    #[error("{path}: {message}")]
    Metadata { path: PathBuf, message: String },

    #[error("invalid synthetic-data setting `{key}`: {message}")]
    SynthConfig { key: &'static str, message: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
