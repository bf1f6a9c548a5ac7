//! The C-SVC (libsvm's, exactly) behind `sarlab.SVC`, and stratified k-fold grid
//! search behind `sarlab.grid_search`. Labels cross this boundary as class indices
//! `0..n_classes`; the Python side keeps the class values (`classes_`).

use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use sarlab_study::memory::MemoryBudget;
use sarlab_svm::{
    ClassWeight, CvSettings, FeatureTransform, Gamma, Kernel, KernelMemory, METRIC_NAMES, Svc,
    SvcModel, SvmGrid, SvmParams, grid_search as search,
};

use crate::error::{Error, Result};

/// γ from Python: `"scale"`, `"auto"` or a positive number.
fn gamma_of(value: &Bound<'_, PyAny>) -> PyResult<Gamma> {
    if let Ok(text) = value.extract::<String>() {
        return Ok(text.parse::<Gamma>().map_err(Error::from)?);
    }
    let number: f64 = value.extract().map_err(|_| {
        Error::Argument(format!(
            "gamma: expected \"scale\", \"auto\" or a positive number, got {value}"
        ))
    })?;
    Ok(number.to_string().parse::<Gamma>().map_err(Error::from)?)
}

/// Class weights from Python: None, `"balanced"`, or one weight per class index.
fn class_weight_of(value: Option<&Bound<'_, PyAny>>) -> PyResult<ClassWeight> {
    let Some(value) = value.filter(|v| !v.is_none()) else {
        return Ok(ClassWeight::Uniform);
    };
    if let Ok(text) = value.extract::<String>() {
        return match text.as_str() {
            "balanced" => Ok(ClassWeight::Balanced),
            other => Err(Error::Argument(format!(
                "class_weight: expected None, \"balanced\" or a weight per class, got {other:?}"
            ))
            .into()),
        };
    }
    let weights: Vec<f64> = value.extract().map_err(|_| {
        Error::Argument(format!(
            "class_weight: expected None, \"balanced\" or a weight per class, got {value}"
        ))
    })?;
    Ok(ClassWeight::Explicit(weights))
}

/// Labels as class indices, checked against `n_classes`.
fn labels_of(y: &PyReadonlyArray1<'_, i64>, n_classes: usize) -> Result<Vec<usize>> {
    y.as_array()
        .iter()
        .enumerate()
        .map(|(i, &label)| {
            usize::try_from(label)
                .ok()
                .filter(|&l| l < n_classes)
                .ok_or_else(|| {
                    Error::Argument(format!(
                        "label {label} of sample {i} is not a class index below {n_classes}"
                    ))
                })
        })
        .collect()
}

fn memory_of(budget: Option<&str>) -> Result<KernelMemory> {
    Ok(match budget {
        None => MemoryBudget::default().kernel_memory(),
        Some(text) => text
            .parse::<MemoryBudget>()
            .map_err(|e| Error::Argument(format!("memory_budget: {e}")))?
            .kernel_memory(),
    })
}

/// The parameters every SVM entry point shares, as scikit-learn's `SVC` names them.
#[allow(clippy::too_many_arguments)]
fn params_of(
    kernel: &str,
    c: f64,
    gamma: &Bound<'_, PyAny>,
    degree: u32,
    coef0: f64,
    tol: f64,
    shrinking: bool,
    class_weight: Option<&Bound<'_, PyAny>>,
    max_iter: i64,
) -> PyResult<SvmParams> {
    let class_weight = class_weight_of(class_weight)?;
    let params = SvmParams {
        kernel: kernel.parse::<Kernel>().map_err(Error::from)?,
        c,
        gamma: gamma_of(gamma)?,
        degree,
        coef0,
        tolerance: tol,
        shrinking,
        class_weight,
        max_iterations: usize::try_from(max_iter).ok().filter(|&m| m > 0),
        linear_solver: None,
    };
    params.validate().map_err(Error::from)?;
    Ok(params)
}

/// A fitted one-vs-one C-SVC.
#[pyclass(module = "sarlab._sarlab", frozen)]
#[derive(Debug)]
pub struct NativeSvc {
    model: SvcModel,
    n_classes: usize,
}

