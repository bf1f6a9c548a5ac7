//! What `sarlab dataset info` reports about a path: its format, classes, counts per
//! class and split, chip sizes, MD5 status and header summaries, plus warnings a
//! researcher should see before training (sizes that differ by class leak the label).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Read;
use std::path::Path;

use serde::Serialize;

use crate::chip_file::{self, ChipFormat, ChipMeta};
use crate::dataset::{Dataset, DatasetIndex, DatasetOptions, Skipped, counts_by_class};
use crate::envi::{ByteOrder, EnviRaster};
use crate::error::{Error, Result};
use crate::phoenix::{self, Md5Status};

/// MD5 verification tallies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Md5Counts {
    pub ok: usize,
    pub failed: usize,
    /// Phoenix files without `Chip_MD5_CheckSum`.
    pub absent: usize,
    /// Chips of formats that carry no checksum, or not verified.
    pub not_checked: usize,
}

impl Md5Counts {
    fn add(&mut self, status: &Md5Status) {
        match status {
            Md5Status::Ok => self.ok += 1,
            Md5Status::Failed { .. } => self.failed += 1,
            Md5Status::Absent => self.absent += 1,
            Md5Status::NotChecked => self.not_checked += 1,
        }
    }
}

/// Summary of the Phoenix headers of a dataset.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PhoenixSummary {
    /// `TargetType` → chips.
    pub target_types: BTreeMap<String, usize>,
    /// `TargetType` → serial numbers seen.
    pub serials: BTreeMap<String, BTreeSet<String>>,
    /// Depression angle (as written, degrees) → chips.
    pub depressions: BTreeMap<String, usize>,
    /// Smallest and largest `TargetAz`, degrees.
    pub azimuth_range_deg: Option<(f64, f64)>,
    /// Every field of the header, for a single file.
    pub fields: Option<BTreeMap<String, String>>,
}

/// The header of an ENVI raster.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnviSummary {
    pub header: String,
    pub data: String,
    pub samples: usize,
    pub lines: usize,
    pub bands: usize,
    pub data_type: String,
    pub data_type_code: u32,
    pub byte_order: String,
    pub interleave: String,
    pub header_offset: u64,
    pub band_names: Vec<String>,
    pub data_bytes: u64,
}

/// Everything `sarlab dataset info` reports; serialised as its `--json` output.
#[derive(Debug, Clone, Serialize)]
pub struct DatasetInfo {
    pub path: String,
    /// `image-folders`, `manifest`, `phoenix` for datasets; `envi`; or a single chip
    /// file's format (`png`, `jpeg`, `tiff`, `npy`, `phoenix-file`).
    pub format: String,
    pub classes: Vec<String>,
    /// Class → split → chips.
    pub counts: BTreeMap<String, BTreeMap<String, usize>>,
    /// `ROWSxCOLS` (rows first, as in numpy's `shape`) → chips.
    pub sizes: BTreeMap<String, usize>,
    /// Class → `ROWSxCOLS` → chips.
    pub sizes_by_class: BTreeMap<String, BTreeMap<String, usize>>,
    /// Chip file format → chips.
    pub chip_formats: BTreeMap<String, usize>,
    pub md5: Md5Counts,
    /// Files whose MD5 check failed.
    pub md5_failures: Vec<String>,
    pub skipped: Skipped,
    pub phoenix: Option<PhoenixSummary>,
    pub envi: Option<EnviSummary>,
    /// Content digest of a dataset (as recorded with every run).
    pub digest: Option<String>,
    pub warnings: Vec<String>,
}

impl DatasetInfo {
    fn empty(path: &Path, format: &str) -> Self {
        Self {
            path: path.display().to_string(),
            format: format.to_owned(),
            classes: Vec::new(),
            counts: BTreeMap::new(),
            sizes: BTreeMap::new(),
            sizes_by_class: BTreeMap::new(),
            chip_formats: BTreeMap::new(),
            md5: Md5Counts::default(),
            md5_failures: Vec::new(),
            skipped: Skipped::default(),
            phoenix: None,
            envi: None,
            digest: None,
            warnings: Vec::new(),
        }
    }
}

