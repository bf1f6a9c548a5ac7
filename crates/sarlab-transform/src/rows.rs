//! A set of rows of a feature matrix, by index.
//!
//! Cross-validation fits the scaler and PCA on each fold's training rows and applies
//! them to its validation rows. Copying those rows out (`x.select(..)`) costs a second
//! feature matrix per fold in flight, which for 4096 raw pixels is most of a study's
//! memory; [`Rows`] lets the transforms read them in place.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

use crate::error::{Error, Result};

/// Rows of `x`: all of them in order, or the ones `index` names, in its order.
#[derive(Debug, Clone, Copy)]
pub struct Rows<'a> {
    x: ArrayView2<'a, f64>,
    index: Option<&'a [usize]>,
}

impl<'a> Rows<'a> {
    /// Every row of `x`.
    pub fn all(x: ArrayView2<'a, f64>) -> Self {
        Self { x, index: None }
    }

    /// The rows of `x` that `index` names; an index past the last row is an error.
    pub fn subset<'x: 'a>(x: ArrayView2<'x, f64>, index: &'a [usize]) -> Result<Self> {
        if let Some(&bad) = index.iter().find(|&&i| i >= x.nrows()) {
            return Err(Error::InvalidParameter {
                name: "rows",
                message: format!("row {bad} asked of a matrix of {} rows", x.nrows()),
            });
        }
        Ok(Self {
            // Views are invariant in their lifetime: shorten it to the index's.
            x: x.reborrow(),
            index: Some(index),
        })
    }

    /// How many rows.
    pub fn len(&self) -> usize {
        self.index.map_or(self.x.nrows(), <[usize]>::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Values per row.
    pub fn width(&self) -> usize {
        self.x.ncols()
    }

    /// The `k`-th row of the set.
    pub fn row(&self, k: usize) -> ArrayView1<'a, f64> {
        let x = self.x;
        x.index_axis_move(Axis(0), self.source_row(k))
    }

    /// The row of the whole matrix that the set's `k`-th row is (for error messages).
    pub fn source_row(&self, k: usize) -> usize {
        self.index.map_or(k, |index| index[k])
    }

    /// The rows in order.
    pub fn iter(&self) -> impl Iterator<Item = ArrayView1<'a, f64>> + '_ {
        (0..self.len()).map(|k| self.row(k))
    }

    /// The mean row, as ndarray's `mean_axis` computes it (rows added in order, then
    /// divided by their count); `None` without rows.
    pub fn mean(&self) -> Option<Array1<f64>> {
        if self.is_empty() {
            return None;
        }
        let mut sum = Array1::<f64>::zeros(self.width());
        for row in self.iter() {
            sum += &row;
        }
        Some(sum / self.len() as f64)
    }

    /// The rows copied into one matrix.
    pub fn to_owned(&self) -> Array2<f64> {
        match self.index {
            Some(index) => self.x.select(Axis(0), index),
            None => self.x.to_owned(),
        }
    }

    /// The first non-finite value, as an error naming its row (of the whole matrix) and
    /// column.
    pub fn check_finite(&self) -> Result<()> {
        for (k, row) in self.iter().enumerate() {
            if let Some((column, &value)) = row.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                return Err(Error::NonFinite {
                    row: self.source_row(k),
                    column,
                    value,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subset_is_its_rows_in_index_order() {
        let x = Array2::from_shape_fn((5, 3), |(i, j)| (i * 10 + j) as f64);
        let index = [3, 0, 3];
        let rows = Rows::subset(x.view(), &index).expect("in range");
        assert_eq!(rows.len(), 3);
        assert_eq!(rows.to_owned(), x.select(Axis(0), &index));
        assert_eq!(rows.row(0).to_vec(), vec![30.0, 31.0, 32.0]);
        assert_eq!(rows.mean(), x.select(Axis(0), &index).mean_axis(Axis(0)));
        assert_eq!(Rows::subset(x.view(), &[]).expect("empty").mean(), None);
        assert!(Rows::subset(x.view(), &[5]).is_err());
    }

    #[test]
    fn non_finite_values_name_the_source_row() {
        let mut x = Array2::<f64>::zeros((4, 2));
        x[[2, 1]] = f64::NAN;
        let rows = Rows::subset(x.view(), &[0, 2]).expect("in range");
        assert!(matches!(
            rows.check_finite(),
            Err(Error::NonFinite {
                row: 2,
                column: 1,
                ..
            })
        ));
    }
}
