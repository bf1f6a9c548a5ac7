//! The C-SVC dual solved by SMO, step for step as libsvm's `Solver` does it.
//!
//! Minimises `½ αᵀQα − eᵀα` subject to `yᵀα = 0`, `0 ≤ αᵢ ≤ Cᵢ`, with
//! `Q[i][j] = yᵢ yⱼ K(xᵢ, xⱼ)`. The working pair is chosen by libsvm's second-order rule
//! (Fan, Chen & Lin 2005, "WSS 2"); shrinking removes bounded variables that cannot move,
//! and the gradient of removed variables is rebuilt from `Ḡ` (the gradient share of
//! variables at their upper bound) before optimality is declared, so shrinking never
//! changes the solution it converges to.
//!
//! Unlike libsvm the whole `Q` is held in memory (the kernel matrix is precomputed and
//! shared, so there is nothing to cache). It is stored in single precision, as libsvm's
//! kernel cache stores `Qfloat`, so the solver works on the same rounded problem as
//! scikit-learn's `SVC`; the diagonal, the gradient and α are double precision.
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

/// A dense symmetric matrix of `Q` values, row-major, whose rows and columns can be
/// swapped.
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

    /// `fill(a, row)` writes row `a` (`Q[a][b]` for every `b`, already rounded).
    pub fn from_rows(n: usize, mut fill: impl FnMut(usize, &mut [f32])) -> Self {
        let mut data = vec![0f32; n * n];
        if n > 0 {
            for (a, row) in data.chunks_exact_mut(n).enumerate() {
                fill(a, row);
            }
        }
        Self { n, data }
    }

    #[inline]
    fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.n..(i + 1) * self.n]
    }

    fn swap(&mut self, i: usize, j: usize) {
        if i == j {
            return;
        }
        let n = self.n;
        let (lo, hi) = (i.min(j), i.max(j));
        let (head, tail) = self.data.split_at_mut(hi * n);
        head[lo * n..(lo + 1) * n].swap_with_slice(&mut tail[..n]);
        for r in 0..n {
            self.data.swap(r * n + i, r * n + j);
        }
    }
}

struct Solver<'a> {
    l: usize,
    active_size: usize,
    q: &'a mut QMatrix,
    qd: Vec<f64>,
    y: Vec<i8>,
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
pub fn solve(
    q: &mut QMatrix,
    qd: Vec<f64>,
    y: Vec<i8>,
    c: Vec<f64>,
    settings: &SolverSettings,
) -> BinarySolution {
    let l = y.len();
    assert_eq!(q.n, l, "Q must be l × l");
    assert_eq!(qd.len(), l);
    assert_eq!(c.len(), l);
    let mut solver = Solver {
        l,
        active_size: l,
        q,
        qd,
        y,
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
    let (iterations, hit_iteration_cap) = solver.run(settings.shrinking, max_iterations);
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
    }
}

