//! Writing files so that nothing is lost: a file is replaced whole or not at all, and
//! never when it is one of the files a command reads or a run database.
//!
//! [`write_atomic`] writes into a temporary file in the target's folder, flushes it to
//! disk and renames it over the target: a failure half-way (a full disk, a signal)
//! leaves the old file as it was and no temporary behind. [`same_file`] and
//! [`refuse_overwrite`] tell when an output would land on a protected file, whether
//! by the same path, a symlink or a hard link.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

/// Writes `path` through `write`, atomically: the bytes go to a temporary file next to
/// `path`, which is synced and then renamed over `path`. On any error the temporary
/// is removed and `path` is untouched.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    let write_err = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let temporary = temporary_path(path);
    let outcome = (|| -> io::Result<()> {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temporary)?;
        let mut out = BufWriter::new(file);
        write(&mut out)?;
        let file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temporary, path)?;
        // The rename itself is durable once the folder is synced (best effort: not
        // every platform can open a folder).
        if let Some(dir) = parent_dir(path)
            && let Ok(dir) = File::open(dir)
        {
            let _ = dir.sync_all();
        }
        Ok(())
    })();
    if outcome.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    outcome.map_err(write_err)
}

/// [`write_atomic`] of a byte string.
pub fn write_bytes_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic(path, |out| out.write_all(bytes))
}

/// `.<name>.tmp-<pid>-<n>` in the folder of `path`: hidden (dataset scans skip dot
/// files), unique per process and call.
fn temporary_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let file = format!(".{name}.tmp-{}-{n}", std::process::id());
    match parent_dir(path) {
        Some(dir) => dir.join(file),
        None => PathBuf::from(file),
    }
}

fn parent_dir(path: &Path) -> Option<&Path> {
    path.parent().filter(|p| !p.as_os_str().is_empty())
}

/// Whether `a` and `b` name the same file: the same path, a symlink to it, or a hard
/// link of it (same device and inode). A path that does not exist is the same file as
/// another only when both spell the same location (after resolving their folders).
pub fn same_file(a: &Path, b: &Path) -> bool {
    if let (Ok(ma), Ok(mb)) = (fs::metadata(a), fs::metadata(b)) {
        return same_inode(&ma, &mb);
    }
    match (resolved(a), resolved(b)) {
        (Some(ra), Some(rb)) => ra == rb,
        _ => a == b,
    }
}

#[cfg(unix)]
fn same_inode(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_inode(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    // Without inode numbers: the same size and modification time is the best guess,
    // and `resolved` paths catch symlinks.
    a.len() == b.len() && a.modified().ok() == b.modified().ok()
}

/// The absolute location `path` names: its folder canonicalised, its name kept (the
/// file itself may not exist yet).
fn resolved(path: &Path) -> Option<PathBuf> {
    if let Ok(full) = fs::canonicalize(path) {
        return Some(full);
    }
    let name = path.file_name()?;
    let dir = parent_dir(path).unwrap_or(Path::new("."));
    Some(fs::canonicalize(dir).ok()?.join(name))
}

/// What an output must not land on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protected {
    /// A file the command reads.
    Input,
    /// A SQLite run database (its `-wal` and `-shm` files are protected with it).
    Database,
}

/// Fails when any of `outputs` is (by path, symlink or hard link) one of the
/// `protected` files, naming both; nothing is written by this check.
pub fn refuse_overwrite(outputs: &[PathBuf], protected: &[(PathBuf, Protected)]) -> Result<()> {
    for (file, kind) in protected {
        let mut guarded = vec![file.clone()];
        if *kind == Protected::Database {
            for suffix in ["-wal", "-shm", "-journal"] {
                let mut name = file.clone().into_os_string();
                name.push(suffix);
                guarded.push(PathBuf::from(name));
            }
        }
        for output in outputs {
            if let Some(hit) = guarded.iter().find(|g| same_file(output, g)) {
                return Err(Error::WouldOverwrite {
                    output: output.clone(),
                    protected: hit.clone(),
                    what: match kind {
                        Protected::Input => "an input of this command",
                        Protected::Database => "a run database",
                    },
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("out.csv");
        fs::write(&path, "old").expect("write");
        write_bytes_atomic(&path, b"new contents").expect("atomic write");
        assert_eq!(fs::read(&path).expect("read"), b"new contents");
        let names: Vec<_> = fs::read_dir(dir.path())
            .expect("ls")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["out.csv"]);
    }

    #[test]
    fn a_failed_write_keeps_the_old_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("out.csv");
        fs::write(&path, "old").expect("write");
        let err = write_atomic(&path, |out| {
            out.write_all(b"half")?;
            Err(io::Error::other("disk full"))
        })
        .unwrap_err();
        assert!(err.to_string().contains("out.csv"), "{err}");
        assert_eq!(fs::read(&path).expect("read"), b"old");
        assert_eq!(fs::read_dir(dir.path()).expect("ls").count(), 1);
    }

    #[test]
    fn same_file_sees_paths_symlinks_and_hard_links() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = dir.path().join("a.db");
        fs::write(&a, "x").expect("write");
        let hard = dir.path().join("hard.db");
        fs::hard_link(&a, &hard).expect("hard link");
        assert!(same_file(&a, &hard));
        assert!(same_file(&a, &dir.path().join(".").join("a.db")));
        #[cfg(unix)]
        {
            let soft = dir.path().join("soft.db");
            std::os::unix::fs::symlink(&a, &soft).expect("symlink");
            assert!(same_file(&soft, &a));
        }
        let other = dir.path().join("b.db");
        fs::write(&other, "x").expect("write");
        assert!(!same_file(&a, &other));
        // Not yet existing: compared by location.
        let new = dir.path().join("new.csv");
        assert!(same_file(&new, &dir.path().join(".").join("new.csv")));
        assert!(!same_file(&new, &a));
    }

    #[test]
    fn outputs_onto_a_database_or_its_wal_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("v.db");
        fs::write(&db, "sqlite").expect("write");
        let protected = [(db.clone(), Protected::Database)];
        for output in ["v.db", "v.db-wal", "v.db-shm"] {
            let err = refuse_overwrite(&[dir.path().join(output)], &protected).unwrap_err();
            assert!(err.to_string().contains("run database"), "{err}");
        }
        refuse_overwrite(&[dir.path().join("v.csv")], &protected).expect("another file");
        let input = dir.path().join("panel.png");
        fs::write(&input, "png").expect("write");
        let err = refuse_overwrite(
            std::slice::from_ref(&input),
            &[(input.clone(), Protected::Input)],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("panel.png") && err.contains("input"), "{err}");
    }
}
