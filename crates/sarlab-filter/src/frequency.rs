//! Frequency-domain filters (Gonzalez & Woods): ideal, Gaussian and Butterworth
//! low-pass, high-pass, band-pass, band-reject and notch masks on the centred spectrum.
//!
//! `D` is the distance of a frequency from the centre of the centred spectrum
//! (`fftshift` puts the zero frequency at `(rows/2, cols/2)`), `D0` the cutoff, `W` a
//! band's width and `n` the Butterworth order:
//!
//! | profile | low-pass | band-reject |
//! |---|---|---|
//! | ideal | `1[D ≤ D0]` | `0` if `D0 − W/2 ≤ D ≤ D0 + W/2`, else `1` |
//! | Gaussian | `exp(−D²/2D0²)` | `1 − exp(−((D² − D0²)/(D·W))²)` |
//! | Butterworth | `1/(1 + (D/D0)^2n)` | `1/(1 + (D·W/(D² − D0²))^2n)` |
//!
//! High-pass = 1 − low-pass, band-pass = 1 − band-reject. A notch reject is the product,
//! over each notch and its mirror, of the high-pass centred on it; notch pass is one
//! minus that. Every mask depends on |frequency| only (or is a product over mirrored
//! pairs), so it is symmetric and a filtered real image stays real.

use std::fmt;
use std::str::FromStr;

use ndarray::{Array2, ArrayView2};
use num_complex::Complex64;

use crate::error::{Error, Result};
use crate::fft;

/// The transfer-function profile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Profile {
    Ideal,
    Gaussian,
    Butterworth { order: u32 },
}

/// Which frequencies pass.
#[derive(Debug, Clone, PartialEq)]
pub enum Band {
    LowPass,
    HighPass,
    /// Pass a ring of width `width` around the cutoff.
    BandPass {
        width: f64,
    },
    /// Reject a ring of width `width` around the cutoff.
    BandReject {
        width: f64,
    },
    /// Reject small discs (radius = cutoff) around each `(row, col)` offset from the zero
    /// frequency and its mirror: periodic-noise removal.
    NotchReject {
        centres: Vec<(f64, f64)>,
    },
    /// Pass only those discs.
    NotchPass {
        centres: Vec<(f64, f64)>,
    },
}

/// Distance measure from the centre: circles, or the squares some tutorials cut out
/// with `mask[r0-k:r0+k, c0-k:c0+k]` (here made symmetric: `max(|dr|, |dc|) ≤ k`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Shape {
    #[default]
    Circular,
    Square,
}

/// Units of the cutoff and width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Units {
    /// Pixels of the centred spectrum.
    #[default]
    Pixels,
    /// Fractions of the Nyquist radius, `min(rows, cols) / 2` pixels.
    Nyquist,
}

/// A frequency-domain filter, e.g. `butterworth:lowpass:cutoff=30:order=2`.
#[derive(Debug, Clone, PartialEq)]
pub struct FrequencyFilter {
    pub profile: Profile,
    pub band: Band,
    pub cutoff: f64,
    pub units: Units,
    pub shape: Shape,
    /// Zero-pad each image to the next 2·3·5-smooth size before transforming (`pad=fast`):
    /// faster FFTs for sizes such as 158 = 2·79, and less wrap-around at the borders. The
    /// mask is built for the padded size; the result is cropped back.
    pub pad: bool,
}

impl FrequencyFilter {
    fn scale(&self, rows: usize, cols: usize) -> f64 {
        match self.units {
            Units::Pixels => 1.0,
            Units::Nyquist => rows.min(cols) as f64 / 2.0,
        }
    }

