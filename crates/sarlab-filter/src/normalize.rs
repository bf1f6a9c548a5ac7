//! Per-chip intensity normalisation: the last preprocessing stage, which takes the
//! overall brightness out of a chip so that features compare shapes rather than the
//! gain of one collection against another's.
//!
//! `l1`, `l2` and `max` divide the chip by that norm of its pixels, as
//! `sklearn.preprocessing.normalize(x.reshape(1, -1), norm=…)` does (a chip whose norm
//! is zero is left as it is); `zscore` subtracts the chip's mean and divides by its
//! population standard deviation (`(x - x.mean()) / x.std()`; a constant chip becomes
//! zeros).

use std::fmt;
use std::str::FromStr;

use ndarray::Array2;

use crate::error::{Error, Result};

/// How a chip's values are rescaled after the other preprocessing stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChipNorm {
    /// Divide by the sum of absolute values.
    L1,
    /// Divide by the Euclidean norm of the pixels (unit-energy chips).
    L2,
    /// Divide by the largest absolute value.
    Max,
    /// Zero mean, unit (population) standard deviation.
    Zscore,
}

impl ChipNorm {
    pub const ALL: [ChipNorm; 4] = [ChipNorm::L1, ChipNorm::L2, ChipNorm::Max, ChipNorm::Zscore];

    pub fn name(self) -> &'static str {
        match self {
            ChipNorm::L1 => "l1",
            ChipNorm::L2 => "l2",
            ChipNorm::Max => "max",
            ChipNorm::Zscore => "zscore",
        }
    }

    /// Rescales `image` in place. Sums run in row-major order (numpy sums pairwise), so
    /// results agree with numpy to rounding, not bit for bit.
    pub fn apply(self, image: &mut Array2<f64>) {
        let n = image.len();
        if n == 0 {
            return;
        }
        match self {
            ChipNorm::L1 | ChipNorm::L2 | ChipNorm::Max => {
                let norm = match self {
                    ChipNorm::L1 => image.iter().map(|v| v.abs()).sum::<f64>(),
                    ChipNorm::L2 => image.iter().map(|v| v * v).sum::<f64>().sqrt(),
                    _ => image.iter().fold(0.0f64, |m, v| m.max(v.abs())),
                };
                // scikit-learn leaves rows of zero norm unchanged.
                if norm != 0.0 && norm.is_finite() {
                    image.mapv_inplace(|v| v / norm);
                }
            }
            ChipNorm::Zscore => {
                let mean = image.iter().sum::<f64>() / n as f64;
                let var = image.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
                let std = var.sqrt();
                let scale = if std > 0.0 && std.is_finite() {
                    std
                } else {
                    1.0
                };
                image.mapv_inplace(|v| (v - mean) / scale);
            }
        }
    }
}

impl fmt::Display for ChipNorm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ChipNorm {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        ChipNorm::ALL
            .into_iter()
            .find(|n| n.name() == s)
            .ok_or_else(|| Error::UnknownNorm(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(values: &[f64]) -> Array2<f64> {
        Array2::from_shape_vec((1, values.len()), values.to_vec()).expect("shape")
    }

    #[test]
    fn norms_divide_by_their_norm() {
        let mut a = image(&[3.0, -4.0]);
        ChipNorm::L2.apply(&mut a);
        assert_eq!(a, image(&[0.6, -0.8]));
        let mut a = image(&[3.0, -4.0, 1.0]);
        ChipNorm::L1.apply(&mut a);
        assert_eq!(a, image(&[3.0 / 8.0, -0.5, 1.0 / 8.0]));
        let mut a = image(&[3.0, -4.0]);
        ChipNorm::Max.apply(&mut a);
        assert_eq!(a, image(&[0.75, -1.0]));
    }

    #[test]
    fn zscore_has_zero_mean_and_unit_std() {
        let mut a = image(&[1.0, 2.0, 3.0, 4.0]);
        ChipNorm::Zscore.apply(&mut a);
        let mean = a.sum() / 4.0;
        let var = a.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 4.0;
        assert!(mean.abs() < 1e-15 && (var - 1.0).abs() < 1e-15, "{a}");
    }

    #[test]
    fn zero_and_constant_chips_stay_finite() {
        for norm in ChipNorm::ALL {
            let mut zero = Array2::<f64>::zeros((3, 3));
            norm.apply(&mut zero);
            assert!(zero.iter().all(|&v| v == 0.0), "{norm}");
            let mut constant = Array2::from_elem((3, 3), 0.5);
            norm.apply(&mut constant);
            assert!(constant.iter().all(|v| v.is_finite()), "{norm}");
        }
    }

    #[test]
    fn names_round_trip_and_unknown_is_named() {
        for norm in ChipNorm::ALL {
            assert_eq!(norm.name().parse::<ChipNorm>(), Ok(norm));
        }
        let err = "L2".parse::<ChipNorm>().unwrap_err().to_string();
        assert!(err.contains("`L2`") && err.contains("zscore"), "{err}");
    }
}
