//! Data layer of sarlab: reads SAR data in the formats labs have — MSTAR Phoenix chips
//! and scenes, folders of PNG/JPEG/TIFF/`.npy` chips (split by folder or by a manifest
//! CSV), and ENVI raw rasters far larger than memory — into `f32` arrays with their
//! class label, split and metadata; computes a content digest that identifies a dataset
//! across runs and machines; converts between sample representations; and generates
//! the synthetic SAR dataset that is sarlab's embedded default.
//!
//! This crate and its siblings `sarlab-track` and `sarlab-report` are the only ones
//! that touch the file system; the compute crates take the arrays produced here.

pub mod chip_file;
pub mod convert;
mod dataset;
pub mod envi;
mod error;
mod hex;
pub mod info;
mod info_text;
mod jpeg;
pub mod mapped;
pub mod npy;
pub mod phoenix;
pub mod pixels;
mod printable;
pub mod safe_write;
pub mod synth;

pub use chip_file::{ChipFormat, ChipMeta, DecodeOptions};
pub use dataset::{
    Chip, ChipEntry, Dataset, DatasetFormat, DatasetIndex, DatasetOptions, DepressionSplits,
    FolderLayout, MANIFEST_FILE, Skipped, Split, counts_by_class, labelled_format,
};
pub use error::{Error, Result};
pub use hex::sha256_hex;
pub use phoenix::Md5Status;
pub use pixels::Pixels;
pub use printable::{csv_field, printable, printable_lines};
