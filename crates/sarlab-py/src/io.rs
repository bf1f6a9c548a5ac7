//! Reading chips: `read_chip` gives a file's samples as the Python peer's standard load
//! does (`np.asarray(Image.open(p)) / 255.0` for 8-bit images, `/ 65535.0` for 16-bit,
//! float and `.npy` data as stored, Phoenix magnitude and phase) with its metadata;
//! `load_dataset` reads a labelled dataset as a study does.

use std::path::{Path, PathBuf};

use ndarray::{Array2, Array3};
use numpy::IntoPyArray;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use rayon::prelude::*;
use sarlab_io::{
    Chip, ChipFormat, Dataset, DatasetFormat, DatasetIndex, DatasetOptions, DecodeOptions,
    DepressionSplits, FolderLayout, Md5Status, Pixels, chip_file, phoenix,
};

use crate::error::{Error, Result};

/// A decoded chip, before it meets Python.
struct ReadChip {
    format: ChipFormat,
    image: Pixels,
    phase: Option<Array2<f32>>,
    sample_type: &'static str,
    md5: Md5Status,
    header: Option<phoenix::PhoenixHeader>,
}

fn read(path: &PathBuf, band: Option<usize>, verify_md5: bool) -> Result<ReadChip> {
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: path.display().to_string(),
        source,
    })?;
    if ChipFormat::sniff(&bytes) == Some(ChipFormat::Phoenix) {
        if band.is_some() {
            return Err(Error::Argument(format!(
                "{}: a Phoenix chip has one band; `band` selects a band of multi-band images",
                path.display()
            )));
        }
        let image = phoenix::decode(&bytes, path, verify_md5)?;
        return Ok(ReadChip {
            format: ChipFormat::Phoenix,
            sample_type: "float32",
            image: Pixels::F32(image.magnitude),
            phase: Some(image.phase),
            md5: image.md5,
            header: Some(image.header),
        });
    }
    let options = DecodeOptions { band, verify_md5 };
    let decoded = chip_file::decode(&bytes, path, &options)?;
    let phase = decoded.phase.map(|p| match p {
        Pixels::F32(a) => a,
        other => other.to_f64().mapv(|v| v as f32),
    });
    Ok(ReadChip {
        format: decoded.format,
        sample_type: decoded.image.sample_type(),
        image: decoded.image,
        phase,
        md5: decoded.md5,
        header: None,
    })
}

/// `(image, info)`: the chip's samples — float64 in `[0, 1]` for 8- and 16-bit images
/// (the value divided by the type's maximum, as `np.asarray(Image.open(p)) / 255.0`),
/// float32 or float64 as stored otherwise (Phoenix: the linear magnitude) — and a dict:
/// `format`, `sample_type`, `shape`, `phase` (radians, for complex data, else `None`),
/// `md5` (`"ok"`, `"failed (…)"`, `"absent"` or `"not checked"`) and, for Phoenix files,
/// `header` (every `Key= value` field as written) with the typed `target_type`,
/// `serial`, `azimuth_deg`, `depression_deg`.
#[pyfunction]
#[pyo3(signature = (path, band = None, verify_md5 = false))]
pub fn read_chip<'py>(
    py: Python<'py>,
    path: PathBuf,
    band: Option<usize>,
    verify_md5: bool,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyDict>)> {
    let chip = py.detach(|| read(&path, band, verify_md5))?;
    let (rows, cols) = chip.image.dim();
    let image = match chip.image {
        Pixels::F32(a) => a.into_pyarray(py).into_any(),
        Pixels::F64(a) => a.into_pyarray(py).into_any(),
        unit @ (Pixels::U8(_) | Pixels::U16(_)) => unit.to_f64().into_pyarray(py).into_any(),
    };
    let info = PyDict::new(py);
    info.set_item("format", chip.format.name())?;
    info.set_item("sample_type", chip.sample_type)?;
    info.set_item("shape", (rows, cols))?;
    match chip.phase {
        Some(phase) => info.set_item("phase", phase.into_pyarray(py))?,
        None => info.set_item("phase", py.None())?,
    }
    info.set_item("md5", chip.md5.to_string())?;
    if let Some(h) = chip.header {
        let fields = PyDict::new(py);
        for (key, value) in &h.fields {
            fields.set_item(key, value)?;
        }
        info.set_item("header", fields)?;
        info.set_item("target_type", h.target_type)?;
        info.set_item("serial", h.serial)?;
        info.set_item("azimuth_deg", h.azimuth_deg)?;
        info.set_item("depression_deg", h.depression_deg)?;
    }
    Ok((image, info))
}

