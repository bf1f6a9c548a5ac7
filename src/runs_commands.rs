//! `sarlab runs …` and `sarlab merge`: reading the run database back.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use sarlab_io::safe_write::{Protected, refuse_overwrite};
use sarlab_report::export::{Cell, TableFormat, write_table};
use sarlab_track::{
    Field, Filter, OrderBy, ParamValue, RunQuery, Store, StoredRun, mean_std, utc_text,
};
use serde_json::{Value, json};

use crate::cli::{
    ExportFormat, MergeArgs, RunSelection, RunsBestArgs, RunsCompareArgs, RunsExportArgs,
    RunsListArgs, RunsShowArgs,
};
use crate::runs_table;

/// `print!` into the command's output buffer (writing to a `String` cannot fail).
macro_rules! say {
    ($out:expr, $($arg:tt)*) => {{
        let _ = std::fmt::Write::write_fmt($out, format_args!($($arg)*));
    }};
}

/// `println!` into the command's output buffer.
macro_rules! sayln {
    ($out:expr) => {
        $out.push('\n')
    };
    ($out:expr, $($arg:tt)*) => {{
        say!($out, $($arg)*);
        $out.push('\n');
    }};
}

/// How a command's output is read: by people (control characters from names and
/// tags are escaped, so a run name cannot drive the terminal) or by programs (JSON,
/// CSV: written as the format escapes it).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reader {
    Person,
    Program,
}

impl Reader {
    fn of_json(json: bool) -> Self {
        if json {
            Reader::Program
        } else {
            Reader::Person
        }
    }
}

/// Runs a command that writes into a buffer, then prints the buffer; a closed pipe
/// (`sarlab runs list | head`) ends the output quietly instead of panicking.
fn emitted(reader: Reader, command: impl FnOnce(&mut String) -> Result<()>) -> Result<()> {
    use std::io::Write;
    let mut out = String::new();
    let result = command(&mut out);
    let text = match reader {
        Reader::Person => sarlab_io::printable_lines(&out),
        Reader::Program => std::borrow::Cow::Borrowed(out.as_str()),
    };
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => {
            return Err(err).context("cannot write to standard output");
        }
        _ => {}
    }
    result
}

/// Opens an existing run database (a missing file is an error, not a new database).
pub(crate) fn open_existing(db: &Path) -> Result<Store> {
    if !db.is_file() {
        bail!(
            "no run database at {} (pass --db, or run a study first)",
            db.display()
        );
    }
    Store::open(db).with_context(|| format!("cannot open run database {}", db.display()))
}

fn query_of(selection: &RunSelection) -> Result<RunQuery> {
    let filter = selection
        .filter
        .as_deref()
        .map(|text| {
            Filter::parse(text).map_err(|e| {
                anyhow::anyhow!(
                    "--filter {e}\n  {text}\n  {}^",
                    " ".repeat(e.column.saturating_sub(1))
                )
            })
        })
        .transpose()?;
    Ok(RunQuery {
        experiment: selection.experiment.clone(),
        filter,
        ..Default::default()
    })
}

pub fn list(args: &RunsListArgs) -> Result<()> {
    emitted(Reader::of_json(args.json), |out| list_into(args, out))
}

