//! Kernel functions and kernel matrices computed from Gram matrices.
//!
//! Every kernel sarlab offers is a function of the inner product `⟨x, y⟩` and the
//! squared row norms, so one Gram matrix (a faer GEMM) serves every kernel and every γ:
//! linear `⟨x, y⟩`, RBF `exp(−γ‖x − y‖²)` with `‖x − y‖² = ‖x‖² + ‖y‖² − 2⟨x, y⟩`,
//! polynomial `(γ⟨x, y⟩ + coef0)^degree` and sigmoid `tanh(γ⟨x, y⟩ + coef0)` — libsvm's
//! definitions.

use std::cell::RefCell;
use std::fmt;
use std::str::FromStr;

use faer::MatRef;
use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use sarlab_transform::gemm::rows_times_transpose;

use crate::error::{Error, Result};

/// The kernel function of the SVM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// `⟨x, y⟩`
    Linear,
    /// `exp(−γ‖x − y‖²)`
    Rbf,
    /// `(γ⟨x, y⟩ + coef0)^degree`
    Poly,
    /// `tanh(γ⟨x, y⟩ + coef0)`
    Sigmoid,
}

impl Kernel {
    pub const ALL: [Kernel; 4] = [Kernel::Linear, Kernel::Rbf, Kernel::Poly, Kernel::Sigmoid];

    pub fn name(self) -> &'static str {
        match self {
            Kernel::Linear => "linear",
            Kernel::Rbf => "rbf",
            Kernel::Poly => "poly",
            Kernel::Sigmoid => "sigmoid",
        }
    }

    /// Whether γ enters the kernel (everything but linear).
    pub fn uses_gamma(self) -> bool {
        self != Kernel::Linear
    }
}

impl fmt::Display for Kernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Kernel {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Kernel::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| Error::InvalidParameter {
                name: "kernel",
                message: format!("`{s}` is not one of linear, rbf, poly, sigmoid"),
            })
    }
}

/// γ as scikit-learn's `SVC(gamma=...)` takes it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Gamma {
    /// `1 / (n_features · Var(X))`, the variance over all entries of the training matrix.
    Scale,
    /// `1 / n_features`.
    Auto,
    Value(f64),
}

impl Gamma {
    /// The numeric γ for training data `x`.
    pub fn resolve(&self, x: ArrayView2<'_, f64>) -> f64 {
        let n_features = x.ncols().max(1) as f64;
        match *self {
            Gamma::Scale => {
                let var = x.var(0.0);
                // scikit-learn: `1.0 / (X.shape[1] * X_var) if X_var != 0 else 1.0`
                if var != 0.0 {
                    1.0 / (n_features * var)
                } else {
                    1.0
                }
            }
            Gamma::Auto => 1.0 / n_features,
            Gamma::Value(g) => g,
        }
    }

    /// γ for the training rows `rows` of `x`, without copying them.
    pub fn resolve_rows(&self, x: ArrayView2<'_, f64>, rows: &[usize]) -> f64 {
        match *self {
            Gamma::Scale => {
                let count = (rows.len() * x.ncols()) as f64;
                if count == 0.0 {
                    return 1.0;
                }
                let mean = rows.iter().map(|&r| x.row(r).sum()).sum::<f64>() / count;
                let var = rows
                    .iter()
                    .map(|&r| x.row(r).iter().map(|v| (v - mean).powi(2)).sum::<f64>())
                    .sum::<f64>()
                    / count;
                if var != 0.0 {
                    1.0 / (x.ncols().max(1) as f64 * var)
                } else {
                    1.0
                }
            }
            other => other.resolve(x),
        }
    }
}

impl fmt::Display for Gamma {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Gamma::Scale => f.write_str("scale"),
            Gamma::Auto => f.write_str("auto"),
            Gamma::Value(g) => write!(f, "{g}"),
        }
    }
}

impl FromStr for Gamma {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim() {
            "scale" => Ok(Gamma::Scale),
            "auto" => Ok(Gamma::Auto),
            other => match other.parse::<f64>() {
                Ok(g) if g.is_finite() && g > 0.0 => Ok(Gamma::Value(g)),
                _ => Err(Error::InvalidParameter {
                    name: "gamma",
                    message: format!(
                        "`{other}`: expected \"scale\", \"auto\" or a positive number"
                    ),
                }),
            },
        }
    }
}

