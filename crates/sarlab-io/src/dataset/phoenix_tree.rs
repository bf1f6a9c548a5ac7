//! MSTAR Phoenix trees: chips found anywhere under the root, labelled by their
//! `TargetType` header and split by depression angle.

use std::collections::BTreeSet;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::folders::{is_hidden, read_dir_sorted};
use super::{ChipEntry, DatasetFormat, DatasetIndex, DepressionSplits, Skipped, Split};
use crate::chip_file::DecodeOptions;
use crate::error::{Error, Result};
use crate::phoenix;

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

pub(super) fn scan_phoenix(root: &Path, depression: &DepressionSplits) -> Result<DatasetIndex> {
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
