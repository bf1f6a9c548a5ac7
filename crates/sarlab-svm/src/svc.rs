//! Multi-class C-SVC, one-vs-one as libsvm trains and votes, on a precomputed kernel.
//!
//! For every pair of classes `(i, j)`, `i < j`, a binary machine is trained on the
//! samples of the two classes (class `i` first, labelled +1, then class `j`, −1, each in
//! training order — libsvm's layout), with upper bounds `C·wᵢ` and `C·wⱼ`. A query's
//! decision value for the pair is `Σ yₛαₛ K(xₛ, x) − ρ`; a positive value votes for `i`,
//! otherwise `j`, and the class with most votes wins, the lowest index on a tie.
//!
//! Training works on rows of a kernel matrix through an index list, so cross-validation
//! folds are index views into one shared kernel rather than copies of the data.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use linfa::prelude::*;
use ndarray::{Array1, Array2, ArrayBase, ArrayView2, Axis, Data, Ix2};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::kernel::{Kernel, KernelFunction, Layout, LowerGram, sq_norms};
use crate::machines::{Machines, PairMachine, check_labelled, present_classes};
use crate::memory::{KernelMemory, Storage};
use crate::params::SvmParams;
use crate::row_cache::{GatheredQ, KernelRows};
use crate::smo::{BinarySolution, PermutedQ, QMatrix, SolverSettings, solve};

/// The training part of a kernel matrix regrouped by class and rounded to single
/// precision (libsvm's `Qfloat`), so each pair machine's `Q` is four contiguous block
/// copies. Built once per kernel and training set and shared by every C.
#[derive(Debug, Clone)]
pub struct ClassBlocks {
    n_classes: usize,
    classes: Vec<usize>,
    /// Training positions (indices into the labels) in class order, ascending within a
    /// class.
    order: Vec<usize>,
    /// `starts[c]..starts[c + 1]`: the range of `order` holding class `c`.
    starts: Vec<usize>,
    /// The kernel between the training positions.
    values: BlockValues,
    /// `K[order[a], order[a]]` in double precision (libsvm's `QD`).
    diagonal: Vec<f64>,
    /// The labels by training position, for class weights.
    y: Vec<usize>,
}

/// Where the class blocks' kernel values are.
#[derive(Debug, Clone)]
enum BlockValues {
    /// `K[order[a], order[b]]` rounded to `f32`, row-major.
    Dense(Vec<f32>),
    /// Rows of a bounded cache: training position `s` is sample `samples[s]` of it.
    /// With `whole_pairs`, each pair machine's `Q` is instead computed whole from the
    /// cache's samples ([`KernelRows::pair_matrix`]) — for when one `Q` per thread fits
    /// the memory the cache was given.
    Cached {
        rows: Arc<KernelRows>,
        samples: Vec<usize>,
        whole_pairs: bool,
    },
}

/// An error unless every kernel value of the training blocks is finite in single
/// precision: an overflowing kernel would leave the solver with NaN gradients.
fn check_finite(values: &[f32], diagonal: &[f64], kernel: Option<&KernelFunction>) -> Result<()> {
    const SAMPLES: &str = "the training samples";
    match kernel {
        Some(kernel) => {
            kernel.check_values(values, SAMPLES)?;
            kernel.check_values(diagonal, SAMPLES)
        }
        // A precomputed kernel: no parameters to blame.
        None => match values
            .par_iter()
            .map(|&v| f64::from(v))
            .chain(diagonal.par_iter().copied())
            .find_first(|v| !v.is_finite())
        {
            None => Ok(()),
            Some(value) => Err(Error::KernelOverflow {
                kernel: "precomputed".to_owned(),
                value,
                samples: SAMPLES,
                advice: "the kernel matrix passed in holds values that do not fit single precision",
            }),
        },
    }
}

/// Classes present, positions in class order and the class ranges of that order.
type ClassLayout = (Vec<usize>, Vec<usize>, Vec<usize>);

fn class_layout(positions: usize, y: &[usize], n_classes: usize) -> Result<ClassLayout> {
    if positions != y.len() {
        return Err(Error::LengthMismatch {
            records: positions,
            labels: y.len(),
        });
    }
    if let Some(&label) = y.iter().find(|&&l| l >= n_classes) {
        return Err(Error::LabelOutOfRange { label, n_classes });
    }
    let classes = present_classes(y, n_classes)?;
    let mut order: Vec<usize> = (0..y.len()).collect();
    order.sort_by_key(|&s| y[s]); // stable: ascending positions within a class
    let mut starts = vec![0; n_classes + 1];
    for &label in y {
        starts[label + 1] += 1;
    }
    for c in 0..n_classes {
        starts[c + 1] += starts[c];
    }
    Ok((classes, order, starts))
}

impl ClassBlocks {
    /// From the kernel matrix `k` over the training samples `train` (rows of `k`) with
    /// labels `y[s]` for position `s` of `train`. Only `k[train[a], train[b]]` is read.
    pub fn new(
        k: ArrayView2<'_, f64>,
        train: &[usize],
        y: &[usize],
        n_classes: usize,
    ) -> Result<Self> {
        let (classes, order, starts) = class_layout(train.len(), y, n_classes)?;
        let rows: Vec<usize> = order.iter().map(|&s| train[s]).collect();
        let m = rows.len();
        let mut values = vec![0.0; m * m];
        values
            .par_chunks_mut(m.max(1))
            .zip(&rows)
            .for_each(|(out, &r)| {
                let k_row = k.row(r);
                for (o, &c) in out.iter_mut().zip(&rows) {
                    *o = k_row[c] as f32;
                }
            });
        let diagonal: Vec<f64> = rows.iter().map(|&r| k[[r, r]]).collect();
        check_finite(&values, &diagonal, None)?;
        Ok(Self {
            n_classes,
            classes,
            order,
            starts,
            values: BlockValues::Dense(values),
            diagonal,
            y: y.to_vec(),
        })
    }