/// How `load_dataset` finds and reads a dataset.
struct DatasetRequest {
    options: DatasetOptions,
    crop: Option<usize>,
}

/// A loaded dataset with its chips' samples in float64, as one `(n, rows, cols)` stack
/// when every kept image has one size.
struct LoadedDataset {
    dataset: Dataset,
    paths: Vec<PathBuf>,
    images: Stacked,
    phase: Option<Stacked>,
}

enum Stacked {
    Stack(Array3<f64>),
    List(Vec<Array2<f64>>),
}

impl Stacked {
    /// Each chip's samples (`values` of it) in float64: one stack when every chip kept
    /// the same size, written in place, else a list.
    fn of(chips: &[Chip], values: impl Fn(&Chip) -> Array2<f64> + Sync + Send) -> Stacked {
        let Some(first) = chips.first().map(|c| c.image.dim()) else {
            return Stacked::Stack(Array3::zeros((0, 0, 0)));
        };
        if chips.iter().any(|c| c.image.dim() != first) {
            return Stacked::List(chips.par_iter().map(&values).collect());
        }
        let mut stack = Array3::<f64>::zeros((chips.len(), first.0, first.1));
        if let Some(samples) = stack.as_slice_mut().filter(|s| !s.is_empty()) {
            samples
                .par_chunks_mut(first.0 * first.1)
                .zip(chips)
                .for_each(|(slot, chip)| {
                    if let Ok(mut slot) = ndarray::ArrayViewMut2::from_shape(first, slot) {
                        slot.assign(&values(chip));
                    }
                });
        }
        Stacked::Stack(stack)
    }

    fn into_py<'py>(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(match self {
            Stacked::Stack(stack) => stack.into_pyarray(py).into_any(),
            Stacked::List(images) => {
                PyList::new(py, images.into_iter().map(|image| image.into_pyarray(py)))?.into_any()
            }
        })
    }
}

fn load(path: &Path, request: &DatasetRequest) -> Result<LoadedDataset> {
    let index = DatasetIndex::scan(path, &request.options)?;
    let crop = request.crop;
    let dataset = index.load_windows(&|| {}, &|dim| match crop {
        None => Ok((0..dim.0, 0..dim.1)),
        Some(size) => sarlab_filter::center_window(dim, size).map_err(|e| e.to_string()),
    })?;
    let paths = index.entries.iter().map(|e| e.path.clone()).collect();
    let chips = &dataset.chips;
    let with_phase = !chips.is_empty() && chips.iter().all(|c| c.phase.is_some());
    let samples: f64 = chips
        .iter()
        .map(|c| c.image.dim().0 as f64 * c.image.dim().1 as f64)
        .sum();
    let arrays = if with_phase { 2.0 } else { 1.0 };
    sarlab_study::memory::require(samples * arrays * 8.0, || {
        format!("{} chips of {} as float64", chips.len(), path.display())
    })?;
    let images = Stacked::of(chips, Chip::to_f64);
    let phase = with_phase.then(|| {
        Stacked::of(chips, |c| {
            c.phase.as_ref().map(Pixels::to_f64).unwrap_or_default()
        })
    });
    Ok(LoadedDataset {
        dataset,
        paths,
        images,
        phase,
    })
}

