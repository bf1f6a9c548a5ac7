//! Gabor kernels and responses identical to scikit-image 0.26:
//! `skimage.filters.gabor_kernel` and `skimage.filters.gabor` (`mode="reflect"`).
//!
//! The kernel is `g = 1/(2πσxσy) · exp(−½(x'²/σx² + y'²/σy²)) · exp(i(2πf·x' + offset))`
//! with `x' = x cosθ + y sinθ`, `y' = −x sinθ + y cosθ`, x along columns and y along
//! rows, on a grid of half-sizes `x0 = ceil(max(|nσx cosθ|, |nσy sinθ|, 1))` and
//! `y0 = ceil(max(|nσy cosθ|, |nσx sinθ|, 1))`. Unless given, `σx = σy = s(b)/f` with
//! `s(b) = √(ln 2 / 2)/π · (2^b + 1)/(2^b − 1)` for bandwidth `b`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::f64::consts::PI;
use std::rc::Rc;

use ndarray::{Array2, ArrayView2};
use num_complex::Complex64;
use sarlab_filter::fft;

use crate::error::{Error, Result};

/// Parameters of one Gabor kernel, named as in `skimage.filters.gabor_kernel`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GaborParams {
    /// Cycles per pixel, in (0, 0.5).
    pub frequency: f64,
    /// Orientation in radians; 0 puts the harmonic along x (columns).
    pub theta: f64,
    /// Octaves; sets σ when `sigma_x`/`sigma_y` are not given.
    pub bandwidth: f64,
    pub sigma_x: Option<f64>,
    pub sigma_y: Option<f64>,
    /// Half-size of the kernel in standard deviations.
    pub n_stds: f64,
    /// Phase offset of the harmonic, radians.
    pub offset: f64,
}

impl GaborParams {
    /// scikit-image's defaults for a frequency and orientation.
    pub fn new(frequency: f64, theta: f64) -> Self {
        Self {
            frequency,
            theta,
            bandwidth: 1.0,
            sigma_x: None,
            sigma_y: None,
            n_stds: 3.0,
            offset: 0.0,
        }
    }

    pub fn validate(&self) -> Result<()> {
        let bad =
            |name: &'static str, message: String| Err(Error::InvalidParameter { name, message });
        if !(self.frequency > 0.0 && self.frequency < 0.5) {
            return bad(
                "frequency",
                format!(
                    "{} cycles/pixel: must be within (0, 0.5) (0.5 is the Nyquist limit)",
                    self.frequency
                ),
            );
        }
        if !self.theta.is_finite() || !self.offset.is_finite() {
            return bad("theta", "theta and offset must be finite".to_owned());
        }
        if !(self.bandwidth.is_finite() && self.bandwidth > 0.0) {
            return bad(
                "bandwidth",
                format!("{}: must be a positive number of octaves", self.bandwidth),
            );
        }
        for (name, sigma) in [("sigma_x", self.sigma_x), ("sigma_y", self.sigma_y)] {
            if let Some(s) = sigma
                && !(s.is_finite() && s > 0.0)
            {
                return bad(name, format!("{s}: must be a positive number"));
            }
        }
        if !(self.n_stds.is_finite() && self.n_stds > 0.0) {
            return bad(
                "n_stds",
                format!("{}: must be a positive number", self.n_stds),
            );
        }
        Ok(())
    }

    /// `(σx, σy)`.
    pub fn sigmas(&self) -> (f64, f64) {
        let b = self.bandwidth;
        let prefactor =
            1.0 / PI * (2f64.ln() / 2.0).sqrt() * (2f64.powf(b) + 1.0) / (2f64.powf(b) - 1.0);
        (
            self.sigma_x.unwrap_or(prefactor / self.frequency),
            self.sigma_y.unwrap_or(prefactor / self.frequency),
        )
    }
}

/// The largest kernel half-size: a kernel of 2049 pixels is 16 times a 128-pixel chip,
/// and each filter's FFT grows with the chip plus the kernel.
pub const MAX_KERNEL_HALF_SIZE: usize = 1024;

/// The most orientations of a bank: 1° steps. A one-octave Gabor filter's angular
/// bandwidth is about 40°, so finer steps repeat the same responses.
pub const MAX_BANK_ORIENTATIONS: usize = 180;

