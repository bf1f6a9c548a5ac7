//! Preprocessing of SAR chips before feature extraction, and a frequency-filtering lab:
//! centre cropping to a common size, intensity transforms (linear, dB, square root),
//! 2-D FFTs with numpy's conventions (`fft`), Gonzalez & Woods frequency-domain masks
//! (`frequency`), spatial kernels' frequency responses (`kernels`), per-chip normalisation (`normalize`), amplitude/phase experiments
//! (`amplitude_phase`), target and shadow segmentation (`segment`) and speckle filters (`spatial`: mean, median, Gaussian as in
//! scipy.ndimage, Lee, Frost, histogram equalisation).
//!
//! Compute only: functions take and return in-memory `ndarray` images and never touch
//! files. Every stage is deterministic.

pub mod amplitude_phase;
pub mod augment;
mod boundary;
mod error;
pub mod fft;
pub mod frequency;
pub mod kernels;
pub mod lee_sigma;
pub mod normalize;
pub mod pad;
pub mod pose;
pub mod resize;
pub mod segment;
pub mod spatial;
pub mod speckle_quality;

use std::fmt;
use std::str::FromStr;

use std::ops::Range;

use ndarray::{Array2, ArrayView2, s};

pub use error::{Error, Result};

/// Magnitudes below this are clamped before taking logarithms (−80 dB), so that zero
/// pixels (common in 8-bit exports) do not become −∞.
pub const DB_FLOOR: f64 = 1e-4;

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

    pub fn apply(self, image: &mut Array2<f64>) {
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

/// The rows and columns of the `size × size` window at the centre of a `rows × cols`
/// image. When the margin is odd the extra row or column is left at the bottom/right,
/// as `img[(h-size)//2 :][:size]` does.
pub fn center_window(
    (rows, cols): (usize, usize),
    size: usize,
) -> Result<(Range<usize>, Range<usize>)> {
    if size == 0 {
        return Err(Error::ZeroCrop);
    }
    if size > rows || size > cols {
        return Err(Error::CropTooLarge { size, rows, cols });
    }
    let (r0, c0) = ((rows - size) / 2, (cols - size) / 2);
    Ok((r0..r0 + size, c0..c0 + size))
}

/// The `size × size` window at the centre of `image` (see [`center_window`]).
pub fn center_crop<T: Clone>(image: ArrayView2<'_, T>, size: usize) -> Result<Array2<T>> {
    let (rows, cols) = center_window(image.dim(), size)?;
    Ok(image.slice(s![rows, cols]).to_owned())
}

/// The window of a `rows × cols` chip that serves every crop in `crops` (`None`: the
/// whole chip): the bounding box of their centre windows, so a loader can keep only
/// it. Each centre crop of the chip lies inside it.
pub fn window_for_crops(
    dim: (usize, usize),
    crops: impl IntoIterator<Item = Option<usize>>,
) -> Result<(Range<usize>, Range<usize>)> {
    let mut union: Option<(Range<usize>, Range<usize>)> = None;
    for crop in crops {
        let (rows, cols) = match crop {
            Some(size) => center_window(dim, size)?,
            None => (0..dim.0, 0..dim.1),
        };
        union = Some(match union {
            None => (rows, cols),
            Some((r, c)) => (
                r.start.min(rows.start)..r.end.max(rows.end),
                c.start.min(cols.start)..c.end.max(cols.end),
            ),
        });
    }
    Ok(union.unwrap_or((0..dim.0, 0..dim.1)))
}

/// The preprocessing applied to every chip before feature extraction, in this order:
/// centre crop (turned to the canonical pose when asked, from the stored values around
/// the crop; see [`Preprocess::prepare`]), padding of short sides, resize (as
/// `skimage.transform.resize`), target segmentation (on the stored magnitudes; what
/// it drops is set to zero), speckle filter (on the stored linear values, which its multiplicative
/// noise model assumes), intensity transform, frequency filter (on what features see),
/// per-chip normalisation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Preprocess {
    /// Centre crop to this size; `None` keeps the chip as it is.
    pub crop: Option<usize>,
    /// Resize (after the crop) to `resize × resize` pixels; `None` keeps the size.
    pub resize: Option<usize>,
    /// Pads a chip side shorter than the crop up to it (`None`: such a chip is an
    /// error).
    pub pad: Option<pad::PadMode>,
    /// Turns each chip to a canonical pose (`None`: as imaged).
    pub pose: Option<pose::Pose>,
    /// Keeps the target (and its shadow) and zeroes the clutter (`None`: no masking).
    pub segment: Option<segment::Segmentation>,
    pub speckle: Option<spatial::SpeckleFilter>,
    pub intensity: Intensity,
    pub filter: Option<frequency::FrequencyFilter>,
    /// Rescales each chip last (`None`: values as the stages before leave them).
    pub normalize: Option<normalize::ChipNorm>,
}

