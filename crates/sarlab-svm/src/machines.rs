//! A fitted one-vs-one ensemble: one binary machine per pair of classes, their decision
//! values and libsvm's vote; and the checks of labelled data every fit starts with.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use crate::error::{Error, Result};

/// One binary machine of the one-vs-one ensemble.
#[derive(Debug, Clone, PartialEq)]
pub struct PairMachine {
    /// The class a positive decision votes for.
    pub pos: usize,
    /// The class a negative decision votes for.
    pub neg: usize,
    /// Support vectors: positions in the training index list (or, in a [`SvcModel`](crate::SvcModel),
    /// rows of its support matrix), class `pos` first, each class in training order.
    pub support: Vec<usize>,
    /// `yₛ αₛ` of each support vector.
    pub coef: Vec<f64>,
    pub rho: f64,
    pub iterations: usize,
    pub hit_iteration_cap: bool,
    /// Some α met its upper bound during the solve (the solution depends on C).
    pub upper_bound_reached: bool,
}

/// The machines of a one-vs-one fit on a kernel view.
#[derive(Debug, Clone, PartialEq)]
pub struct Machines {
    pub n_classes: usize,
    /// Classes present in the training labels, ascending.
    pub classes: Vec<usize>,
    pub pairs: Vec<PairMachine>,
}

impl Machines {
    /// Support vectors counted once per training sample (libsvm's `l`, scikit-learn's
    /// `len(support_)`).
    pub fn support_vector_count(&self) -> usize {
        let mut seen = std::collections::BTreeSet::new();
        for m in &self.pairs {
            seen.extend(m.support.iter().copied());
        }
        seen.len()
    }

    /// Pair machines that stopped at the iteration cap.
    pub fn capped(&self) -> Vec<(usize, usize)> {
        self.pairs
            .iter()
            .filter(|m| m.hit_iteration_cap)
            .map(|m| (m.pos, m.neg))
            .collect()
    }

    /// Decision values of queries given the kernel between each query and each training
    /// position: `kernel[[q, s]]` for query `q` and training position `s`. Each sum runs
    /// over the support vectors in libsvm's order; queries run in parallel.
    pub fn decisions(&self, kernel: ArrayView2<'_, f64>) -> Array2<f64> {
        let kernel = kernel.as_standard_layout();
        let (n_queries, width, n_pairs) = (kernel.nrows(), kernel.ncols(), self.pairs.len());
        let mut out = vec![0.0; n_queries * n_pairs];
        out.par_chunks_mut(n_pairs.max(1))
            .zip(
                kernel
                    .as_slice()
                    .expect("standard layout")
                    .par_chunks(width.max(1)),
            )
            .for_each(|(row, k)| self.decide_row(k, row));
        Array2::from_shape_vec((n_queries, n_pairs), out).expect("queries × pairs")
    }

    /// One query's decision values (`out`, one per pair machine) from its kernel
    /// values against the training positions (`k`), as [`Machines::decisions`] sums them.
    pub fn decide_row(&self, k: &[f64], out: &mut [f64]) {
        for (value, machine) in out.iter_mut().zip(&self.pairs) {
            *value = weighted_gather(&machine.support, &machine.coef, k) - machine.rho;
        }
    }

    /// The votes each class gets from the pair machines (one row per query, one
    /// column per class; classes absent from training get none).
    pub fn votes(&self, decisions: ArrayView2<'_, f64>) -> Array2<u32> {
        let mut votes = Array2::zeros((decisions.nrows(), self.n_classes));
        for (row, mut out) in decisions.outer_iter().zip(votes.outer_iter_mut()) {
            for (machine, &d) in self.pairs.iter().zip(row) {
                out[if d > 0.0 { machine.pos } else { machine.neg }] += 1;
            }
        }
        votes
    }

    /// libsvm's vote over decision values (one row per query).
    pub fn vote(&self, decisions: ArrayView2<'_, f64>) -> Vec<usize> {
        self.winners(self.votes(decisions).view())
    }

    /// The class each row of votes ([`Machines::votes`]) elects: the first maximum
    /// over the present classes, libsvm's tie rule.
    pub fn winners(&self, votes: ArrayView2<'_, u32>) -> Vec<usize> {
        votes
            .outer_iter()
            .map(|row| {
                let mut best = self.classes[0];
                for &k in &self.classes {
                    if row[k] > row[best] {
                        best = k;
                    }
                }
                best
            })
            .collect()
    }
}

/// `Σ coef[i] · k[support[i]]`, in four interleaved partial sums: one running sum would
/// chain every addition on the previous one (the FMA latency, not the loads, would set
/// the pace of prediction).
fn weighted_gather(support: &[usize], coef: &[f64], k: &[f64]) -> f64 {
    let mut partial = [0.0; 4];
    let (support_quads, coef_quads) = (support.chunks_exact(4), coef.chunks_exact(4));
    let mut tail = 0.0;
    for (&s, &a) in support_quads.remainder().iter().zip(coef_quads.remainder()) {
        tail += a * k[s];
    }
    for (s, a) in support_quads.zip(coef_quads) {
        for lane in 0..4 {
            partial[lane] += a[lane] * k[s[lane]];
        }
    }
    (partial[0] + partial[1]) + (partial[2] + partial[3]) + tail
}

/// Checks labels, sizes and values of a training or test set.
pub(crate) fn check_labelled(x: ArrayView2<'_, f64>, y: &[usize], n_classes: usize) -> Result<()> {
    if x.nrows() != y.len() {
        return Err(Error::LengthMismatch {
            records: x.nrows(),
            labels: y.len(),
        });
    }
    if let Some(&label) = y.iter().find(|&&l| l >= n_classes) {
        return Err(Error::LabelOutOfRange { label, n_classes });
    }
    check_finite(x)
}

pub(crate) fn check_finite(x: ArrayView2<'_, f64>) -> Result<()> {
    if let Some(((row, column), &value)) = x.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(Error::NonFinite { row, column, value });
    }
    Ok(())
}

/// The classes present in `y`, ascending; an error unless there are at least two.
pub(crate) fn present_classes(y: &[usize], n_classes: usize) -> Result<Vec<usize>> {
    if y.is_empty() {
        return Err(Error::Empty);
    }
    let mut seen = vec![false; n_classes];
    for &label in y {
        seen[label] = true;
    }
    let present: Vec<usize> = (0..n_classes).filter(|&c| seen[c]).collect();
    if present.len() < 2 {
        return Err(Error::SingleClass { class: y[0] });
    }
    Ok(present)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_gather_sums_every_term_whatever_the_length() {
        let k: Vec<f64> = (0..40).map(|i| 1.0 + (i as f64 * 0.37).sin()).collect();
        for len in 0..=11 {
            let support: Vec<usize> = (0..len).map(|i| (i * 7 + 3) % 40).collect();
            let coef: Vec<f64> = (0..len).map(|i| (i as f64) - 4.5).collect();
            let plain: f64 = support.iter().zip(&coef).map(|(&s, &a)| a * k[s]).sum();
            let gathered = weighted_gather(&support, &coef, &k);
            assert!(
                (gathered - plain).abs() <= 1e-12,
                "length {len}: {gathered} vs {plain}"
            );
        }
    }
}