    /// The kernel `kernel` over the training samples `train` (rows of the Gram matrix),
    /// computed from the Gram matrix's lower triangle straight into the blocks (then
    /// mirrored). Fastest when `train` in class order is ascending (rows grouped by class),
    /// as the rows of each block row are then one contiguous prefix of a Gram row.
    pub(crate) fn from_lower_gram(
        gram: &LowerGram,
        train: &[usize],
        y: &[usize],
        n_classes: usize,
        kernel: &KernelFunction,
    ) -> Result<Self> {
        let (classes, order, starts) = class_layout(train.len(), y, n_classes)?;
        let rows: Vec<usize> = order.iter().map(|&s| train[s]).collect();
        let contiguous = rows.iter().enumerate().all(|(a, &r)| r == a);
        let sq: Vec<f64> = rows.iter().map(|&r| gram.sq_norms[r]).collect();
        let m = rows.len();
        let mut values = vec![0.0f32; m * m];
        values.par_chunks_mut(m.max(1)).enumerate().for_each_init(
            || vec![0.0; m],
            |dots, (a, out)| {
                let dots = &mut dots[..=a];
                if contiguous {
                    dots.copy_from_slice(gram.row_prefix(a));
                } else {
                    for (d, &r) in dots.iter_mut().zip(&rows) {
                        *d = gram.dot(rows[a], r);
                    }
                }
                kernel.apply_to_row(dots, sq[a], &sq[..=a]);
                for (o, &v) in out.iter_mut().zip(dots.iter()) {
                    *o = v as f32;
                }
            },
        );
        crate::kernel::mirror_lower(&mut values, m);
        let diagonal: Vec<f64> = sq.iter().map(|&s| kernel.from_dot(s, s, s)).collect();
        check_finite(&values, &diagonal, Some(kernel))?;
        Ok(Self {
            n_classes,
            classes,
            order,
            starts,
            values: BlockValues::Dense(values),
            diagonal,
            y: y.to_vec(),
        })
    }

    /// The kernel `kernel` over the rows of `x` (labels `y`), computed by GEMM tiles of
    /// the lower triangle straight into the blocks — no `n × n` double-precision matrix.
    pub fn from_rows(
        x: ArrayView2<'_, f64>,
        y: &[usize],
        n_classes: usize,
        kernel: &KernelFunction,
    ) -> Result<Self> {
        let (classes, order, starts) = class_layout(x.nrows(), y, n_classes)?;
        let sorted = x.select(Axis(0), &order);
        let sq = crate::kernel::sq_norms(sorted.view());
        let m = order.len();
        let mut values = vec![0.0f32; m * m];
        crate::kernel::lower_gram_rows(
            sorted.view(),
            &mut values,
            Layout::Square,
            |i, dots, out| {
                dots[i] = sq[i];
                kernel.apply_to_row(dots, sq[i], &sq[..=i]);
                for (o, &v) in out.iter_mut().zip(dots.iter()) {
                    *o = v as f32;
                }
            },
        );
        crate::kernel::mirror_lower(&mut values, m);
        let diagonal: Vec<f64> = sq.iter().map(|&s| kernel.from_dot(s, s, s)).collect();
        check_finite(&values, &diagonal, Some(kernel))?;
        Ok(Self {
            n_classes,
            classes,
            order,
            starts,
            values: BlockValues::Dense(values),
            diagonal,
            y: y.to_vec(),
        })
    }

    /// Blocks whose kernel rows come from the bounded cache `rows`: training position
    /// `s` (label `y[s]`) is sample `samples[s]` of `rows`. Nothing of the kernel is
    /// computed here; the fits compute the rows they need — or, with `whole_pairs`, each
    /// pair machine's `Q` whole, one per thread solving (the same bits either way).
    pub fn from_kernel_rows(
        rows: Arc<KernelRows>,
        samples: &[usize],
        y: &[usize],
        n_classes: usize,
        whole_pairs: bool,
    ) -> Result<Self> {
        let (classes, order, starts) = class_layout(samples.len(), y, n_classes)?;
        if let Some(&bad) = samples.iter().find(|&&s| s >= rows.len()) {
            return Err(Error::Shape(format!(
                "training sample {bad} of a kernel cache over {} samples",
                rows.len()
            )));
        }
        let diagonal: Vec<f64> = order.iter().map(|&s| rows.diagonal(samples[s])).collect();
        rows.kernel()
            .check_values(&diagonal, "the training samples")?;
        Ok(Self {
            n_classes,
            classes,
            order,
            starts,
            values: BlockValues::Cached {
                rows,
                samples: samples.to_vec(),
                whole_pairs,
            },
            diagonal,
            y: y.to_vec(),
        })
    }

    /// Whether the kernel values come from a bounded cache rather than a matrix held
    /// whole.
    pub fn is_cached(&self) -> bool {
        matches!(self.values, BlockValues::Cached { .. })
    }

    /// The cache the rows come from, if any.
    pub fn kernel_rows(&self) -> Option<&Arc<KernelRows>> {
        match &self.values {
            BlockValues::Cached { rows, .. } => Some(rows),
            BlockValues::Dense(_) => None,
        }
    }

    /// One binary machine's `Q`: the positions `sorted` (indices into `order`; the
    /// first `n_pos` labelled +1). `buffer` is reused storage.
    fn pair_q(&self, sorted: &[usize], n_pos: usize, buffer: Vec<f32>) -> PairQ<'_> {
        match &self.values {
            BlockValues::Dense(values) => {
                let m = self.order.len();
                let pos_range = sorted[0]..sorted[0] + n_pos;
                let neg_range = sorted
                    .get(n_pos)
                    .map_or(0..0, |&s| s..s + sorted.len() - n_pos);
                PairQ::Whole(QMatrix::from_rows(sorted.len(), buffer, |a, out| {
                    let row = &values[sorted[a] * m..(sorted[a] + 1) * m];
                    let (same, other) = out.split_at_mut(n_pos);
                    let (pos_values, neg_values) =
                        (&row[pos_range.clone()], &row[neg_range.clone()]);
                    if a < n_pos {
                        same.copy_from_slice(pos_values);
                        other.iter_mut().zip(neg_values).for_each(|(o, &v)| *o = -v);
                    } else {
                        same.iter_mut().zip(pos_values).for_each(|(o, &v)| *o = -v);
                        other.copy_from_slice(neg_values);
                    }
                }))
            }
            BlockValues::Cached {
                rows,
                samples,
                whole_pairs,
            } => {
                let members: Vec<usize> = sorted.iter().map(|&a| samples[self.order[a]]).collect();
                let signs: Vec<f32> = (0..sorted.len())
                    .map(|a| if a < n_pos { 1.0 } else { -1.0 })
                    .collect();
                if *whole_pairs {
                    PairQ::Whole(rows.pair_matrix(&members, &signs, buffer))
                } else {
                    PairQ::Gathered(GatheredQ::new(rows, members, signs, buffer))
                }
            }
        }
    }

    fn range(&self, class: usize) -> std::ops::Range<usize> {
        self.starts[class]..self.starts[class + 1]
    }
}

