//! 2-D discrete Fourier transforms with numpy's conventions: unnormalised forward,
//! `1/(M·N)` inverse, zero frequency at index 0 (`fftshift` moves it to `(M/2, N/2)`).
//!
//! Real images go through realfft along rows (half the work), complex ones through
//! rustfft. Plans are built once per size and shared by every thread (`plans`), so
//! transforming thousands of chips of one size plans once.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use ndarray::{Array2, ArrayView2, Axis, s};
use num_complex::Complex64;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use rustfft::{Fft, FftPlanner};

/// FFT plans of one length, shared across threads.
struct Plans {
    forward: Arc<dyn Fft<f64>>,
    inverse: Arc<dyn Fft<f64>>,
    real_forward: Arc<dyn RealToComplex<f64>>,
    real_inverse: Arc<dyn ComplexToReal<f64>>,
}

/// The planners and the plans they made, by length.
type PlanCache = (
    FftPlanner<f64>,
    RealFftPlanner<f64>,
    HashMap<usize, Arc<Plans>>,
);

fn plans(len: usize) -> Arc<Plans> {
    static CACHE: OnceLock<Mutex<PlanCache>> = OnceLock::new();
    let cache = CACHE
        .get_or_init(|| Mutex::new((FftPlanner::new(), RealFftPlanner::new(), HashMap::new())));
    // A poisoned lock only means another thread panicked while planning; the cache
    // itself is still consistent (entries are inserted whole).
    let mut guard = cache.lock().unwrap_or_else(|e| e.into_inner());
    let (complex, real, map) = &mut *guard;
    if let Some(p) = map.get(&len) {
        return Arc::clone(p);
    }
    let p = Arc::new(Plans {
        forward: complex.plan_fft_forward(len),
        inverse: complex.plan_fft_inverse(len),
        real_forward: real.plan_fft_forward(len),
        real_inverse: real.plan_fft_inverse(len),
    });
    map.insert(len, Arc::clone(&p));
    p
}

/// Per-thread buffers, reused across calls: a chip's spectrum (133 KB at 128×128) is
/// above the allocator's mmap threshold, so fresh buffers would cost page faults and
/// zeroing on every transform.
#[derive(Default)]
struct Work {
    /// Spectrum in column-major order (`width × rows`), for the column transforms.
    columns: Vec<Complex64>,
    /// Row-major staging for complex row transforms.
    rows: Vec<Complex64>,
    scratch: Vec<Complex64>,
    real_row: Vec<f64>,
    complex_row: Vec<Complex64>,
}

thread_local! {
    static WORK: RefCell<Work> = RefCell::new(Work::default());
}

fn with_work<R>(f: impl FnOnce(&mut Work) -> R) -> R {
    WORK.with(|w| f(&mut w.borrow_mut()))
}

fn resize<T: Default + Clone>(v: &mut Vec<T>, len: usize) {
    if v.len() != len {
        v.clear();
        v.resize(len, T::default());
    }
}

/// Complex FFT of every `len`-long row of `data`, in place.
fn fft_rows(data: &mut [Complex64], len: usize, inverse: bool, scratch: &mut Vec<Complex64>) {
    let p = plans(len);
    let fft = if inverse { &p.inverse } else { &p.forward };
    resize(scratch, fft.get_inplace_scratch_len());
    fft.process_with_scratch(data, scratch);
}

/// Writes the transpose of the row-major `rows × cols` buffer `src` into `dst`.
fn transpose_into(src: &[Complex64], rows: usize, cols: usize, dst: &mut [Complex64]) {
    // Blocked so both sides stay in cache.
    const BLOCK: usize = 16;
    for r0 in (0..rows).step_by(BLOCK) {
        let r1 = (r0 + BLOCK).min(rows);
        for c0 in (0..cols).step_by(BLOCK) {
            let c1 = (c0 + BLOCK).min(cols);
            for r in r0..r1 {
                let row = &src[r * cols + c0..r * cols + c1];
                for (k, v) in row.iter().enumerate() {
                    dst[(c0 + k) * rows + r] = *v;
                }
            }
        }
    }
}

