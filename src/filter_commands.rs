//! `sarlab filter`, `sarlab spectrum` and `sarlab swap`: the frequency lab on one image.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use ndarray::{Array2, ArrayView2};
use sarlab_filter::amplitude_phase::{amplitude_only, phase_only, swap_amplitude_phase};
use sarlab_filter::fft;
use sarlab_filter::frequency::FrequencyFilter;
use sarlab_filter::kernels::SpatialKernel;
use sarlab_filter::spatial::{SpeckleDomain, SpeckleFilter, estimate_enl};
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
    if speckle.is_some() {
        // The ENL of the quietest 8×8 blocks (amplitude statistics, as chips store
        // magnitudes), before and after: what the filter bought in flat clutter.
        let domain = SpeckleDomain::Amplitude;
        let before = estimate_enl(original.view(), 8, domain);
        let after = estimate_enl(despeckled.view(), 8, domain);
        if let (Some(b), Some(a)) = (before, after) {
            println!(
                "ENL (amplitude, median of the most homogeneous tenth of 8x8 blocks): {b:.2} before, {a:.2} after ({:.2}x)",
                a / b
            );
        }
    }
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

/// `--size N` or `ROWSxCOLS`.
fn grid_size(text: &str) -> Result<(usize, usize)> {
    let parse = |t: &str| -> Result<usize> {
        t.trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (3..=8192).contains(n))
            .with_context(|| format!("--size {text}: expected N or ROWSxCOLS, each from 3 to 8192"))
    };
    match text.split_once('x') {
        Some((r, c)) => Ok((parse(r)?, parse(c)?)),
        None => {
            let n = parse(text)?;
            Ok((n, n))
        }
    }
}

/// `sarlab spectrum --kernel K`: the centred frequency response of a spatial kernel,
/// its magnitude as an image, and its profile along the centre row and the diagonal.
fn kernel_spectrum(args: &SpectrumArgs, name: &str) -> Result<()> {
    let kernel: SpatialKernel = name.parse().context("--kernel")?;
    let (rows, cols) = grid_size(&args.size)?;
    let response = kernel.response(rows, cols).context("--size")?;
    let out = Output::new(
        &args.out,
        args.format,
        args.dtype,
        &["magnitude", "real", "imaginary"],
        &[],
    )?;
    let magnitude = response.mapv(|z| z.norm());
    out.save("magnitude", magnitude.view())?;
    out.save("real", response.mapv(|z| z.re).view())?;
    out.save("imaginary", response.mapv(|z| z.im).view())?;
    // Frequencies in cycles per pixel, DC at the centre (numpy's fftshift(fftfreq)).
    let (cr, cc) = (rows / 2, cols / 2);
    let mut csv = String::from("axis,frequency,magnitude\n");
    for c in 0..cols {
        let f = (c as f64 - cc as f64) / cols as f64;
        csv.push_str(&format!("row,{f},{}\n", magnitude[[cr, c]]));
    }
    for r in 0..rows {
        let f = (r as f64 - cr as f64) / rows as f64;
        csv.push_str(&format!("column,{f},{}\n", magnitude[[r, cc]]));
    }
    let profile = args.out.join("profile.csv");
    sarlab_io::safe_write::write_bytes_atomic(&profile, csv.as_bytes())
        .with_context(|| format!("cannot write {}", profile.display()))?;
    let panel = out.panel();
    let weights = kernel.weights();
    write_panel_figure(
        &[
            (&format!("{kernel} weights") as &str, weights.view()),
            ("|H(u, v)|, DC at the centre", magnitude.view()),
        ],
        &panel,
    )
    .with_context(|| format!("cannot draw {}", panel.display()))?;
    let dc = magnitude[[cr, cc]];
    let nyquist = magnitude[[0, 0]];
    println!(
        "{kernel}: |H| = {dc:.4} at DC, {nyquist:.4} at the corner (Nyquist in both axes): {}",
        if dc < nyquist {
            "a high-pass filter"
        } else if dc > nyquist {
            "a low-pass filter"
        } else {
            "neither low- nor high-pass at these two frequencies"
        }
    );
    println!("wrote {}", args.out.display());
    Ok(())
}

pub fn spectrum(args: &SpectrumArgs) -> Result<()> {
    if let Some(kernel) = &args.kernel {
        return kernel_spectrum(args, kernel);
    }
    let Some(path) = &args.image else {
        bail!("give an image, or --kernel NAME for a kernel's frequency response");
    };
    let image = read_image(path, args.band)?;
    let out = Output::new(
        &args.out,
        args.format,
        args.dtype,
        &["log_magnitude", "phase", "amplitude_only", "phase_only"],
        &[path],
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
