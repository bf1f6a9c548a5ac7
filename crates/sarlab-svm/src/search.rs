//! Search beyond the full grid: random sampling of the grid (or of log-uniform C and
//! γ), and successive halving over training rows with scikit-learn's
//! `HalvingGridSearchCV` schedule.
//!
//! Halving evaluates every candidate on a few rows, keeps the best `1 / factor`,
//! and evaluates those on `factor` times as many rows, until one rung is left. The
//! schedule ([`halving_schedule`]) follows scikit-learn's rules (`factor`,
//! `min_resources` = `exhaust` / `smallest` / a number, no aggressive elimination)
//! with one change: the last rung always uses every row, so its scores are ordinary
//! cross-validations, equal to a grid search's for the same candidates, and the
//! final pick is made exactly as a grid search makes it.

use std::fmt;
use std::str::FromStr;

use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};
use crate::kernel::Gamma;
use crate::params::SvmParams;
use crate::svm_grid::SvmGrid;

/// How the configurations to cross-validate are chosen.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum SearchStrategy {
    /// Every point of the grid.
    #[default]
    Grid,
    Random(RandomSearch),
    Halving(Halving),
}

impl SearchStrategy {
    pub fn name(&self) -> &'static str {
        match self {
            SearchStrategy::Grid => "grid",
            SearchStrategy::Random(_) => "random",
            SearchStrategy::Halving(_) => "halving",
        }
    }
}

/// A log-uniform distribution on `[low, high]` (scipy's `loguniform(low, high)`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogUniform {
    pub low: f64,
    pub high: f64,
}

impl LogUniform {
    /// Checks `0 < low <= high`, both finite; `name` is the parameter's.
    pub fn new(name: &'static str, low: f64, high: f64) -> Result<Self> {
        if !(low.is_finite() && high.is_finite() && low > 0.0 && low <= high) {
            return Err(Error::InvalidParameter {
                name,
                message: format!(
                    "log-uniform [{low}, {high}]: expected finite bounds with 0 < low <= high"
                ),
            });
        }
        Ok(Self { low, high })
    }

    fn draw(&self, rng: &mut ChaCha8Rng) -> f64 {
        let (a, b) = (self.low.ln(), self.high.ln());
        let u: f64 = rng.r#gen();
        (a + u * (b - a)).exp().clamp(self.low, self.high)
    }
}

impl fmt::Display for LogUniform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "log-uniform [{}, {}]", self.low, self.high)
    }
}

/// Random search: `samples` points drawn from the grid without replacement, or with C
/// and γ drawn from log-uniform distributions where given (the other axes still from
/// the grid).
#[derive(Debug, Clone, PartialEq)]
pub struct RandomSearch {
    pub samples: usize,
    pub c: Option<LogUniform>,
    pub gamma: Option<LogUniform>,
}

/// The most random samples a search may ask for.
pub const MAX_SAMPLES: usize = 100_000;

impl RandomSearch {
    /// The sampled points, in grid order when drawn from the grid (all of it when
    /// `samples` is at least its size), in draw order with distributions. The same
    /// seed gives the same points.
    pub fn points(&self, grid: &SvmGrid, seed: u64) -> Result<Vec<SvmParams>> {
        if self.samples == 0 || self.samples > MAX_SAMPLES {
            return Err(Error::InvalidParameter {
                name: "samples",
                message: format!("{}: expected 1 to {MAX_SAMPLES}", self.samples),
            });
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5EA2_C4ED_0000_0001);
        if self.c.is_none() && self.gamma.is_none() {
            let points = grid.points()?;
            if self.samples >= points.len() {
                return Ok(points);
            }
            let mut chosen = sample(&mut rng, points.len(), self.samples).into_vec();
            chosen.sort_unstable();
            return Ok(chosen.into_iter().map(|i| points[i].clone()).collect());
        }
        // The axes not drawn from a distribution, one value each where drawn.
        let base = SvmGrid {
            c: match self.c {
                Some(_) => vec![1.0],
                None => grid.c.clone(),
            },
            gamma: match self.gamma {
                Some(_) => vec![Gamma::Scale],
                None => grid.gamma.clone(),
            },
            ..grid.clone()
        };
        let points = base.points()?;
        let mut out = Vec::with_capacity(self.samples);
        for _ in 0..self.samples {
            let mut point = points[rng.gen_range(0..points.len())].clone();
            if let Some(c) = self.c {
                point.c = c.draw(&mut rng);
            }
            if let Some(gamma) = self.gamma {
                // Drawn for every point, so that the stream does not depend on the kernel.
                let value = gamma.draw(&mut rng);
                if point.kernel.uses_gamma() {
                    point.gamma = Gamma::Value(value);
                }
            }
            point.validate()?;
            out.push(point);
        }
        Ok(out)
    }
}