/// The highest polynomial degree sarlab accepts. `(γ⟨x, y⟩ + coef0)^32` already leaves
/// single precision (where the solver keeps kernel values) once the base passes 16, and
/// a kernel that steep ranks every pair of samples by its largest inner product alone —
/// nearest-neighbour voting, not a polynomial fit.
pub const MAX_POLY_DEGREE: u32 = 32;

/// A kernel with its numeric parameters resolved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KernelFunction {
    pub kernel: Kernel,
    pub gamma: f64,
    pub degree: u32,
    pub coef0: f64,
}

impl fmt::Display for KernelFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kernel {
            Kernel::Linear => f.write_str("linear"),
            Kernel::Rbf => write!(f, "rbf (gamma {})", self.gamma),
            Kernel::Poly => write!(
                f,
                "poly (degree {}, gamma {}, coef0 {})",
                self.degree, self.gamma, self.coef0
            ),
            Kernel::Sigmoid => write!(f, "sigmoid (gamma {}, coef0 {})", self.gamma, self.coef0),
        }
    }
}

impl KernelFunction {
    /// An error unless every value is finite (and, being `f32`, within single
    /// precision). `samples` says which samples the values are between.
    pub(crate) fn check_values<T>(&self, values: &[T], samples: &'static str) -> Result<()>
    where
        T: Copy + Into<f64> + Sync,
    {
        // Branch-free passes over chunks find whether any value is bad (they
        // vectorise); only then is the first one looked for.
        let bad_chunk = match values.len() > CHECK_CHUNK {
            true => values
                .par_chunks(CHECK_CHUNK)
                .position_first(any_not_finite),
            false => any_not_finite(values).then_some(0),
        };
        self.first_not_finite(values, bad_chunk, samples)
    }

    /// [`KernelFunction::check_values`] on the calling thread only (for code that runs
    /// inside a parallel task holding thread-local state).
    pub(crate) fn check_values_serial<T>(&self, values: &[T], samples: &'static str) -> Result<()>
    where
        T: Copy + Into<f64>,
    {
        let bad_chunk = values.chunks(CHECK_CHUNK).position(any_not_finite);
        self.first_not_finite(values, bad_chunk, samples)
    }

    fn first_not_finite<T: Copy + Into<f64>>(
        &self,
        values: &[T],
        bad_chunk: Option<usize>,
        samples: &'static str,
    ) -> Result<()> {
        match bad_chunk {
            None => Ok(()),
            Some(c) => {
                let v = values[c * CHECK_CHUNK..]
                    .iter()
                    .map(|&v| v.into())
                    .find(|v: &f64| !v.is_finite())
                    .expect("the chunk holds a value that is not finite");
                Err(self.overflow(v, samples))
            }
        }
    }

    /// The error for a kernel value `value` that is not finite.
    pub(crate) fn overflow(&self, value: f64, samples: &'static str) -> Error {
        let advice = match self.kernel {
            Kernel::Poly => {
                "lower `degree`, `gamma` or `coef0`, or standardize the features (`standardize = true`, `--standardize`)"
            }
            Kernel::Linear => {
                "the features are too large for their inner products: standardize them (`standardize = true`, `--standardize`) or scale them down"
            }
            Kernel::Rbf | Kernel::Sigmoid => {
                "the features are too large for their squared distances to be finite: standardize them (`standardize = true`, `--standardize`) or scale them down"
            }
        };
        Error::KernelOverflow {
            kernel: self.to_string(),
            value,
            samples,
            advice,
        }
    }

    /// The kernel value from an inner product and the two squared norms.
    #[inline]
    pub fn from_dot(&self, dot: f64, sq_a: f64, sq_b: f64) -> f64 {
        match self.kernel {
            Kernel::Linear => dot,
            Kernel::Rbf => rbf(self.gamma, dot, sq_a, sq_b),
            Kernel::Poly => powi(self.gamma * dot + self.coef0, self.degree),
            Kernel::Sigmoid => (self.gamma * dot + self.coef0).tanh(),
        }
    }

    /// Applies the kernel to a Gram block in place: `gram[[i, j]] = ⟨aᵢ, bⱼ⟩` becomes
    /// `k(aᵢ, bⱼ)`. The squared norms are read only by the RBF kernel (they may be empty
    /// otherwise). Rows run in parallel.
    pub fn apply_to_gram(&self, gram: &mut Array2<f64>, sq_a: &[f64], sq_b: &[f64]) {
        if self.kernel == Kernel::Linear {
            return;
        }
        let width = gram.ncols().max(1);
        assert!(
            self.kernel != Kernel::Rbf
                || (sq_a.len() == gram.nrows() && sq_b.len() == gram.ncols()),
            "RBF needs the squared norms of both sides"
        );
        gram.as_slice_mut()
            .expect("kernel matrices are standard layout")
            .par_chunks_mut(width)
            .enumerate()
            .for_each(|(i, row)| self.apply_to_row(row, sq_a.get(i).copied().unwrap_or(0.0), sq_b));
    }

    /// Turns the inner products `dots[j] = ⟨a, bⱼ⟩` of one row `a` into kernel values in
    /// place. `sq_b[j] = ‖bⱼ‖²` is read only by the RBF kernel.
    #[inline]
    pub fn apply_to_row(&self, dots: &mut [f64], sq_a: f64, sq_b: &[f64]) {
        match self.kernel {
            Kernel::Linear => {}
            Kernel::Rbf => {
                assert_eq!(dots.len(), sq_b.len(), "RBF needs every squared norm");
                pulp::Arch::new().dispatch(RbfRow {
                    row: dots,
                    sq_a,
                    sq_b,
                    gamma: self.gamma,
                });
            }
            _ => {
                for v in dots.iter_mut() {
                    *v = self.from_dot(*v, 0.0, 0.0);
                }
            }
        }
    }

    /// The kernel matrix from a Gram matrix, leaving the Gram matrix intact.
    pub fn matrix_from_gram(&self, gram: &Gram) -> Array2<f64> {
        let mut k = gram.inner.clone();
        self.apply_to_gram(&mut k, &gram.sq_norms, &gram.sq_norms);
        k
    }

    /// The kernel between the rows of `a` and the rows of `b`.
    pub fn between(&self, a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>) -> Array2<f64> {
        let mut k = inner_products(a, b);
        if self.kernel == Kernel::Rbf {
            self.apply_to_gram(&mut k, &sq_norms(a), &sq_norms(b));
        } else {
            self.apply_to_gram(&mut k, &[], &[]);
        }
        k
    }

    /// `per_tile(start, values)` for tiles of the rows of `a`, in parallel and in
    /// order: `values` holds the kernel between rows `start..start + rows` of `a` and
    /// every row of `b` (row-major, `rows × b.nrows()`), in the thread's reusable tile,
    /// so a large `b` (a model's support vectors) is neither held as a whole
    /// `a.nrows() × b.nrows()` matrix nor faulted into fresh memory per call.
    /// `sq_b` are `b`'s squared norms (read by RBF only; may be empty otherwise).
    /// `per_tile` runs inside the thread's tile and must not start parallel work
    /// (see [`with_tile`]).
    pub(crate) fn map_tiles<R: Send>(
        &self,
        a: ArrayView2<'_, f64>,
        b: ArrayView2<'_, f64>,
        sq_b: &[f64],
        per_tile: impl Fn(usize, &mut [f64]) -> R + Sync,
    ) -> Vec<R> {
        let (n, m, d) = (a.nrows(), b.nrows(), a.ncols());
        assert_eq!(d, b.ncols(), "kernels need equal widths");
        let a = a.as_standard_layout();
        let b = b.as_standard_layout();
        let a_slice = a.as_slice().expect("standard layout");
        let b_ref = MatRef::from_row_major_slice(b.as_slice().expect("standard layout"), m, d);
        let sq_a = match self.kernel {
            Kernel::Rbf => sq_norms(a.view()),
            _ => Vec::new(),
        };
        let tile = tile_rows(n);
        (0..n.div_ceil(tile))
            .into_par_iter()
            .map(|t| {
                let (start, rows) = (t * tile, tile.min(n - t * tile));
                with_tile(rows * m, |values| {
                    rows_times_transpose(
                        &a_slice[start * d..(start + rows) * d],
                        rows,
                        d,
                        b_ref,
                        values,
                    );
                    if self.kernel != Kernel::Linear {
                        for (r, row) in values.chunks_exact_mut(m.max(1)).enumerate() {
                            self.apply_to_row(
                                row,
                                sq_a.get(start + r).copied().unwrap_or(0.0),
                                sq_b,
                            );
                        }
                    }
                    per_tile(start, values)
                })
            })
            .collect()
    }
}

/// Values per chunk of [`KernelFunction::check_values`].
const CHECK_CHUNK: usize = 1 << 14;

/// Whether any value is infinite or NaN, without an early exit (so the loop vectorises).
fn any_not_finite<T: Copy + Into<f64>>(chunk: &[T]) -> bool {
    chunk
        .iter()
        .fold(false, |bad, &v| bad | !v.into().is_finite())
}

/// One row of an RBF kernel from its Gram row, compiled for the CPU's widest vectors
/// (the loop has no calls or branches, so it vectorises).
struct RbfRow<'a> {
    row: &'a mut [f64],
    sq_a: f64,
    sq_b: &'a [f64],
    gamma: f64,
}

impl pulp::WithSimd for RbfRow<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let (sq_a, gamma) = (self.sq_a, self.gamma);
        for (v, &sq_b) in self.row.iter_mut().zip(self.sq_b) {
            *v = rbf(gamma, *v, sq_a, sq_b);
        }
    }
}

