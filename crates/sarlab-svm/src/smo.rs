//! The C-SVC dual solved by SMO, step for step as libsvm's `Solver` does it.
//!
//! Minimises `½ αᵀQα − eᵀα` subject to `yᵀα = 0`, `0 ≤ αᵢ ≤ Cᵢ`, with
//! `Q[i][j] = yᵢ yⱼ K(xᵢ, xⱼ)`. The working pair is chosen by libsvm's second-order rule
//! (Fan, Chen & Lin 2005, "WSS 2"); shrinking removes bounded variables that cannot move,
//! and the gradient of removed variables is rebuilt from `Ḡ` (the gradient share of
//! variables at their upper bound) before optimality is declared, so shrinking never
//! changes the solution it converges to.
//!
//! `Q` comes through [`QRows`]: either held whole ([`QMatrix`], the kernel precomputed and
//! shared, so there is nothing to cache) or gathered row by row from a bounded cache of
//! kernel rows (`crate::row_cache`) when the whole would not fit. Its values are rounded
//! to single precision, as
//! libsvm's kernel cache stores `Qfloat`, so the solver works on the same rounded problem
//! as scikit-learn's `SVC`; they are held widened to `f64` so the vector loops need no
//! conversions. The diagonal, the gradient and α are double precision.
//! Shrinking swaps rows and columns of `Q` in place, like libsvm's `swap_index`, so the
//! active variables stay contiguous and the inner loops vectorise.

const TAU: f64 = 1e-12;

/// Where each variable stands against its box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    Lower,
    Upper,
    Free,
}

/// The solver's result, in the order of the variables it was given.
#[derive(Debug, Clone, PartialEq)]
pub struct BinarySolution {
    /// `αᵢ`, within `[0, Cᵢ]` (not multiplied by `yᵢ`).
    pub alpha: Vec<f64>,
    /// The offset: decision value `Σ yᵢ αᵢ K(xᵢ, x) − ρ`.
    pub rho: f64,
    pub iterations: usize,
    /// The iteration cap was reached before the stopping tolerance.
    pub hit_iteration_cap: bool,
    /// The dual objective `½ αᵀQα − eᵀα`.
    pub objective: f64,
    /// Some αᵢ reached its upper bound Cᵢ at some point of the solve.
    /// When false, the upper bounds never influenced a step, a shrink or ρ, so solving
    /// the same problem with every Cᵢ scaled up by the same factor or more follows the
    /// very same path: the solution is bitwise the same and need not be recomputed.
    pub upper_bound_reached: bool,
}

/// Settings of one binary solve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SolverSettings {
    /// Stopping tolerance on the maximal violation (libsvm's `eps`).
    pub tolerance: f64,
    pub shrinking: bool,
    /// `None`: libsvm's cap, `max(10⁷, 100·l)`.
    pub max_iterations: Option<usize>,
}

impl Default for SolverSettings {
    fn default() -> Self {
        Self {
            tolerance: 1e-3,
            shrinking: true,
            max_iterations: None,
        }
    }
}

/// Where the solver reads `Q`: row `i` over a range of columns, in the solver's current
/// order of the variables, which [`QRows::swap`] changes (libsvm's `swap_index`).
/// Implementations must give the same values for the same `(i, j)` whatever the range
/// asked for, so the solve does not depend on how `Q` is stored.
pub trait QRows {
    /// Variables.
    fn size(&self) -> usize;
    /// `Q[i][range]` (the slice is `range.len()` long).
    fn row(&mut self, i: usize, range: std::ops::Range<usize>) -> &[f32];
    /// Exchanges variables `i` and `j` (their rows and their columns).
    fn swap(&mut self, i: usize, j: usize);
}

/// A dense symmetric matrix of `Q` values in single precision (libsvm's `Qfloat`),
/// row-major, whose rows and columns can be swapped. The buffer can be taken back with
/// [`QMatrix::into_buffer`] and reused for the next problem.
#[derive(Debug, Clone)]
pub struct QMatrix {
    n: usize,
    data: Vec<f32>,
}

