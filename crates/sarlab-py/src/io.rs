//! Reading chips: `read_chip` gives a file's samples as the Python peer's standard load
//! does (`np.asarray(Image.open(p)) / 255.0` for 8-bit images, `/ 65535.0` for 16-bit,
//! float and `.npy` data as stored, Phoenix magnitude and phase) with its metadata.

use std::path::PathBuf;

use ndarray::Array2;
use numpy::IntoPyArray;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use sarlab_io::{ChipFormat, DecodeOptions, Md5Status, Pixels, chip_file, phoenix};

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