/// The most frequencies of a bank (a bank of 16 × 180 filters is already 2,880
/// convolutions per chip).
pub const MAX_BANK_FREQUENCIES: usize = 16;

/// The kernel's half-sizes `(y0, x0)`: it is `(2·y0 + 1) × (2·x0 + 1)`.
pub fn kernel_half_sizes(params: &GaborParams) -> Result<(usize, usize)> {
    params.validate()?;
    let (sx, sy) = params.sigmas();
    let (ct, st) = (params.theta.cos(), params.theta.sin());
    let n = params.n_stds;
    let x0 = (n * sx * ct).abs().max((n * sy * st).abs()).max(1.0).ceil();
    let y0 = (n * sy * ct).abs().max((n * sx * st).abs()).max(1.0).ceil();
    if x0 > MAX_KERNEL_HALF_SIZE as f64 || y0 > MAX_KERNEL_HALF_SIZE as f64 {
        return Err(Error::InvalidParameter {
            name: "frequency",
            message: format!(
                "{} cycles/pixel (bandwidth {}, n_stds {}): the kernel would be {}x{} pixels, at most {} are allowed (raise the frequency or the bandwidth, or lower n_stds)",
                params.frequency,
                params.bandwidth,
                params.n_stds,
                2.0 * y0 + 1.0,
                2.0 * x0 + 1.0,
                2 * MAX_KERNEL_HALF_SIZE + 1
            ),
        });
    }
    Ok((y0 as usize, x0 as usize))
}

/// The complex kernel as (real, imaginary) parts, `(2·y0 + 1) × (2·x0 + 1)`.
pub fn gabor_kernel(params: &GaborParams) -> Result<(Array2<f64>, Array2<f64>)> {
    params.validate()?;
    let (sx, sy) = params.sigmas();
    let (ct, st) = (params.theta.cos(), params.theta.sin());
    let (y0, x0) = kernel_half_sizes(params)?;
    let (y0, x0) = (y0 as i64, x0 as i64);
    let shape = ((2 * y0 + 1) as usize, (2 * x0 + 1) as usize);
    let norm = 1.0 / (2.0 * PI * sx * sy);
    let mut real = Array2::zeros(shape);
    let mut imag = Array2::zeros(shape);
    for ((r, c), (re, im)) in real
        .indexed_iter_mut()
        .zip(imag.iter_mut())
        .map(|((rc, re), im)| (rc, (re, im)))
    {
        let (y, x) = (r as f64 - y0 as f64, c as f64 - x0 as f64);
        let rotx = x * ct + y * st;
        let roty = -x * st + y * ct;
        let envelope = (-0.5 * (rotx * rotx / (sx * sx) + roty * roty / (sy * sy))).exp();
        let phase = 2.0 * PI * params.frequency * rotx + params.offset;
        *re = envelope * phase.cos() * norm;
        *im = envelope * phase.sin() * norm;
    }
    Ok((real, imag))
}

/// Index of `i` under scipy's `reflect` mode (`d c b a | a b c d | d c b a`).
fn reflect(i: isize, n: usize) -> usize {
    let n = n as isize;
    let mut k = i.rem_euclid(2 * n);
    if k >= n {
        k = 2 * n - 1 - k;
    }
    k as usize
}

/// Kernels with more taps than this are applied through the FFT (the direct sum costs
/// `taps` multiply-adds per pixel; the FFT route a few hundred, whatever the kernel).
const DIRECT_MAX_TAPS: usize = 15 * 15;

/// Real and imaginary responses, as `skimage.filters.gabor(image, ..., mode="reflect")`
/// (a true convolution: the kernel is flipped). Large kernels go through the FFT.
pub fn gabor(
    image: ArrayView2<'_, f64>,
    params: &GaborParams,
) -> Result<(Array2<f64>, Array2<f64>)> {
    let (kr, _) = gabor_kernel(params)?;
    if kr.len() > DIRECT_MAX_TAPS {
        gabor_fft(image, params)
    } else {
        gabor_direct(image, params)
    }
}

