//! Feature banks for SAR chips: raw pixels, HOG (identical to `skimage.feature.hog`),
//! Gabor banks (kernels and responses identical to `skimage.filters`), spectral
//! features, geometry (size and target/shadow shape from segmentation masks), their fusion (several methods' vectors as weighted blocks), a common
//! [`FeatureMethod`] interface and parallel extraction over chips.
//! The transforms learned before the SVM (scaler, PCA) are `sarlab-transform`'s.
//!
//! Compute only: everything takes and returns in-memory arrays, and results do not
//! depend on the number of threads.

mod error;
pub mod fusion;
pub mod gabor;
pub mod geometry;
mod hog;
mod raw;
mod settings;
pub mod spectral;

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

pub use error::{Error, Result};

/// The largest image side the extractors take: every feature count then fits in
/// 64 bits with room to spare (HOG's, the largest, is at most `side² · 10⁴`).
pub const MAX_IMAGE_SIDE: usize = 65_536;
pub use hog::{BlockNorm, HogParams, hog, hog_image};
pub use raw::{RawParams, raw_pixels};
pub use settings::SettingKind;

/// A feature extractor with its parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum FeatureMethod {
    Raw(RawParams),
    Hog(HogParams),
    Gabor(gabor::GaborBankParams),
    Spectral(spectral::SpectralParams),
    Fusion(fusion::FusionParams),
    Geometry(geometry::GeometryParams),
}