#[pymethods]
impl NativeSvc {
    /// Decision values `(n_samples, n_pairs)`, pairs `(i, j)`, `i < j`, in libsvm's order
    /// (positive votes for `i`): scikit-learn's `decision_function_shape="ovo"` sign
    /// flipped, as libsvm computes it.
    fn decision_function<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let view = x.as_array();
        let values = py
            .detach(|| self.model.decision_function(view))
            .map_err(Error::from)?;
        Ok(values.into_pyarray(py))
    }

    /// Class indices by libsvm's vote.
    fn predict<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<i64>>> {
        let view = x.as_array();
        let labels = py
            .detach(|| self.model.predict_rows(view))
            .map_err(Error::from)?;
        let labels: Vec<i64> = labels.into_iter().map(|l| l as i64).collect();
        Ok(labels.into_pyarray(py))
    }

    /// Training rows that are support vectors (scikit-learn's `support_`), ascending.
    #[getter]
    fn support<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        let rows: Vec<i64> = self
            .model
            .support_indices
            .iter()
            .map(|&i| i as i64)
            .collect();
        rows.into_pyarray(py)
    }

    #[getter]
    fn support_vectors<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f64>> {
        self.model.support_vectors.clone().into_pyarray(py)
    }

    /// `−ρ` of each pair machine (scikit-learn's `intercept_` with libsvm's sign).
    #[getter]
    fn intercept<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        let values: Vec<f64> = self.model.machines.pairs.iter().map(|m| -m.rho).collect();
        values.into_pyarray(py)
    }

    /// Solver iterations of each pair machine.
    #[getter]
    fn iterations(&self) -> Vec<usize> {
        self.model
            .machines
            .pairs
            .iter()
            .map(|m| m.iterations)
            .collect()
    }

    /// The γ the kernel used (resolved from `"scale"` / `"auto"`; 0 for linear).
    #[getter]
    fn gamma_value(&self) -> f64 {
        self.model.kernel.gamma
    }

    #[getter]
    fn fit_seconds(&self) -> f64 {
        self.model.fit_seconds
    }

    #[getter]
    fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// Everything the model decides with, as plain Python values (for pickling):
    /// [`NativeSvc::from_state`] rebuilds the same model, bit for bit.
    fn state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let state = PyDict::new(py);
        let k = &self.model.kernel;
        state.set_item("kernel", k.kernel.to_string())?;
        state.set_item("gamma", k.gamma)?;
        state.set_item("degree", k.degree)?;
        state.set_item("coef0", k.coef0)?;
        state.set_item("n_classes", self.n_classes)?;
        state.set_item("classes", self.model.machines.classes.clone())?;
        state.set_item(
            "support_vectors",
            self.model.support_vectors.clone().into_pyarray(py),
        )?;
        state.set_item("support_indices", self.model.support_indices.clone())?;
        state.set_item("fit_seconds", self.model.fit_seconds)?;
        let pairs = PyList::empty(py);
        for m in &self.model.machines.pairs {
            pairs.append((
                m.pos,
                m.neg,
                m.support.clone(),
                m.coef.clone(),
                m.rho,
                m.iterations,
                m.hit_iteration_cap,
                m.upper_bound_reached,
            ))?;
        }
        state.set_item("pairs", pairs)?;
        Ok(state)
    }

    /// The model [`NativeSvc::state`] described.
    #[staticmethod]
    fn from_state(state: &Bound<'_, PyDict>) -> PyResult<NativeSvc> {
        let item = |key: &str| -> PyResult<Bound<'_, PyAny>> {
            state
                .get_item(key)?
                .ok_or_else(|| Error::Argument(format!("model state: no `{key}`")).into())
        };
        type Pair = (usize, usize, Vec<usize>, Vec<f64>, f64, usize, bool, bool);
        let pairs: Vec<Pair> = item("pairs")?.extract()?;
        let support_vectors: numpy::PyReadonlyArray2<'_, f64> =
            item("support_vectors")?.extract()?;
        let n_classes: usize = item("n_classes")?.extract()?;
        let kernel: String = item("kernel")?.extract()?;
        let model = SvcModel {
            kernel: sarlab_svm::KernelFunction {
                kernel: kernel.parse::<Kernel>().map_err(Error::from)?,
                gamma: item("gamma")?.extract()?,
                degree: item("degree")?.extract()?,
                coef0: item("coef0")?.extract()?,
            },
            machines: sarlab_svm::Machines {
                n_classes,
                classes: item("classes")?.extract()?,
                pairs: pairs
                    .into_iter()
                    .map(
                        |(
                            pos,
                            neg,
                            support,
                            coef,
                            rho,
                            iterations,
                            hit_iteration_cap,
                            upper_bound_reached,
                        )| {
                            sarlab_svm::PairMachine {
                                pos,
                                neg,
                                support,
                                coef,
                                rho,
                                iterations,
                                hit_iteration_cap,
                                upper_bound_reached,
                            }
                        },
                    )
                    .collect(),
            },
            support_vectors: support_vectors.as_array().to_owned(),
            support_indices: item("support_indices")?.extract()?,
            fit_seconds: item("fit_seconds")?.extract()?,
        };
        let rows = model.support_vectors.nrows();
        let bad = model.machines.pairs.iter().any(|m| {
            m.support.len() != m.coef.len()
                || m.support.iter().any(|&s| s >= rows)
                || m.pos >= n_classes
                || m.neg >= n_classes
        });
        if bad || model.support_indices.len() != rows {
            return Err(Error::Argument(
                "model state: support vectors and pair machines do not fit together".to_owned(),
            )
            .into());
        }
        Ok(NativeSvc { model, n_classes })
    }
}

