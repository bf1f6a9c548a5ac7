//! Statistics for comparing what a study ran: a confidence interval on a test accuracy
//! ([`wilson_interval`]), paired significance tests between two methods
//! ([`mcnemar_exact`] on the same test chips, [`corrected_resampled_t`] on the same CV
//! folds), and the share of a sweep's variance each swept parameter explains
//! ([`main_effect_shares`]). The distribution functions they need are in [`special`].
//!
//! Compute only: slices in, numbers out. Fixtures against scipy and statsmodels are in
//! `tests/fixtures/stats.json` (made by `scripts/fixtures/stats.py`).

mod error;
mod importance;
mod interval;
mod paired;
pub mod special;

pub use error::{Error, Result};
pub use importance::main_effect_shares;
pub use interval::{Interval, wilson_interval};
pub use paired::{CorrectedT, McNemar, corrected_resampled_t, mcnemar_exact};
