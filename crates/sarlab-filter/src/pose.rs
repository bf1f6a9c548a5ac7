//! Pose normalisation: each chip turned about its crop window's centre so that the
//! target lies in one canonical direction, whatever its aspect when imaged.
//!
//! * `mask` estimates the aspect from the chip itself: the major axis of the target
//!   mask's second moments (`sarlab_filter::segment`, skimage's `orientation`), turned
//!   onto the column axis. An axis has two directions; the rule that picks one is that
//!   the half of the target holding more of its return (the sum of its magnitudes on
//!   each side of the centroid along the axis) goes right. A chip whose mask is empty
//!   is left as it is.
//! * `header` turns the chip by the header's target azimuth (`TargetAz` of Phoenix
//!   files) instead: the aspect the collection recorded, `azimuth` degrees
//!   counter-clockwise as seen with rows down. Files without one are an error.
//!
//! Values are read from the stored magnitudes around the crop window (bilinear; beyond
//! the part of the chip given, mirrored at its edge), so a turned crop shows the
//! clutter that was really there where the chip has it.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use ndarray::{Array2, ArrayView2, s};

use crate::boundary::bilinear;
use crate::error::{Error, Result};
use crate::segment::{Segmentation, region_shape};

/// Where a chip's canonical pose comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pose {
    /// The target mask's principal axis.
    Mask,
    /// The header's target azimuth.
    Header,
}

