//! Kernel rows computed on demand and kept in a bounded least-recently-used cache, for
//! training sets whose kernel matrix does not fit in memory — libsvm's kernel cache,
//! shared instead of per solve: one cache of full rows `K(xᵢ, ·)` over a set of
//! samples serves every pair machine, every C and (when the features do not depend on
//! the fold) every fold, each taking the columns it trains on.
//!
//! A row's values are the bits the precomputed path gives: the inner products come from
//! the same GEMM (`rows_times_transpose` gives a row the same bits in any batch and
//! against any set of rows), the diagonal from the same squared norm, the kernel from
//! the same `apply_to_row`, rounded to single precision alike. So a solve on cached rows
//! takes the same steps to the same α as a solve on the precomputed matrix.

use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use faer::MatRef;
use ndarray::ArrayView2;
use sarlab_transform::gemm::rows_times_transpose;

use crate::error::Result;
use crate::kernel::{KernelFunction, sq_norms};
use crate::smo::{QMatrix, QRows};

/// The memory a row of `n` values takes from the allocator: mimalloc (the `sarlab`
/// binary's) gives an object above 128 KiB whole 64 KiB slices, so a 50,000-sample
/// row of 133 KB holds 192 KiB; counting that keeps the cache within its bytes.
fn allocated_row_bytes(n: usize) -> usize {
    const MEDIUM_MAX: usize = 128 << 10;
    const SLICE: usize = 64 << 10;
    let bytes = (n * std::mem::size_of::<f32>()).max(1);
    if bytes > MEDIUM_MAX {
        bytes.div_ceil(SLICE) * SLICE
    } else {
        bytes
    }
}

