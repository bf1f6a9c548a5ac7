//! `sarlab dataset info` and `sarlab dataset convert`, on synthetic Phoenix data, on
//! the real MSTAR files when present, and on damaged input.

use std::fs;
use std::path::PathBuf;

use serde_json::Value;

use crate::support::{Workspace, assert_failure_mentions, assert_success, stdout};

fn info_json(ws: &Workspace, path: &str) -> Value {
    let out = ws.sarlab(&["dataset", "info", "--json", path]);
    assert_success(&out);
    serde_json::from_str(&stdout(&out)).expect("info --json prints JSON")
}

fn synth_phoenix(ws: &Workspace, out: &str) {
    let output = ws.sarlab(&[
        "dataset",
        "synth",
        "--out",
        out,
        "--seed",
        "5",
        "--train-per-class",
        "3",
        "--test-per-class",
        "2",
        "--chip-size",
        "32",
        "--file-format",
        "phoenix",
    ]);
    assert_success(&output);
}

#[test]
fn synthetic_phoenix_dataset_is_described_converted_and_studied() {
    let ws = Workspace::new();
    synth_phoenix(&ws, "phx");
    let info = info_json(&ws, "phx");
    assert_eq!(info["format"], "phoenix");
    assert_eq!(info["classes"].as_array().expect("classes").len(), 8);
    assert_eq!(info["counts"]["tank"]["train"], 3);
    assert_eq!(info["counts"]["tank"]["test"], 2);
    assert_eq!(info["sizes"]["32x32"], 40);
    assert_eq!(info["md5"]["ok"], 40);
    assert_eq!(info["md5"]["failed"], 0);
    assert_eq!(info["skipped"]["not_chips"], 2);
    assert_eq!(info["phoenix"]["depressions"]["17"], 24);
    assert!(
        info["warnings"].as_array().expect("warnings").is_empty(),
        "{info}"
    );

    // Phoenix → 16-bit PNG image folders: same classes and counts, a new digest.
    let out = ws.sarlab(&[
        "dataset",
        "convert",
        "phx",
        "png",
        "--to",
        "png16",
        "--intensity",
        "db",
    ]);
    assert_success(&out);
    assert!(stdout(&out).contains("wrote 40 chips"), "{}", stdout(&out));
    let converted = info_json(&ws, "png");
    assert_eq!(converted["format"], "image-folders");
    assert_eq!(converted["counts"], info["counts"]);
    assert_eq!(converted["chip_formats"]["png"], 40);
    assert_ne!(converted["digest"], info["digest"]);
    assert!(
        ws.path("png/train/tank/17_DEG_tank_tank_0000.phx.png")
            .is_file()
    );

    // The Phoenix folder itself feeds a study (labels from the headers).
    ws.write(
        "tiny.toml",
        &crate::support::TINY_SPEC.replace("crop = 32", "crop = 24"),
    );
    let out = ws.run_tiny(&["--data", "phx"]);
    assert_success(&out);
    let db = ws.db("runs.db");
    let digest: String = db
        .query_row(
            "SELECT value FROM tags WHERE key = 'dataset_digest' LIMIT 1",
            [],
            |r| r.get(0),
        )
        .expect("digest tag");
    assert_eq!(Value::String(digest), info["digest"]);
}

