//! Successive halving on one feature matrix: the rungs below the last, each
//! cross-validating the candidates left on a stratified subsample of the rows; the
//! last rung (every row) is then the grid search of the finalists
//! ([`crate::grid_search`]), so its scores, pick and refit are a grid search's.

use ndarray::{ArrayView2, Axis};

use crate::error::Result;
use crate::grid::{CvOutcome, CvSettings, FitDone, cross_validate_grid};
use crate::params::SvmParams;
use crate::search::{
    Halving, Rung, halving_schedule, keep_count, rows_for_pca, stratified_rows, survivors,
};

/// One rung below the last: `candidates` (indices into the configurations)
/// cross-validated on `rows` training rows, with their outcomes in that order.
#[derive(Debug, Clone)]
pub struct HalvingRung {
    pub rung: Rung,
    pub rows: usize,
    pub candidates: Vec<usize>,
    pub outcomes: Vec<CvOutcome>,
}

/// Runs the rungs of `halving` below the last on `(x, y)` and returns them with the
/// finalists (indices into `configurations`, in order) left for the last rung. Rows are
/// drawn by [`stratified_rows`] from `settings.seed`; the candidates a rung keeps are
/// the best `⌈n / factor⌉` by mean CV `metric` ([`survivors`]).
#[allow(clippy::too_many_arguments)]
pub fn halving_rungs(
    x: ArrayView2<'_, f64>,
    y: &[usize],
    n_classes: usize,
    configurations: &[SvmParams],
    settings: &CvSettings,
    metric: &str,
    halving: &Halving,
    on_fit: &(dyn Fn(FitDone<'_>) + Sync),
) -> Result<(Vec<HalvingRung>, Vec<usize>)> {
    let folds = settings.folds;
    let min_rows = rows_for_pca(
        settings.transform.pca.map(|p| p.components),
        folds,
        n_classes,
    );
    let schedule = halving_schedule(
        halving,
        configurations.len(),
        x.nrows(),
        folds,
        n_classes,
        min_rows,
    )?;
    let mut alive: Vec<usize> = (0..configurations.len()).collect();
    let mut rungs = Vec::new();
    for step in &schedule[..schedule.len() - 1] {
        let rows = stratified_rows(y, n_classes, step.resources, folds, settings.seed);
        let x_rung = x.select(Axis(0), &rows);
        let y_rung: Vec<usize> = rows.iter().map(|&r| y[r]).collect();
        let candidates: Vec<SvmParams> = alive.iter().map(|&i| configurations[i].clone()).collect();
        let outcomes = cross_validate_grid(
            x_rung.view(),
            &y_rung,
            n_classes,
            &candidates,
            settings,
            on_fit,
        )?;
        let scores: Vec<f64> = outcomes.iter().map(|o| o.mean_std_of(metric).0).collect();
        let keep = survivors(&scores, keep_count(alive.len(), halving.factor));
        rungs.push(HalvingRung {
            rung: *step,
            rows: rows.len(),
            candidates: alive.clone(),
            outcomes,
        });
        alive = keep.into_iter().map(|k| alive[k]).collect();
    }
    Ok((rungs, alive))
}
