//! Target and shadow segmentation of a SAR chip by a classical recipe, each step as the
//! scientific Python stack does it (so a mask can be checked against scipy/skimage):
//!
//! 1. the stored magnitudes and their decibels, `20·log10(max(x, DB_FLOOR))`, each
//!    smoothed by a `smooth × smooth` mean (`scipy.ndimage.uniform_filter`, reflect),
//!    which stands in for a despeckling filter;
//! 2. the target is what lies above a threshold on the smoothed magnitudes: Otsu's
//!    (`skimage.filters.threshold_otsu`, 256 bins), or a CFAR one, `μ + k·σ` of the
//!    clutter in a frame `border` pixels wide along the chip's edge. Magnitudes, not
//!    decibels: the empty pixels of 8-bit exports sit at the dB floor and pull Otsu's
//!    dB threshold between them and the clutter (on 60 MSTAR SOC chips cropped to 64,
//!    a dB threshold took the clutter as target on 19, the magnitude one on none);
//! 3. an opening by a `(2·open+1)²` square removes speckle-sized islands, the largest
//!    8-connected component is kept (`skimage.measure.label(connectivity=2)`; a tie goes
//!    to the component met first in raster order), a closing by a `(2·close+1)²` square
//!    joins its scatterers and holes are filled (`scipy.ndimage.binary_fill_holes`).
//!    Opening and closing are skimage's: pixels outside the chip count as set for the
//!    erosion and as unset for the dilation;
//! 4. the shadow, when asked, is what lies below a threshold on the smoothed
//!    decibels, where shadow and clutter separate — Otsu's over the pixels at or below
//!    the target threshold, or `μ − k·σ` of the frame's decibels — cleaned the same
//!    way and never overlapping the target.
//!
//! A chip with no pixel above the threshold has an empty target mask; what uses the
//! masks says what it does then.

use std::fmt;
use std::str::FromStr;

use ndarray::{Array2, ArrayView2, Zip};

use crate::DB_FLOOR;
use crate::error::{Error, Result};
use crate::spatial::mean_filter;

/// How the target threshold is found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    /// Otsu's threshold of the smoothed dB image.
    Otsu,
    /// `μ + k·σ` of the clutter frame (`μ − k·σ` for the shadow).
    Cfar { k: f64, border: usize },
}

/// What the chip keeps of itself once segmented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// The target's pixels; the rest set to zero (no return).
    Target,
    /// The target's and the shadow's pixels.
    TargetShadow,
    /// Everything: the masks only feed geometry features and pose estimates.
    All,
}

impl Keep {
    fn name(self) -> &'static str {
        match self {
            Keep::Target => "target",
            Keep::TargetShadow => "target_shadow",
            Keep::All => "all",
        }
    }
}

/// The segmentation recipe's parameters (see the module docs for the steps).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segmentation {
    pub threshold: Threshold,
    /// Side of the mean filter on the dB image (odd; 1: none).
    pub smooth: usize,
    /// Radius of the opening's square (0: none).
    pub open: usize,
    /// Radius of the closing's square (0: none).
    pub close: usize,
    /// Also segment the shadow.
    pub shadow: bool,
    pub keep: Keep,
}

impl Default for Segmentation {
    fn default() -> Self {
        Self {
            threshold: Threshold::Otsu,
            smooth: 5,
            open: 1,
            close: 2,
            shadow: true,
            keep: Keep::Target,
        }
    }
}

/// Masks of one chip, `true` inside.
#[derive(Debug, Clone, PartialEq)]
pub struct Masks {
    pub target: Array2<bool>,
    /// Empty (all `false`) when the shadow is not segmented.
    pub shadow: Array2<bool>,
    /// The target threshold, on the smoothed magnitudes.
    pub threshold: f64,
}

/// The largest side segmentation takes (its work is linear in pixels; this keeps a
/// mistyped size from running for hours).
pub const MAX_SIDE: usize = 8192;

