//! Spectral features from the centred 2-D spectrum (`sarlab-filter`'s transforms):
//! the log-magnitude low-frequency block, and radial (ring) and angular (wedge) energy
//! profiles, optionally as fractions of the total energy.

use std::f64::consts::PI;

use ndarray::ArrayView2;
use sarlab_filter::fft;

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpectralParams {
    /// Side of the centred `log(1 + |F|)` block (`block × block` values); 0 for none.
    pub block: usize,
    /// Rings of equal width from the zero frequency to the Nyquist radius
    /// `min(rows, cols)/2` (frequencies beyond it count in the last ring); 0 for none.
    pub rings: usize,
    /// Wedges of equal angle over [0, π) (the spectrum of a real image is symmetric);
    /// the zero frequency belongs to none; 0 for none.
    pub wedges: usize,
    /// Ring and wedge energies as fractions of the total energy `Σ|F|²`.
    pub normalise: bool,
}

impl Default for SpectralParams {
    /// DESIGN §7's spectral feature: the centred 24×24 log-magnitude block.
    fn default() -> Self {
        Self {
            block: 24,
            rings: 0,
            wedges: 0,
            normalise: true,
        }
    }
}

impl SpectralParams {
    pub fn validate(&self) -> Result<()> {
        if self.block == 0 && self.rings == 0 && self.wedges == 0 {
            return Err(Error::InvalidParameter {
                name: "block",
                message: "block, rings and wedges are all 0: no features".to_owned(),
            });
        }
        Ok(())
    }

    pub fn output_len(&self, rows: usize, cols: usize) -> Result<usize> {
        self.validate()?;
        if self.block > rows || self.block > cols {
            return Err(Error::InvalidParameter {
                name: "block",
                message: format!(
                    "a {0}x{0} block does not fit a {rows}x{cols} spectrum",
                    self.block
                ),
            });
        }
        Ok(self.block * self.block + self.rings + self.wedges)
    }

    pub fn extract(&self, image: ArrayView2<'_, f64>) -> Result<Vec<f64>> {
        let (rows, cols) = image.dim();
        let mut out = Vec::with_capacity(self.output_len(rows, cols)?);
        let centred = fft::fftshift(fft::fft2_real(image).view());
        let (cr, cc) = (rows / 2, cols / 2);
        if self.block > 0 {
            let (r0, c0) = (cr - self.block / 2, cc - self.block / 2);
            for r in r0..r0 + self.block {
                for c in c0..c0 + self.block {
                    out.push(centred[[r, c]].norm().ln_1p());
                }
            }
        }
        let total: f64 = centred.iter().map(|z| z.norm_sqr()).sum();
        let scale = if self.normalise && total > 0.0 {
            1.0 / total
        } else {
            1.0
        };
        if self.rings > 0 {
            let radius = rows.min(cols) as f64 / 2.0;
            let mut energy = vec![0.0; self.rings];
            for ((r, c), z) in centred.indexed_iter() {
                let d = ((r as f64 - cr as f64).powi(2) + (c as f64 - cc as f64).powi(2)).sqrt();
                let ring = ((d / radius * self.rings as f64) as usize).min(self.rings - 1);
                energy[ring] += z.norm_sqr();
            }
            out.extend(energy.into_iter().map(|e| e * scale));
        }
        if self.wedges > 0 {
            let mut energy = vec![0.0; self.wedges];
            for ((r, c), z) in centred.indexed_iter() {
                let (dy, dx) = (r as f64 - cr as f64, c as f64 - cc as f64);
                if dy == 0.0 && dx == 0.0 {
                    continue;
                }
                let angle = dy.atan2(dx).rem_euclid(PI);
                let wedge = ((angle / PI * self.wedges as f64) as usize).min(self.wedges - 1);
                energy[wedge] += z.norm_sqr();
            }
            out.extend(energy.into_iter().map(|e| e * scale));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn block_rings_and_wedges() {
        // A pure horizontal cosine: energy at (0, ±8) from the centre only.
        let image =
            Array2::from_shape_fn((32, 32), |(_, c)| (2.0 * PI * 8.0 * c as f64 / 32.0).cos());
        let p = SpectralParams {
            block: 4,
            rings: 4,
            wedges: 4,
            normalise: true,
        };
        let f = p.extract(image.view()).expect("extract");
        assert_eq!(f.len(), 16 + 4 + 4);
        // The 4×4 centre block holds no energy: log(1 + 0) = 0 up to rounding.
        assert!(f[..16].iter().all(|v| v.abs() < 1e-9));
        // Distance 8 of a 16-px radius: the third ring (8/16·4 = 2) holds everything.
        assert!((f[16 + 2] - 1.0).abs() < 1e-12, "{:?}", &f[16..20]);
        // Angle 0 (and π ≡ 0): the first wedge.
        assert!((f[20] - 1.0).abs() < 1e-12, "{:?}", &f[20..24]);
        assert!(
            SpectralParams {
                block: 0,
                rings: 0,
                wedges: 0,
                normalise: true
            }
            .validate()
            .is_err()
        );
        let err = SpectralParams::default()
            .output_len(16, 16)
            .unwrap_err()
            .to_string();
        assert!(err.contains("block") && err.contains("16x16"), "{err}");
    }
}