/// Fits libsvm's C-SVC on float64 rows `x` with class indices `y`.
#[pyfunction]
#[pyo3(signature = (x, y, n_classes, kernel = "rbf", c = 1.0, gamma = None, degree = 3, coef0 = 0.0, tol = 1e-3, shrinking = true, class_weight = None, max_iter = -1, memory_budget = None))]
#[allow(clippy::too_many_arguments)]
pub fn svc_fit<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f64>,
    y: PyReadonlyArray1<'py, i64>,
    n_classes: usize,
    kernel: &str,
    c: f64,
    gamma: Option<Bound<'py, PyAny>>,
    degree: u32,
    coef0: f64,
    tol: f64,
    shrinking: bool,
    class_weight: Option<Bound<'py, PyAny>>,
    max_iter: i64,
    memory_budget: Option<&str>,
) -> PyResult<NativeSvc> {
    let gamma = gamma.unwrap_or_else(|| PyString::new(py, "scale").into_any());
    let params = params_of(
        kernel,
        c,
        &gamma,
        degree,
        coef0,
        tol,
        shrinking,
        class_weight.as_ref(),
        max_iter,
    )?;
    let labels = labels_of(&y, n_classes)?;
    let memory = memory_of(memory_budget)?;
    let view = x.as_array();
    if view.nrows() != labels.len() {
        return Err(Error::Argument(format!(
            "x has {} rows and y {} labels",
            view.nrows(),
            labels.len()
        ))
        .into());
    }
    let model = py
        .detach(|| {
            Svc::new(params, n_classes)
                .with_engine(sarlab_svm::Engine {
                    memory,
                    ..sarlab_svm::Engine::default()
                })
                .fit_rows(view, &labels)
        })
        .map_err(Error::from)?;
    Ok(NativeSvc { model, n_classes })
}