/// Inspects a dataset folder, a manifest, a single chip file or an ENVI raster. Every
/// chip is decoded (so a corrupt one is an error naming it); MD5 failures are counted,
/// not raised.
pub fn inspect(
    path: &Path,
    options: &DatasetOptions,
    on_chip: &(dyn Fn() + Sync),
) -> Result<DatasetInfo> {
    if !path.exists() {
        return Err(Error::MissingFolder {
            path: path.to_path_buf(),
        });
    }
    if path.is_file() {
        if is_envi(path) {
            return inspect_envi(path);
        }
        let mut prefix = [0u8; 32];
        let n = fs::File::open(path)
            .and_then(|mut f| f.read(&mut prefix))
            .map_err(|source| Error::Read {
                path: path.to_path_buf(),
                source,
            })?;
        if ChipFormat::sniff(&prefix[..n]).is_some() {
            return inspect_file(path, options);
        }
    }
    let index = DatasetIndex::scan(path, options)?;
    let dataset = index.load_keeping_md5_failures(on_chip)?;
    Ok(summarise(path, &index, &dataset))
}

fn is_envi(path: &Path) -> bool {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("hdr"))
    {
        return true;
    }
    let mut beside = path.as_os_str().to_owned();
    beside.push(".hdr");
    path.with_extension("hdr").is_file() || Path::new(&beside).is_file()
}

fn inspect_envi(path: &Path) -> Result<DatasetInfo> {
    let raster = EnviRaster::open(path)?;
    let h = &raster.header;
    let mut info = DatasetInfo::empty(path, "envi");
    info.sizes
        .insert(format!("{}x{}", h.lines, h.samples), h.bands);
    info.envi = Some(EnviSummary {
        header: raster.header_path.display().to_string(),
        data: raster.data_path.display().to_string(),
        samples: h.samples,
        lines: h.lines,
        bands: h.bands,
        data_type: h.data_type.to_string(),
        data_type_code: h.data_type.code(),
        byte_order: match h.byte_order {
            ByteOrder::Little => "little-endian (0)".to_owned(),
            ByteOrder::Big => "big-endian (1)".to_owned(),
        },
        interleave: h.interleave.name().to_owned(),
        header_offset: h.header_offset,
        band_names: h.band_names.clone(),
        data_bytes: h.data_length(),
    });
    Ok(info)
}

fn inspect_file(path: &Path, options: &DatasetOptions) -> Result<DatasetInfo> {
    let bytes = fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let chip = chip_file::decode(&bytes, path, &options.decode)?;
    let format = match chip.format {
        ChipFormat::Phoenix => "phoenix-file".to_owned(),
        other => other.name().to_owned(),
    };
    let mut info = DatasetInfo::empty(path, &format);
    let (rows, cols) = chip.image.dim();
    info.sizes.insert(format!("{rows}x{cols}"), 1);
    info.chip_formats.insert(chip.format.name().to_owned(), 1);
    info.md5.add(&chip.md5);
    if let Md5Status::Failed { .. } = chip.md5 {
        info.md5_failures.push(path.display().to_string());
    }
    if chip.format == ChipFormat::Phoenix {
        let header = phoenix::PhoenixHeader::parse(&bytes, path)?;
        let class = header
            .target_type
            .clone()
            .unwrap_or_else(|| "(no TargetType)".to_owned());
        let split = header
            .depression_deg
            .and_then(|d| options.depression.split_of(d))
            .map_or("unassigned", |s| s.name());
        info.classes.push(class.clone());
        info.counts
            .insert(class.clone(), BTreeMap::from([(split.to_owned(), 1)]));
        info.sizes_by_class
            .insert(class, BTreeMap::from([(format!("{rows}x{cols}"), 1)]));
        let mut summary = phoenix_summary([&chip.meta]);
        summary.fields = Some(header.fields.into_iter().collect());
        info.phoenix = Some(summary);
    }
    Ok(info)
}

fn phoenix_summary<'a>(metas: impl IntoIterator<Item = &'a ChipMeta>) -> PhoenixSummary {
    let mut summary = PhoenixSummary::default();
    for meta in metas {
        let target = meta
            .target_type
            .clone()
            .unwrap_or_else(|| "(none)".to_owned());
        *summary.target_types.entry(target.clone()).or_default() += 1;
        if let Some(serial) = &meta.serial {
            summary
                .serials
                .entry(target)
                .or_default()
                .insert(serial.clone());
        }
        if let Some(d) = meta.depression_deg {
            *summary.depressions.entry(format!("{d}")).or_default() += 1;
        }
        if let Some(az) = meta.azimuth_deg {
            summary.azimuth_range_deg = Some(match summary.azimuth_range_deg {
                None => (az, az),
                Some((lo, hi)) => (lo.min(az), hi.max(az)),
            });
        }
    }
    summary
}

