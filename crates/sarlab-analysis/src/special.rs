//! The distribution functions the tests need, to double precision: the standard normal
//! CDF and quantile, Student's t survival function (through the regularized incomplete
//! beta function) and the fair-coin binomial CDF.

use std::f64::consts::{LN_2, SQRT_2};

/// Φ(x), the standard normal CDF.
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / SQRT_2)
}

/// Φ⁻¹(p) for `0 < p < 1` (`±∞` at 0 and 1, NaN outside).
///
/// Solved by bisection on the tail probability `erfc(x/√2)/2`, which keeps relative
/// precision far into the tails; 200 halvings reach the spacing of `f64`.
pub fn normal_quantile(p: f64) -> f64 {
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    if p == 0.5 {
        return 0.0;
    }
    // The upper tail q = 1 - Φ(x) for x >= 0; by symmetry for the lower half.
    let (q, sign) = if p > 0.5 { (1.0 - p, 1.0) } else { (p, -1.0) };
    let tail = |x: f64| 0.5 * libm::erfc(x / SQRT_2);
    let (mut lo, mut hi) = (0.0_f64, 40.0_f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid == lo || mid == hi {
            break;
        }
        if tail(mid) > q {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    sign * 0.5 * (lo + hi)
}

/// The regularized incomplete beta function `I_x(a, b)` for `a, b > 0`, `0 <= x <= 1`.
pub fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if !(a > 0.0 && b > 0.0) || x.is_nan() || !(0.0..=1.0).contains(&x) {
        return f64::NAN;
    }
    if x == 0.0 || x == 1.0 {
        return x;
    }
    let log_front =
        libm::lgamma(a + b) - libm::lgamma(a) - libm::lgamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let front = log_front.exp();
    // The continued fraction converges fast on this side; use the symmetry otherwise.
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_fraction(b, a, 1.0 - x) / b
    }
}

/// The continued fraction of the incomplete beta function, by the modified Lentz
/// method.
fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    // One Lentz update of (d, c) by the next coefficient; returns the factor for h.
    let mut step = |aa: f64| {
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        d * c
    };
    for m in 1..=10_000 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        h *= step(m * (b - m) * x / ((qam + m2) * (a + m2)));
        let delta = step(-(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)));
        h *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    h
}

/// `P(T > t)` for Student's t with `df > 0` degrees of freedom.
pub fn t_sf(t: f64, df: f64) -> f64 {
    if t.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if t.is_infinite() {
        return if t > 0.0 { 0.0 } else { 1.0 };
    }
    let tail = 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t));
    if t >= 0.0 { tail } else { 1.0 - tail }
}

/// `P(X <= k)` for `X ~ Binomial(n, 1/2)`, summed in log space so that large `n` does not
/// underflow.
pub fn fair_binomial_cdf(k: u64, n: u64) -> f64 {
    if k >= n {
        return 1.0;
    }
    let log_half_n = -(n as f64) * LN_2;
    // log C(n, j), built up term by term; the sum of exp(log C - n ln 2) by log-sum-exp.
    let mut log_choose = 0.0_f64;
    let mut terms = Vec::with_capacity(k as usize + 1);
    for j in 0..=k {
        if j > 0 {
            log_choose += ((n - j + 1) as f64).ln() - (j as f64).ln();
        }
        terms.push(log_choose + log_half_n);
    }
    let max = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let sum: f64 = terms.iter().map(|t| (t - max).exp()).sum();
    (max + sum.ln()).exp().min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert!((normal_quantile(0.975) - 1.959_963_984_540_054).abs() < 1e-14);
        assert!((normal_cdf(1.959_963_984_540_054) - 0.975).abs() < 1e-15);
        assert_eq!(normal_quantile(0.5), 0.0);
        assert!((normal_quantile(0.025) + 1.959_963_984_540_054).abs() < 1e-14);
        // t with 1 degree of freedom is Cauchy: P(T > 1) = 1/4.
        assert!((t_sf(1.0, 1.0) - 0.25).abs() < 1e-15);
        assert!((t_sf(0.0, 7.0) - 0.5).abs() < 1e-15);
        assert!((fair_binomial_cdf(0, 3) - 0.125).abs() < 1e-16);
        assert!((fair_binomial_cdf(1, 3) - 0.5).abs() < 1e-15);
        assert_eq!(fair_binomial_cdf(5, 5), 1.0);
        // 2000 coin flips: no underflow, and the median is just over a half.
        let p = fair_binomial_cdf(1000, 2000);
        assert!(p > 0.5 && p < 0.51, "{p}");
    }
}
