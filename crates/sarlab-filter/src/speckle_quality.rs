//! How well a speckle filter did on one chip: the ENL gain in clutter, the edge
//! preservation at the target's outline, and the bias of the clutter mean.
//!
//! * Clutter is a frame `border` pixels wide along the chip's edge (the target sits in
//!   the middle of MSTAR-like chips); its ENL is [`crate::spatial::enl`] of the frame's
//!   pixels, before and after.
//! * Edge preservation is the edge preservation index of Sattar et al. (1997) over a
//!   band around the target mask's outline: the sum of absolute differences between
//!   horizontal and vertical neighbours, filtered over original (1: edges kept; below 1:
//!   blurred).

use ndarray::{Array2, ArrayView2};

use crate::error::{Error, Result};
use crate::segment::Segmentation;
use crate::spatial::{SpeckleDomain, SpeckleFilter, enl};

/// One chip's scores for one filter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpeckleQuality {
    /// ENL of the clutter frame after over before (`None` when either is undefined).
    pub enl_gain: Option<f64>,
    /// Edge preservation index at the target outline (`None` without a target).
    pub edge_preservation: Option<f64>,
    /// Clutter mean after over before.
    pub mean_ratio: Option<f64>,
}

/// Scores `filter` on a chip of magnitudes (`domain` says how ENL reads them).
pub fn speckle_quality(
    chip: ArrayView2<'_, f64>,
    filter: &SpeckleFilter,
    segmentation: &Segmentation,
    border: usize,
    domain: SpeckleDomain,
) -> Result<SpeckleQuality> {
    let (rows, cols) = chip.dim();
    if border == 0 || 2 * border >= rows.min(cols) {
        return Err(Error::InvalidFilter(format!(
            "a clutter frame {border} pixels wide does not fit a {rows}x{cols} chip"
        )));
    }
    let filtered = filter.apply(chip)?;
    let frame = |image: &Array2<f64>| -> Array2<f64> {
        let values: Vec<f64> = image
            .indexed_iter()
            .filter(|((r, c), _)| {
                *r < border || *c < border || *r >= rows - border || *c >= cols - border
            })
            .map(|(_, &v)| v)
            .collect();
        let n = values.len();
        Array2::from_shape_vec((1, n), values).expect("one row")
    };
    let original = chip.to_owned();
    let (before, after) = (frame(&original), frame(&filtered));
    let enl_gain = match (enl(before.view(), domain), enl(after.view(), domain)) {
        (Some(b), Some(a)) => Some(a / b),
        _ => None,
    };
    let mean = |a: &Array2<f64>| a.iter().sum::<f64>() / a.len() as f64;
    let mean_ratio = Some(mean(&after) / mean(&before)).filter(|r| r.is_finite());
    let masks = segmentation.masks(chip)?;
    let band = outline_band(&masks.target);
    let edge_preservation = edge_sum(filtered.view(), &band)
        .zip(edge_sum(chip, &band))
        .and_then(|(f, o)| (o > 0.0).then_some(f / o));
    Ok(SpeckleQuality {
        enl_gain,
        edge_preservation,
        mean_ratio,
    })
}

/// Pixels of the mask with a 4-neighbour outside it, and those outside with one
/// inside: the outline, one pixel either side.
fn outline_band(mask: &Array2<bool>) -> Array2<bool> {
    let (rows, cols) = mask.dim();
    Array2::from_shape_fn((rows, cols), |(r, c)| {
        let here = mask[[r, c]];
        [
            (r.wrapping_sub(1), c),
            (r + 1, c),
            (r, c.wrapping_sub(1)),
            (r, c + 1),
        ]
        .into_iter()
        .any(|(rr, cc)| rr < rows && cc < cols && mask[[rr, cc]] != here)
    })
}

/// Σ |x(r,c) − x(r+1,c)| + |x(r,c) − x(r,c+1)| over the band's pixels; `None` for an
/// empty band.
fn edge_sum(image: ArrayView2<'_, f64>, band: &Array2<bool>) -> Option<f64> {
    let (rows, cols) = image.dim();
    let mut sum = 0.0;
    let mut any = false;
    for ((r, c), &inside) in band.indexed_iter() {
        if !inside {
            continue;
        }
        any = true;
        if r + 1 < rows {
            sum += (image[[r, c]] - image[[r + 1, c]]).abs();
        }
        if c + 1 < cols {
            sum += (image[[r, c]] - image[[r, c + 1]]).abs();
        }
    }
    any.then_some(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chip() -> Array2<f64> {
        Array2::from_shape_fn((48, 48), |(r, c)| {
            let speckle = 0.5 + (((r * 37 + c * 11) % 17) as f64 / 17.0);
            let target = if (18..30).contains(&r) && (14..34).contains(&c) {
                8.0
            } else {
                1.0
            };
            target * speckle
        })
    }

    #[test]
    fn a_mean_filter_raises_the_enl_and_blurs_edges_and_the_identity_does_neither() {
        let segmentation: Segmentation = "otsu:shadow=false".parse().expect("segmentation");
        let mean = speckle_quality(
            chip().view(),
            &"mean:window=5".parse().expect("filter"),
            &segmentation,
            8,
            SpeckleDomain::Amplitude,
        )
        .expect("scores");
        assert!(mean.enl_gain.expect("enl") > 2.0, "{mean:?}");
        assert!(mean.edge_preservation.expect("epi") < 0.8, "{mean:?}");
        let identity = speckle_quality(
            chip().view(),
            &"mean:window=1".parse().expect("filter"),
            &segmentation,
            8,
            SpeckleDomain::Amplitude,
        )
        .expect("scores");
        assert_eq!(identity.enl_gain, Some(1.0));
        assert_eq!(identity.edge_preservation, Some(1.0));
        assert_eq!(identity.mean_ratio, Some(1.0));
        assert!(
            speckle_quality(
                chip().view(),
                &"mean:window=3".parse().expect("filter"),
                &segmentation,
                24,
                SpeckleDomain::Amplitude
            )
            .is_err()
        );
    }
}
