//! What each swept parameter does to the CV metric, per method: its importance (the
//! main-effect variance share, [`sarlab_analysis::main_effect_shares`]) and the metric at
//! each of its values, from the recorded CV summaries.

use sarlab_analysis::main_effect_shares;
use sarlab_report::{LevelSummary, MethodSweep, SweptParameter};

use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::results::{CvRecord, short_key};

/// The sweep summary of every method that sweeps something, in plan order; parameters
/// most important first, their values in plan order.
pub(crate) fn sweeps(plan: &Plan, records: &[CvRecord]) -> Result<Vec<MethodSweep>> {
    let mut out = Vec::new();
    for method in plan.methods() {
        let mine: Vec<&CvRecord> = records
            .iter()
            .filter(|r| plan.features[r.feature].method.name() == method)
            .collect();
        // Each configuration's recorded parameters as text, by key, in recorded order.
        let params: Vec<Vec<(String, String)>> = mine
            .iter()
            .map(|r| {
                plan.params_of(r.feature, r.grid, "cv")
                    .into_iter()
                    .filter(|(k, _)| k != "feature" && k != "stage")
                    .map(|(k, v)| (k, v.to_string()))
                    .collect()
            })
            .collect();
        let mut keys: Vec<String> = Vec::new();
        for p in &params {
            for (k, _) in p {
                if !keys.contains(k) {
                    keys.push(k.clone());
                }
            }
        }
        let level_of = |config: &[(String, String)], key: &str| {
            config
                .iter()
                .find(|(k, _)| k == key)
                .map_or_else(|| "—".to_owned(), |(_, v)| v.clone())
        };
        let swept: Vec<(String, Vec<String>)> = keys
            .into_iter()
            .map(|key| {
                let levels: Vec<String> = params.iter().map(|p| level_of(p, &key)).collect();
                (key, levels)
            })
            .filter(|(_, levels)| levels.iter().any(|l| *l != levels[0]))
            .collect();
        if swept.is_empty() {
            continue;
        }
        let values: Vec<f64> = mine.iter().map(|r| r.cv_selection.0).collect();
        let level_rows: Vec<Vec<String>> = swept.iter().map(|(_, l)| l.clone()).collect();
        let shares =
            main_effect_shares(&level_rows, &values).map_err(|e| Error::Study(e.to_string()))?;
        let mut parameters: Vec<SweptParameter> = swept
            .iter()
            .zip(shares)
            .map(|((key, levels), importance)| {
                let mut distinct: Vec<&String> = Vec::new();
                for l in levels {
                    if !distinct.contains(&l) {
                        distinct.push(l);
                    }
                }
                let levels = distinct
                    .into_iter()
                    .map(|value| {
                        let at: Vec<&CvRecord> = mine
                            .iter()
                            .zip(levels)
                            .filter(|(_, l)| *l == value)
                            .map(|(r, _)| *r)
                            .collect();
                        let finite: Vec<f64> = at
                            .iter()
                            .map(|r| r.cv_selection.0)
                            .filter(|v| v.is_finite())
                            .collect();
                        let best = at
                            .iter()
                            .filter(|r| r.cv_selection.0.is_finite())
                            .fold(None::<&CvRecord>, |b, r| match b {
                                Some(b) if b.cv_selection.0 >= r.cv_selection.0 => Some(b),
                                _ => Some(r),
                            })
                            .map_or((f64::NAN, f64::NAN), |r| r.cv_selection);
                        LevelSummary {
                            value: value.clone(),
                            configurations: at.len(),
                            mean: finite.iter().sum::<f64>() / finite.len().max(1) as f64,
                            best,
                        }
                    })
                    .collect();
                SweptParameter {
                    name: short_key(key).to_owned(),
                    importance,
                    levels,
                }
            })
            .collect();
        parameters.sort_by(|a, b| b.importance.total_cmp(&a.importance));
        out.push(MethodSweep {
            method: method.to_owned(),
            parameters,
        });
    }
    Ok(out)
}