impl QMatrix {
    /// `Q[a][b] = y_a y_b k(a, b)` for `a, b < n`, rounded to single precision as libsvm's
    /// `(Qfloat)(y[i]*y[j]*kernel(i, j))`.
    pub fn from_fn(n: usize, mut q: impl FnMut(usize, usize) -> f64) -> Self {
        let mut data = Vec::with_capacity(n * n);
        for a in 0..n {
            for b in 0..n {
                data.push(q(a, b) as f32);
            }
        }
        Self { n, data }
    }

    /// `fill(a, row)` writes row `a` (`Q[a][b]` for every `b`) into `buffer`'s storage.
    pub fn from_rows(
        n: usize,
        mut buffer: Vec<f32>,
        mut fill: impl FnMut(usize, &mut [f32]),
    ) -> Self {
        buffer.clear();
        buffer.resize(n * n, 0.0);
        if n > 0 {
            for (a, row) in buffer.chunks_exact_mut(n).enumerate() {
                fill(a, row);
            }
        }
        Self { n, data: buffer }
    }

    /// `fill(start, rows)` writes rows `start..start + rows.len() / n` (at most
    /// `tile_rows` of them, row-major) into `buffer`'s storage.
    pub fn from_row_tiles(
        n: usize,
        mut buffer: Vec<f32>,
        tile_rows: usize,
        mut fill: impl FnMut(usize, &mut [f32]),
    ) -> Self {
        buffer.clear();
        buffer.resize(n * n, 0.0);
        if n > 0 {
            for (t, rows) in buffer.chunks_mut(tile_rows.max(1) * n).enumerate() {
                fill(t * tile_rows.max(1), rows);
            }
        }
        Self { n, data: buffer }
    }

    /// The values, row-major.
    pub(crate) fn values_mut(&mut self) -> &mut [f32] {
        &mut self.data
    }

    /// The storage, for reuse.
    pub fn into_buffer(self) -> Vec<f32> {
        self.data
    }

    #[cfg(test)]
    fn whole_row(&self, i: usize) -> &[f32] {
        &self.data[i * self.n..(i + 1) * self.n]
    }
}

impl QRows for QMatrix {
    fn size(&self) -> usize {
        self.n
    }

    #[inline(always)]
    fn row(&mut self, i: usize, range: std::ops::Range<usize>) -> &[f32] {
        &self.data[i * self.n + range.start..i * self.n + range.end]
    }

    #[inline(always)]
    fn swap(&mut self, i: usize, j: usize) {
        if i == j {
            return;
        }
        let n = self.n;
        let (lo, hi) = (i.min(j), i.max(j));
        let (head, tail) = self.data.split_at_mut(hi * n);
        head[lo * n..(lo + 1) * n].swap_with_slice(&mut tail[..n]);
        for row in self.data.chunks_exact_mut(n) {
            row.swap(i, j);
        }
    }
}

/// A [`QMatrix`] read through a permutation instead of swapped in place: a swap exchanges
/// two indices, and a row is gathered from the unchanged matrix in the current order.
/// Swapping a large matrix in place touches a column of every row (a cache miss per
/// row); gathering reads one row that is already being read. The matrix stays as it was
/// built, so every C of a fold solves on the same one.
pub struct PermutedQ<'q> {
    q: &'q QMatrix,
    order: Vec<usize>,
    buffer: Vec<f32>,
}

impl<'q> PermutedQ<'q> {
    pub fn new(q: &'q QMatrix) -> Self {
        Self {
            q,
            order: (0..q.n).collect(),
            buffer: Vec::with_capacity(q.n),
        }
    }
}

impl QRows for PermutedQ<'_> {
    fn size(&self) -> usize {
        self.q.n
    }

    #[inline(always)]
    fn row(&mut self, i: usize, range: std::ops::Range<usize>) -> &[f32] {
        let n = self.q.n;
        let row = &self.q.data[self.order[i] * n..(self.order[i] + 1) * n];
        self.buffer.clear();
        self.buffer
            .extend(self.order[range].iter().map(|&j| row[j]));
        &self.buffer
    }

    fn swap(&mut self, i: usize, j: usize) {
        self.order.swap(i, j);
    }
}

