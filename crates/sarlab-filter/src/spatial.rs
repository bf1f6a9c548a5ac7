//! Spatial filters for speckle: mean, median, Gaussian (equal to `scipy.ndimage`'s
//! `uniform_filter`, `median_filter` and `gaussian_filter` with `mode="reflect"`), the
//! Lee, Kuan, Gamma-MAP and Frost adaptive filters (amplitude or intensity input, see
//! [`SpeckleDomain`]), ENL estimates, and histogram equalisation (equal to
//! `skimage.exposure.equalize_hist`).
//!
//! Borders use scipy's `reflect` mode: the image is mirrored about its edge, repeating
//! the edge sample (`d c b a | a b c d | d c b a`).

use std::fmt;
use std::str::FromStr;

use ndarray::{Array2, ArrayView2, Axis};

use crate::boundary::reflect;
use crate::error::{Error, Result};

/// Correlates every row (`axis = 1`) or column (`axis = 0`) with `weights`, whose
/// element `origin` sits on the output sample, as `scipy.ndimage.correlate1d`.
fn correlate1d(
    image: ArrayView2<'_, f64>,
    weights: &[f64],
    origin: usize,
    axis: usize,
) -> Array2<f64> {
    let (rows, cols) = image.dim();
    let mut out = Array2::<f64>::zeros((rows, cols));
    let n = if axis == 1 { cols } else { rows };
    let mut line = vec![0.0; n + weights.len()];
    for (mut dst, src) in out
        .axis_iter_mut(Axis(1 - axis))
        .zip(image.axis_iter(Axis(1 - axis)))
    {
        // Extend the line once with reflected samples, then slide the window.
        for (j, v) in line.iter_mut().enumerate() {
            *v = src[reflect(j as isize - origin as isize, n)];
        }
        for (i, o) in dst.iter_mut().enumerate() {
            *o = weights.iter().zip(&line[i..]).map(|(w, v)| w * v).sum();
        }
    }
    out
}

/// Mean over a `size × size` window (`scipy.ndimage.uniform_filter(size=size,
/// mode="reflect")`; for even sizes the window reaches one sample further back, as in
/// scipy).
pub fn mean_filter(image: ArrayView2<'_, f64>, size: usize) -> Result<Array2<f64>> {
    check_window(image, size)?;
    let weights = vec![1.0 / size as f64; size];
    let rows = correlate1d(image, &weights, size / 2, 0);
    Ok(correlate1d(rows.view(), &weights, size / 2, 1))
}

/// Gaussian blur (`scipy.ndimage.gaussian_filter(sigma=sigma, truncate=4.0,
/// mode="reflect")`): a separable kernel of radius `round(4σ)`.
pub fn gaussian_filter(image: ArrayView2<'_, f64>, sigma: f64) -> Result<Array2<f64>> {
    if !(sigma.is_finite() && sigma > 0.0 && sigma <= MAX_SIGMA) {
        return Err(Error::InvalidFilter(format!(
            "Gaussian sigma {sigma}: must be a positive number of at most {MAX_SIGMA} pixels"
        )));
    }
    check_window(image, 1)?;
    let radius = gaussian_radius(sigma);
    let mut weights: Vec<f64> = (0..=2 * radius)
        .map(|i| {
            let x = i as f64 - radius as f64;
            (-0.5 * x * x / (sigma * sigma)).exp()
        })
        .collect();
    let total: f64 = weights.iter().sum();
    weights.iter_mut().for_each(|w| *w /= total);
    let rows = correlate1d(image, &weights, radius, 0);
    Ok(correlate1d(rows.view(), &weights, radius, 1))
}

/// Median over a `size × size` window (`scipy.ndimage.median_filter(size=size,
/// mode="reflect")`: for an even number of samples, the upper median).
pub fn median_filter(image: ArrayView2<'_, f64>, size: usize) -> Result<Array2<f64>> {
    check_window(image, size)?;
    let (rows, cols) = image.dim();
    let half = (size / 2) as isize;
    let mut window = Vec::with_capacity(size * size);
    Ok(Array2::from_shape_fn((rows, cols), |(r, c)| {
        window.clear();
        for dr in 0..size as isize {
            let rr = reflect(r as isize + dr - half, rows);
            for dc in 0..size as isize {
                window.push(image[[rr, reflect(c as isize + dc - half, cols)]]);
            }
        }
        let rank = window.len() / 2;
        *window.select_nth_unstable_by(rank, f64::total_cmp).1
    }))
}

/// Local mean and variance over `size × size` windows (reflect borders).
fn local_moments(image: ArrayView2<'_, f64>, size: usize) -> Result<(Array2<f64>, Array2<f64>)> {
    let mean = mean_filter(image, size)?;
    let mean_sq = mean_filter(image.mapv(|v| v * v).view(), size)?;
    let variance = ndarray::Zip::from(&mean_sq)
        .and(&mean)
        .map_collect(|s, m| (s - m * m).max(0.0));
    Ok((mean, variance))
}

