//! The derivative oracles every reverse rule is checked against, and the error measures.
//!
//! - [`dual_gradient`]: forward-mode `Dual` through `svgp::diff::gradient` (the crate's own
//!   forward-mode helper, itself tested against analytic gradients in `dual_diff.rs`), with its
//!   work buffer on the heap so that wide duals never sit in a test's stack frame.
//! - [`central_diff`]: Richardson-extrapolated central differences, for the `Dual` rules
//!   themselves.
//! - Tolerances per float type ([`Tol`]) and relative error measures.

use svgp::diff::gradient;
use svgp::{Dual, Scalar};

/// Tangent lanes per forward pass of [`dual_gradient`].
pub const LANES: usize = 8;
/// The dual number [`dual_gradient`] evaluates with.
pub type D8 = Dual<f64, LANES>;

/// `(f(x), ∇f(x))` by forward mode: [`svgp::diff::gradient`] with [`LANES`] variables a pass,
/// ceil(len / LANES) calls of `f`. `f` receives all of `x` lifted to duals (it may split the
/// slice into its arguments) and returns the scalar whose gradient is wanted.
pub fn dual_gradient(f: impl FnMut(&[D8]) -> D8, x: &[f64]) -> (f64, Vec<f64>) {
    let mut work = vec![D8::default(); x.len()];
    let mut grad = vec![0.0; x.len()];
    let value = gradient(f, x, &mut work, &mut grad).expect("gradient buffers sized to x");
    (value, grad)
}

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

/// |a − b| / |b|.
pub fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

/// ‖a − b‖ / ‖b‖.
pub fn rel_norm(a: &[f64], b: &[f64]) -> f64 {
    let d: f64 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>().sqrt();
    d / b.iter().map(|y| y * y).sum::<f64>().sqrt()
}

/// max_i |a_i − b_i|.
pub fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

/// Largest |a_i − b_i| over ‖b‖∞ (relative to the gradient's scale), and ‖a − b‖/‖b‖.
pub fn grad_errors(a: &[f64], b: &[f64]) -> (f64, f64) {
    let scale = b.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    let max_abs = a.iter().zip(b).fold(0.0_f64, |m, (x, y)| m.max((x - y).abs()));
    let nd: f64 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|y| y * y).sum::<f64>().sqrt();
    (max_abs / scale, nd / nb)
}
