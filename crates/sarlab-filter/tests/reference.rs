//! sarlab-filter against numpy, scipy.ndimage and scikit-image, through the fixture
//! made by `scripts/fixtures/filters.py` (same test images, rebuilt here).

use ndarray::Array2;
use num_complex::Complex64;
use sarlab_filter::fft;
use sarlab_filter::frequency::FrequencyFilter;
use sarlab_filter::spatial;
use sarlab_testkit::fixture::{self, number as f, test_image};
use serde_json::Value;

fn positions(rows: usize, cols: usize) -> Vec<(usize, usize)> {
    (0..48)
        .map(|k| ((k * 7919) % rows, (k * 104729) % cols))
        .collect()
}

/// Every sample, the sum and the sum of squares within `rel` of the reference, relative
/// to the array's largest magnitude (the scale at which rounding happens).
#[track_caller]
fn check_real(name: &str, a: &Array2<f64>, reference: &Value, rel: f64) {
    let scale = f(&reference["max_abs"]).max(1e-300);
    let n = a.len() as f64;
    assert!(
        (a.sum() - f(&reference["sum"])).abs() <= rel * scale * n,
        "{name}: sum"
    );
    let sum_sq: f64 = a.iter().map(|v| v * v).sum();
    assert!(
        (sum_sq - f(&reference["sum_sq"])).abs() <= rel * scale * scale * n,
        "{name}: sum of squares"
    );
    for (i, (r, c)) in positions(a.nrows(), a.ncols()).into_iter().enumerate() {
        let expected = f(&reference["samples"][i]);
        assert!(
            (a[[r, c]] - expected).abs() <= rel * scale,
            "{name}: ({r},{c}) {} vs {expected}",
            a[[r, c]]
        );
    }
}

#[track_caller]
fn check_complex(name: &str, a: &Array2<Complex64>, reference: &Value, rel: f64) {
    let scale = f(&reference["max_abs"]);
    let n = a.len() as f64;
    let sum: Complex64 = a.iter().sum();
    let expected_sum = Complex64::new(f(&reference["sum"][0]), f(&reference["sum"][1]));
    assert!(
        (sum - expected_sum).norm() <= rel * scale * n,
        "{name}: sum"
    );
    let sum_sq: f64 = a.iter().map(|z| z.norm_sqr()).sum();
    assert!(
        (sum_sq - f(&reference["sum_sq"])).abs() <= rel * scale * scale * n,
        "{name}: sum of squares"
    );
    for (i, (r, c)) in positions(a.nrows(), a.ncols()).into_iter().enumerate() {
        let s = &reference["samples"][i];
        let expected = Complex64::new(f(&s[0]), f(&s[1]));
        assert!(
            (a[[r, c]] - expected).norm() <= rel * scale,
            "{name}: ({r},{c})"
        );
    }
}

#[test]
fn fft2_and_shifts_equal_numpy() {
    let fixture = fixture::load(env!("CARGO_MANIFEST_DIR"), "filters.json");
    let sizes = [(64, 64), (128, 128), (129, 129), (158, 158), (192, 193)];
    for (rows, cols) in sizes {
        let reference = &fixture["fft"][format!("{rows}x{cols}")];
        let x = test_image(rows, cols);
        let spectrum = fft::fft2_real(x.view());
        check_complex(
            &format!("fft2 {rows}x{cols}"),
            &spectrum,
            &reference["fft2"],
            1e-9,
        );
        let complex = fft::fft2(x.mapv(|v| Complex64::new(v, 0.0)).view());
        check_complex(
            &format!("complex fft2 {rows}x{cols}"),
            &complex,
            &reference["fft2"],
            1e-9,
        );
        check_complex(
            &format!("fftshift {rows}x{cols}"),
            &fft::fftshift(spectrum.view()),
            &reference["fftshift"],
            1e-9,
        );
        check_complex(
            &format!("ifftshift {rows}x{cols}"),
            &fft::ifftshift(spectrum.view()),
            &reference["ifftshift"],
            1e-9,
        );
    }
}

#[test]
fn every_filter_kind_and_band_equals_numpy() {
    let fixture = fixture::load(env!("CARGO_MANIFEST_DIR"), "filters.json");
    let cases = fixture["masks"].as_array().expect("masks");
    assert_eq!(cases.len(), 24);
    for case in cases {
        let spec = case["spec"].as_str().expect("spec");
        let (rows, cols) = (
            case["rows"].as_u64().expect("rows") as usize,
            case["cols"].as_u64().expect("cols") as usize,
        );
        let filter: FrequencyFilter = spec.parse().expect("spec parses");
        let name = format!("{spec} {rows}x{cols}");
        check_real(
            &format!("{name} mask"),
            &filter.mask(rows, cols).expect("mask"),
            &case["mask"],
            1e-12,
        );
        let x = test_image(rows, cols);
        let full = filter.apply_complex(x.view()).expect("filter");
        check_real(
            &format!("{name} filtered"),
            &full.image,
            &case["filtered"],
            1e-9,
        );
        let fast = filter.apply(x.view()).expect("filter");
        check_real(
            &format!("{name} filtered (real path)"),
            &fast,
            &case["filtered"],
            1e-9,
        );
        // The imaginary residue is rounding, like numpy's.
        let numpy_residue = f(&case["max_imaginary"]);
        assert!(
            full.max_imaginary < 1e-12 && numpy_residue < 1e-12,
            "{name}: {} vs numpy {numpy_residue}",
            full.max_imaginary
        );
    }
}

