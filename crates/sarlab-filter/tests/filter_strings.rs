//! Property test over filter strings: any `kind:key=value` text, with hostile values,
//! either parses into a filter that then runs on an image (or refuses that image with
//! an error), or is refused naming what is wrong. Never a panic, never a huge
//! allocation or an endless loop (the bounds of `spatial` and `frequency` keep every
//! accepted filter small).

use ndarray::Array2;
use proptest::prelude::*;
use sarlab_filter::frequency::FrequencyFilter;
use sarlab_filter::segment::Segmentation;
use sarlab_filter::spatial::SpeckleFilter;

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("0".to_owned()),
        Just("1".to_owned()),
        Just("7".to_owned()),
        Just("255".to_owned()),
        Just("256".to_owned()),
        Just("65536".to_owned()),
        Just("1e9".to_owned()),
        Just("1e12".to_owned()),
        Just(usize::MAX.to_string()),
        Just("18446744073709551616".to_owned()),
        Just("nan".to_owned()),
        Just("inf".to_owned()),
        Just("-2".to_owned()),
        Just("0.5".to_owned()),
        Just("31".to_owned()),
        Just("nyquist".to_owned()),
        Just("square".to_owned()),
        Just("fast".to_owned()),
        Just("3,4;-2,1".to_owned()),
        Just("".to_owned()),
        any::<u16>().prop_map(|v| v.to_string()),
        any::<f64>().prop_map(|v| v.to_string()),
    ]
}

/// A filter kind with the keys it takes, and sometimes a key it does not.
fn filter_text() -> impl Strategy<Value = String> {
    const KINDS: &[(&str, &[&str])] = &[
        ("lee", &["window", "looks"]),
        ("frost", &["window", "damping"]),
        ("median", &["window"]),
        ("mean", &["window"]),
        ("gaussian", &["sigma"]),
        ("equalize", &["bins"]),
        ("ideal:lowpass", &["cutoff", "units", "shape", "pad"]),
        ("ideal:highpass", &["cutoff", "units"]),
        ("gaussian:bandpass", &["cutoff", "width", "units"]),
        ("butterworth:bandreject", &["cutoff", "width", "order"]),
        ("ideal:notchreject", &["cutoff", "at"]),
        ("gaussian:notchpass", &["cutoff", "at", "shape"]),
        ("ideal:lowpass:cutoff=8", &["units", "shape", "pad"]),
        (
            "butterworth:highpass:cutoff=0.25:units=nyquist",
            &["order", "shape", "pad"],
        ),
        ("gaussian:bandpass:cutoff=10", &["width", "pad"]),
        ("ideal:notchpass:cutoff=2", &["at"]),
        ("refined_lee", &["looks", "domain"]),
        (
            "lee_sigma",
            &["looks", "sigma", "window", "target", "domain"],
        ),
        ("wiener", &["window"]),
        ("", &["window"]),
    ];
    let any_key = prop::sample::select(vec![
        "window", "looks", "damping", "sigma", "bins", "cutoff", "width", "order", "at", "units",
        "shape", "pad", "size",
    ]);
    (
        prop::sample::select(KINDS),
        prop::collection::vec((0usize..8, any::<bool>(), any_key, value()), 0..4),
    )
        .prop_map(|((kind, keys), pairs)| {
            pairs
                .into_iter()
                .fold(kind.to_owned(), |s, (k, own, other, v)| {
                    let key = if own { keys[k % keys.len()] } else { other };
                    format!("{s}:{key}={v}")
                })
        })
}

