//! Conversions between SAR sample representations, and writers for the formats other
//! tools read: magnitude ↔ dB, 16-bit or float → 8-bit by min–max or percentile
//! stretch, and PNG (8/16-bit), float TIFF and `.npy` output.

use std::fmt;
use std::fs;
use std::io::Cursor;
use std::path::Path;
use std::str::FromStr;

use ndarray::{Array2, ArrayView2};

use rayon::prelude::*;

use crate::dataset::Dataset;
use crate::error::{Error, Result};
use crate::npy;

/// `20·log10(max(x, floor))`: decibels of a magnitude image.
pub fn magnitude_to_db(magnitude: ArrayView2<'_, f64>, floor: f64) -> Array2<f64> {
    magnitude.mapv(|x| 20.0 * x.max(floor).log10())
}

/// `10^(dB/20)`: the inverse of [`magnitude_to_db`] above its floor.
pub fn db_to_magnitude(db: ArrayView2<'_, f64>) -> Array2<f64> {
    db.mapv(|x| 10f64.powf(x / 20.0))
}

/// How a range of values is mapped onto the integer range of an output image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stretch {
    /// Minimum → 0, maximum → full scale.
    MinMax,
    /// The `low`-th percentile → 0, the `high`-th → full scale, values beyond clipped
    /// (percentiles interpolate linearly, as `numpy.percentile` does by default).
    Percentile { low: f64, high: f64 },
    /// Fixed bounds, e.g. `0..1` for data already scaled to the unit range.
    Fixed { low: f64, high: f64 },
}

impl Stretch {
    /// The values mapped to 0 and to full scale.
    pub fn bounds(self, values: ArrayView2<'_, f64>) -> (f64, f64) {
        match self {
            Stretch::Fixed { low, high } => (low, high),
            Stretch::MinMax => values
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                    (lo.min(v), hi.max(v))
                }),
            Stretch::Percentile { low, high } => {
                let mut sorted: Vec<f64> = values.iter().copied().collect();
                sorted.sort_by(f64::total_cmp);
                (percentile(&sorted, low), percentile(&sorted, high))
            }
        }
    }
}

impl fmt::Display for Stretch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stretch::MinMax => f.write_str("minmax"),
            Stretch::Percentile { low, high } => write!(f, "p{low}-{high}"),
            Stretch::Fixed { low, high } => write!(f, "fixed:{low}:{high}"),
        }
    }
}

impl FromStr for Stretch {
    type Err = Error;

    /// `minmax`, `pLOW-HIGH` (e.g. `p1-99`) or `fixed:LOW:HIGH`.
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::InvalidArgument {
            what: "stretch",
            message: format!("`{s}` is not minmax, pLOW-HIGH (e.g. p1-99) or fixed:LOW:HIGH"),
        };
        if s == "minmax" {
            return Ok(Stretch::MinMax);
        }
        if let Some(range) = s.strip_prefix('p') {
            let (low, high) = range.split_once('-').ok_or_else(bad)?;
            let (low, high): (f64, f64) = (
                low.parse().map_err(|_| bad())?,
                high.parse().map_err(|_| bad())?,
            );
            if !(0.0..high).contains(&low) || high > 100.0 {
                return Err(bad());
            }
            return Ok(Stretch::Percentile { low, high });
        }
        if let Some(range) = s.strip_prefix("fixed:") {
            let (low, high) = range.split_once(':').ok_or_else(bad)?;
            let (low, high): (f64, f64) = (
                low.parse().map_err(|_| bad())?,
                high.parse().map_err(|_| bad())?,
            );
            if low >= high || !low.is_finite() || !high.is_finite() {
                return Err(bad());
            }
            return Ok(Stretch::Fixed { low, high });
        }
        Err(bad())
    }
}

/// Linear-interpolation percentile of sorted values (numpy's default method).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let position = q / 100.0 * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = (below + 1).min(sorted.len() - 1);
    let weight = position - below as f64;
    sorted[below] * (1.0 - weight) + sorted[above] * weight
}

