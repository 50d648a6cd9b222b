//! The standard normal quantile Φ⁻¹, for the half-width of a central interval.

use crate::error::{Error, Result};

/// Φ⁻¹(p): the z with P(Z ≤ z) = p for a standard normal Z, p in (0, 1).
///
/// Acklam's rational approximation (relative error below 1.2e-9) refined by one Halley step on
/// Φ(z) − p with `libm::erfc`, which brings it to a few ulps for p ≤ 1 − 1e-10 (above that,
/// 1 − p itself carries the rounding of p). `no_std`.
///
/// ```
/// use svgp::metrics::normal_quantile;
/// assert!((normal_quantile(0.975)? - 1.959963984540054).abs() < 1e-14);
/// assert_eq!(normal_quantile(0.5)?, 0.0);
/// assert!(normal_quantile(1.0).is_err());
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn normal_quantile(p: f64) -> Result<f64> {
    if !(p > 0.0 && p < 1.0) {
        return Err(Error::InvalidParameter {
            what: "normal quantile probability (must be in (0, 1))",
            value: p,
        });
    }
    if p == 0.5 {
        return Ok(0.0);
    }
    let z = acklam(p);
    // One Halley step on Φ(z) − p: e = Φ(z) − p, u = e / φ(z), z ← z − u / (1 + z·u/2).
    let e = 0.5 * libm::erfc(-z / core::f64::consts::SQRT_2) - p;
    let u = e * libm::sqrt(2.0 * core::f64::consts::PI) * libm::exp(0.5 * z * z);
    Ok(z - u / (1.0 + 0.5 * z * u))
}

/// z such that a central interval mean ± z·σ of a normal holds `level` of its mass:
/// Φ⁻¹((1 + level)/2), level in (0, 1) (0.95 → 1.95996…).
///
/// ```
/// use svgp::metrics::central_z;
/// assert!((central_z(0.95)? - 1.959963984540054).abs() < 1e-14);
/// assert!(central_z(0.0).is_err() && central_z(1.0).is_err());
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn central_z(level: f64) -> Result<f64> {
    if !(level > 0.0 && level < 1.0) {
        return Err(Error::InvalidParameter {
            what: "central interval level (must be in (0, 1))",
            value: level,
        });
    }
    normal_quantile(0.5 + 0.5 * level)
}

/// Acklam's approximation of Φ⁻¹ (three regions, rational functions in p or √(−2 ln p)).
fn acklam(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e+01,
        2.209460984245205e+02,
        -2.759285104469687e+02,
        1.383_577_518_672_69e2,
        -3.066479806614716e+01,
        2.506628277459239e+00,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e+01,
        1.615858368580409e+02,
        -1.556989798598866e+02,
        6.680131188771972e+01,
        -1.328068155288572e+01,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-03,
        -3.223964580411365e-01,
        -2.400758277161838e+00,
        -2.549732539343734e+00,
        4.374664141464968e+00,
        2.938163982698783e+00,
    ];
    const D: [f64; 4] =
        [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];
    const P_LOW: f64 = 0.02425;
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < P_LOW {
        tail(libm::sqrt(-2.0 * libm::log(p)))
    } else if p > 1.0 - P_LOW {
        -tail(libm::sqrt(-2.0 * libm::log(1.0 - p)))
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}
