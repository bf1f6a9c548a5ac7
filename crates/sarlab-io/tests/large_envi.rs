//! A 1 GiB ENVI raster, written here, tiled end to end in bounded memory. Gated on
//! `RUN_SLOW_TESTS=1` (it writes 1 GiB to the temporary folder). The only test in its
//! binary, so the process's peak resident memory is this test's.

use std::fs;
use std::io::{BufWriter, Write};

use sarlab_io::envi::{ByteOrder, ComplexPart, DataType, EnviHeader, EnviRaster, Interleave};

const SAMPLES: usize = 16384;
const LINES: usize = 16384;

/// Pixel value at (row, col): exact in f32, distinct along rows and columns.
fn value(row: usize, col: usize) -> f32 {
    ((row * 7 + col * 13) % 4096) as f32
}

/// Peak resident set size of this process so far, in bytes (Linux `VmHWM`).
fn peak_rss() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[test]
fn one_gib_raster_is_tiled_under_200_mb() {
    if std::env::var_os("RUN_SLOW_TESTS").is_none_or(|v| v != "1") {
        println!("skipped: set RUN_SLOW_TESTS=1 to write and tile a 1 GiB ENVI raster");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("scene.img");
    let header = EnviHeader::new(
        SAMPLES,
        LINES,
        1,
        DataType::F32,
        ByteOrder::Big,
        Interleave::Bsq,
    );
    fs::write(data.with_extension("hdr"), header.to_text()).expect("header");
    {
        let mut out = BufWriter::with_capacity(1 << 20, fs::File::create(&data).expect("create"));
        let mut row_bytes = Vec::with_capacity(SAMPLES * 4);
        for row in 0..LINES {
            row_bytes.clear();
            for col in 0..SAMPLES {
                row_bytes.extend_from_slice(&value(row, col).to_be_bytes());
            }
            out.write_all(&row_bytes).expect("write row");
        }
        out.flush().expect("flush");
    }
    assert_eq!(fs::metadata(&data).expect("stat").len(), 1 << 30);

    // Reset the peak so that writing the file does not count (Linux >= 4.0).
    let _ = fs::write("/proc/self/clear_refs", "5");
    let raster = EnviRaster::open(&data).expect("open");
    let (mut tiles, mut pixels, mut checksum) = (0usize, 0usize, 0f64);
    for tile in raster.tiles(0, (512, 512), ComplexPart::Magnitude) {
        let tile = tile.expect("tile");
        let (rows, cols) = tile.data.dim();
        // Spot-check corners of every tile against the pattern.
        assert_eq!(tile.data[[0, 0]], f64::from(value(tile.row, tile.col)));
        assert_eq!(
            tile.data[[rows - 1, cols - 1]],
            f64::from(value(tile.row + rows - 1, tile.col + cols - 1))
        );
        checksum += tile.data.iter().sum::<f64>();
        pixels += rows * cols;
        tiles += 1;
    }
    let expected: f64 = (0..LINES)
        .flat_map(|r| (0..SAMPLES).map(move |c| f64::from(value(r, c))))
        .sum();
    assert_eq!(tiles, 32 * 32);
    assert_eq!(pixels, SAMPLES * LINES);
    assert_eq!(checksum, expected);

    let chips = raster
        .chips_at(0, &[(100, 200), (16000, 9000)], 64, ComplexPart::Magnitude)
        .expect("chips");
    assert_eq!(chips[1][[0, 0]], f64::from(value(16000 - 32, 9000 - 32)));

    let peak = peak_rss().expect("VmHWM readable on Linux");
    println!(
        "tiled 1 GiB ({tiles} tiles of 512x512 f32) with peak resident memory {:.1} MB",
        peak as f64 / 1e6
    );
    assert!(peak < 200_000_000, "peak resident memory {peak} bytes");
}