/// Trains the one-vs-one machines on the training samples `train` (rows of the kernel
/// matrix `k`) with labels `y[s]` for position `s` of `train`. `k` must be symmetric on
/// `train`; only `k[train[a], train[b]]` is read.
pub fn fit_machines(
    k: ArrayView2<'_, f64>,
    train: &[usize],
    y: &[usize],
    n_classes: usize,
    params: &SvmParams,
) -> Result<Machines> {
    params.validate()?;
    let blocks = ClassBlocks::new(k, train, y, n_classes)?;
    fit_class_blocks(&blocks, params, None)
}

/// A pair machine's `Q`: held whole, or gathered from cached rows.
enum PairQ<'a> {
    Whole(QMatrix),
    Gathered(GatheredQ<'a>),
}

impl PairQ<'_> {
    /// Solves on `Q`, leaving it as it was given (for the next C).
    fn solve(
        &mut self,
        (qd, labels, bounds): (Vec<f64>, Vec<i8>, Vec<f64>),
        settings: &SolverSettings,
    ) -> BinarySolution {
        match self {
            PairQ::Whole(q) => solve(&mut PermutedQ::new(q), qd, labels, bounds, settings),
            PairQ::Gathered(q) => {
                let solution = solve(q, qd, labels, bounds, settings);
                q.reset_order();
                solution
            }
        }
    }

    fn into_buffer(self) -> Vec<f32> {
        match self {
            PairQ::Whole(q) => q.into_buffer(),
            PairQ::Gathered(q) => q.into_buffer(),
        }
    }
}

/// Buffers for pair machines' `Q`, handed from one solve to the next across every fit
/// that shares the pool, at most one per thread solving: a fresh buffer of hundreds of
/// megabytes would have all its pages zeroed by the OS again.
#[derive(Debug, Default)]
pub(crate) struct QBuffers(Mutex<Vec<Vec<f32>>>);

impl QBuffers {
    fn take(&self) -> Vec<f32> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
            .unwrap_or_default()
    }

    fn give_back(&self, buffer: Vec<f32>) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(buffer);
    }
}

/// The one-vs-one pairs of the classes present, in libsvm's order.
fn class_pairs(blocks: &ClassBlocks) -> Vec<(usize, usize)> {
    blocks
        .classes
        .iter()
        .enumerate()
        .flat_map(|(a, &i)| blocks.classes[a + 1..].iter().map(move |&j| (i, j)))
        .collect()
}

/// One pair machine's variables: positions into `order`, class `pos` first.
struct PairProblem {
    pos: usize,
    neg: usize,
    sorted: Vec<usize>,
    n_pos: usize,
}

impl PairProblem {
    fn new(blocks: &ClassBlocks, pos: usize, neg: usize) -> Self {
        let (pos_range, neg_range) = (blocks.range(pos), blocks.range(neg));
        let n_pos = pos_range.len();
        Self {
            pos,
            neg,
            sorted: pos_range.chain(neg_range).collect(),
            n_pos,
        }
    }

    /// The solver's diagonal, labels and upper bounds under `c`.
    fn variables(
        &self,
        blocks: &ClassBlocks,
        c: f64,
        weights: &[f64],
    ) -> (Vec<f64>, Vec<i8>, Vec<f64>) {
        let qd = self.sorted.iter().map(|&a| blocks.diagonal[a]).collect();
        let positive = |a: usize| a < self.n_pos;
        let labels = (0..self.sorted.len())
            .map(|a| if positive(a) { 1 } else { -1 })
            .collect();
        let bounds = (0..self.sorted.len())
            .map(|a| c * weights[if positive(a) { self.pos } else { self.neg }])
            .collect();
        (qd, labels, bounds)
    }

    fn machine(&self, blocks: &ClassBlocks, solution: BinarySolution) -> PairMachine {
        let (mut support, mut coef) = (Vec::new(), Vec::new());
        for (a, &alpha) in solution.alpha.iter().enumerate() {
            // libsvm keeps every non-zero α.
            if alpha != 0.0 {
                support.push(blocks.order[self.sorted[a]]);
                coef.push(if a < self.n_pos { alpha } else { -alpha });
            }
        }
        PairMachine {
            pos: self.pos,
            neg: self.neg,
            support,
            coef,
            rho: solution.rho,
            iterations: solution.iterations,
            hit_iteration_cap: solution.hit_iteration_cap,
            upper_bound_reached: solution.upper_bound_reached,
        }
    }
}

