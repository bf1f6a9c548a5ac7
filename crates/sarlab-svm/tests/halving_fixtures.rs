//! The halving schedule against scikit-learn's `HalvingGridSearchCV`
//! (`scripts/fixtures/halving.py`): the same candidates per rung and the same rows,
//! except that sarlab's last rung takes every row (see `sarlab_svm::halving_schedule`).

use sarlab_svm::{Halving, MinResources, halving_schedule};
use serde_json::Value;

fn usizes(value: &Value) -> Vec<usize> {
    value
        .as_array()
        .expect("a list")
        .iter()
        .map(|v| v.as_u64().expect("a count") as usize)
        .collect()
}

#[test]
fn rungs_match_scikit_learn_except_that_the_last_takes_every_row() {
    let fixture: Value =
        serde_json::from_str(include_str!("fixtures/halving.json")).expect("fixture");
    let cases = fixture["cases"].as_array().expect("cases");
    assert!(cases.len() > 500);
    for case in cases {
        let count = |key: &str| case[key].as_u64().expect("a count") as usize;
        let (candidates, samples, classes, folds) = (
            count("candidates"),
            count("samples"),
            count("classes"),
            count("folds"),
        );
        let factor = case["factor"].as_f64().expect("factor");
        let min_resources = case["min_resources"].as_str().expect("min_resources");
        let halving = Halving {
            factor,
            min_resources: min_resources
                .parse::<MinResources>()
                .expect("min_resources"),
        };
        let rungs =
            halving_schedule(&halving, candidates, samples, folds, classes, 0).expect("schedule");
        let what = format!(
            "{candidates} candidates, {samples} rows, {classes} classes, factor {factor}, min_resources {min_resources}"
        );
        let per_rung: Vec<usize> = rungs.iter().map(|r| r.candidates).collect();
        assert_eq!(per_rung, usizes(&case["n_candidates"]), "{what}");
        let resources: Vec<usize> = rungs.iter().map(|r| r.resources).collect();
        let last = resources.len() - 1;
        assert_eq!(
            resources[..last],
            usizes(&case["n_resources"])[..last],
            "{what}"
        );
        assert_eq!(resources[last], samples, "{what}");
    }
}
