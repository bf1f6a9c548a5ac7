//! The dataset digest: what identifies a dataset's content across runs and machines.

use sha2::{Digest, Sha256};

use super::Chip;
use crate::hex::hex;

/// SHA-256 over one line `split \t class \t name \t sha256(file bytes)` per chip, in
/// index order: it changes when any chip's content, name, class or split changes, and
/// does not depend on the root path, the machine or the read order.
pub(super) fn dataset_digest(classes: &[String], chips: &[(Chip, [u8; 32])]) -> String {
    let mut hasher = Sha256::new();
    for (chip, file_hash) in chips {
        hasher.update(chip.split.name().as_bytes());
        hasher.update(b"\t");
        hasher.update(classes[chip.class_index].as_bytes());
        hasher.update(b"\t");
        hasher.update(chip.file_name.as_bytes());
        hasher.update(b"\t");
        hasher.update(hex(file_hash).as_bytes());
        hasher.update(b"\n");
    }
    hex(&hasher.finalize())
}