/// Stratified k-fold cross-validation of every point of a grid; one dict per point:
/// its parameters, `mean_<metric>` / `std_<metric>` for every metric, `fit_seconds`,
/// `support_vectors` and `gamma_value` (means over folds), in the grid's order
/// (kernel, C, γ, degree, coef0 — the order `sarlab svm grid` uses).
#[pyfunction]
#[pyo3(signature = (x, y, n_classes, kernels, c, gamma, degree, coef0, folds = 5, seed = 0, tol = 1e-3, class_weight = None, standardize = false, memory_budget = None))]
#[allow(clippy::too_many_arguments)]
pub fn grid_search<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f64>,
    y: PyReadonlyArray1<'py, i64>,
    n_classes: usize,
    kernels: Vec<String>,
    c: Vec<f64>,
    gamma: Vec<Bound<'py, PyAny>>,
    degree: Vec<u32>,
    coef0: Vec<f64>,
    folds: usize,
    seed: u64,
    tol: f64,
    class_weight: Option<Bound<'py, PyAny>>,
    standardize: bool,
    memory_budget: Option<&str>,
) -> PyResult<Bound<'py, PyList>> {
    let scale = PyString::new(py, "scale").into_any();
    let base = params_of(
        "rbf",
        1.0,
        &scale,
        3,
        0.0,
        tol,
        true,
        class_weight.as_ref(),
        -1,
    )?;
    let grid = SvmGrid {
        kernels: kernels
            .iter()
            .map(|k| k.parse::<Kernel>())
            .collect::<std::result::Result<_, _>>()
            .map_err(Error::from)?,
        c,
        gamma: gamma.iter().map(gamma_of).collect::<PyResult<_>>()?,
        degree,
        coef0,
        base,
    };
    let points = grid.points().map_err(Error::from)?;
    let labels = labels_of(&y, n_classes)?;
    let settings = CvSettings {
        memory: memory_of(memory_budget)?,
        ..CvSettings::new(
            folds,
            seed,
            FeatureTransform {
                standardize,
                ..FeatureTransform::default()
            },
        )
    };
    let view = x.as_array();
    let result = py
        .detach(|| {
            search(
                view,
                &labels,
                None,
                n_classes,
                &points,
                &settings,
                "accuracy",
                &|_| {},
            )
        })
        .map_err(Error::from)?;
    let rows = PyList::empty(py);
    for (rank_order, outcome) in result.outcomes.iter().enumerate() {
        let row = PyDict::new(py);
        row.set_item("index", rank_order)?;
        for (name, value) in outcome.params.swept() {
            let value = match value {
                sarlab_svm::SweptValue::Kernel(k) => k.to_string().into_pyobject(py)?.into_any(),
                sarlab_svm::SweptValue::Real(v) => v.into_pyobject(py)?.into_any(),
                sarlab_svm::SweptValue::Gamma(Gamma::Value(v)) => v.into_pyobject(py)?.into_any(),
                sarlab_svm::SweptValue::Gamma(g) => g.to_string().into_pyobject(py)?.into_any(),
                sarlab_svm::SweptValue::Degree(d) => d.into_pyobject(py)?.into_any(),
            };
            row.set_item(name, value)?;
        }
        for metric in METRIC_NAMES {
            let (mean, std) = outcome.mean_std_of(metric);
            row.set_item(format!("mean_{metric}"), mean)?;
            row.set_item(format!("std_{metric}"), std)?;
        }
        let k = outcome.folds.len().max(1) as f64;
        let mean = |f: &dyn Fn(&sarlab_svm::Evaluation) -> f64| {
            outcome.folds.iter().map(f).sum::<f64>() / k
        };
        row.set_item("fit_seconds", mean(&|e| e.fit_seconds))?;
        row.set_item("support_vectors", mean(&|e| e.support_vectors as f64))?;
        row.set_item("gamma_value", mean(&|e| e.gamma))?;
        rows.append(row)?;
    }
    Ok(rows)
}

/// The folds `grid_search` (and every sarlab cross-validation) uses: a list of
/// `(train, validation)` index arrays, each ascending — for scikit-learn's `cv=` to
/// score the very same splits.
#[pyfunction]
#[pyo3(signature = (y, n_classes, folds = 5, seed = 0))]
#[allow(clippy::type_complexity)]
pub fn stratified_folds<'py>(
    py: Python<'py>,
    y: PyReadonlyArray1<'py, i64>,
    n_classes: usize,
    folds: usize,
    seed: u64,
) -> PyResult<Vec<(Bound<'py, PyArray1<i64>>, Bound<'py, PyArray1<i64>>)>> {
    let labels = labels_of(&y, n_classes)?;
    let splits = sarlab_svm::StratifiedKFold::new(folds, seed)
        .split(&labels, n_classes)
        .map_err(Error::from)?;
    let indices = |rows: Vec<usize>| -> Vec<i64> { rows.into_iter().map(|r| r as i64).collect() };
    Ok(splits
        .into_iter()
        .map(|f| {
            (
                indices(f.train).into_pyarray(py),
                indices(f.validation).into_pyarray(py),
            )
        })
        .collect())
}
