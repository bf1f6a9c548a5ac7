//! How much of a sweep's spread in the metric each swept parameter explains.
//!
//! The method is the main-effect part of a functional ANOVA over the configurations
//! run, with every configuration weighed alike: parameter `p`'s importance is the
//! variance of the metric's marginal means over `p`'s levels, divided by the metric's
//! total variance. On a complete factorial grid this is exactly fANOVA's main-effect
//! fraction (Hutter et al. 2014 with the grid as the model); the importances then sum to
//! one minus the share of all interactions. On an incomplete grid (a kernel that does
//! not sweep γ, whitening only with components) the marginal means are taken over the
//! configurations that exist, which is an approximation in the spirit of PED-ANOVA.

use std::collections::BTreeMap;

use crate::error::{Result, invalid};

/// The share of the metric's variance explained by each parameter's main effect, one
/// per row of `levels` (in its order). `levels[p][i]` is the level (any ordered key, e.g.
/// the value's text) of parameter `p` in configuration `i`; `values[i]` its metric.
/// Configurations with a non-finite metric are left out. A metric that does not vary
/// gives every parameter 0.
///
/// ```
/// use sarlab_analysis::main_effect_shares;
/// // y = 3a + b on a 2 × 2 grid: a explains 9/10 of the variance, b 1/10.
/// let a = vec!["-1", "-1", "1", "1"];
/// let b = vec!["-1", "1", "-1", "1"];
/// let y = [-4.0, -2.0, 2.0, 4.0];
/// let shares = main_effect_shares(&[a, b], &y).unwrap();
/// assert!((shares[0] - 0.9).abs() < 1e-12 && (shares[1] - 0.1).abs() < 1e-12);
/// ```
pub fn main_effect_shares<L: Ord>(levels: &[Vec<L>], values: &[f64]) -> Result<Vec<f64>> {
    if let Some((p, row)) = levels
        .iter()
        .enumerate()
        .find(|(_, row)| row.len() != values.len())
    {
        return invalid(
            "main_effect_shares",
            format!(
                "parameter {p} has {} levels for {} configurations",
                row.len(),
                values.len()
            ),
        );
    }
    let kept: Vec<usize> = (0..values.len())
        .filter(|&i| values[i].is_finite())
        .collect();
    if kept.is_empty() {
        return Ok(vec![0.0; levels.len()]);
    }
    let n = kept.len() as f64;
    let mean = kept.iter().map(|&i| values[i]).sum::<f64>() / n;
    let total = kept
        .iter()
        .map(|&i| (values[i] - mean).powi(2))
        .sum::<f64>()
        / n;
    Ok(levels
        .iter()
        .map(|row| {
            if total <= 0.0 {
                return 0.0;
            }
            let mut groups: BTreeMap<&L, (f64, usize)> = BTreeMap::new();
            for &i in &kept {
                let group = groups.entry(&row[i]).or_insert((0.0, 0));
                group.0 += values[i];
                group.1 += 1;
            }
            // Weighted by how many configurations each level has, so the shares of a
            // complete grid are the classical ANOVA sums of squares over the total.
            let between = groups
                .values()
                .map(|&(sum, count)| count as f64 * (sum / count as f64 - mean).powi(2))
                .sum::<f64>()
                / n;
            (between / total).clamp(0.0, 1.0)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3 × 4 × 2 grid with y = main effects + an a×b interaction, whose shares are
    /// known in closed form.
    #[test]
    fn a_grid_with_known_effects() {
        let (fa, fb, fc) = ([-1.0, 0.0, 1.0], [-3.0, -1.0, 1.0, 3.0], [-0.5, 0.5]);
        let (mut a, mut b, mut c, mut y) = (vec![], vec![], vec![], vec![]);
        for (i, x) in fa.iter().enumerate() {
            for (j, z) in fb.iter().enumerate() {
                for (k, w) in fc.iter().enumerate() {
                    a.push(i);
                    b.push(j);
                    c.push(k);
                    y.push(2.0 * x + z + w + x * z);
                }
            }
        }
        // Variances of the centred effects: 4·(2/3), 5, 0.25, interaction (2/3)·5.
        let (va, vb, vc, vab) = (8.0 / 3.0, 5.0, 0.25, 10.0 / 3.0);
        let total = va + vb + vc + vab;
        let shares = main_effect_shares(&[a, b, c], &y).expect("shares");
        for (got, want) in shares.iter().zip([va / total, vb / total, vc / total]) {
            assert!((got - want).abs() < 1e-12, "{shares:?}");
        }
        assert!((1.0 - shares.iter().sum::<f64>() - vab / total).abs() < 1e-12);
    }

    #[test]
    fn flat_metrics_and_bad_shapes() {
        assert_eq!(
            main_effect_shares(&[vec![0, 1]], &[0.5, 0.5]).expect("flat"),
            vec![0.0]
        );
        assert!(main_effect_shares(&[vec![0, 1, 2]], &[0.5, 0.5]).is_err());
        let with_nan = main_effect_shares(&[vec![0, 1, 1]], &[0.0, 1.0, f64::NAN]).expect("nan");
        assert!((with_nan[0] - 1.0).abs() < 1e-12);
    }
}
