//! Labelled chip datasets on disk: image folders (`<root>/<split>/<class>/<chip>`), a
//! manifest CSV (`path,label,split`) for arbitrary layouts, or a tree of MSTAR Phoenix
//! files labelled by their own headers.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use std::ops::Range;

use ndarray::Array2;
use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::chip_file::{self, ChipFormat, ChipMeta, DecodeOptions};
use crate::error::{Error, Result};
use crate::hex::hex;
use crate::phoenix::{self, Md5Status};
use crate::pixels::Pixels;

/// File endings read as chips in image folders; anything else is skipped and counted.
const IMAGE_EXTENSIONS: [&str; 6] = ["png", "jpg", "jpeg", "tif", "tiff", "npy"];

/// File name of the manifest looked for in a dataset folder.
pub const MANIFEST_FILE: &str = "manifest.csv";

/// Which half of a study a chip belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Train,
    Test,
}

impl Split {
    pub const ALL: [Split; 2] = [Split::Train, Split::Test];

    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "test",
        }
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a dataset is laid out on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetFormat {
    /// `<root>/<train>/<class>/*` and `<root>/<test>/<class>/*`: class = folder name.
    ImageFolders,
    /// A CSV with columns `path,label,split`; paths relative to the CSV's folder.
    Manifest,
    /// MSTAR Phoenix files anywhere below the root: class from `TargetType`, split from
    /// the depression angle.
    Phoenix,
}

impl DatasetFormat {
    pub const ALL: [DatasetFormat; 3] = [
        DatasetFormat::ImageFolders,
        DatasetFormat::Manifest,
        DatasetFormat::Phoenix,
    ];

    pub fn name(self) -> &'static str {
        match self {
            DatasetFormat::ImageFolders => "image-folders",
            DatasetFormat::Manifest => "manifest",
            DatasetFormat::Phoenix => "phoenix",
        }
    }
}

impl fmt::Display for DatasetFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for DatasetFormat {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| Error::InvalidArgument {
                what: "dataset format",
                message: format!("`{s}` is not one of image-folders, manifest, phoenix"),
            })
    }
}

/// Names of the sub-folders that hold each split (image folders) and the split names
/// accepted in a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderLayout {
    pub train: String,
    pub test: String,
}

impl Default for FolderLayout {
    fn default() -> Self {
        Self {
            train: "train".to_owned(),
            test: "test".to_owned(),
        }
    }
}

impl FolderLayout {
    fn folder(&self, split: Split) -> &str {
        match split {
            Split::Train => &self.train,
            Split::Test => &self.test,
        }
    }
}

/// Depression angles (degrees) that put a Phoenix chip in each split. MSTAR's SOC
/// protocol trains on 17° and tests on 15°.
#[derive(Debug, Clone, PartialEq)]
pub struct DepressionSplits {
    pub train: Vec<f64>,
    pub test: Vec<f64>,
}

impl Default for DepressionSplits {
    fn default() -> Self {
        Self {
            train: vec![17.0],
            test: vec![15.0],
        }
    }
}

impl DepressionSplits {
    /// Angles match within this many degrees (headers write `17` or `17.0`).
    const TOLERANCE_DEG: f64 = 0.25;

    /// The split of a chip imaged at `depression_deg`, or `None` when neither list has it.
    pub fn split_of(&self, depression_deg: f64) -> Option<Split> {
        let near = |angles: &[f64]| {
            angles
                .iter()
                .any(|a| (a - depression_deg).abs() <= Self::TOLERANCE_DEG)
        };
        if near(&self.train) {
            Some(Split::Train)
        } else if near(&self.test) {
            Some(Split::Test)
        } else {
            None
        }
    }
}

/// Everything that decides how a dataset is found and read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DatasetOptions {
    /// `None` detects the format: `<train>`/`<test>` folders → image folders; a `.csv`
    /// file or a folder with `manifest.csv` → manifest; otherwise Phoenix files.
    pub format: Option<DatasetFormat>,
    pub layout: FolderLayout,
    pub depression: DepressionSplits,
    pub decode: DecodeOptions,
}

/// One chip file found by [`DatasetIndex::scan`], not yet read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChipEntry {
    pub class_index: usize,
    pub split: Split,
    pub path: PathBuf,
    /// Name of the chip inside the dataset: the file name inside its class folder for
    /// image folders (MSTAR repeats file names across classes, so a chip is identified
    /// by split, class and name), the path relative to the root (with `/`) otherwise.
    pub file_name: String,
}