#[test]
fn pose_estimates_agree_with_the_synthetic_headings_and_header_pose_studies() {
    let ws = Workspace::new();
    let out = ws.sarlab(&[
        "dataset",
        "synth",
        "--out",
        "phx",
        "--seed",
        "9",
        "--train-per-class",
        "10",
        "--test-per-class",
        "2",
        "--chip-size",
        "64",
        "--file-format",
        "phoenix",
    ]);
    assert_success(&out);
    let out = ws.sarlab(&["dataset", "pose", "phx", "--csv", "pose.csv"]);
    assert_success(&out);
    let text = stdout(&out);
    assert!(text.contains("against TargetAz on 96 chips"), "{text}");
    // Each chip's axis error against the heading it was rendered with (TargetAz).
    let csv = fs::read_to_string(ws.path("pose.csv")).expect("csv");
    let mut errors: Vec<f64> = csv
        .lines()
        .skip(1)
        .map(|line| {
            line.rsplit(',')
                .nth(1)
                .expect("axis error")
                .parse::<f64>()
                .expect("number")
                .abs()
        })
        .collect();
    assert_eq!(errors.len(), 96);
    errors.sort_by(f64::total_cmp);
    let median = errors[errors.len() / 2];
    assert!(median < 10.0, "median axis error {median}°\n{text}");

    // Speckle filters scored on the same chips: the identity keeps everything, a mean
    // filter raises the clutter's ENL and blurs the outline.
    let out = ws.sarlab(&[
        "dataset",
        "speckle",
        "phx",
        "--crop",
        "48",
        "--filter",
        "mean:window=1",
        "--filter",
        "mean:window=5",
        "--limit",
        "40",
    ]);
    assert_success(&out);
    let text = stdout(&out);
    let row = |name: &str| -> Vec<f64> {
        text.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} in\n{text}"))
            .split_whitespace()
            .skip(1)
            .map(|v| v.parse().expect("number"))
            .collect()
    };
    assert_eq!(row("mean:window=1 "), [1.0, 1.0, 1.0], "{text}");
    let mean = row("mean:window=5 ");
    assert!(mean[0] > 2.0 && mean[1] < 1.0, "{text}");
    let out = ws.sarlab(&["dataset", "speckle", "phx", "--filter", "wiener:window=3"]);
    assert_failure_mentions(&out, &["--filter wiener:window=3"]);

    // A study turns chips by their headers' azimuth or their masks' axis.
    ws.write(
        "tiny.toml",
        &crate::support::TINY_SPEC.replace(
            "crop = 32",
            "crop = 40\npose = [\"none\", \"header\", \"mask\"]",
        ),
    );
    let out = ws.run_tiny(&["--data", "phx"]);
    assert_success(&out);
    let db = ws.db("runs.db");
    let poses: Vec<String> = db
        .prepare("SELECT DISTINCT value FROM params WHERE key = 'pose' ORDER BY value")
        .expect("query")
        .query_map([], |r| r.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("poses");
    assert_eq!(poses, ["header", "mask", "none"]);
    // PNG chips have no header azimuth: the error says what is missing.
    let out = ws.sarlab(&["dataset", "convert", "phx", "png", "--to", "png16"]);
    assert_success(&out);
    ws.write(
        "tiny.toml",
        &crate::support::TINY_SPEC.replace("crop = 32", "crop = 40\npose = \"header\""),
    );
    let out = ws.run_tiny(&["--data", "png"]);
    assert_failure_mentions(&out, &["TargetAz"]);
}

#[test]
fn convert_single_files_and_refuse_to_overwrite() {
    let ws = Workspace::new();
    synth_phoenix(&ws, "phx");
    let chip = "phx/15_DEG/truck/truck_0001.phx";
    let out = ws.sarlab(&["dataset", "convert", chip, "one.tif", "--to", "tiff"]);
    assert_success(&out);
    let tif = info_json(&ws, "one.tif");
    assert_eq!(tif["format"], "tiff");
    assert_eq!(tif["sizes"]["32x32"], 1);
    let out = ws.sarlab(&[
        "dataset",
        "convert",
        chip,
        "one.npy",
        "--to",
        "npy",
        "--intensity",
        "db",
    ]);
    assert_success(&out);
    assert_eq!(info_json(&ws, "one.npy")["format"], "npy");
    let out = ws.sarlab(&[
        "dataset",
        "convert",
        chip,
        "one.png",
        "--to",
        "png",
        "--stretch",
        "p2-98",
    ]);
    assert_success(&out);
    let out = ws.sarlab(&["dataset", "convert", chip, "one.png", "--to", "png"]);
    assert_failure_mentions(&out, &["one.png", "already exists"]);
    let out = ws.sarlab(&[
        "dataset",
        "convert",
        chip,
        "two.png",
        "--to",
        "png",
        "--stretch",
        "p99-1",
    ]);
    assert_failure_mentions(&out, &["--stretch", "p99-1"]);
}

