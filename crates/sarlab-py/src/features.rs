//! Feature extraction: HOG with scikit-image's parameters and defaults, Gabor kernels,
//! responses and banks (scikit-image's `gabor_kernel` / `gabor`), spectral features —
//! one image, or a stack of them in parallel.

use ndarray::{Array2, ArrayView2, ArrayView3, Axis};
use num_complex::Complex64;
use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray2, PyReadonlyArray3};
use pyo3::prelude::*;
use rayon::prelude::*;
use sarlab_features::gabor::{GaborBankParams, GaborParams};
use sarlab_features::spectral::SpectralParams;
use sarlab_features::{BlockNorm, HogParams};

use crate::error::{Error, Result};

/// Feature matrices (with their working memory) above this size are checked against
/// the memory available before they are allocated.
const CHECKED_OUTPUT_BYTES: f64 = 64e6;

/// The `(n, length)` features of a stack through `extract`, `length` from the
/// parameters' `output_len` for the stack's image size, computed without the GIL.
fn stack_matrix<'py>(
    py: Python<'py>,
    images: PyReadonlyArray3<'py, f64>,
    output_len: impl FnOnce(usize, usize) -> sarlab_features::Result<usize>,
    extract: impl Fn(ArrayView2<'_, f64>) -> sarlab_features::Result<Vec<f64>> + Sync + Send,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let stack = images.as_array();
    let (_, rows, cols) = stack.dim();
    let length = output_len(rows, cols).map_err(Error::from)?;
    let matrix = py.detach(|| stack_features(stack, length, extract))?;
    Ok(matrix.into_pyarray(py))
}

/// Every image of a stack through `extract`, each vector written straight into its row
/// of an `(n, length)` matrix, the images in parallel; a non-finite sample is an error
/// naming its image, and a matrix larger than the memory available an error saying so.
fn stack_features(
    stack: ArrayView3<'_, f64>,
    length: usize,
    extract: impl Fn(ArrayView2<'_, f64>) -> sarlab_features::Result<Vec<f64>> + Sync,
) -> Result<Array2<f64>> {
    let n = stack.len_of(Axis(0));
    let vector = length as f64 * std::mem::size_of::<f64>() as f64;
    // Each thread also holds an image's responses, its vector and a copy in flight.
    let working = rayon::current_num_threads().min(n) as f64 * 3.0 * vector;
    let bytes = n as f64 * vector + working;
    // Asking the system what is available costs more than a small chip's features.
    if bytes > CHECKED_OUTPUT_BYTES {
        sarlab_study::memory::require(bytes, || {
            format!("a feature matrix of {n} images × {length} features")
        })?;
    }
    let mut matrix = Array2::<f64>::zeros((n, length));
    if length == 0 {
        return Ok(matrix);
    }
    matrix
        .as_slice_mut()
        .expect("a new matrix is contiguous")
        .par_chunks_mut(length)
        .enumerate()
        .try_for_each(|(i, row)| -> Result<()> {
            let image = stack.index_axis(Axis(0), i);
            crate::error::check_finite(image, &format!("images[{i}]"))?;
            row.copy_from_slice(&extract(image)?);
            Ok(())
        })?;
    Ok(matrix)
}

fn hog_params(
    orientations: usize,
    pixels_per_cell: (usize, usize),
    cells_per_block: (usize, usize),
    block_norm: &str,
    transform_sqrt: bool,
) -> Result<HogParams> {
    let params = HogParams {
        orientations,
        pixels_per_cell,
        cells_per_block,
        block_norm: block_norm.parse::<BlockNorm>()?,
        transform_sqrt,
    };
    params.validate()?;
    Ok(params)
}

/// HOG descriptor of a 2-D float64 image as `skimage.feature.hog(image, …,
/// feature_vector=True)` computes it (the same bits), and with `visualize` the HOG
/// image too.
#[pyfunction]
#[pyo3(signature = (image, orientations = 9, pixels_per_cell = (8, 8), cells_per_block = (3, 3), block_norm = "L2-Hys", transform_sqrt = false, visualize = false))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
pub fn hog<'py>(
    py: Python<'py>,
    image: PyReadonlyArray2<'py, f64>,
    orientations: usize,
    pixels_per_cell: (usize, usize),
    cells_per_block: (usize, usize),
    block_norm: &str,
    transform_sqrt: bool,
    visualize: bool,
) -> PyResult<(Bound<'py, PyArray1<f64>>, Option<Bound<'py, PyArray2<f64>>>)> {
    let params = hog_params(
        orientations,
        pixels_per_cell,
        cells_per_block,
        block_norm,
        transform_sqrt,
    )?;
    let view = image.as_array();
    let (features, picture) = py.detach(|| -> Result<_> {
        crate::error::check_finite(view, "image")?;
        let features = sarlab_features::hog(view, &params)?;
        let picture = if visualize {
            Some(sarlab_features::hog_image(view, &params)?)
        } else {
            None
        };
        Ok((features, picture))
    })?;
    Ok((
        features.into_pyarray(py),
        picture.map(|p| p.into_pyarray(py)),
    ))
}

