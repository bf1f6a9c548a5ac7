//! From the same files, the same numbers as the Python pipeline: sarlab's CLI reads
//! 8- and 16-bit PNG, float TIFF and `.npy` chips and must reproduce what numpy,
//! scikit-image and scipy compute on `np.asarray(Image.open(p)) / 255.0`,
//! `img_as_float`, `tifffile.imread` and `np.load` of those files
//! (`scripts/fixtures/from_files.py`): raw pixels and HOG bit for bit, Gabor,
//! spectral and filtered images to 1e-12 relative.

use std::path::{Path, PathBuf};

use sarlab_io::npy;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::support::{Workspace, assert_success};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli/fixtures")
}

fn reference() -> Value {
    let text = std::fs::read_to_string(fixtures().join("from_files.json")).expect("fixture");
    serde_json::from_str(&text).expect("fixture JSON")
}

/// A JSON array of numbers.
fn numbers(array: &Value) -> Vec<f64> {
    array
        .as_array()
        .expect("an array")
        .iter()
        .map(|v| v.as_f64().expect("a number"))
        .collect()
}

fn values_of(path: &Path) -> npy::NpyMatrix {
    npy::decode_matrix(&std::fs::read(path).expect("written"), path).expect("npy")
}

fn sha256_le(values: &[f64]) -> String {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `sarlab features METHOD FILE --set …` → the vector it wrote.
fn features(ws: &Workspace, method: &str, file: &Path, settings: &[String]) -> Vec<f64> {
    let out = ws.path(&format!("{method}.npy"));
    let mut args = vec![
        "features".to_owned(),
        method.to_owned(),
        file.display().to_string(),
        "--out".to_owned(),
        out.display().to_string(),
    ];
    for s in settings {
        args.push("--set".to_owned());
        args.push(s.clone());
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_success(&ws.sarlab(&refs));
    values_of(&out).values
}

#[track_caller]
fn assert_close(ours: &[f64], theirs: &[f64], what: &str) {
    assert_eq!(ours.len(), theirs.len(), "{what}: length");
    for (k, (a, b)) in ours.iter().zip(theirs).enumerate() {
        let tolerance = 1e-12 * b.abs().max(1e-300);
        assert!(
            (a - b).abs() <= tolerance,
            "{what}[{k}]: sarlab {a:e}, Python {b:e} (difference {:e})",
            (a - b).abs()
        );
    }
}

/// Compares an image with the fixture's summary (sum, sum of squares, 48 samples).
#[track_caller]
fn assert_summary(image: &npy::NpyMatrix, summary: &Value, what: &str) {
    let (rows, cols) = (image.shape[0], image.shape[1]);
    let at = |r: usize, c: usize| image.values[r * cols + c];
    let sum: f64 = image.values.iter().sum();
    let sum_sq: f64 = image.values.iter().map(|v| v * v).sum();
    let number = |key: &str| summary[key].as_f64().expect("number");
    assert_close(&[sum, sum_sq], &[number("sum"), number("sum_sq")], what);
    let samples: Vec<f64> = (0..48)
        .map(|k| at((k * 7919) % rows, (k * 104729) % cols))
        .collect();
    assert_close(&samples, &numbers(&summary["samples"]), what);
}

#[test]
fn features_of_png_tiff_and_npy_files_equal_the_python_pipeline() {
    let ws = Workspace::new();
    let reference = reference();
    for chip in reference["chips"].as_array().expect("chips") {
        let name = chip["file"].as_str().expect("file");
        let file = fixtures().join("files").join(name);

        let raw = features(&ws, "raw", &file, &[]);
        assert_eq!(
            sha256_le(&raw),
            chip["raw_sha256"],
            "{name}: raw pixels are not numpy's load bit for bit"
        );

        for case in chip["hog"].as_array().expect("hog cases") {
            let (o, cell, block) = (&case["orientations"], &case["cell"], &case["block"]);
            let v = features(
                &ws,
                "hog",
                &file,
                &[
                    format!("orientations={o}"),
                    format!("pixels_per_cell={cell}"),
                    format!("cells_per_block={block}"),
                ],
            );
            assert_eq!(
                v.len() as u64,
                case["len"].as_u64().expect("len"),
                "{name} {case}"
            );
            assert_eq!(
                sha256_le(&v),
                case["sha256"],
                "{name}: HOG {o}/({cell},{cell})/({block},{block}) differs from skimage.feature.hog"
            );
        }

        let g = &chip["gabor"];
        let v = features(
            &ws,
            "gabor",
            &file,
            &[
                format!("frequencies={}", g["frequencies"].as_str().expect("text")),
                format!("orientations={}", g["orientations"]),
                format!("pool={}", g["pool"]),
            ],
        );
        assert_close(&v, &numbers(&g["values"]), &format!("{name}: Gabor bank"));

        let s = &chip["spectral"];
        let v = features(
            &ws,
            "spectral",
            &file,
            &[
                format!("block={}", s["block"]),
                format!("rings={}", s["rings"]),
                format!("wedges={}", s["wedges"]),
            ],
        );
        assert_close(&v, &numbers(&s["values"]), &format!("{name}: spectral"));

        for case in chip["normalized"].as_array().expect("normalized cases") {
            let (intensity, norm) = (
                case["intensity"].as_str().expect("text"),
                case["norm"].as_str().expect("text"),
            );
            let out = ws.path(&format!("normalized-{intensity}-{norm}.npy"));
            assert_success(&ws.sarlab(&[
                "features",
                "raw",
                file.to_str().expect("utf-8"),
                "--intensity",
                intensity,
                "--normalize",
                norm,
                "--out",
                out.to_str().expect("utf-8"),
            ]));
            let image = npy::NpyMatrix {
                shape: vec![
                    chip["rows"].as_u64().expect("rows") as usize,
                    chip["cols"].as_u64().expect("cols") as usize,
                ],
                values: values_of(&out).values,
            };
            assert_summary(
                &image,
                &case["summary"],
                &format!("{name}: {intensity} then {norm} normalisation"),
            );
        }
        for (k, case) in chip["segmented"]
            .as_array()
            .expect("segmented cases")
            .iter()
            .enumerate()
        {
            let segment = case["segment"].as_str().expect("text");
            let out = ws.path(&format!("segmented-{k}.npy"));
            assert_success(&ws.sarlab(&[
                "features",
                "raw",
                file.to_str().expect("utf-8"),
                "--segment",
                segment,
                "--out",
                out.to_str().expect("utf-8"),
            ]));
            let image = npy::NpyMatrix {
                shape: vec![
                    chip["rows"].as_u64().expect("rows") as usize,
                    chip["cols"].as_u64().expect("cols") as usize,
                ],
                values: values_of(&out).values,
            };
            assert_summary(
                &image,
                &case["summary"],
                &format!("{name}: segmented by {segment}"),
            );
        }
        for case in chip["geometry"].as_array().expect("geometry cases") {
            let segment = case["segment"].as_str().expect("text");
            let v = features(&ws, "geometry", &file, &[format!("segment={segment}")]);
            assert_close(
                &v,
                &numbers(&case["values"]),
                &format!("{name}: geometry with {segment} (skimage.measure.regionprops)"),
            );
        }
        for case in chip["resized"].as_array().expect("resized cases") {
            let size = case["size"].as_u64().expect("size") as usize;
            let out = ws.path(&format!("resized-{size}.npy"));
            assert_success(&ws.sarlab(&[
                "features",
                "raw",
                file.to_str().expect("utf-8"),
                "--resize",
                &size.to_string(),
                "--out",
                out.to_str().expect("utf-8"),
            ]));
            let image = npy::NpyMatrix {
                shape: vec![size, size],
                values: values_of(&out).values,
            };
            assert_summary(
                &image,
                &case["summary"],
                &format!("{name}: skimage.transform.resize to {size}x{size}"),
            );
        }
        for (flag, spec, key) in [
            (
                "--filter",
                "butterworth:lowpass:cutoff=10:order=2",
                "butterworth_lowpass_10_2",
            ),
            ("--speckle", "mean:window=3", "mean_3"),
        ] {
            let dir = ws.path(&format!("filtered-{key}"));
            let out = ws.sarlab(&[
                "filter",
                file.to_str().expect("utf-8"),
                flag,
                spec,
                "--out",
                dir.to_str().expect("utf-8"),
            ]);
            assert_success(&out);
            let image = values_of(&dir.join("filtered.npy"));
            assert_eq!(
                image.shape,
                [
                    chip["rows"].as_u64().expect("rows") as usize,
                    chip["cols"].as_u64().expect("cols") as usize
                ]
            );
            assert_summary(&image, &chip[key], &format!("{name}: {spec}"));
        }
    }
}