/// Lee's filter for multiplicative speckle on an intensity image with `looks` looks:
/// `m + w·(x − m)` with local mean `m`, local variance `v`, noise variation
/// `Cu² = 1/looks`, image variation `Ci² = v/m²` and `w = clamp(1 − Cu²/Ci², 0, 1)`.
/// Flat areas (Ci ≤ Cu) become their local mean; edges and targets (Ci ≫ Cu) are kept.
pub fn lee_filter(image: ArrayView2<'_, f64>, size: usize, looks: f64) -> Result<Array2<f64>> {
    check_looks(looks)?;
    let (mean, variance) = local_moments(image, size)?;
    let cu2 = 1.0 / looks;
    Ok(ndarray::Zip::from(image)
        .and(&mean)
        .and(&variance)
        .map_collect(|&x, &m, &v| {
            if m <= 0.0 {
                return m;
            }
            let ci2 = v / (m * m);
            let w = if ci2 > 0.0 {
                (1.0 - cu2 / ci2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            m + w * (x - m)
        }))
}

/// Whether a speckle filter's input holds intensities (power) or amplitudes
/// (magnitudes), which sets the noise's coefficient of variation for `L` looks:
/// `Cu² = 1/L` for intensity, `(4/π − 1)/L` for amplitude (the Rayleigh–Nakagami
/// amplitude of `L`-look speckle; SNAP's `0.5227/√L`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SpeckleDomain {
    #[default]
    Intensity,
    Amplitude,
}

impl SpeckleDomain {
    /// The squared coefficient of variation of `looks`-look speckle in this domain.
    pub fn noise_variation(self, looks: f64) -> f64 {
        match self {
            SpeckleDomain::Intensity => 1.0 / looks,
            SpeckleDomain::Amplitude => (4.0 / std::f64::consts::PI - 1.0) / looks,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            SpeckleDomain::Intensity => "intensity",
            SpeckleDomain::Amplitude => "amplitude",
        }
    }
}

/// Kuan's filter (Kuan et al. 1985), the linear MMSE estimate without Lee's
/// approximation: `m + w·(x − m)` with `w = (1 − Cu²/Ci²) / (1 + Cu²)`, clamped to
/// `[0, 1]`, local statistics over `size × size` windows (reflect borders).
pub fn kuan_filter(
    image: ArrayView2<'_, f64>,
    size: usize,
    looks: f64,
    domain: SpeckleDomain,
) -> Result<Array2<f64>> {
    check_looks(looks)?;
    let (mean, variance) = local_moments(image, size)?;
    let cu2 = domain.noise_variation(looks);
    Ok(ndarray::Zip::from(image)
        .and(&mean)
        .and(&variance)
        .map_collect(|&x, &m, &v| {
            if m <= 0.0 {
                return m;
            }
            let ci2 = v / (m * m);
            let w = if ci2 > 0.0 {
                ((1.0 - cu2 / ci2) / (1.0 + cu2)).clamp(0.0, 1.0)
            } else {
                0.0
            };
            m + w * (x - m)
        }))
}

/// The refined Lee filter (Lee 1981) with the structure of ESA SNAP's Speckle-Filter:
/// in each pixel's 7×7 window (scipy `reflect` borders), the means of the nine 3×3
/// sub-windows at strides of 2 give four gradients (horizontal, the two diagonals,
/// vertical); across the strongest one, the half of the window on the side whose
/// sub-window mean is closer to the centre's (28 pixels, the edge line included) holds
/// the statistics: mean `m` and population variance `v`. The estimate is
/// `m + w·(x − m)` with `w = (1 − Cu²/Ci²)/(1 + Cu²)` clamped to `[0, 1]`, `Ci² = v/m²`
/// and `Cu²` from the looks and domain (Lee's multiplicative model; SNAP estimates the
/// noise from the sub-windows' variances instead).
pub fn refined_lee_filter(
    image: ArrayView2<'_, f64>,
    looks: f64,
    domain: SpeckleDomain,
) -> Result<Array2<f64>> {
    check_looks(looks)?;
    check_window(image, 7)?;
    let cu2 = domain.noise_variation(looks);
    let (rows, cols) = image.dim();
    let mut out = Array2::<f64>::zeros((rows, cols));
    let mut window = [[0.0f64; 7]; 7];
    for r in 0..rows {
        for c in 0..cols {
            for (y, line) in window.iter_mut().enumerate() {
                let rr = reflect(r as isize + y as isize - 3, rows);
                for (x, v) in line.iter_mut().enumerate() {
                    *v = image[[rr, reflect(c as isize + x as isize - 3, cols)]];
                }
            }
            let (m, v) = refined_lee_statistics(&window);
            let x = window[3][3];
            out[[r, c]] = if m <= 0.0 {
                m
            } else {
                let ci2 = v / (m * m);
                let w = if ci2 > 0.0 {
                    ((1.0 - cu2 / ci2) / (1.0 + cu2)).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                m + w * (x - m)
            };
        }
    }
    Ok(out)
}

/// Mean and population variance of the 28 pixels of a 7×7 window on the homogeneous
/// side of its strongest edge (see [`refined_lee_filter`]).
fn refined_lee_statistics(window: &[[f64; 7]; 7]) -> (f64, f64) {
    let mut means = [[0.0f64; 3]; 3];
    for (j, row) in means.iter_mut().enumerate() {
        for (i, mean) in row.iter_mut().enumerate() {
            let mut sum = 0.0;
            for line in &window[2 * j..2 * j + 3] {
                for v in &line[2 * i..2 * i + 3] {
                    sum += v;
                }
            }
            *mean = sum / 9.0;
        }
    }
    let gradients = [
        (means[1][0] - means[1][2]).abs(),
        (means[0][2] - means[2][0]).abs(),
        (means[0][1] - means[2][1]).abs(),
        (means[0][0] - means[2][2]).abs(),
    ];
    let mut direction = 0;
    for (k, &g) in gradients.iter().enumerate().skip(1) {
        if g > gradients[direction] {
            direction = k;
        }
    }
    let centre = means[1][1];
    // The two sub-windows across the edge, and the half kept when the first is the
    // closer to the centre (else its opposite).
    let (a, b, near_a, near_b) = match direction {
        0 => (means[1][0], means[1][2], 4, 0),
        1 => (means[0][2], means[2][0], 1, 5),
        2 => (means[0][1], means[2][1], 2, 6),
        _ => (means[0][0], means[2][2], 3, 7),
    };
    let half = if (a - centre).abs() < (centre - b).abs() {
        near_a
    } else {
        near_b
    };
    let inside = |y: usize, x: usize| match half {
        0 => x >= 3,
        1 => x >= y,
        2 => y <= 3,
        3 => x + y <= 6,
        4 => x <= 3,
        5 => x <= y,
        6 => y >= 3,
        _ => x + y >= 6,
    };
    let (mut n, mut sum) = (0.0, 0.0);
    for (y, line) in window.iter().enumerate() {
        for (x, v) in line.iter().enumerate() {
            if inside(y, x) {
                n += 1.0;
                sum += v;
            }
        }
    }
    let mean = sum / n;
    let mut squares = 0.0;
    for (y, line) in window.iter().enumerate() {
        for (x, v) in line.iter().enumerate() {
            if inside(y, x) {
                squares += (v - mean) * (v - mean);
            }
        }
    }
    (mean, squares / n)
}

/// The Gamma-MAP filter (Lopes, Nezry, Touzi & Laur 1990), as SNAP computes it on
/// intensity: with `Cu = 1/√L`, `Cmax = √2·Cu` and `Ci` the local coefficient of
/// variation, flat areas (`Ci ≤ Cu`) become their local mean, strong scatterers
/// (`Ci ≥ Cmax`) are kept, and in between the MAP estimate under a gamma prior,
/// `(B·m + √(B²m² + 4αLmx)) / (2α)` with `α = (1 + Cu²)/(Ci² − Cu²)`, `B = α − L − 1`.
/// Amplitude input is squared, filtered as intensity and returned as amplitude.
pub fn gamma_map_filter(
    image: ArrayView2<'_, f64>,
    size: usize,
    looks: f64,
    domain: SpeckleDomain,
) -> Result<Array2<f64>> {
    check_looks(looks)?;
    let intensity = match domain {
        SpeckleDomain::Intensity => image.to_owned(),
        SpeckleDomain::Amplitude => image.mapv(|a| a * a),
    };
    let (mean, variance) = local_moments(intensity.view(), size)?;
    let cu2 = 1.0 / looks;
    let cmax2 = 2.0 * cu2;
    let out = ndarray::Zip::from(&intensity)
        .and(&mean)
        .and(&variance)
        .map_collect(|&x, &m, &v| {
            if m <= 0.0 {
                return m.max(0.0);
            }
            let ci2 = v / (m * m);
            if ci2 <= cu2 {
                m
            } else if ci2 >= cmax2 {
                x
            } else {
                let alpha = (1.0 + cu2) / (ci2 - cu2);
                let b = alpha - looks - 1.0;
                let d = m * m * b * b + 4.0 * alpha * looks * m * x;
                (b * m + d.max(0.0).sqrt()) / (2.0 * alpha)
            }
        });
    Ok(match domain {
        SpeckleDomain::Intensity => out,
        SpeckleDomain::Amplitude => out.mapv(|i| i.max(0.0).sqrt()),
    })
}

/// The equivalent number of looks of a homogeneous region: `m²/v` of its intensities,
/// `(4/π − 1)·m²/v` of its amplitudes (population variance).
pub fn enl(region: ArrayView2<'_, f64>, domain: SpeckleDomain) -> Option<f64> {
    let n = region.len();
    if n < 2 {
        return None;
    }
    let mean = region.iter().sum::<f64>() / n as f64;
    let var = region.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
    if !(var > 0.0 && mean.is_finite()) {
        return None;
    }
    Some(domain.noise_variation(1.0) * mean * mean / var)
}

/// The ENL of an image estimated from its most homogeneous parts: the ENL of every
/// non-overlapping `window × window` block, and the median of the tenth of blocks with
/// the highest ENL (targets and edges lower a block's ENL; the quietest blocks are
/// clutter). `None` when no block has variation.
pub fn estimate_enl(
    image: ArrayView2<'_, f64>,
    window: usize,
    domain: SpeckleDomain,
) -> Option<f64> {
    let (rows, cols) = image.dim();
    if window < 2 || window > rows.min(cols) {
        return None;
    }
    let mut values: Vec<f64> = Vec::new();
    for r in (0..=rows - window).step_by(window) {
        for c in (0..=cols - window).step_by(window) {
            if let Some(e) = enl(
                image.slice(ndarray::s![r..r + window, c..c + window]),
                domain,
            ) {
                values.push(e);
            }
        }
    }
    if values.is_empty() {
        return None;
    }
    values.sort_by(|a, b| b.total_cmp(a));
    let top = &values[..values.len().div_ceil(10)];
    Some(top[top.len() / 2])
}

/// Frost's filter: an exponentially weighted mean whose weights `exp(−K·Ci²·d)` (`d` the
/// distance to the centre in pixels, `Ci² = v/m²` the local variation) fall off fast
/// where the image varies (edges kept) and slowly in flat speckle (strong smoothing).
pub fn frost_filter(image: ArrayView2<'_, f64>, size: usize, damping: f64) -> Result<Array2<f64>> {
    if !(damping.is_finite() && damping > 0.0) {
        return Err(Error::InvalidFilter(format!(
            "Frost damping {damping}: must be a positive number"
        )));
    }
    let (mean, variance) = local_moments(image, size)?;
    let (rows, cols) = image.dim();
    let half = (size / 2) as isize;
    Ok(Array2::from_shape_fn((rows, cols), |(r, c)| {
        let m = mean[[r, c]];
        let ci2 = if m > 0.0 {
            variance[[r, c]] / (m * m)
        } else {
            0.0
        };
        let (mut sum, mut weight) = (0.0, 0.0);
        for dr in -half..size as isize - half {
            for dc in -half..size as isize - half {
                let w = (-damping * ci2 * ((dr * dr + dc * dc) as f64).sqrt()).exp();
                sum += w * image[[
                    reflect(r as isize + dr, rows),
                    reflect(c as isize + dc, cols),
                ]];
                weight += w;
            }
        }
        sum / weight
    }))
}

/// Histogram equalisation exactly as `skimage.exposure.equalize_hist(image, nbins)`:
/// the cumulative histogram over `[min, max]` in `nbins` bins, normalised to end at 1,
/// interpolated linearly at the bin centres.
pub fn equalize_hist(image: ArrayView2<'_, f64>, nbins: usize) -> Result<Array2<f64>> {
    let (rows, cols) = image.dim();
    if rows == 0 || cols == 0 {
        return Err(Error::InvalidFilter(format!(
            "image of {rows}x{cols} has no pixels"
        )));
    }
    if nbins == 0 || nbins > MAX_BINS {
        return Err(Error::InvalidFilter(format!(
            "histogram with {nbins} bins: must be 1 to {MAX_BINS}"
        )));
    }
    let (lo, hi) = image
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    // numpy.histogram widens an empty range to [lo − 0.5, hi + 0.5].
    let (lo, hi) = if lo == hi {
        (lo - 0.5, hi + 0.5)
    } else {
        (lo, hi)
    };
    let width = (hi - lo) / nbins as f64;
    let mut counts = vec![0u64; nbins];
    for &v in image.iter() {
        // numpy puts the maximum into the last bin.
        let bin = (((v - lo) / (hi - lo)) * nbins as f64) as usize;
        counts[bin.min(nbins - 1)] += 1;
    }
    let total = image.len() as f64;
    let mut running = 0u64;
    let cdf: Vec<f64> = counts
        .iter()
        .map(|&n| {
            running += n;
            running as f64 / total
        })
        .collect();
    let centres: Vec<f64> = (0..nbins).map(|i| lo + width * (i as f64 + 0.5)).collect();
    Ok(image.mapv(|v| interp(v, &centres, &cdf)))
}

/// `numpy.interp`: linear interpolation, clamped to the end values.
fn interp(x: f64, xs: &[f64], ys: &[f64]) -> f64 {
    if x <= xs[0] {
        return ys[0];
    }
    let last = xs.len() - 1;
    if x >= xs[last] {
        return ys[last];
    }
    let i = xs.partition_point(|&v| v <= x) - 1;
    let t = (x - xs[i]) / (xs[i + 1] - xs[i]);
    ys[i] + t * (ys[i + 1] - ys[i])
}

/// The widest window a speckle filter takes. Speckle windows are 3 to 15 pixels in the
/// literature; at this width a median already sorts 65,025 samples per pixel.
pub const MAX_WINDOW: usize = 255;

/// The largest Gaussian σ. Its kernel reaches `round(4σ)` pixels each side, so this
/// keeps the kernel (249 pixels) within [`MAX_WINDOW`].
pub const MAX_SIGMA: f64 = 31.0;

/// The most histogram bins for equalisation: 16-bit quantisation. More bins than that
/// cannot change the result of any chip of fewer than 65,536 pixels and only cost memory.
pub const MAX_BINS: usize = 65_536;

fn check_window(image: ArrayView2<'_, f64>, size: usize) -> Result<()> {
    let (rows, cols) = image.dim();
    if rows == 0 || cols == 0 {
        return Err(Error::InvalidFilter(format!(
            "image of {rows}x{cols} has no pixels"
        )));
    }
    if size == 0 {
        return Err(Error::InvalidFilter(
            "window size 0: must be at least 1".to_owned(),
        ));
    }
    check_window_fits(size, rows, cols)
}

/// A window wider than the image averages mirrored copies of it, and its cost grows
/// with its area: refuse both the absurd and the meaningless.
fn check_window_fits(size: usize, rows: usize, cols: usize) -> Result<()> {
    if size > MAX_WINDOW {
        return Err(Error::InvalidFilter(format!(
            "window {size}: must be at most {MAX_WINDOW} pixels"
        )));
    }
    if size > rows.min(cols) {
        return Err(Error::InvalidFilter(format!(
            "window {size} is wider than the {rows}x{cols} image (at most {})",
            rows.min(cols)
        )));
    }
    Ok(())
}

/// The radius `round(4σ)` of scipy's Gaussian kernel (`truncate = 4`).
fn gaussian_radius(sigma: f64) -> usize {
    (4.0 * sigma + 0.5) as usize
}

fn check_looks(looks: f64) -> Result<()> {
    if looks.is_finite() && looks > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidFilter(format!(
            "looks {looks}: must be a positive number"
        )))
    }
}