impl Pose {
    pub const NAMES: [&'static str; 2] = ["mask", "header"];

    /// How far beyond a `crop`-sided window a turn may read: half the window's
    /// diagonal less half its side, and a pixel for the interpolation.
    pub fn margin(crop: usize) -> usize {
        ((crop as f64) * (std::f64::consts::SQRT_2 - 1.0) / 2.0).ceil() as usize + 1
    }

    /// The turn, in degrees counter-clockwise (rows down), that brings the chip's
    /// `window` of `source` to the canonical pose; `None` when the mask is empty.
    pub fn angle(
        self,
        source: ArrayView2<'_, f64>,
        window: &(Range<usize>, Range<usize>),
        segmentation: &Segmentation,
        azimuth_deg: Option<f64>,
    ) -> Result<Option<f64>> {
        match self {
            Pose::Header => match azimuth_deg {
                Some(a) if a.is_finite() => Ok(Some(a)),
                _ => Err(Error::InvalidFilter(
                    "`pose = header` needs each chip's target azimuth (TargetAz of a Phoenix file's header); this chip has none: use `pose = mask`".to_owned(),
                )),
            },
            Pose::Mask => {
                let chip = source.slice(s![window.0.clone(), window.1.clone()]);
                Ok(estimate_aspect(chip, segmentation)?)
            }
        }
    }
}

/// The target's aspect in degrees in `[0, 360)`: the direction of its mask's major
/// axis, counter-clockwise from the column axis as seen with rows down, pointing to
/// the half with more return. `None` for an empty mask.
pub fn estimate_aspect(
    chip: ArrayView2<'_, f64>,
    segmentation: &Segmentation,
) -> Result<Option<f64>> {
    let masks = segmentation.masks(chip)?;
    let Some(shape) = region_shape(masks.target.view()) else {
        return Ok(None);
    };
    // skimage's orientation θ is from the row axis; the axis direction in (row, col)
    // is (cos θ, sin θ).
    let (dr, dc) = (shape.orientation.cos(), shape.orientation.sin());
    let (cr, cc) = shape.centroid;
    let mut balance = 0.0;
    for ((r, c), &inside) in masks.target.indexed_iter() {
        if inside {
            balance += chip[[r, c]] * ((r as f64 - cr) * dr + (c as f64 - cc) * dc);
        }
    }
    let (dr, dc) = if balance < 0.0 { (-dr, -dc) } else { (dr, dc) };
    // Counter-clockwise as seen with rows down: up (−row) is +90°.
    let degrees = (-dr).atan2(dc).to_degrees();
    Ok(Some(degrees.rem_euclid(360.0)))
}

/// How estimated aspects agree with header azimuths. The header's zero and direction
/// are a convention of the collection, so the map `azimuth ≈ sign·aspect − offset` is
/// fitted (the sign with the smaller mean error, the offset as the circular mean of the
/// differences) before the errors are measured; with few chips the fit flatters.
#[derive(Debug, Clone, PartialEq)]
pub struct AspectAgreement {
    pub sign: f64,
    /// Offset of the axis (mod 180°) fit, degrees.
    pub axis_offset: f64,
    /// Per chip: the axis error, in `(−90, 90]` degrees (the 180° ambiguity ignored).
    pub axis_errors: Vec<f64>,
    /// Offset of the direction (mod 360°) fit, degrees.
    pub direction_offset: f64,
    /// Per chip: the direction error, in `(−180, 180]` degrees (the 180° rule judged).
    pub direction_errors: Vec<f64>,
}

/// [`AspectAgreement`] of `estimates` with `azimuths` (degrees, same length, at least
/// one); `None` when there are none.
pub fn aspect_agreement(estimates: &[f64], azimuths: &[f64]) -> Option<AspectAgreement> {
    if estimates.is_empty() || estimates.len() != azimuths.len() {
        return None;
    }
    // Circular mean of angles with period `period`, and the residuals about it.
    let fit = |diffs: &[f64], period: f64| -> (f64, Vec<f64>) {
        let k = 360.0 / period;
        let (s, c) = diffs.iter().fold((0.0, 0.0), |(s, c), d| {
            let (ds, dc) = (d * k).to_radians().sin_cos();
            (s + ds, c + dc)
        });
        let offset = (s.atan2(c).to_degrees() / k).rem_euclid(period);
        let errors = diffs
            .iter()
            .map(|d| {
                let e = (d - offset).rem_euclid(period);
                if e > period / 2.0 { e - period } else { e }
            })
            .collect();
        (offset, errors)
    };
    let mean_abs = |e: &[f64]| e.iter().map(|v| v.abs()).sum::<f64>() / e.len() as f64;
    let mut best: Option<AspectAgreement> = None;
    for sign in [1.0, -1.0] {
        let diffs: Vec<f64> = estimates
            .iter()
            .zip(azimuths)
            .map(|(e, a)| sign * e - a)
            .collect();
        let (axis_offset, axis_errors) = fit(&diffs, 180.0);
        let (direction_offset, direction_errors) = fit(&diffs, 360.0);
        let candidate = AspectAgreement {
            sign,
            axis_offset,
            axis_errors,
            direction_offset,
            direction_errors,
        };
        if best
            .as_ref()
            .is_none_or(|b| mean_abs(&candidate.axis_errors) < mean_abs(&b.axis_errors))
        {
            best = Some(candidate);
        }
    }
    best
}

/// The `window` of `source` turned by `degrees` counter-clockwise about the window's
/// centre: output pixel offsets are rotated back into the source and interpolated.
pub fn rotate_window(
    source: ArrayView2<'_, f64>,
    window: &(Range<usize>, Range<usize>),
    degrees: f64,
) -> Result<Array2<f64>> {
    let (rows, cols) = (window.0.clone(), window.1.clone());
    if rows.end > source.nrows() || cols.end > source.ncols() || rows.is_empty() || cols.is_empty()
    {
        return Err(Error::SizeMismatch {
            expected: (rows.end, cols.end),
            actual: source.dim(),
        });
    }
    let (h, w) = (rows.len(), cols.len());
    let (cr, cc) = (
        rows.start as f64 + (h as f64 - 1.0) / 2.0,
        cols.start as f64 + (w as f64 - 1.0) / 2.0,
    );
    // Turning the chip by +a maps the source direction at angle a onto the column
    // axis; an output offset (u, v) reads the source at R(a)·(u, v) with angles
    // counter-clockwise as seen with rows down (so up is −row).
    let (sin, cos) = degrees.to_radians().sin_cos();
    let mut out = Array2::<f64>::zeros((h, w));
    for i in 0..h {
        for j in 0..w {
            let u = i as f64 - (h as f64 - 1.0) / 2.0;
            let v = j as f64 - (w as f64 - 1.0) / 2.0;
            let r = cr + cos * u - sin * v;
            let c = cc + sin * u + cos * v;
            out[[i, j]] = bilinear(source, r, c);
        }
    }
    Ok(out)
}

impl fmt::Display for Pose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Pose::Mask => "mask",
            Pose::Header => "header",
        })
    }
}