/// `exp(−γ‖a − b‖²)` from `⟨a, b⟩` and the squared norms; `‖a − b‖²` is clamped at 0
/// because rounding can make it slightly negative for `a ≈ b`.
#[inline(always)]
fn rbf(gamma: f64, dot: f64, sq_a: f64, sq_b: f64) -> f64 {
    exp_non_positive(-gamma * (sq_a + sq_b - 2.0 * dot).max(0.0))
}

/// `eˣ` for `x ≤ 0` (or NaN), within 2 ulp of the correctly rounded value, without
/// branches, calls or float-to-integer conversions so that loops over it vectorise:
/// `x = n·ln 2 + r` with `|r| ≤ ½ ln 2` (Cody–Waite, two-part ln 2; `n` rounded to the
/// nearest integer, ties to even, by adding 1.5·2⁵², whose bits then hold `n`), `eʳ` by
/// its Taylor polynomial to degree 13 (truncation below 2⁻⁵⁶), and `2ⁿ` applied in two
/// halves so that subnormal results come out right. `e⁰ = 1` exactly, so `K(x, x) = 1`.
#[inline(always)]
pub fn exp_non_positive(x: f64) -> f64 {
    const LN2_HI: f64 = 6.931_471_803_691_238e-1; // 32 significant bits: n·LN2_HI is exact
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    // 1.5·2⁵²: adding it to |t| < 2⁵¹ leaves round(t) in the low bits of the sum.
    const SHIFTER: f64 = 6_755_399_441_055_744.0;
    // Below this e^x rounds to 0 (half the smallest subnormal is e^−745.13).
    let x = x.max(-746.0);
    let shifted = x * std::f64::consts::LOG2_E + SHIFTER;
    let n_float = shifted - SHIFTER;
    let r = (x - n_float * LN2_HI) - n_float * LN2_LO;
    const INV_FACTORIALS: [f64; 14] = {
        let mut c = [1.0; 14];
        let mut k = 1;
        while k < 14 {
            c[k] = c[k - 1] / k as f64;
            k += 1;
        }
        c
    };
    let mut p = INV_FACTORIALS[13];
    for &c in INV_FACTORIALS[..13].iter().rev() {
        p = p * r + c;
    }
    // Within [−1076, 0].
    let n = (shifted.to_bits() as i64).wrapping_sub(SHIFTER.to_bits() as i64);
    let half = n >> 1;
    // Wrapping arithmetic cannot wrap here; it keeps overflow checks (test builds) out
    // of the loop so that it vectorises there too.
    let scale = |e: i64| f64::from_bits((e.wrapping_add(1023) as u64) << 52);
    p * scale(half) * scale(n.wrapping_sub(half))
}