/// A speckle filter, e.g. `lee:window=5:looks=4`, `median:window=3`, `gaussian:sigma=1`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SpeckleFilter {
    Mean {
        window: usize,
    },
    Median {
        window: usize,
    },
    Gaussian {
        sigma: f64,
    },
    Lee {
        window: usize,
        looks: f64,
    },
    Frost {
        window: usize,
        damping: f64,
    },
    Kuan {
        window: usize,
        looks: f64,
        domain: SpeckleDomain,
    },
    GammaMap {
        window: usize,
        looks: f64,
        domain: SpeckleDomain,
    },
    /// The improved Lee sigma filter (2009).
    LeeSigma(crate::lee_sigma::LeeSigma),
    /// Refined Lee on its fixed 7×7 window.
    RefinedLee {
        looks: f64,
        domain: SpeckleDomain,
    },
    /// Histogram equalisation (a contrast stretch, listed here to be sweepable alike).
    Equalize {
        bins: usize,
    },
}

impl SpeckleFilter {
    /// Checks the filter against an image size: windows must fit the image (the
    /// size-independent bounds, [`MAX_WINDOW`], [`MAX_SIGMA`] and [`MAX_BINS`], are
    /// checked when the filter is parsed).
    pub fn validate(&self, rows: usize, cols: usize) -> Result<()> {
        match *self {
            SpeckleFilter::Mean { window }
            | SpeckleFilter::Median { window }
            | SpeckleFilter::Lee { window, .. }
            | SpeckleFilter::Kuan { window, .. }
            | SpeckleFilter::GammaMap { window, .. }
            | SpeckleFilter::Frost { window, .. } => check_window_fits(window, rows, cols),
            SpeckleFilter::RefinedLee { .. } => check_window_fits(7, rows, cols),
            SpeckleFilter::LeeSigma(f) => {
                f.validate()?;
                check_window_fits(f.window, rows, cols)
            }
            // The Gaussian is separable and bounded by `MAX_SIGMA`: a kernel wider than
            // a small image is still scipy's reflected blur.
            SpeckleFilter::Gaussian { .. } | SpeckleFilter::Equalize { .. } => Ok(()),
        }
    }