/// Forward transform of a real image, left in `work.columns` as the column-major half
/// spectrum (`(cols/2 + 1) × rows`): row r2c transforms scattered into columns, then
/// column transforms.
fn forward_half_columns(image: ArrayView2<'_, f64>, work: &mut Work) {
    let (rows, cols) = image.dim();
    let half = cols / 2 + 1;
    let p = plans(cols);
    resize(&mut work.real_row, cols);
    // A block of transformed rows, moved into the columns together so that the
    // column-major writes come in contiguous runs.
    resize(&mut work.complex_row, ROW_BLOCK * half);
    resize(&mut work.columns, rows * half);
    let mut scratch = std::mem::take(&mut work.scratch);
    resize(&mut scratch, p.real_forward.get_scratch_len());
    for r0 in (0..rows).step_by(ROW_BLOCK) {
        let r1 = (r0 + ROW_BLOCK).min(rows);
        for r in r0..r1 {
            let row = image.row(r);
            match row.as_slice() {
                Some(contiguous) => work.real_row.copy_from_slice(contiguous),
                None => work.real_row.iter_mut().zip(row).for_each(|(d, s)| *d = *s),
            }
            let k = r - r0;
            p.real_forward
                .process_with_scratch(
                    &mut work.real_row,
                    &mut work.complex_row[k * half..(k + 1) * half],
                    &mut scratch,
                )
                .expect("buffer lengths match the plan");
        }
        for c in 0..half {
            let column = &mut work.columns[c * rows + r0..c * rows + r1];
            for (k, dst) in column.iter_mut().enumerate() {
                *dst = work.complex_row[k * half + c];
            }
        }
    }
    fft_rows(&mut work.columns, rows, false, &mut scratch);
    work.scratch = scratch;
}

/// Rows transformed together between the row and the column passes.
const ROW_BLOCK: usize = 16;

/// Inverse of [`forward_half_columns`]: column inverse transforms of `work.columns`,
/// then per-row c2r transforms, scaled by `1/(rows·cols)`.
fn inverse_half_columns(work: &mut Work, rows: usize, cols: usize) -> Array2<f64> {
    let half = cols / 2 + 1;
    let mut scratch = std::mem::take(&mut work.scratch);
    fft_rows(&mut work.columns, rows, true, &mut scratch);
    let p = plans(cols);
    resize(&mut scratch, p.real_inverse.get_scratch_len());
    resize(&mut work.real_row, cols);
    resize(&mut work.complex_row, ROW_BLOCK * half);
    let scale = 1.0 / (rows * cols) as f64;
    let mut out = Array2::<f64>::zeros((rows, cols));
    for r0 in (0..rows).step_by(ROW_BLOCK) {
        let r1 = (r0 + ROW_BLOCK).min(rows);
        for c in 0..half {
            let column = &work.columns[c * rows + r0..c * rows + r1];
            for (k, v) in column.iter().enumerate() {
                work.complex_row[k * half + c] = *v;
            }
        }
        for r in r0..r1 {
            let k = r - r0;
            let row = &mut work.complex_row[k * half..(k + 1) * half];
            // realfft requires exactly real DC and Nyquist bins; numpy drops their
            // imaginary parts too.
            row[0].im = 0.0;
            if cols.is_multiple_of(2) {
                row[half - 1].im = 0.0;
            }
            p.real_inverse
                .process_with_scratch(row, &mut work.real_row, &mut scratch)
                .expect("buffer lengths match the plan");
            let mut out_row = out.row_mut(r);
            match out_row.as_slice_mut() {
                Some(contiguous) => contiguous
                    .iter_mut()
                    .zip(&work.real_row)
                    .for_each(|(d, s)| *d = s * scale),
                None => out_row
                    .iter_mut()
                    .zip(&work.real_row)
                    .for_each(|(d, s)| *d = s * scale),
            }
        }
    }
    work.scratch = scratch;
    out
}

/// Half spectrum of a real image: `rows × (cols/2 + 1)`, as `numpy.fft.rfft2`.
pub fn rfft2(image: ArrayView2<'_, f64>) -> Array2<Complex64> {
    let (rows, cols) = image.dim();
    let half = cols / 2 + 1;
    with_work(|work| {
        forward_half_columns(image, work);
        let mut out = vec![Complex64::default(); rows * half];
        transpose_into(&work.columns, half, rows, &mut out);
        Array2::from_shape_vec((rows, half), out).expect("length is rows × half")
    })
}