/// Maps values onto `0..=full_scale` with `stretch`, rounding to nearest. A constant
/// image maps to 0.
fn quantize(values: ArrayView2<'_, f64>, stretch: Stretch, full_scale: f64) -> Array2<f64> {
    let (low, high) = stretch.bounds(values);
    let span = high - low;
    values.mapv(|v| {
        if span > 0.0 {
            ((v - low) / span * full_scale)
                .round()
                .clamp(0.0, full_scale)
        } else {
            0.0
        }
    })
}

/// 8-bit image of `values` under `stretch`.
pub fn to_u8(values: ArrayView2<'_, f64>, stretch: Stretch) -> Array2<u8> {
    quantize(values, stretch, 255.0).mapv(|v| v as u8)
}

/// 16-bit image of `values` under `stretch`.
pub fn to_u16(values: ArrayView2<'_, f64>, stretch: Stretch) -> Array2<u16> {
    quantize(values, stretch, 65535.0).mapv(|v| v as u16)
}

/// File formats `sarlab dataset convert` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputFormat {
    /// 8-bit grey PNG (stretched).
    Png8,
    /// 16-bit grey PNG (stretched).
    Png16,
    /// 32-bit float grey TIFF (values rounded to `f32`).
    TiffF32,
    /// 64-bit float grey TIFF (values exactly).
    TiffF64,
    /// Little-endian `f32` `.npy` (values rounded to `f32`).
    NpyF32,
    /// Little-endian `f64` `.npy` (values exactly).
    NpyF64,
}

impl OutputFormat {
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Png8 | OutputFormat::Png16 => "png",
            OutputFormat::TiffF32 | OutputFormat::TiffF64 => "tif",
            OutputFormat::NpyF32 | OutputFormat::NpyF64 => "npy",
        }
    }

    /// Whether the format stores integers (and so needs a stretch).
    pub fn is_quantized(self) -> bool {
        matches!(self, OutputFormat::Png8 | OutputFormat::Png16)
    }
}

/// Encodes `values` in `format` (PNG stretched with `stretch`; `f64` formats exact,
/// `f32` formats rounded once).
pub fn encode(
    values: ArrayView2<'_, f64>,
    format: OutputFormat,
    stretch: Stretch,
    path: &Path,
) -> Result<Vec<u8>> {
    let (rows, cols) = values.dim();
    if let Some(((row, col), _)) = values.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(Error::NonFinite {
            path: path.to_path_buf(),
            row,
            col,
            what: "image to write",
        });
    }
    let encode_err = |source| Error::Encode {
        path: path.to_path_buf(),
        source,
    };
    let (width, height) = (cols as u32, rows as u32);
    let mut out = Cursor::new(Vec::new());
    match format {
        OutputFormat::Png8 => {
            let pixels: Vec<u8> = to_u8(values, stretch).iter().copied().collect();
            image::GrayImage::from_raw(width, height, pixels)
                .ok_or_else(|| size_mismatch(path, rows, cols))?
                .write_to(&mut out, image::ImageFormat::Png)
                .map_err(encode_err)?;
        }
        OutputFormat::Png16 => {
            let pixels: Vec<u16> = to_u16(values, stretch).iter().copied().collect();
            image::ImageBuffer::<image::Luma<u16>, Vec<u16>>::from_raw(width, height, pixels)
                .ok_or_else(|| size_mismatch(path, rows, cols))?
                .write_to(&mut out, image::ImageFormat::Png)
                .map_err(encode_err)?;
        }
        OutputFormat::TiffF32 | OutputFormat::TiffF64 => {
            let tiff_err = |e: tiff::TiffError| Error::Header {
                path: path.to_path_buf(),
                format: "TIFF",
                message: format!("cannot encode: {e}"),
            };
            let mut encoder = tiff::encoder::TiffEncoder::new(&mut out).map_err(tiff_err)?;
            if format == OutputFormat::TiffF32 {
                let pixels: Vec<f32> = values.iter().map(|&v| v as f32).collect();
                encoder
                    .write_image::<tiff::encoder::colortype::Gray32Float>(width, height, &pixels)
                    .map_err(tiff_err)?;
            } else {
                let pixels: Vec<f64> = values.iter().copied().collect();
                encoder
                    .write_image::<tiff::encoder::colortype::Gray64Float>(width, height, &pixels)
                    .map_err(tiff_err)?;
            }
        }
        OutputFormat::NpyF32 => return Ok(npy::encode_f32(&values.mapv(|v| v as f32))),
        OutputFormat::NpyF64 => {
            return Ok(npy::encode_f64(
                &[rows, cols],
                &values.iter().copied().collect::<Vec<_>>(),
            ));
        }
    }
    Ok(out.into_inner())
}

