//! Padding chips smaller than the crop, so that datasets whose chips vary in size
//! (ship patches of a dozen to a few hundred pixels) can share one crop: a side shorter
//! than the crop is padded to it, centred (the extra pixel after, as the crop leaves
//! it), as `np.pad(x, ((before, after), …), mode)` does.

use std::fmt;
use std::str::FromStr;

use ndarray::{Array2, ArrayView2};

use crate::boundary::mirror;
use crate::error::{Error, Result};

/// How the pixels added around a short chip are filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PadMode {
    /// numpy's `reflect`: mirrored about the edge pixels (`d c b | a b c d | c b a`).
    Reflect,
    /// Zeros (no return: the radar's noise floor is above it, so a classifier can see
    /// where the chip ended).
    Zero,
}

impl PadMode {
    pub const ALL: [PadMode; 2] = [PadMode::Reflect, PadMode::Zero];

    pub fn name(self) -> &'static str {
        match self {
            PadMode::Reflect => "reflect",
            PadMode::Zero => "zero",
        }
    }
}

impl fmt::Display for PadMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for PadMode {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        PadMode::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                Error::InvalidFilter(format!("unknown pad mode `{s}` (expected reflect or zero)"))
            })
    }
}

/// `image` with each side shorter than `rows`/`cols` padded to it, centred; longer
/// sides are kept.
pub fn pad_to(image: ArrayView2<'_, f64>, rows: usize, cols: usize, mode: PadMode) -> Array2<f64> {
    let (n_r, n_c) = image.dim();
    let (out_r, out_c) = (n_r.max(rows), n_c.max(cols));
    if (out_r, out_c) == (n_r, n_c) || n_r == 0 || n_c == 0 {
        return image.to_owned();
    }
    let (before_r, before_c) = ((out_r - n_r) / 2, (out_c - n_c) / 2);
    Array2::from_shape_fn((out_r, out_c), |(r, c)| {
        let (sr, sc) = (
            r as isize - before_r as isize,
            c as isize - before_c as isize,
        );
        let inside = (0..n_r as isize).contains(&sr) && (0..n_c as isize).contains(&sc);
        match (mode, inside) {
            (_, true) => image[[sr as usize, sc as usize]],
            (PadMode::Zero, false) => 0.0,
            (PadMode::Reflect, false) => image[[mirror(sr, n_r), mirror(sc, n_c)]],
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array;

    #[test]
    fn reflect_and_zero_pad_like_numpy() {
        let x = Array2::from_shape_vec((1, 3), vec![1.0, 2.0, 3.0]).expect("shape");
        // np.pad([[1, 2, 3]], ((1, 1), (2, 2)), "reflect") (5 rows: 2 before, 2 after).
        let r = pad_to(x.view(), 5, 7, PadMode::Reflect);
        let row = vec![3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0];
        for i in 0..5 {
            assert_eq!(r.row(i).to_vec(), row);
        }
        let z = pad_to(x.view(), 2, 4, PadMode::Zero);
        assert_eq!(
            z,
            Array2::from_shape_vec((2, 4), vec![1.0, 2.0, 3.0, 0.0, 0.0, 0.0, 0.0, 0.0])
                .expect("shape")
        );
    }

    #[test]
    fn long_sides_are_kept_and_wide_pads_keep_mirroring() {
        let x = Array::from_shape_fn((6, 2), |(i, j)| (i * 2 + j) as f64);
        let p = pad_to(x.view(), 4, 9, PadMode::Reflect);
        assert_eq!(p.dim(), (6, 9));
        // Columns: before 3 → positions -3..6 of a 2-wide axis mirror as 1 0 1 0 1 0 1 0 1.
        let first: Vec<f64> = p.row(0).to_vec();
        assert_eq!(first, vec![1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0]);
    }

    #[test]
    fn names_round_trip() {
        for m in PadMode::ALL {
            assert_eq!(m.name().parse::<PadMode>(), Ok(m));
        }
        assert!("edge".parse::<PadMode>().is_err());
    }
}
