//! The text `sarlab dataset info` prints for a [`DatasetInfo`].

use std::fmt::{self, Write as _};

use crate::info::DatasetInfo;
use crate::printable::printable as esc;

/// The human-readable form of `dataset info`.
impl fmt::Display for DatasetInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&text_of(self))
    }
}

fn text_of(info: &DatasetInfo) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", esc(&info.path));
    let _ = writeln!(out, "  format: {}", info.format);
    if let Some(envi) = &info.envi {
        let _ = writeln!(out, "  header: {}", esc(&envi.header));
        let _ = writeln!(
            out,
            "  data:   {} ({} bytes used)",
            esc(&envi.data),
            envi.data_bytes
        );
        let _ = writeln!(
            out,
            "  {} samples x {} lines x {} band(s), {}, {}, {} interleave, header offset {}",
            envi.samples,
            envi.lines,
            envi.bands,
            envi.data_type,
            envi.byte_order,
            envi.interleave,
            envi.header_offset
        );
        if !envi.band_names.is_empty() {
            let _ = writeln!(out, "  bands: {}", esc(&envi.band_names.join(", ")));
        }
        return out;
    }
    if !info.classes.is_empty() {
        let _ = writeln!(out, "  classes: {}", info.classes.len());
        let width = info
            .classes
            .iter()
            .map(|c| esc(c).chars().count())
            .max()
            .unwrap_or(5)
            .max(5);
        let _ = writeln!(
            out,
            "    {:<width$} {:>7} {:>7}  sizes (rows x cols)",
            "class", "train", "test"
        );
        let (mut train, mut test) = (0, 0);
        for class in &info.classes {
            let counts = &info.counts[class];
            let n = |s: &str| counts.get(s).copied().unwrap_or(0);
            train += n("train");
            test += n("test");
            let sizes: Vec<String> = info
                .sizes_by_class
                .get(class)
                .map(|s| s.iter().map(|(size, k)| format!("{size} ({k})")).collect())
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "    {:<width$} {:>7} {:>7}  {}",
                esc(class),
                n("train"),
                n("test"),
                sizes.join(", ")
            );
        }
        let _ = writeln!(out, "    {:<width$} {train:>7} {test:>7}", "total");
    } else {
        let sizes: Vec<String> = info.sizes.keys().cloned().collect();
        let _ = writeln!(out, "  size (rows x cols): {}", sizes.join(", "));
    }
    let formats: Vec<String> = info
        .chip_formats
        .iter()
        .map(|(f, n)| format!("{f} {n}"))
        .collect();
    let _ = writeln!(out, "  chip files: {}", formats.join(", "));
    let m = &info.md5;
    let _ = writeln!(
        out,
        "  md5: {} ok, {} failed, {} absent, {} not checked",
        m.ok, m.failed, m.absent, m.not_checked
    );
    if info.skipped.not_chips + info.skipped.other_depression > 0 {
        let _ = writeln!(
            out,
            "  skipped: {} file(s) that are not {} chips, {} Phoenix chip(s) at other depressions",
            info.skipped.not_chips, info.format, info.skipped.other_depression
        );
    }
    if let Some(p) = &info.phoenix {
        let targets: Vec<String> = p
            .target_types
            .iter()
            .map(|(t, n)| {
                let serials: Vec<&str> = p
                    .serials
                    .get(t)
                    .map(|s| s.iter().map(String::as_str).collect())
                    .unwrap_or_default();
                format!("{} {n} (serial {})", esc(t), esc(&serials.join("/")))
            })
            .collect();
        let _ = writeln!(out, "  targets: {}", targets.join(", "));
        let depressions: Vec<String> = p
            .depressions
            .iter()
            .map(|(d, n)| format!("{d}° {n}"))
            .collect();
        let _ = writeln!(out, "  depression: {}", depressions.join(", "));
        if let Some((lo, hi)) = p.azimuth_range_deg {
            let _ = writeln!(out, "  azimuth: {lo:.1}° .. {hi:.1}°");
        }
        if let Some(fields) = &p.fields {
            for key in [
                "Filename",
                "CollectionDate",
                "SensorName",
                "CenterFrequency",
                "Polarization",
                "RangeResolution",
                "CrossRangeResolution",
                "RangePixelSpacing",
                "CrossRangePixelSpacing",
            ] {
                if let Some(v) = fields.get(key) {
                    let _ = writeln!(out, "  {key}: {}", esc(v));
                }
            }
        }
    }
    if let Some(digest) = &info.digest {
        let _ = writeln!(out, "  digest: {digest}");
    }
    for warning in &info.warnings {
        let _ = writeln!(out, "  warning: {}", esc(warning));
    }
    out
}
