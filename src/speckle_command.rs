//! `sarlab dataset speckle`: speckle filters scored on a dataset's chips.

use anyhow::{Context, Result, bail};
use rayon::prelude::*;
use sarlab_filter::center_window;
use sarlab_filter::segment::Segmentation;
use sarlab_filter::spatial::{SpeckleDomain, SpeckleFilter};
use sarlab_filter::speckle_quality::{SpeckleQuality, speckle_quality};
use sarlab_io::DatasetIndex;

use crate::cli::SpeckleArgs;
use crate::dataset_commands::dataset_options;

fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    })
}

pub fn speckle(args: &SpeckleArgs) -> Result<()> {
    let filters: Vec<SpeckleFilter> = args
        .filters
        .iter()
        .map(|f| f.parse().with_context(|| format!("--filter {f}")))
        .collect::<Result<_>>()?;
    let segmentation: Segmentation = args
        .segment
        .parse()
        .with_context(|| format!("--segment {}", args.segment))?;
    let domain = match args.domain.as_str() {
        "amplitude" => SpeckleDomain::Amplitude,
        "intensity" => SpeckleDomain::Intensity,
        other => bail!("--domain {other}: expected amplitude or intensity"),
    };
    let options = dataset_options(&args.read, true)?;
    let dataset = DatasetIndex::scan(&args.path, &options)
        .with_context(|| format!("cannot read {}", args.path.display()))?
        .load(&|| {})
        .with_context(|| format!("cannot load {}", args.path.display()))?;
    let total = dataset.chips.len();
    if total == 0 {
        bail!("{} holds no chips", args.path.display());
    }
    let take = args.limit.unwrap_or(total).clamp(1, total);
    let chosen: Vec<usize> = (0..take).map(|k| k * total / take).collect();
    println!(
        "{take} chips, clutter frame {} px, {} values, edges at the `{segmentation}` target outline",
        args.border,
        domain.name()
    );
    println!(
        "{:<64} {:>10} {:>10} {:>11}",
        "filter", "ENL gain", "edge pres.", "mean ratio"
    );
    for filter in &filters {
        let scores: Vec<SpeckleQuality> = chosen
            .par_iter()
            .map(|&i| {
                let chip = &dataset.chips[i];
                let label = dataset.chip_label(chip);
                let whole = chip.to_f64();
                let window = match args.crop {
                    Some(crop) => {
                        center_window(whole.dim(), crop).with_context(|| label.clone())?
                    }
                    None => (0..whole.nrows(), 0..whole.ncols()),
                };
                let view = whole.slice(ndarray::s![window.0, window.1]);
                speckle_quality(view, filter, &segmentation, args.border, domain)
                    .with_context(|| format!("{filter} on {label}"))
            })
            .collect::<Result<_>>()?;
        let show = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.3}"));
        println!(
            "{:<64} {:>10} {:>10} {:>11}",
            filter.to_string(),
            show(median(scores.iter().filter_map(|s| s.enl_gain).collect())),
            show(median(
                scores.iter().filter_map(|s| s.edge_preservation).collect()
            )),
            show(median(scores.iter().filter_map(|s| s.mean_ratio).collect())),
        );
    }
    Ok(())
}