impl Segmentation {
    pub fn validate(&self, rows: usize, cols: usize) -> Result<()> {
        let bad = |message: String| Err(Error::InvalidFilter(format!("segmentation: {message}")));
        if self.smooth == 0 || self.smooth.is_multiple_of(2) {
            return bad(format!(
                "`smooth` = {}: expected an odd window side",
                self.smooth
            ));
        }
        if self.smooth > rows || self.smooth > cols {
            return bad(format!(
                "`smooth` = {} is larger than the {rows}x{cols} chip",
                self.smooth
            ));
        }
        if rows > MAX_SIDE || cols > MAX_SIDE {
            return bad(format!(
                "a {rows}x{cols} chip: at most {MAX_SIDE} pixels a side"
            ));
        }
        for (key, radius) in [("open", self.open), ("close", self.close)] {
            if radius > rows.min(cols) / 2 {
                return bad(format!(
                    "`{key}` = {radius}: its square of side 2·{radius}+1 is larger than the {rows}x{cols} chip"
                ));
            }
        }
        if let Threshold::Cfar { k, border } = self.threshold {
            if !(k.is_finite() && k >= 0.0) {
                return bad(format!("`k` = {k}: expected a finite number ≥ 0"));
            }
            if border == 0 || border > rows.min(cols).saturating_sub(1) / 2 {
                return bad(format!(
                    "`border` = {border}: expected 1 to {} pixels for a {rows}x{cols} chip",
                    (rows.min(cols).saturating_sub(1) / 2).max(1)
                ));
            }
        }
        if self.keep == Keep::TargetShadow && !self.shadow {
            return bad("`keep = target_shadow` needs `shadow = true`".to_owned());
        }
        Ok(())
    }

    /// The masks of a chip of stored magnitudes.
    pub fn masks(&self, image: ArrayView2<'_, f64>) -> Result<Masks> {
        let (rows, cols) = image.dim();
        self.validate(rows, cols)?;
        if let Some(v) = image.iter().find(|v| !v.is_finite()) {
            return Err(Error::InvalidFilter(format!(
                "segmentation: the chip holds a non-finite value ({v})"
            )));
        }
        let smoothed = |x: Array2<f64>| {
            if self.smooth > 1 {
                mean_filter(x.view(), self.smooth)
            } else {
                Ok(x)
            }
        };
        let magnitude = smoothed(image.to_owned())?;
        let threshold = match self.threshold {
            Threshold::Otsu => otsu_threshold(magnitude.iter().copied()),
            Threshold::Cfar { k, border } => {
                let (mean, std) = frame_stats(magnitude.view(), border);
                mean + k * std
            }
        };
        let target = self.clean(magnitude.mapv(|v| v > threshold));
        let shadow = if self.shadow {
            let db = smoothed(image.mapv(|x| 20.0 * x.max(DB_FLOOR).log10()))?;
            let shadow_threshold = match self.threshold {
                Threshold::Otsu => otsu_threshold(
                    db.iter()
                        .zip(magnitude.iter())
                        .filter(|&(_, &m)| m <= threshold)
                        .map(|(&d, _)| d),
                ),
                Threshold::Cfar { k, border } => {
                    let (mean, std) = frame_stats(db.view(), border);
                    mean - k * std
                }
            };
            let mut raw = db.mapv(|v| v < shadow_threshold);
            Zip::from(&mut raw).and(&target).for_each(|s, &t| *s &= !t);
            let mut shadow = self.clean(raw);
            Zip::from(&mut shadow)
                .and(&target)
                .for_each(|s, &t| *s &= !t);
            shadow
        } else {
            Array2::from_elem((rows, cols), false)
        };
        Ok(Masks {
            target,
            shadow,
            threshold,
        })
    }

    /// The chip with what [`Keep`] drops set to zero; an empty target mask keeps it
    /// whole (there is nothing to centre the features on).
    pub fn apply(&self, image: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        let masks = self.masks(image)?;
        Ok(self.keep_of(image, &masks))
    }

    /// [`Segmentation::apply`] with masks already computed.
    pub fn keep_of(&self, image: ArrayView2<'_, f64>, masks: &Masks) -> Array2<f64> {
        if self.keep == Keep::All || !masks.target.iter().any(|&t| t) {
            return image.to_owned();
        }
        let mut out = image.to_owned();
        Zip::from(&mut out)
            .and(&masks.target)
            .and(&masks.shadow)
            .for_each(|v, &t, &s| {
                let kept = t || (self.keep == Keep::TargetShadow && s);
                if !kept {
                    *v = 0.0;
                }
            });
        out
    }

