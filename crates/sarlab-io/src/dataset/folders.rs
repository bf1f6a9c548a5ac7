//! Image-folder datasets: `<root>/<split>/<class>/<chip>` with PNG, JPEG, TIFF or
//! `.npy` chips.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use super::{ChipEntry, DatasetFormat, DatasetIndex, FolderLayout, Skipped, Split};
use crate::chip_file::DecodeOptions;
use crate::error::{Error, Result};

const IMAGE_EXTENSIONS: [&str; 6] = ["png", "jpg", "jpeg", "tif", "tiff", "npy"];

pub(super) fn read_dir_sorted(dir: &Path) -> Result<Vec<fs::DirEntry>> {
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

pub(super) fn is_hidden(entry: &fs::DirEntry) -> bool {
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

pub(super) fn scan_image_folders(root: &Path, layout: &FolderLayout) -> Result<DatasetIndex> {
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
