//! Writing a generated dataset: chips as PNG or Phoenix files in the image-folder
//! layout, the generator's settings beside them, and a metadata table.

use std::f64::consts::TAU;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::*;
use crate::error::{Error, Result};

/// Generates the dataset and writes it as 16-bit PNG chips in
/// `<dir>/<split>/<class>/<class>_<index>.png`, with [`CONFIG_FILE`] and
/// [`METADATA_FILE`] beside them.
///
/// The chips are written to a temporary sibling folder which is renamed into place at
/// the end, so an interrupted run never leaves a half-written dataset behind.
pub fn write_dataset(dir: &Path, config: &SynthConfig) -> Result<usize> {
    let chips = generate(config)?;
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(|source| Error::Write {
        path: parent.to_path_buf(),
        source,
    })?;
    let staging = parent.join(format!(
        ".{}.partial-{}",
        dir.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("synthetic"),
        std::process::id()
    ));
    if staging.exists() {
        let _ = fs::remove_dir_all(&staging);
    }
    let result = write_chips(&staging, config, &chips).and_then(|()| {
        fs::rename(&staging, dir).map_err(|source| Error::Write {
            path: dir.to_path_buf(),
            source,
        })
    });
    if result.is_err() {
        let _ = fs::remove_dir_all(&staging);
    }
    result.map(|()| chips.len())
}

/// Reads the configuration a synthetic dataset folder was generated with, if it has one.
pub fn read_config(dir: &Path) -> Result<Option<SynthConfig>> {
    let path = dir.join(CONFIG_FILE);
    if !path.exists() {
        return Ok(None);
    }
    let text = fs::read_to_string(&path).map_err(|source| Error::Read {
        path: path.clone(),
        source,
    })?;
    toml::from_str(&text)
        .map(Some)
        .map_err(|e| Error::Metadata {
            path,
            message: format!("not a synthetic-dataset configuration: {e}"),
        })
}

pub(super) fn write_chips(dir: &Path, config: &SynthConfig, chips: &[SynthChip]) -> Result<()> {
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Write { path, source }
    };
    chips.par_iter().try_for_each(|chip| {
        let path: PathBuf = dir.join(chip.relative_path(config.file_format));
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(write_err(parent))?;
        }
        match config.file_format {
            SynthFileFormat::Png => write_png_chip(&path, config, chip),
            SynthFileFormat::Phoenix => write_phoenix_chip(&path, config, chip),
        }
    })?;

    let meta_path = dir.join(METADATA_FILE);
    let mut meta = String::from("split,class,file,azimuth_deg,depression_deg,turret_deg\n");
    for chip in chips {
        meta.push_str(&format!(
            "{},{},{},{:.3},{:.1},{:.3}\n",
            chip.split,
            CLASS_NAMES[chip.class_index],
            chip.relative_path(config.file_format)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            chip.azimuth_deg,
            chip.depression_deg,
            chip.turret_deg
        ));
    }
    fs::write(&meta_path, meta).map_err(write_err(&meta_path))?;

    let config_path = dir.join(CONFIG_FILE);
    let text = toml::to_string(config).map_err(|e| Error::Metadata {
        path: config_path.clone(),
        message: format!("cannot serialise the configuration: {e}"),
    })?;
    let mut file = fs::File::create(&config_path).map_err(write_err(&config_path))?;
    file.write_all(
        format!(
            "# Written by `sarlab dataset synth`: the settings that generated this folder.\n{text}"
        )
        .as_bytes(),
    )
    .map_err(write_err(&config_path))
}

// ---------------------------------------------------------------------------------
// Target models
// ---------------------------------------------------------------------------------

pub(super) fn write_png_chip(path: &Path, config: &SynthConfig, chip: &SynthChip) -> Result<()> {
    let scale = 65535.0 / config.full_scale_magnitude;
    let (rows, cols) = chip.magnitude.dim();
    let pixels: Vec<u16> = chip
        .magnitude
        .iter()
        .map(|&m| (f64::from(m) * scale).round().clamp(0.0, 65535.0) as u16)
        .collect();
    let buffer = image::ImageBuffer::<image::Luma<u16>, Vec<u16>>::from_raw(
        cols as u32,
        rows as u32,
        pixels,
    )
    .ok_or_else(|| Error::Metadata {
        path: path.to_path_buf(),
        message: "pixel buffer does not match the chip size".to_owned(),
    })?;
    buffer.save(path).map_err(|source| Error::Encode {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes a chip as an MSTAR-like Phoenix file. The renderer models magnitude only, so
/// the phase is drawn uniform on `[0, 2π)` (fully developed speckle) from the chip's
/// own seed: the PNG and Phoenix forms of a dataset have identical magnitudes.
pub(super) fn write_phoenix_chip(
    path: &Path,
    config: &SynthConfig,
    chip: &SynthChip,
) -> Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(mix(chip_seed(
        config.seed,
        chip.split,
        chip.class_index,
        chip.index,
    ) ^ 0x5048_4153));
    let phase =
        Array2::from_shape_simple_fn(chip.magnitude.dim(), || rng.gen_range(0.0..TAU) as f32);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let fields: Vec<(String, String)> = [
        ("PhoenixHeaderCallingSequence", String::new()),
        ("HeaderVersionNumber", "sarlab".to_owned()),
        ("Filename", name),
        ("TargetType", CLASS_NAMES[chip.class_index].to_owned()),
        ("TargetSerNum", format!("synth{:04}", chip.index)),
        ("TargetAz", format!("{:.6}", chip.azimuth_deg)),
        ("DesiredDepression", format!("{:.0}", chip.depression_deg)),
        ("MeasuredDepression", format!("{:.6}", chip.depression_deg)),
        ("RangeResolution", format!("{:.6}", config.resolution_m)),
        (
            "CrossRangeResolution",
            format!("{:.6}", config.resolution_m),
        ),
        (
            "RangePixelSpacing",
            format!("{:.6}", config.pixel_spacing_m),
        ),
        (
            "CrossRangePixelSpacing",
            format!("{:.6}", config.pixel_spacing_m),
        ),
        ("Polarization", "HH".to_owned()),
        ("SensorName", "sarlab synthetic".to_owned()),
        (
            "DataCollectors",
            format!("sarlab synth seed {}", config.seed),
        ),
    ]
    .map(|(k, v)| (k.to_owned(), v))
    .to_vec();
    crate::phoenix::write(
        path,
        &fields,
        crate::phoenix::PhoenixSamples::Chip {
            magnitude: &chip.magnitude,
            phase: &phase,
        },
    )
}