    /// Opening, largest component, closing, holes filled.
    fn clean(&self, mask: Array2<bool>) -> Array2<bool> {
        let opened = if self.open > 0 {
            dilate(&erode(&mask, self.open), self.open)
        } else {
            mask
        };
        let largest = largest_component(&opened);
        let closed = if self.close > 0 {
            erode(&dilate(&largest, self.close), self.close)
        } else {
            largest
        };
        fill_holes(&closed)
    }
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
            std::f64::consts::FRAC_PI_4
        } else {
            -std::f64::consts::FRAC_PI_4
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

/// Otsu's threshold of the values as `skimage.filters.threshold_otsu(nbins=256)` finds
/// it: a histogram of 256 equal bins over `[min, max]` (numpy's edges and bin
/// assignment), the bin centre that maximises the between-class variance. All values
/// equal: that value. No values: `−∞` (nothing lies at or below it).
pub fn otsu_threshold(values: impl Iterator<Item = f64> + Clone) -> f64 {
    const BINS: usize = 256;
    let (mut lo, mut hi, mut any) = (f64::INFINITY, f64::NEG_INFINITY, false);
    for v in values.clone() {
        lo = lo.min(v);
        hi = hi.max(v);
        any = true;
    }
    if !any {
        return f64::NEG_INFINITY;
    }
    if lo == hi {
        return lo;
    }
    // numpy.linspace(lo, hi, 257): i·step + lo, the last edge exactly hi.
    let step = (hi - lo) / BINS as f64;
    let edges: Vec<f64> = (0..=BINS)
        .map(|i| if i == BINS { hi } else { i as f64 * step + lo })
        .collect();
    let mut counts = [0u64; BINS];
    let width = hi - lo;
    for v in values {
        let mut bin = (((v - lo) / width) * BINS as f64) as usize;
        if bin >= BINS {
            bin = BINS - 1;
        }
        if v < edges[bin] {
            bin -= 1;
        } else if bin != BINS - 1 && v >= edges[bin + 1] {
            bin += 1;
        }
        counts[bin] += 1;
    }
    let centres: Vec<f64> = (0..BINS).map(|i| (edges[i] + edges[i + 1]) / 2.0).collect();
    // Cumulative sums in numpy's order: weights and means from the left and the right.
    let mut weight1 = [0.0f64; BINS];
    let mut mean1 = [0.0f64; BINS];
    let (mut w, mut m) = (0.0f64, 0.0f64);
    for i in 0..BINS {
        w += counts[i] as f64;
        m += counts[i] as f64 * centres[i];
        weight1[i] = w;
        mean1[i] = m / w;
    }
    let mut weight2 = [0.0f64; BINS];
    let mut mean2 = [0.0f64; BINS];
    let (mut w, mut m) = (0.0f64, 0.0f64);
    for i in (0..BINS).rev() {
        w += counts[i] as f64;
        m += counts[i] as f64 * centres[i];
        weight2[i] = w;
        mean2[i] = m / w;
    }
    let mut best = 0;
    let mut best_variance = f64::NEG_INFINITY;
    for i in 0..BINS - 1 {
        let d = mean1[i] - mean2[i + 1];
        let variance = weight1[i] * weight2[i + 1] * (d * d);
        // numpy's argmax: the first maximum; NaN (an empty side) never wins.
        if variance > best_variance {
            best = i;
            best_variance = variance;
        }
    }
    centres[best]
}

/// Mean and population standard deviation of the frame `border` pixels wide along
/// the image's edge.
fn frame_stats(image: ArrayView2<'_, f64>, border: usize) -> (f64, f64) {
    let (rows, cols) = image.dim();
    let in_frame =
        |r: usize, c: usize| r < border || c < border || r >= rows - border || c >= cols - border;
    let (mut n, mut sum) = (0.0, 0.0);
    for ((r, c), &v) in image.indexed_iter() {
        if in_frame(r, c) {
            n += 1.0;
            sum += v;
        }
    }
    let mean = sum / n;
    let mut squares = 0.0;
    for ((r, c), &v) in image.indexed_iter() {
        if in_frame(r, c) {
            squares += (v - mean) * (v - mean);
        }
    }
    (mean, (squares / n).sqrt())
}

/// Binary erosion by a `(2r+1)²` square, pixels outside counting as set.
fn erode(mask: &Array2<bool>, r: usize) -> Array2<bool> {
    square_pass(mask, r, true)
}

/// Binary dilation by a `(2r+1)²` square, pixels outside counting as unset.
fn dilate(mask: &Array2<bool>, r: usize) -> Array2<bool> {
    square_pass(mask, r, false)
}

/// A square footprint is a row pass then a column pass; out-of-chip pixels are the
/// operation's neutral value, so they are skipped. `all`: erosion (every pixel of the
/// window set), else dilation (any).
fn square_pass(mask: &Array2<bool>, r: usize, all: bool) -> Array2<bool> {
    let (rows, cols) = mask.dim();
    let window = |n: usize, i: usize| i.saturating_sub(r)..(i + r + 1).min(n);
    let mut across = Array2::from_elem((rows, cols), false);
    for row in 0..rows {
        for col in 0..cols {
            let mut span = window(cols, col).map(|c| mask[[row, c]]);
            across[[row, col]] = if all {
                span.all(|v| v)
            } else {
                span.any(|v| v)
            };
        }
    }
    let mut out = Array2::from_elem((rows, cols), false);
    for row in 0..rows {
        for col in 0..cols {
            let mut span = window(rows, row).map(|rr| across[[rr, col]]);
            out[[row, col]] = if all {
                span.all(|v| v)
            } else {
                span.any(|v| v)
            };
        }
    }
    out
}

/// The largest 8-connected component (the first met in raster order on a tie).
fn largest_component(mask: &Array2<bool>) -> Array2<bool> {
    let (rows, cols) = mask.dim();
    let mut label = Array2::<u32>::zeros((rows, cols));
    let (mut best_label, mut best_size, mut next) = (0u32, 0usize, 0u32);
    let mut stack = Vec::new();
    for start in 0..rows * cols {
        let (r0, c0) = (start / cols, start % cols);
        if !mask[[r0, c0]] || label[[r0, c0]] != 0 {
            continue;
        }
        next += 1;
        label[[r0, c0]] = next;
        stack.push((r0, c0));
        let mut size = 0;
        while let Some((r, c)) = stack.pop() {
            size += 1;
            for dr in -1isize..=1 {
                for dc in -1isize..=1 {
                    let (rr, cc) = (r as isize + dr, c as isize + dc);
                    if rr < 0 || cc < 0 || rr >= rows as isize || cc >= cols as isize {
                        continue;
                    }
                    let (rr, cc) = (rr as usize, cc as usize);
                    if mask[[rr, cc]] && label[[rr, cc]] == 0 {
                        label[[rr, cc]] = next;
                        stack.push((rr, cc));
                    }
                }
            }
        }
        if size > best_size {
            best_size = size;
            best_label = next;
        }
    }
    label.mapv(|l| l != 0 && l == best_label)
}

/// Unset pixels not 4-connected to the chip's edge through unset pixels, set.
fn fill_holes(mask: &Array2<bool>) -> Array2<bool> {
    let (rows, cols) = mask.dim();
    let mut outside = Array2::from_elem((rows, cols), false);
    let mut stack = Vec::new();
    for r in 0..rows {
        for c in 0..cols {
            let edge = r == 0 || c == 0 || r + 1 == rows || c + 1 == cols;
            if edge && !mask[[r, c]] {
                outside[[r, c]] = true;
                stack.push((r, c));
            }
        }
    }
    while let Some((r, c)) = stack.pop() {
        let neighbours = [
            (r.wrapping_sub(1), c),
            (r + 1, c),
            (r, c.wrapping_sub(1)),
            (r, c + 1),
        ];
        for (rr, cc) in neighbours {
            if rr < rows && cc < cols && !mask[[rr, cc]] && !outside[[rr, cc]] {
                outside[[rr, cc]] = true;
                stack.push((rr, cc));
            }
        }
    }
    outside.mapv(|o| !o)
}

impl fmt::Display for Segmentation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.threshold {
            Threshold::Otsu => f.write_str("otsu")?,
            Threshold::Cfar { k, border } => write!(f, "cfar:k={k}:border={border}")?,
        }
        write!(
            f,
            ":smooth={}:open={}:close={}:shadow={}:keep={}",
            self.smooth,
            self.open,
            self.close,
            self.shadow,
            self.keep.name()
        )
    }
}