#[test]
fn damaged_phoenix_files_are_named() {
    let ws = Workspace::new();
    synth_phoenix(&ws, "phx");
    let victim: PathBuf = ws.path("phx/17_DEG/tank/tank_0002.phx");
    let original = fs::read(&victim).expect("read");

    // A flipped data byte: info reports the MD5 failure (JSON and exit status).
    let mut flipped = original.clone();
    let at = flipped.len() - 7;
    flipped[at] ^= 0x10;
    fs::write(&victim, &flipped).expect("write");
    let out = ws.sarlab(&["dataset", "info", "--json", "phx"]);
    assert!(!out.status.success());
    let info: Value = serde_json::from_str(&stdout(&out)).expect("JSON still printed");
    assert_eq!(info["md5"]["failed"], 1);
    assert_eq!(info["md5"]["ok"], 39);
    assert_failure_mentions(&out, &["tank_0002.phx", "MD5"]);
    // ... and a study refuses the dataset.
    ws.write("tiny.toml", crate::support::TINY_SPEC);
    let out = ws.run_tiny(&["--data", "phx"]);
    assert_failure_mentions(&out, &["tank_0002.phx", "MD5"]);

    // Truncated: the error names the file and the size it should have.
    fs::write(&victim, &original[..original.len() - 100]).expect("write");
    let out = ws.sarlab(&["dataset", "info", "phx"]);
    assert_failure_mentions(
        &out,
        &["tank_0002.phx", "expected", &original.len().to_string()],
    );

    // A non-numeric row count.
    let text = String::from_utf8_lossy(&original).into_owned();
    let at = text.find("NumberOfRows= 32").expect("rows key");
    let mut broken = original.clone();
    broken[at + 14..at + 16].copy_from_slice(b"3x");
    fs::write(&victim, &broken).expect("write");
    let out = ws.sarlab(&["dataset", "info", "phx"]);
    assert_failure_mentions(&out, &["tank_0002.phx", "`NumberOfRows` is `3x`"]);
}

#[test]
fn corrupt_png_and_bad_envi_header_are_named() {
    let ws = Workspace::new();
    let out = ws.synth("data", 1, 2, 2, 24);
    assert_success(&out);
    ws.write("data/test/dozer/dozer_0001.png", "not a png at all");
    let out = ws.sarlab(&["dataset", "info", "data"]);
    assert_failure_mentions(&out, &["dozer_0001.png"]);

    ws.write(
        "scene.hdr",
        "ENVI\nsamples = 4\nlines = 2\nbands = 1\ndata type = 8\ninterleave = bsq\nbyte order = 0\n",
    );
    fs::write(ws.path("scene.img"), [0u8; 64]).expect("write");
    let out = ws.sarlab(&["dataset", "info", "scene.hdr"]);
    assert_failure_mentions(&out, &["scene.hdr", "`data type` is 8"]);

    ws.write(
        "scene.hdr",
        "ENVI\nsamples = 4\nlines = 2\nbands = 2\ndata type = 12\ninterleave = bil\nbyte order = 1\nband names = { HH, HV }\n",
    );
    let info = info_json(&ws, "scene.img");
    assert_eq!(info["format"], "envi");
    assert_eq!(info["envi"]["bands"], 2);
    assert_eq!(info["envi"]["interleave"], "bil");
    assert_eq!(info["envi"]["band_names"][1], "HV");
    let out = ws.sarlab(&[
        "dataset",
        "convert",
        "scene.hdr",
        "hv.tif",
        "--to",
        "tiff",
        "--band",
        "1",
    ]);
    assert_success(&out);
    let out = ws.sarlab(&[
        "dataset",
        "convert",
        "scene.hdr",
        "x.tif",
        "--to",
        "tiff",
        "--band",
        "2",
    ]);
    assert_failure_mentions(&out, &["band 2", "2 band(s)"]);
}

#[test]
fn real_mstar_files_are_described() {
    let Some(raw) = sarlab_testkit::shared_dataset("mstar-raw") else {
        return;
    };
    let ws = Workspace::new();
    let info = info_json(&ws, raw.to_str().expect("utf-8 path"));
    assert_eq!(info["format"], "phoenix");
    assert_eq!(info["md5"]["ok"], 5);
    assert_eq!(info["counts"]["bmp2_tank"]["train"], 3);
    assert_eq!(info["sizes"]["128x128"], 5);
    let chip = raw.join("BTR70_HB03787.004");
    let one = info_json(&ws, chip.to_str().expect("utf-8 path"));
    assert_eq!(one["format"], "phoenix-file");
    assert_eq!(one["phoenix"]["fields"]["TargetSerNum"], "c71");
    let out = ws.sarlab(&[
        "dataset",
        "convert",
        raw.to_str().expect("utf-8"),
        "raw-png",
        "--to",
        "png",
        "--intensity",
        "db",
    ]);
    assert_success(&out);
    assert!(
        ws.path("raw-png/train/t72_tank/T72_HB03787.015.png")
            .is_file()
    );
}