/// Inverse of [`rfft2`]: the real image of width `cols` whose half spectrum is
/// `half_spectrum` (normalised by `1/(rows·cols)`, as `numpy.fft.irfft2`). Only the
/// Hermitian part of the input is used, as with numpy.
pub fn irfft2(half_spectrum: ArrayView2<'_, Complex64>, cols: usize) -> Array2<f64> {
    let (rows, half) = half_spectrum.dim();
    assert_eq!(half, cols / 2 + 1, "half spectrum width must be cols/2 + 1");
    with_work(|work| {
        resize(&mut work.columns, rows * half);
        for ((r, c), v) in half_spectrum.indexed_iter() {
            work.columns[c * rows + r] = *v;
        }
        inverse_half_columns(work, rows, cols)
    })
}

/// Multiplies a real image's half spectrum by `mask_columns` (column-major, as
/// `(cols/2 + 1) × rows`) and transforms back: a frequency filter with no transposes.
pub(crate) fn filter_real(image: ArrayView2<'_, f64>, mask_columns: &[f64]) -> Array2<f64> {
    let (rows, cols) = image.dim();
    with_work(|work| {
        forward_half_columns(image, work);
        for (z, m) in work.columns.iter_mut().zip(mask_columns) {
            *z *= *m;
        }
        inverse_half_columns(work, rows, cols)
    })
}

/// Full spectrum of a real image, identical to `numpy.fft.fft2` (computed from the
/// half spectrum by Hermitian symmetry).
pub fn fft2_real(image: ArrayView2<'_, f64>) -> Array2<Complex64> {
    let (rows, cols) = image.dim();
    let half = cols / 2 + 1;
    with_work(|work| {
        forward_half_columns(image, work);
        let mut out = vec![Complex64::default(); rows * cols];
        for r in 0..rows {
            let mirror = (rows - r) % rows;
            let row = &mut out[r * cols..(r + 1) * cols];
            for (c, v) in row.iter_mut().enumerate() {
                *v = if c < half {
                    work.columns[c * rows + r]
                } else {
                    work.columns[(cols - c) * rows + mirror].conj()
                };
            }
        }
        Array2::from_shape_vec((rows, cols), out).expect("length is rows × cols")
    })
}

/// Full spectrum of a complex image (`numpy.fft.fft2`).
pub fn fft2(image: ArrayView2<'_, Complex64>) -> Array2<Complex64> {
    transform(image, false, 1.0)
}

/// Inverse transform with `1/(rows·cols)` normalisation (`numpy.fft.ifft2`).
pub fn ifft2(spectrum: ArrayView2<'_, Complex64>) -> Array2<Complex64> {
    let scale = 1.0 / spectrum.len().max(1) as f64;
    transform(spectrum, true, scale)
}

fn transform(image: ArrayView2<'_, Complex64>, inverse: bool, scale: f64) -> Array2<Complex64> {
    let (rows, cols) = image.dim();
    with_work(|work| {
        let mut scratch = std::mem::take(&mut work.scratch);
        resize(&mut work.rows, rows * cols);
        for (dst, src) in work.rows.iter_mut().zip(image.iter()) {
            *dst = *src;
        }
        fft_rows(&mut work.rows, cols, inverse, &mut scratch);
        resize(&mut work.columns, rows * cols);
        transpose_into(&work.rows, rows, cols, &mut work.columns);
        fft_rows(&mut work.columns, rows, inverse, &mut scratch);
        work.scratch = scratch;
        let mut out = vec![Complex64::default(); rows * cols];
        transpose_into(&work.columns, cols, rows, &mut out);
        if scale != 1.0 {
            out.iter_mut().for_each(|z| *z *= scale);
        }
        Array2::from_shape_vec((rows, cols), out).expect("length is rows × cols")
    })
}

/// Moves the zero frequency to the centre, `(rows/2, cols/2)`, as `numpy.fft.fftshift`
/// (correct for odd sizes).
pub fn fftshift<T: Clone>(a: ArrayView2<'_, T>) -> Array2<T> {
    let (rows, cols) = a.dim();
    roll(a, rows / 2, cols / 2)
}

