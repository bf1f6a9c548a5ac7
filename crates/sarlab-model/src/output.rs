//! Predictions as a table (one row per chip) and as CSV or JSON written while chips
//! are predicted, and the scores of the labelled ones.

use std::collections::BTreeMap;
use std::io::Write;

use sarlab_svm::ClassificationMetrics;

use crate::model::Model;
use crate::predict::ChipPrediction;

/// Which columns a predictions table has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Columns {
    pub decision_values: bool,
    pub probabilities: bool,
}

/// One cell of a predictions table.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Int(i64),
    Real(f64),
    Missing,
}

impl Model {
    /// Column names: `chip`, `true_class`, `predicted`, `votes_<class>` per class,
    /// then `decision_<a>_vs_<b>` per pair machine (a linear model: `decision_<class>`
    /// per one-vs-rest machine, `decision_<b>_vs_<a>` for two classes) and `p_<class>`
    /// when asked for.
    pub fn prediction_columns(&self, columns: Columns) -> Vec<String> {
        let classes = self.classes();
        let mut names = vec![
            "chip".to_owned(),
            "true_class".to_owned(),
            "predicted".to_owned(),
        ];
        names.extend(classes.iter().map(|c| format!("votes_{c}")));
        if columns.decision_values {
            names.extend(
                self.fitted
                    .classifier
                    .decision_names(classes)
                    .into_iter()
                    .map(|name| format!("decision_{name}")),
            );
        }
        if columns.probabilities {
            names.extend(classes.iter().map(|c| format!("p_{c}")));
        }
        names
    }

    /// The cells of one chip's row, in [`Model::prediction_columns`] order.
    pub fn prediction_row(&self, p: &ChipPrediction, columns: Columns) -> Vec<Value> {
        let mut row = vec![
            Value::Text(p.name.clone()),
            p.truth.clone().map_or(Value::Missing, Value::Text),
            Value::Text(self.classes()[p.predicted].clone()),
        ];
        row.extend(p.votes.iter().map(|&v| Value::Int(i64::from(v))));
        if columns.decision_values {
            row.extend(p.decision_values.iter().map(|&v| Value::Real(v)));
        }
        if columns.probabilities {
            match &p.probabilities {
                Some(values) => row.extend(values.iter().map(|&v| Value::Real(v))),
                None => row.extend(self.classes().iter().map(|_| Value::Missing)),
            }
        }
        row
    }
}

/// A table written row by row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamFormat {
    Csv,
    /// One JSON array of row objects.
    Json,
}

/// Writes rows as they come; `finish` closes the table.
#[derive(Debug)]
pub struct TableWriter<W: Write> {
    out: W,
    format: StreamFormat,
    columns: Vec<String>,
    rows: usize,
}

impl<W: Write> TableWriter<W> {
    pub fn new(mut out: W, format: StreamFormat, columns: Vec<String>) -> std::io::Result<Self> {
        match format {
            StreamFormat::Csv => {
                let header: Vec<String> = columns.iter().map(|c| csv_field(c)).collect();
                writeln!(out, "{}", header.join(","))?;
            }
            StreamFormat::Json => out.write_all(b"[")?,
        }
        Ok(Self {
            out,
            format,
            columns,
            rows: 0,
        })
    }

    pub fn row(&mut self, cells: &[Value]) -> std::io::Result<()> {
        match self.format {
            StreamFormat::Csv => {
                let fields: Vec<String> = cells
                    .iter()
                    .map(|cell| match cell {
                        Value::Text(t) => csv_field(t),
                        Value::Int(i) => i.to_string(),
                        Value::Real(r) => r.to_string(),
                        Value::Missing => String::new(),
                    })
                    .collect();
                writeln!(self.out, "{}", fields.join(","))?;
            }
            StreamFormat::Json => {
                let object: serde_json::Map<String, serde_json::Value> = self
                    .columns
                    .iter()
                    .zip(cells)
                    .map(|(name, cell)| {
                        let value = match cell {
                            Value::Text(t) => serde_json::Value::from(t.as_str()),
                            Value::Int(i) => serde_json::Value::from(*i),
                            Value::Real(r) => serde_json::Value::from(*r),
                            Value::Missing => serde_json::Value::Null,
                        };
                        (name.clone(), value)
                    })
                    .collect();
                if self.rows > 0 {
                    self.out.write_all(b",")?;
                }
                self.out.write_all(b"\n")?;
                serde_json::to_writer(&mut self.out, &object)?;
            }
        }
        self.rows += 1;
        Ok(())
    }

    pub fn finish(mut self) -> std::io::Result<W> {
        if self.format == StreamFormat::Json {
            self.out.write_all(b"\n]\n")?;
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

use sarlab_io::csv_field;

/// The labelled chips' scores: those whose true class the model knows are scored;
/// the others are counted by class, never scored as errors or dropped silently.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scores {
    truth: Vec<usize>,
    predicted: Vec<usize>,
    /// Labelled chips of classes the model does not have, per class name.
    pub unknown_classes: BTreeMap<String, usize>,
    /// Chips without a true class.
    pub unlabelled: usize,
}

impl Scores {
    pub fn add(&mut self, model: &Model, prediction: &ChipPrediction) {
        match &prediction.truth {
            None => self.unlabelled += 1,
            Some(class) => match model.classes().iter().position(|c| c == class) {
                Some(index) => {
                    self.truth.push(index);
                    self.predicted.push(prediction.predicted);
                }
                None => *self.unknown_classes.entry(class.clone()).or_default() += 1,
            },
        }
    }

    /// Chips scored.
    pub fn scored(&self) -> usize {
        self.truth.len()
    }

    /// Metrics over the scored chips, with the confusion matrix (`[true][predicted]`);
    /// `None` when no chip could be scored.
    pub fn metrics(&self, model: &Model) -> Option<(ClassificationMetrics, Vec<Vec<usize>>)> {
        if self.truth.is_empty() {
            return None;
        }
        let n = model.classes().len();
        let metrics = ClassificationMetrics::compute(&self.truth, &self.predicted, n);
        let confusion = sarlab_svm::confusion_matrix(&self.truth, &self.predicted, n)
            .outer_iter()
            .map(|r| r.to_vec())
            .collect();
        Some((metrics, confusion))
    }
}
