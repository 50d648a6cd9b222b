//! The standard normal CDF Φ in log space and the inverse Mills ratio λ = φ/Φ, for the probit
//! link: stable over the whole real line (ln Φ(−40) ≈ −804.6, where Φ itself underflows f64).
//!
//! Above z = −10, Φ(z) = ½·erfc(−z/√2) (and ln Φ = ln_1p(−½erfc(z/√2)) above 5, where Φ ≈ 1);
//! below, the asymptotic series Φ(z) = φ(z)/(−z)·R(z), R = Σ_k (−1)^k (2k − 1)!!/z^{2k}, whose
//! terms shrink below 1e-17 of the sum within ~22 terms at z = −10 and fewer beyond. Everything
//! is written over [`Scalar`], so `Dual` numbers carry the derivatives through.

use crate::Scalar;

/// ln √(2π).
pub(crate) const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_7;
/// Below this z the asymptotic series replaces erfc (Φ(−10) ≈ 7.6e-24, normal in f32 too).
const TAIL: f64 = -10.0;

/// R(z) − 1 = Σ_{k≥1} (−1)^k (2k − 1)!!/z^{2k} for z ≤ −10, summed until a term is below
/// 1e-17 of the sum (at most 40 terms).
fn tail_series_m1<S: Scalar>(z: S) -> S {
    let u = (z * z).recip();
    let mut term = -u;
    let mut sum = term;
    for k in 2..=40 {
        term *= -S::from_usize(2 * k - 1) * u;
        sum += term;
        if term.abs() < S::from_f64(1e-17) * sum.abs() {
            break;
        }
    }
    sum
}

/// Φ(z) = ½·erfc(−z/√2).
#[inline]
pub(crate) fn cdf<S: Scalar>(z: S) -> S {
    S::from_f64(0.5) * (-z * S::from_f64(core::f64::consts::FRAC_1_SQRT_2)).erfc()
}

/// ln Φ(z), finite for every finite z.
pub(crate) fn log_cdf<S: Scalar>(z: S) -> S {
    if z < S::from_f64(TAIL) {
        let r = S::one() + tail_series_m1(z);
        -(S::from_f64(0.5) * z * z) - (-z).ln() - S::from_f64(LN_SQRT_2PI) + r.ln()
    } else if z > S::from_f64(5.0) {
        (-cdf(-z)).ln_1p()
    } else {
        cdf(z).ln()
    }
}

/// (λ(z), z + λ(z)) with λ = φ/Φ, the derivative of ln Φ: ln Φ″ = −λ·(z + λ). The second
/// value is computed without the cancellation of z + λ for z → −∞ (λ ≈ −z there).
pub(crate) fn inverse_mills<S: Scalar>(z: S) -> (S, S) {
    if z < S::from_f64(TAIL) {
        // λ = −z/R, z + λ = z·(R − 1)/R.
        let rm1 = tail_series_m1(z);
        let r = S::one() + rm1;
        (-z / r, z * rm1 / r)
    } else {
        let lambda = (-(S::from_f64(0.5) * z * z) - S::from_f64(LN_SQRT_2PI) - log_cdf(z)).exp();
        (lambda, z + lambda)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ln Φ by the definition with erfc, where that is accurate, against the series.
    #[test]
    fn both_sides_of_the_tail_switch_agree() {
        for z in [-10.0_f64, -10.000001, -9.999999] {
            let direct = cdf(z).ln();
            let r = 1.0 + tail_series_m1(z);
            let series = -0.5 * z * z - (-z).ln() - LN_SQRT_2PI + r.ln();
            assert!((direct - series).abs() <= 1e-14 * direct.abs(), "{z}: {direct} vs {series}");
            let (l, zl) = inverse_mills(z);
            let l_direct = (-0.5 * z * z - LN_SQRT_2PI - direct).exp();
            assert!((l - l_direct).abs() <= 1e-13 * l, "{z}: λ {l} vs {l_direct}");
            assert!((zl - (z + l_direct)).abs() <= 1e-12, "{z}: z + λ {zl}");
        }
    }

    #[test]
    fn values_from_arbitrary_precision() {
        // Reference values from mpmath at 40 digits (`mp.log(mp.ncdf(z))`, `mp.ncdf(z)`).
        assert!((log_cdf(-40.0_f64) + 804.608_442_013_753_8).abs() < 1e-12);
        assert!((cdf(-5.0_f64) - 2.866_515_718_791_939e-7).abs() < 1e-21);
        assert!((cdf(1.96_f64) - 0.975_002_104_851_779_6).abs() < 3e-16); // 2 ulp
        assert!((log_cdf(8.0_f64) + 6.220_960_574_271_786e-16).abs() < 1e-28);
        assert_eq!(log_cdf(40.0_f64), 0.0);
        assert_eq!(inverse_mills(40.0_f64).0, 0.0);
    }
}
