//! The study's data: the dataset (generated first for the synthetic default), each
//! chip preprocessed as a configuration asks, and a split's feature matrix.

use std::ops::Range;
use std::path::Path;
use std::time::Instant;

use ndarray::Array2;
use sarlab_filter::Preprocess;
use sarlab_filter::augment::{Augment, Draw};
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
            match synth::write_dataset(path, &config) {
                Ok(chips) => {
                    observer.on(Event::TaskFinished { task });
                    observer.on(Event::DatasetGenerated {
                        path,
                        chips,
                        seed: config.seed,
                    });
                }
                // Another process sharing the spec generated it first (each writes to a
                // folder of its own and renames it into place, so what is there is
                // whole): use theirs if it has the spec's settings.
                Err(_) if path.exists() => {
                    observer.on(Event::TaskFinished { task });
                    check_synthetic_matches(path, &config)?;
                }
                Err(err) => {
                    return Err(err).context_with(|| {
                        format!(
                            "cannot generate the synthetic dataset in {}",
                            path.display()
                        )
                    });
                }
            }
        }
    }
    let cannot_use = || {
        format!(
            "cannot use dataset {} (from `dataset.path` or --data)",
            absolute(path).display()
        )
    };
    let index = DatasetIndex::scan(path, &plan.dataset_options())
        .and_then(|index| index.require_both_splits().map(|()| index))
        .context_with(cannot_use)?;
    if ds.depression.is_some() && index.format != sarlab_io::DatasetFormat::Phoenix {
        return Err(Error::Study(format!(
            "`dataset.depression` applies to Phoenix data only, but this dataset is {}: its splits are the `{}` and `{}` folders",
            index.format, ds.train, ds.test
        )))
        .context_with(cannot_use);
    }
    // Crops a chip must fit (padded configurations take any chip).
    let crops: Vec<Option<usize>> = plan
        .features
        .iter()
        .filter(|f| f.preprocess.pad.is_none())
        .map(|f| f.preprocess.crop)
        .collect();
    // Each configuration's window, widened by what its augmented copies read around it.
    let windows: Vec<(&Preprocess, usize)> = plan
        .features
        .iter()
        .map(|f| {
            let margin = match (f.augment, f.preprocess.crop) {
                (Some(augment), Some(crop)) => augment.margin(crop),
                _ => 0,
            }
            .max(f.preprocess.margin());
            (&f.preprocess, margin)
        })
        .collect();
    let task = Task::LoadChips;
    observer.on(Event::TaskStarted {
        task,
        steps: index.entries.len(),
    });
    // A crop that does not fit a chip is left out of its window here and reported for
    // the whole dataset by `check_chip_sizes`, which can then say what would fit.
    let dataset = index.load_windows(&|| observer.on(Event::TaskStep { task }), &|dim| {
        let mut union: Option<(Range<usize>, Range<usize>)> = None;
        for &(preprocess, margin) in &windows {
            let Ok((rows, cols)) = preprocess.window(dim) else {
                continue;
            };
            let rows = rows.start.saturating_sub(margin)..(rows.end + margin).min(dim.0);
            let cols = cols.start.saturating_sub(margin)..(cols.end + margin).min(dim.1);
            union = Some(match union {
                None => (rows, cols),
                Some((r, c)) => (
                    r.start.min(rows.start)..r.end.max(rows.end),
                    c.start.min(cols.start)..c.end.max(cols.end),
                ),
            });
        }
        Ok(union.unwrap_or((0..dim.0, 0..dim.1)))
    })?;
    observer.on(Event::TaskFinished { task });
    let any_unsized = plan
        .features
        .iter()
        .any(|f| f.preprocess.crop.is_none() && f.preprocess.resize.is_none());
    check_chip_sizes(&crops, any_unsized, &dataset).context_with(cannot_use)?;
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

/// `path` made absolute (against the working directory) for messages, so that a wrong
/// relative path shows where it was looked for.
fn absolute(path: &Path) -> std::path::PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Every crop of the plan must fit every chip, and chips of several sizes need a crop
/// or a resize in every configuration (features of different sizes do not make one matrix). The
/// errors name files and the largest crop the dataset allows.
fn check_chip_sizes(crops: &[Option<usize>], any_unsized: bool, dataset: &Dataset) -> Result<()> {
    let Some(smallest) = dataset.chips.iter().map(|c| c.size.0.min(c.size.1)).min() else {
        return Ok(());
    };
    let example = |chip: &Chip| {
        format!(
            "{} is {}x{}",
            dataset.chip_label(chip),
            chip.size.0,
            chip.size.1
        )
    };
    if let Some(crop) = crops.iter().flatten().copied().max()
        && crop > smallest
    {
        let too_small: Vec<&Chip> = dataset
            .chips
            .iter()
            .filter(|c| c.size.0.min(c.size.1) < crop)
            .collect();
        let examples: Vec<String> = too_small.iter().take(3).map(|c| example(c)).collect();
        return Err(Error::Study(format!(
            "`preprocess.crop` = {crop} does not fit {} of the {} chips ({}{}); the largest crop this dataset allows is {smallest}",
            too_small.len(),
            dataset.chips.len(),
            examples.join(", "),
            if too_small.len() > examples.len() {
                ", …"
            } else {
                ""
            },
        )));
    }
    let mut sizes: std::collections::BTreeMap<(usize, usize), (usize, &Chip)> =
        std::collections::BTreeMap::new();
    for chip in &dataset.chips {
        sizes.entry(chip.size).or_insert((0, chip)).0 += 1;
    }
    if sizes.len() > 1 && any_unsized {
        let listed: Vec<String> = sizes
            .iter()
            .take(4)
            .map(|(&(r, c), &(count, chip))| {
                format!("{r}x{c}: {count} chips, e.g. {}", dataset.chip_label(chip))
            })
            .collect();
        return Err(Error::Study(format!(
            "the chips are of {} sizes ({}{}) and a configuration has neither `preprocess.crop` nor `preprocess.resize`: set `preprocess.crop` (at most {smallest}) to cut every chip to one size, or `preprocess.resize` to scale every chip to one",
            sizes.len(),
            listed.join("; "),
            if sizes.len() > listed.len() {
                "; …"
            } else {
                ""
            },
        )));
    }
    Ok(())
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
    let ((rows, cols), inner) = preprocess.source_window(chip.size).context_with(context)?;
    let source = chip.window_f64(rows, cols).ok_or_else(|| {
        Error::Study(format!(
            "{}: the crop window was not kept when loading",
            context()
        ))
    })?;
    preprocess
        .prepare(source.view(), inner, chip.meta.azimuth_deg)
        .context_with(context)
}