/// Trains the one-vs-one machines on prepared kernel blocks. `previous`, when given,
/// must be machines trained on the same blocks; those of its pair machines whose
/// solve never met an upper bound are reused as they are when `params` differs from
/// the previous parameters only by a C at least as large — the solver would retrace
/// the same path to the same bits (see [`crate::BinarySolution::upper_bound_reached`]).
pub fn fit_class_blocks(
    blocks: &ClassBlocks,
    params: &SvmParams,
    previous: Option<(&SvmParams, &Machines)>,
) -> Result<Machines> {
    params.validate()?;
    let weights = params.class_weight.resolve(&blocks.y, blocks.n_classes)?;
    let reusable = previous.filter(|(before, machines)| {
        before.c <= params.c
            && before.differs_only_in_c(params)
            && machines.classes == blocks.classes
    });
    let settings = params.solver_settings();
    let buffers = QBuffers::default();
    let pairs = class_pairs(blocks)
        .par_iter()
        .enumerate()
        .map(|(p, &(pos, neg))| {
            if let Some((_, machines)) = reusable {
                let before = &machines.pairs[p];
                if !before.upper_bound_reached && (before.pos, before.neg) == (pos, neg) {
                    return before.clone();
                }
            }
            let problem = PairProblem::new(blocks, pos, neg);
            let mut q = blocks.pair_q(&problem.sorted, problem.n_pos, buffers.take());
            let solution = q.solve(problem.variables(blocks, params.c, &weights), &settings);
            buffers.give_back(q.into_buffer());
            problem.machine(blocks, solution)
        })
        .collect();
    if let Some(rows) = blocks.kernel_rows() {
        rows.check()?;
    }
    Ok(Machines {
        n_classes: blocks.n_classes,
        classes: blocks.classes.clone(),
        pairs,
    })
}

/// The machines of every configuration of `chain` — configurations that differ only
/// in C, ascending — on the same blocks, each with the seconds its fit took: the same
/// machines, bit for bit, as [`fit_class_blocks`] of each after the one before, but
/// each pair machine's `Q` is built once for the whole chain (and put back in order
/// each solve reads it through a permutation) instead of once per C. A fit's seconds are the chain's wall time
/// shared in proportion to the work done for it (its solves, and an equal share of
/// building each `Q`).
pub fn fit_class_blocks_over_c(
    blocks: &ClassBlocks,
    chain: &[SvmParams],
) -> Result<Vec<(Machines, f64)>> {
    fit_chain(blocks, chain, &QBuffers::default())
}

/// [`fit_class_blocks_over_c`] with `Q` buffers from `buffers`.
pub(crate) fn fit_chain(
    blocks: &ClassBlocks,
    chain: &[SvmParams],
    buffers: &QBuffers,
) -> Result<Vec<(Machines, f64)>> {
    let start = Instant::now();
    let Some(first) = chain.first() else {
        return Ok(Vec::new());
    };
    for (before, after) in chain.iter().zip(&chain[1..]) {
        if !(before.differs_only_in_c(after) && before.c <= after.c) {
            return Err(Error::InvalidParameter {
                name: "C",
                message: format!(
                    "a chain of fits must differ only in C, ascending; got C = {} then C = {}",
                    before.c, after.c
                ),
            });
        }
    }
    for params in chain {
        params.validate()?;
    }
    let weights = first.class_weight.resolve(&blocks.y, blocks.n_classes)?;
    let settings = first.solver_settings();
    // Per pair: its machine under each C, and the seconds spent for each.
    let per_pair: Vec<(Vec<PairMachine>, Vec<f64>)> = class_pairs(blocks)
        .par_iter()
        .map(|&(pos, neg)| {
            let problem = PairProblem::new(blocks, pos, neg);
            let built = Instant::now();
            let mut q = blocks.pair_q(&problem.sorted, problem.n_pos, buffers.take());
            let build_share = built.elapsed().as_secs_f64() / chain.len() as f64;
            let mut machines: Vec<PairMachine> = Vec::with_capacity(chain.len());
            let mut seconds = Vec::with_capacity(chain.len());
            for params in chain {
                let solving = Instant::now();
                let machine = match machines.last() {
                    Some(before) if !before.upper_bound_reached => before.clone(),
                    _ => {
                        let variables = problem.variables(blocks, params.c, &weights);
                        let solution = q.solve(variables, &settings);
                        problem.machine(blocks, solution)
                    }
                };
                seconds.push(solving.elapsed().as_secs_f64() + build_share);
                machines.push(machine);
            }
            buffers.give_back(q.into_buffer());
            (machines, seconds)
        })
        .collect();
    if let Some(rows) = blocks.kernel_rows() {
        rows.check()?;
    }
    let work: Vec<f64> = (0..chain.len())
        .map(|k| per_pair.iter().map(|(_, s)| s[k]).sum())
        .collect();
    let total_work: f64 = work.iter().sum();
    let wall = start.elapsed().as_secs_f64();
    Ok((0..chain.len())
        .map(|k| {
            let machines = Machines {
                n_classes: blocks.n_classes,
                classes: blocks.classes.clone(),
                pairs: per_pair.iter().map(|(m, _)| m[k].clone()).collect(),
            };
            let share = if total_work > 0.0 {
                work[k] / total_work
            } else {
                1.0 / chain.len() as f64
            };
            (machines, wall * share)
        })
        .collect())
}

/// Bytes of the largest pair machine's `Q` (single precision).
pub(crate) fn largest_pair(y: &[usize], n_classes: usize) -> f64 {
    let mut counts = vec![0usize; n_classes];
    for &label in y {
        counts[label] += 1;
    }
    counts.sort_unstable_by(|a, b| b.cmp(a));
    let pair = (counts.first().copied().unwrap_or(0) + counts.get(1).copied().unwrap_or(0)) as f64;
    pair * pair * 4.0
}

/// Which implementation trains the pair machines, and how the kernel is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Engine {
    pub backend: Backend,
    pub memory: KernelMemory,
}

impl From<Backend> for Engine {
    fn from(backend: Backend) -> Self {
        Self {
            backend,
            memory: KernelMemory::Whole,
        }
    }
}

/// Which implementation trains the pair machines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// sarlab's SMO on a shared precomputed kernel.
    #[default]
    Sarlab,
    /// linfa-svm 0.8.1 (shrinking off, DESIGN §6), for cross-checks; RBF and linear only.
    Linfa,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sarlab => "sarlab",
            Backend::Linfa => "linfa",
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Backend {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "sarlab" => Ok(Backend::Sarlab),
            "linfa" => Ok(Backend::Linfa),
            other => Err(Error::InvalidParameter {
                name: "backend",
                message: format!("`{other}` is not one of sarlab, linfa"),
            }),
        }
    }
}

/// A multi-class C-SVC; a linfa model via [`Fit`] and [`PredictInplace`].
#[derive(Debug, Clone)]
pub struct Svc {
    pub params: SvmParams,
    /// Number of classes labels may take (`0..n_classes`).
    pub n_classes: usize,
    pub backend: Backend,
    pub memory: KernelMemory,
}