/// libsvm's `powi`: exponentiation by squaring.
fn powi(base: f64, times: u32) -> f64 {
    let (mut tmp, mut ret, mut t) = (base, 1.0, times);
    while t > 0 {
        if t % 2 == 1 {
            ret *= tmp;
        }
        tmp *= tmp;
        t /= 2;
    }
    ret
}

/// Squared Euclidean norm of every row. These are the diagonals of sarlab's Gram
/// matrices too, so `‖x − x‖² = 0` exactly and `K(x, x)` is the same number wherever it
/// is computed.
pub fn sq_norms(x: ArrayView2<'_, f64>) -> Vec<f64> {
    x.outer_iter().map(|r| r.dot(&r)).collect()
}

/// The symmetric Gram matrix `X Xᵀ` of a data matrix and its diagonal.
#[derive(Debug, Clone)]
pub struct Gram {
    pub inner: Array2<f64>,
    pub sq_norms: Vec<f64>,
}

impl Gram {
    /// Computes the lower triangle by GEMM tiles and mirrors it, so the matrix is exactly
    /// symmetric (as libsvm's kernel is) at half the cost of the full product.
    pub fn new(x: ArrayView2<'_, f64>) -> Self {
        let n = x.nrows();
        let sq_norms = sq_norms(x);
        let mut values = vec![0.0; n * n];
        lower_gram_rows(x, &mut values, Layout::Square, |i, dots, out| {
            dots[i] = sq_norms[i];
            out.copy_from_slice(dots);
        });
        mirror_lower(&mut values, n);
        Self {
            inner: Array2::from_shape_vec((n, n), values).expect("n × n"),
            sq_norms,
        }
    }

