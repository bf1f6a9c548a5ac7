//! `sarlab features`: feature vectors of one chip, or the feature matrix and labels of
//! a dataset split, written as `.npy` (with a JSON sidecar) for use in other tools.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use sarlab_features::{FeatureMethod, hog_image};
use sarlab_filter::Preprocess;
use sarlab_io::{DatasetIndex, Split, npy};
use serde_json::json;

use crate::cli::FeaturesArgs;
use crate::dataset_commands::{dataset_options, read_single};
use crate::progress;
use sarlab_study::prepared;

/// `KEY=VALUE` pairs of `--set`.
fn settings(args: &FeaturesArgs) -> Result<Vec<(String, String)>> {
    args.set
        .iter()
        .map(|s| {
            s.split_once('=')
                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                .with_context(|| format!("--set {s:?}: expected KEY=VALUE, e.g. orientations=9"))
        })
        .collect()
}

fn preprocess(args: &FeaturesArgs) -> Result<Preprocess> {
    Ok(Preprocess {
        crop: args.crop,
        resize: args.resize,
        pad: args
            .pad
            .as_deref()
            .map(str::parse)
            .transpose()
            .context("--pad")?,
        intensity: args
            .intensity
            .parse()
            .map_err(|e| anyhow::anyhow!("--intensity: {e}"))?,
        pose: args
            .pose
            .as_deref()
            .map(str::parse)
            .transpose()
            .context("--pose")?,
        segment: args
            .segment
            .as_deref()
            .map(str::parse)
            .transpose()
            .context("--segment")?,
        speckle: args
            .speckle
            .as_deref()
            .map(str::parse)
            .transpose()
            .context("--speckle")?,
        filter: args
            .filter
            .as_deref()
            .map(str::parse)
            .transpose()
            .context("--filter")?,
        normalize: args
            .normalize
            .as_deref()
            .map(str::parse)
            .transpose()
            .context("--normalize")?,
    })
}

/// `DIR/STEM.npy` → `DIR/STEM<suffix>`.
fn beside(out: &Path, suffix: &str) -> PathBuf {
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    out.with_file_name(format!("{stem}{suffix}"))
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    sarlab_io::safe_write::write_bytes_atomic(path, bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}

pub fn features(args: &FeaturesArgs) -> Result<()> {
    if args.out.extension().is_none_or(|e| e != "npy") {
        bail!(
            "--out {}: give a file name ending in .npy",
            args.out.display()
        );
    }
    let method = FeatureMethod::from_settings(&args.method, &settings(args)?)
        .with_context(|| format!("feature method `{}`", args.method))?;
    let preprocess = preprocess(args)?;
    if let Some(crop) = preprocess.crop {
        method
            .output_len(crop, crop)
            .with_context(|| format!("{} with --crop {crop}", method.name()))?;
    }
    if args.glyphs.is_some() && !matches!(method, FeatureMethod::Hog(_)) {
        bail!("--glyphs draws HOG glyphs: use it with the hog method");
    }
    let options = dataset_options(&args.read, !args.no_md5)?;
    let parameters: serde_json::Map<String, serde_json::Value> = method
        .settings()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.into()))
        .collect();
    if args.input.is_file()
        && let Some(image) = read_single(&args.input, &options)?
    {
        // `--pose header` turns the chip by its header's azimuth.
        let azimuth = match preprocess.pose {
            Some(sarlab_filter::pose::Pose::Header) => {
                let bytes = std::fs::read(&args.input)
                    .with_context(|| format!("cannot read {}", args.input.display()))?;
                sarlab_io::chip_file::decode(&bytes, &args.input, &options.decode)?
                    .meta
                    .azimuth_deg
            }
            _ => None,
        };
        let chip = preprocess
            .apply_with_azimuth(image.view(), azimuth)
            .with_context(|| format!("preprocessing {}", args.input.display()))?;
        let (rows, cols) = chip.dim();
        let vector = method
            .extract(chip.view())
            .with_context(|| format!("{} features of {}", method.name(), args.input.display()))?;
        write(&args.out, &npy::encode_f64(&[vector.len()], &vector))?;
        let meta = json!({
            "input": args.input.display().to_string(),
            "method": method.name(),
            "parameters": parameters,
            "preprocess": preprocess.to_string(),
            "image_size": [rows, cols],
            "dimension": vector.len(),
            "feature_names": method.feature_names(rows, cols)?,
        });
        let meta_path = beside(&args.out, ".json");
        write(&meta_path, serde_json::to_string_pretty(&meta)?.as_bytes())?;
        if let (Some(path), FeatureMethod::Hog(params)) = (&args.glyphs, &method) {
            let glyphs = hog_image(chip.mapv(f64::from).view(), params)?;
            let chip64 = chip.mapv(f64::from);
            sarlab_report::write_panel_figure(
                &[("chip", chip64.view()), ("HOG glyphs", glyphs.view())],
                path,
            )
            .with_context(|| format!("cannot write {}", path.display()))?;
        }
        println!(
            "{}: {} features ({} {}x{}) → {} (+ {})",
            args.input.display(),
            vector.len(),
            method.name(),
            rows,
            cols,
            args.out.display(),
            meta_path.display()
        );
        return Ok(());
    }
    if args.glyphs.is_some() {
        bail!("--glyphs needs a single chip, not a dataset");
    }
    dataset_features(args, &method, &preprocess, &options, parameters)
}

