//! Studies from Python: run a spec (a file or a dict) into a database, read its runs
//! back as typed columns (the `runs` DataFrame), and load saved models that predict.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use numpy::{IntoPyArray, PyArray2};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString};
use sarlab_model::{InputOptions, Model};
use sarlab_study::memory::MemoryBudget;
use sarlab_study::{Event, LARGE_PLAN, Observer, Plan, Shard, Spec, Study, load_plan};
use sarlab_track::{Filter, ParamValue, RunQuery, Store};

use crate::error::{Error, Result};

/// A Python value of a spec dict as TOML.
fn toml_of(value: &Bound<'_, PyAny>, key: &str) -> PyResult<toml::Value> {
    if value.is_instance_of::<PyBool>() {
        return Ok(toml::Value::Boolean(value.extract()?));
    }
    if value.is_instance_of::<PyInt>() {
        return Ok(toml::Value::Integer(value.extract()?));
    }
    if value.is_instance_of::<PyFloat>() {
        return Ok(toml::Value::Float(value.extract()?));
    }
    if value.is_instance_of::<PyString>() {
        return Ok(toml::Value::String(value.extract()?));
    }
    if let Ok(dict) = value.cast::<PyDict>() {
        let mut table = toml::Table::new();
        for (k, v) in dict.iter() {
            let name: String = k.extract().map_err(|_| {
                Error::Argument(format!("spec: key {k} of `{key}` is not a string"))
            })?;
            let path = if key.is_empty() {
                name.clone()
            } else {
                format!("{key}.{name}")
            };
            table.insert(name, toml_of(&v, &path)?);
        }
        return Ok(toml::Value::Table(table));
    }
    if let Ok(items) = value.try_iter() {
        let values = items
            .enumerate()
            .map(|(i, item)| toml_of(&item?, &format!("{key}[{i}]")))
            .collect::<PyResult<Vec<_>>>()?;
        return Ok(toml::Value::Array(values));
    }
    if value.is_none() {
        return Err(Error::Argument(format!(
            "spec: `{key}` is None; leave the key out for its default"
        ))
        .into());
    }
    Err(Error::Argument(format!(
        "spec: `{key}` is a {}; expected a bool, number, string, list or dict",
        value.get_type().name()?
    ))
    .into())
}

/// The plan of a spec given as a path or as a dict (read as the TOML it spells).
fn plan_of(spec: &Bound<'_, PyAny>, data: Option<&Path>) -> PyResult<Plan> {
    if let Ok(dict) = spec.cast::<PyDict>() {
        let toml::Value::Table(table) = toml_of(dict.as_any(), "")? else {
            unreachable!("a dict is a table")
        };
        let text = toml::to_string(&table)
            .map_err(|e| Error::Argument(format!("spec: cannot write it as TOML: {e}")))?;
        let path = PathBuf::from("<dict>.toml");
        let mut parsed = Spec::parse(&text, &path).map_err(Error::from)?;
        if let Some(data) = data {
            parsed.dataset.path = data.to_path_buf();
            parsed.dataset.source = sarlab_study::spec::DatasetSource::Folder;
            parsed.dataset.synthetic = None;
        }
        return Ok(Plan::new(parsed, &path, text).map_err(Error::from)?);
    }
    let path: PathBuf = spec.extract().map_err(|_| {
        Error::Argument("spec: expected the path of a TOML spec or a dict".to_owned())
    })?;
    Ok(load_plan(&path, data).map_err(Error::from)?)
}

/// How often the main thread looks for Ctrl-C while a study runs.
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// The study thread's stack: the main thread's usual 8 MB.
const STUDY_STACK_BYTES: usize = 8 << 20;

/// Tells the engine to stop once Ctrl-C has reached Python: it stops before its next
/// claim, refit or wait, ends its run KILLED and keeps what finished.
#[derive(Default)]
struct Interruptible {
    stop: AtomicBool,
}