    pub fn len(&self) -> usize {
        self.sq_norms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sq_norms.is_empty()
    }
}

/// The lower triangle, diagonal included, of `X Xᵀ` (packed: row `i`'s `i + 1` values
/// follow row `i − 1`'s) and the squared row norms: all that kernels over index subsets
/// need, at half the cost and half the memory of the full matrix.
#[derive(Debug, Clone)]
pub(crate) struct LowerGram {
    values: Vec<f64>,
    pub(crate) sq_norms: Vec<f64>,
}

impl LowerGram {
    pub(crate) fn new(x: ArrayView2<'_, f64>) -> Self {
        let n = x.nrows();
        let sq_norms = sq_norms(x);
        let mut values = vec![0.0; Layout::Packed.len(n)];
        lower_gram_rows(x, &mut values, Layout::Packed, |i, dots, out| {
            dots[i] = sq_norms[i];
            out.copy_from_slice(dots);
        });
        Self { values, sq_norms }
    }

    /// `⟨xᵢ, xⱼ⟩` for `j ≤ i`.
    #[inline]
    pub(crate) fn row_prefix(&self, i: usize) -> &[f64] {
        let start = Layout::Packed.row_start(0, i);
        &self.values[start..start + i + 1]
    }

    /// `⟨xᵢ, xⱼ⟩` in either order.
    #[inline]
    pub(crate) fn dot(&self, i: usize, j: usize) -> f64 {
        let (hi, lo) = if i >= j { (i, j) } else { (j, i) };
        self.values[Layout::Packed.row_start(0, hi) + lo]
    }
}

/// Rows per GEMM tile of [`lower_gram_rows`]: each tile packs the rows above it, which
/// costs as much as the product when rows are short (100 PCA components), so tiles are
/// tall.
const TILE_ROWS: usize = 256;

thread_local! {
    /// Each thread's GEMM tile, kept so that repeated fits reuse warm pages instead of
    /// faulting in megabytes of fresh memory every time.
    static TILE: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

/// `f` on the first `len` values of this thread's tile (grown when short, never
/// cleared: every user overwrites it with a GEMM first). `f` must not start parallel
/// work: a task stolen meanwhile could ask for the same thread's tile.
fn with_tile<R>(len: usize, f: impl FnOnce(&mut [f64]) -> R) -> R {
    TILE.with_borrow_mut(|tile| {
        if tile.len() < len {
            tile.resize(len, 0.0);
        }
        f(&mut tile[..len])
    })
}

/// Where [`lower_gram_rows`] puts the lower triangle of an `n × n` matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// Row-major `n × n`; the upper part is left as it was.
    Square,
    /// Row `i`'s `i + 1` values straight after row `i − 1`'s: `n(n + 1)/2` in all.
    Packed,
}