/// The responses through the FFT: the reflect-padded image circularly convolved with
/// the zero-padded kernel; the padding keeps the kept region free of wrap-around.
pub fn gabor_fft(
    image: ArrayView2<'_, f64>,
    params: &GaborParams,
) -> Result<(Array2<f64>, Array2<f64>)> {
    let (rows, cols) = image.dim();
    if rows == 0 || cols == 0 {
        return Err(Error::InvalidParameter {
            name: "image",
            message: format!("a {rows}x{cols} image has no pixels"),
        });
    }
    let (kr, ki) = gabor_kernel(params)?;
    let (kh, kw) = kr.dim();
    let (hy, hx) = ((kh / 2) as isize, (kw / 2) as isize);
    let (pr, pc) = (rows + kh - 1, cols + kw - 1);
    let padded = Array2::from_shape_fn((pr, pc), |(r, c)| {
        Complex64::new(
            image[[
                reflect(r as isize - hy, rows),
                reflect(c as isize - hx, cols),
            ]],
            0.0,
        )
    });
    let mut kernel = Array2::<Complex64>::zeros((pr, pc));
    for ((r, c), re) in kr.indexed_iter() {
        kernel[[r, c]] = Complex64::new(*re, ki[[r, c]]);
    }
    let product = fft::fft2(padded.view()) * fft::fft2(kernel.view());
    let full = fft::ifft2(product.view());
    // Linear convolution index (r + kh − 1, c + kw − 1) is output pixel (r, c).
    let window = full.slice(ndarray::s![kh - 1.., kw - 1..]);
    Ok((window.mapv(|z| z.re), window.mapv(|z| z.im)))
}

/// Kernel spectra by (kernel parameters, transform size), per thread: a bank applies the
/// same few kernels to every chip of a dataset.
type KernelSpectra = HashMap<([u64; 8], (usize, usize)), Rc<Array2<Complex64>>>;

thread_local! {
    static KERNEL_SPECTRA: RefCell<KernelSpectra> = RefCell::new(HashMap::new());
}

/// Bounds the per-thread cache when a sweep goes through many parameter sets.
const MAX_CACHED_KERNEL_SPECTRA: usize = 256;

fn kernel_spectrum(params: &GaborParams, size: (usize, usize)) -> Result<Rc<Array2<Complex64>>> {
    let key = (
        [
            params.frequency.to_bits(),
            params.theta.to_bits(),
            params.bandwidth.to_bits(),
            params.sigma_x.map_or(u64::MAX, f64::to_bits),
            params.sigma_y.map_or(u64::MAX, f64::to_bits),
            params.n_stds.to_bits(),
            params.offset.to_bits(),
            // Distinguishes "no sigma" from a sigma whose bits are u64::MAX (a NaN,
            // rejected anyway).
            u64::from(params.sigma_x.is_some()) | u64::from(params.sigma_y.is_some()) << 1,
        ],
        size,
    );
    if let Some(hit) = KERNEL_SPECTRA.with(|cache| cache.borrow().get(&key).cloned()) {
        return Ok(hit);
    }
    let (kr, ki) = gabor_kernel(params)?;
    let mut kernel = Array2::<Complex64>::zeros(size);
    for ((r, c), re) in kr.indexed_iter() {
        kernel[[r, c]] = Complex64::new(*re, ki[[r, c]]);
    }
    let spectrum = Rc::new(fft::fft2(kernel.view()));
    KERNEL_SPECTRA.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() >= MAX_CACHED_KERNEL_SPECTRA {
            cache.clear();
        }
        cache.insert(key, Rc::clone(&spectrum));
    });
    Ok(spectrum)
}