/// Inverse of [`fftshift`] (`numpy.fft.ifftshift`; differs from it for odd sizes).
pub fn ifftshift<T: Clone>(a: ArrayView2<'_, T>) -> Array2<T> {
    let (rows, cols) = a.dim();
    roll(a, rows - rows / 2, cols - cols / 2)
}

/// `numpy.roll` over both axes: element (r, c) moves to ((r+dr)%rows, (c+dc)%cols).
fn roll<T: Clone>(a: ArrayView2<'_, T>, dr: usize, dc: usize) -> Array2<T> {
    let (rows, cols) = a.dim();
    if rows == 0 || cols == 0 {
        return a.to_owned();
    }
    let (dr, dc) = (dr % rows, dc % cols);
    // The last `dr` rows move to the top, then the last `dc` columns to the left: two
    // block copies instead of two remainders per element.
    let rolled_rows = ndarray::concatenate(
        Axis(0),
        &[a.slice(s![rows - dr.., ..]), a.slice(s![..rows - dr, ..])],
    );
    let rolled = rolled_rows.and_then(|r| {
        ndarray::concatenate(
            Axis(1),
            &[r.slice(s![.., cols - dc..]), r.slice(s![.., ..cols - dc])],
        )
    });
    // The blocks always fit together; should they not, the element-wise roll.
    rolled.unwrap_or_else(|_| {
        Array2::from_shape_fn((rows, cols), |(r, c)| {
            a[[(r + rows - dr) % rows, (c + cols - dc) % cols]].clone()
        })
    })
}

/// `ln(1 + |F|)`: the log-magnitude spectrum shown in figures.
pub fn log_magnitude(spectrum: ArrayView2<'_, Complex64>) -> Array2<f64> {
    spectrum.mapv(|z| z.norm().ln_1p())
}

/// `arg F` in `(−π, π]`.
pub fn phase(spectrum: ArrayView2<'_, Complex64>) -> Array2<f64> {
    spectrum.mapv(|z| z.arg())
}

/// Smallest size ≥ `n` whose prime factors are 2, 3 and 5 only: FFTs of such sizes are
/// fast (158 = 2·79 is not; 160 is).
pub fn next_fast_size(n: usize) -> usize {
    (n.max(1)..)
        .find(|&m| {
            let mut k = m;
            for p in [2, 3, 5] {
                while k % p == 0 {
                    k /= p;
                }
            }
            k == 1
        })
        .expect("5-smooth numbers are unbounded")
}

