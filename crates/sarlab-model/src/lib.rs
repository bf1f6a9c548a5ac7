//! Saved models: what a study's refit learnt, written as one file that classifies new
//! chips — the preprocessing (crop, speckle filter, intensity, frequency filter), the
//! feature method and its settings, the standardiser and PCA fitted on the train
//! split, the one-vs-one machines (support vectors, coefficients, offsets, kernel),
//! optional Platt sigmoids, the class names, and where it came from (experiment,
//! configuration hash, dataset digest, sarlab version).
//!
//! The file is a safetensors container (`docs/model-format.md`): an 8-byte header
//! length, a JSON header, then little-endian arrays, so numpy users open it with
//! `safetensors.numpy.load_file`; sarlab's own header and a SHA-256 of everything sit
//! in its `__metadata__`. Loading checks the layout, the format version, the checksum
//! and that every array fits the header, so a truncated, altered or newer file is an
//! error naming it.
//!
//! Prediction ([`Model::predict_chips`]) reads chips the way the study read its own —
//! the same decoder, crop window, preprocessing and extractor, then
//! [`sarlab_svm::FittedModel::decide`] in the same row blocks — so the test split
//! predicted from the file gives the study's recorded decision values bit for bit.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A model file that is not one is refused with the reason.
//! let error = sarlab_model::Model::from_bytes(b"not a model").unwrap_err();
//! assert!(error.to_string().contains("not a sarlab model"));
//! # Ok(()) }
//! ```

mod error;
pub mod header;
pub mod inputs;
mod model;
pub mod output;
mod predict;
mod tensors;

pub use error::{Error, Result};
pub use header::{FORMAT_VERSION, ModelHeader};
pub use inputs::{InputChip, InputOptions, Inputs};
pub use model::{MAX_MODEL_BYTES, Model, ModelParts};
pub use predict::ChipPrediction;