impl Preprocess {
    /// Every stage on an image, in `f64` throughout.
    pub fn apply(&self, image: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        self.apply_with_azimuth(image, None)
    }

    /// [`Preprocess::apply`] with the chip's header azimuth (for `pose = header`).
    pub fn apply_with_azimuth(
        &self,
        image: ArrayView2<'_, f64>,
        azimuth_deg: Option<f64>,
    ) -> Result<Array2<f64>> {
        let window = self.window(image.dim())?;
        self.prepare(image, window, azimuth_deg)
    }

    /// How far around its crop window a chip's stored values are read (the pose turn's
    /// reach; 0 without a pose or a crop).
    pub fn margin(&self) -> usize {
        match (self.pose, self.crop) {
            (Some(_), Some(crop)) => pose::Pose::margin(crop),
            _ => 0,
        }
    }

    /// The part of a `(rows, cols)` chip [`Preprocess::prepare`] reads — the crop window
    /// and [`Preprocess::margin`] around it, within the chip — and the crop window's
    /// place inside that part.
    #[allow(clippy::type_complexity)]
    pub fn source_window(
        &self,
        dim: (usize, usize),
    ) -> Result<((Range<usize>, Range<usize>), (Range<usize>, Range<usize>))> {
        let (rows, cols) = self.window(dim)?;
        let margin = self.margin();
        let outer = (
            rows.start.saturating_sub(margin)..(rows.end + margin).min(dim.0),
            cols.start.saturating_sub(margin)..(cols.end + margin).min(dim.1),
        );
        let inner = (
            rows.start - outer.0.start..rows.end - outer.0.start,
            cols.start - outer.1.start..cols.end - outer.1.start,
        );
        Ok((outer, inner))
    }

    /// Every stage, given the chip's stored values around its crop `window` (`source`
    /// reaches [`Preprocess::margin`] beyond it, or the chip's edge): the window, turned
    /// to the canonical pose when asked, then [`Preprocess::after_crop`].
    pub fn prepare(
        &self,
        source: ArrayView2<'_, f64>,
        window: (Range<usize>, Range<usize>),
        azimuth_deg: Option<f64>,
    ) -> Result<Array2<f64>> {
        let Some(pose) = self.pose else {
            return self.after_crop(source.slice(s![window.0, window.1]).to_owned());
        };
        let segmentation = self.segment.unwrap_or_default();
        let turned = match pose.angle(source, &window, &segmentation, azimuth_deg)? {
            Some(degrees) => pose::rotate_window(source, &window, degrees)?,
            None => source.slice(s![window.0, window.1]).to_owned(),
        };
        self.after_crop(turned)
    }

    /// The size of what the stages make of a `(rows, cols)` chip: the resize, else the
    /// crop, else the chip's own.
    pub fn output_size(&self, chip: (usize, usize)) -> (usize, usize) {
        match (self.resize, self.crop) {
            (Some(side), _) | (None, Some(side)) => (side, side),
            (None, None) => chip,
        }
    }

    /// The window of a `(rows, cols)` image the crop keeps (all of it without a crop).
    pub fn window(&self, dim: (usize, usize)) -> Result<(Range<usize>, Range<usize>)> {
        match (self.crop, self.pad) {
            // A short side is kept whole and padded by `after_crop`.
            (Some(size), Some(_)) => {
                let side = |n: usize| {
                    if n < size {
                        0..n
                    } else {
                        let start = (n - size) / 2;
                        start..start + size
                    }
                };
                if size == 0 {
                    return Err(Error::ZeroCrop);
                }
                Ok((side(dim.0), side(dim.1)))
            }
            (Some(size), None) => center_window(dim, size),
            (None, _) => Ok((0..dim.0, 0..dim.1)),
        }
    }

