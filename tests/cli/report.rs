//! `sarlab report`: reports rebuilt from the database alone, and studies compared.

use crate::support::*;

/// The HTML between two markers of a page.
fn section<'a>(html: &'a str, from: &str, to: &str) -> &'a str {
    let start = html
        .find(from)
        .unwrap_or_else(|| panic!("{from} not on the page"));
    let end = html[start..].find(to).map_or(html.len(), |e| start + e);
    &html[start..end]
}

#[test]
fn a_report_is_rebuilt_from_the_database_alone() {
    let ws = Workspace::new();
    ws.write("tiny.toml", TINY_SPEC);
    assert_success(&ws.run_tiny(&[]));
    let runs_before = count(&ws.db("runs.db"), "SELECT COUNT(*) FROM runs");
    // The chips are gone: nothing can be recomputed.
    std::fs::remove_dir_all(ws.path("data")).expect("remove the dataset");
    let out = ws.sarlab(&[
        "report",
        "--db",
        "runs.db",
        "--experiment",
        "tiny",
        "--out",
        "rebuilt",
    ]);
    assert_success(&out);
    assert!(
        stdout(&out).contains("rebuilt from runs.db"),
        "{}",
        stdout(&out)
    );
    let original = std::fs::read_to_string(ws.path("out/tiny/index.html")).expect("original");
    let rebuilt = std::fs::read_to_string(ws.path("rebuilt/index.html")).expect("rebuilt");
    for (from, to) in [
        ("<h2>Feature methods compared</h2>", "<figure"),
        ("<h2>Uncertainty and significance</h2>", "<h2>Per class"),
        ("<h2>Every configuration", "<script>"),
    ] {
        // Compared whole, reported briefly (a section is many kilobytes of SVG).
        let (a, b) = (section(&original, from, to), section(&rebuilt, from, to));
        let at = a.chars().zip(b.chars()).position(|(x, y)| x != y);
        let context: String = at.map_or_else(String::new, |at| {
            a.chars().skip(at.saturating_sub(80)).take(160).collect()
        });
        assert!(
            a == b,
            "{from}: the rebuilt page differs at {at:?}: …{context}…"
        );
    }
    // Per class: the same, less the HOG glyphs the original draws from chips.
    let per_class =
        |html: &str| section(html, "<h2>Per class", "<h2>Every configuration").to_owned();
    let (a, b) = (per_class(&original), per_class(&rebuilt));
    assert!(
        a.starts_with(&b) && b.len() > 1000,
        "the per-class sections differ"
    );
    assert!(a[b.len()..].contains("HOG glyphs") && !b.contains("HOG glyphs"));
    assert_eq!(
        count(&ws.db("runs.db"), "SELECT COUNT(*) FROM runs"),
        runs_before,
        "a report records no run"
    );

    // By run id (a prefix), too.
    let study_run: String = ws
        .db("runs.db")
        .query_row("SELECT uuid FROM runs WHERE parent_uuid IS NULL", [], |r| {
            r.get(0)
        })
        .expect("study run");
    let out = ws.sarlab(&[
        "report",
        "--db",
        "runs.db",
        "--run",
        &study_run[..8],
        "--out",
        "by-id",
    ]);
    assert_success(&out);
    assert!(ws.path("by-id/index.html").is_file());
}

#[test]
fn what_cannot_be_reported_is_named() {
    let ws = Workspace::new();
    ws.write("tiny.toml", TINY_SPEC);
    assert_success(&ws.run_tiny(&[]));
    let out = ws.sarlab(&["report", "--db", "runs.db", "--experiment", "nope"]);
    assert_failure_mentions(&out, &["experiment `nope`", "no finished study run"]);
    let cv_run: String = ws
        .db("runs.db")
        .query_row(
            "SELECT r.uuid FROM runs r JOIN tags t ON t.run_id = r.id WHERE t.key = 'stage' AND t.value = 'cv' LIMIT 1",
            [],
            |r| r.get(0),
        )
        .expect("a cv run");
    let out = ws.sarlab(&["report", "--db", "runs.db", "--run", &cv_run]);
    assert_failure_mentions(&out, &["not a study run", "stage is `cv`"]);
    let out = ws.sarlab(&["report", "--db", "missing.db", "--experiment", "tiny"]);
    assert_failure_mentions(&out, &["no run database at missing.db"]);
    let out = ws.sarlab(&["report", "--db", "runs.db"]);
    assert_failure_mentions(&out, &["--experiment NAME or --run ID"]);
}

#[test]
fn the_same_spec_on_two_datasets_side_by_side() {
    let ws = Workspace::new();
    ws.write("tiny.toml", TINY_SPEC);
    assert_success(&ws.run_tiny(&[]));
    assert_success(&ws.synth("other", 23, 8, 4, 40));
    assert_success(&ws.run_tiny(&["--data", "other"]));
    let db = ws.db("runs.db");
    let studies = strings(
        &db,
        "SELECT uuid FROM runs WHERE parent_uuid IS NULL AND status = 'FINISHED' ORDER BY id",
    );
    assert_eq!(studies.len(), 2);
    let digests = strings(
        &db,
        "SELECT t.value FROM tags t JOIN runs r ON r.id = t.run_id
         WHERE r.parent_uuid IS NULL AND t.key = 'dataset_digest' ORDER BY r.id",
    );
    let out = ws.sarlab(&[
        "report",
        "--db",
        "runs.db",
        "--compare",
        &studies[0],
        &studies[1],
        "--out",
        "both",
    ]);
    assert_success(&out);
    let html = std::fs::read_to_string(ws.path("both/index.html")).expect("comparison");
    for digest in &digests {
        assert!(
            html.contains(&digest[..12]),
            "digest {digest} not on the page"
        );
    }
    for needle in [
        "Studies compared",
        "<td class=\"text\">raw</td>",
        "<td class=\"text\">hog</td>",
        "other",
    ] {
        assert!(html.contains(needle), "{needle} not on the page");
    }
    let out = ws.sarlab(&["report", "--db", "runs.db", "--compare", "tiny"]);
    assert!(!out.status.success(), "one study is not a comparison");
}