    /// Checks the parameters against an image size, naming the bad value.
    pub fn validate(&self, rows: usize, cols: usize) -> Result<()> {
        let bad = |message: String| Err(Error::InvalidFilter(message));
        if rows == 0 || cols == 0 {
            return bad(format!("image of {rows}x{cols} has no pixels"));
        }
        if let Profile::Butterworth { order: 0 } = self.profile {
            return bad("Butterworth order 0: the order must be at least 1".to_owned());
        }
        if !(self.cutoff.is_finite() && self.cutoff > 0.0) {
            return bad(format!("cutoff {}: must be a positive number", self.cutoff));
        }
        if self.units == Units::Nyquist && self.cutoff > 1.0 {
            return bad(format!(
                "cutoff {} (units nyquist): must be within (0, 1]",
                self.cutoff
            ));
        }
        let d0 = self.cutoff * self.scale(rows, cols);
        let corner = ((rows / 2).pow(2) as f64 + (cols / 2).pow(2) as f64).sqrt();
        if d0 > corner {
            return bad(format!(
                "cutoff {d0} px lies beyond the {rows}x{cols} spectrum (its farthest frequency is {corner:.2} px from the centre)"
            ));
        }
        match &self.band {
            Band::BandPass { width } | Band::BandReject { width } => {
                let w = width * self.scale(rows, cols);
                if !(w.is_finite() && w > 0.0) {
                    return bad(format!("band width {width}: must be a positive number"));
                }
                if w >= 2.0 * d0 {
                    return bad(format!(
                        "band width {width} is too large for cutoff {}: the band [D0 − W/2, D0 + W/2] must stay at positive radii (W < 2·D0)",
                        self.cutoff
                    ));
                }
            }
            Band::NotchReject { centres } | Band::NotchPass { centres } => {
                if centres.is_empty() {
                    return bad(
                        "a notch filter needs at least one centre (`at=ROW,COL`)".to_owned()
                    );
                }
                if let Some((r, c)) = centres.iter().find(|(r, c)| {
                    !r.is_finite()
                        || !c.is_finite()
                        || r.abs() > (rows / 2) as f64
                        || c.abs() > (cols / 2) as f64
                }) {
                    return bad(format!(
                        "notch centre ({r}, {c}) lies outside the {rows}x{cols} spectrum"
                    ));
                }
            }
            Band::LowPass | Band::HighPass => {}
        }
        Ok(())
    }

    /// The mask on the centred spectrum (zero frequency at `(rows/2, cols/2)`).
    pub fn mask(&self, rows: usize, cols: usize) -> Result<Array2<f64>> {
        self.validate(rows, cols)?;
        let scale = self.scale(rows, cols);
        let d0 = self.cutoff * scale;
        let (cr, cc) = ((rows / 2) as f64, (cols / 2) as f64);
        let distance = |r: f64, c: f64| match self.shape {
            // Not `hypot`: its overflow care costs 5× here, and distances are small.
            Shape::Circular => (r * r + c * c).sqrt(),
            Shape::Square => r.abs().max(c.abs()),
        };
        let low = |d: f64| low_pass(self.profile, d, d0);
        let mask = Array2::from_shape_fn((rows, cols), |(r, c)| {
            let (dr, dc) = (r as f64 - cr, c as f64 - cc);
            let d = distance(dr, dc);
            match &self.band {
                Band::LowPass => low(d),
                Band::HighPass => 1.0 - low(d),
                Band::BandReject { width } => band_reject(self.profile, d, d0, width * scale),
                Band::BandPass { width } => 1.0 - band_reject(self.profile, d, d0, width * scale),
                Band::NotchReject { centres } => notch_reject(centres, dr, dc, &low, &distance),
                Band::NotchPass { centres } => 1.0 - notch_reject(centres, dr, dc, &low, &distance),
            }
        });
        // Radial masks are symmetric by construction; only notch pairs need it.
        Ok(match self.band {
            Band::NotchReject { .. } | Band::NotchPass { .. } => symmetrise(mask),
            _ => mask,
        })
    }

    /// The size images of `rows × cols` are transformed at.
    pub fn transform_size(&self, rows: usize, cols: usize) -> (usize, usize) {
        if self.pad {
            (fft::next_fast_size(rows), fft::next_fast_size(cols))
        } else {
            (rows, cols)
        }
    }