/// A fitted [`Svc`]: the machines and their support vectors.
#[derive(Debug, Clone)]
pub struct SvcModel {
    pub kernel: KernelFunction,
    pub machines: Machines,
    /// Every training row that is a support vector of at least one machine, in
    /// training order; [`PairMachine::support`] indexes these rows.
    pub support_vectors: Array2<f64>,
    /// The training rows the support vectors came from (scikit-learn's `support_`).
    pub support_indices: Vec<usize>,
    pub fit_seconds: f64,
}

impl Svc {
    pub fn new(params: SvmParams, n_classes: usize) -> Self {
        Self {
            params,
            n_classes,
            backend: Backend::Sarlab,
            memory: KernelMemory::Whole,
        }
    }

    pub fn with_backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// The backend and the kernel's memory at once.
    pub fn with_engine(mut self, engine: impl Into<Engine>) -> Self {
        let engine = engine.into();
        self.backend = engine.backend;
        self.memory = engine.memory;
        self
    }

    /// How a fit on `x` holds its kernel under this machine's memory setting.
    fn storage(&self, x: ArrayView2<'_, f64>, y: &[usize]) -> Storage {
        let (n, d) = (x.nrows() as f64, x.ncols() as f64);
        let fixed = n * d * 8.0;
        let threads = rayon::current_num_threads() as f64;
        let whole = n * n * 4.0 + fixed + threads * largest_pair(y, self.n_classes);
        self.memory.storage(whole, fixed, 1)
    }

    /// Whether a fit on `x` (labels `y`) computes kernel rows into a cache instead of
    /// holding the kernel whole.
    pub fn caches_kernel(&self, x: ArrayView2<'_, f64>, y: &[usize]) -> bool {
        self.backend == Backend::Sarlab && matches!(self.storage(x, y), Storage::Cached { .. })
    }

    /// Fits on the rows of `x` with labels `y`.
    pub fn fit_rows(&self, x: ArrayView2<'_, f64>, y: &[usize]) -> Result<SvcModel> {
        let start = Instant::now();
        self.params.validate()?;
        check_labelled(x, y, self.n_classes)?;
        present_classes(y, self.n_classes)?;
        let kernel = self.params.kernel_function(x, None);
        let machines = match self.backend {
            Backend::Sarlab => {
                let blocks = match self.storage(x, y) {
                    Storage::Whole => ClassBlocks::from_rows(x, y, self.n_classes, &kernel)?,
                    Storage::Cached { cache_bytes } => {
                        let threads = rayon::current_num_threads() as f64;
                        let whole_pairs =
                            threads * largest_pair(y, self.n_classes) <= cache_bytes as f64;
                        let rows = Arc::new(KernelRows::new(x, kernel, cache_bytes));
                        let samples: Vec<usize> = (0..x.nrows()).collect();
                        ClassBlocks::from_kernel_rows(
                            rows,
                            &samples,
                            y,
                            self.n_classes,
                            whole_pairs,
                        )?
                    }
                };
                fit_class_blocks(&blocks, &self.params, None)?
            }
            Backend::Linfa => {
                crate::linfa_backend::fit_machines(x, y, self.n_classes, &self.params, &kernel)?
            }
        };
        Ok(SvcModel::from_machines(
            x,
            machines,
            kernel,
            start.elapsed().as_secs_f64(),
        ))
    }
}

impl SvcModel {
    /// Gathers the support vectors of machines trained on the rows of `x` (positions
    /// are rows of `x`) and re-indexes the machines onto them.
    pub fn from_machines(
        x: ArrayView2<'_, f64>,
        machines: Machines,
        kernel: KernelFunction,
        fit_seconds: f64,
    ) -> Self {
        let positions: Vec<usize> = (0..x.nrows()).collect();
        Self::from_machines_at(x, &positions, machines, kernel, fit_seconds)
    }

    /// [`SvcModel::from_machines`] for machines whose training position `s` is row
    /// `rows[s]` of `x`.
    pub fn from_machines_at(
        x: ArrayView2<'_, f64>,
        rows: &[usize],
        mut machines: Machines,
        kernel: KernelFunction,
        fit_seconds: f64,
    ) -> Self {
        let mut used = vec![false; rows.len()];
        for m in &machines.pairs {
            for &s in &m.support {
                used[s] = true;
            }
        }
        let support_indices: Vec<usize> = (0..rows.len()).filter(|&i| used[i]).collect();
        let mut slot = vec![usize::MAX; rows.len()];
        for (k, &i) in support_indices.iter().enumerate() {
            slot[i] = k;
        }
        for m in &mut machines.pairs {
            for s in &mut m.support {
                *s = slot[*s];
            }
        }
        let support_rows: Vec<usize> = support_indices.iter().map(|&s| rows[s]).collect();
        Self {
            kernel,
            support_vectors: x.select(Axis(0), &support_rows),
            support_indices,
            machines,
            fit_seconds,
        }
    }

    /// Number of distinct support vectors.
    pub fn support_vector_count(&self) -> usize {
        self.support_indices.len()
    }

