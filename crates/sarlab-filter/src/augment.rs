//! Training-set augmentation: seeded copies of a chip shifted by whole pixels, mirrored
//! in azimuth, rotated by small angles and re-speckled, made from the stored linear
//! values before the other preprocessing stages.
//!
//! Geometry: rows are range (near range at the top, so a target's shadow falls down
//! the chip) and columns are azimuth (cross-range), as MSTAR and most chip exports
//! store them. A mirror in azimuth shows the target at the mirrored aspect with the
//! radar on the same side, which is what a left–right symmetric vehicle would look
//! like; a mirror in range would put the shadow in front of the target, which no
//! acquisition produces, so it is not offered.
//!
//! Copies of one chip are drawn from a generator seeded by the study's seed and the
//! chip's index, so they do not depend on the thread that makes them. The discrete
//! transforms (each shift in `[-shifts, shifts]²` and the mirror, less the identity)
//! are dealt without replacement, so `copies = 8, shifts = 1` makes the eight one-pixel
//! shifts; rotation angles and speckle are drawn for every copy.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use ndarray::{Array2, ArrayView2};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma};

use crate::boundary::{bilinear, reflect};
use crate::error::{Error, Result};

/// Copies per chip, at most.
pub const MAX_COPIES: usize = 64;
/// Largest shift in pixels.
pub const MAX_SHIFT: usize = 16;
/// Largest rotation in degrees.
pub const MAX_ROTATE: f64 = 45.0;
/// Largest number of looks of re-synthesised speckle.
pub const MAX_LOOKS: f64 = 1000.0;

/// Which mirror images augmentation may make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Flips {
    #[default]
    None,
    /// Columns reversed (see the module docs for why only azimuth).
    Azimuth,
}

/// Whether the chip's values are amplitudes or intensities (power), which decides how
/// multiplicative speckle applies to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Domain {
    /// Magnitude (MSTAR's exports): a pixel is multiplied by the square root of a
    /// unit-mean gamma variate of `looks` looks.
    #[default]
    Amplitude,
    /// Power: multiplied by the gamma variate itself.
    Intensity,
}

/// How many augmented copies of each training chip are made, and how.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Augment {
    pub copies: usize,
    /// Whole-pixel translations drawn from `-shifts..=shifts` along each axis.
    pub shifts: usize,
    pub flips: Flips,
    /// Rotations drawn uniformly from `[-rotate, rotate]` degrees (0: none), about the
    /// centre of the crop, bilinear, mirrored at the chip's edges.
    pub rotate: f64,
    /// Multiplicative speckle of this many looks (`None`: none).
    pub looks: Option<f64>,
    pub domain: Domain,
}

/// One copy's transform.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Draw {
    /// `(rows, cols)` the copy's window moves by.
    pub shift: (isize, isize),
    pub flip: bool,
    /// Degrees, counter-clockwise.
    pub angle: f64,
    /// Seeds the copy's speckle when `looks` is set.
    pub noise_seed: u64,
}

impl Draw {
    pub const IDENTITY: Draw = Draw {
        shift: (0, 0),
        flip: false,
        angle: 0.0,
        noise_seed: 0,
    };
}