#[test]
fn spatial_filters_equal_scipy_and_skimage() {
    let fixture = fixture::load(env!("CARGO_MANIFEST_DIR"), "filters.json");
    let reference = &fixture["spatial"];
    let x = test_image(40, 37);
    let cases: Vec<(&str, Array2<f64>)> = vec![
        ("mean_3", spatial::mean_filter(x.view(), 3).expect("mean")),
        ("mean_4", spatial::mean_filter(x.view(), 4).expect("mean")),
        ("mean_5", spatial::mean_filter(x.view(), 5).expect("mean")),
        (
            "median_3",
            spatial::median_filter(x.view(), 3).expect("median"),
        ),
        (
            "median_4",
            spatial::median_filter(x.view(), 4).expect("median"),
        ),
        (
            "gaussian_1",
            spatial::gaussian_filter(x.view(), 1.0).expect("gaussian"),
        ),
        (
            "gaussian_2.5",
            spatial::gaussian_filter(x.view(), 2.5).expect("gaussian"),
        ),
        (
            "equalize_256",
            spatial::equalize_hist(x.view(), 256).expect("equalize"),
        ),
    ];
    for (name, a) in cases {
        check_real(name, &a, &reference[name], 1e-12);
    }
}

#[test]
fn kernel_responses_equal_the_dft_of_the_padded_kernel() {
    let fixture = fixture::load(env!("CARGO_MANIFEST_DIR"), "filters.json");
    let reference = &fixture["kernels"];
    for kernel in sarlab_filter::kernels::SpatialKernel::ALL {
        let response = kernel.response(16, 12).expect("response");
        check_complex(
            &format!("{kernel} response"),
            &response,
            &reference[kernel.name()],
            1e-12,
        );
    }
}

#[test]
fn kuan_gamma_map_and_refined_lee_equal_their_published_formulas() {
    use sarlab_filter::spatial::{
        SpeckleDomain, gamma_map_filter, kuan_filter, refined_lee_filter,
    };
    let fixture = fixture::load(env!("CARGO_MANIFEST_DIR"), "filters.json");
    let reference = &fixture["adaptive"];
    let x = test_image(40, 37).mapv(|v| v + 2.5);
    let steps = ndarray::Array2::from_shape_fn((40, 37), |(r, c)| {
        x[[r, c]] + 3.0 * f64::from(u8::from(c > 20)) + 2.0 * f64::from(u8::from(r + c > 45))
    });
    // The improved Lee sigma filter, on the fixture's speckled image with point targets.
    let rows: Vec<Vec<f64>> = reference["lee_sigma_image"]
        .as_array()
        .expect("image rows")
        .iter()
        .map(|row| row.as_array().expect("row").iter().map(f).collect())
        .collect();
    let speckled =
        ndarray::Array2::from_shape_vec((rows.len(), rows[0].len()), rows.concat()).expect("image");
    for (looks, sigma, window, target, domain) in [
        (1u8, 9u8, 7usize, 3usize, SpeckleDomain::Intensity),
        (1, 9, 7, 3, SpeckleDomain::Amplitude),
        (2, 7, 9, 5, SpeckleDomain::Intensity),
        (4, 9, 5, 3, SpeckleDomain::Amplitude),
        (3, 5, 11, 3, SpeckleDomain::Amplitude),
    ] {
        let key = format!(
            "lee_sigma_{looks}_{sigma}_{window}_{target}_{}",
            domain.name()
        );
        let filtered = sarlab_filter::lee_sigma::LeeSigma {
            looks,
            sigma_tenths: sigma,
            window,
            target_window: target,
            domain,
        }
        .apply(speckled.view())
        .expect("lee sigma");
        check_real(&key, &filtered, &reference[key.as_str()], 1e-12);
    }
    for looks in [1.0, 4.0] {
        for domain in [SpeckleDomain::Intensity, SpeckleDomain::Amplitude] {
            let key = format!("{looks}_{}", domain.name());
            for (name, image) in [("refined_lee", &x), ("refined_lee_steps", &steps)] {
                let filtered =
                    refined_lee_filter(image.view(), looks, domain).expect("refined lee");
                check_real(
                    &format!("{name} {key}"),
                    &filtered,
                    &reference[format!("{name}_{key}")],
                    1e-12,
                );
            }
        }
    }
    for window in [3, 7] {
        for looks in [1.0, 4.0] {
            for domain in [SpeckleDomain::Intensity, SpeckleDomain::Amplitude] {
                let key = format!("{window}_{looks}_{}", domain.name());
                let kuan = kuan_filter(x.view(), window, looks, domain).expect("kuan");
                check_real(
                    &format!("kuan {key}"),
                    &kuan,
                    &reference[format!("kuan_{key}")],
                    1e-12,
                );
                let gamma = gamma_map_filter(x.view(), window, looks, domain).expect("gamma");
                check_real(
                    &format!("gamma_map {key}"),
                    &gamma,
                    &reference[format!("gamma_map_{key}")],
                    1e-12,
                );
            }
        }
    }
}