/// The rows a halving search starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MinResources {
    /// As many as lets the last rung use every row (scikit-learn's default).
    #[default]
    Exhaust,
    /// `2 × folds × classes` rows (scikit-learn's `smallest`).
    Smallest,
    Rows(usize),
}

impl FromStr for MinResources {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim() {
            "exhaust" => Ok(MinResources::Exhaust),
            "smallest" => Ok(MinResources::Smallest),
            other => other
                .parse::<usize>()
                .ok()
                .filter(|&n| n > 0)
                .map(MinResources::Rows)
                .ok_or_else(|| Error::InvalidParameter {
                    name: "min_resources",
                    message: format!(
                        "`{other}`: expected \"exhaust\", \"smallest\" or a number of rows > 0"
                    ),
                }),
        }
    }
}

impl fmt::Display for MinResources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MinResources::Exhaust => f.write_str("exhaust"),
            MinResources::Smallest => f.write_str("smallest"),
            MinResources::Rows(n) => write!(f, "{n}"),
        }
    }
}

/// Successive halving over training rows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Halving {
    /// Each rung keeps `⌈candidates / factor⌉` and multiplies the rows by `factor`.
    pub factor: f64,
    pub min_resources: MinResources,
}

impl Default for Halving {
    fn default() -> Self {
        Self {
            factor: 3.0,
            min_resources: MinResources::Exhaust,
        }
    }
}

impl Halving {
    pub fn validate(&self) -> Result<()> {
        if !(self.factor.is_finite() && self.factor > 1.0 && self.factor <= 1e3) {
            return Err(Error::InvalidParameter {
                name: "factor",
                message: format!("{}: expected a number above 1 (3 is usual)", self.factor),
            });
        }
        Ok(())
    }
}

/// One rung of a halving search: `candidates` evaluated on `resources` rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rung {
    pub index: usize,
    pub resources: usize,
    pub candidates: usize,
}

/// `floor(log(x, base))` computed as Python's `math.log(x, base)` does (the ratio of
/// natural logarithms), so that the schedule equals scikit-learn's to the rung.
fn floor_log(x: f64, base: f64) -> usize {
    (x.ln() / base.ln()).floor().max(0.0) as usize
}

/// The rungs of a halving search over `n_candidates` candidates and `max_resources`
/// rows, with `folds`-fold CV on `n_classes` classes: scikit-learn's
/// `HalvingGridSearchCV` schedule, except that the last rung uses all the rows and the
/// first has at least `min_rows` (what the pipeline needs, [`rows_for_pca`]; 0 for
/// scikit-learn's schedule exactly).
pub fn halving_schedule(
    halving: &Halving,
    n_candidates: usize,
    max_resources: usize,
    folds: usize,
    n_classes: usize,
    min_rows: usize,
) -> Result<Vec<Rung>> {
    halving.validate()?;
    if n_candidates == 0 {
        return Err(Error::InvalidParameter {
            name: "search",
            message: "halving needs at least one candidate".to_owned(),
        });
    }
    let factor = halving.factor;
    let required = 1 + floor_log(n_candidates as f64, factor);
    let smallest = 2 * folds * n_classes.max(1);
    let min_resources = match halving.min_resources {
        MinResources::Rows(n) => n,
        MinResources::Smallest => smallest,
        MinResources::Exhaust => {
            let last = (required - 1) as i32;
            smallest.max((max_resources as f64 / factor.powi(last)).floor() as usize)
        }
    }
    .max(min_rows);
    if min_resources > max_resources {
        return Err(Error::InvalidParameter {
            name: "min_resources",
            message: format!(
                "{min_resources} rows is more than the {max_resources} the search has ({}{})",
                halving.min_resources,
                if halving.min_resources == MinResources::Smallest {
                    format!(" = 2 × {folds} folds × {n_classes} classes")
                } else {
                    String::new()
                }
            ),
        });
    }
    let possible = 1 + floor_log((max_resources / min_resources) as f64, factor);
    let iterations = possible.min(required);
    let mut rungs = Vec::with_capacity(iterations);
    let mut candidates = n_candidates;
    for index in 0..iterations {
        let resources =
            ((factor.powi(index as i32) * min_resources as f64) as usize).min(max_resources);
        rungs.push(Rung {
            index,
            resources,
            candidates,
        });
        candidates = (candidates as f64 / factor).ceil() as usize;
    }
    if let Some(last) = rungs.last_mut() {
        last.resources = max_resources;
    }
    Ok(rungs)
}

