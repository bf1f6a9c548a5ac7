//! Preprocessing of SAR chips before feature extraction, and a frequency-filtering lab:
//! centre cropping to a common size, intensity transforms (linear, dB, square root),
//! 2-D FFTs with numpy's conventions (`fft`), Gonzalez & Woods frequency-domain masks
//! (`frequency`), amplitude/phase experiments (`amplitude_phase`) and speckle filters
//! (`spatial`: mean, median, Gaussian as in scipy.ndimage, Lee, Frost, histogram
//! equalisation).
//!
//! Compute only: functions take and return in-memory `ndarray` images and never touch
//! files. Every stage is deterministic.

pub mod amplitude_phase;
mod error;
pub mod fft;
pub mod frequency;
pub mod spatial;

use std::fmt;
use std::str::FromStr;

use ndarray::{Array2, ArrayView2, s};

pub use error::{Error, Result};

/// Magnitudes below this are clamped before taking logarithms (−80 dB), so that zero
/// pixels (common in 8-bit exports) do not become −∞.
pub const DB_FLOOR: f32 = 1e-4;

/// How pixel values are mapped before features are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Intensity {
    /// Values as stored (linear magnitude for MSTAR exports).
    #[default]
    Linear,
    /// `20·log10(max(x, DB_FLOOR))`: decibels of a magnitude image. Compresses the huge
    /// dynamic range of point scatterers against clutter.
    Db,
    /// `sqrt(x)`: a milder compression.
    Sqrt,
}

impl Intensity {
    pub const ALL: [Intensity; 3] = [Intensity::Linear, Intensity::Db, Intensity::Sqrt];

    pub fn name(self) -> &'static str {
        match self {
            Intensity::Linear => "linear",
            Intensity::Db => "db",
            Intensity::Sqrt => "sqrt",
        }
    }

    pub fn apply(self, image: &mut Array2<f32>) {
        match self {
            Intensity::Linear => {}
            Intensity::Db => image.mapv_inplace(|x| 20.0 * x.max(DB_FLOOR).log10()),
            Intensity::Sqrt => image.mapv_inplace(|x| x.max(0.0).sqrt()),
        }
    }
}

impl fmt::Display for Intensity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Intensity {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Intensity::ALL
            .into_iter()
            .find(|i| i.name() == s)
            .ok_or_else(|| Error::UnknownIntensity(s.to_owned()))
    }
}

/// The `size × size` window at the centre of `image`. When the margin is odd the extra
/// row or column is left at the bottom/right, as `img[(h-size)//2 :][:size]` does.
pub fn center_crop(image: ArrayView2<'_, f32>, size: usize) -> Result<Array2<f32>> {
    let (rows, cols) = image.dim();
    if size == 0 {
        return Err(Error::ZeroCrop);
    }
    if size > rows || size > cols {
        return Err(Error::CropTooLarge { size, rows, cols });
    }
    let (r0, c0) = ((rows - size) / 2, (cols - size) / 2);
    Ok(image.slice(s![r0..r0 + size, c0..c0 + size]).to_owned())
}

/// The preprocessing applied to every chip before feature extraction, in this order:
/// centre crop, speckle filter (on the stored linear values, which its multiplicative
/// noise model assumes), intensity transform, frequency filter (on what features see).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Preprocess {
    /// Centre crop to this size; `None` keeps the chip as it is.
    pub crop: Option<usize>,
    pub speckle: Option<spatial::SpeckleFilter>,
    pub intensity: Intensity,
    pub filter: Option<frequency::FrequencyFilter>,
}

impl Preprocess {
    pub fn apply(&self, image: ArrayView2<'_, f32>) -> Result<Array2<f32>> {
        let mut out = match self.crop {
            Some(size) => center_crop(image, size)?,
            None => image.to_owned(),
        };
        if self.speckle.is_none() && self.filter.is_none() {
            self.intensity.apply(&mut out);
            return Ok(out);
        }
        let mut wide = out.mapv(f64::from);
        if let Some(speckle) = &self.speckle {
            wide = speckle.apply(wide.view())?;
        }
        let mut narrow = wide.mapv(|v| v as f32);
        self.intensity.apply(&mut narrow);
        if let Some(filter) = &self.filter {
            narrow = filter
                .apply(narrow.mapv(f64::from).view())?
                .mapv(|v| v as f32);
        }
        Ok(narrow)
    }
}