    /// Precomputes the mask for one image size, to filter many chips of that size.
    pub fn prepare(&self, image_rows: usize, image_cols: usize) -> Result<PreparedFilter> {
        let (rows, cols) = self.transform_size(image_rows, image_cols);
        let centred = self.mask(rows, cols)?;
        // The unshifted mask's first cols/2 + 1 columns, column-major (the layout
        // `fft::filter_real` keeps the half spectrum in), gathered straight from the
        // centred mask: unshifted[r][c] = centred[(r + rows/2) % rows][(c + cols/2) % cols].
        let half = cols / 2 + 1;
        let mut half_mask_columns = Vec::with_capacity(half * rows);
        for c in 0..half {
            let cc = (c + cols / 2) % cols;
            half_mask_columns.extend((0..rows).map(|r| centred[[(r + rows / 2) % rows, cc]]));
        }
        Ok(PreparedFilter {
            rows: image_rows,
            cols: image_cols,
            padded: (rows, cols),
            half_mask_columns,
        })
    }

    /// Filters one image: forward FFT, mask, inverse FFT.
    pub fn apply(&self, image: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        let (rows, cols) = image.dim();
        self.prepare(rows, cols)?.apply(image)
    }

    /// Filters through the full complex spectrum, keeping the imaginary part of the
    /// inverse so that tests can bound it (it is rounding only, for symmetric masks).
    /// With `pad`, the spectrum and mask are those of the padded image.
    pub fn apply_complex(&self, image: ArrayView2<'_, f64>) -> Result<FilteredImage> {
        let (image_rows, image_cols) = image.dim();
        let (rows, cols) = self.transform_size(image_rows, image_cols);
        let centred_mask = self.mask(rows, cols)?;
        let mask = fft::ifftshift(centred_mask.view());
        let padded = fft::zero_pad(image, rows, cols);
        let spectrum = fft::fft2_real(padded.view());
        let filtered = ndarray::Zip::from(&spectrum)
            .and(&mask)
            .map_collect(|z, m| z * m);
        let inverse = fft::ifft2(filtered.view());
        Ok(FilteredImage {
            image: inverse
                .slice(ndarray::s![..image_rows, ..image_cols])
                .mapv(|z| z.re),
            max_imaginary: inverse.iter().fold(0.0, |m, z| m.max(z.im.abs())),
            centred_spectrum: fft::fftshift(spectrum.view()),
            centred_mask,
        })
    }
}

/// Result of [`FrequencyFilter::apply_complex`].
#[derive(Debug, Clone)]
pub struct FilteredImage {
    pub image: Array2<f64>,
    /// Largest `|imag|` of the inverse transform (0 up to rounding for symmetric masks).
    pub max_imaginary: f64,
    pub centred_spectrum: Array2<Complex64>,
    pub centred_mask: Array2<f64>,
}

/// A filter with its mask computed for one size (see [`FrequencyFilter::prepare`]).
#[derive(Debug, Clone)]
pub struct PreparedFilter {
    rows: usize,
    cols: usize,
    /// Size the images are transformed at (larger than the image with `pad`).
    padded: (usize, usize),
    /// The unshifted mask's first `cols/2 + 1` columns, column-major.
    half_mask_columns: Vec<f64>,
}

impl PreparedFilter {
    /// Filters a real image of the prepared size. The mask is symmetric, so the half
    /// spectrum carries everything and the inverse is real by construction.
    pub fn apply(&self, image: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        if image.dim() != (self.rows, self.cols) {
            return Err(Error::SizeMismatch {
                expected: (self.rows, self.cols),
                actual: image.dim(),
            });
        }
        if self.padded == (self.rows, self.cols) {
            return Ok(fft::filter_real(image, &self.half_mask_columns));
        }
        let padded = fft::zero_pad(image, self.padded.0, self.padded.1);
        let filtered = fft::filter_real(padded.view(), &self.half_mask_columns);
        Ok(filtered
            .slice(ndarray::s![..self.rows, ..self.cols])
            .to_owned())
    }
}