/// The response magnitudes `|re + i·im|` of every filter, each equal to [`gabor`]'s, from
/// one spectrum of the image reflect-padded for the bank's largest kernel and padded to
/// an FFT-friendly size; per filter only a product with the (cached) kernel spectrum
/// and one inverse transform remain.
///
/// With `H` the largest half-size and `h` this kernel's, the padded image is
/// `Q[m] = x[reflect(m − H)]` and the response at `r` is the linear convolution
/// `(Q ∗ k)[r + h + H]`; every index it reads lies in `[0, rows + 2H)`, inside the
/// transform, so the circular convolution equals it.
pub fn bank_magnitudes(
    image: ArrayView2<'_, f64>,
    filters: &[GaborParams],
) -> Result<Vec<Array2<f64>>> {
    let (rows, cols) = image.dim();
    if rows == 0 || cols == 0 {
        return Err(Error::InvalidParameter {
            name: "image",
            message: format!("a {rows}x{cols} image has no pixels"),
        });
    }
    let halves = filters
        .iter()
        .map(kernel_half_sizes)
        .collect::<Result<Vec<_>>>()?;
    let widest = halves
        .iter()
        .fold((0, 0), |(a, b), &(y0, x0)| (a.max(y0), b.max(x0)));
    // A kernel many times the image's size sees only mirror copies of it, and its FFT
    // costs with its size: tie it to the image.
    let side = rows.max(cols);
    if 2 * widest.0.max(widest.1) + 1 > 4 * side {
        return Err(Error::InvalidParameter {
            name: "frequency",
            message: format!(
                "a kernel of {}x{} pixels is more than 4 times the {rows}x{cols} image: raise the lowest frequency or the bandwidth",
                2 * widest.0 + 1,
                2 * widest.1 + 1
            ),
        });
    }
    let size = (
        fft::next_fast_size(rows + 2 * widest.0),
        fft::next_fast_size(cols + 2 * widest.1),
    );
    let padded = Array2::from_shape_fn(size, |(r, c)| {
        if r < rows + 2 * widest.0 && c < cols + 2 * widest.1 {
            image[[
                reflect(r as isize - widest.0 as isize, rows),
                reflect(c as isize - widest.1 as isize, cols),
            ]]
        } else {
            0.0
        }
    });
    let image_spectrum = fft::fft2_real(padded.view());
    filters
        .iter()
        .zip(&halves)
        .map(|(params, &(y0, x0))| {
            let kernel = kernel_spectrum(params, size)?;
            let full = fft::ifft2((&image_spectrum * &*kernel).view());
            let window = full.slice(ndarray::s![
                y0 + widest.0..y0 + widest.0 + rows,
                x0 + widest.1..x0 + widest.1 + cols
            ]);
            Ok(window.mapv(|z| z.re.hypot(z.im)))
        })
        .collect()
}

