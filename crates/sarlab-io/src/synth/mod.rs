//! The synthetic SAR dataset: sarlab's embedded default, so a study runs on a fresh
//! machine without any download.
//!
//! Each class is a vehicle-like target described by 3-D parts (hull boxes, turret
//! cylinders, gun barrels, wheels, blades, a radar dish). A chip is rendered the way a
//! spotlight SAR image forms:
//!
//! * the target is rotated by a random azimuth (and turret parts by a small random
//!   articulation angle); parts are jittered in size per instance, like different
//!   vehicles of one type;
//! * every scatterer is projected into ground range with layover: a scatterer at
//!   height `z` appears `z·tan(ψ)` closer to the radar at depression angle `ψ`;
//! * dihedral-like scatterers (hull sides, wheels, barrels) return strongly only when
//!   their face normal points at the radar; returns also change with depression angle;
//! * scatterers add coherently (random phase) through a separable sinc point-spread
//!   function, so nearby returns interfere;
//! * the ground behind the target (down range) lies in radar shadow, computed from the
//!   target's height map; elsewhere clutter with a gamma texture;
//! * the intensity is multiplied by fully developed speckle: gamma-distributed with
//!   `looks` looks (mean 1).
//!
//! The train split is imaged at 17° depression and the test split at 15°, as in
//! MSTAR's standard operating condition: the small change of geometry moves layover
//! and shadow and changes scatterer strengths, a real domain shift.
//!
//! Everything is deterministic given [`SynthConfig::seed`]: every chip draws from its
//! own generator seeded by (seed, split, class, index), so the output does not depend
//! on thread scheduling.

use std::path::{Path, PathBuf};

use ndarray::Array2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::dataset::Split;
use crate::error::{Error, Result};

mod render;
mod scene;
mod write;

use render::render_chip;
use scene::{TargetModel, build_model};
pub use write::{read_config, write_dataset};

/// File written next to the chips recording the configuration that made them.
pub const CONFIG_FILE: &str = "synth.toml";
/// Per-chip metadata (azimuth, depression, articulation) written next to the chips.
pub const METADATA_FILE: &str = "chips.csv";

/// Settings of the synthetic generator. Every field has a default tuned so that the
/// quickstart study is informative (neither trivial nor hopeless).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SynthConfig {
    pub seed: u64,
    /// Chips are `chip_size × chip_size` pixels.
    pub chip_size: usize,
    pub train_per_class: usize,
    pub test_per_class: usize,
    pub train_depression_deg: f64,
    pub test_depression_deg: f64,
    /// Ground distance covered by one pixel, metres.
    pub pixel_spacing_m: f64,
    /// Width of the point-spread function's main lobe (first null), metres.
    pub resolution_m: f64,
    /// Equivalent number of looks of the speckle: 1 is single-look, larger is smoother.
    pub looks: f64,
    /// Mean clutter intensity relative to a unit scatterer's peak, in dB.
    pub clutter_db: f64,
    /// Standard deviation of the target's offset from the chip centre, pixels.
    pub position_jitter_px: f64,
    /// Standard deviation of turret articulation, degrees.
    pub turret_jitter_deg: f64,
    /// Relative standard deviation of a vehicle's length, width and height.
    pub size_jitter: f64,
    /// Probability that a scatterer is missing on one vehicle (damage, stowage, clutter).
    pub scatterer_dropout: f64,
    /// Magnitude mapped to the largest 16-bit value when chips are written as PNG.
    pub full_scale_magnitude: f64,
    /// How chips are written: 16-bit PNG in `<split>/<class>/` folders, or MSTAR-like
    /// Phoenix files (f32 magnitude and phase, full header) in `<deg>_DEG/<class>/`.
    pub file_format: SynthFileFormat,
}

/// File format of a generated dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SynthFileFormat {
    #[default]
    Png,
    Phoenix,
}

impl Default for SynthConfig {
    fn default() -> Self {
        // MSTAR-like geometry (0.2 m pixels, 0.3 m resolution); nuisance levels tuned so
        // that the quickstart study lands between trivial and hopeless (raw pixels
        // ≈ 80 % test accuracy, HOG ≈ 70 %, CV accuracy several points higher).
        Self {
            seed: 0,
            chip_size: 72,
            train_per_class: 100,
            test_per_class: 80,
            train_depression_deg: 17.0,
            test_depression_deg: 15.0,
            pixel_spacing_m: 0.2,
            resolution_m: 0.3,
            looks: 4.0,
            clutter_db: -28.0,
            position_jitter_px: 1.0,
            turret_jitter_deg: 10.0,
            size_jitter: 0.03,
            scatterer_dropout: 0.05,
            full_scale_magnitude: 8.0,
            file_format: SynthFileFormat::Png,
        }
    }
}