impl FeatureMethod {
    /// The method's name as used in experiment specs and reports.
    pub fn name(&self) -> &'static str {
        match self {
            FeatureMethod::Raw(_) => "raw",
            FeatureMethod::Hog(_) => "hog",
            FeatureMethod::Gabor(_) => "gabor",
            FeatureMethod::Spectral(_) => "spectral",
            FeatureMethod::Fusion(_) => "fusion",
            FeatureMethod::Geometry(_) => "geometry",
        }
    }

    /// Checks the parameters on their own (not against an image size).
    pub fn validate(&self) -> Result<()> {
        match self {
            FeatureMethod::Raw(p) => p.validate(),
            FeatureMethod::Hog(p) => p.validate(),
            FeatureMethod::Gabor(p) => p.validate(),
            FeatureMethod::Spectral(p) => p.validate(),
            FeatureMethod::Fusion(p) => p.validate(),
            FeatureMethod::Geometry(p) => p.validate(),
        }
    }

    /// Length of the feature vector for a `rows × cols` image, or why the image does not fit.
    pub fn output_len(&self, rows: usize, cols: usize) -> Result<usize> {
        if rows > MAX_IMAGE_SIDE || cols > MAX_IMAGE_SIDE {
            return Err(Error::InvalidParameter {
                name: "image",
                message: format!(
                    "a {rows}x{cols} image: feature extractors take images of at most {MAX_IMAGE_SIDE} pixels a side"
                ),
            });
        }
        match self {
            FeatureMethod::Raw(p) => p.output_len(rows, cols),
            FeatureMethod::Hog(p) => p.output_len(rows, cols),
            FeatureMethod::Gabor(p) => p.output_len(rows, cols),
            FeatureMethod::Spectral(p) => p.output_len(rows, cols),
            FeatureMethod::Fusion(p) => p.output_len(rows, cols),
            FeatureMethod::Geometry(p) => p.output_len(rows, cols),
        }
    }

    /// Feature vector of one image.
    pub fn extract(&self, image: ArrayView2<'_, f64>) -> Result<Vec<f64>> {
        match self {
            FeatureMethod::Raw(p) => raw_pixels(image, p),
            FeatureMethod::Hog(p) => hog(image, p),
            FeatureMethod::Gabor(p) => p.extract(image),
            FeatureMethod::Spectral(p) => p.extract(image),
            FeatureMethod::Fusion(p) => p.extract(image),
            FeatureMethod::Geometry(p) => p.extract(image),
        }
    }

    /// The factor each feature is multiplied by after standardisation, for a
    /// `rows × cols` image: a fusion's block weights ([`fusion::FusionParams::column_weights`]);
    /// `None` for a single method (every factor 1).
    pub fn column_weights(&self, rows: usize, cols: usize) -> Result<Option<Vec<f64>>> {
        match self {
            FeatureMethod::Fusion(p) => p.column_weights(rows, cols).map(Some),
            _ => Ok(None),
        }
    }

    /// Features of every image, one row per image, computed in parallel. All images must
    /// have the same size; `on_chip` is called once per image (from worker threads).
    pub fn extract_all(
        &self,
        images: &[ArrayView2<'_, f64>],
        on_chip: &(dyn Fn() + Sync),
    ) -> Result<Array2<f64>> {
        self.extract_with(images.len(), |k| Ok(images[k].to_owned()), on_chip)
    }

    /// Features of `count` images that `image(k)` makes on demand (e.g. a chip cropped,
    /// widened to `f64` and preprocessed), one row per image, in parallel: only the
    /// images being worked on exist at a time. All images must have the size of the
    /// first; `on_chip` is called once per image.
    pub fn extract_with<E>(
        &self,
        count: usize,
        image: impl Fn(usize) -> std::result::Result<Array2<f64>, E> + Sync,
        on_chip: &(dyn Fn() + Sync),
    ) -> std::result::Result<Array2<f64>, E>
    where
        E: From<Error> + Send,
    {
        if count == 0 {
            return Err(Error::NoChips.into());
        }
        let first = image(0)?;
        let (rows0, cols0) = first.dim();
        let dim = self.output_len(rows0, cols0)?;
        let mut flat = vec![0.0; count * dim];
        flat.par_chunks_mut(dim.max(1)).enumerate().try_for_each(
            |(k, row)| -> std::result::Result<(), E> {
                let img = if k == 0 { first.clone() } else { image(k)? };
                // Geometry measures any size (its length does not depend on it).
                let any_size = matches!(self, FeatureMethod::Geometry(_));
                if img.dim() != (rows0, cols0) && !any_size {
                    return Err(Error::SizeMismatch {
                        index: k,
                        rows: img.nrows(),
                        cols: img.ncols(),
                        rows0,
                        cols0,
                    }
                    .into());
                }
                let features = self.extract(img.view())?;
                if features.len() != dim {
                    return Err(Error::DimensionMismatch {
                        expected: dim,
                        got: features.len(),
                    }
                    .into());
                }
                row.copy_from_slice(&features);
                on_chip();
                Ok(())
            },
        )?;
        Ok(
            Array2::from_shape_vec((count, dim), flat).map_err(|_| Error::DimensionMismatch {
                expected: dim,
                got: 0,
            })?,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extract_all_is_row_per_image_in_order() {
        let images: Vec<Array2<f64>> = (0..5)
            .map(|k| Array2::from_shape_fn((16, 16), |(r, c)| ((r * 3 + c * k) % 7) as f64))
            .collect();
        let views: Vec<_> = images.iter().map(|i| i.view()).collect();
        let method = FeatureMethod::Hog(HogParams {
            pixels_per_cell: (4, 4),
            cells_per_block: (2, 2),
            ..HogParams::default()
        });
        let all = method.extract_all(&views, &|| {}).expect("extract");
        assert_eq!(all.dim(), (5, method.output_len(16, 16).expect("fits")));
        for (k, img) in images.iter().enumerate() {
            let one = method.extract(img.view()).expect("extract");
            assert_eq!(all.row(k).to_vec(), one);
        }
    }

    #[test]
    fn mixed_sizes_are_rejected_with_the_chip_index() {
        let a = Array2::<f64>::zeros((16, 16));
        let b = Array2::<f64>::zeros((16, 17));
        let method = FeatureMethod::Raw(RawParams::default());
        let err = method
            .extract_all(&[a.view(), b.view()], &|| {})
            .unwrap_err();
        assert!(matches!(err, Error::SizeMismatch { index: 1, .. }), "{err}");
    }
}
