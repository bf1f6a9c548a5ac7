//! Chips to labels with a model, in blocks: each block's chips are read, prepared and
//! turned into features in parallel, then decided together, so memory holds one block
//! whatever the number of chips.

use std::path::Path;

use ndarray::Array2;
use rayon::prelude::*;
use sarlab_svm::DECISION_BLOCK_ROWS;

use crate::error::{Error, Result};
use crate::inputs::InputChip;
use crate::model::Model;

/// One chip's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ChipPrediction {
    /// The chip as [`InputChip::name`] names it.
    pub name: String,
    /// Its true class name, when the input labels it (or its Phoenix header does).
    pub truth: Option<String>,
    /// Index into the model's classes.
    pub predicted: usize,
    /// Votes per class of the model.
    pub votes: Vec<u32>,
    /// One per pair machine, in the model's pair order.
    pub decision_values: Vec<f64>,
    /// Class probabilities (Platt scaling and pairwise coupling), when asked for.
    pub probabilities: Option<Vec<f64>>,
}

impl Model {
    /// The features of one chip file as the model's training chips had them: decoded
    /// with the model's band, centre-cropped (or checked to be the training size),
    /// preprocessed, extracted. Returns the class its Phoenix header names, if any.
    pub fn chip_features(&self, path: &Path) -> Result<(Vec<f64>, Option<String>)> {
        let bytes = std::fs::read(path).map_err(|e| Error::Read(e).in_file(path))?;
        let decoded = sarlab_io::chip_file::decode(&bytes, path, &self.decode).map_err(|e| {
            let bands = match self.decode.band {
                Some(band) => format!("band {band} of multi-band images"),
                None => "single-band (or RGB, as luma) images".to_owned(),
            };
            Error::Chip {
                path: path.to_path_buf(),
                message: format!("{e} (the model reads {bands})"),
            }
        })?;
        drop(bytes);
        let size = decoded.image.dim();
        let wrong_size = |expected: String| Error::Chip {
            path: path.to_path_buf(),
            message: format!("a {}x{} chip; the model takes {expected}", size.0, size.1),
        };
        match (self.preprocess.crop, self.header.input.chip_size) {
            (Some(crop), _) if size.0.min(size.1) < crop && self.preprocess.pad.is_none() => {
                return Err(wrong_size(format!(
                    "chips of at least {crop}x{crop} (it centre-crops {crop}x{crop})"
                )));
            }
            (None, Some(expected)) if expected != size && self.preprocess.resize.is_none() => {
                return Err(wrong_size(format!(
                    "{}x{} chips (it was trained on that size without a crop)",
                    expected.0, expected.1
                )));
            }
            _ => {}
        }
        let ((rows, cols), inner) = self.preprocess.source_window(size)?;
        let image = self
            .preprocess
            .prepare(
                decoded.image.window_f64(rows, cols).view(),
                inner,
                decoded.meta.azimuth_deg,
            )
            .map_err(|e| Error::Chip {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        let features = self.method.extract(image.view())?;
        if features.len() != self.fitted.input_len {
            return Err(Error::Chip {
                path: path.to_path_buf(),
                message: format!(
                    "gives {} features, the model takes {}",
                    features.len(),
                    self.fitted.input_len
                ),
            });
        }
        Ok((features, decoded.meta.target_type))
    }

    /// Predicts `chips` in blocks of [`DECISION_BLOCK_ROWS`], handing each block's
    /// answers to `sink` in input order. The first error (a chip that cannot be read
    /// or does not fit the model) stops it.
    pub fn predict_chips(
        &self,
        chips: &[InputChip],
        probability: bool,
        mut sink: impl FnMut(Vec<ChipPrediction>) -> Result<()>,
    ) -> Result<()> {
        if probability && self.probability().is_none() {
            return Err(Error::Input(
                "this model has no probability estimates (train it with `--probability`)"
                    .to_owned(),
            ));
        }
        // One block matrix for every block: chips' features are written into its rows
        // and standardised in place, so no block faults in fresh memory.
        let width = self.fitted.input_len;
        let mut x = Array2::<f64>::zeros((DECISION_BLOCK_ROWS.min(chips.len()), width));
        for block in chips.chunks(DECISION_BLOCK_ROWS) {
            let mut rows = x.slice_mut(ndarray::s![..block.len(), ..]);
            let header_classes: Vec<Option<String>> = rows
                .as_slice_mut()
                .expect("leading rows of a standard-layout matrix")
                .par_chunks_mut(width.max(1))
                .zip(block.par_iter())
                .map(|(row, chip)| {
                    let (values, class) = self.chip_features(&chip.path)?;
                    row.copy_from_slice(&values);
                    Ok(class)
                })
                .collect::<Result<_>>()?;
            let decisions = self.fitted.decide_in_place(rows)?;
            let probabilities = match probability {
                true => Some(self.probabilities(decisions.decision_values.view())?),
                false => None,
            };
            let answers = block
                .iter()
                .zip(header_classes)
                .enumerate()
                .map(|(r, (chip, header_class))| ChipPrediction {
                    name: chip.name.clone(),
                    truth: chip.truth.clone().or(header_class),
                    predicted: decisions.labels[r],
                    votes: decisions.votes.row(r).to_vec(),
                    decision_values: decisions.decision_values.row(r).to_vec(),
                    probabilities: probabilities.as_ref().map(|p| p.row(r).to_vec()),
                })
                .collect();
            sink(answers)?;
        }
        Ok(())
    }
}
