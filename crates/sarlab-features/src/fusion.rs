//! Feature fusion: several methods' vectors of one image, concatenated as blocks.
//!
//! A block is one method's output. Blocks are put on a common footing in two places:
//! per image, optionally, by [`BlockNorm`] (each block's vector scaled to unit L2 norm,
//! no statistics learned), and after the pipeline's per-feature standardisation by
//! [`FusionParams::column_weights`] — block `b`'s standardised features are multiplied
//! by `w_b / √d_b` when `balance` is on, so that each block carries a total variance
//! of `w_b²` on the training data whatever its length (a 1764-long HOG block would
//! otherwise outweigh a 24-long Gabor block 73 to 1 in every RBF distance).

use std::fmt;
use std::str::FromStr;

use ndarray::ArrayView2;

use crate::FeatureMethod;
use crate::error::{Error, Result};

/// What is done to each block's vector of one image before concatenation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BlockNorm {
    /// The vector as the method gives it.
    #[default]
    None,
    /// Divided by its L2 norm (a zero vector stays zero).
    L2,
}

impl BlockNorm {
    pub const NAMES: [&'static str; 2] = ["none", "l2"];
}

impl fmt::Display for BlockNorm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BlockNorm::None => "none",
            BlockNorm::L2 => "l2",
        })
    }
}

impl FromStr for BlockNorm {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim() {
            "none" => Ok(BlockNorm::None),
            "l2" => Ok(BlockNorm::L2),
            other => Err(Error::InvalidParameter {
                name: "block_norm",
                message: format!("`{other}` is not one of none, l2"),
            }),
        }
    }
}

/// Several methods on the same image, concatenated in the order given.
#[derive(Debug, Clone, PartialEq)]
pub struct FusionParams {
    /// The blocks' methods (two or more, distinct, none itself a fusion).
    pub parts: Vec<FeatureMethod>,
    /// One weight per block (all 1 by default); applied after standardisation.
    pub weights: Vec<f64>,
    /// Per-image scaling of each block before concatenation.
    pub block_norm: BlockNorm,
    /// Divide each standardised block by the square root of its length.
    pub balance: bool,
}

impl Default for FusionParams {
    fn default() -> Self {
        Self::of(vec![
            FeatureMethod::with_defaults("hog").expect("hog is a method"),
            FeatureMethod::with_defaults("gabor").expect("gabor is a method"),
        ])
    }
}

impl FusionParams {
    /// The methods `parts`, with unit weights, no per-image norm, balanced.
    pub fn of(parts: Vec<FeatureMethod>) -> Self {
        let weights = vec![1.0; parts.len()];
        Self {
            parts,
            weights,
            block_norm: BlockNorm::None,
            balance: true,
        }
    }

    /// The parts with their defaults for a comma-separated list of method names.
    pub fn parts_named(names: &str) -> Result<Vec<FeatureMethod>> {
        names
            .split(',')
            .map(|name| match name.trim() {
                "fusion" => Err(Error::InvalidParameter {
                    name: "combine",
                    message: "a fusion cannot combine another fusion".to_owned(),
                }),
                name => FeatureMethod::with_defaults(name).map_err(|_| Error::InvalidParameter {
                    name: "combine",
                    message: format!(
                        "`{name}` is not a feature method (expected some of raw, hog, gabor, spectral)"
                    ),
                }),
            })
            .collect()
    }