impl Layout {
    /// Where row `i` starts (`i = n` gives the length).
    #[inline]
    pub(crate) fn row_start(self, n: usize, i: usize) -> usize {
        match self {
            Layout::Square => i * n,
            Layout::Packed => i * (i + 1) / 2,
        }
    }

    /// Values held for an `n × n` matrix.
    pub(crate) fn len(self, n: usize) -> usize {
        self.row_start(n, n)
    }
}

/// Fills the lower triangle, diagonal included, of the `n × n` matrix `out` (laid out as
/// `layout` says) from the inner products of the rows of `x`: `per_row(i, dots,
/// out_row)` receives `dots[j] = ⟨xᵢ, xⱼ⟩` for `j ≤ i` (the caller may overwrite it) and
/// the `i + 1` entries of row `i` of `out`. Tiles of rows run in parallel, each one
/// single-threaded GEMM, so the values do not depend on the number of threads.
pub(crate) fn lower_gram_rows<T: Send>(
    x: ArrayView2<'_, f64>,
    out: &mut [T],
    layout: Layout,
    per_row: impl Fn(usize, &mut [f64], &mut [T]) + Sync,
) {
    let (n, d) = x.dim();
    assert_eq!(out.len(), layout.len(n), "the output must hold n × n");
    if n == 0 {
        return;
    }
    let x = x.as_standard_layout();
    let x_slice = x.as_slice().expect("standard layout");
    // Each tile's rows, split off in order.
    let mut tiles = Vec::with_capacity(n.div_ceil(TILE_ROWS));
    let mut rest = out;
    for start in (0..n).step_by(TILE_ROWS) {
        let end = (start + TILE_ROWS).min(n);
        let (tile, tail) = rest.split_at_mut(layout.row_start(n, end) - layout.row_start(n, start));
        tiles.push((start, tile));
        rest = tail;
    }
    tiles.into_par_iter().for_each(|(start, out_rows)| {
        let rows = TILE_ROWS.min(n - start);
        let width = start + rows;
        let base = layout.row_start(n, start);
        with_tile(rows * width, |dots| {
            let rhs = MatRef::from_row_major_slice(&x_slice[..width * d], width, d);
            rows_times_transpose(&x_slice[start * d..width * d], rows, d, rhs, dots);
            for (r, dots) in dots.chunks_exact_mut(width).enumerate() {
                let i = start + r;
                let at = layout.row_start(n, i) - base;
                per_row(i, &mut dots[..=i], &mut out_rows[at..at + i + 1]);
            }
        });
    });
}

/// Copies the lower triangle of the row-major `n × n` matrix `values` onto its upper
/// part, in place, so that it is exactly symmetric. In 64 × 64 tiles, so that the
/// column reads of the lower part stay in cache.
pub(crate) fn mirror_lower<T: Copy>(values: &mut [T], n: usize) {
    const B: usize = 64;
    assert_eq!(values.len(), n * n, "the matrix must be n × n");
    for i0 in (0..n).step_by(B) {
        let i1 = (i0 + B).min(n);
        for j0 in (i0..n).step_by(B) {
            let j1 = (j0 + B).min(n);
            for i in i0..i1 {
                for j in j0.max(i + 1)..j1 {
                    values[i * n + j] = values[j * n + i];
                }
            }
        }
    }
}

/// Rows per parallel tile when `n` rows are multiplied by a matrix held whole: every
/// tile packs that whole matrix, so tiles are as tall as the threads allow — at least
/// [`TILE_ROWS`], and one tile per thread for up to [`TILE_ROWS`] × threads rows.
/// (The values do not depend on it; see [`rows_times_transpose`].)
pub(crate) fn tile_rows(n: usize) -> usize {
    n.div_ceil(rayon::current_num_threads().max(1))
        .max(TILE_ROWS)
}

