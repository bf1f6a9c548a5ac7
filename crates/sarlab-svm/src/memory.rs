//! Estimates of the memory the grid search and the refit hold at their peak, so that a
//! caller can refuse a problem that cannot fit before allocating any of it. They count
//! what grows with the problem (kernel matrices, class blocks, transformed copies,
//! confusion matrices), not the allocator's slack, and are meant to be within a small
//! factor of what is used.

/// How the SVM engine holds kernel matrices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KernelMemory {
    /// Every kernel matrix held whole and shared by every C and fold: fastest while it
    /// fits, but memory grows with the square of the training rows.
    #[default]
    Whole,
    /// Kernel rows computed when a solve needs them, kept in a least-recently-used
    /// cache of this many bytes (per set of features in flight) — libsvm's way, with
    /// the rows shared by every pair machine, C and (when the features do not depend
    /// on the fold) fold. The same answers as [`KernelMemory::Whole`], bit for bit.
    Cached { cache_bytes: usize },
    /// [`KernelMemory::Whole`] when its estimate fits this many bytes, cached within
    /// them otherwise.
    Budget { bytes: usize },
}

/// How one set of features in flight holds its kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Storage {
    Whole,
    Cached { cache_bytes: usize },
}

impl KernelMemory {
    /// The storage for a set of features whose whole kernels would take `whole_bytes`
    /// and whose own copies (features, per-thread buffers) take `fixed_bytes`, with
    /// `in_flight` such sets at once.
    pub(crate) fn storage(self, whole_bytes: f64, fixed_bytes: f64, in_flight: usize) -> Storage {
        match self {
            KernelMemory::Whole => Storage::Whole,
            KernelMemory::Cached { cache_bytes } => Storage::Cached { cache_bytes },
            KernelMemory::Budget { bytes } => {
                let share = bytes as f64 / in_flight.max(1) as f64;
                if whole_bytes + fixed_bytes <= share {
                    Storage::Whole
                } else {
                    // The rest of the share, less a margin for what the estimate leaves
                    // out (the allocator's slack, decision blocks).
                    let cache = ((share - fixed_bytes) * 0.85).max(0.0);
                    Storage::Cached {
                        cache_bytes: cache as usize,
                    }
                }
            }
        }
    }
}

/// The inputs the estimates depend on.
#[derive(Debug, Clone, PartialEq)]
pub struct ProblemSize<'a> {
    /// Training rows.
    pub samples: usize,
    /// Feature columns (after any PCA, for the kernel; before it, for copies).
    pub features: usize,
    /// Training rows per class.
    pub class_counts: &'a [usize],
    /// Cross-validation folds.
    pub folds: usize,
    /// Grid points scored (each keeps a confusion matrix per fold).
    pub configurations: usize,
    /// Whether a transform (standardisation or PCA) is fitted per fold: then each fold
    /// has its own Gram matrix, and up to `threads` folds are in flight at once.
    pub transformed: bool,
    /// Worker threads.
    pub threads: usize,
}

/// Bytes of an `f64`, an `f32`.
const F64: f64 = 8.0;
const F32: f64 = 4.0;

