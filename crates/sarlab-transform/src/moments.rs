//! First and second moments of sets of rows, which add up.
//!
//! Cross-validation fits standardisation and PCA on k training sets that are unions of
//! the same k parts (the folds). The count, sum and scatter (`Σ xxᵀ`) of a union are the
//! sums of its parts', so one pass over the data — one `d × d` product per fold — serves
//! every training set, and the whole training split as well, instead of one
//! `n_train × d × d` product per fit. The sums are taken about a common `shift` (the
//! mean of all rows is a good one), which keeps `Σ xxᵀ − n μμᵀ` free of cancellation.

use faer::Mat;
use faer::linalg::matmul::triangular::BlockStructure;
use ndarray::{Array1, ArrayView1};

use crate::error::{Error, Result};
use crate::rows::Rows;

/// Count, sum and scatter of a set of rows about a fixed shift.
#[derive(Debug, Clone)]
pub struct Moments {
    count: usize,
    shift: Array1<f64>,
    /// `Σ (x − shift)`
    sum: Array1<f64>,
    /// `Σ (x − shift)(x − shift)ᵀ`, `d × d`.
    scatter: Mat<f64>,
}

impl Moments {
    /// The moments of a set of rows about `shift`, read in place in blocks (only one
    /// block of centred rows is held). Non-finite values are errors that name the row
    /// and column.
    pub fn of_rows(rows: Rows<'_>, shift: ArrayView1<'_, f64>) -> Result<Self> {
        /// Rows centred at a time: one triangular GEMM each.
        const BLOCK_ROWS: usize = 256;
        let (n, d) = (rows.len(), rows.width());
        if shift.len() != d {
            return Err(Error::DimensionMismatch {
                expected: shift.len(),
                got: d,
            });
        }
        rows.check_finite()?;
        let mut sum = Array1::<f64>::zeros(d);
        let mut scatter = Mat::<f64>::zeros(d, d);
        let mut start = 0;
        while start < n {
            let count = BLOCK_ROWS.min(n - start);
            let mut centred = Mat::<f64>::zeros(count, d);
            for r in 0..count {
                let row = rows.row(start + r);
                for j in 0..d {
                    let v = row[j] - shift[j];
                    centred[(r, j)] = v;
                    sum[j] += v;
                }
            }
            // The lower triangle by a triangular GEMM (half the work), mirrored below.
            faer::linalg::matmul::triangular::matmul(
                scatter.as_mut(),
                BlockStructure::TriangularLower,
                faer::Accum::Add,
                centred.transpose(),
                BlockStructure::Rectangular,
                centred.as_ref(),
                BlockStructure::Rectangular,
                1.0,
                faer::Par::Seq,
            );
            crate::simd::clear_upper_vector_state();
            start += count;
        }
        for j in 1..d {
            for i in 0..j {
                scatter[(i, j)] = scatter[(j, i)];
            }
        }
        Ok(Self {
            count: n,
            shift: shift.to_owned(),
            sum,
            scatter,
        })
    }

    /// The moments of the union of disjoint row sets, from theirs (all about the same
    /// shift).
    pub fn union(parts: &[&Moments]) -> Result<Self> {
        let first = parts.first().ok_or_else(|| Error::InvalidParameter {
            name: "moments",
            message: "no parts to combine".to_owned(),
        })?;
        let mut total = (*first).clone();
        for part in &parts[1..] {
            if part.shift != total.shift {
                return Err(Error::InvalidParameter {
                    name: "moments",
                    message: "parts taken about different shifts cannot be combined".to_owned(),
                });
            }
            total.count += part.count;
            total.sum += &part.sum;
            total.scatter += &part.scatter;
        }
        Ok(total)
    }

    /// The moments of the rest of `whole` once the disjoint subset `part` (taken about
    /// the same shift) is removed, in `part`'s storage: a fold's training set from the
    /// whole split and the fold, without holding every fold's moments.
    pub fn rest(whole: &Moments, mut part: Moments) -> Result<Self> {
        if part.shift != whole.shift {
            return Err(Error::InvalidParameter {
                name: "moments",
                message: "parts taken about different shifts cannot be combined".to_owned(),
            });
        }
        if part.count > whole.count {
            return Err(Error::InvalidParameter {
                name: "moments",
                message: format!(
                    "a part of {} rows cannot be removed from {} rows",
                    part.count, whole.count
                ),
            });
        }
        part.count = whole.count - part.count;
        part.sum = &whole.sum - &part.sum;
        let d = whole.dim();
        for j in 0..d {
            for i in 0..d {
                part.scatter[(i, j)] = whole.scatter[(i, j)] - part.scatter[(i, j)];
            }
        }
        Ok(part)
    }

