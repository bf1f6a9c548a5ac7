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
use sarlab_filter::segment::{Segmentation, region_shape};

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