/// HOG descriptors of a stack of images `(n, rows, cols)` as one `(n, length)` matrix,
/// the images in parallel.
#[pyfunction]
#[pyo3(signature = (images, orientations = 9, pixels_per_cell = (8, 8), cells_per_block = (3, 3), block_norm = "L2-Hys", transform_sqrt = false))]
pub fn hog_batch<'py>(
    py: Python<'py>,
    images: PyReadonlyArray3<'py, f64>,
    orientations: usize,
    pixels_per_cell: (usize, usize),
    cells_per_block: (usize, usize),
    block_norm: &str,
    transform_sqrt: bool,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let params = hog_params(
        orientations,
        pixels_per_cell,
        cells_per_block,
        block_norm,
        transform_sqrt,
    )?;
    stack_matrix(
        py,
        images,
        |rows, cols| params.output_len(rows, cols),
        |image| sarlab_features::hog(image, &params),
    )
}

/// One Gabor filter's parameters, named and defaulted as `skimage.filters.gabor_kernel`'s.
fn gabor_params(
    frequency: f64,
    theta: f64,
    bandwidth: f64,
    sigma_x: Option<f64>,
    sigma_y: Option<f64>,
    n_stds: f64,
    offset: f64,
) -> Result<GaborParams> {
    let params = GaborParams {
        frequency,
        theta,
        bandwidth,
        sigma_x,
        sigma_y,
        n_stds,
        offset,
    };
    params.validate()?;
    Ok(params)
}

/// `skimage.filters.gabor_kernel(frequency, theta, …)`: the complex kernel.
#[pyfunction]
#[pyo3(signature = (frequency, theta = 0.0, bandwidth = 1.0, sigma_x = None, sigma_y = None, n_stds = 3.0, offset = 0.0))]
#[allow(clippy::too_many_arguments)]
pub fn gabor_kernel<'py>(
    py: Python<'py>,
    frequency: f64,
    theta: f64,
    bandwidth: f64,
    sigma_x: Option<f64>,
    sigma_y: Option<f64>,
    n_stds: f64,
    offset: f64,
) -> PyResult<Bound<'py, PyArray2<Complex64>>> {
    let params = gabor_params(
        frequency, theta, bandwidth, sigma_x, sigma_y, n_stds, offset,
    )?;
    let (re, im) = sarlab_features::gabor::gabor_kernel(&params).map_err(Error::from)?;
    let kernel = ndarray::Zip::from(&re)
        .and(&im)
        .map_collect(|&a, &b| Complex64::new(a, b));
    Ok(kernel.into_pyarray(py))
}

/// `skimage.filters.gabor(image, frequency, …, mode="reflect")`: the real and imaginary
/// responses of a float64 image.
#[pyfunction]
#[pyo3(signature = (image, frequency, theta = 0.0, bandwidth = 1.0, sigma_x = None, sigma_y = None, n_stds = 3.0, offset = 0.0))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
pub fn gabor<'py>(
    py: Python<'py>,
    image: PyReadonlyArray2<'py, f64>,
    frequency: f64,
    theta: f64,
    bandwidth: f64,
    sigma_x: Option<f64>,
    sigma_y: Option<f64>,
    n_stds: f64,
    offset: f64,
) -> PyResult<(Bound<'py, PyArray2<f64>>, Bound<'py, PyArray2<f64>>)> {
    let params = gabor_params(
        frequency, theta, bandwidth, sigma_x, sigma_y, n_stds, offset,
    )?;
    let view = image.as_array();
    let (re, im) = py.detach(|| -> Result<_> {
        crate::error::check_finite(view, "image")?;
        Ok(sarlab_features::gabor::gabor(view, &params)?)
    })?;
    Ok((re.into_pyarray(py), im.into_pyarray(py)))
}

/// The features of a Gabor bank (a study's `method = "gabor"`) for each image of a
/// stack `(n, rows, cols)`: per filter (frequency-major, then the angles `kπ/orientations`)
/// the mean and standard deviation of `|response|` when `stats`, then the magnitude
/// averaged over whole `pool × pool` blocks when `pool > 0`.
#[pyfunction]
#[pyo3(signature = (images, frequencies, orientations = 4, bandwidth = 1.0, stats = true, pool = 0))]
pub fn gabor_bank<'py>(
    py: Python<'py>,
    images: PyReadonlyArray3<'py, f64>,
    frequencies: Vec<f64>,
    orientations: usize,
    bandwidth: f64,
    stats: bool,
    pool: usize,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let params = GaborBankParams {
        frequencies,
        orientations,
        bandwidth,
        stats,
        pool,
    };
    stack_matrix(
        py,
        images,
        |rows, cols| params.output_len(rows, cols),
        |image| params.extract(image),
    )
}

/// Spectral features (a study's `method = "spectral"`) of each image of a stack
/// `(n, rows, cols)`: the centred `block × block` values of `log(1 + |F|)`, then `rings`
/// ring and `wedges` wedge energies of the centred spectrum (fractions of the total
/// energy when `normalise`).
#[pyfunction]
#[pyo3(signature = (images, block = 24, rings = 0, wedges = 0, normalise = true))]
pub fn spectral<'py>(
    py: Python<'py>,
    images: PyReadonlyArray3<'py, f64>,
    block: usize,
    rings: usize,
    wedges: usize,
    normalise: bool,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let params = SpectralParams {
        block,
        rings,
        wedges,
        normalise,
    };
    stack_matrix(
        py,
        images,
        |rows, cols| params.output_len(rows, cols),
        |image| params.extract(image),
    )
}