fn dataset_features(
    args: &FeaturesArgs,
    method: &FeatureMethod,
    preprocess: &Preprocess,
    options: &sarlab_io::DatasetOptions,
    parameters: serde_json::Map<String, serde_json::Value>,
) -> Result<()> {
    let split = Split::from(args.split);
    let index = DatasetIndex::scan(&args.input, options).with_context(|| {
        format!(
            "{} is neither a chip file sarlab reads nor a dataset",
            args.input.display()
        )
    })?;
    let bar = progress::bar(index.entries.len(), "loading chips");
    let dataset = index.load(&|| bar.inc(1))?;
    bar.finish_and_clear();
    let chips: Vec<_> = dataset.chips_in(split).collect();
    if chips.is_empty() {
        bail!(
            "{} has no {split} chips (classes: {})",
            args.input.display(),
            dataset.classes.join(", ")
        );
    }
    let start = Instant::now();
    // Each chip's crop window is widened to f64 and preprocessed as the extractor
    // reaches it (as a study does): only the feature matrix is held.
    let prepare = |k: usize| prepared(preprocess, &dataset, chips[k]);
    // The stages after the crop keep the size: chip 0's window is the output size.
    let (first_rows, first_cols) = preprocess
        .window(chips[0].size)
        .with_context(|| format!("chip {}", dataset.chip_label(chips[0])))?;
    let (rows, cols) = (first_rows.len(), first_cols.len());
    if let Some(other) = chips.iter().find(|c| {
        preprocess
            .window(c.size)
            .is_ok_and(|(r, c)| (r.len(), c.len()) != (rows, cols))
    }) {
        bail!(
            "{} is {}x{} but {} is {}x{}: give --crop N to bring every chip to N×N",
            dataset.chip_label(other),
            other.size.0,
            other.size.1,
            dataset.chip_label(chips[0]),
            chips[0].size.0,
            chips[0].size.1
        );
    }
    let bar = progress::bar(chips.len(), format!("{} features", method.name()));
    let matrix = method
        .extract_with(chips.len(), prepare, &|| bar.inc(1))
        .with_context(|| {
            format!(
                "{} features of {} (use --crop to bring chips of different sizes to one size)",
                method.name(),
                args.input.display()
            )
        })?;
    bar.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();
    let labels: Vec<i64> = chips.iter().map(|c| c.class_index as i64).collect();
    let flat: Vec<f64> = matrix.iter().copied().collect();
    write(
        &args.out,
        &npy::encode_f64(&[matrix.nrows(), matrix.ncols()], &flat),
    )?;
    let labels_path = beside(&args.out, ".labels.npy");
    write(&labels_path, &npy::encode_i64(&labels))?;
    let meta = json!({
        "input": args.input.display().to_string(),
        "dataset_digest": dataset.digest,
        "split": split.to_string(),
        "classes": dataset.classes,
        "chips": chips.iter().map(|c| dataset.chip_label(c)).collect::<Vec<_>>(),
        "method": method.name(),
        "parameters": parameters,
        "preprocess": preprocess.to_string(),
        "image_size": [rows, cols],
        "shape": [matrix.nrows(), matrix.ncols()],
        "feature_names": method.feature_names(rows, cols)?,
        "seconds": seconds,
    });
    let meta_path = beside(&args.out, ".json");
    write(&meta_path, serde_json::to_string_pretty(&meta)?.as_bytes())?;
    println!(
        "{} {split}: {} chips × {} {} features in {:.2} s ({:.0} chips/s) → {}, {}, {}",
        args.input.display(),
        matrix.nrows(),
        matrix.ncols(),
        method.name(),
        seconds,
        matrix.nrows() as f64 / seconds.max(1e-9),
        args.out.display(),
        labels_path.display(),
        meta_path.display()
    );
    Ok(())
}
