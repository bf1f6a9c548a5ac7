//! Invariants of the statistics over arbitrary inputs: no panics, p-values in [0, 1],
//! intervals that hold the observed proportion, symmetric tests.

use proptest::prelude::*;
use sarlab_analysis::special::{normal_cdf, normal_quantile, t_sf};
use sarlab_analysis::{corrected_resampled_t, main_effect_shares, mcnemar_exact, wilson_interval};

proptest! {
    #[test]
    fn wilson_holds_the_proportion(trials in 1u64..100_000, frac in 0.0f64..=1.0, confidence in 0.5f64..0.9999) {
        let successes = ((trials as f64) * frac).floor() as u64;
        let i = wilson_interval(successes, trials, confidence).unwrap();
        let p = successes as f64 / trials as f64;
        prop_assert!(0.0 <= i.low && i.low <= p + 1e-12 && p <= i.high + 1e-12 && i.high <= 1.0);
    }

    #[test]
    fn mcnemar_is_symmetric_and_a_probability(
        rows in prop::collection::vec((0usize..4, 0usize..4, 0usize..4), 0..300),
    ) {
        let truth: Vec<usize> = rows.iter().map(|r| r.0).collect();
        let a: Vec<usize> = rows.iter().map(|r| r.1).collect();
        let b: Vec<usize> = rows.iter().map(|r| r.2).collect();
        let ab = mcnemar_exact(&truth, &a, &b).unwrap();
        let ba = mcnemar_exact(&truth, &b, &a).unwrap();
        prop_assert!((0.0..=1.0).contains(&ab.p_value));
        prop_assert_eq!(ab.p_value, ba.p_value);
        prop_assert_eq!(ab.only_first_right, ba.only_second_right);
    }

    #[test]
    fn corrected_t_never_panics(
        first in prop::collection::vec(-1e3f64..1e3, 0..12),
        second in prop::collection::vec(-1e3f64..1e3, 0..12),
        ratio in -1.0f64..2.0,
    ) {
        if let Ok(t) = corrected_resampled_t(&first, &second, ratio) {
            prop_assert!((0.0..=1.0).contains(&t.p_value));
        }
    }

    #[test]
    fn quantile_inverts_the_cdf(p in 1e-300f64..1.0) {
        let x = normal_quantile(p);
        prop_assert!(x.is_finite());
        let back = normal_cdf(x);
        prop_assert!((back - p).abs() <= 1e-12 * p.max(1e-300) + 1e-15, "{} -> {} -> {}", p, x, back);
    }

    #[test]
    fn t_tails_are_probabilities(t in -1e6f64..1e6, df in 0.01f64..1e6) {
        let sf = t_sf(t, df);
        prop_assert!((0.0..=1.0).contains(&sf), "{}", sf);
    }

    #[test]
    fn shares_are_fractions(values in prop::collection::vec(-1e6f64..1e6, 1..60), levels in 1usize..6) {
        let a: Vec<usize> = (0..values.len()).map(|i| i % levels).collect();
        let b: Vec<usize> = (0..values.len()).map(|i| i / levels).collect();
        for s in main_effect_shares(&[a, b], &values).unwrap() {
            prop_assert!((0.0..=1.0).contains(&s));
        }
    }
}
