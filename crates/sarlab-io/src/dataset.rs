//! Chip datasets laid out as `<root>/<split>/<class>/<chip>` image folders.

use std::collections::BTreeSet;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use ndarray::Array2;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// File endings read as chips; anything else in a class folder is skipped and counted.
const IMAGE_EXTENSIONS: [&str; 5] = ["png", "jpg", "jpeg", "tif", "tiff"];

/// Which half of a study a chip belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
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

/// Names of the sub-folders that hold each split.
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

/// One chip file found by [`DatasetIndex::scan`], not yet read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChipEntry {
    pub class_index: usize,
    pub split: Split,
    pub path: PathBuf,
    /// File name inside its class folder. File names repeat across classes (MSTAR
    /// does this), so a chip is identified by (split, class, file name).
    pub file_name: String,
}

/// The chips of a dataset folder, listed and labelled but not decoded.
#[derive(Debug, Clone)]
pub struct DatasetIndex {
    pub root: PathBuf,
    /// Class names, sorted; a chip's label is its index in this list.
    pub classes: Vec<String>,
    /// Sorted by (split, class, file name), so every machine sees the same order.
    pub entries: Vec<ChipEntry>,
    /// Files in class folders that are not images (READMEs, thumbnails databases, ...).
    pub skipped_files: usize,
}

/// A decoded chip: intensity scaled to `[0, 1]` as the file stores it.
#[derive(Debug, Clone)]
pub struct Chip {
    pub class_index: usize,
    pub split: Split,
    pub file_name: String,
    pub image: Array2<f32>,
}

/// A loaded dataset: every chip of both splits with its label.
#[derive(Debug, Clone)]
pub struct ChipDataset {
    pub root: PathBuf,
    pub classes: Vec<String>,
    /// In the index's order: train chips first, then test chips, each sorted by class.
    pub chips: Vec<Chip>,
    /// SHA-256 over every chip's split, class, file name and bytes (see [`DatasetIndex::load`]).
    pub digest: String,
    pub skipped_files: usize,
}

impl DatasetIndex {
    /// Lists `<root>/<split>/<class>/*` for both splits.
    ///
    /// A class must have at least one chip in each split: a class folder without chips
    /// or a class present in only one split is an error, since its metrics would be
    /// undefined.
    pub fn scan(root: &Path, layout: &FolderLayout) -> Result<Self> {
        if !root.is_dir() {
            return Err(Error::MissingFolder {
                path: root.to_path_buf(),
            });
        }
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

        let all_classes: BTreeSet<&String> =
            per_split.iter().flat_map(|(_, _, c)| c.iter()).collect();
        for (split, split_dir, classes) in &per_split {
            if let Some(missing) = all_classes.iter().find(|c| !classes.contains(c)) {
                let other = if *split == Split::Train {
                    Split::Test
                } else {
                    Split::Train
                };
                return Err(Error::ClassMissingFromSplit {
                    class: (*missing).clone(),
                    present: other.name().to_owned(),
                    missing: split.name().to_owned(),
                    path: split_dir.clone(),
                });
            }
        }
        let classes: Vec<String> = all_classes.into_iter().cloned().collect();

        let mut entries = Vec::new();
        let mut skipped_files = 0;
        for (split, split_dir, _) in &per_split {
            for (class_index, class) in classes.iter().enumerate() {
                let class_dir = split_dir.join(class);
                let (images, skipped) = list_images(&class_dir)?;
                if images.is_empty() {
                    return Err(Error::EmptyClass { path: class_dir });
                }
                skipped_files += skipped;
                entries.extend(images.into_iter().map(|file_name| ChipEntry {
                    class_index,
                    split: *split,
                    path: class_dir.join(&file_name),
                    file_name,
                }));
            }
        }
        Ok(Self {
            root: root.to_path_buf(),
            classes,
            entries,
            skipped_files,
        })
    }

