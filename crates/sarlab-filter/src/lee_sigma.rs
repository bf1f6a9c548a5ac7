//! The improved Lee sigma filter (Lee, Wen, Ainsworth, Chen & Chen, "Improved sigma
//! filter for speckle filtering of SAR imagery", IEEE TGRS 47(1), 2009), with the
//! steps ESA SNAP's Speckle-Filter takes:
//!
//! 1. point targets are kept: a pixel above the image's 98th percentile `Z98` whose
//!    `target_window²` neighbourhood holds more than 5 such pixels marks them all, and
//!    marked pixels pass unfiltered (pixels are visited in raster order);
//! 2. an a-priori mean `x̂` is the MMSE (Lee) estimate over the `target_window²`
//!    neighbourhood with the speckle's `σv² ` (`1/L` on intensity, `0.5227²/L` on
//!    amplitude);
//! 3. the pixels of the `window²` neighbourhood inside the sigma range
//!    `[I1·x̂, I2·x̂]` are selected, and the output is their MMSE estimate with the
//!    revised `σv'²` — the coefficient of variation of speckle truncated to that range.
//!    No pixel in range: the pixel is kept.
//!
//! The ranges `I1, I2` and `σv'` are the paper's table (as SNAP prints it) for 1 to 4
//! looks and sigma 0.5 to 0.9. One entry is mended: SNAP's amplitude `σv'` for 4 looks
//! at sigma 0.9 reads 0.839, out of line with its row; the coefficient of variation of
//! 4-look amplitude speckle truncated to `[0.613, 1.452]` is 0.2018 (computed with
//! scipy, `scripts/fixtures/filters.py`), which is used. Differences from SNAP:
//! borders are scipy's `reflect` (SNAP shrinks the window to the valid pixels),
//! variances are population variances, and `Z98` is the whole image's (SNAP's is its
//! tile's).

use ndarray::{Array2, ArrayView2};

use crate::boundary::reflect;
use crate::error::{Error, Result};
use crate::spatial::SpeckleDomain;

/// `(I1, I2, σv')` on intensity and `(A1, A2, σv')` on amplitude, by looks (1–4) and
/// sigma (0.5–0.9).
const INTENSITY: [[(f64, f64, f64); 5]; 4] = [
    [
        (0.436, 1.920, 0.4057),
        (0.343, 2.210, 0.4954),
        (0.254, 2.582, 0.5911),
        (0.168, 3.094, 0.6966),
        (0.084, 3.941, 0.8191),
    ],
    [
        (0.582, 1.584, 0.2763),
        (0.501, 1.755, 0.3388),
        (0.418, 1.972, 0.4062),
        (0.327, 2.260, 0.4810),
        (0.221, 2.744, 0.5699),
    ],
    [
        (0.652, 1.458, 0.2222),
        (0.580, 1.586, 0.2736),
        (0.505, 1.751, 0.3280),
        (0.419, 1.965, 0.3892),
        (0.313, 2.320, 0.4624),
    ],
    [
        (0.694, 1.385, 0.1921),
        (0.630, 1.495, 0.2348),
        (0.560, 1.627, 0.2825),
        (0.480, 1.804, 0.3354),
        (0.378, 2.094, 0.3991),
    ],
];
const AMPLITUDE: [[(f64, f64, f64); 5]; 4] = [
    [
        (0.653997, 1.40002, 0.208349),
        (0.578998, 1.50601, 0.255358),
        (0.496999, 1.63201, 0.305303),
        (0.403999, 1.79501, 0.361078),
        (0.286, 2.04301, 0.426375),
    ],
    [
        (0.76, 1.263, 0.139021),
        (0.705, 1.332, 0.169777),
        (0.643, 1.412, 0.206675),
        (0.568, 1.515, 0.244576),
        (0.467, 1.673, 0.29107),
    ],
    [
        (0.806, 1.21, 0.109732),
        (0.76, 1.263, 0.138001),
        (0.708, 1.327, 0.163686),
        (0.645, 1.408, 0.19597),
        (0.557, 1.531, 0.234219),
    ],
    [
        (0.832, 1.179, 0.0894192),
        (0.793, 1.226, 0.112018),
        (0.747, 1.279, 0.139243),
        (0.691, 1.347, 0.167771),
        (0.613, 1.452, 0.2018),
    ],
];

/// The filter's parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeeSigma {
    /// Looks, 1 to 4 (the paper's table).
    pub looks: u8,
    /// Sigma in tenths, 5 to 9 (0.5 to 0.9).
    pub sigma_tenths: u8,
    /// The filter window's side: 5, 7, 9 or 11.
    pub window: usize,
    /// The point-target and a-priori-mean window's side: 3 or 5.
    pub target_window: usize,
    pub domain: SpeckleDomain,
}