    /// Decision values, one column per pair machine in order `(0,1), (0,2), …, (1,2), …`
    /// over the present classes; positive votes for the first class of the pair
    /// (libsvm's sign; scikit-learn's `decision_function_shape="ovo"` for more than two
    /// classes, its negation for two). The kernel against the support vectors is
    /// computed for blocks of rows, so that a large test set never needs its whole
    /// `rows × support vectors` kernel at once.
    ///
    /// An error if the kernel between a query and a support vector is not finite (query
    /// features far larger than the training features).
    pub fn decision_function(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        let (n, pairs) = (x.nrows(), self.machines.pairs.len());
        let mut out = Vec::with_capacity(n * pairs);
        if n == 0 {
            return Ok(Array2::zeros((0, pairs)));
        }
        let sq_sv = match self.kernel.kernel {
            Kernel::Rbf => sq_norms(self.support_vectors.view()),
            _ => Vec::new(),
        };
        let width = self.support_vectors.nrows().max(1);
        // Tiles of rows at a time (each thread's kernel tile is reused), in blocks, so
        // memory holds at most a block's kernel however many rows there are.
        const BLOCK_ROWS: usize = 1024;
        for block in x.axis_chunks_iter(Axis(0), BLOCK_ROWS) {
            let tiles = self.kernel.map_tiles(
                block,
                self.support_vectors.view(),
                &sq_sv,
                |_, values| -> Result<Vec<f64>> {
                    self.kernel
                        .check_values_serial(values, "the query samples and the support vectors")?;
                    let mut decisions = vec![0.0; values.len() / width * pairs];
                    for (k, row) in values
                        .chunks_exact(width)
                        .zip(decisions.chunks_exact_mut(pairs.max(1)))
                    {
                        self.machines.decide_row(k, row);
                    }
                    Ok(decisions)
                },
            );
            for tile in tiles {
                out.extend(tile?);
            }
        }
        Ok(Array2::from_shape_vec((n, pairs), out).expect("rows × pairs"))
    }

    /// The predicted class of every row of `x` (see [`SvcModel::decision_function`]
    /// for the error).
    pub fn predict_rows(&self, x: ArrayView2<'_, f64>) -> Result<Vec<usize>> {
        Ok(self.machines.vote(self.decision_function(x)?.view()))
    }
}

impl<D: Data<Elem = f64>> Fit<ArrayBase<D, Ix2>, Array1<usize>, Error> for Svc {
    type Object = SvcModel;

    fn fit(&self, dataset: &DatasetBase<ArrayBase<D, Ix2>, Array1<usize>>) -> Result<SvcModel> {
        let labels = dataset.targets().to_vec();
        self.fit_rows(dataset.records().view(), &labels)
    }
}

impl<D: Data<Elem = f64>> PredictInplace<ArrayBase<D, Ix2>, Array1<usize>> for SvcModel {
    fn predict_inplace(&self, x: &ArrayBase<D, Ix2>, targets: &mut Array1<usize>) {
        assert_eq!(x.nrows(), targets.len(), "one target per record");
        // linfa's trait cannot fail: a query whose kernel overflows gets the vote of
        // whatever its decision values are; `predict_rows` reports it instead.
        let kernel = self.kernel.between(x.view(), self.support_vectors.view());
        let predicted = self
            .machines
            .vote(self.machines.decisions(kernel.view()).view());
        for (t, p) in targets.iter_mut().zip(predicted) {
            *t = p;
        }
    }

    fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<usize> {
        Array1::zeros(x.nrows())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::{Gamma, Gram, Kernel};
    use crate::params::ClassWeight;
    use ndarray::array;

    /// Three well separated blobs in 2-D.
    fn blobs() -> (Array2<f64>, Array1<usize>) {
        let centres = [[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]];
        let mut x = Vec::new();
        let mut y = Vec::new();
        for (k, c) in centres.iter().enumerate() {
            for i in 0..10 {
                let a = i as f64 * 0.7;
                x.push([c[0] + 0.5 * a.cos(), c[1] + 0.5 * a.sin()]);
                y.push(k);
            }
        }
        let flat: Vec<f64> = x.into_iter().flatten().collect();
        (
            Array2::from_shape_vec((30, 2), flat).expect("shape"),
            Array1::from(y),
        )
    }

    #[test]
    fn decisions_in_row_blocks_equal_one_kernel_over_every_row() {
        let (x, y) = blobs();
        let model = Svc::new(SvmParams::default(), 3)
            .fit_rows(x.view(), y.as_slice().expect("contiguous"))
            .expect("fit");
        // More test rows than one block, and a last block that is not full.
        let test = Array2::from_shape_fn((2500, 2), |(i, j)| {
            ((i * 13 + j * 7) % 61) as f64 * 0.1 - 0.5
        });
        let whole = model.machines.decisions(
            model
                .kernel
                .between(test.view(), model.support_vectors.view())
                .view(),
        );
        assert_eq!(model.decision_function(test.view()).expect("finite"), whole);
        assert!(
            model
                .decision_function(test.slice(ndarray::s![..0, ..]))
                .expect("finite")
                .is_empty()
        );
    }

    #[test]
    fn class_blocks_built_from_rows_or_a_lower_gram_equal_those_of_the_kernel_matrix() {
        // Interleaved labels, so class order is a real permutation, and 300 rows, so the
        // GEMM runs in more than one tile.
        let x = Array2::from_shape_fn((300, 3), |(i, j)| ((i * 7 + j * 5) % 23) as f64 * 0.1);
        let y: Vec<usize> = (0..300).map(|i| (i * 7) % 3).collect();
        for kernel in Kernel::ALL {
            let params = SvmParams {
                kernel,
                gamma: Gamma::Value(0.3),
                ..SvmParams::default()
            };
            let f = params.kernel_function(x.view(), None);
            let k = f.matrix_from_gram(&Gram::new(x.view()));
            let all: Vec<usize> = (0..300).collect();
            let reference = ClassBlocks::new(k.view(), &all, &y, 3).expect("reference");
            let dense = |blocks: &ClassBlocks| match &blocks.values {
                BlockValues::Dense(values) => values.clone(),
                BlockValues::Cached { .. } => unreachable!("dense blocks"),
            };
            let close = |a: &ClassBlocks, b: &ClassBlocks| {
                assert_eq!(a.order, b.order, "{kernel}");
                assert_eq!(a.starts, b.starts);
                let (a_values, b_values) = (dense(a), dense(b));
                for (p, q) in a_values.iter().zip(&b_values) {
                    assert!(
                        (p - q).abs() <= 1e-6 * p.abs().max(1.0),
                        "{kernel}: {p} vs {q}"
                    );
                }
                for (p, q) in a.diagonal.iter().zip(&b.diagonal) {
                    assert!(
                        (p - q).abs() <= 1e-12 * p.abs().max(1.0),
                        "{kernel}: {p} vs {q}"
                    );
                }
                // Exactly symmetric, as libsvm's Q is.
                let m = a.order.len();
                for i in 0..m {
                    for j in 0..i {
                        assert_eq!(b_values[i * m + j], b_values[j * m + i]);
                    }
                }
            };
            close(
                &reference,
                &ClassBlocks::from_rows(x.view(), &y, 3, &f).expect("rows"),
            );
            // A subset in scrambled order, read through the lower triangle.
            let subset: Vec<usize> = (0..300).rev().filter(|i| i % 4 != 1).collect();
            let labels: Vec<usize> = subset.iter().map(|&i| y[i]).collect();
            let reference = ClassBlocks::new(k.view(), &subset, &labels, 3).expect("reference");
            let gram = LowerGram::new(x.view());
            close(
                &reference,
                &ClassBlocks::from_lower_gram(&gram, &subset, &labels, 3, &f).expect("gram"),
            );
            if kernel == Kernel::Rbf {
                assert!(reference.diagonal.iter().all(|&d| d == 1.0));
            }
        }
    }

    #[test]
    fn separates_three_blobs_with_every_kernel() {
        let (x, y) = blobs();
        for kernel in Kernel::ALL {
            let params = SvmParams {
                kernel,
                c: 10.0,
                coef0: if kernel == Kernel::Sigmoid { -1.0 } else { 1.0 },
                gamma: if kernel == Kernel::Sigmoid {
                    Gamma::Value(0.05)
                } else {
                    Gamma::Scale
                },
                ..SvmParams::default()
            };
            let model = Svc::new(params, 3)
                .fit(&Dataset::new(x.clone(), y.clone()))
                .expect("fit");
            let probe = model.predict(&array![[4.8, 0.3], [0.2, 5.5], [-0.3, 0.1]]);
            // The sigmoid kernel is not positive definite: only its shape is checked here
            // (its values are checked against scikit-learn in the fixture tests).
            if kernel != Kernel::Sigmoid {
                assert_eq!(probe.to_vec(), vec![1, 2, 0], "{kernel}");
            }
            assert_eq!(probe.len(), 3);
            assert!(model.support_vector_count() > 0);
            assert_eq!(model.machines.pairs.len(), 3);
        }
    }

    #[test]
    fn ties_go_to_the_lowest_class_and_zero_votes_negative() {
        let machines = Machines {
            n_classes: 3,
            classes: vec![0, 1, 2],
            pairs: [(0, 1), (0, 2), (1, 2)]
                .into_iter()
                .map(|(pos, neg)| PairMachine {
                    pos,
                    neg,
                    support: vec![],
                    coef: vec![],
                    rho: 0.0,
                    iterations: 0,
                    hit_iteration_cap: false,
                    upper_bound_reached: false,
                })
                .collect(),
        };
        // 0 beats 1, 2 beats 0, 1 beats 2: one vote each → class 0.
        // A decision of exactly 0 votes for the second class of the pair (libsvm: > 0).
        let d = array![[1.0, -1.0, 1.0], [0.0, 0.0, 0.0]];
        assert_eq!(machines.vote(d.view()), vec![0, 2]);
    }

    #[test]
    fn balanced_weights_are_sklearn_formula() {
        let y = [0, 0, 0, 1, 2, 2];
        let w = ClassWeight::Balanced.resolve(&y, 4).expect("weights");
        // n / (n_present · count): 6 / (3·3), 6 / 3, 6 / 6; absent class → 1
        assert_eq!(w, vec![6.0 / 9.0, 2.0, 1.0, 1.0]);
        assert!(ClassWeight::Explicit(vec![1.0]).resolve(&y, 4).is_err());
        assert!(
            ClassWeight::Explicit(vec![1.0, 0.0, 1.0, 1.0])
                .resolve(&y, 4)
                .is_err()
        );
    }

    #[test]
    fn bad_parameters_and_data_are_named() {
        let (x, y) = blobs();
        let fit = |params: SvmParams| Svc::new(params, 3).fit(&Dataset::new(x.clone(), y.clone()));
        for (params, name) in [
            (
                SvmParams {
                    c: -1.0,
                    ..SvmParams::default()
                },
                "`C`",
            ),
            (
                SvmParams {
                    c: 0.0,
                    ..SvmParams::default()
                },
                "`C`",
            ),
            (
                SvmParams {
                    gamma: Gamma::Value(0.0),
                    ..SvmParams::default()
                },
                "`gamma`",
            ),
            (
                SvmParams {
                    tolerance: f64::NAN,
                    ..SvmParams::default()
                },
                "`tolerance`",
            ),
            (
                SvmParams {
                    kernel: Kernel::Poly,
                    degree: 0,
                    ..SvmParams::default()
                },
                "`degree`",
            ),
        ] {
            let err = fit(params).unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
        }
        let one_class = Array1::from_elem(30, 1usize);
        let err = Svc::new(SvmParams::default(), 3)
            .fit(&Dataset::new(x.clone(), one_class))
            .unwrap_err();
        assert!(matches!(err, Error::SingleClass { class: 1 }), "{err}");
        let mut bad = x.clone();
        bad[[4, 1]] = f64::NAN;
        let err = Svc::new(SvmParams::default(), 3)
            .fit(&Dataset::new(bad, y.clone()))
            .unwrap_err();
        assert!(err.to_string().contains("row 4"), "{err}");
        let err = Svc::new(SvmParams::default(), 3)
            .fit_rows(x.view(), &y.to_vec()[..29])
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::LengthMismatch {
                    records: 30,
                    labels: 29
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn index_views_train_like_copies() {
        // Fitting on a subset through the full kernel equals fitting on the copied rows.
        let (x, y) = blobs();
        let subset: Vec<usize> = (0..30).filter(|i| i % 4 != 1).collect();
        let params = SvmParams {
            c: 3.0,
            gamma: Gamma::Value(0.4),
            ..SvmParams::default()
        };
        let kernel = params.kernel_function(x.view(), None);
        let k = kernel.matrix_from_gram(&Gram::new(x.view()));
        let labels: Vec<usize> = subset.iter().map(|&i| y[i]).collect();
        let viewed = fit_machines(k.view(), &subset, &labels, 3, &params).expect("view");
        let copied = Svc::new(params, 3)
            .fit_rows(x.select(Axis(0), &subset).view(), &labels)
            .expect("copy");
        for (a, b) in viewed.pairs.iter().zip(&copied.machines.pairs) {
            assert!((a.rho - b.rho).abs() < 1e-12, "{} vs {}", a.rho, b.rho);
            let support: Vec<usize> = a.support.iter().map(|&s| subset[s]).collect();
            let copied_support: Vec<usize> = b
                .support
                .iter()
                .map(|&s| subset[copied.support_indices[s]])
                .collect();
            assert_eq!(support, copied_support);
        }
    }

    #[test]
    fn a_chain_over_c_fits_what_one_fit_after_another_does() {
        let (x, y) = overlapping();
        let base = SvmParams {
            gamma: Gamma::Value(0.5),
            ..SvmParams::default()
        };
        let chain: Vec<SvmParams> = [0.01, 0.5, 0.5, 20.0, 1000.0]
            .into_iter()
            .map(|c| SvmParams { c, ..base.clone() })
            .collect();
        let kernel = base.kernel_function(x.view(), None);
        let samples: Vec<usize> = (0..x.nrows()).collect();
        let cached = |bytes, whole_pairs| {
            let rows = Arc::new(KernelRows::new(x.view(), kernel, bytes));
            ClassBlocks::from_kernel_rows(rows, &samples, &y, 3, whole_pairs).expect("blocks")
        };
        for (what, blocks) in [
            (
                "whole",
                ClassBlocks::from_rows(x.view(), &y, 3, &kernel).expect("blocks"),
            ),
            ("gathered rows", cached(0, false)),
            ("whole pairs", cached(1 << 20, true)),
        ] {
            let fits = fit_class_blocks_over_c(&blocks, &chain).expect("chain");
            assert_eq!(fits.len(), chain.len());
            let mut previous: Option<(&SvmParams, Machines)> = None;
            for (params, (machines, seconds)) in chain.iter().zip(&fits) {
                let one =
                    fit_class_blocks(&blocks, params, previous.as_ref().map(|(p, m)| (*p, m)))
                        .expect("fit");
                let cold = fit_class_blocks(&blocks, params, None).expect("fit");
                assert_eq!(machines, &one, "{what}: C {}", params.c);
                assert_eq!(machines, &cold, "{what}: C {}", params.c);
                assert!(seconds.is_finite() && *seconds >= 0.0);
                previous = Some((params, one));
            }
        }
        let blocks = ClassBlocks::from_rows(x.view(), &y, 3, &kernel).expect("blocks");
        let descending = vec![chain[3].clone(), chain[0].clone()];
        let message = fit_class_blocks_over_c(&blocks, &descending)
            .unwrap_err()
            .to_string();
        assert!(message.contains("ascending"), "{message}");
        let other_gamma = vec![
            chain[0].clone(),
            SvmParams {
                gamma: Gamma::Value(0.1),
                ..chain[1].clone()
            },
        ];
        assert!(fit_class_blocks_over_c(&blocks, &other_gamma).is_err());
        assert!(
            fit_class_blocks_over_c(&blocks, &[])
                .expect("empty")
                .is_empty()
        );
    }

    /// Classes 0 and 1 overlap (their machine meets C at any C); class 2 is far away
    /// (its machines never do once C is large enough).
    fn overlapping() -> (Array2<f64>, Vec<usize>) {
        let centres = [[0.0, 0.0], [0.6, 0.0], [0.0, 6.0]];
        let mut x = Vec::new();
        let mut y = Vec::new();
        for (k, c) in centres.iter().enumerate() {
            for i in 0..12 {
                let a = i as f64 * 0.9 + k as f64;
                x.push([c[0] + 0.7 * a.cos(), c[1] + 0.7 * a.sin()]);
                y.push(k);
            }
        }
        let flat: Vec<f64> = x.into_iter().flatten().collect();
        (Array2::from_shape_vec((36, 2), flat).expect("shape"), y)
    }

    #[test]
    fn pair_machines_reused_across_c_equal_cold_fits() {
        // Both the reuse and the solve again are exercised.
        let (x, y) = overlapping();
        let base = SvmParams {
            gamma: Gamma::Value(0.5),
            ..SvmParams::default()
        };
        let k = base
            .kernel_function(x.view(), None)
            .matrix_from_gram(&Gram::new(x.view()));
        let train: Vec<usize> = (0..36).collect();
        let blocks = ClassBlocks::new(k.view(), &train, &y, 3).expect("blocks");
        let (mut reused, mut resolved) = (0, 0);
        for (c_before, c_after) in [(0.1, 1.0), (10.0, 1000.0), (1000.0, 1000.0)] {
            let before = SvmParams {
                c: c_before,
                ..base.clone()
            };
            let after = SvmParams {
                c: c_after,
                ..base.clone()
            };
            let first = fit_class_blocks(&blocks, &before, None).expect("first");
            let warm = fit_class_blocks(&blocks, &after, Some((&before, &first))).expect("warm");
            let cold = fit_class_blocks(&blocks, &after, None).expect("cold");
            assert_eq!(warm, cold, "C {c_before} → {c_after}");
            reused += first
                .pairs
                .iter()
                .filter(|m| !m.upper_bound_reached)
                .count();
            resolved += first.pairs.iter().filter(|m| m.upper_bound_reached).count();
        }
        assert!(
            reused > 0 && resolved > 0,
            "reused {reused}, solved again {resolved}"
        );
        // A smaller C, or another parameter changed, never reuses.
        let first = fit_class_blocks(
            &blocks,
            &SvmParams {
                c: 1000.0,
                ..base.clone()
            },
            None,
        )
        .expect("fit");
        let smaller = SvmParams {
            c: 0.1,
            ..base.clone()
        };
        assert_eq!(
            fit_class_blocks(
                &blocks,
                &smaller,
                Some((
                    &SvmParams {
                        c: 1000.0,
                        ..base.clone()
                    },
                    &first
                ))
            )
            .expect("smaller"),
            fit_class_blocks(&blocks, &smaller, None).expect("cold")
        );
    }
}