/// SplitMix64's finaliser: seeds that differ in one bit give unrelated streams.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Augment {
    /// Checks the settings on their own; [`Augment::from_str`] calls it.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::InvalidAugment(m));
        if self.copies == 0 || self.copies > MAX_COPIES {
            return bad(format!(
                "`copies` = {}: expected 1 to {MAX_COPIES}",
                self.copies
            ));
        }
        if self.shifts > MAX_SHIFT {
            return bad(format!(
                "`shifts` = {}: at most {MAX_SHIFT} pixels",
                self.shifts
            ));
        }
        if !(self.rotate.is_finite() && (0.0..=MAX_ROTATE).contains(&self.rotate)) {
            return bad(format!(
                "`rotate` = {}: expected 0 to {MAX_ROTATE} degrees",
                self.rotate
            ));
        }
        if let Some(looks) = self.looks
            && !(looks.is_finite() && looks > 0.0 && looks <= MAX_LOOKS)
        {
            return bad(format!(
                "`looks` = {looks}: expected a positive number of at most {MAX_LOOKS}"
            ));
        }
        if self.shifts == 0
            && self.flips == Flips::None
            && self.rotate == 0.0
            && self.looks.is_none()
        {
            return bad(
                "no transform: give `shifts`, `flips = \"azimuth\"`, `rotate` or `looks`, or every copy would repeat its chip"
                    .to_owned(),
            );
        }
        Ok(())
    }

    /// Pixels beyond each side of a `crop × crop` window that a copy may read.
    pub fn margin(&self, crop: usize) -> usize {
        let half = crop as f64 / 2.0;
        let theta = self.rotate.to_radians();
        // A corner of the window, `half` from the centre along each axis, reaches
        // `half·(cos θ + sin θ)` along an axis when turned by θ ≤ 45°; bilinear reads
        // one pixel further.
        let rotation = if self.rotate > 0.0 {
            (half * (theta.sin() + theta.cos() - 1.0).max(0.0)).ceil() as usize + 1
        } else {
            0
        };
        self.shifts + rotation
    }

    /// The copies of chip `chip` of a study seeded by `seed`, in order.
    pub fn draws(&self, seed: u64, chip: usize) -> Vec<Draw> {
        let mut rng = ChaCha8Rng::seed_from_u64(mix(seed ^ mix(chip as u64)));
        let s = self.shifts as isize;
        let flips: &[bool] = match self.flips {
            Flips::None => &[false],
            Flips::Azimuth => &[false, true],
        };
        let mut discrete: Vec<((isize, isize), bool)> = Vec::new();
        for dr in -s..=s {
            for dc in -s..=s {
                for &flip in flips {
                    if (dr, dc, flip) != (0, 0, false) {
                        discrete.push(((dr, dc), flip));
                    }
                }
            }
        }
        if discrete.is_empty() {
            discrete.push(((0, 0), false));
        }
        let mut dealt = Vec::with_capacity(self.copies);
        while dealt.len() < self.copies {
            let mut round = discrete.clone();
            round.shuffle(&mut rng);
            dealt.extend(round.into_iter().take(self.copies - dealt.len()));
        }
        dealt
            .into_iter()
            .map(|(shift, flip)| Draw {
                shift,
                flip,
                angle: if self.rotate > 0.0 {
                    rng.gen_range(-self.rotate..=self.rotate)
                } else {
                    0.0
                },
                noise_seed: rng.r#gen(),
            })
            .collect()
    }

    /// The copy `draw` of the `size × size` window whose rows and columns in `source`
    /// are `window`: `source` is the chip (or the part of it kept around the window,
    /// which must reach `margin(size)` further on every side or the chip's edge).
    /// Values are the stored linear ones; the result has the window's size.
    pub fn apply(
        &self,
        draw: &Draw,
        source: ArrayView2<'_, f64>,
        window: (Range<usize>, Range<usize>),
    ) -> Result<Array2<f64>> {
        let (rows, cols) = window;
        let (h, w) = (rows.len(), cols.len());
        if rows.end > source.nrows() || cols.end > source.ncols() || h == 0 || w == 0 {
            return Err(Error::SizeMismatch {
                expected: (rows.end, cols.end),
                actual: source.dim(),
            });
        }
        let mut out = Array2::<f64>::zeros((h, w));
        if draw.angle == 0.0 {
            // Whole-pixel moves copy pixels exactly (a shifted numpy slice).
            for i in 0..h {
                for j in 0..w {
                    let jj = if draw.flip { w - 1 - j } else { j };
                    let r = reflect(
                        rows.start as isize + i as isize + draw.shift.0,
                        source.nrows(),
                    );
                    let c = reflect(
                        cols.start as isize + jj as isize + draw.shift.1,
                        source.ncols(),
                    );
                    out[[i, j]] = source[[r, c]];
                }
            }
        } else {
            let (cr, cc) = (
                rows.start as f64 + (h as f64 - 1.0) / 2.0,
                cols.start as f64 + (w as f64 - 1.0) / 2.0,
            );
            let (sin, cos) = draw.angle.to_radians().sin_cos();
            for i in 0..h {
                for j in 0..w {
                    let u = i as f64 - (h as f64 - 1.0) / 2.0;
                    let mut v = j as f64 - (w as f64 - 1.0) / 2.0;
                    if draw.flip {
                        v = -v;
                    }
                    // The output pixel's source position: rotate its offset back.
                    let r = cr + draw.shift.0 as f64 + cos * u + sin * v;
                    let c = cc + draw.shift.1 as f64 - sin * u + cos * v;
                    out[[i, j]] = bilinear(source, r, c);
                }
            }
        }
        if let Some(looks) = self.looks {
            let gamma = Gamma::new(looks, 1.0 / looks)
                .map_err(|e| Error::InvalidAugment(format!("`looks` = {looks}: {e}")))?;
            let mut rng = ChaCha8Rng::seed_from_u64(draw.noise_seed);
            for v in out.iter_mut() {
                let g: f64 = gamma.sample(&mut rng);
                *v *= match self.domain {
                    Domain::Amplitude => g.sqrt(),
                    Domain::Intensity => g,
                };
            }
        }
        Ok(out)
    }
}

