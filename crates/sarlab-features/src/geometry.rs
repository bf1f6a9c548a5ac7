//! Geometry features: the size of the image and the shape of the target and its shadow,
//! from the masks of `sarlab_filter::segment` on the image the features see.
//!
//! For a mask, as `skimage.measure.regionprops` measures a region: its `area` (pixels),
//! and `major_axis_length` / `minor_axis_length`, `4·√λ` of the eigenvalues of the
//! inertia tensor of its pixel coordinates — the length and width of the ellipse with
//! the region's second moments. An empty mask measures 0. Orientation is left out on
//! purpose: it is the target's pose, not its class.
//!
//! The image size is the first two features, so without a crop a dataset whose chips
//! vary in size (ship patches) keeps each chip's size as signal; geometry alone takes
//! images of any size, and in a fusion the size is the common one.

use ndarray::{Array2, ArrayView2};
use sarlab_filter::segment::Segmentation;

use crate::error::{Error, Result};

/// The names of the features, in output order.
pub const FEATURE_NAMES: [&str; 8] = [
    "rows",
    "cols",
    "target_area",
    "target_length",
    "target_width",
    "shadow_area",
    "shadow_length",
    "shadow_width",
];

/// Geometry with the segmentation that makes its masks.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct GeometryParams {
    pub segmentation: Segmentation,
}

/// A region's shape as `skimage.measure.regionprops` gives it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RegionShape {
    pub area: usize,
    /// Centre of mass `(row, col)`.
    pub centroid: (f64, f64),
    pub major_axis_length: f64,
    pub minor_axis_length: f64,
    /// skimage's `orientation`: the angle in radians, in `[-π/2, π/2]`, between the
    /// row axis and the major axis, counter-clockwise as seen with rows down.
    pub orientation: f64,
}

/// The shape of the `true` pixels of `mask`; `None` when there are none.
pub fn region_shape(mask: ArrayView2<'_, bool>) -> Option<RegionShape> {
    let (mut n, mut sr, mut sc) = (0usize, 0.0, 0.0);
    for ((r, c), &inside) in mask.indexed_iter() {
        if inside {
            n += 1;
            sr += r as f64;
            sc += c as f64;
        }
    }
    if n == 0 {
        return None;
    }
    let (mr, mc) = (sr / n as f64, sc / n as f64);
    // Central moments: mu20 along rows, mu02 along columns.
    let (mut mu20, mut mu02, mut mu11) = (0.0, 0.0, 0.0);
    for ((r, c), &inside) in mask.indexed_iter() {
        if inside {
            let (dr, dc) = (r as f64 - mr, c as f64 - mc);
            mu20 += dr * dr;
            mu02 += dc * dc;
            mu11 += dr * dc;
        }
    }
    let m0 = n as f64;
    // skimage's inertia tensor: [[mu02, -mu11], [-mu11, mu20]] / mu00.
    let (a, b, c) = (mu02 / m0, -mu11 / m0, mu20 / m0);
    let mean = (a + c) / 2.0;
    let spread = (((a - c) / 2.0).powi(2) + b * b).sqrt();
    let (l1, l2) = ((mean + spread).max(0.0), (mean - spread).max(0.0));
    let orientation = if a - c == 0.0 {
        if b < 0.0 {
            -std::f64::consts::FRAC_PI_4
        } else {
            std::f64::consts::FRAC_PI_4
        }
    } else {
        0.5 * (-2.0 * b).atan2(c - a)
    };
    Some(RegionShape {
        area: n,
        centroid: (mr, mc),
        major_axis_length: 4.0 * l1.sqrt(),
        minor_axis_length: 4.0 * l2.sqrt(),
        orientation,
    })
}

impl GeometryParams {
    pub fn validate(&self) -> Result<()> {
        // Sizes are checked against the image when it is seen; here the parameters alone.
        let side = sarlab_filter::segment::MAX_SIDE;
        self.segmentation
            .validate(side, side)
            .map_err(|e| Error::InvalidParameter {
                name: "segment",
                message: e.to_string(),
            })
    }

    pub fn output_len(&self, rows: usize, cols: usize) -> Result<usize> {
        self.segmentation
            .validate(rows, cols)
            .map_err(|e| Error::InvalidParameter {
                name: "segment",
                message: format!("on a {rows}x{cols} image: {e}"),
            })?;
        Ok(FEATURE_NAMES.len())
    }

    pub fn extract(&self, image: ArrayView2<'_, f64>) -> Result<Vec<f64>> {
        let (rows, cols) = image.dim();
        self.output_len(rows, cols)?;
        let masks = self
            .segmentation
            .masks(image)
            .map_err(|e| Error::InvalidParameter {
                name: "segment",
                message: e.to_string(),
            })?;
        let mut out = vec![rows as f64, cols as f64];
        for mask in [&masks.target, &masks.shadow] {
            out.extend(shape_features(mask));
        }
        Ok(out)
    }
}

fn shape_features(mask: &Array2<bool>) -> [f64; 3] {
    match region_shape(mask.view()) {
        Some(shape) => [
            shape.area as f64,
            shape.major_axis_length,
            shape.minor_axis_length,
        ],
        None => [0.0; 3],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rectangle_measures_as_skimage_does() {
        // skimage.measure.regionprops of a 5×11 block: area 55, major 4·√(λ) with
        // λ = (11² − 1)/12 = 10, minor with λ = (5² − 1)/12 = 2; orientation ±π/2
        // (the major axis along the columns).
        let mut mask = Array2::from_elem((20, 30), false);
        mask.slice_mut(ndarray::s![4..9, 10..21]).fill(true);
        let shape = region_shape(mask.view()).expect("pixels");
        assert_eq!(shape.area, 55);
        assert!((shape.major_axis_length - 4.0 * 10f64.sqrt()).abs() < 1e-12);
        assert!((shape.minor_axis_length - 4.0 * 2f64.sqrt()).abs() < 1e-12);
        assert!((shape.orientation.abs() - std::f64::consts::FRAC_PI_2).abs() < 1e-12);
        assert_eq!(shape.centroid, (6.0, 15.0));
        assert!(region_shape(Array2::from_elem((3, 3), false).view()).is_none());
    }

    #[test]
    fn a_diagonal_bar_is_oriented_at_forty_five_degrees() {
        let mask = Array2::from_shape_fn((20, 20), |(r, c)| r == c);
        let shape = region_shape(mask.view()).expect("pixels");
        assert!((shape.orientation.abs() - std::f64::consts::FRAC_PI_4).abs() < 1e-12);
        assert!(shape.minor_axis_length < 1e-6);
    }

    #[test]
    fn features_are_size_then_target_then_shadow() {
        let image = Array2::from_shape_fn((40, 36), |(r, c)| {
            if (14..22).contains(&r) && (10..26).contains(&c) {
                0.9
            } else if (22..30).contains(&r) && (10..26).contains(&c) {
                0.004
            } else {
                0.04 + 0.02 * (((r * 31 + c * 17) % 13) as f64 / 13.0)
            }
        });
        let geometry = GeometryParams::default();
        let v = geometry.extract(image.view()).expect("features");
        assert_eq!(v.len(), FEATURE_NAMES.len());
        assert_eq!((v[0], v[1]), (40.0, 36.0));
        assert!(v[2] > 100.0 && v[3] > v[4], "{v:?}");
        assert!(v[5] > 50.0, "{v:?}");
        let flat = Array2::from_elem((20, 20), 0.5);
        let v = geometry.extract(flat.view()).expect("flat");
        assert_eq!(&v[2..], &[0.0; 6]);
        assert!(geometry.output_len(3, 3).is_err());
    }
}
