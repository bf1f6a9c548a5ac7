//! Reference fixtures: JSON files written by `scripts/fixtures/*.py` from numpy,
//! scikit-image, scikit-learn and scipy, and the test image those scripts build.

use std::path::Path;

use ndarray::Array2;
use serde_json::Value;

/// The fixture `name` under `<crate_dir>/tests/fixtures/` (pass
/// `env!("CARGO_MANIFEST_DIR")`).
pub fn load(crate_dir: &str, name: &str) -> Value {
    let path = Path::new(crate_dir).join("tests/fixtures").join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// A JSON number.
#[track_caller]
pub fn number(v: &Value) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("expected a number, got {v}"))
}

/// A JSON list of numbers.
#[track_caller]
pub fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected a list, got {v}"))
        .iter()
        .map(number)
        .collect()
}

/// A JSON list of non-negative integers.
#[track_caller]
pub fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected a list, got {v}"))
        .iter()
        .map(|x| {
            x.as_u64()
                .unwrap_or_else(|| panic!("expected an index, got {x}")) as usize
        })
        .collect()
}

/// A JSON list of equally long rows of numbers.
#[track_caller]
pub fn matrix(v: &Value) -> Array2<f64> {
    let rows: Vec<Vec<f64>> = v
        .as_array()
        .unwrap_or_else(|| panic!("expected a list of rows, got {v}"))
        .iter()
        .map(floats)
        .collect();
    let (n, d) = (rows.len(), rows.first().map_or(0, Vec::len));
    Array2::from_shape_vec((n, d), rows.into_iter().flatten().collect())
        .unwrap_or_else(|e| panic!("rows of unequal length: {e}"))
}

/// The fixture scripts' `test_image(rows, cols)`, term for term.
pub fn test_image(rows: usize, cols: usize) -> Array2<f64> {
    Array2::from_shape_fn((rows, cols), |(r, c)| {
        let (rf, cf) = (r as f64, c as f64);
        (0.37 * rf + 0.11 * cf).sin()
            + (0.05 * rf * cf).cos()
            + ((r * 31 + c * 17) % 13) as f64 / 13.0
    })
}