/// `image` zero-padded at the bottom and right to `rows × cols` (no smaller than it).
pub fn zero_pad(image: ArrayView2<'_, f64>, rows: usize, cols: usize) -> Array2<f64> {
    let (r, c) = image.dim();
    let mut out = Array2::zeros((rows.max(r), cols.max(c)));
    out.slice_mut(ndarray::s![..r, ..c]).assign(&image);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Direct O(N²M²) DFT, the definition.
    fn dft(image: &Array2<Complex64>) -> Array2<Complex64> {
        let (m, n) = image.dim();
        Array2::from_shape_fn((m, n), |(k, l)| {
            let mut sum = Complex64::default();
            for ((r, c), v) in image.indexed_iter() {
                let angle = -2.0
                    * std::f64::consts::PI
                    * ((k * r) as f64 / m as f64 + (l * c) as f64 / n as f64);
                sum += v * Complex64::from_polar(1.0, angle);
            }
            sum
        })
    }

    fn image(rows: usize, cols: usize) -> Array2<f64> {
        Array2::from_shape_fn((rows, cols), |(r, c)| {
            ((r * 7 + c * 3) % 11) as f64 - 0.3 * r as f64
        })
    }

    #[test]
    fn real_and_complex_paths_match_the_definition() {
        for (rows, cols) in [(1, 1), (4, 6), (5, 7), (6, 5), (9, 9), (2, 3)] {
            let x = image(rows, cols);
            let expected = dft(&x.mapv(|v| Complex64::new(v, 0.0)));
            let via_real = fft2_real(x.view());
            let via_complex = fft2(x.mapv(|v| Complex64::new(v, 0.0)).view());
            for ((a, b), e) in via_real.iter().zip(&via_complex).zip(&expected) {
                assert!(
                    (a - e).norm() < 1e-9 && (b - e).norm() < 1e-9,
                    "{rows}x{cols}"
                );
            }
        }
    }

    #[test]
    fn shifts_match_numpy_for_odd_and_even_sizes() {
        // numpy.fft.fftshift(np.arange(5)) == [3, 4, 0, 1, 2]; ifftshift == [2, 3, 4, 0, 1]
        let a = Array2::from_shape_fn((1, 5), |(_, c)| c);
        assert_eq!(fftshift(a.view()).row(0).to_vec(), [3, 4, 0, 1, 2]);
        assert_eq!(ifftshift(a.view()).row(0).to_vec(), [2, 3, 4, 0, 1]);
        let b = Array2::from_shape_fn((4, 1), |(r, _)| r);
        assert_eq!(fftshift(b.view()).column(0).to_vec(), [2, 3, 0, 1]);
        for (rows, cols) in [(5, 6), (7, 7), (4, 9)] {
            let x = Array2::from_shape_fn((rows, cols), |(r, c)| r * 100 + c);
            assert_eq!(ifftshift(fftshift(x.view()).view()), x);
            // The zero frequency lands at (rows/2, cols/2).
            assert_eq!(fftshift(x.view())[[rows / 2, cols / 2]], 0);
        }
    }

    #[test]
    fn roll_moves_every_element_where_numpy_roll_does() {
        for rows in 1..7 {
            for cols in 1..7 {
                let whole = Array2::from_shape_fn((rows * 2, cols), |(r, c)| r * 100 + c);
                // A strided view (every other row), as callers may pass.
                let x = whole.slice(s![..;2, ..]);
                for dr in 0..rows + 2 {
                    for dc in 0..cols + 2 {
                        let rolled = roll(x, dr, dc);
                        for ((r, c), v) in x.indexed_iter() {
                            assert_eq!(rolled[[(r + dr) % rows, (c + dc) % cols]], *v);
                        }
                    }
                }
            }
        }
        assert_eq!(roll(Array2::<u8>::zeros((0, 3)).view(), 1, 1).dim(), (0, 3));
    }

    #[test]
    fn fast_sizes() {
        assert_eq!(next_fast_size(158), 160);
        assert_eq!(next_fast_size(128), 128);
        assert_eq!(next_fast_size(193), 200);
        assert_eq!(next_fast_size(0), 1);
        let padded = zero_pad(image(3, 2).view(), 4, 5);
        assert_eq!(padded.dim(), (4, 5));
        assert_eq!(padded[[3, 4]], 0.0);
        assert_eq!(padded[[2, 1]], image(3, 2)[[2, 1]]);
    }

    proptest! {
        #[test]
        fn round_trips_and_parseval(rows in 1usize..20, cols in 1usize..20, seed in any::<u64>()) {
            let mut state = seed | 1;
            let x = Array2::from_shape_simple_fn((rows, cols), || {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                (state % 2001) as f64 / 1000.0 - 1.0
            });
            let spectrum = fft2_real(x.view());
            prop_assert_eq!(spectrum.dim(), (rows, cols));
            let back = ifft2(spectrum.view());
            for (a, b) in back.iter().zip(&x) {
                prop_assert!((a.re - b).abs() < 1e-10 && a.im.abs() < 1e-10);
            }
            let half = rfft2(x.view());
            let back_real = irfft2(half.view(), cols);
            prop_assert_eq!(back_real.dim(), (rows, cols));
            for (a, b) in back_real.iter().zip(&x) {
                prop_assert!((a - b).abs() < 1e-10);
            }
            // Parseval: Σ|x|² = Σ|X|² / (M·N).
            let energy: f64 = x.iter().map(|v| v * v).sum();
            let spectral: f64 = spectrum.iter().map(|z| z.norm_sqr()).sum::<f64>() / (rows * cols) as f64;
            prop_assert!((energy - spectral).abs() <= 1e-9 * energy.max(1.0));
        }
    }
}