fn size_mismatch(path: &Path, rows: usize, cols: usize) -> Error {
    Error::InvalidArgument {
        what: "image writer",
        message: format!(
            "{rows}x{cols} pixels do not fit an image buffer for {}",
            path.display()
        ),
    }
}

/// Writes `values` to `path` in `format` (see [`encode`]).
pub fn write(
    values: ArrayView2<'_, f64>,
    format: OutputFormat,
    stretch: Stretch,
    path: &Path,
) -> Result<()> {
    let bytes = encode(values, format, stretch, path)?;
    crate::safe_write::write_bytes_atomic(path, &bytes)
}

/// How sample values are mapped before they are written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum IntensityMap {
    /// Values as read (linear magnitude for SAR data).
    Linear,
    /// Decibels, `20·log10(max(x, floor))`.
    Db { floor: f64 },
}

impl IntensityMap {
    pub fn apply(self, values: ArrayView2<'_, f64>) -> Array2<f64> {
        match self {
            IntensityMap::Linear => values.to_owned(),
            IntensityMap::Db { floor } => magnitude_to_db(values, floor),
        }
    }
}

/// Everything `sarlab dataset convert` needs to write one chip.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConvertOptions {
    pub format: OutputFormat,
    pub intensity: IntensityMap,
    /// Used by the integer formats only.
    pub stretch: Stretch,
}

/// Output file name for a chip named `name` inside its dataset: path separators become
/// `_` and a known image extension is replaced; other endings (MSTAR's `.015`) are kept.
pub fn output_name(name: &str, format: OutputFormat) -> String {
    let flat = name.replace(['/', '\\'], "_");
    let stem = match flat.rsplit_once('.') {
        Some((stem, ext))
            if ["png", "jpg", "jpeg", "tif", "tiff", "npy"]
                .contains(&ext.to_ascii_lowercase().as_str()) =>
        {
            stem.to_owned()
        }
        _ => flat,
    };
    format!("{stem}.{}", format.extension())
}