/// Files seen while scanning that are not part of the dataset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// Files that are not chips (READMEs, thumbnails, ...).
    pub not_chips: usize,
    /// Phoenix chips whose depression angle belongs to neither split (e.g. 30°).
    pub other_depression: usize,
}

/// The chips of a dataset, listed and labelled but not decoded.
#[derive(Debug, Clone)]
pub struct DatasetIndex {
    pub root: PathBuf,
    pub format: DatasetFormat,
    /// Class names, sorted; a chip's label is its index in this list.
    pub classes: Vec<String>,
    /// Sorted by (split, class, name), so every machine sees the same order.
    pub entries: Vec<ChipEntry>,
    pub skipped: Skipped,
    decode: DecodeOptions,
}

/// A decoded chip with its label, split and metadata.
#[derive(Debug, Clone)]
pub struct Chip {
    pub class_index: usize,
    pub split: Split,
    pub file_name: String,
    pub format: ChipFormat,
    /// Samples in their stored type (see [`chip_file::DecodedChip::image`] for their
    /// scale): the whole chip, or the window of it that the loader was asked to keep
    /// ([`DatasetIndex::load_windows`]).
    pub image: Pixels,
    /// Phase in radians for complex chips (Phoenix), over the same window as `image`.
    pub phase: Option<Pixels>,
    /// `(rows, cols)` of the whole chip in its file.
    pub size: (usize, usize),
    /// Where `image` starts inside the whole chip (`(0, 0)` when it is all of it).
    pub origin: (usize, usize),
    pub meta: ChipMeta,
    pub md5: Md5Status,
}

impl Chip {
    /// The values of a window given in whole-chip coordinates, in `f64`; `None` when
    /// the window is not inside what was kept of the chip.
    pub fn window_f64(&self, rows: Range<usize>, cols: Range<usize>) -> Option<Array2<f64>> {
        let (r0, c0) = self.origin;
        let (kept_rows, kept_cols) = self.image.dim();
        let inside = rows.start >= r0
            && cols.start >= c0
            && rows.end <= r0 + kept_rows
            && cols.end <= c0 + kept_cols
            && rows.start <= rows.end
            && cols.start <= cols.end;
        inside.then(|| {
            self.image.window_f64(
                rows.start - r0..rows.end - r0,
                cols.start - c0..cols.end - c0,
            )
        })
    }

    /// Every value of the kept image in `f64` (the whole chip unless a window was kept).
    pub fn to_f64(&self) -> Array2<f64> {
        self.image.to_f64()
    }
}

/// Keeps every chip whole.
fn keep_whole(
    (rows, cols): (usize, usize),
) -> std::result::Result<(Range<usize>, Range<usize>), String> {
    Ok((0..rows, 0..cols))
}

/// Which part of a chip of a given `(rows, cols)` to keep in memory after decoding:
/// `Ok((rows, cols))` ranges, or why the chip cannot serve (e.g. it is smaller than a
/// crop).
pub type KeepWindow<'a> =
    dyn Fn((usize, usize)) -> std::result::Result<(Range<usize>, Range<usize>), String> + Sync + 'a;

/// A loaded dataset: every chip with its label, split, size and metadata, and a content
/// digest that identifies it across runs and machines.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub root: PathBuf,
    pub format: DatasetFormat,
    pub classes: Vec<String>,
    /// In the index's order: train chips first, then test chips, each sorted by class.
    pub chips: Vec<Chip>,
    /// SHA-256 over every chip's split, class, name and bytes (see [`DatasetIndex::load`]).
    pub digest: String,
    pub skipped: Skipped,
}

impl DatasetIndex {
    /// Finds and labels the chips of a dataset (see [`DatasetOptions::format`] for how
    /// the layout is recognised). A class folder without chips is an error; so is a
    /// Phoenix file without `TargetType` or depression angle.
    pub fn scan(root: &Path, options: &DatasetOptions) -> Result<Self> {
        if !root.exists() {
            return Err(Error::MissingFolder {
                path: root.to_path_buf(),
            });
        }
        let format = match options.format {
            Some(format) => format,
            None => detect_format(root, &options.layout)?,
        };
        let mut index = match format {
            DatasetFormat::ImageFolders => scan_image_folders(root, &options.layout)?,
            DatasetFormat::Manifest => scan_manifest(root, &options.layout)?,
            DatasetFormat::Phoenix => scan_phoenix(root, &options.depression)?,
        };
        index.decode = options.decode.clone();
        Ok(index)
    }

