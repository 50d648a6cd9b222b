//! Tolerances and the finite-difference oracle shared by the `dual_*` derivative tests.
#![allow(dead_code)]

use svgp::Scalar;

/// Tolerances per float type, relative to `max(1, |oracle|)`.
pub trait Tol: Scalar<Real = Self> {
    /// Against the analytic derivative.
    const AN: f64;
    /// Against Richardson-extrapolated central differences.
    const FD: f64;
}
impl Tol for f64 {
    const AN: f64 = 1e-12;
    const FD: f64 = 1e-7;
}
impl Tol for f32 {
    const AN: f64 = 2e-5;
    const FD: f64 = 3e-3;
}

/// |got − want| ≤ tol·max(1, |want|).
pub fn close(got: f64, want: f64, tol: f64) -> bool {
    (got - want).abs() <= tol * want.abs().max(1.0)
}

/// Central difference of `g` at `x`, Richardson-extrapolated (error O(h⁴)), computed in `T`.
/// The step is eps^(1/5)·max(1, |x|); the divisor is the distance between the points actually
/// evaluated, so rounding of `x ± h` does not bias the quotient.
pub fn central_diff<T: Scalar>(g: impl Fn(T) -> T, x: T) -> f64 {
    let h = T::epsilon().re().powf(0.2) * x.re().abs().max(1.0);
    let diff = |h: f64| {
        let (xp, xm) = (x + T::from_f64(h), x - T::from_f64(h));
        (g(xp) - g(xm)).re() / (xp - xm).re()
    };
    (4.0 * diff(h / 2.0) - diff(h)) / 3.0
}
