//! `sarlab filter`, `sarlab spectrum` and `sarlab swap`: the frequency lab on one image.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use ndarray::{Array2, ArrayView2};
use sarlab_filter::amplitude_phase::{amplitude_only, phase_only, swap_amplitude_phase};
use sarlab_filter::fft;
use sarlab_filter::frequency::FrequencyFilter;
use sarlab_filter::spatial::SpeckleFilter;
use sarlab_io::DatasetOptions;
use sarlab_io::convert::{self, OutputFormat, Stretch};
use sarlab_io::safe_write::{Protected, refuse_overwrite};
use sarlab_report::write_panel_figure;

use crate::cli::{ArrayFormat, FilterArgs, FloatType, SpectrumArgs, SwapArgs};
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
    Ok(values)
}

/// Where and how a command's arrays are written.
struct Output<'a> {
    dir: &'a Path,
    format: OutputFormat,
}

impl<'a> Output<'a> {
    /// Creates `dir`; refuses outputs that would land on one of `inputs` (the
    /// command's own images: `filter d/panel.png --out d` must not overwrite it).
    fn new(
        dir: &'a Path,
        format: ArrayFormat,
        dtype: FloatType,
        names: &[&str],
        inputs: &[&Path],
    ) -> Result<Self> {
        let format = match (format, dtype) {
            (ArrayFormat::Npy, FloatType::F64) => OutputFormat::NpyF64,
            (ArrayFormat::Npy, FloatType::F32) => OutputFormat::NpyF32,
            (ArrayFormat::Tiff, FloatType::F64) => OutputFormat::TiffF64,
            (ArrayFormat::Tiff, FloatType::F32) => OutputFormat::TiffF32,
            (ArrayFormat::Png, _) => OutputFormat::Png8,
        };
        let output = Output { dir, format };
        let mut outputs: Vec<PathBuf> = names.iter().map(|n| output.path(n)).collect();
        outputs.push(dir.join("panel.png"));
        let protected: Vec<(PathBuf, Protected)> = inputs
            .iter()
            .map(|p| (p.to_path_buf(), Protected::Input))
            .collect();
        refuse_overwrite(&outputs, &protected)?;
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(output)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.{}", self.format.extension()))
    }

    /// Writes `values` as `<dir>/<name>.<ext>`.
    fn save(&self, name: &str, values: ArrayView2<'_, f64>) -> Result<()> {
        let path = self.path(name);
        convert::write(values, self.format, Stretch::MinMax, &path)
            .with_context(|| format!("cannot write {}", path.display()))
    }

    fn panel(&self) -> PathBuf {
        self.dir.join("panel.png")
    }
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
    // Everything is computed (and so every parameter checked against the image)
    // before the first file is written: a bad filter leaves no outputs behind.
    let despeckled = match &speckle {
        Some(s) => s
            .apply(original.view())
            .with_context(|| format!("--speckle on the {rows}x{cols} image"))?,
        None => original.clone(),
    };
    let spectrum =
        fft::log_magnitude(fft::fftshift(fft::fft2_real(despeckled.view()).view()).view());
    let mut saved: Vec<(&str, Array2<f64>)> = vec![("spectrum", spectrum.clone())];
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
            saved.push(("mask", result.centred_mask.clone()));
            // With `pad=fast` the spectrum and mask have the padded size.
            let after = Array2::from_shape_fn(result.centred_mask.dim(), |(r, c)| {
                result.centred_spectrum[[r, c]].norm() * result.centred_mask[[r, c]]
            })
            .mapv(f64::ln_1p);
            saved.push(("filtered_spectrum", after));
            println!(
                "largest imaginary part of the inverse transform: {:.3e} (rounding; the mask is symmetric)",
                result.max_imaginary
            );
            panels.push(("mask".to_owned(), result.centred_mask));
            result.image
        }
        None => despeckled,
    };
    saved.push(("filtered", filtered.clone()));
    panels.push(("filtered".to_owned(), filtered));
    let out = Output::new(
        &args.out,
        args.format,
        args.dtype,
        &["spectrum", "mask", "filtered_spectrum", "filtered"],
        &[&args.image],
    )?;
    for (name, values) in &saved {
        out.save(name, values.view())?;
    }
    let views: Vec<(&str, ArrayView2<'_, f64>)> =
        panels.iter().map(|(t, a)| (t.as_str(), a.view())).collect();
    let panel = out.panel();
    write_panel_figure(&views, &panel)
        .with_context(|| format!("cannot draw {}", panel.display()))?;
    println!("wrote {} ({rows}x{cols})", args.out.display());
    Ok(())
}

pub fn spectrum(args: &SpectrumArgs) -> Result<()> {
    let image = read_image(&args.image, args.band)?;
    let out = Output::new(
        &args.out,
        args.format,
        args.dtype,
        &["log_magnitude", "phase", "amplitude_only", "phase_only"],
        &[&args.image],
    )?;
    let centred = fft::fftshift(fft::fft2_real(image.view()).view());
    let log_magnitude = fft::log_magnitude(centred.view());
    let phase = fft::phase(centred.view());
    out.save("log_magnitude", log_magnitude.view())?;
    out.save("phase", phase.view())?;
    let amplitude = amplitude_only(image.view());
    let phase_image = phase_only(image.view());
    out.save("amplitude_only", amplitude.view())?;
    out.save("phase_only", phase_image.view())?;
    let panel = out.panel();
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
    let out = Output::new(
        &args.out,
        args.format,
        args.dtype,
        &["amplitude_a_phase_b", "amplitude_b_phase_a"],
        &[&args.a, &args.b],
    )?;
    out.save("amplitude_a_phase_b", ab.view())?;
    out.save("amplitude_b_phase_a", ba.view())?;
    let panel = out.panel();
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