    /// Checks that every class has chips in both splits, as a study needs (a class with
    /// no test chips has undefined recall; one with no train chips cannot be learnt).
    pub fn require_both_splits(&self) -> Result<()> {
        for (class_index, class) in self.classes.iter().enumerate() {
            for split in Split::ALL {
                let present = self
                    .entries
                    .iter()
                    .any(|e| e.class_index == class_index && e.split == split);
                if !present {
                    let other = if split == Split::Train {
                        Split::Test
                    } else {
                        Split::Train
                    };
                    return Err(Error::ClassMissingFromSplit {
                        class: class.clone(),
                        present: other.name().to_owned(),
                        missing: split.name().to_owned(),
                        path: self.root.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Reads and decodes every chip in parallel; `on_chip` is called once per chip read
    /// (from worker threads) so callers can show progress. A chip whose MD5 check
    /// fails is an error naming it.
    ///
    /// The digest hashes, in index order, one line `split \t class \t name \t sha256(bytes)`
    /// per chip: it changes when any chip's content, name, class or split changes, and
    /// does not depend on the root path, the machine or the read order.
    pub fn load(&self, on_chip: &(dyn Fn() + Sync)) -> Result<Dataset> {
        self.load_windows(on_chip, &keep_whole)
    }

    /// [`load`](Self::load), keeping only a window of each chip in memory: each chip
    /// is decoded, the window `keep` names is copied in the stored sample type, and
    /// the rest is dropped at once — so a study that centre-crops 64×64 out of
    /// 128–193-pixel chips holds 64×64 bytes a JPEG chip, not the decoded chip. A chip
    /// `keep` refuses is an error naming it.
    pub fn load_windows(
        &self,
        on_chip: &(dyn Fn() + Sync),
        keep: &KeepWindow<'_>,
    ) -> Result<Dataset> {
        let dataset = self.load_keeping_md5_failures_windows(on_chip, keep)?;
        if let Some(chip) = dataset
            .chips
            .iter()
            .find(|c| matches!(c.md5, Md5Status::Failed { .. }))
        {
            let Md5Status::Failed { expected, actual } = &chip.md5 else {
                unreachable!("filtered on Failed above")
            };
            return Err(Error::Md5Mismatch {
                path: self.path_of(chip),
                expected: expected.clone(),
                actual: actual.clone(),
            });
        }
        Ok(dataset)
    }

    /// Like [`load`](Self::load), but a failed MD5 check is only recorded in
    /// [`Chip::md5`] (for `dataset info`, which counts failures).
    pub fn load_keeping_md5_failures(&self, on_chip: &(dyn Fn() + Sync)) -> Result<Dataset> {
        self.load_keeping_md5_failures_windows(on_chip, &keep_whole)
    }

    fn load_keeping_md5_failures_windows(
        &self,
        on_chip: &(dyn Fn() + Sync),
        keep: &KeepWindow<'_>,
    ) -> Result<Dataset> {
        let decoded: Vec<(Chip, [u8; 32])> = self
            .entries
            .par_iter()
            .map(|entry| {
                let bytes = fs::read(&entry.path).map_err(|source| Error::Read {
                    path: entry.path.clone(),
                    source,
                })?;
                let file_hash: [u8; 32] = Sha256::digest(&bytes).into();
                let decoded = chip_file::decode(&bytes, &entry.path, &self.decode)?;
                drop(bytes);
                let size = decoded.image.dim();
                let (rows, cols) = keep(size).map_err(|message| Error::ChipWindow {
                    path: entry.path.clone(),
                    message,
                })?;
                if rows.start > rows.end
                    || rows.end > size.0
                    || cols.start > cols.end
                    || cols.end > size.1
                {
                    return Err(Error::ChipWindow {
                        path: entry.path.clone(),
                        message: format!(
                            "window rows {rows:?}, cols {cols:?} is not inside its {}x{} pixels",
                            size.0, size.1
                        ),
                    });
                }
                let whole = rows == (0..size.0) && cols == (0..size.1);
                let (image, phase) = if whole {
                    (decoded.image, decoded.phase)
                } else {
                    (
                        decoded.image.window(rows.clone(), cols.clone()),
                        decoded.phase.map(|p| p.window(rows.clone(), cols.clone())),
                    )
                };
                on_chip();
                Ok((
                    Chip {
                        class_index: entry.class_index,
                        split: entry.split,
                        file_name: entry.file_name.clone(),
                        format: decoded.format,
                        image,
                        phase,
                        size,
                        origin: (rows.start, cols.start),
                        meta: decoded.meta,
                        md5: decoded.md5,
                    },
                    file_hash,
                ))
            })
            .collect::<Result<_>>()?;

        let mut hasher = Sha256::new();
        for (chip, file_hash) in &decoded {
            hasher.update(chip.split.name().as_bytes());
            hasher.update(b"\t");
            hasher.update(self.classes[chip.class_index].as_bytes());
            hasher.update(b"\t");
            hasher.update(chip.file_name.as_bytes());
            hasher.update(b"\t");
            hasher.update(hex(file_hash).as_bytes());
            hasher.update(b"\n");
        }
        let digest = hex(&hasher.finalize());
        Ok(Dataset {
            root: self.root.clone(),
            format: self.format,
            classes: self.classes.clone(),
            chips: decoded.into_iter().map(|(chip, _)| chip).collect(),
            digest,
            skipped: self.skipped,
        })
    }

    fn path_of(&self, chip: &Chip) -> PathBuf {
        self.entries
            .iter()
            .find(|e| {
                e.split == chip.split
                    && e.class_index == chip.class_index
                    && e.file_name == chip.file_name
            })
            .map(|e| e.path.clone())
            .unwrap_or_else(|| self.root.join(&chip.file_name))
    }
}

impl Dataset {
    pub fn chips_in(&self, split: Split) -> impl Iterator<Item = &Chip> {
        self.chips.iter().filter(move |c| c.split == split)
    }

    /// Number of chips per class in one split, indexed by class.
    pub fn class_counts(&self, split: Split) -> Vec<usize> {
        let mut counts = vec![0; self.classes.len()];
        for chip in self.chips_in(split) {
            counts[chip.class_index] += 1;
        }
        counts
    }

    /// `split/class/name`, the name a chip is reported by in messages.
    pub fn chip_label(&self, chip: &Chip) -> String {
        format!(
            "{}/{}/{}",
            chip.split, self.classes[chip.class_index], chip.file_name
        )
    }
}

fn detect_format(root: &Path, layout: &FolderLayout) -> Result<DatasetFormat> {
    if root.is_file() {
        let is_csv = root
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        return if is_csv {
            Ok(DatasetFormat::Manifest)
        } else {
            Ok(DatasetFormat::Phoenix)
        };
    }
    if root.join(&layout.train).is_dir() || root.join(&layout.test).is_dir() {
        Ok(DatasetFormat::ImageFolders)
    } else if root.join(MANIFEST_FILE).is_file() {
        Ok(DatasetFormat::Manifest)
    } else {
        Ok(DatasetFormat::Phoenix)
    }
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<fs::DirEntry>> {
    let read_error = |source| Error::Read {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries = fs::read_dir(dir)
        .map_err(read_error)?
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(read_error)?;
    entries.sort_by_key(|e| e.file_name());
    Ok(entries)
}

fn is_hidden(entry: &fs::DirEntry) -> bool {
    entry.file_name().to_string_lossy().starts_with('.')
}

fn sorted_subfolders(dir: &Path) -> Result<Vec<String>> {
    Ok(read_dir_sorted(dir)?
        .into_iter()
        .filter(|e| !is_hidden(e) && e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect())
}

/// Image file names in a class folder (sorted) and the number of other files skipped.
fn list_images(dir: &Path) -> Result<(Vec<String>, usize)> {
    let mut images = Vec::new();
    let mut skipped = 0;
    for entry in read_dir_sorted(dir)? {
        if is_hidden(&entry) {
            continue;
        }
        let path = entry.path();
        let is_image = path.is_file()
            && path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
        if is_image {
            images.push(entry.file_name().to_string_lossy().into_owned());
        } else {
            skipped += 1;
        }
    }
    Ok((images, skipped))
}

fn scan_image_folders(root: &Path, layout: &FolderLayout) -> Result<DatasetIndex> {
    let mut per_split = Vec::new();
    for split in Split::ALL {
        let split_dir = root.join(layout.folder(split));
        if !split_dir.is_dir() {
            return Err(Error::MissingSplit {
                path: root.to_path_buf(),
                split: layout.folder(split).to_owned(),
            });
        }
        let classes = sorted_subfolders(&split_dir)?;
        if classes.is_empty() {
            return Err(Error::NoClasses { path: split_dir });
        }
        per_split.push((split, split_dir, classes));
    }
    let classes: Vec<String> = per_split
        .iter()
        .flat_map(|(_, _, c)| c.iter().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();

    let mut entries = Vec::new();
    let mut skipped = Skipped::default();
    for (split, split_dir, split_classes) in &per_split {
        for (class_index, class) in classes.iter().enumerate() {
            if !split_classes.contains(class) {
                continue;
            }
            let class_dir = split_dir.join(class);
            let (images, not_chips) = list_images(&class_dir)?;
            if images.is_empty() {
                return Err(Error::EmptyClass { path: class_dir });
            }
            skipped.not_chips += not_chips;
            entries.extend(images.into_iter().map(|file_name| ChipEntry {
                class_index,
                split: *split,
                path: class_dir.join(&file_name),
                file_name,
            }));
        }
    }
    let index = DatasetIndex {
        root: root.to_path_buf(),
        format: DatasetFormat::ImageFolders,
        classes,
        entries,
        skipped,
        decode: DecodeOptions::default(),
    };
    // In image folders a class missing from a split is a layout mistake worth
    // reporting at once, whatever the caller does next.
    index.require_both_splits()?;
    Ok(index)
}

/// Splits one CSV line into fields (double quotes may enclose commas; `""` is a quote).
fn csv_fields(line: &str) -> std::result::Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if field.trim().is_empty() => {
                field.clear();
                quoted = true;
            }
            (',', false) => fields.push(std::mem::take(&mut field).trim().to_owned()),
            (c, _) => field.push(c),
        }
    }
    if quoted {
        return Err("a quoted field is not closed".to_owned());
    }
    fields.push(field.trim().to_owned());
    Ok(fields)
}

fn scan_manifest(root: &Path, layout: &FolderLayout) -> Result<DatasetIndex> {
    let manifest = if root.is_dir() {
        root.join(MANIFEST_FILE)
    } else {
        root.to_path_buf()
    };
    let base = manifest
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let text = fs::read_to_string(&manifest).map_err(|source| Error::Read {
        path: manifest.clone(),
        source,
    })?;
    let bad = |line: usize, message: String| Error::Manifest {
        path: manifest.clone(),
        line,
        message,
    };
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty());
    let (header_line, header) = lines.next().ok_or_else(|| {
        bad(
            1,
            "is empty, expected a header `path,label,split`".to_owned(),
        )
    })?;
    let header = csv_fields(header).map_err(|m| bad(header_line, m))?;
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                bad(
                    header_line,
                    format!("header has no `{name}` column (expected `path,label,split`)"),
                )
            })
    };
    let (path_col, label_col, split_col) = (column("path")?, column("label")?, column("split")?);

    let mut rows: Vec<(usize, PathBuf, String, Split, String)> = Vec::new();
    let mut seen = BTreeSet::new();
    for (number, line) in lines {
        let fields = csv_fields(line).map_err(|m| bad(number, m))?;
        let field = |i: usize, name: &str| {
            fields
                .get(i)
                .filter(|v| !v.is_empty())
                .cloned()
                .ok_or_else(|| bad(number, format!("`{name}` is empty or missing")))
        };
        let (rel, label, split) = (
            field(path_col, "path")?,
            field(label_col, "label")?,
            field(split_col, "split")?,
        );
        let split = if split == layout.train {
            Split::Train
        } else if split == layout.test {
            Split::Test
        } else {
            return Err(bad(
                number,
                format!(
                    "split is `{split}`, expected `{}` or `{}`",
                    layout.train, layout.test
                ),
            ));
        };
        let path = base.join(&rel);
        if !path.is_file() {
            return Err(bad(
                number,
                format!("chip {} does not exist", path.display()),
            ));
        }
        if !seen.insert(rel.clone()) {
            return Err(bad(number, format!("`{rel}` is listed twice")));
        }
        rows.push((number, path, label, split, rel));
    }
    if rows.is_empty() {
        return Err(bad(header_line, "lists no chips".to_owned()));
    }
    let classes: Vec<String> = rows
        .iter()
        .map(|r| r.2.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut entries: Vec<ChipEntry> = rows
        .into_iter()
        .map(|(_, path, label, split, rel)| ChipEntry {
            class_index: classes.binary_search(&label).unwrap_or_default(),
            split,
            path,
            file_name: rel.replace('\\', "/"),
        })
        .collect();
    entries.sort_by(|a, b| {
        (a.split, a.class_index, &a.file_name).cmp(&(b.split, b.class_index, &b.file_name))
    });
    Ok(DatasetIndex {
        root: base,
        format: DatasetFormat::Manifest,
        classes,
        entries,
        skipped: Skipped::default(),
        decode: DecodeOptions::default(),
    })
}

/// Every regular, non-hidden file below `dir`, sorted by path.
fn walk_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in read_dir_sorted(dir)? {
        if is_hidden(&entry) {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            walk_files(&path, out)?;
        } else if path.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

fn scan_phoenix(root: &Path, depression: &DepressionSplits) -> Result<DatasetIndex> {
    let (base, files) = if root.is_file() {
        let base = root
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        (base, vec![root.to_path_buf()])
    } else {
        let mut files = Vec::new();
        walk_files(root, &mut files)?;
        (root.to_path_buf(), files)
    };
    // Headers are parsed in parallel: a raw MSTAR tree holds thousands of files.
    let headers: Vec<Option<(PathBuf, phoenix::PhoenixHeader)>> = files
        .into_par_iter()
        .map(|path| {
            let mut prefix = [0u8; 32];
            let n = fs::File::open(&path)
                .and_then(|mut f| f.read(&mut prefix))
                .map_err(|source| Error::Read {
                    path: path.clone(),
                    source,
                })?;
            if !phoenix::is_phoenix(&prefix[..n]) {
                return Ok(None);
            }
            let header = phoenix::read_header(&path)?;
            Ok(Some((path, header)))
        })
        .collect::<Result<_>>()?;

    let mut skipped = Skipped::default();
    let mut found: Vec<(String, Split, PathBuf)> = Vec::new();
    for item in headers {
        let Some((path, header)) = item else {
            skipped.not_chips += 1;
            continue;
        };
        let missing = |key: &str| Error::Header {
            path: path.clone(),
            format: "Phoenix",
            message: format!("has no `{key}`, which labels the chip"),
        };
        let class = header
            .target_type
            .clone()
            .ok_or_else(|| missing("TargetType"))?;
        let angle = header
            .depression_deg
            .or(header.measured_depression_deg)
            .ok_or_else(|| missing("DesiredDepression"))?;
        match depression.split_of(angle) {
            Some(split) => found.push((class, split, path)),
            None => skipped.other_depression += 1,
        }
    }
    if found.is_empty() {
        return Err(Error::NotADataset {
            path: root.to_path_buf(),
            skipped: skipped.not_chips,
            other_depression: skipped.other_depression,
        });
    }
    let classes: Vec<String> = found
        .iter()
        .map(|f| f.0.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut entries: Vec<ChipEntry> = found
        .into_iter()
        .map(|(class, split, path)| {
            let rel = path
                .strip_prefix(&base)
                .unwrap_or(&path)
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            ChipEntry {
                class_index: classes.binary_search(&class).unwrap_or_default(),
                split,
                path,
                file_name: rel,
            }
        })
        .collect();
    entries.sort_by(|a, b| {
        (a.split, a.class_index, &a.file_name).cmp(&(b.split, b.class_index, &b.file_name))
    });
    Ok(DatasetIndex {
        root: base,
        format: DatasetFormat::Phoenix,
        classes,
        entries,
        skipped,
        decode: DecodeOptions::default(),
    })
}

/// Chips per class and split, e.g. for `dataset info`.
pub fn counts_by_class(dataset: &Dataset) -> BTreeMap<String, BTreeMap<Split, usize>> {
    let mut counts: BTreeMap<String, BTreeMap<Split, usize>> = dataset
        .classes
        .iter()
        .map(|c| (c.clone(), BTreeMap::new()))
        .collect();
    for chip in &dataset.chips {
        *counts
            .entry(dataset.classes[chip.class_index].clone())
            .or_default()
            .entry(chip.split)
            .or_default() += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, Luma};

    fn write_chip(path: &Path, value: u8, size: u32) {
        fs::create_dir_all(path.parent().expect("chip has a parent")).expect("mkdir");
        GrayImage::from_pixel(size, size, Luma([value]))
            .save(path)
            .expect("write png");
    }

    fn tiny_dataset(root: &Path) {
        for split in ["train", "test"] {
            for (class, value) in [("tank", 10u8), ("truck", 200u8)] {
                for i in 0..3 {
                    write_chip(
                        &root.join(split).join(class).join(format!("{i}.png")),
                        value,
                        8,
                    );
                }
            }
        }
    }

    #[test]
    fn scans_and_loads_labelled_chips() {
        let dir = tempfile::tempdir().expect("tempdir");
        tiny_dataset(dir.path());
        fs::write(dir.path().join("train/tank/README.txt"), "notes").expect("write");
        let index = DatasetIndex::scan(dir.path(), &DatasetOptions::default()).expect("scan");
        assert_eq!(index.classes, ["tank", "truck"]);
        assert_eq!(index.entries.len(), 12);
        assert_eq!(index.skipped.not_chips, 1);
        let data = index.load(&|| {}).expect("load");
        assert_eq!(data.class_counts(Split::Train), [3, 3]);
        assert_eq!(data.class_counts(Split::Test), [3, 3]);
        let truck = data
            .chips
            .iter()
            .find(|c| c.class_index == 1)
            .expect("truck chip");
        assert_eq!(truck.image.dim(), (8, 8));
        assert!((truck.image.value(0, 0) - 200.0 / 255.0).abs() < 1e-6);
    }

    #[test]
    fn digest_is_stable_and_content_sensitive() {
        let a = tempfile::tempdir().expect("tempdir");
        let b = tempfile::tempdir().expect("tempdir");
        tiny_dataset(a.path());
        tiny_dataset(b.path());
        let layout = DatasetOptions::default();
        let digest = |root: &Path| {
            DatasetIndex::scan(root, &layout)
                .and_then(|i| i.load(&|| {}))
                .expect("load")
                .digest
        };
        assert_eq!(
            digest(a.path()),
            digest(b.path()),
            "digest must not depend on the root path"
        );
        write_chip(&b.path().join("test/truck/2.png"), 201, 8);
        assert_ne!(digest(a.path()), digest(b.path()));
    }

    #[test]
    fn empty_class_folder_is_an_error_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        tiny_dataset(dir.path());
        fs::create_dir_all(dir.path().join("test/jeep")).expect("mkdir");
        fs::create_dir_all(dir.path().join("train/jeep")).expect("mkdir");
        let err = DatasetIndex::scan(dir.path(), &DatasetOptions::default()).unwrap_err();
        assert!(matches!(err, Error::EmptyClass { .. }), "{err}");
        assert!(err.to_string().contains("jeep"), "{err}");
    }

    #[test]
    fn class_missing_from_one_split_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        tiny_dataset(dir.path());
        write_chip(&dir.path().join("train/jeep/0.png"), 5, 8);
        let err = DatasetIndex::scan(dir.path(), &DatasetOptions::default()).unwrap_err();
        assert!(err.to_string().contains("`jeep`"), "{err}");
        assert!(err.to_string().contains("test"), "{err}");
    }

    #[test]
    fn missing_root_and_split_are_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err =
            DatasetIndex::scan(&dir.path().join("nope"), &DatasetOptions::default()).unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
        fs::create_dir_all(dir.path().join("train/a")).expect("mkdir");
        let err = DatasetIndex::scan(dir.path(), &DatasetOptions::default()).unwrap_err();
        assert!(err.to_string().contains("`test`"), "{err}");
    }

    #[test]
    fn corrupt_image_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        tiny_dataset(dir.path());
        fs::write(dir.path().join("train/tank/1.png"), b"not a png").expect("write");
        let index = DatasetIndex::scan(dir.path(), &DatasetOptions::default()).expect("scan");
        let err = index.load(&|| {}).unwrap_err();
        assert!(err.to_string().contains("1.png"), "{err}");
    }

    #[test]
    fn sixteen_bit_png_scales_to_unit_range() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.png");
        let img = image::ImageBuffer::<Luma<u16>, Vec<u16>>::from_pixel(4, 4, Luma([32768]));
        img.save(&path).expect("save");
        let bytes = fs::read(&path).expect("read");
        let a = chip_file::decode(&bytes, &path, &DecodeOptions::default())
            .expect("decode")
            .image;
        assert_eq!(a, Pixels::U16(Array2::from_elem((4, 4), 32768)));
        assert_eq!(a.value(1, 1), 32768.0 / 65535.0);
    }

    #[test]
    fn manifest_lists_arbitrary_layouts() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_chip(&dir.path().join("a/x.png"), 10, 8);
        write_chip(&dir.path().join("b/x.png"), 20, 8);
        write_chip(&dir.path().join("c/y, z.png"), 30, 8);
        fs::write(
            dir.path().join(MANIFEST_FILE),
            "path,label,split\na/x.png,tank,train\n\"c/y, z.png\",truck,train\nb/x.png,tank,test\n",
        )
        .expect("write");
        let index = DatasetIndex::scan(dir.path(), &DatasetOptions::default()).expect("scan");
        assert_eq!(index.format, DatasetFormat::Manifest);
        assert_eq!(index.classes, ["tank", "truck"]);
        let names: Vec<_> = index.entries.iter().map(|e| e.file_name.as_str()).collect();
        assert_eq!(names, ["a/x.png", "c/y, z.png", "b/x.png"]);
        let err = index.require_both_splits().unwrap_err();
        assert!(err.to_string().contains("`truck`"), "{err}");
        let data = index.load(&|| {}).expect("load");
        assert!((data.chips[1].image.value(0, 0) - 30.0 / 255.0).abs() < 1e-6);

        for (body, needle) in [
            ("path,label\na/x.png,tank\n", "no `split` column"),
            (
                "path,label,split\na/x.png,tank,val\n",
                "line 2: split is `val`",
            ),
            ("path,label,split\nmissing.png,tank,train\n", "line 2: chip"),
            ("path,label,split\na/x.png,,train\n", "`label` is empty"),
            (
                "path,label,split\na/x.png,tank,train\na/x.png,tank,test\n",
                "line 3: `a/x.png` is listed twice",
            ),
            ("path,label,split\n", "lists no chips"),
        ] {
            fs::write(dir.path().join(MANIFEST_FILE), body).expect("write");
            let err = DatasetIndex::scan(dir.path(), &DatasetOptions::default()).unwrap_err();
            let text = err.to_string();
            assert!(
                text.contains(MANIFEST_FILE) && text.contains(needle),
                "{needle}: {text}"
            );
        }
    }

