//! `sarlab dataset pose`: each chip's target aspect as `pose = "mask"` estimates it,
//! and its error against the header azimuth where the chip has one.

use std::fmt::Write as _;

use anyhow::{Context, Result, bail};
use sarlab_filter::center_window;
use sarlab_filter::pose::{aspect_agreement, estimate_aspect};
use sarlab_filter::segment::Segmentation;
use sarlab_io::DatasetIndex;

use crate::cli::PoseArgs;
use crate::dataset_commands::dataset_options;

/// One chip's estimate.
struct Row {
    label: String,
    azimuth: Option<f64>,
    aspect: Option<f64>,
}

pub fn pose(args: &PoseArgs) -> Result<()> {
    let segmentation: Segmentation = args
        .segment
        .parse()
        .with_context(|| format!("--segment {}", args.segment))?;
    let options = dataset_options(&args.read, true)?;
    let dataset = DatasetIndex::scan(&args.path, &options)
        .with_context(|| format!("cannot read {}", args.path.display()))?
        .load(&|| {})
        .with_context(|| format!("cannot load {}", args.path.display()))?;
    let mut rows = Vec::with_capacity(dataset.chips.len());
    for chip in &dataset.chips {
        let label = dataset.chip_label(chip);
        let whole = chip.to_f64();
        let window = match args.crop {
            Some(crop) => center_window(whole.dim(), crop).with_context(|| label.clone())?,
            None => (0..whole.nrows(), 0..whole.ncols()),
        };
        let view = whole.slice(ndarray::s![window.0, window.1]);
        let aspect =
            estimate_aspect(view, &segmentation).with_context(|| format!("segmenting {label}"))?;
        rows.push(Row {
            label,
            azimuth: chip.meta.azimuth_deg,
            aspect,
        });
    }
    if rows.is_empty() {
        bail!("{} holds no chips", args.path.display());
    }
    let paired: Vec<(usize, f64, f64)> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| Some((i, r.aspect?, r.azimuth?)))
        .collect();
    let estimates: Vec<f64> = paired.iter().map(|p| p.1).collect();
    let azimuths: Vec<f64> = paired.iter().map(|p| p.2).collect();
    let agreement = aspect_agreement(&estimates, &azimuths);
    let mut errors: Vec<Option<(f64, f64)>> = vec![None; rows.len()];
    if let Some(a) = &agreement {
        for (k, (i, _, _)) in paired.iter().enumerate() {
            errors[*i] = Some((a.axis_errors[k], a.direction_errors[k]));
        }
    }
    let mut csv =
        String::from("chip,target_az_deg,aspect_deg,axis_error_deg,direction_error_deg\n");
    println!(
        "{:<40} {:>10} {:>10} {:>11} {:>11}",
        "chip", "TargetAz", "aspect", "axis err", "dir err"
    );
    let show = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"));
    for (row, error) in rows.iter().zip(&errors) {
        println!(
            "{:<40} {:>10} {:>10} {:>11} {:>11}",
            row.label,
            show(row.azimuth),
            show(row.aspect),
            show(error.map(|e| e.0)),
            show(error.map(|e| e.1)),
        );
        let cell = |v: Option<f64>| v.map_or_else(String::new, |v| v.to_string());
        let _ = writeln!(
            csv,
            "{},{},{},{},{}",
            sarlab_io::csv_field(&row.label),
            cell(row.azimuth),
            cell(row.aspect),
            cell(error.map(|e| e.0)),
            cell(error.map(|e| e.1)),
        );
    }
    let empty = rows.iter().filter(|r| r.aspect.is_none()).count();
    println!("{} chips, {empty} with an empty target mask", rows.len());
    match &agreement {
        Some(a) => {
            let summary = |e: &[f64]| {
                let mut abs: Vec<f64> = e.iter().map(|v| v.abs()).collect();
                abs.sort_by(f64::total_cmp);
                let median = if abs.len() % 2 == 1 {
                    abs[abs.len() / 2]
                } else {
                    (abs[abs.len() / 2 - 1] + abs[abs.len() / 2]) / 2.0
                };
                let mean = abs.iter().sum::<f64>() / abs.len() as f64;
                (median, mean, abs[abs.len() - 1])
            };
            let (median, mean, max) = summary(&a.axis_errors);
            println!(
                "against TargetAz on {} chips (fitted: TargetAz ≈ {}·aspect − {:.1}°): axis error |median| {median:.1}°, mean {mean:.1}°, max {max:.1}°",
                a.axis_errors.len(),
                if a.sign > 0.0 { "+" } else { "−" },
                a.axis_offset
            );
            let right = a
                .direction_errors
                .iter()
                .filter(|e| e.abs() <= 90.0)
                .count();
            println!(
                "  direction (the 180° rule): {right} of {} within 90° of the header's",
                a.direction_errors.len()
            );
        }
        None => println!("no chip has both a header azimuth and a target mask"),
    }
    if let Some(path) = &args.csv {
        sarlab_io::safe_write::write_bytes_atomic(path, csv.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
