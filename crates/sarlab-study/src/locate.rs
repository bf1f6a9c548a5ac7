//! Where a spec error is: the 1-based line of a byte offset, and the dotted key whose
//! key or value covers it (`preprocess.intensity`, `features[1].orientations`).

use std::ops::Range;

use toml::de::{DeTable, DeValue};

/// The 1-based line of byte offset `at` in `text`.
pub(crate) fn line_of(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The dotted key of `text` whose key or value covers `span`, innermost first.
pub(crate) fn key_at(text: &str, span: Range<usize>) -> Option<String> {
    let root = DeTable::parse(text).ok()?;
    let mut path = Vec::new();
    in_table(root.get_ref(), &span, &mut path).then(|| path.concat())
}

fn covers(outer: &Range<usize>, inner: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end.max(outer.start + 1)
}

fn in_table(table: &DeTable<'_>, span: &Range<usize>, path: &mut Vec<String>) -> bool {
    for (key, value) in table {
        let name = match path.is_empty() {
            true => key.get_ref().to_string(),
            false => format!(".{}", key.get_ref()),
        };
        path.push(name);
        if in_value(value.get_ref(), span, path)
            || covers(&key.span(), span)
            || covers(&value.span(), span)
        {
            return true;
        }
        path.pop();
    }
    false
}

fn in_value(value: &DeValue<'_>, span: &Range<usize>, path: &mut Vec<String>) -> bool {
    match value {
        DeValue::Table(table) => in_table(table, span, path),
        DeValue::Array(items) => items.iter().enumerate().any(|(i, item)| {
            if matches!(item.get_ref(), DeValue::Table(_)) {
                path.push(format!("[{i}]"));
                if in_value(item.get_ref(), span, path) {
                    return true;
                }
                path.pop();
                false
            } else {
                covers(&item.span(), span)
            }
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_by_the_span_of_their_values() {
        let text = "name = \"x\"\n[preprocess]\nintensity = [\"db\", \"loud\"]\n[[features]]\nmethod = \"raw\"\n[[features]]\nmethod = \"hog\"\norientations = 0\n";
        let at = |needle: &str| {
            let start = text.find(needle).expect("in the text");
            start..start + needle.len()
        };
        assert_eq!(
            key_at(text, at("\"loud\"")).as_deref(),
            Some("preprocess.intensity")
        );
        let zero = text.find("= 0").expect("orientations") + 2;
        assert_eq!(
            key_at(text, zero..zero + 1).as_deref(),
            Some("features[1].orientations")
        );
        assert_eq!(key_at(text, at("\"x\"")).as_deref(), Some("name"));
        assert_eq!(line_of(text, at("orientations").start), 8);
    }
}
