//! Feature extraction: HOG with scikit-image's parameters and defaults.

use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray2};
use pyo3::prelude::*;
use sarlab_features::{BlockNorm, HogParams};

use crate::error::{Error, Result};

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
    images: numpy::PyReadonlyArray3<'py, f64>,
    orientations: usize,
    pixels_per_cell: (usize, usize),
    cells_per_block: (usize, usize),
    block_norm: &str,
    transform_sqrt: bool,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    use rayon::prelude::*;
    let params = hog_params(
        orientations,
        pixels_per_cell,
        cells_per_block,
        block_norm,
        transform_sqrt,
    )?;
    let stack = images.as_array();
    let (n, rows, cols) = stack.dim();
    let length = params.output_len(rows, cols).map_err(Error::from)?;
    let matrix = py.detach(|| -> Result<ndarray::Array2<f64>> {
        // Each descriptor straight into its row of the output.
        let mut matrix = ndarray::Array2::<f64>::zeros((n, length));
        matrix
            .as_slice_mut()
            .expect("a new matrix is contiguous")
            .par_chunks_mut(length.max(1))
            .enumerate()
            .try_for_each(|(i, row)| -> Result<()> {
                let image = stack.index_axis(ndarray::Axis(0), i);
                crate::error::check_finite(image, &format!("images[{i}]"))?;
                row.copy_from_slice(&sarlab_features::hog(image, &params)?);
                Ok(())
            })?;
        Ok(matrix)
    })?;
    Ok(matrix.into_pyarray(py))
}