/// One augmented copy of a chip: the copy of its crop window that `draw` makes from
/// the stored values around it, then the stages after the crop.
pub fn prepared_copy(
    preprocess: &Preprocess,
    augment: &Augment,
    draw: &Draw,
    dataset: &Dataset,
    chip: &Chip,
) -> Result<Array2<f64>> {
    let context = || {
        format!(
            "augmented copy of chip {} in {}",
            dataset.chip_label(chip),
            dataset.root.display()
        )
    };
    let (rows, cols) = preprocess.window(chip.size).context_with(context)?;
    let margin = augment.margin(rows.len().max(cols.len()));
    let region = (
        rows.start.saturating_sub(margin)..(rows.end + margin).min(chip.size.0),
        cols.start.saturating_sub(margin)..(cols.end + margin).min(chip.size.1),
    );
    let source = chip
        .window_f64(region.0.clone(), region.1.clone())
        .ok_or_else(|| {
            Error::Study(format!(
                "{}: the window around the crop was not kept when loading",
                context()
            ))
        })?;
    let window = (
        rows.start - region.0.start..rows.end - region.0.start,
        cols.start - region.1.start..cols.end - region.1.start,
    );
    let copy = augment
        .apply(draw, source.view(), window)
        .context_with(context)?;
    // A pose turn reads the copy itself, mirrored at its edges.
    let whole = (0..copy.nrows(), 0..copy.ncols());
    preprocess
        .prepare(copy.view(), whole, chip.meta.azimuth_deg)
        .context_with(context)
}

/// The training split's features: every chip's, then (with augmentation) each chip's
/// copies in order, `copy_of[j]` naming the chip of row `chips + j`.
pub(crate) struct TrainingFeatures {
    pub x: Array2<f64>,
    pub copy_of: Vec<usize>,
    pub seconds: f64,
}

impl TrainingFeatures {
    /// Labels of every row: the chips' and their copies'.
    pub fn labels(&self, chips: &[usize]) -> Vec<usize> {
        chips
            .iter()
            .copied()
            .chain(self.copy_of.iter().map(|&o| chips[o]))
            .collect()
    }
}

/// [`extract`] of the train split with the configuration's augmented copies, drawn
/// from `seed` and each chip's index in the split.
pub(crate) fn extract_training(
    feature: &FeatureConfig,
    dataset: &Dataset,
    seed: u64,
    observer: &dyn Observer,
) -> Result<TrainingFeatures> {
    let Some(augment) = feature.augment else {
        let (x, seconds) = extract(feature, dataset, Split::Train, observer)?;
        return Ok(TrainingFeatures {
            x,
            copy_of: Vec::new(),
            seconds,
        });
    };
    let chips: Vec<&Chip> = dataset.chips_in(Split::Train).collect();
    let n = chips.len();
    let copies = augment.copies;
    let copy_of: Vec<usize> = (0..n)
        .flat_map(|k| std::iter::repeat_n(k, copies))
        .collect();
    let (x, seconds) = extract_rows(
        feature,
        dataset,
        Split::Train,
        n + copy_of.len(),
        observer,
        |k| {
            if k < n {
                return prepared(&feature.preprocess, dataset, chips[k]);
            }
            let chip = copy_of[k - n];
            let draw = augment.draws(seed, chip)[(k - n) % copies];
            prepared_copy(&feature.preprocess, &augment, &draw, dataset, chips[chip])
        },
    )?;
    Ok(TrainingFeatures {
        x,
        copy_of,
        seconds,
    })
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
    extract_rows(feature, dataset, split, chips.len(), observer, |k| {
        prepared(&feature.preprocess, dataset, chips[k])
    })
}

/// `rows` feature vectors of images `image(k)` makes, for a split's chips (and
/// copies), with the memory check first and progress per row.
fn extract_rows(
    feature: &FeatureConfig,
    dataset: &Dataset,
    split: Split,
    rows: usize,
    observer: &dyn Observer,
    image: impl Fn(usize) -> Result<Array2<f64>> + Sync,
) -> Result<(Array2<f64>, f64)> {
    if let Some(first) = dataset.chips_in(split).next() {
        let size = feature.preprocess.output_size(first.size);
        let dim = feature.method.output_len(size.0, size.1)?;
        crate::memory::require(rows as f64 * dim as f64 * 8.0, || {
            format!(
                "the {split} features of {} ({rows} rows × {dim} features)",
                feature.method.name(),
            )
        })?;
    }
    let task = Task::Extract {
        method: feature.method.name(),
        split,
    };
    observer.on(Event::TaskStarted { task, steps: rows });
    let start = Instant::now();
    let x = feature
        .method
        .extract_with(rows, image, &|| observer.on(Event::TaskStep { task }))
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
