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

/// An unknown key of the spec, located: serde reports it at its table (the header
/// line); this finds the key's own line and the known key it is closest to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct UnknownKey {
    /// Dotted, e.g. `preprocess.intensty`.
    pub key: String,
    pub line: usize,
    pub known: Vec<String>,
    pub suggestion: Option<String>,
}

/// Reads serde's "unknown field `k`, expected one of `a`, `b`" reported at `span`.
pub(crate) fn unknown_key(text: &str, span: Range<usize>, message: &str) -> Option<UnknownKey> {
    let rest = message.strip_prefix("unknown field `")?;
    let (name, expected) = rest.split_once('`')?;
    let known: Vec<String> = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect();
    let root = DeTable::parse(text).ok()?;
    let mut found = Vec::new();
    keys_named(root.get_ref(), name, "", &mut found);
    let parent = key_at(text, span);
    let (key, at) = found
        .iter()
        .find(|(key, _)| {
            parent.as_deref().is_some_and(|p| {
                key.strip_prefix(p)
                    .is_some_and(|tail| tail == format!(".{name}"))
            })
        })
        .or_else(|| found.first())
        .cloned()?;
    let suggestion = closest(name, &known);
    Some(UnknownKey {
        key,
        line: line_of(text, at),
        known,
        suggestion,
    })
}

/// Every key called `name`, dotted, with where it starts.
fn keys_named(table: &DeTable<'_>, name: &str, prefix: &str, out: &mut Vec<(String, usize)>) {
    for (key, value) in table {
        let dotted = match prefix.is_empty() {
            true => key.get_ref().to_string(),
            false => format!("{prefix}.{}", key.get_ref()),
        };
        if key.get_ref() == name {
            out.push((dotted.clone(), key.span().start));
        }
        match value.get_ref() {
            DeValue::Table(inner) => keys_named(inner, name, &dotted, out),
            DeValue::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if let DeValue::Table(inner) = item.get_ref() {
                        keys_named(inner, name, &format!("{dotted}[{i}]"), out);
                    }
                }
            }
            _ => {}
        }
    }
}

/// The known name nearest `name` by edit distance, if it is near enough to be a typo
/// (at most a third of its letters differ).
pub(crate) fn closest(name: &str, known: &[String]) -> Option<String> {
    known
        .iter()
        .map(|k| (edit_distance(name, k), k))
        .filter(|(d, k)| *d <= (k.chars().count().max(name.chars().count()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k.clone())
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != cb));
            diagonal = above;
        }
    }
    row[b.len()]
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

    #[test]
    fn an_unknown_key_is_found_at_its_own_line_with_the_nearest_known_key() {
        let text = "name = \"x\"\n[preprocess]\ncrop = 32\nintensty = \"db\"\n";
        let header = text.find("[preprocess]").expect("header");
        let found = unknown_key(
            text,
            header..header + 12,
            "unknown field `intensty`, expected one of `crop`, `intensity`, `speckle`",
        )
        .expect("located");
        assert_eq!(found.key, "preprocess.intensty");
        assert_eq!(found.line, 4);
        assert_eq!(found.suggestion.as_deref(), Some("intensity"));
        assert_eq!(found.known, ["crop", "intensity", "speckle"]);
        assert_eq!(closest("zzzzzz", &found.known), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