impl ProblemSize<'_> {
    /// The largest pair machine's `Q` in single precision: the two largest classes.
    fn largest_pair(&self, train_share: f64) -> f64 {
        let mut counts: Vec<usize> = self.class_counts.to_vec();
        counts.sort_unstable_by(|a, b| b.cmp(a));
        let pair = (counts.first().copied().unwrap_or(0) + counts.get(1).copied().unwrap_or(0))
            as f64
            * train_share;
        pair * pair * F32
    }

    /// Peak bytes of [`crate::cross_validate_grid`] on this problem: the kernels, each
    /// fold's transformed copy of the features in flight, and the confusion matrices.
    pub fn cross_validation_bytes(&self) -> f64 {
        let k = self.folds.max(1) as f64;
        let copies = if self.transformed {
            self.in_flight() * self.samples as f64 * self.features as f64 * F64
        } else {
            0.0
        };
        let classes = self.class_counts.len() as f64;
        let confusions = self.configurations as f64 * k * classes * classes * F64;
        self.cross_validation_kernel_bytes() + copies + confusions
    }

    /// Peak bytes of fitting on every training row and scoring `test` rows
    /// ([`crate::refit_and_test`]): the kernels, the class-sorted copy of the features
    /// and a confusion matrix.
    pub fn refit_bytes(&self, test: usize) -> f64 {
        let sorted_copy = self.samples as f64 * self.features as f64 * F64;
        let classes = self.class_counts.len() as f64;
        self.refit_kernel_bytes(test) + sorted_copy + classes * classes * F64
    }

    /// Of [`ProblemSize::cross_validation_bytes`], what the kernels take (Gram
    /// matrices, class blocks, validation kernels, pair machines' `Q`).
    pub fn cross_validation_kernel_bytes(&self) -> f64 {
        let n = self.samples as f64;
        let k = self.folds.max(1) as f64;
        let (m, v) = (n * (k - 1.0) / k, n / k);
        let gram = n * (n + 1.0) / 2.0 * F64;
        // A fold's training blocks and its validation kernel.
        let fold = m * m * F32 + v * m * F64;
        let threads = self.threads.max(1) as f64;
        let per_base = if self.transformed {
            gram + fold
        } else {
            gram + k * fold
        };
        self.in_flight() * per_base + threads * self.largest_pair((k - 1.0) / k)
    }

    /// Of [`ProblemSize::refit_bytes`], what the kernels take.
    pub fn refit_kernel_bytes(&self, test: usize) -> f64 {
        let n = self.samples as f64;
        // The decision kernel goes in blocks of 1024 rows against (at most) every row.
        n * n * F32
            + (test.min(1024) as f64) * n * F64
            + self.threads.max(1) as f64 * self.largest_pair(1.0)
    }

    /// Sets of features in flight at once during cross-validation.
    fn in_flight(&self) -> f64 {
        if self.transformed {
            (self.folds.max(1)).min(self.threads.max(1)) as f64
        } else {
            1.0
        }
    }

    /// An estimate `whole_bytes` of which `kernel_bytes` are kernels held whole, with
    /// the kernels bounded by `memory` (a budget or a cache per set of features in
    /// flight, beside their features); what is not a kernel is counted as it is.
    pub fn bounded(&self, memory: KernelMemory, whole_bytes: f64, kernel_bytes: f64) -> f64 {
        let features = self.samples as f64 * self.features as f64 * F64;
        let cap = match memory {
            KernelMemory::Whole => return whole_bytes,
            KernelMemory::Budget { bytes } => bytes as f64 + self.in_flight() * features,
            KernelMemory::Cached { cache_bytes } => {
                self.in_flight() * (cache_bytes as f64 + features)
            }
        };
        whole_bytes - kernel_bytes + kernel_bytes.min(cap)
    }

    /// Peak bytes of a grid search with the linear solver
    /// ([`crate::grid_search`] of configurations with a linear solver) whose features are mapped to `mapped` columns
    /// (0 without a kernel approximation), refit and scored on `test` rows: every
    /// fold's transformed rows, one fold's mapped rows, the solver's per-row state of
    /// the machines in flight, or the refit's transformed and mapped rows — whichever
    /// is larger. No kernel: the memory budget does not apply.
    pub fn linear_bytes(&self, mapped: usize, test: usize) -> f64 {
        let n = self.samples as f64;
        let k = self.folds.max(1) as f64;
        let d = self.features as f64;
        let m = mapped as f64;
        let solver = self.threads.max(1) as f64 * 4.0 * n * F64;
        let folds = k * n * d * F64 + n * m * F64 + solver;
        let refit = n * (d + m) * F64 + test as f64 * (d + m) * F64 + solver;
        let classes = self.class_counts.len() as f64;
        let confusions = self.configurations as f64 * k * classes * classes * F64;
        folds.max(refit) + confusions
    }

    /// Peak bytes of fitting Platt sigmoids after the refit
    /// ([`crate::PlattScaling::fit`]): per thread, a pair's kernel in double precision
    /// and its folds' `Q` in single, beside the transformed training rows.
    pub fn probability_bytes(&self) -> f64 {
        let pair = self.largest_pair(1.0) / F32;
        let per_thread = pair * F64 + pair * 0.64 * F32;
        self.threads.max(1) as f64 * per_thread + self.samples as f64 * self.features as f64 * F64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(samples: usize, classes: usize) -> ProblemSize<'static> {
        let counts: &'static [usize] = vec![samples / classes; classes].leak();
        ProblemSize {
            samples,
            features: 100,
            class_counts: counts,
            folds: 5,
            configurations: 10,
            transformed: false,
            threads: 2,
        }
    }

    #[test]
    fn the_kernel_dominates_and_grows_with_the_square_of_the_samples() {
        let small = problem(1_000, 10).cross_validation_bytes();
        let large = problem(10_000, 10).cross_validation_bytes();
        assert!(
            (80.0..120.0).contains(&(large / small)),
            "{}",
            large / small
        );
        // 2·10⁵ samples: the packed Gram matrix alone is 160 GB.
        assert!(problem(200_000, 2).cross_validation_bytes() > 160e9);
    }

    #[test]
    fn a_budget_bounds_the_estimate_and_the_storage() {
        let large = problem(100_000, 10);
        let whole = large.cross_validation_bytes();
        assert!(whole > 40e9);
        let budget = KernelMemory::Budget {
            bytes: 4_000_000_000,
        };
        let kernels = large.cross_validation_kernel_bytes();
        assert!(kernels <= whole && kernels > 0.9 * whole);
        let bounded = large.bounded(budget, whole, kernels);
        assert!(bounded < 4.1e9 + 1e6, "{bounded}");
        assert_eq!(large.bounded(KernelMemory::Whole, whole, kernels), whole);
        // What is not a kernel is not bounded: 10⁵ classes' confusion matrices.
        let many = ProblemSize {
            samples: 200_000,
            ..problem(200_000, 100_000)
        };
        let whole = many.cross_validation_bytes();
        let bounded = many.bounded(budget, whole, many.cross_validation_kernel_bytes());
        assert!(bounded > 4e12, "{bounded}");
        let refit = large.refit_bytes(1000);
        assert!(large.bounded(budget, refit, large.refit_kernel_bytes(1000)) < 4.2e9);
        assert_eq!(budget.storage(3e9, 0.0, 1), Storage::Whole);
        assert_eq!(
            budget.storage(3e9, 0.0, 2),
            Storage::Cached {
                cache_bytes: 1_700_000_000
            }
        );
        assert_eq!(
            KernelMemory::Cached { cache_bytes: 7 }.storage(1.0, 0.0, 1),
            Storage::Cached { cache_bytes: 7 }
        );
        assert_eq!(KernelMemory::Whole.storage(1e30, 0.0, 1), Storage::Whole);
    }

    #[test]
    fn many_classes_cost_their_confusion_matrices() {
        // 10⁵ classes of two samples: 10 configurations × 5 folds × 10¹⁰ cells.
        let many = problem(200_000, 100_000);
        assert!(many.cross_validation_bytes() > 4e12);
    }

    #[test]
    fn a_per_fold_transform_holds_a_gram_matrix_per_fold_in_flight() {
        let plain = problem(4_000, 4);
        let transformed = ProblemSize {
            transformed: true,
            ..plain.clone()
        };
        // Two folds in flight (two threads), each with the whole packed Gram matrix.
        let gram = 4_000.0 * 4_001.0 / 2.0 * 8.0;
        assert!(transformed.cross_validation_bytes() > 2.0 * gram);
        assert!(plain.cross_validation_bytes() < 2.0 * gram + 5.0 * 3_200.0 * 3_200.0 * 4.0 * 1.5);
        assert!(plain.refit_bytes(1_000) > 4_000.0 * 4_000.0 * 4.0);
    }
}