thread_local! {
    /// Each thread's inner products of the row it computes, reused.
    static DOTS: std::cell::RefCell<Vec<f64>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// No entry (end of the recency list).
const NONE: usize = usize::MAX;

/// Full kernel rows of a set of samples, computed when first asked for and kept while
/// they fit the cache.
#[derive(Debug)]
pub struct KernelRows {
    /// The samples, column-major (`x[k · n + i]` is feature `k` of sample `i`): the
    /// layout faer's GEMM reads without packing, so a row costs one pass over the data
    /// instead of a copy of it first (the products are the same bits either way).
    x: Vec<f64>,
    n: usize,
    d: usize,
    sq: Vec<f64>,
    kernel: KernelFunction,
    capacity_rows: usize,
    cache: Mutex<Recency>,
    /// The first kernel value that did not fit single precision, if any.
    overflow: Mutex<Option<f64>>,
    computed: AtomicUsize,
    requests: AtomicUsize,
}

/// The cached rows and their order of last use, as a doubly linked list over sample
/// indices (O(1) touch, insert and evict).
#[derive(Debug)]
struct Recency {
    rows: Vec<Option<Arc<[f32]>>>,
    newer: Vec<usize>,
    older: Vec<usize>,
    newest: usize,
    oldest: usize,
    held: usize,
    /// Evicted rows no solver still reads, refilled by the next computations instead
    /// of being freed and allocated again (which, across threads, leaves the allocator
    /// holding far more than the cache).
    spare: Vec<Arc<[f32]>>,
}

/// Evicted rows kept for reuse at most.
const SPARE_ROWS: usize = 8;

impl Recency {
    fn new(n: usize) -> Self {
        Self {
            rows: vec![None; n],
            newer: vec![NONE; n],
            older: vec![NONE; n],
            newest: NONE,
            oldest: NONE,
            held: 0,
            spare: Vec::new(),
        }
    }

    fn unlink(&mut self, i: usize) {
        let (newer, older) = (self.newer[i], self.older[i]);
        match newer {
            NONE => self.newest = older,
            n => self.older[n] = older,
        }
        match older {
            NONE => self.oldest = newer,
            o => self.newer[o] = newer,
        }
        self.newer[i] = NONE;
        self.older[i] = NONE;
    }

    fn push_newest(&mut self, i: usize) {
        self.older[i] = self.newest;
        self.newer[i] = NONE;
        match self.newest {
            NONE => self.oldest = i,
            n => self.newer[n] = i,
        }
        self.newest = i;
    }

    fn get(&mut self, i: usize) -> Option<Arc<[f32]>> {
        let row = self.rows[i].clone()?;
        self.unlink(i);
        self.push_newest(i);
        Some(row)
    }

    fn insert(&mut self, i: usize, row: Arc<[f32]>, capacity: usize) {
        self.rows[i] = Some(row);
        self.push_newest(i);
        self.held += 1;
        while self.held > capacity && self.oldest != NONE {
            let oldest = self.oldest;
            self.unlink(oldest);
            if let Some(mut evicted) = self.rows[oldest].take()
                && self.spare.len() < SPARE_ROWS
                && Arc::get_mut(&mut evicted).is_some()
            {
                self.spare.push(evicted);
            }
            self.held -= 1;
        }
    }
}

impl KernelRows {
    /// Rows of `kernel` over the rows of `x`, at most `cache_bytes` of them kept (at
    /// least two rows, the pair a solver step reads).
    pub fn new(x: ArrayView2<'_, f64>, kernel: KernelFunction, cache_bytes: usize) -> Self {
        Self::with_spare_rows(x, kernel, cache_bytes, Vec::new())
    }

    /// [`KernelRows::new`] that fills the rows of `spare` (those at least a row long,
    /// typically a previous cache's, see [`KernelRows::into_spare_rows`]) before it
    /// allocates any: caches used one after another then share their memory instead of
    /// leaving the allocator holding both.
    pub fn with_spare_rows(
        x: ArrayView2<'_, f64>,
        kernel: KernelFunction,
        cache_bytes: usize,
        spare: Vec<Arc<[f32]>>,
    ) -> Self {
        let (n, d) = x.dim();
        let sq = sq_norms(x);
        let x: Vec<f64> = x.t().iter().copied().collect();
        let row_bytes = allocated_row_bytes(n);
        Self {
            x,
            n,
            d,
            sq,
            kernel,
            capacity_rows: (cache_bytes / row_bytes).max(2),
            cache: Mutex::new(Recency {
                spare: spare.into_iter().filter(|r| r.len() >= n).collect(),
                ..Recency::new(n)
            }),
            overflow: Mutex::new(None),
            computed: AtomicUsize::new(0),
            requests: AtomicUsize::new(0),
        }
    }

    /// Samples.
    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    pub fn kernel(&self) -> &KernelFunction {
        &self.kernel
    }

    /// Rows the cache keeps at most.
    pub fn capacity_rows(&self) -> usize {
        self.capacity_rows
    }

    /// `(rows asked for, rows computed)` so far: the cache's hit rate.
    pub fn counts(&self) -> (usize, usize) {
        (
            self.requests.load(Ordering::Relaxed),
            self.computed.load(Ordering::Relaxed),
        )
    }

    /// `K(xᵢ, xᵢ)` in double precision (libsvm's `QD`).
    pub fn diagonal(&self, i: usize) -> f64 {
        let s = self.sq[i];
        self.kernel.from_dot(s, s, s)
    }

    /// `K(xᵢ, xⱼ)` for every sample `j`, in single precision (entries past
    /// [`KernelRows::len`], in a reused longer row, are not part of it).
    pub fn row(&self, i: usize) -> Arc<[f32]> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let lock = || self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        let spare = {
            let mut cache = lock();
            if let Some(row) = cache.get(i) {
                return row;
            }
            cache.spare.pop()
        };
        // Computed outside the lock, so other solvers keep reading meanwhile; if another
        // thread computed the same row in between, its copy is kept (the same bits).
        let row = self.compute(i, spare);
        let mut cache = lock();
        if let Some(existing) = cache.get(i) {
            return existing;
        }
        cache.insert(i, Arc::clone(&row), self.capacity_rows);
        row
    }

    /// Row `i`, written into `spare` when it is an unshared row of this cache.
    fn compute(&self, i: usize, spare: Option<Arc<[f32]>>) -> Arc<[f32]> {
        self.computed.fetch_add(1, Ordering::Relaxed);
        let (n, d) = (self.n, self.d);
        // A spare row may be longer (a previous cache's, over a few more samples): only
        // its first n values are this row's.
        let mut row = spare
            .filter(|r| r.len() >= n)
            .unwrap_or_else(|| std::iter::repeat_n(0.0, n).collect());
        let out = &mut Arc::get_mut(&mut row).expect("a new or spare row is unshared")[..n];
        DOTS.with_borrow_mut(|dots| {
            dots.clear();
            dots.resize(n, 0.0);
            if d > 0 {
                let all = MatRef::from_column_major_slice(&self.x, n, d);
                let sample: Vec<f64> = (0..d).map(|k| self.x[k * n + i]).collect();
                rows_times_transpose(&sample, 1, d, all, dots);
            }
            // As the Gram matrix: the diagonal is the squared norm itself.
            dots[i] = self.sq[i];
            self.kernel.apply_to_row(dots, self.sq[i], &self.sq);
            for (o, &v) in out.iter_mut().zip(dots.iter()) {
                *o = v as f32;
            }
        });
        if let Some(&bad) = out.iter().find(|v| !v.is_finite()) {
            let mut first = self.overflow.lock().unwrap_or_else(PoisonError::into_inner);
            first.get_or_insert(f64::from(bad));
            // Zeros keep the solve finite; the fit reports the overflow when it ends.
            out.fill(0.0);
        }
        row
    }

    /// `Q` of one binary problem held whole — variable `a` is sample `members[a]` with
    /// label `signs[a]` (±1) — computed by tiles of a GEMM over the members alone (the
    /// lower triangle, then mirrored) instead of row by row against every sample: the
    /// same bits as [`GatheredQ`] gives (a product's bits depend neither on the tile nor
    /// on the other rows it is computed with), at a fraction of the cost, in
    /// `members.len()²` single-precision values of `buffer`'s storage. Nothing is
    /// cached, and it runs on the calling thread only, so a caller that solves pairs in
    /// parallel holds one such matrix per thread.
    pub(crate) fn pair_matrix(
        &self,
        members: &[usize],
        signs: &[f32],
        buffer: Vec<f32>,
    ) -> QMatrix {
        debug_assert_eq!(members.len(), signs.len());
        let (n, d, p) = (self.n, self.d, members.len());
        self.computed.fetch_add(p, Ordering::Relaxed);
        self.requests.fetch_add(p, Ordering::Relaxed);
        let features: Vec<f64> = members
            .iter()
            .flat_map(|&m| (0..d).map(move |k| self.x[k * n + m]))
            .collect();
        let sq: Vec<f64> = members.iter().map(|&m| self.sq[m]).collect();
        // Tiles of at most about 4 MiB of inner products.
        let tile_rows = ((1usize << 19) / p.max(1)).clamp(16, 256);
        let mut overflow = None;
        // The thread's reused tile: fresh pages for every pair would be zeroed by the OS.
        let mut q = DOTS.with_borrow_mut(|dots| {
            QMatrix::from_row_tiles(p, buffer, tile_rows, |start, out| {
                let rows = out.len() / p;
                let width = start + rows;
                dots.clear();
                dots.resize(rows * width, 0.0);
                if d > 0 {
                    let earlier = MatRef::from_row_major_slice(&features[..width * d], width, d);
                    rows_times_transpose(&features[start * d..width * d], rows, d, earlier, dots);
                }
                for (r, (row, q_row)) in dots
                    .chunks_exact_mut(width)
                    .zip(out.chunks_exact_mut(p))
                    .enumerate()
                {
                    let a = start + r;
                    let row = &mut row[..=a];
                    // As the Gram matrix: the diagonal is the squared norm itself.
                    row[a] = sq[a];
                    self.kernel.apply_to_row(row, sq[a], &sq[..=a]);
                    let sign = signs[a];
                    for ((q, &v), &s) in q_row.iter_mut().zip(row.iter()).zip(signs) {
                        let v = v as f32;
                        if !v.is_finite() {
                            overflow.get_or_insert(f64::from(v));
                        }
                        // ±1 · ±1 · K: exact, the bits of a gathered row.
                        *q = sign * s * v;
                    }
                }
            })
        });
        crate::kernel::mirror_lower(q.values_mut(), p);
        if let Some(bad) = overflow {
            self.overflow
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get_or_insert(bad);
            // Zeros keep the solve finite; the fit reports the overflow when it ends.
            q.values_mut().fill(0.0);
        }
        q
    }

    /// The cached rows no one else holds, for [`KernelRows::with_spare_rows`].
    pub fn into_spare_rows(self) -> Vec<Arc<[f32]>> {
        let cache = self
            .cache
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        cache
            .rows
            .into_iter()
            .flatten()
            .chain(cache.spare)
            .filter_map(|mut row| Arc::get_mut(&mut row).is_some().then_some(row))
            .collect()
    }

    /// An error if a kernel value computed so far did not fit single precision.
    pub fn check(&self) -> Result<()> {
        match *self.overflow.lock().unwrap_or_else(PoisonError::into_inner) {
            None => Ok(()),
            Some(value) => Err(self.kernel.overflow(value, "the training samples")),
        }
    }
}