/// The rows a rung needs so that every training fold can fit `components` principal
/// components: `⌈components · folds / (folds − 1)⌉`, plus one per class for the
/// stratified rounding; 0 without PCA.
pub fn rows_for_pca(components: Option<usize>, folds: usize, n_classes: usize) -> usize {
    components.map_or(0, |k| {
        (k * folds).div_ceil(folds.saturating_sub(1).max(1)) + n_classes
    })
}

/// The candidates a rung passes on: the `keep` best by `scores` (highest first; NaN
/// below every number; ties to the earlier candidate), returned in candidate order.
pub fn survivors(scores: &[f64], keep: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (scores[a], scores[b]);
        match (x.is_nan(), y.is_nan()) {
            (true, true) => a.cmp(&b),
            (true, false) => std::cmp::Ordering::Greater,
            (false, true) => std::cmp::Ordering::Less,
            (false, false) => y.total_cmp(&x).then(a.cmp(&b)),
        }
    });
    order.truncate(keep);
    order.sort_unstable();
    order
}

/// Which of `n_candidates` candidates a rung keeps: `⌈n / factor⌉`.
pub fn keep_count(n_candidates: usize, factor: f64) -> usize {
    ((n_candidates as f64 / factor).ceil() as usize).max(1)
}

/// A stratified subsample of `resources` of the rows labelled `y`: each class keeps
/// its share (largest remainders), at least `min_per_class` rows where it has them;
/// rows drawn by a seeded shuffle of each class, returned sorted. The same seed draws
/// the same rows, and a larger subsample takes a longer prefix of the same shuffles,
/// so a later rung's rows mostly contain an earlier's.
pub fn stratified_rows(
    y: &[usize],
    n_classes: usize,
    resources: usize,
    min_per_class: usize,
    seed: u64,
) -> Vec<usize> {
    let n = y.len();
    if resources >= n {
        return (0..n).collect();
    }
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); n_classes];
    for (row, &label) in y.iter().enumerate() {
        if let Some(rows) = by_class.get_mut(label) {
            rows.push(row);
        }
    }
    // Quotas: proportional, largest remainders, then raised to the minimum.
    let exact: Vec<f64> = by_class
        .iter()
        .map(|rows| rows.len() as f64 * resources as f64 / n as f64)
        .collect();
    let mut quota: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
    let mut short = resources.saturating_sub(quota.iter().sum());
    let mut by_remainder: Vec<usize> = (0..n_classes).collect();
    by_remainder.sort_by(|&a, &b| {
        let (ra, rb) = (exact[a] - exact[a].floor(), exact[b] - exact[b].floor());
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    for &class in &by_remainder {
        if short == 0 {
            break;
        }
        if quota[class] < by_class[class].len() {
            quota[class] += 1;
            short -= 1;
        }
    }
    for (class, rows) in by_class.iter().enumerate() {
        quota[class] = quota[class].max(min_per_class).min(rows.len());
    }
    let mut out = Vec::with_capacity(resources);
    for (class, rows) in by_class.iter_mut().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (0xC1A5_5000 + class as u64));
        // Fisher–Yates, so that a prefix of the shuffle is a uniform subsample.
        for i in (1..rows.len()).rev() {
            let j = rng.gen_range(0..=i);
            rows.swap(i, j);
        }
        out.extend_from_slice(&rows[..quota[class]]);
    }
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::Kernel;
    use proptest::prelude::*;

    #[test]
    fn the_schedule_keeps_a_third_and_triples_the_rows() {
        let rungs = halving_schedule(&Halving::default(), 9, 2746, 5, 10, 0).expect("schedule");
        let got: Vec<(usize, usize)> = rungs.iter().map(|r| (r.candidates, r.resources)).collect();
        // scikit-learn: n_candidates_ [9, 3, 1], n_resources_ [305, 915, 2745]; the last
        // rung here takes every row.
        assert_eq!(got, [(9, 305), (3, 915), (1, 2746)]);
        let smallest = Halving {
            min_resources: MinResources::Smallest,
            ..Halving::default()
        };
        let rungs = halving_schedule(&smallest, 27, 2746, 5, 10, 0).expect("smallest");
        let got: Vec<(usize, usize)> = rungs.iter().map(|r| (r.candidates, r.resources)).collect();
        assert_eq!(got, [(27, 100), (9, 300), (3, 900), (1, 2746)]);
        assert!(halving_schedule(&smallest, 9, 50, 5, 10, 0).is_err());
        assert!(
            halving_schedule(
                &Halving {
                    factor: 1.0,
                    ..Halving::default()
                },
                9,
                100,
                2,
                2,
                0
            )
            .is_err()
        );
        // A pipeline with PCA(100) on 5 folds needs 125 + 10 rows in the first rung.
        let floor = rows_for_pca(Some(100), 5, 10);
        assert_eq!(floor, 135);
        let rungs = halving_schedule(&Halving::default(), 30, 2746, 5, 10, floor).expect("floor");
        let got: Vec<(usize, usize)> = rungs.iter().map(|r| (r.candidates, r.resources)).collect();
        assert_eq!(got, [(30, 135), (10, 405), (4, 2746)]);
    }

    #[test]
    fn survivors_are_the_best_with_ties_to_the_first_and_nan_last() {
        assert_eq!(survivors(&[0.5, 0.9, f64::NAN, 0.9, 0.1], 2), [1, 3]);
        assert_eq!(survivors(&[f64::NAN, 0.2, 0.2], 2), [1, 2]);
        assert_eq!(survivors(&[f64::NAN, f64::NAN], 1), [0]);
        assert_eq!(keep_count(9, 3.0), 3);
        assert_eq!(keep_count(10, 3.0), 4);
        assert_eq!(keep_count(1, 3.0), 1);
    }

    #[test]
    fn random_points_are_seeded_draws_of_the_grid_or_of_the_distributions() {
        let grid = SvmGrid {
            kernels: vec![Kernel::Rbf, Kernel::Linear],
            c: vec![0.1, 1.0, 10.0, 100.0],
            gamma: vec![Gamma::Scale, Gamma::Value(0.01), Gamma::Value(0.1)],
            ..SvmGrid::default()
        };
        let search = RandomSearch {
            samples: 5,
            c: None,
            gamma: None,
        };
        let a = search.points(&grid, 7).expect("points");
        assert_eq!(a, search.points(&grid, 7).expect("again"));
        assert_ne!(a, search.points(&grid, 8).expect("other seed"));
        let all = grid.points().expect("grid");
        assert_eq!(a.len(), 5);
        let positions: Vec<usize> = a
            .iter()
            .map(|p| all.iter().position(|q| q == p).expect("a grid point"))
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
        let many = RandomSearch {
            samples: 1000,
            ..search.clone()
        };
        assert_eq!(many.points(&grid, 1).expect("all"), all);
        let drawn = RandomSearch {
            samples: 200,
            c: Some(LogUniform::new("C", 0.01, 1000.0).expect("C")),
            gamma: Some(LogUniform::new("gamma", 1e-4, 1e-1).expect("gamma")),
        }
        .points(&grid, 3)
        .expect("drawn");
        assert!(drawn.iter().all(|p| (0.01..=1000.0).contains(&p.c)));
        let rbf_gammas: Vec<f64> = drawn
            .iter()
            .filter_map(|p| match p.gamma {
                Gamma::Value(g) if p.kernel == Kernel::Rbf => Some(g),
                _ => None,
            })
            .collect();
        assert!(rbf_gammas.len() > 50);
        assert!(rbf_gammas.iter().all(|g| (1e-4..=1e-1).contains(g)));
        // Log-uniform: about half the draws below the geometric mean.
        let below = drawn.iter().filter(|p| p.c < 1.0).count();
        assert!((70..130).contains(&below), "{below} of 200 below C = 1");
        assert!(LogUniform::new("C", 0.0, 1.0).is_err());
        assert!(LogUniform::new("C", 2.0, 1.0).is_err());
    }

    proptest! {
        #[test]
        fn stratified_rows_keep_each_class_share(
            labels in proptest::collection::vec(0usize..4, 8..300),
            fraction in 0.05f64..1.0,
            seed in 0u64..1000,
        ) {
            let n = labels.len();
            let small = ((n as f64 * fraction) as usize).max(1);
            let a = stratified_rows(&labels, 4, small, 0, seed);
            prop_assert_eq!(a.len(), small);
            prop_assert!(a.windows(2).all(|w| w[0] < w[1]));
            prop_assert_eq!(&a, &stratified_rows(&labels, 4, small, 0, seed));
            for class in 0..4 {
                let total = labels.iter().filter(|&&l| l == class).count() as f64;
                let got = a.iter().filter(|&&r| labels[r] == class).count() as f64;
                prop_assert!((got - total * small as f64 / n as f64).abs() <= 1.0 + 1e-9);
            }
            let floor = stratified_rows(&labels, 4, small, 3, seed);
            for class in 0..4 {
                let total = labels.iter().filter(|&&l| l == class).count();
                let got = floor.iter().filter(|&&r| labels[r] == class).count();
                prop_assert!(got >= total.min(3));
            }
        }
    }
}