impl FromStr for Segmentation {
    type Err = Error;

    /// `otsu` or `cfar[:k=3][:border=8]`, then any of `:smooth=5:open=1:close=2:
    /// shadow=true:keep=target|target_shadow|all`.
    fn from_str(text: &str) -> Result<Self> {
        let bad =
            |message: String| Error::InvalidFilter(format!("segmentation `{text}`: {message}"));
        let mut parts = text.trim().split(':');
        let mut segmentation = Segmentation::default();
        let (mut k, mut border) = (3.0, 8);
        let cfar = match parts.next().map(str::trim) {
            Some("otsu") => false,
            Some("cfar") => true,
            other => {
                return Err(bad(format!(
                    "starts with {}: expected otsu or cfar",
                    other.unwrap_or("nothing")
                )));
            }
        };
        for part in parts {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| bad(format!("`{part}` is not key=value")))?;
            let (key, value) = (key.trim(), value.trim());
            let count = || {
                value
                    .parse::<usize>()
                    .map_err(|_| bad(format!("`{key}` = {value}: expected a whole number")))
            };
            match key {
                "smooth" => segmentation.smooth = count()?,
                "open" => segmentation.open = count()?,
                "close" => segmentation.close = count()?,
                "border" if cfar => border = count()?,
                "k" if cfar => {
                    k = value
                        .parse::<f64>()
                        .ok()
                        .filter(|v| v.is_finite())
                        .ok_or_else(|| bad(format!("`k` = {value}: expected a number")))?;
                }
                "shadow" => {
                    segmentation.shadow = match value {
                        "true" => true,
                        "false" => false,
                        _ => {
                            return Err(bad(format!("`shadow` = {value}: expected true or false")));
                        }
                    }
                }
                "keep" => {
                    segmentation.keep = match value {
                        "target" => Keep::Target,
                        "target_shadow" => Keep::TargetShadow,
                        "all" => Keep::All,
                        _ => {
                            return Err(bad(format!(
                                "`keep` = {value}: expected target, target_shadow or all"
                            )));
                        }
                    }
                }
                other => {
                    let known = if cfar {
                        "k, border, smooth, open, close, shadow, keep"
                    } else {
                        "smooth, open, close, shadow, keep"
                    };
                    return Err(bad(format!("unknown key `{other}` (expected {known})")));
                }
            }
        }
        if cfar {
            segmentation.threshold = Threshold::Cfar { k, border };
        }
        Ok(segmentation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bright 9×5 block on dim clutter with a dark band below it.
    fn chip() -> Array2<f64> {
        Array2::from_shape_fn((40, 40), |(r, c)| {
            let speckle = 0.04 + 0.02 * (((r * 31 + c * 17) % 13) as f64 / 13.0);
            if (14..23).contains(&r) && (12..28).contains(&c) {
                0.9
            } else if (23..32).contains(&r) && (12..28).contains(&c) {
                0.004
            } else {
                speckle
            }
        })
    }

    #[test]
    fn a_bright_block_and_its_dark_band_are_found() {
        let masks = Segmentation::default().masks(chip().view()).expect("masks");
        let target: usize = masks.target.iter().filter(|&&t| t).count();
        // The smoothing spreads the block by about half the window.
        assert!((9 * 16..=13 * 20).contains(&target), "{target}");
        assert!(masks.target[[18, 20]] && !masks.target[[2, 2]]);
        assert!(masks.shadow[[28, 20]] && !masks.shadow[[18, 20]] && !masks.shadow[[2, 2]]);
        assert!(
            !Zip::from(&masks.target)
                .and(&masks.shadow)
                .fold(false, |a, &t, &s| a || (t && s))
        );
    }

    #[test]
    fn keeping_the_target_zeroes_the_clutter_and_an_empty_mask_keeps_all() {
        let image = chip();
        let kept = Segmentation::default().apply(image.view()).expect("apply");
        assert_eq!(kept[[2, 2]], 0.0);
        assert_eq!(kept[[18, 20]], image[[18, 20]]);
        let flat = Array2::from_elem((20, 20), 0.3);
        let masks = Segmentation::default().masks(flat.view()).expect("flat");
        assert!(masks.target.iter().all(|&t| !t));
        assert_eq!(
            Segmentation::default().apply(flat.view()).expect("flat"),
            flat
        );
    }

    #[test]
    fn morphology_follows_skimage_borders() {
        let mut mask = Array2::from_elem((5, 5), false);
        mask[[0, 0]] = true;
        mask[[0, 1]] = true;
        mask[[1, 0]] = true;
        mask[[1, 1]] = true;
        // Erosion counts outside as set: the corner 2×2 block survives a 3×3 erosion
        // only at (0, 0).
        let eroded = erode(&mask, 1);
        assert!(eroded[[0, 0]] && !eroded[[1, 1]]);
        assert_eq!(dilate(&eroded, 1), mask);
        let mut ring = Array2::from_elem((5, 5), true);
        ring[[2, 2]] = false;
        assert!(fill_holes(&ring).iter().all(|&v| v));
        let mut two = Array2::from_elem((4, 6), false);
        two[[0, 0]] = true;
        two[[2, 3]] = true;
        two[[3, 4]] = true;
        let largest = largest_component(&two);
        assert!(largest[[2, 3]] && largest[[3, 4]] && !largest[[0, 0]]);
    }

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
        // skimage: regionprops(np.eye(20, dtype=np.uint8))[0].orientation == π/4.
        assert!((shape.orientation - std::f64::consts::FRAC_PI_4).abs() < 1e-12);
        assert!(shape.minor_axis_length < 1e-6);
    }

