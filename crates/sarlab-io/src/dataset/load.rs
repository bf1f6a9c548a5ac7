//! Reading and decoding the chips of an index in parallel, keeping only the window of
//! each chip a caller needs.

use std::fs;
use std::ops::Range;
use std::path::PathBuf;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::{Chip, Dataset, DatasetIndex, KeepWindow};
use crate::chip_file;
use crate::error::{Error, Result};
use crate::phoenix::Md5Status;

/// Keeps every chip whole.
fn keep_whole(
    (rows, cols): (usize, usize),
) -> std::result::Result<(Range<usize>, Range<usize>), String> {
    Ok((0..rows, 0..cols))
}

impl DatasetIndex {
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

        let digest = super::digest::dataset_digest(&self.classes, &decoded);
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