/// `A Bᵀ` by faer's GEMM, tiles of rows of `A` in parallel (each single-threaded; the
/// values do not depend on the tiles, hence not on the number of threads either).
pub fn inner_products(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>) -> Array2<f64> {
    let (n, m, d) = (a.nrows(), b.nrows(), a.ncols());
    assert_eq!(d, b.ncols(), "inner products need equal widths");
    let a = a.as_standard_layout();
    let b = b.as_standard_layout();
    let a_slice = a.as_slice().expect("standard layout");
    let b_slice = b.as_slice().expect("standard layout");
    let mut out = Array2::<f64>::zeros((n, m));
    if n == 0 || m == 0 || d == 0 {
        return out;
    }
    let b_ref = MatRef::from_row_major_slice(b_slice, m, d);
    let tile = tile_rows(n);
    out.as_slice_mut()
        .expect("fresh array")
        .par_chunks_mut(tile * m)
        .enumerate()
        .for_each(|(t, dst)| {
            let rows = dst.len() / m;
            let start = t * tile;
            rows_times_transpose(&a_slice[start * d..(start + rows) * d], rows, d, b_ref, dst);
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn gemm_matches_naive_inner_products() {
        let a = Array2::from_shape_fn((130, 7), |(i, j)| ((i * 13 + j * 7) % 17) as f64 - 8.0);
        let b = Array2::from_shape_fn((9, 7), |(i, j)| ((i * 5 + j * 3) % 11) as f64 * 0.25);
        let got = inner_products(a.view(), b.view());
        let expected = a.dot(&b.t());
        assert_eq!(got, expected, "small integers: exact");
        // Non-contiguous input (a transposed view) is handled.
        let at = a.t().to_owned();
        let got = inner_products(at.t(), b.view());
        assert_eq!(got, expected);
    }

    #[test]
    fn gram_is_exact_and_symmetric_across_tiles() {
        // Small integers: every product and sum is exact, whatever the tiling.
        let x = Array2::from_shape_fn((300, 5), |(i, j)| ((i * 13 + j * 7) % 17) as f64 - 8.0);
        let gram = Gram::new(x.view());
        assert_eq!(gram.inner, x.dot(&x.t()));
        let lower = LowerGram::new(x.view());
        for (i, j) in [(0, 0), (299, 3), (3, 299), (256, 255), (255, 256)] {
            assert_eq!(lower.dot(i, j), gram.inner[[i, j]]);
        }
        assert_eq!(lower.row_prefix(7), &gram.inner.row(7).to_vec()[..8]);
        assert_eq!(gram.sq_norms, sq_norms(x.view()));
    }

    #[test]
    fn mirror_lower_mirrors_every_size() {
        for n in [0usize, 1, 63, 64, 65, 130] {
            let lower: Vec<f64> = (0..n * n)
                .map(|k| {
                    let (i, j) = (k / n, k % n);
                    if j <= i {
                        (i * 1000 + j) as f64
                    } else {
                        f64::NAN
                    }
                })
                .collect();
            let mut full = lower;
            mirror_lower(&mut full, n);
            for i in 0..n {
                for j in 0..n {
                    assert_eq!(full[i * n + j], (i.max(j) * 1000 + i.min(j)) as f64);
                }
            }
        }
    }

    #[test]
    fn kernels_follow_libsvm_definitions() {
        let x = array![[1.0, 2.0], [0.5, -1.0]];
        let gram = Gram::new(x.view());
        let dot = 1.0 * 0.5 - 2.0 * 1.0;
        let d2 = 0.5f64.powi(2) + 3.0f64.powi(2);
        let cases = [
            (Kernel::Linear, dot),
            (Kernel::Rbf, (-0.3 * d2).exp()),
            (Kernel::Poly, (0.3 * dot + 1.5).powi(3)),
            (Kernel::Sigmoid, (0.3 * dot + 1.5).tanh()),
        ];
        for (kernel, expected) in cases {
            let f = KernelFunction {
                kernel,
                gamma: 0.3,
                degree: 3,
                coef0: 1.5,
            };
            let k = f.matrix_from_gram(&gram);
            assert!((k[[0, 1]] - expected).abs() < 1e-14, "{kernel}");
            assert_eq!(k[[0, 1]], k[[1, 0]], "{kernel} symmetric");
            let between = f.between(x.view(), x.view());
            assert!((between[[0, 1]] - expected).abs() < 1e-14, "{kernel}");
        }
    }

    #[test]
    fn gamma_scale_is_sklearn_formula() {
        let x = array![[0.0, 2.0], [2.0, 4.0], [100.0, 100.0]];
        // var over all entries of [0,2,2,4] = 2 → 1 / (2 · 2)
        assert_eq!(Gamma::Scale.resolve(x.slice(ndarray::s![..2, ..])), 0.25);
        assert_eq!(Gamma::Scale.resolve_rows(x.view(), &[0, 1]), 0.25);
        assert_eq!(Gamma::Auto.resolve(x.view()), 0.5);
        assert_eq!(
            Gamma::Scale.resolve(Array2::<f64>::ones((3, 2)).view()),
            1.0
        );
        assert_eq!("0.01".parse::<Gamma>().expect("value"), Gamma::Value(0.01));
        assert!("-1".parse::<Gamma>().is_err());
        assert!(
            "wide"
                .parse::<Gamma>()
                .unwrap_err()
                .to_string()
                .contains("gamma")
        );
        assert_eq!("poly".parse::<Kernel>().expect("kernel"), Kernel::Poly);
        assert!("cubic".parse::<Kernel>().is_err());
    }

    #[test]
    fn powi_is_exponentiation() {
        for d in 0..8 {
            assert!((powi(1.3, d) - 1.3f64.powi(d as i32)).abs() < 1e-12);
        }
    }

    #[test]
    fn exp_is_within_two_ulp_of_libm() {
        let mut worst = 0u64;
        let mut x = 0.0f64;
        // Dense near 0 (kernel values near 1), then out to the subnormal range.
        while x > -746.0 {
            let ours = exp_non_positive(x);
            let reference = x.exp();
            let ulps = ours.to_bits().abs_diff(reference.to_bits());
            worst = worst.max(ulps);
            x -= if x > -2.0 { 1.3e-4 } else { 0.0137 };
        }
        assert!(worst <= 2, "{worst} ulp");
        assert_eq!(exp_non_positive(0.0), 1.0);
        assert_eq!(exp_non_positive(-0.0), 1.0);
        assert_eq!(exp_non_positive(-800.0), 0.0);
        assert_eq!(exp_non_positive(f64::NEG_INFINITY), 0.0);
        assert!(exp_non_positive(-740.0) > 0.0);
    }

    /// Kernels computed in parallel tiles (as tall as the threads allow) equal one
    /// product over every row, for long and short feature vectors (a row's bits do not
    /// depend on its tile: `sarlab_transform::gemm`).
    #[test]
    fn tiled_kernels_equal_one_product_over_every_row() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut uniform = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.3
        };
        for (n, m, d) in [
            (600, 700, 1764),
            (300, 257, 100),
            (77, 1000, 8),
            (1, 33, 2049),
        ] {
            let a = Array2::from_shape_fn((n, d), |_| uniform());
            let b = Array2::from_shape_fn((m, d), |_| uniform());
            let b_ref = MatRef::from_row_major_slice(b.as_slice().expect("standard"), m, d);
            let mut whole = vec![0.0; n * m];
            rows_times_transpose(a.as_slice().expect("standard"), n, d, b_ref, &mut whole);
            assert_eq!(
                inner_products(a.view(), b.view())
                    .as_slice()
                    .expect("standard"),
                &whole[..]
            );
            let rbf = KernelFunction {
                kernel: Kernel::Rbf,
                gamma: 1.0 / d as f64,
                degree: 3,
                coef0: 0.0,
            };
            let k = rbf.between(a.view(), b.view());
            let tiles = rbf.map_tiles(a.view(), b.view(), &sq_norms(b.view()), |start, v| {
                (start, v.to_vec())
            });
            let mut next = 0;
            for (start, values) in tiles {
                assert_eq!(start, next, "tiles in order");
                let rows = values.len() / m;
                assert_eq!(
                    k.slice(ndarray::s![start..start + rows, ..])
                        .as_standard_layout()
                        .as_slice()
                        .expect("standard"),
                    &values[..]
                );
                next += rows;
            }
            assert_eq!(next, n);
        }
    }
}
