//! Checks against the real MSTAR files in `../shared/datasets` (skipped, with the
//! reason printed, when they are not there). Decoding the whole JPEG set is gated on
//! `RUN_SLOW_TESTS=1`.

use std::fs;
use std::path::{Path, PathBuf};

use sarlab_io::phoenix::{self, Md5Status};
use sarlab_io::{DatasetFormat, DatasetIndex, DatasetOptions, Split};

fn datasets() -> Option<PathBuf> {
    Some(sarlab_testkit::datasets_dir()).filter(|d| d.is_dir())
}

fn shared(name: &str) -> Option<PathBuf> {
    let path = datasets()?.join(name);
    if path.is_dir() {
        Some(path)
    } else {
        println!("skipped: {} is not present", path.display());
        None
    }
}

const RAW_CHIPS: [(&str, &str, &str); 5] = [
    ("BMP2_HB03787.000", "bmp2_tank", "9563"),
    ("BMP2_HB03787.001", "bmp2_tank", "9566"),
    ("BMP2_HB03787.002", "bmp2_tank", "c21"),
    ("BTR70_HB03787.004", "btr70_transport", "c71"),
    ("T72_HB03787.015", "t72_tank", "132"),
];

#[test]
fn five_real_phoenix_chips_parse_and_verify() {
    let Some(dir) = shared("mstar-raw") else {
        return;
    };
    for (file, target, serial) in RAW_CHIPS {
        let path = dir.join(file);
        let image = phoenix::read(&path, true).expect("read real chip");
        let h = &image.header;
        assert_eq!((h.rows, h.cols), (128, 128), "{file}");
        assert_eq!(h.target_type.as_deref(), Some(target), "{file}");
        assert_eq!(h.serial.as_deref(), Some(serial), "{file}");
        assert_eq!(h.depression_deg, Some(17.0), "{file}");
        assert_eq!(h.native_header_length, 0, "{file}");
        assert_eq!(
            h.sig_size,
            Some(fs::metadata(&path).expect("stat").len()),
            "{file}"
        );
        assert_eq!(image.md5, Md5Status::Ok, "{file}");
        assert!(
            h.azimuth_deg.is_some_and(|a| (0.0..360.0).contains(&a)),
            "{file}"
        );
        assert_eq!(h.get("Polarization"), Some("HH"));
        // Phase in [0, 2π), magnitude non-negative, as DESIGN §4 states.
        assert!(
            image
                .phase
                .iter()
                .all(|p| (0.0..std::f32::consts::TAU).contains(p))
        );
        assert!(image.magnitude.iter().all(|m| *m >= 0.0));
        let z = image.complex().expect("chips are complex");
        assert!((z[[64, 64]].norm() - image.magnitude[[64, 64]]).abs() < 1e-5);
    }
    // The header length differs per file and is never hard-coded.
    let lengths: Vec<usize> = RAW_CHIPS
        .iter()
        .map(|(f, _, _)| {
            phoenix::read_header(&dir.join(f))
                .expect("header")
                .header_length
        })
        .collect();
    assert_eq!(lengths, [1976, 1975, 1974, 1983, 1973]);
}

#[test]
fn flipped_byte_in_a_real_chip_fails_md5() {
    let Some(dir) = shared("mstar-raw") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let copy = tmp.path().join("T72_HB03787.015");
    let mut bytes = fs::read(dir.join("T72_HB03787.015")).expect("read");
    let at = bytes.len() - 1000;
    bytes[at] ^= 0x01;
    fs::write(&copy, &bytes).expect("write");
    let image = phoenix::read(&copy, true).expect("still decodes");
    assert!(
        matches!(image.md5, Md5Status::Failed { .. }),
        "{:?}",
        image.md5
    );
    // A dataset load with verification refuses it, naming the file.
    let options = DatasetOptions {
        decode: sarlab_io::DecodeOptions {
            verify_md5: true,
            band: None,
        },
        ..Default::default()
    };
    let err = DatasetIndex::scan(tmp.path(), &options)
        .expect("scan")
        .load(&|| {})
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("T72_HB03787.015") && err.contains("MD5"),
        "{err}"
    );
}

#[test]
fn real_chips_round_trip_through_the_writer() {
    let Some(dir) = shared("mstar-raw") else {
        return;
    };
    for (file, _, _) in RAW_CHIPS {
        let original = fs::read(dir.join(file)).expect("read");
        let image = phoenix::decode(&original, Path::new(file), true).expect("decode");
        let rewritten = phoenix::encode(
            &image.header.fields,
            phoenix::PhoenixSamples::Chip {
                magnitude: &image.magnitude,
                phase: &image.phase,
            },
        )
        .expect("encode");
        let back = phoenix::decode(&rewritten, Path::new(file), true).expect("decode again");
        assert_eq!(back.md5, Md5Status::Ok);
        assert_eq!(back.magnitude, image.magnitude);
        assert_eq!(back.phase, image.phase);
        // Same data bytes, same checksum as the original file.
        assert_eq!(back.header.md5, image.header.md5, "{file}");
        assert_eq!(
            &rewritten[back.header.header_length..],
            &original[image.header.header_length..]
        );
        for (key, value) in &image.header.fields {
            if key != "PhoenixHeaderLength" && key != "PhoenixSigSize" {
                assert_eq!(back.header.get(key), Some(value.as_str()), "{file}: {key}");
            }
        }
    }
}

