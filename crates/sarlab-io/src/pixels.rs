//! Decoded samples in the type the file stores them in, and their exact `f64` values.
//!
//! A chip is held as it was decoded (8-bit JPEG chips take one byte a pixel, not
//! eight) and widened only where it is used, after the crop. The widening is the one
//! a Python peer's standard load gives (`np.asarray(Image.open(p)) / 255.0`,
//! scikit-image's `img_as_float`): unsigned 8-bit `x / 255` and 16-bit `x / 65535`,
//! computed in `f64` (IEEE division is correctly rounded, as numpy's is), `f32`
//! widened exactly, `f64` as stored.

use std::ops::Range;

use ndarray::{Array2, s};

/// A 2-D image in its stored sample type.
#[derive(Debug, Clone, PartialEq)]
pub enum Pixels {
    /// Unsigned 8-bit samples; their value is `x / 255`.
    U8(Array2<u8>),
    /// Unsigned 16-bit samples; their value is `x / 65535`.
    U16(Array2<u16>),
    /// Single-precision values, as stored (MSTAR magnitudes, float TIFF, `.npy`).
    F32(Array2<f32>),
    /// Double-precision values, as stored (and any other integer type, whose values
    /// are kept as they are: every such sample below 2⁵³ is exact in `f64`).
    F64(Array2<f64>),
}

impl Pixels {
    /// `(rows, cols)`.
    pub fn dim(&self) -> (usize, usize) {
        match self {
            Pixels::U8(a) => a.dim(),
            Pixels::U16(a) => a.dim(),
            Pixels::F32(a) => a.dim(),
            Pixels::F64(a) => a.dim(),
        }
    }

    /// The stored sample type, as numpy names it.
    pub fn sample_type(&self) -> &'static str {
        match self {
            Pixels::U8(_) => "uint8",
            Pixels::U16(_) => "uint16",
            Pixels::F32(_) => "float32",
            Pixels::F64(_) => "float64",
        }
    }

    /// Bytes the samples take in memory.
    pub fn memory_bytes(&self) -> usize {
        let (rows, cols) = self.dim();
        rows * cols
            * match self {
                Pixels::U8(_) => 1,
                Pixels::U16(_) => 2,
                Pixels::F32(_) => 4,
                Pixels::F64(_) => 8,
            }
    }

    /// The value of one sample (see the module docs for the scale).
    pub fn value(&self, row: usize, col: usize) -> f64 {
        match self {
            Pixels::U8(a) => unit_u8(a[[row, col]]),
            Pixels::U16(a) => unit_u16(a[[row, col]]),
            Pixels::F32(a) => f64::from(a[[row, col]]),
            Pixels::F64(a) => a[[row, col]],
        }
    }

    /// Every value in `f64`.
    pub fn to_f64(&self) -> Array2<f64> {
        let (rows, cols) = self.dim();
        self.window_f64(0..rows, 0..cols)
    }

    /// The values of a window in `f64`: only the window is widened.
    ///
    /// # Panics
    /// When the window is not inside the image (callers check it first).
    pub fn window_f64(&self, rows: Range<usize>, cols: Range<usize>) -> Array2<f64> {
        let window = s![rows, cols];
        match self {
            Pixels::U8(a) => a.slice(window).mapv(unit_u8),
            Pixels::U16(a) => a.slice(window).mapv(unit_u16),
            Pixels::F32(a) => a.slice(window).mapv(f64::from),
            Pixels::F64(a) => a.slice(window).to_owned(),
        }
    }

    /// A window in the stored type (a copy: the rest can be dropped).
    ///
    /// # Panics
    /// When the window is not inside the image.
    pub fn window(&self, rows: Range<usize>, cols: Range<usize>) -> Pixels {
        let window = s![rows, cols];
        match self {
            Pixels::U8(a) => Pixels::U8(a.slice(window).to_owned()),
            Pixels::U16(a) => Pixels::U16(a.slice(window).to_owned()),
            Pixels::F32(a) => Pixels::F32(a.slice(window).to_owned()),
            Pixels::F64(a) => Pixels::F64(a.slice(window).to_owned()),
        }
    }

    /// The first sample (row-major) that is NaN or infinite.
    pub fn first_non_finite(&self) -> Option<(usize, usize)> {
        match self {
            Pixels::U8(_) | Pixels::U16(_) => None,
            Pixels::F32(a) => a
                .indexed_iter()
                .find(|(_, v)| !v.is_finite())
                .map(|(at, _)| at),
            Pixels::F64(a) => a
                .indexed_iter()
                .find(|(_, v)| !v.is_finite())
                .map(|(at, _)| at),
        }
    }
}

/// `x / 255` in `f64`: numpy's `uint8 / 255.0`.
pub fn unit_u8(x: u8) -> f64 {
    f64::from(x) / 255.0
}

/// `x / 65535` in `f64`: scikit-image's `img_as_float` of `uint16`.
pub fn unit_u16(x: u16) -> f64 {
    f64::from(x) / 65535.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn widening_is_numpys_division_in_f64() {
        let p = Pixels::U8(array![[0, 1, 51, 255]]);
        let v = p.to_f64();
        assert_eq!(v, array![[0.0, 1.0 / 255.0, 0.2, 1.0]]);
        // Not the f32 quotient widened: 1/255 differs in f32.
        assert_ne!(v[[0, 1]], f64::from(1.0f32 / 255.0));
        let p = Pixels::U16(array![[65535, 1]]);
        assert_eq!(p.to_f64(), array![[1.0, 1.0 / 65535.0]]);
        let p = Pixels::F32(array![[0.1f32]]);
        assert_eq!(p.to_f64()[[0, 0]], f64::from(0.1f32));
    }

    #[test]
    fn windows_keep_the_type_and_widen_only_the_window() {
        let p = Pixels::U8(Array2::from_shape_fn((5, 6), |(r, c)| (r * 6 + c) as u8));
        let w = p.window(1..3, 2..5);
        assert_eq!(w, Pixels::U8(array![[8, 9, 10], [14, 15, 16]]));
        assert_eq!(w.memory_bytes(), 6);
        assert_eq!(p.window_f64(1..3, 2..5), w.to_f64());
        assert_eq!(p.value(4, 5), 29.0 / 255.0);
    }

    #[test]
    fn non_finite_samples_are_found() {
        assert_eq!(
            Pixels::F32(array![[1.0, f32::NAN]]).first_non_finite(),
            Some((0, 1))
        );
        assert_eq!(Pixels::F64(array![[1.0]]).first_non_finite(), None);
        assert_eq!(Pixels::U8(array![[1]]).first_non_finite(), None);
    }
}
