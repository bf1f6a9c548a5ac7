//! Renders a montage of synthetic chips (one row per class, dB scale) to a PNG, for
//! looking at the generator's output while tuning it:
//!
//!     cargo run -p sarlab-io --example synth_preview -- preview.png [chips per class] [train|test]

use image::{GrayImage, Luma};
use sarlab_io::Split;
use sarlab_io::synth::{CLASS_NAMES, SynthConfig, generate};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = args
        .next()
        .unwrap_or_else(|| "synth_preview.png".to_owned());
    let per_class: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(8);
    let split = match args.next().as_deref() {
        Some("test") => Split::Test,
        _ => Split::Train,
    };
    let config = SynthConfig {
        train_per_class: per_class,
        test_per_class: per_class,
        ..SynthConfig::default()
    };
    let chips = generate(&config)?;
    let n = config.chip_size;
    let mut montage = GrayImage::new((n * per_class) as u32, (n * CLASS_NAMES.len()) as u32);
    for chip in chips.iter().filter(|c| c.split == split) {
        for ((r, c), &m) in chip.magnitude.indexed_iter() {
            // 50 dB of dynamic range below the full-scale magnitude.
            let db = 20.0
                * (f64::from(m) / config.full_scale_magnitude)
                    .max(1e-6)
                    .log10();
            let v = ((db + 50.0) / 50.0 * 255.0).clamp(0.0, 255.0) as u8;
            montage.put_pixel(
                (chip.index * n + c) as u32,
                (chip.class_index * n + r) as u32,
                Luma([v]),
            );
        }
    }
    montage.save(&out)?;
    println!("rows: {}", CLASS_NAMES.join(", "));
    Ok(())
}