/// A segmentation text: a threshold kind, then keys it takes (and sometimes not).
fn segmentation_text() -> impl Strategy<Value = String> {
    let keys = prop::sample::select(vec![
        "smooth", "open", "close", "shadow", "keep", "k", "border", "window",
    ]);
    let values = prop_oneof![
        value(),
        Just("true".to_owned()),
        Just("false".to_owned()),
        Just("target".to_owned()),
        Just("target_shadow".to_owned()),
        Just("all".to_owned()),
        Just("3".to_owned()),
        Just("2".to_owned()),
    ];
    (
        prop::sample::select(vec!["otsu", "cfar", "sobel", ""]),
        prop::collection::vec((keys, values), 0..4),
    )
        .prop_map(|(kind, pairs)| {
            pairs
                .into_iter()
                .fold(kind.to_owned(), |s, (k, v)| format!("{s}:{k}={v}"))
        })
}

fn image(rows: usize, cols: usize) -> Array2<f64> {
    Array2::from_shape_fn((rows, cols), |(r, c)| ((r * 7 + c * 3) % 11) as f64 + 0.5)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: sarlab_testkit::proptest_cases(3000), ..ProptestConfig::default() })]

    #[test]
    fn any_speckle_text_parses_and_runs_or_is_refused(text in filter_text(), rows in 1usize..40, cols in 1usize..40) {
        match text.parse::<SpeckleFilter>() {
            Ok(filter) => {
                // Accepted filters are bounded; the image size is checked when run.
                let _ = filter.apply(image(rows, cols).view());
                let valid = filter.validate(rows, cols).is_ok();
                prop_assert_eq!(valid, filter.apply(image(rows, cols).view()).is_ok(), "{}", text);
                // Its text form reads back as the same filter.
                prop_assert_eq!(filter.to_string().parse::<SpeckleFilter>().ok(), Some(filter));
            }
            Err(err) => prop_assert!(err.to_string().contains(&format!("`{text}`")), "{}", err),
        }
    }

    #[test]
    fn any_frequency_text_parses_and_runs_or_is_refused(text in filter_text(), rows in 1usize..40, cols in 1usize..40) {
        match text.parse::<FrequencyFilter>() {
            Ok(filter) => {
                let _ = filter.apply(image(rows, cols).view());
                prop_assert_eq!(filter.to_string().parse::<FrequencyFilter>().ok(), Some(filter));
            }
            Err(err) => prop_assert!(err.to_string().contains(&format!("`{text}`")), "{}", err),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: sarlab_testkit::proptest_cases(2000), ..ProptestConfig::default() })]

    #[test]
    fn any_segmentation_text_parses_and_runs_or_is_refused(text in segmentation_text(), rows in 1usize..40, cols in 1usize..40) {
        match text.parse::<Segmentation>() {
            Ok(segmentation) => {
                let chip = image(rows, cols).mapv(|v| v / 11.0);
                let masks = segmentation.masks(chip.view());
                prop_assert_eq!(segmentation.validate(rows, cols).is_ok(), masks.is_ok(), "{}", text);
                if let Ok(masks) = masks {
                    prop_assert_eq!(masks.target.dim(), (rows, cols));
                    let overlap = masks.target.iter().zip(masks.shadow.iter()).any(|(&t, &s)| t && s);
                    prop_assert!(!overlap, "{}: target and shadow overlap", text);
                }
                prop_assert_eq!(segmentation.to_string().parse::<Segmentation>().ok(), Some(segmentation));
            }
            Err(err) => prop_assert!(err.to_string().contains(&format!("`{text}`")), "{}", err),
        }
    }
}

/// The generator must reach accepted filters often enough for the properties above to
/// run them, not only parse errors.
#[test]
fn the_generated_texts_include_accepted_filters_of_both_kinds() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut ok_s, mut ok_f) = (0, 0);
    for _ in 0..3000 {
        let t = filter_text().new_tree(&mut runner).unwrap().current();
        ok_s += usize::from(t.parse::<SpeckleFilter>().is_ok());
        ok_f += usize::from(t.parse::<FrequencyFilter>().is_ok());
    }
    assert!(
        ok_s > 150 && ok_f > 40,
        "accepted: {ok_s} speckle, {ok_f} frequency"
    );
}