    /// The parts' names, comma-separated (the `combine` setting).
    pub fn combine(&self) -> String {
        self.parts
            .iter()
            .map(FeatureMethod::name)
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn validate(&self) -> Result<()> {
        let invalid =
            |name: &'static str, message: String| Err(Error::InvalidParameter { name, message });
        if self.parts.len() < 2 {
            return invalid(
                "combine",
                format!("fusion needs two or more methods, got {}", self.parts.len()),
            );
        }
        for (i, part) in self.parts.iter().enumerate() {
            if matches!(part, FeatureMethod::Fusion(_)) {
                return invalid(
                    "combine",
                    "a fusion cannot combine another fusion".to_owned(),
                );
            }
            if self.parts[..i].iter().any(|p| p.name() == part.name()) {
                return invalid("combine", format!("`{}` is listed twice", part.name()));
            }
            part.validate().map_err(|e| match e {
                Error::InvalidParameter { name, .. } => Error::FusionPart {
                    key: format!("{}.{name}", part.name()),
                    source: Box::new(e),
                },
                other => other,
            })?;
        }
        if self.weights.len() != self.parts.len() {
            return invalid(
                "weights",
                format!(
                    "{} weights for {} methods ({}): give one per method",
                    self.weights.len(),
                    self.parts.len(),
                    self.combine()
                ),
            );
        }
        if let Some(w) = self.weights.iter().find(|w| !(w.is_finite() && **w > 0.0)) {
            return invalid("weights", format!("{w} is not a positive finite weight"));
        }
        Ok(())
    }

    /// Each block's length for a `rows × cols` image.
    pub fn block_lens(&self, rows: usize, cols: usize) -> Result<Vec<usize>> {
        self.validate()?;
        self.parts
            .iter()
            .map(|p| p.output_len(rows, cols))
            .collect()
    }

    pub fn output_len(&self, rows: usize, cols: usize) -> Result<usize> {
        Ok(self.block_lens(rows, cols)?.iter().sum())
    }

    /// The blocks of one image, concatenated.
    pub fn extract(&self, image: ArrayView2<'_, f64>) -> Result<Vec<f64>> {
        self.validate()?;
        let mut out = Vec::new();
        for part in &self.parts {
            let mut block = part.extract(image)?;
            if self.block_norm == BlockNorm::L2 {
                let norm = block.iter().map(|v| v * v).sum::<f64>().sqrt();
                if norm > 0.0 {
                    block.iter_mut().for_each(|v| *v /= norm);
                }
            }
            out.extend(block);
        }
        Ok(out)
    }

    /// The factor each standardised feature is multiplied by: block `b`'s weight,
    /// divided by `√d_b` when balanced.
    pub fn column_weights(&self, rows: usize, cols: usize) -> Result<Vec<f64>> {
        let lens = self.block_lens(rows, cols)?;
        Ok(lens
            .iter()
            .zip(&self.weights)
            .flat_map(|(&len, &w)| {
                let factor = if self.balance {
                    w / (len as f64).sqrt()
                } else {
                    w
                };
                std::iter::repeat_n(factor, len)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn image() -> Array2<f64> {
        Array2::from_shape_fn((32, 32), |(r, c)| ((r * 7 + c * 3) % 11) as f64 / 10.0)
    }

    #[test]
    fn blocks_are_the_parts_outputs_in_order() {
        let fusion = FusionParams::of(FusionParams::parts_named("raw,spectral").expect("parts"));
        let img = image();
        let out = fusion.extract(img.view()).expect("extract");
        let raw = fusion.parts[0].extract(img.view()).expect("raw");
        let spectral = fusion.parts[1].extract(img.view()).expect("spectral");
        assert_eq!(out.len(), raw.len() + spectral.len());
        assert_eq!(&out[..raw.len()], &raw[..]);
        assert_eq!(&out[raw.len()..], &spectral[..]);
        assert_eq!(fusion.output_len(32, 32).expect("len"), out.len());
    }

    #[test]
    fn l2_block_norm_makes_each_block_unit_length() {
        let mut fusion = FusionParams::of(FusionParams::parts_named("raw,hog").expect("parts"));
        fusion.block_norm = BlockNorm::L2;
        let out = fusion.extract(image().view()).expect("extract");
        let lens = fusion.block_lens(32, 32).expect("lens");
        let (a, b) = out.split_at(lens[0]);
        for block in [a, b] {
            let norm = block.iter().map(|v| v * v).sum::<f64>().sqrt();
            assert!((norm - 1.0).abs() < 1e-12, "{norm}");
        }
        let zero = Array2::<f64>::zeros((32, 32));
        let out = fusion.extract(zero.view()).expect("zero image");
        assert!(out.iter().all(|v| *v == 0.0));
    }

    #[test]
    fn balanced_weights_give_each_block_its_weight_squared_in_total() {
        let mut fusion = FusionParams::of(FusionParams::parts_named("raw,gabor").expect("parts"));
        fusion.weights = vec![2.0, 0.5];
        let lens = fusion.block_lens(32, 32).expect("lens");
        let w = fusion.column_weights(32, 32).expect("weights");
        assert_eq!(w.len(), lens.iter().sum::<usize>());
        // Unit-variance features times the factors: each block's total variance.
        let first: f64 = w[..lens[0]].iter().map(|v| v * v).sum();
        let second: f64 = w[lens[0]..].iter().map(|v| v * v).sum();
        assert!((first - 4.0).abs() < 1e-12 && (second - 0.25).abs() < 1e-12);
        fusion.balance = false;
        let w = fusion.column_weights(32, 32).expect("weights");
        assert!(w[..lens[0]].iter().all(|&v| v == 2.0));
    }

    #[test]
    fn bad_combinations_are_named() {
        for (combine, needle) in [
            ("hog", "two or more"),
            ("hog,hog", "twice"),
            ("hog,fusion", "another fusion"),
            ("hog,sift", "`sift`"),
        ] {
            let err = FusionParams::parts_named(combine)
                .map(FusionParams::of)
                .and_then(|f| f.validate())
                .unwrap_err();
            assert!(err.to_string().contains(needle), "{combine}: {err}");
        }
        let mut fusion = FusionParams {
            weights: vec![1.0],
            ..FusionParams::default()
        };
        assert!(
            fusion
                .validate()
                .unwrap_err()
                .to_string()
                .contains("one per method")
        );
        fusion.weights = vec![1.0, f64::NAN];
        assert!(
            fusion
                .validate()
                .unwrap_err()
                .to_string()
                .contains("positive")
        );
    }
}