impl SynthConfig {
    /// Checks every setting, naming the first bad one.
    pub fn validate(&self) -> Result<()> {
        let bad = |key, message: String| Err(Error::SynthConfig { key, message });
        if !(16..=1024).contains(&self.chip_size) {
            return bad(
                "chip_size",
                format!("{} is not in 16..=1024 pixels", self.chip_size),
            );
        }
        if self.train_per_class == 0 || self.test_per_class == 0 {
            return bad(
                "train_per_class",
                "both train_per_class and test_per_class must be at least 1".to_owned(),
            );
        }
        for (key, value) in [
            ("train_depression_deg", self.train_depression_deg),
            ("test_depression_deg", self.test_depression_deg),
        ] {
            if !(value > 1.0 && value < 80.0) {
                return bad(key, format!("{value} is not between 1 and 80 degrees"));
            }
        }
        for (key, value) in [
            ("pixel_spacing_m", self.pixel_spacing_m),
            ("resolution_m", self.resolution_m),
            ("looks", self.looks),
            ("full_scale_magnitude", self.full_scale_magnitude),
        ] {
            if !(value.is_finite() && value > 0.0) {
                return bad(key, format!("{value} must be a positive number"));
            }
        }
        for (key, value) in [
            ("position_jitter_px", self.position_jitter_px),
            ("turret_jitter_deg", self.turret_jitter_deg),
            ("size_jitter", self.size_jitter),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return bad(key, format!("{value} must be zero or positive"));
            }
        }
        if !(0.0..1.0).contains(&self.scatterer_dropout) {
            return bad(
                "scatterer_dropout",
                format!("{} is not a probability below 1", self.scatterer_dropout),
            );
        }
        if !self.clutter_db.is_finite() {
            return bad("clutter_db", "must be a finite number of dB".to_owned());
        }
        Ok(())
    }

    fn depression_deg(&self, split: Split) -> f64 {
        match split {
            Split::Train => self.train_depression_deg,
            Split::Test => self.test_depression_deg,
        }
    }

    fn count(&self, split: Split) -> usize {
        match split {
            Split::Train => self.train_per_class,
            Split::Test => self.test_per_class,
        }
    }
}

/// Names of the synthetic target classes, in label order.
pub const CLASS_NAMES: [&str; 8] = [
    "aa_gun",
    "apc_8x8",
    "dozer",
    "ifv",
    "scout_4x4",
    "spg",
    "tank",
    "truck",
];

/// One rendered chip with the geometry it was imaged at.
#[derive(Debug, Clone)]
pub struct SynthChip {
    pub class_index: usize,
    pub split: Split,
    pub index: usize,
    pub azimuth_deg: f64,
    pub depression_deg: f64,
    pub turret_deg: f64,
    /// Linear magnitude (square root of intensity).
    pub magnitude: Array2<f32>,
}

impl SynthChip {
    /// File name of the chip as a PNG.
    pub fn file_name(&self) -> String {
        format!("{}_{:04}.png", CLASS_NAMES[self.class_index], self.index)
    }

    /// Path of the chip inside a dataset folder written in `format`.
    pub fn relative_path(&self, format: SynthFileFormat) -> PathBuf {
        let class = CLASS_NAMES[self.class_index];
        match format {
            SynthFileFormat::Png => Path::new(self.split.name())
                .join(class)
                .join(self.file_name()),
            SynthFileFormat::Phoenix => Path::new(&format!("{:.0}_DEG", self.depression_deg))
                .join(class)
                .join(format!("{class}_{:04}.phx", self.index)),
        }
    }
}

/// Renders every chip of both splits, in parallel, in (split, class, index) order.
pub fn generate(config: &SynthConfig) -> Result<Vec<SynthChip>> {
    config.validate()?;
    let models: Vec<TargetModel> = (0..CLASS_NAMES.len()).map(build_model).collect();
    let jobs: Vec<(Split, usize, usize)> = Split::ALL
        .iter()
        .flat_map(|&split| {
            (0..CLASS_NAMES.len())
                .flat_map(move |class| (0..config.count(split)).map(move |i| (split, class, i)))
        })
        .collect();
    Ok(jobs
        .par_iter()
        .map(|&(split, class, index)| render_chip(config, &models[class], split, class, index))
        .collect())
}