/// The responses by direct summation over the kernel.
pub fn gabor_direct(
    image: ArrayView2<'_, f64>,
    params: &GaborParams,
) -> Result<(Array2<f64>, Array2<f64>)> {
    let (rows, cols) = image.dim();
    if rows == 0 || cols == 0 {
        return Err(Error::InvalidParameter {
            name: "image",
            message: format!("a {rows}x{cols} image has no pixels"),
        });
    }
    let (kr, ki) = gabor_kernel(params)?;
    let (kh, kw) = kr.dim();
    let (hy, hx) = ((kh / 2) as isize, (kw / 2) as isize);
    // Reflect-pad once so the inner loops are plain slices.
    let padded = Array2::from_shape_fn((rows + kh - 1, cols + kw - 1), |(r, c)| {
        image[[
            reflect(r as isize - hy, rows),
            reflect(c as isize - hx, cols),
        ]]
    });
    // Convolution = correlation with the kernel flipped in both axes.
    let flip =
        |k: &Array2<f64>| Array2::from_shape_fn((kh, kw), |(r, c)| k[[kh - 1 - r, kw - 1 - c]]);
    let (fr, fi) = (flip(&kr), flip(&ki));
    let mut real = Array2::zeros((rows, cols));
    let mut imag = Array2::zeros((rows, cols));
    for r in 0..rows {
        for c in 0..cols {
            let (mut sr, mut si) = (0.0, 0.0);
            for dr in 0..kh {
                let window = padded.row(r + dr);
                let (wr, wi) = (fr.row(dr), fi.row(dr));
                for dc in 0..kw {
                    let v = window[c + dc];
                    sr += wr[dc] * v;
                    si += wi[dc] * v;
                }
            }
            real[[r, c]] = sr;
            imag[[r, c]] = si;
        }
    }
    Ok((real, imag))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn design_reference_kernel() {
        // DESIGN §5: f = 0.1, θ = 0 → 35×35 kernel, centre 0.00503596.
        let (real, imag) = gabor_kernel(&GaborParams::new(0.1, 0.0)).expect("kernel");
        assert_eq!(real.dim(), (35, 35));
        assert!(
            (real[[17, 17]] - 0.00503596).abs() < 5e-9,
            "{}",
            real[[17, 17]]
        );
        assert_eq!(imag[[17, 17]], 0.0);
    }

    #[test]
    fn fft_and_direct_routes_agree() {
        let image = Array2::from_shape_fn((33, 29), |(r, c)| ((r * 7 + c * 5) % 11) as f64);
        for (f, theta) in [(0.1, 0.0), (0.3, 1.0), (0.05, 2.0)] {
            let p = GaborParams::new(f, theta);
            let (dr, di) = gabor_direct(image.view(), &p).expect("direct");
            let (fr, fi) = gabor_fft(image.view(), &p).expect("fft");
            let scale = dr.iter().chain(&di).fold(0.0f64, |m, v| m.max(v.abs()));
            for (a, b) in dr.iter().chain(&di).zip(fr.iter().chain(&fi)) {
                assert!((a - b).abs() <= 1e-12 * scale.max(1.0), "f={f}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn bad_frequencies_are_named() {
        for f in [0.0, -0.1, 0.5, 0.7, f64::NAN] {
            let err = gabor_kernel(&GaborParams::new(f, 0.0))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("frequency") && err.contains("(0, 0.5)"),
                "{err}"
            );
        }
        let mut p = GaborParams::new(0.2, 0.0);
        p.bandwidth = 0.0;
        assert!(
            gabor_kernel(&p)
                .unwrap_err()
                .to_string()
                .contains("bandwidth")
        );
    }
}

/// A Gabor filter bank: every frequency × `orientations` angles `kπ/orientations`,
/// features from each response's magnitude `√(re² + im²)`.
#[derive(Debug, Clone, PartialEq)]
pub struct GaborBankParams {
    /// Cycles per pixel, each in (0, 0.5).
    pub frequencies: Vec<f64>,
    pub orientations: usize,
    pub bandwidth: f64,
    /// Per filter: mean and standard deviation of the magnitude.
    pub stats: bool,
    /// Per filter: the magnitude averaged over `pool × pool` pixel blocks (whole blocks
    /// only, row-major); 0 for none.
    pub pool: usize,
}

impl Default for GaborBankParams {
    /// 3 frequencies × 4 orientations, mean and standard deviation per filter.
    fn default() -> Self {
        Self {
            frequencies: vec![0.1, 0.2, 0.3],
            orientations: 4,
            bandwidth: 1.0,
            stats: true,
            pool: 0,
        }
    }
}

impl GaborBankParams {
    pub fn filters(&self) -> Vec<GaborParams> {
        self.frequencies
            .iter()
            .flat_map(|&f| {
                (0..self.orientations).map(move |k| GaborParams {
                    bandwidth: self.bandwidth,
                    ..GaborParams::new(f, k as f64 * PI / self.orientations as f64)
                })
            })
            .collect()
    }

    pub fn validate(&self) -> Result<()> {
        let bad =
            |name: &'static str, message: String| Err(Error::InvalidParameter { name, message });
        if self.frequencies.is_empty() {
            return bad("frequencies", "give at least one frequency".to_owned());
        }
        if self.frequencies.len() > MAX_BANK_FREQUENCIES {
            return bad(
                "frequencies",
                format!(
                    "{} frequencies: at most {MAX_BANK_FREQUENCIES}",
                    self.frequencies.len()
                ),
            );
        }
        if !(1..=MAX_BANK_ORIENTATIONS).contains(&self.orientations) {
            return bad(
                "orientations",
                format!(
                    "{}: must be from 1 to {MAX_BANK_ORIENTATIONS} (1° steps; a one-octave filter spans about 40°)",
                    self.orientations
                ),
            );
        }
        if !self.stats && self.pool == 0 {
            return bad(
                "pool",
                "with stats = false, pool must be at least 1 (no features otherwise)".to_owned(),
            );
        }
        for p in self.filters() {
            p.validate()?;
        }
        Ok(())
    }

    pub fn output_len(&self, rows: usize, cols: usize) -> Result<usize> {
        self.validate()?;
        let pooled = match (rows.checked_div(self.pool), cols.checked_div(self.pool)) {
            // pool = 0: no pooled maps.
            (None, _) | (_, None) => 0,
            (Some(r), Some(c)) if r * c > 0 => r * c,
            _ => {
                return Err(Error::InvalidParameter {
                    name: "pool",
                    message: format!("{} px blocks do not fit a {rows}x{cols} image", self.pool),
                });
            }
        };
        Ok(self.filters().len() * (2 * usize::from(self.stats) + pooled))
    }

    /// The bank's features for one image.
    pub fn extract(&self, image: ArrayView2<'_, f64>) -> Result<Vec<f64>> {
        let (rows, cols) = image.dim();
        let mut out = Vec::with_capacity(self.output_len(rows, cols)?);
        for magnitude in bank_magnitudes(image, &self.filters())? {
            if self.stats {
                let n = magnitude.len() as f64;
                let mean = magnitude.sum() / n;
                let var = magnitude
                    .iter()
                    .map(|v| (v - mean) * (v - mean))
                    .sum::<f64>()
                    / n;
                out.push(mean);
                out.push(var.sqrt());
            }
            if self.pool > 0 {
                let p = self.pool;
                for br in 0..rows / p {
                    for bc in 0..cols / p {
                        let block = magnitude
                            .slice(ndarray::s![br * p..(br + 1) * p, bc * p..(bc + 1) * p]);
                        out.push(block.sum() / (p * p) as f64);
                    }
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod bank_tests {
    use super::*;

    #[test]
    fn shared_spectrum_magnitudes_equal_each_filters_own() {
        // Odd, non-square size; kernels from 7x7 to 51x51 (direct and FFT routes alike).
        let image = Array2::from_shape_fn((37, 29), |(r, c)| {
            (0.3 * r as f64).sin() + (0.17 * (r * c) as f64).cos() + ((r * 7 + c) % 5) as f64
        });
        let filters: Vec<GaborParams> = [(0.07, 0.0), (0.2, 0.7), (0.45, 2.0), (0.11, 1.3)]
            .into_iter()
            .map(|(f, theta)| GaborParams {
                offset: 0.4,
                ..GaborParams::new(f, theta)
            })
            .collect();
        for round in 0..2 {
            // The second round reads the cached kernel spectra.
            let shared = bank_magnitudes(image.view(), &filters).expect("bank");
            for (params, got) in filters.iter().zip(&shared) {
                let (re, im) = gabor(image.view(), params).expect("one filter");
                let expected = ndarray::Zip::from(&re)
                    .and(&im)
                    .map_collect(|a, b| a.hypot(*b));
                let scale = expected.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
                let worst = ndarray::Zip::from(got)
                    .and(&expected)
                    .fold(0.0_f64, |m, a, b| m.max((a - b).abs()));
                assert!(worst <= 1e-12 * scale, "round {round} {params:?}: {worst}");
            }
        }
    }

    #[test]
    fn bank_layout_and_values() {
        let image = Array2::from_shape_fn((32, 32), |(r, c)| ((r / 4 + c / 4) % 2) as f64);
        let bank = GaborBankParams {
            frequencies: vec![0.125, 0.25],
            orientations: 2,
            pool: 8,
            ..Default::default()
        };
        let features = bank.extract(image.view()).expect("extract");
        assert_eq!(features.len(), bank.output_len(32, 32).expect("len"));
        assert_eq!(features.len(), 4 * (2 + 16));
        // First filter's mean equals the mean of its pooled blocks (blocks tile the image).
        let (re, im) = gabor(image.view(), &bank.filters()[0]).expect("response");
        let mean = ndarray::Zip::from(&re)
            .and(&im)
            .map_collect(|a, b| a.hypot(*b))
            .mean()
            .expect("mean");
        assert!((features[0] - mean).abs() < 1e-12);
        let pooled_mean = features[2..18].iter().sum::<f64>() / 16.0;
        assert!((pooled_mean - mean).abs() < 1e-12);
        let err = GaborBankParams {
            frequencies: vec![0.6],
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert!(err.to_string().contains("frequency"), "{err}");
        let err = GaborBankParams {
            pool: 40,
            ..Default::default()
        }
        .output_len(32, 32)
        .unwrap_err();
        assert!(err.to_string().contains("pool"), "{err}");
    }
}