#[test]
fn raw_folder_is_a_phoenix_dataset_of_train_chips() {
    let Some(dir) = shared("mstar-raw") else {
        return;
    };
    let index = DatasetIndex::scan(&dir, &DatasetOptions::default()).expect("scan");
    assert_eq!(index.format, DatasetFormat::Phoenix);
    assert_eq!(index.classes, ["bmp2_tank", "btr70_transport", "t72_tank"]);
    assert!(index.entries.iter().all(|e| e.split == Split::Train));
    assert_eq!(index.entries.len(), 5);
}

/// Per-class (train, test) counts of the MSTAR 10-class SOC JPEG set (DESIGN §4).
const SOC_COUNTS: [(&str, usize, usize); 10] = [
    ("2S1", 299, 274),
    ("BMP2", 233, 195),
    ("BRDM_2", 298, 274),
    ("BTR60", 256, 195),
    ("BTR70", 233, 196),
    ("D7", 299, 274),
    ("T62", 298, 273),
    ("T72", 232, 196),
    ("ZIL131", 299, 274),
    ("ZSU_23_4", 299, 274),
];

#[test]
fn mstar_jpeg_set_has_the_design_counts() {
    let Some(dir) = shared("mstar-soc") else {
        return;
    };
    let index = DatasetIndex::scan(&dir, &DatasetOptions::default()).expect("scan");
    assert_eq!(index.format, DatasetFormat::ImageFolders);
    let names: Vec<&str> = SOC_COUNTS.iter().map(|c| c.0).collect();
    assert_eq!(index.classes, names);
    let count = |class: usize, split: Split| {
        index
            .entries
            .iter()
            .filter(|e| e.class_index == class && e.split == split)
            .count()
    };
    for (i, (name, train, test)) in SOC_COUNTS.iter().enumerate() {
        assert_eq!(
            (count(i, Split::Train), count(i, Split::Test)),
            (*train, *test),
            "{name}"
        );
    }
    let train: usize = SOC_COUNTS.iter().map(|c| c.1).sum();
    let test: usize = SOC_COUNTS.iter().map(|c| c.2).sum();
    assert_eq!((train, test), (2746, 2425));
    assert_eq!(index.skipped.not_chips, 0);
}

#[test]
fn mstar_jpeg_set_decodes_with_sizes_that_differ_by_class() {
    if std::env::var_os("RUN_SLOW_TESTS").is_none_or(|v| v != "1") {
        println!("skipped: set RUN_SLOW_TESTS=1 to decode all 5171 MSTAR JPEG chips");
        return;
    }
    let Some(dir) = shared("mstar-soc") else {
        return;
    };
    let info = sarlab_io::info::inspect(&dir, &DatasetOptions::default(), &|| {}).expect("inspect");
    let chips: usize = info.sizes.values().sum();
    assert_eq!(chips, 5171);
    assert_eq!(info.chip_formats["jpeg"], 5171);
    assert!(info.sizes.contains_key("128x128"), "{:?}", info.sizes);
    // ZIL131 chips are 193 rows x 192 columns (192x193 as width x height).
    assert_eq!(
        info.sizes_by_class["ZIL131"]["193x192"], 573,
        "{:?}",
        info.sizes
    );
    assert_eq!(info.counts["T72"]["test"], 196);
    assert!(
        info.warnings.iter().any(|w| w.contains("differ by class")),
        "{:?}",
        info.warnings
    );
}

/// The five real chips read by numpy (`scripts/fixtures/mstar_raw_stats.py`) and by
/// sarlab agree: same header length, checksum, sums and sample values.
#[test]
fn real_chips_match_an_independent_numpy_reader() {
    let Some(dir) = shared("mstar-raw") else {
        return;
    };
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/mstar_raw_stats.json"))
            .expect("fixture parses");
    for (file, _, _) in RAW_CHIPS {
        let reference = &fixture[file];
        let image = phoenix::read(&dir.join(file), true).expect("read");
        let number = |key: &str| reference[key].as_f64().expect("number");
        assert_eq!(
            image.header.header_length as f64,
            number("header_length"),
            "{file}"
        );
        assert_eq!(
            image.header.md5.as_deref(),
            reference["md5"].as_str(),
            "{file}"
        );
        let sum: f64 = image.magnitude.iter().map(|&v| f64::from(v)).sum();
        assert!(
            (sum - number("magnitude_sum")).abs() < 1e-9 * sum.abs().max(1.0),
            "{file}: {sum}"
        );
        let phase_mean =
            image.phase.iter().map(|&v| f64::from(v)).sum::<f64>() / image.phase.len() as f64;
        assert!((phase_mean - number("phase_mean")).abs() < 1e-12, "{file}");
        assert_eq!(
            f64::from(image.magnitude[[64, 64]]),
            number("magnitude_64_64"),
            "{file}"
        );
        assert_eq!(
            f64::from(image.phase[[10, 20]]),
            number("phase_10_20"),
            "{file}"
        );
        let (argmax, max) =
            image
                .magnitude
                .indexed_iter()
                .fold(
                    ((0, 0), f32::MIN),
                    |best, (at, &v)| if v > best.1 { (at, v) } else { best },
                );
        assert_eq!(f64::from(max), number("magnitude_max"), "{file}");
        let expected_at = &reference["magnitude_argmax"];
        assert_eq!(
            (argmax.0 as u64, argmax.1 as u64),
            (
                expected_at[0].as_u64().expect("row"),
                expected_at[1].as_u64().expect("col")
            ),
            "{file}"
        );
    }
}