/// Makes a centred mask exactly symmetric, `H(k) = H(−k)`, by averaging each frequency
/// with its mirror. Radial masks already are (both values are computed from the same
/// distance, so this changes nothing); a notch pair is not on the Nyquist row or column
/// of an even size, where the grid holds −N/2 but not its mirror +N/2.
fn symmetrise(centred: Array2<f64>) -> Array2<f64> {
    let (rows, cols) = centred.dim();
    let unshifted = fft::ifftshift(centred.view());
    let symmetric = Array2::from_shape_fn((rows, cols), |(r, c)| {
        let (a, b) = (
            unshifted[[r, c]],
            unshifted[[(rows - r) % rows, (cols - c) % cols]],
        );
        if a == b { a } else { 0.5 * (a + b) }
    });
    fft::fftshift(symmetric.view())
}

fn low_pass(profile: Profile, d: f64, d0: f64) -> f64 {
    match profile {
        Profile::Ideal => f64::from(u8::from(d <= d0)),
        Profile::Gaussian => (-(d * d) / (2.0 * d0 * d0)).exp(),
        Profile::Butterworth { order } => 1.0 / (1.0 + (d / d0).powi(2 * order as i32)),
    }
}

fn band_reject(profile: Profile, d: f64, d0: f64, w: f64) -> f64 {
    match profile {
        Profile::Ideal => {
            if (d0 - w / 2.0..=d0 + w / 2.0).contains(&d) {
                0.0
            } else {
                1.0
            }
        }
        // At D = 0 the ratios below are ∓∞ (Gaussian) or 0 (Butterworth): the zero
        // frequency passes. At D = D0 the ring's centre is rejected.
        Profile::Gaussian => {
            if d == 0.0 {
                1.0
            } else {
                let t = (d * d - d0 * d0) / (d * w);
                1.0 - (-t * t).exp()
            }
        }
        Profile::Butterworth { order } => {
            let denominator = d * d - d0 * d0;
            if denominator == 0.0 {
                0.0
            } else {
                1.0 / (1.0 + (d * w / denominator).powi(2 * order as i32))
            }
        }
    }
}

fn notch_reject(
    centres: &[(f64, f64)],
    dr: f64,
    dc: f64,
    low: &dyn Fn(f64) -> f64,
    distance: &dyn Fn(f64, f64) -> f64,
) -> f64 {
    centres
        .iter()
        .map(|&(r, c)| {
            (1.0 - low(distance(dr - r, dc - c))) * (1.0 - low(distance(dr + r, dc + c)))
        })
        .product()
}

impl fmt::Display for FrequencyFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let profile = match self.profile {
            Profile::Ideal => "ideal",
            Profile::Gaussian => "gaussian",
            Profile::Butterworth { .. } => "butterworth",
        };
        let band = match self.band {
            Band::LowPass => "lowpass",
            Band::HighPass => "highpass",
            Band::BandPass { .. } => "bandpass",
            Band::BandReject { .. } => "bandreject",
            Band::NotchReject { .. } => "notchreject",
            Band::NotchPass { .. } => "notchpass",
        };
        write!(f, "{profile}:{band}:cutoff={}", self.cutoff)?;
        if let Profile::Butterworth { order } = self.profile {
            write!(f, ":order={order}")?;
        }
        match &self.band {
            Band::BandPass { width } | Band::BandReject { width } => write!(f, ":width={width}")?,
            Band::NotchReject { centres } | Band::NotchPass { centres } => {
                let list: Vec<String> = centres.iter().map(|(r, c)| format!("{r},{c}")).collect();
                write!(f, ":at={}", list.join(";"))?;
            }
            Band::LowPass | Band::HighPass => {}
        }
        if self.units == Units::Nyquist {
            f.write_str(":units=nyquist")?;
        }
        if self.shape == Shape::Square {
            f.write_str(":shape=square")?;
        }
        if self.pad {
            f.write_str(":pad=fast")?;
        }
        Ok(())
    }
}

