//! A whole file's bytes without copying them: memory-mapped (read-only, prefaulted)
//! where the system allows, read into memory otherwise.
//!
//! Large read-once files (saved models of tens of MB) are mapped so that loading one
//! does not first copy it into freshly faulted heap memory; what the bytes mean is
//! checked by the reader as for any file (a model's checksum covers them).

use std::fs::File;
use std::ops::Deref;
use std::path::Path;

use memmap2::{Mmap, MmapOptions};

use crate::error::{Error, Result};

/// A file's bytes, mapped or read.
#[derive(Debug)]
pub enum FileBytes {
    Mapped(Mmap),
    Read(Vec<u8>),
}

impl FileBytes {
    /// The bytes of the file at `path` (an error names it).
    pub fn open(path: &Path) -> Result<Self> {
        let read_error = |source| Error::Read {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(read_error)?;
        let len = file.metadata().map_err(read_error)?.len();
        if len == 0 {
            return Ok(FileBytes::Read(Vec::new()));
        }
        // SAFETY: the mapping is read-only and private to this value, which owns it; its
        // length is the file's at the time of the call. sarlab replaces the files it
        // maps by renaming (never rewrites them in place); another program truncating
        // the file while it is mapped would fault, as with any mmap reader.
        #[allow(unsafe_code)]
        let mapped = unsafe { MmapOptions::new().populate().map(&file) };
        match mapped {
            Ok(map) => Ok(FileBytes::Mapped(map)),
            // Some file systems cannot map: read instead.
            Err(_) => std::fs::read(path).map(FileBytes::Read).map_err(read_error),
        }
    }
}

impl Deref for FileBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Mapped(map) => map,
            FileBytes::Read(bytes) => bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_bytes_are_the_file_and_errors_name_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("data.bin");
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&path, &data).expect("write");
        assert_eq!(&*FileBytes::open(&path).expect("open"), &data[..]);
        let empty = dir.path().join("empty.bin");
        std::fs::write(&empty, b"").expect("write");
        assert!(FileBytes::open(&empty).expect("open").is_empty());
        let missing = dir.path().join("missing.bin");
        let message = FileBytes::open(&missing).expect_err("missing").to_string();
        assert!(message.contains("missing.bin"), "{message}");
    }
}