impl FromStr for Pose {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim() {
            "mask" => Ok(Pose::Mask),
            "header" => Ok(Pose::Header),
            other => Err(Error::InvalidFilter(format!(
                "pose `{other}`: expected mask or header"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bright bar along `degrees` (counter-clockwise, rows down) through the centre of
    /// a `n × n` chip, brighter at its positive end, on dim clutter.
    fn bar(n: usize, degrees: f64) -> Array2<f64> {
        let (sin, cos) = degrees.to_radians().sin_cos();
        let centre = (n as f64 - 1.0) / 2.0;
        Array2::from_shape_fn((n, n), |(r, c)| {
            let (y, x) = (centre - r as f64, c as f64 - centre);
            let along = x * cos + y * sin;
            let across = -x * sin + y * cos;
            let clutter = 0.03 + 0.01 * (((r * 31 + c * 17) % 13) as f64 / 13.0);
            if along.abs() <= 12.0 && across.abs() <= 3.0 {
                if along > 0.0 { 0.9 } else { 0.6 }
            } else {
                clutter
            }
        })
    }

    fn circular_gap(a: f64, b: f64) -> f64 {
        let d = (a - b).rem_euclid(360.0);
        d.min(360.0 - d)
    }

    #[test]
    fn the_aspect_of_a_bar_is_its_direction_towards_the_bright_end() {
        let segmentation: Segmentation = "otsu:shadow=false".parse().expect("segmentation");
        for degrees in [0.0, 30.0, 90.0, 135.0, 200.0, 300.0] {
            let chip = bar(64, degrees);
            let aspect = estimate_aspect(chip.view(), &segmentation)
                .expect("masks")
                .expect("a target");
            assert!(circular_gap(aspect, degrees) < 2.0, "{degrees}: {aspect}");
        }
    }

    #[test]
    fn turning_by_the_aspect_brings_the_bar_to_the_column_axis() {
        let segmentation: Segmentation = "otsu:shadow=false".parse().expect("segmentation");
        let chip = bar(64, 50.0);
        let window = (0..64, 0..64);
        let aspect = Pose::Mask
            .angle(chip.view(), &window, &segmentation, None)
            .expect("angle")
            .expect("a target");
        let turned = rotate_window(chip.view(), &window, aspect).expect("turn");
        let again = estimate_aspect(turned.view(), &segmentation)
            .expect("masks")
            .expect("a target");
        assert!(circular_gap(again, 0.0) < 2.0, "{again}");
        // A zero turn is the window itself.
        let same = rotate_window(chip.view(), &(8..40, 10..42), 0.0).expect("turn");
        assert_eq!(same, chip.slice(s![8..40, 10..42]));
    }

    #[test]
    fn agreement_fits_the_convention_then_measures_the_errors() {
        // Azimuths = 90 − aspect (another zero, the other direction), one axis flipped.
        let aspects = [10.0, 75.0, 140.0, 300.0];
        let azimuths: Vec<f64> = aspects
            .iter()
            .enumerate()
            .map(|(i, a)| (90.0 - a + if i == 2 { 180.0 } else { 0.0 } + 1.0f64).rem_euclid(360.0))
            .collect();
        let agreement = aspect_agreement(&aspects, &azimuths).expect("chips");
        assert_eq!(agreement.sign, -1.0);
        assert!(
            agreement.axis_errors.iter().all(|e| e.abs() < 1e-9),
            "{agreement:?}"
        );
        // The flipped chip is a direction error of about 180°.
        assert!(agreement.direction_errors.iter().any(|e| e.abs() > 90.0));
        assert!(aspect_agreement(&[], &[]).is_none());
    }

    #[test]
    fn header_pose_needs_an_azimuth_and_names_are_checked() {
        let chip = bar(32, 0.0);
        let window = (0..32, 0..32);
        let err = Pose::Header
            .angle(chip.view(), &window, &Segmentation::default(), None)
            .unwrap_err();
        assert!(err.to_string().contains("TargetAz"), "{err}");
        assert_eq!(
            Pose::Header
                .angle(chip.view(), &window, &Segmentation::default(), Some(33.0))
                .expect("angle"),
            Some(33.0)
        );
        assert!("azimuth".parse::<Pose>().is_err());
        for pose in [Pose::Mask, Pose::Header] {
            assert_eq!(pose.to_string().parse::<Pose>().expect("round trip"), pose);
        }
        assert!(Pose::margin(64) >= 14);
    }
}