    /// The stages after the crop (speckle filter, intensity, frequency filter) on an
    /// already cropped image: callers that hold chips in their stored sample type
    /// widen only the window ([`Preprocess::window`]) to `f64` and finish here.
    pub fn after_crop(&self, mut image: Array2<f64>) -> Result<Array2<f64>> {
        if let (Some(crop), Some(mode)) = (self.crop, self.pad)
            && (image.nrows() < crop || image.ncols() < crop)
        {
            image = pad::pad_to(image.view(), crop, crop, mode);
        }
        if let Some(side) = self.resize {
            image = resize::resize(image.view(), side, side)?;
        }
        if let Some(segmentation) = &self.segment {
            image = segmentation.apply(image.view())?;
        }
        if let Some(speckle) = &self.speckle {
            image = speckle.apply(image.view())?;
        }
        self.intensity.apply(&mut image);
        if let Some(filter) = &self.filter {
            image = filter.apply(image.view())?;
        }
        if let Some(norm) = self.normalize {
            norm.apply(&mut image);
        }
        Ok(image)
    }
}

impl fmt::Display for Preprocess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.crop {
            Some(crop) => write!(f, "crop={crop}")?,
            None => f.write_str("crop=none")?,
        }
        if let Some(pose) = self.pose {
            write!(f, " pose={pose}")?;
        }
        if let Some(mode) = self.pad {
            write!(f, " pad={mode}")?;
        }
        if let Some(side) = self.resize {
            write!(f, " resize={side}")?;
        }
        if let Some(segmentation) = &self.segment {
            write!(f, " segment={segmentation}")?;
        }
        if let Some(speckle) = &self.speckle {
            write!(f, " speckle={speckle}")?;
        }
        write!(f, " intensity={}", self.intensity)?;
        if let Some(filter) = &self.filter {
            write!(f, " filter={filter}")?;
        }
        if let Some(norm) = self.normalize {
            write!(f, " normalize={norm}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array;

    fn ramp(rows: usize, cols: usize) -> Array2<f64> {
        Array::from_shape_fn((rows, cols), |(r, c)| (r * cols + c) as f64)
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
        let img = Array2::from_elem((10, 10), 0.25f64);
        let p = Preprocess {
            crop: Some(4),
            intensity: Intensity::Sqrt,
            ..Default::default()
        };
        let out = p.apply(img.view()).expect("fits");
        assert_eq!(out.dim(), (4, 4));
        assert!(out.iter().all(|&v| v == 0.5));
    }

    #[test]
    fn a_window_for_several_crops_holds_each_centre_crop() {
        for dim in [(128, 128), (158, 159), (193, 192), (64, 65)] {
            let crops = [Some(64), Some(48), Some(33)];
            let (rows, cols) = window_for_crops(dim, crops).expect("fits");
            for size in crops.into_iter().flatten() {
                let (r, c) = center_window(dim, size).expect("fits");
                assert!(r.start >= rows.start && r.end <= rows.end, "{dim:?} {size}");
                assert!(c.start >= cols.start && c.end <= cols.end, "{dim:?} {size}");
            }
            assert_eq!(
                window_for_crops(dim, [Some(48), None]).expect("fits"),
                (0..dim.0, 0..dim.1)
            );
        }
        assert!(window_for_crops((30, 30), [Some(31)]).is_err());
    }

    #[test]
    fn preprocessing_is_f64_throughout() {
        // 1/255: an f32 round trip anywhere would change it.
        let img = Array2::from_elem((4, 4), 1.0 / 255.0);
        let p = Preprocess {
            speckle: Some("mean:window=3".parse().expect("speckle")),
            ..Default::default()
        };
        let out = p.apply(img.view()).expect("applies");
        assert!(
            out.iter().all(|&v| (v - 1.0 / 255.0).abs() < 1e-17),
            "{out}"
        );
        assert_ne!(f64::from((1.0f64 / 255.0) as f32), 1.0 / 255.0);
    }

    #[test]
    fn preprocess_stages_run_in_order() {
        // A constant image: speckle filters and a low-pass keep it, dB maps it.
        let img = Array2::from_elem((12, 12), 0.1f64);
        let p = Preprocess {
            crop: Some(8),
            speckle: Some("lee:window=3:looks=4".parse().expect("speckle")),
            intensity: Intensity::Db,
            filter: Some("gaussian:lowpass:cutoff=2".parse().expect("filter")),
            ..Preprocess::default()
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