struct Solver<'a, Q: QRows> {
    l: usize,
    active_size: usize,
    q: &'a mut Q,
    qd: Vec<f64>,
    y: Vec<i8>,
    /// `yᵢ` as ±1.0, for the branch-free selection loops.
    yf: Vec<f64>,
    /// 0 when `i ∈ I_up` (α may move in the `yᵢ` direction), −∞ otherwise; likewise
    /// for `I_low`. Added to a candidate's value, it removes non-members from a maximum.
    in_up: Vec<f64>,
    in_low: Vec<f64>,
    /// Per-candidate values of the last selection pass, for finding the last index that
    /// attains the extremum (libsvm's tie rule) without tracking indices in the loop.
    scratch: Vec<f64>,
    /// Row `i` of the last selected pair over the active set, widened to `f64`: read by
    /// the selection of `j` and by the gradient update that follows it.
    q_i: Vec<f64>,
    /// Some α reached its upper bound during the solve; kept by `update_status`, which
    /// runs after every step (a clip sets α to its bound exactly).
    upper_bound_reached: bool,
    c: Vec<f64>,
    alpha: Vec<f64>,
    status: Vec<Bound>,
    g: Vec<f64>,
    g_bar: Vec<f64>,
    active_set: Vec<usize>,
    tolerance: f64,
    unshrink: bool,
}

/// Solves the C-SVC dual for labels `y` (±1) with `Q` given, `qd` its diagonal in double
/// precision, and per-variable upper bounds `c`. `q` is permuted during the solve.
pub fn solve<Q: QRows>(
    q: &mut Q,
    qd: Vec<f64>,
    y: Vec<i8>,
    c: Vec<f64>,
    settings: &SolverSettings,
) -> BinarySolution {
    let l = y.len();
    assert_eq!(q.size(), l, "Q must be l × l");
    assert_eq!(qd.len(), l);
    assert_eq!(c.len(), l);
    let yf = y.iter().map(|&v| f64::from(v)).collect();
    let mut solver = Solver {
        l,
        active_size: l,
        q,
        qd,
        y,
        yf,
        in_up: vec![0.0; l],
        in_low: vec![0.0; l],
        scratch: vec![0.0; l],
        q_i: vec![0.0; l],
        upper_bound_reached: false,
        status: vec![Bound::Lower; l],
        c,
        alpha: vec![0.0; l],
        // p = −e: the gradient at α = 0 is −1 everywhere.
        g: vec![-1.0; l],
        g_bar: vec![0.0; l],
        active_set: (0..l).collect(),
        tolerance: settings.tolerance,
        unshrink: false,
    };
    for i in 0..l {
        solver.update_status(i);
    }
    let max_iterations = settings
        .max_iterations
        .unwrap_or_else(|| 10_000_000usize.max(l.saturating_mul(100)));
    let (iterations, hit_iteration_cap) = pulp::Arch::new().dispatch(Run {
        solver: &mut solver,
        shrinking: settings.shrinking,
        max_iterations,
    });
    let rho = solver.calculate_rho();
    let objective = (0..l)
        .map(|i| solver.alpha[i] * (solver.g[i] - 1.0))
        .sum::<f64>()
        / 2.0;
    let mut alpha = vec![0.0; l];
    for (i, &original) in solver.active_set.iter().enumerate() {
        alpha[original] = solver.alpha[i];
    }
    BinarySolution {
        alpha,
        rho,
        iterations,
        hit_iteration_cap,
        objective,
        upper_bound_reached: solver.upper_bound_reached,
    }
}

/// The optimisation loop compiled for the widest vector instructions the CPU has (pulp
/// dispatch): the selection and gradient loops below are written to vectorise, and
/// everything they call is inlined into this one target-feature context.
struct Run<'s, 'a, Q: QRows> {
    solver: &'s mut Solver<'a, Q>,
    shrinking: bool,
    max_iterations: usize,
}

impl<Q: QRows> pulp::WithSimd for Run<'_, '_, Q> {
    type Output = (usize, bool);

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) -> Self::Output {
        self.solver.run(simd, self.shrinking, self.max_iterations)
    }
}