    pub fn apply(&self, image: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        match *self {
            SpeckleFilter::Mean { window } => mean_filter(image, window),
            SpeckleFilter::Median { window } => median_filter(image, window),
            SpeckleFilter::Gaussian { sigma } => gaussian_filter(image, sigma),
            SpeckleFilter::Lee { window, looks } => lee_filter(image, window, looks),
            SpeckleFilter::Kuan {
                window,
                looks,
                domain,
            } => kuan_filter(image, window, looks, domain),
            SpeckleFilter::GammaMap {
                window,
                looks,
                domain,
            } => gamma_map_filter(image, window, looks, domain),
            SpeckleFilter::RefinedLee { looks, domain } => refined_lee_filter(image, looks, domain),
            SpeckleFilter::LeeSigma(f) => f.apply(image),
            SpeckleFilter::Frost { window, damping } => frost_filter(image, window, damping),
            SpeckleFilter::Equalize { bins } => equalize_hist(image, bins),
        }
    }
}

impl fmt::Display for SpeckleFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpeckleFilter::Mean { window } => write!(f, "mean:window={window}"),
            SpeckleFilter::Median { window } => write!(f, "median:window={window}"),
            SpeckleFilter::Gaussian { sigma } => write!(f, "gaussian:sigma={sigma}"),
            SpeckleFilter::Lee { window, looks } => write!(f, "lee:window={window}:looks={looks}"),
            SpeckleFilter::Kuan {
                window,
                looks,
                domain,
            } => write!(
                f,
                "kuan:window={window}:looks={looks}:domain={}",
                domain.name()
            ),
            SpeckleFilter::GammaMap {
                window,
                looks,
                domain,
            } => write!(
                f,
                "gamma_map:window={window}:looks={looks}:domain={}",
                domain.name()
            ),
            SpeckleFilter::LeeSigma(s) => write!(
                f,
                "lee_sigma:looks={}:sigma=0.{}:window={}:target={}:domain={}",
                s.looks,
                s.sigma_tenths,
                s.window,
                s.target_window,
                s.domain.name()
            ),
            SpeckleFilter::RefinedLee { looks, domain } => {
                write!(f, "refined_lee:looks={looks}:domain={}", domain.name())
            }
            SpeckleFilter::Frost { window, damping } => {
                write!(f, "frost:window={window}:damping={damping}")
            }
            SpeckleFilter::Equalize { bins } => write!(f, "equalize:bins={bins}"),
        }
    }
}