    /// Reads and decodes every chip in parallel; `on_chip` is called once per chip read
    /// (from worker threads) so callers can show progress.
    ///
    /// The digest hashes, in index order, one line `split \t class \t file \t sha256(bytes)`
    /// per chip: it changes when any chip's content, name, class or split changes, and
    /// does not depend on the root path, the machine or the read order.
    pub fn load(&self, on_chip: &(dyn Fn() + Sync)) -> Result<ChipDataset> {
        let decoded: Vec<(Chip, [u8; 32])> = self
            .entries
            .par_iter()
            .map(|entry| {
                let bytes = fs::read(&entry.path).map_err(|source| Error::Read {
                    path: entry.path.clone(),
                    source,
                })?;
                let file_hash: [u8; 32] = Sha256::digest(&bytes).into();
                let image = decode_grayscale(&bytes, &entry.path)?;
                on_chip();
                Ok((
                    Chip {
                        class_index: entry.class_index,
                        split: entry.split,
                        file_name: entry.file_name.clone(),
                        image,
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
        Ok(ChipDataset {
            root: self.root.clone(),
            classes: self.classes.clone(),
            chips: decoded.into_iter().map(|(chip, _)| chip).collect(),
            digest,
            skipped_files: self.skipped_files,
        })
    }
}

impl ChipDataset {
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

    /// `split/class/file`, the name a chip is reported by in messages.
    pub fn chip_label(&self, chip: &Chip) -> String {
        format!(
            "{}/{}/{}",
            chip.split, self.classes[chip.class_index], chip.file_name
        )
    }
}

/// Lowercase hex of a byte string.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
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

/// Decodes an image file's bytes to grayscale `f32` in `[0, 1]`: 8-bit values / 255,
/// 16-bit values / 65535, colour images by their luma.
fn decode_grayscale(bytes: &[u8], path: &Path) -> Result<Array2<f32>> {
    let image = image::load_from_memory(bytes).map_err(|source| Error::Decode {
        path: path.to_path_buf(),
        source,
    })?;
    let luma = image.to_luma32f();
    let (width, height) = luma.dimensions();
    let array = Array2::from_shape_vec((height as usize, width as usize), luma.into_raw())
        .map_err(|e| Error::Metadata {
            path: path.to_path_buf(),
            message: format!("decoded pixel buffer does not match {width}x{height}: {e}"),
        })?;
    if let Some(((row, col), _)) = array.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(Error::NonFinite {
            path: path.to_path_buf(),
            row,
            col,
        });
    }
    Ok(array)
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
        let index = DatasetIndex::scan(dir.path(), &FolderLayout::default()).expect("scan");
        assert_eq!(index.classes, ["tank", "truck"]);
        assert_eq!(index.entries.len(), 12);
        assert_eq!(index.skipped_files, 1);
        let data = index.load(&|| {}).expect("load");
        assert_eq!(data.class_counts(Split::Train), [3, 3]);
        assert_eq!(data.class_counts(Split::Test), [3, 3]);
        let truck = data
            .chips
            .iter()
            .find(|c| c.class_index == 1)
            .expect("truck chip");
        assert_eq!(truck.image.dim(), (8, 8));
        assert!((truck.image[[0, 0]] - 200.0 / 255.0).abs() < 1e-6);
    }

    #[test]
    fn digest_is_stable_and_content_sensitive() {
        let a = tempfile::tempdir().expect("tempdir");
        let b = tempfile::tempdir().expect("tempdir");
        tiny_dataset(a.path());
        tiny_dataset(b.path());
        let layout = FolderLayout::default();
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
        let err = DatasetIndex::scan(dir.path(), &FolderLayout::default()).unwrap_err();
        assert!(matches!(err, Error::EmptyClass { .. }), "{err}");
        assert!(err.to_string().contains("jeep"), "{err}");
    }

    #[test]
    fn class_missing_from_one_split_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        tiny_dataset(dir.path());
        write_chip(&dir.path().join("train/jeep/0.png"), 5, 8);
        let err = DatasetIndex::scan(dir.path(), &FolderLayout::default()).unwrap_err();
        assert!(err.to_string().contains("`jeep`"), "{err}");
        assert!(err.to_string().contains("test"), "{err}");
    }

    #[test]
    fn missing_root_and_split_are_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err =
            DatasetIndex::scan(&dir.path().join("nope"), &FolderLayout::default()).unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
        fs::create_dir_all(dir.path().join("train/a")).expect("mkdir");
        let err = DatasetIndex::scan(dir.path(), &FolderLayout::default()).unwrap_err();
        assert!(err.to_string().contains("`test`"), "{err}");
    }

    #[test]
    fn corrupt_image_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        tiny_dataset(dir.path());
        fs::write(dir.path().join("train/tank/1.png"), b"not a png").expect("write");
        let index = DatasetIndex::scan(dir.path(), &FolderLayout::default()).expect("scan");
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
        let a = decode_grayscale(&bytes, &path).expect("decode");
        assert!((a[[1, 1]] - 32768.0 / 65535.0).abs() < 1e-6);
    }
}
