//! `sarlab filter`, `sarlab spectrum` and `sarlab swap`: the frequency lab on one image.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};
use ndarray::{Array2, ArrayView2};
use sarlab_filter::amplitude_phase::{amplitude_only, phase_only, swap_amplitude_phase};
use sarlab_filter::fft;
use sarlab_filter::frequency::FrequencyFilter;
use sarlab_filter::spatial::SpeckleFilter;
use sarlab_io::DatasetOptions;
use sarlab_io::convert::{self, OutputFormat, Stretch};
use sarlab_report::write_panel_figure;

use crate::cli::{ArrayFormat, FilterArgs, SpectrumArgs, SwapArgs};
use crate::dataset_commands::read_single;

fn read_image(path: &Path, band: Option<usize>) -> Result<Array2<f64>> {
    let mut options = DatasetOptions::default();
    options.decode.band = band;
    options.decode.verify_md5 = true;
    let values = read_single(path, &options)?.with_context(|| {
        format!(
            "{} is not an image sarlab reads (PNG, JPEG, TIFF, .npy, Phoenix or ENVI)",
            path.display()
        )
    })?;
    Ok(values.mapv(f64::from))
}

fn prepare_out(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))
}

/// Writes `values` as `<dir>/<name>.<ext>`.
fn save(dir: &Path, name: &str, values: ArrayView2<'_, f64>, format: ArrayFormat) -> Result<()> {
    let output = match format {
        ArrayFormat::Npy => OutputFormat::NpyF32,
        ArrayFormat::Tiff => OutputFormat::TiffF32,
        ArrayFormat::Png => OutputFormat::Png8,
    };
    let path = dir.join(format!("{name}.{}", output.extension()));
    convert::write(
        values.mapv(|v| v as f32).view(),
        output,
        Stretch::MinMax,
        &path,
    )
    .with_context(|| format!("cannot write {}", path.display()))
}

pub fn filter(args: &FilterArgs) -> Result<()> {
    if args.filter.is_none() && args.speckle.is_none() {
        bail!(
            "give --filter SPEC and/or --speckle SPEC (e.g. --filter butterworth:lowpass:cutoff=30:order=2)"
        );
    }
    let frequency: Option<FrequencyFilter> = args
        .filter
        .as_deref()
        .map(str::parse)
        .transpose()
        .context("--filter")?;
    let speckle: Option<SpeckleFilter> = args
        .speckle
        .as_deref()
        .map(str::parse)
        .transpose()
        .context("--speckle")?;
    let original = read_image(&args.image, args.band)?;
    let (rows, cols) = original.dim();
    let despeckled = match &speckle {
        Some(s) => s.apply(original.view()).context("--speckle")?,
        None => original.clone(),
    };
    prepare_out(&args.out)?;
    let spectrum =
        fft::log_magnitude(fft::fftshift(fft::fft2_real(despeckled.view()).view()).view());
    save(&args.out, "spectrum", spectrum.view(), args.format)?;
    let mut panels: Vec<(String, Array2<f64>)> = vec![("original".to_owned(), original.clone())];
    if speckle.is_some() {
        panels.push(("despeckled".to_owned(), despeckled.clone()));
    }
    panels.push(("log spectrum".to_owned(), spectrum));
    let filtered = match &frequency {
        Some(f) => {
            let result = f
                .apply_complex(despeckled.view())
                .with_context(|| format!("--filter on the {rows}x{cols} image"))?;
            save(&args.out, "mask", result.centred_mask.view(), args.format)?;
            // With `pad=fast` the spectrum and mask have the padded size.
            let after = Array2::from_shape_fn(result.centred_mask.dim(), |(r, c)| {
                result.centred_spectrum[[r, c]].norm() * result.centred_mask[[r, c]]
            })
            .mapv(f64::ln_1p);
            save(&args.out, "filtered_spectrum", after.view(), args.format)?;
            println!(
                "largest imaginary part of the inverse transform: {:.3e} (rounding; the mask is symmetric)",
                result.max_imaginary
            );
            panels.push(("mask".to_owned(), result.centred_mask));
            result.image
        }
        None => despeckled,
    };
    save(&args.out, "filtered", filtered.view(), args.format)?;
    panels.push(("filtered".to_owned(), filtered));
    let views: Vec<(&str, ArrayView2<'_, f64>)> =
        panels.iter().map(|(t, a)| (t.as_str(), a.view())).collect();
    let panel = args.out.join("panel.png");
    write_panel_figure(&views, &panel)
        .with_context(|| format!("cannot draw {}", panel.display()))?;
    println!("wrote {} ({rows}x{cols})", args.out.display());
    Ok(())
}

pub fn spectrum(args: &SpectrumArgs) -> Result<()> {
    let image = read_image(&args.image, args.band)?;
    prepare_out(&args.out)?;
    let centred = fft::fftshift(fft::fft2_real(image.view()).view());
    let log_magnitude = fft::log_magnitude(centred.view());
    let phase = fft::phase(centred.view());
    save(
        &args.out,
        "log_magnitude",
        log_magnitude.view(),
        args.format,
    )?;
    save(&args.out, "phase", phase.view(), args.format)?;
    let amplitude = amplitude_only(image.view());
    let phase_image = phase_only(image.view());
    save(&args.out, "amplitude_only", amplitude.view(), args.format)?;
    save(&args.out, "phase_only", phase_image.view(), args.format)?;
    let panel = args.out.join("panel.png");
    write_panel_figure(
        &[
            ("image", image.view()),
            ("log |F|", log_magnitude.view()),
            ("phase", phase.view()),
            ("amplitude only", amplitude.view()),
            ("phase only", phase_image.view()),
        ],
        &panel,
    )
    .with_context(|| format!("cannot draw {}", panel.display()))?;
    println!("wrote {}", args.out.display());
    Ok(())
}

pub fn swap(args: &SwapArgs) -> Result<()> {
    let a = read_image(&args.a, args.band)?;
    let b = read_image(&args.b, args.band)?;
    let (ab, ba) = swap_amplitude_phase(a.view(), b.view()).with_context(|| {
        format!(
            "{} is {}x{} but {} is {}x{}: swap needs images of the same size (crop them first)",
            args.a.display(),
            a.nrows(),
            a.ncols(),
            args.b.display(),
            b.nrows(),
            b.ncols()
        )
    })?;
    prepare_out(&args.out)?;
    save(&args.out, "amplitude_a_phase_b", ab.view(), args.format)?;
    save(&args.out, "amplitude_b_phase_a", ba.view(), args.format)?;
    let panel = args.out.join("panel.png");
    write_panel_figure(
        &[
            ("A", a.view()),
            ("B", b.view()),
            ("|A| with phase of B", ab.view()),
            ("|B| with phase of A", ba.view()),
        ],
        &panel,
    )
    .with_context(|| format!("cannot draw {}", panel.display()))?;
    println!("wrote {}", args.out.display());
    Ok(())
}