impl FromStr for SpeckleFilter {
    type Err = Error;

    fn from_str(spec: &str) -> Result<Self> {
        let bad = |message: String| Error::InvalidFilter(format!("`{spec}`: {message}"));
        let mut parts = spec.split(':');
        let kind = parts.next().unwrap_or_default();
        let mut values: Vec<(&str, &str)> = Vec::new();
        for part in parts {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| bad(format!("`{part}` is not key=value")))?;
            if values.iter().any(|(seen, _)| *seen == k) {
                return Err(bad(format!("`{k}` is given twice")));
            }
            values.push((k, v));
        }
        let allowed: &[&str] = match kind {
            "mean" | "median" => &["window"],
            "gaussian" => &["sigma"],
            "lee" => &["window", "looks"],
            "kuan" | "gamma_map" => &["window", "looks", "domain"],
            "refined_lee" => &["looks", "domain"],
            "lee_sigma" => &["looks", "sigma", "window", "target", "domain"],
            "frost" => &["window", "damping"],
            "equalize" => &["bins"],
            other => {
                return Err(bad(format!(
                    "unknown speckle filter `{other}` (expected mean, median, gaussian, lee, refined_lee, lee_sigma, kuan, gamma_map, frost or equalize)"
                )));
            }
        };
        if let Some((k, _)) = values.iter().find(|(k, _)| !allowed.contains(k)) {
            return Err(bad(format!(
                "unknown key `{k}` for {kind} (expected {})",
                allowed.join(", ")
            )));
        }
        let get = |key: &str| values.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
        let float = |key: &str, default: f64, max: f64| -> Result<f64> {
            get(key).map_or(Ok(default), |v| {
                v.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite() && *x > 0.0 && *x <= max)
                    .ok_or_else(|| {
                        bad(format!(
                            "`{key}` is `{v}`, expected a positive number of at most {max}"
                        ))
                    })
            })
        };
        let whole = |key: &str, default: usize, max: usize| -> Result<usize> {
            get(key).map_or(Ok(default), |v| {
                v.parse::<usize>()
                    .ok()
                    .filter(|x| (1..=max).contains(x))
                    .ok_or_else(|| {
                        bad(format!(
                            "`{key}` is `{v}`, expected a whole number from 1 to {max}"
                        ))
                    })
            })
        };
        // Looks and damping have no natural ceiling; these keep the arithmetic sane.
        const MAX_LOOKS: f64 = 1e6;
        const MAX_DAMPING: f64 = 1e6;
        Ok(match kind {
            "mean" => SpeckleFilter::Mean {
                window: whole("window", 3, MAX_WINDOW)?,
            },
            "median" => SpeckleFilter::Median {
                window: whole("window", 3, MAX_WINDOW)?,
            },
            "gaussian" => SpeckleFilter::Gaussian {
                sigma: float("sigma", 1.0, MAX_SIGMA)?,
            },
            "lee" => SpeckleFilter::Lee {
                window: whole("window", 5, MAX_WINDOW)?,
                looks: float("looks", 1.0, MAX_LOOKS)?,
            },
            "kuan" | "gamma_map" | "refined_lee" => {
                let window = whole("window", 5, MAX_WINDOW)?;
                let looks = float("looks", 1.0, MAX_LOOKS)?;
                let domain = match get("domain") {
                    None | Some("intensity") => SpeckleDomain::Intensity,
                    Some("amplitude") => SpeckleDomain::Amplitude,
                    Some(other) => {
                        return Err(bad(format!(
                            "`domain` is `{other}`, expected intensity or amplitude"
                        )));
                    }
                };
                if kind == "refined_lee" {
                    SpeckleFilter::RefinedLee { looks, domain }
                } else if kind == "kuan" {
                    SpeckleFilter::Kuan {
                        window,
                        looks,
                        domain,
                    }
                } else {
                    SpeckleFilter::GammaMap {
                        window,
                        looks,
                        domain,
                    }
                }
            }
            "lee_sigma" => {
                let domain = match get("domain") {
                    None | Some("amplitude") => SpeckleDomain::Amplitude,
                    Some("intensity") => SpeckleDomain::Intensity,
                    Some(other) => {
                        return Err(bad(format!(
                            "`domain` is `{other}`, expected intensity or amplitude"
                        )));
                    }
                };
                let looks = whole("looks", 1, 4)? as u8;
                let sigma_tenths = match get("sigma").unwrap_or("0.9") {
                    "0.5" => 5,
                    "0.6" => 6,
                    "0.7" => 7,
                    "0.8" => 8,
                    "0.9" => 9,
                    other => {
                        return Err(bad(format!(
                            "`sigma` is `{other}`, expected 0.5, 0.6, 0.7, 0.8 or 0.9"
                        )));
                    }
                };
                let filter = crate::lee_sigma::LeeSigma {
                    looks,
                    sigma_tenths,
                    window: whole("window", 7, 11)?,
                    target_window: whole("target", 3, 5)?,
                    domain,
                };
                filter.validate().map_err(|e| bad(e.to_string()))?;
                SpeckleFilter::LeeSigma(filter)
            }
            "frost" => SpeckleFilter::Frost {
                window: whole("window", 5, MAX_WINDOW)?,
                damping: float("damping", 2.0, MAX_DAMPING)?,
            },
            _ => SpeckleFilter::Equalize {
                bins: whole("bins", 256, MAX_BINS)?,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn small_cases_worked_by_hand() {
        let x = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]];
        // uniform_filter(x, 3, mode='reflect')[0, 0] = mean of [[1,1,2],[1,1,2],[4,4,5]] = 21/9
        let m = mean_filter(x.view(), 3).expect("mean");
        assert!((m[[0, 0]] - 21.0 / 9.0).abs() < 1e-12);
        assert!((m[[1, 1]] - 5.0).abs() < 1e-12);
        // median_filter(x, 3, mode='reflect')[0, 0] = median of the same 9 values = 2
        assert_eq!(median_filter(x.view(), 3).expect("median")[[0, 0]], 2.0);
        // Even window: upper median of 4 values, window reaching back.
        assert_eq!(median_filter(x.view(), 2).expect("median")[[1, 1]], 4.0);
        let g = gaussian_filter(x.view(), 1.0).expect("gauss");
        assert!(
            (g.sum() - x.sum()).abs() < 1e-9,
            "reflect borders keep the sum of a linear ramp"
        );
    }

    #[test]
    fn lee_flattens_speckle_and_keeps_a_step() {
        // Flat area with mild variation: Ci² < Cu² = 1 → local mean.
        let flat = Array2::from_shape_fn((9, 9), |(r, c)| 1.0 + 0.1 * (((r + c) % 2) as f64));
        let out = lee_filter(flat.view(), 3, 1.0).expect("lee");
        let means = mean_filter(flat.view(), 3).expect("mean");
        assert!(out.iter().zip(&means).all(|(a, b)| (a - b).abs() < 1e-12));
        // Very many looks (no noise): the image itself.
        let step = Array2::from_shape_fn((8, 8), |(_, c)| if c < 4 { 1.0 } else { 100.0 });
        let kept = lee_filter(step.view(), 3, 1e9).expect("lee");
        assert!(kept.iter().zip(&step).all(|(a, b)| (a - b).abs() < 1e-6));
        let frost = frost_filter(flat.view(), 3, 2.0).expect("frost");
        assert!(frost.iter().all(|v| (1.0..=1.1).contains(v)));
    }

    #[test]
    fn equalize_matches_skimage_on_a_small_case() {
        // skimage.exposure.equalize_hist(np.array([[0., 1.], [2., 3.]]), nbins=4)
        // == [[0.25, 0.45833333], [0.79166667, 1.0]] (interpolated at bin centres)
        let e = equalize_hist(array![[0.0, 1.0], [2.0, 3.0]].view(), 4).expect("eq");
        let expected = array![
            [0.25, 0.25 + 0.625 / 0.75 * 0.25],
            [0.75 + 0.125 / 0.75 * 0.25, 1.0]
        ];
        assert!(
            e.iter().zip(&expected).all(|(a, b)| (a - b).abs() < 1e-12),
            "{e}"
        );
    }

    #[test]
    fn kuan_and_gamma_map_flatten_clutter_and_keep_strong_scatterers() {
        let flat = Array2::from_shape_fn((9, 9), |(r, c)| 1.0 + 0.1 * (((r + c) % 2) as f64));
        let means = mean_filter(flat.view(), 3).expect("mean");
        for domain in [SpeckleDomain::Intensity, SpeckleDomain::Amplitude] {
            let k = kuan_filter(flat.view(), 3, 1.0, domain).expect("kuan");
            let g = gamma_map_filter(flat.view(), 3, 1.0, SpeckleDomain::Intensity).expect("g");
            assert!(k.iter().zip(&means).all(|(a, b)| (a - b).abs() < 1e-12));
            assert!(g.iter().zip(&means).all(|(a, b)| (a - b).abs() < 1e-12));
        }
        // A lone bright scatterer on clutter: Ci far above Cmax, so Gamma-MAP keeps it.
        let mut point = Array2::from_elem((9, 9), 1.0);
        point[[4, 4]] = 400.0;
        let g = gamma_map_filter(point.view(), 3, 4.0, SpeckleDomain::Intensity).expect("g");
        assert_eq!(g[[4, 4]], 400.0);
    }

    #[test]
    fn enl_of_gamma_speckle_is_its_number_of_looks() {
        use rand::SeedableRng;
        use rand_distr::Distribution;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let gamma = rand_distr::Gamma::new(4.0, 0.25).expect("gamma");
        let intensity = Array2::from_shape_fn((256, 256), |_| gamma.sample(&mut rng));
        let whole = enl(intensity.view(), SpeckleDomain::Intensity).expect("enl");
        assert!((whole - 4.0).abs() < 0.1, "{whole}");
        let amplitude = intensity.mapv(f64::sqrt);
        let a = enl(amplitude.view(), SpeckleDomain::Amplitude).expect("enl");
        // The amplitude formula is the large-L approximation: within 10 % at 4 looks.
        assert!((a - 4.0).abs() < 0.4, "{a}");
        let blocks = estimate_enl(intensity.view(), 16, SpeckleDomain::Intensity).expect("enl");
        assert!(blocks > 3.5, "{blocks}");
        assert_eq!(
            enl(
                Array2::from_elem((4, 4), 1.0).view(),
                SpeckleDomain::Intensity
            ),
            None
        );
    }

    #[test]
    fn specs_parse_and_bad_values_are_named() {
        for spec in [
            "lee:window=5:looks=4",
            "median:window=3",
            "gaussian:sigma=1.5",
            "frost:window=5:damping=2",
            "equalize:bins=256",
            "mean:window=3",
            "kuan:window=5:looks=4:domain=amplitude",
            "gamma_map:window=7:looks=1:domain=intensity",
        ] {
            assert_eq!(spec.parse::<SpeckleFilter>().expect(spec).to_string(), spec);
        }
        for (spec, needle) in [
            ("lee:window=0", "`window` is `0`"),
            ("gaussian:sigma=-1", "`sigma` is `-1`"),
            ("wiener:window=3", "unknown speckle filter `wiener`"),
            ("median:sigma=2", "unknown key `sigma`"),
            ("kuan:domain=power", "`domain` is `power`"),
        ] {
            let err = spec.parse::<SpeckleFilter>().unwrap_err().to_string();
            assert!(err.contains(needle), "{spec}: {err}");
        }
    }
}
