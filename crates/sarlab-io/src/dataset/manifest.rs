//! Manifest datasets: a CSV listing each chip's path, split and class.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use super::{ChipEntry, DatasetFormat, DatasetIndex, FolderLayout, Skipped, Split};
use crate::chip_file::DecodeOptions;
use crate::error::{Error, Result};

/// File name of the manifest looked for in a dataset folder.
pub const MANIFEST_FILE: &str = "manifest.csv";

/// Splits one CSV line into fields (double quotes may enclose commas; `""` is a quote).
pub(super) fn csv_fields(line: &str) -> std::result::Result<Vec<String>, String> {
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

pub(super) fn scan_manifest(root: &Path, layout: &FolderLayout) -> Result<DatasetIndex> {
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
