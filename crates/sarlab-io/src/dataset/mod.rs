//! Labelled chip datasets on disk: image folders (`<root>/<split>/<class>/<chip>`), a
//! manifest CSV (`path,label,split`) for arbitrary layouts, or a tree of MSTAR Phoenix
//! files labelled by their own headers.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use ndarray::Array2;
use serde::Serialize;

use crate::chip_file::{ChipFormat, ChipMeta, DecodeOptions};
use crate::error::{Error, Result};
use crate::phoenix::Md5Status;
use crate::pixels::Pixels;

mod digest;
mod folders;
mod load;
mod manifest;
mod phoenix_tree;

pub use manifest::MANIFEST_FILE;

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
    /// Samples in their stored type (see [`crate::chip_file::DecodedChip::image`] for their
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
            DatasetFormat::ImageFolders => folders::scan_image_folders(root, &options.layout)?,
            DatasetFormat::Manifest => manifest::scan_manifest(root, &options.layout)?,
            DatasetFormat::Phoenix => phoenix_tree::scan_phoenix(root, &options.depression)?,
        };
        index.decode = options.decode.clone();
        Ok(index)
    }

    /// Checks that every class has chips in both splits, as a study needs (a class with
    /// no test chips has undefined recall; one with no train chips cannot be learnt).
    pub fn require_both_splits(&self) -> Result<()> {
        // One pass over the chips (a dataset may have many classes).
        let mut seen = vec![[false; 2]; self.classes.len()];
        for entry in &self.entries {
            if let Some(splits) = seen.get_mut(entry.class_index) {
                splits[usize::from(entry.split == Split::Test)] = true;
            }
        }
        for (class_index, class) in self.classes.iter().enumerate() {
            for split in Split::ALL {
                let present = seen[class_index][usize::from(split == Split::Test)];
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
    Ok(labelled_format(root, layout).unwrap_or(DatasetFormat::Phoenix))
}

/// The layout that labels `root`'s chips by place, if it has one: image folders
/// (`train`/`test` class folders as `layout` names them) or a manifest (a `.csv` file,
/// or a folder holding `manifest.csv`). Anything else is read as Phoenix data, whose
/// files label themselves.
pub fn labelled_format(root: &Path, layout: &FolderLayout) -> Option<DatasetFormat> {
    if root.is_file() {
        let is_csv = root
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        return is_csv.then_some(DatasetFormat::Manifest);
    }
    if root.join(&layout.train).is_dir() || root.join(&layout.test).is_dir() {
        Some(DatasetFormat::ImageFolders)
    } else if root.join(MANIFEST_FILE).is_file() {
        Some(DatasetFormat::Manifest)
    } else {
        None
    }
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
    use crate::{chip_file, phoenix};
    use image::{GrayImage, Luma};
    use std::fs;

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
