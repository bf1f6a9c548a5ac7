//! Property test over feature settings: any `key = value` text on any method either is
//! refused naming the key, or gives a method whose size checks and extraction on a
//! small chip end in features of the announced length or in an error. Never a panic,
//! a capacity overflow or a runaway allocation.

use ndarray::Array2;
use proptest::prelude::*;
use sarlab_features::FeatureMethod;

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("0".to_owned()),
        Just("1".to_owned()),
        Just("2".to_owned()),
        Just("9".to_owned()),
        Just("180".to_owned()),
        Just("181".to_owned()),
        Just("1000000".to_owned()),
        Just(usize::MAX.to_string()),
        Just((usize::MAX / 2).to_string()),
        Just("-1".to_owned()),
        Just("nan".to_owned()),
        Just("inf".to_owned()),
        Just("0.001".to_owned()),
        Just("0.25".to_owned()),
        Just("0.1,0.2".to_owned()),
        Just("0.3,0.3".to_owned()),
        Just("true".to_owned()),
        Just("L2-Hys".to_owned()),
        Just("8,8".to_owned()),
        Just("".to_owned()),
        any::<u8>().prop_map(|v| v.to_string()),
        any::<f64>().prop_map(|v| v.to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: sarlab_testkit::proptest_cases(2000), ..ProptestConfig::default() })]

    #[test]
    fn any_setting_is_refused_by_key_or_extracts_what_it_announces(
        method in prop::sample::select(FeatureMethod::NAMES.to_vec()),
        settings in prop::collection::vec((0usize..16, value()), 0..4),
        size in 1usize..40,
    ) {
        let mut feature = FeatureMethod::with_defaults(method).expect("a known method");
        let keys = feature.setting_keys();
        for (k, v) in settings {
            let key = keys[k % keys.len()].0.as_str();
            if let Err(err) = feature.set(key, &v) {
                prop_assert!(err.to_string().contains(key), "{err} does not name {key}");
                return Ok(());
            }
        }
        if feature.validate().is_err() {
            return Ok(());
        }
        let Ok(len) = feature.output_len(size, size) else {
            return Ok(());
        };
        let chip = Array2::from_shape_fn((size, size), |(r, c)| ((r * 5 + c) % 9) as f64 / 9.0);
        if let Ok(features) = feature.extract(chip.view()) {
            prop_assert_eq!(features.len(), len);
        }
    }
}