impl LeeSigma {
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::InvalidFilter(format!("lee_sigma: {m}")));
        if !(1..=4).contains(&self.looks) {
            return bad(format!(
                "`looks` = {}: the sigma ranges are tabulated for 1 to 4 looks",
                self.looks
            ));
        }
        if !(5..=9).contains(&self.sigma_tenths) {
            return bad(format!(
                "`sigma` = {}: expected 0.5, 0.6, 0.7, 0.8 or 0.9",
                f64::from(self.sigma_tenths) / 10.0
            ));
        }
        if ![5, 7, 9, 11].contains(&self.window) {
            return bad(format!(
                "`window` = {}: expected 5, 7, 9 or 11",
                self.window
            ));
        }
        if ![3, 5].contains(&self.target_window) {
            return bad(format!(
                "`target_window` = {}: expected 3 or 5",
                self.target_window
            ));
        }
        Ok(())
    }

    /// `(low, high, σv'²)` of the sigma range and `σv²` of the speckle.
    fn constants(&self) -> (f64, f64, f64, f64) {
        let (table, sigma_v2) = match self.domain {
            SpeckleDomain::Intensity => (&INTENSITY, 1.0 / f64::from(self.looks)),
            SpeckleDomain::Amplitude => (&AMPLITUDE, 0.5227 * 0.5227 / f64::from(self.looks)),
        };
        let (low, high, revised) =
            table[usize::from(self.looks) - 1][usize::from(self.sigma_tenths) - 5];
        (low, high, revised * revised, sigma_v2)
    }

    pub fn apply(&self, image: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        self.validate()?;
        let (rows, cols) = image.dim();
        if rows < self.window || cols < self.window {
            return Err(Error::InvalidFilter(format!(
                "lee_sigma: a {0}x{0} window does not fit a {rows}x{cols} image",
                self.window
            )));
        }
        let (low, high, revised_v2, sigma_v2) = self.constants();
        let mut sorted: Vec<f64> = image.iter().copied().collect();
        if sorted.iter().any(|v| !v.is_finite()) {
            return Err(Error::InvalidFilter(
                "lee_sigma: the image holds a non-finite value".to_owned(),
            ));
        }
        sorted.sort_by(f64::total_cmp);
        let z98 = sorted[((sorted.len() as f64 * 0.98) as usize).saturating_sub(1)];
        let at = |r: usize, c: usize, dr: isize, dc: isize| {
            image[[
                reflect(r as isize + dr, rows),
                reflect(c as isize + dc, cols),
            ]]
        };
        let mut point = Array2::from_elem((rows, cols), false);
        let mut out = Array2::<f64>::zeros((rows, cols));
        let half_t = (self.target_window / 2) as isize;
        let half_w = (self.window / 2) as isize;
        let mut selected = Vec::with_capacity(self.window * self.window);
        for r in 0..rows {
            for c in 0..cols {
                let x = image[[r, c]];
                if point[[r, c]] {
                    out[[r, c]] = x;
                    continue;
                }
                let mut near = Vec::with_capacity(self.target_window * self.target_window);
                for dr in -half_t..=half_t {
                    for dc in -half_t..=half_t {
                        near.push(((dr, dc), at(r, c, dr, dc)));
                    }
                }
                if x > z98 && near.iter().filter(|(_, v)| *v > z98).count() > 5 {
                    for ((dr, dc), v) in &near {
                        let (rr, cc) = (r as isize + dr, c as isize + dc);
                        if *v > z98
                            && rr >= 0
                            && cc >= 0
                            && (rr as usize) < rows
                            && (cc as usize) < cols
                        {
                            point[[rr as usize, cc as usize]] = true;
                        }
                    }
                    out[[r, c]] = x;
                    continue;
                }
                let values: Vec<f64> = near.iter().map(|(_, v)| *v).collect();
                let prior = mmse(x, &values, sigma_v2);
                let (lo, hi) = (prior * low, prior * high);
                selected.clear();
                for dr in -half_w..=half_w {
                    for dc in -half_w..=half_w {
                        let v = at(r, c, dr, dc);
                        if v >= lo && v <= hi {
                            selected.push(v);
                        }
                    }
                }
                out[[r, c]] = if selected.is_empty() {
                    x
                } else {
                    mmse(x, &selected, revised_v2)
                };
            }
        }
        Ok(out)
    }
}

/// Lee's MMSE estimate of `x` from `values`: `(1 − b)·m + b·x` with
/// `b = max(0, (v − m²σ²)/(1 + σ²)) / v` (population variance `v`; 0 when flat).
fn mmse(x: f64, values: &[f64], sigma2: f64) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    let b = if var == 0.0 {
        0.0
    } else {
        ((var - mean * mean * sigma2) / (1.0 + sigma2)).max(0.0) / var
    };
    (1.0 - b) * mean + b * x
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(domain: SpeckleDomain) -> LeeSigma {
        LeeSigma {
            looks: 1,
            sigma_tenths: 9,
            window: 7,
            target_window: 3,
            domain,
        }
    }

    #[test]
    fn a_bright_cluster_is_kept_and_flat_clutter_is_its_mean() {
        let mut image = Array2::from_elem((20, 20), 1.0);
        for r in 9..12 {
            for c in 9..12 {
                image[[r, c]] = 50.0;
            }
        }
        let out = filter(SpeckleDomain::Intensity)
            .apply(image.view())
            .expect("filter");
        assert_eq!(out[[10, 10]], 50.0);
        assert_eq!(out[[9, 9]], 50.0);
        assert_eq!(out[[2, 2]], 1.0);
    }

    #[test]
    fn parameters_outside_the_table_are_refused() {
        for (f, needle) in [
            (
                LeeSigma {
                    looks: 5,
                    ..filter(SpeckleDomain::Amplitude)
                },
                "`looks`",
            ),
            (
                LeeSigma {
                    sigma_tenths: 4,
                    ..filter(SpeckleDomain::Amplitude)
                },
                "`sigma`",
            ),
            (
                LeeSigma {
                    window: 6,
                    ..filter(SpeckleDomain::Amplitude)
                },
                "`window`",
            ),
            (
                LeeSigma {
                    target_window: 7,
                    ..filter(SpeckleDomain::Amplitude)
                },
                "`target_window`",
            ),
        ] {
            let err = f
                .apply(Array2::from_elem((20, 20), 1.0).view())
                .unwrap_err();
            assert!(err.to_string().contains(needle), "{err}");
        }
        let small = filter(SpeckleDomain::Intensity).apply(Array2::from_elem((5, 9), 1.0).view());
        assert!(small.unwrap_err().to_string().contains("5x9"));
    }
}
