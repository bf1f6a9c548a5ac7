//! `sarlab dataset info` and `sarlab dataset convert`.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};
use sarlab_io::convert::{self, ConvertOptions, IntensityMap, OutputFormat, Stretch};
use sarlab_io::envi::{ComplexPart, EnviRaster};
use sarlab_io::info;
use sarlab_io::{
    ChipFormat, DatasetFormat, DatasetIndex, DatasetOptions, DecodeOptions, DepressionSplits,
    FolderLayout, chip_file,
};

use crate::cli::{ConvertArgs, ConvertIntensity, ConvertTo, FloatType, InfoArgs, ReadArgs};
use crate::progress;

pub(crate) fn dataset_options(read: &ReadArgs, verify_md5: bool) -> Result<DatasetOptions> {
    let format = read
        .format
        .as_deref()
        .map(str::parse::<DatasetFormat>)
        .transpose()
        .context("--format")?;
    for (flag, angles) in [
        ("--train-depression", &read.train_depression),
        ("--test-depression", &read.test_depression),
    ] {
        if angles.is_empty() || angles.iter().any(|a| !(0.0..=90.0).contains(a)) {
            bail!("{flag} {angles:?}: give one or more angles in degrees within 0..=90");
        }
    }
    Ok(DatasetOptions {
        format,
        layout: FolderLayout::default(),
        depression: DepressionSplits {
            train: read.train_depression.clone(),
            test: read.test_depression.clone(),
        },
        decode: DecodeOptions {
            band: read.band,
            verify_md5,
        },
    })
}

pub fn info(args: &InfoArgs) -> Result<()> {
    let options = dataset_options(&args.read, !args.no_md5)?;
    let bar = progress::bar(0, "reading chips");
    let info = info::inspect(&args.path, &options, &|| bar.inc(1))
        .with_context(|| format!("cannot describe {}", args.path.display()))?;
    bar.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&info)?);
    } else {
        print!("{info}");
    }
    if info.md5.failed > 0 {
        bail!(
            "{} chip(s) failed the MD5 check: {}",
            info.md5.failed,
            info.md5_failures.join(", ")
        );
    }
    Ok(())
}

pub fn convert(args: &ConvertArgs) -> Result<()> {
    if args.output.exists() {
        bail!(
            "{} already exists: choose a new output path",
            args.output.display()
        );
    }
    let options = ConvertOptions {
        format: match args.to {
            ConvertTo::Png => OutputFormat::Png8,
            ConvertTo::Png16 => OutputFormat::Png16,
            ConvertTo::Tiff if args.dtype == FloatType::F32 => OutputFormat::TiffF32,
            ConvertTo::Tiff => OutputFormat::TiffF64,
            ConvertTo::Npy if args.dtype == FloatType::F32 => OutputFormat::NpyF32,
            ConvertTo::Npy => OutputFormat::NpyF64,
        },
        intensity: match args.intensity {
            ConvertIntensity::Linear => IntensityMap::Linear,
            ConvertIntensity::Db => {
                if !(args.db_floor > 0.0 && args.db_floor.is_finite()) {
                    bail!("--db-floor {}: must be a positive number", args.db_floor);
                }
                IntensityMap::Db {
                    floor: args.db_floor,
                }
            }
        },
        stretch: args.stretch.parse::<Stretch>().context("--stretch")?,
    };
    let read = dataset_options(&args.read, true)?;
    let input = &args.input;
    if input.is_file()
        && let Some(values) = read_single(input, &read)?
    {
        let values = options.intensity.apply(values.view());
        convert::write(values.view(), options.format, options.stretch, &args.output)
            .with_context(|| format!("cannot write {}", args.output.display()))?;
        println!(
            "wrote {} ({}x{}) from {}",
            args.output.display(),
            values.nrows(),
            values.ncols(),
            input.display()
        );
        return Ok(());
    }
    let index = DatasetIndex::scan(input, &read)
        .with_context(|| format!("cannot read dataset {}", input.display()))?;
    let bar = progress::bar(index.entries.len(), "reading chips");
    let dataset = index.load(&|| bar.inc(1))?;
    bar.finish_and_clear();
    let bar = progress::bar(dataset.chips.len(), "writing chips");
    let count = convert::convert_dataset(&dataset, &args.output, options, &|| bar.inc(1))
        .with_context(|| {
            format!(
                "cannot convert {} to {}",
                input.display(),
                args.output.display()
            )
        })?;
    bar.finish_and_clear();
    println!(
        "wrote {count} chips ({} classes, {} dataset) to {}",
        dataset.classes.len(),
        dataset.format,
        args.output.display()
    );
    Ok(())
}

/// The values of a single chip file (any format, a lone Phoenix file included) or of
/// one ENVI band; `None` when `path` is not a chip, e.g. a manifest CSV, which is then
/// read as a dataset.
pub(crate) fn read_single(
    path: &Path,
    options: &DatasetOptions,
) -> Result<Option<ndarray::Array2<f64>>> {
    let is_hdr = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("hdr"));
    let has_hdr = path.with_extension("hdr").is_file() || {
        let mut beside = path.as_os_str().to_owned();
        beside.push(".hdr");
        Path::new(&beside).is_file()
    };
    if is_hdr || has_hdr {
        let raster = EnviRaster::open(path)?;
        let h = &raster.header;
        let band = options.decode.band.unwrap_or(0);
        let values = raster
            .read_window(band, (0, 0), (h.lines, h.samples), ComplexPart::Magnitude)
            .with_context(|| format!("cannot read band {band} of {}", path.display()))?;
        return Ok(Some(values));
    }
    let bytes = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if ChipFormat::sniff(&bytes).is_none() {
        return Ok(None);
    }
    let chip = chip_file::decode(&bytes, path, &options.decode)?;
    if let sarlab_io::Md5Status::Failed { expected, actual } = &chip.md5 {
        bail!(
            "{}: MD5 check failed (header {expected}, data {actual})",
            path.display()
        );
    }
    Ok(Some(chip.image.to_f64()))
}
