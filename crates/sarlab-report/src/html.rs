//! HTML and Markdown rendering of a report.

use std::fmt::Write as _;

use crate::StudyReport;
use crate::error::Result;
use crate::figure::Figure;
use crate::figures::Figures;
use crate::tables::{Cell, Tables, comparison_cells, render};

/// The page's head and opening body: one inline style sheet (no network), and a
/// viewport so that phones lay it out at their width.
pub(crate) fn page_head(title: &str) -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{STYLE}</style></head><body>
"#,
        title = escape(title)
    )
}

const STYLE: &str = r#"
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 2em auto; padding: 0 1em; max-width: 1200px; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
.scroll { overflow-x: auto; max-width: 100%; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; }
th { background: #f0f0f0; }
td.text, th.text, td:first-child, th:first-child { text-align: left; }
table.cm td { min-width: 2.5em; text-align: center; }
.meta td { text-align: left; word-break: break-word; }
figure { margin: 1em 0; }
figure svg, figure img { max-width: 100%; height: auto; }
.figures { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }
.figures figure { margin: 0; max-width: 100%; }
figcaption { font-size: 0.85em; color: #444; max-width: 672px; }
pre { white-space: pre-wrap; word-break: break-word; }
small { color: #666; font-weight: normal; }
"#;

pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A numeric cell (a number, a signed difference, an interval, a dash for none) is
/// right-aligned; any other text left-aligned.
fn is_numeric(cell: &str) -> bool {
    cell.chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '—' | '['))
        && !cell.chars().any(|c| c == '=')
}

/// A sortable table (click a header; see [`SORT_SCRIPT`]) that scrolls sideways on
/// its own when the page is narrower than it.
pub(crate) fn html_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::from("<div class=\"scroll\"><table class=\"sortable\">\n<thead><tr>");
    let numeric: Vec<bool> = (0..headers.len())
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .filter(|v| !v.is_empty())
                .all(|v| is_numeric(v))
        })
        .collect();
    for (h, &num) in headers.iter().zip(&numeric) {
        let class = if num { "" } else { " class=\"text\"" };
        let _ = write!(out, "<th{class}>{}</th>", escape(h));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        out.push_str("<tr>");
        for (c, cell) in row.iter().enumerate() {
            let class = match numeric.get(c) {
                Some(true) => "",
                _ => " class=\"text\"",
            };
            let _ = write!(out, "<td{class}>{}</td>", escape(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table></div>\n");
    out
}

/// Sorts a table by the clicked header, numbers numerically (the leading number of a
/// cell such as `97.15 ± 0.41`), text alphabetically; a second click reverses. Inline,
/// so the page stays one offline file.
pub(crate) const SORT_SCRIPT: &str = r#"<script>
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("thead th").forEach(function (th, column) {
    th.style.cursor = "pointer";
    th.title = "sort by this column";
    th.addEventListener("click", function () {
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var ascending = th.dataset.order !== "ascending";
      th.dataset.order = ascending ? "ascending" : "descending";
      var key = function (row) {
        var text = row.cells[column] ? row.cells[column].textContent.trim() : "";
        var number = parseFloat(text.replace(/^[\[+]/, ""));
        return isNaN(number) ? text : number;
      };
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        var order = (typeof x === "number" && typeof y === "number") ? x - y : String(x).localeCompare(String(y));
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
</script>
"#;

fn markdown_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = format!("| {} |\n", headers.join(" | "));
    out.push_str(&format!("|{}\n", "---|".repeat(headers.len())));
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| c.replace('|', "\\|")).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

fn headers(cells: &[(String, Cell)]) -> Vec<&str> {
    cells.iter().map(|(h, _)| h.as_str()).collect()
}

/// A figure inlined as SVG, with links to its SVG and PDF files.
fn figure_html(figure: &Figure) -> String {
    // The XML prolog of a standalone SVG file is not allowed inside HTML.
    let svg = figure
        .svg
        .trim_start()
        .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
        .unwrap_or(&figure.svg);
    format!(
        "<figure id=\"{stem}\">{svg}<figcaption>{caption} (<a href=\"{stem}.svg\">SVG</a>, <a href=\"{stem}.pdf\">PDF</a>)</figcaption></figure>\n",
        stem = escape(&figure.stem),
        caption = escape(&figure.caption),
    )
}

/// A PNG figure inlined into `index.html` as a data URI (the page stays one file).
pub(crate) struct InlineImage {
    pub file_name: String,
    pub caption: String,
    pub png: Vec<u8>,
}

/// The self-contained `index.html`: styles inline, the chart inlined as SVG, image
/// figures as PNG data URIs.
pub(crate) fn page(
    report: &StudyReport,
    tables: &Tables,
    chart: &Figure,
    images: &[InlineImage],
    figures: &Figures,
) -> Result<String> {
    use base64::Engine as _;
    let comparison = render(
        &tables.comparison,
        &comparison_cells(&report.selection_metric),
    )?;
    let mut out = String::new();
    out.push_str(&page_head(&format!("sarlab report: {}", report.study)));
    let _ = write!(
        out,
        r#"<h1>Study <code>{study}</code></h1>
<p>{headline}</p>
<table class="meta">
<tr><th>spec</th><td><code>{spec}</code> (seed {seed})</td></tr>
<tr><th>dataset</th><td><code>{dataset}</code>: {n_classes} classes, {train} train / {test} test chips</td></tr>
<tr><th>dataset digest</th><td><code>{digest}</code></td></tr>
<tr><th>cross-validation</th><td>stratified {folds}-fold on the train split; best configuration per method (by mean CV <code>{metric}</code>) refit on train, scored on test</td></tr>
<tr><th>runs</th><td><code>{db}</code>, study run <code>{parent}</code></td></tr>
<tr><th>git commit</th><td><code>{commit}</code></td></tr>
{provenance}</table>
<details><summary>spec TOML</summary><pre>{spec_toml}</pre></details>
<h2>Feature methods compared</h2>
"#,
        study = escape(&report.study),
        headline = headline(report, |s| format!("<b>{}</b>", escape(s))),
        spec = escape(&report.spec_path),
        seed = report.seed,
        dataset = escape(&report.dataset_path),
        n_classes = report.classes.len(),
        train = report.train_chips,
        test = report.test_chips,
        digest = escape(&report.dataset_digest),
        folds = report.folds,
        metric = escape(&report.selection_metric),
        db = escape(&report.db_path),
        parent = escape(&report.parent_run),
        commit = escape(&report.git_commit),
        provenance = report
            .provenance
            .iter()
            .map(|(k, v)| format!(
                "<tr><th>{}</th><td><code>{}</code></td></tr>\n",
                escape(k),
                escape(v)
            ))
            .collect::<String>(),
        spec_toml = escape(&report.spec_toml),
    );
    out.push_str(&html_table(
        &headers(&comparison_cells(&report.selection_metric)),
        &comparison,
    ));
    out.push_str(&figure_html(chart));
    out.push_str(&models_html(report));
    if !report.sweeps.is_empty() {
        out.push_str("<h2>What the swept parameters do</h2>\n");
        out.push_str(&html_table(
            &crate::sweep::SWEEP_HEADERS,
            &crate::sweep::sweep_rows(&report.sweeps),
        ));
        let _ = writeln!(
            out,
            "<p><small>{}</small></p>",
            escape(crate::sweep::SWEEP_EXPLANATION)
        );
        for (method, drawn) in &figures.sweeps {
            let _ = writeln!(out, "<h3>{}</h3>\n<div class=\"figures\">", escape(method));
            for figure in drawn {
                out.push_str(&figure_html(figure));
            }
            out.push_str("</div>\n");
        }
        if let Some(figure) = &figures.parallel {
            out.push_str(&figure_html(figure));
        }
    }
    let sig = &report.significance;
    if !sig.accuracy.is_empty() {
        out.push_str("<h2>Uncertainty and significance</h2>\n");
        out.push_str(&html_table(
            &crate::Significance::INTERVAL_HEADERS,
            &sig.interval_rows(),
        ));
        if !sig.pairs.is_empty() {
            let headers = sig.pair_headers();
            let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
            out.push_str(&html_table(&headers, &sig.pair_rows()));
        }
        let _ = writeln!(out, "<p><small>{}</small></p>", escape(&sig.explanation()));
    }
    if let Some(figure) = &figures.folds {
        out.push_str("<h2>Per fold</h2>\n");
        out.push_str(&figure_html(figure));
    }
    out.push_str("<h2>Per class and confusion matrices</h2>\n");
    for (method, drawn) in &figures.classes {
        let _ = writeln!(out, "<h3>{}</h3>", escape(method));
        if let Some(m) = report.methods.iter().find(|m| &m.method == method) {
            out.push_str(&html_table(
                &crate::per_class::HEADERS,
                &crate::per_class::rows(m),
            ));
        }
        out.push_str("<div class=\"figures\">\n");
        for figure in drawn {
            out.push_str(&figure_html(figure));
        }
        out.push_str("</div>\n");
    }
    for image in images {
        let _ = writeln!(
            out,
            "<figure><img alt=\"{caption}\" style=\"max-width: 100%\" src=\"data:image/png;base64,{data}\">\
             <figcaption>{caption} (<a href=\"{file}\">PNG</a>).</figcaption></figure>",
            caption = escape(&image.caption),
            data = base64::engine::general_purpose::STANDARD.encode(&image.png),
            file = escape(&image.file_name),
        );
    }
    out.push_str("<h2>Every configuration (cross-validation on train)</h2>\n");
    if report.configs.iter().any(|c| c.test.is_some()) {
        let _ = writeln!(
            out,
            "<p><small>Test columns score each tested configuration's train-only refit on the test split (with <code>svm.test = \"all\"</code>: every configuration, for ablation tables). They are outcomes: each method's configuration is chosen by mean CV {} alone.</small></p>",
            escape(&report.selection_metric)
        );
    }
    for table in crate::config_table::method_tables(report) {
        let _ = writeln!(
            out,
            "<h3>{}</h3>\n<p><small>Fixed settings: <code>{}</code></small></p>",
            escape(&table.method),
            escape(&table.fixed)
        );
        let headers: Vec<&str> = table.headers.iter().map(String::as_str).collect();
        out.push_str(&html_table(&headers, &table.rows));
    }
    out.push_str("<p><small>Generated by sarlab. CV values are mean ± population standard deviation over folds. \
                  See <a href=\"summary.md\">summary.md</a>.</small></p>\n");
    out.push_str(SORT_SCRIPT);
    out.push_str("</body></html>\n");
    Ok(out)
}

/// Each method's saved model (its test refit), linked, with how to use it. A list, not
/// a table: the links are markup, which table cells escape.
fn models_html(report: &StudyReport) -> String {
    let items: Vec<String> = report
        .methods
        .iter()
        .filter_map(|m| {
            let link = m.model.as_ref()?;
            Some(format!(
                "<li>{}: <a href=\"{}\"><code>{}</code></a> (test run <code>{}</code>)</li>",
                escape(&m.method),
                escape(link),
                escape(link.rsplit('/').next().unwrap_or(link)),
                escape(&m.test_run)
            ))
        })
        .collect();
    if items.is_empty() {
        return String::new();
    }
    format!(
        "<h3>Saved models</h3>\n<p><small>Each method's test refit, for <code>sarlab predict MODEL CHIPS…</code>:</small></p>\n<ul>\n{}\n</ul>\n",
        items.join("\n")
    )
}

/// The sentence that names the best method: chosen by the mean CV selection metric
/// (the report's methods come ordered by it), with its test numbers as the outcome.
/// `strong` marks up the emphasised parts.
fn headline(report: &StudyReport, strong: impl Fn(&str) -> String) -> String {
    let Some(best) = report.methods.first() else {
        return String::new();
    };
    format!(
        "Best feature method by mean CV {metric}: {method} ({cv} %); on the test split it scores \
         accuracy {accuracy} % and macro-F1 {f1} %.",
        metric = report.selection_metric,
        method = strong(&best.method),
        cv = strong(&format!(
            "{:.2} ± {:.2}",
            100.0 * best.cv_selection.0,
            100.0 * best.cv_selection.1
        )),
        accuracy = format_args!("{:.2}", 100.0 * best.test_accuracy),
        f1 = format_args!("{:.2}", 100.0 * best.test_f1_macro),
    )
}

/// `summary.md`: the comparison and every configuration as Markdown tables.
pub(crate) fn markdown(
    report: &StudyReport,
    tables: &Tables,
    images: &[InlineImage],
    figures: &Figures,
) -> Result<String> {
    let comparison = render(
        &tables.comparison,
        &comparison_cells(&report.selection_metric),
    )?;
    let mut out = format!(
        "# Study `{}`\n\nSpec `{}` (seed {}), dataset `{}` ({} classes, {} train / {} test chips, digest `{}`), \
         stratified {}-fold CV, best configuration per method by mean CV `{}`, runs in `{}` (study run `{}`), git commit `{}`.\n\n\
         {}\n\n## Feature methods compared\n\n",
        report.study,
        report.spec_path,
        report.seed,
        report.dataset_path,
        report.classes.len(),
        report.train_chips,
        report.test_chips,
        report.dataset_digest,
        report.folds,
        report.selection_metric,
        report.db_path,
        report.parent_run,
        report.git_commit,
        headline(report, |s| format!("**{s}**")),
    );
    out.push_str(&markdown_table(
        &headers(&comparison_cells(&report.selection_metric)),
        &comparison,
    ));
    out.push_str("\n![metrics](metrics.png)\n");
    if !report.sweeps.is_empty() {
        out.push_str("\n## What the swept parameters do\n\n");
        out.push_str(&markdown_table(
            &crate::sweep::SWEEP_HEADERS,
            &crate::sweep::sweep_rows(&report.sweeps),
        ));
        out.push_str(&format!("\n{}\n", crate::sweep::SWEEP_EXPLANATION));
        for figure in figures
            .sweeps
            .iter()
            .flat_map(|(_, f)| f)
            .chain(&figures.parallel)
        {
            out.push_str(&format!("\n![{}]({}.svg)\n", figure.caption, figure.stem));
        }
    }
    let sig = &report.significance;
    if !sig.accuracy.is_empty() {
        out.push_str("\n## Uncertainty and significance\n\n");
        out.push_str(&markdown_table(
            &crate::Significance::INTERVAL_HEADERS,
            &sig.interval_rows(),
        ));
        if !sig.pairs.is_empty() {
            let headers = sig.pair_headers();
            let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
            out.push('\n');
            out.push_str(&markdown_table(&headers, &sig.pair_rows()));
        }
        out.push_str(&format!("\n{}\n", sig.explanation()));
    }
    if let Some(figure) = &figures.folds {
        out.push_str(&format!(
            "\n## Per fold\n\n![{}]({}.svg)\n",
            figure.caption, figure.stem
        ));
    }
    out.push_str("\n## Per class\n");
    for (method, drawn) in &figures.classes {
        out.push_str(&format!("\n### {method}\n\n"));
        if let Some(m) = report.methods.iter().find(|m| &m.method == method) {
            out.push_str(&markdown_table(
                &crate::per_class::HEADERS,
                &crate::per_class::rows(m),
            ));
        }
        for figure in drawn {
            out.push_str(&format!("\n![{}]({}.svg)\n", figure.caption, figure.stem));
        }
    }
    for image in images {
        out.push_str(&format!("\n![{}]({})\n", image.caption, image.file_name));
    }
    out.push_str("\n## Every configuration\n");
    if report.configs.iter().any(|c| c.test.is_some()) {
        out.push_str(&format!(
            "\nTest columns score each tested configuration's train-only refit on the test split (with `svm.test = \"all\"`: every configuration, for ablation tables). They are outcomes: each method's configuration is chosen by mean CV {} alone.\n",
            report.selection_metric
        ));
    }
    for table in crate::config_table::method_tables(report) {
        out.push_str(&format!(
            "\n### {}\n\nFixed settings: `{}`\n\n",
            table.method, table.fixed
        ));
        let headers: Vec<&str> = table.headers.iter().map(String::as_str).collect();
        out.push_str(&markdown_table(&headers, &table.rows));
    }
    if !report.provenance.is_empty() || !report.spec_toml.is_empty() {
        out.push_str("\n## Provenance\n\n");
        for (k, v) in &report.provenance {
            out.push_str(&format!("- {k}: `{v}`\n"));
        }
        out.push_str(&format!(
            "\n```toml\n{}\n```\n",
            report.spec_toml.trim_end()
        ));
    }
    Ok(out)
}