impl fmt::Display for Preprocess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.crop {
            Some(crop) => write!(f, "crop={crop}")?,
            None => f.write_str("crop=none")?,
        }
        if let Some(speckle) = &self.speckle {
            write!(f, " speckle={speckle}")?;
        }
        write!(f, " intensity={}", self.intensity)?;
        if let Some(filter) = &self.filter {
            write!(f, " filter={filter}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array;

    fn ramp(rows: usize, cols: usize) -> Array2<f32> {
        Array::from_shape_fn((rows, cols), |(r, c)| (r * cols + c) as f32)
    }

    #[test]
    fn crop_takes_the_centre_like_numpy_slicing() {
        // 7x6 image, crop 4: rows (7-4)//2 = 1.., cols (6-4)//2 = 1..
        let img = ramp(7, 6);
        let out = center_crop(img.view(), 4).expect("fits");
        assert_eq!(out.dim(), (4, 4));
        assert_eq!(out[[0, 0]], img[[1, 1]]);
        assert_eq!(out[[3, 3]], img[[4, 4]]);
    }

    #[test]
    fn crop_larger_than_image_is_an_error_with_sizes() {
        let err = center_crop(ramp(5, 9).view(), 6).unwrap_err();
        assert_eq!(
            err,
            Error::CropTooLarge {
                size: 6,
                rows: 5,
                cols: 9
            }
        );
        assert!(err.to_string().contains("5x9"));
        assert_eq!(
            center_crop(ramp(5, 5).view(), 0).unwrap_err(),
            Error::ZeroCrop
        );
    }

    #[test]
    fn db_of_magnitude_and_floor() {
        let mut img = Array2::from_shape_vec((1, 3), vec![1.0, 0.1, 0.0]).expect("shape");
        Intensity::Db.apply(&mut img);
        assert!((img[[0, 0]] - 0.0).abs() < 1e-6);
        assert!((img[[0, 1]] + 20.0).abs() < 1e-5);
        assert!((img[[0, 2]] + 80.0).abs() < 1e-4);
    }

    #[test]
    fn intensity_names_round_trip_and_unknown_is_named() {
        for i in Intensity::ALL {
            assert_eq!(i.name().parse::<Intensity>(), Ok(i));
        }
        let err = "log2".parse::<Intensity>().unwrap_err();
        assert!(err.to_string().contains("`log2`"));
    }

    #[test]
    fn preprocess_crops_then_transforms() {
        let img = Array2::from_elem((10, 10), 0.25f32);
        let p = Preprocess {
            crop: Some(4),
            intensity: Intensity::Sqrt,
            ..Default::default()
        };
        let out = p.apply(img.view()).expect("fits");
        assert_eq!(out.dim(), (4, 4));
        assert!(out.iter().all(|&v| (v - 0.5).abs() < 1e-7));
    }

    #[test]
    fn preprocess_stages_run_in_order() {
        // A constant image: speckle filters and a low-pass keep it, dB maps it.
        let img = Array2::from_elem((12, 12), 0.1f32);
        let p = Preprocess {
            crop: Some(8),
            speckle: Some("lee:window=3:looks=4".parse().expect("speckle")),
            intensity: Intensity::Db,
            filter: Some("gaussian:lowpass:cutoff=2".parse().expect("filter")),
        };
        let out = p.apply(img.view()).expect("applies");
        assert_eq!(out.dim(), (8, 8));
        assert!(out.iter().all(|&v| (v + 20.0).abs() < 1e-4), "{out}");
        assert_eq!(
            p.to_string(),
            "crop=8 speckle=lee:window=3:looks=4 intensity=db filter=gaussian:lowpass:cutoff=2"
        );
        // A high-pass removes the mean of a constant dB image entirely.
        let high = Preprocess {
            filter: Some(
                "butterworth:highpass:cutoff=2:order=2"
                    .parse()
                    .expect("filter"),
            ),
            ..p
        };
        assert!(
            high.apply(img.view())
                .expect("applies")
                .iter()
                .all(|v| v.abs() < 1e-4)
        );
    }
}