/// `Q` of one binary problem gathered from cached kernel rows: variable `a` is sample
/// `members[order[a]]` with label `signs[order[a]]` (±1); the solver's swaps exchange
/// entries of `order`.
pub(crate) struct GatheredQ<'a> {
    source: &'a KernelRows,
    members: Vec<usize>,
    signs: Vec<f32>,
    order: Vec<usize>,
    buffer: Vec<f32>,
}

impl<'a> GatheredQ<'a> {
    pub(crate) fn new(
        source: &'a KernelRows,
        members: Vec<usize>,
        signs: Vec<f32>,
        buffer: Vec<f32>,
    ) -> Self {
        debug_assert_eq!(members.len(), signs.len());
        Self {
            source,
            order: (0..members.len()).collect(),
            members,
            signs,
            buffer,
        }
    }

    /// Puts the variables back in the order they were given in, for another solve.
    pub(crate) fn reset_order(&mut self) {
        for (a, o) in self.order.iter_mut().enumerate() {
            *o = a;
        }
    }

    /// The gather buffer, for reuse.
    pub(crate) fn into_buffer(self) -> Vec<f32> {
        self.buffer
    }
}

impl QRows for GatheredQ<'_> {
    fn size(&self) -> usize {
        self.members.len()
    }

    fn row(&mut self, i: usize, range: Range<usize>) -> &[f32] {
        let full = self.source.row(self.members[self.order[i]]);
        let sign = self.signs[self.order[i]];
        let (members, signs) = (&self.members, &self.signs);
        self.buffer.clear();
        self.buffer.extend(
            self.order[range]
                .iter()
                // ±1 · ±1 · K: exact, the bits of the precomputed path's negation.
                .map(|&b| sign * signs[b] * full[members[b]]),
        );
        &self.buffer
    }

    fn swap(&mut self, i: usize, j: usize) {
        self.order.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::{Gram, Kernel};
    use ndarray::Array2;

    fn data(n: usize, d: usize) -> Array2<f64> {
        Array2::from_shape_fn((n, d), |(i, j)| {
            ((i * 31 + j * 17) as f64 * 0.173).sin() * 3.0
        })
    }

    #[test]
    fn rows_are_the_bits_of_the_kernel_matrix() {
        for (n, d) in [
            (1, 3),
            (5, 1),
            (40, 7),
            (300, 100),
            (517, 33),
            (130, 1764),
            (2100, 12),
        ] {
            let x = data(n, d);
            for kernel in Kernel::ALL {
                let f = KernelFunction {
                    kernel,
                    gamma: 0.01,
                    degree: 3,
                    coef0: 0.5,
                };
                let gram = Gram::new(x.view());
                let whole = f.matrix_from_gram(&gram);
                let rows = KernelRows::new(x.view(), f, 3 * n * 4);
                for i in (0..n).rev() {
                    let row = rows.row(i);
                    for j in 0..n {
                        assert_eq!(
                            row[j].to_bits(),
                            (whole[[i, j]] as f32).to_bits(),
                            "{kernel} n {n} d {d}: ({i}, {j})"
                        );
                    }
                    assert_eq!(rows.diagonal(i).to_bits(), whole[[i, i]].to_bits());
                }
            }
        }
    }

    #[test]
    fn a_pair_matrix_has_the_bits_of_gathered_rows() {
        for (n, d, members) in [
            (40, 7, vec![3, 0, 17, 39, 5]),
            (300, 100, (0..300).rev().step_by(2).collect::<Vec<_>>()),
            (130, 1764, (0..130).filter(|i| i % 3 != 1).collect()),
            (517, 33, (0..517).collect()),
            (9, 1, vec![8, 2]),
            (9, 3, vec![4]),
        ] {
            let x = data(n, d);
            let signs: Vec<f32> = (0..members.len())
                .map(|a| if a % 3 == 0 { -1.0 } else { 1.0 })
                .collect();
            for kernel in Kernel::ALL {
                let f = KernelFunction {
                    kernel,
                    gamma: 0.01,
                    degree: 3,
                    coef0: 0.5,
                };
                let rows = KernelRows::new(x.view(), f, 4 * n * 4);
                let mut whole = rows.pair_matrix(&members, &signs, Vec::new());
                let mut gathered =
                    GatheredQ::new(&rows, members.clone(), signs.clone(), Vec::new());
                let p = members.len();
                for a in 0..p {
                    let expected: Vec<u32> =
                        gathered.row(a, 0..p).iter().map(|v| v.to_bits()).collect();
                    let got: Vec<u32> = whole.row(a, 0..p).iter().map(|v| v.to_bits()).collect();
                    assert_eq!(got, expected, "{kernel} n {n} d {d}: row {a}");
                }
                assert!(rows.check().is_ok());
            }
        }
    }

    #[test]
    fn a_pair_matrix_reports_an_overflow() {
        let x = Array2::from_elem((3, 2), 1e20);
        let f = KernelFunction {
            kernel: Kernel::Linear,
            gamma: 1.0,
            degree: 3,
            coef0: 0.0,
        };
        let rows = KernelRows::new(x.view(), f, 1 << 20);
        let mut q = rows.pair_matrix(&[0, 2], &[1.0, -1.0], Vec::new());
        assert!(q.values_mut().iter().all(|&v| v == 0.0));
        assert!(
            rows.check()
                .unwrap_err()
                .to_string()
                .contains("linear kernel")
        );
    }

    #[test]
    fn the_cache_keeps_the_most_recent_rows_within_its_capacity() {
        let x = data(50, 4);
        let f = KernelFunction {
            kernel: Kernel::Rbf,
            gamma: 0.1,
            degree: 3,
            coef0: 0.0,
        };
        let rows = KernelRows::new(x.view(), f, 3 * 50 * 4);
        assert_eq!(rows.capacity_rows(), 3);
        for i in [0, 1, 2, 0, 3, 0, 1] {
            rows.row(i);
        }
        // 0, 1, 2 computed; 0 hit; 3 evicts 1 (oldest); 0 hit; 1 recomputed.
        assert_eq!(rows.counts(), (7, 5));
        let cache = rows.cache.lock().unwrap();
        assert_eq!(cache.held, 3);
        assert!(cache.rows[1].is_some() && cache.rows[0].is_some() && cache.rows[3].is_some());
        assert!(cache.rows[2].is_none());
    }

    #[test]
    fn a_previous_caches_rows_are_refilled_with_the_same_values() {
        let (long, short) = (data(60, 5), data(57, 5));
        let f = KernelFunction {
            kernel: Kernel::Rbf,
            gamma: 0.3,
            degree: 3,
            coef0: 0.0,
        };
        let first = KernelRows::new(long.view(), f, 1 << 20);
        for i in 0..10 {
            first.row(i);
        }
        let spare = first.into_spare_rows();
        assert_eq!(spare.len(), 10);
        let second = KernelRows::with_spare_rows(short.view(), f, 1 << 20, spare);
        let fresh = KernelRows::new(short.view(), f, 1 << 20);
        for i in 0..12 {
            let (a, b) = (second.row(i), fresh.row(i));
            assert_eq!(&a[..57], &b[..], "row {i}");
        }
        assert!(second.row(3).len() == 60 && second.row(11).len() == 57);
    }

    #[test]
    fn large_rows_are_counted_as_the_allocator_holds_them() {
        assert_eq!(allocated_row_bytes(1000), 4000);
        assert_eq!(allocated_row_bytes(32 << 10), 128 << 10);
        assert_eq!(allocated_row_bytes(33_333), 192 << 10);
        assert_eq!(allocated_row_bytes(0), 1);
    }

    #[test]
    fn an_overflow_is_reported_not_solved_on() {
        let x = Array2::from_elem((3, 2), 1e20);
        let f = KernelFunction {
            kernel: Kernel::Linear,
            gamma: 1.0,
            degree: 3,
            coef0: 0.0,
        };
        let rows = KernelRows::new(x.view(), f, 1 << 20);
        assert!(rows.check().is_ok());
        assert!(rows.row(0).iter().all(|&v| v == 0.0));
        let message = rows.check().unwrap_err().to_string();
        assert!(message.contains("linear kernel"), "{message}");
    }

    #[test]
    fn gathered_rows_follow_swaps() {
        let x = data(6, 3);
        let f = KernelFunction {
            kernel: Kernel::Rbf,
            gamma: 0.2,
            degree: 3,
            coef0: 0.0,
        };
        let rows = KernelRows::new(x.view(), f, 1 << 20);
        let members = vec![4, 1, 5];
        let signs = vec![1.0, 1.0, -1.0];
        let mut q = GatheredQ::new(&rows, members, signs, Vec::new());
        q.swap(0, 2);
        // Variable 0 is now sample 5 (label −1), variable 2 sample 4 (+1).
        let row = q.row(0, 0..3).to_vec();
        let full = rows.row(5);
        assert_eq!(row, vec![full[5], -full[1], -full[4]]);
        assert_eq!(
            q.row(2, 1..3).to_vec(),
            vec![rows.row(4)[1], rows.row(4)[4]]
        );
    }
}
