//! The chips `sarlab predict` is given: chip files, folders of them, labelled datasets
//! (image folders, a manifest) and Phoenix files, each with its true class when the
//! input says it.

use std::path::{Path, PathBuf};

use sarlab_io::{ChipFormat, DatasetIndex, DatasetOptions, FolderLayout, Split};

use crate::error::{Error, Result};

/// One chip to predict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputChip {
    pub path: PathBuf,
    /// How outputs name it: `split/class/name` for a dataset's chips, the path otherwise.
    pub name: String,
    /// The class the input labels it with (a dataset's class folder or manifest
    /// label). Phoenix chips are labelled by their own `TargetType` once read.
    pub truth: Option<String>,
}

/// How inputs are read.
#[derive(Debug, Clone, Default)]
pub struct InputOptions {
    /// Folder names of the two splits of image-folder datasets (and manifest split names).
    pub layout: FolderLayout,
    /// Only this split of a labelled dataset.
    pub split: Option<Split>,
}

/// Every chip of the inputs, in input order (a dataset's in its index order, a
/// folder's files sorted by path).
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub chips: Vec<InputChip>,
    /// Files inside input folders that are no chip format (READMEs, thumbnails).
    pub skipped: usize,
}

/// Resolves inputs: a `.csv` file is a manifest; another file is one chip; a folder
/// with the split folders or a `manifest.csv` is a labelled dataset; any other folder
/// gives every chip file below it.
pub fn collect(paths: &[PathBuf], options: &InputOptions) -> Result<Inputs> {
    let mut inputs = Inputs::default();
    let mut dataset_seen = false;
    for path in paths {
        if !path.exists() {
            return Err(Error::Input(format!(
                "{}: no such file or folder",
                std::path::absolute(path)
                    .unwrap_or_else(|_| path.clone())
                    .display()
            )));
        }
        if sarlab_io::labelled_format(path, &options.layout).is_some() {
            dataset_seen = true;
            add_dataset(path, options, &mut inputs)?;
        } else if path.is_dir() {
            add_folder(path, &mut inputs)?;
        } else {
            inputs.chips.push(InputChip {
                path: path.clone(),
                name: path.display().to_string(),
                truth: None,
            });
        }
    }
    if options.split.is_some() && !dataset_seen {
        return Err(Error::Input(
            "--split selects a split of a labelled dataset (image folders or a manifest), and no input is one".to_owned(),
        ));
    }
    if inputs.chips.is_empty() {
        return Err(Error::Input(format!(
            "no chips in {} ({} other file(s) skipped)",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            inputs.skipped
        )));
    }
    Ok(inputs)
}

fn add_dataset(root: &Path, options: &InputOptions, inputs: &mut Inputs) -> Result<()> {
    let index = DatasetIndex::scan(
        root,
        &DatasetOptions {
            layout: options.layout.clone(),
            ..DatasetOptions::default()
        },
    )?;
    inputs.skipped += index.skipped.not_chips;
    for entry in &index.entries {
        if options.split.is_some_and(|s| s != entry.split) {
            continue;
        }
        let class = &index.classes[entry.class_index];
        inputs.chips.push(InputChip {
            path: entry.path.clone(),
            name: format!("{}/{class}/{}", entry.split, entry.file_name),
            truth: Some(class.clone()),
        });
    }
    Ok(())
}

/// Every chip file below `dir` (recognised by its first bytes), sorted by path;
/// hidden files and folders are left out.
fn add_folder(dir: &Path, inputs: &mut Inputs) -> Result<()> {
    let mut files = Vec::new();
    walk(dir, &mut files)?;
    files.sort();
    for path in files {
        if is_chip(&path)? {
            inputs.chips.push(InputChip {
                name: path.display().to_string(),
                path,
                truth: None,
            });
        } else {
            inputs.skipped += 1;
        }
    }
    Ok(())
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let cannot = |e: std::io::Error| Error::Read(e).in_file(dir);
    for entry in std::fs::read_dir(dir).map_err(cannot)? {
        let entry = entry.map_err(cannot)?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            walk(&path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

fn is_chip(path: &Path) -> Result<bool> {
    use std::io::Read;
    let mut prefix = Vec::with_capacity(1024);
    std::fs::File::open(path)
        .and_then(|f| f.take(1024).read_to_end(&mut prefix))
        .map_err(|e| Error::Read(e).in_file(path))?;
    Ok(ChipFormat::sniff(&prefix).is_some())
}