/// A labelled dataset as a study reads it (image folders `<root>/<train>/<class>/*`, a
/// manifest CSV, or MSTAR Phoenix files split by depression angle), each chip's samples
/// scaled as [`read_chip`] scales them and centre-cropped to `crop × crop` when given
/// (as a study's `preprocess.crop`; a chip smaller than the crop is an error naming it).
/// Returns a dict of `images` (`(n, rows, cols)` float64, or a list of arrays when the
/// chips' sizes differ), `phase` (likewise, for complex data, else `None`), `classes`
/// (sorted), `class_index`, `split`, `name`, `path`, `format` (per chip), `size` (each
/// whole chip's `(rows, cols)`), `target_type`, `serial`, `azimuth_deg`,
/// `depression_deg` (NaN where a chip has none), `md5`, and for the dataset
/// `dataset_format`, `root`, `digest` (the study records' dataset digest) and `skipped`.
#[pyfunction]
#[pyo3(signature = (path, crop = None, format = None, train = "train", test = "test", train_depression = None, test_depression = None, band = None, verify_md5 = false))]
#[allow(clippy::too_many_arguments)]
pub fn load_dataset<'py>(
    py: Python<'py>,
    path: PathBuf,
    crop: Option<usize>,
    format: Option<&str>,
    train: &str,
    test: &str,
    train_depression: Option<Vec<f64>>,
    test_depression: Option<Vec<f64>>,
    band: Option<usize>,
    verify_md5: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let format = format
        .map(|f| f.parse::<DatasetFormat>())
        .transpose()
        .map_err(Error::from)?;
    let defaults = DepressionSplits::default();
    let request = DatasetRequest {
        options: DatasetOptions {
            format,
            layout: FolderLayout {
                train: train.to_owned(),
                test: test.to_owned(),
            },
            depression: DepressionSplits {
                train: train_depression.unwrap_or(defaults.train),
                test: test_depression.unwrap_or(defaults.test),
            },
            decode: DecodeOptions { band, verify_md5 },
        },
        crop,
    };
    let loaded = py.detach(|| load(&path, &request))?;
    let LoadedDataset {
        dataset,
        paths,
        images,
        phase,
    } = loaded;
    let chips = &dataset.chips;
    let out = PyDict::new(py);
    out.set_item("images", images.into_py(py)?)?;
    match phase {
        Some(phase) => out.set_item("phase", phase.into_py(py)?)?,
        None => out.set_item("phase", py.None())?,
    }
    out.set_item("classes", &dataset.classes)?;
    let class_index: Vec<i64> = chips.iter().map(|c| c.class_index as i64).collect();
    out.set_item("class_index", class_index.into_pyarray(py))?;
    let column = |f: &dyn Fn(&Chip) -> String| -> Vec<String> { chips.iter().map(f).collect() };
    out.set_item("split", column(&|c| c.split.name().to_owned()))?;
    out.set_item("name", column(&|c| c.file_name.clone()))?;
    out.set_item("format", column(&|c| c.format.name().to_owned()))?;
    out.set_item("md5", column(&|c| c.md5.to_string()))?;
    let paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    out.set_item("path", paths)?;
    let sizes: Vec<i64> = chips
        .iter()
        .flat_map(|c| [c.size.0 as i64, c.size.1 as i64])
        .collect();
    let sizes = Array2::from_shape_vec((chips.len(), 2), sizes)
        .map_err(|e| Error::Argument(format!("chip sizes: {e}")))?;
    out.set_item("size", sizes.into_pyarray(py))?;
    let text = |f: &dyn Fn(&Chip) -> Option<String>| -> Vec<Option<String>> {
        chips.iter().map(f).collect()
    };
    out.set_item("target_type", text(&|c| c.meta.target_type.clone()))?;
    out.set_item("serial", text(&|c| c.meta.serial.clone()))?;
    let angle = |f: &dyn Fn(&Chip) -> Option<f64>| -> Vec<f64> {
        chips.iter().map(|c| f(c).unwrap_or(f64::NAN)).collect()
    };
    out.set_item(
        "azimuth_deg",
        angle(&|c| c.meta.azimuth_deg).into_pyarray(py),
    )?;
    out.set_item(
        "depression_deg",
        angle(&|c| c.meta.depression_deg).into_pyarray(py),
    )?;
    out.set_item("dataset_format", dataset.format.name())?;
    out.set_item("root", dataset.root.display().to_string())?;
    out.set_item("digest", &dataset.digest)?;
    let skipped = PyDict::new(py);
    skipped.set_item("not_chips", dataset.skipped.not_chips)?;
    skipped.set_item("other_depression", dataset.skipped.other_depression)?;
    out.set_item("skipped", skipped)?;
    Ok(out)
}