impl Solver<'_> {
    fn update_status(&mut self, i: usize) {
        self.status[i] = if self.alpha[i] >= self.c[i] {
            Bound::Upper
        } else if self.alpha[i] <= 0.0 {
            Bound::Lower
        } else {
            Bound::Free
        };
    }

    #[inline]
    fn is_upper(&self, i: usize) -> bool {
        self.status[i] == Bound::Upper
    }

    #[inline]
    fn is_lower(&self, i: usize) -> bool {
        self.status[i] == Bound::Lower
    }

    fn swap_index(&mut self, i: usize, j: usize) {
        self.q.swap(i, j);
        self.y.swap(i, j);
        self.g.swap(i, j);
        self.status.swap(i, j);
        self.alpha.swap(i, j);
        self.qd.swap(i, j);
        self.c.swap(i, j);
        self.active_set.swap(i, j);
        self.g_bar.swap(i, j);
    }

    /// The optimisation loop; returns the iteration count and whether the cap was hit.
    fn run(&mut self, shrinking: bool, max_iterations: usize) -> (usize, bool) {
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
            let (i, j) = match self.select_working_set() {
                Some(pair) => pair,
                None => {
                    self.reconstruct_gradient();
                    self.active_size = l;
                    match self.select_working_set() {
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
    fn step(&mut self, i: usize, j: usize) {
        let (c_i, c_j) = (self.c[i], self.c[j]);
        let (old_i, old_j) = (self.alpha[i], self.alpha[j]);
        let q_ij = self.q.row(i)[j] as f64;
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
            let (q_i, q_j) = (self.q.row(i), self.q.row(j));
            for ((g, &qi), &qj) in self.g[..active]
                .iter_mut()
                .zip(&q_i[..active])
                .zip(&q_j[..active])
            {
                *g += qi as f64 * d_i + qj as f64 * d_j;
            }
        }

        let (was_upper_i, was_upper_j) = (self.is_upper(i), self.is_upper(j));
        self.update_status(i);
        self.update_status(j);
        for (k, was_upper, c_k) in [(i, was_upper_i, c_i), (j, was_upper_j, c_j)] {
            if was_upper != self.is_upper(k) {
                let sign = if was_upper { -c_k } else { c_k };
                let row = self.q.row(k);
                for (gb, &qk) in self.g_bar.iter_mut().zip(row) {
                    *gb += sign * qk as f64;
                }
            }
        }
    }

    /// libsvm's WSS 2: `i` maximises `−yᵢ∇ᵢf` over I_up, `j` minimises the second-order
    /// decrease over I_low. `None` when the maximal violation is below the tolerance.
    fn select_working_set(&self) -> Option<(usize, usize)> {
        let active = self.active_size;
        let mut g_max = f64::NEG_INFINITY;
        let mut g_max2 = f64::NEG_INFINITY;
        let mut g_max_idx = usize::MAX;
        let mut g_min_idx = usize::MAX;
        let mut obj_diff_min = f64::INFINITY;
        for t in 0..active {
            if self.y[t] == 1 {
                if !self.is_upper(t) && -self.g[t] >= g_max {
                    g_max = -self.g[t];
                    g_max_idx = t;
                }
            } else if !self.is_lower(t) && self.g[t] >= g_max {
                g_max = self.g[t];
                g_max_idx = t;
            }
        }
        let i = g_max_idx;
        if i == usize::MAX {
            // No candidate i: g_max stays −∞ and the stop test below fires.
            return None;
        }
        let q_i = &self.q.row(i)[..active];
        let (qd_i, y_i) = (self.qd[i], self.y[i] as f64);
        for j in 0..active {
            if self.y[j] == 1 {
                if !self.is_lower(j) {
                    let grad_diff = g_max + self.g[j];
                    if self.g[j] >= g_max2 {
                        g_max2 = self.g[j];
                    }
                    if grad_diff > 0.0 {
                        let quad = qd_i + self.qd[j] - 2.0 * y_i * q_i[j] as f64;
                        let obj_diff = if quad > 0.0 {
                            -(grad_diff * grad_diff) / quad
                        } else {
                            -(grad_diff * grad_diff) / TAU
                        };
                        if obj_diff <= obj_diff_min {
                            g_min_idx = j;
                            obj_diff_min = obj_diff;
                        }
                    }
                }
            } else if !self.is_upper(j) {
                let grad_diff = g_max - self.g[j];
                if -self.g[j] >= g_max2 {
                    g_max2 = -self.g[j];
                }
                if grad_diff > 0.0 {
                    let quad = qd_i + self.qd[j] + 2.0 * y_i * q_i[j] as f64;
                    let obj_diff = if quad > 0.0 {
                        -(grad_diff * grad_diff) / quad
                    } else {
                        -(grad_diff * grad_diff) / TAU
                    };
                    if obj_diff <= obj_diff_min {
                        g_min_idx = j;
                        obj_diff_min = obj_diff;
                    }
                }
            }
        }
        if g_max + g_max2 < self.tolerance || g_min_idx == usize::MAX {
            return None;
        }
        Some((i, g_min_idx))
    }

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
                let q_i = self.q.row(i);
                let mut sum = 0.0;
                for j in 0..active {
                    if self.status[j] == Bound::Free {
                        sum += self.alpha[j] * q_i[j] as f64;
                    }
                }
                self.g[i] += sum;
            }
        } else {
            for i in 0..active {
                if self.status[i] == Bound::Free {
                    let alpha_i = self.alpha[i];
                    let q_i = self.q.row(i);
                    for j in active..l {
                        self.g[j] += alpha_i * q_i[j] as f64;
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
                assert_eq!(q.row(a)[b], q.row(b)[a]);
            }
        }
        // Row 1 now holds the old row 3 (with columns 1 and 3 exchanged as well).
        assert_eq!(q.row(1)[1], 66.0);
    }
}