/// Writes every chip of `dataset` as `<out>/<split>/<class>/<name>.<ext>`: an image-folder
/// dataset any tool (and sarlab) can read. `out` must not exist; chips are written to a
/// staging folder renamed into place at the end, so a failure leaves nothing behind.
/// Returns the number of chips written.
pub fn convert_dataset(
    dataset: &Dataset,
    out: &Path,
    options: ConvertOptions,
    on_chip: &(dyn Fn() + Sync),
) -> Result<usize> {
    if out.exists() {
        return Err(Error::InvalidArgument {
            what: "output folder",
            message: format!("{} already exists: choose a new folder", out.display()),
        });
    }
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let staging = parent.join(format!(
        ".{}.partial-{}",
        out.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("converted"),
        std::process::id()
    ));
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Write { path, source }
    };
    let result = dataset
        .chips
        .par_iter()
        .try_for_each(|chip| {
            let dir = staging
                .join(chip.split.name())
                .join(&dataset.classes[chip.class_index]);
            fs::create_dir_all(&dir).map_err(write_err(&dir))?;
            let path = dir.join(output_name(&chip.file_name, options.format));
            if path.exists() {
                return Err(Error::InvalidArgument {
                    what: "output name",
                    message: format!("two chips map to {}", path.display()),
                });
            }
            let values = options.intensity.apply(chip.image.to_f64().view());
            write(values.view(), options.format, options.stretch, &path)?;
            on_chip();
            Ok(())
        })
        .and_then(|()| fs::rename(&staging, out).map_err(write_err(out)));
    if result.is_err() {
        let _ = fs::remove_dir_all(&staging);
    }
    result.map(|()| dataset.chips.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chip_file::{DecodeOptions, decode};
    use ndarray::array;

    #[test]
    fn db_round_trip_and_floor() {
        let m = array![[1.0f64, 0.1, 0.0]];
        let db = magnitude_to_db(m.view(), 1e-4);
        assert_eq!(db, array![[0.0, -20.0, -80.0]]);
        let back = db_to_magnitude(db.view());
        assert!((back[[0, 1]] - 0.1).abs() < 1e-7 && (back[[0, 2]] - 1e-4).abs() < 1e-10);
    }

    #[test]
    fn percentiles_match_numpy_linear() {
        // numpy.percentile([1, 2, 3, 4, 10], [10, 50, 95]) == [1.4, 3.0, 8.8]
        let sorted = [1.0f64, 2.0, 3.0, 4.0, 10.0];
        assert!((percentile(&sorted, 10.0) - 1.4).abs() < 1e-6);
        assert_eq!(percentile(&sorted, 50.0), 3.0);
        assert!((percentile(&sorted, 95.0) - 8.8).abs() < 1e-5);
    }

    #[test]
    fn stretches_quantize_and_clip() {
        let v = array![[0.0f64, 0.5, 1.0, 100.0]];
        assert_eq!(to_u8(v.view(), Stretch::MinMax), array![[0, 1, 3, 255]]);
        assert_eq!(
            to_u8(
                v.view(),
                Stretch::Fixed {
                    low: 0.0,
                    high: 1.0
                }
            ),
            array![[0, 128, 255, 255]]
        );
        assert_eq!(
            to_u16(
                v.view(),
                Stretch::Fixed {
                    low: 0.0,
                    high: 1.0
                }
            ),
            array![[0, 32768, 65535, 65535]]
        );
        let p = "p0-50".parse::<Stretch>().expect("parse");
        // 50th percentile of [0, .5, 1, 100] is 0.75: 1.0 and 100 clip to 255.
        assert_eq!(to_u8(v.view(), p), array![[0, 170, 255, 255]]);
        assert_eq!(
            to_u8(array![[3.0f64, 3.0]].view(), Stretch::MinMax),
            array![[0, 0]]
        );
        for bad in ["p99-1", "p1", "fixed:2:1", "max", "p-1-5"] {
            assert!(bad.parse::<Stretch>().is_err(), "{bad}");
        }
        assert_eq!(
            "fixed:0:1".parse::<Stretch>().expect("fixed"),
            Stretch::Fixed {
                low: 0.0,
                high: 1.0
            }
        );
    }

    #[test]
    fn output_names_keep_mstar_endings() {
        assert_eq!(
            output_name("17_DEG/T72/HB03787.015", OutputFormat::Png8),
            "17_DEG_T72_HB03787.015.png"
        );
        assert_eq!(
            output_name("hb19377.JPG", OutputFormat::TiffF32),
            "hb19377.tif"
        );
        assert_eq!(output_name("a.png", OutputFormat::NpyF32), "a.npy");
    }

    #[test]
    fn every_output_format_reads_back() {
        // 0.1 and 1/3 are not f32 values: the f64 formats must keep them exactly.
        let v = array![[0.0f64, 0.1], [1.0 / 3.0, 1.0]];
        let p = Path::new("out");
        let unit = Stretch::Fixed {
            low: 0.0,
            high: 1.0,
        };
        for format in [
            OutputFormat::Png8,
            OutputFormat::Png16,
            OutputFormat::TiffF32,
            OutputFormat::TiffF64,
            OutputFormat::NpyF32,
            OutputFormat::NpyF64,
        ] {
            let bytes = encode(v.view(), format, unit, p).expect("encode");
            let back = decode(&bytes, p, &DecodeOptions::default())
                .expect("decode")
                .image
                .to_f64();
            let tolerance = match format {
                OutputFormat::Png8 => 0.5 / 255.0 + 1e-12,
                OutputFormat::Png16 => 0.5 / 65535.0 + 1e-12,
                OutputFormat::TiffF32 | OutputFormat::NpyF32 => 1e-7,
                OutputFormat::TiffF64 | OutputFormat::NpyF64 => 0.0,
            };
            for (a, b) in back.iter().zip(&v) {
                assert!((a - b).abs() <= tolerance, "{format:?}: {a} vs {b}");
            }
        }
        let err = encode(array![[f64::NAN]].view(), OutputFormat::NpyF32, unit, p).unwrap_err();
        assert!(err.to_string().contains("row 0, column 0"), "{err}");
    }
}
