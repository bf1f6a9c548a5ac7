//! Tables of runs written as CSV, Parquet or JSON with polars, for pandas, R or a
//! spreadsheet.

use std::path::Path;

use polars::prelude::*;

use crate::error::{Error, Result};

/// A file format for [`write_table`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    Csv,
    Parquet,
    /// One JSON array of row objects.
    Json,
}

/// One value of a table; `None` in a row is a missing value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Int(i64),
    Real(f64),
    Text(String),
}

/// Builds the data frame: a column whose values are all integers is Int64, all numbers
/// Float64, anything else String (numbers printed as they are).
pub fn table_frame(columns: &[String], rows: &[Vec<Option<Cell>>]) -> Result<DataFrame> {
    if let Some((index, row)) = rows
        .iter()
        .enumerate()
        .find(|(_, r)| r.len() != columns.len())
    {
        return Err(Error::Invalid(format!(
            "row {index} has {} values for {} columns",
            row.len(),
            columns.len()
        )));
    }
    let series = columns
        .iter()
        .enumerate()
        .map(|(c, name)| {
            let values = rows.iter().map(|row| row[c].as_ref());
            let all = |f: fn(&Cell) -> bool| rows.iter().all(|row| row[c].as_ref().is_none_or(f));
            let name = PlSmallStr::from(name.as_str());
            if all(|v| matches!(v, Cell::Int(_))) {
                let v: Vec<Option<i64>> = values
                    .map(|v| match v {
                        Some(Cell::Int(i)) => Some(*i),
                        _ => None,
                    })
                    .collect();
                Column::new(name, v)
            } else if all(|v| matches!(v, Cell::Int(_) | Cell::Real(_))) {
                let v: Vec<Option<f64>> = values
                    .map(|v| match v {
                        Some(Cell::Int(i)) => Some(*i as f64),
                        Some(Cell::Real(r)) => Some(*r),
                        _ => None,
                    })
                    .collect();
                Column::new(name, v)
            } else {
                let v: Vec<Option<String>> = values
                    .map(|v| {
                        v.map(|cell| match cell {
                            Cell::Int(i) => i.to_string(),
                            Cell::Real(r) => r.to_string(),
                            Cell::Text(t) => t.clone(),
                        })
                    })
                    .collect();
                Column::new(name, v)
            }
        })
        .collect();
    Ok(DataFrame::new(rows.len(), series)?)
}

/// Writes the table to `path` in `format`, replacing the file atomically: a write that
/// fails half-way (a full disk) leaves the old file as it was.
pub fn write_table(
    columns: &[String],
    rows: &[Vec<Option<Cell>>],
    format: TableFormat,
    path: &Path,
) -> Result<()> {
    let mut frame = table_frame(columns, rows)?;
    let polars = |e: PolarsError| std::io::Error::other(e.to_string());
    crate::write_atomic(path, |out| {
        match format {
            TableFormat::Csv => CsvWriter::new(out).finish(&mut frame).map_err(polars)?,
            TableFormat::Parquet => {
                ParquetWriter::new(out).finish(&mut frame).map_err(polars)?;
            }
            TableFormat::Json => JsonWriter::new(out)
                .with_json_format(JsonFormat::Json)
                .finish(&mut frame)
                .map_err(polars)?,
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (Vec<String>, Vec<Vec<Option<Cell>>>) {
        let columns = ["uuid", "params.C", "params.gamma", "metrics.f1"]
            .map(String::from)
            .to_vec();
        let rows = vec![
            vec![
                Some(Cell::Text("a".into())),
                Some(Cell::Int(1)),
                Some(Cell::Text("scale".into())),
                Some(Cell::Real(0.5)),
            ],
            vec![
                Some(Cell::Text("b".into())),
                Some(Cell::Int(10)),
                Some(Cell::Real(0.01)),
                None,
            ],
        ];
        (columns, rows)
    }

    #[test]
    fn columns_get_their_types_and_files_read_back() {
        let (columns, rows) = sample();
        let frame = table_frame(&columns, &rows).expect("frame");
        assert_eq!(frame.shape(), (2, 4));
        let dtypes: Vec<DataType> = frame.dtypes();
        assert_eq!(
            dtypes,
            vec![
                DataType::String,
                DataType::Int64,
                DataType::String,
                DataType::Float64
            ]
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let csv = dir.path().join("runs.csv");
        write_table(&columns, &rows, TableFormat::Csv, &csv).expect("csv");
        let text = std::fs::read_to_string(&csv).expect("read");
        assert_eq!(
            text,
            "uuid,params.C,params.gamma,metrics.f1\na,1,scale,0.5\nb,10,0.01,\n"
        );
        let json = dir.path().join("runs.json");
        write_table(&columns, &rows, TableFormat::Json, &json).expect("json");
        let parsed: Vec<std::collections::BTreeMap<String, serde_json::Value>> =
            serde_json::from_str(&std::fs::read_to_string(&json).expect("read"))
                .expect("valid JSON");
        assert_eq!(parsed.len(), 2);
        let parquet = dir.path().join("runs.parquet");
        write_table(&columns, &rows, TableFormat::Parquet, &parquet).expect("parquet");
        let back = ParquetReader::new(std::fs::File::open(&parquet).expect("open"))
            .finish()
            .expect("read parquet");
        assert!(back.equals_missing(&frame));
    }

    #[test]
    fn ragged_rows_are_an_error() {
        let (columns, mut rows) = sample();
        rows[1].pop();
        assert!(table_frame(&columns, &rows).is_err());
    }
}
