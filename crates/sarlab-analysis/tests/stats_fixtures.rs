//! The statistics against scipy and statsmodels, through the fixture made by
//! `scripts/fixtures/stats.py`.

use sarlab_analysis::special::{fair_binomial_cdf, normal_quantile, t_sf};
use sarlab_analysis::{corrected_resampled_t, mcnemar_exact, wilson_interval};
use sarlab_testkit::fixture::{self, floats, number, usizes};
use serde_json::Value;

fn cases(name: &str) -> Vec<Value> {
    fixture::load(env!("CARGO_MANIFEST_DIR"), "stats.json")[name]
        .as_array()
        .unwrap_or_else(|| panic!("no {name} cases"))
        .clone()
}

#[track_caller]
fn close(got: f64, want: f64, rel: f64, what: &str) {
    let scale = want.abs().max(f64::MIN_POSITIVE);
    assert!(
        (got - want).abs() <= rel * scale,
        "{what}: {got} vs {want} (relative {:e})",
        (got - want).abs() / scale
    );
}

#[test]
fn distribution_functions_equal_scipys() {
    for case in cases("normal_quantile") {
        let p = number(&case["p"]);
        close(
            normal_quantile(p),
            number(&case["x"]),
            1e-13,
            &format!("ppf({p})"),
        );
    }
    for case in cases("t_sf") {
        let (t, df) = (number(&case["t"]), number(&case["df"]));
        close(
            t_sf(t, df),
            number(&case["sf"]),
            1e-11,
            &format!("t.sf({t}, {df})"),
        );
    }
    for case in cases("binomial_cdf") {
        let (k, n) = (
            case["k"].as_u64().expect("k"),
            case["n"].as_u64().expect("n"),
        );
        close(
            fair_binomial_cdf(k, n),
            number(&case["cdf"]),
            1e-11,
            &format!("binom.cdf({k}, {n})"),
        );
    }
}

#[test]
fn wilson_intervals_equal_statsmodels() {
    for case in cases("wilson") {
        let (s, n) = (
            case["successes"].as_u64().expect("s"),
            case["trials"].as_u64().expect("n"),
        );
        let confidence = number(&case["confidence"]);
        let i = wilson_interval(s, n, confidence).expect("interval");
        let what = format!("{s}/{n} at {confidence}");
        assert!(
            (i.low - number(&case["low"])).abs() < 1e-13,
            "{what}: low {}",
            i.low
        );
        assert!(
            (i.high - number(&case["high"])).abs() < 1e-13,
            "{what}: high {}",
            i.high
        );
    }
}

#[test]
fn mcnemar_equals_statsmodels_exact() {
    for case in cases("mcnemar") {
        let t = mcnemar_exact(
            &usizes(&case["truth"]),
            &usizes(&case["first"]),
            &usizes(&case["second"]),
        )
        .expect("test");
        assert_eq!(t.only_first_right, case["b"].as_u64().expect("b"));
        assert_eq!(t.only_second_right, case["c"].as_u64().expect("c"));
        close(t.p_value, number(&case["p_value"]), 1e-11, "McNemar p");
    }
}

#[test]
fn corrected_t_equals_the_formula_with_scipys_t() {
    for case in cases("corrected_t") {
        let t = corrected_resampled_t(
            &floats(&case["first"]),
            &floats(&case["second"]),
            number(&case["ratio"]),
        )
        .expect("test");
        close(t.t, number(&case["t"]), 1e-12, "t");
        close(t.p_value, number(&case["p_value"]), 1e-11, "p");
    }
}