/// The most notch centres one filter takes.
pub const MAX_NOTCHES: usize = 256;

impl FromStr for FrequencyFilter {
    type Err = Error;

    /// `PROFILE:BAND:key=value:...`, e.g. `butterworth:lowpass:cutoff=30:order=2`,
    /// `gaussian:bandpass:cutoff=20:width=10`, `ideal:notchreject:cutoff=3:at=10,0;0,12`,
    /// `ideal:lowpass:cutoff=0.25:units=nyquist:shape=square`.
    fn from_str(spec: &str) -> Result<Self> {
        let bad = |message: String| Error::InvalidFilter(format!("`{spec}`: {message}"));
        let mut parts = spec.split(':');
        let profile = parts.next().unwrap_or_default();
        let band = parts.next().ok_or_else(|| {
            bad(
                "expected PROFILE:BAND:cutoff=..., e.g. butterworth:lowpass:cutoff=30:order=2"
                    .to_owned(),
            )
        })?;
        let mut values: Vec<(&str, &str)> = Vec::new();
        for part in parts {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| bad(format!("`{part}` is not key=value")))?;
            if values.iter().any(|(seen, _)| *seen == k) {
                return Err(bad(format!("`{k}` is given twice")));
            }
            values.push((k, v));
        }
        let take = |key: &str| values.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
        let number = |key: &str| -> Result<Option<f64>> {
            take(key)
                .map(|v| {
                    v.parse::<f64>()
                        .ok()
                        .filter(|x| x.is_finite())
                        .ok_or_else(|| bad(format!("`{key}` is `{v}`, expected a finite number")))
                })
                .transpose()
        };
        let known: &[&str] = &["cutoff", "order", "width", "at", "units", "shape", "pad"];
        if let Some((k, _)) = values.iter().find(|(k, _)| !known.contains(k)) {
            return Err(bad(format!(
                "unknown key `{k}` (expected one of {})",
                known.join(", ")
            )));
        }
        let profile = match profile {
            "ideal" => Profile::Ideal,
            "gaussian" => Profile::Gaussian,
            "butterworth" => {
                let order = match take("order") {
                    None => 2,
                    Some(v) => v.parse::<u32>().map_err(|_| {
                        bad(format!("`order` is `{v}`, expected a whole number ≥ 1"))
                    })?,
                };
                Profile::Butterworth { order }
            }
            other => {
                return Err(bad(format!(
                    "unknown filter `{other}` (expected ideal, gaussian or butterworth)"
                )));
            }
        };
        if take("order").is_some() && !matches!(profile, Profile::Butterworth { .. }) {
            return Err(bad("`order` applies to butterworth only".to_owned()));
        }
        let width = || number("width")?.ok_or_else(|| bad(format!("`{band}` needs `width=`")));
        let centres = || -> Result<Vec<(f64, f64)>> {
            let list = take("at")
                .ok_or_else(|| bad(format!("`{band}` needs `at=ROW,COL[;ROW,COL...]`")))?;
            let count = list.split(';').count();
            if count > MAX_NOTCHES {
                return Err(bad(format!(
                    "{count} notch centres: at most {MAX_NOTCHES} (each costs a pass over the spectrum)"
                )));
            }
            list.split(';')
                .map(|pair| {
                    let (r, c) = pair
                        .split_once(',')
                        .ok_or_else(|| bad(format!("notch centre `{pair}` is not ROW,COL")))?;
                    let parse = |v: &str| {
                        v.trim()
                            .parse::<f64>()
                            .ok()
                            .filter(|x| x.is_finite())
                            .ok_or_else(|| bad(format!("notch centre `{pair}` is not numeric")))
                    };
                    Ok((parse(r)?, parse(c)?))
                })
                .collect()
        };
        let band = match band {
            "lowpass" => Band::LowPass,
            "highpass" => Band::HighPass,
            "bandpass" => Band::BandPass { width: width()? },
            "bandreject" => Band::BandReject { width: width()? },
            "notchreject" => Band::NotchReject {
                centres: centres()?,
            },
            "notchpass" => Band::NotchPass {
                centres: centres()?,
            },
            other => {
                return Err(bad(format!(
                    "unknown band `{other}` (expected lowpass, highpass, bandpass, bandreject, notchreject or notchpass)"
                )));
            }
        };
        if take("width").is_some()
            && !matches!(band, Band::BandPass { .. } | Band::BandReject { .. })
        {
            return Err(bad(
                "`width` applies to bandpass and bandreject only".to_owned()
            ));
        }
        if take("at").is_some()
            && !matches!(band, Band::NotchPass { .. } | Band::NotchReject { .. })
        {
            return Err(bad("`at` applies to notch filters only".to_owned()));
        }
        let cutoff = number("cutoff")?.ok_or_else(|| bad("`cutoff=` is required".to_owned()))?;
        let units = match take("units") {
            None | Some("pixels") => Units::Pixels,
            Some("nyquist") => Units::Nyquist,
            Some(other) => {
                return Err(bad(format!(
                    "`units` is `{other}`, expected pixels or nyquist"
                )));
            }
        };
        let shape = match take("shape") {
            None | Some("circle") | Some("circular") => Shape::Circular,
            Some("square") => Shape::Square,
            Some(other) => {
                return Err(bad(format!(
                    "`shape` is `{other}`, expected circular or square"
                )));
            }
        };
        let pad = match take("pad") {
            None | Some("none") => false,
            Some("fast") => true,
            Some(other) => return Err(bad(format!("`pad` is `{other}`, expected fast or none"))),
        };
        let filter = FrequencyFilter {
            profile,
            band,
            cutoff,
            units,
            shape,
            pad,
        };
        // Size-independent checks now; the cutoff's fit is checked per image size.
        filter
            .validate(usize::MAX >> 40, usize::MAX >> 40)
            .map_err(|e| match e {
                Error::InvalidFilter(m) => bad(m),
                other => other,
            })?;
        Ok(filter)
    }
}

