//! `sarlab predict`: classify chips with a saved model.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use sarlab_io::safe_write::{Protected, refuse_overwrite};
use sarlab_model::inputs::{self, InputOptions};
use sarlab_model::output::{Columns, Scores, StreamFormat, TableWriter, Value};
use sarlab_model::{ChipPrediction, Model};
use sarlab_report::export::{Cell, TableFormat};

use crate::cli::PredictArgs;
use crate::model_commands::locate_model;

/// Where the predictions go.
enum Destination {
    Stream(StreamFormat),
    Parquet,
}

fn destination(path: &Path) -> Result<Destination> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    Ok(match extension.as_deref() {
        Some("csv") => Destination::Stream(StreamFormat::Csv),
        Some("json") => Destination::Stream(StreamFormat::Json),
        Some("parquet") => Destination::Parquet,
        _ => bail!(
            "--out {}: the format comes from the extension: .csv, .json or .parquet",
            path.display()
        ),
    })
}

pub fn predict(args: &PredictArgs) -> Result<()> {
    let (model_path, input_paths) = locate_model(
        args.db.as_deref(),
        args.run.as_deref(),
        args.best,
        args.experiment.as_deref(),
        args.metric,
        &args.paths,
    )?;
    let start = Instant::now();
    let model = Model::load(&model_path).context("cannot load the model")?;
    let load_ms = start.elapsed().as_secs_f64() * 1000.0;
    let options = InputOptions {
        split: args.split.map(Into::into),
        ..InputOptions::default()
    };
    let chips = inputs::collect(input_paths, &options).context("cannot read the inputs")?;
    let columns = Columns {
        decision_values: args.decision_values,
        probabilities: args.probability,
    };
    let mut scores = Scores::default();
    let start = Instant::now();
    if let Some(out) = &args.out {
        let mut protected: Vec<(PathBuf, Protected)> = chips
            .chips
            .iter()
            .map(|c| (c.path.clone(), Protected::Input))
            .collect();
        protected.push((model_path.clone(), Protected::Input));
        if let Some(db) = &args.db {
            protected.push((db.clone(), Protected::Database));
        }
        refuse_overwrite(std::slice::from_ref(out), &protected)?;
    }
    let destination = args.out.as_deref().map(destination).transpose()?;
    let names = model.prediction_columns(columns);
    match (&args.out, destination) {
        (Some(out), Some(Destination::Stream(format))) => {
            let mut failure = None;
            let written = sarlab_io::safe_write::write_atomic(out, |file| {
                let mut table = TableWriter::new(file, format, names.clone())?;
                let outcome = each_prediction(&model, &chips, args.probability, &mut scores, |p| {
                    table.row(&model.prediction_row(p, columns))
                });
                if let Err(e) = outcome {
                    failure = Some(e);
                    return Err(std::io::Error::other("prediction failed"));
                }
                table.finish().map(|_| ())
            });
            if let Some(e) = failure {
                return Err(e);
            }
            written.with_context(|| format!("cannot write {}", out.display()))?;
        }
        (Some(out), Some(Destination::Parquet)) => {
            let mut rows = Vec::new();
            each_prediction(&model, &chips, args.probability, &mut scores, |p| {
                rows.push(cells(model.prediction_row(p, columns)));
                Ok(())
            })?;
            sarlab_report::export::write_table(&names, &rows, TableFormat::Parquet, out)
                .with_context(|| format!("cannot write {}", out.display()))?;
        }
        _ => {
            let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
            let outcome = each_prediction(&model, &chips, args.probability, &mut scores, |p| {
                stdout.write_all(sarlab_io::printable_lines(&line(&model, p)).as_bytes())
            })
            .and_then(|()| stdout.flush().context("cannot write to standard output"));
            // A reader that stops early (`| head`) ends the listing, not the command.
            if let Err(e) = outcome
                && !e
                    .chain()
                    .filter_map(|c| c.downcast_ref::<std::io::Error>())
                    .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return Err(e);
            }
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    summarise(
        &model,
        &model_path,
        &chips,
        &scores,
        seconds,
        load_ms,
        args.out.as_deref(),
    );
    Ok(())
}

/// Predicts every chip, scoring the labelled ones and handing each answer to `write`
/// as its block is decided (so output streams with bounded memory).
fn each_prediction(
    model: &Model,
    chips: &sarlab_model::Inputs,
    probability: bool,
    scores: &mut Scores,
    mut write: impl FnMut(&ChipPrediction) -> std::io::Result<()>,
) -> Result<()> {
    let mut failed_write = None;
    let outcome = model.predict_chips(&chips.chips, probability, |block| {
        for p in &block {
            scores.add(model, p);
            if let Err(e) = write(p) {
                let message = format!("cannot write the predictions: {e}");
                failed_write = Some(e);
                return Err(sarlab_model::Error::Input(message));
            }
        }
        Ok(())
    });
    match (outcome, failed_write) {
        (Ok(()), _) => Ok(()),
        (Err(_), Some(e)) => Err(anyhow::Error::new(e).context("cannot write the predictions")),
        (Err(e), None) => Err(e).context("cannot predict"),
    }
}

/// `chip  predicted  [true]` for the terminal.
fn line(model: &Model, p: &ChipPrediction) -> String {
    let predicted = &model.classes()[p.predicted];
    match &p.truth {
        Some(truth) => format!("{}\t{predicted}\t(true {truth})\n", p.name),
        None => format!("{}\t{predicted}\n", p.name),
    }
}

fn cells(row: Vec<Value>) -> Vec<Option<Cell>> {
    row.into_iter()
        .map(|v| match v {
            Value::Text(t) => Some(Cell::Text(t)),
            Value::Int(i) => Some(Cell::Int(i)),
            Value::Real(r) => Some(Cell::Real(r)),
            Value::Missing => None,
        })
        .collect()
}

/// The summary on standard error: what was predicted, how fast, and the scores of the
/// labelled chips (the unknown classes named).
fn summarise(
    model: &Model,
    model_path: &Path,
    chips: &sarlab_model::Inputs,
    scores: &Scores,
    seconds: f64,
    load_ms: f64,
    out: Option<&Path>,
) {
    let n = chips.chips.len();
    let h = &model.header;
    let mut text = format!(
        "predicted {n} chip(s) with {} ({} features, {} of experiment {}) in {seconds:.2} s ({:.0} chips/s; model loaded in {load_ms:.1} ms)\n",
        model_path.display(),
        h.features.method,
        h.svm.kernel,
        h.source.experiment,
        n as f64 / seconds.max(1e-9),
    );
    if chips.skipped > 0 {
        text += &format!("skipped {} file(s) that are not chips\n", chips.skipped);
    }
    if !scores.unknown_classes.is_empty() {
        let listed: Vec<String> = scores
            .unknown_classes
            .iter()
            .map(|(class, count)| format!("{class}: {count}"))
            .collect();
        text += &format!(
            "not scored: {} labelled chip(s) of classes the model does not know ({}); the model's classes are {}\n",
            scores.unknown_classes.values().sum::<usize>(),
            listed.join(", "),
            model.classes().join(", ")
        );
    }
    if let Some((metrics, _)) = scores.metrics(model) {
        text += &format!(
            "scored {} labelled chip(s): accuracy {:.2} %, F1 macro {:.2} %, balanced accuracy {:.2} %\n",
            scores.scored(),
            100.0 * metrics.accuracy,
            100.0 * metrics.f1_macro,
            100.0 * metrics.balanced_accuracy
        );
    }
    if let Some(out) = out {
        text += &format!("wrote {}\n", out.display());
    }
    eprint!("{}", sarlab_io::printable_lines(&text));
}