impl<Q: QRows> Solver<'_, Q> {
    #[inline(always)]
    fn update_status(&mut self, i: usize) {
        let status = if self.alpha[i] >= self.c[i] {
            Bound::Upper
        } else if self.alpha[i] <= 0.0 {
            Bound::Lower
        } else {
            Bound::Free
        };
        self.status[i] = status;
        self.upper_bound_reached |= status == Bound::Upper;
        let positive = self.y[i] == 1;
        let (up, low) = match status {
            Bound::Free => (true, true),
            Bound::Upper => (!positive, positive),
            Bound::Lower => (positive, !positive),
        };
        self.in_up[i] = if up { 0.0 } else { f64::NEG_INFINITY };
        self.in_low[i] = if low { 0.0 } else { f64::NEG_INFINITY };
    }

    #[inline(always)]
    fn is_upper(&self, i: usize) -> bool {
        self.status[i] == Bound::Upper
    }

    #[inline(always)]
    fn is_lower(&self, i: usize) -> bool {
        self.status[i] == Bound::Lower
    }

    #[inline(always)]
    fn swap_index(&mut self, i: usize, j: usize) {
        self.q.swap(i, j);
        self.y.swap(i, j);
        self.yf.swap(i, j);
        self.in_up.swap(i, j);
        self.in_low.swap(i, j);
        self.g.swap(i, j);
        self.status.swap(i, j);
        self.alpha.swap(i, j);
        self.qd.swap(i, j);
        self.c.swap(i, j);
        self.active_set.swap(i, j);
        self.g_bar.swap(i, j);
    }

    /// The optimisation loop; returns the iteration count and whether the cap was hit.
    #[inline(always)]
    fn run<S: pulp::Simd>(
        &mut self,
        simd: S,
        shrinking: bool,
        max_iterations: usize,
    ) -> (usize, bool) {
        let l = self.l;
        let mut iterations = 0;
        let mut counter = l.min(1000) + 1;
        while iterations < max_iterations {
            counter -= 1;
            if counter == 0 {
                counter = l.min(1000);
                if shrinking {
                    self.do_shrinking();
                }
            }
            let (i, j) = match self.select_working_set(simd) {
                Some(pair) => pair,
                None => {
                    self.reconstruct_gradient();
                    self.active_size = l;
                    match self.select_working_set(simd) {
                        Some(pair) => {
                            counter = 1; // shrink at the next iteration
                            pair
                        }
                        None => return (iterations, false),
                    }
                }
            };
            iterations += 1;
            self.step(i, j);
        }
        if self.active_size < l {
            self.reconstruct_gradient();
            self.active_size = l;
        }
        (iterations, true)
    }

    /// Updates α_i, α_j analytically with libsvm's bound handling, then the gradient.
    #[inline(always)]
    fn step(&mut self, i: usize, j: usize) {
        let (c_i, c_j) = (self.c[i], self.c[j]);
        let (old_i, old_j) = (self.alpha[i], self.alpha[j]);
        // Row i over the active set was widened by the selection that chose (i, j).
        let q_ij = self.q_i[j];
        let (mut ai, mut aj) = (old_i, old_j);
        if self.y[i] != self.y[j] {
            let mut quad = self.qd[i] + self.qd[j] + 2.0 * q_ij;
            if quad <= 0.0 {
                quad = TAU;
            }
            let delta = (-self.g[i] - self.g[j]) / quad;
            let diff = ai - aj;
            ai += delta;
            aj += delta;
            if diff > 0.0 {
                if aj < 0.0 {
                    aj = 0.0;
                    ai = diff;
                }
            } else if ai < 0.0 {
                ai = 0.0;
                aj = -diff;
            }
            if diff > c_i - c_j {
                if ai > c_i {
                    ai = c_i;
                    aj = c_i - diff;
                }
            } else if aj > c_j {
                aj = c_j;
                ai = c_j + diff;
            }
        } else {
            let mut quad = self.qd[i] + self.qd[j] - 2.0 * q_ij;
            if quad <= 0.0 {
                quad = TAU;
            }
            let delta = (self.g[i] - self.g[j]) / quad;
            let sum = ai + aj;
            ai -= delta;
            aj += delta;
            if sum > c_i {
                if ai > c_i {
                    ai = c_i;
                    aj = sum - c_i;
                }
            } else if aj < 0.0 {
                aj = 0.0;
                ai = sum;
            }
            if sum > c_j {
                if aj > c_j {
                    aj = c_j;
                    ai = sum - c_j;
                }
            } else if ai < 0.0 {
                ai = 0.0;
                aj = sum;
            }
        }
        self.alpha[i] = ai;
        self.alpha[j] = aj;

        let (d_i, d_j) = (ai - old_i, aj - old_j);
        let active = self.active_size;
        {
            // Row i is the one the selection widened; row j is widened in the loop (the
            // loop has no reduction, so it vectorises as written).
            let (q_i, q_j) = (&self.q_i[..active], self.q.row(j, 0..active));
            for ((g, &qi), &qj) in self.g[..active].iter_mut().zip(q_i).zip(q_j) {
                *g += qi * d_i + f64::from(qj) * d_j;
            }
        }

        let (was_upper_i, was_upper_j) = (self.is_upper(i), self.is_upper(j));
        self.update_status(i);
        self.update_status(j);
        for (k, was_upper, c_k) in [(i, was_upper_i, c_i), (j, was_upper_j, c_j)] {
            if was_upper != self.is_upper(k) {
                let sign = if was_upper { -c_k } else { c_k };
                let row = self.q.row(k, 0..self.l);
                for (gb, &qk) in self.g_bar.iter_mut().zip(row) {
                    *gb += sign * f64::from(qk);
                }
            }
        }
    }

    /// libsvm's WSS 2: `i` maximises `−yᵢ∇ᵢf` over I_up, `j` minimises the second-order
    /// decrease over I_low. `None` when the maximal violation is below the tolerance.
    ///
    /// Branch-free over the active set (membership is an additive 0/−∞ mask), lane-wise
    /// extrema, then the last index attaining the extremum — libsvm's `>=`/`<=` scan
    /// keeps the last one — so the pair and every value are exactly libsvm's.
    #[inline(always)]
    fn select_working_set<S: pulp::Simd>(&mut self, simd: S) -> Option<(usize, usize)> {
        let active = self.active_size;
        let (g, yf) = (&self.g[..active], &self.yf[..active]);
        let scratch = &mut self.scratch[..active];

        // i: max over I_up of −yₜ∇ₜf (the mask is 0 for members, −∞ otherwise).
        let in_up = &self.in_up[..active];
        let g_max = {
            let (g_v, g_s) = S::as_simd_f64s(g);
            let (y_v, _) = S::as_simd_f64s(yf);
            let (up_v, _) = S::as_simd_f64s(in_up);
            let (out_v, out_s) = S::as_mut_simd_f64s(scratch);
            let mut lanes = simd.splat_f64s(f64::NEG_INFINITY);
            for (((out, &g), &y), &up) in out_v.iter_mut().zip(g_v).zip(y_v).zip(up_v) {
                let v = simd.add_f64s(simd.neg_f64s(simd.mul_f64s(y, g)), up);
                *out = v;
                lanes = simd.max_f64s(lanes, v);
            }
            let mut g_max = simd.reduce_max_f64s(lanes);
            let offset = active - g_s.len();
            for (k, out) in out_s.iter_mut().enumerate() {
                let t = offset + k;
                let v = -(yf[t] * g[t]) + in_up[t];
                *out = v;
                if v > g_max {
                    g_max = v;
                }
            }
            g_max
        };
        if g_max == f64::NEG_INFINITY {
            // No candidate i: the stop test fires.
            return None;
        }
        let i = scratch
            .iter()
            .rposition(|&v| v == g_max)
            .expect("the maximum is attained");
        // libsvm's value itself (the mask sum can turn −0 into +0).
        let g_max = -(yf[i] * g[i]);

        // j: over I_low, max yⱼ∇ⱼf (for the stop test) and, among those with
        // g_max + yⱼ∇ⱼf > 0, min −(g_max + yⱼ∇ⱼf)² / quad.
        for (wide, &q) in self.q_i[..active].iter_mut().zip(self.q.row(i, 0..active)) {
            *wide = f64::from(q);
        }
        let q_i = &self.q_i[..active];
        let (qd, in_low) = (&self.qd[..active], &self.in_low[..active]);
        let (qd_i, two_y_i) = (self.qd[i], 2.0 * self.yf[i]);
        let candidate = |t: usize| -> (f64, f64) {
            let yg = yf[t] * g[t];
            // libsvm: QD[i] + QD[j] ∓ 2·y[i]·Q_i[j] for yⱼ = ±1 — the same bits.
            let quad = (qd_i + qd[t]) - yf[t] * (two_y_i * q_i[t]);
            let grad_diff = g_max + yg;
            let obj = -(grad_diff * grad_diff) / if quad > 0.0 { quad } else { TAU };
            let valid = grad_diff > 0.0 && in_low[t] == 0.0;
            (yg + in_low[t], if valid { obj } else { f64::INFINITY })
        };
        let (g_max2, obj_min) = {
            let (g_v, g_s) = S::as_simd_f64s(g);
            let (y_v, _) = S::as_simd_f64s(yf);
            let (qd_v, _) = S::as_simd_f64s(qd);
            let (q_v, _) = S::as_simd_f64s(q_i);
            let (low_v, _) = S::as_simd_f64s(in_low);
            let (out_v, out_s) = S::as_mut_simd_f64s(scratch);
            let (qd_i_v, two_y_i_v) = (simd.splat_f64s(qd_i), simd.splat_f64s(two_y_i));
            let (g_max_v, zero, tau, inf) = (
                simd.splat_f64s(g_max),
                simd.splat_f64s(0.0),
                simd.splat_f64s(TAU),
                simd.splat_f64s(f64::INFINITY),
            );
            let mut max_lanes = simd.splat_f64s(f64::NEG_INFINITY);
            let mut min_lanes = inf;
            for (((((out, &g), &y), &qd), &q), &low) in out_v
                .iter_mut()
                .zip(g_v)
                .zip(y_v)
                .zip(qd_v)
                .zip(q_v)
                .zip(low_v)
            {
                let yg = simd.mul_f64s(y, g);
                max_lanes = simd.max_f64s(max_lanes, simd.add_f64s(yg, low));
                let quad = simd.sub_f64s(
                    simd.add_f64s(qd_i_v, qd),
                    simd.mul_f64s(y, simd.mul_f64s(two_y_i_v, q)),
                );
                let grad_diff = simd.add_f64s(g_max_v, yg);
                let denominator = simd.select_f64s(simd.greater_than_f64s(quad, zero), quad, tau);
                let obj = simd.div_f64s(
                    simd.neg_f64s(simd.mul_f64s(grad_diff, grad_diff)),
                    denominator,
                );
                let valid = simd.and_m64s(
                    simd.greater_than_f64s(grad_diff, zero),
                    simd.equal_f64s(low, zero),
                );
                let obj = simd.select_f64s(valid, obj, inf);
                *out = obj;
                min_lanes = simd.min_f64s(min_lanes, obj);
            }
            let mut g_max2 = simd.reduce_max_f64s(max_lanes);
            let mut obj_min = simd.reduce_min_f64s(min_lanes);
            let offset = active - g_s.len();
            for (k, out) in out_s.iter_mut().enumerate() {
                let (m, obj) = candidate(offset + k);
                *out = obj;
                if m > g_max2 {
                    g_max2 = m;
                }
                if obj < obj_min {
                    obj_min = obj;
                }
            }
            (g_max2, obj_min)
        };
        if g_max + g_max2 < self.tolerance || obj_min == f64::INFINITY {
            return None;
        }
        let j = scratch
            .iter()
            .rposition(|&v| v == obj_min)
            .expect("the minimum is attained");
        Some((i, j))
    }

    #[inline(always)]
    fn be_shrunk(&self, i: usize, g_max1: f64, g_max2: f64) -> bool {
        if self.is_upper(i) {
            if self.y[i] == 1 {
                -self.g[i] > g_max1
            } else {
                -self.g[i] > g_max2
            }
        } else if self.is_lower(i) {
            if self.y[i] == 1 {
                self.g[i] > g_max2
            } else {
                self.g[i] > g_max1
            }
        } else {
            false
        }
    }

    #[inline(always)]
    fn do_shrinking(&mut self) {
        let mut g_max1 = f64::NEG_INFINITY; // max { −yᵢ∇ᵢf | i ∈ I_up }
        let mut g_max2 = f64::NEG_INFINITY; // max { yᵢ∇ᵢf | i ∈ I_low }
        for i in 0..self.active_size {
            let g = self.g[i];
            if self.y[i] == 1 {
                if !self.is_upper(i) && -g >= g_max1 {
                    g_max1 = -g;
                }
                if !self.is_lower(i) && g >= g_max2 {
                    g_max2 = g;
                }
            } else {
                if !self.is_upper(i) && -g >= g_max2 {
                    g_max2 = -g;
                }
                if !self.is_lower(i) && g >= g_max1 {
                    g_max1 = g;
                }
            }
        }
        if !self.unshrink && g_max1 + g_max2 <= self.tolerance * 10.0 {
            self.unshrink = true;
            self.reconstruct_gradient();
            self.active_size = self.l;
        }
        let mut i = 0;
        while i < self.active_size {
            if self.be_shrunk(i, g_max1, g_max2) {
                self.active_size -= 1;
                while self.active_size > i {
                    if !self.be_shrunk(self.active_size, g_max1, g_max2) {
                        self.swap_index(i, self.active_size);
                        break;
                    }
                    self.active_size -= 1;
                }
            }
            i += 1;
        }
    }

    /// Rebuilds the gradient of the shrunk variables from `Ḡ` and the free variables.
    #[inline(always)]
    fn reconstruct_gradient(&mut self) {
        let (l, active) = (self.l, self.active_size);
        if active == l {
            return;
        }
        for j in active..l {
            self.g[j] = self.g_bar[j] - 1.0;
        }
        let free = (0..active)
            .filter(|&j| self.status[j] == Bound::Free)
            .count();
        if free * l > 2 * active * (l - active) {
            for i in active..l {
                let q_i = self.q.row(i, 0..active);
                let mut sum = 0.0;
                for ((&q, &alpha), &status) in q_i.iter().zip(&self.alpha).zip(&self.status) {
                    if status == Bound::Free {
                        sum += alpha * f64::from(q);
                    }
                }
                self.g[i] += sum;
            }
        } else {
            for i in 0..active {
                if self.status[i] == Bound::Free {
                    let alpha_i = self.alpha[i];
                    let q_i = self.q.row(i, active..l);
                    for (g, &q) in self.g[active..l].iter_mut().zip(q_i) {
                        *g += alpha_i * f64::from(q);
                    }
                }
            }
        }
    }

    fn calculate_rho(&self) -> f64 {
        let (mut ub, mut lb, mut sum_free, mut free) =
            (f64::INFINITY, f64::NEG_INFINITY, 0.0, 0usize);
        for i in 0..self.active_size {
            let yg = self.y[i] as f64 * self.g[i];
            match self.status[i] {
                Bound::Upper => {
                    if self.y[i] == -1 {
                        ub = ub.min(yg);
                    } else {
                        lb = lb.max(yg);
                    }
                }
                Bound::Lower => {
                    if self.y[i] == 1 {
                        ub = ub.min(yg);
                    } else {
                        lb = lb.max(yg);
                    }
                }
                Bound::Free => {
                    free += 1;
                    sum_free += yg;
                }
            }
        }
        if free > 0 {
            sum_free / free as f64
        } else {
            (ub + lb) / 2.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small binary problem with overlap, RBF kernel.
    fn problem(n: usize) -> (Vec<Vec<f64>>, Vec<i8>) {
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..n {
            let label: i8 = if i % 3 == 0 { -1 } else { 1 };
            let t = i as f64 * 0.37;
            x.push(vec![
                t.sin() + 0.4 * label as f64,
                (t * 1.7).cos() - 0.3 * label as f64,
                ((i * 7) % 5) as f64 * 0.1,
            ]);
            y.push(label);
        }
        (x, y)
    }

    fn rbf(a: &[f64], b: &[f64]) -> f64 {
        let d2: f64 = a.iter().zip(b).map(|(p, q)| (p - q).powi(2)).sum();
        (-0.8 * d2).exp()
    }

    fn solve_problem(n: usize, c: f64, shrinking: bool, tol: f64) -> BinarySolution {
        let (x, y) = problem(n);
        let mut q = QMatrix::from_fn(n, |a, b| y[a] as f64 * y[b] as f64 * rbf(&x[a], &x[b]));
        let qd = (0..n).map(|i| rbf(&x[i], &x[i])).collect();
        solve(
            &mut q,
            qd,
            y,
            vec![c; n],
            &SolverSettings {
                tolerance: tol,
                shrinking,
                max_iterations: None,
            },
        )
    }

    /// KKT conditions of the returned solution, checked from scratch in f64.
    fn check_kkt(n: usize, c: f64, solution: &BinarySolution, tol: f64) {
        let (x, y) = problem(n);
        let sum_ya: f64 = (0..n).map(|i| y[i] as f64 * solution.alpha[i]).sum();
        assert!(sum_ya.abs() < 1e-9, "yᵀα = {sum_ya}");
        let mut up = f64::NEG_INFINITY;
        let mut low = f64::INFINITY;
        for i in 0..n {
            assert!((0.0..=c).contains(&solution.alpha[i]));
            let grad: f64 = (0..n)
                .map(|j| y[i] as f64 * y[j] as f64 * rbf(&x[i], &x[j]) * solution.alpha[j])
                .sum::<f64>()
                - 1.0;
            let v = -(y[i] as f64) * grad;
            let in_up =
                (y[i] == 1 && solution.alpha[i] < c) || (y[i] == -1 && solution.alpha[i] > 0.0);
            let in_low =
                (y[i] == 1 && solution.alpha[i] > 0.0) || (y[i] == -1 && solution.alpha[i] < c);
            if in_up {
                up = up.max(v);
            }
            if in_low {
                low = low.min(v);
            }
        }
        // Q is rounded to f32 in the solver: allow for that on top of the tolerance.
        assert!(up - low < tol + 1e-4, "violation {}", up - low);
    }

    #[test]
    fn converges_to_a_kkt_point() {
        for c in [0.1, 1.0, 100.0] {
            let solution = solve_problem(90, c, true, 1e-6);
            assert!(!solution.hit_iteration_cap);
            check_kkt(90, c, &solution, 1e-6);
            assert!(solution.alpha.iter().any(|&a| a > 0.0));
        }
    }

    #[test]
    fn shrinking_reaches_the_same_solution_as_no_shrinking() {
        // Large enough that shrinking runs (every min(l, 1000) iterations).
        for c in [1.0, 10.0, 1000.0] {
            let with = solve_problem(240, c, true, 1e-8);
            let without = solve_problem(240, c, false, 1e-8);
            assert!(with.iterations > 0);
            let max_diff = with
                .alpha
                .iter()
                .zip(&without.alpha)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(
                max_diff < 1e-5 * c.max(1.0),
                "C = {c}: α differ by {max_diff}"
            );
            assert!((with.rho - without.rho).abs() < 1e-5, "C = {c}");
            assert!(
                (with.objective - without.objective).abs()
                    < 1e-8 * without.objective.abs().max(1.0),
                "C = {c}: objectives {} vs {}",
                with.objective,
                without.objective
            );
        }
    }

    #[test]
    fn the_iteration_cap_is_reported() {
        let (x, y) = problem(60);
        let mut q = QMatrix::from_fn(60, |a, b| y[a] as f64 * y[b] as f64 * rbf(&x[a], &x[b]));
        let solution = solve(
            &mut q,
            vec![1.0; 60],
            y,
            vec![100.0; 60],
            &SolverSettings {
                tolerance: 1e-9,
                shrinking: true,
                max_iterations: Some(3),
            },
        );
        assert!(solution.hit_iteration_cap);
        assert_eq!(solution.iterations, 3);
    }

    #[test]
    fn swapping_keeps_the_matrix_symmetric() {
        let mut q = QMatrix::from_fn(5, |a, b| (a * 10 + b) as f64 + (b * 10 + a) as f64);
        q.swap(1, 3);
        q.swap(4, 0);
        for a in 0..5 {
            for b in 0..5 {
                assert_eq!(q.whole_row(a)[b], q.whole_row(b)[a]);
            }
        }
        // Row 1 now holds the old row 3 (with columns 1 and 3 exchanged as well).
        assert_eq!(q.whole_row(1)[1], 66.0);
    }
}