    fn write_phoenix(path: &Path, target: &str, depression: &str, value: f32) {
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        let magnitude = Array2::from_elem((6, 6), value);
        let phase = Array2::zeros((6, 6));
        let fields = [
            ("TargetType", target),
            ("DesiredDepression", depression),
            ("TargetAz", "30.5"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        phoenix::write(
            path,
            &fields,
            phoenix::PhoenixSamples::Chip {
                magnitude: &magnitude,
                phase: &phase,
            },
        )
        .expect("write phoenix");
    }

    #[test]
    fn phoenix_tree_is_labelled_by_headers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        write_phoenix(&root.join("17_DEG/T72/HB1.015"), "t72_tank", "17", 0.5);
        write_phoenix(&root.join("15_DEG/T72/HB2.015"), "t72_tank", "15", 0.25);
        write_phoenix(&root.join("15_DEG/BMP2/HB3.000"), "bmp2_tank", "15.0", 0.75);
        write_phoenix(&root.join("17_DEG/BMP2/HB4.000"), "bmp2_tank", "17", 1.0);
        write_phoenix(&root.join("30_DEG/BMP2/HB5.000"), "bmp2_tank", "30", 1.0);
        fs::write(root.join("README.txt"), "notes").expect("write");
        let index = DatasetIndex::scan(root, &DatasetOptions::default()).expect("scan");
        assert_eq!(index.format, DatasetFormat::Phoenix);
        assert_eq!(index.classes, ["bmp2_tank", "t72_tank"]);
        assert_eq!(
            index.skipped,
            Skipped {
                not_chips: 1,
                other_depression: 1
            }
        );
        index.require_both_splits().expect("both splits");
        let data = index.load(&|| {}).expect("load");
        assert_eq!(data.class_counts(Split::Train), [1, 1]);
        let t72_test = data
            .chips
            .iter()
            .find(|c| c.split == Split::Test && c.class_index == 1)
            .expect("chip");
        assert_eq!(t72_test.file_name, "15_DEG/T72/HB2.015");
        assert_eq!(t72_test.image.value(0, 0), 0.25);
        assert_eq!(t72_test.meta.azimuth_deg, Some(30.5));
        assert!(t72_test.phase.is_some());

        // A custom protocol: 30° chips become the test split.
        let options = DatasetOptions {
            depression: DepressionSplits {
                train: vec![17.0],
                test: vec![30.0],
            },
            ..Default::default()
        };
        let index = DatasetIndex::scan(root, &options).expect("scan");
        assert_eq!(index.skipped.other_depression, 2);
        assert!(index.require_both_splits().is_err(), "t72 has no 30° chip");

        // A damaged chip fails the MD5 check on load, and names the file.
        let victim = root.join("17_DEG/T72/HB1.015");
        let mut bytes = fs::read(&victim).expect("read");
        let last = bytes.len() - 1;
        bytes[last] ^= 0x40;
        fs::write(&victim, bytes).expect("write");
        let strict = DatasetOptions {
            decode: DecodeOptions {
                verify_md5: true,
                band: None,
            },
            ..Default::default()
        };
        let index = DatasetIndex::scan(root, &strict).expect("scan");
        let err = index.load(&|| {}).unwrap_err().to_string();
        assert!(err.contains("HB1.015") && err.contains("MD5"), "{err}");
        let lenient = index.load_keeping_md5_failures(&|| {}).expect("load");
        assert_eq!(
            lenient
                .chips
                .iter()
                .filter(|c| matches!(c.md5, Md5Status::Failed { .. }))
                .count(),
            1
        );
    }

    #[test]
    fn folder_without_any_dataset_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(dir.path().join("notes.txt"), "x").expect("write");
        let err = DatasetIndex::scan(dir.path(), &DatasetOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("manifest.csv") && err.contains("Phoenix"),
            "{err}"
        );
    }
}
