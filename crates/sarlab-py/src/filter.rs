//! Filtering: numpy's 2-D FFT and shifts, frequency masks and filters by their spec
//! strings, and the speckle filters — the same functions the study engine runs.

use num_complex::Complex64;
use numpy::{IntoPyArray, PyArray2, PyReadonlyArray2};
use pyo3::prelude::*;
use sarlab_filter::fft;
use sarlab_filter::frequency::FrequencyFilter;
use sarlab_filter::spatial::SpeckleFilter;

use crate::error::Result;

/// `numpy.fft.fft2` of a real float64 image.
#[pyfunction]
pub fn fft2<'py>(
    py: Python<'py>,
    image: PyReadonlyArray2<'py, f64>,
) -> Bound<'py, PyArray2<Complex64>> {
    let view = image.as_array();
    py.detach(|| fft::fft2_real(view)).into_pyarray(py)
}

/// `numpy.fft.fft2` of a complex128 array.
#[pyfunction]
pub fn fft2_complex<'py>(
    py: Python<'py>,
    values: PyReadonlyArray2<'py, Complex64>,
) -> Bound<'py, PyArray2<Complex64>> {
    let view = values.as_array();
    py.detach(|| fft::fft2(view)).into_pyarray(py)
}

/// `numpy.fft.ifft2` of a complex128 spectrum.
#[pyfunction]
pub fn ifft2<'py>(
    py: Python<'py>,
    spectrum: PyReadonlyArray2<'py, Complex64>,
) -> Bound<'py, PyArray2<Complex64>> {
    let view = spectrum.as_array();
    py.detach(|| fft::ifft2(view)).into_pyarray(py)
}

/// `numpy.fft.fftshift` / `ifftshift` (both axes) of a float64 array.
#[pyfunction]
#[pyo3(signature = (values, inverse = false))]
pub fn fftshift_real<'py>(
    py: Python<'py>,
    values: PyReadonlyArray2<'py, f64>,
    inverse: bool,
) -> Bound<'py, PyArray2<f64>> {
    let view = values.as_array();
    let shifted = if inverse {
        fft::ifftshift(view)
    } else {
        fft::fftshift(view)
    };
    shifted.into_pyarray(py)
}

/// `numpy.fft.fftshift` / `ifftshift` (both axes) of a complex128 array.
#[pyfunction]
#[pyo3(signature = (values, inverse = false))]
pub fn fftshift_complex<'py>(
    py: Python<'py>,
    values: PyReadonlyArray2<'py, Complex64>,
    inverse: bool,
) -> Bound<'py, PyArray2<Complex64>> {
    let view = values.as_array();
    let shifted = if inverse {
        fft::ifftshift(view)
    } else {
        fft::fftshift(view)
    };
    shifted.into_pyarray(py)
}

/// The mask of a frequency filter spec (`butterworth:lowpass:cutoff=30:order=2`) on
/// the centred spectrum of a `rows × cols` image (zero frequency at `(rows//2, cols//2)`).
#[pyfunction]
pub fn frequency_mask<'py>(
    py: Python<'py>,
    spec: &str,
    rows: usize,
    cols: usize,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let filter: FrequencyFilter = spec.parse().map_err(crate::error::Error::from)?;
    let mask = py
        .detach(|| filter.mask(rows, cols))
        .map_err(crate::error::Error::from)?;
    Ok(mask.into_pyarray(py))
}

/// Whether `spec` names a frequency filter (`PROFILE:BAND:…`, its second part a band)
/// rather than a speckle filter (`NAME:key=value:…`).
fn is_frequency_spec(spec: &str) -> bool {
    spec.split(':')
        .nth(1)
        .is_some_and(|band| !band.contains('='))
}

fn filtered(spec: &str, image: ndarray::ArrayView2<'_, f64>) -> Result<ndarray::Array2<f64>> {
    crate::error::check_finite(image, "image")?;
    if is_frequency_spec(spec) {
        let filter: FrequencyFilter = spec.parse()?;
        Ok(filter.apply(image)?)
    } else {
        let filter: SpeckleFilter = spec.parse()?;
        Ok(filter.apply(image)?)
    }
}

/// A float64 image filtered by a spec, as a study's `[[filters]]` entry does it: a
/// frequency filter (`butterworth:lowpass:cutoff=30:order=2`, `ideal:notchreject:…`)
/// or a speckle filter (`lee:window=7:looks=1`, `median:window=3`, `frost:…`, …).
#[pyfunction]
pub fn apply_filter<'py>(
    py: Python<'py>,
    image: PyReadonlyArray2<'py, f64>,
    spec: &str,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let view = image.as_array();
    let out = py.detach(|| filtered(spec, view))?;
    Ok(out.into_pyarray(py))
}