    #[test]
    fn otsu_splits_two_clusters_and_handles_degenerate_input() {
        let values = [1.0, 1.1, 0.9, 5.0, 5.2, 4.8];
        // skimage.filters.threshold_otsu(np.array(values)) == 1.0931640625: the centre
        // of the last bin of the lower class.
        assert_eq!(otsu_threshold(values.iter().copied()), 1.0931640625);
        assert_eq!(otsu_threshold([2.0, 2.0].iter().copied()), 2.0);
        assert_eq!(otsu_threshold(std::iter::empty()), f64::NEG_INFINITY);
    }

    #[test]
    fn texts_round_trip_and_bad_ones_name_the_key() {
        for text in [
            "otsu:smooth=5:open=1:close=2:shadow=true:keep=target",
            "cfar:k=2.5:border=6:smooth=3:open=0:close=1:shadow=false:keep=all",
        ] {
            let s: Segmentation = text.parse().expect(text);
            assert_eq!(s.to_string(), text);
        }
        for (text, needle) in [
            ("sobel", "otsu or cfar"),
            ("otsu:k=3", "unknown key `k`"),
            ("otsu:smooth=x", "`smooth`"),
            ("otsu:keep=shadow", "`keep`"),
        ] {
            let err = text.parse::<Segmentation>().unwrap_err().to_string();
            assert!(err.contains(needle), "{text}: {err}");
        }
        let s: Segmentation = "otsu:smooth=4".parse().expect("parses");
        assert!(s.validate(30, 30).unwrap_err().to_string().contains("odd"));
        let s: Segmentation = "otsu:shadow=false:keep=target_shadow"
            .parse()
            .expect("parses");
        assert!(s.validate(30, 30).is_err());
        let s: Segmentation = "cfar:border=15".parse().expect("parses");
        assert!(
            s.validate(30, 30)
                .unwrap_err()
                .to_string()
                .contains("`border`")
        );
        assert!(
            Segmentation::default()
                .masks(Array2::from_elem((8, 8), f64::NAN).view())
                .is_err()
        );
    }
}
