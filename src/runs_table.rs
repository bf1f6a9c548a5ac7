//! Tables of runs for people: columns as wide as their widest cell (nothing is cut),
//! run names reduced to the parameters that tell the listed runs apart, integers
//! printed as integers.

use sarlab_track::StoredRun;

/// A metric value: an integer as an integer (`support_vectors 412`), anything else
/// with four decimals.
pub fn metric_text(value: f64) -> String {
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        format!("{value:.4}")
    }
}

/// Parameters that never tell runs apart, or that a name shows otherwise.
const UNNAMED: [&str; 2] = ["feature", "stage"];

/// Each run's name as `method key=value…` over the parameters whose values differ
/// between the listed runs of its experiment and method; runs without a feature
/// method (a study's own run) keep their name.
pub fn short_names(runs: &[StoredRun]) -> Vec<String> {
    runs.iter()
        .map(|run| {
            let Some(method) = run.params.get("feature") else {
                return run.name.clone();
            };
            let peers: Vec<&StoredRun> = runs
                .iter()
                .filter(|r| {
                    r.experiment == run.experiment && r.params.get("feature") == Some(method)
                })
                .collect();
            let mut name = method.to_string();
            for (key, value) in &run.params {
                if UNNAMED.contains(&key.as_str()) {
                    continue;
                }
                if peers.iter().any(|p| p.params.get(key) != Some(value)) {
                    name.push_str(&format!(" {key}={value}"));
                }
            }
            name
        })
        .collect()
}

/// Renders `rows` under `headers`, each column as wide as its widest cell; columns
/// flagged in `numeric` are right-aligned, the last column is not padded.
pub fn render(headers: &[String], rows: &[Vec<String>], numeric: &[bool]) -> String {
    // Cells come from names and tags: a line break or escape sequence in one would
    // break the table's lines, so they are escaped before widths are measured.
    let escape = |cells: &[String]| -> Vec<String> {
        cells
            .iter()
            .map(|c| sarlab_io::printable(c).into_owned())
            .collect()
    };
    let headers = &escape(headers);
    let rows: &Vec<Vec<String>> = &rows.iter().map(|r| escape(r)).collect();
    let widths: Vec<usize> = (0..headers.len())
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .chain(std::iter::once(&headers[c]))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        let mut out = String::new();
        for (c, cell) in cells.iter().enumerate() {
            if c > 0 {
                out.push_str("  ");
            }
            let pad = widths[c].saturating_sub(cell.chars().count());
            let last = c + 1 == cells.len();
            match numeric.get(c).copied().unwrap_or(false) {
                true => {
                    out.push_str(&" ".repeat(pad));
                    out.push_str(cell);
                }
                false => {
                    out.push_str(cell);
                    if !last {
                        out.push_str(&" ".repeat(pad));
                    }
                }
            }
        }
        out.trim_end().to_owned()
    };
    let mut out = line(headers);
    out.push('\n');
    for row in rows {
        out.push_str(&line(row));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_print_as_integers() {
        assert_eq!(metric_text(412.0), "412");
        assert_eq!(metric_text(0.93125), "0.9313");
        assert_eq!(metric_text(f64::NAN), "NaN");
    }

    #[test]
    fn columns_fit_their_widest_cell() {
        let text = render(
            &["name".to_owned(), "f1".to_owned()],
            &[
                vec![
                    "hog orientations=12 pixels_per_cell=6".to_owned(),
                    "0.9".to_owned(),
                ],
                vec!["raw".to_owned(), "0.8812".to_owned()],
            ],
            &[false, true],
        );
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[1].starts_with("hog orientations=12 pixels_per_cell=6"));
        assert_eq!(lines[1].len(), lines[2].len(), "{text}");
        assert!(lines[2].ends_with("0.8812"));
    }
}
