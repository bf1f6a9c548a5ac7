//! HTML and Markdown rendering of a report.

use std::fmt::Write as _;

use crate::StudyReport;
use crate::error::Result;
use crate::tables::{Cell, Tables, comparison_cells, config_cells, render};

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn html_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::from("<table>\n<thead><tr>");
    for h in headers {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{}</td>", escape(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
    out
}

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

fn confusion_html(report: &StudyReport) -> String {
    let mut out = String::new();
    for m in &report.methods {
        let _ = write!(
            out,
            "<h3>{} <small>(rows: true class, columns: predicted)</small></h3>\n<table class=\"cm\"><tr><th></th>",
            escape(&m.method)
        );
        for c in &report.classes {
            let _ = write!(out, "<th>{}</th>", escape(c));
        }
        out.push_str("</tr>\n");
        for (t, row) in m.confusion.iter().enumerate() {
            let total: usize = row.iter().sum::<usize>().max(1);
            let _ = write!(
                out,
                "<tr><th>{}</th>",
                escape(report.classes.get(t).map_or("?", |s| s.as_str()))
            );
            for (p, &count) in row.iter().enumerate() {
                let share = count as f64 / total as f64;
                let shade = if p == t {
                    format!("rgba(49,130,189,{share:.2})")
                } else {
                    format!("rgba(222,45,38,{share:.2})")
                };
                let _ = write!(out, "<td style=\"background:{shade}\">{count}</td>");
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</table>\n");
    }
    out
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
    chart_svg: &str,
    images: &[InlineImage],
) -> Result<String> {
    use base64::Engine as _;
    let comparison = render(
        &tables.comparison,
        &comparison_cells(&report.selection_metric),
    )?;
    let configs = render(&tables.configs, &config_cells(&report.selection_metric))?;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>sarlab report: {study}</title>
<style>
body {{ font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }}
th, td {{ border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; }}
th {{ background: #f0f0f0; }}
td:first-child, th:first-child {{ text-align: left; }}
table.cm td {{ min-width: 2.5em; text-align: center; }}
.meta td {{ text-align: left; }}
figure {{ margin: 1em 0; }}
small {{ color: #666; font-weight: normal; }}
</style></head><body>
<h1>Study <code>{study}</code></h1>
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
    let _ = writeln!(
        out,
        "<figure>{chart_svg}<figcaption>Metrics of each method's best configuration \
         (<a href=\"metrics.png\">PNG</a>, <a href=\"metrics.svg\">SVG</a>).</figcaption></figure>"
    );
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
    out.push_str("<h2>Test confusion matrices</h2>\n");
    out.push_str(&confusion_html(report));
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
    out.push_str(&html_table(
        &headers(&config_cells(&report.selection_metric)),
        &configs,
    ));
    out.push_str("<p><small>Generated by sarlab. CV values are mean ± population standard deviation over folds. \
                  See <a href=\"summary.md\">summary.md</a>.</small></p>\n</body></html>\n");
    Ok(out)
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
) -> Result<String> {
    let comparison = render(
        &tables.comparison,
        &comparison_cells(&report.selection_metric),
    )?;
    let configs = render(&tables.configs, &config_cells(&report.selection_metric))?;
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
    for image in images {
        out.push_str(&format!("\n![{}]({})\n", image.caption, image.file_name));
    }
    out.push_str("\n## Every configuration\n\n");
    out.push_str(&markdown_table(
        &headers(&config_cells(&report.selection_metric)),
        &configs,
    ));
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
