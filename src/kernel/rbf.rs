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
    /// Closed form: with w = k̄·k, ∂/∂ln σ² = w, ∂/∂ln ℓ = w·r²/ℓ², ∂/∂x = −w·(x − x')/ℓ²
    /// (zero where the clip max(r², 0) is active, as on duals).
    fn cross_covariance_adjoint<S: Scalar>(
        &self,
        params: &[S],
        x1: &[S],
        x2: &[S],
        k: &[S],
        k_bar: &[S],
        grad_params: &mut [S],
        grad_x1: &mut [S],
        mut grad_x2: Option<&mut [S]>,
    ) -> crate::Result<()>
    where
        S::Epsilon: Copy,
    {
        let d = self.dim;
        let n2 = x2.len() / d.max(1);
        let l = params[1].exp();
        let inv_l2 = (l * l).recip();
        let (mut g_var, mut g_len) = (S::zero(), S::zero());
        for (i, xi) in x1.chunks_exact(d).enumerate() {
            let xx: S = xi.iter().map(|&a| a * a).sum();
            for (j, yj) in x2.chunks_exact(d).enumerate() {
                let w = k_bar[i * n2 + j] * k[i * n2 + j];
                g_var += w;
                let (mut yy, mut xy) = (S::zero(), S::zero());
                for (&a, &b) in xi.iter().zip(yj) {
                    yy += b * b;
                    xy += a * b;
                }
                let raw = xx + yy - (xy + xy);
                if raw >= S::zero() {
                    g_len += w * raw;
                    let c = w * inv_l2;
                    for q in 0..d {
                        let diff = xi[q] - yj[q];
                        grad_x1[i * d + q] -= c * diff;
                        if let Some(g2) = grad_x2.as_deref_mut() {
                            g2[j * d + q] += c * diff;
                        }
                    }
                }
            }
        }
        grad_params[0] += g_var;
        grad_params[1] += g_len * inv_l2;
        Ok(())
    }
    fn diagonal_adjoint<S: Scalar>(
        &self,
        params: &[S],
        _x: &[S],
        k_bar: &[S],
        grad_params: &mut [S],
    ) -> crate::Result<()>
    where
        S::Epsilon: Copy,
    {
        let s: S = k_bar.iter().copied().sum();
        grad_params[0] += s * params[0].exp();
        Ok(())
    }
}
