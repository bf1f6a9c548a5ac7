//! Data layer of sarlab: finds SAR chips on disk, reads them into `f32` arrays with
//! their class label and train/test split, computes a content digest that identifies
//! a dataset across runs and machines, and generates the synthetic SAR dataset that
//! is sarlab's embedded default.
//!
//! This crate and its siblings `sarlab-track` and `sarlab-report` are the only ones
//! that touch the file system; the compute crates take the arrays produced here.

mod dataset;
mod error;
pub mod synth;

pub use dataset::{Chip, ChipDataset, ChipEntry, DatasetIndex, FolderLayout, Split};
pub use error::{Error, Result};