/// splitmix64: decorrelates the per-chip seeds derived from consecutive indices.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn chip_seed(seed: u64, split: Split, class: usize, index: usize) -> u64 {
    let split_id = match split {
        Split::Train => 1,
        Split::Test => 2,
    };
    mix(mix(mix(seed) ^ split_id) ^ ((class as u64) << 32 | index as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn small() -> SynthConfig {
        SynthConfig {
            seed: 3,
            chip_size: 48,
            train_per_class: 2,
            test_per_class: 1,
            ..SynthConfig::default()
        }
    }

    #[test]
    fn same_seed_same_chips_other_seed_other_chips() {
        let a = generate(&small()).expect("generate");
        let b = generate(&small()).expect("generate");
        let c = generate(&SynthConfig { seed: 4, ..small() }).expect("generate");
        assert_eq!(a.len(), CLASS_NAMES.len() * 3);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.magnitude, y.magnitude);
        }
        assert_ne!(a[0].magnitude, c[0].magnitude);
    }

    #[test]
    fn target_peaks_stand_out_of_clutter() {
        let config = SynthConfig {
            position_jitter_px: 0.0,
            ..small()
        };
        for chip in generate(&config).expect("generate") {
            let m = &chip.magnitude;
            let n = m.nrows();
            let target = m.slice(ndarray::s![n / 2 - 12..n / 2 + 12, n / 2 - 12..n / 2 + 12]);
            let peak = target.iter().copied().fold(0.0f32, f32::max);
            let clutter = m.slice(ndarray::s![0..6, 0..6]).mean().expect("non-empty");
            // Bright scatterers more than 14 dB (5× in magnitude) above mean clutter.
            assert!(
                peak > 5.0 * clutter,
                "{}: peak {peak} vs clutter {clutter}",
                chip.file_name()
            );
        }
    }

    #[test]
    fn shadow_lies_down_range() {
        // With little speckle, the strip just beyond the target (larger rows, away from
        // the radar) is darker than clutter the same distance before it.
        let config = SynthConfig {
            looks: 64.0,
            position_jitter_px: 0.0,
            scatterer_dropout: 0.0,
            chip_size: 64,
            pixel_spacing_m: 0.4,
            resolution_m: 0.5,
            ..small()
        };
        let chips = generate(&config).expect("generate");
        let mut darker = 0;
        for chip in &chips {
            let m = &chip.magnitude;
            // At 0.4 m pixels the target spans rows ~22..42 whatever its heading; its
            // shadow falls beyond, towards larger rows.
            let before = m
                .slice(ndarray::s![10..16, 28..36])
                .mean()
                .expect("non-empty");
            let after = m
                .slice(ndarray::s![44..50, 28..36])
                .mean()
                .expect("non-empty");
            if after < before {
                darker += 1;
            }
        }
        assert!(
            darker * 4 >= chips.len() * 3,
            "{darker} of {} chips have a shadow",
            chips.len()
        );
    }

    #[test]
    fn writes_a_loadable_dataset_atomically() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("synthetic");
        let n = write_dataset(&out, &small()).expect("write");
        assert_eq!(n, 24);
        assert_eq!(read_config(&out).expect("read"), Some(small()));
        let index =
            crate::DatasetIndex::scan(&out, &crate::DatasetOptions::default()).expect("scan");
        assert_eq!(index.classes.len(), CLASS_NAMES.len());
        let data = index.load(&|| {}).expect("load");
        assert_eq!(data.class_counts(Split::Train), vec![2; CLASS_NAMES.len()]);
        // Nothing but the dataset itself is left in the parent folder.
        let leftovers: Vec<_> = fs::read_dir(dir.path()).expect("ls").collect();
        assert_eq!(leftovers.len(), 1);
    }

    #[test]
    fn phoenix_form_has_the_same_labels_and_magnitudes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let png = dir.path().join("png");
        let phx = dir.path().join("phx");
        write_dataset(&png, &small()).expect("png");
        let config = SynthConfig {
            file_format: SynthFileFormat::Phoenix,
            ..small()
        };
        write_dataset(&phx, &config).expect("phoenix");
        assert_eq!(read_config(&phx).expect("read"), Some(config));
        let options = crate::DatasetOptions {
            decode: crate::DecodeOptions {
                verify_md5: true,
                band: None,
            },
            ..Default::default()
        };
        let load = |dir: &Path| {
            crate::DatasetIndex::scan(dir, &options)
                .and_then(|i| i.load(&|| {}))
                .expect("load")
        };
        let (a, b) = (load(&png), load(&phx));
        assert_eq!(b.format, crate::DatasetFormat::Phoenix);
        assert_eq!(b.skipped.not_chips, 2, "synth.toml and chips.csv");
        assert_eq!(a.classes, b.classes);
        assert_eq!(a.chips.len(), b.chips.len());
        let full_scale = small().full_scale_magnitude as f32;
        for (x, y) in a.chips.iter().zip(&b.chips) {
            assert_eq!((x.split, x.class_index), (y.split, y.class_index));
            assert_eq!(y.md5, crate::Md5Status::Ok);
            assert_eq!(
                y.meta.depression_deg,
                Some(if x.split == Split::Train { 17.0 } else { 15.0 })
            );
            // PNG stores magnitude / full scale in 16 bits; Phoenix stores it exactly.
            for (p, q) in x.to_f64().iter().zip(&y.to_f64()) {
                let full_scale = f64::from(full_scale);
                assert!(
                    (p * full_scale - q.min(full_scale)).abs() <= full_scale / 65535.0,
                    "{p} vs {q}"
                );
            }
        }
    }

    #[test]
    fn bad_settings_name_the_key() {
        let err = generate(&SynthConfig {
            looks: 0.0,
            ..small()
        })
        .unwrap_err();
        assert!(err.to_string().contains("`looks`"), "{err}");
        let err = generate(&SynthConfig {
            chip_size: 4,
            ..small()
        })
        .unwrap_err();
        assert!(err.to_string().contains("`chip_size`"), "{err}");
    }
}