impl fmt::Display for Augment {
    /// Canonical text: `copies` and each setting that is not its default, in a fixed
    /// order, so two spellings of one augmentation record the same value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "copies={}", self.copies)?;
        if self.shifts > 0 {
            write!(f, ":shifts={}", self.shifts)?;
        }
        if self.flips == Flips::Azimuth {
            f.write_str(":flips=azimuth")?;
        }
        if self.rotate > 0.0 {
            write!(f, ":rotate={}", self.rotate)?;
        }
        if let Some(looks) = self.looks {
            write!(f, ":looks={looks}")?;
            if self.domain == Domain::Intensity {
                f.write_str(":domain=intensity")?;
            }
        }
        Ok(())
    }
}

impl FromStr for Augment {
    type Err = Error;

    /// `copies=8:shifts=1:flips=azimuth:rotate=5:looks=4:domain=amplitude`, keys in any
    /// order; `copies` is required.
    fn from_str(text: &str) -> Result<Self> {
        let bad = |m: String| Error::InvalidAugment(format!("`{text}`: {m}"));
        let mut augment = Augment {
            copies: 0,
            shifts: 0,
            flips: Flips::None,
            rotate: 0.0,
            looks: None,
            domain: Domain::Amplitude,
        };
        let mut seen: Vec<&str> = Vec::new();
        for part in text.split(':') {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| bad(format!("`{part}` is not key=value")))?;
            if seen.contains(&key) {
                return Err(bad(format!("`{key}` is given twice")));
            }
            seen.push(key);
            let number = |what: &str| {
                value
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| bad(format!("`{key}` is `{value}`, expected {what}")))
            };
            let whole = || {
                value
                    .parse::<usize>()
                    .map_err(|_| bad(format!("`{key}` is `{value}`, expected a whole number")))
            };
            match key {
                "copies" => augment.copies = whole()?,
                "shifts" => augment.shifts = whole()?,
                "flips" => {
                    augment.flips = match value {
                        "none" => Flips::None,
                        "azimuth" => Flips::Azimuth,
                        "range" | "both" => {
                            return Err(bad(
                                "a mirror in range puts the shadow in front of the target, which no acquisition shows: only `azimuth` (or `none`) is offered"
                                    .to_owned(),
                            ));
                        }
                        other => {
                            return Err(bad(format!(
                                "`flips` is `{other}`, expected `none` or `azimuth`"
                            )));
                        }
                    }
                }
                "rotate" => augment.rotate = number("degrees")?,
                "looks" => augment.looks = Some(number("a number of looks")?),
                "domain" => {
                    augment.domain = match value {
                        "amplitude" => Domain::Amplitude,
                        "intensity" => Domain::Intensity,
                        other => {
                            return Err(bad(format!(
                                "`domain` is `{other}`, expected `amplitude` or `intensity`"
                            )));
                        }
                    }
                }
                other => {
                    return Err(bad(format!(
                        "unknown key `{other}` (expected copies, shifts, flips, rotate, looks, domain)"
                    )));
                }
            }
        }
        if !seen.contains(&"copies") {
            return Err(bad("`copies` is required".to_owned()));
        }
        if seen.contains(&"domain") && augment.looks.is_none() {
            return Err(bad("`domain` applies to `looks` only".to_owned()));
        }
        augment.validate().map_err(|e| {
            bad(e
                .to_string()
                .trim_start_matches("invalid augmentation ")
                .to_owned())
        })?;
        Ok(augment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array, s};

    fn ramp(rows: usize, cols: usize) -> Array2<f64> {
        Array::from_shape_fn((rows, cols), |(r, c)| (r * 100 + c) as f64 + 1.0)
    }

    #[test]
    fn eight_copies_of_one_pixel_shifts_are_the_eight_shifted_slices() {
        let augment: Augment = "copies=8:shifts=1".parse().expect("parses");
        let chip = ramp(20, 20);
        let draws = augment.draws(7, 3);
        let mut shifts: Vec<_> = draws.iter().map(|d| d.shift).collect();
        shifts.sort_unstable();
        assert_eq!(
            shifts,
            vec![
                (-1, -1),
                (-1, 0),
                (-1, 1),
                (0, -1),
                (0, 1),
                (1, -1),
                (1, 0),
                (1, 1)
            ]
        );
        for draw in &draws {
            let out = augment
                .apply(draw, chip.view(), (5..15, 5..15))
                .expect("applies");
            let (dr, dc) = draw.shift;
            let expected = chip.slice(s![5 + dr..15 + dr, 5 + dc..15 + dc]);
            assert_eq!(out, expected);
        }
    }

    #[test]
    fn draws_depend_on_seed_and_chip_only() {
        let augment: Augment = "copies=5:shifts=2:flips=azimuth:rotate=10:looks=2"
            .parse()
            .expect("parses");
        assert_eq!(augment.draws(1, 9), augment.draws(1, 9));
        assert_ne!(augment.draws(1, 9), augment.draws(1, 10));
        assert_ne!(augment.draws(1, 9), augment.draws(2, 9));
        for d in augment.draws(1, 9) {
            assert!(d.shift.0.abs() <= 2 && d.shift.1.abs() <= 2);
            assert!(d.angle.abs() <= 10.0);
        }
    }

    #[test]
    fn an_azimuth_mirror_reverses_columns_and_a_zero_angle_copy_is_exact() {
        let augment: Augment = "copies=1:flips=azimuth".parse().expect("parses");
        let chip = ramp(8, 8);
        let draw = Draw {
            flip: true,
            ..Draw::IDENTITY
        };
        let out = augment
            .apply(&draw, chip.view(), (2..6, 2..6))
            .expect("applies");
        assert_eq!(out, chip.slice(s![2..6, 2..6;-1]));
    }

    #[test]
    fn a_quarter_turn_of_a_ramp_is_its_transpose_about_the_centre() {
        // Bilinear at whole-pixel positions reproduces pixels: a 90° turn (allowed
        // here by building the settings directly) maps rows to columns.
        let augment = Augment {
            copies: 1,
            shifts: 0,
            flips: Flips::None,
            rotate: 90.0,
            looks: None,
            domain: Domain::Amplitude,
        };
        let chip = ramp(9, 9);
        let draw = Draw {
            angle: 90.0,
            ..Draw::IDENTITY
        };
        let out = augment
            .apply(&draw, chip.view(), (2..7, 2..7))
            .expect("applies");
        for i in 0..5 {
            for j in 0..5 {
                // Output (i, j) reads source (2 + j, 2 + 4 - i).
                let expected = chip[[2 + j, 6 - i]];
                assert!((out[[i, j]] - expected).abs() < 1e-9, "{i} {j}");
            }
        }
    }

    #[test]
    fn speckle_has_unit_mean_power() {
        let augment: Augment = "copies=1:looks=4".parse().expect("parses");
        let chip = Array2::from_elem((200, 200), 1.0);
        let out = augment
            .apply(
                &Draw {
                    noise_seed: 11,
                    ..Draw::IDENTITY
                },
                chip.view(),
                (0..200, 0..200),
            )
            .expect("applies");
        let power = out.iter().map(|v| v * v).sum::<f64>() / out.len() as f64;
        let var = out.iter().map(|v| (v * v - power).powi(2)).sum::<f64>() / out.len() as f64;
        // Intensity of 4 looks: mean 1, variance 1/4.
        assert!((power - 1.0).abs() < 0.01, "{power}");
        assert!((var - 0.25).abs() < 0.02, "{var}");
    }

    #[test]
    fn copies_stay_inside_the_margin() {
        for text in [
            "copies=4:shifts=3",
            "copies=6:rotate=15:shifts=1",
            "copies=2:rotate=45",
        ] {
            let augment: Augment = text.parse().expect("parses");
            let crop = 32;
            let m = augment.margin(crop);
            // A source exactly the window plus the margin: reflection must never be
            // needed, so a source with NaN outside it would show any read beyond.
            let side = crop + 2 * m;
            let mut source = Array2::from_elem((side + 2, side + 2), f64::NAN);
            source.slice_mut(s![1..side + 1, 1..side + 1]).fill(1.0);
            for chip in 0..20 {
                for draw in augment.draws(0, chip) {
                    let out = augment
                        .apply(
                            &draw,
                            source.view(),
                            (1 + m..1 + m + crop, 1 + m..1 + m + crop),
                        )
                        .expect("applies");
                    assert!(out.iter().all(|v| v.is_finite()), "{text}: {draw:?}");
                }
            }
        }
    }

    #[test]
    fn texts_round_trip_and_errors_name_the_key() {
        for text in [
            "copies=8:shifts=1",
            "copies=4:shifts=2:flips=azimuth",
            "copies=3:rotate=5:looks=4:domain=intensity",
        ] {
            let a: Augment = text.parse().expect("parses");
            assert_eq!(a.to_string(), text);
        }
        let a: Augment = "shifts=1:copies=2:flips=none".parse().expect("parses");
        assert_eq!(a.to_string(), "copies=2:shifts=1");
        for (text, needle) in [
            ("shifts=1", "`copies` is required"),
            ("copies=2", "no transform"),
            ("copies=2:flips=range", "shadow"),
            ("copies=0:shifts=1", "`copies` = 0"),
            ("copies=2:shifts=99", "`shifts` = 99"),
            ("copies=2:rotate=nan", "`rotate`"),
            ("copies=2:looks=-1", "`looks`"),
            ("copies=2:shifts=1:zoom=2", "unknown key `zoom`"),
            ("copies=2:shifts=1:shifts=2", "given twice"),
        ] {
            let err = text.parse::<Augment>().unwrap_err().to_string();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }
}