fn list_into(args: &RunsListArgs, out: &mut String) -> Result<()> {
    let store = open_existing(&args.selection.db)?;
    let mut query = query_of(&args.selection)?;
    query.order_by = args
        .order_by
        .as_deref()
        .map(|text| OrderBy::parse(text).map_err(|e| anyhow::anyhow!("--order-by {e}")))
        .transpose()?;
    query.limit = (args.limit > 0).then_some(args.limit);
    let listing = store.list_runs(&query)?;
    if args.json {
        let runs = listing
            .runs
            .iter()
            .map(|summary| store.run(&summary.uuid).map(|run| run.to_json()))
            .collect::<Result<Vec<_>, _>>()?;
        sayln!(
            out,
            "{}",
            serde_json::to_string_pretty(&json!({ "matched": listing.matched, "runs": runs }))?
        );
        return Ok(());
    }
    let order_name = query.order_by.as_ref().map(|o| o.field.name());
    let runs = listing
        .runs
        .iter()
        .map(|summary| store.run(&summary.uuid))
        .collect::<Result<Vec<_>, _>>()?;
    let mut metrics = match &args.metrics {
        Some(keys) => keys.clone(),
        None => selection_metrics(&runs),
    };
    // The ordering field already has its column.
    metrics.retain(|k| order_name.as_deref() != Some(format!("metrics.{k}").as_str()));
    let mut headers: Vec<String> = ["run", "status", "started (UTC)", "experiment", "stage"]
        .map(str::to_owned)
        .to_vec();
    if let Some(name) = &order_name {
        headers.push(name.clone());
    }
    headers.extend(metrics.iter().cloned());
    headers.push("name".to_owned());
    let mut numeric = vec![false; 5];
    numeric.extend(std::iter::repeat_n(true, headers.len() - 6));
    numeric.push(false);
    let names = runs_table::short_names(&runs);
    let rows: Vec<Vec<String>> = listing
        .runs
        .iter()
        .zip(&runs)
        .zip(names)
        .map(|((summary, run), name)| {
            let mut row = vec![
                summary.uuid[..8.min(summary.uuid.len())].to_owned(),
                summary.status.as_str().to_owned(),
                utc_text(summary.start_ms),
                summary.experiment.clone(),
                run.tags
                    .get("stage")
                    .cloned()
                    .unwrap_or_else(|| "-".to_owned()),
            ];
            if order_name.is_some() {
                row.push(
                    summary
                        .order_value
                        .as_ref()
                        .map_or("-".to_owned(), |v| match v {
                            ParamValue::Real(r) => runs_table::metric_text(*r),
                            other => other.to_string(),
                        }),
                );
            }
            let headline = run.headline_metrics();
            for key in &metrics {
                row.push(
                    headline
                        .get(key.as_str())
                        .map_or("-".to_owned(), |v| runs_table::metric_text(*v)),
                );
            }
            row.push(name);
            row
        })
        .collect();
    say!(out, "{}", runs_table::render(&headers, &rows, &numeric));
    if listing.runs.len() < listing.matched {
        sayln!(
            out,
            "({} of {} matching runs; --limit 0 shows all)",
            listing.runs.len(),
            listing.matched
        );
    } else {
        sayln!(out, "({} runs)", listing.matched);
    }
    Ok(())
}

pub fn show(args: &RunsShowArgs) -> Result<()> {
    emitted(Reader::of_json(args.json), |out| show_into(args, out))
}

