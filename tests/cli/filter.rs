//! `sarlab filter`, `spectrum`, `swap`, and filters as study preprocessing.

use crate::support::{
    TINY_SPEC, Workspace, assert_failure_mentions, assert_success, count, stdout,
};

fn chip(ws: &Workspace) -> String {
    assert_success(&ws.synth("data", 2, 2, 1, 40));
    "data/train/tank/tank_0000.png".to_owned()
}

#[test]
fn filter_writes_image_spectra_mask_and_panel() {
    let ws = Workspace::new();
    let chip = chip(&ws);
    let out = ws.sarlab(&[
        "filter",
        &chip,
        "--filter",
        "gaussian:bandpass:cutoff=8:width=6",
        "--speckle",
        "median:window=3",
        "--out",
        "lab",
    ]);
    assert_success(&out);
    assert!(
        stdout(&out).contains("largest imaginary part"),
        "{}",
        stdout(&out)
    );
    for file in [
        "filtered.npy",
        "spectrum.npy",
        "filtered_spectrum.npy",
        "mask.npy",
        "panel.png",
    ] {
        assert!(ws.path("lab").join(file).is_file(), "{file}");
    }
    let panel = image::open(ws.path("lab/panel.png")).expect("panel png");
    assert!(panel.width() > 4 * 256, "five panels side by side");

    let out = ws.sarlab(&["spectrum", &chip, "--out", "spec", "--format", "tiff"]);
    assert_success(&out);
    assert!(
        ws.path("spec/log_magnitude.tif").is_file() && ws.path("spec/phase_only.tif").is_file()
    );
    let out = ws.sarlab(&[
        "swap",
        &chip,
        "data/train/truck/truck_0000.png",
        "--out",
        "sw",
        "--format",
        "png",
    ]);
    assert_success(&out);
    assert!(ws.path("sw/amplitude_a_phase_b.png").is_file());
}

#[test]
fn bad_filter_requests_are_named() {
    let ws = Workspace::new();
    let chip = chip(&ws);
    let out = ws.sarlab(&[
        "filter",
        &chip,
        "--filter",
        "butterworth:lowpass:cutoff=0",
        "--out",
        "x",
    ]);
    assert_failure_mentions(&out, &["--filter", "cutoff 0"]);
    let out = ws.sarlab(&[
        "filter",
        &chip,
        "--filter",
        "butterworth:lowpass:cutoff=5:order=0",
        "--out",
        "x",
    ]);
    assert_failure_mentions(&out, &["order 0"]);
    let out = ws.sarlab(&[
        "filter",
        &chip,
        "--filter",
        "ideal:lowpass:cutoff=200",
        "--out",
        "x",
    ]);
    assert_failure_mentions(&out, &["cutoff 200", "beyond the 40x40 spectrum"]);
    let out = ws.sarlab(&[
        "filter",
        &chip,
        "--filter",
        "gaussian:bandreject:cutoff=5:width=12",
        "--out",
        "x",
    ]);
    assert_failure_mentions(&out, &["band width 12"]);
    let out = ws.sarlab(&[
        "filter",
        &chip,
        "--speckle",
        "wiener:window=3",
        "--out",
        "x",
    ]);
    assert_failure_mentions(&out, &["--speckle", "wiener"]);
    // Two images of different sizes.
    assert_success(&ws.synth("small", 2, 2, 1, 24));
    let out = ws.sarlab(&[
        "swap",
        &chip,
        "small/train/tank/tank_0000.png",
        "--out",
        "sw",
    ]);
    assert_failure_mentions(&out, &["40x40", "24x24", "same size"]);
}

#[test]
fn filters_are_sweepable_preprocessing_recorded_with_each_run() {
    let ws = Workspace::new();
    let spec = TINY_SPEC
        .replace(
            "intensity = \"db\"",
            "intensity = \"db\"\nspeckle = \"lee:window=3:looks=4\"\nfilter = { kind = \"gaussian\", band = \"lowpass\", cutoff = [6, 10] }",
        )
        .replace("C = [1, 10]", "C = [10]")
        .replace("gamma = [\"scale\", 0.001]", "gamma = [\"scale\"]");
    ws.write("tiny.toml", &spec);
    let out = ws.run_tiny(&[]);
    assert_success(&out);
    let db = ws.db("runs.db");
    // 2 methods × 2 cutoffs configuration runs, each with its filter recorded.
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(DISTINCT run_id) FROM params WHERE key = 'filter'"
        ),
        4 + 2
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM params p JOIN params s ON p.run_id = s.run_id \
             WHERE p.key = 'filter' AND p.value = 'gaussian:lowpass:cutoff=10' \
             AND s.key = 'stage' AND s.value = 'cv'"
        ),
        2
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM params WHERE key = 'speckle' AND value = 'lee:window=3:looks=4'"
        ),
        6
    );
    let bad = spec.replace("cutoff = [6, 10]", "cutoff = [6, 40]");
    ws.write("tiny.toml", &bad);
    let out = ws.run_tiny(&[]);
    assert_failure_mentions(&out, &["preprocess.filter", "preprocess.crop = 32"]);
}

#[test]
fn spectrum_of_a_kernel_shows_the_laplacian_as_a_high_pass_filter() {
    let ws = Workspace::new();
    let out = ws.sarlab(&[
        "spectrum",
        "--kernel",
        "laplacian",
        "--size",
        "32x24",
        "--out",
        "lap",
    ]);
    assert_success(&out);
    assert!(
        stdout(&out).contains("a high-pass filter"),
        "{}",
        stdout(&out)
    );
    for file in [
        "magnitude.npy",
        "real.npy",
        "imaginary.npy",
        "profile.csv",
        "panel.png",
    ] {
        assert!(ws.path("lap").join(file).is_file(), "{file}");
    }
    let bytes = std::fs::read(ws.path("lap/magnitude.npy")).expect("magnitude");
    let magnitude =
        sarlab_io::npy::decode_matrix(&bytes, &ws.path("lap/magnitude.npy")).expect("npy");
    assert_eq!(magnitude.shape, [32, 24]);
    // DC (the centre) is removed; the corner is Nyquist in both axes: |−4 − 2 − 2|.
    assert!(magnitude.values[16 * 24 + 12].abs() < 1e-12);
    assert!((magnitude.values[0] - 8.0).abs() < 1e-12);
    let out = ws.sarlab(&["spectrum", "--kernel", "box3", "--out", "box"]);
    assert!(
        stdout(&out).contains("a low-pass filter"),
        "{}",
        stdout(&out)
    );

    let out = ws.sarlab(&["spectrum", "--kernel", "log", "--out", "bad"]);
    assert_failure_mentions(&out, &["--kernel", "unknown kernel `log`", "laplacian"]);
    let out = ws.sarlab(&[
        "spectrum",
        "--kernel",
        "laplacian",
        "--size",
        "2",
        "--out",
        "bad",
    ]);
    assert_failure_mentions(&out, &["--size 2", "from 3 to 8192"]);
    let out = ws.sarlab(&["spectrum", "x.png", "--kernel", "laplacian", "--out", "bad"]);
    assert_failure_mentions(&out, &["cannot be used with"]);
}
