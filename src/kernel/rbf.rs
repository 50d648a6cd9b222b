//! The squared-exponential (RBF) kernel with one isotropic lengthscale.

use super::Kernel;
use crate::Scalar;

/// k(x, x') = σ²·exp(−½·|x − x'|²/ℓ²), parameters `[ln σ², ln ℓ]`.
///
/// The squared distance is evaluated as max(|x|² + |x'|² − 2x·x', 0), as the reference does,
/// so results match it to the last bits; the diagonal is σ² exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rbf {
    dim: usize,
}

impl Rbf {
    /// An isotropic RBF kernel on `dim`-dimensional inputs.
    pub fn new(dim: usize) -> Self {
        Self { dim }
    }
    /// The parameter vector for a variance and a lengthscale (both > 0).
    pub fn params(variance: f64, lengthscale: f64) -> [f64; 2] {
        [variance.ln(), lengthscale.ln()]
    }
}

impl Kernel for Rbf {
    fn input_dim(&self) -> usize {
        self.dim
    }
    fn n_params(&self) -> usize {
        2
    }
    #[inline]
    fn eval<S: Scalar>(&self, params: &[S], x: &[S], y: &[S]) -> S {
        let (mut xx, mut yy, mut xy) = (S::zero(), S::zero(), S::zero());
        for (&a, &b) in x.iter().zip(y) {
            xx += a * a;
            yy += b * b;
            xy += a * b;
        }
        let r2 = (xx + yy - (xy + xy)).max(S::zero());
        let l = params[1].exp();
        params[0].exp() * (S::from_f64(-0.5) * r2 / (l * l)).exp()
    }
    #[inline]
    fn eval_diag<S: Scalar>(&self, params: &[S], _x: &[S]) -> S {
        params[0].exp()
    }
}