fn show_into(args: &RunsShowArgs, out: &mut String) -> Result<()> {
    let store = open_existing(&args.db)?;
    let uuid = store.resolve_run(&args.id)?;
    let run = store.run(&uuid)?;
    if args.json {
        let mut value = run.to_json();
        value["metric_steps"] = run
            .metrics
            .iter()
            .map(|m| json!({ "key": m.key, "step": m.step, "value": m.value }))
            .collect();
        sayln!(out, "{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    sayln!(out, "run         {}", run.uuid);
    sayln!(out, "name        {}", run.name);
    sayln!(out, "experiment  {}", run.experiment);
    sayln!(out, "status      {}", run.status.as_str());
    if let Some(reason) = &run.failure_reason {
        sayln!(out, "reason      {reason}");
    }
    sayln!(out, "started     {} UTC", utc_text(run.start_ms));
    if let Some(end) = run.end_ms {
        sayln!(
            out,
            "ended       {} UTC ({:.1} s)",
            utc_text(end),
            (end - run.start_ms) as f64 / 1000.0
        );
    }
    if let Some(parent) = &run.parent {
        sayln!(out, "parent      {parent}");
    }
    sayln!(out, "config hash {}", run.config_hash);
    sayln!(out, "\nparameters");
    for (key, value) in &run.params {
        sayln!(out, "  {key:<28} {value}");
    }
    sayln!(
        out,
        "\nmetrics (per-fold metrics: mean ± std over folds, then each fold's value in brackets)"
    );
    for (key, all) in &run.all_metric_steps() {
        let (mean, std) = mean_std(all);
        if all.len() > 1 {
            let list: Vec<String> = all.iter().map(|v| format!("{v:.4}")).collect();
            sayln!(
                out,
                "  {key:<28} {mean:.6} ± {std:.6}  [{}]",
                list.join(", ")
            );
        } else {
            sayln!(out, "  {key:<28} {mean:.6}");
        }
    }
    sayln!(out, "\ntags");
    for (key, value) in &run.tags {
        let one_line = value.replace('\n', " ");
        let shown: String = one_line.chars().take(100).collect();
        let more = if one_line.chars().count() > 100 {
            "…"
        } else {
            ""
        };
        sayln!(out, "  {key:<28} {shown}{more}");
    }
    Ok(())
}

pub fn compare(args: &RunsCompareArgs) -> Result<()> {
    emitted(Reader::Person, |out| compare_into(args, out))
}

fn compare_into(args: &RunsCompareArgs, out: &mut String) -> Result<()> {
    let store = open_existing(&args.db)?;
    let runs = args
        .ids
        .iter()
        .map(|id| store.resolve_run(id).and_then(|uuid| store.run(&uuid)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut headers = vec![String::new()];
    headers.extend(
        runs.iter()
            .map(|r| r.uuid[..8.min(r.uuid.len())].to_owned()),
    );
    let numeric: Vec<bool> = (0..headers.len()).map(|c| c > 0).collect();
    let keys: std::collections::BTreeSet<&String> =
        runs.iter().flat_map(|r| r.params.keys()).collect();
    let mut rows = Vec::new();
    for key in keys {
        let values: Vec<Option<&ParamValue>> = runs.iter().map(|r| r.params.get(key)).collect();
        if !args.all_params && values.iter().all(|v| *v == values[0]) {
            continue;
        }
        let mut row = vec![format!("  {key}")];
        row.extend(
            values
                .iter()
                .map(|v| v.map_or("-".to_owned(), ToString::to_string)),
        );
        rows.push(row);
    }
    let parameters = rows.len();
    sayln!(
        out,
        "parameters{}{}",
        if args.all_params { "" } else { " that differ" },
        if parameters == 0 {
            ": none, the runs have the same parameters"
        } else {
            ""
        }
    );
    let last: Vec<BTreeMap<&str, f64>> = runs.iter().map(StoredRun::headline_metrics).collect();
    let keys: Vec<&str> = match &args.metrics {
        Some(keys) => keys.iter().map(String::as_str).collect(),
        None => last
            .iter()
            .flat_map(|m| m.keys().copied())
            .collect::<std::collections::BTreeSet<&str>>()
            .into_iter()
            .collect(),
    };
    let mut metric_rows = Vec::new();
    for key in keys {
        let values: Vec<Option<f64>> = last.iter().map(|m| m.get(key).copied()).collect();
        // The best value of a score (accuracy, precision, recall, F1) is marked: the
        // largest, or the smallest of its spread over folds. Counts and times are not
        // better or worse.
        let score = ["accuracy", "precision", "recall", "f1"]
            .iter()
            .any(|s| key.contains(s));
        let lower_is_better = key.ends_with("_std");
        let best = values
            .iter()
            .flatten()
            .copied()
            .filter(|v| v.is_finite() && score)
            .reduce(|a, b| if (b > a) != lower_is_better { b } else { a });
        let several = values.iter().flatten().count() > 1;
        let mut row = vec![format!("  {key}")];
        row.extend(values.iter().map(|v| match v {
            Some(v) if several && Some(*v) == best => format!("*{}", runs_table::metric_text(*v)),
            Some(v) => runs_table::metric_text(*v),
            None => "-".to_owned(),
        }));
        metric_rows.push(row);
    }
    let mut all = rows;
    all.push(vec![
        "metrics (per-fold metrics: mean over folds; * the best)".to_owned(),
    ]);
    all.extend(metric_rows);
    // The section line is a row of one cell: give it the other columns empty.
    for row in &mut all {
        row.resize(headers.len(), String::new());
    }
    say!(out, "{}", runs_table::render(&headers, &all, &numeric));
    Ok(())
}

/// The selection metrics the listed runs' studies name (`f1_macro` when none do).
fn selection_metrics(runs: &[StoredRun]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for run in runs {
        if let Some(metric) = run.tags.get("selection_metric")
            && !out.contains(metric)
        {
            out.push(metric.clone());
        }
    }
    if out.is_empty() {
        out.push("f1_macro".to_owned());
    }
    out
}

pub fn best(args: &RunsBestArgs) -> Result<()> {
    emitted(Reader::of_json(args.json), |out| best_into(args, out))
}

fn best_into(args: &RunsBestArgs, out: &mut String) -> Result<()> {
    let store = open_existing(&args.selection.db)?;
    let mut query = query_of(&args.selection)?;
    if args.stage != "any" {
        let stage = Filter::parse(&format!("params.stage = '{}'", args.stage))
            .map_err(|e| anyhow::anyhow!("--stage: {e}"))?;
        query.filter = Some(match query.filter.take() {
            Some(filter) => Filter::And(Box::new(filter), Box::new(stage)),
            None => stage,
        });
    }
    let group_by = args
        .group_by
        .as_deref()
        .map(|text| Field::parse(text).map_err(|e| anyhow::anyhow!("--group-by {e}")))
        .transpose()?;
    let best = store.best_runs(&query, &args.metric, group_by.as_ref(), !args.minimize)?;
    if args.json {
        let rows: Vec<Value> = best
            .iter()
            .map(|b| {
                json!({
                    "group": b.group.as_ref().map(ParamValue::to_json),
                    "uuid": b.uuid,
                    "name": b.name,
                    "value": b.value,
                    "candidates": b.candidates,
                })
            })
            .collect();
        sayln!(
            out,
            "{}",
            serde_json::to_string_pretty(&json!({ "metric": args.metric, "best": rows }))?
        );
        return Ok(());
    }
    if best.is_empty() {
        sayln!(
            out,
            "no FINISHED {}run has metric `{}`",
            if args.stage == "any" {
                String::new()
            } else {
                format!("stage-{} ", args.stage)
            },
            args.metric
        );
        return Ok(());
    }
    let group_name = group_by.as_ref().map_or("all runs".to_owned(), Field::name);
    sayln!(
        out,
        "{:<20}  {:>12}  {:>5}  {:<8}  name",
        group_name,
        args.metric,
        "of",
        "run"
    );
    for b in &best {
        let group = b.group.as_ref().map_or("-".to_owned(), |g| g.to_string());
        sayln!(
            out,
            "{group:<20}  {:>12.6}  {:>5}  {:<8}  {}",
            b.value,
            b.candidates,
            &b.uuid[..8.min(b.uuid.len())],
            b.name
        );
    }
    Ok(())
}

pub fn export(args: &RunsExportArgs) -> Result<()> {
    emitted(Reader::Program, |out| export_into(args, out))
}

fn export_into(args: &RunsExportArgs, out: &mut String) -> Result<()> {
    // Before anything is opened or written: the export must not land on the database
    // it reads (or its -wal/-shm), by path, symlink or hard link, nor on any other
    // SQLite file.
    refuse_overwrite(
        std::slice::from_ref(&args.out),
        &[(args.selection.db.clone(), Protected::Database)],
    )?;
    if is_sqlite_file(&args.out) {
        bail!(
            "refusing to write {}: it is a SQLite database; choose another output path",
            args.out.display()
        );
    }
    let store = open_existing(&args.selection.db)?;
    let query = query_of(&args.selection)?;
    let table = store.run_table(&query)?;
    let rows: Vec<Vec<Option<Cell>>> = table
        .rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|value| {
                    value.as_ref().map(|v| match v {
                        ParamValue::Int(i) => Cell::Int(*i),
                        ParamValue::Real(r) => Cell::Real(*r),
                        ParamValue::Text(t) => Cell::Text(t.clone()),
                    })
                })
                .collect()
        })
        .collect();
    let format = match args.format {
        ExportFormat::Csv => TableFormat::Csv,
        ExportFormat::Parquet => TableFormat::Parquet,
        ExportFormat::Json => TableFormat::Json,
    };
    write_table(&table.columns, &rows, format, &args.out)
        .with_context(|| format!("cannot export runs to {}", args.out.display()))?;
    sayln!(
        out,
        "wrote {} runs × {} columns to {}",
        rows.len(),
        table.columns.len(),
        args.out.display()
    );
    Ok(())
}

/// Whether `path` is an existing file that starts with SQLite's header.
fn is_sqlite_file(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 16];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|()| &magic == b"SQLite format 3\0")
}

pub fn merge(args: &MergeArgs) -> Result<()> {
    let mut out = Store::open(&args.out)
        .with_context(|| format!("cannot open run database {}", args.out.display()))?;
    for input in &args.inputs {
        if !input.is_file() {
            bail!("no run database at {}", input.display());
        }
        let counts = out.merge_from(input).with_context(|| {
            format!(
                "cannot merge {} into {}",
                input.display(),
                args.out.display()
            )
        })?;
        println!(
            "{}: {} runs added, {} already present{}",
            input.display(),
            counts.runs_added,
            counts.runs_skipped,
            if counts.experiments_added > 0 {
                format!(", {} new experiment(s)", counts.experiments_added)
            } else {
                String::new()
            }
        );
    }
    Ok(())
}