impl Observer for Interruptible {
    fn on(&self, _event: Event<'_>) {}

    fn stop_requested(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

/// Runs a study as `sarlab run` does (every configuration recorded in `db`, the test
/// refits, the report in `<reports>/<name>/`, models in `<models>/<name>/`); returns a
/// dict: `run` (the study run's uuid), `ran`, `skipped`, `by_others`, `report` (the
/// report's index.html, or None). Ctrl-C stops the study at its next claim, refit or
/// wait (its run KILLED, what finished recorded) and raises `KeyboardInterrupt`.
#[pyfunction]
#[pyo3(signature = (spec, db, data = None, reports = PathBuf::from("reports"), models = PathBuf::from("models"), force = false, memory_budget = None, allow_large = false))]
#[allow(clippy::too_many_arguments)]
pub fn run_study<'py>(
    py: Python<'py>,
    spec: &Bound<'py, PyAny>,
    db: PathBuf,
    data: Option<PathBuf>,
    reports: PathBuf,
    models: PathBuf,
    force: bool,
    memory_budget: Option<&str>,
    allow_large: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let plan = plan_of(spec, data.as_deref())?;
    if plan.configurations() > LARGE_PLAN && !allow_large {
        return Err(Error::Argument(format!(
            "{} configurations is more than {LARGE_PLAN}; pass allow_large=True to run them",
            plan.configurations()
        ))
        .into());
    }
    let budget = match memory_budget {
        None => MemoryBudget::default(),
        Some(text) => text
            .parse::<MemoryBudget>()
            .map_err(|e| Error::Argument(format!("memory_budget: {e}")))?,
    };
    let study = Study {
        shard: Shard::all(),
        force,
        reports,
        models,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        build_commit: None,
        kernel_memory: budget.kernel_memory(),
    };
    let observer = Interruptible::default();
    let outcome = py.detach(|| {
        std::thread::scope(|scope| -> PyResult<sarlab_study::Outcome> {
            // The study runs on a thread of its own so that this one can answer Ctrl-C:
            // Python's signal handlers run only on the main thread, when it asks.
            let worker = std::thread::Builder::new()
                .name("sarlab-study".to_owned())
                .stack_size(STUDY_STACK_BYTES)
                .spawn_scoped(scope, || -> Result<_> {
                    let mut store = Store::open(&db)?;
                    Ok(study.run(&plan, &mut store, &observer)?)
                })
                .map_err(|e| Error::Argument(format!("cannot start the study's thread: {e}")))?;
            let mut interrupt: Option<PyErr> = None;
            while !worker.is_finished() {
                std::thread::sleep(SIGNAL_POLL);
                if interrupt.is_none()
                    && let Err(err) = Python::attach(|py| py.check_signals())
                {
                    observer.stop.store(true, Ordering::SeqCst);
                    interrupt = Some(err);
                }
            }
            let result = worker.join().unwrap_or_else(|_| {
                Err(Error::Argument(
                    "the study's thread panicked (a bug in sarlab, please report it)".to_owned(),
                ))
            });
            match interrupt {
                // KeyboardInterrupt (or what the handler raised), the study run KILLED.
                Some(err) => Err(err),
                None => result.map_err(PyErr::from),
            }
        })
    })?;
    let out = PyDict::new(py);
    out.set_item("run", outcome.run)?;
    out.set_item("ran", outcome.ran)?;
    out.set_item("skipped", outcome.skipped)?;
    out.set_item("by_others", outcome.by_others)?;
    out.set_item(
        "report",
        outcome.report.map(|r| r.index_html.display().to_string()),
    )?;
    Ok(out)
}

/// What a column of the runs table holds, so that it becomes one typed column.
fn column_kind(values: &[Option<&ParamValue>]) -> &'static str {
    let present = values.iter().flatten();
    if present.clone().all(|v| matches!(v, ParamValue::Int(_))) {
        "int"
    } else if present
        .clone()
        .all(|v| matches!(v, ParamValue::Int(_) | ParamValue::Real(_)))
    {
        "float"
    } else {
        "text"
    }
}

/// The runs of `db` that `filter` (`sarlab runs list --filter`'s language) and
/// `experiment` select, as `(columns, kinds, values)`: per column its name (`uuid`,
/// `experiment`, `name`, `status`, `start_ms`, `end_ms`, `parent`, `config_hash`,
/// then `params.*`, `metrics.*`, `tags.*`), its kind (`int`, `float`, `text`) and its
/// values (None where a run has none).
#[pyfunction]
#[pyo3(signature = (db, filter = None, experiment = None))]
#[allow(clippy::type_complexity)]
pub fn runs_table<'py>(
    py: Python<'py>,
    db: PathBuf,
    filter: Option<&str>,
    experiment: Option<String>,
) -> PyResult<(Vec<String>, Vec<&'static str>, Bound<'py, PyList>)> {
    if !db.is_file() {
        return Err(Error::Argument(format!("no run database at {}", db.display())).into());
    }
    let filter = filter
        .map(|text| {
            Filter::parse(text).map_err(|e| {
                Error::Argument(format!(
                    "filter {e}\n  {text}\n  {}^",
                    " ".repeat(e.column.saturating_sub(1))
                ))
            })
        })
        .transpose()?;
    let query = RunQuery {
        experiment,
        filter,
        ..RunQuery::default()
    };
    let table = py.detach(|| -> Result<_> { Ok(Store::open(&db)?.run_table(&query)?) })?;
    let mut kinds = Vec::with_capacity(table.columns.len());
    let columns = PyList::empty(py);
    for c in 0..table.columns.len() {
        let values: Vec<Option<&ParamValue>> = table.rows.iter().map(|r| r[c].as_ref()).collect();
        let kind = column_kind(&values);
        kinds.push(kind);
        let column = PyList::empty(py);
        for value in values {
            match (kind, value) {
                (_, None) => column.append(py.None())?,
                ("int", Some(ParamValue::Int(i))) => column.append(*i)?,
                ("float", Some(ParamValue::Int(i))) => column.append(*i as f64)?,
                ("float", Some(ParamValue::Real(r))) => column.append(*r)?,
                (_, Some(v)) => column.append(v.to_string())?,
            }
        }
        columns.append(column)?;
    }
    Ok((table.columns, kinds, columns))
}

