//! Text from files (class folder names, header fields, paths) made safe to print: a
//! terminal must never receive raw control characters from a dataset, which could
//! move the cursor, rewrite earlier output or break a table's lines.

use std::borrow::Cow;

/// `text` with every control character (C0, DEL, C1) and every bidirectional
/// override or isolate written as a Rust escape (`\u{1b}`, `\n`), and everything else
/// as it is.
///
/// ```
/// assert_eq!(sarlab_io::printable("T72\u{1b}[2J\n"), "T72\\u{1b}[2J\\n");
/// assert_eq!(sarlab_io::printable("BMP2 ×3"), "BMP2 ×3");
/// ```
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs_escape(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `text` for a terminal where its own line breaks and tabs are kept (an error
/// message, a multi-line report), every other control character escaped.
pub fn printable_lines(text: &str) -> Cow<'_, str> {
    if !text
        .chars()
        .any(|c| c != '\n' && c != '\t' && needs_escape(c))
    {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.split('\n')
            .map(|line| {
                line.split('\t')
                    .map(|part| printable(part).into_owned())
                    .collect::<Vec<_>>()
                    .join("\t")
            })
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// RFC 4180 quoting when a field needs it.
pub fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn control_characters_and_bidi_overrides_are_escaped() {
        assert_eq!(printable("a\tb\rc\u{7f}\u{9b}"), "a\\tb\\rc\\u{7f}\\u{9b}");
        assert_eq!(printable("evil\u{202e}txt"), "evil\\u{202e}txt");
        assert!(matches!(printable("plain 2S1"), Cow::Borrowed(_)));
        assert_eq!(
            printable_lines("one\n\ttwo\u{1b}]0;x\u{7}"),
            "one\n\ttwo\\u{1b}]0;x\\u{7}"
        );
    }

    proptest! {
        #[test]
        fn nothing_printable_keeps_a_control_character(text in any::<String>()) {
            let escaped = printable(&text);
            prop_assert!(!escaped.chars().any(needs_escape));
            let lines = printable_lines(&text);
            prop_assert!(!lines.chars().any(|c| c != '\n' && c != '\t' && needs_escape(c)));
            prop_assert_eq!(lines.matches('\n').count(), text.matches('\n').count());
        }
    }
}
