//! The study's data: the dataset (generated first for the synthetic default), each
//! chip preprocessed as a configuration asks, and a split's feature matrix.

use std::path::Path;
use std::time::Instant;

use ndarray::Array2;
use sarlab_filter::Preprocess;
use sarlab_io::synth::{self, SynthConfig};
use sarlab_io::{Chip, Dataset, DatasetIndex, Split};

use crate::error::{Context, Error, Result};
use crate::observer::{Event, Observer, Task};
use crate::plan::{FeatureConfig, Plan};
use crate::spec::DatasetSource;

/// Loads the dataset of `plan`, generating the synthetic default first if it is
/// missing. Only the part of each chip that some configuration's crop uses is kept, in
/// the stored sample type.
pub(crate) fn load_dataset(plan: &Plan, observer: &dyn Observer) -> Result<Dataset> {
    let ds = &plan.spec.dataset;
    let path = &ds.path;
    if ds.source == DatasetSource::Synthetic {
        let config = plan.synth_config()?;
        if path.exists() {
            check_synthetic_matches(path, &config)?;
        } else {
            let task = Task::GenerateDataset;
            observer.on(Event::TaskStarted { task, steps: 0 });
            let chips = synth::write_dataset(path, &config).context_with(|| {
                format!(
                    "cannot generate the synthetic dataset in {}",
                    path.display()
                )
            })?;
            observer.on(Event::TaskFinished { task });
            observer.on(Event::DatasetGenerated {
                path,
                chips,
                seed: config.seed,
            });
        }
    }
    let index = DatasetIndex::scan(path, &plan.dataset_options())
        .and_then(|index| index.require_both_splits().map(|()| index))
        .context_with(|| {
            format!(
                "cannot use dataset {} (from `dataset.path` or --data)",
                path.display()
            )
        })?;
    let crops: Vec<Option<usize>> = plan.features.iter().map(|f| f.preprocess.crop).collect();
    let task = Task::LoadChips;
    observer.on(Event::TaskStarted {
        task,
        steps: index.entries.len(),
    });
    let dataset = index.load_windows(&|| observer.on(Event::TaskStep { task }), &|dim| {
        sarlab_filter::window_for_crops(dim, crops.iter().copied())
            .map_err(|e| format!("{e} (the `preprocess.crop` of the spec does not fit this chip)"))
    })?;
    observer.on(Event::TaskFinished { task });
    tracing::info!(
        chips = dataset.chips.len(),
        classes = dataset.classes.len(),
        format = %dataset.format,
        skipped = dataset.skipped.not_chips,
        other_depression = dataset.skipped.other_depression,
        digest = %dataset.digest,
        "loaded dataset {}",
        path.display()
    );
    observer.on(Event::DatasetLoaded { dataset: &dataset });
    Ok(dataset)
}

/// A synthetic dataset folder must have been generated with the spec's settings,
/// or the study would silently run on other data.
fn check_synthetic_matches(path: &Path, config: &SynthConfig) -> Result<()> {
    match synth::read_config(path)? {
        Some(found) if &found == config => Ok(()),
        Some(found) => Err(Error::Study(format!(
            "{} holds a synthetic dataset generated with other settings ({} in it, the spec asks for {}): \
             delete the folder to regenerate it, or set `dataset.path` to another folder",
            path.display(),
            differing(&found, config),
            differing(config, &found),
        ))),
        None => Err(Error::Study(format!(
            "{} exists but has no {}: it is not a synthetic dataset made by sarlab; \
             use source = \"folder\" for your own data or point `dataset.path` elsewhere",
            path.display(),
            synth::CONFIG_FILE
        ))),
    }
}

/// `key = value` of the settings of `a` that differ from `b`.
fn differing(a: &SynthConfig, b: &SynthConfig) -> String {
    let (ta, tb) = (
        toml::Table::try_from(a).unwrap_or_default(),
        toml::Table::try_from(b).unwrap_or_default(),
    );
    ta.iter()
        .filter(|(k, v)| tb.get(*k) != Some(*v))
        .map(|(k, v)| format!("{k} = {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One chip preprocessed: its crop window widened to `f64` (only the window), then
/// the stages after the crop.
pub fn prepared(preprocess: &Preprocess, dataset: &Dataset, chip: &Chip) -> Result<Array2<f64>> {
    let context = || {
        format!(
            "chip {} in {}",
            dataset.chip_label(chip),
            dataset.root.display()
        )
    };
    let (rows, cols) = preprocess.window(chip.size).context_with(context)?;
    let window = chip.window_f64(rows, cols).ok_or_else(|| {
        Error::Study(format!(
            "{}: the crop window was not kept when loading",
            context()
        ))
    })?;
    preprocess.after_crop(window).context_with(context)
}

/// Features of every chip of a split, with the seconds it took. Chips are preprocessed
/// as they are needed, so only the feature matrix is held, never every preprocessed
/// chip.
pub(crate) fn extract(
    feature: &FeatureConfig,
    dataset: &Dataset,
    split: Split,
    observer: &dyn Observer,
) -> Result<(Array2<f64>, f64)> {
    let chips: Vec<&Chip> = dataset.chips_in(split).collect();
    let task = Task::Extract {
        method: feature.method.name(),
        split,
    };
    observer.on(Event::TaskStarted {
        task,
        steps: chips.len(),
    });
    let start = Instant::now();
    let x = feature
        .method
        .extract_with(
            chips.len(),
            |k| prepared(&feature.preprocess, dataset, chips[k]),
            &|| observer.on(Event::TaskStep { task }),
        )
        .context_with(|| {
            format!(
                "extracting {} features ({})",
                feature.method.name(),
                feature.describe()
            )
        })?;
    observer.on(Event::TaskFinished { task });
    Ok((x, start.elapsed().as_secs_f64()))
}
