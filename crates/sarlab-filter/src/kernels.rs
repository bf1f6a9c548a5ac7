//! Small spatial kernels and their frequency responses: what a 3×3 Laplacian does to
//! each spatial frequency (a high-pass filter: zero at DC, largest at Nyquist), the
//! Sobel derivatives (band-pass along one axis) and the box mean (low-pass).
//!
//! The response of a kernel on an `rows × cols` grid is the 2-D DFT of the kernel
//! zero-padded to that size with its centre at index `(0, 0)` (wrapped), so that
//! filtering by circular convolution equals multiplying the image's DFT by it; as
//! Gonzalez & Woods (§4.7) state for the Laplacian, `H(u, v) = −4 + 2 cos(2πu/M) +
//! 2 cos(2πv/N)`. [`SpatialKernel::response`] returns it centred (`fftshift`ed), as
//! the spectra of `sarlab spectrum` are shown.

use std::fmt;
use std::str::FromStr;

use ndarray::Array2;
use num_complex::Complex64;

use crate::error::{Error, Result};
use crate::fft;

/// A named 3×3 spatial kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpatialKernel {
    /// `[[0, 1, 0], [1, −4, 1], [0, 1, 0]]`.
    Laplacian,
    /// `[[1, 1, 1], [1, −8, 1], [1, 1, 1]]` (diagonal neighbours too).
    Laplacian8,
    /// Derivative across columns: `[[−1, 0, 1], [−2, 0, 2], [−1, 0, 1]]`.
    SobelX,
    /// Derivative across rows: the transpose of `sobel_x`.
    SobelY,
    /// The 3×3 mean.
    Box3,
}

impl SpatialKernel {
    pub const ALL: [SpatialKernel; 5] = [
        SpatialKernel::Laplacian,
        SpatialKernel::Laplacian8,
        SpatialKernel::SobelX,
        SpatialKernel::SobelY,
        SpatialKernel::Box3,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SpatialKernel::Laplacian => "laplacian",
            SpatialKernel::Laplacian8 => "laplacian8",
            SpatialKernel::SobelX => "sobel_x",
            SpatialKernel::SobelY => "sobel_y",
            SpatialKernel::Box3 => "box3",
        }
    }

    /// The kernel's weights, row-major.
    pub fn weights(self) -> Array2<f64> {
        let w: [f64; 9] = match self {
            SpatialKernel::Laplacian => [0.0, 1.0, 0.0, 1.0, -4.0, 1.0, 0.0, 1.0, 0.0],
            SpatialKernel::Laplacian8 => [1.0, 1.0, 1.0, 1.0, -8.0, 1.0, 1.0, 1.0, 1.0],
            SpatialKernel::SobelX => [-1.0, 0.0, 1.0, -2.0, 0.0, 2.0, -1.0, 0.0, 1.0],
            SpatialKernel::SobelY => [-1.0, -2.0, -1.0, 0.0, 0.0, 0.0, 1.0, 2.0, 1.0],
            SpatialKernel::Box3 => [1.0 / 9.0; 9],
        };
        Array2::from_shape_vec((3, 3), w.to_vec()).expect("3x3")
    }

    /// The kernel zero-padded to `rows × cols` with its centre at `(0, 0)`, wrapped.
    pub fn padded(self, rows: usize, cols: usize) -> Result<Array2<f64>> {
        if rows < 3 || cols < 3 {
            return Err(Error::InvalidFilter(format!(
                "a {rows}x{cols} grid: the frequency response of a 3x3 kernel needs at least 3x3"
            )));
        }
        let w = self.weights();
        let mut out = Array2::<f64>::zeros((rows, cols));
        for ((i, j), &v) in w.indexed_iter() {
            let r = (i + rows - 1) % rows;
            let c = (j + cols - 1) % cols;
            out[[r, c]] = v;
        }
        Ok(out)
    }

    /// The centred frequency response on a `rows × cols` grid.
    pub fn response(self, rows: usize, cols: usize) -> Result<Array2<Complex64>> {
        let padded = self.padded(rows, cols)?;
        Ok(fft::fftshift(fft::fft2_real(padded.view()).view()))
    }
}

impl fmt::Display for SpatialKernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SpatialKernel {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        SpatialKernel::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                Error::InvalidFilter(format!(
                    "unknown kernel `{s}` (expected laplacian, laplacian8, sobel_x, sobel_y or box3)"
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    #[test]
    fn the_laplacian_response_is_gonzalez_and_woods_formula() {
        let (m, n) = (16, 12);
        let h = SpatialKernel::Laplacian.response(m, n).expect("response");
        for ((i, j), z) in h.indexed_iter() {
            // Centred: row i holds frequency u = i - m/2.
            let (u, v) = (i as f64 - (m / 2) as f64, j as f64 - (n / 2) as f64);
            let expected = -4.0
                + 2.0 * (2.0 * PI * u / m as f64).cos()
                + 2.0 * (2.0 * PI * v / n as f64).cos();
            assert!(
                (z.re - expected).abs() < 1e-12 && z.im.abs() < 1e-12,
                "{i} {j}"
            );
        }
        // High-pass: nothing at DC, the most at the corner (Nyquist in both axes).
        assert!(h[[m / 2, n / 2]].norm() < 1e-12);
        assert!((h[[0, 0]].norm() - 8.0).abs() < 1e-12);
    }

    #[test]
    fn the_box_mean_is_low_pass_and_sobel_is_odd() {
        let h = SpatialKernel::Box3.response(9, 9).expect("response");
        assert!((h[[4, 4]].re - 1.0).abs() < 1e-12);
        assert!(h.iter().all(|z| z.norm() <= 1.0 + 1e-12));
        // An antisymmetric kernel has a purely imaginary response.
        let s = SpatialKernel::SobelX.response(8, 8).expect("response");
        assert!(s.iter().all(|z| z.re.abs() < 1e-12));
    }

    #[test]
    fn names_round_trip_and_small_grids_are_refused() {
        for k in SpatialKernel::ALL {
            assert_eq!(k.name().parse::<SpatialKernel>(), Ok(k));
        }
        assert!("log".parse::<SpatialKernel>().is_err());
        assert!(SpatialKernel::Laplacian.response(2, 8).is_err());
    }
}
