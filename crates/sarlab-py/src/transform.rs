//! PCA (the study engine's, matching scikit-learn's `PCA`) behind `sarlab.PCA`: a fit
//! returns the fitted arrays, which the Python estimator keeps (so it pickles as plain
//! numpy arrays), and a transform takes them back.

use ndarray::Array1;
use numpy::{IntoPyArray, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use sarlab_transform::pca::{Pca, PcaParams, PcaSolver};

use crate::error::{Error, Result};

fn check_finite_rows(x: ndarray::ArrayView2<'_, f64>) -> Result<()> {
    crate::error::check_finite(x, "X")
}

/// Fits `n_components` principal axes to the rows of `x`: `solver` `"exact"`
/// (scikit-learn's `"full"` / `"covariance_eigh"` results) or `"randomized"` (its
/// randomized settings, the sketch drawn from `seed`). Returns a dict of `mean`,
/// `components` (`n_components × n_features`, scikit-learn's sign convention),
/// `explained_variance` and `explained_variance_ratio`.
#[pyfunction]
#[pyo3(signature = (x, n_components, whiten = false, solver = "exact", seed = 0))]
pub fn pca_fit<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f64>,
    n_components: usize,
    whiten: bool,
    solver: &str,
    seed: u64,
) -> PyResult<Bound<'py, PyDict>> {
    let solver = match solver {
        "exact" => PcaSolver::Exact,
        "randomized" => PcaSolver::Randomized { seed },
        other => {
            return Err(Error::Argument(format!(
                "solver: expected \"exact\" or \"randomized\", got {other:?}"
            ))
            .into());
        }
    };
    let params = PcaParams {
        components: n_components,
        whiten,
        solver,
    };
    let view = x.as_array();
    let pca = py.detach(|| -> Result<Pca> {
        check_finite_rows(view)?;
        Ok(Pca::fit_with(view, &params)?)
    })?;
    let fitted = PyDict::new(py);
    fitted.set_item("mean", pca.mean.into_pyarray(py))?;
    fitted.set_item("components", pca.components.into_pyarray(py))?;
    fitted.set_item(
        "explained_variance",
        pca.explained_variance.into_pyarray(py),
    )?;
    fitted.set_item(
        "explained_variance_ratio",
        pca.explained_variance_ratio.into_pyarray(py),
    )?;
    Ok(fitted)
}

/// The rows of `x` projected on fitted axes: `(x − mean) · componentsᵀ`, each column
/// divided by `√explained_variance` when `whiten`.
#[pyfunction]
pub fn pca_transform<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f64>,
    mean: PyReadonlyArray1<'py, f64>,
    components: PyReadonlyArray2<'py, f64>,
    explained_variance: PyReadonlyArray1<'py, f64>,
    whiten: bool,
) -> PyResult<Bound<'py, numpy::PyArray2<f64>>> {
    let (k, d) = components.as_array().dim();
    if mean.len()? != d || explained_variance.len()? != k {
        return Err(Error::Argument(format!(
            "a fitted PCA of {k} components × {d} features needs a mean of {d} values and {k} variances, got {} and {}",
            mean.len()?,
            explained_variance.len()?
        ))
        .into());
    }
    let pca = Pca {
        mean: mean.as_array().to_owned(),
        components: components.as_array().to_owned(),
        explained_variance: explained_variance.as_array().to_owned(),
        // Not used by a projection.
        explained_variance_ratio: Array1::zeros(k),
        whiten,
    };
    let view = x.as_array();
    let projected = py.detach(|| -> Result<_> {
        check_finite_rows(view)?;
        Ok(pca.transform(view)?)
    })?;
    Ok(projected.into_pyarray(py))
}