/// Magnitude of the frequency response of a spatial kernel on a `rows × cols` grid,
/// centred like a shifted spectrum, e.g. the 3×3 Laplacian is 0 at the centre (it
/// removes the mean) and grows outwards: a high-pass.
pub fn kernel_response(
    kernel: ArrayView2<'_, f64>,
    rows: usize,
    cols: usize,
) -> Result<Array2<f64>> {
    let (kr, kc) = kernel.dim();
    if kr == 0 || kc == 0 || kr > rows || kc > cols {
        return Err(Error::InvalidFilter(format!(
            "a {kr}x{kc} kernel does not fit a {rows}x{cols} grid"
        )));
    }
    // Centre the kernel on the origin with wrap-around; the magnitude does not depend on
    // the placement, but this keeps the phase near zero for symmetric kernels.
    let mut padded = Array2::<f64>::zeros((rows, cols));
    for ((r, c), v) in kernel.indexed_iter() {
        padded[[(r + rows - kr / 2) % rows, (c + cols - kc / 2) % cols]] = *v;
    }
    let spectrum = fft::fft2_real(padded.view());
    Ok(fft::fftshift(spectrum.view()).mapv(|z| z.norm()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> FrequencyFilter {
        s.parse().expect("valid filter spec")
    }

    #[test]
    fn spec_strings_round_trip() {
        for spec in [
            "butterworth:lowpass:cutoff=30:order=2",
            "gaussian:bandpass:cutoff=20:width=10",
            "ideal:notchreject:cutoff=3:at=10,0;-4,12",
            "ideal:lowpass:cutoff=0.25:units=nyquist:shape=square",
            "gaussian:highpass:cutoff=5",
            "butterworth:lowpass:cutoff=0.3:order=2:units=nyquist:pad=fast",
        ] {
            assert_eq!(parse(spec).to_string(), spec);
        }
    }

    #[test]
    fn padding_filters_at_a_fast_size_and_crops_back() {
        let image = Array2::from_shape_fn((158, 131), |(r, c)| ((r * 31 + c * 17) % 13) as f64);
        let filter = parse("butterworth:lowpass:cutoff=20:order=2:pad=fast");
        assert_eq!(filter.transform_size(158, 131), (160, 135));
        let out = filter.apply(image.view()).expect("filter");
        assert_eq!(out.dim(), (158, 131));
        // The same as filtering the zero-padded image without padding, then cropping.
        let unpadded = FrequencyFilter {
            pad: false,
            ..filter.clone()
        };
        let manual = unpadded
            .apply(fft::zero_pad(image.view(), 160, 135).view())
            .expect("filter");
        for ((r, c), v) in out.indexed_iter() {
            assert!((v - manual[[r, c]]).abs() < 1e-10);
        }
        let full = filter.apply_complex(image.view()).expect("filter");
        assert_eq!(full.image.dim(), (158, 131));
        assert_eq!(full.centred_mask.dim(), (160, 135));
        assert!(
            full.image
                .iter()
                .zip(&out)
                .all(|(a, b)| (a - b).abs() < 1e-9)
        );
    }

    #[test]
    fn bad_specs_name_the_value() {
        for (spec, needle) in [
            ("butterworth:lowpass:cutoff=30:order=0", "order 0"),
            ("gaussian:lowpass:cutoff=0", "cutoff 0"),
            ("gaussian:lowpass:cutoff=-3", "cutoff -3"),
            ("ideal:lowpass:cutoff=1.5:units=nyquist", "within (0, 1]"),
            ("gaussian:bandpass:cutoff=10:width=25", "band width 25"),
            ("kaiser:lowpass:cutoff=3", "unknown filter `kaiser`"),
            ("ideal:sidepass:cutoff=3", "unknown band `sidepass`"),
            ("ideal:lowpass:cutof=3", "unknown key `cutof`"),
            ("ideal:lowpass", "`cutoff=` is required"),
            ("ideal:lowpass:cutoff=3:order=2", "butterworth only"),
            ("ideal:notchreject:cutoff=3", "needs `at="),
        ] {
            let err = spec.parse::<FrequencyFilter>().unwrap_err().to_string();
            assert!(err.contains(needle), "{spec}: {err}");
        }
        let err = parse("ideal:lowpass:cutoff=100")
            .mask(64, 64)
            .unwrap_err()
            .to_string();
        assert!(err.contains("beyond the 64x64 spectrum"), "{err}");
    }

    #[test]
    fn masks_are_symmetric_and_keep_real_images_real() {
        let image = Array2::from_shape_fn((33, 40), |(r, c)| ((r * 13 + c * 7) % 17) as f64);
        for spec in [
            "ideal:lowpass:cutoff=6",
            "gaussian:highpass:cutoff=4",
            "butterworth:bandpass:cutoff=8:width=6:order=3",
            "butterworth:bandreject:cutoff=8:width=6:order=1",
            "gaussian:bandreject:cutoff=5:width=4",
            "ideal:bandpass:cutoff=7:width=4",
            "butterworth:notchreject:cutoff=2:at=5,3;-2,9",
            "gaussian:notchpass:cutoff=3:at=4,4",
            "ideal:lowpass:cutoff=5:shape=square",
        ] {
            let filter = parse(spec);
            let mask = filter.mask(33, 40).expect("mask");
            let unshifted = fft::ifftshift(mask.view());
            for r in 0..33 {
                for c in 0..40 {
                    assert_eq!(
                        unshifted[[r, c]],
                        unshifted[[(33 - r) % 33, (40 - c) % 40]],
                        "{spec} at ({r},{c})"
                    );
                }
            }
            let full = filter.apply_complex(image.view()).expect("filter");
            assert!(
                full.max_imaginary < 1e-12,
                "{spec}: residue {}",
                full.max_imaginary
            );
            let fast = filter.apply(image.view()).expect("filter");
            for (a, b) in fast.iter().zip(&full.image) {
                assert!((a - b).abs() < 1e-10, "{spec}");
            }
        }
    }

    proptest::proptest! {
        /// Any valid mask on any size keeps a real image real and its shape unchanged.
        #[test]
        fn symmetric_masks_give_real_images(
            rows in 2usize..40,
            cols in 2usize..40,
            profile in 0u8..3,
            band in 0u8..5,
            cutoff in 0.05f64..1.0,
            width in 0.1f64..1.9,
            order in 1u32..5,
            square in proptest::bool::ANY,
        ) {
            let radius = rows.min(cols) as f64 / 2.0;
            // Within the spectrum: odd sizes put the farthest frequency nearer than
            // half the smaller side.
            let corner = (((rows / 2).pow(2) + (cols / 2).pow(2)) as f64).sqrt();
            let d0 = (cutoff * radius).max(0.5).min(corner);
            let spec = format!(
                "{}:{}:cutoff={d0}{}{}{}",
                ["ideal", "gaussian", "butterworth"][profile as usize],
                ["lowpass", "highpass", "bandpass", "bandreject", "notchreject"][band as usize],
                if profile == 2 { format!(":order={order}") } else { String::new() },
                match band {
                    2 | 3 => format!(":width={}", width * d0),
                    4 => format!(":at={},{}", rows / 4, cols / 3),
                    _ => String::new(),
                },
                if square { ":shape=square" } else { "" },
            );
            let filter: FrequencyFilter = spec.parse().expect("generated spec is valid");
            let image = Array2::from_shape_fn((rows, cols), |(r, c)| ((r * 31 + c * 17) % 13) as f64 - 6.0);
            let out = filter.apply_complex(image.view()).expect("fits");
            proptest::prop_assert_eq!(out.image.dim(), (rows, cols));
            proptest::prop_assert!(out.max_imaginary < 1e-10, "{}: residue {}", spec, out.max_imaginary);
            let fast = filter.apply(image.view()).expect("fits");
            for (a, b) in fast.iter().zip(&out.image) {
                proptest::prop_assert!((a - b).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn low_and_high_pass_complement_each_other() {
        let image = Array2::from_shape_fn((16, 16), |(r, c)| (r * c % 5) as f64);
        let low = parse("butterworth:lowpass:cutoff=4:order=2")
            .apply(image.view())
            .expect("low");
        let high = parse("butterworth:highpass:cutoff=4:order=2")
            .apply(image.view())
            .expect("high");
        for ((l, h), x) in low.iter().zip(&high).zip(&image) {
            assert!((l + h - x).abs() < 1e-10);
        }
        // An ideal low-pass above every frequency keeps the image; the mean survives any low-pass.
        let mean = image.mean().expect("mean");
        let blurred = parse("gaussian:lowpass:cutoff=1")
            .apply(image.view())
            .expect("blur");
        assert!((blurred.mean().expect("mean") - mean).abs() < 1e-12);
    }

    #[test]
    fn laplacian_is_a_high_pass() {
        let laplacian = ndarray::array![[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]];
        let response = kernel_response(laplacian.view(), 32, 32).expect("response");
        assert!(response[[16, 16]].abs() < 1e-12, "zero at DC");
        // |H(u,v)| = 4 − 2cos(2πu/N) − 2cos(2πv/N): 8 at the corner (Nyquist, Nyquist).
        assert!((response[[0, 0]] - 8.0).abs() < 1e-12);
        assert!(response[[16, 20]] < response[[16, 24]]);
    }
}