fn summarise(path: &Path, index: &DatasetIndex, dataset: &Dataset) -> DatasetInfo {
    let mut info = DatasetInfo::empty(path, dataset.format.name());
    info.classes = dataset.classes.clone();
    info.counts = counts_by_class(dataset)
        .into_iter()
        .map(|(class, per_split)| {
            // Both splits always appear, so scripts can index counts[class]["test"].
            let counts = crate::dataset::Split::ALL
                .into_iter()
                .map(|s| (s.name().to_owned(), per_split.get(&s).copied().unwrap_or(0)))
                .collect();
            (class, counts)
        })
        .collect();
    info.skipped = dataset.skipped;
    info.digest = Some(dataset.digest.clone());
    for (chip, entry) in dataset.chips.iter().zip(&index.entries) {
        let (rows, cols) = chip.image.dim();
        let size = format!("{rows}x{cols}");
        *info.sizes.entry(size.clone()).or_default() += 1;
        *info
            .sizes_by_class
            .entry(dataset.classes[chip.class_index].clone())
            .or_default()
            .entry(size)
            .or_default() += 1;
        *info
            .chip_formats
            .entry(chip.format.name().to_owned())
            .or_default() += 1;
        info.md5.add(&chip.md5);
        if let Md5Status::Failed { .. } = chip.md5 {
            info.md5_failures.push(entry.path.display().to_string());
        }
    }
    if dataset
        .chips
        .iter()
        .any(|c| c.format == ChipFormat::Phoenix)
    {
        info.phoenix = Some(phoenix_summary(
            dataset
                .chips
                .iter()
                .filter(|c| c.format == ChipFormat::Phoenix)
                .map(|c| &c.meta),
        ));
    }
    info.warnings = warnings(&info);
    info
}

fn warnings(info: &DatasetInfo) -> Vec<String> {
    let mut warnings = Vec::new();
    let size_sets: BTreeSet<Vec<&String>> = info
        .sizes_by_class
        .values()
        .map(|sizes| sizes.keys().collect())
        .collect();
    if info.sizes.len() > 1 && size_sets.len() > 1 {
        let per_class: Vec<String> = info
            .sizes_by_class
            .iter()
            .map(|(class, sizes)| {
                let list: Vec<&str> = sizes.keys().map(String::as_str).collect();
                format!("{class} {}", list.join("/"))
            })
            .collect();
        warnings.push(format!(
            "chip sizes differ by class ({}): a classifier can learn the size instead of the target; centre-crop every chip to a common size (`preprocess.crop`)",
            per_class.join(", ")
        ));
    }
    for (class, per_split) in &info.counts {
        for split in ["train", "test"] {
            if per_split.get(split).copied().unwrap_or(0) == 0 {
                warnings.push(format!(
                    "class `{class}` has no {split} chips: a study needs both splits"
                ));
            }
        }
    }
    if info.md5.failed > 0 {
        warnings.push(format!(
            "{} chip(s) failed the MD5 check: the files are damaged or altered",
            info.md5.failed
        ));
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, Luma};

    #[test]
    fn warns_when_sizes_differ_by_class() {
        let dir = tempfile::tempdir().expect("tempdir");
        for split in ["train", "test"] {
            for (class, size) in [("a", 8u32), ("b", 10u32)] {
                let d = dir.path().join(split).join(class);
                fs::create_dir_all(&d).expect("mkdir");
                GrayImage::from_pixel(size, size, Luma([9]))
                    .save(d.join("0.png"))
                    .expect("png");
            }
        }
        let info = inspect(dir.path(), &DatasetOptions::default(), &|| {}).expect("inspect");
        assert_eq!(info.format, "image-folders");
        assert_eq!(info.counts["a"]["train"], 1);
        assert_eq!(
            info.sizes,
            BTreeMap::from([("10x10".to_owned(), 2), ("8x8".to_owned(), 2)])
        );
        assert_eq!(info.md5.not_checked, 4);
        assert_eq!(info.warnings.len(), 1, "{:?}", info.warnings);
        assert!(
            info.warnings[0].contains("a 8x8, b 10x10"),
            "{:?}",
            info.warnings
        );
        assert!(info.digest.is_some());
    }
}
