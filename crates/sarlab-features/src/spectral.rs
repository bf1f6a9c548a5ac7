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
        for (name, count) in [("rings", self.rings), ("wedges", self.wedges)] {
            if count >= usize::from(NO_WEDGE) {
                return Err(Error::InvalidParameter {
                    name,
                    message: format!("{count} is too many (at most {})", NO_WEDGE - 1),
                });
            }
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
        // The half spectrum of the real FFT; the other half is its conjugate mirror
        // (F[-r, -c] = conj F[r, c]), which has the same magnitude.
        let half = fft::rfft2(image);
        let last = cols / 2;
        let magnitude_at = |r: usize, c: usize| -> f64 {
            if c <= last {
                half[[r, c]].norm()
            } else {
                half[[(rows - r) % rows, cols - c]].norm()
            }
        };
        let energy_at = |r: usize, c: usize| -> f64 {
            if c <= last {
                half[[r, c]].norm_sqr()
            } else {
                half[[(rows - r) % rows, cols - c]].norm_sqr()
            }
        };
        // Centred position (r, c) holds frequency ((r - rows/2) mod rows, ...), as numpy's
        // fftshift lays it out.
        let (cr, cc) = (rows / 2, cols / 2);
        let unshift_row = |r: usize| (r + rows - cr) % rows;
        let unshift_col = |c: usize| (c + cols - cc) % cols;
        if self.block > 0 {
            let (r0, c0) = (cr - self.block / 2, cc - self.block / 2);
            for r in r0..r0 + self.block {
                for c in c0..c0 + self.block {
                    out.push(magnitude_at(unshift_row(r), unshift_col(c)).ln_1p());
                }
            }
        }
        if self.rings == 0 && self.wedges == 0 {
            return Ok(out);
        }
        let regions = regions(rows, cols, self.rings, self.wedges);
        let mut ring_energy = vec![0.0; self.rings];
        let mut wedge_energy = vec![0.0; self.wedges];
        let mut total = 0.0;
        for r in 0..rows {
            let fr = unshift_row(r);
            for c in 0..cols {
                let e = energy_at(fr, unshift_col(c));
                total += e;
                let k = r * cols + c;
                if self.rings > 0 {
                    ring_energy[usize::from(regions.ring[k])] += e;
                }
                if let Some(&w) = regions.wedge.get(k).filter(|&&w| w != NO_WEDGE) {
                    wedge_energy[usize::from(w)] += e;
                }
            }
        }
        let scale = if self.normalise && total > 0.0 {
            1.0 / total
        } else {
            1.0
        };
        out.extend(ring_energy.into_iter().map(|e| e * scale));
        out.extend(wedge_energy.into_iter().map(|e| e * scale));
        Ok(out)
    }
}

const NO_WEDGE: u16 = u16::MAX;

/// Ring and wedge index of every centred spectrum position, for one shape and count.
struct Regions {
    ring: Vec<u16>,
    /// [`NO_WEDGE`] at the zero frequency; empty without wedges.
    wedge: Vec<u16>,
}

type RegionKey = (usize, usize, usize, usize);

thread_local! {
    /// The maps depend only on the shape and the counts, and every chip of a study has
    /// the same: computing them once per thread saves a square root and an `atan2` per
    /// pixel of every chip.
    static REGIONS: std::cell::RefCell<std::collections::HashMap<RegionKey, std::rc::Rc<Regions>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

fn regions(rows: usize, cols: usize, rings: usize, wedges: usize) -> std::rc::Rc<Regions> {
    REGIONS.with(|cache| {
        cache
            .borrow_mut()
            .entry((rows, cols, rings, wedges))
            .or_insert_with(|| std::rc::Rc::new(build_regions(rows, cols, rings, wedges)))
            .clone()
    })
}

fn build_regions(rows: usize, cols: usize, rings: usize, wedges: usize) -> Regions {
    let (cr, cc) = (rows / 2, cols / 2);
    let radius = rows.min(cols) as f64 / 2.0;
    let mut ring = Vec::with_capacity(if rings > 0 { rows * cols } else { 0 });
    let mut wedge = Vec::with_capacity(if wedges > 0 { rows * cols } else { 0 });
    for r in 0..rows {
        for c in 0..cols {
            let (dy, dx) = (r as f64 - cr as f64, c as f64 - cc as f64);
            if rings > 0 {
                let d = (dy.powi(2) + dx.powi(2)).sqrt();
                // Frequencies beyond the Nyquist radius count in the last ring.
                ring.push(((d / radius * rings as f64) as usize).min(rings - 1) as u16);
            }
            if wedges > 0 {
                wedge.push(if dy == 0.0 && dx == 0.0 {
                    NO_WEDGE
                } else {
                    let angle = dy.atan2(dx).rem_euclid(PI);
                    ((angle / PI * wedges as f64) as usize).min(wedges - 1) as u16
                });
            }
        }
    }
    Regions { ring, wedge }
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