/// A saved model (`sarlab train`, or a study's refit), which decides chip files as
/// its training chips were decided.
#[pyclass(module = "sarlab._sarlab", frozen)]
#[derive(Debug)]
pub struct NativeModel {
    model: Model,
}

#[pymethods]
impl NativeModel {
    #[getter]
    fn classes(&self) -> Vec<String> {
        self.model.classes().to_vec()
    }

    /// Predicts chip files, folders of them or labelled datasets (as `sarlab predict`
    /// resolves its inputs): a dict of `name`, `truth`, `predicted` (class names),
    /// `decision_values` (rows × pair machines) and, with `probability`,
    /// `probabilities` (rows × classes).
    #[pyo3(signature = (inputs, probability = false))]
    fn predict<'py>(
        &self,
        py: Python<'py>,
        inputs: Vec<PathBuf>,
        probability: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        let predictions = py.detach(|| -> std::result::Result<_, sarlab_model::Error> {
            let chips = sarlab_model::inputs::collect(&inputs, &InputOptions::default())?;
            let mut all = Vec::with_capacity(chips.chips.len());
            self.model
                .predict_chips(&chips.chips, probability, |block| {
                    all.extend(block);
                    Ok(())
                })?;
            Ok(all)
        });
        let predictions = predictions.map_err(Error::from)?;
        let classes = self.model.classes();
        let width = predictions.first().map_or(0, |p| p.decision_values.len());
        let decisions: Vec<f64> = predictions
            .iter()
            .flat_map(|p| p.decision_values.iter().copied())
            .collect();
        let decisions = ndarray::Array2::from_shape_vec((predictions.len(), width), decisions)
            .map_err(|e| Error::Argument(format!("decision values: {e}")))?;
        let out = PyDict::new(py);
        out.set_item(
            "name",
            predictions
                .iter()
                .map(|p| p.name.clone())
                .collect::<Vec<_>>(),
        )?;
        out.set_item(
            "truth",
            predictions
                .iter()
                .map(|p| p.truth.clone())
                .collect::<Vec<_>>(),
        )?;
        out.set_item(
            "predicted",
            predictions
                .iter()
                .map(|p| classes[p.predicted].clone())
                .collect::<Vec<_>>(),
        )?;
        out.set_item("decision_values", decisions.into_pyarray(py))?;
        if probability {
            let columns = classes.len();
            let values: Vec<f64> = predictions
                .iter()
                .flat_map(|p| p.probabilities.clone().unwrap_or_default())
                .collect();
            let matrix: Bound<'py, PyArray2<f64>> =
                ndarray::Array2::from_shape_vec((predictions.len(), columns), values)
                    .map_err(|e| Error::Argument(format!("probabilities: {e}")))?
                    .into_pyarray(py);
            out.set_item("probabilities", matrix)?;
        }
        Ok(out)
    }
}

/// Loads a saved model file.
#[pyfunction]
pub fn load_model(py: Python<'_>, path: PathBuf) -> PyResult<NativeModel> {
    let model = py.detach(|| Model::load(&path)).map_err(Error::from)?;
    Ok(NativeModel { model })
}