    /// The shift the sums are taken about.
    pub fn shift(&self) -> ArrayView1<'_, f64> {
        self.shift.view()
    }

    pub fn count(&self) -> usize {
        self.count
    }

    pub fn dim(&self) -> usize {
        self.shift.len()
    }

    /// The mean row.
    pub fn mean(&self) -> Array1<f64> {
        &self.shift + &(&self.sum / self.count.max(1) as f64)
    }

    /// `Σ (x − μ)(x − μ)ᵀ` about the set's own mean μ.
    pub fn centred_scatter(&self) -> Mat<f64> {
        let n = self.count.max(1) as f64;
        let s = &self.sum;
        Mat::from_fn(self.dim(), self.dim(), |i, j| {
            self.scatter[(i, j)] - s[i] * s[j] / n
        })
    }

    /// Per-feature population variance (`ddof = 0`), as `StandardScaler` uses.
    pub fn variances(&self) -> Array1<f64> {
        let n = self.count.max(1) as f64;
        Array1::from_iter(
            (0..self.dim())
                .map(|j| ((self.scatter[(j, j)] - self.sum[j].powi(2) / n) / n).max(0.0)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, Axis, s};

    fn data() -> Array2<f64> {
        Array2::from_shape_fn((40, 5), |(i, j)| {
            1000.0 + ((i * 7 + j * 3) % 11) as f64 * 0.1 + (j as f64) * (i as f64).sin()
        })
    }

    #[test]
    fn union_of_parts_equals_the_whole() {
        let x = data();
        let shift = Rows::all(x.view()).mean().expect("rows");
        let whole = Moments::of_rows(Rows::all(x.view()), shift.view()).expect("whole");
        let a = Moments::of_rows(Rows::all(x.slice(s![..13, ..])), shift.view()).expect("a");
        let b = Moments::of_rows(Rows::all(x.slice(s![13.., ..])), shift.view()).expect("b");
        let union = Moments::union(&[&a, &b]).expect("union");
        assert_eq!(union.count(), 40);
        let (cw, cu) = (whole.centred_scatter(), union.centred_scatter());
        for i in 0..5 {
            for j in 0..5 {
                assert!((cw[(i, j)] - cu[(i, j)]).abs() < 1e-10 * cw[(i, i)].abs().max(1.0));
            }
        }
        // The mean and the variances against direct two-pass computations.
        let mean = x.mean_axis(Axis(0)).expect("rows");
        let var = x.var_axis(Axis(0), 0.0);
        for j in 0..5 {
            assert!((union.mean()[j] - mean[j]).abs() < 1e-12 * mean[j].abs());
            assert!((union.variances()[j] - var[j]).abs() < 1e-10 * var[j].max(1e-300));
        }
    }

    #[test]
    fn the_rest_of_the_whole_equals_the_other_part() {
        let x = data();
        let shift = Rows::all(x.view()).mean().expect("rows");
        let whole = Moments::of_rows(Rows::all(x.view()), shift.view()).expect("whole");
        let a = Moments::of_rows(Rows::all(x.slice(s![..13, ..])), shift.view()).expect("a");
        let b = Moments::of_rows(Rows::all(x.slice(s![13.., ..])), shift.view()).expect("b");
        let rest = Moments::rest(&whole, a).expect("rest");
        assert_eq!(rest.count(), b.count());
        let (cr, cb) = (rest.centred_scatter(), b.centred_scatter());
        for i in 0..5 {
            assert!((rest.mean()[i] - b.mean()[i]).abs() < 1e-12 * b.mean()[i].abs());
            for j in 0..5 {
                assert!((cr[(i, j)] - cb[(i, j)]).abs() < 1e-9 * cb[(i, i)].abs().max(1.0));
            }
        }
        let other = Moments::of_rows(Rows::all(x.view()), Array1::zeros(5).view()).expect("c");
        assert!(Moments::rest(&whole, other).is_err());
    }

    #[test]
    fn bad_input_is_named() {
        let mut x = data();
        x[[3, 2]] = f64::NAN;
        let shift = Array1::zeros(5);
        assert!(matches!(
            Moments::of_rows(Rows::all(x.view()), shift.view()),
            Err(Error::NonFinite {
                row: 3,
                column: 2,
                ..
            })
        ));
        assert!(Moments::of_rows(Rows::all(data().view()), Array1::zeros(4).view()).is_err());
        let a = Moments::of_rows(Rows::all(data().view()), Array1::zeros(5).view()).expect("a");
        let b = Moments::of_rows(Rows::all(data().view()), Array1::ones(5).view()).expect("b");
        assert!(Moments::union(&[&a, &b]).is_err());
        assert!(Moments::union(&[]).is_err());
    }
}
